//! Ports of upstream's replica_calculator_test.go (v1.35): the
//! TestReplicaCalcResourceScale table and the TestReplicaCalc* cases,
//! TestGroupPods and TestCalculateRequests, plus controller-level checks
//! from horizontal_test.go. Upstream's fixtures: pods `test-pod-<i>` with
//! two containers (`container1`, `container2`) each requesting the pod's
//! CPU request and each reporting the pod's level; metric samples have a
//! one-minute window; the testing CPU initialization period is 2 min and
//! the readiness delay 10 s; "hot" pods started now, "cool" ones 3 min ago;
//! Go's zero time is SimTime 0 and "now" is ten hours into the run.

use super::replica_calc::*;
use super::*;

const NOW: SimTime = SimTime(36_000_000_000);
const TOL: Tolerances = Tolerances {
    scale_down: 0.1,
    scale_up: 0.1,
};

fn calc() -> ReplicaCalculator {
    ReplicaCalculator {
        cpu_initialization_period: Duration::from_secs(120),
        delay_of_initial_readiness_status: Duration::from_secs(10),
    }
}
fn hot() -> SimTime {
    NOW
}
fn cool() -> SimTime {
    SimTime(NOW.0 - 180_000_000)
}

#[derive(Clone, Default)]
struct Fixture {
    current: i32,
    /// CPU request per pod, millicores (None: no request).
    requests: Vec<Option<i64>>,
    /// Per pod, per container usage.
    levels: Vec<Vec<i64>>,
    pod_names: Vec<&'static str>,
    readiness: Vec<bool>,
    start: Vec<SimTime>,
    phase: Vec<Phase>,
    deleting: Vec<bool>,
    container: Option<&'static str>,
}

fn levels(v: &[i64]) -> Vec<Vec<i64>> {
    v.iter().map(|&l| vec![l, l]).collect()
}
fn reqs(n: usize, m: i64) -> Vec<Option<i64>> {
    vec![Some(m); n]
}

impl Fixture {
    fn pods(&self) -> Vec<PodInfo> {
        let n = (self.current as usize).max(self.phase.len());
        (0..n)
            .map(|i| {
                let ready = self.readiness.get(i).copied().unwrap_or(true);
                let req = self.requests.get(i).copied().flatten();
                PodInfo {
                    name: format!("test-pod-{i}"),
                    phase: self.phase.get(i).copied().unwrap_or(Phase::Running),
                    deleting: self.deleting.get(i).copied().unwrap_or(false),
                    ready: Some(ReadyCondition {
                        status: ready,
                        last_transition: SimTime::ZERO,
                    }),
                    start_time: Some(self.start.get(i).copied().unwrap_or(SimTime::ZERO)),
                    containers: ["container1", "container2"]
                        .iter()
                        .map(|c| ContainerInfo {
                            name: c.to_string(),
                            cpu_request_milli: req,
                            memory_request_milli: None,
                            sidecar: false,
                        })
                        .collect(),
                }
            })
            .collect()
    }
    /// The fake metrics client: a pod's value is the sum over its
    /// containers, or one container's; a pod lacking it has no sample.
    fn metrics(&self) -> FetchedPodMetrics {
        if self.levels.is_empty() {
            return Err("no metrics returned from resource metrics API".to_string());
        }
        let mut m = PodMetricsInfo::new();
        for (i, l) in self.levels.iter().enumerate() {
            let name = self
                .pod_names
                .get(i)
                .map(|s| s.to_string())
                .unwrap_or_else(|| format!("test-pod-{i}"));
            let value = match self.container {
                None => l.iter().sum::<i64>(),
                Some(c) => {
                    let idx = if c == "container1" { 0 } else { 1 };
                    match l.get(idx) {
                        Some(v) => *v,
                        None => continue,
                    }
                }
            };
            m.insert(
                name,
                PodMetric {
                    value,
                    timestamp: SimTime::ZERO,
                    window: Duration::from_secs(60),
                },
            );
        }
        Ok((m, SimTime::ZERO))
    }
    fn run(&self, target: i32, tol: Tolerances) -> Result<UtilizationProposal, String> {
        calc().resource_replicas(
            self.current,
            target,
            ResourceName::Cpu,
            tol,
            &self.pods(),
            self.metrics(),
            self.container,
            NOW,
        )
    }
}

fn ok(name: &str, f: Fixture, target: i32, replicas: i32, util: i32, raw: i64) {
    let got = f.run(target, TOL).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        (got.replicas, got.utilization, got.raw),
        (replicas, util, raw),
        "{name}"
    );
}

use Phase::{Failed, Pending, Running};

