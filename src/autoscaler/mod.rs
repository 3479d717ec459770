//! Autoscaling: the HorizontalPodAutoscaler algorithm as upstream computes
//! it (`hpa`), pluggable horizontal autoscaling policies (`policy`, with a
//! predictive one in `predictive`), the metrics-server model that feeds
//! them (`metrics`), and the cluster autoscaler's pure parts (`cluster`).

pub mod cluster;
pub mod hpa;
pub mod metrics;
pub mod object;
pub mod policy;
pub mod predictive;
pub mod provisioner;
pub mod simulator;
