//! `kubesim explain FILE --pod NS/NAME [--at T] [--format table|json]`:
//! why the scheduler put a pod where it did (or nowhere).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use kubesim::engine::{Duration, SimTime};
use kubesim::runner::{run_in_memory, RunSpec};
use kubesim::scenario::{load_file, LoadError, LoadOptions};
use kubesim::scheduler::Explanation;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Args)]
pub struct ExplainArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// The pod, as NAMESPACE/NAME (or NAME in `default`).
    #[arg(long)]
    pub pod: String,
    /// Explain the last attempt at or before this simulated time
    /// (default: the pod's last attempt).
    #[arg(long)]
    pub at: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Seed (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
}

pub fn explain(a: ExplainArgs) -> anyhow::Result<ExitCode> {
    let sc = match load_file(&a.file, LoadOptions::default()) {
        Ok(sc) => sc,
        Err(LoadError::Invalid(d)) => {
            eprintln!("{d}");
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    let key = if a.pod.contains('/') {
        a.pod.clone()
    } else {
        format!("default/{}", a.pod)
    };
    let at = match &a.at {
        Some(t) => Some(
            SimTime::ZERO.after(
                Duration::parse(t)
                    .map_err(anyhow::Error::msg)
                    .context("--at")?,
            ),
        ),
        None => None,
    };
    let spec = RunSpec {
        seed: a.seed,
        until: None,
        check_invariants: false,
        check_determinism: false,
        explain: true,
    };
    let r = run_in_memory(sc, &spec).context("running the scenario")?;
    let attempts: Vec<&Explanation> = r.explanations.iter().filter(|e| e.pod == key).collect();
    if attempts.is_empty() {
        let exists = r.pods.iter().any(|p| p.meta.key() == key);
        anyhow::bail!(if exists {
            format!("pod {key} was never scheduled by kubesim's scheduler (bound by nodeName, or no profile serves its schedulerName)")
        } else {
            format!("no pod {key} in this scenario")
        });
    }
    let chosen = match at {
        Some(t) => attempts
            .iter()
            .rev()
            .find(|e| e.at_us <= t.as_micros())
            .copied()
            .with_context(|| format!("pod {key} had no scheduling attempt at or before {t}"))?,
        None => attempts[attempts.len() - 1],
    };
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(chosen)?),
        Format::Table => print!("{}", table(chosen, attempts.len())),
    }
    Ok(ExitCode::SUCCESS)
}

fn table(e: &Explanation, n_attempts: usize) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "pod {} — attempt {} of {} at {} (profile {})\n",
        e.pod,
        e.attempt,
        n_attempts,
        Duration::from_micros(e.at_us),
        e.profile
    ));
    if let Some(p) = &e.prefilter {
        out.push_str(&format!(
            "PreFilter {} rejected the pod: {}\n",
            p.plugin,
            p.reasons.join(", ")
        ));
    }
    let plugins: Vec<String> = {
        let mut v: Vec<String> = Vec::new();
        for n in &e.nodes {
            for s in &n.scores {
                if !v.contains(&s.plugin) {
                    v.push(s.plugin.clone());
                }
            }
        }
        v
    };
    let mut header = format!("{:<24} {:<10}", "NODE", "VERDICT");
    for p in &plugins {
        header.push_str(&format!(" {:>18}", short(p)));
    }
    header.push_str(&format!(" {:>7}\n", "TOTAL"));
    out.push_str(&header);
    for n in &e.nodes {
        let mark = if e.chosen.as_deref() == Some(n.node.as_str()) {
            "*"
        } else {
            " "
        };
        let verdict = if n.feasible {
            "feasible".to_string()
        } else {
            "rejected".to_string()
        };
        let mut line = format!("{mark}{:<23} {:<10}", n.node, verdict);
        if let Some(r) = &n.rejected_by {
            line.push_str(&format!(" {}: {}", r.plugin, r.reasons.join(", ")));
        } else {
            for p in &plugins {
                match n.scores.iter().find(|s| &s.plugin == p) {
                    Some(s) => line.push_str(&format!(
                        " {:>18}",
                        format!("{}→{}×{}={}", s.raw, s.normalized, s.weight, s.weighted)
                    )),
                    None => line.push_str(&format!(" {:>18}", "-")),
                }
            }
            line.push_str(&format!(
                " {:>7}",
                n.total.map(|t| t.to_string()).unwrap_or_default()
            ));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str(&format!(
        "evaluated {} node(s), {} feasible; scores are raw→normalized×weight=weighted\n",
        e.nodes_evaluated, e.feasible_nodes
    ));
    match (&e.chosen, &e.message) {
        (Some(n), _) => out.push_str(&format!("chosen: {n}\n")),
        (None, Some(m)) => out.push_str(&format!("unschedulable: {m}\n")),
        _ => {}
    }
    if let Some(n) = &e.nominated {
        out.push_str(&format!(
            "preemption: nominated {n}, victims: {}\n",
            e.victims.join(", ")
        ));
    }
    out
}

fn short(p: &str) -> String {
    match p {
        "NodeResourcesBalancedAllocation" => "BalancedAlloc".into(),
        "NodeResourcesFit" => "ResourcesFit".into(),
        "PodTopologySpread" => "TopologySpread".into(),
        other => other.chars().take(18).collect(),
    }
}
