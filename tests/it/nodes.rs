//! The node model end to end: OOM kills with restart back-off, memory
//! pressure evictions in upstream's order, CPU contention with throttling
//! and work stretched by contention, annotation validation, and pods
//! without usage models staying out of the node model.

use std::path::Path;

use kubesim::engine::SimTime;
use kubesim::model::PodPhase;
use kubesim::runner::run_to_dir;
use kubesim::scenario::{load_str, LoadError, LoadOptions};

use crate::{load, load_text, pod, run, spec};

const S: u64 = 1_000_000;

#[test]
fn oom_kill_restarts_with_crash_loop_backoff() {
    let r = run(load("scenarios/oom-restart.yaml"));
    let leaky = pod(&r, "leaky");
    // Started at ~1 s; 300Mi > 256Mi at +40 s; restarts after 10 s, 20 s,
    // 40 s back-off: kills at 41, 91, 151, 231 s; restarts at 51, 111, 191 s.
    assert_eq!(r.counters.oom_kills, 4);
    assert_eq!(leaky.status.restart_count, 3);
    assert_eq!(leaky.status.exit_code, Some(137));
    assert_eq!(leaky.phase(), PodPhase::Running);
    let steady = pod(&r, "steady");
    assert_eq!(steady.status.restart_count, 0);
    // containers.csv: the kills are counted on the container.
    let last = r
        .container_rows
        .iter()
        .rfind(|c| c.pod == "leaky")
        .expect("rows for leaky");
    assert_eq!(
        last.oom_kills, 3,
        "rows are sampled before the 4th kill's restart"
    );
    assert_eq!(last.memory_limit_bytes, Some(256 << 20));
}

#[test]
fn oom_kill_with_restart_policy_never_fails_the_pod() {
    let r = run(load_text(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: oom-never}
spec:
  duration: 2m
  cluster:
    nodePools:
    - {name: w, count: 1, capacity: {cpu: "2", memory: 4Gi, pods: "10"}}
---
apiVersion: v1
kind: Pod
metadata:
  name: hog
  annotations:
    kubesim.dev/memory-usage.main: steps(0s=10Mi, 5s=64Mi)
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: hog:1
    resources: {limits: {memory: 32Mi}}
  - name: side
    image: side:1
"#,
    ));
    let p = pod(&r, "hog");
    assert_eq!(p.phase(), PodPhase::Failed);
    assert_eq!(p.status.reason, "OOMKilled");
    assert_eq!(p.status.exit_code, Some(137));
    assert_eq!(p.status.finished_at, Some(SimTime(6_005_000)));
}

#[test]
fn memory_pressure_evicts_in_upstream_order() {
    let r = run(load("scenarios/memory-pressure.yaml"));
    let be = pod(&r, "besteffort");
    let grower = pod(&r, "grower");
    assert_eq!(
        (be.phase(), be.status.reason.as_str()),
        (PodPhase::Failed, "Evicted")
    );
    assert_eq!(
        (grower.phase(), grower.status.reason.as_str()),
        (PodPhase::Failed, "Evicted")
    );
    // One eviction per monitoring period, in rankMemoryPressure's order.
    assert_eq!(be.status.finished_at, Some(SimTime(70 * S)));
    assert_eq!(grower.status.finished_at, Some(SimTime(80 * S)));
    assert_eq!(pod(&r, "important").phase(), PodPhase::Running);
    assert_eq!(pod(&r, "within").phase(), PodPhase::Running);
    assert_eq!(r.counters.memory_evictions, 2);
    // The condition and its taint held, then cleared 5 min after the last
    // time memory was short (80 s → 380 s).
    let conds = |t: u64| {
        r.node_usage_rows
            .iter()
            .find(|n| n.t_us == t)
            .map(|n| n.conditions.clone())
            .unwrap_or_default()
    };
    assert_eq!(conds(70 * S), "Ready;MemoryPressure");
    assert_eq!(conds(370 * S), "Ready;MemoryPressure");
    assert_eq!(conds(380 * S), "Ready");
    let node = &r.nodes[0];
    assert!(node
        .taints
        .iter()
        .all(|t| t.key != "node.kubernetes.io/memory-pressure"));
}

