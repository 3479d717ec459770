//! Scheduler extenders: external policies called at Filter, Prioritize and
//! Bind, as kube-scheduler calls them (pkg/scheduler/extender.go). Two
//! transports share this interface: the standard HTTP extender protocol
//! (`ExtenderArgs` → `ExtenderFilterResult` / `HostPriorityList`) and a
//! JSON-lines protocol over a subprocess's stdin/stdout.

use std::collections::BTreeMap;

use super::config::ExtenderConfig;
use super::framework::{ClusterView, Status, MAX_NODE_SCORE};
use crate::model::{NodeId, Pod};

/// Upstream `extenderv1.MaxExtenderPriority`.
pub const MAX_EXTENDER_PRIORITY: i64 = 10;

/// Result of an extender's filter call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilterResult {
    pub feasible: Vec<NodeId>,
    pub failed: BTreeMap<NodeId, String>,
    pub failed_unresolvable: BTreeMap<NodeId, String>,
}

pub trait Extender {
    fn name(&self) -> &str;
    fn is_interested(&self, pod: &Pod) -> bool;
    fn is_filter(&self) -> bool;
    fn is_prioritizer(&self) -> bool;
    fn is_binder(&self) -> bool;
    fn is_ignorable(&self) -> bool;
    fn weight(&self) -> i64;
    fn filter(
        &mut self,
        pod: &Pod,
        nodes: &[NodeId],
        view: &ClusterView,
    ) -> Result<FilterResult, String>;
    /// Scores in 0..=MAX_EXTENDER_PRIORITY per node.
    fn prioritize(
        &mut self,
        pod: &Pod,
        nodes: &[NodeId],
        view: &ClusterView,
    ) -> Result<Vec<(NodeId, i64)>, String>;
    fn bind(&mut self, pod: &Pod, node: NodeId, view: &ClusterView) -> Result<(), String>;
}

/// Builds an extender from its configuration.
pub fn new_extender(cfg: &ExtenderConfig) -> Result<Box<dyn Extender>, String> {
    Err(format!(
        "extender {:?}: external extenders are not available in this build yet",
        if cfg.url_prefix.is_empty() {
            cfg.command.join(" ")
        } else {
            cfg.url_prefix.clone()
        }
    ))
}

/// Upstream `findNodesThatPassExtenders`: extenders in order, each narrowing
/// the feasible list; failures recorded in `statuses`.
pub fn run_filters(
    exts: &mut [Box<dyn Extender>],
    pod: &Pod,
    feasible: &[NodeId],
    view: &ClusterView,
    statuses: &mut BTreeMap<NodeId, Status>,
) -> Result<Vec<NodeId>, String> {
    let mut nodes = feasible.to_vec();
    for e in exts.iter_mut() {
        if nodes.is_empty() {
            break;
        }
        if !e.is_filter() || !e.is_interested(pod) {
            continue;
        }
        match e.filter(pod, &nodes, view) {
            Ok(r) => {
                for (n, m) in &r.failed_unresolvable {
                    statuses.insert(*n, Status::unresolvable(m.clone()).with_plugin("Extender"));
                }
                for (n, m) in &r.failed {
                    if !r.failed_unresolvable.contains_key(n) {
                        statuses
                            .insert(*n, Status::unschedulable(m.clone()).with_plugin("Extender"));
                    }
                }
                nodes = r.feasible;
            }
            Err(err) if e.is_ignorable() => {
                let _ = err;
                continue;
            }
            Err(err) => return Err(format!("extender {}: {err}", e.name())),
        }
    }
    Ok(nodes)
}

/// Upstream `prioritizeNodes` extender part: score × weight ×
/// (MaxNodeScore / MaxExtenderPriority); errors are ignored.
pub fn run_prioritizers(
    exts: &mut [Box<dyn Extender>],
    pod: &Pod,
    nodes: &[NodeId],
    view: &ClusterView,
) -> BTreeMap<NodeId, Vec<(String, i64)>> {
    let mut out: BTreeMap<NodeId, Vec<(String, i64)>> = BTreeMap::new();
    for e in exts.iter_mut() {
        if !e.is_prioritizer() || !e.is_interested(pod) {
            continue;
        }
        let w = e.weight();
        if let Ok(list) = e.prioritize(pod, nodes, view) {
            for (n, s) in list {
                out.entry(n).or_default().push((
                    e.name().to_string(),
                    s * w * (MAX_NODE_SCORE / MAX_EXTENDER_PRIORITY),
                ));
            }
        }
    }
    out
}

/// The first interested binder extender binds the pod (upstream
/// `extendersBinding`); `None` when no extender binds.
pub fn run_binders(
    exts: &mut [Box<dyn Extender>],
    pod: &Pod,
    node: NodeId,
    view: &ClusterView,
) -> Option<Result<(), String>> {
    for e in exts.iter_mut() {
        if !e.is_binder() || !e.is_interested(pod) {
            continue;
        }
        match e.bind(pod, node, view) {
            Err(_) if e.is_ignorable() => continue,
            r => return Some(r),
        }
    }
    None
}
