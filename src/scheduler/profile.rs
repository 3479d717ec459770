//! One scheduling profile: the plugin instances of a KubeSchedulerConfiguration
//! profile, arranged per extension point in upstream's order, and the
//! functions that run each point (upstream framework/runtime/framework.go).

use std::collections::BTreeMap;

use super::cache::ScoreSlot;
use super::config::{resolve_point, ProfileConfig};
use super::framework::{
    ClusterView, Code, CycleState, Handle, NodeScore, PermitDecision, Plugin, Point,
    PostFilterOutcome, Status,
};
use super::plugins;
use crate::engine::Duration;
use crate::model::{Node, NodeId, Pod, PodId};

pub struct Profile {
    pub name: String,
    pub percentage_of_nodes_to_score: Option<i32>,
    plugins: Vec<Box<dyn Plugin>>,
    pub(crate) queue_sort: Option<usize>,
    pre_filter: Vec<usize>,
    filter: Vec<usize>,
    post_filter: Vec<usize>,
    pre_score: Vec<usize>,
    /// (plugin, weight)
    score: Vec<(usize, i64)>,
    reserve: Vec<usize>,
    permit: Vec<usize>,
    pre_bind: Vec<usize>,
    bind: Vec<usize>,
    post_bind: Vec<usize>,
}

fn implements(name: &str, p: Point) -> Option<bool> {
    plugins::points(name).map(|pts| pts.contains(&p))
}

impl Profile {
    /// Builds a profile, instantiating each plugin once with its args.
    pub fn new(cfg: &ProfileConfig) -> Result<Profile, String> {
        let mut prof = Profile {
            name: cfg.scheduler_name.clone(),
            percentage_of_nodes_to_score: cfg.percentage_of_nodes_to_score,
            plugins: Vec::new(),
            queue_sort: None,
            pre_filter: Vec::new(),
            filter: Vec::new(),
            post_filter: Vec::new(),
            pre_score: Vec::new(),
            score: Vec::new(),
            reserve: Vec::new(),
            permit: Vec::new(),
            pre_bind: Vec::new(),
            bind: Vec::new(),
            post_bind: Vec::new(),
        };
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        for point in Point::ALL {
            let list = resolve_point(&cfg.plugins, point, &implements)
                .map_err(|e| format!("profile {:?}: {e}", cfg.scheduler_name))?;
            for p in list {
                let idx = match index.get(&p.name) {
                    Some(&i) => i,
                    None => {
                        let inst = plugins::new_plugin(&p.name, cfg.args.get(&p.name))
                            .map_err(|e| format!("profile {:?}: {e}", cfg.scheduler_name))?;
                        prof.plugins.push(inst);
                        index.insert(p.name.clone(), prof.plugins.len() - 1);
                        prof.plugins.len() - 1
                    }
                };
                match point {
                    Point::QueueSort => {
                        if prof.queue_sort.is_some() {
                            return Err(format!(
                                "profile {:?}: only one queueSort plugin can be enabled",
                                cfg.scheduler_name
                            ));
                        }
                        prof.queue_sort = Some(idx);
                    }
                    Point::PreFilter => prof.pre_filter.push(idx),
                    Point::Filter => prof.filter.push(idx),
                    Point::PostFilter => prof.post_filter.push(idx),
                    Point::PreScore => prof.pre_score.push(idx),
                    Point::Score => prof.score.push((idx, i64::from(p.weight))),
                    Point::Reserve => prof.reserve.push(idx),
                    Point::Permit => prof.permit.push(idx),
                    Point::PreBind => prof.pre_bind.push(idx),
                    Point::Bind => prof.bind.push(idx),
                    Point::PostBind => prof.post_bind.push(idx),
                }
            }
        }
        if prof.queue_sort.is_none() {
            return Err(format!(
                "profile {:?}: one queueSort plugin is required",
                cfg.scheduler_name
            ));
        }
        if prof.bind.is_empty() {
            return Err(format!(
                "profile {:?}: at least one bind plugin is required",
                cfg.scheduler_name
            ));
        }
        for (name, _) in cfg.args.iter() {
            if !index.contains_key(name) {
                return Err(format!(
                    "profile {:?}: pluginConfig for {name:?} but the plugin is not enabled",
                    cfg.scheduler_name
                ));
            }
        }
        Ok(prof)
    }

