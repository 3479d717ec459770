//! The World's side of the workload controllers: the object store and the
//! de-duplicating work queue (`Event::Reconcile`), the [`Api`] controllers
//! act through, the hook that turns pod changes into syncs, the timeline's
//! workload actions (scale, setImage, rollback, pause, resume, delete with
//! a propagation policy), the eviction API with PodDisruptionBudgets (used
//! by `drain` and preemption), and the `workloads.csv` samples.

use std::collections::BTreeMap;

use super::{Event, World};
use crate::controllers::{
    controller_for, gc, Api, Propagation, Workload, WorkloadBody, WorkloadId, WorkloadKind,
    WorkloadRow, WorkloadStore,
};
use crate::engine::{Duration, SimTime, TimerId};
use crate::model::meta::OwnerReference;
use crate::model::{Node, NodeId, Pod, PodId};
use crate::scenario::{ObjectRef, WorkloadAction};

/// One row of `services.csv` (docs/output.md).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceRow {
    pub t_us: u64,
    pub namespace: String,
    pub name: String,
    /// Endpoints with `ready: true`.
    pub endpoints_ready: u32,
    /// Traffic columns: 0 until the traffic model exists.
    pub offered_milli_rps: u64,
    pub served: u64,
    pub failed: u64,
    pub latency_p50_us: u64,
    pub latency_p90_us: u64,
    pub latency_p99_us: u64,
    /// Requests that arrived in the interval.
    pub arrivals: u64,
    /// Requests in flight at the sample.
    pub in_flight: u64,
    /// Served requests slower than the Service's latency objective.
    pub slo_violations: u64,
}

/// `kubectl drain` retries a refused eviction after this long.
pub const DRAIN_RETRY_INTERVAL: Duration = Duration::from_secs(5);

/// Workload state kept by the World.
#[derive(Default)]
pub(super) struct WorkloadState {
    pub(super) store: WorkloadStore,
    /// Keys waiting in the work queue: due time and timer.
    queued: BTreeMap<WorkloadId, (SimTime, TimerId)>,
    /// `workloads.csv` rows so far.
    pub(super) rows: Vec<WorkloadRow>,
    /// `services.csv` rows so far.
    pub(super) service_rows: Vec<ServiceRow>,
    /// Nodes being drained.
    draining: std::collections::BTreeSet<NodeId>,
    /// The PDBs as preemption reads them, refreshed after each PDB sync.
    pub(super) pdb_view: Vec<crate::scheduler::plugins::default_preemption::PodDisruptionBudget>,
    /// Live pods by controller uid, and live pods without a controller by
    /// namespace (what `ClaimPods` reads), with each pod's current entry.
    by_owner: BTreeMap<String, std::collections::BTreeSet<PodId>>,
    orphans: BTreeMap<String, std::collections::BTreeSet<PodId>>,
    pod_entry: BTreeMap<PodId, PodEntry>,
}

/// Where a pod is listed in the ownership index.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PodEntry {
    Owner(String),
    Orphan(String),
}

impl World {
    /// Enqueues a sync of `id` after the reconcile delay plus `after`; a
    /// key already waiting keeps the earlier time.
    pub(super) fn enqueue_workload(&mut self, id: WorkloadId, after: Duration) {
        let due = self.now.after(self.scenario.reconcile_delay).after(after);
        if let Some((t, timer)) = self.wl.queued.get(&id).copied() {
            if t <= due {
                return;
            }
            self.cancel(Some(timer));
        }
        let timer = self.push(due, Event::Reconcile(id));
        self.wl.queued.insert(id, (due, timer));
    }

    /// Runs the garbage collector and the controller of object `id`.
    pub(super) fn reconcile(&mut self, id: WorkloadId) {
        self.wl.queued.remove(&id);
        if id.0 as usize >= self.wl.store.all().len() {
            return;
        }
        gc::sync(self, id);
        let w = self.wl.store.get(id);
        if w.removed {
            return;
        }
        if let Some(c) = controller_for(w.kind()) {
            c.sync(self, id);
        }
        if w_kind(self, id) == WorkloadKind::PodDisruptionBudget {
            self.refresh_pdb_view();
        }
    }

