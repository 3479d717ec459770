//! The StatefulSet controller (upstream pkg/controller/statefulset/
//! stateful_set_control.go, stateful_set_utils.go, stateful_pod_control.go,
//! v1.35): pods named `<set>-<ordinal>` for ordinals `0..replicas` with the
//! labels `statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index`
//! and `controller-revision-hash`; one PersistentVolumeClaim
//! `<claim>-<set>-<ordinal>` per volumeClaimTemplate and ordinal, created
//! before the pod and kept across pod restarts. `OrderedReady` creates one
//! pod at a time, each after all lower ordinals are Running and Ready, and
//! removes surplus pods from the highest ordinal down, one at a time;
//! `Parallel` does both at once. Failed pods are deleted and recreated
//! with the same name. RollingUpdate replaces pods whose revision is not
//! the update revision, highest ordinal first, down to the partition, one
//! at a time and only when every pod is Running and Ready; pods below the
//! partition are (re)created from the current revision. OnDelete only
//! gives recreated pods the new template.
//! `persistentVolumeClaimRetentionPolicy`: `whenScaled: Delete` deletes a
//! condemned ordinal's claims once its pod is gone; `whenDeleted: Delete`
//! makes the set the claims' owner so the garbage collector deletes them
//! with it; `Retain` (the default) keeps them.
//!
//! Deviations: claims are records (no volume binding or storage
//! scheduling); `whenScaled: Delete` is applied by this controller rather
//! than through an owner reference on the pod; `maxUnavailable` is not
//! modelled; revisions are template hashes kept in the set, not
//! ControllerRevision objects.

use super::{
    claim_pods, is_pod_available, pod_from_template, Api, Controller, Workload, WorkloadBody,
    WorkloadId, WorkloadKind, WorkloadRow,
};
use crate::engine::Duration;
use crate::model::batch::{
    template_hash, PersistentVolumeClaim, PodManagementPolicy, StatefulSet, StatefulSetStatus,
    StatefulSetStrategy, LABEL_CONTROLLER_REVISION_HASH, LABEL_POD_INDEX, LABEL_POD_NAME,
};
use crate::model::{Pod, PodId, PodPhase};

pub struct StatefulSetController;

impl Controller for StatefulSetController {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::StatefulSet
    }
    fn sync(&self, api: &mut dyn Api, id: WorkloadId) {
        sync_statefulset(api, id);
    }
    fn sample(&self, w: &Workload) -> Option<WorkloadRow> {
        let WorkloadBody::StatefulSet(s) = &w.body else {
            return None;
        };
        Some(WorkloadRow {
            kind: "StatefulSet",
            namespace: w.meta.namespace.clone(),
            name: w.meta.name.clone(),
            desired: Some(s.replicas),
            current: s.status.replicas,
            ready: s.status.ready_replicas,
            available: s.status.available_replicas,
            updated: Some(s.status.updated_replicas),
            ..Default::default()
        })
    }
}

/// The ordinal of a pod named `<set>-<ordinal>` (upstream `getOrdinal`).
pub fn ordinal_of(set: &str, pod_name: &str) -> Option<i32> {
    let rest = pod_name.strip_prefix(set)?.strip_prefix('-')?;
    if rest.is_empty()
        || !rest.bytes().all(|b| b.is_ascii_digit())
        || (rest.len() > 1 && rest.starts_with('0'))
    {
        return None;
    }
    rest.parse().ok()
}

/// The claim name for a template and ordinal.
pub fn claim_name(claim: &str, set: &str, ordinal: i32) -> String {
    format!("{claim}-{set}-{ordinal}")
}

fn running_and_ready(p: &Pod) -> bool {
    p.phase() == PodPhase::Running && p.is_ready()
}

fn revision_of(p: &Pod) -> Option<&str> {
    p.meta
        .labels
        .get(LABEL_CONTROLLER_REVISION_HASH)
        .map(String::as_str)
}