    pub fn plugin(&self, i: usize) -> &dyn Plugin {
        self.plugins[i].as_ref()
    }

    pub fn has_filter_plugins(&self) -> bool {
        !self.filter.is_empty()
    }
    pub fn has_score_plugins(&self) -> bool {
        !self.score.is_empty()
    }
    pub fn has_post_filter_plugins(&self) -> bool {
        !self.post_filter.is_empty()
    }

    /// Names per extension point, for `kubesim explain` and docs.
    pub fn describe(&self) -> Vec<(&'static str, Vec<String>)> {
        let names = |v: &[usize]| {
            v.iter()
                .map(|i| self.plugins[*i].name().to_string())
                .collect()
        };
        vec![
            (
                "queueSort",
                self.queue_sort
                    .iter()
                    .map(|i| self.plugins[*i].name().to_string())
                    .collect(),
            ),
            ("preFilter", names(&self.pre_filter)),
            ("filter", names(&self.filter)),
            ("postFilter", names(&self.post_filter)),
            ("preScore", names(&self.pre_score)),
            (
                "score",
                self.score
                    .iter()
                    .map(|(i, w)| format!("{}({w})", self.plugins[*i].name()))
                    .collect(),
            ),
            ("reserve", names(&self.reserve)),
            ("permit", names(&self.permit)),
            ("preBind", names(&self.pre_bind)),
            ("bind", names(&self.bind)),
            ("postBind", names(&self.post_bind)),
        ]
    }

    /// Upstream `RunPreFilterPlugins`: the intersection of the node sets
    /// returned, or the first rejecting status. Plugins returning Skip are
    /// recorded so their Filter is not run.
    /// Also returns the plugins that narrowed the node set.
    pub fn run_pre_filter(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        view: &ClusterView,
    ) -> (Option<Vec<NodeId>>, Status, Vec<&'static str>) {
        let mut result: Option<Vec<NodeId>> = None;
        let mut narrowing: Vec<&'static str> = Vec::new();
        for &i in &self.pre_filter {
            let p = &self.plugins[i];
            let out = p.pre_filter(state, pod, view);
            match out.status.code {
                Code::Success => {}
                Code::Skip => {
                    state.skip_filter.push(p.name());
                    continue;
                }
                _ => return (None, out.status.with_plugin(p.name()), narrowing),
            }
            if let Some(mut set) = out.nodes {
                narrowing.push(p.name());
                set.sort();
                set.dedup();
                result = Some(match result {
                    None => set,
                    Some(prev) => prev
                        .into_iter()
                        .filter(|n| set.binary_search(n).is_ok())
                        .collect(),
                });
                if result.as_ref().is_some_and(|r| r.is_empty()) {
                    let msg = if narrowing.len() == 1 {
                        format!("node(s) didn't satisfy plugin {}", narrowing[0])
                    } else {
                        format!(
                            "node(s) didn't satisfy plugin(s) [{}] simultaneously",
                            narrowing.join(" ")
                        )
                    };
                    return (
                        None,
                        Status::unresolvable(msg).with_plugin(p.name()),
                        narrowing,
                    );
                }
            }
        }
        (result, Status::success(), narrowing)
    }

    /// Whether each of `active` is node-local (see `Plugin::node_local`).
    pub fn local_mask(&self, active: &[usize]) -> Vec<bool> {
        active
            .iter()
            .map(|&i| self.plugins[i].node_local())
            .collect()
    }

    /// The Filter plugins to run this cycle: all but those whose PreFilter
    /// returned Skip.
    pub fn active_filters(&self, state: &CycleState) -> Vec<usize> {
        self.filter
            .iter()
            .copied()
            .filter(|&i| !state.skip_filter.contains(&self.plugins[i].name()))
            .collect()
    }

