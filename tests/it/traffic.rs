//! The Service traffic model end to end (docs/traffic.md): load steps
//! that saturate CPU limits, rolling updates under load, an HPA on a
//! requests_per_second Pods metric, balancing policies on heterogeneous
//! nodes, decoding errors and determinism.

use kubesim::cluster::{RunResult, ServiceRow};
use kubesim::scenario::{load_str, LoadError, LoadOptions};

use super::{load, load_text, run};

fn rows<'a>(r: &'a RunResult, name: &str) -> Vec<&'a ServiceRow> {
    r.services.iter().filter(|s| s.name == name).collect()
}

/// Rows with `from ≤ t < to` seconds.
fn between<'a>(rows: &[&'a ServiceRow], from: u64, to: u64) -> Vec<&'a ServiceRow> {
    rows.iter()
        .copied()
        .filter(|r| r.t_us >= from * 1_000_000 && r.t_us < to * 1_000_000)
        .collect()
}

fn sum(rows: &[&ServiceRow], f: impl Fn(&ServiceRow) -> u64) -> u64 {
    rows.iter().map(|r| f(r)).sum()
}

#[test]
fn a_load_step_above_the_cpu_limits_raises_latency_then_recovers() {
    let r = run(load("scenarios/service-traffic.yaml"));
    let web = rows(&r, "web");
    let t = &r.traffic[0];
    assert_eq!(t.requests, t.served + t.failed + t.in_flight);
    // Before the step (60/s on 150/s of capacity): no failures, p99 of
    // each interval well under the 1 s timeout.
    let before = between(&web, 20, 120);
    assert_eq!(sum(&before, |r| r.failed), 0);
    assert!(
        before.iter().all(|r| r.latency_p99_us < 300_000),
        "{before:?}"
    );
    let p50_before = before.iter().map(|r| r.latency_p50_us).max().unwrap();
    // 10 ms of work at 500m alone takes 20 ms.
    assert!(p50_before >= 20_000, "{p50_before}");
    // During the step (180/s): the limits saturate; latency rises to the
    // timeout and requests fail.
    let during = between(&web, 130, 180);
    assert!(sum(&during, |r| r.failed) > 1000, "{during:?}");
    assert!(during
        .iter()
        .all(|r| r.served == 0 || r.latency_p50_us > 500_000));
    // After: recovered within 15 s of the step down.
    let after = between(&web, 200, 301);
    assert_eq!(sum(&after, |r| r.failed), 0);
    assert!(after.iter().all(|r| r.latency_p99_us < 300_000));
    // The pods' containers use their whole 500m limit during the step,
    // and 60/s × 10 ms / 3 = 200m each before it (± noise).
    let grants = |from: u64, to: u64| -> Vec<i64> {
        r.container_rows
            .iter()
            .filter(|c| c.t_us >= from * 1_000_000 && c.t_us < to * 1_000_000)
            .map(|c| c.cpu_granted_m)
            .collect()
    };
    let g = grants(130, 180);
    assert!(!g.is_empty() && g.iter().all(|g| *g == 500), "{g:?}");
    assert!(grants(20, 120).iter().any(|g| *g < 500));
}

const BASE: &str = r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: t}
spec:
  seed: 3
  duration: 2m
  sampleInterval: 10s
  cluster:
    nodePools:
    - {name: w, count: 1, capacity: {cpu: "4", memory: 8Gi, pods: "110"}}
  TRAFFIC
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        resources: {requests: {cpu: 500m, memory: 64Mi}, limits: {cpu: "1", memory: 64Mi}}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  ANNOTATIONS
spec:
  selector: {app: web}
  ports: [{port: 80}]
"#;

fn scenario(traffic: &str, annotations: &str, replicas: u32) -> String {
    BASE.replace("TRAFFIC", traffic)
        .replace("ANNOTATIONS", annotations)
        .replace("REPLICAS", &replicas.to_string())
}

#[test]
fn deterministic_arrivals_on_an_idle_pod_take_work_over_the_limit() {
    // 1 req/s of 100 ms work on one pod with a 1-CPU limit: each request
    // runs alone at 1000m and takes exactly 100 ms.
    let r = run(load_text(&scenario(
        "traffic: [{service: web, load: 'steps 5s=1', arrivals: deterministic, work: 100ms}]",
        "",
        1,
    )));
    let t = &r.traffic[0];
    assert_eq!((t.latency_p50_us, t.latency_max_us), (100_000, 100_000));
    assert_eq!(t.failed, 0);
    // Arrivals at 6 s, 7 s, … 120 s (the pod is ready from ~1 s).
    assert_eq!(t.requests, 115);
}

