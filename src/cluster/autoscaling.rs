//! The World's side of autoscaling: the HorizontalPodAutoscaler
//! controller (one sync per HPA every `--horizontal-pod-autoscaler-sync-period`,
//! 15 s, through the policy the HPA selects), the metrics-server scrapes
//! (every 15 s) over the usage the target's pods see, the scale
//! subresource of Deployments and ReplicaSets, HPA events and the
//! `hpa.csv` samples; and the cluster autoscaler's loop (every scan
//! interval, 10 s) over the node pools that are node groups: scale-up for
//! unschedulable pods, scale-down of unneeded nodes, cost, and the
//! `node_groups.csv` samples.
//!
//! Usage: a pod with a node-model usage model (`kubesim.dev/cpu-usage`,
//! …, docs/nodes.md) is reported with what the node model gives it: the
//! CPU its containers were granted (cAdvisor's cumulative CPU time, so
//! contention and throttling show) and their memory working set, recorded
//! at every node-model change. For other pods, the CPU load an HPA's
//! `kubesim.dev/offered-load` annotation offers to its target is shared
//! equally by the target's Ready pods (as a Service spreads requests over
//! its ready endpoints; each container an equal part); memory usage is
//! the container's request.

use super::{Event, World};
use crate::autoscaler::hpa::replica_calc::{ContainerInfo, Phase, ReadyCondition};
use crate::autoscaler::hpa::{
    self, ControllerConfig, FetchedPodMetrics, MetricsClient, PodInfo, ResourceName, Scale,
};
use crate::autoscaler::metrics::{MetricsServer, ScrapeTarget, UsageSource};
use crate::autoscaler::object::HpaObject;
use crate::autoscaler::policy::{
    demand_milli_replicas, new_policy, AutoscalerPolicy, DemandSample, PolicyView,
};
use crate::controllers::{WorkloadBody, WorkloadId, WorkloadKind};
use crate::engine::{Duration, SimTime};
use crate::model::{PodId, PodPhase};

/// One `hpa.csv` row (docs/output.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HpaRow {
    pub t_us: u64,
    pub namespace: String,
    pub name: String,
    pub current_replicas: i32,
    pub desired_replicas: i32,
    pub metric: String,
    /// Percent for Utilization, milli-units otherwise; empty when unknown.
    pub current_value: Option<i64>,
    pub target_value: i64,
}

/// One HPA in the World.
pub(super) struct HpaRuntime {
    pub(super) obj: HpaObject,
    policy: Box<dyn AutoscalerPolicy>,
    history: Vec<DemandSample>,
    status: hpa::HpaStatus,
    /// The desired replicas of the last sync, for samples.
    desired: i32,
    synced: bool,
    /// Deleted from the API: no more syncs or samples.
    removed: bool,
}

/// Autoscaling state kept by the World.
#[derive(Default)]
pub(super) struct AutoscalingState {
    pub(super) hpas: Vec<HpaRuntime>,
    pub(super) config: ControllerConfig,
    metrics: MetricsServer,
    scraping: bool,
    pub(super) rows: Vec<HpaRow>,
    pub(super) ca: Option<ClusterAutoscaler>,
    /// Node-model usage per (namespace/pod, container), recorded while
    /// metrics are scraped.
    node_usage: std::collections::BTreeMap<(String, String), UsageHistory>,
    /// Custom metrics from the traffic model, as of the last scrape:
    /// `requests_per_second` per pod (namespace/name) and per Service
    /// ((namespace, name)), with the counters of the scrape before.
    traffic_pods: std::collections::BTreeMap<String, hpa::PodMetric>,
    traffic_services: std::collections::BTreeMap<(String, String), (i64, SimTime)>,
    traffic_prev_pods: std::collections::BTreeMap<String, (SimTime, u64)>,
    traffic_prev_services: std::collections::BTreeMap<(String, String), (SimTime, u64)>,
    traffic_scraped: Option<SimTime>,
    /// `request_latency_seconds` per Service: the mean latency of the
    /// requests served since the scrape before (milli-units, i.e. ms),
    /// with the (served, latency sum µs) counters of that scrape.
    traffic_latency: std::collections::BTreeMap<(String, String), (i64, SimTime)>,
    traffic_prev_latency: std::collections::BTreeMap<(String, String), (u64, u128)>,
}

/// One container's node-model usage over time: from each point on,
/// `Some((granted CPU m, memory working set bytes))`, or `None` once it
/// stopped. Rates only change at node-model changes, where points are
/// recorded, so the step function is exact.
struct UsageHistory {
    node: crate::model::NodeId,
    points: Vec<(SimTime, Option<(i64, i64)>)>,
}

/// How much usage history is kept (the metrics server looks back at most
/// two housekeeping intervals plus a resolution).
const USAGE_HISTORY: Duration = Duration::from_secs(120);

/// One `node_groups.csv` row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeGroupRow {
    pub t_us: u64,
    pub group: String,
    pub nodes: u32,
    pub upcoming: u32,
    pub pending_pods: u32,
    /// Cost so far, thousandths of a currency unit.
    pub cost_milli: i64,
}

