//! `gpu-clustering`: the FGD study's GpuClustering baseline
//! (EXPERIMENT.md §4), behind the GpuShare filter. Integer scores:
//!
//! - CPU-only pod: 0 on every node;
//! - a GPU pod's tag is `share-gpu` when num_gpu = 1 and gpu_milli < 1000,
//!   else `<num_gpu>-gpu`; a node's tag set is the set of tags of the GPU
//!   pods bound (or assumed) there;
//! - `b = 25·(8000 − F)/8000` (integers, left to right; `F` = idle milli);
//! - score `75 + b` if the node holds only the pod's tag, `50 + b` if it
//!   holds the pod's tag among others, `25 + b` if it holds no GPU pods,
//!   `b` otherwise; clamped to 0..=100 (only a node with more than 8 GPUs
//!   could leave that range).
//!
//! Ties go to node order. GPU choice: the World's best fit.

use std::collections::BTreeSet;

use super::gpu_common::{idle, pick_max, MAX_SPEC_GPU};
use super::NodePicker;
use crate::engine::SimRng;
use crate::model::gpu::GpuRequest;
use crate::model::{Node, NodeId, Pod, PodId};
use crate::scheduler::ClusterView;

/// The clustering tag of a GPU request.
pub fn tag(req: &GpuRequest) -> String {
    if req.is_sharing() {
        "share-gpu".to_string()
    } else {
        format!("{}-gpu", req.num_gpu)
    }
}

/// The GpuClustering node score; `pods` resolves the node's pods.
pub fn score(pod: &Pod, node: &Node, pods: &[Pod]) -> i64 {
    let Some(req) = &pod.gpu else {
        return 0;
    };
    let mine = tag(req);
    let tags: BTreeSet<String> = node
        .pods
        .iter()
        .filter_map(|p| pods.get(p.0 as usize))
        .filter_map(|p| p.gpu.as_ref())
        .map(tag)
        .collect();
    let b = 25 * (MAX_SPEC_GPU - idle(node)) / MAX_SPEC_GPU;
    let base = if tags.is_empty() {
        25
    } else if tags.contains(&mine) {
        if tags.len() == 1 {
            75
        } else {
            50
        }
    } else {
        0
    };
    (base + b).clamp(0, 100)
}

pub struct GpuClustering;

impl NodePicker for GpuClustering {
    fn name(&self) -> &'static str {
        "gpu-clustering"
    }
    fn pick(
        &mut self,
        pod: PodId,
        feasible: &[NodeId],
        view: &ClusterView,
        _rng: &mut SimRng,
    ) -> Option<NodeId> {
        let pod = view.pod(pod);
        pick_max(feasible, |n| score(pod, view.node(n), view.pods))
    }
}
