//! NodeAffinity (PreFilter, Filter, PreScore, Score, NormalizeScore),
//! upstream plugins/nodeaffinity: `nodeSelector` and required node affinity
//! (plus the profile's `addedAffinity`) must match; preferred terms add
//! their weights; scores are normalized by the highest.

use std::collections::BTreeSet;

use crate::model::affinity::{
    NodeSelector, NodeSelectorOperator, NodeSelectorTerm, PreferredSchedulingTerm,
};
use crate::model::labels::{validate_label_key, validate_label_value};
use crate::model::{Node, NodeId, Pod};
use crate::scheduler::config::NodeAffinityArgs;
use crate::scheduler::framework::{
    ClusterView, CycleState, NodeScore, Plugin, Point, PreFilterOutcome, Status, MAX_NODE_SCORE,
};

use super::helper::default_normalize_score;

pub const ERR_REASON_POD: &str = "node(s) didn't match Pod's node affinity/selector";
pub const ERR_REASON_ENFORCED: &str = "node(s) didn't match scheduler-enforced node affinity";
pub const ERR_REASON_CONFLICT: &str = "pod affinity terms conflict";

pub struct NodeAffinityPlugin {
    args: NodeAffinityArgs,
}

impl NodeAffinityPlugin {
    pub fn new(args: NodeAffinityArgs) -> NodeAffinityPlugin {
        NodeAffinityPlugin { args }
    }

    fn added_matches(&self, node: &Node) -> bool {
        match self
            .args
            .added_affinity
            .as_ref()
            .and_then(|a| a.required.as_ref())
        {
            Some(sel) => required_matches(sel, node),
            None => true,
        }
    }

    /// The profile's added preferred terms, then the pod's.
    fn preferred<'a>(
        &'a self,
        pod: &'a Pod,
    ) -> impl Iterator<Item = &'a PreferredSchedulingTerm> + 'a {
        let added = self
            .args
            .added_affinity
            .iter()
            .flat_map(|a| a.preferred.iter());
        let own = pod
            .spec
            .node_affinity
            .iter()
            .flat_map(|a| a.preferred.iter());
        added.chain(own)
    }
}

/// Whether a term parses in upstream's `newNodeSelectorTerm`
/// (component-helpers nodeaffinity): `labels.NewRequirement` for each
/// matchExpression (qualified-name key; In/NotIn need valid label values,
/// at least one; Exists/DoesNotExist take none; Gt/Lt exactly one int64)
/// and one value with In/NotIn for each matchField. A term that fails to
/// parse matches no node.
fn term_parses(t: &NodeSelectorTerm) -> bool {
    use NodeSelectorOperator::*;
    let exprs_ok = t.match_expressions.iter().all(|r| {
        validate_label_key(&r.key).is_ok()
            && match r.operator {
                In | NotIn => {
                    !r.values.is_empty() && r.values.iter().all(|v| validate_label_value(v).is_ok())
                }
                Exists | DoesNotExist => r.values.is_empty(),
                Gt | Lt => r.values.len() == 1 && r.values[0].parse::<i64>().is_ok(),
            }
    });
    let fields_ok = t
        .match_fields
        .iter()
        .all(|r| matches!(r.operator, In | NotIn) && r.values.len() == 1);
    exprs_ok && fields_ok
}

/// Upstream `LazyErrorNodeSelector.Match`: any term that parses and
/// matches.
fn required_matches(sel: &NodeSelector, node: &Node) -> bool {
    sel.terms
        .iter()
        .any(|t| term_parses(t) && t.matches(node.name(), &node.meta.labels))
}

/// Upstream `GetRequiredNodeAffinity(pod).Match(node)`: nodeSelector and
/// required node affinity terms.
pub fn pod_matches_node(pod: &Pod, node: &Node) -> bool {
    for (k, v) in &pod.spec.node_selector {
        if node.meta.labels.get(k) != Some(v) {
            return false;
        }
    }
    match pod
        .spec
        .node_affinity
        .as_ref()
        .and_then(|a| a.required.as_ref())
    {
        Some(req) => required_matches(req, node),
        None => true,
    }
}

