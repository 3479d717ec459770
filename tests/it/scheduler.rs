//! The kube-scheduler framework end to end: configuration, profiles,
//! percentageOfNodesToScore with the rotating start index, explanations.

use kubesim::runner::{run_in_memory, RunSpec};

use crate::{load_text, node_name, pod};

fn explain_spec() -> RunSpec {
    RunSpec {
        explain: true,
        ..crate::spec(None)
    }
}

fn pods_yaml(n: usize, cpu: &str, extra: &str) -> String {
    (0..n)
        .map(|i| {
            format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\nspec:\n{extra}  containers: [{{name: c, image: x:1, resources: {{requests: {{cpu: {cpu}, memory: 1Gi}}}}}}]\n"
            )
        })
        .collect()
}

const CLUSTER: &str = r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: sched}
spec:
  cluster:
    nodePools:
    - {name: node, count: 4, capacity: {cpu: "8", memory: 32Gi}}
"#;

#[test]
fn most_allocated_packs_and_least_allocated_spreads() {
    let cfg = r#"---
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources: [{name: cpu, weight: 1}, {name: memory, weight: 1}]
"#;
    let packed = run_in_memory(
        load_text(&format!("{CLUSTER}{cfg}{}", pods_yaml(4, "1", ""))),
        &crate::spec(None),
    )
    .expect("run");
    let spread = run_in_memory(
        load_text(&format!("{CLUSTER}{}", pods_yaml(4, "1", ""))),
        &crate::spec(None),
    )
    .expect("run");
    let nodes = |r: &kubesim::cluster::RunResult| {
        let mut v: Vec<String> = r.pods.iter().filter_map(|p| node_name(r, p)).collect();
        v.sort();
        v.dedup();
        v.len()
    };
    assert_eq!(
        nodes(&packed),
        1,
        "MostAllocated packs all four pods on one node"
    );
    assert_eq!(nodes(&spread), 4, "LeastAllocated spreads them");
}

#[test]
fn profiles_are_chosen_by_scheduler_name() {
    let cfg = r#"---
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: packer
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
"#;
    let r = run_in_memory(
        load_text(&format!(
            "{CLUSTER}{cfg}{}",
            pods_yaml(3, "1", "  schedulerName: packer\n")
        )),
        &explain_spec(),
    )
    .expect("run");
    let mut n: Vec<String> = r.pods.iter().filter_map(|p| node_name(&r, p)).collect();
    n.dedup();
    assert_eq!(n.len(), 1, "{n:?}");
    assert!(r.explanations.iter().all(|e| e.profile == "packer"));
}

#[test]
fn percentage_of_nodes_to_score_and_rotating_start() {
    let text = format!(
        "{}{}",
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: pct}
spec:
  cluster:
    nodePools:
    - {name: node, count: 300, capacity: {cpu: "64", memory: 256Gi}}
---
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 40
"#,
        pods_yaml(3, "100m", "")
    );
    let r = run_in_memory(load_text(&text), &explain_spec()).expect("run");
    assert_eq!(r.explanations.len(), 3);
    // 300 nodes × 40% = 120 feasible nodes are enough (≥ the minimum 100).
    for e in &r.explanations {
        assert_eq!(e.nodes_evaluated, 120, "{}", e.pod);
        assert_eq!(e.feasible_nodes, 120);
    }
    // Each cycle starts where the previous one stopped.
    let first = |i: usize| r.explanations[i].nodes[0].node.clone();
    assert_eq!(first(0), "node-0");
    assert_eq!(first(1), "node-120");
    assert_eq!(first(2), "node-240");
    let _ = pod(&r, "p0");
}

#[test]
fn explanations_show_filters_and_weighted_scores() {
    let text = format!(
        "{CLUSTER}{}",
        r#"---
apiVersion: v1
kind: Pod
metadata: {name: picky}
spec:
  nodeSelector: {kubernetes.io/hostname: node-2}
  containers: [{name: c, image: x:1, resources: {requests: {cpu: "1"}}}]
"#
    );
    let r = run_in_memory(load_text(&text), &explain_spec()).expect("run");
    let e = &r.explanations[0];
    assert_eq!(e.chosen.as_deref(), Some("node-2"));
    let rejected: Vec<_> = e.nodes.iter().filter(|n| !n.feasible).collect();
    assert_eq!(rejected.len(), 3);
    for n in rejected {
        let v = n.rejected_by.as_ref().expect("verdict");
        assert_eq!(v.plugin, "NodeAffinity");
        assert_eq!(
            v.reasons,
            vec!["node(s) didn't match Pod's node affinity/selector".to_string()]
        );
        assert_eq!(v.code, "UnschedulableAndUnresolvable");
    }
}

#[test]
fn preemption_evicts_lower_priority_pods_and_nominates_the_node() {
    let text = r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: preempt}