#[test]
fn resource_scale_table() {
    let base3 = Fixture {
        current: 3,
        requests: reqs(3, 1000),
        levels: levels(&[300, 500, 700]),
        ..Default::default()
    };
    ok("scale up", base3.clone(), 30, 5, 50, 2 * 500);
    ok(
        "scale up: container metric",
        Fixture {
            container: Some("container2"),
            levels: vec![vec![1000, 300], vec![1000, 500], vec![1000, 700]],
            ..base3.clone()
        },
        30,
        5,
        50,
        500,
    );
    ok(
        "scale up: unready pod scales less",
        Fixture {
            readiness: vec![false, true, true],
            ..base3.clone()
        },
        30,
        4,
        60,
        2 * 600,
    );
    ok(
        "scale up: hot-CPU container scales less",
        Fixture {
            start: vec![hot(), cool(), cool()],
            container: Some("container2"),
            levels: vec![vec![0, 300], vec![0, 500], vec![0, 700]],
            ..base3.clone()
        },
        30,
        4,
        60,
        600,
    );
    ok(
        "scale up: hot-CPU pod scales less",
        Fixture {
            start: vec![hot(), cool(), cool()],
            ..base3.clone()
        },
        30,
        4,
        60,
        2 * 600,
    );
    ok(
        "no scale: unready pods ignored",
        Fixture {
            readiness: vec![true, false, false],
            levels: levels(&[400, 500, 700]),
            ..base3.clone()
        },
        30,
        3,
        40,
        2 * 400,
    );
    ok(
        "no scale: hot-CPU pods ignored",
        Fixture {
            readiness: vec![true, false, false],
            start: vec![cool(), hot(), hot()],
            levels: levels(&[400, 500, 700]),
            ..base3.clone()
        },
        30,
        3,
        40,
        2 * 400,
    );
    let failed2 = Fixture {
        current: 2,
        readiness: vec![true, true, false, false],
        phase: vec![Running, Running, Failed, Failed],
        requests: reqs(4, 1000),
        levels: levels(&[500, 700]),
        ..Default::default()
    };
    ok(
        "scale up: failed pods ignored",
        failed2.clone(),
        30,
        4,
        60,
        2 * 600,
    );
    ok(
        "scale up: failed pods ignored with missing container metric",
        Fixture {
            container: Some("container2"),
            levels: vec![vec![1000, 500], vec![9000, 700], vec![1000], vec![9000]],
            ..failed2.clone()
        },
        30,
        4,
        60,
        600,
    );
    ok(
        "scale up: container metrics with failed pods ignored",
        Fixture {
            container: Some("container2"),
            levels: vec![vec![1000, 500], vec![9000, 700]],
            ..failed2.clone()
        },
        30,
        4,
        60,
        600,
    );
    let deleting2 = Fixture {
        phase: vec![Running; 4],
        deleting: vec![false, false, true, true],
        ..failed2.clone()
    };
    ok(
        "scale up: pods being deleted are ignored",
        deleting2.clone(),
        30,
        4,
        60,
        2 * 600,
    );
    ok(
        "scale up: container metrics with pods being deleted ignored",
        Fixture {
            container: Some("container1"),
            ..deleting2
        },
        30,
        4,
        60,
        600,
    );
    let base5 = Fixture {
        current: 5,
        requests: reqs(5, 1000),
        levels: levels(&[100, 300, 500, 250, 250]),
        ..Default::default()
    };
    let c2_5 = vec![
        vec![1000, 100],
        vec![1000, 300],
        vec![1000, 500],
        vec![1000, 250],
        vec![1000, 250],
    ];
    ok("scale down", base5.clone(), 50, 3, 28, 2 * 280);
    ok(
        "scale down: container metric",
        Fixture {
            container: Some("container2"),
            levels: c2_5.clone(),
            ..base5.clone()
        },
        50,
        3,
        28,
        280,
    );
    let unready5 = Fixture {
        readiness: vec![true, true, true, false, false],
        ..base5.clone()
    };
    ok(
        "scale down: exclude unready pods",
        unready5.clone(),
        50,
        2,
        30,
        2 * 300,
    );
    ok(
        "scale down: container metric excludes unready pods",
        Fixture {
            container: Some("container2"),
            levels: c2_5.clone(),
            ..unready5
        },
        50,
        2,
        30,
        300,
    );
    let unsched = Fixture {
        readiness: vec![true, false, false, false, false],
        phase: vec![Running, Pending, Pending, Pending, Pending],
        levels: levels(&[100]),
        ..base5.clone()
    };
    ok(
        "scale down: exclude unscheduled pods",
        unsched.clone(),
        50,
        1,
        10,
        2 * 100,
    );
    ok(
        "scale down: container metric excludes unscheduled pods",
        Fixture {
            container: Some("container2"),
            levels: c2_5.clone(),
            ..unsched
        },
        50,
        1,
        10,
        100,
    );
    let hot5 = Fixture {
        start: vec![cool(), cool(), cool(), hot(), hot()],
        ..base5.clone()
    };
    ok(
        "scale down: ignore hot-CPU pods",
        hot5.clone(),
        50,
        2,
        30,
        2 * 300,
    );
    ok(
        "scale down: container metric ignores hot-CPU pods",
        Fixture {
            container: Some("container2"),
            levels: vec![
                vec![1000, 100],
                vec![1000, 300],
                vec![1000, 500],
                vec![1000, 1000],
                vec![1000, 1000],
            ],
            ..hot5
        },
        50,
        2,
        30,
        300,
    );
    let failed7 = Fixture {
        readiness: vec![true, true, true, true, true, false, false],
        phase: vec![Running, Running, Running, Running, Running, Failed, Failed],
        requests: reqs(7, 1000),
        ..base5.clone()
    };
    ok(
        "scale down: failed pods ignored",
        failed7.clone(),
        50,
        3,
        28,
        2 * 280,
    );
    ok(
        "scale down: container metric with failed pods ignored",
        Fixture {
            container: Some("container2"),
            levels: c2_5.clone(),
            ..failed7.clone()
        },
        50,
        3,
        28,
        280,
    );
    let del7 = Fixture {
        phase: vec![Running; 7],
        deleting: vec![false, false, false, false, false, true, true],
        ..failed7
    };
    ok(
        "scale down: pods being deleted are ignored",
        del7.clone(),
        50,
        3,
        28,
        2 * 280,
    );
    ok(
        "scale down: still-running pods being deleted are ignored",
        Fixture {
            container: Some("container2"),
            levels: c2_5,
            ..del7
        },
        50,
        3,
        28,
        280,
    );
}

