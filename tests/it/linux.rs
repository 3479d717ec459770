//! The Linux backend against the real kernel: CPU quota, CPU shares under
//! contention, OOM kill, pids limit, namespaces, cleanup (also after a
//! panic). They need root and a cgroup filesystem; elsewhere each prints
//! why it skipped. They run one at a time (one lock) since they measure
//! CPU on a small shared machine.
#![cfg(target_os = "linux")]
#![allow(clippy::disallowed_methods)] // wall-clock sleeps are the point

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use kubesim::linux::cgroupfs::{hierarchies, CgLimits, CgName, CgStats};
use kubesim::linux::guard::{check_host, Session, SessionOptions};

static SERIAL: Mutex<()> = Mutex::new(());

fn burn_exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kubesim"))
}

fn burn_args(cpu_m: u64, memory: u64, duration_ms: u64, exit: i32) -> Vec<OsString> {
    [
        "burn".to_string(),
        format!("--cpu-m={cpu_m}"),
        format!("--memory-bytes={memory}"),
        format!("--duration-ms={duration_ms}"),
        format!("--exit-code={exit}"),
    ]
    .into_iter()
    .map(OsString::from)
    .collect()
}

/// A session, or None with the reason printed.
fn session(test: &str) -> Option<Session> {
    if let Err(e) = check_host() {
        eprintln!("{test}: skipped: {e}");
        return None;
    }
    // The tests measure the kernel's enforcement, so the run gets the
    // largest weight against the host's other work (builds share 2 cores).
    let opts = SessionOptions {
        cpu_shares: Some(262_144),
        ..Default::default()
    };
    match Session::open(&opts) {
        Ok(s) => Some(s),
        Err(e) => panic!("{test}: the host passed the checks but the session failed: {e}"),
    }
}

fn name(s: &str) -> CgName {
    CgName::new(s).expect("valid name")
}

