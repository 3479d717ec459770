//! Jobs, CronJobs, DaemonSets and StatefulSets end to end, with upstream's
//! semantics, and a property test that they converge once the timeline
//! stops.

use kubesim::cluster::RunResult;
use kubesim::controllers::{Workload, WorkloadBody};
use kubesim::engine::SimTime;
use kubesim::model::batch::{CronJob, DaemonSet, Job, StatefulSet};
use kubesim::model::{Pod, PodPhase};
use proptest::prelude::*;

use crate::{load, load_text, node_name, run};

const S: u64 = 1_000_000;

fn object<'a>(r: &'a RunResult, kind: &str, name: &str) -> &'a Workload {
    r.workload_objects
        .iter()
        .rfind(|w| w.kind().as_str() == kind && w.meta.name == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn job<'a>(r: &'a RunResult, name: &str) -> &'a Job {
    match &object(r, "Job", name).body {
        WorkloadBody::Job(j) => j,
        _ => unreachable!(),
    }
}

fn cronjob<'a>(r: &'a RunResult, name: &str) -> &'a CronJob {
    match &object(r, "CronJob", name).body {
        WorkloadBody::CronJob(j) => j,
        _ => unreachable!(),
    }
}

fn daemonset<'a>(r: &'a RunResult, name: &str) -> &'a DaemonSet {
    match &object(r, "DaemonSet", name).body {
        WorkloadBody::DaemonSet(j) => j,
        _ => unreachable!(),
    }
}

fn statefulset<'a>(r: &'a RunResult, name: &str) -> &'a StatefulSet {
    match &object(r, "StatefulSet", name).body {
        WorkloadBody::StatefulSet(j) => j,
        _ => unreachable!(),
    }
}

fn cond(j: &Job, t: &str) -> Option<(String, SimTime)> {
    j.status
        .conditions
        .iter()
        .find(|c| c.type_ == t && c.status == "True")
        .map(|c| (c.reason.clone(), c.last_transition))
}

fn pods_with_prefix<'a>(r: &'a RunResult, prefix: &str) -> Vec<&'a Pod> {
    let mut v: Vec<&Pod> = r
        .pods
        .iter()
        .filter(|p| p.meta.name.starts_with(prefix))
        .collect();
    v.sort_by_key(|p| (p.meta.creation_timestamp, p.meta.name.clone()));
    v
}

const HEADER: &str = r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: t}
spec:
  defaults: {startupTime: 0s}
  scheduler: {cycleTime: 0s, perNodeTime: 0s, bindTime: 0s}
  controllers: {reconcileDelay: 0s}
  cluster:
    nodePools:
    - name: w
      count: 2
      capacity: {cpu: "8", memory: 32Gi, pods: "110"}
"#;

fn scenario(extra_spec: &str, docs: &str) -> kubesim::scenario::Scenario {
    load_text(&format!("{HEADER}{extra_spec}\n---\n{docs}"))
}

fn job_doc(name: &str, spec: &str, annotations: &str, run: &str) -> String {
    format!(
        r#"apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  annotations: {{{annotations}}}
spec:
{spec}
  template:
    metadata:
      annotations: {{kubesim.dev/run-time: {run}}}
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox
        resources:
          requests: {{cpu: 100m}}
"#
    )
}

// ---------------------------------------------------------------- Job

#[test]
fn job_runs_parallelism_pods_until_completions_succeed() {
    let r = run(scenario(
        "",
        &job_doc("j", "  completions: 5\n  parallelism: 2", "", "10s"),
    ));
    let j = job(&r, "j");
    assert_eq!(j.status.succeeded, 5);
    assert_eq!(j.status.failed, 0);
    assert_eq!(j.status.active, 0);
    let (reason, at) = cond(j, "Complete").expect("Complete");
    assert_eq!(reason, "CompletionsReached");
    assert!(cond(j, "SuccessCriteriaMet").is_some());
    // Waves of 2, 2, 1 pods of 10 s each.
    assert_eq!(at.0 / S, 30);
    assert_eq!(j.status.completion_time, Some(at));
    let pods = pods_with_prefix(&r, "j-");
    assert_eq!(pods.len(), 5);
    // Never more than `parallelism` at once.
    for p in &pods {
        let overlapping = pods
            .iter()
            .filter(|q| {
                q.meta.creation_timestamp <= p.meta.creation_timestamp
                    && q.status
                        .finished_at
                        .is_none_or(|f| f > p.meta.creation_timestamp)
            })
            .count();
        assert!(overlapping <= 2, "{overlapping} pods at once");
    }
    // Job labels on the pods.
    assert_eq!(
        pods[0]
            .meta
            .labels
            .get("batch.kubernetes.io/job-name")
            .map(String::as_str),
        Some("j")
    );
}

