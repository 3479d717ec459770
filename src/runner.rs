//! Running a scenario end to end: build the World, stream the event log to
//! a temporary file, write every result file, rename them into place.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter};
use std::path::{Path, PathBuf};

use crate::cluster::{Progress, RunError, RunOptions, RunResult, World};
use crate::engine::SimTime;
use crate::output::{self, temp_path, OutputError, Summary};
use crate::scenario::Scenario;

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("failed to create the results directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("non-deterministic run: the two runs diverge at event record {line}:\n  first:  {first}\n  second: {second}")]
    Diverged {
        line: u64,
        first: String,
        second: String,
    },
}

/// How to run.
#[derive(Clone, Debug)]
pub struct RunSpec {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    pub until: Option<SimTime>,
    pub check_invariants: bool,
    /// Run twice and compare the event logs.
    pub check_determinism: bool,
    /// Record every scheduling decision (explain.jsonl).
    pub explain: bool,
}

impl RunSpec {
    pub fn options(&self, sc: &Scenario) -> RunOptions {
        RunOptions {
            seed: self.seed.unwrap_or(sc.seed),
            until: self.until,
            check_invariants: self.check_invariants,
            explain: self.explain,
        }
    }
}

/// Runs without writing anything (the event log is only hashed).
pub fn run_in_memory(sc: Scenario, spec: &RunSpec) -> Result<RunResult, RunError> {
    let opts = spec.options(&sc);
    World::new(sc, &opts, None)?.run()
}

fn run_logged(
    sc: Scenario,
    spec: &RunSpec,
    events: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<RunResult, RunnerError> {
    let opts = spec.options(&sc);
    let f = File::create(events).map_err(|source| OutputError::Io {
        path: events.to_path_buf(),
        source,
    })?;
    let w = Box::new(BufWriter::with_capacity(1 << 20, f));
    Ok(World::new(sc, &opts, Some(w))?.run_with_progress(progress)?)
}

/// Runs a scenario and writes its results into `dir`. Files appear only
/// once complete; on error no partial file is left behind.
pub fn run_to_dir(
    sc: Scenario,
    spec: &RunSpec,
    dir: &Path,
) -> Result<(RunResult, Summary), RunnerError> {
    run_to_dir_with_progress(sc, spec, dir, &mut |_| {})
}

/// [`run_to_dir`], reporting the (first) run's [`Progress`].
pub fn run_to_dir_with_progress(
    sc: Scenario,
    spec: &RunSpec,
    dir: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<(RunResult, Summary), RunnerError> {
    fs::create_dir_all(dir).map_err(|source| RunnerError::Dir {
        path: dir.to_path_buf(),
        source,
    })?;
    let events = dir.join("events.jsonl");
    let events_tmp = temp_path(&events);
    // A copy of the scenario only for the determinism check's second run
    // (a trace replay's scenario can hold hundreds of thousands of pods).
    let second_sc = spec.check_determinism.then(|| sc.clone());
    let result = run_logged(sc, spec, &events_tmp, progress);
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = fs::remove_file(&events_tmp);
            return Err(e);
        }
    };
    if let Some(sc) = second_sc {
        let second_tmp = dir.join(".events.second.jsonl.tmp");
        let second = run_logged(sc, spec, &second_tmp, &mut |_| {});
        let verdict = match second {
            Ok(r2) if r2.event_digest == result.event_digest => Ok(()),
            Ok(_) => Err(first_divergence(&events_tmp, &second_tmp)),
            Err(e) => Err(e),
        };
        let _ = fs::remove_file(&second_tmp);
        if let Err(e) = verdict {
            let _ = fs::remove_file(&events_tmp);
            return Err(e);
        }
    }
    let summary = Summary::of(&result);
    let written = output::write_results(dir, &result, &summary).and_then(|_| {
        if spec.explain {
            output::write_explanations(&dir.join("explain.jsonl"), &result.explanations)
        } else {
            Ok(())
        }
    });
    if let Err(e) = written {
        let _ = fs::remove_file(&events_tmp);
        return Err(e.into());
    }
    fs::rename(&events_tmp, &events).map_err(|source| OutputError::Io {
        path: events.clone(),
        source,
    })?;
    Ok((result, summary))
}

fn first_divergence(a: &Path, b: &Path) -> RunnerError {
    let open = |p: &Path| File::open(p).map(BufReader::new).map(|r| r.lines());
    let (Ok(mut la), Ok(mut lb)) = (open(a), open(b)) else {
        return RunnerError::Diverged {
            line: 0,
            first: "<unreadable>".into(),
            second: "<unreadable>".into(),
        };
    };
    let mut n = 0u64;
    loop {
        n += 1;
        let x = la.next().and_then(|r| r.ok());
        let y = lb.next().and_then(|r| r.ok());
        if x != y || x.is_none() {
            return RunnerError::Diverged {
                line: n,
                first: x.unwrap_or_else(|| "<end of log>".into()),
                second: y.unwrap_or_else(|| "<end of log>".into()),
            };
        }
    }
}