/// The cluster autoscaler's state.
pub(super) struct ClusterAutoscaler {
    groups: Vec<crate::autoscaler::cluster::NodeGroup>,
    /// The node-provisioning policy (`spec.clusterAutoscaler.policy`).
    policy: Box<dyn crate::autoscaler::provisioner::NodeProvisioner>,
    /// The scheduler profiles the simulation runs.
    checker: crate::autoscaler::simulator::PredicateChecker,
    settings: crate::scenario::ClusterAutoscalerSettings,
    upcoming: Vec<u32>,
    last_scale_up: Option<SimTime>,
    /// Nodes being drained for removal.
    deleting: std::collections::BTreeSet<String>,
    node_us: Vec<u128>,
    last_account: SimTime,
    pub(super) rows: Vec<NodeGroupRow>,
    pending: u32,
}

/// Demand history kept per HPA (points), enough for the forecasts.
const HISTORY_LEN: usize = 240;

impl World {
    /// Creates an HPA (the `apply` of a manifest) and starts its syncs.
    pub(super) fn add_hpa(&mut self, h: HpaObject) {
        if self
            .hpa
            .hpas
            .iter()
            .any(|r| !r.removed && r.obj.namespace == h.namespace && r.obj.name == h.name)
        {
            return;
        }
        let policy = match new_policy(&h.policy, &h.params) {
            Ok(p) => p,
            Err(e) => {
                self.log_event("FailedCreate", None, None, Some("InvalidPolicy"), Some(&e));
                return;
            }
        };
        let msg = format!("{} created", h.describe());
        self.log_event("HPACreated", None, None, None, Some(&msg));
        let i = self.hpa.hpas.len() as u32;
        self.hpa.hpas.push(HpaRuntime {
            obj: h,
            policy,
            history: Vec::new(),
            status: Default::default(),
            desired: 0,
            synced: false,
            removed: false,
        });
        // The first sync comes at once (the informer's add); the metrics
        // pipeline starts with the first HPA.
        self.push(self.now, Event::HpaSync(i));
        if !self.hpa.scraping {
            self.hpa.scraping = true;
            let nids: Vec<crate::model::NodeId> = self.agents.keys().copied().collect();
            for nid in nids {
                self.hpa_record_usage(nid);
            }
            self.push(self.now, Event::MetricsScrape);
        }
    }

    /// Deletes an HPA (the `delete` action): it stops syncing; the
    /// target keeps its replicas.
    pub(super) fn delete_hpa(&mut self, namespace: &str, name: &str) {
        let found = self
            .hpa
            .hpas
            .iter_mut()
            .find(|h| !h.removed && h.obj.namespace == namespace && h.obj.name == name);
        let msg = format!("HorizontalPodAutoscaler {namespace}/{name}");
        match found {
            Some(h) => {
                h.removed = true;
                self.log_event("HPADeleted", None, None, None, Some(&msg));
            }
            None => self.log_event(
                "DeleteNotFound",
                None,
                None,
                Some("NotFound"),
                Some(&format!("{msg} not found")),
            ),
        }
    }

    fn hpa_target(&self, h: &HpaObject) -> Option<WorkloadId> {
        let kind = WorkloadKind::parse(&h.target_kind)?;
        self.wl.store.lookup(kind, &h.namespace, &h.target_name)
    }

    /// Pods selected by a workload: live, in its namespace, matching its
    /// selector, in name order.
    fn selected_pods(&self, id: WorkloadId) -> Vec<PodId> {
        let w = self.wl.store.get(id);
        let Some(sel) = w.pod_selector() else {
            return Vec::new();
        };
        self.pod_index
            .range((w.meta.namespace.clone(), String::new())..)
            .take_while(|((ns, _), _)| *ns == w.meta.namespace)
            .map(|(_, p)| *p)
            .filter(|p| {
                self.pod_rt[p.0 as usize].live && sel.matches(&self.pods[p.0 as usize].meta.labels)
            })
            .collect()
    }

    fn pod_info(&self, p: PodId) -> PodInfo {
        let pod = &self.pods[p.0 as usize];
        let phase = match pod.phase() {
            PodPhase::Pending => Phase::Pending,
            PodPhase::Running => Phase::Running,
            PodPhase::Succeeded => Phase::Succeeded,
            PodPhase::Failed => Phase::Failed,
        };
        let ready = pod.status.bound_at.map(|bound| ReadyCondition {
            status: pod.is_ready(),
            last_transition: pod.ready_since().or(pod.status.started_at).unwrap_or(bound),
        });
        let req = |v: i64| (v > 0).then_some(v);
        let mut containers: Vec<ContainerInfo> = pod
            .spec
            .containers
            .iter()
            .map(|c| ContainerInfo {
                name: c.name.clone(),
                cpu_request_milli: req(c.requests.cpu_m),
                memory_request_milli: req(c.requests.memory).map(|b| b.saturating_mul(1000)),
                sidecar: false,
            })
            .collect();
        containers.extend(
            pod.spec
                .init_containers
                .iter()
                .filter(|c| c.restart_policy == Some(crate::model::pod::RestartPolicy::Always))
                .map(|c| ContainerInfo {
                    name: c.name.clone(),
                    cpu_request_milli: req(c.requests.cpu_m),
                    memory_request_milli: req(c.requests.memory).map(|b| b.saturating_mul(1000)),
                    sidecar: true,
                }),
        );
        PodInfo {
            name: pod.meta.name.clone(),
            phase,
            deleting: pod.is_terminating(),
            ready,
            start_time: pod.status.bound_at,
            containers,
        }
    }

