//! Explanations of scheduling decisions (`kubesim explain`, `run --explain`):
//! each node's verdict, each Score plugin's raw, normalized and weighted
//! score, and the chosen node. The JSON form is a stable schema
//! (docs/explain.md).

use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// `namespace/name`.
    pub pod: String,
    pub at_us: u64,
    pub attempt: u32,
    pub profile: String,
    /// Nodes in the order they were evaluated.
    pub nodes: Vec<NodeVerdict>,
    pub nodes_evaluated: u32,
    pub feasible_nodes: u32,
    /// The chosen node, if any.
    pub chosen: Option<String>,
    /// The unschedulable message, if no node was chosen.
    pub message: Option<String>,
    /// Set when PreFilter rejected the pod before any node was tried.
    pub prefilter: Option<PluginVerdict>,
    /// Preemption: the nominated node and the victims.
    pub nominated: Option<String>,
    pub victims: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NodeVerdict {
    pub node: String,
    pub feasible: bool,
    /// The Filter plugin that rejected the node.
    pub rejected_by: Option<PluginVerdict>,
    pub scores: Vec<PluginScore>,
    /// Sum of weighted scores (feasible nodes only).
    pub total: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PluginVerdict {
    pub plugin: String,
    pub code: String,
    pub reasons: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PluginScore {
    pub plugin: String,
    pub raw: i64,
    pub normalized: i64,
    pub weight: i64,
    pub weighted: i64,
}
