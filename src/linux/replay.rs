//! `kubesim replay FILE --backend linux`: a scenario with real processes.
//!
//! The scenario is first simulated (results in `OUT/sim/`). Then the same
//! World (scheduler, controllers, the kubelet's node model) runs again in
//! wall-clock time ([`crate::engine::RealClock`], scaled by `--speed`),
//! with each node that runs pods with usage models on a [`LinuxRuntime`]
//! instead of a simulated runtime: the kubelet logic starts, stops and
//! restarts real `kubesim burn` processes in cgroups with the same
//! values as the simulator's (`node::cgroup`), and a container's real
//! exit (completion, OOM kill 137, failure) is the World's container exit
//! at the current simulated time, so restart policies with back-off, Job
//! retries and ReplicaSet replacements follow what the kernel did.
//! `OUT/real/` gets the same result files as a simulated run (`pods.csv`,
//! `containers.csv` from the cgroup counters, `events.jsonl`, ...) plus
//! `completions.csv` (every real container run: start, end, exit code,
//! reason, CPU time). A real run is not deterministic.
#![allow(clippy::disallowed_methods)] // the wall clock is the point

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::guard::{interrupted, BackendError, Session, SessionOptions};
use super::runtime::{Completion, LinuxRuntime};
use crate::cluster::{RunOptions, World};
use crate::engine::{Duration, RealClock, SimTime};
use crate::node::cgroup::CgroupVersion;
use crate::node::runtime::NodeRuntime;
use crate::output::{temp_path, Summary};
use crate::runner::{run_to_dir, RunSpec};
use crate::scenario::Scenario;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error("simulating first: {0}")]
    Sim(#[from] crate::runner::RunnerError),
    #[error("runtime: {0}")]
    Runtime(#[from] crate::node::runtime::RuntimeError),
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing {path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("no pod of this scenario has a usage model (kubesim.dev/cpu-usage, memory-usage, cpu-work): nothing to run for real")]
    NothingToRun,
    #[error("--speed must be in (0, 1000]")]
    Speed,
    #[error("Service traffic ({0}) is simulated only: real processes do not serve simulated requests; replay the scenario without spec.traffic and kubesim.dev/traffic-* annotations")]
    Traffic(String),
    #[error("the real run: {0}")]
    Run(#[from] crate::cluster::RunError),
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    #[error("interrupted (Ctrl-C); processes killed and cgroups removed")]
    Interrupted,
}

/// How to replay.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    /// Scenario seconds per wall-clock second (1 = real time).
    pub speed: f64,
    pub out: PathBuf,
    /// The kubesim binary (runs `burn`).
    pub burn_exe: PathBuf,
    pub session: SessionOptions,
    /// Stop at this scenario time (default: the scenario's duration or the
    /// simulated run's end).
    pub until: Option<Duration>,
}

/// What the replay did.
#[derive(Debug, Default)]
pub struct ReplayReport {
    pub sim_dir: PathBuf,
    pub real_dir: PathBuf,
    /// Real container runs (restarts count again).
    pub containers: usize,
    /// Nodes that ran real containers.
    pub nodes: usize,
    pub wall: std::time::Duration,
    pub layout: String,
    /// The most an event ran after its wall-clock time (simulated).
    pub max_lag: Duration,
}

fn csv_err(path: &Path) -> impl FnOnce(csv::Error) -> ReplayError + '_ {
    move |source| ReplayError::Csv {
        path: path.to_path_buf(),
        source,
    }
}

