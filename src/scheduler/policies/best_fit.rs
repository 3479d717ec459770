//! `best-fit`: the feasible node with the least free resources left after
//! placing the pod (bin packing: fill nodes tightly, keep others empty).
//!
//! Score, minimised:
//!
//! ```text
//! leftover(pod, node) = Σ_{r ∈ R(pod)} floor((free_r − request_r) × 10^6 / allocatable_r)
//! ```
//!
//! where `free_r = allocatable_r − requested_r` on the node (pods bound or
//! assumed there), `R(pod)` is cpu, memory and every extended resource the
//! pod requests ([`super::scored_resources`]), and a resource with
//! `allocatable_r ≤ 0` contributes 0. Each term is the fraction of the
//! node's allocatable left free, in parts per million. Integer arithmetic
//! (`i128`), so the comparison is exact. Ties go to the node that comes
//! first in node order.

use std::cmp::Reverse;

use super::{first_max_by_key, free_of, ppm, scored_resources, NodePicker};
use crate::engine::SimRng;
use crate::model::{Node, NodeId, Pod, PodId};
use crate::scheduler::ClusterView;

/// `leftover(pod, node)` as defined in the module documentation.
pub fn leftover_ppm(pod: &Pod, node: &Node) -> i128 {
    scored_resources(pod)
        .into_iter()
        .map(|r| {
            let after = free_of(node, r).saturating_sub(pod.requests.get(r));
            ppm(after, node.allocatable.get(r))
        })
        .sum()
}

pub struct BestFit;

impl NodePicker for BestFit {
    fn name(&self) -> &'static str {
        "best-fit"
    }

    fn pick(
        &mut self,
        pod: PodId,
        feasible: &[NodeId],
        view: &ClusterView,
        _rng: &mut SimRng,
    ) -> Option<NodeId> {
        let pod = view.pod(pod);
        first_max_by_key(feasible, |n| Reverse(leftover_ppm(pod, view.node(n))))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::FilterThenPick;
    use super::*;

    #[test]
    fn score_is_exact_ppm() {
        let mut c = Cluster::new(vec![node("a", 4000, 8 * GI, 4), node("b", 3000, 0, 0)]);
        c.add_bound(pod("default", "x", 1000, 2 * GI, 1), NodeId(0));
        let p = pod("default", "p", 1000, 2 * GI, 1);
        // cpu 2000/4000, memory 4Gi/8Gi, gpu 2/4.
        assert_eq!(leftover_ppm(&p, &c.nodes[0]), 1_500_000);
        // cpu 2000/3000 floors to 666_666; memory has no allocatable: 0;
        // the GPU is requested but the node has none: 0.
        assert_eq!(leftover_ppm(&p, &c.nodes[1]), 666_666);
    }

    #[test]
    fn picks_the_tightest_feasible_node() {
        let mut c = Cluster::new(vec![
            node("big", 4000, 8 * GI, 0),
            node("medium", 2000, 4 * GI, 0),
            node("tiny", 1000, GI, 0), // memory does not fit
        ]);
        let p = c.add(pod("default", "p", 1000, 2 * GI, 0));
        let mut s = FilterThenPick::new(BestFit).unwrap();
        assert_eq!(choose(&mut s, &c, p), Some(NodeId(1)));
        // A pod bound to `big` makes it tighter than `medium`.
        c.add_bound(pod("default", "x", 2500, 5 * GI, 0), NodeId(0));
        assert_eq!(choose(&mut s, &c, p), Some(NodeId(0)));
    }

    #[test]
    fn ties_go_to_node_order() {
        let mut c = Cluster::new(vec![node("a", 2000, 4 * GI, 0), node("b", 2000, 4 * GI, 0)]);
        let p = c.add(pod("default", "p", 1000, GI, 0));
        let mut s = FilterThenPick::new(BestFit).unwrap();
        assert_eq!(choose(&mut s, &c, p), Some(NodeId(0)));
        c.order = vec![NodeId(1), NodeId(0)];
        assert_eq!(choose(&mut s, &c, p), Some(NodeId(1)));
    }
}
