//! Sim-versus-real overlays (`kubesim compare-real`, and `replay`): for
//! each container in either run's `containers.csv`, one figure with three
//! panels — CPU granted (millicores), memory (MiB) and cumulative
//! throttled time (s) over simulated time — each with the simulated and
//! the real series. Files `real-<namespace>-<pod>-<container>.{png,svg}`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::data::{int, read, text, Cols};
use super::style::{color, de, steps, time_unit, LABEL_SIZE, TICK_SIZE, TITLE_SIZE, WIDTH};
use super::PlotError;

/// (namespace, pod, container).
type Key = (String, String, String);

/// One container's series: (t µs, cpu m, memory bytes, throttled µs).
type Series = Vec<(u64, i64, i64, i64)>;

fn series(path: &Path) -> Result<BTreeMap<Key, Series>, PlotError> {
    let mut out: BTreeMap<Key, Series> = BTreeMap::new();
    let Some(t) = read(path)? else {
        return Ok(out);
    };
    let c = Cols { t: &t, path };
    let (ti, ns, pod, ctr) = (
        c.idx("t_us")?,
        c.idx("namespace")?,
        c.idx("pod")?,
        c.idx("container")?,
    );
    let (cpu, mem, thr) = (
        c.idx("cpu_granted_m")?,
        c.idx("memory_bytes")?,
        c.idx("throttled_us")?,
    );
    for row in &t.rows {
        let k = (
            text(row, ns).to_string(),
            text(row, pod).to_string(),
            text(row, ctr).to_string(),
        );
        out.entry(k).or_default().push((
            int(row, ti).unwrap_or(0).max(0) as u64,
            int(row, cpu).unwrap_or(0),
            int(row, mem).unwrap_or(0),
            int(row, thr).unwrap_or(0),
        ));
    }
    Ok(out)
}

/// A file-name-safe form of a key.
fn file_name(k: &Key) -> String {
    let s = format!("real-{}-{}-{}", k.0, k.1, k.2);
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Draws one overlay figure per container into `out` (created if needed).
pub fn draw_overlays(sim: &Path, real: &Path, out: &Path) -> Result<Vec<PathBuf>, PlotError> {
    let s = series(&sim.join("containers.csv"))?;
    let r = series(&real.join("containers.csv"))?;
    std::fs::create_dir_all(out).map_err(|e| PlotError::Draw {
        path: out.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut keys: Vec<&Key> = s.keys().chain(r.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut files = Vec::new();
    for k in keys {
        let empty = Vec::new();
        let sv = s.get(k).unwrap_or(&empty);
        let rv = r.get(k).unwrap_or(&empty);
        files.extend(draw_one(out, k, sv, rv)?);
    }
    Ok(files)
}

fn draw_one(out: &Path, k: &Key, sim: &Series, real: &Series) -> Result<Vec<PathBuf>, PlotError> {
    let max_t = sim
        .iter()
        .chain(real.iter())
        .map(|p| p.0)
        .max()
        .unwrap_or(1)
        .max(1);
    let (unit, uname) = time_unit(max_t);
    type Pick = fn(&(u64, i64, i64, i64)) -> f64;
    let panels: [(&str, &str, Pick); 3] = [
        ("CPU granted", "millicores", |p| p.1 as f64),
        ("memory", "MiB", |p| p.2 as f64 / 1_048_576.0),
        ("throttled time (cumulative)", "s", |p| p.3 as f64 / 1e6),
    ];
    let title = format!("{}/{}/{}: simulated vs real", k.0, k.1, k.2);
    figure!(out, &file_name(k), (WIDTH, 80 + 3 * 300), |root| {
        let root = root
            .titled(&title, ("sans-serif", TITLE_SIZE))
            .map_err(de)?;
        let areas = root.split_evenly((3, 1));
        for (area, (ptitle, yunit, pick)) in areas.iter().zip(panels.iter()) {
            let hi = sim
                .iter()
                .chain(real.iter())
                .map(pick)
                .fold(0.0f64, f64::max);
            let hi = if hi > 0.0 { hi * 1.1 } else { 1.0 };
            let mut ch = ChartBuilder::on(area)
                .caption(*ptitle, ("sans-serif", LABEL_SIZE))
                .margin(10)
                .margin_right(40)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d(0f64..(max_t as f64 / unit), 0f64..hi)
                .map_err(de)?;
            ch.configure_mesh()
                .x_desc(format!("simulated time ({uname})"))
                .y_desc(*yunit)
                .light_line_style(TRANSPARENT)
                .label_style(("sans-serif", TICK_SIZE))
                .axis_desc_style(("sans-serif", LABEL_SIZE))
                .draw()
                .map_err(de)?;
            for (i, (label, v)) in [("simulated", sim), ("real", real)].iter().enumerate() {
                if v.is_empty() {
                    continue;
                }
                let c = color(i);
                let pts: Vec<(f64, f64)> = v.iter().map(|p| (p.0 as f64 / unit, pick(p))).collect();
                ch.draw_series(LineSeries::new(steps(pts), c.stroke_width(3 - i as u32)))
                    .map_err(de)?
                    .label(*label)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3))
                    });
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

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "t_us,node,namespace,pod,container,cpu_demand_m,cpu_granted_m,cpu_limit_m,throttled_periods,throttled_us,memory_bytes,memory_limit_bytes,restarts,oom_kills\n";

    #[test]
    fn overlays_are_valid_png_and_svg_of_real_size() {
        let t = tempfile::tempdir().unwrap();
        let (sim, real) = (t.path().join("sim"), t.path().join("real"));
        std::fs::create_dir_all(&sim).unwrap();
        std::fs::create_dir_all(&real).unwrap();
        let mut a = HEAD.to_string();
        let mut b = HEAD.to_string();
        for i in 0..10u64 {
            a += &format!(
                "{},n,default,web,app,1000,250,250,{i},{},{},,0,0\n",
                i * 1_000_000,
                i * 75_000,
                (i + 1) << 20
            );
            b += &format!(
                "{},n,default,web,app,1000,{},250,{i},{},{},,0,0\n",
                i * 1_000_000 + 3000,
                240 + i,
                i * 30_000,
                (i + 2) << 20
            );
        }
        b += "5000000,n,default,only-real,app,0,10,,0,0,0,,0,0\n";
        std::fs::write(sim.join("containers.csv"), a).unwrap();
        std::fs::write(real.join("containers.csv"), b).unwrap();
        let out = t.path().join("plots");
        let files = draw_overlays(&sim, &real, &out).unwrap();
        assert_eq!(files.len(), 4, "{files:?}");
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            assert!(bytes.len() > 10_000, "{f:?} is {} bytes", bytes.len());
            if f.extension().is_some_and(|e| e == "png") {
                assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
            } else {
                let s = String::from_utf8(bytes).unwrap();
                assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
                assert!(s.contains("simulated") && s.contains("real"));
            }
        }
        assert!(out.join("real-default-web-app.png").exists());
    }

    #[test]
    fn missing_files_draw_nothing_and_bad_columns_are_errors() {
        let t = tempfile::tempdir().unwrap();
        assert!(draw_overlays(t.path(), t.path(), &t.path().join("p"))
            .unwrap()
            .is_empty());
        std::fs::write(t.path().join("containers.csv"), "t_us,pod\n1,a\n").unwrap();
        let e = draw_overlays(t.path(), t.path(), &t.path().join("p")).unwrap_err();
        assert!(e.to_string().contains("containers.csv"), "{e}");
    }
}
