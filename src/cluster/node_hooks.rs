//! The World's hooks into the node model (`crate::node`): pods with usage
//! models get a sandbox and containers on their node's simulated runtime
//! when their run starts; the runtime's exits (OOM kills, finished CPU
//! work) come back as container exits; the kubelet's eviction manager
//! acts on node memory pressure; samples feed `containers.csv` and
//! `node_usage.csv`. Pods without usage models never get here.
//! Also the prober's outcomes (readiness → `Pod::ready_since`, liveness
//! kills) and image pulls with the node's image cache and image GC.

use super::{Event, World};
use crate::engine::{Duration, SimTime};
use crate::model::node::{normalized_image_name, ConditionStatus};
use crate::model::pod::{ContainerState, PullPolicy};
use crate::model::{NodeId, PodId, PodPhase, Taint, TaintEffect};
use crate::node::kubelet::NodeAgent;

/// `node.kubernetes.io/memory-pressure` (NoSchedule while the condition holds).
pub const TAINT_MEMORY_PRESSURE: &str = "node.kubernetes.io/memory-pressure";
/// Kubelet eviction manager monitoring interval (`housekeeping` 10 s).
pub const EVICTION_MONITORING_PERIOD: Duration = Duration::from_secs(10);
/// Kubelet `imageGCHighThresholdPercent` / `imageGCLowThresholdPercent`.
pub const IMAGE_GC_HIGH_PERCENT: i64 = 85;
pub const IMAGE_GC_LOW_PERCENT: i64 = 80;
/// Kubelet `evictionPressureTransitionPeriod` default.
pub const PRESSURE_TRANSITION_PERIOD: Duration = Duration::from_secs(300);

/// One row of `containers.csv`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerRow {
    pub t_us: u64,
    pub node: String,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub cpu_demand_m: i64,
    pub cpu_granted_m: i64,
    pub cpu_limit_m: Option<i64>,
    pub throttled_periods: u64,
    pub throttled_us: u64,
    pub memory_bytes: i64,
    pub memory_limit_bytes: Option<i64>,
    pub restarts: u32,
    pub oom_kills: u64,
}

/// One row of `node_usage.csv`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeUsageRow {
    pub t_us: u64,
    pub node: String,
    pub cpu_capacity_m: i64,
    pub cpu_requested_m: i64,
    pub cpu_demand_m: i64,
    pub cpu_used_m: i64,
    pub memory_allocatable_bytes: i64,
    pub memory_requested_bytes: i64,
    pub memory_used_bytes: i64,
    pub pods: u64,
    pub evictions: u64,
    pub conditions: String,
}

impl World {
    /// A pod's containers (re)start: hook from `start_run`.
    pub(super) fn usage_run_started(&mut self, id: PodId) {
        let idx = id.0 as usize;
        if self.pods[idx].behavior.usage.is_none() && !self.traffic_serves(id) {
            return;
        }
        let Some(nid) = self.pods[idx].status.node else {
            return;
        };
        let node = &self.nodes[nid.0 as usize];
        let (name, cpu, mem) = (
            node.meta.name.clone(),
            node.capacity.cpu_m,
            node.capacity.memory,
        );
        let now = self.now;
        let seed = self.rng.seed();
        let settings = self.scenario.kubelet.cgroups;
        if !self.agents.contains_key(&nid) {
            if let Some(f) = self.runtime_factory.as_mut() {
                // A real node runtime (Linux backend).
                match f(&name, cpu, mem, settings, now) {
                    Ok(rt) => {
                        self.agents
                            .insert(nid, Box::new(NodeAgent::with_runtime(rt, mem)));
                    }
                    Err(e) => {
                        self.runtime_failure.get_or_insert(e);
                        return;
                    }
                }
            }
        }
        let agent = self
            .agents
            .entry(nid)
            .or_insert_with(|| Box::new(NodeAgent::new(&name, cpu, mem, settings, now)));
        agent.start_pod(now, id.0, &self.pods[idx], seed);
        if self.traffic_serves(id) {
            self.traffic_pod_started(id);
        }
        self.usage_reschedule(nid);
    }

