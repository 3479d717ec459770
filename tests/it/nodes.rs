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
        .filter(|c| c.pod == "leaky")
        .last()
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
