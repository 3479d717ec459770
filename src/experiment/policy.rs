//! Policies an experiment compares, as overrides of a scenario's settings:
//! a scheduler policy name (`best-fit`), a profile of the scenario's
//! KubeSchedulerConfiguration (`binpack`), or explicit parts joined by `+`
//! (`scheduler:default+profile:binpack`). New kinds (autoscaler policies)
//! are new [`PolicyPart`] variants.

use crate::scenario::Scenario;
use crate::scheduler::policy_names;

/// One setting a policy changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyPart {
    /// `scheduler:NAME`, a registered scheduling policy.
    Scheduler(String),
    /// `profile:NAME`: the `default` scheduler, with the scenario's profile
    /// `NAME` serving pods of `default-scheduler`.
    Profile(String),
    /// A bare name: a scheduling policy if one is registered under it,
    /// else a profile of the scenario.
    Name(String),
}

/// A policy as given on the command line or in a sweep file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The text as given; names the policy in tables and plots.
    pub label: String,
    pub parts: Vec<PolicyPart>,
}

impl Policy {
    pub fn parse(s: &str) -> Result<Policy, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty policy name".into());
        }
        let mut parts = Vec::new();
        for p in s.split('+') {
            let part = match p.split_once(':') {
                Some(("scheduler", n)) if !n.is_empty() => PolicyPart::Scheduler(n.into()),
                Some(("profile", n)) if !n.is_empty() => PolicyPart::Profile(n.into()),
                Some(("autoscaler", _)) => {
                    return Err(format!(
                        "policy {s:?}: autoscaler policies are not simulated yet"
                    ))
                }
                Some((k, _)) => {
                    return Err(format!(
                        "policy {s:?}: unknown kind {k:?} (scheduler:NAME or profile:NAME)"
                    ))
                }
                None if !p.is_empty() => PolicyPart::Name(p.into()),
                None => return Err(format!("policy {s:?}: empty part")),
            };
            parts.push(part);
        }
        Ok(Policy {
            label: s.to_string(),
            parts,
        })
    }

    /// Changes the scenario's settings to this policy.
    pub fn apply(&self, sc: &mut Scenario) -> Result<(), String> {
        for p in &self.parts {
            match p {
                PolicyPart::Scheduler(n) => {
                    if !policy_names().contains(&n.as_str()) {
                        return Err(format!(
                            "unknown scheduling policy {n:?}; valid policies: {}",
                            policy_names().join(", ")
                        ));
                    }
                    sc.scheduler.policy = n.clone();
                }
                PolicyPart::Profile(n) => use_profile(sc, n)?,
                PolicyPart::Name(n) => {
                    if policy_names().contains(&n.as_str()) {
                        sc.scheduler.policy = n.clone();
                    } else if sc
                        .scheduler
                        .config
                        .profiles
                        .iter()
                        .any(|p| p.scheduler_name == *n)
                    {
                        use_profile(sc, n)?;
                    } else {
                        let profiles: Vec<&str> = sc
                            .scheduler
                            .config
                            .profiles
                            .iter()
                            .map(|p| p.scheduler_name.as_str())
                            .collect();
                        return Err(format!(
                            "{n:?} is neither a scheduling policy ({}) nor a profile of the scenario ({})",
                            policy_names().join(", "),
                            profiles.join(", ")
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Makes profile `name` serve `default-scheduler` pods: it swaps names
/// with the profile that did (if any).
fn use_profile(sc: &mut Scenario, name: &str) -> Result<(), String> {
    const DEFAULT: &str = "default-scheduler";
    let profiles = &mut sc.scheduler.config.profiles;
    let Some(i) = profiles.iter().position(|p| p.scheduler_name == name) else {
        return Err(format!("the scenario has no scheduler profile {name:?}"));
    };
    if let Some(d) = profiles.iter().position(|p| p.scheduler_name == DEFAULT) {
        profiles[d].scheduler_name = name.to_string();
    }
    profiles[i].scheduler_name = DEFAULT.to_string();
    sc.scheduler.policy = "default".into();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_parts() {
        let p = Policy::parse("best-fit").unwrap();
        assert_eq!(p.parts, vec![PolicyPart::Name("best-fit".into())]);
        let p = Policy::parse("scheduler:default+profile:bin").unwrap();
        assert_eq!(
            p.parts,
            vec![
                PolicyPart::Scheduler("default".into()),
                PolicyPart::Profile("bin".into())
            ]
        );
        assert!(Policy::parse("autoscaler:x").is_err());
        assert!(Policy::parse("foo:x").is_err());
        assert!(Policy::parse("").is_err());
    }
}
