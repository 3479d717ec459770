//! `kubesim compare-real SIMDIR REALDIR`: how far a simulated run is from
//! the same scenario replayed with real processes (`kubesim replay
//! --backend linux`). Per container (namespace/pod/container): mean CPU
//! granted (sim: mean of `containers.csv` rows; real: the cgroup's CPU
//! time over the container's lifetime when it finished, else the mean of
//! its rows), throttled time at the end, OOM-kill agreement, completion
//! time (sim: `pods.csv` finished − started; real: `completions.csv`).
//! Simulated rows count only up to the real run's last sample (a replay
//! may stop early with `--until`).
//! Portable: it only reads CSV files.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("reading {path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{path}: missing column {column}")]
    Column { path: PathBuf, column: String },
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

type Key = (String, String, String);

/// Rows of a CSV file as maps from header to value.
fn read_rows(path: &Path, need: &[&str]) -> Result<Vec<BTreeMap<String, String>>, CompareError> {
    let err = |source| CompareError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut r = csv::Reader::from_path(path).map_err(err)?;
    let headers: Vec<String> = r
        .headers()
        .map_err(err)?
        .iter()
        .map(str::to_string)
        .collect();
    for n in need {
        if !headers.iter().any(|h| h == n) {
            return Err(CompareError::Column {
                path: path.to_path_buf(),
                column: n.to_string(),
            });
        }
    }
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(err)?;
        out.push(
            headers
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect(),
        );
    }
    Ok(out)
}

fn num(m: &BTreeMap<String, String>, k: &str) -> Option<i64> {
    m.get(k).and_then(|v| v.parse().ok())
}

#[derive(Clone, Debug, Default)]
struct Side {
    rows: u64,
    granted_sum: i64,
    throttled_us: i64,
    oom_kills: i64,
    first_t: Option<i64>,
    last_t: i64,
}

fn containers(path: &Path, until: Option<i64>) -> Result<BTreeMap<Key, Side>, CompareError> {
    // A run whose containers all ran between two samples writes no
    // containers.csv: no rows (completions and pods.csv still compare).
    if !path.exists() {
        return Ok(BTreeMap::new());
    }
    let rows = read_rows(
        path,
        &[
            "t_us",
            "namespace",
            "pod",
            "container",
            "cpu_granted_m",
            "throttled_us",
            "oom_kills",
        ],
    )?;
    let mut m: BTreeMap<Key, Side> = BTreeMap::new();
    for r in rows {
        let k = (
            r.get("namespace").cloned().unwrap_or_default(),
            r.get("pod").cloned().unwrap_or_default(),
            r.get("container").cloned().unwrap_or_default(),
        );
        let t = num(&r, "t_us").unwrap_or(0);
        if until.is_some_and(|u| t > u) {
            continue;
        }
        let s = m.entry(k).or_default();
        s.rows += 1;
        s.granted_sum += num(&r, "cpu_granted_m").unwrap_or(0);
        s.throttled_us = s.throttled_us.max(num(&r, "throttled_us").unwrap_or(0));
        s.oom_kills = s.oom_kills.max(num(&r, "oom_kills").unwrap_or(0));
        s.first_t.get_or_insert(t);
        s.last_t = s.last_t.max(t);
    }
    Ok(m)
}

/// One container's comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub sim_cpu_m: Option<i64>,
    pub real_cpu_m: Option<i64>,
    pub sim_throttled_us: Option<i64>,
    pub real_throttled_us: Option<i64>,
    pub sim_oom: Option<bool>,
    pub real_oom: Option<bool>,
    pub sim_completion_us: Option<i64>,
    pub real_completion_us: Option<i64>,
}

impl Row {
    /// Relative error of real against sim, percent (None without both).
    pub fn err_pct(sim: Option<i64>, real: Option<i64>) -> Option<f64> {
        match (sim, real) {
            (Some(s), Some(r)) if s != 0 => Some((r - s) as f64 * 100.0 / s as f64),
            (Some(0), Some(0)) => Some(0.0),
            _ => None,
        }
    }
    pub fn oom_agrees(&self) -> Option<bool> {
        Some(self.sim_oom? == self.real_oom?)
    }
}

