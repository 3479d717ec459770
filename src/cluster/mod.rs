//! The World: the one owner of all simulation state. It pops events from
//! the queue in (time, sequence) order and dispatches each through one
//! `match`; handlers update state, log what happened and schedule follow-up
//! events. Policies get read-only views and return decisions as data.
//!
//! Invariants (checked after every event when `check_invariants` is on):
//! no node's pods request more than its allocatable; every active pod is on
//! at most one node and in that node's pod set; node accounting equals the
//! sum over its pods.

/// The read-only [`crate::scheduler::ClusterView`] of a World, as a macro so
/// that it borrows only the fields it reads (the policy, borrowed mutably
/// at the same time, is another field).
macro_rules! cluster_view {
    ($w:expr) => {
        crate::scheduler::ClusterView {
            nodes: &$w.nodes,
            pods: &$w.pods,
            namespaces: &$w.namespaces,
            image_nodes: &$w.image_nodes,
            node_order: &$w.node_order,
            nominated: &$w.nominated,
            waiting: &$w.waiting_ids,
            nodes_with_affinity: &$w.nodes_with_affinity,
            nodes_with_required_anti_affinity: &$w.nodes_with_required_anti_affinity,
            pod_changes: Some(&$w.pod_changes),
            now: $w.now,
            pdbs: &$w.wl.pdb_view,
        }
    };
}

mod autoscaling;
mod batch;
pub mod event;
mod invariants;
pub mod log;
mod node_hooks;
mod nodes;
mod pods;
mod queueing;
mod traffic;
mod workloads;

use std::collections::BTreeMap;
use std::io::Write;

pub use autoscaling::{HpaRow, NodeGroupRow};
pub use event::Event;
pub use invariants::InvariantViolation;
pub use node_hooks::{ContainerRow, NodeUsageRow};
pub use traffic::TrafficTotals;
pub use workloads::ServiceRow;

use crate::engine::{Duration, EventQueue, RngStreams, SimTime, TimerId};
use crate::model::priority::{system_classes, PriorityClass};
use crate::model::{Labels, Node, NodeId, Pod, PodId, PodPhase};
use crate::scenario::{Object, Scenario};
use crate::scheduler::queue::SchedQueue;
use crate::scheduler::Explanation;
use crate::scheduler::{new_policy, SchedulingPolicy};
use log::EventLog;

/// Node lifecycle controller defaults (kube-controller-manager).
pub const NODE_MONITOR_GRACE_PERIOD: Duration = Duration::from_secs(40);
pub const NODE_MONITOR_PERIOD: Duration = Duration::from_secs(5);
/// Kubelet lease renewal interval.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);

/// Options of one run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub seed: u64,
    /// Stop after this time (overrides the scenario's duration).
    pub until: Option<SimTime>,
    /// Check invariants after every event (slow; on in tests and debug builds).
    pub check_invariants: bool,
    /// Record an explanation of every scheduling attempt.
    pub explain: bool,
}

/// How far a run is, for progress displays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Simulated time of the next event.
    pub now: SimTime,
    /// The run's end (`--until` or the scenario's duration), if it has one.
    pub end: Option<SimTime>,
    /// Events processed so far.
    pub events: u64,
}

/// [`World::run_with_progress`] reports every this many events.
pub const PROGRESS_EVERY: u64 = 1 << 12;

/// One time-series sample of cluster state.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Sample {
    pub t_us: u64,
    pub pods_pending: u64,
    pub pods_running: u64,
    pub pods_succeeded: u64,
    pub pods_failed: u64,
    pub pods_terminating: u64,
    pub queue_active: u64,
    pub queue_unschedulable: u64,
    pub nodes_ready: u64,
    pub nodes_total: u64,
    pub cpu_requested_m: i64,
    pub cpu_allocatable_m: i64,
    pub memory_requested_bytes: i64,
    pub memory_allocatable_bytes: i64,
}

/// Counters kept during a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub events: u64,
    pub scheduling_attempts: u64,
    pub scheduling_failures: u64,
    pub restarts: u64,
    pub evictions: u64,
    pub preemptions: u64,
    pub admission_rejections: u64,
    pub scheduler_errors: u64,
    /// Containers OOM-killed (node model).
    pub oom_kills: u64,
    /// Pods evicted by kubelets under node memory pressure (also counted
    /// in `evictions`).
    pub memory_evictions: u64,
    /// CFS throttled time of all containers, µs (node model).
    pub throttled_us: u64,
}