#[test]
fn resource_errors_and_edge_cases() {
    let disjoint = Fixture {
        current: 1,
        requests: reqs(1, 1000),
        levels: levels(&[100]),
        pod_names: vec!["an-older-pod-name"],
        ..Default::default()
    };
    let e = disjoint.run(100, TOL).unwrap_err();
    assert!(e.contains("no metrics returned matched known pods"), "{e}");

    let empty = Fixture {
        current: 4,
        requests: reqs(3, 1000),
        ..Default::default()
    };
    let e = empty.run(100, TOL).unwrap_err();
    assert!(
        e.contains(
            "unable to get metrics for resource cpu: no metrics returned from resource metrics API"
        ),
        "{e}"
    );
    let no_request = Fixture {
        current: 1,
        requests: vec![],
        levels: levels(&[200]),
        ..Default::default()
    };
    let e = no_request.run(100, TOL).unwrap_err();
    assert!(e.contains("missing request for"), "{e}");

    // TestReplicaCalcTolerance: 102% of a 100% target stays.
    ok(
        "tolerance",
        Fixture {
            current: 3,
            requests: vec![Some(900), Some(1000), Some(1100)],
            levels: levels(&[1010, 1030, 1020]),
            ..Default::default()
        },
        100,
        3,
        102,
        2 * 1020,
    );
    // TestReplicaCalcSuperfluousMetrics: samples of unknown pods are ignored.
    ok(
        "superfluous metrics",
        Fixture {
            current: 4,
            requests: reqs(4, 1000),
            levels: levels(&[4000, 9500, 3000, 7000, 3200, 2000]),
            ..Default::default()
        },
        100,
        24,
        587,
        2 * 5875,
    );
    let two = |lv: &[i64]| Fixture {
        current: 2,
        requests: reqs(2, 1000),
        levels: levels(lv),
        ..Default::default()
    };
    ok(
        "missing metrics",
        Fixture {
            current: 4,
            requests: reqs(4, 1000),
            levels: levels(&[400, 95]),
            ..Default::default()
        },
        100,
        3,
        24,
        495,
    );
    ok("missing, no change eq", two(&[1000]), 100, 2, 100, 2000);
    ok("missing, no change gt", two(&[1900]), 100, 2, 190, 3800);
    ok("missing, no change lt", two(&[600]), 100, 2, 60, 1200);
    let three = |lv: &[i64]| Fixture {
        current: 3,
        requests: reqs(3, 1000),
        levels: levels(lv),
        ..Default::default()
    };
    ok(
        "missing, unready change",
        Fixture {
            readiness: vec![false, true, true],
            ..three(&[100, 450])
        },
        50,
        3,
        45,
        900,
    );
    ok(
        "missing, hot cpu no change",
        Fixture {
            start: vec![hot(), cool(), cool()],
            ..three(&[100, 450])
        },
        50,
        3,
        45,
        900,
    );
    ok(
        "missing, unready scale up",
        Fixture {
            readiness: vec![false, true, true],
            ..three(&[100, 2000])
        },
        50,
        4,
        200,
        4000,
    );
    ok(
        "missing, hot cpu scale up",
        Fixture {
            readiness: vec![false, true, true],
            start: vec![hot(), cool(), cool()],
            ..three(&[100, 2000])
        },
        50,
        4,
        200,
        4000,
    );
    ok(
        "missing, unready scale down",
        Fixture {
            current: 4,
            readiness: vec![false, true, true, true],
            requests: reqs(4, 1000),
            levels: levels(&[100, 100, 100]),
            ..Default::default()
        },
        50,
        3,
        10,
        200,
    );
    ok(
        "missing, scale down, target over 100",
        Fixture {
            current: 4,
            readiness: vec![false, true, true, true],
            requests: vec![Some(1000), Some(1000), Some(2000), Some(2000)],
            levels: levels(&[200, 100, 100]),
            ..Default::default()
        },
        300,
        2,
        6,
        200,
    );
    ok(
        "rolling update with max surge",
        Fixture {
            current: 2,
            phase: vec![Running; 3],
            requests: reqs(3, 1000),
            levels: levels(&[100, 100]),
            ..Default::default()
        },
        50,
        2,
        10,
        200,
    );
}

#[test]
fn configurable_tolerance_table() {
    let f = |lv: &[i64]| Fixture {
        current: 3,
        requests: vec![Some(900), Some(1000), Some(1100)],
        levels: levels(lv),
        ..Default::default()
    };
    let t = |d: f64, u: f64| Tolerances {
        scale_down: d,
        scale_up: u,
    };
    let cases = [
        ("outside 0%", t(0.0, 0.0), f(&[909, 1010, 1111]), 4, 101),
        (
            "within 200% up",
            t(0.1, 2.0),
            f(&[1890, 1910, 1900]),
            3,
            190,
        ),
        (
            "outside 8% up",
            t(2.0, 0.08),
            f(&[1100, 1080, 1090]),
            4,
            109,
        ),
        ("within 36% down", t(0.36, 0.1), f(&[660, 640, 650]), 3, 65),
        ("outside 34% down", t(0.34, 0.1), f(&[660, 640, 650]), 2, 65),
    ];
    for (name, tol, fx, want, util) in cases {
        let got = fx.run(100, tol).unwrap();
        assert_eq!((got.replicas, got.utilization), (want, util), "{name}");
    }
}

