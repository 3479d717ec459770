//! Arrival times of requests for an offered load ([`LoadShape`]).
//!
//! Both kinds walk the shape's constant pieces and spend a "need" of
//! integrated rate: one request is 10⁹ milli-request·µs (1 request at
//! 1 req/s for 1 s). `Deterministic` needs exactly one request's worth
//! between arrivals (evenly spaced; the progress carries across pieces,
//! so a ramp or a low rate still produces its arrivals). `Poisson` needs
//! an exponential(1) amount drawn per arrival: by the time-rescaling
//! theorem this is an inhomogeneous Poisson process, exact for the
//! piecewise constant shapes kubesim uses (the gap is exponential with the
//! rate of the moment, and a gap that runs past a rate change continues
//! at the new rate).

use super::shape::LoadShape;
use crate::engine::rng::SimRng;
use crate::engine::SimTime;

/// One request's worth of integrated rate (milli-requests/s × µs).
pub const ONE_REQUEST: u128 = 1_000_000_000;

/// How arrivals are spaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ArrivalKind {
    /// Exponential gaps with the rate of the moment (seeded).
    #[default]
    Poisson,
    /// Evenly spaced at the rate of the moment.
    Deterministic,
}

impl ArrivalKind {
    pub fn parse(s: &str) -> Option<ArrivalKind> {
        match s {
            "poisson" => Some(ArrivalKind::Poisson),
            "deterministic" | "uniform" => Some(ArrivalKind::Deterministic),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ArrivalKind::Poisson => "poisson",
            ArrivalKind::Deterministic => "deterministic",
        }
    }
}

/// The arrival process of one Service.
#[derive(Clone, Debug)]
pub struct ArrivalGen {
    pub shape: LoadShape,
    pub kind: ArrivalKind,
    /// Where the walk is.
    t: SimTime,
    /// Integrated rate still needed for the next arrival.
    need: u128,
    fresh: bool,
}

/// An exponential(1) amount in units of [`ONE_REQUEST`]: `-ln(u)` with
/// `u` uniform in (0, 1] from 53 random bits.
fn exp_need(rng: &mut SimRng) -> u128 {
    let u = (rng.below(1 << 53) + 1) as f64 / (1u64 << 53) as f64;
    let v = -u.ln() * ONE_REQUEST as f64;
    if v.is_finite() && v > 0.0 {
        (v as u128).max(1)
    } else {
        1
    }
}

impl ArrivalGen {
    pub fn new(shape: LoadShape, kind: ArrivalKind, start: SimTime) -> ArrivalGen {
        ArrivalGen {
            shape,
            kind,
            t: start,
            need: 0,
            fresh: true,
        }
    }

    /// The next arrival strictly after the previous one (or at/after the
    /// start for the first), or `None` if the rate stays 0 until `until`.
    pub fn next(&mut self, rng: &mut SimRng, until: SimTime) -> Option<SimTime> {
        if self.fresh || self.need == 0 {
            self.need = match self.kind {
                ArrivalKind::Poisson => exp_need(rng),
                ArrivalKind::Deterministic => ONE_REQUEST,
            };
            self.fresh = false;
        }
        while self.t < until {
            let r = self.shape.rate_at(self.t).max(0) as u128;
            let b = self.shape.next_change_after(self.t);
            if r > 0 {
                let dt = self.need.div_ceil(r);
                let at = u128::from(self.t.0) + dt;
                if b.is_none_or(|b| at <= u128::from(b.0)) {
                    if at > u128::from(until.0) {
                        // Keep the progress for a later call.
                        let spent = u128::from(until.0 - self.t.0) * r;
                        self.need -= spent.min(self.need - 1);
                        self.t = until;
                        return None;
                    }
                    self.t = SimTime(at as u64);
                    self.need = 0;
                    return Some(self.t);
                }
                let b = b.unwrap_or(until);
                let spent = u128::from(b.0 - self.t.0) * r;
                self.need -= spent.min(self.need - 1);
                self.t = b;
            } else {
                match b {
                    Some(b) => self.t = b.min(until),
                    None => {
                        self.t = until;
                        return None;
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Duration;

    fn s(x: u64) -> SimTime {
        SimTime(x * 1_000_000)
    }

    fn count(shape: LoadShape, kind: ArrivalKind, end: SimTime, seed: u64) -> u64 {
        let mut g = ArrivalGen::new(shape, kind, SimTime::ZERO);
        let mut rng = SimRng::derive(seed, "t");
        let mut n = 0;
        let mut last = SimTime::ZERO;
        while let Some(t) = g.next(&mut rng, end) {
            assert!(t >= last);
            last = t;
            n += 1;
        }
        n
    }

    #[test]
    fn deterministic_is_evenly_spaced() {
        let mut g = ArrivalGen::new(LoadShape::Constant(4000), ArrivalKind::Deterministic, s(0));
        let mut rng = SimRng::derive(1, "t");
        let v: Vec<u64> = (0..4)
            .filter_map(|_| g.next(&mut rng, s(10)))
            .map(|t| t.0)
            .collect();
        assert_eq!(v, vec![250_000, 500_000, 750_000, 1_000_000]);
    }

    /// Integrals of the rate ≈ arrivals, for every shape and both kinds.
    #[test]
    fn arrivals_match_the_integral_of_the_rate() {
        let shapes = [
            (LoadShape::Constant(100_000), 6_000u64),
            (
                LoadShape::Steps(vec![(s(0), 10_000), (s(30), 200_000)]),
                300 + 6000,
            ),
            (
                LoadShape::Ramp {
                    from: 0,
                    to: 200_000,
                    start: s(0),
                    end: s(60),
                },
                6000,
            ),
            (
                LoadShape::Diurnal {
                    mean: 100_000,
                    amplitude: 100_000,
                    period: Duration::from_secs(60),
                    phase: Duration::ZERO,
                },
                6000,
            ),
        ];
        for (shape, want) in shapes {
            let end = s(60);
            let d = count(shape.clone(), ArrivalKind::Deterministic, end, 1);
            assert!(d.abs_diff(want) <= 2, "{shape:?}: {d} vs {want}");
            let p = count(shape.clone(), ArrivalKind::Poisson, end, 7);
            // Poisson: within 4 standard deviations.
            let sd = (want as f64).sqrt();
            assert!(
                (p as f64 - want as f64).abs() < 4.0 * sd,
                "{shape:?}: {p} vs {want}"
            );
        }
    }

    #[test]
    fn zero_rate_has_no_arrivals_and_low_rates_still_arrive() {
        assert_eq!(
            count(LoadShape::Constant(0), ArrivalKind::Poisson, s(100), 1),
            0
        );
        // 0.5 req/s under a 1 s-piece ramp: progress carries over pieces.
        let r = LoadShape::Ramp {
            from: 500,
            to: 500,
            start: s(0),
            end: s(100),
        };
        assert_eq!(count(r, ArrivalKind::Deterministic, s(100), 1), 50);
    }

    #[test]
    fn same_seed_same_arrivals() {
        let a = count(LoadShape::Constant(50_000), ArrivalKind::Poisson, s(30), 3);
        let b = count(LoadShape::Constant(50_000), ArrivalKind::Poisson, s(30), 3);
        assert_eq!(a, b);
    }
}
