//! Workload controllers end to end: rolling updates within maxSurge and
//! maxUnavailable, Recreate, rollback, garbage collection with each
//! propagation policy, drains blocked by a PodDisruptionBudget, validation
//! of workload manifests and actions, and convergence of random timelines.

use kubesim::cluster::RunResult;
use kubesim::controllers::{Workload, WorkloadRow};
use kubesim::runner::run_to_dir;
use kubesim::scenario::{load_str, LoadError, LoadOptions};
use proptest::prelude::*;

use crate::{load, load_text, run, spec};

fn rows<'a>(r: &'a RunResult, kind: &str, name: &str) -> Vec<&'a WorkloadRow> {
    r.workloads
        .iter()
        .filter(|w| w.kind == kind && w.name == name)
        .collect()
}

fn live<'a>(r: &'a RunResult, kind: &str) -> Vec<&'a Workload> {
    r.workload_objects
        .iter()
        .filter(|w| !w.removed && w.kind().as_str() == kind)
        .collect()
}

/// Live pods (in the API at the end) owned by a controller named `prefix…`.
fn live_pods(r: &RunResult, prefix: &str) -> usize {
    r.pods
        .iter()
        .filter(|p| p.meta.name.starts_with(prefix) && p.status.finished_at.is_none())
        .count()
}

fn events(sc: kubesim::scenario::Scenario) -> (RunResult, Vec<serde_json::Value>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (r, _) = run_to_dir(sc, &spec(None), dir.path()).expect("run");
    let text = std::fs::read_to_string(dir.path().join("events.jsonl")).expect("events");
    let ev = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    (r, ev)
}

fn has_event(ev: &[serde_json::Value], kind: &str, text: &str) -> bool {
    ev.iter().any(|e| {
        e["type"] == kind
            && e["message"]
                .as_str()
                .or(e["pod"].as_str())
                .or(e["node"].as_str())
                .is_some_and(|m| m.contains(text))
    })
}

#[test]
fn rolling_update_stays_within_surge_and_unavailability() {
    let r = run(load("scenarios/rolling-update.yaml"));
    let dep = rows(&r, "Deployment", "web");
    assert!(!dep.is_empty());
    let mut saw_two_revisions = false;
    for d in &dep {
        let t = d.t_us;
        let desired = d.desired.unwrap_or(0);
        let (surge, unavail) = (d.max_surge.unwrap_or(0), d.max_unavailable.unwrap_or(0));
        // Pods of every ReplicaSet of the Deployment at this sample.
        let rs: Vec<_> = r
            .workloads
            .iter()
            .filter(|w| w.kind == "ReplicaSet" && w.t_us == t && w.name.starts_with("web-"))
            .collect();
        let total: i32 = rs.iter().map(|w| w.current).sum();
        saw_two_revisions |= rs.iter().filter(|w| w.current > 0).count() == 2;
        assert!(
            total <= desired + surge,
            "t={t}: {total} pods > {desired} + {surge}"
        );
        // After the first rollout completed (8 s), availability holds.
        if t >= 10_000_000 {
            assert!(
                d.available >= desired - unavail,
                "t={t}: available {} < {desired} - {unavail}",
                d.available
            );
        }
    }
    assert!(saw_two_revisions, "the update ran two ReplicaSets at once");
    // 10 → 12 replicas of revision 2 at the end, revision 1 at zero.
    let last = dep.last().copied().cloned().unwrap_or_default();
    assert_eq!(
        (last.revision, last.desired, last.available, last.updated),
        (Some(2), Some(12), 12, Some(12))
    );
    let rss = live(&r, "ReplicaSet");
    assert_eq!(rss.len(), 2);
    let mut sizes: Vec<(String, i32)> = rss
        .iter()
        .map(|w| {
            (
                w.meta
                    .annotations
                    .get("deployment.kubernetes.io/revision")
                    .cloned()
                    .unwrap_or_default(),
                w.replica_set().map(|x| x.replicas).unwrap_or(-1),
            )
        })
        .collect();
    sizes.sort();
    assert_eq!(sizes, vec![("1".to_string(), 0), ("2".to_string(), 12)]);
    assert_eq!(live_pods(&r, "web-"), 12);
}