#[test]
fn computed_tolerance_alg_implementation() {
    // TestReplicaCalcComputedToleranceAlgImplementation.
    let start_pods = 10i32;
    let total_used = (start_pods * 150) as i64;
    let total_requested = (2 * total_used) as i32;
    let requested_to_used = (total_requested / total_used as i32) as f64;
    let per_pod = total_requested / start_pods;
    let mut target = (1.0 / (requested_to_used * (1.0 - 0.1))).abs() + 0.01;
    let mut final_pct = (target * 100.0) as i32;
    let used_ratio = total_used as f64 / (total_requested as f64 * target);
    let final_pods = (used_ratio * start_pods as f64).ceil() as i32;
    let offs = [100, -100, 10, -10, 2, -2, 1, -1, 0, 0];
    let fx = Fixture {
        current: start_pods,
        requests: offs.iter().map(|o| Some((per_pod + o) as i64)).collect(),
        levels: levels(&[total_used / 10; 10]),
        ..Default::default()
    };
    let got = fx.run(final_pct, TOL).unwrap();
    assert_eq!(got.replicas, final_pods);
    assert_eq!(
        got.utilization,
        (total_used * 100 / total_requested as i64) as i32
    );
    target = (1.0 / (requested_to_used * (1.0 - 0.1))).abs() + 0.004;
    final_pct = (target * 100.0) as i32;
    assert_eq!(fx.run(final_pct, TOL).unwrap().replicas, start_pods);
}

fn cm_pods(cur: i32, readiness: Vec<bool>, start: Vec<SimTime>, phase: Vec<Phase>) -> Vec<PodInfo> {
    Fixture {
        current: cur,
        readiness,
        start,
        phase,
        ..Default::default()
    }
    .pods()
}

fn pod_metrics(levels: &[i64]) -> FetchedPodMetrics {
    Ok((
        levels
            .iter()
            .enumerate()
            .map(|(i, v)| {
                (
                    format!("test-pod-{i}"),
                    PodMetric {
                        value: *v,
                        timestamp: SimTime::ZERO,
                        window: Duration::from_secs(60),
                    },
                )
            })
            .collect(),
        SimTime::ZERO,
    ))
}

#[test]
fn custom_metric_cases() {
    let c = calc();
    let pods = |cur| cm_pods(cur, vec![], vec![], vec![]);
    let pm = |cur: i32, lv: &[i64], target: i64, tol: Tolerances| {
        c.metric_replicas(cur, target, "qps", tol, &pods(cur), pod_metrics(lv), NOW)
            .unwrap()
    };
    let r = pm(3, &[20000, 10000, 30000], 15000, TOL);
    assert_eq!((r.replicas, r.usage), (4, 20000), "ScaleUpCM");
    let r = c
        .metric_replicas(
            3,
            15000,
            "qps",
            TOL,
            &cm_pods(
                3,
                vec![true, true, false],
                vec![cool(), cool(), hot()],
                vec![],
            ),
            pod_metrics(&[50000, 10000, 30000]),
            NOW,
        )
        .unwrap();
    assert_eq!(
        (r.replicas, r.usage),
        (6, 30000),
        "UnreadyHotCpuNoLessScale"
    );
    let r = c
        .metric_replicas(
            3,
            15000,
            "qps",
            TOL,
            &cm_pods(
                3,
                vec![false, true, false],
                vec![hot(), cool(), hot()],
                vec![],
            ),
            pod_metrics(&[50000, 15000, 30000]),
            NOW,
        )
        .unwrap();
    assert_eq!(
        (r.replicas, r.usage),
        (7, 31666),
        "UnreadyHotCpuScaleWouldScaleDown"
    );
    let r = pm(5, &[12000; 5], 20000, TOL);
    assert_eq!((r.replicas, r.usage), (3, 12000), "ScaleDownCM");
    let r = pm(3, &[20000, 21000, 21000], 20000, TOL);
    assert_eq!((r.replicas, r.usage), (3, 20666), "ToleranceCM");
    let r = pm(
        3,
        &[20000, 21000, 21000],
        20000,
        Tolerances {
            scale_down: 0.1,
            scale_up: 0.01,
        },
    );
    assert_eq!(r.replicas, 4, "ConfigurableToleranceCM");
    let r = pm(5, &[20000, 19000, 21000], 20000, TOL);
    assert_eq!(
        (r.replicas, r.usage),
        (5, 20000),
        "PlainMetricMissingMetricsNoChangeEq"
    );
    let r = c
        .metric_replicas(
            2,
            17000,
            "qps",
            TOL,
            &cm_pods(2, vec![], vec![], vec![Running; 3]),
            pod_metrics(&[10000, 10000]),
            NOW,
        )
        .unwrap();
    assert_eq!(
        (r.replicas, r.usage),
        (2, 10000),
        "RollingUpdateWithMaxSurgeCM"
    );
}

