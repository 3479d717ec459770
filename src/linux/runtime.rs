//! The Linux runtime: [`crate::node::runtime::Runtime`] on real cgroups
//! and processes. One `LinuxRuntime` is one simulated node: a cgroup
//! subtree `<node>/` whose CPU quota and memory limit emulate the node's
//! capacity, with the kubelet's cgroupfs layout beneath it
//! (`kubepods/{burstable,besteffort}/pod<uid>/<container id>`, Guaranteed
//! pods directly under `kubepods`), written with the values of the same
//! functions the simulator uses ([`crate::node::cgroup`]). Each container
//! is a [`super::spawn`]ed `kubesim burn` following its [`Workload`].
//!
//! It also implements [`NodeRuntime`], so that the World's kubelet
//! ([`crate::node::kubelet::NodeAgent`]) drives it in a real-time run:
//! [`NodeRuntime::advance_to`] polls the processes and reports each
//! container that ended by itself (completion, OOM kill, failure) once,
//! at the simulated time of the poll; a stop the kubelet asked for is not
//! reported back.
//!
//! Usage models are passed to `burn` as breakpoints (times ÷ speed);
//! CPU work is CPU time of the container (millicore·µs / 1000 ÷ speed).
//! With a speed other than 1 the CFS period (and quota) of every group is
//! divided by the speed within the kernel's 1 ms..1 s, so a simulated
//! period is a real period; counters of time are multiplied back.
#![allow(clippy::disallowed_methods)] // real time is the point

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::cgroupfs::{CgLimits, CgName, DEFAULT_PERIOD_US};
use super::guard::Session;
use crate::engine::{Duration, SimTime};
use crate::model::pod::QosClass;
use crate::model::usage::UsageModel;
use crate::node::cgroup::{
    milli_cpu_to_shares, qos_tiers, CgroupSettings, LinuxContainerResources, QosParent,
    ResourceConfig,
};
use crate::node::cpu::Throttling;
use crate::node::runtime::{
    ContainerConfig, ContainerId, ContainerState, ContainerStats, ContainerStatus, Exit,
    NodeRuntime, PodSandboxConfig, PodSandboxStatus, Runtime, RuntimeError, SandboxId,
};

/// The kernel's limits on `cpu.cfs_period_us` (1 ms..1 s).
pub const MIN_PERIOD_US: u64 = 1_000;
pub const MAX_PERIOD_US: u64 = 1_000_000;

/// The CFS period (and quota, in proportion) for a run at `speed`: a
/// simulated period of `period` µs lasts `period / speed` µs of wall
/// time, clamped to the kernel's 1 ms..1 s. Returns (period, quota).
pub fn scaled_period(period_us: u64, quota_us: Option<u64>, speed: f64) -> (u64, Option<u64>) {
    if period_us == 0 {
        return (period_us, quota_us);
    }
    let p = ((period_us as f64 / speed).round() as u64).clamp(MIN_PERIOD_US, MAX_PERIOD_US);
    let q = quota_us.map(|q| ((q as u128 * p as u128) / period_us as u128).max(1000) as u64);
    (p, q)
}

/// At most this many breakpoints of a usage model go to `burn` (random
/// models change forever).
pub const MAX_BREAKPOINTS: usize = 2000;

/// A usage model as `burn` breakpoints `wall_ms:value,...` over the
/// first `horizon` of simulated time (at most [`MAX_BREAKPOINTS`]).
pub fn breakpoints(m: &UsageModel, speed: f64, horizon: Duration) -> String {
    let mut out = Vec::new();
    let mut t = Duration::ZERO;
    loop {
        let wall_ms = (t.as_micros() as f64 / speed / 1000.0).round() as u64;
        out.push(format!("{wall_ms}:{}", m.value_at(t).max(0)));
        match m.next_change_after(t) {
            Some(n) if n > t && n <= horizon && out.len() < MAX_BREAKPOINTS => t = n,
            _ => break,
        }
    }
    out.join(",")
}

/// Keeps `[A-Za-z0-9._-]`, replaces the rest with `_` (cgroup names).
pub fn sanitize(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    match t.as_str() {
        "" | "." | ".." => format!("_{t}"),
        _ => t,
    }
}

fn other(e: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::Other(e.to_string())
}

