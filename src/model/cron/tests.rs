//! Upstream's test tables (robfig/cron v3 parser_test.go, spec_test.go;
//! kubernetes pkg/apis/batch/validation), the golden table of
//! ../shared/ECOSYSTEM.md §3 (kept in `golden.tsv`), and property tests
//! against a naive second-by-second matcher.

use super::*;
use proptest::prelude::*;

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// robfig's `getTime`: `"Mon Jan 2 15:04[:05] 2006"` in UTC (upstream: the
/// machine's local zone), `"2006-01-02T15:04:05-0700"`, either optionally
/// prefixed by `TZ=<zone> ` for the zone the wall time is read in. `""` is
/// the zero time (`None`).
fn get_time(value: &str) -> Option<i64> {
    if value.is_empty() {
        return None;
    }
    let (loc, value) = match value.strip_prefix("TZ=") {
        Some(rest) => {
            let (z, v) = rest.split_once(' ').unwrap();
            (Tz::from_str(z).unwrap(), v)
        }
        None => (Tz::UTC, value),
    };
    if value.as_bytes().get(4) == Some(&b'-') {
        let dt = chrono::DateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%z").unwrap();
        return Some(dt.timestamp() * US_PER_SEC);
    }
    let f: Vec<&str> = value.split_whitespace().collect();
    assert_eq!(f.len(), 5, "{value}");
    let month = MONTH_NAMES.iter().position(|m| *m == f[1]).unwrap() as i64 + 1;
    let day: i64 = f[2].parse().unwrap();
    let hms: Vec<i64> = f[3].split(':').map(|x| x.parse().unwrap()).collect();
    let year: i64 = f[4].parse().unwrap();
    let t = ZTime::date(
        year,
        month,
        day,
        hms[0],
        hms[1],
        *hms.get(2).unwrap_or(&0),
        loc,
    );
    // Go's time.Parse checks the weekday's syntax only (upstream's table
    // has "Thu Jul 11 2012", a Wednesday).
    assert!(WEEKDAYS.contains(&f[0]), "weekday of {value}");
    Some(t.unix * US_PER_SEC)
}

fn spec(s: &Schedule) -> &SpecSchedule {
    match s {
        Schedule::Spec(s) => s,
        Schedule::Every { .. } => panic!("not a spec schedule"),
    }
}

// ---------------- parser_test.go ----------------

#[test]
fn range_table() {
    let b = |min, max| Bounds {
        min,
        max,
        names: &[],
    };
    let ok: &[(&str, u64, u64, u64)] = &[
        ("5", 0, 7, 1 << 5),
        ("0", 0, 7, 1 << 0),
        ("7", 0, 7, 1 << 7),
        ("5-5", 0, 7, 1 << 5),
        ("5-6", 0, 7, 1 << 5 | 1 << 6),
        ("5-7", 0, 7, 1 << 5 | 1 << 6 | 1 << 7),
        ("5-6/2", 0, 7, 1 << 5),
        ("5-7/2", 0, 7, 1 << 5 | 1 << 7),
        ("5-7/1", 0, 7, 1 << 5 | 1 << 6 | 1 << 7),
        ("*", 1, 3, 1 << 1 | 1 << 2 | 1 << 3 | STAR_BIT),
        ("*/2", 1, 3, 1 << 1 | 1 << 3),
    ];
    for (expr, min, max, want) in ok {
        assert_eq!(get_range(expr, b(*min, *max)), Ok(*want), "{expr}");
    }
    let bad: &[(&str, u64, u64, &str)] = &[
        ("5--5", 0, 0, "too many hyphens"),
        ("jan-x", 0, 0, "failed to parse int from"),
        ("2-x", 1, 5, "failed to parse int from"),
        ("*/-12", 0, 0, "negative number"),
        ("*//2", 0, 0, "too many slashes"),
        ("1", 3, 5, "below minimum"),
        ("6", 3, 5, "above maximum"),
        ("5-3", 3, 5, "beyond end of range"),
        ("*/0", 0, 0, "should be a positive number"),
    ];
    for (expr, min, max, want) in bad {
        let e = get_range(expr, b(*min, *max)).unwrap_err();
        assert!(e.0.contains(want), "{expr}: {e}");
    }
}

