//! The HPA replica calculator: upstream's
//! `pkg/controller/podautoscaler/replica_calculator.go` (v1.35) and
//! `metrics/utilization.go`, ported line by line over plain data.
//!
//! Float arithmetic: upstream computes usage ratios and proposals in Go
//! `float64` (`math.Ceil(usageRatio * float64(readyPodCount))`, …). Rust's
//! `f64` is the same IEEE-754 binary64 with the same round-to-nearest
//! operations, and every expression here keeps Go's operand order and
//! grouping, so results are bit-identical to upstream on amd64 (Go fuses no
//! multiply-add in these expressions). Sums of metrics are integers (Go
//! `int64`; here `i128`, so upstream's big-integer overflow fallback is
//! the ordinary path). Conversions of an out-of-range float to `i32`
//! saturate (Go's are undefined there; upstream caps the ones that can
//! overflow at `MaxInt32`, as here).

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::{Duration, SimTime};

/// Upstream's scale-up and scale-down tolerances (`Tolerances`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerances {
    pub scale_down: f64,
    pub scale_up: f64,
}

impl Tolerances {
    /// The same tolerance both ways (the controller's
    /// `--horizontal-pod-autoscaler-tolerance`, 0.1 by default).
    pub fn both(t: f64) -> Tolerances {
        Tolerances {
            scale_down: t,
            scale_up: t,
        }
    }
    /// `(1 - scaleDown) <= ratio <= (1 + scaleUp)`.
    pub fn is_within(&self, usage_ratio: f64) -> bool {
        (1.0 - self.scale_down) <= usage_ratio && usage_ratio <= (1.0 + self.scale_up)
    }
}

/// A resource an HPA can target by utilization or average value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ResourceName {
    Cpu,
    Memory,
}

impl ResourceName {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceName::Cpu => "cpu",
            ResourceName::Memory => "memory",
        }
    }
}

/// Pod phase as the calculator sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Running,
    Succeeded,
    Failed,
}

/// The pod's Ready condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadyCondition {
    pub status: bool,
    pub last_transition: SimTime,
}

/// A container's requests as milli-values (`Quantity.MilliValue()`:
/// millicores for CPU, 1000 × bytes for memory); `None` is a missing request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerInfo {
    pub name: String,
    pub cpu_request_milli: Option<i64>,
    pub memory_request_milli: Option<i64>,
    /// An init container with `restartPolicy: Always` (a sidecar).
    pub sidecar: bool,
}

impl ContainerInfo {
    fn request(&self, r: ResourceName) -> Option<i64> {
        match r {
            ResourceName::Cpu => self.cpu_request_milli,
            ResourceName::Memory => self.memory_request_milli,
        }
    }
}

/// What the calculator reads of one pod selected by the target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodInfo {
    pub name: String,
    pub phase: Phase,
    /// A deletion timestamp is set.
    pub deleting: bool,
    pub ready: Option<ReadyCondition>,
    pub start_time: Option<SimTime>,
    /// Regular containers, then the sidecars (restartable init
    /// containers); other init containers are left out, as upstream's
    /// `calculatePodRequestsFromContainers` does.
    pub containers: Vec<ContainerInfo>,
}

impl PodInfo {
    /// Upstream's readiness for `getReadyPodsCount`: Running and Ready.
    pub fn running_and_ready(&self) -> bool {
        self.phase == Phase::Running && self.ready.is_some_and(|c| c.status)
    }
}

/// One pod's metric sample (`metricsclient.PodMetric`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodMetric {
    pub value: i64,
    pub timestamp: SimTime,
    pub window: Duration,
}

/// Pod name → sample (`PodMetricsInfo`).
pub type PodMetricsInfo = BTreeMap<String, PodMetric>;

/// Metrics as a metrics client returns them: per-pod samples and the
/// timestamp of the list, or the client's error text.
pub type FetchedPodMetrics = Result<(PodMetricsInfo, SimTime), String>;

/// The result of a resource-utilization calculation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UtilizationProposal {
    pub replicas: i32,
    /// Percent of requests.
    pub utilization: i32,
    /// Average raw value (milli).
    pub raw: i64,
    pub timestamp: SimTime,
}

/// The result of a value calculation (raw resource, pods, object, external).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageProposal {
    pub replicas: i32,
    /// Milli-units (average per pod, or the total for Value targets).
    pub usage: i64,
    pub timestamp: SimTime,
}

