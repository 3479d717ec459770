//! InterPodAffinity (PreFilter with AddPod/RemovePod, Filter, PreScore,
//! Score, NormalizeScore), a port of kube-scheduler v1.35
//! `pkg/scheduler/framework/plugins/interpodaffinity` (`filtering.go`,
//! `scoring.go`, `plugin.go`) and of `framework.AffinityTerm.Matches`
//! (`types.go`).
//!
//! - PreFilter counts, per topology pair (key, value), the existing pods whose
//!   required anti-affinity terms select the incoming pod (only the pods in
//!   `node.pods_with_required_anti_affinity` are visited, as upstream's
//!   `HavePodsWithRequiredAntiAffinityList`), and the existing pods matching
//!   the incoming pod's required affinity (all terms) and anti-affinity
//!   (each term). It returns Skip when no existing pod's anti-affinity
//!   applies and the pod has no required terms. AddPod/RemovePod update the
//!   three counts (an entry is deleted when it reaches zero, as upstream).
//! - Filter rejects with `node(s) didn't match pod affinity rules`
//!   (UnschedulableAndUnresolvable), `node(s) didn't match pod anti-affinity
//!   rules` (Unschedulable) or `node(s) didn't satisfy existing pods
//!   anti-affinity rules` (Unschedulable), in that order. A pod whose
//!   affinity no existing pod satisfies may still go to a node with all the
//!   topology keys when it matches all its own terms and no pod anywhere
//!   matched them (the "first pod of a group" rule).
//! - PreScore sums, per topology pair, the preferred (anti-)affinity weights
//!   of the incoming pod against existing pods and the existing pods'
//!   preferred terms and required affinity terms (weighted by
//!   `hardPodAffinityWeight`) against the incoming pod. With
//!   `ignorePreferredTermsOfExistingPods` and no preferred terms on the
//!   incoming pod it returns Skip; it also returns Skip when nothing
//!   matched. Score adds the pairs of the node's labels; NormalizeScore is
//!   upstream's min–max scaling, done in `f64` exactly as upstream
//!   (`float64(MaxNodeScore) * (float64(s-min) / float64(max-min))`, then
//!   truncation).
//!
//! Namespaces: the incoming pod's terms have their `namespaceSelector`
//! resolved against `view.namespaces` (upstream
//! `mergeAffinityTermNamespacesIfNotEmpty`; an empty selector `{}` keeps
//! matching every namespace). Existing pods' terms test their namespace
//! selector against the incoming pod's namespace labels (empty if the
//! namespace is unknown, as upstream's snapshot).
//!
//! Implementation notes (no behavioural difference): topology keys and
//! values are interned to `u32` ids by a per-plugin interner (a pure
//! string→id memo kept across cycles), so counts are hash maps keyed by
//! integers and Filter/Score allocate nothing. PreFilter first streams over
//! the nodes and pods recording matches, then interns and counts them (the
//! scan is memory-bound; this keeps the hash tables in cache). Existing
//! pods' terms are read from the pods directly rather than from a parsed
//! `PodInfo`, so PreFilter and PreScore cost O(pods in the cluster) per
//! cycle, as upstream's.
//!
//! Deviations: selector parse errors cannot occur (kubesim validates
//! selectors at load), so the upstream "parsing pod" PreFilter status and
//! the PreScore error path do not exist. Upstream parallelises PreFilter and
//! PreScore; the results are sums, so the order does not matter.
//!
//! Upstream test rows not ported: the four invalid-label-syntax rows (two
//! in `TestRequiredAffinitySingleNode`, two in `TestPreferredAffinity`: no
//! unparsed selectors in kubesim), `TestPreFilterDisabled` (kubesim's
//! framework never runs Filter without PreFilter; a small error test stands
//! in) and `TestPreFilterStateClone` (the state is a derived `Clone`).

use std::cell::RefCell;
use std::collections::BTreeSet;
// A HashMap with a fixed (non-random) hasher, used only for lookups and
// order-independent sums: nothing iterates it where order could matter.
#[allow(clippy::disallowed_types)]
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

use crate::model::affinity::PodAffinityTerm;
use crate::model::{Labels, Node, NodeId, Pod, PodId, Selector};
use crate::scheduler::config::InterPodAffinityArgs;
use crate::scheduler::framework::{
    ClusterView, CycleState, NodeScore, Plugin, Point, PreFilterOutcome, Status, MAX_NODE_SCORE,
};
use crate::scheduler::incremental::StateCache;

pub const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";
pub const ERR_REASON_AFFINITY_RULES_NOT_MATCH: &str = "node(s) didn't match pod affinity rules";
pub const ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH: &str =
    "node(s) didn't match pod anti-affinity rules";

const PRE_FILTER_STATE_KEY: &str = "PreFilterInterPodAffinity";
const PRE_SCORE_STATE_KEY: &str = "PreScoreInterPodAffinity";

// ---------------------------------------------------------------------------
// Shared helpers (also used by PodTopologySpread).

/// The Fx hash (rustc's) with a final mix: fast and deterministic. Only used for lookups and
/// order-independent sums, never for iteration order that matters.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    /// The Fx state only mixes low bits upwards, so keys sharing a prefix
    /// (`node-123`, `node-124`, …) would share their low bits: finish with
    /// murmur3's `fmix64` so every bit of the state reaches the bucket index.
    #[inline]
    fn finish(&self) -> u64 {
        let mut h = self.hash;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// A hash map with the deterministic Fx hasher (see the `HashMap` import).
#[allow(clippy::disallowed_types)]
pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Interns strings (topology keys and values) to dense `u32` ids. A pure
/// memo: ids only need to be consistent within a scheduling cycle.
#[derive(Default)]
pub(crate) struct Interner {
    ids: FxMap<Rc<str>, u32>,
    names: Vec<Rc<str>>,
}

/// Beyond this many strings the interner is emptied at the start of a cycle.
const INTERNER_LIMIT: usize = 1 << 22;

impl Interner {
    pub(crate) fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        let rc: Rc<str> = Rc::from(s);
        self.names.push(Rc::clone(&rc));
        self.ids.insert(rc, i);
        i
    }
    #[inline]
    pub(crate) fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }
    /// The string of an id (for tests).
    #[cfg(test)]
    pub(crate) fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map(|s| &**s).unwrap_or("")
    }
    /// Called at the start of a cycle only.
    /// Returns whether it emptied the interner.
    pub(crate) fn reset_if_huge(&mut self) -> bool {
        if self.names.len() > INTERNER_LIMIT {
            self.ids.clear();
            self.names.clear();
            return true;
        }
        false
    }
}

/// A node by id, `None` if out of range (never panics).
#[inline]
pub(crate) fn node_at<'a>(view: &ClusterView<'a>, id: NodeId) -> Option<&'a Node> {
    view.nodes.get(id.0 as usize)
}

/// A pod by id, `None` if out of range (never panics).
#[inline]
pub(crate) fn pod_at<'a>(view: &ClusterView<'a>, id: PodId) -> Option<&'a Pod> {
    view.pods.get(id.0 as usize)
}

pub(crate) static EMPTY_LABELS: Labels = Labels::new();

// ---------------------------------------------------------------------------
// Terms.

#[inline]
fn pair(key: u32, value: u32) -> u64 {
    (u64::from(key) << 32) | u64::from(value)
}

/// The namespaces an incoming pod's term applies to, after upstream's
/// `mergeAffinityTermNamespacesIfNotEmpty`.
#[derive(Clone, Debug)]
enum Namespaces {
    /// `namespaceSelector: {}`: every namespace.
    All,
    /// Sorted, deduplicated.
    Names(Vec<String>),
}

/// One of the incoming pod's terms, resolved for the cycle.
#[derive(Clone, Debug)]
struct IncomingTerm {
    key_id: u32,
    topology_key: Rc<str>,
    namespaces: Namespaces,
    /// `None` selects nothing.
    selector: Option<Selector>,
    weight: i32,
}

impl IncomingTerm {
    fn resolve(
        term: &PodAffinityTerm,
        weight: i32,
        pod: &Pod,
        view: &ClusterView,
        interner: &mut Interner,
    ) -> IncomingTerm {
        let namespaces = match &term.namespace_selector {
            Some(sel) if sel.is_empty() => Namespaces::All,
            sel => {
                let mut names: Vec<String> =
                    if term.namespaces.is_empty() && term.namespace_selector.is_none() {
                        vec![pod.meta.namespace.clone()]
                    } else {
                        term.namespaces.clone()
                    };
                if let Some(sel) = sel {
                    for (name, labels) in view.namespaces.iter() {
                        if sel.matches(labels) {
                            names.push(name.clone());
                        }
                    }
                }
                names.sort();
                names.dedup();
                Namespaces::Names(names)
            }
        };
        IncomingTerm {
            key_id: interner.id(&term.topology_key),
            topology_key: Rc::from(term.topology_key.as_str()),
            namespaces,
            selector: term.label_selector.clone(),
            weight,
        }
    }

    /// Upstream `AffinityTerm.Matches(pod, nil)` for a merged term.
    #[inline]
    fn matches(&self, pod: &Pod) -> bool {
        let ns_ok = match &self.namespaces {
            Namespaces::All => true,
            Namespaces::Names(n) => {
                if n.len() <= 4 {
                    n.contains(&pod.meta.namespace)
                } else {
                    n.binary_search(&pod.meta.namespace).is_ok()
                }
            }
        };
        ns_ok
            && self
                .selector
                .as_ref()
                .is_some_and(|s| s.matches(&pod.meta.labels))
    }
}

/// Upstream `AffinityTerm.Matches(pod, nsLabels)` for a term of an existing
/// pod in `owner_ns`, tested against `pod` whose namespace has `ns_labels`.
#[inline]
fn existing_term_matches(
    term: &PodAffinityTerm,
    owner_ns: &str,
    pod: &Pod,
    ns_labels: &Labels,
) -> bool {
    let ns_ok = if term.namespaces.is_empty() && term.namespace_selector.is_none() {
        pod.meta.namespace == owner_ns
    } else {
        term.namespaces.contains(&pod.meta.namespace)
            || term
                .namespace_selector
                .as_ref()
                .is_some_and(|s| s.matches(ns_labels))
    };
    ns_ok
        && term
            .label_selector
            .as_ref()
            .is_some_and(|s| s.matches(&pod.meta.labels))
}

/// Upstream `podMatchesAllAffinityTerms`.
fn matches_all(terms: &[IncomingTerm], pod: &Pod) -> bool {
    !terms.is_empty() && terms.iter().all(|t| t.matches(pod))
}

fn required_terms(a: Option<&crate::model::affinity::PodAffinity>) -> &[PodAffinityTerm] {
    a.map(|a| a.required.as_slice()).unwrap_or(&[])
}

// ---------------------------------------------------------------------------
// Counts.

/// Upstream `topologyToMatchedTermCount`: (key, value) → count.
#[derive(Clone, Debug, Default)]
struct TopoCounts {
    counts: FxMap<u64, i64>,
    /// Every topology key that ever got an entry (id, key).
    keys: Vec<(u32, Rc<str>)>,
}

impl TopoCounts {
    #[inline]
    fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// `m[pair] += delta`, deleting the entry when it reaches zero.
    fn add(&mut self, key_id: u32, key: &Rc<str>, value_id: u32, delta: i64) {
        let p = pair(key_id, value_id);
        let e = self.counts.entry(p).or_insert(0);
        *e += delta;
        if *e == 0 {
            self.counts.remove(&p);
        }
        if !self.keys.iter().any(|(k, _)| *k == key_id) {
            self.keys.push((key_id, Rc::clone(key)));
        }
    }

    /// Upstream `update(node, key, delta)`: only if the node has the key.
    fn update(
        &mut self,
        interner: &mut Interner,
        node: &Node,
        key_id: u32,
        key: &Rc<str>,
        delta: i64,
    ) {
        if let Some(v) = node.meta.labels.get(&**key) {
            let vid = interner.id(v);
            self.add(key_id, key, vid, delta);
        }
    }

    /// The count for the node's value of `key`, `None` if the node lacks it.
    #[inline]
    fn on_node(&self, interner: &Interner, node: &Node, key_id: u32, key: &str) -> Option<i64> {
        let v = node.meta.labels.get(key)?;
        Some(
            interner
                .get(v)
                .and_then(|vid| self.counts.get(&pair(key_id, vid)).copied())
                .unwrap_or(0),
        )
    }
}

