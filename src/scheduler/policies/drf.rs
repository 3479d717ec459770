//! `drf`: queue ordering by Dominant Resource Fairness across namespaces
//! (tenants), after Ghodsi, Zaharia, Hindman, Konwinski, Shenker and
//! Stoica, "Dominant Resource Fairness: Fair Allocation of Multiple
//! Resource Types", NSDI 2011.
//!
//! At every queue pop the next pod is taken from the namespace with the
//! lowest dominant share:
//!
//! ```text
//! used_ns,r = Σ request_r over pods of ns with status.node set and phase
//!             not terminal (bound or assumed)
//! total_r   = Σ allocatable_r over present nodes
//! share_ns  = max_{r ∈ {cpu, memory}} used_ns,r / total_r
//! ```
//!
//! A resource with `total_r ≤ 0` counts as share 0. Shares are fractions
//! compared exactly by integer cross-multiplication (`i128`). Among pods of
//! namespaces with equal lowest share, upstream's PrioritySort order wins
//! (higher priority, then earlier enqueue): the queue arrives in that order
//! and the first qualifying pod is taken.
//!
//! Node choice is the default kube-scheduler profile (the scenario's
//! scheduler configuration): `schedule`, `bind` and `unreserve` are
//! forwarded to a [`KubeScheduler`].

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::engine::{SimRng, SimTime};
use crate::model::resources::Resources;
use crate::model::{NodeId, PodId};
use crate::scheduler::config::SchedulerConfig;
use crate::scheduler::kube::KubeScheduler;
use crate::scheduler::{ClusterView, ScheduleResult, SchedulingPolicy};

/// A non-negative fraction `num / den` with `den > 0`.
#[derive(Clone, Copy, Debug)]
pub struct Share {
    pub num: i128,
    pub den: i128,
}

impl Share {
    pub const ZERO: Share = Share { num: 0, den: 1 };

    /// `used / total`, or 0 when `total ≤ 0`.
    pub fn of(used: i64, total: i64) -> Share {
        if total <= 0 {
            return Share::ZERO;
        }
        Share {
            num: i128::from(used),
            den: i128::from(total),
        }
    }

    /// Exact comparison: `a/b` vs `c/d` as `a·d` vs `c·b` (both products
    /// of two `i64` values fit in `i128`).
    pub fn cmp_exact(self, o: Share) -> Ordering {
        (self.num * o.den).cmp(&(o.num * self.den))
    }
}

/// Total allocatable (cpu_m, memory) of the present nodes.
pub fn cluster_total(view: &ClusterView) -> (i64, i64) {
    view.nodes
        .iter()
        .filter(|n| n.present)
        .fold((0i64, 0i64), |(c, m), n| {
            (
                c.saturating_add(n.allocatable.cpu_m),
                m.saturating_add(n.allocatable.memory),
            )
        })
}

/// Requests of each namespace's pods that hold a node (status.node set,
/// phase not terminal).
pub fn namespace_usage<'a>(view: &ClusterView<'a>) -> BTreeMap<&'a str, Resources> {
    let mut used: BTreeMap<&'a str, Resources> = BTreeMap::new();
    for p in view.pods {
        if p.status.node.is_some() && !p.phase().is_terminal() {
            used.entry(p.meta.namespace.as_str())
                .or_default()
                .add(&p.requests);
        }
    }
    used
}

/// The dominant share of a namespace using `used` out of `total`.
pub fn dominant_share(used: &Resources, total: (i64, i64)) -> Share {
    let cpu = Share::of(used.cpu_m, total.0);
    let mem = Share::of(used.memory, total.1);
    if mem.cmp_exact(cpu) == Ordering::Greater {
        mem
    } else {
        cpu
    }
}

pub struct Drf {
    inner: KubeScheduler,
}

impl Drf {
    pub fn new(cfg: &SchedulerConfig) -> Result<Drf, String> {
        Ok(Drf {
            inner: KubeScheduler::new(cfg)?,
        })
    }
}

impl SchedulingPolicy for Drf {
    fn name(&self) -> &str {
        "drf"
    }

    fn handles(&self, scheduler_name: &str) -> bool {
        self.inner.handles(scheduler_name)
    }

    fn set_seed(&mut self, seed: u64) {
        self.inner.set_seed(seed)
    }

    fn schedule(
        &mut self,
        pod: PodId,
        view: &ClusterView,
        rng: &mut SimRng,
        explain: bool,
    ) -> ScheduleResult {
        self.inner.schedule(pod, view, rng, explain)
    }

    fn bind(&mut self, pod: PodId, node: NodeId, view: &ClusterView) -> Result<(), String> {
        self.inner.bind(pod, node, view)
    }

    fn unreserve(&mut self, pod: PodId, node: NodeId, view: &ClusterView) {
        self.inner.unreserve(pod, node, view)
    }

    fn custom_queue_order(&self) -> bool {
        true
    }

