//! The metrics catalogue computed from a finished run (docs/metrics.md):
//! queue length, utilization by requests and by usage, resource stranding, job
//! completion times and node-hours. Integer arithmetic only; sums run in
//! sample and object order.

use serde::Serialize;

use crate::cluster::RunResult;
use crate::model::PodPhase;

/// Scheduling-queue length (active + unschedulable pods) over the samples.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct QueueLength {
    /// Time-weighted mean over samples × 1000 (floor).
    pub mean_milli: u64,
    pub max: u64,
}

/// Requested / allocatable over the run (time-weighted Σ requested /
/// Σ allocatable over the samples, parts per million).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Utilization {
    pub cpu_requested_ppm: u64,
    pub memory_requested_ppm: u64,
    /// Utilization by usage, when the node model ran (`node_usage.csv`):
    /// time-weighted Σ CPU used / Σ CPU capacity of the nodes, ppm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_used_ppm: Option<u64>,
    /// Time-weighted Σ memory working set / Σ memory allocatable, ppm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_used_ppm: Option<u64>,
}

/// Resource stranding: free capacity a typical pod cannot use because the
/// node lacks the other resource (time-weighted Σ over samples and nodes of
/// stranded / Σ allocatable, parts per million). The typical pod requests the median
/// CPU and the median memory of the run's pods.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stranding {
    /// Free CPU on nodes whose free memory is below the typical pod's.
    pub cpu_ppm: u64,
    /// Free memory on nodes whose free CPU is below the typical pod's.
    pub memory_ppm: u64,
    pub typical_pod_cpu_m: i64,
    pub typical_pod_memory_bytes: i64,
}

/// The weight of each sample: the time until the next one (the state holds
/// until then; the engine skips idle stretches, so samples are not equally
/// spaced), the last one until the end of the run. If every weight is 0
/// (a single sample at the end), all weigh 1.
pub fn sample_weights(r: &RunResult) -> Vec<i128> {
    let end = r.end_time.as_micros();
    let mut w: Vec<i128> = r
        .samples
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let next = r
                .samples
                .get(i + 1)
                .map(|n| n.t_us)
                .unwrap_or(end.max(s.t_us));
            i128::from(next.saturating_sub(s.t_us))
        })
        .collect();
    if w.iter().all(|x| *x == 0) {
        w.iter_mut().for_each(|x| *x = 1);
    }
    w
}

pub fn queue_length(r: &RunResult) -> QueueLength {
    if r.samples.is_empty() {
        return QueueLength::default();
    }
    let w = sample_weights(r);
    let mut sum = 0i128;
    let mut max = 0u64;
    for (s, w) in r.samples.iter().zip(&w) {
        let q = s.queue_active + s.queue_unschedulable;
        sum += i128::from(q) * w;
        max = max.max(q);
    }
    let total: i128 = w.iter().sum();
    QueueLength {
        mean_milli: (sum * 1000 / total.max(1)) as u64,
        max,
    }
}

fn ppm(num: i128, den: i128) -> u64 {
    if den <= 0 || num <= 0 {
        0
    } else {
        (num * 1_000_000 / den) as u64
    }
}

pub fn utilization(r: &RunResult) -> Utilization {
    let (mut rc, mut ac, mut rm, mut am) = (0i128, 0i128, 0i128, 0i128);
    for (s, w) in r.samples.iter().zip(sample_weights(r)) {
        rc += i128::from(s.cpu_requested_m) * w;
        ac += i128::from(s.cpu_allocatable_m) * w;
        rm += i128::from(s.memory_requested_bytes) * w;
        am += i128::from(s.memory_allocatable_bytes) * w;
    }
    let (cpu_used_ppm, memory_used_ppm) = match usage_utilization(r) {
        Some((c, m)) => (Some(c), Some(m)),
        None => (None, None),
    };
    Utilization {
        cpu_requested_ppm: ppm(rc, ac),
        memory_requested_ppm: ppm(rm, am),
        cpu_used_ppm,
        memory_used_ppm,
    }
}

/// Utilization by usage from the node model's `node_usage.csv` rows
/// (`None` when it did not run): each sample instant weighs the time
/// until the next one, the last until the end of the run (all 1 if every
/// weight is 0); (Σ cpu_used_m·w / Σ cpu_capacity_m·w,
/// Σ memory_used_bytes·w / Σ memory_allocatable_bytes·w) in ppm.
pub fn usage_utilization(r: &RunResult) -> Option<(u64, u64)> {
    let rows = &r.node_usage_rows;
    if rows.is_empty() {
        return None;
    }
    let end = r.end_time.as_micros();
    // Distinct sample instants, in order (rows are grouped by instant).
    let mut times: Vec<u64> = rows.iter().map(|x| x.t_us).collect();
    times.dedup();
    let mut w: Vec<i128> = times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let next = times.get(i + 1).copied().unwrap_or(end.max(*t));
            i128::from(next.saturating_sub(*t))
        })
        .collect();
    if w.iter().all(|x| *x == 0) {
        w.iter_mut().for_each(|x| *x = 1);
    }
    let (mut uc, mut cc, mut um, mut am) = (0i128, 0i128, 0i128, 0i128);
    for row in rows {
        let i = times.partition_point(|t| *t < row.t_us);
        let w = w.get(i).copied().unwrap_or(0);
        uc += i128::from(row.cpu_used_m) * w;
        cc += i128::from(row.cpu_capacity_m) * w;
        um += i128::from(row.memory_used_bytes) * w;
        am += i128::from(row.memory_allocatable_bytes) * w;
    }
    Some((ppm(uc, cc), ppm(um, am)))
}

