//! Services end to end: endpoints follow a Deployment's rolling update
//! within maxSurge / maxUnavailable, publishNotReadyAddresses, terminating
//! endpoints during graceful deletion, Services that get no endpoints,
//! `services.csv`, and validation errors with field paths.

use kubesim::cluster::RunResult;
use kubesim::model::service::Endpoint;
use kubesim::runner::run_to_dir;
use kubesim::scenario::{load_str, LoadError, LoadOptions};

use crate::{load, load_text, run, spec};

/// The endpoints of Service `name` at the end of the run.
fn endpoints(r: &RunResult, name: &str) -> Vec<Endpoint> {
    r.workload_objects
        .iter()
        .filter(|w| !w.removed && w.meta.name == name)
        .find_map(|w| w.service())
        .unwrap_or_else(|| panic!("no Service {name}"))
        .endpoints
        .clone()
}

/// `(ready, serving, terminating)` counts.
fn counts(e: &[Endpoint]) -> (usize, usize, usize) {
    (
        e.iter().filter(|e| e.ready).count(),
        e.iter().filter(|e| e.serving).count(),
        e.iter().filter(|e| e.terminating).count(),
    )
}

/// `key=N` from an EndpointsChanged message.
fn field(msg: &str, key: &str) -> i64 {
    msg.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {msg}"))
}

#[test]
fn endpoints_follow_a_rolling_update_within_surge_and_unavailability() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sc = load("scenarios/service-rolling-update.yaml");
    let (r, _) = run_to_dir(sc, &spec(None), dir.path()).expect("run");
    let text = std::fs::read_to_string(dir.path().join("events.jsonl")).expect("events");
    let ev: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert!(ev
        .iter()
        .any(|e| e["type"] == "ServiceCreated" && e["message"] == "Service default/web"));
    // Every change of the endpoints, i.e. every instant: once the first
    // rollout is done (4 s), 10 - 25% = 8 <= ready <= 10 + 25% (up) = 13
    // until the scale to 12 at 3 m.
    let mut changes = 0;
    let mut saw_terminating = false;
    let mut min_ready = i64::MAX;
    let mut max_ready = 0;
    for e in &ev {
        let Some(msg) = e["message"].as_str() else {
            continue;
        };
        if e["type"] != "EndpointsChanged" || !msg.starts_with("Service default/web ") {
            continue;
        }
        changes += 1;
        let t = e["t_us"].as_u64().unwrap_or(0);
        let ready = field(msg, "ready");
        saw_terminating |= field(msg, "terminating") > 0;
        if (10_000_000..180_000_000).contains(&t) {
            min_ready = min_ready.min(ready);
            max_ready = max_ready.max(ready);
            assert!((8..=13).contains(&ready), "t={t}: {msg}");
        }
    }
    assert!(changes > 5, "{changes} changes");
    assert!(saw_terminating, "old pods were listed as terminating");
    assert_eq!(
        (min_ready, max_ready),
        (8, 13),
        "the rollout used its whole budget"
    );
    // services.csv: one row per Service per sample, the same bounds.
    let csv = std::fs::read_to_string(dir.path().join("services.csv")).expect("services.csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("t_us,namespace,name,endpoints_ready,offered_milli_rps,served,failed,latency_p50_us,latency_p90_us,latency_p99_us,arrivals,in_flight,slo_violations")
    );
    let web: Vec<&kubesim::cluster::ServiceRow> =
        r.services.iter().filter(|s| s.name == "web").collect();
    // The run ends once nothing is left to happen (after the scale to 12).
    let n = r.samples.len();
    assert!(n > 185, "{n} samples");
    assert_eq!(web.len(), n, "one row per sample");
    assert_eq!(r.services.len(), 2 * n);
    assert_eq!(csv.lines().count(), 1 + 2 * n);
    for s in &web {
        if (10_000_000..180_000_000).contains(&s.t_us) {
            assert!((8..=13).contains(&s.endpoints_ready), "{s:?}");
        }
        assert_eq!((s.offered_milli_rps, s.served, s.failed), (0, 0, 0));
    }
    assert_eq!(web.last().map(|s| s.endpoints_ready), Some(12));
    // The NodePort Service selects the same pods.
    assert_eq!(endpoints(&r, "web"), endpoints(&r, "web-public"));
    let end = endpoints(&r, "web");
    assert_eq!(counts(&end), (12, 12, 0));
    assert!(end.iter().all(|e| e.node.starts_with("worker-")));
}

