//! The cluster autoscaler's scheduling simulation, after upstream
//! kubernetes/autoscaler `cluster-autoscaler/simulator`: a [`Snapshot`] of
//! the cluster that takes hypothetical nodes and pods, a
//! [`PredicateChecker`] that runs the pod's scheduler profile PreFilter and
//! Filter plugins against it (`predicatechecker`'s `CheckPredicates` and
//! `FitsAnyNodeMatching`), the binpacking estimator
//! (`estimator/binpacking_estimator.go` with the `DecreasingPodOrderer` of
//! `estimator/decreasing_pod_orderer.go`), upstream's
//! `FilterOutSchedulable` step, the drainability rules that say which pods
//! a scale-down may move (`simulator/drainability/rules/rules.go`) and the
//! removal simulation (`simulator/cluster.go`, `FindNodesToRemove`).
//!
//! Deviations: the snapshot lists nodes in the scheduler's node order (Go's
//! map order upstream); pods placed on hypothetical nodes take no GPU
//! indexes (a GPU-sharing filter sees the node's GPUs as they were); the
//! local-storage rule has nothing to look at (kubesim pods have no
//! volumes); the `--max-nodegroup-binpacking-duration` wall-clock limit is
//! not modelled (only the node-count limits).

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

use crate::engine::SimTime;
use crate::model::node::LABEL_HOSTNAME;
use crate::model::{Labels, Node, NodeId, Pod, PodId};
use crate::scheduler::config::SchedulerConfig;
use crate::scheduler::framework::{ClusterView, CycleState};
use crate::scheduler::plugins::default_preemption::PodDisruptionBudget;
use crate::scheduler::profile::Profile;

/// Upstream `--max-nodes-per-scaleup`.
pub const MAX_NODES_PER_SCALE_UP: u32 = 1000;

/// The annotation that marks a pod safe (`"true"`) or not safe (`"false"`)
/// to evict for a scale-down (upstream `utils/drain`).
pub const SAFE_TO_EVICT: &str = "cluster-autoscaler.kubernetes.io/safe-to-evict";

/// A copy of the cluster the simulation may change: every node of the
/// World (same [`NodeId`]s) plus hypothetical ones appended, and the
/// World's pods (read only; placing a pod only updates node accounting).
#[derive(Clone)]
pub struct Snapshot<'a> {
    pub nodes: Vec<Node>,
    pods: &'a [Pod],
    namespaces: &'a BTreeMap<String, Labels>,
    image_nodes: &'a BTreeMap<String, u32>,
    order: Vec<NodeId>,
    aff: BTreeSet<NodeId>,
    anti: BTreeSet<NodeId>,
    nominated: BTreeMap<NodeId, Vec<PodId>>,
    pdbs: &'a [PodDisruptionBudget],
    now: SimTime,
    /// Pods the simulation moves, as they are checked: without
    /// `spec.nodeName` and `status.node` (upstream clears them too).
    moved: BTreeMap<PodId, Pod>,
}

impl<'a> Snapshot<'a> {
    /// The cluster as `view` shows it.
    pub fn new(view: &ClusterView<'a>) -> Snapshot<'a> {
        Snapshot {
            nodes: view.nodes.to_vec(),
            pods: view.pods,
            namespaces: view.namespaces,
            image_nodes: view.image_nodes,
            order: view.node_order.to_vec(),
            aff: view.nodes_with_affinity.clone(),
            anti: view.nodes_with_required_anti_affinity.clone(),
            nominated: BTreeMap::new(),
            pdbs: view.pdbs,
            now: view.now,
            moved: BTreeMap::new(),
        }
    }

    /// The view the plugins see (no incremental state: they rebuild).
    pub fn view(&self) -> ClusterView<'_> {
        ClusterView {
            nodes: &self.nodes,
            pods: self.pods,
            namespaces: self.namespaces,
            image_nodes: self.image_nodes,
            node_order: &self.order,
            nominated: &self.nominated,
            waiting: &[],
            nodes_with_affinity: &self.aff,
            nodes_with_required_anti_affinity: &self.anti,
            pod_changes: None,
            now: self.now,
            pdbs: self.pdbs,
        }
    }

    /// The pod as the simulation sees it.
    pub fn pod(&self, id: PodId) -> &Pod {
        self.moved
            .get(&id)
            .unwrap_or_else(|| &self.pods[id.0 as usize])
    }

