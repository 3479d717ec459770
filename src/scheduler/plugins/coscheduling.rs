//! Coscheduling (PreFilter, Permit): gang scheduling, after the
//! Coscheduling plugin of sigs.k8s.io/scheduler-plugins
//! (pkg/coscheduling/coscheduling.go `PreFilter`, `Permit`;
//! pkg/coscheduling/core/core.go `PodGroupManager.PreFilter`, `Permit`,
//! `CalculateAssignedPods`).
//!
//! A pod belongs to the group named by its `scheduling.x-k8s.io/pod-group`
//! label, in its namespace. PreFilter rejects the pod while fewer than the
//! group's minimum of its pods exist; Permit holds each pod (assumed on its
//! node) until the group's assumed or bound pods, this one included, reach
//! the minimum, then allows it and releases every pod of the group waiting
//! at Permit. A pod held longer than `permitWaitingTime` times out; the
//! World handles the timeout.
//!
//! Deviations (kubesim simplifications):
//! - No PodGroup CRD: the group's `minMember` is read from the pod's
//!   `scheduling.x-k8s.io/min-available` annotation (a non-negative
//!   integer). A pod with the label but without a valid annotation is like
//!   a pod whose PodGroup is not found: PreFilter lets it through and
//!   Permit rejects it (`PodGroup not found`). `minResources`,
//!   `scheduleTimeoutSeconds` and the backoff of recently failed groups are
//!   not modelled; the wait is always `permit_waiting_time`.
//! - PreFilter rejects with `Unschedulable` (as kubesim's brief asks;
//!   recent scheduler-plugins releases return `UnschedulableAndUnresolvable`
//!   so that the rejection does not trigger preemption). The pods counted
//!   are the live ones: not terminal and not being deleted (upstream's pod
//!   informer drops terminal pods but keeps terminating ones).
//! - Assigned pods (upstream: pods with a node in the scheduler's snapshot)
//!   are the group's pods on present nodes (`node.pods`: assumed or bound,
//!   not terminal) plus the pods waiting at Permit.
//! - Not implemented: the QueueSort `Less` by group, PostFilter's rejection
//!   of the whole group, Unreserve's rejection of the waiting siblings, and
//!   activating siblings on Wait.

use crate::model::{NodeId, Pod, PodId};
use crate::scheduler::config::CoschedulingArgs;
use crate::scheduler::framework::{
    ClusterView, CycleState, PermitDecision, Plugin, Point, PreFilterOutcome, Status,
};

/// The plugin name.
pub const NAME: &str = "Coscheduling";
/// The label naming a pod's group (upstream `v1alpha1.PodGroupLabel`).
pub const POD_GROUP_LABEL: &str = "scheduling.x-k8s.io/pod-group";
/// kubesim's stand-in for the PodGroup's `spec.minMember`.
pub const MIN_AVAILABLE_ANNOTATION: &str = "scheduling.x-k8s.io/min-available";
/// Permit's rejection of a pod whose group has no minimum (upstream's text).
pub const ERR_POD_GROUP_NOT_FOUND: &str = "PodGroup not found";

pub struct Coscheduling {
    args: CoschedulingArgs,
}

/// The group name of a pod (upstream `util.GetPodGroupLabel`), if set and
/// not empty.
pub fn pod_group_label(pod: &Pod) -> Option<&str> {
    pod.meta
        .labels
        .get(POD_GROUP_LABEL)
        .map(String::as_str)
        .filter(|s| !s.is_empty())
}

/// `namespace/group` (upstream `util.GetPodGroupFullName`).
pub fn pod_group_full_name(pod: &Pod) -> Option<String> {
    pod_group_label(pod).map(|g| format!("{}/{}", pod.meta.namespace, g))
}

/// The group's minimum from the pod's annotation; `None` if absent or not
/// a non-negative 32-bit integer (the group is then "not found").
pub fn min_available(pod: &Pod) -> Option<i64> {
    pod.meta
        .annotations
        .get(MIN_AVAILABLE_ANNOTATION)
        .and_then(|v| v.trim().parse::<i32>().ok())
        .filter(|n| *n >= 0)
        .map(i64::from)
}