fn wait_exit(s: &Session, pid: u32, timeout: Duration) -> i32 {
    let t0 = std::time::Instant::now();
    loop {
        if let Some(c) = s.try_wait(pid) {
            return c;
        }
        assert!(
            t0.elapsed() < timeout,
            "container {pid} still running after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn run_dirs(run_id: &str) -> Vec<PathBuf> {
    let Ok(layout) = check_host() else {
        return Vec::new();
    };
    hierarchies(&layout)
        .into_iter()
        .map(|m| m.join("kubesim").join(run_id))
        .filter(|p| p.exists())
        .collect()
}

/// No run's groups are left under any hierarchy's `kubesim/`.
fn assert_no_run_left() {
    let layout = check_host().unwrap();
    for m in hierarchies(&layout) {
        let left: Vec<_> = std::fs::read_dir(m.join("kubesim"))
            .map(|r| r.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

fn assert_clean(run_id: &str) {
    let left = run_dirs(run_id);
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A 0.5-CPU quota over ~1.5 s: the CPU used per CFS period the group was
/// active in is the quota, ±10% (the measure is usage against the periods
/// the kernel counted, so other load on the 2 shared cores does not enter
/// unless it starves the group below its quota).
#[test]
fn cpu_quota_is_honoured() {
    let _l = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(s) = session("cpu_quota_is_honoured") else {
        return;
    };
    let run = s.driver().run_id().to_string();
    let g = name("quota");
    s.driver().create(&g).unwrap();
    s.driver()
        .apply(
            &g,
            &CgLimits {
                cpu_quota_us: Some(Some(50_000)),
                cpu_period_us: Some(100_000),
                ..Default::default()
            },
        )
        .unwrap();
    let pid = s
        .start(&g, burn_exe(), burn_args(1000, 0, 1500, 0), "quota", false)
        .unwrap();
    assert_eq!(wait_exit(&s, pid, Duration::from_secs(10)), 0);
    let st: CgStats = s.driver().stats(&g).unwrap();
    let allowed = st.nr_periods * 50_000;
    let ratio = st.cpu_usage_us as f64 / allowed as f64;
    eprintln!("quota: {st:?} usage/allowed = {ratio:.3}");
    assert!(st.nr_periods >= 12, "{st:?}");
    assert!(
        (0.9..=1.1).contains(&ratio),
        "usage/quota {ratio:.3}: {st:?}"
    );
    assert!(
        st.nr_throttled * 2 >= st.nr_periods,
        "throttled in most periods: {st:?}"
    );
    assert!(st.throttled_us > 0);
    s.close().unwrap();
    assert_clean(&run);
}

/// Two busy containers pinned to one CPU with shares 512 : 1536 split it
/// 1 : 3. The share of the heavier one is 0.75 ± 10% (0.675..0.825),
/// measured as the difference of two usage samples taken while both run
/// (so the start-up of either does not count). CFS weights are exact in
/// expectation; the tolerance covers the ~1 s window's granularity
/// (sched_latency 6-24 ms slices).
#[test]
fn cpu_shared_in_proportion_to_shares() {
    let _l = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(s) = session("cpu_shared_in_proportion_to_shares") else {
        return;
    };
    let run = s.driver().run_id().to_string();
    let d = s.driver();
    let parent = name("pinned");
    d.create(&parent).unwrap();
    d.apply(
        &parent,
        &CgLimits {
            cpuset: Some(("0".into(), "0".into())),
            ..Default::default()
        },
    )
    .unwrap();
    let a = name("pinned/a");
    let b = name("pinned/b");
    for (g, shares) in [(&a, 512), (&b, 1536)] {
        d.create(g).unwrap();
        d.apply(
            g,
            &CgLimits {
                cpu_shares: Some(shares),
                cpuset: Some(("0".into(), "0".into())),
                ..Default::default()
            },
        )
        .unwrap();
    }
    let pa = s
        .start(&a, burn_exe(), burn_args(1000, 0, 1600, 0), "a", false)
        .unwrap();
    let pb = s
        .start(&b, burn_exe(), burn_args(1000, 0, 1600, 0), "b", false)
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (a0, b0) = (d.stats(&a).unwrap(), d.stats(&b).unwrap());
    std::thread::sleep(Duration::from_millis(1000));
    let (a1, b1) = (d.stats(&a).unwrap(), d.stats(&b).unwrap());
    let ua = a1.cpu_usage_us - a0.cpu_usage_us;
    let ub = b1.cpu_usage_us - b0.cpu_usage_us;
    let share = ub as f64 / (ua + ub) as f64;
    eprintln!("shares: a {ua} us, b {ub} us, b's share {share:.3}");
    assert!(
        ua + ub > 500_000,
        "the pinned CPU was mostly busy: {ua} + {ub}"
    );
    assert!((0.675..=0.825).contains(&share), "b's share {share:.3}");
    assert_eq!(wait_exit(&s, pa, Duration::from_secs(10)), 0);
    assert_eq!(wait_exit(&s, pb, Duration::from_secs(10)), 0);
    s.close().unwrap();
    assert_clean(&run);
}

/// 128 MiB touched under a 32 MiB limit: SIGKILL (137) and one OOM kill
/// counted (no swap on this host; with swap the limit covers memory only).
#[test]
fn over_memory_limit_is_oom_killed() {
    let _l = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(s) = session("over_memory_limit_is_oom_killed") else {
        return;
    };
    let run = s.driver().run_id().to_string();
    let g = name("oom");
    s.driver().create(&g).unwrap();
    s.driver()
        .apply(
            &g,
            &CgLimits {
                memory_max: Some(Some(32 << 20)),
                ..Default::default()
            },
        )
        .unwrap();
    let pid = s
        .start(
            &g,
            burn_exe(),
            burn_args(0, 128 << 20, 3000, 0),
            "oom",
            false,
        )
        .unwrap();
    assert_eq!(wait_exit(&s, pid, Duration::from_secs(10)), 137);
    let st = s.driver().stats(&g).unwrap();
    eprintln!("oom: {st:?}");
    assert!(st.oom_kills >= 1, "{st:?}");
    assert!(st.memory_peak_bytes <= 32 << 20, "{st:?}");
    s.close().unwrap();
    assert_clean(&run);
}

/// pids.max = 4 admits the shim, burn's main thread and two busy threads
/// (2000m), and refuses a third (3000m: the thread cannot be created and
/// burn fails).
#[test]
fn pids_limit_holds() {
    let _l = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(s) = session("pids_limit_holds") else {
        return;
    };
    let run = s.driver().run_id().to_string();
    let mut codes = Vec::new();
    for (i, cpu_m) in [2000u64, 3000].into_iter().enumerate() {
        let g = name(&format!("pids{i}"));
        s.driver().create(&g).unwrap();
        s.driver()
            .apply(
                &g,
                &CgLimits {
                    pids_max: Some(Some(4)),
                    cpu_quota_us: Some(Some(10_000)),
                    ..Default::default()
                },
            )
            .unwrap();
        let pid = s
            .start(&g, burn_exe(), burn_args(cpu_m, 0, 200, 0), "pids", false)
            .unwrap();
        codes.push(wait_exit(&s, pid, Duration::from_secs(10)));
    }
    assert_eq!(codes[0], 0, "4 tasks fit");
    assert_ne!(codes[1], 0, "a fifth task was refused");
    s.close().unwrap();
    assert_clean(&run);
}

/// The container sees itself as PID 1, the pod's name as hostname, only
/// its own processes in /proc; the host keeps its hostname.
#[test]
fn container_runs_in_its_own_namespaces() {
    let _l = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(s) = session("container_runs_in_its_own_namespaces") else {
        return;
    };
    if !Path::new("/bin/sh").exists() {
        eprintln!("container_runs_in_its_own_namespaces: skipped: no /bin/sh");
        return;
    }
    let run = s.driver().run_id().to_string();
    let before = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let g = name("ns");
    s.driver().create(&g).unwrap();
    let script = "test $$ = 1 || exit 11; \
                  test \"$(cat /proc/sys/kernel/hostname)\" = web-0 || exit 12; \
                  n=0; for d in /proc/[0-9]*; do n=$((n+1)); done; test $n -le 2 || exit 13; \
                  grep -q kubesim /proc/self/cgroup || exit 14; exit 0";
    let pid = s
        .start(
            &g,
            PathBuf::from("/bin/sh"),
            vec!["-c".into(), script.into()],
            "web-0",
            true,
        )
        .unwrap();
    assert_eq!(wait_exit(&s, pid, Duration::from_secs(10)), 0);
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap(),
        before
    );
    s.close().unwrap();
    assert_clean(&run);
}

/// A panic while containers run: the guard's Drop kills them and removes
/// every group of the run.
#[test]
fn cleanup_after_a_panic_leaves_nothing() {
    let _l = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if let Err(e) = check_host() {
        eprintln!("cleanup_after_a_panic_leaves_nothing: skipped: {e}");
        return;
    }
    let out = std::panic::catch_unwind(|| {
        let s = Session::open(&SessionOptions::default()).unwrap();
        let g = name("node-0/besteffort/pod-x");
        s.driver().create(&name("node-0")).unwrap();
        s.driver().create(&name("node-0/besteffort")).unwrap();
        s.driver().create(&g).unwrap();
        let pid = s
            .start(
                &g,
                burn_exe(),
                burn_args(100, 1 << 20, 60_000, 0),
                "x",
                false,
            )
            .unwrap();
        let run = s.driver().run_id().to_string();
        std::panic::panic_any((run, pid));
    });
    let payload = out.expect_err("the closure panics");
    let (run, pid) = payload
        .downcast_ref::<(String, u32)>()
        .cloned()
        .expect("payload");
    assert_clean(&run);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the container's shim {pid} is gone"
    );
}

/// The runtime conformance bodies (src/node/conformance.rs) against the
/// Linux runtime: lifecycle, sandbox stop, resources, CPU-limit
/// throttling (±20%), OOM kill, exit codes. Each check gets a fresh node.
#[test]
fn conformance_linux_runtime() {
    use kubesim::linux::runtime::LinuxRuntime;
    use kubesim::node::conformance::{run_all, Tolerance};
    let _l = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(s) = session("conformance_linux_runtime") else {
        return;
    };
    let run = s.driver().run_id().to_string();
    let s = std::sync::Arc::new(s);
    let mut n = 0;
    let make = || {
        n += 1;
        LinuxRuntime::new(s.clone(), &format!("node-{n}"), 1000, 1 << 30, burn_exe())
            .expect("node subtree")
    };
    let r = run_all(make, &Tolerance::NOISY);
    let s = std::sync::Arc::into_inner(s).expect("runtimes dropped");
    s.close().unwrap();
    assert_clean(&run);
    if let Err(m) = r {
        panic!("Linux runtime conformance: {m}");
    }
}

const SMALL: &str = r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata:
  name: small-real
spec:
  seed: 1
  duration: 5s
  sampleInterval: 1s
  cluster:
    nodePools:
    - name: w
      count: 1
      capacity: {cpu: "1", memory: 1Gi, pods: "10"}
---
apiVersion: v1
kind: Pod
metadata:
  name: batch
  annotations:
    kubesim.dev/cpu-usage: "1"
    kubesim.dev/cpu-work: "2"
spec:
  restartPolicy: Never
  containers:
  - name: work
    image: b:1
    resources:
      requests: {cpu: 500m, memory: 32Mi}
---
apiVersion: v1
kind: Pod
metadata:
  name: hog
  annotations:
    kubesim.dev/cpu-usage: 10m
    kubesim.dev/memory-usage: 64Mi
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: a:1
    resources:
      requests: {cpu: 10m, memory: 32Mi}
      limits: {memory: 32Mi}
"#;

/// A small scenario replayed for real: results in the simulator's schema,
/// the OOM kill agrees, the batch job's completion time (2 CPU-seconds of
/// work; the process's start-up counts too) is within ±30% of the
/// simulated one (one job alone on a 1-CPU node pinned to one host CPU),
/// and nothing is left behind.
#[test]
fn replay_small_scenario_for_real() {
    use kubesim::linux::replay::{replay, ReplayOptions};
    let _l = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if let Err(e) = check_host() {
        eprintln!("replay_small_scenario_for_real: skipped: {e}");
        return;
    }
    let sc = kubesim::scenario::load_str(SMALL, Path::new("small.yaml"), Default::default())
        .expect("scenario loads");
    let t = tempfile::tempdir().unwrap();
    let opts = ReplayOptions {
        speed: 1.0,
        out: t.path().to_path_buf(),
        burn_exe: burn_exe(),
        session: SessionOptions {
            cpu_shares: Some(262_144),
            ..Default::default()
        },
        until: None,
    };
    let rep = replay(sc, &opts).expect("replay runs");
    let rows = kubesim::realcmp::compare(&rep.sim_dir, &rep.real_dir).unwrap();
    eprintln!("{}", kubesim::realcmp::table(&rows));
    let comp = std::fs::read_to_string(rep.real_dir.join("completions.csv")).unwrap();
    assert!(
        comp.contains(",hog,app,") && comp.contains(",137,OOMKilled,"),
        "{comp}"
    );
    let head = std::fs::read_to_string(rep.real_dir.join("containers.csv")).unwrap();
    assert!(head.starts_with("t_us,node,namespace,pod,container,cpu_demand_m,cpu_granted_m,"));
    for r in &rows {
        assert_eq!(r.oom_agrees(), Some(true), "{r:?}");
    }
    let batch = rows.iter().find(|r| r.pod == "batch").expect("batch row");
    let err = kubesim::realcmp::Row::err_pct(batch.sim_completion_us, batch.real_completion_us)
        .expect("both completed");
    assert!(err.abs() <= 30.0, "completion error {err:.1}%: {batch:?}");
    assert_no_run_left();
}

/// `replay --cleanup` removes a dead run's groups (one made here, owned by
/// a pid above pid_max) and keeps nothing else.
#[test]
fn cleanup_removes_a_dead_runs_leftovers() {
    let _l = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let layout = match check_host() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cleanup_removes_a_dead_runs_leftovers: skipped: {e}");
            return;
        }
    };
    let pid_max: u64 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(4_194_304);
    let run = format!("{}-0", pid_max + 1);
    let mounts = hierarchies(&layout);
    for m in &mounts {
        std::fs::create_dir_all(m.join("kubesim").join(&run).join("node-0/kubepods")).unwrap();
    }
    let rep = kubesim::linux::guard::cleanup().unwrap();
    assert!(rep.errors.is_empty(), "{rep:?}");
    assert_eq!(rep.removed.len(), mounts.len(), "{rep:?}");
    assert_clean(&run);
    for m in &mounts {
        assert!(!m.join("kubesim").exists(), "{} left", m.display());
    }
}

/// Without root, `kubesim replay` exits non-zero with a message that says
/// root is missing, and writes nothing (run as uid 65534 via setpriv).
#[test]
fn replay_without_root_says_what_is_missing() {
    let setpriv = Path::new("/usr/bin/setpriv");
    if !setpriv.exists() || check_host().is_err() {
        eprintln!(
            "replay_without_root_says_what_is_missing: skipped: needs root and setpriv to drop it"
        );
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("s.yaml");
    std::fs::write(&file, SMALL).unwrap();
    let out = t.path().join("out");
    let o = std::process::Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(burn_exe())
        .arg("replay")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("needs root") && err.contains("uid 65534"),
        "{err}"
    );
    assert!(!out.exists());
}

/// Ctrl-C (SIGINT) during a replay: kubesim stops, says so, exits
/// non-zero, and leaves no cgroup and no container process behind.
#[test]
fn interrupted_replay_cleans_up() {
    let _l = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let layout = match check_host() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("interrupted_replay_cleans_up: skipped: {e}");
            return;
        }
    };
    let t = tempfile::tempdir().unwrap();
    let file = t.path().join("s.yaml");
    std::fs::write(&file, SMALL.replace("cpu-work: \"2\"", "cpu-work: \"30\"")).unwrap();
    let child = std::process::Command::new(burn_exe())
        .arg("replay")
        .arg(&file)
        .arg("--out")
        .arg(t.path().join("out"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Wait until the run's containers exist, then interrupt.
    let run = format!("{pid}-0");
    let mounts = hierarchies(&layout);
    let t0 = std::time::Instant::now();
    while !mounts[0]
        .join("kubesim")
        .join(&run)
        .join("w-0/kubepods/burstable")
        .exists()
    {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "replay did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("interrupted"), "{err}");
    assert_clean(&run);
    assert_nothing_left();
}

// ---- The kubelet logic on the real runtime (real-time World) ----------

/// Replays `yaml` at `speed`; None (with the reason printed) without root.
fn replay_yaml(
    test: &str,
    yaml: &str,
    speed: f64,
) -> Option<(
    Result<kubesim::linux::replay::ReplayReport, kubesim::linux::replay::ReplayError>,
    tempfile::TempDir,
)> {
    use kubesim::linux::replay::{replay, ReplayOptions};
    if let Err(e) = check_host() {
        eprintln!("{test}: skipped: {e}");
        return None;
    }
    let sc = kubesim::scenario::load_str(yaml, Path::new("t.yaml"), Default::default())
        .expect("scenario loads");
    let t = tempfile::tempdir().unwrap();
    let opts = ReplayOptions {
        speed,
        out: t.path().to_path_buf(),
        burn_exe: burn_exe(),
        session: SessionOptions {
            cpu_shares: Some(262_144),
            ..Default::default()
        },
        until: None,
    };
    Some((replay(sc, &opts), t))
}

/// Rows of a CSV file as header → value maps.
fn csv_rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let h: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|x| {
            let x = x.unwrap();
            h.iter()
                .cloned()
                .zip(x.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

fn int(m: &std::collections::BTreeMap<String, String>, k: &str) -> i64 {
    m.get(k)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{k} in {m:?}"))
}

/// Every `kubesim/` tree is empty and no `kubesim burn` process is left.
fn assert_nothing_left() {
    assert_no_run_left();
    let me = std::process::id();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit(')')
            .next()
            .is_some_and(|s| s.trim_start().starts_with('Z'));
        assert!(
            !(cmd.contains(env!("CARGO_BIN_EXE_kubesim")) && cmd.contains(" burn ") && !zombie)
                || pid == me,
            "burn process {pid} left: {cmd}"
        );
    }
}

const OOM_LOOP: &str = r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: oom-loop}
spec:
  seed: 1
  duration: 60s
  sampleInterval: 5s
  cluster:
    nodePools:
    - name: w
      count: 1
      capacity: {cpu: "1", memory: 1Gi, pods: "10"}
---
apiVersion: v1
kind: Pod
metadata:
  name: hog
  annotations:
    kubesim.dev/cpu-usage: 10m
    kubesim.dev/memory-usage: 48Mi
spec:
  containers:
  - name: app
    image: app:1
    resources:
      requests: {cpu: 10m, memory: 16Mi}
      limits: {memory: 16Mi}
"#;

/// A container OOM-killed by the kernel is restarted by the World's
/// kubelet logic with CrashLoopBackOff (10 s, then 20 s, simulated; at
/// speed 5), and the restarts show in pods.csv.
#[test]
fn oom_killed_container_is_restarted_with_back_off() {
    let _l = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some((rep, _t)) = replay_yaml("oom_killed_container_is_restarted", OOM_LOOP, 5.0) else {
        return;
    };
    let rep = rep.expect("replay runs");
    let runs = csv_rows(&rep.real_dir.join("completions.csv"));
    let killed: Vec<_> = runs
        .iter()
        .filter(|r| r["pod"] == "hog" && r["reason"] == "OOMKilled")
        .collect();
    assert!(killed.len() >= 2, "{runs:?}");
    assert!(killed.iter().all(|r| r["exit_code"] == "137"));
    // Back-off: the second run starts ≥ 10 s (simulated) after the first
    // ended (within the real-time driver's polling).
    let gap = int(killed[1], "started_us") - int(killed[0], "finished_us");
    assert!(gap >= 9_900_000, "restart after {gap} µs: {runs:?}");
    let pods = csv_rows(&rep.real_dir.join("pods.csv"));
    let hog = pods
        .iter()
        .find(|p| p["name"] == "hog")
        .expect("hog in pods.csv");
    assert!(int(hog, "restarts") >= 1, "{hog:?}");
    assert_eq!(hog["exit_code"], "137", "{hog:?}");
    assert_nothing_left();
}

const FAILING_JOB: &str = r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: failing-job}
spec:
  seed: 1
  sampleInterval: 5s
  cluster:
    nodePools:
    - name: w
      count: 1
      capacity: {cpu: "1", memory: 1Gi, pods: "10"}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: flaky
  namespace: default
spec:
  completions: 1
  backoffLimit: 1
  template:
    metadata:
      annotations:
        kubesim.dev/cpu-usage: 500m
        kubesim.dev/cpu-work: "1"
        kubesim.dev/exit-code: "1"
    spec:
      restartPolicy: Never
      containers:
      - name: work
        image: w:1
        resources:
          requests: {cpu: 100m, memory: 16Mi}
"#;

/// A Job pod whose real process exits with 1 fails, and the Job
/// controller creates a replacement (backoffLimit 1: two pods fail, then
/// the Job fails).
#[test]
fn failing_job_pod_is_retried() {
    let _l = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some((rep, _t)) = replay_yaml("failing_job_pod_is_retried", FAILING_JOB, 5.0) else {
        return;
    };
    let rep = rep.expect("replay runs");
    let runs = csv_rows(&rep.real_dir.join("completions.csv"));
    let failed: Vec<_> = runs
        .iter()
        .filter(|r| r["exit_code"] == "1" && r["reason"] == "Error")
        .collect();
    assert_eq!(failed.len(), 2, "{runs:?}");
    assert_ne!(failed[0]["pod"], failed[1]["pod"], "a new pod each time");
    // Each did its CPU work for real (1 CPU-s, ±30%: at speed 5 the
    // process start-up's CPU time counts five times).
    for r in &failed {
        let used = int(r, "cpu_usage_us");
        assert!((700_000..=1_300_000).contains(&used), "{r:?}");
    }
    let pods = csv_rows(&rep.real_dir.join("pods.csv"));
    let job_pods: Vec<_> = pods
        .iter()
        .filter(|p| p["name"].starts_with("flaky-"))
        .collect();
    assert_eq!(job_pods.len(), 2, "{pods:?}");
    assert!(job_pods.iter().all(|p| p["phase"] == "Failed"), "{pods:?}");
    assert_nothing_left();
}

const STEP: &str = r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: usage-step}
spec:
  seed: 1
  duration: 10s
  sampleInterval: 500ms
  cluster:
    nodePools:
    - name: w
      count: 1
      capacity: {cpu: "1", memory: 1Gi, pods: "10"}
---
apiVersion: v1
kind: Pod
metadata:
  name: stepper
  annotations:
    kubesim.dev/cpu-usage: "steps(0s=200m, 4s=700m)"
    kubesim.dev/memory-usage: "steps(0s=8Mi, 4s=40Mi)"
spec:
  containers:
  - name: app
    image: app:1
    resources:
      requests: {cpu: 100m, memory: 64Mi}
"#;

/// A usage step is followed: the real CPU rate in each phase is the
/// model's value ±15% (mean of the samples well inside the phase), and
/// memory grows from ~8Mi to ~40Mi.
#[test]
fn usage_step_is_followed() {
    let _l = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some((rep, _t)) = replay_yaml("usage_step_is_followed", STEP, 1.0) else {
        return;
    };
    let rep = rep.expect("replay runs");
    let rows = csv_rows(&rep.real_dir.join("containers.csv"));
    let started = csv_rows(&rep.real_dir.join("pods.csv"))
        .into_iter()
        .find(|p| p["name"] == "stepper")
        .map(|p| int(&p, "started_us"))
        .expect("started");
    let phase = |from: i64, to: i64| -> (i64, i64, usize) {
        let v: Vec<_> = rows
            .iter()
            .filter(|r| r["pod"] == "stepper")
            .filter(|r| {
                let t = int(r, "t_us") - started;
                t >= from && t <= to
            })
            .collect();
        assert!(v.len() >= 2, "too few samples in {from}..{to}: {rows:?}");
        let cpu = v.iter().map(|r| int(r, "cpu_granted_m")).sum::<i64>() / v.len() as i64;
        let mem = v.iter().map(|r| int(r, "memory_bytes")).max().unwrap_or(0);
        (cpu, mem, v.len())
    };
    let (low, mem_low, _) = phase(700_000, 3_700_000);
    let (high, mem_high, _) = phase(4_700_000, 8_500_000);
    assert!(
        (170..=230).contains(&low),
        "phase 1: {low}m, want 200m ±15%"
    );
    assert!(
        (595..=805).contains(&high),
        "phase 2: {high}m, want 700m ±15%"
    );
    assert!(mem_low < 20 << 20, "phase 1 memory {mem_low}");
    assert!(mem_high >= 36 << 20, "phase 2 memory {mem_high}");
    assert_nothing_left();
}

/// A runtime failure (the workload binary is missing) ends the real run
/// with an error naming it, and leaves nothing behind.
#[test]
fn runtime_failure_is_an_error_and_cleans_up() {
    use kubesim::linux::replay::{replay, ReplayOptions};
    let _l = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if let Err(e) = check_host() {
        eprintln!("runtime_failure_is_an_error_and_cleans_up: skipped: {e}");
        return;
    }
    let sc = kubesim::scenario::load_str(STEP, Path::new("t.yaml"), Default::default()).unwrap();
    let t = tempfile::tempdir().unwrap();
    let opts = ReplayOptions {
        speed: 1.0,
        out: t.path().to_path_buf(),
        burn_exe: PathBuf::from("/nonexistent/kubesim"),
        session: SessionOptions::default(),
        until: None,
    };
    let err = replay(sc, &opts).expect_err("must fail").to_string();
    assert!(err.contains("starting container"), "{err}");
    assert!(!t.path().join("real/pods.csv").exists());
    assert_nothing_left();
}

const LIMITED: &str = r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: limited-fast}
spec:
  seed: 1
  duration: 12s
  sampleInterval: 1s
  cluster:
    nodePools:
    - name: w
      count: 1
      capacity: {cpu: "1", memory: 1Gi, pods: "10"}
