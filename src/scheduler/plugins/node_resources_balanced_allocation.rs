//! NodeResourcesBalancedAllocation (PreScore, Score): favours nodes whose
//! resource utilisation fractions (requested / allocatable, the pod
//! included) are close to each other: score = (1 − std) × MaxNodeScore,
//! where std is the standard deviation of the fractions (each capped at 1).
//!
//! Follows kube-scheduler **v1.35**,
//! pkg/scheduler/framework/plugins/noderesources/`balanced_allocation.go`
//! (`PreScore`, `Score`, `balancedResourceScorer`) on top of
//! `resource_allocation.go` (shared with NodeResourcesFit, see
//! [`ResourceAllocationScorer`]: actual requests, not the non-zero scoring
//! defaults, and resources the node lacks are skipped), and
//! apis/config/validation `ValidateNodeResourcesBalancedAllocationArgs`.
//! PreScore returns Skip for a pod that requests none of the resources
//! (best-effort), so such pods are not piled onto one node (upstream issue
//! 129138); Score without PreScore state then scores 0.
//!
//! Kubernetes v1.36 changed this formula (it scores the improvement in
//! balance the pod brings, mapped onto [MaxNodeScore/2, MaxNodeScore]);
//! kubesim follows v1.35.
//!
//! Upstream computes in float64; this module performs the very same IEEE-754
//! double operations in the same order (int64→float64 conversions, one
//! division per fraction, the two-resource shortcut `|f0 − f1| / 2`,
//! otherwise mean, sum of squared deviations accumulated left to right,
//! correctly rounded `sqrt`, then `(1 − std) × 100` truncated toward zero).
//! That is deterministic on one platform and matches Go on amd64, where the
//! Go compiler does not fuse multiply-adds (on arm64/ppc64le/s390x Go may
//! fuse `sum + d*d` into an FMA, which can differ in the last bit).
//!
//! Not modelled (upstream rows skipped in the tests below): DRA-backed
//! extended resources (DRAExtendedResource), pod-level resources, in-place
//! resize, `SignPod`.

use crate::model::{Node, NodeId, Pod};
use crate::scheduler::config::{BalancedAllocationArgs, ResourceSpec};
use crate::scheduler::framework::{ClusterView, CycleState, Plugin, Point, Status, MAX_NODE_SCORE};

use super::node_resources_fit::{aggregate, field_invalid, ResourceAllocationScorer};

/// The plugin name.
pub const NAME: &str = "NodeResourcesBalancedAllocation";
/// Upstream `balancedAllocationPreScoreStateKey`.
pub const PRE_SCORE_STATE_KEY: &str = "PreScoreNodeResourcesBalancedAllocation";

/// PreScore state: the pod's request of each resource, in args order.
#[derive(Clone, Debug)]
struct PreScoreState {
    pod_requests: Vec<i64>,
}

/// The NodeResourcesBalancedAllocation plugin.
pub struct BalancedAllocation {
    scorer: ResourceAllocationScorer,
}

