//! Cluster plots: pods and nodes, CPU and memory (requested, allocatable,
//! and used when node_usage.csv exists) over time; node-by-time
//! utilization heat maps (by requests, and by usage with node_usage.csv).

use std::path::{Path, PathBuf};

use super::data::{int, read, text, Cols};
use super::style::{color, de, heat, time_unit, LABEL_SIZE, TICK_SIZE, TITLE_SIZE, WIDTH};
use super::PlotError;
use crate::experiment::table::Table;

/// Σ over nodes of a node_usage.csv column, per sample time (sorted).
fn usage_totals(u: &Table, path: &Path, col: &str) -> Result<Vec<(u64, i64)>, PlotError> {
    let c = Cols { t: u, path };
    let (ct, cv) = (c.idx("t_us")?, c.idx(col)?);
    let mut out: Vec<(u64, i64)> = Vec::new();
    for r in &u.rows {
        let (Some(t), Some(v)) = (int(r, ct), int(r, cv)) else {
            continue;
        };
        match out.last_mut() {
            Some(last) if last.0 == t as u64 => last.1 += v,
            _ => out.push((t as u64, v)),
        }
    }
    Ok(out)
}

/// `cluster.png/svg` from timeseries.csv (+ node_usage.csv).
pub fn draw_cluster(dir: &Path, out: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let tsp = dir.join("timeseries.csv");
    let Some(ts) = read(&tsp)? else {
        return Ok(Vec::new());
    };
    if ts.rows.is_empty() {
        return Ok(Vec::new());
    }
    let c = Cols { t: &ts, path: &tsp };
    let ct = c.idx("t_us")?;
    let col = |n: &str| -> Result<Vec<(u64, f64)>, PlotError> {
        let i = c.idx(n)?;
        Ok(ts
            .rows
            .iter()
            .filter_map(|r| Some((int(r, ct)? as u64, int(r, i)? as f64)))
            .collect())
    };
    let pending = col("pods_pending")?;
    let running = col("pods_running")?;
    let nodes = col("nodes_ready")?;
    let cpu_req = col("cpu_requested_m")?;
    let cpu_all = col("cpu_allocatable_m")?;
    let mem_req = col("memory_requested_bytes")?;
    let mem_all = col("memory_allocatable_bytes")?;
    let up = dir.join("node_usage.csv");
    let usage = read(&up)?;
    let (cpu_used, mem_used) = match &usage {
        Some(u) => (
            usage_totals(u, &up, "cpu_used_m")?,
            usage_totals(u, &up, "memory_used_bytes")?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let t_max = ts.rows.iter().filter_map(|r| int(r, ct)).max().unwrap_or(0) as u64;
    let (div, unit) = time_unit(t_max);
    let x_max = (t_max as f64 / div).max(1e-9);
    let gib = 1024.0 * 1024.0 * 1024.0;
    type Series = (String, Vec<(f64, f64)>, bool);
    let scale = |v: &[(u64, f64)], k: f64| -> Vec<(f64, f64)> {
        super::style::steps(v.iter().map(|(t, y)| (*t as f64 / div, y / k)).collect())
    };
    let scale_i = |v: &[(u64, i64)], k: f64| -> Vec<(f64, f64)> {
        super::style::steps(
            v.iter()
                .map(|(t, y)| (*t as f64 / div, *y as f64 / k))
                .collect(),
        )
    };
    let mut cpu: Vec<Series> = vec![
        ("requested".into(), scale(&cpu_req, 1000.0), false),
        ("allocatable".into(), scale(&cpu_all, 1000.0), true),
    ];
    if !cpu_used.is_empty() {
        cpu.push(("used".into(), scale_i(&cpu_used, 1000.0), false));
    }
    let mut mem: Vec<Series> = vec![
        ("requested".into(), scale(&mem_req, gib), false),
        ("allocatable".into(), scale(&mem_all, gib), true),
    ];
    if !mem_used.is_empty() {
        mem.push(("used".into(), scale_i(&mem_used, gib), false));
    }
    let panels: Vec<(String, String, Vec<Series>)> = vec![
        (
            "Pods and nodes".into(),
            "count".into(),
            vec![
                ("pending pods".into(), scale(&pending, 1.0), false),
                ("running pods".into(), scale(&running, 1.0), false),
                ("ready nodes".into(), scale(&nodes, 1.0), true),
            ],
        ),
        ("CPU".into(), "cores".into(), cpu),
        ("Memory".into(), "GiB".into(), mem),
    ];
    let xdesc = format!("simulated time ({unit})");
    figure!(out, "cluster", (WIDTH, 960), |root| {
        let root = root
            .titled("Cluster over time", ("sans-serif", TITLE_SIZE + 4))
            .map_err(de)?;
        let areas = root.split_evenly((3, 1));
        for (area, (title, ydesc, series)) in areas.iter().zip(&panels) {
            let y_max = series
                .iter()
                .flat_map(|s| s.1.iter().map(|p| p.1))
                .fold(0.0f64, f64::max)
                .max(1.0)
                * 1.1;
            let mut ch = ChartBuilder::on(area)
                .caption(title.as_str(), ("sans-serif", TITLE_SIZE - 4))
                .margin(8)
                .x_label_area_size(42)
                .y_label_area_size(70)
                .build_cartesian_2d(0f64..x_max, 0f64..y_max)
                .map_err(de)?;
            ch.configure_mesh()
                .x_desc(xdesc.as_str())
                .y_desc(ydesc.as_str())
                .label_style(("sans-serif", TICK_SIZE))
                .axis_desc_style(("sans-serif", LABEL_SIZE))
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(de)?;
            for (i, (name, pts, dashed)) in series.iter().enumerate() {
                let c = color(i);
                let st = c.stroke_width(if *dashed { 2 } else { 3 });
                if *dashed {
                    ch.draw_series(DashedLineSeries::new(pts.iter().copied(), 8, 5, st))
                        .map_err(de)?
                        .label(name.as_str())
                        .legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(2))
                        });
                } else {
                    ch.draw_series(LineSeries::new(pts.iter().copied(), st))
                        .map_err(de)?
                        .label(name.as_str())
                        .legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3))
                        });
                }
            }
            ch.configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font(("sans-serif", TICK_SIZE))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.4))
                .draw()
                .map_err(de)?;
        }
        Ok::<(), String>(())?;
    })
}

