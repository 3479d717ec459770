//! Traffic model throughput: a Service offered 1,000 requests/s (Poisson,
//! 5 ms of CPU each) over 10 pods with 1-CPU limits on 2 nodes, simulated
//! for 1 minute per iteration (60,000 requests through the arrival
//! process, endpoint choice, the processor-sharing queues and the node
//! model). Requests per second of wall time = 60,000 / iteration time.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kubesim::runner::{run_in_memory, RunSpec};
use kubesim::scenario::{load_str, LoadOptions};

/// The scenario, simulated for `duration`.
pub fn scenario(duration: &str, policy: &str) -> String {
    format!(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {{name: traffic-bench}}
spec:
  seed: 1
  duration: {duration}
  sampleInterval: 10s
  cluster:
    nodePools:
    - {{name: w, count: 2, capacity: {{cpu: "16", memory: 64Gi, pods: "110"}}}}
  traffic:
  - {{service: web, load: '1000', work: 5ms, policy: {policy}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 10
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: web
        image: nginx
        resources: {{requests: {{cpu: "1", memory: 64Mi}}, limits: {{cpu: "1", memory: 64Mi}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80}}]
"#
    )
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("traffic");
    g.sample_size(10);
    g.throughput(Throughput::Elements(60_000));
    for policy in ["random", "least-requests"] {
        let text = scenario("1m", policy);
        let sc = load_str(&text, Path::new("bench.yaml"), LoadOptions::default())
            .expect("bench scenario");
        let spec = RunSpec {
            seed: None,
            until: None,
            check_invariants: false,
            check_determinism: false,
            explain: false,
        };
        g.bench_function(format!("1000rps_1m_{policy}"), |b| {
            b.iter(|| {
                let r = run_in_memory(sc.clone(), &spec).expect("run");
                assert!(r.traffic[0].served > 50_000);
                r.traffic[0].served
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
