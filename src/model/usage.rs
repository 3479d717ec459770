//! Usage models: a container's CPU demand (millicores) or memory usage
//! (bytes) as a piecewise-constant function of the time since it started,
//! and their compact text syntax (the `kubesim.dev/cpu-usage` and
//! `kubesim.dev/memory-usage` annotations, `spec.defaults.cpuUsage` /
//! `memoryUsage`).
//!
//! Syntax (`Q` is a quantity: `250m`, `1.5`, `128Mi`; `D` a duration):
//! - `Q` — constant;
//! - `request` / `limit` — the container's request / limit (resolved when
//!   the pod is converted);
//! - `steps(D=Q, D=Q, …)` — the value from each time on (before the first
//!   time: 0), e.g. `steps(0s=100m, 30s=900m, 90s=200m)`;
//! - `ramp(Q, Q, D[, N])` — from the first value to the second over `D` in
//!   `N` equal steps (default 10), then stays;
//! - `uniform(Q, Q, D)`, `normal(MEAN, SD, D)`, `exp(MEAN, D)` — a new
//!   random value every `D`, from a stream seeded by the run seed, the pod
//!   and the container (so a value does not depend on event order), as an
//!   integer: uniform on the integers in between; normal as the Irwin–Hall
//!   sum of 12 uniforms (integer arithmetic), clamped at 0; exponential by
//!   inversion (`f64::ln`, rounded down);
//! - `csv(PATH)` — a series replayed from a CSV file (relative to the
//!   scenario file) with rows `time,value` (time a duration like `30s` or
//!   plain seconds; a header row is skipped), as steps.
//!
//! Every model changes value only at breakpoints, so the node model is
//! recomputed only there (event-driven).
//!
//! Plain data and pure functions (the node model in `crate::node` runs
//! them); re-exported as `crate::node::usage`.

use crate::engine::rng::SimRng;
use crate::engine::Duration;

/// A random distribution over non-negative integers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dist {
    Uniform { lo: i64, hi: i64 },
    Normal { mean: i64, sd: i64 },
    Exp { mean: i64 },
}

/// A piecewise-constant usage over time since the container started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsageModel {
    Const(i64),
    /// Sorted by time; the value before the first point is 0.
    Steps(Vec<(Duration, i64)>),
    Random {
        dist: Dist,
        every: Duration,
        /// Set by the kubelet from the run seed, pod and container.
        seed: u64,
        /// Stream name (pod key and container).
        stream: String,
    },
}

impl Default for UsageModel {
    fn default() -> Self {
        UsageModel::Const(0)
    }
}

impl UsageModel {
    /// The value at `t` after the container started.
    pub fn value_at(&self, t: Duration) -> i64 {
        match self {
            UsageModel::Const(v) => *v,
            UsageModel::Steps(s) => {
                let i = s.partition_point(|(at, _)| *at <= t);
                if i == 0 {
                    0
                } else {
                    s[i - 1].1
                }
            }
            UsageModel::Random {
                dist,
                every,
                seed,
                stream,
            } => {
                let k = t.as_micros() / every.as_micros().max(1);
                let mut rng = SimRng::derive(*seed, &format!("usage/{stream}/{k}"));
                draw(dist, &mut rng)
            }
        }
    }

    /// The first time after `t` at which the value may change.
    pub fn next_change_after(&self, t: Duration) -> Option<Duration> {
        match self {
            UsageModel::Const(_) => None,
            UsageModel::Steps(s) => s.iter().map(|(at, _)| *at).find(|at| *at > t),
            UsageModel::Random { every, .. } => {
                let e = every.as_micros().max(1);
                Some(Duration::from_micros((t.as_micros() / e + 1) * e))
            }
        }
    }

    /// Sets the random seed and stream of a random model.
    pub fn seeded(mut self, run_seed: u64, name: &str) -> UsageModel {
        if let UsageModel::Random { seed, stream, .. } = &mut self {
            *seed = run_seed;
            *stream = name.to_string();
        }
        self
    }
}

