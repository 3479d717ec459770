//! The QueueingHint functions of the default plugins whose logic needs no
//! private plugin state (upstream v1.35, each plugin's `EventsToRegister`
//! with SchedulerQueueingHints enabled and its `isSchedulableAfter*`
//! functions): NodeResourcesFit, NodeUnschedulable, NodeName, NodePorts,
//! TaintToleration, InterPodAffinity and SchedulingGates. NodeAffinity's
//! and PodTopologySpread's live beside their plugins (they read the
//! plugins' args).

use crate::model::affinity::PodAffinityTerm;
use crate::model::meta::ObjectMeta;
use crate::model::taints::{find_untolerated, TaintEffect};
use crate::model::{Labels, Node, Pod, PodId};
use crate::scheduler::framework::ClusterView;
use crate::scheduler::hints::{
    ActionType as A, Change, ClusterEvent, EventResource as R, PodObj, QueueingHint,
};

use super::node_ports::{fits_ports, wanted_ports};
use super::node_resources_fit::{compute_pod_resource_request, fits};

use QueueingHint::{Queue, QueueSkip};

// ---------------------------------------------------------------------------
// NodeResourcesFit (plugins/noderesources/fit.go).

/// Pod/Delete|UpdatePodScaleDown (InPlacePodVerticalScaling is on in
/// v1.35), Node/Add|UpdateNodeAllocatable.
pub const FIT_EVENTS: &[ClusterEvent] = &[
    ClusterEvent::new(R::Pod, A::DELETE.or(A::UPDATE_POD_SCALE_DOWN)),
    ClusterEvent::new(R::Node, A::ADD.or(A::UPDATE_NODE_ALLOCATABLE)),
];

/// Upstream `isFit`: whether the pod fits the node with nothing on it.
pub fn fits_empty_node(pod: &Pod, node: &Node) -> bool {
    let empty = Node::new(
        ObjectMeta::default(),
        node.capacity.clone(),
        node.allocatable.clone(),
    );
    fits(pod, &empty).is_empty()
}

/// Upstream `haveAnyRequestedResourcesIncreased`.
pub fn have_any_requested_resources_increased(pod: &Pod, old: &Node, new: &Node) -> bool {
    let req = compute_pod_resource_request(pod);
    let (o, n) = (&old.allocatable, &new.allocatable);
    if n.pods > o.pods {
        return true;
    }
    if req.cpu_m == 0 && req.memory == 0 && req.ephemeral_storage == 0 && req.scalar.is_empty() {
        return false;
    }
    if (req.cpu_m > 0 && n.cpu_m > o.cpu_m)
        || (req.memory > 0 && n.memory > o.memory)
        || (req.ephemeral_storage > 0 && n.ephemeral_storage > o.ephemeral_storage)
    {
        return true;
    }
    req.scalar.iter().any(|(name, &q)| {
        q != 0
            && n.scalar.get(name).copied().unwrap_or(0) > o.scalar.get(name).copied().unwrap_or(0)
    })
}

/// Upstream `Fit.isSchedulableAfterPodEvent` and
/// `Fit.isSchedulableAfterNodeChange`.
pub fn fit_hint(pod_id: PodId, pod: &Pod, change: &Change) -> QueueingHint {
    match *change {
        Change::Pod { old, new } => match (old, new) {
            (Some(old), None) => {
                if !old.assigned && !old.nominated {
                    QueueSkip
                } else {
                    Queue
                }
            }
            // A scale-down of the target pod itself; kubesim emits no
            // other pod scale-down events.
            (_, Some(new)) if new.id == pod_id => Queue,
            _ => QueueSkip,
        },
        Change::Node { old, new } => {
            let Some(new) = new else { return Queue };
            if !fits_empty_node(pod, new) {
                return QueueSkip;
            }
            match old {
                None => Queue,
                Some(old) if have_any_requested_resources_increased(pod, old, new) => Queue,
                Some(_) => QueueSkip,
            }
        }
        Change::None => Queue,
    }
}

// ---------------------------------------------------------------------------
// NodeUnschedulable (plugins/nodeunschedulable).

/// Node/Add|UpdateNodeTaint (and Pod/UpdatePodToleration, which kubesim
/// never emits: tolerations are not updated).
pub const NODE_UNSCHEDULABLE_EVENTS: &[ClusterEvent] = &[
    ClusterEvent::new(R::Node, A::ADD.or(A::UPDATE_NODE_TAINT)),
    ClusterEvent::new(R::Pod, A::UPDATE_POD_TOLERATION),
];

/// Upstream `NodeUnschedulable.isSchedulableAfterNodeChange`.
pub fn node_unschedulable_hint(change: &Change) -> QueueingHint {
    match change.nodes() {
        (Some(old), Some(new)) if old.unschedulable && !new.unschedulable => Queue,
        (None, Some(new)) if !new.unschedulable => Queue,
        (_, None) => Queue,
        _ => QueueSkip,
    }
}