#[test]
fn memory_pressure_taints_the_node_for_the_scheduler() {
    // While the condition holds, a new pod without the toleration is not
    // scheduled there.
    let mut text = std::fs::read_to_string(crate::repo("scenarios/memory-pressure.yaml")).unwrap();
    text = text.replace(
        "  cluster:\n",
        "  timeline:\n  - at: 90s\n    apply:\n      apiVersion: v1\n      kind: Pod\n      metadata: {name: late}\n      spec:\n        containers: [{name: c, image: c:1}]\n  cluster:\n",
    );
    let r = run(load_text(&text));
    let late = pod(&r, "late");
    let bound = late.status.bound_at.expect("bound once the taint is gone");
    assert!(bound >= SimTime(380 * S), "bound at {bound:?}");
}

#[test]
fn cpu_contention_throttles_and_stretches_work() {
    let r = run(load("scenarios/cpu-contention.yaml"));
    let batch = pod(&r, "batch");
    assert_eq!(batch.phase(), PodPhase::Succeeded);
    let ran = batch.status.finished_at.unwrap().as_micros()
        - batch.status.started_at.unwrap().as_micros();
    // 60 CPU-seconds at the 1500m it wants would take 40 s; it gets less.
    assert!(ran > 40 * S, "ran {ran} µs");
    let rows_at = |t: u64| r.container_rows.iter().filter(move |c| c.t_us == t);
    let granted: i64 = rows_at(10 * S).map(|c| c.cpu_granted_m).sum();
    assert_eq!(granted, 2000, "a saturated 2-CPU node is fully used");
    let b = rows_at(10 * S).find(|c| c.pod == "batch").unwrap();
    // Exactly what the grant implies: work / grant.
    assert_eq!(
        ran,
        (60_000_000_000i64 + b.cpu_granted_m - 1) as u64 / b.cpu_granted_m as u64
    );
    let limited = rows_at(10 * S).find(|c| c.pod == "limited").unwrap();
    assert_eq!((limited.cpu_demand_m, limited.cpu_granted_m), (1000, 500));
    assert!(limited.throttled_periods >= 89 && limited.throttled_us > 4_000_000);
    let small = rows_at(10 * S).find(|c| c.pod == "small").unwrap();
    assert!(
        small.cpu_granted_m < b.cpu_granted_m,
        "shares follow requests"
    );
    assert_eq!(small.throttled_periods, 0, "no quota, no throttling");
    // After the batch pod is done, the small one gets what is left.
    let after = rows_at(60 * S).find(|c| c.pod == "small").unwrap();
    assert_eq!(after.cpu_granted_m, 1500);
    assert!(r.counters.throttled_us > 100 * S);
}

#[test]
fn node_model_results_are_deterministic_and_written() {
    for sc in [
        "scenarios/cpu-contention.yaml",
        "scenarios/memory-pressure.yaml",
        "scenarios/oom-restart.yaml",
    ] {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        run_to_dir(load(sc), &spec(Some(5)), a.path()).unwrap();
        run_to_dir(load(sc), &spec(Some(5)), b.path()).unwrap();
        for f in [
            "containers.csv",
            "node_usage.csv",
            "events.jsonl",
            "summary.json",
        ] {
            let x = std::fs::read(a.path().join(f)).unwrap();
            let y = std::fs::read(b.path().join(f)).unwrap();
            assert!(x == y, "{sc}: {f} differs");
        }
    }
}

#[test]
fn random_usage_depends_on_the_seed_only() {
    let text = r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: rnd}
spec:
  duration: 1m
  cluster:
    nodePools:
    - {name: w, count: 1, capacity: {cpu: "1", memory: 4Gi, pods: "10"}}
  defaults:
    cpuUsage: uniform(100m, 900m, 5s)
