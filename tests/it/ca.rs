//! The cluster autoscaler's scheduling simulation end to end: scale-up
//! estimates that run the scheduler's Filter plugins (inter-pod
//! anti-affinity, topology spread, node affinity to one group's labels)
//! where the old resources/selector/taints check was wrong, and the
//! drainability rules of scale-down.

use kubesim::cluster::RunResult;

use kubesim::runner::run_to_dir;

use crate::{load_text, spec};

const S: u64 = 1_000_000;

/// A cluster of `pools` (YAML list items), with `extra` documents.
fn scenario(pools: &str, timeline: &str, extra: &str) -> String {
    format!(
        "apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {{name: ca-test}}
spec:
  seed: 3
  duration: 20m
  sampleInterval: 30s
  defaults: {{startupTime: 10s, shutdownTime: 5s}}
  clusterAutoscaler: {{expander: least-waste}}
  cluster:
    nodePools:
{pools}
  timeline:
{timeline}
{extra}"
    )
}

/// The run and the messages of its ScaleUp events.
fn run_ups(text: &str) -> (RunResult, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (r, _) = run_to_dir(load_text(text), &spec(None), dir.path()).expect("run");
    let ev = std::fs::read_to_string(dir.path().join("events.jsonl")).expect("events");
    let ups = ev
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "ScaleUp")
        .filter_map(|v| v["message"].as_str().map(String::from))
        .collect();
    (r, ups)
}

