//! Node selectors and node affinity (`v1.NodeSelector`), matched as upstream's
//! component-helpers/scheduling/corev1/nodeaffinity does.
//!
//! Pod (anti-)affinity is not modelled yet: the scenario loader reports
//! `podAffinity` / `podAntiAffinity` as not simulated.

use crate::model::labels::Labels;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeSelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Gt,
    Lt,
}

impl NodeSelectorOperator {
    pub fn parse(s: &str) -> Option<NodeSelectorOperator> {
        use NodeSelectorOperator::*;
        Some(match s {
            "In" => In,
            "NotIn" => NotIn,
            "Exists" => Exists,
            "DoesNotExist" => DoesNotExist,
            "Gt" => Gt,
            "Lt" => Lt,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSelectorRequirement {
    pub key: String,
    pub operator: NodeSelectorOperator,
    pub values: Vec<String>,
}

impl NodeSelectorRequirement {
    /// Matches a label set (for `matchExpressions`) or the `metadata.name`
    /// field (for `matchFields`, as a one-entry map).
    pub fn matches(&self, labels: &Labels) -> bool {
        use NodeSelectorOperator::*;
        let v = labels.get(&self.key);
        match self.operator {
            In => v.is_some_and(|v| self.values.iter().any(|x| x == v)),
            NotIn => v.is_none_or(|v| !self.values.iter().any(|x| x == v)),
            Exists => v.is_some(),
            DoesNotExist => v.is_none(),
            Gt | Lt => {
                // Upstream: exactly one value, both sides parse as int64.
                let (Some(v), [want]) = (v, self.values.as_slice()) else {
                    return false;
                };
                match (v.parse::<i64>(), want.parse::<i64>()) {
                    (Ok(have), Ok(want)) => {
                        if self.operator == Gt {
                            have > want
                        } else {
                            have < want
                        }
                    }
                    _ => false,
                }
            }
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeSelectorTerm {
    pub match_expressions: Vec<NodeSelectorRequirement>,
    /// Only `metadata.name` is a valid field key upstream.
    pub match_fields: Vec<NodeSelectorRequirement>,
}

impl NodeSelectorTerm {
    /// A term matches when all its requirements do; an empty term matches
    /// nothing (upstream `nodeSelectorTerm` semantics).
    pub fn matches(&self, node_name: &str, labels: &Labels) -> bool {
        if self.match_expressions.is_empty() && self.match_fields.is_empty() {
            return false;
        }
        if !self.match_expressions.iter().all(|r| r.matches(labels)) {
            return false;
        }
        if !self.match_fields.is_empty() {
            let mut fields = Labels::new();
            fields.insert("metadata.name".to_string(), node_name.to_string());
            if !self.match_fields.iter().all(|r| r.matches(&fields)) {
                return false;
            }
        }
        true
    }
}

/// `requiredDuringSchedulingIgnoredDuringExecution`: the terms are ORed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeSelector {
    pub terms: Vec<NodeSelectorTerm>,
}

impl NodeSelector {
    pub fn matches(&self, node_name: &str, labels: &Labels) -> bool {
        self.terms.iter().any(|t| t.matches(node_name, labels))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreferredSchedulingTerm {
    pub weight: i32,
    pub preference: NodeSelectorTerm,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeAffinity {
    pub required: Option<NodeSelector>,
    pub preferred: Vec<PreferredSchedulingTerm>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use NodeSelectorOperator::*;

    fn req(key: &str, op: NodeSelectorOperator, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op,
            values: values.iter().map(|s| s.to_string()).collect(),
        }
    }
    fn labels(kv: &[(&str, &str)]) -> Labels {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn requirement_operators() {
        let l = labels(&[("zone", "a"), ("gen", "5")]);
        assert!(req("zone", In, &["a", "b"]).matches(&l));
        assert!(!req("zone", NotIn, &["a"]).matches(&l));
        assert!(req("missing", NotIn, &["a"]).matches(&l));
        assert!(req("zone", Exists, &[]).matches(&l));
        assert!(req("missing", DoesNotExist, &[]).matches(&l));
        assert!(req("gen", Gt, &["4"]).matches(&l));
        assert!(!req("gen", Gt, &["5"]).matches(&l));
        assert!(req("gen", Lt, &["6"]).matches(&l));
        assert!(
            !req("zone", Lt, &["6"]).matches(&l),
            "non-integer label never matches Gt/Lt"
        );
    }

    #[test]
    fn terms_or_requirements_and() {
        let l = labels(&[("zone", "a")]);
        let sel = NodeSelector {
            terms: vec![
                NodeSelectorTerm {
                    match_expressions: vec![req("zone", In, &["b"])],
                    match_fields: vec![],
                },
                NodeSelectorTerm {
                    match_expressions: vec![req("zone", In, &["a"])],
                    match_fields: vec![req("metadata.name", In, &["n1"])],
                },
            ],
        };
        assert!(sel.matches("n1", &l));
        assert!(!sel.matches("n2", &l));
        let empty = NodeSelector {
            terms: vec![NodeSelectorTerm::default()],
        };
        assert!(!empty.matches("n1", &l), "an empty term matches nothing");
    }
}

/// One pod (anti-)affinity term (`v1.PodAffinityTerm`), with selectors
/// already converted. `matchLabelKeys` / `mismatchLabelKeys` have been
/// merged into `label_selector` by admission, as the API server does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodAffinityTerm {
    /// `None` matches no pod (upstream: a nil selector selects nothing).
    pub label_selector: Option<crate::model::Selector>,
    /// Explicit namespaces; with no namespace selector and no namespaces,
    /// the term applies to the pod's own namespace.
    pub namespaces: Vec<String>,
    /// `Some(everything)` for `namespaceSelector: {}` (all namespaces).
    pub namespace_selector: Option<crate::model::Selector>,
    pub topology_key: String,
}

impl PodAffinityTerm {
    /// Whether `pod_ns`/`pod_labels` is selected by this term of a pod in
    /// `owner_ns` (upstream `AffinityTerm.Matches`, with namespace labels
    /// looked up by `ns_labels`).
    pub fn matches_pod(
        &self,
        owner_ns: &str,
        pod_ns: &str,
        pod_labels: &Labels,
        ns_labels: impl Fn(&str) -> Option<Labels>,
    ) -> bool {
        let ns_ok = if self.namespaces.is_empty() && self.namespace_selector.is_none() {
            pod_ns == owner_ns
        } else {
            self.namespaces.iter().any(|n| n == pod_ns)
                || self
                    .namespace_selector
                    .as_ref()
                    .is_some_and(|s| ns_labels(pod_ns).is_some_and(|l| s.matches(&l)))
        };
        ns_ok
            && self
                .label_selector
                .as_ref()
                .is_some_and(|s| s.matches(pod_labels))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightedPodAffinityTerm {
    pub weight: i32,
    pub term: PodAffinityTerm,
}

/// `podAffinity` or `podAntiAffinity`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodAffinity {
    pub required: Vec<PodAffinityTerm>,
    pub preferred: Vec<WeightedPodAffinityTerm>,
}

impl PodAffinity {
    pub fn is_empty(&self) -> bool {
        self.required.is_empty() && self.preferred.is_empty()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenUnsatisfiable {
    DoNotSchedule,
    ScheduleAnyway,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InclusionPolicy {
    Honor,
    Ignore,
}

/// `v1.TopologySpreadConstraint`, with `matchLabelKeys` merged into the
/// selector by admission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopologySpreadConstraint {
    pub max_skew: i32,
    pub topology_key: String,
    pub when_unsatisfiable: WhenUnsatisfiable,
    /// `None` matches no pod.
    pub label_selector: Option<crate::model::Selector>,
    pub min_domains: Option<i32>,
    /// Default Honor.
    pub node_affinity_policy: InclusionPolicy,
    /// Default Ignore.
    pub node_taints_policy: InclusionPolicy,
}
