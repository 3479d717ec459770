//! PodTopologySpread: placeholder, being written (not yet upstream behaviour).
use crate::scheduler::config::PodTopologySpreadArgs;
use crate::scheduler::framework::{Plugin, Point};
pub struct PodTopologySpread {
    _args: PodTopologySpreadArgs,
}
impl PodTopologySpread {
    pub fn new(args: PodTopologySpreadArgs) -> PodTopologySpread {
        PodTopologySpread { _args: args }
    }
}
impl Plugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        "PodTopologySpread"
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
