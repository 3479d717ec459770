//! Command-line interface: one function per subcommand; the only place
//! where `anyhow` meets the user.

mod explain;
mod fgd;
mod run;
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
