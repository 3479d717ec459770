//! The simulated node below the API: the kubelet's cgroup values
//! ([`cgroup`]), the CRI-shaped runtime seam and the simulated runtime
//! ([`runtime`]) with its conformance checks ([`conformance`]), container
//! usage models ([`usage`]) and CPU contention over the cgroup tree
//! ([`cpu`], over each node's cached tree [`cputree`]). The World's
//! kubelet (src/cluster/pods.rs) calls into it through small hooks; pods
//! without usage models never reach it.

pub mod cgroup;
pub mod conformance;
pub mod cpu;
pub mod cputree;
pub mod kubelet;
pub mod runtime;
pub mod usage;
