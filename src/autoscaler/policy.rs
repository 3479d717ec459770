//! Pluggable horizontal autoscaling policies: the [`AutoscalerPolicy`]
//! trait, the registry by name, and `upstream` (the HPA controller's own
//! algorithm, [`crate::autoscaler::hpa::reconcile`]). An HPA selects its
//! policy with the annotation `kubesim.dev/autoscaler-policy` (default
//! `upstream`); parameters come from `kubesim.dev/autoscaler-<name>`
//! annotations.
//!
//! A policy is one object per HPA (it may keep state between syncs), sees
//! a read-only [`PolicyView`] (the HPA spec, the target's scale, its pods,
//! the metrics APIs, the demand history and the time) and returns the
//! replicas to set with the status to show, as data.

use std::collections::BTreeMap;

use super::hpa::{
    self, ControllerConfig, HpaEvent, HpaSpec, HpaState, HpaStatus, MetricSource, MetricTarget,
    MetricsClient, PodInfo, Scale,
};
use crate::engine::SimTime;

/// The annotation that selects a policy.
pub const ANN_POLICY: &str = "kubesim.dev/autoscaler-policy";

/// One point of an HPA's demand history: the replicas (× 1000) its
/// metrics ask for at their targets, the largest over its metrics (see
/// [`demand_milli_replicas`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DemandSample {
    pub at: SimTime,
    pub milli_replicas: i64,
}

/// What a policy sees at one sync.
pub struct PolicyView<'a> {
    pub now: SimTime,
    pub config: &'a ControllerConfig,
    pub spec: &'a HpaSpec,
    pub scale: Scale,
    pub pods: &'a [PodInfo],
    pub metrics: &'a dyn MetricsClient,
    /// This HPA's demand at earlier syncs, oldest first, then now's.
    pub history: &'a [DemandSample],
}

/// What a policy decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyOutput {
    /// Replicas to write to the scale subresource.
    pub desired: i32,
    pub status: HpaStatus,
    pub events: Vec<HpaEvent>,
}

/// A horizontal autoscaling policy.
pub trait AutoscalerPolicy {
    /// The name HPAs select it by.
    fn name(&self) -> &str;
    /// One sync.
    fn sync(&mut self, view: &PolicyView) -> PolicyOutput;
}

/// Upstream's HPA controller.
#[derive(Default)]
pub struct Upstream {
    state: HpaState,
}

impl AutoscalerPolicy for Upstream {
    fn name(&self) -> &str {
        "upstream"
    }
    fn sync(&mut self, v: &PolicyView) -> PolicyOutput {
        let r = hpa::reconcile(
            v.config,
            &mut self.state,
            v.spec,
            v.scale,
            v.pods,
            v.metrics,
            v.now,
        );
        PolicyOutput {
            desired: r.desired,
            status: self.state.status.clone(),
            events: r.events,
        }
    }
}

/// Every registered policy.
pub const NAMES: [&str; 2] = ["upstream", "predictive"];

/// Builds the policy `name` with its parameters (annotation suffix →
/// value).
pub fn new_policy(
    name: &str,
    params: &BTreeMap<String, String>,
) -> Result<Box<dyn AutoscalerPolicy>, String> {
    match name {
        "upstream" => Ok(Box::new(Upstream::default())),
        "predictive" => Ok(Box::new(super::predictive::Predictive::from_params(
            params,
        )?)),
        other => Err(format!(
            "unknown autoscaler policy {other:?}; valid policies: {}",
            NAMES.join(", ")
        )),
    }
}

/// The replicas (× 1000) the metrics ask for at their targets, the
/// largest over the metrics that can be read (`None` if none can): for a
/// Utilization target the summed usage over the summed requests of the
/// pods with samples, divided by the target, times those pods; for an
/// AverageValue target the total over the target; for a Value target the
/// ratio times the ready pods (upstream's own proposal, unrounded).
pub fn demand_milli_replicas(
    spec: &HpaSpec,
    pods: &[PodInfo],
    client: &dyn MetricsClient,
) -> Option<i64> {
    let ready = pods.iter().filter(|p| p.running_and_ready()).count() as i128;
    let mut best: Option<i128> = None;
    for m in &spec.metrics {
        let d: Option<i128> = match (&m.source, m.target) {
            (MetricSource::Resource(r), t) | (MetricSource::ContainerResource(r, _), t) => {
                let container = match &m.source {
                    MetricSource::ContainerResource(_, c) => Some(c.as_str()),
                    _ => None,
                };
                client
                    .resource_metric(*r, container)
                    .ok()
                    .and_then(|(ms, _)| {
                        let live: Vec<&PodInfo> =
                            pods.iter().filter(|p| ms.contains_key(&p.name)).collect();
                        let total: i128 = live.iter().map(|p| ms[&p.name].value as i128).sum();
                        match t {
                            MetricTarget::Utilization(u) if u > 0 => {
                                let owned: Vec<PodInfo> =
                                    live.iter().map(|p| (*p).clone()).collect();
                                let reqs =
                                    hpa::replica_calc::calculate_requests(&owned, container, *r)
                                        .ok()?;
                                let req: i128 = reqs.values().map(|v| *v as i128).sum();
                                if req == 0 {
                                    return None;
                                }
                                let n = live.len() as i128;
                                Some(total * 100_000 * n / (u as i128 * req))
                            }
                            MetricTarget::AverageValue(v) if v > 0 => {
                                Some(total * 1000 / v as i128)
                            }
                            _ => None,
                        }
                    })
            }
            (MetricSource::Pods(name), MetricTarget::AverageValue(v)) if v > 0 => client
                .pods_metric(name, m.selector.as_ref())
                .ok()
                .map(|(ms, _)| {
                    ms.values().map(|x| x.value as i128).sum::<i128>() * 1000 / v as i128
                }),
            (MetricSource::Object { kind, name, metric }, t) => client
                .object_metric(kind, name, metric, m.selector.as_ref())
                .ok()
                .and_then(|(u, _)| match t {
                    MetricTarget::Value(v) if v > 0 => Some(u as i128 * ready * 1000 / v as i128),
                    MetricTarget::AverageValue(v) if v > 0 => Some(u as i128 * 1000 / v as i128),
                    _ => None,
                }),
            (MetricSource::External(name), t) => client
                .external_metric(name, m.selector.as_ref())
                .ok()
                .and_then(|(vals, _)| {
                    let u: i128 = vals.iter().map(|x| *x as i128).sum();
                    match t {
                        MetricTarget::Value(v) if v > 0 => Some(u * ready * 1000 / v as i128),
                        MetricTarget::AverageValue(v) if v > 0 => Some(u * 1000 / v as i128),
                        _ => None,
                    }
                }),
            _ => None,
        };
        if let Some(d) = d {
            best = Some(best.map_or(d, |b| b.max(d)));
        }
    }
    best.map(|b| b.clamp(0, i64::MAX as i128) as i64)
}
