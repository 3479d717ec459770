//! Workload objects as plain data: ReplicaSets, Deployments and
//! PodDisruptionBudgets (apps/v1, policy/v1), their pod templates, the
//! `IntOrString` values of maxSurge / maxUnavailable / minAvailable and
//! upstream's scaling of them (apimachinery `intstr.GetScaledValueFromIntOrPercent`).
//! The controllers that act on them live in `crate::controllers`.

use super::meta::ObjectMeta;
use super::pod::Pod;
use super::selector::{LabelSelector, Selector};
use crate::engine::SimTime;

/// `intstr.IntOrString` as the workload APIs use it: an absolute number or
/// a percentage (`"25%"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntOrPercent {
    Int(i32),
    Percent(i32),
}

impl IntOrPercent {
    /// Parses `"25%"` or `"3"` (the string form; integers come as `Int`).
    pub fn parse(s: &str) -> Result<IntOrPercent, String> {
        if let Some(p) = s.strip_suffix('%') {
            p.parse::<i32>().map(IntOrPercent::Percent).map_err(|_| {
                format!("invalid value {s:?}: must be an integer or percentage (e.g. '5%')")
            })
        } else {
            s.parse::<i32>().map(IntOrPercent::Int).map_err(|_| {
                format!("invalid value {s:?}: must be an integer or percentage (e.g. '5%')")
            })
        }
    }

    /// Upstream `GetScaledValueFromIntOrPercent`: an integer as is; a
    /// percentage of `total`, rounded up or down (in integer arithmetic,
    /// which equals upstream's float `math.Ceil`/`math.Floor` for these
    /// ranges).
    pub fn scaled_value(self, total: i32, round_up: bool) -> i32 {
        match self {
            IntOrPercent::Int(v) => v,
            IntOrPercent::Percent(p) => {
                let num = i64::from(p) * i64::from(total);
                let v = if round_up {
                    num.div_euclid(100) + i64::from(num.rem_euclid(100) != 0)
                } else {
                    num.div_euclid(100)
                };
                v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
            }
        }
    }

    pub fn is_zero(self) -> bool {
        matches!(self, IntOrPercent::Int(0) | IntOrPercent::Percent(0))
    }
}

impl std::fmt::Display for IntOrPercent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IntOrPercent::Int(v) => write!(f, "{v}"),
            IntOrPercent::Percent(v) => write!(f, "{v}%"),
        }
    }
}

/// A condition as workload statuses carry it (`DeploymentCondition`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    pub reason: String,
    pub message: String,
    pub last_update: SimTime,
    pub last_transition: SimTime,
}

/// `apps/v1` ReplicaSet spec and status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaSet {
    /// `spec.replicas` (default 1).
    pub replicas: i32,
    pub selector: LabelSelector,
    /// The parsed selector (validated at load).
    pub parsed_selector: Selector,
    pub min_ready_seconds: i32,
    /// `spec.template` as a prototype pod (no name; labels, annotations,
    /// spec and the simulation behaviour).
    pub template: Pod,
    pub status: ReplicaSetStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicaSetStatus {
    pub replicas: i32,
    pub fully_labeled_replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    pub observed_generation: i64,
}

/// Deployment strategy (`spec.strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeploymentStrategy {
    Recreate,
    RollingUpdate {
        max_surge: IntOrPercent,
        max_unavailable: IntOrPercent,
    },
}

/// Upstream defaults (apps/v1 `SetDefaults_Deployment`).
pub const DEFAULT_MAX_SURGE: IntOrPercent = IntOrPercent::Percent(25);
pub const DEFAULT_MAX_UNAVAILABLE: IntOrPercent = IntOrPercent::Percent(25);
pub const DEFAULT_REVISION_HISTORY_LIMIT: i32 = 10;
pub const DEFAULT_PROGRESS_DEADLINE_SECONDS: i32 = 600;

/// `apps/v1` Deployment spec and status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    pub replicas: i32,
    pub selector: LabelSelector,
    pub parsed_selector: Selector,
    pub template: Pod,
    pub strategy: DeploymentStrategy,
    pub min_ready_seconds: i32,
    pub revision_history_limit: i32,
    pub paused: bool,
    pub progress_deadline_seconds: i32,
    /// Set by the `rollback` action (upstream's deprecated
    /// `spec.rollbackTo`; 0 means "the previous revision").
    pub rollback_to: Option<i64>,
    pub status: DeploymentStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeploymentStatus {
    pub observed_generation: i64,
    pub replicas: i32,
    pub updated_replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    pub unavailable_replicas: i32,
    pub conditions: Vec<Condition>,
    pub collision_count: Option<i32>,
}

/// `policy/v1` PodDisruptionBudget spec and status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodDisruptionBudget {
    pub min_available: Option<IntOrPercent>,
    pub max_unavailable: Option<IntOrPercent>,
    /// `None` selects nothing; `{}` everything (policy/v1).
    pub selector: Option<LabelSelector>,
    pub status: PdbStatus,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PdbStatus {
    pub observed_generation: i64,
    pub disruptions_allowed: i32,
    pub current_healthy: i32,
    pub desired_healthy: i32,
    pub expected_pods: i32,
    /// Pods evicted but not yet gone, with the eviction time (upstream
    /// `DisruptedPods`, dropped after 2 minutes).
    pub disrupted_pods: std::collections::BTreeMap<String, SimTime>,
}

/// Upstream `metav1.ObjectMeta.Generation` is not part of [`ObjectMeta`];
/// workloads keep it beside their meta.
pub fn bump_generation(generation: &mut i64) {
    *generation += 1;
}

/// The annotation a ReplicaSet carries with its Deployment revision.
pub const ANN_REVISION: &str = "deployment.kubernetes.io/revision";
/// Revisions a ReplicaSet had before (rolled back to), comma-separated.
pub const ANN_REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
pub const ANN_DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const ANN_MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
/// The label a Deployment adds to its ReplicaSets and their pods.
pub const LABEL_POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// Helper for tests and the loader: an empty metadata with a name.
pub fn meta(namespace: &str, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: name.to_string(),
        namespace: namespace.to_string(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Upstream intstr_test.go `TestGetScaledValueFromIntOrPercent` cases.
    #[test]
    fn scaled_values() {
        let cases = [
            (IntOrPercent::Int(123), 0, false, 123),
            (IntOrPercent::Percent(90), 100, false, 90),
            (IntOrPercent::Percent(90), 95, false, 85),
            (IntOrPercent::Percent(90), 95, true, 86),
            (IntOrPercent::Percent(25), 10, true, 3),
            (IntOrPercent::Percent(25), 10, false, 2),
            (IntOrPercent::Percent(0), 10, true, 0),
        ];
        for (v, total, up, want) in cases {
            assert_eq!(v.scaled_value(total, up), want, "{v} of {total} up={up}");
        }
        assert_eq!(IntOrPercent::parse("25%"), Ok(IntOrPercent::Percent(25)));
        assert_eq!(IntOrPercent::parse("3"), Ok(IntOrPercent::Int(3)));
        assert!(IntOrPercent::parse("x%").is_err());
    }
}
