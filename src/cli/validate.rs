//! `kubesim validate FILE`: report every problem, exit non-zero on errors.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use kubesim::scenario::{load_file, LoadError, LoadOptions};

#[derive(Args)]
pub struct ValidateArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// Treat warnings (fields kubesim does not use) as errors.
    #[arg(long)]
    pub strict: bool,
}

pub fn validate(a: ValidateArgs) -> anyhow::Result<ExitCode> {
    match load_file(&a.file, LoadOptions { strict: a.strict }) {
        Ok(sc) => {
            for w in &sc.warnings.0 {
                eprintln!("{w}");
            }
            println!(
                "{}: valid ({} node pool(s), {} object(s), {} timeline action(s), {} warning(s))",
                a.file.display(),
                sc.node_pools.len(),
                sc.objects.len(),
                sc.timeline.len(),
                sc.warnings.0.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(LoadError::Invalid(d)) => {
            eprintln!("{d}");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}
