//! The ReplicaSet controller (upstream pkg/controller/replicaset/replica_set.go,
//! v1.35): claims the pods its selector matches, creates missing ones in
//! slow-start batches (at most [`BURST_REPLICAS`] per sync), deletes
//! surplus ones in upstream's order ([`rank_pods_for_deletion`], a port of
//! pkg/controller/controller_utils.go `ActivePodsWithRanks`) and computes
//! the status (`calculateStatus`).
//!
//! Deviations: upstream's expectations (waiting for the informer cache to
//! see its own writes) are not needed, the World's state is never stale;
//! ties in the deletion order keep the pods' name order where Go's
//! unstable sort keeps an unspecified one; a ReplicaSet whose pods become
//! available later (minReadySeconds) is re-synced at that time rather than
//! at the next informer resync; `status.terminatingReplicas` is not kept.

use super::{
    claim_pods, is_pod_active, is_pod_available, pod_from_template, slow_start_batch, Api,
    Controller, WorkloadId, WorkloadKind, WorkloadRow, SLOW_START_INITIAL_BATCH_SIZE,
};
use crate::engine::{Duration, SimTime};
use crate::model::workload::{ReplicaSetStatus, ANN_REVISION};
use crate::model::{Pod, PodId, PodPhase};

/// The annotation that ranks pods for deletion (PodDeletionCost, beta
/// and on by default): lower cost goes first.
pub const ANN_POD_DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

/// Upstream `GetDeletionCostFromPodAnnotations` (an invalid value counts
/// as 0 here; the API server would have rejected it).
fn deletion_cost(p: &Pod) -> i32 {
    p.meta
        .annotations
        .get(ANN_POD_DELETION_COST)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Upstream `BurstReplicas`: pods created or deleted per sync at most.
pub const BURST_REPLICAS: i32 = 500;

pub struct ReplicaSetController;

impl Controller for ReplicaSetController {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::ReplicaSet
    }

    fn sync(&self, api: &mut dyn Api, id: WorkloadId) {
        sync_replica_set(api, id);
    }

    fn sample(&self, w: &super::Workload) -> Option<WorkloadRow> {
        let rs = w.replica_set()?;
        Some(WorkloadRow {
            kind: "ReplicaSet",
            namespace: w.meta.namespace.clone(),
            name: w.meta.name.clone(),
            revision: w
                .meta
                .annotations
                .get(ANN_REVISION)
                .and_then(|r| r.parse().ok()),
            desired: Some(rs.replicas),
            current: rs.status.replicas,
            ready: rs.status.ready_replicas,
            available: rs.status.available_replicas,
            updated: None,
            ..Default::default()
        })
    }
}

fn sync_replica_set(api: &mut dyn Api, id: WorkloadId) {
    let w = api.store().get(id);
    if w.removed {
        return;
    }
    let Some(rs) = w.replica_set() else { return };
    let selector = rs.parsed_selector.clone();
    let deleting = w.meta.deletion_timestamp.is_some();
    let claimed = claim_pods(api, id, &selector);
    let active: Vec<PodId> = claimed
        .into_iter()
        .filter(|p| is_pod_active(api.pod(*p)))
        .collect();
    if !deleting {
        manage_replicas(api, id, &active);
    }
    // Status from the pods after this sync's changes.
    let uid = api.store().get(id).meta.uid.clone();
    let claimed: Vec<PodId> = api
        .pods_controlled_by(&uid)
        .into_iter()
        .filter(|p| is_pod_active(api.pod(*p)))
        .collect();
    let now = api.now();
    let w = api.store().get(id);
    let Some(rs) = w.replica_set() else { return };
    let pods: Vec<&Pod> = claimed.iter().map(|p| api.pod(*p)).collect();
    let status = calculate_status(
        &pods,
        &rs.template.meta.labels,
        rs.min_ready_seconds,
        now,
        w.generation,
    );
    let next_available = next_availability(&pods, rs.min_ready_seconds, now);
    let changed = status != rs.status;
    let owner = w.meta.controller_ref().cloned();
    let ns = w.meta.namespace.clone();
    if let Some(rs) = api.store_mut().get_mut(id).replica_set_mut() {
        rs.status = status;
    }
    if let Some(at) = next_available {
        api.enqueue_after(id, at.since(now));
    }
    if changed {
        if let Some(o) = owner {
            if let Some(oid) = api.store().resolve(&ns, &o) {
                api.enqueue_after(oid, Duration::ZERO);
            }
        }
    }
}

