//! `dotprod`: the FGD study's DotProd baseline (Tetris-style packing,
//! EXPERIMENT.md §4, run flags `-DotProd 1000 -gpusel best -dimext merge
//! -norm max`), behind the GpuShare filter.
//!
//! Node score, in float64 with the reference's operation order, then Go's
//! `int64` truncation:
//!
//! ```text
//! dot   = 0 + (free_cpu/128000)·(cpu/128000) + (F/8000)·(R/8000)
//! score = int64(100 · (1 − dot/2))
//! ```
//!
//! where `free_cpu` is the node's free CPU before placing, `F` its idle GPU
//! milli and `R = num_gpu × gpu_milli`. It prefers the smallest dot
//! product; ties go to node order. GPU choice: the World's best fit.

use super::gpu_common::{free_cpu, idle, pick_max, total_request, MAX_SPEC_CPU, MAX_SPEC_GPU};
use super::NodePicker;
use crate::engine::SimRng;
use crate::model::{Node, NodeId, Pod, PodId};
use crate::scheduler::ClusterView;

/// The DotProd node score.
pub fn score(pod: &Pod, node: &Node) -> i64 {
    let node_vec = [
        free_cpu(node) as f64 / MAX_SPEC_CPU as f64,
        idle(node) as f64 / MAX_SPEC_GPU as f64,
    ];
    let pod_vec = [
        pod.requests.cpu_m as f64 / MAX_SPEC_CPU as f64,
        total_request(pod) as f64 / MAX_SPEC_GPU as f64,
    ];
    let mut dot = 0.0f64;
    for (a, b) in node_vec.iter().zip(pod_vec.iter()) {
        dot += a * b;
    }
    let s = 1.0 - dot / 2.0;
    (100.0 * s) as i64
}

pub struct DotProd;

impl NodePicker for DotProd {
    fn name(&self) -> &'static str {
        "dotprod"
    }
    fn pick(
        &mut self,
        pod: PodId,
        feasible: &[NodeId],
        view: &ClusterView,
        _rng: &mut SimRng,
    ) -> Option<NodeId> {
        let pod = view.pod(pod);
        pick_max(feasible, |n| score(pod, view.node(n)))
    }
}
