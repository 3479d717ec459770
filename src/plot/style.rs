//! Shared look of every plot: the vendored font, sizes, a colour palette,
//! time axes in a readable unit, and [`figure!`], which draws one figure
//! as both PNG and SVG (each written to a temporary name, then renamed).

use std::sync::OnceLock;

use plotters::style::{FontStyle, RGBColor};

/// DejaVu Sans (Bitstream Vera licence, assets/DejaVuSans-LICENSE.txt).
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

pub const FONT_FAMILY: &str = "sans-serif";
pub const TITLE_SIZE: u32 = 24;
pub const LABEL_SIZE: u32 = 17;
pub const TICK_SIZE: u32 = 14;
pub const WIDTH: u32 = 1100;

/// Registers the vendored font once; later calls return the first result.
pub fn init_font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT)
            .map_err(|_| "the vendored font assets/DejaVuSans.ttf is invalid".to_string())
    })
    .clone()
}

/// Tableau 10: distinguishable, colour-blind friendlier than primaries.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A time unit for an axis spanning `max_us`: (µs per unit, name).
pub fn time_unit(max_us: u64) -> (f64, &'static str) {
    if max_us >= 3 * 3_600_000_000 {
        (3.6e9, "h")
    } else if max_us >= 180_000_000 {
        (6e7, "min")
    } else if max_us >= 3_000_000 {
        (1e6, "s")
    } else {
        (1e3, "ms")
    }
}

/// A sequential colour scale (viridis, 5 stops interpolated) for v in 0..=1.
pub fn heat(v: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let v = if v.is_finite() {
        v.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = v * 4.0;
    let i = (x.floor() as usize).min(3);
    let f = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Sampled state as a step function: each value holds until the next
/// sample.
pub fn steps(v: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(v.len() * 2);
    for (i, p) in v.iter().enumerate() {
        if i > 0 {
            out.push((p.0, v[i - 1].1));
        }
        out.push(*p);
    }
    out
}

/// `{e:?}` of a drawing error.
pub fn de<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Draws one figure as `DIR/NAME.png` and `DIR/NAME.svg`; the body gets the
/// root drawing area as `$root` and returns `Result<(), String>`. Evaluates
/// to `Result<Vec<PathBuf>, PlotError>`.
macro_rules! figure {
    ($dir:expr, $name:expr, $size:expr, |$root:ident| $body:block) => {{
        use plotters::prelude::*;
        let dir: &std::path::Path = $dir;
        let name: &str = $name;
        let size: (u32, u32) = $size;
        let mut out: Vec<std::path::PathBuf> = Vec::new();
        let mut err: Option<$crate::plot::PlotError> = None;
        if let Err(m) = $crate::plot::style::init_font() {
            err = Some($crate::plot::PlotError::Draw {
                path: dir.join(name),
                message: m,
            });
        }
        if err.is_none() {
            let path = dir.join(format!("{name}.png"));
            let tmp = dir.join(format!(".{name}.tmp.png"));
            let r: Result<(), String> = (|| {
                let $root = BitMapBackend::new(&tmp, size).into_drawing_area();
                $root.fill(&WHITE).map_err($crate::plot::style::de)?;
                $body
                $root.present().map_err($crate::plot::style::de)?;
                Ok(())
            })();
            match r.and_then(|_| std::fs::rename(&tmp, &path).map_err(|e| e.to_string())) {
                Ok(()) => out.push(path),
                Err(m) => {
                    let _ = std::fs::remove_file(&tmp);
                    err = Some($crate::plot::PlotError::Draw { path, message: m });
                }
            }
        }
        if err.is_none() {
            let path = dir.join(format!("{name}.svg"));
            let tmp = dir.join(format!(".{name}.tmp.svg"));
            let r: Result<(), String> = (|| {
                let $root = SVGBackend::new(&tmp, size).into_drawing_area();
                $root.fill(&WHITE).map_err($crate::plot::style::de)?;
                $body
                $root.present().map_err($crate::plot::style::de)?;
                Ok(())
            })();
            match r.and_then(|_| std::fs::rename(&tmp, &path).map_err(|e| e.to_string())) {
                Ok(()) => out.push(path),
                Err(m) => {
                    let _ = std::fs::remove_file(&tmp);
                    err = Some($crate::plot::PlotError::Draw { path, message: m });
                }
            }
        }
        match err {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }};
}
