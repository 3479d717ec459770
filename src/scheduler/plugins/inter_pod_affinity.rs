//! InterPodAffinity: placeholder, being written (not yet upstream behaviour).
use crate::scheduler::config::InterPodAffinityArgs;
use crate::scheduler::framework::{Plugin, Point};
pub struct InterPodAffinity {
    _args: InterPodAffinityArgs,
}
impl InterPodAffinity {
    pub fn new(args: InterPodAffinityArgs) -> InterPodAffinity {
        InterPodAffinity { _args: args }
    }
}
impl Plugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        "InterPodAffinity"
    }
    fn points(&self) -> &'static [Point] {
        &[
            Point::PreFilter,
            Point::Filter,
            Point::PreScore,
            Point::Score,
        ]
    }
}
