//! The CronJob controller (upstream pkg/controller/cronjob/
//! cronjob_controllerv2.go and utils.go, v1.35): at each schedule time
//! (robfig/cron semantics, [`crate::model::cron`], in `spec.timeZone`) it
//! creates a Job named `<cronjob>-<scheduled time in minutes since the
//! epoch>` from `spec.jobTemplate`, unless `suspend` is set, the start is
//! later than `startingDeadlineSeconds`, or `concurrencyPolicy: Forbid`
//! finds a Job still active (`Replace` deletes the active Jobs first).
//! It tracks the active Jobs, `lastScheduleTime` / `lastSuccessfulTime`,
//! deletes finished Jobs beyond `successfulJobsHistoryLimit` (3) and
//! `failedJobsHistoryLimit` (1), oldest start first, and requeues itself
//! 100 ms after the next schedule time (`nextScheduleDelta`). Upstream's
//! `mostRecentScheduleTime` is ported with its approximate count of missed
//! starts: more than 100 logs `TooManyMissedTimes` and still starts the
//! most recent one.
//!
//! Simulated time maps to wall-clock time through the Scenario's
//! `spec.startTime` (`Api::wall_clock_start_us`).

use super::{
    Api, Controller, Propagation, Workload, WorkloadBody, WorkloadId, WorkloadKind, WorkloadRow,
};
use crate::engine::{Duration, SimTime};
use crate::model::batch::{ConcurrencyPolicy, CronJob, Job};
use crate::model::cron::{format_rfc3339, Schedule};

/// Upstream `nextScheduleDelta`.
pub const NEXT_SCHEDULE_DELTA: Duration = Duration::from_millis(100);
/// The annotation a CronJob's Job carries with its scheduled time.
pub const ANN_SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

pub struct CronJobController;

impl Controller for CronJobController {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::CronJob
    }
    fn sync(&self, api: &mut dyn Api, id: WorkloadId) {
        sync_cronjob(api, id);
    }
    fn sample(&self, w: &Workload) -> Option<WorkloadRow> {
        let WorkloadBody::CronJob(c) = &w.body else {
            return None;
        };
        Some(WorkloadRow {
            kind: "CronJob",
            namespace: w.meta.namespace.clone(),
            name: w.meta.name.clone(),
            desired: None,
            current: c.status.active.len() as i32,
            ready: 0,
            available: c.status.jobs_succeeded,
            updated: Some(c.status.jobs_failed),
            ..Default::default()
        })
    }
}

/// How many starts were missed (upstream `missedSchedulesType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missed {
    None,
    Few,
    Many,
}

/// Upstream `mostRecentScheduleTime` over wall-clock µs: returns the
/// earliest time considered, the most recent schedule time `<= now` after
/// it (if any) and how many starts were missed. `Err` for a schedule whose
/// two next times are less than a second apart (never satisfiable).
pub fn most_recent_schedule_time(
    schedule: &Schedule,
    creation: i64,
    last_schedule: Option<i64>,
    starting_deadline_seconds: Option<i64>,
    now: i64,
) -> Result<(i64, Option<i64>, Missed), String> {
    let mut earliest = last_schedule.unwrap_or(creation);
    if let Some(sds) = starting_deadline_seconds {
        let deadline = now.saturating_sub(sds.saturating_mul(1_000_000));
        if deadline > earliest {
            earliest = deadline;
        }
    }
    let Some(t1) = schedule.next(earliest) else {
        return Ok((earliest, None, Missed::None));
    };
    if now < t1 {
        return Ok((earliest, None, Missed::None));
    }
    let Some(t2) = schedule.next(t1) else {
        return Ok((earliest, Some(t1), Missed::None));
    };
    if now < t2 {
        return Ok((earliest, Some(t1), Missed::None));
    }
    // Seconds between two schedules, rounded half away from zero.
    let between = t2
        .saturating_sub(t1)
        .saturating_add(500_000)
        .div_euclid(1_000_000);
    if between < 1 {
        return Err("time difference between two schedules is less than 1 second".into());
    }
    let elapsed = now.saturating_sub(t1) / 1_000_000;
    let missed = elapsed / between + 1;
    let potential_earliest = t1.saturating_add(
        (missed - 2)
            .saturating_mul(between)
            .saturating_mul(1_000_000),
    );
    let mut most_recent = None;
    let mut t = schedule.next(potential_earliest);
    while let Some(x) = t {
        if x > now {
            break;
        }
        most_recent = Some(x);
        t = schedule.next(x);
    }
    let kind = if missed > 100 {
        Missed::Many
    } else if missed > 0 {
        Missed::Few
    } else {
        Missed::None
    };
    Ok((earliest, most_recent, kind))
}