    /// The CPU share each Ready pod of each HPA's target gets now.
    fn usage_shares(&self, t: SimTime) -> std::collections::BTreeMap<String, i64> {
        let mut out = std::collections::BTreeMap::new();
        for h in &self.hpa.hpas {
            let Some(load) = &h.obj.offered_load else {
                continue;
            };
            let Some(id) = self.hpa_target(&h.obj) else {
                continue;
            };
            let running: Vec<PodId> = self
                .selected_pods(id)
                .into_iter()
                .filter(|p| self.pods[p.0 as usize].is_ready())
                .collect();
            if running.is_empty() {
                continue;
            }
            let share = load.value_at(t) / running.len() as i64;
            for p in running {
                out.insert(self.pods[p.0 as usize].meta.key(), share);
            }
        }
        out
    }

    /// Records the node model's current usage of every container on
    /// node `nid` (hook from the node model after each change; only while
    /// metrics are scraped).
    pub(super) fn hpa_record_usage(&mut self, nid: crate::model::NodeId) {
        if !self.hpa.scraping {
            return;
        }
        let now = self.now;
        let mut seen = std::collections::BTreeSet::new();
        if let Some(a) = self.agents.get(&nid) {
            for smp in a.samples() {
                let key = (format!("{}/{}", smp.namespace, smp.pod_name), smp.container);
                let v = Some((smp.cpu_granted_m, smp.memory_bytes));
                let h = self
                    .hpa
                    .node_usage
                    .entry(key.clone())
                    .or_insert_with(|| UsageHistory {
                        node: nid,
                        points: Vec::new(),
                    });
                h.node = nid;
                push_point(&mut h.points, now, v);
                seen.insert(key);
            }
        }
        for (key, h) in self.hpa.node_usage.iter_mut() {
            if h.node == nid && !seen.contains(key) {
                push_point(&mut h.points, now, None);
            }
        }
    }