fn draw(d: &Dist, rng: &mut SimRng) -> i64 {
    match *d {
        Dist::Uniform { lo, hi } => {
            let (lo, hi) = (lo.max(0), hi.max(lo.max(0)));
            rng.between(lo as u64, hi as u64) as i64
        }
        Dist::Normal { mean, sd } => {
            // Irwin–Hall: the sum of 12 uniforms on [0, 1) minus 6 is
            // approximately N(0, 1); in units of 1/2^20.
            const ONE: i128 = 1 << 20;
            let mut z: i128 = -6 * ONE;
            for _ in 0..12 {
                z += i128::from(rng.below(ONE as u64) as u32);
            }
            let v = i128::from(mean) + i128::from(sd) * z / ONE;
            v.clamp(0, i128::from(i64::MAX)) as i64
        }
        Dist::Exp { mean } => {
            // u in (0, 1]: -ln(u) × mean.
            let u = (rng.below(1 << 53) + 1) as f64 / (1u64 << 53) as f64;
            let v = -u.ln() * mean as f64;
            if v.is_finite() {
                v.max(0.0) as i64
            } else {
                0
            }
        }
    }
}

/// The usage models of one app container (`None`: no model; it uses
/// nothing).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerUsage {
    pub cpu: Option<UsageModel>,
    pub memory: Option<UsageModel>,
    /// CPU work in millicore-µs: the container exits (the pod's run ends)
    /// once every container with work has done it.
    pub cpu_work: Option<i64>,
}

/// The usage of a pod's app containers, aligned with `spec.containers`.
/// Pods without any model carry `None` and cost nothing in the node model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodUsage {
    pub containers: Vec<ContainerUsage>,
}

/// What a usage text names before request/limit are known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsageSpec {
    Model(UsageModel),
    Request,
    Limit,
    /// A CSV file to read (path as written).
    Csv(String),
}

/// How quantities in a usage text are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Millicores (`250m`, `0.5`).
    Cpu,
    /// Bytes (`128Mi`).
    Bytes,
}

fn quantity(s: &str, unit: Unit) -> Result<i64, String> {
    let q = crate::model::quantity::Quantity::parse(s.trim())
        .map_err(|e| format!("invalid quantity {s:?}: {e}"))?;
    let v = match unit {
        Unit::Cpu => q.checked_milli_value(),
        Unit::Bytes => q.checked_value(),
    }
    .ok_or_else(|| format!("quantity {s:?} is out of range"))?;
    if v < 0 {
        return Err(format!("quantity {s:?} must not be negative"));
    }
    Ok(v)
}

fn dur(s: &str) -> Result<Duration, String> {
    Duration::parse(s.trim())
}