/// Upstream `nextScheduleTimeDuration`: from `now` to 100 ms after the
/// next schedule time (ignoring startingDeadlineSeconds).
fn next_schedule_duration(
    schedule: &Schedule,
    creation: i64,
    last: Option<i64>,
    now: i64,
) -> Option<Duration> {
    let (earliest, recent, missed) =
        most_recent_schedule_time(schedule, creation, last, None, now).ok()?;
    let base = match recent {
        Some(r) => r,
        None if missed == Missed::None => earliest,
        None => return None,
    };
    let next = schedule.next(base)?;
    let at = next.saturating_add(NEXT_SCHEDULE_DELTA.as_micros() as i64);
    Some(Duration(at.saturating_sub(now).max(0) as u64))
}

/// The Job name for a scheduled time (upstream `getJobName`).
pub fn job_name(cronjob: &str, scheduled_us: i64) -> String {
    format!("{cronjob}-{}", scheduled_us.div_euclid(60_000_000))
}

fn sync_cronjob(api: &mut dyn Api, id: WorkloadId) {
    let w = api.store().get(id).clone();
    if w.removed {
        return;
    }
    let WorkloadBody::CronJob(cj) = &w.body else {
        return;
    };
    let mut cj: CronJob = (**cj).clone();
    let ns = w.meta.namespace.clone();
    let desc = w.describe();
    let start = api.wall_clock_start_us();
    let to_wall =
        |t: SimTime| start.saturating_add(i64::try_from(t.as_micros()).unwrap_or(i64::MAX));
    let now_sim = api.now();
    let now = to_wall(now_sim);

    // Child Jobs (controller reference to this CronJob).
    let children: Vec<WorkloadId> = api
        .store()
        .of_kind_in(WorkloadKind::Job, &ns)
        .into_iter()
        .filter(|j| {
            api.store()
                .get(*j)
                .meta
                .controller_ref()
                .is_some_and(|r| r.uid == w.meta.uid)
        })
        .collect();
    let mut active = Vec::new();
    let mut finished_ok: Vec<(SimTime, WorkloadId)> = Vec::new();
    let mut finished_failed: Vec<(SimTime, WorkloadId)> = Vec::new();
    for j in &children {
        let jw = api.store().get(*j);
        let WorkloadBody::Job(job) = &jw.body else {
            continue;
        };
        let start_key = job.status.start_time.unwrap_or(SimTime::MAX);
        if let Some(_fin) = job.status.finished() {
            let ok = job.status.condition("Complete");
            if ok {
                finished_ok.push((start_key, *j));
            } else {
                finished_failed.push((start_key, *j));
            }
            if cj.status.counted.insert(jw.meta.name.clone()) {
                if ok {
                    cj.status.jobs_succeeded += 1;
                    let ct = job.status.completion_time;
                    if ct > cj.status.last_successful_time {
                        cj.status.last_successful_time = ct;
                    }
                } else {
                    cj.status.jobs_failed += 1;
                }
                if cj.status.active.contains(&jw.meta.name) {
                    api.record(
                        "SawCompletedJob",
                        None,
                        &format!(
                            "{desc}: saw completed job {}, condition {}",
                            jw.meta.name,
                            if ok { "Complete" } else { "Failed" }
                        ),
                    );
                }
            }
        } else if jw.active() {
            active.push(jw.meta.name.clone());
        }
    }
    active.sort();
    cj.status.active = active;

    if w.meta.deletion_timestamp.is_some() {
        write_back(api, id, cj);
        return;
    }

    // History limits (upstream cleanupFinishedJobs / removeOldestJobs).
    for (list, limit) in [
        (&mut finished_ok, cj.successful_jobs_history_limit),
        (&mut finished_failed, cj.failed_jobs_history_limit),
    ] {
        let limit = limit.max(0) as usize;
        if list.len() > limit {
            list.sort_by(|a, b| {
                a.0.cmp(&b.0).then_with(|| {
                    api.store()
                        .get(a.1)
                        .meta
                        .name
                        .cmp(&api.store().get(b.1).meta.name)
                })
            });
            let n = list.len() - limit;
            for (_, j) in list.iter().take(n) {
                let name = api.store().get(*j).meta.name.clone();
                api.record(
                    "SuccessfulDelete",
                    None,
                    &format!("{desc}: deleted job {name}"),
                );
                api.delete_workload(*j, Propagation::Background);
            }
        }
    }

    if cj.suspend {
        write_back(api, id, cj);
        return;
    }

    let creation = to_wall(w.meta.creation_timestamp);
    let last = cj.status.last_schedule_time.map(to_wall);
    let sched = cj.parsed.clone();
    let requeue = |api: &mut dyn Api, cj: &CronJob| {
        let last = cj.status.last_schedule_time.map(to_wall);
        if let Some(d) = next_schedule_duration(&sched, creation, last, now) {
            api.enqueue_after(id, d);
        }
    };
    let scheduled = match most_recent_schedule_time(
        &sched,
        creation,
        last,
        cj.starting_deadline_seconds,
        now,
    ) {
        Err(e) => {
            api.record(
                "InvalidSchedule",
                Some("InvalidSchedule"),
                &format!("{desc}: invalid schedule: {e}"),
            );
            write_back(api, id, cj);
            return;
        }
        Ok((_, None, _)) => {
            requeue(api, &cj);
            write_back(api, id, cj);
            return;
        }
        Ok((_, Some(t), missed)) => {
            if missed == Missed::Many {
                api.record(
                    "TooManyMissedTimes",
                    Some("TooManyMissedTimes"),
                    &format!("{desc}: too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew"),
                );
            }
            t
        }
    };
    if let Some(sds) = cj.starting_deadline_seconds {
        if scheduled + sds.saturating_mul(1_000_000) < now {
            api.record(
                "MissSchedule",
                Some("MissSchedule"),
                &format!(
                    "{desc}: missed scheduled time to start a job: {}",
                    format_rfc3339(scheduled)
                ),
            );
            requeue(api, &cj);
            write_back(api, id, cj);
            return;
        }
    }
    let name = job_name(&w.meta.name, scheduled);
    if cj.status.active.contains(&name) || last == Some(scheduled) {
        requeue(api, &cj);
        write_back(api, id, cj);
        return;
    }
    if cj.concurrency_policy == ConcurrencyPolicy::Forbid && !cj.status.active.is_empty() {
        api.record(
            "JobAlreadyActive",
            None,
            &format!("{desc}: not starting job because prior execution is running and concurrency policy is Forbid"),
        );
        requeue(api, &cj);
        write_back(api, id, cj);
        return;
    }
    if cj.concurrency_policy == ConcurrencyPolicy::Replace {
        for a in cj.status.active.clone() {
            if let Some(j) = api.store().lookup(WorkloadKind::Job, &ns, &a) {
                api.record(
                    "SuccessfulDelete",
                    None,
                    &format!("{desc}: deleted job {a}"),
                );
                api.delete_workload(j, Propagation::Background);
            }
        }
        cj.status.active.clear();
    }
    // Create the Job from the template.
    let mut job: Job = cj.job_template.clone();
    job.status = Default::default();
    let mut meta = crate::model::workload::meta(&ns, &name);
    meta.labels = cj.job_labels.clone();
    meta.annotations = cj.job_annotations.clone();
    meta.annotations
        .insert(ANN_SCHEDULED_TIMESTAMP.into(), format_rfc3339(scheduled));
    meta.owner_references = vec![w.controller_ref()];
    let created = api.create_workload(Workload::new(meta, WorkloadBody::Job(Box::new(job))));
    match created {
        Some(_) => {
            api.record(
                "CronJobScheduled",
                None,
                &format!(
                    "{desc} scheduled {} for {}",
                    name,
                    format_rfc3339(scheduled)
                ),
            );
            api.record(
                "JobCreated",
                None,
                &format!("Job {ns}/{name} created by {desc}"),
            );
            cj.status.active.push(name);
            cj.status.active.sort();
        }
        None => {
            // Already exists (upstream: AlreadyExists, treated as created).
            api.record(
                "JobAlreadyExists",
                None,
                &format!("{desc}: job {name} already exists"),
            );
        }
    }
    let sched_sim = scheduled.saturating_sub(start);
    cj.status.last_schedule_time = Some(SimTime(sched_sim.max(0) as u64));
    requeue(api, &cj);
    write_back(api, id, cj);
}

