//! Offered load over time: the request rate of a Service as a function of
//! simulated time, in milli-requests per second (integers).
//!
//! Shapes: constant, steps (also what a CSV replay becomes: each row's
//! rate holds until the next row), a linear ramp, and a diurnal sine
//! `mean + amplitude × sin(2π (t + phase) / period)`. The ramp and the
//! sine are evaluated piecewise constant over [`SEGMENT`]s (1 s), at each
//! segment's midpoint, so that every shape is a step function: Poisson
//! arrivals are then exact (time rescaling over constant pieces) and all
//! arithmetic is integer except the sine, which is computed with a fixed
//! polynomial in IEEE-754 `+ − × ÷` only (identical on every platform),
//! then rounded to an integer rate. Negative rates are clamped to 0.

use crate::engine::{Duration, SimTime};

/// The piece length of ramps and sines.
pub const SEGMENT: Duration = Duration::from_secs(1);

/// An offered load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadShape {
    /// The same rate all the time.
    Constant(i64),
    /// `(from, rate)` sorted by time; 0 before the first.
    Steps(Vec<(SimTime, i64)>),
    /// `from` until `start`, linear to `to` at `end`, `to` afterwards.
    Ramp {
        from: i64,
        to: i64,
        start: SimTime,
        end: SimTime,
    },
    /// `mean + amplitude × sin(2π (t + phase) / period)`.
    Diurnal {
        mean: i64,
        amplitude: i64,
        period: Duration,
        phase: Duration,
    },
}

impl LoadShape {
    /// The rate at `t`, milli-requests/s (≥ 0).
    pub fn rate_at(&self, t: SimTime) -> i64 {
        let r = match self {
            LoadShape::Constant(r) => *r,
            LoadShape::Steps(s) => {
                let i = s.partition_point(|(at, _)| *at <= t);
                if i == 0 {
                    0
                } else {
                    s[i - 1].1
                }
            }
            LoadShape::Ramp {
                from,
                to,
                start,
                end,
            } => {
                let m = midpoint(t);
                if m <= *start {
                    *from
                } else if m >= *end || end <= start {
                    *to
                } else {
                    let num = i128::from(*to - *from) * i128::from(m.0 - start.0);
                    *from + (num / i128::from(end.0 - start.0)) as i64
                }
            }
            LoadShape::Diurnal {
                mean,
                amplitude,
                period,
                phase,
            } => {
                let p = period.as_micros().max(1);
                let m = midpoint(t);
                let x = (m.0 % p + phase.as_micros() % p) % p;
                let s = sin_turns(x as f64 / p as f64);
                let v = *mean as f64 + *amplitude as f64 * s;
                v.round() as i64
            }
        };
        r.max(0)
    }

    /// The first time after `t` at which the rate may change.
    pub fn next_change_after(&self, t: SimTime) -> Option<SimTime> {
        match self {
            LoadShape::Constant(_) => None,
            LoadShape::Steps(s) => s.iter().map(|(at, _)| *at).find(|at| *at > t),
            LoadShape::Ramp { end, .. } if t >= *end => None,
            LoadShape::Ramp { .. } | LoadShape::Diurnal { .. } => {
                let seg = SEGMENT.as_micros();
                Some(SimTime((t.0 / seg + 1) * seg))
            }
        }
    }

    /// The highest rate the shape reaches (for checks and docs).
    pub fn peak(&self) -> i64 {
        match self {
            LoadShape::Constant(r) => (*r).max(0),
            LoadShape::Steps(s) => s.iter().map(|x| x.1).max().unwrap_or(0).max(0),
            LoadShape::Ramp { from, to, .. } => (*from).max(*to).max(0),
            LoadShape::Diurnal {
                mean, amplitude, ..
            } => (mean + amplitude.abs()).max(0),
        }
    }
}

/// The midpoint of the segment holding `t`.
fn midpoint(t: SimTime) -> SimTime {
    let seg = SEGMENT.as_micros();
    SimTime((t.0 / seg) * seg + seg / 2)
}

