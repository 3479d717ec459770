//! SchedulingGates (PreEnqueue upstream, plugins/schedulinggates): a pod
//! with `spec.schedulingGates` is not queued until its last gate is
//! removed. The World applies the PreEnqueue check itself for every policy
//! (`cluster/queueing.rs`); the plugin holds the QueueingHint registration
//! (Pod/UpdatePodSchedulingGatesEliminated) and stays registered for
//! configuration compatibility.

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
