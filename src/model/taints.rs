//! Taints and tolerations, with upstream's matching rules
//! (k8s.io/api/core/v1/toleration.go `ToleratesTaint`, taint.go `MatchTaint`).

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

impl TaintEffect {
    pub fn parse(s: &str) -> Option<TaintEffect> {
        match s {
            "NoSchedule" => Some(TaintEffect::NoSchedule),
            "PreferNoSchedule" => Some(TaintEffect::PreferNoSchedule),
            "NoExecute" => Some(TaintEffect::NoExecute),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Taint {
    pub key: String,
    pub value: String,
    pub effect: TaintEffect,
}

impl Taint {
    pub fn new(key: &str, value: &str, effect: TaintEffect) -> Taint {
        Taint {
            key: key.to_string(),
            value: value.to_string(),
            effect,
        }
    }
}

impl fmt::Display for Taint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}:{}", self.key, self.effect.as_str())
        } else {
            write!(f, "{}={}:{}", self.key, self.value, self.effect.as_str())
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TolerationOperator {
    #[default]
    Equal,
    Exists,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Toleration {
    /// Empty with `Exists` tolerates every taint.
    pub key: String,
    pub operator: TolerationOperator,
    pub value: String,
    /// `None` matches every effect.
    pub effect: Option<TaintEffect>,
    /// For NoExecute: how long the pod stays bound after the taint appears.
    pub toleration_seconds: Option<i64>,
}

impl Toleration {
    /// Upstream `Toleration.ToleratesTaint`.
    pub fn tolerates(&self, taint: &Taint) -> bool {
        if let Some(e) = self.effect {
            if e != taint.effect {
                return false;
            }
        }
        if !self.key.is_empty() && self.key != taint.key {
            return false;
        }
        match self.operator {
            TolerationOperator::Equal => self.value == taint.value,
            TolerationOperator::Exists => true,
        }
    }
}

/// Upstream `v1helper.TolerationsTolerateTaint`.
pub fn tolerations_tolerate(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| t.tolerates(taint))
}

/// The first taint with an effect in `effects` that no toleration tolerates
/// (upstream `FindMatchingUntoleratedTaint`).
pub fn find_untolerated<'a>(
    taints: &'a [Taint],
    tolerations: &[Toleration],
    effects: &[TaintEffect],
) -> Option<&'a Taint> {
    taints
        .iter()
        .filter(|t| effects.contains(&t.effect))
        .find(|t| !tolerations_tolerate(tolerations, t))
}

/// Well-known taint keys applied by the node lifecycle controller.
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
pub const TAINT_MEMORY_PRESSURE: &str = "node.kubernetes.io/memory-pressure";

#[cfg(test)]
mod tests {
    use super::*;

    fn tol(
        key: &str,
        op: TolerationOperator,
        value: &str,
        effect: Option<TaintEffect>,
    ) -> Toleration {
        Toleration {
            key: key.into(),
            operator: op,
            value: value.into(),
            effect,
            toleration_seconds: None,
        }
    }

    /// Rows from upstream toleration_test.go `TestTolerationToleratesTaint`.
    #[test]
    fn tolerates_taint_table() {
        use TaintEffect::*;
        use TolerationOperator::*;
        let taint = |k: &str, v: &str, e| Taint::new(k, v, e);
        let cases = [
            // empty toleration key with Exists tolerates all taints with that effect
            (
                tol("", Exists, "", Some(NoSchedule)),
                taint("foo", "bar", NoSchedule),
                true,
            ),
            // toleration and taint have the same key and effect, Exists
            (
                tol("foo", Exists, "", Some(NoSchedule)),
                taint("foo", "bar", NoSchedule),
                true,
            ),
            // same key, effect, value, Equal
            (
                tol("foo", Equal, "bar", Some(NoSchedule)),
                taint("foo", "bar", NoSchedule),
                true,
            ),
            // different values with Equal
            (
                tol("foo", Equal, "value1", Some(NoSchedule)),
                taint("foo", "value2", NoSchedule),
                false,
            ),
            // different effects
            (
                tol("foo", Equal, "bar", Some(NoExecute)),
                taint("foo", "bar", NoSchedule),
                false,
            ),
            // empty effect tolerates every effect
            (
                tol("foo", Equal, "bar", None),
                taint("foo", "bar", NoExecute),
                true,
            ),
            // different keys
            (
                tol("foo", Exists, "", None),
                taint("baz", "", NoSchedule),
                false,
            ),
            // empty key + Exists + empty effect tolerates everything
            (
                tol("", Exists, "", None),
                taint("any", "thing", NoExecute),
                true,
            ),
        ];
        for (i, (t, ta, want)) in cases.iter().enumerate() {
            assert_eq!(t.tolerates(ta), *want, "case {i}");
        }
    }

    #[test]
    fn finds_untolerated() {
        let taints = vec![
            Taint::new("a", "", TaintEffect::PreferNoSchedule),
            Taint::new("b", "1", TaintEffect::NoSchedule),
        ];
        let effects = [TaintEffect::NoSchedule, TaintEffect::NoExecute];
        assert_eq!(
            find_untolerated(&taints, &[], &effects).map(|t| t.key.as_str()),
            Some("b")
        );
        let t = tol("b", TolerationOperator::Equal, "1", None);
        assert!(find_untolerated(&taints, &[t], &effects).is_none());
    }
}
