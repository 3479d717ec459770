//! `random`: a uniformly random feasible node.
//!
//! One draw per scheduling cycle from the policy random stream:
//! `feasible[rng.below(feasible.len())]`, where `feasible` lists the nodes
//! that pass upstream's default filters, in the scheduler's node order. The
//! baseline every placement policy should beat.

use super::NodePicker;
use crate::engine::SimRng;
use crate::model::{NodeId, PodId};
use crate::scheduler::ClusterView;

pub struct Random;

impl NodePicker for Random {
    fn name(&self) -> &'static str {
        "random"
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
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::super::FilterThenPick;
    use super::*;
    use crate::engine::SimRng;

    #[test]
    fn uniform_over_feasible_nodes_and_deterministic() {
        let mut c = Cluster::new(vec![
            node("a", 4000, 8 * GI, 0),
            node("small", 100, 8 * GI, 0),
            node("b", 4000, 8 * GI, 0),
            node("c", 4000, 8 * GI, 0),
        ]);
        let p = c.add(pod("default", "p", 1000, GI, 0));
        let mut s = FilterThenPick::new(Random).unwrap();
        let draw = |s: &mut FilterThenPick<Random>, seed| {
            let mut r = SimRng::derive(seed, "policy");
            (0..300)
                .map(|_| choose_with(s, &c, p, &mut r).unwrap())
                .collect::<Vec<_>>()
        };
        let a = draw(&mut s, 7);
        assert_eq!(a, draw(&mut s, 7), "same stream, same choices");
        assert_ne!(a, draw(&mut s, 8), "another seed, other choices");
        let mut counts = [0; 4];
        for n in &a {
            counts[n.0 as usize] += 1;
        }
        assert_eq!(counts[1], 0, "the infeasible node is never chosen");
        for i in [0, 2, 3] {
            // Expected 100 each; a uniform draw stays well inside this band.
            assert!((60..=140).contains(&counts[i]), "{counts:?}");
        }
    }

    #[test]
    fn nothing_fits() {
        let mut c = Cluster::new(vec![node("a", 100, GI, 0)]);
        let p = c.add(pod("default", "p", 1000, 0, 0));
        let mut s = FilterThenPick::new(Random).unwrap();
        assert_eq!(choose(&mut s, &c, p), None);
    }
}
