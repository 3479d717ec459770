//! Comparison plots from a compare (or sweep/merge) directory:
//! `compare-bars` (mean of the main metrics per policy with 95% CI
//! whiskers, from summary.csv) and `compare-cdf` (scheduling and start-up
//! latency CDFs overlaid per policy, from cdf.csv), into `DIR/plots/`.

use std::path::{Path, PathBuf};

use super::data::{read, text, Cols};
use super::style::{color, de, LABEL_SIZE, TICK_SIZE, TITLE_SIZE, WIDTH};
use super::PlotError;

/// The metrics of the bar chart: (summary.csv metric, title, unit, divisor).
pub const BAR_METRICS: [(&str, &str, &str, f64); 6] = [
    (
        "scheduling_latency.p99_us",
        "Scheduling latency p99",
        "ms",
        1e3,
    ),
    ("startup_latency.p99_us", "Start-up latency p99", "s", 1e6),
    ("makespan_us", "Makespan", "min", 6e7),
    (
        "utilization.cpu_requested_ppm",
        "CPU requested / allocatable",
        "%",
        1e4,
    ),
    ("stranding.cpu_ppm", "Stranded CPU", "% of allocatable", 1e4),
    ("pods.never_scheduled", "Pods never scheduled", "pods", 1.0),
];

fn f(s: &str) -> f64 {
    s.parse().unwrap_or(f64::NAN)
}

/// Draws the comparison plots that apply; returns the files written.
pub fn draw(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let out = dir.join("plots");
    std::fs::create_dir_all(&out).map_err(|e| PlotError::Draw {
        path: out.clone(),
        message: e.to_string(),
    })?;
    let mut files = draw_bars(dir, &out)?;
    files.extend(draw_cdf(dir, &out)?);
    Ok(files)
}

