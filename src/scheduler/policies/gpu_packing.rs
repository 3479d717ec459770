//! `gpu-packing`: the FGD study's GpuPacking baseline (EXPERIMENT.md §4),
//! behind the GpuShare filter. Integer scores:
//!
//! - CPU-only pod: 0;
//! - every GPU of the node fully free: `max(33 − nFree, nFree)` (nFree =
//!   the number of GPUs);
//! - otherwise walk the GPUs in ascending free order (lowest index first
//!   among equals), taking those with free ≥ gpu_milli until num_gpu are
//!   taken. If any taken GPU is fully free: `max(50 − nFullyFreeTaken, 33)`;
//!   else `max(100 − (Σ_taken ⌊free_g·100/1000⌋)/10, 50)` (integer division).
//!
//! Ties go to node order. GPU choice: the World's best fit.

use super::gpu_common::pick_max;
use super::NodePicker;
use crate::engine::SimRng;
use crate::model::gpu::GPU_MILLI;
use crate::model::{Node, NodeId, Pod, PodId};
use crate::scheduler::ClusterView;

/// The GpuPacking node score.
pub fn score(pod: &Pod, node: &Node) -> i64 {
    let (Some(req), Some(g)) = (&pod.gpu, &node.gpus) else {
        return 0;
    };
    let free = &g.free_milli;
    let n = free.len() as i64;
    if free.iter().all(|f| *f == GPU_MILLI) {
        return (33 - n).max(n);
    }
    let mut idx: Vec<usize> = (0..free.len()).collect();
    idx.sort_by_key(|&i| (free[i], i));
    let taken: Vec<i64> = idx
        .into_iter()
        .map(|i| free[i])
        .filter(|f| *f >= req.gpu_milli)
        .take(req.num_gpu as usize)
        .collect();
    let fully = taken.iter().filter(|f| **f == GPU_MILLI).count() as i64;
    if fully > 0 {
        return (50 - fully).max(33);
    }
    let sum: i64 = taken.iter().map(|f| f * 100 / GPU_MILLI).sum();
    (100 - sum / 10).max(50)
}

pub struct GpuPacking;

impl NodePicker for GpuPacking {
    fn name(&self) -> &'static str {
        "gpu-packing"
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