    /// Upstream `RunFilterPlugins`: the first non-success status.
    pub fn run_filter_plugins(
        &self,
        state: &CycleState,
        pod: &Pod,
        node: &Node,
        view: &ClusterView,
    ) -> Status {
        self.run_filters_in(&self.active_filters(state), state, pod, node, view)
    }

    /// [`Profile::run_filter_plugins`] with the active list precomputed.
    #[inline]
    pub fn run_filters_in(
        &self,
        active: &[usize],
        state: &CycleState,
        pod: &Pod,
        node: &Node,
        view: &ClusterView,
    ) -> Status {
        for &i in active {
            let s = self.filter_one(i, state, pod, node, view);
            if !s.is_success() {
                return s;
            }
        }
        Status::success()
    }

    /// One Filter plugin, its status tagged with the plugin name (codes
    /// other than the rejecting ones and Error become Error).
    #[inline]
    pub fn filter_one(
        &self,
        i: usize,
        state: &CycleState,
        pod: &Pod,
        node: &Node,
        view: &ClusterView,
    ) -> Status {
        let p = &self.plugins[i];
        let s = p.filter(state, pod, node, view);
        if s.is_success() {
            return s;
        }
        let code = s.code;
        if code != Code::Unschedulable
            && code != Code::UnschedulableAndUnresolvable
            && code != Code::Error
        {
            return Status::error(format!("filter plugin {} returned {:?}", p.name(), code))
                .with_plugin(p.name());
        }
        s.with_plugin(p.name())
    }

    /// Upstream `RunFilterPluginsWithNominatedPods`: when pods of equal or
    /// higher priority are nominated to this node, the filters must pass
    /// both with them added and without them.
    pub fn run_filters_with_nominated(
        &self,
        state: &CycleState,
        pod_id: PodId,
        pod: &Pod,
        node_id: NodeId,
        node: &Node,
        view: &ClusterView,
    ) -> Status {
        self.run_filters_with_nominated_in(
            &self.active_filters(state),
            state,
            pod_id,
            pod,
            node_id,
            node,
            view,
        )
    }