#[test]
fn recreate_never_runs_old_and_new_pods_together() {
    let r = run(load("scenarios/recreate.yaml"));
    let rs_names: Vec<String> = live(&r, "ReplicaSet")
        .iter()
        .map(|w| w.meta.name.clone())
        .collect();
    assert_eq!(rs_names.len(), 2);
    let mut gap = false;
    for t in r.samples.iter().map(|s| s.t_us) {
        let cur: Vec<i32> = rs_names
            .iter()
            .map(|n| {
                r.workloads
                    .iter()
                    .find(|w| w.t_us == t && &w.name == n)
                    .map(|w| w.current)
                    .unwrap_or(0)
            })
            .collect();
        assert!(
            cur.iter().filter(|c| **c > 0).count() <= 1,
            "t={t}: {cur:?}"
        );
        gap |= t > 60_000_000 && cur.iter().all(|c| *c == 0);
    }
    assert!(gap, "Recreate leaves a window without pods");
    let d = rows(&r, "Deployment", "db").last().copied().cloned();
    assert_eq!(d.map(|d| (d.revision, d.available)), Some((Some(2), 3)));
}

#[test]
fn rollback_restores_the_previous_template_as_a_new_revision() {
    let (r, ev) = events(load("scenarios/rollback.yaml"));
    assert!(
        has_event(&ev, "RolloutTimedOut", "api-"),
        "progress deadline"
    );
    assert!(has_event(
        &ev,
        "DeploymentRollback",
        "Rolled back deployment to revision 1"
    ));
    let d = live(&r, "Deployment")[0];
    assert_eq!(
        d.meta.annotations.get("deployment.kubernetes.io/revision"),
        Some(&"3".to_string())
    );
    let cond = d
        .deployment()
        .and_then(|x| {
            x.status
                .conditions
                .iter()
                .find(|c| c.type_ == "Progressing")
        })
        .map(|c| (c.status.clone(), c.reason.clone()));
    assert_eq!(
        cond,
        Some(("True".to_string(), "NewReplicaSetAvailable".to_string()))
    );
    // The revision-1 ReplicaSet became revision 3 and remembers 1.
    let back = live(&r, "ReplicaSet")
        .into_iter()
        .find(|w| w.meta.annotations.get("deployment.kubernetes.io/revision") == Some(&"3".into()))
        .expect("revision 3");
    assert_eq!(
        back.meta
            .annotations
            .get("deployment.kubernetes.io/revision-history"),
        Some(&"1".to_string())
    );
    assert_eq!(
        back.replica_set().map(|x| x.status.available_replicas),
        Some(6)
    );
}

#[test]
fn drain_waits_for_the_disruption_budget() {
    let (r, ev) = events(load("scenarios/drain-pdb.yaml"));
    assert!(has_event(
        &ev,
        "EvictionRefused",
        "disruption budget web needs 3"
    ));
    assert!(ev
        .iter()
        .any(|e| e["type"] == "NodeDrained" && e["node"] == "worker-0"));
    // minAvailable 3: never fewer than 3 ready pods once they were up.
    for d in rows(&r, "Deployment", "web") {
        if d.t_us >= 10_000_000 {
            assert!(d.ready >= 3, "t={}: {} ready", d.t_us, d.ready);
        }
    }
    let pdb = live(&r, "PodDisruptionBudget")[0]
        .pdb()
        .cloned()
        .expect("pdb");
    assert_eq!(
        (
            pdb.status.expected_pods,
            pdb.status.desired_healthy,
            pdb.status.current_healthy,
            pdb.status.disruptions_allowed
        ),
        (4, 3, 4, 1)
    );
    // Nothing left on the drained node.
    assert!(r.pods.iter().all(|p| p.status.finished_at.is_some()
        || crate::node_name(&r, p).as_deref() != Some("worker-0")));
}

