//! The World's side of autoscaling: the HorizontalPodAutoscaler
//! controller (one sync per HPA every `--horizontal-pod-autoscaler-sync-period`,
//! 15 s, through the policy the HPA selects), the metrics-server scrapes
//! (every 15 s) over the usage the target's pods see, the scale
//! subresource of Deployments and ReplicaSets, HPA events and the
//! `hpa.csv` samples.
//!
//! Usage model: until the node model's per-container usage is wired in,
//! the CPU load an HPA's `kubesim.dev/offered-load` annotation offers to
//! its target is shared equally by the target's Ready pods (as a Service
//! spreads requests over its ready endpoints; each container an equal
//! part); memory usage is the container's request.

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
}

/// Autoscaling state kept by the World.
#[derive(Default)]
pub(super) struct AutoscalingState {
    pub(super) hpas: Vec<HpaRuntime>,
    pub(super) config: ControllerConfig,
    metrics: MetricsServer,
    scraping: bool,
    pub(super) rows: Vec<HpaRow>,
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
            .any(|r| r.obj.namespace == h.namespace && r.obj.name == h.name)
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
        });
        // The first sync comes at once (the informer's add); the metrics
        // pipeline starts with the first HPA.
        self.push(self.now, Event::HpaSync(i));
        if !self.hpa.scraping {
            self.hpa.scraping = true;
            self.push(self.now, Event::MetricsScrape);
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
        let src = ShareSource {
            shares: &shares,
            counts: &counts,
            mem: &mem,
        };
        let mut ms = std::mem::take(&mut self.hpa.metrics);
        ms.scrape(self.now, &targets, &src);
        self.hpa.metrics = ms;
        let next = self.now.after(self.hpa.metrics.resolution);
        self.push(next, Event::MetricsScrape);
    }

    /// `Event::HpaSync(i)`: one sync of HPA `i`.
    pub(super) fn hpa_sync(&mut self, i: u32) {
        let i = i as usize;
        let Some(h) = self.hpa.hpas.get(i) else {
            return;
        };
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
            if !h.synced {
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
struct ShareSource<'a> {
    shares: &'a std::collections::BTreeMap<String, i64>,
    counts: &'a std::collections::BTreeMap<String, usize>,
    mem: &'a std::collections::BTreeMap<(String, String), i64>,
}

impl UsageSource for ShareSource<'_> {
    fn cpu_m(&self, pod: &str, _c: &str, _t: SimTime) -> Option<i64> {
        let n = self.counts.get(pod).copied().unwrap_or(1) as i64;
        Some(self.shares.get(pod).copied().unwrap_or(0) / n)
    }
    fn memory_bytes(&self, pod: &str, c: &str, _t: SimTime) -> Option<i64> {
        Some(
            self.mem
                .get(&(pod.to_string(), c.to_string()))
                .copied()
                .unwrap_or(0),
        )
    }
}

/// The metrics APIs as one HPA sees them.
struct WorldMetrics<'a> {
    server: &'a MetricsServer,
    /// (namespace/name, name) of the target's pods.
    pods: &'a [(String, String)],
    hpa: &'a HpaObject,
    now: SimTime,
}

impl MetricsClient for WorldMetrics<'_> {
    fn resource_metric(&self, r: ResourceName, container: Option<&str>) -> FetchedPodMetrics {
        self.server.resource_metrics(self.pods, r, container)
    }
    fn pods_metric(&self, name: &str) -> FetchedPodMetrics {
        Err(format!(
            "custom metric {name}: custom metrics are not simulated yet (they come with the traffic model)"
        ))
    }
    fn object_metric(
        &self,
        kind: &str,
        name: &str,
        metric: &str,
    ) -> Result<(i64, SimTime), String> {
        Err(format!(
            "metric {metric} of {kind} {name}: object metrics are not simulated yet (they come with the traffic model)"
        ))
    }
    fn external_metric(&self, name: &str) -> Result<(Vec<i64>, SimTime), String> {
        match self.hpa.external.get(name) {
            Some(s) => Ok((vec![s.value_at(self.now)], self.now)),
            None => Err(format!(
                "no series for external metric {name} (annotation kubesim.dev/external-{name})"
            )),
        }
    }
}
