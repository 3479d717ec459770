//! `fgd-bestfit`: the FGD study's BestFit baseline (EXPERIMENT.md §4, run
//! flag `-BestFit 1000`), behind the GpuShare filter. Not kubesim's
//! `best-fit` (which packs every requested resource in parts per million).
//!
//! Raw score, in float64 with the reference's operation order and Go's
//! `int64` truncation:
//!
//! ```text
//! s   = 0 + (free_cpu − cpu)/128000·0.5 + (F − R)/8000·0.5
//! raw = int64((1 − s)·100)
//! ```
//!
//! then min–max normalised over the feasible nodes in integers:
//! `(raw − min)·100/(max − min)`, all 0 when every raw score is equal.
//! CPU-only pods (R = 0) also prefer nodes with little idle GPU. Ties go to
//! node order (normalisation keeps the order of raw scores, so the
//! normalised maximum is the raw maximum). GPU choice: the World's best fit.

use super::gpu_common::{free_cpu, idle, total_request, MAX_SPEC_CPU, MAX_SPEC_GPU};
use super::NodePicker;
use crate::engine::SimRng;
use crate::model::{Node, NodeId, Pod, PodId};
use crate::scheduler::ClusterView;

/// The raw (un-normalised) BestFit score.
pub fn raw_score(pod: &Pod, node: &Node) -> i64 {
    let free = [free_cpu(node) as f64, idle(node) as f64];
    let req = [pod.requests.cpu_m as f64, total_request(pod) as f64];
    let max_spec = [MAX_SPEC_CPU as f64, MAX_SPEC_GPU as f64];
    let weights = [0.5f64, 0.5];
    let mut s = 0.0f64;
    for i in 0..2 {
        s += (free[i] - req[i]) / max_spec[i] * weights[i];
    }
    ((1.0 - s) * 100.0) as i64
}

/// Min–max normalisation of raw scores to 0..=100 (integers).
pub fn normalize(raw: &[i64]) -> Vec<i64> {
    let (Some(&min), Some(&max)) = (raw.iter().min(), raw.iter().max()) else {
        return vec![];
    };
    if max == min {
        return vec![0; raw.len()];
    }
    let span = i128::from(max) - i128::from(min);
    raw.iter()
        .map(|&r| ((i128::from(r) - i128::from(min)) * 100 / span) as i64)
        .collect()
}

pub struct FgdBestFit;

impl NodePicker for FgdBestFit {
    fn name(&self) -> &'static str {
        "fgd-bestfit"
    }
    fn pick(
        &mut self,
        pod: PodId,
        feasible: &[NodeId],
        view: &ClusterView,
        _rng: &mut SimRng,
    ) -> Option<NodeId> {
        let pod = view.pod(pod);
        let raw: Vec<i64> = feasible
            .iter()
            .map(|&n| raw_score(pod, view.node(n)))
            .collect();
        let norm = normalize(&raw);
        let mut best: Option<(NodeId, i64)> = None;
        for (&n, &s) in feasible.iter().zip(&norm) {
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((n, s));
            }
        }
        best.map(|(n, _)| n)
    }
}
