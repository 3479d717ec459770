//! Pods: spec, status, QoS class and effective requests, computed as
//! upstream does (pkg/apis/core/v1/helper/qos `GetPodQOS`,
//! component-helpers/resource `PodRequests`).

use std::fmt;

use super::affinity::{NodeAffinity, PodAffinity, TopologySpreadConstraint};
use super::meta::ObjectMeta;
use super::node::NodeId;
use super::resources::Resources;
use super::taints::Toleration;
use crate::engine::{Duration, SimTime};

/// Index of a pod in the world's pod table; stable for the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PodId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RestartPolicy {
    Always,
    OnFailure,
    Never,
}

impl RestartPolicy {
    pub fn parse(s: &str) -> Option<RestartPolicy> {
        match s {
            "Always" => Some(RestartPolicy::Always),
            "OnFailure" => Some(RestartPolicy::OnFailure),
            "Never" => Some(RestartPolicy::Never),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::Always => "Always",
            RestartPolicy::OnFailure => "OnFailure",
            RestartPolicy::Never => "Never",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerPort {
    pub container_port: i32,
    /// 0 when unset.
    pub host_port: i32,
    pub protocol: String,
    pub host_ip: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    pub name: String,
    pub image: String,
    pub image_pull_policy: PullPolicy,
    /// After API defaulting: a limit without a request sets the request.
    pub requests: Resources,
    pub limits: Resources,
    pub ports: Vec<ContainerPort>,
    /// `Always` on an init container makes it a sidecar.
    pub restart_policy: Option<RestartPolicy>,
    /// `env`: plain values and `fieldRef`s ([`Pod::container_env`] resolves
    /// them; the Linux backend gives them to the container's process).
    pub env: Vec<EnvVar>,
}

/// One entry of a container's `env`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    /// `value` (empty when unset).
    pub value: String,
    /// `valueFrom.fieldRef.fieldPath`, resolved from the pod when the
    /// container starts.
    pub field_path: Option<String>,
}

/// The `fieldRef.fieldPath`s upstream accepts for environment variables
/// (pkg/apis/core/validation `validEnvDownwardAPIFieldPathExpressions`),
/// besides `metadata.labels['…']` and `metadata.annotations['…']`.
pub const ENV_FIELD_PATHS: [&str; 11] = [
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
    "metadata.labels",
    "metadata.annotations",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodSpec {
    pub containers: Vec<Container>,
    pub init_containers: Vec<Container>,
    pub node_selector: std::collections::BTreeMap<String, String>,
    /// Set by the user to bypass the scheduler, or by binding.
    pub node_name: Option<String>,
    pub node_affinity: Option<NodeAffinity>,
    pub pod_affinity: Option<PodAffinity>,
    pub pod_anti_affinity: Option<PodAffinity>,
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
    pub tolerations: Vec<Toleration>,
    /// Resolved by priority admission from `priorityClassName`.
    pub priority: i32,
    pub priority_class_name: Option<String>,
    pub scheduler_name: String,
    pub restart_policy: RestartPolicy,
    pub termination_grace_period: Duration,
    /// RuntimeClass overhead, added to the pod's requests.
    pub overhead: Resources,
    /// `spec.schedulingGates` names: while any is left the scheduler does
    /// not consider the pod (gates can only be removed after creation).
    pub scheduling_gates: Vec<String>,
}

impl Default for Container {
    /// A container named `c` with image `img`, no resources and no ports.
    fn default() -> Self {
        Container {
            name: "c".into(),
            image: "img".into(),
            image_pull_policy: PullPolicy::IfNotPresent,
            requests: Resources::default(),
            limits: Resources::default(),
            ports: Vec::new(),
            restart_policy: None,
            env: Vec::new(),
        }
    }
}

impl PodSpec {
    /// The spec's debug rendering for template hashes, leaving out
    /// `scheduling_gates` when empty (as upstream's encoding omits empty
    /// fields), so templates without gates hash as before the field
    /// existed.
    pub fn hash_text(&self) -> String {
        let s = format!("{self:?}");
        if self.scheduling_gates.is_empty() {
            s.replace(", scheduling_gates: []", "")
        } else {
            s
        }
    }
}

impl Default for PodSpec {
    /// The API server's defaults: `default-scheduler`, restartPolicy
    /// Always, a 30 s grace period, priority 0; no containers.
    fn default() -> Self {
        PodSpec {
            containers: Vec::new(),
            init_containers: Vec::new(),
            node_selector: Default::default(),
            node_name: None,
            node_affinity: None,
            pod_affinity: None,
            pod_anti_affinity: None,
            topology_spread_constraints: Vec::new(),
            tolerations: Vec::new(),
            priority: 0,
            priority_class_name: None,
            scheduler_name: "default-scheduler".to_string(),
            restart_policy: RestartPolicy::Always,
            termination_grace_period: Duration::from_secs(30),
            overhead: Resources::default(),
            scheduling_gates: Vec::new(),
        }
    }
}

/// Simulation-only behaviour, from `kubesim.dev/...` annotations or the
/// Scenario's defaults. A real cluster ignores these annotations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodBehavior {
    /// From binding to Running (image pull, container start).
    pub startup: Duration,
    /// How long the main containers run once started; `None` runs until deleted.
    pub run: Option<Duration>,
    /// Exit code when the run ends: 0 means Succeeded.
    pub exit_code: i32,
    /// How long the process takes to exit after SIGTERM (capped by the grace period).
    pub shutdown: Duration,
    /// Container usage models (`kubesim.dev/cpu-usage`, …); `None` for a
    /// pod without any, which the node model never sees.
    pub usage: Option<Box<super::usage::PodUsage>>,
    /// Readiness and liveness probes with their modelled outcomes; `None`
    /// without probes (the pod is Ready as soon as it runs).
    pub probes: Option<Box<PodProbes>>,
    /// Total run time of the (non-sidecar) init containers, which run one
    /// after another before the app containers start
    /// (`kubesim.dev/run-time.<init container>`).
    pub init_time: Duration,
    /// How long the preStop hooks run before SIGTERM
    /// (`kubesim.dev/prestop-time`).
    pub prestop: Duration,
    /// Size of each of the pod's images that the node does not know
    /// (`kubesim.dev/image-size`, `spec.defaults.imageSize`); used only on
    /// nodes with an image pull bandwidth.
    pub image_size: Option<i64>,
}

/// Probe timing (upstream defaults: period 10 s, timeout 1 s, success
/// threshold 1, failure threshold 3, no initial delay).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    pub initial_delay: Duration,
    pub period: Duration,
    pub timeout: Duration,
    pub success_threshold: u32,
    pub failure_threshold: u32,
}

impl Default for Probe {
    fn default() -> Self {
        Probe {
            initial_delay: Duration::ZERO,
            period: Duration::from_secs(10),
            timeout: Duration::from_secs(1),
            success_threshold: 1,
            failure_threshold: 3,
        }
    }
}

impl Probe {
    /// The first probe at or after `t` (since the container started): the
    /// prober runs every period from the container's start and skips
    /// probes before `initialDelaySeconds` (pkg/kubelet/prober/worker.go).
    pub fn first_probe_at_or_after(&self, t: Duration) -> Duration {
        let from = t.as_micros().max(self.initial_delay.as_micros());
        let p = self.period.as_micros().max(1);
        Duration::from_micros(from.div_ceil(p) * p)
    }
    /// When a readiness probe that starts succeeding at `succeeds_from`
    /// marks the container ready: `successThreshold` consecutive successes
    /// (the initial result is Failure).
    pub fn ready_at(&self, succeeds_from: Duration) -> Duration {
        let first = self.first_probe_at_or_after(succeeds_from);
        let more = self
            .period
            .saturating_mul(u64::from(self.success_threshold.max(1)) - 1);
        Duration::from_micros(first.as_micros().saturating_add(more.as_micros()))
    }
    /// When a liveness probe that starts failing at `fails_from` has failed
    /// `failureThreshold` times in a row and the kubelet kills the container.
    pub fn kill_at(&self, fails_from: Duration) -> Duration {
        let first = self.first_probe_at_or_after(fails_from);
        let more = self
            .period
            .saturating_mul(u64::from(self.failure_threshold.max(1)) - 1);
        Duration::from_micros(first.as_micros().saturating_add(more.as_micros()))
    }
}

/// A pod's probes and their modelled outcomes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodProbes {
    /// Readiness probes of the app containers.
    pub readiness: Vec<Probe>,
    /// Liveness probes of the app containers.
    pub liveness: Vec<Probe>,
    /// Readiness probes succeed from this long after the start
    /// (`kubesim.dev/ready-after`).
    pub ready_after: Duration,
    /// Liveness probes fail from this long after the start
    /// (`kubesim.dev/liveness-fail-after`); `None`: they always succeed.
    pub liveness_fail_after: Option<Duration>,
}