    /// A pod was created, changed phase, started terminating or left the
    /// API: enqueue its owners (and their controllers), the selectors that
    /// may adopt an orphan, and the PDBs selecting it.
    pub(super) fn workloads_pod_changed(&mut self, id: PodId) {
        self.reindex_pod(id);
        if self.wl.store.is_empty() {
            return;
        }
        let pod = &self.pods[id.0 as usize];
        let ns = pod.meta.namespace.clone();
        let mut targets = Vec::new();
        for o in &pod.meta.owner_references {
            if let Some(w) = self.wl.store.resolve(&ns, o) {
                targets.push(w);
                if let Some(c) = self.wl.store.get(w).meta.controller_ref() {
                    if let Some(cw) = self.wl.store.resolve(&ns, c) {
                        targets.push(cw);
                    }
                }
            }
        }
        let orphan = pod.meta.controller_ref().is_none();
        for k in WorkloadKind::ALL {
            if k == WorkloadKind::Deployment {
                continue;
            }
            for w in self.wl.store.of_kind_in(k, &ns) {
                let obj = self.wl.store.get(w);
                let hit = match &obj.body {
                    WorkloadBody::PodDisruptionBudget(p) => p
                        .selector
                        .as_ref()
                        .and_then(|s| s.to_selector().ok())
                        .is_some_and(|s| s.matches(&pod.meta.labels)),
                    // Services select by labels, not ownership.
                    WorkloadBody::Service(s) => crate::controllers::endpointslice::selects(s, pod),
                    _ => {
                        orphan
                            && obj
                                .pod_selector()
                                .is_some_and(|s| s.matches(&pod.meta.labels))
                    }
                };
                if hit {
                    targets.push(w);
                }
            }
        }
        targets.sort();
        targets.dedup();
        for t in targets {
            self.enqueue_workload(t, Duration::ZERO);
        }
    }

    /// Namespace deletion removes its workload objects (their pods are
    /// deleted with the namespace).
    pub(super) fn delete_namespace_workloads(&mut self, ns: &str) {
        let ids: Vec<WorkloadId> = self
            .wl
            .store
            .live()
            .filter(|id| self.wl.store.get(*id).meta.namespace == ns)
            .collect();
        for id in ids {
            self.remove_workload_now(id);
        }
    }

    /// The node lifecycle controller's `MarkPodsNotReady`: a pod on a node
    /// that stopped reporting is no longer Ready.
    pub(super) fn mark_pod_not_ready(&mut self, p: PodId) {
        self.not_ready(p);
    }

    /// Keeps the ownership index in step with pod `id`.
    fn reindex_pod(&mut self, id: PodId) {
        let pod = &self.pods[id.0 as usize];
        let want = if !self.pod_rt[id.0 as usize].live {
            None
        } else {
            Some(match pod.meta.controller_ref() {
                Some(r) => PodEntry::Owner(r.uid.clone()),
                None => PodEntry::Orphan(pod.meta.namespace.clone()),
            })
        };
        let have = self.wl.pod_entry.get(&id).cloned();
        if have == want {
            return;
        }
        match have {
            Some(PodEntry::Owner(u)) => remove_from(&mut self.wl.by_owner, &u, id),
            Some(PodEntry::Orphan(n)) => remove_from(&mut self.wl.orphans, &n, id),
            None => {}
        }
        match &want {
            Some(PodEntry::Owner(u)) => {
                self.wl.by_owner.entry(u.clone()).or_default().insert(id);
            }
            Some(PodEntry::Orphan(n)) => {
                self.wl.orphans.entry(n.clone()).or_default().insert(id);
            }
            None => {}
        }
        match want {
            Some(e) => {
                self.wl.pod_entry.insert(id, e);
            }
            None => {
                self.wl.pod_entry.remove(&id);
            }
        }
    }

