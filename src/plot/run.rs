//! Every plot that applies to one run's results directory, into
//! `DIR/plots/`.

use std::path::{Path, PathBuf};

use super::PlotError;

/// Draws the run's plots; returns the files written.
pub fn draw(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let out = dir.join("plots");
    std::fs::create_dir_all(&out).map_err(|e| PlotError::Draw {
        path: out.clone(),
        message: e.to_string(),
    })?;
    let mut files = Vec::new();
    files.extend(super::cluster::draw_cluster(dir, &out)?);
    files.extend(super::cluster::draw_heatmaps(dir, &out)?);
    files.extend(super::jobs::draw_latency(dir, &out)?);
    files.extend(super::jobs::draw_jobs(dir, &out)?);
    files.extend(super::jobs::draw_gantt(dir, &out)?);
    files.extend(super::workloads::draw_rollouts(dir, &out)?);
    files.extend(super::workloads::draw_hpa(dir, &out)?);
    files.extend(super::workloads::draw_node_groups(dir, &out)?);
    files.extend(super::workloads::draw_services(dir, &out)?);
    Ok(files)
}
