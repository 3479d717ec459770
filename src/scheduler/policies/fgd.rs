//! `fgd`: Fragmentation Gradient Descent (Weng et al., ATC'23;
//! EXPERIMENT.md §4 and §5, run flags `-FGD 1000 -gpusel FGD -dimext share
//! -norm max`), behind the GpuShare filter.
//!
//! With `Frag(n)` the fragmentation measure of §5 over the typical pods
//! ([`crate::model::gpu::frag_state`]) and `σ(x) = 1/(1 + e^(−x))`:
//!
//! - sharing pod (num_gpu = 1, gpu_milli < 1000): for each GPU `i` with
//!   free ≥ request, `n'_i` = the node minus the pod's CPU and minus the
//!   request on GPU `i`; `s_i = int64(100·σ((Frag(n) − Frag(n'_i))/1000))`;
//!   node score `max_i s_i`, and the GPU chosen is the first `i` attaining
//!   it;
//! - any other pod: `n'` = the node minus the pod's CPU and its GPUs taken
//!   best fit (ascending free, lowest index first; whole-GPU pods: the
//!   lowest-index fully free GPUs), score
//!   `int64(100·σ((Frag(n) − Frag(n'))/1000))`; the GPUs are the World's
//!   default best-fit choice (the same GPUs).
//!
//! Ties between nodes go to node order.
//!
//! Arithmetic: `Frag` values are exact rationals `num/den` (integer
//! `num = Σ_t count_t·f(n,t)`, `den = Σ_kept count_t`), so the difference
//! `Frag(n) − Frag(n')` is exact as `(num − num')/den`; it is converted to
//! float64 once (`(num − num') as f64 / den as f64`), divided by 1000.0,
//! passed through `1.0/(1.0 + (−x).exp())`, multiplied by 100.0 and
//! truncated toward zero (Go `int64`). The reference sums float
//! probabilities instead, so a score sitting exactly on an integer
//! boundary could differ by one ulp-induced unit; kubesim's value is the
//! exact one.
//!
//! Typical pods: computed from every pod in the view (all pods created so
//! far, whatever their state), grouped by their CPU request and GPU request
//! ([`crate::model::gpu::PodShape`]). The policy keeps the shape counts and
//! recomputes the typical-pod list whenever the view holds more pods than
//! at the last cycle (pods are never removed from the view's table, so this
//! is exactly "when a pod was created"); in a scenario that creates every
//! pod at time 0 they are the original workload's typical pods, as in the
//! study.

use std::collections::BTreeMap;

use super::gpu_common::is_sharing;
use super::NodePicker;
use crate::engine::SimRng;
use crate::model::gpu::{
    best_fit_gpus, frag_state, shape_counts, typical_pods_from_counts, Frag, GpuNodeState,
    PodShape, TypicalPods,
};
use crate::model::{Node, NodeId, Pod, PodId};
use crate::scheduler::ClusterView;

/// `int64(100·σ((before − after)/1000))` for two `Frag`s over the same
/// typical pods.
pub fn gradient_score(before: Frag, after: Frag) -> i64 {
    let den = before.den.max(1);
    let diff = (before.num - after.num) as f64 / den as f64;
    let x = diff / 1000.0;
    let sigmoid = 1.0 / (1.0 + (-x).exp());
    (100.0 * sigmoid) as i64
}

/// The FGD node score and, for a sharing pod, the GPU attaining it.
pub fn score(pod: &Pod, node: &Node, typical: &TypicalPods) -> (i64, Option<u32>) {
    let n = GpuNodeState::of(node);
    let before = frag_state(&n, typical);
    let mut after = n.clone();
    after.free_cpu = after.free_cpu.saturating_sub(pod.requests.cpu_m);
    match &pod.gpu {
        Some(req) if is_sharing(pod) => {
            let mut best: Option<(i64, u32)> = None;
            for (i, f) in n.free.iter().enumerate() {
                if *f < req.gpu_milli {
                    continue;
                }
                let mut a = after.clone();
                a.free[i] -= req.gpu_milli;
                let s = gradient_score(before, frag_state(&a, typical));
                if best.is_none_or(|(b, _)| s > b) {
                    best = Some((s, i as u32));
                }
            }
            match best {
                Some((s, i)) => (s, Some(i)),
                None => (0, None),
            }
        }
        Some(req) => {
            if let Some(ids) = best_fit_gpus(&n.free, req.num_gpu, req.gpu_milli) {
                for i in ids {
                    after.free[i as usize] -= req.gpu_milli;
                }
            }
            (gradient_score(before, frag_state(&after, typical)), None)
        }
        None => (gradient_score(before, frag_state(&after, typical)), None),
    }
}

/// FGD with its typical-pod cache.
#[derive(Default)]
pub struct Fgd {
    counts: BTreeMap<PodShape, u64>,
    seen: usize,
    typical: TypicalPods,
}

impl Fgd {
    /// Brings the typical pods up to date with the pods in the view.
    fn refresh(&mut self, view: &ClusterView) {
        let n = view.pods.len();
        if n < self.seen {
            self.counts.clear();
            self.seen = 0;
        }
        if n == self.seen && !self.typical.pods.is_empty() {
            return;
        }
        for (s, c) in shape_counts(&view.pods[self.seen..]) {
            *self.counts.entry(s).or_insert(0) += c;
        }
        self.seen = n;
        self.typical = typical_pods_from_counts(&self.counts);
    }

    /// The typical pods the last cycle used.
    pub fn typical(&self) -> &TypicalPods {
        &self.typical
    }
}

impl NodePicker for Fgd {
    fn name(&self) -> &'static str {
        "fgd"
    }
    fn pick(
        &mut self,
        pod: PodId,
        feasible: &[NodeId],
        view: &ClusterView,
        _rng: &mut SimRng,
    ) -> Option<NodeId> {
        self.refresh(view);
        let pod = view.pod(pod);
        let typical = &self.typical;
        super::first_max_by_key(feasible, |n| score(pod, view.node(n), typical).0)
    }
    fn pick_gpus(
        &mut self,
        pod: PodId,
        node: NodeId,
        view: &ClusterView,
        _rng: &mut SimRng,
    ) -> Vec<u32> {
        self.refresh(view);
        let pod = view.pod(pod);
        if !is_sharing(pod) {
            return vec![];
        }
        score(pod, view.node(node), &self.typical)
            .1
            .into_iter()
            .collect()
    }
}
