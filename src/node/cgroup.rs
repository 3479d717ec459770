//! The kubelet's cgroup values as one pure computation: from a pod's
//! containers' requests and limits (and its QoS class) to the values the
//! kubelet and the container runtime write into the cgroup tree
//! `kubepods / {guaranteed pods, burstable, besteffort} / pod<uid> /
//! container`, plus the QoS-tier values and node allocatable.
//!
//! Ports of kubernetes/kubernetes v1.35:
//! - `pkg/kubelet/cm/helpers_linux.go`: `MilliCPUToShares`,
//!   `MilliCPUToQuota`, `ResourceConfigForPod`;
//! - `pkg/kubelet/kuberuntime/kuberuntime_container_linux.go`:
//!   `calculateLinuxResources` (the container's CRI `LinuxContainerResources`);
//! - `pkg/kubelet/cm/qos_container_manager_linux.go`: `setCPUCgroupConfig`
//!   (burstable shares from the sum of burstable pods' CPU requests,
//!   besteffort always `MinShares`);
//! - `pkg/kubelet/qos/policy.go`: `GetContainerOOMScoreAdjust`;
//! - `pkg/kubelet/cm/node_container_manager_linux.go` and
//!   `container_manager_linux.go`: node allocatable = capacity −
//!   kube-reserved − system-reserved − hard eviction threshold; the
//!   `kubepods` cgroup itself gets capacity − reserved (no eviction threshold).
//!
//! cgroup v2 weight: the kubelet and the runtimes convert shares with
//! `ConvertCPUSharesToCgroupV2Value` (opencontainers/cgroups). runc ≥ 1.3.2 and
//! crun ≥ 1.23 (kubernetes#131216, opencontainers/cgroups#20) switched from the
//! linear `1 + ((shares − 2) × 9999) / 262142` (1024 → 39) to the quadratic
//! `ceil(10^((L² + 125L)/612 − 7/34))`, `L = log2(shares)` (1024 → 100). The
//! runtimes released with v1.35 (containerd 2.2 with runc 1.3.x, CRI-O 1.35
//! with crun 1.23+) use the quadratic one, so it is the default
//! ([`WeightFormula::Quadratic`]); the linear one is selectable.

use crate::model::pod::{PodSpec, QosClass, RestartPolicy};
use crate::model::resources::Resources;

/// Kernel limits on `cpu.shares` (kernel/sched/sched.h).
pub const MIN_SHARES: u64 = 2;
pub const MAX_SHARES: u64 = 262_144;
pub const SHARES_PER_CPU: i64 = 1024;
pub const MILLI_CPU_TO_CPU: i64 = 1000;
/// Default CFS period, µs (100 ms).
pub const QUOTA_PERIOD: i64 = 100_000;
/// Smallest CFS quota the kernel accepts, µs (1 ms).
pub const MIN_QUOTA_PERIOD: i64 = 1000;
/// cgroup v2 `cpu.weight` range.
pub const MIN_WEIGHT: u64 = 1;
pub const MAX_WEIGHT: u64 = 10_000;

/// Upstream `MilliCPUToShares`: `milli × 1024 / 1000`, clamped to
/// [`MIN_SHARES`, `MAX_SHARES`]; zero (or negative) gives `MIN_SHARES`.
pub fn milli_cpu_to_shares(milli_cpu: i64) -> u64 {
    if milli_cpu <= 0 {
        return MIN_SHARES;
    }
    let shares = milli_cpu.saturating_mul(SHARES_PER_CPU) / MILLI_CPU_TO_CPU;
    (shares.max(0) as u64).clamp(MIN_SHARES, MAX_SHARES)
}

/// Upstream `MilliCPUToQuota`: `milli × period / 1000` µs, at least
/// [`MIN_QUOTA_PERIOD`]; 0 when there is no limit (`milli_cpu == 0`).
pub fn milli_cpu_to_quota(milli_cpu: i64, period: i64) -> i64 {
    if milli_cpu <= 0 {
        return 0;
    }
    let quota = milli_cpu.saturating_mul(period) / MILLI_CPU_TO_CPU;
    quota.max(MIN_QUOTA_PERIOD)
}

