//! `first-fit`: the first feasible node in the scheduler's node order
//! (`view.node_order`: round robin across zones, as upstream's node tree
//! lists them). No randomness: the same cluster state always gives the
//! same node. Tends to fill the first nodes before touching the others.

use super::NodePicker;
use crate::engine::SimRng;
use crate::model::{NodeId, PodId};
use crate::scheduler::ClusterView;

pub struct FirstFit;

impl NodePicker for FirstFit {
    fn name(&self) -> &'static str {
        "first-fit"
    }

    fn pick(
        &mut self,
        _pod: PodId,
        feasible: &[NodeId],
        _view: &ClusterView,
        _rng: &mut SimRng,
    ) -> Option<NodeId> {
        // `feasible` is already in node order.
        feasible.first().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::FilterThenPick;
    use super::*;

    #[test]
    fn first_feasible_in_node_order() {
        let mut c = Cluster::new(vec![
            node("a", 4000, 8 * GI, 0),
            node("small", 100, 8 * GI, 0),
            node("c", 4000, 8 * GI, 0),
        ]);
        c.order = vec![NodeId(1), NodeId(2), NodeId(0)];
        let p = c.add(pod("default", "p", 1000, GI, 0));
        let mut s = FilterThenPick::new(FirstFit).unwrap();
        // `small` comes first but does not fit; `c` is next.
        assert_eq!(choose(&mut s, &c, p), Some(NodeId(2)));
        c.order = vec![NodeId(0), NodeId(1), NodeId(2)];
        assert_eq!(choose(&mut s, &c, p), Some(NodeId(0)));
    }

    #[test]
    fn fills_the_first_node_until_full() {
        let mut c = Cluster::new(vec![node("a", 2000, 8 * GI, 0), node("b", 2000, 8 * GI, 0)]);
        let mut s = FilterThenPick::new(FirstFit).unwrap();
        let mut got = vec![];
        for i in 0..3 {
            let p = c.add(pod("default", &format!("p{i}"), 1000, GI, 0));
            let n = choose(&mut s, &c, p).unwrap();
            got.push(n);
            let pod = c.pods[p.0 as usize].clone();
            c.pods[p.0 as usize].status.node = Some(n);
            c.nodes[n.0 as usize].add_pod(p, &pod);
        }
        assert_eq!(got, [NodeId(0), NodeId(0), NodeId(1)]);
    }
}
