//! `tetris`: multi-resource packing by alignment, after Grandl,
//! Ananthanarayanan, Kandula, Rao and Akella, "Multi-Resource Packing for
//! Cluster Schedulers", SIGCOMM 2014.
//!
//! The pod goes to the feasible node whose free resources are best aligned
//! with the pod's demand: the dot product of the two vectors, each
//! normalised by the node's allocatable, maximised:
//!
//! ```text
//! alignment(pod, node) = Σ_{r ∈ R(pod)} d_r × f_r
//! d_r = floor(request_r × 10^6 / allocatable_r)
//! f_r = floor((allocatable_r − requested_r) × 10^6 / allocatable_r)
//! ```
//!
//! with `R(pod)` = cpu, memory and every extended resource (such as
//! `nvidia.com/gpu`) the pod requests ([`super::scored_resources`]);
//! a resource with `allocatable_r ≤ 0` contributes 0, as does any resource
//! the pod requests none of. `f_r` is measured before placement, as in the
//! paper. Integers only (`i128`; each term is at most 10^12 for a feasible
//! node), so the result is exact. Ties go to the node that comes first in
//! node order. Only the packing heuristic is modelled (no SRTF term, no
//! fairness knob).

use super::{first_max_by_key, free_of, ppm, scored_resources, NodePicker};
use crate::engine::SimRng;
use crate::model::{Node, NodeId, Pod, PodId};
use crate::scheduler::ClusterView;

/// `alignment(pod, node)` as defined in the module documentation.
pub fn alignment(pod: &Pod, node: &Node) -> i128 {
    scored_resources(pod)
        .into_iter()
        .map(|r| {
            let alloc = node.allocatable.get(r);
            ppm(pod.requests.get(r), alloc) * ppm(free_of(node, r), alloc)
        })
        .sum()
}

pub struct Tetris;

impl NodePicker for Tetris {
    fn name(&self) -> &'static str {
        "tetris"
    }

    fn pick(
        &mut self,
        pod: PodId,
        feasible: &[NodeId],
        view: &ClusterView,
        _rng: &mut SimRng,
    ) -> Option<NodeId> {
        let pod = view.pod(pod);
        first_max_by_key(feasible, |n| alignment(pod, view.node(n)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::worst_fit::WorstFit;
    use super::super::FilterThenPick;
    use super::*;

    /// A CPU-heavy pod goes where free CPU is plentiful, even though the
    /// other node has more free resources in total (which worst-fit takes).
    #[test]
    fn aligns_demand_with_free_resources() {
        let mut c = Cluster::new(vec![
            node("x", 4000, 16 * GI, 0),
            node("y", 4000, 16 * GI, 0),
        ]);
        c.add_bound(pod("default", "mem-hog", 0, 12 * GI, 0), NodeId(0));
        c.add_bound(pod("default", "cpu-hog", 2000, 0, 0), NodeId(1));
        let p = c.add(pod("default", "p", 2000, GI, 0));
        let pp = &c.pods[p.0 as usize];
        // x: d = (500_000, 62_500), f = (1_000_000, 250_000).
        assert_eq!(alignment(pp, &c.nodes[0]), 515_625_000_000);
        // y: d = (500_000, 62_500), f = (500_000, 1_000_000).
        assert_eq!(alignment(pp, &c.nodes[1]), 312_500_000_000);
        let mut t = FilterThenPick::new(Tetris).unwrap();
        assert_eq!(choose(&mut t, &c, p), Some(NodeId(0)));
        let mut w = FilterThenPick::new(WorstFit).unwrap();
        assert_eq!(choose(&mut w, &c, p), Some(NodeId(1)));
    }

    #[test]
    fn counts_requested_extended_resources() {
        // Same CPU and memory; the pod's one GPU is a larger share of the
        // 2-GPU node, so the dot product is larger there.
        let mut c = Cluster::new(vec![
            node("no-gpu", 8000, 32 * GI, 0),
            node("gpu8", 8000, 32 * GI, 8),
            node("gpu2", 8000, 32 * GI, 2),
        ]);
        let p = c.add(pod("default", "p", 1000, 4 * GI, 1));
        let pp = &c.pods[p.0 as usize];
        let base = 125_000 * 1_000_000 * 2; // cpu and memory terms
        assert_eq!(alignment(pp, &c.nodes[1]), base + 125_000 * 1_000_000);
        assert_eq!(alignment(pp, &c.nodes[2]), base + 500_000 * 1_000_000);
        let mut t = FilterThenPick::new(Tetris).unwrap();
        assert_eq!(choose(&mut t, &c, p), Some(NodeId(2)));
    }

    #[test]
    fn best_effort_pod_ties_to_node_order_and_zero_allocatable_is_safe() {
        let mut c = Cluster::new(vec![node("a", 0, 0, 0), node("b", 4000, 8 * GI, 0)]);
        c.order = vec![NodeId(1), NodeId(0)];
        let p = c.add(pod("default", "p", 0, 0, 0));
        assert_eq!(alignment(&c.pods[p.0 as usize], &c.nodes[0]), 0);
        let mut t = FilterThenPick::new(Tetris).unwrap();
        assert_eq!(choose(&mut t, &c, p), Some(NodeId(1)));
    }
}
