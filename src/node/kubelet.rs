//! The kubelet's side of the node model for pods with usage models: it
//! turns a pod into a sandbox and containers on the node's
//! [`SimRuntime`] (with the cgroup values of [`super::cgroup`]), maps the
//! runtime's exits (OOM kills, finished CPU work) back to pods, and ranks
//! pods for eviction under memory pressure as upstream's eviction manager
//! does (pkg/kubelet/eviction/helpers.go `rankMemoryPressure`).

use std::collections::BTreeMap;

use super::cgroup::{pod_cgroups, CgroupSettings};
use super::runtime::{
    ContainerConfig, ContainerId, NodeRuntime, PodSandboxConfig, SandboxId, SimRuntime, Workload,
};
use super::usage::UsageModel;
use crate::engine::{SimTime, TimerId};
use crate::model::Pod;

/// A pod's run ended in the node model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodExit {
    /// The pod (index in the World's pod table).
    pub pod: u32,
    pub exit_code: i32,
    pub reason: &'static str,
    /// The container that caused it.
    pub container: String,
}

#[derive(Clone, Debug)]
struct Ctr {
    /// Index in `spec.containers`.
    index: usize,
    name: String,
    id: Option<ContainerId>,
    has_work: bool,
    oom_kills: u64,
    cpu_limit_m: Option<i64>,
    memory_limit: Option<i64>,
}

#[derive(Clone, Debug)]
struct PodEntry {
    sandbox: SandboxId,
    namespace: String,
    name: String,
    containers: Vec<Ctr>,
    exit_code: i32,
    memory_request: i64,
    priority: i32,
}

/// One container's figures at a sample (`containers.csv`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerSample {
    pub pod: u32,
    pub namespace: String,
    pub pod_name: String,
    pub container: String,
    pub cpu_demand_m: i64,
    pub cpu_granted_m: i64,
    pub cpu_limit_m: Option<i64>,
    pub throttled_periods: u64,
    pub throttled_us: u64,
    pub memory_bytes: i64,
    pub memory_limit_bytes: Option<i64>,
    pub oom_kills: u64,
}

/// The node model of one node, over any [`NodeRuntime`] (the simulated
/// one, or real processes with the Linux backend).
pub struct NodeAgent {
    pub runtime: Box<dyn NodeRuntime>,
    pods: BTreeMap<u32, PodEntry>,
    /// The pending node-model event (kept by the World).
    pub timer: Option<TimerId>,
    /// MemoryPressure condition and since when it last held.
    pub memory_pressure: bool,
    pub pressure_last_seen: SimTime,
    /// The eviction manager's next look, while memory is short or the
    /// condition holds.
    pub check_at: Option<SimTime>,
    /// Evictions by this kubelet.
    pub evictions: u64,
    /// Throttled time and OOM kills of containers that are gone.
    pub gone_throttled_us: u64,
    pub oom_kills: u64,
    memory_capacity: i64,
}

impl NodeAgent {
    pub fn new(
        name: &str,
        cpu_capacity_m: i64,
        memory_capacity: i64,
        settings: CgroupSettings,
        now: SimTime,
    ) -> Self {
        Self::with_runtime(
            Box::new(SimRuntime::new(name, cpu_capacity_m, settings, now)),
            memory_capacity,
        )
    }

    /// An agent over another runtime (e.g. real processes).
    pub fn with_runtime(runtime: Box<dyn NodeRuntime>, memory_capacity: i64) -> Self {
        NodeAgent {
            runtime,
            pods: BTreeMap::new(),
            timer: None,
            memory_pressure: false,
            pressure_last_seen: SimTime::ZERO,
            check_at: None,
            evictions: 0,
            gone_throttled_us: 0,
            oom_kills: 0,
            memory_capacity,
        }
    }

    pub fn has_pods(&self) -> bool {
        !self.pods.is_empty()
    }