    /// Unbinds `pod` for the simulation (it is to be placed elsewhere).
    pub fn unbind(&mut self, id: PodId) {
        let mut p = self.pods[id.0 as usize].clone();
        p.spec.node_name = None;
        p.status.node = None;
        self.moved.insert(id, p);
    }

    /// Nodes in the snapshot, in order.
    pub fn node_ids(&self) -> &[NodeId] {
        &self.order
    }

    /// Adds a fresh copy of `template` named `name` (its hostname label
    /// too, as upstream's `FreshNodeInfoFromTemplateNodeInfo`).
    pub fn add_node(&mut self, template: &Node, name: &str) -> NodeId {
        let mut n = template.clone();
        n.meta.name = name.to_string();
        n.meta
            .labels
            .insert(LABEL_HOSTNAME.to_string(), name.to_string());
        n.present = true;
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(n);
        self.order.push(id);
        id
    }

    /// Takes `node` out (its pods stop counting).
    pub fn remove_node(&mut self, node: NodeId) {
        if let Some(n) = self.nodes.get_mut(node.0 as usize) {
            n.present = false;
        }
        self.order.retain(|x| *x != node);
        self.aff.remove(&node);
        self.anti.remove(&node);
    }

    fn refresh(&mut self, node: NodeId) {
        let n = &self.nodes[node.0 as usize];
        if n.present && !n.pods_with_affinity.is_empty() {
            self.aff.insert(node);
        } else {
            self.aff.remove(&node);
        }
        if n.present && !n.pods_with_required_anti_affinity.is_empty() {
            self.anti.insert(node);
        } else {
            self.anti.remove(&node);
        }
    }

    /// Places `pod` on `node` (accounting only).
    pub fn add_pod(&mut self, pod: PodId, node: NodeId) {
        let p = self
            .moved
            .get(&pod)
            .unwrap_or_else(|| &self.pods[pod.0 as usize]);
        if let Some(n) = self.nodes.get_mut(node.0 as usize) {
            n.add_pod(pod, p);
            self.refresh(node);
        }
    }

    /// Takes `pod` off `node`.
    pub fn remove_pod(&mut self, pod: PodId, node: NodeId) {
        let p = self
            .moved
            .get(&pod)
            .unwrap_or_else(|| &self.pods[pod.0 as usize]);
        if let Some(n) = self.nodes.get_mut(node.0 as usize) {
            n.remove_pod(pod, p);
            self.refresh(node);
        }
    }
}

/// Runs a pod's scheduler profile PreFilter and Filter plugins against a
/// snapshot (upstream `SchedulerBasedPredicateChecker`).
pub struct PredicateChecker {
    profiles: Vec<Profile>,
    /// `FitsAnyNodeMatching` starts where the last search ended.
    last_index: Cell<usize>,
}

impl PredicateChecker {
    /// The profiles of the scenario's scheduler configuration.
    pub fn new(cfg: &SchedulerConfig) -> Result<PredicateChecker, String> {
        let profiles = cfg
            .profiles
            .iter()
            .map(Profile::new)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PredicateChecker {
            profiles,
            last_index: Cell::new(0),
        })
    }

    /// The pod's profile by `schedulerName`, else the first one.
    fn profile(&self, pod: &Pod) -> Option<&Profile> {
        self.profiles
            .iter()
            .find(|p| p.name == pod.spec.scheduler_name)
            .or(self.profiles.first())
    }

    /// PreFilter: the cycle state and the node set it restricts to, or
    /// `None` when it rejects the pod everywhere.
    fn pre_filter(
        &self,
        prof: &Profile,
        snap: &Snapshot,
        pod: &Pod,
    ) -> Option<(CycleState, Option<Vec<NodeId>>)> {
        let mut state = CycleState::default();
        let (restrict, st, _) = prof.run_pre_filter(&mut state, pod, &snap.view());
        st.is_success().then_some((state, restrict))
    }

    /// Upstream `CheckPredicates`: whether `pod` passes every Filter on
    /// `node` of the snapshot.
    pub fn check(&self, snap: &Snapshot, pod: PodId, node: NodeId) -> bool {
        let p = snap.pod(pod);
        let Some(prof) = self.profile(p) else {
            return false;
        };
        let Some((state, restrict)) = self.pre_filter(prof, snap, p) else {
            return false;
        };
        if restrict.as_ref().is_some_and(|r| !r.contains(&node)) {
            return false;
        }
        let Some(n) = snap.nodes.get(node.0 as usize) else {
            return false;
        };
        n.present
            && prof
                .run_filter_plugins(&state, p, n, &snap.view())
                .is_success()
    }

    /// Upstream `FitsAnyNodeMatching`: the first node (from where the last
    /// search ended, round robin) accepted by `matching` on which `pod`
    /// passes the filters.
    pub fn fits_any(
        &self,
        snap: &Snapshot,
        pod: PodId,
        matching: impl Fn(NodeId) -> bool,
    ) -> Option<NodeId> {
        let p = snap.pod(pod);
        let prof = self.profile(p)?;
        let (state, restrict) = self.pre_filter(prof, snap, p)?;
        let view = snap.view();
        let active = prof.active_filters(&state);
        let order = snap.node_ids();
        let len = order.len();
        if len == 0 {
            return None;
        }
        let start = self.last_index.get() % len;
        for i in 0..len {
            let id = order[(start + i) % len];
            if !matching(id) || restrict.as_ref().is_some_and(|r| !r.contains(&id)) {
                continue;
            }
            let n = &snap.nodes[id.0 as usize];
            if prof
                .run_filters_in(&active, &state, p, n, &view)
                .is_success()
            {
                self.last_index.set((start + i + 1) % len);
                return Some(id);
            }
        }
        None
    }
}

