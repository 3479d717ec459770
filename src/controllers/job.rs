//! The Job controller (upstream pkg/controller/job/job_controller.go,
//! backoff_utils.go, indexed_job_utils.go, pod_failure_policy.go, v1.35):
//! runs `parallelism` pods until `completions` succeed (NonIndexed) or
//! every index `0..completions` has a succeeded pod (Indexed: pods named
//! `<job>-<index>-<rand>`, annotation and label
//! `batch.kubernetes.io/job-completion-index`); replaces failed pods after
//! the exponential back-off (10 s doubling, capped at 10 min:
//! `MaxJobPodFailureBackOff`); fails the Job past `backoffLimit`
//! (`BackoffLimitExceeded`), `activeDeadlineSeconds` (`DeadlineExceeded`),
//! per-index limits (`FailedIndexes`, `MaxFailedIndexesExceeded`) or a
//! `FailJob` rule of the `podFailurePolicy` (`PodFailurePolicy`); sets the
//! interim conditions `SuccessCriteriaMet` / `FailureTarget` first and
//! `Complete` / `Failed` once no pod is left running or terminating;
//! suspends and resumes; deletes the Job `ttlSecondsAfterFinished` after
//! it finished (upstream's TTL-after-finished controller).
//!
//! Indexed pods get the `JOB_COMPLETION_INDEX` environment variable (a
//! `fieldRef` to the index annotation, as upstream).
//!
//! Deviations: finished pods are counted once by UID (what the
//! `batch.kubernetes.io/job-tracking` finalizer guarantees upstream); pods are matched by their controller
//! owner reference (upstream's generated selector on the Job's UID selects
//! the same pods); a pod deleted by someone else (eviction, preemption,
//! drain) counts as failed at once with a `DisruptionTarget` condition for
//! the pod failure policy, also when the policy is set (upstream then
//! waits for its Failed phase, which kubesim's deleted pods never show);
//! pods deleted because of `suspend` are not counted.

use super::{
    is_pod_active, pod_from_template, slow_start_batch, Api, Controller, Propagation, WorkloadBody,
    WorkloadId, WorkloadKind, WorkloadRow, SLOW_START_INITIAL_BATCH_SIZE,
};
use crate::engine::{Duration, SimTime};
use crate::model::batch::{
    match_pod_failure_policy, remaining_backoff, CompletionMode, FailedPodView, Job,
    PodFailureAction, ANN_COMPLETION_INDEX, ANN_INDEX_FAILURE_COUNT, LABEL_CONTROLLER_UID,
    LABEL_CONTROLLER_UID_LEGACY, LABEL_JOB_NAME, LABEL_JOB_NAME_LEGACY,
};
use crate::model::workload::Condition;
use crate::model::{Pod, PodId, PodPhase};

/// Upstream `MaxPodCreateDeletePerSync`.
pub const MAX_POD_CREATE_DELETE_PER_SYNC: i32 = 500;

pub struct JobController;

impl Controller for JobController {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::Job
    }
    fn sync(&self, api: &mut dyn Api, id: WorkloadId) {
        sync_job(api, id);
    }
    fn sample(&self, w: &super::Workload) -> Option<WorkloadRow> {
        let WorkloadBody::Job(j) = &w.body else {
            return None;
        };
        Some(WorkloadRow {
            kind: "Job",
            namespace: w.meta.namespace.clone(),
            name: w.meta.name.clone(),
            desired: j.completions,
            current: j.status.active,
            ready: j.status.ready,
            available: j.status.succeeded,
            updated: Some(j.status.failed),
            ..Default::default()
        })
    }
}

/// The completion index of a pod of an Indexed Job, if valid.
pub fn completion_index(pod: &Pod, completions: i32) -> Option<i32> {
    let v: i32 = pod
        .meta
        .annotations
        .get(ANN_COMPLETION_INDEX)?
        .parse()
        .ok()?;
    (0..completions).contains(&v).then_some(v)
}

