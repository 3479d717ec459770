//! `worst-fit` (spread): the feasible node with the most free resources
//! left after placing the pod — the opposite of `best-fit`, spreading load
//! across nodes.
//!
//! Score, maximised: the same `leftover(pod, node)` as `best-fit`
//! ([`super::best_fit::leftover_ppm`]):
//!
//! ```text
//! leftover(pod, node) = Σ_{r ∈ R(pod)} floor((free_r − request_r) × 10^6 / allocatable_r)
//! ```
//!
//! over cpu, memory and the extended resources the pod requests, in
//! integers. Ties go to the node that comes first in node order.

use super::best_fit::leftover_ppm;
use super::{first_max_by_key, NodePicker};
use crate::engine::SimRng;
use crate::model::{NodeId, PodId};
use crate::scheduler::ClusterView;

pub struct WorstFit;

impl NodePicker for WorstFit {
    fn name(&self) -> &'static str {
        "worst-fit"
    }

    fn pick(
        &mut self,
        pod: PodId,
        feasible: &[NodeId],
        view: &ClusterView,
        _rng: &mut SimRng,
    ) -> Option<NodeId> {
        let pod = view.pod(pod);
        first_max_by_key(feasible, |n| leftover_ppm(pod, view.node(n)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::FilterThenPick;
    use super::*;

    #[test]
    fn picks_the_emptiest_feasible_node() {
        let mut c = Cluster::new(vec![
            node("medium", 2000, 4 * GI, 0),
            node("big", 4000, 8 * GI, 0),
            node("huge-but-full", 64000, 256 * GI, 0),
        ]);
        c.add_bound(pod("default", "x", 63500, 250 * GI, 0), NodeId(2));
        let p = c.add(pod("default", "p", 1000, 2 * GI, 0));
        let mut s = FilterThenPick::new(WorstFit).unwrap();
        assert_eq!(choose(&mut s, &c, p), Some(NodeId(1)));
    }

    #[test]
    fn spreads_equal_nodes_and_breaks_ties_by_node_order() {
        let mut c = Cluster::new(vec![
            node("a", 4000, 8 * GI, 0),
            node("b", 4000, 8 * GI, 0),
            node("c", 4000, 8 * GI, 0),
        ]);
        c.order = vec![NodeId(2), NodeId(0), NodeId(1)];
        let mut s = FilterThenPick::new(WorstFit).unwrap();
        let mut got = vec![];
        for i in 0..4 {
            let p = c.add(pod("default", &format!("p{i}"), 1000, GI, 0));
            let n = choose(&mut s, &c, p).unwrap();
            got.push(n);
            let pod = c.pods[p.0 as usize].clone();
            c.pods[p.0 as usize].status.node = Some(n);
            c.nodes[n.0 as usize].add_pod(p, &pod);
        }
        assert_eq!(got, [NodeId(2), NodeId(0), NodeId(1), NodeId(2)]);
    }
}
