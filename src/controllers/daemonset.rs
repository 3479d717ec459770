//! The DaemonSet controller (upstream pkg/controller/daemon/
//! daemon_controller.go, update.go, util/daemonset_util.go, v1.35): one pod
//! per eligible node. A node is eligible when the template's nodeSelector
//! and required node affinity match it and its NoSchedule / NoExecute
//! taints are tolerated by the template's tolerations plus those every
//! DaemonSet pod gets (`AddOrUpdateDaemonPodTolerations`: not-ready and
//! unreachable NoExecute without tolerationSeconds, disk-, memory- and
//! pid-pressure and unschedulable NoSchedule). Pods are created unbound
//! with the required node affinity replaced by one `matchFields
//! metadata.name In [<node>]` term (`ReplaceDaemonSetPodNodeNameNodeAffinity`)
//! and placed by the scheduler. Pods on nodes that are gone or no longer
//! eligible (an untolerated NoExecute taint, a selector that no longer
//! matches) are deleted, failed pods are replaced, duplicates on a node are
//! deleted (the oldest stays). Updates: RollingUpdate with maxUnavailable
//! (default 1) and maxSurge (default 0), both rounded up against the
//! desired number, or OnDelete.
//!
//! Deviations: the `network-unavailable` toleration for hostNetwork pods
//! is not added (pods have no hostNetwork field); upstream's failed-pod
//! back-off is not modelled; the revision is a hash of the template
//! (label `controller-revision-hash`), not a ControllerRevision object.

use super::{
    claim_pods, is_pod_active, is_pod_available, pod_from_template, Api, Controller, Workload,
    WorkloadBody, WorkloadId, WorkloadKind, WorkloadRow,
};
use crate::engine::SimTime;
use crate::model::affinity::{
    NodeAffinity, NodeSelector, NodeSelectorOperator, NodeSelectorRequirement, NodeSelectorTerm,
};
use crate::model::batch::{
    template_hash, DaemonSet, DaemonSetStrategy, LABEL_CONTROLLER_REVISION_HASH,
};
use crate::model::taints::{TaintEffect, Toleration, TolerationOperator};
use crate::model::{Node, Pod, PodId, PodPhase};

pub struct DaemonSetController;

impl Controller for DaemonSetController {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::DaemonSet
    }
    fn sync(&self, api: &mut dyn Api, id: WorkloadId) {
        sync_daemonset(api, id);
    }
    fn sample(&self, w: &Workload) -> Option<WorkloadRow> {
        let WorkloadBody::DaemonSet(d) = &w.body else {
            return None;
        };
        let desired = d.status.desired_number_scheduled;
        let (ms, mu) = resolved_limits(d, desired);
        Some(WorkloadRow {
            kind: "DaemonSet",
            namespace: w.meta.namespace.clone(),
            name: w.meta.name.clone(),
            desired: Some(desired),
            current: d.status.current_number_scheduled,
            ready: d.status.number_ready,
            available: d.status.number_available,
            updated: Some(d.status.updated_number_scheduled),
            max_surge: ms,
            max_unavailable: mu,
            ..Default::default()
        })
    }
}

/// maxSurge and maxUnavailable as absolute numbers (rounded up, as
/// upstream `updatedDesiredNodeCounts`).
fn resolved_limits(d: &DaemonSet, desired: i32) -> (Option<i32>, Option<i32>) {
    match d.strategy {
        DaemonSetStrategy::OnDelete => (None, None),
        DaemonSetStrategy::RollingUpdate {
            max_unavailable,
            max_surge,
        } => {
            let ms = max_surge.scaled_value(desired, true);
            let mut mu = max_unavailable.scaled_value(desired, true);
            // Upstream: if both resolve to 0, maxUnavailable becomes 1.
            if ms == 0 && mu == 0 {
                mu = 1;
            }
            (Some(ms), Some(mu))
        }
    }
}

