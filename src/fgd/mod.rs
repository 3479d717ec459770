//! The FGD study (Weng et al., USENIX ATC'23) as its authors ran it, on
//! the openb trace: a dedicated fast path for EXPERIMENT.md's model (one
//! placement per pod in sequence, no queue, no retry, no departures) that
//! scores with the same policy code as the simulator
//! (`scheduler::policies::{fgd, fgd_best_fit, dot_prod, gpu_packing,
//! gpu_clustering, gpu_random}`) and measures fragmentation with
//! `model::gpu::frag`. [`report`] aggregates runs as the paper does.
//!
//! One run (EXPERIMENT.md §2):
//! 1. typical pods from the original, name-sorted pod list (§5);
//! 2. the originals in a per-seed random order (Fisher–Yates over the
//!    name-sorted list, stream `fgd-order`);
//! 3. inflation: clones drawn uniformly with replacement from the
//!    name-sorted list (stream `fgd-clones`) and appended while
//!    `current + clone.gpu_milli ≤ tune × capacity` (the per-GPU milli, as
//!    the reference checks it), `current += num_gpu × gpu_milli`;
//! 4. a per-seed node order: node *i* (by name) gets rank `perm[i]` of a
//!    random permutation (stream `fgd-nodes`); ties between nodes go to
//!    the lowest rank;
//! 5. each pod is filtered (free CPU, free memory, pod count, §3 GPU
//!    feasibility), scored by the policy, bound to the best node with the
//!    policy's GPU choice, or dropped; after each pod the arrived and used
//!    GPU milli, the fragmentation amount Σ_n Frag(n) (exact rational) and
//!    the idle milli are recorded.
//!
//! Speed: a score depends only on the pod's shape (CPU, memory, GPU
//! request) and the node's state, so each (shape, node) score is cached
//! with the node's `generation` and recomputed only after that node
//! changed; each node's Frag is cached the same way. `gpu-random` draws
//! from the `policy` stream exactly as the simulator's picker does.

pub mod report;

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::{SimRng, SimTime};
use crate::model::gpu::{self, typical_pods, TypicalPods};
use crate::model::pod::PodBehavior;
use crate::model::{Labels, Node, NodeId, Pod, PodId, PodPhase};
use crate::scheduler::policies::{
    dot_prod, fgd, fgd_best_fit, gpu_clustering, gpu_packing, gpu_random, NodePicker,
};
use crate::scheduler::ClusterView;
use crate::trace::{replay, TraceNode, TracePod};

/// The six policies of the study, by their kubesim names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Policy {
    Random,
    DotProd,
    GpuClustering,
    GpuPacking,
    BestFit,
    Fgd,
}

impl Policy {
    pub const ALL: [Policy; 6] = [
        Policy::Random,
        Policy::DotProd,
        Policy::GpuClustering,
        Policy::GpuPacking,
        Policy::BestFit,
        Policy::Fgd,
    ];
    /// The simulator's policy name.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Random => "gpu-random",
            Policy::DotProd => "dotprod",
            Policy::GpuClustering => "gpu-clustering",
            Policy::GpuPacking => "gpu-packing",
            Policy::BestFit => "fgd-bestfit",
            Policy::Fgd => "fgd",
        }
    }
    /// The paper's label.
    pub fn paper_name(self) -> &'static str {
        match self {
            Policy::Random => "Random",
            Policy::DotProd => "DotProd",
            Policy::GpuClustering => "Clustering",
            Policy::GpuPacking => "Packing",
            Policy::BestFit => "BestFit",
            Policy::Fgd => "FGD",
        }
    }
    pub fn parse(s: &str) -> Result<Policy, String> {
        Policy::ALL
            .into_iter()
            .find(|p| p.name() == s || p.paper_name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown FGD-study policy {s:?}; valid: {}",
                    Policy::ALL.map(Policy::name).join(", ")
                )
            })
    }
}

/// The inputs of the study: the GPU-node list and one pod list.
#[derive(Clone, Debug)]
pub struct Workload {
    pub nodes: Vec<TraceNode>,
    pub pods: Vec<TracePod>,
}

