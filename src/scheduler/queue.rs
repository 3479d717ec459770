//! The scheduling queue, shaped like kube-scheduler's: an active queue
//! ordered by PrioritySort (priority, then time of enqueue), a back-off set
//! (1s doubling to 10s per failed attempt by default) and the unschedulable
//! pods, moved back on cluster events and flushed after 5 minutes. A
//! policy with another queue order picks from [`SchedQueue::active_entries`].
//!
//! With QueueingHints (upstream v1.35 default) each parked pod remembers
//! what rejected it ([`Rejectors`]); the World asks the policy, per event,
//! which parked pods the event may help. Pods held back by scheduling
//! gates (upstream: rejected at PreEnqueue by SchedulingGates) wait in a
//! set of their own until their last gate is removed.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use crate::engine::{Duration, SimTime};
use crate::model::PodId;

/// Upstream defaults (pkg/scheduler/apis/config/v1 defaults).
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
pub const MAX_IN_UNSCHEDULABLE: Duration = Duration::from_secs(300);
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(30);

/// What rejected a parked pod (upstream `QueuedPodInfo.UnschedulablePlugins`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejectors {
    /// The policy declares no events: any cluster event moves the pod.
    Undeclared,
    /// These plugins rejected it; the event must be one a plugin among
    /// them registered, with a hint that says Queue.
    Plugins(Vec<&'static str>),
}

#[derive(Default)]
pub struct SchedQueue {
    active: BTreeSet<(Reverse<i32>, SimTime, u64, PodId)>,
    active_key: BTreeMap<PodId, (Reverse<i32>, SimTime, u64, PodId)>,
    unschedulable: BTreeMap<PodId, SimTime>,
    backoff: BTreeSet<PodId>,
    seq: u64,
    /// Why each unschedulable pod was rejected.
    rejectors: BTreeMap<PodId, Rejectors>,
    /// Pods with scheduling gates (not in any queue).
    gated: BTreeSet<PodId>,
}

impl SchedQueue {
    pub fn push_active(&mut self, pod: PodId, priority: i32, now: SimTime) {
        if self.active_key.contains_key(&pod) {
            return;
        }
        self.unschedulable.remove(&pod);
        self.rejectors.remove(&pod);
        self.backoff.remove(&pod);
        let key = (Reverse(priority), now, self.seq, pod);
        self.seq += 1;
        self.active.insert(key);
        self.active_key.insert(pod, key);
    }

    pub fn pop(&mut self) -> Option<PodId> {
        let key = self.active.pop_first()?;
        self.active_key.remove(&key.3);
        Some(key.3)
    }

    /// The active pods with their enqueue times, in PrioritySort order.
    pub fn active_entries(&self) -> Vec<(PodId, SimTime)> {
        self.active.iter().map(|k| (k.3, k.1)).collect()
    }

    /// Takes a specific pod out of the active queue.
    pub fn take_active(&mut self, pod: PodId) -> bool {
        match self.active_key.remove(&pod) {
            Some(k) => self.active.remove(&k),
            None => false,
        }
    }

    pub fn park_unschedulable(&mut self, pod: PodId, now: SimTime) {
        self.unschedulable.insert(pod, now);
    }

    pub fn park_backoff(&mut self, pod: PodId) {
        self.unschedulable.remove(&pod);
        self.rejectors.remove(&pod);
        self.backoff.insert(pod);
    }

    pub fn in_backoff(&self, pod: PodId) -> bool {
        self.backoff.contains(&pod)
    }

    /// Removes a pod wherever it is (it was deleted or bound elsewhere).
    pub fn remove(&mut self, pod: PodId) {
        if let Some(k) = self.active_key.remove(&pod) {
            self.active.remove(&k);
        }
        self.unschedulable.remove(&pod);
        self.backoff.remove(&pod);
        self.rejectors.remove(&pod);
        self.gated.remove(&pod);
    }

    /// Parks a pod that failed, with what rejected it.
    pub fn park_unschedulable_with(&mut self, pod: PodId, now: SimTime, why: Rejectors) {
        self.unschedulable.insert(pod, now);
        self.rejectors.insert(pod, why);
    }

    /// What rejected a parked pod (`Undeclared` if unknown).
    pub fn rejectors(&self, pod: PodId) -> &Rejectors {
        self.rejectors.get(&pod).unwrap_or(&Rejectors::Undeclared)
    }

    /// The unschedulable pods, in id order.
    pub fn unschedulable_pods(&self) -> Vec<PodId> {
        self.unschedulable.keys().copied().collect()
    }

    /// Takes one pod out of the unschedulable pods (an event moves it).
    pub fn take_unschedulable_pod(&mut self, pod: PodId) -> bool {
        self.rejectors.remove(&pod);
        self.unschedulable.remove(&pod).is_some()
    }

