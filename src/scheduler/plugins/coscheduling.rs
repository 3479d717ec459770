//! Coscheduling: placeholder, being written (not yet upstream behaviour).
use crate::scheduler::config::CoschedulingArgs;
use crate::scheduler::framework::{Plugin, Point};
pub struct Coscheduling {
    _args: CoschedulingArgs,
}
impl Coscheduling {
    pub fn new(args: CoschedulingArgs) -> Coscheduling {
        Coscheduling { _args: args }
    }
}
impl Plugin for Coscheduling {
    fn name(&self) -> &'static str {
        "Coscheduling"
    }
    fn points(&self) -> &'static [Point] {
        &[Point::PreFilter, Point::Permit]
    }
}
