//! The traffic declared for one Service and its text syntax, shared by
//! the `kubesim.dev/traffic-*` annotations and `spec.traffic` entries of
//! the Scenario (docs/traffic.md):
//!
//! - load: `100` (constant, requests/s; decimals and quantities like
//!   `2.5` or `500m` allowed), `steps 0s=50 2m=200 5m=50`,
//!   `ramp from=10 to=200 start=1m end=5m`,
//!   `diurnal mean=100 amplitude=80 period=24h phase=0s`, `csv FILE`
//!   (rows `time,rps`, time as a duration or seconds; a header is allowed;
//!   each row's rate holds until the next);
//! - work: `5ms` (CPU time of one core per request) or `exp(5ms)`;
//! - arrivals `poisson` (default) or `deterministic`; policy `random`
//!   (default), `round-robin`, `least-requests`; timeout and SLO latency
//!   as durations; concurrency as a positive integer.

use std::path::Path;

use super::arrivals::ArrivalKind;
use super::select::Policy;
use super::shape::LoadShape;
use crate::engine::rng::SimRng;
use crate::engine::{Duration, SimTime};
use crate::model::quantity::Quantity;

/// CPU work per request, millicore-µs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkDist {
    Const(u64),
    /// Exponential with this mean.
    Exp(u64),
}

impl Default for WorkDist {
    fn default() -> Self {
        WorkDist::Const(5_000_000)
    }
}

impl WorkDist {
    /// `5ms` or `exp(5ms)`.
    pub fn parse(s: &str) -> Result<WorkDist, String> {
        let t = s.trim();
        let (exp, inner) = match t.strip_prefix("exp(").and_then(|r| r.strip_suffix(')')) {
            Some(i) => (true, i),
            None => (false, t),
        };
        let d = Duration::parse(inner)?;
        if d == Duration::ZERO {
            return Err(format!("invalid work {s:?}: must be greater than zero"));
        }
        let w = d.as_micros().saturating_mul(1000);
        Ok(if exp {
            WorkDist::Exp(w)
        } else {
            WorkDist::Const(w)
        })
    }

    /// One request's work (≥ 1).
    pub fn draw(self, rng: &mut SimRng) -> u64 {
        match self {
            WorkDist::Const(w) => w.max(1),
            WorkDist::Exp(mean) => {
                let u = (rng.below(1 << 53) + 1) as f64 / (1u64 << 53) as f64;
                let v = -u.ln() * mean as f64;
                if v.is_finite() && v >= 1.0 {
                    v as u64
                } else {
                    1
                }
            }
        }
    }

    pub fn mean(self) -> u64 {
        match self {
            WorkDist::Const(w) | WorkDist::Exp(w) => w,
        }
    }
}

/// The traffic of one Service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrafficSpec {
    pub load: LoadShape,
    pub arrivals: ArrivalKind,
    pub work: WorkDist,
    /// A request not done after this long fails.
    pub timeout: Option<Duration>,
    /// Requests one pod takes at once; more are refused (503, failed).
    pub concurrency: Option<u32>,
    pub policy: Policy,
    /// Latency objective: served requests slower than this are violations.
    pub slo: Option<Duration>,
}

impl Default for TrafficSpec {
    fn default() -> Self {
        TrafficSpec {
            load: LoadShape::Constant(0),
            arrivals: ArrivalKind::Poisson,
            work: WorkDist::default(),
            timeout: None,
            concurrency: None,
            policy: Policy::Random,
            slo: None,
        }
    }
}

/// A rate in requests/s as milli-requests/s (≥ 0).
pub fn parse_rate(s: &str) -> Result<i64, String> {
    let q = Quantity::parse(s.trim()).map_err(|e| format!("invalid rate {s:?}: {e}"))?;
    match q.checked_milli_value() {
        Some(m) if m >= 0 => Ok(m),
        Some(_) => Err(format!("invalid rate {s:?}: must not be negative")),
        None => Err(format!("invalid rate {s:?}: too large")),
    }
}

fn kv<'a>(
    words: &[&'a str],
    allowed: &[&str],
    what: &str,
) -> Result<Vec<(&'a str, &'a str)>, String> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for w in words {
        let Some((k, v)) = w.split_once('=') else {
            return Err(format!("{what}: expected key=value, found {w:?}"));
        };
        if !allowed.contains(&k) {
            return Err(format!(
                "{what}: unknown key {k:?} (expected {})",
                allowed.join(", ")
            ));
        }
        if out.iter().any(|(x, _)| *x == k) {
            return Err(format!("{what}: {k} given twice"));
        }
        out.push((k, v));
    }
    for a in allowed {
        if *a != "phase" && !out.iter().any(|(k, _)| k == a) {
            return Err(format!("{what}: missing {a}=…"));
        }
    }
    Ok(out)
}

fn get<'a>(kvs: &[(&str, &'a str)], k: &str) -> Option<&'a str> {
    kvs.iter().find(|(x, _)| *x == k).map(|(_, v)| *v)
}