/// The tolerations every DaemonSet pod gets (upstream
/// `AddOrUpdateDaemonPodTolerations`, without the hostNetwork one).
pub fn daemon_tolerations() -> Vec<Toleration> {
    let t = |key: &str, effect: TaintEffect| Toleration {
        key: key.to_string(),
        operator: TolerationOperator::Exists,
        value: String::new(),
        effect: Some(effect),
        toleration_seconds: None,
    };
    vec![
        t("node.kubernetes.io/not-ready", TaintEffect::NoExecute),
        t("node.kubernetes.io/unreachable", TaintEffect::NoExecute),
        t("node.kubernetes.io/disk-pressure", TaintEffect::NoSchedule),
        t(
            "node.kubernetes.io/memory-pressure",
            TaintEffect::NoSchedule,
        ),
        t("node.kubernetes.io/pid-pressure", TaintEffect::NoSchedule),
        t("node.kubernetes.io/unschedulable", TaintEffect::NoSchedule),
    ]
}

/// The pod template with the DaemonSet tolerations added (an existing
/// toleration with the same key and effect is replaced, as upstream's
/// `AddOrUpdateTolerationInPodSpec`).
fn template_with_tolerations(template: &Pod) -> Pod {
    let mut t = template.clone();
    for tol in daemon_tolerations() {
        t.spec
            .tolerations
            .retain(|x| !(x.key == tol.key && x.effect == tol.effect));
        t.spec.tolerations.push(tol);
    }
    t
}

/// Upstream `NodeShouldRunDaemonPod`: (should run, should continue
/// running). NoSchedule taints only stop new pods; NoExecute ones evict.
pub fn node_should_run(template: &Pod, node: &Node) -> (bool, bool) {
    if !node.present {
        return (false, false);
    }
    let name = &node.meta.name;
    if let Some(n) = &template.spec.node_name {
        if n != name {
            return (false, false);
        }
    }
    let labels = &node.meta.labels;
    let selector_ok = template
        .spec
        .node_selector
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v));
    let affinity_ok = template
        .spec
        .node_affinity
        .as_ref()
        .and_then(|a| a.required.as_ref())
        .is_none_or(|r| r.matches(name, labels));
    if !selector_ok || !affinity_ok {
        return (false, false);
    }
    let tols = &template.spec.tolerations;
    let untolerated = |effect: TaintEffect| {
        node.taints
            .iter()
            .filter(|t| t.effect == effect)
            .any(|t| !crate::model::taints::tolerations_tolerate(tols, t))
    };
    if untolerated(TaintEffect::NoExecute) {
        return (false, false);
    }
    // node.spec.unschedulable is the unschedulable taint, tolerated by
    // every DaemonSet pod.
    if untolerated(TaintEffect::NoSchedule) {
        return (false, true);
    }
    (true, true)
}

/// The node a DaemonSet pod is for: `spec.nodeName` once bound, else the
/// `matchFields metadata.name` term (upstream `GetTargetNodeName`).
pub fn target_node(pod: &Pod) -> Option<String> {
    if let Some(n) = &pod.spec.node_name {
        return Some(n.clone());
    }
    let req = pod.spec.node_affinity.as_ref()?.required.as_ref()?;
    req.terms.iter().find_map(|t| {
        t.match_fields
            .iter()
            .find(|f| f.key == "metadata.name" && f.operator == NodeSelectorOperator::In)
            .and_then(|f| f.values.first().cloned())
    })
}

/// A DaemonSet pod for `node`.
fn daemon_pod(template: &Pod, w: &Workload, node: &str, hash: &str) -> Pod {
    let mut pod = pod_from_template(template, w);
    pod.meta
        .labels
        .insert(LABEL_CONTROLLER_REVISION_HASH.into(), hash.to_string());
    let term = NodeSelectorTerm {
        match_expressions: Vec::new(),
        match_fields: vec![NodeSelectorRequirement {
            key: "metadata.name".to_string(),
            operator: NodeSelectorOperator::In,
            values: vec![node.to_string()],
        }],
    };
    let preferred = pod
        .spec
        .node_affinity
        .as_ref()
        .map(|a| a.preferred.clone())
        .unwrap_or_default();
    pod.spec.node_affinity = Some(NodeAffinity {
        required: Some(NodeSelector { terms: vec![term] }),
        preferred,
    });
    pod
}