    /// A pod's run ended (its containers stop; the sandbox stays for a
    /// restart): hook from `container_exited`.
    pub(super) fn usage_run_stopped(&mut self, id: PodId) {
        let idx = id.0 as usize;
        self.traffic_pod_stopped(id);
        if self.pods[idx].behavior.usage.is_none() && !self.traffic_serves(id) {
            return;
        }
        let Some(nid) = self.pods[idx].status.node else {
            return;
        };
        if let Some(a) = self.agents.get_mut(&nid) {
            a.stop_pod(self.now, id.0);
            self.usage_reschedule(nid);
        }
    }

    /// A pod left its node (terminal, deleted, node failed or removed):
    /// hook from `unreserve` and `fail_node`.
    pub(super) fn usage_pod_gone(&mut self, id: PodId) {
        let idx = id.0 as usize;
        self.traffic_pod_stopped(id);
        if self.pods[idx].behavior.usage.is_none() && !self.traffic_serves(id) {
            return;
        }
        let Some(nid) = self.pods[idx].status.node else {
            return;
        };
        if let Some(a) = self.agents.get_mut(&nid) {
            a.remove_pod(self.now, id.0);
            self.usage_reschedule(nid);
        }
    }

    /// Re-arms the node's node-model timer at its next breakpoint.
    pub(super) fn usage_reschedule(&mut self, nid: NodeId) {
        self.traffic_refresh_node(nid);
        self.hpa_record_usage(nid);
        let Some(a) = self.agents.get_mut(&nid) else {
            return;
        };
        let old = a.timer.take();
        let next = if a.runtime.has_exits() {
            Some(self.now)
        } else {
            a.next_change()
        };
        // The eviction manager's next look (every monitoring period while
        // memory is short or the condition holds).
        let check = a.check_at;
        let real = a.has_pending_work() || check.is_some();
        let at = match (next, check) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.cancel(old);
        // Usage changes alone do not keep a run without a duration going.
        if !real && self.pending_real == 0 && self.end.is_none() {
            return;
        }
        if let Some(t) = at {
            let t = t.max(self.now);
            let ev = if real {
                Event::NodeUsage(nid)
            } else {
                Event::NodeUsageTick(nid)
            };
            let timer = self.push(t, ev);
            if let Some(a) = self.agents.get_mut(&nid) {
                a.timer = Some(timer);
            }
        }
    }

    /// A node-model breakpoint: advance, turn exits into container exits,
    /// run the eviction manager.
    pub(super) fn node_usage(&mut self, nid: NodeId) {
        let Some(a) = self.agents.get_mut(&nid) else {
            return;
        };
        a.timer = None;
        let exits = a.advance(self.now);
        for ex in exits {
            let p = PodId(ex.pod);
            let idx = p.0 as usize;
            if !self.pod_rt[idx].live || self.pods[idx].phase() != PodPhase::Running {
                continue;
            }
            if ex.reason == "OOMKilled" {
                self.counters.oom_kills += 1;
                let msg = format!("container {} exceeded its memory limit", ex.container);
                self.log_event(
                    "OOMKilled",
                    Some(p),
                    Some(nid),
                    Some("OOMKilled"),
                    Some(&msg),
                );
            }
            self.cancel_pod_timer(idx);
            self.container_exited_with(p, ex.exit_code, Some(ex.reason));
        }
        self.memory_pressure_check(nid);
        self.usage_reschedule(nid);
    }

