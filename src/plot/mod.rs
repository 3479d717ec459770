//! Plots (PNG and SVG) drawn from result files with plotters; text is
//! rendered with the vendored DejaVu Sans (assets/), never system fonts.

pub mod compare;
pub mod run;

use std::path::PathBuf;

/// Why a plot could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("failed to read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("failed to draw {path}: {message}")]
    Draw { path: PathBuf, message: String },
}