    /// `Event::MetricsScrape`: metrics-server scrapes the kubelets.
    pub(super) fn metrics_scrape(&mut self) {
        let mut targets = Vec::new();
        let mut mem = std::collections::BTreeMap::new();
        for (i, pod) in self.pods.iter().enumerate() {
            if !self.pod_rt[i].live || pod.phase() != PodPhase::Running {
                continue;
            }
            let Some(started) = pod.status.started_at else {
                continue;
            };
            let key = pod.meta.key();
            for c in &pod.spec.containers {
                mem.insert((key.clone(), c.name.clone()), c.requests.memory);
            }
            targets.push(ScrapeTarget {
                pod: key,
                started,
                containers: pod.spec.containers.iter().map(|c| c.name.clone()).collect(),
            });
        }
        let shares = self.usage_shares(self.now);
        let counts: std::collections::BTreeMap<String, usize> = targets
            .iter()
            .map(|t| (t.pod.clone(), t.containers.len().max(1)))
            .collect();
        let modelled: std::collections::BTreeSet<String> = self
            .pods
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                self.pod_rt[*i].live
                    && (p.behavior.usage.is_some() || self.traffic_in_node_model(PodId(*i as u32)))
            })
            .map(|(_, p)| p.meta.key())
            .collect();
        // Forget what the metrics server can no longer look back at.
        let horizon = SimTime(self.now.0.saturating_sub(USAGE_HISTORY.as_micros()));
        self.hpa.node_usage.retain(|_, h| {
            let keep_from = h.points.partition_point(|(t, _)| *t <= horizon);
            if keep_from > 1 {
                h.points.drain(..keep_from - 1);
            }
            !(h.points.len() == 1 && h.points[0].1.is_none() && h.points[0].0 <= horizon)
        });
        let src = ShareSource {
            shares: &shares,
            counts: &counts,
            mem: &mem,
            modelled: &modelled,
            node: &self.hpa.node_usage,
        };
        let mut ms = std::mem::take(&mut self.hpa.metrics);
        ms.scrape(self.now, &targets, &src);
        self.hpa.metrics = ms;
        self.traffic_scrape();
        let next = self.now.after(self.hpa.metrics.resolution);
        self.push(next, Event::MetricsScrape);
    }

    /// `Event::HpaSync(i)`: one sync of HPA `i`.
    pub(super) fn hpa_sync(&mut self, i: u32) {
        let i = i as usize;
        let Some(h) = self.hpa.hpas.get(i) else {
            return;
        };
        if h.removed {
            return;
        }
        let obj = h.obj.clone();
        let period = self.hpa.config.sync_period;
        self.push(self.now.after(period), Event::HpaSync(i as u32));
        let Some(id) = self.hpa_target(&obj) else {
            let msg = format!(
                "{}: the HPA controller was unable to get the target's current scale: {} {}/{} not found",
                obj.describe(),
                obj.target_kind,
                obj.namespace,
                obj.target_name
            );
            let now = self.now;
            let h = &mut self.hpa.hpas[i];
            if h.status
                .condition("AbleToScale")
                .is_none_or(|c| c.reason != "FailedGetScale")
            {
                h.status
                    .set_condition("AbleToScale", false, "FailedGetScale", msg.clone(), now);
                self.log_event(
                    "FailedGetScale",
                    None,
                    None,
                    Some("FailedGetScale"),
                    Some(&msg),
                );
            }
            return;
        };
        let scale = match &self.wl.store.get(id).body {
            WorkloadBody::Deployment(d) => Scale {
                spec_replicas: d.replicas,
                status_replicas: d.status.replicas,
            },
            WorkloadBody::ReplicaSet(r) => Scale {
                spec_replicas: r.replicas,
                status_replicas: r.status.replicas,
            },
            // The StatefulSet scale subresource (upstream
            // pkg/registry/apps/statefulset/storage: spec.replicas,
            // status.replicas, the selector).
            WorkloadBody::StatefulSet(st) => Scale {
                spec_replicas: st.replicas,
                status_replicas: st.status.replicas,
            },
            _ => return,
        };
        let ids = self.selected_pods(id);
        let pods: Vec<PodInfo> = ids.iter().map(|p| self.pod_info(*p)).collect();
        let keys: Vec<(String, String)> = ids
            .iter()
            .map(|p| {
                let m = &self.pods[p.0 as usize].meta;
                (m.key(), m.name.clone())
            })
            .collect();
        let client = WorldMetrics {
            server: &self.hpa.metrics,
            pods: &keys,
            hpa: &obj,
            now: self.now,
            traffic_pods: &self.hpa.traffic_pods,
            traffic_services: &self.hpa.traffic_services,
            traffic_latency: &self.hpa.traffic_latency,
            traffic_scraped: self.hpa.traffic_scraped,
        };
        let demand = demand_milli_replicas(&obj.spec, &pods, &client);
        let now = self.now;
        let cfg = self.hpa.config;
        let h = &mut self.hpa.hpas[i];
        if let Some(d) = demand {
            h.history.push(DemandSample {
                at: now,
                milli_replicas: d,
            });
            if h.history.len() > HISTORY_LEN {
                h.history.remove(0);
            }
        }
        let view = PolicyView {
            now,
            config: &cfg,
            spec: &obj.spec,
            scale,
            pods: &pods,
            metrics: &client,
            history: &h.history,
        };
        let out = h.policy.sync(&view);
        h.status = out.status;
        h.desired = out.desired;
        h.synced = true;
        for e in &out.events {
            let msg = format!("{} {}", obj.describe(), e.message);
            let kind = if e.warning { "HPAWarning" } else { "HPAEvent" };
            self.log_event(kind, None, None, Some(&e.reason), Some(&msg));
        }
        if out.desired != scale.spec_replicas {
            self.set_scale(id, out.desired);
        }
    }

    /// Writes `spec.replicas` through the scale subresource.
    fn set_scale(&mut self, id: WorkloadId, replicas: i32) {
        let w = self.wl.store.get_mut(id);
        let changed = match &mut w.body {
            WorkloadBody::Deployment(d) => std::mem::replace(&mut d.replicas, replicas) != replicas,
            WorkloadBody::ReplicaSet(r) => std::mem::replace(&mut r.replicas, replicas) != replicas,
            WorkloadBody::StatefulSet(st) => {
                std::mem::replace(&mut st.replicas, replicas) != replicas
            }
            _ => false,
        };
        if changed {
            w.generation += 1;
            self.enqueue_workload(id, Duration::ZERO);
        }
    }

    /// `hpa.csv` rows at a sample: one per HPA and metric.
    pub(super) fn sample_hpas(&mut self, t_us: u64) {
        for h in &self.hpa.hpas {
            if !h.synced || h.removed {
                continue;
            }
            let base = HpaRow {
                t_us,
                namespace: h.obj.namespace.clone(),
                name: h.obj.name.clone(),
                current_replicas: h.status.current_replicas,
                desired_replicas: h.desired,
                metric: String::new(),
                current_value: None,
                target_value: 0,
            };
            for m in &h.obj.spec.metrics {
                let label = m.label();
                let cur = h
                    .status
                    .current_metrics
                    .iter()
                    .find(|s| s.label == label)
                    .map(|s| s.current);
                self.hpa.rows.push(HpaRow {
                    metric: label,
                    current_value: cur,
                    target_value: m.target_value(),
                    ..base.clone()
                });
            }
        }
    }
}

/// The usage the metrics pipeline reads: each Ready pod's share of its
/// HPA target's offered load, split equally over its containers; memory
/// at the request.
/// Pods with a node-model usage model read the node model's history
/// instead.
struct ShareSource<'a> {
    shares: &'a std::collections::BTreeMap<String, i64>,
    counts: &'a std::collections::BTreeMap<String, usize>,
    mem: &'a std::collections::BTreeMap<(String, String), i64>,
    /// namespace/name of live pods with a usage model.
    modelled: &'a std::collections::BTreeSet<String>,
    node: &'a std::collections::BTreeMap<(String, String), UsageHistory>,
}

/// Appends a point, replacing one at the same instant and skipping one
/// that changes nothing.
fn push_point(points: &mut Vec<(SimTime, Option<(i64, i64)>)>, t: SimTime, v: Option<(i64, i64)>) {
    if let Some(last) = points.last_mut() {
        if last.0 == t {
            last.1 = v;
            return;
        }
        if last.1 == v {
            return;
        }
    }
    points.push((t, v));
}

impl UsageHistory {
    fn at(&self, t: SimTime) -> Option<(i64, i64)> {
        let i = self.points.partition_point(|(at, _)| *at <= t);
        if i == 0 {
            None
        } else {
            self.points[i - 1].1
        }
    }