---
apiVersion: v1
kind: Pod
metadata:
  name: limited
  annotations:
    kubesim.dev/cpu-usage: "1"
spec:
  containers:
  - name: app
    image: app:1
    resources:
      requests: {cpu: 250m, memory: 32Mi}
      limits: {cpu: 250m, memory: 32Mi}
"#;

/// At --speed 4 the CFS period is 25 ms of wall time (100 ms simulated),
/// so throttling is comparable: a container wanting 1 CPU under a 250m
/// limit alone on its node gets 250m ±20%, its throttled periods are the
/// simulator's ±25% (a real period per simulated period), and its
/// throttled time (in simulated µs) is of the same order.
#[test]
fn throttling_is_comparable_at_speed_4() {
    let _l = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some((rep, _t)) = replay_yaml("throttling_is_comparable_at_speed_4", LIMITED, 4.0) else {
        return;
    };
    let rep = rep.expect("replay runs");
    let rows = kubesim::realcmp::compare(&rep.sim_dir, &rep.real_dir).unwrap();
    eprintln!("{}", kubesim::realcmp::table(&rows));
    let r = rows.iter().find(|r| r.pod == "limited").expect("row");
    // ±20%: the kernel enforces the quota at tick granularity (4 ms at
    // 250 Hz), a larger share of a 25 ms period than of 100 ms (measured
    // 0% and +14% here).
    let cpu = kubesim::realcmp::Row::err_pct(r.sim_cpu_m, r.real_cpu_m).unwrap();
    assert!(cpu.abs() <= 20.0, "CPU error {cpu:.1}%: {r:?}");
    // Throttled time depends on when in each period the container reaches
    // its quota, later when other host work shares its CPU (see
    // docs/linux-backend.md): measured 54-95% of the simulated here.
    let thr = kubesim::realcmp::Row::err_pct(r.sim_throttled_us, r.real_throttled_us).unwrap();
    assert!(
        (-60.0..=25.0).contains(&thr),
        "throttled-time error {thr:.1}%: {r:?}"
    );
    let last = |dir: &Path| {
        csv_rows(&dir.join("containers.csv"))
            .iter()
            .filter(|r| r["pod"] == "limited")
            .map(|r| (int(r, "t_us"), int(r, "throttled_periods")))
            .collect::<Vec<_>>()
    };
    let real = last(&rep.real_dir);
    let &(t_real, p_real) = real.last().expect("real rows");
    let p_sim = last(&rep.sim_dir)
        .into_iter()
        .filter(|(t, _)| *t <= t_real)
        .map(|(_, p)| p)
        .max()
        .unwrap_or(0);
    eprintln!("throttled periods real {p_real} vs simulated {p_sim}");
    assert!(
        p_real * 4 >= p_sim * 3 && p_real * 4 <= p_sim * 5,
        "throttled periods real {p_real} vs simulated {p_sim} at {t_real} µs"
    );
    assert_nothing_left();
}