    /// [`Profile::run_filters_with_nominated`] with the active list precomputed.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn run_filters_with_nominated_in(
        &self,
        active: &[usize],
        state: &CycleState,
        pod_id: PodId,
        pod: &Pod,
        node_id: NodeId,
        node: &Node,
        view: &ClusterView,
    ) -> Status {
        if view.nominated.is_empty() {
            return self.run_filters_in(active, state, pod, node, view);
        }
        let nominated: Vec<PodId> = view
            .nominated
            .get(&node_id)
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|p| *p != pod_id && view.pod(*p).spec.priority >= pod.spec.priority)
                    .collect()
            })
            .unwrap_or_default();
        if nominated.is_empty() {
            return self.run_filters_in(active, state, pod, node, view);
        }
        let mut st2 = state.clone();
        let mut n2 = node.clone();
        for p in &nominated {
            let np = view.pod(*p);
            n2.add_pod(*p, np);
            let s = self.add_pod(&mut st2, pod, np, &n2, view);
            if !s.is_success() {
                return s;
            }
        }
        let s = self.run_filter_plugins(&st2, pod, &n2, view);
        if !s.is_success() {
            return s;
        }
        self.run_filters_in(active, state, pod, node, view)
    }

    /// [`Profile::run_post_filter_with`] with the profile itself as the
    /// handle (random draws are 0).
    pub fn run_post_filter(
        &self,
        state: &CycleState,
        pod_id: PodId,
        pod: &Pod,
        statuses: &BTreeMap<NodeId, Status>,
        view: &ClusterView,
    ) -> PostFilterOutcome {
        self.run_post_filter_with(state, pod_id, pod, statuses, view, self)
    }

    /// Upstream `RunPostFilterPlugins`, the plugins calling back into
    /// `handle` (the default scheduler passes a [`SeededHandle`]).
    pub fn run_post_filter_with(
        &self,
        state: &CycleState,
        pod_id: PodId,
        pod: &Pod,
        statuses: &BTreeMap<NodeId, Status>,
        view: &ClusterView,
        handle: &dyn Handle,
    ) -> PostFilterOutcome {
        // Upstream `RunPostFilterPlugins`: the first success wins; an
        // unresolvable or error status ends the run; otherwise the reasons
        // of every plugin are collected and the last nomination is kept.
        let mut nominated = None;
        let mut reasons: Vec<String> = Vec::new();
        let mut rejector: &'static str = "";
        for &i in &self.post_filter {
            let p = &self.plugins[i];
            let r = p.post_filter(state, pod_id, pod, statuses, view, handle);
            if r.status.is_success() {
                return r;
            }
            if r.status.code == Code::UnschedulableAndUnresolvable || !r.status.is_rejected() {
                let status = if r.status.is_rejected() {
                    r.status.with_plugin(p.name())
                } else {
                    Status::error(r.status.message()).with_plugin(p.name())
                };
                return PostFilterOutcome {
                    nominated: r.nominated,
                    status,
                };
            }
            if r.nominated.is_some() {
                nominated = r.nominated;
            }
            reasons.extend(r.status.reasons.into_iter().filter(|m| !m.is_empty()));
            if rejector.is_empty() {
                rejector = p.name();
            }
        }
        PostFilterOutcome {
            nominated,
            status: Status {
                code: Code::Unschedulable,
                reasons,
                plugin: rejector,
            },
        }
    }

    /// Upstream `RunPreScorePlugins`: Skip disables that plugin's Score.
    pub fn run_pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        nodes: &[NodeId],
        view: &ClusterView,
    ) -> Status {
        for &i in &self.pre_score {
            let p = &self.plugins[i];
            let s = p.pre_score(state, pod, nodes, view);
            if s.is_skip() {
                state.skip_score.push(p.name());
                continue;
            }
            if !s.is_success() {
                return Status::error(format!(
                    "running PreScore plugin {:?}: {}",
                    p.name(),
                    s.message()
                ))
                .with_plugin(p.name());
            }
        }
        Status::success()
    }

    /// Upstream `RunScorePlugins`: per plugin, raw scores, then
    /// NormalizeScore, then the weight. Returns, per score plugin, its
    /// (name, weight, raw, normalized) scores in `nodes` order.
    ///
    /// With a cache, the raw scores are gathered node by node (one cache
    /// lookup per node for all node-local plugins) rather than plugin by
    /// plugin; the plugins only read, so the scores are the same. If any
    /// Score fails, the plugin-major pass is rerun so the error reported is
    /// the one plugin-major order meets first.
    #[allow(clippy::type_complexity)]
    pub fn run_score(
        &self,
        state: &CycleState,
        pod: &Pod,
        nodes: &[NodeId],
        view: &ClusterView,
        cache: Option<&mut super::cache::NodeCache>,
    ) -> Result<Vec<(&'static str, i64, Vec<i64>, Vec<NodeScore>)>, Status> {
        // (score position, plugin, weight, node-local) of the plugins that run.
        let active: Vec<(usize, usize, i64, bool)> = self
            .score
            .iter()
            .enumerate()
            .filter(|(_, (i, _))| !state.skip_score.contains(&self.plugins[*i].name()))
            .map(|(pos, &(i, w))| (pos, i, w, self.plugins[i].node_local()))
            .collect();
        let raws = match cache {
            Some(c) if pod.sched_signature != 0 && active.iter().any(|a| a.3) => {
                let mut raws: Vec<Vec<i64>> = active
                    .iter()
                    .map(|_| Vec::with_capacity(nodes.len()))
                    .collect();
                let mut failed = false;
                'nodes: for &n in nodes {
                    let node = view.node(n);
                    for (k, &(pos, i, _, local)) in active.iter().enumerate() {
                        let p = &self.plugins[i];
                        let r = if local {
                            c.score(pos, || p.score(state, pod, node, view), pod, n, node)
                        } else {
                            p.score(state, pod, node, view)
                        };
                        match r {
                            Ok(v) => raws[k].push(v),
                            Err(_) => {
                                failed = true;
                                break 'nodes;
                            }
                        }
                    }
                }
                if failed {
                    return self.score_plugin_major(&active, state, pod, nodes, view);
                }
                raws
            }
            _ => return self.score_plugin_major(&active, state, pod, nodes, view),
        };
        let mut out = Vec::with_capacity(active.len());
        for (&(_, i, w, _), raw) in active.iter().zip(raws) {
            out.push(self.normalize_one(i, w, raw, state, pod, nodes)?);
        }
        Ok(out)
    }

    /// [`Profile::run_score`] summed: adds each plugin's normalized score
    /// times its weight to `totals[k]` for `nodes[k]`, as the scheduler
    /// does with `run_score`'s result, without keeping per-plugin vectors
    /// (one cache lookup per node; the cache's buffers are reused). Same
    /// totals and same error as `run_score`: on any failure the totals are
    /// reset and the plugin-major pass reports upstream's first error, so
    /// `totals` must be all zero on entry.
    pub fn run_score_totals(
        &self,
        state: &CycleState,
        pod: &Pod,
        nodes: &[NodeId],
        view: &ClusterView,
        cache: Option<&mut super::cache::NodeCache>,
        totals: &mut [i64],
    ) -> Result<(), Status> {
        let Some(c) = cache else {
            return self.add_totals(self.run_score(state, pod, nodes, view, None)?, totals);
        };
        let active: Vec<(usize, usize, i64, bool)> = self
            .score
            .iter()
            .enumerate()
            .filter(|(_, (i, _))| !state.skip_score.contains(&self.plugins[*i].name()))
            .map(|(pos, &(i, w))| (pos, i, w, self.plugins[i].node_local()))
            .collect();
        if pod.sched_signature == 0 || !active.iter().any(|a| a.3) {
            return self.add_totals(self.run_score(state, pod, nodes, view, None)?, totals);
        }
        let mut slots: Vec<ScoreSlot> = Vec::with_capacity(active.len());
        let mut nb = 0;
        // Plugins that score every node alike this cycle add a constant.
        let mut base = 0i64;
        for (k, &(pos, i, w, local)) in active.iter().enumerate() {
            let p = &self.plugins[i];
            if !p.has_normalize() {
                if let Some(u) = p.uniform_score(state, pod, view) {
                    if (super::framework::MIN_NODE_SCORE..=super::framework::MAX_NODE_SCORE)
                        .contains(&u)
                    {
                        base += u * w;
                        continue;
                    }
                }
            }
            let norm = p.has_normalize().then(|| {
                nb += 1;
                nb - 1
            });
            slots.push(ScoreSlot {
                pos,
                k,
                weight: w,
                cached: local && pos < super::cache::CACHED_SCORES,
                norm,
            });
        }
        let fast = c.score_totals(
            &slots,
            base,
            pod.sched_signature,
            nodes,
            view,
            |k, node| self.plugins[active[k].1].score(state, pod, node, view),
            totals,
        );
        let mut result = fast.map_err(|_| ());
        if result.is_ok() {
            // The plugins with a NormalizeScore, in profile order.
            for s in &slots {
                let Some(b) = s.norm else { continue };
                let p = &self.plugins[active[s.k].1];
                let scores = &mut c.norm_bufs[b];
                let st = p.normalize_score(state, pod, scores);
                if !st.is_success()
                    || check_and_add(p.name(), scores.iter().map(|x| x.score), s.weight, totals)
                        .is_err()
                {
                    result = Err(());
                    break;
                }
            }
        }
        if result.is_err() {
            // Upstream's plugin-major order decides which error is reported.
            totals.iter_mut().for_each(|t| *t = 0);
            return self.add_totals(self.run_score(state, pod, nodes, view, None)?, totals);
        }
        Ok(())
    }

    /// Adds `run_score`'s weighted normalized scores to `totals`.
    #[allow(clippy::type_complexity)]
    fn add_totals(
        &self,
        per_plugin: Vec<(&'static str, i64, Vec<i64>, Vec<NodeScore>)>,
        totals: &mut [i64],
    ) -> Result<(), Status> {
        for (_, w, _, norm) in &per_plugin {
            for (t, ns) in totals.iter_mut().zip(norm) {
                *t += ns.score * w;
            }
        }
        Ok(())
    }

    /// One plugin's NormalizeScore over its raw scores, and the range check.
    #[allow(clippy::type_complexity)]
    fn normalize_one(
        &self,
        i: usize,
        w: i64,
        raw: Vec<i64>,
        state: &CycleState,
        pod: &Pod,
        nodes: &[NodeId],
    ) -> Result<(&'static str, i64, Vec<i64>, Vec<NodeScore>), Status> {
        let p = &self.plugins[i];
        let mut scores: Vec<NodeScore> = nodes
            .iter()
            .zip(&raw)
            .map(|(&node, &score)| NodeScore { node, score })
            .collect();
        if p.has_normalize() {
            let s = p.normalize_score(state, pod, &mut scores);
            if !s.is_success() {
                return Err(Status::error(format!(
                    "running Normalize on Score plugin {:?}: {}",
                    p.name(),
                    s.message()
                )));
            }
        }
        for s in &scores {
            if s.score < super::framework::MIN_NODE_SCORE
                || s.score > super::framework::MAX_NODE_SCORE
            {
                return Err(Status::error(format!(
                    "plugin {:?} returns an invalid score {}, it should in the range of [{}, {}] after normalizing",
                    p.name(),
                    s.score,
                    super::framework::MIN_NODE_SCORE,
                    super::framework::MAX_NODE_SCORE
                )));
            }
        }
        Ok((p.name(), w, raw, scores))
    }

    /// [`Profile::run_score`] plugin by plugin (upstream's order: raw
    /// scores, NormalizeScore, range check), without the cache; the first
    /// failure is returned.
    #[allow(clippy::type_complexity)]
    fn score_plugin_major(
        &self,
        active: &[(usize, usize, i64, bool)],
        state: &CycleState,
        pod: &Pod,
        nodes: &[NodeId],
        view: &ClusterView,
    ) -> Result<Vec<(&'static str, i64, Vec<i64>, Vec<NodeScore>)>, Status> {
        let mut out = Vec::with_capacity(active.len());
        for &(_, i, w, _) in active {
            let p = &self.plugins[i];
            let mut raw = Vec::with_capacity(nodes.len());
            for &n in nodes {
                match p.score(state, pod, view.node(n), view) {
                    Ok(s) => raw.push(s),
                    Err(e) => {
                        return Err(Status::error(format!(
                            "running Score plugin {:?}: {}",
                            p.name(),
                            e.message()
                        )))
                    }
                }
            }
            out.push(self.normalize_one(i, w, raw, state, pod, nodes)?);
        }
        Ok(out)
    }

    pub fn run_reserve(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        node: NodeId,
        view: &ClusterView,
    ) -> Status {
        for (k, &i) in self.reserve.iter().enumerate() {
            let p = &self.plugins[i];
            let s = p.reserve(state, pod, node, view);
            if !s.is_success() {
                // Unreserve the ones that ran, in reverse order.
                for &j in self.reserve[..=k].iter().rev() {
                    self.plugins[j].unreserve(state, pod, node, view);
                }
                return s.with_plugin(p.name());
            }
        }
        Status::success()
    }

    pub fn run_unreserve(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        node: NodeId,
        view: &ClusterView,
    ) {
        for &i in self.reserve.iter().rev() {
            self.plugins[i].unreserve(state, pod, node, view);
        }
    }

    /// Upstream `RunPermitPlugins`: any rejection rejects; otherwise the
    /// shortest wait, if any plugin asked to wait.
    pub fn run_permit(
        &self,
        state: &CycleState,
        pod: &Pod,
        node: NodeId,
        waiting: &[PodId],
        view: &ClusterView,
    ) -> (PermitDecision, Vec<PodId>) {
        let mut wait: Option<Duration> = None;
        let mut release = Vec::new();
        for &i in &self.permit {
            let p = &self.plugins[i];
            let (d, r) = p.permit(state, pod, node, waiting, view);
            release.extend(r);
            match d {
                PermitDecision::Allow => {}
                PermitDecision::Wait(t) => wait = Some(wait.map_or(t, |w| w.min(t))),
                PermitDecision::Reject(s) => {
                    return (PermitDecision::Reject(s.with_plugin(p.name())), Vec::new())
                }
            }
        }
        match wait {
            Some(t) => (PermitDecision::Wait(t), release),
            None => (PermitDecision::Allow, release),
        }
    }

    /// PreBind, then the Bind plugins until one does not Skip, then PostBind.
    pub fn run_binding_cycle(
        &self,
        state: &CycleState,
        pod: &Pod,
        node: NodeId,
        view: &ClusterView,
    ) -> Status {
        for &i in &self.pre_bind {
            let s = self.plugins[i].pre_bind(state, pod, node, view);
            if !s.is_success() {
                return s.with_plugin(self.plugins[i].name());
            }
        }
        let mut bound = false;
        for &i in &self.bind {
            let s = self.plugins[i].bind(state, pod, node, view);
            if s.is_skip() {
                continue;
            }
            if !s.is_success() {
                return s.with_plugin(self.plugins[i].name());
            }
            bound = true;
            break;
        }
        if !bound {
            return Status::error("all bind plugins skipped the pod");
        }
        for &i in &self.post_bind {
            self.plugins[i].post_bind(state, pod, node, view);
        }
        Status::success()
    }
}

