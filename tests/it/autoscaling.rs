//! Autoscaling end to end: the HPA's scale-up and scale-down timing under
//! a load burst (upstream's older path and `behavior`), validation of HPA
//! manifests, and the predictive policy against upstream on a diurnal
//! load.

use kubesim::cluster::{HpaRow, RunResult};

use crate::{load, load_text, run};

const S: u64 = 1_000_000;

fn rows(r: &RunResult) -> Vec<&HpaRow> {
    r.hpas
        .iter()
        .filter(|h| h.name == "web" || h.name == "api")
        .collect()
}

/// The first sample at or after `from` where the desired replicas compare
/// with the current ones as `pred` says.
fn first(r: &RunResult, from: u64, pred: impl Fn(&HpaRow) -> bool) -> Option<u64> {
    rows(r)
        .into_iter()
        .find(|h| h.t_us >= from && pred(h))
        .map(|h| h.t_us)
}

#[test]
fn burst_scale_up_within_one_sync_and_scale_down_after_the_window() {
    let r = run(load("scenarios/hpa-burst.yaml"));
    // Load jumps at 5m: the first sync whose metrics window covers it
    // (metrics-server at 315 s, housekeeping samples 300-310 s) scales.
    let up = first(&r, 300 * S, |h| h.desired_replicas > h.current_replicas).expect("scales up");
    assert_eq!(up, 315 * S);
    // Without behavior, each sync grows by at most max(2 x current, 4):
    // 3 -> 6 -> 12 -> 20 (maxReplicas).
    let seq: Vec<i32> = rows(&r)
        .iter()
        .filter(|h| h.t_us >= 315 * S && h.t_us <= 345 * S)
        .map(|h| h.desired_replicas)
        .collect();
    assert_eq!(seq, vec![6, 12, 20]);
    // Load drops at 20m; the downscale stabilization window (5 min of
    // recommendations) holds 20 replicas until 25m.
    let down =
        first(&r, 1200 * S, |h| h.desired_replicas < h.current_replicas).expect("scales down");
    assert!(
        down > 1500 * S && down <= 1530 * S,
        "scaled down at {}s",
        down / S
    );
    let last = r.hpas.last().expect("rows");
    assert_eq!((last.current_replicas, last.desired_replicas), (3, 3));
}

#[test]
fn behavior_without_scale_down_window_scales_down_at_once() {
    let text = std::fs::read_to_string(crate::repo("scenarios/hpa-burst.yaml"))
        .expect("read")
        .replace(
            "  maxReplicas: 20\n",
            "  maxReplicas: 20\n  behavior:\n    scaleDown: {stabilizationWindowSeconds: 0}\n",
        );
    let r = run(load_text(&text));
    // With behavior the default scale-up policy allows max(4 pods, 100%)
    // per 15 s: 3 -> 7 (4 pods > 100% of 3) at the first sync.
    let up = first(&r, 300 * S, |h| h.desired_replicas > h.current_replicas).expect("scales up");
    let at_up = rows(&r).into_iter().find(|h| h.t_us == up).expect("row");
    assert_eq!(at_up.desired_replicas, 7);
    let down =
        first(&r, 1200 * S, |h| h.desired_replicas < h.current_replicas).expect("scales down");
    assert!(down <= 1230 * S, "scaled down at {}s", down / S);
}

#[test]
fn hpa_manifest_errors_have_field_paths() {
    let bad = r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: bad}
spec: {duration: 1m}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: h
  annotations: {kubesim.dev/autoscaler-policy: magic}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: CronJob, name: x}
  minReplicas: 3
  maxReplicas: 2
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Value, value: "1"}}
  behavior:
    scaleUp:
      selectPolicy: Fastest
      policies: [{type: Pods, value: 0, periodSeconds: 15}]
"#;
    let e = kubesim::scenario::load_str(bad, std::path::Path::new("bad.yaml"), Default::default())
        .expect_err("invalid")
        .to_string();
    for want in [
        "spec.scaleTargetRef.kind",
        "spec.maxReplicas",
        "spec.metrics[0].resource.target.type",
        "spec.behavior.scaleUp.selectPolicy",
        "spec.behavior.scaleUp.policies[0].value",
        "metadata.annotations.kubesim.dev/autoscaler-policy",
    ] {
        assert!(e.contains(want), "missing {want} in:\n{e}");
    }
}

#[test]
fn predictive_scales_ahead_of_a_diurnal_load() {
    let text = std::fs::read_to_string(crate::repo("scenarios/hpa-diurnal.yaml")).expect("read");
    let up = run(load_text(&text.replace("duration: 4h", "duration: 1h")));
    let pr = run(load_text(
        &text.replace("duration: 4h", "duration: 1h").replace(
            "autoscaler-policy: upstream",
            "autoscaler-policy: predictive",
        ),
    ));
    // While the load rises (the first hour of the 2-hour day), the
    // predictive policy keeps at least as many replicas as upstream at
    // almost every sample, and more at some.
    let (a, b) = (rows(&up), rows(&pr));
    assert_eq!(a.len(), b.len());
    let ahead = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| y.desired_replicas > x.desired_replicas)
        .count();
    let behind = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| y.desired_replicas < x.desired_replicas)
        .count();
    assert!(ahead > 5 && behind <= 2, "ahead {ahead}, behind {behind}");
}

