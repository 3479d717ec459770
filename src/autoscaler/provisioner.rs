//! Node-provisioning policies: the [`NodeProvisioner`] trait the World's
//! autoscaling loop calls (which group grows for the pending pods, which
//! nodes go), with upstream's cluster-autoscaler ([`ClusterAutoscalerPolicy`])
//! and a Karpenter-style consolidation policy ([`KarpenterPolicy`]), selected
//! per scenario by `spec.clusterAutoscaler.policy`.
//!
//! Both decide on the same scheduling simulation ([`super::simulator`]);
//! the World applies their decisions (provisioning delay, drains through
//! the eviction API, which respects PodDisruptionBudgets, group `minSize`).

use std::collections::BTreeSet;

use super::cluster::{
    plan_scale_up, utilization_percent, Expander, ExpansionOption, NodeGroup, ScaleDownTracker,
};
use super::simulator::{find_nodes_to_remove, PredicateChecker, Snapshot};
use crate::engine::{Duration, SimTime};
use crate::model::{NodeId, Pod, PodId};

/// What a policy sees of the cluster at one loop, for scale-down.
pub struct ScaleDownInput<'a> {
    pub now: SimTime,
    pub last_scale_up: Option<SimTime>,
    /// Ready, schedulable group nodes not being removed, in group then
    /// name order, with their group index.
    pub candidates: &'a [(NodeId, usize)],
    /// Nodes (anywhere) pods may not move to (cordoned, not ready).
    pub exclude: &'a BTreeSet<NodeId>,
    /// Group nodes present, and how many are being removed now.
    pub group_nodes: usize,
    pub deleting: usize,
    /// Whether a node with pods is being drained now.
    pub draining_busy: bool,
}

/// A node-provisioning policy.
pub trait NodeProvisioner {
    /// The name scenarios select it by.
    fn name(&self) -> &str;
    /// How scale-up events name the decision maker.
    fn describe(&self) -> String {
        format!("policy {}", self.name())
    }
    /// The scale-up for the pods still unschedulable on `snap` (the
    /// cluster plus nodes already coming): one option, or none.
    fn scale_up(
        &mut self,
        checker: &PredicateChecker,
        snap: &Snapshot,
        groups: &[NodeGroup],
        sizes: &[u32],
        pending: &[PodId],
    ) -> Option<ExpansionOption>;
    /// The nodes to drain and remove now, in order (the World still keeps
    /// each group at its `minSize`).
    fn scale_down(
        &mut self,
        checker: &PredicateChecker,
        snap: &mut Snapshot,
        groups: &[NodeGroup],
        input: &ScaleDownInput,
    ) -> Vec<NodeId>;
}

/// Policy names, for validation.
pub const POLICIES: [&str; 2] = ["cluster-autoscaler", "karpenter"];

/// Upstream cluster-autoscaler: the expander chooses among the groups'
/// estimates; a node below the utilization threshold whose pods can move
/// is unneeded, and goes after the unneeded time, not within the delay
/// after a scale-up; empty nodes go together, a node with pods one at a
/// time (`--max-drain-parallelism=1`) and only when no other drain is
/// under way.
pub struct ClusterAutoscalerPolicy {
    pub expander: Box<dyn Expander>,
    pub tracker: ScaleDownTracker,
    pub utilization_threshold_percent: i64,
    pub unneeded_time: Duration,
    pub delay_after_add: Duration,
}

impl NodeProvisioner for ClusterAutoscalerPolicy {
    fn name(&self) -> &str {
        "cluster-autoscaler"
    }
    fn describe(&self) -> String {
        format!("expander {}", self.expander.name())
    }

    fn scale_up(
        &mut self,
        checker: &PredicateChecker,
        snap: &Snapshot,
        groups: &[NodeGroup],
        sizes: &[u32],
        pending: &[PodId],
    ) -> Option<ExpansionOption> {
        plan_scale_up(
            checker,
            snap,
            groups,
            sizes,
            pending,
            self.expander.as_mut(),
        )
    }

