//! Latency and job plots from pods.csv (and workloads.csv's Jobs): CDFs of
//! scheduling and start-up latency, job completion times, and a Gantt
//! chart of pods per node for small runs.

use std::path::{Path, PathBuf};

use super::data::{int, read, text, Cols};
use super::style::{color, de, time_unit, LABEL_SIZE, TICK_SIZE, TITLE_SIZE, WIDTH};
use super::PlotError;

/// CDF panels: (title, [(series label, sorted values)]).
pub type CdfPanel = (String, Vec<(String, Vec<f64>)>);

/// Step-CDF points (x, %) of sorted values.
pub fn cdf_points(v: &[f64]) -> Vec<(f64, f64)> {
    let n = v.len() as f64;
    let mut pts = Vec::with_capacity(v.len() * 2);
    for (i, x) in v.iter().enumerate() {
        pts.push((*x, i as f64 / n * 100.0));
        pts.push((*x, (i + 1) as f64 / n * 100.0));
    }
    pts
}

/// Draws CDFs of several series (values in ms) on a log x axis.
pub fn draw_cdfs(
    out: &Path,
    name: &str,
    title: &str,
    panels: &[CdfPanel],
    show_n: bool,
) -> Result<Vec<PathBuf>, PlotError> {
    let panels: Vec<&CdfPanel> = panels
        .iter()
        .filter(|p| p.1.iter().any(|s| !s.1.is_empty()))
        .collect();
    if panels.is_empty() {
        return Ok(Vec::new());
    }
    let h = 80 + 380 * panels.len() as u32;
    figure!(out, name, (WIDTH, h), |root| {
        let root = root
            .titled(title, ("sans-serif", TITLE_SIZE + 4))
            .map_err(de)?;
        let areas = root.split_evenly((panels.len(), 1));
        for (area, (ptitle, series)) in areas.iter().zip(&panels) {
            let all: Vec<f64> = series.iter().flat_map(|s| s.1.iter().copied()).collect();
            let lo = all
                .iter()
                .copied()
                .filter(|x| *x > 0.0)
                .fold(f64::MAX, f64::min);
            let lo = if lo == f64::MAX { 0.001 } else { lo };
            let hi = all.iter().copied().fold(lo, f64::max);
            // Whole decades, at least one.
            let lo = 10f64.powf(lo.log10().floor());
            let hi = 10f64.powf(hi.log10().ceil()).max(lo * 10.0);
            let mut ch = ChartBuilder::on(area)
                .caption(ptitle.as_str(), ("sans-serif", TITLE_SIZE - 4))
                .margin(10)
                .margin_right(40)
                .x_label_area_size(45)
                .y_label_area_size(70)
                .build_cartesian_2d((lo..hi).log_scale(), 0f64..100f64)
                .map_err(de)?;
            ch.configure_mesh()
                .x_desc("latency (ms, log scale)")
                .y_desc("% of pods ≤ x")
                .light_line_style(TRANSPARENT)
                .x_label_formatter(&|x| {
                    if *x >= 1.0 {
                        format!("{x:.0}")
                    } else {
                        format!("{}", (*x * 1e6).round() / 1e6)
                    }
                })
                .label_style(("sans-serif", TICK_SIZE))
                .axis_desc_style(("sans-serif", LABEL_SIZE))
                .draw()
                .map_err(de)?;
            let k = series.len() as u32;
            for (i, (label, v)) in series.iter().enumerate() {
                if v.is_empty() {
                    continue;
                }
                let c = color(i);
                // Earlier series wider, so identical curves stay visible.
                let w = 3 + 2 * (k - 1 - i as u32);
                let pts: Vec<(f64, f64)> = cdf_points(v)
                    .into_iter()
                    .map(|(x, y)| (x.max(lo), y))
                    .collect();
                ch.draw_series(LineSeries::new(pts, c.stroke_width(w)))
                    .map_err(de)?
                    .label(if show_n {
                        format!("{label} (n={})", v.len())
                    } else {
                        label.clone()
                    })
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3))
                    });
            }
            ch.configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .label_font(("sans-serif", TICK_SIZE))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.4))
                .draw()
                .map_err(de)?;
        }
        Ok::<(), String>(())?;
    })
}

