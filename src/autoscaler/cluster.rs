//! Cluster autoscaler, pure parts (after kubernetes/autoscaler's
//! cluster-autoscaler): node groups, the scale-up estimate (pending pods
//! bin-packed onto copies of a group's template node, first fit in
//! upstream's estimator order), the expanders that choose among groups
//! (random, least-waste, most-pods, price, priority), and the scale-down
//! bookkeeping (a node is unneeded while its requests stay below the
//! utilization threshold, 0.5, and its pods can move elsewhere; it may go
//! after 10 minutes unneeded). Pluggable through [`Expander`].
//!
//! The World runs the loop (`cluster/autoscaling.rs`). Whether a pod fits
//! is decided by the pod's scheduler profile PreFilter and Filter plugins
//! run on a snapshot with hypothetical template nodes, as upstream does
//! (see [`super::simulator`]).

use std::collections::{BTreeMap, BTreeSet};

use super::simulator::{estimate, PredicateChecker, Snapshot};
use crate::engine::{Duration, SimRng, SimTime};
use crate::model::{Node, Pod, PodId};

/// `--scale-down-utilization-threshold`.
pub const UTILIZATION_THRESHOLD_PERCENT: i64 = 50;
/// `--scale-down-unneeded-time`.
pub const UNNEEDED_TIME: Duration = Duration::from_secs(600);
/// `--scale-down-delay-after-add`.
pub const DELAY_AFTER_ADD: Duration = Duration::from_secs(600);

/// A node group (an autoscaled pool).
#[derive(Clone, Debug)]
pub struct NodeGroup {
    pub name: String,
    pub min: u32,
    pub max: u32,
    /// The node a scale-up adds (capacity, labels, taints).
    pub template: Node,
    /// From the request to the node being Ready.
    pub provisioning_delay: Duration,
    /// Price per node-hour in thousandths of a currency unit.
    pub price_milli_per_hour: i64,
    /// For the `priority` expander (higher wins).
    pub priority: i32,
}

/// One way to scale up: `nodes` new nodes of group `group` would host the
/// pending pods `pods` (indexes into the pending list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpansionOption {
    pub group: usize,
    pub nodes: u32,
    pub pods: Vec<usize>,
}

/// Chooses among expansion options (upstream's expander strategies).
pub trait Expander {
    fn name(&self) -> &str;
    /// Index into `options` of the chosen one.
    fn best(
        &mut self,
        options: &[ExpansionOption],
        groups: &[NodeGroup],
        pending: &[&Pod],
    ) -> Option<usize>;
}

/// `random`: a uniform choice from the expander's random stream.
pub struct RandomExpander(pub SimRng);
/// `most-pods`: the option that schedules the most pods (first on ties).
pub struct MostPods;
/// `least-waste`: the least idle CPU plus memory, as fractions of the new
/// nodes' allocatable (first on ties).
pub struct LeastWaste;
/// `price`: the lowest price per scheduled pod for the new nodes (a
/// simplification of upstream's price/preferred-node score).
pub struct Price;
/// `priority`: the group with the highest priority (first on ties).
pub struct Priority;

impl Expander for RandomExpander {
    fn name(&self) -> &str {
        "random"
    }
    fn best(&mut self, o: &[ExpansionOption], _: &[NodeGroup], _: &[&Pod]) -> Option<usize> {
        (!o.is_empty()).then(|| self.0.below(o.len() as u64) as usize)
    }
}

fn argmin<K: PartialOrd>(
    o: &[ExpansionOption],
    key: impl Fn(&ExpansionOption) -> K,
) -> Option<usize> {
    let mut best: Option<(usize, K)> = None;
    for (i, x) in o.iter().enumerate() {
        let k = key(x);
        if best.as_ref().is_none_or(|(_, b)| k < *b) {
            best = Some((i, k));
        }
    }
    best.map(|(i, _)| i)
}

impl Expander for MostPods {
    fn name(&self) -> &str {
        "most-pods"
    }
    fn best(&mut self, o: &[ExpansionOption], _: &[NodeGroup], _: &[&Pod]) -> Option<usize> {
        argmin(o, |x| -(x.pods.len() as i64))
    }
}

