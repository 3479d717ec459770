//! GPU sharing as in the FGD study (Weng et al., USENIX ATC'23): a pod's
//! request for (fractions of) GPUs, a node's GPUs with their free milli,
//! the default best-fit GPU choice, and the fragmentation measure.
//!
//! Follows `/work/shared/traces/alibaba-gpu-v2023-openb/EXPERIMENT.md`:
//! - §1: the annotations the openb trace puts on pods
//!   (`alibabacloud.com/gpu-count`, `gpu-milli`, `gpu-card-model`); each GPU
//!   has 1000 milli;
//! - §3: GPU feasibility ([`fits`]);
//! - §4: the default ("best") GPU choice ([`best_fit_gpus`]);
//! - §5: typical pods ([`typical_pods`]) and the fragmentation measure
//!   ([`frag`]).
//!
//! Everything here is integer arithmetic. Typical-pod probabilities are kept
//! as exact rationals: `p_t = count_t / Σ_kept count`, so
//! `Frag(n) = Σ_t count_t · f(n,t) / Σ_kept count` is a [`Frag`] with an
//! `i128` numerator and the common denominator; differences of two `Frag`s
//! over the same typical pods are exact.

use std::collections::BTreeMap;

use super::node::Node;
use super::pod::Pod;

/// Milli-GPU in one whole GPU.
pub const GPU_MILLI: i64 = 1000;
/// The most GPUs a pod may request or a node may have.
pub const MAX_GPUS: u32 = 128;

/// Pod and node annotations of the openb trace.
pub const ANN_GPU_COUNT: &str = "alibabacloud.com/gpu-count";
pub const ANN_GPU_MILLI: &str = "alibabacloud.com/gpu-milli";
pub const ANN_GPU_MODEL: &str = "alibabacloud.com/gpu-card-model";

/// A pod's GPU request: `num_gpu` GPUs with `gpu_milli` free milli each,
/// on a node whose model is one of `models` (empty: any model).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GpuRequest {
    /// At least 1.
    pub num_gpu: u32,
    /// Per GPU, 1..=1000.
    pub gpu_milli: i64,
    /// Allowed models (the `|`-separated `gpu-card-model`); empty = any.
    pub models: Vec<String>,
}

impl GpuRequest {
    /// `R = num_gpu × gpu_milli`, the total milli requested.
    pub fn total_milli(&self) -> i64 {
        i64::from(self.num_gpu).saturating_mul(self.gpu_milli)
    }
    /// A GPU-sharing pod: one GPU, less than all of it (§4).
    pub fn is_sharing(&self) -> bool {
        self.num_gpu == 1 && self.gpu_milli < GPU_MILLI
    }
    /// Whether a node of this model may host the pod.
    pub fn allows_model(&self, model: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|m| m == model)
    }
    /// The spec string as the trace writes it (`V100M16|V100M32`).
    pub fn spec_string(&self) -> String {
        self.models.join("|")
    }
}

/// A node's GPUs: one model, and the free milli of each GPU (1000 when
/// nothing is bound there).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeGpus {
    pub model: String,
    pub free_milli: Vec<i64>,
}

impl NodeGpus {
    pub fn new(count: u32, model: &str) -> NodeGpus {
        NodeGpus {
            model: model.to_string(),
            free_milli: vec![GPU_MILLI; count as usize],
        }
    }
    /// `F = Σ_g free_g`, the node's idle GPU milli.
    pub fn idle(&self) -> i64 {
        self.free_milli.iter().sum()
    }
    pub fn capacity(&self) -> i64 {
        GPU_MILLI.saturating_mul(self.free_milli.len() as i64)
    }
}

/// Parses a `gpu-card-model` value: `|`-separated, no empty part. An
/// empty value means any model.
pub fn parse_models(v: &str) -> Result<Vec<String>, String> {
    if v.trim().is_empty() {
        return Ok(vec![]);
    }
    let mut out = Vec::new();
    for part in v.split('|') {
        let p = part.trim();
        if p.is_empty() {
            return Err(format!(
                "must be GPU models separated by '|' (e.g. V100M16|V100M32), found {v:?}"
            ));
        }
        out.push(p.to_string());
    }
    Ok(out)
}