fn median(mut v: Vec<i64>) -> i64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[(v.len() - 1) / 2]
}

/// When a node stops counting: the end of the run if present, else the
/// last time one of its pods released it (removal times are not kept).
fn node_windows(r: &RunResult) -> Vec<(u64, u64)> {
    let end = r.end_time.as_micros();
    let mut last = vec![0u64; r.nodes.len()];
    for p in &r.pods {
        if let (Some(n), Some(f)) = (p.status.node, p.status.finished_at) {
            let i = n.0 as usize;
            if i < last.len() {
                last[i] = last[i].max(f.as_micros());
            }
        }
    }
    r.nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let from = n.meta.creation_timestamp.as_micros();
            let to = if n.present { end } else { last[i].max(from) };
            (from, to)
        })
        .collect()
}

/// Pods' resource holdings as (time, node, Δcpu, Δmemory), sorted.
fn holdings(r: &RunResult) -> Vec<(u64, usize, i64, i64)> {
    let end = r.end_time.as_micros();
    let mut ev = Vec::new();
    for p in &r.pods {
        let (Some(n), Some(start)) = (p.status.node, p.status.scheduled_at.or(p.status.bound_at))
        else {
            continue;
        };
        let stop = p.status.finished_at.map(|t| t.as_micros()).unwrap_or(end);
        let start = start.as_micros();
        if stop <= start {
            continue;
        }
        let i = n.0 as usize;
        ev.push((start, i, p.requests.cpu_m, p.requests.memory));
        ev.push((stop, i, -p.requests.cpu_m, -p.requests.memory));
    }
    ev.sort();
    ev
}

pub fn stranding(r: &RunResult) -> Stranding {
    let cpu = median(
        r.pods
            .iter()
            .map(|p| p.requests.cpu_m)
            .filter(|c| *c > 0)
            .collect(),
    );
    let mem = median(
        r.pods
            .iter()
            .map(|p| p.requests.memory)
            .filter(|m| *m > 0)
            .collect(),
    );
    let windows = node_windows(r);
    let ev = holdings(r);
    let mut used = vec![(0i64, 0i64); r.nodes.len()];
    let mut k = 0;
    let (mut sc, mut sm, mut ac, mut am) = (0i128, 0i128, 0i128, 0i128);
    for (s, w) in r.samples.iter().zip(sample_weights(r)) {
        while k < ev.len() && ev[k].0 <= s.t_us {
            let (_, i, c, m) = ev[k];
            if let Some(u) = used.get_mut(i) {
                u.0 += c;
                u.1 += m;
            }
            k += 1;
        }
        for (i, n) in r.nodes.iter().enumerate() {
            let (from, to) = windows[i];
            if s.t_us < from || s.t_us >= to.max(from + 1) {
                continue;
            }
            let free_c = (n.allocatable.cpu_m - used[i].0).max(0);
            let free_m = (n.allocatable.memory - used[i].1).max(0);
            ac += i128::from(n.allocatable.cpu_m) * w;
            am += i128::from(n.allocatable.memory) * w;
            if mem > 0 && free_m < mem {
                sc += i128::from(free_c) * w;
            }
            if cpu > 0 && free_c < cpu {
                sm += i128::from(free_m) * w;
            }
        }
    }
    Stranding {
        cpu_ppm: ppm(sc, ac),
        memory_ppm: ppm(sm, am),
        typical_pod_cpu_m: cpu,
        typical_pod_memory_bytes: mem,
    }
}

/// Creation → completion (µs) of every pod that Succeeded.
pub fn job_completion_times(r: &RunResult) -> Vec<u64> {
    r.pods
        .iter()
        .filter(|p| p.phase() == PodPhase::Succeeded)
        .filter_map(|p| {
            p.status.finished_at.map(|f| {
                f.as_micros()
                    .saturating_sub(p.meta.creation_timestamp.as_micros())
            })
        })
        .collect()
}

/// Σ over nodes of the time each was part of the cluster, in seconds.
pub fn node_seconds(r: &RunResult) -> u64 {
    node_windows(r)
        .iter()
        .map(|(a, b)| b.saturating_sub(*a))
        .sum::<u64>()
        / 1_000_000
}
