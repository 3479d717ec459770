//! `kubesim plot DIR`: every plot that applies to a run's results (or to a
//! comparison's tables), as PNG and SVG in DIR/plots/.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

#[derive(Args)]
pub struct PlotArgs {
    /// A run's results directory, or a compare/sweep output directory.
    pub dir: PathBuf,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn plot(a: PlotArgs) -> anyhow::Result<ExitCode> {
    let mut files = Vec::new();
    if a.dir.join("cdf.csv").exists() || a.dir.join("summary.csv").exists() {
        files.extend(kubesim::plot::compare::draw(&a.dir)?);
    }
    if a.dir.join("timeseries.csv").exists() {
        files.extend(kubesim::plot::run::draw(&a.dir)?);
    }
    if files.is_empty() {
        anyhow::bail!(
            "{}: no results to plot (expected a run's timeseries.csv or a comparison's summary.csv)",
            a.dir.display()
        );
    }
    if !a.quiet {
        for f in &files {
            println!("{}", f.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
