//! The disruption controller (upstream pkg/controller/disruption/disruption.go,
//! v1.35): keeps each PodDisruptionBudget's status — expectedPods,
//! currentHealthy, desiredHealthy, disruptionsAllowed and the disrupted
//! pods the eviction API recorded — from the pods its selector matches.
//! The eviction API that consumes the budget is in `cluster/workloads.rs`.
//!
//! Deviations: on a sync error (a pod whose controller has no scale)
//! upstream's `failSafe` also sets a `DisruptionAllowed=False` condition;
//! kubesim keeps no PDB conditions and only sets disruptionsAllowed to 0.

use super::{Api, Controller, WorkloadBody, WorkloadId, WorkloadKind};
use crate::engine::{Duration, SimTime};
use crate::model::workload::{IntOrPercent, PdbStatus, PodDisruptionBudget};
use crate::model::{Pod, PodId};

/// Upstream `DeletionTimeout`: an evicted pod still present after this is
/// no longer counted as disrupted.
pub const DELETION_TIMEOUT: Duration = Duration::from_secs(120);

pub struct DisruptionController;

impl Controller for DisruptionController {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::PodDisruptionBudget
    }
    fn sync(&self, api: &mut dyn Api, id: WorkloadId) {
        sync_pdb(api, id);
    }
}

/// The pods a PDB selects (policy/v1: an empty selector selects every
/// pod of the namespace, an absent one none).
pub fn pods_for_pdb(api: &dyn Api, namespace: &str, pdb: &PodDisruptionBudget) -> Vec<PodId> {
    let Ok(sel) = crate::model::selector::label_selector_as_selector(pdb.selector.as_ref()) else {
        return Vec::new();
    };
    api.pods_in_namespace(namespace)
        .into_iter()
        .filter(|p| sel.matches(&api.pod(*p).meta.labels))
        .collect()
}

/// The scale of a pod's controller as upstream's finders compute it: a
/// ReplicaSet owned by a Deployment counts as the Deployment. Returns the
/// controller's uid and scale; `Err` when the controller has no scale.
fn controller_scale(api: &dyn Api, pod: &Pod) -> Option<Result<(String, i32), String>> {
    let r = pod.meta.controller_ref()?;
    let ns = &pod.meta.namespace;
    let Some(id) = api.store().resolve(ns, r) else {
        return Some(Err(format!(
            "found no controllers for pod {:?}",
            pod.meta.name
        )));
    };
    let w = api.store().get(id);
    // getPodDeployment: the ReplicaSet's Deployment.
    if w.kind() == WorkloadKind::ReplicaSet {
        if let Some(dr) = w.meta.controller_ref() {
            if let Some(did) = api.store().resolve(ns, dr) {
                let d = api.store().get(did);
                if let Some(dep) = d.deployment() {
                    return Some(Ok((d.meta.uid.clone(), dep.replicas)));
                }
            }
        }
    }
    match super::workload_scale(w) {
        Some(s) => Some(Ok((w.meta.uid.clone(), s))),
        None => Some(Err(format!(
            "found no controllers for pod {:?}",
            pod.meta.name
        ))),
    }
}

/// Upstream `getExpectedScale`: the sum of the scales of the pods'
/// controllers (each counted once); pods without a controller are skipped.
fn expected_scale(api: &dyn Api, pods: &[PodId]) -> Result<i32, String> {
    let mut seen: std::collections::BTreeMap<String, i32> = Default::default();
    for p in pods {
        match controller_scale(api, api.pod(*p)) {
            None => {}
            Some(Ok((uid, s))) => {
                seen.entry(uid).or_insert(s);
            }
            Some(Err(e)) => return Err(e),
        }
    }
    Ok(seen.values().sum())
}

/// Upstream `getExpectedPodCount`: (expectedCount, desiredHealthy).
pub fn expected_pod_count(
    pdb: &PodDisruptionBudget,
    pod_count: i32,
    scale: impl FnOnce() -> Result<i32, String>,
) -> Result<(i32, i32), String> {
    if let Some(mu) = pdb.max_unavailable {
        let expected = scale()?;
        let max_unavailable = mu.scaled_value(expected, true);
        return Ok((expected, (expected - max_unavailable).max(0)));
    }
    match pdb.min_available {
        Some(IntOrPercent::Int(v)) => Ok((pod_count, v)),
        Some(p @ IntOrPercent::Percent(_)) => {
            let expected = scale()?;
            Ok((expected, p.scaled_value(expected, true)))
        }
        None => Ok((0, 0)),
    }
}

/// Upstream `countHealthyPods`: ready pods that are not being deleted and
/// not recently disrupted.
pub fn count_healthy(
    pods: &[&Pod],
    disrupted: &std::collections::BTreeMap<String, SimTime>,
    now: SimTime,
) -> i32 {
    pods.iter()
        .filter(|p| !p.is_terminating())
        .filter(|p| {
            disrupted
                .get(&p.meta.name)
                .is_none_or(|t| t.after(DELETION_TIMEOUT) <= now)
        })
        .filter(|p| p.is_ready())
        .count() as i32
}

/// Upstream `updatePdbStatus`'s arithmetic.
pub fn disruptions_allowed(current_healthy: i32, desired_healthy: i32, expected: i32) -> i32 {
    let d = current_healthy - desired_healthy;
    if expected <= 0 || d <= 0 {
        0
    } else {
        d
    }
}

