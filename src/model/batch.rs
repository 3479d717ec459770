//! Batch and node-bound workload objects as plain data: Jobs and CronJobs
//! (batch/v1), DaemonSets and StatefulSets (apps/v1), the
//! PersistentVolumeClaims a StatefulSet creates, and the pure helpers of
//! their controllers that upstream unit-tests on their own: the Job pod
//! failure back-off (pkg/controller/job/backoff_utils.go) and the pod
//! failure policy (pkg/controller/job/pod_failure_policy.go).

use std::collections::{BTreeMap, BTreeSet};

use super::pod::Pod;
use super::selector::{LabelSelector, Selector};
use super::workload::{Condition, IntOrPercent};
use crate::engine::{Duration, SimTime};

// ---------------------------------------------------------------- Job

/// `spec.completionMode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CompletionMode {
    #[default]
    NonIndexed,
    Indexed,
}

/// `podFailurePolicy.rules[].action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodFailureAction {
    FailJob,
    FailIndex,
    Ignore,
    Count,
}

/// `onExitCodes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnExitCodes {
    /// `None`: every container; `Some(name)`: that container only.
    pub container_name: Option<String>,
    /// `In` (true) or `NotIn` (false).
    pub op_in: bool,
    pub values: Vec<i32>,
}

/// One `podFailurePolicy` rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodFailurePolicyRule {
    pub action: PodFailureAction,
    pub on_exit_codes: Option<OnExitCodes>,
    /// `onPodConditions`: (type, status) pairs.
    pub on_pod_conditions: Vec<(String, String)>,
}

/// What a failed pod looks like to the pod failure policy.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FailedPodView {
    /// Exit code of each terminated (main) container, by name.
    pub exit_codes: Vec<(String, i32)>,
    /// Pod conditions with status `True` (e.g. `DisruptionTarget`).
    pub true_conditions: Vec<String>,
}

/// Upstream `matchPodFailurePolicy`: the first rule that matches decides;
/// `None` when no rule matches (the failure counts). The returned message
/// is upstream's for FailJob; `pod_name` is `namespace/name`.
pub fn match_pod_failure_policy(
    rules: &[PodFailurePolicyRule],
    pod_name: &str,
    pod: &FailedPodView,
) -> Option<(PodFailureAction, String)> {
    for (index, rule) in rules.iter().enumerate() {
        if let Some(r) = &rule.on_exit_codes {
            let matched = pod.exit_codes.iter().find(|(name, code)| {
                r.container_name.as_deref().is_none_or(|n| n == name)
                    // Upstream `matchOnExitCodes` skips containers that
                    // exited with 0.
                    && *code != 0
                    && (r.values.contains(code) == r.op_in)
            });
            if let Some((name, code)) = matched {
                let msg = format!(
                    "Container {name} for pod {pod_name} failed with exit code {code} matching {} rule at index {index}",
                    action_name(rule.action)
                );
                return Some((rule.action, msg));
            }
        } else if !rule.on_pod_conditions.is_empty() {
            let matched = rule
                .on_pod_conditions
                .iter()
                .find(|(t, s)| s == "True" && pod.true_conditions.contains(t));
            if let Some((t, _)) = matched {
                let msg = format!(
                    "Pod {pod_name} has condition {t} matching {} rule at index {index}",
                    action_name(rule.action)
                );
                return Some((rule.action, msg));
            }
        }
    }
    None
}

pub fn action_name(a: PodFailureAction) -> &'static str {
    match a {
        PodFailureAction::FailJob => "FailJob",
        PodFailureAction::FailIndex => "FailIndex",
        PodFailureAction::Ignore => "Ignore",
        PodFailureAction::Count => "Count",
    }
}

/// Upstream `DefaultJobPodFailureBackOff`.
pub const JOB_POD_FAILURE_BACKOFF: Duration = Duration::from_secs(10);
/// Upstream `MaxJobPodFailureBackOff` in pkg/controller/job/job_controller.go
/// (v1.35: 10 minutes; the documentation's "capped at six minutes" is the
/// value of releases before the back-off moved to `backoff_utils.go`).
pub const JOB_POD_FAILURE_BACKOFF_MAX: Duration = Duration::from_secs(600);

