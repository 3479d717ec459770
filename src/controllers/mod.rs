//! Workload controllers (kube-controller-manager): the workload object
//! store, the de-duplicating work queue contract, the [`Api`] the World
//! offers controllers, and the table of controllers.
//!
//! Controllers are level-triggered as upstream's: a sync reads the current
//! state of its object and of the pods it selects, and acts to close the
//! gap. The World runs a sync when an `Event::Reconcile(WorkloadId)` fires;
//! keys are de-duplicated (a key already waiting keeps the earlier time)
//! and every enqueue waits the scenario's `controllers.reconcileDelay`
//! (default [`DEFAULT_RECONCILE_DELAY`]).
//!
//! # Adding a controller
//!
//! 1. add the object's data to `model/workload.rs` and a variant to
//!    [`WorkloadKind`] and [`WorkloadBody`] (the `ReplicaSet` ones are the
//!    pattern; batch and node-bound kinds keep theirs in `model/batch.rs`);
//! 2. write `controllers/<kind>.rs` with a unit struct implementing
//!    [`Controller`] and add it to [`CONTROLLERS`];
//! 3. if the kind owns pods through a selector, return it from
//!    [`Workload::pod_selector`] (orphan pods then enqueue it) and, if it
//!    has a scale, from [`workload_scale`] (PodDisruptionBudget percents);
//! 4. decode the manifest in `scenario/workloads.rs` (the kind in `KINDS`,
//!    one `match` arm in `convert`; `scale` targets are in `SCALABLE`).
//!
//! Pods are created from a template with [`pod_from_template`] (owner
//! reference with `controller: true`) and claimed with [`claim_pods`]
//! (upstream `ClaimPods`: adoption of matching orphans, release of owned
//! pods that no longer match).
//!
//! Invariant: controllers change state only through [`Api`]; they never
//! see the event queue or the scheduler.

pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod endpointslice;
pub mod gc;
pub mod job;
pub mod replicaset;
pub mod statefulset;

use std::collections::BTreeMap;

use crate::engine::{Duration, SimTime};
use crate::model::batch::{CronJob, DaemonSet, Job, PersistentVolumeClaim, StatefulSet};
use crate::model::meta::{ObjectMeta, OwnerReference};
use crate::model::service::Service;
use crate::model::workload::{Deployment, PodDisruptionBudget, ReplicaSet};
use crate::model::{Node, Pod, PodId, Selector};

/// Default delay between a change and the sync it triggers (informer and
/// work-queue latency). Configurable per scenario.
pub const DEFAULT_RECONCILE_DELAY: Duration = Duration::from_millis(10);

/// Index of a workload object in the store; stable for the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkloadId(pub u32);

/// The kinds of workload objects; a kind without a controller in
/// [`CONTROLLERS`] (PersistentVolumeClaim, a record the StatefulSet
/// controller creates) is stored but never synced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadKind {
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    PodDisruptionBudget,
    PersistentVolumeClaim,
    Service,
}

impl WorkloadKind {
    pub const ALL: [WorkloadKind; 9] = [
        WorkloadKind::Deployment,
        WorkloadKind::ReplicaSet,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
        WorkloadKind::Job,
        WorkloadKind::CronJob,
        WorkloadKind::PodDisruptionBudget,
        WorkloadKind::PersistentVolumeClaim,
        WorkloadKind::Service,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::Job => "Job",
            WorkloadKind::CronJob => "CronJob",
            WorkloadKind::PodDisruptionBudget => "PodDisruptionBudget",
            WorkloadKind::PersistentVolumeClaim => "PersistentVolumeClaim",
            WorkloadKind::Service => "Service",
        }
    }
    pub fn parse(s: &str) -> Option<WorkloadKind> {
        WorkloadKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// The `apiVersion` of the kind.
    pub fn api_version(self) -> &'static str {
        match self {
            WorkloadKind::Job | WorkloadKind::CronJob => "batch/v1",
            WorkloadKind::PodDisruptionBudget => "policy/v1",
            WorkloadKind::PersistentVolumeClaim | WorkloadKind::Service => "v1",
            _ => "apps/v1",
        }
    }
}

