//! Research policies, one file each, registered by name in [`new`].
//!
//! Most implement [`NodePicker`]: upstream's default Filter plugins decide
//! which nodes are feasible, and the policy only chooses among them (with
//! its own random stream). A policy that needs full control implements
//! [`crate::scheduler::SchedulingPolicy`] instead (see [`drf`]).
//!
//! Scores are integers only: resource ratios are taken in parts per
//! million ([`ppm`]) with `i128` intermediates, so every comparison is
//! exact and identical on every platform. Ties go to the node that comes
//! first in the scheduler's node order. See docs/policies.md.

pub mod best_fit;
pub mod dot_prod;
pub mod drf;
pub mod fgd;
pub mod fgd_best_fit;
pub mod first_fit;
pub mod gpu_clustering;
pub mod gpu_common;
pub mod gpu_packing;
pub mod gpu_random;
#[cfg(test)]
mod gpu_tests;
pub mod random;
pub mod tetris;
pub mod worst_fit;

use crate::engine::SimRng;
use crate::model::resources::{CPU, MEMORY};
use crate::model::{Node, NodeId, Pod, PodId};
use crate::scheduler::config::{ProfileConfig, SchedulerConfig};
use crate::scheduler::framework::{ClusterView, CycleState, Point};
use crate::scheduler::kube::fit_error_message;
use crate::scheduler::profile::Profile;
use crate::scheduler::{Decision, ScheduleResult, SchedulingPolicy};

/// The research policy names.
pub const NAMES: [&str; 12] = [
    "random",
    "first-fit",
    "best-fit",
    "worst-fit",
    "tetris",
    "drf",
    "fgd",
    "fgd-bestfit",
    "dotprod",
    "gpu-packing",
    "gpu-clustering",
    "gpu-random",
];

/// Builds a research policy by name: `None` for an unknown name;
/// `Some(Err)` when the policy cannot be built
/// (an invalid scheduler configuration).
pub fn new(name: &str, cfg: &SchedulerConfig) -> Option<Result<Box<dyn SchedulingPolicy>, String>> {
    Some(match name {
        "random" => picker(random::Random),
        "first-fit" => picker(first_fit::FirstFit),
        "best-fit" => picker(best_fit::BestFit),
        "worst-fit" => picker(worst_fit::WorstFit),
        "tetris" => picker(tetris::Tetris),
        "drf" => drf::Drf::new(cfg).map(boxed),
        "fgd" => gpu_picker(fgd::Fgd::default()),
        "fgd-bestfit" => gpu_picker(fgd_best_fit::FgdBestFit),
        "dotprod" => gpu_picker(dot_prod::DotProd),
        "gpu-packing" => gpu_picker(gpu_packing::GpuPacking),
        "gpu-clustering" => gpu_picker(gpu_clustering::GpuClustering),
        "gpu-random" => gpu_picker(gpu_random::GpuRandom),
        _ => return None,
    })
}

fn boxed<P: SchedulingPolicy + 'static>(p: P) -> Box<dyn SchedulingPolicy> {
    Box::new(p)
}

/// Wraps a [`NodePicker`] in [`FilterThenPick`].
fn picker<P: NodePicker + 'static>(p: P) -> Result<Box<dyn SchedulingPolicy>, String> {
    FilterThenPick::new(p).map(boxed)
}

/// Wraps a GPU-sharing [`NodePicker`] in [`FilterThenPick::with_gpu_share`].
fn gpu_picker<P: NodePicker + 'static>(p: P) -> Result<Box<dyn SchedulingPolicy>, String> {
    FilterThenPick::with_gpu_share(p).map(boxed)
}

/// One part per million: the unit of normalised resource amounts.
pub const PPM: i128 = 1_000_000;

/// `floor(amount * 1_000_000 / total)`, or 0 when `total <= 0` (a resource
/// the node does not have contributes nothing). Never overflows: the
/// product of an `i64` and 10^6 fits in `i128`.
pub fn ppm(amount: i64, total: i64) -> i128 {
    if total <= 0 {
        return 0;
    }
    (i128::from(amount) * PPM).div_euclid(i128::from(total))
}

/// The resources the packing policies (best-fit, worst-fit, tetris) look
/// at for `pod`: `cpu`, `memory`, then every extended resource the pod
/// requests a non-zero amount of, by name.
pub fn scored_resources(pod: &Pod) -> Vec<&str> {
    let mut v = vec![CPU, MEMORY];
    v.extend(
        pod.requests
            .scalar
            .iter()
            .filter(|(_, a)| **a > 0)
            .map(|(k, _)| k.as_str()),
    );
    v
}