#[test]
fn object_and_external_cases() {
    let c = calc();
    let pods3 = cm_pods(3, vec![], vec![], vec![]);
    let obj = |cur: i32, v: i64, target: i64, tol: Tolerances, pods: &[PodInfo]| {
        c.object_metric_replicas(cur, target, tol, pods, Ok((v, SimTime::ZERO)))
            .unwrap()
    };
    assert_eq!(
        obj(3, 20000, 15000, TOL, &pods3).replicas,
        4,
        "ScaleUpCMObject"
    );
    let unready = cm_pods(3, vec![false, true, false], vec![], vec![]);
    assert_eq!(
        obj(3, 50000, 10000, TOL, &unready).replicas,
        5,
        "ObjectIgnoresUnreadyPods"
    );
    let pods5 = cm_pods(5, vec![], vec![], vec![]);
    assert_eq!(
        obj(5, 12000, 20000, TOL, &pods5).replicas,
        3,
        "ScaleDownCMObject"
    );
    assert_eq!(
        obj(3, 20666, 20000, TOL, &pods3).replicas,
        3,
        "ToleranceCMObject"
    );
    let up01 = Tolerances {
        scale_down: 0.1,
        scale_up: 0.01,
    };
    assert_eq!(
        obj(3, 20666, 20000, up01, &pods3).replicas,
        4,
        "ConfigurableToleranceCMObject"
    );
    // Overflow: MaxInt64 against a target of 1 caps at MaxInt32.
    let r = obj(3, i64::MAX, 1, TOL, &pods3);
    assert_eq!(
        (r.replicas, r.usage),
        (i32::MAX, i64::MAX),
        "ScaleUpOverflow"
    );

    let per_pod = |status: i32, v: i64, target: i64, tol| {
        c.object_per_pod_metric_replicas(status, target, tol, Ok((v, SimTime::ZERO)))
            .unwrap()
    };
    let r = per_pod(3, 20000, 5000, TOL);
    assert_eq!((r.replicas, r.usage), (4, 6667), "ScaleUpCMPerPodObject");
    let r = per_pod(5, 6000, 2000, TOL);
    assert_eq!((r.replicas, r.usage), (3, 1200), "ScaleDownPerPodCMObject");
    let r = per_pod(4, 20166, 5000, TOL);
    assert_eq!((r.replicas, r.usage), (4, 5042), "TolerancePerPodCMObject");
    let r = per_pod(4, 20208, 5000, up01);
    assert_eq!(
        (r.replicas, r.usage),
        (5, 5052),
        "ConfigurableTolerancePerPodCMObject"
    );

    let ext = |cur: i32, v: Vec<i64>, target: i64, tol, pods: &[PodInfo]| {
        c.external_metric_replicas(cur, target, tol, pods, Ok((v, SimTime::ZERO)))
            .unwrap()
    };
    assert_eq!(
        ext(3, vec![8600], 4400, TOL, &unready).replicas,
        2,
        "ExternalIgnoresUnreadyPods"
    );
    assert_eq!(
        ext(5, vec![8600], 14334, TOL, &pods5).replicas,
        3,
        "ScaleDownCMExternal"
    );
    assert_eq!(
        ext(3, vec![8600], 8888, TOL, &pods3).replicas,
        3,
        "ToleranceCMExternal"
    );
    assert_eq!(
        ext(3, vec![8900], 8800, up01, &pods3).replicas,
        4,
        "ConfigurableToleranceCMExternal"
    );
    let r = ext(
        3,
        vec![i64::MAX / 2 + 1, i64::MAX / 2 + 1],
        i64::MAX,
        TOL,
        &pods3,
    );
    assert_eq!(
        (r.replicas, r.usage),
        (3, i64::MAX),
        "ExternalMetricUsageOverflow"
    );
    // Scale from zero: ceil(ratio), tolerance ignored.
    assert_eq!(ext(0, vec![8600], 4400, TOL, &[]).replicas, 2);

    let ext_pp = |status: i32, v: Vec<i64>, target: i64, tol| {
        c.external_per_pod_metric_replicas(status, target, tol, Ok((v, SimTime::ZERO)))
            .unwrap()
    };
    let r = ext_pp(3, vec![8600], 2150, TOL);
    assert_eq!((r.replicas, r.usage), (4, 2867), "ScaleUpPerPodCMExternal");
    let r = ext_pp(5, vec![8600], 2867, TOL);
    assert_eq!(
        (r.replicas, r.usage),
        (3, 1720),
        "ScaleDownPerPodCMExternal"
    );
    let r = ext_pp(3, vec![8600], 2900, TOL);
    assert_eq!(
        (r.replicas, r.usage),
        (3, 2867),
        "TolerancePerPodCMExternal"
    );
    let r = ext_pp(3, vec![8600], 2800, up01);
    assert_eq!(
        (r.replicas, r.usage),
        (4, 2867),
        "ConfigurableTolerancePerPodCMExternal"
    );
    let r = ext_pp(1, vec![i64::MAX], 1, TOL);
    assert_eq!(
        (r.replicas, r.usage),
        (i32::MAX, i64::MAX),
        "ExternalPerPodMetricReplicaOverflow"
    );
    let r = ext_pp(1, vec![i64::MAX], i64::MAX, TOL);
    assert_eq!(
        (r.replicas, r.usage),
        (1, i64::MAX),
        "ExternalPerPodMetricUsageOverflow"
    );
}

