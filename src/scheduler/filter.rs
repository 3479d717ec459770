//! Feasibility checks shared by policies, each following the upstream
//! Filter plugin of the same name (kube-scheduler v1.35): NodeUnschedulable,
//! NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit.

use std::collections::BTreeMap;

use crate::model::taints::{find_untolerated, TaintEffect, TAINT_UNSCHEDULABLE};
use crate::model::{Node, Pod, Taint};

/// Why a node was rejected (the upstream status message).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reject {
    Unschedulable,
    NodeName,
    Taint(String),
    Affinity,
    Ports,
    Insufficient(String),
    TooManyPods,
}

impl Reject {
    pub fn message(&self) -> String {
        match self {
            Reject::Unschedulable => "node(s) were unschedulable".to_string(),
            Reject::NodeName => "node(s) didn't match the requested node name".to_string(),
            Reject::Taint(t) => format!("node(s) had untolerated taint {{{t}}}"),
            Reject::Affinity => "node(s) didn't match Pod's node affinity/selector".to_string(),
            Reject::Ports => {
                "node(s) didn't have free ports for the requested pod ports".to_string()
            }
            Reject::Insufficient(r) => format!("Insufficient {r}"),
            Reject::TooManyPods => "Too many pods".to_string(),
        }
    }
}

fn taint_text(t: &Taint) -> String {
    if t.value.is_empty() {
        t.key.clone()
    } else {
        format!("{}: {}", t.key, t.value)
    }
}

/// Runs every filter in upstream's default order; the first failure wins.
pub fn check(pod: &Pod, node: &Node) -> Result<(), Reject> {
    // NodeUnschedulable
    if node.unschedulable {
        let t = Taint::new(TAINT_UNSCHEDULABLE, "", TaintEffect::NoSchedule);
        if !pod.spec.tolerations.iter().any(|x| x.tolerates(&t)) {
            return Err(Reject::Unschedulable);
        }
    }
    // NodeName
    if let Some(n) = &pod.spec.node_name {
        if n != node.name() {
            return Err(Reject::NodeName);
        }
    }
    // TaintToleration
    if let Some(t) = find_untolerated(
        &node.taints,
        &pod.spec.tolerations,
        &[TaintEffect::NoSchedule, TaintEffect::NoExecute],
    ) {
        return Err(Reject::Taint(taint_text(t)));
    }
    // NodeAffinity (nodeSelector and required node affinity)
    if !node_affinity_matches(pod, node) {
        return Err(Reject::Affinity);
    }
    // NodePorts
    if !ports_fit(pod, node) {
        return Err(Reject::Ports);
    }
    // NodeResourcesFit
    fits_resources(pod, node)
}

pub fn node_affinity_matches(pod: &Pod, node: &Node) -> bool {
    for (k, v) in &pod.spec.node_selector {
        if node.meta.labels.get(k) != Some(v) {
            return false;
        }
    }
    if let Some(req) = pod
        .spec
        .node_affinity
        .as_ref()
        .and_then(|a| a.required.as_ref())
    {
        if !req.matches(node.name(), &node.meta.labels) {
            return false;
        }
    }
    true
}

/// Upstream NodePorts: a host port conflicts when protocol and port match
/// and either host IP is the wildcard or both are equal.
pub fn ports_fit(pod: &Pod, node: &Node) -> bool {
    for c in &pod.spec.containers {
        for p in &c.ports {
            if p.host_port <= 0 {
                continue;
            }
            let ip = if p.host_ip.is_empty() {
                "0.0.0.0"
            } else {
                p.host_ip.as_str()
            };
            for (proto, used_ip, port) in &node.used_ports {
                if *port == p.host_port
                    && *proto == p.protocol
                    && (ip == "0.0.0.0" || used_ip == "0.0.0.0" || used_ip == ip)
                {
                    return false;
                }
            }
        }
    }
    true
}

/// Upstream NodeResourcesFit `fitsRequest`: pod count first, then each
/// requested resource against allocatable minus what is requested already.
pub fn fits_resources(pod: &Pod, node: &Node) -> Result<(), Reject> {
    if node.pods.len() as i64 + 1 > node.allocatable.pods {
        return Err(Reject::TooManyPods);
    }
    let r = &pod.requests;
    if r.cpu_m == 0
        && r.memory == 0
        && r.ephemeral_storage == 0
        && r.scalar.values().all(|v| *v == 0)
    {
        return Ok(());
    }
    let a = &node.allocatable;
    let u = &node.requested;
    if r.cpu_m > 0 && r.cpu_m > a.cpu_m - u.cpu_m {
        return Err(Reject::Insufficient("cpu".into()));
    }
    if r.memory > 0 && r.memory > a.memory - u.memory {
        return Err(Reject::Insufficient("memory".into()));
    }
    if r.ephemeral_storage > 0 && r.ephemeral_storage > a.ephemeral_storage - u.ephemeral_storage {
        return Err(Reject::Insufficient("ephemeral-storage".into()));
    }
    for (k, v) in &r.scalar {
        if *v > 0
            && *v > a.scalar.get(k).copied().unwrap_or(0) - u.scalar.get(k).copied().unwrap_or(0)
        {
            return Err(Reject::Insufficient(k.clone()));
        }
    }
    Ok(())
}

/// Upstream's FitError message: `0/N nodes are available: <count> <reason>, ...`
/// with reasons sorted by text.
pub fn fit_error(total: usize, rejects: &BTreeMap<Reject, usize>) -> String {
    let mut parts: Vec<String> = rejects
        .iter()
        .map(|(r, n)| format!("{n} {}", r.message()))
        .collect();
    parts.sort();
    if parts.is_empty() {
        format!("0/{total} nodes are available.")
    } else {
        format!("0/{total} nodes are available: {}.", parts.join(", "))
    }
}
