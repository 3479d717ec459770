//! Model-based property test: random clusters, pods and timelines run with
//! the invariant checker after every event (no node over-committed on
//! requests, each pod on at most one node, node accounting equal to the sum
//! of its pods). A failing case prints its scenario; shrunk failures become
//! named regression tests below.

use std::fmt::Write;
use std::path::Path;

use kubesim::runner::run_in_memory;
use kubesim::scenario::{load_str, LoadOptions};
use proptest::prelude::*;

use crate::spec;

#[derive(Debug, Clone)]
struct PodGen {
    cpu_m: u32,
    mem_mi: u32,
    run_s: Option<u16>,
    exit: u8,
    policy: &'static str,
    selector: Option<u8>,
    host_port: Option<u16>,
    /// Pod (anti-)affinity: 0 = app=a with required anti-affinity to app=a
    /// per node, 1 = app=b preferring app=a's zone, 2 = app=a requiring
    /// app=a's zone, 3 = app=a spread over zones (DoNotSchedule) and nodes
    /// (ScheduleAnyway).
    affinity: Option<u8>,
}

#[derive(Debug, Clone)]
enum ActGen {
    Delete(usize),
    Cordon(usize),
    Uncordon(usize),
    Drain(usize),
    Fail(usize),
    Recover(usize),
    Remove(usize),
    Add(u8),
    Apply(PodGen),
}

fn pod_gen() -> impl Strategy<Value = PodGen> {
    (
        0u32..3000,
        0u32..4096,
        proptest::option::of(1u16..600),
        prop_oneof![Just(0u8), Just(1u8)],
        prop_oneof![Just("Always"), Just("OnFailure"), Just("Never")],
        proptest::option::of(0u8..3),
        proptest::option::weighted(0.1, 8000u16..8003),
    )
        .prop_map(
            |(cpu_m, mem_mi, run_s, exit, policy, selector, host_port)| PodGen {
                cpu_m,
                mem_mi,
                run_s,
                exit,
                policy,
                selector,
                host_port,
                affinity: None,
            },
        )
}

/// Pods from a few templates, so that many share a scheduling signature.
fn few_pod_gen() -> impl Strategy<Value = PodGen> {
    (
        prop_oneof![Just(500u32), Just(1500u32)],
        prop_oneof![Just(512u32), Just(3000u32)],
        prop_oneof![Just(None), Just(Some(120u16))],
        proptest::option::weighted(0.3, 0u8..2),
        proptest::option::weighted(0.2, Just(8000u16)),
        proptest::option::weighted(0.4, 0u8..4),
    )
        .prop_map(
            |(cpu_m, mem_mi, run_s, selector, host_port, affinity)| PodGen {
                cpu_m,
                mem_mi,
                run_s,
                exit: 0,
                policy: "Always",
                selector,
                host_port,
                affinity,
            },
        )
}

fn act_gen() -> impl Strategy<Value = (u16, ActGen)> {
    (
        0u16..1800,
        prop_oneof![
            (0usize..40).prop_map(ActGen::Delete),
            (0usize..8).prop_map(ActGen::Cordon),
            (0usize..8).prop_map(ActGen::Uncordon),
            (0usize..8).prop_map(ActGen::Drain),
            (0usize..8).prop_map(ActGen::Fail),
            (0usize..8).prop_map(ActGen::Recover),
            (0usize..8).prop_map(ActGen::Remove),
            (1u8..3).prop_map(ActGen::Add),
            pod_gen().prop_map(ActGen::Apply),
        ],
    )
}

fn pod_yaml(name: &str, p: &PodGen, indent: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{indent}apiVersion: v1\n{indent}kind: Pod\n{indent}metadata:\n{indent}  name: {name}"
    );
    match p.affinity {
        Some(0) | Some(2) | Some(3) => {
            let _ = writeln!(s, "{indent}  labels: {{app: a}}");
        }
        Some(_) => {
            let _ = writeln!(s, "{indent}  labels: {{app: b}}");
        }
        None => {}
    }
    let _ = writeln!(s, "{indent}  annotations:");
    let _ = writeln!(s, "{indent}    kubesim.dev/exit-code: \"{}\"", p.exit);
    if let Some(r) = p.run_s {
        let _ = writeln!(s, "{indent}    kubesim.dev/run-time: {r}s");
    }
    let _ = writeln!(s, "{indent}spec:\n{indent}  restartPolicy: {}", p.policy);
    if let Some(z) = p.selector {
        let _ = writeln!(
            s,
            "{indent}  nodeSelector: {{topology.kubernetes.io/zone: z{z}}}"
        );
    }
    let term = |sel: &str, key: &str| {
        format!("{{labelSelector: {{matchLabels: {{app: {sel}}}}}, topologyKey: {key}}}")
    };
    match p.affinity {
        Some(0) => {
            let _ = writeln!(
                s,
                "{indent}  affinity: {{podAntiAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: [{}]}}}}",
                term("a", "kubernetes.io/hostname")
            );
        }
        Some(1) => {
            let _ = writeln!(
                s,
                "{indent}  affinity: {{podAffinity: {{preferredDuringSchedulingIgnoredDuringExecution: [{{weight: 5, podAffinityTerm: {}}}]}}}}",
                term("a", "topology.kubernetes.io/zone")
            );
        }
        Some(2) => {
            let _ = writeln!(
                s,
                "{indent}  affinity: {{podAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: [{}]}}}}",
                term("a", "topology.kubernetes.io/zone")
            );
        }
        Some(_) => {
            let _ = writeln!(
                s,
                "{indent}  topologySpreadConstraints:\n{indent}  - {{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {{matchLabels: {{app: a}}}}}}\n{indent}  - {{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: {{matchLabels: {{app: a}}}}}}"
            );
        }
        None => {}
    }
    let _ = writeln!(
        s,
        "{indent}  containers:\n{indent}  - name: c\n{indent}    image: x:1"
    );
    let _ = writeln!(
        s,
        "{indent}    resources: {{requests: {{cpu: {}m, memory: {}Mi}}}}",
        p.cpu_m, p.mem_mi
    );
    if let Some(hp) = p.host_port {
        let _ = writeln!(
            s,
            "{indent}    ports: [{{containerPort: 80, hostPort: {hp}}}]"
        );
    }
    s
}

