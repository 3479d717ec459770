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