---
apiVersion: v1
kind: Pod
metadata: {name: a}
spec:
  containers: [{name: c, image: c:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: b}
spec:
  containers: [{name: c, image: c:1}]
"#;
    let demands = |seed: u64| {
        let r = kubesim::runner::run_in_memory(load_text(text), &spec(Some(seed))).unwrap();
        r.container_rows
            .iter()
            .map(|c| (c.t_us, c.pod.clone(), c.cpu_demand_m))
            .collect::<Vec<_>>()
    };
    assert_eq!(demands(1), demands(1));
    assert_ne!(demands(1), demands(2));
    assert!(demands(3).iter().all(|(_, _, d)| (100..=900).contains(d)));
}

#[test]
fn pods_without_usage_models_stay_out_of_the_node_model() {
    let r = run(load("scenarios/quickstart.yaml"));
    assert!(r.container_rows.is_empty() && r.node_usage_rows.is_empty());
    assert_eq!(r.counters.oom_kills + r.counters.throttled_us, 0);
}

#[test]
fn bad_usage_annotations_are_reported_with_their_path() {
    let text = r#"
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    kubesim.dev/cpu-usage: wobble(1)
    kubesim.dev/memory-usage.nope: 1Mi
    kubesim.dev/cpu-work: "-3"
    kubesim.dev/memory-usage: limit
spec:
  containers: [{name: c, image: c:1}]
"#;
    let Err(LoadError::Invalid(d)) = load_str(text, Path::new("bad.yaml"), LoadOptions::default())
    else {
        panic!("should be invalid");
    };
    let has = |path: &str, msg: &str| {
        d.0.iter()
            .any(|x| x.path == format!("metadata.annotations.{path}") && x.message.contains(msg))
    };
    assert!(has("kubesim.dev/cpu-usage", "unknown usage model"), "{d}");
    assert!(
        has("kubesim.dev/memory-usage.nope", "no container named"),
        "{d}"
    );
    assert!(has("kubesim.dev/cpu-work", "negative"), "{d}");
    assert!(has("kubesim.dev/memory-usage", "no limit"), "{d}");
}

#[test]
fn readiness_liveness_and_prestop() {
    let r = run(load("scenarios/probes.yaml"));
    let web = pod(&r, "web");
    // Started at 1.005 s; the probe answers from +12 s; probes at +20 s and
    // +30 s (period 10 s, initial delay 5 s) give the 2 successes needed.
    assert_eq!(web.ready_since(), Some(SimTime(31_005_000)));
    assert!(web.is_ready());
    let wedged = pod(&r, "wedged");
    // Killed 70 s after each start (failing from +60 s, 3 probes 5 s apart).
    assert_eq!(wedged.status.restart_count, 3);
    assert_eq!(wedged.status.exit_code, Some(137));
    assert!(!wedged.is_ready(), "in back-off at the end");
    let g = pod(&r, "graceful");
    // Deleted at 120 s: preStop 5 s + 3 s to exit after SIGTERM.
    assert_eq!(g.status.finished_at, Some(SimTime(128 * S)));
    assert_eq!(g.status.exit_code, Some(0));
}

#[test]
fn pods_without_readiness_probes_are_ready_when_running_and_lose_it_on_node_failure() {
    let r = run(load_text(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: ready-fail}
spec:
  duration: 3m
  cluster:
    nodePools:
    - {name: w, count: 1, capacity: {cpu: "2", memory: 4Gi, pods: "10"}}
  timeline:
  - {at: 30s, failNode: w-0}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  tolerations:
  - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute}
  containers: [{name: c, image: c:1}]
"#,
    ));
    let p = pod(&r, "p");
    // The node lifecycle controller marks the pods of an unreachable node
    // not ready (MarkPodsNotReady); the pod tolerates the taint forever.
    assert_eq!(p.phase(), PodPhase::Running);
    assert_eq!(p.ready_since(), None);
    let conds = p.conditions();
    assert_eq!(conds[3], ("Ready", "False", "ContainersNotReady"));
}