fn termination_scenario(duration: &str, ready_after: &str) -> String {
    format!(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {{name: svc-term}}
spec:
  duration: {duration}
  sampleInterval: 1s
  defaults: {{startupTime: 1s, shutdownTime: 20s}}
  cluster:
    nodePools:
    - {{name: worker, count: 2, capacity: {{cpu: "4", memory: 8Gi, pods: "110"}}}}
  timeline:
  - {{at: 30s, scale: {{kind: Deployment, name: web, replicas: 1}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata:
      labels: {{app: web}}
      annotations: {{kubesim.dev/ready-after: {ready_after}}}
    spec:
      terminationGracePeriodSeconds: 30
      containers:
      - name: web
        image: "nginx:1.27"
        readinessProbe: {{httpGet: {{path: /, port: 80}}, periodSeconds: 1}}
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web-all}}
spec:
  selector: {{app: web}}
  publishNotReadyAddresses: true
  clusterIP: None
---
apiVersion: v1
kind: Service
metadata: {{name: external}}
spec:
  type: ExternalName
  externalName: db.example.com.
---
apiVersion: v1
kind: Service
metadata: {{name: manual}}
spec:
  ports: [{{port: 80}}]
"#
    )
}

#[test]
fn terminating_pods_stay_serving_but_not_ready_during_graceful_deletion() {
    // At 40 s the two pods scaled away at 30 s are still shutting down (20 s).
    let r = run(load_text(&termination_scenario("40s", "0s")));
    let e = endpoints(&r, "web");
    assert_eq!(e.len(), 3, "{e:?}");
    assert_eq!(counts(&e), (1, 3, 2));
    for x in e.iter().filter(|x| x.terminating) {
        assert!(x.serving && !x.ready, "{x:?}");
    }
    // publishNotReadyAddresses: every endpoint is ready.
    assert_eq!(counts(&endpoints(&r, "web-all")), (3, 3, 2));
    let last = r.services.iter().filter(|s| s.t_us == 40_000_000);
    let ready: Vec<(String, u32)> = last.map(|s| (s.name.clone(), s.endpoints_ready)).collect();
    assert_eq!(
        ready,
        vec![
            ("external".to_string(), 0),
            ("manual".to_string(), 0),
            ("web".to_string(), 1),
            ("web-all".to_string(), 3),
        ]
    );
    // Once their containers stopped (30 s + 20 s) they are gone.
    let r = run(load_text(&termination_scenario("60s", "0s")));
    assert_eq!(counts(&endpoints(&r, "web")), (1, 1, 0));
    assert_eq!(counts(&endpoints(&r, "web-all")), (1, 1, 0));
}

#[test]
fn publish_not_ready_addresses_lists_pods_that_are_not_ready() {
    // Readiness probes fail for the whole run.
    let r = run(load_text(&termination_scenario("20s", "1h")));
    assert_eq!(counts(&endpoints(&r, "web")), (0, 0, 0));
    assert_eq!(endpoints(&r, "web").len(), 3);
    assert_eq!(counts(&endpoints(&r, "web-all")), (3, 0, 0));
    // ExternalName and selector-less Services get no endpoints.
    assert!(endpoints(&r, "external").is_empty());
    assert!(endpoints(&r, "manual").is_empty());
}

#[test]
fn reapplied_service_recomputes_its_endpoints() {
    let text = r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: svc-apply}
spec:
  duration: 30s
  cluster:
    nodePools:
    - {name: worker, count: 1, capacity: {cpu: "4", memory: 8Gi, pods: "110"}}
  timeline:
  - at: 10s
    apply:
      apiVersion: v1
      kind: Service
      metadata: {name: web}
      spec:
        selector: {app: web}
        publishNotReadyAddresses: true
        ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata:
  name: p
  labels: {app: web}
  annotations: {kubesim.dev/ready-after: 1h}
spec:
  containers:
  - name: c
    image: "nginx:1.27"
    readinessProbe: {httpGet: {path: /, port: 80}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"#;
    let r = run(load_text(text));
    // Not ready, but published once the Service asks for it.
    assert_eq!(counts(&endpoints(&r, "web")), (1, 0, 0));
    let before: Vec<u32> = r
        .services
        .iter()
        .filter(|s| s.t_us < 10_000_000)
        .map(|s| s.endpoints_ready)
        .collect();
    assert!(
        !before.is_empty() && before.iter().all(|n| *n == 0),
        "{before:?}"
    );
}

fn invalid(text: &str) -> Vec<(u32, String, String)> {
    match load_str(text, std::path::Path::new("t.yaml"), LoadOptions::default()) {
        Err(LoadError::Invalid(d)) => {
            d.0.iter()
                .map(|d| (d.line, d.path.clone(), d.message.clone()))
                .collect()
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("should be invalid:\n{text}"),
    }
}

#[test]
fn service_errors_name_the_field() {
    let d = invalid(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: bad}
spec: {}
---
apiVersion: v1
kind: Service
metadata: {name: a}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 0, nodePort: 30001}
  - {port: 81, protocol: HTTP, targetPort: "Bad_Name"}
---
apiVersion: v1
kind: Service
metadata: {name: b}
spec:
  type: NodePort
  clusterIP: None
  ports:
  - {name: x, port: 80, nodePort: 40000}
  - {name: x, port: 80}
---
apiVersion: v1
kind: Service
metadata: {name: c}
spec:
  type: Balanced
---
apiVersion: v1
kind: Service
metadata: {name: d}
spec:
  type: ExternalName
  clusterIP: 10.0.0.1
---
apiVersion: v1
kind: Service
metadata: {name: 9e}
spec: {}
"#,
    );
    let has = |line: u32, path: &str, text: &str| {
        d.iter()
            .any(|(l, p, m)| *l == line && p.ends_with(path) && m.contains(text))
    };
    assert!(
        has(
            13,
            "spec.ports[0].port",
            "Invalid value: 0: must be between 1 and 65535, inclusive"
        ),
        "{d:#?}"
    );
    assert!(
        has(
            13,
            "spec.ports[0].nodePort",
            "Forbidden: may not be used when `type` is 'ClusterIP'"
        ),
        "{d:#?}"
    );
    assert!(has(14, "spec.ports[1].name", "Required value"), "{d:#?}");
    assert!(
        has(14, "spec.ports[1].protocol", "Unsupported value: \"HTTP\""),
        "{d:#?}"
    );
    assert!(
        has(
            14,
            "spec.ports[1].targetPort",
            "must contain only alpha-numeric characters"
        ),
        "{d:#?}"
    );
    assert!(
        has(
            21,
            "spec.clusterIP",
            "may not be set to 'None' for NodePort services"
        ),
        "{d:#?}"
    );
    assert!(
        has(
            23,
            "spec.ports[0].nodePort",
            "provided port is not in the valid range. The range of valid ports is 30000-32767"
        ),
        "{d:#?}"
    );
    assert!(
        has(24, "spec.ports[1].name", "Duplicate value: \"x\""),
        "{d:#?}"
    );
    assert!(
        has(
            24,
            "spec.ports[1]",
            "Duplicate value: {port: 80, protocol: TCP}"
        ),
        "{d:#?}"
    );
    assert!(
        has(30, "spec.type", "Unsupported value: \"Balanced\""),
        "{d:#?}"
    );
    assert!(
        has(
            37,
            "spec.clusterIP",
            "Forbidden: may not be set for ExternalName services"
        ),
        "{d:#?}"
    );
    assert!(
        d.iter()
            .any(|(_, p, m)| p.ends_with("spec.externalName") && m == "Required value"),
        "{d:#?}"
    );
    assert!(
        d.iter()
            .any(|(_, p, m)| p.ends_with("metadata.name") && m.contains("DNS-1035")),
        "{d:#?}"
    );
    assert!(
        d.iter()
            .any(|(_, p, m)| p.ends_with("spec.ports") && m == "Required value"),
        "{d:#?}"
    );
}
