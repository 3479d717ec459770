//! `alibaba-gpu-v2025-dlrm`: the GPU-disaggregated DLRM inference
//! instances of Alibaba cluster-trace-gpu-v2025 (NSDI'25), with creation
//! and deletion times and multi-resource requests. No node list exists:
//! give the cluster as node pools (with `alibaba.com/rdma: "100"` and GPUs).
//!
//! Each row becomes a pod named after `instance_sn` (`_` → `-`):
//! - requests / limits: cpu (vCPUs), memory (GiB), ephemeral-storage
//!   (`disk_*`, GiB) and the extended resource `alibaba.com/rdma` (% of
//!   one NIC; requests must equal limits, as for any extended resource);
//! - `gpu_request` whole GPUs as an openb GPU request (1000 milli each);
//! - labels `app: <app_name>` and `alibaba.com/role: CN|HN`; the
//!   annotation `alibaba.com/max-instance-per-node` keeps the spread limit
//!   (-1 = none; not enforced by the default scheduler);
//! - arrival = `creation_time` (0 when empty: the instance predates the
//!   trace); run time = `deletion_time − scheduled_time` (or
//!   `− creation_time`, or `− 0`); no `deletion_time` = runs to the end.

use std::path::Path;

use super::{read_csv, secs, FieldErr, Header, ImportOptions, Trace, TraceError, TracePod, GIB};
use crate::model::gpu::{GpuRequest, GPU_MILLI};
use crate::model::Resources;

/// The extended resource carrying the RDMA share.
pub const RDMA: &str = "alibaba.com/rdma";
pub const LABEL_ROLE: &str = "alibaba.com/role";
pub const ANN_MAX_PER_NODE: &str = "alibaba.com/max-instance-per-node";

const COLS: [&str; 17] = [
    "instance_sn",
    "role",
    "app_name",
    "cpu_request",
    "cpu_limit",
    "gpu_request",
    "gpu_limit",
    "rdma_request",
    "rdma_limit",
    "memory_request",
    "memory_limit",
    "disk_request",
    "disk_limit",
    "max_instance_per_node",
    "creation_time",
    "scheduled_time",
    "deletion_time",
];

pub fn import(path: &Path, opts: &ImportOptions) -> Result<Trace, TraceError> {
    let mut t = Trace::default();
    t.stats = read_csv(path, Header::Required(&COLS), opts, |r| {
        t.pods.push(instance(r)?);
        Ok(())
    })?;
    Ok(t)
}

fn nonneg(r: &super::Row, c: &str, scale: i128) -> Result<i64, FieldErr> {
    let v = r.scaled(c, scale)?;
    if v < 0 {
        return Err(FieldErr::at(c, "must not be negative"));
    }
    Ok(v)
}

fn instance(r: &super::Row) -> Result<TracePod, FieldErr> {
    let sn = r.get("instance_sn")?;
    let name = sn.replace('_', "-").to_ascii_lowercase();
    if name.is_empty() || !crate::scenario::is_dns_subdomain(&name) {
        return Err(FieldErr::at(
            "instance_sn",
            format!("not usable as a pod name: {sn:?}"),
        ));
    }
    let role = r.get("role")?;
    let app = r.get("app_name")?;
    let mut req = Resources::new(
        nonneg(r, "cpu_request", 1000)?,
        nonneg(r, "memory_request", GIB as i128)?,
    );
    let mut lim = Resources::new(
        nonneg(r, "cpu_limit", 1000)?,
        nonneg(r, "memory_limit", GIB as i128)?,
    );
    if lim.cpu_m < req.cpu_m || lim.memory < req.memory {
        return Err(FieldErr::row("a limit is below its request"));
    }
    req.ephemeral_storage = nonneg(r, "disk_request", GIB as i128)?;
    lim.ephemeral_storage = nonneg(r, "disk_limit", GIB as i128)?;
    if lim.ephemeral_storage < req.ephemeral_storage {
        return Err(FieldErr::at("disk_limit", "below disk_request"));
    }
    let rdma = nonneg(r, "rdma_request", 1)?;
    if nonneg(r, "rdma_limit", 1)? != rdma {
        return Err(FieldErr::at(
            "rdma_limit",
            "must equal rdma_request (an extended resource)",
        ));
    }
    if rdma > 0 {
        req.set(RDMA, rdma);
        lim.set(RDMA, rdma);
    }
    let gpus = nonneg(r, "gpu_request", 1)?;
    let mut p = TracePod::new(name, req);
    p.limits = lim;
    if gpus > 0 {
        p.gpu = Some(GpuRequest {
            num_gpu: u32::try_from(gpus.min(128)).unwrap_or(128),
            gpu_milli: GPU_MILLI,
            models: vec![],
        });
        if gpus > 128 {
            return Err(FieldErr::at("gpu_request", "more than 128 GPUs"));
        }
    }
    if !app.is_empty() {
        p.labels.insert("app".into(), app.to_string());
    }
    if !role.is_empty() {
        p.labels.insert(LABEL_ROLE.into(), role.to_string());
    }
    for (k, v) in &p.labels {
        if crate::model::labels::validate_label_value(v).is_err() {
            return Err(FieldErr::row(format!(
                "label {k}={v:?} is not a valid label value"
            )));
        }
    }
    let max = r.int("max_instance_per_node")?;
    p.annotations
        .insert(ANN_MAX_PER_NODE.into(), max.to_string());
    let created = r.scaled_opt("creation_time", super::SECOND)?.unwrap_or(0);
    p.arrival = secs(created, "creation_time")?;
    let start = r
        .scaled_opt("scheduled_time", super::SECOND)?
        .unwrap_or(created);
    if let Some(del) = r.scaled_opt("deletion_time", super::SECOND)? {
        if del < start {
            return Err(FieldErr::at(
                "deletion_time",
                "earlier than the creation or scheduled time",
            ));
        }
        p.duration = Some(secs(del - start, "deletion_time")?);
    }
    Ok(p)
}
