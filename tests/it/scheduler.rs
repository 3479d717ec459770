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
