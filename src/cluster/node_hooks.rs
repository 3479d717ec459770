//! The World's hooks into the node model (`crate::node`): pods with usage
//! models get a sandbox and containers on their node's simulated runtime
//! when their run starts; the runtime's exits (OOM kills, finished CPU
//! work) come back as container exits; the kubelet's eviction manager
//! acts on node memory pressure; samples feed `containers.csv` and
//! `node_usage.csv`. Pods without usage models never get here.

use super::{Event, World};
use crate::engine::{Duration, SimTime};
use crate::model::node::ConditionStatus;
use crate::model::{NodeId, PodId, PodPhase, Taint, TaintEffect};
use crate::node::kubelet::NodeAgent;

/// `node.kubernetes.io/memory-pressure` (NoSchedule while the condition holds).
pub const TAINT_MEMORY_PRESSURE: &str = "node.kubernetes.io/memory-pressure";
/// Kubelet `evictionHard` default `memory.available<100Mi`.
pub const EVICTION_HARD_MEMORY: i64 = 100 * 1024 * 1024;
/// Kubelet eviction manager monitoring interval (`housekeeping` 10 s).
pub const EVICTION_MONITORING_PERIOD: Duration = Duration::from_secs(10);
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
        if self.pods[idx].behavior.usage.is_none() {
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
        let agent = self
            .agents
            .entry(nid)
            .or_insert_with(|| Box::new(NodeAgent::new(&name, cpu, mem, now)));
        agent.start_pod(now, id.0, &self.pods[idx], seed);
        self.usage_reschedule(nid);
    }

    /// A pod's run ended (its containers stop; the sandbox stays for a
    /// restart): hook from `container_exited`.
    pub(super) fn usage_run_stopped(&mut self, id: PodId) {
        let idx = id.0 as usize;
        if self.pods[idx].behavior.usage.is_none() {
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
        if self.pods[idx].behavior.usage.is_none() {
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
    fn usage_reschedule(&mut self, nid: NodeId) {
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
        let under = available < EVICTION_HARD_MEMORY;
        if !under && !a.memory_pressure {
            a.check_at = None;
            return;
        }
        // The eviction manager looks at its signals every monitoring
        // period (aligned to multiples of it).
        let period = EVICTION_MONITORING_PERIOD.as_micros();
        if now.as_micros() % period != 0 {
            a.check_at = Some(SimTime((now.as_micros() / period + 1) * period));
            return;
        }
        a.check_at = Some(now.after(EVICTION_MONITORING_PERIOD));
        if !under {
            if now >= a.pressure_last_seen.after(PRESSURE_TRANSITION_PERIOD) {
                a.memory_pressure = false;
                a.check_at = None;
                let n = &mut self.nodes[ni];
                n.conditions.memory_pressure = ConditionStatus::False;
                n.taints.retain(|t| t.key != TAINT_MEMORY_PRESSURE);
                n.touch();
                self.log_event("NodeHasSufficientMemory", None, Some(nid), None, None);
                self.cluster_changed();
            }
            return;
        }
        let fresh = !a.memory_pressure;
        a.memory_pressure = true;
        a.pressure_last_seen = now;
        if fresh {
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
                    "memory.available {}Ki < 100Mi",
                    available.div_euclid(1024)
                )),
            );
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
            "The node was low on resource: memory. Threshold quantity: 100Mi, available: {}Ki. Pod was using {}Ki, request is {}Ki.",
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
