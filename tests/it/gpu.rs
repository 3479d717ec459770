//! GPU sharing end to end (EXPERIMENT.md §1, §3, §4): annotations and pool
//! `gpus` parsed with field paths, sharing pods packed onto GPUs by every
//! GPU policy, and no GPU ever over-committed (invariants are checked after
//! every event).

use std::path::Path;

use kubesim::cluster::RunResult;
use kubesim::runner::run_in_memory;
use kubesim::scenario::{load_str, LoadError, LoadOptions};

use crate::{load_text, node_name, pod};

fn scenario(policy: &str, pods: &str) -> String {
    format!(
        r#"apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {{name: gpu}}
spec:
  scheduler: {{policy: {policy}}}
  cluster:
    nodePools:
    - {{name: t4, count: 2, capacity: {{cpu: "32", memory: 64Gi}}, gpus: {{count: 2, model: T4}}}}
    - {{name: cpu, count: 1, capacity: {{cpu: "32", memory: 64Gi}}}}
{pods}"#
    )
}

fn gpu_pod(name: &str, ann: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, annotations: {{{ann}}}}}\nspec:\n  containers: [{{name: c, image: x:1, resources: {{requests: {{cpu: 1, memory: 1Gi}}}}}}]\n"
    )
}

fn sharing_pods(n: usize, milli: u32) -> String {
    (0..n)
        .map(|i| {
            gpu_pod(
                &format!("s{i}"),
                &format!(
                    "alibabacloud.com/gpu-count: \"1\", alibabacloud.com/gpu-milli: \"{milli}\""
                ),
            )
        })
        .collect()
}

/// (node, GPU) → Σ milli of the running pods there.
fn gpu_usage(r: &RunResult) -> std::collections::BTreeMap<(String, u32), i64> {
    let mut m = std::collections::BTreeMap::new();
    for p in &r.pods {
        let (Some(g), Some(n)) = (&p.gpu, node_name(r, p)) else {
            continue;
        };
        if p.phase().is_terminal() {
            continue;
        }
        for &i in &p.status.gpu_ids {
            *m.entry((n.clone(), i)).or_insert(0) += g.gpu_milli;
        }
    }
    m
}

#[test]
fn sharing_pods_pack_onto_gpus_without_over_commit() {
    for policy in [
        "fgd",
        "fgd-bestfit",
        "dotprod",
        "gpu-packing",
        "gpu-clustering",
        "gpu-random",
    ] {
        // 10 × 300 milli on 4 GPUs: 3 fit per GPU.
        let r = run_in_memory(
            load_text(&scenario(policy, &sharing_pods(10, 300))),
            &crate::spec(Some(7)),
        )
        .expect("run");
        let usage = gpu_usage(&r);
        for i in 0..10 {
            let p = pod(&r, &format!("s{i}"));
            let n = node_name(&r, p).unwrap_or_else(|| panic!("{policy}: s{i} unbound"));
            assert!(n.starts_with("t4-"), "{policy}: s{i} on {n}");
            assert_eq!(p.status.gpu_ids.len(), 1, "{policy}");
        }
        assert!(usage.values().all(|m| *m <= 1000), "{policy}: {usage:?}");
        assert!(usage.len() < 10, "{policy}: pods share GPUs: {usage:?}");
        // The nodes' recorded free milli agree with the pods.
        for n in r.nodes.iter().filter(|n| n.gpus.is_some()) {
            let g = n.gpus.as_ref().unwrap();
            for (i, f) in g.free_milli.iter().enumerate() {
                let used = usage
                    .get(&(n.meta.name.clone(), i as u32))
                    .copied()
                    .unwrap_or(0);
                assert_eq!(*f, 1000 - used, "{policy}: {} GPU {i}", n.meta.name);
            }
        }
    }
}

#[test]
fn best_fit_packs_tightly_and_whole_gpu_pods_take_free_gpus() {
    // Default best fit (dotprod's GPU choice): the three 300-milli pods go
    // to one GPU; the whole-GPU pods then take the fully free GPUs; a
    // card-model mismatch never binds.
    let mut pods = sharing_pods(3, 300);
    for i in 0..3 {
        pods.push_str(&gpu_pod(
            &format!("w{i}"),
            "alibabacloud.com/gpu-count: \"1\", alibabacloud.com/gpu-milli: \"1000\"",
        ));
    }
    pods.push_str(&gpu_pod(
        "v100",
        "alibabacloud.com/gpu-count: \"1\", alibabacloud.com/gpu-milli: \"100\", alibabacloud.com/gpu-card-model: \"V100M16|V100M32\"",
    ));
    let r = run_in_memory(
        load_text(&scenario("dotprod", &pods)),
        &crate::spec(Some(1)),
    )
    .expect("run");
    let place = |name: &str| {
        let p = pod(&r, name);
        (node_name(&r, p), p.status.gpu_ids.clone())
    };
    assert_eq!(place("s0"), place("s1"));
    assert_eq!(place("s1"), place("s2"));
    let usage = gpu_usage(&r);
    assert_eq!(
        usage.values().filter(|m| **m == 1000).count(),
        3,
        "{usage:?}"
    );
    assert_eq!(
        usage.values().filter(|m| **m == 900).count(),
        1,
        "{usage:?}"
    );
    assert_eq!(place("v100").0, None);
}

