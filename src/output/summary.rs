//! The run summary: counts, latency percentiles and the event-log digest,
//! written as `summary.json` and printed as a table.

use std::fmt;

use serde::Serialize;

use crate::cluster::RunResult;
use crate::engine::Duration;
use crate::model::PodPhase;

/// The Kubernetes release whose semantics kubesim follows.
pub const KUBERNETES_VERSION: &str = "v1.35";

/// Percentiles of a set of durations, in microseconds (nearest-rank).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    /// Integer mean (floor).
    pub mean_us: u64,
}

impl Percentiles {
    /// Nearest-rank percentiles: the value at rank ⌈q/100 × n⌉.
    pub fn of(mut v: Vec<u64>) -> Percentiles {
        if v.is_empty() {
            return Percentiles::default();
        }
        v.sort_unstable();
        let n = v.len() as u64;
        let at = |q: u64| v[((q * n).div_ceil(100)).max(1) as usize - 1];
        let sum: u128 = v.iter().map(|x| u128::from(*x)).sum();
        Percentiles {
            count: n,
            p50_us: at(50),
            p90_us: at(90),
            p99_us: at(99),
            max_us: v[v.len() - 1],
            mean_us: (sum / u128::from(n)) as u64,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PodCounts {
    pub created: u64,
    pub pending: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Pods removed from the API by the end (deleted, evicted, node removed).
    pub deleted: u64,
    pub never_scheduled: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub kubesim_version: String,
    pub kubernetes_version: String,
    pub scheduler_policy: String,
    pub end_time_us: u64,
    pub events_processed: u64,
    pub event_records: u64,
    /// SHA-256 of `events.jsonl`.
    pub event_digest: String,
    pub pods: PodCounts,
    pub nodes_total: u64,
    pub nodes_ready_at_end: u64,
    pub scheduling_attempts: u64,
    pub scheduling_failures: u64,
    /// Creation to binding.
    pub scheduling_latency: Percentiles,
    /// Creation to Running.
    pub startup_latency: Percentiles,
    /// First pod creation to last pod completion (0 without completions).
    pub makespan_us: u64,
    pub restarts: u64,
    pub evictions: u64,
    pub admission_rejections: u64,
    /// Node model (omitted when zero): containers OOM-killed, pods evicted
    /// under node memory pressure, CFS throttled time of all containers.
    #[serde(skip_serializing_if = "is_zero")]
    pub oom_kills: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub memory_evictions: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub throttled_us: u64,
    /// The cgroup version and shares → weight conversion the node model
    /// used (`v2/quadratic`, …); omitted without usage models.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cgroups: String,
    /// Cluster-autoscaler node groups at the end: nodes and cost
    /// (node-hours × price, thousandths); omitted without node groups.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub node_groups: Vec<NodeGroupCost>,
    /// Victims deleted by preemption.
    pub preemptions: u64,
    /// Scheduling-queue length over the samples.
    pub queue_length: super::metrics::QueueLength,
    /// Utilization by requests.
    pub utilization: super::metrics::Utilization,
    /// Resource stranding (fragmentation).
    pub stranding: super::metrics::Stranding,
    /// Creation to completion of pods that succeeded.
    pub job_completion: Percentiles,
    /// Σ node lifetimes in the cluster, seconds (node-hours × 3600).
    pub node_seconds: u64,
    /// Service traffic (docs/traffic.md): overall and per Service
    /// (`namespace/name`); omitted without traffic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic: Option<TrafficSummary>,
}

/// The traffic part of the summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrafficSummary {
    /// All Services together (latency percentiles over every served
    /// request of every Service).
    pub overall: crate::cluster::TrafficTotals,
    pub services: std::collections::BTreeMap<String, crate::cluster::TrafficTotals>,
}

impl TrafficSummary {
    pub fn of(r: &RunResult) -> Option<TrafficSummary> {
        if r.traffic.is_empty() {
            return None;
        }
        let mut services = std::collections::BTreeMap::new();
        for t in &r.traffic {
            services.insert(format!("{}/{}", t.namespace, t.name), t.clone());
        }
        Some(TrafficSummary {
            overall: r.traffic_overall.clone(),
            services,
        })
    }
}

/// One node group's cost in the summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeGroupCost {
    pub group: String,
    pub nodes_at_end: u32,
    pub cost_milli: i64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl Summary {
    pub fn of(r: &RunResult) -> Summary {
        let mut c = PodCounts::default();
        let mut sched = Vec::new();
        let mut startup = Vec::new();
        let mut first_created = u64::MAX;
        let mut last_finished = 0u64;
        for p in &r.pods {
            c.created += 1;
            let created = p.meta.creation_timestamp.as_micros();
            first_created = first_created.min(created);
            if p.meta.deletion_timestamp.is_some() && p.status.finished_at.is_some() {
                c.deleted += 1;
            }
            match p.phase() {
                PodPhase::Pending => c.pending += 1,
                PodPhase::Running => c.running += 1,
                PodPhase::Succeeded => c.succeeded += 1,
                PodPhase::Failed => c.failed += 1,
            }
            match p.status.bound_at {
                Some(b) => sched.push(b.as_micros() - created),
                None => c.never_scheduled += 1,
            }
            if let Some(s) = p.status.started_at {
                startup.push(s.as_micros() - created);
            }
            if let Some(f) = p.status.finished_at {
                last_finished = last_finished.max(f.as_micros());
            }
        }
        let present: Vec<_> = r.nodes.iter().filter(|n| n.present).collect();
        Summary {
            scenario: r.scenario.name.clone(),
            seed: r.seed,
            kubesim_version: env!("CARGO_PKG_VERSION").to_string(),
            kubernetes_version: KUBERNETES_VERSION.to_string(),
            scheduler_policy: r.scenario.scheduler.policy.clone(),
            end_time_us: r.end_time.as_micros(),
            events_processed: r.counters.events,
            event_records: r.event_records,
            event_digest: r.event_digest.clone(),
            pods: c,
            nodes_total: present.len() as u64,
            nodes_ready_at_end: present.iter().filter(|n| n.is_ready()).count() as u64,
            scheduling_attempts: r.counters.scheduling_attempts,
            scheduling_failures: r.counters.scheduling_failures,
            scheduling_latency: Percentiles::of(sched),
            startup_latency: Percentiles::of(startup),
            makespan_us: if last_finished > 0 && first_created != u64::MAX {
                last_finished.saturating_sub(first_created)
            } else {
                0
            },
            restarts: r.counters.restarts,
            evictions: r.counters.evictions,
            oom_kills: r.counters.oom_kills,
            memory_evictions: r.counters.memory_evictions,
            throttled_us: r.counters.throttled_us,
            cgroups: if r.node_usage_rows.is_empty() {
                String::new()
            } else {
                let c = &r.scenario.kubelet.cgroups;
                match c.version {
                    crate::node::cgroup::CgroupVersion::V1 => "v1/shares".to_string(),
                    crate::node::cgroup::CgroupVersion::V2 => {
                        format!("v2/{}", c.weight_formula.as_str())
                    }
                }
            },
            admission_rejections: r.counters.admission_rejections,
            node_groups: node_group_costs(&r.node_groups),
            traffic: TrafficSummary::of(r),
            preemptions: r.counters.preemptions,
            queue_length: super::metrics::queue_length(r),
            utilization: super::metrics::utilization(r),
            stranding: super::metrics::stranding(r),
            job_completion: Percentiles::of(super::metrics::job_completion_times(r)),
            node_seconds: super::metrics::node_seconds(r),
        }
    }
}

/// The last `node_groups.csv` row of each group.
fn node_group_costs(rows: &[crate::cluster::NodeGroupRow]) -> Vec<NodeGroupCost> {
    let mut last: std::collections::BTreeMap<&str, &crate::cluster::NodeGroupRow> =
        std::collections::BTreeMap::new();
    for r in rows {
        last.insert(&r.group, r);
    }
    last.values()
        .map(|r| NodeGroupCost {
            group: r.group.clone(),
            nodes_at_end: r.nodes,
            cost_milli: r.cost_milli,
        })
        .collect()
}

fn d(us: u64) -> String {
    Duration::from_micros(us).to_string()
}

/// Parts per million as a percentage with one decimal (integer rounding down).
fn pct(ppm: u64) -> String {
    format!("{}.{}%", ppm / 10_000, ppm % 10_000 / 1000)
}

/// The table printed after a run.
impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rows: Vec<(&str, String)> = vec![
            (
                "scenario",
                format!("{} (seed {})", self.scenario, self.seed),
            ),
            ("policy", self.scheduler_policy.clone()),
            ("simulated time", d(self.end_time_us)),
            (
                "nodes",
                format!("{} ({} ready)", self.nodes_total, self.nodes_ready_at_end),
            ),
            (
                "pods",
                format!(
                    "{} created: {} succeeded, {} failed, {} running, {} pending ({} deleted)",
                    self.pods.created,
                    self.pods.succeeded,
                    self.pods.failed,
                    self.pods.running,
                    self.pods.pending,
                    self.pods.deleted
                ),
            ),
            (
                "scheduling",
                format!(
                    "{} attempts, {} failed, {} pods never scheduled",
                    self.scheduling_attempts, self.scheduling_failures, self.pods.never_scheduled
                ),
            ),
            (
                "scheduling latency",
                format!(
                    "p50 {}  p90 {}  p99 {}  max {}",
                    d(self.scheduling_latency.p50_us),
                    d(self.scheduling_latency.p90_us),
                    d(self.scheduling_latency.p99_us),
                    d(self.scheduling_latency.max_us)
                ),
            ),
            (
                "startup latency",
                format!(
                    "p50 {}  p90 {}  p99 {}  max {}",
                    d(self.startup_latency.p50_us),
                    d(self.startup_latency.p90_us),
                    d(self.startup_latency.p99_us),
                    d(self.startup_latency.max_us)
                ),
            ),
            ("makespan", d(self.makespan_us)),
            (
                "restarts / evictions",
                format!("{} / {}", self.restarts, self.evictions),
            ),
            (
                "preemptions",
                format!(
                    "{}  (queue length mean {}.{:03}, max {})",
                    self.preemptions,
                    self.queue_length.mean_milli / 1000,
                    self.queue_length.mean_milli % 1000,
                    self.queue_length.max
                ),
            ),
            (
                "utilization (requests)",
                format!(
                    "CPU {}  memory {}  (stranded: CPU {}, memory {})",
                    pct(self.utilization.cpu_requested_ppm),
                    pct(self.utilization.memory_requested_ppm),
                    pct(self.stranding.cpu_ppm),
                    pct(self.stranding.memory_ppm)
                ),
            ),
            (
                "node-hours",
                format!(
                    "{}.{:02}",
                    self.node_seconds / 3600,
                    self.node_seconds % 3600 * 100 / 3600
                ),
            ),
            (
                "events",
                format!(
                    "{} processed, {} logged",
                    self.events_processed, self.event_records
                ),
            ),
            ("event digest", format!("sha256:{}", self.event_digest)),
        ];
        if self.oom_kills + self.memory_evictions + self.throttled_us > 0 {
            rows.insert(
                rows.len() - 2,
                (
                    "node model",
                    format!(
                        "{} OOM kills, {} memory-pressure evictions, {} throttled",
                        self.oom_kills,
                        self.memory_evictions,
                        d(self.throttled_us)
                    ),
                ),
            );
        }
        if let (Some(c), Some(m)) = (
            self.utilization.cpu_used_ppm,
            self.utilization.memory_used_ppm,
        ) {
            let at = rows
                .iter()
                .position(|r| r.0 == "utilization (requests)")
                .map_or(rows.len(), |i| i + 1);
            rows.insert(
                at,
                (
                    "utilization (usage)",
                    format!("CPU {}  memory {}", pct(c), pct(m)),
                ),
            );
        }
        for g in &self.node_groups {
            rows.push((
                "node group",
                format!(
                    "{}: {} nodes at the end, cost {}.{:03}",
                    g.group,
                    g.nodes_at_end,
                    g.cost_milli / 1000,
                    g.cost_milli % 1000
                ),
            ));
        }
        if let Some(t) = &self.traffic {
            let at = rows.len() - 2;
            let mut extra = Vec::new();
            for (k, s) in &t.services {
                extra.push((
                    "service traffic",
                    format!(
                        "{k}: {} requests, {} served, {} failed ({}), p50 {}  p90 {}  p99 {}{}",
                        s.requests,
                        s.served,
                        s.failed,
                        pct(s.error_rate_ppm),
                        d(s.latency_p50_us),
                        d(s.latency_p90_us),
                        d(s.latency_p99_us),
                        match s.slo_latency_us {
                            Some(o) => format!(", {} over the {} SLO", s.slo_violations, d(o)),
                            None => String::new(),
                        }
                    ),
                ));
            }
            for (i, e) in extra.into_iter().enumerate() {
                rows.insert(at + i, e);
            }
        }
        for (k, v) in rows {
            writeln!(f, "  {k:<22} {v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let p = Percentiles::of((1..=100).collect());
        assert_eq!(
            (p.p50_us, p.p90_us, p.p99_us, p.max_us, p.mean_us),
            (50, 90, 99, 100, 50)
        );
        let p = Percentiles::of(vec![7]);
        assert_eq!((p.p50_us, p.p99_us), (7, 7));
        assert_eq!(Percentiles::of(vec![]).count, 0);
        let p = Percentiles::of(vec![3, 1, 2]);
        assert_eq!((p.p50_us, p.p90_us), (2, 3));
    }
}
