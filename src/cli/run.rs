//! `kubesim run FILE`: validate, simulate, write results, print a summary.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use kubesim::engine::{Duration, SimTime};
use kubesim::runner::{run_to_dir_with_progress, RunSpec};
use kubesim::scenario::{load_file, LoadError, LoadOptions};

#[derive(Args)]
pub struct RunArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// Seed of every random stream (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Results directory (default: results/<scenario name>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Stop at this simulated time (e.g. 10m, 1h30m).
    #[arg(long)]
    pub until: Option<String>,
    /// Treat warnings (fields kubesim does not use) as errors.
    #[arg(long)]
    pub strict: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Check invariants after every event (slower).
    #[arg(long)]
    pub check_invariants: bool,
    /// Record every scheduling decision in explain.jsonl.
    #[arg(long)]
    pub explain: bool,
    /// Override a scenario field, `[Kind/name:]path=value` (repeat); see
    /// docs/experiments.md.
    #[arg(long = "set")]
    pub sets: Vec<String>,
    /// Run under this policy instead of the scenario's: a scheduling
    /// policy, a profile name, or parts joined by `+` (docs/experiments.md).
    #[arg(long)]
    pub policy: Option<String>,
    /// Draw the plots (PNG and SVG) into DIR/plots/.
    #[arg(long)]
    pub plot: bool,
    /// Print summary.json on stdout instead of the table (for scripts).
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: RunArgs) -> anyhow::Result<ExitCode> {
    let sets = a
        .sets
        .iter()
        .map(|s| kubesim::scenario::set::SetOverride::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let loaded = if sets.is_empty() {
        load_file(&a.file, LoadOptions { strict: a.strict })
    } else {
        kubesim::scenario::load_file_with(&a.file, LoadOptions { strict: a.strict }, &sets)
    };
    let mut sc = match loaded {
        Ok(sc) => sc,
        Err(LoadError::Invalid(d)) => {
            eprintln!("{d}");
            eprintln!("nothing was run");
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(p) = &a.policy {
        kubesim::experiment::Policy::parse(p)
            .and_then(|pol| pol.apply(&mut sc))
            .map_err(anyhow::Error::msg)
            .context("--policy")?;
    }
    if !a.quiet {
        for w in &sc.warnings.0 {
            eprintln!("{w}");
        }
    }
    let until = match &a.until {
        Some(u) => Some(
            SimTime::ZERO.after(
                Duration::parse(u)
                    .map_err(anyhow::Error::msg)
                    .context("--until")?,
            ),
        ),
        None => None,
    };
    let check_determinism = std::env::var("KUBESIM_CHECK_DETERMINISM").is_ok_and(|v| v == "1");
    let spec = RunSpec {
        seed: a.seed,
        until,
        check_invariants: a.check_invariants || cfg!(debug_assertions),
        check_determinism,
        explain: a.explain,
    };
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&sc.name));
    let pb = super::progress::spinner(a.quiet || a.json, &format!("simulating {}", sc.name));
    let name = sc.name.clone();
    let ran = run_to_dir_with_progress(sc, &spec, &dir, &mut |p| {
        pb.set_message(super::progress::run_message(&name, p))
    });
    pb.finish_and_clear();
    let (_, summary) = ran.with_context(|| format!("running {}", a.file.display()))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else if !a.quiet {
        println!("{summary}");
        if check_determinism {
            println!("  determinism check      passed (two runs, identical event logs)");
        }
        println!("  results                {}", dir.display());
    }
    if a.plot {
        let plots = kubesim::plot::run::draw(&dir)
            .with_context(|| format!("drawing the plots of {}", dir.display()))?;
        if !a.quiet && !a.json {
            println!(
                "  plots                  {} file(s) in {}",
                plots.len(),
                dir.join("plots").display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