fn sync_daemonset(api: &mut dyn Api, id: WorkloadId) {
    let w = api.store().get(id).clone();
    if w.removed {
        return;
    }
    let WorkloadBody::DaemonSet(ds) = &w.body else {
        return;
    };
    let ds: DaemonSet = (**ds).clone();
    let now = api.now();
    let claimed = claim_pods(api, id, &ds.parsed_selector);
    if w.meta.deletion_timestamp.is_some() {
        return;
    }
    let template = template_with_tolerations(&ds.template);
    let hash = template_hash(&ds.template);

    // Pods by target node.
    let mut by_node: std::collections::BTreeMap<String, Vec<PodId>> = Default::default();
    for p in &claimed {
        if let Some(n) = target_node(api.pod(*p)) {
            by_node.entry(n).or_default().push(*p);
        }
    }
    let nodes: Vec<Node> = api.nodes().iter().filter(|n| n.present).cloned().collect();
    let mut to_create: Vec<String> = Vec::new();
    let mut to_delete: Vec<PodId> = Vec::new();
    let mut eligible: Vec<(String, Vec<PodId>)> = Vec::new();
    for node in &nodes {
        let name = node.meta.name.clone();
        let (run, keep) = node_should_run(&template, node);
        let pods = by_node.remove(&name).unwrap_or_default();
        let live: Vec<PodId> = pods
            .iter()
            .copied()
            .filter(|p| !api.pod(*p).is_terminating())
            .collect();
        if run {
            // Failed pods are deleted (and replaced on a later sync).
            let mut ok: Vec<PodId> = Vec::new();
            for p in &live {
                if api.pod(*p).phase() == PodPhase::Failed {
                    to_delete.push(*p);
                } else if is_pod_active(api.pod(*p)) {
                    ok.push(*p);
                }
            }
            if ok.is_empty() && live.iter().all(|p| api.pod(*p).phase() != PodPhase::Failed) {
                // No pod (a failed one is replaced after its deletion).
                let any_terminating = pods.iter().any(|p| api.pod(*p).is_terminating());
                if !any_terminating {
                    to_create.push(name.clone());
                }
            }
            // Duplicates of one revision on a node: the oldest stays (an
            // old and a new pod may coexist during a surge).
            ok.sort_by_key(|p| {
                (
                    api.pod(*p).meta.creation_timestamp,
                    api.pod(*p).meta.name.clone(),
                )
            });
            let mut seen_rev = std::collections::BTreeSet::new();
            let mut kept = Vec::new();
            for p in ok {
                let rev = api
                    .pod(p)
                    .meta
                    .labels
                    .get(LABEL_CONTROLLER_REVISION_HASH)
                    .cloned();
                if seen_rev.insert(rev) {
                    kept.push(p);
                } else {
                    to_delete.push(p);
                }
            }
            eligible.push((name, kept));
        } else if !keep {
            to_delete.extend(live.iter().copied());
        }
    }
    // Pods for nodes that no longer exist.
    for (_, pods) in by_node {
        for p in pods {
            if !api.pod(p).is_terminating() {
                to_delete.push(p);
            }
        }
    }

    // Rolling update.
    let desired = eligible.len() as i32;
    if let DaemonSetStrategy::RollingUpdate { .. } = ds.strategy {
        let (ms, mu) = resolved_limits(&ds, desired);
        let (max_surge, max_unavailable) = (ms.unwrap_or(0), mu.unwrap_or(1));
        rolling_update(
            api,
            &ds,
            &hash,
            &eligible,
            max_surge,
            max_unavailable,
            now,
            &mut to_create,
            &mut to_delete,
        );
    }

    to_delete.sort();
    to_delete.dedup();
    for p in to_delete {
        api.delete_pod(p, "DaemonSetPodDeleted");
    }
    to_create.sort();
    to_create.dedup();
    for n in to_create {
        let _ = api.create_pod(daemon_pod(&template, &w, &n, &hash));
    }
    update_status(api, id, &ds, &hash, now);
}

