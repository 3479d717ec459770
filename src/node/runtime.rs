//! The runtime seam: one trait shaped like the CRI `RuntimeService`
//! (run/stop/remove pod sandbox, create/start/stop/remove container,
//! update container resources, container status and stats, list), with
//! types that carry the kubelet's cgroup values ([`super::cgroup`]).
//!
//! [`SimRuntime`] implements it on simulated time: containers run
//! [`Workload`]s (usage models, CPU work, a run time, an exit code), CPU is
//! divided by the cgroup tree ([`super::cpu`]), CFS throttling and OOM
//! kills are accounted as cgroups report them. A Linux runtime implements
//! the same trait on real cgroups; [`super::conformance`] holds test bodies
//! generic over `impl Runtime` that both must pass.
//!
//! Time: [`Runtime::wait`] lets time pass (the simulated runtime advances
//! its clock, a real one sleeps), so the same test bodies work for both.

use std::collections::BTreeMap;

use super::cgroup::{CgroupSettings, LinuxContainerResources, QosParent, ResourceConfig};
use super::cpu::Throttling;
use super::cputree::CpuTree;
use super::usage::UsageModel;
use crate::engine::{Duration, SimTime};
use crate::model::pod::QosClass;

/// Sandbox (pod) id, as the runtime names it.
pub type SandboxId = String;
/// Container id, as the runtime names it.
pub type ContainerId = String;

/// CRI `PodSandboxConfig`, reduced to what kubesim uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodSandboxConfig {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub qos: QosClass,
    /// Where the pod cgroup goes (`linux.cgroup_parent`).
    pub parent: QosParent,
    /// The pod cgroup values (`ResourceConfigForPod`).
    pub resources: ResourceConfig,
    /// The pod's effective CPU request (for the burstable tier's shares).
    pub cpu_request_m: i64,
}

/// What a container does once started. A Linux runtime realises it with
/// a load generator (busy loops for the CPU demand, an allocation of the
/// memory, exit after the run time or the work).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Workload {
    /// CPU demand in millicores over time since start.
    pub cpu: UsageModel,
    /// Memory usage in bytes over time since start.
    pub memory: UsageModel,
    /// CPU work to do, millicore-µs; the container exits when it is done.
    pub cpu_work: Option<i64>,
    /// Exit after this long running.
    pub run_for: Option<Duration>,
    /// Exit code when it exits by itself.
    pub exit_code: i32,
}

/// CRI `ContainerConfig`, reduced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerConfig {
    pub name: String,
    pub image: String,
    /// The restart count the kubelet records on the container (attempt).
    pub attempt: u32,
    pub resources: LinuxContainerResources,
    pub workload: Workload,
    /// The container's environment (`envs`), resolved by the kubelet.
    pub envs: Vec<(String, String)>,
}

/// CRI `ContainerState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerState {
    Created,
    Running,
    Exited,
}

/// CRI `ContainerStatus`, reduced. Times are since the runtime started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerStatus {
    pub id: ContainerId,
    pub sandbox: SandboxId,
    pub name: String,
    pub attempt: u32,
    pub state: ContainerState,
    pub created_at: Duration,
    pub started_at: Option<Duration>,
    pub finished_at: Option<Duration>,
    pub exit_code: Option<i32>,
    /// `OOMKilled`, `Completed`, `Error` (exited), empty otherwise.
    pub reason: String,
    pub resources: LinuxContainerResources,
}

/// CRI `ContainerStats` plus the cgroup `cpu.stat` and memory events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerStats {
    /// Cumulative CPU time, µs of one core.
    pub cpu_usage_us: u64,
    /// Memory in use (working set), bytes.
    pub memory_working_set_bytes: i64,
    pub throttling: Throttling,
    pub oom_kills: u64,
    /// The current CPU demand and grant, millicores (simulated runtimes;
    /// a real one reports the recent rate as both).
    pub cpu_demand_m: i64,
    pub cpu_granted_m: i64,
}

/// CRI `PodSandboxStatus`, reduced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodSandboxStatus {
    pub id: SandboxId,
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub ready: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    #[error("container {id} is {state:?}, cannot {op}")]
    BadState {
        id: String,
        state: ContainerState,
        op: &'static str,
    },
    #[error("pod sandbox {0} is not ready")]
    SandboxNotReady(String),
    #[error("runtime failure: {0}")]
    Other(String),
}

