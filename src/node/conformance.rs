//! Runtime conformance: test bodies generic over `impl Runtime`, so the
//! simulated runtime and a Linux runtime are held to the same behaviour.
//! Each check returns `Err(message)` instead of panicking; a test calls
//! [`run_all`] with a factory for fresh runtimes and a [`Tolerance`] (exact
//! for the simulator, a few percent for real CPUs).

use super::cgroup::{milli_cpu_to_shares, LinuxContainerResources, QosParent, ResourceConfig};
use super::runtime::{
    ContainerConfig, ContainerState, PodSandboxConfig, Runtime, RuntimeError, SandboxId, Workload,
};
use super::usage::UsageModel;
use crate::engine::Duration;
use crate::model::pod::QosClass;

/// How close measured CPU figures must be to the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tolerance {
    /// Allowed relative error of CPU time, percent.
    pub cpu_pct: u64,
}

impl Tolerance {
    pub const EXACT: Tolerance = Tolerance { cpu_pct: 0 };
    /// For real CPUs on a noisy shared machine.
    pub const NOISY: Tolerance = Tolerance { cpu_pct: 20 };
}

type Check = Result<(), String>;

fn ensure(cond: bool, msg: impl FnOnce() -> String) -> Check {
    if cond {
        Ok(())
    } else {
        Err(msg())
    }
}

fn near(actual: u64, expected: u64, tol: &Tolerance) -> bool {
    let slack = expected * tol.cpu_pct / 100;
    actual + slack >= expected && actual <= expected + slack
}

fn e(err: RuntimeError) -> String {
    err.to_string()
}

/// Starts a Burstable sandbox named `name` with the given pod CPU request
/// and limit (millicores, 0 = none).
pub fn sandbox<R: Runtime + ?Sized>(
    r: &mut R,
    name: &str,
    cpu_request_m: i64,
    cpu_limit_m: i64,
) -> Result<SandboxId, String> {
    let quota = (cpu_limit_m > 0).then_some(cpu_limit_m * 100);
    r.run_pod_sandbox(&PodSandboxConfig {
        name: name.to_string(),
        namespace: "default".to_string(),
        uid: format!("uid-{name}"),
        qos: QosClass::Burstable,
        parent: QosParent::Burstable,
        resources: ResourceConfig {
            cpu_shares: Some(milli_cpu_to_shares(cpu_request_m)),
            cpu_quota: quota,
            cpu_period: quota.map(|_| 100_000),
            memory: None,
        },
        cpu_request_m,
    })
    .map_err(e)
}

/// A container config with CPU request/limit (m) and memory request/limit
/// (bytes) turned into CRI values as the kubelet does.
pub fn container(
    name: &str,
    cpu_req: i64,
    cpu_lim: i64,
    _mem_req: i64,
    mem_lim: i64,
    workload: Workload,
) -> ContainerConfig {
    ContainerConfig {
        name: name.to_string(),
        image: "registry.k8s.io/pause:3.10".to_string(),
        attempt: 0,
        resources: LinuxContainerResources {
            cpu_shares: milli_cpu_to_shares(if cpu_req == 0 { cpu_lim } else { cpu_req }),
            cpu_quota: super::cgroup::milli_cpu_to_quota(cpu_lim, 100_000),
            cpu_period: 100_000,
            memory_limit_in_bytes: mem_lim,
            oom_score_adj: 500,
        },
        envs: Vec::new(),
        workload,
    }
}