impl Expander for LeastWaste {
    fn name(&self) -> &str {
        "least-waste"
    }
    fn best(&mut self, o: &[ExpansionOption], g: &[NodeGroup], p: &[&Pod]) -> Option<usize> {
        argmin(o, |x| {
            let t = &g[x.group].template.allocatable;
            let cpu = t.cpu_m as f64 * x.nodes as f64;
            let mem = t.memory as f64 * x.nodes as f64;
            let rc: i64 = x.pods.iter().map(|i| p[*i].requests.cpu_m).sum();
            let rm: i64 = x.pods.iter().map(|i| p[*i].requests.memory).sum();
            let w = |avail: f64, req: i64| {
                if avail > 0.0 {
                    (avail - req as f64) / avail
                } else {
                    0.0
                }
            };
            w(cpu, rc) + w(mem, rm)
        })
    }
}

impl Expander for Price {
    fn name(&self) -> &str {
        "price"
    }
    fn best(&mut self, o: &[ExpansionOption], g: &[NodeGroup], _: &[&Pod]) -> Option<usize> {
        argmin(o, |x| {
            (g[x.group].price_milli_per_hour as i128 * x.nodes as i128 * 1_000_000)
                / (x.pods.len().max(1) as i128)
        })
    }
}

impl Expander for Priority {
    fn name(&self) -> &str {
        "priority"
    }
    fn best(&mut self, o: &[ExpansionOption], g: &[NodeGroup], _: &[&Pod]) -> Option<usize> {
        argmin(o, |x| -(g[x.group].priority as i64))
    }
}

/// The expander registered under `name`; `random` draws from `rng`.
pub fn new_expander(name: &str, rng: SimRng) -> Result<Box<dyn Expander>, String> {
    match name {
        "random" => Ok(Box::new(RandomExpander(rng))),
        "most-pods" => Ok(Box::new(MostPods)),
        "least-waste" => Ok(Box::new(LeastWaste)),
        "price" => Ok(Box::new(Price)),
        "priority" => Ok(Box::new(Priority)),
        o => Err(format!(
            "unknown expander {o:?}; valid expanders: least-waste, most-pods, price, priority, random"
        )),
    }
}

/// A scale-up decision for the pending pods (upstream
/// `ScaleUpOrchestrator`: one estimate per group with room left, on the
/// snapshot, then the expander): the chosen option, its `pods` indexes
/// into `pending`.
pub fn plan_scale_up(
    checker: &PredicateChecker,
    snap: &Snapshot,
    groups: &[NodeGroup],
    sizes: &[u32],
    pending: &[PodId],
    expander: &mut dyn Expander,
) -> Option<ExpansionOption> {
    let options: Vec<ExpansionOption> = groups
        .iter()
        .enumerate()
        .filter_map(|(i, g)| {
            let room = g.max.saturating_sub(sizes.get(i).copied().unwrap_or(0));
            let e = estimate(checker, snap, &g.template, &g.name, room, pending);
            (e.nodes > 0).then(|| {
                let mut pods: Vec<usize> = e
                    .pods
                    .iter()
                    .filter_map(|p| pending.iter().position(|q| q == p))
                    .collect();
                pods.sort_unstable();
                ExpansionOption {
                    group: i,
                    nodes: e.nodes,
                    pods,
                }
            })
        })
        .collect();
    let refs: Vec<&Pod> = pending.iter().map(|p| snap.pod(*p)).collect();
    let i = expander.best(&options, groups, &refs)?;
    options.get(i).cloned()
}

/// A node's utilization in percent: the larger of requested CPU and
/// memory over allocatable (upstream's `utilization.Calculate`).
pub fn utilization_percent(node: &Node) -> i64 {
    let r = |req: i64, alloc: i64| if alloc > 0 { req * 100 / alloc } else { 0 };
    r(node.requested.cpu_m, node.allocatable.cpu_m)
        .max(r(node.requested.memory, node.allocatable.memory))
}