/// Upstream `FilterOutSchedulable`: places the pending pods (most
/// important first: priority, then as listed) that fit on the snapshot's
/// nodes there, and returns the others in their original order.
pub fn filter_out_schedulable(
    checker: &PredicateChecker,
    snap: &mut Snapshot,
    pending: &[PodId],
) -> Vec<PodId> {
    let mut order: Vec<usize> = (0..pending.len()).collect();
    order.sort_by_key(|&i| (-(snap.pod(pending[i]).spec.priority as i64), i));
    let mut left = Vec::new();
    for i in order {
        let pod = pending[i];
        match checker.fits_any(snap, pod, |_| true) {
            Some(n) => snap.add_pod(pod, n),
            None => left.push(i),
        }
    }
    left.sort_unstable();
    left.into_iter().map(|i| pending[i]).collect()
}

/// Pods that are interchangeable for the estimate (upstream
/// `PodEquivalenceGroup`: same controller and same spec; here same
/// controller, labels and requests; pods without a controller alone).
fn equivalence_groups(snap: &Snapshot, pods: &[PodId]) -> Vec<Vec<PodId>> {
    let mut groups: Vec<Vec<PodId>> = Vec::new();
    for &id in pods {
        let p = snap.pod(id);
        let same = |q: &Pod| {
            let owner = match (p.meta.controller_ref(), q.meta.controller_ref()) {
                (Some(a), Some(b)) => a.uid == b.uid && a.name == b.name && a.kind == b.kind,
                _ => false,
            };
            owner
                && p.meta.labels == q.meta.labels
                && p.requests == q.requests
                && p.spec.scheduler_name == q.spec.scheduler_name
        };
        match groups.iter_mut().find(|g| same(snap.pod(g[0]))) {
            Some(g) => g.push(id),
            None => groups.push(vec![id]),
        }
    }
    groups
}

/// `DecreasingPodOrderer`'s score: the pod's CPU and memory requests as
/// fractions of the template's allocatable, summed (in millionths).
fn pod_score(pod: &Pod, template: &Node) -> i128 {
    let f = |req: i64, alloc: i64| {
        if alloc > 0 {
            req as i128 * 1_000_000 / alloc as i128
        } else {
            0
        }
    };
    f(pod.requests.cpu_m, template.allocatable.cpu_m)
        + f(pod.requests.memory, template.allocatable.memory)
}

/// The estimate for one node group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Estimate {
    /// New nodes with pods on them.
    pub nodes: u32,
    /// The pods the new nodes would take.
    pub pods: Vec<PodId>,
}

