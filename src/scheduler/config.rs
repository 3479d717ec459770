//! Scheduler configuration as validated data: the content of a
//! `kubescheduler.config.k8s.io/v1` KubeSchedulerConfiguration (profiles,
//! plugins per extension point, weights, plugin arguments, extenders), with
//! upstream's defaults and its rules for merging a profile's plugin sets
//! with the default ones and expanding `multiPoint`
//! (pkg/scheduler/apis/config/v1/default_plugins.go `mergePlugins`,
//! framework/runtime `expandMultiPointPlugins`, `getScoreWeights`).

use std::collections::BTreeMap;

use super::framework::Point;
use crate::engine::Duration;
use crate::model::affinity::{NodeAffinity, TopologySpreadConstraint};

/// One plugin reference in a plugin set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginRef {
    pub name: String,
    /// Score weight (0 = unset).
    pub weight: i32,
}

impl PluginRef {
    pub fn new(name: &str, weight: i32) -> PluginRef {
        PluginRef {
            name: name.to_string(),
            weight,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PluginSet {
    pub enabled: Vec<PluginRef>,
    pub disabled: Vec<String>,
}

/// The `plugins` of a profile: one set per extension point plus `multiPoint`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plugins {
    pub multi_point: PluginSet,
    pub points: BTreeMap<Point, PluginSet>,
}

/// A scoring resource and its weight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceSpec {
    pub name: String,
    pub weight: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScoringStrategyType {
    LeastAllocated,
    MostAllocated,
    RequestedToCapacityRatio,
}

/// `NodeResourcesFitArgs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeResourcesFitArgs {
    pub ignored_resources: Vec<String>,
    pub ignored_resource_groups: Vec<String>,
    pub strategy: ScoringStrategyType,
    pub resources: Vec<ResourceSpec>,
    /// RequestedToCapacityRatio shape: (utilization 0..=100, score 0..=10).
    pub shape: Vec<(i64, i64)>,
}

impl Default for NodeResourcesFitArgs {
    fn default() -> Self {
        NodeResourcesFitArgs {
            ignored_resources: Vec::new(),
            ignored_resource_groups: Vec::new(),
            strategy: ScoringStrategyType::LeastAllocated,
            resources: default_resources(),
            shape: Vec::new(),
        }
    }
}

/// cpu and memory, weight 1 each (upstream `defaultResourceSpec`).
pub fn default_resources() -> Vec<ResourceSpec> {
    vec![
        ResourceSpec {
            name: "cpu".into(),
            weight: 1,
        },
        ResourceSpec {
            name: "memory".into(),
            weight: 1,
        },
    ]
}

/// `NodeResourcesBalancedAllocationArgs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BalancedAllocationArgs {
    pub resources: Vec<ResourceSpec>,
}

impl Default for BalancedAllocationArgs {
    fn default() -> Self {
        BalancedAllocationArgs {
            resources: default_resources(),
        }
    }
}

/// `InterPodAffinityArgs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterPodAffinityArgs {
    pub hard_pod_affinity_weight: i32,
    pub ignore_preferred_terms_of_existing_pods: bool,
}

impl Default for InterPodAffinityArgs {
    fn default() -> Self {
        InterPodAffinityArgs {
            hard_pod_affinity_weight: 1,
            ignore_preferred_terms_of_existing_pods: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultingType {
    /// Upstream's system default constraints (zone maxSkew 5, hostname
    /// maxSkew 3, both ScheduleAnyway).
    System,
    /// The `defaultConstraints` given.
    List,
}

/// `PodTopologySpreadArgs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodTopologySpreadArgs {
    pub default_constraints: Vec<TopologySpreadConstraint>,
    pub defaulting_type: DefaultingType,
}

impl Default for PodTopologySpreadArgs {
    fn default() -> Self {
        PodTopologySpreadArgs {
            default_constraints: Vec::new(),
            defaulting_type: DefaultingType::System,
        }
    }
}

/// `NodeAffinityArgs`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeAffinityArgs {
    pub added_affinity: Option<NodeAffinity>,
}

/// `DefaultPreemptionArgs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefaultPreemptionArgs {
    pub min_candidate_nodes_percentage: i32,
    pub min_candidate_nodes_absolute: i32,
}