#[test]
fn group_pods_table() {
    let c = calc();
    let m = |v: i64, ts: SimTime, w: u64| PodMetric {
        value: v,
        timestamp: ts,
        window: Duration::from_secs(w),
    };
    let ago = |s: u64| SimTime(NOW.0 - s * 1_000_000);
    let pod = |name: &str, phase: Phase, start: Option<SimTime>, ready: Option<(bool, SimTime)>| {
        PodInfo {
            name: name.to_string(),
            phase,
            deleting: false,
            ready: ready.map(|(s, t)| ReadyCondition {
                status: s,
                last_transition: t,
            }),
            start_time: start,
            containers: vec![],
        }
    };
    use Phase::Succeeded;
    let g = |pods: Vec<PodInfo>, metrics: Vec<(&str, PodMetric)>, r: Option<ResourceName>| {
        let mi: PodMetricsInfo = metrics
            .into_iter()
            .map(|(n, m)| (n.to_string(), m))
            .collect();
        let g = c.group_pods(&pods, &mi, r, NOW);
        (
            g.ready_count,
            g.unready.len(),
            g.missing.len(),
            g.ignored.len(),
        )
    };
    let cpu = Some(ResourceName::Cpu);
    assert_eq!(g(vec![], vec![], cpu), (0, 0, 0, 0), "void");
    assert_eq!(
        g(
            vec![pod("bentham", Succeeded, None, None)],
            vec![("bentham", m(1, NOW, 60))],
            Some(ResourceName::Memory)
        ),
        (1, 0, 0, 0),
        "ready pod - memory"
    );
    assert_eq!(
        g(
            vec![pod("l", Succeeded, Some(NOW), None)],
            vec![("l", m(1, SimTime::ZERO, 0))],
            cpu
        ),
        (0, 1, 0, 0),
        "no ready condition - CPU"
    );
    assert_eq!(
        g(
            vec![pod("b", Succeeded, Some(ago(60)), Some((true, ago(30))))],
            vec![("b", m(1, NOW, 30))],
            cpu
        ),
        (1, 0, 0, 0),
        "fresh metrics during initialization"
    );
    assert_eq!(
        g(
            vec![pod("b", Succeeded, Some(ago(60)), Some((true, ago(30))))],
            vec![("b", m(1, NOW, 60))],
            cpu
        ),
        (0, 1, 0, 0),
        "stale metrics during initialization"
    );
    assert_eq!(
        g(
            vec![pod("l", Succeeded, Some(ago(600)), Some((false, ago(594))))],
            vec![("l", m(1, SimTime::ZERO, 0))],
            cpu
        ),
        (0, 1, 0, 0),
        "unready during initialization delay"
    );
    assert_eq!(
        g(
            vec![pod("b", Succeeded, Some(ago(180)), Some((true, ago(180))))],
            vec![("b", m(1, ago(120), 60))],
            cpu
        ),
        (1, 0, 0, 0),
        "ready without fresh metrics after initialization"
    );
    assert_eq!(
        g(
            vec![pod("l", Succeeded, Some(ago(600)), Some((false, ago(540))))],
            vec![("l", m(1, SimTime::ZERO, 0))],
            cpu
        ),
        (1, 0, 0, 0),
        "unready but was ready after initialization"
    );
    assert_eq!(
        g(
            vec![pod("l", Succeeded, Some(ago(600)), Some((false, ago(590))))],
            vec![("l", m(1, SimTime::ZERO, 0))],
            cpu
        ),
        (1, 0, 0, 0),
        "never ready after initialization (transition after the delay)"
    );
    assert_eq!(
        g(vec![pod("e", Succeeded, Some(ago(180)), None)], vec![], cpu),
        (0, 0, 1, 0),
        "a missing pod"
    );
    assert_eq!(
        g(vec![pod("u", Pending, None, None)], vec![], cpu),
        (0, 1, 0, 0),
        "pending pods are unready"
    );
    let mut d = pod("deleted", Pending, None, None);
    d.deleting = true;
    assert_eq!(
        g(vec![d], vec![("deleted", m(1, SimTime::ZERO, 0))], cpu),
        (0, 0, 0, 1),
        "deleted ignored"
    );
    assert_eq!(
        g(
            vec![pod("f", Phase::Failed, None, None)],
            vec![("f", m(1, SimTime::ZERO, 0))],
            cpu
        ),
        (0, 0, 0, 1),
        "failed ignored"
    );
}

#[test]
fn calculate_requests_table() {
    let pod = |containers: Vec<(&str, Option<i64>, bool)>| PodInfo {
        name: "test-pod".into(),
        phase: Phase::Running,
        deleting: false,
        ready: None,
        start_time: None,
        containers: containers
            .into_iter()
            .map(|(n, r, s)| ContainerInfo {
                name: n.into(),
                cpu_request_milli: r,
                memory_request_milli: None,
                sidecar: s,
            })
            .collect(),
    };
    let cpu = ResourceName::Cpu;
    let two = pod(vec![
        ("container1", Some(100), false),
        ("container2", Some(50), false),
    ]);
    assert_eq!(calculate_requests(&[], None, cpu).unwrap().len(), 0);
    assert_eq!(
        calculate_requests(std::slice::from_ref(&two), None, cpu).unwrap()["test-pod"],
        150
    );
    assert_eq!(
        calculate_requests(std::slice::from_ref(&two), Some("container1"), cpu).unwrap()
            ["test-pod"],
        100
    );
    let missing = pod(vec![
        ("container1", None, false),
        ("container2", Some(50), false),
    ]);
    assert_eq!(
        calculate_requests(&[missing], None, cpu).unwrap_err(),
        "missing request for cpu in container container1 of Pod test-pod"
    );
    let sidecar = pod(vec![
        ("container1", Some(100), false),
        ("restartable-container1", Some(50), true),
    ]);
    assert_eq!(
        calculate_requests(&[sidecar], None, cpu).unwrap()["test-pod"],
        150
    );
    assert_eq!(
        calculate_requests(&[two], Some("non-existent-container"), cpu).unwrap_err(),
        "container non-existent-container not found in Pod test-pod"
    );
}