/// Why a run stopped early.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("scheduler configuration: {0}")]
    Scheduler(String),
    #[error("invariant violated at t={at} after event #{event}: {violation}")]
    Invariant {
        at: SimTime,
        event: u64,
        violation: InvariantViolation,
    },
    #[error("failed to write the event log: {0}")]
    Log(#[from] std::io::Error),
    /// A real node runtime (Linux backend) failed, or the run was stopped.
    #[error("node runtime: {0}")]
    NodeRuntime(String),
}

/// Builds a node's runtime for the node model instead of the simulated
/// one (the Linux backend): node name, CPU capacity (millicores), memory
/// capacity (bytes), the kubelet's cgroup settings, the current time.
pub type RuntimeFactory = Box<
    dyn FnMut(
        &str,
        i64,
        i64,
        crate::node::cgroup::CgroupSettings,
        SimTime,
    ) -> Result<Box<dyn crate::node::runtime::NodeRuntime>, String>,
>;

/// Per-pod runtime bookkeeping that is not part of the API object.
#[derive(Clone, Debug, Default)]
struct PodRuntime {
    /// The pending lifecycle timer (bind, start, exit, restart, kill).
    timer: Option<TimerId>,
    /// A pending taint-eviction timer.
    evict_timer: Option<TimerId>,
    /// Current crash-loop back-off.
    crash_backoff: Duration,
    /// Time the current container run started.
    run_started: SimTime,
    /// Whether the pod is in the API (not yet fully removed).
    live: bool,
    /// When the scheduler may retry it (back-off expiry).
    backoff_until: SimTime,
    /// A pending readiness timer (readiness probes passing).
    ready_timer: Option<TimerId>,
    /// The current run ends by a liveness-probe kill.
    liveness_kill: bool,
}

#[derive(Clone, Debug, Default)]
struct NodeRuntime {
    failed_at: Option<SimTime>,
    detect_timer: Option<TimerId>,
    /// Image pulls (node_hooks.rs): serialized pulls end here; images being
    /// pulled and when they arrive; when each cached image was last used.
    pull_busy_until: SimTime,
    pulling: BTreeMap<String, SimTime>,
    image_last_used: BTreeMap<String, SimTime>,
}

pub struct World {
    now: SimTime,
    queue: EventQueue<Event>,
    /// Live non-periodic events: the run ends when none is left (and no
    /// duration is set).
    pending_real: u64,
    rng: RngStreams,
    pods: Vec<Pod>,
    pod_rt: Vec<PodRuntime>,
    pod_index: BTreeMap<(String, String), PodId>,
    nodes: Vec<Node>,
    node_rt: Vec<NodeRuntime>,
    node_index: BTreeMap<String, NodeId>,
    /// Namespaces and their labels.
    namespaces: BTreeMap<String, Labels>,
    priority_classes: BTreeMap<String, PriorityClass>,
    policy: Box<dyn SchedulingPolicy>,
    sched: SchedQueue,
    /// Present nodes in the scheduler's order (zones round robin); rebuilt
    /// lazily after nodes join or leave.
    node_order: Vec<NodeId>,
    node_order_dirty: bool,
    /// Number of present nodes holding each image.
    image_nodes: BTreeMap<String, u32>,
    /// Pods nominated to each node by preemption.
    nominated: BTreeMap<NodeId, Vec<PodId>>,
    /// Pods held at Permit: node and timeout timer.
    waiting: BTreeMap<PodId, (NodeId, TimerId)>,
    /// The keys of `waiting`, for the view.
    waiting_ids: Vec<PodId>,
    /// Present nodes with pods that have (anti-)affinity terms.
    nodes_with_affinity: std::collections::BTreeSet<NodeId>,
    nodes_with_required_anti_affinity: std::collections::BTreeSet<NodeId>,
    /// Pods entering and leaving nodes' pod sets, for the scheduler's
    /// incremental plugin state. Any other change plugin state may depend
    /// on (a node's labels or presence, namespaces) must call
    /// `pod_changes.bump_epoch()`.
    pod_changes: crate::scheduler::incremental::PodChangeLog,
    explanations: Vec<Explanation>,
    explain: bool,
    /// Live pods per phase (indexed by `PodPhase as usize`), and live pods
    /// with a deletion timestamp: kept as phases change so a sample costs
    /// O(nodes), not O(pods).
    phase_counts: [u64; 4],
    terminating: u64,
    sched_busy: bool,
    flush_scheduled: bool,
    /// QueueingHints state: in-flight pods and their events.
    qh: queueing::QueueingState,
    pool_next: BTreeMap<String, u32>,
    /// The scenario's timeline, moved in at start; an entry is taken
    /// (`None`) when its action fires.
    timeline: Vec<Option<crate::scenario::Action>>,
    scenario: Scenario,
    log: EventLog,
    samples: Vec<Sample>,
    uid_counter: u64,
    counters: Counters,
    end: Option<SimTime>,
    check_invariants: bool,
    /// Workload controllers' objects, work queue and samples.
    wl: workloads::WorkloadState,
    /// The node model of nodes running pods with usage models.
    agents: BTreeMap<NodeId, Box<crate::node::kubelet::NodeAgent>>,
    /// `containers.csv` and `node_usage.csv` rows (node model).
    container_rows: Vec<node_hooks::ContainerRow>,
    node_usage_rows: Vec<node_hooks::NodeUsageRow>,
    /// HorizontalPodAutoscalers and the metrics pipeline.
    hpa: autoscaling::AutoscalingState,
    /// Real node runtimes (Linux backend; `None` = simulated), and the
    /// first failure of one (ends a real-time run).
    runtime_factory: Option<RuntimeFactory>,
    runtime_failure: Option<String>,
    /// The Service traffic model.
    traffic: traffic::TrafficState,
}

