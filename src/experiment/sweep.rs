//! Sweeps: a YAML grid (scenario files × `--set` override axes × policies
//! × seeds) expanded into a [`Plan`], run whole or as shard `I` of `N`,
//! resumable (a run whose record `runs/<id>.json` exists is not run again).
//!
//! Outputs in the sweep directory: `runs/<id>.json` per finished run;
//! unsharded, `runs.csv` and `summary.csv`; sharded,
//! `shard-IIII-of-NNNN.csv` (the shard's rows of `runs.csv`) and
//! `shard-IIII-of-NNNN.json` (its manifest), which `merge` combines.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::exec::{execute, ExecOptions, RunFailure};
use super::plan::{parse_seeds, Plan, RunDef};
use super::policy::Policy;
use super::table::{run_row, runs_table, summary_table, Table};
use super::ExperimentError;
use crate::output::write_atomic;
use crate::scenario::set::SetOverride;
use crate::scenario::yaml;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepM {
    scenarios: Vec<String>,
    #[serde(default)]
    set: Vec<AxisM>,
    policies: Vec<String>,
    seeds: serde_json::Value,
    #[serde(default)]
    until: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AxisM {
    path: String,
    values: Vec<serde_json::Value>,
}

/// A `runs.csv` row with its header.
type Row = (Vec<String>, Vec<String>);

/// A loaded sweep file.
#[derive(Clone, Debug)]
pub struct Sweep {
    pub file: PathBuf,
    /// Directory scenario paths are relative to (the sweep file's).
    pub base_dir: PathBuf,
    pub plan: Plan,
    pub until: Option<String>,
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Reads and expands a sweep file. Errors name the file, line and field.
pub fn load(file: &Path) -> Result<Sweep, ExperimentError> {
    let src = std::fs::read_to_string(file).map_err(|source| ExperimentError::Read {
        path: file.to_path_buf(),
        source,
    })?;
    let perr = |message: String| ExperimentError::Parse {
        path: file.to_path_buf(),
        message,
    };
    let docs = yaml::split_documents(&src).map_err(|(l, m)| perr(format!("line {l}: {m}")))?;
    if docs.len() != 1 {
        return Err(perr("a sweep file holds exactly one YAML document".into()));
    }
    let root = yaml::parse_document(&docs[0])
        .map_err(|(l, m)| perr(format!("line {}: YAML syntax error: {m}", l.line)))?;
    let ign = yaml::Ignored::default();
    let m: SweepM = yaml::decode(&root, "", &ign).map_err(|e| {
        perr(format!(
            "line {}: {}: {}",
            e.loc.map(|l| l.line).unwrap_or(0),
            if e.path.is_empty() {
                "(document)"
            } else {
                &e.path
            },
            e.message
        ))
    })?;
    if m.scenarios.is_empty() {
        return Err(perr("scenarios: list at least one scenario file".into()));
    }
    if m.policies.is_empty() {
        return Err(perr("policies: list at least one policy".into()));
    }
    let policies = m
        .policies
        .iter()
        .map(|p| Policy::parse(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| perr(format!("policies: {e}")))?;
    let seeds = match &m.seeds {
        serde_json::Value::Array(a) => a
            .iter()
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| format!("seed {v} is not a non-negative integer"))
            })
            .collect::<Result<Vec<u64>, _>>()
            .and_then(|v| parse_seeds(&v.iter().map(u64::to_string).collect::<Vec<_>>().join(","))),
        other => parse_seeds(&value_text(other)),
    }
    .map_err(|e| perr(format!("seeds: {e}")))?;
    // Cartesian product of the axes, first axis outermost.
    let mut sets: Vec<Vec<String>> = vec![Vec::new()];
    for (i, ax) in m.set.iter().enumerate() {
        if ax.values.is_empty() {
            return Err(perr(format!("set[{i}].values: list at least one value")));
        }
        let mut next = Vec::new();
        for prev in &sets {
            for v in &ax.values {
                let text = format!("{}={}", ax.path, value_text(v));
                SetOverride::parse(&text).map_err(|e| perr(format!("set[{i}]: {e}")))?;
                let mut s = prev.clone();
                s.push(text);
                next.push(s);
            }
        }
        sets = next;
    }
    let base_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(Sweep {
        file: file.to_path_buf(),
        base_dir,
        plan: Plan::grid(&m.scenarios, &sets, &policies, &seeds),
        until: m.until,
    })
}