fn write_back(api: &mut dyn Api, id: WorkloadId, cj: CronJob) {
    if let WorkloadBody::CronJob(c) = &mut api.store_mut().get_mut(id).body {
        **c = cj;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::cron::{parse_rfc3339, parse_standard};

    fn t(s: &str) -> i64 {
        parse_rfc3339(s).unwrap()
    }

    /// utils_test.go `TestMostRecentScheduleTime` (cases ported).
    #[test]
    fn most_recent_schedule_time_table() {
        let top_of_hour = t("2016-05-19T10:00:00Z");
        let hourly = parse_standard("0 * * * *").unwrap();
        let every_min = parse_standard("*/1 * * * *").unwrap();
        // Not past the first schedule yet.
        assert_eq!(
            most_recent_schedule_time(
                &hourly,
                top_of_hour - 60_000_000 * 10,
                None,
                None,
                top_of_hour - 1
            )
            .unwrap(),
            (top_of_hour - 600_000_000, None, Missed::None)
        );
        // Exactly at the first schedule.
        assert_eq!(
            most_recent_schedule_time(&hourly, top_of_hour - 600_000_000, None, None, top_of_hour)
                .unwrap()
                .1,
            Some(top_of_hour)
        );
        // Two schedules missed: the latest is returned, "few" missed.
        let r = most_recent_schedule_time(
            &hourly,
            top_of_hour - 600_000_000,
            None,
            None,
            top_of_hour + 3_600_000_000 + 1,
        )
        .unwrap();
        assert_eq!(r.1, Some(top_of_hour + 3_600_000_000));
        assert_eq!(r.2, Missed::Few);
        // More than 100 missed (every minute for 2 hours).
        let r = most_recent_schedule_time(
            &every_min,
            top_of_hour,
            None,
            None,
            top_of_hour + 2 * 3_600_000_000 + 30_000_000,
        )
        .unwrap();
        assert_eq!(r.1, Some(top_of_hour + 2 * 3_600_000_000));
        assert_eq!(r.2, Missed::Many);
        // startingDeadlineSeconds bounds the look-back: 200 s before now.
        let r = most_recent_schedule_time(
            &every_min,
            top_of_hour,
            None,
            Some(200),
            top_of_hour + 2 * 3_600_000_000 + 30_000_000,
        )
        .unwrap();
        assert_eq!(r.1, Some(top_of_hour + 2 * 3_600_000_000));
        assert_eq!(r.2, Missed::Few);
        // lastScheduleTime is the lower bound when set.
        let r = most_recent_schedule_time(
            &hourly,
            top_of_hour - 600_000_000,
            Some(top_of_hour),
            None,
            top_of_hour + 60_000_000,
        )
        .unwrap();
        assert_eq!(r.1, None);
        // An unsatisfiable schedule ("59 23 31 2 *") has no time.
        let never = parse_standard("59 23 31 2 *").unwrap();
        assert_eq!(
            most_recent_schedule_time(&never, top_of_hour, None, None, top_of_hour + 1)
                .unwrap()
                .1,
            None
        );
        // @every: the most recent multiple.
        let every = parse_standard("@every 1h").unwrap();
        let r = most_recent_schedule_time(
            &every,
            top_of_hour,
            None,
            None,
            top_of_hour + 5 * 3_600_000_000 + 10,
        )
        .unwrap();
        assert_eq!(r.1, Some(top_of_hour + 5 * 3_600_000_000));
    }

    #[test]
    fn job_names_use_minutes_since_the_epoch() {
        // 2016-05-19T10:00:00Z is Unix 1463652000 s = 24394200 min.
        assert_eq!(
            job_name("mycronjob", t("2016-05-19T10:00:00Z")),
            "mycronjob-24394200"
        );
        assert_eq!(job_name("c", t("2016-05-19T10:00:59Z")), "c-24394200");
    }

    proptest::proptest! {
        /// Never panics, and the most recent time is in (earliest, now].
        #[test]
        fn most_recent_is_between_earliest_and_now(
            creation in proptest::prelude::any::<i64>(),
            span in 0i64..(400 * 24 * 3_600_000_000),
            sds in proptest::option::of(0i64..1_000_000),
            which in 0usize..4,
        ) {
            let s = ["*/7 * * * *", "@every 90s", "0 0 29 2 *", "30 6-16/4 * * 1-5"][which];
            let sched = parse_standard(s).unwrap();
            let now = creation.saturating_add(span);
            if let Ok((earliest, Some(t), _)) = most_recent_schedule_time(&sched, creation, None, sds, now) {
                proptest::prop_assert!(t > earliest && t <= now);
            }
        }
    }

    #[test]
    fn next_schedule_duration_waits_100ms_past_the_time() {
        let every_min = parse_standard("*/1 * * * *").unwrap();
        let base = t("2026-03-01T00:00:00Z");
        assert_eq!(
            next_schedule_duration(&every_min, base, None, base + 10_000_000),
            Some(Duration::from_millis(50_100))
        );
    }
}