/// Per-node CPU fraction (requested or used) at each sample time.
struct Heat {
    nodes: Vec<String>,
    times: Vec<u64>,
    /// `v[node][time]` in 0..=1 (NaN: node absent).
    v: Vec<Vec<f64>>,
}

/// From node_usage.csv: `num` / `den` per (node, t).
fn heat_from_usage(u: &Table, path: &Path, num: &str, den: &str) -> Result<Heat, PlotError> {
    let c = Cols { t: u, path };
    let (ct, cn, cu, cd) = (c.idx("t_us")?, c.idx("node")?, c.idx(num)?, c.idx(den)?);
    let mut nodes: Vec<String> = Vec::new();
    let mut times: Vec<u64> = Vec::new();
    for r in &u.rows {
        let n = text(r, cn).to_string();
        if !nodes.contains(&n) {
            nodes.push(n);
        }
        if let Some(t) = int(r, ct) {
            if times.last() != Some(&(t as u64)) && !times.contains(&(t as u64)) {
                times.push(t as u64);
            }
        }
    }
    times.sort_unstable();
    let mut v = vec![vec![f64::NAN; times.len()]; nodes.len()];
    for r in &u.rows {
        let (Some(t), Some(x), Some(d)) = (int(r, ct), int(r, cu), int(r, cd)) else {
            continue;
        };
        let (Some(ni), Ok(ti)) = (
            nodes.iter().position(|n| n == text(r, cn)),
            times.binary_search(&(t as u64)),
        ) else {
            continue;
        };
        if d > 0 {
            v[ni][ti] = x as f64 / d as f64;
        }
    }
    Ok(Heat { nodes, times, v })
}

/// From pods.csv and nodes.csv: each pod holds its CPU request on its node
/// from scheduling to its end (finished or deleted), sampled at the times
/// of timeseries.csv.
fn heat_from_pods(dir: &Path) -> Result<Option<Heat>, PlotError> {
    let (pp, np, tp) = (
        dir.join("pods.csv"),
        dir.join("nodes.csv"),
        dir.join("timeseries.csv"),
    );
    let (Some(pods), Some(nodes), Some(ts)) = (read(&pp)?, read(&np)?, read(&tp)?) else {
        return Ok(None);
    };
    let nc = Cols {
        t: &nodes,
        path: &np,
    };
    let (cname, calloc) = (nc.idx("name")?, nc.idx("cpu_allocatable_m")?);
    let names: Vec<String> = nodes
        .rows
        .iter()
        .map(|r| text(r, cname).to_string())
        .collect();
    let alloc: Vec<i64> = nodes
        .rows
        .iter()
        .map(|r| int(r, calloc).unwrap_or(0))
        .collect();
    let tc = Cols { t: &ts, path: &tp };
    let ct = tc.idx("t_us")?;
    let times: Vec<u64> = ts
        .rows
        .iter()
        .filter_map(|r| int(r, ct))
        .map(|t| t as u64)
        .collect();
    let pc = Cols {
        t: &pods,
        path: &pp,
    };
    let (pn, pcpu, psch, pbound, pfin, pdel) = (
        pc.idx("node")?,
        pc.idx("cpu_request_m")?,
        pc.idx("scheduled_us")?,
        pc.idx("bound_us")?,
        pc.idx("finished_us")?,
        pc.idx("deleted_us")?,
    );
    let mut req = vec![vec![0i64; times.len()]; names.len()];
    for r in &pods.rows {
        let Some(ni) = names.iter().position(|n| n == text(r, pn)) else {
            continue;
        };
        let Some(start) = int(r, psch).or(int(r, pbound)) else {
            continue;
        };
        let end = int(r, pfin).or(int(r, pdel)).unwrap_or(i64::MAX);
        let cpu = int(r, pcpu).unwrap_or(0);
        for (ti, t) in times.iter().enumerate() {
            let t = *t as i64;
            if start <= t && t < end {
                req[ni][ti] += cpu;
            }
        }
    }
    let v = req
        .iter()
        .enumerate()
        .map(|(ni, row)| {
            row.iter()
                .map(|x| {
                    if alloc[ni] > 0 {
                        *x as f64 / alloc[ni] as f64
                    } else {
                        f64::NAN
                    }
                })
                .collect()
        })
        .collect();
    Ok(Some(Heat {
        nodes: names,
        times,
        v,
    }))
}