/// Everything a finished run produced.
pub struct RunResult {
    /// The scenario that ran (its time-zero `objects` and its `timeline`
    /// moved into the run: both are empty here).
    pub scenario: Scenario,
    pub seed: u64,
    pub end_time: SimTime,
    pub pods: Vec<Pod>,
    pub nodes: Vec<Node>,
    pub samples: Vec<Sample>,
    pub counters: Counters,
    pub event_digest: String,
    pub event_records: u64,
    /// Scheduling explanations (when asked for).
    pub explanations: Vec<Explanation>,
    /// `workloads.csv` rows (one per workload object per sample).
    pub workloads: Vec<crate::controllers::WorkloadRow>,
    /// `services.csv` rows (one per Service per sample).
    pub services: Vec<ServiceRow>,
    /// Every workload object at the end of the run (removed ones too).
    pub workload_objects: Vec<crate::controllers::Workload>,
    /// Node model samples (empty without usage models).
    pub container_rows: Vec<node_hooks::ContainerRow>,
    pub node_usage_rows: Vec<node_hooks::NodeUsageRow>,
    /// `hpa.csv` rows (one per HPA and metric per sample).
    pub hpas: Vec<autoscaling::HpaRow>,
    /// `node_groups.csv` rows (one per node group per sample).
    pub node_groups: Vec<autoscaling::NodeGroupRow>,
    /// Per-Service traffic totals (empty without traffic).
    pub traffic: Vec<TrafficTotals>,
    /// All Services' traffic together.
    pub traffic_overall: TrafficTotals,
}

