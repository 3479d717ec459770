//! The `default` policy for now: every upstream Filter check in
//! [`super::filter`], then NodeResourcesFit's LeastAllocated score with
//! upstream's integer arithmetic (weights cpu=1, memory=1, non-zero request
//! defaults) and upstream's `selectHost` tie-break (reservoir sampling over
//! the nodes with the highest score).

use std::collections::BTreeMap;

use super::filter::{check, fit_error};
use super::{Decision, SchedulingPolicy};
use crate::engine::SimRng;
use crate::model::{Node, NodeId, Pod};

/// Upstream `MaxNodeScore`.
pub const MAX_NODE_SCORE: i64 = 100;

pub struct LeastAllocated;

/// Upstream `leastRequestedScore`: ((capacity − requested) × 100) / capacity,
/// 0 when the request exceeds capacity or capacity is 0.
pub fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    ((capacity - requested) * MAX_NODE_SCORE) / capacity
}

/// The LeastAllocated score of `node` for `pod`, over cpu and memory with
/// weight 1 each, using the non-zero requests of the pods already there.
pub fn score(pod: &Pod, node: &Node, node_nonzero: (i64, i64)) -> i64 {
    let cpu = least_requested_score(
        node_nonzero.0 + pod.nonzero_requests.0,
        node.allocatable.cpu_m,
    );
    let mem = least_requested_score(
        node_nonzero.1 + pod.nonzero_requests.1,
        node.allocatable.memory,
    );
    (cpu + mem) / 2
}

impl SchedulingPolicy for LeastAllocated {
    fn name(&self) -> &'static str {
        "default"
    }

    fn schedule(&mut self, pod: &Pod, nodes: &[Node], rng: &mut SimRng) -> Decision {
        let mut rejects: BTreeMap<_, usize> = BTreeMap::new();
        let mut best: Option<(i64, usize)> = None;
        let mut ties = 0u64;
        let mut total = 0usize;
        for (i, n) in nodes.iter().enumerate() {
            if !n.present {
                continue;
            }
            total += 1;
            if let Err(r) = check(pod, n) {
                *rejects.entry(r).or_insert(0) += 1;
                continue;
            }
            let s = score(pod, n, n.nonzero_requested);
            match best {
                Some((b, _)) if s < b => {}
                Some((b, _)) if s == b => {
                    ties += 1;
                    if rng.below(ties) == 0 {
                        best = Some((s, i));
                    }
                }
                _ => {
                    best = Some((s, i));
                    ties = 1;
                }
            }
        }
        match best {
            Some((_, i)) => Decision::Bind(NodeId(i as u32)),
            None => Decision::Unschedulable(fit_error(total, &rejects)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows from upstream least_allocated_test.go: scores are integer
    /// divisions per resource, then averaged with integer division.
    #[test]
    fn least_requested_arithmetic() {
        assert_eq!(least_requested_score(0, 4000), 100);
        assert_eq!(least_requested_score(3000, 4000), 25);
        assert_eq!(least_requested_score(5000, 4000), 0);
        assert_eq!(least_requested_score(1, 3), 66);
        assert_eq!(least_requested_score(10, 0), 0);
        // "nothing scheduled, resources requested, differently sized nodes":
        // cpu (4000-3000)/4000 = 25, memory (10000-5000)/10000 = 50 -> 37
        assert_eq!(
            (least_requested_score(3000, 4000) + least_requested_score(5000, 10000)) / 2,
            37
        );
    }
}