/// A workload object's kind-specific part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkloadBody {
    ReplicaSet(ReplicaSet),
    Deployment(Deployment),
    PodDisruptionBudget(PodDisruptionBudget),
    Job(Box<Job>),
    CronJob(Box<CronJob>),
    DaemonSet(Box<DaemonSet>),
    StatefulSet(Box<StatefulSet>),
    PersistentVolumeClaim(PersistentVolumeClaim),
    Service(Box<Service>),
}

impl WorkloadBody {
    pub fn kind(&self) -> WorkloadKind {
        match self {
            WorkloadBody::ReplicaSet(_) => WorkloadKind::ReplicaSet,
            WorkloadBody::Deployment(_) => WorkloadKind::Deployment,
            WorkloadBody::PodDisruptionBudget(_) => WorkloadKind::PodDisruptionBudget,
            WorkloadBody::Job(_) => WorkloadKind::Job,
            WorkloadBody::CronJob(_) => WorkloadKind::CronJob,
            WorkloadBody::DaemonSet(_) => WorkloadKind::DaemonSet,
            WorkloadBody::StatefulSet(_) => WorkloadKind::StatefulSet,
            WorkloadBody::PersistentVolumeClaim(_) => WorkloadKind::PersistentVolumeClaim,
            WorkloadBody::Service(_) => WorkloadKind::Service,
        }
    }
}

/// How a deletion propagates to dependents (`propagationPolicy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Propagation {
    #[default]
    Background,
    Foreground,
    Orphan,
}

impl Propagation {
    pub fn parse(s: &str) -> Option<Propagation> {
        match s {
            "Background" => Some(Propagation::Background),
            "Foreground" => Some(Propagation::Foreground),
            "Orphan" => Some(Propagation::Orphan),
            _ => None,
        }
    }
}

/// A workload object in the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    pub meta: ObjectMeta,
    /// `metadata.generation`: bumped on every spec change.
    pub generation: i64,
    /// `metadata.finalizers` (only `foregroundDeletion` and `orphan` are used).
    pub finalizers: Vec<String>,
    pub body: WorkloadBody,
    /// Removed from the API (kept in the store so ids stay stable).
    pub removed: bool,
}

impl Workload {
    pub fn new(meta: ObjectMeta, body: WorkloadBody) -> Workload {
        Workload {
            meta,
            generation: 1,
            finalizers: Vec::new(),
            body,
            removed: false,
        }
    }
    pub fn kind(&self) -> WorkloadKind {
        self.body.kind()
    }
    /// `Kind ns/name`, as events name objects.
    pub fn describe(&self) -> String {
        format!("{} {}", self.kind().as_str(), self.meta.key())
    }
    /// Live in the API and not being deleted.
    pub fn active(&self) -> bool {
        !self.removed && self.meta.deletion_timestamp.is_none()
    }
    /// An owner reference to this object (`controller: true`,
    /// `blockOwnerDeletion: true`, as controllers set them).
    pub fn controller_ref(&self) -> OwnerReference {
        OwnerReference {
            api_version: self.kind().api_version().to_string(),
            kind: self.kind().as_str().to_string(),
            name: self.meta.name.clone(),
            uid: self.meta.uid.clone(),
            controller: true,
            block_owner_deletion: true,
        }
    }
    pub fn replica_set(&self) -> Option<&ReplicaSet> {
        match &self.body {
            WorkloadBody::ReplicaSet(r) => Some(r),
            _ => None,
        }
    }
    pub fn replica_set_mut(&mut self) -> Option<&mut ReplicaSet> {
        match &mut self.body {
            WorkloadBody::ReplicaSet(r) => Some(r),
            _ => None,
        }
    }
    pub fn deployment(&self) -> Option<&Deployment> {
        match &self.body {
            WorkloadBody::Deployment(d) => Some(d),
            _ => None,
        }
    }
    pub fn deployment_mut(&mut self) -> Option<&mut Deployment> {
        match &mut self.body {
            WorkloadBody::Deployment(d) => Some(d),
            _ => None,
        }
    }
    pub fn pdb(&self) -> Option<&PodDisruptionBudget> {
        match &self.body {
            WorkloadBody::PodDisruptionBudget(p) => Some(p),
            _ => None,
        }
    }
    pub fn service(&self) -> Option<&Service> {
        match &self.body {
            WorkloadBody::Service(s) => Some(s),
            _ => None,
        }
    }
    /// The selector of a pod-owning workload (`None` for kinds without one).
    pub fn pod_selector(&self) -> Option<&Selector> {
        match &self.body {
            WorkloadBody::ReplicaSet(r) => Some(&r.parsed_selector),
            WorkloadBody::Deployment(d) => Some(&d.parsed_selector),
            WorkloadBody::DaemonSet(d) => Some(&d.parsed_selector),
            WorkloadBody::StatefulSet(s) => Some(&s.parsed_selector),
            _ => None,
        }
    }
}

