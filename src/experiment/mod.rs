//! Experiments: many runs of scenarios under several policies and seeds,
//! run in parallel (each run single-threaded), summarised with confidence
//! intervals; sweeps that split into shards and merge back.
//!
//! Invariant: a run's identity and seed come from its run key (scenario,
//! overrides, policy, seed), never from a worker or shard index; float
//! statistics are computed after all runs, from integers, in plan order,
//! so every output is byte-identical whatever the parallelism or sharding.

pub mod compare;
pub mod exec;
pub mod merge;
pub mod plan;
pub mod policy;
pub mod stats;
pub mod sweep;
pub mod table;

pub use exec::{execute, ExecOptions, Outcome, RunFailure};
pub use plan::{parse_seeds, Plan, RunDef};
pub use policy::Policy;

/// Why an experiment could not be carried out (individual run failures are
/// [`RunFailure`]s, reported without stopping the others).
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    #[error("failed to read {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse {
        path: std::path::PathBuf,
        message: String,
    },
}