spec:
  defaults: {shutdownTime: 5s}
  cluster:
    nodePools:
    - {name: node, count: 2, capacity: {cpu: "4", memory: 16Gi}}
  timeline:
  - at: 1m
    apply:
      apiVersion: v1
      kind: Pod
      metadata: {name: vip}
      spec:
        priorityClassName: high
        containers: [{name: c, image: x:1, resources: {requests: {cpu: "3"}}}]
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
---
apiVersion: v1
kind: Pod
metadata: {name: low-a}
spec: {containers: [{name: c, image: x:1, resources: {requests: {cpu: "3"}}}]}
---
apiVersion: v1
kind: Pod
metadata: {name: low-b}
spec: {containers: [{name: c, image: x:1, resources: {requests: {cpu: "2"}}}]}
"#;
    let r = run_in_memory(load_text(text), &explain_spec()).expect("run");
    let vip = pod(&r, "vip");
    let node = node_name(&r, vip).expect("vip is scheduled after preemption");
    // Exactly one low-priority pod was preempted, on the node vip got.
    let preempted: Vec<_> = r
        .pods
        .iter()
        .filter(|p| p.status.reason == "Preempted")
        .collect();
    assert_eq!(
        preempted.len(),
        1,
        "{:?}",
        r.pods
            .iter()
            .map(|p| (&p.meta.name, &p.status.reason))
            .collect::<Vec<_>>()
    );
    assert_eq!(node_name(&r, preempted[0]).as_deref(), Some(node.as_str()));
    // The victim with the smaller request is enough: pickOneNodeForPreemption
    // prefers fewer/lower victims; both are equal priority, so the node
    // whose victim frees enough (cpu 3 needed) — either works, but binding
    // waits for the victim's graceful exit (5s).
    let bound = vip.status.bound_at.expect("bound");
    assert!(
        bound.0 >= 65_000_000,
        "vip bound only after the victim terminated: {bound:?}"
    );
    let e = r
        .explanations
        .iter()
        .find(|e| e.pod == "default/vip" && e.nominated.is_some())
        .expect("preemption explained");
    assert_eq!(e.victims.len(), 1);
    assert_eq!(r.counters.preemptions, 1);
}

#[test]
fn coscheduling_holds_a_gang_until_it_is_complete() {
    let gang_pod = |name: &str| {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels: {{scheduling.x-k8s.io/pod-group: g}}\n  annotations: {{scheduling.x-k8s.io/min-available: \"3\"}}\nspec:\n  schedulerName: gang\n  containers: [{{name: c, image: x:1, resources: {{requests: {{cpu: \"1\"}}}}}}]\n"
        )
    };
    let text = format!(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {{name: gang}}
spec:
  scheduler: {{cycleTime: 0s, perNodeTime: 0s, bindTime: 0s}}
  cluster:
    nodePools:
    - {{name: node, count: 2, capacity: {{cpu: "8", memory: 16Gi}}}}
  timeline:
  - at: 30s
    apply:
      apiVersion: v1
      kind: Pod
      metadata:
        name: g2
        labels: {{scheduling.x-k8s.io/pod-group: g}}
        annotations: {{scheduling.x-k8s.io/min-available: "3"}}
      spec:
        schedulerName: gang
        containers: [{{name: c, image: x:1, resources: {{requests: {{cpu: "1"}}}}}}]
---
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: gang
  plugins:
    multiPoint:
      enabled: [{{name: Coscheduling}}]
  pluginConfig:
  - name: Coscheduling
    args: {{permitWaitingTimeSeconds: 120}}
{}{}"#,
        gang_pod("g0"),
        gang_pod("g1")
    );
    let r = run_in_memory(load_text(&text), &crate::spec(None)).expect("run");
    // Until g2 exists (30s) the gang cannot start; then all three bind at once.
    let times: Vec<_> = ["g0", "g1", "g2"]
        .iter()
        .map(|n| pod(&r, n).status.bound_at)
        .collect();
    assert!(times.iter().all(|t| t.is_some()), "{times:?}");
    let t0 = times[0];
    assert!(
        times.iter().all(|t| *t == t0),
        "the gang binds together: {times:?}"
    );
    assert!(t0.expect("bound").0 >= 30_000_000);
}

#[test]
fn a_python_extender_configured_in_the_scenario_steers_placement() {
    if std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("SKIPPED: python3 is not installed; the JSON-lines extender example needs it");
        return;
    }
    let r = run_in_memory(
        crate::load("scenarios/extender-jsonl.yaml"),
        &explain_spec(),
    )
    .expect("run");
    let mut used = Vec::new();
    for p in &r.pods {
        let n = node_name(&r, p).expect("every pod is scheduled");
        assert!(
            n.starts_with("good-"),
            "{} went to {n}, which the extender filters out",
            p.meta.name
        );
        used.push(n);
    }
    used.sort();
    used.dedup();
    // Fewest-pods prioritizing spreads four pods over the three good nodes.
    assert_eq!(used.len(), 3, "{used:?}");
    let e = &r.explanations[0];
    assert!(
        e.nodes.iter().any(|n| n
            .rejected_by
            .as_ref()
            .is_some_and(|v| v.plugin == "Extender")),
        "{e:?}"
    );
}

#[test]
fn a_crashing_extender_is_a_clear_scheduling_error() {
    let text = format!(
        "{CLUSTER}{}{}",
        r#"---
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
extenders:
- command: [python3, -c, "import sys; sys.exit(3)"]
  filterVerb: filter
  httpTimeout: 2s
"#,
        pods_yaml(1, "1", "")
    );
    if std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("SKIPPED: python3 is not installed");
        return;
    }
    let r = run_in_memory(load_text(&text), &crate::spec(None)).expect("the run itself completes");
    let p = pod(&r, "p0");
    assert!(p.status.bound_at.is_none());
    assert_eq!(p.status.reason, "SchedulerError");
    assert!(
        p.status.message.contains("extender"),
        "{}",
        p.status.message
    );
    assert!(
        p.status.message.contains("python3"),
        "names the command: {}",
        p.status.message
    );
}
