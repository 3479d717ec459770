//! Plots (PNG and SVG) drawn from result files with plotters; text is
//! rendered with the vendored DejaVu Sans (assets/, registered once as
//! `sans-serif`), never the machine's fonts. Each plot reads only CSV/JSONL
//! result files, so it can be redrawn from results alone (`kubesim plot`).
//!
//! Invariant: plots never influence results; a missing optional file
//! (workloads.csv, hpa.csv, services.csv, node_usage.csv) skips its plot.

#[macro_use]
mod style;
pub mod cluster;
pub mod compare;
mod data;
pub mod fgd;
pub mod jobs;
pub mod realcmp;
pub mod run;
pub mod workloads;

use std::path::PathBuf;

/// Why a plot could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("failed to read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("failed to draw {path}: {message}")]
    Draw { path: PathBuf, message: String },
}