/// Upstream `ValidateNodeResourcesBalancedAllocationArgs(nil, args)`: no
/// duplicate resource names, every weight exactly 1.
pub fn validate_args(args: &BalancedAllocationArgs) -> Result<(), String> {
    let mut errs = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (i, r) in args.resources.iter().enumerate() {
        if seen.contains(&r.name.as_str()) {
            errs.push(format!(
                "resources[{i}].name: Duplicate value: {}",
                crate::model::labels::go_quote(&r.name)
            ));
        } else {
            seen.push(&r.name);
        }
        if r.weight != 1 {
            errs.push(field_invalid(
                &format!("resources[{i}].weight"),
                &r.weight.to_string(),
                "must be 1",
            ));
        }
    }
    match aggregate(errs) {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

impl BalancedAllocation {
    /// Upstream `NewBalancedAllocation`.
    pub fn new(args: BalancedAllocationArgs) -> Result<BalancedAllocation, String> {
        validate_args(&args)?;
        Ok(BalancedAllocation {
            scorer: ResourceAllocationScorer {
                use_requested: true,
                resources: args.resources,
            },
        })
    }

    /// The resources this plugin balances.
    pub fn resources(&self) -> &[ResourceSpec] {
        &self.scorer.resources
    }

    fn score_node(&self, node: &Node, pod_requests: &[i64]) -> Result<i64, Status> {
        let (requested, allocatable) = self.scorer.requested_allocatable_buf(node, pod_requests)?;
        Ok(balanced_resource_scorer(&requested, &allocatable))
    }
}

/// Upstream `balancedResourceScorer` (v1.35): over the resources the node
/// has (non-zero allocatable), fraction = requested / allocatable capped at
/// 1; std = |f0 − f1| / 2 for two fractions, the population standard
/// deviation for more, 0 otherwise; score = int64((1 − std) × MaxNodeScore).
pub fn balanced_resource_scorer(requested: &[i64], allocatable: &[i64]) -> i64 {
    // Same float64 operations, in the same order, as upstream; the
    // fractions are recomputed rather than stored (no allocation per node).
    let fraction = |req: i64, alloc: i64| {
        let f = req as f64 / alloc as f64;
        if f > 1.0 {
            1.0
        } else {
            f
        }
    };
    let pairs = || requested.iter().zip(allocatable).filter(|(_, &a)| a != 0);
    let mut total_fraction = 0.0f64;
    let mut count = 0usize;
    let mut first = [0.0f64; 2];
    for (&req, &alloc) in pairs() {
        let f = fraction(req, alloc);
        total_fraction += f;
        if count < 2 {
            first[count] = f;
        }
        count += 1;
    }

    let mut std = 0.0f64;
    if count == 2 {
        std = ((first[0] - first[1]) / 2.0).abs();
    } else if count > 2 {
        let n = count as f64;
        let mean = total_fraction / n;
        let mut sum = 0.0f64;
        for (&req, &alloc) in pairs() {
            let f = fraction(req, alloc);
            sum += (f - mean) * (f - mean);
        }
        std = (sum / n).sqrt();
    }

    // Go's float64→int64 conversion truncates toward zero; the value is in
    // [0, MaxNodeScore] (never NaN: allocatable is non-zero), where `as`
    // does the same.
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

impl Plugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        NAME
    }
    fn points(&self) -> &'static [Point] {
        &[Point::PreScore, Point::Score]
    }
    fn node_local(&self) -> bool {
        true
    }

    fn pre_score(
        &self,
        state: &mut CycleState,
        pod: &Pod,
        _: &[NodeId],
        _: &ClusterView,
    ) -> Status {
        let pod_requests = self.scorer.pod_resource_request_list(pod);
        if ResourceAllocationScorer::is_best_effort(&pod_requests) {
            // Skip scoring best-effort pods so that many of them are not
            // piled onto the same node (upstream issue 129138).
            return Status::skip();
        }
        state.write(PRE_SCORE_STATE_KEY, PreScoreState { pod_requests });
        Status::success()
    }

    fn score(
        &self,
        state: &CycleState,
        pod: &Pod,
        node: &Node,
        _: &ClusterView,
    ) -> Result<i64, Status> {
        if let Some(s) = state.read::<PreScoreState>(PRE_SCORE_STATE_KEY) {
            return self.score_node(node, &s.pod_requests);
        }
        let pod_requests = self.scorer.pod_resource_request_list(pod);
        if ResourceAllocationScorer::is_best_effort(&pod_requests) {
            return Ok(0);
        }
        self.score_node(node, &pod_requests)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::scheduler::config::default_resources;
    use crate::scheduler::framework::Code;
    use crate::scheduler::plugins::node_resources_fit::testutil::*;

    fn specs(v: &[(&str, i64)]) -> Vec<ResourceSpec> {
        v.iter()
            .map(|(n, w)| ResourceSpec {
                name: n.to_string(),
                weight: *w,
            })
            .collect()
    }

    /// `makeNode(name, milliCPU, memory, extendedResource)`.
    fn make_node(name: &str, milli_cpu: i64, memory: i64, ext: &[(&str, i64)]) -> Node {
        let mut v: Vec<(&str, i64)> = vec![("cpu", milli_cpu), ("memory", memory)];
        v.extend_from_slice(ext);
        node(name, &v)
    }

    struct Case {
        name: &'static str,
        pod: Pod,
        /// (node index, pod) placed before scoring.
        existing: Vec<(usize, Pod)>,
        nodes: Vec<Node>,
        resources: Vec<ResourceSpec>,
        run_pre_score: bool,
        want_pre_score: Code,
        want: Vec<i64>,
    }

    /// Upstream balanced_allocation_test.go `TestNodeResourcesBalancedAllocation`
    /// (8 of 10 rows: the two DRA-backed extended resource rows are not
    /// modelled).
    #[test]
    fn node_resources_balanced_allocation() {
        // Upstream's pod specs; their nodeName decides where existing pods go.
        let cpu_and_memory = || {
            pod(&[
                &[("cpu", 1000), ("memory", 2000)],
                &[("cpu", 2000), ("memory", 3000)],
            ])
        };
        let cpu_only = || {
            pod(&[
                &[("cpu", 1000), ("memory", 0)],
                &[("cpu", 2000), ("memory", 0)],
            ])
        };
        let cpu_mem_gpu = || {
            pod(&[
                &[("cpu", 1000), ("memory", 2000)],
                &[("cpu", 2000), ("memory", 3000), ("nvidia.com/gpu", 3)],
            ])
        };
        let gpu8: &[(&str, i64)] = &[("nvidia.com/gpu", 8)];
        let d = default_resources;
        let with_gpu = || specs(&[("cpu", 1), ("memory", 1), ("nvidia.com/gpu", 1)]);
        let cases = vec![
            Case {
                name: "nothing scheduled, nothing requested, skip in PreScore",
                pod: pod(&[]),
                existing: vec![],
                nodes: vec![
                    make_node("node1", 4000, 10000, &[]),
                    make_node("node2", 4000, 10000, &[]),
                ],
                resources: d(),
                run_pre_score: true,
                want_pre_score: Code::Skip,
                want: vec![],
            },
            Case {
                name: "nothing scheduled, resources requested, differently sized nodes",
                pod: cpu_and_memory(),
                existing: vec![],
                nodes: vec![
                    make_node("node1", 4000, 10000, &[]),
                    make_node("node2", 6000, 10000, &[]),
                ],
                resources: d(),
                run_pre_score: true,
                want_pre_score: Code::Success,
                want: vec![87, 100],
            },
            Case {
                name: "resources requested, pods scheduled with resources",
                pod: cpu_and_memory(),
                // cpuOnly has nodeName node1, cpuAndMemory node2.
                existing: vec![(0, cpu_only()), (1, cpu_and_memory())],
                nodes: vec![
                    make_node("node1", 10000, 20000, &[]),
                    make_node("node2", 10000, 20000, &[]),
                ],
                resources: d(),
                run_pre_score: true,
                want_pre_score: Code::Success,
                want: vec![82, 95],
            },
            Case {
                name: "resources requested, pods scheduled with resources, differently sized nodes",
                pod: cpu_and_memory(),
                existing: vec![(0, cpu_only()), (1, cpu_and_memory())],
                nodes: vec![
                    make_node("node1", 10000, 20000, &[]),
                    make_node("node2", 10000, 50000, &[]),
                ],
                resources: d(),
                run_pre_score: true,
                want_pre_score: Code::Success,
                want: vec![82, 80],
            },
            Case {
                name: "requested resources at node capacity",
                pod: cpu_only(),
                existing: vec![(0, cpu_only()), (1, cpu_and_memory())],
                nodes: vec![
                    make_node("node1", 6000, 10000, &[]),
                    make_node("node2", 6000, 10000, &[]),
                ],
                resources: d(),
                run_pre_score: true,
                want_pre_score: Code::Success,
                want: vec![50, 75],
            },
            Case {
                name: "include scalar resource on a node for balanced resource allocation",
                pod: pod(&[&[("memory", 0), ("nvidia.com/gpu", 1)]]),
                // cpuAndMemory has nodeName node2, cpuAndMemoryAndGPU node1.
                existing: vec![(1, cpu_and_memory()), (0, cpu_mem_gpu())],
                nodes: vec![
                    make_node("node1", 3500, 40000, gpu8),
                    make_node("node2", 3500, 40000, gpu8),
                ],
                resources: with_gpu(),
                run_pre_score: true,
                want_pre_score: Code::Success,
                want: vec![70, 65],
            },
            Case {
                name: "node without the scalar resource should skip the scalar resource",
                pod: cpu_and_memory(),
                existing: vec![],
                nodes: vec![
                    make_node("node1", 3500, 40000, gpu8),
                    make_node("node2", 3500, 40000, &[]),
                ],
                resources: with_gpu(),
                run_pre_score: true,
                want_pre_score: Code::Success,
                want: vec![63, 63],
            },
            Case {
                name: "resources requested, pods scheduled with resources if PreScore not called",
                pod: cpu_and_memory(),
                existing: vec![(0, cpu_only()), (1, cpu_and_memory())],
                nodes: vec![
                    make_node("node1", 10000, 20000, &[]),
                    make_node("node2", 10000, 20000, &[]),
                ],
                resources: d(),
                run_pre_score: false,
                want_pre_score: Code::Success,
                want: vec![82, 95],
            },
        ];
        assert_eq!(cases.len(), 8);
        for tc in cases {
            let mut nodes = tc.nodes;
            for (k, (i, p)) in tc.existing.iter().enumerate() {
                place(&mut nodes[*i], &[p], k as u32);
            }
            let plugin = BalancedAllocation::new(BalancedAllocationArgs {
                resources: tc.resources,
            })
            .expect("valid args");
            with_view(&nodes, &BTreeMap::new(), |view, ids| {
                let mut state = CycleState::default();
                if tc.run_pre_score {
                    let s = plugin.pre_score(&mut state, &tc.pod, ids, view);
                    assert_eq!(s.code, tc.want_pre_score, "{}: PreScore", tc.name);
                    if s.is_skip() {
                        return;
                    }
                }
                let got: Vec<i64> = nodes
                    .iter()
                    .map(|n| plugin.score(&state, &tc.pod, n, view).expect("score"))
                    .collect();
                assert_eq!(got, tc.want, "{}", tc.name);
            });
        }
    }

    #[test]
    fn best_effort_without_pre_score_scores_zero() {
        let plugin = BalancedAllocation::new(Default::default()).unwrap();
        let nodes = vec![make_node("node1", 4000, 10000, &[])];
        let p = pod(&[&[]]);
        with_view(&nodes, &BTreeMap::new(), |view, _| {
            assert_eq!(
                plugin.score(&CycleState::default(), &p, &nodes[0], view),
                Ok(0)
            );
        });
    }

    #[test]
    fn empty_resources_is_an_error_status() {
        let plugin = BalancedAllocation::new(BalancedAllocationArgs { resources: vec![] }).unwrap();
        let nodes = vec![make_node("node1", 4000, 10000, &[])];
        let p = pod(&[&[("cpu", 100)]]);
        with_view(&nodes, &BTreeMap::new(), |view, _| {
            // No resources: every pod is "best effort" for PreScore.
            assert!(plugin
                .pre_score(&mut CycleState::default(), &p, &[], view)
                .is_skip());
        });
        let e = plugin.score_node(&nodes[0], &[]).unwrap_err();
        assert_eq!(e.code, Code::Error);
        assert_eq!(e.message(), "resources not found");
    }

    /// Upstream validation_pluginargs_test.go
    /// `TestValidateNodeResourcesBalancedAllocationArgs`-style rows.
    #[test]
    fn validate_balanced_allocation_args() {
        assert!(validate_args(&Default::default()).is_ok());
        assert!(validate_args(&BalancedAllocationArgs {
            resources: specs(&[("cpu", 1), ("memory", 1), ("nvidia.com/gpu", 1)])
        })
        .is_ok());
        assert_eq!(
            validate_args(&BalancedAllocationArgs {
                resources: specs(&[("cpu", 2)])
            })
            .unwrap_err(),
            "resources[0].weight: Invalid value: 2: must be 1"
        );
        assert_eq!(
            validate_args(&BalancedAllocationArgs {
                resources: specs(&[("cpu", 1), ("cpu", 0)])
            })
            .unwrap_err(),
            "[resources[1].name: Duplicate value: \"cpu\", resources[1].weight: Invalid value: 0: must be 1]"
        );
        assert!(BalancedAllocation::new(BalancedAllocationArgs {
            resources: specs(&[("memory", 3)])
        })
        .is_err());
    }

    /// The scorer itself, against hand-computed float64 results (the
    /// comments in upstream's table).
    #[test]
    fn balanced_resource_scorer_values() {
        // Two resources: (1 - |0.75 - 0.5| / 2) * 100 = 87.5 -> 87.
        assert_eq!(balanced_resource_scorer(&[3000, 5000], &[4000, 10000]), 87);
        // Fractions above 1 are capped: |1 - 0| / 2 = 0.5 -> 50.
        assert_eq!(balanced_resource_scorer(&[9000, 0], &[6000, 10000]), 50);
        // One resource or none: std 0 -> 100.
        assert_eq!(balanced_resource_scorer(&[5, 0], &[10, 0]), 100);
        assert_eq!(balanced_resource_scorer(&[], &[]), 100);
        // Three resources use the population standard deviation.
        assert_eq!(
            balanced_resource_scorer(&[3000, 5000, 4], &[3500, 40000, 8]),
            70
        );
        // No panic on extreme inputs.
        let _ = balanced_resource_scorer(&[i64::MAX, i64::MIN, 0], &[1, 1, i64::MIN]);
    }
}
