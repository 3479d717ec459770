//! The HorizontalPodAutoscaler controller's algorithm as upstream v1.35
//! computes it (`pkg/controller/podautoscaler/horizontal.go`), over plain
//! data: one `reconcile` per sync turns the HPA spec, the target's scale,
//! its pods and a [`MetricsClient`] into a desired replica count, status,
//! conditions and events. The replica calculation is in
//! [`replica_calc`], the normalization (behavior, stabilization, limits)
//! in [`behavior`].

pub mod behavior;
pub mod replica_calc;

use crate::engine::{Duration, SimTime};
use crate::model::Selector;
pub use behavior::{Behavior, History, PartialRules, PolicyType, ScalingPolicy, SelectPolicy};
pub use replica_calc::{
    FetchedPodMetrics, PodInfo, PodMetric, PodMetricsInfo, ReplicaCalculator, ResourceName,
    Tolerances,
};

/// `MetricTarget`: exactly one kind of target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricTarget {
    /// Percent of the request (Resource, ContainerResource).
    Utilization(i32),
    /// Milli-units per pod.
    AverageValue(i64),
    /// Milli-units in total (Object, External).
    Value(i64),
}

/// Where a metric comes from (`MetricSourceType` with its source).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetricSource {
    Resource(ResourceName),
    ContainerResource(ResourceName, String),
    /// A per-pod custom metric.
    Pods(String),
    /// A metric describing one object: kind, name, metric name.
    Object {
        kind: String,
        name: String,
        metric: String,
    },
    /// A metric from outside the cluster.
    External(String),
}

/// One entry of `spec.metrics`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricSpec {
    pub source: MetricSource,
    pub target: MetricTarget,
    /// `metric.selector` of a Pods, Object or External metric: which
    /// series (by their labels) the metrics API returns; `None` selects
    /// every series.
    pub selector: Option<crate::model::Selector>,
}

impl MetricSpec {
    /// The name in hpa.csv: `cpu/Utilization`, `pods/requests_per_second`,
    /// `object/Service/web/requests`, `external/queue_length`, ….
    pub fn label(&self) -> String {
        let t = match self.target {
            MetricTarget::Utilization(_) => "Utilization",
            MetricTarget::AverageValue(_) => "AverageValue",
            MetricTarget::Value(_) => "Value",
        };
        match &self.source {
            MetricSource::Resource(r) => format!("{}/{t}", r.as_str()),
            MetricSource::ContainerResource(r, c) => format!("{}/{c}/{t}", r.as_str()),
            MetricSource::Pods(m) => format!("pods/{m}"),
            MetricSource::Object { kind, name, metric } => format!("object/{kind}/{name}/{metric}"),
            MetricSource::External(m) => format!("external/{m}"),
        }
    }
    /// The target as hpa.csv writes it (percent or milli-units).
    pub fn target_value(&self) -> i64 {
        match self.target {
            MetricTarget::Utilization(p) => p as i64,
            MetricTarget::AverageValue(v) | MetricTarget::Value(v) => v,
        }
    }
}

/// The part of `HorizontalPodAutoscalerSpec` the algorithm reads, after
/// defaulting (minReplicas 1, 80% CPU when no metric is given, behavior
/// filled in when set).
#[derive(Clone, Debug, PartialEq)]
pub struct HpaSpec {
    pub min_replicas: i32,
    pub max_replicas: i32,
    pub metrics: Vec<MetricSpec>,
    pub behavior: Option<Behavior>,
}

/// The target's scale subresource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scale {
    pub spec_replicas: i32,
    pub status_replicas: i32,
}

/// What the controller reads through the metrics APIs for one HPA (its
/// namespace and pod selector are bound in).
pub trait MetricsClient {
    /// metrics.k8s.io: per-pod usage of `resource` (of one container when
    /// given), in milli-units.
    fn resource_metric(&self, resource: ResourceName, container: Option<&str>)
        -> FetchedPodMetrics;
    /// custom.metrics.k8s.io, per pod; `selector` is the metric's
    /// `metric.selector` over series labels (`None`: every series).
    fn pods_metric(&self, name: &str, selector: Option<&Selector>) -> FetchedPodMetrics;
    /// custom.metrics.k8s.io, one object (`selector` as for Pods).
    fn object_metric(
        &self,
        kind: &str,
        name: &str,
        metric: &str,
        selector: Option<&Selector>,
    ) -> Result<(i64, SimTime), String>;
    /// external.metrics.k8s.io: the values of the series whose labels
    /// `selector` matches (`None`: every series of the metric).
    fn external_metric(
        &self,
        name: &str,
        selector: Option<&Selector>,
    ) -> Result<(Vec<i64>, SimTime), String>;
}

