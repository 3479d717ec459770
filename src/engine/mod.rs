//! The discrete-event core: integer simulated time, a totally ordered event
//! queue with cancellable timers, and named seeded random streams.
//!
//! Invariant: this module knows nothing about Kubernetes. It owns no domain
//! state; the `cluster::World` drives it.

pub mod queue;
pub mod realtime;
pub mod rng;
pub mod time;

pub use queue::{EventQueue, TimerId};
pub use realtime::RealClock;
pub use rng::{RngStreams, SimRng, Stream};
pub use time::{Duration, SimTime};