/// Upstream `manageReplicas`.
fn manage_replicas(api: &mut dyn Api, id: WorkloadId, active: &[PodId]) {
    let w = api.store().get(id).clone();
    let Some(rs) = w.replica_set() else { return };
    let diff = active.len() as i64 - i64::from(rs.replicas);
    if diff < 0 {
        let n = (-diff).min(i64::from(BURST_REPLICAS)) as i32;
        let template = rs.template.clone();
        slow_start_batch(n, SLOW_START_INITIAL_BATCH_SIZE, || {
            api.create_pod(pod_from_template(&template, &w)).is_ok()
        });
    } else if diff > 0 {
        let n = diff.min(i64::from(BURST_REPLICAS)) as usize;
        let related = indirectly_related_pods(api, id);
        let victims = {
            let pods: Vec<(PodId, &Pod)> = active.iter().map(|p| (*p, api.pod(*p))).collect();
            let related: Vec<&Pod> = related.iter().map(|p| api.pod(*p)).collect();
            pods_to_delete(&pods, &related, n, api.now())
        };
        for v in victims {
            api.delete_pod(v, "ReplicaSetScaleDown");
        }
    }
}

/// Upstream `getIndirectlyRelatedPods`: the pods selected by every
/// ReplicaSet with the same controller (Deployment) as `id`, each once;
/// none for a ReplicaSet without a controller.
fn indirectly_related_pods(api: &dyn Api, id: WorkloadId) -> Vec<PodId> {
    let w = api.store().get(id);
    let Some(owner) = w.meta.controller_ref() else {
        return Vec::new();
    };
    let ns = w.meta.namespace.clone();
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    let pods = api.pods_in_namespace(&ns);
    for rs_id in api.store().of_kind_in(WorkloadKind::ReplicaSet, &ns) {
        let other = api.store().get(rs_id);
        if other.meta.controller_ref().map(|o| &o.uid) != Some(&owner.uid) {
            continue;
        }
        let Some(sel) = other.pod_selector() else {
            continue;
        };
        for p in &pods {
            if sel.matches(&api.pod(*p).meta.labels) && seen.insert(*p) {
                out.push(*p);
            }
        }
    }
    out
}

/// Upstream `getPodsToDelete`: the first `diff` pods in deletion order
/// (ranked only when not all of them go).
pub fn pods_to_delete(
    pods: &[(PodId, &Pod)],
    related: &[&Pod],
    diff: usize,
    now: SimTime,
) -> Vec<PodId> {
    let mut order: Vec<usize> = (0..pods.len()).collect();
    if diff < pods.len() {
        let only: Vec<&Pod> = pods.iter().map(|(_, p)| *p).collect();
        let ranks = ranks_by_related_pods_on_same_node(&only, related);
        order = rank_pods_for_deletion(&only, &ranks, now);
    }
    order.into_iter().take(diff).map(|i| pods[i].0).collect()
}

/// Upstream `getPodsRankedByRelatedPodsOnSameNode`: for each pod, the
/// number of active related pods on its node (by `spec.nodeName`).
pub fn ranks_by_related_pods_on_same_node(pods: &[&Pod], related: &[&Pod]) -> Vec<i32> {
    let mut on_node: std::collections::BTreeMap<String, i32> = Default::default();
    for p in related {
        if is_pod_active(p) {
            *on_node
                .entry(p.spec.node_name.clone().unwrap_or_default())
                .or_insert(0) += 1;
        }
    }
    pods.iter()
        .map(|p| {
            on_node
                .get(p.spec.node_name.as_deref().unwrap_or(""))
                .copied()
                .unwrap_or(0)
        })
        .collect()
}

/// Kubernetes timestamps have one-second resolution: the deletion order
/// compares times as the API stores them.
fn api_secs(t: SimTime) -> u64 {
    t.as_micros() / 1_000_000
}

/// Upstream `logarithmicRankDiff` (LogarithmicScaleDown, GA): the
/// difference of ⌊log2⌋ of the two ages in nanoseconds (−1 for age ≤ 0).
fn logarithmic_rank_diff(t1: u64, t2: u64, now: u64) -> i64 {
    let rank = |t: u64| -> i64 {
        let d = i128::from(now) - i128::from(t);
        if d > 0 {
            let ns = (d as u128).saturating_mul(1_000_000_000);
            127 - i64::from(ns.leading_zeros())
        } else {
            -1
        }
    };
    rank(t1) - rank(t2)
}

