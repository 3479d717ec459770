//! SchedulingGates (PreEnqueue upstream). kubesim does not model
//! `spec.schedulingGates` yet (the field is reported as unused), so the
//! plugin is registered for configuration compatibility and gates nothing.

use crate::scheduler::framework::{Plugin, Point};

pub struct SchedulingGates;

impl Plugin for SchedulingGates {
    fn name(&self) -> &'static str {
        "SchedulingGates"
    }
    fn points(&self) -> &'static [Point] {
        &[]
    }
}
