//! The experiment tables: `runs.csv` (one row per run: its key columns,
//! event digest and every integer metric of its summary) and
//! `summary.csv` (per group and metric: n, mean, sd, 95% CI, median),
//! plus reading them back (for `merge` and `plot`).

use std::path::Path;

use super::plan::RunDef;
use super::stats;
use super::ExperimentError;
use crate::output::{write_atomic, OutputError, Summary};

/// Key columns of `runs.csv`, before the metrics.
pub const KEY_COLUMNS: [&str; 6] = [
    "run_index",
    "scenario",
    "overrides",
    "policy",
    "seed",
    "event_digest",
];

/// The integer metrics of a summary as `(column, value)`, sorted by
/// column: every numeric field of `summary.json`, nested names joined with
/// `.` (`scheduling_latency.p99_us`). The seed is a key column.
pub fn metrics_of(s: &Summary) -> Vec<(String, i64)> {
    let v = serde_json::to_value(s).unwrap_or(serde_json::Value::Null);
    let mut out = Vec::new();
    flatten("", &v, &mut out);
    out.retain(|(k, _)| k != "seed");
    out.sort();
    out
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, i64)>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, x, out);
            }
        }
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push((prefix.to_string(), i));
            } else if let Some(u) = n.as_u64() {
                out.push((prefix.to_string(), i64::try_from(u).unwrap_or(i64::MAX)));
            }
        }
        serde_json::Value::Bool(b) => out.push((prefix.to_string(), i64::from(*b))),
        _ => {}
    }
}

/// A CSV table held as text cells.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(&self.header);
        for r in &self.rows {
            let _ = w.write_record(r);
        }
        w.into_inner().unwrap_or_default()
    }

    pub fn write(&self, path: &Path) -> Result<(), OutputError> {
        let b = self.to_bytes();
        write_atomic(path, |w| std::io::Write::write_all(w, &b))
    }

    pub fn read(path: &Path) -> Result<Table, ExperimentError> {
        let bytes = std::fs::read(path).map_err(|source| ExperimentError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Table::parse(&bytes).map_err(|message| ExperimentError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    pub fn parse(bytes: &[u8]) -> Result<Table, String> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(bytes);
        let header: Vec<String> = r
            .headers()
            .map_err(|e| e.to_string())?
            .iter()
            .map(String::from)
            .collect();
        let mut rows = Vec::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| e.to_string())?;
            rows.push(rec.iter().map(String::from).collect());
        }
        Ok(Table { header, rows })
    }
}

/// One `runs.csv` row for a finished run.
pub fn run_row(
    def: &RunDef,
    digest: &str,
    metrics: &[(String, i64)],
) -> (Vec<String>, Vec<String>) {
    let mut header: Vec<String> = KEY_COLUMNS.iter().map(|s| s.to_string()).collect();
    let mut row = vec![
        def.index.to_string(),
        def.scenario.clone(),
        def.overrides_text(),
        def.policy.label.clone(),
        def.seed.to_string(),
        digest.to_string(),
    ];
    for (k, v) in metrics {
        header.push(k.clone());
        row.push(v.to_string());
    }
    (header, row)
}

/// Builds `runs.csv` from rows (each with its header); rows are sorted by
/// run index. Rows with another header are an error (runs of different
/// kubesim builds).
pub fn runs_table(rows: Vec<(Vec<String>, Vec<String>)>) -> Result<Table, String> {
    let mut t = Table::default();
    let mut rows = rows;
    rows.sort_by_key(|(_, r)| r.first().and_then(|x| x.parse::<u64>().ok()).unwrap_or(0));
    for (h, r) in rows {
        if t.header.is_empty() {
            t.header = h;
        } else if t.header != h {
            return Err(format!(
                "run {} has other metric columns than the others (results of different kubesim builds?)",
                r.first().cloned().unwrap_or_default()
            ));
        }
        t.rows.push(r);
    }
    if t.header.is_empty() {
        t.header = KEY_COLUMNS.iter().map(|s| s.to_string()).collect();
    }
    Ok(t)
}

/// Columns of `summary.csv`.
pub const SUMMARY_COLUMNS: [&str; 10] = [
    "scenario",
    "overrides",
    "policy",
    "metric",
    "n",
    "mean",
    "sd",
    "ci95_lo",
    "ci95_hi",
    "median",
];

/// `summary.csv` from `runs.csv`: groups (scenario, overrides, policy) in
/// order of first appearance, metrics in column order.
pub fn summary_table(runs: &Table) -> Result<Table, String> {
    let key = [1usize, 2, 3];
    let mut groups: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
    for (i, r) in runs.rows.iter().enumerate() {
        let k: Vec<String> = key
            .iter()
            .map(|&c| r.get(c).cloned().unwrap_or_default())
            .collect();
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, v)) => v.push(i),
            None => groups.push((k, vec![i])),
        }
    }
    let mut out = Table {
        header: SUMMARY_COLUMNS.iter().map(|s| s.to_string()).collect(),
        rows: Vec::new(),
    };
    for (g, idx) in &groups {
        for (c, name) in runs.header.iter().enumerate().skip(KEY_COLUMNS.len()) {
            let mut vals = Vec::with_capacity(idx.len());
            for &i in idx {
                let cell = runs.rows[i].get(c).map(String::as_str).unwrap_or("");
                let v: i64 = cell
                    .parse()
                    .map_err(|_| format!("runs.csv row {i}: {name} is not an integer: {cell:?}"))?;
                vals.push(v);
            }
            let s = stats::of(&vals);
            let mut row = g.clone();
            row.extend([
                name.clone(),
                s.n.to_string(),
                stats::fmt(s.mean),
                stats::fmt(s.sd),
                stats::fmt(s.ci95_lo),
                stats::fmt(s.ci95_hi),
                stats::fmt(s.median),
            ]);
            out.rows.push(row);
        }
    }
    Ok(out)
}
