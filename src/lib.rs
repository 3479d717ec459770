//! kubesim: a deterministic discrete-event simulator of a Kubernetes
//! cluster, for scheduling research. See ARCHITECTURE.md for the map.

pub mod autoscaler;
pub mod cluster;
pub mod controllers;
pub mod engine;
pub mod experiment;
pub mod fgd;
#[cfg(target_os = "linux")]
pub mod linux;
pub mod model;
pub mod node;
pub mod output;
pub mod plot;
pub mod realcmp;
pub mod runner;
pub mod scenario;
pub mod scheduler;
pub mod trace;
pub mod traffic;
