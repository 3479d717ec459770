//! Decoding and validation of workload manifests (apps/v1 ReplicaSet and
//! Deployment, policy/v1 PodDisruptionBudget) and of the timeline actions
//! on them (scale, setImage, rollback, pause, resume, delete with a
//! propagation policy), with upstream's defaults and validation messages
//! (pkg/apis/apps/validation, pkg/apis/policy/validation).
//!
//! To add a kind: list it in [`KINDS`] and add a `match` arm in [`convert`].

use super::convert::{
    check_api_version, convert_meta, convert_pod, convert_selector, ConvCtx, Doc,
};
use super::manifest::*;
use super::yaml::{child_path, Node as YNode};
use super::{Action, ObjectRef, WorkloadAction};
use crate::controllers::{Propagation, Workload, WorkloadBody, WorkloadKind};
use crate::model::pod::{Pod, RestartPolicy};
use crate::model::workload::{
    Deployment, DeploymentStrategy, IntOrPercent, PodDisruptionBudget, ReplicaSet,
    DEFAULT_MAX_SURGE, DEFAULT_MAX_UNAVAILABLE, DEFAULT_PROGRESS_DEADLINE_SECONDS,
    DEFAULT_REVISION_HISTORY_LIMIT,
};
use crate::model::{LabelSelector, Selector};

/// The workload kinds kubesim simulates (decoded here).
pub const KINDS: &[&str] = &[
    "ReplicaSet",
    "Deployment",
    "PodDisruptionBudget",
    "Job",
    "CronJob",
    "DaemonSet",
    "StatefulSet",
    "Service",
];
/// Kinds whose `scale` works.
const SCALABLE: &[&str] = &["ReplicaSet", "Deployment", "StatefulSet"];

/// Converts a workload manifest at `base`.
pub(super) fn convert(
    doc: &mut Doc,
    node: &YNode,
    base: &str,
    ctx: &ConvCtx,
    kind: &str,
) -> Option<Box<Workload>> {
    match kind {
        "ReplicaSet" => {
            let m: ReplicaSetM = doc.decode(node, base)?;
            check_api_version_at(doc, base, m.api_version.as_deref(), "apps/v1");
            let meta = convert_meta(doc, &m.metadata, base, true)?;
            let sp = child_path(base, "spec");
            let s = &m.spec;
            let replicas = non_negative(doc, &sp, "replicas", s.replicas.unwrap_or(1));
            let min_ready = non_negative(
                doc,
                &sp,
                "minReadySeconds",
                s.min_ready_seconds.unwrap_or(0),
            );
            let (selector, parsed) = workload_selector(doc, &sp, s.selector.as_ref())?;
            let template =
                convert_template(doc, &sp, s.template.as_ref(), &meta.namespace, &parsed, ctx)?;
            Some(Box::new(Workload::new(
                meta,
                WorkloadBody::ReplicaSet(ReplicaSet {
                    replicas: replicas?,
                    selector,
                    parsed_selector: parsed,
                    min_ready_seconds: min_ready?,
                    template,
                    status: Default::default(),
                }),
            )))
        }
        "Deployment" => {
            let m: DeploymentM = doc.decode(node, base)?;
            check_api_version_at(doc, base, m.api_version.as_deref(), "apps/v1");
            let meta = convert_meta(doc, &m.metadata, base, true)?;
            let sp = child_path(base, "spec");
            let s = &m.spec;
            let replicas = non_negative(doc, &sp, "replicas", s.replicas.unwrap_or(1));
            let min_ready = non_negative(
                doc,
                &sp,
                "minReadySeconds",
                s.min_ready_seconds.unwrap_or(0),
            );
            let history = non_negative(
                doc,
                &sp,
                "revisionHistoryLimit",
                s.revision_history_limit
                    .unwrap_or(DEFAULT_REVISION_HISTORY_LIMIT),
            );
            let deadline = s
                .progress_deadline_seconds
                .unwrap_or(DEFAULT_PROGRESS_DEADLINE_SECONDS);
            let mut ok = true;
            if deadline <= min_ready.unwrap_or(0) && s.progress_deadline_seconds.is_some() {
                doc.err(
                    &child_path(&sp, "progressDeadlineSeconds"),
                    "Invalid value: must be greater than minReadySeconds",
                );
                ok = false;
            }
            let strategy = convert_strategy(doc, &sp, s.strategy.as_ref());
            let (selector, parsed) = workload_selector(doc, &sp, s.selector.as_ref())?;
            let template =
                convert_template(doc, &sp, s.template.as_ref(), &meta.namespace, &parsed, ctx)?;
            if !ok {
                return None;
            }
            Some(Box::new(Workload::new(
                meta,
                WorkloadBody::Deployment(Deployment {
                    replicas: replicas?,
                    selector,
                    parsed_selector: parsed,
                    template,
                    strategy: strategy?,
                    min_ready_seconds: min_ready?,
                    revision_history_limit: history?,
                    paused: s.paused.unwrap_or(false),
                    progress_deadline_seconds: deadline,
                    rollback_to: None,
                    status: Default::default(),
                }),
            )))
        }
        "PodDisruptionBudget" => {
            let m: PodDisruptionBudgetM = doc.decode(node, base)?;
            check_api_version_at(doc, base, m.api_version.as_deref(), "policy/v1");
            let meta = convert_meta(doc, &m.metadata, base, true)?;
            let sp = child_path(base, "spec");
            let s = &m.spec;
            let min_available = s
                .min_available
                .as_ref()
                .map(|v| int_or_percent(doc, &child_path(&sp, "minAvailable"), v, true));
            let max_unavailable = s
                .max_unavailable
                .as_ref()
                .map(|v| int_or_percent(doc, &child_path(&sp, "maxUnavailable"), v, true));
            let mut ok = true;
            if min_available.is_some() && max_unavailable.is_some() {
                doc.err(
                    &sp,
                    "Invalid value: minAvailable and maxUnavailable cannot be both set",
                );
                ok = false;
            }
            if let Some(p) = &s.unhealthy_pod_eviction_policy {
                if p != "IfHealthyBudget" {
                    doc.warn(
                        &child_path(&sp, "unhealthyPodEvictionPolicy"),
                        format!(
                            "{p:?} is not simulated; kubesim uses IfHealthyBudget (the default)"
                        ),
                    );
                }
            }
            if let Some(sel) = &s.selector {
                convert_selector(doc, sel, &child_path(&sp, "selector"))?;
            }
            let min_available = match min_available {
                Some(v) => Some(v?),
                None => None,
            };
            let max_unavailable = match max_unavailable {
                Some(v) => Some(v?),
                None => None,
            };
            if !ok {
                return None;
            }
            Some(Box::new(Workload::new(
                meta,
                WorkloadBody::PodDisruptionBudget(PodDisruptionBudget {
                    min_available,
                    max_unavailable,
                    selector: s.selector.clone(),
                    status: Default::default(),
                }),
            )))
        }
        k if super::batch::KINDS.contains(&k) => super::batch::convert(doc, node, base, ctx, k),
        "Service" => super::services::convert(doc, node, base),
        _ => None,
    }
}