    fn scale_down(
        &mut self,
        checker: &PredicateChecker,
        snap: &mut Snapshot,
        _groups: &[NodeGroup],
        input: &ScaleDownInput,
    ) -> Vec<NodeId> {
        let below: Vec<NodeId> = input
            .candidates
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| {
                utilization_percent(&snap.nodes[n.0 as usize]) < self.utilization_threshold_percent
            })
            .collect();
        let busy: BTreeSet<NodeId> = below
            .iter()
            .copied()
            .filter(|n| !snap.nodes[n.0 as usize].pods.is_empty())
            .collect();
        let unneeded = if below.is_empty() {
            Vec::new()
        } else {
            find_nodes_to_remove(checker, snap, &below, input.exclude)
        };
        let names: Vec<String> = unneeded
            .iter()
            .map(|n| snap.nodes[n.0 as usize].meta.name.clone())
            .collect();
        let removable = self.tracker.update(input.now, &names, self.unneeded_time);
        let cooled = input
            .last_scale_up
            .is_none_or(|t| input.now.since(t) >= self.delay_after_add);
        if !cooled {
            return Vec::new();
        }
        let mut draining_busy = input.draining_busy;
        let mut out = Vec::new();
        for name in removable {
            let Some(&id) = unneeded
                .iter()
                .find(|n| snap.nodes[n.0 as usize].meta.name == name)
            else {
                continue;
            };
            if busy.contains(&id) {
                if draining_busy {
                    continue;
                }
                draining_busy = true;
            }
            out.push(id);
        }
        out
    }
}

/// Karpenter-style provisioning and consolidation (karpenter.sh,
/// concepts/disruption and concepts/nodepools): each node group is an
/// instance type; a scale-up launches the cheapest instance type for the
/// pending batch (most pods scheduled, then the lowest total price per
/// hour); consolidation (`consolidationPolicy: WhenEmptyOrUnderutilized`)
/// deletes a node whose pods all fit on the other nodes (empty nodes
/// first, then the nodes with the fewest pods, the most expensive first
/// on ties), once it has been a candidate for `consolidateAfter`
/// (default 0s), at most the disruption budget at a time (default
/// `nodes: 10%` of the group nodes, rounded up, less those being
/// disrupted). Pods are moved under the same drainability rules and
/// PodDisruptionBudgets as the cluster autoscaler's. No utilization
/// threshold, no scale-down delay after a scale-up.
///
/// Deviation: Karpenter also replaces a node by one cheaper node when its
/// pods fit there; kubesim deletes only (replacement is not simulated).
pub struct KarpenterPolicy {
    pub consolidate_after: Duration,
    /// Disruption budget in percent of the nodes.
    pub budget_percent: u32,
    tracker: ScaleDownTracker,
}

impl KarpenterPolicy {
    pub fn new(consolidate_after: Duration, budget_percent: u32) -> KarpenterPolicy {
        KarpenterPolicy {
            consolidate_after,
            budget_percent,
            tracker: ScaleDownTracker::default(),
        }
    }
}

/// The cheapest option: most pods, then lowest price for its nodes, then
/// the first group.
pub fn cheapest(options: &[ExpansionOption], groups: &[NodeGroup]) -> Option<usize> {
    let mut best: Option<(usize, (i64, i128))> = None;
    for (i, o) in options.iter().enumerate() {
        let price = groups.get(o.group).map_or(i128::MAX, |g| {
            g.price_milli_per_hour as i128 * o.nodes as i128
        });
        let k = (-(o.pods.len() as i64), price);
        if best.as_ref().is_none_or(|(_, b)| k < *b) {
            best = Some((i, k));
        }
    }
    best.map(|(i, _)| i)
}

struct Cheapest;