/// A container's process gets exactly its environment (the kubelet's
/// resolved `env`, e.g. an Indexed Job's `JOB_COMPLETION_INDEX`, and
/// `HOSTNAME`), not kubesim's.
#[test]
fn container_gets_its_environment() {
    let _l = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let Some(s) = session("container_gets_its_environment") else {
        return;
    };
    let run = s.driver().run_id().to_string();
    let g = name("env");
    s.driver().create(&g).unwrap();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("env.txt");
    let script = format!(
        "printf '%s|%s|%s' \"$JOB_COMPLETION_INDEX\" \"$HOSTNAME\" \"${{CARGO:-unset}}\" > {}",
        out.display()
    );
    let pid = s
        .start_with_env(
            &g,
            PathBuf::from("/bin/sh"),
            vec![OsString::from("-c"), OsString::from(script)],
            "job-3-abcde",
            false,
            Some(vec![("JOB_COMPLETION_INDEX".into(), "3".into())]),
        )
        .unwrap();
    assert_eq!(wait_exit(&s, pid, Duration::from_secs(10)), 0);
    assert_eq!(
        std::fs::read_to_string(&out).expect("the process wrote its environment"),
        "3|job-3-abcde|unset"
    );
    s.close().unwrap();
    assert_clean(&run);
}