fn set_condition(
    conds: &mut Vec<Condition>,
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: SimTime,
) -> bool {
    if let Some(c) = conds.iter_mut().find(|c| c.type_ == type_) {
        if c.status == status && c.reason == reason {
            return false;
        }
        let transition = c.status != status;
        c.status = status.to_string();
        c.reason = reason.to_string();
        c.message = message.to_string();
        c.last_update = now;
        if transition {
            c.last_transition = now;
        }
        return true;
    }
    conds.push(Condition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: reason.to_string(),
        message: message.to_string(),
        last_update: now,
        last_transition: now,
    });
    true
}

fn cond<'a>(conds: &'a [Condition], t: &str) -> Option<&'a Condition> {
    conds.iter().find(|c| c.type_ == t && c.status == "True")
}

fn sync_job(api: &mut dyn Api, id: WorkloadId) {
    let w = api.store().get(id).clone();
    if !w.active() {
        return;
    }
    let WorkloadBody::Job(job) = &w.body else {
        return;
    };
    let mut job: Job = (**job).clone();
    let now = api.now();
    let desc = w.describe();

    // Finished: only the TTL-after-finished controller acts.
    if let Some(fin) = job.status.finished() {
        if let Some(ttl) = job.ttl_seconds_after_finished {
            let expire = fin.after(Duration::from_secs(ttl.max(0) as u64));
            if now >= expire {
                api.record(
                    "JobTTLExpired",
                    None,
                    &format!("{desc} deleted {ttl}s after it finished"),
                );
                api.delete_workload(id, Propagation::Background);
            } else {
                api.enqueue_after(id, expire.since(now));
            }
        }
        return;
    }

    let uid = w.meta.uid.clone();
    let pods: Vec<PodId> = api
        .pods_in_namespace(&w.meta.namespace)
        .into_iter()
        .filter(|p| {
            api.pod(*p)
                .meta
                .controller_ref()
                .is_some_and(|r| r.uid == uid)
        })
        .collect();
    let indexed = job.completion_mode == CompletionMode::Indexed;
    let completions = job.completions.unwrap_or(0);
    let old_status = job.status.clone();

    if job.status.start_time.is_none() && !job.suspend {
        job.status.start_time = Some(now);
    }

    // Count newly finished pods.
    let mut new_succeeded: Vec<SimTime> = Vec::new();
    let mut new_failed: Vec<SimTime> = Vec::new();
    let mut failure_target: Option<(String, String)> =
        cond(&job.status.conditions, "FailureTarget")
            .map(|c| (c.reason.clone(), c.message.clone()));
    for &p in &pods {
        let pod = api.pod(p);
        if job.status.counted.contains(&pod.meta.uid) {
            continue;
        }
        let idx = if indexed {
            completion_index(pod, completions)
        } else {
            None
        };
        let finished_at = pod.status.finished_at.unwrap_or(now);
        if pod.phase() == PodPhase::Succeeded {
            job.status.counted.insert(pod.meta.uid.clone());
            new_succeeded.push(finished_at);
            if indexed {
                if let Some(i) = idx {
                    if !job.status.failed_indexes.contains(&i) {
                        job.status.completed_indexes.insert(i);
                    }
                }
            } else {
                job.status.succeeded += 1;
            }
            continue;
        }
        let failed_phase = pod.phase() == PodPhase::Failed;
        if !(failed_phase || pod.is_terminating()) {
            continue;
        }
        job.status.counted.insert(pod.meta.uid.clone());
        let view = FailedPodView {
            exit_codes: match (failed_phase, pod.status.exit_code) {
                (true, Some(c)) => pod
                    .spec
                    .containers
                    .first()
                    .map(|ct| vec![(ct.name.clone(), c)])
                    .unwrap_or_default(),
                _ => Vec::new(),
            },
            true_conditions: if failed_phase {
                Vec::new()
            } else {
                vec!["DisruptionTarget".to_string()]
            },
        };
        let action = match_pod_failure_policy(&job.pod_failure_policy, &pod.meta.key(), &view);
        let finished_at = if failed_phase {
            finished_at
        } else {
            pod.meta.deletion_timestamp.unwrap_or(now)
        };
        match action {
            Some((PodFailureAction::Ignore, _)) => continue,
            Some((PodFailureAction::FailJob, msg)) => {
                job.status.failed += 1;
                if failure_target.is_none() {
                    failure_target = Some(("PodFailurePolicy".to_string(), msg));
                }
            }
            Some((PodFailureAction::FailIndex, _)) if job.backoff_limit_per_index.is_some() => {
                job.status.failed += 1;
                if let Some(i) = idx {
                    if !job.status.completed_indexes.contains(&i) {
                        job.status.failed_indexes.insert(i);
                    }
                }
            }
            _ => {
                job.status.failed += 1;
                new_failed.push(finished_at);
                if let (Some(limit), Some(i)) = (job.backoff_limit_per_index, idx) {
                    let e = job
                        .status
                        .index_failures
                        .entry(i)
                        .or_insert((0, finished_at));
                    e.0 += 1;
                    e.1 = e.1.max(finished_at);
                    if e.0 > limit && !job.status.completed_indexes.contains(&i) {
                        job.status.failed_indexes.insert(i);
                    }
                }
            }
        }
    }
    update_backoff(&mut job, &mut new_succeeded, &mut new_failed);
    if indexed {
        job.status.succeeded = job.status.completed_indexes.len() as i32;
    }

    let active_pods: Vec<PodId> = pods
        .iter()
        .copied()
        .filter(|p| is_pod_active(api.pod(*p)))
        .collect();
    let terminating = pods
        .iter()
        .filter(|p| api.pod(**p).is_terminating() && !api.pod(**p).phase().is_terminal())
        .count() as i32;
    let active = active_pods.len() as i32;

    // Failure criteria (upstream syncJob order).
    if failure_target.is_none() {
        if let Some(max) = job.max_failed_indexes {
            if job.status.failed_indexes.len() as i32 > max {
                failure_target = Some((
                    "MaxFailedIndexesExceeded".into(),
                    "Job has exceeded the specified maximal number of failed indexes".into(),
                ));
            }
        }
    }
    if failure_target.is_none()
        && job.backoff_limit_per_index.is_none()
        && (job.status.failed > job.backoff_limit
            || past_backoff_limit_on_failure(api, &job, &active_pods))
    {
        failure_target = Some((
            "BackoffLimitExceeded".into(),
            "Job has reached the specified backoff limit".into(),
        ));
    }
    if failure_target.is_none() && !job.suspend {
        if let (Some(ads), Some(start)) = (job.active_deadline_seconds, job.status.start_time) {
            let deadline = start.after(Duration::from_secs(ads.max(0) as u64));
            if now >= deadline {
                failure_target = Some((
                    "DeadlineExceeded".into(),
                    "Job was active longer than specified deadline".into(),
                ));
            } else {
                api.enqueue_after(id, deadline.since(now));
            }
        }
    }
    if failure_target.is_none()
        && indexed
        && job.backoff_limit_per_index.is_some()
        && !job.status.failed_indexes.is_empty()
        && (job.status.completed_indexes.len() + job.status.failed_indexes.len()) as i32
            >= completions
    {
        failure_target = Some(("FailedIndexes".into(), "Job has failed indexes".into()));
    }

    if let Some((reason, msg)) = failure_target {
        set_condition(
            &mut job.status.conditions,
            "FailureTarget",
            "True",
            &reason,
            &msg,
            now,
        );
        for p in &active_pods {
            api.delete_pod(*p, "JobFailed");
        }
        let still_running = pods.iter().any(|p| {
            let pod = api.pod(*p);
            !pod.phase().is_terminal()
        });
        if !still_running {
            set_condition(
                &mut job.status.conditions,
                "Failed",
                "True",
                &reason,
                &msg,
                now,
            );
            api.record("JobFailed", Some(&reason), &format!("{desc}: {msg}"));
        }
        finish_status(api, &mut job, &pods);
        write_back(api, id, job, &old_status);
        return;
    }

    // Success criteria.
    let complete = if indexed {
        job.status.completed_indexes.len() as i32 >= completions
    } else {
        match job.completions {
            None => job.status.succeeded > 0 && active == 0,
            Some(c) => job.status.succeeded >= c && active == 0,
        }
    };
    if complete || cond(&job.status.conditions, "SuccessCriteriaMet").is_some() {
        set_condition(
            &mut job.status.conditions,
            "SuccessCriteriaMet",
            "True",
            "CompletionsReached",
            "Reached expected number of succeeded pods",
            now,
        );
        for p in &active_pods {
            api.delete_pod(*p, "JobComplete");
        }
        if terminating == 0 && active == 0 {
            set_condition(
                &mut job.status.conditions,
                "Complete",
                "True",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                now,
            );
            job.status.completion_time = Some(now);
            api.record("JobComplete", None, &format!("{desc} completed"));
            if let Some(ttl) = job.ttl_seconds_after_finished {
                api.enqueue_after(id, Duration::from_secs(ttl.max(0) as u64));
            }
        }
        finish_status(api, &mut job, &pods);
        write_back(api, id, job, &old_status);
        return;
    }

    // Suspend / resume.
    if job.suspend {
        if set_condition(
            &mut job.status.conditions,
            "Suspended",
            "True",
            "JobSuspended",
            "Job suspended",
            now,
        ) {
            api.record("Suspended", None, &format!("{desc} suspended"));
        }
        for p in &active_pods {
            job.status.counted.insert(api.pod(*p).meta.uid.clone());
            api.delete_pod(*p, "JobSuspended");
        }
        finish_status(api, &mut job, &pods);
        write_back(api, id, job, &old_status);
        return;
    }
    if cond(&job.status.conditions, "Suspended").is_some() {
        set_condition(
            &mut job.status.conditions,
            "Suspended",
            "False",
            "JobResumed",
            "Job resumed",
            now,
        );
        // Upstream resets startTime on resume (activeDeadlineSeconds
        // counts from there).
        job.status.start_time = Some(now);
        api.record("Resumed", None, &format!("{desc} resumed"));
        if let Some(ads) = job.active_deadline_seconds {
            api.enqueue_after(id, Duration::from_secs(ads.max(0) as u64));
        }
    }

    manage_job(api, id, &w, &mut job, &active_pods, terminating, now);
    finish_status(api, &mut job, &pods);
    write_back(api, id, job, &old_status);
}