/// Which shares → cgroup v2 `cpu.weight` conversion the runtime uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WeightFormula {
    /// `1 + ((shares − 2) × 9999) / 262142` (runc < 1.3.2, crun < 1.23).
    Linear,
    /// `ceil(10^((L² + 125L)/612 − 7/34))`, `L = log2(shares)` (runc ≥ 1.3.2,
    /// crun ≥ 1.23): 2 → 1, 1024 → 100, 262144 → 10000.
    #[default]
    Quadratic,
}

impl WeightFormula {
    pub fn as_str(self) -> &'static str {
        match self {
            WeightFormula::Linear => "linear",
            WeightFormula::Quadratic => "quadratic",
        }
    }
    pub fn parse(s: &str) -> Option<WeightFormula> {
        match s {
            "linear" => Some(WeightFormula::Linear),
            "quadratic" => Some(WeightFormula::Quadratic),
            _ => None,
        }
    }
}

/// Upstream `ConvertCPUSharesToCgroupV2Value` (either formula); 0 means unset.
///
/// The quadratic formula needs `log2` and `pow`; they run once per pod
/// start, and the result is rounded up to an integer, so the float steps
/// cannot shape results beyond the last ulp before `ceil` (the unit tests
/// pin the values at the points the runtimes document).
pub fn shares_to_weight(shares: u64, formula: WeightFormula) -> u64 {
    if shares == 0 {
        return 0;
    }
    match formula {
        WeightFormula::Linear => {
            let s = shares.clamp(MIN_SHARES, MAX_SHARES);
            1 + ((s - 2) * 9999) / 262_142
        }
        WeightFormula::Quadratic => {
            if shares <= MIN_SHARES {
                return MIN_WEIGHT;
            }
            if shares >= MAX_SHARES {
                return MAX_WEIGHT;
            }
            let l = (shares as f64).log2();
            let exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
            (10f64.powf(exponent).ceil() as u64).clamp(MIN_WEIGHT, MAX_WEIGHT)
        }
    }
}

/// Which cgroup hierarchy the node runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CgroupVersion {
    V1,
    /// Kubernetes v1.35 refuses cgroup v1 by default (`failCgroupV1: true`).
    #[default]
    V2,
}

/// Kubelet and runtime settings that shape the cgroup values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CgroupSettings {
    pub version: CgroupVersion,
    pub weight_formula: WeightFormula,
    /// Kubelet `cpuCFSQuota` (default true): enforce CPU limits with quota.
    pub enforce_cpu_limits: bool,
    /// Kubelet `cpuCFSQuotaPeriod` in µs (default 100 ms).
    pub cpu_cfs_quota_period_us: i64,
    /// Feature gate `CPUCFSQuotaPeriod` (alpha, off): without it the quota
    /// is computed over the default 100 ms period whatever the setting.
    pub custom_cfs_period_gate: bool,
}

impl Default for CgroupSettings {
    fn default() -> Self {
        CgroupSettings {
            version: CgroupVersion::V2,
            weight_formula: WeightFormula::Quadratic,
            enforce_cpu_limits: true,
            cpu_cfs_quota_period_us: QUOTA_PERIOD,
            custom_cfs_period_gate: false,
        }
    }
}

impl CgroupSettings {
    /// The period the quota is computed over (upstream: the setting only
    /// with the `CPUCFSQuotaPeriod` gate).
    fn quota_period(&self) -> i64 {
        if self.custom_cfs_period_gate {
            self.cpu_cfs_quota_period_us
        } else {
            QUOTA_PERIOD
        }
    }

    /// The relative CPU weight the kernel uses for `shares` on this node's
    /// hierarchy: shares on v1, the converted weight on v2.
    pub fn cpu_weight_of(&self, shares: u64) -> u64 {
        match self.version {
            CgroupVersion::V1 => shares,
            CgroupVersion::V2 => shares_to_weight(shares, self.weight_formula),
        }
    }
}

/// Upstream `ResourceConfig` for a pod or QoS cgroup: `None` = not written
/// (the kernel default / parent's limit applies).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceConfig {
    pub cpu_shares: Option<u64>,
    /// µs per period; `Some(-1)` = unlimited (written as `max`).
    pub cpu_quota: Option<i64>,
    pub cpu_period: Option<u64>,
    /// `memory.max` / `memory.limit_in_bytes`, bytes.
    pub memory: Option<i64>,
}