impl Plugin for NodeAffinityPlugin {
    fn name(&self) -> &'static str {
        "NodeAffinity"
    }
    fn events_to_register(&self) -> Option<&'static [crate::scheduler::hints::ClusterEvent]> {
        Some(EVENTS)
    }
    fn queueing_hint(
        &self,
        _pod_id: crate::model::PodId,
        pod: &crate::model::Pod,
        _event: &crate::scheduler::hints::ClusterEvent,
        change: &crate::scheduler::hints::Change,
        _view: &crate::scheduler::framework::ClusterView,
    ) -> crate::scheduler::hints::QueueingHint {
        self.hint(pod, change)
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

    fn pre_filter(&self, _: &mut CycleState, pod: &Pod, view: &ClusterView) -> PreFilterOutcome {
        let required = pod
            .spec
            .node_affinity
            .as_ref()
            .and_then(|a| a.required.as_ref());
        let added = self
            .args
            .added_affinity
            .as_ref()
            .and_then(|a| a.required.as_ref());
        if required.is_none() && added.is_none() && pod.spec.node_selector.is_empty() {
            return PreFilterOutcome::status(Status::skip());
        }
        let Some(req) = required else {
            return PreFilterOutcome::ok();
        };
        if req.terms.is_empty() {
            return PreFilterOutcome::ok();
        }
        // Affinity to specific node names through matchFields.
        let mut node_names: Option<BTreeSet<&str>> = None;
        for t in &req.terms {
            let mut term_names: Option<BTreeSet<&str>> = None;
            for r in &t.match_fields {
                if r.key == "metadata.name" && r.operator == NodeSelectorOperator::In {
                    let s: BTreeSet<&str> = r.values.iter().map(|v| v.as_str()).collect();
                    term_names = Some(match term_names {
                        None => s,
                        Some(prev) => prev.intersection(&s).copied().collect(),
                    });
                }
            }
            let Some(tn) = term_names else {
                return PreFilterOutcome::ok();
            };
            node_names = Some(match node_names {
                None => tn,
                Some(prev) => prev.union(&tn).copied().collect(),
            });
        }
        match node_names {
            Some(n) if n.is_empty() => {
                PreFilterOutcome::status(Status::unresolvable(ERR_REASON_CONFLICT))
            }
            Some(n) => PreFilterOutcome {
                nodes: Some(
                    view.node_order
                        .iter()
                        .copied()
                        .filter(|id| n.contains(view.node(*id).name()))
                        .collect(),
                ),
                status: Status::success(),
            },
            None => PreFilterOutcome::ok(),
        }
    }

    fn filter(&self, _: &CycleState, pod: &Pod, node: &Node, _: &ClusterView) -> Status {
        if !self.added_matches(node) {
            return Status::unresolvable(ERR_REASON_ENFORCED);
        }
        if !pod_matches_node(pod, node) {
            return Status::unresolvable(ERR_REASON_POD);
        }
        Status::success()
    }

    fn pre_score(&self, _: &mut CycleState, pod: &Pod, _: &[NodeId], _: &ClusterView) -> Status {
        if self.preferred(pod).next().is_none() {
            Status::skip()
        } else {
            Status::success()
        }
    }

    fn score(
        &self,
        _: &CycleState,
        pod: &Pod,
        node: &Node,
        _: &ClusterView,
    ) -> Result<i64, Status> {
        let mut count = 0i64;
        for t in self.preferred(pod) {
            if t.weight != 0 && t.preference.matches(node.name(), &node.meta.labels) {
                count += i64::from(t.weight);
            }
        }
        Ok(count)
    }

    fn has_normalize(&self) -> bool {
        true
    }

    fn normalize_score(&self, _: &CycleState, _: &Pod, scores: &mut [NodeScore]) -> Status {
        default_normalize_score(MAX_NODE_SCORE, false, scores);
        Status::success()
    }
}