/// Upstream `newBackoffRecord`: failures since the last success and the
/// time of the last failure.
fn update_backoff(job: &mut Job, succeeded: &mut [SimTime], failed: &mut [SimTime]) {
    succeeded.sort();
    failed.sort();
    if succeeded.is_empty() {
        if let Some(last) = failed.last() {
            job.status.failures_after_success += failed.len() as u32;
            job.status.last_failure = Some(*last);
        }
        return;
    }
    job.status.failures_after_success = 0;
    job.status.last_failure = None;
    let last_success = succeeded[succeeded.len() - 1];
    for f in failed.iter().rev() {
        if *f <= last_success {
            break;
        }
        if job.status.last_failure.is_none() {
            job.status.last_failure = Some(*f);
        }
        job.status.failures_after_success += 1;
    }
}

/// Upstream `pastBackoffLimitOnFailure`: with restartPolicy OnFailure the
/// container restarts of running and pending pods count against
/// `backoffLimit`.
fn past_backoff_limit_on_failure(api: &dyn Api, job: &Job, active: &[PodId]) -> bool {
    if job.template.spec.restart_policy != crate::model::pod::RestartPolicy::OnFailure {
        return false;
    }
    let restarts: i64 = active
        .iter()
        .map(|p| i64::from(api.pod(*p).status.restart_count))
        .sum();
    if job.backoff_limit == 0 {
        restarts > 0
    } else {
        restarts >= i64::from(job.backoff_limit)
    }
}

