//! Workload plots from the files other components write (schemas in
//! docs/output.md): rolling updates (workloads.csv + events.jsonl), HPA
//! (hpa.csv, with the offered load from services.csv), the cluster
//! autoscaler (node_groups.csv) and Service request latency
//! (services.csv). Each is drawn only when its file exists.

use std::path::{Path, PathBuf};

use super::data::{events, int, read, text, Cols};
use super::style::{color, de, time_unit, LABEL_SIZE, TICK_SIZE, TITLE_SIZE, WIDTH};
use super::PlotError;
use crate::experiment::table::Table;

/// At most this many Deployments / HPAs / Services get a plot.
pub const MAX_OBJECTS: usize = 8;

fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Time-series of one column for the rows matching `keep`.
fn series(
    t: &Table,
    ct: usize,
    col: usize,
    keep: &dyn Fn(&[String]) -> bool,
    div: f64,
) -> Vec<(f64, f64)> {
    super::style::steps(
        t.rows
            .iter()
            .filter(|r| keep(r))
            .filter_map(|r| Some((int(r, ct)? as f64 / div, int(r, col)? as f64)))
            .collect(),
    )
}

struct Line {
    label: String,
    pts: Vec<(f64, f64)>,
    color: RGBColor,
    style: Style,
}

use plotters::style::RGBColor;

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Solid,
    Dashed,
    Thin,
}

struct Panel {
    title: String,
    ydesc: String,
    lines: Vec<Line>,
}

/// Stacked line panels sharing a time axis, with vertical markers.
fn draw_panels(
    out: &Path,
    name: &str,
    title: &str,
    xdesc: &str,
    x_max: f64,
    panels: &[Panel],
    marks: &[(f64, String)],
) -> Result<Vec<PathBuf>, PlotError> {
    let h = 90 + 400 * panels.len() as u32;
    figure!(out, name, (WIDTH, h), |root| {
        let root = root
            .titled(title, ("sans-serif", TITLE_SIZE + 2))
            .map_err(de)?;
        let areas = root.split_evenly((panels.len(), 1));
        for (area, p) in areas.iter().zip(panels) {
            let y_max = p
                .lines
                .iter()
                .flat_map(|l| l.pts.iter().map(|q| q.1))
                .fold(0.0f64, f64::max)
                .max(1.0)
                * 1.25;
            let mut ch = ChartBuilder::on(area)
                .caption(p.title.as_str(), ("sans-serif", TITLE_SIZE - 4))
                .margin(10)
                .x_label_area_size(45)
                .y_label_area_size(70)
                .build_cartesian_2d(0f64..x_max, 0f64..y_max)
                .map_err(de)?;
            ch.configure_mesh()
                .x_desc(xdesc)
                .y_desc(p.ydesc.as_str())
                .label_style(("sans-serif", TICK_SIZE))
                .axis_desc_style(("sans-serif", LABEL_SIZE))
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(de)?;
            for l in &p.lines {
                let c = l.color;
                match l.style {
                    Style::Solid => {
                        ch.draw_series(LineSeries::new(l.pts.iter().copied(), c.stroke_width(3)))
                            .map_err(de)?
                            .label(l.label.as_str())
                            .legend(move |(x, y)| {
                                PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3))
                            });
                    }
                    Style::Thin => {
                        ch.draw_series(LineSeries::new(l.pts.iter().copied(), c.stroke_width(1)))
                            .map_err(de)?
                            .label(l.label.as_str())
                            .legend(move |(x, y)| {
                                PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(1))
                            });
                    }
                    Style::Dashed => {
                        ch.draw_series(DashedLineSeries::new(
                            l.pts.iter().copied(),
                            7,
                            5,
                            c.stroke_width(2),
                        ))
                        .map_err(de)?
                        .label(l.label.as_str())
                        .legend(move |(x, y)| {
                            EmptyElement::at((x, y))
                                + PathElement::new(vec![(0, 0), (8, 0)], c.stroke_width(2))
                                + PathElement::new(vec![(16, 0), (24, 0)], c.stroke_width(2))
                        });
                    }
                }
            }
            for (i, (x, label)) in marks.iter().enumerate() {
                let grey = RGBColor(90, 90, 90);
                // Alternate label heights so a start and an end close
                // together stay readable.
                let y_label = y_max * if i % 2 == 0 { 0.97 } else { 0.89 };
                ch.draw_series(DashedLineSeries::new(
                    [(*x, 0.0), (*x, y_max)],
                    4,
                    4,
                    grey.stroke_width(1),
                ))
                .map_err(de)?;
                ch.draw_series(std::iter::once(Text::new(
                    label.clone(),
                    (*x, y_label),
                    ("sans-serif", TICK_SIZE - 1).into_font().color(&grey),
                )))
                .map_err(de)?;
            }
            ch.configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font(("sans-serif", TICK_SIZE - 1))
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK.mix(0.4))
                .draw()
                .map_err(de)?;
        }
        Ok::<(), String>(())?;
    })
}