/// One interface shaped like the CRI, implemented by the simulated runtime
/// and (later) a Linux runtime.
pub trait Runtime {
    /// The runtime's name and cgroup settings.
    fn name(&self) -> &str;
    fn run_pod_sandbox(&mut self, config: &PodSandboxConfig) -> Result<SandboxId, RuntimeError>;
    /// Stops every container of the sandbox (SIGKILL) and marks it not ready.
    fn stop_pod_sandbox(&mut self, id: &str) -> Result<(), RuntimeError>;
    /// Removes a stopped sandbox and its containers.
    fn remove_pod_sandbox(&mut self, id: &str) -> Result<(), RuntimeError>;
    fn create_container(
        &mut self,
        sandbox: &str,
        config: &ContainerConfig,
    ) -> Result<ContainerId, RuntimeError>;
    fn start_container(&mut self, id: &str) -> Result<(), RuntimeError>;
    /// SIGTERM, then SIGKILL after `timeout`; the simulated runtime's
    /// workloads exit at once on SIGTERM (exit code 143 → reported 0 as
    /// `Completed` when the stop was asked for).
    fn stop_container(&mut self, id: &str, timeout: Duration) -> Result<(), RuntimeError>;
    fn remove_container(&mut self, id: &str) -> Result<(), RuntimeError>;
    fn update_container_resources(
        &mut self,
        id: &str,
        resources: &LinuxContainerResources,
    ) -> Result<(), RuntimeError>;
    fn container_status(&self, id: &str) -> Result<ContainerStatus, RuntimeError>;
    fn container_stats(&self, id: &str) -> Result<ContainerStats, RuntimeError>;
    /// Containers, optionally of one sandbox, in creation order.
    fn list_containers(&self, sandbox: Option<&str>) -> Vec<ContainerStatus>;
    fn list_pod_sandboxes(&self) -> Vec<PodSandboxStatus>;
    /// Lets `d` of time pass (simulated: advance the clock; real: sleep).
    fn wait(&mut self, d: Duration);
}

/// What the kubelet's node agent ([`super::kubelet::NodeAgent`]) needs
/// from a runtime besides the CRI calls: time passing (the simulated
/// runtime integrates usage up to `t`; a real one polls its processes),
/// the exits seen since the last look, when it next changes by itself,
/// and node totals. [`SimRuntime`] implements it on simulated time, the
/// Linux runtime (`crate::linux::runtime`) on real processes.
pub trait NodeRuntime: Runtime + Send {
    fn advance_to(&mut self, t: SimTime);
    fn has_exits(&self) -> bool;
    fn take_exits(&mut self) -> Vec<Exit>;
    fn next_change(&self) -> Option<SimTime>;
    fn memory_used(&self) -> i64;
    fn cpu_totals(&self) -> (i64, i64);
    fn settings(&self) -> &CgroupSettings;
    /// A failure the runtime could not report through a call's result
    /// (the kubelet logic ignores failed starts); a real-time run stops on
    /// it. The simulated runtime never fails.
    fn take_failure(&mut self) -> Option<String> {
        None
    }
    /// Sets a running container's extra CPU demand (the traffic model's
    /// requests in flight). Real runtimes do not serve simulated traffic:
    /// the default ignores it.
    fn set_extra_demand(&mut self, _now: SimTime, _id: &str, _extra_m: i64) {}
    /// The part of a container's CPU grant serving its extra demand
    /// (millicores); 0 where traffic is not simulated.
    fn extra_grant(&self, _id: &str) -> i64 {
        0
    }
}

impl NodeRuntime for SimRuntime {
    fn advance_to(&mut self, t: SimTime) {
        SimRuntime::advance_to(self, t)
    }
    fn has_exits(&self) -> bool {
        SimRuntime::has_exits(self)
    }
    fn take_exits(&mut self) -> Vec<Exit> {
        SimRuntime::take_exits(self)
    }
    fn next_change(&self) -> Option<SimTime> {
        SimRuntime::next_change(self)
    }
    fn memory_used(&self) -> i64 {
        SimRuntime::memory_used(self)
    }
    fn cpu_totals(&self) -> (i64, i64) {
        SimRuntime::cpu_totals(self)
    }
    fn settings(&self) -> &CgroupSettings {
        SimRuntime::settings(self)
    }
    fn set_extra_demand(&mut self, now: SimTime, id: &str, extra_m: i64) {
        SimRuntime::set_extra_demand(self, now, id, extra_m)
    }
    fn extra_grant(&self, id: &str) -> i64 {
        SimRuntime::extra_grant(self, id)
    }
}

/// Something a container did by itself while time passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exit {
    pub container: ContainerId,
    pub sandbox: SandboxId,
    pub at: SimTime,
    pub exit_code: i32,
    pub reason: &'static str,
}

#[derive(Clone, Debug)]
struct Sandbox {
    config: PodSandboxConfig,
    ready: bool,
}

#[derive(Clone, Debug)]
struct Ctr {
    id: ContainerId,
    /// The number in the id (`ctr-N`): containers are kept in creation
    /// order, which is the order of these numbers.
    num: u64,
    sandbox: SandboxId,
    config: ContainerConfig,
    resources: LinuxContainerResources,
    state: ContainerState,
    created_at: SimTime,
    started_at: Option<SimTime>,
    finished_at: Option<SimTime>,
    exit_code: Option<i32>,
    reason: &'static str,
    cpu_used_m_us: u128,
    throttling: Throttling,
    oom_kills: u64,
    work_left: Option<i64>,
    demand_m: i64,
    granted_m: i64,
    memory: i64,
    /// Extra CPU demand on top of the workload's (the traffic model's
    /// requests in flight, `crate::cluster::traffic`), millicores.
    extra_m: i64,
}