#[test]
fn annotations_declare_traffic_and_no_endpoints_fail() {
    let r = run(load_text(&scenario(
        "",
        "annotations: {kubesim.dev/traffic-load: '10', kubesim.dev/traffic-arrivals: deterministic, kubesim.dev/traffic-work: 1ms}",
        0,
    )));
    let t = &r.traffic[0];
    assert_eq!(t.requests, 1200);
    assert_eq!((t.failed, t.failed_no_endpoint, t.served), (1200, 1200, 0));
    assert_eq!(t.error_rate_ppm, 1_000_000);
}

#[test]
fn the_concurrency_limit_refuses_requests() {
    // 50 req/s of 100 ms at 1000m per pod: the pod is overloaded (5× its
    // capacity); at most 4 requests in flight, the rest get 503.
    let r = run(load_text(&scenario(
        "traffic: [{service: web, load: '50', arrivals: deterministic, work: 100ms, concurrency: '4'}]",
        "",
        1,
    )));
    let t = &r.traffic[0];
    assert!(t.failed_overload > t.served, "{t:?}");
    assert!(rows(&r, "web").iter().all(|r| r.in_flight <= 4));
    assert_eq!(t.requests, t.served + t.failed + t.in_flight);
}

#[test]
fn timeouts_fail_slow_requests() {
    let r = run(load_text(&scenario(
        "traffic: [{service: web, load: '20', work: 100ms, timeout: 300ms, sloLatency: 150ms}]",
        "",
        1,
    )));
    let t = &r.traffic[0];
    assert!(t.failed_timeout > 0, "{t:?}");
    assert!(t.latency_max_us <= 300_000, "{t:?}");
    assert!(t.slo_violations > 0 && t.slo_violations <= t.served);
}

#[test]
fn same_seed_same_services_csv_and_other_seed_differs() {
    let text = scenario(
        "traffic: [{service: web, load: 'ramp from=5 to=40 start=0s end=2m', work: 'exp(20ms)'}]",
        "",
        2,
    );
    let a = run(load_text(&text));
    let b = run(load_text(&text));
    assert_eq!(a.services, b.services);
    assert_eq!(a.traffic, b.traffic);
    let c = run(load_text(&text.replace("seed: 3", "seed: 4")));
    assert_ne!(a.traffic, c.traffic);
}

