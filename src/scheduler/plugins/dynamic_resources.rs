//! DynamicResources (upstream plugins/dynamicresources), as far as kubesim
//! models it: no pod has ResourceClaims, so every extension point is a
//! no-op except PostFilter, which reports `no new claims to deallocate` as
//! upstream does for a pod without claims. It sits before
//! DefaultPreemption in the default profile (v1.34+, DRA is GA), so
//! unschedulable messages read exactly as a real cluster's.

use std::collections::BTreeMap;

use crate::model::{NodeId, Pod, PodId};
use crate::scheduler::framework::{
    ClusterView, CycleState, Handle, Plugin, Point, PostFilterOutcome, Status,
};

pub const NO_NEW_CLAIMS: &str = "no new claims to deallocate";

pub struct DynamicResources;

impl Plugin for DynamicResources {
    fn name(&self) -> &'static str {
        "DynamicResources"
    }
    fn points(&self) -> &'static [Point] {
        &[Point::PostFilter]
    }
    fn post_filter(
        &self,
        _state: &CycleState,
        _pod_id: PodId,
        _pod: &Pod,
        _statuses: &BTreeMap<NodeId, Status>,
        _view: &ClusterView,
        _handle: &dyn Handle,
    ) -> PostFilterOutcome {
        PostFilterOutcome {
            nominated: None,
            status: Status::unschedulable(NO_NEW_CLAIMS),
        }
    }
}