#[test]
fn field_table() {
    let b = Bounds {
        min: 1,
        max: 7,
        names: &[],
    };
    for (expr, want) in [
        ("5", 1u64 << 5),
        ("5,6", 1 << 5 | 1 << 6),
        ("5,6,7", 1 << 5 | 1 << 6 | 1 << 7),
        ("1,5-7/2,3", 1 << 1 | 1 << 5 | 1 << 7 | 1 << 3),
    ] {
        assert_eq!(get_field(expr, b), Ok(want), "{expr}");
    }
}

#[test]
fn all_and_bits_tables() {
    for (r, want) in [
        (MINUTES, 0xfffffffffffffffu64),
        (HOURS, 0xffffff),
        (DOM, 0xfffffffe),
        (MONTHS, 0x1ffe),
        (DOW, 0x7f),
    ] {
        assert_eq!(all(r), want | STAR_BIT);
    }
    for (min, max, step, want) in [
        (0, 0, 1, 0x1),
        (1, 1, 1, 0x2),
        (1, 5, 2, 0x2a),
        (1, 4, 2, 0xa),
    ] {
        assert_eq!(get_bits(min, max, step), want);
    }
}

#[test]
fn parse_schedule_errors() {
    for (expr, want) in [
        ("* 5 j * * *", "failed to parse int from"),
        ("@every Xm", "failed to parse duration"),
        ("@unrecognized", "unrecognized descriptor"),
        ("* * * *", "expected 5 to 6 fields"),
        ("", "empty spec string"),
    ] {
        let e = parse_with_seconds(expr).unwrap_err();
        assert!(e.0.contains(want), "{expr}: {e}");
    }
}

fn every5min(loc: Tz) -> Schedule {
    Schedule::Spec(SpecSchedule {
        second: 1,
        minute: 1 << 5,
        hour: all(HOURS),
        dom: all(DOM),
        month: all(MONTHS),
        dow: all(DOW),
        location: loc,
    })
}

fn midnight(loc: Tz) -> Schedule {
    Schedule::Spec(SpecSchedule {
        second: 1,
        minute: 1,
        hour: 1,
        dom: all(DOM),
        month: all(MONTHS),
        dow: all(DOW),
        location: loc,
    })
}

fn annual(loc: Tz) -> Schedule {
    Schedule::Spec(SpecSchedule {
        second: 1,
        minute: 1,
        hour: 1,
        dom: 1 << 1,
        month: 1 << 1,
        dow: all(DOW),
        location: loc,
    })
}

#[test]
fn parse_schedule_table() {
    let tokyo = Tz::Asia__Tokyo;
    let utc = Tz::UTC;
    let entries: Vec<(bool, &str, Schedule)> = vec![
        (true, "0 5 * * * *", every5min(utc)),
        (false, "5 * * * *", every5min(utc)),
        (true, "CRON_TZ=UTC  0 5 * * * *", every5min(utc)),
        (false, "CRON_TZ=UTC  5 * * * *", every5min(utc)),
        (true, "CRON_TZ=Asia/Tokyo 0 5 * * * *", every5min(tokyo)),
        (
            true,
            "@every 5m",
            Schedule::Every {
                delay_us: 300 * US_PER_SEC,
            },
        ),
        (true, "@midnight", midnight(utc)),
        (true, "TZ=UTC  @midnight", midnight(utc)),
        (true, "TZ=Asia/Tokyo @midnight", midnight(tokyo)),
        (true, "@yearly", annual(utc)),
        (true, "@annually", annual(utc)),
        (
            true,
            "* 5 * * * *",
            Schedule::Spec(SpecSchedule {
                second: all(SECONDS),
                minute: 1 << 5,
                hour: all(HOURS),
                dom: all(DOM),
                month: all(MONTHS),
                dow: all(DOW),
                location: utc,
            }),
        ),
    ];
    for (seconds, expr, want) in entries {
        let got = if seconds {
            parse_with_seconds(expr)
        } else {
            parse_standard(expr)
        };
        assert_eq!(got, Ok(want), "{expr}");
    }
}

#[test]
fn standard_spec_schedule_table() {
    assert_eq!(parse_standard("5 * * * *"), Ok(every5min(Tz::UTC)));
    assert_eq!(
        parse_standard("@every 5m"),
        Ok(Schedule::Every {
            delay_us: 300 * US_PER_SEC
        })
    );
    let e = parse_standard("5 j * * *").unwrap_err();
    assert!(e.0.contains("failed to parse int from"), "{e}");
    assert_eq!(
        parse_standard("* * * *").unwrap_err().0,
        "expected exactly 5 fields, found 4: [* * * *]"
    );
}

