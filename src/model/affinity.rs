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