/// `ResourceConfig` → cgroup limits (`None` = not written).
fn rc_limits(rc: &ResourceConfig) -> CgLimits {
    CgLimits {
        cpu_quota_us: rc.cpu_quota.map(|q| (q > 0).then_some(q as u64)),
        cpu_period_us: rc.cpu_period,
        cpu_shares: rc.cpu_shares,
        memory_max: rc.memory.map(|m| (m > 0).then_some(m as u64)),
        ..Default::default()
    }
}

/// CRI container resources → cgroup limits (0 = unlimited).
fn cri_limits(r: &LinuxContainerResources) -> CgLimits {
    CgLimits {
        cpu_quota_us: Some((r.cpu_quota > 0).then_some(r.cpu_quota as u64)),
        cpu_period_us: (r.cpu_period > 0).then_some(r.cpu_period as u64),
        cpu_shares: Some(r.cpu_shares),
        memory_max: Some((r.memory_limit_in_bytes > 0).then_some(r.memory_limit_in_bytes as u64)),
        ..Default::default()
    }
}

/// The CFS period and quota of `l` for a run at `speed` ([`scaled_period`]).
fn scale_limits(mut l: CgLimits, speed: f64) -> CgLimits {
    if speed == 1.0 {
        return l;
    }
    if let Some(p) = l.cpu_period_us {
        let q = l.cpu_quota_us.flatten();
        let (p2, q2) = scaled_period(p, q, speed);
        l.cpu_period_us = Some(p2);
        if q.is_some() {
            l.cpu_quota_us = Some(q2);
        }
    }
    l
}

struct Sandbox {
    config: PodSandboxConfig,
    group: CgName,
    ready: bool,
}

struct Ctr {
    sandbox: SandboxId,
    config: ContainerConfig,
    resources: LinuxContainerResources,
    group: CgName,
    created_at: Duration,
    started_at: Option<Duration>,
    pid: Option<u32>,
    stop_requested: bool,
    removed_group: bool,
    /// Simulated time of the start (for the usage model's value).
    sim_started: SimTime,
}

#[derive(Default)]
struct Seen {
    finished_at: Option<Duration>,
    /// (wall µs since start, cpu usage µs) at the previous stats call.
    last: Option<(u64, u64)>,
    rate_m: i64,
}

/// One simulated node on real cgroups.
pub struct LinuxRuntime {
    name: String,
    session: Arc<Session>,
    burn: PathBuf,
    node: CgName,
    epoch: Instant,
    sandboxes: BTreeMap<SandboxId, Sandbox>,
    containers: BTreeMap<ContainerId, Ctr>,
    order: Vec<ContainerId>,
    seen: RefCell<BTreeMap<ContainerId, Seen>>,
    next: u64,
    /// Scenario seconds per wall-clock second.
    speed: f64,
    settings: CgroupSettings,
    /// The simulated time of the last poll, and the exits not yet taken.
    sim_now: SimTime,
    exits: Vec<Exit>,
    reported: std::collections::BTreeSet<ContainerId>,
    /// How far ahead `burn` gets usage breakpoints.
    pub horizon: Duration,
    /// Where finished container runs are recorded (replay), and which are.
    completions: Option<Arc<std::sync::Mutex<Vec<Completion>>>>,
    recorded: std::collections::BTreeSet<ContainerId>,
    /// The first failure to start a container (see [`NodeRuntime::take_failure`]).
    failure: Option<String>,
}

/// One real container run, for `completions.csv` (times in simulated µs
/// since the run's start; CPU time in simulated µs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    pub node: String,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub started_us: u64,
    /// `None`: still running at the end of the run.
    pub finished_us: Option<u64>,
    pub exit_code: Option<i32>,
    pub reason: String,
    pub cpu_usage_us: u64,
    pub oom_kills: u64,
}

/// The node-model poll interval a real node asks for while containers run
/// (simulated time): keeps a real-time run alive while work is pending.
pub const POLL_TICK: Duration = Duration::from_millis(100);

impl LinuxRuntime {
    /// A node named `node` with `cpu_m` millicores and `memory` bytes for
    /// pods (quota over the default period and memory limit on the node's
    /// group, `kubepods` with the same values). `burn` is the kubesim
    /// binary that runs the workloads.
    pub fn new(
        session: Arc<Session>,
        node: &str,
        cpu_m: i64,
        memory: i64,
        burn: PathBuf,
    ) -> Result<LinuxRuntime, RuntimeError> {
        Self::with_cpus(session, node, cpu_m, memory, burn, None)
    }

