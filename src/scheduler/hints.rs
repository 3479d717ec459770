//! QueueingHints (upstream feature SchedulerQueueingHints, on by default in
//! v1.35): the cluster events the scheduling queue reacts to, how a plugin
//! registers the ones that may make a pod it rejected schedulable
//! (`EventsToRegister`), and the types its hint function sees
//! (upstream k8s.io/kube-scheduler/framework `ClusterEvent`, `ActionType`,
//! `QueueingHint`; pkg/scheduler/framework/events.go and types.go
//! `MatchClusterEvents`).
//!
//! The queue itself (which pods move on an event) is in
//! [`crate::scheduler::queue`] and the World's `cluster_event`.

use crate::model::{Node, Pod, PodId};

/// Upstream `fwk.ActionType`: a bit set of what happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActionType(pub u32);

impl ActionType {
    pub const ADD: ActionType = ActionType(1);
    pub const DELETE: ActionType = ActionType(1 << 1);
    pub const UPDATE_NODE_ALLOCATABLE: ActionType = ActionType(1 << 2);
    pub const UPDATE_NODE_LABEL: ActionType = ActionType(1 << 3);
    pub const UPDATE_NODE_TAINT: ActionType = ActionType(1 << 4);
    pub const UPDATE_NODE_CONDITION: ActionType = ActionType(1 << 5);
    pub const UPDATE_NODE_ANNOTATION: ActionType = ActionType(1 << 6);
    pub const UPDATE_POD_LABEL: ActionType = ActionType(1 << 7);
    pub const UPDATE_POD_SCALE_DOWN: ActionType = ActionType(1 << 8);
    pub const UPDATE_POD_TOLERATION: ActionType = ActionType(1 << 9);
    pub const UPDATE_POD_SCHEDULING_GATES_ELIMINATED: ActionType = ActionType(1 << 10);
    pub const UPDATE_POD_GENERATED_RESOURCE_CLAIM: ActionType = ActionType(1 << 11);
    /// An update that none of the specific update actions describes.
    pub const UPDATE_OTHER: ActionType = ActionType(1 << 12);
    /// Upstream `Update`: every update action.
    pub const UPDATE: ActionType = ActionType(((1 << 13) - 1) & !0b11);
    /// Upstream `All`.
    pub const ALL: ActionType = ActionType((1 << 13) - 1);

    pub const fn or(self, o: ActionType) -> ActionType {
        ActionType(self.0 | o.0)
    }
}

/// Upstream `fwk.EventResource`, with the two resources the queue uses for
/// incoming pod events (`assignedPod`, `unschedulablePod`), which a
/// registration for `Pod` matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventResource {
    Node,
    /// Only in registrations: matches both kinds of pod events.
    Pod,
    AssignedPod,
    UnscheduledPod,
    WildCard,
}

/// Upstream `fwk.ClusterEvent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterEvent {
    pub resource: EventResource,
    pub action: ActionType,
}

impl ClusterEvent {
    pub const fn new(resource: EventResource, action: ActionType) -> ClusterEvent {
        ClusterEvent { resource, action }
    }
    /// Upstream `EventUnschedulableTimeout` / `EventForceActivate`.
    pub const WILDCARD: ClusterEvent = ClusterEvent::new(EventResource::WildCard, ActionType::ALL);
    pub const NODE_ADD: ClusterEvent = ClusterEvent::new(EventResource::Node, ActionType::ADD);
    pub const NODE_DELETE: ClusterEvent =
        ClusterEvent::new(EventResource::Node, ActionType::DELETE);
    pub const ASSIGNED_POD_ADD: ClusterEvent =
        ClusterEvent::new(EventResource::AssignedPod, ActionType::ADD);
    pub const ASSIGNED_POD_DELETE: ClusterEvent =
        ClusterEvent::new(EventResource::AssignedPod, ActionType::DELETE);

    /// Upstream `ClusterEventIsWildCard`.
    pub fn is_wildcard(&self) -> bool {
        self.resource == EventResource::WildCard && self.action == ActionType::ALL
    }