    /// Starts (or restarts) the pod's containers at `now`: a sandbox with
    /// the pod's cgroup values the first time, then one container per app
    /// container with its usage models (random ones seeded by `seed` and
    /// `namespace/pod/container`).
    pub fn start_pod(&mut self, now: SimTime, id: u32, pod: &Pod, seed: u64) {
        self.runtime.advance_to(now);
        // Pods without usage models get containers that use nothing by
        // themselves (pods serving traffic, `crate::cluster::traffic`).
        let no_usage = super::usage::PodUsage::default();
        let usage = pod.behavior.usage.as_deref().unwrap_or(&no_usage);
        let cg = pod_cgroups(
            &pod.spec,
            pod.qos,
            self.runtime.settings(),
            self.memory_capacity,
        );
        if !self.pods.contains_key(&id) {
            let cfg = PodSandboxConfig {
                name: pod.meta.name.clone(),
                namespace: pod.meta.namespace.clone(),
                uid: pod.meta.uid.clone(),
                qos: pod.qos,
                parent: cg.parent,
                resources: cg.pod.clone(),
                cpu_request_m: cg.cpu_request_m,
            };
            let Ok(sandbox) = self.runtime.run_pod_sandbox(&cfg) else {
                return;
            };
            let containers = pod
                .spec
                .containers
                .iter()
                .enumerate()
                .map(|(i, c)| Ctr {
                    index: i,
                    name: c.name.clone(),
                    id: None,
                    has_work: usage
                        .containers
                        .get(i)
                        .is_some_and(|u| u.cpu_work.is_some()),
                    oom_kills: 0,
                    cpu_limit_m: None,
                    memory_limit: None,
                })
                .collect();
            self.pods.insert(
                id,
                PodEntry {
                    sandbox,
                    namespace: pod.meta.namespace.clone(),
                    name: pod.meta.name.clone(),
                    containers,
                    exit_code: pod.behavior.exit_code,
                    memory_request: pod.requests.memory,
                    priority: pod.spec.priority,
                },
            );
        }
        self.stop_containers(id);
        let Some(entry) = self.pods.get_mut(&id) else {
            return;
        };
        let sandbox = entry.sandbox.clone();
        let key = format!("{}/{}", pod.meta.namespace, pod.meta.name);
        for ctr in entry.containers.iter_mut() {
            let u = usage.containers.get(ctr.index).cloned().unwrap_or_default();
            let Some(c) = pod.spec.containers.get(ctr.index) else {
                continue;
            };
            let Some(cc) = cg.container(&c.name) else {
                continue;
            };
            let stream = format!("{key}/{}", c.name);
            let workload = Workload {
                cpu: u
                    .cpu
                    .unwrap_or_default()
                    .seeded(seed, &format!("{stream}/cpu")),
                memory: u
                    .memory
                    .unwrap_or(UsageModel::Const(0))
                    .seeded(seed, &format!("{stream}/memory")),
                cpu_work: u.cpu_work,
                run_for: None,
                exit_code: pod.behavior.exit_code,
            };
            ctr.cpu_limit_m = cc.resources.cpu_limit_m();
            ctr.memory_limit = cc.resources.memory_limit();
            let cfg = ContainerConfig {
                name: c.name.clone(),
                image: c.image.clone(),
                attempt: pod.status.restart_count,
                resources: cc.resources.clone(),
                workload,
                envs: pod.container_env(c),
            };
            if let Ok(cid) = self.runtime.create_container(&sandbox, &cfg) {
                if self.runtime.start_container(&cid).is_ok() {
                    ctr.id = Some(cid);
                }
            }
        }
    }

    fn stop_containers(&mut self, id: u32) {
        let Some(entry) = self.pods.get_mut(&id) else {
            return;
        };
        for ctr in entry.containers.iter_mut() {
            if let Some(cid) = ctr.id.take() {
                let _ = self
                    .runtime
                    .stop_container(&cid, crate::engine::Duration::ZERO);
                if let Ok(s) = self.runtime.container_stats(&cid) {
                    self.gone_throttled_us += s.throttling.throttled_us;
                }
                let _ = self.runtime.remove_container(&cid);
            }
        }
    }

    /// The pod's run ended (or its node failed): its containers stop.
    pub fn stop_pod(&mut self, now: SimTime, id: u32) {
        self.runtime.advance_to(now);
        self.stop_containers(id);
    }

    /// The pod left the node: stop and remove its sandbox.
    pub fn remove_pod(&mut self, now: SimTime, id: u32) {
        self.runtime.advance_to(now);
        self.stop_containers(id);
        if let Some(e) = self.pods.remove(&id) {
            let _ = self.runtime.remove_pod_sandbox(&e.sandbox);
        }
    }

    /// Advances to `now` and returns the pods whose run ended: an OOM kill
    /// ends it at once; finished CPU work ends it when every container
    /// with work is done.
    pub fn advance(&mut self, now: SimTime) -> Vec<PodExit> {
        self.runtime.advance_to(now);
        let exits = self.runtime.take_exits();
        let mut out: Vec<PodExit> = Vec::new();
        for ex in exits {
            let Some((&pid, entry)) = self.pods.iter_mut().find(|(_, e)| e.sandbox == ex.sandbox)
            else {
                continue;
            };
            let Some(ctr) = entry
                .containers
                .iter_mut()
                .find(|c| c.id.as_deref() == Some(ex.container.as_str()))
            else {
                continue;
            };
            if out.iter().any(|o| o.pod == pid) {
                continue;
            }
            if ex.reason == "OOMKilled" {
                ctr.oom_kills += 1;
                self.oom_kills += 1;
                out.push(PodExit {
                    pod: pid,
                    exit_code: 137,
                    reason: "OOMKilled",
                    container: ctr.name.clone(),
                });
                continue;
            }
            let name = ctr.name.clone();
            if !ctr.has_work {
                // A container without CPU work never exits by itself in
                // the simulated runtime; a real process may (it crashed,
                // or its workload ended): its exit ends the pod's run.
                out.push(PodExit {
                    pod: pid,
                    exit_code: ex.exit_code,
                    reason: ex.reason,
                    container: name,
                });
                continue;
            }
            // Work done: the pod ends when no container with work still runs.
            let runtime = &self.runtime;
            let all_done = entry.containers.iter().filter(|c| c.has_work).all(|c| {
                c.id.as_ref().is_none_or(|id| {
                    runtime
                        .container_status(id)
                        .map(|s| s.state != super::runtime::ContainerState::Running)
                        .unwrap_or(true)
                })
            });
            if all_done {
                // The simulated runtime exits with the pod's exit code; a
                // real process that failed otherwise reports its own.
                let code = if ex.exit_code != 0 {
                    ex.exit_code
                } else {
                    entry.exit_code
                };
                out.push(PodExit {
                    pod: pid,
                    exit_code: code,
                    reason: if code == 0 { "Completed" } else { "Error" },
                    container: name,
                });
            }
        }
        out
    }

