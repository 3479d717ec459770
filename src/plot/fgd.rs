//! The FGD study's figures (docs/fgd.md) from a `kubesim fgd` results
//! directory's `levels.csv`, into `DIR/plots/`: `fgd-unalloc` (as the
//! paper's Fig. 9(a): unallocated GPU % against arrived workload %, per
//! policy, mean over seeds with a ± 1 sd band; the whole range and a zoom
//! on 80–130%) and `fgd-frag` (as Fig. 7: fragmentation ratio and amount
//! against arrived workload %, per policy, mean ± 1 sd).

use std::path::{Path, PathBuf};

use super::data::{read, text, Cols};
use super::style::{color, de, LABEL_SIZE, TICK_SIZE, TITLE_SIZE, WIDTH};
use super::PlotError;
use crate::fgd::Policy;

/// One policy's curve: (legend label, colour index, (arrived %, mean, sd)).
type Curve = (String, usize, Vec<(f64, f64, f64)>);

/// Where a panel's legend goes (clear of its curves).
#[derive(Clone, Copy)]
enum Legend {
    UpperRight,
    UpperLeft,
    LowerLeft,
}

/// One panel: (caption, y-axis label, x range, y range, curves, legend).
type Panel = (String, String, (f64, f64), (f64, f64), Vec<Curve>, Legend);

/// The curves of one metric (`PREFIX_mean`, `PREFIX_sd` columns of
/// levels.csv), one per policy in file order.
fn curves(dir: &Path, prefix: &str) -> Result<Option<Vec<Curve>>, PlotError> {
    let path = dir.join("levels.csv");
    let Some(t) = read(&path)? else {
        return Ok(None);
    };
    let c = Cols { t: &t, path: &path };
    let (cp, cl, cm, cs) = (
        c.idx("policy")?,
        c.idx("arrived_pct")?,
        c.idx(&format!("{prefix}_mean"))?,
        c.idx(&format!("{prefix}_sd"))?,
    );
    let num = |r: &[String], i: usize| text(r, i).trim().parse::<f64>().ok();
    let mut out: Vec<Curve> = Vec::new();
    for r in &t.rows {
        let (Some(x), Some(m)) = (num(r, cl), num(r, cm)) else {
            continue;
        };
        let sd = num(r, cs).unwrap_or(0.0);
        let name = text(r, cp);
        // The paper's label and colour order when the policy is known.
        let (label, ci) = match Policy::parse(name) {
            Ok(p) => (
                format!("{} ({})", p.paper_name(), p.name()),
                Policy::ALL.iter().position(|q| *q == p).unwrap_or(0),
            ),
            Err(_) => (name.to_string(), 6 + out.len()),
        };
        match out.iter_mut().find(|cv| cv.0 == label) {
            Some(cv) => cv.2.push((x, m, sd)),
            None => out.push((label, ci, vec![(x, m, sd)])),
        }
    }
    Ok(Some(out))
}

/// The y range covering mean ± sd of the points with x in `xr`.
fn y_range(cs: &[Curve], xr: (f64, f64), floor: f64) -> (f64, f64) {
    let pts = || {
        cs.iter()
            .flat_map(|c| &c.2)
            .filter(move |p| p.0 >= xr.0 && p.0 <= xr.1)
    };
    let lo = pts().map(|p| p.1 - p.2).fold(f64::INFINITY, f64::min);
    let hi = pts().map(|p| p.1 + p.2).fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(0.5);
    ((lo - pad).max(floor), hi + pad)
}

