//! Trace importers: read public cluster traces (and a documented generic
//! CSV) into plain [`Trace`] data (nodes and pods with arrival times,
//! durations and requests), one file per format; [`replay`] turns a trace
//! into model objects and timeline entries, [`yaml`] writes it as real
//! Kubernetes manifests plus a Scenario. Formats and knobs: docs/traces.md.
//!
//! Every malformed row is a [`RowError`] with file and line (or, with
//! [`ImportOptions::skip_bad_rows`], a counted skip); no input panics.

pub mod dlrm;
pub mod error;
pub mod generic;
pub mod openb;
pub mod pai;
pub mod philly;
pub mod replay;
pub mod v2017;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use error::{ImportStats, RowError, TraceError};

use crate::engine::Duration;
use crate::model::gpu::GpuRequest;
use crate::model::Resources;

/// The trace formats kubesim reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    /// Alibaba cluster-trace-gpu-v2023 (openb): node and pod lists.
    AlibabaGpuV2023,
    /// Alibaba cluster-trace-v2017: `batch_task` and `server_event`.
    AlibabaV2017,
    /// Alibaba cluster-trace-gpu-v2025 DLRM instances.
    AlibabaGpuV2025Dlrm,
    /// Alibaba PAI (gpu-v2020) `pai_machine_spec`: a node inventory.
    AlibabaPaiMachines,
    /// kubesim's generic CSV (docs/traces.md).
    Generic,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::AlibabaGpuV2023,
        Format::AlibabaV2017,
        Format::AlibabaGpuV2025Dlrm,
        Format::AlibabaPaiMachines,
        Format::Generic,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Format::AlibabaGpuV2023 => "alibaba-gpu-v2023",
            Format::AlibabaV2017 => "alibaba-v2017",
            Format::AlibabaGpuV2025Dlrm => "alibaba-gpu-v2025-dlrm",
            Format::AlibabaPaiMachines => "alibaba-pai-machines",
            Format::Generic => "generic",
        }
    }
    pub fn parse(s: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown trace format {s:?}; valid formats: {}",
                    Format::ALL.map(Format::name).join(", ")
                )
            })
    }
}

/// How to import.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Skip malformed rows (counted in [`ImportStats`]) instead of failing.
    pub skip_bad_rows: bool,
    /// openb: use the creation/deletion times (arrivals and durations).
    /// Without, every pod arrives at 0 and never ends (the FGD setup).
    pub with_times: bool,
}

/// A node of a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceNode {
    pub name: String,
    /// Capacity (= allocatable): cpu (millicores), memory (bytes), pods,
    /// extended resources.
    pub capacity: Resources,
    /// Shareable GPUs (count, model), as the openb annotations give them.
    pub gpus: Option<(u32, String)>,
    pub labels: BTreeMap<String, String>,
}

/// A pod of a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TracePod {
    pub name: String,
    /// From the start of the trace.
    pub arrival: Duration,
    /// How long it runs once started; `None` runs until the end.
    pub duration: Option<Duration>,
    pub requests: Resources,
    pub limits: Resources,
    pub gpu: Option<GpuRequest>,
    pub labels: BTreeMap<String, String>,
    /// Extra annotations kept from the trace (not `kubesim.dev/` ones).
    pub annotations: BTreeMap<String, String>,
    pub priority: i32,
    /// Identical copies this row stands for (v2017 task instances); 1
    /// elsewhere. [`replay`] expands them.
    pub replicas: u32,
}

impl TracePod {
    /// A pod arriving at 0 with these requests (= limits) and nothing else.
    pub fn new(name: String, requests: Resources) -> TracePod {
        TracePod {
            name,
            arrival: Duration::ZERO,
            duration: None,
            limits: requests.clone(),
            requests,
            gpu: None,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            priority: 0,
            replicas: 1,
        }
    }
}

/// What an import produced.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    pub nodes: Vec<TraceNode>,
    pub pods: Vec<TracePod>,
    pub stats: ImportStats,
}

impl Trace {
    pub fn append(&mut self, o: Trace) {
        self.nodes.extend(o.nodes);
        self.pods.extend(o.pods);
        self.stats.merge(o.stats);
    }
}

