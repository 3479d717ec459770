//! The errors and counts shared by every trace importer: a malformed row
//! (file, line, field, message), I/O and CSV errors, and the import
//! statistics (rows read, rows skipped with `--skip-bad-rows`).

use std::path::PathBuf;

/// One malformed row: where it is and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {}{message}", file.display(), field_prefix(field))]
pub struct RowError {
    pub file: PathBuf,
    /// 1-based line number in the file (the header is line 1 when present).
    pub line: u64,
    /// The column at fault, when known.
    pub field: Option<String>,
    pub message: String,
}

fn field_prefix(f: &Option<String>) -> String {
    match f {
        Some(f) => format!("column {f}: "),
        None => String::new(),
    }
}

/// Why a trace could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("failed to read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Row(#[from] RowError),
    #[error("{0}")]
    Invalid(String),
}

/// What an import read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportStats {
    /// Data rows read (header excluded), good and bad.
    pub rows: u64,
    /// Rows skipped because they were malformed (only with skip-bad-rows).
    pub skipped: u64,
    /// The first few skipped rows' errors (at most [`MAX_KEPT_ERRORS`]).
    pub errors: Vec<RowError>,
    /// Rows ignored on purpose (e.g. v2017 `softerror` events), by reason.
    pub ignored: std::collections::BTreeMap<String, u64>,
}

/// How many skipped-row errors [`ImportStats`] keeps.
pub const MAX_KEPT_ERRORS: usize = 5;

impl ImportStats {
    pub fn merge(&mut self, o: ImportStats) {
        self.rows += o.rows;
        self.skipped += o.skipped;
        for e in o.errors {
            if self.errors.len() < MAX_KEPT_ERRORS {
                self.errors.push(e);
            }
        }
        for (k, v) in o.ignored {
            *self.ignored.entry(k).or_insert(0) += v;
        }
    }
    pub fn ignore(&mut self, reason: &str) {
        *self.ignored.entry(reason.to_string()).or_insert(0) += 1;
    }
}
