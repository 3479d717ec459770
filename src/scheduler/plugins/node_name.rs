//! NodeName (Filter): a pod with `spec.nodeName` fits only that node
//! (upstream plugins/nodename).

use crate::model::{Node, Pod};
use crate::scheduler::framework::{ClusterView, CycleState, Plugin, Point, Status};

pub const ERR_REASON: &str = "node(s) didn't match the requested node name";

pub struct NodeName;

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        "NodeName"
    }
    fn points(&self) -> &'static [Point] {
        &[Point::Filter]
    }
    fn node_local(&self) -> bool {
        true
    }
    fn filter(&self, _: &CycleState, pod: &Pod, node: &Node, _: &ClusterView) -> Status {
        match &pod.spec.node_name {
            Some(n) if n != node.name() => Status::unresolvable(ERR_REASON),
            _ => Status::success(),
        }
    }
}
