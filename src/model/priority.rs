//! PriorityClasses (scheduling.k8s.io/v1) and priority admission.

/// Upstream's built-in classes (pkg/apis/scheduling `SystemPriorityClasses`).
pub const SYSTEM_CLUSTER_CRITICAL: i32 = 2_000_000_000;
pub const SYSTEM_NODE_CRITICAL: i32 = 2_000_001_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriorityClass {
    pub name: String,
    pub value: i32,
    pub global_default: bool,
    /// `PreemptLowerPriority` (default) or `Never`.
    pub preempt_lower: bool,
}

/// The built-in classes every cluster has.
pub fn system_classes() -> Vec<PriorityClass> {
    vec![
        PriorityClass {
            name: "system-cluster-critical".into(),
            value: SYSTEM_CLUSTER_CRITICAL,
            global_default: false,
            preempt_lower: true,
        },
        PriorityClass {
            name: "system-node-critical".into(),
            value: SYSTEM_NODE_CRITICAL,
            global_default: false,
            preempt_lower: true,
        },
    ]
}
