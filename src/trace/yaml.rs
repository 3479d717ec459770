//! Writes a trace as one scenario file: a `Scenario` document, then real
//! Kubernetes manifests (PriorityClasses, Nodes, the Pods arriving at 0);
//! later pods are `apply` entries of the Scenario's timeline at their
//! arrival times. Loading the file gives the same objects as
//! [`super::replay::expand`] (tested).

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use super::replay::{node_annotations, pod_annotations, Expanded, CONTAINER, IMAGE};
use super::{Trace, TraceNode, TracePod};
use crate::engine::{Duration, SimTime};
use crate::model::resources::{CPU, EPHEMERAL_STORAGE, MEMORY, PODS};
use crate::model::{Pod, Resources};

/// A resource map as manifests write it (exact: millicores, bytes, units);
/// zero amounts are left out.
fn resource_map(r: &Resources, with_pods: bool) -> Value {
    let mut m = Map::new();
    if r.cpu_m != 0 {
        m.insert(CPU.into(), json!(format!("{}m", r.cpu_m)));
    }
    if r.memory != 0 {
        m.insert(MEMORY.into(), json!(r.memory.to_string()));
    }
    if r.ephemeral_storage != 0 {
        m.insert(
            EPHEMERAL_STORAGE.into(),
            json!(r.ephemeral_storage.to_string()),
        );
    }
    if with_pods {
        m.insert(PODS.into(), json!(r.pods.to_string()));
    }
    for (k, v) in &r.scalar {
        if *v != 0 {
            m.insert(k.clone(), json!(v.to_string()));
        }
    }
    Value::Object(m)
}

fn string_map(m: &std::collections::BTreeMap<String, String>) -> Value {
    Value::Object(m.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

/// A pod manifest.
pub fn pod_manifest(p: &Pod) -> Value {
    let c = &p.spec.containers[0];
    let mut meta = Map::new();
    meta.insert("name".into(), json!(p.meta.name));
    if !p.meta.labels.is_empty() {
        meta.insert("labels".into(), string_map(&p.meta.labels));
    }
    if !p.meta.annotations.is_empty() {
        meta.insert("annotations".into(), string_map(&p.meta.annotations));
    }
    let mut res = Map::new();
    let req = resource_map(&c.requests, false);
    if req.as_object().is_some_and(|m| !m.is_empty()) {
        res.insert("requests".into(), req);
    }
    let lim = resource_map(&c.limits, false);
    if lim.as_object().is_some_and(|m| !m.is_empty()) {
        res.insert("limits".into(), lim);
    }
    let mut spec = Map::new();
    spec.insert(
        "containers".into(),
        json!([{"name": CONTAINER, "image": IMAGE, "resources": Value::Object(res)}]),
    );
    spec.insert("restartPolicy".into(), json!("Never"));
    if let Some(pc) = &p.spec.priority_class_name {
        spec.insert("priorityClassName".into(), json!(pc));
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": Value::Object(meta), "spec": Value::Object(spec)})
}

/// A node manifest (capacity in `status`, GPUs as annotations).
pub fn node_manifest(tn: &TraceNode) -> Value {
    let mut meta = Map::new();
    meta.insert("name".into(), json!(tn.name));
    if !tn.labels.is_empty() {
        meta.insert("labels".into(), string_map(&tn.labels));
    }
    let ann = node_annotations(tn);
    if !ann.is_empty() {
        meta.insert("annotations".into(), string_map(&ann));
    }
    json!({"apiVersion": "v1", "kind": "Node", "metadata": Value::Object(meta),
           "status": {"capacity": resource_map(&tn.capacity, true)}})
}

fn key(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./-".contains(&b))
        && !k.starts_with(['-', '.'])
    {
        k.to_string()
    } else {
        Value::String(k.to_string()).to_string()
    }
}

/// Block-style YAML for a JSON value (strings double-quoted, so every value
/// reads back as the same string).
pub fn emit(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match x {
                    Value::Object(inner) if !inner.is_empty() => {
                        let _ = writeln!(out, "{pad}{}:", key(k));
                        emit(x, indent + 2, out);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        let _ = writeln!(out, "{pad}{}:", key(k));
                        emit(x, indent, out);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}{}: {}", key(k), x);
                    }
                }
            }
        }
        Value::Array(a) => {
            for x in a {
                let mut s = String::new();
                emit(x, indent + 2, &mut s);
                // The first line carries the `- ` marker.
                let body = s.strip_prefix(&" ".repeat(indent + 2)).unwrap_or(&s);
                let _ = write!(out, "{pad}- {body}");
                if !body.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
        x => {
            let _ = writeln!(out, "{pad}{x}");
        }
    }
}

/// Writes the scenario text for an expanded trace.
pub fn scenario_yaml(name: &str, seed: u64, trace: &Trace, ex: &Expanded) -> String {
    let mut out = String::with_capacity(256 * (ex.pods.len() + ex.nodes.len()) + 1024);
    let _ = writeln!(
        out,
        "# Imported by `kubesim trace import`: {} nodes, {} pods.",
        ex.nodes.len(),
        ex.pods.len()
    );
    let mut sc = json!({"apiVersion": crate::scenario::API_VERSION, "kind": "Scenario",
        "metadata": {"name": name}, "spec": {"seed": seed}});
    let timeline: Vec<Value> = ex
        .pods
        .iter()
        .filter(|(at, _)| *at > SimTime::ZERO)
        .map(|(at, p)| json!({"at": Duration::from_micros(at.as_micros()).to_string(), "apply": pod_manifest(p)}))
        .collect();
    if !timeline.is_empty() {
        sc["spec"]["timeline"] = Value::Array(timeline);
    }
    emit(&sc, 0, &mut out);
    for c in &ex.priority_classes {
        out.push_str("---\n");
        emit(
            &json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                    "metadata": {"name": c.name}, "value": c.value}),
            0,
            &mut out,
        );
    }
    for tn in &trace.nodes {
        out.push_str("---\n");
        emit(&node_manifest(tn), 0, &mut out);
    }
    for (at, p) in &ex.pods {
        if *at == SimTime::ZERO {
            out.push_str("---\n");
            emit(&pod_manifest(p), 0, &mut out);
        }
    }
    out
}

/// The annotations of a pod built from `tp` (re-exported for tests).
pub fn annotations_of(
    tp: &TracePod,
    run: Option<Duration>,
) -> std::collections::BTreeMap<String, String> {
    pod_annotations(tp, run)
}