// QueueingHints (upstream plugins/nodeaffinity `EventsToRegister` with
// QueueingHints on, `isSchedulableAfterNodeChange`).

/// Node/Add|UpdateNodeLabel.
pub const EVENTS: &[crate::scheduler::hints::ClusterEvent] =
    &[crate::scheduler::hints::ClusterEvent::new(
        crate::scheduler::hints::EventResource::Node,
        crate::scheduler::hints::ActionType::ADD
            .or(crate::scheduler::hints::ActionType::UPDATE_NODE_LABEL),
    )];

impl NodeAffinityPlugin {
    /// Upstream `NodeAffinity.isSchedulableAfterNodeChange`.
    pub fn hint(
        &self,
        pod: &Pod,
        change: &crate::scheduler::hints::Change,
    ) -> crate::scheduler::hints::QueueingHint {
        use crate::scheduler::hints::QueueingHint::*;
        let (old, new) = change.nodes();
        let Some(new) = new else { return Queue };
        if !self.added_matches(new) {
            return QueueSkip;
        }
        if !pod_matches_node(pod, new) {
            return QueueSkip;
        }
        match old {
            None => Queue,
            Some(old) if pod_matches_node(pod, old) => QueueSkip,
            Some(_) => Queue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::affinity::{NodeAffinity, NodeSelectorRequirement};
    use crate::model::Labels;
    use crate::scheduler::framework::Code;
    use crate::scheduler::plugins::node_resources_fit::testutil::{
        node, pod_from_spec, spec, with_view,
    };
    use std::collections::BTreeMap;
    use NodeSelectorOperator::*;

    fn r(key: &str, op: NodeSelectorOperator, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn name_in(v: &str) -> NodeSelectorRequirement {
        r("metadata.name", In, &[v])
    }

    fn term(
        exprs: Vec<NodeSelectorRequirement>,
        fields: Vec<NodeSelectorRequirement>,
    ) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions: exprs,
            match_fields: fields,
        }
    }

    fn required(terms: Vec<NodeSelectorTerm>) -> Option<NodeAffinity> {
        Some(NodeAffinity {
            required: Some(NodeSelector { terms }),
            preferred: vec![],
        })
    }

    fn labels(kv: &[(&str, &str)]) -> Labels {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn make_pod(selector: &[(&str, &str)], aff: Option<NodeAffinity>) -> Pod {
        let mut s = spec(vec![], vec![]);
        s.node_selector = labels(selector);
        s.node_affinity = aff;
        pod_from_spec(s)
    }

    fn make_node(name: &str, l: &[(&str, &str)]) -> Node {
        let mut n = node(name, &[]);
        n.meta.labels = labels(l);
        n
    }

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Pre {
        Ok,
        Skip,
        Conflict,
    }

    struct Case {
        name: &'static str,
        pod: Pod,
        labels: &'static [(&'static str, &'static str)],
        node_name: &'static str,
        want: Option<&'static str>,
        pre: Pre,
        pre_nodes: Option<&'static [&'static str]>,
        added: Option<NodeAffinity>,
        run_pre: bool,
    }

    fn case(name: &'static str, pod: Pod, labels: &'static [(&'static str, &'static str)]) -> Case {
        Case {
            name,
            pod,
            labels,
            node_name: "",
            want: None,
            pre: Pre::Ok,
            pre_nodes: None,
            added: None,
            run_pre: true,
        }
    }

    impl Case {
        fn fails(mut self, r: &'static str) -> Case {
            self.want = Some(r);
            self
        }
        fn node(mut self, n: &'static str) -> Case {
            self.node_name = n;
            self
        }
        fn pre(mut self, p: Pre) -> Case {
            self.pre = p;
            self
        }
        fn pre_nodes(mut self, n: &'static [&'static str]) -> Case {
            self.pre_nodes = Some(n);
            self
        }
        fn added(mut self, a: Option<NodeAffinity>) -> Case {
            self.added = a;
            self
        }
        fn no_pre(mut self) -> Case {
            self.run_pre = false;
            self
        }
    }