// ---------------------------------------------------------------------------
// NodeName (plugins/nodename).

pub const NODE_NAME_EVENTS: &[ClusterEvent] = &[ClusterEvent::NODE_ADD];

/// Upstream `NodeName.isSchedulableAfterNodeAdd`.
pub fn node_name_hint(pod: &Pod, change: &Change) -> QueueingHint {
    match change.nodes() {
        (_, Some(n)) => match &pod.spec.node_name {
            Some(name) if !name.is_empty() && name != n.name() => QueueSkip,
            _ => Queue,
        },
        _ => Queue,
    }
}

// ---------------------------------------------------------------------------
// NodePorts (plugins/nodeports).

/// Pod/Delete with a hint; Node/Add without one (always Queue).
pub const NODE_PORTS_EVENTS: &[ClusterEvent] =
    &[ClusterEvent::new(R::Pod, A::DELETE), ClusterEvent::NODE_ADD];

/// Upstream `NodePorts.isSchedulableAfterPodDeleted` (Node/Add: Queue).
pub fn node_ports_hint(pod: &Pod, change: &Change) -> QueueingHint {
    let Change::Pod { old, .. } = *change else {
        return Queue;
    };
    let Some(deleted) = old else { return Queue };
    if !deleted.assigned && !deleted.nominated {
        return QueueSkip;
    }
    let used = wanted_ports(deleted.pod);
    if used.is_empty() {
        return QueueSkip;
    }
    if fits_ports(&wanted_ports(pod), used.iter()) {
        QueueSkip
    } else {
        Queue
    }
}

// ---------------------------------------------------------------------------
// TaintToleration (plugins/tainttoleration).

/// Node/Add|UpdateNodeTaint (and Pod/UpdatePodToleration, never emitted).
pub const TAINT_TOLERATION_EVENTS: &[ClusterEvent] = &[
    ClusterEvent::new(R::Node, A::ADD.or(A::UPDATE_NODE_TAINT)),
    ClusterEvent::new(R::Pod, A::UPDATE_POD_TOLERATION),
];

fn untolerated(node: &Node, pod: &Pod) -> bool {
    find_untolerated(
        &node.taints,
        &pod.spec.tolerations,
        &[TaintEffect::NoSchedule, TaintEffect::NoExecute],
    )
    .is_some()
}

/// Upstream `TaintToleration.isSchedulableAfterNodeChange` (and
/// `isSchedulableAfterPodTolerationChange` for the pod itself).
pub fn taint_toleration_hint(pod_id: PodId, pod: &Pod, change: &Change) -> QueueingHint {
    match *change {
        Change::Node { old, new } => {
            let Some(new) = new else { return Queue };
            let was = old.is_none_or(|o| untolerated(o, pod));
            if was && !untolerated(new, pod) {
                Queue
            } else {
                QueueSkip
            }
        }
        Change::Pod { new: Some(n), .. } if n.id == pod_id => Queue,
        Change::Pod { .. } => QueueSkip,
        Change::None => Queue,
    }
}

// ---------------------------------------------------------------------------
// InterPodAffinity (plugins/interpodaffinity/plugin.go).

/// Pod/Add|UpdatePodLabel|Delete, Node/Add|UpdateNodeLabel.
pub const INTER_POD_AFFINITY_EVENTS: &[ClusterEvent] = &[
    ClusterEvent::new(R::Pod, A::ADD.or(A::UPDATE_POD_LABEL).or(A::DELETE)),
    ClusterEvent::new(R::Node, A::ADD.or(A::UPDATE_NODE_LABEL)),
];

/// Upstream `AffinityTerm.Matches(pod, nsLabels)` for a term of a pod in
/// `owner_ns` (`GetAffinityTerms`: no namespaces and no selector means the
/// owner's namespace).
fn term_matches(term: &PodAffinityTerm, owner_ns: &str, pod: &Pod, ns_labels: &Labels) -> bool {
    let ns_ok = if term.namespaces.is_empty() && term.namespace_selector.is_none() {
        pod.meta.namespace == owner_ns
    } else {
        term.namespaces.contains(&pod.meta.namespace)
            || term
                .namespace_selector
                .as_ref()
                .is_some_and(|s| s.matches(ns_labels))
    };
    ns_ok
        && term
            .label_selector
            .as_ref()
            .is_some_and(|s| s.matches(&pod.meta.labels))
}

/// Upstream `podMatchesAllAffinityTerms` (false without terms). The hint
/// matches with no namespace labels, as upstream's `Matches(pod, nil)`.
fn matches_all_terms(terms: &[PodAffinityTerm], owner: &Pod, pod: &Pod) -> bool {
    let none = Labels::new();
    !terms.is_empty()
        && terms
            .iter()
            .all(|t| term_matches(t, &owner.meta.namespace, pod, &none))
}