/// Upstream `rollingUpdate`: without surge, old pods are deleted while
/// the number of unavailable nodes stays within maxUnavailable (unavailable
/// old pods go at once); with surge, a new pod is started beside an old
/// one on at most maxSurge nodes and the old one goes once the new one is
/// available.
#[allow(clippy::too_many_arguments)]
fn rolling_update(
    api: &dyn Api,
    ds: &DaemonSet,
    hash: &str,
    eligible: &[(String, Vec<PodId>)],
    max_surge: i32,
    max_unavailable: i32,
    now: SimTime,
    to_create: &mut Vec<String>,
    to_delete: &mut Vec<PodId>,
) {
    let is_new = |p: PodId| {
        api.pod(p)
            .meta
            .labels
            .get(LABEL_CONTROLLER_REVISION_HASH)
            .map(String::as_str)
            == Some(hash)
    };
    let avail = |p: PodId| is_pod_available(api.pod(p), ds.min_ready_seconds, now);
    if max_surge == 0 {
        let mut unavailable = 0;
        let mut candidates: Vec<PodId> = Vec::new();
        for (_, pods) in eligible {
            let new: Vec<PodId> = pods.iter().copied().filter(|p| is_new(*p)).collect();
            let old: Vec<PodId> = pods.iter().copied().filter(|p| !is_new(*p)).collect();
            if let Some(n) = new.first() {
                if !avail(*n) {
                    unavailable += 1;
                }
                // An old pod beside a new one goes.
                to_delete.extend(old);
                continue;
            }
            match old.first() {
                None => unavailable += 1,
                Some(o) if !avail(*o) => {
                    unavailable += 1;
                    to_delete.push(*o);
                }
                Some(o) => candidates.push(*o),
            }
        }
        let budget = (max_unavailable - unavailable).max(0) as usize;
        to_delete.extend(candidates.into_iter().take(budget));
        return;
    }
    let mut surging = 0;
    let mut want_surge: Vec<String> = Vec::new();
    for (node, pods) in eligible {
        let new: Vec<PodId> = pods.iter().copied().filter(|p| is_new(*p)).collect();
        let old: Vec<PodId> = pods.iter().copied().filter(|p| !is_new(*p)).collect();
        match (new.first(), old.is_empty()) {
            (Some(n), false) => {
                if avail(*n) {
                    to_delete.extend(old);
                } else {
                    surging += 1;
                }
            }
            (None, false) => {
                if old.iter().all(|o| !avail(*o)) {
                    // An unavailable old pod is replaced at once.
                    to_delete.extend(old);
                } else {
                    want_surge.push(node.clone());
                }
            }
            _ => {}
        }
    }
    let budget = (max_surge - surging).max(0) as usize;
    to_create.extend(want_surge.into_iter().take(budget));
}