/// Upstream `BinpackingNodeEstimator.Estimate`: equivalence groups in
/// decreasing order of their pods' size relative to the template; each
/// group's pods first on the new nodes already opened (until one does not
/// fit), the rest on the last opened node or on a new one, at most `limit`
/// new nodes; a pod that does not fit on a fresh empty node ends the
/// group. Works on a copy of `snap`.
pub fn estimate(
    checker: &PredicateChecker,
    snap: &Snapshot,
    template: &Node,
    prefix: &str,
    limit: u32,
    pending: &[PodId],
) -> Estimate {
    let mut snap = snap.clone();
    let mut groups = equivalence_groups(&snap, pending);
    // Stable: groups of equal score keep their order.
    groups.sort_by_key(|g| -pod_score(snap.pod(g[0]), template));
    let mut new_nodes: Vec<NodeId> = Vec::new();
    let mut with_pods: BTreeSet<NodeId> = BTreeSet::new();
    let mut last: Option<NodeId> = None;
    let mut scheduled = Vec::new();
    for g in groups {
        // tryToScheduleOnExistingNodes
        let mut k = 0;
        while k < g.len() {
            let news: BTreeSet<NodeId> = new_nodes.iter().copied().collect();
            match checker.fits_any(&snap, g[k], |n| news.contains(&n)) {
                Some(n) => {
                    snap.add_pod(g[k], n);
                    with_pods.insert(n);
                    scheduled.push(g[k]);
                    k += 1;
                }
                None => break,
            }
        }
        // tryToScheduleOnNewNodes
        for &pod in &g[k..] {
            if let Some(l) = last {
                if checker.check(&snap, pod, l) {
                    snap.add_pod(pod, l);
                    with_pods.insert(l);
                    scheduled.push(pod);
                    continue;
                }
                if !with_pods.contains(&l) {
                    break;
                }
            }
            if new_nodes.len() as u32 >= limit.min(MAX_NODES_PER_SCALE_UP) {
                break;
            }
            let id = snap.add_node(template, &format!("{prefix}-e-{}", new_nodes.len()));
            new_nodes.push(id);
            last = Some(id);
            if !checker.check(&snap, pod, id) {
                break;
            }
            snap.add_pod(pod, id);
            with_pods.insert(id);
            scheduled.push(pod);
        }
    }
    Estimate {
        nodes: with_pods.len() as u32,
        pods: scheduled,
    }
}

/// What the drainability rules say of one pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drainability {
    /// It must be rescheduled elsewhere.
    Move,
    /// It goes with the node (DaemonSet, mirror, terminal, terminating).
    Skip,
    /// It blocks the node's removal, with upstream's reason.
    Block(&'static str),
}

fn matching_pdbs<'p>(
    pod: &Pod,
    pdbs: &'p [PodDisruptionBudget],
) -> Vec<(usize, &'p PodDisruptionBudget)> {
    pdbs.iter()
        .enumerate()
        .filter(|(_, b)| {
            b.namespace == pod.meta.namespace
                && b.selector
                    .as_ref()
                    .and_then(|s| s.to_selector().ok())
                    .is_some_and(|s| s.matches(&pod.meta.labels))
        })
        .collect()
}

/// Upstream's default drainability rules in their order
/// (`simulator/drainability/rules/rules.go`): mirror, long-terminating and
/// DaemonSet pods are skipped; `safe-to-evict: "true"` overrides every
/// blocking rule; terminal pods are skipped; then a pod without a
/// controller (`replicated`), a kube-system pod without a PDB (`system`,
/// `--skip-nodes-with-system-pods=true`), `safe-to-evict: "false"`
/// (`notsafetoevict`) and a pod whose PDB allows no disruption (`pdb`)
/// block. `pdbs` carries the remaining disruptions allowed.
pub fn drainability(pod: &Pod, pdbs: &[PodDisruptionBudget]) -> Drainability {
    if pod
        .meta
        .annotations
        .contains_key("kubernetes.io/config.mirror")
        || pod.is_terminating()
    {
        return Drainability::Skip;
    }
    if pod
        .meta
        .controller_ref()
        .is_some_and(|o| o.kind == "DaemonSet")
    {
        return Drainability::Skip;
    }
    if pod.meta.annotations.get(SAFE_TO_EVICT).map(String::as_str) == Some("true") {
        return Drainability::Move;
    }
    if pod.phase().is_terminal() {
        return Drainability::Skip;
    }
    if pod.meta.controller_ref().is_none() {
        return Drainability::Block("NotReplicated");
    }
    let pdb = matching_pdbs(pod, pdbs);
    if pod.meta.namespace == "kube-system" && pdb.is_empty() {
        return Drainability::Block("UnmovableKubeSystemPod");
    }
    if pod.meta.annotations.get(SAFE_TO_EVICT).map(String::as_str) == Some("false") {
        return Drainability::Block("NotSafeToEvictAnnotation");
    }
    if pdb
        .iter()
        .any(|(_, b)| !b.disrupted_pods.contains(&pod.meta.name) && b.disruptions_allowed < 1)
    {
        return Drainability::Block("NotEnoughPdb");
    }
    Drainability::Move
}

