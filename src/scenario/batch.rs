//! Decoding and validation of batch/v1 Job and CronJob and apps/v1
//! DaemonSet and StatefulSet manifests, with upstream's defaults
//! (pkg/apis/batch/v1/defaults.go, pkg/apis/apps/v1/defaults.go) and
//! validation messages (pkg/apis/batch/validation, pkg/apis/apps/validation).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::convert::{
    check_api_version, convert_meta, convert_pod, convert_selector, ConvCtx, Doc,
};
use super::manifest::{ObjectMetaM, PodM, PodTemplateM, Scalar};
use super::yaml::{child_path, Node as YNode};
use crate::controllers::{Workload, WorkloadBody};
use crate::model::batch::*;
use crate::model::pod::{Pod, RestartPolicy};
use crate::model::workload::IntOrPercent;
use crate::model::{LabelSelector, Selector};

/// The kinds decoded here.
pub const KINDS: &[&str] = &["Job", "CronJob", "DaemonSet", "StatefulSet"];

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct JobM {
    pub api_version: Option<String>,
    /// Read by the loader's dispatch, declared so it is not "unused".
    #[allow(dead_code)]
    pub kind: Option<String>,
    #[serde(default)]
    pub metadata: ObjectMetaM,
    #[serde(default)]
    pub spec: JobSpecM,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct JobSpecM {
    pub parallelism: Option<i32>,
    pub completions: Option<i32>,
    pub completion_mode: Option<String>,
    pub backoff_limit: Option<i32>,
    pub backoff_limit_per_index: Option<i32>,
    pub max_failed_indexes: Option<i32>,
    pub active_deadline_seconds: Option<i64>,
    pub ttl_seconds_after_finished: Option<i32>,
    pub suspend: Option<bool>,
    pub pod_failure_policy: Option<PodFailurePolicyM>,
    pub pod_replacement_policy: Option<String>,
    pub template: Option<PodTemplateM>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodFailurePolicyM {
    #[serde(default)]
    pub rules: Vec<PodFailurePolicyRuleM>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodFailurePolicyRuleM {
    pub action: Option<String>,
    pub on_exit_codes: Option<OnExitCodesM>,
    #[serde(default)]
    pub on_pod_conditions: Vec<OnPodConditionM>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct OnExitCodesM {
    pub container_name: Option<String>,
    pub operator: Option<String>,
    #[serde(default)]
    pub values: Vec<i32>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct OnPodConditionM {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub status: Option<String>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CronJobM {
    pub api_version: Option<String>,
    /// Read by the loader's dispatch, declared so it is not "unused".
    #[allow(dead_code)]
    pub kind: Option<String>,
    #[serde(default)]
    pub metadata: ObjectMetaM,
    #[serde(default)]
    pub spec: CronJobSpecM,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct CronJobSpecM {
    pub schedule: Option<String>,
    pub time_zone: Option<String>,
    pub starting_deadline_seconds: Option<i64>,
    pub concurrency_policy: Option<String>,
    pub suspend: Option<bool>,
    pub successful_jobs_history_limit: Option<i32>,
    pub failed_jobs_history_limit: Option<i32>,
    pub job_template: Option<JobTemplateM>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct JobTemplateM {
    #[serde(default)]
    pub metadata: ObjectMetaM,
    #[serde(default)]
    pub spec: JobSpecM,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSetM {
    pub api_version: Option<String>,
    /// Read by the loader's dispatch, declared so it is not "unused".
    #[allow(dead_code)]
    pub kind: Option<String>,
    #[serde(default)]
    pub metadata: ObjectMetaM,
    #[serde(default)]
    pub spec: DaemonSetSpecM,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSetSpecM {
    pub selector: Option<LabelSelector>,
    pub template: Option<PodTemplateM>,
    pub update_strategy: Option<UpdateStrategyM>,
    pub min_ready_seconds: Option<i32>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStrategyM {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub rolling_update: Option<RollingUpdateM>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct RollingUpdateM {
    pub max_unavailable: Option<Scalar>,
    pub max_surge: Option<Scalar>,
    pub partition: Option<i32>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct StatefulSetM {
    pub api_version: Option<String>,
    /// Read by the loader's dispatch, declared so it is not "unused".
    #[allow(dead_code)]
    pub kind: Option<String>,
    #[serde(default)]
    pub metadata: ObjectMetaM,
    #[serde(default)]
    pub spec: StatefulSetSpecM,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct StatefulSetSpecM {
    pub replicas: Option<i32>,
    pub selector: Option<LabelSelector>,
    pub service_name: Option<String>,
    pub template: Option<PodTemplateM>,
    pub pod_management_policy: Option<String>,
    pub update_strategy: Option<UpdateStrategyM>,
    pub min_ready_seconds: Option<i32>,
    #[serde(default)]
    pub volume_claim_templates: Vec<ClaimTemplateM>,
    pub persistent_volume_claim_retention_policy: Option<RetentionM>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ClaimTemplateM {
    #[serde(default)]
    pub metadata: ObjectMetaM,
    #[serde(default)]
    pub spec: ClaimSpecM,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ClaimSpecM {
    #[serde(default)]
    pub resources: ClaimResourcesM,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ClaimResourcesM {
    #[serde(default)]
    pub requests: BTreeMap<String, Scalar>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct RetentionM {
    pub when_deleted: Option<String>,
    pub when_scaled: Option<String>,
}

fn check_version(doc: &mut Doc, base: &str, got: Option<&str>, want: &str) {
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

fn non_negative<T: PartialOrd + Default + std::fmt::Display + Copy>(
    doc: &mut Doc,
    p: &str,
    v: Option<T>,
) -> bool {
    match v {
        Some(x) if x < T::default() => {
            doc.err(
                p,
                format!("Invalid value: {x}: must be greater than or equal to 0"),
            );
            false
        }
        _ => true,
    }
}

/// A pod template with a required spec and one of the allowed restart
/// policies (`allowed[0]` is the default when unset).
fn pod_template(
    doc: &mut Doc,
    sp: &str,
    t: Option<&PodTemplateM>,
    namespace: &str,
    selector: Option<&Selector>,
    allowed: &[&str],
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
    let mut ok = true;
    let policy = spec.restart_policy.clone();
    match &policy {
        Some(r) if !allowed.contains(&r.as_str()) => {
            let list: Vec<String> = allowed.iter().map(|a| format!("{a:?}")).collect();
            doc.err(
                &child_path(&tp, "spec.restartPolicy"),
                format!(
                    "Unsupported value: {r:?}: supported values: {}",
                    list.join(", ")
                ),
            );
            ok = false;
        }
        None if allowed[0] != "Always" => {
            doc.err(
                &child_path(&tp, "spec.restartPolicy"),
                format!(
                    "Required value: valid values: {}",
                    allowed
                        .iter()
                        .map(|a| format!("{a:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            ok = false;
        }
        _ => {}
    }
    if let Some(sel) = selector {
        if !sel.matches(&t.metadata.labels) {
            doc.err(
                &child_path(&tp, "metadata.labels"),
                "Invalid value: `selector` does not match template `labels`",
            );
            ok = false;
        }
    }
    let mut meta = t.metadata.clone();
    meta.name = Some("template".to_string());
    meta.namespace = Some(namespace.to_string());
    let m = PodM {
        api_version: None,
        kind: None,
        metadata: meta,
        spec,
    };
    let mut pod = convert_pod(doc, &m, &tp, ctx)?;
    pod.meta.name.clear();
    pod.spec.restart_policy = match policy.as_deref().unwrap_or(allowed[0]) {
        "Never" => RestartPolicy::Never,
        "OnFailure" => RestartPolicy::OnFailure,
        _ => RestartPolicy::Always,
    };
    ok.then_some(pod)
}

fn required_selector(
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

fn int_or_percent(doc: &mut Doc, p: &str, v: &Scalar) -> Option<IntOrPercent> {
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
            if pct && n > 100 {
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

/// A Job spec (`sp` is its path) with upstream's defaults and validation.
fn job_spec(
    doc: &mut Doc,
    sp: &str,
    s: &JobSpecM,
    namespace: &str,
    annotations: &BTreeMap<String, String>,
    ctx: &ConvCtx,
) -> Option<Job> {
    let mut ok = true;
    for (f, v) in [
        ("parallelism", s.parallelism),
        ("completions", s.completions),
        ("backoffLimit", s.backoff_limit),
        ("backoffLimitPerIndex", s.backoff_limit_per_index),
        ("maxFailedIndexes", s.max_failed_indexes),
        ("ttlSecondsAfterFinished", s.ttl_seconds_after_finished),
    ] {
        ok &= non_negative(doc, &child_path(sp, f), v);
    }
    if let Some(a) = s.active_deadline_seconds {
        if a <= 0 {
            doc.err(
                &child_path(sp, "activeDeadlineSeconds"),
                format!("Invalid value: {a}: must be greater than 0"),
            );
            ok = false;
        }
    }
    let mode = match s.completion_mode.as_deref() {
        None | Some("NonIndexed") => CompletionMode::NonIndexed,
        Some("Indexed") => CompletionMode::Indexed,
        Some(o) => {
            doc.err(
                &child_path(sp, "completionMode"),
                format!("Unsupported value: {o:?}: supported values: \"NonIndexed\", \"Indexed\""),
            );
            ok = false;
            CompletionMode::NonIndexed
        }
    };
    // SetDefaults_Job.
    let (parallelism, completions) = match (s.parallelism, s.completions) {
        (None, None) => (1, Some(1)),
        (None, c) => (1, c),
        (p, c) => (p.unwrap_or(1), c),
    };
    if mode == CompletionMode::Indexed {
        match completions {
            None => {
                doc.err(
                    &child_path(sp, "completions"),
                    "Required value: when completion mode is Indexed",
                );
                ok = false;
            }
            Some(c) if c > 100_000 => {
                doc.err(
                    &child_path(sp, "completions"),
                    format!("Invalid value: {c}: must be less than or equal to 100000 when completion mode is Indexed"),
                );
                ok = false;
            }
            _ => {}
        }
        if parallelism > 100_000 {
            doc.err(
                &child_path(sp, "parallelism"),
                format!("Invalid value: {parallelism}: must be less than or equal to 100000 when completion mode is Indexed"),
            );
            ok = false;
        }
    }
    if s.backoff_limit_per_index.is_some() && mode != CompletionMode::Indexed {
        doc.err(
            &child_path(sp, "backoffLimitPerIndex"),
            "Invalid value: requires indexed completion mode",
        );
        ok = false;
    }
    if s.max_failed_indexes.is_some() && s.backoff_limit_per_index.is_none() {
        doc.err(
            &child_path(sp, "maxFailedIndexes"),
            "Required value: when maxFailedIndexes is specified",
        );
        ok = false;
    }
    let backoff_limit = s
        .backoff_limit
        .unwrap_or(if s.backoff_limit_per_index.is_some() {
            i32::MAX
        } else {
            6
        });
    if let Some(p) = &s.pod_replacement_policy {
        let default = if s.pod_failure_policy.is_some() {
            "Failed"
        } else {
            "TerminatingOrFailed"
        };
        if p != default {
            doc.warn(
                &child_path(sp, "podReplacementPolicy"),
                format!("{p:?} is not simulated; kubesim uses {default:?} (the default here)"),
            );
        }
    }
    let template = pod_template(
        doc,
        sp,
        s.template.as_ref(),
        namespace,
        None,
        &["Never", "OnFailure"],
        ctx,
    );
    let mut rules = Vec::new();
    if let Some(pfp) = &s.pod_failure_policy {
        let pp = child_path(sp, "podFailurePolicy");
        if template
            .as_ref()
            .is_some_and(|t| t.spec.restart_policy != RestartPolicy::Never)
        {
            doc.err(
                &child_path(sp, "template.spec.restartPolicy"),
                "Invalid value: only \"Never\" is supported when podFailurePolicy is specified",
            );
            ok = false;
        }
        for (i, r) in pfp.rules.iter().enumerate() {
            let rp = format!("{pp}.rules[{i}]");
            let action = match r.action.as_deref() {
                Some("FailJob") => Some(PodFailureAction::FailJob),
                Some("FailIndex") => {
                    if s.backoff_limit_per_index.is_none() {
                        doc.err(
                            &child_path(&rp, "action"),
                            "Invalid value: \"FailIndex\": requires the backoffLimitPerIndex to be set",
                        );
                        ok = false;
                    }
                    Some(PodFailureAction::FailIndex)
                }
                Some("Ignore") => Some(PodFailureAction::Ignore),
                Some("Count") => Some(PodFailureAction::Count),
                Some(o) => {
                    doc.err(
                        &child_path(&rp, "action"),
                        format!("Unsupported value: {o:?}: supported values: \"Count\", \"FailIndex\", \"FailJob\", \"Ignore\""),
                    );
                    None
                }
                None => {
                    doc.err(&child_path(&rp, "action"), "Required value");
                    None
                }
            };
            if r.on_exit_codes.is_some() != r.on_pod_conditions.is_empty() {
                doc.err(
                    &rp,
                    "Invalid value: specifying one of OnExitCodes and OnPodConditions is required",
                );
                ok = false;
            }
            let codes = r.on_exit_codes.as_ref().and_then(|c| {
                let cp = child_path(&rp, "onExitCodes");
                let op_in = match c.operator.as_deref() {
                    Some("In") => true,
                    Some("NotIn") => false,
                    Some(o) => {
                        doc.err(
                            &child_path(&cp, "operator"),
                            format!(
                                "Unsupported value: {o:?}: supported values: \"In\", \"NotIn\""
                            ),
                        );
                        return None;
                    }
                    None => {
                        doc.err(&child_path(&cp, "operator"), "Required value");
                        return None;
                    }
                };
                if c.values.is_empty() {
                    doc.err(
                        &child_path(&cp, "values"),
                        "Invalid value: at least one value is required",
                    );
                    return None;
                }
                if op_in && c.values.contains(&0) {
                    doc.err(
                        &child_path(&cp, "values"),
                        "Invalid value: 0: must not be 0 for the In operator",
                    );
                    return None;
                }
                Some(OnExitCodes {
                    container_name: c.container_name.clone(),
                    op_in,
                    values: c.values.clone(),
                })
            });
            if r.on_exit_codes.is_some() && codes.is_none() {
                ok = false;
            }
            let conds: Vec<(String, String)> = r
                .on_pod_conditions
                .iter()
                .map(|c| {
                    (
                        c.type_.clone().unwrap_or_default(),
                        c.status.clone().unwrap_or_else(|| "True".to_string()),
                    )
                })
                .collect();
            if let Some(action) = action {
                rules.push(PodFailurePolicyRule {
                    action,
                    on_exit_codes: codes,
                    on_pod_conditions: conds,
                });
            } else {
                ok = false;
            }
        }
    }
    let exit_codes = match annotations.get(ANN_EXIT_CODES).or_else(|| {
        s.template
            .as_ref()
            .and_then(|t| t.metadata.annotations.get(ANN_EXIT_CODES))
    }) {
        None => Vec::new(),
        Some(v) => {
            let parsed: Result<Vec<i32>, _> =
                v.split(',').map(|x| x.trim().parse::<i32>()).collect();
            match parsed {
                Ok(c) if !c.is_empty() => c,
                _ => {
                    doc.err(
                        &format!("metadata.annotations.{ANN_EXIT_CODES}"),
                        format!("invalid value {v:?}: expected comma-separated exit codes like \"1,0,0\""),
                    );
                    ok = false;
                    Vec::new()
                }
            }
        }
    };
    let template = template?;
    ok.then(|| Job {
        parallelism,
        completions,
        completion_mode: mode,
        backoff_limit,
        backoff_limit_per_index: s.backoff_limit_per_index,
        max_failed_indexes: s.max_failed_indexes,
        active_deadline_seconds: s.active_deadline_seconds,
        ttl_seconds_after_finished: s.ttl_seconds_after_finished,
        suspend: s.suspend.unwrap_or(false),
        pod_failure_policy: rules,
        template,
        exit_codes,
        status: Default::default(),
    })
}

/// Converts a manifest of one of [`KINDS`] at `base`.
pub(super) fn convert(
    doc: &mut Doc,
    node: &YNode,
    base: &str,
    ctx: &ConvCtx,
    kind: &str,
) -> Option<Box<Workload>> {
    match kind {
        "Job" => {
            let m: JobM = doc.decode(node, base)?;
            check_version(doc, base, m.api_version.as_deref(), "batch/v1");
            let meta = convert_meta(doc, &m.metadata, base, true)?;
            let sp = child_path(base, "spec");
            let job = job_spec(doc, &sp, &m.spec, &meta.namespace, &meta.annotations, ctx)?;
            Some(Box::new(Workload::new(
                meta,
                WorkloadBody::Job(Box::new(job)),
            )))
        }
        "CronJob" => {
            let m: CronJobM = doc.decode(node, base)?;
            check_version(doc, base, m.api_version.as_deref(), "batch/v1");
            let meta = convert_meta(doc, &m.metadata, base, true)?;
            let sp = child_path(base, "spec");
            let s = &m.spec;
            let mut ok = true;
            if meta.name.len() > 52 {
                doc.err(
                    &child_path(base, "metadata.name"),
                    format!(
                        "Invalid value: {:?}: must be no more than 52 characters",
                        meta.name
                    ),
                );
                ok = false;
            }
            let schedule = match &s.schedule {
                None => {
                    doc.err(&child_path(&sp, "schedule"), "Required value");
                    None
                }
                Some(sch) if sch.is_empty() => {
                    doc.err(&child_path(&sp, "schedule"), "Required value");
                    None
                }
                Some(sch) => {
                    let errs = crate::model::cron::validate_schedule(sch);
                    for e in &errs {
                        doc.err(
                            &child_path(&sp, "schedule"),
                            format!("Invalid value: {sch:?}: {e}"),
                        );
                    }
                    errs.is_empty().then(|| sch.clone())
                }
            };
            if let Some(tz) = &s.time_zone {
                for e in crate::model::cron::validate_time_zone(tz) {
                    doc.err(
                        &child_path(&sp, "timeZone"),
                        format!("Invalid value: {tz:?}: {e}"),
                    );
                    ok = false;
                }
            }
            for (f, v) in [
                (
                    "successfulJobsHistoryLimit",
                    s.successful_jobs_history_limit,
                ),
                ("failedJobsHistoryLimit", s.failed_jobs_history_limit),
            ] {
                ok &= non_negative(doc, &child_path(&sp, f), v);
            }
            ok &= non_negative(
                doc,
                &child_path(&sp, "startingDeadlineSeconds"),
                s.starting_deadline_seconds,
            );
            let policy = match s.concurrency_policy.as_deref() {
                None | Some("Allow") => ConcurrencyPolicy::Allow,
                Some("Forbid") => ConcurrencyPolicy::Forbid,
                Some("Replace") => ConcurrencyPolicy::Replace,
                Some(o) => {
                    doc.err(
                        &child_path(&sp, "concurrencyPolicy"),
                        format!("Unsupported value: {o:?}: supported values: \"Allow\", \"Forbid\", \"Replace\""),
                    );
                    ok = false;
                    ConcurrencyPolicy::Allow
                }
            };
            let jp = child_path(&sp, "jobTemplate");
            let Some(jt) = &s.job_template else {
                doc.err(&jp, "Required value");
                return None;
            };
            let job = job_spec(
                doc,
                &child_path(&jp, "spec"),
                &jt.spec,
                &meta.namespace,
                &jt.metadata.annotations,
                ctx,
            );
            let schedule = schedule?;
            let parsed =
                crate::model::cron::cronjob_schedule(&schedule, s.time_zone.as_deref()).ok()?;
            let job = job?;
            ok.then(|| {
                Box::new(Workload::new(
                    meta,
                    WorkloadBody::CronJob(Box::new(CronJob {
                        schedule,
                        time_zone: s.time_zone.clone(),
                        parsed,
                        starting_deadline_seconds: s.starting_deadline_seconds,
                        concurrency_policy: policy,
                        suspend: s.suspend.unwrap_or(false),
                        successful_jobs_history_limit: s.successful_jobs_history_limit.unwrap_or(3),
                        failed_jobs_history_limit: s.failed_jobs_history_limit.unwrap_or(1),
                        job_template: job,
                        job_labels: jt.metadata.labels.clone().into_iter().collect(),
                        job_annotations: jt.metadata.annotations.clone(),
                        status: Default::default(),
                    })),
                ))
            })
        }
        "DaemonSet" => {
            let m: DaemonSetM = doc.decode(node, base)?;
            check_version(doc, base, m.api_version.as_deref(), "apps/v1");
            let meta = convert_meta(doc, &m.metadata, base, true)?;
            let sp = child_path(base, "spec");
            let s = &m.spec;
            let mut ok = non_negative(
                doc,
                &child_path(&sp, "minReadySeconds"),
                s.min_ready_seconds,
            );
            let us = s.update_strategy.clone().unwrap_or_default();
            let strategy = match us.type_.as_deref() {
                Some("OnDelete") => {
                    if us.rolling_update.is_some() {
                        doc.err(
                            &child_path(&sp, "updateStrategy.rollingUpdate"),
                            "Forbidden: rollingUpdate may only be specified when type is RollingUpdate",
                        );
                        ok = false;
                    }
                    Some(DaemonSetStrategy::OnDelete)
                }
                None | Some("RollingUpdate") => {
                    let rp = child_path(&sp, "updateStrategy.rollingUpdate");
                    let ru = us.rolling_update.clone().unwrap_or_default();
                    // apps/v1 defaults: maxUnavailable 1, maxSurge 0.
                    let mu = match &ru.max_unavailable {
                        Some(v) => int_or_percent(doc, &child_path(&rp, "maxUnavailable"), v),
                        None => Some(IntOrPercent::Int(1)),
                    };
                    let ms = match &ru.max_surge {
                        Some(v) => int_or_percent(doc, &child_path(&rp, "maxSurge"), v),
                        None => Some(IntOrPercent::Int(0)),
                    };
                    match (mu, ms) {
                        (Some(mu), Some(ms)) if mu.is_zero() && ms.is_zero() => {
                            doc.err(
                                &child_path(&rp, "maxUnavailable"),
                                "Invalid value: may not be 0 when `maxSurge` is 0",
                            );
                            None
                        }
                        (Some(mu), Some(ms)) => Some(DaemonSetStrategy::RollingUpdate {
                            max_unavailable: mu,
                            max_surge: ms,
                        }),
                        _ => None,
                    }
                }
                Some(t) => {
                    doc.err(
                        &child_path(&sp, "updateStrategy.type"),
                        format!("Unsupported value: {t:?}: supported values: \"OnDelete\", \"RollingUpdate\""),
                    );
                    None
                }
            };
            let sel = required_selector(doc, &sp, s.selector.as_ref());
            let template = pod_template(
                doc,
                &sp,
                s.template.as_ref(),
                &meta.namespace,
                sel.as_ref().map(|x| &x.1),
                &["Always"],
                ctx,
            );
            let (selector, parsed) = sel?;
            let (template, strategy) = (template?, strategy?);
            ok.then(|| {
                Box::new(Workload::new(
                    meta,
                    WorkloadBody::DaemonSet(Box::new(DaemonSet {
                        selector,
                        parsed_selector: parsed,
                        template,
                        strategy,
                        min_ready_seconds: s.min_ready_seconds.unwrap_or(0),
                        status: Default::default(),
                    })),
                ))
            })
        }
        "StatefulSet" => {
            let m: StatefulSetM = doc.decode(node, base)?;
            check_version(doc, base, m.api_version.as_deref(), "apps/v1");
            let meta = convert_meta(doc, &m.metadata, base, true)?;
            let sp = child_path(base, "spec");
            let s = &m.spec;
            let mut ok = non_negative(doc, &child_path(&sp, "replicas"), s.replicas);
            ok &= non_negative(
                doc,
                &child_path(&sp, "minReadySeconds"),
                s.min_ready_seconds,
            );
            let pmp = match s.pod_management_policy.as_deref() {
                None | Some("OrderedReady") => PodManagementPolicy::OrderedReady,
                Some("Parallel") => PodManagementPolicy::Parallel,
                Some(o) => {
                    doc.err(
                        &child_path(&sp, "podManagementPolicy"),
                        format!("Unsupported value: {o:?}: supported values: \"OrderedReady\", \"Parallel\""),
                    );
                    ok = false;
                    PodManagementPolicy::OrderedReady
                }
            };
            let us = s.update_strategy.clone().unwrap_or_default();
            let strategy = match us.type_.as_deref() {
                None | Some("RollingUpdate") => {
                    let ru = us.rolling_update.clone().unwrap_or_default();
                    if ru.max_unavailable.is_some() {
                        doc.warn(
                            &child_path(&sp, "updateStrategy.rollingUpdate.maxUnavailable"),
                            "MaxUnavailableStatefulSet is not simulated; pods are updated one at a time",
                        );
                    }
                    let partition = ru.partition.unwrap_or(0);
                    ok &= non_negative(
                        doc,
                        &child_path(&sp, "updateStrategy.rollingUpdate.partition"),
                        Some(partition),
                    );
                    StatefulSetStrategy::RollingUpdate { partition }
                }
                Some("OnDelete") => {
                    if us.rolling_update.is_some() {
                        doc.err(
                            &child_path(&sp, "updateStrategy.rollingUpdate"),
                            "Invalid value: only allowed for updateStrategy 'RollingUpdate'",
                        );
                        ok = false;
                    }
                    StatefulSetStrategy::OnDelete
                }
                Some(o) => {
                    doc.err(
                        &child_path(&sp, "updateStrategy.type"),
                        format!("Unsupported value: {o:?}: supported values: \"OnDelete\", \"RollingUpdate\""),
                    );
                    ok = false;
                    StatefulSetStrategy::OnDelete
                }
            };
            let mut claims = Vec::new();
            for (i, c) in s.volume_claim_templates.iter().enumerate() {
                let cp = format!("{}[{i}]", child_path(&sp, "volumeClaimTemplates"));
                let Some(name) = c.metadata.name.clone() else {
                    doc.err(&child_path(&cp, "metadata.name"), "Required value");
                    ok = false;
                    continue;
                };
                let storage = match c.spec.resources.requests.get("storage") {
                    None => {
                        doc.err(
                            &child_path(&cp, "spec.resources.requests.storage"),
                            "Required value",
                        );
                        ok = false;
                        0
                    }
                    Some(q) => match crate::model::Quantity::parse(&q.0) {
                        Ok(q) => q.value(),
                        Err(e) => {
                            doc.err(
                                &child_path(&cp, "spec.resources.requests.storage"),
                                format!("Invalid value: {:?}: {e}", q.0),
                            );
                            ok = false;
                            0
                        }
                    },
                };
                claims.push(ClaimTemplate {
                    name,
                    storage_bytes: storage,
                });
            }
            let mut retention = PvcRetention::default();
            if let Some(r) = &s.persistent_volume_claim_retention_policy {
                for (f, v, slot) in [
                    (
                        "whenDeleted",
                        &r.when_deleted,
                        &mut retention.when_deleted_delete,
                    ),
                    (
                        "whenScaled",
                        &r.when_scaled,
                        &mut retention.when_scaled_delete,
                    ),
                ] {
                    match v.as_deref() {
                        None | Some("Retain") => {}
                        Some("Delete") => *slot = true,
                        Some(o) => {
                            doc.err(
                                &child_path(&sp, &format!("persistentVolumeClaimRetentionPolicy.{f}")),
                                format!("Unsupported value: {o:?}: supported values: \"Retain\", \"Delete\""),
                            );
                            ok = false;
                        }
                    }
                }
            }
            let sel = required_selector(doc, &sp, s.selector.as_ref());
            let template = pod_template(
                doc,
                &sp,
                s.template.as_ref(),
                &meta.namespace,
                sel.as_ref().map(|x| &x.1),
                &["Always"],
                ctx,
            );
            let (selector, parsed) = sel?;
            let template = template?;
            ok.then(|| {
                Box::new(Workload::new(
                    meta,
                    WorkloadBody::StatefulSet(Box::new(StatefulSet {
                        replicas: s.replicas.unwrap_or(1),
                        selector,
                        parsed_selector: parsed,
                        service_name: s.service_name.clone().unwrap_or_default(),
                        template,
                        pod_management_policy: pmp,
                        strategy,
                        min_ready_seconds: s.min_ready_seconds.unwrap_or(0),
                        volume_claim_templates: claims,
                        pvc_retention: retention,
                        revisions: Default::default(),
                        status: Default::default(),
                    })),
                ))
            })
        }
        _ => None,
    }
}
