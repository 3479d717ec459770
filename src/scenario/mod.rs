//! Scenario files: multi-document YAML holding real Kubernetes manifests
//! plus one `kubesim.dev/v1alpha1` `Scenario` document (seed, duration,
//! node pools, timeline). Loading validates everything and reports every
//! problem with file, line, column and field path.
//!
//! Invariant: the only module that knows YAML; it produces plain model
//! values and never touches simulation state.

mod batch;
mod convert;
pub mod diag;
mod hpa;
pub mod manifest;
mod schedconfig;
mod services;
pub mod set;
mod traces;
mod traffic;
mod workloads;
pub mod yaml;

use std::path::{Path, PathBuf};

pub use convert::is_dns_subdomain;
pub use convert::{
    add_default_toleration_seconds, default_node_labels, ANN_EXIT_CODE, ANN_RUN, ANN_SHUTDOWN,
    ANN_STARTUP, BUILTIN_NAMESPACES,
};
pub use diag::{Diagnostic, Diagnostics, Severity};

use crate::engine::{Duration, SimTime};
use crate::model::node::Node;
use crate::model::pod::{Pod, PodBehavior};
use crate::model::priority::PriorityClass;
use crate::model::resources::Resources;
use crate::model::taints::Taint;
use crate::model::Labels;

/// The API group/version of kubesim's own documents.
pub const API_VERSION: &str = "kubesim.dev/v1alpha1";

/// A validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub source: PathBuf,
    pub seed: u64,
    /// Run length; `None` runs until no event is left.
    pub duration: Option<Duration>,
    pub sample_interval: Duration,
    /// Pod behaviour used where a pod has no `kubesim.dev/...` annotation.
    pub pod_defaults: PodBehavior,
    pub scheduler: SchedulerSettings,
    pub node_pools: Vec<NodePool>,
    /// Objects applied at time zero, in file order.
    pub objects: Vec<Object>,
    /// Actions at simulated times, sorted by time (stable for equal times).
    pub timeline: Vec<TimedAction>,
    /// Warnings found while loading (unused fields, …).
    pub warnings: Diagnostics,
    /// Delay between a change and the controller sync it triggers
    /// (`spec.controllers.reconcileDelay`).
    pub reconcile_delay: Duration,
    /// Wall-clock time of simulated time zero, µs since the Unix epoch
    /// (`spec.startTime`, default [`DEFAULT_START_TIME_US`]).
    pub start_time_us: i64,
    /// The node model's kubelet and runtime settings (`spec.kubelet`).
    pub kubelet: KubeletSettings,
    /// Cluster autoscaler flags (used when a pool has `autoscaling`).
    pub cluster_autoscaler: ClusterAutoscalerSettings,
    /// Service traffic (`spec.traffic` and `kubesim.dev/traffic-*`
    /// annotations on time-zero Services; docs/traffic.md).
    pub traffic: Vec<ServiceTraffic>,
}

/// The traffic offered to one Service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceTraffic {
    pub namespace: String,
    pub name: String,
    pub spec: crate::traffic::TrafficSpec,
}

/// `spec.kubelet` (docs/nodes.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeletSettings {
    pub cgroups: crate::node::cgroup::CgroupSettings,
    /// Hard eviction threshold for memory.available, bytes.
    pub eviction_hard_memory: i64,
}

impl Default for KubeletSettings {
    fn default() -> Self {
        KubeletSettings {
            cgroups: Default::default(),
            eviction_hard_memory: crate::node::cgroup::DEFAULT_EVICTION_HARD_MEMORY,
        }
    }
}

/// Default `spec.startTime`: 2026-03-01T00:00:00Z.
pub const DEFAULT_START_TIME_US: i64 = 1_772_323_200_000_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchedulerSettings {
    /// `default` (kube-scheduler with the KubeSchedulerConfiguration) or a
    /// research policy name.
    pub policy: String,
    /// Simulated duration of one scheduling cycle, before per-node costs.
    pub cycle_time: Duration,
    /// Simulated cost per node the filters were run on.
    pub per_node_time: Duration,
    /// Simulated duration from decision to binding.
    pub bind_time: Duration,
    /// The KubeSchedulerConfiguration in the file, or upstream's defaults.
    pub config: crate::scheduler::config::SchedulerConfig,
}