/// Upstream `FindNodesToRemove` over `candidates` in order: a candidate
/// goes when no pod on it is blocked and every pod to move passes the
/// filters on another node of the snapshot (not a candidate already
/// chosen, not `exclude`); the pods moved and PDB disruptions used stay in
/// the snapshot for the next candidate. Returns the removable nodes.
pub fn find_nodes_to_remove(
    checker: &PredicateChecker,
    snap: &mut Snapshot,
    candidates: &[NodeId],
    exclude: &BTreeSet<NodeId>,
) -> Vec<NodeId> {
    let mut pdbs: Vec<PodDisruptionBudget> = snap.pdbs.to_vec();
    let mut removed: BTreeSet<NodeId> = BTreeSet::new();
    for &c in candidates {
        let Some(node) = snap.nodes.get(c.0 as usize) else {
            continue;
        };
        let pods: Vec<PodId> = node.pods.iter().copied().collect();
        let mut to_move = Vec::new();
        let mut blocked = false;
        for &p in &pods {
            match drainability(snap.pod(p), &pdbs) {
                Drainability::Move => to_move.push(p),
                Drainability::Skip => {}
                Drainability::Block(_) => {
                    blocked = true;
                    break;
                }
            }
        }
        // The PDBs must allow all the drain's evictions together
        // (upstream `RemainingPdbTracker.CanRemovePods`).
        let mut budget: Vec<i32> = pdbs.iter().map(|b| b.disruptions_allowed).collect();
        for &p in &to_move {
            let pod = snap.pod(p);
            for (i, b) in matching_pdbs(pod, &pdbs) {
                if !b.disrupted_pods.contains(&pod.meta.name) {
                    budget[i] -= 1;
                    blocked |= budget[i] < 0;
                }
            }
        }
        if blocked {
            continue;
        }
        let mut trial = snap.clone();
        let mut ok = true;
        for &p in &pods {
            trial.remove_pod(p, c);
        }
        trial.remove_node(c);
        for &p in &to_move {
            trial.unbind(p);
        }
        for &p in &to_move {
            match checker.fits_any(&trial, p, |n| {
                n != c && !removed.contains(&n) && !exclude.contains(&n)
            }) {
                Some(n) => trial.add_pod(p, n),
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            continue;
        }
        for (b, left) in pdbs.iter_mut().zip(budget) {
            b.disruptions_allowed = left;
        }
        removed.insert(c);
        *snap = trial;
    }
    candidates
        .iter()
        .copied()
        .filter(|c| removed.contains(c))
        .collect()
}

/// Hand-built clusters for the unit tests here and in `cluster`.
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;
    use crate::model::meta::{ObjectMeta, OwnerReference};
    use crate::model::pod::{Container, PodBehavior, PodSpec};
    use crate::model::resources::Resources;

    pub fn node(name: &str, cpu: i64, mem: i64) -> Node {
        let r = Resources {
            cpu_m: cpu,
            memory: mem,
            pods: 110,
            ..Default::default()
        };
        let mut labels = Labels::new();
        labels.insert(LABEL_HOSTNAME.to_string(), name.to_string());
        Node::new(
            ObjectMeta {
                name: name.into(),
                labels,
                ..Default::default()
            },
            r.clone(),
            r,
        )
    }

    /// A pod; `owner` is the controller's kind ("" for none).
    pub fn pod(name: &str, cpu: i64, mem: i64, owner: &str) -> Pod {
        let spec = PodSpec {
            containers: vec![Container {
                requests: Resources::new(cpu, mem),
                ..Default::default()
            }],
            scheduler_name: "default-scheduler".into(),
            ..Default::default()
        };
        let mut meta = ObjectMeta {
            name: name.into(),
            namespace: "default".into(),
            ..Default::default()
        };
        meta.labels.insert("app".into(), "a".into());
        if !owner.is_empty() {
            meta.owner_references.push(OwnerReference {
                api_version: "apps/v1".into(),
                kind: owner.into(),
                name: "o".into(),
                uid: "u".into(),
                controller: true,
                block_owner_deletion: true,
            });
        }
        Pod::new(meta, spec, PodBehavior::default())
    }

    /// A cluster of `nodes` and `pods`, with `bound[i]` the node of pod i.
    pub struct Cluster {
        pub nodes: Vec<Node>,
        pub pods: Vec<Pod>,
        pub pdbs: Vec<PodDisruptionBudget>,
        namespaces: BTreeMap<String, Labels>,
        images: BTreeMap<String, u32>,
        order: Vec<NodeId>,
        aff: (BTreeSet<NodeId>, BTreeSet<NodeId>),
        nominated: BTreeMap<NodeId, Vec<PodId>>,
    }

    impl Cluster {
        pub fn new(mut nodes: Vec<Node>, mut pods: Vec<Pod>, bound: &[Option<usize>]) -> Cluster {
            for (i, b) in bound.iter().enumerate() {
                if let Some(n) = b {
                    pods[i].spec.node_name = Some(nodes[*n].meta.name.clone());
                    pods[i].status.node = Some(NodeId(*n as u32));
                    nodes[*n].add_pod(PodId(i as u32), &pods[i]);
                }
            }
            let order = (0..nodes.len()).map(|i| NodeId(i as u32)).collect();
            let aff = crate::scheduler::framework::affinity_node_sets(&nodes);
            let mut namespaces = BTreeMap::new();
            namespaces.insert("default".to_string(), Labels::new());
            Cluster {
                nodes,
                pods,
                pdbs: Vec::new(),
                namespaces,
                images: BTreeMap::new(),
                order,
                aff,
                nominated: BTreeMap::new(),
            }
        }

        pub fn view(&self) -> ClusterView<'_> {
            ClusterView {
                nodes: &self.nodes,
                pods: &self.pods,
                namespaces: &self.namespaces,
                image_nodes: &self.images,
                node_order: &self.order,
                nominated: &self.nominated,
                waiting: &[],
                nodes_with_affinity: &self.aff.0,
                nodes_with_required_anti_affinity: &self.aff.1,
                pod_changes: None,
                now: SimTime(0),
                pdbs: &self.pdbs,
            }
        }
    }

    pub fn checker() -> PredicateChecker {
        PredicateChecker::new(&SchedulerConfig::default()).expect("default profile")
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::*;
    use super::*;
    use crate::model::affinity::PodAffinityTerm;

    fn ids(n: u32) -> Vec<PodId> {
        (0..n).map(PodId).collect()
    }

    #[test]
    fn binpacking_estimate_first_fit_decreasing() {
        // Five pending 1.5-core pods: two per 4-core node, 3 nodes.
        let pods: Vec<Pod> = (0..5)
            .map(|i| pod(&format!("p{i}"), 1500, 1 << 30, "Job"))
            .collect();
        let c = Cluster::new(vec![], pods, &[]);
        let snap = Snapshot::new(&c.view());
        let t = node("t", 4000, 16 << 30);
        let e = estimate(&checker(), &snap, &t, "g", 10, &ids(5));
        assert_eq!((e.nodes, e.pods.len()), (3, 5));
        // A limit of 2 nodes: 4 pods.
        let e = estimate(&checker(), &snap, &t, "g", 2, &ids(5));
        assert_eq!((e.nodes, e.pods.len()), (2, 4));
        // Larger pods go first: a 3-core pod and three 1-core pods fit on
        // one 4-core node each only if the big one is placed first.
        let mut pods = vec![pod("s0", 1000, 0, "Job"), pod("s1", 1000, 0, "Job")];
        pods.push(pod("big", 3000, 0, "ReplicaSet"));
        pods.push(pod("s2", 1000, 0, "Job"));
        let c = Cluster::new(vec![], pods, &[]);
        let snap = Snapshot::new(&c.view());
        let e = estimate(&checker(), &snap, &t, "g", 10, &ids(4));
        assert_eq!((e.nodes, e.pods.len()), (2, 4));
        assert_eq!(e.pods[0], PodId(2), "the big pod is placed first");
        // A pod larger than the template: no node.
        let c = Cluster::new(vec![], vec![pod("x", 5000, 0, "Job")], &[]);
        let snap = Snapshot::new(&c.view());
        assert_eq!(estimate(&checker(), &snap, &t, "g", 10, &ids(1)).nodes, 0);
    }

    #[test]
    fn estimate_runs_the_inter_pod_anti_affinity_filter() {
        // Required anti-affinity to its own app on the hostname: one pod
        // per node, where resources alone would pack four on one node.
        let mut pods: Vec<Pod> = (0..4)
            .map(|i| pod(&format!("p{i}"), 500, 0, "ReplicaSet"))
            .collect();
        for p in &mut pods {
            p.spec.pod_anti_affinity = Some(crate::model::affinity::PodAffinity {
                required: vec![PodAffinityTerm {
                    label_selector: Some(crate::model::Selector::from_set(&p.meta.labels)),
                    namespaces: vec![],
                    namespace_selector: None,
                    topology_key: LABEL_HOSTNAME.into(),
                }],
                preferred: vec![],
            });
        }
        let c = Cluster::new(vec![], pods, &[]);
        let snap = Snapshot::new(&c.view());
        let t = node("t", 4000, 16 << 30);
        let e = estimate(&checker(), &snap, &t, "g", 10, &ids(4));
        assert_eq!((e.nodes, e.pods.len()), (4, 4));
        let e = estimate(&checker(), &snap, &t, "g", 3, &ids(4));
        assert_eq!((e.nodes, e.pods.len()), (3, 3));
    }

    #[test]
    fn filter_out_schedulable_uses_free_room_then_leaves_the_rest() {
        let pods = vec![
            pod("p0", 1000, 0, "Job"),
            pod("p1", 3000, 0, "Job"),
            pod("p2", 3000, 0, "Job"),
        ];
        let c = Cluster::new(vec![node("n0", 4000, 1 << 30)], pods, &[]);
        let mut snap = Snapshot::new(&c.view());
        let left = filter_out_schedulable(&checker(), &mut snap, &ids(3));
        assert_eq!(left, vec![PodId(2)]);
        assert_eq!(snap.nodes[0].requested.cpu_m, 4000);
    }

    #[test]
    fn drainability_rules_in_upstream_order() {
        let pdbs: Vec<PodDisruptionBudget> = vec![];
        assert_eq!(
            drainability(&pod("a", 1, 0, "ReplicaSet"), &pdbs),
            Drainability::Move
        );
        assert_eq!(
            drainability(&pod("a", 1, 0, ""), &pdbs),
            Drainability::Block("NotReplicated")
        );
        assert_eq!(
            drainability(&pod("a", 1, 0, "DaemonSet"), &pdbs),
            Drainability::Skip
        );
        let mut sys = pod("a", 1, 0, "ReplicaSet");
        sys.meta.namespace = "kube-system".into();
        assert_eq!(
            drainability(&sys, &pdbs),
            Drainability::Block("UnmovableKubeSystemPod")
        );
        let mut no = pod("a", 1, 0, "ReplicaSet");
        no.meta
            .annotations
            .insert(SAFE_TO_EVICT.into(), "false".into());
        assert_eq!(
            drainability(&no, &pdbs),
            Drainability::Block("NotSafeToEvictAnnotation")
        );
        // safe-to-evict: "true" overrides every blocking rule.
        let mut yes = pod("a", 1, 0, "");
        yes.meta.namespace = "kube-system".into();
        yes.meta
            .annotations
            .insert(SAFE_TO_EVICT.into(), "true".into());
        assert_eq!(drainability(&yes, &pdbs), Drainability::Move);
        // A kube-system pod with a PDB that allows a disruption moves; with
        // none left it blocks.
        let sel = crate::model::selector::LabelSelector {
            match_labels: [("app".to_string(), "a".to_string())].into(),
            ..Default::default()
        };
        let mut pdb = PodDisruptionBudget {
            namespace: "kube-system".into(),
            selector: Some(sel),
            disruptions_allowed: 1,
            disrupted_pods: Default::default(),
        };
        assert_eq!(
            drainability(&sys, std::slice::from_ref(&pdb)),
            Drainability::Move
        );
        pdb.disruptions_allowed = 0;
        assert_eq!(
            drainability(&sys, &[pdb]),
            Drainability::Block("NotEnoughPdb")
        );
    }

    #[test]
    fn removal_simulation_moves_pods_cumulatively_and_respects_pdbs() {
        // Three 4-core nodes each with one 1-core pod: two can go (their
        // pods move onto the third), not all three.
        let nodes = vec![
            node("a", 4000, 1 << 30),
            node("b", 4000, 1 << 30),
            node("c", 4000, 1 << 30),
        ];
        let pods = vec![
            pod("p0", 1000, 0, "ReplicaSet"),
            pod("p1", 1000, 0, "ReplicaSet"),
            pod("p2", 1000, 0, "ReplicaSet"),
        ];
        let mut c = Cluster::new(nodes, pods, &[Some(0), Some(1), Some(2)]);
        let all = [NodeId(0), NodeId(1), NodeId(2)];
        let mut snap = Snapshot::new(&c.view());
        let rm = find_nodes_to_remove(&checker(), &mut snap, &all, &BTreeSet::new());
        assert_eq!(rm, vec![NodeId(0), NodeId(1)]);
        // A PDB allowing one disruption: only one node's pod may go.
        c.pdbs.push(PodDisruptionBudget {
            namespace: "default".into(),
            selector: Some(crate::model::selector::LabelSelector::default()),
            disruptions_allowed: 1,
            disrupted_pods: Default::default(),
        });
        let mut snap = Snapshot::new(&c.view());
        let rm = find_nodes_to_remove(&checker(), &mut snap, &all, &BTreeSet::new());
        assert_eq!(rm, vec![NodeId(0)]);
        // A pod without a controller pins its node.
        let mut c = Cluster::new(
            vec![node("a", 4000, 1 << 30), node("b", 4000, 1 << 30)],
            vec![pod("bare", 1000, 0, ""), pod("p", 1000, 0, "ReplicaSet")],
            &[Some(0), Some(1)],
        );
        c.pdbs.clear();
        let mut snap = Snapshot::new(&c.view());
        let rm = find_nodes_to_remove(
            &checker(),
            &mut snap,
            &[NodeId(0), NodeId(1)],
            &BTreeSet::new(),
        );
        assert_eq!(rm, vec![NodeId(1)]);
    }
}