impl PodProbes {
    /// When the pod becomes Ready after its containers started: when the
    /// last container's readiness probe passes.
    pub fn ready_after_start(&self) -> Duration {
        self.readiness
            .iter()
            .map(|p| p.ready_at(self.ready_after))
            .max()
            .unwrap_or(Duration::ZERO)
    }
    /// When the liveness probes make the kubelet kill the containers.
    pub fn liveness_kill_after_start(&self) -> Option<Duration> {
        let from = self.liveness_fail_after?;
        self.liveness.iter().map(|p| p.kill_at(from)).min()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
}

impl PodPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            PodPhase::Pending => "Pending",
            PodPhase::Running => "Running",
            PodPhase::Succeeded => "Succeeded",
            PodPhase::Failed => "Failed",
        }
    }
    pub fn is_terminal(self) -> bool {
        matches!(self, PodPhase::Succeeded | PodPhase::Failed)
    }
}

impl fmt::Display for PodPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QosClass {
    Guaranteed,
    Burstable,
    BestEffort,
}

impl QosClass {
    pub fn as_str(self) -> &'static str {
        match self {
            QosClass::Guaranteed => "Guaranteed",
            QosClass::Burstable => "Burstable",
            QosClass::BestEffort => "BestEffort",
        }
    }
}

