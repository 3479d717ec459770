//! Starting a container: a process in new PID, UTS, IPC and mount
//! namespaces (network optional), with the pod's name as hostname, placed
//! into its cgroups before it runs a single instruction of its program.
//!
//! How (all of it in the forked child, from `Command::pre_exec`, with only
//! async-signal-safe system calls and no allocation):
//! 1. write `0` to each `cgroup.procs` fd the parent opened (race-free
//!    placement: the child is in its cgroups before `exec`, and so is
//!    everything it forks);
//! 2. `unshare(CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNS|CLONE_NEWPID[|CLONE_NEWNET])`,
//!    `sethostname`, make every mount private (`MS_REC|MS_PRIVATE`) so
//!    nothing propagates back to the host;
//! 3. `fork`: the new process is PID 1 of the new PID namespace; it mounts
//!    a fresh `/proc` and goes on to `exec` the program. The first child
//!    stays behind as a tiny *shim* outside the namespace: it closes every
//!    inherited descriptor, waits for PID 1 and exits with its status (or
//!    re-raises the signal that killed it), so the parent's `Child` reports
//!    what the container did (exit 137 after an OOM kill). Both die with
//!    their parent (`PR_SET_PDEATHSIG`), and the container runs in its own
//!    process group, so a terminal's Ctrl-C reaches only kubesim, which
//!    then cleans up.
//!
//! The shim is in the container's cgroups too: a pids limit counts it.

use std::ffi::{CString, OsString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use nix::libc;

/// What to start.
#[derive(Debug)]
pub struct ContainerSpec {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// The pod's name (UTS namespace).
    pub hostname: String,
    /// Also a new network namespace (only `lo`, down).
    pub new_net: bool,
    /// `cgroup.procs` files of the container's cgroups (from
    /// [`super::cgroupfs::CgroupDriver::procs_fds`]).
    pub procs: Vec<OwnedFd>,
    /// Inherit stdout/stderr (otherwise /dev/null).
    pub inherit_output: bool,
    /// `Some`: exactly this environment (a container's, as a runtime
    /// gives it, plus `HOSTNAME`); `None`: kubesim's own.
    pub env: Option<Vec<(String, String)>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("hostname {0:?} is not valid (1-64 bytes, no NUL)")]
    Hostname(String),
    #[error("starting {program}: {source}")]
    Start {
        program: PathBuf,
        source: std::io::Error,
    },
}

/// Sets the flag bits for `unshare`.
pub fn clone_flags(new_net: bool) -> libc::c_int {
    let mut f = libc::CLONE_NEWUTS | libc::CLONE_NEWIPC | libc::CLONE_NEWNS | libc::CLONE_NEWPID;
    if new_net {
        f |= libc::CLONE_NEWNET;
    }
    f
}

/// Starts the container; the returned `Child` is the shim (its exit status
/// is the container's).
pub fn spawn(spec: ContainerSpec) -> Result<Child, SpawnError> {
    if spec.hostname.is_empty() || spec.hostname.len() > 64 {
        return Err(SpawnError::Hostname(spec.hostname));
    }
    let host = CString::new(spec.hostname.clone())
        .map_err(|_| SpawnError::Hostname(spec.hostname.clone()))?;
    let fds: Vec<RawFd> = spec.procs.iter().map(|f| f.as_raw_fd()).collect();
    let flags = clone_flags(spec.new_net);
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args).stdin(Stdio::null()).process_group(0);
    if let Some(env) = &spec.env {
        cmd.env_clear().env("HOSTNAME", &spec.hostname);
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
    }
    if !spec.inherit_output {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
    }
    // SAFETY: the closure runs in the forked child of a possibly
    // multi-threaded parent; it only makes async-signal-safe system calls
    // on data prepared above (no allocation, no locks).
    unsafe {
        cmd.pre_exec(move || child_setup(&fds, &host, flags));
    }
    let child = cmd.spawn().map_err(|source| SpawnError::Start {
        program: spec.program.clone(),
        source,
    });
    // The parent's copies of the cgroup.procs fds close here.
    drop(spec.procs);
    child
}

fn last_err() -> std::io::Error {
    std::io::Error::last_os_error()
}

/// Runs in the child between fork and exec (see the module doc).
fn child_setup(fds: &[RawFd], host: &CString, flags: libc::c_int) -> std::io::Result<()> {
    // SAFETY: plain system calls on valid pointers to data that outlives
    // the call; all are async-signal-safe.
    unsafe {
        if libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        ) != 0
        {
            return Err(last_err());
        }
        for &fd in fds {
            if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                return Err(last_err());
            }
        }
        if libc::unshare(flags) != 0 {
            return Err(last_err());
        }
        if libc::sethostname(host.as_ptr(), host.as_bytes().len()) != 0 {
            return Err(last_err());
        }
        let root = c"/";
        if libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            return Err(last_err());
        }
        let pid = libc::fork();
        if pid < 0 {
            return Err(last_err());
        }
        if pid == 0 {
            // PID 1 of the new namespace.
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(last_err());
            }
            let proc_ = c"proc";
            let target = c"/proc";
            if libc::mount(
                proc_.as_ptr(),
                target.as_ptr(),
                proc_.as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                std::ptr::null(),
            ) != 0
            {
                return Err(last_err());
            }
            return Ok(());
        }
        shim(pid)
    }
}

/// The shim: never returns.
unsafe fn shim(pid: libc::pid_t) -> ! {
    // Close every inherited descriptor (among them std's exec-error pipe,
    // so the parent's `spawn` returns once PID 1 has exec'd).
    if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
        for fd in 3..1024 {
            libc::close(fd);
        }
    }
    let mut status: libc::c_int = 0;
    loop {
        let r = libc::waitpid(pid, &mut status, 0);
        if r == pid {
            break;
        }
        if r == -1 && last_err().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        libc::_exit(126);
    }
    if libc::WIFEXITED(status) {
        libc::_exit(libc::WEXITSTATUS(status));
    }
    if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        libc::signal(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::kill(libc::getpid(), sig);
        libc::_exit(128 + sig);
    }
    libc::_exit(126)
}

/// The exit code Kubernetes reports for a wait status (128 + signal).
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(s)) => 128 + s,
        _ => 255,
    }
}

/// Sends `sig` to every pid in `pids` except `shim` (the container's
/// processes get SIGTERM; the shim reports their status).
pub fn signal_all(pids: &[i32], shim: u32, sig: nix::sys::signal::Signal) {
    for &p in pids {
        if p > 0 && p as u32 != shim {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), sig);
        }
    }
}