#[cfg(test)]
mod props {
    use super::fixture::*;
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The estimate never exceeds its node limit, places each pod at
        /// most once, never overfills a node, and places every pod when
        /// the limit allows one node per pod.
        #[test]
        fn estimate_bounds(cpus in prop::collection::vec(100i64..=4000, 1..16), limit in 0u32..8) {
            let pods: Vec<Pod> = cpus
                .iter()
                .enumerate()
                .map(|(i, c)| pod(&format!("p{i}"), *c, 0, "Job"))
                .collect();
            let c = Cluster::new(vec![], pods, &[]);
            let snap = Snapshot::new(&c.view());
            let ids: Vec<PodId> = (0..cpus.len() as u32).map(PodId).collect();
            let e = estimate(&checker(), &snap, &node("t", 4000, 1 << 30), "g", limit, &ids);
            prop_assert!(e.nodes <= limit);
            let uniq: BTreeSet<PodId> = e.pods.iter().copied().collect();
            prop_assert_eq!(uniq.len(), e.pods.len());
            let placed: i64 = e.pods.iter().map(|p| cpus[p.0 as usize]).sum();
            prop_assert!(placed <= e.nodes as i64 * 4000);
            if limit as usize >= cpus.len() {
                prop_assert_eq!(e.pods.len(), cpus.len());
            }
        }