/// The range check of `RunScorePlugins` on one plugin's normalized
/// scores, then `totals[k] += score × weight`.
#[inline]
fn check_and_add(
    name: &str,
    scores: impl Iterator<Item = i64>,
    w: i64,
    totals: &mut [i64],
) -> Result<(), Status> {
    for (t, s) in totals.iter_mut().zip(scores) {
        if !(super::framework::MIN_NODE_SCORE..=super::framework::MAX_NODE_SCORE).contains(&s) {
            return Err(Status::error(format!(
                "plugin {:?} returns an invalid score {}, it should in the range of [{}, {}] after normalizing",
                name,
                s,
                super::framework::MIN_NODE_SCORE,
                super::framework::MAX_NODE_SCORE
            )));
        }
        *t += s * w;
    }
    Ok(())
}

impl Handle for Profile {
    fn run_filters(
        &self,
        state: &CycleState,
        pod_id: PodId,
        pod: &Pod,
        node_id: NodeId,
        node: &Node,
        view: &ClusterView,
    ) -> Status {
        self.run_filters_with_nominated(state, pod_id, pod, node_id, node, view)
    }
    fn remove_pod(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        victim: &Pod,
        node: &Node,
        view: &ClusterView,
    ) -> Status {
        for &i in &self.pre_filter {
            let p = &self.plugins[i];
            if state.skip_filter.contains(&p.name()) {
                continue;
            }
            let s = p.remove_pod(state, pod, victim, node, view);
            if !s.is_success() {
                return s.with_plugin(p.name());
            }
        }
        Status::success()
    }
    fn add_pod(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        added: &Pod,
        node: &Node,
        view: &ClusterView,
    ) -> Status {
        for &i in &self.pre_filter {
            let p = &self.plugins[i];
            if state.skip_filter.contains(&p.name()) {
                continue;
            }
            let s = p.add_pod(state, pod, added, node, view);
            if !s.is_success() {
                return s.with_plugin(p.name());
            }
        }
        Status::success()
    }
}

