//! `default`: kube-scheduler's scheduling cycle over the configured
//! profiles (upstream pkg/scheduler/schedule_one.go): PreFilter, the
//! nominated node first, Filter over a rotating window of
//! `percentageOfNodesToScore` nodes, extenders, PostFilter (preemption) on
//! failure, PreScore/Score/NormalizeScore with weights, a uniformly random
//! choice among the best nodes, Reserve and Permit; the binding cycle runs
//! when the World binds.
//!
//! Deviation: upstream filters nodes in parallel, so which nodes it
//! evaluates beyond the ones it needs varies run to run; kubesim evaluates
//! them in order, the deterministic reading of the same rule.

use std::collections::BTreeMap;

use super::cache::NodeCache;
use super::config::SchedulerConfig;
use super::explain::{Explanation, NodeVerdict, PluginScore, PluginVerdict};
use super::extender::{self, Extender};
use super::framework::{ClusterView, Code, CycleState, PermitDecision, Status};
use super::profile::{Profile, SeededHandle};
use super::{Decision, ScheduleResult, SchedulingPolicy};
use crate::engine::{SimRng, SimTime, Stream};
use crate::model::{NodeId, Pod, PodId};

/// Upstream `minFeasibleNodesToFind`, `minFeasibleNodesPercentageToFind`.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: i64 = 5;

/// Upstream `numFeasibleNodesToFind`.
pub fn num_feasible_nodes_to_find(percentage: i32, num_all_nodes: usize) -> usize {
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return num_all_nodes;
    }
    let n = num_all_nodes as i64;
    let mut pct = i64::from(percentage);
    if pct == 0 {
        pct = 50 - n / 125;
        if pct < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND {
            pct = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
        }
    }
    let num = n * pct / 100;
    if num < MIN_FEASIBLE_NODES_TO_FIND as i64 {
        return MIN_FEASIBLE_NODES_TO_FIND;
    }
    num as usize
}

/// Upstream `FitError.Error()`: `0/N nodes are available: <histogram>.`
/// plus the PreFilter and PostFilter messages.
pub fn fit_error_message(
    num_all_nodes: usize,
    prefilter_msg: &str,
    statuses: &BTreeMap<NodeId, Status>,
    absent: Option<&Status>,
    postfilter_msg: &str,
) -> String {
    let mut msg = format!("0/{num_all_nodes} nodes are available:");
    if !prefilter_msg.is_empty() {
        msg.push_str(&format!(" {prefilter_msg}."));
    } else {
        let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
        for s in statuses.values() {
            for r in &s.reasons {
                *reasons.entry(r.as_str()).or_insert(0) += 1;
            }
        }
        if statuses.len() < num_all_nodes {
            if let Some(a) = absent {
                for r in &a.reasons {
                    *reasons.entry(r.as_str()).or_insert(0) += num_all_nodes - statuses.len();
                }
            }
        }
        let mut parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
        parts.sort();
        if !parts.is_empty() {
            msg.push_str(&format!(" {}.", parts.join(", ")));
        }
    }
    if !postfilter_msg.is_empty() {
        // Upstream appends the PostFilter message as is (" %v", no period).
        msg.push_str(&format!(" {postfilter_msg}"));
    }
    msg
}

/// The index of a uniformly random one of the highest `totals` (upstream
/// `selectHost`). Upstream draws once per tied node as it meets them
/// (reservoir sampling); kubesim counts the ties and draws once, which
/// gives every tied node the same chance with one random number instead of
/// one per tie. `totals` is not empty.
pub fn select_best(totals: &[i64], rng: &mut SimRng) -> usize {
    let mut max = i64::MIN;
    let mut first = 0usize;
    let mut ties = 0u64;
    for (k, &t) in totals.iter().enumerate() {
        if t > max {
            max = t;
            first = k;
            ties = 1;
        } else if t == max {
            ties += 1;
        }
    }
    if ties <= 1 {
        return first;
    }
    let pick = rng.below(ties) as usize;
    totals[first..]
        .iter()
        .enumerate()
        .filter(|(_, &t)| t == max)
        .nth(pick)
        .map_or(first, |(k, _)| first + k)
}

