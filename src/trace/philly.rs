//! The Philly runtimes (`philly_runtime.csv`, one column `runtime` in
//! seconds) as an empirical duration distribution: a draw is one of the
//! observed runtimes, uniformly at random. Usable for any trace's pods
//! without a duration (`spec.traces[].durations`, docs/traces.md).

use std::path::Path;

use super::{read_csv, FieldErr, Header, ImportOptions, ImportStats, TraceError};
use crate::engine::{Duration, SimRng};

/// An empirical distribution of durations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Durations {
    /// The observed values, in file order.
    pub values: Vec<Duration>,
}

impl Durations {
    /// One draw: a uniformly chosen observation.
    pub fn sample(&self, rng: &mut SimRng) -> Option<Duration> {
        let i = rng.below(self.values.len() as u64);
        self.values.get(usize::try_from(i).ok()?).copied()
    }
    /// The `q`-th quantile (0..=100), nearest rank; `None` when empty.
    pub fn percentile(&self, q: u64) -> Option<Duration> {
        let mut v = self.values.clone();
        v.sort_unstable();
        let n = v.len() as u64;
        if n == 0 {
            return None;
        }
        let rank = (q.min(100) * n).div_ceil(100).max(1);
        v.get(rank as usize - 1).copied()
    }
}

/// Reads a runtime file (header `runtime`, seconds, decimals allowed).
pub fn import(path: &Path, opts: &ImportOptions) -> Result<(Durations, ImportStats), TraceError> {
    let mut values = Vec::new();
    let stats = read_csv(path, Header::Required(&["runtime"]), opts, |r| {
        let v = r.scaled("runtime", super::SECOND)?;
        let us = u64::try_from(v).map_err(|_| FieldErr::at("runtime", "must not be negative"))?;
        values.push(Duration::from_micros(us));
        Ok(())
    })?;
    if values.is_empty() {
        return Err(TraceError::Invalid(format!(
            "{}: no runtime in the file",
            path.display()
        )));
    }
    Ok((Durations { values }, stats))
}