fn check_api_version_at(doc: &mut Doc, base: &str, got: Option<&str>, want: &str) {
    if base.is_empty() {
        check_api_version(doc, got, want);
    } else {
        match got {
            None => doc.err(
                &child_path(base, "apiVersion"),
                format!("required: expected {want:?}"),
            ),
            Some(g) if g != want => doc.err(
                &child_path(base, "apiVersion"),
                format!("expected {want:?}, found {g:?}"),
            ),
            _ => {}
        }
    }
}

fn non_negative(doc: &mut Doc, sp: &str, field: &str, v: i32) -> Option<i32> {
    if v < 0 {
        doc.err(
            &child_path(sp, field),
            format!("Invalid value: {v}: must be greater than or equal to 0"),
        );
        return None;
    }
    Some(v)
}

/// `spec.selector` of a ReplicaSet / Deployment: required and not empty.
fn workload_selector(
    doc: &mut Doc,
    sp: &str,
    sel: Option<&LabelSelector>,
) -> Option<(LabelSelector, Selector)> {
    let p = child_path(sp, "selector");
    let Some(sel) = sel else {
        doc.err(&p, "Required value");
        return None;
    };
    let parsed = convert_selector(doc, sel, &p)?;
    if parsed.is_empty() {
        doc.err(
            &p,
            "Invalid value: empty selector is invalid for deployment",
        );
        return None;
    }
    Some((sel.clone(), parsed))
}

