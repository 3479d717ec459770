//! The World's hooks for the batch and node-bound controllers: node
//! changes resync every DaemonSet (upstream's DaemonSet controller watches
//! nodes), and a re-applied Job, CronJob, DaemonSet or StatefulSet keeps
//! its status.

use super::World;
use crate::controllers::{WorkloadBody, WorkloadKind};
use crate::engine::Duration;

impl World {
    /// A node was added, removed, cordoned or changed readiness: every
    /// DaemonSet reconsiders where its pods belong.
    pub(super) fn daemonsets_node_changed(&mut self) {
        if self.wl.store.is_empty() {
            return;
        }
        let ids: Vec<_> = self
            .wl
            .store
            .live()
            .filter(|id| self.wl.store.get(*id).kind() == WorkloadKind::DaemonSet)
            .collect();
        for id in ids {
            self.enqueue_workload(id, Duration::ZERO);
        }
    }
}

/// `apply` of an existing object of one of these kinds: the new spec with
/// the old status (and a StatefulSet's revisions).
pub(super) fn keep_status(old: WorkloadBody, new: WorkloadBody) -> WorkloadBody {
    match (old, new) {
        (WorkloadBody::Job(o), WorkloadBody::Job(mut n)) => {
            n.status = o.status;
            WorkloadBody::Job(n)
        }
        (WorkloadBody::CronJob(o), WorkloadBody::CronJob(mut n)) => {
            n.status = o.status;
            WorkloadBody::CronJob(n)
        }
        (WorkloadBody::DaemonSet(o), WorkloadBody::DaemonSet(mut n)) => {
            n.status = o.status;
            WorkloadBody::DaemonSet(n)
        }
        (WorkloadBody::StatefulSet(o), WorkloadBody::StatefulSet(mut n)) => {
            n.status = o.status;
            n.revisions = o.revisions;
            WorkloadBody::StatefulSet(n)
        }
        (_, n) => n,
    }
}
