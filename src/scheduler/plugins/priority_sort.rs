//! PrioritySort (QueueSort): higher priority first, then the earlier
//! enqueue time (upstream plugins/queuesort/priority_sort.go).

use crate::engine::SimTime;
use crate::model::Pod;
use crate::scheduler::framework::{Plugin, Point};

pub struct PrioritySort;

/// Upstream `Less`: `p1 > p2 || (p1 == p2 && t1 < t2)`.
pub fn less(a: &Pod, ta: SimTime, b: &Pod, tb: SimTime) -> bool {
    let (p1, p2) = (a.spec.priority, b.spec.priority);
    p1 > p2 || (p1 == p2 && ta < tb)
}

impl Plugin for PrioritySort {
    fn name(&self) -> &'static str {
        "PrioritySort"
    }
    fn points(&self) -> &'static [Point] {
        &[Point::QueueSort]
    }
    fn less(&self, a: &Pod, ta: SimTime, b: &Pod, tb: SimTime) -> bool {
        less(a, ta, b, tb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::plugins::node_resources_fit::testutil::{pod_from_spec, spec};

    fn pod_with_priority(p: i32) -> Pod {
        let mut s = spec(vec![], vec![]);
        s.priority = p;
        pod_from_spec(s)
    }

    /// Upstream priority_sort_test.go `TestLess`: all 4 rows, through the
    /// Plugin method. Rows without timestamps use equal (zero) times.
    #[test]
    fn less() {
        let (low, high) = (10, 100);
        let (t0, t1, t2) = (SimTime::ZERO, SimTime(1_000), SimTime(2_000));
        let cases = [
            (
                "p1.priority less than p2.priority",
                low,
                t0,
                high,
                t0,
                false,
            ),
            (
                "p1.priority greater than p2.priority",
                high,
                t0,
                low,
                t0,
                true,
            ),
            (
                "equal priority. p1 is added to schedulingQ earlier than p2",
                high,
                t1,
                high,
                t2,
                true,
            ),
            (
                "equal priority. p2 is added to schedulingQ earlier than p1",
                high,
                t2,
                high,
                t1,
                false,
            ),
        ];
        for (name, p1, ta, p2, tb, want) in cases {
            let (a, b) = (pod_with_priority(p1), pod_with_priority(p2));
            assert_eq!(PrioritySort.less(&a, ta, &b, tb), want, "{name}");
        }
    }
}