    /// Exact integral of the granted CPU over `[from, to)`, millicore·µs.
    fn cpu_integral(&self, from: SimTime, to: SimTime) -> i128 {
        let mut acc = 0i128;
        for (k, (t, v)) in self.points.iter().enumerate() {
            let end = self.points.get(k + 1).map_or(to, |n| n.0.min(to));
            let start = (*t).max(from);
            if end > start {
                let m = v.map_or(0, |(c, _)| c.max(0)) as i128;
                acc += m * (end.0 - start.0) as i128;
            }
        }
        acc
    }
}

impl ShareSource<'_> {
    fn history(&self, pod: &str, c: &str) -> Option<&UsageHistory> {
        self.node.get(&(pod.to_string(), c.to_string()))
    }
}

impl UsageSource for ShareSource<'_> {
    fn cpu_m(&self, pod: &str, c: &str, t: SimTime) -> Option<i64> {
        if self.modelled.contains(pod) {
            return self.history(pod, c)?.at(t).map(|(cpu, _)| cpu);
        }
        let n = self.counts.get(pod).copied().unwrap_or(1) as i64;
        Some(self.shares.get(pod).copied().unwrap_or(0) / n)
    }
    fn memory_bytes(&self, pod: &str, c: &str, t: SimTime) -> Option<i64> {
        if self.modelled.contains(pod) {
            return self.history(pod, c)?.at(t).map(|(_, m)| m);
        }
        Some(
            self.mem
                .get(&(pod.to_string(), c.to_string()))
                .copied()
                .unwrap_or(0),
        )
    }
    fn cpu_integral(&self, pod: &str, c: &str, from: SimTime, to: SimTime) -> i128 {
        if self.modelled.contains(pod) {
            return self.history(pod, c).map_or(0, |h| h.cpu_integral(from, to));
        }
        let n = self.counts.get(pod).copied().unwrap_or(1) as i128;
        let share = self.shares.get(pod).copied().unwrap_or(0).max(0) as i128;
        (share / n) * to.0.saturating_sub(from.0) as i128
    }
}

/// The metrics APIs as one HPA sees them.
struct WorldMetrics<'a> {
    server: &'a MetricsServer,
    /// (namespace/name, name) of the target's pods.
    pods: &'a [(String, String)],
    hpa: &'a HpaObject,
    now: SimTime,
    traffic_pods: &'a std::collections::BTreeMap<String, hpa::PodMetric>,
    traffic_services: &'a std::collections::BTreeMap<(String, String), (i64, SimTime)>,
    traffic_latency: &'a std::collections::BTreeMap<(String, String), (i64, SimTime)>,
    traffic_scraped: Option<SimTime>,
}

/// The custom metric the traffic model provides (docs/traffic.md).
pub const METRIC_REQUESTS_PER_SECOND: &str = "requests_per_second";
/// Object metric of a Service: the mean latency of the requests it served
/// since the previous scrape, in seconds (milli-units: ms).
pub const METRIC_REQUEST_LATENCY: &str = "request_latency_seconds";

impl World {
    /// The traffic part of a metrics scrape: requests per second per pod
    /// and per Service over the time since the previous scrape (milli),
    /// from the traffic model's counters. As for CPU, a pod needs two
    /// scrapes before it has a value.
    fn traffic_scrape(&mut self) {
        if self.traffic.is_empty() {
            return;
        }
        let now = self.now;
        let rate = |count: u64, prev: (SimTime, u64)| -> Option<(i64, Duration)> {
            let dt = now.0.checked_sub(prev.0 .0).filter(|d| *d > 0)?;
            let n = u128::from(count.saturating_sub(prev.1));
            Some((
                (n * 1_000_000_000 / u128::from(dt)).min(i64::MAX as u128) as i64,
                Duration::from_micros(dt),
            ))
        };
        let mut pods = std::collections::BTreeMap::new();
        let mut prev_pods = std::collections::BTreeMap::new();
        for key in self.traffic_serving_pods() {
            let count = self.traffic.routed.get(&key).copied().unwrap_or(0);
            if let Some(p) = self.hpa.traffic_prev_pods.get(&key) {
                if let Some((v, window)) = rate(count, *p) {
                    pods.insert(
                        key.clone(),
                        hpa::PodMetric {
                            value: v,
                            timestamp: now,
                            window,
                        },
                    );
                }
            }
            prev_pods.insert(key, (now, count));
        }
        let mut svcs = std::collections::BTreeMap::new();
        let mut prev_svcs = std::collections::BTreeMap::new();
        for (key, count) in self.traffic_service_requests() {
            if let Some(p) = self.hpa.traffic_prev_services.get(&key) {
                if let Some((v, _)) = rate(count, *p) {
                    svcs.insert(key.clone(), (v, now));
                }
            }
            prev_svcs.insert(key, (now, count));
        }
        let mut latency = std::collections::BTreeMap::new();
        let mut prev_latency = std::collections::BTreeMap::new();
        for (key, served, sum) in self.traffic_service_latency() {
            if let Some((ps, psum)) = self.hpa.traffic_prev_latency.get(&key) {
                let n = served.saturating_sub(*ps);
                if n > 0 {
                    // Mean latency in ms (milli-units of seconds), floored.
                    let ms = sum.saturating_sub(*psum) / u128::from(n) / 1000;
                    latency.insert(key.clone(), (ms.min(i64::MAX as u128) as i64, now));
                }
            }
            prev_latency.insert(key, (served, sum));
        }
        self.hpa.traffic_latency = latency;
        self.hpa.traffic_prev_latency = prev_latency;
        self.hpa.traffic_pods = pods;
        self.hpa.traffic_services = svcs;
        self.hpa.traffic_prev_pods = prev_pods;
        self.hpa.traffic_prev_services = prev_svcs;
        self.hpa.traffic_scraped = Some(now);
    }
}