/// Default cost model: a 1 ms cycle plus 1 µs per node filtered (about
/// 670 pods/s at 5,000 nodes, where upstream's 50%-of-nodes rule evaluates
/// 500), and 5 ms from decision to binding.
pub const DEFAULT_CYCLE_TIME: Duration = Duration::from_millis(1);
pub const DEFAULT_PER_NODE_TIME: Duration = Duration::from_micros(1);
pub const DEFAULT_BIND_TIME: Duration = Duration::from_millis(5);

impl Default for SchedulerSettings {
    fn default() -> Self {
        SchedulerSettings {
            policy: "default".to_string(),
            cycle_time: DEFAULT_CYCLE_TIME,
            per_node_time: DEFAULT_PER_NODE_TIME,
            bind_time: DEFAULT_BIND_TIME,
            config: Default::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodePool {
    pub name: String,
    pub count: u32,
    pub capacity: Resources,
    pub allocatable: Resources,
    pub labels: Labels,
    pub taints: Vec<Taint>,
    pub zones: Vec<String>,
    pub region: Option<String>,
    pub instance_type: Option<String>,
    /// Images present on every node of the pool: normalized name → bytes.
    pub images: std::collections::BTreeMap<String, i64>,
    /// GPUs of each node of the pool (GPU sharing): count and model.
    pub gpus: Option<(u32, String)>,
    /// Image pull bandwidth (bytes/s) and image filesystem size (bytes).
    pub image_pull_bandwidth: Option<i64>,
    pub image_fs_capacity: Option<i64>,
    /// Cluster-autoscaler node group settings, if the pool is one.
    pub autoscaling: Option<PoolAutoscaling>,
}

/// A node group's settings (docs/autoscaling.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolAutoscaling {
    pub min_size: u32,
    pub max_size: u32,
    pub provisioning_delay: Duration,
    /// Thousandths of a currency unit per node-hour.
    pub price_milli_per_hour: i64,
    pub priority: i32,
}

/// The cluster autoscaler's flags (`spec.clusterAutoscaler`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterAutoscalerSettings {
    pub expander: String,
    pub scan_interval: Duration,
    pub scale_down_unneeded_time: Duration,
    pub scale_down_delay_after_add: Duration,
    pub utilization_threshold_percent: i64,
    /// The node-provisioning policy: `cluster-autoscaler` (default) or
    /// `karpenter` (see `autoscaler::provisioner`).
    pub policy: String,
    /// Karpenter's `consolidateAfter` (default 0s).
    pub consolidate_after: Duration,
    /// Karpenter's disruption budget, percent of the nodes (default 10).
    pub disruption_budget_percent: u32,
}

impl Default for ClusterAutoscalerSettings {
    fn default() -> Self {
        ClusterAutoscalerSettings {
            expander: "random".to_string(),
            scan_interval: Duration::from_secs(10),
            scale_down_unneeded_time: Duration::from_secs(600),
            scale_down_delay_after_add: Duration::from_secs(600),
            utilization_threshold_percent: 50,
            policy: "cluster-autoscaler".to_string(),
            consolidate_after: Duration::ZERO,
            disruption_budget_percent: 10,
        }
    }
}

/// An object a scenario creates.
#[derive(Clone, Debug)]
pub enum Object {
    Namespace {
        name: String,
        labels: Labels,
    },
    PriorityClass(PriorityClass),
    Node(Box<Node>),
    Pod(Box<Pod>),
    /// A workload object (ReplicaSet, Deployment, PodDisruptionBudget, …).
    Workload(Box<crate::controllers::Workload>),
    /// An `autoscaling/v2` HorizontalPodAutoscaler.
    Hpa(Box<crate::autoscaler::object::HpaObject>),
}

impl Object {
    pub fn kind(&self) -> &'static str {
        match self {
            Object::Namespace { .. } => "Namespace",
            Object::PriorityClass(_) => "PriorityClass",
            Object::Node(_) => "Node",
            Object::Pod(_) => "Pod",
            Object::Workload(w) => w.kind().as_str(),
            Object::Hpa(_) => "HorizontalPodAutoscaler",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

#[derive(Clone, Debug)]
pub enum Action {
    Apply(Object),
    Delete(ObjectRef),
    Cordon(String),
    Uncordon(String),
    Drain(String),
    FailNode(String),
    RecoverNode(String),
    RemoveNode(String),
    AddNodes {
        pool: String,
        count: u32,
    },
    /// An action on a workload object (scale, setImage, rollback, …).
    Workload(WorkloadAction),
    /// `removeSchedulingGates`: remove scheduling gates from pods.
    RemoveSchedulingGates(GateRemoval),
}

/// The pods a `removeSchedulingGates` action selects and the gates it
/// removes.
#[derive(Clone, Debug)]
pub struct GateRemoval {
    pub namespace: String,
    pub target: GateTarget,
    /// The gates to remove; empty removes them all.
    pub gates: Vec<String>,
}

#[derive(Clone, Debug)]
pub enum GateTarget {
    Name(String),
    Selector(crate::model::Selector),
}

/// Timeline actions on workload objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkloadAction {
    /// `scale`: set `spec.replicas`.
    Scale {
        target: ObjectRef,
        replicas: i32,
    },
    /// `setImage`: change one container's image (a new template revision).
    SetImage {
        target: ObjectRef,
        container: String,
        image: String,
    },
    /// `rollback`: `kubectl rollout undo [--to-revision=N]` (0 = previous).
    Rollback {
        target: ObjectRef,
        to_revision: i64,
    },
    /// `pause` / `resume`: `kubectl rollout pause|resume`.
    Pause(ObjectRef),
    Resume(ObjectRef),
    /// `delete` of a workload object with a propagation policy.
    Delete {
        target: ObjectRef,
        propagation: crate::controllers::Propagation,
    },
}

impl WorkloadAction {
    pub fn name(&self) -> &'static str {
        match self {
            WorkloadAction::Scale { .. } => "scale",
            WorkloadAction::SetImage { .. } => "setImage",
            WorkloadAction::Rollback { .. } => "rollback",
            WorkloadAction::Pause(_) => "pause",
            WorkloadAction::Resume(_) => "resume",
            WorkloadAction::Delete { .. } => "delete",
        }
    }
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Apply(_) => "apply",
            Action::Delete(_) => "delete",
            Action::Cordon(_) => "cordon",
            Action::Uncordon(_) => "uncordon",
            Action::Drain(_) => "drain",
            Action::FailNode(_) => "failNode",
            Action::RecoverNode(_) => "recoverNode",
            Action::RemoveNode(_) => "removeNode",
            Action::AddNodes { .. } => "addNodes",
            Action::Workload(w) => w.name(),
            Action::RemoveSchedulingGates(_) => "removeSchedulingGates",
        }
    }
}