/// Compares the two directories.
pub fn compare(sim: &Path, real: &Path) -> Result<Vec<Row>, CompareError> {
    // The common window: the simulated rows up to the real run's last.
    let r = containers(&real.join("containers.csv"), None)?;
    let last_real = r.values().map(|v| v.last_t).max();
    let s = containers(&sim.join("containers.csv"), last_real)?;
    let mut sim_done: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut sim_oom_pods: BTreeMap<(String, String), bool> = BTreeMap::new();
    let pods = sim.join("pods.csv");
    if pods.exists() {
        for p in read_rows(&pods, &["namespace", "name", "started_us", "finished_us"])? {
            // A container OOM-killed before the first sample has no row.
            sim_oom_pods.insert(
                (
                    p.get("namespace").cloned().unwrap_or_default(),
                    p.get("name").cloned().unwrap_or_default(),
                ),
                p.get("reason").is_some_and(|r| r == "OOMKilled"),
            );
            if let (Some(a), Some(b)) = (num(&p, "started_us"), num(&p, "finished_us")) {
                sim_done.insert(
                    (
                        p.get("namespace").cloned().unwrap_or_default(),
                        p.get("name").cloned().unwrap_or_default(),
                    ),
                    b - a,
                );
            }
        }
    }
    let mut real_done: BTreeMap<Key, (Option<i64>, i64)> = BTreeMap::new();
    // Containers OOM-killed for real (a kill between samples leaves no
    // row with the count).
    let mut real_oom_runs: BTreeMap<Key, bool> = BTreeMap::new();
    let comp = real.join("completions.csv");
    if comp.exists() {
        for c in read_rows(
            &comp,
            &[
                "namespace",
                "pod",
                "container",
                "started_us",
                "finished_us",
                "cpu_usage_us",
            ],
        )? {
            let k = (
                c.get("namespace").cloned().unwrap_or_default(),
                c.get("pod").cloned().unwrap_or_default(),
                c.get("container").cloned().unwrap_or_default(),
            );
            let dur = match (num(&c, "started_us"), num(&c, "finished_us")) {
                (Some(a), Some(b)) if b > a => Some(b - a),
                _ => None,
            };
            let oom = c.get("reason").is_some_and(|r| r == "OOMKilled")
                || num(&c, "oom_kills").is_some_and(|n| n > 0);
            *real_oom_runs.entry(k.clone()).or_default() |= oom;
            real_done.insert(k, (dur, num(&c, "cpu_usage_us").unwrap_or(0)));
        }
    }
    // Containers that finished between samples have only a completion.
    let mut keys: Vec<Key> = s
        .keys()
        .chain(r.keys())
        .chain(real_done.keys())
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for k in keys {
        let sv = s.get(&k);
        let rv = r.get(&k);
        let rd = real_done.get(&k);
        let real_cpu = match rd {
            Some((Some(d), used)) if *d > 0 => Some(used * 1000 / d),
            _ => rv.map(|v| v.granted_sum / v.rows.max(1) as i64),
        };
        out.push(Row {
            namespace: k.0.clone(),
            pod: k.1.clone(),
            container: k.2.clone(),
            sim_cpu_m: sv.map(|v| v.granted_sum / v.rows.max(1) as i64),
            real_cpu_m: real_cpu,
            sim_throttled_us: sv.map(|v| v.throttled_us),
            real_throttled_us: rv.map(|v| v.throttled_us),
            sim_oom: match (sv, sim_oom_pods.get(&(k.0.clone(), k.1.clone()))) {
                (Some(v), p) => Some(v.oom_kills > 0 || p == Some(&true)),
                (None, Some(p)) => Some(*p),
                (None, None) => None,
            },
            real_oom: match (rv, real_oom_runs.get(&k)) {
                (Some(v), p) => Some(v.oom_kills > 0 || p == Some(&true)),
                (None, Some(p)) => Some(*p),
                (None, None) => None,
            },
            sim_completion_us: sim_done.get(&(k.0.clone(), k.1.clone())).copied(),
            real_completion_us: rd.and_then(|(d, _)| *d),
        });
    }
    Ok(out)
}

fn opt(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}
fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1}")).unwrap_or_default()
}

