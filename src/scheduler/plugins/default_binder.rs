//! DefaultBinder (Bind): binds through the API (the World applies the
//! binding after the scenario's bind time).

use crate::model::{NodeId, Pod};
use crate::scheduler::framework::{ClusterView, CycleState, Plugin, Point, Status};

pub struct DefaultBinder;

impl Plugin for DefaultBinder {
    fn name(&self) -> &'static str {
        "DefaultBinder"
    }
    fn points(&self) -> &'static [Point] {
        &[Point::Bind]
    }
    fn bind(&self, _: &CycleState, _: &Pod, _: NodeId, _: &ClusterView) -> Status {
        Status::success()
    }
}
