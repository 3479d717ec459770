//! `kubesim burn` (hidden: the workload of real containers), `kubesim
//! replay` (a scenario with real processes, Linux backend) and `kubesim
//! compare-real`. On other systems they say what is missing.

use std::process::ExitCode;

use clap::Args;

#[derive(Args)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
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
    /// Time-varying CPU demand: `ms:millicores,...` (replaces --cpu-m).
    #[arg(long)]
    pub cpu_steps: Option<String>,
    /// Time-varying memory: `ms:bytes,...` (replaces --memory-bytes).
    #[arg(long)]
    pub memory_steps: Option<String>,
}

#[cfg(target_os = "linux")]
pub fn burn(a: BurnArgs) -> anyhow::Result<ExitCode> {
    use kubesim::linux::burn::{burn, parse_steps, BurnSpec};
    use std::time::Duration;
    let steps = |s: &Option<String>, what: &str| -> anyhow::Result<Vec<(Duration, u64)>> {
        match s {
            Some(s) => parse_steps(s).map_err(|e| anyhow::anyhow!("--{what}: {e}")),
            None => Ok(Vec::new()),
        }
    };
    let cpu_steps = steps(&a.cpu_steps, "cpu-steps")?;
    let memory_steps = steps(&a.memory_steps, "memory-steps")?;
    let code = burn(&BurnSpec {
        cpu_steps,
        memory_steps,
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

#[derive(Args)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub struct ReplayArgs {
    /// The scenario file (not needed with --cleanup).
    #[arg(required_unless_present = "cleanup")]
    pub file: Option<std::path::PathBuf>,
    /// The backend that runs the containers (only `linux`).
    #[arg(long, default_value = "linux")]
    pub backend: String,
    /// Scenario seconds per wall-clock second.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Results directory (default: results/<scenario name>-real/); the
    /// simulated run goes to DIR/sim, the real one to DIR/real.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// Stop at this scenario time (e.g. 30s).
    #[arg(long)]
    pub until: Option<String>,
    /// Cap on the run's memory, as a fraction of the host's.
    #[arg(long, default_value_t = 0.5)]
    pub memory_fraction: f64,
    /// cpu.shares of the run against the host's other work (v1 units,
    /// 2-262144). The default, the largest, lets the emulated nodes get
    /// their capacity on a busy host; their quotas still cap them.
    #[arg(long, default_value_t = 262_144)]
    pub host_weight: u64,
    /// Remove the cgroups (and kill the processes) that killed runs left behind.
    #[arg(long)]
    pub cleanup: bool,
}

#[derive(Args)]
pub struct CompareArgs {
    /// The simulated run's results directory.
    pub sim: std::path::PathBuf,
    /// The real run's results directory (comparison.csv is written there).
    pub real: std::path::PathBuf,
}

#[cfg(target_os = "linux")]
pub fn replay(a: ReplayArgs) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    use kubesim::linux::guard::{cleanup, install_interrupt_handler, SessionOptions};
    use kubesim::linux::replay::{replay, ReplayOptions};
    if a.cleanup {
        let rep = cleanup()?;
        for p in &rep.removed {
            println!("removed {}", p.display());
        }
        for p in &rep.kept_live {
            println!("kept {} (its kubesim process is alive)", p.display());
        }
        for e in &rep.errors {
            eprintln!("error: {e}");
        }
        if rep.removed.is_empty() && rep.errors.is_empty() {
            println!("nothing to clean up");
        }
        return Ok(if rep.errors.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    if a.backend != "linux" {
        anyhow::bail!("unknown backend {:?} (only `linux`)", a.backend);
    }
    if !(a.memory_fraction > 0.0 && a.memory_fraction <= 1.0) {
        anyhow::bail!("--memory-fraction must be in (0, 1]");
    }
    let Some(file) = a.file else {
        anyhow::bail!("a scenario file is needed");
    };
    let sc = match kubesim::scenario::load_file(&file, Default::default()) {
        Ok(sc) => sc,
        Err(kubesim::scenario::LoadError::Invalid(d)) => {
            eprintln!("{d}");
            eprintln!("nothing was run");
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    let until = match &a.until {
        Some(u) => Some(
            kubesim::engine::Duration::parse(u)
                .map_err(anyhow::Error::msg)
                .context("--until")?,
        ),
        None => None,
    };
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("results").join(format!("{}-real", sc.name)));
    install_interrupt_handler();
    let opts = ReplayOptions {
        speed: a.speed,
        out: out.clone(),
        burn_exe: std::env::current_exe().context("locating the kubesim binary")?,
        session: SessionOptions {
            memory_permille: (a.memory_fraction * 1000.0).round() as u64,
            cpu_shares: Some(a.host_weight),
            ..Default::default()
        },
        until,
    };
    let rep = replay(sc, &opts).with_context(|| format!("replaying {}", file.display()))?;
    println!("  backend                {}", rep.layout);
    println!(
        "  nodes / containers     {} / {}",
        rep.nodes, rep.containers
    );
    println!("  wall time              {:.1}s", rep.wall.as_secs_f64());
    println!(
        "  max lag                {} (events behind the wall clock)",
        rep.max_lag
    );
    println!("  simulated results      {}", rep.sim_dir.display());
    println!("  real results           {}", rep.real_dir.display());
    let rows = kubesim::realcmp::compare(&rep.sim_dir, &rep.real_dir)?;
    kubesim::realcmp::write_csv(&rows, &rep.real_dir.join("comparison.csv"))?;
    print!("{}", kubesim::realcmp::table(&rows));
    overlays(&rep.sim_dir, &rep.real_dir)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(target_os = "linux"))]
pub fn replay(_: ReplayArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("{}", not_linux())
}

pub fn compare_real(a: CompareArgs) -> anyhow::Result<ExitCode> {
    let rows = kubesim::realcmp::compare(&a.sim, &a.real)?;
    kubesim::realcmp::write_csv(&rows, &a.real.join("comparison.csv"))?;
    print!("{}", kubesim::realcmp::table(&rows));
    overlays(&a.sim, &a.real)?;
    Ok(ExitCode::SUCCESS)
}

/// Sim-versus-real overlay plots per container in REAL/plots/.
fn overlays(sim: &std::path::Path, real: &std::path::Path) -> anyhow::Result<()> {
    let out = real.join("plots");
    let files = kubesim::plot::realcmp::draw_overlays(sim, real, &out)?;
    if !files.is_empty() {
        println!(
            "  overlay plots          {} ({} files)",
            out.display(),
            files.len()
        );
    }
    Ok(())
}
