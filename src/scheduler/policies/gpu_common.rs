//! Shared helpers of the GPU-sharing policies (EXPERIMENT.md §4): the
//! normalising constants, a node's free CPU and idle GPU milli, and the
//! tie-breaking pick by node order.

use crate::model::gpu::GpuRequest;
use crate::model::{Node, NodeId, Pod};

/// `MaxSpecCpu` (millicores) and `MaxSpecGpu` (milli-GPU) of §4.
pub const MAX_SPEC_CPU: i64 = 128_000;
pub const MAX_SPEC_GPU: i64 = 8_000;

/// `free_cpu`: allocatable − requested CPU (millicores).
pub fn free_cpu(node: &Node) -> i64 {
    node.allocatable.cpu_m.saturating_sub(node.requested.cpu_m)
}

/// `F`: the node's idle GPU milli (0 without GPUs).
pub fn idle(node: &Node) -> i64 {
    node.gpus.as_ref().map_or(0, |g| g.idle())
}

/// The pod's GPU request with `R = num_gpu × gpu_milli` (0 for CPU-only).
pub fn total_request(pod: &Pod) -> i64 {
    pod.gpu.as_ref().map_or(0, GpuRequest::total_milli)
}

/// Whether the pod is a GPU-sharing pod (one GPU, < 1000 milli).
pub fn is_sharing(pod: &Pod) -> bool {
    pod.gpu.as_ref().is_some_and(GpuRequest::is_sharing)
}

/// The first feasible node (in node order) with the highest score.
pub fn pick_max(feasible: &[NodeId], score: impl Fn(NodeId) -> i64) -> Option<NodeId> {
    super::first_max_by_key(feasible, score)
}
