//! `alibaba-gpu-v2023`: the openb trace of the FGD study (node lists
//! `sn,cpu_milli,memory_mib,gpu,model`; pod lists
//! `name,cpu_milli,memory_mib,num_gpu,gpu_milli[,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time]`).
//!
//! As the study's `pod_csv_to_yaml.py` does (EXPERIMENT.md §1): requests =
//! limits = `cpu_milli` m and `memory_mib` Mi; a GPU pod (`num_gpu > 0`)
//! asks for `num_gpu` GPUs with `gpu_milli` (clamped to 1000) each, on a
//! model in `gpu_spec` (`|`-separated, empty = any). Nodes have `gpu` GPUs
//! of `model` and room for 1001 pods. `qos` is kept as the annotation
//! `alibabacloud.com/qos`; `pod_phase` is ignored.
//!
//! Times ([`super::ImportOptions::with_times`]): arrival = `creation_time`
//! (seconds); the run time is `deletion_time − scheduled_time`, or
//! `deletion_time − creation_time` for pods never scheduled; no
//! `deletion_time` = runs to the end. Without times (the FGD setup) every
//! pod arrives at 0 and never ends.

use std::path::Path;

use super::{
    read_csv, secs, FieldErr, Header, ImportOptions, Trace, TraceError, TraceNode, TracePod, MIB,
};
use crate::model::gpu::{self, GpuRequest, GPU_MILLI};
use crate::model::Resources;

/// The study's per-node pod limit (never binding).
pub const NODE_MAX_PODS: i64 = 1001;
/// The annotation that keeps the trace's `qos` column.
pub const ANN_QOS: &str = "alibabacloud.com/qos";

const NODE_COLS: [&str; 5] = ["sn", "cpu_milli", "memory_mib", "gpu", "model"];
const POD_COLS: [&str; 5] = ["name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli"];

/// Imports one openb file: a node list (header starts with `sn`) or a pod
/// list (header starts with `name`).
pub fn import(path: &Path, opts: &ImportOptions) -> Result<Trace, TraceError> {
    let first = first_line(path)?;
    let mut t = Trace::default();
    if first.split(',').next().map(str::trim) == Some("sn") {
        t.stats = read_csv(path, Header::Required(&NODE_COLS), opts, |r| {
            t.nodes.push(node(r)?);
            Ok(())
        })?;
    } else {
        t.stats = read_csv(path, Header::Required(&POD_COLS), opts, |r| {
            t.pods.push(pod(r, opts.with_times)?);
            Ok(())
        })?;
    }
    Ok(t)
}