/// Upstream `manageJob`: create or delete pods so that the wanted number
/// is active.
fn manage_job(
    api: &mut dyn Api,
    id: WorkloadId,
    w: &super::Workload,
    job: &mut Job,
    active_pods: &[PodId],
    terminating: i32,
    now: SimTime,
) {
    let parallelism = job.parallelism.max(0);
    // podReplacementPolicy: TerminatingOrFailed by default, Failed when a
    // podFailurePolicy is set (terminating pods then block replacements).
    let blocking = if job.pod_failure_policy.is_empty() {
        0
    } else {
        terminating
    };
    let active = active_pods.len() as i32;
    if job.completion_mode == CompletionMode::Indexed {
        manage_indexed(api, id, w, job, active_pods, blocking, now);
        return;
    }
    let want_active = match job.completions {
        None => {
            if job.status.succeeded > 0 {
                active
            } else {
                parallelism
            }
        }
        Some(c) => (c - job.status.succeeded).min(parallelism).max(0),
    };
    if active > want_active {
        let n = (active - want_active).min(MAX_POD_CREATE_DELETE_PER_SYNC) as usize;
        let pods: Vec<&Pod> = active_pods.iter().map(|p| api.pod(*p)).collect();
        let order = super::replicaset::rank_pods_for_deletion(&pods, &vec![0; pods.len()], now);
        let victims: Vec<PodId> = order.into_iter().take(n).map(|i| active_pods[i]).collect();
        for v in victims {
            api.delete_pod(v, "JobScaleDown");
        }
        return;
    }
    if active + blocking < want_active {
        let remaining = remaining_backoff(
            job.status.failures_after_success,
            job.status.last_failure,
            now,
        );
        if remaining > Duration::ZERO {
            api.enqueue_after(id, remaining);
            return;
        }
        let diff = (want_active - active - blocking).min(MAX_POD_CREATE_DELETE_PER_SYNC);
        slow_start_batch(diff, SLOW_START_INITIAL_BATCH_SIZE, || {
            let pod = job_pod(job, w, None);
            api.create_pod(pod).is_ok()
        });
    }
}

