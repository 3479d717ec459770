//! `compare`: one scenario under several policies and seeds. Writes
//! `runs.csv`, `summary.csv` and `cdf.csv` (scheduling and start-up latency
//! CDFs per policy, every seed's pods pooled) into the output directory.

use std::path::{Path, PathBuf};

use super::exec::{execute, ExecOptions, Outcome, RunFailure};
use super::plan::{Plan, RunDef};
use super::policy::Policy;
use super::table::{run_row, runs_table, summary_table, Table};
use super::ExperimentError;

/// What `compare` produced.
#[derive(Debug)]
pub struct CompareReport {
    pub runs: Table,
    pub summary: Table,
    pub cdf: Table,
    pub failures: Vec<RunFailure>,
    pub written: Vec<PathBuf>,
}

/// Points of a pooled CDF: every 10‰ (nearest rank), 101 points.
pub const CDF_STEP_PERMILLE: u64 = 10;

/// Columns of `cdf.csv`.
pub const CDF_COLUMNS: [&str; 4] = ["policy", "metric", "permille", "value_us"];

fn quantiles(mut v: Vec<u64>) -> Vec<(u64, u64)> {
    if v.is_empty() {
        return Vec::new();
    }
    v.sort_unstable();
    let n = v.len() as u64;
    (0..=1000 / CDF_STEP_PERMILLE)
        .map(|k| {
            let q = k * CDF_STEP_PERMILLE;
            let rank = (q * n).div_ceil(1000).max(1);
            (q, v[rank as usize - 1])
        })
        .collect()
}

/// `cdf.csv` from the outcomes (in plan order), grouped by policy.
pub fn cdf_table(outcomes: &[&Outcome]) -> Table {
    let mut groups: Vec<(String, Vec<u64>, Vec<u64>)> = Vec::new();
    for o in outcomes {
        let label = &o.def.policy.label;
        let i = match groups.iter().position(|g| &g.0 == label) {
            Some(i) => i,
            None => {
                groups.push((label.clone(), Vec::new(), Vec::new()));
                groups.len() - 1
            }
        };
        groups[i].1.extend(&o.scheduling_latency_us);
        groups[i].2.extend(&o.startup_latency_us);
    }
    let mut t = Table {
        header: CDF_COLUMNS.iter().map(|s| s.to_string()).collect(),
        rows: Vec::new(),
    };
    for (p, sched, start) in groups {
        for (metric, v) in [("scheduling_latency", sched), ("startup_latency", start)] {
            for (q, x) in quantiles(v) {
                t.rows
                    .push(vec![p.clone(), metric.into(), q.to_string(), x.to_string()]);
            }
        }
    }
    t
}

/// Runs `file` (with overrides) under every policy × seed and writes the
/// tables into `out`.
pub fn compare(
    file: &Path,
    overrides: &[String],
    policies: &[Policy],
    seeds: &[u64],
    opts: &ExecOptions,
    out: &Path,
    on_done: &(dyn Fn(&RunDef) + Sync),
) -> Result<CompareReport, ExperimentError> {
    if policies.is_empty() {
        return Err(ExperimentError::Invalid(
            "give at least one --policy".into(),
        ));
    }
    let plan = Plan::grid(
        &[file.to_string_lossy().into_owned()],
        &[overrides.to_vec()],
        policies,
        seeds,
    );
    let mut opts = opts.clone();
    opts.keep_latencies = true;
    let results = execute(&plan.runs, &opts, on_done);
    let mut ok = Vec::new();
    let mut failures = Vec::new();
    for r in &results {
        match r {
            Ok(o) => ok.push(o),
            Err(f) => failures.push(f.clone()),
        }
    }
    let runs = runs_table(
        ok.iter()
            .map(|o| run_row(&o.def, &o.summary.event_digest, &o.metrics))
            .collect(),
    )
    .map_err(ExperimentError::Invalid)?;
    let summary = summary_table(&runs).map_err(ExperimentError::Invalid)?;
    let cdf = cdf_table(&ok);
    std::fs::create_dir_all(out).map_err(|source| ExperimentError::Read {
        path: out.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for (name, t) in [
        ("runs.csv", &runs),
        ("summary.csv", &summary),
        ("cdf.csv", &cdf),
    ] {
        let p = out.join(name);
        t.write(&p)?;
        written.push(p);
    }
    Ok(CompareReport {
        runs,
        summary,
        cdf,
        failures,
        written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_points_nearest_rank() {
        let q = quantiles((1..=200).collect());
        assert_eq!(q.len(), 101);
        assert_eq!(q[0], (0, 1));
        assert_eq!(q[50], (500, 100));
        assert_eq!(q[100], (1000, 200));
        assert!(quantiles(vec![]).is_empty());
    }
}
