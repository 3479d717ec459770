//! `merge`: combines shard outputs (`shard-*-of-*.csv` with their
//! manifests) from one or more directories into `runs.csv` and
//! `summary.csv`, identical to those of the unsharded sweep. Every run of
//! the plan must appear exactly once: a missing shard, a failed run or a
//! duplicated run is an error naming the runs.

use std::path::{Path, PathBuf};

use super::sweep::Manifest;
use super::table::{summary_table, Table};
use super::ExperimentError;

fn shard_manifests(dir: &Path) -> Result<Vec<PathBuf>, ExperimentError> {
    let rd = std::fs::read_dir(dir).map_err(|source| ExperimentError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("shard-") && n.ends_with(".json"))
        })
        .collect();
    v.sort();
    Ok(v)
}

/// Merges the shards found in `dirs`; returns (runs.csv, summary.csv).
pub fn merge(dirs: &[PathBuf]) -> Result<(Table, Table), ExperimentError> {
    let inv = |m: String| ExperimentError::Invalid(m);
    let mut manifests: Vec<(PathBuf, Manifest)> = Vec::new();
    for d in dirs {
        for p in shard_manifests(d)? {
            let b = std::fs::read(&p).map_err(|source| ExperimentError::Read {
                path: p.clone(),
                source,
            })?;
            let m: Manifest = serde_json::from_slice(&b).map_err(|e| ExperimentError::Parse {
                path: p.clone(),
                message: e.to_string(),
            })?;
            manifests.push((p, m));
        }
    }
    let Some((first_path, first)) = manifests.first().cloned() else {
        return Err(inv(format!(
            "no shard manifests (shard-*-of-*.json) in {}",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    let mut header: Option<Vec<String>> = None;
    let mut slots: Vec<Option<(Vec<String>, PathBuf)>> = vec![None; first.runs_total];
    let mut problems = Vec::new();
    let mut seen_shards = std::collections::BTreeSet::new();
    for (p, m) in &manifests {
        if m.plan_digest != first.plan_digest || m.runs_total != first.runs_total {
            return Err(inv(format!(
                "{} belongs to another sweep plan than {} (different grid or sweep file)",
                p.display(),
                first_path.display()
            )));
        }
        if m.shards != first.shards {
            return Err(inv(format!(
                "{} is shard {}/{} but {} is of {} shards: merge shards of one split",
                p.display(),
                m.shard,
                m.shards,
                first_path.display(),
                first.shards
            )));
        }
        if !seen_shards.insert(m.shard) {
            return Err(inv(format!(
                "shard {}/{} appears twice ({}): duplicated runs",
                m.shard,
                m.shards,
                p.display()
            )));
        }
        for f in &m.failed {
            problems.push(format!(
                "{} failed: {}\n  reproduce it alone: {}",
                f.run,
                f.message.trim_end(),
                f.reproduce
            ));
        }
        let csv = p.with_extension("csv");
        let t = Table::read(&csv)?;
        match &header {
            None => header = Some(t.header.clone()),
            Some(h) if *h != t.header => {
                return Err(inv(format!(
                    "{} has other columns than the other shards (different kubesim builds?)",
                    csv.display()
                )))
            }
            _ => {}
        }
        for row in t.rows {
            let idx: usize = row
                .first()
                .and_then(|x| x.parse().ok())
                .ok_or_else(|| inv(format!("{}: a row without run_index", csv.display())))?;
            if idx >= slots.len() {
                return Err(inv(format!(
                    "{}: run_index {idx} is outside the plan of {} runs",
                    csv.display(),
                    slots.len()
                )));
            }
            if let Some((_, other)) = &slots[idx] {
                return Err(inv(format!(
                    "run {idx} appears twice: in {} and {}",
                    other.display(),
                    csv.display()
                )));
            }
            slots[idx] = Some((row, csv.clone()));
        }
    }
    let missing_shards: Vec<String> = (0..first.shards)
        .filter(|s| !seen_shards.contains(s))
        .map(|s| format!("{s}/{}", first.shards))
        .collect();
    let missing: Vec<usize> = (0..slots.len()).filter(|&i| slots[i].is_none()).collect();
    if !missing.is_empty() {
        let mut msg = format!("{} of {} runs are missing", missing.len(), first.runs_total);
        if !missing_shards.is_empty() {
            msg.push_str(&format!(
                "; shard(s) without output: {}",
                missing_shards.join(", ")
            ));
        }
        let list: Vec<String> = missing.iter().take(10).map(|i| i.to_string()).collect();
        msg.push_str(&format!(
            "; missing run indexes: {}{}",
            list.join(", "),
            if missing.len() > 10 { ", …" } else { "" }
        ));
        for p in problems {
            msg.push('\n');
            msg.push_str(&p);
        }
        return Err(inv(msg));
    }
    let runs = Table {
        header: header.unwrap_or_default(),
        rows: slots.into_iter().flatten().map(|(r, _)| r).collect(),
    };
    let summary = summary_table(&runs).map_err(inv)?;
    Ok((runs, summary))
}
