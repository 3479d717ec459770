//! CronJob schedules as Kubernetes v1.35 evaluates them: a port of
//! robfig/cron v3.0.1 (`cron.ParseStandard` and `SpecSchedule.Next`,
//! `ConstantDelaySchedule` for `@every`), which kube-controller-manager and
//! the API server vendor (`vendor/github.com/robfig/cron/v3/{parser,spec,
//! constantdelay}.go`, MIT License, Copyright (C) 2012 Rob Figueiredo), plus
//! the API server's `validateScheduleFormat` / `validateTimeZone`
//! (`pkg/apis/batch/validation/validation.go`).
//!
//! What this reproduces, because the Rust cron crates differ (see
//! ../shared/ECOSYSTEM.md §3): exactly five fields or a descriptor
//! (`@yearly @annually @monthly @weekly @daily @midnight @hourly`,
//! `@every <Go duration>`); ranges, steps, lists, month and weekday names
//! (case-insensitive), `?` as `*`; `N/step` means `N-max/step`; day of week
//! 0–6 only; the day-of-month / day-of-week rule: ANDed when either field
//! carries the "star" bit, ORed otherwise, where `*/n` with n > 1 clears the
//! star bit (`*/1` keeps it); an optional `TZ=`/`CRON_TZ=` prefix (which the
//! API rejects on create: [`validate_schedule`]). Times are evaluated in
//! the schedule's zone with Go's `time.Date` normalisation, so a time in a
//! daylight-saving gap is skipped for that day and a time in an overlap
//! fires twice, as upstream.
//!
//! Instants are `i64` microseconds since the Unix epoch (UTC). Time zones
//! come from chrono-tz, whose IANA database is compiled in, so every machine
//! computes the same times. A schedule without a zone is evaluated in UTC
//! (upstream uses `time.Local` of kube-controller-manager, which is UTC in
//! the usual container images).

use std::fmt;
use std::str::FromStr;

use chrono::{Offset, TimeZone};
use chrono_tz::Tz;

const US_PER_SEC: i64 = 1_000_000;
const STAR_BIT: u64 = 1 << 63;

/// A parsed schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// A crontab specification (fields as bit sets, as robfig stores them).
    Spec(SpecSchedule),
    /// `@every <duration>`: a constant delay, whole seconds, at least 1 s.
    Every {
        /// The delay in microseconds (a multiple of one second).
        delay_us: i64,
    },
}

/// robfig's `SpecSchedule`: one bit per allowed value, bit 63 = "star".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecSchedule {
    pub second: u64,
    pub minute: u64,
    pub hour: u64,
    pub dom: u64,
    pub month: u64,
    pub dow: u64,
    /// The zone the fields are evaluated in.
    pub location: Tz,
}

/// A schedule that does not parse; the message is upstream's text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CronError(pub String);

#[derive(Clone, Copy)]
struct Bounds {
    min: u64,
    max: u64,
    names: &'static [(&'static str, u64)],
}

