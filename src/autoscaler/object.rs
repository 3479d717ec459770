//! The HorizontalPodAutoscaler object as a scenario declares it: the
//! defaulted spec the algorithm reads, the scale target, the selected
//! policy with its parameters, and the simulation-only inputs given as
//! annotations (the load offered to the target, External metric series).

use std::collections::BTreeMap;

use super::hpa::HpaSpec;
use super::metrics::Series;
use crate::engine::{Duration, SimTime};
use crate::model::quantity::Quantity;

/// Annotation: the CPU load offered to the target, shared equally by its
/// ready pods (a series, see [`parse_series`]).
pub const ANN_OFFERED_LOAD: &str = "kubesim.dev/offered-load";
/// Annotation prefix: `kubesim.dev/external-<metric>` holds the series of
/// an External metric (see [`parse_labelled_series`]).
pub const ANN_EXTERNAL_PREFIX: &str = "kubesim.dev/external-";
/// Annotation prefix of policy parameters (`kubesim.dev/autoscaler-<p>`).
pub const ANN_PARAM_PREFIX: &str = "kubesim.dev/autoscaler-";

/// An `autoscaling/v2` HorizontalPodAutoscaler.
#[derive(Clone, Debug, PartialEq)]
pub struct HpaObject {
    pub namespace: String,
    pub name: String,
    /// `scaleTargetRef`: kind and name (same namespace).
    pub target_kind: String,
    pub target_name: String,
    pub spec: HpaSpec,
    /// Autoscaler policy name (`upstream` unless annotated).
    pub policy: String,
    pub params: BTreeMap<String, String>,
    pub offered_load: Option<Series>,
    pub external: BTreeMap<String, Vec<LabelledSeries>>,
}

/// One series of an External metric with its labels (what
/// `metric.selector` selects on).
#[derive(Clone, Debug, PartialEq)]
pub struct LabelledSeries {
    pub labels: crate::model::Labels,
    pub series: Series,
}

/// The series of an External metric: one or more separated by `;`, each a
/// [`parse_series`] optionally led by its labels in braces, e.g.
/// `{queue=orders} 0s=10, 5m=40; {queue=billing} 0s=5`.
pub fn parse_labelled_series(s: &str, horizon: Duration) -> Result<Vec<LabelledSeries>, String> {
    let mut out = Vec::new();
    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let mut labels = crate::model::Labels::new();
        let mut rest = part;
        if let Some(r) = part.strip_prefix('{') {
            let Some((inner, after)) = r.split_once('}') else {
                return Err(format!("{part:?}: missing '}}' after the labels"));
            };
            for kv in inner.split(',').map(str::trim).filter(|x| !x.is_empty()) {
                let Some((k, v)) = kv.split_once('=') else {
                    return Err(format!("{kv:?}: expected LABEL=VALUE"));
                };
                let (k, v) = (k.trim(), v.trim().trim_matches('"'));
                if k.is_empty() {
                    return Err(format!("{kv:?}: empty label name"));
                }
                labels.insert(k.to_string(), v.to_string());
            }
            rest = after;
        }
        out.push(LabelledSeries {
            labels,
            series: parse_series(rest, horizon)?,
        });
    }
    if out.is_empty() {
        return Err("empty series".to_string());
    }
    Ok(out)
}

impl HpaObject {
    /// `HorizontalPodAutoscaler ns/name`, as events name it.
    pub fn describe(&self) -> String {
        format!("HorizontalPodAutoscaler {}/{}", self.namespace, self.name)
    }
}

fn quantity_milli(s: &str) -> Result<i64, String> {
    let q = Quantity::parse(s.trim()).map_err(|e| format!("{s:?}: {e}"))?;
    q.checked_milli_value()
        .ok_or_else(|| format!("{s:?} is out of range"))
}

