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
    fn events_to_register(&self) -> Option<&'static [crate::scheduler::hints::ClusterEvent]> {
        Some(super::queueing_hints::NODE_UNSCHEDULABLE_EVENTS)
    }
    fn queueing_hint(
        &self,
        _pod_id: crate::model::PodId,
        _pod: &crate::model::Pod,
        _event: &crate::scheduler::hints::ClusterEvent,
        change: &crate::scheduler::hints::Change,
        _view: &crate::scheduler::framework::ClusterView,
    ) -> crate::scheduler::hints::QueueingHint {
        super::queueing_hints::node_unschedulable_hint(change)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::taints::{Toleration, TolerationOperator};
    use crate::scheduler::framework::Code;
    use crate::scheduler::plugins::node_resources_fit::testutil::{
        node, pod_from_spec, spec, with_view,
    };
    use std::collections::BTreeMap;

    /// Upstream node_unschedulable_test.go `TestNodeUnschedulable`: all 3
    /// rows.
    #[test]
    fn node_unschedulable() {
        let toleration = Toleration {
            key: TAINT_UNSCHEDULABLE.into(),
            operator: TolerationOperator::Equal,
            value: String::new(),
            effect: Some(TaintEffect::NoSchedule),
            toleration_seconds: None,
        };
        let cases = [
            (
                "Does not schedule pod to unschedulable node (node.Spec.Unschedulable==true)",
                vec![],
                true,
                Some(ERR_REASON_UNSCHEDULABLE),
            ),
            ("Schedule pod to normal node", vec![], false, None),
            (
                "Schedule pod with toleration to unschedulable node (node.Spec.Unschedulable==true)",
                vec![toleration],
                true,
                None,
            ),
        ];
        for (name, tols, unschedulable, want) in cases {
            let mut s = spec(vec![], vec![]);
            s.tolerations = tols;
            let pod = pod_from_spec(s);
            let mut n = node("", &[]);
            n.unschedulable = unschedulable;
            let got = with_view(std::slice::from_ref(&n), &BTreeMap::new(), |view, _| {
                NodeUnschedulable.filter(&CycleState::default(), &pod, &n, view)
            });
            match want {
                None => assert!(got.is_success(), "{name}: {got:?}"),
                Some(r) => {
                    assert_eq!(got.code, Code::UnschedulableAndUnresolvable, "{name}");
                    assert_eq!(got.reasons, vec![r.to_string()], "{name}");
                }
            }
        }
    }
}