/// A [`Handle`] over a profile whose random draws
/// ([`Handle::rand_int31n`]) come from a seeded stream.
pub struct SeededHandle<'a> {
    pub profile: &'a Profile,
    pub rng: std::cell::RefCell<&'a mut crate::engine::SimRng>,
}

impl Handle for SeededHandle<'_> {
    fn run_filters(
        &self,
        state: &CycleState,
        pod_id: PodId,
        pod: &Pod,
        node_id: NodeId,
        node: &Node,
        view: &ClusterView,
    ) -> Status {
        self.profile
            .run_filters(state, pod_id, pod, node_id, node, view)
    }
    fn remove_pod(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        victim: &Pod,
        node: &Node,
        view: &ClusterView,
    ) -> Status {
        Handle::remove_pod(self.profile, state, pod, victim, node, view)
    }
    fn add_pod(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        added: &Pod,
        node: &Node,
        view: &ClusterView,
    ) -> Status {
        Handle::add_pod(self.profile, state, pod, added, node, view)
    }
    fn rand_int31n(&self, n: i32) -> i32 {
        if n <= 0 {
            return 0;
        }
        let v = self.rng.borrow_mut().below(n as u64);
        // v < n <= i32::MAX.
        i32::try_from(v).unwrap_or(0)
    }
}