/// `(kind, namespace, name)`: the API key of a workload object.
pub type WorkloadKey = (WorkloadKind, String, String);

/// Every workload object of the run, by id, with an index by key.
#[derive(Clone, Debug, Default)]
pub struct WorkloadStore {
    objects: Vec<Workload>,
    index: BTreeMap<WorkloadKey, WorkloadId>,
}

impl WorkloadStore {
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
    /// Inserts a new object (its uid and creation time already set);
    /// `None` if the key exists.
    pub fn insert(&mut self, w: Workload) -> Option<WorkloadId> {
        let key = (w.kind(), w.meta.namespace.clone(), w.meta.name.clone());
        if self.index.contains_key(&key) {
            return None;
        }
        let id = WorkloadId(self.objects.len() as u32);
        self.objects.push(w);
        self.index.insert(key, id);
        Some(id)
    }
    pub fn get(&self, id: WorkloadId) -> &Workload {
        &self.objects[id.0 as usize]
    }
    pub fn get_mut(&mut self, id: WorkloadId) -> &mut Workload {
        &mut self.objects[id.0 as usize]
    }
    pub fn lookup(&self, kind: WorkloadKind, namespace: &str, name: &str) -> Option<WorkloadId> {
        self.index
            .get(&(kind, namespace.to_string(), name.to_string()))
            .copied()
    }
    /// The live object an owner reference points to (kind, name and uid
    /// must all match), in `namespace`.
    pub fn resolve(&self, namespace: &str, r: &OwnerReference) -> Option<WorkloadId> {
        let kind = WorkloadKind::parse(&r.kind)?;
        let id = self.lookup(kind, namespace, &r.name)?;
        (self.get(id).meta.uid == r.uid).then_some(id)
    }
    /// Takes the object out of the API (its id stays valid).
    pub fn remove(&mut self, id: WorkloadId) {
        let w = &mut self.objects[id.0 as usize];
        w.removed = true;
        let key = (w.kind(), w.meta.namespace.clone(), w.meta.name.clone());
        if self.index.get(&key) == Some(&id) {
            self.index.remove(&key);
        }
    }
    /// Live objects in key order (kind, namespace, name).
    pub fn live(&self) -> impl Iterator<Item = WorkloadId> + '_ {
        self.index.values().copied()
    }
    /// Live objects of one kind in one namespace, in name order.
    pub fn of_kind_in(&self, kind: WorkloadKind, namespace: &str) -> Vec<WorkloadId> {
        let lo = (kind, namespace.to_string(), String::new());
        self.index
            .range(lo..)
            .take_while(|((k, ns, _), _)| *k == kind && ns == namespace)
            .map(|(_, id)| *id)
            .collect()
    }
    /// Live objects whose owner references name `uid`.
    pub fn dependents_of(&self, uid: &str) -> Vec<WorkloadId> {
        self.live()
            .filter(|id| {
                self.get(*id)
                    .meta
                    .owner_references
                    .iter()
                    .any(|o| o.uid == uid)
            })
            .collect()
    }
    pub fn all(&self) -> &[Workload] {
        &self.objects
    }
}

