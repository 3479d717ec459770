//! Reuse of node-local plugin results across identical pods.
//!
//! Many pods share a scheduling signature (replicas of one template). For
//! plugins that declare [`Plugin::node_local`](super::framework::Plugin::node_local),
//! a Filter verdict or raw Score depends only on the signature and the node,
//! so it stays valid while the node's `generation` is unchanged. The cache
//! stores, per node, the first failing node-local Filter (or none), the
//! raw node-local scores and the weighted sum of those without a
//! NormalizeScore, keyed by (signature, generation). Results are
//! identical with and without the cache (a property test checks it); only
//! the work is saved.

use super::framework::{
    ClusterView, CycleState, NodeScore, Status, MAX_NODE_SCORE, MIN_NODE_SCORE,
};
use super::profile::Profile;
use crate::model::{Node, NodeId, Pod, PodId};

/// Raw scores of this many Score plugins (by position in the profile's
/// score list) are kept per node; later positions are not cached.
pub const CACHED_SCORES: usize = 8;

// `Entry::filter`: 0 while the node-local Filter plugins' verdict is
// unknown, then one of:
/// Every node-local Filter plugin passed.
const PASS: u8 = 1;
/// A node-local Filter plugin failed (`Cold::fail` says which and why).
const FAIL: u8 = 2;

/// What a hit reads for one node, valid for one (signature, generation):
/// 32 bytes, so the entries of a large cluster stay in the CPU cache (the
/// rest is in [`Cold`]).
#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    /// 0: empty (signature 0 is never cached).
    sig: u64,
    gen: u64,
    /// `sum_mask != 0`: Σ weight × raw over the score positions in
    /// `sum_mask & 0xff` (all valid and in range); bit 8 marks it set.
    sum: i64,
    sum_mask: u16,
    /// Bit `k` set: `Cold::raws[k]` holds the raw score of score position `k`.
    valid: u8,
    /// 0 (unknown), PASS or FAIL.
    filter: u8,
}

/// The rest of a node's cached results, valid while its [`Entry`] is.
#[derive(Clone, Debug, Default)]
struct Cold {
    raws: [i64; CACHED_SCORES],
    /// Position in the active list and status of the first failing
    /// node-local Filter plugin (when the entry's filter is FAIL).
    fail: Option<Box<(usize, Status)>>,
}

/// The cache of one profile, indexed by node id.
#[derive(Default)]
pub struct NodeCache {
    entries: Vec<Entry>,
    cold: Vec<Cold>,
    pub hits: u64,
    pub misses: u64,
    /// Buffers [`Profile::run_score_totals`] reuses across cycles: one
    /// score list per Score plugin with a NormalizeScore.
    pub(crate) norm_bufs: Vec<Vec<NodeScore>>,
}

/// How one Score plugin's raw score reaches the totals in
/// [`NodeCache::score_totals`].
#[derive(Clone, Copy, Debug)]
pub struct ScoreSlot {
    /// Position in the profile's score list (the cache slot).
    pub pos: usize,
    /// Index in the caller's active list (passed to `compute`).
    pub k: usize,
    pub weight: i64,
    /// Node-local and cacheable (`pos < CACHED_SCORES`).
    pub cached: bool,
    /// `Some(b)`: the plugin has a NormalizeScore; its raw scores go to
    /// `norm_bufs[b]` for the caller to normalise. `None`: the raw score
    /// is range-checked and added, times the weight, straight away.
    pub norm: Option<usize>,
}