/// Runs the scenario simulated, then for real; writes both.
pub fn replay(sc: Scenario, opts: &ReplayOptions) -> Result<ReplayReport, ReplayError> {
    if !(opts.speed > 0.0 && opts.speed <= 1000.0) {
        return Err(ReplayError::Speed);
    }
    if let Some(t) = sc.traffic.first() {
        return Err(ReplayError::Traffic(format!(
            "{} Service(s), first {}/{}",
            sc.traffic.len(),
            t.namespace,
            t.name
        )));
    }
    // Say what is missing before anything is written.
    let layout = super::guard::check_host()?;
    // Simulate with this host's cgroup version, so that both sides divide
    // CPU with the same weights (v1 shares, or v2 weights by the
    // scenario's formula).
    let mut sc = sc;
    sc.kubelet.cgroups.version = match layout {
        super::cgroupfs::Layout::V1 { .. } => CgroupVersion::V1,
        super::cgroupfs::Layout::V2 { .. } => CgroupVersion::V2,
    };
    let settings = sc.kubelet.cgroups;
    let mut session_opts = opts.session.clone();
    session_opts.formula = match settings.weight_formula {
        crate::node::cgroup::WeightFormula::Linear => super::cgroupfs::WeightFormula::Linear,
        crate::node::cgroup::WeightFormula::Quadratic => super::cgroupfs::WeightFormula::Quadratic,
    };
    let sim_dir = opts.out.join("sim");
    let real_dir = opts.out.join("real");
    let until = opts.until.map(|d| SimTime::ZERO.after(d));
    let spec = RunSpec {
        seed: None,
        until,
        check_invariants: false,
        check_determinism: false,
        explain: false,
    };
    let real_sc = sc.clone();
    let (simulated, _) = run_to_dir(sc, &spec, &sim_dir)?;
    if !simulated.pods.iter().any(|p| p.behavior.usage.is_some()) {
        return Err(ReplayError::NothingToRun);
    }
    drop(simulated);
    let session = Arc::new(Session::open(&session_opts)?);
    fs::create_dir_all(&real_dir).map_err(|source| ReplayError::Io {
        path: real_dir.clone(),
        source,
    })?;
    let events = real_dir.join("events.jsonl");
    let events_tmp = temp_path(&events);
    let f = fs::File::create(&events_tmp).map_err(|source| ReplayError::Io {
        path: events_tmp.clone(),
        source,
    })?;
    let mut world = World::new(
        real_sc.clone(),
        &RunOptions {
            seed: real_sc.seed,
            until,
            check_invariants: false,
            explain: false,
        },
        Some(Box::new(std::io::BufWriter::new(f))),
    )?;
    let log: Arc<Mutex<Vec<Completion>>> = Arc::default();
    let nodes = Arc::new(Mutex::new(0usize));
    {
        let session = session.clone();
        let burn = opts.burn_exe.clone();
        let speed = opts.speed;
        let log = log.clone();
        let nodes = nodes.clone();
        let cores = session.cap().cores.max(1);
        let mut cursor = 0u64;
        world.set_runtime_factory(Box::new(move |name, cpu_m, memory, settings, _now| {
            // Pin the node to as many host CPUs as it has (whole ones,
            // round robin) when the host has that many.
            let want = (cpu_m.max(1) as u64).div_ceil(1000);
            let cpus = (want <= cores).then(|| {
                let v: Vec<String> = (0..want)
                    .map(|i| ((cursor + i) % cores).to_string())
                    .collect();
                cursor += want;
                v.join(",")
            });
            let mut rt = LinuxRuntime::with_options(
                session.clone(),
                name,
                cpu_m,
                memory,
                burn.clone(),
                cpus,
                speed,
                settings,
            )
            .map_err(|e| format!("node {name}: {e}"))?;
            rt.set_completion_log(log.clone());
            if let Ok(mut n) = nodes.lock() {
                *n += 1;
            }
            Ok(Box::new(rt) as Box<dyn NodeRuntime>)
        }));
    }
    // The control loop must keep up with the wall clock while the run's
    // groups (at the largest weight) keep the host busy.
    let _rt = RealtimePriority::raise();
    let wall0 = Instant::now();
    let clock = RealClock::new(opts.speed);
    let result = world.run_realtime(&clock, &interrupted);
    let wall = wall0.elapsed();
    let max_lag = clock.max_lag();
    let closed = session.close();
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = fs::remove_file(&events_tmp);
            if interrupted() {
                return Err(ReplayError::Interrupted);
            }
            return Err(e.into());
        }
    };
    closed?;
    let summary = Summary::of(&result);
    if let Err(e) = crate::output::write_results(&real_dir, &result, &summary) {
        let _ = fs::remove_file(&events_tmp);
        return Err(e.into());
    }
    fs::rename(&events_tmp, &events).map_err(|source| ReplayError::Io {
        path: events.clone(),
        source,
    })?;
    let mut done = log.lock().map(|v| v.clone()).unwrap_or_default();
    done.sort_by(|a, b| {
        (&a.namespace, &a.pod, &a.container, a.started_us).cmp(&(
            &b.namespace,
            &b.pod,
            &b.container,
            b.started_us,
        ))
    });
    write_completions(&real_dir.join("completions.csv"), &done)?;
    let layout = session.layout().describe();
    let nodes = nodes.lock().map(|n| *n).unwrap_or(0);
    Ok(ReplayReport {
        sim_dir,
        real_dir,
        containers: done.len(),
        nodes,
        wall,
        layout,
        max_lag,
    })
}

