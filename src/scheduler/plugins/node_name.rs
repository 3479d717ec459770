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
    fn events_to_register(&self) -> Option<&'static [crate::scheduler::hints::ClusterEvent]> {
        Some(super::queueing_hints::NODE_NAME_EVENTS)
    }
    fn queueing_hint(
        &self,
        _pod_id: crate::model::PodId,
        pod: &crate::model::Pod,
        _event: &crate::scheduler::hints::ClusterEvent,
        change: &crate::scheduler::hints::Change,
        _view: &crate::scheduler::framework::ClusterView,
    ) -> crate::scheduler::hints::QueueingHint {
        super::queueing_hints::node_name_hint(pod, change)
    }
    fn points(&self) -> &'static [Point] {
        &[Point::Filter]
    }
    fn node_local(&self) -> bool {
        true
    }
    fn filter(&self, _: &CycleState, pod: &Pod, node: &Node, _: &ClusterView) -> Status {
        match &pod.spec.node_name {
            // Upstream `Fits`: an empty nodeName fits every node.
            Some(n) if !n.is_empty() && n != node.name() => Status::unresolvable(ERR_REASON),
            _ => Status::success(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::framework::Code;
    use crate::scheduler::plugins::node_resources_fit::testutil::{
        node, pod_from_spec, spec, with_view,
    };
    use std::collections::BTreeMap;

    /// Upstream node_name_test.go `TestNodeName`: all 3 rows, plus the
    /// empty-string nodeName form of "no host specified".
    #[test]
    fn node_name() {
        let cases: [(&str, Option<&str>, &str, bool); 4] = [
            ("no host specified", None, "", true),
            ("no host specified (empty nodeName)", Some(""), "foo", true),
            ("host matches", Some("foo"), "foo", true),
            ("host doesn't match", Some("bar"), "foo", false),
        ];
        for (name, pod_node, node_name, fits) in cases {
            let mut s = spec(vec![], vec![]);
            s.node_name = pod_node.map(str::to_string);
            let pod = pod_from_spec(s);
            let n = node(node_name, &[]);
            let got = with_view(std::slice::from_ref(&n), &BTreeMap::new(), |view, _| {
                NodeName.filter(&CycleState::default(), &pod, &n, view)
            });
            if fits {
                assert!(got.is_success(), "{name}: {got:?}");
            } else {
                assert_eq!(got.code, Code::UnschedulableAndUnresolvable, "{name}");
                assert_eq!(got.reasons, vec![ERR_REASON.to_string()], "{name}");
            }
        }
    }
}