fn gc_scenario(policy: &str) -> String {
    format!(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {{name: gc}}
spec:
  defaults: {{startupTime: 1s, shutdownTime: 20s}}
  cluster:
    nodePools: [{{name: w, count: 2, capacity: {{cpu: "8", memory: 16Gi, pods: "110"}}}}]
  timeline:
  - {{at: 30s, delete: {{kind: Deployment, name: web, propagationPolicy: {policy}}}}}
  - {{at: 40s, cordon: w-0}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      terminationGracePeriodSeconds: 60
      containers: [{{name: web, image: "nginx:1", resources: {{requests: {{cpu: 100m}}}}}}]
"#
    )
}

#[test]
fn background_deletion_removes_owner_then_dependents() {
    let (r, ev) = events(load_text(&gc_scenario("Background")));
    assert!(live(&r, "Deployment").is_empty());
    assert!(live(&r, "ReplicaSet").is_empty());
    assert_eq!(live_pods(&r, "web-"), 0);
    let deleted_at = |text: &str| {
        ev.iter()
            .find(|e| {
                e["type"] == "WorkloadDeleted"
                    && e["message"].as_str().is_some_and(|m| m.contains(text))
            })
            .and_then(|e| e["t_us"].as_u64())
    };
    // The owner goes at once; its ReplicaSet after a collector pass.
    assert_eq!(deleted_at("Deployment default/web"), Some(30_000_000));
    assert!(deleted_at("ReplicaSet default/web-").is_some_and(|t| t > 30_000_000));
}

#[test]
fn foreground_deletion_waits_for_dependents() {
    let (r, ev) = events(load_text(&gc_scenario("Foreground")));
    assert!(live(&r, "Deployment").is_empty());
    assert_eq!(live_pods(&r, "web-"), 0);
    let t = |kind: &str, text: &str| {
        ev.iter()
            .find(|e| e["type"] == kind && e["message"].as_str().is_some_and(|m| m.contains(text)))
            .and_then(|e| e["t_us"].as_u64())
    };
    let last_pod_gone = ev
        .iter()
        .filter(|e| e["type"] == "PodDeleted")
        .filter_map(|e| e["t_us"].as_u64())
        .max()
        .expect("pods deleted");
    // Pods take their 20 s shutdown; the Deployment goes after them.
    assert!(last_pod_gone >= 50_000_000);
    let dep_gone = t("WorkloadDeleted", "Deployment default/web").expect("deleted");
    assert!(dep_gone >= last_pod_gone, "{dep_gone} < {last_pod_gone}");
}

#[test]
fn orphan_deletion_keeps_dependents_without_owner() {
    let r = run(load_text(&gc_scenario("Orphan")));
    assert!(live(&r, "Deployment").is_empty());
    let rss = live(&r, "ReplicaSet");
    assert_eq!(rss.len(), 1);
    assert!(rss[0].meta.owner_references.is_empty());
    assert_eq!(live_pods(&r, "web-"), 3);
}

#[test]
fn replica_set_adopts_matching_orphans_and_scales_down_unassigned_first() {
    let sc = load_text(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: adopt}
spec:
  duration: 2m
  cluster:
    nodePools: [{name: w, count: 1, capacity: {cpu: "1", memory: 16Gi, pods: "110"}}]
  timeline:
  - {at: 1m, scale: {kind: ReplicaSet, name: rs, replicas: 2}}
---
apiVersion: v1
kind: Pod
metadata: {name: orphan, labels: {app: x}}
spec:
  containers: [{name: c, image: "img:1", resources: {requests: {cpu: 300m}}}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec:
  replicas: 4
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec:
      containers: [{name: c, image: "img:1", resources: {requests: {cpu: 300m}}}]
"#,
    );
    let r = run(sc);
    // The orphan was adopted: 3 created, and the one that never fit
    // (1 CPU holds three 300m pods) is deleted first on scale-down.
    let orphan = crate::pod(&r, "orphan");
    assert_eq!(
        orphan.meta.controller_ref().map(|o| o.name.as_str()),
        Some("rs")
    );
    assert_eq!(r.pods.len(), 4);
    let deleted: Vec<_> = r
        .pods
        .iter()
        .filter(|p| p.meta.deletion_timestamp.is_some())
        .collect();
    assert_eq!(deleted.len(), 2);
    assert!(
        deleted.iter().any(|p| p.status.bound_at.is_none()),
        "the unscheduled pod goes first"
    );
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
fn workload_errors_name_the_field() {
    let d = invalid(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: bad}
spec:
  timeline:
  - {at: 1m, scale: {kind: Deployment, name: web, replicas: -1}}
  - {at: 2m, setImage: {kind: Deployment, name: web, image: "x:1"}}
  - {at: 3m, delete: {kind: Deployment, name: web, propagationPolicy: Sometimes}}
  - {at: 4m, rollback: {kind: ReplicaSet, name: web}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  strategy:
    rollingUpdate: {maxSurge: 0, maxUnavailable: "0%"}
  template:
    metadata: {labels: {app: other}}
    spec:
      restartPolicy: Never
      containers: [{name: web, image: "nginx:1"}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: p}
spec:
  minAvailable: 1
  maxUnavailable: "120%"
"#,
    );
    let has = |line: u32, path: &str, text: &str| {
        d.iter()
            .any(|(l, p, m)| *l == line && p == path && m.contains(text))
    };
    assert!(
        has(
            7,
            "spec.timeline[0].scale.replicas",
            "greater than or equal to 0"
        ),
        "{d:#?}"
    );
    assert!(
        has(8, "spec.timeline[1].setImage.container", "required"),
        "{d:#?}"
    );
    assert!(
        has(9, "spec.timeline[2].delete.propagationPolicy", "Sometimes"),
        "{d:#?}"
    );
    assert!(
        has(10, "spec.timeline[3].rollback.kind", "ReplicaSet"),
        "{d:#?}"
    );
    assert!(
        has(
            19,
            "spec.strategy.rollingUpdate.maxUnavailable",
            "may not be 0 when `maxSurge` is 0"
        ),
        "{d:#?}"
    );
    assert!(
        has(
            21,
            "spec.template.metadata.labels",
            "does not match template"
        ),
        "{d:#?}"
    );
    assert!(
        has(
            23,
            "spec.template.spec.restartPolicy",
            "supported values: \"Always\""
        ),
        "{d:#?}"
    );
    assert!(
        has(31, "spec.maxUnavailable", "greater than 100%"),
        "{d:#?}"
    );
}

fn converge_scenario(
    replicas: i32,
    surge: &str,
    unavail: &str,
    steps: &[(u32, u8, i32)],
) -> String {
    let mut tl = String::new();
    for (i, (secs, op, v)) in steps.iter().enumerate() {
        let at = 5 + secs + i as u32;
        match op % 3 {
            0 => tl.push_str(&format!(
                "  - {{at: {at}s, scale: {{kind: Deployment, name: app, replicas: {v}}}}}\n"
            )),
            1 => tl.push_str(&format!(
                "  - {{at: {at}s, setImage: {{kind: Deployment, name: app, container: c, image: \"img:{v}\"}}}}\n"
            )),
            _ => tl.push_str(&format!(
                "  - {{at: {at}s, rollback: {{kind: Deployment, name: app}}}}\n"
            )),
        }
    }
    format!(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {{name: converge}}
spec:
  defaults: {{startupTime: 2s, shutdownTime: 1s}}
  cluster:
    nodePools: [{{name: w, count: 3, capacity: {{cpu: "16", memory: 64Gi, pods: "110"}}}}]
  timeline:
{tl}---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: app}}
spec:
  replicas: {replicas}
  minReadySeconds: 1
  selector: {{matchLabels: {{app: app}}}}
  strategy:
    rollingUpdate: {{maxSurge: "{surge}", maxUnavailable: "{unavail}"}}
  template:
    metadata: {{labels: {{app: app}}}}
    spec:
      containers: [{{name: c, image: "img:0", resources: {{requests: {{cpu: 100m}}}}}}]
"#
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// After any timeline of scales, image changes and rollbacks stops,
    /// the Deployment has exactly `replicas` available pods of its newest
    /// revision and every old ReplicaSet is at zero.
    #[test]
    fn random_timelines_converge(
        replicas in 0i32..8,
        surge in prop::sample::select(vec!["0", "1", "25%", "50%"]),
        unavail in prop::sample::select(vec!["1", "25%", "50%", "100%"]),
        steps in prop::collection::vec((0u32..20, 0u8..3, 0i32..8), 0..6),
    ) {
        let r = run(load_text(&converge_scenario(replicas, surge, unavail, &steps)));
        let d = live(&r, "Deployment")[0];
        let dep = d.deployment().expect("deployment");
        let want = dep.replicas;
        prop_assert_eq!(dep.status.available_replicas, want);
        prop_assert_eq!(dep.status.updated_replicas, want);
        prop_assert_eq!(dep.status.replicas, want);
        let rev = d.meta.annotations.get("deployment.kubernetes.io/revision").cloned();
        for rs in live(&r, "ReplicaSet") {
            let x = rs.replica_set().expect("rs");
            if rs.meta.annotations.get("deployment.kubernetes.io/revision") == rev.as_ref() {
                prop_assert_eq!((x.replicas, x.status.available_replicas), (want, want));
            } else {
                prop_assert_eq!((x.replicas, x.status.replicas), (0, 0));
            }
        }
        prop_assert_eq!(live_pods(&r, "app-") as i32, want);
    }
}

#[test]
fn controller_runs_are_deterministic() {
    for path in ["scenarios/rolling-update.yaml", "scenarios/drain-pdb.yaml"] {
        let a = run(load(path));
        let b = run(load(path));
        assert_eq!(a.event_digest, b.event_digest, "{path}");
        assert_eq!(a.workloads, b.workloads, "{path}");
    }
}

#[test]
fn preemption_prefers_victims_without_a_pdb_violation() {
    // Two full nodes: a bare pod started first on one, a Deployment's pod
    // (protected by a PDB that allows no disruption) started later on the
    // other. Without PDBs, preemption's last tie-breaker (latest start)
    // would pick the Deployment's node.
    let sc = load_text(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: preempt-pdb}
spec:
  duration: 2m
  cluster:
    nodePools: [{name: w, count: 2, capacity: {cpu: "1", memory: 4Gi, pods: "110"}}]
  timeline:
  - at: 10s
    apply:
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: guarded}
      spec:
        replicas: 1
        selector: {matchLabels: {app: guarded}}
        template:
          metadata: {labels: {app: guarded}}
          spec:
            containers: [{name: c, image: "img:1", resources: {requests: {cpu: 800m}}}]
  - at: 30s
    apply:
      apiVersion: v1
      kind: Pod
      metadata: {name: vip}
      spec:
        priorityClassName: high
        containers: [{name: c, image: "img:1", resources: {requests: {cpu: 800m}}}]
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
---
apiVersion: v1
kind: Pod
metadata: {name: free, labels: {app: free}}
spec:
  containers: [{name: c, image: "img:1", resources: {requests: {cpu: 800m}}}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: guarded}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: guarded}}
