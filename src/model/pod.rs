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
}

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
    /// When the containers last became ready; `None` while they are not
    /// (not started yet, waiting in a crash-loop back-off, or on a node the
    /// control plane marked NotReady). Read through [`Pod::ready_since`].
    pub ready_at: Option<SimTime>,
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

    pub fn phase(&self) -> PodPhase {
        self.status.phase.unwrap_or(PodPhase::Pending)
    }
    pub fn is_terminating(&self) -> bool {
        self.meta.deletion_timestamp.is_some()
    }

    /// Whether the pod is Ready and since when (the `Ready` condition's
    /// lastTransitionTime): the one place readiness is decided for
    /// controllers (availability, minReadySeconds, PDB health). Without
    /// probes a running, non-terminating pod is ready from the time its
    /// containers (re)started (`status.ready_at`).
    pub fn ready_since(&self) -> Option<SimTime> {
        if self.phase() == PodPhase::Running && !self.is_terminating() {
            self.status.ready_at
        } else {
            None
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready_since().is_some()
    }

    /// The pod's conditions as the API would show them at the end of the
    /// run, in upstream's order: PodScheduled (False with reason
    /// `Unschedulable` while the scheduler cannot place it), Initialized,
    /// ContainersReady and Ready. Without probes (not modelled yet) a
    /// running container is ready; a terminal pod's containers are not.
    pub fn conditions(&self) -> Vec<(&'static str, &'static str, &'static str)> {
        let mut v = Vec::with_capacity(4);
        let scheduled = self.status.bound_at.is_some();
        if scheduled {
            v.push(("PodScheduled", "True", ""));
        } else if self.status.scheduling_attempts > 0 {
            v.push(("PodScheduled", "False", "Unschedulable"));
        }
        if !scheduled {
            return v;
        }
        let started = self.status.started_at.is_some();
        v.push(("Initialized", if started { "True" } else { "False" }, ""));
        let ready = self.phase() == PodPhase::Running && !self.is_terminating();
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

    pub(crate) fn container(req: (i64, i64), lim: (i64, i64)) -> Container {
        Container {
            name: "c".into(),
            image: "img".into(),
            image_pull_policy: PullPolicy::IfNotPresent,
            requests: Resources::new(req.0, req.1),
            limits: Resources::new(lim.0, lim.1),
            ports: vec![],
            restart_policy: None,
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
}