fn invalid(text: &str) -> Vec<(u32, String, String)> {
    match load_str(text, std::path::Path::new("t.yaml"), LoadOptions::default()) {
        Err(LoadError::Invalid(d)) => {
            d.0.iter()
                .map(|d| (d.line, d.path.clone(), d.message.clone()))
                .collect()
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("should be invalid:\n{text}"),
    }
}

#[test]
fn traffic_errors_name_the_field_and_line() {
    let d = invalid(&scenario(
        "traffic: [{service: web, load: 'steps 1m=5 0s=3'}, {service: nope, load: '1'}, {service: web, load: '1', policy: fastest}]",
        "annotations: {kubesim.dev/traffic-load: 'sine 3'}",
        1,
    ));
    let has = |path: &str, msg: &str| {
        d.iter()
            .any(|(line, p, m)| *line > 0 && p == path && m.contains(msg))
    };
    assert!(has("spec.traffic[0].load", "times must increase"), "{d:?}");
    assert!(
        has("spec.traffic[1].service", "no Service default/nope"),
        "{d:?}"
    );
    assert!(has("spec.traffic[2].policy", "least-requests"), "{d:?}");
    assert!(
        has(
            "metadata.annotations.kubesim.dev/traffic-load",
            "unknown load"
        ),
        "{d:?}"
    );
}

#[test]
fn an_hpa_on_requests_per_second_follows_a_burst() {
    let r = run(load("scenarios/hpa-traffic.yaml"));
    let hpa: Vec<_> = r.hpas.iter().filter(|h| h.name == "web").collect();
    let replicas_at = |s: u64| {
        hpa.iter()
            .rfind(|h| h.t_us <= s * 1_000_000)
            .map(|h| h.current_replicas)
            .unwrap_or(0)
    };
    // The metric is known (two scrapes) and near 4/s per pod before the burst.
    let m = hpa
        .iter()
        .find(|h| h.t_us == 120_000_000)
        .and_then(|h| h.current_value)
        .expect("requests_per_second metric");
    assert!((3_000..5_000).contains(&m), "{m}");
    assert!(replicas_at(290) <= 3);
    // 40/s ÷ 4/s per pod: the HPA scales to 10 (or more) within 2 minutes.
    assert!(replicas_at(420) >= 10, "{}", replicas_at(420));
    // Scale-down waits for the 5-minute stabilization window after 15m.
    assert!(replicas_at(1190) >= 10);
    assert!(replicas_at(1500) <= 4, "{}", replicas_at(1500));
    // Users see errors while the new pods start, none once scaled.
    let web = rows(&r, "web");
    assert!(sum(&between(&web, 300, 420), |r| r.failed) > 0);
    assert_eq!(sum(&between(&web, 480, 900), |r| r.failed), 0);
    let t = &r.traffic[0];
    assert_eq!(t.requests, t.served + t.failed + t.in_flight);
}

#[test]
fn rolling_updates_under_load_fail_requests_only_without_a_safe_strategy() {
    let r = run(load("scenarios/service-rolling-update-traffic.yaml"));
    let by = |n: &str| r.traffic.iter().find(|t| t.name == n).expect("service");
    let (surge, safe) = (by("surge25"), by("safe"));
    // maxUnavailable 0 + readiness probe + graceful shutdown: no failures,
    // never fewer than 10 ready endpoints once up.
    assert_eq!(safe.failed, 0, "{safe:?}");
    let safe_rows = rows(&r, "safe");
    assert!(between(&safe_rows, 10, 241)
        .iter()
        .all(|r| r.endpoints_ready >= 10));
    // 25%/25% with an app that exits on SIGTERM: the requests in flight on
    // the killed pods fail, during the update only.
    assert!(surge.failed_pod_stopped > 0, "{surge:?}");
    assert_eq!(surge.failed, surge.failed_pod_stopped);
    let surge_rows = rows(&r, "surge25");
    assert_eq!(sum(&between(&surge_rows, 0, 61), |r| r.failed), 0);
    assert_eq!(sum(&between(&surge_rows, 120, 241), |r| r.failed), 0);
    assert!(between(&surge_rows, 60, 120)
        .iter()
        .any(|r| r.endpoints_ready < 10));
}

#[test]
fn least_requests_beats_random_on_heterogeneous_nodes() {
    let with = |policy: kubesim::traffic::Policy| {
        let mut sc = load("scenarios/traffic-balancing.yaml");
        sc.traffic[0].spec.policy = policy;
        run(sc).traffic[0].clone()
    };
    let random = with(kubesim::traffic::Policy::Random);
    let least = with(kubesim::traffic::Policy::LeastRequests);
    // Same seed, same arrivals.
    assert_eq!(random.requests, least.requests);
    // Random overloads the 1-CPU node: timeouts; least-requests none.
    assert!(random.failed_timeout * 10 > random.requests, "{random:?}");
    assert_eq!(least.failed, 0, "{least:?}");
    assert!(least.latency_p99_us * 10 < random.latency_p99_us);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8))]
        /// Every request is accounted for: arrivals = served + failed +
        /// in flight, per Service and per interval sums; latencies are
        /// bounded by the timeout; in-flight never exceeds the
        /// concurrency limit × pods.
        #[test]
        fn requests_are_conserved(
            replicas in 0u32..3,
            rate in 1u32..40,
            work_ms in 1u32..150,
            timeout_ms in proptest::option::of(50u32..2000),
            conc in proptest::option::of(1u32..6),
            policy in 0usize..3,
            det in any::<bool>(),
        ) {
            let policy = ["random", "round-robin", "least-requests"][policy];
            let mut t = format!(
                "traffic: [{{service: web, load: 'steps 0s={rate} 30s={}', work: 'exp({work_ms}ms)', policy: {policy}, arrivals: {}",
                rate * 2,
                if det { "deterministic" } else { "poisson" }
            );
            if let Some(ms) = timeout_ms {
                t.push_str(&format!(", timeout: {ms}ms"));
            }
            if let Some(c) = conc {
                t.push_str(&format!(", concurrency: '{c}'"));
            }
            t.push_str("}]");
            let text = scenario(&t, "", replicas).replace("duration: 2m", "duration: 1m");
            let r = run(load_text(&text));
            let s = &r.traffic[0];
            prop_assert_eq!(s.requests, s.served + s.failed + s.in_flight);
            prop_assert_eq!(
                s.failed,
                s.failed_no_endpoint + s.failed_overload + s.failed_timeout + s.failed_pod_stopped
            );
            let web = rows(&r, "web");
            prop_assert_eq!(sum(&web, |r| r.arrivals), s.requests);
            prop_assert_eq!(sum(&web, |r| r.served), s.served);
            prop_assert_eq!(sum(&web, |r| r.failed), s.failed);
            if let Some(ms) = timeout_ms {
                prop_assert!(s.latency_max_us <= u64::from(ms) * 1000);
            }
            if let Some(c) = conc {
                prop_assert!(web.iter().all(|r| r.in_flight <= u64::from(c * replicas.max(1))));
            }
            if replicas == 0 {
                prop_assert_eq!(s.failed_no_endpoint, s.requests);
            }
        }
    }
}

