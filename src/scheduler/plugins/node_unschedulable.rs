//! NodeUnschedulable (Filter): rejects cordoned nodes unless the pod
//! tolerates the `node.kubernetes.io/unschedulable:NoSchedule` taint
//! (upstream plugins/nodeunschedulable).

use crate::model::taints::{TaintEffect, TAINT_UNSCHEDULABLE};
use crate::model::{Node, Pod, Taint};
use crate::scheduler::framework::{ClusterView, CycleState, Plugin, Point, Status};

pub const ERR_REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";

pub struct NodeUnschedulable;

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        "NodeUnschedulable"
    }
    fn points(&self) -> &'static [Point] {
        &[Point::Filter]
    }
    fn node_local(&self) -> bool {
        true
    }
    fn filter(&self, _: &CycleState, pod: &Pod, node: &Node, _: &ClusterView) -> Status {
        if !node.unschedulable {
            return Status::success();
        }
        let t = Taint::new(TAINT_UNSCHEDULABLE, "", TaintEffect::NoSchedule);
        if pod.spec.tolerations.iter().any(|x| x.tolerates(&t)) {
            Status::success()
        } else {
            Status::unresolvable(ERR_REASON_UNSCHEDULABLE)
        }
    }
}