/// Upstream `ActivePodsWithRanks.Less` as an ordering of pod indexes, the
/// first to delete first: unassigned < assigned; Pending < Unknown <
/// Running; not ready < ready; lower `pod-deletion-cost` < higher;
/// more related pods on the same node < fewer; ready for less time (by
/// log2 buckets) < longer; more restarts < fewer; newer (log2 buckets) <
/// older; then by UID.
pub fn rank_pods_for_deletion(pods: &[&Pod], ranks: &[i32], now: SimTime) -> Vec<usize> {
    let now_s = api_secs(now);
    let mut idx: Vec<usize> = (0..pods.len()).collect();
    let phase_ord = |p: &Pod| match p.phase() {
        PodPhase::Pending => 0,
        PodPhase::Running => 2,
        _ => 0,
    };
    idx.sort_by(|&i, &j| {
        use std::cmp::Ordering;
        let (a, b) = (pods[i], pods[j]);
        let less = |x: bool| if x { Ordering::Less } else { Ordering::Greater };
        let (na, nb) = (
            a.spec.node_name.clone().unwrap_or_default(),
            b.spec.node_name.clone().unwrap_or_default(),
        );
        if na != nb && (na.is_empty() || nb.is_empty()) {
            return less(na.is_empty());
        }
        if phase_ord(a) != phase_ord(b) {
            return less(phase_ord(a) < phase_ord(b));
        }
        if a.is_ready() != b.is_ready() {
            return less(!a.is_ready());
        }
        let (ca, cb) = (deletion_cost(a), deletion_cost(b));
        if ca != cb {
            return less(ca < cb);
        }
        if ranks[i] != ranks[j] {
            return less(ranks[i] > ranks[j]);
        }
        if let (Some(ra), Some(rb)) = (a.ready_since(), b.ready_since()) {
            let (ra, rb) = (api_secs(ra), api_secs(rb));
            if ra != rb {
                let d = logarithmic_rank_diff(ra, rb, now_s);
                if d == 0 {
                    return a.meta.uid.cmp(&b.meta.uid);
                }
                return less(d < 0);
            }
        }
        if a.status.restart_count != b.status.restart_count {
            return less(a.status.restart_count > b.status.restart_count);
        }
        let (ca, cb) = (
            api_secs(a.meta.creation_timestamp),
            api_secs(b.meta.creation_timestamp),
        );
        if ca != cb {
            let d = logarithmic_rank_diff(ca, cb, now_s);
            if d == 0 {
                return a.meta.uid.cmp(&b.meta.uid);
            }
            return less(d < 0);
        }
        Ordering::Equal
    });
    idx
}

/// Upstream `calculateStatus` for the ReplicaSet's active pods.
pub fn calculate_status(
    pods: &[&Pod],
    template_labels: &crate::model::Labels,
    min_ready_seconds: i32,
    now: SimTime,
    generation: i64,
) -> ReplicaSetStatus {
    let mut s = ReplicaSetStatus {
        replicas: pods.len() as i32,
        observed_generation: generation,
        ..Default::default()
    };
    for p in pods {
        if template_labels
            .iter()
            .all(|(k, v)| p.meta.labels.get(k) == Some(v))
        {
            s.fully_labeled_replicas += 1;
        }
        if p.is_ready() {
            s.ready_replicas += 1;
            if is_pod_available(p, min_ready_seconds, now) {
                s.available_replicas += 1;
            }
        }
    }
    s
}