    /// Creates or updates a workload object (time zero and `apply`).
    pub(super) fn apply_workload(&mut self, mut w: Workload) {
        if !self.namespaces.contains_key(&w.meta.namespace) {
            let msg = format!(
                "{}: namespace {:?} not found",
                w.describe(),
                w.meta.namespace
            );
            self.log_event(
                "AdmissionRejected",
                None,
                None,
                Some("NamespaceNotFound"),
                Some(&msg),
            );
            return;
        }
        if let Some(id) = self
            .wl
            .store
            .lookup(w.kind(), &w.meta.namespace, &w.meta.name)
        {
            self.update_workload(id, w);
            return;
        }
        w.meta.uid = self.next_uid();
        w.meta.creation_timestamp = self.now;
        let msg = w.describe();
        let created = if w.kind() == WorkloadKind::Service {
            "ServiceCreated"
        } else {
            "WorkloadCreated"
        };
        if let Some(id) = self.wl.store.insert(w) {
            self.log_event(created, None, None, None, Some(&msg));
            self.enqueue_workload(id, Duration::ZERO);
        }
    }

    /// `apply` of an existing object: the spec is replaced (status, uid
    /// and owner references kept); a changed spec bumps the generation.
    fn update_workload(&mut self, id: WorkloadId, new: Workload) {
        let old = self.wl.store.get(id).clone();
        let desc = old.describe();
        let body = match (old.body.clone(), new.body) {
            (WorkloadBody::Deployment(o), WorkloadBody::Deployment(mut n)) => {
                if n.selector != o.selector {
                    let msg = format!("{desc}: spec.selector: field is immutable");
                    self.log_event("UpdateRejected", None, None, Some("Invalid"), Some(&msg));
                    return;
                }
                n.status = o.status;
                WorkloadBody::Deployment(n)
            }
            (WorkloadBody::ReplicaSet(o), WorkloadBody::ReplicaSet(mut n)) => {
                if n.selector != o.selector {
                    let msg = format!("{desc}: spec.selector: field is immutable");
                    self.log_event("UpdateRejected", None, None, Some("Invalid"), Some(&msg));
                    return;
                }
                n.status = o.status;
                WorkloadBody::ReplicaSet(n)
            }
            (WorkloadBody::PodDisruptionBudget(o), WorkloadBody::PodDisruptionBudget(mut n)) => {
                n.status = o.status;
                WorkloadBody::PodDisruptionBudget(n)
            }
            // A re-applied Service keeps its endpoints until its next sync.
            (WorkloadBody::Service(o), WorkloadBody::Service(mut n)) => {
                n.endpoints = o.endpoints;
                WorkloadBody::Service(n)
            }
            (o, n) if o.kind() == n.kind() => super::batch::keep_status(o, n),
            (_, b) => b,
        };
        let w = self.wl.store.get_mut(id);
        if w.body != body {
            w.body = body;
            w.generation += 1;
        }
        w.meta.labels = new.meta.labels;
        // Annotations in the manifest are applied; the ones controllers
        // keep (revision, …) stay.
        w.meta.annotations.extend(new.meta.annotations);
        self.log_event("WorkloadUpdated", None, None, None, Some(&desc));
        self.enqueue_workload(id, Duration::ZERO);
    }

    fn find_workload(&mut self, r: &ObjectRef, action: &str) -> Option<WorkloadId> {
        let found = WorkloadKind::parse(&r.kind)
            .and_then(|k| self.wl.store.lookup(k, &r.namespace, &r.name));
        if found.is_none() {
            let msg = format!("{action}: {} {}/{} not found", r.kind, r.namespace, r.name);
            self.log_event("WorkloadNotFound", None, None, Some("NotFound"), Some(&msg));
        }
        found
    }