const SECONDS: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &[
        ("sun", 0),
        ("mon", 1),
        ("tue", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
};

/// `cron.ParseStandard`: five fields (minute, hour, day of month, month,
/// day of week) or a descriptor, with an optional `TZ=`/`CRON_TZ=` prefix.
pub fn parse_standard(spec: &str) -> Result<Schedule, CronError> {
    parse(spec, false)
}

/// Like [`parse_standard`] but with a leading seconds field, as robfig's
/// tests' `secondParser` (`Second | Minute | Hour | Dom | Month |
/// DowOptional | Descriptor`); used to run upstream's `TestNext` table.
#[cfg(test)]
fn parse_with_seconds(spec: &str) -> Result<Schedule, CronError> {
    parse(spec, true)
}

fn parse(spec: &str, with_seconds: bool) -> Result<Schedule, CronError> {
    if spec.is_empty() {
        return Err(CronError("empty spec string".into()));
    }
    let mut spec = spec;
    let mut loc = Tz::UTC;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        // Upstream slices `spec[eq+1:i]` with i = the first space; without a
        // space Go would panic, here it is an error.
        let eq = spec.find('=').unwrap_or(0);
        let name = match spec.find(' ') {
            Some(i) if i > eq => &spec[eq + 1..i],
            _ => {
                return Err(CronError(format!(
                    "provided bad location {}: no schedule after the time zone",
                    &spec[eq + 1..]
                )))
            }
        };
        loc = load_location(name)
            .map_err(|e| CronError(format!("provided bad location {name}: {e}")))?;
        let i = spec.find(' ').unwrap_or(spec.len());
        spec = spec[i..].trim();
    }
    if spec.starts_with('@') {
        return parse_descriptor(spec, loc);
    }
    let mut fields: Vec<&str> = spec.split_whitespace().collect();
    let (min, max) = if with_seconds { (5, 6) } else { (5, 5) };
    if fields.len() < min || fields.len() > max {
        let list = format!("[{}]", fields.join(" "));
        return Err(CronError(if min == max {
            format!(
                "expected exactly {min} fields, found {}: {list}",
                fields.len()
            )
        } else {
            format!(
                "expected {min} to {max} fields, found {}: {list}",
                fields.len()
            )
        }));
    }
    if with_seconds && fields.len() == 5 {
        fields.push("*");
    }
    if !with_seconds {
        fields.insert(0, "0");
    }
    Ok(Schedule::Spec(SpecSchedule {
        second: get_field(fields[0], SECONDS)?,
        minute: get_field(fields[1], MINUTES)?,
        hour: get_field(fields[2], HOURS)?,
        dom: get_field(fields[3], DOM)?,
        month: get_field(fields[4], MONTHS)?,
        dow: get_field(fields[5], DOW)?,
        location: loc,
    }))
}

/// `time.LoadLocation` against the compiled-in IANA database. `""` and
/// `UTC` are UTC as in Go; `Local` is UTC here (see the module comment).
pub fn load_location(name: &str) -> Result<Tz, String> {
    if name.is_empty() || name == "UTC" || name == "Local" {
        return Ok(Tz::UTC);
    }
    Tz::from_str(name).map_err(|_| format!("unknown time zone {name}"))
}

/// A comma-separated list of ranges (empty items are skipped, as Go's
/// `strings.FieldsFunc` does).
fn get_field(field: &str, r: Bounds) -> Result<u64, CronError> {
    let mut bits = 0;
    for expr in field.split(',').filter(|s| !s.is_empty()) {
        bits |= get_range(expr, r)?;
    }
    Ok(bits)
}

/// `number | number "-" number [ "/" number ]`, `*` or `?`.
fn get_range(expr: &str, r: Bounds) -> Result<u64, CronError> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single_digit = low_and_high.len() == 1;
    let mut extra = 0;
    let (start, mut end);
    if low_and_high[0] == "*" || low_and_high[0] == "?" {
        start = r.min;
        end = r.max;
        extra = STAR_BIT;
    } else {
        start = parse_int_or_name(low_and_high[0], r.names)?;
        end = match low_and_high.len() {
            1 => start,
            2 => parse_int_or_name(low_and_high[1], r.names)?,
            _ => return Err(CronError(format!("too many hyphens: {expr}"))),
        };
    }
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = must_parse_int(range_and_step[1])?;
            // Special handling: "N/step" means "N-max/step".
            if single_digit {
                end = r.max;
            }
            if step > 1 {
                extra = 0;
            }
            step
        }
        _ => return Err(CronError(format!("too many slashes: {expr}"))),
    };
    if start < r.min {
        return Err(CronError(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            r.min
        )));
    }
    if end > r.max {
        return Err(CronError(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            r.max
        )));
    }
    if start > end {
        return Err(CronError(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        )));
    }
    if step == 0 {
        return Err(CronError(format!(
            "step of range should be a positive number: {expr}"
        )));
    }
    Ok(get_bits(start, end, step) | extra)
}