/// sin(2π x) for x in [0, 1), with a fixed odd Taylor polynomial after
/// reducing to [-π/2, π/2]: only `+ − × ÷`, so results are bit-identical
/// on every IEEE-754 platform. Error below 1e-9.
pub fn sin_turns(x: f64) -> f64 {
    const PI: f64 = std::f64::consts::PI;
    // Reduce to y in [-0.25, 0.25] turns with sin(2π x) = ±sin(2π y).
    let mut y = x - (x as i64) as f64;
    if y < 0.0 {
        y += 1.0;
    }
    let y = if y > 0.75 {
        y - 1.0
    } else if y > 0.25 {
        0.5 - y
    } else {
        y
    };
    let a = 2.0 * PI * y;
    let a2 = a * a;
    // a − a³/3! + a⁵/5! − … up to a¹⁷.
    let mut term = a;
    let mut sum = a;
    let mut k = 1.0;
    for _ in 0..8 {
        term = -term * a2 / ((k + 1.0) * (k + 2.0));
        sum += term;
        k += 2.0;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: u64) -> SimTime {
        SimTime(x * 1_000_000)
    }

    #[test]
    fn steps_and_constant() {
        let st = LoadShape::Steps(vec![(s(0), 1000), (s(60), 5000)]);
        assert_eq!(st.rate_at(s(59)), 1000);
        assert_eq!(st.rate_at(s(60)), 5000);
        assert_eq!(st.next_change_after(s(10)), Some(s(60)));
        assert_eq!(st.next_change_after(s(60)), None);
        assert_eq!(LoadShape::Constant(7).rate_at(s(1000)), 7);
        assert_eq!(LoadShape::Steps(vec![(s(5), 3)]).rate_at(s(4)), 0);
    }

    #[test]
    fn ramp_is_linear_at_segment_midpoints() {
        let r = LoadShape::Ramp {
            from: 0,
            to: 100_000,
            start: s(0),
            end: s(100),
        };
        assert_eq!(r.rate_at(s(0)), 500); // midpoint 0.5 s
        assert_eq!(r.rate_at(s(50)), 50_500);
        assert_eq!(r.rate_at(s(100)), 100_000);
        assert_eq!(r.next_change_after(SimTime(1)), Some(s(1)));
        assert_eq!(r.next_change_after(s(100)), None);
    }

    #[test]
    fn sine_matches_std_closely() {
        for i in 0..1000 {
            let x = i as f64 / 1000.0;
            let d = sin_turns(x) - (2.0 * std::f64::consts::PI * x).sin();
            assert!(d.abs() < 1e-9, "x={x} d={d}");
        }
        let d = LoadShape::Diurnal {
            mean: 10_000,
            amplitude: 5_000,
            period: Duration::from_secs(400),
            phase: Duration::ZERO,
        };
        // Midpoint of [100 s, 101 s) is a quarter period + 0.5 s.
        assert_eq!(
            d.rate_at(s(100)),
            10_000 + (5_000.0 * sin_turns(100.5 / 400.0)).round() as i64
        );
        assert!(d.rate_at(s(99)) > 14_990 && d.rate_at(s(300)) < 5_010);
        assert_eq!(d.peak(), 15_000);
    }

    /// The integral of a step shape over time is its area.
    #[test]
    fn integral_of_steps() {
        let st = LoadShape::Steps(vec![(s(0), 2000), (s(10), 0), (s(20), 1000)]);
        let mut area: u128 = 0;
        let mut t = s(0);
        let end = s(30);
        while t < end {
            let nx = st.next_change_after(t).unwrap_or(end).min(end);
            area += st.rate_at(t) as u128 * u128::from(nx.0 - t.0);
            t = nx;
        }
        // 20 + 10 requests, in milli-request µs.
        assert_eq!(area, 30 * 1_000_000_000);
    }
}