    /// Runs a workload timeline action.
    pub(super) fn workload_action(&mut self, a: WorkloadAction) {
        match a {
            WorkloadAction::Scale { target, replicas } => {
                let Some(id) = self.find_workload(&target, "scale") else {
                    return;
                };
                let w = self.wl.store.get_mut(id);
                let changed = match &mut w.body {
                    WorkloadBody::Deployment(d) => {
                        std::mem::replace(&mut d.replicas, replicas) != replicas
                    }
                    WorkloadBody::ReplicaSet(r) => {
                        std::mem::replace(&mut r.replicas, replicas) != replicas
                    }
                    WorkloadBody::StatefulSet(s) => {
                        std::mem::replace(&mut s.replicas, replicas) != replicas
                    }
                    _ => false,
                };
                if changed {
                    w.generation += 1;
                }
                let msg = format!("{} scaled to {replicas}", w.describe());
                self.log_event("Scaled", None, None, None, Some(&msg));
                self.enqueue_workload(id, Duration::ZERO);
            }
            WorkloadAction::SetImage {
                target,
                container,
                image,
            } => {
                let Some(id) = self.find_workload(&target, "setImage") else {
                    return;
                };
                let w = self.wl.store.get_mut(id);
                let template = match &mut w.body {
                    WorkloadBody::Deployment(d) => Some(&mut d.template),
                    WorkloadBody::ReplicaSet(r) => Some(&mut r.template),
                    _ => None,
                };
                let Some(t) = template else { return };
                let mut found = false;
                for c in t
                    .spec
                    .containers
                    .iter_mut()
                    .chain(t.spec.init_containers.iter_mut())
                {
                    if c.name == container {
                        found = true;
                        if c.image != image {
                            c.image = image.clone();
                            w.generation += 1;
                        }
                    }
                }
                let desc = w.describe();
                if !found {
                    let msg = format!("{desc}: no container named {container:?}");
                    self.log_event("SetImageFailed", None, None, Some("NotFound"), Some(&msg));
                    return;
                }
                let msg = format!("{desc} container {container} image {image}");
                self.log_event("ImageSet", None, None, None, Some(&msg));
                self.enqueue_workload(id, Duration::ZERO);
            }
            WorkloadAction::Rollback {
                target,
                to_revision,
            } => {
                let Some(id) = self.find_workload(&target, "rollback") else {
                    return;
                };
                let w = self.wl.store.get_mut(id);
                if let Some(d) = w.deployment_mut() {
                    d.rollback_to = Some(to_revision);
                }
                self.enqueue_workload(id, Duration::ZERO);
            }
            WorkloadAction::Pause(target) => self.set_paused(&target, true),
            WorkloadAction::Resume(target) => self.set_paused(&target, false),
            WorkloadAction::Delete {
                target,
                propagation,
            } => {
                let Some(id) = self.find_workload(&target, "delete") else {
                    return;
                };
                self.delete_workload_with(id, propagation);
            }
        }
    }

    fn set_paused(&mut self, target: &ObjectRef, paused: bool) {
        let Some(id) = self.find_workload(target, if paused { "pause" } else { "resume" }) else {
            return;
        };
        let w = self.wl.store.get_mut(id);
        if let Some(d) = w.deployment_mut() {
            if d.paused != paused {
                d.paused = paused;
                w.generation += 1;
            }
        }
        let msg = format!(
            "{} {}",
            self.wl.store.get(id).describe(),
            if paused { "paused" } else { "resumed" }
        );
        self.log_event(
            if paused {
                "RolloutPaused"
            } else {
                "RolloutResumed"
            },
            None,
            None,
            None,
            Some(&msg),
        );
        self.enqueue_workload(id, Duration::ZERO);
    }