    /// A short label for logs (upstream `ClusterEvent.Label`).
    pub fn label(&self) -> String {
        if self.is_wildcard() {
            return "WildCard".to_string();
        }
        let names = [
            "Add",
            "Delete",
            "UpdateNodeAllocatable",
            "UpdateNodeLabel",
            "UpdateNodeTaint",
            "UpdateNodeCondition",
            "UpdateNodeAnnotation",
            "UpdatePodLabel",
            "UpdatePodScaleDown",
            "UpdatePodToleration",
            "UpdatePodSchedulingGatesEliminated",
            "UpdatePodGeneratedResourceClaim",
            "Update",
        ];
        let acts: Vec<&str> = names
            .iter()
            .enumerate()
            .filter(|(i, _)| self.action.0 & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect();
        format!("{:?}{}", self.resource, acts.join("|"))
    }
}

/// Upstream `MatchClusterEvents(registered, incoming)`: the registration
/// is a wildcard, or the resources match (`Pod` matches assigned and
/// unscheduled pods) and the incoming action is one of the registered
/// ones. An incoming wildcard matches only a wildcard registration.
pub fn match_cluster_events(registered: &ClusterEvent, incoming: &ClusterEvent) -> bool {
    registered.is_wildcard()
        || (match_resources(registered.resource, incoming.resource)
            && registered.action.0 & incoming.action.0 != 0
            && incoming.action.0 <= registered.action.0)
}

fn match_resources(r: EventResource, incoming: EventResource) -> bool {
    r == EventResource::WildCard
        || r == incoming
        || (r == EventResource::Pod
            && matches!(
                incoming,
                EventResource::AssignedPod | EventResource::UnscheduledPod
            ))
}

/// Upstream `fwk.QueueingHint`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueingHint {
    QueueSkip,
    Queue,
}

/// A pod an event is about: the object, and whether the scheduler's cache
/// sees it on a node (`spec.nodeName` set, or assumed) or nominated.
#[derive(Clone, Copy)]
pub struct PodObj<'a> {
    pub id: PodId,
    pub pod: &'a Pod,
    pub assigned: bool,
    pub nominated: bool,
}

/// The objects of an event (upstream `oldObj`, `newObj`).
#[derive(Clone, Copy)]
pub enum Change<'a> {
    Node {
        old: Option<&'a Node>,
        new: Option<&'a Node>,
    },
    Pod {
        old: Option<PodObj<'a>>,
        new: Option<PodObj<'a>>,
    },
    None,
}

impl<'a> Change<'a> {
    pub fn nodes(&self) -> (Option<&'a Node>, Option<&'a Node>) {
        match *self {
            Change::Node { old, new } => (old, new),
            _ => (None, None),
        }
    }
    pub fn pods(&self) -> (Option<PodObj<'a>>, Option<PodObj<'a>>) {
        match *self {
            Change::Pod { old, new } => (old, new),
            _ => (None, None),
        }
    }
}