/// `rollout-NS-NAME`: per Deployment, each ReplicaSet revision's desired,
/// ready and available replicas; the bounds desired + maxSurge (pods) and
/// desired − maxUnavailable (available); RolloutStarted/RolloutComplete
/// marked.
pub fn draw_rollouts(dir: &Path, out: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let wp = dir.join("workloads.csv");
    let Some(w) = read(&wp)? else {
        return Ok(Vec::new());
    };
    let c = Cols { t: &w, path: &wp };
    let (ct, ck, cns, cn, crev, cd, ccur, crd, cav, cms, cmu) = (
        c.idx("t_us")?,
        c.idx("kind")?,
        c.idx("namespace")?,
        c.idx("name")?,
        c.idx("revision")?,
        c.idx("desired")?,
        c.idx("current")?,
        c.idx("ready")?,
        c.idx("available")?,
        c.idx("max_surge")?,
        c.idx("max_unavailable")?,
    );
    let mut deployments: Vec<(String, String)> = Vec::new();
    for r in w.rows.iter().filter(|r| text(r, ck) == "Deployment") {
        let k = (text(r, cns).to_string(), text(r, cn).to_string());
        if !deployments.contains(&k) {
            deployments.push(k);
        }
    }
    let t_max = w.rows.iter().filter_map(|r| int(r, ct)).max().unwrap_or(0) as u64;
    let (div, unit) = time_unit(t_max);
    let x_max = (t_max as f64 / div).max(1e-9) * 1.02;
    let ev = events(dir, &["RolloutStarted", "RolloutComplete"]);
    let mut files = Vec::new();
    for (ns, name) in deployments.iter().take(MAX_OBJECTS) {
        let is_dep =
            |r: &[String]| text(r, ck) == "Deployment" && text(r, cns) == ns && text(r, cn) == name;
        let prefix = format!("{name}-");
        let mut revisions: Vec<(String, String)> = Vec::new(); // (revision, rs name)
        for r in w.rows.iter().filter(|r| {
            text(r, ck) == "ReplicaSet" && text(r, cns) == ns && text(r, cn).starts_with(&prefix)
        }) {
            let k = (text(r, crev).to_string(), text(r, cn).to_string());
            if !revisions.iter().any(|x| x.1 == k.1) {
                revisions.push(k);
            }
        }
        revisions.sort_by_key(|(rev, n)| (rev.parse::<u64>().unwrap_or(u64::MAX), n.clone()));
        let mut per_rs = Vec::new();
        for (i, (rev, rs)) in revisions.iter().enumerate() {
            let is_rs = |r: &[String]| {
                text(r, ck) == "ReplicaSet" && text(r, cns) == ns && text(r, cn) == rs
            };
            let col = color(i);
            let label = if rev.is_empty() {
                rs.clone()
            } else {
                format!("rev {rev}")
            };
            per_rs.push(Line {
                label: format!("{label} desired"),
                pts: series(&w, ct, cd, &is_rs, div),
                color: col,
                style: Style::Dashed,
            });
            per_rs.push(Line {
                label: format!("{label} ready"),
                pts: series(&w, ct, crd, &is_rs, div),
                color: col,
                style: Style::Solid,
            });
            per_rs.push(Line {
                label: format!("{label} available"),
                pts: series(&w, ct, cav, &is_rs, div),
                color: col,
                style: Style::Thin,
            });
        }
        // Bounds from the Deployment rows.
        let mut upper = Vec::new();
        let mut lower = Vec::new();
        for r in w.rows.iter().filter(|r| is_dep(r)) {
            let (Some(t), Some(d)) = (int(r, ct), int(r, cd)) else {
                continue;
            };
            let x = t as f64 / div;
            if let Some(s) = int(r, cms) {
                upper.push((x, (d + s) as f64));
            }
            if let Some(u) = int(r, cmu) {
                lower.push((x, (d - u).max(0) as f64));
            }
        }
        let black = RGBColor(0, 0, 0);
        let grey = RGBColor(110, 110, 110);
        let totals = vec![
            Line {
                label: "all pods (Σ current)".into(),
                pts: series(&w, ct, ccur, &is_dep, div),
                color: RGBColor(31, 119, 180),
                style: Style::Solid,
            },
            Line {
                label: "available".into(),
                pts: series(&w, ct, cav, &is_dep, div),
                color: RGBColor(44, 160, 44),
                style: Style::Solid,
            },
            Line {
                label: "desired + maxSurge".into(),
                pts: upper,
                color: black,
                style: Style::Dashed,
            },
            Line {
                label: "desired − maxUnavailable".into(),
                pts: lower,
                color: grey,
                style: Style::Dashed,
            },
        ];
        let marks = rollout_marks(&ev, ns, name, div);
        let panels = [
            Panel {
                title: "Replicas per ReplicaSet revision (dashed: desired, thick: ready, thin: available)".into(),
                ydesc: "replicas".into(),
                lines: per_rs,
            },
            Panel {
                title: "Deployment totals against the rolling-update bounds".into(),
                ydesc: "pods".into(),
                lines: totals,
            },
        ];
        files.extend(draw_panels(
            out,
            &format!("rollout-{}-{}", safe(ns), safe(name)),
            &format!("Rolling update of Deployment {ns}/{name}"),
            &format!("simulated time ({unit})"),
            x_max,
            &panels,
            &marks,
        )?);
    }
    Ok(files)
}

