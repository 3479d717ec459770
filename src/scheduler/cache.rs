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

#[derive(Clone, Debug)]
struct FilterEntry {
    sig: u64,
    gen: u64,
    /// Position in the active list and status of the first failing
    /// node-local Filter plugin, if any.
    first_fail: Option<(usize, Status)>,
}

#[derive(Clone, Debug)]
struct ScoreEntry {
    sig: u64,
    gen: u64,
    /// (plugin index, raw score)
    raws: Vec<(usize, i64)>,
}

/// The cache of one profile, indexed by node id.
#[derive(Default)]
pub struct NodeCache {
    filters: Vec<Option<FilterEntry>>,
    scores: Vec<Option<ScoreEntry>>,
    pub hits: u64,
    pub misses: u64,
}

impl NodeCache {
    fn slot<T>(v: &mut Vec<Option<T>>, n: NodeId) -> &mut Option<T> {
        let i = n.0 as usize;
        if v.len() <= i {
            v.resize_with(i + 1, || None);
        }
        &mut v[i]
    }

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
        if sig == 0
            || view.nominated.get(&nid).is_some_and(|v| !v.is_empty())
            || !local.iter().any(|l| *l)
        {
            return prof.run_filters_with_nominated_in(active, state, pod_id, pod, nid, node, view);
        }
        let slot = Self::slot(&mut self.filters, nid);
        let first_fail = match slot {
            Some(e) if e.sig == sig && e.gen == node.generation => {
                self.hits += 1;
                e.first_fail.clone()
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
                *slot = Some(FilterEntry {
                    sig,
                    gen: node.generation,
                    first_fail: ff.clone(),
                });
                ff
            }
        };
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

    /// A node-local plugin's raw score, computed once per (signature,
    /// generation).
    pub fn score(
        &mut self,
        plugin: usize,
        compute: impl FnOnce() -> Result<i64, Status>,
        pod: &Pod,
        nid: NodeId,
        node: &Node,
    ) -> Result<i64, Status> {
        let sig = pod.sched_signature;
        if sig == 0 {
            return compute();
        }
        let slot = Self::slot(&mut self.scores, nid);
        let entry = match slot {
            Some(e) if e.sig == sig && e.gen == node.generation => e,
            _ => {
                *slot = Some(ScoreEntry {
                    sig,
                    gen: node.generation,
                    raws: Vec::new(),
                });
                slot.as_mut().expect("just set")
            }
        };
        if let Some((_, v)) = entry.raws.iter().find(|(p, _)| *p == plugin) {
            self.hits += 1;
            return Ok(*v);
        }
        self.misses += 1;
        let v = compute()?;
        entry.raws.push((plugin, v));
        Ok(v)
    }
}