/// Not terminal and not being deleted.
fn is_live(p: &Pod) -> bool {
    !p.phase().is_terminal() && p.meta.deletion_timestamp.is_none()
}

/// Whether `p` is in the group `group` of namespace `ns`.
fn in_group(p: &Pod, ns: &str, group: &str) -> bool {
    p.meta.namespace == ns && pod_group_label(p) == Some(group)
}

impl Coscheduling {
    pub fn new(args: CoschedulingArgs) -> Coscheduling {
        Coscheduling { args }
    }

    /// The live pods of `pod`'s group (upstream's pod lister with the group
    /// label, which holds `pod` itself).
    pub fn group_pod_count(pod: &Pod, group: &str, view: &ClusterView) -> usize {
        view.pods
            .iter()
            .filter(|p| in_group(p, &pod.meta.namespace, group))
            .filter(|p| is_live(p))
            .count()
    }

    /// Upstream `CalculateAssignedPods`: the group's pods assumed or bound
    /// on a present node, plus the live ones waiting at Permit, `pod`
    /// itself excluded (it is not assumed yet during its Permit).
    pub fn assigned_pod_count(
        pod: &Pod,
        group: &str,
        waiting: &[PodId],
        view: &ClusterView,
    ) -> usize {
        let ns = pod.meta.namespace.as_str();
        let is_other = |id: &PodId| -> Option<&Pod> {
            view.pods
                .get(id.0 as usize)
                .filter(|p| in_group(p, ns, group) && p.meta.uid != pod.meta.uid)
        };
        let mut assigned: Vec<PodId> = view
            .nodes
            .iter()
            .filter(|n| n.present)
            .flat_map(|n| n.pods.iter())
            .filter(|id| is_other(id).is_some_and(|p| !p.phase().is_terminal()))
            .copied()
            .collect();
        // A waiting pod deleted meanwhile is no longer part of the gang.
        assigned.extend(
            waiting
                .iter()
                .filter(|id| is_other(id).is_some_and(is_live)),
        );
        assigned.sort();
        assigned.dedup();
        assigned.len()
    }
}

