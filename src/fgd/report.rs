//! Aggregation of FGD-study runs as the paper's scripts do
//! (EXPERIMENT.md §6, `experiments/analysis/merge_*.py`) and the result
//! files: per event `arrive = round(arrived_milli / GPUs / 10)` (an
//! integer %, Python's round half to even) and `alloc = round(used_milli /
//! GPUs / 10, 2)`; per level L in 0..=130 the mean over the events with
//! `arrive == L` (else `L−1 ≤ arrive ≤ L+1`); unallocated GPU % = 100 −
//! alloc; fragmentation amount in % of capacity and fragmentation ratio
//! in % of idle GPU milli. Across seeds: mean, sample standard deviation,
//! median and the 25th/75th percentiles (linear interpolation, as numpy).
//!
//! Floats appear only here, after the simulation, summed in a fixed order.

use std::io::Write;
use std::path::Path;

use super::{Policy, RunOutput};
use crate::output::{write_atomic, OutputError};

/// The highest arrived level reported (130%).
pub const MAX_LEVEL: usize = 130;

/// One run's values per level (`None`: no event near that level).
#[derive(Clone, Debug)]
pub struct Levels {
    pub unalloc: Vec<Option<f64>>,
    pub frag_amount: Vec<Option<f64>>,
    pub frag_ratio: Vec<Option<f64>>,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round_ties_even() / 100.0
}

/// §6 per-level values of one run.
pub fn levels(r: &RunOutput) -> Levels {
    let gpus = r.capacity_milli as f64 / 1000.0;
    let den = r.frag_den.max(1) as f64;
    // Per event: (arrive level, alloc, frag amount %, frag ratio %).
    let ev: Vec<(i64, f64, f64, Option<f64>)> = r
        .points
        .iter()
        .map(|p| {
            let arrive = (p.arrived_milli as f64 / gpus / 10.0).round_ties_even() as i64;
            let alloc = round2(p.used_milli as f64 / gpus / 10.0);
            let frag = p.frag_num as f64 / den;
            let amount = 100.0 * frag / r.capacity_milli.max(1) as f64;
            let ratio = (p.idle_milli > 0).then(|| 100.0 * frag / p.idle_milli as f64);
            (arrive, alloc, amount, ratio)
        })
        .collect();
    let mut out = Levels {
        unalloc: vec![None; MAX_LEVEL + 1],
        frag_amount: vec![None; MAX_LEVEL + 1],
        frag_ratio: vec![None; MAX_LEVEL + 1],
    };
    for l in 0..=MAX_LEVEL as i64 {
        let mut sel: Vec<&(i64, f64, f64, Option<f64>)> = ev.iter().filter(|e| e.0 == l).collect();
        if sel.is_empty() {
            sel = ev
                .iter()
                .filter(|e| (l - 1..=l + 1).contains(&e.0))
                .collect();
        }
        if sel.is_empty() {
            continue;
        }
        let n = sel.len() as f64;
        let li = l as usize;
        out.unalloc[li] = Some(100.0 - sel.iter().map(|e| e.1).sum::<f64>() / n);
        out.frag_amount[li] = Some(sel.iter().map(|e| e.2).sum::<f64>() / n);
        let ratios: Vec<f64> = sel.iter().filter_map(|e| e.3).collect();
        if !ratios.is_empty() {
            out.frag_ratio[li] = Some(ratios.iter().sum::<f64>() / ratios.len() as f64);
        }
    }
    out
}

/// Mean, sample sd, median, p25, p75 of a non-empty sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    pub n: usize,
    pub mean: f64,
    pub sd: f64,
    pub median: f64,
    pub p25: f64,
    pub p75: f64,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

