//! The cgroup filesystem, behind one [`CgroupDriver`] trait with a cgroup v1
//! and a cgroup v2 driver: detection of the host's layout (statfs magic of
//! `/sys/fs/cgroup`, v1 mount points from `/proc/self/mountinfo`), resource
//! settings (CFS quota/period ↔ `cpu.max`, shares ↔ `cpu.weight`, memory
//! limit ↔ `memory.max`, `pids.max`, cpuset) and statistics.
//!
//! Safety rule, enforced here: kubesim works only inside its own subtree
//! `kubesim/<run id>/…` under each hierarchy it uses, and writes only to
//! cgroups this driver created (each write checks the directory against
//! the set of created directories; names cannot leave the run's subtree).
//! The shared `kubesim/` parent is written to only by the run that
//! created it, and removed by whichever run finds it empty.
//!
//! The root paths are injectable: with [`TreeKind::Plain`] both drivers run
//! against an ordinary directory tree (unit tests, no root needed); files
//! are then created on write and directories removed with their files,
//! and no process is ever signalled.
//!
//! Mapping (kernel docs `cgroup-v1/*.rst`, `cgroup-v2.rst`; runc's
//! `libcontainer/cgroups/fs{,2}`): v1 `cpu.cfs_quota_us`/`cpu.cfs_period_us`
//! ↔ v2 `cpu.max "<quota|max> <period>"`; `cpu.shares` ↔ `cpu.weight`
//! (see [`WeightFormula`]); `memory.limit_in_bytes` ↔ `memory.max`;
//! `pids.max` in both; usage `cpuacct.usage` (ns) ↔ `cpu.stat usage_usec`;
//! `cpu.stat nr_throttled/throttled_time` (ns) ↔ `nr_throttled/throttled_usec`;
//! `memory.max_usage_in_bytes` ↔ `memory.peak`; `memory.oom_control
//! oom_kill` ↔ `memory.events oom_kill`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Where cgroup filesystems are mounted on every Linux distribution.
pub const CGROUP_MOUNT: &str = "/sys/fs/cgroup";
/// The shared parent of every run's subtree, under each hierarchy.
pub const KUBESIM_DIR: &str = "kubesim";
/// The kernel's default CFS period (µs).
pub const DEFAULT_PERIOD_US: u64 = 100_000;

const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
const CGROUP_SUPER_MAGIC: i64 = 0x0027_e0eb;
const TMPFS_MAGIC: i64 = 0x0102_1994;

/// v1 controllers kubesim uses (cpuset is optional: used when mounted).
const V1_REQUIRED: [&str; 4] = ["cpu", "cpuacct", "memory", "pids"];
const V1_OPTIONAL: [&str; 1] = ["cpuset"];
/// v2 controllers kubesim enables in its subtree (cpuset when available).
const V2_REQUIRED: [&str; 3] = ["cpu", "memory", "pids"];

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("no cgroup filesystem at {0} (statfs magic {1:#x}); the Linux backend needs cgroup v1 or v2 mounted there")]
    NoCgroupFs(PathBuf, i64),
    #[error("cgroup v1 is mounted but the {0} controller is not (mounted: {1}); the Linux backend needs cpu, cpuacct, memory and pids")]
    MissingController(String, String),
    #[error("cgroup v2 controllers {missing} are not enabled in {path} (enabled: {enabled:?}); enable them (e.g. `echo '+cpu +memory +pids' > {path}`) or run under a delegated subtree; kubesim does not write to cgroups it did not create")]
    NotDelegated {
        path: PathBuf,
        missing: String,
        enabled: String,
    },
    #[error("invalid cgroup name {0:?}: use path segments of [A-Za-z0-9._-], no `..`")]
    BadName(String),
    #[error("refusing to write {file} in {dir}: kubesim did not create that cgroup")]
    NotOwned { dir: PathBuf, file: String },
    #[error("cgroup {0} already exists (another run with the same id?)")]
    Exists(PathBuf),
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("unexpected content in {path}: {content:?}")]
    Parse { path: PathBuf, content: String },
    #[error("processes still alive in {0} after SIGKILL")]
    Busy(PathBuf),
}

type Result<T> = std::result::Result<T, CgroupError>;

fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> CgroupError {
    let path = path.to_path_buf();
    move |source| CgroupError::Io { op, path, source }
}

/// Which cgroup version a driver speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// How the host mounts cgroups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One v1 hierarchy per controller set (`controllers` maps each v1
    /// controller to its mount point; co-mounted ones share a path), and
    /// on a hybrid host the v2 `unified` mount used for accounting only.
    V1 {
        controllers: BTreeMap<String, PathBuf>,
        unified: Option<PathBuf>,
    },
    /// The unified hierarchy.
    V2 { root: PathBuf },
}

impl Layout {
    pub fn describe(&self) -> String {
        match self {
            Layout::V1 {
                controllers,
                unified: Some(u),
            } => format!(
                "hybrid: cgroup v1 ({}) + v2 at {} for accounting",
                controllers.keys().cloned().collect::<Vec<_>>().join(","),
                u.display()
            ),
            Layout::V1 { controllers, .. } => format!(
                "legacy cgroup v1 ({})",
                controllers.keys().cloned().collect::<Vec<_>>().join(",")
            ),
            Layout::V2 { root } => format!("unified cgroup v2 at {}", root.display()),
        }
    }
}

/// One line of `/proc/self/mountinfo` that is a cgroup mount.
#[derive(Clone, Debug, PartialEq, Eq)]
struct CgMount {
    point: PathBuf,
    fstype: String,
    /// Super options (for v1, the controllers, e.g. `rw,cpu,cpuacct`).
    opts: Vec<String>,
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') as u32 * 64
                + (b[i + 2] - b'0') as u32 * 8
                + (b[i + 3] - b'0') as u32;
            out.push(v as u8);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn cgroup_mounts(mountinfo: &str) -> Vec<CgMount> {
    let mut v = Vec::new();
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let l: Vec<&str> = left.split(' ').collect();
        let r: Vec<&str> = right.split(' ').collect();
        if l.len() < 5 || r.len() < 3 {
            continue;
        }
        let fstype = r[0];
        if fstype != "cgroup" && fstype != "cgroup2" {
            continue;
        }
        v.push(CgMount {
            point: PathBuf::from(unescape(l[4])),
            fstype: fstype.to_string(),
            opts: r[2].split(',').map(str::to_string).collect(),
        });
    }
    v
}