fn manage_indexed(
    api: &mut dyn Api,
    id: WorkloadId,
    w: &super::Workload,
    job: &mut Job,
    active_pods: &[PodId],
    blocking: i32,
    now: SimTime,
) {
    let completions = job.completions.unwrap_or(0);
    // Duplicated, out-of-range or finished indexes among active pods go.
    let mut seen = std::collections::BTreeSet::new();
    let mut keep = 0;
    for p in active_pods {
        let idx = completion_index(api.pod(*p), completions);
        let ok = idx.is_some_and(|i| {
            !job.status.completed_indexes.contains(&i)
                && !job.status.failed_indexes.contains(&i)
                && seen.insert(i)
        });
        if ok {
            keep += 1;
        } else {
            api.delete_pod(*p, "JobIndexDuplicate");
        }
    }
    let parallelism = job.parallelism.max(0);
    let want = (parallelism - keep - blocking).min(MAX_POD_CREATE_DELETE_PER_SYNC);
    if want <= 0 {
        return;
    }
    let global = job.backoff_limit_per_index.is_none();
    if global {
        let remaining = remaining_backoff(
            job.status.failures_after_success,
            job.status.last_failure,
            now,
        );
        if remaining > Duration::ZERO {
            api.enqueue_after(id, remaining);
            return;
        }
    }
    let mut next_wake: Option<Duration> = None;
    let mut pending: Vec<i32> = Vec::new();
    for i in 0..completions {
        if pending.len() as i32 >= want {
            break;
        }
        if seen.contains(&i)
            || job.status.completed_indexes.contains(&i)
            || job.status.failed_indexes.contains(&i)
        {
            continue;
        }
        if !global {
            if let Some((count, last)) = job.status.index_failures.get(&i) {
                let r = remaining_backoff(*count as u32, Some(*last), now);
                if r > Duration::ZERO {
                    next_wake = Some(next_wake.map_or(r, |n| n.min(r)));
                    continue;
                }
            }
        }
        pending.push(i);
    }
    if let Some(r) = next_wake {
        api.enqueue_after(id, r);
    }
    let mut it = pending.into_iter();
    slow_start_batch(
        it.len() as i32,
        SLOW_START_INITIAL_BATCH_SIZE,
        || match it.next() {
            Some(i) => {
                let pod = job_pod(job, w, Some(i));
                api.create_pod(pod).is_ok()
            }
            None => false,
        },
    );
}