fn deployment(name: &str, replicas: u32, cpu: &str, spec_extra: &str) -> String {
    format!(
        "---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
{spec_extra}
      containers:
      - name: c
        image: \"w:1\"
        resources: {{requests: {{cpu: \"{cpu}\", memory: 256Mi}}}}
"
    )
}

const BURST: &str = "    - name: burst
      count: 1
      zones: [a]
      capacity: {cpu: \"4\", memory: 16Gi, pods: \"110\"}
      autoscaling: {minSize: 1, maxSize: 10, provisioningDelay: 60s, pricePerHour: \"0.20\"}";

#[test]
fn required_anti_affinity_needs_one_new_node_per_pod() {
    let anti = "      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: spread}}
            topologyKey: kubernetes.io/hostname";
    let text = scenario(
        BURST,
        "  - {at: 1m, scale: {kind: Deployment, name: spread, replicas: 6}}",
        &deployment("spread", 1, "500m", anti),
    );
    let (r, ups) = run_ups(&text);
    // Five pending half-CPU pods would fit on the existing 4-CPU node by
    // resources (the old check saw them as schedulable and added nothing);
    // anti-affinity needs a node each.
    assert_eq!(ups.len(), 1, "{ups:?}");
    assert!(ups[0].contains("+5 nodes for 5 pods"), "{ups:?}");
    let running = r
        .pods
        .iter()
        .filter(|p| p.meta.name.starts_with("spread-") && p.status.started_at.is_some())
        .count();
    assert_eq!(running, 6);
}

#[test]
fn zonal_topology_spread_does_not_add_nodes_that_cannot_help() {
    // Zone b (fixed, 2 CPUs) holds 2 pods; zone a can hold one more than
    // zone b (maxSkew 1): 3. The other 5 stay pending whatever zone a
    // adds, so the autoscaler adds nothing (the old resources-only check
    // added a node that could not help).
    let pools = format!(
        "{BURST}
    - name: fixed
      count: 1
      zones: [b]
      capacity: {{cpu: \"2\", memory: 16Gi, pods: \"110\"}}"
    );
    let tsc = "      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: DoNotSchedule
        labelSelector: {matchLabels: {app: zonal}}";
    let text = scenario(
        &pools,
        "  - {at: 1m, scale: {kind: Deployment, name: zonal, replicas: 10}}",
        &deployment("zonal", 1, "1", tsc),
    );
    let (r, ups) = run_ups(&text);
    assert!(ups.is_empty(), "{ups:?}");
    let last = r.node_groups.last().expect("rows");
    assert_eq!((last.nodes, last.pending_pods), (1, 5));
}

#[test]
fn node_affinity_chooses_the_only_group_whose_template_matches() {
    // Two groups; the pods require the `gpu` pool label only `special`'s
    // template carries. By resources alone both templates fit the four
    // pods on one node with the same waste, and least-waste keeps the
    // first option, `cheap`; the old check even saw the pods as fitting
    // the existing `cheap` node and added nothing.
    let pools = "    - name: cheap
      count: 1
      capacity: {cpu: \"4\", memory: 16Gi, pods: \"110\"}
      autoscaling: {minSize: 1, maxSize: 10, provisioningDelay: 60s, pricePerHour: \"0.10\"}
    - name: special
      count: 0
      labels: {hw: special}
      capacity: {cpu: \"4\", memory: 16Gi, pods: \"110\"}
      autoscaling: {minSize: 0, maxSize: 10, provisioningDelay: 60s, pricePerHour: \"0.50\"}";
    let aff = "      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - {key: hw, operator: In, values: [special]}";
    let text = scenario(
        pools,
        "  - {at: 1m, scale: {kind: Deployment, name: picky, replicas: 4}}",
        &deployment("picky", 0, "1", aff),
    );
    let (r, ups) = run_ups(&text);
    assert_eq!(ups.len(), 1, "{ups:?}");
    assert!(
        ups[0].contains("node group special +1 nodes for 4 pods"),
        "{ups:?}"
    );
    let at = |t: u64, g: &str| {
        r.node_groups
            .iter()
            .find(|x| x.t_us == t * S && x.group == g)
            .map(|x| x.nodes)
    };
    assert_eq!(at(300, "special"), Some(1));
    assert_eq!(at(300, "cheap"), Some(1));
}

#[test]
fn hpa_scales_a_statefulset_through_its_scale_subresource() {
    // scenarios/hpa-burst.yaml with the Deployment turned into a
    // StatefulSet (OrderedReady: pods come one at a time).
    let text = std::fs::read_to_string(crate::repo("scenarios/hpa-burst.yaml"))
        .expect("read")
        .replace(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n",
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web}\nspec:\n  serviceName: web\n",
        )
        .replace(
            "scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}",
            "scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: web}",
        );
    assert!(text.contains("kind: StatefulSet, name: web"));
    let r = crate::run(load_text(&text));
    let rows: Vec<_> = r.hpas.iter().filter(|h| h.name == "web").collect();
    assert!(!rows.is_empty(), "the HPA syncs");
    let peak = rows.iter().map(|h| h.current_replicas).max().unwrap_or(0);
    assert!(peak >= 10, "scaled up to {peak}");
    // The StatefulSet's own pods, by ordinal name.
    assert!(r.pods.iter().any(|p| p.meta.name == "web-9"));
    // Back down after the load falls at 20m (and the 5-minute window).
    let last = rows.last().expect("rows");
    assert!(
        last.current_replicas < peak,
        "{} vs {peak}",
        last.current_replicas
    );
}

#[test]
fn external_metric_selector_picks_the_labelled_series() {
    // Two queues; the HPA's metric.selector takes only `orders`
    // (20 items, then 100 at 5m). Without the selector both series would
    // count (20 + 500 from the start).
    let text = r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: ext-sel}
spec:
  duration: 8m
  sampleInterval: 15s
  defaults: {startupTime: 5s}
  cluster:
    nodePools:
    - {name: w, count: 4, capacity: {cpu: "8", memory: 32Gi, pods: "110"}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: c, image: img, resources: {requests: {cpu: 100m}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  annotations:
    kubesim.dev/external-queue_length: "{queue=orders} 0s=20, 5m=100; {queue=billing} 0s=500"
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 60
  metrics:
  - type: External
    external:
      metric:
        name: queue_length
        selector: {matchLabels: {queue: orders}}
      target: {type: AverageValue, averageValue: "10"}
"#;
    let r = crate::run(load_text(text));
    let at = |t: u64| {
        r.hpas
            .iter()
            .find(|h| h.name == "web" && h.t_us == t * S)
            .expect("row")
            .clone()
    };
    assert_eq!(at(285).desired_replicas, 2);
    assert_eq!(at(285).current_value, Some(10_000));
    assert_eq!(at(405).desired_replicas, 10);
    // Without the selector both series count: 520 items / 10 per pod =
    // 52 replicas before 5m, 600 / 10 = 60 after.
    let all = text.replace("        selector: {matchLabels: {queue: orders}}\n", "");
    let r = crate::run(load_text(&all));
    let at = |t: u64| {
        r.hpas
            .iter()
            .find(|h| h.name == "web" && h.t_us == t * S)
            .map(|h| h.desired_replicas)
    };
    assert_eq!((at(285), at(405)), (Some(52), Some(60)));
    // An invalid selector is a scenario error with its field path.
    let bad = text.replace(
        "selector: {matchLabels: {queue: orders}}",
        "selector: {matchExpressions: [{key: queue, operator: Near}]}",
    );
    let Err(e) = kubesim::scenario::load_str(
        &bad,
        std::path::Path::new("bad.yaml"),
        kubesim::scenario::LoadOptions::default(),
    ) else {
        panic!("the scenario should not load");
    };
    assert!(e.to_string().contains("metric.selector"), "{e}");
}

/// Cost (thousandths) per group at the end, pending pod-seconds (from the
/// 30 s samples) and the times nodes were removed, of one policy.
fn compare_run(policy: &str) -> (Vec<(String, i64)>, u64, Vec<u64>) {
    let text = std::fs::read_to_string(crate::repo("scenarios/ca-vs-karpenter.yaml"))
        .expect("read")
        .replace("policy: cluster-autoscaler", &format!("policy: {policy}"));
    let dir = tempfile::tempdir().expect("tempdir");
    let (r, _) = run_to_dir(load_text(&text), &spec(None), dir.path()).expect("run");
    let ev = std::fs::read_to_string(dir.path().join("events.jsonl")).expect("events");
    let removed = ev
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "ScaleDownEmpty")
        .filter_map(|v| v["t_us"].as_u64())
        .map(|t| t / S)
        .collect();
    let last_t = r.node_groups.last().map(|x| x.t_us).unwrap_or(0);
    let cost = r
        .node_groups
        .iter()
        .filter(|x| x.t_us == last_t)
        .map(|x| (x.group.clone(), x.cost_milli))
        .collect();
    let mut pending = std::collections::BTreeMap::new();
    for x in &r.node_groups {
        pending.insert(x.t_us, x.pending_pods as u64);
    }
    (cost, pending.values().map(|p| p * 30).sum(), removed)
}

#[test]
fn karpenter_policy_is_cheaper_than_the_cluster_autoscaler_on_the_burst() {
    let (ca_cost, ca_pending, ca_removed) = compare_run("cluster-autoscaler");
    let (k_cost, k_pending, k_removed) = compare_run("karpenter");
    let total = |c: &[(String, i64)]| c.iter().map(|x| x.1).sum::<i64>();
    // The cluster autoscaler (least-waste) adds four m4 nodes and removes
    // them 10 minutes after the burst ends (25m10s-25m20s).
    assert_eq!(
        ca_cost,
        vec![("m4".into(), 441), ("m2".into(), 0), ("m8".into(), 0)]
    );
    assert!(
        ca_removed.iter().all(|t| (1510..=1530).contains(t)),
        "{ca_removed:?}"
    );
    // Karpenter launches the cheapest fit for the 16 pods (two m8 at
    // 0.34 = 0.68/h against four m4 at 0.80/h) and consolidates as soon
    // as the pods are gone (consolidateAfter 0s), one node per loop (10%
    // of 3 nodes, rounded up).
    assert_eq!(
        k_cost,
        vec![("m4".into(), 150), ("m2".into(), 0), ("m8".into(), 135)]
    );
    assert_eq!(k_removed, vec![920, 930]);
    assert!(total(&k_cost) < total(&ca_cost));
    // Both scale up in the same loop: the same pending time.
    assert_eq!((ca_pending, k_pending), (1440, 1440));
}

#[test]
fn unknown_provisioning_policy_is_a_scenario_error() {
    let text = std::fs::read_to_string(crate::repo("scenarios/ca-vs-karpenter.yaml"))
        .expect("read")
        .replace("policy: cluster-autoscaler", "policy: spot-magic")
        .replace(
            "expander: least-waste",
            "expander: least-waste\n    disruptionBudget: \"150%\"",
        );
    let Err(e) = kubesim::scenario::load_str(
        &text,
        std::path::Path::new("bad.yaml"),
        kubesim::scenario::LoadOptions::default(),
    ) else {
        panic!("the scenario should not load");
    };
    let msg = e.to_string();
    assert!(msg.contains("spec.clusterAutoscaler.policy"), "{msg}");
    assert!(
        msg.contains("spec.clusterAutoscaler.disruptionBudget"),
        "{msg}"
    );
}

#[test]
fn node_groups_plot_renders() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("run");
    run_to_dir(
        crate::load("scenarios/cluster-autoscaler.yaml"),
        &spec(None),
        &dir,
    )
    .expect("run");
    let files = kubesim::plot::run::draw(&dir).expect("plots");
    let ng: Vec<_> = files
        .iter()
        .filter(|f| f.to_string_lossy().contains("node-groups"))
        .collect();
    assert_eq!(ng.len(), 2, "png and svg: {files:?}");
    for f in ng {
        assert!(std::fs::metadata(f).expect("file").len() > 1000, "{f:?}");
    }
}

#[test]
fn a_burst_of_jobs_scales_a_node_group_up_and_back_down() {
    let r = crate::run(crate::load("scenarios/cluster-autoscaler-jobs.yaml"));
    let nodes_at = |s: u64| {
        r.node_groups
            .iter()
            .rfind(|g| g.t_us <= s * 1_000_000)
            .map(|g| g.nodes)
            .expect("row")
    };
    // 12 parallel one-CPU pods on one 4-CPU node: 8 pending, +2 nodes
    // (Ready after the 90 s provisioning delay).
    assert_eq!(nodes_at(60), 1);
    assert_eq!(nodes_at(180), 3);
    // Every pod of the Job succeeded; the nodes go once unneeded for 10
    // minutes after the Job completed, down to the group's minimum.
    let pods: Vec<_> = r
        .pods
        .iter()
        .filter(|p| p.meta.name.starts_with("render-"))
        .collect();
    assert_eq!(pods.len(), 24);
    assert!(pods
        .iter()
        .all(|p| p.phase() == kubesim::model::PodPhase::Succeeded
            || p.status.reason == "NodeRemoved"));
    assert_eq!(nodes_at(15 * 60), 3);
    assert_eq!(nodes_at(30 * 60), 1);
    assert!(r.node_groups.iter().all(|g| g.nodes <= 6));
}
