//! The scheduling framework, shaped like kube-scheduler's
//! (pkg/scheduler/framework): plugins implement extension points
//! (PreFilter, Filter, PostFilter, PreScore, Score, NormalizeScore,
//! Reserve/Unreserve, Permit, PreBind, Bind, PostBind); a profile runs the
//! enabled plugins of each point in order. Per-cycle data lives in a
//! cloneable [`CycleState`], so preemption can evaluate "what if these pods
//! were gone" without touching the plugins.
//!
//! Invariant: plugins only read the cluster; every result is data.

use std::any::Any;
use std::collections::BTreeMap;

use crate::engine::{Duration, SimTime};
use crate::model::{Labels, Node, NodeId, Pod, PodId};

/// Upstream `framework.MaxNodeScore` / `MinNodeScore`.
pub const MAX_NODE_SCORE: i64 = 100;
pub const MIN_NODE_SCORE: i64 = 0;

/// Status codes (upstream `framework.Code`), in upstream's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    Success,
    Error,
    Unschedulable,
    UnschedulableAndUnresolvable,
    Wait,
    Skip,
    Pending,
}

/// The result of running a plugin (upstream `framework.Status`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub code: Code,
    pub reasons: Vec<String>,
    /// The plugin that produced it (set by the framework).
    pub plugin: &'static str,
}

impl Status {
    #[inline]
    pub fn success() -> Status {
        Status {
            code: Code::Success,
            reasons: Vec::new(),
            plugin: "",
        }
    }
    pub fn new(code: Code, reason: impl Into<String>) -> Status {
        Status {
            code,
            reasons: vec![reason.into()],
            plugin: "",
        }
    }
    pub fn unschedulable(reason: impl Into<String>) -> Status {
        Status::new(Code::Unschedulable, reason)
    }
    pub fn unresolvable(reason: impl Into<String>) -> Status {
        Status::new(Code::UnschedulableAndUnresolvable, reason)
    }
    pub fn error(reason: impl Into<String>) -> Status {
        Status::new(Code::Error, reason)
    }
    pub fn skip() -> Status {
        Status {
            code: Code::Skip,
            reasons: Vec::new(),
            plugin: "",
        }
    }
    #[inline]
    pub fn is_success(&self) -> bool {
        self.code == Code::Success
    }
    pub fn is_skip(&self) -> bool {
        self.code == Code::Skip
    }
    /// Unschedulable or UnschedulableAndUnresolvable.
    pub fn is_rejected(&self) -> bool {
        matches!(
            self.code,
            Code::Unschedulable | Code::UnschedulableAndUnresolvable
        )
    }
    pub fn with_plugin(mut self, p: &'static str) -> Status {
        self.plugin = p;
        self
    }
    /// The reasons joined as upstream's `Status.Message()`.
    pub fn message(&self) -> String {
        self.reasons.join(", ")
    }
}