/// `spec.template`: a pod spec whose labels the selector must match and
/// whose restartPolicy must be Always.
fn convert_template(
    doc: &mut Doc,
    sp: &str,
    t: Option<&PodTemplateM>,
    namespace: &str,
    selector: &Selector,
    ctx: &ConvCtx,
) -> Option<Pod> {
    let tp = child_path(sp, "template");
    let Some(t) = t else {
        doc.err(&tp, "Required value");
        return None;
    };
    let Some(spec) = t.spec.clone() else {
        doc.err(&child_path(&tp, "spec"), "Required value");
        return None;
    };
    let mut meta = t.metadata.clone();
    meta.name = Some("template".to_string());
    meta.namespace = Some(namespace.to_string());
    let m = PodM {
        api_version: None,
        kind: None,
        metadata: meta,
        spec,
    };
    let mut ok = true;
    if !selector.matches(&t.metadata.labels) {
        doc.err(
            &child_path(&tp, "metadata.labels"),
            "Invalid value: `selector` does not match template `labels`",
        );
        ok = false;
    }
    if let Some(r) = &m.spec.restart_policy {
        if r != "Always" {
            doc.err(
                &child_path(&tp, "spec.restartPolicy"),
                format!("Unsupported value: {r:?}: supported values: \"Always\""),
            );
            ok = false;
        }
    }
    let mut pod = convert_pod(doc, &m, &tp, ctx)?;
    pod.meta.name.clear();
    pod.spec.restart_policy = RestartPolicy::Always;
    ok.then_some(pod)
}

/// `intstr` values: an integer or `"N%"`; negative is invalid, and
/// percentages above 100% are invalid where `max_100`.
fn int_or_percent(doc: &mut Doc, p: &str, v: &Scalar, max_100: bool) -> Option<IntOrPercent> {
    match IntOrPercent::parse(&v.0) {
        Err(e) => {
            doc.err(p, format!("Invalid value: {e}"));
            None
        }
        Ok(x) => {
            let (n, pct) = match x {
                IntOrPercent::Int(n) => (n, false),
                IntOrPercent::Percent(n) => (n, true),
            };
            if n < 0 {
                doc.err(
                    p,
                    format!(
                        "Invalid value: {:?}: must be greater than or equal to 0",
                        v.0
                    ),
                );
                return None;
            }
            if pct && max_100 && n > 100 {
                doc.err(
                    p,
                    format!("Invalid value: {:?}: must not be greater than 100%", v.0),
                );
                return None;
            }
            Some(x)
        }
    }
}

/// `spec.strategy` with upstream's defaults and validation
/// (`ValidateDeploymentStrategy`, `ValidateRollingUpdateDeployment`).
fn convert_strategy(
    doc: &mut Doc,
    sp: &str,
    s: Option<&DeploymentStrategyM>,
) -> Option<DeploymentStrategy> {
    let p = child_path(sp, "strategy");
    let default = DeploymentStrategy::RollingUpdate {
        max_surge: DEFAULT_MAX_SURGE,
        max_unavailable: DEFAULT_MAX_UNAVAILABLE,
    };
    let Some(s) = s else { return Some(default) };
    match s.type_.as_deref().unwrap_or("RollingUpdate") {
        "Recreate" => {
            if s.rolling_update.is_some() {
                doc.err(
                    &child_path(&p, "rollingUpdate"),
                    "Forbidden: may not be specified when strategy `type` is 'Recreate'",
                );
                return None;
            }
            Some(DeploymentStrategy::Recreate)
        }
        "RollingUpdate" => {
            let rp = child_path(&p, "rollingUpdate");
            let ru = s.rolling_update.clone().unwrap_or_default();
            let surge = match &ru.max_surge {
                Some(v) => int_or_percent(doc, &child_path(&rp, "maxSurge"), v, false)?,
                None => DEFAULT_MAX_SURGE,
            };
            let unavail = match &ru.max_unavailable {
                Some(v) => int_or_percent(doc, &child_path(&rp, "maxUnavailable"), v, true)?,
                None => DEFAULT_MAX_UNAVAILABLE,
            };
            if surge.is_zero() && unavail.is_zero() {
                doc.err(
                    &child_path(&rp, "maxUnavailable"),
                    format!("Invalid value: {unavail}: may not be 0 when `maxSurge` is 0"),
                );
                return None;
            }
            Some(DeploymentStrategy::RollingUpdate {
                max_surge: surge,
                max_unavailable: unavail,
            })
        }
        o => {
            doc.err(
                &child_path(&p, "type"),
                format!(
                    "Unsupported value: {o:?}: supported values: \"Recreate\", \"RollingUpdate\""
                ),
            );
            None
        }
    }
}