/// What happened to a pod, with simulated timestamps (µs). Used for results.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodStatus {
    pub phase: Option<PodPhase>,
    pub node: Option<NodeId>,
    pub reason: String,
    pub message: String,
    /// Set when the scheduler chose a node (PodScheduled=True).
    pub scheduled_at: Option<SimTime>,
    /// Set when the binding was applied (nodeName set).
    pub bound_at: Option<SimTime>,
    /// First time the pod became Running.
    pub started_at: Option<SimTime>,
    /// When the pod reached a terminal phase or was removed.
    pub finished_at: Option<SimTime>,
    pub restart_count: u32,
    pub exit_code: Option<i32>,
    /// Scheduling attempts, including the successful one.
    pub scheduling_attempts: u32,
    /// Set by preemption: the node the pod is expected to go to once the
    /// victims are gone.
    pub nominated_node: Option<NodeId>,
    /// The GPUs (indexes into the node's GPUs) the pod is bound to; empty
    /// for a pod without a GPU request. See [`super::gpu`].
    pub gpu_ids: Vec<u32>,
    /// Since when the pod is Ready (its containers run and their readiness
    /// probes pass); `None` while it is not. See [`Pod::ready_since`].
    pub ready_since: Option<SimTime>,
    /// The state of the pod's (app) containers as the kubelet reports it,
    /// and the last termination before a restart.
    pub container_state: ContainerState,
    pub last_termination: Option<(&'static str, i32)>,
}

