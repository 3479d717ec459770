//! Unit tests of the GPU-sharing policies (EXPERIMENT.md §4): each score
//! on small hand-computed nodes, and each policy's node and GPU choice
//! through [`super::FilterThenPick`].

use super::testutil::*;
use super::*;
use crate::model::gpu::{GpuRequest, NodeGpus, PodShape, TypicalPods};
use crate::model::pod::PodStatus;

/// A node with `cpu_m` millicores and GPUs with these free milli (the
/// used milli is not backed by pods: scores only read `free_milli`).
fn gnode(name: &str, cpu_m: i64, free: &[i64]) -> Node {
    let mut n = node(name, cpu_m, 1 << 40, 0);
    if !free.is_empty() {
        n.gpus = Some(NodeGpus {
            model: "T4".into(),
            free_milli: free.to_vec(),
        });
    }
    n
}

fn gpod(name: &str, cpu_m: i64, num: u32, milli: i64) -> Pod {
    let mut p = pod("default", name, cpu_m, 0, 0);
    if num > 0 {
        p.gpu = Some(GpuRequest {
            num_gpu: num,
            gpu_milli: milli,
            models: vec![],
        });
    }
    p
}

fn bind_gpus(c: &mut Cluster, mut p: Pod, n: NodeId, gpus: &[u32]) -> PodId {
    p.status = PodStatus {
        gpu_ids: gpus.to_vec(),
        ..Default::default()
    };
    c.add_bound(p, n)
}

fn decide(p: &mut dyn SchedulingPolicy, c: &Cluster, pod: PodId) -> Option<(NodeId, Vec<u32>)> {
    match p.schedule(pod, &c.view(), &mut rng(), false).decision {
        Decision::Bind { node, gpus, .. } => Some((node, gpus)),
        Decision::Unschedulable { .. } => None,
        Decision::Error(e) => panic!("policy error: {e}"),
    }
}

#[test]
fn dotprod_scores() {
    let p = gpod("p", 16_000, 1, 500);
    // 64000/128000·16000/128000 + 8000/8000·500/8000 = 0.0625 + 0.0625;
    // 100·(1 − 0.125/2) = 93.75 → 93.
    assert_eq!(dot_prod::score(&p, &gnode("a", 64_000, &[1000; 8])), 93);
    // 0.25·0.125 + 0.25·0.0625 = 0.046875; 100·(1 − 0.0234375) → 97.
    assert_eq!(dot_prod::score(&p, &gnode("b", 32_000, &[1000; 2])), 97);
    // CPU-only node: 0.5·0.125 = 0.0625 → 100·0.96875 → 96.
    assert_eq!(
        dot_prod::score(&gpod("c", 16_000, 0, 0), &gnode("c", 64_000, &[])),
        96
    );
    let mut c = Cluster::new(vec![
        gnode("a", 64_000, &[1000; 8]),
        gnode("b", 32_000, &[1000; 2]),
        gnode("cpu", 64_000, &[]),
    ]);
    let id = c.add(p);
    let mut s = FilterThenPick::with_gpu_share(dot_prod::DotProd).unwrap();
    assert_eq!(decide(&mut s, &c, id), Some((NodeId(1), vec![])));
}

#[test]
fn gpu_packing_scores() {
    let share = gpod("p", 1000, 1, 500);
    // All GPUs free: max(33 − n, n).
    assert_eq!(
        gpu_packing::score(&share, &gnode("a", 8000, &[1000; 8])),
        25
    );
    assert_eq!(
        gpu_packing::score(&share, &gnode("a", 8000, &[1000; 2])),
        31
    );
    // Takes the fully free GPU 1 (300 < 500): max(50 − 1, 33).
    assert_eq!(
        gpu_packing::score(&share, &gnode("a", 8000, &[300, 1000])),
        49
    );
    // Takes 600: 100 − ⌊600·100/1000⌋/10 = 100 − 6.
    assert_eq!(
        gpu_packing::score(&share, &gnode("a", 8000, &[700, 600, 1000])),
        94
    );
    assert_eq!(
        gpu_packing::score(&share, &gnode("a", 8000, &[550, 1000])),
        95
    );
    // Two whole GPUs on a half-used node: both fully free: max(50 − 2, 33).
    let two = gpod("q", 1000, 2, 1000);
    assert_eq!(
        gpu_packing::score(&two, &gnode("a", 8000, &[1000, 10, 1000])),
        48
    );
    // CPU-only pod: 0.
    assert_eq!(
        gpu_packing::score(&gpod("c", 1, 0, 0), &gnode("a", 8000, &[300])),
        0
    );
}

