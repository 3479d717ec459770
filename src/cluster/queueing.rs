//! Where cluster events reach the scheduling queue (upstream
//! pkg/scheduler/eventhandlers.go and backend/queue/scheduling_queue.go
//! `MoveAllToActiveOrBackoffQueue`, `isPodWorthRequeuing`,
//! `AddUnschedulableIfNotPresent`, in-flight events), and scheduling gates
//! (the SchedulingGates PreEnqueue plugin and the timeline action that
//! removes gates).
//!
//! Each handler that changes something the scheduler sees calls
//! [`World::cluster_event`] with upstream's event (Node/Add, Node/Update*,
//! Node/Delete, AssignedPod/Add, AssignedPod/Delete, …) and the objects
//! before and after. A parked pod moves (to backoffQ while its back-off
//! runs, else activeQ) when a plugin that rejected it registered the event
//! and its QueueingHint says Queue; a pod that failed without a rejecting
//! plugin (an error) moves on any event; a pod of a policy that declares
//! no events moves on the events that always woke parked pods before
//! QueueingHints (`legacy`).
//!
//! In-flight events: a scheduling cycle is atomic in simulated time, so no
//! event arrives during one. A pod waiting at Permit or binding is still in
//! flight (upstream calls `Done` when its binding cycle ends): the events
//! that arrive meanwhile are recorded, and if the pod then fails they are
//! checked against its rejecting plugins' registrations (without the
//! event's objects: the hint is taken as Queue).

use std::collections::BTreeMap;

use super::World;
use crate::model::{Node, NodeId, PodId};
use crate::scheduler::hints::{
    node_scheduling_properties_change, ActionType, Change, ClusterEvent, EventResource, PodObj,
};
use crate::scheduler::queue::Rejectors;

/// An object an event is about, by id (resolved when the event is handled).
pub(super) enum Obj {
    None,
    Node(NodeId),
    /// A node as it was before an update.
    NodeBefore(Box<Node>),
    Pod {
        id: PodId,
        assigned: bool,
        nominated: bool,
    },
}

/// Upstream `PreEnqueueCheck`: which parked pods an event may move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PreCheck {
    All,
    /// Every pod but this one (the assumed pod of a failed binding cycle).
    Except(PodId),
    /// Pods of at most this priority (`getLEPriorityPreCheck`).
    PriorityAtMost(i32),
}

/// Queueing state kept by the World.
#[derive(Default)]
pub(super) struct QueueingState {
    /// Pods in their binding cycle (waiting at Permit or binding), with the
    /// events seen since.
    in_flight: BTreeMap<PodId, Vec<ClusterEvent>>,
}