#[test]
fn an_hpa_on_a_services_latency_scales_up_when_requests_queue() {
    // hpa-traffic's load, with the HPA on the Service's mean request
    // latency (an Object metric, target 200 ms) instead of requests/s:
    // 40 requests/s of 100 ms on 2 one-CPU pods queue up (latency far
    // above 200 ms), so the HPA scales up; once enough pods serve, the
    // latency falls back near the 100 ms of work.
    let text = std::fs::read_to_string(crate::repo("scenarios/hpa-traffic.yaml"))
        .expect("scenario")
        .replace(
            "  - type: Pods\n    pods:\n      metric: {name: requests_per_second}\n      target: {type: AverageValue, averageValue: \"4\"}",
            "  - type: Object\n    object:\n      describedObject: {apiVersion: v1, kind: Service, name: web}\n      metric: {name: request_latency_seconds}\n      target: {type: Value, value: 200m}",
        );
    assert!(text.contains("request_latency_seconds"));
    let r = run(crate::load_text(&text));
    let hpa: Vec<_> = r.hpas.iter().filter(|h| h.name == "web").collect();
    assert!(
        hpa.iter()
            .all(|h| h.metric.contains("request_latency_seconds")),
        "{:?}",
        hpa.first().map(|h| &h.metric)
    );
    let at = |s: u64| hpa.iter().rfind(|h| h.t_us <= s * 1_000_000).expect("row");
    // Before the burst: 8/s on 2 pods, latency near the 100 ms of work.
    let before = at(280).current_value.expect("latency known");
    assert!((100..200).contains(&before), "{before}");
    assert_eq!(at(280).current_replicas, 2);
    // During the burst the latency is seen and the HPA scales up.
    assert!(hpa
        .iter()
        .filter(|h| (300..420).contains(&(h.t_us / 1_000_000)))
        .any(|h| h.current_value.is_some_and(|v| v > 200)));
    assert!(
        at(480).current_replicas >= 4,
        "{}",
        at(480).current_replicas
    );
}

#[test]
fn a_cpu_hpa_follows_a_diurnal_request_load() {
    // The first "day" (2 h) of hpa-traffic-diurnal: requests peak at 36/s
    // at 30 min and fall to 4/s at 90 min; the HPA (50% CPU of 500m
    // requests, CPU granted to the requests by the node model) follows.
    let mut s = crate::spec(None);
    s.until =
        Some(kubesim::engine::SimTime::ZERO.after(kubesim::engine::Duration::from_secs(7200)));
    let r = kubesim::runner::run_in_memory(crate::load("scenarios/hpa-traffic-diurnal.yaml"), &s)
        .expect("run");
    let at = |min: u64| {
        r.hpas
            .iter()
            .rfind(|h| h.t_us <= min * 60_000_000)
            .map(|h| h.current_replicas)
            .expect("row")
    };
    assert!(at(30) >= 12, "peak: {}", at(30));
    assert!(at(95) <= 4, "trough: {}", at(95));
    assert!(at(30) > 2 * at(95));
    let t = &r.traffic[0];
    assert_eq!(t.requests, t.served + t.failed + t.in_flight);
    // Once scaled, requests are served: errors only before the first pods
    // are ready and in the steepest rise (timeouts), under 1%.
    assert!(t.error_rate_ppm < 10_000, "{}", t.error_rate_ppm);
}