    /// Starts deleting a workload object (upstream's DELETE with a
    /// `propagationPolicy`), see [`controllers::gc`].
    pub(super) fn delete_workload_with(&mut self, id: WorkloadId, policy: Propagation) {
        let w = self.wl.store.get(id);
        if w.removed || w.meta.deletion_timestamp.is_some() {
            return;
        }
        let desc = w.describe();
        let policy_name = match policy {
            Propagation::Background => "Background",
            Propagation::Foreground => "Foreground",
            Propagation::Orphan => "Orphan",
        };
        let msg = format!("{desc} propagationPolicy={policy_name}");
        self.log_event("WorkloadDeleting", None, None, None, Some(&msg));
        match policy {
            Propagation::Background => self.remove_workload_now(id),
            Propagation::Foreground | Propagation::Orphan => {
                let w = self.wl.store.get_mut(id);
                w.meta.deletion_timestamp = Some(self.now);
                w.finalizers.push(
                    if policy == Propagation::Foreground {
                        gc::FINALIZER_FOREGROUND
                    } else {
                        gc::FINALIZER_ORPHAN
                    }
                    .to_string(),
                );
                self.enqueue_workload(id, Duration::ZERO);
            }
        }
    }

    /// Takes the object out of the API and lets the collector handle its
    /// dependents; its owners are told (foreground deletion waits on it).
    fn remove_workload_now(&mut self, id: WorkloadId) {
        let w = self.wl.store.get(id);
        if w.removed {
            return;
        }
        let desc = w.describe();
        let ns = w.meta.namespace.clone();
        let owners: Vec<OwnerReference> = w.meta.owner_references.clone();
        self.wl.store.remove(id);
        self.wl.store.get_mut(id).finalizers.clear();
        self.log_event("WorkloadDeleted", None, None, None, Some(&desc));
        self.enqueue_workload(id, Duration::ZERO);
        for o in owners {
            if let Some(oid) = self.wl.store.resolve(&ns, &o) {
                self.enqueue_workload(oid, Duration::ZERO);
            }
        }
        if w_kind(self, id) == WorkloadKind::PodDisruptionBudget {
            self.refresh_pdb_view();
        }
    }

    /// Adds the rows of every live workload to `workloads.csv`'s samples
    /// (replacing rows of the same instant, as samples are).
    pub(super) fn sample_workloads(&mut self, t_us: u64) {
        if self.wl.store.is_empty() {
            return;
        }
        while self.wl.rows.last().is_some_and(|r| r.t_us == t_us) {
            self.wl.rows.pop();
        }
        let mut rows: Vec<WorkloadRow> = self
            .wl
            .store
            .live()
            .filter_map(|id| {
                let w = self.wl.store.get(id);
                controller_for(w.kind()).and_then(|c| c.sample(w))
            })
            .map(|mut r| {
                r.t_us = t_us;
                r
            })
            .collect();
        rows.sort_by(|a, b| (a.kind, &a.namespace, &a.name).cmp(&(b.kind, &b.namespace, &b.name)));
        self.wl.rows.extend(rows);
        self.sample_services(t_us);
    }

    /// Adds one `services.csv` row per live Service (replacing rows of the
    /// same instant). No traffic model yet: the traffic columns are 0.
    fn sample_services(&mut self, t_us: u64) {
        while self.wl.service_rows.last().is_some_and(|r| r.t_us == t_us) {
            self.wl.service_rows.pop();
        }
        // `live()` is in (kind, namespace, name) order: rows are sorted.
        for id in self.wl.store.live() {
            let w = self.wl.store.get(id);
            if let Some(s) = w.service() {
                self.wl.service_rows.push(ServiceRow {
                    t_us,
                    namespace: w.meta.namespace.clone(),
                    name: w.meta.name.clone(),
                    endpoints_ready: s.ready_endpoints() as u32,
                    ..Default::default()
                });
            }
        }
        if !self.traffic.is_empty() {
            let from = self
                .wl
                .service_rows
                .iter()
                .rposition(|r| r.t_us != t_us)
                .map_or(0, |i| i + 1);
            let mut rows = self.wl.service_rows.split_off(from);
            for r in &mut rows {
                self.traffic_fill_row(r);
            }
            self.wl.service_rows.extend(rows);
        }
    }