// ---- controller level (horizontal_test.go style) ----

struct Client {
    cpu: FetchedPodMetrics,
    external: Result<(Vec<i64>, SimTime), String>,
}

impl MetricsClient for Client {
    fn resource_metric(&self, _: ResourceName, _: Option<&str>) -> FetchedPodMetrics {
        self.cpu.clone()
    }
    fn pods_metric(&self, _: &str, _: Option<&crate::model::Selector>) -> FetchedPodMetrics {
        Err("no custom metrics".into())
    }
    fn object_metric(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: Option<&crate::model::Selector>,
    ) -> Result<(i64, SimTime), String> {
        Err("no object metrics".into())
    }
    fn external_metric(
        &self,
        _: &str,
        _: Option<&crate::model::Selector>,
    ) -> Result<(Vec<i64>, SimTime), String> {
        self.external.clone()
    }
}

fn cpu_spec(min: i32, max: i32, target: i32) -> HpaSpec {
    HpaSpec {
        min_replicas: min,
        max_replicas: max,
        metrics: vec![MetricSpec {
            source: MetricSource::Resource(ResourceName::Cpu),
            target: MetricTarget::Utilization(target),
            selector: None,
        }],
        behavior: None,
    }
}

fn cool_pods(n: usize, levels_m: &[i64]) -> (Vec<PodInfo>, FetchedPodMetrics) {
    let f = Fixture {
        current: n as i32,
        requests: reqs(n, 1000),
        levels: levels_m.iter().map(|l| vec![*l]).collect(),
        start: vec![SimTime::ZERO; n],
        ..Default::default()
    };
    let mut pods = f.pods();
    for p in &mut pods {
        p.containers.truncate(1);
    }
    (pods, f.metrics())
}

fn cfg() -> ControllerConfig {
    ControllerConfig {
        calc: calc(),
        ..Default::default()
    }
}

#[test]
fn scale_up_cpu_and_conditions() {
    // TestScaleUp: 3 pods at 300/500/700m of 1 CPU, target 30% → 5.
    let (pods, m) = cool_pods(3, &[300, 500, 700]);
    let mut st = HpaState::default();
    let client = Client {
        cpu: m,
        external: Err("x".into()),
    };
    let scale = Scale {
        spec_replicas: 3,
        status_replicas: 3,
    };
    let r = reconcile(
        &cfg(),
        &mut st,
        &cpu_spec(2, 6, 30),
        scale,
        &pods,
        &client,
        NOW,
    );
    assert_eq!((r.desired, r.rescale), (5, true));
    assert_eq!(r.events[0].reason, "SuccessfulRescale");
    assert_eq!(
        r.events[0].message,
        "New size: 5; reason: cpu resource utilization (percentage of request) above target"
    );
    assert_eq!(
        st.status.condition("ScalingActive").unwrap().reason,
        "ValidMetricFound"
    );
    assert_eq!(
        st.status.condition("ScalingLimited").unwrap().reason,
        "DesiredWithinRange"
    );
    assert_eq!(st.status.current_metrics[0].current, 50);
}

#[test]
fn old_path_scale_up_limit_and_downscale_stabilization() {
    // Without behavior: at most max(2 × current, 4) per sync, and a
    // scale-down waits for the 5-minute window of recommendations.
    let (pods, m) = cool_pods(1, &[1000]);
    let client = Client {
        cpu: m,
        external: Err("x".into()),
    };
    let mut st = HpaState::default();
    let spec = cpu_spec(1, 100, 10);
    let scale = Scale {
        spec_replicas: 1,
        status_replicas: 1,
    };
    let r = reconcile(&cfg(), &mut st, &spec, scale, &pods, &client, NOW);
    assert_eq!(r.desired, 4);
    assert_eq!(
        st.status.condition("ScalingLimited").unwrap().reason,
        "ScaleUpLimit"
    );
    assert!(st.status.condition("ScalingLimited").unwrap().status);

    // Scale down from 10 pods at 5% of a 50% target: the first
    // recommendation (10, recorded as the initial one) holds for 300 s.
    let (pods, m) = cool_pods(10, &[50; 10]);
    let client = Client {
        cpu: m,
        external: Err("x".into()),
    };
    let mut st = HpaState::default();
    let spec = cpu_spec(1, 100, 50);
    let scale = Scale {
        spec_replicas: 10,
        status_replicas: 10,
    };
    let mut t = NOW;
    let r = reconcile(&cfg(), &mut st, &spec, scale, &pods, &client, t);
    assert_eq!(r.desired, 10);
    assert_eq!(
        st.status.condition("AbleToScale").unwrap().reason,
        "ScaleDownStabilized"
    );
    t = t.after(Duration::from_secs(300));
    let r = reconcile(&cfg(), &mut st, &spec, scale, &pods, &client, t);
    assert_eq!(
        r.desired, 10,
        "a recommendation exactly 300 s old still counts"
    );
    t = t.after(Duration::from_secs(15));
    let r = reconcile(&cfg(), &mut st, &spec, scale, &pods, &client, t);
    assert_eq!(r.desired, 1);
}