pub fn stats(v: &[f64]) -> Option<Stats> {
    if v.is_empty() {
        return None;
    }
    let n = v.len();
    let mean = v.iter().sum::<f64>() / n as f64;
    let sd = if n > 1 {
        (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    Some(Stats {
        n,
        mean,
        sd,
        median: quantile(&s, 0.5),
        p25: quantile(&s, 0.25),
        p75: quantile(&s, 0.75),
    })
}

/// The runs of one policy, in seed order.
pub struct PolicyRuns<'a> {
    pub policy: Policy,
    pub runs: Vec<&'a RunOutput>,
}

fn f(x: f64) -> String {
    format!("{x:.4}")
}

/// Aggregated value of metric `m` at level `l` over the runs.
fn agg(levels: &[Levels], l: usize, m: fn(&Levels) -> &Vec<Option<f64>>) -> Option<Stats> {
    let v: Vec<f64> = levels.iter().filter_map(|x| m(x)[l]).collect();
    stats(&v)
}

/// Writes `levels.csv`, `per_seed.csv`, `runs.csv` and the gnuplot
/// scripts `fig9a.gp` and `fig7.gp` into `dir`.
pub fn write(dir: &Path, groups: &[PolicyRuns]) -> Result<(), OutputError> {
    let io = |path: &Path| {
        let p = path.to_path_buf();
        move |source| OutputError::Io {
            path: p.clone(),
            source,
        }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let per: Vec<(Policy, Vec<(u64, Levels)>)> = groups
        .iter()
        .map(|g| {
            (
                g.policy,
                g.runs.iter().map(|r| (r.seed, levels(r))).collect(),
            )
        })
        .collect();

    let mut s = String::from("policy,arrived_pct,seeds,unalloc_mean,unalloc_sd,unalloc_median,unalloc_p25,unalloc_p75,frag_amount_mean,frag_amount_sd,frag_amount_median,frag_amount_p25,frag_amount_p75,frag_ratio_mean,frag_ratio_sd,frag_ratio_median,frag_ratio_p25,frag_ratio_p75\n");
    for (p, runs) in &per {
        let lv: Vec<Levels> = runs.iter().map(|(_, l)| l.clone()).collect();
        for l in 0..=MAX_LEVEL {
            let u = agg(&lv, l, |x| &x.unalloc);
            let a = agg(&lv, l, |x| &x.frag_amount);
            let r = agg(&lv, l, |x| &x.frag_ratio);
            let Some(u) = u else { continue };
            let cols = |st: Option<Stats>| match st {
                Some(st) => [st.mean, st.sd, st.median, st.p25, st.p75].map(f).join(","),
                None => ",,,,".to_string(),
            };
            s.push_str(&format!(
                "{},{l},{},{},{},{}\n",
                p.name(),
                u.n,
                cols(Some(u)),
                cols(a),
                cols(r)
            ));
        }
    }
    write_atomic(&dir.join("levels.csv"), |w| w.write_all(s.as_bytes()))?;

    let mut s = String::from("policy,seed,arrived_pct,unalloc,frag_amount,frag_ratio\n");
    for (p, runs) in &per {
        for (seed, lv) in runs {
            for l in 0..=MAX_LEVEL {
                let Some(u) = lv.unalloc[l] else { continue };
                let o = |x: Option<f64>| x.map(f).unwrap_or_default();
                s.push_str(&format!(
                    "{},{seed},{l},{},{},{}\n",
                    p.name(),
                    f(u),
                    o(lv.frag_amount[l]),
                    o(lv.frag_ratio[l])
                ));
            }
        }
    }
    write_atomic(&dir.join("per_seed.csv"), |w| w.write_all(s.as_bytes()))?;

    let mut s = String::from("policy,seed,originals,clones,pods,placed,failed,first_gpu_failure_arrived_pct,final_arrived_pct,final_unalloc_pct\n");
    for g in groups {
        for r in &g.runs {
            let last = r.points.last();
            let pct = |m: i64| format!("{:.2}", 100.0 * m as f64 / r.capacity_milli.max(1) as f64);
            s.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{}\n",
                g.policy.name(),
                r.seed,
                r.originals,
                r.clones,
                r.points.len(),
                r.placed(),
                r.points.len() - r.placed(),
                r.first_gpu_failure().map(pct).unwrap_or_default(),
                last.map(|p| pct(p.arrived_milli)).unwrap_or_default(),
                last.map(|p| pct(p.idle_milli)).unwrap_or_default(),
            ));
        }
    }
    write_atomic(&dir.join("runs.csv"), |w| w.write_all(s.as_bytes()))?;

    let names: Vec<&str> = groups.iter().map(|g| g.policy.name()).collect();
    let plot = |title: &str,
                ylabel: &str,
                xr: &str,
                col_med: usize,
                col_lo: usize,
                col_hi: usize,
                out: &str| {
        let mut g = format!(
            "# gnuplot script: gnuplot {out}.gp (reads levels.csv; writes {out}.svg)\n\
             set datafile separator ','\nset terminal svg size 800,500\nset output '{out}.svg'\n\
             set title '{title}'\nset xlabel 'Arrived workloads (% of GPU capacity)'\nset ylabel '{ylabel}'\n\
             set xrange [{xr}]\nset key top left\n"
        );
        let parts: Vec<String> = names
            .iter()
            .map(|n| {
                format!(
                    "'< grep ^{n}, levels.csv' using 2:{col_lo}:{col_hi} with filledcurves fs transparent solid 0.2 notitle, \
                     '' using 2:{col_med} with lines lw 2 title '{n}'"
                )
            })
            .collect();
        g.push_str(&format!("plot {}\n", parts.join(", \\\n     ")));
        g
    };
    // levels.csv columns: 1 policy, 2 level, 3 seeds, 4-8 unalloc
    // (mean, sd, median, p25, p75), 9-13 frag amount, 14-18 frag ratio.
    let fig9a = plot(
        "Unallocated GPUs (median, 25-75% band)",
        "Unallocated GPU (%)",
        "75:120",
        6,
        7,
        8,
        "fig9a",
    );
    write_atomic(&dir.join("fig9a.gp"), |w| w.write_all(fig9a.as_bytes()))?;
    let fig7 = plot(
        "GPU fragmentation ratio (median, 25-75% band)",
        "Fragmentation ratio (%)",
        "0:130",
        16,
        17,
        18,
        "fig7",
    );
    write_atomic(&dir.join("fig7.gp"), |w| w.write_all(fig7.as_bytes()))?;
    let fig7b = plot(
        "GPU fragmentation amount (median, 25-75% band)",
        "Fragmented GPUs (% of capacity)",
        "0:130",
        11,
        12,
        13,
        "fig7-amount",
    );
    write_atomic(&dir.join("fig7-amount.gp"), |w| {
        w.write_all(fig7b.as_bytes())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_as_numpy() {
        let s = stats(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(s.median, 2.5);
        assert_eq!(s.p25, 1.75);
        assert_eq!(s.p75, 3.25);
        assert!((s.sd - 1.2909944487358056).abs() < 1e-12);
        assert!(stats(&[]).is_none());
    }

    #[test]
    fn levels_fall_back_to_neighbours() {
        use super::super::Point;
        let pt = |a: i64, u: i64| Point {
            arrived_milli: a,
            used_milli: u,
            frag_num: 0,
            idle_milli: 100_000 - u,
            placed: true,
        };
        // 100 GPUs: arrive level = milli / 1000.
        let r = RunOutput {
            policy: Policy::Fgd,
            seed: 1,
            capacity_milli: 100_000,
            frag_den: 1,
            originals: 3,
            clones: 0,
            points: vec![pt(10_000, 10_000), pt(12_000, 11_000), pt(12_400, 11_000)],
        };
        let l = levels(&r);
        assert_eq!(l.unalloc[10], Some(90.0));
        // Level 11 has no event: the mean over levels 10..=12.
        assert!((l.unalloc[11].unwrap() - (100.0 - 32.0 / 3.0)).abs() < 1e-9);
        assert_eq!(l.unalloc[12], Some(89.0));
        assert_eq!(l.unalloc[14], None);
    }
}