/// Classifies the host from the statfs magic of `base` (normally
/// `/sys/fs/cgroup`) and the text of `/proc/self/mountinfo` (libcgroups'
/// algorithm: cgroup2 magic → unified; otherwise v1, hybrid when a cgroup2
/// mount exists beneath `base`).
pub fn classify(base: &Path, magic: i64, mountinfo: &str) -> Result<Layout> {
    let mounts = cgroup_mounts(mountinfo);
    if magic == CGROUP2_SUPER_MAGIC {
        return Ok(Layout::V2 {
            root: base.to_path_buf(),
        });
    }
    if magic != TMPFS_MAGIC && magic != CGROUP_SUPER_MAGIC {
        return Err(CgroupError::NoCgroupFs(base.to_path_buf(), magic));
    }
    let mut controllers = BTreeMap::new();
    let mut unified = None;
    for m in &mounts {
        if !m.point.starts_with(base) {
            continue;
        }
        if m.fstype == "cgroup2" {
            unified = Some(m.point.clone());
            continue;
        }
        for o in &m.opts {
            if V1_REQUIRED.contains(&o.as_str()) || V1_OPTIONAL.contains(&o.as_str()) {
                controllers
                    .entry(o.clone())
                    .or_insert_with(|| m.point.clone());
            }
        }
    }
    if controllers.is_empty() {
        return Err(CgroupError::NoCgroupFs(base.to_path_buf(), magic));
    }
    for c in V1_REQUIRED {
        if !controllers.contains_key(c) {
            let have = controllers.keys().cloned().collect::<Vec<_>>().join(",");
            return Err(CgroupError::MissingController(c.to_string(), have));
        }
    }
    Ok(Layout::V1 {
        controllers,
        unified,
    })
}

/// Detects this host's layout.
pub fn detect() -> Result<Layout> {
    let base = Path::new(CGROUP_MOUNT);
    let st = nix::sys::statfs::statfs(base).map_err(|e| CgroupError::Io {
        op: "statfs",
        path: base.to_path_buf(),
        source: e.into(),
    })?;
    #[allow(clippy::unnecessary_cast)]
    let magic = st.filesystem_type().0 as i64;
    let mi = Path::new("/proc/self/mountinfo");
    let text = fs::read_to_string(mi).map_err(io("read", mi))?;
    classify(base, magic, &text)
}

/// A cgroup's name relative to the run's subtree (`""` is the run's own
/// group): `/`-separated segments of `[A-Za-z0-9._-]`, none `.` or `..`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CgName(String);

impl CgName {
    pub fn new(s: &str) -> Result<CgName> {
        let ok = s.is_empty()
            || s.split('/').all(|seg| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
            });
        if ok && s.len() <= 4096 {
            Ok(CgName(s.to_string()))
        } else {
            Err(CgroupError::BadName(s.to_string()))
        }
    }
    /// The run's own group.
    pub fn run_root() -> CgName {
        CgName(String::new())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// `self/child` (child must be a valid name).
    pub fn join(&self, child: &str) -> Result<CgName> {
        if self.0.is_empty() {
            CgName::new(child)
        } else {
            CgName::new(&format!("{}/{}", self.0, child))
        }
    }
    fn parent(&self) -> Option<CgName> {
        if self.0.is_empty() {
            None
        } else {
            Some(CgName(
                self.0
                    .rsplit_once('/')
                    .map(|(p, _)| p.to_string())
                    .unwrap_or_default(),
            ))
        }
    }
}

/// A CPU weight formula for v2 (from v1 shares).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WeightFormula {
    /// runc < 1.3.2 / crun < 1.23: `1 + ((shares-2)*9999)/262142` (1024 → 39).
    Linear,
    /// runc ≥ 1.3.2 / crun ≥ 1.23 (opencontainers/cgroups#20, kubernetes#131216):
    /// `ceil(10^((L²+125L)/612 − 7/34))`, L = log2(shares) (1024 → 100).
    #[default]
    Quadratic,
}

impl WeightFormula {
    /// v1 shares → v2 weight (0 = unset stays 0).
    pub fn weight(self, shares: u64) -> u64 {
        if shares == 0 {
            return 0;
        }
        match self {
            WeightFormula::Linear => 1 + (shares.clamp(2, 262_144) - 2) * 9999 / 262_142,
            WeightFormula::Quadratic => {
                if shares <= 2 {
                    return 1;
                }
                if shares >= 262_144 {
                    return 10_000;
                }
                let l = (shares as f64).log2();
                let exp = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
                10f64.powf(exp).ceil() as u64
            }
        }
    }
}

/// Counters of one cgroup (integers; absent counters are 0).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CgStats {
    pub cpu_usage_us: u64,
    pub nr_periods: u64,
    pub nr_throttled: u64,
    pub throttled_us: u64,
    pub memory_bytes: u64,
    pub memory_peak_bytes: u64,
    pub oom_kills: u64,
    pub pids: u64,
}

/// Resource settings of a cgroup. `None` leaves a value unchanged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CgLimits {
    /// CFS quota per period (µs); `Some(None)` = unlimited.
    pub cpu_quota_us: Option<Option<u64>>,
    pub cpu_period_us: Option<u64>,
    /// v1 shares (2..262144); v2 drivers convert with their [`WeightFormula`].
    pub cpu_shares: Option<u64>,
    /// `Some(None)` = unlimited.
    pub memory_max: Option<Option<u64>>,
    pub pids_max: Option<Option<u64>>,
    /// A cpuset list such as `0` or `0-1`, and its memory nodes (empty:
    /// left as inherited).
    pub cpuset: Option<(String, String)>,
}

/// One driver per run: everything kubesim does to cgroups goes through it.
pub trait CgroupDriver: Send + Sync {
    fn version(&self) -> Version;
    /// The run id (the subtree is `kubesim/<run id>/` in each hierarchy).
    fn run_id(&self) -> &str;
    /// Creates the run's subtree (`kubesim/` if absent, then
    /// `kubesim/<run id>`); fails if the run's group already exists.
    fn init(&self) -> Result<()>;
    /// Creates a group under the run (its parent must exist).
    fn create(&self, name: &CgName) -> Result<()>;
    fn apply(&self, name: &CgName, limits: &CgLimits) -> Result<()>;
    /// Applies `limits` to the shared `kubesim/` parent in the hierarchies
    /// where this run created it (elsewhere: nothing); returns whether it did.
    fn apply_shared(&self, limits: &CgLimits) -> Result<bool>;
    /// Opened `cgroup.procs` files (one per hierarchy); writing `0` to each
    /// from a child before `exec` places it race-free.
    fn procs_fds(&self, name: &CgName) -> Result<Vec<OwnedFd>>;
    /// The pids in the group and its descendants.
    fn pids(&self, name: &CgName) -> Result<Vec<i32>>;
    fn stats(&self, name: &CgName) -> Result<CgStats>;
    /// SIGKILLs every process in the group and its descendants, waits for
    /// them to leave, removes the groups (deepest first).
    fn destroy(&self, name: &CgName) -> Result<()>;
    /// Destroys the whole run, then `kubesim/` if empty.
    fn destroy_run(&self) -> Result<()>;
}

/// Whether the roots are a kernel cgroupfs or a plain directory tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreeKind {
    Kernel,
    /// Unit tests: files are created on write, directories removed with
    /// their files, no process is signalled.
    Plain,
}

/// Shared machinery of both drivers: the created set and the file writes.
struct Tree {
    kind: TreeKind,
    run_id: String,
    created: Mutex<BTreeSet<PathBuf>>,
}