#[test]
fn one_metric_failing_does_not_block_scale_up_but_blocks_scale_down() {
    // TestScaleUpOneMetricEmpty / TestNoScaleDownOneMetricEmpty.
    let ext = MetricSpec {
        source: MetricSource::External("qps".into()),
        target: MetricTarget::Value(100),
        selector: None,
    };
    let (pods, m) = cool_pods(3, &[300, 400, 500]);
    let client = Client {
        cpu: m,
        external: Err("something went wrong".into()),
    };
    let mut spec = cpu_spec(2, 6, 30);
    spec.metrics.push(ext.clone());
    let mut st = HpaState::default();
    let scale = Scale {
        spec_replicas: 3,
        status_replicas: 3,
    };
    let r = reconcile(&cfg(), &mut st, &spec, scale, &pods, &client, NOW);
    assert_eq!(r.desired, 4);

    let (pods, m) = cool_pods(5, &[100, 300, 500, 250, 250]);
    let client = Client {
        cpu: m,
        external: Err("something went wrong".into()),
    };
    let mut spec = cpu_spec(2, 6, 50);
    spec.metrics.push(ext);
    let mut st = HpaState::default();
    let scale = Scale {
        spec_replicas: 5,
        status_replicas: 5,
    };
    let r = reconcile(&cfg(), &mut st, &spec, scale, &pods, &client, NOW);
    assert_eq!((r.desired, r.rescale), (5, false));
    let c = st.status.condition("ScalingActive").unwrap();
    assert_eq!(
        (c.status, c.reason.as_str()),
        (false, "FailedGetExternalMetric")
    );
    assert!(r.events.iter().any(|e| e.reason == "FailedComputeMetricsReplicas"
        && e.message.starts_with("invalid metrics (1 invalid out of 2), first error is: failed to get qps external metric value")));
}

#[test]
fn zero_replicas_disable_scaling_and_bounds_apply_first() {
    let (pods, m) = cool_pods(3, &[300, 500, 700]);
    let client = Client {
        cpu: m,
        external: Err("x".into()),
    };
    let mut st = HpaState::default();
    let zero = Scale {
        spec_replicas: 0,
        status_replicas: 0,
    };
    let r = reconcile(
        &cfg(),
        &mut st,
        &cpu_spec(1, 6, 30),
        zero,
        &pods,
        &client,
        NOW,
    );
    assert_eq!((r.desired, r.rescale), (0, false));
    assert_eq!(
        st.status.condition("ScalingActive").unwrap().reason,
        "ScalingDisabled"
    );
    let over = Scale {
        spec_replicas: 9,
        status_replicas: 9,
    };
    let r = reconcile(
        &cfg(),
        &mut st,
        &cpu_spec(1, 6, 30),
        over,
        &pods,
        &client,
        NOW,
    );
    assert_eq!(r.desired, 6);
    assert!(r.events[0]
        .message
        .ends_with("Current number of replicas above Spec.MaxReplicas"));
}

#[test]
fn behavior_path_rate_limits_and_stores_events() {
    // 10 pods far over target with the default behavior: +max(4, 100%) per 15 s.
    let (pods, m) = cool_pods(10, &[1000; 10]);
    let client = Client {
        cpu: m,
        external: Err("x".into()),
    };
    let mut spec = cpu_spec(1, 1000, 10);
    spec.behavior = Some(Behavior::with_defaults(None, None));
    let mut st = HpaState::default();
    let scale = Scale {
        spec_replicas: 10,
        status_replicas: 10,
    };
    let r = reconcile(&cfg(), &mut st, &spec, scale, &pods, &client, NOW);
    assert_eq!(r.desired, 20);
    assert_eq!(st.history.scale_up_events.len(), 1);
    // Five seconds later the period still holds the +10: no more room.
    let scale = Scale {
        spec_replicas: 20,
        status_replicas: 20,
    };
    let r = reconcile(
        &cfg(),
        &mut st,
        &spec,
        scale,
        &pods,
        &client,
        NOW.after(Duration::from_secs(5)),
    );
    assert_eq!((r.desired, r.rescale), (20, false));
}

mod props {
    //! Invariants of the resource calculation with every pod ready and
    //! reporting: within the tolerance the replicas stay; outside it the
    //! change goes the way the ratio points and equals
    //! `ceil(ratio × pods)`.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn direction_and_tolerance(
            usage in proptest::collection::vec(0i64..4000, 1..12),
            request in 100i64..2000,
            target in 10i32..150,
        ) {
            let n = usage.len();
            let f = Fixture {
                current: n as i32,
                requests: reqs(n, request),
                levels: usage.iter().map(|u| vec![*u, *u]).collect(),
                ..Default::default()
            };
            let got = f.run(target, TOL).unwrap();
            let ratio = got.utilization as f64 / target as f64;
            if TOL.is_within(ratio) {
                prop_assert_eq!(got.replicas, n as i32);
            } else {
                prop_assert_eq!(got.replicas, (ratio * n as f64).ceil() as i32);
                if ratio > 1.0 {
                    prop_assert!(got.replicas > n as i32);
                } else {
                    prop_assert!(got.replicas <= n as i32);
                }
            }
        }
    }
}
