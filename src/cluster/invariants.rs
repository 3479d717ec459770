//! Invariant checks run after every event in tests and debug builds.

use super::World;
use crate::model::{PodId, Resources};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvariantViolation {
    #[error("node {node} is over-committed: requested {requested} > allocatable {allocatable}")]
    OverCommitted {
        node: String,
        requested: String,
        allocatable: String,
    },
    #[error("node {node} accounting drifted: recorded {recorded}, sum of its pods {actual}")]
    AccountingDrift {
        node: String,
        recorded: String,
        actual: String,
    },
    #[error("pod {pod} is in the pod set of node {node} but its status says {status}")]
    PodNodeMismatch {
        pod: String,
        node: String,
        status: String,
    },
    #[error("pod {pod} is counted on {count} nodes")]
    MultiplyBound { pod: String, count: usize },
    #[error("GPU {gpu} of node {node} is over-committed: {free} milli free")]
    GpuOverCommitted { node: String, gpu: usize, free: i64 },
    #[error("GPU accounting of node {node} drifted: recorded free {recorded:?}, from its pods {actual:?}")]
    GpuAccountingDrift {
        node: String,
        recorded: Vec<i64>,
        actual: Vec<i64>,
    },
    #[error("per-phase pod counts drifted: kept {kept}, actual {actual}")]
    CountDrift { kept: String, actual: String },
    #[error("pod {pod} has {count} controller owner references")]
    MultipleControllers { pod: String, count: usize },
    #[error("workload store index drifted: {0}")]
    WorkloadIndex(String),
}

pub(super) fn check(w: &World) -> Result<(), InvariantViolation> {
    let mut seen = vec![0usize; w.pods.len()];
    for (ni, n) in w.nodes.iter().enumerate() {
        let mut sum = Resources::default();
        // Free milli per GPU recomputed from the pods bound here.
        let mut gpu_free: Option<Vec<i64>> = n
            .gpus
            .as_ref()
            .map(|g| vec![crate::model::gpu::GPU_MILLI; g.free_milli.len()]);
        for &PodId(p) in &n.pods {
            let pod = &w.pods[p as usize];
            seen[p as usize] += 1;
            if pod.status.node.map(|x| x.0 as usize) != Some(ni)
                || pod.phase().is_terminal()
                || !w.pod_rt[p as usize].live
            {
                return Err(InvariantViolation::PodNodeMismatch {
                    pod: pod.meta.key(),
                    node: n.meta.name.clone(),
                    status: format!(
                        "node={:?} phase={} live={}",
                        pod.status.node,
                        pod.phase(),
                        w.pod_rt[p as usize].live
                    ),
                });
            }
            sum.add(&pod.requests);
            if let (Some(req), Some(f)) = (&pod.gpu, gpu_free.as_mut()) {
                for &g in &pod.status.gpu_ids {
                    if let Some(x) = f.get_mut(g as usize) {
                        *x -= req.gpu_milli;
                    }
                }
            }
        }
        if let Some(g) = &n.gpus {
            let actual = gpu_free.unwrap_or_default();
            if actual != g.free_milli {
                return Err(InvariantViolation::GpuAccountingDrift {
                    node: n.meta.name.clone(),
                    recorded: g.free_milli.clone(),
                    actual,
                });
            }
            if let Some((i, f)) = g.free_milli.iter().enumerate().find(|(_, f)| **f < 0) {
                return Err(InvariantViolation::GpuOverCommitted {
                    node: n.meta.name.clone(),
                    gpu: i,
                    free: *f,
                });
            }
        }
        sum.scalar.retain(|_, v| *v != 0);
        let mut recorded = n.requested.clone();
        recorded.scalar.retain(|_, v| *v != 0);
        if sum != recorded {
            return Err(InvariantViolation::AccountingDrift {
                node: n.meta.name.clone(),
                recorded: recorded.to_string(),
                actual: sum.to_string(),
            });
        }
        let a = &n.allocatable;
        let over = sum.cpu_m > a.cpu_m
            || sum.memory > a.memory
            || sum.ephemeral_storage > a.ephemeral_storage && sum.ephemeral_storage > 0
            || n.pods.len() as i64 > a.pods
            || sum
                .scalar
                .iter()
                .any(|(k, v)| *v > a.scalar.get(k).copied().unwrap_or(0));
        if over {
            return Err(InvariantViolation::OverCommitted {
                node: n.meta.name.clone(),
                requested: format!("{sum},pods={}", n.pods.len()),
                allocatable: a.to_string(),
            });
        }
    }
    let mut counts = [0u64; 4];
    let mut terminating = 0u64;
    for (p, rt) in w.pods.iter().zip(&w.pod_rt) {
        if rt.live {
            counts[p.phase() as usize] += 1;
            if p.is_terminating() {
                terminating += 1;
            }
        }
    }
    let (aff, anti) = crate::scheduler::framework::affinity_node_sets(&w.nodes);
    if aff != w.nodes_with_affinity || anti != w.nodes_with_required_anti_affinity {
        return Err(InvariantViolation::CountDrift {
            kept: format!(
                "affinity nodes {:?} / {:?}",
                w.nodes_with_affinity, w.nodes_with_required_anti_affinity
            ),
            actual: format!("{aff:?} / {anti:?}"),
        });
    }
    if counts != w.phase_counts || terminating != w.terminating {
        return Err(InvariantViolation::CountDrift {
            kept: format!("{:?} terminating {}", w.phase_counts, w.terminating),
            actual: format!("{counts:?} terminating {terminating}"),
        });
    }
    // Controllers: a pod has at most one controller; the workload index
    // lists exactly the live objects.
    for (p, rt) in w.pods.iter().zip(&w.pod_rt) {
        let n = p
            .meta
            .owner_references
            .iter()
            .filter(|o| o.controller)
            .count();
        if rt.live && n > 1 {
            return Err(InvariantViolation::MultipleControllers {
                pod: p.meta.key(),
                count: n,
            });
        }
    }
    let store = &w.wl.store;
    let indexed = store.live().count();
    let live = store.all().iter().filter(|o| !o.removed).count();
    if indexed != live
        || store.live().any(|id| {
            let o = store.get(id);
            o.removed || store.lookup(o.kind(), &o.meta.namespace, &o.meta.name) != Some(id)
        })
    {
        return Err(InvariantViolation::WorkloadIndex(format!(
            "{indexed} indexed, {live} live"
        )));
    }
    if let Some((i, c)) = seen.iter().enumerate().find(|(_, c)| **c > 1) {
        return Err(InvariantViolation::MultiplyBound {
            pod: w.pods[i].meta.key(),
            count: *c,
        });
    }
    Ok(())
}