impl Tree {
    fn new(kind: TreeKind, run_id: &str) -> Result<Tree> {
        CgName::new(run_id)?;
        if run_id.is_empty() || run_id.contains('/') {
            return Err(CgroupError::BadName(run_id.to_string()));
        }
        Ok(Tree {
            kind,
            run_id: run_id.to_string(),
            created: Mutex::new(BTreeSet::new()),
        })
    }

    fn owned(&self, dir: &Path) -> bool {
        self.created
            .lock()
            .map(|s| s.contains(dir))
            .unwrap_or(false)
    }

    fn run_dir(&self, mount: &Path) -> PathBuf {
        mount.join(KUBESIM_DIR).join(&self.run_id)
    }

    fn dir(&self, mount: &Path, name: &CgName) -> PathBuf {
        let d = self.run_dir(mount);
        if name.0.is_empty() {
            d
        } else {
            d.join(&name.0)
        }
    }

    /// mkdir; remembers the directory as ours. `exclusive`: fail if present.
    fn mkdir(&self, dir: &Path, exclusive: bool) -> Result<bool> {
        match fs::create_dir(dir) {
            Ok(()) => {
                if let Ok(mut s) = self.created.lock() {
                    s.insert(dir.to_path_buf());
                }
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if exclusive {
                    Err(CgroupError::Exists(dir.to_path_buf()))
                } else {
                    Ok(false)
                }
            }
            Err(e) => Err(io("mkdir", dir)(e)),
        }
    }

    /// The one write path: only into directories this driver created.
    fn write(&self, dir: &Path, file: &str, value: &str) -> Result<()> {
        if !self.owned(dir) {
            return Err(CgroupError::NotOwned {
                dir: dir.to_path_buf(),
                file: file.to_string(),
            });
        }
        let p = dir.join(file);
        let mut f = OpenOptions::new()
            .write(true)
            .create(self.kind == TreeKind::Plain)
            .truncate(self.kind == TreeKind::Plain)
            .open(&p)
            .map_err(io("open", &p))?;
        f.write_all(value.as_bytes()).map_err(io("write", &p))
    }

    fn open_procs(&self, dir: &Path) -> Result<OwnedFd> {
        if !self.owned(dir) {
            return Err(CgroupError::NotOwned {
                dir: dir.to_path_buf(),
                file: "cgroup.procs".into(),
            });
        }
        let p = dir.join("cgroup.procs");
        let f = OpenOptions::new()
            .write(true)
            .create(self.kind == TreeKind::Plain)
            .truncate(false)
            .open(&p)
            .map_err(io("open", &p))?;
        Ok(f.into())
    }

