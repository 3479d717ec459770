//! The metrics pipeline an autoscaler reads: a metrics-server model and
//! scenario-defined external series.
//!
//! metrics-server (v0.7, defaults): it scrapes every kubelet's
//! `/metrics/resource` at the metric resolution (15 s). The kubelet
//! reports, per container, a cumulative CPU counter and the memory working
//! set as of its latest housekeeping (cAdvisor, every 10 s). The CPU usage
//! metric is the rate between the two latest distinct samples
//! (`window` = the time between them), so an autoscaler sees a delayed,
//! windowed average; a container seen once has no rate yet, and a pod is
//! listed only when every container has one — a pod that just started
//! has no metrics (upstream's "missing" pods).
//!
//! The usage itself comes from a [`UsageSource`] (the node model's
//! per-container usage, or a synthetic source in tests). The cumulative
//! counter integrates the instantaneous usage in 1-second steps
//! (millicore·seconds, integers).

use std::collections::BTreeMap;

use super::hpa::{PodMetric, PodMetricsInfo, ResourceName};
use crate::engine::{Duration, SimTime};

/// Instantaneous per-container usage.
pub trait UsageSource {
    /// CPU usage of `container` of pod `pod` (namespace/name) at `t`, in
    /// millicores; `None` when it is not running.
    fn cpu_m(&self, pod: &str, container: &str, t: SimTime) -> Option<i64>;
    /// Memory working set at `t`, bytes.
    fn memory_bytes(&self, pod: &str, container: &str, t: SimTime) -> Option<i64>;
    /// CPU used by `container` over `[from, to)`, millicore·µs (the
    /// cumulative counter's increase). The default integrates
    /// [`UsageSource::cpu_m`] in 1-second steps; a source that knows its
    /// usage exactly (the node model's granted CPU, piecewise constant)
    /// overrides it.
    fn cpu_integral(&self, pod: &str, container: &str, from: SimTime, to: SimTime) -> i128 {
        integrate_steps(self, pod, container, from, to)
    }
}

/// A pod the kubelets report on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScrapeTarget {
    /// namespace/name.
    pub pod: String,
    /// When its containers started (the counters start at zero then).
    pub started: SimTime,
    pub containers: Vec<String>,
}

/// One container's usage in the metrics API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerMetrics {
    pub name: String,
    pub cpu_m: i64,
    pub memory_bytes: i64,
}

/// One pod in the metrics API (`PodMetrics`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodMetrics {
    pub timestamp: SimTime,
    pub window: Duration,
    pub containers: Vec<ContainerMetrics>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Point {
    at: SimTime,
    /// Millicore·seconds since the container started.
    cpu_total: i128,
    memory: i64,
}

/// The metrics-server model.
#[derive(Clone, Debug)]
pub struct MetricsServer {
    /// `--metric-resolution` (15 s).
    pub resolution: Duration,
    /// The kubelet's housekeeping interval (10 s).
    pub housekeeping: Duration,
    /// Two latest samples per (pod, container): previous and latest.
    points: BTreeMap<(String, String), (Option<Point>, Point)>,
    current: BTreeMap<String, PodMetrics>,
}

impl Default for MetricsServer {
    fn default() -> Self {
        MetricsServer {
            resolution: Duration::from_secs(15),
            housekeeping: Duration::from_secs(10),
            points: BTreeMap::new(),
            current: BTreeMap::new(),
        }
    }
}

const STEP: u64 = 1_000_000;

fn integrate(src: &dyn UsageSource, pod: &str, c: &str, from: SimTime, to: SimTime) -> i128 {
    src.cpu_integral(pod, c, from, to)
}

fn integrate_steps<S: UsageSource + ?Sized>(
    src: &S,
    pod: &str,
    c: &str,
    from: SimTime,
    to: SimTime,
) -> i128 {
    // Left Riemann sum in 1 s steps (the last step may be shorter);
    // millicores × µs / 1e6 = millicore·seconds, kept exact as µs·m here.
    let mut t = from;
    let mut acc: i128 = 0;
    while t < to {
        let next = SimTime((t.0 + STEP).min(to.0));
        let u = src.cpu_m(pod, c, t).unwrap_or(0).max(0) as i128;
        acc += u * (next.0 - t.0) as i128;
        t = next;
    }
    acc
}