#[test]
fn work_queue_job_is_done_when_one_pod_succeeds_and_the_others_finish() {
    // completions unset, parallelism 3: complete once any pod succeeded and
    // no pod is active.
    let r = run(scenario("", &job_doc("q", "  parallelism: 3", "", "5s")));
    let j = job(&r, "q");
    assert_eq!(j.completions, None);
    assert_eq!(pods_with_prefix(&r, "q-").len(), 3);
    assert_eq!(j.status.succeeded, 3);
    assert!(cond(j, "Complete").is_some());
}

#[test]
fn failed_pods_are_replaced_after_exponential_backoff_until_the_limit() {
    // Every pod fails after 1 s; backoffLimit 3: failures 1..4, each
    // replacement after 10 s, 20 s, 40 s since the last failure.
    let r = run(scenario(
        "",
        &job_doc(
            "f",
            "  backoffLimit: 3",
            "kubesim.dev/exit-codes: \"1\"",
            "1s",
        ),
    ));
    let j = job(&r, "f");
    let pods = pods_with_prefix(&r, "f-");
    assert_eq!(pods.len(), 4, "1 + 3 retries");
    let created: Vec<u64> = pods
        .iter()
        .map(|p| p.meta.creation_timestamp.0 / 1000)
        .collect();
    // ms: 0, then 1 s + 10 s, 12 s + 1 s + 20 s, 33 s + 1 s + 40 s.
    assert_eq!(created, vec![0, 11_000, 32_000, 73_000]);
    assert_eq!(j.status.failed, 4);
    let (reason, at) = cond(j, "Failed").expect("Failed");
    assert_eq!(reason, "BackoffLimitExceeded");
    assert_eq!(at.0 / 1000, 74_000);
    assert!(cond(j, "FailureTarget").is_some());
    assert_eq!(j.status.completion_time, None);
}

#[test]
fn backoff_resets_after_a_success() {
    // Exit codes 1, 0, 1, 0 … one pod at a time: each failure follows a
    // success, so every replacement waits the first step (10 s) only.
    let r = run(scenario(
        "",
        &job_doc(
            "b",
            "  completions: 3",
            "kubesim.dev/exit-codes: \"1,0\"",
            "1s",
        ),
    ));
    let j = job(&r, "b");
    assert_eq!(j.status.succeeded, 3);
    assert_eq!(j.status.failed, 3);
    let created: Vec<u64> = pods_with_prefix(&r, "b-")
        .iter()
        .map(|p| p.meta.creation_timestamp.0 / 1000)
        .collect();
    assert_eq!(created, vec![0, 11_000, 12_000, 23_000, 24_000, 35_000]);
}

#[test]
fn active_deadline_fails_the_job_and_deletes_its_pods() {
    let r = run(scenario(
        "",
        &job_doc(
            "d",
            "  parallelism: 2\n  completions: 4\n  activeDeadlineSeconds: 30",
            "",
            "1h",
        ),
    ));
    let j = job(&r, "d");
    let (reason, _) = cond(j, "Failed").expect("Failed");
    assert_eq!(reason, "DeadlineExceeded");
    for p in pods_with_prefix(&r, "d-") {
        assert_eq!(
            p.meta.deletion_timestamp.map(|t| t.0 / S),
            Some(30),
            "{}",
            p.meta.name
        );
    }
    // Deleted pods count as failed (TerminatingOrFailed).
    assert_eq!(j.status.failed, 2);
}