#[test]
fn errors_table() {
    // spec_test.go TestErrors and TestSlash0NoHang.
    for spec in [
        "xyz",
        "60 0 * * *",
        "0 60 * * *",
        "0 0 * * XYZ",
        "TZ=America/New_York 15/0 * * * *",
    ] {
        assert!(parse_standard(spec).is_err(), "{spec}");
    }
}

#[test]
fn upstream_error_texts() {
    let e = |s: &str| parse_standard(s).unwrap_err().0;
    assert_eq!(e("61 * * * *"), "end of range (61) above maximum (59): 61");
    assert_eq!(e("0 0 * * 7"), "end of range (7) above maximum (6): 7");
    assert_eq!(
        e("0 0 L * *"),
        "failed to parse int from L: strconv.Atoi: parsing \"L\": invalid syntax"
    );
    assert_eq!(
        e("0 0 * * * *"),
        "expected exactly 5 fields, found 6: [0 0 * * * *]"
    );
    assert_eq!(
        e("@every 1x"),
        "failed to parse duration @every 1x: time: unknown unit \"x\" in duration \"1x\""
    );
    assert_eq!(
        e("TZ=Mars/Olympus * * * * *"),
        "provided bad location Mars/Olympus: unknown time zone Mars/Olympus"
    );
    assert_eq!(
        e("5-2 * * * *"),
        "beginning of range (5) beyond end of range (2): 5-2"
    );
}

// ---------------- spec_test.go ----------------

#[test]
fn activation_table() {
    let tests: &[(&str, &str, bool)] = &[
        // Every fifteen minutes.
        ("Mon Jul 9 15:00 2012", "0/15 * * * *", true),
        ("Mon Jul 9 15:45 2012", "0/15 * * * *", true),
        ("Mon Jul 9 15:40 2012", "0/15 * * * *", false),
        // Every fifteen minutes, starting at 5 minutes.
        ("Mon Jul 9 15:05 2012", "5/15 * * * *", true),
        ("Mon Jul 9 15:20 2012", "5/15 * * * *", true),
        ("Mon Jul 9 15:50 2012", "5/15 * * * *", true),
        // Named months
        ("Sun Jul 15 15:00 2012", "0/15 * * Jul *", true),
        ("Sun Jul 15 15:00 2012", "0/15 * * Jun *", false),
        // Everything set.
        ("Sun Jul 15 08:30 2012", "30 08 ? Jul Sun", true),
        ("Sun Jul 15 08:30 2012", "30 08 15 Jul ?", true),
        ("Mon Jul 16 08:30 2012", "30 08 ? Jul Sun", false),
        ("Mon Jul 16 08:30 2012", "30 08 15 Jul ?", false),
        // Predefined schedules
        ("Mon Jul 9 15:00 2012", "@hourly", true),
        ("Mon Jul 9 15:04 2012", "@hourly", false),
        ("Mon Jul 9 15:00 2012", "@daily", false),
        ("Mon Jul 9 00:00 2012", "@daily", true),
        ("Mon Jul 9 00:00 2012", "@weekly", false),
        ("Sun Jul 8 00:00 2012", "@weekly", true),
        ("Sun Jul 8 01:00 2012", "@weekly", false),
        ("Sun Jul 8 00:00 2012", "@monthly", false),
        ("Sun Jul 1 00:00 2012", "@monthly", true),
        // If both DOM and DOW are restricted, only one needs to match.
        ("Sun Jul 15 00:00 2012", "* * 1,15 * Sun", true),
        ("Fri Jun 15 00:00 2012", "* * 1,15 * Sun", true),
        ("Wed Aug 1 00:00 2012", "* * 1,15 * Sun", true),
        ("Sun Jul 15 00:00 2012", "* * */10 * Sun", true), // robfig#70
        // However, if one has a star, then both need to match.
        ("Sun Jul 15 00:00 2012", "* * * * Mon", false),
        ("Mon Jul 9 00:00 2012", "* * 1,15 * *", false),
        ("Sun Jul 15 00:00 2012", "* * 1,15 * *", true),
        ("Sun Jul 15 00:00 2012", "* * */2 * Sun", true),
    ];
    for (time, spec, expected) in tests {
        let sched = parse_standard(spec).unwrap();
        let at = get_time(time).unwrap();
        let actual = sched.next(at - US_PER_SEC);
        assert_eq!(
            actual == Some(at),
            *expected,
            "{spec} at {time}: {actual:?}"
        );
    }
}