/// Parses a GPU count annotation (0..=[`MAX_GPUS`]).
pub fn parse_count(v: &str) -> Result<u32, String> {
    match v.trim().parse::<u32>() {
        Ok(c) if c <= MAX_GPUS => Ok(c),
        _ => Err(format!(
            "must be an integer between 0 and {MAX_GPUS}, found {v:?}"
        )),
    }
}

/// Parses a per-GPU milli annotation (1..=1000).
pub fn parse_milli(v: &str) -> Result<i64, String> {
    match v.trim().parse::<i64>() {
        Ok(m) if (1..=GPU_MILLI).contains(&m) => Ok(m),
        _ => Err(format!(
            "must be an integer between 1 and {GPU_MILLI} (milli-GPU per GPU), found {v:?}"
        )),
    }
}

/// Why a node cannot host a pod's GPU request (§3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misfit {
    NoGpus,
    Model,
    Insufficient,
}

/// The number of GPUs with free ≥ `milli`.
pub fn count_fitting(free: &[i64], milli: i64) -> usize {
    free.iter().filter(|f| **f >= milli).count()
}

/// §3 GPU feasibility of `req` on a node with these GPUs.
pub fn fits(req: &GpuRequest, gpus: Option<&NodeGpus>) -> Result<(), Misfit> {
    let Some(g) = gpus.filter(|g| !g.free_milli.is_empty()) else {
        return Err(Misfit::NoGpus);
    };
    if !req.allows_model(&g.model) {
        return Err(Misfit::Model);
    }
    if count_fitting(&g.free_milli, req.gpu_milli) < req.num_gpu as usize {
        return Err(Misfit::Insufficient);
    }
    Ok(())
}

/// The default ("best fit") GPU choice (§4): walk the GPUs in ascending
/// free milli (lowest index first among equals) and take the first
/// `num_gpu` with free ≥ `gpu_milli`. For a sharing pod this is the GPU
/// with the smallest free ≥ request, first index on ties; whole-GPU pods
/// get the lowest-index fully free GPUs. `None` if too few GPUs fit.
/// The result is sorted by GPU index.
pub fn best_fit_gpus(free: &[i64], num_gpu: u32, milli: i64) -> Option<Vec<u32>> {
    let mut idx: Vec<u32> = (0..free.len() as u32).collect();
    idx.sort_by_key(|&i| (free[i as usize], i));
    let mut taken: Vec<u32> = idx
        .into_iter()
        .filter(|&i| free[i as usize] >= milli)
        .take(num_gpu as usize)
        .collect();
    if taken.len() < num_gpu as usize {
        return None;
    }
    taken.sort_unstable();
    Some(taken)
}

/// The default GPU choice for `pod` on `node` (empty for a pod without a
/// GPU request; `None` if it does not fit).
pub fn default_choice(pod: &Pod, node: &Node) -> Option<Vec<u32>> {
    let Some(req) = &pod.gpu else {
        return Some(vec![]);
    };
    fits(req, node.gpus.as_ref()).ok()?;
    best_fit_gpus(&node.gpus.as_ref()?.free_milli, req.num_gpu, req.gpu_milli)
}