#[test]
fn bad_probes_are_reported() {
    let text = r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: c:1
    livenessProbe: {exec: {command: [true]}, successThreshold: 2}
    readinessProbe: {periodSeconds: 0}
"#;
    let Err(LoadError::Invalid(d)) = load_str(text, Path::new("bad.yaml"), LoadOptions::default())
    else {
        panic!("should be invalid");
    };
    let has = |path: &str, msg: &str| {
        d.0.iter()
            .any(|x| x.path == path && x.message.contains(msg))
    };
    assert!(
        has(
            "spec.containers[0].livenessProbe.successThreshold",
            "must be 1"
        ),
        "{d}"
    );
    assert!(
        has(
            "spec.containers[0].readinessProbe.periodSeconds",
            "greater than or equal to 1"
        ),
        "{d}"
    );
    assert!(has("spec.containers[0].readinessProbe", "handler"), "{d}");
}

#[test]
fn image_pulls_are_serialized_cached_and_garbage_collected() {
    let r = run(load("scenarios/image-pull.yaml"));
    let started = |n: &str| pod(&r, n).status.started_at;
    // Bound at ~5 ms; 600Mi at 50Mi/s = 12 s, then 1 s start-up.
    assert_eq!(started("a"), Some(SimTime(13_005_000)));
    assert_eq!(started("b"), Some(SimTime(13_005_000)), "shares a's pull");
    // Serialized after a's pull: 300Mi = 6 s more.
    assert_eq!(started("c"), Some(SimTime(19_005_000)));
    let d = pod(&r, "d");
    assert_eq!(
        (d.phase(), d.status.reason.as_str()),
        (PodPhase::Pending, "ErrImageNeverPull")
    );
    assert_eq!(started("e"), Some(SimTime(129_005_000)));
    // GC removed the unused big image and kept the ones in use.
    let imgs: Vec<&String> = r.nodes[0].images.keys().collect();
    assert_eq!(imgs, ["other:1", "third:1"]);
}

#[test]
fn nodes_without_pull_bandwidth_keep_the_startup_time_only() {
    let r = run(load("scenarios/quickstart.yaml"));
    assert!(r.nodes.iter().all(|n| n.image_pull_bandwidth.is_none()));
    let web = pod(&r, "web-0");
    assert_eq!(
        web.status.started_at.unwrap().as_micros() - web.status.bound_at.unwrap().as_micros(),
        2 * S
    );
}

#[test]
fn node_failure_scenario_evicts_by_toleration() {
    let r = run(load("scenarios/node-failure.yaml"));
    let del = |n: &str| pod(&r, n).meta.deletion_timestamp;
    assert_eq!(del("quick"), Some(SimTime(165 * S)));
    assert_eq!(del("default"), Some(SimTime(405 * S)));
    assert_eq!(del("forever"), None);
    assert!(r.nodes[0]
        .taints
        .iter()
        .any(|t| t.key == "node.kubernetes.io/unreachable"));
    assert!(r.pods.iter().all(|p| !p.is_ready()), "MarkPodsNotReady");
}

#[test]
fn node_failure_evicts_after_the_default_toleration() {
    let r = run(load_text(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: node-fail}
spec:
  duration: 10m
  cluster:
    nodePools:
    - {name: w, count: 2, capacity: {cpu: "2", memory: 4Gi, pods: "10"}}
  timeline:
  - {at: 60s, failNode: w-0}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  nodeName: w-0
  containers: [{name: c, image: c:1}]
"#,
    ));
    let p = pod(&r, "p");
    // Last heartbeat at 60 s; NotReady/unreachable after the 40 s grace
    // period at the next 5 s monitor tick (105 s); evicted after the 300 s
    // DefaultTolerationSeconds toleration (405 s), then Terminating until
    // the node comes back (it never does).
    assert_eq!(p.meta.deletion_timestamp, Some(SimTime(405 * S)));
    assert_eq!(p.status.reason, "TaintManagerEviction");
    assert_eq!(p.ready_since(), None, "MarkPodsNotReady");
    let tol = p
        .spec
        .tolerations
        .iter()
        .find(|t| t.key == "node.kubernetes.io/unreachable")
        .expect("added at admission");
    assert_eq!(tol.toleration_seconds, Some(300));
}