#[test]
fn hpa_runs_are_byte_identical() {
    use kubesim::runner::run_to_dir;
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    let spec = crate::spec(Some(3));
    run_to_dir(load("scenarios/hpa-burst.yaml"), &spec, a.path()).expect("run a");
    run_to_dir(load("scenarios/hpa-burst.yaml"), &spec, b.path()).expect("run b");
    for f in ["hpa.csv", "events.jsonl", "workloads.csv"] {
        let x = std::fs::read(a.path().join(f)).expect("read a");
        let y = std::fs::read(b.path().join(f)).expect("read b");
        assert!(!x.is_empty() && x == y, "{f} differs");
    }
}

#[test]
fn cluster_autoscaler_scales_a_node_group_up_and_down() {
    let r = run(load("scenarios/cluster-autoscaler.yaml"));
    let rows = &r.node_groups;
    let at = |t: u64| rows.iter().find(|x| x.t_us == t * S).expect("row");
    // 18 pods of 1 CPU arrive at 2m on one 4-CPU node: 16 cannot be
    // placed; the first loop after that asks for 4 nodes (one per 4
    // pods), which are Ready 90 s later.
    assert_eq!(
        (at(180).nodes, at(180).upcoming, at(180).pending_pods),
        (1, 4, 16)
    );
    assert_eq!(
        (at(240).nodes, at(240).upcoming, at(240).pending_pods),
        (5, 0, 0)
    );
    // Back to 2 replicas at 15m: the unneeded nodes go after 10 minutes
    // below 50% (plus the drain), down to minSize 1.
    assert_eq!(at(1470).nodes, 5);
    let down = rows
        .iter()
        .find(|x| x.t_us > 900 * S && x.nodes == 1)
        .expect("scales down");
    assert!(
        down.t_us > 1500 * S && down.t_us <= 1590 * S,
        "down at {}s",
        down.t_us / S
    );
    // Cost: node-hours × 0.20 (thousandths), growing while nodes exist.
    let last = rows.last().expect("rows");
    assert!(last.cost_milli > at(1470).cost_milli && last.cost_milli < 1000);
    // Every pod ran.
    assert!(r.pods.iter().all(|p| p.status.started_at.is_some()));
}

#[test]
fn a_deleted_hpa_stops_scaling() {
    let text = std::fs::read_to_string(crate::repo("scenarios/hpa-burst.yaml"))
        .expect("read")
        .replace(
            "    - {name: worker, count: 6, capacity: {cpu: \"4\", memory: 16Gi, pods: \"110\"}}\n",
            "    - {name: worker, count: 6, capacity: {cpu: \"4\", memory: 16Gi, pods: \"110\"}}\n  timeline:\n  - {at: 10m, delete: {kind: HorizontalPodAutoscaler, name: web}}\n",
        );
    assert!(text.contains("delete: {kind: HorizontalPodAutoscaler"));
    let r = run(load_text(&text));
    // No rows after the deletion, and the target stays at 20 replicas.
    assert!(rows(&r).iter().all(|h| h.t_us < 600 * S));
    let last = r
        .workloads
        .iter()
        .rev()
        .find(|w| w.kind == "Deployment")
        .expect("row");
    assert_eq!(last.desired, Some(20));
}

#[test]
fn external_metric_series_drive_the_hpa() {
    let r = run(load_text(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: ext}
spec:
  duration: 8m
  sampleInterval: 15s
  defaults: {startupTime: 5s}
  cluster:
    nodePools:
    - {name: w, count: 4, capacity: {cpu: "8", memory: 32Gi, pods: "110"}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: c, image: img, resources: {requests: {cpu: 100m}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  annotations: {kubesim.dev/external-queue_length: "0s=20, 5m=100"}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 20
  metrics:
  - type: External
    external:
      metric: {name: queue_length}
      target: {type: AverageValue, averageValue: "10"}
"#,
    ));
    // 20 items / 10 per pod = 2 replicas until 5m; then 100 / 10 = 10,
    // reached in steps of max(2 x current, 4): 2 -> 4 -> 8 -> 10.
    let at = |t: u64| {
        rows(&r)
            .into_iter()
            .find(|h| h.t_us == t * S)
            .expect("row")
            .clone()
    };
    assert_eq!(at(285).desired_replicas, 2);
    assert_eq!(
        (at(285).metric.as_str(), at(285).current_value),
        ("external/queue_length", Some(10_000))
    );
    let seq: Vec<i32> = (300..=345)
        .step_by(15)
        .map(|t| at(t).desired_replicas)
        .collect();
    assert_eq!(seq, vec![4, 8, 10, 10]);
}

#[test]
fn hpa_scales_from_node_model_usage() {
    let r = run(load("scenarios/hpa-node-usage.yaml"));
    let at = |t: u64| {
        rows(&r)
            .into_iter()
            .find(|h| h.t_us == t * S)
            .map(|h| (h.current_replicas, h.desired_replicas, h.current_value))
    };
    // Pods start at ~20 s using 200m of a 500m request: 40%, within the
    // tolerance, once two housekeeping samples exist.
    assert_eq!(at(60), Some((2, 2, Some(40))));
    assert_eq!(at(150), Some((2, 2, Some(40))));
    // Their usage steps to 600m two minutes after start (~140 s). The sync
    // at 165 s reads the 150 s scrape (samples at 130 s and 150 s: half at
    // 200m, half at 600m → 79%) and scales 2 → ceil(2 × 0.79 / 0.5) = 4.
    let up = first(&r, 0, |h| h.desired_replicas > h.current_replicas).expect("scales up");
    assert_eq!(up, 165 * S);
    assert_eq!(at(165), Some((2, 4, Some(79))));
    // The next window (150-160 s) is all at 600m: 120%.
    assert_eq!(at(180).map(|x| x.2), Some(Some(120)));
    let last = r.hpas.last().expect("rows");
    assert_eq!(last.current_replicas, 10, "maxReplicas");
}