#[test]
fn next_table() {
    // (time, spec, expected); upstream's rows for the `L` extension (added
    // after v3.0.1, rejected by v3.0.1 and so by Kubernetes) are left out.
    let runs: &[(&str, &str, &str)] = &[
        // Simple cases
        (
            "Mon Jul 9 14:45 2012",
            "0 0/15 * * * *",
            "Mon Jul 9 15:00 2012",
        ),
        (
            "Mon Jul 9 14:59 2012",
            "0 0/15 * * * *",
            "Mon Jul 9 15:00 2012",
        ),
        (
            "Mon Jul 9 14:59:59 2012",
            "0 0/15 * * * *",
            "Mon Jul 9 15:00 2012",
        ),
        // Wrap around hours
        (
            "Mon Jul 9 15:45 2012",
            "0 20-35/15 * * * *",
            "Mon Jul 9 16:20 2012",
        ),
        // Wrap around days
        (
            "Mon Jul 9 23:46 2012",
            "0 */15 * * * *",
            "Tue Jul 10 00:00 2012",
        ),
        (
            "Mon Jul 9 23:45 2012",
            "0 20-35/15 * * * *",
            "Tue Jul 10 00:20 2012",
        ),
        (
            "Mon Jul 9 23:35:51 2012",
            "15/35 20-35/15 * * * *",
            "Tue Jul 10 00:20:15 2012",
        ),
        (
            "Mon Jul 9 23:35:51 2012",
            "15/35 20-35/15 1/2 * * *",
            "Tue Jul 10 01:20:15 2012",
        ),
        (
            "Mon Jul 9 23:35:51 2012",
            "15/35 20-35/15 10-12 * * *",
            "Tue Jul 10 10:20:15 2012",
        ),
        (
            "Mon Jul 9 23:35:51 2012",
            "15/35 20-35/15 1/2 */2 * *",
            "Thu Jul 11 01:20:15 2012",
        ),
        (
            "Mon Jul 9 23:35:51 2012",
            "15/35 20-35/15 * 9-20 * *",
            "Wed Jul 10 00:20:15 2012",
        ),
        (
            "Mon Jul 9 23:35:51 2012",
            "15/35 20-35/15 * 9-20 Jul *",
            "Wed Jul 10 00:20:15 2012",
        ),
        // Wrap around months
        (
            "Mon Jul 9 23:35 2012",
            "0 0 0 9 Apr-Oct ?",
            "Thu Aug 9 00:00 2012",
        ),
        (
            "Mon Jul 9 23:35 2012",
            "0 0 0 */5 Apr,Aug,Oct Mon",
            "Tue Aug 1 00:00 2012",
        ),
        (
            "Mon Jul 9 23:35 2012",
            "0 0 0 */5 Oct Mon",
            "Mon Oct 1 00:00 2012",
        ),
        // Wrap around years
        (
            "Mon Jul 9 23:35 2012",
            "0 0 0 * Feb Mon",
            "Mon Feb 4 00:00 2013",
        ),
        (
            "Mon Jul 9 23:35 2012",
            "0 0 0 * Feb Mon/2",
            "Fri Feb 1 00:00 2013",
        ),
        // Wrap around minute, hour, day, month, and year
        (
            "Mon Dec 31 23:59:45 2012",
            "0 * * * * *",
            "Tue Jan 1 00:00:00 2013",
        ),
        // Leap year
        (
            "Mon Jul 9 23:35 2012",
            "0 0 0 29 Feb ?",
            "Mon Feb 29 00:00 2016",
        ),
        // Daylight savings time 2am EST (-5) -> 3am EDT (-4)
        (
            "2012-03-11T00:00:00-0500",
            "TZ=America/New_York 0 30 2 11 Mar ?",
            "2013-03-11T02:30:00-0400",
        ),
        // hourly job
        (
            "2012-03-11T00:00:00-0500",
            "TZ=America/New_York 0 0 * * * ?",
            "2012-03-11T01:00:00-0500",
        ),
        (
            "2012-03-11T01:00:00-0500",
            "TZ=America/New_York 0 0 * * * ?",
            "2012-03-11T03:00:00-0400",
        ),
        (
            "2012-03-11T03:00:00-0400",
            "TZ=America/New_York 0 0 * * * ?",
            "2012-03-11T04:00:00-0400",
        ),
        (
            "2012-03-11T04:00:00-0400",
            "TZ=America/New_York 0 0 * * * ?",
            "2012-03-11T05:00:00-0400",
        ),
        // hourly job using CRON_TZ
        (
            "2012-03-11T00:00:00-0500",
            "CRON_TZ=America/New_York 0 0 * * * ?",
            "2012-03-11T01:00:00-0500",
        ),
        (
            "2012-03-11T01:00:00-0500",
            "CRON_TZ=America/New_York 0 0 * * * ?",
            "2012-03-11T03:00:00-0400",
        ),
        (
            "2012-03-11T03:00:00-0400",
            "CRON_TZ=America/New_York 0 0 * * * ?",
            "2012-03-11T04:00:00-0400",
        ),
        (
            "2012-03-11T04:00:00-0400",
            "CRON_TZ=America/New_York 0 0 * * * ?",
            "2012-03-11T05:00:00-0400",
        ),
        // 1am nightly job
        (
            "2012-03-11T00:00:00-0500",
            "TZ=America/New_York 0 0 1 * * ?",
            "2012-03-11T01:00:00-0500",
        ),
        (
            "2012-03-11T01:00:00-0500",
            "TZ=America/New_York 0 0 1 * * ?",
            "2012-03-12T01:00:00-0400",
        ),
        // 2am nightly job (skipped)
        (
            "2012-03-11T00:00:00-0500",
            "TZ=America/New_York 0 0 2 * * ?",
            "2012-03-12T02:00:00-0400",
        ),
        // Daylight savings time 2am EDT (-4) => 1am EST (-5)
        (
            "2012-11-04T00:00:00-0400",
            "TZ=America/New_York 0 30 2 04 Nov ?",
            "2012-11-04T02:30:00-0500",
        ),
        (
            "2012-11-04T01:45:00-0400",
            "TZ=America/New_York 0 30 1 04 Nov ?",
            "2012-11-04T01:30:00-0500",
        ),
        // hourly job
        (
            "2012-11-04T00:00:00-0400",
            "TZ=America/New_York 0 0 * * * ?",
            "2012-11-04T01:00:00-0400",
        ),
        (
            "2012-11-04T01:00:00-0400",
            "TZ=America/New_York 0 0 * * * ?",
            "2012-11-04T01:00:00-0500",
        ),
        (
            "2012-11-04T01:00:00-0500",
            "TZ=America/New_York 0 0 * * * ?",
            "2012-11-04T02:00:00-0500",
        ),
        // 1am nightly job (runs twice)
        (
            "2012-11-04T00:00:00-0400",
            "TZ=America/New_York 0 0 1 * * ?",
            "2012-11-04T01:00:00-0400",
        ),
        (
            "2012-11-04T01:00:00-0400",
            "TZ=America/New_York 0 0 1 * * ?",
            "2012-11-04T01:00:00-0500",
        ),
        (
            "2012-11-04T01:00:00-0500",
            "TZ=America/New_York 0 0 1 * * ?",
            "2012-11-05T01:00:00-0500",
        ),
        // 2am nightly job
        (
            "2012-11-04T00:00:00-0400",
            "TZ=America/New_York 0 0 2 * * ?",
            "2012-11-04T02:00:00-0500",
        ),
        (
            "2012-11-04T02:00:00-0500",
            "TZ=America/New_York 0 0 2 * * ?",
            "2012-11-05T02:00:00-0500",
        ),
        // 3am nightly job
        (
            "2012-11-04T00:00:00-0400",
            "TZ=America/New_York 0 0 3 * * ?",
            "2012-11-04T03:00:00-0500",
        ),
        (
            "2012-11-04T03:00:00-0500",
            "TZ=America/New_York 0 0 3 * * ?",
            "2012-11-05T03:00:00-0500",
        ),
        // Unsatisfiable
        ("Mon Jul 9 23:35 2012", "0 0 0 30 Feb ?", ""),
        ("Mon Jul 9 23:35 2012", "0 0 0 31 Apr ?", ""),
        // Monthly job
        (
            "TZ=America/New_York 2012-11-04T00:00:00-0400",
            "TZ=America/New_York 0 0 3 3 * ?",
            "2012-12-03T03:00:00-0500",
        ),
        // DST making midnight invalid (robfig#157).
        (
            "2018-10-17T05:00:00-0400",
            "TZ=America/Sao_Paulo 0 0 9 10 * ?",
            "2018-11-10T06:00:00-0500",
        ),
        (
            "2018-02-14T05:00:00-0500",
            "TZ=America/Sao_Paulo 0 0 9 22 * ?",
            "2018-02-22T07:00:00-0500",
        ),
    ];
    for (time, spec, expected) in runs {
        let sched = parse_with_seconds(spec).unwrap();
        let actual = sched.next(get_time(time).unwrap());
        assert_eq!(actual, get_time(expected), "{time}, {spec:?}");
    }
}