impl MetricsServer {
    /// The housekeeping instant a kubelet reports at `now`.
    fn sample_time(&self, now: SimTime) -> SimTime {
        let h = self.housekeeping.as_micros().max(1);
        SimTime(now.0 / h * h)
    }

    /// One scrape of every kubelet at `now`: refreshes the metrics API.
    pub fn scrape(&mut self, now: SimTime, targets: &[ScrapeTarget], src: &dyn UsageSource) {
        let at = self.sample_time(now);
        let mut points = BTreeMap::new();
        let mut current = BTreeMap::new();
        for t in targets {
            if at < t.started {
                continue;
            }
            let mut containers = Vec::with_capacity(t.containers.len());
            let mut complete = true;
            let mut window = Duration::ZERO;
            for c in &t.containers {
                let key = (t.pod.clone(), c.clone());
                let Some(mem) = src.memory_bytes(&t.pod, c, at) else {
                    complete = false;
                    continue;
                };
                let (prev, latest) = match self.points.get(&key) {
                    Some(&(prev, latest)) if latest.at == at => (prev, latest),
                    Some(&(_, latest)) if latest.at >= t.started => {
                        let total = latest.cpu_total + integrate(src, &t.pod, c, latest.at, at);
                        (
                            Some(latest),
                            Point {
                                at,
                                cpu_total: total,
                                memory: mem,
                            },
                        )
                    }
                    _ => {
                        let total = integrate(src, &t.pod, c, t.started, at);
                        (
                            None,
                            Point {
                                at,
                                cpu_total: total,
                                memory: mem,
                            },
                        )
                    }
                };
                points.insert(key, (prev, latest));
                match prev {
                    Some(p) if latest.at > p.at => {
                        let dt = (latest.at.0 - p.at.0) as i128;
                        window = Duration(latest.at.0 - p.at.0);
                        containers.push(ContainerMetrics {
                            name: c.clone(),
                            cpu_m: ((latest.cpu_total - p.cpu_total) / dt) as i64,
                            memory_bytes: latest.memory,
                        });
                    }
                    _ => complete = false,
                }
            }
            if complete && !containers.is_empty() {
                current.insert(
                    t.pod.clone(),
                    PodMetrics {
                        timestamp: at,
                        window,
                        containers,
                    },
                );
            }
        }
        self.points = points;
        self.current = current;
    }

    /// The metrics API's entry for a pod.
    pub fn pod(&self, pod: &str) -> Option<&PodMetrics> {
        self.current.get(pod)
    }

    /// What the HPA's resource metrics client returns for these pods
    /// (keys: pod name without namespace, as upstream keys them): the sum
    /// over containers, or one container's value (a pod without that
    /// container is left out). CPU in millicores, memory as
    /// `MilliValue` (bytes × 1000).
    pub fn resource_metrics(
        &self,
        pods: &[(String, String)],
        resource: ResourceName,
        container: Option<&str>,
    ) -> Result<(PodMetricsInfo, SimTime), String> {
        let mut out = PodMetricsInfo::new();
        let mut ts = None;
        for (key, name) in pods {
            let Some(m) = self.current.get(key) else {
                continue;
            };
            let val = |c: &ContainerMetrics| match resource {
                ResourceName::Cpu => c.cpu_m,
                ResourceName::Memory => c.memory_bytes.saturating_mul(1000),
            };
            let value = match container {
                None => m
                    .containers
                    .iter()
                    .map(val)
                    .fold(0i64, |a, b| a.saturating_add(b)),
                Some(n) => match m.containers.iter().find(|c| c.name == n) {
                    Some(c) => val(c),
                    None => continue,
                },
            };
            ts.get_or_insert(m.timestamp);
            out.insert(
                name.clone(),
                PodMetric {
                    value,
                    timestamp: m.timestamp,
                    window: m.window,
                },
            );
        }
        match ts {
            None => Err("no metrics returned from resource metrics API".to_string()),
            Some(t) => Ok((out, t)),
        }
    }
}