/// The earliest future time one of `pods` becomes available.
pub fn next_availability(pods: &[&Pod], min_ready_seconds: i32, now: SimTime) -> Option<SimTime> {
    if min_ready_seconds <= 0 {
        return None;
    }
    pods.iter()
        .filter_map(|p| p.ready_since())
        .map(|t| t.after(Duration::from_secs(min_ready_seconds as u64)))
        .filter(|t| *t > now)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::meta::ObjectMeta;
    use crate::model::pod::{PodBehavior, PodSpec};

    const S: u64 = 1_000_000;

    struct P {
        name: &'static str,
        node: &'static str,
        phase: PodPhase,
        ready_at: Option<u64>,
        restarts: u32,
        created: u64,
    }

    fn mk(p: &P) -> Pod {
        let mut pod = Pod::new(
            ObjectMeta {
                name: p.name.to_string(),
                uid: p.name.to_string(),
                creation_timestamp: SimTime(p.created * S),
                ..Default::default()
            },
            PodSpec::default(),
            PodBehavior::default(),
        );
        if !p.node.is_empty() {
            pod.spec.node_name = Some(p.node.to_string());
        }
        pod.status.phase = Some(p.phase);
        pod.status.started_at = p.ready_at.map(|t| SimTime(t * S));
        pod.status.ready_at = pod.status.started_at;
        pod.status.restart_count = p.restarts;
        pod
    }

    fn order(ps: &[P], ranks: &[i32], now: u64) -> Vec<&'static str> {
        let pods: Vec<Pod> = ps.iter().map(mk).collect();
        let refs: Vec<&Pod> = pods.iter().collect();
        rank_pods_for_deletion(&refs, ranks, SimTime(now * S))
            .into_iter()
            .map(|i| ps[i].name)
            .collect()
    }

    /// Cases after upstream controller_utils_test.go `TestSortingActivePodsWithRanks`.
    #[test]
    fn deletion_order_follows_upstream_ranking() {
        use PodPhase::*;
        let now = 10_000;
        let p = |name, node, phase, ready_at, restarts, created| P {
            name,
            node,
            phase,
            ready_at,
            restarts,
            created,
        };
        // unassigned < assigned; pending < running; not ready < ready
        let ps = [
            p("ready", "n1", Running, Some(100), 0, 10),
            p("unscheduled", "", Pending, None, 0, 10),
            p("pending", "n1", Pending, None, 0, 10),
        ];
        assert_eq!(
            order(&ps, &[0, 0, 0], now),
            ["unscheduled", "pending", "ready"]
        );
        // more co-located related pods first
        let ps = [
            p("alone", "n1", Running, Some(100), 0, 10),
            p("crowded", "n2", Running, Some(100), 0, 10),
        ];
        assert_eq!(order(&ps, &[1, 3], now), ["crowded", "alone"]);
        // ready for less time first, in log2 buckets of the age
        let ps = [
            p("old-ready", "n1", Running, Some(100), 0, 10),
            p("new-ready", "n1", Running, Some(9_990), 0, 10),
        ];
        assert_eq!(order(&ps, &[0, 0], now), ["new-ready", "old-ready"]);
        // same log2 bucket of ready age: restarts decide … no: equal
        // buckets compare by UID (upstream).
        let ps = [
            p("b", "n1", Running, Some(5_000), 0, 10),
            p("a", "n1", Running, Some(4_990), 0, 10),
        ];
        assert_eq!(order(&ps, &[0, 0], now), ["a", "b"]);
        // more restarts first
        let ps = [
            p("calm", "n1", Running, Some(100), 0, 10),
            p("flaky", "n1", Running, Some(100), 5, 10),
        ];
        assert_eq!(order(&ps, &[0, 0], now), ["flaky", "calm"]);
        // newer first
        let ps = [
            p("older", "n1", Running, Some(100), 0, 10),
            p("newer", "n1", Running, Some(100), 0, 9_000),
        ];
        assert_eq!(order(&ps, &[0, 0], now), ["newer", "older"]);
    }

    /// Upstream controller_utils_test.go `TestSortingActivePodsWithRanks`
    /// (without the Unknown phase and the ready-without-transition-time
    /// pod, which kubesim cannot represent): `lesser` is deleted first.
    #[test]
    fn upstream_sorting_active_pods_with_ranks() {
        use PodPhase::*;
        let now: u64 = 100 * 86_400;
        let month = now - 30 * 86_400;
        let (h2, h5, h8) = (now - 2 * 3600, now - 5 * 3600, now - 8 * 3600);
        let pod = |name: &'static str,
                   node: &'static str,
                   phase,
                   ready: Option<u64>,
                   restarts,
                   created,
                   cost: Option<&str>| {
            let mut p = mk(&P {
                name,
                node,
                phase,
                ready_at: ready,
                restarts,
                created,
            });
            // Upstream's fixture pods have no UID.
            p.meta.uid.clear();
            if let Some(c) = cost {
                p.meta
                    .annotations
                    .insert(ANN_POD_DELETION_COST.to_string(), c.to_string());
            }
            p
        };
        let unscheduled = pod("unscheduled", "", Pending, None, 0, 0, None);
        let pending = pod("pending", "node", Pending, None, 0, 0, None);
        let ready_now = pod("ready-now", "node", Running, Some(now), 0, now, None);
        let ready_then = pod("ready-then", "node", Running, Some(month), 0, month, None);
        let high_restarts = pod(
            "ready-high-restarts",
            "node",
            Running,
            Some(now),
            9001,
            now,
            None,
        );
        let now_created_then = pod(
            "ready-now-created-then",
            "node",
            Running,
            Some(now),
            0,
            month,
            None,
        );
        let low_cost = pod(
            "low-deletion-cost",
            "node",
            Running,
            Some(now),
            0,
            month,
            Some("10"),
        );
        let high_cost = pod(
            "high-deletion-cost",
            "node",
            Running,
            Some(now),
            0,
            month,
            Some("100"),
        );
        let unsched5 = pod("unscheduled-5-hours", "", Pending, None, 0, h5, None);
        let unsched8 = pod("unscheduled-10-hours", "", Pending, None, 0, h8, None);
        let ready2 = pod("ready-2-hours", "", Running, Some(h2), 0, month, None);
        let ready5 = pod("ready-5-hours", "", Running, Some(h5), 0, month, None);
        let ready8 = pod("ready-10-hours", "", Running, Some(h8), 0, month, None);
        let t = SimTime(now * S);
        let less = |a: &Pod, ra: i32, b: &Pod, rb: i32| {
            rank_pods_for_deletion(&[a, b], &[ra, rb], t) == vec![0, 1]
                && rank_pods_for_deletion(&[b, a], &[rb, ra], t) == vec![1, 0]
        };
        let equal = |a: &Pod, b: &Pod| {
            rank_pods_for_deletion(&[a, b], &[1, 1], t) == vec![0, 1]
                && rank_pods_for_deletion(&[b, a], &[1, 1], t) == vec![0, 1]
        };
        for p in [
            &unscheduled,
            &pending,
            &now_created_then,
            &ready_now,
            &ready_then,
            &high_restarts,
        ] {
            assert!(equal(p, p), "{}", p.meta.name);
        }
        assert!(equal(&unsched5, &unsched8));
        assert!(equal(&ready5, &ready8));
        let cases: [(&Pod, i32, &Pod, i32); 12] = [
            (&unscheduled, 1, &pending, 2),
            (&unscheduled, 2, &pending, 1),
            (&pending, 1, &ready_now, 2),
            (&ready_now, 1, &ready_then, 1),
            (&ready_now, 2, &ready_then, 1),
            (&high_restarts, 1, &ready_now, 1),
            (&ready_now, 2, &high_restarts, 1),
            (&ready_now, 1, &now_created_then, 1),
            (&now_created_then, 2, &ready_now, 1),
            (&low_cost, 2, &high_cost, 1),
            (&ready2, 1, &ready5, 1),
            (&unsched5, 1, &ready8, 1),
        ];
        for (i, (a, ra, b, rb)) in cases.into_iter().enumerate() {
            assert!(
                less(a, ra, b, rb),
                "case {i}: {} < {}",
                a.meta.name,
                b.meta.name
            );
        }
    }

    #[test]
    fn log_rank_diff_buckets() {
        // ages 1s and 1.5s (in ns: 1e9 and 1.5e9) share ⌊log2⌋ = 29 / 30?
        assert_eq!(logarithmic_rank_diff(9, 9, 10), 0);
        assert!(logarithmic_rank_diff(9, 1, 10) < 0);
        assert_eq!(logarithmic_rank_diff(10, 10, 10), 0);
        assert_eq!(logarithmic_rank_diff(10, 9, 10), -1 - 29);
    }

    #[test]
    fn pods_to_delete_takes_all_without_ranking() {
        let a = mk(&P {
            name: "a",
            node: "",
            phase: PodPhase::Pending,
            ready_at: None,
            restarts: 0,
            created: 0,
        });
        let pods = [(PodId(7), &a)];
        assert_eq!(pods_to_delete(&pods, &[], 1, SimTime(0)), vec![PodId(7)]);
    }
}