/// `hpa-NS-NAME`: current and desired replicas; the metric against its
/// target; the offered load of the Service of the same name when
/// services.csv has it.
pub fn draw_hpa(dir: &Path, out: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let hp = dir.join("hpa.csv");
    let Some(h) = read(&hp)? else {
        return Ok(Vec::new());
    };
    let c = Cols { t: &h, path: &hp };
    let (ct, cns, cn, ccur, cdes, cm, cv, ctg) = (
        c.idx("t_us")?,
        c.idx("namespace")?,
        c.idx("name")?,
        c.idx("current_replicas")?,
        c.idx("desired_replicas")?,
        c.idx("metric")?,
        c.idx("current_value")?,
        c.idx("target_value")?,
    );
    let sp = dir.join("services.csv");
    let svc = read(&sp)?;
    let mut t_max = h.rows.iter().filter_map(|r| int(r, ct)).max().unwrap_or(0) as u64;
    if let Some(s) = &svc {
        if let Some(c) = s.col("t_us") {
            t_max = t_max.max(s.rows.iter().filter_map(|r| int(r, c)).max().unwrap_or(0) as u64);
        }
    }
    let (div, unit) = time_unit(t_max);
    let x_max = (t_max as f64 / div).max(1e-9) * 1.02;
    let mut hpas: Vec<(String, String)> = Vec::new();
    for r in &h.rows {
        let k = (text(r, cns).to_string(), text(r, cn).to_string());
        if !hpas.contains(&k) {
            hpas.push(k);
        }
    }
    let mut files = Vec::new();
    for (ns, name) in hpas.iter().take(MAX_OBJECTS) {
        let mine = |r: &[String]| text(r, cns) == ns && text(r, cn) == name;
        let mut panels = vec![Panel {
            title: "Replicas".into(),
            ydesc: "replicas".into(),
            lines: vec![
                Line {
                    label: "current".into(),
                    pts: series(&h, ct, ccur, &mine, div),
                    color: color(0),
                    style: Style::Solid,
                },
                Line {
                    label: "desired".into(),
                    pts: series(&h, ct, cdes, &mine, div),
                    color: color(1),
                    style: Style::Dashed,
                },
            ],
        }];
        let mut metrics: Vec<String> = Vec::new();
        for r in h.rows.iter().filter(|r| mine(r)) {
            let m = text(r, cm).to_string();
            if !metrics.contains(&m) {
                metrics.push(m);
            }
        }
        for (i, m) in metrics.iter().enumerate() {
            let unit = if m.ends_with("/Utilization") {
                "% of request"
            } else {
                "milli-units"
            };
            let of_m = |r: &[String]| mine(r) && text(r, cm) == m;
            panels.push(Panel {
                title: format!("Metric {m}"),
                ydesc: unit.into(),
                lines: vec![
                    Line {
                        label: "current".into(),
                        pts: series(&h, ct, cv, &of_m, div),
                        color: color(2 + i),
                        style: Style::Solid,
                    },
                    Line {
                        label: "target".into(),
                        pts: series(&h, ct, ctg, &of_m, div),
                        color: RGBColor(0, 0, 0),
                        style: Style::Dashed,
                    },
                ],
            });
        }
        if let Some(s) = &svc {
            let sc = Cols { t: s, path: &sp };
            let (st, sns, sn, so) = (
                sc.idx("t_us")?,
                sc.idx("namespace")?,
                sc.idx("name")?,
                sc.idx("offered_milli_rps")?,
            );
            let of_svc = |r: &[String]| text(r, sns) == ns && text(r, sn) == name;
            let pts: Vec<(f64, f64)> = series(s, st, so, &of_svc, div)
                .into_iter()
                .map(|(x, y)| (x, y / 1000.0))
                .collect();
            if !pts.is_empty() {
                panels.push(Panel {
                    title: format!("Offered load (Service {ns}/{name})"),
                    ydesc: "requests/s".into(),
                    lines: vec![Line {
                        label: "offered".into(),
                        pts,
                        color: color(4),
                        style: Style::Solid,
                    }],
                });
            }
        }
        files.extend(draw_panels(
            out,
            &format!("hpa-{}-{}", safe(ns), safe(name)),
            &format!("HorizontalPodAutoscaler {ns}/{name}"),
            &format!("simulated time ({unit})"),
            x_max,
            &panels,
            &[],
        )?);
    }
    Ok(files)
}