    /// Holds a pod with scheduling gates out of the queues.
    pub fn park_gated(&mut self, pod: PodId) {
        self.gated.insert(pod);
    }

    /// Whether the pod waits for its scheduling gates.
    pub fn is_gated(&self, pod: PodId) -> bool {
        self.gated.contains(&pod)
    }

    /// Its last gate was removed: the pod may enter the queue.
    pub fn ungate(&mut self, pod: PodId) -> bool {
        self.gated.remove(&pod)
    }

    /// Pods waiting for their scheduling gates.
    pub fn gated_len(&self) -> usize {
        self.gated.len()
    }

    /// All unschedulable pods (a cluster event may have made them fit).
    pub fn take_unschedulable(&mut self) -> Vec<PodId> {
        self.rejectors.clear();
        std::mem::take(&mut self.unschedulable)
            .into_keys()
            .collect()
    }

    /// Unschedulable pods parked for longer than the maximum.
    pub fn take_stale(&mut self, now: SimTime) -> Vec<PodId> {
        let stale: Vec<PodId> = self
            .unschedulable
            .iter()
            .filter(|(_, t)| now.since(**t) >= MAX_IN_UNSCHEDULABLE)
            .map(|(p, _)| *p)
            .collect();
        for p in &stale {
            self.unschedulable.remove(p);
            self.rejectors.remove(p);
        }
        stale
    }

    pub fn active_len(&self) -> usize {
        self.active.len()
    }
    pub fn unschedulable_len(&self) -> usize {
        self.unschedulable.len() + self.backoff.len()
    }
    pub fn has_unschedulable(&self) -> bool {
        !self.unschedulable.is_empty()
    }
}

/// Upstream `calculateBackoffDuration`: initial × 2^(attempts−1), capped.
pub fn backoff_duration(attempts: u32, initial: Duration, max: Duration) -> Duration {
    let mut d = initial;
    for _ in 1..attempts {
        d = d.saturating_mul(2);
        if d > max {
            return max;
        }
    }
    d.min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_then_fifo() {
        let mut q = SchedQueue::default();
        q.push_active(PodId(1), 0, SimTime(5));
        q.push_active(PodId(2), 10, SimTime(9));
        q.push_active(PodId(3), 0, SimTime(1));
        q.push_active(PodId(3), 0, SimTime(1));
        assert_eq!(q.pop(), Some(PodId(2)));
        assert_eq!(q.pop(), Some(PodId(3)));
        assert_eq!(q.pop(), Some(PodId(1)));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn backoff_doubles_to_cap() {
        let b = |n| backoff_duration(n, INITIAL_BACKOFF, MAX_BACKOFF);
        assert_eq!(b(1), Duration::from_secs(1));
        assert_eq!(b(2), Duration::from_secs(2));
        assert_eq!(b(4), Duration::from_secs(8));
        assert_eq!(b(5), Duration::from_secs(10));
        assert_eq!(b(100), Duration::from_secs(10));
    }

    #[test]
    fn stale_unschedulable_are_flushed() {
        let mut q = SchedQueue::default();
        q.park_unschedulable(PodId(1), SimTime::ZERO);
        q.park_unschedulable(PodId(2), SimTime(200_000_000));
        assert_eq!(q.take_stale(SimTime(300_000_000)), vec![PodId(1)]);
        assert_eq!(q.take_unschedulable(), vec![PodId(2)]);
    }

    #[test]
    fn parked_pods_keep_their_rejectors_until_they_move() {
        let mut q = SchedQueue::default();
        q.park_unschedulable_with(
            PodId(1),
            SimTime::ZERO,
            Rejectors::Plugins(vec!["NodeAffinity"]),
        );
        q.park_unschedulable(PodId(2), SimTime::ZERO);
        assert_eq!(q.unschedulable_pods(), vec![PodId(1), PodId(2)]);
        assert_eq!(
            *q.rejectors(PodId(1)),
            Rejectors::Plugins(vec!["NodeAffinity"])
        );
        assert_eq!(*q.rejectors(PodId(2)), Rejectors::Undeclared);
        assert!(q.take_unschedulable_pod(PodId(1)));
        assert!(!q.take_unschedulable_pod(PodId(1)));
        assert_eq!(*q.rejectors(PodId(1)), Rejectors::Undeclared);
        assert_eq!(q.unschedulable_pods(), vec![PodId(2)]);
    }

    #[test]
    fn gated_pods_stay_out_of_the_queues() {
        let mut q = SchedQueue::default();
        q.park_gated(PodId(3));
        assert!(q.is_gated(PodId(3)));
        assert_eq!(q.gated_len(), 1);
        assert_eq!(q.active_len(), 0);
        assert!(!q.has_unschedulable());
        assert!(q.ungate(PodId(3)));
        assert!(!q.ungate(PodId(3)));
        q.park_gated(PodId(4));
        q.remove(PodId(4));
        assert_eq!(q.gated_len(), 0);
    }
}
