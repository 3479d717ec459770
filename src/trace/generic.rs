//! `generic`: kubesim's documented CSV for users' own traces
//! (docs/traces.md). A header line names the columns, in any order; every
//! column is optional, an unknown one is an error (a typo shows):
//!
//! | column | meaning | default |
//! |---|---|---|
//! | `name` | pod name (RFC 1123 subdomain) | `pod-<row>` (0-based data row) |
//! | `arrival` | arrival time: Go-style duration (`90s`, `1h30m`) or seconds (`90`, `1.5`) | 0 |
//! | `duration` | run time once started, same syntax; empty = until the end | empty |
//! | `cpu_request`, `memory_request` | Kubernetes quantities (`500m`, `2`, `1Gi`) | none |
//! | `cpu_limit`, `memory_limit` | quantities; a limit alone also sets the request (admission) | none |
//! | `gpu_count`, `gpu_milli`, `gpu_model` | openb GPU request: GPUs, milli per GPU (default 1000), `\|`-separated models | none |
//! | `labels` | `key=value` pairs separated by `;` | none |
//! | `priority` | integer pod priority (a PriorityClass `trace-priority-<p>` is made for it) | 0 |

use std::path::Path;

use super::{read_csv, FieldErr, Header, ImportOptions, Trace, TraceError, TracePod};
use crate::engine::Duration;
use crate::model::gpu::{self, GpuRequest};
use crate::model::{Quantity, Resources};

/// The columns of the generic format.
pub const COLUMNS: [&str; 13] = [
    "name",
    "arrival",
    "duration",
    "cpu_request",
    "memory_request",
    "cpu_limit",
    "memory_limit",
    "gpu_count",
    "gpu_milli",
    "gpu_model",
    "labels",
    "priority",
    "namespace",
];

pub fn import(path: &Path, opts: &ImportOptions) -> Result<Trace, TraceError> {
    let header = super::openb::first_line(path)?;
    for c in header.trim_end_matches(['\n', '\r']).split(',') {
        let c = c.trim();
        if !COLUMNS.contains(&c) {
            return Err(super::RowError {
                file: path.to_path_buf(),
                line: 1,
                field: Some(c.to_string()),
                message: format!("unknown column; the columns are {}", COLUMNS.join(", ")),
            }
            .into());
        }
    }
    let mut t = Trace::default();
    let mut n = 0u64;
    t.stats = read_csv(path, Header::Required(&[]), opts, |r| {
        let p = row(r, n);
        n += 1;
        t.pods.push(p?);
        Ok(())
    })?;
    Ok(t)
}

/// A duration column: Go-style or (decimal) seconds.
pub fn parse_time(s: &str) -> Result<Duration, String> {
    if let Ok(d) = Duration::parse(s) {
        return Ok(d);
    }
    match super::parse_scaled(s, super::SECOND) {
        Ok(v) if v >= 0 => Ok(Duration::from_micros(v as u64)),
        Ok(_) => Err(format!("must not be negative, found {s:?}")),
        Err(_) => Err(format!(
            "expected a duration (90s, 1h30m) or seconds (1.5), found {s:?}"
        )),
    }
}

fn quantity(r: &super::Row, c: &str, cpu: bool) -> Result<Option<i64>, FieldErr> {
    let v = match r.opt(c) {
        None | Some("") => return Ok(None),
        Some(v) => v,
    };
    let q = Quantity::parse(v).map_err(|e| FieldErr::at(c, e.to_string()))?;
    let x = if cpu { q.milli_value() } else { q.value() };
    if x < 0 || q.milli_value() < 0 {
        return Err(FieldErr::at(
            c,
            format!("must not be negative, found {v:?}"),
        ));
    }
    Ok(Some(x))
}

