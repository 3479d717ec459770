//! The YAML forms of the objects kubesim reads: lean serde structs with
//! upstream's field names (camelCase). Only fields kubesim uses are declared;
//! every other field in a file is reported as a warning by the loader.
//! Values stay as written (quantities as text) so that conversion can report
//! every problem with its path.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Visitor};
use serde::Deserialize;

/// A scalar written as a string or a number (`cpu: 1`, `cpu: "500m"`,
/// `cpu: 0.5`), kept as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

pub type ResourceMap = BTreeMap<String, Scalar>;

#[derive(Deserialize, Debug, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct TypeMeta {
    pub api_version: Option<String>,
    pub kind: Option<String>,
}

#[derive(Deserialize, Debug, Default, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMetaM {
    pub name: Option<String>,
    pub generate_name: Option<String>,
    pub namespace: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub owner_references: Vec<OwnerReferenceM>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReferenceM {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub uid: String,
    pub controller: Option<bool>,
    pub block_owner_deletion: Option<bool>,
}

// ---------------- Pod ----------------

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct PodM {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    #[serde(default)]
    pub metadata: ObjectMetaM,
    pub spec: PodSpecM,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodSpecM {
    #[serde(default)]
    pub containers: Vec<ContainerM>,
    #[serde(default)]
    pub init_containers: Vec<ContainerM>,
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    pub node_name: Option<String>,
    pub affinity: Option<AffinityM>,
    #[serde(default)]
    pub topology_spread_constraints: Vec<TopologySpreadConstraintM>,
    #[serde(default)]
    pub tolerations: Vec<TolerationM>,
    pub priority: Option<i32>,
    pub priority_class_name: Option<String>,
    pub scheduler_name: Option<String>,
    pub restart_policy: Option<String>,
    pub termination_grace_period_seconds: Option<i64>,
    #[serde(default)]
    pub overhead: ResourceMap,
    #[serde(default)]
    pub scheduling_gates: Vec<SchedulingGateM>,
}

/// One entry of `spec.schedulingGates`.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct SchedulingGateM {
    pub name: Option<String>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ContainerM {
    pub name: Option<String>,
    pub image: Option<String>,
    pub image_pull_policy: Option<String>,
    #[serde(default)]
    pub resources: ResourcesM,
    #[serde(default)]
    pub ports: Vec<ContainerPortM>,
    pub restart_policy: Option<String>,
    pub readiness_probe: Option<ProbeM>,
    pub liveness_probe: Option<ProbeM>,
    #[serde(default)]
    pub env: Vec<EnvVarM>,
}

/// One entry of a container's `env`.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct EnvVarM {
    pub name: Option<String>,
    pub value: Option<String>,
    pub value_from: Option<EnvVarSourceM>,
}