#[test]
fn init_containers_run_in_order_and_container_states_follow_the_kubelet() {
    use kubesim::model::pod::ContainerState;
    let r = run(load_text(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: states}
spec:
  duration: 2m
  cluster:
    nodePools:
    - {name: w, count: 1, capacity: {cpu: "2", memory: 4Gi, pods: "10"}}
---
apiVersion: v1
kind: Pod
metadata:
  name: init
  annotations:
    kubesim.dev/run-time.migrate: 5s
    kubesim.dev/run-time.warm: 3s
spec:
  initContainers:
  - {name: migrate, image: m:1}
  - {name: warm, image: w:1}
  containers: [{name: app, image: a:1}]
---
apiVersion: v1
kind: Pod
metadata:
  name: crashy
  annotations: {kubesim.dev/run-time: 20s, kubesim.dev/exit-code: "2"}
spec:
  containers: [{name: app, image: a:1}]
---
apiVersion: v1
kind: Pod
metadata:
  name: done
  annotations: {kubesim.dev/run-time: 10s}
spec:
  restartPolicy: Never
  containers: [{name: app, image: a:1}]
"#,
    ));
    let init = pod(&r, "init");
    // Bound at ~5 ms, inits 5 s + 3 s, then the 1 s start-up.
    assert_eq!(init.status.started_at, Some(SimTime(9_005_000)));
    assert_eq!(
        init.status.container_state,
        ContainerState::Running {
            started_at: SimTime(9_005_000)
        }
    );
    let crashy = pod(&r, "crashy");
    assert!(matches!(
        crashy.status.container_state,
        ContainerState::Waiting {
            reason: "CrashLoopBackOff"
        } | ContainerState::Running { .. }
    ));
    assert_eq!(crashy.status.last_termination, Some(("Error", 2)));
    let done = pod(&r, "done");
    assert_eq!(
        done.status.container_state,
        ContainerState::Terminated {
            reason: "Completed",
            exit_code: 0
        }
    );
}

#[test]
fn kubelet_settings_choose_the_weight_conversion() {
    let base = std::fs::read_to_string(crate::repo("scenarios/cpu-contention.yaml")).unwrap();
    let grants = |kubelet: &str| {
        let text = base.replace(
            "  cluster:\n",
            &format!("  kubelet: {kubelet}\n  cluster:\n"),
        );
        let r = run(load_text(&text));
        let g = |p: &str| {
            r.container_rows
                .iter()
                .find(|c| c.t_us == 10 * S && c.pod == p)
                .map(|c| c.cpu_granted_m)
                .unwrap()
        };
        (
            g("small"),
            g("batch"),
            kubesim::output::Summary::of(&r).cgroups,
        )
    };
    // Quadratic (default): weights 35 : 80 of the 1500m left.
    assert_eq!(grants("{}"), (457, 1043, "v2/quadratic".to_string()));
    // Linear: weights 10 : 30; v1: shares 256 : 768 — both 1 : 3.
    assert_eq!(
        grants("{cpuWeightFormula: linear}"),
        (375, 1125, "v2/linear".to_string())
    );
    assert_eq!(
        grants("{cgroupVersion: v1}"),
        (375, 1125, "v1/shares".to_string())
    );
    // Without CFS quota the limited pod is not capped.
    let text = base.replace(
        "  cluster:\n",
        "  kubelet: {cpuCFSQuota: false}\n  cluster:\n",
    );
    let r = run(load_text(&text));
    let l = r
        .container_rows
        .iter()
        .find(|c| c.t_us == 10 * S && c.pod == "limited")
        .unwrap();
    assert!(l.cpu_granted_m > 500 && l.throttled_periods == 0);
    let bad = base.replace(
        "  cluster:\n",
        "  kubelet: {cgroupVersion: v3}\n  cluster:\n",
    );
    assert!(load_str(&bad, Path::new("x.yaml"), LoadOptions::default()).is_err());
}

