//! `kubesim compare FILE --policy A --policy B --seeds 1..30 [--jobs N]
//! [--out DIR]`: every (policy, seed) pair in parallel, then runs.csv,
//! summary.csv, cdf.csv, comparison plots and the printed table.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use kubesim::engine::{Duration, SimTime};
use kubesim::experiment::compare::compare as run_compare;
use kubesim::experiment::{parse_seeds, ExecOptions, Policy};
use kubesim::scenario::set::SetOverride;
use kubesim::scenario::{load_file_with, LoadError, LoadOptions};

use super::progress;

#[derive(Args)]
pub struct CompareArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// A policy to compare (repeat): a scheduling policy (`best-fit`), a
    /// profile of the scenario's KubeSchedulerConfiguration, or parts
    /// joined by `+` (`scheduler:NAME`, `profile:NAME`).
    #[arg(long = "policy", required = true)]
    pub policies: Vec<String>,
    /// Seeds: `N`, `A..B` (inclusive) or a list `1,2,5` (default: the
    /// scenario's seed).
    #[arg(long)]
    pub seeds: Option<String>,
    /// Parallel runs (default: one per core). Results do not depend on it.
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Output directory (default: results/<scenario name>-compare/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override a scenario field, `[Kind/name:]path=value` (repeat); see
    /// docs/experiments.md.
    #[arg(long = "set")]
    pub sets: Vec<String>,
    /// Stop every run at this simulated time.
    #[arg(long)]
    pub until: Option<String>,
    /// Do not draw the comparison plots.
    #[arg(long)]
    pub no_plot: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the summary as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

pub fn parse_until(u: &Option<String>) -> anyhow::Result<Option<SimTime>> {
    Ok(match u {
        Some(u) => Some(
            SimTime::ZERO.after(
                Duration::parse(u)
                    .map_err(anyhow::Error::msg)
                    .context("--until")?,
            ),
        ),
        None => None,
    })
}

pub fn compare(a: CompareArgs) -> anyhow::Result<ExitCode> {
    let sets = a
        .sets
        .iter()
        .map(|s| SetOverride::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let sc = match load_file_with(&a.file, LoadOptions::default(), &sets) {
        Ok(sc) => sc,
        Err(LoadError::Invalid(d)) => {
            eprintln!("{d}");
            eprintln!("nothing was run");
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    let policies = a
        .policies
        .iter()
        .map(|p| Policy::parse(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    for p in &policies {
        let mut probe = sc.clone();
        p.apply(&mut probe)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("--policy {}", p.label))?;
    }
    let seeds = match &a.seeds {
        Some(s) => parse_seeds(s)
            .map_err(anyhow::Error::msg)
            .context("--seeds")?,
        None => vec![sc.seed],
    };
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(format!("{}-compare", sc.name)));
    let opts = ExecOptions {
        jobs: a.jobs.unwrap_or(0),
        until: parse_until(&a.until)?,
        until_text: a.until.clone(),
        base_dir: PathBuf::new(),
        keep_latencies: true,
        results_dir: None,
        check_invariants: false,
    };
    let n = policies.len() * seeds.len();
    let pb = progress::bar(n, a.quiet || a.json, "compare");
    let report = run_compare(&a.file, &a.sets, &policies, &seeds, &opts, &out, &|_| {
        pb.inc(1)
    })?;
    pb.finish_and_clear();
    for f in &report.failures {
        eprintln!("error: {f}");
    }
    let mut plots = Vec::new();
    if !a.no_plot && !report.runs.rows.is_empty() {
        plots = kubesim::plot::compare::draw(&out)
            .with_context(|| format!("drawing the plots in {}", out.display()))?;
    }
    if a.json {
        let doc = serde_json::json!({
            "out": out,
            "runs": report.runs.rows.len(),
            "failures": report.failures.iter().map(|f| serde_json::json!({
                "run": f.def.describe(), "message": f.message, "reproduce": f.reproduce
            })).collect::<Vec<_>>(),
            "summary": progress::table_json(&report.summary),
            "plots": plots,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else if !a.quiet {
        print!("{}", progress::summary_text(&report.summary));
        println!(
            "{} run(s), {} failed; results in {}",
            n,
            report.failures.len(),
            out.display()
        );
    }
    Ok(if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