/// A target `{kind, namespace, name}` of a workload action.
fn target(
    doc: &mut Doc,
    p: &str,
    kind: &Option<String>,
    namespace: &Option<String>,
    name: &Option<String>,
    allowed: &[&str],
    action: &str,
) -> Option<ObjectRef> {
    let kind = match kind.as_deref() {
        None => {
            doc.err(&child_path(p, "kind"), "required");
            None
        }
        Some(k) if allowed.contains(&k) => Some(k.to_string()),
        Some(k) if WorkloadKind::parse(k).is_some() && !KINDS.contains(&k) => {
            doc.err(
                &child_path(p, "kind"),
                format!(
                    "{action} of kind {k} is not simulated yet (supported: {})",
                    allowed.join(", ")
                ),
            );
            None
        }
        Some(k) => {
            doc.err(
                &child_path(p, "kind"),
                format!(
                    "cannot {action} kind {k:?}: supported kinds: {}",
                    allowed.join(", ")
                ),
            );
            None
        }
    };
    let name = match name {
        Some(n) => Some(n.clone()),
        None => {
            doc.err(&child_path(p, "name"), "required");
            None
        }
    };
    Some(ObjectRef {
        kind: kind?,
        namespace: namespace.clone().unwrap_or_else(|| "default".to_string()),
        name: name?,
    })
}

/// `delete` of a workload object, with its `propagationPolicy`.
pub(super) fn convert_delete(doc: &mut Doc, d: &ObjectRefM, p: &str) -> Option<Action> {
    let propagation = match d.propagation_policy.as_deref() {
        None => Some(Propagation::Background),
        Some(s) => match Propagation::parse(s) {
            Some(x) => Some(x),
            None => {
                doc.err(
                    &child_path(p, "propagationPolicy"),
                    format!("Unsupported value: {s:?}: supported values: \"Background\", \"Foreground\", \"Orphan\""),
                );
                None
            }
        },
    };
    let t = target(doc, p, &d.kind, &d.namespace, &d.name, KINDS, "delete")?;
    Some(Action::Workload(WorkloadAction::Delete {
        target: t,
        propagation: propagation?,
    }))
}

/// The workload actions of one timeline entry, pushed onto `actions`.
pub(super) fn convert_actions(
    doc: &mut Doc,
    e: &TimelineEntryM,
    path: &str,
    actions: &mut Vec<(&'static str, Option<Action>)>,
) {
    if let Some(s) = &e.scale {
        let p = child_path(path, "scale");
        let t = target(doc, &p, &s.kind, &s.namespace, &s.name, SCALABLE, "scale");
        let replicas = match s.replicas {
            None => {
                doc.err(&child_path(&p, "replicas"), "required");
                None
            }
            Some(r) if r < 0 => {
                doc.err(
                    &child_path(&p, "replicas"),
                    format!("Invalid value: {r}: must be greater than or equal to 0"),
                );
                None
            }
            Some(r) => Some(r),
        };
        let a = match (t, replicas) {
            (Some(target), Some(replicas)) => {
                Some(Action::Workload(WorkloadAction::Scale { target, replicas }))
            }
            _ => None,
        };
        actions.push(("scale", a));
    }
    if let Some(s) = &e.set_image {
        let p = child_path(path, "setImage");
        let t = target(
            doc,
            &p,
            &s.kind,
            &s.namespace,
            &s.name,
            &["Deployment", "ReplicaSet"],
            "setImage",
        );
        let container = s.container.clone();
        if container.is_none() {
            doc.err(&child_path(&p, "container"), "required");
        }
        let image = s.image.clone().filter(|i| !i.trim().is_empty());
        if image.is_none() {
            doc.err(&child_path(&p, "image"), "required");
        }
        let a = match (t, container, image) {
            (Some(target), Some(container), Some(image)) => {
                Some(Action::Workload(WorkloadAction::SetImage {
                    target,
                    container,
                    image,
                }))
            }
            _ => None,
        };
        actions.push(("setImage", a));
    }
    if let Some(r) = &e.rollback {
        let p = child_path(path, "rollback");
        let t = target(
            doc,
            &p,
            &r.kind,
            &r.namespace,
            &r.name,
            &["Deployment"],
            "rollback",
        );
        let rev = r.to_revision.unwrap_or(0);
        if rev < 0 {
            doc.err(
                &child_path(&p, "toRevision"),
                format!("Invalid value: {rev}: must be greater than or equal to 0"),
            );
        }
        let a = t.filter(|_| rev >= 0).map(|target| {
            Action::Workload(WorkloadAction::Rollback {
                target,
                to_revision: rev,
            })
        });
        actions.push(("rollback", a));
    }
    for (name, v) in [("pause", &e.pause), ("resume", &e.resume)] {
        if let Some(r) = v {
            let p = child_path(path, name);
            let t = target(
                doc,
                &p,
                &r.kind,
                &r.namespace,
                &r.name,
                &["Deployment"],
                name,
            );
            let a = t.map(|t| {
                Action::Workload(if name == "pause" {
                    WorkloadAction::Pause(t)
                } else {
                    WorkloadAction::Resume(t)
                })
            });
            actions.push((name, a));
        }
    }
}