/// `latency`: CDFs of scheduling latency (creation → binding) and start-up
/// latency (creation → Running) from pods.csv.
pub fn draw_latency(dir: &Path, out: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let pp = dir.join("pods.csv");
    let Some(pods) = read(&pp)? else {
        return Ok(Vec::new());
    };
    let c = Cols {
        t: &pods,
        path: &pp,
    };
    let (cc, cb, cs) = (
        c.idx("created_us")?,
        c.idx("bound_us")?,
        c.idx("started_us")?,
    );
    let mut sched = Vec::new();
    let mut start = Vec::new();
    for r in &pods.rows {
        let Some(created) = int(r, cc) else { continue };
        if let Some(b) = int(r, cb) {
            sched.push((b - created) as f64 / 1e3);
        }
        if let Some(s) = int(r, cs) {
            start.push((s - created) as f64 / 1e3);
        }
    }
    sched.sort_by(f64::total_cmp);
    start.sort_by(f64::total_cmp);
    draw_cdfs(
        out,
        "latency",
        "Pod latency CDFs",
        &[
            (
                "Scheduling latency (creation → binding)".into(),
                vec![("pods".into(), sched)],
            ),
            (
                "Start-up latency (creation → Running)".into(),
                vec![("pods".into(), start)],
            ),
        ],
        true,
    )
}

/// At most this many bars in the jobs plot.
pub const JOBS_MAX_BARS: usize = 60;