/// Writes `comparison.csv` (temp name, then rename).
pub fn write_csv(rows: &[Row], path: &Path) -> Result<(), CompareError> {
    let tmp = crate::output::temp_path(path);
    let err = |source| CompareError::Csv {
        path: tmp.clone(),
        source,
    };
    let mut w = csv::Writer::from_path(&tmp).map_err(err)?;
    w.write_record([
        "namespace",
        "pod",
        "container",
        "sim_cpu_m",
        "real_cpu_m",
        "cpu_err_pct",
        "sim_throttled_us",
        "real_throttled_us",
        "throttled_err_pct",
        "sim_oom",
        "real_oom",
        "oom_agrees",
        "sim_completion_us",
        "real_completion_us",
        "completion_err_pct",
    ])
    .map_err(err)?;
    let b = |v: Option<bool>| v.map(|v| v.to_string()).unwrap_or_default();
    for r in rows {
        w.write_record([
            r.namespace.clone(),
            r.pod.clone(),
            r.container.clone(),
            opt(r.sim_cpu_m),
            opt(r.real_cpu_m),
            pct(Row::err_pct(r.sim_cpu_m, r.real_cpu_m)),
            opt(r.sim_throttled_us),
            opt(r.real_throttled_us),
            pct(Row::err_pct(r.sim_throttled_us, r.real_throttled_us)),
            b(r.sim_oom),
            b(r.real_oom),
            b(r.oom_agrees()),
            opt(r.sim_completion_us),
            opt(r.real_completion_us),
            pct(Row::err_pct(r.sim_completion_us, r.real_completion_us)),
        ])
        .map_err(err)?;
    }
    w.flush().map_err(|source| CompareError::Io {
        path: tmp.clone(),
        source,
    })?;
    drop(w);
    fs::rename(&tmp, path).map_err(|source| CompareError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A text table of the comparison.
pub fn table(rows: &[Row]) -> String {
    let mut s = format!(
        "{:<32} {:>14} {:>8} {:>22} {:>9} {:>22} {:>8}\n",
        "container",
        "cpu m sim/real",
        "err %",
        "throttled s sim/real",
        "oom",
        "completion s sim/real",
        "err %"
    );
    let secs = |v: Option<i64>| {
        v.map(|v| format!("{:.1}", v as f64 / 1e6))
            .unwrap_or("-".into())
    };
    for r in rows {
        s.push_str(&format!(
            "{:<32} {:>14} {:>8} {:>22} {:>9} {:>22} {:>8}\n",
            format!("{}/{}/{}", r.namespace, r.pod, r.container),
            format!("{}/{}", opt(r.sim_cpu_m), opt(r.real_cpu_m)),
            pct(Row::err_pct(r.sim_cpu_m, r.real_cpu_m)),
            format!("{}/{}", secs(r.sim_throttled_us), secs(r.real_throttled_us)),
            match r.oom_agrees() {
                Some(true) => "agree",
                Some(false) => "DIFFER",
                None => "-",
            },
            format!(
                "{}/{}",
                secs(r.sim_completion_us),
                secs(r.real_completion_us)
            ),
            pct(Row::err_pct(r.sim_completion_us, r.real_completion_us)),
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_without_container_samples_still_compare() {
        // Containers that ran between two samples leave no containers.csv.
        let t = tempfile::tempdir().unwrap();
        let (sim, real) = (t.path().join("sim"), t.path().join("real"));
        fs::create_dir_all(&sim).unwrap();
        fs::create_dir_all(&real).unwrap();
        assert_eq!(compare(&sim, &real).unwrap(), Vec::new());
    }

    #[test]
    fn compares_two_directories() {
        let t = tempfile::tempdir().unwrap();
        let (sim, real) = (t.path().join("sim"), t.path().join("real"));
        fs::create_dir_all(&sim).unwrap();
        fs::create_dir_all(&real).unwrap();
        let head = "t_us,node,namespace,pod,container,cpu_demand_m,cpu_granted_m,cpu_limit_m,throttled_periods,throttled_us,memory_bytes,memory_limit_bytes,restarts,oom_kills\n";
        fs::write(
            sim.join("containers.csv"),
            format!("{head}0,n,default,a,app,1000,500,500,0,0,0,,0,0\n1000000,n,default,a,app,1000,500,500,10,500000,0,,0,0\n"),
        )
        .unwrap();
        fs::write(
            real.join("containers.csv"),
            format!("{head}0,n,default,a,app,1000,0,500,0,0,0,,0,0\n1000000,n,default,a,app,1000,480,500,10,550000,0,,0,1\n"),
        )
        .unwrap();
        fs::write(
            sim.join("pods.csv"),
            "namespace,name,started_us,finished_us\ndefault,a,0,2000000\n",
        )
        .unwrap();
        fs::write(
            real.join("completions.csv"),
            "node,namespace,pod,container,started_us,finished_us,exit_code,reason,cpu_usage_us,oom_kills\nn,default,a,app,100,2200100,0,Completed,1100000,0\n",
        )
        .unwrap();
        let rows = compare(&sim, &real).unwrap();
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.sim_cpu_m, Some(500));
        assert_eq!(r.real_cpu_m, Some(500), "1.1 s of CPU over 2.2 s");
        assert_eq!(r.sim_throttled_us, Some(500_000));
        assert_eq!(r.real_throttled_us, Some(550_000));
        assert_eq!(
            Row::err_pct(r.sim_throttled_us, r.real_throttled_us),
            Some(10.0)
        );
        assert_eq!(r.oom_agrees(), Some(false));
        assert_eq!(
            Row::err_pct(r.sim_completion_us, r.real_completion_us),
            Some(10.0)
        );
        let out = real.join("comparison.csv");
        write_csv(&rows, &out).unwrap();
        let text = fs::read_to_string(out).unwrap();
        assert!(text.contains("default,a,app,500,500,0.0,500000,550000,10.0,false,true,false,2000000,2200000,10.0"), "{text}");
        assert!(table(&rows).contains("DIFFER"));
    }

    #[test]
    fn missing_column_is_an_error_with_the_path() {
        let t = tempfile::tempdir().unwrap();
        fs::write(t.path().join("containers.csv"), "t_us,pod\n1,a\n").unwrap();
        let e = compare(t.path(), t.path()).unwrap_err();
        assert!(e.to_string().contains("missing column namespace"), "{e}");
    }
}
