//! `alibaba-v2017`: Alibaba cluster-trace-v2017's `batch_task` (tasks with
//! a create and end time, an instance count and per-instance requests)
//! and `server_event` (machine `add` events: the node inventory).
//!
//! - A task becomes one [`TracePod`] named `task-<task_id>` standing for
//!   `number_of_instances` identical pods (`replicas`; [`super::replay`]
//!   expands them as `task-<id>-<k>`), labelled `job: j<job_id>`, with the
//!   `status` kept as the annotation `alibaba.com/task-status`.
//! - CPU is in 1/100 core (50 = 500m); an empty CPU is no CPU request.
//!   Memory is normalised to a machine's memory: kubesim multiplies it by
//!   [`NORMALIZED_MEMORY_BYTES`] (an assumption; only ratios are real),
//!   for tasks and machines alike.
//! - Arrival = `max(task_create_time, 0)` (a time ≤ 0 is before the
//!   trace); run time = `task_end_time − arrival` when the task ended
//!   (`task_end_time > 0`; 0 if the end precedes the create time, as for
//!   one task of the trace), otherwise it runs to the end.
//! - `server_event` `add` rows give nodes `v2017-m<machine_id>` with
//!   `number_of_cpus` cores; other event types are counted as ignored.
//!
//! Which file is which: a header naming `task_create_time`, or a file name
//! containing `batch_task`, is a task table; anything else is
//! `server_event` (no header).

use std::path::Path;

use super::{
    read_csv, secs, FieldErr, Header, ImportOptions, Trace, TraceError, TraceNode, TracePod, GIB,
};
use crate::model::Resources;

/// The bytes of a normalised memory of 1.0 (kubesim's assumption).
pub const NORMALIZED_MEMORY_BYTES: i64 = 128 * GIB;
/// The annotation keeping a task's `status`.
pub const ANN_STATUS: &str = "alibaba.com/task-status";

const TASK_COLS: [&str; 8] = [
    "task_create_time",
    "task_end_time",
    "job_id",
    "task_id",
    "number_of_instances",
    "status",
    "number_of_cpus_requested_per_instance_in_the_task",
    "normalized_memory_requested_per_instance_in_the_task",
];
const SERVER_COLS: [&str; 7] = [
    "timestamp",
    "machine_id",
    "event_type",
    "event_detail",
    "number_of_cpus",
    "normalized_memory",
    "normalized_disk",
];

pub fn import(path: &Path, opts: &ImportOptions) -> Result<Trace, TraceError> {
    let first = super::openb::first_line(path)?;
    let fname = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut t = Trace::default();
    if first.contains("task_create_time") || fname.contains("batch_task") {
        let header = if first.contains("task_create_time") {
            Header::Required(&TASK_COLS)
        } else {
            Header::Fixed(&TASK_COLS)
        };
        t.stats = read_csv(path, header, opts, |r| {
            t.pods.push(task(r)?);
            Ok(())
        })?;
    } else {
        let mut ignored: Vec<String> = Vec::new();
        t.stats = read_csv(path, Header::Fixed(&SERVER_COLS), opts, |r| {
            match server_event(r)? {
                Ok(n) => t.nodes.push(n),
                Err(kind) => ignored.push(kind),
            }
            Ok(())
        })?;
        for k in ignored {
            t.stats.ignore(&format!("server_event {k}"));
        }
    }
    Ok(t)
}

fn task(r: &super::Row) -> Result<TracePod, FieldErr> {
    let create = r.scaled("task_create_time", super::SECOND)?;
    let end = r.scaled("task_end_time", super::SECOND)?;
    let job = r.int("job_id")?;
    let id = r.int("task_id")?;
    let n = r.int("number_of_instances")?;
    let replicas = u32::try_from(n).map_err(|_| {
        FieldErr::at(
            "number_of_instances",
            format!("must be 0 or more, found {n}"),
        )
    })?;
    let cpu = match r.scaled_opt("number_of_cpus_requested_per_instance_in_the_task", 10)? {
        None => 0,
        Some(v) if v >= 0 => v,
        Some(v) => {
            return Err(FieldErr::at(
                "number_of_cpus_requested_per_instance_in_the_task",
                format!("must not be negative, found {v}"),
            ))
        }
    };
    let mem = r
        .scaled_opt(
            "normalized_memory_requested_per_instance_in_the_task",
            NORMALIZED_MEMORY_BYTES as i128,
        )?
        .unwrap_or(0);
    if mem < 0 {
        return Err(FieldErr::at(
            "normalized_memory_requested_per_instance_in_the_task",
            "must not be negative",
        ));
    }
    let mut p = TracePod::new(format!("task-{id}"), Resources::new(cpu, mem));
    p.replicas = replicas;
    p.labels.insert("job".into(), format!("j{job}"));
    let status = r.get("status")?;
    if !status.is_empty() {
        p.annotations.insert(ANN_STATUS.into(), status.to_string());
    }
    let arrival = create.max(0);
    p.arrival = secs(arrival, "task_create_time")?;
    // The trace has an end one second before its create time (task
    // 55241): such a task runs for zero time.
    if end > 0 {
        p.duration = Some(secs((end - arrival).max(0), "task_end_time")?);
    }
    Ok(p)
}

/// A node for an `add` event; the event type otherwise.
fn server_event(r: &super::Row) -> Result<Result<TraceNode, String>, FieldErr> {
    let kind = r.get("event_type")?;
    if kind != "add" {
        return Ok(Err(kind.to_string()));
    }
    let id = r.int("machine_id")?;
    let cpus = r.scaled("number_of_cpus", 1000)?;
    let mem = r.scaled("normalized_memory", NORMALIZED_MEMORY_BYTES as i128)?;
    if cpus < 0 || mem < 0 {
        return Err(FieldErr::row("negative capacity"));
    }
    let mut capacity = Resources::new(cpus, mem);
    capacity.pods = 110;
    Ok(Ok(TraceNode {
        name: format!("v2017-m{id}"),
        capacity,
        gpus: None,
        labels: Default::default(),
    }))
}