pub struct KubeScheduler {
    profiles: Vec<Profile>,
    percentage_of_nodes_to_score: i32,
    next_start_node_index: usize,
    extenders: Vec<Box<dyn Extender>>,
    /// Cycle states of pods between their scheduling and binding cycles.
    states: BTreeMap<PodId, (usize, CycleState)>,
    /// Node-local results reused across identical pods, per profile.
    caches: Vec<NodeCache>,
    cache_enabled: bool,
    /// The `preemption` stream (DefaultPreemption's candidate offset),
    /// derived from the run's seed ([`SchedulingPolicy::set_seed`]; seed 0
    /// until then).
    preemption_rng: SimRng,
    /// The per-node totals of the last cycle (a buffer reused).
    totals_buf: Vec<i64>,
    /// The plugins that rejected the pod of the last cycle (upstream
    /// `Diagnosis.UnschedulablePlugins`), for QueueingHints.
    last_rejectors: Vec<&'static str>,
}

impl KubeScheduler {
    pub fn new(cfg: &SchedulerConfig) -> Result<KubeScheduler, String> {
        let mut profiles = Vec::new();
        for p in &cfg.profiles {
            if profiles
                .iter()
                .any(|x: &Profile| x.name == p.scheduler_name)
            {
                return Err(format!(
                    "duplicate profile with schedulerName {:?}",
                    p.scheduler_name
                ));
            }
            profiles.push(Profile::new(p)?);
        }
        // Upstream: every profile must use the same queueSort plugin.
        let sorts: Vec<&str> = profiles
            .iter()
            .filter_map(|p| p.queue_sort.map(|i| p.plugin(i).name()))
            .collect();
        if sorts.windows(2).any(|w| w[0] != w[1]) {
            return Err("all profiles must use the same queueSort plugin".to_string());
        }
        let extenders = cfg
            .extenders
            .iter()
            .map(extender::new_extender)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(KubeScheduler {
            profiles,
            percentage_of_nodes_to_score: cfg.percentage_of_nodes_to_score,
            next_start_node_index: 0,
            extenders,
            states: BTreeMap::new(),
            caches: (0..cfg.profiles.len())
                .map(|_| NodeCache::default())
                .collect(),
            cache_enabled: cfg.node_cache,
            preemption_rng: SimRng::derive(0, Stream::Preemption.name()),
            totals_buf: Vec::new(),
            last_rejectors: Vec::new(),
        })
    }

    pub fn profiles(&self) -> &[Profile] {
        &self.profiles
    }

    fn profile_index(&self, scheduler_name: &str) -> Option<usize> {
        self.profiles.iter().position(|p| p.name == scheduler_name)
    }

    fn has_extender_filters(&self) -> bool {
        self.extenders.iter().any(|e| e.is_filter())
    }
    fn has_extender_prioritizers(&self) -> bool {
        self.extenders.iter().any(|e| e.is_prioritizer())
    }
}

fn verdict(s: &Status) -> PluginVerdict {
    PluginVerdict {
        plugin: s.plugin.to_string(),
        code: format!("{:?}", s.code),
        reasons: s.reasons.clone(),
    }
}

impl SchedulingPolicy for KubeScheduler {
    fn name(&self) -> &str {
        "default"
    }

    fn handles(&self, scheduler_name: &str) -> bool {
        self.profile_index(scheduler_name).is_some()
    }

    fn set_seed(&mut self, seed: u64) {
        self.preemption_rng = SimRng::derive(seed, Stream::Preemption.name());
    }

    fn custom_queue_order(&self) -> bool {
        self.profiles
            .first()
            .and_then(|p| p.queue_sort.map(|i| p.plugin(i).name()))
            .is_some_and(|n| n != "PrioritySort")
    }

    fn less(&self, a: &Pod, ta: SimTime, b: &Pod, tb: SimTime) -> bool {
        match self
            .profiles
            .first()
            .and_then(|p| p.queue_sort.map(|i| p.plugin(i)))
        {
            Some(p) => p.less(a, ta, b, tb),
            None => super::plugins::priority_sort::less(a, ta, b, tb),
        }
    }