#[test]
fn indexed_job_runs_each_index_once_with_its_index() {
    let r = run(scenario(
        "",
        &job_doc(
            "ix",
            "  completionMode: Indexed\n  completions: 4\n  parallelism: 2",
            "",
            "5s",
        ),
    ));
    let j = job(&r, "ix");
    assert_eq!(j.status.succeeded, 4);
    assert_eq!(
        j.status
            .completed_indexes
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![0, 1, 2, 3]
    );
    let pods = pods_with_prefix(&r, "ix-");
    assert_eq!(pods.len(), 4);
    for p in &pods {
        let idx = p.meta.annotations["batch.kubernetes.io/job-completion-index"].clone();
        assert_eq!(
            p.meta.labels["batch.kubernetes.io/job-completion-index"],
            idx
        );
        assert!(
            p.meta.name.starts_with(&format!("ix-{idx}-")),
            "{}",
            p.meta.name
        );
        // JOB_COMPLETION_INDEX: a fieldRef to the annotation, resolved.
        let c = &p.spec.containers[0];
        assert_eq!(
            c.env
                .iter()
                .map(|e| e.field_path.clone())
                .collect::<Vec<_>>(),
            vec![Some(
                "metadata.annotations['batch.kubernetes.io/job-completion-index']".to_string()
            )]
        );
        assert_eq!(
            p.container_env(c),
            vec![("JOB_COMPLETION_INDEX".to_string(), idx.clone())]
        );
    }
    // Lowest indexes first.
    assert!(pods[0].meta.name.starts_with("ix-0-") || pods[0].meta.name.starts_with("ix-1-"));
}

#[test]
fn backoff_limit_per_index_fails_only_that_index() {
    // Pods in creation order: index 0 → exit 1, index 1 → exit 0, then the
    // retry of index 0 → exit 1: index 0 fails (limit 1 ⇒ 2 failures).
    let r = run(scenario(
        "",
        &job_doc(
            "pi",
            "  completionMode: Indexed\n  completions: 2\n  parallelism: 2\n  backoffLimitPerIndex: 1",
            "kubesim.dev/exit-codes: \"1,0,1\"",
            "2s",
        ),
    ));
    let j = job(&r, "pi");
    assert_eq!(
        j.status.failed_indexes.iter().copied().collect::<Vec<_>>(),
        vec![0]
    );
    assert_eq!(
        j.status
            .completed_indexes
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![1]
    );
    let (reason, _) = cond(j, "Failed").expect("Failed");
    assert_eq!(reason, "FailedIndexes");
}

#[test]
fn pod_failure_policy_ignore_and_failjob() {
    let spec = "  completions: 2\n  podFailurePolicy:\n    rules:\n    - action: Ignore\n      onExitCodes: {operator: In, values: [3]}\n    - action: FailJob\n      onExitCodes: {operator: In, values: [42]}";
    // Exit 3 is ignored (not counted, no back-off), then two successes.
    let r = run(scenario(
        "",
        &job_doc("ig", spec, "kubesim.dev/exit-codes: \"3,0,0\"", "1s"),
    ));
    let j = job(&r, "ig");
    assert_eq!(j.status.failed, 0);
    assert_eq!(j.status.succeeded, 2);
    assert!(cond(j, "Complete").is_some());
    // Exit 42 fails the Job at once.
    let r = run(scenario(
        "",
        &job_doc("fj", spec, "kubesim.dev/exit-codes: \"42\"", "1s"),
    ));
    let j = job(&r, "fj");
    let (reason, at) = cond(j, "Failed").expect("Failed");
    assert_eq!(reason, "PodFailurePolicy");
    assert_eq!(at.0 / S, 1);
    assert_eq!(pods_with_prefix(&r, "fj-").len(), 1);
}

#[test]
fn suspended_job_creates_nothing_until_resumed() {
    let doc = job_doc("s", "  suspend: true\n  completions: 1", "", "5s");
    let resumed = job_doc("s", "  suspend: false\n  completions: 1", "", "5s");
    let indented: String = resumed.lines().map(|l| format!("      {l}\n")).collect();
    let r = run(scenario(
        &format!("  timeline:\n  - at: 1m\n    apply:\n{indented}"),
        &doc,
    ));
    let j = job(&r, "s");
    let pods = pods_with_prefix(&r, "s-");
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0].meta.creation_timestamp.0 / S, 60);
    // startTime is set on resume.
    assert_eq!(j.status.start_time.map(|t| t.0 / S), Some(60));
    assert!(cond(j, "Complete").is_some());
}

#[test]
fn ttl_after_finished_deletes_the_job_and_its_pods() {
    let r = run(scenario(
        "",
        &job_doc("t", "  ttlSecondsAfterFinished: 60", "", "5s"),
    ));
    let w = object(&r, "Job", "t");
    assert!(w.removed);
    assert!(pods_with_prefix(&r, "t-")
        .iter()
        .all(|p| p.status.finished_at.is_some()));
}