    /// As [`LinuxRuntime::new`], with the node pinned to host CPUs (a
    /// cpuset list such as `0` or `0,1`). A quota alone lets a 1-CPU node
    /// run on two host CPUs at once for half of each period; pinning
    /// makes the emulated node's parallelism that of the real one.
    pub fn with_cpus(
        session: Arc<Session>,
        node: &str,
        cpu_m: i64,
        memory: i64,
        burn: PathBuf,
        cpus: Option<String>,
    ) -> Result<LinuxRuntime, RuntimeError> {
        Self::with_options(
            session,
            node,
            cpu_m,
            memory,
            burn,
            cpus,
            1.0,
            CgroupSettings::default(),
        )
    }

    /// As [`LinuxRuntime::with_cpus`], for a run at `speed` scenario
    /// seconds per wall second with the kubelet's cgroup `settings`.
    #[allow(clippy::too_many_arguments)]
    pub fn with_options(
        session: Arc<Session>,
        node: &str,
        cpu_m: i64,
        memory: i64,
        burn: PathBuf,
        cpus: Option<String>,
        speed: f64,
        settings: CgroupSettings,
    ) -> Result<LinuxRuntime, RuntimeError> {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        let d = session.driver();
        let group = CgName::new(&sanitize(node)).map_err(other)?;
        d.create(&group).map_err(other)?;
        // v1 refuses a child quota above its parent's: a node larger than
        // the run's cap (the host's cores) is capped to it.
        let host_m = session.cap().cores as i64 * 1000;
        let node_cfg = ResourceConfig {
            cpu_shares: Some(milli_cpu_to_shares(cpu_m)),
            cpu_quota: Some(cpu_m.clamp(1, host_m) * DEFAULT_PERIOD_US as i64 / 1000),
            cpu_period: Some(DEFAULT_PERIOD_US),
            memory: (memory > 0).then_some(memory),
        };
        let mut node_limits = scale_limits(rc_limits(&node_cfg), speed);
        node_limits.cpuset = cpus.map(|c| (c, String::new()));
        d.apply(&group, &node_limits).map_err(other)?;
        for sub in ["kubepods", "kubepods/burstable", "kubepods/besteffort"] {
            d.create(&group.join(sub).map_err(other)?).map_err(other)?;
        }
        d.apply(
            &group.join("kubepods").map_err(other)?,
            &rc_limits(&ResourceConfig {
                cpu_quota: None,
                cpu_period: None,
                ..node_cfg
            }),
        )
        .map_err(other)?;
        let rt = LinuxRuntime {
            name: node.to_string(),
            session,
            burn,
            node: group,
            epoch: Instant::now(),
            sandboxes: BTreeMap::new(),
            containers: BTreeMap::new(),
            order: Vec::new(),
            seen: RefCell::new(BTreeMap::new()),
            next: 0,
            speed,
            settings,
            sim_now: SimTime::ZERO,
            exits: Vec::new(),
            reported: Default::default(),
            horizon: Duration::from_secs(3600),
            completions: None,
            recorded: Default::default(),
            failure: None,
        };
        rt.apply_tiers()?;
        Ok(rt)
    }

    fn now(&self) -> Duration {
        Duration::from_micros(self.epoch.elapsed().as_micros() as u64)
    }

    /// The node's group (for its stats).
    pub fn node_group(&self) -> &CgName {
        &self.node
    }

    /// QoS tier shares from the ready sandboxes (upstream `qos_container_manager`).
    fn apply_tiers(&self) -> Result<(), RuntimeError> {
        let t = qos_tiers(
            self.sandboxes
                .values()
                .filter(|s| s.ready)
                .map(|s| (s.config.qos, s.config.cpu_request_m)),
        );
        let d = self.session.driver();
        d.apply(
            &self.node.join("kubepods/burstable").map_err(other)?,
            &rc_limits(&t.burstable),
        )
        .map_err(other)?;
        d.apply(
            &self.node.join("kubepods/besteffort").map_err(other)?,
            &rc_limits(&t.besteffort),
        )
        .map_err(other)
    }

    fn ctr(&self, id: &str) -> Result<&Ctr, RuntimeError> {
        self.containers
            .get(id)
            .ok_or_else(|| RuntimeError::NotFound {
                kind: "container",
                id: id.to_string(),
            })
    }