#[derive(Clone, Debug)]
pub struct TimedAction {
    pub at: SimTime,
    pub action: Action,
    /// `file:line` of the entry, for logs and errors.
    pub origin: String,
}

/// How strictly to load.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions {
    /// Turn warnings (unused fields) into errors.
    pub strict: bool,
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("failed to read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// Reads and validates a scenario file.
pub fn load_file(path: &Path, opts: LoadOptions) -> Result<Scenario, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let src = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u32
                + 1;
            return Err(LoadError::Invalid(Diagnostics(vec![Diagnostic {
                severity: Severity::Error,
                file: path.to_path_buf(),
                line,
                column: 1,
                path: String::new(),
                object: String::new(),
                message: "the file is not valid UTF-8".to_string(),
            }])));
        }
    };
    load_str(&src, path, opts)
}

/// Validates scenario text; `path` is used in diagnostics and for the
/// default scenario name.
pub fn load_str(src: &str, path: &Path, opts: LoadOptions) -> Result<Scenario, LoadError> {
    convert::load(src, path, opts).map_err(LoadError::Invalid)
}

/// Reads and validates a scenario file with `--set` overrides applied
/// (`set.rs`); errors name the override.
pub fn load_file_with(
    path: &Path,
    opts: LoadOptions,
    sets: &[set::SetOverride],
) -> Result<Scenario, LoadError> {
    let src = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    convert::load_with(&src, path, opts, sets).map_err(LoadError::Invalid)
}