#[test]
fn job_scenario_completes_with_retries() {
    let r = run(load("scenarios/job-parallel-retries.yaml"));
    let j = job(&r, "render");
    assert_eq!(j.status.succeeded, 8);
    assert!(
        j.status.failed >= 1 && j.status.failed <= 6,
        "{}",
        j.status.failed
    );
    assert!(cond(j, "Complete").is_some());
    let v = job(&r, "validate");
    assert_eq!(
        cond(v, "Failed").map(|c| c.0).as_deref(),
        Some("PodFailurePolicy")
    );
}

// ---------------------------------------------------------------- CronJob

#[test]
fn cronjob_every_minute_with_forbid_skips_while_a_job_runs() {
    let r = run(load("scenarios/cronjob-forbid.yaml"));
    let cj = cronjob(&r, "report");
    // Jobs named <cronjob>-<minutes since the epoch>; 2026-03-01T00:01Z is
    // minute 29538721.
    let jobs: Vec<&Workload> = r
        .workload_objects
        .iter()
        .filter(|w| w.kind().as_str() == "Job")
        .collect();
    assert_eq!(jobs[0].meta.name, "report-29538721");
    assert_eq!(jobs[0].meta.creation_timestamp.0 / 1000, 60_110);
    // Never two Jobs active at once (Forbid).
    let mut spans: Vec<(u64, u64)> = Vec::new();
    for w in &jobs {
        let WorkloadBody::Job(j) = &w.body else {
            continue;
        };
        let end = j.status.completion_time.map_or(u64::MAX, |t| t.0);
        spans.push((w.meta.creation_timestamp.0, end));
    }
    for (i, a) in spans.iter().enumerate() {
        for b in spans.iter().skip(i + 1) {
            assert!(a.1 <= b.0 || b.1 <= a.0, "{a:?} overlaps {b:?}");
        }
    }
    // 90 s runs every minute: fewer Jobs than minutes.
    assert!(jobs.len() >= 6 && jobs.len() < 11, "{}", jobs.len());
    // History: at most 3 successful Jobs kept.
    let kept = jobs
        .iter()
        .filter(|w| !w.removed)
        .filter(|w| matches!(&w.body, WorkloadBody::Job(j) if j.status.condition("Complete")))
        .count();
    assert!(kept <= 3, "{kept}");
    assert_eq!(cj.status.active.len(), 1);
    assert!(cj.status.jobs_succeeded >= 6);
}

fn cron_doc(name: &str, spec: &str, run: &str) -> String {
    format!(
        r#"apiVersion: batch/v1
kind: CronJob
metadata: {{name: {name}}}
spec:
{spec}
  jobTemplate:
    spec:
      template:
        metadata:
          annotations: {{kubesim.dev/run-time: {run}}}
        spec:
          restartPolicy: Never
          containers:
          - name: main
            image: busybox
"#
    )
}

#[test]
fn cronjob_replace_deletes_the_running_job() {
    let r = run(scenario(
        "  duration: 3m30s",
        &cron_doc(
            "rep",
            "  schedule: \"* * * * *\"\n  concurrencyPolicy: Replace",
            "10m",
        ),
    ));
    let jobs: Vec<&Workload> = r
        .workload_objects
        .iter()
        .filter(|w| w.kind().as_str() == "Job")
        .collect();
    assert_eq!(jobs.len(), 3);
    // The first two were deleted when the next one started.
    assert!(jobs[0].removed && jobs[1].removed && !jobs[2].removed);
}

#[test]
fn cronjob_allow_runs_concurrently_and_time_zone_shifts_the_schedule() {
    // 00:00 in Europe/Paris is 23:00Z the day before (winter): a daily
    // 01:00 Paris job runs at 00:00Z, i.e. 24 h after a 00:00Z start.
    let r = run(scenario(
        "  duration: 25h\n  startTime: \"2026-01-10T00:00:00Z\"",
        &cron_doc(
            "tz",
            "  schedule: \"0 1 * * *\"\n  timeZone: Europe/Paris",
            "1m",
        ),
    ));
    let jobs: Vec<&Workload> = r
        .workload_objects
        .iter()
        .filter(|w| w.kind().as_str() == "Job")
        .collect();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].meta.creation_timestamp.0 / S, 86_400);
    let r = run(scenario(
        "  duration: 3m30s",
        &cron_doc("al", "  schedule: \"* * * * *\"", "10m"),
    ));
    let cj = cronjob(&r, "al");
    assert_eq!(cj.status.active.len(), 3);
}