#[test]
fn next_with_tz_table() {
    // TestNextWithTz: upstream evaluates a zone-less schedule in the zone of
    // the time given (+05:30); kubesim's zone-less schedules are UTC, so the
    // zone is named instead.
    for (time, s, expected) in [
        (
            "2016-01-03T13:09:03+0530",
            "14 14 * * *",
            "2016-01-03T14:14:00+0530",
        ),
        (
            "2016-01-03T04:09:03+0530",
            "14 14 * * ?",
            "2016-01-03T14:14:00+0530",
        ),
        (
            "2016-01-03T14:09:03+0530",
            "14 14 * * *",
            "2016-01-03T14:14:00+0530",
        ),
        (
            "2016-01-03T14:00:00+0530",
            "14 14 * * ?",
            "2016-01-03T14:14:00+0530",
        ),
    ] {
        let sched = parse_standard(&format!("TZ=Asia/Kolkata {s}")).unwrap();
        assert_eq!(
            sched.next(get_time(time).unwrap()),
            get_time(expected),
            "{time} {s}"
        );
    }
}

#[test]
fn every_schedule() {
    // constantdelay_test.go: delays below a second round up; sub-second
    // parts are dropped; Next lands on whole seconds.
    let s = parse_standard("@every 1h30m").unwrap();
    assert_eq!(
        s,
        Schedule::Every {
            delay_us: 5400 * US_PER_SEC
        }
    );
    let t0 = get_time("Mon Jul 9 14:45 2012").unwrap();
    assert_eq!(s.next(t0), Some(t0 + 5400 * US_PER_SEC));
    assert_eq!(s.next(t0 + 250_000), Some(t0 + 5400 * US_PER_SEC));
    assert_eq!(
        parse_standard("@every 100ms").unwrap(),
        Schedule::Every {
            delay_us: US_PER_SEC
        }
    );
    assert_eq!(
        parse_standard("@every 1.5s").unwrap(),
        Schedule::Every {
            delay_us: US_PER_SEC
        }
    );
    assert_eq!(
        parse_standard("@every -1h").unwrap(),
        Schedule::Every {
            delay_us: US_PER_SEC
        }
    );
}