#[test]
fn gpu_clustering_scores() {
    let mut c = Cluster::new(vec![
        gnode("share", 8000, &[1000; 8]),
        gnode("empty", 8000, &[1000; 8]),
        gnode("whole", 8000, &[1000; 8]),
        gnode("mixed", 8000, &[1000; 8]),
    ]);
    bind_gpus(&mut c, gpod("s", 100, 1, 500), NodeId(0), &[0]);
    bind_gpus(&mut c, gpod("w", 100, 1, 1000), NodeId(2), &[0]);
    bind_gpus(&mut c, gpod("s2", 100, 1, 500), NodeId(3), &[0]);
    bind_gpus(&mut c, gpod("w2", 100, 1, 1000), NodeId(3), &[1]);
    let share = gpod("p", 100, 1, 300);
    let whole = gpod("q", 100, 1, 1000);
    let score = |p: &Pod, n: usize| gpu_clustering::score(p, &c.nodes[n], &c.pods);
    // F = 7500: b = 25·500/8000 = 1.
    assert_eq!(score(&share, 0), 76);
    assert_eq!(score(&share, 1), 25);
    // F = 7000: b = 25·1000/8000 = 3.
    assert_eq!(score(&share, 2), 3);
    assert_eq!(score(&whole, 2), 78);
    // F = 6500: b = 37500/8000 = 4; the pod's tag among others.
    assert_eq!(score(&share, 3), 54);
    assert_eq!(score(&gpod("c", 100, 0, 0), 0), 0);
    let id = c.add(share);
    let mut s = FilterThenPick::with_gpu_share(gpu_clustering::GpuClustering).unwrap();
    assert_eq!(decide(&mut s, &c, id).map(|d| d.0), Some(NodeId(0)));
}

#[test]
fn fgd_bestfit_scores_and_normalisation() {
    let p = gpod("p", 16_000, 1, 500);
    // s = 48000/128000·0.5 + 7500/8000·0.5 = 0.65625 → 34.375 → 34.
    assert_eq!(
        fgd_best_fit::raw_score(&p, &gnode("a", 64_000, &[1000; 8])),
        34
    );
    // s = 0.0625 + 0.09375 → 84.375 → 84.
    assert_eq!(
        fgd_best_fit::raw_score(&p, &gnode("b", 32_000, &[1000; 2])),
        84
    );
    assert_eq!(
        fgd_best_fit::raw_score(&p, &gnode("c", 16_000, &[500])),
        100
    );
    assert_eq!(fgd_best_fit::normalize(&[34, 84, 100]), [0, 75, 100]);
    assert_eq!(fgd_best_fit::normalize(&[7, 7]), [0, 0]);
    assert!(fgd_best_fit::normalize(&[]).is_empty());
    let mut c = Cluster::new(vec![
        gnode("a", 64_000, &[1000; 8]),
        gnode("b", 32_000, &[1000; 2]),
        gnode("c", 16_000, &[500]),
    ]);
    let id = c.add(p);
    let mut s = FilterThenPick::with_gpu_share(fgd_best_fit::FgdBestFit).unwrap();
    assert_eq!(decide(&mut s, &c, id).map(|d| d.0), Some(NodeId(2)));
}

fn one_typical(cpu: i64, milli: i64) -> TypicalPods {
    TypicalPods {
        pods: vec![(
            PodShape {
                cpu_milli: cpu,
                gpu_milli: milli,
                num_gpu: 1,
                spec: String::new(),
            },
            1,
        )],
        total: 1,
    }
}