/// Why [`NodeCache::score_totals`] stopped (the caller then reruns the
/// plugin-major pass, which reports upstream's first error).
#[derive(Debug)]
pub struct ScoreFailed;

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
        let i = self.slot(nid, sig, node.generation);
        let first_fail = match self.entries[i].filter {
            PASS => {
                self.hits += 1;
                None
            }
            FAIL => {
                self.hits += 1;
                self.cold[i].fail.as_ref().map(|b| (b.0, b.1.clone()))
            }
            _ => {
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
                match &ff {
                    None => self.entries[i].filter = PASS,
                    Some((k, s)) => {
                        self.entries[i].filter = FAIL;
                        self.cold[i].fail = Some(Box::new((*k, s.clone())));
                    }
                }
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
        let i = self.slot(nid, sig, node.generation);
        let bit = 1u8 << pos;
        if self.entries[i].valid & bit != 0 {
            self.hits += 1;
            return Ok(self.cold[i].raws[pos]);
        }
        self.misses += 1;
        let v = compute()?;
        self.cold[i].raws[pos] = v;
        self.entries[i].valid |= bit;
        Ok(v)
    }

    /// Whether node `nid` has a cached verdict that every node-local
    /// Filter plugin passes for `sig` at generation `gen` (a hit is
    /// counted). The caller checks the conditions under which the cached
    /// verdict is the whole answer: every active Filter plugin node-local,
    /// no pods nominated to the node, `sig != 0`.
    #[inline]
    pub fn cached_pass(&mut self, nid: NodeId, sig: u64, gen: u64) -> bool {
        match self.entries.get(nid.0 as usize) {
            Some(e) if e.sig == sig && e.gen == gen && e.filter == PASS => {
                self.hits += 1;
                true
            }
            _ => false,
        }
    }

    /// The scoring pass of [`Profile::run_score_totals`], node by node with
    /// one entry lookup per node. Cached plugins without NormalizeScore
    /// are summed (weight × raw, each range-checked) once per node entry
    /// and the sum is kept; the other cached plugins' raw scores come from
    /// the entry (or `compute(k, node)`, then kept); uncached plugins are
    /// computed. Plugins without NormalizeScore are range-checked and
    /// added to `totals[j]` times their weight, after `base`; the others
    /// are appended to `norm_bufs[b]` (cleared first). Stops at the first
    /// failing Score or out-of-range score. Integer sums, so the totals do
    /// not depend on the order of addition.
    #[allow(clippy::too_many_arguments)]
    pub fn score_totals(
        &mut self,
        slots: &[ScoreSlot],
        base: i64,
        sig: u64,
        nodes: &[NodeId],
        view: &ClusterView,
        mut compute: impl FnMut(usize, &Node) -> Result<i64, Status>,
        totals: &mut [i64],
    ) -> Result<(), ScoreFailed> {
        let nbufs = slots.iter().filter(|s| s.norm.is_some()).count();
        if self.norm_bufs.len() < nbufs {
            self.norm_bufs.resize_with(nbufs, Vec::new);
        }
        for b in &mut self.norm_bufs {
            b.clear();
            b.reserve(nodes.len());
        }
        if let Some(max) = nodes.iter().map(|n| n.0 as usize).max() {
            if self.entries.len() <= max {
                self.entries.resize(max + 1, Entry::default());
                self.cold.resize_with(max + 1, Cold::default);
            }
        }
        // The cached plugins without NormalizeScore, summed per entry.
        let summed: Vec<ScoreSlot> = slots
            .iter()
            .filter(|s| s.cached && s.norm.is_none())
            .copied()
            .collect();
        // Cached plugins with a NormalizeScore: (position, buffer, index).
        let norm_cached: Vec<(usize, usize, usize)> = slots
            .iter()
            .filter_map(|s| match s.norm {
                Some(b) if s.cached => Some((s.pos, b, s.k)),
                _ => None,
            })
            .collect();
        // Uncached plugins.
        let computed: Vec<ScoreSlot> = slots.iter().filter(|s| !s.cached).copied().collect();
        let sum_mask: u16 = summed.iter().fold(0x100, |m, s| m | (1 << s.pos));
        let mut hits = 0u64;
        let mut misses = 0u64;
        for (&nid, total) in nodes.iter().zip(totals.iter_mut()) {
            let i = nid.0 as usize;
            let node = view.node(nid);
            let e = Self::entry_at(&mut self.entries, nid, sig, node.generation);
            let mut t = base;
            if !summed.is_empty() {
                if e.sum_mask == sum_mask {
                    hits += 1;
                } else {
                    misses += 1;
                    let raws = &mut self.cold[i].raws;
                    let mut sum = 0i64;
                    for s in &summed {
                        let bit = 1u8 << s.pos;
                        let v = if e.valid & bit != 0 {
                            raws[s.pos]
                        } else {
                            let v = compute(s.k, node).map_err(|_| ScoreFailed)?;
                            raws[s.pos] = v;
                            e.valid |= bit;
                            v
                        };
                        if !(MIN_NODE_SCORE..=MAX_NODE_SCORE).contains(&v) {
                            return Err(ScoreFailed);
                        }
                        sum += v * s.weight;
                    }
                    e.sum = sum;
                    e.sum_mask = sum_mask;
                }
                t += e.sum;
            }
            for &(pos, b, k) in &norm_cached {
                let bit = 1u8 << pos;
                let v = if e.valid & bit != 0 {
                    hits += 1;
                    self.cold[i].raws[pos]
                } else {
                    misses += 1;
                    let v = compute(k, node).map_err(|_| ScoreFailed)?;
                    self.cold[i].raws[pos] = v;
                    e.valid |= bit;
                    v
                };
                self.norm_bufs[b].push(NodeScore {
                    node: nid,
                    score: v,
                });
            }
            for s in &computed {
                let v = compute(s.k, node).map_err(|_| ScoreFailed)?;
                match s.norm {
                    Some(b) => self.norm_bufs[b].push(NodeScore {
                        node: nid,
                        score: v,
                    }),
                    None => {
                        if !(MIN_NODE_SCORE..=MAX_NODE_SCORE).contains(&v) {
                            return Err(ScoreFailed);
                        }
                        t += v * s.weight;
                    }
                }
            }
            *total += t;
        }
        self.hits += hits;
        self.misses += misses;
        Ok(())
    }

    /// [`NodeCache::slot`] for a node the entries already cover.
    #[inline(always)]
    fn entry_at(entries: &mut [Entry], n: NodeId, sig: u64, gen: u64) -> &mut Entry {
        let e = &mut entries[n.0 as usize];
        if e.sig != sig || e.gen != gen {
            *e = Entry {
                sig,
                gen,
                ..Entry::default()
            };
        }
        e
    }

    /// The index of node `n`'s entry for (`sig`, `gen`), emptied if it
    /// held another signature or generation.
    #[inline]
    fn slot(&mut self, n: NodeId, sig: u64, gen: u64) -> usize {
        let i = n.0 as usize;
        if self.entries.len() <= i {
            self.entries.resize(i + 1, Entry::default());
            self.cold.resize_with(i + 1, Cold::default);
        }
        Self::entry_at(&mut self.entries, n, sig, gen);
        i
    }
}