    /// When the node model next changes by itself, and whether that change
    /// must happen for the run to finish (CPU work in progress).
    pub fn next_change(&self) -> Option<SimTime> {
        self.runtime.next_change()
    }

    pub fn has_pending_work(&self) -> bool {
        self.pods.values().any(|e| {
            e.containers.iter().any(|c| {
                c.has_work
                    && c.id.as_ref().is_some_and(|id| {
                        self.runtime
                            .container_status(id)
                            .is_ok_and(|s| s.state == super::runtime::ContainerState::Running)
                    })
            })
        })
    }

    /// Memory in use by the pod's running containers.
    pub fn pod_memory(&self, id: u32) -> i64 {
        self.pods.get(&id).map_or(0, |e| {
            e.containers
                .iter()
                .filter_map(|c| c.id.as_ref())
                .filter_map(|cid| self.runtime.container_stats(cid).ok())
                .map(|s| s.memory_working_set_bytes)
                .sum()
        })
    }

    /// Upstream `rankMemoryPressure` over `(pod, memory request, priority)`:
    /// pods whose usage exceeds their request first, then lower priority,
    /// then larger usage above the request; ties by pod index.
    pub fn rank_for_memory_eviction(&self, candidates: &[(u32, i64, i32)]) -> Vec<u32> {
        let mut v: Vec<(bool, i32, i64, u32)> = candidates
            .iter()
            .map(|&(p, req, prio)| {
                let used = self.pod_memory(p);
                (used > req, prio, used - req, p)
            })
            .collect();
        v.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(a.1.cmp(&b.1))
                .then(b.2.cmp(&a.2))
                .then(a.3.cmp(&b.3))
        });
        v.into_iter().map(|x| x.3).collect()
    }

    /// The (memory request, priority) the agent recorded for a pod.
    pub fn pod_request_priority(&self, id: u32) -> Option<(i64, i32)> {
        self.pods.get(&id).map(|e| (e.memory_request, e.priority))
    }

    /// One row per running container, in pod then container order.
    pub fn samples(&self) -> Vec<ContainerSample> {
        let mut out = Vec::new();
        for (&pid, e) in &self.pods {
            for c in &e.containers {
                let Some(cid) = &c.id else { continue };
                let Ok(s) = self.runtime.container_stats(cid) else {
                    continue;
                };
                out.push(ContainerSample {
                    pod: pid,
                    namespace: e.namespace.clone(),
                    pod_name: e.name.clone(),
                    container: c.name.clone(),
                    cpu_demand_m: s.cpu_demand_m,
                    cpu_granted_m: s.cpu_granted_m,
                    cpu_limit_m: c.cpu_limit_m,
                    throttled_periods: s.throttling.nr_throttled,
                    throttled_us: s.throttling.throttled_us,
                    memory_bytes: s.memory_working_set_bytes,
                    memory_limit_bytes: c.memory_limit,
                    oom_kills: c.oom_kills,
                });
            }
        }
        out
    }

    /// Throttled time of every container so far (gone and running).
    pub fn throttled_us_total(&self) -> u64 {
        let running: u64 = self.samples().iter().map(|s| s.throttled_us).sum();
        self.gone_throttled_us + running
    }

    /// Sets the extra CPU demand (traffic) of the pod's first running
    /// container at `now`.
    pub fn set_traffic_demand(&mut self, now: SimTime, id: u32, extra_m: i64) {
        let Some(cid) = first_container(&self.pods, id) else {
            return;
        };
        self.runtime.set_extra_demand(now, cid, extra_m);
    }

    /// The CPU the pod's first container gets for its extra demand.
    pub fn traffic_grant(&self, id: u32) -> i64 {
        first_container(&self.pods, id).map_or(0, |cid| self.runtime.extra_grant(cid))
    }

    /// The CPU limit of the pod's first container, millicores.
    pub fn first_cpu_limit(&self, id: u32) -> Option<i64> {
        self.pods
            .get(&id)
            .and_then(|e| e.containers.first())
            .and_then(|c| c.cpu_limit_m)
    }

    /// The pods the agent runs.
    pub fn pod_ids(&self) -> Vec<u32> {
        self.pods.keys().copied().collect()
    }
}

/// The runtime id of pod `id`'s first container (borrowed: the traffic
/// model asks on every request).
fn first_container(pods: &BTreeMap<u32, PodEntry>, id: u32) -> Option<&str> {
    pods.get(&id)
        .and_then(|e| e.containers.first())
        .and_then(|c| c.id.as_deref())
}