/// What happened after one pod (EXPERIMENT.md §2 step 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point {
    /// Σ num_gpu × gpu_milli over the pods tried so far.
    pub arrived_milli: i64,
    /// Σ over nodes of capacity − free GPU milli.
    pub used_milli: i64,
    /// Σ_n Frag(n) × `frag_den` (exact).
    pub frag_num: i128,
    /// Σ_n idle GPU milli.
    pub idle_milli: i64,
    pub placed: bool,
}

/// One (policy, seed) run.
#[derive(Clone, Debug)]
pub struct RunOutput {
    pub policy: Policy,
    pub seed: u64,
    pub capacity_milli: i64,
    /// Common denominator of the Frag values (Σ kept typical-pod counts).
    pub frag_den: u64,
    pub originals: usize,
    pub clones: usize,
    pub points: Vec<Point>,
}

impl RunOutput {
    pub fn placed(&self) -> usize {
        self.points.iter().filter(|p| p.placed).count()
    }
    /// Arrived GPU milli (in ‰ of capacity) at the first failed GPU pod.
    pub fn first_gpu_failure(&self) -> Option<i64> {
        let mut prev = 0;
        for p in &self.points {
            if !p.placed && p.arrived_milli > prev {
                return Some(p.arrived_milli);
            }
            prev = p.arrived_milli;
        }
        None
    }
}

/// The inflation factor of the study: 130% of GPU capacity.
pub const TUNE_PPM: u64 = 1_300_000;

fn shuffle<T>(v: &mut [T], rng: &mut SimRng) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

/// A pod's shape for the score cache: everything a filter or score reads.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ShapeKey {
    cpu: i64,
    mem: i64,
    gpu: Option<gpu::GpuRequest>,
}

#[derive(Clone, Copy)]
struct Cached {
    /// The node's generation when computed (`u64::MAX`: never).
    gen: u64,
    feasible: bool,
    score: i64,
    /// FGD's GPU for a sharing pod.
    gpu: Option<u32>,
}

const UNSET: Cached = Cached {
    gen: u64::MAX,
    feasible: false,
    score: 0,
    gpu: None,
};

/// §3 feasibility (the study's filters).
fn feasible(pod: &Pod, node: &Node) -> bool {
    let free_cpu = node.allocatable.cpu_m - node.requested.cpu_m;
    let free_mem = node.allocatable.memory - node.requested.memory;
    if pod.requests.cpu_m > free_cpu || pod.requests.memory > free_mem {
        return false;
    }
    if node.allocatable.pods > 0 && node.pods.len() as i64 >= node.allocatable.pods {
        return false;
    }
    match &pod.gpu {
        Some(req) => gpu::fits(req, node.gpus.as_ref()).is_ok(),
        None => true,
    }
}

/// Runs one (policy, seed).
pub fn run(w: &Workload, policy: Policy, seed: u64, tune_ppm: u64) -> RunOutput {
    match run_inner(w, policy, seed, tune_ppm, false) {
        Ok(r) => r,
        // Unreachable: only verification reports errors.
        Err(_) => RunOutput {
            policy,
            seed,
            capacity_milli: 0,
            frag_den: 0,
            originals: 0,
            clones: 0,
            points: vec![],
        },
    }
}

/// Like [`run`], and also asks the simulator's own policy
/// (`scheduler::new_policy`, upstream's filters plus GpuShare) for every
/// pod and checks that it chooses the same node and GPUs: an error names
/// the first pod where they differ. (For `fgd` the simulator computes
/// typical pods from every pod it has seen, so the two agree only when
/// there are no clones: use a `tune_ppm` at or below the workload's load.)
pub fn run_verified(
    w: &Workload,
    policy: Policy,
    seed: u64,
    tune_ppm: u64,
) -> Result<RunOutput, String> {
    run_inner(w, policy, seed, tune_ppm, true)
}