        /// Removable nodes are candidates, and after removal the pods they
        /// held fit on the nodes left (capacity is never exceeded).
        #[test]
        fn removal_keeps_capacity(cpus in prop::collection::vec(0i64..=3000, 1..8)) {
            let n = cpus.len();
            let nodes: Vec<Node> = (0..n).map(|i| node(&format!("n{i}"), 4000, 1 << 30)).collect();
            let pods: Vec<Pod> = cpus
                .iter()
                .enumerate()
                .map(|(i, c)| pod(&format!("p{i}"), *c, 0, "ReplicaSet"))
                .collect();
            let bound: Vec<Option<usize>> = (0..n).map(Some).collect();
            let c = Cluster::new(nodes, pods, &bound);
            let all: Vec<NodeId> = (0..n as u32).map(NodeId).collect();
            let mut snap = Snapshot::new(&c.view());
            let rm = find_nodes_to_remove(&checker(), &mut snap, &all, &BTreeSet::new());
            prop_assert!(rm.len() < n, "the last node always stays");
            let kept: i64 = snap
                .node_ids()
                .iter()
                .map(|id| snap.nodes[id.0 as usize].requested.cpu_m)
                .sum();
            prop_assert_eq!(kept, cpus.iter().sum::<i64>());
            for id in snap.node_ids() {
                prop_assert!(snap.nodes[id.0 as usize].requested.cpu_m <= 4000);
            }
        }
    }
}