/// `jobs`: one bar per Job (workloads.csv) or per pod that succeeded, from
/// creation to completion (waiting part light, running part dark).
pub fn draw_jobs(dir: &Path, out: &Path) -> Result<Vec<PathBuf>, PlotError> {
    // (label, created, started, finished) in µs
    let mut bars: Vec<(String, u64, Option<u64>, u64)> = Vec::new();
    let wp = dir.join("workloads.csv");
    let mut what = "Pod";
    if let Some(w) = read(&wp)? {
        let c = Cols { t: &w, path: &wp };
        let (ct, ck, cn, cname, cd, ca) = (
            c.idx("t_us")?,
            c.idx("kind")?,
            c.idx("namespace")?,
            c.idx("name")?,
            c.idx("desired")?,
            c.idx("available")?,
        );
        let mut jobs: Vec<(String, u64, Option<u64>)> = Vec::new();
        for r in w.rows.iter().filter(|r| text(r, ck) == "Job") {
            let key = format!("{}/{}", text(r, cn), text(r, cname));
            let t = int(r, ct).unwrap_or(0) as u64;
            let i = match jobs.iter().position(|j| j.0 == key) {
                Some(i) => i,
                None => {
                    jobs.push((key, t, None));
                    jobs.len() - 1
                }
            };
            if jobs[i].2.is_none() {
                if let (Some(d), Some(a)) = (int(r, cd), int(r, ca)) {
                    if d > 0 && a >= d {
                        jobs[i].2 = Some(t);
                    }
                }
            }
        }
        for (k, s, e) in jobs {
            if let Some(e) = e {
                bars.push((k, s, None, e));
            }
        }
        if !bars.is_empty() {
            what = "Job";
        }
    }
    if bars.is_empty() {
        let pp = dir.join("pods.csv");
        let Some(pods) = read(&pp)? else {
            return Ok(Vec::new());
        };
        let c = Cols {
            t: &pods,
            path: &pp,
        };
        let (cns, cn, cph, cc, cs, cf) = (
            c.idx("namespace")?,
            c.idx("name")?,
            c.idx("phase")?,
            c.idx("created_us")?,
            c.idx("started_us")?,
            c.idx("finished_us")?,
        );
        for r in pods.rows.iter().filter(|r| text(r, cph) == "Succeeded") {
            if let (Some(a), Some(f)) = (int(r, cc), int(r, cf)) {
                bars.push((
                    format!("{}/{}", text(r, cns), text(r, cn)),
                    a as u64,
                    int(r, cs).map(|s| s as u64),
                    f as u64,
                ));
            }
        }
    }
    if bars.is_empty() {
        return Ok(Vec::new());
    }
    bars.sort_by_key(|b| (b.1, b.3));
    let total = bars.len();
    bars.truncate(JOBS_MAX_BARS);
    let t_max = bars.iter().map(|b| b.3).max().unwrap_or(1);
    let (div, unit) = time_unit(t_max);
    let n = bars.len();
    let mut durations: Vec<u64> = bars.iter().map(|b| b.3 - b.1).collect();
    durations.sort_unstable();
    let med = durations[(durations.len() - 1) / 2];
    let title = format!(
        "{what} completion: {} completed{}, median creation → completion {}",
        total,
        if total > n {
            format!(" (first {n} shown)")
        } else {
            String::new()
        },
        crate::engine::Duration::from_micros(med)
    );
    let h = (160 + n as u32 * 22).clamp(360, 1600);
    figure!(out, "jobs", (WIDTH, h), |root| {
        let mut ch = ChartBuilder::on(&root)
            .caption(title.as_str(), ("sans-serif", TITLE_SIZE - 2))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(200)
            .build_cartesian_2d(0f64..(t_max as f64 / div) * 1.02, 0f64..n as f64)
            .map_err(de)?;
        let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
        let lr = &labels;
        ch.configure_mesh()
            .disable_y_mesh()
            .x_desc(format!("simulated time ({unit})"))
            .y_labels(n * 2 + 1)
            .y_label_formatter(&|y| {
                let k = (*y - 0.5).round();
                if ((*y - 0.5) - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < lr.len() {
                    lr[lr.len() - 1 - k as usize].clone()
                } else {
                    String::new()
                }
            })
            .label_style(("sans-serif", TICK_SIZE - 2))
            .axis_desc_style(("sans-serif", LABEL_SIZE))
            .draw()
            .map_err(de)?;
        let wait = color(0).mix(0.35);
        let runc = color(0);
        let mut rects = Vec::new();
        for (i, (_, a, s, f)) in bars.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let s = s.unwrap_or(*a).clamp(*a, *f);
            rects.push(Rectangle::new(
                [(*a as f64 / div, y + 0.2), (s as f64 / div, y + 0.8)],
                wait.filled(),
            ));
            rects.push(Rectangle::new(
                [(s as f64 / div, y + 0.2), (*f as f64 / div, y + 0.8)],
                runc.filled(),
            ));
        }
        ch.draw_series(rects).map_err(de)?;
        ch.draw_series(std::iter::once(Rectangle::new(
            [(0.0, -10.0), (0.0, -10.0)],
            runc.filled(),
        )))
        .map_err(de)?
        .label("running (start → completion)")
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], runc.filled()));
        if what == "Pod" {
            ch.draw_series(std::iter::once(Rectangle::new(
                [(0.0, -10.0), (0.0, -10.0)],
                wait.filled(),
            )))
            .map_err(de)?
            .label("waiting (creation → Running)")
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], wait.filled()));
        }
        ch.configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(("sans-serif", TICK_SIZE))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(de)?;
        Ok::<(), String>(())?;
    })
}

/// The Gantt chart is drawn only for runs this small.
pub const GANTT_MAX_NODES: usize = 40;
pub const GANTT_MAX_PODS: usize = 400;