/// The driver thread at real-time priority (`SCHED_RR` 1) for the run:
/// measured on a 2-core host under load with a 2-CPU node, the loop fell
/// 55 s behind the wall clock at normal priority (the run's groups hold
/// the largest CPU weight, and niceness counts only within the session's
/// autogroup). `SCHED_RESET_ON_FORK`: the containers start as normal
/// processes. The thread sleeps between events, and the kernel's RT
/// throttling keeps 5% of each CPU for others. Restored on drop; without
/// the privilege it changes nothing (the lag is reported).
struct RealtimePriority(bool);

impl RealtimePriority {
    fn raise() -> RealtimePriority {
        use nix::libc;
        let p = libc::sched_param { sched_priority: 1 };
        // SAFETY: a valid parameter for the calling thread.
        let r =
            unsafe { libc::sched_setscheduler(0, libc::SCHED_RR | libc::SCHED_RESET_ON_FORK, &p) };
        RealtimePriority(r == 0)
    }
}

impl Drop for RealtimePriority {
    fn drop(&mut self) {
        if self.0 {
            use nix::libc;
            let p = libc::sched_param { sched_priority: 0 };
            // SAFETY: as above.
            unsafe {
                let _ = libc::sched_setscheduler(0, libc::SCHED_OTHER, &p);
            }
        }
    }
}

/// `completions.csv`: one row per real container run.
fn write_completions(path: &Path, rows: &[Completion]) -> Result<(), ReplayError> {
    let tmp = temp_path(path);
    let mut w = csv::Writer::from_path(&tmp).map_err(csv_err(&tmp))?;
    w.write_record([
        "node",
        "namespace",
        "pod",
        "container",
        "started_us",
        "finished_us",
        "exit_code",
        "reason",
        "cpu_usage_us",
        "oom_kills",
    ])
    .map_err(csv_err(&tmp))?;
    for c in rows {
        w.write_record([
            c.node.clone(),
            c.namespace.clone(),
            c.pod.clone(),
            c.container.clone(),
            c.started_us.to_string(),
            c.finished_us.map(|v| v.to_string()).unwrap_or_default(),
            c.exit_code.map(|v| v.to_string()).unwrap_or_default(),
            c.reason.clone(),
            c.cpu_usage_us.to_string(),
            c.oom_kills.to_string(),
        ])
        .map_err(csv_err(&tmp))?;
    }
    w.flush().map_err(|source| ReplayError::Io {
        path: tmp.clone(),
        source,
    })?;
    drop(w);
    fs::rename(&tmp, path).map_err(|source| ReplayError::Io {
        path: path.to_path_buf(),
        source,
    })
}
