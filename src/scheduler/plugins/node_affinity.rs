//! NodeAffinity (PreFilter, Filter, PreScore, Score, NormalizeScore),
//! upstream plugins/nodeaffinity: `nodeSelector` and required node affinity
//! (plus the profile's `addedAffinity`) must match; preferred terms add
//! their weights; scores are normalized by the highest.

use std::collections::BTreeSet;

use crate::model::affinity::{NodeSelectorOperator, PreferredSchedulingTerm};
use crate::model::{Node, NodeId, Pod};
use crate::scheduler::config::NodeAffinityArgs;
use crate::scheduler::framework::{
    ClusterView, CycleState, NodeScore, Plugin, Point, PreFilterOutcome, Status, MAX_NODE_SCORE,
};

use super::helper::default_normalize_score;

pub const ERR_REASON_POD: &str = "node(s) didn't match Pod's node affinity/selector";
pub const ERR_REASON_ENFORCED: &str = "node(s) didn't match scheduler-enforced node affinity";
pub const ERR_REASON_CONFLICT: &str = "pod affinity terms conflict";

pub struct NodeAffinityPlugin {
    args: NodeAffinityArgs,
}

impl NodeAffinityPlugin {
    pub fn new(args: NodeAffinityArgs) -> NodeAffinityPlugin {
        NodeAffinityPlugin { args }
    }

    fn added_matches(&self, node: &Node) -> bool {
        match self
            .args
            .added_affinity
            .as_ref()
            .and_then(|a| a.required.as_ref())
        {
            Some(sel) => sel.matches(node.name(), &node.meta.labels),
            None => true,
        }
    }

    /// The profile's added preferred terms, then the pod's.
    fn preferred<'a>(
        &'a self,
        pod: &'a Pod,
    ) -> impl Iterator<Item = &'a PreferredSchedulingTerm> + 'a {
        let added = self
            .args
            .added_affinity
            .iter()
            .flat_map(|a| a.preferred.iter());
        let own = pod
            .spec
            .node_affinity
            .iter()
            .flat_map(|a| a.preferred.iter());
        added.chain(own)
    }
}

/// Upstream `GetRequiredNodeAffinity(pod).Match(node)`: nodeSelector and
/// required node affinity terms.
pub fn pod_matches_node(pod: &Pod, node: &Node) -> bool {
    for (k, v) in &pod.spec.node_selector {
        if node.meta.labels.get(k) != Some(v) {
            return false;
        }
    }
    match pod
        .spec
        .node_affinity
        .as_ref()
        .and_then(|a| a.required.as_ref())
    {
        Some(req) => req.matches(node.name(), &node.meta.labels),
        None => true,
    }
}

impl Plugin for NodeAffinityPlugin {
    fn name(&self) -> &'static str {
        "NodeAffinity"
    }
    fn points(&self) -> &'static [Point] {
        &[
            Point::PreFilter,
            Point::Filter,
            Point::PreScore,
            Point::Score,
        ]
    }
    fn node_local(&self) -> bool {
        true
    }

    fn pre_filter(&self, _: &mut CycleState, pod: &Pod, view: &ClusterView) -> PreFilterOutcome {
        let required = pod
            .spec
            .node_affinity
            .as_ref()
            .and_then(|a| a.required.as_ref());
        let added = self
            .args
            .added_affinity
            .as_ref()
            .and_then(|a| a.required.as_ref());
        if required.is_none() && added.is_none() && pod.spec.node_selector.is_empty() {
            return PreFilterOutcome::status(Status::skip());
        }
        let Some(req) = required else {
            return PreFilterOutcome::ok();
        };
        if req.terms.is_empty() {
            return PreFilterOutcome::ok();
        }
        // Affinity to specific node names through matchFields.
        let mut node_names: Option<BTreeSet<&str>> = None;
        for t in &req.terms {
            let mut term_names: Option<BTreeSet<&str>> = None;
            for r in &t.match_fields {
                if r.key == "metadata.name" && r.operator == NodeSelectorOperator::In {
                    let s: BTreeSet<&str> = r.values.iter().map(|v| v.as_str()).collect();
                    term_names = Some(match term_names {
                        None => s,
                        Some(prev) => prev.intersection(&s).copied().collect(),
                    });
                }
            }
            let Some(tn) = term_names else {
                return PreFilterOutcome::ok();
            };
            node_names = Some(match node_names {
                None => tn,
                Some(prev) => prev.union(&tn).copied().collect(),
            });
        }
        match node_names {
            Some(n) if n.is_empty() => {
                PreFilterOutcome::status(Status::unresolvable(ERR_REASON_CONFLICT))
            }
            Some(n) => PreFilterOutcome {
                nodes: Some(
                    view.node_order
                        .iter()
                        .copied()
                        .filter(|id| n.contains(view.node(*id).name()))
                        .collect(),
                ),
                status: Status::success(),
            },
            None => PreFilterOutcome::ok(),
        }
    }

    fn filter(&self, _: &CycleState, pod: &Pod, node: &Node, _: &ClusterView) -> Status {
        if !self.added_matches(node) {
            return Status::unresolvable(ERR_REASON_ENFORCED);
        }
        if !pod_matches_node(pod, node) {
            return Status::unresolvable(ERR_REASON_POD);
        }
        Status::success()
    }

    fn pre_score(&self, _: &mut CycleState, pod: &Pod, _: &[NodeId], _: &ClusterView) -> Status {
        if self.preferred(pod).next().is_none() {
            Status::skip()
        } else {
            Status::success()
        }
    }

    fn score(
        &self,
        _: &CycleState,
        pod: &Pod,
        node: &Node,
        _: &ClusterView,
    ) -> Result<i64, Status> {
        let mut count = 0i64;
        for t in self.preferred(pod) {
            if t.weight != 0 && t.preference.matches(node.name(), &node.meta.labels) {
                count += i64::from(t.weight);
            }
        }
        Ok(count)
    }

    fn has_normalize(&self) -> bool {
        true
    }

    fn normalize_score(&self, _: &CycleState, _: &Pod, scores: &mut [NodeScore]) -> Status {
        default_normalize_score(MAX_NODE_SCORE, false, scores);
        Status::success()
    }
}