    fn sb(&self, id: &str) -> Result<&Sandbox, RuntimeError> {
        self.sandboxes
            .get(id)
            .ok_or_else(|| RuntimeError::NotFound {
                kind: "pod sandbox",
                id: id.to_string(),
            })
    }

    /// State, exit code and reason as observed now.
    fn observe(&self, id: &str, c: &Ctr) -> (ContainerState, Option<i32>, String) {
        let Some(pid) = c.pid else {
            return (ContainerState::Created, None, String::new());
        };
        let Some(code) = self.session.try_wait(pid) else {
            return (ContainerState::Running, None, String::new());
        };
        let mut seen = self.seen.borrow_mut();
        let s = seen.entry(id.to_string()).or_default();
        if s.finished_at.is_none() {
            s.finished_at = Some(self.now());
        }
        drop(seen);
        let oom = code == 137 && self.oom_kills(c) > 0;
        let (code, reason) = if oom {
            (137, "OOMKilled")
        } else if code == 0 || (c.stop_requested && code == 143) {
            // A workload ending on the SIGTERM of a requested stop is a
            // clean exit, as the simulated runtime reports it.
            (0, "Completed")
        } else {
            (code, "Error")
        };
        (ContainerState::Exited, Some(code), reason.to_string())
    }

    fn oom_kills(&self, c: &Ctr) -> u64 {
        if c.removed_group {
            return 0;
        }
        let d = self.session.driver();
        let own = d.stats(&c.group).map(|s| s.oom_kills).unwrap_or(0);
        own.max(
            self.sandboxes
                .get(&c.sandbox)
                .and_then(|sb| d.stats(&sb.group).ok())
                .map(|s| s.oom_kills)
                .unwrap_or(0),
        )
    }

    fn status_of(&self, id: &str, c: &Ctr) -> ContainerStatus {
        let (state, exit_code, reason) = self.observe(id, c);
        ContainerStatus {
            id: id.to_string(),
            sandbox: c.sandbox.clone(),
            name: c.config.name.clone(),
            attempt: c.config.attempt,
            state,
            created_at: c.created_at,
            started_at: c.started_at,
            finished_at: self.seen.borrow().get(id).and_then(|s| s.finished_at),
            exit_code,
            reason,
            resources: c.resources.clone(),
        }
    }

    /// `kubesim burn` arguments for a workload at `speed`: the usage
    /// models as breakpoints (wall ms), run time and CPU work ÷ speed.
    pub fn burn_args(c: &ContainerConfig, speed: f64, horizon: Duration) -> Vec<OsString> {
        let w = &c.workload;
        let start = Duration::ZERO;
        let mut v = vec![
            "burn".to_string(),
            format!("--cpu-m={}", w.cpu.value_at(start).max(0)),
            format!("--memory-bytes={}", w.memory.value_at(start).max(0)),
            format!("--exit-code={}", w.exit_code),
        ];
        if w.cpu.next_change_after(start).is_some() {
            v.push(format!(
                "--cpu-steps={}",
                breakpoints(&w.cpu, speed, horizon)
            ));
        }
        if w.memory.next_change_after(start).is_some() {
            v.push(format!(
                "--memory-steps={}",
                breakpoints(&w.memory, speed, horizon)
            ));
        }
        if let Some(d) = w.run_for {
            v.push(format!(
                "--duration-ms={}",
                (d.as_micros() as f64 / speed / 1000.0).round() as u64
            ));
        }
        if let Some(work) = w.cpu_work {
            // millicore·µs → ms of CPU time, ÷ speed.
            v.push(format!(
                "--cpu-work-ms={}",
                ((work.max(0) as f64 / 1_000_000.0 / speed).round() as u64).max(1)
            ));
        }
        v.into_iter().map(OsString::from).collect()
    }
}

impl Runtime for LinuxRuntime {
    fn name(&self) -> &str {
        &self.name
    }

    fn run_pod_sandbox(&mut self, config: &PodSandboxConfig) -> Result<SandboxId, RuntimeError> {
        self.next += 1;
        let id = format!("sb-{}", self.next);
        let group = self
            .node
            .join(&format!(
                "{}/pod{}",
                config.parent.path(),
                sanitize(&config.uid)
            ))
            .map_err(other)?;
        let d = self.session.driver();
        d.create(&group).map_err(other)?;
        d.apply(
            &group,
            &scale_limits(rc_limits(&config.resources), self.speed),
        )
        .map_err(other)?;
        self.sandboxes.insert(
            id.clone(),
            Sandbox {
                config: config.clone(),
                group,
                ready: true,
            },
        );
        self.apply_tiers()?;
        Ok(id)
    }