/// The CRI `LinuxContainerResources` the kubelet sends for a container
/// (`calculateLinuxResources`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinuxContainerResources {
    pub cpu_shares: u64,
    /// µs per period; 0 = no limit (the runtime writes `max` / -1).
    pub cpu_quota: i64,
    /// µs; 0 when the kubelet does not enforce quotas.
    pub cpu_period: i64,
    /// Bytes; 0 = no limit.
    pub memory_limit_in_bytes: i64,
    pub oom_score_adj: i64,
}

impl LinuxContainerResources {
    /// The CPU limit in millicores the quota enforces, if any.
    pub fn cpu_limit_m(&self) -> Option<i64> {
        (self.cpu_quota > 0 && self.cpu_period > 0)
            .then(|| self.cpu_quota * MILLI_CPU_TO_CPU / self.cpu_period)
    }
    /// The memory limit, if any.
    pub fn memory_limit(&self) -> Option<i64> {
        (self.memory_limit_in_bytes > 0).then_some(self.memory_limit_in_bytes)
    }
}

/// Where a pod's cgroup sits under `kubepods`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum QosParent {
    /// Guaranteed pods sit directly under `kubepods`.
    Kubepods,
    Burstable,
    BestEffort,
}

impl QosParent {
    pub fn of(qos: QosClass) -> QosParent {
        match qos {
            QosClass::Guaranteed => QosParent::Kubepods,
            QosClass::Burstable => QosParent::Burstable,
            QosClass::BestEffort => QosParent::BestEffort,
        }
    }
    /// The cgroupfs path of the parent (cgroupfs driver naming).
    pub fn path(self) -> &'static str {
        match self {
            QosParent::Kubepods => "kubepods",
            QosParent::Burstable => "kubepods/burstable",
            QosParent::BestEffort => "kubepods/besteffort",
        }
    }
}

/// One container's cgroup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerCgroup {
    pub name: String,
    /// True for init containers (restartable ones, sidecars, included).
    pub init: bool,
    /// True for restartable init containers (sidecars).
    pub sidecar: bool,
    pub resources: LinuxContainerResources,
}

/// Everything the kubelet writes for one pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodCgroups {
    pub qos: QosClass,
    pub parent: QosParent,
    /// `pod<uid>` cgroup values (`ResourceConfigForPod`).
    pub pod: ResourceConfig,
    /// The pod's effective CPU request (millicores) the burstable tier sums.
    pub cpu_request_m: i64,
    /// Init containers first (in order), then the app containers.
    pub containers: Vec<ContainerCgroup>,
}

impl PodCgroups {
    /// The cgroupfs path of the pod (`kubepods/burstable/pod<uid>`).
    pub fn path(&self, uid: &str) -> String {
        format!("{}/pod{uid}", self.parent.path())
    }
    pub fn container(&self, name: &str) -> Option<&ContainerCgroup> {
        self.containers.iter().find(|c| c.name == name)
    }
}

/// Upstream `resource.PodLimits` (no pod-level resources): the sum over app
/// containers and sidecars, the max with each init container (plus the
/// sidecars started before it), plus the overhead for each resource with a
/// non-zero limit. Also returns whether every container (app and init)
/// declares a CPU limit and a memory limit (`ResourceConfigForPod`'s
/// `cpuLimitsDeclared` / `memoryLimitsDeclared`).
pub fn pod_limits(spec: &PodSpec) -> (Resources, bool, bool) {
    let mut cpu_declared = true;
    let mut mem_declared = true;
    let mut lims = Resources::default();
    for c in &spec.containers {
        cpu_declared &= c.limits.cpu_m > 0;
        mem_declared &= c.limits.memory > 0;
        lims.add(&c.limits);
    }
    let mut restartable = Resources::default();
    let mut init_max = Resources::default();
    for c in &spec.init_containers {
        cpu_declared &= c.limits.cpu_m > 0;
        mem_declared &= c.limits.memory > 0;
        let mut eff = c.limits.clone();
        if c.restart_policy == Some(RestartPolicy::Always) {
            restartable.add(&c.limits);
            eff = restartable.clone();
        } else {
            eff.add(&restartable);
        }
        init_max.max_with(&eff);
    }
    lims.add(&restartable);
    lims.max_with(&init_max);
    if lims.cpu_m > 0 {
        lims.cpu_m = lims.cpu_m.saturating_add(spec.overhead.cpu_m);
    }
    if lims.memory > 0 {
        lims.memory = lims.memory.saturating_add(spec.overhead.memory);
    }
    (lims, cpu_declared, mem_declared)
}

