//! The Service traffic model's pure parts: load shapes over time
//! (`shape.rs`), arrival generation (`arrivals.rs`), kube-proxy's endpoint
//! choice (`select.rs`), the per-pod processor-sharing queue (`ps.rs`),
//! integer latency percentiles (`stats.rs`) and the declared traffic of a
//! Service (`spec.rs`). The World's side (events, wiring to endpoints and
//! to the node model, samples) is `crate::cluster::traffic`
//! (docs/traffic.md).

pub mod arrivals;
pub mod ps;
pub mod select;
pub mod shape;
pub mod spec;
pub mod stats;

pub use arrivals::{ArrivalGen, ArrivalKind};
pub use ps::PsQueue;
pub use select::Policy;
pub use shape::LoadShape;
pub use spec::{TrafficSpec, WorkDist};
pub use stats::percentile;
