//! The real Linux backend: containers as processes in namespaces and
//! cgroups. `cgroupfs` speaks to the cgroup filesystem (v1 and v2),
//! `spawn` starts a process in new namespaces placed in its cgroups,
//! `burn` is the built-in workload those processes run, `guard` makes sure
//! nothing is left behind, `runtime` implements the node runtime seam
//! (`crate::node::runtime::Runtime`) on them. Linux only; the rest of kubesim builds
//! everywhere.

pub mod burn;
pub mod cgroupfs;
pub mod guard;
pub mod replay;
pub mod runtime;
pub mod spawn;