/// A scenario-defined series (an External metric such as a queue
/// length, or an offered load): a step function of time, milli-units.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Series {
    /// Sorted by time; before the first point the value is 0.
    pub points: Vec<(SimTime, i64)>,
}

impl Series {
    pub fn value_at(&self, t: SimTime) -> i64 {
        let i = self.points.partition_point(|(at, _)| *at <= t);
        if i == 0 {
            0
        } else {
            self.points[i - 1].1
        }
    }
    /// The first time after `t` at which the value changes.
    pub fn next_change_after(&self, t: SimTime) -> Option<SimTime> {
        self.points.iter().map(|(at, _)| *at).find(|at| *at > t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every container uses `base` millicores, `high` from `step_at` on.
    struct Step {
        base: i64,
        high: i64,
        step_at: SimTime,
    }
    impl UsageSource for Step {
        fn cpu_m(&self, _: &str, _: &str, t: SimTime) -> Option<i64> {
            Some(if t >= self.step_at {
                self.high
            } else {
                self.base
            })
        }
        fn memory_bytes(&self, _: &str, _: &str, _: SimTime) -> Option<i64> {
            Some(64 << 20)
        }
    }

    fn s(x: u64) -> SimTime {
        SimTime(x * 1_000_000)
    }

    #[test]
    fn a_new_pod_has_no_metrics_until_two_samples() {
        let mut ms = MetricsServer::default();
        let src = Step {
            base: 200,
            high: 200,
            step_at: s(0),
        };
        let t = vec![ScrapeTarget {
            pod: "default/p".into(),
            started: s(3),
            containers: vec!["a".into(), "b".into()],
        }];
        ms.scrape(s(15), &t, &src);
        assert!(ms.pod("default/p").is_none(), "one sample: no rate");
        ms.scrape(s(30), &t, &src);
        let m = ms.pod("default/p").unwrap();
        assert_eq!((m.timestamp, m.window), (s(30), Duration::from_secs(20)));
        assert_eq!(m.containers[0].cpu_m, 200);
        let pods = vec![("default/p".to_string(), "p".to_string())];
        let (r, ts) = ms.resource_metrics(&pods, ResourceName::Cpu, None).unwrap();
        assert_eq!((r["p"].value, ts), (400, s(30)));
        let (r, _) = ms
            .resource_metrics(&pods, ResourceName::Cpu, Some("b"))
            .unwrap();
        assert_eq!(r["p"].value, 200);
        let (r, _) = ms
            .resource_metrics(&pods, ResourceName::Memory, None)
            .unwrap();
        assert_eq!(r["p"].value, 2 * (64 << 20) * 1000);
        assert!(ms
            .resource_metrics(&pods, ResourceName::Cpu, Some("zz"))
            .is_err());
    }

    #[test]
    fn the_rate_is_a_lagging_window_average() {
        let mut ms = MetricsServer::default();
        let src = Step {
            base: 100,
            high: 1100,
            step_at: s(45),
        };
        let t = vec![ScrapeTarget {
            pod: "default/p".into(),
            started: s(0),
            containers: vec!["a".into()],
        }];
        for k in 1..=4 {
            ms.scrape(s(15 * k), &t, &src);
        }
        // Samples at 50 s and 60 s: 5 s at 100m and 15 s at 1100m between
        // the 40 s and 60 s housekeeping points → (500 + 16500) / 20.
        let m = ms.pod("default/p").unwrap();
        assert_eq!(m.window, Duration::from_secs(20));
        assert_eq!(m.containers[0].cpu_m, 850);
        // A pod that is gone disappears.
        ms.scrape(s(75), &[], &src);
        assert!(ms.pod("default/p").is_none());
    }

    #[test]
    fn series_steps() {
        let sr = Series {
            points: vec![(s(10), 5), (s(20), 7)],
        };
        assert_eq!(
            (sr.value_at(s(0)), sr.value_at(s(10)), sr.value_at(s(99))),
            (0, 5, 7)
        );
        assert_eq!(sr.next_change_after(s(10)), Some(s(20)));
    }
}