#[test]
fn cronjob_suspend_and_starting_deadline() {
    // Suspended: nothing runs.
    let r = run(scenario(
        "  duration: 5m",
        &cron_doc("sus", "  schedule: \"* * * * *\"\n  suspend: true", "5s"),
    ));
    assert!(!r
        .workload_objects
        .iter()
        .any(|w| w.kind().as_str() == "Job"));
    // Resumed at 3m30s: without startingDeadlineSeconds the missed 3m00
    // start runs late, at once; with a 10 s deadline it is not considered
    // and the first Job is the 4m00 one.
    let created = |deadline: &str| {
        let doc = |suspend: bool| {
            cron_doc(
                "c",
                &format!("  schedule: \"* * * * *\"\n  suspend: {suspend}{deadline}"),
                "5s",
            )
        };
        let indented: String = doc(false).lines().map(|l| format!("      {l}\n")).collect();
        let r = run(scenario(
            &format!("  duration: 4m30s\n  timeline:\n  - at: 210s\n    apply:\n{indented}"),
            &doc(true),
        ));
        r.workload_objects
            .iter()
            .filter(|w| w.kind().as_str() == "Job")
            .map(|w| w.meta.creation_timestamp.0 / 1000)
            .collect::<Vec<u64>>()
    };
    assert_eq!(created(""), vec![210_000, 240_100]);
    assert_eq!(created("\n  startingDeadlineSeconds: 10"), vec![240_100]);
}

// ---------------------------------------------------------------- DaemonSet

#[test]
fn daemonset_follows_the_nodes() {
    let r = run(load("scenarios/daemonset-growing-cluster.yaml"));
    let ds = daemonset(&r, "log-agent");
    // worker-0 (cordoned, kept), worker-2, worker-3; not gpu-0 (taint), not
    // worker-1 (removed).
    assert_eq!(ds.status.desired_number_scheduled, 3);
    assert_eq!(ds.status.number_available, 3);
    assert_eq!(ds.status.updated_number_scheduled, 3);
    let running: Vec<String> = r
        .pods
        .iter()
        .filter(|p| p.phase() == PodPhase::Running)
        .filter_map(|p| node_name(&r, p))
        .collect();
    let mut sorted = running.clone();
    sorted.sort();
    assert_eq!(sorted, vec!["worker-0", "worker-2", "worker-3"]);
    for p in r.pods.iter().filter(|p| p.phase() == PodPhase::Running) {
        assert_eq!(p.spec.containers[0].image, "fluent-bit:3.1");
        // Placed through matchFields metadata.name.
        let req = p
            .spec
            .node_affinity
            .as_ref()
            .unwrap()
            .required
            .as_ref()
            .unwrap();
        assert_eq!(req.terms[0].match_fields[0].key, "metadata.name");
    }
    // Rolling update with maxUnavailable 1: never fewer than desired-1
    // available during the rollout (workloads.csv).
    for row in r.workloads.iter().filter(|w| w.kind == "DaemonSet") {
        if let Some(d) = row.desired {
            assert!(row.available >= d - 1, "{row:?}");
        }
    }
}

// ---------------------------------------------------------------- StatefulSet

#[test]
fn statefulset_orders_pods_and_keeps_claims() {
    let r = run(load("scenarios/statefulset-scale.yaml"));
    let set = statefulset(&r, "web");
    assert_eq!(set.status.replicas, 4);
    assert_eq!(set.status.ready_replicas, 4);
    // OrderedReady: each ordinal created after the previous one ran.
    let first = |n: &str| {
        r.pods
            .iter()
            .filter(|p| p.meta.name == n)
            .map(|p| p.meta.creation_timestamp.0)
            .min()
            .unwrap()
    };
    assert!(first("web-0") < first("web-1") && first("web-1") < first("web-2"));
    assert!(first("web-2") < first("web-3") && first("web-3") < first("web-4"));
    // Scale-down from the highest ordinal: web-4 deleted before web-3
    // before web-2.
    let deleted = |n: &str| {
        r.pods
            .iter()
            .filter(|p| p.meta.name == n)
            .filter_map(|p| p.meta.deletion_timestamp)
            .map(|t| t.0)
            .min()
            .unwrap()
    };
    assert!(deleted("web-4") < deleted("web-3") && deleted("web-3") < deleted("web-2"));
    // One claim per ordinal ever created, retained on scale-down.
    let claims: Vec<&str> = r
        .workload_objects
        .iter()
        .filter(|w| w.kind().as_str() == "PersistentVolumeClaim" && !w.removed)
        .map(|w| w.meta.name.as_str())
        .collect();
    assert_eq!(
        claims,
        vec![
            "data-web-0",
            "data-web-1",
            "data-web-2",
            "data-web-3",
            "data-web-4"
        ]
    );
}

