//! Incremental plugin state: the log of pods entering and leaving nodes'
//! pod sets that the World keeps, and a small per-plugin cache of PreFilter
//! or PreScore states keyed by the incoming pod's scheduling signature.
//!
//! Upstream's InterPodAffinity rebuilds its topology counts from every pod
//! in the cluster on each cycle. Those counts are sums over existing pods,
//! and the plugin already knows how to add or remove one pod's contribution
//! (its AddPod/RemovePod). So when the next pod with the same scheduling
//! signature arrives, kubesim takes the state it computed for the previous
//! one and applies only the pods that entered or left nodes since then.
//! The result is the same state a full rebuild gives (the property test
//! `node_cache_does_not_change_results` runs with and without it).
//!
//! What the log cannot see (a node's labels or presence changing, a
//! namespace's labels changing) bumps its `epoch`, which invalidates every
//! cached state. The World calls [`PodChangeLog::bump_epoch`] for those.

use std::rc::Rc;

use crate::model::{NodeId, PodId};

/// One pod entering or leaving a node's pod set, or starting to terminate
/// there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodChange {
    pub pod: PodId,
    pub node: NodeId,
    /// +1 entered, -1 left, 0 started terminating (counts over every pod,
    /// as InterPodAffinity's).
    pub all: i8,
    /// The same for pods not terminating (counts that skip pods with a
    /// deletion timestamp, as PodTopologySpread's): +1 entered while not
    /// terminating, -1 left while not terminating or started terminating.
    pub live: i8,
}

/// The World's log of pod placements since the last compaction.
#[derive(Clone, Debug, Default)]
pub struct PodChangeLog {
    epoch: u64,
    /// Absolute position of `entries[0]`.
    base: u64,
    entries: Vec<PodChange>,
}

impl PodChangeLog {
    /// Past this many entries the log is emptied (cached states older than
    /// that are rebuilt once).
    pub const MAX_ENTRIES: usize = 1 << 16;

    /// Pod `pod` entered (`added`) or left node `node`'s pod set;
    /// `terminating`: it has a deletion timestamp.
    pub fn record(&mut self, pod: PodId, node: NodeId, added: bool, terminating: bool) {
        let all = if added { 1 } else { -1 };
        let live = if terminating { 0 } else { all };
        self.push(PodChange {
            pod,
            node,
            all,
            live,
        });
    }

    /// Pod `pod`, in node `node`'s pod set, got a deletion timestamp.
    pub fn record_terminating(&mut self, pod: PodId, node: NodeId) {
        self.push(PodChange {
            pod,
            node,
            all: 0,
            live: -1,
        });
    }

    fn push(&mut self, c: PodChange) {
        if self.entries.len() >= Self::MAX_ENTRIES {
            self.base += self.entries.len() as u64;
            self.entries.clear();
        }
        self.entries.push(c);
    }

    /// Something other than a pod placement changed that plugin states may
    /// depend on (node labels, node presence, namespaces).
    pub fn bump_epoch(&mut self) {
        self.epoch += 1;
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The position after the last entry.
    pub fn head(&self) -> u64 {
        self.base + self.entries.len() as u64
    }

    /// The changes after position `pos`, `None` if they are no longer kept.
    pub fn since(&self, pos: u64) -> Option<&[PodChange]> {
        if pos < self.base || pos > self.head() {
            return None;
        }
        self.entries.get((pos - self.base) as usize..)
    }
}

struct Entry<T> {
    sig: u64,
    epoch: u64,
    pos: u64,
    state: Rc<T>,
}

/// A few states keyed by scheduling signature, most recently used first.
pub struct StateCache<T> {
    entries: Vec<Entry<T>>,
}

impl<T> Default for StateCache<T> {
    fn default() -> Self {
        StateCache {
            entries: Vec::new(),
        }
    }
}

/// How many signatures a plugin remembers.
const CAPACITY: usize = 8;
/// Beyond this many changes a rebuild is cheaper than replaying them.
const MAX_REPLAY: usize = 4096;

impl<T: Clone> StateCache<T> {
    /// The state kept for `sig`, brought up to date by `apply` for each
    /// change since it was stored; `None` when there is none or it is stale.
    /// The entry is taken out of the cache: store the result back with
    /// [`StateCache::put`].
    pub fn take(
        &mut self,
        sig: u64,
        log: &PodChangeLog,
        mut apply: impl FnMut(&mut T, &PodChange),
    ) -> Option<Rc<T>> {
        let i = self.entries.iter().position(|e| e.sig == sig)?;
        let e = self.entries.remove(i);
        if e.epoch != log.epoch() {
            return None;
        }
        let changes = log.since(e.pos)?;
        if changes.len() > MAX_REPLAY {
            return None;
        }
        let mut state = e.state;
        if !changes.is_empty() {
            // Copies only if a previous cycle still holds the state.
            let s = Rc::make_mut(&mut state);
            for c in changes {
                apply(s, c);
            }
        }
        Some(state)
    }