    fn pick_next(&self, queue: &[(PodId, SimTime)], view: &ClusterView) -> usize {
        let total = cluster_total(view);
        let usage = namespace_usage(view);
        let none = Resources::default();
        let mut shares: BTreeMap<&str, Share> = BTreeMap::new();
        let mut best: Option<(usize, Share)> = None;
        for (i, (id, _)) in queue.iter().enumerate() {
            let Some(pod) = view.pods.get(id.0 as usize) else {
                continue;
            };
            let ns = pod.meta.namespace.as_str();
            let s = *shares
                .entry(ns)
                .or_insert_with(|| dominant_share(usage.get(ns).unwrap_or(&none), total));
            if best.is_none_or(|(_, b)| s.cmp_exact(b) == Ordering::Less) {
                best = Some((i, s));
            }
        }
        best.map_or(0, |(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;
    use crate::model::PodPhase;

    fn queue(ids: &[PodId]) -> Vec<(PodId, SimTime)> {
        ids.iter().map(|&id| (id, SimTime::ZERO)).collect()
    }

    fn drf() -> Drf {
        Drf::new(&SchedulerConfig::default()).unwrap()
    }

    /// Cluster: 10 CPUs and 10 GiB. Tenant `a` holds 4 CPUs and 1 GiB
    /// (dominant share 0.4, CPU); `b` holds 1 CPU and 3 GiB (0.3, memory).
    fn two_tenants() -> Cluster {
        let mut c = Cluster::new(vec![
            node("n0", 6000, 5 * GI, 0),
            node("n1", 4000, 5 * GI, 0),
        ]);
        c.add_bound(pod("a", "a-run", 4000, GI, 0), NodeId(0));
        c.add_bound(pod("b", "b-run", 1000, 3 * GI, 0), NodeId(1));
        c
    }

    #[test]
    fn lowest_dominant_share_goes_first() {
        let mut c = two_tenants();
        let pa = c.add(pod("a", "a-next", 100, 0, 0));
        let pb = c.add(pod("b", "b-next", 100, 0, 0));
        let d = drf();
        assert!(d.custom_queue_order());
        assert_eq!(d.pick_next(&queue(&[pa, pb]), &c.view()), 1);
        // A namespace with nothing running has share 0 and beats both.
        let pc = c.add(pod("c", "c-first", 100, 0, 0));
        assert_eq!(d.pick_next(&queue(&[pa, pb, pc]), &c.view()), 2);
        let usage = namespace_usage(&c.view());
        let total = cluster_total(&c.view());
        assert_eq!(total, (10_000, 10 * GI));
        let sa = dominant_share(&usage["a"], total);
        assert_eq!((sa.num, sa.den), (4000, 10_000));
        let sb = dominant_share(&usage["b"], total);
        assert_eq!((sb.num, sb.den), (i128::from(3 * GI), i128::from(10 * GI)));
    }

    #[test]
    fn ties_keep_priority_sort_order() {
        let mut c = Cluster::new(vec![node("n0", 10_000, 10 * GI, 0)]);
        c.add_bound(pod("a", "a-run", 2000, 0, 0), NodeId(0));
        c.add_bound(pod("b", "b-run", 0, 2 * GI, 0), NodeId(0));
        let pb = c.add(pod("b", "b-next", 100, 0, 0));
        let pa = c.add(pod("a", "a-next", 100, 0, 0));
        let pb2 = c.add(pod("b", "b-later", 100, 0, 0));
        let d = drf();
        assert_eq!(d.pick_next(&queue(&[pb, pa, pb2]), &c.view()), 0);
        assert_eq!(d.pick_next(&queue(&[pa, pb, pb2]), &c.view()), 0);
    }

    #[test]
    fn shares_are_compared_exactly() {
        // a: 1000/3000 CPU = 1/3 exactly; b: 333_333_334/10^9 bytes of
        // memory, a hair above 1/3 (both are 333_333 in parts per million).
        let mut c = Cluster::new(vec![node("n0", 3000, 1_000_000_000, 0)]);
        c.add_bound(pod("a", "a-run", 1000, 0, 0), NodeId(0));
        c.add_bound(pod("b", "b-run", 0, 333_333_334, 0), NodeId(0));
        let pb = c.add(pod("b", "b-next", 1, 0, 0));
        let pa = c.add(pod("a", "a-next", 1, 0, 0));
        assert_eq!(drf().pick_next(&queue(&[pb, pa]), &c.view()), 1);
    }

    #[test]
    fn terminal_unbound_and_removed_node_capacity_do_not_count() {
        let mut c = two_tenants();
        // A finished pod of `b` with a huge request is ignored …
        let done = c.add_bound(pod("b", "b-done", 9000, 0, 0), NodeId(1));
        c.pods[done.0 as usize].status.phase = Some(PodPhase::Succeeded);
        // … as is a pending one of `b`.
        c.add(pod("b", "b-pending", 9000, 0, 0));
        let pa = c.add(pod("a", "a-next", 100, 0, 0));
        let pb = c.add(pod("b", "b-next", 100, 0, 0));
        assert_eq!(drf().pick_next(&queue(&[pa, pb]), &c.view()), 1);
        // Removing n0 halves total memory: a = max(4000/4000, 1/5) = 1,
        // b = max(1000/4000, 3/5) = 3/5; b still first. Removing all
        // nodes makes every share 0: PrioritySort order.
        c.nodes[0].present = false;
        assert_eq!(cluster_total(&c.view()), (4000, 5 * GI));
        assert_eq!(drf().pick_next(&queue(&[pa, pb]), &c.view()), 1);
        c.nodes[1].present = false;
        assert_eq!(drf().pick_next(&queue(&[pa, pb]), &c.view()), 0);
        assert_eq!(drf().pick_next(&[], &c.view()), 0);
    }

    #[test]
    fn node_choice_is_the_default_scheduler() {
        let mut c = Cluster::new(vec![
            node("small", 500, GI, 0),
            node("big", 4000, 8 * GI, 0),
        ]);
        let p = c.add(pod("a", "p", 1000, GI, 0));
        let mut d = drf();
        assert_eq!(d.name(), "drf");
        assert!(d.handles("default-scheduler"));
        assert!(!d.handles("other-scheduler"));
        assert_eq!(choose(&mut d, &c, p), Some(NodeId(1)));
        assert!(d.bind(p, NodeId(1), &c.view()).is_ok());
        let big = c.add(pod("a", "too-big", 64_000, GI, 0));
        assert_eq!(choose(&mut d, &c, big), None);
    }
}