    fn stop_pod_sandbox(&mut self, id: &str) -> Result<(), RuntimeError> {
        self.sb(id)?;
        let ids: Vec<ContainerId> = self
            .order
            .iter()
            .filter(|c| self.containers.get(*c).is_some_and(|c| c.sandbox == id))
            .cloned()
            .collect();
        for c in ids {
            self.stop_container(&c, Duration::ZERO)?;
        }
        if let Some(sb) = self.sandboxes.get_mut(id) {
            sb.ready = false;
        }
        self.apply_tiers()
    }

    fn remove_pod_sandbox(&mut self, id: &str) -> Result<(), RuntimeError> {
        if self.sb(id)?.ready {
            self.stop_pod_sandbox(id)?;
        }
        let ids: Vec<ContainerId> = self
            .order
            .iter()
            .filter(|c| self.containers.get(*c).is_some_and(|c| c.sandbox == id))
            .cloned()
            .collect();
        for c in ids {
            self.remove_container(&c)?;
        }
        if let Some(sb) = self.sandboxes.remove(id) {
            self.session.driver().destroy(&sb.group).map_err(other)?;
        }
        Ok(())
    }

    fn create_container(
        &mut self,
        sandbox: &str,
        config: &ContainerConfig,
    ) -> Result<ContainerId, RuntimeError> {
        let sb = self.sb(sandbox)?;
        if !sb.ready {
            return Err(RuntimeError::SandboxNotReady(sandbox.to_string()));
        }
        let id = format!("c-{}", self.next + 1);
        let group = sb.group.join(&id).map_err(other)?;
        self.next += 1;
        let d = self.session.driver();
        d.create(&group).map_err(other)?;
        d.apply(
            &group,
            &scale_limits(cri_limits(&config.resources), self.speed),
        )
        .map_err(other)?;
        self.containers.insert(
            id.clone(),
            Ctr {
                sandbox: sandbox.to_string(),
                config: config.clone(),
                resources: config.resources.clone(),
                group,
                created_at: self.now(),
                started_at: None,
                pid: None,
                stop_requested: false,
                removed_group: false,
                sim_started: self.sim_now,
            },
        );
        self.order.push(id.clone());
        Ok(id)
    }

    fn start_container(&mut self, id: &str) -> Result<(), RuntimeError> {
        let c = self.ctr(id)?;
        if c.pid.is_some() {
            let (state, _, _) = self.observe(id, c);
            return Err(RuntimeError::BadState {
                id: id.to_string(),
                state,
                op: "start",
            });
        }
        let host = self
            .sandboxes
            .get(&c.sandbox)
            .map(|s| s.config.name.clone())
            .unwrap_or_default();
        let pid = self
            .session
            .start_with_env(
                &c.group,
                self.burn.clone(),
                Self::burn_args(&c.config, self.speed, self.horizon),
                &host,
                false,
                Some(c.config.envs.clone()),
            )
            .map_err(|e| {
                let e = other(e);
                self.failure
                    .get_or_insert_with(|| format!("starting container {id}: {e}"));
                e
            })?;
        let now = self.now();
        let sim_now = self.sim_now;
        if let Some(c) = self.containers.get_mut(id) {
            c.pid = Some(pid);
            c.started_at = Some(now);
            c.sim_started = sim_now;
        }
        Ok(())
    }

    fn stop_container(&mut self, id: &str, timeout: Duration) -> Result<(), RuntimeError> {
        let c = self.ctr(id)?;
        let Some(pid) = c.pid else {
            return Ok(());
        };
        if let Some(c) = self.containers.get_mut(id) {
            c.stop_requested = true;
        }
        let grace = std::time::Duration::from_micros(timeout.as_micros());
        self.session.stop(pid, grace);
        let c = self.ctr(id)?;
        self.observe(id, c);
        self.record(id, true);
        Ok(())
    }

