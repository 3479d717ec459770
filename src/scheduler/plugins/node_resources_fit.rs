//! NodeResourcesFit: placeholder being replaced (filter + LeastAllocated).

use crate::model::{Node, Pod};
use crate::scheduler::config::NodeResourcesFitArgs;
use crate::scheduler::framework::{ClusterView, CycleState, Plugin, Point, Status};

pub struct Fit {
    #[allow(dead_code)]
    args: NodeResourcesFitArgs,
}

impl Fit {
    pub fn new(args: NodeResourcesFitArgs) -> Result<Fit, String> {
        Ok(Fit { args })
    }
}

pub fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    ((capacity - requested) * 100) / capacity
}

impl Plugin for Fit {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }
    fn points(&self) -> &'static [Point] {
        &[
            Point::PreFilter,
            Point::Filter,
            Point::PreScore,
            Point::Score,
        ]
    }
    fn filter(&self, _: &CycleState, pod: &Pod, node: &Node, _: &ClusterView) -> Status {
        let mut reasons = Vec::new();
        if node.pods.len() as i64 + 1 > node.allocatable.pods {
            reasons.push("Too many pods".to_string());
        }
        let r = &pod.requests;
        let a = &node.allocatable;
        let u = &node.requested;
        if r.cpu_m > 0 && r.cpu_m > a.cpu_m - u.cpu_m {
            reasons.push("Insufficient cpu".to_string());
        }
        if r.memory > 0 && r.memory > a.memory - u.memory {
            reasons.push("Insufficient memory".to_string());
        }
        for (k, v) in &r.scalar {
            if *v > 0
                && *v
                    > a.scalar.get(k).copied().unwrap_or(0) - u.scalar.get(k).copied().unwrap_or(0)
            {
                reasons.push(format!("Insufficient {k}"));
            }
        }
        if reasons.is_empty() {
            Status::success()
        } else {
            Status {
                code: crate::scheduler::framework::Code::Unschedulable,
                reasons,
                plugin: "",
            }
        }
    }
    fn score(
        &self,
        _: &CycleState,
        pod: &Pod,
        node: &Node,
        _: &ClusterView,
    ) -> Result<i64, Status> {
        let cpu = least_requested_score(
            node.nonzero_requested.0 + pod.nonzero_requests.0,
            node.allocatable.cpu_m,
        );
        let mem = least_requested_score(
            node.nonzero_requested.1 + pod.nonzero_requests.1,
            node.allocatable.memory,
        );
        Ok((cpu + mem) / 2)
    }
}