/// Simulated Service traffic cannot be served by real processes: the
/// replay refuses such a scenario before touching the host.
#[test]
fn replay_refuses_service_traffic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = kubesim::linux::replay::ReplayOptions {
        speed: 1.0,
        out: dir.path().to_path_buf(),
        burn_exe: burn_exe(),
        session: SessionOptions::default(),
        until: None,
    };
    let e = kubesim::linux::replay::replay(crate::load("scenarios/service-traffic.yaml"), &opts)
        .expect_err("traffic is not replayed");
    assert!(e.to_string().contains("simulated only"), "{e}");
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

/// A trace replays on real processes: a generic trace whose pods take
/// their usage from `spec.defaults.cpuUsage: request`; each pod's
/// container runs for its trace duration and uses about its request.
#[test]
fn trace_replays_on_real_processes() {
    let _l = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let t = tempfile::tempdir().unwrap();
    let jobs = t.path().join("jobs.csv");
    std::fs::write(
        &jobs,
        "name,arrival,duration,cpu_request,memory_request,cpu_limit,memory_limit\n\
         a,0,3,500m,64Mi,500m,64Mi\nb,1,3,1,64Mi,1,64Mi\n",
    )
    .unwrap();
    let yaml = format!(
        "apiVersion: kubesim.dev/v1alpha1\nkind: Scenario\nmetadata: {{name: trace-real}}\nspec:\n  sampleInterval: 1s\n  defaults: {{cpuUsage: request, memoryUsage: 16Mi}}\n  cluster:\n    nodePools:\n    - {{name: w, count: 1, capacity: {{cpu: \"2\", memory: 2Gi}}}}\n  traces:\n  - format: generic\n    path: {}\n",
        jobs.display()
    );
    let Some((rep, _out)) = replay_yaml("trace_replays_on_real_processes", &yaml, 1.0) else {
        return;
    };
    let rep = rep.expect("replay runs");
    let rows = kubesim::realcmp::compare(&rep.sim_dir, &rep.real_dir).unwrap();
    eprintln!("{}", kubesim::realcmp::table(&rows));
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (pod, want) in [("a", 500), ("b", 1000)] {
        let r = rows.iter().find(|r| r.pod == pod).expect("row");
        let cpu = r.real_cpu_m.expect("real CPU");
        assert!(
            (cpu - want).abs() * 100 <= want * 20,
            "{pod}: {cpu}m for {want}m"
        );
        let err = kubesim::realcmp::Row::err_pct(r.sim_completion_us, r.real_completion_us)
            .expect("both completed");
        assert!(err.abs() <= 30.0, "{pod}: completion error {err:.1}%");
    }
    assert_no_run_left();
}