/// The free amount of resource `r` on `node` (allocatable − requested).
pub fn free_of(node: &Node, r: &str) -> i64 {
    node.allocatable
        .get(r)
        .saturating_sub(node.requested.get(r))
}

/// The first item (in slice order) with the greatest key; `None` only for
/// an empty slice. Pickers use it so that ties go to node order.
pub fn first_max_by_key<T: Copy, K: Ord>(items: &[T], key: impl Fn(T) -> K) -> Option<T> {
    let mut best: Option<(T, K)> = None;
    for &it in items {
        let k = key(it);
        if best.as_ref().is_none_or(|(_, b)| k > *b) {
            best = Some((it, k));
        }
    }
    best.map(|(it, _)| it)
}

/// A policy that picks one of the feasible nodes.
pub trait NodePicker {
    fn name(&self) -> &'static str;
    /// Chooses among `feasible` (non-empty, in the scheduler's node order),
    /// or `None` to leave the pod unscheduled this cycle.
    fn pick(
        &mut self,
        pod: PodId,
        feasible: &[NodeId],
        view: &ClusterView,
        rng: &mut SimRng,
    ) -> Option<NodeId>;
    /// The GPUs of the chosen `node` the pod gets (for a pod with a GPU
    /// request). Empty, the default, lets the World choose (best fit).
    fn pick_gpus(
        &mut self,
        _pod: PodId,
        _node: NodeId,
        _view: &ClusterView,
        _rng: &mut SimRng,
    ) -> Vec<u32> {
        vec![]
    }
}

/// Runs upstream's default PreFilter and Filter plugins over every node,
/// then lets a [`NodePicker`] choose.
pub struct FilterThenPick<P: NodePicker> {
    picker: P,
    profile: Profile,
}

impl<P: NodePicker> FilterThenPick<P> {
    pub fn new(picker: P) -> Result<Self, String> {
        Self::build(picker, false)
    }

    /// Like [`FilterThenPick::new`], with the
    /// [`GpuShare`](crate::scheduler::plugins::gpu_share) filter added
    /// after the default filters (for the GPU-sharing policies).
    pub fn with_gpu_share(picker: P) -> Result<Self, String> {
        Self::build(picker, true)
    }

    fn build(picker: P, gpu_share: bool) -> Result<Self, String> {
        let mut cfg = ProfileConfig::default_profile();
        if gpu_share {
            cfg.plugins.points.insert(
                Point::Filter,
                crate::scheduler::config::PluginSet {
                    enabled: vec![crate::scheduler::config::PluginRef::new(
                        crate::scheduler::plugins::gpu_share::NAME,
                        0,
                    )],
                    disabled: vec![],
                },
            );
        }
        // Only feasibility: no scoring, no preemption.
        for p in [Point::PreScore, Point::Score, Point::PostFilter] {
            cfg.plugins.points.insert(
                p,
                crate::scheduler::config::PluginSet {
                    enabled: vec![],
                    disabled: vec!["*".into()],
                },
            );
        }
        Ok(FilterThenPick {
            picker,
            profile: Profile::new(&cfg)?,
        })
    }
}

impl<P: NodePicker> SchedulingPolicy for FilterThenPick<P> {
    fn name(&self) -> &str {
        self.picker.name()
    }

    fn schedule(
        &mut self,
        pod_id: PodId,
        view: &ClusterView,
        rng: &mut SimRng,
        _explain: bool,
    ) -> ScheduleResult {
        let pod = view.pod(pod_id);
        let mut state = CycleState::default();
        let (restrict, st, _) = self.profile.run_pre_filter(&mut state, pod, view);
        let all = view.node_order;
        if !st.is_success() {
            return ScheduleResult::new(
                Decision::Unschedulable {
                    message: fit_error_message(
                        all.len(),
                        &st.message(),
                        &Default::default(),
                        None,
                        "",
                    ),
                    nominated: None,
                },
                0,
            );
        }
        // PreFilter returns its node set sorted by id; keep the scheduler's
        // node order (and only present nodes) so pickers can rely on it.
        let nodes: Vec<NodeId> = match restrict {
            Some(r) => all
                .iter()
                .copied()
                .filter(|n| r.binary_search(n).is_ok())
                .collect(),
            None => all.to_vec(),
        };
        let mut feasible = Vec::new();
        let mut statuses = std::collections::BTreeMap::new();
        for &n in &nodes {
            let s = self
                .profile
                .run_filter_plugins(&state, pod, view.node(n), view);
            if s.is_success() {
                feasible.push(n);
            } else {
                statuses.insert(n, s);
            }
        }
        let evaluated = nodes.len() as u32;
        if feasible.is_empty() {
            return ScheduleResult::new(
                Decision::Unschedulable {
                    message: fit_error_message(all.len(), "", &statuses, None, ""),
                    nominated: None,
                },
                evaluated,
            );
        }
        match self.picker.pick(pod_id, &feasible, view, rng) {
            Some(node) if !feasible.contains(&node) => ScheduleResult::new(
                Decision::Error(format!(
                    "policy {} chose node {:?}, which is not feasible",
                    self.picker.name(),
                    view.nodes.get(node.0 as usize).map_or("?", |n| n.name())
                )),
                evaluated,
            ),
            Some(node) => ScheduleResult::new(
                Decision::Bind {
                    node,
                    wait: None,
                    release: vec![],
                    gpus: self.picker.pick_gpus(pod_id, node, view, rng),
                },
                evaluated,
            ),
            None => ScheduleResult::new(
                Decision::Unschedulable {
                    message: format!(
                        "0/{} nodes are available: policy {} chose none.",
                        all.len(),
                        self.picker.name()
                    ),
                    nominated: None,
                },
                evaluated,
            ),
        }
    }
}

