//! NodeResourcesFit (PreFilter, Filter, PreScore, Score): the node must have
//! room for the pod's requests (pod count, cpu, memory, ephemeral storage,
//! extended and other scalar resources); nodes are scored by one of three
//! strategies over configurable, weighted resources: LeastAllocated (the
//! default), MostAllocated, RequestedToCapacityRatio.
//!
//! Follows kube-scheduler v1.35, pkg/scheduler/framework/plugins/noderesources:
//! `fit.go` (`computePodResourceRequest`, `fitsRequest`, `Filter`, `Score`),
//! `resource_allocation.go` (`resourceAllocationScorer`: `score`,
//! `calculateResourceAllocatableRequest`, `calculatePodResourceRequest`),
//! `least_allocated.go`, `most_allocated.go`, `requested_to_capacity_ratio.go`,
//! plugins/helper/`shape_score.go` (`BuildBrokenLinearFunction`),
//! apis/config/validation/`validation_pluginargs.go`
//! (`ValidateNodeResourcesFitArgs`, with `field.Error` / aggregate message
//! formats), and the helpers `v1helper.IsExtendedResourceName` and
//! `schedutil.IsScalarResourceName`.
//!
//! Arithmetic is upstream's int64 arithmetic; where Go would silently wrap
//! on overflow (only reachable with absurd quantities, e.g. > 92 PB of
//! memory × 100), the `wrapping_*` operations reproduce Go's two's-complement
//! result instead of panicking. RequestedToCapacityRatio's final
//! `math.Round(float64(nodeScore) / float64(weightSum))` is reproduced with
//! the same float64 operations (`f64::round` also rounds half away from zero).
//!
//! Status codes: Filter returns `Unschedulable` with one reason per
//! insufficient resource, in upstream's order (pods, cpu, memory,
//! ephemeral-storage, then scalar resources), and — as v1.35 does —
//! `UnschedulableAndUnresolvable` when any request exceeds the node's
//! allocatable outright (preemption cannot help there). "Too many pods" is
//! never unresolvable.
//!
//! Not modelled (upstream rows skipped in the tests below):
//! - pod-level resources (`spec.resources`, PodLevelResources),
//! - in-place resize (`UseStatusResources`), queueing hints,
//! - DRA-backed extended resources (DRAExtendedResource) and `SignPod`,
//! - disabling the SidecarContainers feature (GA and locked since v1.33).
//!
//! Deviations:
//! - Upstream walks the pod's scalar requests in Go map order (random), so
//!   with several insufficient extended resources its reason order varies
//!   from run to run; kubesim reports them sorted by name.
//! - kubesim's model cannot tell an explicit `0` request from a missing one
//!   (`Resources` uses 0 for unset), so a container that explicitly requests
//!   `cpu: 0` gets the scoring default (100m) here while upstream keeps 0
//!   (`NonMissingContainerRequests` only fills absent keys). The tests build
//!   such pods' non-zero requests the upstream way.
//! - [`Fit::new`] validates exactly as upstream validates *after* API
//!   defaulting (`SetDefaults_NodeResourcesFitArgs`: empty resources become
//!   cpu/memory, weight 0 becomes 1), so it rejects weight 0; whoever builds
//!   [`NodeResourcesFitArgs`] from a configuration must apply those
//!   defaults first. Label-name messages (ignored resources and groups) use
//!   [`is_qualified_name`]'s util/validation wording, as the rest of kubesim.

use std::collections::BTreeSet;

use crate::model::labels::{go_quote, is_qualified_name};
use crate::model::resources::{CPU, EPHEMERAL_STORAGE, MEMORY};
use crate::model::{Node, NodeId, Pod, Resources};
use crate::scheduler::config::{NodeResourcesFitArgs, ResourceSpec, ScoringStrategyType};
use crate::scheduler::framework::{
    ClusterView, Code, CycleState, Plugin, Point, PreFilterOutcome, Status, MAX_NODE_SCORE,
};

/// The plugin name.
pub const NAME: &str = "NodeResourcesFit";
/// Upstream `preFilterStateKey`.
pub const PRE_FILTER_STATE_KEY: &str = "PreFilterNodeResourcesFit";
/// Upstream `preScoreStateKey`.
pub const PRE_SCORE_STATE_KEY: &str = "PreScoreNodeResourcesFit";
/// Upstream `config.MaxCustomPriorityScore`: the top of a shape's score axis.
pub const MAX_CUSTOM_PRIORITY_SCORE: i64 = 10;
/// Upstream `maxUtilization` (requested_to_capacity_ratio.go).
pub const MAX_UTILIZATION: i64 = 100;

const DEFAULT_RESOURCE_REQUESTS_PREFIX: &str = "requests.";
const RESOURCE_DEFAULT_NAMESPACE_PREFIX: &str = "kubernetes.io/";
const RESOURCE_HUGE_PAGES_PREFIX: &str = "hugepages-";
const RESOURCE_ATTACHABLE_VOLUMES_PREFIX: &str = "attachable-volumes-";

// ---------------------------------------------------------------------------
// Resource-name helpers (pkg/apis/core/v1/helper, pkg/scheduler/util).
// ---------------------------------------------------------------------------

/// Upstream `v1helper.IsPrefixedNativeResource`: contains `kubernetes.io/`.
pub fn is_prefixed_native_resource(name: &str) -> bool {
    name.contains(RESOURCE_DEFAULT_NAMESPACE_PREFIX)
}

/// Upstream `v1helper.IsNativeResource`: no `/`, or in `kubernetes.io/`.
pub fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || is_prefixed_native_resource(name)
}

/// Upstream `v1helper.IsExtendedResourceName`: not native, not
/// `requests.`-prefixed, and `requests.<name>` is a qualified name.
pub fn is_extended_resource_name(name: &str) -> bool {
    if is_native_resource(name) || name.starts_with(DEFAULT_RESOURCE_REQUESTS_PREFIX) {
        return false;
    }
    is_qualified_name(&format!("{DEFAULT_RESOURCE_REQUESTS_PREFIX}{name}")).is_empty()
}

/// Upstream `schedutil.IsScalarResourceName`: extended, hugepages,
/// `kubernetes.io/`-prefixed or attachable-volumes resources.
pub fn is_scalar_resource_name(name: &str) -> bool {
    is_extended_resource_name(name)
        || name.starts_with(RESOURCE_HUGE_PAGES_PREFIX)
        || is_prefixed_native_resource(name)
        || name.starts_with(RESOURCE_ATTACHABLE_VOLUMES_PREFIX)
}

// ---------------------------------------------------------------------------
// Filter: fitsRequest.
// ---------------------------------------------------------------------------

/// Upstream `InsufficientResource`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsufficientResource {
    pub resource_name: String,
    pub reason: String,
    pub requested: i64,
    pub used: i64,
    pub capacity: i64,
    /// The request exceeds the node's allocatable: preemption cannot help.
    pub unresolvable: bool,
}

/// Upstream `computePodResourceRequest` (`framework.Resource.SetMaxResource`
/// of `resource.PodRequests`): the pod's effective requests, keeping only
/// the scalar resources upstream's `Resource` keeps.
pub fn compute_pod_resource_request(pod: &Pod) -> Resources {
    let mut r = pod.requests.clone();
    r.scalar.retain(|k, _| is_scalar_resource_name(k));
    r
}

/// Upstream `Fits`: what `pod` lacks on `node` (no ignored resources).
pub fn fits(pod: &Pod, node: &Node) -> Vec<InsufficientResource> {
    fits_request(
        &compute_pod_resource_request(pod),
        node,
        &BTreeSet::new(),
        &BTreeSet::new(),
    )
}

/// Upstream `fitsRequest`: every resource `pod_request` lacks on `node`, in
/// upstream's order (scalar resources sorted by name).
pub fn fits_request(
    pod_request: &Resources,
    node: &Node,
    ignored_extended_resources: &BTreeSet<String>,
    ignored_resource_groups: &BTreeSet<String>,
) -> Vec<InsufficientResource> {
    let mut out = Vec::new();
    let alloc = &node.allocatable;
    let used = &node.requested;

    let pods = node.pods.len() as i64;
    if pods.saturating_add(1) > alloc.pods {
        out.push(InsufficientResource {
            resource_name: "pods".into(),
            reason: "Too many pods".into(),
            requested: 1,
            used: pods,
            capacity: alloc.pods,
            unresolvable: false,
        });
    }

    if pod_request.cpu_m == 0
        && pod_request.memory == 0
        && pod_request.ephemeral_storage == 0
        && pod_request.scalar.is_empty()
    {
        return out;
    }

    let mut check = |name: &str, req: i64, a: i64, u: i64| {
        if req > 0 && req > a.wrapping_sub(u) {
            out.push(InsufficientResource {
                resource_name: name.to_string(),
                reason: format!("Insufficient {name}"),
                requested: req,
                used: u,
                capacity: a,
                unresolvable: req > a,
            });
        }
    };
    check(CPU, pod_request.cpu_m, alloc.cpu_m, used.cpu_m);
    check(MEMORY, pod_request.memory, alloc.memory, used.memory);
    check(
        EPHEMERAL_STORAGE,
        pod_request.ephemeral_storage,
        alloc.ephemeral_storage,
        used.ephemeral_storage,
    );

    for (name, &quant) in &pod_request.scalar {
        if quant == 0 {
            continue;
        }
        if is_extended_resource_name(name) {
            // The name has a '/' (it is not native), as API validation ensures.
            let prefix = if ignored_resource_groups.is_empty() {
                ""
            } else {
                name.split('/').next().unwrap_or("")
            };
            if ignored_extended_resources.contains(name.as_str())
                || ignored_resource_groups.contains(prefix)
            {
                continue;
            }
        }
        let a = alloc.scalar.get(name).copied().unwrap_or(0);
        let u = used.scalar.get(name).copied().unwrap_or(0);
        check(name, quant, a, u);
    }
    out
}

// ---------------------------------------------------------------------------
// Scoring: resourceAllocationScorer and the strategies.
// ---------------------------------------------------------------------------

/// Upstream `resourceAllocationScorer` without its strategy: turns a node
/// and the pod's per-resource requests into (requested, allocatable)
/// vectors. Shared with NodeResourcesBalancedAllocation.
#[derive(Clone, Debug)]
pub struct ResourceAllocationScorer {
    /// Use the actual requests for cpu and memory (BalancedAllocation)
    /// instead of the non-zero ones (NodeResourcesFit).
    pub use_requested: bool,
    pub resources: Vec<ResourceSpec>,
}

impl ResourceAllocationScorer {
    /// Upstream `calculatePodResourceRequest`: the pod's request of one
    /// resource (cpu in millicores), with the scoring defaults for
    /// containers without a cpu / memory request unless `use_requested`.
    pub fn pod_resource_request(&self, pod: &Pod, name: &str) -> i64 {
        match name {
            CPU if !self.use_requested => pod.nonzero_requests.0,
            MEMORY if !self.use_requested => pod.nonzero_requests.1,
            _ => pod.requests.get(name),
        }
    }

    /// Upstream `calculatePodResourceRequestList`, in `resources` order.
    pub fn pod_resource_request_list(&self, pod: &Pod) -> Vec<i64> {
        self.resources
            .iter()
            .map(|r| self.pod_resource_request(pod, &r.name))
            .collect()
    }

    /// Upstream `isBestEffortPod`: no request for any scored resource.
    pub fn is_best_effort(pod_requests: &[i64]) -> bool {
        pod_requests.iter().all(|r| *r == 0)
    }

    /// Upstream `calculateResourceAllocatableRequest`: (allocatable,
    /// requested including the pod) of one resource on `node`; (0, 0) for a
    /// scalar resource the pod does not request or the node does not have.
    pub fn allocatable_request(&self, node: &Node, name: &str, pod_request: i64) -> (i64, i64) {
        let (req_cpu, req_mem) = if self.use_requested {
            (node.requested.cpu_m, node.requested.memory)
        } else {
            node.nonzero_requested
        };
        if pod_request == 0 && is_scalar_resource_name(name) {
            return (0, 0);
        }
        match name {
            CPU => (node.allocatable.cpu_m, req_cpu.wrapping_add(pod_request)),
            MEMORY => (node.allocatable.memory, req_mem.wrapping_add(pod_request)),
            EPHEMERAL_STORAGE => (
                node.allocatable.ephemeral_storage,
                node.requested.ephemeral_storage.wrapping_add(pod_request),
            ),
            // Upstream's allocatable ScalarResources only hold scalar names.
            other if is_scalar_resource_name(other) => match node.allocatable.scalar.get(other) {
                Some(&a) => (
                    a,
                    node.requested
                        .scalar
                        .get(other)
                        .copied()
                        .unwrap_or(0)
                        .wrapping_add(pod_request),
                ),
                None => (0, 0),
            },
            _ => (0, 0),
        }
    }