/// A match found by PreFilter's first pass.
enum Hit<'a> {
    /// An existing pod's anti-affinity term: (topology key, node's value).
    Existing(&'a str, &'a str),
    /// Incoming affinity term `i`: (i, node's value, matching pods).
    Affinity(usize, &'a str, i64),
    /// Incoming anti-affinity term `i`: (i, node's value, matching pods).
    Anti(usize, &'a str, i64),
}

#[derive(Clone, Debug)]
struct PreFilterState {
    /// Existing pods' required anti-affinity terms matching the incoming pod.
    existing_anti: TopoCounts,
    /// Existing pods matching all the incoming pod's required affinity terms.
    affinity: TopoCounts,
    /// Existing pods matching each of the incoming pod's required anti-affinity terms.
    anti: TopoCounts,
    affinity_terms: Rc<Vec<IncomingTerm>>,
    anti_terms: Rc<Vec<IncomingTerm>>,
    /// A copy of the incoming pod's namespace labels.
    ns_labels: Rc<Labels>,
}

/// Upstream's PreScore `topologyScore`, with what it takes to add or
/// remove one existing pod's contribution.
#[derive(Clone, Debug)]
struct PreScoreState {
    /// (key, value) → (score, number of contributions).
    scores: FxMap<u64, (i64, u32)>,
    /// The topology keys with contributions, and how many each has.
    keys: Vec<(u32, Rc<str>)>,
    key_refs: Vec<u32>,
    aff_terms: Rc<Vec<IncomingTerm>>,
    anti_terms: Rc<Vec<IncomingTerm>>,
    ns_labels: Rc<Labels>,
    hard: i32,
}

impl PreScoreState {
    /// Adds (`sign` 1) or removes (-1) one contribution `w` to the pair.
    fn add(&mut self, interner: &mut Interner, key: &str, value: &str, w: i64, sign: i64) {
        let kid = interner.id(key);
        let vid = interner.id(value);
        let p = pair(kid, vid);
        let ki = self.keys.iter().position(|(k, _)| *k == kid);
        if sign > 0 {
            let e = self.scores.entry(p).or_insert((0, 0));
            e.0 += w;
            e.1 += 1;
            match ki {
                Some(i) => self.key_refs[i] += 1,
                None => {
                    self.keys.push((kid, Rc::from(key)));
                    self.key_refs.push(1);
                }
            }
        } else {
            if let Some(e) = self.scores.get_mut(&p) {
                e.0 -= w;
                e.1 -= 1;
                if e.1 == 0 {
                    self.scores.remove(&p);
                }
            }
            if let Some(i) = ki {
                self.key_refs[i] -= 1;
                if self.key_refs[i] == 0 {
                    self.keys.remove(i);
                    self.key_refs.remove(i);
                }
            }
        }
    }

    /// Upstream `processExistingPod`: the contributions of `ep` on `node`
    /// for the incoming `pod`, added or removed.
    fn process_pod(
        &mut self,
        interner: &mut Interner,
        pod: &Pod,
        ep: &Pod,
        node: &Node,
        sign: i64,
    ) {
        let labels = &node.meta.labels;
        if labels.is_empty() {
            return;
        }
        let aff_terms = Rc::clone(&self.aff_terms);
        let anti_terms = Rc::clone(&self.anti_terms);
        let ns_labels = Rc::clone(&self.ns_labels);
        for t in aff_terms.iter() {
            if t.matches(ep) {
                if let Some(v) = labels.get(&*t.topology_key) {
                    self.add(interner, &t.topology_key, v, i64::from(t.weight), sign);
                }
            }
        }
        for t in anti_terms.iter() {
            if t.matches(ep) {
                if let Some(v) = labels.get(&*t.topology_key) {
                    let w = i64::from(t.weight.wrapping_mul(-1));
                    self.add(interner, &t.topology_key, v, w, sign);
                }
            }
        }
        if let Some(a) = &ep.spec.pod_affinity {
            if self.hard > 0 {
                for t in &a.required {
                    if existing_term_matches(t, &ep.meta.namespace, pod, &ns_labels) {
                        if let Some(v) = labels.get(&t.topology_key) {
                            self.add(interner, &t.topology_key, v, i64::from(self.hard), sign);
                        }
                    }
                }
            }
            for w in &a.preferred {
                if existing_term_matches(&w.term, &ep.meta.namespace, pod, &ns_labels) {
                    if let Some(v) = labels.get(&w.term.topology_key) {
                        self.add(interner, &w.term.topology_key, v, i64::from(w.weight), sign);
                    }
                }
            }
        }
        if let Some(a) = &ep.spec.pod_anti_affinity {
            for w in &a.preferred {
                if existing_term_matches(&w.term, &ep.meta.namespace, pod, &ns_labels) {
                    if let Some(v) = labels.get(&w.term.topology_key) {
                        let wt = i64::from(w.weight.wrapping_mul(-1));
                        self.add(interner, &w.term.topology_key, v, wt, sign);
                    }
                }
            }
        }
    }
}

/// The InterPodAffinity plugin.
pub struct InterPodAffinity {
    args: InterPodAffinityArgs,
    interner: RefCell<Interner>,
    /// PreFilter and PreScore states of recent scheduling signatures, kept
    /// up to date from the World's pod change log (see
    /// `scheduler::incremental`).
    pre_filter_cache: RefCell<StateCache<PreFilterState>>,
    pre_score_cache: RefCell<StateCache<PreScoreState>>,
}

impl InterPodAffinity {
    pub fn new(args: InterPodAffinityArgs) -> InterPodAffinity {
        InterPodAffinity {
            args,
            interner: RefCell::new(Interner::default()),
            pre_filter_cache: RefCell::new(StateCache::default()),
            pre_score_cache: RefCell::new(StateCache::default()),
        }
    }

    /// Empties the interner when it has grown huge; the cached states hold
    /// its ids, so they go too.
    fn reset_interner_if_huge(&self, interner: &mut Interner) {
        if interner.reset_if_huge() {
            self.pre_filter_cache.borrow_mut().clear();
            self.pre_score_cache.borrow_mut().clear();
        }
    }

    fn resolve_required(
        terms: &[PodAffinityTerm],
        pod: &Pod,
        view: &ClusterView,
        interner: &mut Interner,
    ) -> Vec<IncomingTerm> {
        terms
            .iter()
            .map(|t| IncomingTerm::resolve(t, 0, pod, view, interner))
            .collect()
    }

    /// Upstream's PreFilter counts, from every pod in the cluster.
    fn compute_pre_filter(
        pod: &Pod,
        view: &ClusterView,
        interner: &mut Interner,
    ) -> PreFilterState {
        let affinity_terms = Self::resolve_required(
            required_terms(pod.spec.pod_affinity.as_ref()),
            pod,
            view,
            interner,
        );
        let anti_terms = Self::resolve_required(
            required_terms(pod.spec.pod_anti_affinity.as_ref()),
            pod,
            view,
            interner,
        );
        let ns_labels: &Labels = view
            .namespaces
            .get(&pod.meta.namespace)
            .unwrap_or(&EMPTY_LABELS);

        // Two passes: the first streams over nodes and pods and only records
        // the matches (topology key, node's value, count); the second interns
        // and counts them, with the hash tables hot in the cache.
        let mut hits: Vec<Hit> = Vec::new();

        // Existing pods' required anti-affinity that the incoming pod
        // violates (only pods with required anti-affinity terms).
        for &nid in view.nodes_with_required_anti_affinity {
            let Some(node) = node_at(view, nid) else {
                continue;
            };
            for &pid in &node.pods_with_required_anti_affinity {
                let Some(ep) = pod_at(view, pid) else {
                    continue;
                };
                for t in required_terms(ep.spec.pod_anti_affinity.as_ref()) {
                    if !existing_term_matches(t, &ep.meta.namespace, pod, ns_labels) {
                        continue;
                    }
                    if let Some(v) = node.meta.labels.get(&t.topology_key) {
                        hits.push(Hit::Existing(&t.topology_key, v));
                    }
                }
            }
        }

        // Existing pods matching the incoming pod's required terms.
        if !affinity_terms.is_empty() || !anti_terms.is_empty() {
            let mut aff_vals: Vec<Option<&str>> = Vec::with_capacity(affinity_terms.len());
            let mut anti_vals: Vec<Option<&str>> = Vec::with_capacity(anti_terms.len());
            let mut anti_hits: Vec<i64> = vec![0; anti_terms.len()];
            for &nid in view.node_order {
                let Some(node) = node_at(view, nid) else {
                    continue;
                };
                if node.pods.is_empty() {
                    continue;
                }
                aff_vals.clear();
                aff_vals.extend(
                    affinity_terms
                        .iter()
                        .map(|t| node.meta.labels.get(&*t.topology_key).map(String::as_str)),
                );
                anti_vals.clear();
                anti_vals.extend(
                    anti_terms
                        .iter()
                        .map(|t| node.meta.labels.get(&*t.topology_key).map(String::as_str)),
                );
                let aff_any = aff_vals.iter().any(Option::is_some);
                let anti_any = anti_vals.iter().any(Option::is_some);
                if !aff_any && !anti_any {
                    continue;
                }
                let mut aff_hits = 0i64;
                anti_hits.iter_mut().for_each(|h| *h = 0);
                for &pid in &node.pods {
                    let Some(ep) = pod_at(view, pid) else {
                        continue;
                    };
                    if aff_any && matches_all(&affinity_terms, ep) {
                        aff_hits += 1;
                    }
                    if anti_any {
                        for (i, t) in anti_terms.iter().enumerate() {
                            if anti_vals[i].is_some() && t.matches(ep) {
                                anti_hits[i] += 1;
                            }
                        }
                    }
                }
                if aff_hits > 0 {
                    for (i, v) in aff_vals.iter().enumerate() {
                        if let Some(v) = v {
                            hits.push(Hit::Affinity(i, v, aff_hits));
                        }
                    }
                }
                for (i, v) in anti_vals.iter().enumerate() {
                    if let (Some(v), true) = (v, anti_hits[i] > 0) {
                        hits.push(Hit::Anti(i, v, anti_hits[i]));
                    }
                }
            }
        }

        let mut existing_anti = TopoCounts::default();
        let mut affinity = TopoCounts::default();
        let mut anti = TopoCounts::default();
        let mut key_memo: Option<(u32, Rc<str>)> = None;
        // Consecutive hits of a node often share the value (the same `&str`
        // of the node's labels): remember the last one's id.
        let mut last_value: Option<(*const u8, usize, u32)> = None;
        let mut value_id = |interner: &mut Interner, v: &str| -> u32 {
            match last_value {
                Some((p, l, id)) if std::ptr::eq(p, v.as_ptr()) && l == v.len() => id,
                _ => {
                    let id = interner.id(v);
                    last_value = Some((v.as_ptr(), v.len(), id));
                    id
                }
            }
        };
        for h in hits {
            match h {
                Hit::Existing(key, v) => {
                    // The pods of a workload share their key: memoize its id.
                    if !matches!(&key_memo, Some((_, k)) if **k == *key) {
                        key_memo = Some((interner.id(key), Rc::from(key)));
                    }
                    if let Some((kid, key)) = &key_memo {
                        let vid = value_id(interner, v);
                        existing_anti.add(*kid, key, vid, 1);
                    }
                }
                Hit::Affinity(i, v, n) => {
                    if let Some(t) = affinity_terms.get(i) {
                        let vid = value_id(interner, v);
                        affinity.add(t.key_id, &t.topology_key, vid, n);
                    }
                }
                Hit::Anti(i, v, n) => {
                    if let Some(t) = anti_terms.get(i) {
                        let vid = value_id(interner, v);
                        anti.add(t.key_id, &t.topology_key, vid, n);
                    }
                }
            }
        }

        PreFilterState {
            existing_anti,
            affinity,
            anti,
            affinity_terms: Rc::new(affinity_terms),
            anti_terms: Rc::new(anti_terms),
            ns_labels: Rc::new(ns_labels.clone()),
        }
    }

    /// Upstream's PreScore scores, from every relevant pod in the cluster.
    fn compute_pre_score(
        &self,
        pod: &Pod,
        pref_aff: &[crate::model::affinity::WeightedPodAffinityTerm],
        pref_anti: &[crate::model::affinity::WeightedPodAffinityTerm],
        view: &ClusterView,
        interner: &mut Interner,
    ) -> PreScoreState {
        let has_constraints = !pref_aff.is_empty() || !pref_anti.is_empty();
        let aff_terms: Vec<IncomingTerm> = pref_aff
            .iter()
            .map(|w| IncomingTerm::resolve(&w.term, w.weight, pod, view, interner))
            .collect();
        let anti_terms: Vec<IncomingTerm> = pref_anti
            .iter()
            .map(|w| IncomingTerm::resolve(&w.term, w.weight, pod, view, interner))
            .collect();
        let ns_labels: &Labels = view
            .namespaces
            .get(&pod.meta.namespace)
            .unwrap_or(&EMPTY_LABELS);
        let mut acc = PreScoreState {
            scores: FxMap::default(),
            keys: Vec::new(),
            key_refs: Vec::new(),
            aff_terms: Rc::new(aff_terms),
            anti_terms: Rc::new(anti_terms),
            ns_labels: Rc::new(ns_labels.clone()),
            hard: self.args.hard_pod_affinity_weight,
        };
        // Unless the incoming pod has terms of its own, only nodes holding
        // pods with (anti-)affinity matter, and only those pods.
        let scan: Vec<NodeId> = if has_constraints {
            view.node_order.to_vec()
        } else {
            view.nodes_with_affinity.iter().copied().collect()
        };
        for &nid in &scan {
            let Some(node) = node_at(view, nid) else {
                continue;
            };
            let pods: &BTreeSet<PodId> = if has_constraints {
                &node.pods
            } else {
                &node.pods_with_affinity
            };
            if pods.is_empty() || node.meta.labels.is_empty() {
                continue;
            }
            for &pid in pods {
                if let Some(ep) = pod_at(view, pid) {
                    acc.process_pod(interner, pod, ep, node, 1);
                }
            }
        }
        acc
    }

    /// Upstream `preFilterState.updateWithPod` on the state in `state`.
    fn update_with_pod(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        other: &Pod,
        node: &Node,
        delta: i64,
    ) -> Status {
        let Some(s) = state.read_mut::<Rc<PreFilterState>>(PRE_FILTER_STATE_KEY) else {
            return missing(PRE_FILTER_STATE_KEY);
        };
        let mut interner = self.interner.borrow_mut();
        Rc::make_mut(s).update_with_pod(&mut interner, pod, other, node, delta);
        Status::success()
    }
}

impl PreFilterState {
    /// Upstream `preFilterState.updateWithPod`: adds (`delta` 1) or removes
    /// (-1) the contribution of `other`, on `node`, to the counts for the
    /// incoming `pod`.
    fn update_with_pod(
        &mut self,
        interner: &mut Interner,
        pod: &Pod,
        other: &Pod,
        node: &Node,
        delta: i64,
    ) {
        for t in required_terms(other.spec.pod_anti_affinity.as_ref()) {
            if existing_term_matches(t, &other.meta.namespace, pod, &self.ns_labels) {
                if let Some(v) = node.meta.labels.get(&t.topology_key) {
                    let kid = interner.id(&t.topology_key);
                    let vid = interner.id(v);
                    let key: Rc<str> = Rc::from(t.topology_key.as_str());
                    self.existing_anti.add(kid, &key, vid, delta);
                }
            }
        }
        if matches_all(&self.affinity_terms, other) {
            for t in self.affinity_terms.iter() {
                self.affinity
                    .update(interner, node, t.key_id, &t.topology_key, delta);
            }
        }
        for t in self.anti_terms.iter() {
            if t.matches(other) {
                self.anti
                    .update(interner, node, t.key_id, &t.topology_key, delta);
            }
        }
    }

    /// Upstream's PreFilter Skip: nothing to check.
    fn is_skip(&self) -> bool {
        self.existing_anti.is_empty()
            && self.affinity_terms.is_empty()
            && self.anti_terms.is_empty()
    }
}

fn missing(key: &str) -> Status {
    Status::error(format!("error reading {key:?} from cycleState: not found"))
}

impl Plugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        "InterPodAffinity"
    }
    fn events_to_register(&self) -> Option<&'static [crate::scheduler::hints::ClusterEvent]> {
        Some(super::queueing_hints::INTER_POD_AFFINITY_EVENTS)
    }
    fn queueing_hint(
        &self,
        pod_id: crate::model::PodId,
        pod: &crate::model::Pod,
        _event: &crate::scheduler::hints::ClusterEvent,
        change: &crate::scheduler::hints::Change,
        view: &crate::scheduler::framework::ClusterView,
    ) -> crate::scheduler::hints::QueueingHint {
        super::queueing_hints::inter_pod_affinity_hint(pod_id, pod, change, view)
    }
    fn points(&self) -> &'static [Point] {
        &[
            Point::PreFilter,
            Point::Filter,
            Point::PreScore,
            Point::Score,
        ]
    }

    fn pre_filter(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        view: &ClusterView,
    ) -> PreFilterOutcome {
        let mut guard = self.interner.borrow_mut();
        let interner = &mut *guard;
        self.reset_interner_if_huge(interner);
        let st = self.pre_filter_cache.borrow_mut().fetch(
            pod.sched_signature,
            view.pod_changes,
            interner,
            |interner, s, c| {
                if c.all == 0 {
                    return;
                }
                if let (Some(other), Some(node)) = (pod_at(view, c.pod), node_at(view, c.node)) {
                    s.update_with_pod(interner, pod, other, node, i64::from(c.all));
                }
            },
            |interner| Self::compute_pre_filter(pod, view, interner),
        );
        if st.is_skip() {
            return PreFilterOutcome::status(Status::skip());
        }
        state.write_scheduling_only(PRE_FILTER_STATE_KEY, st);
        PreFilterOutcome::ok()
    }

    fn add_pod(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        added: &Pod,
        node: &Node,
        _view: &ClusterView,
    ) -> Status {
        self.update_with_pod(state, pod, added, node, 1)
    }

    fn remove_pod(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        removed: &Pod,
        node: &Node,
        _view: &ClusterView,
    ) -> Status {
        self.update_with_pod(state, pod, removed, node, -1)
    }

    fn filter(&self, state: &CycleState, pod: &Pod, node: &Node, _view: &ClusterView) -> Status {
        let Some(s) = state.read::<Rc<PreFilterState>>(PRE_FILTER_STATE_KEY) else {
            return missing(PRE_FILTER_STATE_KEY);
        };
        let interner = self.interner.borrow();

        // satisfyPodAffinity
        let mut pods_exist = true;
        for t in s.affinity_terms.iter() {
            match s
                .affinity
                .on_node(&interner, node, t.key_id, &t.topology_key)
            {
                Some(c) => {
                    if c <= 0 {
                        pods_exist = false;
                    }
                }
                // All topology labels must exist on the node.
                None => return Status::unresolvable(ERR_REASON_AFFINITY_RULES_NOT_MATCH),
            }
        }
        // The first pod of a group with affinity to itself: no pod anywhere
        // matches the terms, and the pod matches them all.
        let first_of_group = s.affinity.is_empty() && matches_all(&s.affinity_terms, pod);
        if !pods_exist && !first_of_group {
            return Status::unresolvable(ERR_REASON_AFFINITY_RULES_NOT_MATCH);
        }

        // satisfyPodAntiAffinity
        if !s.anti.is_empty() {
            for t in s.anti_terms.iter() {
                if s.anti
                    .on_node(&interner, node, t.key_id, &t.topology_key)
                    .is_some_and(|c| c > 0)
                {
                    return Status::unschedulable(ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH);
                }
            }
        }

        // satisfyExistingPodsAntiAffinity: any of the node's (key, value)
        // pairs with a positive count. Only keys that have entries can.
        if !s.existing_anti.is_empty() {
            for (kid, key) in &s.existing_anti.keys {
                if s.existing_anti
                    .on_node(&interner, node, *kid, key)
                    .is_some_and(|c| c > 0)
                {
                    return Status::unschedulable(
                        ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH,
                    );
                }
            }
        }
        Status::success()
    }

    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        _nodes: &[NodeId],
        view: &ClusterView,
    ) -> Status {
        let pref_aff: &[crate::model::affinity::WeightedPodAffinityTerm] = pod
            .spec
            .pod_affinity
            .as_ref()
            .map(|a| a.preferred.as_slice())
            .unwrap_or(&[]);
        let pref_anti: &[crate::model::affinity::WeightedPodAffinityTerm] = pod
            .spec
            .pod_anti_affinity
            .as_ref()
            .map(|a| a.preferred.as_slice())
            .unwrap_or(&[]);
        let has_constraints = !pref_aff.is_empty() || !pref_anti.is_empty();
        if self.args.ignore_preferred_terms_of_existing_pods && !has_constraints {
            return Status::skip();
        }

        let mut guard = self.interner.borrow_mut();
        let interner = &mut *guard;
        self.reset_interner_if_huge(interner);
        let acc = self.pre_score_cache.borrow_mut().fetch(
            pod.sched_signature,
            view.pod_changes,
            interner,
            |interner, s, c| {
                if c.all == 0 {
                    return;
                }
                if let (Some(ep), Some(node)) = (pod_at(view, c.pod), node_at(view, c.node)) {
                    s.process_pod(interner, pod, ep, node, i64::from(c.all));
                }
            },
            |interner| self.compute_pre_score(pod, pref_aff, pref_anti, view, interner),
        );
        if acc.keys.is_empty() {
            return Status::skip();
        }
        state.write_scheduling_only(PRE_SCORE_STATE_KEY, acc);
        Status::success()
    }

    fn score(
        &self,
        state: &CycleState,
        _pod: &Pod,
        node: &Node,
        _view: &ClusterView,
    ) -> Result<i64, Status> {
        let Some(s) = state.read::<Rc<PreScoreState>>(PRE_SCORE_STATE_KEY) else {
            return Err(missing(PRE_SCORE_STATE_KEY));
        };
        let interner = self.interner.borrow();
        let mut score = 0i64;
        for (kid, key) in &s.keys {
            if let Some(v) = node.meta.labels.get(&**key) {
                if let Some(vid) = interner.get(v) {
                    score = score
                        .wrapping_add(s.scores.get(&pair(*kid, vid)).map(|e| e.0).unwrap_or(0));
                }
            }
        }
        Ok(score)
    }

    fn has_normalize(&self) -> bool {
        true
    }

    fn normalize_score(&self, state: &CycleState, _pod: &Pod, scores: &mut [NodeScore]) -> Status {
        let Some(st) = state.read::<Rc<PreScoreState>>(PRE_SCORE_STATE_KEY) else {
            return missing(PRE_SCORE_STATE_KEY);
        };
        if st.keys.is_empty() {
            return Status::success();
        }
        let mut min = i64::MAX;
        let mut max = i64::MIN;
        for ns in scores.iter() {
            max = max.max(ns.score);
            min = min.min(ns.score);
        }
        let diff = max.wrapping_sub(min);
        for ns in scores.iter_mut() {
            let mut f = 0f64;
            if diff > 0 {
                f = MAX_NODE_SCORE as f64 * (ns.score.wrapping_sub(min) as f64 / diff as f64);
            }
            ns.score = f as i64;
        }
        Status::success()
    }
}

