//! `kubesim sweep SWEEP.yaml [--shard I/N]` and `kubesim merge DIR…`:
//! grids of scenarios × overrides × policies × seeds, split into shards
//! for batch systems, resumable, merged back into one table.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use kubesim::experiment::sweep::{self, resolve_shard};
use kubesim::experiment::ExecOptions;

use super::progress;

#[derive(Args)]
pub struct SweepArgs {
    /// The sweep file (docs/experiments.md).
    pub file: PathBuf,
    /// Run only shard I of N (0-based): the runs whose index mod N is I.
    /// Without it, JOB_COMPLETION_INDEX (with --shards) or
    /// SLURM_ARRAY_TASK_ID/MIN/COUNT choose the shard.
    #[arg(long)]
    pub shard: Option<String>,
    /// Number of shards, with JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID.
    #[arg(long)]
    pub shards: Option<usize>,
    /// Parallel runs (default: one per core). Results do not depend on it.
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Output directory (default: results/<sweep file name>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write every run's full results (events, pods, …) into runs/<id>/.
    #[arg(long)]
    pub full: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the outcome as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

pub fn sweep(a: SweepArgs) -> anyhow::Result<ExitCode> {
    let sw = sweep::load(&a.file)?;
    let env = |k: &str| std::env::var(k).ok();
    let shard = resolve_shard(a.shard.as_deref(), a.shards, &env).map_err(anyhow::Error::msg)?;
    let out = a.out.clone().unwrap_or_else(|| {
        PathBuf::from("results").join(
            a.file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "sweep".into()),
        )
    });
    let opts = ExecOptions {
        jobs: a.jobs.unwrap_or(0),
        until: None,
        until_text: None,
        base_dir: sw.base_dir.clone(),
        keep_latencies: false,
        results_dir: None,
        check_invariants: false,
    };
    let pb = std::sync::Mutex::new(None::<indicatif::ProgressBar>);
    let quiet = a.quiet || a.json;
    let report = sweep::run(
        &sw,
        &out,
        shard,
        opts,
        a.full,
        &|n| {
            if let Ok(mut g) = pb.lock() {
                *g = Some(progress::bar(n, quiet, "sweep"));
            }
        },
        &|_| {
            if let Ok(g) = pb.lock() {
                if let Some(b) = g.as_ref() {
                    b.inc(1);
                }
            }
        },
    )?;
    if let Ok(g) = pb.lock() {
        if let Some(b) = g.as_ref() {
            b.finish_and_clear();
        }
    }
    for f in &report.failures {
        eprintln!("error: {f}");
    }
    let what = match shard {
        Some(s) => format!("shard {}/{}", s.index, s.count),
        None => "sweep".to_string(),
    };
    if a.json {
        let doc = serde_json::json!({
            "shard": shard.map(|s| format!("{}/{}", s.index, s.count)),
            "planned": report.planned,
            "ran": report.ran,
            "skipped": report.skipped,
            "failures": report.failures.iter().map(|f| serde_json::json!({
                "run": f.def.describe(), "message": f.message, "reproduce": f.reproduce
            })).collect::<Vec<_>>(),
            "written": report.written,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else if !a.quiet {
        if shard.is_none() {
            if let Ok(s) = kubesim::experiment::table::summary_table(&report.runs) {
                print!("{}", progress::summary_text(&s));
            }
        }
        println!(
            "{what}: {} run(s) planned, {} ran, {} already done (skipped), {} failed; wrote {}",
            report.planned,
            report.ran,
            report.skipped,
            report.failures.len(),
            report
                .written
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[derive(Args)]
pub struct MergeArgs {
    /// Directories holding shard outputs (shard-*-of-*.csv/.json).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write runs.csv and summary.csv (default: the first DIR).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the summary as JSON on stdout (for scripts).
    #[arg(long)]
    pub json: bool,
}

pub fn merge(a: MergeArgs) -> anyhow::Result<ExitCode> {
    let (runs, summary) = kubesim::experiment::merge::merge(&a.dirs)?;
    let out = a.out.clone().unwrap_or_else(|| a.dirs[0].clone());
    std::fs::create_dir_all(&out)?;
    runs.write(&out.join("runs.csv"))?;
    summary.write(&out.join("summary.csv"))?;
    if a.json {
        let doc = serde_json::json!({
            "runs": runs.rows.len(),
            "out": out,
            "summary": progress::table_json(&summary),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else if !a.quiet {
        print!("{}", progress::summary_text(&summary));
        println!(
            "merged {} run(s) into {} and {}",
            runs.rows.len(),
            out.join("runs.csv").display(),
            out.join("summary.csv").display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