    /// The eviction manager's memory signal: `memory.available` = capacity
    /// − working set of the node's containers; below the hard threshold the
    /// node gets MemoryPressure and its taint, and one pod is evicted per
    /// monitoring period in upstream's order.
    fn memory_pressure_check(&mut self, nid: NodeId) {
        let ni = nid.0 as usize;
        let now = self.now;
        let Some(a) = self.agents.get_mut(&nid) else {
            return;
        };
        let used = a.runtime.memory_used();
        let available = self.nodes[ni].capacity.memory - used;
        let threshold = self.scenario.kubelet.eviction_hard_memory;
        let under = available < threshold;
        if !under && !a.memory_pressure {
            a.check_at = None;
            return;
        }
        // The eviction manager looks at its signals every monitoring
        // period (aligned to multiples of it).
        let period = EVICTION_MONITORING_PERIOD.as_micros();
        if !now.as_micros().is_multiple_of(period) {
            a.check_at = Some(SimTime((now.as_micros() / period + 1) * period));
            return;
        }
        a.check_at = Some(now.after(EVICTION_MONITORING_PERIOD));
        if !under {
            if now >= a.pressure_last_seen.after(PRESSURE_TRANSITION_PERIOD) {
                a.memory_pressure = false;
                a.check_at = None;
                let before = self.nodes[ni].clone();
                let n = &mut self.nodes[ni];
                n.conditions.memory_pressure = ConditionStatus::False;
                n.taints.retain(|t| t.key != TAINT_MEMORY_PRESSURE);
                n.touch();
                self.log_event("NodeHasSufficientMemory", None, Some(nid), None, None);
                self.node_updated(nid, before, true);
            }
            return;
        }
        let fresh = !a.memory_pressure;
        a.memory_pressure = true;
        a.pressure_last_seen = now;
        if fresh {
            let before = self.nodes[ni].clone();
            let n = &mut self.nodes[ni];
            n.conditions.memory_pressure = ConditionStatus::True;
            let t = Taint::new(TAINT_MEMORY_PRESSURE, "", TaintEffect::NoSchedule);
            if !n.taints.contains(&t) {
                n.taints.push(t);
            }
            n.touch();
            self.log_event(
                "NodeHasInsufficientMemory",
                None,
                Some(nid),
                Some("MemoryPressure"),
                Some(&format!(
                    "memory.available {}Ki < {}Ki",
                    available.div_euclid(1024),
                    threshold / 1024
                )),
            );
            self.node_updated(nid, before, false);
        }
        // Rank every active pod on the node (pods without a model use 0).
        let cands: Vec<(u32, i64, i32)> = self
            .pods_on(nid)
            .into_iter()
            .filter(|p| {
                let pod = &self.pods[p.0 as usize];
                pod.phase() == PodPhase::Running && !pod.is_terminating()
            })
            .map(|p| {
                let pod = &self.pods[p.0 as usize];
                (p.0, pod.requests.memory, pod.spec.priority)
            })
            .collect();
        let Some(a) = self.agents.get(&nid) else {
            return;
        };
        let Some(v) = a.rank_for_memory_eviction(&cands).first().copied() else {
            return;
        };
        let used_v = a.pod_memory(v);
        let p = PodId(v);
        self.counters.evictions += 1;
        self.counters.memory_evictions += 1;
        if let Some(a) = self.agents.get_mut(&nid) {
            a.evictions += 1;
        }
        let msg = format!(
            "The node was low on resource: memory. Threshold quantity: {}Ki, available: {}Ki. Pod was using {}Ki, request is {}Ki.",
            threshold / 1024,
            available.div_euclid(1024),
            used_v / 1024,
            self.pods[v as usize].requests.memory / 1024
        );
        self.log_event("Evicted", Some(p), Some(nid), Some("Evicted"), Some(&msg));
        self.pods[v as usize].status.message = msg;
        self.finish_pod(p, PodPhase::Failed, "Evicted", Some(nid));
    }