/// Upstream `GetContainerOOMScoreAdjust` (pkg/kubelet/qos/policy.go) for a
/// non-critical pod: Guaranteed −997, BestEffort 1000, Burstable
/// `1000 − 1000 × memoryRequest / memoryCapacity`, at least 3
/// (`1000 + guaranteedOOMScoreAdj`) and at most 999 (below BestEffort's).
pub fn oom_score_adj(qos: QosClass, memory_request: i64, memory_capacity: i64) -> i64 {
    match qos {
        QosClass::Guaranteed => -997,
        QosClass::BestEffort => 1000,
        QosClass::Burstable => {
            if memory_capacity <= 0 {
                return 999;
            }
            let adj =
                1000 - (1000i128 * i128::from(memory_request) / i128::from(memory_capacity)) as i64;
            adj.clamp(3, 999)
        }
    }
}

/// The one pure function: a pod's cgroup values, per container and per pod,
/// and where it sits under `kubepods`. `memory_capacity` is the node's
/// memory capacity (for `oom_score_adj`).
pub fn pod_cgroups(
    spec: &PodSpec,
    qos: QosClass,
    settings: &CgroupSettings,
    memory_capacity: i64,
) -> PodCgroups {
    let reqs = crate::model::pod::pod_requests(spec);
    let (limits, cpu_declared, mem_declared) = pod_limits(spec);
    let period = settings.cpu_cfs_quota_period_us.max(0) as u64;
    let cpu_shares = milli_cpu_to_shares(reqs.cpu_m);
    let mut cpu_quota = milli_cpu_to_quota(limits.cpu_m, settings.quota_period());
    if !settings.enforce_cpu_limits {
        cpu_quota = -1;
    }
    let pod = match qos {
        QosClass::Guaranteed => ResourceConfig {
            cpu_shares: Some(cpu_shares),
            cpu_quota: Some(cpu_quota),
            cpu_period: Some(period),
            memory: Some(limits.memory),
        },
        QosClass::Burstable => ResourceConfig {
            cpu_shares: Some(cpu_shares),
            cpu_quota: cpu_declared.then_some(cpu_quota),
            cpu_period: cpu_declared.then_some(period),
            memory: mem_declared.then_some(limits.memory),
        },
        QosClass::BestEffort => ResourceConfig {
            cpu_shares: Some(MIN_SHARES),
            ..Default::default()
        },
    };
    // Sidecars get the lowest score of the app containers when that is
    // lower than their own (policy.go, SidecarContainers).
    let app_min_score = spec
        .containers
        .iter()
        .map(|c| oom_score_adj(qos, c.requests.memory, memory_capacity))
        .min()
        .unwrap_or(1000);
    let container = |c: &crate::model::pod::Container, init: bool| {
        let sidecar = init && c.restart_policy == Some(RestartPolicy::Always);
        // The API server defaults a missing request to the limit; the kubelet
        // repeats that for CPU shares.
        let cpu_req = if c.requests.cpu_m == 0 && c.limits.cpu_m > 0 {
            c.limits.cpu_m
        } else {
            c.requests.cpu_m
        };
        let (cpu_quota, cpu_period) = if settings.enforce_cpu_limits {
            (
                milli_cpu_to_quota(c.limits.cpu_m, settings.quota_period()),
                settings.quota_period(),
            )
        } else {
            (0, 0)
        };
        let mut score = oom_score_adj(qos, c.requests.memory, memory_capacity);
        if sidecar {
            score = score.min(app_min_score);
        }
        ContainerCgroup {
            name: c.name.clone(),
            init,
            sidecar,
            resources: LinuxContainerResources {
                cpu_shares: milli_cpu_to_shares(cpu_req),
                cpu_quota,
                cpu_period,
                memory_limit_in_bytes: c.limits.memory.max(0),
                oom_score_adj: score,
            },
        }
    };
    let containers = spec
        .init_containers
        .iter()
        .map(|c| container(c, true))
        .chain(spec.containers.iter().map(|c| container(c, false)))
        .collect();
    PodCgroups {
        qos,
        parent: QosParent::of(qos),
        pod,
        cpu_request_m: reqs.cpu_m,
        containers,
    }
}