#[test]
fn go_parse_duration_table() {
    // Go's time_test.go parseDurationTests (a selection).
    for (s, want) in [
        ("0", 0i64),
        ("5s", 5_000_000_000),
        ("30s", 30_000_000_000),
        ("1478s", 1_478_000_000_000),
        ("-5s", -5_000_000_000),
        ("+5s", 5_000_000_000),
        ("-0", 0),
        ("+0", 0),
        ("5.0s", 5_000_000_000),
        ("5.6s", 5_600_000_000),
        ("5.s", 5_000_000_000),
        (".5s", 500_000_000),
        ("1.0s", 1_000_000_000),
        ("1.004s", 1_004_000_000),
        ("100.00100s", 100_001_000_000),
        ("10ns", 10),
        ("11us", 11_000),
        ("12µs", 12_000),
        ("12μs", 12_000),
        ("13ms", 13_000_000),
        ("14s", 14_000_000_000),
        ("15m", 900_000_000_000),
        ("16h", 57_600_000_000_000),
        ("3h30m", 12_600_000_000_000),
        ("10.5s4m", 250_500_000_000),
        ("-2m3.4s", -123_400_000_000),
        ("1h2m3s4ms5us6ns", 3_723_004_005_006),
        ("39h9m14.425s", 140_954_425_000_000),
        ("52763797000ns", 52_763_797_000),
        ("0.3333333333333333333h", 1_200_000_000_000),
        ("9007199254740993ns", 9_007_199_254_740_993),
        ("9223372036854775807ns", i64::MAX),
        ("9223372036854775.807us", i64::MAX),
        ("9223372036s854ms775us807ns", i64::MAX),
        ("-9223372036854775808ns", i64::MIN),
        ("-9223372036854775.808us", i64::MIN),
        ("-9223372036s854ms775us808ns", i64::MIN),
        ("-2562047h47m16.854775808s", i64::MIN),
        ("0.100000000000000000000h", 360_000_000_000),
        ("0.830103483285477580700h", 2_988_372_539_827),
    ] {
        assert_eq!(parse_go_duration(s), Ok(want), "{s}");
    }
    for (s, want) in [
        ("", "time: invalid duration \"\""),
        ("3", "time: missing unit in duration \"3\""),
        ("-", "time: invalid duration \"-\""),
        ("s", "time: invalid duration \"s\""),
        (".", "time: invalid duration \".\""),
        ("-.", "time: invalid duration \"-.\""),
        (".s", "time: invalid duration \".s\""),
        ("+.s", "time: invalid duration \"+.s\""),
        ("1d", "time: unknown unit \"d\" in duration \"1d\""),
        (
            "\u{85}\u{85}",
            "time: invalid duration \"\\xc2\\x85\\xc2\\x85\"",
        ),
        (
            "9223372036854775808ns",
            "time: invalid duration \"9223372036854775808ns\"",
        ),
        (
            "9223372036854775.808us",
            "time: invalid duration \"9223372036854775.808us\"",
        ),
        (
            "-9223372036854775809ns",
            "time: invalid duration \"-9223372036854775809ns\"",
        ),
        ("3000000h", "time: invalid duration \"3000000h\""),
    ] {
        assert_eq!(parse_go_duration(s), Err(want.to_string()), "{s:?}");
    }
}