/// When each node became unneeded; nodes unneeded for the unneeded time
/// may be removed.
#[derive(Clone, Debug, Default)]
pub struct ScaleDownTracker {
    since: BTreeMap<String, SimTime>,
}

impl ScaleDownTracker {
    /// Records this loop's unneeded nodes and returns those unneeded for at
    /// least `unneeded_time`, in name order.
    pub fn update(
        &mut self,
        now: SimTime,
        unneeded: &[String],
        unneeded_time: Duration,
    ) -> Vec<String> {
        let keep: BTreeSet<&String> = unneeded.iter().collect();
        self.since.retain(|n, _| keep.contains(n));
        for n in unneeded {
            self.since.entry(n.clone()).or_insert(now);
        }
        self.since
            .iter()
            .filter(|(_, t)| now.since(**t) >= unneeded_time)
            .map(|(n, _)| n.clone())
            .collect()
    }
}

/// Cost of `node_seconds` of a group at `price_milli_per_hour`, in
/// thousandths of a currency unit (rounded down).
pub fn cost_milli(node_seconds: u64, price_milli_per_hour: i64) -> i64 {
    (node_seconds as i128 * price_milli_per_hour as i128 / 3600) as i64
}

#[cfg(test)]
mod tests {
    use super::super::simulator::fixture::{checker, node, pod, Cluster};
    use super::*;

    fn group(name: &str, cpu: i64, max: u32, price: i64, prio: i32) -> NodeGroup {
        NodeGroup {
            name: name.into(),
            min: 0,
            max,
            template: node(name, cpu, 16 << 30),
            provisioning_delay: Duration::from_secs(60),
            price_milli_per_hour: price,
            priority: prio,
        }
    }

    #[test]
    fn expanders_choose_as_named() {
        let groups = vec![
            group("small", 2000, 10, 100, 1),
            group("large", 8000, 10, 300, 5),
        ];
        let pods: Vec<Pod> = (0..4)
            .map(|i| pod(&format!("p{i}"), 1500, 1 << 30, "Job"))
            .collect();
        let c = Cluster::new(vec![], pods, &[]);
        let snap = Snapshot::new(&c.view());
        let pending: Vec<PodId> = (0..4).map(PodId).collect();
        let sizes = [0, 0];
        let ch = checker();
        let pick = |name: &str| {
            let mut e = new_expander(name, SimRng::derive(1, "ca")).unwrap();
            plan_scale_up(&ch, &snap, &groups, &sizes, &pending, e.as_mut())
                .unwrap()
                .group
        };
        // small: 4 nodes at 100 = 400 for 4 pods; large: 1 node at 300.
        assert_eq!(pick("price"), 1);
        assert_eq!(pick("priority"), 1);
        // small wastes 0.25 of CPU, large 0.25 too; memory: small 4×16Gi,
        // large 16Gi, so large wastes less.
        assert_eq!(pick("least-waste"), 1);
        assert_eq!(pick("most-pods"), 0, "both fit all four: the first wins");
        assert!(pick("random") < 2);
        assert!(new_expander("cheapest", SimRng::derive(1, "ca")).is_err());
    }

    #[test]
    fn scale_down_bookkeeping() {
        let p = pod("p", 1000, 1 << 30, "Job");
        let mut n = node("a", 4000, 16 << 30);
        n.add_pod(PodId(0), &p);
        assert_eq!(utilization_percent(&n), 25);
        let mut t = ScaleDownTracker::default();
        let s = |x: u64| SimTime(x * 1_000_000);
        assert!(t.update(s(0), &["a".into()], UNNEEDED_TIME).is_empty());
        assert!(t.update(s(599), &["a".into()], UNNEEDED_TIME).is_empty());
        assert_eq!(
            t.update(s(600), &["a".into()], UNNEEDED_TIME),
            vec!["a".to_string()]
        );
        // Needed again: the clock restarts.
        assert!(t.update(s(610), &[], UNNEEDED_TIME).is_empty());
        assert!(t.update(s(620), &["a".into()], UNNEEDED_TIME).is_empty());
        assert_eq!(cost_milli(7200, 500), 1000);
    }
}