/// `gantt`: pods per node over time, from pods.csv and nodes.csv.
pub fn draw_gantt(dir: &Path, out: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let (pp, np, tp) = (
        dir.join("pods.csv"),
        dir.join("nodes.csv"),
        dir.join("timeseries.csv"),
    );
    let (Some(pods), Some(nodes)) = (read(&pp)?, read(&np)?) else {
        return Ok(Vec::new());
    };
    if nodes.rows.is_empty()
        || nodes.rows.len() > GANTT_MAX_NODES
        || pods.rows.len() > GANTT_MAX_PODS
    {
        return Ok(Vec::new());
    }
    let nc = Cols {
        t: &nodes,
        path: &np,
    };
    let cname = nc.idx("name")?;
    let names: Vec<String> = nodes
        .rows
        .iter()
        .map(|r| text(r, cname).to_string())
        .collect();
    let end = read(&tp)?
        .and_then(|t| {
            let c = t.col("t_us")?;
            t.rows.iter().filter_map(|r| int(r, c)).max()
        })
        .unwrap_or(0);
    let pc = Cols {
        t: &pods,
        path: &pp,
    };
    let (cn, cpn, cb, cs, cf, cd) = (
        pc.idx("node")?,
        pc.idx("name")?,
        pc.idx("bound_us")?,
        pc.idx("started_us")?,
        pc.idx("finished_us")?,
        pc.idx("deleted_us")?,
    );
    // (node row, pod name, bound, started, end)
    let mut bars = Vec::new();
    let mut t_max = end;
    for r in &pods.rows {
        let Some(ni) = names.iter().position(|n| n == text(r, cn)) else {
            continue;
        };
        let Some(b) = int(r, cb) else { continue };
        let e = int(r, cf).or(int(r, cd)).unwrap_or(end).max(b);
        t_max = t_max.max(e);
        bars.push((ni, text(r, cpn).to_string(), b, int(r, cs), e));
    }
    if bars.is_empty() {
        return Ok(Vec::new());
    }
    // Stack a node's overlapping pods in lanes.
    let mut lanes: Vec<usize> = vec![0; bars.len()];
    let mut lane_count = vec![1usize; names.len()];
    for i in 0..bars.len() {
        let mut lane = 0;
        while bars[..i].iter().enumerate().any(|(j, o)| {
            o.0 == bars[i].0 && lanes[j] == lane && o.2 < bars[i].4 && bars[i].2 < o.4
        }) {
            lane += 1;
        }
        lanes[i] = lane;
        lane_count[bars[i].0] = lane_count[bars[i].0].max(lane + 1);
    }
    let (div, unit) = time_unit(t_max as u64);
    let rows = names.len();
    let h = (200 + rows as u32 * 60).clamp(400, 1600);
    figure!(out, "gantt", (WIDTH, h), |root| {
        let mut ch = ChartBuilder::on(&root)
            .caption(
                "Pods per node (bound → end; pale: before Running)",
                ("sans-serif", TITLE_SIZE - 2),
            )
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(120)
            .build_cartesian_2d(0f64..(t_max as f64 / div) * 1.02, 0f64..rows as f64)
            .map_err(de)?;
        let nr = &names;
        ch.configure_mesh()
            .disable_y_mesh()
            .x_desc(format!("simulated time ({unit})"))
            .y_desc("node")
            .y_labels(rows * 2 + 1)
            .y_label_formatter(&|y| {
                let k = (*y - 0.5).round();
                if ((*y - 0.5) - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < nr.len() {
                    nr[nr.len() - 1 - k as usize].clone()
                } else {
                    String::new()
                }
            })
            .label_style(("sans-serif", TICK_SIZE - 1))
            .axis_desc_style(("sans-serif", LABEL_SIZE))
            .draw()
            .map_err(de)?;
        let mut shapes = Vec::new();
        let mut texts = Vec::new();
        for (i, (ni, name, b, s, e)) in bars.iter().enumerate() {
            let lanes_here = lane_count[*ni] as f64;
            let base = (rows - 1 - ni) as f64 + 0.08;
            let hgt = 0.84 / lanes_here;
            let y0 = base + lanes[i] as f64 * hgt;
            let c = color(i);
            let s = s.unwrap_or(*e).clamp(*b, *e);
            shapes.push(Rectangle::new(
                [
                    (*b as f64 / div, y0 + 0.04 * hgt),
                    (s as f64 / div, y0 + 0.96 * hgt),
                ],
                c.mix(0.35).filled(),
            ));
            shapes.push(Rectangle::new(
                [
                    (s as f64 / div, y0 + 0.04 * hgt),
                    (*e as f64 / div, y0 + 0.96 * hgt),
                ],
                c.filled(),
            ));
            texts.push(Text::new(
                name.clone(),
                (*b as f64 / div, y0 + 0.75 * hgt),
                ("sans-serif", TICK_SIZE - 3).into_font().color(&BLACK),
            ));
        }
        ch.draw_series(shapes).map_err(de)?;
        ch.draw_series(texts).map_err(de)?;
        Ok::<(), String>(())?;
    })
}