pub(crate) fn first_line(path: &Path) -> Result<String, TraceError> {
    use std::io::BufRead;
    let f = std::fs::File::open(path).map_err(|source| TraceError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut s = String::new();
    let mut r = std::io::BufReader::new(f);
    // A non-UTF-8 first line reads as empty; the CSV reader reports it.
    let _ = r.read_line(&mut s);
    Ok(s)
}

fn nonneg(r: &super::Row, c: &str) -> Result<i64, FieldErr> {
    let v = r.int(c)?;
    if v < 0 {
        return Err(FieldErr::at(c, format!("must not be negative, found {v}")));
    }
    Ok(v)
}

fn node(r: &super::Row) -> Result<TraceNode, FieldErr> {
    let name = r.get("sn")?.to_string();
    if name.is_empty() {
        return Err(FieldErr::at("sn", "empty node name"));
    }
    let cpu = nonneg(r, "cpu_milli")?;
    let mem = nonneg(r, "memory_mib")?
        .checked_mul(MIB)
        .ok_or_else(|| FieldErr::at("memory_mib", "too large"))?;
    let count = gpu::parse_count(r.get("gpu")?).map_err(|e| FieldErr::at("gpu", e))?;
    let model = r.get("model")?;
    if model.contains('|') {
        return Err(FieldErr::at(
            "model",
            format!("one model expected, found {model:?}"),
        ));
    }
    let mut capacity = Resources::new(cpu, mem);
    capacity.pods = NODE_MAX_PODS;
    Ok(TraceNode {
        name,
        capacity,
        gpus: (count > 0).then(|| (count, model.to_string())),
        labels: Default::default(),
    })
}

fn pod(r: &super::Row, with_times: bool) -> Result<TracePod, FieldErr> {
    let name = r.get("name")?.to_string();
    if name.is_empty() {
        return Err(FieldErr::at("name", "empty pod name"));
    }
    let cpu = nonneg(r, "cpu_milli")?;
    let mem = nonneg(r, "memory_mib")?
        .checked_mul(MIB)
        .ok_or_else(|| FieldErr::at("memory_mib", "too large"))?;
    let num = gpu::parse_count(r.get("num_gpu")?).map_err(|e| FieldErr::at("num_gpu", e))?;
    let milli = nonneg(r, "gpu_milli")?;
    let spec = r.opt("gpu_spec").unwrap_or("");
    let mut p = TracePod::new(name, Resources::new(cpu, mem));
    if num > 0 {
        if milli == 0 {
            return Err(FieldErr::at(
                "gpu_milli",
                "must be 1 or more when num_gpu > 0",
            ));
        }
        p.gpu = Some(GpuRequest {
            num_gpu: num,
            gpu_milli: milli.min(GPU_MILLI),
            models: gpu::parse_models(spec).map_err(|e| FieldErr::at("gpu_spec", e))?,
        });
    }
    if let Some(q) = r.opt("qos").filter(|q| !q.is_empty()) {
        p.annotations.insert(ANN_QOS.to_string(), q.to_string());
    }
    if with_times {
        let t = |c: &str| -> Result<Option<i64>, FieldErr> {
            match r.opt(c) {
                None => Err(FieldErr::at(c, "missing column (needed with times)")),
                Some("") => Ok(None),
                Some(_) => r.scaled(c, super::SECOND).map(Some),
            }
        };
        let created = t("creation_time")?
            .ok_or_else(|| FieldErr::at("creation_time", "empty (needed with times)"))?;
        p.arrival = secs(created, "creation_time")?;
        let start = t("scheduled_time")?.unwrap_or(created);
        if let Some(del) = t("deletion_time")? {
            if del < start {
                return Err(FieldErr::at(
                    "deletion_time",
                    "earlier than the creation or scheduled time",
                ));
            }
            p.duration = Some(secs(del - start, "deletion_time")?);
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tmp(body: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(body.as_bytes()).unwrap();
        f
    }

    #[test]
    fn pods_with_and_without_times() {
        let f = tmp("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n\
                     p0,12000,16384,1,460,,LS,Running,10,110,20\n\
                     p1,6000,1024,2,1200,V100M16|V100M32,BE,Pending,30,50,\n\
                     p2,1000,0,0,0,,BE,Running,40,,40\n");
        let t = import(f.path(), &ImportOptions::default()).unwrap();
        assert_eq!(t.pods.len(), 3);
        assert_eq!(t.pods[0].requests, Resources::new(12000, 16384 * MIB));
        assert_eq!(t.pods[0].gpu.as_ref().unwrap().gpu_milli, 460);
        let g1 = t.pods[1].gpu.as_ref().unwrap();
        assert_eq!((g1.num_gpu, g1.gpu_milli), (2, 1000));
        assert_eq!(g1.models, ["V100M16", "V100M32"]);
        assert!(t.pods[2].gpu.is_none());
        assert_eq!(t.pods[0].arrival.as_micros(), 0);
        let opts = ImportOptions {
            with_times: true,
            ..Default::default()
        };
        let t = import(f.path(), &opts).unwrap();
        assert_eq!(t.pods[0].arrival.as_micros(), 10_000_000);
        assert_eq!(t.pods[0].duration.unwrap().as_micros(), 90_000_000);
        assert_eq!(t.pods[1].duration.unwrap().as_micros(), 20_000_000);
        assert_eq!(t.pods[2].duration, None);
    }

    #[test]
    fn bad_rows_name_file_line_and_column() {
        let f = tmp("sn,cpu_milli,memory_mib,gpu,model\nn0,64000,1024,2,P100\nn1,lots,1024,2,P100\nn2,1,1\n");
        let e = import(f.path(), &ImportOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(":3: column cpu_milli: expected an integer"),
            "{e}"
        );
        let opts = ImportOptions {
            skip_bad_rows: true,
            ..Default::default()
        };
        let t = import(f.path(), &opts).unwrap();
        assert_eq!(t.nodes.len(), 1);
        assert_eq!((t.stats.rows, t.stats.skipped), (3, 2));
        assert!(t.stats.errors[1]
            .to_string()
            .contains(":4: expected 5 fields, found 3"));
        // The same with CRLF line ends (the v2017 files have them).
        let f = tmp(
            "sn,cpu_milli,memory_mib,gpu,model\r\nn0,64000,1024,2,P100\r\nn1,lots,1024,2,P100\r\n",
        );
        let e = import(f.path(), &ImportOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(":3: column cpu_milli: expected an integer"),
            "{e}"
        );
    }
}