impl World {
    /// Upstream `MoveAllToActiveOrBackoffQueue(event, old, new, preCheck)`.
    /// `legacy`: pods of policies that declare no events move too (the
    /// events that woke every parked pod before QueueingHints).
    pub(super) fn cluster_event(
        &mut self,
        ev: ClusterEvent,
        old: Obj,
        new: Obj,
        pre: PreCheck,
        legacy: bool,
    ) {
        for seen in self.qh.in_flight.values_mut() {
            seen.push(ev);
        }
        let parked = self.sched.unschedulable_pods();
        if parked.is_empty() {
            return;
        }
        let mut moves = Vec::new();
        {
            let view = cluster_view!(self);
            let pod_obj = |o: &Obj| match *o {
                Obj::Pod {
                    id,
                    assigned,
                    nominated,
                } => Some(PodObj {
                    id,
                    pod: &self.pods[id.0 as usize],
                    assigned,
                    nominated,
                }),
                _ => None,
            };
            fn node_ref<'a>(nodes: &'a [Node], o: &'a Obj) -> Option<&'a Node> {
                match o {
                    Obj::Node(id) => nodes.get(id.0 as usize),
                    Obj::NodeBefore(n) => Some(n),
                    _ => None,
                }
            }
            let change = match (&old, &new) {
                (Obj::Pod { .. }, _) | (_, Obj::Pod { .. }) => Change::Pod {
                    old: pod_obj(&old),
                    new: pod_obj(&new),
                },
                (Obj::None, Obj::None) => Change::None,
                _ => Change::Node {
                    old: node_ref(&self.nodes, &old),
                    new: node_ref(&self.nodes, &new),
                },
            };
            // Whether any plugin of a rejecting set registered the event,
            // per (schedulerName, set): most parked pods share a few sets.
            let mut interest: Vec<(&str, &[&'static str], bool)> = Vec::new();
            for p in parked {
                let go = match self.sched.rejectors(p) {
                    Rejectors::Undeclared => legacy,
                    Rejectors::Plugins(v) => {
                        let pod = &self.pods[p.0 as usize];
                        let admitted = match pre {
                            PreCheck::All => true,
                            PreCheck::Except(x) => x != p,
                            PreCheck::PriorityAtMost(prio) => pod.spec.priority <= prio,
                        };
                        if !admitted {
                            false
                        } else if v.is_empty() || ev.is_wildcard() {
                            true
                        } else {
                            let name = pod.spec.scheduler_name.as_str();
                            let known = interest
                                .iter()
                                .find(|(n, s, _)| *n == name && *s == v.as_slice());
                            let registered = match known {
                                Some(&(_, _, b)) => b,
                                None => {
                                    let b = self.policy.registers_event(name, v, &ev);
                                    interest.push((name, v.as_slice(), b));
                                    b
                                }
                            };
                            registered && self.policy.is_worth_requeuing(p, v, &ev, &change, &view)
                        }
                    }
                };
                if go {
                    moves.push(p);
                }
            }
        }
        for p in moves {
            if self.sched.take_unschedulable_pod(p) {
                self.requeue(p);
            }
        }
        self.wake_scheduler();
    }

    /// The events that woke every parked pod before QueueingHints but have
    /// no upstream counterpart here: only pods of policies that declare no
    /// events move.
    pub(super) fn legacy_wake(&mut self) {
        let parked = self.sched.unschedulable_pods();
        let mut any = false;
        for p in parked {
            if *self.sched.rejectors(p) == Rejectors::Undeclared
                && self.sched.take_unschedulable_pod(p)
            {
                self.requeue(p);
                any = true;
            }
        }
        if any {
            self.wake_scheduler();
        }
    }

    /// A node changed: upstream `updateNodeInCache` (one move per event
    /// `NodeSchedulingPropertiesChange` finds). `old` is the node before.
    pub(super) fn node_updated(&mut self, id: NodeId, old: Node, legacy: bool) {
        let events = node_scheduling_properties_change(&self.nodes[id.0 as usize], &old);
        let old = Box::new(old);
        if events.is_empty() {
            if legacy {
                self.legacy_wake();
            }
            return;
        }
        for ev in events {
            self.cluster_event(
                ev,
                Obj::NodeBefore(old.clone()),
                Obj::Node(id),
                PreCheck::All,
                legacy,
            );
        }
    }

    /// An assigned (bound or assumed) pod left its node: upstream
    /// `deleteAssignedPodFromCache` / `handleAssumedPodDeletion`.
    pub(super) fn assigned_pod_deleted(&mut self, id: PodId, pre: PreCheck, legacy: bool) {
        let nominated = self.pods[id.0 as usize].status.nominated_node.is_some();
        self.cluster_event(
            ClusterEvent::ASSIGNED_POD_DELETE,
            Obj::Pod {
                id,
                assigned: true,
                nominated,
            },
            Obj::None,
            pre,
            legacy,
        );
    }

    /// An unscheduled pod was deleted (`deletePodFromSchedulingQueue`):
    /// only a nominated one frees anything, for pods of lower or equal
    /// priority.
    pub(super) fn unscheduled_pod_deleted(&mut self, id: PodId, nominated: bool, legacy: bool) {
        if nominated {
            let prio = self.pods[id.0 as usize].spec.priority;
            self.cluster_event(
                ClusterEvent::ASSIGNED_POD_DELETE,
                Obj::Pod {
                    id,
                    assigned: false,
                    nominated: true,
                },
                Obj::None,
                PreCheck::PriorityAtMost(prio),
                legacy,
            );
        } else if legacy {
            self.legacy_wake();
        }
    }

    /// An unscheduled pod lost or changed its nominated node (upstream
    /// `updatePodInSchedulingQueue` with `hasNominatedNodeNameChanged`):
    /// pods of lower or equal priority may use what it held.
    pub(super) fn nomination_dropped(&mut self, id: PodId) {
        let prio = self.pods[id.0 as usize].spec.priority;
        self.cluster_event(
            ClusterEvent::ASSIGNED_POD_DELETE,
            Obj::Pod {
                id,
                assigned: false,
                nominated: true,
            },
            Obj::None,
            PreCheck::PriorityAtMost(prio),
            false,
        );
    }

    /// A pod was bound (`addAssignedPodToCache`): AssignedPod/Add.
    pub(super) fn assigned_pod_added(&mut self, id: PodId) {
        self.cluster_event(
            ClusterEvent::ASSIGNED_POD_ADD,
            Obj::None,
            Obj::Pod {
                id,
                assigned: true,
                nominated: false,
            },
            PreCheck::All,
            false,
        );
    }

    /// The pod's binding cycle starts (it stays in flight until it ends).
    pub(super) fn begin_flight(&mut self, id: PodId) {
        self.qh.in_flight.insert(id, Vec::new());
    }

    /// The pod's binding cycle ended; the events seen meanwhile.
    pub(super) fn end_flight(&mut self, id: PodId) -> Vec<ClusterEvent> {
        self.qh.in_flight.remove(&id).unwrap_or_default()
    }

    /// Upstream `AddUnschedulableIfNotPresent` with QueueingHints: a pod
    /// an in-flight event may help is requeued; the others wait in the
    /// unschedulable pods. Deviation: upstream sends a pod no plugin
    /// rejected (an error, no nodes) to backoffQ at once; kubesim parks it
    /// and any event (or the 5-minute flush) moves it, as
    /// `isPodWorthRequeuing` does for such pods. Upstream's immediate retry
    /// relies on SchedulerPopFromBackoffQ, which kubesim does not model;
    /// without it, and with no event to wait for, a failing pod would keep
    /// a run without a duration alive for ever.
    pub(super) fn park_rejected(&mut self, id: PodId, why: Rejectors, in_flight: &[ClusterEvent]) {
        let requeue = match &why {
            Rejectors::Undeclared => false,
            Rejectors::Plugins(v) if v.is_empty() => !in_flight.is_empty(),
            Rejectors::Plugins(v) => {
                let view = cluster_view!(self);
                in_flight.iter().any(|ev| {
                    ev.is_wildcard()
                        || self
                            .policy
                            .is_worth_requeuing(id, v, ev, &Change::None, &view)
                })
            }
        };
        if requeue {
            self.requeue(id);
        } else {
            self.sched.park_unschedulable_with(id, self.now, why);
        }
    }

    // -----------------------------------------------------------------------
    // Scheduling gates.

    /// A new pod with scheduling gates: PreEnqueue (SchedulingGates)
    /// rejects it, so it waits outside the queues, Pending with
    /// PodScheduled=False reason `SchedulingGated`.
    pub(super) fn gate_pod(&mut self, id: PodId) {
        let gates = self.pods[id.0 as usize].spec.scheduling_gates.join(" ");
        self.sched.park_gated(id);
        let st = &mut self.pods[id.0 as usize].status;
        st.reason = "SchedulingGated".to_string();
        st.message = "Scheduling is blocked due to non-empty scheduling gates".to_string();
        let msg = format!("waiting for scheduling gates: [{gates}]");
        self.log_event(
            "PodSchedulingGated",
            Some(id),
            None,
            Some("SchedulingGated"),
            Some(&msg),
        );
    }

    /// The `removeSchedulingGates` action: removes `gates` (all if empty)
    /// from the pods it selects; a pod whose last gate goes enters the
    /// queue (Pod/UpdatePodSchedulingGatesEliminated, queued by the
    /// SchedulingGates hint).
    pub(super) fn remove_scheduling_gates(&mut self, sel: &crate::scenario::GateRemoval) {
        let targets: Vec<PodId> = self
            .pods
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                self.pod_rt[*i].live
                    && p.meta.namespace == sel.namespace
                    && !p.spec.scheduling_gates.is_empty()
                    && match &sel.target {
                        crate::scenario::GateTarget::Name(n) => &p.meta.name == n,
                        crate::scenario::GateTarget::Selector(s) => s.matches(&p.meta.labels),
                    }
            })
            .map(|(i, _)| PodId(i as u32))
            .collect();
        if targets.is_empty() {
            self.log.record(
                self.now,
                "PodNotFound",
                None,
                None,
                Some("NotFound"),
                Some("removeSchedulingGates selects no pod with scheduling gates at this time"),
            );
            return;
        }
        for id in targets {
            let idx = id.0 as usize;
            let before = self.pods[idx].spec.scheduling_gates.len();
            self.pods[idx]
                .spec
                .scheduling_gates
                .retain(|g| !sel.gates.is_empty() && !sel.gates.contains(g));
            let left = self.pods[idx].spec.scheduling_gates.len();
            if left == before {
                continue;
            }
            let msg = if left == 0 {
                "all scheduling gates removed".to_string()
            } else {
                format!(
                    "scheduling gates left: [{}]",
                    self.pods[idx].spec.scheduling_gates.join(" ")
                )
            };
            self.log_event(
                "PodSchedulingGatesRemoved",
                Some(id),
                None,
                None,
                Some(&msg),
            );
            if left == 0 && self.sched.ungate(id) {
                // Upstream `Update` of an unschedulable (gated) pod with the
                // event UnscheduledPod/UpdatePodSchedulingGatesEliminated:
                // the SchedulingGates hint queues it; never attempted, it
                // has no back-off, so it goes to activeQ.
                let st = &mut self.pods[idx].status;
                st.reason.clear();
                st.message.clear();
                let prio = self.pods[idx].spec.priority;
                self.sched.push_active(id, prio, self.now);
                let ev = ClusterEvent::new(
                    EventResource::UnscheduledPod,
                    ActionType::UPDATE_POD_SCHEDULING_GATES_ELIMINATED,
                );
                for seen in self.qh.in_flight.values_mut() {
                    seen.push(ev);
                }
                self.wake_scheduler();
            }
        }
    }
}
