//! DefaultPreemption: placeholder, being written (not yet upstream behaviour).
use crate::scheduler::config::DefaultPreemptionArgs;
use crate::scheduler::framework::{Plugin, Point};
pub struct DefaultPreemption {
    _args: DefaultPreemptionArgs,
}
impl DefaultPreemption {
    pub fn new(args: DefaultPreemptionArgs) -> DefaultPreemption {
        DefaultPreemption { _args: args }
    }
}
impl Plugin for DefaultPreemption {
    fn name(&self) -> &'static str {
        "DefaultPreemption"
    }
    fn points(&self) -> &'static [Point] {
        &[Point::PostFilter]
    }
}