    /// Rebuilds the PDB list preemption reads.
    fn refresh_pdb_view(&mut self) {
        use crate::scheduler::plugins::default_preemption::PodDisruptionBudget as View;
        let mut v = Vec::new();
        for id in self.wl.store.live() {
            let w = self.wl.store.get(id);
            if let Some(p) = w.pdb() {
                v.push(View {
                    namespace: w.meta.namespace.clone(),
                    selector: p.selector.clone(),
                    disruptions_allowed: p.status.disruptions_allowed,
                    disrupted_pods: p.status.disrupted_pods.keys().cloned().collect(),
                });
            }
        }
        self.wl.pdb_view = v;
    }

    /// `kubectl drain`'s evictions for the pods on node `nid`: every pod
    /// except DaemonSet-owned and finished ones, through the eviction API;
    /// refused ones are retried every [`DRAIN_RETRY_INTERVAL`].
    pub(super) fn drain_evict(&mut self, nid: NodeId) {
        let mut blocked = 0;
        for p in self.pods_on(nid) {
            let pod = &self.pods[p.0 as usize];
            let daemon = pod
                .meta
                .controller_ref()
                .is_some_and(|o| o.kind == "DaemonSet");
            if daemon || pod.phase().is_terminal() || pod.is_terminating() {
                continue;
            }
            if let Err(msg) = self.evict(p) {
                blocked += 1;
                self.log_event(
                    "EvictionRefused",
                    Some(p),
                    Some(nid),
                    Some("TooManyRequests"),
                    Some(&msg),
                );
            }
        }
        if blocked > 0 {
            self.wl.draining.insert(nid);
            self.push(self.now.after(DRAIN_RETRY_INTERVAL), Event::DrainRetry(nid));
        } else if self.wl.draining.remove(&nid) {
            self.log_event("NodeDrained", None, Some(nid), None, None);
        }
    }

    pub(super) fn drain_retry(&mut self, nid: NodeId) {
        if self.nodes[nid.0 as usize].present && self.wl.draining.contains(&nid) {
            self.drain_evict(nid);
        }
    }

    /// The eviction API (`pods/eviction`): refused when a
    /// PodDisruptionBudget selecting the pod allows no disruption (upstream
    /// pkg/registry/core/pod/storage/eviction.go); otherwise the PDB's
    /// budget is consumed and the pod deleted gracefully.
    pub(super) fn evict(&mut self, p: PodId) -> Result<(), String> {
        let pod = &self.pods[p.0 as usize];
        let ns = pod.meta.namespace.clone();
        let name = pod.meta.name.clone();
        // canIgnorePDB: terminal, pending or already deleting pods.
        let ignore = pod.phase().is_terminal()
            || pod.phase() == crate::model::PodPhase::Pending
            || pod.is_terminating();
        // GetPodPodDisruptionBudgets (policy/v1: an empty selector matches
        // every pod; a pod without labels has none).
        let pdbs: Vec<WorkloadId> = if pod.meta.labels.is_empty() {
            Vec::new()
        } else {
            self.wl
                .store
                .of_kind_in(WorkloadKind::PodDisruptionBudget, &ns)
                .into_iter()
                .filter(|id| {
                    self.wl.store.get(*id).pdb().is_some_and(|b| {
                        crate::model::selector::label_selector_as_selector(b.selector.as_ref())
                            .is_ok_and(|s| s.matches(&pod.meta.labels))
                    })
                })
                .collect()
        };
        if !ignore {
            if pdbs.len() > 1 {
                return Err("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.".to_string());
            }
            if let Some(&b) = pdbs.first() {
                let ready = pod.is_ready();
                let w = self.wl.store.get_mut(b);
                let generation = w.generation;
                let pdb_name = w.meta.name.clone();
                if let WorkloadBody::PodDisruptionBudget(pdb) = &mut w.body {
                    let st = &mut pdb.status;
                    let unhealthy_ok = !ready
                        && st.current_healthy >= st.desired_healthy
                        && st.desired_healthy > 0;
                    if !unhealthy_ok {
                        // checkAndDecrement.
                        if st.observed_generation < generation || st.disruptions_allowed <= 0 {
                            return Err(format!("Cannot evict pod as it would violate the pod's disruption budget. The disruption budget {pdb_name} needs {} healthy pods and has {} currently", st.desired_healthy, st.current_healthy));
                        }
                        st.disruptions_allowed -= 1;
                        st.disrupted_pods.insert(name, self.now);
                    }
                }
                self.enqueue_workload(b, Duration::ZERO);
                self.refresh_pdb_view();
            }
        }
        self.counters.evictions += 1;
        self.delete_pod(p, "Evicted");
        Ok(())
    }
}

