//! One pod's processor-sharing queue with virtual-time bookkeeping.
//!
//! The `n` requests in flight share the CPU the node model grants the pod
//! for traffic (`g` millicores) equally: each progresses at `g / n`. The
//! queue keeps a virtual time `V` (work per request done so far, in
//! millicore-µs scaled by 2²⁰) that advances by `dt × g / n` whenever time
//! passes; a request arriving at `V₀` with work `w` finishes when
//! `V = V₀ + w`. So an arrival, a completion or a grant change costs one
//! `O(log n)` update, never a pass over every request. The next
//! completion is `⌈(tag − V) × n / g⌉` µs away (rounded up, so a request
//! never finishes before its work is done).
//!
//! CPU accounting: `used_m_us` integrates `g` over time while requests are
//! in flight; it equals the work done (completed plus the progress of
//! requests in flight), up to the round-up of each completion instant.

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::SimTime;

/// Fixed-point scale of the virtual time.
const SCALE: u128 = 1 << 20;

/// A processor-sharing queue.
#[derive(Clone, Debug, Default)]
pub struct PsQueue {
    last: SimTime,
    grant_m: i64,
    v: u128,
    tags: BTreeSet<(u128, u64)>,
    tag_of: BTreeMap<u64, (u128, u128)>,
    /// CPU used by the requests, millicore-µs.
    pub used_m_us: u128,
}

impl PsQueue {
    pub fn new(now: SimTime) -> PsQueue {
        PsQueue {
            last: now,
            ..Default::default()
        }
    }