/// What the World offers controllers: reading pods, nodes and workloads,
/// creating and deleting pods, patching owner references, enqueueing syncs
/// and logging events. Implemented by `cluster::World`.
pub trait Api {
    fn now(&self) -> SimTime;
    fn pod(&self, id: PodId) -> &Pod;
    /// Live pods (in the API, terminating included) of a namespace, in
    /// name order.
    fn pods_in_namespace(&self, namespace: &str) -> Vec<PodId>;
    fn nodes(&self) -> &[Node];
    /// Creates a pod (admission may refuse it: the reason is returned).
    fn create_pod(&mut self, pod: Pod) -> Result<PodId, String>;
    /// Deletes a pod gracefully (a no-op if it is already terminating).
    fn delete_pod(&mut self, id: PodId, reason: &str);
    /// Replaces a pod's owner references (adoption, release, orphaning).
    fn set_pod_owners(&mut self, id: PodId, owners: Vec<OwnerReference>);
    /// Live pods whose controller reference names `uid`, in creation order.
    fn pods_controlled_by(&self, uid: &str) -> Vec<PodId>;
    /// Live pods of a namespace without a controller, in creation order.
    fn orphan_pods(&self, namespace: &str) -> Vec<PodId>;
    fn store(&self) -> &WorkloadStore;
    fn store_mut(&mut self) -> &mut WorkloadStore;
    /// Creates a workload object (a Deployment's ReplicaSet); assigns uid
    /// and creation time and enqueues it.
    fn create_workload(&mut self, w: Workload) -> Option<WorkloadId>;
    /// Removes a workload object from the API now (finalizers cleared).
    fn remove_workload(&mut self, id: WorkloadId);
    /// Starts the deletion of a workload object with a propagation policy.
    fn delete_workload(&mut self, id: WorkloadId, policy: Propagation);
    /// Enqueues a sync of `id` after the reconcile delay plus `after`.
    fn enqueue_after(&mut self, id: WorkloadId, after: Duration);
    /// Logs an event (`kind`, `reason`, `message` naming the object).
    fn record(&mut self, kind: &str, reason: Option<&str>, message: &str);
    /// The wall-clock time of simulated time zero, µs since the Unix epoch
    /// (the Scenario's `spec.startTime`; CronJob schedules use it).
    fn wall_clock_start_us(&self) -> i64 {
        crate::scenario::DEFAULT_START_TIME_US
    }
}

/// One controller: syncs objects of one kind, and reports rows for
/// `workloads.csv`.
pub trait Controller: Sync {
    fn kind(&self) -> WorkloadKind;
    /// Reconciles object `id` (which may have been removed meanwhile).
    fn sync(&self, api: &mut dyn Api, id: WorkloadId);
    /// The `workloads.csv` row of an object at a sample, if the kind has
    /// one.
    fn sample(&self, _w: &Workload) -> Option<WorkloadRow> {
        None
    }
}

/// The controllers kubesim runs, one per kind.
pub static CONTROLLERS: &[&dyn Controller] = &[
    &replicaset::ReplicaSetController,
    &deployment::DeploymentController,
    &disruption::DisruptionController,
    &job::JobController,
    &cronjob::CronJobController,
    &daemonset::DaemonSetController,
    &statefulset::StatefulSetController,
    &endpointslice::EndpointSliceController,
];

/// The controller of a kind.
pub fn controller_for(kind: WorkloadKind) -> Option<&'static dyn Controller> {
    CONTROLLERS.iter().copied().find(|c| c.kind() == kind)
}

/// The scale (`spec.replicas`) of a pod-owning workload, as the
/// disruption controller's finders read it; `None` for kinds without one
/// (Deployment, ReplicaSet, StatefulSet).
pub fn workload_scale(w: &Workload) -> Option<i32> {
    match &w.body {
        WorkloadBody::ReplicaSet(r) => Some(r.replicas),
        WorkloadBody::Deployment(d) => Some(d.replicas),
        // Upstream's finders include getPodStatefulSet.
        WorkloadBody::StatefulSet(s) => Some(s.replicas),
        _ => None,
    }
}

/// One row of `workloads.csv` (docs/output.md); empty cells are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkloadRow {
    pub t_us: u64,
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub revision: Option<i64>,
    pub desired: Option<i32>,
    pub current: i32,
    pub ready: i32,
    pub available: i32,
    pub updated: Option<i32>,
    pub max_surge: Option<i32>,
    pub max_unavailable: Option<i32>,
}