    /// The first half of upstream `resourceAllocationScorer.score`: the
    /// (requested, allocatable) vectors in `resources` order, zero where the
    /// node lacks the resource; an Error status when no resources are set.
    pub fn requested_allocatable(
        &self,
        node: &Node,
        pod_requests: &[i64],
    ) -> Result<(Vec<i64>, Vec<i64>), Status> {
        if self.resources.is_empty() {
            return Err(Status::error("resources not found"));
        }
        let n = self.resources.len();
        let mut requested = vec![0i64; n];
        let mut allocatable = vec![0i64; n];
        for (i, r) in self.resources.iter().enumerate() {
            let pod_req = pod_requests.get(i).copied().unwrap_or(0);
            let (alloc, req) = self.allocatable_request(node, &r.name, pod_req);
            // Only fill the entry when the node has the resource.
            if alloc == 0 {
                continue;
            }
            allocatable[i] = alloc;
            requested[i] = req;
        }
        Ok((requested, allocatable))
    }
}

/// Up to this many scoring resources are handled without allocating.
pub const INLINE_RESOURCES: usize = 8;

/// (requested, allocatable) vectors on the stack for the common case of at
/// most [`INLINE_RESOURCES`] scoring resources.
pub enum ResBuf {
    Inline([i64; INLINE_RESOURCES], usize),
    Heap(Vec<i64>),
}

impl std::ops::Deref for ResBuf {
    type Target = [i64];
    fn deref(&self) -> &[i64] {
        match self {
            ResBuf::Inline(a, n) => &a[..*n],
            ResBuf::Heap(v) => v,
        }
    }
}

impl ResourceAllocationScorer {
    /// [`ResourceAllocationScorer::requested_allocatable`] without heap
    /// allocation when there are few resources (the hot path).
    pub fn requested_allocatable_buf(
        &self,
        node: &Node,
        pod_requests: &[i64],
    ) -> Result<(ResBuf, ResBuf), Status> {
        let n = self.resources.len();
        if n > INLINE_RESOURCES {
            let (r, a) = self.requested_allocatable(node, pod_requests)?;
            return Ok((ResBuf::Heap(r), ResBuf::Heap(a)));
        }
        if n == 0 {
            return Err(Status::error("resources not found"));
        }
        let mut requested = [0i64; INLINE_RESOURCES];
        let mut allocatable = [0i64; INLINE_RESOURCES];
        for (i, r) in self.resources.iter().enumerate() {
            let pod_req = pod_requests.get(i).copied().unwrap_or(0);
            let (alloc, req) = self.allocatable_request(node, &r.name, pod_req);
            if alloc == 0 {
                continue;
            }
            allocatable[i] = alloc;
            requested[i] = req;
        }
        Ok((ResBuf::Inline(requested, n), ResBuf::Inline(allocatable, n)))
    }
}

/// Upstream `leastRequestedScore`: the unused share of `capacity` on a
/// 0..=MaxNodeScore scale; 0 when over capacity or capacity is 0.
pub fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    capacity
        .wrapping_sub(requested)
        .wrapping_mul(MAX_NODE_SCORE)
        .wrapping_div(capacity)
}

/// Upstream `mostRequestedScore`: the used share of `capacity` on a
/// 0..=MaxNodeScore scale (requests above capacity count as capacity).
pub fn most_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    let requested = requested.min(capacity);
    requested
        .wrapping_mul(MAX_NODE_SCORE)
        .wrapping_div(capacity)
}

/// The weighted integer mean of per-resource scores over the resources the
/// node has (`leastResourceScorer` / `mostResourceScorer`).
fn weighted_mean(
    resources: &[ResourceSpec],
    requested: &[i64],
    allocatable: &[i64],
    per_resource: fn(i64, i64) -> i64,
) -> i64 {
    let (mut node_score, mut weight_sum) = (0i64, 0i64);
    for (i, (&req, &alloc)) in requested.iter().zip(allocatable).enumerate() {
        if alloc == 0 {
            continue;
        }
        let weight = resources.get(i).map_or(0, |r| r.weight);
        node_score = node_score.wrapping_add(per_resource(req, alloc).wrapping_mul(weight));
        weight_sum = weight_sum.wrapping_add(weight);
    }
    if weight_sum == 0 {
        return 0;
    }
    node_score.wrapping_div(weight_sum)
}

/// Upstream `leastResourceScorer`.
pub fn least_resource_scorer(
    resources: &[ResourceSpec],
    requested: &[i64],
    allocatable: &[i64],
) -> i64 {
    weighted_mean(resources, requested, allocatable, least_requested_score)
}

/// Upstream `mostResourceScorer`.
pub fn most_resource_scorer(
    resources: &[ResourceSpec],
    requested: &[i64],
    allocatable: &[i64],
) -> i64 {
    weighted_mean(resources, requested, allocatable, most_requested_score)
}

/// Upstream `helper.BuildBrokenLinearFunction` evaluated at `p`: `shape` is
/// (utilization, score) points with increasing utilization; the function is
/// the first score left of the first point, the last score right of the
/// last one, and linear (integer division) in between. 0 for an empty shape
/// (upstream never builds one: validation requires a point).
pub fn broken_linear_function(shape: &[(i64, i64)], p: i64) -> i64 {
    for i in 0..shape.len() {
        let (u, s) = shape[i];
        if p <= u {
            if i == 0 {
                return s;
            }
            let (pu, ps) = shape[i - 1];
            let du = u.wrapping_sub(pu);
            if du == 0 {
                // Unreachable with validated (strictly increasing) shapes.
                return s;
            }
            return ps.wrapping_add(
                s.wrapping_sub(ps)
                    .wrapping_mul(p.wrapping_sub(pu))
                    .wrapping_div(du),
            );
        }
    }
    shape.last().map_or(0, |&(_, s)| s)
}

/// Upstream `requestedToCapacityRatioScorer`'s shape conversion: scores
/// 0..=MaxCustomPriorityScore scaled to 0..=MaxNodeScore (×10).
pub fn scale_shape(shape: &[(i64, i64)]) -> Vec<(i64, i64)> {
    shape
        .iter()
        .map(|&(u, s)| {
            (
                u,
                s.wrapping_mul(MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE),
            )
        })
        .collect()
}

/// Upstream `buildRequestedToCapacityRatioScorerFunction`'s
/// `resourceScoringFunction`: the scaled shape at the utilization percent
/// (integer division); 100% when over capacity or capacity is 0.
pub fn requested_to_capacity_ratio_resource_score(
    scaled_shape: &[(i64, i64)],
    requested: i64,
    capacity: i64,
) -> i64 {
    if capacity == 0 || requested > capacity {
        return broken_linear_function(scaled_shape, MAX_UTILIZATION);
    }
    broken_linear_function(
        scaled_shape,
        requested
            .wrapping_mul(MAX_UTILIZATION)
            .wrapping_div(capacity),
    )
}

/// Upstream `buildRequestedToCapacityRatioScorerFunction`'s scorer: the
/// weighted mean of the positive per-resource scores, rounded half away from
/// zero in float64 (`math.Round(float64(nodeScore) / float64(weightSum))`).
pub fn requested_to_capacity_ratio_scorer(
    resources: &[ResourceSpec],
    scaled_shape: &[(i64, i64)],
    requested: &[i64],
    allocatable: &[i64],
) -> i64 {
    let (mut node_score, mut weight_sum) = (0i64, 0i64);
    for (i, (&req, &alloc)) in requested.iter().zip(allocatable).enumerate() {
        if alloc == 0 {
            continue;
        }
        let weight = resources.get(i).map_or(0, |r| r.weight);
        let s = requested_to_capacity_ratio_resource_score(scaled_shape, req, alloc);
        if s > 0 {
            node_score = node_score.wrapping_add(s.wrapping_mul(weight));
            weight_sum = weight_sum.wrapping_add(weight);
        }
    }
    if weight_sum == 0 {
        return 0;
    }
    // `as` saturates where Go's conversion is implementation-defined; the
    // quotient is within [0, MaxNodeScore] for validated arguments.
    (node_score as f64 / weight_sum as f64).round() as i64
}

// ---------------------------------------------------------------------------
// Argument validation (ValidateNodeResourcesFitArgs).
// ---------------------------------------------------------------------------

/// Upstream `field.Invalid(path, value, detail).Error()`.
pub(crate) fn field_invalid(path: &str, value: &str, detail: &str) -> String {
    format!("{path}: Invalid value: {value}: {detail}")
}

/// Upstream `ErrorList.ToAggregate().Error()`: repeated messages dropped;
/// one message alone, several as `[a, b]`. `None` when there are none.
pub(crate) fn aggregate(errs: Vec<String>) -> Option<String> {
    let mut seen: Vec<String> = Vec::new();
    for e in errs {
        if !seen.contains(&e) {
            seen.push(e);
        }
    }
    match seen.len() {
        0 => None,
        1 => seen.pop(),
        _ => Some(format!("[{}]", seen.join(", "))),
    }
}

/// Upstream `validateResources`: weights in (0, 100].
fn validate_resources(resources: &[ResourceSpec], path: &str, errs: &mut Vec<String>) {
    for (i, r) in resources.iter().enumerate() {
        if r.weight <= 0 || r.weight > 100 {
            errs.push(field_invalid(
                &format!("{path}[{i}].weight"),
                &r.weight.to_string(),
                &format!("resource weight of {} not in valid range (0, 100]", r.name),
            ));
        }
    }
}

/// Upstream `validateFunctionShape`: at least one point, utilization
/// strictly increasing within [0, 100], score within [0, 10].
fn validate_function_shape(shape: &[(i64, i64)], path: &str, errs: &mut Vec<String>) {
    if shape.is_empty() {
        errs.push(format!(
            "{path}: Required value: at least one point must be specified"
        ));
        return;
    }
    for i in 1..shape.len() {
        if shape[i - 1].0 >= shape[i].0 {
            errs.push(field_invalid(
                &format!("{path}[{i}].utilization"),
                &shape[i].0.to_string(),
                "values must be sorted in increasing order",
            ));
            break;
        }
    }
    for (i, &(u, s)) in shape.iter().enumerate() {
        if !(0..=MAX_UTILIZATION).contains(&u) {
            errs.push(field_invalid(
                &format!("{path}[{i}].utilization"),
                &u.to_string(),
                &format!("not in valid range [0, {MAX_UTILIZATION}]"),
            ));
        }
        if !(0..=MAX_CUSTOM_PRIORITY_SCORE).contains(&s) {
            errs.push(field_invalid(
                &format!("{path}[{i}].score"),
                &s.to_string(),
                &format!("not in valid range [0, {MAX_CUSTOM_PRIORITY_SCORE}]"),
            ));
        }
    }
}