impl MetricsClient for WorldMetrics<'_> {
    fn resource_metric(&self, r: ResourceName, container: Option<&str>) -> FetchedPodMetrics {
        self.server.resource_metrics(self.pods, r, container)
    }
    fn pods_metric(
        &self,
        name: &str,
        selector: Option<&crate::model::Selector>,
    ) -> FetchedPodMetrics {
        if name != METRIC_REQUESTS_PER_SECOND {
            return Err(format!(
                "custom metric {name}: the traffic model provides only {METRIC_REQUESTS_PER_SECOND}"
            ));
        }
        // The traffic model's series carry no labels: a selector that
        // needs one matches nothing (upstream's "no metrics returned").
        if selector.is_some_and(|sel| !sel.matches(&Default::default())) {
            return Err(format!(
                "unable to fetch metrics from custom metrics API: no {name} metrics match the selector"
            ));
        }
        let Some(ts) = self.traffic_scraped else {
            return Err(format!(
                "unable to fetch metrics from custom metrics API: no {name} metrics yet (no Service traffic scraped)"
            ));
        };
        let mut out = hpa::replica_calc::PodMetricsInfo::new();
        for (key, pod) in self.pods {
            if let Some(m) = self.traffic_pods.get(key) {
                out.insert(pod.clone(), *m);
            }
        }
        if out.is_empty() {
            return Err(format!(
                "unable to fetch metrics from custom metrics API: no {name} metrics returned for the target's pods"
            ));
        }
        Ok((out, ts))
    }
    fn object_metric(
        &self,
        kind: &str,
        name: &str,
        metric: &str,
        selector: Option<&crate::model::Selector>,
    ) -> Result<(i64, SimTime), String> {
        if selector.is_some_and(|sel| !sel.matches(&Default::default())) {
            return Err(format!(
                "unable to get metric {metric}: no series of {kind} {name} matches the selector"
            ));
        }
        let series = match (kind, metric) {
            ("Service", METRIC_REQUESTS_PER_SECOND) => self.traffic_services,
            ("Service", METRIC_REQUEST_LATENCY) => self.traffic_latency,
            _ => {
                return Err(format!(
                    "metric {metric} of {kind} {name}: the traffic model provides only {METRIC_REQUESTS_PER_SECOND} and {METRIC_REQUEST_LATENCY} of Services"
                ))
            }
        };
        match series.get(&(self.hpa.namespace.clone(), name.to_string())) {
            Some(v) => Ok(*v),
            None => Err(format!(
                "unable to get metric {metric}: Service {}/{name} has no traffic metrics yet",
                self.hpa.namespace
            )),
        }
    }
    fn external_metric(
        &self,
        name: &str,
        selector: Option<&crate::model::Selector>,
    ) -> Result<(Vec<i64>, SimTime), String> {
        match self.hpa.external.get(name) {
            // The series whose labels the selector matches (all without
            // one); none matching is an error, as upstream's
            // rest_metrics_client.go `GetExternalMetric`.
            Some(all) => {
                let vals: Vec<i64> = all
                    .iter()
                    .filter(|s| selector.is_none_or(|sel| sel.matches(&s.labels)))
                    .map(|s| s.series.value_at(self.now))
                    .collect();
                if vals.is_empty() {
                    Err("no metrics returned from external metrics API".to_string())
                } else {
                    Ok((vals, self.now))
                }
            }
            None => Err(format!(
                "no series for external metric {name} (annotation kubesim.dev/external-{name})"
            )),
        }
    }
}