fn parse_int_or_name(expr: &str, names: &[(&str, u64)]) -> Result<u64, CronError> {
    let lower = expr.to_lowercase();
    if let Some((_, v)) = names.iter().find(|(n, _)| *n == lower) {
        return Ok(*v);
    }
    must_parse_int(expr)
}

/// `strconv.Atoi` then a check for negative numbers.
fn must_parse_int(expr: &str) -> Result<u64, CronError> {
    let num: i64 = expr.parse().map_err(|e: std::num::ParseIntError| {
        let why = match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                "value out of range"
            }
            _ => "invalid syntax",
        };
        CronError(format!(
            "failed to parse int from {expr}: strconv.Atoi: parsing {}: {why}",
            go_strconv_quote(expr)
        ))
    })?;
    if num < 0 {
        return Err(CronError(format!(
            "negative number ({num}) not allowed: {expr}"
        )));
    }
    Ok(num as u64)
}

/// All bits in `[min, max]` at the given step (max ≤ 59 for every field).
fn get_bits(min: u64, max: u64, step: u64) -> u64 {
    let mut bits = 0u64;
    let mut i = min;
    while i <= max {
        bits |= 1 << i;
        match i.checked_add(step) {
            Some(n) => i = n,
            None => break,
        }
    }
    bits
}

fn all(r: Bounds) -> u64 {
    get_bits(r.min, r.max, 1) | STAR_BIT
}

fn parse_descriptor(descriptor: &str, loc: Tz) -> Result<Schedule, CronError> {
    let spec = |minute, hour, dom, month, dow| {
        Ok(Schedule::Spec(SpecSchedule {
            second: 1 << SECONDS.min,
            minute,
            hour,
            dom,
            month,
            dow,
            location: loc,
        }))
    };
    let (m0, h0, d1, mo1, w0) = (
        1 << MINUTES.min,
        1 << HOURS.min,
        1 << DOM.min,
        1 << MONTHS.min,
        1 << DOW.min,
    );
    match descriptor {
        "@yearly" | "@annually" => return spec(m0, h0, d1, mo1, all(DOW)),
        "@monthly" => return spec(m0, h0, d1, all(MONTHS), all(DOW)),
        "@weekly" => return spec(m0, h0, all(DOM), all(MONTHS), w0),
        "@daily" | "@midnight" => return spec(m0, h0, all(DOM), all(MONTHS), all(DOW)),
        "@hourly" => return spec(m0, all(HOURS), all(DOM), all(MONTHS), all(DOW)),
        _ => {}
    }
    if let Some(d) = descriptor.strip_prefix("@every ") {
        let ns = parse_go_duration(d)
            .map_err(|e| CronError(format!("failed to parse duration {descriptor}: {e}")))?;
        // cron.Every: at least one second, sub-second part dropped.
        let ns = if ns < 1_000_000_000 {
            1_000_000_000
        } else {
            ns
        };
        let delay_ns = ns - ns % 1_000_000_000;
        return Ok(Schedule::Every {
            delay_us: delay_ns / 1_000,
        });
    }
    Err(CronError(format!("unrecognized descriptor: {descriptor}")))
}