/// A pod for `owner` from its template (upstream `GetPodFromTemplate`):
/// labels, annotations, spec and behaviour of the template, the name
/// generated from `<owner name>-`, and an owner reference with
/// `controller: true` and `blockOwnerDeletion: true`.
pub fn pod_from_template(template: &Pod, owner: &Workload) -> Pod {
    let mut pod = template.clone();
    pod.meta = ObjectMeta {
        name: String::new(),
        namespace: owner.meta.namespace.clone(),
        generate_name: Some(format!("{}-", owner.meta.name)),
        labels: template.meta.labels.clone(),
        annotations: template.meta.annotations.clone(),
        owner_references: vec![owner.controller_ref()],
        ..Default::default()
    };
    pod.status = Default::default();
    pod
}

/// Upstream `PodControllerRefManager.ClaimPods` for the pods of a
/// namespace: returns the pods `owner` controls after adopting matching
/// orphans and releasing owned pods whose labels no longer match. A
/// deleting owner adopts nothing; terminating pods are not adopted.
pub fn claim_pods(api: &mut dyn Api, owner_id: WorkloadId, selector: &Selector) -> Vec<PodId> {
    let owner = api.store().get(owner_id);
    let ns = owner.meta.namespace.clone();
    let uid = owner.meta.uid.clone();
    let deleting = !owner.active();
    let oref = owner.controller_ref();
    let mut claimed = Vec::new();
    for id in api.pods_controlled_by(&uid) {
        let pod = api.pod(id);
        if pod.meta.namespace != ns {
            continue;
        }
        if selector.matches(&pod.meta.labels) || deleting {
            claimed.push(id);
        } else {
            // Release: drop our owner reference.
            let owners: Vec<_> = pod
                .meta
                .owner_references
                .iter()
                .filter(|o| o.uid != uid)
                .cloned()
                .collect();
            api.set_pod_owners(id, owners);
        }
    }
    if !deleting {
        for id in api.orphan_pods(&ns) {
            let pod = api.pod(id);
            if selector.matches(&pod.meta.labels)
                && !pod.is_terminating()
                && !pod.phase().is_terminal()
            {
                let mut owners = pod.meta.owner_references.clone();
                owners.push(oref.clone());
                api.set_pod_owners(id, owners);
                claimed.push(id);
            }
        }
    }
    claimed.sort();
    claimed
}

/// Upstream `FilterActivePods`: pods not terminal and not being deleted.
pub fn is_pod_active(p: &Pod) -> bool {
    !p.phase().is_terminal() && !p.is_terminating()
}

/// Upstream `podutil.IsPodAvailable`: ready for at least
/// `min_ready_seconds` at `now`.
pub fn is_pod_available(p: &Pod, min_ready_seconds: i32, now: SimTime) -> bool {
    match p.ready_since() {
        None => false,
        Some(t) => {
            min_ready_seconds <= 0
                || now.as_micros()
                    >= t.as_micros()
                        .saturating_add(min_ready_seconds as u64 * 1_000_000)
        }
    }
}

/// Upstream `controller.SlowStartInitialBatchSize`.
pub const SLOW_START_INITIAL_BATCH_SIZE: i32 = 1;

/// Upstream `slowStartBatch`: calls `f` `count` times in batches of 1, 2,
/// 4, … (starting at `initial`), stopping after the first batch with an
/// error; returns the number of successful calls.
pub fn slow_start_batch<F: FnMut() -> bool>(count: i32, initial: i32, mut f: F) -> i32 {
    let mut remaining = count;
    let mut successes = 0;
    let mut batch = remaining.min(initial);
    while batch > 0 {
        let mut errors = 0;
        for _ in 0..batch {
            if f() {
                successes += 1;
            } else {
                errors += 1;
            }
        }
        if errors > 0 {
            return successes;
        }
        remaining -= batch;
        batch = remaining.min(2 * batch);
    }
    successes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_start_stops_after_the_first_failing_batch() {
        // Batches 1, 2, 4, 8: the 5th call fails (inside the batch of 4),
        // the batch completes, then no further batch runs.
        let mut calls = 0;
        let ok = slow_start_batch(20, 1, || {
            calls += 1;
            calls != 5
        });
        assert_eq!(calls, 7);
        assert_eq!(ok, 6);
        let mut calls = 0;
        assert_eq!(
            slow_start_batch(10, 1, || {
                calls += 1;
                true
            }),
            10
        );
        assert_eq!(slow_start_batch(0, 1, || true), 0);
    }
}
