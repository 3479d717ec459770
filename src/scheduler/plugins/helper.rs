//! Shared helpers of the plugins (upstream plugins/helper).

use crate::scheduler::framework::NodeScore;

/// Upstream `helper.DefaultNormalizeScore`: scales scores to
/// 0..=`max_priority` by the highest score (integer division); with
/// `reverse`, high raw scores become low ones.
pub fn default_normalize_score(max_priority: i64, reverse: bool, scores: &mut [NodeScore]) {
    let max = scores.iter().map(|s| s.score).max().unwrap_or(0);
    if max == 0 {
        if reverse {
            for s in scores.iter_mut() {
                s.score = max_priority;
            }
        }
        return;
    }
    for s in scores.iter_mut() {
        let mut v = max_priority * s.score / max;
        if reverse {
            v = max_priority - v;
        }
        s.score = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NodeId;

    fn ns(v: &[i64]) -> Vec<NodeScore> {
        v.iter()
            .enumerate()
            .map(|(i, s)| NodeScore {
                node: NodeId(i as u32),
                score: *s,
            })
            .collect()
    }

    /// Upstream normalize_score_test.go `TestDefaultNormalizeScore`.
    #[test]
    fn default_normalize_table() {
        let cases: [(bool, &[i64], &[i64]); 6] = [
            (false, &[10, 20, 30], &[33, 66, 100]),
            (true, &[10, 20, 30], &[67, 34, 0]),
            (false, &[1, 1, 1, 1], &[100, 100, 100, 100]),
            (true, &[1, 1, 1, 1], &[0, 0, 0, 0]),
            (false, &[0, 0, 0], &[0, 0, 0]),
            (true, &[0, 0, 0], &[100, 100, 100]),
        ];
        for (rev, input, want) in cases {
            let mut s = ns(input);
            default_normalize_score(100, rev, &mut s);
            let got: Vec<i64> = s.iter().map(|x| x.score).collect();
            assert_eq!(got, want, "reverse={rev} {input:?}");
        }
    }
}