impl Plugin for Coscheduling {
    fn name(&self) -> &'static str {
        NAME
    }
    fn points(&self) -> &'static [Point] {
        &[Point::PreFilter, Point::Permit]
    }

    /// Rejects the pod while its group has fewer live pods than its minimum.
    fn pre_filter(
        &self,
        _state: &mut CycleState,
        pod: &Pod,
        view: &ClusterView,
    ) -> PreFilterOutcome {
        let (Some(group), Some(min)) = (pod_group_label(pod), min_available(pod)) else {
            return PreFilterOutcome::ok();
        };
        let n = Self::group_pod_count(pod, group, view);
        if i64::try_from(n).unwrap_or(i64::MAX) < min {
            return PreFilterOutcome::status(
                Status::unschedulable(format!(
                    "pre-filter pod {} cannot find enough sibling pods, current pods number: {}, minMember of group: {}",
                    pod.meta.name, n, min
                ))
                .with_plugin(NAME),
            );
        }
        PreFilterOutcome::ok()
    }

    /// Waits until the group's assigned pods plus this one reach the
    /// minimum; then allows the pod and releases the group's waiting pods.
    fn permit(
        &self,
        _state: &CycleState,
        pod: &Pod,
        _node: NodeId,
        waiting: &[PodId],
        view: &ClusterView,
    ) -> (PermitDecision, Vec<PodId>) {
        let Some(group) = pod_group_label(pod) else {
            return (PermitDecision::Allow, Vec::new());
        };
        let Some(min) = min_available(pod) else {
            return (
                PermitDecision::Reject(
                    Status::unschedulable(ERR_POD_GROUP_NOT_FOUND).with_plugin(NAME),
                ),
                Vec::new(),
            );
        };
        let assigned = Self::assigned_pod_count(pod, group, waiting, view);
        if i64::try_from(assigned)
            .unwrap_or(i64::MAX)
            .saturating_add(1)
            < min
        {
            return (
                PermitDecision::Wait(self.args.permit_waiting_time),
                Vec::new(),
            );
        }
        let ns = pod.meta.namespace.as_str();
        let release = waiting
            .iter()
            .copied()
            .filter(|id| {
                view.pods.get(id.0 as usize).is_some_and(|p| {
                    in_group(p, ns, group) && p.meta.uid != pod.meta.uid && is_live(p)
                })
            })
            .collect();
        (PermitDecision::Allow, release)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Duration, SimTime};
    use crate::model::pod::{PodBehavior, PodSpec};
    use crate::model::{Labels, Node, NodeId, ObjectMeta, PodPhase, Resources};
    use crate::scheduler::framework::Code;
    use std::collections::BTreeMap;

    fn mk_pod(name: &str, ns: &str, group: Option<&str>, min: Option<&str>) -> Pod {
        let mut meta = ObjectMeta {
            name: name.into(),
            namespace: ns.into(),
            uid: format!("{ns}/{name}"),
            ..Default::default()
        };
        if let Some(g) = group {
            meta.labels.insert(POD_GROUP_LABEL.into(), g.into());
        }
        if let Some(m) = min {
            meta.annotations
                .insert(MIN_AVAILABLE_ANNOTATION.into(), m.into());
        }
        Pod::new(meta, PodSpec::default(), PodBehavior::default())
    }

    struct Fx {
        nodes: Vec<Node>,
        pods: Vec<Pod>,
        namespaces: BTreeMap<String, Labels>,
        image_nodes: BTreeMap<String, u32>,
        order: Vec<NodeId>,
        nominated: BTreeMap<NodeId, Vec<PodId>>,
        aff_nodes: std::collections::BTreeSet<NodeId>,
        anti_nodes: std::collections::BTreeSet<NodeId>,
        waiting: Vec<PodId>,
    }

    impl Fx {
        fn new() -> Fx {
            let mut r = Resources::new(4000, 1 << 30);
            r.pods = 110;
            let node = Node::new(
                ObjectMeta {
                    name: "node1".into(),
                    ..Default::default()
                },
                r.clone(),
                r,
            );
            Fx {
                nodes: vec![node],
                pods: vec![],
                namespaces: BTreeMap::new(),
                image_nodes: BTreeMap::new(),
                order: vec![NodeId(0)],
                nominated: BTreeMap::new(),
                aff_nodes: Default::default(),
                anti_nodes: Default::default(),
                waiting: vec![],
            }
        }
        fn add(&mut self, p: Pod) -> PodId {
            self.pods.push(p);
            PodId(self.pods.len() as u32 - 1)
        }
        /// A pod assumed or bound on node1.
        fn assign(&mut self, mut p: Pod) -> PodId {
            let id = PodId(self.pods.len() as u32);
            p.status.node = Some(NodeId(0));
            self.nodes[0].add_pod(id, &p);
            let (a, b) = crate::scheduler::framework::affinity_node_sets(&self.nodes);
            self.aff_nodes = a;
            self.anti_nodes = b;
            self.add(p)
        }
        /// A pod held at Permit (assumed on node1).
        fn wait(&mut self, p: Pod) -> PodId {
            let id = self.assign(p);
            self.waiting.push(id);
            id
        }
        fn view(&self) -> ClusterView<'_> {
            ClusterView {
                nodes: &self.nodes,
                pods: &self.pods,
                namespaces: &self.namespaces,
                image_nodes: &self.image_nodes,
                node_order: &self.order,
                nominated: &self.nominated,
                waiting: &self.waiting,
                nodes_with_affinity: &self.aff_nodes,
                nodes_with_required_anti_affinity: &self.anti_nodes,
                pod_changes: None,
                now: SimTime(0),
                pdbs: &[],
            }
        }
    }

    fn plugin() -> Coscheduling {
        Coscheduling::new(CoschedulingArgs::default())
    }

    fn pre_filter(fx: &Fx, pod: PodId) -> Status {
        let mut st = CycleState::default();
        plugin()
            .pre_filter(&mut st, &fx.pods[pod.0 as usize], &fx.view())
            .status
    }

    fn permit(pl: &Coscheduling, fx: &Fx, pod: PodId) -> (PermitDecision, Vec<PodId>) {
        pl.permit(
            &CycleState::default(),
            &fx.pods[pod.0 as usize],
            NodeId(0),
            &fx.waiting,
            &fx.view(),
        )
    }

    #[test]
    fn group_names() {
        let p = mk_pod("a", "ns", Some("g"), Some("3"));
        assert_eq!(pod_group_label(&p), Some("g"));
        assert_eq!(pod_group_full_name(&p).as_deref(), Some("ns/g"));
        assert_eq!(min_available(&p), Some(3));
        assert_eq!(pod_group_label(&mk_pod("a", "ns", Some(""), None)), None);
        for bad in ["", "x", "-1", "99999999999", "1.5"] {
            assert_eq!(
                min_available(&mk_pod("a", "ns", Some("g"), Some(bad))),
                None,
                "{bad}"
            );
        }
        assert_eq!(
            min_available(&mk_pod("a", "ns", Some("g"), Some(" 2 "))),
            Some(2)
        );
    }

    /// Upstream `TestPreFilter` cases: pods without a group or without a
    /// PodGroup pass; too few siblings are rejected.
    #[test]
    fn pre_filter_counts_live_siblings() {
        let mut fx = Fx::new();
        let lone = fx.add(mk_pod("lone", "ns", None, None));
        let no_min = fx.add(mk_pod("nomin", "ns", Some("g0"), None));
        assert!(pre_filter(&fx, lone).is_success());
        assert!(pre_filter(&fx, no_min).is_success());

        let p1 = fx.add(mk_pod("p1", "ns", Some("g"), Some("3")));
        fx.add(mk_pod("p2", "ns", Some("g"), Some("3")));
        // Not counted: another namespace, another group, terminal, deleted.
        fx.add(mk_pod("o1", "other", Some("g"), Some("3")));
        fx.add(mk_pod("o2", "ns", Some("h"), Some("3")));
        let mut done = mk_pod("o3", "ns", Some("g"), Some("3"));
        done.status.phase = Some(PodPhase::Succeeded);
        fx.add(done);
        let mut gone = mk_pod("o4", "ns", Some("g"), Some("3"));
        gone.meta.deletion_timestamp = Some(SimTime(1));
        fx.add(gone);
        let s = pre_filter(&fx, p1);
        assert_eq!(s.code, Code::Unschedulable);
        assert_eq!(
            s.message(),
            "pre-filter pod p1 cannot find enough sibling pods, current pods number: 2, minMember of group: 3"
        );
        assert_eq!(s.plugin, NAME);
        // A third live pod (even if already bound) satisfies the group.
        fx.assign(mk_pod("p3", "ns", Some("g"), Some("3")));
        assert!(pre_filter(&fx, p1).is_success());
        // min-available 0 always passes.
        let z = fx.add(mk_pod("z", "ns", Some("zero"), Some("0")));
        assert!(pre_filter(&fx, z).is_success());
    }

    /// Upstream `TestPermit` cases: no group allows; a group without a
    /// PodGroup is rejected; too few assigned pods wait; reaching the
    /// minimum allows and releases the waiting siblings.
    #[test]
    fn permit_waits_then_allows_and_releases() {
        let mut fx = Fx::new();
        let lone = fx.add(mk_pod("lone", "ns", None, None));
        assert_eq!(
            permit(&plugin(), &fx, lone),
            (PermitDecision::Allow, vec![])
        );
        let no_min = fx.add(mk_pod("nomin", "ns", Some("g0"), Some("x")));
        let (d, r) = permit(&plugin(), &fx, no_min);
        assert_eq!(
            d,
            PermitDecision::Reject(
                Status::unschedulable(ERR_POD_GROUP_NOT_FOUND).with_plugin(NAME)
            )
        );
        assert!(r.is_empty());

        // Group of 3: the first pod waits for the default 60s.
        let p1 = fx.add(mk_pod("p1", "ns", Some("g"), Some("3")));
        let p2 = fx.add(mk_pod("p2", "ns", Some("g"), Some("3")));
        let p3 = fx.add(mk_pod("p3", "ns", Some("g"), Some("3")));
        assert_eq!(
            permit(&plugin(), &fx, p1),
            (PermitDecision::Wait(Duration::from_secs(60)), vec![])
        );
        // With a configured waiting time.
        let custom = Coscheduling::new(CoschedulingArgs {
            permit_waiting_time: Duration::from_secs(5),
        });
        assert_eq!(
            permit(&custom, &fx, p1),
            (PermitDecision::Wait(Duration::from_secs(5)), vec![])
        );
        // p1 is held at Permit; p2 still waits (1 assigned + itself < 3).
        fx.pods[p1.0 as usize].status.node = Some(NodeId(0));
        fx.nodes[0].add_pod(p1, &fx.pods[p1.0 as usize].clone());
        fx.waiting.push(p1);
        assert!(matches!(
            permit(&plugin(), &fx, p2).0,
            PermitDecision::Wait(_)
        ));
        // p2 held too; other groups' waiting pods are never released.
        fx.pods[p2.0 as usize].status.node = Some(NodeId(0));
        fx.nodes[0].add_pod(p2, &fx.pods[p2.0 as usize].clone());
        fx.waiting.push(p2);
        let other = fx.wait(mk_pod("x1", "ns", Some("other"), Some("5")));
        let other_ns = fx.wait(mk_pod("p9", "ns2", Some("g"), Some("3")));
        // p3 completes the group: allowed, and p1 and p2 are released.
        let (d, r) = permit(&plugin(), &fx, p3);
        assert_eq!(d, PermitDecision::Allow);
        assert_eq!(r, vec![p1, p2]);
        assert!(!r.contains(&other) && !r.contains(&other_ns));
        // A waiting sibling deleted meanwhile (e.g. preempted) is neither
        // counted nor released.
        fx.pods[p2.0 as usize].meta.deletion_timestamp = Some(SimTime(1));
        fx.nodes[0].remove_pod(p2, &fx.pods[p2.0 as usize].clone());
        assert!(matches!(
            permit(&plugin(), &fx, p3).0,
            PermitDecision::Wait(_)
        ));
        let p4 = fx.add(mk_pod("p4", "ns", Some("g"), Some("3")));
        fx.pods[p3.0 as usize].status.node = Some(NodeId(0));
        fx.nodes[0].add_pod(p3, &fx.pods[p3.0 as usize].clone());
        fx.waiting.push(p3);
        assert_eq!(
            permit(&plugin(), &fx, p4),
            (PermitDecision::Allow, vec![p1, p3])
        );
    }

    /// Bound pods count as assigned; terminal ones and pods of removed
    /// nodes do not; the pod itself is never counted.
    #[test]
    fn assigned_pods_counting() {
        let mut fx = Fx::new();
        let p = fx.add(mk_pod("p", "ns", Some("g"), Some("2")));
        // A sibling that finished: no longer on the node.
        let mut done = mk_pod("done", "ns", Some("g"), Some("2"));
        done.status.phase = Some(PodPhase::Succeeded);
        fx.add(done);
        assert!(matches!(
            permit(&plugin(), &fx, p).0,
            PermitDecision::Wait(_)
        ));
        // A terminal pod still listed on a node is not counted.
        let mut stale = mk_pod("stale", "ns", Some("g"), Some("2"));
        stale.status.phase = Some(PodPhase::Failed);
        fx.assign(stale);
        assert!(matches!(
            permit(&plugin(), &fx, p).0,
            PermitDecision::Wait(_)
        ));
        // A bound sibling: 1 + itself reaches 2; nothing to release.
        let b = fx.assign(mk_pod("b", "ns", Some("g"), Some("2")));
        assert_eq!(permit(&plugin(), &fx, p), (PermitDecision::Allow, vec![]));
        // On a removed node it does not count.
        fx.nodes[0].present = false;
        assert!(matches!(
            permit(&plugin(), &fx, p).0,
            PermitDecision::Wait(_)
        ));
        fx.nodes[0].present = true;
        // The pod itself on the node (re-evaluated) is not counted twice.
        let v = fx.view();
        assert_eq!(
            Coscheduling::assigned_pod_count(&fx.pods[b.0 as usize], "g", &[], &v),
            0
        );
        // Waiting ids that do not exist are ignored.
        assert_eq!(
            Coscheduling::assigned_pod_count(&fx.pods[p.0 as usize], "g", &[PodId(999)], &v),
            1
        );
        // min-available 1 or 0: allowed at once.
        let one = fx.add(mk_pod("one", "ns", Some("solo"), Some("1")));
        assert_eq!(permit(&plugin(), &fx, one), (PermitDecision::Allow, vec![]));
    }
}