    /// Records `containers.csv` / `node_usage.csv` rows at a sample.
    pub(super) fn usage_sample(&mut self) {
        if self.agents.is_empty() {
            return;
        }
        let now = self.now;
        let t_us = now.as_micros();
        if self.container_rows.last().is_some_and(|r| r.t_us == t_us)
            || self.node_usage_rows.last().is_some_and(|r| r.t_us == t_us)
        {
            self.container_rows.retain(|r| r.t_us != t_us);
            self.node_usage_rows.retain(|r| r.t_us != t_us);
        }
        let nids: Vec<NodeId> = self.agents.keys().copied().collect();
        for nid in &nids {
            if let Some(a) = self.agents.get_mut(nid) {
                // Integrate up to now without processing exits here: they
                // come through the node's own event at this instant.
                a.runtime.advance_to(now);
            }
        }
        let mut rows = Vec::new();
        for (nid, a) in &self.agents {
            let node = &self.nodes[nid.0 as usize].meta.name;
            for s in a.samples() {
                rows.push(ContainerRow {
                    t_us,
                    node: node.clone(),
                    namespace: s.namespace,
                    pod: s.pod_name,
                    container: s.container,
                    cpu_demand_m: s.cpu_demand_m,
                    cpu_granted_m: s.cpu_granted_m,
                    cpu_limit_m: s.cpu_limit_m,
                    throttled_periods: s.throttled_periods,
                    throttled_us: s.throttled_us,
                    memory_bytes: s.memory_bytes,
                    memory_limit_bytes: s.memory_limit_bytes,
                    restarts: self.pods[s.pod as usize].status.restart_count,
                    oom_kills: s.oom_kills,
                });
            }
        }
        rows.sort_by(|a, b| {
            (&a.node, &a.namespace, &a.pod, &a.container).cmp(&(
                &b.node,
                &b.namespace,
                &b.pod,
                &b.container,
            ))
        });
        self.container_rows.extend(rows);
        let mut nrows = Vec::new();
        for n in self.nodes.iter().filter(|n| n.present) {
            let nid = self.node_index.get(&n.meta.name).copied();
            let a = nid.and_then(|id| self.agents.get(&id));
            let (demand, used) = a.map_or((0, 0), |a| a.runtime.cpu_totals());
            let mut conds = Vec::new();
            if n.is_ready() {
                conds.push("Ready");
            }
            if n.conditions.memory_pressure == ConditionStatus::True {
                conds.push("MemoryPressure");
            }
            nrows.push(NodeUsageRow {
                t_us,
                node: n.meta.name.clone(),
                cpu_capacity_m: n.capacity.cpu_m,
                cpu_requested_m: n.requested.cpu_m,
                cpu_demand_m: demand,
                cpu_used_m: used,
                memory_allocatable_bytes: n.allocatable.memory,
                memory_requested_bytes: n.requested.memory,
                memory_used_bytes: a.map_or(0, |a| a.runtime.memory_used()),
                pods: n.pods.len() as u64,
                evictions: a.map_or(0, |a| a.evictions),
                conditions: conds.join(";"),
            });
        }
        nrows.sort_by(|a, b| a.node.cmp(&b.node));
        self.node_usage_rows.extend(nrows);
    }

    /// With a duration, samples continue while some node runs modelled
    /// containers (their usage changes without other events).
    pub(super) fn usage_keeps_sampling(&self) -> bool {
        self.end.is_some() && self.agents.values().any(|a| a.has_pods())
    }

    /// The containers (re)started: the pod is Ready at once without
    /// readiness probes, else when they pass (a `PodReady` event). Returns
    /// when the run ends: the run time or a liveness-probe kill, whichever
    /// comes first.
    pub(super) fn probes_run_started(&mut self, id: PodId) -> Option<Duration> {
        let idx = id.0 as usize;
        let t = self.pod_rt[idx].ready_timer.take();
        self.cancel(t);
        self.pod_rt[idx].liveness_kill = false;
        self.pods[idx].status.container_state = ContainerState::Running {
            started_at: self.now,
        };
        let run = self.pods[idx].behavior.run;
        let Some(pr) = self.pods[idx].behavior.probes.as_deref() else {
            self.pods[idx].status.ready_since = Some(self.now);
            return run;
        };
        let ready = pr.ready_after_start();
        let kill = pr.liveness_kill_after_start();
        if ready == Duration::ZERO {
            self.pods[idx].status.ready_since = Some(self.now);
        } else if kill.is_none_or(|k| ready < k) && run.is_none_or(|r| ready < r) {
            let timer = self.push(self.now.after(ready), Event::PodReady(id));
            self.pod_rt[idx].ready_timer = Some(timer);
        }
        match (kill, run) {
            (Some(k), r) if r.is_none_or(|r| k < r) => {
                self.pod_rt[idx].liveness_kill = true;
                Some(k)
            }
            (_, r) => r,
        }
    }

    pub(super) fn pod_ready(&mut self, id: PodId) {
        let idx = id.0 as usize;
        self.pod_rt[idx].ready_timer = None;
        let pod = &self.pods[idx];
        if pod.phase() != PodPhase::Running || pod.is_terminating() || pod.is_ready() {
            return;
        }
        self.pods[idx].status.ready_since = Some(self.now);
        let node = self.pods[idx].status.node;
        self.log_event("PodReady", Some(id), node, None, None);
        self.workloads_pod_changed(id);
    }

