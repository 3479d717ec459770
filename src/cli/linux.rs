//! `kubesim burn` (hidden: the workload of real containers), `kubesim
//! replay` (a scenario with real processes, Linux backend) and `kubesim
//! compare-real`. On other systems they say what is missing.

use std::process::ExitCode;

use clap::Args;

#[derive(Args)]
pub struct BurnArgs {
    /// CPU demand in millicores.
    #[arg(long, default_value_t = 0)]
    pub cpu_m: u64,
    /// Memory to allocate and touch, in bytes.
    #[arg(long, default_value_t = 0)]
    pub memory_bytes: u64,
    /// Stop after this many milliseconds of wall-clock time.
    #[arg(long)]
    pub duration_ms: Option<u64>,
    /// Stop after this many milliseconds of CPU time.
    #[arg(long)]
    pub cpu_work_ms: Option<u64>,
    /// Exit code at the end.
    #[arg(long, default_value_t = 0)]
    pub exit_code: i32,
}

#[cfg(target_os = "linux")]
pub fn burn(a: BurnArgs) -> anyhow::Result<ExitCode> {
    use kubesim::linux::burn::{burn, BurnSpec};
    use std::time::Duration;
    let code = burn(&BurnSpec {
        cpu_m: a.cpu_m,
        memory_bytes: a.memory_bytes,
        duration: a.duration_ms.map(Duration::from_millis),
        cpu_work: a.cpu_work_ms.map(Duration::from_millis),
        exit_code: a.exit_code,
        period: None,
    });
    std::process::exit(code)
}

#[cfg(not(target_os = "linux"))]
pub fn burn(_: BurnArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("{}", not_linux())
}

#[cfg(not(target_os = "linux"))]
fn not_linux() -> String {
    format!(
        "the Linux backend needs Linux (namespaces and cgroups); this is {}",
        std::env::consts::OS
    )
}