/// One `HorizontalPodAutoscalerCondition`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub kind: &'static str,
    pub status: bool,
    pub reason: String,
    pub message: String,
    pub last_transition: SimTime,
}

/// One `MetricStatus`, flattened: the current value as hpa.csv writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricStatus {
    pub label: String,
    /// Percent for Utilization, milli-units otherwise.
    pub current: i64,
    pub target: i64,
}

/// `HorizontalPodAutoscalerStatus`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HpaStatus {
    pub current_replicas: i32,
    pub desired_replicas: i32,
    pub last_scale_time: Option<SimTime>,
    pub current_metrics: Vec<MetricStatus>,
    pub conditions: Vec<Condition>,
}

impl HpaStatus {
    /// `setCondition`: replaces the condition of that type, keeping its
    /// transition time when the status did not change.
    pub fn set_condition(
        &mut self,
        kind: &'static str,
        status: bool,
        reason: &str,
        message: String,
        now: SimTime,
    ) {
        if let Some(c) = self.conditions.iter_mut().find(|c| c.kind == kind) {
            if c.status != status {
                c.last_transition = now;
            }
            c.status = status;
            c.reason = reason.to_string();
            c.message = message;
        } else {
            self.conditions.push(Condition {
                kind,
                status,
                reason: reason.to_string(),
                message,
                last_transition: now,
            });
        }
    }
    pub fn condition(&self, kind: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.kind == kind)
    }
}

/// An event the controller records on the HPA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HpaEvent {
    pub warning: bool,
    pub reason: String,
    pub message: String,
}

/// The controller's flags (kube-controller-manager defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ControllerConfig {
    /// `--horizontal-pod-autoscaler-sync-period` (15 s).
    pub sync_period: Duration,
    /// `--horizontal-pod-autoscaler-tolerance` (0.1).
    pub tolerance: f64,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (5 min).
    pub downscale_stabilization: Duration,
    pub calc: ReplicaCalculator,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            sync_period: Duration::from_secs(15),
            tolerance: 0.1,
            downscale_stabilization: Duration::from_secs(300),
            calc: ReplicaCalculator::default(),
        }
    }
}

/// The controller's memory of one HPA plus its status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HpaState {
    pub history: History,
    pub status: HpaStatus,
}

/// What one sync decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncResult {
    /// Replicas to write to the scale subresource (equal to the current
    /// spec replicas when nothing changes).
    pub desired: i32,
    pub rescale: bool,
    /// The largest metric proposal before normalization (−1 when every
    /// metric failed), for policies that post-process it.
    pub proposal: i32,
    pub events: Vec<HpaEvent>,
}

struct Ctx<'a> {
    cfg: &'a ControllerConfig,
    now: SimTime,
    status: &'a mut HpaStatus,
    events: &'a mut Vec<HpaEvent>,
}

impl Ctx<'_> {
    fn set(&mut self, kind: &'static str, status: bool, reason: &str, message: String) {
        self.status
            .set_condition(kind, status, reason, message, self.now);
    }
    fn event(&mut self, warning: bool, reason: &str, message: String) {
        self.events.push(HpaEvent {
            warning,
            reason: reason.to_string(),
            message,
        });
    }
    /// `getUnableComputeReplicaCountCondition` (records the warning event).
    fn unable(&mut self, reason: &str, err: &str) -> Condition {
        self.event(true, reason, err.to_string());
        Condition {
            kind: "ScalingActive",
            status: false,
            reason: reason.to_string(),
            message: format!("the HPA was unable to compute the replica count: {err}"),
            last_transition: self.now,
        }
    }
}