/// Shard `index` of `count` (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// `I/N` with 0 ≤ I < N.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("--shard {s:?}: expected I/N, e.g. 0/4"))?;
        let index: usize = i
            .trim()
            .parse()
            .map_err(|_| format!("--shard {s:?}: bad index"))?;
        let count: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("--shard {s:?}: bad count"))?;
        if count == 0 || index >= count {
            return Err(format!("--shard {s:?}: need 0 <= I < N"));
        }
        Ok(Shard { index, count })
    }
    pub fn name(&self) -> String {
        format!("shard-{:04}-of-{:04}", self.index, self.count)
    }
}

/// The shard to run: `--shard I/N` if given; else a Kubernetes Indexed
/// Job's `JOB_COMPLETION_INDEX` with `--shards N`; else a Slurm array's
/// `SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN` (MIN defaults to 0) of
/// `SLURM_ARRAY_TASK_COUNT` (or `--shards N`); else none (the whole plan).
pub fn resolve_shard(
    arg: Option<&str>,
    shards: Option<usize>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Shard>, String> {
    if let Some(a) = arg {
        let s = Shard::parse(a)?;
        if let Some(n) = shards {
            if n != s.count {
                return Err(format!("--shard {a} contradicts --shards {n}"));
            }
        }
        return Ok(Some(s));
    }
    let num = |name: &str| -> Result<Option<usize>, String> {
        match env(name) {
            None => Ok(None),
            Some(v) if v.trim().is_empty() => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| format!("{name}={v:?} is not a number")),
        }
    };
    if let Some(i) = num("JOB_COMPLETION_INDEX")? {
        let n = shards.ok_or(
            "JOB_COMPLETION_INDEX is set: give the Job's completions as --shards N".to_string(),
        )?;
        if i >= n {
            return Err(format!("JOB_COMPLETION_INDEX={i} but --shards {n}"));
        }
        return Ok(Some(Shard { index: i, count: n }));
    }
    if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let n = match shards {
            Some(n) => n,
            None => num("SLURM_ARRAY_TASK_COUNT")?.ok_or(
                "SLURM_ARRAY_TASK_ID is set without SLURM_ARRAY_TASK_COUNT: give --shards N"
                    .to_string(),
            )?,
        };
        let i = id.checked_sub(min).ok_or(format!(
            "SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}"
        ))?;
        if i >= n || n == 0 {
            return Err(format!(
                "SLURM_ARRAY_TASK_ID={id} (MIN {min}) is outside {n} shards: use a contiguous array --array=MIN-MAX"
            ));
        }
        return Ok(Some(Shard { index: i, count: n }));
    }
    Ok(None)
}

/// A finished run's record (`runs/<id>.json`), from which its `runs.csv`
/// row is rebuilt on resume.
#[derive(Serialize, Deserialize)]
struct RunRecord {
    key: String,
    event_digest: String,
    metrics: Vec<(String, i64)>,
}

/// A shard's manifest.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Manifest {
    pub plan_digest: String,
    pub runs_total: usize,
    pub shard: usize,
    pub shards: usize,
    /// Run indexes of the shard.
    pub runs: Vec<usize>,
    pub failed: Vec<FailedRun>,
    pub kubesim_version: String,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct FailedRun {
    pub run_index: usize,
    pub run: String,
    pub message: String,
    pub reproduce: String,
}

/// What a sweep did.
#[derive(Debug, Default)]
pub struct SweepReport {
    pub planned: usize,
    pub ran: usize,
    pub skipped: usize,
    pub failures: Vec<RunFailure>,
    /// Files written (runs.csv/summary.csv or the shard's files).
    pub written: Vec<PathBuf>,
    /// `runs.csv` (or the shard's rows).
    pub runs: Table,
}

fn record_path(out: &Path, def: &RunDef) -> PathBuf {
    out.join("runs").join(format!("{}.json", def.id()))
}

fn read_record(out: &Path, def: &RunDef) -> Option<RunRecord> {
    let b = std::fs::read(record_path(out, def)).ok()?;
    let r: RunRecord = serde_json::from_slice(&b).ok()?;
    (r.key == def.key()).then_some(r)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ExperimentError + '_ {
    move |source| ExperimentError::Read {
        path: path.to_path_buf(),
        source,
    }
}