/// Go's `time.ParseDuration` (nanoseconds), with its error texts.
pub fn parse_go_duration(orig: &str) -> Result<i64, String> {
    const LIMIT: u64 = 1 << 63;
    let invalid = || format!("time: invalid duration {}", go_time_quote(orig));
    let mut s = orig.as_bytes();
    let mut neg = false;
    if let Some(&c) = s.first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            s = &s[1..];
        }
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        // leadingInt
        let mut v: u64 = 0;
        let mut i = 0;
        while i < s.len() && s[i].is_ascii_digit() {
            if v > LIMIT / 10 {
                return Err(invalid());
            }
            v = v * 10 + (s[i] - b'0') as u64;
            if v > LIMIT {
                return Err(invalid());
            }
            i += 1;
        }
        let pre = i > 0;
        s = &s[i..];
        // leadingFraction
        let mut f: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut post = false;
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let mut overflow = false;
            let mut j = 0;
            while j < s.len() && s[j].is_ascii_digit() {
                j += 1;
                if overflow {
                    continue;
                }
                if f > (LIMIT - 1) / 10 {
                    overflow = true;
                    continue;
                }
                let y = f * 10 + (s[j - 1] - b'0') as u64;
                if y > LIMIT {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10.0;
            }
            post = j > 0;
            s = &s[j..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        let mut k = 0;
        while k < s.len() && !(s[k] == b'.' || s[k].is_ascii_digit()) {
            k += 1;
        }
        if k == 0 {
            return Err(format!(
                "time: missing unit in duration {}",
                go_time_quote(orig)
            ));
        }
        // The unit ends before an ASCII byte, so this is a char boundary.
        let u = std::str::from_utf8(&s[..k]).unwrap_or("");
        s = &s[k..];
        let unit: u64 = match u {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    go_time_quote(u),
                    go_time_quote(orig)
                ))
            }
        };
        if v > LIMIT / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            // As upstream: float64 keeps fractions of hours ns-accurate.
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        d += v;
        if d > LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    if d > LIMIT - 1 {
        return Err(invalid());
    }
    Ok(d as i64)
}