/// Helpers for the policies' unit tests: small hand-built clusters.
#[cfg(test)]
pub(crate) mod testutil {
    use std::collections::BTreeMap;

    use crate::engine::{SimRng, SimTime};
    use crate::model::pod::{Container, PodBehavior, PodSpec};
    use crate::model::{Labels, Node, NodeId, ObjectMeta, Pod, PodId, PodPhase, Resources};
    use crate::scheduler::{ClusterView, Decision, SchedulingPolicy};

    pub const GI: i64 = 1 << 30;
    pub const GPU: &str = "nvidia.com/gpu";

    /// A ready node with this allocatable (= capacity) and room for 110 pods.
    pub fn node(name: &str, cpu_m: i64, memory: i64, gpus: i64) -> Node {
        let mut r = Resources::new(cpu_m, memory);
        r.pods = 110;
        if gpus > 0 {
            r.set(GPU, gpus);
        }
        let mut meta = ObjectMeta {
            name: name.to_string(),
            ..Default::default()
        };
        meta.labels
            .insert("kubernetes.io/hostname".into(), name.to_string());
        Node::new(meta, r.clone(), r)
    }

    /// A pending pod with one container requesting this much.
    pub fn pod(ns: &str, name: &str, cpu_m: i64, memory: i64, gpus: i64) -> Pod {
        let mut requests = Resources::new(cpu_m, memory);
        if gpus > 0 {
            requests.set(GPU, gpus);
        }
        let spec = PodSpec {
            containers: vec![Container {
                requests: requests.clone(),
                limits: requests,
                ..Container::default()
            }],
            ..PodSpec::default()
        };
        let meta = ObjectMeta {
            name: name.to_string(),
            namespace: ns.to_string(),
            ..Default::default()
        };
        Pod::new(meta, spec, PodBehavior::default())
    }

    pub struct Cluster {
        pub nodes: Vec<Node>,
        pub pods: Vec<Pod>,
        pub order: Vec<NodeId>,
        namespaces: BTreeMap<String, Labels>,
        image_nodes: BTreeMap<String, u32>,
        nominated: BTreeMap<NodeId, Vec<PodId>>,
        aff_nodes: std::collections::BTreeSet<NodeId>,
        anti_nodes: std::collections::BTreeSet<NodeId>,
    }

    impl Cluster {
        /// The nodes, in node order by index.
        pub fn new(nodes: Vec<Node>) -> Cluster {
            let order = (0..nodes.len() as u32).map(NodeId).collect();
            Cluster {
                nodes,
                pods: vec![],
                order,
                namespaces: BTreeMap::new(),
                image_nodes: BTreeMap::new(),
                nominated: BTreeMap::new(),
                aff_nodes: Default::default(),
                anti_nodes: Default::default(),
            }
        }

        pub fn add(&mut self, p: Pod) -> PodId {
            self.namespaces.entry(p.meta.namespace.clone()).or_default();
            self.pods.push(p);
            PodId(self.pods.len() as u32 - 1)
        }

        /// Adds `p` already bound (Running) to `n`.
        pub fn add_bound(&mut self, p: Pod, n: NodeId) -> PodId {
            let id = self.add(p);
            let pod = &mut self.pods[id.0 as usize];
            pod.status.node = Some(n);
            pod.status.phase = Some(PodPhase::Running);
            self.nodes[n.0 as usize].add_pod(id, pod);
            let (a, b) = crate::scheduler::framework::affinity_node_sets(&self.nodes);
            self.aff_nodes = a;
            self.anti_nodes = b;
            id
        }