/// A container's state (upstream `ContainerState`): kubesim keeps one per
/// pod (its containers start and stop together).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ContainerState {
    /// Not on a node yet (no container statuses).
    #[default]
    None,
    /// `ContainerCreating`, `PodInitializing`, `CrashLoopBackOff`,
    /// `ErrImageNeverPull`.
    Waiting {
        reason: &'static str,
    },
    Running {
        started_at: SimTime,
    },
    /// `Completed`, `Error`, `OOMKilled`.
    Terminated {
        reason: &'static str,
        exit_code: i32,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pod {
    pub meta: ObjectMeta,
    pub spec: PodSpec,
    pub behavior: PodBehavior,
    pub status: PodStatus,
    /// Effective requests ([`pod_requests`]), cached at admission.
    pub requests: Resources,
    /// (cpu_m, memory) with the scoring defaults for missing requests
    /// ([`nonzero_requests`]), cached at admission.
    pub nonzero_requests: (i64, i64),
    pub qos: QosClass,
    /// A digest of everything scheduling plugins read of this pod (spec,
    /// requests, namespace, labels), set at creation; 0 means "unknown"
    /// (never cached). Identical pods share it, so the scheduler can reuse
    /// node-local verdicts between them.
    pub sched_signature: u64,
    /// The GPU request from the `alibabacloud.com/gpu-*` annotations
    /// ([`super::gpu`]); `None` for a pod that asks for no GPU.
    pub gpu: Option<super::gpu::GpuRequest>,
}

impl Pod {
    /// A pod with its derived fields (effective and non-zero requests, QoS
    /// class) computed from `spec`; no GPU request, status empty.
    pub fn new(meta: ObjectMeta, spec: PodSpec, behavior: PodBehavior) -> Pod {
        Pod {
            meta,
            requests: pod_requests(&spec),
            nonzero_requests: nonzero_requests(&spec),
            qos: qos_class(&spec),
            gpu: None,
            sched_signature: 0,
            spec,
            behavior,
            status: PodStatus::default(),
        }
    }

    /// A container's environment as the kubelet builds it
    /// (pkg/kubelet `makeEnvironmentVariables`, reduced): entries in
    /// order, `fieldRef`s resolved from the pod (`podFieldSelectorRuntimeValue`;
    /// `spec.nodeName` once bound; no IPs: kubesim gives pods none, so
    /// those are empty), a later entry with the same name replacing an
    /// earlier one's value in place.
    pub fn container_env(&self, c: &Container) -> Vec<(String, String)> {
        let node_name = self.spec.node_name.as_deref().unwrap_or_default();
        let mut out: Vec<(String, String)> = Vec::with_capacity(c.env.len());
        for e in &c.env {
            let v = match &e.field_path {
                None => e.value.clone(),
                Some(f) => self.field_value(f, node_name),
            };
            match out.iter_mut().find(|(n, _)| *n == e.name) {
                Some(slot) => slot.1 = v,
                None => out.push((e.name.clone(), v)),
            }
        }
        out
    }

    fn field_value(&self, path: &str, node_name: &str) -> String {
        let subscript = |prefix: &str| {
            path.strip_prefix(prefix)
                .and_then(|r| r.strip_prefix("['"))
                .and_then(|r| r.strip_suffix("']"))
                .map(str::to_string)
        };
        if let Some(k) = subscript("metadata.labels") {
            return self.meta.labels.get(&k).cloned().unwrap_or_default();
        }
        if let Some(k) = subscript("metadata.annotations") {
            return self.meta.annotations.get(&k).cloned().unwrap_or_default();
        }
        match path {
            "metadata.name" => self.meta.name.clone(),
            "metadata.namespace" => self.meta.namespace.clone(),
            "metadata.uid" => self.meta.uid.clone(),
            "spec.nodeName" => node_name.to_string(),
            _ => String::new(),
        }
    }

    pub fn phase(&self) -> PodPhase {
        self.status.phase.unwrap_or(PodPhase::Pending)
    }
    pub fn is_terminating(&self) -> bool {
        self.meta.deletion_timestamp.is_some()
    }

    /// Since when the pod has been Ready (condition `Ready=True`, its
    /// lastTransitionTime), or `None` if it is not Ready now: the one place
    /// readiness is decided (controllers' availability, minReadySeconds,
    /// PDB health, endpoints). The kubelet sets it when the containers run
    /// and every readiness probe passes, and clears it when they stop,
    /// during a crash-loop back-off, when the pod starts terminating, and
    /// when the node lifecycle controller marks the node's pods not ready.
    pub fn ready_since(&self) -> Option<SimTime> {
        if self.phase() == PodPhase::Running && !self.is_terminating() {
            self.status.ready_since
        } else {
            None
        }
    }

    /// Whether the pod is Ready now.
    pub fn is_ready(&self) -> bool {
        self.ready_since().is_some()
    }

    /// The pod's conditions as the API would show them at the end of the
    /// run, in upstream's order: PodScheduled (False with reason
    /// `SchedulingGated` while scheduling gates remain, `Unschedulable`
    /// while the scheduler cannot place it), Initialized,
    /// ContainersReady and Ready (from [`Pod::ready_since`]: without
    /// readiness probes a running pod is ready at once); a terminal pod's
    /// containers are not.
    pub fn conditions(&self) -> Vec<(&'static str, &'static str, &'static str)> {
        let mut v = Vec::with_capacity(4);
        let scheduled = self.status.bound_at.is_some();
        if scheduled {
            v.push(("PodScheduled", "True", ""));
        } else if !self.spec.scheduling_gates.is_empty() {
            // Set by the API server at creation (pod strategy).
            v.push(("PodScheduled", "False", "SchedulingGated"));
        } else if self.status.scheduling_attempts > 0 {
            v.push(("PodScheduled", "False", "Unschedulable"));
        }
        if !scheduled {
            return v;
        }
        let started = self.status.started_at.is_some();
        v.push(("Initialized", if started { "True" } else { "False" }, ""));
        let ready = self.is_ready() && self.phase() == PodPhase::Running && !self.is_terminating();
        let (st, reason) = match (ready, self.phase()) {
            (true, _) => ("True", ""),
            (false, PodPhase::Succeeded) => ("False", "PodCompleted"),
            (false, PodPhase::Failed) => ("False", "PodFailed"),
            (false, _) => ("False", "ContainersNotReady"),
        };
        v.push(("ContainersReady", st, reason));
        v.push(("Ready", st, reason));
        v
    }
}

/// Upstream `resource.PodRequests` (no pod-level resources, no in-place
/// resize): the larger of the sum over containers (plus restartable init
/// containers, "sidecars") and the largest init container (plus the sidecars
/// started before it); then the pod overhead is added.
pub fn pod_requests(spec: &PodSpec) -> Resources {
    let mut reqs = Resources::default();
    for c in &spec.containers {
        reqs.add(&c.requests);
    }
    let mut restartable_sum = Resources::default();
    let mut init_max = Resources::default();
    for c in &spec.init_containers {
        let mut eff = c.requests.clone();
        if c.restart_policy == Some(RestartPolicy::Always) {
            restartable_sum.add(&c.requests);
            eff = restartable_sum.clone();
        } else {
            eff.add(&restartable_sum);
        }
        init_max.max_with(&eff);
    }
    reqs.add(&restartable_sum);
    reqs.max_with(&init_max);
    reqs.add(&spec.overhead);
    reqs
}

/// Upstream `qos.GetPodQOS` (pkg/apis/core/v1/helper/qos), for container-level
/// resources. Only CPU and memory count; zero quantities count as unset.
pub fn qos_class(spec: &PodSpec) -> QosClass {
    let mut req = (0i64, 0i64, false, false); // cpu, mem, cpu set, mem set
    let mut lim = (0i64, 0i64, false, false);
    let mut guaranteed = true;
    for c in spec.containers.iter().chain(spec.init_containers.iter()) {
        if c.requests.cpu_m > 0 {
            req.0 += c.requests.cpu_m;
            req.2 = true;
        }
        if c.requests.memory > 0 {
            req.1 += c.requests.memory;
            req.3 = true;
        }
        let (mut has_cpu, mut has_mem) = (false, false);
        if c.limits.cpu_m > 0 {
            lim.0 += c.limits.cpu_m;
            lim.2 = true;
            has_cpu = true;
        }
        if c.limits.memory > 0 {
            lim.1 += c.limits.memory;
            lim.3 = true;
            has_mem = true;
        }
        if !(has_cpu && has_mem) {
            guaranteed = false;
        }
    }
    if !req.2 && !req.3 && !lim.2 && !lim.3 {
        return QosClass::BestEffort;
    }
    if guaranteed {
        // Every request must have an equal limit.
        if (req.2 && (!lim.2 || lim.0 != req.0)) || (req.3 && (!lim.3 || lim.1 != req.1)) {
            guaranteed = false;
        }
    }
    let n_req = usize::from(req.2) + usize::from(req.3);
    let n_lim = usize::from(lim.2) + usize::from(lim.3);
    if guaranteed && n_req == n_lim {
        QosClass::Guaranteed
    } else {
        QosClass::Burstable
    }
}

/// Upstream's defaults for containers without a CPU / memory request, used
/// when scoring (pkg/scheduler/util `DefaultMilliCPURequest`,
/// `DefaultMemoryRequest`).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// Effective (cpu_m, memory) requests with each container's missing CPU or
/// memory request replaced by the scoring defaults (upstream `PodRequests`
/// with `NonMissingContainerRequests`).
pub fn nonzero_requests(spec: &PodSpec) -> (i64, i64) {
    let fill = |c: &Container| {
        let mut c = c.clone();
        if c.requests.cpu_m == 0 {
            c.requests.cpu_m = DEFAULT_MILLI_CPU_REQUEST;
        }
        if c.requests.memory == 0 {
            c.requests.memory = DEFAULT_MEMORY_REQUEST;
        }
        c
    };
    let s = PodSpec {
        containers: spec.containers.iter().map(fill).collect(),
        init_containers: spec.init_containers.iter().map(fill).collect(),
        ..spec.clone()
    };
    let r = pod_requests(&s);
    (r.cpu_m, r.memory)
}

/// The scheduling signature of a pod: FNV-1a over the canonical (ordered)
/// debug form of what scheduling reads (including the GPU request). Never 0.
pub fn scheduling_signature(pod: &Pod) -> u64 {
    let text = format!(
        "{:?}|{:?}|{:?}|{}|{:?}|{:?}",
        pod.spec, pod.requests, pod.nonzero_requests, pod.meta.namespace, pod.meta.labels, pod.gpu
    );
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_text_leaves_out_empty_gates_only() {
        let mut s = PodSpec::default();
        let before = s.hash_text();
        assert!(!before.contains("scheduling_gates"), "{before}");
        assert!(before.ends_with(" }"), "{before}");
        s.scheduling_gates = vec!["example.com/a".into()];
        assert!(s
            .hash_text()
            .contains("scheduling_gates: [\"example.com/a\"]"));
    }

    pub(crate) fn container(req: (i64, i64), lim: (i64, i64)) -> Container {
        Container {
            name: "c".into(),
            image: "img".into(),
            image_pull_policy: PullPolicy::IfNotPresent,
            requests: Resources::new(req.0, req.1),
            limits: Resources::new(lim.0, lim.1),
            ports: vec![],
            restart_policy: None,
            env: Vec::new(),
        }
    }

    pub(crate) fn spec(containers: Vec<Container>, init: Vec<Container>) -> PodSpec {
        PodSpec {
            containers,
            init_containers: init,
            ..PodSpec::default()
        }
    }

    /// Cases from upstream qos_test.go `TestGetPodQOS` (requests already
    /// defaulted from limits, as the API server does before QoS is computed).
    #[test]
    fn qos_table() {
        use QosClass::*;
        let m = 1 << 20;
        let cases = [
            // best-effort: no requests, no limits
            (vec![container((0, 0), (0, 0))], vec![], BestEffort),
            (
                vec![container((0, 0), (0, 0)), container((0, 0), (0, 0))],
                vec![],
                BestEffort,
            ),
            // guaranteed: limits == requests for cpu and memory in every container
            (
                vec![container((100, 100 * m), (100, 100 * m))],
                vec![],
                Guaranteed,
            ),
            (
                vec![
                    container((100, 100 * m), (100, 100 * m)),
                    container((100, 100 * m), (100, 100 * m)),
                ],
                vec![],
                Guaranteed,
            ),
            // guaranteed init container counts too
            (
                vec![container((100, 100 * m), (100, 100 * m))],
                vec![container((100, 100 * m), (100, 100 * m))],
                Guaranteed,
            ),
            // best-effort + burstable container → burstable
            (
                vec![container((0, 0), (0, 0)), container((100, 100 * m), (0, 0))],
                vec![],
                Burstable,
            ),
            // only cpu limit (requests defaulted to it) → burstable
            (vec![container((100, 0), (100, 0))], vec![], Burstable),
            // requests < limits → burstable
            (
                vec![container((10, 10 * m), (100, 100 * m))],
                vec![],
                Burstable,
            ),
            // one guaranteed, one missing memory limit → burstable
            (
                vec![
                    container((100, 100 * m), (100, 100 * m)),
                    container((100, 0), (100, 0)),
                ],
                vec![],
                Burstable,
            ),
            // burstable init container makes the pod burstable
            (
                vec![container((100, 100 * m), (100, 100 * m))],
                vec![container((10, 10 * m), (100, 100 * m))],
                Burstable,
            ),
            // memory-only request → burstable
            (vec![container((0, 100 * m), (0, 0))], vec![], Burstable),
        ];
        for (i, (cs, init, want)) in cases.into_iter().enumerate() {
            assert_eq!(qos_class(&spec(cs, init)), want, "case {i}");
        }
    }

    #[test]
    fn requests_with_init_and_sidecars() {
        // Main containers sum to 300m; an init container of 500m dominates.
        let s = spec(
            vec![container((100, 0), (0, 0)), container((200, 0), (0, 0))],
            vec![container((500, 0), (0, 0))],
        );
        assert_eq!(pod_requests(&s).cpu_m, 500);
        // A sidecar (restartable init container) adds to the main sum and to
        // init containers that come after it.
        let mut sidecar = container((50, 0), (0, 0));
        sidecar.restart_policy = Some(RestartPolicy::Always);
        let s = spec(
            vec![container((100, 0), (0, 0))],
            vec![sidecar, container((500, 0), (0, 0))],
        );
        assert_eq!(pod_requests(&s).cpu_m, 550);
        let s2 = PodSpec {
            overhead: Resources::new(10, 0),
            ..spec(vec![container((100, 0), (0, 0))], vec![])
        };
        assert_eq!(pod_requests(&s2).cpu_m, 110);
    }

    #[test]
    fn conditions_follow_the_lifecycle() {
        let mut p = Pod::new(
            ObjectMeta::default(),
            spec(vec![], vec![]),
            PodBehavior::default(),
        );
        assert!(
            p.conditions().is_empty(),
            "a pod never tried has no conditions"
        );
        p.spec.scheduling_gates = vec!["example.com/a".into()];
        assert_eq!(
            p.conditions(),
            vec![("PodScheduled", "False", "SchedulingGated")]
        );
        p.spec.scheduling_gates.clear();
        p.status.scheduling_attempts = 1;
        assert_eq!(
            p.conditions(),
            vec![("PodScheduled", "False", "Unschedulable")]
        );
        p.status.bound_at = Some(SimTime(1));
        p.status.phase = Some(PodPhase::Pending);
        assert_eq!(p.conditions()[1], ("Initialized", "False", ""));
        assert_eq!(p.conditions()[3], ("Ready", "False", "ContainersNotReady"));
        p.status.started_at = Some(SimTime(2));
        p.status.phase = Some(PodPhase::Running);
        assert_eq!(p.conditions()[3], ("Ready", "False", "ContainersNotReady"));
        p.status.ready_since = Some(SimTime(2));
        assert_eq!(
            p.conditions(),
            vec![
                ("PodScheduled", "True", ""),
                ("Initialized", "True", ""),
                ("ContainersReady", "True", ""),
                ("Ready", "True", "")
            ]
        );
        p.status.phase = Some(PodPhase::Succeeded);
        assert_eq!(p.conditions()[3], ("Ready", "False", "PodCompleted"));
    }

    /// Probe timing as the prober worker runs it (period ticks from the
    /// container start, initial delay skipped, thresholds counted).
    #[test]
    fn probe_timing() {
        let s = Duration::from_secs;
        let p = Probe {
            initial_delay: s(15),
            ..Probe::default()
        };
        assert_eq!(p.first_probe_at_or_after(Duration::ZERO), s(20));
        assert_eq!(p.ready_at(Duration::ZERO), s(20));
        assert_eq!(p.ready_at(s(31)), s(40));
        let p3 = Probe {
            success_threshold: 3,
            ..Probe::default()
        };
        assert_eq!(p3.ready_at(s(5)), s(30));
        // Liveness: three failures in a row, 10 s apart.
        assert_eq!(Probe::default().kill_at(s(60)), s(80));
        assert_eq!(Probe::default().kill_at(s(61)), s(90));
        let pp = PodProbes {
            readiness: vec![Probe::default(), p],
            liveness: vec![Probe::default()],
            ready_after: s(3),
            liveness_fail_after: Some(s(100)),
        };
        assert_eq!(pp.ready_after_start(), s(20));
        assert_eq!(pp.liveness_kill_after_start(), Some(s(120)));
        assert_eq!(PodProbes::default().ready_after_start(), Duration::ZERO);
        assert_eq!(PodProbes::default().liveness_kill_after_start(), None);
    }
}