/// Go's `time.quote`: non-ASCII and control bytes as `\xNN`.
fn go_time_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if (c as u32) >= 0x80 || c < ' ' {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.Quote` for the texts that reach it here.
fn go_strconv_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------
// Civil time in a zone, with Go's `time.Date` normalisation.

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm); `m` in 1..=12, `d` may be outside the month (it just adds).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 + (d - 1)
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Seconds east of UTC in `loc` at the Unix instant `unix` (seconds).
fn offset_at(loc: Tz, unix: i64) -> i64 {
    match chrono::DateTime::from_timestamp(unix, 0) {
        Some(dt) => loc
            .offset_from_utc_datetime(&dt.naive_utc())
            .fix()
            .local_minus_utc() as i64,
        None => 0,
    }
}

/// An instant (whole seconds) seen in a zone, like a Go `time.Time`.
#[derive(Clone, Copy, Debug)]
struct ZTime {
    unix: i64,
    loc: Tz,
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    weekday: u32,
}

impl ZTime {
    fn new(unix: i64, loc: Tz) -> ZTime {
        let local = unix + offset_at(loc, unix);
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        ZTime {
            unix,
            loc,
            year,
            month,
            day,
            hour: (secs / 3600) as u32,
            minute: (secs / 60 % 60) as u32,
            second: (secs % 60) as u32,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as u32,
        }
    }

    /// Go's `time.Date(year, month, day, hour, min, sec, 0, loc)`: fields
    /// may overflow; a wall time in a gap or overlap resolves as Go does.
    fn date(year: i64, month: i64, day: i64, hour: i64, min: i64, sec: i64, loc: Tz) -> ZTime {
        let m0 = month - 1;
        let year = year + m0.div_euclid(12);
        let month = m0.rem_euclid(12) + 1;
        let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec;
        // Look up the offset at `local` taken as UTC; if `local - offset`
        // falls in another zone period, use that period's offset.
        let off = offset_at(loc, local);
        let utc = local - off;
        let off2 = offset_at(loc, utc);
        let unix = if off2 != off { local - off2 } else { utc };
        ZTime::new(unix, loc)
    }

    fn add(self, secs: i64) -> ZTime {
        ZTime::new(self.unix + secs, self.loc)
    }
}

impl SpecSchedule {
    /// `dayMatches`: AND if either field has the star bit, else OR.
    fn day_matches(&self, t: &ZTime) -> bool {
        let dom_match = (1u64 << t.day) & self.dom > 0;
        let dow_match = (1u64 << t.weekday) & self.dow > 0;
        if self.dom & STAR_BIT > 0 || self.dow & STAR_BIT > 0 {
            dom_match && dow_match
        } else {
            dom_match || dow_match
        }
    }

    /// `SpecSchedule.Next`: the first matching second strictly after `t_us`,
    /// or `None` if there is none within five years.
    pub fn next(&self, t_us: i64) -> Option<i64> {
        // A field with no bit never matches: upstream scans five years and
        // returns the zero time; answer at once.
        for f in [
            self.second,
            self.minute,
            self.hour,
            self.dom | self.dow,
            self.month,
        ] {
            if f & !STAR_BIT == 0 {
                return None;
            }
        }
        let loc = self.location;
        // Start at the earliest possible time (the upcoming second).
        // Instants beyond what the calendar code handles have no next time.
        const LIMIT_SECS: i64 = 1 << 40;
        let start = t_us.div_euclid(US_PER_SEC) + 1;
        if !(-LIMIT_SECS..LIMIT_SECS).contains(&start) {
            return None;
        }
        let mut t = ZTime::new(start, loc);
        let mut added = false;
        let year_limit = t.year + 5;
        // Safety net against a zone rule that would keep the loop going.
        let mut budget: u32 = 10_000_000;
        'wrap: loop {
            if t.year > year_limit {
                return None;
            }
            while (1u64 << t.month) & self.month == 0 {
                if !added {
                    added = true;
                    t = ZTime::date(t.year, t.month as i64, 1, 0, 0, 0, loc);
                }
                // AddDate(0, 1, 0)
                t = ZTime::date(
                    t.year,
                    t.month as i64 + 1,
                    t.day as i64,
                    t.hour as i64,
                    t.minute as i64,
                    t.second as i64,
                    loc,
                );
                if t.month == 1 {
                    continue 'wrap;
                }
            }
            while !self.day_matches(&t) {
                budget = budget.checked_sub(1)?;
                if !added {
                    added = true;
                    t = ZTime::date(t.year, t.month as i64, t.day as i64, 0, 0, 0, loc);
                }
                // AddDate(0, 0, 1)
                t = ZTime::date(
                    t.year,
                    t.month as i64,
                    t.day as i64 + 1,
                    t.hour as i64,
                    t.minute as i64,
                    t.second as i64,
                    loc,
                );
                // Midnight may not exist (DST at midnight): back to 0h.
                if t.hour != 0 {
                    if t.hour > 12 {
                        t = t.add((24 - t.hour as i64) * 3600);
                    } else {
                        t = t.add(-(t.hour as i64) * 3600);
                    }
                }
                if t.day == 1 {
                    continue 'wrap;
                }
            }
            while (1u64 << t.hour) & self.hour == 0 {
                budget = budget.checked_sub(1)?;
                if !added {
                    added = true;
                    t = ZTime::date(
                        t.year,
                        t.month as i64,
                        t.day as i64,
                        t.hour as i64,
                        0,
                        0,
                        loc,
                    );
                }
                t = t.add(3600);
                if t.hour == 0 {
                    continue 'wrap;
                }
            }
            while (1u64 << t.minute) & self.minute == 0 {
                budget = budget.checked_sub(1)?;
                if !added {
                    added = true;
                    // Truncate(time.Minute) works on the absolute instant.
                    t = ZTime::new(t.unix - t.unix.rem_euclid(60), loc);
                }
                t = t.add(60);
                if t.minute == 0 {
                    continue 'wrap;
                }
            }
            while (1u64 << t.second) & self.second == 0 {
                budget = budget.checked_sub(1)?;
                added = true;
                t = t.add(1);
                if t.second == 0 {
                    continue 'wrap;
                }
            }
            return t.unix.checked_mul(US_PER_SEC);
        }
    }

    /// Whether the whole second containing `t_us` matches every field.
    pub fn matches(&self, t_us: i64) -> bool {
        let t = ZTime::new(t_us.div_euclid(US_PER_SEC), self.location);
        (1u64 << t.second) & self.second > 0
            && (1u64 << t.minute) & self.minute > 0
            && (1u64 << t.hour) & self.hour > 0
            && (1u64 << t.month) & self.month > 0
            && self.day_matches(&t)
    }
}

impl Schedule {
    /// The next activation strictly after `t_us` (µs since the Unix
    /// epoch), or `None` if the schedule cannot be satisfied (upstream's
    /// zero time).
    pub fn next(&self, t_us: i64) -> Option<i64> {
        match self {
            Schedule::Spec(s) => s.next(t_us),
            // ConstantDelaySchedule.Next: t + delay - t.Nanosecond().
            Schedule::Every { delay_us } => t_us
                .checked_sub(t_us.rem_euclid(US_PER_SEC))?
                .checked_add(*delay_us),
        }
    }
}

impl fmt::Display for SpecSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sec={:#x} min={:#x} hour={:#x} dom={:#x} month={:#x} dow={:#x} tz={}",
            self.second,
            self.minute,
            self.hour,
            self.dom,
            self.month,
            self.dow,
            self.location.name()
        )
    }
}

// ---------------------------------------------------------------------------
// API validation of a CronJob's schedule and time zone.

/// `validateScheduleFormat` on create (`allowTZInSchedule` false): the
/// parse error, if any, and the TZ rejection. Each entry is one message.
pub fn validate_schedule(schedule: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if let Err(e) = parse_standard(schedule) {
        errs.push(e.0);
    }
    if schedule.contains("TZ") {
        errs.push("cannot use TZ or CRON_TZ in schedule, use timeZone field instead".to_string());
    }
    errs
}

/// `validateTimeZone`: IANA naming rules, no `Local`, and a zone the
/// database knows.
pub fn validate_time_zone(tz: &str) -> Vec<String> {
    if tz.is_empty() {
        return vec!["timeZone must be nil or non-empty string".to_string()];
    }
    for part in tz.split('/') {
        let chars_ok = !part.is_empty()
            && part.len() <= 14
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'));
        if part == "." || part == ".." || part.starts_with('-') || !chars_ok {
            return vec![format!("unknown time zone {tz}")];
        }
    }
    let mut errs = Vec::new();
    if tz.eq_ignore_ascii_case("Local") {
        errs.push(
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"
                .to_string(),
        );
    }
    if let Err(e) = load_location(tz) {
        errs.push(e);
    }
    errs
}

/// The schedule a CronJob runs (upstream `formatSchedule`): with a
/// `timeZone`, `TZ=<zone> <schedule>`, unless the schedule already has one.
pub fn cronjob_schedule(schedule: &str, time_zone: Option<&str>) -> Result<Schedule, CronError> {
    match time_zone {
        Some(tz) if !schedule.contains("TZ") => parse_standard(&format!("TZ={tz} {schedule}")),
        _ => parse_standard(schedule),
    }
}

/// Parses an RFC 3339 timestamp (`2026-03-01T00:00:00Z`,
/// `2026-03-01T01:00:00+01:00`, fractional seconds allowed) into µs since
/// the Unix epoch.
pub fn parse_rfc3339(s: &str) -> Result<i64, String> {
    let dt = chrono::DateTime::parse_from_rfc3339(s)
        .map_err(|e| format!("invalid RFC 3339 time {s:?}: {e}"))?;
    Ok(dt.timestamp() * US_PER_SEC + (dt.timestamp_subsec_micros() as i64))
}

/// Formats µs since the Unix epoch as RFC 3339 in UTC (whole seconds
/// unless there is a fraction).
pub fn format_rfc3339(t_us: i64) -> String {
    let secs = t_us.div_euclid(US_PER_SEC);
    let us = t_us.rem_euclid(US_PER_SEC);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    if us != 0 {
        s.push_str(&format!(".{us:06}"));
    }
    s.push('Z');
    s
}

#[cfg(test)]
mod tests;
