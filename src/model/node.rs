//! Nodes: capacity, allocatable, labels, taints, conditions, and the
//! scheduler-facing accounting of what is bound to them.

use std::collections::BTreeSet;

use super::meta::ObjectMeta;
use super::pod::{Pod, PodId};
use super::resources::Resources;
use super::taints::Taint;

/// Index of a node in the world's node table; stable for the whole run
/// (removed nodes keep their slot, marked removed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";
pub const LABEL_REGION: &str = "topology.kubernetes.io/region";
pub const LABEL_INSTANCE_TYPE: &str = "node.kubernetes.io/instance-type";
pub const LABEL_OS: &str = "kubernetes.io/os";
pub const LABEL_ARCH: &str = "kubernetes.io/arch";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

impl ConditionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeConditions {
    pub ready: ConditionStatus,
    pub memory_pressure: ConditionStatus,
    pub disk_pressure: ConditionStatus,
    pub pid_pressure: ConditionStatus,
}

impl Default for NodeConditions {
    fn default() -> Self {
        NodeConditions {
            ready: ConditionStatus::True,
            memory_pressure: ConditionStatus::False,
            disk_pressure: ConditionStatus::False,
            pid_pressure: ConditionStatus::False,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub meta: ObjectMeta,
    pub capacity: Resources,
    /// What pods may request; includes `pods` (max pod count).
    pub allocatable: Resources,
    pub taints: Vec<Taint>,
    pub unschedulable: bool,
    pub conditions: NodeConditions,
    /// Container images present on the node: normalized name → size in bytes.
    pub images: std::collections::BTreeMap<String, i64>,
    /// The node pool it came from, if any.
    pub pool: Option<String>,
    /// False once the node is removed from the cluster.
    pub present: bool,
    /// Whether the kubelet is heart-beating (false after a failure).
    pub kubelet_up: bool,

    // --- accounting kept by the World on bind/unbind ---
    /// Sum of the effective requests of the pods bound here (non-terminal).
    pub requested: Resources,
    /// (cpu_m, memory) of those pods with the scoring defaults for missing
    /// requests (upstream `NodeInfo.NonZeroRequested`).
    pub nonzero_requested: (i64, i64),
    /// Pods bound here and not yet terminal or removed.
    pub pods: BTreeSet<PodId>,
    /// Host ports in use: (protocol, hostIP, port).
    pub used_ports: BTreeSet<(String, String, i32)>,
    /// Pods here with any pod affinity or anti-affinity term
    /// (upstream `NodeInfo.PodsWithAffinity`).
    pub pods_with_affinity: BTreeSet<PodId>,
    /// Pods here with required anti-affinity terms
    /// (upstream `NodeInfo.PodsWithRequiredAntiAffinity`).
    pub pods_with_required_anti_affinity: BTreeSet<PodId>,
    /// Bumped on every change a scheduling plugin can see (pods, taints,
    /// labels, cordon, presence): keys the scheduler's per-node cache.
    pub generation: u64,
    /// The node's GPUs and their free milli ([`super::gpu`]); `None` for a
    /// node without GPUs. Kept by `add_pod`/`remove_pod` from the pods'
    /// `status.gpu_ids`.
    pub gpus: Option<super::gpu::NodeGpus>,
    /// Image pull bandwidth in bytes/s; `None`: image pulls are not
    /// modelled on this node (start-up time only).
    pub image_pull_bandwidth: Option<i64>,
    /// Image filesystem size for image GC (`None`: ephemeral-storage
    /// capacity, or no GC without it).
    pub image_fs_capacity: Option<i64>,
}

impl Node {
    pub fn new(meta: ObjectMeta, capacity: Resources, allocatable: Resources) -> Node {
        Node {
            meta,
            capacity,
            allocatable,
            taints: Vec::new(),
            unschedulable: false,
            conditions: NodeConditions::default(),
            images: Default::default(),
            pool: None,
            present: true,
            kubelet_up: true,
            requested: Resources::default(),
            nonzero_requested: (0, 0),
            pods: BTreeSet::new(),
            used_ports: BTreeSet::new(),
            pods_with_affinity: BTreeSet::new(),
            pods_with_required_anti_affinity: BTreeSet::new(),
            generation: 0,
            gpus: None,
            image_pull_bandwidth: None,
            image_fs_capacity: None,
        }
    }

    /// Records that the node changed (see [`Node::generation`]).
    pub fn touch(&mut self) {
        self.generation = self.generation.wrapping_add(1);
    }

    /// Accounts `pod` (with id `id`) on this node: requests, non-zero
    /// requests, host ports, the affinity indexes and the milli of its
    /// GPUs (`status.gpu_ids`). Idempotent.
    pub fn add_pod(&mut self, id: PodId, pod: &Pod) {
        if !self.pods.insert(id) {
            return;
        }
        self.touch();
        self.requested.add(&pod.requests);
        self.nonzero_requested.0 = self
            .nonzero_requested
            .0
            .saturating_add(pod.nonzero_requests.0);
        self.nonzero_requested.1 = self
            .nonzero_requested
            .1
            .saturating_add(pod.nonzero_requests.1);
        for key in host_ports(pod) {
            self.used_ports.insert(key);
        }
        let aff = pod
            .spec
            .pod_affinity
            .as_ref()
            .is_some_and(|a| !a.is_empty());
        let anti = pod.spec.pod_anti_affinity.as_ref();
        if aff || anti.is_some_and(|a| !a.is_empty()) {
            self.pods_with_affinity.insert(id);
        }
        if anti.is_some_and(|a| !a.required.is_empty()) {
            self.pods_with_required_anti_affinity.insert(id);
        }
        self.account_gpus(pod, -1);
    }

    /// Adds `sign × gpu_milli` to the free milli of each of the pod's
    /// `status.gpu_ids` (indexes the node does not have are ignored).
    fn account_gpus(&mut self, pod: &Pod, sign: i64) {
        let (Some(req), Some(g)) = (&pod.gpu, self.gpus.as_mut()) else {
            return;
        };
        for &i in &pod.status.gpu_ids {
            if let Some(f) = g.free_milli.get_mut(i as usize) {
                *f = f.saturating_add(sign.saturating_mul(req.gpu_milli));
            }
        }
    }

    /// Reverses [`Node::add_pod`]; false if the pod was not here.
    pub fn remove_pod(&mut self, id: PodId, pod: &Pod) -> bool {
        if !self.pods.remove(&id) {
            return false;
        }
        self.touch();
        self.requested.sub(&pod.requests);
        self.nonzero_requested.0 = self
            .nonzero_requested
            .0
            .saturating_sub(pod.nonzero_requests.0);
        self.nonzero_requested.1 = self
            .nonzero_requested
            .1
            .saturating_sub(pod.nonzero_requests.1);
        for key in host_ports(pod) {
            self.used_ports.remove(&key);
        }
        self.pods_with_affinity.remove(&id);
        self.pods_with_required_anti_affinity.remove(&id);
        self.account_gpus(pod, 1);
        true
    }

    pub fn name(&self) -> &str {
        &self.meta.name
    }

    pub fn is_ready(&self) -> bool {
        self.present && self.conditions.ready == ConditionStatus::True
    }

    /// Free allocatable resources (may be negative only if the invariant broke).
    pub fn free(&self) -> Resources {
        let mut f = self.allocatable.clone();
        f.sub(&self.requested);
        f.pods = self.allocatable.pods - self.pods.len() as i64;
        f
    }
}

/// Upstream `normalizedImageName`: an image without a tag or digest means
/// `:latest`.
pub fn normalized_image_name(name: &str) -> std::borrow::Cow<'_, str> {
    let colon = name.rfind(':').map_or(-1, |i| i as i64);
    let slash = name.rfind('/').map_or(-1, |i| i as i64);
    if colon <= slash {
        std::borrow::Cow::Owned(format!("{name}:latest"))
    } else {
        std::borrow::Cow::Borrowed(name)
    }
}

/// The (protocol, hostIP, port) keys of a pod's host ports; an empty host
/// IP means the wildcard `0.0.0.0`. As upstream `GetHostPorts`: restartable
/// init containers (sidecars) first, then the containers.
pub fn host_ports(pod: &Pod) -> impl Iterator<Item = (String, String, i32)> + '_ {
    let sidecars = pod
        .spec
        .init_containers
        .iter()
        .filter(|c| c.restart_policy == Some(super::pod::RestartPolicy::Always));
    sidecars
        .chain(pod.spec.containers.iter())
        .flat_map(|c| c.ports.iter())
        .filter(|p| p.host_port > 0)
        .map(|p| {
            let ip = if p.host_ip.is_empty() {
                "0.0.0.0"
            } else {
                p.host_ip.as_str()
            };
            (p.protocol.clone(), ip.to_string(), p.host_port)
        })
}
