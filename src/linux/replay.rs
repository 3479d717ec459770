//! `kubesim replay FILE --backend linux`: a scenario with real processes.
//!
//! The scenario is first simulated (results in `OUT/sim/`); the simulated
//! schedule (which pod on which node, when its containers started and, for
//! containers without CPU work, how long they ran) is then replayed in
//! wall-clock time (divided by `--speed`) on [`LinuxRuntime`]s, one per
//! node that runs pods with usage models, with the same cgroup values as
//! the simulator's node model (`node::cgroup::pod_cgroups`). Every sample
//! interval the cgroup counters are written as `OUT/real/containers.csv`
//! (the simulator's schema), and each container's start, end, exit code
//! and reason as `OUT/real/completions.csv`.
//!
//! Not (yet) real: the scheduler does not react to real events (an OOM
//! kill is not followed by the kubelet's restart; a container that needs
//! longer for its CPU work than simulated keeps its simulated slot), and
//! usage models that change over time run at their value at start.
#![allow(clippy::disallowed_methods)] // the wall clock is the point

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::guard::{interrupted, BackendError, Session, SessionOptions};
use super::runtime::LinuxRuntime;
use crate::cluster::RunResult;
use crate::engine::Duration;
use crate::model::usage::UsageModel;
use crate::node::cgroup::{pod_cgroups, CgroupSettings, CgroupVersion};
use crate::node::runtime::{ContainerConfig, ContainerState, PodSandboxConfig, Runtime, Workload};
use crate::output::temp_path;
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

/// One container to run.
struct Planned {
    node: String,
    namespace: String,
    pod: String,
    uid: String,
    start_us: u64,
    sandbox: PodSandboxConfig,
    containers: Vec<ContainerConfig>,
}

/// A started container.
struct Live {
    rt: usize,
    id: String,
    sandbox: String,
    /// The only container of its pod.
    alone: bool,
    node: String,
    namespace: String,
    pod: String,
    container: String,
    demand_m: i64,
    cpu_limit_m: Option<i64>,
    memory_limit: Option<i64>,
    started_us: u64,
    finished_us: Option<u64>,
    exit_code: Option<i32>,
    reason: String,
    cpu_usage_us: u64,
    oom_kills: u64,
}

/// What the replay did.
#[derive(Debug, Default)]
pub struct ReplayReport {
    pub sim_dir: PathBuf,
    pub real_dir: PathBuf,
    pub containers: usize,
    pub nodes: usize,
    pub wall: std::time::Duration,
    pub layout: String,
}

fn scale(d: Duration, speed: f64) -> Duration {
    Duration::from_micros((d.as_micros() as f64 / speed).round() as u64)
}