fn row(r: &super::Row, n: u64) -> Result<TracePod, FieldErr> {
    let name = match r.opt("name") {
        None | Some("") => format!("pod-{n}"),
        Some(s) => s.to_string(),
    };
    if !crate::scenario::is_dns_subdomain(&name) {
        return Err(FieldErr::at(
            "name",
            format!("{name:?} is not a valid pod name (RFC 1123 subdomain)"),
        ));
    }
    let mut req = Resources::default();
    let mut lim = Resources::default();
    let cpu_l = quantity(r, "cpu_limit", true)?;
    let mem_l = quantity(r, "memory_limit", false)?;
    req.cpu_m = quantity(r, "cpu_request", true)?.or(cpu_l).unwrap_or(0);
    req.memory = quantity(r, "memory_request", false)?.or(mem_l).unwrap_or(0);
    lim.cpu_m = cpu_l.unwrap_or(0);
    lim.memory = mem_l.unwrap_or(0);
    if cpu_l.is_some_and(|l| l < req.cpu_m) {
        return Err(FieldErr::at(
            "cpu_request",
            "must be less than or equal to cpu_limit",
        ));
    }
    if mem_l.is_some_and(|l| l < req.memory) {
        return Err(FieldErr::at(
            "memory_request",
            "must be less than or equal to memory_limit",
        ));
    }
    let mut p = TracePod::new(name, req);
    p.limits = lim;
    if let Some(a) = r.opt("arrival").filter(|s| !s.is_empty()) {
        p.arrival = parse_time(a).map_err(|e| FieldErr::at("arrival", e))?;
    }
    if let Some(d) = r.opt("duration").filter(|s| !s.is_empty()) {
        p.duration = Some(parse_time(d).map_err(|e| FieldErr::at("duration", e))?);
    }
    if let Some(c) = r.opt("gpu_count").filter(|s| !s.is_empty()) {
        let num = gpu::parse_count(c).map_err(|e| FieldErr::at("gpu_count", e))?;
        let milli = match r.opt("gpu_milli").filter(|s| !s.is_empty()) {
            Some(m) => gpu::parse_milli(m).map_err(|e| FieldErr::at("gpu_milli", e))?,
            None => gpu::GPU_MILLI,
        };
        let models = gpu::parse_models(r.opt("gpu_model").unwrap_or(""))
            .map_err(|e| FieldErr::at("gpu_model", e))?;
        if num > 0 {
            p.gpu = Some(GpuRequest {
                num_gpu: num,
                gpu_milli: milli,
                models,
            });
        }
    } else if r.opt("gpu_milli").is_some_and(|s| !s.is_empty())
        || r.opt("gpu_model").is_some_and(|s| !s.is_empty())
    {
        return Err(FieldErr::at(
            "gpu_count",
            "required with gpu_milli or gpu_model",
        ));
    }
    if let Some(ls) = r.opt("labels").filter(|s| !s.is_empty()) {
        for kv in ls.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').ok_or_else(|| {
                FieldErr::at("labels", format!("expected key=value, found {kv:?}"))
            })?;
            let (k, v) = (k.trim(), v.trim());
            crate::model::labels::validate_label_key(k)
                .map_err(|e| FieldErr::at("labels", format!("{k:?}: {e}")))?;
            crate::model::labels::validate_label_value(v)
                .map_err(|e| FieldErr::at("labels", format!("{k}={v:?}: {e}")))?;
            p.labels.insert(k.to_string(), v.to_string());
        }
    }
    if let Some(pr) = r.opt("priority").filter(|s| !s.is_empty()) {
        p.priority = pr
            .parse::<i32>()
            .ok()
            .filter(|v| *v <= 1_000_000_000)
            .ok_or_else(|| {
                FieldErr::at(
                    "priority",
                    format!("expected an integer up to 1000000000, found {pr:?}"),
                )
            })?;
    }
    if r.opt("namespace")
        .is_some_and(|s| !s.is_empty() && s != "default")
    {
        return Err(FieldErr::at(
            "namespace",
            "only the default namespace is supported",
        ));
    }
    Ok(p)
}