/// The QoS tier cgroups (`setCPUCgroupConfig`): burstable shares from the
/// sum of the burstable pods' CPU requests, besteffort always `MinShares`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QosTiers {
    pub burstable: ResourceConfig,
    pub besteffort: ResourceConfig,
}

/// QoS tier values for the active pods `(qos, effective CPU request m)`.
pub fn qos_tiers(pods: impl IntoIterator<Item = (QosClass, i64)>) -> QosTiers {
    let burstable_m: i64 = pods
        .into_iter()
        .filter(|(q, _)| *q == QosClass::Burstable)
        .map(|(_, m)| m)
        .fold(0i64, i64::saturating_add);
    QosTiers {
        burstable: ResourceConfig {
            cpu_shares: Some(milli_cpu_to_shares(burstable_m)),
            ..Default::default()
        },
        besteffort: ResourceConfig {
            cpu_shares: Some(MIN_SHARES),
            ..Default::default()
        },
    }
}

/// Node reservations (kubelet `kubeReserved`, `systemReserved`,
/// `evictionHard`'s `memory.available`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reservations {
    pub kube_reserved: Resources,
    pub system_reserved: Resources,
    /// Hard eviction threshold for memory.available, bytes (upstream
    /// default 100Mi).
    pub eviction_hard_memory: i64,
}

/// Upstream default `evictionHard` `memory.available<100Mi`.
pub const DEFAULT_EVICTION_HARD_MEMORY: i64 = 100 * 1024 * 1024;

/// Node allocatable as the kubelet reports it: capacity − kube-reserved −
/// system-reserved − hard eviction threshold (memory), floored at 0
/// (`GetNodeAllocatableAbsolute` + `getNodeAllocatable`'s eviction term).
pub fn node_allocatable(capacity: &Resources, r: &Reservations) -> Resources {
    let mut a = kubepods_capacity(capacity, r);
    a.memory = (a.memory - r.eviction_hard_memory).max(0);
    a
}

/// What the `kubepods` cgroup is sized to (`enforceNodeAllocatableCgroups`:
/// capacity − kube-reserved − system-reserved, without the eviction
/// threshold), floored at 0.
pub fn kubepods_capacity(capacity: &Resources, r: &Reservations) -> Resources {
    let mut a = capacity.clone();
    a.sub(&r.kube_reserved);
    a.sub(&r.system_reserved);
    a.cpu_m = a.cpu_m.max(0);
    a.memory = a.memory.max(0);
    a.ephemeral_storage = a.ephemeral_storage.max(0);
    a
}