fn affinity_terms(pod: &Pod) -> &[PodAffinityTerm] {
    pod.spec
        .pod_affinity
        .as_ref()
        .map(|a| a.required.as_slice())
        .unwrap_or(&[])
}

fn anti_affinity_terms(pod: &Pod) -> &[PodAffinityTerm] {
    pod.spec
        .pod_anti_affinity
        .as_ref()
        .map(|a| a.required.as_slice())
        .unwrap_or(&[])
}

/// Upstream `InterPodAffinity.isSchedulableAfterPodChange`.
pub fn inter_pod_affinity_pod_hint(
    pod_id: PodId,
    pod: &Pod,
    old: Option<PodObj>,
    new: Option<PodObj>,
    view: &ClusterView,
) -> QueueingHint {
    if new.is_some_and(|n| n.id == pod_id) {
        // The target pod itself was updated.
        return Queue;
    }
    if new.is_some_and(|n| !n.assigned) || old.is_some_and(|o| !o.assigned) {
        return QueueSkip;
    }
    let terms = affinity_terms(pod);
    let anti = anti_affinity_terms(pod);
    match (old, new) {
        (Some(o), Some(n)) => {
            if !matches_all_terms(terms, pod, o.pod) && matches_all_terms(terms, pod, n.pod) {
                return Queue;
            }
            if matches_all_terms(anti, pod, o.pod) && !matches_all_terms(anti, pod, n.pod) {
                return Queue;
            }
            QueueSkip
        }
        (None, Some(n)) => {
            if matches_all_terms(terms, pod, n.pod) {
                Queue
            } else {
                QueueSkip
            }
        }
        (Some(o), None) => {
            if matches_all_terms(anti, pod, o.pod) {
                return Queue;
            }
            // The deleted pod's own anti-affinity may have rejected the
            // target pod.
            let ns_labels = view
                .namespaces
                .get(&pod.meta.namespace)
                .cloned()
                .unwrap_or_default();
            if anti_affinity_terms(o.pod)
                .iter()
                .any(|t| term_matches(t, &o.pod.meta.namespace, pod, &ns_labels))
            {
                Queue
            } else {
                QueueSkip
            }
        }
        (None, None) => Queue,
    }
}

/// Upstream `InterPodAffinity.isSchedulableAfterNodeChange`: affinity
/// terms queue on a node added with the topology key, or an update adding
/// the key or changing its value; anti-affinity terms queue on any node
/// added, or an update removing the key or changing its value.
pub fn inter_pod_affinity_node_hint(
    pod: &Pod,
    old: Option<&Node>,
    new: Option<&Node>,
) -> QueueingHint {
    let Some(new) = new else { return Queue };
    for t in affinity_terms(pod) {
        let k = &t.topology_key;
        let nv = new.meta.labels.get(k);
        match old {
            None => {
                if nv.is_some() {
                    return Queue;
                }
            }
            Some(old) => {
                let ov = old.meta.labels.get(k);
                if (ov.is_none() && nv.is_some()) || (ov.is_some() && nv.is_some() && ov != nv) {
                    return Queue;
                }
            }
        }
    }
    for t in anti_affinity_terms(pod) {
        let k = &t.topology_key;
        let Some(old) = old else { return Queue };
        let ov = old.meta.labels.get(k);
        let nv = new.meta.labels.get(k);
        if (ov.is_some() && nv.is_none()) || (ov.is_some() && nv.is_some() && ov != nv) {
            return Queue;
        }
    }
    QueueSkip
}

pub fn inter_pod_affinity_hint(
    pod_id: PodId,
    pod: &Pod,
    change: &Change,
    view: &ClusterView,
) -> QueueingHint {
    match *change {
        Change::Pod { old, new } => inter_pod_affinity_pod_hint(pod_id, pod, old, new, view),
        Change::Node { old, new } => inter_pod_affinity_node_hint(pod, old, new),
        Change::None => Queue,
    }
}

// ---------------------------------------------------------------------------
// SchedulingGates (plugins/schedulinggates).

pub const SCHEDULING_GATES_EVENTS: &[ClusterEvent] = &[ClusterEvent::new(
    R::Pod,
    A::UPDATE_POD_SCHEDULING_GATES_ELIMINATED,
)];

/// Upstream `isSchedulableAfterUpdatePodSchedulingGatesEliminated`: the
/// pod whose gates were all removed is the one to queue.
pub fn scheduling_gates_hint(pod_id: PodId, change: &Change) -> QueueingHint {
    match change.pods() {
        (_, Some(n)) if n.id == pod_id => Queue,
        _ => QueueSkip,
    }
}

#[cfg(test)]
mod tests;