// ---------------------------------------------------------------------------
// Test support shared with PodTopologySpread's tests.

#[cfg(test)]
pub(crate) mod testutil {
    use std::collections::BTreeMap;

    use crate::engine::SimTime;
    use crate::model::affinity::{
        InclusionPolicy, NodeAffinity, NodeSelector, NodeSelectorOperator, NodeSelectorRequirement,
        NodeSelectorTerm, PodAffinity, PodAffinityTerm, TopologySpreadConstraint,
        WeightedPodAffinityTerm, WhenUnsatisfiable,
    };
    use crate::model::meta::OwnerReference;
    use crate::model::pod::{PodBehavior, PodSpec};
    use crate::model::taints::{Taint, TaintEffect, Toleration, TolerationOperator};
    use crate::model::{Labels, Node, NodeId, ObjectMeta, Pod, PodId, Resources, Selector};
    use crate::scheduler::framework::ClusterView;

    pub fn sel(s: &str) -> Selector {
        Selector::parse(s).expect("test selector")
    }

    pub fn labels(kv: &[(&str, &str)]) -> Labels {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    pub fn term(selector: Option<&str>, topology_key: &str) -> PodAffinityTerm {
        PodAffinityTerm {
            label_selector: selector.map(sel),
            namespaces: vec![],
            namespace_selector: None,
            topology_key: topology_key.to_string(),
        }
    }

    /// A pod builder in the spirit of upstream's `st.MakePod()`.
    #[derive(Clone)]
    pub struct PB(pub Pod);

    impl PB {
        pub fn new(name: &str) -> PB {
            let meta = ObjectMeta {
                name: name.to_string(),
                ..Default::default()
            };
            PB(Pod::new(meta, PodSpec::default(), PodBehavior::default()))
        }
        pub fn ns(mut self, ns: &str) -> PB {
            self.0.meta.namespace = ns.to_string();
            self
        }
        pub fn label(mut self, k: &str, v: &str) -> PB {
            self.0.meta.labels.insert(k.to_string(), v.to_string());
            self
        }
        pub fn labels(mut self, kv: &[(&str, &str)]) -> PB {
            for (k, v) in kv {
                self.0.meta.labels.insert(k.to_string(), v.to_string());
            }
            self
        }
        pub fn node(mut self, n: &str) -> PB {
            self.0.spec.node_name = Some(n.to_string());
            self
        }
        pub fn aff_term(mut self, t: PodAffinityTerm) -> PB {
            self.0
                .spec
                .pod_affinity
                .get_or_insert_with(PodAffinity::default)
                .required
                .push(t);
            self
        }
        pub fn anti_term(mut self, t: PodAffinityTerm) -> PB {
            self.0
                .spec
                .pod_anti_affinity
                .get_or_insert_with(PodAffinity::default)
                .required
                .push(t);
            self
        }
        /// Required affinity, selector in string syntax (`PodAffinityIn` & co).
        pub fn aff(self, selector: &str, topology_key: &str) -> PB {
            self.aff_term(term(Some(selector), topology_key))
        }
        pub fn anti(self, selector: &str, topology_key: &str) -> PB {
            self.anti_term(term(Some(selector), topology_key))
        }
        pub fn aff_pref_term(mut self, weight: i32, t: PodAffinityTerm) -> PB {
            self.0
                .spec
                .pod_affinity
                .get_or_insert_with(PodAffinity::default)
                .preferred
                .push(WeightedPodAffinityTerm { weight, term: t });
            self
        }
        pub fn anti_pref_term(mut self, weight: i32, t: PodAffinityTerm) -> PB {
            self.0
                .spec
                .pod_anti_affinity
                .get_or_insert_with(PodAffinity::default)
                .preferred
                .push(WeightedPodAffinityTerm { weight, term: t });
            self
        }
        pub fn aff_pref(self, weight: i32, selector: &str, topology_key: &str) -> PB {
            self.aff_pref_term(weight, term(Some(selector), topology_key))
        }
        pub fn anti_pref(self, weight: i32, selector: &str, topology_key: &str) -> PB {
            self.anti_pref_term(weight, term(Some(selector), topology_key))
        }
        #[allow(clippy::too_many_arguments)]
        pub fn spread_full(
            mut self,
            max_skew: i32,
            key: &str,
            when: WhenUnsatisfiable,
            selector: Option<&str>,
            min_domains: Option<i32>,
            affinity_policy: Option<InclusionPolicy>,
            taints_policy: Option<InclusionPolicy>,
        ) -> PB {
            self.0
                .spec
                .topology_spread_constraints
                .push(TopologySpreadConstraint {
                    max_skew,
                    topology_key: key.to_string(),
                    when_unsatisfiable: when,
                    label_selector: selector.map(sel),
                    min_domains,
                    node_affinity_policy: affinity_policy.unwrap_or(InclusionPolicy::Honor),
                    node_taints_policy: taints_policy.unwrap_or(InclusionPolicy::Ignore),
                });
            self
        }
        /// `SpreadConstraint(maxSkew, key, when, selector, nil, nil, nil, nil)`.
        pub fn spread(
            self,
            max_skew: i32,
            key: &str,
            when: WhenUnsatisfiable,
            selector: Option<&str>,
        ) -> PB {
            self.spread_full(max_skew, key, when, selector, None, None, None)
        }
        pub fn node_selector(mut self, k: &str, v: &str) -> PB {
            self.0
                .spec
                .node_selector
                .insert(k.to_string(), v.to_string());
            self
        }
        fn node_affinity_req(mut self, key: &str, op: NodeSelectorOperator, vals: &[&str]) -> PB {
            self.0.spec.node_affinity = Some(NodeAffinity {
                required: Some(NodeSelector {
                    terms: vec![NodeSelectorTerm {
                        match_expressions: vec![NodeSelectorRequirement {
                            key: key.to_string(),
                            operator: op,
                            values: vals.iter().map(|s| s.to_string()).collect(),
                        }],
                        match_fields: vec![],
                    }],
                }),
                preferred: vec![],
            });
            self
        }
        pub fn node_affinity_in(self, key: &str, vals: &[&str]) -> PB {
            self.node_affinity_req(key, NodeSelectorOperator::In, vals)
        }
        pub fn node_affinity_not_in(self, key: &str, vals: &[&str]) -> PB {
            self.node_affinity_req(key, NodeSelectorOperator::NotIn, vals)
        }
        /// `st.MakePod().Toleration(key)`: `Exists`, any effect.
        pub fn toleration(mut self, key: &str) -> PB {
            self.0.spec.tolerations.push(Toleration {
                key: key.to_string(),
                operator: TolerationOperator::Exists,
                ..Default::default()
            });
            self
        }
        pub fn terminating(mut self) -> PB {
            self.0.meta.deletion_timestamp = Some(SimTime(1));
            self
        }
        pub fn owner(mut self, api_version: &str, kind: &str, name: &str) -> PB {
            self.0.meta.owner_references.push(OwnerReference {
                api_version: api_version.to_string(),
                kind: kind.to_string(),
                name: name.to_string(),
                uid: String::new(),
                controller: true,
                block_owner_deletion: true,
            });
            self
        }
        pub fn obj(self) -> Pod {
            self.0
        }
    }

    pub fn node(name: &str, kv: &[(&str, &str)]) -> Node {
        let mut n = Node::new(
            ObjectMeta {
                name: name.to_string(),
                labels: labels(kv),
                ..Default::default()
            },
            Resources::default(),
            Resources::default(),
        );
        n.present = true;
        n
    }

    /// `taints` of upstream's PodTopologySpread tests.
    pub fn unschedulable_taint(mut n: Node) -> Node {
        n.taints.push(Taint::new(
            "node.kubernetes.io/unschedulable",
            "",
            TaintEffect::NoSchedule,
        ));
        n
    }

    /// A little cluster: pods are placed on the node named by their
    /// `spec.node_name` (pods naming an unknown node are left out, as
    /// upstream's snapshot has no node for them).
    pub struct TestCluster {
        pub nodes: Vec<Node>,
        pub pods: Vec<Pod>,
        pub namespaces: BTreeMap<String, Labels>,
        pub order: Vec<NodeId>,
        images: BTreeMap<String, u32>,
        nominated: BTreeMap<NodeId, Vec<PodId>>,
        aff_nodes: std::collections::BTreeSet<NodeId>,
        anti_nodes: std::collections::BTreeSet<NodeId>,
    }

    impl TestCluster {
        pub fn new(nodes: Vec<Node>, pods: Vec<Pod>) -> TestCluster {
            let mut c = TestCluster {
                order: (0..nodes.len() as u32).map(NodeId).collect(),
                nodes,
                pods: Vec::new(),
                namespaces: BTreeMap::new(),
                images: BTreeMap::new(),
                nominated: BTreeMap::new(),
                aff_nodes: Default::default(),
                anti_nodes: Default::default(),
            };
            for ns in ["", "default", "ns", "ns1", "ns2", "NS1", "NS2"] {
                c.namespaces.insert(ns.to_string(), labels(&[]));
            }
            for (ns, team) in [
                ("subteam1.team1", "team1"),
                ("subteam2.team1", "team1"),
                ("subteam1.team2", "team2"),
                ("subteam2.team2", "team2"),
            ] {
                c.namespaces
                    .insert(ns.to_string(), labels(&[("team", team)]));
            }
            for p in pods {
                c.add(p);
            }
            c
        }
        /// Adds an existing pod (on its node if the node exists).
        pub fn add(&mut self, p: Pod) -> PodId {
            let id = PodId(self.pods.len() as u32);
            if let Some(n) = p.spec.node_name.clone() {
                if let Some(node) = self.nodes.iter_mut().find(|x| x.meta.name == n) {
                    node.add_pod(id, &p);
                }
            }
            self.pods.push(p);
            let (a, b) = crate::scheduler::framework::affinity_node_sets(&self.nodes);
            self.aff_nodes = a;
            self.anti_nodes = b;
            id
        }
        pub fn view(&self) -> ClusterView<'_> {
            ClusterView {
                nodes: &self.nodes,
                pods: &self.pods,
                namespaces: &self.namespaces,
                image_nodes: &self.images,
                node_order: &self.order,
                nominated: &self.nominated,
                waiting: &[],
                nodes_with_affinity: &self.aff_nodes,
                nodes_with_required_anti_affinity: &self.anti_nodes,
                pod_changes: None,
                now: SimTime::ZERO,
                pdbs: &[],
            }
        }
        /// Puts pod `id` on node `n` (it must not be on a node).
        pub fn place(&mut self, id: PodId, n: NodeId) {
            let p = &self.pods[id.0 as usize];
            self.nodes[n.0 as usize].add_pod(id, p);
            self.refresh_sets();
        }
        /// Takes pod `id` off node `n`.
        pub fn unplace(&mut self, id: PodId, n: NodeId) {
            let p = &self.pods[id.0 as usize];
            self.nodes[n.0 as usize].remove_pod(id, p);
            self.refresh_sets();
        }
        fn refresh_sets(&mut self) {
            let (a, b) = crate::scheduler::framework::affinity_node_sets(&self.nodes);
            self.aff_nodes = a;
            self.anti_nodes = b;
        }
        /// The view with a pod change log (plugins keep incremental state).
        pub fn view_with<'a>(
            &'a self,
            log: &'a crate::scheduler::incremental::PodChangeLog,
        ) -> ClusterView<'a> {
            ClusterView {
                pod_changes: Some(log),
                ..self.view()
            }
        }
        pub fn node_id(&self, name: &str) -> NodeId {
            NodeId(
                self.nodes
                    .iter()
                    .position(|n| n.meta.name == name)
                    .expect("test node") as u32,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::testutil::*;
    use super::*;
    use crate::model::affinity::PodAffinityTerm;
    use crate::scheduler::framework::Code;

    type Want = Option<(Code, &'static str)>;
    const OK: Want = None;
    const AFF: Want = Some((
        Code::UnschedulableAndUnresolvable,
        ERR_REASON_AFFINITY_RULES_NOT_MATCH,
    ));
    const ANTI: Want = Some((
        Code::Unschedulable,
        ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH,
    ));
    const EXIST: Want = Some((
        Code::Unschedulable,
        ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH,
    ));

    fn check_status(got: &Status, want: Want, ctx: &str) {
        match want {
            None => assert!(got.is_success(), "{ctx}: want success, got {got:?}"),
            Some((code, reason)) => {
                assert_eq!(got.code, code, "{ctx}: code ({got:?})");
                assert_eq!(got.reasons, vec![reason.to_string()], "{ctx}: reasons");
            }
        }
    }

    /// Runs PreFilter then Filter on every node; `want_skip` is the expected
    /// PreFilter Skip.
    fn run_filter(
        name: &str,
        pod: &Pod,
        nodes: Vec<Node>,
        pods: Vec<Pod>,
        want_skip: bool,
        want: &[Want],
    ) {
        let c = TestCluster::new(nodes, pods);
        let pl = InterPodAffinity::new(InterPodAffinityArgs::default());
        let mut st = CycleState::default();
        let out = pl.pre_filter(&mut st, pod, &c.view());
        assert_eq!(
            out.status.is_skip(),
            want_skip,
            "{name}: PreFilter {:?}",
            out.status
        );
        if want_skip {
            return;
        }
        assert!(out.status.is_success(), "{name}");
        for (i, n) in c.nodes.iter().enumerate() {
            let got = pl.filter(&st, pod, n, &c.view());
            check_status(&got, want[i], &format!("{name} [{}]", n.meta.name));
        }
    }

    fn ns_term(
        selector: &str,
        namespaces: &[&str],
        ns_selector: Option<&str>,
        topology_key: &str,
    ) -> PodAffinityTerm {
        PodAffinityTerm {
            label_selector: Some(sel(selector)),
            namespaces: namespaces.iter().map(|s| s.to_string()).collect(),
            namespace_selector: ns_selector.map(sel),
            topology_key: topology_key.to_string(),
        }
    }

    /// Upstream filtering_test.go `TestRequiredAffinitySingleNode`.
    #[test]
    fn required_affinity_single_node() {
        let pod_label = [("service", "securityscan")];
        let pod_label2 = [("security", "S1")];
        let node1 = || node("node1", &[("region", "r1"), ("zone", "z11")]);
        let existing = || PB::new("p").labels(&pod_label).node("node1").obj();
        let in2 = "service in (securityscan,value2)";
        #[allow(clippy::type_complexity)]
        let cases: Vec<(&str, Pod, Vec<Pod>, bool, Want)> = vec![
            (
                "no required pod affinity, node with no pods",
                PB::new("in").obj(),
                vec![],
                true,
                OK,
            ),
            (
                "affinity In matches the existing pod",
                PB::new("in").labels(&pod_label2).aff(in2, "region").obj(),
                vec![existing()],
                false,
                OK,
            ),
            (
                "affinity NotIn matches the existing pod",
                PB::new("in")
                    .labels(&pod_label2)
                    .aff("service notin (securityscan3,value3)", "region")
                    .obj(),
                vec![existing()],
                false,
                OK,
            ),
            (
                "affinity fails because of a different namespace",
                PB::new("in")
                    .labels(&pod_label2)
                    .aff_term(ns_term(in2, &["DiffNameSpace"], None, ""))
                    .obj(),
                vec![PB::new("p")
                    .ns("ns")
                    .label("service", "securityscan")
                    .node("node1")
                    .obj()],
                false,
                AFF,
            ),
            (
                "affinity fails: unmatching labelSelector",
                PB::new("in")
                    .labels(&pod_label)
                    .aff("service in (antivirusscan,value2)", "")
                    .obj(),
                vec![existing()],
                false,
                AFF,
            ),
            (
                "affinity with different operators in multiple terms",
                PB::new("in")
                    .labels(&pod_label2)
                    .aff("service,!wrongkey", "region")
                    .aff(
                        "service in (securityscan),service notin (WrongValue)",
                        "region",
                    )
                    .obj(),
                vec![existing()],
                false,
                OK,
            ),
            (
                "matchExpressions are ANDed",
                PB::new("in")
                    .labels(&pod_label2)
                    .aff("service,!wrongkey", "region")
                    .aff(
                        "service in (securityscan2),service notin (WrongValue)",
                        "region",
                    )
                    .obj(),
                vec![existing()],
                false,
                AFF,
            ),
            (
                "affinity and anti-affinity satisfied",
                PB::new("in")
                    .labels(&pod_label2)
                    .aff(in2, "region")
                    .anti("service in (antivirusscan,value2)", "node")
                    .obj(),
                vec![existing()],
                false,
                OK,
            ),
            (
                "affinity, anti-affinity and anti-affinity symmetry satisfied",
                PB::new("in")
                    .labels(&pod_label2)
                    .aff(in2, "region")
                    .anti("service in (antivirusscan,value2)", "node")
                    .obj(),
                vec![PB::new("p")
                    .node("node1")
                    .labels(&pod_label)
                    .anti("service in (antivirusscan,value2)", "node")
                    .obj()],
                false,
                OK,
            ),
            (
                "affinity satisfied, anti-affinity not",
                PB::new("in")
                    .labels(&pod_label2)
                    .aff(in2, "region")
                    .anti(in2, "zone")
                    .obj(),
                vec![existing()],
                false,
                ANTI,
            ),
            (
                "anti-affinity symmetry not satisfied",
                PB::new("in")
                    .labels(&pod_label)
                    .aff(in2, "region")
                    .anti("service in (antivirusscan,value2)", "node")
                    .obj(),
                vec![PB::new("p")
                    .labels(&pod_label)
                    .node("node1")
                    .anti(in2, "zone")
                    .obj()],
                false,
                EXIST,
            ),
            (
                "pod matches its own label in affinity, existing pod on another node",
                PB::new("in")
                    .labels(&pod_label)
                    .aff("service notin (securityscan,value2)", "region")
                    .obj(),
                vec![PB::new("p")
                    .label("service", "securityscan")
                    .node("node2")
                    .obj()],
                false,
                AFF,
            ),
            (
                "existing pod's anti-affinity respected, pod without anti-affinity",
                PB::new("in").labels(&pod_label).obj(),
                vec![PB::new("p")
                    .node("node1")
                    .labels(&pod_label)
                    .anti(in2, "zone")
                    .obj()],
                false,
                EXIST,
            ),
            (
                "existing pod's anti-affinity does not select the pod",
                PB::new("in").labels(&pod_label).obj(),
                vec![PB::new("p")
                    .node("node1")
                    .labels(&pod_label)
                    .anti("service notin (securityscan,value2)", "zone")
                    .obj()],
                true,
                OK,
            ),
            (
                "anti-affinity with existing pod satisfied, symmetry with incoming pod not",
                PB::new("in")
                    .labels(&pod_label)
                    .anti("service", "region")
                    .anti("security", "region")
                    .obj(),
                vec![PB::new("p")
                    .node("node1")
                    .labels(&pod_label2)
                    .anti("security", "zone")
                    .obj()],
                false,
                ANTI,
            ),
            (
                "symmetry a1",
                PB::new("in")
                    .labels(&pod_label)
                    .anti("service", "zone")
                    .anti("security", "zone")
                    .obj(),
                vec![PB::new("p")
                    .node("node1")
                    .labels(&pod_label2)
                    .anti("security", "zone")
                    .obj()],
                false,
                ANTI,
            ),
            (
                "symmetry a2",
                PB::new("in")
                    .labels(&pod_label2)
                    .anti("security", "zone")
                    .obj(),
                vec![PB::new("p")
                    .node("node1")
                    .labels(&pod_label)
                    .anti("service", "zone")
                    .anti("security", "zone")
                    .obj()],
                false,
                EXIST,
            ),
            (
                "symmetry b1",
                PB::new("in")
                    .labels(&[("abc", ""), ("xyz", "")])
                    .anti("abc", "zone")
                    .anti("def", "zone")
                    .obj(),
                vec![PB::new("p")
                    .node("node1")
                    .labels(&[("def", ""), ("xyz", "")])
                    .anti("abc", "zone")
                    .anti("def", "zone")
                    .obj()],
                false,
                ANTI,
            ),
            (
                "symmetry b2",
                PB::new("in")
                    .labels(&[("def", ""), ("xyz", "")])
                    .anti("abc", "zone")
                    .anti("def", "zone")
                    .obj(),
                vec![PB::new("p")
                    .node("node1")
                    .labels(&[("abc", ""), ("xyz", "")])
                    .anti("abc", "zone")
                    .anti("def", "zone")
                    .obj()],
                false,
                ANTI,
            ),
            (
                "affinity with NamespaceSelector",
                PB::new("in")
                    .labels(&pod_label2)
                    .aff_term(ns_term(in2, &[], Some("team in (team1)"), "region"))
                    .obj(),
                vec![PB::new("p")
                    .ns("subteam1.team1")
                    .labels(&pod_label)
                    .node("node1")
                    .obj()],
                false,
                OK,
            ),
            (
                "affinity with non-matching NamespaceSelector",
                PB::new("in")
                    .labels(&pod_label2)
                    .aff_term(ns_term(in2, &[], Some("team in (team1)"), "region"))
                    .obj(),
                vec![PB::new("p")
                    .ns("subteam1.team2")
                    .labels(&pod_label)
                    .node("node1")
                    .obj()],
                false,
                AFF,
            ),
            (
                "anti-affinity with matching NamespaceSelector",
                PB::new("in")
                    .ns("subteam1.team1")
                    .labels(&pod_label2)
                    .anti_term(ns_term(in2, &[], Some("team in (team1)"), "zone"))
                    .obj(),
                vec![PB::new("p")
                    .ns("subteam2.team1")
                    .labels(&pod_label)
                    .node("node1")
                    .obj()],
                false,
                ANTI,
            ),
            (
                "anti-affinity with matching all NamespaceSelector",
                PB::new("in")
                    .ns("subteam1.team1")
                    .labels(&pod_label2)
                    .anti_term(ns_term(in2, &[], Some(""), "zone"))
                    .obj(),
                vec![PB::new("p")
                    .ns("subteam2.team1")
                    .labels(&pod_label)
                    .node("node1")
                    .obj()],
                false,
                ANTI,
            ),
            (
                "anti-affinity with non-matching NamespaceSelector",
                PB::new("in")
                    .ns("subteam1.team1")
                    .labels(&pod_label2)
                    .anti_term(ns_term(in2, &[], Some("team in (team1)"), "zone"))
                    .obj(),
                vec![PB::new("p")
                    .ns("subteam1.team2")
                    .labels(&pod_label)
                    .node("node1")
                    .obj()],
                false,
                OK,
            ),
        ];
        assert_eq!(cases.len(), 24);
        for (name, pod, pods, skip, want) in cases {
            run_filter(name, &pod, vec![node1()], pods, skip, &[want]);
        }
    }

    /// Upstream filtering_test.go `TestRequiredAffinityMultipleNodes`.
    #[test]
    fn required_affinity_multiple_nodes() {
        let china = [("region", "China")];
        let china_az1 = [("region", "China"), ("az", "az1")];
        let india = [("region", "India")];
        let rzh =
            |n: &str, r: &str, z: &str| node(n, &[("region", r), ("zone", z), ("hostname", n)]);
        #[allow(clippy::type_complexity)]
        let cases: Vec<(&str, Pod, Vec<Pod>, Vec<Node>, bool, Vec<Want>)> = vec![
            (
                "nodes with the same topology value as the matching pod's node",
                PB::new("in").aff("foo in (bar)", "region").obj(),
                vec![PB::new("p1").node("node1").label("foo", "bar").obj()],
                vec![
                    node("node1", &china),
                    node("node2", &china_az1),
                    node("node3", &india),
                ],
                false,
                vec![OK, OK, AFF],
            ),
            (
                "first pod of a collection is not blocked",
                PB::new("in")
                    .labels(&[("foo", "bar"), ("service", "securityscan")])
                    .aff("foo in (bar)", "zone")
                    .aff("service in (securityscan)", "zone")
                    .obj(),
                vec![PB::new("p1").node("nodeA").label("foo", "bar").obj()],
                vec![
                    node("nodeA", &[("zone", "az1"), ("hostname", "h1")]),
                    node("nodeB", &[("zone", "az2"), ("hostname", "h2")]),
                ],
                false,
                vec![OK, OK],
            ),
            (
                "first pod of a collection needs the topology keys",
                PB::new("in")
                    .labels(&[("foo", "bar"), ("service", "securityscan")])
                    .aff("foo in (bar)", "zone")
                    .aff("service in (securityscan)", "zone")
                    .obj(),
                vec![PB::new("p1").node("nodeA").label("foo", "bar").obj()],
                vec![
                    node("nodeA", &[("zoneLabel", "az1"), ("hostname", "h1")]),
                    node("nodeB", &[("zoneLabel", "az2"), ("hostname", "h2")]),
                ],
                false,
                vec![AFF, AFF],
            ),
            (
                "anti-affinity: same topology value as the matching pod's node",
                PB::new("in").anti("foo in (abc)", "region").obj(),
                vec![PB::new("p").node("nodeA").label("foo", "abc").obj()],
                vec![
                    node("nodeA", &[("region", "r1"), ("hostname", "nodeA")]),
                    node("nodeB", &[("region", "r1"), ("hostname", "nodeB")]),
                ],
                false,
                vec![ANTI, ANTI],
            ),
            (
                "anti-affinity matches when any term matches",
                PB::new("in")
                    .anti("foo in (abc)", "region")
                    .anti("service in (securityscan)", "zone")
                    .obj(),
                vec![PB::new("p")
                    .node("nodeA")
                    .labels(&[("foo", "abc"), ("service", "securityscan")])
                    .obj()],
                vec![
                    node(
                        "nodeA",
                        &[("region", "r1"), ("zone", "z1"), ("hostname", "nodeA")],
                    ),
                    node(
                        "nodeB",
                        &[("region", "r1"), ("zone", "z2"), ("hostname", "nodeB")],
                    ),
                ],
                false,
                vec![ANTI, ANTI],
            ),
            (
                "anti-affinity: nodeC in another region fits",
                PB::new("in").anti("foo in (abc)", "region").obj(),
                vec![PB::new("p").node("nodeA").label("foo", "abc").obj()],
                vec![
                    node("nodeA", &china),
                    node("nodeB", &china_az1),
                    node("nodeC", &india),
                ],
                false,
                vec![ANTI, ANTI, OK],
            ),
            (
                "anti-affinity: existing pod in a different namespace",
                PB::new("in")
                    .ns("NS1")
                    .label("foo", "123")
                    .anti("foo in (bar)", "region")
                    .obj(),
                vec![
                    PB::new("a")
                        .node("nodeA")
                        .ns("NS1")
                        .label("foo", "bar")
                        .obj(),
                    PB::new("c")
                        .node("nodeC")
                        .ns("NS2")
                        .anti("foo in (123)", "region")
                        .obj(),
                ],
                vec![
                    node("nodeA", &china),
                    node("nodeB", &china_az1),
                    node("nodeC", &india),
                ],
                false,
                vec![ANTI, ANTI, OK],
            ),
            (
                "existing pod's term with an invalid topologyKey",
                PB::new("in").label("foo", "").obj(),
                vec![PB::new("p")
                    .node("nodeA")
                    .anti("foo", "invalid-node-label")
                    .obj()],
                vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z1")],
                true,
                vec![OK, OK],
            ),
            (
                "incoming pod's anti-affinity checks the topologyKey too",
                PB::new("in")
                    .node("nodeA")
                    .anti("foo", "invalid-node-label")
                    .obj(),
                vec![PB::new("p").node("nodeA").label("foo", "").obj()],
                vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z1")],
                false,
                vec![OK, OK],
            ),
            (
                "existing pods' anti-affinity: violates each existing pod on all nodes",
                PB::new("in").labels(&[("foo", ""), ("bar", "")]).obj(),
                vec![
                    PB::new("a").node("nodeA").anti("foo", "zone").obj(),
                    PB::new("b").node("nodeA").anti("bar", "region").obj(),
                ],
                vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z2")],
                false,
                vec![EXIST, EXIST],
            ),
            (
                "incoming pod's anti-affinity: violates one rule",
                PB::new("in")
                    .anti("foo", "zone")
                    .anti("bar", "region")
                    .obj(),
                vec![
                    PB::new("a").node("nodeA").label("foo", "").obj(),
                    PB::new("b").node("nodeB").label("bar", "").obj(),
                ],
                vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z2")],
                false,
                vec![ANTI, ANTI],
            ),
            (
                "existing pod's anti-affinity: one term with invalid topologyKey",
                PB::new("in").labels(&[("foo", ""), ("bar", "")]).obj(),
                vec![PB::new("a")
                    .node("nodeA")
                    .anti("foo", "invalid-node-label")
                    .anti("bar", "zone")
                    .obj()],
                vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z2")],
                false,
                vec![EXIST, OK],
            ),
            (
                "incoming pod's anti-affinity: one term with invalid topologyKey",
                PB::new("in")
                    .anti("foo", "invalid-node-label")
                    .anti("bar", "zone")
                    .obj(),
                vec![PB::new("podA")
                    .node("nodeA")
                    .labels(&[("foo", ""), ("bar", "")])
                    .obj()],
                vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z2")],
                false,
                vec![ANTI, OK],
            ),
            (
                "existing pod's anti-affinity: all terms valid",
                PB::new("in").labels(&[("foo", ""), ("bar", "")]).obj(),
                vec![PB::new("a")
                    .node("nodeA")
                    .anti("foo", "region")
                    .anti("bar", "zone")
                    .obj()],
                vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z2")],
                false,
                vec![EXIST, EXIST],
            ),
            (
                "incoming pod's anti-affinity: all terms valid",
                PB::new("in")
                    .anti("foo", "region")
                    .anti("bar", "zone")
                    .obj(),
                vec![PB::new("a")
                    .node("nodeA")
                    .labels(&[("foo", ""), ("bar", "")])
                    .obj()],
                vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z2")],
                false,
                vec![ANTI, ANTI],
            ),
            (
                "existing pods on nodeA and nodeB: only nodeC fits",
                PB::new("in").labels(&[("foo", ""), ("bar", "")]).obj(),
                vec![
                    PB::new("a")
                        .node("nodeA")
                        .anti("foo", "zone")
                        .anti("labelA", "zone")
                        .obj(),
                    PB::new("b")
                        .node("nodeB")
                        .anti("bar", "zone")
                        .anti("labelB", "zone")
                        .obj(),
                ],
                vec![
                    rzh("nodeA", "r1", "z1"),
                    rzh("nodeB", "r1", "z2"),
                    rzh("nodeC", "r1", "z3"),
                ],
                false,
                vec![EXIST, EXIST, OK],
            ),
            (
                "incoming pod's affinity: all terms match, then the keys",
                PB::new("in").aff("foo", "region").aff("bar", "zone").obj(),
                vec![PB::new("pod1")
                    .labels(&[("foo", ""), ("bar", "")])
                    .node("nodeA")
                    .obj()],
                vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z1")],
                false,
                vec![OK, OK],
            ),
            (
                "incoming pod's affinity: terms must match the same pod",
                PB::new("in").aff("foo", "region").aff("bar", "zone").obj(),
                vec![
                    PB::new("pod1").node("nodeA").label("foo", "").obj(),
                    PB::new("pod2").node("nodeB").label("bar", "").obj(),
                ],
                vec![rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z2")],
                false,
                vec![AFF, AFF],
            ),
        ];
        assert_eq!(cases.len(), 18);
        for (name, pod, pods, nodes, skip, want) in cases {
            run_filter(name, &pod, nodes, pods, skip, &want);
        }
    }

    fn dump(c: &TopoCounts, interner: &Interner) -> BTreeMap<(String, String), i64> {
        c.counts
            .iter()
            .map(|(p, n)| {
                let k = interner.name((p >> 32) as u32).to_string();
                let v = interner.name((p & 0xffff_ffff) as u32).to_string();
                ((k, v), *n)
            })
            .collect()
    }

    fn want_counts(kv: &[(&str, &str, i64)]) -> BTreeMap<(String, String), i64> {
        kv.iter()
            .map(|(k, v, n)| ((k.to_string(), v.to_string()), *n))
            .collect()
    }

    /// Upstream filtering_test.go `TestPreFilterStateAddRemovePod`.
    #[test]
    fn pre_filter_state_add_remove_pod() {
        let foo_bar = "foo in (bar)";
        let anti_complex = |p: PB| {
            p.anti("foo in (bar,buzz)", "region")
                .anti("service notin (bar,security,test)", "zone")
        };
        let aff_complex = |p: PB| {
            p.aff("foo in (bar,buzz)", "region")
                .aff("service notin (bar,security,test)", "zone")
        };
        let nodes = || {
            vec![
                node("nodeA", &[("region", "r1"), ("zone", "z11")]),
                node("nodeB", &[("region", "r1"), ("zone", "z12")]),
                node("nodeC", &[("region", "r2"), ("zone", "z21")]),
            ]
        };
        #[allow(clippy::type_complexity)]
        let cases: Vec<(
            Pod,
            Pod,
            Vec<Pod>,
            &[(&str, &str, i64)],
            &[(&str, &str, i64)],
        )> = vec![
            (
                PB::new("pending")
                    .label("foo", "bar")
                    .anti(foo_bar, "region")
                    .obj(),
                PB::new("added")
                    .label("foo", "bar")
                    .node("nodeB")
                    .anti(foo_bar, "region")
                    .obj(),
                vec![
                    PB::new("p1").label("foo", "bar").node("nodeA").obj(),
                    PB::new("p2").node("nodeC").anti(foo_bar, "region").obj(),
                ],
                &[("region", "r1", 2)],
                &[],
            ),
            (
                anti_complex(PB::new("pending").label("foo", "bar")).obj(),
                anti_complex(PB::new("added").label("foo", "bar").node("nodeA")).obj(),
                vec![
                    PB::new("p1").label("foo", "bar").node("nodeA").obj(),
                    PB::new("p2").node("nodeC").anti(foo_bar, "region").obj(),
                ],
                &[("region", "r1", 2), ("zone", "z11", 2), ("zone", "z21", 1)],
                &[],
            ),
            (
                aff_complex(PB::new("pending").label("foo", "bar")).obj(),
                anti_complex(PB::new("added").label("foo", "bar").node("nodeA")).obj(),
                vec![
                    PB::new("p1").label("foo", "bar").node("nodeA").obj(),
                    aff_complex(PB::new("p2").node("nodeC").anti(foo_bar, "region")).obj(),
                ],
                &[],
                &[("region", "r1", 2), ("zone", "z11", 2)],
            ),
        ];
        for (i, (pending, added, existing, want_anti, want_aff)) in cases.into_iter().enumerate() {
            let pl = InterPodAffinity::new(InterPodAffinityArgs::default());
            // The state with every pod (including the added one) given to PreFilter.
            let mut all = existing.clone();
            all.push(added.clone());
            let c_all = TestCluster::new(nodes(), all);
            let mut st_all = CycleState::default();
            assert!(pl
                .pre_filter(&mut st_all, &pending, &c_all.view())
                .status
                .is_success());
            // The state without it, then AddPod.
            let c = TestCluster::new(nodes(), existing);
            let mut st = CycleState::default();
            assert!(pl
                .pre_filter(&mut st, &pending, &c.view())
                .status
                .is_success());
            let orig = st
                .read::<Rc<PreFilterState>>(PRE_FILTER_STATE_KEY)
                .unwrap()
                .clone();
            let n = &c.nodes[c.node_id(added.spec.node_name.as_deref().unwrap()).0 as usize];
            assert!(pl
                .add_pod(&mut st, &pending, &added, n, &c.view())
                .is_success());
            let got = st.read::<Rc<PreFilterState>>(PRE_FILTER_STATE_KEY).unwrap();
            let all_state = st_all
                .read::<Rc<PreFilterState>>(PRE_FILTER_STATE_KEY)
                .unwrap();
            {
                let interner = pl.interner.borrow();
                assert_eq!(
                    dump(&got.anti, &interner),
                    want_counts(want_anti),
                    "case {i} anti"
                );
                assert_eq!(
                    dump(&got.affinity, &interner),
                    want_counts(want_aff),
                    "case {i} aff"
                );
                for (a, b) in [
                    (&got.anti, &all_state.anti),
                    (&got.affinity, &all_state.affinity),
                    (&got.existing_anti, &all_state.existing_anti),
                ] {
                    assert_eq!(
                        dump(a, &interner),
                        dump(b, &interner),
                        "case {i} vs all pods"
                    );
                }
            }
            assert!(pl
                .remove_pod(&mut st, &pending, &added, n, &c.view())
                .is_success());
            let got = st.read::<Rc<PreFilterState>>(PRE_FILTER_STATE_KEY).unwrap();
            let interner = pl.interner.borrow();
            for (a, b) in [
                (&got.anti, &orig.anti),
                (&got.affinity, &orig.affinity),
                (&got.existing_anti, &orig.existing_anti),
            ] {
                assert_eq!(
                    dump(a, &interner),
                    dump(b, &interner),
                    "case {i} after remove"
                );
            }
        }
    }

    /// Upstream filtering_test.go `TestGetTPMapMatchingIncomingAffinityAntiAffinity`.
    #[test]
    fn incoming_affinity_anti_affinity_counts() {
        let normal = |ls: &[&str]| {
            let mut p = PB::new("normal").node("nodeA");
            for l in ls {
                p = p.label(l, "");
            }
            p.obj()
        };
        let h = "hostname";
        #[allow(clippy::type_complexity)]
        let cases: Vec<(
            &str,
            Vec<Pod>,
            Pod,
            &[(&str, &str, i64)],
            &[(&str, &str, i64)],
        )> = vec![
            ("nil test", vec![], PB::new("aaa-normal").obj(), &[], &[]),
            (
                "incoming pod without affinity is a no-op",
                vec![normal(&["aaa"])],
                PB::new("aaa-normal").obj(),
                &[],
                &[],
            ),
            (
                "no pod has the labels",
                vec![normal(&["bbb"])],
                PB::new("x").aff("aaa", h).anti("aaa", h).obj(),
                &[],
                &[],
            ),
            (
                "single term",
                vec![normal(&["aaa"])],
                PB::new("x").aff("aaa", h).anti("aaa", h).obj(),
                &[("hostname", "nodeA", 1)],
                &[("hostname", "nodeA", 1)],
            ),
            (
                "multiple terms",
                vec![normal(&["aaa", "bbb"])],
                PB::new("x")
                    .aff("aaa", h)
                    .aff("bbb", h)
                    .anti("aaa", h)
                    .obj(),
                &[("hostname", "nodeA", 2)],
                &[("hostname", "nodeA", 1)],
            ),
            (
                "affinity not matched, anti-affinity matched",
                vec![normal(&["aaa"])],
                PB::new("x")
                    .aff("aaa", h)
                    .aff("bbb", h)
                    .anti("aaa", h)
                    .anti("bbb", h)
                    .obj(),
                &[],
                &[("hostname", "nodeA", 1)],
            ),
            (
                "partial anti-affinity violation case 1",
                vec![normal(&["aaa", "bbb"])],
                PB::new("x")
                    .aff("aaa", h)
                    .aff("ccc", h)
                    .anti("aaa", h)
                    .anti("ccc", h)
                    .obj(),
                &[],
                &[("hostname", "nodeA", 1)],
            ),
            (
                "partial anti-affinity violation case 2",
                vec![normal(&["bbb"])],
                PB::new("x")
                    .aff("aaa", h)
                    .aff("bbb", h)
                    .anti("aaa", h)
                    .anti("bbb", h)
                    .obj(),
                &[],
                &[("hostname", "nodeA", 1)],
            ),
        ];
        assert_eq!(cases.len(), 8);
        for (name, pods, pod, want_aff, want_anti) in cases {
            let c = TestCluster::new(vec![node("nodeA", &[("hostname", "nodeA")])], pods);
            let pl = InterPodAffinity::new(InterPodAffinityArgs::default());
            let mut st = CycleState::default();
            let out = pl.pre_filter(&mut st, &pod, &c.view());
            let (aff, anti) = match st.read::<Rc<PreFilterState>>(PRE_FILTER_STATE_KEY) {
                Some(s) => {
                    let interner = pl.interner.borrow();
                    (dump(&s.affinity, &interner), dump(&s.anti, &interner))
                }
                None => {
                    assert!(out.status.is_skip(), "{name}");
                    (BTreeMap::new(), BTreeMap::new())
                }
            };
            assert_eq!(aff, want_counts(want_aff), "{name}: affinity");
            assert_eq!(anti, want_counts(want_anti), "{name}: anti-affinity");
        }
    }

    #[test]
    fn filter_without_pre_filter_is_an_error() {
        let c = TestCluster::new(vec![node("n", &[])], vec![]);
        let pl = InterPodAffinity::new(InterPodAffinityArgs::default());
        let st = CycleState::default();
        let s = pl.filter(&st, &PB::new("p").obj(), &c.nodes[0], &c.view());
        assert_eq!(s.code, Code::Error);
        assert_eq!(
            s.message(),
            "error reading \"PreFilterInterPodAffinity\" from cycleState: not found"
        );
    }

    /// Runs PreScore, Score on every node and NormalizeScore. `None` when
    /// PreScore returned Skip.
    fn run_score(
        args: InterPodAffinityArgs,
        pod: &Pod,
        nodes: Vec<Node>,
        pods: Vec<Pod>,
    ) -> Option<Vec<i64>> {
        let c = TestCluster::new(nodes, pods);
        let pl = InterPodAffinity::new(args);
        let mut st = CycleState::default();
        let ids: Vec<NodeId> = c.order.clone();
        let s = pl.pre_score(&mut st, pod, &ids, &c.view());
        if s.is_skip() {
            return None;
        }
        assert!(s.is_success(), "{s:?}");
        let mut scores: Vec<NodeScore> = ids
            .iter()
            .map(|&n| NodeScore {
                node: n,
                score: pl
                    .score(&st, pod, &c.nodes[n.0 as usize], &c.view())
                    .unwrap(),
            })
            .collect();
        assert!(pl.normalize_score(&st, pod, &mut scores).is_success());
        Some(scores.iter().map(|s| s.score).collect())
    }

    /// Upstream scoring_test.go `TestPreferredAffinity`.
    #[test]
    fn preferred_affinity() {
        let china = [("region", "China")];
        let india = [("region", "India")];
        let az1 = [("az", "az1")];
        let az2 = [("az", "az2")];
        let china_az1 = [("region", "China"), ("az", "az1")];
        let s1 = [("security", "S1")];
        let s2 = [("security", "S2")];
        let stay_s1 = |p: PB| p.aff_pref(5, "security in (S1)", "region");
        let stay_s2 = |p: PB| p.aff_pref(6, "security in (S2)", "region");
        let affinity3 = |p: PB| {
            p.aff_pref(8, "security notin (S1),security in (S2)", "region")
                .aff_pref(2, "security,!wrongkey", "region")
        };
        let hard = |p: PB| {
            p.aff("security in (S1,value2)", "region")
                .aff("security,!wrongkey", "region")
        };
        let away_s1 = |p: PB| p.anti_pref(5, "security in (S1)", "az");
        let away_s2 = |p: PB| p.anti_pref(5, "security in (S2)", "az");
        let stay_s1_away_s2 = |p: PB| {
            p.aff_pref(8, "security in (S1)", "region")
                .anti_pref(5, "security in (S2)", "az")
        };
        let ns_sel_term = || PodAffinityTerm {
            label_selector: Some(sel("security in (S1)")),
            namespaces: vec!["subteam2.team2".to_string()],
            namespace_selector: Some(sel("team in (team1)")),
            topology_key: "region".to_string(),
        };
        let aff_ns = |p: PB| p.aff_pref_term(5, ns_sel_term());
        let anti_ns = |p: PB| p.anti_pref_term(5, ns_sel_term());
        let on = |n: &str, l: &[(&str, &str)]| PB::new("e").node(n).labels(l);
        let nodes3 = |a: &[(&str, &str)], b: &[(&str, &str)], c: &[(&str, &str)]| {
            vec![node("node1", a), node("node2", b), node("node3", c)]
        };
        #[allow(clippy::type_complexity)]
        let cases: Vec<(&str, bool, Pod, Vec<Pod>, Vec<Node>, Option<Vec<i64>>)> = vec![
            (
                "all nodes same priority as Affinity is nil",
                false,
                PB::new("in").labels(&s1).obj(),
                vec![],
                nodes3(&china, &india, &az1),
                None,
            ),
            (
                "Affinity: matching topology key and pods gets high score",
                false,
                stay_s1(PB::new("in").labels(&s1)).obj(),
                vec![
                    on("node1", &s1).obj(),
                    on("node2", &s2).obj(),
                    on("node3", &s1).obj(),
                ],
                nodes3(&china, &india, &az1),
                Some(vec![100, 0, 0]),
            ),
            (
                "same topology value as a node with a matching pod: same score",
                false,
                stay_s1(PB::new("in")).obj(),
                vec![on("node1", &s1).obj()],
                nodes3(&china, &china_az1, &india),
                Some(vec![100, 100, 0]),
            ),
            (
                "Affinity: the region with more matches gets the high score",
                false,
                stay_s2(PB::new("in").labels(&s1)).obj(),
                vec![
                    on("node1", &s2).obj(),
                    on("node1", &s2).obj(),
                    on("node2", &s2).obj(),
                    on("node3", &s2).obj(),
                    on("node4", &s2).obj(),
                    on("node5", &s2).obj(),
                ],
                vec![
                    node("node1", &china),
                    node("node2", &india),
                    node("node3", &china),
                    node("node4", &china),
                    node("node5", &india),
                ],
                Some(vec![100, 0, 100, 100, 0]),
            ),
            (
                "Affinity: different label operators, some match failures",
                false,
                affinity3(PB::new("in").labels(&s1)).obj(),
                vec![
                    on("node1", &s1).obj(),
                    on("node2", &s2).obj(),
                    on("node3", &s1).obj(),
                ],
                nodes3(&china, &india, &az1),
                Some(vec![20, 100, 0]),
            ),
            (
                "Affinity symmetry: preferred terms of existing pods",
                false,
                PB::new("in").labels(&s2).obj(),
                vec![
                    stay_s1(on("node1", &s1)).obj(),
                    stay_s2(on("node2", &s2)).obj(),
                ],
                nodes3(&china, &india, &az1),
                Some(vec![0, 100, 0]),
            ),
            (
                "Affinity symmetry with namespace selector",
                false,
                PB::new("in").ns("subteam1.team1").labels(&s1).obj(),
                vec![
                    aff_ns(on("node1", &s1)).obj(),
                    stay_s2(on("node2", &s2)).obj(),
                ],
                nodes3(&china, &india, &az1),
                Some(vec![100, 0, 0]),
            ),
            (
                "AntiAffinity symmetry with namespace selector",
                false,
                PB::new("in").ns("subteam1.team1").labels(&s1).obj(),
                vec![
                    anti_ns(on("node1", &s1)).obj(),
                    stay_s2(on("node2", &s2)).obj(),
                ],
                nodes3(&china, &india, &az1),
                Some(vec![0, 100, 100]),
            ),
            (
                "Affinity symmetry: required terms of existing pods",
                false,
                PB::new("in").labels(&s1).obj(),
                vec![hard(on("node1", &s1)).obj(), hard(on("node2", &s2)).obj()],
                nodes3(&china, &india, &az1),
                Some(vec![100, 100, 0]),
            ),
            (
                "Anti Affinity: pod that does not match existing pods gets high score",
                false,
                away_s1(PB::new("in").labels(&s1)).obj(),
                vec![on("node1", &s1).obj(), on("node2", &s2).obj()],
                vec![node("node1", &az1), node("node2", &china)],
                Some(vec![0, 100]),
            ),
            (
                "Anti Affinity: not matching the topology key gets higher score",
                false,
                away_s1(PB::new("in").labels(&s1)).obj(),
                vec![on("node1", &s1).obj(), on("node2", &s1).obj()],
                vec![node("node1", &az1), node("node2", &china)],
                Some(vec![0, 100]),
            ),
            (
                "Anti Affinity: the node with more matches gets the low score",
                false,
                away_s1(PB::new("in").labels(&s1)).obj(),
                vec![
                    on("node1", &s1).obj(),
                    on("node1", &s1).obj(),
                    on("node2", &s2).obj(),
                ],
                vec![node("node1", &az1), node("node2", &india)],
                Some(vec![0, 100]),
            ),
            (
                "Anti Affinity symmetry",
                false,
                PB::new("in").labels(&s2).obj(),
                vec![
                    away_s2(on("node1", &s1)).obj(),
                    away_s1(on("node2", &s2)).obj(),
                ],
                vec![node("node1", &az1), node("node2", &az2)],
                Some(vec![0, 100]),
            ),
            (
                "Affinity and Anti Affinity: preferred terms",
                false,
                stay_s1_away_s2(PB::new("in").labels(&s1)).obj(),
                vec![on("node1", &s1).obj(), on("node2", &s1).obj()],
                vec![node("node1", &china), node("node2", &az1)],
                Some(vec![100, 0]),
            ),
            (
                "Affinity and Anti Affinity: same labels as existing pods",
                false,
                stay_s1_away_s2(PB::new("in").labels(&s1)).obj(),
                vec![
                    on("node1", &s1).obj(),
                    on("node1", &s1).obj(),
                    on("node2", &s1).obj(),
                    on("node3", &s1).obj(),
                    on("node3", &s1).obj(),
                    on("node4", &s1).obj(),
                    on("node5", &s1).obj(),
                ],
                vec![
                    node("node1", &china_az1),
                    node("node2", &india),
                    node("node3", &china),
                    node("node4", &china),
                    node("node5", &india),
                ],
                Some(vec![100, 0, 100, 100, 0]),
            ),
            (
                "Affinity, Anti Affinity and symmetry",
                false,
                stay_s1_away_s2(PB::new("in").labels(&s1)).obj(),
                vec![
                    on("node1", &s1).obj(),
                    on("node2", &s2).obj(),
                    stay_s1_away_s2(on("node3", &[])).obj(),
                    away_s1(on("node4", &[])).obj(),
                ],
                vec![
                    node("node1", &china),
                    node("node2", &az1),
                    node("node3", &india),
                    node("node4", &az2),
                ],
                Some(vec![100, 0, 100, 0]),
            ),
            (
                "Avoid panic when partial nodes in a topology don't have pods with affinity",
                false,
                PB::new("in").labels(&s1).obj(),
                vec![
                    on("node1", &s1).obj(),
                    stay_s1_away_s2(on("node2", &[])).obj(),
                ],
                vec![node("node1", &china), node("node2", &china)],
                Some(vec![0, 0]),
            ),
            (
                "Affinity with pods matching NamespaceSelector",
                false,
                aff_ns(PB::new("in").ns("subteam1.team1").labels(&s1)).obj(),
                vec![
                    on("node1", &s1).ns("subteam1.team1").obj(),
                    on("node1", &s1).ns("subteam1.team1").obj(),
                    on("node1", &s1).ns("subteam1.team2").obj(),
                    on("node2", &s1).ns("subteam2.team1").obj(),
                ],
                vec![node("node1", &china), node("node2", &india)],
                Some(vec![100, 0]),
            ),
            (
                "Affinity with pods matching both NamespaceSelector and Namespaces",
                false,
                aff_ns(PB::new("in").ns("subteam1.team1").labels(&s1)).obj(),
                vec![
                    on("node1", &s1).ns("subteam1.team1").obj(),
                    on("node1", &s1).ns("subteam1.team1").obj(),
                    on("node1", &s1).ns("subteam2.team2").obj(),
                    on("node2", &s1).ns("subteam2.team1").obj(),
                ],
                vec![node("node1", &china), node("node2", &india)],
                Some(vec![100, 0]),
            ),
            (
                "Anti-affinity with pods matching NamespaceSelector",
                false,
                anti_ns(PB::new("in").ns("subteam1.team1").labels(&s1)).obj(),
                vec![
                    on("node1", &s1).ns("subteam1.team1").obj(),
                    on("node1", &s1).ns("subteam1.team1").obj(),
                    on("node1", &s1).ns("subteam1.team2").obj(),
                    on("node2", &s1).ns("subteam2.team1").obj(),
                ],
                vec![node("node1", &china), node("node2", &india)],
                Some(vec![0, 100]),
            ),
            (
                "Anti-affinity with pods matching both NamespaceSelector and Namespaces",
                false,
                anti_ns(PB::new("in").ns("subteam1.team1").labels(&s1)).obj(),
                vec![
                    on("node1", &s1).ns("subteam1.team1").obj(),
                    on("node1", &s1).ns("subteam1.team1").obj(),
                    on("node1", &s1).ns("subteam2.team2").obj(),
                    on("node2", &s1).ns("subteam2.team1").obj(),
                ],
                vec![node("node1", &china), node("node2", &india)],
                Some(vec![0, 100]),
            ),
            (
                "Ignore preferred terms of existing pods",
                true,
                PB::new("in").labels(&s2).obj(),
                vec![
                    stay_s1_away_s2(on("node1", &s1)).obj(),
                    stay_s2(on("node2", &s2)).obj(),
                ],
                vec![node("node1", &china), node("node2", &india)],
                None,
            ),
            (
                "Do not ignore preferred terms of existing pods",
                false,
                PB::new("in").labels(&s2).obj(),
                vec![
                    stay_s1_away_s2(on("node1", &s1)).obj(),
                    stay_s2(on("node2", &s2)).obj(),
                ],
                vec![node("node1", &china), node("node2", &india)],
                Some(vec![0, 100]),
            ),
            (
                "No nodes to score",
                false,
                PB::new("in").labels(&s2).obj(),
                vec![],
                vec![],
                None,
            ),
        ];
        assert_eq!(cases.len(), 24);
        for (name, ignore, pod, pods, nodes, want) in cases {
            let args = InterPodAffinityArgs {
                hard_pod_affinity_weight: 1,
                ignore_preferred_terms_of_existing_pods: ignore,
            };
            assert_eq!(run_score(args, &pod, nodes, pods), want, "{name}");
        }
    }

    /// Upstream scoring_test.go `TestPreferredAffinityWithHardPodAffinitySymmetricWeight`.
    #[test]
    fn preferred_affinity_with_hard_pod_affinity_weight() {
        let hard = || PodAffinityTerm {
            label_selector: Some(sel("service in (S1)")),
            namespaces: vec!["".to_string(), "subteam2.team2".to_string()],
            namespace_selector: Some(sel("team in (team1)")),
            topology_key: "region".to_string(),
        };
        let nodes = || {
            vec![
                node("node1", &[("region", "China")]),
                node("node2", &[("region", "India")]),
                node("node3", &[("az", "az1")]),
            ]
        };
        let pods = || {
            vec![
                PB::new("a").node("node1").aff_term(hard()).obj(),
                PB::new("b").node("node2").aff_term(hard()).obj(),
            ]
        };
        let cases: Vec<(&str, &str, i32, Option<Vec<i64>>)> = vec![
            ("with default weight", "", 1, Some(vec![100, 100, 0])),
            ("with zero weight", "", 0, None),
            ("with no matching namespace", "subteam1.team2", 1, None),
            (
                "with matching NamespaceSelector",
                "subteam1.team1",
                1,
                Some(vec![100, 100, 0]),
            ),
            (
                "with matching Namespaces",
                "subteam2.team2",
                1,
                Some(vec![100, 100, 0]),
            ),
        ];
        for (name, ns, w, want) in cases {
            let pod = PB::new("in").ns(ns).label("service", "S1").obj();
            let args = InterPodAffinityArgs {
                hard_pod_affinity_weight: w,
                ignore_preferred_terms_of_existing_pods: false,
            };
            assert_eq!(run_score(args, &pod, nodes(), pods()), want, "{name}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]

        /// The incremental PreFilter/PreScore states (replayed from the pod
        /// change log) give exactly the Filter and Score results of a
        /// rebuild, as pods come and go.
        #[test]
        fn incremental_state_equals_rebuild(
            ops in proptest::collection::vec((0usize..6, 0usize..5, proptest::prelude::any::<bool>()), 1..40),
        ) {
            use crate::scheduler::incremental::PodChangeLog;
            let nodes: Vec<Node> = (0..5)
                .map(|i| {
                    let name = format!("n{i}");
                    let zone = format!("z{}", i % 2);
                    let mut n = node(&name, &[("zone", &zone), ("kubernetes.io/hostname", &name)]);
                    if i == 4 {
                        n.meta.labels.remove("zone");
                    }
                    n
                })
                .collect();
            let templates: Vec<Pod> = vec![
                PB::new("t0").label("app", "a").anti("app=a", "kubernetes.io/hostname").obj(),
                PB::new("t1").label("app", "b").aff("app=a", "zone").obj(),
                PB::new("t2").label("app", "a").aff_pref(7, "app=b", "zone").anti_pref(3, "app=a", "kubernetes.io/hostname").obj(),
                PB::new("t3").label("app", "c").obj(),
                PB::new("t4").label("app", "b").anti("app=b", "zone").aff_pref(2, "app in (a,c)", "kubernetes.io/hostname").obj(),
                PB::new("t5").ns("ns1").label("app", "a").aff("app=a", "zone").obj(),
            ];
            let incoming: Vec<Pod> = templates
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let mut p = t.clone();
                    p.meta.name = format!("in{i}");
                    p.sched_signature = 1000 + i as u64;
                    p
                })
                .collect();
            let mut c = TestCluster::new(nodes, vec![]);
            let mut log = PodChangeLog::default();
            let inc = InterPodAffinity::new(InterPodAffinityArgs::default());
            let mut placed: Vec<(PodId, NodeId)> = Vec::new();
            for (t, n, remove) in ops {
                if remove && !placed.is_empty() {
                    let (id, nid) = placed.remove(t % placed.len());
                    c.unplace(id, nid);
                    log.record(id, nid, false, false);
                } else {
                    let mut p = templates[t].clone();
                    p.meta.name = format!("p{}", c.pods.len());
                    let id = c.add(p);
                    c.place(id, NodeId(n as u32));
                    log.record(id, NodeId(n as u32), true, false);
                    placed.push((id, NodeId(n as u32)));
                }
                for pod in &incoming {
                    let fresh = InterPodAffinity::new(InterPodAffinityArgs::default());
                    let (va, vb) = (c.view_with(&log), c.view());
                    let (mut sa, mut sb) = (CycleState::default(), CycleState::default());
                    let oa = inc.pre_filter(&mut sa, pod, &va);
                    let ob = fresh.pre_filter(&mut sb, pod, &vb);
                    proptest::prop_assert_eq!(oa.status.code, ob.status.code);
                    if oa.status.is_success() {
                        for node in &c.nodes {
                            let fa = inc.filter(&sa, pod, node, &va);
                            let fb = fresh.filter(&sb, pod, node, &vb);
                            proptest::prop_assert_eq!((fa.code, fa.reasons), (fb.code, fb.reasons));
                        }
                    }
                    let ids = c.order.clone();
                    let pa = inc.pre_score(&mut sa, pod, &ids, &va);
                    let pb = fresh.pre_score(&mut sb, pod, &ids, &vb);
                    proptest::prop_assert_eq!(pa.code, pb.code);
                    if pa.is_success() {
                        let mut ra = Vec::new();
                        let mut rb = Vec::new();
                        for &n in &ids {
                            let node = &c.nodes[n.0 as usize];
                            ra.push(NodeScore { node: n, score: inc.score(&sa, pod, node, &va).unwrap() });
                            rb.push(NodeScore { node: n, score: fresh.score(&sb, pod, node, &vb).unwrap() });
                        }
                        let _ = inc.normalize_score(&sa, pod, &mut ra);
                        let _ = fresh.normalize_score(&sb, pod, &mut rb);
                        let a: Vec<i64> = ra.iter().map(|x| x.score).collect();
                        let b: Vec<i64> = rb.iter().map(|x| x.score).collect();
                        proptest::prop_assert_eq!(a, b);
                    }
                }
            }
        }
    }

    #[test]
    fn normalize_truncates_like_upstream() {
        // scores -5, 0, 7 → (s+5)/12*100 truncated: 0, 41, 100.
        let mut st = CycleState::default();
        st.write(
            PRE_SCORE_STATE_KEY,
            Rc::new(PreScoreState {
                scores: FxMap::default(),
                keys: vec![(0, Rc::from("k"))],
                key_refs: vec![1],
                aff_terms: Rc::new(vec![]),
                anti_terms: Rc::new(vec![]),
                ns_labels: Rc::new(Labels::new()),
                hard: 1,
            }),
        );
        let pl = InterPodAffinity::new(InterPodAffinityArgs::default());
        let mut s: Vec<NodeScore> = [-5i64, 0, 7]
            .iter()
            .enumerate()
            .map(|(i, &v)| NodeScore {
                node: NodeId(i as u32),
                score: v,
            })
            .collect();
        assert!(pl
            .normalize_score(&st, &PB::new("p").obj(), &mut s)
            .is_success());
        assert_eq!(
            s.iter().map(|x| x.score).collect::<Vec<_>>(),
            vec![0, 41, 100]
        );
    }
}