/// The tolerances of one HPA: the controller's, overridden per direction
/// by `behavior.scaleUp/scaleDown.tolerance`.
pub fn tolerances(cfg: &ControllerConfig, spec: &HpaSpec) -> Tolerances {
    let mut t = Tolerances::both(cfg.tolerance);
    if let Some(b) = &spec.behavior {
        if let Some(d) = b.scale_down.tolerance {
            t.scale_down = d;
        }
        if let Some(u) = b.scale_up.tolerance {
            t.scale_up = u;
        }
    }
    t
}

/// `computeReplicasForMetric` for one metric: proposal, name, status.
fn replicas_for_metric(
    ctx: &mut Ctx,
    spec: &HpaSpec,
    m: &MetricSpec,
    scale: Scale,
    pods: &[PodInfo],
    client: &dyn MetricsClient,
) -> Result<(i32, String, MetricStatus), (Condition, String)> {
    let tol = tolerances(ctx.cfg, spec);
    let calc = ctx.cfg.calc;
    let now = ctx.now;
    let spec_r = scale.spec_replicas;
    let st = |current: i64| MetricStatus {
        label: m.label(),
        current,
        target: m.target_value(),
    };
    match (&m.source, m.target) {
        (MetricSource::Resource(r), _) | (MetricSource::ContainerResource(r, _), _) => {
            let container = match &m.source {
                MetricSource::ContainerResource(_, c) => Some(c.as_str()),
                _ => None,
            };
            let (reason, wrap) = if container.is_some() {
                (
                    "FailedGetContainerResourceMetric",
                    format!(
                        "failed to get {} container metric value",
                        container.unwrap_or("")
                    ),
                )
            } else {
                (
                    "FailedGetResourceMetric",
                    format!("failed to get {} resource metric value", r.as_str()),
                )
            };
            let res = match m.target {
                MetricTarget::AverageValue(v) => calc
                    .raw_resource_replicas(spec_r, v, *r, tol, pods, client.resource_metric(*r, container), now)
                    .map(|p| (p.replicas, format!("{} resource", r.as_str()), st(p.usage)))
                    .map_err(|e| format!("failed to get {} usage: {e}", r.as_str())),
                MetricTarget::Utilization(u) => calc
                    .resource_replicas(spec_r, u, *r, tol, pods, client.resource_metric(*r, container), container, now)
                    .map(|p| {
                        let name = if container.is_some() {
                            format!("{} container resource utilization (percentage of request)", r.as_str())
                        } else {
                            format!("{} resource utilization (percentage of request)", r.as_str())
                        };
                        (p.replicas, name, st(p.utilization as i64))
                    })
                    .map_err(|e| format!("failed to get {} utilization: {e}", r.as_str())),
                MetricTarget::Value(_) => Err("invalid resource metric source: neither an average utilization target nor an average value (usage) target was set".to_string()),
            };
            res.map_err(|e| {
                let c = ctx.unable(reason, &e);
                (c, format!("{wrap}: {e}"))
            })
        }
        (MetricSource::Pods(name), MetricTarget::AverageValue(v)) => calc
            .metric_replicas(
                spec_r,
                v,
                name,
                tol,
                pods,
                client.pods_metric(name, m.selector.as_ref()),
                now,
            )
            .map(|p| (p.replicas, format!("pods metric {name}"), st(p.usage)))
            .map_err(|e| {
                let c = ctx.unable("FailedGetPodsMetric", &e);
                (c, format!("failed to get pods metric value: {e}"))
            }),
        (MetricSource::Object { kind, name, metric }, t) => {
            let fetched = client
                .object_metric(kind, name, metric, m.selector.as_ref())
                .map_err(|e| format!("unable to get metric {metric}: {kind} on {name} {e}"));
            let r = match t {
                MetricTarget::Value(v) => calc
                    .object_metric_replicas(spec_r, v, tol, pods, fetched)
                    .map(|p| (p.replicas, format!("{kind} metric {metric}"), st(p.usage))),
                MetricTarget::AverageValue(v) => calc
                    .object_per_pod_metric_replicas(scale.status_replicas, v, tol, fetched)
                    .map(|p| (p.replicas, format!("{kind} metric {metric}"), st(p.usage))),
                MetricTarget::Utilization(_) => Err("invalid object metric source: neither a value target nor an average value target was set".to_string()),
            };
            r.map_err(|e| {
                let c = ctx.unable("FailedGetObjectMetric", &e);
                (c, format!("failed to get object metric value: {e}"))
            })
        }
        (MetricSource::External(name), t) => {
            let fetched = client
                .external_metric(name, m.selector.as_ref())
                .map_err(|e| format!("unable to get external metric {name}: {e}"));
            let r = match t {
                MetricTarget::AverageValue(v) => calc
                    .external_per_pod_metric_replicas(scale.status_replicas, v, tol, fetched)
                    .map(|p| (p.replicas, format!("external metric {name}"), st(p.usage))),
                MetricTarget::Value(v) => calc
                    .external_metric_replicas(spec_r, v, tol, pods, fetched)
                    .map(|p| (p.replicas, format!("external metric {name}"), st(p.usage))),
                MetricTarget::Utilization(_) => Err("invalid external metric source: neither a value target nor an average value target was set".to_string()),
            };
            r.map_err(|e| {
                let c = ctx.unable("FailedGetExternalMetric", &e);
                (
                    c,
                    format!("failed to get {name} external metric value: {e}"),
                )
            })
        }
        (MetricSource::Pods(_), _) => {
            let e = "invalid pods metric source: an average value target must be set".to_string();
            let c = ctx.unable("FailedGetPodsMetric", &e);
            Err((c, e))
        }
    }
}