    /// Requests in flight.
    pub fn len(&self) -> usize {
        self.tags.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    pub fn grant(&self) -> i64 {
        self.grant_m
    }

    /// Lets time pass up to `now` at the current grant.
    pub fn advance(&mut self, now: SimTime) {
        if now <= self.last {
            return;
        }
        let dt = u128::from(now.0 - self.last.0);
        let n = self.tags.len() as u128;
        if n > 0 && self.grant_m > 0 {
            let g = self.grant_m as u128;
            self.v += dt * g * SCALE / n;
            self.used_m_us += dt * g;
        }
        self.last = now;
    }

    /// A request `id` with `work_m_us` of CPU work arrives at `now`.
    pub fn add(&mut self, now: SimTime, id: u64, work_m_us: u64) {
        self.advance(now);
        let tag = self.v + u128::from(work_m_us) * SCALE;
        self.tags.insert((tag, id));
        self.tag_of.insert(id, (tag, self.v));
    }

    /// Removes request `id` (a timeout or a failure); returns whether it
    /// was in flight and the work it had done (millicore-µs).
    pub fn remove(&mut self, now: SimTime, id: u64) -> Option<u64> {
        self.advance(now);
        let (tag, start) = self.tag_of.remove(&id)?;
        self.tags.remove(&(tag, id));
        Some(((self.v - start) / SCALE) as u64)
    }

    /// The grant changes at `now` (time up to `now` ran at the old one).
    pub fn set_grant(&mut self, now: SimTime, grant_m: i64) {
        self.advance(now);
        self.grant_m = grant_m.max(0);
    }

    /// When the next request finishes at the current grant.
    pub fn next_completion(&self) -> Option<SimTime> {
        let &(tag, _) = self.tags.first()?;
        if self.grant_m <= 0 {
            return None;
        }
        let rem = tag.saturating_sub(self.v);
        let n = self.tags.len() as u128;
        let dt = (rem * n).div_ceil(self.grant_m as u128 * SCALE);
        Some(SimTime(
            self.last
                .0
                .saturating_add(dt.min(u128::from(u64::MAX)) as u64),
        ))
    }

    /// Advances to `now` and removes the requests whose work is done, in
    /// finishing order.
    pub fn pop_done(&mut self, now: SimTime) -> Vec<u64> {
        self.advance(now);
        let mut out = Vec::new();
        while let Some(&(tag, id)) = self.tags.first() {
            if tag > self.v {
                break;
            }
            self.tags.remove(&(tag, id));
            self.tag_of.remove(&id);
            out.push(id);
        }
        out
    }

    /// Removes every request (the pod stopped running), in id order.
    pub fn drain(&mut self, now: SimTime) -> Vec<u64> {
        self.advance(now);
        self.tags.clear();
        let ids = self.tag_of.keys().copied().collect();
        self.tag_of.clear();
        ids
    }

    /// Work done so far by the requests in flight (millicore-µs).
    pub fn in_flight_progress(&self) -> u128 {
        self.tag_of
            .values()
            .map(|(_, s)| (self.v - s) / SCALE)
            .sum()
    }

    /// The ids in flight, in id order.
    pub fn ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.tag_of.keys().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(x: u64) -> SimTime {
        SimTime(x * 1000)
    }

    #[test]
    fn single_request_takes_work_over_grant() {
        let mut q = PsQueue::new(ms(0));
        q.set_grant(ms(0), 500);
        q.add(ms(0), 1, 5_000_000); // 5 ms of one CPU
        assert_eq!(q.next_completion(), Some(ms(10)));
        assert!(q.pop_done(ms(9)).is_empty());
        assert_eq!(q.pop_done(ms(10)), vec![1]);
        assert_eq!(q.used_m_us, 5_000_000);
    }

    #[test]
    fn two_equal_requests_finish_together_at_twice() {
        let mut q = PsQueue::new(ms(0));
        q.set_grant(ms(0), 1000);
        q.add(ms(0), 1, 5_000_000);
        q.add(ms(0), 2, 5_000_000);
        assert_eq!(q.next_completion(), Some(ms(10)));
        assert_eq!(q.pop_done(ms(10)), vec![1, 2]);
    }

    #[test]
    fn a_late_arrival_shares_then_runs_alone() {
        // 1000m; A (10 ms of work) at 0, B (2 ms) at 4 ms: from 4 ms both
        // at 500m; B done at 8 ms; A has 4 + 2 = 6 ms done, 4 left alone.
        let mut q = PsQueue::new(ms(0));
        q.set_grant(ms(0), 1000);
        q.add(ms(0), 1, 10_000_000);
        q.add(ms(4), 2, 2_000_000);
        assert_eq!(q.next_completion(), Some(ms(8)));
        assert_eq!(q.pop_done(ms(8)), vec![2]);
        assert_eq!(q.next_completion(), Some(ms(12)));
        // A grant change halfway: 2 ms at 1000m, then 500m for 2 ms left.
        q.set_grant(ms(10), 500);
        assert_eq!(q.next_completion(), Some(ms(14)));
        assert_eq!(q.pop_done(ms(14)), vec![1]);
        assert_eq!(q.used_m_us, 12_000_000);
    }

    #[test]
    fn no_grant_no_progress() {
        let mut q = PsQueue::new(ms(0));
        q.add(ms(0), 1, 1000);
        assert_eq!(q.next_completion(), None);
        assert_eq!(q.remove(ms(50), 1), Some(0));
        assert!(q.is_empty());
    }

    proptest! {
        /// Work conservation: CPU used = work completed + progress in
        /// flight, up to 1 µs of grant per step; completed work ≤ used.
        #[test]
        fn work_is_conserved(ops in proptest::collection::vec((0u64..3, 1u64..20_000, 1u64..20_000_000, 0i64..3000), 1..60)) {
            let mut q = PsQueue::new(SimTime(0));
            let mut now = 0u64;
            let mut done_work: u128 = 0;
            let mut removed_work: u128 = 0;
            let mut work_of = BTreeMap::new();
            let mut steps: u128 = 0;
            let mut gmax: u128 = 0;
            for (i, (op, dt, w, g)) in ops.into_iter().enumerate() {
                now += dt;
                steps += 1;
                gmax = gmax.max(g as u128);
                while let Some(t) = q.next_completion().filter(|t| t.0 <= now) {
                    steps += 1;
                    for id in q.pop_done(t) {
                        done_work += u128::from(work_of[&id]);
                    }
                }
                match op {
                    0 => { q.add(SimTime(now), i as u64, w); work_of.insert(i as u64, w); }
                    1 => q.set_grant(SimTime(now), g),
                    _ => {
                        let first = q.ids().next();
                        if let Some(id) = first {
                            removed_work += u128::from(q.remove(SimTime(now), id).unwrap_or(0));
                        }
                    }
                }
            }
            let accounted = done_work + removed_work + q.in_flight_progress();
            prop_assert!(accounted <= q.used_m_us);
            prop_assert!(q.used_m_us <= accounted + steps * (gmax + 1) + 64, "used {} accounted {}", q.used_m_us, accounted);
        }
    }
}