fn scenario(nodes: u8, pods: &[PodGen], acts: &[(u16, ActGen)]) -> String {
    let mut s = String::from(
        "apiVersion: kubesim.dev/v1alpha1\nkind: Scenario\nmetadata: {name: prop}\nspec:\n  duration: 40m\n  cluster:\n    nodePools:\n",
    );
    let _ = writeln!(
        s,
        "    - {{name: node, count: {nodes}, capacity: {{cpu: \"4\", memory: 8Gi, pods: \"6\"}}, zones: [z0, z1, z2]}}"
    );
    let mut next_node = nodes as usize;
    s.push_str("  timeline:\n");
    let node = |i: usize, total: usize| format!("node-{}", i % total.max(1));
    for (k, (at, a)) in acts.iter().enumerate() {
        let _ = writeln!(s, "  - at: {at}s");
        match a {
            ActGen::Delete(i) => {
                let _ = writeln!(
                    s,
                    "    delete: {{kind: Pod, name: p{}}}",
                    i % pods.len().max(1)
                );
            }
            ActGen::Cordon(i) => {
                let _ = writeln!(s, "    cordon: {}", node(*i, next_node));
            }
            ActGen::Uncordon(i) => {
                let _ = writeln!(s, "    uncordon: {}", node(*i, next_node));
            }
            ActGen::Drain(i) => {
                let _ = writeln!(s, "    drain: {}", node(*i, next_node));
            }
            ActGen::Fail(i) => {
                let _ = writeln!(s, "    failNode: {}", node(*i, next_node));
            }
            ActGen::Recover(i) => {
                let _ = writeln!(s, "    recoverNode: {}", node(*i, next_node));
            }
            ActGen::Remove(i) => {
                let _ = writeln!(s, "    removeNode: {}", node(*i, next_node));
            }
            ActGen::Add(c) => {
                // Names of added nodes only exist once added; keep the
                // timeline's node references within the initial pool.
                let _ = writeln!(s, "    addNodes: {{pool: node, count: {c}}}");
                let _ = &mut next_node;
            }
            ActGen::Apply(p) => {
                s.push_str("    apply:\n");
                s.push_str(&pod_yaml(&format!("late{k}"), p, "      "));
            }
        }
    }
    if acts.is_empty() {
        s.push_str("  - {at: 0s, cordon: node-0}\n");
    }
    for (i, p) in pods.iter().enumerate() {
        s.push_str("---\n");
        s.push_str(&pod_yaml(&format!("p{i}"), p, ""));
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_under_random_timelines(
        nodes in 1u8..5,
        pods in proptest::collection::vec(pod_gen(), 0..30),
        acts in proptest::collection::vec(act_gen(), 0..25),
        seed in 0u64..1000,
    ) {
        let text = scenario(nodes, &pods, &acts);
        let sc = load_str(&text, Path::new("prop.yaml"), LoadOptions::default())
            .map_err(|e| TestCaseError::fail(format!("generated scenario invalid: {e}\n{text}")))?;
        let r = run_in_memory(sc, &spec(Some(seed)))
            .map_err(|e| TestCaseError::fail(format!("{e}\n--- scenario ---\n{text}")))?;
        // Every pod is either bound somewhere or has a reason it is not.
        for p in &r.pods {
            if p.status.bound_at.is_none() && p.status.finished_at.is_none() {
                prop_assert!(!p.status.message.is_empty() || p.status.scheduling_attempts == 0 || p.meta.deletion_timestamp.is_some(),
                    "pending pod {} has no reason", p.meta.name);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 60, ..ProptestConfig::default() })]

    /// The scheduler's node cache changes nothing but speed: with and
    /// without it, random runs produce the same event log.
    #[test]
    fn node_cache_does_not_change_results(
        nodes in 1u8..5,
        pods in proptest::collection::vec(few_pod_gen(), 0..30),
        acts in proptest::collection::vec(act_gen(), 0..25),
        seed in 0u64..1000,
    ) {
        let text = scenario(nodes, &pods, &acts);
        let sc = load_str(&text, Path::new("prop.yaml"), LoadOptions::default())
            .map_err(|e| TestCaseError::fail(format!("generated scenario invalid: {e}\n{text}")))?;
        let mut uncached = sc.clone();
        uncached.scheduler.config.node_cache = false;
        let a = run_in_memory(sc, &spec(Some(seed))).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let b = run_in_memory(uncached, &spec(Some(seed))).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(a.event_digest, b.event_digest, "cache changed the run:\n{}", text);
    }
}
