//! `kubesim fgd`: the FGD study's experiment (EXPERIMENT.md) on an openb
//! workload: policies × seeds, then the aggregated CSVs, the plots
//! (PNG and SVG, `plot::fgd`) and gnuplot scripts (docs/fgd.md).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use kubesim::fgd::{self, report, Policy, RunOutput, Workload};
use kubesim::trace::{self, Format, ImportOptions};

#[derive(Args)]
pub struct FgdArgs {
    /// An openb workload name (default, cpu050, gpushare40, multigpu20, …)
    /// or a pod-list CSV path.
    #[arg(long, default_value = "default")]
    pub workload: String,
    /// The node list (default: the openb GPU-node list).
    #[arg(long)]
    pub nodes: Option<PathBuf>,
    /// The traces directory (default: $KUBESIM_TRACES, else ../shared/traces).
    #[arg(long)]
    pub traces: Option<PathBuf>,
    /// Comma-separated policies (default: all six).
    #[arg(long, value_delimiter = ',')]
    pub policies: Vec<String>,
    /// Seeds: an inclusive range `42..51` or a list `42,43`.
    #[arg(long, default_value = "42..51")]
    pub seeds: String,
    /// Inflation target as a fraction of GPU capacity.
    #[arg(long, default_value = "1.3")]
    pub tune: String,
    /// Results directory (default: results/fgd-<workload>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Runs in parallel (threads); results do not depend on it.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
}

fn parse_seeds(s: &str) -> anyhow::Result<Vec<u64>> {
    if let Some((a, b)) = s.split_once("..") {
        let a: u64 = a.trim().parse().context("--seeds")?;
        let b: u64 = b.trim().parse().context("--seeds")?;
        if b < a || b - a > 10_000 {
            anyhow::bail!("--seeds: {s:?} is not a range a..b with a ≤ b (inclusive)");
        }
        return Ok((a..=b).collect());
    }
    s.split(',')
        .map(|x| {
            x.trim()
                .parse::<u64>()
                .with_context(|| format!("--seeds: {x:?}"))
        })
        .collect()
}

pub fn fgd(a: FgdArgs) -> anyhow::Result<ExitCode> {
    let traces = a
        .traces
        .clone()
        .or_else(|| std::env::var_os("KUBESIM_TRACES").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("../shared/traces"));
    let openb = traces.join("alibaba-gpu-v2023-openb");
    let nodes = a
        .nodes
        .clone()
        .unwrap_or_else(|| openb.join("openb_node_list_gpu_node.csv"));
    let pods = if a.workload.ends_with(".csv") {
        PathBuf::from(&a.workload)
    } else {
        openb.join(format!("openb_pod_list_{}.csv", a.workload))
    };
    let opts = ImportOptions {
        skip_bad_rows: false,
        with_times: false,
    };
    let n = trace::import(Format::AlibabaGpuV2023, std::slice::from_ref(&nodes), &opts)
        .with_context(|| format!("node list {}", nodes.display()))?;
    let p = trace::import(Format::AlibabaGpuV2023, std::slice::from_ref(&pods), &opts)
        .with_context(|| {
            format!(
                "pod list {} (is --traces or KUBESIM_TRACES right?)",
                pods.display()
            )
        })?;
    let w = Workload {
        nodes: n.nodes,
        pods: p.pods,
    };
    if w.nodes.is_empty() || w.pods.is_empty() {
        anyhow::bail!("the node list or the pod list is empty");
    }
    let policies: Vec<Policy> = if a.policies.is_empty() {
        Policy::ALL.to_vec()
    } else {
        a.policies
            .iter()
            .map(|s| Policy::parse(s).map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<_>>()?
    };
    let seeds = parse_seeds(&a.seeds)?;
    let tune = trace::parse_scaled(&a.tune, 1_000_000)
        .ok()
        .filter(|t| (0..=10_000_000).contains(t))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--tune: expected a number between 0 and 10, found {:?}",
                a.tune
            )
        })? as u64;
    let stem = pods
        .file_stem()
        .map(|s| s.to_string_lossy().replace("openb_pod_list_", ""))
        .unwrap_or_else(|| "workload".into());
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("results/fgd-{stem}")));

    let jobs: Vec<(Policy, u64)> = policies
        .iter()
        .flat_map(|&p| seeds.iter().map(move |&s| (p, s)))
        .collect();
    let mut results: Vec<Option<RunOutput>> = vec![None; jobs.len()];
    let threads = a.jobs.clamp(1, 64);
    eprintln!(
        "fgd: {} nodes, {} pods ({}), {} policies × {} seeds",
        w.nodes.len(),
        w.pods.len(),
        stem,
        policies.len(),
        seeds.len()
    );
    std::thread::scope(|sc| {
        let chunks: Vec<_> = results
            .chunks_mut(jobs.len().div_ceil(threads).max(1))
            .zip(jobs.chunks(jobs.len().div_ceil(threads).max(1)))
            .collect();
        for (res, js) in chunks {
            let w = &w;
            sc.spawn(move || {
                for (slot, &(p, s)) in res.iter_mut().zip(js) {
                    // Wall time is only printed, never part of a result.
                    #[allow(clippy::disallowed_methods)]
                    let t0 = std::time::Instant::now();
                    let r = fgd::run(w, p, s, tune);
                    eprintln!(
                        "  {:<15} seed {s}: {} pods ({} clones), {} placed, {:.2}s",
                        p.name(),
                        r.points.len(),
                        r.clones,
                        r.placed(),
                        t0.elapsed().as_secs_f64()
                    );
                    *slot = Some(r);
                }
            });
        }
    });
    let results: Vec<RunOutput> = results.into_iter().flatten().collect();
    let groups: Vec<report::PolicyRuns> = policies
        .iter()
        .map(|&p| report::PolicyRuns {
            policy: p,
            runs: results.iter().filter(|r| r.policy == p).collect(),
        })
        .collect();
    report::write(&out, &groups)?;
    let plots = kubesim::plot::fgd::draw(&out)?;
    eprintln!(
        "results in {} ({} plot files in plots/)",
        out.display(),
        plots.len()
    );
    // A short table at arrived = 100% (the paper's bar figures).
    println!(
        "{:<15} {:>22} {:>22}",
        "policy", "unalloc% @100 (mean±sd)", "frag ratio% @100"
    );
    for g in &groups {
        let lv: Vec<report::Levels> = g.runs.iter().map(|r| report::levels(r)).collect();
        let u: Vec<f64> = lv.iter().filter_map(|l| l.unalloc[100]).collect();
        let fr: Vec<f64> = lv.iter().filter_map(|l| l.frag_ratio[100]).collect();
        let show = |v: &[f64]| {
            report::stats(v)
                .map(|s| format!("{:.2} ± {:.2}", s.mean, s.sd))
                .unwrap_or_else(|| "-".into())
        };
        println!("{:<15} {:>22} {:>22}", g.policy.name(), show(&u), show(&fr));
    }
    Ok(ExitCode::SUCCESS)
}