    fn remove_container(&mut self, id: &str) -> Result<(), RuntimeError> {
        let c = self.ctr(id)?;
        let (state, _, _) = self.observe(id, c);
        if state == ContainerState::Running {
            return Err(RuntimeError::BadState {
                id: id.to_string(),
                state,
                op: "remove",
            });
        }
        self.record(id, true);
        if let Some(c) = self.containers.remove(id) {
            self.session.driver().destroy(&c.group).map_err(other)?;
        }
        self.order.retain(|x| x != id);
        self.seen.borrow_mut().remove(id);
        Ok(())
    }

    fn update_container_resources(
        &mut self,
        id: &str,
        resources: &LinuxContainerResources,
    ) -> Result<(), RuntimeError> {
        let c = self.ctr(id)?;
        self.session
            .driver()
            .apply(&c.group, &scale_limits(cri_limits(resources), self.speed))
            .map_err(other)?;
        if let Some(c) = self.containers.get_mut(id) {
            c.resources = resources.clone();
        }
        Ok(())
    }

    fn container_status(&self, id: &str) -> Result<ContainerStatus, RuntimeError> {
        let c = self.ctr(id)?;
        Ok(self.status_of(id, c))
    }

    fn container_stats(&self, id: &str) -> Result<ContainerStats, RuntimeError> {
        let c = self.ctr(id)?;
        let d = self.session.driver();
        let mut s = d.stats(&c.group).map_err(other)?;
        // On v1 a pod whose quota equals its only container's is throttled
        // at the pod level (measured: the container's own counters stay
        // near 0): report the throttling the container experienced.
        let alone = self
            .containers
            .values()
            .filter(|x| x.sandbox == c.sandbox)
            .count()
            == 1;
        if alone {
            if let Some(ps) = self
                .sandboxes
                .get(&c.sandbox)
                .and_then(|sb| d.stats(&sb.group).ok())
            {
                if ps.throttled_us > s.throttled_us {
                    s.nr_throttled = ps.nr_throttled;
                    s.nr_periods = s.nr_periods.max(ps.nr_periods);
                    s.throttled_us = ps.throttled_us;
                }
            }
        }
        let now_us = self.epoch.elapsed().as_micros() as u64;
        let mut seen = self.seen.borrow_mut();
        let e = seen.entry(id.to_string()).or_default();
        // The rate over windows of at least RATE_WINDOW_US of wall time
        // (stats are read several times per sample).
        match e.last {
            Some((t0, u0)) if now_us >= t0 + RATE_WINDOW_US => {
                e.rate_m = (s.cpu_usage_us.saturating_sub(u0) * 1000 / (now_us - t0)) as i64;
                e.last = Some((now_us, s.cpu_usage_us));
            }
            Some(_) => {}
            None => e.last = Some((now_us, s.cpu_usage_us)),
        }
        let running = c.pid.is_some() && e.finished_at.is_none();
        let demand = if running {
            c.config
                .workload
                .cpu
                .value_at(self.sim_now.since(c.sim_started))
                .max(0)
        } else {
            0
        };
        // Counters of time in simulated µs (÷ speed on the way in).
        let sp = |v: u64| (v as f64 * self.speed) as u64;
        Ok(ContainerStats {
            cpu_usage_us: sp(s.cpu_usage_us),
            memory_working_set_bytes: s.memory_bytes as i64,
            throttling: Throttling {
                nr_periods: s.nr_periods,
                nr_throttled: s.nr_throttled,
                throttled_us: sp(s.throttled_us),
            },
            oom_kills: s.oom_kills,
            cpu_demand_m: demand,
            cpu_granted_m: if running { e.rate_m } else { 0 },
        })
    }

    fn list_containers(&self, sandbox: Option<&str>) -> Vec<ContainerStatus> {
        self.order
            .iter()
            .filter_map(|id| self.containers.get(id).map(|c| (id, c)))
            .filter(|(_, c)| sandbox.is_none_or(|s| c.sandbox == s))
            .map(|(id, c)| self.status_of(id, c))
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
        std::thread::sleep(std::time::Duration::from_micros(d.as_micros()));
    }
}

/// Wall time over which [`Runtime::container_stats`] measures the CPU rate.
const RATE_WINDOW_US: u64 = 200_000;