/// The plan: pods with usage models that the simulation started.
fn plan(r: &RunResult, settings: &CgroupSettings, speed: f64) -> Vec<Planned> {
    let mut v = Vec::new();
    for pod in &r.pods {
        let (Some(usage), Some(nid), Some(started)) = (
            pod.behavior.usage.as_deref(),
            pod.status.node,
            pod.status.started_at,
        ) else {
            continue;
        };
        let Some(node) = r.nodes.get(nid.0 as usize) else {
            continue;
        };
        let cg = pod_cgroups(&pod.spec, pod.qos, settings, node.capacity.memory);
        let key = format!("{}/{}", pod.meta.namespace, pod.meta.name);
        let ran_for = pod.status.finished_at.map(|f| f.since(started));
        let mut containers = Vec::new();
        for (i, c) in pod.spec.containers.iter().enumerate() {
            let Some(cc) = cg.container(&c.name) else {
                continue;
            };
            let u = usage.containers.get(i).cloned().unwrap_or_default();
            let stream = format!("{key}/{}", c.name);
            let cpu_work = u.cpu_work.map(|w| (w as f64 / speed).round() as i64);
            containers.push(ContainerConfig {
                name: c.name.clone(),
                image: c.image.clone(),
                attempt: 0,
                resources: cc.resources.clone(),
                workload: Workload {
                    cpu: u
                        .cpu
                        .unwrap_or_default()
                        .seeded(r.seed, &format!("{stream}/cpu")),
                    memory: u
                        .memory
                        .unwrap_or(UsageModel::Const(0))
                        .seeded(r.seed, &format!("{stream}/memory")),
                    // Containers with work end by themselves; the others
                    // run as long as they ran in the simulation.
                    run_for: if cpu_work.is_some() {
                        None
                    } else {
                        ran_for.map(|d| scale(d, speed))
                    },
                    cpu_work,
                    exit_code: pod.behavior.exit_code,
                },
            });
        }
        v.push(Planned {
            node: node.meta.name.clone(),
            namespace: pod.meta.namespace.clone(),
            pod: pod.meta.name.clone(),
            uid: pod.meta.uid.clone(),
            start_us: started.as_micros(),
            sandbox: PodSandboxConfig {
                name: pod.meta.name.clone(),
                namespace: pod.meta.namespace.clone(),
                uid: pod.meta.uid.clone(),
                qos: pod.qos,
                parent: cg.parent,
                resources: cg.pod.clone(),
                cpu_request_m: cg.cpu_request_m,
            },
            containers,
        });
    }
    v.sort_by_key(|p| (p.start_us, p.namespace.clone(), p.pod.clone()));
    v
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
    let sample = sc.sample_interval;
    let duration = sc.duration;
    let spec = RunSpec {
        seed: None,
        until: None,
        check_invariants: false,
        check_determinism: false,
        explain: false,
    };
    let (r, _) = run_to_dir(sc, &spec, &sim_dir)?;
    let session = Arc::new(Session::open(&session_opts)?);
    let planned = plan(&r, &settings, opts.speed);
    if planned.is_empty() {
        return Err(ReplayError::NothingToRun);
    }
    let end_us = opts
        .until
        .or(duration)
        .map(|d| d.as_micros())
        .unwrap_or(r.end_time.as_micros());
    // One runtime per node, in name order.
    let mut node_names: Vec<String> = planned.iter().map(|p| p.node.clone()).collect();
    node_names.sort();
    node_names.dedup();
    let mut rts = Vec::new();
    let cores = session.cap().cores;
    let mut cursor = 0u64;
    for n in &node_names {
        let Some(node) = r.nodes.iter().find(|x| &x.meta.name == n) else {
            continue;
        };
        // Pin the node to as many host CPUs as it has (whole ones, round
        // robin) when the host has that many.
        let want = (node.capacity.cpu_m.max(1) as u64).div_ceil(1000);
        let cpus = (want <= cores).then(|| {
            let v: Vec<String> = (0..want)
                .map(|i| ((cursor + i) % cores).to_string())
                .collect();
            cursor += want;
            v.join(",")
        });
        rts.push(LinuxRuntime::with_cpus(
            session.clone(),
            n,
            node.capacity.cpu_m,
            node.capacity.memory,
            opts.burn_exe.clone(),
            cpus,
        )?);
    }
    fs::create_dir_all(&real_dir).map_err(|source| ReplayError::Io {
        path: real_dir.clone(),
        source,
    })?;
    let cpath = real_dir.join("containers.csv");
    let ctmp = temp_path(&cpath);
    let mut w = csv::Writer::from_path(&ctmp).map_err(csv_err(&ctmp))?;
    w.write_record([
        "t_us",
        "node",
        "namespace",
        "pod",
        "container",
        "cpu_demand_m",
        "cpu_granted_m",
        "cpu_limit_m",
        "throttled_periods",
        "throttled_us",
        "memory_bytes",
        "memory_limit_bytes",
        "restarts",
        "oom_kills",
    ])
    .map_err(csv_err(&ctmp))?;

    let wall0 = Instant::now();
    let now_us = |speed: f64| (wall0.elapsed().as_micros() as f64 * speed) as u64;
    let mut live: Vec<Live> = Vec::new();
    let mut next = 0usize;
    let mut next_sample = 0u64;
    let sample_us = sample.as_micros().max(1);
    let result: Result<(), ReplayError> = (|| {
        loop {
            if interrupted() {
                return Err(ReplayError::Interrupted);
            }
            let t = now_us(opts.speed);
            while next < planned.len() && planned[next].start_us <= t {
                let p = &planned[next];
                next += 1;
                let Some(ri) = node_names.iter().position(|n| *n == p.node) else {
                    continue;
                };
                let rt = &mut rts[ri];
                let sb = rt.run_pod_sandbox(&p.sandbox)?;
                for c in &p.containers {
                    let id = rt.create_container(&sb, c)?;
                    rt.start_container(&id)?;
                    live.push(Live {
                        rt: ri,
                        id,
                        sandbox: sb.clone(),
                        alone: p.containers.len() == 1,
                        node: p.node.clone(),
                        namespace: p.namespace.clone(),
                        pod: p.pod.clone(),
                        container: c.name.clone(),
                        demand_m: c.workload.cpu.value_at(Duration::ZERO),
                        cpu_limit_m: c.resources.cpu_limit_m(),
                        memory_limit: c.resources.memory_limit(),
                        started_us: now_us(opts.speed),
                        finished_us: None,
                        exit_code: None,
                        reason: String::new(),
                        cpu_usage_us: 0,
                        oom_kills: 0,
                    });
                }
                let _ = &p.uid;
            }
            // Exits.
            for l in live.iter_mut().filter(|l| l.finished_us.is_none()) {
                let st = rts[l.rt].container_status(&l.id)?;
                if st.state == ContainerState::Exited {
                    l.finished_us = Some(now_us(opts.speed));
                    l.exit_code = st.exit_code;
                    l.reason = st.reason.clone();
                    if let Ok(s) = rts[l.rt].container_stats(&l.id) {
                        l.cpu_usage_us = s.cpu_usage_us;
                        l.oom_kills = s.oom_kills;
                    }
                }
            }
            let t = now_us(opts.speed);
            let all_done = next >= planned.len() && live.iter().all(|l| l.finished_us.is_some());
            if t >= next_sample || all_done || t >= end_us {
                let mut rows: Vec<(String, String, String, String, Vec<String>)> = Vec::new();
                for l in live.iter_mut() {
                    let running = l.finished_us.is_none();
                    let Ok(mut s) = rts[l.rt].container_stats(&l.id) else {
                        continue;
                    };
                    // On v1 a pod whose quota equals its only container's
                    // is throttled at the pod level (measured: the
                    // container's own counters stay near 0): report the
                    // throttling the container experienced.
                    if l.alone {
                        if let Ok(ps) = rts[l.rt].pod_stats(&l.sandbox) {
                            if ps.throttled_us > s.throttling.throttled_us {
                                s.throttling.nr_throttled = ps.nr_throttled;
                                s.throttling.throttled_us = ps.throttled_us;
                            }
                        }
                    }
                    if running {
                        l.cpu_usage_us = s.cpu_usage_us;
                        l.oom_kills = s.oom_kills;
                    } else if l.finished_us.is_some_and(|f| f + sample_us < t) {
                        continue;
                    }
                    let sp = opts.speed;
                    rows.push((
                        l.node.clone(),
                        l.namespace.clone(),
                        l.pod.clone(),
                        l.container.clone(),
                        vec![
                            l.demand_m.to_string(),
                            (s.cpu_granted_m).to_string(),
                            l.cpu_limit_m.map(|v| v.to_string()).unwrap_or_default(),
                            s.throttling.nr_throttled.to_string(),
                            ((s.throttling.throttled_us as f64 * sp) as u64).to_string(),
                            s.memory_working_set_bytes.to_string(),
                            l.memory_limit.map(|v| v.to_string()).unwrap_or_default(),
                            "0".to_string(),
                            s.oom_kills.to_string(),
                        ],
                    ));
                }
                rows.sort();
                let ts = next_sample.min(t).to_string();
                for (n, ns, p, c, rest) in rows {
                    let mut rec = vec![ts.clone(), n, ns, p, c];
                    rec.extend(rest);
                    w.write_record(&rec).map_err(csv_err(&ctmp))?;
                }
                next_sample = (t / sample_us + 1) * sample_us;
            }
            if all_done || t >= end_us {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    })();
    let wall = wall0.elapsed();
    // Stop everything (the session's Drop would too).
    drop(rts);
    let closed = session.close();
    if let Err(e) = result {
        let _ = fs::remove_file(&ctmp);
        return Err(e);
    }
    closed?;
    w.flush().map_err(|source| ReplayError::Io {
        path: ctmp.clone(),
        source,
    })?;
    drop(w);
    fs::rename(&ctmp, &cpath).map_err(|source| ReplayError::Io {
        path: cpath.clone(),
        source,
    })?;
    // completions.csv
    let ppath = real_dir.join("completions.csv");
    let ptmp = temp_path(&ppath);
    let mut pw = csv::Writer::from_path(&ptmp).map_err(csv_err(&ptmp))?;
    pw.write_record([
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
    .map_err(csv_err(&ptmp))?;
    live.sort_by(|a, b| {
        (&a.namespace, &a.pod, &a.container).cmp(&(&b.namespace, &b.pod, &b.container))
    });
    for l in &live {
        pw.write_record([
            l.node.clone(),
            l.namespace.clone(),
            l.pod.clone(),
            l.container.clone(),
            l.started_us.to_string(),
            l.finished_us.map(|v| v.to_string()).unwrap_or_default(),
            l.exit_code.map(|v| v.to_string()).unwrap_or_default(),
            l.reason.clone(),
            ((l.cpu_usage_us as f64 * opts.speed) as u64).to_string(),
            l.oom_kills.to_string(),
        ])
        .map_err(csv_err(&ptmp))?;
    }
    pw.flush().map_err(|source| ReplayError::Io {
        path: ptmp.clone(),
        source,
    })?;
    drop(pw);
    fs::rename(&ptmp, &ppath).map_err(|source| ReplayError::Io {
        path: ppath.clone(),
        source,
    })?;
    let layout = session.layout().describe();
    Ok(ReplayReport {
        sim_dir,
        real_dir,
        containers: live.len(),
        nodes: node_names.len(),
        wall,
        layout,
    })
}