        pub fn view(&self) -> ClusterView<'_> {
            ClusterView {
                nodes: &self.nodes,
                pods: &self.pods,
                namespaces: &self.namespaces,
                image_nodes: &self.image_nodes,
                node_order: &self.order,
                nominated: &self.nominated,
                waiting: &[],
                nodes_with_affinity: &self.aff_nodes,
                nodes_with_required_anti_affinity: &self.anti_nodes,
                pod_changes: None,
                now: SimTime::ZERO,
                pdbs: &[],
            }
        }
    }

    pub fn rng() -> SimRng {
        SimRng::derive(42, "policy")
    }

    /// Runs one scheduling cycle: the chosen node, or `None` if unschedulable.
    pub fn choose(p: &mut dyn SchedulingPolicy, c: &Cluster, pod: PodId) -> Option<NodeId> {
        choose_with(p, c, pod, &mut rng())
    }

    pub fn choose_with(
        p: &mut dyn SchedulingPolicy,
        c: &Cluster,
        pod: PodId,
        rng: &mut SimRng,
    ) -> Option<NodeId> {
        match p.schedule(pod, &c.view(), rng, false).decision {
            Decision::Bind { node, .. } => Some(node),
            Decision::Unschedulable { .. } => None,
            Decision::Error(e) => panic!("policy error: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;
    use crate::scheduler::{new_policy, policy_names};

    #[test]
    fn every_name_builds() {
        let cfg = SchedulerConfig::default();
        for name in NAMES {
            let p = new(name, &cfg)
                .unwrap_or_else(|| panic!("{name} is not registered"))
                .unwrap_or_else(|e| panic!("{name} does not build: {e}"));
            assert_eq!(p.name(), name);
            assert_eq!(name, name.to_lowercase());
            assert!(!name.contains(['_', ' ']), "{name} is not kebab-case");
        }
        assert!(new("no-such-policy", &cfg).is_none());
        for name in policy_names() {
            assert!(new_policy(name, &cfg).is_ok(), "{name}");
        }
    }

    #[test]
    fn ppm_is_exact_and_total() {
        assert_eq!(ppm(1, 3), 333_333);
        assert_eq!(ppm(2, 3), 666_666);
        assert_eq!(ppm(5, 0), 0);
        assert_eq!(ppm(5, -1), 0);
        assert_eq!(ppm(-1, 3), -333_334, "floor, not truncation");
        assert_eq!(ppm(i64::MAX, 1), i128::from(i64::MAX) * PPM);
    }

    #[test]
    fn feasible_nodes_follow_node_order_and_no_nodes_is_unschedulable() {
        struct Record(Vec<NodeId>);
        impl NodePicker for Record {
            fn name(&self) -> &'static str {
                "record"
            }
            fn pick(
                &mut self,
                _: PodId,
                feasible: &[NodeId],
                _: &ClusterView,
                _: &mut SimRng,
            ) -> Option<NodeId> {
                self.0 = feasible.to_vec();
                feasible.last().copied()
            }
        }
        let mut c = Cluster::new(vec![
            node("a", 1000, GI, 0),
            node("b", 100, GI, 0),
            node("c", 1000, GI, 0),
        ]);
        c.order = vec![NodeId(2), NodeId(1), NodeId(0)];
        let p = c.add(pod("default", "p", 500, 0, 0));
        let mut s = FilterThenPick::new(Record(vec![])).unwrap();
        assert_eq!(choose(&mut s, &c, p), Some(NodeId(0)));
        assert_eq!(s.picker.0, [NodeId(2), NodeId(0)]);

        c.order.clear();
        assert_eq!(choose(&mut s, &c, p), None);
    }

    #[test]
    fn a_pick_outside_the_feasible_set_is_an_error() {
        struct Bad;
        impl NodePicker for Bad {
            fn name(&self) -> &'static str {
                "bad"
            }
            fn pick(
                &mut self,
                _: PodId,
                _: &[NodeId],
                _: &ClusterView,
                _: &mut SimRng,
            ) -> Option<NodeId> {
                Some(NodeId(99))
            }
        }
        let mut c = Cluster::new(vec![node("a", 1000, GI, 0)]);
        let p = c.add(pod("default", "p", 500, 0, 0));
        let mut s = FilterThenPick::new(Bad).unwrap();
        let r = s.schedule(p, &c.view(), &mut rng(), false);
        assert!(matches!(r.decision, Decision::Error(_)), "{r:?}");
    }
}