/// `node-groups`: nodes per node group (solid) and with the nodes being
/// provisioned (dashed), the pending pods, and the cumulative cost per
/// group (node_groups.csv).
pub fn draw_node_groups(dir: &Path, out: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let gp = dir.join("node_groups.csv");
    let Some(g) = read(&gp)? else {
        return Ok(Vec::new());
    };
    let c = Cols { t: &g, path: &gp };
    let (ct, cg, cn, cu, cp, cc) = (
        c.idx("t_us")?,
        c.idx("group")?,
        c.idx("nodes")?,
        c.idx("upcoming")?,
        c.idx("pending_pods")?,
        c.idx("cost_milli")?,
    );
    let t_max = g.rows.iter().filter_map(|r| int(r, ct)).max().unwrap_or(0) as u64;
    let (div, unit) = time_unit(t_max);
    let x_max = (t_max as f64 / div).max(1e-9) * 1.02;
    let mut groups: Vec<String> = Vec::new();
    for r in &g.rows {
        let k = text(r, cg).to_string();
        if !groups.contains(&k) {
            groups.push(k);
        }
    }
    let mut nodes = Vec::new();
    let mut cost = Vec::new();
    for (i, name) in groups.iter().enumerate() {
        let mine = |r: &[String]| text(r, cg) == name;
        nodes.push(Line {
            label: name.clone(),
            pts: series(&g, ct, cn, &mine, div),
            color: color(i),
            style: Style::Solid,
        });
        let with_upcoming: Vec<(f64, f64)> = g
            .rows
            .iter()
            .filter(|r| mine(r))
            .filter_map(|r| Some((int(r, ct)? as f64 / div, (int(r, cn)? + int(r, cu)?) as f64)))
            .collect();
        nodes.push(Line {
            label: format!("{name} + provisioning"),
            pts: with_upcoming,
            color: color(i),
            style: Style::Dashed,
        });
        cost.push(Line {
            label: name.clone(),
            pts: series(&g, ct, cc, &mine, div)
                .into_iter()
                .map(|(x, y)| (x, y / 1000.0))
                .collect(),
            color: color(i),
            style: Style::Solid,
        });
    }
    // Pending pods are cluster-wide: the first group's rows carry them.
    let first = groups.first().cloned().unwrap_or_default();
    let of_first = |r: &[String]| text(r, cg) == first;
    let panels = vec![
        Panel {
            title: "Nodes per group".into(),
            ydesc: "nodes".into(),
            lines: nodes,
        },
        Panel {
            title: "Pending (unschedulable) pods".into(),
            ydesc: "pods".into(),
            lines: vec![Line {
                label: "pending".into(),
                pts: series(&g, ct, cp, &of_first, div),
                color: RGBColor(0, 0, 0),
                style: Style::Solid,
            }],
        },
        Panel {
            title: "Cost so far (node-hours x price)".into(),
            ydesc: "currency units".into(),
            lines: cost,
        },
    ];
    draw_panels(
        out,
        "node-groups",
        "Cluster autoscaler",
        &format!("simulated time ({unit})"),
        x_max,
        &panels,
        &[],
    )
}

