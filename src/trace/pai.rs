//! `alibaba-pai-machines`: the PAI (cluster-trace-gpu-v2020)
//! `pai_machine_spec.csv`, a heterogeneous GPU node inventory. No header;
//! columns `machine,gpu_type,cap_cpu,cap_mem,cap_gpu` (vCPUs, GB, GPUs).
//!
//! Each machine becomes a node `pai-<machine>` with `cap_cpu` cores,
//! `cap_mem` GiB (the trace says GB; kubesim reads binary GiB) and
//! `cap_gpu` shareable GPUs of model `gpu_type` (`CPU` machines have
//! none), labelled `alibaba.com/gpu-type`.

use std::path::Path;

use super::{read_csv, FieldErr, Header, ImportOptions, Trace, TraceError, TraceNode, GIB};
use crate::model::gpu;
use crate::model::Resources;

const COLS: [&str; 5] = ["machine", "gpu_type", "cap_cpu", "cap_mem", "cap_gpu"];
/// The label that keeps the machine's `gpu_type`.
pub const LABEL_GPU_TYPE: &str = "alibaba.com/gpu-type";

pub fn import(path: &Path, opts: &ImportOptions) -> Result<Trace, TraceError> {
    let first = super::openb::first_line(path)?;
    let header = if first.starts_with("machine,") {
        Header::Required(&COLS)
    } else {
        Header::Fixed(&COLS)
    };
    let mut t = Trace::default();
    t.stats = read_csv(path, header, opts, |r| {
        let m = r.get("machine")?;
        if m.is_empty() {
            return Err(FieldErr::at("machine", "empty machine id"));
        }
        let ty = r.get("gpu_type")?;
        if ty.is_empty() || ty.contains('|') {
            return Err(FieldErr::at(
                "gpu_type",
                format!("one type expected, found {ty:?}"),
            ));
        }
        let cpu = r.scaled("cap_cpu", 1000)?;
        let mem = r.scaled("cap_mem", GIB as i128)?;
        if cpu < 0 || mem < 0 {
            return Err(FieldErr::row("negative capacity"));
        }
        let n = gpu::parse_count(r.get("cap_gpu")?).map_err(|e| FieldErr::at("cap_gpu", e))?;
        let mut capacity = Resources::new(cpu, mem);
        capacity.pods = 110;
        let mut labels = std::collections::BTreeMap::new();
        labels.insert(LABEL_GPU_TYPE.to_string(), ty.to_string());
        t.nodes.push(TraceNode {
            name: format!("pai-{}", m.to_ascii_lowercase()),
            capacity,
            gpus: (n > 0).then(|| (n, ty.to_string())),
            labels,
        });
        Ok(())
    })?;
    Ok(t)
}