fn sts_doc(spec: &str, image: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db}}
spec:
{spec}
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata:
      labels: {{app: db}}
      annotations: {{kubesim.dev/startup-time: 5s}}
    spec:
      containers:
      - name: db
        image: {image}
  volumeClaimTemplates:
  - metadata: {{name: data}}
    spec:
      resources: {{requests: {{storage: 1Gi}}}}
"#
    )
}

#[test]
fn statefulset_rolling_update_respects_the_partition() {
    let updated = sts_doc(
        "  replicas: 4\n  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate: {partition: 2}",
        "postgres:17",
    );
    let indented: String = updated.lines().map(|l| format!("      {l}\n")).collect();
    let r = run(scenario(
        &format!("  duration: 5m\n  timeline:\n  - at: 1m\n    apply:\n{indented}"),
        &sts_doc(
            "  replicas: 4\n  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate: {partition: 2}",
            "postgres:16",
        ),
    ));
    let image = |n: &str| {
        r.pods
            .iter()
            .filter(|p| p.meta.name == n && p.meta.deletion_timestamp.is_none())
            .map(|p| p.spec.containers[0].image.clone())
            .next_back()
            .unwrap()
    };
    assert_eq!(image("db-0"), "postgres:16");
    assert_eq!(image("db-1"), "postgres:16");
    assert_eq!(image("db-2"), "postgres:17");
    assert_eq!(image("db-3"), "postgres:17");
    // Highest ordinal first.
    let del = |n: &str| {
        r.pods
            .iter()
            .filter(|p| p.meta.name == n)
            .filter_map(|p| p.meta.deletion_timestamp)
            .min()
            .unwrap()
    };
    assert!(del("db-3") < del("db-2"));
    let set = statefulset(&r, "db");
    assert_eq!(set.status.updated_replicas, 2);
}

#[test]
fn statefulset_parallel_scale_down_and_claim_deletion() {
    let r = run(scenario(
        "  duration: 3m\n  timeline:\n  - at: 1m\n    scale: {kind: StatefulSet, namespace: default, name: db, replicas: 1}",
        &sts_doc(
            "  replicas: 3\n  podManagementPolicy: Parallel\n  persistentVolumeClaimRetentionPolicy: {whenScaled: Delete, whenDeleted: Retain}",
            "postgres:16",
        ),
    ));
    // Parallel: all three created at once, two deleted at once.
    let created: Vec<u64> = r.pods.iter().map(|p| p.meta.creation_timestamp.0).collect();
    assert_eq!(created.len(), 3);
    assert!(created.iter().all(|c| *c == created[0]));
    let deleted: Vec<u64> = r
        .pods
        .iter()
        .filter_map(|p| p.meta.deletion_timestamp.map(|t| t.0))
        .collect();
    assert_eq!(deleted.len(), 2);
    assert_eq!(deleted[0], deleted[1]);
    let claims: Vec<&str> = r
        .workload_objects
        .iter()
        .filter(|w| w.kind().as_str() == "PersistentVolumeClaim" && !w.removed)
        .map(|w| w.meta.name.as_str())
        .collect();
    assert_eq!(claims, vec!["data-db-0"]);
}

// ---------------------------------------------------------------- validation

#[test]
fn invalid_batch_manifests_are_reported_with_paths() {
    let text = format!(
        "{HEADER}\n---\n{}---\n{}",
        cron_doc(
            "bad",
            "  schedule: \"TZ=UTC 61 * * * *\"\n  timeZone: Mars/Base",
            "1s"
        ),
        job_doc("j", "  completionMode: Indexed\n  parallelism: 2", "", "1s"),
    );
    let err = match kubesim::scenario::load_str(
        &text,
        std::path::Path::new("t.yaml"),
        Default::default(),
    ) {
        Ok(_) => panic!("should not load"),
        Err(e) => e.to_string(),
    };
    for want in [
        "spec.schedule",
        "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
        "end of range (61) above maximum (59): 61",
        "spec.timeZone",
        "unknown time zone Mars/Base",
        "spec.completions",
        "when completion mode is Indexed",
    ] {
        assert!(err.contains(want), "missing {want:?} in\n{err}");
    }
}

