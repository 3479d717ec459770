//! SchedulingGates (PreEnqueue upstream). kubesim does not model
//! `spec.schedulingGates` yet (the field is reported as unused), so the
//! plugin is registered for configuration compatibility and gates nothing.

use crate::scheduler::framework::{Plugin, Point};

pub struct SchedulingGates;

impl Plugin for SchedulingGates {
    fn name(&self) -> &'static str {
        "SchedulingGates"
    }
    fn events_to_register(&self) -> Option<&'static [crate::scheduler::hints::ClusterEvent]> {
        Some(super::queueing_hints::SCHEDULING_GATES_EVENTS)
    }
    fn queueing_hint(
        &self,
        pod_id: crate::model::PodId,
        _pod: &crate::model::Pod,
        _event: &crate::scheduler::hints::ClusterEvent,
        change: &crate::scheduler::hints::Change,
        _view: &crate::scheduler::framework::ClusterView,
    ) -> crate::scheduler::hints::QueueingHint {
        super::queueing_hints::scheduling_gates_hint(pod_id, change)
    }
    fn points(&self) -> &'static [Point] {
        &[]
    }
}