/// Parses a load (see the module doc); `base_dir` resolves `csv FILE`.
pub fn parse_load(s: &str, base_dir: &Path) -> Result<LoadShape, String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    let Some(&first) = words.first() else {
        return Err("empty load: expected a rate, steps, ramp, diurnal or csv".into());
    };
    let rest = &words[1..];
    match first {
        "steps" => {
            if rest.is_empty() {
                return Err("steps: expected TIME=RATE pairs such as 0s=50 2m=200".into());
            }
            let mut pts: Vec<(SimTime, i64)> = Vec::new();
            for w in rest {
                let Some((t, r)) = w.split_once('=') else {
                    return Err(format!("steps: expected TIME=RATE, found {w:?}"));
                };
                let t = SimTime::ZERO.after(Duration::parse(t)?);
                if pts.last().is_some_and(|(p, _)| *p >= t) {
                    return Err(format!("steps: times must increase ({w:?})"));
                }
                pts.push((t, parse_rate(r)?));
            }
            Ok(LoadShape::Steps(pts))
        }
        "ramp" => {
            let kvs = kv(rest, &["from", "to", "start", "end"], "ramp")?;
            let start = Duration::parse(get(&kvs, "start").unwrap_or_default())?;
            let end = Duration::parse(get(&kvs, "end").unwrap_or_default())?;
            if end <= start {
                return Err("ramp: end must be after start".into());
            }
            Ok(LoadShape::Ramp {
                from: parse_rate(get(&kvs, "from").unwrap_or_default())?,
                to: parse_rate(get(&kvs, "to").unwrap_or_default())?,
                start: SimTime::ZERO.after(start),
                end: SimTime::ZERO.after(end),
            })
        }
        "diurnal" => {
            let kvs = kv(rest, &["mean", "amplitude", "period", "phase"], "diurnal")?;
            let period = Duration::parse(get(&kvs, "period").unwrap_or_default())?;
            if period == Duration::ZERO {
                return Err("diurnal: period must be greater than zero".into());
            }
            let phase = match get(&kvs, "phase") {
                Some(p) => Duration::parse(p)?,
                None => Duration::ZERO,
            };
            Ok(LoadShape::Diurnal {
                mean: parse_rate(get(&kvs, "mean").unwrap_or_default())?,
                amplitude: parse_rate(get(&kvs, "amplitude").unwrap_or_default())?,
                period,
                phase,
            })
        }
        "csv" => {
            let [file] = rest else {
                return Err("csv: expected one file name".into());
            };
            let path = base_dir.join(file);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("csv: cannot read {}: {e}", path.display()))?;
            parse_csv(&text).map_err(|e| format!("{}: {e}", path.display()))
        }
        _ if rest.is_empty() => Ok(LoadShape::Constant(parse_rate(first)?)),
        _ => Err(format!(
            "unknown load {s:?}: expected a rate, steps, ramp, diurnal or csv"
        )),
    }
}

/// `time,rps` rows (a header line is skipped) as steps.
pub fn parse_csv(text: &str) -> Result<LoadShape, String> {
    let mut pts: Vec<(SimTime, i64)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((t, r)) = line.split_once(',') else {
            return Err(format!("line {}: expected time,rps", i + 1));
        };
        let t = match Duration::parse(t.trim()) {
            Ok(t) => SimTime::ZERO.after(t),
            Err(_) if pts.is_empty() && i == 0 => continue, // header
            Err(e) => return Err(format!("line {}: {e}", i + 1)),
        };
        let r = parse_rate(r).map_err(|e| format!("line {}: {e}", i + 1))?;
        if pts.last().is_some_and(|(p, _)| *p >= t) {
            return Err(format!("line {}: times must increase", i + 1));
        }
        pts.push((t, r));
    }
    if pts.is_empty() {
        return Err("no rows".into());
    }
    Ok(LoadShape::Steps(pts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: u64) -> SimTime {
        SimTime(x * 1_000_000)
    }

    #[test]
    fn loads_parse() {
        let d = Path::new(".");
        assert_eq!(parse_load("100", d), Ok(LoadShape::Constant(100_000)));
        assert_eq!(parse_load("2.5", d), Ok(LoadShape::Constant(2_500)));
        assert_eq!(
            parse_load("steps 0s=50 2m=200", d),
            Ok(LoadShape::Steps(vec![(s(0), 50_000), (s(120), 200_000)]))
        );
        assert_eq!(
            parse_load("ramp from=10 to=20 start=1m end=2m", d),
            Ok(LoadShape::Ramp {
                from: 10_000,
                to: 20_000,
                start: s(60),
                end: s(120)
            })
        );
        assert!(matches!(
            parse_load("diurnal mean=100 amplitude=50 period=1h", d),
            Ok(LoadShape::Diurnal { mean: 100_000, .. })
        ));
        for bad in [
            "",
            "-5",
            "steps 2m=1 1m=2",
            "ramp from=1 to=2 start=2m end=1m",
            "ramp from=1 to=2",
            "diurnal mean=1 amplitude=1 period=0s",
            "sine 4",
            "csv /nonexistent/x.csv",
        ] {
            assert!(parse_load(bad, d).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn csv_rows() {
        let l = parse_csv("time,rps\n0,10\n30s,20.5\n").unwrap();
        assert_eq!(l, LoadShape::Steps(vec![(s(0), 10_000), (s(30), 20_500)]));
        assert!(parse_csv("0,1\n0,2\n").unwrap_err().contains("line 2"));
        assert!(parse_csv("").is_err());
    }

    #[test]
    fn work() {
        assert_eq!(WorkDist::parse("5ms"), Ok(WorkDist::Const(5_000_000)));
        assert_eq!(WorkDist::parse("exp(2ms)"), Ok(WorkDist::Exp(2_000_000)));
        assert!(WorkDist::parse("0s").is_err());
        let mut r = SimRng::derive(1, "w");
        let n = 20_000u64;
        let sum: u64 = (0..n).map(|_| WorkDist::Exp(1_000_000).draw(&mut r)).sum();
        let mean = sum / n;
        assert!((970_000..1_030_000).contains(&mean), "{mean}");
    }
}