/// Sandbox → create → start → stop → remove, with the states and errors
/// the CRI specifies.
pub fn lifecycle<R: Runtime + ?Sized>(r: &mut R) -> Check {
    let sb = sandbox(r, "life", 100, 0)?;
    ensure(
        r.list_pod_sandboxes().iter().any(|s| s.id == sb && s.ready),
        || "new sandbox is not listed as ready".into(),
    )?;
    let cfg = container("app", 100, 0, 0, 0, Workload::default());
    let id = r.create_container(&sb, &cfg).map_err(e)?;
    let st = r.container_status(&id).map_err(e)?;
    ensure(st.state == ContainerState::Created, || {
        format!("after create: {:?}", st.state)
    })?;
    ensure(st.name == "app" && st.sandbox == sb, || {
        format!("status names {} in {}", st.name, st.sandbox)
    })?;
    r.start_container(&id).map_err(e)?;
    ensure(
        r.container_status(&id).map_err(e)?.state == ContainerState::Running,
        || "after start: not running".into(),
    )?;
    ensure(r.start_container(&id).is_err(), || {
        "starting a running container must fail".into()
    })?;
    ensure(r.remove_container(&id).is_err(), || {
        "removing a running container must fail".into()
    })?;
    r.stop_container(&id, Duration::from_secs(1)).map_err(e)?;
    let st = r.container_status(&id).map_err(e)?;
    ensure(
        st.state == ContainerState::Exited && st.finished_at.is_some(),
        || format!("after stop: {:?}", st.state),
    )?;
    ensure(r.list_containers(Some(&sb)).len() == 1, || {
        "list_containers(sandbox) should list the container".into()
    })?;
    r.remove_container(&id).map_err(e)?;
    ensure(
        matches!(r.container_status(&id), Err(RuntimeError::NotFound { .. })),
        || "a removed container must be NotFound".into(),
    )?;
    ensure(
        matches!(
            r.start_container("no-such-container"),
            Err(RuntimeError::NotFound { .. })
        ),
        || "unknown ids must be NotFound".into(),
    )?;
    r.stop_pod_sandbox(&sb).map_err(e)?;
    ensure(r.create_container(&sb, &cfg).is_err(), || {
        "creating in a stopped sandbox must fail".into()
    })?;
    r.remove_pod_sandbox(&sb).map_err(e)?;
    ensure(!r.list_pod_sandboxes().iter().any(|s| s.id == sb), || {
        "a removed sandbox must not be listed".into()
    })
}

/// Stopping a sandbox stops its running containers.
pub fn sandbox_stop_kills_containers<R: Runtime + ?Sized>(r: &mut R) -> Check {
    let sb = sandbox(r, "stop", 0, 0)?;
    let w = Workload {
        cpu: UsageModel::Const(10),
        ..Default::default()
    };
    let a = r
        .create_container(&sb, &container("a", 0, 0, 0, 0, w.clone()))
        .map_err(e)?;
    let b = r
        .create_container(&sb, &container("b", 0, 0, 0, 0, w))
        .map_err(e)?;
    r.start_container(&a).map_err(e)?;
    r.start_container(&b).map_err(e)?;
    r.stop_pod_sandbox(&sb).map_err(e)?;
    for id in [&a, &b] {
        let st = r.container_status(id).map_err(e)?;
        ensure(st.state == ContainerState::Exited, || {
            format!("{id} is {:?} after its sandbox stopped", st.state)
        })?;
    }
    r.remove_pod_sandbox(&sb).map_err(e)
}

/// The resources given at creation are reported, and updates apply.
pub fn resources_applied<R: Runtime + ?Sized>(r: &mut R) -> Check {
    let sb = sandbox(r, "res", 500, 1000)?;
    let cfg = container("app", 500, 1000, 0, 256 << 20, Workload::default());
    let id = r.create_container(&sb, &cfg).map_err(e)?;
    let st = r.container_status(&id).map_err(e)?;
    ensure(st.resources == cfg.resources, || {
        format!(
            "created with {:?}, reported {:?}",
            cfg.resources, st.resources
        )
    })?;
    r.start_container(&id).map_err(e)?;
    let mut upd = cfg.resources.clone();
    upd.cpu_quota = 50_000;
    upd.cpu_shares = 256;
    r.update_container_resources(&id, &upd).map_err(e)?;
    let st = r.container_status(&id).map_err(e)?;
    ensure(st.resources == upd, || {
        format!("updated to {upd:?}, reported {:?}", st.resources)
    })?;
    r.stop_container(&id, Duration::ZERO).map_err(e)?;
    r.stop_pod_sandbox(&sb).map_err(e)?;
    r.remove_pod_sandbox(&sb).map_err(e)
}

