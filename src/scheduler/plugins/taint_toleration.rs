//! TaintToleration (Filter, PreScore, Score, NormalizeScore), upstream
//! plugins/tainttoleration: NoSchedule/NoExecute taints must be tolerated;
//! nodes with fewer untolerated PreferNoSchedule taints score higher.

use crate::model::taints::{find_untolerated, TaintEffect, Toleration};
use crate::model::{Node, NodeId, Pod};
use crate::scheduler::framework::{
    ClusterView, CycleState, NodeScore, Plugin, Point, Status, MAX_NODE_SCORE,
};

use super::helper::default_normalize_score;

const STATE_KEY: &str = "PreScoreTaintToleration";
pub const ERR_REASON_UNTOLERATED: &str = "node(s) had untolerated taint(s)";

pub struct TaintToleration;

/// Tolerations with effect PreferNoSchedule or no effect.
fn prefer_no_schedule_tolerations(pod: &Pod) -> Vec<Toleration> {
    pod.spec
        .tolerations
        .iter()
        .filter(|t| t.effect.is_none() || t.effect == Some(TaintEffect::PreferNoSchedule))
        .cloned()
        .collect()
}

/// Upstream `countIntolerableTaintsPreferNoSchedule`.
pub fn count_intolerable_prefer_no_schedule(node: &Node, tolerations: &[Toleration]) -> i64 {
    node.taints
        .iter()
        .filter(|t| t.effect == TaintEffect::PreferNoSchedule)
        .filter(|t| !tolerations.iter().any(|x| x.tolerates(t)))
        .count() as i64
}

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        "TaintToleration"
    }
    fn events_to_register(&self) -> Option<&'static [crate::scheduler::hints::ClusterEvent]> {
        Some(super::queueing_hints::TAINT_TOLERATION_EVENTS)
    }
    fn queueing_hint(
        &self,
        pod_id: crate::model::PodId,
        pod: &crate::model::Pod,
        _event: &crate::scheduler::hints::ClusterEvent,
        change: &crate::scheduler::hints::Change,
        _view: &crate::scheduler::framework::ClusterView,
    ) -> crate::scheduler::hints::QueueingHint {
        super::queueing_hints::taint_toleration_hint(pod_id, pod, change)
    }
    fn points(&self) -> &'static [Point] {
        &[Point::Filter, Point::PreScore, Point::Score]
    }
    fn node_local(&self) -> bool {
        true
    }
    fn filter(&self, _: &CycleState, pod: &Pod, node: &Node, _: &ClusterView) -> Status {
        // Since v1.35 (kubernetes#134740) the reason no longer names the
        // taint's key or value.
        match find_untolerated(
            &node.taints,
            &pod.spec.tolerations,
            &[TaintEffect::NoSchedule, TaintEffect::NoExecute],
        ) {
            None => Status::success(),
            Some(_) => Status::unresolvable(ERR_REASON_UNTOLERATED),
        }
    }
    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        _: &[NodeId],
        _: &ClusterView,
    ) -> Status {
        state.write(STATE_KEY, prefer_no_schedule_tolerations(pod));
        Status::success()
    }
    fn score(
        &self,
        state: &CycleState,
        pod: &Pod,
        node: &Node,
        _: &ClusterView,
    ) -> Result<i64, Status> {
        match state.read::<Vec<Toleration>>(STATE_KEY) {
            Some(t) => Ok(count_intolerable_prefer_no_schedule(node, t)),
            None => Ok(count_intolerable_prefer_no_schedule(
                node,
                &prefer_no_schedule_tolerations(pod),
            )),
        }
    }
    fn has_normalize(&self) -> bool {
        true
    }
    fn normalize_score(&self, _: &CycleState, _: &Pod, scores: &mut [NodeScore]) -> Status {
        default_normalize_score(MAX_NODE_SCORE, true, scores);
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::taints::{Taint, TolerationOperator};
    use crate::scheduler::framework::Code;
    use crate::scheduler::plugins::node_resources_fit::testutil::{
        node, pod_from_spec, spec, with_view,
    };
    use std::collections::BTreeMap;
    use TaintEffect::*;
    use TolerationOperator::*;

    fn node_with_taints(name: &str, taints: &[(&str, &str, TaintEffect)]) -> Node {
        let mut n = node(name, &[]);
        n.taints = taints
            .iter()
            .map(|(k, v, e)| Taint::new(k, v, *e))
            .collect();
        n
    }

    fn tol(
        key: &str,
        op: TolerationOperator,
        value: &str,
        effect: Option<TaintEffect>,
    ) -> Toleration {
        Toleration {
            key: key.into(),
            operator: op,
            value: value.into(),
            effect,
            toleration_seconds: None,
        }
    }

    fn pod_with_tolerations(t: Vec<Toleration>) -> Pod {
        let mut s = spec(vec![], vec![]);
        s.tolerations = t;
        pod_from_spec(s)
    }

    /// Upstream taint_toleration_test.go `TestTaintTolerationScore`: 5 of 8
    /// rows. Skipped: the 3 rows with `Gt`/`Lt` toleration operators
    /// (TaintTolerationComparisonOperators, alpha in v1.35; kubesim's
    /// tolerations have only `Equal` and `Exists`).
    #[test]
    fn taint_toleration_score() {
        type Case = (&'static str, Vec<Toleration>, Vec<Node>, &'static [i64]);
        let cases: Vec<Case> = vec![
            (
                "node with taints tolerated by the pod, gets a higher score than those node with intolerable taints",
                vec![tol("foo", Equal, "bar", Some(PreferNoSchedule))],
                vec![
                    node_with_taints("nodeA", &[("foo", "bar", PreferNoSchedule)]),
                    node_with_taints("nodeB", &[("foo", "blah", PreferNoSchedule)]),
                ],
                &[MAX_NODE_SCORE, 0],
            ),
            (
                "the nodes that all of their taints are tolerated by the pod, get the same score, no matter how many tolerable taints a node has",
                vec![
                    tol("cpu-type", Equal, "arm64", Some(PreferNoSchedule)),
                    tol("disk-type", Equal, "ssd", Some(PreferNoSchedule)),
                ],
                vec![
                    node_with_taints("nodeA", &[]),
                    node_with_taints("nodeB", &[("cpu-type", "arm64", PreferNoSchedule)]),
                    node_with_taints(
                        "nodeC",
                        &[
                            ("cpu-type", "arm64", PreferNoSchedule),
                            ("disk-type", "ssd", PreferNoSchedule),
                        ],
                    ),
                ],
                &[MAX_NODE_SCORE, MAX_NODE_SCORE, MAX_NODE_SCORE],
            ),
            (
                "the more intolerable taints a node has, the lower score it gets.",
                vec![tol("foo", Equal, "bar", Some(PreferNoSchedule))],
                vec![
                    node_with_taints("nodeA", &[]),
                    node_with_taints("nodeB", &[("cpu-type", "arm64", PreferNoSchedule)]),
                    node_with_taints(
                        "nodeC",
                        &[
                            ("cpu-type", "arm64", PreferNoSchedule),
                            ("disk-type", "ssd", PreferNoSchedule),
                        ],
                    ),
                ],
                &[MAX_NODE_SCORE, 50, 0],
            ),
            (
                "only taints and tolerations that have effect PreferNoSchedule are checked by taints-tolerations priority function",
                vec![
                    tol("cpu-type", Equal, "arm64", Some(NoSchedule)),
                    tol("disk-type", Equal, "ssd", Some(NoSchedule)),
                ],
                vec![
                    node_with_taints("nodeA", &[]),
                    node_with_taints("nodeB", &[("cpu-type", "arm64", NoSchedule)]),
                    node_with_taints(
                        "nodeC",
                        &[
                            ("cpu-type", "arm64", PreferNoSchedule),
                            ("disk-type", "ssd", PreferNoSchedule),
                        ],
                    ),
                ],
                &[MAX_NODE_SCORE, MAX_NODE_SCORE, 0],
            ),
            (
                "Default behaviour No taints and tolerations, lands on node with no taints",
                vec![],
                vec![
                    node_with_taints("nodeA", &[]),
                    node_with_taints("nodeB", &[("cpu-type", "arm64", PreferNoSchedule)]),
                ],
                &[MAX_NODE_SCORE, 0],
            ),
        ];
        let p = TaintToleration;
        for (name, tols, nodes, want) in cases {
            let pod = pod_with_tolerations(tols);
            let got = with_view(&nodes, &BTreeMap::new(), |view, ids| {
                let mut state = CycleState::default();
                assert!(
                    p.pre_score(&mut state, &pod, ids, view).is_success(),
                    "{name}"
                );
                let mut scores: Vec<NodeScore> = ids
                    .iter()
                    .map(|id| NodeScore {
                        node: *id,
                        score: p.score(&state, &pod, view.node(*id), view).expect(name),
                    })
                    .collect();
                assert!(
                    p.normalize_score(&state, &pod, &mut scores).is_success(),
                    "{name}"
                );
                scores.iter().map(|s| s.score).collect::<Vec<_>>()
            });
            assert_eq!(got, want, "{name}");
        }
    }

    /// Upstream taint_toleration_test.go `TestTaintTolerationFilter`: 9 of
    /// 14 rows. Skipped: the 5 rows with `Gt`/`Lt` toleration operators
    /// (alpha TaintTolerationComparisonOperators, not modelled); for the
    /// same reason `TestTaintTolerationFilterWithFeatureGate` is not ported.
    #[test]
    fn taint_toleration_filter() {
        let want_fail = Some(ERR_REASON_UNTOLERATED);
        type Case = (
            &'static str,
            Vec<Toleration>,
            Vec<(&'static str, &'static str, TaintEffect)>,
            Option<&'static str>,
        );
        let cases: Vec<Case> = vec![
            (
                "A pod having no tolerations can't be scheduled onto a node with nonempty taints",
                vec![],
                vec![("dedicated", "user1", NoSchedule)],
                want_fail,
            ),
            (
                "A pod which can be scheduled on a dedicated node assigned to user1 with effect NoSchedule",
                vec![tol("dedicated", Equal, "user1", Some(NoSchedule))],
                vec![("dedicated", "user1", NoSchedule)],
                None,
            ),
            (
                "A pod which can't be scheduled on a dedicated node assigned to user2 with effect NoSchedule",
                vec![tol("dedicated", Equal, "user2", Some(NoSchedule))],
                vec![("dedicated", "user1", NoSchedule)],
                want_fail,
            ),
            (
                "A pod can be scheduled onto the node, with a toleration uses operator Exists that tolerates the taints on the node",
                vec![tol("foo", Exists, "", Some(NoSchedule))],
                vec![("foo", "bar", NoSchedule)],
                None,
            ),
            (
                "A pod has multiple tolerations, node has multiple taints, all the taints are tolerated, pod can be scheduled onto the node",
                vec![
                    tol("dedicated", Equal, "user2", Some(NoSchedule)),
                    tol("foo", Exists, "", Some(NoSchedule)),
                ],
                vec![("dedicated", "user2", NoSchedule), ("foo", "bar", NoSchedule)],
                None,
            ),
            (
                "A pod has a toleration that keys and values match the taint on the node, but (non-empty) effect doesn't match, can't be scheduled onto the node",
                vec![tol("foo", Equal, "bar", Some(PreferNoSchedule))],
                vec![("foo", "bar", NoSchedule)],
                want_fail,
            ),
            (
                "The pod has a toleration that keys and values match the taint on the node, the effect of toleration is empty, and the effect of taint is NoSchedule. Pod can be scheduled onto the node",
                vec![tol("foo", Equal, "bar", None)],
                vec![("foo", "bar", NoSchedule)],
                None,
            ),
            (
                "The pod has a toleration that key and value don't match the taint on the node, but the effect of taint on node is PreferNoSchedule. Pod can be scheduled onto the node",
                vec![tol("dedicated", Equal, "user2", Some(NoSchedule))],
                vec![("dedicated", "user1", PreferNoSchedule)],
                None,
            ),
            (
                "The pod has no toleration, but the effect of taint on node is PreferNoSchedule. Pod can be scheduled onto the node",
                vec![],
                vec![("dedicated", "user1", PreferNoSchedule)],
                None,
            ),
        ];
        let p = TaintToleration;
        for (name, tols, taints, want) in cases {
            let pod = pod_with_tolerations(tols);
            let n = node_with_taints("nodeA", &taints);
            let got = with_view(std::slice::from_ref(&n), &BTreeMap::new(), |view, _| {
                p.filter(&CycleState::default(), &pod, &n, view)
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
