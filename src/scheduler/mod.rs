//! Scheduling: the policy interface, the kube-scheduler framework and its
//! default plugins, research policies, and the registry of policies by
//! name.
//!
//! A policy sees the pod and a read-only [`ClusterView`], draws from its
//! own random stream, and returns a [`ScheduleResult`] as data; the World
//! applies it. Two ways to write one:
//! - implement [`framework::Plugin`] for one or more extension points and
//!   enable it in a KubeSchedulerConfiguration profile (see
//!   docs/policies.md), or
//! - implement [`SchedulingPolicy`] directly (the loop over nodes inside
//!   the policy: one virtual call per pod), or [`policies::NodePicker`] to
//!   reuse upstream's filters and only choose among feasible nodes.
//!
//! Invariant: policies never mutate cluster state.

pub mod cache;
pub mod config;
pub mod explain;
pub mod extender;
pub mod extender_http;
pub mod extender_jsonl;
pub mod framework;
pub mod hints;
pub mod incremental;
pub mod kube;
pub mod plugins;
pub mod policies;
pub mod profile;
pub mod queue;

use crate::engine::{Duration, SimRng, SimTime};
use crate::model::{NodeId, Pod, PodId};
pub use explain::Explanation;
pub use framework::ClusterView;

/// What a policy decided for one pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Assume the pod on this node and bind it. With `wait`, the pod is held
    /// at Permit (reserved) until released or the timeout expires.
    Bind {
        node: NodeId,
        wait: Option<Duration>,
        /// Pods held at Permit that this decision releases.
        release: Vec<PodId>,
        /// The GPUs of `node` (indexes) the pod gets, for a pod with a GPU
        /// request; empty lets the World choose (the default best fit,
        /// [`crate::model::gpu::best_fit_gpus`]).
        gpus: Vec<u32>,
    },
    /// No node fits. The message reads as upstream's
    /// (`0/3 nodes are available: 3 Insufficient cpu.`). With `nominated`,
    /// preemption chose a node and the victims to evict there.
    Unschedulable {
        message: String,
        nominated: Option<(NodeId, Vec<PodId>)>,
    },
    /// The policy failed (an external policy crashed, …).
    Error(String),
}

/// A decision plus what it cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleResult {
    pub decision: Decision,
    /// Nodes the filters were run on (drives the simulated cycle cost).
    pub nodes_evaluated: u32,
    /// Filled when explanations were asked for.
    pub explanation: Option<Explanation>,
}

impl ScheduleResult {
    pub fn new(decision: Decision, nodes_evaluated: u32) -> ScheduleResult {
        ScheduleResult {
            decision,
            nodes_evaluated,
            explanation: None,
        }
    }
}

/// A scheduler: chooses nodes for the pods whose `schedulerName` it serves.
pub trait SchedulingPolicy {
    /// The name scenarios select it by.
    fn name(&self) -> &str;
    /// Whether it schedules pods with this `schedulerName`.
    fn handles(&self, scheduler_name: &str) -> bool {
        scheduler_name == "default-scheduler"
    }
    /// The run's seed, for a policy that keeps named random streams of its
    /// own besides the one [`SchedulingPolicy::schedule`] gets (the default
    /// scheduler's `preemption` stream). Called once, before scheduling.
    fn set_seed(&mut self, _seed: u64) {}
    /// One scheduling cycle for `pod` (which is `view.pod(pod)`).
    fn schedule(
        &mut self,
        pod: PodId,
        view: &ClusterView,
        rng: &mut SimRng,
        explain: bool,
    ) -> ScheduleResult;
    /// The binding cycle (PreBind, Bind, PostBind) for an assumed pod;
    /// `Err` un-assumes it and sends it back to the queue.
    fn bind(&mut self, _pod: PodId, _node: NodeId, _view: &ClusterView) -> Result<(), String> {
        Ok(())
    }
    /// An assumed pod is given up (Permit timeout or rejection, failed
    /// binding): run Unreserve.
    fn unreserve(&mut self, _pod: PodId, _node: NodeId, _view: &ClusterView) {}
    /// Orders the active queue: true if `a` goes before `b`. The default is
    /// upstream's PrioritySort.
    fn less(&self, a: &Pod, a_enqueued: SimTime, b: &Pod, b_enqueued: SimTime) -> bool {
        plugins::priority_sort::less(a, a_enqueued, b, b_enqueued)
    }
    /// Whether the queue order differs from PrioritySort; if so the World
    /// asks [`SchedulingPolicy::pick_next`] at every pop.
    fn custom_queue_order(&self) -> bool {
        false
    }
    /// Picks the next pod among the active ones (index into `queue`, which
    /// lists pods with their enqueue times in PrioritySort order). The
    /// default takes the least by [`SchedulingPolicy::less`].
    /// QueueingHints: the plugins that rejected `pod` in the cycle just run
    /// (upstream `UnschedulablePlugins`). `Some` with an empty list is a
    /// failure no plugin caused (an error): upstream retries it after its
    /// back-off without waiting for an event. `None` (the default) is a
    /// policy that declares no events: its parked pods move on every
    /// cluster event.
    fn unschedulable_plugins(&mut self, _pod: PodId) -> Option<Vec<&'static str>> {
        None
    }
    /// QueueingHints: whether any of `plugins` (of the profile serving
    /// `scheduler_name`) registered `event` at all; when none did, no hint
    /// is asked (upstream `isEventOfInterest`, per rejecting set).
    fn registers_event(
        &self,
        _scheduler_name: &str,
        _plugins: &[&'static str],
        _event: &hints::ClusterEvent,
    ) -> bool {
        true
    }
    /// QueueingHints: whether `event` may make `pod`, parked after
    /// `plugins` rejected it, schedulable (upstream `isPodWorthRequeuing`).
    fn is_worth_requeuing(
        &self,
        _pod: PodId,
        _plugins: &[&'static str],
        _event: &hints::ClusterEvent,
        _change: &hints::Change,
        _view: &ClusterView,
    ) -> bool {
        true
    }
    fn pick_next(&self, queue: &[(PodId, SimTime)], view: &ClusterView) -> usize {
        let mut best = 0;
        for i in 1..queue.len() {
            let (a, ta) = queue[i];
            let (b, tb) = queue[best];
            if self.less(view.pod(a), ta, view.pod(b), tb) {
                best = i;
            }
        }
        best
    }
}

/// Every registered policy name: `default` (the kube-scheduler framework
/// with upstream's default profile) and the research policies.
pub fn policy_names() -> Vec<&'static str> {
    let mut v = vec!["default"];
    v.extend(policies::NAMES);
    v
}

/// Builds the policy registered under `name`, with the scheduler
/// configuration of the scenario (used by `default`).
pub fn new_policy(
    name: &str,
    cfg: &config::SchedulerConfig,
) -> Result<Box<dyn SchedulingPolicy>, String> {
    match name {
        "default" => Ok(Box::new(kube::KubeScheduler::new(cfg)?)),
        other => policies::new(other, cfg).unwrap_or_else(|| {
            Err(format!(
                "unknown scheduling policy {other:?}; valid policies: {}",
                policy_names().join(", ")
            ))
        }),
    }
}
