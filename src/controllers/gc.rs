//! The garbage collector (upstream pkg/controller/garbagecollector): the
//! cascading deletion of a workload's dependents through ownerReferences.
//!
//! - **Background** (the default of `delete`): the owner leaves the API at
//!   once; the collector then deletes every dependent whose only owner it
//!   was (dependents with other live owners lose the dangling reference).
//! - **Foreground**: the owner gets a `deletionTimestamp` and the
//!   `foregroundDeletion` finalizer; the collector deletes the dependents
//!   (foreground as well) and removes the owner once no dependent with
//!   `blockOwnerDeletion: true` is left in the API.
//! - **Orphan**: the dependents lose their owner reference, then the owner
//!   goes.
//!
//! Deviation: upstream's graph builder reacts to watch events; here a
//! sync of the owner (`Event::Reconcile`) does the work, after the same
//! reconcile delay as the controllers.

use super::{Api, Propagation, WorkloadId};
use crate::model::PodId;

pub const FINALIZER_FOREGROUND: &str = "foregroundDeletion";
pub const FINALIZER_ORPHAN: &str = "orphan";

/// Dependents of the object with `uid` in `namespace`: workloads and live
/// pods whose owner references name it.
fn dependents(api: &dyn Api, namespace: &str, uid: &str) -> (Vec<WorkloadId>, Vec<PodId>) {
    let wls = api
        .store()
        .dependents_of(uid)
        .into_iter()
        .filter(|d| api.store().get(*d).meta.namespace == namespace)
        .collect();
    let pods = api
        .pods_in_namespace(namespace)
        .into_iter()
        .filter(|p| {
            api.pod(*p)
                .meta
                .owner_references
                .iter()
                .any(|o| o.uid == uid)
        })
        .collect();
    (wls, pods)
}

/// Whether `owners` (other than `uid`) include one that is still live.
fn has_other_live_owner(
    api: &dyn Api,
    namespace: &str,
    owners: &[crate::model::OwnerReference],
    uid: &str,
) -> bool {
    owners
        .iter()
        .filter(|o| o.uid != uid)
        .any(|o| api.store().resolve(namespace, o).is_some())
}

/// Runs the collector for object `id` (removed or being deleted); a no-op
/// for a live object without a deletion timestamp.
pub fn sync(api: &mut dyn Api, id: WorkloadId) {
    let w = api.store().get(id);
    let ns = w.meta.namespace.clone();
    let uid = w.meta.uid.clone();
    if w.removed {
        // Background: delete the dependents whose only owner this was.
        let (wls, pods) = dependents(api, &ns, &uid);
        for d in wls {
            let owners = api.store().get(d).meta.owner_references.clone();
            if has_other_live_owner(api, &ns, &owners, &uid) {
                api.store_mut()
                    .get_mut(d)
                    .meta
                    .owner_references
                    .retain(|o| o.uid != uid);
            } else {
                api.delete_workload(d, Propagation::Background);
            }
        }
        for p in pods {
            let owners = api.pod(p).meta.owner_references.clone();
            if has_other_live_owner(api, &ns, &owners, &uid) {
                let kept = owners.into_iter().filter(|o| o.uid != uid).collect();
                api.set_pod_owners(p, kept);
            } else {
                api.delete_pod(p, "GarbageCollected");
            }
        }
        return;
    }
    if w.meta.deletion_timestamp.is_none() {
        return;
    }
    if w.finalizers.iter().any(|f| f == FINALIZER_ORPHAN) {
        let (wls, pods) = dependents(api, &ns, &uid);
        for d in wls {
            api.store_mut()
                .get_mut(d)
                .meta
                .owner_references
                .retain(|o| o.uid != uid);
            api.enqueue_after(d, crate::engine::Duration::ZERO);
        }
        for p in pods {
            let kept = api
                .pod(p)
                .meta
                .owner_references
                .iter()
                .filter(|o| o.uid != uid)
                .cloned()
                .collect();
            api.set_pod_owners(p, kept);
        }
        api.remove_workload(id);
        return;
    }
    if w.finalizers.iter().any(|f| f == FINALIZER_FOREGROUND) {
        let (wls, pods) = dependents(api, &ns, &uid);
        let mut blocking = 0;
        for d in wls {
            let blocks = api
                .store()
                .get(d)
                .meta
                .owner_references
                .iter()
                .any(|o| o.uid == uid && o.block_owner_deletion);
            blocking += usize::from(blocks);
            if api.store().get(d).meta.deletion_timestamp.is_none() {
                api.delete_workload(d, Propagation::Foreground);
            }
        }
        for p in pods {
            let blocks = api
                .pod(p)
                .meta
                .owner_references
                .iter()
                .any(|o| o.uid == uid && o.block_owner_deletion);
            blocking += usize::from(blocks);
            api.delete_pod(p, "GarbageCollected");
        }
        if blocking == 0 {
            api.remove_workload(id);
        }
    }
}