/// Upstream `getRemainingTimeForFailuresCount`: the back-off after
/// `failures` consecutive failures (10 s doubling, capped) minus the time
/// since the last failure, or zero.
pub fn remaining_backoff(failures: u32, last_failure: Option<SimTime>, now: SimTime) -> Duration {
    let Some(last) = last_failure else {
        return Duration::ZERO;
    };
    if failures == 0 {
        return Duration::ZERO;
    }
    let mut d = JOB_POD_FAILURE_BACKOFF;
    for _ in 1..failures {
        d = d.saturating_mul(2);
        if d >= JOB_POD_FAILURE_BACKOFF_MAX {
            d = JOB_POD_FAILURE_BACKOFF_MAX;
            break;
        }
    }
    let elapsed = now.since(last);
    if d < elapsed {
        Duration::ZERO
    } else {
        Duration(d.0 - elapsed.0)
    }
}

/// batch/v1 Job spec and status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub parallelism: i32,
    /// `None`: a work-queue Job (done when any pod succeeds).
    pub completions: Option<i32>,
    pub completion_mode: CompletionMode,
    pub backoff_limit: i32,
    pub backoff_limit_per_index: Option<i32>,
    pub max_failed_indexes: Option<i32>,
    pub active_deadline_seconds: Option<i64>,
    pub ttl_seconds_after_finished: Option<i32>,
    pub suspend: bool,
    pub pod_failure_policy: Vec<PodFailurePolicyRule>,
    pub template: Pod,
    /// kubesim: exit codes given to the Job's pods in creation order
    /// (cycled), from the `kubesim.dev/exit-codes` annotation; empty: the
    /// template's behaviour.
    pub exit_codes: Vec<i32>,
    pub status: JobStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobStatus {
    pub active: i32,
    pub ready: i32,
    pub succeeded: i32,
    pub failed: i32,
    pub terminating: i32,
    pub start_time: Option<SimTime>,
    pub completion_time: Option<SimTime>,
    pub conditions: Vec<Condition>,
    pub completed_indexes: BTreeSet<i32>,
    pub failed_indexes: BTreeSet<i32>,
    /// UIDs of finished pods already counted (what upstream's
    /// `batch.kubernetes.io/job-tracking` finalizer guarantees).
    pub counted: BTreeSet<String>,
    /// Pods created so far (picks `exit_codes`).
    pub pods_created: u32,
    /// Back-off record: failures since the last success, and when.
    pub failures_after_success: u32,
    pub last_failure: Option<SimTime>,
    /// Failures per index (backoffLimitPerIndex) and the last one's time.
    pub index_failures: BTreeMap<i32, (i32, SimTime)>,
}

impl JobStatus {
    pub fn condition(&self, t: &str) -> bool {
        self.conditions
            .iter()
            .any(|c| c.type_ == t && c.status == "True")
    }
    /// Complete or Failed.
    pub fn finished(&self) -> Option<SimTime> {
        self.conditions
            .iter()
            .find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
            .map(|c| c.last_transition)
    }
}

/// Labels and annotations the Job controller puts on its pods.
pub const LABEL_JOB_NAME: &str = "batch.kubernetes.io/job-name";
pub const LABEL_CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
pub const LABEL_JOB_NAME_LEGACY: &str = "job-name";
pub const LABEL_CONTROLLER_UID_LEGACY: &str = "controller-uid";
pub const ANN_COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";
pub const ANN_INDEX_FAILURE_COUNT: &str = "batch.kubernetes.io/job-index-failure-count";
/// kubesim: exit codes for a Job's pods (see [`Job::exit_codes`]).
pub const ANN_EXIT_CODES: &str = "kubesim.dev/exit-codes";

// ---------------------------------------------------------------- CronJob

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ConcurrencyPolicy {
    #[default]
    Allow,
    Forbid,
    Replace,
}

