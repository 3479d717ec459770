//! The Kubernetes object model as plain data: quantities, labels and
//! selectors, object metadata, pods, nodes, taints and tolerations, priority
//! classes. Values are already validated and parsed (CPU in millicores,
//! memory in bytes); the YAML forms live in `scenario`.
//!
//! Invariant: no I/O, no YAML, no simulation logic beyond upstream's pure
//! helper functions (QoS class, effective requests, taint toleration, node
//! affinity matching).

pub mod affinity;
pub mod batch;
pub mod cron;
pub mod gpu;
pub mod labels;
pub mod meta;
pub mod node;
pub mod pod;
pub mod priority;
pub mod quantity;
pub mod resources;
pub mod selector;
pub mod service;
pub mod taints;
pub mod usage;
pub mod workload;

pub use labels::Labels;
pub use meta::{ObjectMeta, OwnerReference};
pub use node::{Node, NodeId};
pub use pod::{Pod, PodId, PodPhase, QosClass};
pub use quantity::Quantity;
pub use resources::Resources;
pub use selector::{LabelSelector, Selector};
pub use taints::{Taint, TaintEffect, Toleration, TolerationOperator};