fn run_inner(
    w: &Workload,
    policy: Policy,
    seed: u64,
    tune_ppm: u64,
    verify: bool,
) -> Result<RunOutput, String> {
    let behavior = PodBehavior {
        startup: crate::engine::Duration::ZERO,
        run: None,
        exit_code: 0,
        shutdown: crate::engine::Duration::ZERO,
        ..Default::default()
    };
    // 1. Originals by name; typical pods.
    let mut orig: Vec<&TracePod> = w.pods.iter().collect();
    orig.sort_by(|a, b| a.name.cmp(&b.name));
    let orig_pods: Vec<Pod> = orig
        .iter()
        .map(|tp| replay::pod(tp, tp.name.clone(), None, &behavior))
        .collect();
    let typical: TypicalPods = typical_pods(&orig_pods);
    // 2. Shuffled arrivals.
    let mut order: Vec<usize> = (0..orig_pods.len()).collect();
    shuffle(&mut order, &mut SimRng::derive(seed, "fgd-order"));
    // 3. Inflation.
    let mut nodes: Vec<Node> = {
        let mut ns: Vec<&TraceNode> = w.nodes.iter().collect();
        ns.sort_by(|a, b| a.name.cmp(&b.name));
        ns.into_iter().map(replay::node).collect()
    };
    let capacity: i64 = nodes
        .iter()
        .map(|n| n.gpus.as_ref().map_or(0, |g| g.capacity()))
        .sum();
    let target = i128::from(capacity) * i128::from(tune_ppm) / 1_000_000;
    let total = |p: &Pod| p.gpu.as_ref().map_or(0, |g| g.total_milli());
    let mut current: i128 = orig_pods.iter().map(|p| i128::from(total(p))).sum();
    let mut clones: Vec<usize> = Vec::new();
    let any_gpu = orig_pods.iter().any(|p| p.gpu.is_some());
    let mut crng = SimRng::derive(seed, "fgd-clones");
    // Guard: a list whose GPU pods cannot reach the target stops anyway
    // (every GPU draw adds ≥ 1), and the cap bounds the CPU-only draws.
    let cap = 100 * orig_pods.len() + 1_000_000;
    while any_gpu && !orig_pods.is_empty() && clones.len() < cap {
        let k = crng.below(orig_pods.len() as u64) as usize;
        let c = &orig_pods[k];
        let per_gpu = c.gpu.as_ref().map_or(0, |g| g.gpu_milli);
        if current + i128::from(per_gpu) > target {
            break;
        }
        current += i128::from(total(c));
        clones.push(k);
    }
    let mut pods: Vec<Pod> = Vec::with_capacity(order.len() + clones.len());
    for &i in &order {
        pods.push(orig_pods[i].clone());
    }
    for (n, &k) in clones.iter().enumerate() {
        let mut p = orig_pods[k].clone();
        p.meta.name = format!("{}-clone-{n}", p.meta.name);
        pods.push(p);
    }
    // 4. Node order.
    let mut perm: Vec<u32> = (0..nodes.len() as u32).collect();
    shuffle(&mut perm, &mut SimRng::derive(seed, "fgd-nodes"));
    let mut node_order: Vec<NodeId> = (0..nodes.len() as u32).map(NodeId).collect();
    node_order.sort_by_key(|n| perm[n.0 as usize]);

    // Shapes.
    let mut shape_ids: BTreeMap<ShapeKey, usize> = BTreeMap::new();
    let pod_shape: Vec<usize> = pods
        .iter()
        .map(|p| {
            let k = ShapeKey {
                cpu: p.requests.cpu_m,
                mem: p.requests.memory,
                gpu: p.gpu.clone(),
            };
            let n = shape_ids.len();
            *shape_ids.entry(k).or_insert(n)
        })
        .collect();
    let nn = nodes.len();
    let mut cache: Vec<Cached> = vec![UNSET; shape_ids.len() * nn];

    // Fragmentation state.
    let mut node_frag: Vec<i128> = nodes.iter().map(|n| gpu::frag(n, &typical).num).collect();
    let mut frag_num: i128 = node_frag.iter().sum();
    let mut idle: i64 = capacity;
    let mut arrived: i64 = 0;

    let empty_ns: BTreeMap<String, Labels> = BTreeMap::new();
    let empty_images = BTreeMap::new();
    let empty_nom = BTreeMap::new();
    let empty_set = BTreeSet::new();
    let mut policy_rng = SimRng::derive(seed, "policy");
    let mut sim = if verify {
        Some((
            crate::scheduler::new_policy(policy.name(), &Default::default())?,
            SimRng::derive(seed, "policy"),
        ))
    } else {
        None
    };
    let mut picker = gpu_random::GpuRandom;

    let mut points = Vec::with_capacity(pods.len());
    let mut feas: Vec<NodeId> = Vec::with_capacity(nn);
    let mut scores: Vec<i64> = Vec::with_capacity(nn);
    for pi in 0..pods.len() {
        let pid = PodId(pi as u32);
        let shape = pod_shape[pi];
        feas.clear();
        scores.clear();
        {
            let pod = &pods[pi];
            let row = &mut cache[shape * nn..(shape + 1) * nn];
            for &n in &node_order {
                let node = &nodes[n.0 as usize];
                let c = &mut row[n.0 as usize];
                if c.gen != node.generation {
                    let f = feasible(pod, node);
                    let (score, g) = if !f {
                        (0, None)
                    } else {
                        match policy {
                            Policy::Random => (0, None),
                            Policy::DotProd => (dot_prod::score(pod, node), None),
                            Policy::GpuPacking => (gpu_packing::score(pod, node), None),
                            Policy::GpuClustering => {
                                (gpu_clustering::score(pod, node, &pods), None)
                            }
                            Policy::BestFit => (fgd_best_fit::raw_score(pod, node), None),
                            Policy::Fgd => fgd::score(pod, node, &typical),
                        }
                    };
                    *c = Cached {
                        gen: node.generation,
                        feasible: f,
                        score,
                        gpu: g,
                    };
                }
                if c.feasible {
                    feas.push(n);
                    scores.push(c.score);
                }
            }
        }
        let pod_total = total(&pods[pi]);
        arrived += pod_total;
        let chosen: Option<(NodeId, Vec<u32>)> = if feas.is_empty() {
            None
        } else {
            match policy {
                Policy::Random => {
                    let view = ClusterView {
                        nodes: &nodes,
                        pods: &pods,
                        namespaces: &empty_ns,
                        image_nodes: &empty_images,
                        node_order: &node_order,
                        nominated: &empty_nom,
                        waiting: &[],
                        nodes_with_affinity: &empty_set,
                        nodes_with_required_anti_affinity: &empty_set,
                        pod_changes: None,
                        pdbs: &[],
                        now: SimTime::ZERO,
                    };
                    picker.pick(pid, &feas, &view, &mut policy_rng).map(|n| {
                        let g = picker.pick_gpus(pid, n, &view, &mut policy_rng);
                        (n, g)
                    })
                }
                _ => {
                    let keyed: Vec<i64> = if policy == Policy::BestFit {
                        fgd_best_fit::normalize(&scores)
                    } else {
                        std::mem::take(&mut scores)
                    };
                    let mut best: Option<(usize, i64)> = None;
                    for (i, &s) in keyed.iter().enumerate() {
                        if best.is_none_or(|(_, b)| s > b) {
                            best = Some((i, s));
                        }
                    }
                    best.map(|(i, _)| {
                        let n = feas[i];
                        let g = if policy == Policy::Fgd {
                            cache[shape * nn + n.0 as usize].gpu.map(|g| vec![g])
                        } else {
                            None
                        };
                        (n, g.unwrap_or_default())
                    })
                }
            }
        };
        if let Some((sp, srng)) = sim.as_mut() {
            let view = ClusterView {
                nodes: &nodes,
                pods: &pods,
                namespaces: &empty_ns,
                image_nodes: &empty_images,
                node_order: &node_order,
                nominated: &empty_nom,
                waiting: &[],
                nodes_with_affinity: &empty_set,
                nodes_with_required_anti_affinity: &empty_set,
                pod_changes: None,
                pdbs: &[],
                now: SimTime::ZERO,
            };
            let got = match sp.schedule(pid, &view, srng, false).decision {
                crate::scheduler::Decision::Bind { node, gpus, .. } => Some((node, gpus)),
                _ => None,
            };
            let norm = |c: &Option<(NodeId, Vec<u32>)>| {
                c.as_ref().map(|(n, g)| {
                    let g = if g.is_empty() {
                        gpu::default_choice(&pods[pi], &nodes[n.0 as usize]).unwrap_or_default()
                    } else {
                        g.clone()
                    };
                    (*n, g)
                })
            };
            if norm(&got) != norm(&chosen) {
                return Err(format!(
                    "pod {} ({}): the fast path chose {:?}, the simulator's policy {:?}",
                    pi,
                    pods[pi].meta.name,
                    norm(&chosen),
                    norm(&got)
                ));
            }
        }
        let mut placed = false;
        if let Some((n, mut ids)) = chosen {
            let node = &nodes[n.0 as usize];
            if ids.is_empty() {
                ids = gpu::default_choice(&pods[pi], node).unwrap_or_default();
            }
            if gpu::check_choice(&pods[pi], node, &ids).is_ok() {
                let p = &mut pods[pi];
                p.status.gpu_ids = ids;
                p.status.node = Some(n);
                p.status.phase = Some(PodPhase::Running);
                let node = &mut nodes[n.0 as usize];
                node.add_pod(pid, &pods[pi]);
                idle -= pod_total;
                let f = gpu::frag(node, &typical).num;
                frag_num += f - node_frag[n.0 as usize];
                node_frag[n.0 as usize] = f;
                placed = true;
            }
        }
        points.push(Point {
            arrived_milli: arrived,
            used_milli: capacity - idle,
            frag_num,
            idle_milli: idle,
            placed,
        });
    }
    Ok(RunOutput {
        policy,
        seed,
        capacity_milli: capacity,
        frag_den: typical.total,
        originals: order.len(),
        clones: clones.len(),
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Resources;

    fn node(name: &str, gpus: u32) -> TraceNode {
        let mut c = Resources::new(64_000, 256 << 30);
        c.pods = 1001;
        TraceNode {
            name: name.into(),
            capacity: c,
            gpus: Some((gpus, "G2".into())),
            labels: Default::default(),
        }
    }

    fn pod(name: &str, num: u32, milli: i64) -> TracePod {
        let mut p = TracePod::new(name.into(), Resources::new(1000, 1 << 30));
        p.gpu = Some(gpu::GpuRequest {
            num_gpu: num,
            gpu_milli: milli,
            models: vec![],
        });
        p
    }

    fn small() -> Workload {
        Workload {
            nodes: (0..4).map(|i| node(&format!("n{i}"), 2)).collect(),
            pods: (0..10)
                .map(|i| pod(&format!("p{i}"), 1, [500, 1000, 300][i % 3]))
                .collect(),
        }
    }

    #[test]
    fn every_policy_runs_and_inflates_to_the_target() {
        let w = small();
        for p in Policy::ALL {
            let r = run(&w, p, 42, TUNE_PPM);
            assert_eq!(r.capacity_milli, 8000);
            let last = r.points.last().unwrap();
            // Stops within one per-GPU request of 130%.
            assert!(last.arrived_milli <= 10_400, "{p:?} {last:?}");
            assert!(last.arrived_milli > 10_400 - 1000, "{p:?} {last:?}");
            assert_eq!(r.originals + r.clones, r.points.len());
            // Used milli never exceeds capacity and idle + used = capacity.
            for pt in &r.points {
                assert_eq!(pt.used_milli + pt.idle_milli, 8000);
                assert!(pt.used_milli <= pt.arrived_milli);
            }
            // Deterministic.
            let again = run(&w, p, 42, TUNE_PPM);
            assert_eq!(again.points, r.points);
        }
    }

    #[test]
    fn fast_path_chooses_what_the_simulator_policy_chooses() {
        // Mixed shapes, more pods than fit, so scores, ties, failures and
        // the cache all matter.
        let mut w = small();
        w.pods = (0..40)
            .map(|i| {
                let mut p = pod(
                    &format!("p{i:02}"),
                    [1, 1, 2, 1][i % 4],
                    [500, 1000, 1000, 250][i % 4],
                );
                p.requests.cpu_m = [1000, 4000, 8000][i % 3];
                if i % 7 == 0 {
                    p.gpu = None;
                }
                p
            })
            .collect();
        for p in Policy::ALL {
            for seed in [1, 2] {
                // No clones (tune 0), so fgd's typical pods agree.
                let r = run_verified(&w, p, seed, 0).unwrap_or_else(|e| panic!("{p:?}: {e}"));
                assert_eq!(r.clones, 0);
                assert!(r.placed() > 5 && r.placed() < 40, "{p:?}: {}", r.placed());
                // And the fast path without verification gives the same run.
                assert_eq!(run(&w, p, seed, 0).points, r.points);
            }
        }
    }
}