/// Imports the files of a trace. Which file is what is told by its
/// columns or name (see each format's module); files may be given in any
/// order.
pub fn import(
    format: Format,
    paths: &[PathBuf],
    opts: &ImportOptions,
) -> Result<Trace, TraceError> {
    if paths.is_empty() {
        return Err(TraceError::Invalid("no input file given".into()));
    }
    let mut t = Trace::default();
    for p in paths {
        let part = match format {
            Format::AlibabaGpuV2023 => openb::import(p, opts)?,
            Format::AlibabaV2017 => v2017::import(p, opts)?,
            Format::AlibabaGpuV2025Dlrm => dlrm::import(p, opts)?,
            Format::AlibabaPaiMachines => pai::import(p, opts)?,
            Format::Generic => generic::import(p, opts)?,
        };
        t.append(part);
    }
    let mut names = std::collections::BTreeSet::new();
    for n in &t.nodes {
        if !names.insert(n.name.as_str()) {
            return Err(TraceError::Invalid(format!(
                "node {} appears twice",
                n.name
            )));
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for p in &t.pods {
        if !names.insert(p.name.as_str()) {
            return Err(TraceError::Invalid(format!("pod {} appears twice", p.name)));
        }
    }
    Ok(t)
}

// ---------------------------------------------------------------------------
// Shared row machinery.

/// A field-level problem inside a row (the reader adds file and line).
#[derive(Debug)]
pub(crate) struct FieldErr {
    pub field: Option<String>,
    pub message: String,
}

impl FieldErr {
    pub fn at(field: &str, message: impl Into<String>) -> FieldErr {
        FieldErr {
            field: Some(field.to_string()),
            message: message.into(),
        }
    }
    pub fn row(message: impl Into<String>) -> FieldErr {
        FieldErr {
            field: None,
            message: message.into(),
        }
    }
}

/// One data row, looked up by column name.
pub(crate) struct Row<'a> {
    rec: &'a csv::StringRecord,
    cols: &'a [String],
}

impl<'a> Row<'a> {
    /// The column's value (trimmed); an error if the file has no such column.
    pub fn get(&self, name: &str) -> Result<&'a str, FieldErr> {
        self.opt(name)
            .ok_or_else(|| FieldErr::at(name, "missing column"))
    }
    /// The column's value, or `None` if the file has no such column.
    pub fn opt(&self, name: &str) -> Option<&'a str> {
        let i = self.cols.iter().position(|c| c == name)?;
        Some(self.rec.get(i).unwrap_or("").trim())
    }
    /// An integer column.
    pub fn int(&self, name: &str) -> Result<i64, FieldErr> {
        let v = self.get(name)?;
        v.parse::<i64>()
            .map_err(|_| FieldErr::at(name, format!("expected an integer, found {v:?}")))
    }
    /// A decimal column scaled by `scale` (exact; truncated toward zero).
    pub fn scaled(&self, name: &str, scale: i128) -> Result<i64, FieldErr> {
        let v = self.get(name)?;
        parse_scaled(v, scale).map_err(|e| FieldErr::at(name, e))
    }
    /// Like [`Row::scaled`]; an empty value is `None`.
    pub fn scaled_opt(&self, name: &str, scale: i128) -> Result<Option<i64>, FieldErr> {
        match self.opt(name) {
            None | Some("") => Ok(None),
            Some(_) => self.scaled(name, scale).map(Some),
        }
    }
}

/// How a file names its columns.
pub(crate) enum Header<'a> {
    /// The first line names the columns; these must be among them.
    Required(&'a [&'a str]),
    /// No header line: the columns are these, in order.
    Fixed(&'a [&'a str]),
}

/// Reads a CSV file row by row. `f` gets each data row; a row it rejects
/// (or one with the wrong number of fields) is an error with file and
/// line, or a counted skip with `opts.skip_bad_rows`.
pub(crate) fn read_csv(
    path: &Path,
    header: Header,
    opts: &ImportOptions,
    mut f: impl FnMut(&Row) -> Result<(), FieldErr>,
) -> Result<ImportStats, TraceError> {
    let file = std::fs::File::open(path).map_err(|source| TraceError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(std::io::BufReader::with_capacity(1 << 16, file));
    let mut stats = ImportStats::default();
    let mut cols: Vec<String> = Vec::new();
    let mut have_header = false;
    if let Header::Fixed(c) = header {
        cols = c.iter().map(|s| s.to_string()).collect();
        have_header = true;
    }
    let row_err = |line: u64, e: FieldErr| RowError {
        file: path.to_path_buf(),
        line,
        field: e.field,
        message: e.message,
    };
    // The csv crate places a record that follows a `\r\n` terminator at
    // the `\n`, one line early: count those lines ourselves.
    let crlf = openb::first_line(path)?.ends_with("\r\n");
    let mut first_record = true;
    let mut rec = csv::StringRecord::new();
    loop {
        let line_hint = rdr.position().line();
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line_hint, |p| p.line());
                let msg = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8".to_string(),
                    _ => format!("unreadable CSV: {e}"),
                };
                let re = row_err(line, FieldErr::row(msg));
                if !have_header || !opts.skip_bad_rows {
                    return Err(re.into());
                }
                stats.rows += 1;
                stats.skipped += 1;
                if stats.errors.len() < error::MAX_KEPT_ERRORS {
                    stats.errors.push(re);
                }
                // A reader error may not advance past the bad bytes.
                if rdr.position().line() == line_hint {
                    break;
                }
                continue;
            }
        }
        let mut line = rec.position().map_or(line_hint, |p| p.line());
        if crlf && !first_record {
            line += 1;
        }
        first_record = false;
        if !have_header {
            cols = rec.iter().map(|s| s.trim().to_string()).collect();
            if let Header::Required(req) = header {
                for r in req {
                    if !cols.iter().any(|c| c == r) {
                        return Err(row_err(
                            line,
                            FieldErr::row(format!(
                                "the header lacks column {r:?} (found: {})",
                                cols.join(",")
                            )),
                        )
                        .into());
                    }
                }
            }
            have_header = true;
            continue;
        }
        stats.rows += 1;
        let res = if rec.len() != cols.len() {
            Err(FieldErr::row(format!(
                "expected {} fields, found {}",
                cols.len(),
                rec.len()
            )))
        } else {
            f(&Row {
                rec: &rec,
                cols: &cols,
            })
        };
        if let Err(e) = res {
            let re = row_err(line, e);
            if !opts.skip_bad_rows {
                return Err(re.into());
            }
            stats.skipped += 1;
            if stats.errors.len() < error::MAX_KEPT_ERRORS {
                stats.errors.push(re);
            }
        }
    }
    Ok(stats)
}