/// Parses a series of values over the run's time:
/// - `D=Q, D=Q, …`: from each time on the value (0 before the first),
///   e.g. `0s=500m, 10m=4, 30m=1`;
/// - `diurnal(MIN, MAX, PERIOD[, STEP])`: a day-like wave from MIN up to
///   MAX and back over PERIOD, held in steps of STEP (default 1m), starting
///   at MIN: `MIN + (MAX-MIN) × (1 - cos(2πt/PERIOD)) / 2`, rounded down
///   (f64 `cos`; the points are computed once at load time).
///
/// Values are quantities (`500m`, `4`, `1k`), kept as milli-units.
pub fn parse_series(s: &str, horizon: Duration) -> Result<Series, String> {
    let t = s.trim();
    if let Some(args) = t.strip_prefix("diurnal(").and_then(|r| r.strip_suffix(')')) {
        let parts: Vec<&str> = args.split(',').map(str::trim).collect();
        if parts.len() < 3 || parts.len() > 4 {
            return Err("diurnal takes MIN, MAX, PERIOD and an optional STEP".to_string());
        }
        let lo = quantity_milli(parts[0])?;
        let hi = quantity_milli(parts[1])?;
        let period = Duration::parse(parts[2])?;
        let step = match parts.get(3) {
            Some(p) => Duration::parse(p)?,
            None => Duration::from_secs(60),
        };
        if period == Duration::ZERO || step == Duration::ZERO {
            return Err("diurnal: PERIOD and STEP must be greater than zero".to_string());
        }
        let n = (horizon.as_micros() / step.as_micros()).min(1_000_000) + 1;
        let points = (0..n)
            .map(|k| {
                let at = k * step.as_micros();
                let phase = (at % period.as_micros()) as f64 / period.as_micros() as f64;
                let w = (1.0 - (2.0 * std::f64::consts::PI * phase).cos()) / 2.0;
                (SimTime(at), lo + ((hi - lo) as f64 * w) as i64)
            })
            .collect();
        return Ok(Series { points });
    }
    let mut points = Vec::new();
    for part in t.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((d, q)) = part.split_once('=') else {
            return Err(format!("{part:?}: expected TIME=QUANTITY"));
        };
        let at = SimTime::ZERO.after(Duration::parse(d.trim())?);
        if points.last().is_some_and(|(p, _)| *p >= at) {
            return Err(format!("{part:?}: times must increase"));
        }
        points.push((at, quantity_milli(q)?));
    }
    if points.is_empty() {
        return Err("empty series".to_string());
    }
    Ok(Series { points })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_syntax() {
        let s = parse_series("0s=500m, 10m=4, 30m=1", Duration::ZERO).unwrap();
        assert_eq!(
            s.points,
            vec![
                (SimTime(0), 500),
                (SimTime(600_000_000), 4000),
                (SimTime(1_800_000_000), 1000)
            ]
        );
        assert!(parse_series("10m=1, 5m=2", Duration::ZERO).is_err());
        assert!(parse_series("10m", Duration::ZERO).is_err());
        assert!(parse_series("0s=abc", Duration::ZERO).is_err());
        let d = parse_series("diurnal(1, 5, 24h, 1h)", Duration::from_secs(86_400)).unwrap();
        assert_eq!(d.points.len(), 25);
        assert_eq!(d.value_at(SimTime(0)), 1000);
        assert_eq!(d.value_at(SimTime(12 * 3_600_000_000)), 5000);
        assert!(d.value_at(SimTime(6 * 3_600_000_000)) > 2900);
    }

    #[test]
    fn labelled_series_syntax() {
        let v = parse_labelled_series("0s=1", Duration::ZERO).unwrap();
        assert_eq!(v.len(), 1);
        assert!(v[0].labels.is_empty());
        let v = parse_labelled_series(
            "{queue=orders, tier=\"gold\"} 0s=10, 5m=40; {queue=billing} 0s=5",
            Duration::ZERO,
        )
        .unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].labels.get("tier").map(String::as_str), Some("gold"));
        assert_eq!(v[0].series.value_at(SimTime(300_000_000)), 40_000);
        assert_eq!(
            v[1].labels.get("queue").map(String::as_str),
            Some("billing")
        );
        assert!(parse_labelled_series("{queue=orders 0s=1", Duration::ZERO).is_err());
        assert!(parse_labelled_series("{queue} 0s=1", Duration::ZERO).is_err());
        assert!(parse_labelled_series(" ; ", Duration::ZERO).is_err());
    }
}