/// `env[].valueFrom`: `fieldRef` is resolved; the other sources are
/// accepted with a warning (kubesim has no ConfigMaps, Secrets or
/// resource-field values: the variable is empty).
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct EnvVarSourceM {
    pub field_ref: Option<FieldRefM>,
    pub resource_field_ref: Option<serde::de::IgnoredAny>,
    pub config_map_key_ref: Option<serde::de::IgnoredAny>,
    pub secret_key_ref: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct FieldRefM {
    pub api_version: Option<String>,
    pub field_path: Option<String>,
}

/// A container probe: the timing fields the kubelet's prober uses; the
/// handler (httpGet, tcpSocket, exec, grpc) is accepted and not run.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ProbeM {
    pub initial_delay_seconds: Option<i64>,
    pub period_seconds: Option<i64>,
    pub timeout_seconds: Option<i64>,
    pub success_threshold: Option<i64>,
    pub failure_threshold: Option<i64>,
    pub termination_grace_period_seconds: Option<i64>,
    pub http_get: Option<serde::de::IgnoredAny>,
    pub tcp_socket: Option<serde::de::IgnoredAny>,
    pub exec: Option<serde::de::IgnoredAny>,
    pub grpc: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResourcesM {
    #[serde(default)]
    pub requests: ResourceMap,
    #[serde(default)]
    pub limits: ResourceMap,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPortM {
    pub container_port: i32,
    pub host_port: Option<i32>,
    pub protocol: Option<String>,
    #[serde(rename = "hostIP")]
    pub host_ip: Option<String>,
    pub name: Option<String>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct AffinityM {
    pub node_affinity: Option<NodeAffinityM>,
    pub pod_affinity: Option<PodAffinityM>,
    pub pod_anti_affinity: Option<PodAffinityM>,
}

#[derive(Deserialize, Debug, Clone, Default)]
pub struct PodAffinityM {
    #[serde(rename = "requiredDuringSchedulingIgnoredDuringExecution", default)]
    pub required: Vec<PodAffinityTermM>,
    #[serde(rename = "preferredDuringSchedulingIgnoredDuringExecution", default)]
    pub preferred: Vec<WeightedPodAffinityTermM>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodAffinityTermM {
    pub label_selector: Option<crate::model::LabelSelector>,
    #[serde(default)]
    pub namespaces: Vec<String>,
    pub namespace_selector: Option<crate::model::LabelSelector>,
    pub topology_key: Option<String>,
    #[serde(default)]
    pub match_label_keys: Vec<String>,
    #[serde(default)]
    pub mismatch_label_keys: Vec<String>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct WeightedPodAffinityTermM {
    pub weight: i32,
    pub pod_affinity_term: PodAffinityTermM,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct TopologySpreadConstraintM {
    pub max_skew: Option<i32>,
    pub topology_key: Option<String>,
    pub when_unsatisfiable: Option<String>,
    pub label_selector: Option<crate::model::LabelSelector>,
    pub min_domains: Option<i32>,
    pub node_affinity_policy: Option<String>,
    pub node_taints_policy: Option<String>,
    #[serde(default)]
    pub match_label_keys: Vec<String>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ContainerImageM {
    #[serde(default)]
    pub names: Vec<String>,
    pub size_bytes: Option<i64>,
}

#[derive(Deserialize, Debug, Clone, Default)]
pub struct NodeAffinityM {
    #[serde(rename = "requiredDuringSchedulingIgnoredDuringExecution")]
    pub required: Option<NodeSelectorM>,
    #[serde(rename = "preferredDuringSchedulingIgnoredDuringExecution", default)]
    pub preferred: Vec<PreferredTermM>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct NodeSelectorM {
    #[serde(default)]
    pub node_selector_terms: Vec<NodeSelectorTermM>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct NodeSelectorTermM {
    #[serde(default)]
    pub match_expressions: Vec<NodeSelectorRequirementM>,
    #[serde(default)]
    pub match_fields: Vec<NodeSelectorRequirementM>,
}

#[derive(Deserialize, Debug, Clone)]
pub struct NodeSelectorRequirementM {
    pub key: String,
    pub operator: String,
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Deserialize, Debug, Clone)]
pub struct PreferredTermM {
    pub weight: i32,
    pub preference: NodeSelectorTermM,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct TolerationM {
    pub key: Option<String>,
    pub operator: Option<String>,
    pub value: Option<String>,
    pub effect: Option<String>,
    pub toleration_seconds: Option<i64>,
}

// ---------------- Workloads (apps/v1, policy/v1) ----------------

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodTemplateM {
    #[serde(default)]
    pub metadata: ObjectMetaM,
    pub spec: Option<PodSpecM>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaSetM {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    #[serde(default)]
    pub metadata: ObjectMetaM,
    #[serde(default)]
    pub spec: ReplicaSetSpecM,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaSetSpecM {
    pub replicas: Option<i32>,
    pub selector: Option<crate::model::LabelSelector>,
    pub min_ready_seconds: Option<i32>,
    pub template: Option<PodTemplateM>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentM {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    #[serde(default)]
    pub metadata: ObjectMetaM,
    #[serde(default)]
    pub spec: DeploymentSpecM,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSpecM {
    pub replicas: Option<i32>,
    pub selector: Option<crate::model::LabelSelector>,
    pub template: Option<PodTemplateM>,
    pub strategy: Option<DeploymentStrategyM>,
    pub min_ready_seconds: Option<i32>,
    pub revision_history_limit: Option<i32>,
    pub paused: Option<bool>,
    pub progress_deadline_seconds: Option<i32>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentStrategyM {
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub rolling_update: Option<RollingUpdateM>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct RollingUpdateM {
    pub max_surge: Option<Scalar>,
    pub max_unavailable: Option<Scalar>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct PodDisruptionBudgetM {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    #[serde(default)]
    pub metadata: ObjectMetaM,
    #[serde(default)]
    pub spec: PdbSpecM,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct PdbSpecM {
    pub min_available: Option<Scalar>,
    pub max_unavailable: Option<Scalar>,
    pub selector: Option<crate::model::LabelSelector>,
    pub unhealthy_pod_eviction_policy: Option<String>,
}

// ---------------- Node ----------------

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct NodeM {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    #[serde(default)]
    pub metadata: ObjectMetaM,
    #[serde(default)]
    pub spec: NodeSpecM,
    #[serde(default)]
    pub status: NodeStatusM,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct NodeSpecM {
    #[serde(default)]
    pub taints: Vec<TaintM>,
    #[serde(default)]
    pub unschedulable: bool,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatusM {
    #[serde(default)]
    pub capacity: ResourceMap,
    #[serde(default)]
    pub allocatable: ResourceMap,
    #[serde(default)]
    pub images: Vec<ContainerImageM>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct TaintM {
    pub key: Option<String>,
    pub value: Option<String>,
    pub effect: Option<String>,
}

// ---------------- Namespace, PriorityClass ----------------

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceM {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    #[serde(default)]
    pub metadata: ObjectMetaM,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct PriorityClassM {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    #[serde(default)]
    pub metadata: ObjectMetaM,
    pub value: i32,
    #[serde(default)]
    pub global_default: bool,
    pub preemption_policy: Option<String>,
    pub description: Option<String>,
}

// ---------------- kubesim.dev/v1alpha1 Scenario ----------------

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioM {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    #[serde(default)]
    pub metadata: ObjectMetaM,
    #[serde(default)]
    pub spec: ScenarioSpecM,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioSpecM {
    pub seed: Option<u64>,
    pub duration: Option<Scalar>,
    pub sample_interval: Option<Scalar>,
    #[serde(default)]
    pub defaults: PodDefaultsM,
    /// Kubelet and runtime settings of the node model (docs/nodes.md).
    #[serde(default)]
    pub kubelet: KubeletM,
    #[serde(default)]
    pub cluster: ClusterM,
    #[serde(default)]
    pub scheduler: SchedulerM,
    #[serde(default)]
    pub timeline: Vec<TimelineEntryM>,
    #[serde(default)]
    pub traces: Vec<TraceRefM>,
    #[serde(default)]
    pub controllers: ControllersM,
    /// Wall-clock time of simulated time zero (RFC 3339), for CronJobs.
    pub start_time: Option<String>,
    /// Cluster autoscaler flags (node groups are pools with `autoscaling`).
    pub cluster_autoscaler: Option<ClusterAutoscalerM>,
    /// Service traffic (docs/traffic.md).
    #[serde(default)]
    pub traffic: Vec<TrafficM>,
}

/// One `spec.traffic` entry: the traffic offered to a Service.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct TrafficM {
    /// `name` (namespace `default`) or `namespace/name`.
    pub service: Option<String>,
    pub load: Option<Scalar>,
    pub arrivals: Option<Scalar>,
    pub work: Option<Scalar>,
    pub timeout: Option<Scalar>,
    pub concurrency: Option<Scalar>,
    pub policy: Option<Scalar>,
    pub slo_latency: Option<Scalar>,
}

/// Workload controller settings.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ControllersM {
    /// Delay between a change and the sync it triggers (default 10ms).
    pub reconcile_delay: Option<Scalar>,
}

/// `spec.kubelet`: the node model's kubelet and runtime settings.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct KubeletM {
    /// `v1` or `v2` (default).
    pub cgroup_version: Option<String>,
    /// `quadratic` (runc ≥ 1.3.2, default) or `linear`.
    pub cpu_weight_formula: Option<String>,
    /// Enforce CPU limits with CFS quota (default true).
    #[serde(rename = "cpuCFSQuota")]
    pub cpu_cfs_quota: Option<bool>,
    /// Hard eviction threshold for memory.available (default 100Mi).
    pub eviction_hard_memory_available: Option<Scalar>,
}

/// A trace replayed by the scenario (`spec.traces[]`, docs/traces.md).
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct TraceRefM {
    pub format: Option<String>,
    pub path: Option<String>,
    #[serde(default)]
    pub paths: Vec<String>,
    pub load_factor: Option<Scalar>,
    pub time_compression: Option<Scalar>,
    pub sample: Option<TraceSampleM>,
    /// A Philly-style runtime file: durations for pods without one.
    pub durations: Option<String>,
    pub with_times: Option<bool>,
    pub skip_bad_rows: Option<bool>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct TraceSampleM {
    pub fraction: Option<Scalar>,
    pub seed: Option<u64>,
}

/// Defaults of the simulation-only pod behaviour (overridden per pod by
/// `kubesim.dev/...` annotations).
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct PodDefaultsM {
    pub startup_time: Option<Scalar>,
    pub run_time: Option<Scalar>,
    pub exit_code: Option<i32>,
    pub shutdown_time: Option<Scalar>,
    /// Default CPU usage model of every app container (node model).
    pub cpu_usage: Option<String>,
    /// Default memory usage model of every app container (node model).
    pub memory_usage: Option<String>,
    /// Default size of an image whose size is not given (image pulls).
    pub image_size: Option<Scalar>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ClusterM {
    #[serde(default)]
    pub node_pools: Vec<NodePoolM>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct NodePoolM {
    pub name: Option<String>,
    pub count: Option<u32>,
    #[serde(default)]
    pub capacity: ResourceMap,
    #[serde(default)]
    pub allocatable: ResourceMap,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub taints: Vec<TaintM>,
    #[serde(default)]
    pub zones: Vec<String>,
    pub region: Option<String>,
    pub instance_type: Option<String>,
    /// Images already present on the pool's nodes.
    #[serde(default)]
    pub images: Vec<ContainerImageM>,
    /// GPUs of each node (GPU sharing, see docs/policies.md).
    pub gpus: Option<PoolGpusM>,
    /// Image pull bandwidth of each node, bytes per second (`50Mi`):
    /// turns on the image pull model (docs/nodes.md).
    pub image_pull_bandwidth: Option<Scalar>,
    /// Image filesystem size for image garbage collection (default: the
    /// node's ephemeral-storage capacity).
    pub image_fs_capacity: Option<Scalar>,
    /// Makes the pool a cluster-autoscaler node group (docs/autoscaling.md).
    pub autoscaling: Option<PoolAutoscalingM>,
}

/// A node pool's cluster-autoscaler settings.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct PoolAutoscalingM {
    pub min_size: Option<u32>,
    pub max_size: Option<u32>,
    pub provisioning_delay: Option<Scalar>,
    /// Price per node-hour (a quantity, e.g. `0.25`).
    pub price_per_hour: Option<Scalar>,
    pub priority: Option<i32>,
}

/// The cluster autoscaler's flags.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ClusterAutoscalerM {
    pub expander: Option<String>,
    pub scan_interval: Option<Scalar>,
    pub scale_down_unneeded_time: Option<Scalar>,
    pub scale_down_delay_after_add: Option<Scalar>,
    /// A quantity between 0 and 1 (default 0.5).
    pub scale_down_utilization_threshold: Option<Scalar>,
    /// `cluster-autoscaler` or `karpenter`.
    pub policy: Option<String>,
    /// Karpenter's `consolidateAfter`.
    pub consolidate_after: Option<Scalar>,
    /// Karpenter's disruption budget `nodes`, as a percentage (`"10%"`).
    pub disruption_budget: Option<String>,
}

/// A node pool's GPUs: `count` GPUs of one `model`, 1000 milli each.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct PoolGpusM {
    pub count: Option<Scalar>,
    pub model: Option<String>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct SchedulerM {
    /// The scheduling policy for pods whose schedulerName is
    /// `default-scheduler` (or unset).
    pub policy: Option<String>,
    /// Simulated time one scheduling cycle takes (before per-node costs).
    pub cycle_time: Option<Scalar>,
    /// Simulated time per node the filters run on.
    pub per_node_time: Option<Scalar>,
    /// Simulated time from the scheduling decision to the binding.
    pub bind_time: Option<Scalar>,
}

/// One timeline entry: `at` plus exactly one action.
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntryM {
    pub at: Option<Scalar>,
    /// Apply a manifest; decoded separately by the loader from the tree.
    pub apply: Option<Embedded>,
    pub delete: Option<ObjectRefM>,
    pub cordon: Option<String>,
    pub uncordon: Option<String>,
    pub drain: Option<String>,
    pub fail_node: Option<String>,
    pub recover_node: Option<String>,
    pub remove_node: Option<String>,
    pub add_nodes: Option<AddNodesM>,
    pub scale: Option<ScaleM>,
    pub set_image: Option<SetImageM>,
    pub rollback: Option<RollbackM>,
    pub pause: Option<ObjectRefM>,
    pub resume: Option<ObjectRefM>,
    pub remove_scheduling_gates: Option<RemoveGatesM>,
}

/// `removeSchedulingGates`: the pods (by `name` or label `selector` in
/// `namespace`) and the `gates` to remove (all if omitted).
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct RemoveGatesM {
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub selector: Option<crate::model::LabelSelector>,
    pub gates: Option<Vec<String>>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRefM {
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// For workload objects: `Background` (default), `Foreground`, `Orphan`.
    pub propagation_policy: Option<String>,
}

/// `rollback`: `kubectl rollout undo` (`toRevision` 0 or unset: the
/// previous revision).
#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct RollbackM {
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub to_revision: Option<i64>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct AddNodesM {
    pub pool: Option<String>,
    pub count: Option<u32>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct ScaleM {
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub replicas: Option<i32>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
pub struct SetImageM {
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub container: Option<String>,
    pub image: Option<String>,
}

/// A placeholder for a sub-document the loader decodes on its own (the
/// manifest inside a timeline `apply`). It consumes the value without
/// reporting its fields as unknown.
#[derive(Debug, Clone, Copy, Default)]
pub struct Embedded;

impl<'de> Deserialize<'de> for Embedded {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Embedded;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a manifest")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Embedded, E> {
                Ok(Embedded)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Embedded, E> {
                Ok(Embedded)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Embedded, E> {
                Ok(Embedded)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Embedded, E> {
                Ok(Embedded)
            }
            fn visit_str<E>(self, _: &str) -> Result<Embedded, E> {
                Ok(Embedded)
            }
            fn visit_unit<E>(self) -> Result<Embedded, E> {
                Ok(Embedded)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Embedded, A::Error> {
                while a.next_element::<Embedded>()?.is_some() {}
                Ok(Embedded)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<Embedded, A::Error> {
                while a.next_key::<Embedded>()?.is_some() {
                    a.next_value::<Embedded>()?;
                }
                Ok(Embedded)
            }
        }
        d.deserialize_any(V)
    }
}