/// The `kubepods` cgroup values: shares from its CPU, memory limit.
pub fn kubepods_config(capacity: &Resources, r: &Reservations) -> ResourceConfig {
    let k = kubepods_capacity(capacity, r);
    ResourceConfig {
        cpu_shares: Some(milli_cpu_to_shares(k.cpu_m)),
        cpu_quota: None,
        cpu_period: None,
        memory: Some(k.memory),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pod::{qos_class, Container};

    const MI: i64 = 1024 * 1024;

    fn c(req: (i64, i64), lim: (i64, i64)) -> Container {
        Container {
            requests: Resources::new(req.0, req.1),
            limits: Resources::new(lim.0, lim.1),
            ..Default::default()
        }
    }
    fn spec(cs: Vec<Container>, init: Vec<Container>) -> PodSpec {
        PodSpec {
            containers: cs,
            init_containers: init,
            ..Default::default()
        }
    }

    /// helpers_linux_test.go `TestMilliCPUToQuota` (with the period argument).
    #[test]
    fn milli_cpu_to_quota_table() {
        for (input, quota) in [
            (0, 0),
            (5, 1000),
            (9, 1000),
            (10, 1000),
            (200, 20000),
            (500, 50000),
            (1000, 100000),
            (1500, 150000),
        ] {
            assert_eq!(milli_cpu_to_quota(input, QUOTA_PERIOD), quota, "{input}");
        }
        // A 5 ms period (tuned).
        assert_eq!(milli_cpu_to_quota(100, 5000), 1000);
        assert_eq!(milli_cpu_to_quota(200, 5000), 1000);
        assert_eq!(milli_cpu_to_quota(1000, 5000), 5000);
    }

    /// `MilliCPUToShares` and its clamps (kernel MIN/MAX_SHARES).
    #[test]
    fn milli_cpu_to_shares_table() {
        for (m, s) in [
            (0, 2),
            (1, 2),
            (2, 2),
            (3, 3),
            (100, 102),
            (250, 256),
            (500, 512),
            (1000, 1024),
            (1500, 1536),
            (256_000, 262_144),
            (300_000, 262_144),
        ] {
            assert_eq!(milli_cpu_to_shares(m), s, "{m}m");
        }
    }

    /// The documented points of both conversions (opencontainers/cgroups
    /// tests; the K8s blog of 2025-10-25).
    #[test]
    fn weight_formulas() {
        use WeightFormula::*;
        assert_eq!(shares_to_weight(0, Linear), 0);
        assert_eq!(shares_to_weight(2, Linear), 1);
        assert_eq!(shares_to_weight(1024, Linear), 39);
        assert_eq!(shares_to_weight(262_144, Linear), 10_000);
        assert_eq!(shares_to_weight(0, Quadratic), 0);
        assert_eq!(shares_to_weight(2, Quadratic), 1);
        assert_eq!(shares_to_weight(1024, Quadratic), 100);
        assert_eq!(shares_to_weight(262_144, Quadratic), 10_000);
        // Monotone over the whole range.
        let mut prev = 0;
        for s in 2..=MAX_SHARES {
            let w = shares_to_weight(s, Quadratic);
            assert!(w >= prev && (MIN_WEIGHT..=MAX_WEIGHT).contains(&w), "{s}");
            prev = w;
        }
    }

    struct Case {
        name: &'static str,
        spec: PodSpec,
        enforce: bool,
        period: i64,
        want: ResourceConfig,
    }

    /// helpers_linux_test.go `TestResourceConfigForPod` (the feature gate
    /// `CPUCFSQuotaPeriod` off: quota over 100 ms, period as configured).
    #[test]
    fn resource_config_for_pod_table() {
        let default_p = 100_000;
        let tuned_p = 5_000;
        let rc =
            |shares, quota: Option<i64>, period: Option<u64>, mem: Option<i64>| ResourceConfig {
                cpu_shares: Some(shares),
                cpu_quota: quota,
                cpu_period: period,
                memory: mem,
            };
        let burstable_shares = milli_cpu_to_shares(100);
        let partial_shares = milli_cpu_to_shares(200);
        let burstable_quota = milli_cpu_to_quota(200, 100_000);
        let guaranteed_quota = milli_cpu_to_quota(100, 100_000);
        let cases = vec![
            Case {
                name: "besteffort",
                spec: spec(vec![c((0, 0), (0, 0))], vec![]),
                enforce: true,
                period: default_p,
                want: rc(2, None, None, None),
            },
            Case {
                name: "burstable-no-limits",
                spec: spec(vec![c((100, 100 * MI), (0, 0))], vec![]),
                enforce: true,
                period: default_p,
                want: rc(burstable_shares, None, None, None),
            },
            Case {
                name: "burstable-with-limits",
                spec: spec(vec![c((100, 100 * MI), (200, 200 * MI))], vec![]),
                enforce: true,
                period: default_p,
                want: rc(
                    burstable_shares,
                    Some(burstable_quota),
                    Some(100_000),
                    Some(200 * MI),
                ),
            },
            Case {
                name: "burstable-with-limits-no-cpu-enforcement",
                spec: spec(vec![c((100, 100 * MI), (200, 200 * MI))], vec![]),
                enforce: false,
                period: default_p,
                want: rc(burstable_shares, Some(-1), Some(100_000), Some(200 * MI)),
            },
            Case {
                name: "burstable-partial-limits",
                spec: spec(
                    vec![
                        c((100, 100 * MI), (200, 200 * MI)),
                        c((100, 100 * MI), (0, 0)),
                    ],
                    vec![],
                ),
                enforce: true,
                period: default_p,
                want: rc(partial_shares, None, None, None),
            },
            Case {
                name: "burstable-with-limits-with-tuned-quota",
                spec: spec(vec![c((100, 100 * MI), (200, 200 * MI))], vec![]),
                enforce: true,
                period: tuned_p,
                want: rc(
                    burstable_shares,
                    Some(burstable_quota),
                    Some(5_000),
                    Some(200 * MI),
                ),
            },
            Case {
                name: "burstable-with-limits-no-cpu-enforcement-with-tuned-quota",
                spec: spec(vec![c((100, 100 * MI), (200, 200 * MI))], vec![]),
                enforce: false,
                period: tuned_p,
                want: rc(burstable_shares, Some(-1), Some(5_000), Some(200 * MI)),
            },
            Case {
                name: "burstable-partial-limits-with-tuned-quota",
                spec: spec(
                    vec![
                        c((100, 100 * MI), (200, 200 * MI)),
                        c((100, 100 * MI), (0, 0)),
                    ],
                    vec![],
                ),
                enforce: true,
                period: tuned_p,
                want: rc(partial_shares, None, None, None),
            },
            Case {
                name: "guaranteed",
                spec: spec(vec![c((100, 100 * MI), (100, 100 * MI))], vec![]),
                enforce: true,
                period: default_p,
                want: rc(
                    burstable_shares,
                    Some(guaranteed_quota),
                    Some(100_000),
                    Some(100 * MI),
                ),
            },
            Case {
                name: "guaranteed-no-cpu-enforcement",
                spec: spec(vec![c((100, 100 * MI), (100, 100 * MI))], vec![]),
                enforce: false,
                period: default_p,
                want: rc(burstable_shares, Some(-1), Some(100_000), Some(100 * MI)),
            },
            // Upstream: guaranteedTunedQuota = MilliCPUToQuota(100, 5000)
            // (the gate-off path yields 10000 over 100 ms; the upstream table
            // expects the tuned value because MilliCPUToQuota(…, tuned) is
            // itself computed with the gate off: 100 × 100000 / 1000 = 10000).
            Case {
                name: "guaranteed-with-tuned-quota",
                spec: spec(vec![c((100, 100 * MI), (100, 100 * MI))], vec![]),
                enforce: true,
                period: tuned_p,
                want: rc(burstable_shares, Some(10_000), Some(5_000), Some(100 * MI)),
            },
            Case {
                name: "guaranteed-no-cpu-enforcement-with-tuned-quota",
                spec: spec(vec![c((100, 100 * MI), (100, 100 * MI))], vec![]),
                enforce: false,
                period: tuned_p,
                want: rc(burstable_shares, Some(-1), Some(5_000), Some(100 * MI)),
            },
            Case {
                name: "burstable-partial-limits-with-init-containers",
                spec: spec(
                    vec![c((100, 100), (100, 100 * MI)), c((100, 100), (0, 0))],
                    vec![c((100, 100), (100, 100 * MI)), c((100, 100), (0, 0))],
                ),
                enforce: true,
                period: tuned_p,
                want: rc(partial_shares, None, None, None),
            },
        ];
        for k in cases {
            let settings = CgroupSettings {
                enforce_cpu_limits: k.enforce,
                cpu_cfs_quota_period_us: k.period,
                ..Default::default()
            };
            let qos = qos_class(&k.spec);
            let got = pod_cgroups(&k.spec, qos, &settings, 8 << 30);
            assert_eq!(got.pod, k.want, "{}", k.name);
        }
    }

    /// `TestResourceConfigForPodWithCustomCPUCFSQuotaPeriod`: with the gate
    /// on, the quota is computed over the tuned period.
    #[test]
    fn custom_cfs_period_gate() {
        let settings = CgroupSettings {
            cpu_cfs_quota_period_us: 5_000,
            custom_cfs_period_gate: true,
            ..Default::default()
        };
        let s = spec(vec![c((100, 100 * MI), (200, 200 * MI))], vec![]);
        let got = pod_cgroups(&s, qos_class(&s), &settings, 8 << 30);
        assert_eq!(got.pod.cpu_quota, Some(1_000)); // upstream tunedQuota = 1ms
        assert_eq!(got.pod.cpu_period, Some(5_000));
        let g = spec(vec![c((100, 100 * MI), (100, 100 * MI))], vec![]);
        let got = pod_cgroups(&g, qos_class(&g), &settings, 8 << 30);
        assert_eq!(got.pod.cpu_quota, Some(milli_cpu_to_quota(100, 5_000)));
    }

    /// Container values (`calculateLinuxResources`), parents, OOM scores.
    #[test]
    fn container_values_and_tree() {
        let s = spec(
            vec![c((250, 64 * MI), (500, 128 * MI)), c((0, 0), (0, 0))],
            vec![c((100, 0), (0, 0))],
        );
        let qos = qos_class(&s);
        assert_eq!(qos, QosClass::Burstable);
        let g = pod_cgroups(&s, qos, &CgroupSettings::default(), 1 << 30);
        assert_eq!(g.parent, QosParent::Burstable);
        assert_eq!(g.path("u1"), "kubepods/burstable/podu1");
        assert_eq!(g.containers.len(), 3);
        assert!(g.containers[0].init);
        let app = &g.containers[1].resources;
        assert_eq!(app.cpu_shares, 256);
        assert_eq!(app.cpu_quota, 50_000);
        assert_eq!(app.cpu_period, 100_000);
        assert_eq!(app.cpu_limit_m(), Some(500));
        assert_eq!(app.memory_limit_in_bytes, 128 * MI);
        // 1000 − 1000 × 64Mi / 1Gi = 937.5 → 938 (integer division of the
        // product: 1000 − 62 = 938).
        assert_eq!(app.oom_score_adj, 938);
        let none = &g.containers[2].resources;
        assert_eq!(
            (none.cpu_shares, none.cpu_quota, none.memory_limit()),
            (2, 0, None)
        );
        assert_eq!(none.oom_score_adj, 999);
        // A limit without a request: shares from the limit.
        let lim_only = spec(
            vec![Container {
                limits: Resources::new(300, 0),
                ..Default::default()
            }],
            vec![],
        );
        let g = pod_cgroups(
            &lim_only,
            QosClass::Burstable,
            &CgroupSettings::default(),
            1 << 30,
        );
        assert_eq!(g.containers[0].resources.cpu_shares, 307);
        let gu = spec(vec![c((1000, MI), (1000, MI))], vec![]);
        let g = pod_cgroups(&gu, qos_class(&gu), &CgroupSettings::default(), 1 << 30);
        assert_eq!(g.parent, QosParent::Kubepods);
        assert_eq!(g.containers[0].resources.oom_score_adj, -997);
    }

    #[test]
    fn pod_limits_with_sidecars_and_overhead() {
        let mut sidecar = c((100, MI), (300, 3 * MI));
        sidecar.restart_policy = Some(RestartPolicy::Always);
        let mut s = spec(
            vec![c((100, MI), (200, 2 * MI))],
            vec![sidecar, c((100, MI), (1000, MI))],
        );
        s.overhead = Resources::new(10, MI);
        let (l, cpu, mem) = pod_limits(&s);
        // max(200 + 300, 1000 + 300) + 10 overhead; memory 2 + 3 (> 1 + 3) + 1.
        assert_eq!(l.cpu_m, 1310);
        assert_eq!(l.memory, 6 * MI);
        assert!(cpu && mem);
    }

    #[test]
    fn qos_tiers_and_allocatable() {
        let t = qos_tiers([
            (QosClass::Burstable, 500),
            (QosClass::Guaranteed, 4000),
            (QosClass::Burstable, 250),
            (QosClass::BestEffort, 0),
        ]);
        assert_eq!(t.burstable.cpu_shares, Some(768));
        assert_eq!(t.besteffort.cpu_shares, Some(2));
        assert_eq!(qos_tiers([]).burstable.cpu_shares, Some(2));
        let cap = Resources::new(4000, 16 << 30);
        let r = Reservations {
            kube_reserved: Resources::new(100, 512 * MI),
            system_reserved: Resources::new(100, 512 * MI),
            eviction_hard_memory: DEFAULT_EVICTION_HARD_MEMORY,
        };
        let a = node_allocatable(&cap, &r);
        assert_eq!(a.cpu_m, 3800);
        assert_eq!(a.memory, (16 << 30) - 1024 * MI - 100 * MI);
        let k = kubepods_config(&cap, &r);
        assert_eq!(k.cpu_shares, Some(3891));
        assert_eq!(k.memory, Some((16 << 30) - 1024 * MI));
    }

    #[test]
    fn oom_score_table() {
        // pkg/kubelet/qos/policy_test.go shapes: tiny request → 999, half → 500, all → 3.
        assert_eq!(oom_score_adj(QosClass::Burstable, 1, 4 << 30), 999);
        assert_eq!(oom_score_adj(QosClass::Burstable, 2 << 30, 4 << 30), 500);
        assert_eq!(oom_score_adj(QosClass::Burstable, 4 << 30, 4 << 30), 3);
        assert_eq!(oom_score_adj(QosClass::BestEffort, 0, 4 << 30), 1000);
    }
}
