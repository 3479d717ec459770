//! Results: `pods.csv`, `nodes.csv`, `timeseries.csv`, `summary.json` and
//! the streamed `events.jsonl`, each written to a temporary name and renamed
//! into place, so an interrupted run never leaves half a file.
//!
//! Invariant: output is a pure function of the run result: integers only,
//! fixed column order, no wall-clock time.

pub mod metrics;
pub mod summary;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::cluster::RunResult;
use crate::model::node::{LABEL_INSTANCE_TYPE, LABEL_ZONE};
pub use summary::Summary;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("failed to write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to write {path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The temporary name a result file is written under before the rename.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

/// Writes `path` through a temporary file and a rename.
pub fn write_atomic(
    path: &Path,
    f: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), OutputError> {
    let tmp = temp_path(path);
    let file = File::create(&tmp).map_err(io_err(&tmp))?;
    let mut w = BufWriter::new(file);
    let r = f(&mut w).and_then(|_| w.flush());
    if let Err(e) = r {
        let _ = fs::remove_file(&tmp);
        return Err(OutputError::Io {
            path: tmp,
            source: e,
        });
    }
    drop(w);
    fs::rename(&tmp, path).map_err(io_err(path))
}

fn write_csv(
    path: &Path,
    f: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>,
) -> Result<(), OutputError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    f(&mut w).map_err(|source| OutputError::Csv {
        path: path.to_path_buf(),
        source,
    })?;
    let bytes = w.into_inner().map_err(|e| OutputError::Io {
        path: path.to_path_buf(),
        source: e.into_error(),
    })?;
    write_atomic(path, |out| out.write_all(&bytes))
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Writes every result file of a run into `dir` (which must exist).
pub fn write_results(dir: &Path, r: &RunResult, summary: &Summary) -> Result<(), OutputError> {
    write_csv(&dir.join("pods.csv"), |w| {
        w.write_record([
            "namespace",
            "name",
            "uid",
            "node",
            "phase",
            "reason",
            "qos_class",
            "priority",
            "cpu_request_m",
            "memory_request_bytes",
            "created_us",
            "scheduled_us",
            "bound_us",
            "started_us",
            "finished_us",
            "deleted_us",
            "scheduling_attempts",
            "restarts",
            "exit_code",
            "conditions",
        ])?;
        for p in &r.pods {
            let node = p
                .status
                .node
                .map(|n| r.nodes[n.0 as usize].meta.name.clone());
            w.write_record([
                p.meta.namespace.clone(),
                p.meta.name.clone(),
                p.meta.uid.clone(),
                node.unwrap_or_default(),
                p.phase().as_str().to_string(),
                p.status.reason.clone(),
                p.qos.as_str().to_string(),
                p.spec.priority.to_string(),
                p.requests.cpu_m.to_string(),
                p.requests.memory.to_string(),
                p.meta.creation_timestamp.as_micros().to_string(),
                opt(p.status.scheduled_at.map(|t| t.as_micros())),
                opt(p.status.bound_at.map(|t| t.as_micros())),
                opt(p.status.started_at.map(|t| t.as_micros())),
                opt(p.status.finished_at.map(|t| t.as_micros())),
                opt(p.meta.deletion_timestamp.map(|t| t.as_micros())),
                p.status.scheduling_attempts.to_string(),
                p.status.restart_count.to_string(),
                opt(p.status.exit_code),
                p.conditions()
                    .iter()
                    .map(|(t, st, r)| {
                        if r.is_empty() {
                            format!("{t}={st}")
                        } else {
                            format!("{t}={st}({r})")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(";"),
            ])?;
        }
        Ok(())
    })?;
    let mut ever = vec![0u64; r.nodes.len()];
    for p in &r.pods {
        if let (Some(n), Some(_)) = (p.status.node, p.status.bound_at) {
            ever[n.0 as usize] += 1;
        }
    }
    write_csv(&dir.join("nodes.csv"), |w| {
        w.write_record([
            "name",
            "pool",
            "zone",
            "instance_type",
            "cpu_allocatable_m",
            "memory_allocatable_bytes",
            "pods_allocatable",
            "present",
            "ready",
            "unschedulable",
            "taints",
            "pods_at_end",
            "cpu_requested_m_at_end",
            "memory_requested_bytes_at_end",
            "pods_bound_total",
        ])?;
        for (i, n) in r.nodes.iter().enumerate() {
            let taints: Vec<String> = n.taints.iter().map(|t| t.to_string()).collect();
            w.write_record([
                n.meta.name.clone(),
                n.pool.clone().unwrap_or_default(),
                n.meta.labels.get(LABEL_ZONE).cloned().unwrap_or_default(),
                n.meta
                    .labels
                    .get(LABEL_INSTANCE_TYPE)
                    .cloned()
                    .unwrap_or_default(),
                n.allocatable.cpu_m.to_string(),
                n.allocatable.memory.to_string(),
                n.allocatable.pods.to_string(),
                n.present.to_string(),
                n.is_ready().to_string(),
                n.unschedulable.to_string(),
                taints.join(";"),
                n.pods.len().to_string(),
                n.requested.cpu_m.to_string(),
                n.requested.memory.to_string(),
                ever[i].to_string(),
            ])?;
        }
        Ok(())
    })?;
    write_csv(&dir.join("timeseries.csv"), |w| {
        for s in &r.samples {
            w.serialize(s)?;
        }
        if r.samples.is_empty() {
            w.write_record(["t_us"])?;
        }
        Ok(())
    })?;
    if !r.workloads.is_empty() {
        write_workloads(&dir.join("workloads.csv"), &r.workloads)?;
    }
    if !r.services.is_empty() {
        write_services(&dir.join("services.csv"), &r.services)?;
    }
    if !r.container_rows.is_empty() {
        write_csv(&dir.join("containers.csv"), |w| {
            w.write_record([
                "t_us",
                "node",
                "namespace",
                "pod",
                "container",
                "cpu_demand_m",
                "cpu_granted_m",
                "cpu_limit_m",
                "throttled_periods",
                "throttled_us",
                "memory_bytes",
                "memory_limit_bytes",
                "restarts",
                "oom_kills",
            ])?;
            for c in &r.container_rows {
                w.write_record([
                    c.t_us.to_string(),
                    c.node.clone(),
                    c.namespace.clone(),
                    c.pod.clone(),
                    c.container.clone(),
                    c.cpu_demand_m.to_string(),
                    c.cpu_granted_m.to_string(),
                    opt(c.cpu_limit_m),
                    c.throttled_periods.to_string(),
                    c.throttled_us.to_string(),
                    c.memory_bytes.to_string(),
                    opt(c.memory_limit_bytes),
                    c.restarts.to_string(),
                    c.oom_kills.to_string(),
                ])?;
            }
            Ok(())
        })?;
    }
    if !r.node_usage_rows.is_empty() {
        write_csv(&dir.join("node_usage.csv"), |w| {
            w.write_record([
                "t_us",
                "node",
                "cpu_capacity_m",
                "cpu_requested_m",
                "cpu_demand_m",
                "cpu_used_m",
                "memory_allocatable_bytes",
                "memory_requested_bytes",
                "memory_used_bytes",
                "pods",
                "evictions",
                "conditions",
            ])?;
            for n in &r.node_usage_rows {
                w.write_record([
                    n.t_us.to_string(),
                    n.node.clone(),
                    n.cpu_capacity_m.to_string(),
                    n.cpu_requested_m.to_string(),
                    n.cpu_demand_m.to_string(),
                    n.cpu_used_m.to_string(),
                    n.memory_allocatable_bytes.to_string(),
                    n.memory_requested_bytes.to_string(),
                    n.memory_used_bytes.to_string(),
                    n.pods.to_string(),
                    n.evictions.to_string(),
                    n.conditions.clone(),
                ])?;
            }
            Ok(())
        })?;
    }
    if !r.hpas.is_empty() {
        write_hpa(&dir.join("hpa.csv"), &r.hpas)?;
    }
    if !r.node_groups.is_empty() {
        write_node_groups(&dir.join("node_groups.csv"), &r.node_groups)?;
    }
    let json = serde_json::to_vec_pretty(summary).map_err(|e| OutputError::Io {
        path: dir.join("summary.json"),
        source: e.into(),
    })?;
    write_atomic(&dir.join("summary.json"), |w| {
        w.write_all(&json)?;
        w.write_all(b"\n")
    })
}

/// Writes `workloads.csv` (docs/output.md): one row per workload object
/// per sample.
pub fn write_workloads(
    path: &Path,
    rows: &[crate::controllers::WorkloadRow],
) -> Result<(), OutputError> {
    write_csv(path, |w| {
        w.write_record([
            "t_us",
            "kind",
            "namespace",
            "name",
            "revision",
            "desired",
            "current",
            "ready",
            "available",
            "updated",
            "max_surge",
            "max_unavailable",
        ])?;
        for r in rows {
            w.write_record([
                r.t_us.to_string(),
                r.kind.to_string(),
                r.namespace.clone(),
                r.name.clone(),
                opt(r.revision),
                opt(r.desired),
                r.current.to_string(),
                r.ready.to_string(),
                r.available.to_string(),
                opt(r.updated),
                opt(r.max_surge),
                opt(r.max_unavailable),
            ])?;
        }
        Ok(())
    })
}

/// Writes `services.csv` (docs/output.md): one row per Service per
/// sample; the traffic columns are 0 until the traffic model exists.
pub fn write_services(path: &Path, rows: &[crate::cluster::ServiceRow]) -> Result<(), OutputError> {
    write_csv(path, |w| {
        w.write_record([
            "t_us",
            "namespace",
            "name",
            "endpoints_ready",
            "offered_milli_rps",
            "served",
            "failed",
            "latency_p50_us",
            "latency_p90_us",
            "latency_p99_us",
            "arrivals",
            "in_flight",
            "slo_violations",
        ])?;
        for r in rows {
            w.write_record([
                r.t_us.to_string(),
                r.namespace.clone(),
                r.name.clone(),
                r.endpoints_ready.to_string(),
                r.offered_milli_rps.to_string(),
                r.served.to_string(),
                r.failed.to_string(),
                r.latency_p50_us.to_string(),
                r.latency_p90_us.to_string(),
                r.latency_p99_us.to_string(),
                r.arrivals.to_string(),
                r.in_flight.to_string(),
                r.slo_violations.to_string(),
            ])?;
        }
        Ok(())
    })
}

/// Writes `explain.jsonl`: one scheduling attempt per line (docs/explain.md).
pub fn write_explanations(
    path: &Path,
    ex: &[crate::scheduler::Explanation],
) -> Result<(), OutputError> {
    let mut buf = Vec::new();
    for e in ex {
        serde_json::to_writer(&mut buf, e).map_err(|e| OutputError::Io {
            path: path.to_path_buf(),
            source: e.into(),
        })?;
        buf.push(b'\n');
    }
    write_atomic(path, |w| w.write_all(&buf))
}

/// Writes `hpa.csv` (docs/output.md): one row per HPA and metric per
/// sample.
pub fn write_hpa(path: &Path, rows: &[crate::cluster::HpaRow]) -> Result<(), OutputError> {
    write_csv(path, |w| {
        w.write_record([
            "t_us",
            "namespace",
            "name",
            "current_replicas",
            "desired_replicas",
            "metric",
            "current_value",
            "target_value",
        ])?;
        for r in rows {
            w.write_record([
                r.t_us.to_string(),
                r.namespace.clone(),
                r.name.clone(),
                r.current_replicas.to_string(),
                r.desired_replicas.to_string(),
                r.metric.clone(),
                opt(r.current_value),
                r.target_value.to_string(),
            ])?;
        }
        Ok(())
    })
}

/// Writes `node_groups.csv` (docs/output.md): one row per cluster-autoscaler
/// node group per sample.
pub fn write_node_groups(
    path: &Path,
    rows: &[crate::cluster::NodeGroupRow],
) -> Result<(), OutputError> {
    write_csv(path, |w| {
        w.write_record([
            "t_us",
            "group",
            "nodes",
            "upcoming",
            "pending_pods",
            "cost_milli",
        ])?;
        for r in rows {
            w.write_record([
                r.t_us.to_string(),
                r.group.clone(),
                r.nodes.to_string(),
                r.upcoming.to_string(),
                r.pending_pods.to_string(),
                r.cost_milli.to_string(),
            ])?;
        }
        Ok(())
    })
}