    /// Remembers `state` for `sig` as of the log's current position.
    pub fn put(&mut self, sig: u64, log: &PodChangeLog, state: Rc<T>) {
        self.entries.retain(|e| e.sig != sig);
        self.entries.insert(
            0,
            Entry {
                sig,
                epoch: log.epoch(),
                pos: log.head(),
                state,
            },
        );
        self.entries.truncate(CAPACITY);
    }

    /// The state for `sig`: the kept one brought up to date by `apply` for
    /// each change since it was stored, or a fresh one from `build`; kept
    /// for the next pod with the same signature. Without a log (or for an
    /// unsigned pod, `sig == 0`) it is always built and not kept. `ctx` is
    /// what both closures need mutably (e.g. the plugin's interner).
    pub fn fetch<C>(
        &mut self,
        sig: u64,
        log: Option<&PodChangeLog>,
        ctx: &mut C,
        mut apply: impl FnMut(&mut C, &mut T, &PodChange),
        build: impl FnOnce(&mut C) -> T,
    ) -> Rc<T> {
        let Some(log) = log.filter(|_| sig != 0) else {
            return Rc::new(build(ctx));
        };
        let state = match self.take(sig, log, |s, c| apply(ctx, s, c)) {
            Some(s) => s,
            None => Rc::new(build(ctx)),
        };
        self.put(sig, log, Rc::clone(&state));
        state
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(p: u32, added: bool) -> PodChange {
        let d = if added { 1 } else { -1 };
        PodChange {
            pod: PodId(p),
            node: NodeId(0),
            all: d,
            live: d,
        }
    }

    #[test]
    fn replays_changes_since_the_stored_position() {
        let mut log = PodChangeLog::default();
        let mut cache: StateCache<i64> = StateCache::default();
        log.record(PodId(1), NodeId(0), true, false);
        cache.put(7, &log, Rc::new(1));
        log.record(PodId(2), NodeId(0), true, false);
        log.record(PodId(1), NodeId(0), false, false);
        let got = cache.take(7, &log, |s, c| *s += i64::from(c.all));
        assert_eq!(got.as_deref(), Some(&1));
        // Taken out: a second take misses until it is put back.
        assert!(cache.take(7, &log, |_, _| {}).is_none());
        assert_eq!(
            log.since(0),
            Some(&[ch(1, true), ch(2, true), ch(1, false)][..])
        );
    }

    #[test]
    fn epoch_and_compaction_invalidate() {
        let mut log = PodChangeLog::default();
        let mut cache: StateCache<i64> = StateCache::default();
        cache.put(1, &log, Rc::new(0));
        log.bump_epoch();
        assert!(cache.take(1, &log, |_, _| {}).is_none());
        cache.put(1, &log, Rc::new(0));
        for i in 0..=PodChangeLog::MAX_ENTRIES as u32 {
            log.record(PodId(i), NodeId(0), true, false);
        }
        assert!(log.since(0).is_none());
        assert!(cache.take(1, &log, |_, _| {}).is_none());
        // An up-to-date entry survives compaction.
        cache.put(2, &log, Rc::new(5));
        assert_eq!(cache.take(2, &log, |_, _| {}).as_deref(), Some(&5));
    }

    #[test]
    fn keeps_the_most_recent_signatures() {
        let log = PodChangeLog::default();
        let mut cache: StateCache<u64> = StateCache::default();
        for s in 0..(CAPACITY as u64 + 2) {
            cache.put(s, &log, Rc::new(s));
        }
        assert!(cache.take(0, &log, |_, _| {}).is_none());
        assert_eq!(
            cache.take(CAPACITY as u64 + 1, &log, |_, _| {}).as_deref(),
            Some(&(CAPACITY as u64 + 1))
        );
    }
}