"#,
    );
    let r = run(sc);
    let free = crate::pod(&r, "free");
    assert!(
        free.meta.deletion_timestamp.is_some(),
        "the unprotected pod is the victim"
    );
    let guarded: Vec<_> = r
        .pods
        .iter()
        .filter(|p| p.meta.name.starts_with("guarded-"))
        .collect();
    assert_eq!(guarded.len(), 1);
    assert!(guarded[0].meta.deletion_timestamp.is_none());
    assert!(crate::pod(&r, "vip").status.bound_at.is_some());
}

#[test]
fn paused_deployment_rolls_out_only_after_resume() {
    let (r, ev) = events(load_text(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: pause}
spec:
  defaults: {startupTime: 1s}
  cluster:
    nodePools: [{name: w, count: 2, capacity: {cpu: "8", memory: 16Gi, pods: "110"}}]
  timeline:
  - {at: 10s, pause: {kind: Deployment, name: web}}
  - {at: 20s, setImage: {kind: Deployment, name: web, container: web, image: "nginx:2"}}
  - {at: 30s, scale: {kind: Deployment, name: web, replicas: 5}}
  - {at: 60s, resume: {kind: Deployment, name: web}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1", resources: {requests: {cpu: 100m}}}]
"#,
    ));
    let started: Vec<u64> = ev
        .iter()
        .filter(|e| e["type"] == "RolloutStarted")
        .filter_map(|e| e["t_us"].as_u64())
        .collect();
    // Revision 1 at once; revision 2 only after the resume at 60 s.
    assert_eq!(started.len(), 2, "{started:?}");
    assert!(started[1] >= 60_000_000, "{started:?}");
    // While paused, the scale to 5 still applied to the old ReplicaSet.
    assert!(has_event(&ev, "ScalingReplicaSet", "from 3 to 5"));
    let d = live(&r, "Deployment")[0].deployment().cloned().expect("d");
    assert_eq!(
        (d.status.updated_replicas, d.status.available_replicas),
        (5, 5)
    );
}