    /// Upstream node_affinity_test.go `TestNodeAffinity`: all 31 rows
    /// (Filter status, PreFilter status and PreFilterResult node names).
    #[test]
    fn node_affinity_filter() {
        let foo_bar: &[(&str, &str)] = &[("foo", "bar")];
        let gpu: &[(&str, &str)] = &[("GPU", "NVIDIA-GRID-K1")];
        let gpu_and_not_in = || {
            required(vec![term(
                vec![r("GPU", Exists, &[]), r("GPU", NotIn, &["AMD", "INTER"])],
                vec![],
            )])
        };
        let added_name2 = || required(vec![term(vec![], vec![name_in("node2")])]);
        let cases = vec![
            case("missing labels", make_pod(&[("foo", "bar")], None), &[]).fails(ERR_REASON_POD),
            case("same labels", make_pod(&[("foo", "bar")], None), foo_bar),
            case(
                "node labels are superset",
                make_pod(&[("foo", "bar")], None),
                &[("foo", "bar"), ("baz", "blah")],
            ),
            case(
                "node labels are subset",
                make_pod(&[("foo", "bar"), ("baz", "blah")], None),
                foo_bar,
            )
            .fails(ERR_REASON_POD),
            case(
                "Pod with matchExpressions using In operator that matches the existing node",
                make_pod(&[], required(vec![term(vec![r("foo", In, &["bar", "value2"])], vec![])])),
                foo_bar,
            ),
            case(
                "Pod with matchExpressions using Gt operator that matches the existing node",
                make_pod(&[], required(vec![term(vec![r("kernel-version", Gt, &["0204"])], vec![])])),
                &[("kernel-version", "0206")],
            ),
            case(
                "Pod with matchExpressions using NotIn operator that matches the existing node",
                make_pod(&[], required(vec![term(vec![r("mem-type", NotIn, &["DDR", "DDR2"])], vec![])])),
                &[("mem-type", "DDR3")],
            ),
            case(
                "Pod with matchExpressions using Exists operator that matches the existing node",
                make_pod(&[], required(vec![term(vec![r("GPU", Exists, &[])], vec![])])),
                gpu,
            ),
            case(
                "Pod with affinity that don't match node's labels won't schedule onto the node",
                make_pod(&[], required(vec![term(vec![r("foo", In, &["value1", "value2"])], vec![])])),
                foo_bar,
            )
            .fails(ERR_REASON_POD),
            case(
                "Pod with empty MatchExpressions is not a valid value will match no objects and won't schedule onto the node",
                make_pod(&[], required(vec![term(vec![], vec![])])),
                foo_bar,
            )
            .fails(ERR_REASON_POD),
            case("Pod with no Affinity will schedule onto a node", make_pod(&[], None), foo_bar)
                .pre(Pre::Skip),
            case(
                "Pod with Affinity but nil NodeSelector will schedule onto a node",
                make_pod(&[], Some(NodeAffinity::default())),
                foo_bar,
            )
            .pre(Pre::Skip),
            case(
                "Pod with multiple matchExpressions ANDed that matches the existing node",
                make_pod(&[], gpu_and_not_in()),
                gpu,
            ),
            case(
                "Pod with multiple matchExpressions ANDed that doesn't match the existing node",
                make_pod(
                    &[],
                    required(vec![term(
                        vec![r("GPU", Exists, &[]), r("GPU", In, &["AMD", "INTER"])],
                        vec![],
                    )]),
                ),
                gpu,
            )
            .fails(ERR_REASON_POD),
            case(
                "Pod with multiple NodeSelectorTerms ORed in affinity, matches the node's labels and will schedule onto the node",
                make_pod(
                    &[],
                    required(vec![
                        term(vec![r("foo", In, &["bar", "value2"])], vec![]),
                        term(vec![r("diffkey", In, &["wrong", "value2"])], vec![]),
                    ]),
                ),
                foo_bar,
            ),
            case(
                "Pod with an Affinity and a PodSpec.NodeSelector(the old thing that we are deprecating) both are satisfied, will schedule onto the node",
                make_pod(&[("foo", "bar")], required(vec![term(vec![r("foo", Exists, &[])], vec![])])),
                foo_bar,
            ),
            case(
                "Pod with an Affinity matches node's labels but the PodSpec.NodeSelector(the old thing that we are deprecating) is not satisfied, won't schedule onto the node",
                make_pod(&[("foo", "bar")], required(vec![term(vec![r("foo", Exists, &[])], vec![])])),
                &[("foo", "barrrrrr")],
            )
            .fails(ERR_REASON_POD),
            case(
                "Pod with an invalid value in Affinity term won't be scheduled onto the node",
                make_pod(
                    &[],
                    required(vec![term(vec![r("foo", NotIn, &["invalid value: ___@#$%^"])], vec![])]),
                ),
                foo_bar,
            )
            .fails(ERR_REASON_POD),
            case(
                "Pod with matchFields using In operator that matches the existing node",
                make_pod(&[], required(vec![term(vec![], vec![name_in("node1")])])),
                &[],
            )
            .node("node1")
            .pre_nodes(&["node1"]),
            case(
                "Pod with matchFields using In operator that does not match the existing node",
                make_pod(&[], required(vec![term(vec![], vec![name_in("node1")])])),
                &[],
            )
            .node("node2")
            .fails(ERR_REASON_POD)
            .pre_nodes(&["node1"]),
            case(
                "Pod with two terms: matchFields does not match, but matchExpressions matches",
                make_pod(
                    &[],
                    required(vec![
                        term(vec![], vec![name_in("node1"), name_in("node2")]),
                        term(vec![r("foo", In, &["bar"])], vec![]),
                    ]),
                ),
                foo_bar,
            )
            .node("node2"),
            case(
                "Pod with one term: matchFields does not match, but matchExpressions matches",
                make_pod(&[], required(vec![term(vec![r("foo", In, &["bar"])], vec![name_in("node1")])])),
                foo_bar,
            )
            .node("node2")
            .pre_nodes(&["node1"])
            .fails(ERR_REASON_POD),
            case(
                "Pod with one term: both matchFields and matchExpressions match",
                make_pod(&[], required(vec![term(vec![r("foo", In, &["bar"])], vec![name_in("node1")])])),
                foo_bar,
            )
            .node("node1")
            .pre_nodes(&["node1"]),
            case(
                "Pod with two terms: both matchFields and matchExpressions do not match",
                make_pod(
                    &[],
                    required(vec![
                        term(vec![], vec![name_in("node1")]),
                        term(vec![r("foo", In, &["not-match-to-bar"])], vec![]),
                    ]),
                ),
                foo_bar,
            )
            .node("node2")
            .fails(ERR_REASON_POD),
            case(
                "Pod with two terms of node.Name affinity",
                make_pod(
                    &[],
                    required(vec![
                        term(vec![], vec![name_in("node1")]),
                        term(vec![], vec![name_in("node2")]),
                    ]),
                ),
                &[],
            )
            .node("node2")
            .pre_nodes(&["node1", "node2"]),
            case(
                "Pod with two conflicting mach field requirements",
                make_pod(&[], required(vec![term(vec![], vec![name_in("node1"), name_in("node2")])])),
                foo_bar,
            )
            .node("node2")
            .pre(Pre::Conflict)
            .fails(ERR_REASON_POD),
            case(
                "Matches added affinity and Pod's node affinity",
                make_pod(&[], required(vec![term(vec![r("zone", In, &["foo"])], vec![])])),
                &[("zone", "foo")],
            )
            .node("node2")
            .added(added_name2()),
            case(
                "Matches added affinity but not Pod's node affinity",
                make_pod(&[], required(vec![term(vec![r("zone", In, &["bar"])], vec![])])),
                &[("zone", "foo")],
            )
            .node("node2")
            .added(added_name2())
            .fails(ERR_REASON_POD),
            case("Doesn't match added affinity", make_pod(&[], None), &[("zone", "foo")])
                .node("node2")
                .added(required(vec![term(vec![r("zone", In, &["bar"])], vec![])]))
                .fails(ERR_REASON_ENFORCED),
            case(
                "Matches node selector correctly even if PreFilter is not called",
                make_pod(&[("foo", "bar")], None),
                &[("foo", "bar"), ("baz", "blah")],
            )
            .no_pre(),
            case(
                "Matches node affinity correctly even if PreFilter is not called",
                make_pod(&[], gpu_and_not_in()),
                gpu,
            )
            .no_pre(),
        ];
        assert_eq!(cases.len(), 31);
        for c in cases {
            let name = c.name;
            let p = NodeAffinityPlugin::new(NodeAffinityArgs {
                added_affinity: c.added.clone(),
            });
            let test_node = make_node(c.node_name, c.labels);
            // The test node plus node1 / node2, so PreFilterResult names
            // resolve to nodes of the view.
            let mut nodes = vec![test_node.clone()];
            for extra in ["node1", "node2"] {
                if extra != c.node_name {
                    nodes.push(make_node(extra, &[]));
                }
            }
            with_view(&nodes, &BTreeMap::new(), |view, _| {
                let mut state = CycleState::default();
                if c.run_pre {
                    let pre = p.pre_filter(&mut state, &c.pod, view);
                    match c.pre {
                        Pre::Ok => assert!(pre.status.is_success(), "{name}: {:?}", pre.status),
                        Pre::Skip => assert!(pre.status.is_skip(), "{name}: {:?}", pre.status),
                        Pre::Conflict => {
                            assert_eq!(
                                pre.status.code,
                                Code::UnschedulableAndUnresolvable,
                                "{name}"
                            );
                            assert_eq!(
                                pre.status.reasons,
                                vec![ERR_REASON_CONFLICT.to_string()],
                                "{name}"
                            );
                        }
                    }
                    let got: Option<BTreeSet<&str>> = pre
                        .nodes
                        .as_ref()
                        .map(|ids| ids.iter().map(|id| view.node(*id).name()).collect());
                    let want: Option<BTreeSet<&str>> =
                        c.pre_nodes.map(|n| n.iter().copied().collect());
                    assert_eq!(got, want, "{name}");
                }
                let got = p.filter(&state, &c.pod, &test_node, view);
                match c.want {
                    None => assert!(got.is_success(), "{name}: {got:?}"),
                    Some(r) => {
                        assert_eq!(got.code, Code::UnschedulableAndUnresolvable, "{name}");
                        assert_eq!(got.reasons, vec![r.to_string()], "{name}");
                    }
                }
            });
        }
    }