/// Draws the figures that apply (none without levels.csv); returns the
/// files written.
pub fn draw(dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let Some(unalloc) = curves(dir, "unalloc")? else {
        return Ok(Vec::new());
    };
    let amount = curves(dir, "frag_amount")?.unwrap_or_default();
    let ratio = curves(dir, "frag_ratio")?.unwrap_or_default();
    if unalloc.is_empty() {
        return Ok(Vec::new());
    }
    let out = dir.join("plots");
    std::fs::create_dir_all(&out).map_err(|e| PlotError::Draw {
        path: out.clone(),
        message: e.to_string(),
    })?;
    let x_all = (0.0, 130.0);
    let x_zoom = (80.0, 130.0);
    let fig9a: Vec<Panel> = vec![
        (
            "Whole range (0-130% arrived)".into(),
            "Unallocated GPUs (% of capacity)".into(),
            x_all,
            (0.0, 100.0),
            unalloc.clone(),
            Legend::UpperRight,
        ),
        (
            "Zoom: 80-130% arrived".into(),
            "Unallocated GPUs (% of capacity)".into(),
            x_zoom,
            y_range(&unalloc, x_zoom, 0.0),
            unalloc,
            Legend::UpperRight,
        ),
    ];
    let mut files = panels(
        &out,
        "fgd-unalloc",
        "Unallocated GPUs vs arrived workload (mean over seeds, band = ±1 sd)",
        &fig9a,
    )?;
    let fig7: Vec<Panel> = vec![
        (
            "Fragmentation ratio".into(),
            "Fragmented / idle GPU milli (%)".into(),
            x_all,
            y_range(&ratio, x_all, 0.0),
            ratio,
            Legend::UpperLeft,
        ),
        (
            "Fragmentation amount".into(),
            "Fragmented GPUs (% of capacity)".into(),
            x_all,
            y_range(&amount, x_all, 0.0),
            amount,
            Legend::LowerLeft,
        ),
    ];
    if fig7.iter().any(|p| !p.4.is_empty()) {
        files.extend(panels(
            &out,
            "fgd-frag",
            "GPU fragmentation vs arrived workload (mean over seeds, band = ±1 sd)",
            &fig7,
        )?);
    }
    Ok(files)
}

/// One figure of side-by-side panels, each with its legend.
fn panels(out: &Path, name: &str, title: &str, ps: &[Panel]) -> Result<Vec<PathBuf>, PlotError> {
    let n = ps.len().max(1);
    figure!(out, name, (WIDTH + 300, 620), |root| {
        let root = root.titled(title, ("sans-serif", TITLE_SIZE)).map_err(de)?;
        let areas = root.split_evenly((1, n));
        for (area, (caption, ylabel, xr, yr, cs, left)) in areas.iter().zip(ps) {
            let mut ch = ChartBuilder::on(area)
                .caption(caption.as_str(), ("sans-serif", LABEL_SIZE + 2))
                .margin(14)
                .x_label_area_size(50)
                .y_label_area_size(65)
                .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)
                .map_err(de)?;
            ch.configure_mesh()
                .light_line_style(BLACK.mix(0.05))
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_label_formatter(&|y| {
                    if yr.1 - yr.0 >= 10.0 {
                        format!("{y:.0}")
                    } else {
                        format!("{y:.1}")
                    }
                })
                .x_desc("Arrived workload (% of GPU capacity)")
                .y_desc(ylabel.as_str())
                .label_style(("sans-serif", TICK_SIZE))
                .axis_desc_style(("sans-serif", LABEL_SIZE))
                .draw()
                .map_err(de)?;
            for (label, ci, pts) in cs {
                let pts: Vec<&(f64, f64, f64)> =
                    pts.iter().filter(|p| p.0 >= xr.0 && p.0 <= xr.1).collect();
                let c = color(*ci);
                // The ±1 sd band, clipped to the panel.
                let clip = |y: f64| y.clamp(yr.0, yr.1);
                let mut band: Vec<(f64, f64)> =
                    pts.iter().map(|p| (p.0, clip(p.1 + p.2))).collect();
                band.extend(pts.iter().rev().map(|p| (p.0, clip(p.1 - p.2))));
                if band.len() >= 3 {
                    ch.draw_series(std::iter::once(Polygon::new(band, c.mix(0.18).filled())))
                        .map_err(de)?;
                }
                ch.draw_series(LineSeries::new(
                    pts.iter().map(|p| (p.0, clip(p.1))),
                    c.stroke_width(2),
                ))
                .map_err(de)?
                .label(label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3))
                });
            }
            ch.configure_series_labels()
                .position(match left {
                    Legend::UpperRight => SeriesLabelPosition::UpperRight,
                    Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
                    Legend::LowerLeft => SeriesLabelPosition::LowerLeft,
                })
                .label_font(("sans-serif", TICK_SIZE))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()
                .map_err(de)?;
        }
        Ok::<(), String>(())?;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn y_range_covers_the_band_in_the_x_range() {
        let cs: Vec<Curve> = vec![(
            "a".into(),
            0,
            vec![(10.0, 90.0, 1.0), (90.0, 10.0, 2.0), (100.0, 5.0, 1.0)],
        )];
        let (lo, hi) = y_range(&cs, (80.0, 130.0), 0.0);
        assert!((0.0..=4.0).contains(&lo), "{lo}");
        assert!((12.0..13.0).contains(&hi), "{hi}");
        assert_eq!(y_range(&[], (0.0, 1.0), 0.0), (0.0, 1.0));
    }
}