// ---------------------------------------------------------------- convergence

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Whatever the timeline did, once it stops the controllers converge:
    /// the StatefulSet has exactly `replicas` ready pods with ordinals
    /// 0..replicas, the DaemonSet one available pod per eligible node, and
    /// the Job finished.
    #[test]
    fn controllers_converge_after_the_timeline(
        scales in prop::collection::vec(0i32..6, 1..4),
        adds in 0u32..3,
        removes in 0u32..2,
        parallelism in 1i32..4,
        completions in 1i32..6,
        seed in 0u64..1000,
    ) {
        let mut timeline = String::from("  timeline:\n");
        for (i, s) in scales.iter().enumerate() {
            timeline.push_str(&format!(
                "  - at: {}s\n    scale: {{kind: StatefulSet, namespace: default, name: db, replicas: {s}}}\n",
                20 + 25 * i
            ));
        }
        if adds > 0 {
            timeline.push_str(&format!("  - at: 30s\n    addNodes: {{pool: w, count: {adds}}}\n"));
        }
        if removes > 0 {
            timeline.push_str("  - at: 50s\n    removeNode: w-0\n");
        }
        let ds = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec:\n      containers: [{name: a, image: agent}]\n";
        let docs = format!(
            "{}---\n{}---\n{}",
            sts_doc("  replicas: 2", "postgres:16"),
            ds,
            job_doc("work", &format!("  completions: {completions}\n  parallelism: {parallelism}"), "kubesim.dev/exit-codes: \"0,1,0\"", "7s"),
        );
        let mut sc = scenario(&format!("  seed: {seed}\n{timeline}"), &docs);
        sc.duration = None;
        let r = run(sc);
        let want = *scales.last().unwrap();
        let set = statefulset(&r, "db");
        prop_assert_eq!(set.status.replicas, want);
        prop_assert_eq!(set.status.ready_replicas, want);
        let mut names: Vec<String> = r
            .pods
            .iter()
            .filter(|p| p.meta.name.starts_with("db-") && p.phase() == PodPhase::Running && p.meta.deletion_timestamp.is_none())
            .map(|p| p.meta.name.clone())
            .collect();
        names.sort();
        let mut expect: Vec<String> = (0..want).map(|o| format!("db-{o}")).collect();
        expect.sort();
        prop_assert_eq!(names, expect);
        let present = r.nodes.iter().filter(|n| n.present).count() as i32;
        let d = daemonset(&r, "agent");
        prop_assert_eq!(d.status.desired_number_scheduled, present);
        prop_assert_eq!(d.status.number_available, present);
        let j = job(&r, "work");
        prop_assert!(cond(j, "Complete").is_some() || cond(j, "Failed").is_some());
        if cond(j, "Complete").is_some() {
            prop_assert_eq!(j.status.succeeded, completions);
        }
        prop_assert_eq!(j.status.active, 0);
    }
}

#[test]
fn on_failure_restarts_count_against_the_backoff_limit() {
    // restartPolicy OnFailure: the container restarts in place (kubelet
    // back-off 10 s, 20 s); with backoffLimit 2 the Job fails once the pod
    // has restarted twice (upstream pastBackoffLimitOnFailure).
    let doc = job_doc(
        "of",
        "  backoffLimit: 2",
        "kubesim.dev/exit-codes: \"1\"",
        "1s",
    )
    .replace("restartPolicy: Never", "restartPolicy: OnFailure");
    let r = run(scenario("  duration: 5m", &doc));
    let j = job(&r, "of");
    let (reason, at) = cond(j, "Failed").expect("Failed");
    assert_eq!(reason, "BackoffLimitExceeded");
    // Runs 0-1 s, restarts at 11 s, runs to 12 s, restarts at 32 s.
    assert_eq!(at.0 / S, 32);
    assert_eq!(pods_with_prefix(&r, "of-").len(), 1);
}

fn ds_doc(strategy: &str, image: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent}}
spec:
  selector: {{matchLabels: {{app: agent}}}}
{strategy}
  template:
    metadata:
      labels: {{app: agent}}
      annotations: {{kubesim.dev/startup-time: 20s}}
    spec:
      containers:
      - name: a
        image: {image}
