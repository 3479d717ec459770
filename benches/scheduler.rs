//! Scheduling throughput of the default kube-scheduler profile, in pods per
//! second of wall time, at 500, 5,000 and 15,000 nodes: plain pods, and pods
//! with required pod anti-affinity (one per node, as upstream's
//! scheduler_perf `SchedulingPodAntiAffinity`). Each iteration schedules a
//! batch of pods one after another on a fresh copy of the cluster, assuming
//! each onto its node, exactly as the World does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use kubesim::engine::{SimRng, SimTime};
use kubesim::model::meta::ObjectMeta;
use kubesim::model::node::{LABEL_HOSTNAME, LABEL_ZONE};
use kubesim::model::{Labels, Node, NodeId, Pod, PodId, Resources};
use kubesim::scenario::{load_str, LoadOptions, Object};
use kubesim::scheduler::config::SchedulerConfig;
use kubesim::scheduler::incremental::PodChangeLog;
use kubesim::scheduler::kube::KubeScheduler;
use kubesim::scheduler::{ClusterView, Decision, SchedulingPolicy};

const BATCH: usize = 1000;

fn template(anti: bool) -> Pod {
    let affinity = if anti {
        r#"
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {color: green}}
        topologyKey: kubernetes.io/hostname"#
    } else {
        ""
    };
    let text = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: p, labels: {{color: green}}}}\nspec:{affinity}\n  containers:\n  - name: c\n    image: registry/app:1\n    resources: {{requests: {{cpu: 100m, memory: 128Mi}}}}\n"
    );
    let sc =
        load_str(&text, Path::new("bench.yaml"), LoadOptions::default()).expect("template pod");
    match sc.objects.into_iter().next() {
        Some(Object::Pod(p)) => *p,
        _ => unreachable!("the template is one pod"),
    }
}

fn cluster(n: usize) -> Vec<Node> {
    (0..n)
        .map(|i| {
            let name = format!("node-{i}");
            let mut labels = Labels::new();
            labels.insert(LABEL_HOSTNAME.into(), name.clone());
            labels.insert(LABEL_ZONE.into(), format!("zone-{}", i % 3));
            let mut cap = Resources::new(32_000, 128 << 30);
            cap.pods = 110;
            Node::new(
                ObjectMeta {
                    name,
                    labels,
                    ..Default::default()
                },
                cap.clone(),
                cap,
            )
        })
        .collect()
}

struct Bench {
    nodes: Vec<Node>,
    pods: Vec<Pod>,
    order: Vec<NodeId>,
    sched: KubeScheduler,
    /// Nodes holding pods with (anti-)affinity, kept as the World keeps them.
    aff: BTreeSet<NodeId>,
    anti: BTreeSet<NodeId>,
    /// Pod placements, as the World logs them for incremental plugin state.
    changes: PodChangeLog,
}

fn setup(n: usize, anti: bool) -> Bench {
    let t = template(anti);
    let pods: Vec<Pod> = (0..BATCH)
        .map(|i| {
            let mut p = t.clone();
            p.meta.name = format!("p-{i}");
            // As the World does at creation.
            p.sched_signature = kubesim::model::pod::scheduling_signature(&p);
            p
        })
        .collect();
    let nodes = cluster(n);
    // Zones round robin, as the World orders nodes.
    let mut order = Vec::with_capacity(n);
    let per_zone: Vec<Vec<NodeId>> = (0..3)
        .map(|z| {
            (0..n)
                .filter(|i| i % 3 == z)
                .map(|i| NodeId(i as u32))
                .collect()
        })
        .collect();
    let mut k = 0;
    while order.len() < n {
        for z in &per_zone {
            if let Some(x) = z.get(k) {
                order.push(*x);
            }
        }
        k += 1;
    }
    Bench {
        nodes,
        pods,
        order,
        sched: KubeScheduler::new(&SchedulerConfig::default()).expect("default profile"),
        aff: BTreeSet::new(),
        anti: BTreeSet::new(),
        changes: PodChangeLog::default(),
    }
}

fn run(b: &mut Bench) -> usize {
    let namespaces: BTreeMap<String, Labels> = BTreeMap::new();
    let images = BTreeMap::new();
    let nominated = BTreeMap::new();
    let mut rng = SimRng::derive(1, "bench");
    let mut bound = 0;
    for i in 0..b.pods.len() {
        let decision = {
            let view = ClusterView {
                nodes: &b.nodes,
                pods: &b.pods,
                namespaces: &namespaces,
                image_nodes: &images,
                node_order: &b.order,
                nominated: &nominated,
                waiting: &[],
                nodes_with_affinity: &b.aff,
                nodes_with_required_anti_affinity: &b.anti,
                pod_changes: Some(&b.changes),
                now: SimTime::ZERO,
                pdbs: &[],
            };
            b.sched
                .schedule(PodId(i as u32), &view, &mut rng, false)
                .decision
        };
        if let Decision::Bind { node, .. } = decision {
            b.nodes[node.0 as usize].add_pod(PodId(i as u32), &b.pods[i]);
            b.changes.record(PodId(i as u32), node, true, false);
            let n = &b.nodes[node.0 as usize];
            if !n.pods_with_affinity.is_empty() {
                b.aff.insert(node);
            }
            if !n.pods_with_required_anti_affinity.is_empty() {
                b.anti.insert(node);
            }
            b.pods[i].status.node = Some(node);
            bound += 1;
        }
    }
    bound
}

fn throughput(c: &mut Criterion) {
    let mut g = c.benchmark_group("scheduler_throughput");
    g.sample_size(10);
    g.throughput(Throughput::Elements(BATCH as u64));
    for &(kind, anti) in &[("plain", false), ("anti_affinity", true)] {
        for &n in &[500usize, 5_000, 15_000] {
            g.bench_with_input(BenchmarkId::new(kind, n), &n, |bch, &n| {
                bch.iter_batched_ref(|| setup(n, anti), run, BatchSize::LargeInput)
            });
        }
    }
    g.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