fn draw_bars(dir: &Path, out: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let sp = dir.join("summary.csv");
    let Some(s) = read(&sp)? else {
        return Ok(Vec::new());
    };
    let c = Cols { t: &s, path: &sp };
    let (cs, co, cp, cm, cmean, clo, chi) = (
        c.idx("scenario")?,
        c.idx("overrides")?,
        c.idx("policy")?,
        c.idx("metric")?,
        c.idx("mean")?,
        c.idx("ci95_lo")?,
        c.idx("ci95_hi")?,
    );
    let scenarios: std::collections::BTreeSet<&str> = s.rows.iter().map(|r| text(r, cs)).collect();
    let label = |r: &[String]| {
        let mut parts = Vec::new();
        if scenarios.len() > 1 {
            parts.push(text(r, cs).to_string());
        }
        if !text(r, co).is_empty() {
            parts.push(text(r, co).to_string());
        }
        parts.push(text(r, cp).to_string());
        parts.join(" ")
    };
    let mut groups: Vec<String> = Vec::new();
    for r in &s.rows {
        let l = label(r);
        if !groups.contains(&l) {
            groups.push(l);
        }
    }
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    // Per metric: (mean, lo, hi) per group.
    // (title, unit, divisor, (mean, lo, hi) per group)
    type Bars<'a> = (&'a str, &'a str, f64, Vec<(f64, f64, f64)>);
    let mut data: Vec<Bars> = Vec::new();
    for (m, title, unit, div) in BAR_METRICS {
        let vals: Vec<(f64, f64, f64)> = groups
            .iter()
            .map(|g| {
                s.rows
                    .iter()
                    .find(|r| text(r, cm) == m && label(r) == *g)
                    .map(|r| {
                        (
                            f(text(r, cmean)) / div,
                            f(text(r, clo)) / div,
                            f(text(r, chi)) / div,
                        )
                    })
                    .unwrap_or((f64::NAN, f64::NAN, f64::NAN))
            })
            .collect();
        if vals.iter().any(|v| v.0.is_finite()) {
            data.push((title, unit, div, vals));
        }
    }
    if data.is_empty() {
        return Ok(Vec::new());
    }
    let cols = 2usize;
    let rows = data.len().div_ceil(cols);
    let n = groups.len();
    let h = 100 + rows as u32 * 380;
    let legend_h = 30 + 22 * n.div_ceil(3) as u32;
    figure!(out, "compare-bars", (WIDTH + 200, h + legend_h), |root| {
        let root = root
            .titled(
                "Policy comparison: mean with 95% confidence interval",
                ("sans-serif", TITLE_SIZE + 2),
            )
            .map_err(de)?;
        let (plots, legend) = root.split_vertically(h - 40);
        let areas = plots.split_evenly((rows, cols));
        for (area, (title, unit, _, vals)) in areas.iter().zip(&data) {
            let top = vals
                .iter()
                .map(|v| if v.2.is_finite() { v.2 } else { v.0 })
                .filter(|x| x.is_finite())
                .fold(0.0f64, f64::max);
            let top = if top > 0.0 { top * 1.15 } else { 1.0 };
            let mut ch = ChartBuilder::on(area)
                .caption(*title, ("sans-serif", TITLE_SIZE - 4))
                .margin(12)
                .x_label_area_size(20)
                .y_label_area_size(75)
                .build_cartesian_2d(0f64..n as f64, 0f64..top)
                .map_err(de)?;
            ch.configure_mesh()
                .disable_x_mesh()
                .disable_x_axis()
                .light_line_style(BLACK.mix(0.04))
                .y_desc(*unit)
                .label_style(("sans-serif", TICK_SIZE))
                .axis_desc_style(("sans-serif", LABEL_SIZE))
                .draw()
                .map_err(de)?;
            ch.draw_series(
                vals.iter()
                    .enumerate()
                    .filter(|(_, v)| v.0.is_finite())
                    .map(|(i, v)| {
                        Rectangle::new(
                            [(i as f64 + 0.15, 0.0), (i as f64 + 0.85, v.0)],
                            color(i).filled(),
                        )
                    }),
            )
            .map_err(de)?;
            ch.draw_series(
                vals.iter()
                    .enumerate()
                    .filter(|(_, v)| v.1.is_finite() && v.2.is_finite())
                    .flat_map(|(i, v)| {
                        let x = i as f64 + 0.5;
                        let (lo, hi) = (v.1.max(0.0), v.2);
                        [
                            PathElement::new(vec![(x, lo), (x, hi)], BLACK.stroke_width(2)),
                            PathElement::new(
                                vec![(x - 0.1, lo), (x + 0.1, lo)],
                                BLACK.stroke_width(2),
                            ),
                            PathElement::new(
                                vec![(x - 0.1, hi), (x + 0.1, hi)],
                                BLACK.stroke_width(2),
                            ),
                        ]
                    }),
            )
            .map_err(de)?;
        }
        // One shared legend: colour → policy.
        let per_row = 3usize;
        for (i, g) in groups.iter().enumerate() {
            let x = 40 + (i % per_row) as i32 * ((WIDTH as i32 + 160) / per_row as i32);
            let y = 10 + (i / per_row) as i32 * 22;
            legend
                .draw(&Rectangle::new(
                    [(x, y), (x + 18, y + 14)],
                    color(i).filled(),
                ))
                .map_err(de)?;
            legend
                .draw(&Text::new(
                    g.clone(),
                    (x + 26, y),
                    ("sans-serif", TICK_SIZE + 1),
                ))
                .map_err(de)?;
        }
        Ok::<(), String>(())?;
    })
}

fn draw_cdf(dir: &Path, out: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let cp = dir.join("cdf.csv");
    let Some(t) = read(&cp)? else {
        return Ok(Vec::new());
    };
    let c = Cols { t: &t, path: &cp };
    let (cpol, cm, cv) = (c.idx("policy")?, c.idx("metric")?, c.idx("value_us")?);
    let mut panels: Vec<super::jobs::CdfPanel> = vec![
        (
            "Scheduling latency (creation → binding), all seeds pooled".into(),
            Vec::new(),
        ),
        (
            "Start-up latency (creation → Running), all seeds pooled".into(),
            Vec::new(),
        ),
    ];
    for r in &t.rows {
        let pi = match text(r, cm) {
            "scheduling_latency" => 0,
            "startup_latency" => 1,
            _ => continue,
        };
        let v = f(text(r, cv)) / 1e3;
        let pol = text(r, cpol).to_string();
        let series = &mut panels[pi].1;
        match series.iter_mut().find(|s| s.0 == pol) {
            Some(s) => s.1.push(v),
            None => series.push((pol, vec![v])),
        }
    }
    // The points are quantiles (every 1%): drop the 0th so each step is 1%.
    for p in &mut panels {
        for s in &mut p.1 {
            if !s.1.is_empty() {
                s.1.remove(0);
            }
        }
    }
    super::jobs::draw_cdfs(out, "compare-cdf", "Latency CDFs by policy", &panels, false)
}