"#
    )
}

fn ds_update_run(strategy: &str) -> RunResult {
    let updated = ds_doc(strategy, "agent:2");
    let indented: String = updated.lines().map(|l| format!("      {l}\n")).collect();
    let mut sc = scenario(
        &format!("  sampleInterval: 1s\n  timeline:\n  - at: 1m\n    apply:\n{indented}"),
        &ds_doc(strategy, "agent:1"),
    );
    sc.node_pools[0].count = 4;
    sc.duration = Some(kubesim::engine::Duration::from_secs(600));
    run(sc)
}

#[test]
fn daemonset_surge_keeps_every_node_served() {
    let r = ds_update_run("  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}");
    let rows: Vec<_> = r
        .workloads
        .iter()
        .filter(|w| w.kind == "DaemonSet")
        .collect();
    // After the first pods are up, every node always has an available pod,
    // and at most one node runs two pods.
    for row in rows.iter().filter(|w| w.t_us >= 30 * S) {
        assert_eq!(row.available, 4, "{row:?}");
        assert_eq!(row.max_surge, Some(1));
    }
    let d = daemonset(&r, "agent");
    assert_eq!(d.status.updated_number_scheduled, 4);
    let mut t = 60 * S;
    while t < 600 * S {
        let live = r
            .pods
            .iter()
            .filter(|p| p.meta.creation_timestamp.0 <= t)
            .filter(|p| p.status.finished_at.is_none_or(|f| f.0 > t))
            .count();
        assert!(live <= 5, "{live} pods at {t}");
        t += S;
    }
}

#[test]
fn daemonset_on_delete_keeps_old_pods() {
    let r = ds_update_run("  updateStrategy: {type: OnDelete}");
    let d = daemonset(&r, "agent");
    assert_eq!(d.status.updated_number_scheduled, 0);
    assert_eq!(d.status.number_available, 4);
    assert!(r
        .pods
        .iter()
        .all(|p| p.spec.containers[0].image == "agent:1"));
}

#[test]
fn evicted_job_pods_match_disruption_target_rules() {
    // A drain evicts the Job's pods; the rule ignores DisruptionTarget, so
    // the evictions are not failures and the pods are replaced at once.
    let spec = "  completions: 2\n  parallelism: 2\n  backoffLimit: 0\n  podFailurePolicy:\n    rules:\n    - action: Ignore\n      onPodConditions: [{type: DisruptionTarget}]";
    let r = run(scenario(
        "  timeline:\n  - {at: 10s, drain: w-0}",
        &job_doc("ev", spec, "", "30s"),
    ));
    let j = job(&r, "ev");
    assert_eq!(j.status.failed, 0);
    assert_eq!(j.status.succeeded, 2);
    assert!(cond(j, "Complete").is_some());
    assert!(pods_with_prefix(&r, "ev-").len() > 2);
}

#[test]
fn deleting_a_statefulset_applies_the_when_deleted_policy() {
    let del = "  duration: 2m\n  timeline:\n  - at: 1m\n    delete: {kind: StatefulSet, namespace: default, name: db}";
    let claims = |policy: &str| {
        let r = run(scenario(
            del,
            &sts_doc(
                &format!("  replicas: 2\n  persistentVolumeClaimRetentionPolicy: {{whenDeleted: {policy}}}"),
                "postgres:16",
            ),
        ));
        assert!(r.pods.iter().all(|p| p.meta.deletion_timestamp.is_some()));
        r.workload_objects
            .iter()
            .filter(|w| w.kind().as_str() == "PersistentVolumeClaim" && !w.removed)
            .count()
    };
    assert_eq!(claims("Retain"), 2);
    assert_eq!(claims("Delete"), 0);
}

#[test]
fn batch_scenarios_are_deterministic_and_hold_the_invariants() {
    // `run` checks the invariants after every event; two runs of each
    // example give the same event digest and workloads.csv rows.
    for f in [
        "scenarios/daemonset-growing-cluster.yaml",
        "scenarios/statefulset-scale.yaml",
        "scenarios/job-parallel-retries.yaml",
        "scenarios/cronjob-forbid.yaml",
    ] {
        let a = run(load(f));
        let b = run(load(f));
        assert_eq!(a.event_digest, b.event_digest, "{f}");
        assert_eq!(a.workloads, b.workloads, "{f}");
        assert!(!a.workloads.is_empty(), "{f}");
    }
}