/// `replicaCalculator` with the controller's two readiness periods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaCalculator {
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (5 min).
    pub cpu_initialization_period: Duration,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay` (30 s).
    pub delay_of_initial_readiness_status: Duration,
}

impl Default for ReplicaCalculator {
    fn default() -> Self {
        ReplicaCalculator {
            cpu_initialization_period: Duration::from_secs(300),
            delay_of_initial_readiness_status: Duration::from_secs(30),
        }
    }
}

fn ceil_i32(x: f64) -> i32 {
    // Go: int32(math.Ceil(x)); saturating here (see the module doc).
    x.ceil() as i32
}

/// `GetResourceUtilizationRatio` (metrics/utilization.go).
pub fn resource_utilization_ratio(
    metrics: &PodMetricsInfo,
    requests: &BTreeMap<String, i64>,
    target_utilization: i32,
) -> Result<(f64, i32, i64), String> {
    let mut metrics_total: i128 = 0;
    let mut requests_total: i128 = 0;
    let mut entries: i128 = 0;
    for (name, m) in metrics {
        let Some(req) = requests.get(name) else {
            continue;
        };
        metrics_total += m.value as i128;
        requests_total += *req as i128;
        entries += 1;
    }
    if requests_total == 0 {
        return Err("no metrics returned matched known pods".to_string());
    }
    let pct = metrics_total * 100 / requests_total;
    if pct < i32::MIN as i128 || pct > i32::MAX as i128 {
        return Err(format!(
            "resource utilization {pct} is outside the int32 range"
        ));
    }
    let util = pct as i32;
    let raw = (metrics_total / entries) as i64;
    Ok((util as f64 / target_utilization as f64, util, raw))
}

/// `GetMetricUsageRatio` (metrics/utilization.go).
pub fn metric_usage_ratio(metrics: &PodMetricsInfo, target_usage: i64) -> (f64, i64) {
    let total: i128 = metrics.values().map(|m| m.value as i128).sum();
    let n = metrics.len().max(1) as i128;
    let usage = (total / n).clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    (usage as f64 / target_usage as f64, usage)
}

/// The four groups of `groupPods`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodGroups {
    pub ready_count: i64,
    pub unready: BTreeSet<String>,
    pub missing: BTreeSet<String>,
    pub ignored: BTreeSet<String>,
}

impl ReplicaCalculator {
    /// `groupPods`: deleted and failed pods are ignored, pending pods are
    /// unready, pods without a metric are missing; for CPU, a pod is
    /// unready if it has no Ready condition or start time, or (within the
    /// CPU initialization period) is not ready or its sample's window
    /// began before it became ready, or (after it) it is not ready and has
    /// never been ready since the initial readiness delay.
    pub fn group_pods(
        &self,
        pods: &[PodInfo],
        metrics: &PodMetricsInfo,
        resource: Option<ResourceName>,
        now: SimTime,
    ) -> PodGroups {
        let mut g = PodGroups::default();
        for pod in pods {
            if pod.deleting || pod.phase == Phase::Failed {
                g.ignored.insert(pod.name.clone());
                continue;
            }
            if pod.phase == Phase::Pending {
                g.unready.insert(pod.name.clone());
                continue;
            }
            let Some(metric) = metrics.get(&pod.name) else {
                g.missing.insert(pod.name.clone());
                continue;
            };
            if resource == Some(ResourceName::Cpu) {
                let unready = match (pod.ready, pod.start_time) {
                    (None, _) | (_, None) => true,
                    (Some(cond), Some(start)) => {
                        if start.after(self.cpu_initialization_period) > now {
                            !cond.status
                                || metric.timestamp < cond.last_transition.after(metric.window)
                        } else {
                            !cond.status
                                && start.after(self.delay_of_initial_readiness_status)
                                    > cond.last_transition
                        }
                    }
                };
                if unready {
                    g.unready.insert(pod.name.clone());
                    continue;
                }
            }
            g.ready_count += 1;
        }
        g
    }

    /// `GetResourceReplicas`: utilization of `resource` (of one container
    /// when `container` is set) against a percent-of-request target.
    #[allow(clippy::too_many_arguments)]
    pub fn resource_replicas(
        &self,
        current_replicas: i32,
        target_utilization: i32,
        resource: ResourceName,
        tolerances: Tolerances,
        pods: &[PodInfo],
        fetched: FetchedPodMetrics,
        container: Option<&str>,
        now: SimTime,
    ) -> Result<UtilizationProposal, String> {
        let (mut metrics, timestamp) = fetched.map_err(|e| {
            format!(
                "unable to get metrics for resource {}: {e}",
                resource.as_str()
            )
        })?;
        if pods.is_empty() {
            return Err("no pods returned by selector while calculating replica count".into());
        }
        let g = self.group_pods(pods, &metrics, Some(resource), now);
        for p in g.ignored.iter().chain(g.unready.iter()) {
            metrics.remove(p);
        }
        if metrics.is_empty() {
            return Err(
                "did not receive metrics for targeted pods (pods might be unready)".to_string(),
            );
        }
        let requests = calculate_requests(pods, container, resource)?;
        let (usage_ratio, utilization, raw) =
            resource_utilization_ratio(&metrics, &requests, target_utilization)?;
        let out = |replicas| UtilizationProposal {
            replicas,
            utilization,
            raw,
            timestamp,
        };
        let scale_up_with_unready = !g.unready.is_empty() && usage_ratio > 1.0;
        if !scale_up_with_unready && g.missing.is_empty() {
            if tolerances.is_within(usage_ratio) {
                return Ok(out(current_replicas));
            }
            return Ok(out(ceil_i32(usage_ratio * g.ready_count as f64)));
        }
        if !g.missing.is_empty() {
            if usage_ratio < 1.0 {
                // Missing pods use 100% of their request (or the target,
                // for targets above 100%).
                let fallback = 100i64.max(target_utilization as i64);
                for p in &g.missing {
                    let req = requests.get(p).copied().unwrap_or(0);
                    metrics.insert(p.clone(), sample(req.saturating_mul(fallback) / 100));
                }
            } else if usage_ratio > 1.0 {
                for p in &g.missing {
                    metrics.insert(p.clone(), sample(0));
                }
            }
        }
        if scale_up_with_unready {
            for p in &g.unready {
                metrics.insert(p.clone(), sample(0));
            }
        }
        let (new_ratio, _, _) =
            resource_utilization_ratio(&metrics, &requests, target_utilization)?;
        if tolerances.is_within(new_ratio)
            || (usage_ratio < 1.0 && new_ratio > 1.0)
            || (usage_ratio > 1.0 && new_ratio < 1.0)
        {
            return Ok(out(current_replicas));
        }
        let new_replicas = ceil_i32(new_ratio * metrics.len() as f64);
        if (new_ratio < 1.0 && new_replicas > current_replicas)
            || (new_ratio > 1.0 && new_replicas < current_replicas)
        {
            return Ok(out(current_replicas));
        }
        Ok(out(new_replicas))
    }

    /// `GetRawResourceReplicas`: an AverageValue target on a resource.
    #[allow(clippy::too_many_arguments)]
    pub fn raw_resource_replicas(
        &self,
        current_replicas: i32,
        target_usage: i64,
        resource: ResourceName,
        tolerances: Tolerances,
        pods: &[PodInfo],
        fetched: FetchedPodMetrics,
        now: SimTime,
    ) -> Result<UsageProposal, String> {
        let (metrics, timestamp) = fetched.map_err(|e| {
            format!(
                "unable to get metrics for resource {}: {e}",
                resource.as_str()
            )
        })?;
        let (replicas, usage) = self.plain_metric_replicas(
            metrics,
            current_replicas,
            target_usage,
            tolerances,
            pods,
            Some(resource),
            now,
        )?;
        Ok(UsageProposal {
            replicas,
            usage,
            timestamp,
        })
    }

    /// `GetMetricReplicas`: a Pods metric with an AverageValue target.
    #[allow(clippy::too_many_arguments)]
    pub fn metric_replicas(
        &self,
        current_replicas: i32,
        target_usage: i64,
        metric_name: &str,
        tolerances: Tolerances,
        pods: &[PodInfo],
        fetched: FetchedPodMetrics,
        now: SimTime,
    ) -> Result<UsageProposal, String> {
        let (metrics, timestamp) =
            fetched.map_err(|e| format!("unable to get metric {metric_name}: {e}"))?;
        let (replicas, usage) = self.plain_metric_replicas(
            metrics,
            current_replicas,
            target_usage,
            tolerances,
            pods,
            None,
            now,
        )?;
        Ok(UsageProposal {
            replicas,
            usage,
            timestamp,
        })
    }

    /// `calcPlainMetricReplicas`.
    #[allow(clippy::too_many_arguments)]
    fn plain_metric_replicas(
        &self,
        mut metrics: PodMetricsInfo,
        current_replicas: i32,
        target_usage: i64,
        tolerances: Tolerances,
        pods: &[PodInfo],
        resource: Option<ResourceName>,
        now: SimTime,
    ) -> Result<(i32, i64), String> {
        if pods.is_empty() {
            return Err("no pods returned by selector while calculating replica count".into());
        }
        let g = self.group_pods(pods, &metrics, resource, now);
        for p in g.ignored.iter().chain(g.unready.iter()) {
            metrics.remove(p);
        }
        if metrics.is_empty() {
            return Err(
                "did not receive metrics for targeted pods (pods might be unready)".to_string(),
            );
        }
        let (usage_ratio, usage) = metric_usage_ratio(&metrics, target_usage);
        let scale_up_with_unready = !g.unready.is_empty() && usage_ratio > 1.0;
        if !scale_up_with_unready && g.missing.is_empty() {
            if tolerances.is_within(usage_ratio) {
                return Ok((current_replicas, usage));
            }
            return Ok((ceil_i32(usage_ratio * g.ready_count as f64), usage));
        }
        if !g.missing.is_empty() {
            if usage_ratio < 1.0 {
                for p in &g.missing {
                    metrics.insert(p.clone(), sample(target_usage));
                }
            } else if usage_ratio > 1.0 {
                for p in &g.missing {
                    metrics.insert(p.clone(), sample(0));
                }
            }
        }
        if scale_up_with_unready {
            for p in &g.unready {
                metrics.insert(p.clone(), sample(0));
            }
        }
        let (new_ratio, _) = metric_usage_ratio(&metrics, target_usage);
        if tolerances.is_within(new_ratio)
            || (usage_ratio < 1.0 && new_ratio > 1.0)
            || (usage_ratio > 1.0 && new_ratio < 1.0)
        {
            return Ok((current_replicas, usage));
        }
        let new_replicas = ceil_i32(new_ratio * metrics.len() as f64);
        if (new_ratio < 1.0 && new_replicas > current_replicas)
            || (new_ratio > 1.0 && new_replicas < current_replicas)
        {
            return Ok((current_replicas, usage));
        }
        Ok((new_replicas, usage))
    }

    /// `GetObjectMetricReplicas`: an Object metric with a Value target.
    pub fn object_metric_replicas(
        &self,
        current_replicas: i32,
        target_usage: i64,
        tolerances: Tolerances,
        pods: &[PodInfo],
        fetched: Result<(i64, SimTime), String>,
    ) -> Result<UsageProposal, String> {
        let (usage, _) = fetched?;
        let usage_ratio = usage as f64 / target_usage as f64;
        let replicas = usage_ratio_replica_count(current_replicas, usage_ratio, tolerances, pods)?;
        // Upstream returns a zero timestamp on this path.
        Ok(UsageProposal {
            replicas,
            usage,
            timestamp: SimTime::ZERO,
        })
    }

    /// `GetObjectPerPodMetricReplicas`: an Object metric with an
    /// AverageValue target (`statusReplicas` pods share the total).
    pub fn object_per_pod_metric_replicas(
        &self,
        status_replicas: i32,
        target_average_usage: i64,
        tolerances: Tolerances,
        fetched: Result<(i64, SimTime), String>,
    ) -> Result<UsageProposal, String> {
        let (usage, timestamp) = fetched?;
        let mut replicas = status_replicas;
        let usage_ratio = usage as f64 / (target_average_usage as f64 * replicas as f64);
        if !tolerances.is_within(usage_ratio) {
            replicas = ceil_i32(usage as f64 / target_average_usage as f64);
        }
        let per_pod = (usage as f64 / status_replicas as f64).ceil();
        Ok(UsageProposal {
            replicas,
            usage: per_pod as i64,
            timestamp,
        })
    }

    /// `GetExternalMetricReplicas`: an External metric with a Value target
    /// (the sum over the returned series).
    pub fn external_metric_replicas(
        &self,
        current_replicas: i32,
        target_usage: i64,
        tolerances: Tolerances,
        pods: &[PodInfo],
        fetched: Result<(Vec<i64>, SimTime), String>,
    ) -> Result<UsageProposal, String> {
        let (values, _) = fetched?;
        let mut usage: i64 = 0;
        for v in values {
            if v > 0 && usage > i64::MAX - v {
                usage = i64::MAX;
                break;
            }
            usage = usage.wrapping_add(v);
        }
        let usage_ratio = usage as f64 / target_usage as f64;
        let replicas = usage_ratio_replica_count(current_replicas, usage_ratio, tolerances, pods)?;
        Ok(UsageProposal {
            replicas,
            usage,
            timestamp: SimTime::ZERO,
        })
    }

    /// `GetExternalPerPodMetricReplicas`: an External metric with an
    /// AverageValue target.
    pub fn external_per_pod_metric_replicas(
        &self,
        status_replicas: i32,
        target_usage_per_pod: i64,
        tolerances: Tolerances,
        fetched: Result<(Vec<i64>, SimTime), String>,
    ) -> Result<UsageProposal, String> {
        let (values, timestamp) = fetched?;
        let mut usage: i64 = 0;
        for v in values {
            usage = usage.wrapping_add(v);
            if usage < 0 {
                usage = i64::MAX;
                break;
            }
        }
        let mut replicas = status_replicas;
        let usage_ratio = usage as f64 / (target_usage_per_pod as f64 * replicas as f64);
        if !tolerances.is_within(usage_ratio) {
            let r = (usage as f64 / target_usage_per_pod as f64).ceil();
            replicas = if r > i32::MAX as f64 {
                i32::MAX
            } else {
                r as i32
            };
        }
        let usage = if usage as f64 >= i64::MAX as f64 {
            i64::MAX
        } else {
            (usage as f64 / status_replicas as f64).ceil() as i64
        };
        Ok(UsageProposal {
            replicas,
            usage,
            timestamp,
        })
    }
}

fn sample(value: i64) -> PodMetric {
    PodMetric {
        value,
        timestamp: SimTime::ZERO,
        window: Duration::ZERO,
    }
}

/// `getUsageRatioReplicaCount`: with current replicas 0, `ceil(ratio)`
/// (scale from zero); otherwise the ready pods times the ratio, unless
/// within tolerance.
fn usage_ratio_replica_count(
    current_replicas: i32,
    usage_ratio: f64,
    tolerances: Tolerances,
    pods: &[PodInfo],
) -> Result<i32, String> {
    if current_replicas != 0 {
        if tolerances.is_within(usage_ratio) {
            return Ok(current_replicas);
        }
        if pods.is_empty() {
            return Err("unable to calculate ready pods: no pods returned by selector while calculating replica count".into());
        }
        let ready = pods.iter().filter(|p| p.running_and_ready()).count() as i64;
        let x = usage_ratio * ready as f64;
        Ok(if x > i32::MAX as f64 {
            i32::MAX
        } else {
            ceil_i32(x)
        })
    } else {
        Ok(ceil_i32(usage_ratio))
    }
}

/// `calculateRequests` (container-level requests; pod-level resources are
/// not modelled): the named container's request, or the sum over regular
/// containers and sidecars.
pub fn calculate_requests(
    pods: &[PodInfo],
    container: Option<&str>,
    resource: ResourceName,
) -> Result<BTreeMap<String, i64>, String> {
    let mut out = BTreeMap::new();
    for pod in pods {
        let mut request = 0i64;
        let mut found = false;
        for c in pod.containers.iter() {
            let counts = match container {
                None => true,
                Some(n) => n == c.name,
            };
            if counts {
                match c.request(resource) {
                    Some(v) => request += v,
                    None => {
                        return Err(format!(
                            "missing request for {} in container {} of Pod {}",
                            resource.as_str(),
                            c.name,
                            pod.name
                        ))
                    }
                }
                if container.is_some() {
                    found = true;
                    break;
                }
            }
        }
        if let Some(n) = container {
            if !found {
                return Err(format!("container {n} not found in Pod {}", pod.name));
            }
        }
        out.insert(pod.name.clone(), request);
    }
    Ok(out)
}
