//! NodeResourcesBalancedAllocation: placeholder, being written (not yet upstream behaviour).
use crate::scheduler::config::BalancedAllocationArgs;
use crate::scheduler::framework::{Plugin, Point};
pub struct BalancedAllocation {
    _args: BalancedAllocationArgs,
}
impl BalancedAllocation {
    pub fn new(args: BalancedAllocationArgs) -> Result<BalancedAllocation, String> {
        Ok(BalancedAllocation { _args: args })
    }
}
impl Plugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        "NodeResourcesBalancedAllocation"
    }
    fn points(&self) -> &'static [Point] {
        &[Point::PreScore, Point::Score]
    }
}