    /// The pod is no longer Ready (its run ended, it is terminating or
    /// gone, or its node became unreachable).
    pub(super) fn not_ready(&mut self, id: PodId) {
        let idx = id.0 as usize;
        let t = self.pod_rt[idx].ready_timer.take();
        self.cancel(t);
        // Controllers watch readiness (availability, PDB health).
        if self.pods[idx].status.ready_since.take().is_some() {
            self.workloads_pod_changed(id);
        }
    }

    /// Image pulls before the pod's containers start, on nodes with an
    /// image pull bandwidth (kubelet `serializeImagePulls: true`: one pull
    /// at a time per node). An image the node has (or is pulling) costs no
    /// transfer; `imagePullPolicy: Always` finds its layers cached (the
    /// registry round trip is not modelled); `Never` with the image absent
    /// leaves the pod Pending with reason `ErrImageNeverPull`. Returns the
    /// wait until the last image is there, `None` for ErrImageNeverPull.
    pub(super) fn image_pulls(&mut self, id: PodId, nid: NodeId) -> Option<Duration> {
        let ni = nid.0 as usize;
        let waiting = if self.pods[id.0 as usize].spec.init_containers.is_empty() {
            "ContainerCreating"
        } else {
            "PodInitializing"
        };
        self.pods[id.0 as usize].status.container_state =
            ContainerState::Waiting { reason: waiting };
        let Some(bw) = self.nodes[ni].image_pull_bandwidth else {
            return Some(Duration::ZERO);
        };
        self.settle_pulls(nid);
        let pod = &self.pods[id.0 as usize];
        let size = pod.behavior.image_size.unwrap_or(0).max(0);
        let images: Vec<(String, PullPolicy)> = pod
            .spec
            .init_containers
            .iter()
            .chain(pod.spec.containers.iter())
            .map(|c| {
                (
                    normalized_image_name(&c.image).into_owned(),
                    c.image_pull_policy,
                )
            })
            .collect();
        let mut ready_at = self.now;
        for (img, policy) in images {
            if let Some(&t) = self.node_rt[ni].pulling.get(&img) {
                ready_at = ready_at.max(t);
                continue;
            }
            if self.nodes[ni].images.contains_key(&img) {
                continue;
            }
            if policy == PullPolicy::Never {
                let msg =
                    format!("Container image {img:?} is not present with pull policy of Never");
                self.log_event(
                    "Failed",
                    Some(id),
                    Some(nid),
                    Some("ErrImageNeverPull"),
                    Some(&msg),
                );
                let p = &mut self.pods[id.0 as usize];
                p.status.container_state = ContainerState::Waiting {
                    reason: "ErrImageNeverPull",
                };
                p.status.reason = "ErrImageNeverPull".to_string();
                p.status.message = msg;
                return None;
            }
            let dur = Duration::from_micros(
                (i128::from(size) * 1_000_000 / i128::from(bw.max(1)))
                    .min(i128::from(u32::MAX) * 1_000_000) as u64,
            );
            let rt = &mut self.node_rt[ni];
            let start = rt.pull_busy_until.max(self.now);
            let end = start.after(dur);
            rt.pull_busy_until = end;
            rt.pulling.insert(img.clone(), end);
            let msg = format!("Pulling image {img:?} ({size} bytes)");
            self.log_event("Pulling", Some(id), Some(nid), None, Some(&msg));
            ready_at = ready_at.max(end);
        }
        Some(ready_at.since(self.now))
    }

    /// Moves finished pulls into the node's image cache (the scheduler's
    /// ImageLocality sees them from then on).
    fn settle_pulls(&mut self, nid: NodeId) {
        let ni = nid.0 as usize;
        let now = self.now;
        let done: Vec<String> = self.node_rt[ni]
            .pulling
            .iter()
            .filter(|(_, t)| **t <= now)
            .map(|(i, _)| i.clone())
            .collect();
        if done.is_empty() {
            return;
        }
        for img in done {
            self.node_rt[ni].pulling.remove(&img);
            self.node_rt[ni].image_last_used.insert(img.clone(), now);
            let size = self.pods_image_size(nid, &img);
            if self.nodes[ni].images.insert(img.clone(), size).is_none() {
                *self.image_nodes.entry(img).or_insert(0) += 1;
            }
        }
        self.nodes[ni].touch();
        self.image_gc(nid);
    }

