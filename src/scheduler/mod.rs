//! Scheduling: the policy interface and the registry of policies by name.
//!
//! A policy sees the pod and a read-only view of the nodes, draws from its
//! own random stream, and returns a decision as data; the World applies it.
//! Today's `default` policy is a simple, correct filter + LeastAllocated
//! scorer; the kube-scheduler framework replaces it behind this same trait.
//!
//! Invariant: policies never mutate cluster state.

pub mod filter;
pub mod least_allocated;

use crate::engine::SimRng;
use crate::model::{Node, NodeId, Pod};

/// What a policy decided for one pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Bind the pod to this node.
    Bind(NodeId),
    /// No node fits; the message says why, in upstream's style
    /// (`0/3 nodes are available: 3 Insufficient cpu.`).
    Unschedulable(String),
}

/// A scheduling policy. Implement it in one file and register it in
/// [`new_policy`].
pub trait SchedulingPolicy {
    /// The name scenarios select it by.
    fn name(&self) -> &'static str;
    /// Chooses a node for `pod` among `nodes` (indexed by `NodeId`; nodes
    /// that were removed are in the slice with `present == false`).
    fn schedule(&mut self, pod: &Pod, nodes: &[Node], rng: &mut SimRng) -> Decision;
}

/// Every registered policy name.
pub fn policy_names() -> Vec<&'static str> {
    vec!["default"]
}

/// Builds the policy registered under `name`.
pub fn new_policy(name: &str) -> Option<Box<dyn SchedulingPolicy>> {
    match name {
        "default" => Some(Box::new(least_allocated::LeastAllocated)),
        _ => None,
    }
}