fn diagnostics(text: &str) -> Vec<(String, String)> {
    match load_str(text, Path::new("t.yaml"), LoadOptions::default()) {
        Err(LoadError::Invalid(d)) => {
            d.0.iter()
                .map(|d| (d.path.clone(), d.message.clone()))
                .collect()
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("should be invalid:\n{text}"),
    }
}

#[test]
fn bad_gpu_annotations_and_pool_gpus_are_reported_with_paths() {
    let ann = "metadata.annotations";
    for (a, key, msg) in [
        (
            "alibabacloud.com/gpu-count: \"1\", alibabacloud.com/gpu-milli: \"1500\"",
            "alibabacloud.com/gpu-milli",
            "between 1 and 1000",
        ),
        (
            "alibabacloud.com/gpu-count: \"1\", alibabacloud.com/gpu-milli: \"0\"",
            "alibabacloud.com/gpu-milli",
            "between 1 and 1000",
        ),
        (
            "alibabacloud.com/gpu-count: \"-2\"",
            "alibabacloud.com/gpu-count",
            "between 0 and 128",
        ),
        (
            "alibabacloud.com/gpu-milli: \"500\"",
            "alibabacloud.com/gpu-milli",
            "requires the alibabacloud.com/gpu-count",
        ),
        (
            "alibabacloud.com/gpu-count: \"1\", alibabacloud.com/gpu-card-model: \"T4||A10\"",
            "alibabacloud.com/gpu-card-model",
            "separated by '|'",
        ),
    ] {
        let d = diagnostics(&scenario("fgd", &gpu_pod("bad", a)));
        assert!(
            d.iter()
                .any(|(p, m)| p.ends_with(&format!("{ann}.{key}")) && m.contains(msg)),
            "{a}: {d:#?}"
        );
    }
    let pool = r#"apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: gpu}
spec:
  cluster:
    nodePools:
    - {name: a, count: 1, capacity: {cpu: "8", memory: 8Gi}, gpus: {count: x, model: T4}}
    - {name: b, count: 1, capacity: {cpu: "8", memory: 8Gi}, gpus: {count: 2, model: "A|B"}}
"#;
    let d = diagnostics(pool);
    assert!(
        d.iter()
            .any(|(p, _)| p == "spec.cluster.nodePools[0].gpus.count"),
        "{d:#?}"
    );
    assert!(
        d.iter()
            .any(|(p, _)| p == "spec.cluster.nodePools[1].gpus.model"),
        "{d:#?}"
    );
}

#[test]
fn gpu_request_parsing_and_node_annotations() {
    let node = r#"---
apiVersion: v1
kind: Node
metadata: {name: n1, annotations: {alibabacloud.com/gpu-count: "4", alibabacloud.com/gpu-card-model: G2}}
status: {capacity: {cpu: "8", memory: 8Gi}}
"#;
    let text = format!(
        "{}{node}{}{}",
        scenario("gpu-packing", ""),
        gpu_pod("share", "alibabacloud.com/gpu-count: \"1\", alibabacloud.com/gpu-milli: \"250\", alibabacloud.com/gpu-card-model: \"G2|T4\""),
        gpu_pod("two", "alibabacloud.com/gpu-count: \"2\""),
    );
    let r = run_in_memory(load_text(&text), &crate::spec(Some(3))).expect("run");
    let share = pod(&r, "share");
    let g = share.gpu.as_ref().expect("GPU request");
    assert_eq!(
        (g.num_gpu, g.gpu_milli, g.models.clone()),
        (1, 250, vec!["G2".to_string(), "T4".to_string()])
    );
    let two = pod(&r, "two");
    assert_eq!(
        two.gpu.as_ref().map(|g| (g.num_gpu, g.gpu_milli)),
        Some((2, 1000))
    );
    assert_eq!(two.status.gpu_ids.len(), 2);
    let n1 = r.nodes.iter().find(|n| n.meta.name == "n1").unwrap();
    assert_eq!(
        n1.gpus
            .as_ref()
            .map(|g| (g.model.as_str(), g.free_milli.len())),
        Some(("G2", 4))
    );
    let d = diagnostics(&format!(
        "{}---\napiVersion: v1\nkind: Node\nmetadata: {{name: n2, annotations: {{alibabacloud.com/gpu-card-model: G2}}}}\nstatus: {{capacity: {{cpu: \"8\", memory: 8Gi}}}}\n",
        scenario("fgd", "")
    ));
    assert!(
        d.iter().any(
            |(p, m)| p.ends_with("metadata.annotations.alibabacloud.com/gpu-card-model")
                && m.contains("requires")
        ),
        "{d:#?}"
    );
}