#[test]
fn fgd_scores() {
    let t = one_typical(1000, 500);
    // [300, 1000]: Frag = 300 (GPU 0 is unusable for the typical pod).
    // A 300-milli pod on GPU 0 → [0, 1000], Frag 0: σ(0.3) = 0.5744 → 57;
    // on GPU 1 → [300, 700], Frag 300: σ(0) → 50.
    let n = gnode("a", 8000, &[300, 1000]);
    assert_eq!(fgd::score(&gpod("p", 1000, 1, 300), &n, &t), (57, Some(0)));
    // [1000, 700] and a 500-milli pod: GPU 0 → Frag 0 → 50; GPU 1 → [1000,
    // 200], Frag 200: σ(−0.2) = 0.4502 → 45. GPU 0 wins (best fit would
    // take GPU 1).
    let n2 = gnode("b", 8000, &[1000, 700]);
    assert_eq!(fgd::score(&gpod("p", 1000, 1, 500), &n2, &t), (50, Some(0)));
    // A whole-GPU pod on [300, 1000]: after [300, 0] the typical pod no
    // longer fits: f = F = 300, unchanged → 50.
    assert_eq!(fgd::score(&gpod("w", 1000, 1, 1000), &n, &t), (50, None));
    // A CPU-only pod taking the last CPU: after, f = F = 1300:
    // σ((300 − 1300)/1000) = σ(−1) = 0.2689 → 26.
    let n3 = gnode("c", 1000, &[300, 1000]);
    assert_eq!(fgd::score(&gpod("c", 1000, 0, 0), &n3, &t), (26, None));
    assert_eq!(
        fgd::gradient_score(
            crate::model::gpu::Frag { num: 0, den: 0 },
            crate::model::gpu::Frag { num: 0, den: 0 }
        ),
        50
    );
}

#[test]
fn fgd_picks_node_and_gpu() {
    // Typical pods come from the view: two 500-milli pods and this one.
    let mut c = Cluster::new(vec![
        gnode("b", 8000, &[1000, 700]),
        gnode("a", 8000, &[300, 1000]),
    ]);
    c.add(gpod("t1", 1000, 1, 500));
    c.add(gpod("t2", 1000, 1, 500));
    c.add(gpod("t3", 1000, 1, 500));
    let id = c.add(gpod("p", 1000, 1, 300));
    // Typical: (1000, 500) ×3 and (1000, 300) ×1: 3 of 4 = 75% < 95%, so
    // both are kept. Node b: GPU 0 → [700, 700]: Frag 0 → 50; GPU 1 →
    // [1000, 400]: (3·400 + 0)/4 = 300 → σ(−0.3) → 42. Node a: Frag =
    // 3·300/4 = 225; GPU 0 → [0, 1000]: 0 → σ(0.225) = 0.556 → 55.
    let mut s = FilterThenPick::with_gpu_share(fgd::Fgd::default()).unwrap();
    assert_eq!(decide(&mut s, &c, id), Some((NodeId(1), vec![0])));
}

#[test]
fn gpu_random_is_uniform_over_fitting_gpus() {
    let mut c = Cluster::new(vec![gnode("a", 8000, &[1000, 300, 1000, 800])]);
    let id = c.add(gpod("p", 1000, 1, 500));
    let whole = c.add(gpod("w", 1000, 1, 1000));
    let mut s = FilterThenPick::with_gpu_share(gpu_random::GpuRandom).unwrap();
    let mut r = rng();
    let mut counts = [0; 4];
    for _ in 0..300 {
        match s.schedule(id, &c.view(), &mut r, false).decision {
            Decision::Bind { gpus, .. } => counts[gpus[0] as usize] += 1,
            d => panic!("{d:?}"),
        }
    }
    assert_eq!(counts[1], 0, "GPU 1 has too little free milli");
    for i in [0, 2, 3] {
        assert!((60..=140).contains(&counts[i]), "{counts:?}");
    }
    // Whole-GPU pods: the World's default (lowest-index fully free).
    assert_eq!(decide(&mut s, &c, whole), Some((NodeId(0), vec![])));
}

#[test]
fn gpu_share_filter_is_enabled_for_gpu_policies_only() {
    let mut c = Cluster::new(vec![gnode("cpu", 8000, &[]), gnode("t4", 8000, &[1000])]);
    let id = c.add(gpod("p", 1000, 1, 1000));
    for name in [
        "fgd",
        "fgd-bestfit",
        "dotprod",
        "gpu-packing",
        "gpu-clustering",
        "gpu-random",
    ] {
        let mut s = new(name, &SchedulerConfig::default()).unwrap().unwrap();
        assert_eq!(
            decide(s.as_mut(), &c, id).map(|d| d.0),
            Some(NodeId(1)),
            "{name}"
        );
    }
    // No node with a free GPU: unschedulable, with the filter's reason.
    c.nodes[1].gpus.as_mut().unwrap().free_milli[0] = 400;
    let mut s = new("dotprod", &SchedulerConfig::default())
        .unwrap()
        .unwrap();
    match s.schedule(id, &c.view(), &mut rng(), false).decision {
        Decision::Unschedulable { message, .. } => {
            assert!(message.contains("Insufficient GPU"), "{message}");
            assert!(message.contains("didn't have GPUs"), "{message}");
        }
        d => panic!("{d:?}"),
    }
}