    fn schedule(
        &mut self,
        pod_id: PodId,
        view: &ClusterView,
        rng: &mut SimRng,
        explain: bool,
    ) -> ScheduleResult {
        // Without the node cache, plugins also rebuild their state every
        // cycle (the property tests compare both ways).
        let uncached;
        let view = if self.cache_enabled {
            view
        } else {
            uncached = ClusterView {
                pod_changes: None,
                ..*view
            };
            &uncached
        };
        self.last_rejectors.clear();
        let pod = view.pod(pod_id);
        let Some(pi) = self.profile_index(&pod.spec.scheduler_name) else {
            return ScheduleResult::new(
                Decision::Error(format!(
                    "profile not found for scheduler name {:?}",
                    pod.spec.scheduler_name
                )),
                0,
            );
        };
        let mut exp = explain.then(|| Explanation {
            pod: pod.meta.key(),
            at_us: view.now.as_micros(),
            attempt: pod.status.scheduling_attempts,
            profile: self.profiles[pi].name.clone(),
            ..Default::default()
        });
        let all = view.node_order;
        if all.is_empty() {
            let msg = "no nodes available to schedule pods".to_string();
            if let Some(e) = exp.as_mut() {
                e.message = Some(msg.clone());
            }
            return ScheduleResult {
                decision: Decision::Unschedulable {
                    message: msg,
                    nominated: None,
                },
                nodes_evaluated: 0,
                explanation: exp,
            };
        }
        let prof = &self.profiles[pi];
        let mut state = CycleState::default();
        let mut statuses: BTreeMap<NodeId, Status> = BTreeMap::new();
        let mut evaluated: u32 = 0;

        // PreFilter.
        let (restrict, st, narrowing) = prof.run_pre_filter(&mut state, pod, view);
        let mut absent: Option<Status> = None;
        let mut prefilter_msg = String::new();
        let mut feasible: Vec<NodeId> = Vec::new();
        let mut chosen: Option<NodeId> = None;
        let mut fit_failed = false;
        if !st.is_success() {
            if !st.is_rejected() {
                return ScheduleResult {
                    decision: Decision::Error(st.message()),
                    nodes_evaluated: 0,
                    explanation: exp,
                };
            }
            prefilter_msg = st.message();
            if let Some(e) = exp.as_mut() {
                e.prefilter = Some(verdict(&st));
            }
            absent = Some(st);
            fit_failed = true;
        } else {
            // The nominated node (set by an earlier preemption) first.
            if let Some(nn) = pod.status.nominated_node {
                if view.node(nn).present {
                    evaluated += 1;
                    let s = prof.run_filters_with_nominated(
                        &state,
                        pod_id,
                        pod,
                        nn,
                        view.node(nn),
                        view,
                    );
                    if s.is_success() {
                        let mut ok = vec![nn];
                        if self.has_extender_filters() {
                            match extender::run_filters(
                                &mut self.extenders,
                                pod,
                                &ok,
                                view,
                                &mut statuses,
                            ) {
                                Ok(v) => ok = v,
                                Err(e) => {
                                    return ScheduleResult {
                                        decision: Decision::Error(e),
                                        nodes_evaluated: evaluated,
                                        explanation: exp,
                                    }
                                }
                            }
                        }
                        if ok.len() == 1 {
                            chosen = Some(nn);
                            feasible = ok;
                        }
                    }
                }
            }
            if chosen.is_none() {
                let restricted: Vec<NodeId>;
                let nodes: &[NodeId] = match &restrict {
                    Some(set) => {
                        absent = Some(Status::unresolvable(format!(
                            "node(s) didn't satisfy plugin(s) [{}]",
                            narrowing.join(" ")
                        )));
                        restricted = set
                            .iter()
                            .copied()
                            .filter(|n| view.node(*n).present)
                            .collect();
                        &restricted
                    }
                    None => all,
                };
                let n = nodes.len();
                let mut to_find = num_feasible_nodes_to_find(
                    prof.percentage_of_nodes_to_score
                        .unwrap_or(self.percentage_of_nodes_to_score),
                    n,
                );
                if !self.has_extender_filters()
                    && !prof.has_score_plugins()
                    && !self.has_extender_prioritizers()
                {
                    to_find = 1.min(n);
                }
                let mut processed = 0usize;
                feasible.reserve(to_find.min(n));
                let active = prof.active_filters(&state);
                let local = prof.local_mask(&active);
                let cache_on = self.cache_enabled;
                let cache = &mut self.caches[pi];
                // A cached Pass is the whole verdict when every active
                // Filter plugin is node-local and no pod is nominated to
                // the node (checked per node only if any pod is).
                let sig = pod.sched_signature;
                let pass_from_cache = cache_on && sig != 0 && local.iter().all(|l| *l);
                let none_nominated = view.nominated.is_empty();
                if n > 0 {
                    let start = self.next_start_node_index % n;
                    if !prof.has_filter_plugins() {
                        for i in 0..to_find.min(n) {
                            feasible.push(nodes[(start + i) % n]);
                        }
                    } else {
                        // Nodes from `start`, wrapping around (an index
                        // that wraps rather than a division per node).
                        let mut idx = start;
                        for _ in 0..n {
                            let nid = nodes[idx];
                            idx += 1;
                            if idx == n {
                                idx = 0;
                            }
                            let node = view.node(nid);
                            processed += 1;
                            if pass_from_cache
                                && exp.is_none()
                                && (none_nominated
                                    || view.nominated.get(&nid).is_none_or(|v| v.is_empty()))
                                && cache.cached_pass(nid, sig, node.generation)
                            {
                                feasible.push(nid);
                                if feasible.len() >= to_find {
                                    break;
                                }
                                continue;
                            }
                            let s = if cache_on {
                                cache.filter(
                                    prof, &active, &local, &state, pod_id, pod, nid, node, view,
                                )
                            } else {
                                prof.run_filters_with_nominated_in(
                                    &active, &state, pod_id, pod, nid, node, view,
                                )
                            };
                            if s.is_success() {
                                feasible.push(nid);
                                if let Some(e) = exp.as_mut() {
                                    e.nodes.push(NodeVerdict {
                                        node: node.name().to_string(),
                                        feasible: true,
                                        ..Default::default()
                                    });
                                }
                                if feasible.len() >= to_find {
                                    break;
                                }
                            } else if s.code == Code::Error {
                                self.next_start_node_index =
                                    (self.next_start_node_index + processed) % all.len();
                                return ScheduleResult {
                                    decision: Decision::Error(s.message()),
                                    nodes_evaluated: evaluated + processed as u32,
                                    explanation: exp,
                                };
                            } else {
                                if let Some(e) = exp.as_mut() {
                                    e.nodes.push(NodeVerdict {
                                        node: node.name().to_string(),
                                        feasible: false,
                                        rejected_by: Some(verdict(&s)),
                                        ..Default::default()
                                    });
                                }
                                statuses.insert(nid, s);
                            }
                        }
                    }
                }
                evaluated += processed as u32;
                self.next_start_node_index = (self.next_start_node_index + processed) % all.len();
                if !feasible.is_empty() && self.has_extender_filters() {
                    match extender::run_filters(
                        &mut self.extenders,
                        pod,
                        &feasible,
                        view,
                        &mut statuses,
                    ) {
                        Ok(v) => {
                            if let Some(e) = exp.as_mut() {
                                for n in feasible.iter().filter(|n| !v.contains(n)) {
                                    let name = view.node(*n).name();
                                    if let Some(nv) = e.nodes.iter_mut().find(|x| x.node == name) {
                                        nv.feasible = false;
                                        nv.rejected_by = statuses.get(n).map(verdict);
                                    }
                                }
                            }
                            feasible = v;
                        }
                        Err(e) => {
                            return ScheduleResult {
                                decision: Decision::Error(e),
                                nodes_evaluated: evaluated,
                                explanation: exp,
                            }
                        }
                    }
                }
                if feasible.is_empty() {
                    fit_failed = true;
                } else if feasible.len() == 1 {
                    chosen = Some(feasible[0]);
                }
            }
        }

        if fit_failed {
            let mut postfilter_msg = String::new();
            let mut nominated = None;
            let prof = &self.profiles[pi];
            if prof.has_post_filter_plugins() {
                // A PreFilter rejection applies to every node (upstream
                // `SetAbsentNodesStatus`), so preemption sees it per node.
                if let Some(a) = &absent {
                    for n in all {
                        statuses.entry(*n).or_insert_with(|| a.clone());
                    }
                }
                let handle = SeededHandle {
                    profile: prof,
                    rng: std::cell::RefCell::new(&mut self.preemption_rng),
                };
                let r = prof.run_post_filter_with(&state, pod_id, pod, &statuses, view, &handle);
                postfilter_msg = r.status.message();
                if r.status.code == Code::Error {
                    return ScheduleResult {
                        decision: Decision::Error(postfilter_msg),
                        nodes_evaluated: evaluated,
                        explanation: exp,
                    };
                }
                nominated = r.nominated;
            }
            self.last_rejectors = unschedulable_plugins(&narrowing, absent.as_ref(), &statuses);
            let message = fit_error_message(
                all.len(),
                &prefilter_msg,
                &statuses,
                absent.as_ref(),
                &postfilter_msg,
            );
            if let Some(e) = exp.as_mut() {
                e.message = Some(message.clone());
                e.nodes_evaluated = evaluated;
                if let Some((n, victims)) = &nominated {
                    e.nominated = Some(view.node(*n).name().to_string());
                    e.victims = victims.iter().map(|v| view.pod(*v).meta.key()).collect();
                }
            }
            return ScheduleResult {
                decision: Decision::Unschedulable { message, nominated },
                nodes_evaluated: evaluated,
                explanation: exp,
            };
        }

        // Scoring (skipped when one node is left).
        let prof = &self.profiles[pi];
        let node = match chosen {
            Some(n) => n,
            None => {
                // Reused across cycles (no allocation per cycle).
                let mut totals = std::mem::take(&mut self.totals_buf);
                totals.clear();
                totals.resize(feasible.len(), 0);
                if prof.has_score_plugins() || self.has_extender_prioritizers() {
                    let s = prof.run_pre_score(&mut state, pod, &feasible, view);
                    if !s.is_success() {
                        return ScheduleResult {
                            decision: Decision::Error(s.message()),
                            nodes_evaluated: evaluated,
                            explanation: exp,
                        };
                    }
                    let cache = if self.cache_enabled {
                        Some(&mut self.caches[pi])
                    } else {
                        None
                    };
                    let per_plugin = if exp.is_none() {
                        // Only the totals are needed.
                        match prof.run_score_totals(
                            &state,
                            pod,
                            &feasible,
                            view,
                            cache,
                            &mut totals,
                        ) {
                            Ok(()) => Vec::new(),
                            Err(s) => {
                                return ScheduleResult {
                                    decision: Decision::Error(s.message()),
                                    nodes_evaluated: evaluated,
                                    explanation: exp,
                                }
                            }
                        }
                    } else {
                        match prof.run_score(&state, pod, &feasible, view, cache) {
                            Ok(v) => v,
                            Err(s) => {
                                return ScheduleResult {
                                    decision: Decision::Error(s.message()),
                                    nodes_evaluated: evaluated,
                                    explanation: exp,
                                }
                            }
                        }
                    };
                    for (name, w, raw, norm) in &per_plugin {
                        for (k, ns) in norm.iter().enumerate() {
                            totals[k] += ns.score * w;
                            if let Some(e) = exp.as_mut() {
                                let nn = view.node(ns.node).name();
                                if let Some(v) = e.nodes.iter_mut().rev().find(|v| v.node == nn) {
                                    v.scores.push(PluginScore {
                                        plugin: name.to_string(),
                                        raw: raw[k],
                                        normalized: ns.score,
                                        weight: *w,
                                        weighted: ns.score * w,
                                    });
                                }
                            }
                        }
                    }
                    if self.has_extender_prioritizers() {
                        let ext =
                            extender::run_prioritizers(&mut self.extenders, pod, &feasible, view);
                        for (k, n) in feasible.iter().enumerate() {
                            if let Some(list) = ext.get(n) {
                                for (name, score) in list {
                                    totals[k] += score;
                                    if let Some(e) = exp.as_mut() {
                                        let nn = view.node(*n).name();
                                        if let Some(v) =
                                            e.nodes.iter_mut().rev().find(|v| v.node == nn)
                                        {
                                            v.scores.push(PluginScore {
                                                plugin: name.clone(),
                                                raw: *score,
                                                normalized: *score,
                                                weight: 1,
                                                weighted: *score,
                                            });
                                        }
                                    }
                                }
                            }
                        }
                    }
                } else {
                    totals.iter_mut().for_each(|t| *t = 1);
                }
                if let Some(e) = exp.as_mut() {
                    for (k, n) in feasible.iter().enumerate() {
                        let nn = view.node(*n).name();
                        if let Some(v) = e.nodes.iter_mut().rev().find(|v| v.node == nn) {
                            v.total = Some(totals[k]);
                        }
                    }
                }
                let best = feasible[select_best(&totals, rng)];
                self.totals_buf = totals;
                best
            }
        };

        // Reserve, then Permit.
        let s = prof.run_reserve(&mut state, pod, node, view);
        if !s.is_success() {
            self.last_rejectors = vec![s.plugin];
            let message = format!("running Reserve plugin {:?}: {}", s.plugin, s.message());
            if let Some(e) = exp.as_mut() {
                e.message = Some(message.clone());
            }
            return ScheduleResult {
                decision: Decision::Unschedulable {
                    message,
                    nominated: None,
                },
                nodes_evaluated: evaluated,
                explanation: exp,
            };
        }
        let (permit, release) = prof.run_permit(&state, pod, node, view.waiting, view);
        let wait = match permit {
            PermitDecision::Allow => None,
            PermitDecision::Wait(t) => Some(t),
            PermitDecision::Reject(s) => {
                self.last_rejectors = vec![s.plugin];
                prof.run_unreserve(&mut state, pod, node, view);
                let message = format!("rejected by {:?} at permit: {}", s.plugin, s.message());
                if let Some(e) = exp.as_mut() {
                    e.message = Some(message.clone());
                }
                return ScheduleResult {
                    decision: Decision::Unschedulable {
                        message,
                        nominated: None,
                    },
                    nodes_evaluated: evaluated,
                    explanation: exp,
                };
            }
        };
        if let Some(e) = exp.as_mut() {
            e.chosen = Some(view.node(node).name().to_string());
            e.nodes_evaluated = evaluated;
            e.feasible_nodes = feasible.len() as u32;
        }
        state.end_scheduling_cycle();
        self.states.insert(pod_id, (pi, state));
        ScheduleResult {
            decision: Decision::Bind {
                node,
                wait,
                release,
                gpus: vec![],
            },
            nodes_evaluated: evaluated.max(1),
            explanation: exp,
        }
    }