/// Upstream `NodeSchedulingPropertiesChange(new, old)`: the update events
/// a node update produces, in upstream's order.
pub fn node_scheduling_properties_change(new: &Node, old: &Node) -> Vec<ClusterEvent> {
    let mut v = Vec::new();
    let mut push = |a: ActionType| v.push(ClusterEvent::new(EventResource::Node, a));
    if new.unschedulable != old.unschedulable && !new.unschedulable {
        push(ActionType::UPDATE_NODE_TAINT);
    }
    if new.allocatable != old.allocatable {
        push(ActionType::UPDATE_NODE_ALLOCATABLE);
    }
    if new.meta.labels != old.meta.labels {
        push(ActionType::UPDATE_NODE_LABEL);
    }
    if new.taints != old.taints {
        push(ActionType::UPDATE_NODE_TAINT);
    }
    if new.conditions != old.conditions {
        push(ActionType::UPDATE_NODE_CONDITION);
    }
    if new.meta.annotations != old.meta.annotations {
        push(ActionType::UPDATE_NODE_ANNOTATION);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(r: EventResource, a: ActionType) -> ClusterEvent {
        ClusterEvent::new(r, a)
    }

    /// Upstream types_test.go `TestMatchClusterEvents` (the cases kubesim's
    /// resources can express).
    #[test]
    fn match_cluster_events_table() {
        use ActionType as A;
        use EventResource as R;
        let cases = [
            // name, registered, incoming, want
            (
                "wildcard event matches with all kinds of coming events",
                ClusterEvent::WILDCARD,
                ev(R::Pod, A::UPDATE_POD_LABEL),
                true,
            ),
            (
                "match exactly the same event",
                ev(R::Node, A::UPDATE_NODE_LABEL),
                ev(R::Node, A::UPDATE_NODE_LABEL),
                true,
            ),
            (
                "match if resource is the same and ActionType is the same",
                ev(R::Node, A::ADD.or(A::UPDATE_NODE_LABEL)),
                ev(R::Node, A::UPDATE_NODE_LABEL),
                true,
            ),
            (
                "match if registered event is Update and incoming is a specific update",
                ev(R::Node, A::UPDATE),
                ev(R::Node, A::UPDATE_NODE_LABEL),
                true,
            ),
            (
                "not match if registered event is a specific update and incoming is Update",
                ev(R::Node, A::UPDATE_NODE_LABEL),
                ev(R::Node, A::UPDATE),
                false,
            ),
            (
                "not match if resource is different",
                ev(R::Node, A::ADD),
                ev(R::AssignedPod, A::ADD),
                false,
            ),
            (
                "not match if ActionType is different",
                ev(R::Node, A::ADD),
                ev(R::Node, A::UPDATE_NODE_LABEL),
                false,
            ),
            (
                "Pod matches assigned pods",
                ev(R::Pod, A::ADD),
                ev(R::AssignedPod, A::ADD),
                true,
            ),
            (
                "Pod matches unscheduled pods",
                ev(R::Pod, A::UPDATE_POD_SCHEDULING_GATES_ELIMINATED),
                ev(R::UnscheduledPod, A::UPDATE_POD_SCHEDULING_GATES_ELIMINATED),
                true,
            ),
            (
                "an incoming wildcard does not match a specific registration",
                ev(R::Node, A::ADD),
                ClusterEvent::WILDCARD,
                false,
            ),
        ];
        for (name, reg, inc, want) in cases {
            assert_eq!(match_cluster_events(&reg, &inc), want, "{name}");
        }
    }

    #[test]
    fn update_is_every_update_bit() {
        assert_eq!(ActionType::UPDATE.0 & ActionType::ADD.0, 0);
        assert_eq!(ActionType::UPDATE.0 & ActionType::DELETE.0, 0);
        assert_ne!(ActionType::UPDATE.0 & ActionType::UPDATE_POD_LABEL.0, 0);
        assert_eq!(
            ActionType::ALL.0,
            ActionType::UPDATE.0 | ActionType::ADD.0 | ActionType::DELETE.0
        );
        assert_eq!(ClusterEvent::NODE_ADD.label(), "NodeAdd".to_string());
    }

    use proptest::prelude::*;

    proptest! {
        /// For a single incoming action, a registration matches exactly
        /// when it holds that action's bit and the resources match (`Pod`
        /// covering both kinds of pod events); an incoming wildcard never
        /// matches a specific registration.
        #[test]
        fn matching_is_bit_membership(reg in 1u32..(1 << 13), bit in 0u32..13, r in 0usize..4, i in 0usize..4) {
            let res = [EventResource::Node, EventResource::Pod, EventResource::AssignedPod, EventResource::UnscheduledPod];
            let registered = ev(res[r], ActionType(reg));
            let incoming = ev(res[i], ActionType(1 << bit));
            let resources = res[r] == res[i]
                || (res[r] == EventResource::Pod && res[i] != EventResource::Node && res[i] != EventResource::Pod);
            let want = registered.is_wildcard() || (resources && reg & (1 << bit) != 0);
            prop_assert_eq!(match_cluster_events(&registered, &incoming), want);
            prop_assert_eq!(match_cluster_events(&registered, &ClusterEvent::WILDCARD), registered.is_wildcard());
        }
    }
}