// ---------------- Kubernetes API validation ----------------

#[test]
fn validation() {
    assert!(validate_schedule("*/1 * * * *").is_empty());
    assert!(validate_schedule("@every 1h").is_empty());
    assert_eq!(
        validate_schedule("TZ=UTC 0 * * * *"),
        vec!["cannot use TZ or CRON_TZ in schedule, use timeZone field instead"]
    );
    assert_eq!(
        validate_schedule("CRON_TZ=Bad/Zone 0 * * * *"),
        vec![
            "provided bad location Bad/Zone: unknown time zone Bad/Zone",
            "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
        ]
    );
    assert_eq!(
        validate_schedule("61 * * * *"),
        vec!["end of range (61) above maximum (59): 61"]
    );
    // validation_test.go TestValidateCronJob time zones.
    assert!(validate_time_zone("America/New_York").is_empty());
    assert!(validate_time_zone("Etc/GMT+12").is_empty());
    assert!(validate_time_zone("UTC").is_empty());
    assert_eq!(
        validate_time_zone(""),
        vec!["timeZone must be nil or non-empty string"]
    );
    assert_eq!(
        validate_time_zone("Local"),
        vec![
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"
        ]
    );
    assert_eq!(
        validate_time_zone("Europe/Pariss"),
        vec!["unknown time zone Europe/Pariss"]
    );
    for bad in [
        " Continent/Zone",
        "Continent/Zone ",
        "Continent/../Zone",
        "../Zone",
        "/Zone",
        "Zone/",
        "-Zone",
        "Averyveryverylongzonename",
    ] {
        assert_eq!(
            validate_time_zone(bad),
            vec![format!("unknown time zone {bad}")],
            "{bad}"
        );
    }
    // formatSchedule
    let s = cronjob_schedule("30 1 * * *", Some("America/New_York")).unwrap();
    assert_eq!(spec(&s).location, Tz::America__New_York);
}

#[test]
fn rfc3339_round_trip() {
    let t = parse_rfc3339("2026-03-01T00:00:00Z").unwrap();
    assert_eq!(t, 1_772_323_200 * US_PER_SEC);
    assert_eq!(format_rfc3339(t), "2026-03-01T00:00:00Z");
    assert_eq!(parse_rfc3339("2026-03-01T01:00:00+01:00").unwrap(), t);
    assert_eq!(format_rfc3339(t + 1), "2026-03-01T00:00:00.000001Z");
    assert!(parse_rfc3339("2026-03-01").is_err());
}

// ---------------- ECOSYSTEM.md §3 golden table ----------------

/// `golden.tsv`: schedule, time zone (`-` for none), start (RFC 3339),
/// then either the next activations in order (each after the previous)
/// or `ERR <message>`.
#[test]
fn ecosystem_golden_table() {
    let data = include_str!("golden.tsv");
    let mut rows = 0;
    for (i, line) in data.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(cols.len() >= 4, "line {}: {line}", i + 1);
        let tz = (cols[1] != "-").then_some(cols[1]);
        let sched = cronjob_schedule(cols[0], tz);
        if let Some(msg) = cols[3].strip_prefix("ERR ") {
            assert_eq!(sched.unwrap_err().0, msg, "line {}", i + 1);
            rows += 1;
            continue;
        }
        let sched = sched.unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
        let mut t = parse_rfc3339(cols[2]).unwrap();
        for want in &cols[3..] {
            let next = sched.next(t).unwrap();
            assert_eq!(format_rfc3339(next), *want, "line {}: {}", i + 1, cols[0]);
            t = next;
        }
        rows += 1;
    }
    assert!(rows >= 15, "{rows} rows");
}

