//! Simulated time: integer microseconds since the start of the run.
//!
//! Time is never a float. One microsecond resolves scheduling and binding
//! costs; `u64` microseconds spans more than 500,000 years.

use std::fmt;

/// A point in simulated time, in microseconds since the run began.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub fn as_micros(self) -> u64 {
        self.0
    }
    /// `self + d`, saturating at `SimTime::MAX` (a timer that never fires).
    pub fn after(self, d: Duration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
    /// The time elapsed since `earlier` (zero if `earlier` is later).
    pub fn since(self, earlier: SimTime) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }
}

impl Duration {
    pub const ZERO: Duration = Duration(0);
    pub const fn from_micros(us: u64) -> Duration {
        Duration(us)
    }
    pub const fn from_millis(ms: u64) -> Duration {
        Duration(ms.saturating_mul(1_000))
    }
    pub const fn from_secs(s: u64) -> Duration {
        Duration(s.saturating_mul(1_000_000))
    }
    pub fn as_micros(self) -> u64 {
        self.0
    }
    pub fn saturating_mul(self, k: u64) -> Duration {
        Duration(self.0.saturating_mul(k))
    }
    pub fn min(self, other: Duration) -> Duration {
        Duration(self.0.min(other.0))
    }

    /// Parses a duration as scenario files write it: Go-style `1h30m`,
    /// `250ms`, `1.5s`, `10us`, or a bare integer meaning seconds.
    /// Fractions are exact (decimal digits), never floats.
    pub fn parse(s: &str) -> Result<Duration, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err(format!("invalid duration {s:?}: empty"));
        }
        if t.bytes().all(|b| b.is_ascii_digit()) {
            return t
                .parse::<u64>()
                .ok()
                .and_then(|v| v.checked_mul(1_000_000))
                .map(Duration)
                .ok_or_else(|| format!("invalid duration {s:?}: too large"));
        }
        let bytes = t.as_bytes();
        let mut i = 0;
        let mut total: u64 = 0;
        while i < bytes.len() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            let num = &t[start..i];
            let ustart = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            let unit = &t[ustart..i];
            if num.is_empty() || unit.is_empty() {
                return Err(format!(
                    "invalid duration {s:?}: expected <number><unit> pairs such as 1h30m, 90s, 250ms"
                ));
            }
            let unit_us: u64 = match unit {
                "us" | "µs" => 1,
                "ms" => 1_000,
                "s" => 1_000_000,
                "m" => 60_000_000,
                "h" => 3_600_000_000,
                "d" => 86_400_000_000,
                _ => {
                    return Err(format!(
                        "invalid duration {s:?}: unknown unit {unit:?} (use us, ms, s, m, h, d)"
                    ))
                }
            };
            let (int_part, frac_part) = match num.split_once('.') {
                Some((a, b)) => (a, b),
                None => (num, ""),
            };
            if frac_part.contains('.') || (int_part.is_empty() && frac_part.is_empty()) {
                return Err(format!("invalid duration {s:?}: bad number {num:?}"));
            }
            let ip: u64 = if int_part.is_empty() {
                0
            } else {
                int_part
                    .parse()
                    .map_err(|_| format!("invalid duration {s:?}: bad number {num:?}"))?
            };
            let mut us = ip
                .checked_mul(unit_us)
                .ok_or_else(|| format!("invalid duration {s:?}: too large"))?;
            // Exact fractional part: digits / 10^len * unit, truncated to 1us.
            let mut scale = unit_us;
            for d in frac_part.bytes() {
                scale /= 10;
                if scale == 0 {
                    break;
                }
                us = us.saturating_add(u64::from(d - b'0') * scale);
            }
            total = total
                .checked_add(us)
                .ok_or_else(|| format!("invalid duration {s:?}: too large"))?;
        }
        Ok(Duration(total))
    }
}

/// Human form used in summaries: `1h2m3.5s`, `250ms`, `0s`.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        if us == 0 {
            return write!(f, "0s");
        }
        if us < 1_000 {
            return write!(f, "{us}us");
        }
        if us < 1_000_000 {
            return write_frac(f, us, 1_000, "ms");
        }
        let h = us / 3_600_000_000;
        let m = (us / 60_000_000) % 60;
        let rest = us % 60_000_000;
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        if rest > 0 {
            write_frac(f, rest, 1_000_000, "s")?;
        }
        Ok(())
    }
}

fn write_frac(f: &mut fmt::Formatter<'_>, v: u64, unit: u64, suffix: &str) -> fmt::Result {
    let whole = v / unit;
    let frac = v % unit;
    if frac == 0 {
        return write!(f, "{whole}{suffix}");
    }
    let width = unit.ilog10() as usize;
    let s = format!("{frac:0width$}");
    write!(f, "{whole}.{}{suffix}", s.trim_end_matches('0'))
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Duration(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_style_durations() {
        let cases = [
            ("0", 0),
            ("30", 30_000_000),
            ("1s", 1_000_000),
            ("250ms", 250_000),
            ("1.5s", 1_500_000),
            ("1h30m", 5_400_000_000),
            ("2m3s", 123_000_000),
            ("10us", 10),
            (".5s", 500_000),
            ("1d", 86_400_000_000),
            ("0.0000001s", 0),
        ];
        for (s, us) in cases {
            assert_eq!(Duration::parse(s), Ok(Duration(us)), "{s}");
        }
    }

    #[test]
    fn rejects_bad_durations() {
        for s in [
            "",
            "s",
            "1x",
            "1.2.3s",
            "-1s",
            "1 s",
            "99999999999999999999s",
            "1h-",
        ] {
            assert!(Duration::parse(s).is_err(), "{s:?} should be rejected");
        }
    }

    #[test]
    fn displays_readably() {
        assert_eq!(Duration(0).to_string(), "0s");
        assert_eq!(Duration(5).to_string(), "5us");
        assert_eq!(Duration(1_500).to_string(), "1.5ms");
        assert_eq!(Duration(90_000_000).to_string(), "1m30s");
        assert_eq!(Duration(3_600_500_000).to_string(), "1h0.5s");
    }

    #[test]
    fn display_round_trips_through_parse() {
        for us in [1u64, 999, 1_000, 1_234_567, 86_399_999_999, 3_600_000_000] {
            let d = Duration(us);
            assert_eq!(Duration::parse(&d.to_string()), Ok(d));
        }
    }
}