impl World {
    /// Builds the world at time zero; `events_out` receives `events.jsonl`.
    pub fn new(
        scenario: Scenario,
        opts: &RunOptions,
        events_out: Option<Box<dyn Write>>,
    ) -> Result<World, RunError> {
        let mut policy = new_policy(&scenario.scheduler.policy, &scenario.scheduler.config)
            .map_err(RunError::Scheduler)?;
        policy.set_seed(opts.seed);
        let end = opts
            .until
            .or(scenario.duration.map(|d| SimTime::ZERO.after(d)));
        let mut w = World {
            now: SimTime::ZERO,
            queue: EventQueue::with_capacity(1024),
            pending_real: 0,
            rng: RngStreams::new(opts.seed),
            pods: Vec::new(),
            pod_rt: Vec::new(),
            pod_index: BTreeMap::new(),
            nodes: Vec::new(),
            node_rt: Vec::new(),
            node_index: BTreeMap::new(),
            namespaces: crate::scenario::BUILTIN_NAMESPACES
                .iter()
                .map(|s| {
                    let labels = [("kubernetes.io/metadata.name".to_string(), s.to_string())];
                    (s.to_string(), labels.into_iter().collect())
                })
                .collect(),
            priority_classes: system_classes()
                .into_iter()
                .map(|c| (c.name.clone(), c))
                .collect(),
            policy,
            sched: SchedQueue::default(),
            node_order: Vec::new(),
            node_order_dirty: true,
            image_nodes: BTreeMap::new(),
            nominated: BTreeMap::new(),
            waiting: BTreeMap::new(),
            waiting_ids: Vec::new(),
            nodes_with_affinity: Default::default(),
            nodes_with_required_anti_affinity: Default::default(),
            pod_changes: Default::default(),
            explanations: Vec::new(),
            explain: opts.explain,
            phase_counts: [0; 4],
            terminating: 0,
            sched_busy: false,
            flush_scheduled: false,
            qh: Default::default(),
            pool_next: BTreeMap::new(),
            timeline: Vec::new(),
            scenario,
            log: EventLog::new(events_out),
            samples: Vec::new(),
            uid_counter: 0,
            counters: Counters::default(),
            end,
            check_invariants: opts.check_invariants,
            wl: Default::default(),
            agents: BTreeMap::new(),
            container_rows: Vec::new(),
            node_usage_rows: Vec::new(),
            hpa: Default::default(),
            runtime_factory: None,
            runtime_failure: None,
            traffic: Default::default(),
        };
        w.init();
        Ok(w)
    }

    fn init(&mut self) {
        let pools = self.scenario.node_pools.clone();
        for p in &pools {
            self.pool_next.insert(p.name.clone(), 0);
            self.add_pool_nodes(&p.name, p.count);
        }
        // The time-zero objects move into the World (no copy: scenarios may
        // hold many pods); `scenario.objects` is empty afterwards.
        let objects = std::mem::take(&mut self.scenario.objects);
        for o in objects {
            self.apply(o);
        }
        // The timeline moves into the World too: each action is moved out
        // when it fires (an `apply` may carry a large object).
        let timeline = std::mem::take(&mut self.scenario.timeline);
        self.timeline.reserve_exact(timeline.len());
        for (i, a) in timeline.into_iter().enumerate() {
            self.queue.push(a.at, Event::Action(i as u32));
            self.pending_real += 1;
            self.timeline.push(Some(a.action));
        }
        self.push(SimTime::ZERO, Event::Sample);
        self.start_cluster_autoscaler();
        self.traffic_init();
    }

    /// Schedules an event and counts it as keeping the run alive unless it
    /// is periodic.
    fn push(&mut self, t: SimTime, e: Event) -> TimerId {
        if !e.is_periodic() {
            self.pending_real += 1;
        }
        self.queue.push(t, e)
    }