// ---------------- properties ----------------

/// Whether the minute starting at `t_us` (a whole minute) matches.
fn naive_matches(s: &SpecSchedule, t_us: i64) -> bool {
    s.matches(t_us)
}

fn field_strategy(min: u32, max: u32, names: &'static [&'static str]) -> BoxedStrategy<String> {
    let single = (min..=max).prop_map(|v| v.to_string());
    let range = (min..=max, min..=max).prop_map(|(a, b)| {
        let (a, b) = (a.min(b), a.max(b));
        format!("{a}-{b}")
    });
    let step = (min..=max, 1u32..=(max - min + 2)).prop_map(|(a, s)| format!("{a}/{s}"));
    let star_step = (1u32..=(max - min + 2)).prop_map(|s| format!("*/{s}"));
    let item = prop_oneof![
        3 => single,
        2 => range,
        1 => step,
        1 => star_step,
    ];
    let list = prop::collection::vec(item, 1..3).prop_map(|v| v.join(","));
    if names.is_empty() {
        prop_oneof![2 => Just("*".to_string()), 5 => list].boxed()
    } else {
        let named = prop::sample::select(names.to_vec()).prop_map(|s| s.to_string());
        prop_oneof![2 => Just("*".to_string()), 1 => Just("?".to_string()), 5 => list, 1 => named]
            .boxed()
    }
}

fn schedule_strategy() -> impl Strategy<Value = String> {
    (
        field_strategy(0, 59, &[]),
        field_strategy(0, 23, &[]),
        field_strategy(1, 31, &[]),
        field_strategy(1, 12, &["jan", "FEB", "Jun", "dec"]),
        field_strategy(0, 6, &["sun", "MON", "Fri"]),
    )
        .prop_map(|(a, b, c, d, e)| format!("{a} {b} {c} {d} {e}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// next(t) > t, next(t) matches, and no whole minute strictly between t
    /// and next(t) matches (UTC, so no DST: every wall minute exists once).
    #[test]
    fn next_is_the_first_match(
        spec_text in schedule_strategy(),
        start_min in 0i64..(6 * 365 * 24 * 60),
        sub_us in 0i64..60_000_000,
    ) {
        let sched = parse_standard(&spec_text).unwrap();
        let s = spec(&sched).clone();
        let t = parse_rfc3339("2024-01-01T00:00:00Z").unwrap() + start_min * 60 * US_PER_SEC + sub_us;
        if let Some(n) = sched.next(t) {
            prop_assert!(n > t);
            prop_assert_eq!(n.rem_euclid(60 * US_PER_SEC), 0);
            prop_assert!(naive_matches(&s, n), "{} at {}", spec_text, format_rfc3339(n));
            // Scan at most 40 days minute by minute.
            let first = (t.div_euclid(60 * US_PER_SEC) + 1) * 60 * US_PER_SEC;
            let mut m = first;
            let limit = (n - first) / (60 * US_PER_SEC);
            prop_assume!(limit < 40 * 24 * 60);
            while m < n {
                prop_assert!(!naive_matches(&s, m), "{} matches {} before {}", spec_text, format_rfc3339(m), format_rfc3339(n));
                m += 60 * US_PER_SEC;
            }
        }
    }

    /// Parsing never panics on arbitrary text.
    #[test]
    fn parse_never_panics(s in "\\PC{0,40}") {
        let _ = parse_standard(&s);
        let _ = validate_schedule(&s);
        let _ = validate_time_zone(&s);
    }

    /// In a zone with DST, next(t) is still strictly later and matches the
    /// wall-clock fields.
    #[test]
    fn next_with_dst_is_later_and_matches(
        spec_text in schedule_strategy(),
        start_min in 0i64..(3 * 365 * 24 * 60),
    ) {
        let sched = cronjob_schedule(&spec_text, Some("America/New_York")).unwrap();
        let s = spec(&sched).clone();
        let t = parse_rfc3339("2025-01-01T00:00:00Z").unwrap() + start_min * 60 * US_PER_SEC;
        if let Some(n) = sched.next(t) {
            prop_assert!(n > t);
            prop_assert!(s.matches(n));
        }
    }
}
