//! Command-line interface: one function per subcommand; the only place
//! where `anyhow` meets the user.

mod compare;
mod explain;
mod fgd;
mod linux;
mod plot;
mod progress;
mod run;
mod sweep;
mod trace;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "kubesim",
    version,
    about = "A deterministic discrete-event simulator of a Kubernetes cluster"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and write its results.
    Run(run::RunArgs),
    /// Check a scenario file and report every problem.
    Validate(validate::ValidateArgs),
    /// Explain a pod's scheduling attempt: each node's verdict and scores.
    Explain(explain::ExplainArgs),
    /// The built-in workload of the Linux backend's containers.
    #[command(hide = true)]
    Burn(linux::BurnArgs),
    /// Run a scenario with real processes in namespaces and cgroups (Linux).
    Replay(linux::ReplayArgs),
    /// Compare a simulated run with its real replay, per container.
    CompareReal(linux::CompareArgs),
    /// Run a scenario under several policies and seeds; table with 95% CIs.
    Compare(compare::CompareArgs),
    /// Run a grid of scenarios × overrides × policies × seeds (or one shard of it).
    Sweep(sweep::SweepArgs),
    /// Merge the shards of a sweep into one runs.csv and summary.csv.
    Merge(sweep::MergeArgs),
    /// Draw every plot that applies to a run's (or a comparison's) results.
    Plot(plot::PlotArgs),
    /// Import traces (docs/traces.md).
    Trace(trace::TraceArgs),
    /// Reproduce the FGD study on an openb workload (docs/fgd.md).
    Fgd(fgd::FgdArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.command {
        Command::Run(a) => run::run(a),
        Command::Validate(a) => validate::validate(a),
        Command::Explain(a) => explain::explain(a),
        Command::Burn(a) => linux::burn(a),
        Command::Replay(a) => linux::replay(a),
        Command::CompareReal(a) => linux::compare_real(a),
        Command::Compare(a) => compare::compare(a),
        Command::Sweep(a) => sweep::sweep(a),
        Command::Merge(a) => sweep::merge(a),
        Command::Plot(a) => plot::plot(a),
        Command::Trace(a) => trace::trace(a),
        Command::Fgd(a) => fgd::fgd(a),
    };
    match r {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