fn sync_pdb(api: &mut dyn Api, id: WorkloadId) {
    let w = api.store().get(id);
    let Some(pdb) = w.pdb().cloned() else { return };
    let ns = w.meta.namespace.clone();
    let generation = w.generation;
    let now = api.now();
    let pods = pods_for_pdb(api, &ns, &pdb);
    let counts = expected_pod_count(&pdb, pods.len() as i32, || expected_scale(api, &pods));
    // buildDisruptedPodMap.
    let mut disrupted = std::collections::BTreeMap::new();
    let mut recheck: Option<SimTime> = None;
    for p in &pods {
        let pod = api.pod(*p);
        if pod.is_terminating() {
            continue;
        }
        if let Some(t) = pdb.status.disrupted_pods.get(&pod.meta.name) {
            let expected_deletion = t.after(DELETION_TIMEOUT);
            if expected_deletion >= now {
                recheck = Some(recheck.map_or(expected_deletion, |r| r.min(expected_deletion)));
                disrupted.insert(pod.meta.name.clone(), *t);
            }
        }
    }
    let refs: Vec<&Pod> = pods.iter().map(|p| api.pod(*p)).collect();
    let current = count_healthy(&refs, &disrupted, now);
    let status = match counts {
        Ok((expected, desired)) => PdbStatus {
            observed_generation: generation,
            disruptions_allowed: disruptions_allowed(current, desired, expected),
            current_healthy: current,
            desired_healthy: desired,
            expected_pods: expected,
            disrupted_pods: disrupted,
        },
        Err(e) => {
            // failSafe.
            let desc = api.store().get(id).describe();
            api.record(
                "CalculateExpectedPodCountFailed",
                Some("SyncFailed"),
                &format!("{desc}: {e}"),
            );
            PdbStatus {
                observed_generation: generation,
                disruptions_allowed: 0,
                ..pdb.status.clone()
            }
        }
    };
    if let WorkloadBody::PodDisruptionBudget(p) = &mut api.store_mut().get_mut(id).body {
        p.status = status;
    }
    if let Some(r) = recheck {
        api.enqueue_after(id, r.since(now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IntOrPercent::{Int, Percent};

    fn pdb(min: Option<IntOrPercent>, max: Option<IntOrPercent>) -> PodDisruptionBudget {
        PodDisruptionBudget {
            min_available: min,
            max_unavailable: max,
            selector: None,
            status: Default::default(),
        }
    }

    /// After upstream disruption_test.go: TestNoSelector, TestUnavailable,
    /// TestIntegerMaxUnavailable, TestReplicaSet (minAvailable 20% of 10
    /// → 2), TestMultipleController, TestReplicationController (34% of 3 →
    /// 2), TestStatefulSetController (34%), TestTwoControllers.
    #[test]
    fn expected_and_desired() {
        let scale = |s: i32| move || -> Result<i32, String> { Ok(s) };
        // minAvailable integer: expected = matching pods.
        assert_eq!(
            expected_pod_count(&pdb(Some(Int(3)), None), 4, scale(99)),
            Ok((4, 3))
        );
        // minAvailable percent: of the controllers' scale, rounded up.
        assert_eq!(
            expected_pod_count(&pdb(Some(Percent(20)), None), 1, scale(10)),
            Ok((10, 2))
        );
        assert_eq!(
            expected_pod_count(&pdb(Some(Percent(34)), None), 3, scale(3)),
            Ok((3, 2))
        );
        // maxUnavailable: desired = expected - ceil(max%).
        assert_eq!(
            expected_pod_count(&pdb(None, Some(Int(1))), 3, scale(3)),
            Ok((3, 2))
        );
        assert_eq!(
            expected_pod_count(&pdb(None, Some(Percent(25))), 0, scale(10)),
            Ok((10, 7))
        );
        assert_eq!(
            expected_pod_count(&pdb(None, Some(Int(5))), 0, scale(3)),
            Ok((3, 0))
        );
        // A pod without a scalable controller fails the sync for percentages.
        assert!(expected_pod_count(&pdb(None, Some(Int(1))), 1, || Err("x".into())).is_err());
        // disruptionsAllowed.
        assert_eq!(disruptions_allowed(3, 2, 3), 1);
        assert_eq!(disruptions_allowed(2, 2, 3), 0);
        assert_eq!(disruptions_allowed(1, 2, 3), 0);
        assert_eq!(
            disruptions_allowed(5, 0, 0),
            0,
            "no expected pods: none allowed"
        );
    }

    #[test]
    fn disrupted_pods_are_not_healthy_until_the_timeout() {
        use crate::model::meta::ObjectMeta;
        let mut p = Pod::new(
            ObjectMeta {
                name: "a".into(),
                ..Default::default()
            },
            Default::default(),
            Default::default(),
        );
        p.status.phase = Some(crate::model::PodPhase::Running);
        p.status.started_at = Some(SimTime(0));
        p.status.ready_at = Some(SimTime(0));
        let mut d = std::collections::BTreeMap::new();
        d.insert("a".to_string(), SimTime(0));
        assert_eq!(count_healthy(&[&p], &d, SimTime(1)), 0);
        assert_eq!(
            count_healthy(&[&p], &d, SimTime(0).after(DELETION_TIMEOUT)),
            1
        );
        assert_eq!(count_healthy(&[&p], &Default::default(), SimTime(1)), 1);
    }
}
