//! Reuse of node-local plugin results across identical pods.
//!
//! Many pods share a scheduling signature (replicas of one template). For
//! plugins that declare [`Plugin::node_local`](super::framework::Plugin::node_local),
//! a Filter verdict or raw Score depends only on the signature and the node,
//! so it stays valid while the node's `generation` is unchanged. The cache
//! stores, per node, the first failing node-local Filter (or none) and the
//! raw node-local scores, keyed by (signature, generation). Results are
//! identical with and without the cache (a property test checks it); only
//! the work is saved.

use super::framework::{ClusterView, CycleState, Status};
use super::profile::Profile;
use crate::model::{Node, NodeId, Pod, PodId};

/// Raw scores of this many Score plugins (by position in the profile's
/// score list) are kept per node; later positions are not cached.
pub const CACHED_SCORES: usize = 8;

/// A node's cached Filter verdict of the node-local plugins.
#[derive(Clone, Debug, Default)]
enum FilterSlot {
    #[default]
    Unknown,
    /// Every node-local Filter plugin passed.
    Pass,
    /// Position in the active list and status of the first failing
    /// node-local Filter plugin.
    Fail(Box<(usize, Status)>),
}

/// Everything cached for one node, valid for one (signature, generation).
/// Kept inline (no heap pointer to chase on a hit).
#[derive(Clone, Debug, Default)]
struct Entry {
    /// 0: empty (signature 0 is never cached).
    sig: u64,
    gen: u64,
    filter: FilterSlot,
    /// Bit `k` set: `raws[k]` holds the raw score of score position `k`.
    valid: u8,
    raws: [i64; CACHED_SCORES],
}

/// The cache of one profile, indexed by node id.
#[derive(Default)]
pub struct NodeCache {
    entries: Vec<Entry>,
    pub hits: u64,
    pub misses: u64,
    /// Buffers [`Profile::run_score_totals`] reuses across cycles.
    pub(crate) raw_buf: Vec<i64>,
    pub(crate) score_buf: Vec<super::framework::NodeScore>,
}

impl NodeCache {
    /// Upstream `RunFilterPluginsWithNominatedPods` with node-local
    /// verdicts reused. `local[k]` says whether `active[k]` is node-local.
    #[allow(clippy::too_many_arguments)]
    pub fn filter(
        &mut self,
        prof: &Profile,
        active: &[usize],
        local: &[bool],
        state: &CycleState,
        pod_id: PodId,
        pod: &Pod,
        nid: NodeId,
        node: &Node,
        view: &ClusterView,
    ) -> Status {
        let sig = pod.sched_signature;
        let has_non_local = local.iter().any(|l| !*l);
        if sig == 0
            || view.nominated.get(&nid).is_some_and(|v| !v.is_empty())
            || !local.iter().any(|l| *l)
        {
            return prof.run_filters_with_nominated_in(active, state, pod_id, pod, nid, node, view);
        }
        let e = Self::entry_of(&mut self.entries, nid, sig, node.generation);
        let first_fail = match &e.filter {
            FilterSlot::Pass => {
                self.hits += 1;
                None
            }
            FilterSlot::Fail(b) => {
                self.hits += 1;
                Some((b.0, b.1.clone()))
            }
            FilterSlot::Unknown => {
                self.misses += 1;
                let mut ff = None;
                for (k, &i) in active.iter().enumerate() {
                    if !local[k] {
                        continue;
                    }
                    let s = prof.filter_one(i, state, pod, node, view);
                    if !s.is_success() {
                        ff = Some((k, s));
                        break;
                    }
                }
                e.filter = match &ff {
                    None => FilterSlot::Pass,
                    Some((k, s)) => FilterSlot::Fail(Box::new((*k, s.clone()))),
                };
                ff
            }
        };
        if first_fail.is_none() && !has_non_local {
            return Status::success();
        }
        // Non-local plugins that come before the first local failure run
        // as usual; the first failure in plugin order wins.
        let limit = first_fail.as_ref().map_or(active.len(), |(k, _)| *k);
        for k in 0..limit {
            if local[k] {
                continue;
            }
            let s = prof.filter_one(active[k], state, pod, node, view);
            if !s.is_success() {
                return s;
            }
        }
        match first_fail {
            Some((_, s)) => s,
            None => Status::success(),
        }
    }

    /// The raw score of node-local Score plugin at score position `pos`
    /// for `pod` on `node`, computed once per (signature, generation).
    #[inline]
    pub fn score(
        &mut self,
        pos: usize,
        compute: impl FnOnce() -> Result<i64, Status>,
        pod: &Pod,
        nid: NodeId,
        node: &Node,
    ) -> Result<i64, Status> {
        let sig = pod.sched_signature;
        if sig == 0 || pos >= CACHED_SCORES {
            return compute();
        }
        let e = Self::entry_of(&mut self.entries, nid, sig, node.generation);
        let bit = 1u8 << pos;
        if e.valid & bit != 0 {
            self.hits += 1;
            return Ok(e.raws[pos]);
        }
        self.misses += 1;
        let v = compute()?;
        e.raws[pos] = v;
        e.valid |= bit;
        Ok(v)
    }

    /// The raw scores of one node for the Score plugins `plugins` ((score
    /// position, node-local) each), appended to `out` in that order: one
    /// entry lookup for all of them; node-local ones come from the entry
    /// or `compute(k)` (then kept), the others from `compute(k)`. Stops at
    /// the first error.
    #[inline]
    pub fn node_scores(
        &mut self,
        plugins: &[(usize, bool)],
        mut compute: impl FnMut(usize) -> Result<i64, Status>,
        pod: &Pod,
        nid: NodeId,
        node: &Node,
        out: &mut Vec<i64>,
    ) -> Result<(), Status> {
        let sig = pod.sched_signature;
        if sig == 0 {
            for k in 0..plugins.len() {
                out.push(compute(k)?);
            }
            return Ok(());
        }
        let e = Self::entry_of(&mut self.entries, nid, sig, node.generation);
        for (k, &(pos, local)) in plugins.iter().enumerate() {
            if !local || pos >= CACHED_SCORES {
                out.push(compute(k)?);
                continue;
            }
            let bit = 1u8 << pos;
            if e.valid & bit != 0 {
                self.hits += 1;
                out.push(e.raws[pos]);
            } else {
                self.misses += 1;
                let v = compute(k)?;
                e.raws[pos] = v;
                e.valid |= bit;
                out.push(v);
            }
        }
        Ok(())
    }

    /// The entry of node `n` for (`sig`, `gen`), emptied if it held
    /// another signature or generation.
    #[inline]
    fn entry_of(entries: &mut Vec<Entry>, n: NodeId, sig: u64, gen: u64) -> &mut Entry {
        let i = n.0 as usize;
        if entries.len() <= i {
            entries.resize_with(i + 1, Entry::default);
        }
        let e = &mut entries[i];
        if e.sig != sig || e.gen != gen {
            e.sig = sig;
            e.gen = gen;
            e.filter = FilterSlot::Unknown;
            e.valid = 0;
        }
        e
    }
}