impl World {
    /// Starts the cluster autoscaler when a pool is a node group.
    pub(super) fn start_cluster_autoscaler(&mut self) {
        use crate::autoscaler::cluster::{new_expander, NodeGroup};
        use crate::model::meta::ObjectMeta;
        let pools: Vec<_> = self
            .scenario
            .node_pools
            .iter()
            .filter(|p| p.autoscaling.is_some())
            .cloned()
            .collect();
        if pools.is_empty() {
            return;
        }
        let groups: Vec<NodeGroup> = pools
            .iter()
            .filter_map(|p| {
                let a = p.autoscaling.as_ref()?;
                let mut labels = p.labels.clone();
                crate::scenario::default_node_labels(&mut labels, &format!("{}-template", p.name));
                let mut n = crate::model::Node::new(
                    ObjectMeta {
                        name: format!("{}-template", p.name),
                        labels,
                        ..Default::default()
                    },
                    p.capacity.clone(),
                    p.allocatable.clone(),
                );
                n.taints = p.taints.clone();
                // As the pool's nodes are labelled (a multi-zone pool's
                // template is in its first zone), with its images and GPUs.
                if let Some(z) = p.zones.first() {
                    n.meta
                        .labels
                        .insert(crate::model::node::LABEL_ZONE.to_string(), z.clone());
                }
                if let Some(r) = &p.region {
                    n.meta
                        .labels
                        .insert(crate::model::node::LABEL_REGION.to_string(), r.clone());
                }
                if let Some(t) = &p.instance_type {
                    n.meta.labels.insert(
                        crate::model::node::LABEL_INSTANCE_TYPE.to_string(),
                        t.clone(),
                    );
                }
                n.pool = Some(p.name.clone());
                n.images = p.images.clone();
                n.gpus = p
                    .gpus
                    .as_ref()
                    .filter(|(c, _)| *c > 0)
                    .map(|(c, m)| crate::model::gpu::NodeGpus::new(*c, m));
                Some(NodeGroup {
                    name: p.name.clone(),
                    min: a.min_size,
                    max: a.max_size,
                    template: n,
                    provisioning_delay: a.provisioning_delay,
                    price_milli_per_hour: a.price_milli_per_hour,
                    priority: a.priority,
                })
            })
            .collect();
        let settings = self.scenario.cluster_autoscaler.clone();
        let rng = crate::engine::SimRng::derive(self.rng.seed(), "cluster-autoscaler/expander");
        let Ok(expander) = new_expander(&settings.expander, rng) else {
            return;
        };
        let Ok(checker) =
            crate::autoscaler::simulator::PredicateChecker::new(&self.scenario.scheduler.config)
        else {
            return;
        };
        let policy: Box<dyn crate::autoscaler::provisioner::NodeProvisioner> =
            if settings.policy == "karpenter" {
                Box::new(crate::autoscaler::provisioner::KarpenterPolicy::new(
                    settings.consolidate_after,
                    settings.disruption_budget_percent,
                ))
            } else {
                Box::new(crate::autoscaler::provisioner::ClusterAutoscalerPolicy {
                    expander,
                    tracker: Default::default(),
                    utilization_threshold_percent: settings.utilization_threshold_percent,
                    unneeded_time: settings.scale_down_unneeded_time,
                    delay_after_add: settings.scale_down_delay_after_add,
                })
            };
        let n = groups.len();
        self.hpa.ca = Some(ClusterAutoscaler {
            groups,
            policy,
            checker,
            settings,
            upcoming: vec![0; n],
            last_scale_up: None,
            deleting: Default::default(),
            node_us: vec![0; n],
            last_account: self.now,
            rows: Vec::new(),
            pending: 0,
        });
        self.push(self.now, Event::CaLoop);
    }