    /// Owned directories at or below `dir`, deepest first.
    fn owned_below(&self, dir: &Path) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self
            .created
            .lock()
            .map(|s| s.iter().filter(|p| p.starts_with(dir)).cloned().collect())
            .unwrap_or_default();
        v.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        v
    }

    fn pids_in(&self, dirs: &[PathBuf]) -> Vec<i32> {
        let mut v = Vec::new();
        for d in dirs {
            if let Ok(t) = fs::read_to_string(d.join("cgroup.procs")) {
                v.extend(t.split_whitespace().filter_map(|s| s.parse::<i32>().ok()));
            }
        }
        v.sort_unstable();
        v.dedup();
        v
    }

    /// SIGKILL everything in `dirs` until they are empty (kernel trees only).
    fn kill_in(&self, dirs: &[PathBuf]) -> Result<()> {
        if self.kind == TreeKind::Plain {
            return Ok(());
        }
        for _ in 0..200 {
            let pids = self.pids_in(dirs);
            if pids.is_empty() {
                return Ok(());
            }
            for p in pids {
                if p > 0 {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(p),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Err(CgroupError::Busy(dirs.first().cloned().unwrap_or_default()))
    }

    fn rmdir(&self, dir: &Path) -> Result<()> {
        let r = match self.kind {
            TreeKind::Kernel => fs::remove_dir(dir),
            TreeKind::Plain => fs::remove_dir_all(dir),
        };
        match r {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                // EBUSY right after the last task left: retry briefly.
                let mut last = e;
                let mut ok = false;
                for _ in 0..50 {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    match fs::remove_dir(dir) {
                        Ok(()) => {
                            ok = true;
                            break;
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                            ok = true;
                            break;
                        }
                        Err(e) => last = e,
                    }
                }
                if !ok {
                    return Err(io("rmdir", dir)(last));
                }
            }
        }
        if let Ok(mut s) = self.created.lock() {
            s.remove(dir);
        }
        Ok(())
    }

    /// Removes `mount/kubesim` if it is empty (any run may; errors ignored).
    fn remove_shared(&self, mount: &Path) {
        let d = mount.join(KUBESIM_DIR);
        let empty = match self.kind {
            TreeKind::Kernel => true,
            TreeKind::Plain => fs::read_dir(&d)
                .map(|mut r| !r.any(|e| e.is_ok_and(|e| e.path().is_dir())))
                .unwrap_or(false),
        };
        if empty {
            let _ = match self.kind {
                TreeKind::Kernel => fs::remove_dir(&d),
                TreeKind::Plain => fs::remove_dir_all(&d),
            };
        }
        if let Ok(mut s) = self.created.lock() {
            s.remove(&d);
        }
    }
}

fn read(p: &Path) -> Result<String> {
    let mut s = String::new();
    fs::File::open(p)
        .and_then(|mut f| f.read_to_string(&mut s))
        .map_err(io("read", p))?;
    Ok(s)
}

fn read_u64(p: &Path) -> Result<u64> {
    let s = read(p)?;
    let t = s.trim();
    if t == "max" {
        return Ok(u64::MAX);
    }
    t.parse().map_err(|_| CgroupError::Parse {
        path: p.to_path_buf(),
        content: s.clone(),
    })
}

/// `key value` lines (cpu.stat, memory.events, memory.oom_control).
fn read_kv(p: &Path) -> Result<BTreeMap<String, u64>> {
    let s = read(p)?;
    Ok(s.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect())
}

// ---------------------------------------------------------------- v1

/// The cgroup v1 driver (and the hybrid case: v1 control, v2 accounting).
pub struct V1Driver {
    tree: Tree,
    /// controller → mount point (co-mounted controllers share one).
    controllers: BTreeMap<String, PathBuf>,
    /// Distinct hierarchies used, in order.
    mounts: Vec<PathBuf>,
    unified: Option<PathBuf>,
}

impl V1Driver {
    pub fn new(
        controllers: BTreeMap<String, PathBuf>,
        unified: Option<PathBuf>,
        run_id: &str,
        kind: TreeKind,
    ) -> Result<V1Driver> {
        for c in V1_REQUIRED {
            if !controllers.contains_key(c) {
                let have = controllers.keys().cloned().collect::<Vec<_>>().join(",");
                return Err(CgroupError::MissingController(c.to_string(), have));
            }
        }
        let mut mounts: Vec<PathBuf> = Vec::new();
        for p in controllers.values() {
            if !mounts.contains(p) {
                mounts.push(p.clone());
            }
        }
        if let Some(u) = &unified {
            mounts.push(u.clone());
        }
        Ok(V1Driver {
            tree: Tree::new(kind, run_id)?,
            controllers,
            mounts,
            unified,
        })
    }

    fn ctl(&self, c: &str, name: &CgName) -> Option<PathBuf> {
        self.controllers.get(c).map(|m| self.tree.dir(m, name))
    }

    fn cpuset_mount(&self) -> Option<&PathBuf> {
        self.controllers.get("cpuset")
    }

    /// A new v1 cpuset group starts empty: copy its parent's cpus and mems.
    fn init_cpuset(&self, dir: &Path) -> Result<()> {
        let Some(parent) = dir.parent() else {
            return Ok(());
        };
        for f in ["cpuset.cpus", "cpuset.mems"] {
            let v = read(&parent.join(f)).unwrap_or_default();
            let v = v.trim();
            if !v.is_empty() {
                self.tree.write(dir, f, v)?;
            }
        }
        Ok(())
    }
}

impl V1Driver {
    fn apply_with(&self, at: &dyn Fn(&str) -> Option<PathBuf>, l: &CgLimits) -> Result<()> {
        if let Some(cpu) = at("cpu") {
            if let Some(p) = l.cpu_period_us {
                self.tree.write(&cpu, "cpu.cfs_period_us", &p.to_string())?;
            }
            if let Some(q) = l.cpu_quota_us {
                let v = q.map(|q| q.to_string()).unwrap_or_else(|| "-1".into());
                self.tree.write(&cpu, "cpu.cfs_quota_us", &v)?;
            }
            if let Some(s) = l.cpu_shares {
                self.tree
                    .write(&cpu, "cpu.shares", &s.clamp(2, 262_144).to_string())?;
            }
        }
        if let (Some(m), Some(v)) = (at("memory"), l.memory_max) {
            let v = v.map(|b| b.to_string()).unwrap_or_else(|| "-1".into());
            self.tree.write(&m, "memory.limit_in_bytes", &v)?;
        }
        if let (Some(p), Some(v)) = (at("pids"), l.pids_max) {
            let v = v.map(|b| b.to_string()).unwrap_or_else(|| "max".into());
            self.tree.write(&p, "pids.max", &v)?;
        }
        if let Some((cpus, mems)) = &l.cpuset {
            if let Some(c) = at("cpuset") {
                self.tree.write(&c, "cpuset.cpus", cpus)?;
                if !mems.is_empty() {
                    self.tree.write(&c, "cpuset.mems", mems)?;
                }
            }
        }
        Ok(())
    }
}

impl CgroupDriver for V1Driver {
    fn version(&self) -> Version {
        Version::V1
    }
    fn run_id(&self) -> &str {
        &self.tree.run_id
    }

    fn init(&self) -> Result<()> {
        for m in &self.mounts {
            let shared = m.join(KUBESIM_DIR);
            let fresh = self.tree.mkdir(&shared, false)?;
            if fresh && Some(m) == self.cpuset_mount() {
                self.init_cpuset(&shared)?;
            }
            let run = self.tree.run_dir(m);
            self.tree.mkdir(&run, true)?;
            if Some(m) == self.cpuset_mount() {
                self.init_cpuset(&run)?;
            }
        }
        Ok(())
    }

    fn create(&self, name: &CgName) -> Result<()> {
        if name.0.is_empty() {
            return Ok(());
        }
        for m in &self.mounts {
            let d = self.tree.dir(m, name);
            let parent = name.parent().map(|p| self.tree.dir(m, &p));
            if let Some(p) = parent {
                if !self.tree.owned(&p) {
                    return Err(CgroupError::NotOwned {
                        dir: p,
                        file: name.0.clone(),
                    });
                }
            }
            self.tree.mkdir(&d, true)?;
            if Some(m) == self.cpuset_mount() {
                self.init_cpuset(&d)?;
            }
        }
        Ok(())
    }

    fn apply(&self, name: &CgName, l: &CgLimits) -> Result<()> {
        self.apply_with(&|c| self.ctl(c, name), l)
    }

    fn apply_shared(&self, l: &CgLimits) -> Result<bool> {
        let mut any = false;
        for (c, m) in &self.controllers {
            let d = m.join(KUBESIM_DIR);
            if self.tree.owned(&d) {
                any = true;
                let one = |x: &str| (x == c.as_str()).then(|| d.clone());
                self.apply_with(&one, l)?;
            }
        }
        Ok(any)
    }
    fn procs_fds(&self, name: &CgName) -> Result<Vec<OwnedFd>> {
        self.mounts
            .iter()
            .map(|m| self.tree.open_procs(&self.tree.dir(m, name)))
            .collect()
    }

    fn pids(&self, name: &CgName) -> Result<Vec<i32>> {
        let mut dirs = Vec::new();
        for m in &self.mounts {
            dirs.extend(self.tree.owned_below(&self.tree.dir(m, name)));
        }
        Ok(self.tree.pids_in(&dirs))
    }

    fn stats(&self, name: &CgName) -> Result<CgStats> {
        let mut s = CgStats::default();
        if let Some(d) = self.ctl("cpuacct", name) {
            s.cpu_usage_us = read_u64(&d.join("cpuacct.usage"))? / 1000;
        }
        if let Some(d) = self.ctl("cpu", name) {
            let kv = read_kv(&d.join("cpu.stat"))?;
            s.nr_periods = kv.get("nr_periods").copied().unwrap_or(0);
            s.nr_throttled = kv.get("nr_throttled").copied().unwrap_or(0);
            s.throttled_us = kv.get("throttled_time").copied().unwrap_or(0) / 1000;
        }
        if let Some(d) = self.ctl("memory", name) {
            s.memory_bytes = read_u64(&d.join("memory.usage_in_bytes"))?;
            s.memory_peak_bytes = read_u64(&d.join("memory.max_usage_in_bytes"))?;
            s.oom_kills = read_kv(&d.join("memory.oom_control"))?
                .get("oom_kill")
                .copied()
                .unwrap_or(0);
        }
        if let Some(d) = self.ctl("pids", name) {
            s.pids = read_u64(&d.join("pids.current"))?;
        }
        // Hybrid: the v2 core accounting is exact (usage_usec) and agrees
        // with cpuacct; prefer it when present.
        if let Some(u) = &self.unified {
            if let Ok(kv) = read_kv(&self.tree.dir(u, name).join("cpu.stat")) {
                if let Some(v) = kv.get("usage_usec") {
                    s.cpu_usage_us = *v;
                }
            }
        }
        Ok(s)
    }

    fn destroy(&self, name: &CgName) -> Result<()> {
        let mut all = Vec::new();
        for m in &self.mounts {
            all.extend(self.tree.owned_below(&self.tree.dir(m, name)));
        }
        let killed = self.tree.kill_in(&all);
        let mut first_err = killed.err();
        for m in &self.mounts {
            for d in self.tree.owned_below(&self.tree.dir(m, name)) {
                if let Err(e) = self.tree.rmdir(&d) {
                    first_err.get_or_insert(e);
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    fn destroy_run(&self) -> Result<()> {
        let r = self.destroy(&CgName::run_root());
        for m in &self.mounts {
            self.tree.remove_shared(m);
        }
        r
    }
}

// ---------------------------------------------------------------- v2

/// The cgroup v2 (unified) driver.
pub struct V2Driver {
    tree: Tree,
    root: PathBuf,
    formula: WeightFormula,
}

impl V2Driver {
    fn apply_at(&self, d: &Path, l: &CgLimits) -> Result<()> {
        let d = d.to_path_buf();
        if l.cpu_quota_us.is_some() || l.cpu_period_us.is_some() {
            // cpu.max takes both; an absent half keeps its current value.
            let cur = read(&d.join("cpu.max")).unwrap_or_default();
            let mut it = cur.split_whitespace();
            let cur_q = it.next().unwrap_or("max").to_string();
            let cur_p = it.next().unwrap_or("100000").to_string();
            let q = match l.cpu_quota_us {
                Some(Some(q)) => q.to_string(),
                Some(None) => "max".into(),
                None => cur_q,
            };
            let p = l.cpu_period_us.map(|p| p.to_string()).unwrap_or(cur_p);
            self.tree.write(&d, "cpu.max", &format!("{q} {p}"))?;
        }
        if let Some(s) = l.cpu_shares {
            let w = self.formula.weight(s).clamp(1, 10_000);
            self.tree.write(&d, "cpu.weight", &w.to_string())?;
        }
        if let Some(v) = l.memory_max {
            let v = v.map(|b| b.to_string()).unwrap_or_else(|| "max".into());
            self.tree.write(&d, "memory.max", &v)?;
        }
        if let Some(v) = l.pids_max {
            let v = v.map(|b| b.to_string()).unwrap_or_else(|| "max".into());
            self.tree.write(&d, "pids.max", &v)?;
        }
        if let Some((cpus, mems)) = &l.cpuset {
            self.tree.write(&d, "cpuset.cpus", cpus)?;
            if !mems.is_empty() {
                self.tree.write(&d, "cpuset.mems", mems)?;
            }
        }
        Ok(())
    }

    pub fn new(
        root: PathBuf,
        run_id: &str,
        kind: TreeKind,
        formula: WeightFormula,
    ) -> Result<V2Driver> {
        Ok(V2Driver {
            tree: Tree::new(kind, run_id)?,
            root,
            formula,
        })
    }

    pub fn formula(&self) -> WeightFormula {
        self.formula
    }

    fn enabled(dir: &Path) -> Vec<String> {
        read(&dir.join("cgroup.subtree_control"))
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    /// Controllers to enable below `dir` (required ones plus cpuset when the
    /// parent offers it).
    fn wanted(&self, dir: &Path) -> String {
        let avail = read(&dir.join("cgroup.controllers")).unwrap_or_default();
        let mut v: Vec<&str> = V2_REQUIRED.to_vec();
        if avail.split_whitespace().any(|c| c == "cpuset") {
            v.push("cpuset");
        }
        v.iter()
            .map(|c| format!("+{c}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn enable_below(&self, dir: &Path) -> Result<()> {
        let w = self.wanted(dir);
        self.tree.write(dir, "cgroup.subtree_control", &w)
    }

    fn check_enabled(&self, dir: &Path) -> Result<()> {
        let en = V2Driver::enabled(dir);
        let missing: Vec<&str> = V2_REQUIRED
            .iter()
            .copied()
            .filter(|c| !en.iter().any(|e| e == c))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(CgroupError::NotDelegated {
                path: dir.join("cgroup.subtree_control"),
                missing: missing.join(" "),
                enabled: en.join(" "),
            })
        }
    }
}

impl CgroupDriver for V2Driver {
    fn version(&self) -> Version {
        Version::V2
    }
    fn run_id(&self) -> &str {
        &self.tree.run_id
    }

    fn init(&self) -> Result<()> {
        // The root is not ours: its controllers must already be enabled.
        self.check_enabled(&self.root)?;
        let shared = self.root.join(KUBESIM_DIR);
        if self.tree.mkdir(&shared, false)? {
            self.enable_below(&shared)?;
        } else {
            self.check_enabled(&shared)?;
        }
        let run = self.tree.run_dir(&self.root);
        self.tree.mkdir(&run, true)?;
        Ok(())
    }

    fn create(&self, name: &CgName) -> Result<()> {
        if name.0.is_empty() {
            return Ok(());
        }
        let d = self.tree.dir(&self.root, name);
        let parent = self
            .tree
            .dir(&self.root, &name.parent().unwrap_or_else(CgName::run_root));
        if !self.tree.owned(&parent) {
            return Err(CgroupError::NotOwned {
                dir: parent,
                file: name.0.clone(),
            });
        }
        // No-internal-process rule: a parent with children holds no
        // processes; enable the controllers for its children.
        let en = V2Driver::enabled(&parent);
        if !V2_REQUIRED.iter().all(|c| en.iter().any(|e| e == c)) {
            self.enable_below(&parent)?;
        }
        self.tree.mkdir(&d, true)?;
        Ok(())
    }

    fn apply(&self, name: &CgName, l: &CgLimits) -> Result<()> {
        self.apply_at(&self.tree.dir(&self.root, name), l)
    }

    fn apply_shared(&self, l: &CgLimits) -> Result<bool> {
        let d = self.root.join(KUBESIM_DIR);
        if !self.tree.owned(&d) {
            return Ok(false);
        }
        self.apply_at(&d, l)?;
        Ok(true)
    }

    fn procs_fds(&self, name: &CgName) -> Result<Vec<OwnedFd>> {
        Ok(vec![self
            .tree
            .open_procs(&self.tree.dir(&self.root, name))?])
    }

    fn pids(&self, name: &CgName) -> Result<Vec<i32>> {
        let dirs = self.tree.owned_below(&self.tree.dir(&self.root, name));
        Ok(self.tree.pids_in(&dirs))
    }

    fn stats(&self, name: &CgName) -> Result<CgStats> {
        let d = self.tree.dir(&self.root, name);
        let cpu = read_kv(&d.join("cpu.stat"))?;
        let ev = read_kv(&d.join("memory.events"))?;
        Ok(CgStats {
            cpu_usage_us: cpu.get("usage_usec").copied().unwrap_or(0),
            nr_periods: cpu.get("nr_periods").copied().unwrap_or(0),
            nr_throttled: cpu.get("nr_throttled").copied().unwrap_or(0),
            throttled_us: cpu.get("throttled_usec").copied().unwrap_or(0),
            memory_bytes: read_u64(&d.join("memory.current"))?,
            // memory.peak exists from 5.19 on.
            memory_peak_bytes: read_u64(&d.join("memory.peak")).unwrap_or(0),
            oom_kills: ev.get("oom_kill").copied().unwrap_or(0),
            pids: read_u64(&d.join("pids.current"))?,
        })
    }

    fn destroy(&self, name: &CgName) -> Result<()> {
        let dirs = self.tree.owned_below(&self.tree.dir(&self.root, name));
        let mut first_err = self.tree.kill_in(&dirs).err();
        for d in dirs {
            if let Err(e) = self.tree.rmdir(&d) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    fn destroy_run(&self) -> Result<()> {
        let r = self.destroy(&CgName::run_root());
        self.tree.remove_shared(&self.root);
        r
    }
}

/// The driver for this host's layout.
pub fn driver_for(
    layout: &Layout,
    run_id: &str,
    formula: WeightFormula,
) -> Result<Box<dyn CgroupDriver>> {
    Ok(match layout {
        Layout::V1 {
            controllers,
            unified,
        } => Box::new(V1Driver::new(
            controllers.clone(),
            unified.clone(),
            run_id,
            TreeKind::Kernel,
        )?),
        Layout::V2 { root } => Box::new(V2Driver::new(
            root.clone(),
            run_id,
            TreeKind::Kernel,
            formula,
        )?),
    })
}

/// The mount points of every hierarchy of a layout (for cleanup).
pub fn hierarchies(layout: &Layout) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = Vec::new();
    match layout {
        Layout::V1 {
            controllers,
            unified,
        } => {
            for p in controllers.values().chain(unified.iter()) {
                if !v.contains(p) {
                    v.push(p.clone());
                }
            }
        }
        Layout::V2 { root } => v.push(root.clone()),
    }
    v
}

/// A fresh run id: `<pid>-<n>` (the pid lets `--cleanup` tell a dead run
/// from a live one).
pub fn new_run_id() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// What [`cleanup_leftovers`] removed or kept.
#[derive(Debug, Default)]
pub struct CleanupReport {
    pub removed: Vec<PathBuf>,
    pub kept_live: Vec<PathBuf>,
    pub errors: Vec<String>,
}

/// Removes what killed runs left under `kubesim/` in each hierarchy: for
/// every run directory whose owner pid (`<pid>-…`) is not alive (as told
/// by `alive`), kill its processes and remove its groups deepest first.
/// Nothing outside `<mount>/kubesim/` is touched.
pub fn cleanup_leftovers(
    mounts: &[PathBuf],
    kind: TreeKind,
    alive: &dyn Fn(u32) -> bool,
) -> CleanupReport {
    let mut rep = CleanupReport::default();
    for m in mounts {
        let shared = m.join(KUBESIM_DIR);
        let Ok(rd) = fs::read_dir(&shared) else {
            continue;
        };
        let mut runs: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        runs.sort();
        for run in runs {
            let name = run
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let pid = name.split('-').next().and_then(|p| p.parse::<u32>().ok());
            if let Some(pid) = pid {
                if pid != std::process::id() && alive(pid) {
                    rep.kept_live.push(run);
                    continue;
                }
                if pid == std::process::id() {
                    rep.kept_live.push(run);
                    continue;
                }
            }
            // Adopt the directory tree, then destroy it through the same
            // code path as a live run.
            let tree = Tree {
                kind,
                run_id: name.clone(),
                created: Mutex::new(BTreeSet::new()),
            };
            let mut stack = vec![run.clone()];
            while let Some(d) = stack.pop() {
                if let Ok(mut s) = tree.created.lock() {
                    s.insert(d.clone());
                }
                if let Ok(rd) = fs::read_dir(&d) {
                    for e in rd.flatten() {
                        if e.path().is_dir() {
                            stack.push(e.path());
                        }
                    }
                }
            }
            let dirs = tree.owned_below(&run);
            if let Err(e) = tree.kill_in(&dirs) {
                rep.errors.push(e.to_string());
            }
            let mut ok = true;
            for d in dirs {
                if let Err(e) = tree.rmdir(&d) {
                    rep.errors.push(e.to_string());
                    ok = false;
                }
            }
            if ok {
                rep.removed.push(run);
            }
        }
        tree_remove_shared(&shared, kind);
    }
    rep
}

fn tree_remove_shared(shared: &Path, kind: TreeKind) {
    let empty = fs::read_dir(shared)
        .map(|mut r| !r.any(|e| e.is_ok_and(|e| e.path().is_dir())))
        .unwrap_or(false);
    if empty {
        let _ = match kind {
            TreeKind::Kernel => fs::remove_dir(shared),
            TreeKind::Plain => fs::remove_dir_all(shared),
        };
    }
}

/// Whether a process exists (signal 0).
pub fn pid_alive(pid: u32) -> bool {
    let Ok(p) = i32::try_from(pid) else {
        return false;
    };
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), None) {
        Ok(()) => true,
        Err(nix::errno::Errno::EPERM) => true,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST_MOUNTINFO: &str = "\
23 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    const SYSTEMD_V1: &str = "\
25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
29 25 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
30 25 0:27 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,pids
";

    #[test]
    fn classify_hybrid_host() {
        let l = classify(Path::new(CGROUP_MOUNT), TMPFS_MAGIC, HOST_MOUNTINFO).unwrap();
        let Layout::V1 {
            controllers,
            unified,
        } = l
        else {
            panic!("expected v1")
        };
        assert_eq!(controllers["cpu"], Path::new("/sys/fs/cgroup/cpu"));
        assert_eq!(controllers["cpuacct"], Path::new("/sys/fs/cgroup/cpuacct"));
        assert_eq!(controllers["cpuset"], Path::new("/sys/fs/cgroup/cpuset"));
        assert!(!controllers.contains_key("devices"));
        assert_eq!(
            unified.as_deref(),
            Some(Path::new("/sys/fs/cgroup/unified"))
        );
    }

    #[test]
    fn classify_comounted_legacy_and_unified() {
        let l = classify(Path::new(CGROUP_MOUNT), TMPFS_MAGIC, SYSTEMD_V1).unwrap();
        let Layout::V1 {
            controllers,
            unified,
        } = l
        else {
            panic!("expected v1")
        };
        assert_eq!(controllers["cpu"], controllers["cpuacct"]);
        assert_eq!(controllers["cpu"], Path::new("/sys/fs/cgroup/cpu,cpuacct"));
        assert_eq!(unified, None);
        let v2 = classify(Path::new(CGROUP_MOUNT), CGROUP2_SUPER_MAGIC, "").unwrap();
        assert_eq!(
            v2,
            Layout::V2 {
                root: PathBuf::from(CGROUP_MOUNT)
            }
        );
        assert!(matches!(
            classify(Path::new(CGROUP_MOUNT), 0xEF53, HOST_MOUNTINFO),
            Err(CgroupError::NoCgroupFs(..))
        ));
        let no_pids: String = SYSTEMD_V1
            .lines()
            .take(3)
            .map(|l| format!("{l}\n"))
            .collect();
        let e = classify(Path::new(CGROUP_MOUNT), TMPFS_MAGIC, &no_pids).unwrap_err();
        assert!(e.to_string().contains("pids"), "{e}");
    }

    #[test]
    fn unescape_octal() {
        assert_eq!(unescape(r"/a\040b"), "/a b");
        assert_eq!(unescape(r"/a\04"), r"/a\04");
    }

    #[test]
    fn names_cannot_leave_the_run() {
        for bad in ["..", "a/../b", "/abs", "a//b", "a/", "x y", "a/./b"] {
            assert!(CgName::new(bad).is_err(), "{bad}");
        }
        assert!(CgName::new("node-0/burstable/pod-a.b_c").is_ok());
        assert_eq!(
            CgName::new("a/b").unwrap().parent(),
            Some(CgName::new("a").unwrap())
        );
        assert_eq!(CgName::new("a").unwrap().parent(), Some(CgName::run_root()));
        assert!(Tree::new(TreeKind::Plain, "").is_err());
        assert!(Tree::new(TreeKind::Plain, "a/b").is_err());
    }

    /// kubernetes/kubernetes test/e2e/framework/pod/resize.go (both
    /// conversions) and runc's tests: 2 → 1, 1024 → 39 / 100, 262144 → 10000.
    #[test]
    fn weight_formulas() {
        use WeightFormula::*;
        assert_eq!(Linear.weight(2), 1);
        assert_eq!(Linear.weight(1024), 39);
        assert_eq!(Linear.weight(262_144), 10_000);
        assert_eq!(Quadratic.weight(2), 1);
        assert_eq!(Quadratic.weight(1024), 100);
        assert_eq!(Quadratic.weight(262_144), 10_000);
        assert_eq!(Quadratic.weight(0), 0);
        // monotone
        let mut last = 0;
        for s in (2..262_144).step_by(97) {
            let w = Quadratic.weight(s);
            assert!(w >= last && (1..=10_000).contains(&w));
            last = w;
        }
    }

    fn fake_v1(root: &Path) -> BTreeMap<String, PathBuf> {
        let mut m = BTreeMap::new();
        for c in ["cpu", "cpuacct", "memory", "pids", "cpuset"] {
            let d = root.join(c);
            fs::create_dir_all(&d).unwrap();
            m.insert(c.to_string(), d);
        }
        fs::write(root.join("cpuset/cpuset.cpus"), "0-1\n").unwrap();
        fs::write(root.join("cpuset/cpuset.mems"), "0\n").unwrap();
        m
    }

    fn rd(p: PathBuf) -> String {
        fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    #[test]
    fn v1_writes_and_stats_against_a_temp_root() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        let ctl = fake_v1(root);
        fs::create_dir_all(root.join("unified")).unwrap();
        let d = V1Driver::new(ctl, Some(root.join("unified")), "r1", TreeKind::Plain).unwrap();
        d.init().unwrap();
        let weight = CgLimits {
            cpu_shares: Some(2048),
            ..Default::default()
        };
        assert!(d.apply_shared(&weight).unwrap());
        assert_eq!(rd(root.join("cpu/kubesim/cpu.shares")), "2048");
        let node = CgName::new("node-0").unwrap();
        let pod = node.join("burstable").unwrap();
        d.create(&node).unwrap();
        d.create(&pod).unwrap();
        assert!(matches!(d.create(&node), Err(CgroupError::Exists(_))));
        d.apply(
            &pod,
            &CgLimits {
                cpu_quota_us: Some(Some(25_000)),
                cpu_period_us: Some(100_000),
                cpu_shares: Some(1),
                memory_max: Some(Some(64 << 20)),
                pids_max: Some(Some(5)),
                cpuset: Some(("0".into(), "0".into())),
            },
        )
        .unwrap();
        let g = |c: &str| root.join(c).join("kubesim/r1/node-0/burstable");
        assert_eq!(rd(g("cpu").join("cpu.cfs_quota_us")), "25000");
        assert_eq!(rd(g("cpu").join("cpu.cfs_period_us")), "100000");
        assert_eq!(
            rd(g("cpu").join("cpu.shares")),
            "2",
            "clamped to the kernel minimum"
        );
        assert_eq!(rd(g("memory").join("memory.limit_in_bytes")), "67108864");
        assert_eq!(rd(g("pids").join("pids.max")), "5");
        assert_eq!(rd(g("cpuset").join("cpuset.cpus")), "0");
        // cpuset groups were initialised from their parents on creation.
        assert_eq!(rd(root.join("cpuset/kubesim/cpuset.cpus")), "0-1");
        assert_eq!(rd(root.join("cpuset/kubesim/r1/node-0/cpuset.mems")), "0");
        d.apply(
            &pod,
            &CgLimits {
                cpu_quota_us: Some(None),
                memory_max: Some(None),
                pids_max: Some(None),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(rd(g("cpu").join("cpu.cfs_quota_us")), "-1");
        assert_eq!(rd(g("memory").join("memory.limit_in_bytes")), "-1");
        assert_eq!(rd(g("pids").join("pids.max")), "max");
        // one cgroup.procs per hierarchy (5 controllers + unified)
        assert_eq!(d.procs_fds(&pod).unwrap().len(), 6);
        // stats, as the kernel would show them
        fs::write(g("cpuacct").join("cpuacct.usage"), "512646488\n").unwrap();
        fs::write(
            g("cpu").join("cpu.stat"),
            "nr_periods 21\nnr_throttled 20\nthrottled_time 1480000000\n",
        )
        .unwrap();
        fs::write(g("memory").join("memory.usage_in_bytes"), "1000\n").unwrap();
        fs::write(g("memory").join("memory.max_usage_in_bytes"), "52428800\n").unwrap();
        fs::write(
            g("memory").join("memory.oom_control"),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
        )
        .unwrap();
        fs::write(g("pids").join("pids.current"), "3\n").unwrap();
        let s = d.stats(&pod).unwrap();
        assert_eq!(
            s,
            CgStats {
                cpu_usage_us: 512_646,
                nr_periods: 21,
                nr_throttled: 20,
                throttled_us: 1_480_000,
                memory_bytes: 1000,
                memory_peak_bytes: 52_428_800,
                oom_kills: 1,
                pids: 3,
            }
        );
        // hybrid: the v2 usage wins when present
        fs::write(g("unified").join("cpu.stat"), "usage_usec 512647\n").unwrap();
        assert_eq!(d.stats(&pod).unwrap().cpu_usage_us, 512_647);
        d.destroy_run().unwrap();
        for c in ["cpu", "cpuacct", "memory", "pids", "cpuset", "unified"] {
            assert!(!root.join(c).join("kubesim").exists(), "{c} left behind");
        }
    }

    #[test]
    fn v2_writes_and_stats_against_a_temp_root() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().to_path_buf();
        fs::write(root.join("cgroup.subtree_control"), "cpu memory pids\n").unwrap();
        fs::write(
            root.join("cgroup.controllers"),
            "cpuset cpu io memory pids\n",
        )
        .unwrap();
        let d = V2Driver::new(
            root.clone(),
            "r2",
            TreeKind::Plain,
            WeightFormula::Quadratic,
        )
        .unwrap();
        d.init().unwrap();
        assert_eq!(
            rd(root.join("kubesim/cgroup.subtree_control")),
            "+cpu +memory +pids"
        );
        fs::write(
            root.join("kubesim/r2/cgroup.controllers"),
            "cpuset cpu memory pids\n",
        )
        .unwrap();
        let c = CgName::new("c").unwrap();
        d.create(&c).unwrap();
        assert_eq!(
            rd(root.join("kubesim/r2/cgroup.subtree_control")),
            "+cpu +memory +pids +cpuset"
        );
        d.apply(
            &c,
            &CgLimits {
                cpu_quota_us: Some(Some(50_000)),
                cpu_period_us: Some(100_000),
                cpu_shares: Some(1024),
                memory_max: Some(Some(1 << 20)),
                pids_max: Some(Some(7)),
                cpuset: None,
            },
        )
        .unwrap();
        let g = root.join("kubesim/r2/c");
        assert_eq!(rd(g.join("cpu.max")), "50000 100000");
        assert_eq!(rd(g.join("cpu.weight")), "100");
        assert_eq!(rd(g.join("memory.max")), "1048576");
        assert_eq!(rd(g.join("pids.max")), "7");
        // quota alone keeps the period; unlimited is "max"
        fs::write(g.join("cpu.max"), "50000 200000\n").unwrap();
        d.apply(
            &c,
            &CgLimits {
                cpu_quota_us: Some(None),
                memory_max: Some(None),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(rd(g.join("cpu.max")), "max 200000");
        assert_eq!(rd(g.join("memory.max")), "max");
        let lin =
            V2Driver::new(root.clone(), "r3", TreeKind::Plain, WeightFormula::Linear).unwrap();
        assert_eq!(lin.formula().weight(1024), 39);
        fs::write(
            g.join("cpu.stat"),
            "usage_usec 1000\nuser_usec 900\nsystem_usec 100\nnr_periods 10\nnr_throttled 4\nthrottled_usec 123\n",
        )
        .unwrap();
        fs::write(g.join("memory.current"), "4096\n").unwrap();
        fs::write(g.join("memory.peak"), "8192\n").unwrap();
        fs::write(
            g.join("memory.events"),
            "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n",
        )
        .unwrap();
        fs::write(g.join("pids.current"), "2\n").unwrap();
        assert_eq!(
            d.stats(&c).unwrap(),
            CgStats {
                cpu_usage_us: 1000,
                nr_periods: 10,
                nr_throttled: 4,
                throttled_us: 123,
                memory_bytes: 4096,
                memory_peak_bytes: 8192,
                oom_kills: 1,
                pids: 2,
            }
        );
        assert_eq!(d.procs_fds(&c).unwrap().len(), 1);
        d.destroy_run().unwrap();
        assert!(!root.join("kubesim").exists());
        // the root's own files were only read
        assert_eq!(rd(root.join("cgroup.subtree_control")), "cpu memory pids\n");
    }

    #[test]
    fn v2_refuses_an_undelegated_root() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().to_path_buf();
        fs::write(root.join("cgroup.subtree_control"), "memory\n").unwrap();
        let d =
            V2Driver::new(root.clone(), "r", TreeKind::Plain, WeightFormula::default()).unwrap();
        let e = d.init().unwrap_err();
        assert!(matches!(e, CgroupError::NotDelegated { .. }), "{e}");
        assert!(e.to_string().contains("cpu pids"), "{e}");
        assert_eq!(rd(root.join("cgroup.subtree_control")), "memory\n");
        assert!(!root.join("kubesim").exists());
    }

    /// Writes go only to groups this driver created: not to another run's
    /// groups, not to a pre-existing `kubesim/`, not to names never created.
    #[test]
    fn never_writes_a_cgroup_it_did_not_create() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        let ctl = fake_v1(root);
        // Another run's tree and a kubesim/ created by someone else.
        for c in ["cpu", "cpuacct", "memory", "pids", "cpuset"] {
            fs::create_dir_all(root.join(c).join("kubesim/other/x")).unwrap();
        }
        fs::write(root.join("cpuset/kubesim/cpuset.cpus"), "1\n").unwrap();
        fs::write(root.join("cpu/kubesim/other/x/cpu.shares"), "1024\n").unwrap();
        let d = V1Driver::new(ctl, None, "mine", TreeKind::Plain).unwrap();
        // The run id cannot collide with an existing group.
        let clash = V1Driver::new(fake_v1(root), None, "other", TreeKind::Plain).unwrap();
        assert!(matches!(clash.init(), Err(CgroupError::Exists(_))));
        d.init().unwrap();
        // the shared kubesim/ was not ours: left alone
        let weight = CgLimits {
            cpu_shares: Some(2048),
            ..Default::default()
        };
        assert!(!d.apply_shared(&weight).unwrap());
        assert!(!root.join("cpu/kubesim/cpu.shares").exists());
        assert_eq!(rd(root.join("cpuset/kubesim/cpuset.cpus")), "1\n");
        let ghost = CgName::new("never-created").unwrap();
        let e = d
            .apply(
                &ghost,
                &CgLimits {
                    cpu_shares: Some(2),
                    ..Default::default()
                },
            )
            .unwrap_err();
        assert!(matches!(e, CgroupError::NotOwned { .. }), "{e}");
        assert!(!root.join("cpu/kubesim/mine/never-created").exists());
        assert!(matches!(
            d.procs_fds(&ghost),
            Err(CgroupError::NotOwned { .. })
        ));
        // a child of a group not created by us is refused too
        assert!(matches!(
            d.create(&CgName::new("a/b").unwrap()),
            Err(CgroupError::NotOwned { .. })
        ));
        d.destroy_run().unwrap();
        assert_eq!(rd(root.join("cpu/kubesim/other/x/cpu.shares")), "1024\n");
        assert!(!root.join("cpu/kubesim/mine").exists());
        assert!(root.join("cpu/kubesim/other/x").exists());
    }

    #[test]
    fn cleanup_removes_dead_runs_only() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        let mounts: Vec<PathBuf> = ["cpu", "memory"].iter().map(|c| root.join(c)).collect();
        for m in &mounts {
            fs::create_dir_all(m.join("kubesim/111-0/node-0/pod")).unwrap();
            fs::create_dir_all(m.join("kubesim/222-0/node-0")).unwrap();
            fs::write(m.join("kubesim/111-0/node-0/pod/cpu.shares"), "2").unwrap();
        }
        let rep = cleanup_leftovers(&mounts, TreeKind::Plain, &|pid| pid == 222);
        assert_eq!(rep.removed.len(), 2, "{rep:?}");
        assert_eq!(rep.kept_live.len(), 2);
        assert!(rep.errors.is_empty(), "{rep:?}");
        for m in &mounts {
            assert!(!m.join("kubesim/111-0").exists());
            assert!(m.join("kubesim/222-0/node-0").exists());
        }
        let rep = cleanup_leftovers(&mounts, TreeKind::Plain, &|_| false);
        assert_eq!(rep.removed.len(), 2);
        for m in &mounts {
            assert!(!m.join("kubesim").exists());
        }
    }
}
