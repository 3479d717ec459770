//! Nothing leaks: a [`Session`] owns one run's cgroup subtree and every
//! process started in it. It checks the host first (Linux, root, a cgroup
//! filesystem with the controllers kubesim needs) and says what is missing;
//! it caps the whole run with its top-level group (`kubesim/<run id>`: CPU
//! quota ≤ the host's cores, memory ≤ a configurable fraction of the
//! host's); and it kills the processes and removes the groups when closed,
//! when dropped (on error and during a panic's unwinding), and — through
//! [`install_interrupt_handler`]/[`interrupted`], which the replay loop
//! polls — on Ctrl-C. `kubesim replay --cleanup` removes what a killed run
//! left behind ([`cleanup`]).

use std::path::PathBuf;
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::libc;

use super::cgroupfs::{
    self, CgLimits, CgName, CgroupDriver, CgroupError, Layout, WeightFormula, DEFAULT_PERIOD_US,
};
use super::spawn::{self, ContainerSpec, SpawnError};

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("the Linux backend needs root to create cgroups (running as uid {0}); run as root")]
    NotRoot(u32),
    #[error("the Linux backend cannot use this host's cgroups: {0}")]
    Cgroup(#[from] CgroupError),
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    #[error("interrupted")]
    Interrupted,
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How to open a session.
#[derive(Clone, Debug)]
pub struct SessionOptions {
    /// The run's memory cap as a fraction of host memory, in ‰ (default 500).
    pub memory_permille: u64,
    pub formula: WeightFormula,
    /// Defaults to a fresh `<pid>-<n>`.
    pub run_id: Option<String>,
    /// cpu.shares of the run's group (and of `kubesim/` when this run
    /// creates it): its weight against the host's other work. Default:
    /// cores × 1024, as the kubelet gives `kubepods` its allocatable CPU.
    pub cpu_shares: Option<u64>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            memory_permille: 500,
            formula: WeightFormula::default(),
            run_id: None,
            cpu_shares: None,
        }
    }
}

/// The host's capacity as kubesim may use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostCap {
    pub cores: u64,
    pub memory_bytes: u64,
}

/// Total memory from `/proc/meminfo` and online cores.
pub fn host_capacity() -> Result<HostCap, BackendError> {
    let p = PathBuf::from("/proc/meminfo");
    let text = std::fs::read_to_string(&p).map_err(|source| BackendError::Io {
        path: p.clone(),
        source,
    })?;
    let kb = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get() as u64)
        .unwrap_or(1);
    Ok(HostCap {
        cores,
        memory_bytes: kb * 1024,
    })
}

/// Checks that this host can run the backend: root and a usable cgroupfs.
pub fn check_host() -> Result<Layout, BackendError> {
    // SAFETY: geteuid cannot fail.
    let uid = unsafe { libc::geteuid() };
    if uid != 0 {
        return Err(BackendError::NotRoot(uid));
    }
    Ok(cgroupfs::detect()?)
}

struct Proc {
    pid: u32,
    child: Child,
    group: CgName,
    status: Option<i32>,
}

/// One run's cgroups and processes; cleans up when closed or dropped.
pub struct Session {
    driver: Arc<dyn CgroupDriver>,
    layout: Layout,
    cap: HostCap,
    procs: Mutex<Vec<Proc>>,
    open: AtomicBool,
}

impl Session {
    /// Checks the host, creates `kubesim/<run id>` and caps it.
    pub fn open(opts: &SessionOptions) -> Result<Session, BackendError> {
        let layout = check_host()?;
        let run_id = opts.run_id.clone().unwrap_or_else(cgroupfs::new_run_id);
        let driver: Arc<dyn CgroupDriver> =
            cgroupfs::driver_for(&layout, &run_id, opts.formula)?.into();
        let host = host_capacity()?;
        let cap = HostCap {
            cores: host.cores,
            memory_bytes: host.memory_bytes / 1000 * opts.memory_permille.clamp(1, 1000),
        };
        let s = Session {
            driver,
            layout,
            cap,
            procs: Mutex::new(Vec::new()),
            open: AtomicBool::new(true),
        };
        // From here on, Drop removes whatever init created.
        s.driver.init()?;
        let shares = opts.cpu_shares.unwrap_or(cap.cores * 1024);
        s.driver.apply_shared(&CgLimits {
            cpu_shares: Some(shares),
            ..Default::default()
        })?;
        s.driver.apply(
            &CgName::run_root(),
            &CgLimits {
                cpu_quota_us: Some(Some(cap.cores * DEFAULT_PERIOD_US)),
                cpu_period_us: Some(DEFAULT_PERIOD_US),
                cpu_shares: Some(shares),
                memory_max: Some(Some(cap.memory_bytes)),
                ..Default::default()
            },
        )?;
        Ok(s)
    }