/// At most this many node rows are drawn.
pub const HEATMAP_MAX_NODES: usize = 120;

fn draw_heat(out: &Path, name: &str, title: &str, h: &Heat) -> Result<Vec<PathBuf>, PlotError> {
    if h.nodes.is_empty() || h.times.is_empty() {
        return Ok(Vec::new());
    }
    let shown = h.nodes.len().min(HEATMAP_MAX_NODES);
    let title = if shown < h.nodes.len() {
        format!("{title} (first {shown} of {} nodes)", h.nodes.len())
    } else {
        title.to_string()
    };
    let t_max = *h.times.last().unwrap_or(&0);
    let (div, unit) = time_unit(t_max);
    // Each column spans to the next sample (the last one as wide as the
    // one before it).
    let step = if h.times.len() > 1 {
        h.times[h.times.len() - 1] - h.times[h.times.len() - 2]
    } else {
        1
    };
    let x_end = (t_max + step) as f64 / div;
    let height = (220 + shown as u32 * 14).clamp(420, 1800);
    let names: Vec<String> = h.nodes.iter().take(shown).cloned().collect();
    let label_every = shown.div_ceil(40).max(1);
    figure!(out, name, (WIDTH, height), |root| {
        let (main, bar) = root.split_horizontally(WIDTH - 110);
        let mut ch = ChartBuilder::on(&main)
            .caption(title.as_str(), ("sans-serif", TITLE_SIZE))
            .margin(10)
            .x_label_area_size(45)
            .y_label_area_size(130)
            .build_cartesian_2d(0f64..x_end, 0f64..shown as f64)
            .map_err(de)?;
        let names_ref = &names;
        ch.configure_mesh()
            .disable_mesh()
            .x_desc(format!("simulated time ({unit})"))
            .y_desc("node")
            .y_labels(shown * 2 + 1)
            .y_label_formatter(&|y| {
                let k = (*y - 0.5).round();
                if ((*y - 0.5) - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < names_ref.len() {
                    let i = names_ref.len() - 1 - k as usize;
                    if i.is_multiple_of(label_every) {
                        return names_ref[i].clone();
                    }
                }
                String::new()
            })
            .label_style(("sans-serif", TICK_SIZE - 2))
            .axis_desc_style(("sans-serif", LABEL_SIZE))
            .draw()
            .map_err(de)?;
        let mut cells = Vec::new();
        for (ni, row) in h.v.iter().take(shown).enumerate() {
            for (ti, x) in row.iter().enumerate() {
                if x.is_nan() {
                    continue;
                }
                let t0 = h.times[ti] as f64 / div;
                let t1 = h
                    .times
                    .get(ti + 1)
                    .map(|t| *t as f64 / div)
                    .unwrap_or(x_end);
                let y = (shown - 1 - ni) as f64;
                cells.push(Rectangle::new([(t0, y), (t1, y + 1.0)], heat(*x).filled()));
            }
        }
        ch.draw_series(cells).map_err(de)?;
        let mut cb = ChartBuilder::on(&bar)
            .margin_top(50)
            .margin_bottom(55)
            .margin_right(10)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..1f64, 0f64..100f64)
            .map_err(de)?;
        cb.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_desc("% of the node's CPU")
            .y_labels(6)
            .label_style(("sans-serif", TICK_SIZE - 2))
            .axis_desc_style(("sans-serif", TICK_SIZE))
            .draw()
            .map_err(de)?;
        cb.draw_series((0..100).map(|i| {
            Rectangle::new(
                [(0.0, i as f64), (1.0, i as f64 + 1.0)],
                heat(i as f64 / 99.0).filled(),
            )
        }))
        .map_err(de)?;
        Ok::<(), String>(())?;
    })
}

/// `heatmap-requests` (and `heatmap-usage` with node_usage.csv).
pub fn draw_heatmaps(dir: &Path, out: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let mut files = Vec::new();
    let up = dir.join("node_usage.csv");
    match read(&up)? {
        Some(u) => {
            let h = heat_from_usage(&u, &up, "cpu_requested_m", "cpu_capacity_m")?;
            files.extend(draw_heat(
                out,
                "heatmap-requests",
                "CPU requested by node",
                &h,
            )?);
            let h = heat_from_usage(&u, &up, "cpu_used_m", "cpu_capacity_m")?;
            files.extend(draw_heat(out, "heatmap-usage", "CPU used by node", &h)?);
        }
        None => {
            if let Some(h) = heat_from_pods(dir)? {
                files.extend(draw_heat(
                    out,
                    "heatmap-requests",
                    "CPU requested by node",
                    &h,
                )?);
            }
        }
    }
    Ok(files)
}