/// Parses a decimal number (optional sign, digits, optional fraction,
/// optional exponent: `12`, `-1.5`, `0.0069`, `4.63e6`) and returns
/// `value × scale`, exactly, truncated toward zero.
pub fn parse_scaled(s: &str, scale: i128) -> Result<i64, String> {
    let bad = || format!("expected a number, found {s:?}");
    let t = s.trim();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (mant, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i32>().map_err(|_| bad())?),
        None => (t, 0),
    };
    let (ip, fp) = match mant.split_once('.') {
        Some((a, b)) => (a, b),
        None => (mant, ""),
    };
    if (ip.is_empty() && fp.is_empty())
        || !ip.bytes().all(|b| b.is_ascii_digit())
        || !fp.bytes().all(|b| b.is_ascii_digit())
        || ip.len() + fp.len() > 30
        || !(-40..=40).contains(&exp)
    {
        return Err(bad());
    }
    let digits: i128 = format!("{ip}{fp}").parse::<i128>().unwrap_or(0);
    let e = exp - fp.len() as i32;
    let too_large = || format!("number out of range: {s:?}");
    let mut v = digits.checked_mul(scale).ok_or_else(too_large)?;
    if e >= 0 {
        v = v
            .checked_mul(10i128.checked_pow(e as u32).ok_or_else(too_large)?)
            .ok_or_else(too_large)?;
    } else {
        match 10i128.checked_pow((-e) as u32) {
            Some(d) => v /= d,
            None => v = 0,
        }
    }
    let v = if neg { -v } else { v };
    i64::try_from(v).map_err(|_| too_large())
}

/// Seconds as µs (exact decimal, truncated), for time columns.
pub const SECOND: i128 = 1_000_000;
/// MiB and GiB in bytes.
pub const MIB: i64 = 1 << 20;
pub const GIB: i64 = 1 << 30;

/// A non-negative duration in seconds, as µs.
pub(crate) fn secs(v: i64, field: &str) -> Result<Duration, FieldErr> {
    u64::try_from(v)
        .map(Duration::from_micros)
        .map_err(|_| FieldErr::at(field, "must not be negative"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_numbers() {
        assert_eq!(parse_scaled("12", 1000), Ok(12_000));
        assert_eq!(parse_scaled("1.5", 1000), Ok(1500));
        assert_eq!(parse_scaled("-1.5", 1000), Ok(-1500));
        assert_eq!(parse_scaled("0.0069", 1_000_000), Ok(6900));
        assert_eq!(parse_scaled("4.63e6", 1), Ok(4_630_000));
        assert_eq!(parse_scaled("1e-3", 1_000_000), Ok(1000));
        assert_eq!(parse_scaled(".5", 10), Ok(5));
        assert_eq!(parse_scaled("120.0", GIB as i128), Ok(120 * GIB));
        for bad in [
            "",
            "x",
            "1.2.3",
            "1e",
            "--1",
            "1e999",
            "99999999999999999999999",
        ] {
            assert!(parse_scaled(bad, 1_000_000).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_round_trip_by_name() {
        for f in Format::ALL {
            assert_eq!(Format::parse(f.name()), Ok(f));
        }
        assert!(Format::parse("nope").unwrap_err().contains("alibaba-v2017"));
    }
}