/// Checks a policy's GPU choice: `num_gpu` distinct GPUs of the node, each
/// with free ≥ `gpu_milli`, the model allowed.
pub fn check_choice(pod: &Pod, node: &Node, ids: &[u32]) -> Result<(), String> {
    let Some(req) = &pod.gpu else {
        return if ids.is_empty() {
            Ok(())
        } else {
            Err("GPUs were chosen for a pod without a GPU request".to_string())
        };
    };
    let Some(g) = &node.gpus else {
        return Err(format!("node {} has no GPUs", node.name()));
    };
    if !req.allows_model(&g.model) {
        return Err(format!(
            "node {} has GPU model {:?}, not one of {:?}",
            node.name(),
            g.model,
            req.spec_string()
        ));
    }
    if ids.len() != req.num_gpu as usize {
        return Err(format!(
            "{} GPUs chosen for a pod that requests {}",
            ids.len(),
            req.num_gpu
        ));
    }
    for (k, &i) in ids.iter().enumerate() {
        if ids[..k].contains(&i) {
            return Err(format!("GPU {i} chosen twice"));
        }
        match g.free_milli.get(i as usize) {
            None => return Err(format!("node {} has no GPU {i}", node.name())),
            Some(f) if *f < req.gpu_milli => {
                return Err(format!(
                    "GPU {i} of node {} has {f} milli free, the pod needs {}",
                    node.name(),
                    req.gpu_milli
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// A typical pod's spec (§5): the grouping key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PodShape {
    pub cpu_milli: i64,
    /// 0 for CPU-only pods.
    pub gpu_milli: i64,
    /// 0 for CPU-only pods.
    pub num_gpu: u32,
    /// The `|`-joined models; empty = any.
    pub spec: String,
}

impl PodShape {
    pub fn of(pod: &Pod) -> PodShape {
        match &pod.gpu {
            Some(g) => PodShape {
                cpu_milli: pod.requests.cpu_m,
                gpu_milli: g.gpu_milli,
                num_gpu: g.num_gpu,
                spec: g.spec_string(),
            },
            None => PodShape {
                cpu_milli: pod.requests.cpu_m,
                gpu_milli: 0,
                num_gpu: 0,
                spec: String::new(),
            },
        }
    }
    fn is_cpu_only(&self) -> bool {
        self.num_gpu == 0 || self.gpu_milli <= 0
    }
    fn allows_model(&self, model: &str) -> bool {
        self.spec.is_empty() || self.spec.split('|').any(|m| m == model)
    }
}

/// The typical pods (§5) with integer weights: `p_t = count / total`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypicalPods {
    /// In §5 order (count descending, then cpu, gpu_milli, num_gpu, spec
    /// descending).
    pub pods: Vec<(PodShape, u64)>,
    /// Σ count over `pods` (the renormalising denominator).
    pub total: u64,
}

/// Counts pod shapes (the input of [`typical_pods_from_counts`]).
pub fn shape_counts<'a>(pods: impl IntoIterator<Item = &'a Pod>) -> BTreeMap<PodShape, u64> {
    let mut m = BTreeMap::new();
    for p in pods {
        *m.entry(PodShape::of(p)).or_insert(0u64) += 1;
    }
    m
}

/// §5 typical pods of `pods`: group by shape, sort, keep groups until the
/// cumulative count is at least 95% of all pods (`100·cum ≥ 95·all`, in
/// integers), renormalise.
pub fn typical_pods<'a>(pods: impl IntoIterator<Item = &'a Pod>) -> TypicalPods {
    typical_pods_from_counts(&shape_counts(pods))
}

/// [`typical_pods`] from shape counts.
pub fn typical_pods_from_counts(counts: &BTreeMap<PodShape, u64>) -> TypicalPods {
    let all: u128 = counts.values().map(|c| u128::from(*c)).sum();
    let mut groups: Vec<(PodShape, u64)> = counts.iter().map(|(s, c)| (s.clone(), *c)).collect();
    groups.sort_by(|(a, ca), (b, cb)| {
        cb.cmp(ca)
            .then(b.cpu_milli.cmp(&a.cpu_milli))
            .then(b.gpu_milli.cmp(&a.gpu_milli))
            .then(b.num_gpu.cmp(&a.num_gpu))
            .then(b.spec.cmp(&a.spec))
    });
    let mut out = TypicalPods::default();
    let mut cum: u128 = 0;
    for (s, c) in groups {
        if all > 0 && cum * 100 >= all * 95 {
            break;
        }
        cum += u128::from(c);
        out.total += c;
        out.pods.push((s, c));
    }
    out
}

/// A node's state as the fragmentation measure sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GpuNodeState<'a> {
    pub free_cpu: i64,
    /// `None`: a CPU-only node.
    pub model: Option<&'a str>,
    pub free: Vec<i64>,
}

impl<'a> GpuNodeState<'a> {
    pub fn of(node: &'a Node) -> GpuNodeState<'a> {
        let free_cpu = node.allocatable.cpu_m.saturating_sub(node.requested.cpu_m);
        match &node.gpus {
            Some(g) => GpuNodeState {
                free_cpu,
                model: Some(&g.model),
                free: g.free_milli.clone(),
            },
            None => GpuNodeState {
                free_cpu,
                model: None,
                free: vec![],
            },
        }
    }
    pub fn idle(&self) -> i64 {
        self.free.iter().sum()
    }
}

/// `Frag(n)` as an exact rational `num / den`, in milli-GPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frag {
    pub num: i128,
    pub den: u64,
}

impl Frag {
    /// The value as a float (0 when there are no typical pods).
    pub fn as_f64(self) -> f64 {
        if self.den == 0 {
            0.0
        } else {
            self.num as f64 / self.den as f64
        }
    }
}

/// `f(n,t)` of §5: the milli of `n`'s GPUs that task `t` could not use.
pub fn frag_of_task(n: &GpuNodeState, t: &PodShape) -> i64 {
    let idle = n.idle();
    if t.is_cpu_only() {
        return idle;
    }
    let Some(model) = n.model else {
        return idle;
    };
    if !t.allows_model(model) {
        return idle;
    }
    if count_fitting(&n.free, t.gpu_milli) >= t.num_gpu as usize && n.free_cpu >= t.cpu_milli {
        n.free.iter().filter(|f| **f < t.gpu_milli).sum()
    } else {
        idle
    }
}

/// `Frag(n) = Σ_t p_t · f(n,t)` (§5) for a node state.
pub fn frag_state(n: &GpuNodeState, typical: &TypicalPods) -> Frag {
    let num = typical
        .pods
        .iter()
        .map(|(t, c)| i128::from(*c) * i128::from(frag_of_task(n, t)))
        .sum();
    Frag {
        num,
        den: typical.total,
    }
}

/// `Frag(n)` (§5) of a node as it is.
pub fn frag(node: &Node, typical: &TypicalPods) -> Frag {
    frag_state(&GpuNodeState::of(node), typical)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pod::PodStatus;
    use crate::scheduler::policies::testutil;

    pub(crate) fn gpu_pod(name: &str, cpu: i64, num: u32, milli: i64, spec: &str) -> Pod {
        let mut p = testutil::pod("default", name, cpu, 0, 0);
        if num > 0 {
            p.gpu = Some(GpuRequest {
                num_gpu: num,
                gpu_milli: milli,
                models: parse_models(spec).unwrap(),
            });
        }
        p.status = PodStatus::default();
        p
    }

    #[test]
    fn parsing() {
        assert_eq!(parse_models("").unwrap(), Vec::<String>::new());
        assert_eq!(
            parse_models("V100M16|V100M32").unwrap(),
            ["V100M16", "V100M32"]
        );
        assert!(parse_models("A|").is_err());
        assert_eq!(parse_count("8"), Ok(8));
        assert!(parse_count("-1").is_err());
        assert!(parse_count("129").is_err());
        assert_eq!(parse_milli("1000"), Ok(1000));
        assert!(parse_milli("0").is_err());
        assert!(parse_milli("1001").is_err());
        assert!(parse_milli("x").is_err());
    }

    #[test]
    fn best_fit_choice() {
        // Smallest free ≥ request, first index on ties.
        assert_eq!(best_fit_gpus(&[1000, 300, 500, 300], 1, 300), Some(vec![1]));
        assert_eq!(best_fit_gpus(&[1000, 300, 500, 300], 1, 400), Some(vec![2]));
        // Whole GPUs: the lowest-index fully free ones.
        assert_eq!(
            best_fit_gpus(&[1000, 300, 1000, 1000], 2, 1000),
            Some(vec![0, 2])
        );
        assert_eq!(best_fit_gpus(&[1000, 300], 2, 1000), None);
        assert_eq!(best_fit_gpus(&[], 1, 1), None);
    }

    #[test]
    fn feasibility() {
        let g = NodeGpus {
            model: "T4".into(),
            free_milli: vec![200, 600],
        };
        let req = |n, m, s: &str| GpuRequest {
            num_gpu: n,
            gpu_milli: m,
            models: parse_models(s).unwrap(),
        };
        assert_eq!(fits(&req(1, 500, ""), Some(&g)), Ok(()));
        assert_eq!(fits(&req(1, 500, "A10|T4"), Some(&g)), Ok(()));
        assert_eq!(fits(&req(1, 500, "A10"), Some(&g)), Err(Misfit::Model));
        assert_eq!(fits(&req(2, 500, ""), Some(&g)), Err(Misfit::Insufficient));
        assert_eq!(fits(&req(1, 700, ""), Some(&g)), Err(Misfit::Insufficient));
        assert_eq!(fits(&req(1, 1, ""), None), Err(Misfit::NoGpus));
    }

    #[test]
    fn typical_pods_grouping_and_cut() {
        // 20 pods: A(cpu 1000, 1×500) ×10, B(cpu 2000, 1×1000) ×6,
        // C(cpu 4000, CPU-only) ×2, D(cpu 1000, CPU-only) ×2.
        let mut pods = vec![];
        for i in 0..10 {
            pods.push(gpu_pod(&format!("a{i}"), 1000, 1, 500, ""));
        }
        for i in 0..6 {
            pods.push(gpu_pod(&format!("b{i}"), 2000, 1, 1000, ""));
        }
        for i in 0..2 {
            pods.push(gpu_pod(&format!("c{i}"), 4000, 0, 0, ""));
            pods.push(gpu_pod(&format!("d{i}"), 1000, 0, 0, ""));
        }
        let t = typical_pods(&pods);
        // Cumulative: 10, 16, 18 (90% < 95%), 20 → all four groups kept;
        // C before D (same count, more CPU).
        let shapes: Vec<(i64, i64, u64)> = t
            .pods
            .iter()
            .map(|(s, c)| (s.cpu_milli, s.gpu_milli, *c))
            .collect();
        assert_eq!(
            shapes,
            [(1000, 500, 10), (2000, 1000, 6), (4000, 0, 2), (1000, 0, 2)]
        );
        assert_eq!(t.total, 20);
        // With 30 A pods: 30 of 40 → 75%, 36 → 90%, 38 → 95%: D is cut.
        for i in 10..30 {
            pods.push(gpu_pod(&format!("a{i}"), 1000, 1, 500, ""));
        }
        let t = typical_pods(&pods);
        assert_eq!(t.pods.len(), 3);
        assert_eq!(t.total, 38);
    }

    #[test]
    fn frag_on_a_hand_example() {
        // Typical pods: 3× (cpu 1000, 1×500), 1× (cpu 1000, 1×1000) → p = 3/4, 1/4.
        let typical = TypicalPods {
            pods: vec![
                (
                    PodShape {
                        cpu_milli: 1000,
                        gpu_milli: 500,
                        num_gpu: 1,
                        spec: String::new(),
                    },
                    3,
                ),
                (
                    PodShape {
                        cpu_milli: 1000,
                        gpu_milli: 1000,
                        num_gpu: 1,
                        spec: String::new(),
                    },
                    1,
                ),
            ],
            total: 4,
        };
        // GPUs free [300, 1000]: t1 fits (GPU 1), unusable = 300; t2 fits,
        // unusable = 300. Frag = (3·300 + 1·300)/4 = 300.
        let n = GpuNodeState {
            free_cpu: 2000,
            model: Some("T4"),
            free: vec![300, 1000],
        };
        let f = frag_state(&n, &typical);
        assert_eq!((f.num, f.den), (1200, 4));
        assert_eq!(f.as_f64(), 300.0);
        // GPUs free [300, 600]: t1 → 300; t2 does not fit → F = 900.
        // Frag = (900 + 900)/4 = 450.
        let n2 = GpuNodeState {
            free: vec![300, 600],
            ..n.clone()
        };
        assert_eq!(frag_state(&n2, &typical).num, 1800);
        // No CPU left: every task lacks CPU → F for each: 1300.
        let n3 = GpuNodeState {
            free_cpu: 0,
            ..n.clone()
        };
        assert_eq!(frag_state(&n3, &typical).num, 4 * 1300);
        // A model restriction the node does not meet → F.
        let mut typ2 = typical.clone();
        typ2.pods[0].0.spec = "A10|V100M16".into();
        assert_eq!(frag_state(&n, &typ2).num, 3 * 1300 + 300);
        // A CPU-only node: F = 0.
        let cpu_node = GpuNodeState {
            free_cpu: 1000,
            model: None,
            free: vec![],
        };
        assert_eq!(frag_state(&cpu_node, &typical).num, 0);
    }
}
