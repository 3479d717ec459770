//! The canonical, ordered list of runs of an experiment: scenarios ×
//! override sets × policies × seeds (seed innermost). A run is identified
//! by its key; its seed is the seed in the key, so a policy, an override
//! set and a replicate see the same random workload whichever worker or
//! shard runs it (common random numbers across policies).

use sha2::{Digest, Sha256};

use super::policy::Policy;

/// One run of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunDef {
    /// Position in the plan (0-based).
    pub index: usize,
    /// The scenario file as given.
    pub scenario: String,
    /// `--set` overrides, in order.
    pub overrides: Vec<String>,
    pub policy: Policy,
    pub seed: u64,
}

impl RunDef {
    /// The overrides as one cell: `a=1;b=2`.
    pub fn overrides_text(&self) -> String {
        self.overrides.join(";")
    }
    /// Identifies the run whatever its index: `scenario|overrides|policy|seed`.
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.scenario,
            self.overrides_text(),
            self.policy.label,
            self.seed
        )
    }
    /// A short stable id (16 hex digits of SHA-256 of the key), used for
    /// file names.
    pub fn id(&self) -> String {
        let h = Sha256::digest(self.key().as_bytes());
        h.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
    /// Names the run in messages.
    pub fn describe(&self) -> String {
        format!(
            "run {} (scenario {}, overrides [{}], policy {}, seed {})",
            self.index,
            self.scenario,
            self.overrides.join(", "),
            self.policy.label,
            self.seed
        )
    }
    /// The command that reproduces the run alone.
    /// `base` is the directory relative scenario paths are resolved from.
    pub fn reproduce(&self, base: &std::path::Path, until: Option<&str>) -> String {
        let file = base.join(&self.scenario);
        let mut s = format!("kubesim run {}", shell_quote(&file.to_string_lossy()));
        for o in &self.overrides {
            s.push_str(&format!(" --set {}", shell_quote(o)));
        }
        s.push_str(&format!(
            " --policy {} --seed {}",
            shell_quote(&self.policy.label),
            self.seed
        ));
        if let Some(u) = until {
            s.push_str(&format!(" --until {u}"));
        }
        s
    }
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+[]".contains(c))
        && !s.is_empty()
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// An ordered list of runs.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub runs: Vec<RunDef>,
}

impl Plan {
    /// The cartesian product, in the canonical order.
    pub fn grid(
        scenarios: &[String],
        override_sets: &[Vec<String>],
        policies: &[Policy],
        seeds: &[u64],
    ) -> Plan {
        let no_overrides = [Vec::new()];
        let sets: &[Vec<String>] = if override_sets.is_empty() {
            &no_overrides
        } else {
            override_sets
        };
        let mut runs = Vec::new();
        for s in scenarios {
            for o in sets {
                for p in policies {
                    for &seed in seeds {
                        runs.push(RunDef {
                            index: runs.len(),
                            scenario: s.clone(),
                            overrides: o.clone(),
                            policy: p.clone(),
                            seed,
                        });
                    }
                }
            }
        }
        Plan { runs }
    }

    /// SHA-256 of the run keys in order: shards of one plan share it.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for r in &self.runs {
            h.update(r.key().as_bytes());
            h.update(b"\n");
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The runs of shard `i` of `n` (run index mod n == i: round-robin
    /// spreads expensive policies over the shards).
    pub fn shard(&self, i: usize, n: usize) -> Vec<RunDef> {
        self.runs
            .iter()
            .filter(|r| n > 0 && r.index % n == i)
            .cloned()
            .collect()
    }
}

/// Parses seeds: `7`, `1..30` (inclusive), `1,2,5`, or a mix `1..3,10`.
pub fn parse_seeds(s: &str) -> Result<Vec<u64>, String> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let part = part.trim();
        if let Some((a, b)) = part.split_once("..") {
            let b = b.strip_prefix('=').unwrap_or(b);
            let a: u64 = a
                .trim()
                .parse()
                .map_err(|_| format!("bad seed range {part:?}"))?;
            let b: u64 = b
                .trim()
                .parse()
                .map_err(|_| format!("bad seed range {part:?}"))?;
            if b < a {
                return Err(format!("empty seed range {part:?}"));
            }
            if b - a >= 1_000_000 {
                return Err(format!("seed range {part:?} is too long"));
            }
            out.extend(a..=b);
        } else {
            out.push(
                part.parse()
                    .map_err(|_| format!("bad seed {part:?} (N, A..B or a list)"))?,
            );
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for s in &out {
        if !seen.insert(*s) {
            return Err(format!("seed {s} is listed twice"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds() {
        assert_eq!(parse_seeds("1..3").unwrap(), vec![1, 2, 3]);
        assert_eq!(parse_seeds("1..=2,9").unwrap(), vec![1, 2, 9]);
        assert!(parse_seeds("3..1").is_err());
        assert!(parse_seeds("1,1").is_err());
        assert!(parse_seeds("x").is_err());
    }

    #[test]
    fn grid_order_and_shards() {
        let pol = |s| Policy::parse(s).unwrap();
        let p = Plan::grid(
            &["a.yaml".into()],
            &[vec!["x=1".into()], vec!["x=2".into()]],
            &[pol("default"), pol("best-fit")],
            &[1, 2],
        );
        assert_eq!(p.runs.len(), 8);
        assert_eq!(p.runs[1].key(), "a.yaml|x=1|default|2");
        assert_eq!(p.runs[2].key(), "a.yaml|x=1|best-fit|1");
        let s0 = p.shard(0, 3);
        let s1 = p.shard(1, 3);
        let s2 = p.shard(2, 3);
        assert_eq!(s0.len() + s1.len() + s2.len(), 8);
        assert_eq!(s1[0].index, 1);
        assert_eq!(
            p.runs[3].reproduce(std::path::Path::new(""), Some("1h")),
            "kubesim run a.yaml --set x=1 --policy best-fit --seed 2 --until 1h"
        );
    }
}
