//! Executes runs in parallel on a rayon pool of `jobs` threads, each run
//! single-threaded, and returns the outcomes in plan order (an ordered
//! collect), whatever order the workers finish in. A failing run (invalid
//! scenario after overrides, unknown policy, invariant violation, even a
//! panic) becomes a [`RunFailure`] naming it; the others go on.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::plan::RunDef;
use super::table::metrics_of;
use crate::cluster::RunResult;
use crate::engine::SimTime;
use crate::output::Summary;
use crate::runner::{run_in_memory, run_to_dir, RunSpec};
use crate::scenario::set::SetOverride;
use crate::scenario::{load_file_with, LoadError, LoadOptions, Scenario};

/// How to execute.
#[derive(Clone, Debug, Default)]
pub struct ExecOptions {
    /// Worker threads (0: one per core).
    pub jobs: usize,
    pub until: Option<SimTime>,
    /// `until` as the user wrote it (for reproduce commands).
    pub until_text: Option<String>,
    /// Directory relative scenario paths are resolved from.
    pub base_dir: PathBuf,
    /// Keep each run's scheduling and start-up latencies (for CDFs).
    pub keep_latencies: bool,
    /// Write every run's full results into `DIR/<run id>/`.
    pub results_dir: Option<PathBuf>,
    pub check_invariants: bool,
}

/// A finished run.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub def: RunDef,
    pub summary: Summary,
    pub metrics: Vec<(String, i64)>,
    /// Creation → binding of every bound pod, µs (with `keep_latencies`).
    pub scheduling_latency_us: Vec<u64>,
    /// Creation → Running, µs (with `keep_latencies`).
    pub startup_latency_us: Vec<u64>,
}

/// A run that failed, with the command that reproduces it alone.
#[derive(Clone, Debug)]
pub struct RunFailure {
    pub def: RunDef,
    pub message: String,
    pub reproduce: String,
}

impl std::fmt::Display for RunFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} failed: {}\n  reproduce it alone: {}",
            self.def.describe(),
            self.message.trim_end(),
            self.reproduce
        )
    }
}

fn load_variant(base: &Path, scenario: &str, overrides: &[String]) -> Result<Scenario, String> {
    let sets = overrides
        .iter()
        .map(|o| SetOverride::parse(o))
        .collect::<Result<Vec<_>, _>>()?;
    let path = base.join(scenario);
    match load_file_with(&path, LoadOptions::default(), &sets) {
        Ok(sc) => Ok(sc),
        Err(LoadError::Invalid(d)) => Err(d.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

fn latencies(r: &RunResult) -> (Vec<u64>, Vec<u64>) {
    let mut sched = Vec::new();
    let mut start = Vec::new();
    for p in &r.pods {
        let c = p.meta.creation_timestamp.as_micros();
        if let Some(b) = p.status.bound_at {
            sched.push(b.as_micros().saturating_sub(c));
        }
        if let Some(s) = p.status.started_at {
            start.push(s.as_micros().saturating_sub(c));
        }
    }
    (sched, start)
}

fn run_one(def: &RunDef, sc: &Scenario, opts: &ExecOptions) -> Result<Outcome, String> {
    let mut sc = sc.clone();
    def.policy.apply(&mut sc)?;
    let spec = RunSpec {
        seed: Some(def.seed),
        until: opts.until,
        check_invariants: opts.check_invariants,
        check_determinism: false,
        explain: false,
    };
    let (result, summary) = match &opts.results_dir {
        Some(dir) => run_to_dir(sc, &spec, &dir.join(def.id())).map_err(|e| e.to_string())?,
        None => {
            let r = run_in_memory(sc, &spec).map_err(|e| e.to_string())?;
            let s = Summary::of(&r);
            (r, s)
        }
    };
    let (sched, start) = if opts.keep_latencies {
        latencies(&result)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(Outcome {
        def: def.clone(),
        metrics: metrics_of(&summary),
        summary,
        scheduling_latency_us: sched,
        startup_latency_us: start,
    })
}

/// Runs `runs` and returns one result per run, in the order given.
/// `on_done` is called (from worker threads) as each run finishes.
#[allow(clippy::result_large_err)] // failures are rare; boxing buys nothing here
pub fn execute(
    runs: &[RunDef],
    opts: &ExecOptions,
    on_done: &(dyn Fn(&RunDef) + Sync),
) -> Vec<Result<Outcome, RunFailure>> {
    // Load each (scenario, overrides) variant once.
    let mut variants: BTreeMap<(String, Vec<String>), Result<Scenario, String>> = BTreeMap::new();
    for r in runs {
        let k = (r.scenario.clone(), r.overrides.clone());
        variants
            .entry(k)
            .or_insert_with(|| load_variant(&opts.base_dir, &r.scenario, &r.overrides));
    }
    let work = |def: &RunDef| -> Result<Outcome, RunFailure> {
        let fail = |message: String| RunFailure {
            def: def.clone(),
            message,
            reproduce: def.reproduce(&opts.base_dir, opts.until_text.as_deref()),
        };
        let k = (def.scenario.clone(), def.overrides.clone());
        let out = match variants.get(&k) {
            Some(Ok(sc)) => match catch_unwind(AssertUnwindSafe(|| run_one(def, sc, opts))) {
                Ok(Ok(o)) => Ok(o),
                Ok(Err(m)) => Err(fail(m)),
                Err(p) => {
                    let m = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "panic".into());
                    Err(fail(format!(
                        "kubesim panicked (a bug, please report): {m}"
                    )))
                }
            },
            Some(Err(m)) => Err(fail(m.clone())),
            None => Err(fail("internal: scenario variant not loaded".into())),
        };
        on_done(def);
        out
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .build();
    match pool {
        Ok(pool) => pool.install(|| runs.par_iter().map(work).collect()),
        Err(_) => runs.iter().map(work).collect(),
    }
}