impl Expander for Cheapest {
    fn name(&self) -> &str {
        "cheapest"
    }
    fn best(&mut self, o: &[ExpansionOption], g: &[NodeGroup], _: &[&Pod]) -> Option<usize> {
        cheapest(o, g)
    }
}

impl NodeProvisioner for KarpenterPolicy {
    fn name(&self) -> &str {
        "karpenter"
    }

    fn scale_up(
        &mut self,
        checker: &PredicateChecker,
        snap: &Snapshot,
        groups: &[NodeGroup],
        sizes: &[u32],
        pending: &[PodId],
    ) -> Option<ExpansionOption> {
        plan_scale_up(checker, snap, groups, sizes, pending, &mut Cheapest)
    }

    fn scale_down(
        &mut self,
        checker: &PredicateChecker,
        snap: &mut Snapshot,
        groups: &[NodeGroup],
        input: &ScaleDownInput,
    ) -> Vec<NodeId> {
        // Candidates: empty first, then fewest pods, then most expensive.
        let mut order: Vec<(NodeId, usize)> = input.candidates.to_vec();
        order.sort_by_key(|(n, g)| {
            let pods = snap.nodes[n.0 as usize].pods.len();
            let price = groups.get(*g).map_or(0, |x| x.price_milli_per_hour);
            (pods, -price, n.0)
        });
        let ids: Vec<NodeId> = order.iter().map(|(n, _)| *n).collect();
        let removable_ids = if ids.is_empty() {
            Vec::new()
        } else {
            find_nodes_to_remove(checker, snap, &ids, input.exclude)
        };
        let names: Vec<String> = removable_ids
            .iter()
            .map(|n| snap.nodes[n.0 as usize].meta.name.clone())
            .collect();
        let ready = self
            .tracker
            .update(input.now, &names, self.consolidate_after);
        let ready: BTreeSet<String> = ready.into_iter().collect();
        // Disruption budget: ceil(percent × nodes) less those in flight.
        let allowed = (input.group_nodes * self.budget_percent as usize).div_ceil(100);
        let mut room = allowed.saturating_sub(input.deleting);
        let mut out = Vec::new();
        for id in removable_ids {
            if room == 0 {
                break;
            }
            if ready.contains(&snap.nodes[id.0 as usize].meta.name) {
                out.push(id);
                room -= 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::simulator::fixture::{checker, node, pod, Cluster};
    use super::*;

    fn group(name: &str, cpu: i64, price: i64) -> NodeGroup {
        NodeGroup {
            name: name.into(),
            min: 0,
            max: 10,
            template: node(name, cpu, 16 << 30),
            provisioning_delay: Duration::from_secs(60),
            price_milli_per_hour: price,
            priority: 0,
        }
    }

    #[test]
    fn karpenter_launches_the_cheapest_fit_for_the_batch() {
        // Six 1-core pods: 2 × 4-core at 200 = 400, 1 × 8-core at 350 =
        // 350, 3 × 2-core at 100 = 300: the 2-core type is cheapest.
        let groups = vec![
            group("m4", 4000, 200),
            group("m8", 8000, 350),
            group("m2", 2000, 100),
        ];
        let pods: Vec<Pod> = (0..6)
            .map(|i| pod(&format!("p{i}"), 1000, 0, "Job"))
            .collect();
        let c = Cluster::new(vec![], pods, &[]);
        let snap = Snapshot::new(&c.view());
        let pending: Vec<PodId> = (0..6).map(PodId).collect();
        let mut k = KarpenterPolicy::new(Duration::ZERO, 10);
        let o = k
            .scale_up(&checker(), &snap, &groups, &[0, 0, 0], &pending)
            .expect("option");
        assert_eq!((o.group, o.nodes, o.pods.len()), (2, 3, 6));
        // With room for one 2-core node only, the option that schedules
        // all six wins over the cheaper one that schedules two.
        let mut small = groups.clone();
        small[2].max = 1;
        let o = k
            .scale_up(&checker(), &snap, &small, &[0, 0, 0], &pending)
            .expect("option");
        assert_eq!((o.group, o.pods.len()), (1, 6));
    }

    #[test]
    fn karpenter_consolidates_within_the_budget() {
        // Ten 4-core nodes, one 1-core pod on each of the first three: a
        // 10% budget allows one deletion per loop, empty nodes first.
        let nodes: Vec<_> = (0..10)
            .map(|i| node(&format!("n{i}"), 4000, 1 << 30))
            .collect();
        let pods: Vec<Pod> = (0..3)
            .map(|i| pod(&format!("p{i}"), 1000, 0, "ReplicaSet"))
            .collect();
        let c = Cluster::new(nodes, pods, &[Some(0), Some(1), Some(2)]);
        let cands: Vec<(NodeId, usize)> = (0..10).map(|i| (NodeId(i), 0)).collect();
        let groups = vec![group("g", 4000, 100)];
        let excl = BTreeSet::new();
        let input = |now: u64, deleting: usize| ScaleDownInput {
            now: SimTime(now * 1_000_000),
            last_scale_up: Some(SimTime(0)),
            candidates: &cands,
            exclude: &excl,
            group_nodes: 10,
            deleting,
            draining_busy: false,
        };
        let mut k = KarpenterPolicy::new(Duration::from_secs(30), 10);
        let mut snap = Snapshot::new(&c.view());
        assert!(
            k.scale_down(&checker(), &mut snap, &groups, &input(0, 0))
                .is_empty(),
            "consolidateAfter"
        );
        let mut snap = Snapshot::new(&c.view());
        let out = k.scale_down(&checker(), &mut snap, &groups, &input(30, 0));
        assert_eq!(out, vec![NodeId(3)], "an empty node, one (10% of 10)");
        let mut snap = Snapshot::new(&c.view());
        assert!(
            k.scale_down(&checker(), &mut snap, &groups, &input(40, 1))
                .is_empty(),
            "budget used"
        );
        // 50%: five at once.
        k.budget_percent = 50;
        let mut snap = Snapshot::new(&c.view());
        let out = k.scale_down(&checker(), &mut snap, &groups, &input(50, 0));
        assert_eq!(out.len(), 5);
    }

    #[test]
    fn cluster_autoscaler_policy_waits_for_the_unneeded_time() {
        let nodes = vec![node("a", 4000, 1 << 30), node("b", 4000, 1 << 30)];
        let pods = vec![pod("p", 1000, 0, "ReplicaSet")];
        let c = Cluster::new(nodes, pods, &[Some(0)]);
        let cands = vec![(NodeId(0), 0), (NodeId(1), 0)];
        let excl = BTreeSet::new();
        let mut p = ClusterAutoscalerPolicy {
            expander: super::super::cluster::new_expander(
                "most-pods",
                crate::engine::SimRng::derive(1, "x"),
            )
            .expect("expander"),
            tracker: ScaleDownTracker::default(),
            utilization_threshold_percent: 50,
            unneeded_time: Duration::from_secs(600),
            delay_after_add: Duration::from_secs(600),
        };
        let groups = vec![group("g", 4000, 100)];
        let input = |now: u64| ScaleDownInput {
            now: SimTime(now * 1_000_000),
            last_scale_up: None,
            candidates: &cands,
            exclude: &excl,
            group_nodes: 2,
            deleting: 0,
            draining_busy: false,
        };
        let mut snap = Snapshot::new(&c.view());
        assert!(p
            .scale_down(&checker(), &mut snap, &groups, &input(0))
            .is_empty());
        let mut snap = Snapshot::new(&c.view());
        // a's pod moves to b: a is unneeded; b then holds everything.
        assert_eq!(
            p.scale_down(&checker(), &mut snap, &groups, &input(600)),
            vec![NodeId(0)]
        );
    }
}