/// Upstream `ValidateNodeResourcesFitArgs(nil, args)`, with its messages.
/// The shape is validated when the strategy is RequestedToCapacityRatio or a
/// shape is given (upstream: when `requestedToCapacityRatio` is set).
pub fn validate_args(args: &NodeResourcesFitArgs) -> Result<(), String> {
    let mut errs = Vec::new();
    for (i, res) in args.ignored_resources.iter().enumerate() {
        for msg in is_qualified_name(res) {
            errs.push(field_invalid(
                &format!("ignoredResources[{i}]"),
                &go_quote(res),
                &msg,
            ));
        }
    }
    for (i, group) in args.ignored_resource_groups.iter().enumerate() {
        let path = format!("ignoredResourceGroups[{i}]");
        if group.contains('/') {
            errs.push(field_invalid(
                &path,
                &go_quote(group),
                "resource group name can't contain '/'",
            ));
        }
        for msg in is_qualified_name(group) {
            errs.push(field_invalid(&path, &go_quote(group), &msg));
        }
    }
    validate_resources(&args.resources, "scoringStrategy.resources", &mut errs);
    if args.strategy == ScoringStrategyType::RequestedToCapacityRatio || !args.shape.is_empty() {
        validate_function_shape(&args.shape, "scoringStrategy.shape", &mut errs);
    }
    match aggregate(errs) {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------
// The plugin.
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Strategy {
    LeastAllocated,
    MostAllocated,
    /// The shape with scores already scaled to 0..=MaxNodeScore.
    RequestedToCapacityRatio(Vec<(i64, i64)>),
}

/// PreFilter state: the pod's requests (upstream `preFilterState`).
#[derive(Clone, Debug)]
struct PreFilterState(Resources);

/// PreScore state: the pod's request of each scored resource.
#[derive(Clone, Debug)]
struct PreScoreState {
    pod_requests: Vec<i64>,
}

/// The NodeResourcesFit plugin.
pub struct Fit {
    ignored_resources: BTreeSet<String>,
    ignored_resource_groups: BTreeSet<String>,
    scorer: ResourceAllocationScorer,
    strategy: Strategy,
}

impl Fit {
    /// Upstream `NewFit`: validates `args` as `ValidateNodeResourcesFitArgs`.
    pub fn new(args: NodeResourcesFitArgs) -> Result<Fit, String> {
        validate_args(&args)?;
        let strategy = match args.strategy {
            ScoringStrategyType::LeastAllocated => Strategy::LeastAllocated,
            ScoringStrategyType::MostAllocated => Strategy::MostAllocated,
            ScoringStrategyType::RequestedToCapacityRatio => {
                Strategy::RequestedToCapacityRatio(scale_shape(&args.shape))
            }
        };
        Ok(Fit {
            ignored_resources: args.ignored_resources.into_iter().collect(),
            ignored_resource_groups: args.ignored_resource_groups.into_iter().collect(),
            scorer: ResourceAllocationScorer {
                use_requested: false,
                resources: args.resources,
            },
            strategy,
        })
    }

    /// `fitsRequest` with this plugin's ignored resources.
    pub fn insufficient_resources(
        &self,
        pod_request: &Resources,
        node: &Node,
    ) -> Vec<InsufficientResource> {
        fits_request(
            pod_request,
            node,
            &self.ignored_resources,
            &self.ignored_resource_groups,
        )
    }

    /// Upstream `resourceAllocationScorer.score` with this strategy.
    fn score_node(&self, node: &Node, pod_requests: &[i64]) -> Result<i64, Status> {
        let (requested, allocatable) = self.scorer.requested_allocatable_buf(node, pod_requests)?;
        let res = &self.scorer.resources;
        Ok(match &self.strategy {
            Strategy::LeastAllocated => least_resource_scorer(res, &requested, &allocatable),
            Strategy::MostAllocated => most_resource_scorer(res, &requested, &allocatable),
            Strategy::RequestedToCapacityRatio(shape) => {
                requested_to_capacity_ratio_scorer(res, shape, &requested, &allocatable)
            }
        })
    }
}

impl Plugin for Fit {
    fn name(&self) -> &'static str {
        NAME
    }
    fn events_to_register(&self) -> Option<&'static [crate::scheduler::hints::ClusterEvent]> {
        Some(super::queueing_hints::FIT_EVENTS)
    }
    fn queueing_hint(
        &self,
        pod_id: crate::model::PodId,
        pod: &crate::model::Pod,
        _event: &crate::scheduler::hints::ClusterEvent,
        change: &crate::scheduler::hints::Change,
        _view: &crate::scheduler::framework::ClusterView,
    ) -> crate::scheduler::hints::QueueingHint {
        super::queueing_hints::fit_hint(pod_id, pod, change)
    }
    fn points(&self) -> &'static [Point] {
        &[
            Point::PreFilter,
            Point::Filter,
            Point::PreScore,
            Point::Score,
        ]
    }
    fn node_local(&self) -> bool {
        true
    }

    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, _: &ClusterView) -> PreFilterOutcome {
        state.write(
            PRE_FILTER_STATE_KEY,
            PreFilterState(compute_pod_resource_request(pod)),
        );
        PreFilterOutcome::ok()
    }

    fn filter(&self, state: &CycleState, _pod: &Pod, node: &Node, _: &ClusterView) -> Status {
        let Some(PreFilterState(request)) = state.read::<PreFilterState>(PRE_FILTER_STATE_KEY)
        else {
            return Status::error(format!(
                "error reading {PRE_FILTER_STATE_KEY:?} from cycleState: not found"
            ));
        };
        let insufficient = self.insufficient_resources(request, node);
        if insufficient.is_empty() {
            return Status::success();
        }
        let code = if insufficient.iter().any(|r| r.unresolvable) {
            Code::UnschedulableAndUnresolvable
        } else {
            Code::Unschedulable
        };
        Status {
            code,
            reasons: insufficient.into_iter().map(|r| r.reason).collect(),
            plugin: "",
        }
    }

    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        _: &[NodeId],
        _: &ClusterView,
    ) -> Status {
        state.write(
            PRE_SCORE_STATE_KEY,
            PreScoreState {
                pod_requests: self.scorer.pod_resource_request_list(pod),
            },
        );
        Status::success()
    }

    fn score(
        &self,
        state: &CycleState,
        pod: &Pod,
        node: &Node,
        _: &ClusterView,
    ) -> Result<i64, Status> {
        match state.read::<PreScoreState>(PRE_SCORE_STATE_KEY) {
            Some(s) => self.score_node(node, &s.pod_requests),
            None => self.score_node(node, &self.scorer.pod_resource_request_list(pod)),
        }
    }
}

// ---------------------------------------------------------------------------
// Test helpers shared with the BalancedAllocation and ImageLocality tests.
// ---------------------------------------------------------------------------

#[cfg(test)]
pub(crate) mod testutil {
    use std::collections::BTreeMap;

    use crate::engine::SimTime;
    use crate::model::pod::{
        pod_requests, Container, PodBehavior, PodSpec, PullPolicy, RestartPolicy,
        DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST,
    };
    use crate::model::{Labels, Node, NodeId, ObjectMeta, Pod, PodId, Resources};
    use crate::scheduler::framework::ClusterView;

    /// One container's requests as upstream's ResourceList: only the keys
    /// listed are present (an explicit 0 is present), cpu in millicores.
    pub type Req<'a> = &'a [(&'a str, i64)];

    pub fn container(image: &str, req: Req) -> Container {
        let mut requests = Resources::default();
        for (k, v) in req {
            requests.set(k, *v);
        }
        Container {
            name: "c".into(),
            image: image.into(),
            image_pull_policy: PullPolicy::IfNotPresent,
            requests,
            limits: Resources::default(),
            ports: vec![],
            restart_policy: None,
            env: Vec::new(),
        }
    }

    pub fn spec(containers: Vec<Container>, init: Vec<Container>) -> PodSpec {
        PodSpec {
            containers,
            init_containers: init,
            ..PodSpec::default()
        }
    }

    /// Upstream `PodRequests` with `NonMissingContainerRequests`: only
    /// containers whose ResourceList lacks cpu / memory get the defaults.
    fn upstream_nonzero(
        spec: &PodSpec,
        keys: &[Vec<String>],
        init_keys: &[Vec<String>],
    ) -> (i64, i64) {
        let fill = |c: &Container, k: &Vec<String>| {
            let mut c = c.clone();
            if !k.iter().any(|x| x == "cpu") {
                c.requests.cpu_m = DEFAULT_MILLI_CPU_REQUEST;
            }
            if !k.iter().any(|x| x == "memory") {
                c.requests.memory = DEFAULT_MEMORY_REQUEST;
            }
            c
        };
        let s = PodSpec {
            containers: spec
                .containers
                .iter()
                .zip(keys)
                .map(|(c, k)| fill(c, k))
                .collect(),
            init_containers: spec
                .init_containers
                .iter()
                .zip(init_keys)
                .map(|(c, k)| fill(c, k))
                .collect(),
            ..spec.clone()
        };
        let r = pod_requests(&s);
        (r.cpu_m, r.memory)
    }

    /// A pod like upstream's test builders make: one container per entry of
    /// `containers` (requests as listed), init containers likewise (a
    /// sidecar when `sidecars` is set), and the overhead. Effective and
    /// non-zero requests are computed as upstream computes them.
    pub fn pod_full(
        containers: &[Req],
        init: &[Req],
        sidecars: bool,
        overhead: Req,
        images: (&[&str], &[&str]),
    ) -> Pod {
        let cs: Vec<Container> = containers
            .iter()
            .enumerate()
            .map(|(i, r)| container(images.0.get(i).copied().unwrap_or("img"), r))
            .collect();
        let ics: Vec<Container> = init
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut c = container(images.1.get(i).copied().unwrap_or("img"), r);
                if sidecars {
                    c.restart_policy = Some(RestartPolicy::Always);
                }
                c
            })
            .collect();
        let mut s = spec(cs, ics);
        for (k, v) in overhead {
            s.overhead.set(k, *v);
        }
        let keys = |l: &[Req]| -> Vec<Vec<String>> {
            l.iter()
                .map(|r| r.iter().map(|(k, _)| k.to_string()).collect())
                .collect()
        };
        let nonzero = upstream_nonzero(&s, &keys(containers), &keys(init));
        pod_from_spec_with_nonzero(s, nonzero)
    }

    /// A pod from a spec, with the model's own effective and non-zero
    /// requests.
    pub fn pod_from_spec(s: PodSpec) -> Pod {
        let nz = crate::model::pod::nonzero_requests(&s);
        pod_from_spec_with_nonzero(s, nz)
    }

    fn pod_from_spec_with_nonzero(s: PodSpec, nonzero: (i64, i64)) -> Pod {
        let meta = ObjectMeta {
            name: "p".into(),
            namespace: "default".into(),
            ..Default::default()
        };
        let mut p = Pod::new(meta, s, PodBehavior::default());
        p.nonzero_requests = nonzero;
        p
    }

    /// `st.MakePod().Req(a).Req(b)…`: one container per request list.
    pub fn pod(containers: &[Req]) -> Pod {
        pod_full(containers, &[], false, &[], (&[], &[]))
    }

    /// A node whose capacity and allocatable are `alloc`.
    pub fn node(name: &str, alloc: Req) -> Node {
        let mut r = Resources::default();
        for (k, v) in alloc {
            r.set(k, *v);
        }
        Node::new(
            ObjectMeta {
                name: name.into(),
                ..Default::default()
            },
            r.clone(),
            r,
        )
    }

    /// Places `pods` on `node` (ids from `first_id`).
    pub fn place(node: &mut Node, pods: &[&Pod], first_id: u32) {
        for (i, p) in pods.iter().enumerate() {
            node.add_pod(PodId(first_id + i as u32), p);
        }
    }