/// Parses a usage text (see the module doc).
pub fn parse(text: &str, unit: Unit) -> Result<UsageSpec, String> {
    let t = text.trim();
    match t {
        "request" => return Ok(UsageSpec::Request),
        "limit" => return Ok(UsageSpec::Limit),
        _ => {}
    }
    let Some(open) = t.find('(') else {
        return quantity(t, unit).map(|v| UsageSpec::Model(UsageModel::Const(v)));
    };
    if !t.ends_with(')') {
        return Err(format!("{t:?}: missing closing parenthesis"));
    }
    let name = &t[..open];
    let inner = &t[open + 1..t.len() - 1];
    let args: Vec<&str> = inner.split(',').map(str::trim).collect();
    let need = |n: &[usize]| -> Result<(), String> {
        if n.contains(&args.len()) {
            Ok(())
        } else {
            Err(format!(
                "{name}(…) takes {} arguments, found {}",
                n.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(" or "),
                args.len()
            ))
        }
    };
    let random = |dist: Dist, every: &str| -> Result<UsageSpec, String> {
        let every = dur(every)?;
        if every == Duration::ZERO {
            return Err("the interval of a random model must be greater than zero".into());
        }
        Ok(UsageSpec::Model(UsageModel::Random {
            dist,
            every,
            seed: 0,
            stream: String::new(),
        }))
    };
    match name {
        "steps" => {
            let mut pts = Vec::new();
            for a in &args {
                let (d, v) = a
                    .split_once('=')
                    .ok_or_else(|| format!("steps: {a:?} is not TIME=VALUE"))?;
                pts.push((dur(d)?, quantity(v, unit)?));
            }
            if pts.windows(2).any(|w| w[0].0 >= w[1].0) {
                return Err("steps: times must be strictly increasing".into());
            }
            Ok(UsageSpec::Model(UsageModel::Steps(pts)))
        }
        "ramp" => {
            need(&[3, 4])?;
            let from = quantity(args[0], unit)?;
            let to = quantity(args[1], unit)?;
            let over = dur(args[2])?;
            let n: u64 = match args.get(3) {
                Some(s) => s
                    .parse()
                    .ok()
                    .filter(|n| (1..=10_000).contains(n))
                    .ok_or_else(|| format!("ramp: step count {s:?} must be 1..10000"))?,
                None => 10,
            };
            let mut pts = Vec::with_capacity(n as usize + 1);
            for k in 0..=n {
                let at = Duration::from_micros(
                    (u128::from(over.as_micros()) * u128::from(k) / u128::from(n)) as u64,
                );
                let v = i128::from(from) + (i128::from(to) - i128::from(from)) * i128::from(k) / i128::from(n);
                if pts.last().is_some_and(|(t, _)| *t == at) {
                    pts.pop();
                }
                pts.push((at, v as i64));
            }
            Ok(UsageSpec::Model(UsageModel::Steps(pts)))
        }
        "uniform" => {
            need(&[3])?;
            let lo = quantity(args[0], unit)?;
            let hi = quantity(args[1], unit)?;
            if hi < lo {
                return Err("uniform: the upper bound is below the lower bound".into());
            }
            random(Dist::Uniform { lo, hi }, args[2])
        }
        "normal" => {
            need(&[3])?;
            let mean = quantity(args[0], unit)?;
            let sd = quantity(args[1], unit)?;
            random(Dist::Normal { mean, sd }, args[2])
        }
        "exp" => {
            need(&[2])?;
            let mean = quantity(args[0], unit)?;
            random(Dist::Exp { mean }, args[1])
        }
        "csv" => {
            need(&[1])?;
            if args[0].is_empty() {
                return Err("csv: a file path is required".into());
            }
            Ok(UsageSpec::Csv(args[0].to_string()))
        }
        other => Err(format!(
            "unknown usage model {other:?}; known: steps, ramp, uniform, normal, exp, csv, a quantity, request, limit"
        )),
    }
}

/// Reads a `time,value` CSV series into steps; errors name the line.
pub fn parse_csv_series(text: &str, unit: Unit) -> Result<UsageModel, String> {
    let mut pts: Vec<(Duration, i64)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (t, v) = line
            .split_once(',')
            .ok_or_else(|| format!("line {}: expected time,value", i + 1))?;
        let at = match t.trim().parse::<u64>() {
            Ok(secs) => Duration::from_secs(secs),
            Err(_) => match dur(t) {
                Ok(d) => d,
                Err(e) if pts.is_empty() && i == 0 => {
                    let _ = e;
                    continue; // a header row
                }
                Err(e) => return Err(format!("line {}: {e}", i + 1)),
            },
        };
        let v = quantity(v, unit).map_err(|e| format!("line {}: {e}", i + 1))?;
        if pts.last().is_some_and(|(p, _)| *p >= at) {
            return Err(format!("line {}: times must be strictly increasing", i + 1));
        }
        pts.push((at, v));
    }
    if pts.is_empty() {
        return Err("the series has no rows".into());
    }
    Ok(UsageModel::Steps(pts))
}