#[test]
fn node_failure_deployment_pods_are_rescheduled_after_300s() {
    let r = run(load("scenarios/node-failure-deployment.yaml"));
    let on = |p: &kubesim::model::Pod| {
        p.status
            .node
            .map(|n| r.nodes[n.0 as usize].meta.name.clone())
    };
    let web: Vec<&kubesim::model::Pod> = r
        .pods
        .iter()
        .filter(|p| p.meta.name.starts_with("web-"))
        .collect();
    let (old, new): (Vec<&kubesim::model::Pod>, Vec<&kubesim::model::Pod>) = web
        .iter()
        .partition(|p| on(p).as_deref() == Some("worker-0"));
    assert_eq!(old.len(), 3, "all three replicas started on worker-0");
    // Heartbeats stop at 60 s; Unknown + unreachable NoExecute taint at
    // 105 s (40 s grace, 5 s monitor tick); evicted after the 300 s
    // DefaultTolerationSeconds toleration: 405 s.
    for p in &old {
        assert_eq!(
            p.meta.deletion_timestamp,
            Some(SimTime(405 * S)),
            "{}",
            p.meta.name
        );
        assert_eq!(p.status.reason, "TaintManagerEviction");
    }
    // The ReplicaSet replaces them at once; they run elsewhere.
    assert_eq!(new.len(), 3, "three replacements");
    for p in &new {
        let node = on(p).expect("scheduled");
        assert!(node == "worker-1" || node == "worker-2", "{node}");
        assert!(p.status.bound_at.is_some_and(|t| t >= SimTime(405 * S)));
        assert_eq!(p.phase(), PodPhase::Running);
        assert!(p.is_ready());
        assert!(p.meta.deletion_timestamp.is_none());
    }
}

#[test]
fn utilization_by_usage_is_in_the_summary_only_with_the_node_model() {
    let r = run(load_text(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: used}
spec:
  duration: 100s
  sampleInterval: 10s
  cluster:
    nodePools:
    - {name: w, count: 1, capacity: {cpu: "4", memory: 4Gi, pods: "10"}}
---
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    kubesim.dev/cpu-usage: "1"
    kubesim.dev/memory-usage: 1Gi
spec:
  nodeName: w-0
  containers: [{name: c, image: c:1, resources: {requests: {cpu: 500m}}}]
"#,
    ));
    let u = kubesim::output::metrics::utilization(&r);
    // 1 of 4 CPUs used the whole time the node model sampled; 1Gi of the
    // allocatable memory (4Gi − the 100Mi hard eviction threshold).
    assert_eq!(u.cpu_used_ppm, Some(250_000));
    let alloc = r.node_usage_rows[0].memory_allocatable_bytes as i128;
    assert_eq!(
        u.memory_used_ppm,
        Some(((1i128 << 30) * 1_000_000 / alloc) as u64)
    );
    let json = serde_json::to_string(&kubesim::output::summary::Summary::of(&r)).expect("json");
    assert!(json.contains("\"cpu_used_ppm\":250000"), "{json}");
    // Without usage models the fields are left out (golden summaries stay
    // as they were).
    let r = run(load("scenarios/node-failure.yaml"));
    let u = kubesim::output::metrics::utilization(&r);
    assert_eq!((u.cpu_used_ppm, u.memory_used_ppm), (None, None));
    let json = serde_json::to_string(&kubesim::output::summary::Summary::of(&r)).expect("json");
    assert!(!json.contains("used_ppm"));
}