impl Default for DefaultPreemptionArgs {
    fn default() -> Self {
        DefaultPreemptionArgs {
            min_candidate_nodes_percentage: 10,
            min_candidate_nodes_absolute: 100,
        }
    }
}

/// Arguments of the Coscheduling (gang) Permit plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoschedulingArgs {
    pub permit_waiting_time: Duration,
}

impl Default for CoschedulingArgs {
    fn default() -> Self {
        CoschedulingArgs {
            permit_waiting_time: Duration::from_secs(60),
        }
    }
}

/// Typed `pluginConfig[].args`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PluginArgs {
    NodeResourcesFit(NodeResourcesFitArgs),
    BalancedAllocation(BalancedAllocationArgs),
    InterPodAffinity(InterPodAffinityArgs),
    PodTopologySpread(PodTopologySpreadArgs),
    NodeAffinity(NodeAffinityArgs),
    DefaultPreemption(DefaultPreemptionArgs),
    Coscheduling(CoschedulingArgs),
}

/// One scheduler extender (`extenders[]`), HTTP or a JSON-lines subprocess.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtenderConfig {
    /// `http://host:port/prefix`, or empty for a subprocess extender.
    pub url_prefix: String,
    /// For a subprocess extender: the command line (kubesim extension).
    pub command: Vec<String>,
    pub filter_verb: String,
    pub prioritize_verb: String,
    pub bind_verb: String,
    pub weight: i64,
    pub timeout: Duration,
    pub node_cache_capable: bool,
    pub ignorable: bool,
    /// Extended resources the extender manages; empty = interested in every pod.
    pub managed_resources: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileConfig {
    pub scheduler_name: String,
    pub percentage_of_nodes_to_score: Option<i32>,
    pub plugins: Plugins,
    pub args: BTreeMap<String, PluginArgs>,
}

impl ProfileConfig {
    pub fn default_profile() -> ProfileConfig {
        ProfileConfig {
            scheduler_name: "default-scheduler".to_string(),
            percentage_of_nodes_to_score: None,
            plugins: Plugins::default(),
            args: BTreeMap::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// 0 means upstream's adaptive percentage.
    pub percentage_of_nodes_to_score: i32,
    pub pod_initial_backoff: Duration,
    pub pod_max_backoff: Duration,
    pub profiles: Vec<ProfileConfig>,
    pub extenders: Vec<ExtenderConfig>,
    /// Reuse node-local plugin results across identical pods (kubesim; the
    /// results are identical either way, only faster).
    pub node_cache: bool,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            percentage_of_nodes_to_score: 0,
            pod_initial_backoff: Duration::from_secs(1),
            pod_max_backoff: Duration::from_secs(10),
            profiles: vec![ProfileConfig::default_profile()],
            extenders: Vec::new(),
            node_cache: true,
        }
    }
}

/// Upstream's default `multiPoint` plugins (v1.35, without the volume
/// plugins, which kubesim does not model; DynamicResources only as its
/// PostFilter message), with their score weights.
pub fn default_multi_point() -> Vec<PluginRef> {
    vec![
        PluginRef::new("SchedulingGates", 0),
        PluginRef::new("PrioritySort", 0),
        PluginRef::new("NodeUnschedulable", 0),
        PluginRef::new("NodeName", 0),
        PluginRef::new("TaintToleration", 3),
        PluginRef::new("NodeAffinity", 2),
        PluginRef::new("NodePorts", 0),
        PluginRef::new("NodeResourcesFit", 1),
        PluginRef::new("PodTopologySpread", 2),
        PluginRef::new("InterPodAffinity", 2),
        PluginRef::new("DynamicResources", 0),
        PluginRef::new("DefaultPreemption", 0),
        PluginRef::new("NodeResourcesBalancedAllocation", 1),
        PluginRef::new("ImageLocality", 1),
        PluginRef::new("DefaultBinder", 0),
    ]
}

