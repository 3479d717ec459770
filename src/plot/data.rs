//! Reading result files for plots: CSV tables by column name, and the
//! event log's records of a given type.

use std::path::Path;

use super::PlotError;
use crate::experiment::table::Table;

/// The table in `path`, or `None` when the file does not exist.
pub fn read(path: &Path) -> Result<Option<Table>, PlotError> {
    if !path.exists() {
        return Ok(None);
    }
    let bytes = std::fs::read(path).map_err(|e| PlotError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Table::parse(&bytes)
        .map(Some)
        .map_err(|message| PlotError::Read {
            path: path.to_path_buf(),
            message,
        })
}

/// Column accessor that reports a missing column with the file name.
pub struct Cols<'a> {
    pub t: &'a Table,
    pub path: &'a Path,
}

impl<'a> Cols<'a> {
    pub fn idx(&self, name: &str) -> Result<usize, PlotError> {
        self.t.col(name).ok_or_else(|| PlotError::Read {
            path: self.path.to_path_buf(),
            message: format!("no column {name:?}"),
        })
    }
}

/// An integer cell; `None` when empty or not a number.
pub fn int(row: &[String], c: usize) -> Option<i64> {
    row.get(c).and_then(|s| s.trim().parse().ok())
}

/// A text cell.
pub fn text(row: &[String], c: usize) -> &str {
    row.get(c).map(String::as_str).unwrap_or("")
}

/// `(t_us, type, message)` of the event records in events.jsonl whose type
/// is one of `types` (an unreadable or missing log gives none).
pub fn events(dir: &Path, types: &[&str]) -> Vec<(u64, String, String)> {
    let Ok(s) = std::fs::read_to_string(dir.join("events.jsonl")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in s.lines() {
        if !types.iter().any(|t| line.contains(t)) {
            continue;
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let ty = v.get("type").and_then(|x| x.as_str()).unwrap_or("");
        if types.contains(&ty) {
            out.push((
                v.get("t_us").and_then(|x| x.as_u64()).unwrap_or(0),
                ty.to_string(),
                v.get("message")
                    .and_then(|x| x.as_str())
                    .unwrap_or("")
                    .to_string(),
            ));
        }
    }
    out
}
