//! `gpu-random`: the FGD study's Random baseline (EXPERIMENT.md §4, run
//! flags `-Random 1000 -gpusel random`), behind the GpuShare filter.
//!
//! Node: one uniform draw over the feasible nodes (in node order):
//! `feasible[rng.below(len)]`. GPU choice on that node, from the same
//! random stream: a sharing pod gets a uniform GPU among those with
//! free ≥ request, by reservoir sampling over them in index order (the
//! k-th eligible GPU replaces the choice when `rng.below(k) == 0`); any
//! other pod gets the World's default (whole-GPU pods: the lowest-index
//! fully free GPUs).

use super::gpu_common::is_sharing;
use super::NodePicker;
use crate::engine::SimRng;
use crate::model::{NodeId, PodId};
use crate::scheduler::ClusterView;

pub struct GpuRandom;

impl NodePicker for GpuRandom {
    fn name(&self) -> &'static str {
        "gpu-random"
    }
    fn pick(
        &mut self,
        _pod: PodId,
        feasible: &[NodeId],
        _view: &ClusterView,
        rng: &mut SimRng,
    ) -> Option<NodeId> {
        let i = rng.below(feasible.len() as u64);
        feasible.get(usize::try_from(i).ok()?).copied()
    }
    fn pick_gpus(
        &mut self,
        pod: PodId,
        node: NodeId,
        view: &ClusterView,
        rng: &mut SimRng,
    ) -> Vec<u32> {
        let pod = view.pod(pod);
        let (Some(req), Some(g)) = (&pod.gpu, &view.node(node).gpus) else {
            return vec![];
        };
        if !is_sharing(pod) {
            return vec![];
        }
        let mut chosen = None;
        let mut k = 0u64;
        for (i, f) in g.free_milli.iter().enumerate() {
            if *f >= req.gpu_milli {
                k += 1;
                if rng.below(k) == 0 {
                    chosen = Some(i as u32);
                }
            }
        }
        chosen.into_iter().collect()
    }
}