/// Per-cycle data a plugin writes in PreFilter/PreScore and reads later.
pub trait StateData: Any {
    fn clone_box(&self) -> Box<dyn StateData>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Any + Clone> StateData for T {
    fn clone_box(&self) -> Box<dyn StateData> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Upstream `framework.CycleState`: keyed by a plugin-chosen static name.
#[derive(Default)]
pub struct CycleState {
    entries: Vec<(&'static str, Box<dyn StateData>)>,
    /// Plugins whose PreFilter returned Skip: their Filter is not run.
    pub skip_filter: Vec<&'static str>,
    /// Plugins whose PreScore returned Skip: their Score is not run.
    pub skip_score: Vec<&'static str>,
    /// Keys written with `write_scheduling_only`.
    scheduling_only: Vec<&'static str>,
}

impl Clone for CycleState {
    fn clone(&self) -> Self {
        CycleState {
            entries: self
                .entries
                .iter()
                .map(|(k, v)| (*k, (**v).clone_box()))
                .collect(),
            skip_filter: self.skip_filter.clone(),
            skip_score: self.skip_score.clone(),
            scheduling_only: self.scheduling_only.clone(),
        }
    }
}

impl CycleState {
    pub fn write<T: Any + Clone>(&mut self, key: &'static str, v: T) {
        if let Some(e) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            e.1 = Box::new(v);
        } else {
            self.entries.push((key, Box::new(v)));
        }
    }
    /// Like [`CycleState::write`], for data only the scheduling cycle
    /// reads: [`CycleState::end_scheduling_cycle`] drops it, so a plugin
    /// that shares the value with a cache (through an `Rc`) gets it back
    /// unshared while the pod waits for its binding cycle.
    pub fn write_scheduling_only<T: Any + Clone>(&mut self, key: &'static str, v: T) {
        self.write(key, v);
        if !self.scheduling_only.contains(&key) {
            self.scheduling_only.push(key);
        }
    }
    /// Drops the entries written with
    /// [`CycleState::write_scheduling_only`] (no binding-cycle plugin reads
    /// them).
    pub fn end_scheduling_cycle(&mut self) {
        let only = std::mem::take(&mut self.scheduling_only);
        self.entries.retain(|(k, _)| !only.contains(k));
    }
    pub fn read<T: Any>(&self, key: &'static str) -> Option<&T> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| (**v).as_any().downcast_ref::<T>())
    }
    pub fn read_mut<T: Any>(&mut self, key: &'static str) -> Option<&mut T> {
        self.entries
            .iter_mut()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| (**v).as_any_mut().downcast_mut::<T>())
    }
}

/// What plugins see of the cluster: every node (removed ones have
/// `present == false`) and every pod by id. A node's pods are
/// `node.pods` (bound or assumed, not terminal).
#[derive(Clone, Copy)]
pub struct ClusterView<'a> {
    pub nodes: &'a [Node],
    pub pods: &'a [Pod],
    pub namespaces: &'a BTreeMap<String, Labels>,
    /// For each normalized image name, how many present nodes have it.
    pub image_nodes: &'a BTreeMap<String, u32>,
    /// Present nodes in the scheduler's order: round robin across zones,
    /// as upstream's node tree lists them.
    pub node_order: &'a [NodeId],
    /// Pods nominated to each node by preemption.
    pub nominated: &'a BTreeMap<NodeId, Vec<PodId>>,
    /// Pods held at Permit.
    pub waiting: &'a [PodId],
    /// Present nodes holding pods with any pod (anti-)affinity term, and
    /// with required anti-affinity terms (upstream's snapshot lists
    /// `havePodsWithAffinityNodeInfoList` and
    /// `havePodsWithRequiredAntiAffinityNodeInfoList`).
    pub nodes_with_affinity: &'a std::collections::BTreeSet<NodeId>,
    pub nodes_with_required_anti_affinity: &'a std::collections::BTreeSet<NodeId>,
    /// Pods entering and leaving nodes since the run began, for plugins
    /// that keep incremental state (`None`: they rebuild it every cycle).
    pub pod_changes: Option<&'a crate::scheduler::incremental::PodChangeLog>,
    pub now: SimTime,
    /// The PodDisruptionBudgets with their current status (preemption
    /// prefers victims that violate fewer of them).
    pub pdbs: &'a [crate::scheduler::plugins::default_preemption::PodDisruptionBudget],
}

/// The two affinity node sets of a [`ClusterView`], computed from scratch
/// (for tests and benchmarks that build views by hand).
pub fn affinity_node_sets(
    nodes: &[Node],
) -> (
    std::collections::BTreeSet<NodeId>,
    std::collections::BTreeSet<NodeId>,
) {
    let mut aff = std::collections::BTreeSet::new();
    let mut anti = std::collections::BTreeSet::new();
    for (i, n) in nodes.iter().enumerate() {
        if !n.present {
            continue;
        }
        if !n.pods_with_affinity.is_empty() {
            aff.insert(NodeId(i as u32));
        }
        if !n.pods_with_required_anti_affinity.is_empty() {
            anti.insert(NodeId(i as u32));
        }
    }
    (aff, anti)
}

impl<'a> ClusterView<'a> {
    pub fn pod(&self, id: PodId) -> &'a Pod {
        &self.pods[id.0 as usize]
    }
    pub fn node(&self, id: NodeId) -> &'a Node {
        &self.nodes[id.0 as usize]
    }
    /// Number of nodes in the cluster (present ones).
    pub fn present_nodes(&self) -> usize {
        self.node_order.len()
    }
    pub fn namespace_labels(&self, ns: &str) -> Option<Labels> {
        self.namespaces.get(ns).cloned()
    }
}

/// The extension points a plugin can implement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Point {
    QueueSort,
    PreFilter,
    Filter,
    PostFilter,
    PreScore,
    Score,
    Reserve,
    Permit,
    PreBind,
    Bind,
    PostBind,
}

