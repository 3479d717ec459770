//! The `kubescheduler.config.k8s.io/v1` KubeSchedulerConfiguration document:
//! profiles, plugin sets per extension point, weights, plugin arguments
//! (NodeResourcesFitArgs, InterPodAffinityArgs, PodTopologySpreadArgs, …)
//! and extenders, decoded and validated into `scheduler::config`. Unknown
//! plugins and unknown argument fields are errors that list the valid names.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::convert::{check_api_version, convert_node_affinity, convert_spread, duration, Doc};
use super::diag::{Diagnostic, Severity};
use super::manifest::{Embedded, NodeAffinityM, Scalar, TopologySpreadConstraintM};
use super::yaml::{child_path, index_path, Node as YNode};
use super::{Object, Scenario};
use crate::scheduler::config::*;
use crate::scheduler::framework::Point;

pub const KIND: &str = "KubeSchedulerConfiguration";
pub const API_VERSION: &str = "kubescheduler.config.k8s.io/v1";

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct KubeSchedulerConfigurationM {
    api_version: Option<String>,
    kind: Option<String>,
    percentage_of_nodes_to_score: Option<i32>,
    pod_initial_backoff_seconds: Option<i64>,
    pod_max_backoff_seconds: Option<i64>,
    #[serde(default)]
    profiles: Vec<ProfileM>,
    #[serde(default)]
    extenders: Vec<ExtenderM>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct ProfileM {
    scheduler_name: Option<String>,
    percentage_of_nodes_to_score: Option<i32>,
    plugins: Option<PluginsM>,
    #[serde(default)]
    plugin_config: Vec<PluginConfigM>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct PluginsM {
    pre_enqueue: Option<PluginSetM>,
    queue_sort: Option<PluginSetM>,
    pre_filter: Option<PluginSetM>,
    filter: Option<PluginSetM>,
    post_filter: Option<PluginSetM>,
    pre_score: Option<PluginSetM>,
    score: Option<PluginSetM>,
    reserve: Option<PluginSetM>,
    permit: Option<PluginSetM>,
    pre_bind: Option<PluginSetM>,
    bind: Option<PluginSetM>,
    post_bind: Option<PluginSetM>,
    multi_point: Option<PluginSetM>,
}

#[derive(Deserialize, Debug, Default)]
struct PluginSetM {
    #[serde(default)]
    enabled: Vec<PluginM>,
    #[serde(default)]
    disabled: Vec<PluginM>,
}

#[derive(Deserialize, Debug, Default)]
struct PluginM {
    name: String,
    weight: Option<i32>,
}

#[derive(Deserialize, Debug, Default)]
struct PluginConfigM {
    name: String,
    args: Option<Embedded>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct ManagedResourceM {
    name: String,
    /// Accepted but not applied to NodeResourcesFit (documented deviation).
    #[serde(default)]
    #[allow(dead_code)]
    ignored_by_scheduler: bool,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
struct ExtenderM {
    url_prefix: Option<String>,
    /// kubesim extension: a JSON-lines subprocess instead of HTTP.
    #[serde(default)]
    command: Vec<String>,
    filter_verb: Option<String>,
    prioritize_verb: Option<String>,
    bind_verb: Option<String>,
    weight: Option<i64>,
    #[serde(rename = "enableHTTPS")]
    enable_https: Option<bool>,
    http_timeout: Option<Scalar>,
    #[serde(default)]
    node_cache_capable: bool,
    #[serde(default)]
    managed_resources: Vec<ManagedResourceM>,
    #[serde(default)]
    ignorable: bool,
}

// ---- plugin args: unknown fields are errors ----

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ResourceSpecM {
    name: String,
    weight: Option<i64>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ShapePointM {
    utilization: i32,
    score: i32,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RtcrM {
    #[serde(default)]
    shape: Vec<ShapePointM>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ScoringStrategyM {
    #[serde(rename = "type")]
    type_: Option<String>,
    resources: Option<Vec<ResourceSpecM>>,
    requested_to_capacity_ratio: Option<RtcrM>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NodeResourcesFitArgsM {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    ignored_resources: Vec<String>,
    #[serde(default)]
    ignored_resource_groups: Vec<String>,
    scoring_strategy: Option<ScoringStrategyM>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BalancedAllocationArgsM {
    api_version: Option<String>,
    kind: Option<String>,
    resources: Option<Vec<ResourceSpecM>>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InterPodAffinityArgsM {
    api_version: Option<String>,
    kind: Option<String>,
    hard_pod_affinity_weight: Option<i32>,
    ignore_preferred_terms_of_existing_pods: Option<bool>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PodTopologySpreadArgsM {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    default_constraints: Vec<TopologySpreadConstraintM>,
    defaulting_type: Option<String>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NodeAffinityArgsM {
    api_version: Option<String>,
    kind: Option<String>,
    added_affinity: Option<NodeAffinityM>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DefaultPreemptionArgsM {
    api_version: Option<String>,
    kind: Option<String>,
    min_candidate_nodes_percentage: Option<i32>,
    min_candidate_nodes_absolute: Option<i32>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CoschedulingArgsM {
    api_version: Option<String>,
    kind: Option<String>,
    permit_waiting_time_seconds: Option<i64>,
}

/// Upstream defaulting: no resources → cpu and memory; weight 0 → 1.
fn resources(v: Option<Vec<ResourceSpecM>>) -> Vec<ResourceSpec> {
    match v {
        None => default_resources(),
        Some(v) if v.is_empty() => default_resources(),
        Some(v) => v
            .into_iter()
            .map(|r| ResourceSpec {
                name: r.name,
                weight: match r.weight {
                    None | Some(0) => 1,
                    Some(w) => w,
                },
            })
            .collect(),
    }
}

fn plugin_set(m: &Option<PluginSetM>) -> PluginSet {
    match m {
        None => PluginSet::default(),
        Some(s) => PluginSet {
            enabled: s
                .enabled
                .iter()
                .map(|p| PluginRef {
                    name: p.name.clone(),
                    weight: p.weight.unwrap_or(0),
                })
                .collect(),
            disabled: s.disabled.iter().map(|p| p.name.clone()).collect(),
        },
    }
}

/// Decodes and validates the document; `None` if it had errors.
pub(super) fn convert(doc: &mut Doc, tree: &YNode) -> Option<SchedulerConfig> {
    let m: KubeSchedulerConfigurationM = doc.decode(tree, "")?;
    check_api_version(doc, m.api_version.as_deref(), API_VERSION);
    let _ = m.kind;
    let mut ok = true;
    let mut cfg = SchedulerConfig::default();
    if let Some(p) = m.percentage_of_nodes_to_score {
        if !(0..=100).contains(&p) {
            doc.err(
                "percentageOfNodesToScore",
                format!("not in valid range [0-100], found {p}"),
            );
            ok = false;
        }
        cfg.percentage_of_nodes_to_score = p;
    }
    if let Some(s) = m.pod_initial_backoff_seconds {
        if s <= 0 {
            doc.err("podInitialBackoffSeconds", "must be greater than 0");
            ok = false;
        } else {
            cfg.pod_initial_backoff = crate::engine::Duration::from_secs(s as u64);
        }
    }
    if let Some(s) = m.pod_max_backoff_seconds {
        if s <= 0 {
            doc.err("podMaxBackoffSeconds", "must be greater than 0");
            ok = false;
        } else {
            cfg.pod_max_backoff = crate::engine::Duration::from_secs(s as u64);
        }
    }
    if cfg.pod_max_backoff < cfg.pod_initial_backoff {
        doc.err(
            "podMaxBackoffSeconds",
            "must be greater than or equal to PodInitialBackoffSeconds",
        );
        ok = false;
    }
    let profile_nodes: Vec<&YNode> = match tree.get("profiles").map(|p| &p.value) {
        Some(super::yaml::Value::Seq(items)) => items.iter().collect(),
        _ => Vec::new(),
    };
    if !m.profiles.is_empty() {
        cfg.profiles.clear();
    }
    let valid = crate::scheduler::plugins::names();
    for (pi, p) in m.profiles.iter().enumerate() {
        let pp = index_path("profiles", pi);
        let name = p
            .scheduler_name
            .clone()
            .unwrap_or_else(|| "default-scheduler".to_string());
        if cfg.profiles.iter().any(|x| x.scheduler_name == name) {
            doc.err(
                &child_path(&pp, "schedulerName"),
                format!("duplicate profile with scheduler name {name:?}"),
            );
            ok = false;
        }
        if let Some(pct) = p.percentage_of_nodes_to_score {
            if !(0..=100).contains(&pct) {
                doc.err(
                    &child_path(&pp, "percentageOfNodesToScore"),
                    format!("not in valid range [0-100], found {pct}"),
                );
                ok = false;
            }
        }
        let mut plugins = Plugins::default();
        if let Some(pm) = &p.plugins {
            plugins.multi_point = plugin_set(&pm.multi_point);
            let pairs = [
                (Point::QueueSort, &pm.queue_sort, "queueSort"),
                (Point::PreFilter, &pm.pre_filter, "preFilter"),
                (Point::Filter, &pm.filter, "filter"),
                (Point::PostFilter, &pm.post_filter, "postFilter"),
                (Point::PreScore, &pm.pre_score, "preScore"),
                (Point::Score, &pm.score, "score"),
                (Point::Reserve, &pm.reserve, "reserve"),
                (Point::Permit, &pm.permit, "permit"),
                (Point::PreBind, &pm.pre_bind, "preBind"),
                (Point::Bind, &pm.bind, "bind"),
                (Point::PostBind, &pm.post_bind, "postBind"),
            ];
            for (point, set, field) in pairs {
                if set.is_some() {
                    plugins.points.insert(point, plugin_set(set));
                }
                // Every named plugin must exist.
                if let Some(s) = set {
                    for (k, e) in s.enabled.iter().enumerate() {
                        if !valid.contains(&e.name.as_str()) {
                            doc.err(
                                &child_path(
                                    &index_path(
                                        &child_path(&pp, &format!("plugins.{field}.enabled")),
                                        k,
                                    ),
                                    "name",
                                ),
                                format!(
                                    "unknown plugin {:?}; valid plugins: {}",
                                    e.name,
                                    valid.join(", ")
                                ),
                            );
                            ok = false;
                        }
                    }
                }
            }
            if pm.pre_enqueue.is_some() {
                doc.warn(
                    &child_path(&pp, "plugins.preEnqueue"),
                    "PreEnqueue plugins are not simulated; ignored",
                );
            }
            if let Some(s) = &pm.multi_point {
                for (k, e) in s.enabled.iter().enumerate() {
                    if !valid.contains(&e.name.as_str()) {
                        doc.err(
                            &child_path(
                                &index_path(&child_path(&pp, "plugins.multiPoint.enabled"), k),
                                "name",
                            ),
                            format!(
                                "unknown plugin {:?}; valid plugins: {}",
                                e.name,
                                valid.join(", ")
                            ),
                        );
                        ok = false;
                    }
                }
            }
        }
        let mut args = BTreeMap::new();
        let pc_nodes: Vec<&YNode> = match profile_nodes
            .get(pi)
            .and_then(|n| n.get("pluginConfig"))
            .map(|n| &n.value)
        {
            Some(super::yaml::Value::Seq(items)) => items.iter().collect(),
            _ => Vec::new(),
        };
        for (ci, c) in p.plugin_config.iter().enumerate() {
            let cp = index_path(&child_path(&pp, "pluginConfig"), ci);
            let Some(args_node) = pc_nodes.get(ci).and_then(|n| n.get("args")) else {
                continue;
            };
            let ap = child_path(&cp, "args");
            if args.contains_key(&c.name) {
                doc.err(
                    &child_path(&cp, "name"),
                    format!("repeated config for plugin {:?}", c.name),
                );
                ok = false;
                continue;
            }
            let _ = &c.args;
            match convert_args(doc, &c.name, args_node, &ap) {
                Ok(Some(a)) => {
                    args.insert(c.name.clone(), a);
                }
                Ok(None) => ok = false,
                Err(msg) => {
                    doc.err(&child_path(&cp, "name"), msg);
                    ok = false;
                }
            }
        }
        let prof = ProfileConfig {
            scheduler_name: name,
            percentage_of_nodes_to_score: p.percentage_of_nodes_to_score,
            plugins,
            args,
        };
        // Build the profile now so plugin/point errors surface here.
        if ok {
            if let Err(e) = crate::scheduler::profile::Profile::new(&prof) {
                doc.err(&pp, e);
                ok = false;
            }
        }
        cfg.profiles.push(prof);
    }
    for (ei, e) in m.extenders.iter().enumerate() {
        let ep = index_path("extenders", ei);
        let url = e.url_prefix.clone().unwrap_or_default();
        if url.is_empty() && e.command.is_empty() {
            doc.err(
                &child_path(&ep, "urlPrefix"),
                "required (or `command` for a JSON-lines subprocess extender)",
            );
            ok = false;
        }
        if e.enable_https == Some(true) {
            doc.err(
                &child_path(&ep, "enableHTTPS"),
                "HTTPS extenders are not supported; use http:// on loopback",
            );
            ok = false;
        }
        let weight = e.weight.unwrap_or(1);
        if e.prioritize_verb.is_some() && weight <= 0 {
            doc.err(
                &child_path(&ep, "weight"),
                "must have a positive weight applied to it",
            );
            ok = false;
        }
        let timeout = match &e.http_timeout {
            Some(t) => duration(doc, &child_path(&ep, "httpTimeout"), t)
                .unwrap_or(crate::engine::Duration::from_secs(5)),
            None => crate::engine::Duration::from_secs(5),
        };
        cfg.extenders.push(ExtenderConfig {
            url_prefix: url,
            command: e.command.clone(),
            filter_verb: e.filter_verb.clone().unwrap_or_default(),
            prioritize_verb: e.prioritize_verb.clone().unwrap_or_default(),
            bind_verb: e.bind_verb.clone().unwrap_or_default(),
            weight,
            timeout,
            node_cache_capable: e.node_cache_capable,
            ignorable: e.ignorable,
            // `ignoredByScheduler` is accepted but not applied to
            // NodeResourcesFit (documented deviation).
            managed_resources: e.managed_resources.iter().map(|r| r.name.clone()).collect(),
        });
    }
    if cfg
        .extenders
        .iter()
        .filter(|e| !e.bind_verb.is_empty())
        .count()
        > 1
    {
        doc.err("extenders", "only one extender can implement bind");
        ok = false;
    }
    ok.then_some(cfg)
}

/// Decodes `pluginConfig[].args` for a plugin. `Err` for an unknown plugin.
fn convert_args(
    doc: &mut Doc,
    plugin: &str,
    node: &YNode,
    path: &str,
) -> Result<Option<PluginArgs>, String> {
    Ok(match plugin {
        "NodeResourcesFit" => {
            let Some(m) = doc.decode::<NodeResourcesFitArgsM>(node, path) else {
                return Ok(None);
            };
            let _ = (&m.api_version, &m.kind);
            let st = m.scoring_strategy.unwrap_or_default();
            let strategy = match st.type_.as_deref() {
                None | Some("LeastAllocated") => ScoringStrategyType::LeastAllocated,
                Some("MostAllocated") => ScoringStrategyType::MostAllocated,
                Some("RequestedToCapacityRatio") => ScoringStrategyType::RequestedToCapacityRatio,
                Some(o) => {
                    doc.err(
                        &child_path(path, "scoringStrategy.type"),
                        format!("unsupported value {o:?}: supported values: \"LeastAllocated\", \"MostAllocated\", \"RequestedToCapacityRatio\""),
                    );
                    return Ok(None);
                }
            };
            let a = NodeResourcesFitArgs {
                ignored_resources: m.ignored_resources,
                ignored_resource_groups: m.ignored_resource_groups,
                strategy,
                resources: resources(st.resources),
                shape: st
                    .requested_to_capacity_ratio
                    .map(|r| {
                        r.shape
                            .iter()
                            .map(|p| (i64::from(p.utilization), i64::from(p.score)))
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            if let Err(e) = crate::scheduler::plugins::node_resources_fit::Fit::new(a.clone()) {
                doc.err(path, e);
                return Ok(None);
            }
            Some(PluginArgs::NodeResourcesFit(a))
        }
        "NodeResourcesBalancedAllocation" => {
            let Some(m) = doc.decode::<BalancedAllocationArgsM>(node, path) else {
                return Ok(None);
            };
            let _ = (&m.api_version, &m.kind);
            let a = BalancedAllocationArgs {
                resources: resources(m.resources),
            };
            if let Err(e) = crate::scheduler::plugins::node_resources_balanced_allocation::BalancedAllocation::new(a.clone()) {
                doc.err(path, e);
                return Ok(None);
            }
            Some(PluginArgs::BalancedAllocation(a))
        }
        "InterPodAffinity" => {
            let Some(m) = doc.decode::<InterPodAffinityArgsM>(node, path) else {
                return Ok(None);
            };
            let _ = (&m.api_version, &m.kind);
            let w = m.hard_pod_affinity_weight.unwrap_or(1);
            if !(0..=100).contains(&w) {
                doc.err(
                    &child_path(path, "hardPodAffinityWeight"),
                    format!("not in valid range [0-100], found {w}"),
                );
                return Ok(None);
            }
            Some(PluginArgs::InterPodAffinity(InterPodAffinityArgs {
                hard_pod_affinity_weight: w,
                ignore_preferred_terms_of_existing_pods: m
                    .ignore_preferred_terms_of_existing_pods
                    .unwrap_or(false),
            }))
        }
        "PodTopologySpread" => {
            let Some(m) = doc.decode::<PodTopologySpreadArgsM>(node, path) else {
                return Ok(None);
            };
            let _ = (&m.api_version, &m.kind);
            let defaulting_type = match m.defaulting_type.as_deref() {
                None | Some("System") => DefaultingType::System,
                Some("List") => DefaultingType::List,
                Some(o) => {
                    doc.err(
                        &child_path(path, "defaultingType"),
                        format!("unsupported value {o:?}: supported values: \"List\", \"System\""),
                    );
                    return Ok(None);
                }
            };
            if defaulting_type == DefaultingType::System && !m.default_constraints.is_empty() {
                doc.err(
                    &child_path(path, "defaultConstraints"),
                    "when .defaultingType is \"System\", .defaultConstraints must be empty",
                );
                return Ok(None);
            }
            for (i, c) in m.default_constraints.iter().enumerate() {
                if c.label_selector.is_some() {
                    doc.err(
                        &child_path(
                            &index_path(&child_path(path, "defaultConstraints"), i),
                            "labelSelector",
                        ),
                        "constraint must not define a selector, as they deduced for each pod",
                    );
                    return Ok(None);
                }
            }
            let Some(default_constraints) = convert_spread(
                doc,
                &m.default_constraints,
                &child_path(path, "defaultConstraints"),
                &Default::default(),
            ) else {
                return Ok(None);
            };
            Some(PluginArgs::PodTopologySpread(PodTopologySpreadArgs {
                default_constraints,
                defaulting_type,
            }))
        }
        "NodeAffinity" => {
            let Some(m) = doc.decode::<NodeAffinityArgsM>(node, path) else {
                return Ok(None);
            };
            let _ = (&m.api_version, &m.kind);
            let added_affinity = match &m.added_affinity {
                None => None,
                Some(a) => {
                    match convert_node_affinity(doc, a, &child_path(path, "addedAffinity")) {
                        Some(a) => Some(a),
                        None => return Ok(None),
                    }
                }
            };
            Some(PluginArgs::NodeAffinity(NodeAffinityArgs {
                added_affinity,
            }))
        }
        "DefaultPreemption" => {
            let Some(m) = doc.decode::<DefaultPreemptionArgsM>(node, path) else {
                return Ok(None);
            };
            let _ = (&m.api_version, &m.kind);
            let d = DefaultPreemptionArgs::default();
            let pct = m
                .min_candidate_nodes_percentage
                .unwrap_or(d.min_candidate_nodes_percentage);
            let abs = m
                .min_candidate_nodes_absolute
                .unwrap_or(d.min_candidate_nodes_absolute);
            if !(0..=100).contains(&pct) {
                doc.err(
                    &child_path(path, "minCandidateNodesPercentage"),
                    format!("not in valid range [0, 100], found {pct}"),
                );
                return Ok(None);
            }
            if abs < 0 {
                doc.err(
                    &child_path(path, "minCandidateNodesAbsolute"),
                    format!("not in valid range [0, inf), found {abs}"),
                );
                return Ok(None);
            }
            if pct == 0 && abs == 0 {
                doc.err(
                    path,
                    "both minCandidateNodesPercentage and minCandidateNodesAbsolute cannot be zero",
                );
                return Ok(None);
            }
            Some(PluginArgs::DefaultPreemption(DefaultPreemptionArgs {
                min_candidate_nodes_percentage: pct,
                min_candidate_nodes_absolute: abs,
            }))
        }
        "Coscheduling" => {
            let Some(m) = doc.decode::<CoschedulingArgsM>(node, path) else {
                return Ok(None);
            };
            let _ = (&m.api_version, &m.kind);
            let secs = m.permit_waiting_time_seconds.unwrap_or(60);
            if secs <= 0 {
                doc.err(
                    &child_path(path, "permitWaitingTimeSeconds"),
                    "must be greater than 0",
                );
                return Ok(None);
            }
            Some(PluginArgs::Coscheduling(CoschedulingArgs {
                permit_waiting_time: crate::engine::Duration::from_secs(secs as u64),
            }))
        }
        other => {
            let names = crate::scheduler::plugins::names();
            if names.contains(&other) {
                return Err(format!("plugin {other:?} takes no arguments"));
            }
            return Err(format!(
                "unknown plugin {other:?}; valid plugins: {}",
                names.join(", ")
            ));
        }
    })
}

/// Pods whose `schedulerName` no profile serves stay Pending forever, as
/// in a real cluster: say so at load time.
pub(super) fn check_scheduler_names(
    diags: &mut Vec<Diagnostic>,
    file: &Path,
    sc: &Scenario,
    trees: &[YNode],
    object_docs: &[usize],
    _scenario_idx: Option<usize>,
) {
    let served: Vec<&str> = if sc.scheduler.policy == "default" {
        sc.scheduler
            .config
            .profiles
            .iter()
            .map(|p| p.scheduler_name.as_str())
            .collect()
    } else {
        vec!["default-scheduler"]
    };
    let gpu_share_enabled = sc.scheduler.config.profiles.iter().any(|p| {
        p.plugins
            .multi_point
            .enabled
            .iter()
            .any(|e| e.name == "GpuShare")
            || p.plugins
                .points
                .get(&Point::Filter)
                .is_some_and(|f| f.enabled.iter().any(|e| e.name == "GpuShare"))
    });
    let mut warned_gpu = false;
    for (i, o) in sc.objects.iter().enumerate() {
        let Object::Pod(p) = o else { continue };
        if p.gpu.is_some() && sc.scheduler.policy == "default" && !gpu_share_enabled && !warned_gpu
        {
            warned_gpu = true;
            let loc = object_docs
                .get(i)
                .and_then(|d| trees.get(*d))
                .and_then(|t| t.get("metadata"))
                .and_then(|m| m.get("annotations"))
                .map(|n| n.loc)
                .unwrap_or_default();
            diags.push(Diagnostic {
                severity: Severity::Warning,
                file: file.to_path_buf(),
                line: loc.line,
                column: loc.col,
                path: "metadata.annotations".to_string(),
                object: format!("Pod {}", p.meta.key()),
                message: "GPU-sharing pods need the GpuShare filter, which kube-scheduler's default profile lacks: \
                          enable it in a KubeSchedulerConfiguration profile or choose a GPU policy (fgd, …)"
                    .to_string(),
            });
        }
        if p.spec.node_name.is_some() || served.contains(&p.spec.scheduler_name.as_str()) {
            continue;
        }
        let loc = object_docs
            .get(i)
            .and_then(|d| trees.get(*d))
            .and_then(|t| t.get("spec"))
            .and_then(|s| s.get("schedulerName"))
            .map(|n| n.loc)
            .unwrap_or_default();
        diags.push(Diagnostic {
            severity: Severity::Warning,
            file: file.to_path_buf(),
            line: loc.line,
            column: loc.col,
            path: "spec.schedulerName".to_string(),
            object: format!("Pod {}", p.meta.key()),
            message: format!(
                "no scheduler profile is named {:?} (profiles: {}); the pod will stay Pending",
                p.spec.scheduler_name,
                served.join(", ")
            ),
        });
    }
}