fn sync_statefulset(api: &mut dyn Api, id: WorkloadId) {
    let w = api.store().get(id).clone();
    if w.removed {
        return;
    }
    let WorkloadBody::StatefulSet(set) = &w.body else {
        return;
    };
    let mut set: StatefulSet = (**set).clone();
    let now = api.now();
    let claimed = claim_pods(api, id, &set.parsed_selector);
    if w.meta.deletion_timestamp.is_some() {
        return;
    }
    let name = w.meta.name.clone();
    let ns = w.meta.namespace.clone();
    let update_rev = format!("{name}-{}", template_hash(&set.template));
    set.revisions
        .entry(update_rev.clone())
        .or_insert_with(|| set.template.clone());
    if set.status.current_revision.is_empty() {
        set.status.current_revision = update_rev.clone();
    }
    let current_rev = set.status.current_revision.clone();

    // Pods by ordinal; pods without a valid ordinal are ignored.
    let mut by_ord: std::collections::BTreeMap<i32, PodId> = Default::default();
    for p in &claimed {
        if let Some(o) = ordinal_of(&name, &api.pod(*p).meta.name) {
            by_ord.insert(o, *p);
        }
    }
    let replicas = set.replicas.max(0);
    let parallel = set.pod_management_policy == PodManagementPolicy::Parallel;
    let partition = match set.strategy {
        StatefulSetStrategy::RollingUpdate { partition } => partition,
        StatefulSetStrategy::OnDelete => 0,
    };

    // Ordinals 0..replicas: create missing, replace failed, in order.
    let mut blocked = false;
    for o in 0..replicas {
        if blocked {
            break;
        }
        match by_ord.get(&o).copied() {
            None => {
                let rev = if matches!(set.strategy, StatefulSetStrategy::RollingUpdate { .. })
                    && o < partition
                {
                    current_rev.clone()
                } else {
                    update_rev.clone()
                };
                ensure_claims(api, &w, &set, o);
                let template = set
                    .revisions
                    .get(&rev)
                    .cloned()
                    .unwrap_or_else(|| set.template.clone());
                let mut pod = pod_from_template(&template, &w);
                pod.meta.generate_name = None;
                pod.meta.name = format!("{name}-{o}");
                let l = &mut pod.meta.labels;
                l.insert(LABEL_POD_NAME.into(), pod.meta.name.clone());
                l.insert(LABEL_POD_INDEX.into(), o.to_string());
                l.insert(LABEL_CONTROLLER_REVISION_HASH.into(), rev);
                let ok = api.create_pod(pod).is_ok();
                if ok {
                    api.record(
                        "SuccessfulCreate",
                        None,
                        &format!(
                            "{} create Pod {name}-{o} in StatefulSet {name} successful",
                            w.describe()
                        ),
                    );
                }
                if !parallel {
                    blocked = true;
                }
            }
            Some(p) => {
                let pod = api.pod(p);
                if pod.phase().is_terminal() && !pod.is_terminating() {
                    api.delete_pod(p, "StatefulSetRecreate");
                    if !parallel {
                        blocked = true;
                    }
                } else if !parallel && (pod.is_terminating() || !running_and_ready(pod)) {
                    // OrderedReady: wait for this ordinal.
                    blocked = true;
                } else if !parallel && !is_pod_available(pod, set.min_ready_seconds, now) {
                    blocked = true;
                    if let Some(t) = pod.ready_since() {
                        let at = t.after(Duration::from_secs(set.min_ready_seconds.max(0) as u64));
                        api.enqueue_after(id, at.since(now));
                    }
                }
            }
        }
    }

    // Condemned ordinals (>= replicas), highest first.
    let condemned: Vec<(i32, PodId)> = by_ord
        .range(replicas..)
        .rev()
        .map(|(o, p)| (*o, *p))
        .collect();
    let all_healthy = (0..replicas).all(|o| {
        by_ord
            .get(&o)
            .is_some_and(|p| running_and_ready(api.pod(*p)))
    });
    let mut scaled_down_any = false;
    for (o, p) in &condemned {
        let pod = api.pod(*p);
        if pod.is_terminating() {
            if !parallel {
                break;
            }
            continue;
        }
        if !parallel && (blocked || !all_healthy || scaled_down_any) {
            break;
        }
        api.delete_pod(*p, "StatefulSetScaleDown");
        api.record(
            "SuccessfulDelete",
            None,
            &format!(
                "{} delete Pod {name}-{o} in StatefulSet {name} successful",
                w.describe()
            ),
        );
        scaled_down_any = true;
    }
    // whenScaled: Delete — claims of ordinals above replicas whose pod is gone.
    if set.pvc_retention.when_scaled_delete {
        for t in &set.volume_claim_templates {
            for c in api
                .store()
                .of_kind_in(WorkloadKind::PersistentVolumeClaim, &ns)
            {
                let cname = api.store().get(c).meta.name.clone();
                let Some(rest) = cname.strip_prefix(&format!("{}-", t.name)) else {
                    continue;
                };
                let Some(o) = ordinal_of(&name, rest) else {
                    continue;
                };
                if o >= replicas && !by_ord.contains_key(&o) {
                    api.remove_workload(c);
                }
            }
        }
    }

    // Rolling update: highest ordinal first, down to the partition.
    if let StatefulSetStrategy::RollingUpdate { partition } = set.strategy {
        if !blocked && condemned.is_empty() && all_healthy {
            for o in (partition.max(0)..replicas).rev() {
                let Some(p) = by_ord.get(&o).copied() else {
                    break;
                };
                let pod = api.pod(p);
                if revision_of(pod) != Some(update_rev.as_str()) {
                    if !pod.is_terminating() {
                        api.delete_pod(p, "StatefulSetRollingUpdate");
                    }
                    break;
                }
            }
        }
    }

    // Status.
    let mut status = StatefulSetStatus {
        observed_generation: w.generation,
        current_revision: current_rev.clone(),
        update_revision: update_rev.clone(),
        ..Default::default()
    };
    let uid = w.meta.uid.clone();
    for p in api.pods_in_namespace(&ns) {
        let pod = api.pod(p);
        if pod.meta.controller_ref().is_none_or(|r| r.uid != uid) || pod.phase().is_terminal() {
            continue;
        }
        status.replicas += 1;
        if pod.is_ready() {
            status.ready_replicas += 1;
            if is_pod_available(pod, set.min_ready_seconds, now) {
                status.available_replicas += 1;
            }
        }
        match revision_of(pod) {
            Some(r) if r == current_rev => status.current_replicas += 1,
            _ => {}
        }
        if revision_of(pod) == Some(update_rev.as_str()) {
            status.updated_replicas += 1;
        }
    }
    // The update is done when every pod runs the update revision.
    if status.updated_replicas == replicas
        && status.replicas == replicas
        && status.ready_replicas == replicas
    {
        status.current_revision = update_rev.clone();
        status.current_replicas = status.updated_replicas;
        set.revisions.retain(|k, _| *k == update_rev);
    }
    set.status = status;
    if let WorkloadBody::StatefulSet(s) = &mut api.store_mut().get_mut(id).body {
        **s = set;
    }
}