    fn bind(&mut self, pod_id: PodId, node: NodeId, view: &ClusterView) -> Result<(), String> {
        let Some((pi, state)) = self.states.remove(&pod_id) else {
            return Ok(());
        };
        let pod = view.pod(pod_id);
        if let Some(r) = extender::run_binders(&mut self.extenders, pod, node, view) {
            return r;
        }
        let s = self.profiles[pi].run_binding_cycle(&state, pod, node, view);
        if s.is_success() {
            Ok(())
        } else {
            let mut st = state;
            self.profiles[pi].run_unreserve(&mut st, pod, node, view);
            Err(s.message())
        }
    }

    fn unreserve(&mut self, pod_id: PodId, node: NodeId, view: &ClusterView) {
        if let Some((pi, mut state)) = self.states.remove(&pod_id) {
            self.profiles[pi].run_unreserve(&mut state, view.pod(pod_id), node, view);
            // Given up at Permit (timeout or rejection while waiting): the
            // Permit plugins rejected it (upstream `WaitOnPermit`'s status).
            self.last_rejectors = self.profiles[pi].permit_plugin_names();
        }
    }

    fn unschedulable_plugins(&mut self, _pod: PodId) -> Option<Vec<&'static str>> {
        Some(std::mem::take(&mut self.last_rejectors))
    }

    fn registers_event(
        &self,
        scheduler_name: &str,
        plugins: &[&'static str],
        event: &super::hints::ClusterEvent,
    ) -> bool {
        match self.profile_index(scheduler_name) {
            Some(pi) => self.profiles[pi].registers_event(plugins, event),
            None => true,
        }
    }

    fn is_worth_requeuing(
        &self,
        pod_id: PodId,
        plugins: &[&'static str],
        event: &super::hints::ClusterEvent,
        change: &super::hints::Change,
        view: &ClusterView,
    ) -> bool {
        let pod = view.pod(pod_id);
        match self.profile_index(&pod.spec.scheduler_name) {
            Some(pi) => {
                self.profiles[pi].is_worth_requeuing(pod_id, pod, plugins, event, change, view)
            }
            None => true,
        }
    }
}

/// Upstream `Diagnosis.UnschedulablePlugins` of a failed cycle: the
/// PreFilter plugins that narrowed the nodes, the PreFilter plugin that
/// rejected the pod, and every Filter plugin that rejected a node.
/// Extenders' rejections name no plugin upstream
/// (`findNodesThatPassExtenders`), so they are left out.
pub fn unschedulable_plugins(
    narrowing: &[&'static str],
    prefilter: Option<&Status>,
    statuses: &BTreeMap<NodeId, Status>,
) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = narrowing.to_vec();
    for s in prefilter.into_iter().chain(statuses.values()) {
        if s.is_rejected()
            && !s.plugin.is_empty()
            && s.plugin != "Extender"
            && !v.contains(&s.plugin)
        {
            v.push(s.plugin);
        }
    }
    v.sort_unstable();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Upstream schedule_one_test.go `TestNumFeasibleNodesToFind`.
    #[test]
    fn num_feasible_nodes_to_find_table() {
        let cases = [
            (0, 10, 10),
            (40, 10, 10),
            (0, 1000, 420),
            (40, 1000, 400),
            (0, 6000, 300),
            (40, 6000, 2400),
            (0, 15000, 750),
            (0, 100, 100),
            (50, 120, 100),
        ];
        for (pct, nodes, want) in cases {
            assert_eq!(
                num_feasible_nodes_to_find(pct, nodes),
                want,
                "pct {pct} nodes {nodes}"
            );
        }
    }

    /// One best node is chosen without a draw; among tied best nodes each
    /// is chosen about equally often, and never a lower one.
    #[test]
    fn select_best_is_uniform_among_the_highest() {
        let mut rng = SimRng::derive(7, "select");
        assert_eq!(select_best(&[3, 9, 4], &mut rng), 1);
        assert_eq!(select_best(&[5], &mut rng), 0);
        let totals = [1, 7, 2, 7, 7, 0, 7];
        let mut counts = [0u32; 7];
        for _ in 0..40_000 {
            counts[select_best(&totals, &mut rng)] += 1;
        }
        for (k, &c) in counts.iter().enumerate() {
            if totals[k] == 7 {
                assert!((9_000..11_000).contains(&c), "node {k}: {c} of 40000");
            } else {
                assert_eq!(c, 0, "node {k} is not among the best");
            }
        }
        // Negative totals (impossible with valid plugins) still work.
        assert_eq!(select_best(&[-5, -2, -9], &mut rng), 1);
    }

    #[test]
    fn unschedulable_plugins_from_a_diagnosis() {
        let mut st = BTreeMap::new();
        st.insert(
            NodeId(0),
            Status::unschedulable("Insufficient cpu").with_plugin("NodeResourcesFit"),
        );
        st.insert(
            NodeId(1),
            Status::unresolvable("untolerated").with_plugin("TaintToleration"),
        );
        st.insert(
            NodeId(2),
            Status::unschedulable("Insufficient cpu").with_plugin("NodeResourcesFit"),
        );
        st.insert(
            NodeId(3),
            Status::unschedulable("no").with_plugin("Extender"),
        );
        assert_eq!(
            unschedulable_plugins(&["NodeAffinity"], None, &st),
            vec!["NodeAffinity", "NodeResourcesFit", "TaintToleration"]
        );
        let pre = Status::unresolvable("conflict").with_plugin("InterPodAffinity");
        assert_eq!(
            unschedulable_plugins(&[], Some(&pre), &BTreeMap::new()),
            vec!["InterPodAffinity"]
        );
        assert!(unschedulable_plugins(&[], None, &BTreeMap::new()).is_empty());
    }

    #[test]
    fn fit_error_histogram_sorted() {
        let mut st = BTreeMap::new();
        st.insert(NodeId(0), Status::unschedulable("Insufficient cpu"));
        st.insert(NodeId(1), Status::unschedulable("Insufficient cpu"));
        st.insert(
            NodeId(2),
            Status::unresolvable("node(s) didn't match Pod's node affinity/selector"),
        );
        assert_eq!(
            fit_error_message(3, "", &st, None, ""),
            "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu."
        );
        assert_eq!(
            fit_error_message(3, "", &st, None, "preemption: not eligible due to preemptionPolicy=Never."),
            "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."
        );
    }
}