    fn group_nodes(&self, group: &str) -> Vec<crate::model::NodeId> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.present && n.pool.as_deref() == Some(group))
            .map(|(i, _)| crate::model::NodeId(i as u32))
            .collect()
    }

    /// `Event::CaLoop`: one cluster-autoscaler loop.
    pub(super) fn ca_loop(&mut self) {
        use crate::autoscaler::simulator::{filter_out_schedulable, Snapshot};
        let Some(mut ca) = self.hpa.ca.take() else {
            return;
        };
        // The snapshots below list nodes in the scheduler's order.
        if self.node_order_dirty {
            self.rebuild_node_order();
        }
        // Cost: node time per group since the last loop.
        let dt = self.now.since(ca.last_account).as_micros() as u128;
        for (i, g) in ca.groups.iter().enumerate() {
            ca.node_us[i] += dt * self.group_nodes(&g.name).len() as u128;
        }
        ca.last_account = self.now;
        // Nodes drained for removal go once empty.
        let done: Vec<String> = ca
            .deleting
            .iter()
            .filter(|name| {
                self.node_index.get(*name).copied().is_none_or(|id| {
                    self.pods_on(id)
                        .iter()
                        .all(|p| self.pods[p.0 as usize].phase().is_terminal())
                })
            })
            .cloned()
            .collect();
        for name in done {
            ca.deleting.remove(&name);
            let msg = format!("cluster autoscaler removed node {name}");
            self.log_event("ScaleDown", None, None, Some("ScaleDownEmpty"), Some(&msg));
            self.remove_node(&name);
        }
        // Scale-up for unschedulable pods.
        let pending: Vec<PodId> = (0..self.pods.len())
            .filter(|&i| {
                let p = &self.pods[i];
                self.pod_rt[i].live
                    && p.status.node.is_none()
                    && p.phase() == PodPhase::Pending
                    && !p.is_terminating()
                    && p.status.reason == "Unschedulable"
            })
            .map(|i| PodId(i as u32))
            .collect();
        ca.pending = pending.len() as u32;
        // The snapshot: the nodes there are (less those being removed) and
        // the nodes already coming up, as template copies (upstream adds
        // upcoming nodes before FilterOutSchedulable); pods that fit there
        // wait for the scheduler.
        let mut scale_up = None;
        if !pending.is_empty() {
            let mut snap = Snapshot::new(&self.view());
            for name in &ca.deleting {
                if let Some(id) = self.node_index.get(name) {
                    snap.remove_node(*id);
                }
            }
            for (i, g) in ca.groups.iter().enumerate() {
                for k in 0..ca.upcoming[i] {
                    snap.add_node(&g.template, &format!("{}-upcoming-{k}", g.name));
                }
            }
            let left = filter_out_schedulable(&ca.checker, &mut snap, &pending);
            if !left.is_empty() {
                let sizes: Vec<u32> = ca
                    .groups
                    .iter()
                    .enumerate()
                    .map(|(i, g)| self.group_nodes(&g.name).len() as u32 + ca.upcoming[i])
                    .collect();
                scale_up = ca
                    .policy
                    .scale_up(&ca.checker, &snap, &ca.groups, &sizes, &left);
            }
        }
        if let Some(o) = scale_up {
            let g = &ca.groups[o.group];
            ca.upcoming[o.group] += o.nodes;
            ca.last_scale_up = Some(self.now);
            let msg = format!(
                "cluster autoscaler: node group {} +{} nodes for {} pods ({})",
                g.name,
                o.nodes,
                o.pods.len(),
                ca.policy.describe()
            );
            let at = self.now.after(g.provisioning_delay);
            self.log_event("ScaleUp", None, None, Some("TriggeredScaleUp"), Some(&msg));
            for _ in 0..o.nodes {
                self.push(at, Event::CaNodeUp(o.group as u32));
            }
        }
        // Scale-down: the policy chooses among the ready group nodes not
        // being removed (none while pods are pending); the World drains
        // them through the eviction API, never below a group's minSize.
        let mut candidates = Vec::new();
        if pending.is_empty() {
            for (gi, g) in ca.groups.iter().enumerate() {
                for id in self.group_nodes(&g.name) {
                    let n = &self.nodes[id.0 as usize];
                    if !(ca.deleting.contains(&n.meta.name) || n.unschedulable || !n.is_ready()) {
                        candidates.push((id, gi));
                    }
                }
            }
        }
        // Without candidates the policy only resets its bookkeeping: an
        // empty snapshot spares copying the nodes.
        let mut snap = if candidates.is_empty() {
            Snapshot::new(&crate::scheduler::ClusterView {
                nodes: &[],
                node_order: &[],
                ..self.view()
            })
        } else {
            Snapshot::new(&self.view())
        };
        let mut exclude = std::collections::BTreeSet::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let id = crate::model::NodeId(i as u32);
            if ca.deleting.contains(&n.meta.name) {
                if !candidates.is_empty() {
                    snap.remove_node(id);
                }
            } else if n.present && (n.unschedulable || !n.is_ready()) {
                exclude.insert(id);
            }
        }
        let busy = |w: &World, name: &str| {
            w.node_index.get(name).is_some_and(|id| {
                w.pods_on(*id)
                    .iter()
                    .any(|p| !w.pods[p.0 as usize].phase().is_terminal())
            })
        };
        let group_nodes: usize = ca
            .groups
            .iter()
            .map(|g| self.group_nodes(&g.name).len())
            .sum();
        let input = crate::autoscaler::provisioner::ScaleDownInput {
            now: self.now,
            last_scale_up: ca.last_scale_up,
            candidates: &candidates,
            exclude: &exclude,
            group_nodes,
            deleting: ca.deleting.len(),
            draining_busy: ca.deleting.iter().any(|d| busy(self, d)),
        };
        let chosen = ca
            .policy
            .scale_down(&ca.checker, &mut snap, &ca.groups, &input);
        drop(snap);
        for id in chosen {
            let name = self.nodes[id.0 as usize].meta.name.clone();
            let Some(&(_, gi)) = candidates.iter().find(|(n, _)| *n == id) else {
                continue;
            };
            let g = &ca.groups[gi];
            let present = self.group_nodes(&g.name).len() as u32;
            let going = ca
                .deleting
                .iter()
                .filter(|d| d.starts_with(&format!("{}-", g.name)))
                .count() as u32;
            if present.saturating_sub(going) <= g.min {
                continue;
            }
            ca.deleting.insert(name.clone());
            let msg = format!("cluster autoscaler: node {name} unneeded, draining it");
            self.log_event("ScaleDown", None, None, Some("ScaleDown"), Some(&msg));
            self.drain(&name);
        }
        let next = self.now.after(ca.settings.scan_interval);
        self.hpa.ca = Some(ca);
        self.push(next, Event::CaLoop);
    }

    /// `Event::CaNodeUp(g)`: a node of group `g` finished provisioning.
    pub(super) fn ca_node_up(&mut self, g: u32) {
        let Some(ca) = self.hpa.ca.as_mut() else {
            return;
        };
        let Some(group) = ca.groups.get(g as usize) else {
            return;
        };
        let name = group.name.clone();
        ca.upcoming[g as usize] = ca.upcoming[g as usize].saturating_sub(1);
        self.add_pool_nodes(&name, 1);
    }

    /// `node_groups.csv` rows at a sample.
    pub(super) fn sample_node_groups(&mut self, t_us: u64) {
        let Some(ca) = self.hpa.ca.as_ref() else {
            return;
        };
        let mut rows = Vec::new();
        for (i, g) in ca.groups.iter().enumerate() {
            let nodes = self.group_nodes(&g.name).len() as u32;
            let node_seconds = (ca.node_us[i] / 1_000_000) as u64;
            rows.push(NodeGroupRow {
                t_us,
                group: g.name.clone(),
                nodes,
                upcoming: ca.upcoming[i],
                pending_pods: ca.pending,
                cost_milli: crate::autoscaler::cluster::cost_milli(
                    node_seconds,
                    g.price_milli_per_hour,
                ),
            });
        }
        if let Some(ca) = self.hpa.ca.as_mut() {
            // A sample taken again at the same instant (the final one)
            // replaces the earlier rows.
            while ca.rows.last().is_some_and(|r| r.t_us == t_us) {
                ca.rows.pop();
            }
            ca.rows.extend(rows);
        }
    }
}