    fn cancel(&mut self, id: Option<TimerId>) {
        if let Some(id) = id {
            if self.queue.cancel(id) {
                self.pending_real = self.pending_real.saturating_sub(1);
            }
        }
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Runs to the end and returns what happened.
    pub fn run(self) -> Result<RunResult, RunError> {
        self.run_with_progress(&mut |_| {})
    }

    /// [`World::run`], calling `progress` every [`PROGRESS_EVERY`] events
    /// (for a progress display; it cannot change the run).
    pub fn run_with_progress(
        mut self,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<RunResult, RunError> {
        while let Some((t, _id, ev)) = self.queue.pop() {
            if self.counters.events.is_multiple_of(PROGRESS_EVERY) {
                progress(Progress {
                    now: t,
                    end: self.end,
                    events: self.counters.events,
                });
            }
            if let Some(end) = self.end {
                if t > end {
                    break;
                }
            }
            if !ev.is_periodic() {
                self.pending_real = self.pending_real.saturating_sub(1);
            }
            self.now = t;
            self.counters.events += 1;
            self.dispatch(ev);
            if self.check_invariants {
                if let Err(v) = invariants::check(&self) {
                    return Err(RunError::Invariant {
                        at: self.now,
                        event: self.counters.events,
                        violation: v,
                    });
                }
            }
        }
        self.finish()
    }

    /// The end of a run: last sample, totals, the result.
    fn finish(mut self) -> Result<RunResult, RunError> {
        if let Some(end) = self.end {
            self.now = self.now.max(end);
        }
        self.take_sample();
        self.usage_finish();
        let (traffic, traffic_overall) = self.traffic_totals();
        let records = self.log.len();
        let digest = self.log.finish()?;
        Ok(RunResult {
            scenario: self.scenario,
            seed: self.rng.seed(),
            end_time: self.now,
            pods: self.pods,
            nodes: self.nodes,
            samples: self.samples,
            counters: self.counters,
            event_digest: digest,
            event_records: records,
            explanations: self.explanations,
            workloads: std::mem::take(&mut self.wl.rows),
            services: std::mem::take(&mut self.wl.service_rows),
            workload_objects: self.wl.store.all().to_vec(),
            container_rows: self.container_rows,
            node_usage_rows: self.node_usage_rows,
            hpas: std::mem::take(&mut self.hpa.rows),
            node_groups: self.hpa.ca.map(|c| c.rows).unwrap_or_default(),
            traffic,
            traffic_overall,
        })
    }

    /// Real node runtimes for the node model (the Linux backend): nodes
    /// whose pods have usage models get their runtime from `f` instead of
    /// a simulated one. Use with [`World::run_realtime`].
    pub fn set_runtime_factory(&mut self, f: RuntimeFactory) {
        self.runtime_factory = Some(f);
    }

    /// Runs to the end in wall-clock time (scaled by the clock's speed):
    /// each event runs once the wall clock reaches its time, never
    /// earlier; meanwhile the node runtimes are polled every few
    /// milliseconds, and a real container exit (completion, OOM kill,
    /// failure) becomes the node model's exit at the current simulated
    /// time, so restart policies, back-off, Job retries and ReplicaSets
    /// react to what the processes did. `stop` is polled too (Ctrl-C).
    /// Not deterministic: timings depend on the host.
    pub fn run_realtime(
        mut self,
        clock: &crate::engine::RealClock,
        stop: &dyn Fn() -> bool,
    ) -> Result<RunResult, RunError> {
        use crate::engine::realtime::Waited;
        loop {
            if stop() {
                return Err(RunError::NodeRuntime("interrupted".into()));
            }
            if let Some(e) = self.runtime_failure.take() {
                return Err(RunError::NodeRuntime(e));
            }
            if let Some(e) = self
                .agents
                .values_mut()
                .find_map(|a| a.runtime.take_failure())
            {
                return Err(RunError::NodeRuntime(e));
            }
            let Some(next) = self.queue.peek_time() else {
                break;
            };
            if self.end.is_some_and(|end| next > end) {
                break;
            }
            let agents = &mut self.agents;
            let floor = self.now;
            let waited = clock.wait_until(Some(next), |now| {
                if stop() {
                    return true;
                }
                let t = now.max(floor).min(next);
                let mut any = false;
                for a in agents.values_mut() {
                    a.runtime.advance_to(t);
                    any |= a.runtime.has_exits();
                }
                any
            });
            if let Waited::Polled(now) = waited {
                // Real exits (or a stop): enter them at the current time.
                self.now = now.max(floor).min(next);
                let nids: Vec<NodeId> = self
                    .agents
                    .iter()
                    .filter(|(_, a)| a.runtime.has_exits())
                    .map(|(n, _)| *n)
                    .collect();
                for nid in nids {
                    // The node's pending node-model event is superseded.
                    let t = self.agents.get_mut(&nid).and_then(|a| a.timer.take());
                    self.cancel(t);
                    self.node_usage(nid);
                }
                continue;
            }
            let Some((t, _id, ev)) = self.queue.pop() else {
                break;
            };
            if !ev.is_periodic() {
                self.pending_real = self.pending_real.saturating_sub(1);
            }
            clock.note_due(t);
            self.now = t.max(self.now);
            self.counters.events += 1;
            self.dispatch(ev);
        }
        self.finish()
    }

    fn dispatch(&mut self, ev: Event) {
        match ev {
            Event::Action(i) => self.run_action(i as usize),
            Event::ScheduleNext => self.schedule_next(),
            Event::BackoffDone(p) => self.backoff_done(p),
            Event::FlushUnschedulable => self.flush_unschedulable(),
            Event::Bind(pod) => {
                if let Some(node) = self.pods[pod.0 as usize].status.node {
                    self.bind(pod, node);
                }
            }
            Event::PodStarted(p) => self.pod_started(p),
            Event::ContainerExited(p) => self.container_exited(p),
            Event::ContainerRestart(p) => self.container_restart(p),
            Event::PodKilled(p) => self.pod_killed(p),
            Event::NodeUnreachable(n) => self.node_unreachable(n),
            Event::TaintEviction(p) => self.taint_eviction(p),
            Event::PermitTimeout(p) => self.permit_timeout(p),
            Event::Reconcile(id) => self.reconcile(id),
            Event::DrainRetry(n) => self.drain_retry(n),
            Event::NodeUsage(n) | Event::NodeUsageTick(n) => self.node_usage(n),
            Event::PodReady(p) => self.pod_ready(p),
            Event::HpaSync(i) => self.hpa_sync(i),
            Event::MetricsScrape => self.metrics_scrape(),
            Event::CaLoop => self.ca_loop(),
            Event::CaNodeUp(g) => self.ca_node_up(g),
            Event::TrafficArrival(i) => self.traffic_arrival(i),
            Event::TrafficPod(p) => self.traffic_pod(p),
            Event::Sample => {
                // Sample the state at the end of this instant: let every
                // other event at the same time run first.
                if self.queue.peek_time() == Some(self.now) {
                    self.push(self.now, Event::Sample);
                    return;
                }
                self.take_sample();
                // Keep sampling while something else can still happen (or,
                // with a duration, while the node model runs containers or
                // HPAs and node groups act on their own).
                if self.pending_real > 0
                    || self.usage_keeps_sampling()
                    || self.traffic_keeps_sampling()
                    || (self.end.is_some() && (!self.hpa.hpas.is_empty() || self.hpa.ca.is_some()))
                {
                    let next = self.now.after(self.scenario.sample_interval);
                    self.push(next, Event::Sample);
                }
            }
        }
    }

    fn run_action(&mut self, i: usize) {
        let Some(a) = self.timeline.get_mut(i).and_then(Option::take) else {
            return;
        };
        use crate::scenario::Action;
        match a {
            Action::Apply(o) => self.apply(o),
            Action::Delete(r) => self.delete_object(&r),
            Action::Cordon(n) => self.cordon(&n, true),
            Action::Uncordon(n) => self.cordon(&n, false),
            Action::Drain(n) => self.drain(&n),
            Action::FailNode(n) => self.fail_node(&n),
            Action::RecoverNode(n) => self.recover_node(&n),
            Action::RemoveNode(n) => self.remove_node(&n),
            Action::AddNodes { pool, count } => self.add_pool_nodes(&pool, count),
            Action::Workload(w) => self.workload_action(w),
            Action::RemoveSchedulingGates(g) => self.remove_scheduling_gates(&g),
        }
    }

    /// Creates an object (the `apply` action and objects at time zero).
    fn apply(&mut self, o: Object) {
        match o {
            Object::Namespace { name, labels } => {
                if !self.namespaces.contains_key(&name) {
                    self.namespaces.insert(name.clone(), labels);
                    self.pod_changes.bump_epoch();
                    self.log_event("NamespaceCreated", None, None, None, Some(&name));
                }
            }
            Object::PriorityClass(c) => {
                let name = c.name.clone();
                self.priority_classes.insert(name.clone(), c);
                self.log_event("PriorityClassCreated", None, None, None, Some(&name));
            }
            Object::Node(n) => self.add_node(*n),
            Object::Pod(p) => self.create_pod(*p),
            Object::Workload(w) => self.apply_workload(*w),
            Object::Hpa(h) => self.add_hpa(*h),
        }
    }

    fn delete_object(&mut self, r: &crate::scenario::ObjectRef) {
        match r.kind.as_str() {
            "Pod" => match self
                .pod_index
                .get(&(r.namespace.clone(), r.name.clone()))
                .copied()
            {
                Some(p) => self.delete_pod(p, "Deleted"),
                None => self.log_event(
                    "DeleteNotFound",
                    None,
                    None,
                    Some("NotFound"),
                    Some(&format!("pod {}/{} not found", r.namespace, r.name)),
                ),
            },
            "Node" => self.remove_node(&r.name),
            "Namespace" => {
                // Namespace deletion deletes every pod in it.
                let victims: Vec<PodId> = self
                    .pod_index
                    .range((r.name.clone(), String::new())..)
                    .take_while(|((ns, _), _)| *ns == r.name)
                    .map(|(_, p)| *p)
                    .collect();
                for p in victims {
                    self.delete_pod(p, "NamespaceDeleted");
                }
                self.delete_namespace_workloads(&r.name);
                self.namespaces.remove(&r.name);
                self.pod_changes.bump_epoch();
                self.log_event("NamespaceDeleted", None, None, None, Some(&r.name));
            }
            "PriorityClass" => {
                self.priority_classes.remove(&r.name);
                self.log_event("PriorityClassDeleted", None, None, None, Some(&r.name));
            }
            "HorizontalPodAutoscaler" => self.delete_hpa(&r.namespace, &r.name),
            _ => {}
        }
    }

    fn log_event(
        &mut self,
        kind: &str,
        pod: Option<PodId>,
        node: Option<NodeId>,
        reason: Option<&str>,
        message: Option<&str>,
    ) {
        let pod_key = pod.map(|p| self.pods[p.0 as usize].meta.key());
        let node_name = node.map(|n| self.nodes[n.0 as usize].meta.name.clone());
        self.log.record(
            self.now,
            kind,
            pod_key.as_deref(),
            node_name.as_deref(),
            reason,
            message,
        );
    }

    fn next_uid(&mut self) -> String {
        self.uid_counter += 1;
        crate::model::meta::uid_from_counter(self.uid_counter)
    }

    fn take_sample(&mut self) {
        let mut s = Sample {
            t_us: self.now.as_micros(),
            ..Default::default()
        };
        s.pods_pending = self.phase_counts[PodPhase::Pending as usize];
        s.pods_running = self.phase_counts[PodPhase::Running as usize];
        s.pods_succeeded = self.phase_counts[PodPhase::Succeeded as usize];
        s.pods_failed = self.phase_counts[PodPhase::Failed as usize];
        s.pods_terminating = self.terminating;
        s.queue_active = self.sched.active_len() as u64;
        s.queue_unschedulable = self.sched.unschedulable_len() as u64;
        for n in self.nodes.iter().filter(|n| n.present) {
            s.nodes_total += 1;
            if n.is_ready() {
                s.nodes_ready += 1;
            }
            s.cpu_requested_m += n.requested.cpu_m;
            s.cpu_allocatable_m += n.allocatable.cpu_m;
            s.memory_requested_bytes += n.requested.memory;
            s.memory_allocatable_bytes += n.allocatable.memory;
        }
        // Replace a sample taken at the same instant (the final one).
        if self.samples.last().is_some_and(|l| l.t_us == s.t_us) {
            self.samples.pop();
        }
        self.sample_workloads(s.t_us);
        self.sample_hpas(s.t_us);
        self.sample_node_groups(s.t_us);
        self.samples.push(s);
        self.usage_sample();
    }
}

impl World {
    /// Upstream node tree order: zones (region + zone) in order of first
    /// appearance, nodes taken round robin across zones.
    fn rebuild_node_order(&mut self) {
        let mut zones: Vec<(String, Vec<NodeId>)> = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if !n.present {
                continue;
            }
            let l = &n.meta.labels;
            let key = format!(
                "{}:\x00:{}",
                l.get(crate::model::node::LABEL_REGION)
                    .map(String::as_str)
                    .unwrap_or(""),
                l.get(crate::model::node::LABEL_ZONE)
                    .map(String::as_str)
                    .unwrap_or("")
            );
            match zones.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(NodeId(i as u32)),
                None => zones.push((key, vec![NodeId(i as u32)])),
            }
        }
        let total: usize = zones.iter().map(|(_, v)| v.len()).sum();
        let mut order = Vec::with_capacity(total);
        let mut idx = 0;
        while order.len() < total {
            for (_, v) in &zones {
                if let Some(n) = v.get(idx) {
                    order.push(*n);
                }
            }
            idx += 1;
        }
        self.node_order = order;
        self.node_order_dirty = false;
    }

    /// Keeps the two affinity node sets in step with node `nid`.
    pub(super) fn refresh_affinity_sets(&mut self, nid: NodeId) {
        let n = &self.nodes[nid.0 as usize];
        if n.present && !n.pods_with_affinity.is_empty() {
            self.nodes_with_affinity.insert(nid);
        } else {
            self.nodes_with_affinity.remove(&nid);
        }
        if n.present && !n.pods_with_required_anti_affinity.is_empty() {
            self.nodes_with_required_anti_affinity.insert(nid);
        } else {
            self.nodes_with_required_anti_affinity.remove(&nid);
        }
    }

    /// The read-only view policies get.
    pub(crate) fn view(&self) -> crate::scheduler::ClusterView<'_> {
        cluster_view!(self)
    }
}
