//! `kubesim trace import --format FORMAT INPUT… [-o FILE | --out DIR]`:
//! turns a trace into one scenario file (Kubernetes manifests plus a
//! Scenario with the later arrivals on its timeline).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use kubesim::scenario::{is_dns_subdomain, load_file, LoadOptions};
use kubesim::trace::replay::{self, ReplayOptions, PPM};
use kubesim::trace::{self, Format, ImportOptions};

#[derive(Args)]
pub struct TraceArgs {
    #[command(subcommand)]
    pub cmd: TraceCmd,
}

#[derive(Subcommand)]
pub enum TraceCmd {
    /// Import a trace as a scenario file.
    Import(ImportArgs),
}

#[derive(Args)]
pub struct ImportArgs {
    /// alibaba-gpu-v2023, alibaba-v2017, alibaba-gpu-v2025-dlrm,
    /// alibaba-pai-machines or generic (docs/traces.md).
    #[arg(long)]
    pub format: String,
    /// The trace files (for openb: the node list and a pod list).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The scenario file to write.
    #[arg(short = 'o', long = "output", conflicts_with = "out")]
    pub output: Option<PathBuf>,
    /// Write DIR/scenario.yaml instead.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The scenario's name (default: the format's name).
    #[arg(long)]
    pub name: Option<String>,
    /// The scenario's seed (also seeds sampling and load factor draws).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Skip malformed rows (counted) instead of failing on the first.
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// Ignore the trace's times: every pod arrives at 0 and never ends.
    #[arg(long)]
    pub no_times: bool,
    /// Keep each pod with this probability (0 < f ≤ 1).
    #[arg(long)]
    pub sample: Option<String>,
    /// Each pod stands for this many copies (e.g. 1.5).
    #[arg(long)]
    pub load_factor: Option<String>,
    /// Divide arrival and run times by this factor.
    #[arg(long)]
    pub time_compression: Option<String>,
    /// A Philly-style runtime file: durations for pods without one.
    #[arg(long)]
    pub durations: Option<PathBuf>,
}

fn ppm(v: &Option<String>, what: &str, max: u64) -> anyhow::Result<u64> {
    let Some(s) = v else { return Ok(PPM) };
    let x = trace::parse_scaled(s, i128::from(PPM))
        .map_err(anyhow::Error::msg)
        .context(what.to_string())?;
    if x <= 0 || x as u64 > max {
        anyhow::bail!(
            "{what}: must be greater than 0 and at most {}, found {s:?}",
            max / PPM
        );
    }
    Ok(x as u64)
}

pub fn trace(a: TraceArgs) -> anyhow::Result<ExitCode> {
    match a.cmd {
        TraceCmd::Import(i) => import(i),
    }
}

fn import(a: ImportArgs) -> anyhow::Result<ExitCode> {
    let format = Format::parse(&a.format).map_err(anyhow::Error::msg)?;
    let iopts = ImportOptions {
        skip_bad_rows: a.skip_bad_rows,
        with_times: !a.no_times,
    };
    let t = trace::import(format, &a.inputs, &iopts)?;
    let mut opts = ReplayOptions {
        load_factor_ppm: ppm(&a.load_factor, "--load-factor", 1000 * PPM)?,
        time_compression_ppm: ppm(&a.time_compression, "--time-compression", 1000 * PPM)?,
        sample_fraction_ppm: ppm(&a.sample, "--sample", PPM)?,
        seed: a.seed,
        durations: None,
    };
    if let Some(d) = &a.durations {
        opts.durations = Some(trace::philly::import(d, &iopts)?.0);
    }
    let name = a.name.clone().unwrap_or_else(|| format.name().to_string());
    if !is_dns_subdomain(&name) {
        anyhow::bail!("--name: {name:?} is not a valid name (RFC 1123 subdomain)");
    }
    let defaults = kubesim::model::pod::PodBehavior {
        startup: kubesim::engine::Duration::from_secs(1),
        run: None,
        exit_code: 0,
        shutdown: kubesim::engine::Duration::ZERO,
        ..Default::default()
    };
    let ex = replay::expand(&t, &opts, &defaults);
    let text = trace::yaml::scenario_yaml(&name, a.seed, &t, &ex);
    let path = match (&a.output, &a.out) {
        (Some(p), _) => p.clone(),
        (None, Some(d)) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            d.join("scenario.yaml")
        }
        (None, None) => anyhow::bail!("give -o FILE or --out DIR"),
    };
    kubesim::output::write_atomic(&path, |w| w.write_all(text.as_bytes()))?;
    eprintln!(
        "{}: {} nodes, {} pods ({} rows read, {} skipped)",
        path.display(),
        ex.nodes.len(),
        ex.pods.len(),
        t.stats.rows,
        t.stats.skipped
    );
    for e in &t.stats.errors {
        eprintln!("  skipped: {e}");
    }
    for (k, v) in &t.stats.ignored {
        eprintln!("  ignored: {v} × {k}");
    }
    // The file must load: check it now rather than at the user's first run.
    if let Err(e) = load_file(&path, LoadOptions::default()) {
        eprintln!("error: the written scenario does not load: {e}");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