/// Creates the claims of ordinal `o` that do not exist yet.
fn ensure_claims(api: &mut dyn Api, w: &Workload, set: &StatefulSet, o: i32) {
    for t in &set.volume_claim_templates {
        let cname = claim_name(&t.name, &w.meta.name, o);
        if api
            .store()
            .lookup(
                WorkloadKind::PersistentVolumeClaim,
                &w.meta.namespace,
                &cname,
            )
            .is_some()
        {
            continue;
        }
        let mut meta = crate::model::workload::meta(&w.meta.namespace, &cname);
        meta.labels = set.template.meta.labels.clone();
        if set.pvc_retention.when_deleted_delete {
            let mut r = w.controller_ref();
            r.controller = true;
            meta.owner_references = vec![r];
        }
        let pvc = Workload::new(
            meta,
            WorkloadBody::PersistentVolumeClaim(PersistentVolumeClaim {
                storage_bytes: t.storage_bytes,
            }),
        );
        if api.create_workload(pvc).is_some() {
            api.record(
                "SuccessfulCreate",
                None,
                &format!(
                    "{} create Claim {cname} in StatefulSet {} successful",
                    w.describe(),
                    w.meta.name
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// stateful_set_utils_test.go `TestGetParentNameAndOrdinal` cases.
    #[test]
    fn ordinals() {
        assert_eq!(ordinal_of("web", "web-0"), Some(0));
        assert_eq!(ordinal_of("web", "web-12"), Some(12));
        assert_eq!(ordinal_of("web", "web-"), None);
        assert_eq!(ordinal_of("web", "web-x"), None);
        assert_eq!(ordinal_of("web", "webby-1"), None);
        assert_eq!(ordinal_of("web", "other-1"), None);
        assert_eq!(ordinal_of("web-1", "web-1-2"), Some(2));
        assert_eq!(claim_name("data", "web", 3), "data-web-3");
    }
}