/// `computeReplicasForMetrics`: the largest proposal over the metrics;
/// −1 with an error when every metric failed, or some failed and the rest
/// would scale down.
fn replicas_for_metrics(
    ctx: &mut Ctx,
    spec: &HpaSpec,
    scale: Scale,
    pods: &[PodInfo],
    client: &dyn MetricsClient,
) -> (i32, String, Vec<MetricStatus>, Option<String>) {
    let mut replicas = 0;
    let mut metric = String::new();
    let mut statuses = Vec::with_capacity(spec.metrics.len());
    let mut invalid = 0;
    let mut first: Option<(Condition, String)> = None;
    for m in &spec.metrics {
        match replicas_for_metric(ctx, spec, m, scale, pods, client) {
            Ok((r, name, st)) => {
                statuses.push(st);
                if replicas == 0 || r > replicas {
                    replicas = r;
                    metric = name;
                }
            }
            Err(e) => {
                invalid += 1;
                if first.is_none() {
                    first = Some(e);
                }
            }
        }
    }
    let err = first.as_ref().map(|(_, e)| {
        format!(
            "invalid metrics ({invalid} invalid out of {}), first error is: {e}",
            spec.metrics.len()
        )
    });
    if invalid >= spec.metrics.len() || (invalid > 0 && replicas < scale.spec_replicas) {
        if let Some((c, _)) = first {
            ctx.set(c.kind, c.status, &c.reason, c.message);
        }
        return (-1, String::new(), statuses, err);
    }
    ctx.set(
        "ScalingActive",
        true,
        "ValidMetricFound",
        format!("the HPA was able to successfully calculate a replica count from {metric}"),
    );
    (replicas, metric, statuses, err)
}

/// One sync of one HPA (`reconcileAutoscaler` after the scale was read):
/// updates `state` and returns what to write to the scale subresource.
pub fn reconcile(
    cfg: &ControllerConfig,
    state: &mut HpaState,
    spec: &HpaSpec,
    scale: Scale,
    pods: &[PodInfo],
    client: &dyn MetricsClient,
    now: SimTime,
) -> SyncResult {
    reconcile_adjusted(cfg, state, spec, scale, pods, client, now, &mut |r| r)
}