fn remove_from(m: &mut BTreeMap<String, std::collections::BTreeSet<PodId>>, key: &str, id: PodId) {
    if let Some(set) = m.get_mut(key) {
        set.remove(&id);
        if set.is_empty() {
            m.remove(key);
        }
    }
}

fn w_kind(w: &World, id: WorkloadId) -> WorkloadKind {
    w.wl.store.get(id).kind()
}

impl Api for World {
    fn now(&self) -> SimTime {
        self.now
    }
    fn pod(&self, id: PodId) -> &Pod {
        &self.pods[id.0 as usize]
    }
    fn pods_in_namespace(&self, namespace: &str) -> Vec<PodId> {
        self.pod_index
            .range((namespace.to_string(), String::new())..)
            .take_while(|((ns, _), _)| ns == namespace)
            .map(|(_, p)| *p)
            .collect()
    }
    fn nodes(&self) -> &[Node] {
        &self.nodes
    }
    fn create_pod(&mut self, pod: Pod) -> Result<PodId, String> {
        let before = self.pods.len();
        World::create_pod(self, pod);
        if self.pods.len() > before {
            Ok(PodId(before as u32))
        } else {
            Err("admission rejected the pod".to_string())
        }
    }
    fn delete_pod(&mut self, id: PodId, reason: &str) {
        World::delete_pod(self, id, reason);
    }
    fn set_pod_owners(&mut self, id: PodId, owners: Vec<OwnerReference>) {
        self.pods[id.0 as usize].meta.owner_references = owners;
        self.reindex_pod(id);
    }
    fn pods_controlled_by(&self, uid: &str) -> Vec<PodId> {
        self.wl
            .by_owner
            .get(uid)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }
    fn orphan_pods(&self, namespace: &str) -> Vec<PodId> {
        self.wl
            .orphans
            .get(namespace)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }
    fn store(&self) -> &WorkloadStore {
        &self.wl.store
    }
    fn store_mut(&mut self) -> &mut WorkloadStore {
        &mut self.wl.store
    }
    fn create_workload(&mut self, mut w: Workload) -> Option<WorkloadId> {
        w.meta.uid = self.next_uid();
        w.meta.creation_timestamp = self.now;
        let id = self.wl.store.insert(w)?;
        let msg = self.wl.store.get(id).describe();
        self.log_event("WorkloadCreated", None, None, None, Some(&msg));
        self.enqueue_workload(id, Duration::ZERO);
        Some(id)
    }
    fn remove_workload(&mut self, id: WorkloadId) {
        self.remove_workload_now(id);
    }
    fn delete_workload(&mut self, id: WorkloadId, policy: Propagation) {
        self.delete_workload_with(id, policy);
    }
    fn enqueue_after(&mut self, id: WorkloadId, after: Duration) {
        self.enqueue_workload(id, after);
    }
    fn record(&mut self, kind: &str, reason: Option<&str>, message: &str) {
        self.log_event(kind, None, None, reason, Some(message));
    }
    fn wall_clock_start_us(&self) -> i64 {
        self.scenario.start_time_us
    }
}