    pub fn driver(&self) -> &dyn CgroupDriver {
        &*self.driver
    }
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
    /// The run's cap (cores; memory after the fraction).
    pub fn cap(&self) -> HostCap {
        self.cap
    }

    /// Starts a process in group `group` with kubesim's environment;
    /// returns the shim's pid.
    pub fn start(
        &self,
        group: &CgName,
        program: PathBuf,
        args: Vec<std::ffi::OsString>,
        hostname: &str,
        new_net: bool,
    ) -> Result<u32, BackendError> {
        self.start_with_env(group, program, args, hostname, new_net, None)
    }

    /// [`Session::start`] with the container's own environment (`Some`:
    /// exactly these variables and `HOSTNAME`).
    pub fn start_with_env(
        &self,
        group: &CgName,
        program: PathBuf,
        args: Vec<std::ffi::OsString>,
        hostname: &str,
        new_net: bool,
        env: Option<Vec<(String, String)>>,
    ) -> Result<u32, BackendError> {
        let procs = self.driver.procs_fds(group)?;
        let child = spawn::spawn(ContainerSpec {
            program,
            args,
            hostname: hostname.to_string(),
            new_net,
            procs,
            inherit_output: false,
            env,
        })?;
        let pid = child.id();
        if let Ok(mut v) = self.procs.lock() {
            v.push(Proc {
                pid,
                child,
                group: group.clone(),
                status: None,
            });
        }
        Ok(pid)
    }

    /// The container's exit code (128 + signal) once it has ended.
    pub fn try_wait(&self, pid: u32) -> Option<i32> {
        let mut v = self.procs.lock().ok()?;
        let p = v.iter_mut().find(|p| p.pid == pid)?;
        if p.status.is_none() {
            if let Ok(Some(st)) = p.child.try_wait() {
                p.status = Some(spawn::exit_code(st));
            }
        }
        p.status
    }

    /// SIGTERM to the container's processes, SIGKILL after `grace`;
    /// returns the exit code.
    #[allow(clippy::disallowed_methods)] // wall-clock grace period
    pub fn stop(&self, pid: u32, grace: Duration) -> Option<i32> {
        let group = {
            let v = self.procs.lock().ok()?;
            v.iter().find(|p| p.pid == pid)?.group.clone()
        };
        if let Some(c) = self.try_wait(pid) {
            return Some(c);
        }
        let pids = self.driver.pids(&group).unwrap_or_default();
        spawn::signal_all(&pids, pid, nix::sys::signal::Signal::SIGTERM);
        let t0 = std::time::Instant::now();
        while t0.elapsed() < grace {
            if let Some(c) = self.try_wait(pid) {
                return Some(c);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let pids = self.driver.pids(&group).unwrap_or_default();
        spawn::signal_all(&pids, 0, nix::sys::signal::Signal::SIGKILL);
        for _ in 0..200 {
            if let Some(c) = self.try_wait(pid) {
                return Some(c);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }

    /// Kills every process, reaps them, removes the run's cgroups. Safe to
    /// call twice.
    pub fn close(&self) -> Result<(), BackendError> {
        if !self.open.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        if let Ok(mut v) = self.procs.lock() {
            for p in v.iter_mut() {
                if p.status.is_none() {
                    let _ = p.child.kill();
                }
            }
        }
        let r = self.driver.destroy_run();
        if let Ok(mut v) = self.procs.lock() {
            for p in v.iter_mut() {
                if p.status.is_none() {
                    if let Ok(st) = p.child.wait() {
                        p.status = Some(spawn::exit_code(st));
                    }
                }
            }
        }
        // A second pass in case a zombie kept a group busy.
        if r.is_err() {
            self.driver.destroy_run()?;
        }
        Ok(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            eprintln!("kubesim: cleaning up the Linux backend's cgroups failed: {e}");
        }
    }
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// SIGINT, SIGTERM and SIGHUP set a flag (only an atomic store in the
/// handler) that the replay loop polls, so it unwinds and the guard runs.
pub fn install_interrupt_handler() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let act = SigAction::new(
        SigHandler::Handler(on_interrupt),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only stores to an atomic.
        unsafe {
            let _ = sigaction(s, &act);
        }
    }
}

/// Whether an interrupt arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// `kubesim replay --cleanup`: removes the groups (and kills the
/// processes) of runs whose kubesim process is gone.
pub fn cleanup() -> Result<cgroupfs::CleanupReport, BackendError> {
    let layout = check_host()?;
    Ok(cgroupfs::cleanup_leftovers(
        &cgroupfs::hierarchies(&layout),
        cgroupfs::TreeKind::Kernel,
        &cgroupfs::pid_alive,
    ))
}