/// A pod of the Job from its template, with the Job's labels (and the
/// completion index for Indexed Jobs).
fn job_pod(job: &mut Job, w: &super::Workload, index: Option<i32>) -> Pod {
    let mut pod = pod_from_template(&job.template, w);
    let l = &mut pod.meta.labels;
    l.insert(LABEL_CONTROLLER_UID.into(), w.meta.uid.clone());
    l.insert(LABEL_CONTROLLER_UID_LEGACY.into(), w.meta.uid.clone());
    l.insert(LABEL_JOB_NAME.into(), w.meta.name.clone());
    l.insert(LABEL_JOB_NAME_LEGACY.into(), w.meta.name.clone());
    if let Some(i) = index {
        pod.meta.generate_name = Some(format!("{}-{i}-", w.meta.name));
        pod.meta
            .labels
            .insert(ANN_COMPLETION_INDEX.into(), i.to_string());
        pod.meta
            .annotations
            .insert(ANN_COMPLETION_INDEX.into(), i.to_string());
        add_completion_index_env(&mut pod);
        if job.backoff_limit_per_index.is_some() {
            let failures = job.status.index_failures.get(&i).map_or(0, |f| f.0);
            pod.meta
                .annotations
                .insert(ANN_INDEX_FAILURE_COUNT.into(), failures.to_string());
        }
    }
    if !job.exit_codes.is_empty() {
        let k = job.status.pods_created as usize % job.exit_codes.len();
        pod.behavior.exit_code = job.exit_codes[k];
    }
    job.status.pods_created += 1;
    pod
}

/// `JOB_COMPLETION_INDEX`, the environment variable an Indexed Job's
/// containers get.
pub const ENV_COMPLETION_INDEX: &str = "JOB_COMPLETION_INDEX";

/// Upstream `addCompletionIndexEnvVariables` (indexed_job_utils.go): every
/// init and app container without the variable gets
/// `JOB_COMPLETION_INDEX` from the completion-index annotation (a
/// `fieldRef`, resolved when the container starts).
fn add_completion_index_env(pod: &mut Pod) {
    let spec = &mut pod.spec;
    for c in spec
        .init_containers
        .iter_mut()
        .chain(spec.containers.iter_mut())
    {
        if c.env.iter().any(|e| e.name == ENV_COMPLETION_INDEX) {
            continue;
        }
        c.env.push(crate::model::pod::EnvVar {
            name: ENV_COMPLETION_INDEX.into(),
            value: String::new(),
            field_path: Some(format!("metadata.annotations['{ANN_COMPLETION_INDEX}']")),
        });
    }
}

/// Recomputes active / ready / terminating after this sync's changes.
fn finish_status(api: &dyn Api, job: &mut Job, pods: &[PodId]) {
    let uid_pods = pods.iter().map(|p| api.pod(*p));
    let mut active = 0;
    let mut ready = 0;
    let mut terminating = 0;
    for p in uid_pods {
        if is_pod_active(p) {
            active += 1;
            if p.is_ready() {
                ready += 1;
            }
        } else if p.is_terminating() && !p.phase().is_terminal() {
            terminating += 1;
        }
    }
    job.status.active = active;
    job.status.ready = ready;
    job.status.terminating = terminating;
}

fn write_back(
    api: &mut dyn Api,
    id: WorkloadId,
    mut job: Job,
    old: &crate::model::batch::JobStatus,
) {
    // Pods created in this sync are active too.
    let w = api.store().get(id);
    let uid = w.meta.uid.clone();
    let ns = w.meta.namespace.clone();
    let owner = w.meta.controller_ref().cloned();
    let (mut active, mut ready) = (0, 0);
    for p in api.pods_in_namespace(&ns) {
        let pod = api.pod(p);
        if pod.meta.controller_ref().is_some_and(|r| r.uid == uid) && is_pod_active(pod) {
            active += 1;
            if pod.is_ready() {
                ready += 1;
            }
        }
    }
    job.status.active = active;
    job.status.ready = ready;
    let changed = job.status != *old;
    if let WorkloadBody::Job(j) = &mut api.store_mut().get_mut(id).body {
        **j = job;
    }
    if changed {
        if let Some(o) = owner {
            if let Some(oid) = api.store().resolve(&ns, &o) {
                api.enqueue_after(oid, Duration::ZERO);
            }
        }
    }
}