/// A container wanting 500m under a 250m limit gets 250m and is throttled
/// in (nearly) every period.
pub fn cpu_limit_throttles<R: Runtime + ?Sized>(r: &mut R, tol: &Tolerance) -> Check {
    let sb = sandbox(r, "thr", 250, 250)?;
    let w = Workload {
        cpu: UsageModel::Const(500),
        ..Default::default()
    };
    let id = r
        .create_container(&sb, &container("burn", 250, 250, 0, 0, w))
        .map_err(e)?;
    r.start_container(&id).map_err(e)?;
    r.wait(Duration::from_secs(2));
    let s = r.container_stats(&id).map_err(e)?;
    ensure(near(s.cpu_usage_us, 500_000, tol), || {
        format!(
            "2 s at a 250m limit used {} µs of CPU, expected 500000",
            s.cpu_usage_us
        )
    })?;
    ensure(s.throttling.nr_periods >= 18, || {
        format!("nr_periods {} over 2 s", s.throttling.nr_periods)
    })?;
    ensure(
        s.throttling.nr_throttled * 10 >= s.throttling.nr_periods * 8,
        || {
            format!(
                "throttled {} of {} periods",
                s.throttling.nr_throttled, s.throttling.nr_periods
            )
        },
    )?;
    ensure(s.throttling.throttled_us > 0, || "no throttled time".into())?;
    r.stop_container(&id, Duration::ZERO).map_err(e)?;
    r.stop_pod_sandbox(&sb).map_err(e)?;
    r.remove_pod_sandbox(&sb).map_err(e)
}

/// A container above its memory limit is OOM-killed: exit 137, reason
/// OOMKilled, one OOM kill counted.
pub fn memory_limit_oom_kills<R: Runtime + ?Sized>(r: &mut R) -> Check {
    let sb = sandbox(r, "oom", 0, 0)?;
    let w = Workload {
        memory: UsageModel::Const(64 << 20),
        cpu: UsageModel::Const(10),
        ..Default::default()
    };
    let id = r
        .create_container(&sb, &container("hog", 0, 0, 0, 32 << 20, w))
        .map_err(e)?;
    r.start_container(&id).map_err(e)?;
    r.wait(Duration::from_secs(1));
    let st = r.container_status(&id).map_err(e)?;
    ensure(
        st.state == ContainerState::Exited && st.exit_code == Some(137) && st.reason == "OOMKilled",
        || {
            format!(
                "state {:?} exit {:?} reason {:?}",
                st.state, st.exit_code, st.reason
            )
        },
    )?;
    let s = r.container_stats(&id).map_err(e)?;
    ensure(s.oom_kills >= 1, || "oom_kills not counted".into())?;
    r.stop_pod_sandbox(&sb).map_err(e)?;
    r.remove_pod_sandbox(&sb).map_err(e)
}

/// A workload that runs for a while exits by itself with its exit code.
pub fn exits_with_code<R: Runtime + ?Sized>(r: &mut R) -> Check {
    let sb = sandbox(r, "exit", 0, 0)?;
    let w = Workload {
        cpu: UsageModel::Const(10),
        run_for: Some(Duration::from_millis(500)),
        exit_code: 3,
        ..Default::default()
    };
    let id = r
        .create_container(&sb, &container("job", 0, 0, 0, 0, w))
        .map_err(e)?;
    r.start_container(&id).map_err(e)?;
    r.wait(Duration::from_secs(2));
    let st = r.container_status(&id).map_err(e)?;
    ensure(
        st.state == ContainerState::Exited && st.exit_code == Some(3) && st.reason == "Error",
        || {
            format!(
                "state {:?} exit {:?} reason {:?}",
                st.state, st.exit_code, st.reason
            )
        },
    )?;
    r.stop_pod_sandbox(&sb).map_err(e)?;
    r.remove_pod_sandbox(&sb).map_err(e)
}

/// Every check, each on a fresh runtime from `make`.
pub fn run_all<R: Runtime, F: FnMut() -> R>(mut make: F, tol: &Tolerance) -> Check {
    lifecycle(&mut make()).map_err(|m| format!("lifecycle: {m}"))?;
    sandbox_stop_kills_containers(&mut make()).map_err(|m| format!("sandbox stop: {m}"))?;
    resources_applied(&mut make()).map_err(|m| format!("resources: {m}"))?;
    cpu_limit_throttles(&mut make(), tol).map_err(|m| format!("throttling: {m}"))?;
    memory_limit_oom_kills(&mut make()).map_err(|m| format!("OOM: {m}"))?;
    exits_with_code(&mut make()).map_err(|m| format!("exit code: {m}"))
}