impl NodeRuntime for LinuxRuntime {
    /// Polls the processes: a container that ended by itself (not stopped
    /// by the kubelet) becomes one [`Exit`] at `t`.
    fn advance_to(&mut self, t: SimTime) {
        self.sim_now = self.sim_now.max(t);
        let ids: Vec<ContainerId> = self.order.clone();
        for id in ids {
            if self.reported.contains(&id) {
                continue;
            }
            let Some(c) = self.containers.get(&id) else {
                continue;
            };
            if c.stop_requested {
                continue;
            }
            let Some(pid) = c.pid else { continue };
            if self.session.try_wait(pid).is_none() {
                continue;
            }
            let (_, code, reason) = self.observe(&id, c);
            let reason: &'static str = match reason.as_str() {
                "OOMKilled" => "OOMKilled",
                "Completed" => "Completed",
                _ => "Error",
            };
            self.exits.push(Exit {
                container: id.clone(),
                sandbox: c.sandbox.clone(),
                at: self.sim_now,
                exit_code: code.unwrap_or(1),
                reason,
            });
            self.reported.insert(id.clone());
            self.record(&id, true);
        }
    }

    fn has_exits(&self) -> bool {
        !self.exits.is_empty()
    }

    fn take_exits(&mut self) -> Vec<Exit> {
        std::mem::take(&mut self.exits)
    }

    /// While a process runs: the next poll tick (real exits are found by
    /// polling; this keeps a run alive while CPU work is pending).
    fn next_change(&self) -> Option<SimTime> {
        let running = self
            .containers
            .iter()
            .any(|(id, c)| c.pid.is_some() && !c.stop_requested && !self.reported.contains(id));
        running.then(|| self.sim_now.after(POLL_TICK))
    }

    fn memory_used(&self) -> i64 {
        self.running_stats()
            .map(|s| s.memory_working_set_bytes)
            .sum()
    }

    fn cpu_totals(&self) -> (i64, i64) {
        self.running_stats().fold((0, 0), |(d, g), s| {
            (d + s.cpu_demand_m, g + s.cpu_granted_m)
        })
    }

    fn settings(&self) -> &CgroupSettings {
        &self.settings
    }

    fn take_failure(&mut self) -> Option<String> {
        self.failure.take()
    }
}

impl LinuxRuntime {
    fn running_stats(&self) -> impl Iterator<Item = ContainerStats> + '_ {
        self.containers
            .iter()
            .filter(|(id, c)| c.pid.is_some() && !c.stop_requested && !self.reported.contains(*id))
            .filter_map(|(id, _)| self.container_stats(id).ok())
    }

    /// Scenario seconds per wall-clock second.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Records every container run (when it ends, is stopped or removed,
    /// or the runtime is dropped) into `log`.
    pub fn set_completion_log(&mut self, log: Arc<std::sync::Mutex<Vec<Completion>>>) {
        self.completions = Some(log);
    }

    /// Records a container's run once (with the log set).
    fn record(&mut self, id: &str, ended: bool) {
        let Some(log) = self.completions.clone() else {
            return;
        };
        if self.recorded.contains(id) {
            return;
        }
        let Ok(c) = self.ctr(id) else { return };
        if c.pid.is_none() {
            return;
        }
        let (_, code, reason) = self.observe(id, c);
        let stats = self.container_stats(id).unwrap_or_default();
        let (namespace, pod) = self
            .sandboxes
            .get(&c.sandbox)
            .map(|s| (s.config.namespace.clone(), s.config.name.clone()))
            .unwrap_or_default();
        let row = Completion {
            node: self.name.clone(),
            namespace,
            pod,
            container: c.config.name.clone(),
            started_us: c.sim_started.as_micros(),
            finished_us: ended.then_some(self.sim_now.as_micros()),
            exit_code: if ended { code } else { None },
            reason: if ended { reason } else { String::new() },
            cpu_usage_us: stats.cpu_usage_us,
            oom_kills: stats.oom_kills.max(self.oom_kills(c)),
        };
        if let Ok(mut v) = log.lock() {
            v.push(row);
        }
        self.recorded.insert(id.to_string());
    }
}

impl Drop for LinuxRuntime {
    /// Kills the node's processes and removes its subtree.
    fn drop(&mut self) {
        for id in self.order.clone() {
            self.record(&id, false);
        }
        let _ = self.session.driver().destroy(&self.node);
    }
}

impl LinuxRuntime {
    /// The cgroup counters of a sandbox's pod group.
    pub fn pod_stats(&self, sandbox: &str) -> Result<super::cgroupfs::CgStats, RuntimeError> {
        let sb = self.sb(sandbox)?;
        self.session.driver().stats(&sb.group).map_err(other)
    }