    /// Runs `f` with a view of `nodes` (all present, in order).
    pub fn with_view<R>(
        nodes: &[Node],
        image_nodes: &BTreeMap<String, u32>,
        f: impl FnOnce(&ClusterView, &[NodeId]) -> R,
    ) -> R {
        let namespaces: BTreeMap<String, Labels> = BTreeMap::new();
        let order: Vec<NodeId> = (0..nodes.len() as u32).map(NodeId).collect();
        let nominated = BTreeMap::new();
        let (aff, anti) = crate::scheduler::framework::affinity_node_sets(nodes);
        let view = ClusterView {
            nodes,
            pods: &[],
            namespaces: &namespaces,
            image_nodes,
            node_order: &order,
            nominated: &nominated,
            waiting: &[],
            nodes_with_affinity: &aff,
            nodes_with_required_anti_affinity: &anti,
            pod_changes: None,
            now: SimTime::ZERO,
            pdbs: &[],
        };
        f(&view, &order)
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;
    use crate::scheduler::config::default_resources;
    use std::collections::BTreeMap;

    const EXT_A: &str = "example.com/aaa";
    const EXT_B: &str = "example.com/bbb";
    const K8S_IO_A: &str = "kubernetes.io/something";
    const K8S_IO_B: &str = "subdomain.kubernetes.io/something";
    const HUGE_A: &str = "hugepages-2Mi";
    const DRA_EXT: &str = "extended.resource.dra.io/something";
    const EXTENDED_RES: &str = "abc.com/xyz";

    /// Existing pods: (node index, pod).
    type Placed = Vec<(usize, Pod)>;
    /// A (utilization, score) point, and a list of them.
    type Point2 = (i64, i64);
    type Points = &'static [Point2];
    /// (name, pod, nodes, existing pods, scores).
    type RtcrCase = (&'static str, Pod, Vec<Node>, Placed, [i64; 2]);
    /// (name, resources, shape, field paths of the expected errors).
    type ShapeCase = (
        &'static str,
        Vec<ResourceSpec>,
        Vec<Point2>,
        &'static [&'static str],
    );

    /// `newResourcePod(framework.Resource{...})` usage: cpu, memory,
    /// ephemeral storage and scalars; every container lists cpu, memory,
    /// pods and ephemeral-storage explicitly, as upstream's builder does.
    type Usage<'a> = (i64, i64, i64, &'a [(&'a str, i64)]);

    fn usage_req<'a>(u: &Usage<'a>) -> Vec<(&'a str, i64)> {
        let mut v = vec![("cpu", u.0), ("memory", u.1), ("ephemeral-storage", u.2)];
        v.extend_from_slice(u.3);
        v
    }

    /// `newResourceInitPod(newResourcePod(containers...), init...)` with an
    /// optional overhead.
    fn resource_pod(containers: &[Usage], init: &[Usage], overhead: Req) -> Pod {
        let cs: Vec<Vec<(&str, i64)>> = containers.iter().map(usage_req).collect();
        let is: Vec<Vec<(&str, i64)>> = init.iter().map(usage_req).collect();
        let cr: Vec<Req> = cs.iter().map(|v| v.as_slice()).collect();
        let ir: Vec<Req> = is.iter().map(|v| v.as_slice()).collect();
        pod_full(&cr, &ir, false, overhead, (&[], &[]))
    }

    /// `makeAllocatableResources(milliCPU, memory, pods, extendedA, storage, hugePageA)`.
    fn alloc_node(cpu: i64, mem: i64, pods: i64, ext_a: i64, storage: i64, huge: i64) -> Node {
        node(
            "node",
            &[
                ("cpu", cpu),
                ("memory", mem),
                ("pods", pods),
                (EXT_A, ext_a),
                ("ephemeral-storage", storage),
                (HUGE_A, huge),
            ],
        )
    }

    fn fit(args: NodeResourcesFitArgs) -> Fit {
        Fit::new(args).expect("valid args")
    }

    fn run_filter(p: &Fit, pod: &Pod, node: &Node) -> Status {
        with_view(std::slice::from_ref(node), &BTreeMap::new(), |view, _| {
            let mut state = CycleState::default();
            let pre = p.pre_filter(&mut state, pod, view);
            assert!(pre.status.is_success());
            assert!(pre.nodes.is_none());
            p.filter(&state, pod, node, view)
        })
    }

    fn ir(
        name: &str,
        requested: i64,
        used: i64,
        capacity: i64,
        unresolvable: bool,
    ) -> InsufficientResource {
        InsufficientResource {
            resource_name: name.into(),
            reason: if name == "pods" {
                "Too many pods".into()
            } else {
                format!("Insufficient {name}")
            },
            requested,
            used,
            capacity,
            unresolvable,
        }
    }

    fn status(code: Code, reasons: &[&str]) -> Status {
        Status {
            code,
            reasons: reasons.iter().map(|s| s.to_string()).collect(),
            plugin: "",
        }
    }

    struct EnoughCase<'a> {
        name: &'a str,
        pod: Pod,
        existing: Usage<'a>,
        ignored: &'a [&'a str],
        ignored_groups: &'a [&'a str],
        want_status: Option<Status>,
        want: Vec<InsufficientResource>,
    }

    /// Upstream fit_test.go `TestEnoughRequests` (36 of 49 rows: the 7
    /// pod-level-resources rows and 6 DRA-enabled rows are not modelled).
    #[test]
    fn enough_requests() {
        use Code::{Unschedulable as U, UnschedulableAndUnresolvable as UU};
        let e: &[(&str, i64)] = &[];
        let c = |cpu, mem| -> Usage { (cpu, mem, 0, &[]) };
        let cases: Vec<EnoughCase> = vec![
            EnoughCase {
                name: "no resources requested always fits",
                pod: resource_pod(&[], &[], e),
                existing: c(10, 20),
                ignored: &[],
                ignored_groups: &[],
                want_status: None,
                want: vec![],
            },
            EnoughCase {
                name: "too many resources fails",
                pod: resource_pod(&[c(1, 1)], &[], e),
                existing: c(10, 20),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(U, &["Insufficient cpu", "Insufficient memory"])),
                want: vec![ir("cpu", 1, 10, 10, false), ir("memory", 1, 20, 20, false)],
            },
            EnoughCase {
                name: "too many resources fails due to init container cpu",
                pod: resource_pod(&[c(1, 1)], &[c(3, 1)], e),
                existing: c(8, 19),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(U, &["Insufficient cpu"])),
                want: vec![ir("cpu", 3, 8, 10, false)],
            },
            EnoughCase {
                name: "too many resources fails due to highest init container cpu",
                pod: resource_pod(&[c(1, 1)], &[c(3, 1), c(2, 1)], e),
                existing: c(8, 19),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(U, &["Insufficient cpu"])),
                want: vec![ir("cpu", 3, 8, 10, false)],
            },
            EnoughCase {
                name: "too many resources fails due to init container memory",
                pod: resource_pod(&[c(1, 1)], &[c(1, 3)], e),
                existing: c(9, 19),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(U, &["Insufficient memory"])),
                want: vec![ir("memory", 3, 19, 20, false)],
            },
            EnoughCase {
                name: "too many resources fails due to highest init container memory",
                pod: resource_pod(&[c(1, 1)], &[c(1, 3), c(1, 2)], e),
                existing: c(9, 19),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(U, &["Insufficient memory"])),
                want: vec![ir("memory", 3, 19, 20, false)],
            },
            EnoughCase {
                name: "init container fits because it's the max, not sum, of containers and init containers",
                pod: resource_pod(&[c(1, 1)], &[c(1, 1)], e),
                existing: c(9, 19),
                ignored: &[],
                ignored_groups: &[],
                want_status: None,
                want: vec![],
            },
            EnoughCase {
                name: "multiple init containers fit because it's the max, not sum, of containers and init containers",
                pod: resource_pod(&[c(1, 1)], &[c(1, 1), c(1, 1)], e),
                existing: c(9, 19),
                ignored: &[],
                ignored_groups: &[],
                want_status: None,
                want: vec![],
            },
            EnoughCase {
                name: "both resources fit",
                pod: resource_pod(&[c(1, 1)], &[], e),
                existing: c(5, 5),
                ignored: &[],
                ignored_groups: &[],
                want_status: None,
                want: vec![],
            },
            EnoughCase {
                name: "one resource memory fits",
                pod: resource_pod(&[c(2, 1)], &[], e),
                existing: c(9, 5),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(U, &["Insufficient cpu"])),
                want: vec![ir("cpu", 2, 9, 10, false)],
            },
            EnoughCase {
                name: "one resource cpu fits",
                pod: resource_pod(&[c(1, 2)], &[], e),
                existing: c(5, 19),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(U, &["Insufficient memory"])),
                want: vec![ir("memory", 2, 19, 20, false)],
            },
            EnoughCase {
                name: "equal edge case",
                pod: resource_pod(&[c(5, 1)], &[], e),
                existing: c(5, 19),
                ignored: &[],
                ignored_groups: &[],
                want_status: None,
                want: vec![],
            },
            EnoughCase {
                name: "equal edge case for init container",
                pod: resource_pod(&[c(4, 1)], &[c(5, 1)], e),
                existing: c(5, 19),
                ignored: &[],
                ignored_groups: &[],
                want_status: None,
                want: vec![],
            },
            EnoughCase {
                name: "extended resource fits",
                pod: resource_pod(&[(0, 0, 0, &[(EXT_A, 1)])], &[], e),
                existing: c(0, 0),
                ignored: &[],
                ignored_groups: &[],
                want_status: None,
                want: vec![],
            },
            EnoughCase {
                name: "extended resource fits for init container",
                pod: resource_pod(&[c(0, 0)], &[(0, 0, 0, &[(EXT_A, 1)])], e),
                existing: c(0, 0),
                ignored: &[],
                ignored_groups: &[],
                want_status: None,
                want: vec![],
            },
            EnoughCase {
                name: "extended resource capacity enforced",
                pod: resource_pod(&[(1, 1, 0, &[(EXT_A, 10)])], &[], e),
                existing: (0, 0, 0, &[(EXT_A, 0)]),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(UU, &["Insufficient example.com/aaa"])),
                want: vec![ir(EXT_A, 10, 0, 5, true)],
            },
            EnoughCase {
                name: "extended resource capacity enforced for init container",
                pod: resource_pod(&[c(0, 0)], &[(1, 1, 0, &[(EXT_A, 10)])], e),
                existing: (0, 0, 0, &[(EXT_A, 0)]),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(UU, &["Insufficient example.com/aaa"])),
                want: vec![ir(EXT_A, 10, 0, 5, true)],
            },
            EnoughCase {
                name: "extended resource allocatable enforced",
                pod: resource_pod(&[(1, 1, 0, &[(EXT_A, 1)])], &[], e),
                existing: (0, 0, 0, &[(EXT_A, 5)]),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(U, &["Insufficient example.com/aaa"])),
                want: vec![ir(EXT_A, 1, 5, 5, false)],
            },
            EnoughCase {
                name: "extended resource allocatable enforced for init container",
                pod: resource_pod(&[c(0, 0)], &[(1, 1, 0, &[(EXT_A, 1)])], e),
                existing: (0, 0, 0, &[(EXT_A, 5)]),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(U, &["Insufficient example.com/aaa"])),
                want: vec![ir(EXT_A, 1, 5, 5, false)],
            },
            EnoughCase {
                name: "extended resource allocatable enforced for multiple containers",
                pod: resource_pod(&[(1, 1, 0, &[(EXT_A, 3)]), (1, 1, 0, &[(EXT_A, 3)])], &[], e),
                existing: (0, 0, 0, &[(EXT_A, 2)]),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(UU, &["Insufficient example.com/aaa"])),
                want: vec![ir(EXT_A, 6, 2, 5, true)],
            },
            EnoughCase {
                name: "extended resource allocatable admits multiple init containers",
                pod: resource_pod(&[c(0, 0)], &[(1, 1, 0, &[(EXT_A, 3)]), (1, 1, 0, &[(EXT_A, 3)])], e),
                existing: (0, 0, 0, &[(EXT_A, 2)]),
                ignored: &[],
                ignored_groups: &[],
                want_status: None,
                want: vec![],
            },
            EnoughCase {
                name: "extended resource allocatable enforced for multiple init containers",
                pod: resource_pod(&[c(0, 0)], &[(1, 1, 0, &[(EXT_A, 6)]), (1, 1, 0, &[(EXT_A, 3)])], e),
                existing: (0, 0, 0, &[(EXT_A, 2)]),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(UU, &["Insufficient example.com/aaa"])),
                want: vec![ir(EXT_A, 6, 2, 5, true)],
            },
            EnoughCase {
                name: "extended resource allocatable enforced for unknown resource",
                pod: resource_pod(&[(1, 1, 0, &[(EXT_B, 1)])], &[], e),
                existing: c(0, 0),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(UU, &["Insufficient example.com/bbb"])),
                want: vec![ir(EXT_B, 1, 0, 0, true)],
            },
            EnoughCase {
                name: "extended resource allocatable enforced for unknown resource for init container",
                pod: resource_pod(&[c(0, 0)], &[(1, 1, 0, &[(EXT_B, 1)])], e),
                existing: c(0, 0),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(UU, &["Insufficient example.com/bbb"])),
                want: vec![ir(EXT_B, 1, 0, 0, true)],
            },
            EnoughCase {
                name: "kubernetes.io resource capacity enforced",
                pod: resource_pod(&[(1, 1, 0, &[(K8S_IO_A, 10)])], &[], e),
                existing: c(0, 0),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(UU, &["Insufficient kubernetes.io/something"])),
                want: vec![ir(K8S_IO_A, 10, 0, 0, true)],
            },
            EnoughCase {
                name: "kubernetes.io resource capacity enforced for init container",
                pod: resource_pod(&[c(0, 0)], &[(1, 1, 0, &[(K8S_IO_B, 10)])], e),
                existing: c(0, 0),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(UU, &["Insufficient subdomain.kubernetes.io/something"])),
                want: vec![ir(K8S_IO_B, 10, 0, 0, true)],
            },
            EnoughCase {
                name: "hugepages resource capacity enforced",
                pod: resource_pod(&[(1, 1, 0, &[(HUGE_A, 10)])], &[], e),
                existing: (0, 0, 0, &[(HUGE_A, 0)]),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(UU, &["Insufficient hugepages-2Mi"])),
                want: vec![ir(HUGE_A, 10, 0, 5, true)],
            },
            EnoughCase {
                name: "hugepages resource capacity enforced for init container",
                pod: resource_pod(&[c(0, 0)], &[(1, 1, 0, &[(HUGE_A, 10)])], e),
                existing: (0, 0, 0, &[(HUGE_A, 0)]),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(UU, &["Insufficient hugepages-2Mi"])),
                want: vec![ir(HUGE_A, 10, 0, 5, true)],
            },
            EnoughCase {
                name: "hugepages resource allocatable enforced for multiple containers",
                pod: resource_pod(&[(1, 1, 0, &[(HUGE_A, 3)]), (1, 1, 0, &[(HUGE_A, 3)])], &[], e),
                existing: (0, 0, 0, &[(HUGE_A, 2)]),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(UU, &["Insufficient hugepages-2Mi"])),
                want: vec![ir(HUGE_A, 6, 2, 5, true)],
            },
            EnoughCase {
                name: "skip checking ignored extended resource",
                pod: resource_pod(&[(1, 1, 0, &[(EXT_B, 1)])], &[], e),
                existing: c(0, 0),
                ignored: &["example.com/bbb"],
                ignored_groups: &[],
                want_status: None,
                want: vec![],
            },
            EnoughCase {
                name: "resources + pod overhead fits",
                pod: resource_pod(&[c(1, 1)], &[], &[("cpu", 3), ("memory", 13)]),
                existing: c(5, 5),
                ignored: &[],
                ignored_groups: &[],
                want_status: None,
                want: vec![],
            },
            EnoughCase {
                name: "requests + overhead does not fit for memory",
                pod: resource_pod(&[c(1, 1)], &[], &[("cpu", 1), ("memory", 15)]),
                existing: c(5, 5),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(U, &["Insufficient memory"])),
                want: vec![ir("memory", 16, 5, 20, false)],
            },
            EnoughCase {
                name: "skip checking ignored extended resource via resource groups",
                pod: resource_pod(&[(1, 1, 0, &[(EXT_B, 1), (K8S_IO_A, 1)])], &[], e),
                existing: c(0, 0),
                ignored: &[],
                ignored_groups: &["example.com"],
                want_status: Some(status(UU, &["Insufficient kubernetes.io/something"])),
                want: vec![ir(K8S_IO_A, 1, 0, 0, true)],
            },
            EnoughCase {
                name: "skip checking extended resource request with quantity zero via resource groups",
                pod: resource_pod(&[(1, 1, 0, &[(EXT_A, 0)])], &[], e),
                existing: (0, 0, 0, &[(EXT_A, 6)]),
                ignored: &[],
                ignored_groups: &[],
                want_status: None,
                want: vec![],
            },
            EnoughCase {
                // Upstream runs it with PodLevelResources on, but the pod
                // has no pod-level resources.
                name: "skip checking resource request with quantity zero",
                pod: resource_pod(&[(0, 0, 0, &[(EXT_A, 1)])], &[], e),
                existing: (20, 30, 0, &[(EXT_A, 1)]),
                ignored: &[],
                ignored_groups: &[],
                want_status: None,
                want: vec![],
            },
            EnoughCase {
                name: "extended resource backed by DRA not enabled",
                pod: resource_pod(&[(1, 1, 0, &[(DRA_EXT, 1)])], &[], e),
                existing: c(0, 0),
                ignored: &[],
                ignored_groups: &[],
                want_status: Some(status(UU, &["Insufficient extended.resource.dra.io/something"])),
                want: vec![ir(DRA_EXT, 1, 0, 0, true)],
            },
        ];
        assert_eq!(cases.len(), 36);
        for tc in cases {
            let mut n = alloc_node(10, 20, 32, 5, 20, 5);
            let existing = resource_pod(&[tc.existing], &[], e);
            place(&mut n, &[&existing], 100);
            let p = fit(NodeResourcesFitArgs {
                ignored_resources: tc.ignored.iter().map(|s| s.to_string()).collect(),
                ignored_resource_groups: tc.ignored_groups.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            });
            let got = run_filter(&p, &tc.pod, &n);
            let want = tc.want_status.unwrap_or_else(Status::success);
            assert_eq!(got, want, "{}: status", tc.name);
            let got_ir = p.insufficient_resources(&compute_pod_resource_request(&tc.pod), &n);
            assert_eq!(got_ir, tc.want, "{}: insufficient resources", tc.name);
        }
    }

    /// Upstream `TestPreFilterDisabled`: Filter without PreFilter state.
    #[test]
    fn pre_filter_disabled() {
        let p = fit(Default::default());
        let n = node("n", &[]);
        let pod = pod(&[]);
        let got = with_view(std::slice::from_ref(&n), &BTreeMap::new(), |view, _| {
            p.filter(&CycleState::default(), &pod, &n, view)
        });
        assert_eq!(
            got,
            status(
                Code::Error,
                &["error reading \"PreFilterNodeResourcesFit\" from cycleState: not found"]
            )
        );
    }

    /// Upstream `TestNotEnoughRequests` (4 of 4 rows).
    #[test]
    fn not_enough_requests() {
        let e: &[(&str, i64)] = &[];
        let c = |cpu, mem| -> Usage { (cpu, mem, 0, &[]) };
        let cases: [(&str, Pod, Usage); 4] = [
            (
                "even without specified resources, predicate fails when there's no space for additional pod",
                resource_pod(&[], &[], e),
                c(10, 20),
            ),
            (
                "even if both resources fit, predicate fails when there's no space for additional pod",
                resource_pod(&[c(1, 1)], &[], e),
                c(5, 5),
            ),
            (
                "even for equal edge case, predicate fails when there's no space for additional pod",
                resource_pod(&[c(5, 1)], &[], e),
                c(5, 19),
            ),
            (
                "even for equal edge case, predicate fails when there's no space for additional pod due to init container",
                resource_pod(&[c(5, 1)], &[c(5, 1)], e),
                c(5, 19),
            ),
        ];
        for (name, pod, existing) in cases {
            let mut n = alloc_node(10, 20, 1, 0, 0, 0);
            let ex = resource_pod(&[existing], &[], e);
            place(&mut n, &[&ex], 100);
            let got = run_filter(&fit(Default::default()), &pod, &n);
            assert_eq!(
                got,
                status(Code::Unschedulable, &["Too many pods"]),
                "{name}"
            );
        }
    }

    /// Upstream `TestStorageRequests` (4 of 4 rows).
    #[test]
    fn storage_requests() {
        let e: &[(&str, i64)] = &[];
        let cases: [(&str, Pod, Usage, Option<Status>); 4] = [
            (
                "empty storage requested, and pod fits",
                resource_pod(&[(1, 1, 0, &[])], &[], e),
                (2, 10, 0, &[]),
                None,
            ),
            (
                "storage ephemeral local storage request exceeds allocatable",
                resource_pod(&[(0, 0, 25, &[])], &[], e),
                (2, 2, 0, &[]),
                Some(status(
                    Code::UnschedulableAndUnresolvable,
                    &["Insufficient ephemeral-storage"],
                )),
            ),
            (
                "ephemeral local storage is sufficient",
                resource_pod(&[(0, 0, 5, &[])], &[], e),
                (2, 2, 10, &[]),
                None,
            ),
            (
                "pod fits",
                resource_pod(&[(0, 0, 10, &[])], &[], e),
                (2, 2, 0, &[]),
                None,
            ),
        ];
        for (name, pod, existing, want) in cases {
            let mut n = alloc_node(10, 20, 32, 5, 20, 5);
            let ex = resource_pod(&[existing], &[], e);
            place(&mut n, &[&ex], 100);
            let got = run_filter(&fit(Default::default()), &pod, &n);
            assert_eq!(got, want.unwrap_or_else(Status::success), "{name}");
        }
    }

    /// Upstream `TestRestartableInitContainers` (the 4 rows with
    /// SidecarContainers enabled; it is GA and cannot be disabled in v1.35).
    #[test]
    fn restartable_init_containers() {
        let cases: [(&str, Pod, Option<Status>); 4] = [
            (
                "allow pod without restartable init containers if sidecar containers is enabled",
                pod_full(&[&[]], &[], false, &[], (&[], &[])),
                None,
            ),
            (
                "allow pod with restartable init containers if sidecar containers is enabled",
                pod_full(&[&[]], &[&[]], true, &[], (&[], &[])),
                None,
            ),
            (
                "allow pod if the total requested resources do not exceed the node's allocatable resources",
                pod_full(&[&[("cpu", 1)]], &[&[("cpu", 1)]], true, &[], (&[], &[])),
                None,
            ),
            (
                "not allow pod if the total requested resources do exceed the node's allocatable resources",
                pod_full(&[&[("cpu", 1)]], &[&[("cpu", 2)]], true, &[], (&[], &[])),
                Some(status(
                    Code::UnschedulableAndUnresolvable,
                    &["Insufficient cpu"],
                )),
            ),
        ];
        for (name, pod, want) in cases {
            let n = alloc_node(2, 0, 1, 0, 0, 0);
            let got = run_filter(&fit(Default::default()), &pod, &n);
            assert_eq!(got, want.unwrap_or_else(Status::success), "{name}");
        }
    }

    // --- scoring ---------------------------------------------------------

    fn specs(v: &[(&str, i64)]) -> Vec<ResourceSpec> {
        v.iter()
            .map(|(n, w)| ResourceSpec {
                name: n.to_string(),
                weight: *w,
            })
            .collect()
    }

    fn extended_resource_set() -> Vec<ResourceSpec> {
        specs(&[("cpu", 1), ("memory", 1), (EXTENDED_RES, 1)])
    }

    /// Scores `pod` on each node with `args`, running PreScore first when
    /// `pre_score` is set; each node gets the existing pods listed for it.
    fn score_all(
        args: NodeResourcesFitArgs,
        pod: &Pod,
        nodes: Vec<Node>,
        existing: &[(usize, Pod)],
        pre_score: bool,
    ) -> Vec<Result<i64, Status>> {
        let mut nodes = nodes;
        for (k, (i, p)) in existing.iter().enumerate() {
            place(&mut nodes[*i], &[p], k as u32);
        }
        let p = fit(args);
        with_view(&nodes, &BTreeMap::new(), |view, ids| {
            let mut state = CycleState::default();
            if pre_score {
                assert!(p.pre_score(&mut state, pod, ids, view).is_success());
            }
            nodes
                .iter()
                .map(|n| p.score(&state, pod, n, view))
                .collect()
        })
    }

    fn ok(v: &[i64]) -> Vec<Result<i64, Status>> {
        v.iter().map(|s| Ok(*s)).collect()
    }

    /// cpu in cores as upstream's `st.MakeNode().Capacity({"cpu": "4000"})`.
    const C: i64 = 1000;

    fn cap_node(name: &str, cpu_cores: i64, mem: i64, extra: &[(&str, i64)]) -> Node {
        let mut v: Vec<(&str, i64)> = vec![("cpu", cpu_cores * C), ("memory", mem)];
        v.extend_from_slice(extra);
        node(name, &v)
    }

    /// `st.MakePod().Req(...)` with cpu in cores.
    fn req(cpu_cores: i64, mem: i64) -> Vec<(&'static str, i64)> {
        vec![("cpu", cpu_cores * C), ("memory", mem)]
    }

    fn strategy_args(
        strategy: ScoringStrategyType,
        resources: Vec<ResourceSpec>,
    ) -> NodeResourcesFitArgs {
        NodeResourcesFitArgs {
            strategy,
            resources,
            ..Default::default()
        }
    }

    /// Upstream `TestFitScore` (10 of 12 rows: the two DRA-backed extended
    /// resource rows are not modelled).
    #[test]
    fn fit_score() {
        use ScoringStrategyType::*;
        let rtcr = |shape: Vec<(i64, i64)>| NodeResourcesFitArgs {
            strategy: RequestedToCapacityRatio,
            resources: default_resources(),
            shape,
            ..Default::default()
        };
        let big = || {
            vec![
                cap_node("node1", 4000, 10000, &[]),
                cap_node("node2", 6000, 10000, &[]),
            ]
        };
        let same = || {
            vec![
                cap_node("node1", 4000, 10000, &[]),
                cap_node("node2", 4000, 10000, &[]),
            ]
        };
        let p35 = pod(&[&req(3000, 5000)]);
        let p12 = pod(&[&req(1000, 2000)]);
        let existing = || vec![(0, pod(&[&req(2000, 4000)])), (1, pod(&[&req(1000, 2000)]))];
        let sidecar_existing = || {
            vec![
                (
                    0,
                    pod_full(
                        &[&req(1000, 2000)],
                        &[&req(1000, 2000)],
                        true,
                        &[],
                        (&[], &[]),
                    ),
                ),
                (1, pod(&[&req(1000, 2000)])),
            ]
        };
        for pre in [true, false] {
            assert_eq!(
                score_all(rtcr(vec![(0, 10), (100, 0)]), &p35, big(), &existing(), pre),
                ok(&[10, 32]),
                "RequestedToCapacityRatio case1 (PreScore {pre})"
            );
            assert_eq!(
                score_all(
                    strategy_args(MostAllocated, default_resources()),
                    &p12,
                    big(),
                    &existing(),
                    pre
                ),
                ok(&[67, 36]),
                "MostAllocated (PreScore {pre})"
            );
            assert_eq!(
                score_all(
                    strategy_args(LeastAllocated, default_resources()),
                    &p12,
                    big(),
                    &existing(),
                    pre
                ),
                ok(&[32, 63]),
                "LeastAllocated (PreScore {pre})"
            );
        }
        assert_eq!(
            score_all(
                rtcr(vec![(0, 0), (100, 10)]),
                &p35,
                big(),
                &existing(),
                true
            ),
            ok(&[95, 68]),
            "RequestedToCapacityRatio case2"
        );
        assert_eq!(
            score_all(
                strategy_args(MostAllocated, default_resources()),
                &p12,
                same(),
                &sidecar_existing(),
                true
            ),
            ok(&[67, 45]),
            "MostAllocated with sidecar container"
        );
        assert_eq!(
            score_all(
                strategy_args(LeastAllocated, default_resources()),
                &p12,
                same(),
                &sidecar_existing(),
                true
            ),
            ok(&[32, 55]),
            "LeastAllocated with sidecar container"
        );
    }

    struct ScoreCase {
        name: &'static str,
        pod: Pod,
        nodes: Vec<Node>,
        existing: Vec<(usize, Pod)>,
        resources: Vec<ResourceSpec>,
        want: Result<Vec<i64>, &'static [&'static str]>,
    }

    /// Rows shared in shape by least_allocated_test.go and
    /// most_allocated_test.go; `want` is `Err(field paths)` for a rejected
    /// configuration, or the scores (an Error status for every node when
    /// the scores are `[-1, …]`).
    fn run_strategy_cases(strategy: ScoringStrategyType, cases: Vec<ScoreCase>) {
        for tc in cases {
            let args = strategy_args(strategy, tc.resources.clone());
            match tc.want {
                Err(paths) => {
                    let err = Fit::new(args).err().unwrap_or_default();
                    for p in paths {
                        assert!(
                            err.contains(&format!("{p}: Invalid value")),
                            "{}: {err}",
                            tc.name
                        );
                    }
                    assert_eq!(
                        err.matches("Invalid value").count(),
                        paths.len(),
                        "{}",
                        tc.name
                    );
                }
                Ok(want) => {
                    let got = score_all(args, &tc.pod, tc.nodes, &tc.existing, true);
                    if want.first() == Some(&-1) {
                        for g in got {
                            let e = g.expect_err("error status");
                            assert_eq!(e.code, Code::Error, "{}", tc.name);
                            assert_eq!(e.message(), "resources not found", "{}", tc.name);
                        }
                    } else {
                        assert_eq!(got, ok(&want), "{}", tc.name);
                    }
                }
            }
        }
    }

    /// `st.MakePod().Req({"cpu": cores, "memory": "0"})`-style existing pod
    /// with both keys explicit (upstream keeps an explicit 0 when scoring).
    fn explicit(cpu_cores: i64, mem: i64) -> Pod {
        pod(&[&req(cpu_cores, mem)])
    }

    /// Upstream least_allocated_test.go `TestLeastAllocatedScoringStrategy`
    /// (16 of 16 rows).
    #[test]
    fn least_allocated_scoring_strategy() {
        let d = default_resources;
        let two = || pod(&[&req(1000, 2000), &req(2000, 3000)]);
        let cases = vec![
            ScoreCase {
                name: "nothing scheduled, nothing requested",
                pod: pod(&[]),
                nodes: vec![cap_node("node1", 4000, 10000, &[]), cap_node("node2", 4000, 10000, &[])],
                existing: vec![],
                resources: d(),
                want: Ok(vec![100, 100]),
            },
            ScoreCase {
                name: "nothing scheduled, resources requested, differently sized nodes",
                pod: two(),
                nodes: vec![cap_node("node1", 4000, 10000, &[]), cap_node("node2", 6000, 10000, &[])],
                existing: vec![],
                resources: d(),
                want: Ok(vec![37, 50]),
            },
            ScoreCase {
                name: "Resources not set, pods scheduled with error",
                pod: two(),
                nodes: vec![cap_node("node1", 4000, 10000, &[]), cap_node("node2", 6000, 10000, &[])],
                existing: vec![],
                resources: vec![],
                want: Ok(vec![-1, -1]),
            },
            ScoreCase {
                name: "no resources requested, pods scheduled",
                pod: pod(&[]),
                nodes: vec![cap_node("node1", 4000, 10000, &[]), cap_node("node2", 4000, 10000, &[])],
                existing: vec![(0, pod(&[])), (0, pod(&[])), (1, pod(&[])), (1, pod(&[]))],
                resources: d(),
                want: Ok(vec![100, 100]),
            },
            ScoreCase {
                name: "no resources requested, pods scheduled with resources",
                pod: pod(&[]),
                nodes: vec![cap_node("node1", 10000, 20000, &[]), cap_node("node2", 10000, 20000, &[])],
                existing: vec![
                    (0, explicit(3000, 0)),
                    (0, explicit(3000, 0)),
                    (1, explicit(3000, 0)),
                    (1, explicit(3000, 5000)),
                ],
                resources: d(),
                want: Ok(vec![70, 57]),
            },
            ScoreCase {
                name: "resources requested, pods scheduled with resources",
                pod: two(),
                nodes: vec![cap_node("node1", 10000, 20000, &[]), cap_node("node2", 10000, 20000, &[])],
                existing: vec![(0, explicit(3000, 0)), (1, explicit(3000, 5000))],
                resources: d(),
                want: Ok(vec![57, 45]),
            },
            ScoreCase {
                name: "resources requested, pods scheduled with resources, differently sized nodes",
                pod: two(),
                nodes: vec![cap_node("node1", 10000, 20000, &[]), cap_node("node2", 10000, 50000, &[])],
                existing: vec![(0, explicit(3000, 0)), (1, explicit(3000, 5000))],
                resources: d(),
                want: Ok(vec![57, 60]),
            },
            ScoreCase {
                name: "requested resources exceed node capacity",
                pod: explicit(3000, 0),
                nodes: vec![cap_node("node1", 4000, 10000, &[]), cap_node("node2", 4000, 10000, &[])],
                existing: vec![(0, explicit(3000, 0)), (1, explicit(3000, 5000))],
                resources: d(),
                want: Ok(vec![50, 25]),
            },
            ScoreCase {
                name: "zero node resources, pods scheduled with resources",
                pod: pod(&[]),
                nodes: vec![node("node1", &[]), node("node2", &[])],
                existing: vec![(0, explicit(3000, 0)), (1, explicit(3000, 5000))],
                resources: d(),
                want: Ok(vec![0, 0]),
            },
            ScoreCase {
                name: "nothing scheduled, resources requested with different weight on CPU and memory, differently sized nodes",
                pod: two(),
                nodes: vec![cap_node("node1", 4000, 10000, &[]), cap_node("node2", 6000, 10000, &[])],
                existing: vec![],
                resources: specs(&[("memory", 2), ("cpu", 1)]),
                want: Ok(vec![41, 50]),
            },
            ScoreCase {
                name: "resource with negative weight",
                pod: two(),
                nodes: vec![cap_node("node1", 4000, 10000, &[])],
                existing: vec![],
                resources: specs(&[("memory", -1), ("cpu", 1)]),
                want: Err(&["scoringStrategy.resources[0].weight"]),
            },
            ScoreCase {
                name: "resource with zero weight",
                pod: two(),
                nodes: vec![cap_node("node1", 4000, 10000, &[])],
                existing: vec![],
                resources: specs(&[("memory", 1), ("cpu", 0)]),
                want: Err(&["scoringStrategy.resources[1].weight"]),
            },
            ScoreCase {
                name: "resource weight larger than MaxNodeScore",
                pod: two(),
                nodes: vec![cap_node("node1", 4000, 10000, &[])],
                existing: vec![],
                resources: specs(&[("memory", 1), ("cpu", 101)]),
                want: Err(&["scoringStrategy.resources[1].weight"]),
            },
            ScoreCase {
                name: "bypass extended resource if the pod does not request",
                pod: two(),
                nodes: vec![
                    cap_node("node1", 6000, 10000, &[]),
                    cap_node("node2", 6000, 10000, &[(EXTENDED_RES, 4)]),
                ],
                existing: vec![],
                resources: extended_resource_set(),
                want: Ok(vec![50, 50]),
            },
            ScoreCase {
                name: "honor extended resource if the pod requests",
                pod: pod(&[&[("cpu", 3000 * C), ("memory", 5000), (EXTENDED_RES, 2)]]),
                nodes: vec![
                    cap_node("node1", 6000, 10000, &[(EXTENDED_RES, 4)]),
                    cap_node("node2", 6000, 10000, &[(EXTENDED_RES, 10)]),
                ],
                existing: vec![],
                resources: extended_resource_set(),
                want: Ok(vec![50, 60]),
            },
            ScoreCase {
                name: "if the node doesn't have a resource",
                pod: explicit(3000, 4000),
                nodes: vec![
                    cap_node("node1", 6000, 10000, &[]),
                    cap_node("node2", 6000, 10000, &[(EXTENDED_RES, 4)]),
                ],
                existing: vec![],
                resources: specs(&[(EXTENDED_RES, 2), ("cpu", 1), ("memory", 1)]),
                want: Ok(vec![55, 55]),
            },
        ];
        assert_eq!(cases.len(), 16);
        run_strategy_cases(ScoringStrategyType::LeastAllocated, cases);
    }

    /// Upstream most_allocated_test.go `TestMostAllocatedScoringStrategy`
    /// (14 of 14 rows).
    #[test]
    fn most_allocated_scoring_strategy() {
        let d = default_resources;
        let two = || pod(&[&req(1000, 2000), &req(2000, 3000)]);
        // st.MakePod().Container("container"): one container, no requests.
        let bare = || pod(&[&[]]);
        let cases = vec![
            ScoreCase {
                name: "nothing scheduled, nothing requested",
                pod: pod(&[]),
                nodes: vec![
                    cap_node("node1", 4000, 10000, &[]),
                    cap_node("node2", 4000, 10000, &[]),
                ],
                existing: vec![],
                resources: d(),
                want: Ok(vec![0, 0]),
            },
            ScoreCase {
                name: "nothing scheduled, resources requested, differently sized nodes",
                pod: two(),
                nodes: vec![
                    cap_node("node1", 4000, 10000, &[]),
                    cap_node("node2", 6000, 10000, &[]),
                ],
                existing: vec![],
                resources: d(),
                want: Ok(vec![62, 50]),
            },
            ScoreCase {
                name: "Resources not set, pods scheduled with error",
                pod: two(),
                nodes: vec![
                    cap_node("node1", 4000, 10000, &[]),
                    cap_node("node2", 6000, 10000, &[]),
                ],
                existing: vec![],
                resources: vec![],
                want: Ok(vec![-1, -1]),
            },
            ScoreCase {
                name: "no resources requested, pods scheduled with resources",
                pod: pod(&[]),
                nodes: vec![
                    cap_node("node1", 10000, 20000, &[]),
                    cap_node("node2", 10000, 20000, &[]),
                ],
                existing: vec![
                    (0, explicit(3000, 0)),
                    (0, explicit(3000, 0)),
                    (1, explicit(3000, 0)),
                    (1, explicit(3000, 5000)),
                ],
                resources: d(),
                want: Ok(vec![30, 42]),
            },
            ScoreCase {
                name: "resources requested, pods scheduled with resources",
                pod: two(),
                nodes: vec![
                    cap_node("node1", 10000, 20000, &[]),
                    cap_node("node2", 10000, 20000, &[]),
                ],
                existing: vec![(0, explicit(3000, 0)), (1, explicit(3000, 5000))],
                resources: d(),
                want: Ok(vec![42, 55]),
            },
            ScoreCase {
                name: "resources requested equal node capacity",
                pod: pod(&[&req(2000, 4000), &req(3000, 5000)]),
                nodes: vec![
                    cap_node("node1", 5000, 10000, &[]),
                    cap_node("node2", 10000, 9000, &[]),
                ],
                existing: vec![],
                resources: d(),
                want: Ok(vec![95, 75]),
            },
            ScoreCase {
                name: "nothing scheduled, resources requested, differently sized nodes (weighted)",
                pod: two(),
                nodes: vec![
                    cap_node("node1", 4000, 10000, &[]),
                    cap_node("node2", 6000, 10000, &[]),
                ],
                existing: vec![],
                resources: specs(&[("memory", 2), ("cpu", 1)]),
                want: Ok(vec![58, 50]),
            },
            ScoreCase {
                name: "no resources requested, pods scheduled, nonzero request for resource",
                pod: bare(),
                nodes: vec![
                    node("node1", &[("cpu", 250), ("memory", 1000 << 20)]),
                    node("node2", &[("cpu", 250), ("memory", 1000 << 20)]),
                ],
                existing: vec![(0, bare()), (0, bare())],
                resources: d(),
                want: Ok(vec![80, 30]),
            },
            ScoreCase {
                name: "resource with negative weight",
                pod: two(),
                nodes: vec![cap_node("node2", 4000, 10000, &[])],
                existing: vec![],
                resources: specs(&[("memory", -1), ("cpu", 1)]),
                want: Err(&["scoringStrategy.resources[0].weight"]),
            },
            ScoreCase {
                name: "resource with zero weight",
                pod: two(),
                nodes: vec![cap_node("node2", 4000, 10000, &[])],
                existing: vec![],
                resources: specs(&[("memory", 1), ("cpu", 0)]),
                want: Err(&["scoringStrategy.resources[1].weight"]),
            },
            ScoreCase {
                name: "resource weight larger than MaxNodeScore",
                pod: two(),
                nodes: vec![cap_node("node2", 4000, 10000, &[])],
                existing: vec![],
                resources: specs(&[("memory", 101)]),
                want: Err(&["scoringStrategy.resources[0].weight"]),
            },
            ScoreCase {
                name: "bypass extended resource if the pod does not request",
                pod: two(),
                nodes: vec![
                    cap_node("node1", 6000, 10000, &[]),
                    cap_node("node2", 6000, 10000, &[(EXTENDED_RES, 4)]),
                ],
                existing: vec![],
                resources: extended_resource_set(),
                want: Ok(vec![50, 50]),
            },
            ScoreCase {
                name: "honor extended resource if the pod request",
                pod: pod(&[&[("cpu", 3000 * C), ("memory", 5000), (EXTENDED_RES, 2)]]),
                nodes: vec![
                    cap_node("node1", 6000, 10000, &[(EXTENDED_RES, 4)]),
                    cap_node("node2", 6000, 10000, &[(EXTENDED_RES, 10)]),
                ],
                existing: vec![],
                resources: extended_resource_set(),
                want: Ok(vec![50, 40]),
            },
            ScoreCase {
                name: "if the node doesn't have a resource",
                pod: explicit(3000, 4000),
                nodes: vec![
                    cap_node("node1", 6000, 10000, &[]),
                    cap_node("node2", 6000, 10000, &[(EXTENDED_RES, 4)]),
                ],
                existing: vec![],
                resources: specs(&[(EXTENDED_RES, 2), ("cpu", 1), ("memory", 1)]),
                want: Ok(vec![45, 45]),
            },
        ];
        assert_eq!(cases.len(), 14);
        run_strategy_cases(ScoringStrategyType::MostAllocated, cases);
    }

    fn rtcr_args(resources: Vec<ResourceSpec>, shape: Vec<(i64, i64)>) -> NodeResourcesFitArgs {
        NodeResourcesFitArgs {
            strategy: ScoringStrategyType::RequestedToCapacityRatio,
            resources,
            shape,
            ..Default::default()
        }
    }

    /// Upstream requested_to_capacity_ratio_test.go
    /// `TestRequestedToCapacityRatioScoringStrategy` (3 of 3 rows).
    #[test]
    fn requested_to_capacity_ratio_scoring_strategy() {
        let shape = vec![(0, 10), (100, 0)];
        let cases: [RtcrCase; 3] = [
            (
                "nothing scheduled, nothing requested (default - least requested nodes have priority)",
                pod(&[]),
                vec![cap_node("node1", 4000, 10000, &[]), cap_node("node2", 4000, 10000, &[])],
                vec![(0, pod(&[])), (0, pod(&[]))],
                [100, 100],
            ),
            (
                "nothing scheduled, resources requested, differently sized nodes (default - least requested nodes have priority)",
                pod(&[&req(1000, 2000), &req(2000, 3000)]),
                vec![cap_node("node1", 4000, 10000, &[]), cap_node("node2", 6000, 10000, &[])],
                vec![(0, pod(&[])), (0, pod(&[]))],
                [38, 50],
            ),
            (
                "no resources requested, pods scheduled with resources (default - least requested nodes have priority)",
                pod(&[]),
                vec![cap_node("node1", 4000, 10000, &[]), cap_node("node2", 6000, 10000, &[])],
                vec![(0, explicit(3000, 5000)), (1, explicit(3000, 5000))],
                [38, 50],
            ),
        ];
        for (name, p, nodes, existing, want) in cases {
            let got = score_all(
                rtcr_args(default_resources(), shape.clone()),
                &p,
                nodes,
                &existing,
                true,
            );
            assert_eq!(got, ok(&want), "{name}");
        }
    }

    /// Upstream `TestBrokenLinearFunction` (3 of 3 rows, 28 assertions).
    #[test]
    fn broken_linear_function_table() {
        let cases: [(Points, Points); 3] = [
            (
                &[(10, 1), (90, 9)],
                &[
                    (-10, 1),
                    (0, 1),
                    (9, 1),
                    (10, 1),
                    (15, 1),
                    (19, 1),
                    (20, 2),
                    (89, 8),
                    (90, 9),
                    (99, 9),
                    (100, 9),
                    (110, 9),
                ],
            ),
            (
                &[(0, 2), (40, 10), (100, 0)],
                &[
                    (-10, 2),
                    (0, 2),
                    (20, 6),
                    (30, 8),
                    (40, 10),
                    (70, 5),
                    (100, 0),
                    (110, 0),
                ],
            ),
            (
                &[(0, 2), (40, 2), (100, 2)],
                &[
                    (-10, 2),
                    (0, 2),
                    (20, 2),
                    (30, 2),
                    (40, 2),
                    (70, 2),
                    (100, 2),
                    (110, 2),
                ],
            ),
        ];
        for (shape, asserts) in cases {
            for &(p, want) in asserts {
                assert_eq!(broken_linear_function(shape, p), want, "{shape:?} p={p}");
            }
        }
        assert_eq!(broken_linear_function(&[], 50), 0);
    }

    /// `makeNode(name, milliCPU, memory, extendedResource)`.
    fn make_node(name: &str, milli_cpu: i64, memory: i64, ext: &[(&str, i64)]) -> Node {
        let mut v: Vec<(&str, i64)> = vec![("cpu", milli_cpu), ("memory", memory)];
        v.extend_from_slice(ext);
        node(name, &v)
    }

    /// Upstream `TestResourceBinPackingSingleExtended` (4 of 4 rows).
    #[test]
    fn resource_bin_packing_single_extended() {
        let mi = 1 << 20;
        let nodes = || {
            vec![
                make_node("node1", 4000, 10000 * mi, &[("intel.com/foo", 8)]),
                make_node("node2", 4000, 10000 * mi, &[("intel.com/foo", 4)]),
            ]
        };
        let foo = |n| pod(&[&[("intel.com/foo", n)]]);
        let cases: [(&str, Pod, Placed, [i64; 2]); 4] = [
            ("nothing scheduled, nothing requested", pod(&[]), vec![], [0, 0]),
            (
                "resources requested, pods scheduled with less resources",
                foo(2),
                vec![],
                [2, 5],
            ),
            (
                "resources requested, pods scheduled with resources, on node with existing pod running ",
                foo(2),
                vec![(1, foo(2))],
                [2, 10],
            ),
            (
                "resources requested, pods scheduled with more resources",
                foo(4),
                vec![],
                [5, 10],
            ),
        ];
        for (name, p, existing, want) in cases {
            let args = rtcr_args(specs(&[("intel.com/foo", 1)]), vec![(0, 0), (100, 1)]);
            assert_eq!(
                score_all(args, &p, nodes(), &existing, true),
                ok(&want),
                "{name}"
            );
        }
    }

    /// Upstream `TestResourceBinPackingMultipleExtended` (4 of 4 rows).
    #[test]
    fn resource_bin_packing_multiple_extended() {
        let mi = 1 << 20;
        let nodes = || {
            vec![
                make_node(
                    "node1",
                    4000,
                    10000 * mi,
                    &[("intel.com/foo", 8), ("intel.com/bar", 4)],
                ),
                make_node(
                    "node2",
                    4000,
                    10000 * mi,
                    &[("intel.com/foo", 4), ("intel.com/bar", 8)],
                ),
            ]
        };
        let fb = |f, b| pod(&[&[("intel.com/foo", f), ("intel.com/bar", b)]]);
        let cases: [(&str, Pod, Placed, [i64; 2]); 4] = [
            ("nothing scheduled, nothing requested", pod(&[]), vec![], [0, 0]),
            (
                "resources requested, pods scheduled with less resources",
                fb(2, 2),
                vec![],
                [4, 3],
            ),
            (
                "resources requested, pods scheduled with resources, on node with existing pod running ",
                fb(2, 2),
                vec![(1, fb(4, 2))],
                [4, 7],
            ),
            (
                "resources requested, pods scheduled with more resources",
                fb(4, 2),
                vec![],
                [5, 5],
            ),
        ];
        for (name, p, existing, want) in cases {
            let args = rtcr_args(
                specs(&[("intel.com/foo", 3), ("intel.com/bar", 5)]),
                vec![(0, 0), (100, 1)],
            );
            assert_eq!(
                score_all(args, &p, nodes(), &existing, true),
                ok(&want),
                "{name}"
            );
        }
    }

    /// Upstream resource_allocation_test.go
    /// `TestResourceAllocationScorerCalculateRequests` (8 of 8 rows), run
    /// through the model's own `nonzero_requests` (no explicit zeros here).
    #[test]
    fn resource_allocation_scorer_calculate_requests() {
        use crate::model::pod::{DEFAULT_MEMORY_REQUEST as DM, DEFAULT_MILLI_CPU_REQUEST as DC};
        let mi = 1 << 20;
        let one: &[(&str, i64)] = &[("cpu", 1000), ("memory", mi)];
        let oh = |s: &mut crate::model::pod::PodSpec| {
            s.overhead = Resources::new(1000, mi);
        };
        let mk = |cs: &[Req], is: &[Req], overhead: bool| {
            let mut s = spec(
                cs.iter().map(|r| container("img", r)).collect(),
                is.iter().map(|r| container("img", r)).collect(),
            );
            if overhead {
                oh(&mut s);
            }
            pod_from_spec(s)
        };
        let cases: [(&str, Pod, i64, i64); 8] = [
            ("overhead only", mk(&[], &[], true), 1000, mi),
            ("1x requestless container", mk(&[&[]], &[], false), DC, DM),
            ("2x requestless container", mk(&[&[], &[]], &[], false), 2 * DC, 2 * DM),
            (
                "request container + requestless container",
                mk(&[one, &[]], &[], false),
                1000 + DC,
                mi + DM,
            ),
            (
                "container + requestless container + overhead",
                mk(&[one, &[]], &[], true),
                2000 + DC,
                2 * mi + DM,
            ),
            (
                "init container + container + requestless container + overhead",
                mk(&[one, &[]], &[&[("cpu", 3000)]], true),
                4000,
                2 * mi + DM,
            ),
            (
                "requestless init container + small init container + small container ",
                mk(&[&[("cpu", 3), ("memory", 3)]], &[&[], &[("cpu", 1), ("memory", 1)]], false),
                DC,
                DM,
            ),
            (
                "requestless init container + small init container + small container + requestless container ",
                mk(
                    &[&[("cpu", 3), ("memory", 3)], &[]],
                    &[&[], &[("cpu", 1), ("memory", 1)]],
                    false,
                ),
                3 + DC,
                3 + DM,
            ),
        ];
        let scorer = ResourceAllocationScorer {
            use_requested: false,
            resources: default_resources(),
        };
        for (name, p, cpu, mem) in cases {
            assert_eq!(scorer.pod_resource_request(&p, "cpu"), cpu, "{name}");
            assert_eq!(scorer.pod_resource_request(&p, "memory"), mem, "{name}");
        }
    }

    /// Upstream validation_pluginargs_test.go `TestValidateFitArgs` (8 of 10
    /// rows: a missing or unsupported strategy cannot be expressed).
    #[test]
    fn validate_fit_args() {
        let with = |ignored: Vec<String>, groups: Vec<String>| NodeResourcesFitArgs {
            ignored_resources: ignored,
            ignored_resource_groups: groups,
            ..Default::default()
        };
        let long_res = format!("longvalue{}", "a".repeat(64));
        let cases: [(&str, NodeResourcesFitArgs, Option<&str>); 8] = [
            (
                "IgnoredResources: too long value",
                with(vec![long_res.clone()], vec![]),
                Some("name part must be no more than 63 characters"),
            ),
            (
                "IgnoredResources: name is empty",
                with(vec!["example.com/".into()], vec![]),
                Some("name part must be non-empty"),
            ),
            (
                "IgnoredResources: name has too many slash",
                with(vec!["example.com/aaa/bbb".into()], vec![]),
                Some("a qualified name must consist of alphanumeric characters"),
            ),
            (
                "IgnoredResources: valid args",
                with(vec!["example.com".into()], vec![]),
                None,
            ),
            (
                "IgnoredResourceGroups: valid args ",
                with(vec![], vec!["example.com".into()]),
                None,
            ),
            (
                "IgnoredResourceGroups: illegal args",
                with(vec![], vec!["example.com/".into()]),
                Some("name part must be non-empty"),
            ),
            (
                "IgnoredResourceGroups: name is too long",
                with(vec![], vec!["a".repeat(64)]),
                Some("name part must be no more than 63 characters"),
            ),
            (
                "IgnoredResourceGroups: name cannot be contain slash",
                with(vec![], vec!["example.com/aa".into()]),
                Some("resource group name can't contain '/'"),
            ),
        ];
        for (name, args, want) in cases {
            match (validate_args(&args), want) {
                (Ok(()), None) => {}
                (Err(e), Some(w)) => assert!(e.contains(w), "{name}: {e}"),
                (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
            }
        }
        // Exact wording of a whole aggregate.
        assert_eq!(
            validate_args(&with(vec![], vec!["example.com/aa".into()])).unwrap_err(),
            "ignoredResourceGroups[0]: Invalid value: \"example.com/aa\": resource group name can't contain '/'"
        );
        assert_eq!(
            validate_args(&with(vec![long_res], vec![])).unwrap_err(),
            format!(
                "ignoredResources[0]: Invalid value: \"longvalue{}\": name part must be no more than 63 characters",
                "a".repeat(64)
            )
        );
    }

    /// Upstream `TestValidateLeastAllocatedScoringStrategy` and
    /// `TestValidateMostAllocatedScoringStrategy` (5 of 5 rows each).
    #[test]
    fn validate_least_and_most_allocated_scoring_strategy() {
        let cases: [(&str, Vec<ResourceSpec>, &[&str]); 5] = [
            ("default config", vec![], &[]),
            (
                "multi valid resources",
                specs(&[("cpu", 1), ("memory", 10)]),
                &[],
            ),
            (
                "weight less than min",
                specs(&[("cpu", 0)]),
                &["scoringStrategy.resources[0].weight"],
            ),
            (
                "weight greater than max",
                specs(&[("cpu", 101)]),
                &["scoringStrategy.resources[0].weight"],
            ),
            (
                "multi invalid resources",
                specs(&[("cpu", 0), ("memory", 101)]),
                &[
                    "scoringStrategy.resources[0].weight",
                    "scoringStrategy.resources[1].weight",
                ],
            ),
        ];
        for strategy in [
            ScoringStrategyType::LeastAllocated,
            ScoringStrategyType::MostAllocated,
        ] {
            for (name, resources, paths) in &cases {
                let r = validate_args(&strategy_args(strategy, resources.clone()));
                check_paths(name, r, paths);
            }
        }
        assert_eq!(
            validate_args(&strategy_args(
                ScoringStrategyType::LeastAllocated,
                specs(&[("cpu", 0), ("memory", 101)])
            ))
            .unwrap_err(),
            "[scoringStrategy.resources[0].weight: Invalid value: 0: resource weight of cpu not in valid range (0, 100], \
             scoringStrategy.resources[1].weight: Invalid value: 101: resource weight of memory not in valid range (0, 100]]"
        );
    }

    fn check_paths(name: &str, r: Result<(), String>, paths: &[&str]) {
        match r {
            Ok(()) => assert!(paths.is_empty(), "{name}: want errors at {paths:?}"),
            Err(e) => {
                assert!(!paths.is_empty(), "{name}: unexpected {e}");
                for p in paths {
                    assert!(e.contains(&format!("{p}: ")), "{name}: {e}");
                }
                assert_eq!(
                    e.matches("Invalid value").count() + e.matches("Required value").count(),
                    paths.len(),
                    "{name}: {e}"
                );
            }
        }
    }

    /// Upstream `TestValidateRequestedToCapacityRatioScoringStrategy`
    /// (11 of 11 rows).
    #[test]
    fn validate_requested_to_capacity_ratio_scoring_strategy() {
        let default_shape = vec![(30, 3)];
        let cases: [ShapeCase; 11] = [
            ("no shapes", vec![], vec![], &["scoringStrategy.shape"]),
            (
                "weight greater than max",
                specs(&[("cpu", 101)]),
                default_shape.clone(),
                &["scoringStrategy.resources[0].weight"],
            ),
            (
                "weight less than min",
                specs(&[("cpu", 0)]),
                default_shape.clone(),
                &["scoringStrategy.resources[0].weight"],
            ),
            ("valid shapes", vec![], default_shape.clone(), &[]),
            (
                "utilization less than min",
                vec![],
                vec![(-1, 3)],
                &["scoringStrategy.shape[0].utilization"],
            ),
            (
                "utilization greater than max",
                vec![],
                vec![(101, 3)],
                &["scoringStrategy.shape[0].utilization"],
            ),
            (
                "duplicated utilization values",
                vec![],
                vec![(10, 3), (10, 3)],
                &["scoringStrategy.shape[1].utilization"],
            ),
            (
                "increasing utilization values",
                vec![],
                vec![(10, 3), (20, 3), (30, 3)],
                &[],
            ),
            (
                "non-increasing utilization values",
                vec![],
                vec![(10, 3), (20, 3), (15, 3)],
                &["scoringStrategy.shape[2].utilization"],
            ),
            (
                "score less than min",
                vec![],
                vec![(10, -1)],
                &["scoringStrategy.shape[0].score"],
            ),
            (
                "score greater than max",
                vec![],
                vec![(10, 11)],
                &["scoringStrategy.shape[0].score"],
            ),
        ];
        for (name, resources, shape, paths) in cases {
            check_paths(name, validate_args(&rtcr_args(resources, shape)), paths);
        }
        assert_eq!(
            validate_args(&rtcr_args(vec![], vec![])).unwrap_err(),
            "scoringStrategy.shape: Required value: at least one point must be specified"
        );
        assert_eq!(
            validate_args(&rtcr_args(vec![], vec![(10, 3), (10, 3)])).unwrap_err(),
            "scoringStrategy.shape[1].utilization: Invalid value: 10: values must be sorted in increasing order"
        );
    }

    #[test]
    fn resource_name_helpers() {
        assert!(is_extended_resource_name("example.com/aaa"));
        assert!(!is_extended_resource_name("kubernetes.io/something"));
        assert!(!is_extended_resource_name("cpu"));
        assert!(!is_extended_resource_name("requests.example.com/x"));
        assert!(is_scalar_resource_name("hugepages-2Mi"));
        assert!(is_scalar_resource_name("attachable-volumes-aws-ebs"));
        assert!(is_scalar_resource_name("subdomain.kubernetes.io/something"));
        assert!(!is_scalar_resource_name("pods"));
        assert!(!is_scalar_resource_name("ephemeral-storage"));
        // Pods are never scored, as upstream (not a scalar resource).
        let n = node("n", &[("cpu", 1000), ("pods", 10)]);
        let s = ResourceAllocationScorer {
            use_requested: true,
            resources: specs(&[("pods", 1)]),
        };
        assert_eq!(s.allocatable_request(&n, "pods", 1), (0, 0));
    }

    #[test]
    fn no_panics_on_extreme_values() {
        assert_eq!(least_requested_score(i64::MAX, i64::MAX), 0);
        assert_eq!(least_requested_score(0, -1), 0);
        let _ = least_requested_score(i64::MIN, -1);
        let _ = most_requested_score(i64::MAX, i64::MAX);
        let _ = most_requested_score(i64::MIN, -1);
        let shape = scale_shape(&[(0, 10), (100, 0)]);
        let _ = requested_to_capacity_ratio_resource_score(&shape, i64::MAX, i64::MAX);
        let _ = requested_to_capacity_ratio_resource_score(&shape, i64::MIN, -1);
        let _ = broken_linear_function(&[(5, 1), (5, 2)], 5);
        let _ = broken_linear_function(&[(5, 1), (3, 2)], 4);
        let r = specs(&[("cpu", i64::MAX), ("memory", i64::MIN)]);
        let _ = least_resource_scorer(&r, &[1, 1], &[1, 1]);
        let _ = requested_to_capacity_ratio_scorer(&r, &shape, &[1, 1], &[1, 1]);
        // A huge node and pod.
        let mut n = node(
            "n",
            &[("cpu", i64::MAX), ("memory", i64::MAX), ("pods", i64::MAX)],
        );
        let big = pod(&[&[("cpu", i64::MAX), ("memory", i64::MAX)]]);
        place(&mut n, &[&big], 0);
        let _ = fits(&big, &n);
        for strategy in [
            ScoringStrategyType::LeastAllocated,
            ScoringStrategyType::MostAllocated,
        ] {
            let _ = score_all(
                strategy_args(strategy, default_resources()),
                &big,
                vec![n.clone()],
                &[],
                true,
            );
        }
        let _ = score_all(
            rtcr_args(default_resources(), vec![(0, 0), (100, 10)]),
            &big,
            vec![n],
            &[],
            false,
        );
    }
}