impl Point {
    pub const ALL: [Point; 11] = [
        Point::QueueSort,
        Point::PreFilter,
        Point::Filter,
        Point::PostFilter,
        Point::PreScore,
        Point::Score,
        Point::Reserve,
        Point::Permit,
        Point::PreBind,
        Point::Bind,
        Point::PostBind,
    ];
    /// The field name in KubeSchedulerConfiguration `plugins`.
    pub fn config_name(self) -> &'static str {
        match self {
            Point::QueueSort => "queueSort",
            Point::PreFilter => "preFilter",
            Point::Filter => "filter",
            Point::PostFilter => "postFilter",
            Point::PreScore => "preScore",
            Point::Score => "score",
            Point::Reserve => "reserve",
            Point::Permit => "permit",
            Point::PreBind => "preBind",
            Point::Bind => "bind",
            Point::PostBind => "postBind",
        }
    }
}

/// The result of PreFilter (upstream `PreFilterResult` + `Status`).
#[derive(Clone, Debug)]
pub struct PreFilterOutcome {
    /// `Some` restricts the cycle to these nodes.
    pub nodes: Option<Vec<NodeId>>,
    pub status: Status,
}

impl PreFilterOutcome {
    pub fn ok() -> PreFilterOutcome {
        PreFilterOutcome {
            nodes: None,
            status: Status::success(),
        }
    }
    pub fn status(status: Status) -> PreFilterOutcome {
        PreFilterOutcome {
            nodes: None,
            status,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeScore {
    pub node: NodeId,
    pub score: i64,
}

/// What a PostFilter plugin (preemption) found.
#[derive(Clone, Debug)]
pub struct PostFilterOutcome {
    /// The node to nominate, and the pods to evict to make room there.
    pub nominated: Option<(NodeId, Vec<PodId>)>,
    pub status: Status,
}

/// Permit's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PermitDecision {
    Allow,
    /// Hold the pod (reserved) until allowed or the timeout expires.
    Wait(Duration),
    Reject(Status),
}

/// The framework operations a PostFilter plugin may call.
pub trait Handle {
    /// Runs every Filter plugin (with the nominated-pods rule) for `pod` on
    /// `node` (whose id is `node_id`) as it would be in `state`.
    fn run_filters(
        &self,
        state: &CycleState,
        pod_id: PodId,
        pod: &Pod,
        node_id: NodeId,
        node: &Node,
        view: &ClusterView,
    ) -> Status;
    /// Runs PreFilter extensions so `state` reflects `victim` removed from `node`.
    fn remove_pod(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        victim: &Pod,
        node: &Node,
        view: &ClusterView,
    ) -> Status;
    /// Runs PreFilter extensions so `state` reflects `added` placed on `node`.
    fn add_pod(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        added: &Pod,
        node: &Node,
        view: &ClusterView,
    ) -> Status;
    /// A uniform integer in `[0, n)` (0 when `n <= 0`) for a PostFilter
    /// plugin's random choices (upstream draws from Go's global
    /// `rand.Int31n`). The default scheduler draws from its seeded
    /// `preemption` stream ([`crate::engine::Stream::Preemption`]); this
    /// default returns 0.
    fn rand_int31n(&self, _n: i32) -> i32 {
        0
    }
}

/// A scheduling plugin. Implement `name`, `points` and the methods of the
/// extension points you list; every method has a neutral default.
pub trait Plugin {
    /// The name used in KubeSchedulerConfiguration.
    fn name(&self) -> &'static str;
    /// The extension points this plugin implements (used to expand
    /// `multiPoint` and to validate configurations).
    fn points(&self) -> &'static [Point];
    /// True if this plugin's Filter verdict and raw Score for a pod depend
    /// only on the pod (its scheduling signature: spec, requests,
    /// namespace, labels), the plugin's args and the node itself — not on
    /// other nodes or pods elsewhere. The scheduler then reuses them across
    /// identical pods while the node is unchanged. Say false if unsure.
    fn node_local(&self) -> bool {
        false
    }

    /// QueueSort: whether `a` should be scheduled before `b`.
    fn less(&self, _a: &Pod, _a_enqueued: SimTime, _b: &Pod, _b_enqueued: SimTime) -> bool {
        false
    }
    fn pre_filter(
        &self,
        _state: &mut CycleState,
        _pod: &Pod,
        _view: &ClusterView,
    ) -> PreFilterOutcome {
        PreFilterOutcome::ok()
    }
    /// PreFilterExtensions.AddPod.
    fn add_pod(
        &self,
        _state: &mut CycleState,
        _pod: &Pod,
        _added: &Pod,
        _node: &Node,
        _view: &ClusterView,
    ) -> Status {
        Status::success()
    }
    /// PreFilterExtensions.RemovePod.
    fn remove_pod(
        &self,
        _state: &mut CycleState,
        _pod: &Pod,
        _removed: &Pod,
        _node: &Node,
        _view: &ClusterView,
    ) -> Status {
        Status::success()
    }
    fn filter(&self, _state: &CycleState, _pod: &Pod, _node: &Node, _view: &ClusterView) -> Status {
        Status::success()
    }
    /// `statuses` holds the Filter verdict of every node that was rejected.
    fn post_filter(
        &self,
        _state: &CycleState,
        _pod_id: PodId,
        _pod: &Pod,
        _statuses: &BTreeMap<NodeId, Status>,
        _view: &ClusterView,
        _handle: &dyn Handle,
    ) -> PostFilterOutcome {
        PostFilterOutcome {
            nominated: None,
            status: Status::unschedulable("no PostFilter result"),
        }
    }
    fn pre_score(
        &self,
        _state: &mut CycleState,
        _pod: &Pod,
        _nodes: &[NodeId],
        _view: &ClusterView,
    ) -> Status {
        Status::success()
    }
    fn score(
        &self,
        _state: &CycleState,
        _pod: &Pod,
        _node: &Node,
        _view: &ClusterView,
    ) -> Result<i64, Status> {
        Ok(0)
    }
    /// A shortcut for Score: `Some(s)` when this cycle every node's raw
    /// score is `s` (e.g. ImageLocality when none of the pod's images is on
    /// any node), so the scheduler need not ask node by node. It must
    /// agree with [`Plugin::score`] on every node; the default, `None`,
    /// always does.
    fn uniform_score(&self, _state: &CycleState, _pod: &Pod, _view: &ClusterView) -> Option<i64> {
        None
    }
    /// Whether this plugin has a NormalizeScore (ScoreExtensions).
    fn has_normalize(&self) -> bool {
        false
    }
    fn normalize_score(
        &self,
        _state: &CycleState,
        _pod: &Pod,
        _scores: &mut [NodeScore],
    ) -> Status {
        Status::success()
    }
    fn reserve(
        &self,
        _state: &mut CycleState,
        _pod: &Pod,
        _node: NodeId,
        _view: &ClusterView,
    ) -> Status {
        Status::success()
    }
    fn unreserve(&self, _state: &mut CycleState, _pod: &Pod, _node: NodeId, _view: &ClusterView) {}
    /// Permit; `waiting` lists the pods currently held at Permit. Pods in
    /// the returned list are released (allowed) together with this one.
    fn permit(
        &self,
        _state: &CycleState,
        _pod: &Pod,
        _node: NodeId,
        _waiting: &[PodId],
        _view: &ClusterView,
    ) -> (PermitDecision, Vec<PodId>) {
        (PermitDecision::Allow, Vec::new())
    }
    fn pre_bind(
        &self,
        _state: &CycleState,
        _pod: &Pod,
        _node: NodeId,
        _view: &ClusterView,
    ) -> Status {
        Status::success()
    }
    /// Bind: Skip lets the next Bind plugin try.
    fn bind(&self, _state: &CycleState, _pod: &Pod, _node: NodeId, _view: &ClusterView) -> Status {
        Status::skip()
    }
    fn post_bind(&self, _state: &CycleState, _pod: &Pod, _node: NodeId, _view: &ClusterView) {}

    /// EnqueueExtensions (upstream `EventsToRegister`): the cluster events
    /// that may make a pod this plugin rejected schedulable. `None` (the
    /// default, a plugin without EnqueueExtensions) registers every event.
    fn events_to_register(&self) -> Option<&'static [crate::scheduler::hints::ClusterEvent]> {
        None
    }
    /// The QueueingHintFn for `event` (one this plugin registered): whether
    /// it may make `pod` (`pod_id`), which this plugin rejected,
    /// schedulable. The default queues it.
    fn queueing_hint(
        &self,
        _pod_id: PodId,
        _pod: &Pod,
        _event: &crate::scheduler::hints::ClusterEvent,
        _change: &crate::scheduler::hints::Change,
        _view: &ClusterView,
    ) -> crate::scheduler::hints::QueueingHint {
        crate::scheduler::hints::QueueingHint::Queue
    }
}