fn update_status(api: &mut dyn Api, id: WorkloadId, ds: &DaemonSet, hash: &str, now: SimTime) {
    let w = api.store().get(id);
    let uid = w.meta.uid.clone();
    let ns = w.meta.namespace.clone();
    let generation = w.generation;
    let template = template_with_tolerations(&ds.template);
    let mut status = crate::model::batch::DaemonSetStatus {
        observed_generation: generation,
        ..Default::default()
    };
    let mut by_node: std::collections::BTreeMap<String, Vec<PodId>> = Default::default();
    for p in api.pods_in_namespace(&ns) {
        let pod = api.pod(p);
        if pod.meta.controller_ref().is_some_and(|r| r.uid == uid) && is_pod_active(pod) {
            if let Some(n) = target_node(pod) {
                by_node.entry(n).or_default().push(p);
            }
        }
    }
    let mut next_available: Option<SimTime> = None;
    for node in api.nodes().iter().filter(|n| n.present) {
        let (run, _) = node_should_run(&template, node);
        let pods = by_node.get(&node.meta.name);
        if run {
            status.desired_number_scheduled += 1;
            if let Some(pods) = pods {
                status.current_number_scheduled += 1;
                let best = pods.iter().map(|p| api.pod(*p));
                let mut ready = false;
                let mut available = false;
                let mut updated = false;
                for p in best {
                    ready |= p.is_ready();
                    available |= is_pod_available(p, ds.min_ready_seconds, now);
                    updated |= p
                        .meta
                        .labels
                        .get(LABEL_CONTROLLER_REVISION_HASH)
                        .map(String::as_str)
                        == Some(hash);
                    if let Some(t) = p.ready_since() {
                        let at = t.after(crate::engine::Duration::from_secs(
                            ds.min_ready_seconds.max(0) as u64,
                        ));
                        if at > now {
                            next_available =
                                Some(next_available.map_or(at, |n: SimTime| n.min(at)));
                        }
                    }
                }
                status.number_ready += i32::from(ready);
                status.number_available += i32::from(available);
                status.updated_number_scheduled += i32::from(updated);
            }
        } else if pods.is_some() {
            status.number_misscheduled += 1;
        }
    }
    if let Some(at) = next_available {
        api.enqueue_after(id, at.since(now));
    }
    if let WorkloadBody::DaemonSet(d) = &mut api.store_mut().get_mut(id).body {
        d.status = status;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::taints::Taint;

    fn node(name: &str) -> Node {
        let mut n = Node::new(
            crate::model::workload::meta("", name),
            Default::default(),
            Default::default(),
        );
        n.present = true;
        n
    }

    fn template() -> Pod {
        template_with_tolerations(&Pod::new(
            Default::default(),
            Default::default(),
            Default::default(),
        ))
    }

    /// Cases after daemon_controller_test.go (taints, selectors, default
    /// tolerations).
    #[test]
    fn node_should_run_table() {
        let t = template();
        assert_eq!(node_should_run(&t, &node("a")), (true, true));
        // Default tolerations: not-ready/unreachable NoExecute,
        // unschedulable and pressure NoSchedule.
        for (key, effect) in [
            ("node.kubernetes.io/unreachable", TaintEffect::NoExecute),
            ("node.kubernetes.io/not-ready", TaintEffect::NoExecute),
            ("node.kubernetes.io/unschedulable", TaintEffect::NoSchedule),
            ("node.kubernetes.io/disk-pressure", TaintEffect::NoSchedule),
            (
                "node.kubernetes.io/memory-pressure",
                TaintEffect::NoSchedule,
            ),
            ("node.kubernetes.io/pid-pressure", TaintEffect::NoSchedule),
        ] {
            let mut n = node("a");
            n.taints.push(Taint::new(key, "", effect));
            assert_eq!(node_should_run(&t, &n), (true, true), "{key}");
        }
        // An untolerated NoSchedule taint: no new pod, existing ones stay.
        let mut n = node("a");
        n.taints
            .push(Taint::new("dedicated", "gpu", TaintEffect::NoSchedule));
        assert_eq!(node_should_run(&t, &n), (false, true));
        // An untolerated NoExecute taint: the pod goes.
        let mut n = node("a");
        n.taints
            .push(Taint::new("dedicated", "gpu", TaintEffect::NoExecute));
        assert_eq!(node_should_run(&t, &n), (false, false));
        // nodeSelector.
        let mut t2 = t.clone();
        t2.spec.node_selector.insert("disk".into(), "ssd".into());
        assert_eq!(node_should_run(&t2, &node("a")), (false, false));
        let mut n = node("a");
        n.meta.labels.insert("disk".into(), "ssd".into());
        assert_eq!(node_should_run(&t2, &n), (true, true));
        // A removed node.
        let mut n = node("a");
        n.present = false;
        assert_eq!(node_should_run(&t, &n), (false, false));
    }

    #[test]
    fn pods_target_their_node_through_match_fields() {
        let t = template();
        let w = Workload::new(
            crate::model::workload::meta("default", "ds"),
            WorkloadBody::PersistentVolumeClaim(crate::model::batch::PersistentVolumeClaim {
                storage_bytes: 0,
            }),
        );
        let p = daemon_pod(&t, &w, "node-7", "h");
        assert_eq!(target_node(&p).as_deref(), Some("node-7"));
        let req = p.spec.node_affinity.unwrap().required.unwrap();
        assert!(req.matches("node-7", &Default::default()));
        assert!(!req.matches("node-8", &Default::default()));
    }
}
