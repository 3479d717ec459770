//! GpuShare (Filter): GPU feasibility for GPU-sharing pods, as in the FGD
//! study's simulator (EXPERIMENT.md §3): the node has GPUs, its model is
//! one of the pod's `alibabacloud.com/gpu-card-model` models (if any), and
//! at least `gpu-count` of its GPUs each have free milli ≥ `gpu-milli`.
//! Pods without a GPU request pass.
//!
//! Not part of upstream's default profile (kube-scheduler does not know
//! these annotations); the GPU policies enable it
//! ([`crate::scheduler::policies::FilterThenPick::with_gpu_share`]), and a
//! KubeSchedulerConfiguration profile may enable it by name. Node-local:
//! the verdict depends only on the pod's request and the node's GPUs,
//! which change only through `Node::add_pod`/`remove_pod` (they touch the
//! node).

use crate::model::gpu::{fits, Misfit};
use crate::model::{Node, Pod};
use crate::scheduler::framework::{ClusterView, CycleState, Plugin, Point, Status};

pub const NAME: &str = "GpuShare";
pub const ERR_NO_GPU: &str = "node(s) didn't have GPUs";
pub const ERR_MODEL: &str = "node(s) didn't match GPU card model";
pub const ERR_INSUFFICIENT: &str = "Insufficient GPU";

pub struct GpuShare;

/// The verdict for `pod` on `node`.
pub fn gpu_status(pod: &Pod, node: &Node) -> Status {
    let Some(req) = &pod.gpu else {
        return Status::success();
    };
    match fits(req, node.gpus.as_ref()) {
        Ok(()) => Status::success(),
        Err(Misfit::NoGpus) => Status::unresolvable(ERR_NO_GPU),
        Err(Misfit::Model) => Status::unresolvable(ERR_MODEL),
        Err(Misfit::Insufficient) => Status::unschedulable(ERR_INSUFFICIENT),
    }
}

impl Plugin for GpuShare {
    fn name(&self) -> &'static str {
        NAME
    }
    fn points(&self) -> &'static [Point] {
        &[Point::Filter]
    }
    fn node_local(&self) -> bool {
        true
    }
    fn filter(&self, _: &CycleState, pod: &Pod, node: &Node, _: &ClusterView) -> Status {
        gpu_status(pod, node)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gpu::{GpuRequest, NodeGpus};
    use crate::model::pod::PodStatus;
    use crate::model::PodId;
    use crate::scheduler::framework::Code;
    use crate::scheduler::policies::testutil::{node, pod};

    fn gpod(num: u32, milli: i64, models: &[&str]) -> Pod {
        let mut p = pod("default", "p", 100, 0, 0);
        p.gpu = Some(GpuRequest {
            num_gpu: num,
            gpu_milli: milli,
            models: models.iter().map(|s| s.to_string()).collect(),
        });
        p
    }

    #[test]
    fn verdicts() {
        let plain = node("cpu", 4000, 1 << 30, 0);
        let mut t4 = node("t4", 4000, 1 << 30, 0);
        t4.gpus = Some(NodeGpus::new(2, "T4"));
        // A pod without a GPU request passes everywhere.
        assert!(gpu_status(&pod("default", "c", 100, 0, 0), &plain).is_success());
        let s = gpu_status(&gpod(1, 500, &[]), &plain);
        assert_eq!(
            (s.code, s.message()),
            (Code::UnschedulableAndUnresolvable, ERR_NO_GPU.into())
        );
        assert!(gpu_status(&gpod(1, 500, &[]), &t4).is_success());
        assert!(gpu_status(&gpod(2, 1000, &["A10", "T4"]), &t4).is_success());
        let s = gpu_status(&gpod(1, 500, &["A10"]), &t4);
        assert_eq!(
            (s.code, s.message()),
            (Code::UnschedulableAndUnresolvable, ERR_MODEL.into())
        );
        assert_eq!(
            gpu_status(&gpod(3, 1000, &[]), &t4).message(),
            ERR_INSUFFICIENT
        );
        // Bind a 600-milli pod on GPU 0: a whole-GPU pod then fits on one
        // GPU only, and two 500-milli pods no longer fit.
        let mut x = gpod(1, 600, &[]);
        x.status = PodStatus {
            gpu_ids: vec![0],
            ..Default::default()
        };
        t4.add_pod(PodId(7), &x);
        assert_eq!(t4.gpus.as_ref().unwrap().free_milli, [400, 1000]);
        assert!(gpu_status(&gpod(1, 1000, &[]), &t4).is_success());
        assert_eq!(
            gpu_status(&gpod(2, 500, &[]), &t4).message(),
            ERR_INSUFFICIENT
        );
        assert!(gpu_status(&gpod(2, 400, &[]), &t4).is_success());
        // Unbinding restores the free milli.
        assert!(t4.remove_pod(PodId(7), &x));
        assert_eq!(t4.gpus.as_ref().unwrap().free_milli, [1000, 1000]);
    }
}
