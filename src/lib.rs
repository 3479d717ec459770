//! kubesim: a deterministic discrete-event simulator of a Kubernetes
//! cluster, for scheduling research. See ARCHITECTURE.md for the map.

pub mod cluster;
pub mod engine;
pub mod fgd;
pub mod model;
pub mod output;
pub mod runner;
pub mod scenario;
pub mod scheduler;
pub mod trace;