impl Profile {
    /// The Permit plugins' names.
    pub fn permit_plugin_names(&self) -> Vec<&'static str> {
        self.permit
            .iter()
            .map(|i| self.plugins[*i].name())
            .collect()
    }

    /// Whether a plugin in `rejectors` registered `event` (a plugin that
    /// registers nothing registers every event).
    pub fn registers_event(
        &self,
        rejectors: &[&'static str],
        event: &super::hints::ClusterEvent,
    ) -> bool {
        self.plugins.iter().any(|pl| {
            rejectors.contains(&pl.name())
                && pl.events_to_register().is_none_or(|evs| {
                    evs.iter()
                        .any(|e| super::hints::match_cluster_events(e, event))
                })
        })
    }

    /// Upstream `isPodWorthRequeuing` for one profile: whether a plugin in
    /// `rejectors` registered `event` (a plugin that registers nothing
    /// registers every event) and its QueueingHint says Queue.
    pub fn is_worth_requeuing(
        &self,
        pod_id: PodId,
        pod: &Pod,
        rejectors: &[&'static str],
        event: &super::hints::ClusterEvent,
        change: &super::hints::Change,
        view: &ClusterView,
    ) -> bool {
        for pl in &self.plugins {
            if !rejectors.contains(&pl.name()) {
                continue;
            }
            match pl.events_to_register() {
                None => return true,
                Some(evs) => {
                    if evs
                        .iter()
                        .any(|e| super::hints::match_cluster_events(e, event))
                        && pl.queueing_hint(pod_id, pod, event, change, view)
                            == super::hints::QueueingHint::Queue
                    {
                        return true;
                    }
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{SimRng, Stream};
    use crate::scheduler::config::ProfileConfig;

    #[test]
    fn seeded_handle_draws_in_range_and_reproducibly() {
        let prof = Profile::new(&ProfileConfig::default_profile()).expect("default profile");
        let draws = |seed: u64| {
            let mut rng = SimRng::derive(seed, Stream::Preemption.name());
            let h = SeededHandle {
                profile: &prof,
                rng: std::cell::RefCell::new(&mut rng),
            };
            (0..200).map(|_| h.rand_int31n(7)).collect::<Vec<i32>>()
        };
        let a = draws(1);
        assert!(a.iter().all(|v| (0..7).contains(v)));
        // Every value of the range shows up in 200 draws.
        assert!((0..7).all(|v| a.contains(&v)));
        assert_eq!(a, draws(1));
        assert_ne!(a, draws(2));
        let mut rng = SimRng::derive(1, Stream::Preemption.name());
        let h = SeededHandle {
            profile: &prof,
            rng: std::cell::RefCell::new(&mut rng),
        };
        assert_eq!(h.rand_int31n(0), 0);
        assert_eq!(h.rand_int31n(-3), 0);
        assert_eq!(h.rand_int31n(1), 0);
        // The profile itself, as a handle, draws 0.
        assert_eq!(Handle::rand_int31n(&prof, 7), 0);
    }
}
