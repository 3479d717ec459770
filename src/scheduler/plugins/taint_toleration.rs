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
    fn points(&self) -> &'static [Point] {
        &[Point::Filter, Point::PreScore, Point::Score]
    }
    fn node_local(&self) -> bool {
        true
    }
    fn filter(&self, _: &CycleState, pod: &Pod, node: &Node, _: &ClusterView) -> Status {
        match find_untolerated(
            &node.taints,
            &pod.spec.tolerations,
            &[TaintEffect::NoSchedule, TaintEffect::NoExecute],
        ) {
            None => Status::success(),
            Some(t) => Status::unresolvable(format!(
                "node(s) had untolerated taint {{{}: {}}}",
                t.key, t.value
            )),
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