/// The simulated container runtime of one node.
#[derive(Clone, Debug)]
pub struct SimRuntime {
    name: String,
    now: SimTime,
    start: SimTime,
    cpu_capacity_m: i64,
    settings: CgroupSettings,
    sandboxes: BTreeMap<SandboxId, Sandbox>,
    /// Containers in creation order (found by id with [`SimRuntime::slot`]).
    containers: Vec<Ctr>,
    next_sandbox: u64,
    next_container: u64,
    exits: Vec<Exit>,
    /// The cgroup CPU tree, rebuilt only when sandboxes or containers
    /// change (not on demand changes).
    tree: CpuTree,
    /// Tests: rebuild the tree and divide on every call (the reference
    /// the cached path is compared with).
    #[cfg(test)]
    rebuild_always: bool,
}

impl SimRuntime {
    /// A runtime for a node with `cpu_capacity_m` for pods, at time `now`.
    pub fn new(name: &str, cpu_capacity_m: i64, settings: CgroupSettings, now: SimTime) -> Self {
        SimRuntime {
            name: name.to_string(),
            now,
            start: now,
            cpu_capacity_m,
            settings,
            sandboxes: BTreeMap::new(),
            containers: Vec::new(),
            next_sandbox: 0,
            next_container: 0,
            exits: Vec::new(),
            tree: CpuTree::default(),
            #[cfg(test)]
            rebuild_always: false,
        }
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Advances to `t`, integrating usage and handling breakpoints (usage
    /// changes, OOM kills, finished work, run times) on the way.
    pub fn advance_to(&mut self, t: SimTime) {
        while self.now < t {
            let next = self.next_change().map_or(t, |n| n.min(t));
            let next = next.max(self.now);
            if next == self.now {
                // A breakpoint at the current instant: process it.
                self.process_now();
                if self.next_change() == Some(self.now) {
                    // Nothing changed at a breakpoint in the past; avoid a loop.
                    break;
                }
                continue;
            }
            self.integrate(next);
            self.process_now();
        }
        self.process_now();
    }

    /// Whether exits are waiting for [`SimRuntime::take_exits`].
    pub fn has_exits(&self) -> bool {
        !self.exits.is_empty()
    }

    /// The exits since the last call.
    pub fn take_exits(&mut self) -> Vec<Exit> {
        std::mem::take(&mut self.exits)
    }

    /// The earliest future time something changes by itself.
    pub fn next_change(&self) -> Option<SimTime> {
        let mut best: Option<SimTime> = None;
        let mut consider = |t: SimTime| {
            best = Some(best.map_or(t, |b: SimTime| b.min(t)));
        };
        for c in &self.containers {
            if c.state != ContainerState::Running {
                continue;
            }
            let Some(st) = c.started_at else { continue };
            let since = self.now.since(st);
            for m in [&c.config.workload.cpu, &c.config.workload.memory] {
                if let Some(d) = m.next_change_after(since) {
                    consider(st.after(d));
                }
            }
            if let Some(d) = c.config.workload.run_for {
                consider(st.after(d).max(self.now));
            }
            if let (Some(w), true) = (c.work_left, c.granted_m > 0) {
                let dt = (w + c.granted_m - 1) / c.granted_m;
                consider(self.now.after(Duration::from_micros(dt.max(0) as u64)));
            }
        }
        best
    }

    /// Total memory in use by running containers.
    pub fn memory_used(&self) -> i64 {
        self.containers
            .iter()
            .filter(|c| c.state == ContainerState::Running)
            .map(|c| c.memory)
            .fold(0i64, i64::saturating_add)
    }

    /// Total CPU demand and grant of running containers.
    pub fn cpu_totals(&self) -> (i64, i64) {
        self.containers
            .iter()
            .filter(|c| c.state == ContainerState::Running)
            .fold((0, 0), |(d, g), c| (d + c.demand_m, g + c.granted_m))
    }

    /// Sets a running container's extra CPU demand at `now` (the traffic
    /// model's requests in flight) and divides the CPU again.
    pub fn set_extra_demand(&mut self, now: SimTime, id: &str, extra_m: i64) {
        self.advance_to(now);
        let Some(c) = self.slot(id).map(|i| &mut self.containers[i]) else {
            return;
        };
        if c.state != ContainerState::Running || c.extra_m == extra_m {
            return;
        }
        let extra_m = extra_m.max(0);
        c.demand_m = (c.demand_m - c.extra_m).max(0) + extra_m;
        c.extra_m = extra_m;
        self.reallocate();
    }

    /// The part of a container's grant that serves its extra demand:
    /// the grant split in proportion to the workload's and the extra
    /// demand (floor), millicores.
    pub fn extra_grant(&self, id: &str) -> i64 {
        let Some(c) = self.slot(id).map(|i| &self.containers[i]) else {
            return 0;
        };
        if c.state != ContainerState::Running || c.extra_m <= 0 || c.demand_m <= 0 {
            return 0;
        }
        (i128::from(c.granted_m) * i128::from(c.extra_m) / i128::from(c.demand_m)) as i64
    }

    pub fn settings(&self) -> &CgroupSettings {
        &self.settings
    }

    fn integrate(&mut self, to: SimTime) {
        let dt = to.since(self.now).as_micros();
        for c in &mut self.containers {
            if c.state != ContainerState::Running {
                continue;
            }
            let Some(st) = c.started_at else { continue };
            c.cpu_used_m_us += u128::from(dt) * c.granted_m.max(0) as u128;
            if let Some(w) = c.work_left.as_mut() {
                *w = w.saturating_sub(
                    (i128::from(dt) * i128::from(c.granted_m)).min(i128::from(i64::MAX)) as i64,
                );
            }
            let from = self.now.since(st).as_micros();
            c.throttling.account(
                from,
                from + dt,
                c.resources.cpu_period.max(0) as u64,
                c.resources.cpu_limit_m(),
                c.demand_m,
                c.granted_m,
            );
        }
        self.now = to;
    }

    /// Applies the state at `now`: usage values, self-exits, then the CPU
    /// division.
    fn process_now(&mut self) {
        let now = self.now;
        for c in &mut self.containers {
            if c.state != ContainerState::Running {
                continue;
            }
            let Some(st) = c.started_at else { continue };
            let since = now.since(st);
            c.demand_m = c.config.workload.cpu.value_at(since).max(0) + c.extra_m;
            c.memory = c.config.workload.memory.value_at(since).max(0);
            let exit = if c.resources.memory_limit().is_some_and(|l| c.memory > l) {
                c.oom_kills += 1;
                Some((137, "OOMKilled"))
            } else if c.work_left.is_some_and(|w| w <= 0)
                || c.config.workload.run_for.is_some_and(|d| since >= d)
            {
                let code = c.config.workload.exit_code;
                Some((code, if code == 0 { "Completed" } else { "Error" }))
            } else {
                None
            };
            if let Some((code, reason)) = exit {
                c.state = ContainerState::Exited;
                c.finished_at = Some(now);
                c.exit_code = Some(code);
                c.reason = reason;
                c.demand_m = 0;
                c.granted_m = 0;
                self.tree.invalidate();
                self.exits.push(Exit {
                    container: c.id.clone(),
                    sandbox: c.sandbox.clone(),
                    at: now,
                    exit_code: code,
                    reason,
                });
            }
        }
        self.reallocate();
    }

    /// Recomputes every running container's CPU grant over the cgroup tree:
    /// kubepods → (guaranteed pods | burstable tier | besteffort tier →
    /// pods) → containers. The tree is rebuilt only after a change of
    /// sandboxes or containers ([`CpuTree::invalidate`]); otherwise the
    /// demands are copied in and the CPU divided again only if one changed.
    fn reallocate(&mut self) {
        #[cfg(test)]
        if self.rebuild_always {
            self.tree.invalidate();
        }
        if !self.tree.is_valid() {
            self.rebuild_tree();
        } else {
            let ctrs = &self.containers;
            self.tree.sync_demands(|i| ctrs[i].demand_m);
        }
        let ctrs = &mut self.containers;
        self.tree
            .divide(self.cpu_capacity_m, |i, g| ctrs[i].granted_m = g);
        #[cfg(test)]
        tests::assert_from_scratch(self);
    }

    /// Builds the cgroup tree from the ready sandboxes (in id order) and
    /// their running containers (in creation order).
    fn rebuild_tree(&mut self) {
        let s = self.settings;
        let burstable_m: i64 = self
            .sandboxes
            .values()
            .filter(|b| b.ready && b.config.qos == QosClass::Burstable)
            .map(|b| b.config.cpu_request_m)
            .sum();
        let tiers = super::cgroup::qos_tiers([(QosClass::Burstable, burstable_m)]);
        let tier_weight = |r: &ResourceConfig| s.cpu_weight_of(r.cpu_shares.unwrap_or(2));
        self.tree.reset(
            tier_weight(&tiers.burstable),
            tier_weight(&tiers.besteffort),
        );
        for (sid, sb) in &self.sandboxes {
            if !sb.ready {
                continue;
            }
            let mut pod = None;
            for (i, c) in self.containers.iter().enumerate() {
                if &c.sandbox != sid || c.state != ContainerState::Running {
                    continue;
                }
                let pod = *pod.get_or_insert_with(|| {
                    let r = &sb.config.resources;
                    let cap = match (r.cpu_quota, r.cpu_period) {
                        (Some(q), Some(p)) if q > 0 && p > 0 => Some(q * 1000 / p as i64),
                        _ => None,
                    };
                    self.tree.add_pod(
                        sb.config.parent,
                        s.cpu_weight_of(r.cpu_shares.unwrap_or(2)),
                        cap,
                    )
                });
                self.tree.add_leaf(
                    pod,
                    s.cpu_weight_of(c.resources.cpu_shares),
                    c.resources.cpu_limit_m(),
                    c.demand_m,
                    i,
                );
            }
        }
    }

    /// The index of container `id` in `containers` (ids are `ctr-N` with
    /// `N` increasing in creation order).
    fn slot(&self, id: &str) -> Option<usize> {
        let num: u64 = id.strip_prefix("ctr-")?.parse().ok()?;
        let i = self.containers.binary_search_by_key(&num, |c| c.num).ok()?;
        (self.containers[i].id == id).then_some(i)
    }

    fn ctr(&self, id: &str) -> Result<&Ctr, RuntimeError> {
        self.slot(id)
            .map(|i| &self.containers[i])
            .ok_or_else(|| RuntimeError::NotFound {
                kind: "container",
                id: id.to_string(),
            })
    }

    fn ctr_mut(&mut self, id: &str) -> Result<&mut Ctr, RuntimeError> {
        self.slot(id)
            .map(|i| &mut self.containers[i])
            .ok_or_else(|| RuntimeError::NotFound {
                kind: "container",
                id: id.to_string(),
            })
    }

    fn status_of(&self, c: &Ctr) -> ContainerStatus {
        ContainerStatus {
            id: c.id.clone(),
            sandbox: c.sandbox.clone(),
            name: c.config.name.clone(),
            attempt: c.config.attempt,
            state: c.state,
            created_at: c.created_at.since(self.start),
            started_at: c.started_at.map(|t| t.since(self.start)),
            finished_at: c.finished_at.map(|t| t.since(self.start)),
            exit_code: c.exit_code,
            reason: c.reason.to_string(),
            resources: c.resources.clone(),
        }
    }

    fn kill(&mut self, i: usize, code: i32, reason: &'static str) {
        let now = self.now;
        self.tree.invalidate();
        if let Some(c) = self.containers.get_mut(i) {
            if c.state == ContainerState::Running {
                c.state = ContainerState::Exited;
                c.finished_at = Some(now);
                c.exit_code = Some(code);
                c.reason = reason;
                c.demand_m = 0;
                c.granted_m = 0;
            } else if c.state == ContainerState::Created {
                c.state = ContainerState::Exited;
                c.finished_at = Some(now);
                c.exit_code = Some(code);
                c.reason = reason;
            }
        }
    }
}

impl Runtime for SimRuntime {
    fn name(&self) -> &str {
        &self.name
    }

    fn run_pod_sandbox(&mut self, config: &PodSandboxConfig) -> Result<SandboxId, RuntimeError> {
        self.next_sandbox += 1;
        let id = format!("sb-{}", self.next_sandbox);
        self.tree.invalidate();
        self.sandboxes.insert(
            id.clone(),
            Sandbox {
                config: config.clone(),
                ready: true,
            },
        );
        Ok(id)
    }

    fn stop_pod_sandbox(&mut self, id: &str) -> Result<(), RuntimeError> {
        if !self.sandboxes.contains_key(id) {
            return Err(RuntimeError::NotFound {
                kind: "pod sandbox",
                id: id.to_string(),
            });
        }
        for i in 0..self.containers.len() {
            if self.containers[i].sandbox == id {
                self.kill(i, 137, "Error");
            }
        }
        self.tree.invalidate();
        if let Some(sb) = self.sandboxes.get_mut(id) {
            sb.ready = false;
        }
        self.reallocate();
        Ok(())
    }

    fn remove_pod_sandbox(&mut self, id: &str) -> Result<(), RuntimeError> {
        if self.sandboxes.get(id).is_some_and(|s| s.ready) {
            self.stop_pod_sandbox(id)?;
        }
        if self.sandboxes.remove(id).is_none() {
            return Err(RuntimeError::NotFound {
                kind: "pod sandbox",
                id: id.to_string(),
            });
        }
        self.containers.retain(|c| c.sandbox != id);
        self.tree.invalidate();
        Ok(())
    }

    fn create_container(
        &mut self,
        sandbox: &str,
        config: &ContainerConfig,
    ) -> Result<ContainerId, RuntimeError> {
        match self.sandboxes.get(sandbox) {
            None => {
                return Err(RuntimeError::NotFound {
                    kind: "pod sandbox",
                    id: sandbox.to_string(),
                })
            }
            Some(s) if !s.ready => return Err(RuntimeError::SandboxNotReady(sandbox.to_string())),
            _ => {}
        }
        self.next_container += 1;
        let id = format!("ctr-{}", self.next_container);
        self.tree.invalidate();
        self.containers.push(Ctr {
            id: id.clone(),
            num: self.next_container,
            sandbox: sandbox.to_string(),
            config: config.clone(),
            resources: config.resources.clone(),
            state: ContainerState::Created,
            created_at: self.now,
            started_at: None,
            finished_at: None,
            exit_code: None,
            reason: "",
            cpu_used_m_us: 0,
            throttling: Throttling::default(),
            oom_kills: 0,
            work_left: config.workload.cpu_work,
            demand_m: 0,
            granted_m: 0,
            memory: 0,
            extra_m: 0,
        });
        Ok(id)
    }

    fn start_container(&mut self, id: &str) -> Result<(), RuntimeError> {
        let now = self.now;
        let c = self.ctr_mut(id)?;
        if c.state != ContainerState::Created {
            return Err(RuntimeError::BadState {
                id: id.to_string(),
                state: c.state,
                op: "start",
            });
        }
        c.state = ContainerState::Running;
        c.started_at = Some(now);
        self.tree.invalidate();
        self.process_now();
        Ok(())
    }

    fn stop_container(&mut self, id: &str, _timeout: Duration) -> Result<(), RuntimeError> {
        let st = self.ctr(id)?.state;
        if st == ContainerState::Running {
            // Simulated workloads handle SIGTERM and exit cleanly at once.
            if let Some(i) = self.slot(id) {
                self.kill(i, 0, "Completed");
            }
            self.reallocate();
        }
        Ok(())
    }

    fn remove_container(&mut self, id: &str) -> Result<(), RuntimeError> {
        let st = self.ctr(id)?.state;
        if st == ContainerState::Running {
            return Err(RuntimeError::BadState {
                id: id.to_string(),
                state: st,
                op: "remove",
            });
        }
        if let Some(i) = self.slot(id) {
            self.containers.remove(i);
        }
        // The slots after it moved.
        self.tree.invalidate();
        Ok(())
    }

    fn update_container_resources(
        &mut self,
        id: &str,
        resources: &LinuxContainerResources,
    ) -> Result<(), RuntimeError> {
        let c = self.ctr_mut(id)?;
        if c.state == ContainerState::Exited {
            return Err(RuntimeError::BadState {
                id: id.to_string(),
                state: c.state,
                op: "update",
            });
        }
        c.resources = resources.clone();
        self.tree.invalidate();
        self.process_now();
        Ok(())
    }

    fn container_status(&self, id: &str) -> Result<ContainerStatus, RuntimeError> {
        let c = self.ctr(id)?;
        Ok(self.status_of(c))
    }

    fn container_stats(&self, id: &str) -> Result<ContainerStats, RuntimeError> {
        let c = self.ctr(id)?;
        let running = c.state == ContainerState::Running;
        Ok(ContainerStats {
            cpu_usage_us: (c.cpu_used_m_us / 1000) as u64,
            memory_working_set_bytes: if running { c.memory } else { 0 },
            throttling: c.throttling,
            oom_kills: c.oom_kills,
            cpu_demand_m: c.demand_m,
            cpu_granted_m: c.granted_m,
        })
    }

    fn list_containers(&self, sandbox: Option<&str>) -> Vec<ContainerStatus> {
        self.containers
            .iter()
            .filter(|c| sandbox.is_none_or(|s| c.sandbox == s))
            .map(|c| self.status_of(c))
            .collect()
    }

    fn list_pod_sandboxes(&self) -> Vec<PodSandboxStatus> {
        self.sandboxes
            .iter()
            .map(|(id, s)| PodSandboxStatus {
                id: id.clone(),
                name: s.config.name.clone(),
                namespace: s.config.namespace.clone(),
                uid: s.config.uid.clone(),
                ready: s.ready,
            })
            .collect()
    }

    fn wait(&mut self, d: Duration) {
        let t = self.now.after(d);
        self.advance_to(t);
    }
}

#[cfg(test)]
mod tests {
    use super::super::conformance;
    use super::super::cpu::{self, CpuGroup};
    use super::*;
    use proptest::prelude::*;

    /// The tree built from scratch the way `reallocate` built it before
    /// the cache (every call, from the sandboxes in id order and each
    /// one's running containers in creation order): the groups and, per
    /// leaf, (group, container id).
    fn reference_tree(r: &SimRuntime) -> (Vec<CpuGroup>, Vec<(usize, ContainerId)>) {
        let s = r.settings;
        let mut groups = vec![CpuGroup {
            parent: 0,
            weight: 1,
            cap_m: None,
            demand_m: 0,
        }];
        let burstable_m: i64 = r
            .sandboxes
            .values()
            .filter(|b| b.ready && b.config.qos == QosClass::Burstable)
            .map(|b| b.config.cpu_request_m)
            .sum();
        let tiers = super::super::cgroup::qos_tiers([(QosClass::Burstable, burstable_m)]);
        for t in [&tiers.burstable, &tiers.besteffort] {
            groups.push(CpuGroup {
                parent: 0,
                weight: s.cpu_weight_of(t.cpu_shares.unwrap_or(2)),
                cap_m: None,
                demand_m: 0,
            });
        }
        let mut leaf_of = Vec::new();
        for (sid, sb) in &r.sandboxes {
            if !sb.ready {
                continue;
            }
            let running: Vec<&Ctr> = r
                .containers
                .iter()
                .filter(|c| &c.sandbox == sid && c.state == ContainerState::Running)
                .collect();
            if running.is_empty() {
                continue;
            }
            let parent = match sb.config.parent {
                QosParent::Kubepods => 0,
                QosParent::Burstable => 1,
                QosParent::BestEffort => 2,
            };
            let res = &sb.config.resources;
            let cap = match (res.cpu_quota, res.cpu_period) {
                (Some(q), Some(p)) if q > 0 && p > 0 => Some(q * 1000 / p as i64),
                _ => None,
            };
            let pod = groups.len();
            groups.push(CpuGroup {
                parent,
                weight: s.cpu_weight_of(res.cpu_shares.unwrap_or(2)),
                cap_m: cap,
                demand_m: 0,
            });
            for c in running {
                leaf_of.push((groups.len(), c.id.clone()));
                groups.push(CpuGroup {
                    parent: pod,
                    weight: s.cpu_weight_of(c.resources.cpu_shares),
                    cap_m: c.resources.cpu_limit_m(),
                    demand_m: c.demand_m,
                });
            }
        }
        (groups, leaf_of)
    }

    /// After every `reallocate` in a test: the cached tree is the one
    /// built from scratch, and every running container has the grant the
    /// from-scratch division gives it.
    pub(super) fn assert_from_scratch(r: &SimRuntime) {
        let (groups, leaf_of) = reference_tree(r);
        assert_eq!(r.tree.groups(), &groups[..], "cached tree differs");
        let grants = cpu::allocate(&groups, r.cpu_capacity_m);
        for (g, id) in leaf_of {
            let c = &r.containers[r.slot(&id).expect("leaf container")];
            assert_eq!(c.granted_m, grants[g], "grant of {id}");
        }
    }

    fn rt() -> SimRuntime {
        SimRuntime::new("sim", 4000, CgroupSettings::default(), SimTime::ZERO)
    }

    #[test]
    fn conformance_suite() {
        conformance::run_all(rt, &conformance::Tolerance::EXACT).unwrap();
    }

    #[test]
    fn cpu_work_is_stretched_by_contention() {
        let mut r = SimRuntime::new("sim", 1000, CgroupSettings::default(), SimTime::ZERO);
        let sb = conformance::sandbox(&mut r, "a", 0, 0).unwrap();
        let work = |w: i64| Workload {
            cpu: UsageModel::Const(1000),
            cpu_work: Some(w),
            ..Default::default()
        };
        // Two equal containers each wanting a full core on a 1-core node:
        // 1 CPU-second of work takes 2 s.
        let mut ids = Vec::new();
        for n in ["x", "y"] {
            let cfg = conformance::container(n, 0, 0, 0, 0, work(1_000_000_000));
            let id = r.create_container(&sb, &cfg).unwrap();
            r.start_container(&id).unwrap();
            ids.push(id);
        }
        assert_eq!(r.next_change(), Some(SimTime(2_000_000)));
        r.advance_to(SimTime(10_000_000));
        let exits = r.take_exits();
        assert_eq!(exits.len(), 2);
        assert!(exits
            .iter()
            .all(|e| e.at == SimTime(2_000_000) && e.reason == "Completed"));
        assert_eq!(r.container_stats(&ids[0]).unwrap().cpu_usage_us, 1_000_000);
    }

    /// One change to a runtime; indices pick among the sandboxes and
    /// containers created so far (modulo their number).
    #[derive(Clone, Debug)]
    enum Op {
        RunSandbox {
            qos: u8,
            request_m: i64,
            limit_m: i64,
        },
        StopSandbox(usize),
        RemoveSandbox(usize),
        Create {
            sandbox: usize,
            request_m: i64,
            limit_m: i64,
            memory_limit: i64,
            cpu: UsageModel,
            memory: i64,
            work: Option<i64>,
            run_for_ms: Option<u64>,
        },
        Start(usize),
        Stop(usize),
        Remove(usize),
        Update {
            ctr: usize,
            request_m: i64,
            limit_m: i64,
        },
        Extra {
            ctr: usize,
            extra_m: i64,
        },
        Wait(u64),
    }

    fn usage() -> impl Strategy<Value = UsageModel> {
        prop_oneof![
            (0i64..3000).prop_map(UsageModel::Const),
            prop::collection::vec((0u64..3000, 0i64..3000), 1..4).prop_map(|mut v| {
                v.sort();
                UsageModel::Steps(
                    v.into_iter()
                        .map(|(ms, m)| (Duration::from_millis(ms), m))
                        .collect(),
                )
            }),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        let m = prop::sample::select(vec![0i64, 1, 100, 250, 500, 1000, 2500]);
        prop_oneof![
            1 => (0u8..3, m.clone(), m.clone()).prop_map(|(qos, request_m, limit_m)| Op::RunSandbox {
                qos,
                request_m,
                limit_m
            }),
            1 => any::<usize>().prop_map(Op::StopSandbox),
            1 => any::<usize>().prop_map(Op::RemoveSandbox),
            2 => (
                any::<usize>(),
                m.clone(),
                m.clone(),
                prop::sample::select(vec![0i64, 0, 0, 1 << 20]),
                usage(),
                prop::sample::select(vec![0i64, 1 << 19, 1 << 21]),
                prop::option::weighted(0.2, 1i64..2_000_000_000),
                prop::option::weighted(0.2, 1u64..3000),
            )
                .prop_map(
                    |(sandbox, request_m, limit_m, memory_limit, cpu, memory, work, run_for_ms)| {
                        Op::Create {
                            sandbox,
                            request_m,
                            limit_m,
                            memory_limit,
                            cpu,
                            memory,
                            work,
                            run_for_ms,
                        }
                    }
                ),
            3 => any::<usize>().prop_map(Op::Start),
            1 => any::<usize>().prop_map(Op::Stop),
            1 => any::<usize>().prop_map(Op::Remove),
            1 => (any::<usize>(), m.clone(), m.clone()).prop_map(|(ctr, request_m, limit_m)| {
                Op::Update {
                    ctr,
                    request_m,
                    limit_m,
                }
            }),
            8 => (any::<usize>(), prop::sample::select(vec![0i64, 1, 100, 500, 1000, 3000]))
                .prop_map(|(ctr, extra_m)| Op::Extra { ctr, extra_m }),
            3 => (0u64..300_000).prop_map(Op::Wait),
        ]
    }

    /// Applies `op` to `r` at its current time; returns what the call
    /// answered (compared between runtimes).
    fn apply(
        r: &mut SimRuntime,
        op: &Op,
        sbs: &mut Vec<SandboxId>,
        ctrs: &mut Vec<ContainerId>,
    ) -> String {
        let pick = |v: &Vec<String>, i: usize| (!v.is_empty()).then(|| v[i % v.len()].clone());
        match op {
            Op::RunSandbox {
                qos,
                request_m,
                limit_m,
            } => {
                let qos = [
                    QosClass::Guaranteed,
                    QosClass::Burstable,
                    QosClass::BestEffort,
                ][usize::from(*qos)];
                let quota = (*limit_m > 0).then_some(limit_m * 100);
                let cfg = PodSandboxConfig {
                    name: format!("p{}", sbs.len()),
                    namespace: "default".into(),
                    uid: format!("u{}", sbs.len()),
                    qos,
                    parent: QosParent::of(qos),
                    resources: ResourceConfig {
                        cpu_shares: Some(super::super::cgroup::milli_cpu_to_shares(*request_m)),
                        cpu_quota: quota,
                        cpu_period: quota.map(|_| 100_000),
                        memory: None,
                    },
                    cpu_request_m: *request_m,
                };
                let res = r.run_pod_sandbox(&cfg);
                if let Ok(id) = &res {
                    sbs.push(id.clone());
                }
                format!("{res:?}")
            }
            Op::StopSandbox(i) => {
                pick(sbs, *i).map_or(String::new(), |id| format!("{:?}", r.stop_pod_sandbox(&id)))
            }
            Op::RemoveSandbox(i) => pick(sbs, *i).map_or(String::new(), |id| {
                format!("{:?}", r.remove_pod_sandbox(&id))
            }),
            Op::Create {
                sandbox,
                request_m,
                limit_m,
                memory_limit,
                cpu,
                memory,
                work,
                run_for_ms,
            } => {
                let Some(sb) = pick(sbs, *sandbox) else {
                    return String::new();
                };
                let w = Workload {
                    cpu: cpu.clone(),
                    memory: UsageModel::Const(*memory),
                    cpu_work: *work,
                    run_for: run_for_ms.map(Duration::from_millis),
                    exit_code: 0,
                };
                let cfg = conformance::container("c", *request_m, *limit_m, 0, *memory_limit, w);
                let res = r.create_container(&sb, &cfg);
                if let Ok(id) = &res {
                    ctrs.push(id.clone());
                }
                format!("{res:?}")
            }
            Op::Start(i) => {
                pick(ctrs, *i).map_or(String::new(), |id| format!("{:?}", r.start_container(&id)))
            }
            Op::Stop(i) => pick(ctrs, *i).map_or(String::new(), |id| {
                format!("{:?}", r.stop_container(&id, Duration::from_secs(1)))
            }),
            Op::Remove(i) => {
                pick(ctrs, *i).map_or(String::new(), |id| format!("{:?}", r.remove_container(&id)))
            }
            Op::Update {
                ctr,
                request_m,
                limit_m,
            } => pick(ctrs, *ctr).map_or(String::new(), |id| {
                let res =
                    conformance::container("c", *request_m, *limit_m, 0, 0, Workload::default())
                        .resources;
                format!("{:?}", r.update_container_resources(&id, &res))
            }),
            Op::Extra { ctr, extra_m } => pick(ctrs, *ctr).map_or(String::new(), |id| {
                let now = r.now();
                r.set_extra_demand(now, &id, *extra_m);
                format!("{}", r.extra_grant(&id))
            }),
            Op::Wait(us) => {
                r.wait(Duration::from_micros(*us));
                String::new()
            }
        }
    }

    /// Everything a caller can observe of a runtime.
    fn observe(r: &SimRuntime) -> String {
        let stats: Vec<_> = r
            .containers
            .iter()
            .map(|c| (c.id.clone(), r.container_stats(&c.id), r.extra_grant(&c.id)))
            .collect();
        format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {}",
            r.list_containers(None),
            r.list_pod_sandboxes(),
            stats,
            r.next_change(),
            r.cpu_totals(),
            r.exits,
            r.memory_used()
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// The cached tree and demand-only re-division give exactly the
        /// grants of a rebuild from scratch, over random sequences of
        /// sandbox and container changes, resource updates, demand
        /// changes and time passing (cgroup v1 and v2, both weight
        /// formulas): every `reallocate` is checked against the
        /// from-scratch tree (`assert_from_scratch`), and everything
        /// observable matches a runtime that rebuilds on every call.
        #[test]
        fn cached_tree_matches_rebuild_from_scratch(
            ops in prop::collection::vec(op(), 1..100),
            capacity in prop::sample::select(vec![0i64, 500, 1000, 3500, 16000]),
            v1 in any::<bool>(),
            linear in any::<bool>(),
        ) {
            let settings = CgroupSettings {
                version: if v1 { super::super::cgroup::CgroupVersion::V1 } else { super::super::cgroup::CgroupVersion::V2 },
                weight_formula: if linear { super::super::cgroup::WeightFormula::Linear } else { super::super::cgroup::WeightFormula::Quadratic },
                ..CgroupSettings::default()
            };
            let mut cached = SimRuntime::new("sim", capacity, settings, SimTime::ZERO);
            let mut scratch = cached.clone();
            scratch.rebuild_always = true;
            let (mut sa, mut ca, mut sb, mut cb) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for op in &ops {
                let a = apply(&mut cached, op, &mut sa, &mut ca);
                let b = apply(&mut scratch, op, &mut sb, &mut cb);
                prop_assert_eq!(a, b, "answers to {:?}", op);
                prop_assert_eq!(observe(&cached), observe(&scratch), "after {:?}", op);
            }
        }
    }
}