/// batch/v1 CronJob spec and status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronJob {
    pub schedule: String,
    pub time_zone: Option<String>,
    /// The parsed schedule (validated at load).
    pub parsed: super::cron::Schedule,
    pub starting_deadline_seconds: Option<i64>,
    pub concurrency_policy: ConcurrencyPolicy,
    pub suspend: bool,
    pub successful_jobs_history_limit: i32,
    pub failed_jobs_history_limit: i32,
    /// `spec.jobTemplate`: the Job (spec) every run gets, and its labels
    /// and annotations.
    pub job_template: Job,
    pub job_labels: super::Labels,
    pub job_annotations: BTreeMap<String, String>,
    pub status: CronJobStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CronJobStatus {
    /// Names of the active Jobs.
    pub active: Vec<String>,
    pub last_schedule_time: Option<SimTime>,
    pub last_successful_time: Option<SimTime>,
    /// kubesim counters for workloads.csv.
    pub jobs_succeeded: i32,
    pub jobs_failed: i32,
    /// Jobs already counted as finished.
    pub counted: BTreeSet<String>,
}

// ---------------------------------------------------------------- DaemonSet

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DaemonSetStrategy {
    OnDelete,
    RollingUpdate {
        max_unavailable: IntOrPercent,
        max_surge: IntOrPercent,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaemonSet {
    pub selector: LabelSelector,
    pub parsed_selector: Selector,
    pub template: Pod,
    pub strategy: DaemonSetStrategy,
    pub min_ready_seconds: i32,
    pub status: DaemonSetStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DaemonSetStatus {
    pub desired_number_scheduled: i32,
    pub current_number_scheduled: i32,
    pub number_misscheduled: i32,
    pub number_ready: i32,
    pub number_available: i32,
    pub updated_number_scheduled: i32,
    pub observed_generation: i64,
}

// ---------------------------------------------------------------- StatefulSet

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PodManagementPolicy {
    #[default]
    OrderedReady,
    Parallel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatefulSetStrategy {
    OnDelete,
    RollingUpdate { partition: i32 },
}

/// `persistentVolumeClaimRetentionPolicy`: `true` = Delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PvcRetention {
    pub when_deleted_delete: bool,
    pub when_scaled_delete: bool,
}

/// A `volumeClaimTemplates` entry: the claim's name and storage request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimTemplate {
    pub name: String,
    pub storage_bytes: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatefulSet {
    pub replicas: i32,
    pub selector: LabelSelector,
    pub parsed_selector: Selector,
    pub service_name: String,
    pub template: Pod,
    pub pod_management_policy: PodManagementPolicy,
    pub strategy: StatefulSetStrategy,
    pub min_ready_seconds: i32,
    pub volume_claim_templates: Vec<ClaimTemplate>,
    pub pvc_retention: PvcRetention,
    /// The templates by revision name (upstream ControllerRevisions):
    /// pods below the partition keep the current revision's template.
    pub revisions: BTreeMap<String, Pod>,
    pub status: StatefulSetStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatefulSetStatus {
    pub replicas: i32,
    pub ready_replicas: i32,
    pub current_replicas: i32,
    pub updated_replicas: i32,
    pub available_replicas: i32,
    pub current_revision: String,
    pub update_revision: String,
    pub observed_generation: i64,
}

/// A PersistentVolumeClaim as the StatefulSet controller creates it: a
/// record only (no volume binding is simulated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersistentVolumeClaim {
    pub storage_bytes: i64,
}

/// Labels of StatefulSet pods.
pub const LABEL_POD_NAME: &str = "statefulset.kubernetes.io/pod-name";
pub const LABEL_POD_INDEX: &str = "apps.kubernetes.io/pod-index";
pub const LABEL_CONTROLLER_REVISION_HASH: &str = "controller-revision-hash";

/// A stable, deterministic hash of a pod template (FNV-1a over its debug
/// form) used as a revision name suffix; upstream hashes the encoded
/// template with FNV-32a too (`controller.ComputeHash`), so names differ
/// from a real cluster's but change exactly when the template does.
pub fn template_hash(template: &Pod) -> String {
    let text = format!(
        "{:?}|{:?}|{}",
        template.meta.labels,
        template.meta.annotations,
        template.spec.hash_text()
    );
    let mut h: u32 = 0x811c_9dc5;
    for b in text.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    // Upstream SafeEncodeString alphabet.
    const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut s = String::new();
    for b in h.to_string().bytes() {
        s.push(ALPHA[(b as usize) % ALPHA.len()] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: u64) -> SimTime {
        SimTime(x * 1_000_000)
    }

    /// The back-off sequence upstream's backoff_utils_test.go checks:
    /// 10 s, 20 s, 40 s, … capped at 10 min, minus the time elapsed.
    #[test]
    fn remaining_backoff_table() {
        let default = 10;
        let cases: &[(u32, u64, u64, u64)] = &[
            // (failures, last failure, now, want seconds)
            (0, 0, 0, 0),
            (1, 0, 0, default),
            (1, 0, 5, 5),
            (1, 0, 15, 0),
            (2, 0, 10, 10),
            (3, 0, 10, 30),
            (6, 0, 10, 310),
            (7, 0, 10, 590),
            (8, 0, 10, 590),
            (20, 0, 10, 590),
        ];
        for (failures, last, now, want) in cases {
            let last = (*failures > 0).then(|| s(*last));
            assert_eq!(
                remaining_backoff(*failures, last, s(*now)),
                Duration::from_secs(*want),
                "failures={failures} now={now}"
            );
        }
    }

    fn codes(op_in: bool, values: &[i32], container: Option<&str>) -> PodFailurePolicyRule {
        PodFailurePolicyRule {
            action: PodFailureAction::FailJob,
            on_exit_codes: Some(OnExitCodes {
                container_name: container.map(str::to_string),
                op_in,
                values: values.to_vec(),
            }),
            on_pod_conditions: vec![],
        }
    }

    /// Cases after pod_failure_policy_test.go `TestMatchPodFailurePolicy`.
    #[test]
    fn pod_failure_policy_table() {
        let pod = |cs: &[(&str, i32)], conds: &[&str]| FailedPodView {
            exit_codes: cs.iter().map(|(n, c)| (n.to_string(), *c)).collect(),
            true_conditions: conds.iter().map(|c| c.to_string()).collect(),
        };
        // Ignore on DisruptionTarget.
        let ignore = PodFailurePolicyRule {
            action: PodFailureAction::Ignore,
            on_exit_codes: None,
            on_pod_conditions: vec![("DisruptionTarget".into(), "True".into())],
        };
        let got = match_pod_failure_policy(
            std::slice::from_ref(&ignore),
            "p",
            &pod(&[("main", 1)], &["DisruptionTarget"]),
        );
        assert_eq!(got.map(|g| g.0), Some(PodFailureAction::Ignore));
        assert_eq!(
            match_pod_failure_policy(&[ignore], "p", &pod(&[("main", 1)], &[])),
            None
        );
        // FailJob on exit code In.
        let got = match_pod_failure_policy(
            &[codes(true, &[1, 2, 3], None)],
            "default/mypod",
            &pod(&[("main-container", 2)], &[]),
        );
        assert_eq!(
            got,
            Some((
                PodFailureAction::FailJob,
                "Container main-container for pod default/mypod failed with exit code 2 matching FailJob rule at index 0".to_string()
            ))
        );
        assert_eq!(
            match_pod_failure_policy(
                &[codes(true, &[1, 2, 3], None)],
                "p",
                &pod(&[("c", 4)], &[])
            ),
            None
        );
        // NotIn matches other non-zero codes, never 0.
        assert!(match_pod_failure_policy(
            &[codes(false, &[1, 2, 3], None)],
            "p",
            &pod(&[("c", 4)], &[])
        )
        .is_some());
        assert!(match_pod_failure_policy(
            &[codes(false, &[1, 2, 3], None)],
            "p",
            &pod(&[("c", 0)], &[])
        )
        .is_none());
        // Container name restricts the rule.
        assert!(match_pod_failure_policy(
            &[codes(true, &[1], Some("other"))],
            "p",
            &pod(&[("c", 1)], &[])
        )
        .is_none());
        // First matching rule wins.
        let mut count = codes(true, &[1], None);
        count.action = PodFailureAction::Count;
        let got = match_pod_failure_policy(
            &[count, codes(true, &[1], None)],
            "p",
            &pod(&[("c", 1)], &[]),
        );
        assert_eq!(got.map(|g| g.0), Some(PodFailureAction::Count));
    }

    #[test]
    fn template_hash_changes_with_the_template() {
        let mut a = Pod::new(Default::default(), Default::default(), Default::default());
        let h1 = template_hash(&a);
        assert_eq!(h1, template_hash(&a.clone()));
        a.meta.labels.insert("x".into(), "y".into());
        assert_ne!(h1, template_hash(&a));
    }
}
