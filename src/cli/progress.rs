//! What experiments print: progress bars (only when stderr is a terminal
//! and not `--quiet`), the comparison table, and `--json` documents.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use kubesim::experiment::table::Table;

/// A progress bar over `n` runs, hidden unless stderr is a terminal.
pub fn bar(n: usize, quiet: bool, what: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() || n == 0 {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(n as u64);
    if let Ok(st) = ProgressStyle::with_template(
        "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} runs (eta {eta})",
    ) {
        pb.set_style(st);
    }
    pb.set_prefix(what.to_string());
    pb
}

/// A spinner while one run simulates (terminal stderr only, not quiet).
pub fn spinner(quiet: bool, what: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    if let Ok(st) = ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}]") {
        pb.set_style(st);
    }
    pb.set_message(what.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

/// The spinner's message for a run: simulated time so far (of the end,
/// when the run has one) and events processed.
pub fn run_message(name: &str, p: kubesim::cluster::Progress) -> String {
    let now = p.now.since(kubesim::engine::SimTime::ZERO);
    match p.end {
        Some(end) => format!(
            "simulating {name}: {now} of {} simulated, {} events",
            end.since(kubesim::engine::SimTime::ZERO),
            p.events
        ),
        None => format!("simulating {name}: {now} simulated, {} events", p.events),
    }
}

/// The metrics the printed table shows (all are in summary.csv).
pub const TABLE_METRICS: [(&str, &str, Unit); 8] = [
    ("scheduling_latency.p50_us", "sched p50", Unit::Us),
    ("scheduling_latency.p99_us", "sched p99", Unit::Us),
    ("startup_latency.p99_us", "start-up p99", Unit::Us),
    ("makespan_us", "makespan", Unit::Us),
    ("utilization.cpu_requested_ppm", "CPU req. util", Unit::Ppm),
    ("stranding.cpu_ppm", "CPU stranded", Unit::Ppm),
    ("pods.never_scheduled", "unscheduled", Unit::Count),
    ("preemptions", "preemptions", Unit::Count),
];

#[derive(Clone, Copy)]
pub enum Unit {
    Us,
    Ppm,
    Count,
}

fn show(x: f64, u: Unit) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    match u {
        Unit::Us => {
            let a = x.abs();
            if a >= 3.6e9 {
                format!("{:.2}h", x / 3.6e9)
            } else if a >= 6e7 {
                format!("{:.2}m", x / 6e7)
            } else if a >= 1e6 {
                format!("{:.2}s", x / 1e6)
            } else if a >= 1e3 {
                format!("{:.2}ms", x / 1e3)
            } else {
                format!("{x:.0}µs")
            }
        }
        Unit::Ppm => format!("{:.1}%", x / 1e4),
        Unit::Count => format!("{x:.1}"),
    }
}

/// The comparison table: one row per group, `mean ± CI half-width` for
/// the main metrics.
pub fn summary_text(summary: &Table) -> String {
    let col = |n: &str| summary.col(n);
    let (Some(cs), Some(co), Some(cp), Some(cm), Some(cn), Some(cmean), Some(chi)) = (
        col("scenario"),
        col("overrides"),
        col("policy"),
        col("metric"),
        col("n"),
        col("mean"),
        col("ci95_hi"),
    ) else {
        return String::new();
    };
    let mut groups: Vec<(String, String)> = Vec::new();
    let scenarios: std::collections::BTreeSet<&str> =
        summary.rows.iter().map(|r| r[cs].as_str()).collect();
    for r in &summary.rows {
        let label = if scenarios.len() > 1 {
            format!("{} {}", r[cs], r[co])
        } else {
            r[co].clone()
        };
        let g = (label.trim().to_string(), r[cp].clone());
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    let show_variant = groups.iter().any(|(v, _)| !v.is_empty());
    let mut out = String::new();
    let mut head = String::new();
    if show_variant {
        head.push_str(&format!("{:<32} ", "variant"));
    }
    head.push_str(&format!("{:<22} {:>4}", "policy", "n"));
    for (_, h, _) in TABLE_METRICS {
        head.push_str(&format!(" {h:>22}"));
    }
    out.push_str(head.trim_end());
    out.push('\n');
    for (v, p) in &groups {
        let mut line = String::new();
        if show_variant {
            line.push_str(&format!("{:<32} ", v));
        }
        let rows: Vec<&Vec<String>> = summary
            .rows
            .iter()
            .filter(|r| {
                let label = if scenarios.len() > 1 {
                    format!("{} {}", r[cs], r[co])
                } else {
                    r[co].clone()
                };
                label.trim() == v && &r[cp] == p
            })
            .collect();
        let n = rows.first().map(|r| r[cn].clone()).unwrap_or_default();
        line.push_str(&format!("{:<22} {:>4}", p, n));
        for (m, _, unit) in TABLE_METRICS {
            let cell = match rows.iter().find(|r| r[cm] == m) {
                Some(r) => {
                    let mean: f64 = r[cmean].parse().unwrap_or(f64::NAN);
                    let hi: f64 = r[chi].parse().unwrap_or(f64::NAN);
                    if hi.is_finite() && hi > mean {
                        format!("{} ± {}", show(mean, unit), show(hi - mean, unit))
                    } else {
                        show(mean, unit)
                    }
                }
                None => "-".into(),
            };
            line.push_str(&format!(" {cell:>22}"));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str("mean ± half-width of the 95% confidence interval (Student's t); every metric: summary.csv\n");
    out
}

/// summary.csv as JSON objects (numbers where the cell is a number).
pub fn table_json(t: &Table) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = t
        .rows
        .iter()
        .map(|r| {
            let mut m = serde_json::Map::new();
            for (h, c) in t.header.iter().zip(r) {
                let v = match c.parse::<f64>() {
                    Ok(x)
                        if x.is_finite()
                            && !matches!(
                                h.as_str(),
                                "scenario" | "overrides" | "policy" | "metric" | "event_digest"
                            ) =>
                    {
                        serde_json::Number::from_f64(x)
                            .map(serde_json::Value::Number)
                            .unwrap_or(serde_json::Value::Null)
                    }
                    _ if c.is_empty() => serde_json::Value::Null,
                    _ => serde_json::Value::String(c.clone()),
                };
                m.insert(h.clone(), v);
            }
            serde_json::Value::Object(m)
        })
        .collect();
    serde_json::Value::Array(rows)
}