    /// The size recorded for a pulled image: the largest `image_size` of
    /// the node's pods using it.
    fn pods_image_size(&self, nid: NodeId, img: &str) -> i64 {
        self.nodes[nid.0 as usize]
            .pods
            .iter()
            .map(|p| &self.pods[p.0 as usize])
            .filter(|p| {
                p.spec
                    .init_containers
                    .iter()
                    .chain(p.spec.containers.iter())
                    .any(|c| normalized_image_name(&c.image) == img)
            })
            .filter_map(|p| p.behavior.image_size)
            .max()
            .unwrap_or(0)
    }

    /// The pod's containers started: its images are cached and used now.
    pub(super) fn images_in_use(&mut self, id: PodId) {
        let Some(nid) = self.pods[id.0 as usize].status.node else {
            return;
        };
        let ni = nid.0 as usize;
        if self.nodes[ni].image_pull_bandwidth.is_none() {
            return;
        }
        self.settle_pulls(nid);
        let now = self.now;
        let pod = &self.pods[id.0 as usize];
        let imgs: Vec<String> = pod
            .spec
            .init_containers
            .iter()
            .chain(pod.spec.containers.iter())
            .map(|c| normalized_image_name(&c.image).into_owned())
            .collect();
        for img in imgs {
            self.node_rt[ni].image_last_used.insert(img, now);
        }
    }

    /// Image garbage collection (pkg/kubelet/images/image_gc_manager.go):
    /// when images use at least `imageGCHighThresholdPercent` (85) of the
    /// image filesystem, delete images no pod on the node uses, least
    /// recently used first, until usage is down to
    /// `imageGCLowThresholdPercent` (80). Usage counts image bytes only.
    fn image_gc(&mut self, nid: NodeId) {
        let ni = nid.0 as usize;
        let n = &self.nodes[ni];
        let cap = n.image_fs_capacity.unwrap_or(n.capacity.ephemeral_storage);
        if cap <= 0 {
            return;
        }
        let used: i64 = n.images.values().sum();
        if used * 100 < cap * IMAGE_GC_HIGH_PERCENT {
            return;
        }
        let mut to_free = used - cap * IMAGE_GC_LOW_PERCENT / 100;
        let in_use: std::collections::BTreeSet<String> = n
            .pods
            .iter()
            .flat_map(|p| {
                let p = &self.pods[p.0 as usize];
                p.spec
                    .init_containers
                    .iter()
                    .chain(p.spec.containers.iter())
                    .map(|c| normalized_image_name(&c.image).into_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        let rt = &self.node_rt[ni];
        let mut candidates: Vec<(SimTime, String, i64)> = n
            .images
            .iter()
            .filter(|(i, _)| !in_use.contains(*i) && !rt.pulling.contains_key(*i))
            .map(|(i, sz)| {
                (
                    rt.image_last_used.get(i).copied().unwrap_or(SimTime::ZERO),
                    i.clone(),
                    *sz,
                )
            })
            .collect();
        candidates.sort();
        let mut freed = Vec::new();
        for (_, img, sz) in candidates {
            if to_free <= 0 {
                break;
            }
            to_free -= sz;
            freed.push(img);
        }
        if freed.is_empty() {
            return;
        }
        for img in &freed {
            self.nodes[ni].images.remove(img);
            self.node_rt[ni].image_last_used.remove(img);
            if let Some(c) = self.image_nodes.get_mut(img) {
                *c -= 1;
                if *c == 0 {
                    self.image_nodes.remove(img);
                }
            }
        }
        self.nodes[ni].touch();
        let msg = format!("deleted unused images: {}", freed.join(", "));
        self.log_event("ImageGarbageCollected", None, Some(nid), None, Some(&msg));
    }

    /// End of run: totals for the summary.
    pub(super) fn usage_finish(&mut self) {
        let now = self.now.max(SimTime::ZERO);
        let mut total = 0u64;
        for a in self.agents.values_mut() {
            a.runtime.advance_to(now);
            total += a.throttled_us_total();
        }
        self.counters.throttled_us = total;
    }
}