/// [`reconcile`] with a hook on the metrics' proposal before it is
/// normalized (stabilization, rate limits, bounds): the seam where a
/// policy replaces upstream's reactive proposal (see
/// [`crate::autoscaler::predictive`]). With the identity it is upstream.
#[allow(clippy::too_many_arguments)]
pub fn reconcile_adjusted(
    cfg: &ControllerConfig,
    state: &mut HpaState,
    spec: &HpaSpec,
    scale: Scale,
    pods: &[PodInfo],
    client: &dyn MetricsClient,
    now: SimTime,
    adjust: &mut dyn FnMut(i32) -> i32,
) -> SyncResult {
    let mut events = Vec::new();
    let HpaState { history, status } = state;
    let mut ctx = Ctx {
        cfg,
        now,
        status,
        events: &mut events,
    };
    ctx.set(
        "AbleToScale",
        true,
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale".to_string(),
    );
    let current = scale.spec_replicas;
    history.record_initial(current, now);
    let min = spec.min_replicas;
    let mut desired = 0;
    let mut reason = String::new();
    let mut statuses = Vec::new();
    let mut proposal = -1;
    let rescale;
    if current == 0 && min != 0 {
        ctx.set(
            "ScalingActive",
            false,
            "ScalingDisabled",
            "scaling is disabled since the replica count of the target is zero".to_string(),
        );
        rescale = false;
    } else if current > spec.max_replicas {
        reason = "Current number of replicas above Spec.MaxReplicas".to_string();
        desired = spec.max_replicas;
        rescale = true;
    } else if current < min {
        reason = "Current number of replicas below Spec.MinReplicas".to_string();
        desired = min;
        rescale = true;
    } else {
        let (r, metric, st, err) = replicas_for_metrics(&mut ctx, spec, scale, pods, client);
        statuses = st;
        proposal = r;
        if r == -1 {
            ctx.status.current_replicas = current;
            ctx.status.current_metrics = statuses;
            ctx.event(
                true,
                "FailedComputeMetricsReplicas",
                err.unwrap_or_default(),
            );
            return SyncResult {
                desired: current,
                rescale: false,
                proposal,
                events,
            };
        }
        let r = adjust(r);
        let mut rescale_metric = String::new();
        if r > desired {
            desired = r;
            rescale_metric = metric;
        }
        if desired > current {
            reason = format!("{rescale_metric} above target");
        }
        if desired < current {
            reason = "All metrics below target".to_string();
        }
        desired = match &spec.behavior {
            None => {
                let stabilized = history.stabilize(cfg.downscale_stabilization, desired, now);
                if stabilized != desired {
                    ctx.set("AbleToScale", true, "ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation".to_string());
                } else {
                    ctx.set(
                        "AbleToScale",
                        true,
                        "ReadyForNewScale",
                        "recommended size matches current size".to_string(),
                    );
                }
                let (d, r, m) =
                    behavior::convert_with_rules(current, stabilized, min, spec.max_replicas);
                ctx.set("ScalingLimited", d != stabilized, r, m.to_string());
                d
            }
            Some(b) => {
                let down_window = b
                    .scale_down
                    .stabilization_window_seconds
                    .unwrap_or((cfg.downscale_stabilization.as_micros() / 1_000_000) as i32);
                let up_window = b.scale_up.stabilization_window_seconds.unwrap_or(0);
                let (stabilized, r, m) =
                    history.stabilize_with_behaviors(up_window, down_window, current, desired, now);
                if stabilized != desired {
                    ctx.set("AbleToScale", true, r, m.to_string());
                } else {
                    ctx.set(
                        "AbleToScale",
                        true,
                        "ReadyForNewScale",
                        "recommended size matches current size".to_string(),
                    );
                }
                let (d, r, m) = behavior::convert_with_behavior_rate(
                    history,
                    b,
                    min,
                    spec.max_replicas,
                    current,
                    stabilized,
                    now,
                );
                ctx.set("ScalingLimited", d != stabilized, r, m.to_string());
                d
            }
        };
        rescale = desired != current;
    }
    if rescale {
        ctx.set(
            "AbleToScale",
            true,
            "SucceededRescale",
            format!("the HPA controller was able to update the target scale to {desired}"),
        );
        ctx.event(
            false,
            "SuccessfulRescale",
            format!("New size: {desired}; reason: {reason}"),
        );
        if let Some(b) = &spec.behavior {
            history.store_scale_event(b, current, desired, now);
        }
        ctx.status.last_scale_time = Some(now);
    } else {
        desired = current;
    }
    ctx.status.current_replicas = current;
    ctx.status.desired_replicas = desired;
    ctx.status.current_metrics = statuses;
    SyncResult {
        desired,
        rescale,
        proposal,
        events,
    }
}

#[cfg(test)]
mod tests;
