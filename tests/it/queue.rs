//! The scheduling queue end to end: QueueingHints (a parked pod moves only
//! on an event a plugin that rejected it registered, with a hint that says
//! Queue), research policies waking on every event, and scheduling gates
//! (`spec.schedulingGates`, the `removeSchedulingGates` action).

use std::path::Path;

use kubesim::engine::SimTime;
use kubesim::scenario::{load_str, LoadError, LoadOptions};

use crate::{load_text, node_name, pod, run};

const S: u64 = 1_000_000;

/// One zone-a node busy with short pods that finish one after another, a
/// pod that needs zone b, and a zone-b node applied at 3m.
fn zone_scenario(policy: &str) -> String {
    let mut s = format!(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {{name: hints}}
spec:
  duration: 4m
  scheduler: {{policy: {policy}, cycleTime: 0s, perNodeTime: 0s, bindTime: 0s}}
  cluster:
    nodePools:
    - {{name: a, count: 1, capacity: {{cpu: "8", memory: 8Gi}}, labels: {{zone: a}}}}
  timeline:
  - at: 3m
    apply:
      apiVersion: v1
      kind: Node
      metadata: {{name: b-0, labels: {{zone: b}}}}
      status: {{capacity: {{cpu: "8", memory: 8Gi, pods: "110"}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: picky}}
spec:
  nodeSelector: {{zone: b}}
  containers: [{{name: c, image: x:1, resources: {{requests: {{cpu: "1"}}}}}}]
"#
    );
    for i in 0..6 {
        s.push_str(&format!(
            r#"---
apiVersion: v1
kind: Pod
metadata:
  name: churn-{i}
  annotations: {{kubesim.dev/run-time: "{}s"}}
spec:
  restartPolicy: Never
  containers: [{{name: c, image: x:1, resources: {{requests: {{cpu: "1"}}}}}}]
"#,
            10 * (i + 1)
        ));
    }
    s
}

#[test]
fn a_parked_pod_ignores_events_its_rejecting_plugin_did_not_register() {
    let r = run(load_text(&zone_scenario("default")));
    let p = pod(&r, "picky");
    // Rejected by NodeAffinity at 0s; the six pods finishing (AssignedPod
    // deletes, which NodeAffinity does not register) leave it parked; the
    // zone-b node (Node/Add matching its selector) moves it.
    assert_eq!(p.status.scheduling_attempts, 2, "{:?}", p.status);
    assert_eq!(node_name(&r, p).as_deref(), Some("b-0"));
    assert_eq!(p.status.bound_at, Some(SimTime(180 * S)));
    for i in 0..6 {
        let c = pod(&r, &format!("churn-{i}"));
        assert!(c.status.finished_at.is_some(), "churn-{i} ran and finished");
    }
}

#[test]
fn a_research_policy_without_declared_events_wakes_on_every_event() {
    let r = run(load_text(&zone_scenario("first-fit")));
    let p = pod(&r, "picky");
    // Every pod that finished woke it (today's behaviour for policies that
    // declare no events), then the node at 3m placed it.
    assert!(
        p.status.scheduling_attempts >= 7,
        "attempts {}",
        p.status.scheduling_attempts
    );
    assert_eq!(node_name(&r, p).as_deref(), Some("b-0"));
}

#[test]
fn a_pod_rejected_for_resources_moves_when_resources_free_up() {
    let r = run(load_text(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: fit}
spec:
  duration: 2m
  scheduler: {cycleTime: 0s, perNodeTime: 0s, bindTime: 0s}
  cluster:
    nodePools:
    - {name: w, count: 1, capacity: {cpu: "1", memory: 1Gi}}
  timeline:
  - at: 30s
    apply:
      apiVersion: v1
      kind: Node
      metadata: {name: tiny}
      status: {capacity: {cpu: 500m, memory: 1Gi, pods: "110"}}
  - {at: 60s, delete: {kind: Pod, name: big}}
---
apiVersion: v1
kind: Pod
metadata: {name: big}
spec:
  containers: [{name: c, image: x:1, resources: {requests: {cpu: "1"}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: waiting}
spec:
  containers: [{name: c, image: x:1, resources: {requests: {cpu: "1"}}}]
"#,
    ));
    let w = pod(&r, "waiting");
    // The node added at 30s is too small for it even when empty
    // (NodeResourcesFit's hint skips it); the deletion at 60s frees the
    // cpu (big terminates at once: it has no shutdown time).
    assert_eq!(w.status.scheduling_attempts, 2, "{:?}", w.status);
    assert_eq!(node_name(&r, w).as_deref(), Some("w-0"));
    assert_eq!(w.status.bound_at, Some(SimTime(60 * S)));
}

const GATES: &str = r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: gates}
spec:
  duration: 1m
  scheduler: {cycleTime: 0s, perNodeTime: 0s, bindTime: 0s}
  cluster:
    nodePools:
    - {name: w, count: 1, capacity: {cpu: "8", memory: 8Gi}}
  timeline:
  - {at: 10s, removeSchedulingGates: {name: two, gates: [example.com/a]}}
  - {at: 20s, removeSchedulingGates: {selector: {matchLabels: {app: g}}}}
---
apiVersion: v1
kind: Pod
metadata: {name: two, labels: {app: g}}
spec:
  schedulingGates: [{name: example.com/a}, {name: example.com/b}]
  containers: [{name: c, image: x:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: one, labels: {app: g}}
spec:
  schedulingGates: [{name: example.com/a}]
  containers: [{name: c, image: x:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: forever}
spec:
  schedulingGates: [{name: example.com/never}]
  containers: [{name: c, image: x:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: free}
spec:
  containers: [{name: c, image: x:1}]
"#;

#[test]
fn gated_pods_wait_until_their_last_gate_is_removed() {
    let r = run(load_text(GATES));
    let free = pod(&r, "free");
    assert_eq!(free.status.bound_at, Some(SimTime::ZERO));
    // Removing one of two gates at 10s leaves the pod gated; the selector
    // at 20s removes the rest from both labelled pods.
    for name in ["two", "one"] {
        let p = pod(&r, name);
        assert!(p.spec.scheduling_gates.is_empty(), "{name}");
        assert_eq!(p.status.bound_at, Some(SimTime(20 * S)), "{name}");
        assert_eq!(
            p.status.scheduling_attempts, 1,
            "{name}: never tried while gated"
        );
    }
    let f = pod(&r, "forever");
    assert_eq!(f.status.scheduling_attempts, 0);
    assert!(f.status.bound_at.is_none());
    assert_eq!(f.status.reason, "SchedulingGated");
    assert_eq!(
        f.conditions(),
        vec![("PodScheduled", "False", "SchedulingGated")]
    );
    assert_eq!(
        f.status.phase,
        Some(kubesim::model::PodPhase::Pending),
        "a gated pod counts as pending"
    );
}

fn diagnostics(text: &str) -> Vec<(u32, String, String)> {
    match load_str(text, Path::new("gates.yaml"), LoadOptions::default()) {
        Err(LoadError::Invalid(d)) => {
            d.0.iter()
                .map(|d| (d.line, d.path.clone(), d.message.clone()))
                .collect()
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("should be invalid"),
    }
}

#[test]
fn scheduling_gate_errors_name_line_and_field() {
    let d = diagnostics(
        r#"apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: bad}
spec:
  cluster:
    nodePools:
    - {name: w, count: 1, capacity: {cpu: "1", memory: 1Gi}}
  timeline:
  - {at: 1s, removeSchedulingGates: {name: p, selector: {matchLabels: {a: b}}}}
  - {at: 2s, removeSchedulingGates: {namespace: default}}
  - {at: 3s, removeSchedulingGates: {selector: {}}}
  - {at: 4s, removeSchedulingGates: {name: p, gates: ["-bad"]}}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  nodeName: w-0
  schedulingGates: [{name: example.com/a}, {name: example.com/a}, {name: "not valid!"}]
  containers: [{name: c, image: x:1}]
"#,
    );
    let has = |line: u32, path: &str, text: &str| {
        d.iter()
            .any(|(l, p, m)| *l == line && p == path && m.contains(text))
    };
    assert!(
        has(
            9,
            "spec.timeline[0].removeSchedulingGates",
            "either name or selector"
        ),
        "{d:#?}"
    );
    assert!(
        has(
            10,
            "spec.timeline[1].removeSchedulingGates",
            "name or selector"
        ),
        "{d:#?}"
    );
    assert!(
        has(
            11,
            "spec.timeline[2].removeSchedulingGates.selector",
            "empty selector"
        ),
        "{d:#?}"
    );
    assert!(
        has(
            12,
            "spec.timeline[3].removeSchedulingGates.gates[0]",
            "invalid label key"
        ),
        "{d:#?}"
    );
    assert!(
        has(19, "spec.schedulingGates[1]", "Duplicate value"),
        "{d:#?}"
    );
    assert!(
        has(19, "spec.schedulingGates[2]", "invalid label key"),
        "{d:#?}"
    );
    assert!(
        has(
            18,
            "spec.nodeName",
            "cannot be set until all schedulingGates"
        ),
        "{d:#?}"
    );
}

#[test]
fn a_cordoned_node_wakes_its_pods_when_uncordoned_not_before() {
    let r = run(load_text(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: cordon}
spec:
  duration: 2m
  scheduler: {cycleTime: 0s, perNodeTime: 0s, bindTime: 0s}
  cluster:
    nodePools:
    - {name: w, count: 1, capacity: {cpu: "4", memory: 4Gi}}
  timeline:
  - {at: 1s, cordon: w-0}
  - at: 5s
    apply: {apiVersion: v1, kind: Pod, metadata: {name: waiting}, spec: {containers: [{name: c, image: x:1}]}}
  - {at: 20s, delete: {kind: Pod, name: other}}
  - {at: 40s, uncordon: w-0}
---
apiVersion: v1
kind: Pod
metadata: {name: other}
spec:
  containers: [{name: c, image: x:1}]
"#,
    ));
    let w = pod(&r, "waiting");
    // NodeUnschedulable rejected it; the deletion at 20s (an event it did
    // not register) leaves it parked; uncordoning (Node/UpdateNodeTaint)
    // moves it.
    assert_eq!(w.status.scheduling_attempts, 2, "{:?}", w.status);
    assert_eq!(w.status.bound_at, Some(SimTime(40 * S)));
}

#[test]
fn gates_hold_pods_back_under_a_research_policy_too() {
    let text = GATES.replace(
        "scheduler: {cycleTime: 0s",
        "scheduler: {policy: first-fit, cycleTime: 0s",
    );
    let r = run(load_text(&text));
    assert_eq!(pod(&r, "forever").status.scheduling_attempts, 0);
    assert_eq!(
        pod(&r, "two").status.bound_at,
        Some(SimTime(20 * S)),
        "bound when its last gate went"
    );
}
