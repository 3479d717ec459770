//! The pending-event set: a binary heap keyed by `(time, insertion sequence)`.
//!
//! Events at the same time pop in insertion order (FIFO), so the order of
//! events is total and independent of the heap's internals. Timers are
//! cancellable in O(log n): a cancelled entry stays in the heap and is
//! discarded when it reaches the top.

use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap};

use super::time::SimTime;

/// Identifies a scheduled event so that it can be cancelled. It is the
/// event's insertion sequence number, unique for the queue's lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub u64);

/// Ordered by (time, seq). Two `u64`s rather than one `u128` keep the
/// alignment at 8, so with an 8-byte event an entry is 24 bytes.
struct Entry<E> {
    time: u64,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    fn time(&self) -> SimTime {
        SimTime(self.time)
    }
    fn seq(&self) -> u64 {
        self.seq
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed so that `BinaryHeap` (a max-heap) pops the earliest entry.
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        // One 128-bit comparison (compiles to a compare-with-borrow pair,
        // no branch on the first field).
        let key = |e: &Self| (u128::from(e.time) << 64) | u128::from(e.seq);
        key(other).cmp(&key(self))
    }
}

/// A totally ordered queue of future events.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
    cancelled: BTreeSet<u64>,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
            cancelled: BTreeSet::new(),
        }
    }

    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(n),
            next_seq: 0,
            cancelled: BTreeSet::new(),
        }
    }

    /// Schedules `event` at `time`; returns a handle for [`cancel`](Self::cancel).
    pub fn push(&mut self, time: SimTime, event: E) -> TimerId {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry {
            time: time.0,
            seq,
            event,
        });
        TimerId(seq)
    }

    /// Cancels a pending timer in O(log n). The caller must not cancel a
    /// timer whose event has already been popped (the World clears its
    /// timer handles as events fire; debug builds check this). Cancelling
    /// twice is a no-op that returns false.
    pub fn cancel(&mut self, id: TimerId) -> bool {
        if id.0 >= self.next_seq {
            return false;
        }
        debug_assert!(
            self.cancelled.contains(&id.0) || self.heap.iter().any(|e| e.seq() == id.0),
            "cancelling timer {} which already fired",
            id.0
        );
        self.cancelled.insert(id.0)
    }

    /// Removes and returns the earliest event, skipping cancelled ones.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, TimerId, E)> {
        loop {
            let e = self.heap.pop()?;
            if !self.cancelled.is_empty() && self.cancelled.remove(&e.seq()) {
                continue;
            }
            return Some((e.time(), TimerId(e.seq()), e.event));
        }
    }

    /// The time of the earliest live event.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        loop {
            let top = self.heap.peek()?;
            if !self.cancelled.is_empty() && self.cancelled.contains(&top.seq()) {
                let seq = top.seq();
                self.heap.pop();
                self.cancelled.remove(&seq);
                continue;
            }
            return Some(top.time());
        }
    }

    /// Number of live (not cancelled) events.
    pub fn len(&self) -> usize {
        self.heap.len().saturating_sub(self.cancelled.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sequence numbers handed out so far (a measure of total work).
    pub fn pushed(&self) -> u64 {
        self.next_seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn same_time_pops_fifo() {
        let mut q = EventQueue::new();
        q.push(SimTime(5), 'a');
        q.push(SimTime(1), 'b');
        q.push(SimTime(5), 'c');
        q.push(SimTime(1), 'd');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, _, e)| e)).collect();
        assert_eq!(order, vec!['b', 'd', 'a', 'c']);
    }

    #[test]
    fn cancelled_timers_never_fire() {
        let mut q = EventQueue::new();
        let a = q.push(SimTime(1), 1);
        let b = q.push(SimTime(2), 2);
        assert!(q.cancel(a));
        assert!(!q.cancel(a), "second cancel is a no-op");
        assert_eq!(q.len(), 1);
        assert_eq!(q.peek_time(), Some(SimTime(2)));
        assert_eq!(q.pop().map(|(_, id, e)| (id, e)), Some((b, 2)));
        assert!(!q.cancel(TimerId(99)), "an id never handed out is ignored");
        assert!(q.pop().is_none());
        assert!(q.is_empty());
    }

    proptest! {
        /// Popping yields events sorted by (time, insertion order), minus the cancelled ones.
        #[test]
        fn pops_in_total_order(times in proptest::collection::vec(0u64..50, 0..200),
                               cancel_mask in proptest::collection::vec(any::<bool>(), 200)) {
            let mut q = EventQueue::new();
            let ids: Vec<TimerId> = times.iter().enumerate().map(|(i, &t)| q.push(SimTime(t), i)).collect();
            let mut expect: Vec<(u64, usize)> = Vec::new();
            for (i, &t) in times.iter().enumerate() {
                if cancel_mask[i] { q.cancel(ids[i]); } else { expect.push((t, i)); }
            }
            expect.sort();
            let got: Vec<(u64, usize)> = std::iter::from_fn(|| q.pop().map(|(t, _, e)| (t.0, e))).collect();
            prop_assert_eq!(got, expect);
        }
    }
}