/// Parses a CPU-work amount (CPU-seconds: `30`, `1.5`, `500m`) into
/// millicore-microseconds.
pub fn parse_cpu_work(text: &str) -> Result<i64, String> {
    let m = quantity(text, Unit::Cpu)?;
    m.checked_mul(1_000_000)
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("cpu work {text:?} must be positive and at most 9e6 CPU-seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(s: &str, u: Unit) -> UsageModel {
        match parse(s, u) {
            Ok(UsageSpec::Model(m)) => m,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn constant_steps_ramp() {
        assert_eq!(model("250m", Unit::Cpu), UsageModel::Const(250));
        assert_eq!(model("1.5", Unit::Cpu), UsageModel::Const(1500));
        assert_eq!(model("128Mi", Unit::Bytes), UsageModel::Const(128 << 20));
        let s = model("steps(0s=100m, 30s=900m, 90s=200m)", Unit::Cpu);
        assert_eq!(s.value_at(Duration::ZERO), 100);
        assert_eq!(s.value_at(Duration::from_secs(29)), 100);
        assert_eq!(s.value_at(Duration::from_secs(30)), 900);
        assert_eq!(s.value_at(Duration::from_secs(1000)), 200);
        assert_eq!(
            s.next_change_after(Duration::ZERO),
            Some(Duration::from_secs(30))
        );
        assert_eq!(s.next_change_after(Duration::from_secs(90)), None);
        let r = model("ramp(0, 1, 10s, 4)", Unit::Cpu);
        assert_eq!(r.value_at(Duration::from_millis(2500)), 250);
        assert_eq!(r.value_at(Duration::from_secs(11)), 1000);
        assert_eq!(parse("request", Unit::Cpu), Ok(UsageSpec::Request));
        assert_eq!(
            parse("csv(a.csv)", Unit::Cpu),
            Ok(UsageSpec::Csv("a.csv".into()))
        );
    }

    #[test]
    fn bad_texts_are_errors() {
        for bad in [
            "",
            "-1",
            "steps(10s=1, 5s=2)",
            "steps(x)",
            "ramp(1, 2)",
            "uniform(5, 1, 1s)",
            "uniform(1, 5, 0s)",
            "wobble(1)",
            "steps(1s=1",
            "csv()",
        ] {
            assert!(parse(bad, Unit::Cpu).is_err(), "{bad:?} should fail");
        }
        assert!(parse_cpu_work("0").is_err());
        assert_eq!(parse_cpu_work("30"), Ok(30_000_000_000));
    }

    #[test]
    fn random_is_a_pure_function_of_seed_and_time() {
        let m = model("uniform(100m, 900m, 10s)", Unit::Cpu).seeded(7, "default/p/c");
        let a: Vec<i64> = (0..50)
            .map(|k| m.value_at(Duration::from_secs(k * 3)))
            .collect();
        let b: Vec<i64> = (0..50)
            .map(|k| m.value_at(Duration::from_secs(k * 3)))
            .collect();
        assert_eq!(a, b);
        assert!(a.iter().all(|v| (100..=900).contains(v)));
        // Constant within an interval, changes at its end.
        assert_eq!(
            m.value_at(Duration::from_secs(10)),
            m.value_at(Duration::from_secs(19))
        );
        assert_eq!(
            m.next_change_after(Duration::from_secs(12)),
            Some(Duration::from_secs(20))
        );
        let other = model("uniform(100m, 900m, 10s)", Unit::Cpu).seeded(8, "default/p/c");
        let c: Vec<i64> = (0..50)
            .map(|k| other.value_at(Duration::from_secs(k * 10)))
            .collect();
        assert_ne!(a, c);
        let n = model("normal(500m, 100m, 1s)", Unit::Cpu).seeded(1, "x");
        let vals: Vec<i64> = (0..2000)
            .map(|k| n.value_at(Duration::from_secs(k)))
            .collect();
        let mean = vals.iter().sum::<i64>() / vals.len() as i64;
        assert!((480..=520).contains(&mean), "mean {mean}");
        let e = model("exp(200m, 1s)", Unit::Cpu).seeded(1, "x");
        let vals: Vec<i64> = (0..4000)
            .map(|k| e.value_at(Duration::from_secs(k)))
            .collect();
        let mean = vals.iter().sum::<i64>() / vals.len() as i64;
        assert!((180..=220).contains(&mean), "mean {mean}");
    }

    #[test]
    fn csv_series() {
        let m = parse_csv_series("t,cpu\n0,100m\n30s,500m\n60,0\n", Unit::Cpu).unwrap();
        assert_eq!(m.value_at(Duration::from_secs(45)), 500);
        assert_eq!(m.value_at(Duration::from_secs(60)), 0);
        assert!(parse_csv_series("0,1\n0,2\n", Unit::Cpu).is_err());
        assert!(parse_csv_series("", Unit::Cpu).is_err());
        assert!(parse_csv_series("0,1\nx,2\n", Unit::Cpu)
            .unwrap_err()
            .contains("line 2"));
    }
}