    /// The QoS class tier a sandbox sits in (for reports).
    pub fn qos_of(&self, sandbox: &str) -> Option<QosClass> {
        self.sandboxes.get(sandbox).map(|s| s.config.qos)
    }
    /// The parent a QoS class maps to (re-exported for callers).
    pub fn parent_of(q: QosClass) -> QosParent {
        QosParent::of(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::runtime::Workload;

    #[test]
    fn the_cfs_period_scales_with_the_speed_within_the_kernels_limits() {
        // 100 ms at speed 4: 25 ms, the quota in proportion.
        assert_eq!(
            scaled_period(100_000, Some(25_000), 4.0),
            (25_000, Some(6_250))
        );
        // Unlimited stays unlimited.
        assert_eq!(scaled_period(100_000, None, 4.0), (25_000, None));
        // Speed 1000: 100 µs would be below the kernel's 1 ms minimum.
        assert_eq!(
            scaled_period(100_000, Some(50_000), 1000.0),
            (1_000, Some(1_000))
        );
        // Slower than real time: at most 1 s.
        assert_eq!(
            scaled_period(100_000, Some(50_000), 0.05),
            (1_000_000, Some(500_000))
        );
        // The quota never goes below the kernel's 1 ms either.
        assert_eq!(scaled_period(100_000, Some(1_000), 10.0).1, Some(1_000));
        let l = scale_limits(
            CgLimits {
                cpu_quota_us: Some(Some(50_000)),
                cpu_period_us: Some(100_000),
                ..Default::default()
            },
            2.0,
        );
        assert_eq!(l.cpu_period_us, Some(50_000));
        assert_eq!(l.cpu_quota_us, Some(Some(25_000)));
        let unl = scale_limits(
            CgLimits {
                cpu_quota_us: Some(None),
                cpu_period_us: Some(100_000),
                ..Default::default()
            },
            2.0,
        );
        assert_eq!(unl.cpu_quota_us, Some(None));
    }

    #[test]
    fn usage_models_become_burn_breakpoints_in_wall_time() {
        let m = UsageModel::Steps(vec![
            (Duration::ZERO, 100),
            (Duration::from_secs(3), 700),
            (Duration::from_secs(10), 0),
        ]);
        assert_eq!(
            breakpoints(&m, 1.0, Duration::from_secs(60)),
            "0:100,3000:700,10000:0"
        );
        assert_eq!(
            breakpoints(&m, 2.0, Duration::from_secs(60)),
            "0:100,1500:700,5000:0"
        );
        // Beyond the horizon: left out.
        assert_eq!(
            breakpoints(&m, 1.0, Duration::from_secs(5)),
            "0:100,3000:700"
        );
        // A random model is evaluated as the simulator does, and capped.
        let r = UsageModel::Random {
            dist: crate::model::usage::Dist::Uniform { lo: 100, hi: 900 },
            every: Duration::from_millis(1),
            seed: 7,
            stream: "x".into(),
        };
        let b = breakpoints(&r, 1.0, Duration::from_secs(3600));
        let pts: Vec<&str> = b.split(',').collect();
        assert_eq!(pts.len(), MAX_BREAKPOINTS);
        let v: i64 = pts[5].split(':').nth(1).unwrap().parse().unwrap();
        assert_eq!(v, r.value_at(Duration::from_millis(5)));
        let cfg = ContainerConfig {
            name: "a".into(),
            image: "i".into(),
            attempt: 0,
            resources: LinuxContainerResources::default(),
            envs: Vec::new(),
            workload: Workload {
                cpu: m.clone(),
                memory: UsageModel::Const(1 << 20),
                cpu_work: Some(2_000_000_000),
                run_for: Some(Duration::from_secs(4)),
                exit_code: 3,
            },
        };
        let args: Vec<String> = LinuxRuntime::burn_args(&cfg, 2.0, Duration::from_secs(60))
            .into_iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        assert!(
            args.contains(&"--cpu-steps=0:100,1500:700,5000:0".to_string()),
            "{args:?}"
        );
        assert!(args.contains(&"--memory-bytes=1048576".to_string()));
        assert!(!args.iter().any(|a| a.starts_with("--memory-steps")));
        assert!(args.contains(&"--duration-ms=2000".to_string()), "{args:?}");
        assert!(args.contains(&"--cpu-work-ms=1000".to_string()), "{args:?}");
        assert!(args.contains(&"--exit-code=3".to_string()));
    }
}