/// Runs the sweep (or one shard) into `out`. `on_start(n)` is told how
/// many runs will execute; `on_done` as each finishes.
pub fn run(
    sweep: &Sweep,
    out: &Path,
    shard: Option<Shard>,
    mut opts: ExecOptions,
    full_results: bool,
    on_start: &dyn Fn(usize),
    on_done: &(dyn Fn(&RunDef) + Sync),
) -> Result<SweepReport, ExperimentError> {
    let runs_dir = out.join("runs");
    std::fs::create_dir_all(&runs_dir).map_err(io(&runs_dir))?;
    let mine: Vec<RunDef> = match shard {
        Some(s) => sweep.plan.shard(s.index, s.count),
        None => sweep.plan.runs.clone(),
    };
    let mut rows: Vec<(usize, Row)> = Vec::new();
    let mut todo = Vec::new();
    for def in &mine {
        match read_record(out, def) {
            Some(rec) => rows.push((def.index, run_row(def, &rec.event_digest, &rec.metrics))),
            None => todo.push(def.clone()),
        }
    }
    let skipped = mine.len() - todo.len();
    on_start(todo.len());
    opts.base_dir = sweep.base_dir.clone();
    if let Some(u) = &sweep.until {
        let d = crate::engine::Duration::parse(u).map_err(|e| {
            ExperimentError::Invalid(format!("{}: until: {e}", sweep.file.display()))
        })?;
        opts.until = Some(crate::engine::SimTime::ZERO.after(d));
        opts.until_text = Some(u.clone());
    }
    if full_results {
        opts.results_dir = Some(runs_dir.clone());
    }
    let results = execute(&todo, &opts, on_done);
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(o) => {
                let rec = RunRecord {
                    key: o.def.key(),
                    event_digest: o.summary.event_digest.clone(),
                    metrics: o.metrics.clone(),
                };
                let bytes = serde_json::to_vec(&rec).unwrap_or_default();
                write_atomic(&record_path(out, &o.def), |w| {
                    std::io::Write::write_all(w, &bytes)
                })?;
                rows.push((
                    o.def.index,
                    run_row(&o.def, &rec.event_digest, &rec.metrics),
                ));
            }
            Err(f) => failures.push(f),
        }
    }
    let runs =
        runs_table(rows.into_iter().map(|(_, r)| r).collect()).map_err(ExperimentError::Invalid)?;
    let mut written = Vec::new();
    match shard {
        None => {
            let p = out.join("runs.csv");
            runs.write(&p)?;
            written.push(p);
            let s = summary_table(&runs).map_err(ExperimentError::Invalid)?;
            let p = out.join("summary.csv");
            s.write(&p)?;
            written.push(p);
        }
        Some(s) => {
            let p = out.join(format!("{}.csv", s.name()));
            runs.write(&p)?;
            written.push(p);
            let m = Manifest {
                plan_digest: sweep.plan.digest(),
                runs_total: sweep.plan.runs.len(),
                shard: s.index,
                shards: s.count,
                runs: mine.iter().map(|r| r.index).collect(),
                failed: failures
                    .iter()
                    .map(|f| FailedRun {
                        run_index: f.def.index,
                        run: f.def.describe(),
                        message: f.message.clone(),
                        reproduce: f.reproduce.clone(),
                    })
                    .collect(),
                kubesim_version: env!("CARGO_PKG_VERSION").to_string(),
            };
            let p = out.join(format!("{}.json", s.name()));
            let bytes = serde_json::to_vec_pretty(&m).unwrap_or_default();
            write_atomic(&p, |w| std::io::Write::write_all(w, &bytes))?;
            written.push(p);
        }
    }
    Ok(SweepReport {
        planned: mine.len(),
        ran: todo.len() - failures.len(),
        skipped,
        failures,
        written,
        runs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn shards_from_flags_and_env() {
        let none = env(&[]);
        assert_eq!(resolve_shard(None, None, &none).unwrap(), None);
        assert_eq!(
            resolve_shard(Some("1/4"), None, &none).unwrap(),
            Some(Shard { index: 1, count: 4 })
        );
        assert!(resolve_shard(Some("4/4"), None, &none).is_err());
        assert!(resolve_shard(Some("1/4"), Some(3), &none).is_err());
        let k8s = env(&[("JOB_COMPLETION_INDEX", "2")]);
        assert_eq!(
            resolve_shard(None, Some(5), &k8s).unwrap(),
            Some(Shard { index: 2, count: 5 })
        );
        assert!(resolve_shard(None, None, &k8s).is_err());
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "5"),
        ]);
        assert_eq!(
            resolve_shard(None, None, &slurm).unwrap(),
            Some(Shard { index: 2, count: 5 })
        );
        let slurm0 = env(&[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_COUNT", "5"),
        ]);
        assert!(resolve_shard(None, None, &slurm0).is_err());
    }
}