    fn preferred(terms: Vec<(i32, Vec<NodeSelectorRequirement>)>) -> NodeAffinity {
        NodeAffinity {
            required: None,
            preferred: terms
                .into_iter()
                .map(|(weight, exprs)| PreferredSchedulingTerm {
                    weight,
                    preference: term(exprs, vec![]),
                })
                .collect(),
        }
    }

    /// Upstream node_affinity_test.go `TestNodeAffinityPriority`: all 7
    /// rows (normalized scores per node). Without preferred terms kubesim's
    /// PreScore returns Skip, as upstream's does since v1.27; the row with
    /// no affinity still scores every node 0 when Score runs.
    #[test]
    fn node_affinity_priority() {
        let label1: &[(&str, &str)] = &[("foo", "bar")];
        let label2: &[(&str, &str)] = &[("key", "value")];
        let label3: &[(&str, &str)] = &[("az", "az1")];
        let label4: &[(&str, &str)] = &[("abc", "az11"), ("def", "az22")];
        let label5: &[(&str, &str)] = &[("foo", "bar"), ("key", "value"), ("az", "az1")];
        let affinity1 = || preferred(vec![(2, vec![r("foo", In, &["bar"])])]);
        let affinity2 = || {
            preferred(vec![
                (2, vec![r("foo", In, &["bar"])]),
                (4, vec![r("key", In, &["value"])]),
                (
                    5,
                    vec![
                        r("foo", In, &["bar"]),
                        r("key", In, &["value"]),
                        r("az", In, &["az1"]),
                    ],
                ),
            ])
        };
        type Case = (
            &'static str,
            Option<NodeAffinity>,
            Vec<(&'static str, &'static [(&'static str, &'static str)])>,
            Vec<i64>,
            Option<NodeAffinity>,
            bool,
        );
        let cases: Vec<Case> = vec![
            (
                "all nodes are same priority as NodeAffinity is nil",
                None,
                vec![("node1", label1), ("node2", label2), ("node3", label3)],
                vec![0, 0, 0],
                None,
                true,
            ),
            (
                "no node matches preferred scheduling requirements in NodeAffinity of pod so all nodes' priority is zero",
                Some(affinity1()),
                vec![("node1", label4), ("node2", label2), ("node3", label3)],
                vec![0, 0, 0],
                None,
                true,
            ),
            (
                "only node1 matches the preferred scheduling requirements of pod",
                Some(affinity1()),
                vec![("node1", label1), ("node2", label2), ("node3", label3)],
                vec![MAX_NODE_SCORE, 0, 0],
                None,
                true,
            ),
            (
                "all nodes matches the preferred scheduling requirements of pod but with different priorities ",
                Some(affinity2()),
                vec![("node1", label1), ("node5", label5), ("node2", label2)],
                vec![18, MAX_NODE_SCORE, 36],
                None,
                true,
            ),
            (
                "added affinity",
                None,
                vec![("node1", label1), ("node2", label2)],
                vec![MAX_NODE_SCORE, 0],
                Some(affinity1()),
                true,
            ),
            (
                "added affinity and pod has default affinity",
                Some(affinity1()),
                vec![("node1", label1), ("node2", label2), ("node3", label5)],
                vec![40, 60, MAX_NODE_SCORE],
                Some(preferred(vec![(3, vec![r("key", In, &["value"])])])),
                true,
            ),
            (
                "calculate the priorities correctly even if PreScore is not called",
                Some(affinity2()),
                vec![("node1", label1), ("node5", label5), ("node2", label2)],
                vec![18, MAX_NODE_SCORE, 36],
                None,
                false,
            ),
        ];
        for (name, aff, nodes, want, added, run_pre_score) in cases {
            let p = NodeAffinityPlugin::new(NodeAffinityArgs {
                added_affinity: added,
            });
            let pod = make_pod(&[], aff);
            let nodes: Vec<Node> = nodes.iter().map(|(n, l)| make_node(n, l)).collect();
            let got = with_view(&nodes, &BTreeMap::new(), |view, ids| {
                let mut state = CycleState::default();
                if run_pre_score {
                    let st = p.pre_score(&mut state, &pod, ids, view);
                    assert!(st.is_success() || st.is_skip(), "{name}: {st:?}");
                }
                let mut scores: Vec<NodeScore> = ids
                    .iter()
                    .map(|id| NodeScore {
                        node: *id,
                        score: p.score(&state, &pod, view.node(*id), view).expect(name),
                    })
                    .collect();
                assert!(
                    p.normalize_score(&state, &pod, &mut scores).is_success(),
                    "{name}"
                );
                scores.iter().map(|s| s.score).collect::<Vec<_>>()
            });
            assert_eq!(got, want, "{name}");
        }
    }
}