/// Upstream `mergePluginSet`: the default set minus disabled plugins, with
/// re-configured defaults updated in place, then the other custom plugins.
pub fn merge_plugin_set(default: &PluginSet, custom: &PluginSet) -> PluginSet {
    let mut disabled: Vec<String> = custom.disabled.clone();
    disabled.extend(default.disabled.iter().cloned());
    let mut replaced = vec![false; custom.enabled.len()];
    let mut enabled = Vec::new();
    if !disabled.iter().any(|d| d == "*") {
        for d in &default.enabled {
            if disabled.contains(&d.name) {
                continue;
            }
            if let Some((i, c)) = custom
                .enabled
                .iter()
                .enumerate()
                .find(|(_, c)| c.name == d.name)
            {
                replaced[i] = true;
                enabled.push(c.clone());
            } else {
                enabled.push(d.clone());
            }
        }
    }
    for (i, c) in custom.enabled.iter().enumerate() {
        if !replaced[i] {
            enabled.push(c.clone());
        }
    }
    PluginSet { enabled, disabled }
}

/// The plugins of one extension point after merging with the defaults and
/// expanding `multiPoint`, in upstream's order, with score weights.
/// `implements(name, point)` tells whether a plugin implements a point.
pub fn resolve_point(
    plugins: &Plugins,
    point: Point,
    implements: &dyn Fn(&str, Point) -> Option<bool>,
) -> Result<Vec<PluginRef>, String> {
    let multi = merge_plugin_set(
        &PluginSet {
            enabled: default_multi_point(),
            disabled: Vec::new(),
        },
        &plugins.multi_point,
    );
    let specific = merge_plugin_set(
        &PluginSet::default(),
        plugins.points.get(&point).unwrap_or(&PluginSet::default()),
    );
    let mut enabled_set: Vec<PluginRef> = Vec::new();
    for p in &specific.enabled {
        match implements(&p.name, point) {
            None => {
                return Err(format!(
                    "{} plugin {:?} does not exist",
                    point.config_name(),
                    p.name
                ))
            }
            Some(false) => {
                return Err(format!(
                    "plugin {:?} does not extend {} plugin",
                    p.name,
                    point.config_name()
                ))
            }
            Some(true) => {}
        }
        if enabled_set.iter().any(|e| e.name == p.name) {
            return Err(format!(
                "plugin {:?} already registered as {}",
                p.name,
                point.config_name()
            ));
        }
        enabled_set.push(p.clone());
    }
    let disabled = &specific.disabled;
    if disabled.iter().any(|d| d == "*") {
        return Ok(enabled_set);
    }
    let mut multi_enabled: Vec<PluginRef> = Vec::new();
    let mut overrides: Vec<String> = Vec::new();
    for ep in &multi.enabled {
        match implements(&ep.name, point) {
            None => return Err(format!("multiPoint plugin {:?} does not exist", ep.name)),
            Some(false) => continue,
            Some(true) => {}
        }
        if disabled.contains(&ep.name) {
            continue;
        }
        if enabled_set.iter().any(|e| e.name == ep.name) {
            overrides.push(ep.name.clone());
            continue;
        }
        if multi_enabled.iter().any(|e| e.name == ep.name) {
            return Err(format!(
                "plugin {:?} already registered as {}",
                ep.name,
                point.config_name()
            ));
        }
        multi_enabled.push(ep.clone());
    }
    // Order: overridden plugins (in the specific point's order), then
    // multiPoint ones, then the other specific ones.
    let mut out: Vec<PluginRef> = enabled_set
        .iter()
        .filter(|e| overrides.contains(&e.name))
        .cloned()
        .collect();
    out.extend(multi_enabled.iter().cloned());
    out.extend(
        enabled_set
            .iter()
            .filter(|e| !overrides.contains(&e.name))
            .cloned(),
    );
    // Score weights: a plugin listed at the Score point takes that weight,
    // otherwise multiPoint's; 0 means 1 (upstream `getScoreWeights`).
    if point == Point::Score {
        for p in &mut out {
            let specific_w = specific
                .enabled
                .iter()
                .find(|e| e.name == p.name)
                .map(|e| e.weight);
            let multi_w = multi
                .enabled
                .iter()
                .find(|e| e.name == p.name)
                .map(|e| e.weight);
            let w = specific_w.or(multi_w).unwrap_or(0);
            p.weight = if w == 0 { 1 } else { w };
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn implements(name: &str, p: Point) -> Option<bool> {
        let points: &[Point] = match name {
            "PrioritySort" => &[Point::QueueSort],
            "SchedulingGates" => &[],
            "NodeUnschedulable" | "NodeName" | "NodePorts" => &[Point::Filter],
            "TaintToleration" | "NodeAffinity" => &[Point::Filter, Point::PreScore, Point::Score],
            "NodeResourcesFit" => &[
                Point::PreFilter,
                Point::Filter,
                Point::PreScore,
                Point::Score,
            ],
            "PodTopologySpread" | "InterPodAffinity" => &[
                Point::PreFilter,
                Point::Filter,
                Point::PreScore,
                Point::Score,
            ],
            "DefaultPreemption" | "DynamicResources" => &[Point::PostFilter],
            "NodeResourcesBalancedAllocation" => &[Point::PreScore, Point::Score],
            "ImageLocality" => &[Point::Score],
            "DefaultBinder" => &[Point::Bind],
            "Custom" => &[Point::Filter, Point::Score],
            _ => return None,
        };
        Some(points.contains(&p))
    }

    fn names(v: &[PluginRef]) -> Vec<&str> {
        v.iter().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn default_profile_expands_like_upstream() {
        let p = Plugins::default();
        let f = resolve_point(&p, Point::Filter, &implements).unwrap();
        assert_eq!(
            names(&f),
            [
                "NodeUnschedulable",
                "NodeName",
                "TaintToleration",
                "NodeAffinity",
                "NodePorts",
                "NodeResourcesFit",
                "PodTopologySpread",
                "InterPodAffinity"
            ]
        );
        let s = resolve_point(&p, Point::Score, &implements).unwrap();
        let w: Vec<(&str, i32)> = s.iter().map(|p| (p.name.as_str(), p.weight)).collect();
        assert_eq!(
            w,
            [
                ("TaintToleration", 3),
                ("NodeAffinity", 2),
                ("NodeResourcesFit", 1),
                ("PodTopologySpread", 2),
                ("InterPodAffinity", 2),
                ("NodeResourcesBalancedAllocation", 1),
                ("ImageLocality", 1)
            ]
        );
    }

    #[test]
    fn specific_point_overrides_and_disables() {
        let mut p = Plugins::default();
        p.points.insert(
            Point::Score,
            PluginSet {
                enabled: vec![
                    PluginRef::new("ImageLocality", 5),
                    PluginRef::new("Custom", 0),
                ],
                disabled: vec!["NodeResourcesBalancedAllocation".into()],
            },
        );
        let s = resolve_point(&p, Point::Score, &implements).unwrap();
        let w: Vec<(&str, i32)> = s.iter().map(|p| (p.name.as_str(), p.weight)).collect();
        // Overridden first, then multiPoint, then other specific ones.
        assert_eq!(
            w,
            [
                ("ImageLocality", 5),
                ("TaintToleration", 3),
                ("NodeAffinity", 2),
                ("NodeResourcesFit", 1),
                ("PodTopologySpread", 2),
                ("InterPodAffinity", 2),
                ("Custom", 1)
            ]
        );
        p.points.insert(
            Point::Filter,
            PluginSet {
                enabled: vec![],
                disabled: vec!["*".into()],
            },
        );
        assert!(resolve_point(&p, Point::Filter, &implements)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn unknown_and_misplaced_plugins_are_errors() {
        let mut p = Plugins::default();
        p.points.insert(
            Point::Filter,
            PluginSet {
                enabled: vec![PluginRef::new("Nope", 0)],
                disabled: vec![],
            },
        );
        assert!(resolve_point(&p, Point::Filter, &implements)
            .unwrap_err()
            .contains("does not exist"));
        p.points.insert(
            Point::Filter,
            PluginSet {
                enabled: vec![PluginRef::new("ImageLocality", 0)],
                disabled: vec![],
            },
        );
        assert!(resolve_point(&p, Point::Filter, &implements)
            .unwrap_err()
            .contains("does not extend"));
    }
}
