//! Decoding and validation of `autoscaling/v2` HorizontalPodAutoscaler
//! manifests into [`HpaObject`]s, with upstream's defaults
//! (`pkg/apis/autoscaling/v2/defaults.go`: minReplicas 1, an 80% CPU
//! utilization metric when none is given, `behavior` filled in when set)
//! and the checks of `pkg/apis/autoscaling/validation`; and the cluster
//! autoscaler's settings (node-pool `autoscaling`, `spec.clusterAutoscaler`).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::convert::{check_api_version, convert_meta, Doc};
use super::manifest::{ObjectMetaM, Scalar};
use super::yaml::{child_path, index_path, Node as YNode};
use crate::autoscaler::hpa::{
    Behavior, HpaSpec, MetricSource, MetricSpec, MetricTarget, PartialRules, PolicyType,
    ResourceName, ScalingPolicy, SelectPolicy,
};
use crate::autoscaler::object::{
    parse_series, HpaObject, ANN_EXTERNAL_PREFIX, ANN_OFFERED_LOAD, ANN_PARAM_PREFIX,
};
use crate::autoscaler::policy::{new_policy, ANN_POLICY};
use crate::engine::Duration;
use crate::model::quantity::Quantity;

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
struct HpaM {
    api_version: Option<String>,
    #[allow(dead_code)]
    kind: Option<String>,
    #[serde(default)]
    metadata: ObjectMetaM,
    #[serde(default)]
    spec: HpaSpecM,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
struct HpaSpecM {
    scale_target_ref: Option<CrossRefM>,
    min_replicas: Option<i32>,
    max_replicas: Option<i32>,
    #[serde(default)]
    metrics: Vec<MetricSpecM>,
    behavior: Option<BehaviorM>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
struct CrossRefM {
    api_version: Option<String>,
    kind: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
struct MetricSpecM {
    #[serde(rename = "type")]
    kind: Option<String>,
    resource: Option<ResourceSourceM>,
    container_resource: Option<ResourceSourceM>,
    pods: Option<MetricSourceM>,
    object: Option<MetricSourceM>,
    external: Option<MetricSourceM>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
struct ResourceSourceM {
    name: Option<String>,
    container: Option<String>,
    target: Option<TargetM>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
struct MetricSourceM {
    described_object: Option<CrossRefM>,
    metric: Option<MetricIdM>,
    target: Option<TargetM>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
struct MetricIdM {
    name: Option<String>,
    selector: Option<crate::model::LabelSelector>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
struct TargetM {
    #[serde(rename = "type")]
    kind: Option<String>,
    value: Option<Scalar>,
    average_value: Option<Scalar>,
    average_utilization: Option<i32>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
struct BehaviorM {
    scale_up: Option<RulesM>,
    scale_down: Option<RulesM>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
struct RulesM {
    stabilization_window_seconds: Option<i32>,
    select_policy: Option<String>,
    policies: Option<Vec<PolicyM>>,
    tolerance: Option<Scalar>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
struct PolicyM {
    #[serde(rename = "type")]
    kind: Option<String>,
    value: Option<i32>,
    period_seconds: Option<i32>,
}

/// The kinds an HPA can target through the scale subresource.
const SCALABLE: [&str; 3] = ["Deployment", "ReplicaSet", "StatefulSet"];

/// Converts a HorizontalPodAutoscaler manifest at `base`; `horizon` is
/// the run length (for generated series).
pub(super) fn convert(
    doc: &mut Doc,
    node: &YNode,
    base: &str,
    horizon: Duration,
) -> Option<HpaObject> {
    let m: HpaM = doc.decode(node, base)?;
    match m.api_version.as_deref() {
        Some("autoscaling/v2") => {}
        other => check_api_version(doc, other, "autoscaling/v2"),
    }
    let meta = convert_meta(doc, &m.metadata, base, true)?;
    let sp = child_path(base, "spec");
    let s = &m.spec;
    let mut ok = true;
    let (target_kind, target_name) = match &s.scale_target_ref {
        None => {
            doc.err(&child_path(&sp, "scaleTargetRef"), "Required value");
            ok = false;
            (String::new(), String::new())
        }
        Some(r) => {
            let rp = child_path(&sp, "scaleTargetRef");
            let kind = r.kind.clone().unwrap_or_default();
            let name = r.name.clone().unwrap_or_default();
            if kind.is_empty() {
                doc.err(&child_path(&rp, "kind"), "Required value");
                ok = false;
            } else if !SCALABLE.contains(&kind.as_str()) {
                doc.err(
                    &child_path(&rp, "kind"),
                    format!("Unsupported value: {kind:?}: kubesim scales Deployment, ReplicaSet and StatefulSet"),
                );
                ok = false;
            }
            if name.is_empty() {
                doc.err(&child_path(&rp, "name"), "Required value");
                ok = false;
            }
            if let Some(av) = &r.api_version {
                if av != "apps/v1" {
                    doc.err(
                        &child_path(&rp, "apiVersion"),
                        format!("expected \"apps/v1\", found {av:?}"),
                    );
                }
            }
            (kind, name)
        }
    };
    let min = s.min_replicas.unwrap_or(1);
    if min < 1 {
        doc.err(
            &child_path(&sp, "minReplicas"),
            format!("Invalid value: {min}: must be greater than or equal to 1"),
        );
        ok = false;
    }
    let max = match s.max_replicas {
        None => {
            doc.err(&child_path(&sp, "maxReplicas"), "Required value");
            ok = false;
            0
        }
        Some(v) if v < min => {
            doc.err(
                &child_path(&sp, "maxReplicas"),
                format!("Invalid value: {v}: must be greater than or equal to `minReplicas`"),
            );
            ok = false;
            v
        }
        Some(v) => v,
    };
    let mut metrics = Vec::new();
    for (i, mm) in s.metrics.iter().enumerate() {
        let p = index_path(&child_path(&sp, "metrics"), i);
        match metric(doc, mm, &p) {
            Some(x) => metrics.push(x),
            None => ok = false,
        }
    }
    if s.metrics.is_empty() {
        metrics.push(MetricSpec {
            source: MetricSource::Resource(ResourceName::Cpu),
            target: MetricTarget::Utilization(80),
            selector: None,
        });
    }
    let behavior = match &s.behavior {
        None => None,
        Some(b) => {
            let bp = child_path(&sp, "behavior");
            let up = b
                .scale_up
                .as_ref()
                .map(|r| rules(doc, r, &child_path(&bp, "scaleUp")));
            let down = b
                .scale_down
                .as_ref()
                .map(|r| rules(doc, r, &child_path(&bp, "scaleDown")));
            let up = match up {
                Some(None) => {
                    ok = false;
                    None
                }
                Some(Some(r)) => Some(r),
                None => None,
            };
            let down = match down {
                Some(None) => {
                    ok = false;
                    None
                }
                Some(Some(r)) => Some(r),
                None => None,
            };
            Some(Behavior::with_defaults(up.as_ref(), down.as_ref()))
        }
    };
    // Simulation-only annotations.
    let ann = &meta.annotations;
    let ap = child_path(&child_path(base, "metadata"), "annotations");
    let policy = ann
        .get(ANN_POLICY)
        .cloned()
        .unwrap_or_else(|| "upstream".to_string());
    let mut params = BTreeMap::new();
    let mut external = BTreeMap::new();
    let mut offered_load = None;
    for (k, v) in ann {
        if k == ANN_POLICY {
            continue;
        }
        if k == ANN_OFFERED_LOAD {
            match parse_series(v, horizon) {
                Ok(s) => offered_load = Some(s),
                Err(e) => {
                    doc.err(&child_path(&ap, k), e);
                    ok = false;
                }
            }
        } else if let Some(name) = k.strip_prefix(ANN_EXTERNAL_PREFIX) {
            match crate::autoscaler::object::parse_labelled_series(v, horizon) {
                Ok(s) => {
                    external.insert(name.to_string(), s);
                }
                Err(e) => {
                    doc.err(&child_path(&ap, k), e);
                    ok = false;
                }
            }
        } else if let Some(p) = k.strip_prefix(ANN_PARAM_PREFIX) {
            params.insert(p.to_string(), v.clone());
        }
    }
    if let Err(e) = new_policy(&policy, &params) {
        doc.err(&child_path(&ap, ANN_POLICY), e);
        ok = false;
    }
    if !ok {
        return None;
    }
    Some(HpaObject {
        namespace: meta.namespace,
        name: meta.name,
        target_kind,
        target_name,
        spec: HpaSpec {
            min_replicas: min,
            max_replicas: max,
            metrics,
            behavior,
        },
        policy,
        params,
        offered_load,
        external,
    })
}

fn quantity(doc: &mut Doc, p: &str, v: &Scalar) -> Option<i64> {
    match Quantity::parse(v.0.trim()) {
        Ok(q) => match q.checked_milli_value() {
            Some(m) if m > 0 => Some(m),
            Some(_) => {
                doc.err(p, format!("Invalid value: {:?}: must be positive", v.0));
                None
            }
            None => {
                doc.err(p, format!("Invalid value: {:?}: out of range", v.0));
                None
            }
        },
        Err(e) => {
            doc.err(p, format!("Invalid value: {:?}: {e}", v.0));
            None
        }
    }
}

/// `validateMetricTarget`: the type names the field that must be set.
fn target(doc: &mut Doc, t: Option<&TargetM>, p: &str, allowed: &[&str]) -> Option<MetricTarget> {
    let tp = child_path(p, "target");
    let Some(t) = t else {
        doc.err(&tp, "Required value: must specify a metric target");
        return None;
    };
    let kind = t.kind.as_deref().unwrap_or("");
    if !allowed.contains(&kind) {
        doc.err(
            &child_path(&tp, "type"),
            format!(
                "Unsupported value: {kind:?}: supported values: {}",
                allowed
                    .iter()
                    .map(|a| format!("\"{a}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        return None;
    }
    match kind {
        "Utilization" => match t.average_utilization {
            Some(u) if u > 0 => Some(MetricTarget::Utilization(u)),
            Some(u) => {
                doc.err(
                    &child_path(&tp, "averageUtilization"),
                    format!("Invalid value: {u}: must be greater than 0"),
                );
                None
            }
            None => {
                doc.err(
                    &child_path(&tp, "averageUtilization"),
                    "Required value: must set averageUtilization when type is Utilization",
                );
                None
            }
        },
        "AverageValue" => match &t.average_value {
            Some(v) => {
                quantity(doc, &child_path(&tp, "averageValue"), v).map(MetricTarget::AverageValue)
            }
            None => {
                doc.err(
                    &child_path(&tp, "averageValue"),
                    "Required value: must set averageValue when type is AverageValue",
                );
                None
            }
        },
        _ => match &t.value {
            Some(v) => quantity(doc, &child_path(&tp, "value"), v).map(MetricTarget::Value),
            None => {
                doc.err(
                    &child_path(&tp, "value"),
                    "Required value: must set value when type is Value",
                );
                None
            }
        },
    }
}

fn resource_name(doc: &mut Doc, p: &str, n: Option<&str>) -> Option<ResourceName> {
    match n {
        Some("cpu") => Some(ResourceName::Cpu),
        Some("memory") => Some(ResourceName::Memory),
        Some(o) => {
            doc.err(
                p,
                format!("Unsupported value: {o:?}: kubesim models \"cpu\" and \"memory\""),
            );
            None
        }
        None => {
            doc.err(p, "Required value: must specify a resource name");
            None
        }
    }
}

/// `metric.selector` parsed (`Some(None)` when absent; `None` after an
/// error was reported).
fn metric_selector(
    doc: &mut Doc,
    m: Option<&MetricIdM>,
    p: &str,
) -> Option<Option<crate::model::Selector>> {
    let Some(sel) = m.and_then(|m| m.selector.as_ref()) else {
        return Some(None);
    };
    match sel.to_selector() {
        Ok(s) => Some(Some(s)),
        Err(e) => {
            doc.err(
                &child_path(&child_path(p, "metric"), "selector"),
                e.to_string(),
            );
            None
        }
    }
}

fn metric_name(doc: &mut Doc, m: Option<&MetricIdM>, p: &str) -> Option<String> {
    let mp = child_path(p, "metric");
    match m.and_then(|m| m.name.clone()) {
        Some(n) if !n.is_empty() => Some(n),
        _ => {
            doc.err(
                &child_path(&mp, "name"),
                "Required value: must specify a metric name",
            );
            None
        }
    }
}

fn metric(doc: &mut Doc, m: &MetricSpecM, p: &str) -> Option<MetricSpec> {
    let kind = m.kind.as_deref().unwrap_or("");
    let need = |doc: &mut Doc, field: &str| {
        doc.err(&child_path(p, field), format!("Required value: must populate information for the given metric source (type {kind})"));
    };
    match kind {
        "Resource" => {
            let Some(r) = &m.resource else {
                need(doc, "resource");
                return None;
            };
            let rp = child_path(p, "resource");
            let name = resource_name(doc, &child_path(&rp, "name"), r.name.as_deref());
            let t = target(
                doc,
                r.target.as_ref(),
                &rp,
                &["Utilization", "AverageValue"],
            );
            Some(MetricSpec {
                source: MetricSource::Resource(name?),
                target: t?,
                selector: None,
            })
        }
        "ContainerResource" => {
            let Some(r) = &m.container_resource else {
                need(doc, "containerResource");
                return None;
            };
            let rp = child_path(p, "containerResource");
            let name = resource_name(doc, &child_path(&rp, "name"), r.name.as_deref());
            let container = match r.container.clone() {
                Some(c) if !c.is_empty() => Some(c),
                _ => {
                    doc.err(
                        &child_path(&rp, "container"),
                        "Required value: must specify a container",
                    );
                    None
                }
            };
            let t = target(
                doc,
                r.target.as_ref(),
                &rp,
                &["Utilization", "AverageValue"],
            );
            Some(MetricSpec {
                source: MetricSource::ContainerResource(name?, container?),
                target: t?,
                selector: None,
            })
        }
        "Pods" => {
            let Some(s) = &m.pods else {
                need(doc, "pods");
                return None;
            };
            let sp = child_path(p, "pods");
            let n = metric_name(doc, s.metric.as_ref(), &sp);
            let sel = metric_selector(doc, s.metric.as_ref(), &sp);
            let t = target(doc, s.target.as_ref(), &sp, &["AverageValue"]);
            Some(MetricSpec {
                source: MetricSource::Pods(n?),
                target: t?,
                selector: sel?,
            })
        }
        "Object" => {
            let Some(s) = &m.object else {
                need(doc, "object");
                return None;
            };
            let sp = child_path(p, "object");
            let n = metric_name(doc, s.metric.as_ref(), &sp);
            let (k, name) = match &s.described_object {
                Some(CrossRefM {
                    kind: Some(k),
                    name: Some(n),
                    ..
                }) => (Some(k.clone()), Some(n.clone())),
                _ => {
                    doc.err(
                        &child_path(&sp, "describedObject"),
                        "Required value: must specify kind and name",
                    );
                    (None, None)
                }
            };
            let sel = metric_selector(doc, s.metric.as_ref(), &sp);
            let t = target(doc, s.target.as_ref(), &sp, &["Value", "AverageValue"]);
            Some(MetricSpec {
                source: MetricSource::Object {
                    kind: k?,
                    name: name?,
                    metric: n?,
                },
                target: t?,
                selector: sel?,
            })
        }
        "External" => {
            let Some(s) = &m.external else {
                need(doc, "external");
                return None;
            };
            let sp = child_path(p, "external");
            let n = metric_name(doc, s.metric.as_ref(), &sp);
            let sel = metric_selector(doc, s.metric.as_ref(), &sp);
            let t = target(doc, s.target.as_ref(), &sp, &["Value", "AverageValue"]);
            Some(MetricSpec {
                source: MetricSource::External(n?),
                target: t?,
                selector: sel?,
            })
        }
        other => {
            doc.err(
                &child_path(p, "type"),
                format!("Unsupported value: {other:?}: supported values: \"ContainerResource\", \"External\", \"Object\", \"Pods\", \"Resource\""),
            );
            None
        }
    }
}

/// `validateScalingRules` and the conversion to partial rules.
fn rules(doc: &mut Doc, r: &RulesM, p: &str) -> Option<PartialRules> {
    let mut ok = true;
    if let Some(w) = r.stabilization_window_seconds {
        if !(0..=3600).contains(&w) {
            doc.err(
                &child_path(p, "stabilizationWindowSeconds"),
                format!("Invalid value: {w}: must be less than or equal to 3600 and greater than or equal to 0"),
            );
            ok = false;
        }
    }
    let select = match r.select_policy.as_deref() {
        None => None,
        Some(s) => match SelectPolicy::parse(s) {
            Some(x) => Some(x),
            None => {
                doc.err(
                    &child_path(p, "selectPolicy"),
                    format!("Unsupported value: {s:?}: supported values: \"Disabled\", \"Max\", \"Min\""),
                );
                ok = false;
                None
            }
        },
    };
    let policies = match &r.policies {
        None => None,
        Some(ps) => {
            if ps.is_empty() {
                doc.err(
                    &child_path(p, "policies"),
                    "Required value: must specify at least one Policy",
                );
                ok = false;
            }
            let mut out = Vec::new();
            for (i, pm) in ps.iter().enumerate() {
                let pp = index_path(&child_path(p, "policies"), i);
                let kind = match pm.kind.as_deref() {
                    Some("Pods") => Some(PolicyType::Pods),
                    Some("Percent") => Some(PolicyType::Percent),
                    other => {
                        doc.err(
                            &child_path(&pp, "type"),
                            format!(
                                "Unsupported value: {:?}: supported values: \"Percent\", \"Pods\"",
                                other.unwrap_or("")
                            ),
                        );
                        None
                    }
                };
                let value = pm.value.unwrap_or(0);
                if value <= 0 {
                    doc.err(
                        &child_path(&pp, "value"),
                        format!("Invalid value: {value}: must be greater than zero"),
                    );
                }
                let period = pm.period_seconds.unwrap_or(0);
                if period <= 0 || period > 1800 {
                    doc.err(
                        &child_path(&pp, "periodSeconds"),
                        format!("Invalid value: {period}: must be greater than zero and less than or equal to 1800"),
                    );
                }
                match kind {
                    Some(k) if value > 0 && period > 0 && period <= 1800 => {
                        out.push(ScalingPolicy {
                            kind: k,
                            value,
                            period_seconds: period,
                        })
                    }
                    _ => ok = false,
                }
            }
            Some(out)
        }
    };
    let tolerance = match &r.tolerance {
        None => None,
        Some(t) => match Quantity::parse(t.0.trim())
            .ok()
            .and_then(|q| q.checked_milli_value())
        {
            Some(m) if m >= 0 => Some(m as f64 / 1000.0),
            _ => {
                doc.err(
                    &child_path(p, "tolerance"),
                    format!("Invalid value: {:?}: must be a non-negative quantity", t.0),
                );
                ok = false;
                None
            }
        },
    };
    ok.then_some(PartialRules {
        stabilization_window_seconds: r.stabilization_window_seconds,
        select_policy: select,
        policies,
        tolerance,
    })
}

/// A node pool's `autoscaling` block at `path`.
pub(super) fn convert_pool_autoscaling(
    doc: &mut Doc,
    a: &super::manifest::PoolAutoscalingM,
    path: &str,
    count: u32,
) -> Option<super::PoolAutoscaling> {
    let ap = child_path(path, "autoscaling");
    let min = a.min_size.unwrap_or(0);
    let max = match a.max_size {
        Some(m) => m,
        None => {
            doc.err(&child_path(&ap, "maxSize"), "required");
            return None;
        }
    };
    if max < min {
        doc.err(
            &child_path(&ap, "maxSize"),
            format!("must be at least minSize ({min}), found {max}"),
        );
        return None;
    }
    if count < min || count > max {
        doc.err(
            &child_path(path, "count"),
            format!("must be between minSize ({min}) and maxSize ({max}), found {count}"),
        );
        return None;
    }
    let delay = match &a.provisioning_delay {
        Some(d) => super::convert::duration(doc, &child_path(&ap, "provisioningDelay"), d)?,
        None => Duration::from_secs(60),
    };
    let price = match &a.price_per_hour {
        None => 0,
        Some(p) => match Quantity::parse(p.0.trim())
            .ok()
            .and_then(|q| q.checked_milli_value())
        {
            Some(m) if m >= 0 => m,
            _ => {
                doc.err(
                    &child_path(&ap, "pricePerHour"),
                    format!("must be a non-negative quantity, found {:?}", p.0),
                );
                return None;
            }
        },
    };
    Some(super::PoolAutoscaling {
        min_size: min,
        max_size: max,
        provisioning_delay: delay,
        price_milli_per_hour: price,
        priority: a.priority.unwrap_or(0),
    })
}

/// `spec.clusterAutoscaler`.
pub(super) fn convert_cluster_autoscaler(
    doc: &mut Doc,
    m: &super::manifest::ClusterAutoscalerM,
    out: &mut super::ClusterAutoscalerSettings,
) {
    let p = "spec.clusterAutoscaler";
    if let Some(e) = &m.expander {
        match crate::autoscaler::cluster::new_expander(e, crate::engine::SimRng::derive(0, "check"))
        {
            Ok(_) => out.expander = e.clone(),
            Err(msg) => doc.err(&child_path(p, "expander"), msg),
        }
    }
    for (field, v, slot) in [
        ("scanInterval", &m.scan_interval, &mut out.scan_interval),
        (
            "scaleDownUnneededTime",
            &m.scale_down_unneeded_time,
            &mut out.scale_down_unneeded_time,
        ),
        (
            "scaleDownDelayAfterAdd",
            &m.scale_down_delay_after_add,
            &mut out.scale_down_delay_after_add,
        ),
    ] {
        if let Some(v) = v {
            if let Some(d) = super::convert::duration(doc, &child_path(p, field), v) {
                if field == "scanInterval" && d == Duration::ZERO {
                    doc.err(&child_path(p, field), "must be greater than zero");
                } else {
                    *slot = d;
                }
            }
        }
    }
    if let Some(pol) = &m.policy {
        if crate::autoscaler::provisioner::POLICIES.contains(&pol.as_str()) {
            out.policy = pol.clone();
        } else {
            doc.err(
                &child_path(p, "policy"),
                format!(
                    "unknown policy {pol:?}; valid policies: {}",
                    crate::autoscaler::provisioner::POLICIES.join(", ")
                ),
            );
        }
    }
    if let Some(v) = &m.consolidate_after {
        if let Some(d) = super::convert::duration(doc, &child_path(p, "consolidateAfter"), v) {
            out.consolidate_after = d;
        }
    }
    if let Some(b) = &m.disruption_budget {
        match b
            .trim()
            .strip_suffix('%')
            .and_then(|x| x.trim().parse::<u32>().ok())
        {
            Some(x) if x <= 100 => out.disruption_budget_percent = x,
            _ => doc.err(
                &child_path(p, "disruptionBudget"),
                format!("must be a percentage between 0% and 100%, found {b:?}"),
            ),
        }
    }
    if let Some(t) = &m.scale_down_utilization_threshold {
        match Quantity::parse(t.0.trim())
            .ok()
            .and_then(|q| q.checked_milli_value())
        {
            Some(x) if (0..=1000).contains(&x) => out.utilization_threshold_percent = x / 10,
            _ => doc.err(
                &child_path(p, "scaleDownUtilizationThreshold"),
                format!("must be a number between 0 and 1, found {:?}", t.0),
            ),
        }
    }
}