/// `services`: request latency percentiles and error rate per Service.
pub fn draw_services(dir: &Path, out: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let sp = dir.join("services.csv");
    let Some(s) = read(&sp)? else {
        return Ok(Vec::new());
    };
    let c = Cols { t: &s, path: &sp };
    let (ct, cns, cn, cserved, cfailed, p50, p90, p99) = (
        c.idx("t_us")?,
        c.idx("namespace")?,
        c.idx("name")?,
        c.idx("served")?,
        c.idx("failed")?,
        c.idx("latency_p50_us")?,
        c.idx("latency_p90_us")?,
        c.idx("latency_p99_us")?,
    );
    let t_max = s.rows.iter().filter_map(|r| int(r, ct)).max().unwrap_or(0) as u64;
    let (div, unit) = time_unit(t_max);
    let x_max = (t_max as f64 / div).max(1e-9) * 1.02;
    let mut svcs: Vec<(String, String)> = Vec::new();
    for r in &s.rows {
        let k = (text(r, cns).to_string(), text(r, cn).to_string());
        if !svcs.contains(&k) {
            svcs.push(k);
        }
    }
    let mut panels = Vec::new();
    for (ns, name) in svcs.iter().take(MAX_OBJECTS) {
        let mine = |r: &[String]| text(r, cns) == ns && text(r, cn) == name;
        let ms = |v: Vec<(f64, f64)>| v.into_iter().map(|(x, y)| (x, y / 1e3)).collect();
        panels.push(Panel {
            title: format!("Service {ns}/{name}: request latency"),
            ydesc: "latency (ms)".into(),
            lines: vec![
                Line {
                    label: "p50".into(),
                    pts: ms(series(&s, ct, p50, &mine, div)),
                    color: color(0),
                    style: Style::Solid,
                },
                Line {
                    label: "p90".into(),
                    pts: ms(series(&s, ct, p90, &mine, div)),
                    color: color(1),
                    style: Style::Solid,
                },
                Line {
                    label: "p99".into(),
                    pts: ms(series(&s, ct, p99, &mine, div)),
                    color: color(3),
                    style: Style::Solid,
                },
            ],
        });
        let err: Vec<(f64, f64)> = s
            .rows
            .iter()
            .filter(|r| mine(r))
            .filter_map(|r| {
                let (t, ok, bad) = (int(r, ct)?, int(r, cserved)?, int(r, cfailed)?);
                let tot = ok + bad;
                Some((
                    t as f64 / div,
                    if tot > 0 {
                        bad as f64 * 100.0 / tot as f64
                    } else {
                        0.0
                    },
                ))
            })
            .collect();
        panels.push(Panel {
            title: format!("Service {ns}/{name}: failed requests"),
            ydesc: "% of requests".into(),
            lines: vec![Line {
                label: "error rate".into(),
                pts: err,
                color: color(3),
                style: Style::Solid,
            }],
        });
    }
    if panels.is_empty() {
        return Ok(Vec::new());
    }
    draw_panels(
        out,
        "services",
        "Services",
        &format!("simulated time ({unit})"),
        x_max,
        &panels,
        &[],
    )
}

/// The update start / end markers of Deployment `ns/name` from its
/// `RolloutStarted` / `RolloutComplete` events (messages
/// `Deployment ns/name: …`), at times divided by `div`.
fn rollout_marks(
    ev: &[(u64, String, String)],
    ns: &str,
    name: &str,
    div: f64,
) -> Vec<(f64, String)> {
    let key = format!("Deployment {ns}/{name}");
    ev.iter()
        .filter(|(_, _, m)| {
            m.starts_with(&key)
                && m[key.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| c == ' ' || c == ':')
        })
        .map(|(t, ty, _)| {
            let label = if ty == "RolloutStarted" {
                " update start"
            } else {
                " update end"
            };
            (*t as f64 / div, label.to_string())
        })
        .collect()
}

#[cfg(test)]
mod rollout_mark_tests {
    use super::rollout_marks;

    #[test]
    fn marks_only_the_deployments_own_rollouts() {
        let ev = |t: u64, ty: &str, m: &str| (t, ty.to_string(), m.to_string());
        let events = vec![
            ev(
                60_000_000,
                "RolloutStarted",
                "Deployment default/web: revision 2 with replica set web-7d6568db9d",
            ),
            ev(
                90_000_000,
                "RolloutComplete",
                "Deployment default/web: revision 2 complete",
            ),
            // Another Deployment whose name starts with the same letters.
            ev(
                70_000_000,
                "RolloutStarted",
                "Deployment default/web-api: revision 2 with replica set x",
            ),
        ];
        let marks = rollout_marks(&events, "default", "web", 60_000_000.0);
        assert_eq!(
            marks,
            vec![
                (1.0, " update start".to_string()),
                (1.5, " update end".to_string())
            ]
        );
    }
}
