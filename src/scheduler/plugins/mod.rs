//! The default kube-scheduler plugins, one file each, following upstream
//! pkg/scheduler/framework/plugins (v1.35) with its exact integer
//! arithmetic, plus kubesim's Coscheduling (gang) Permit plugin.
//! [`new_plugin`] is the registry: add a line there to register a plugin.

pub mod coscheduling;
pub mod default_binder;
pub mod default_preemption;
pub mod dynamic_resources;
pub mod gpu_share;
pub mod helper;
pub mod image_locality;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_name;
pub mod node_ports;
pub mod node_resources_balanced_allocation;
pub mod node_resources_fit;
pub mod node_unschedulable;
pub mod pod_topology_spread;
pub mod priority_sort;
pub mod queueing_hints;
pub mod scheduling_gates;
pub mod taint_toleration;

use super::config::PluginArgs;
use super::framework::{Plugin, Point};

/// Every plugin name the registry knows, in upstream's default order.
pub const NAMES: [&str; 17] = [
    "SchedulingGates",
    "PrioritySort",
    "NodeUnschedulable",
    "NodeName",
    "TaintToleration",
    "NodeAffinity",
    "NodePorts",
    "NodeResourcesFit",
    "PodTopologySpread",
    "InterPodAffinity",
    "DynamicResources",
    "DefaultPreemption",
    "NodeResourcesBalancedAllocation",
    "ImageLocality",
    "DefaultBinder",
    "Coscheduling",
    "GpuShare",
];

/// The registered plugin names.
pub fn names() -> Vec<&'static str> {
    NAMES.to_vec()
}

/// Builds the plugin `name` with its (already validated) args.
pub fn new_plugin(name: &str, args: Option<&PluginArgs>) -> Result<Box<dyn Plugin>, String> {
    use PluginArgs as A;
    let wrong = || format!("plugin {name:?} was given arguments of another plugin");
    Ok(match (name, args) {
        ("SchedulingGates", None) => Box::new(scheduling_gates::SchedulingGates),
        ("PrioritySort", None) => Box::new(priority_sort::PrioritySort),
        ("NodeUnschedulable", None) => Box::new(node_unschedulable::NodeUnschedulable),
        ("NodeName", None) => Box::new(node_name::NodeName),
        ("TaintToleration", None) => Box::new(taint_toleration::TaintToleration),
        ("NodeAffinity", None) => {
            Box::new(node_affinity::NodeAffinityPlugin::new(Default::default()))
        }
        ("NodeAffinity", Some(A::NodeAffinity(a))) => {
            Box::new(node_affinity::NodeAffinityPlugin::new(a.clone()))
        }
        ("NodePorts", None) => Box::new(node_ports::NodePorts),
        ("NodeResourcesFit", None) => Box::new(node_resources_fit::Fit::new(Default::default())?),
        ("NodeResourcesFit", Some(A::NodeResourcesFit(a))) => {
            Box::new(node_resources_fit::Fit::new(a.clone())?)
        }
        ("NodeResourcesBalancedAllocation", None) => Box::new(
            node_resources_balanced_allocation::BalancedAllocation::new(Default::default())?,
        ),
        ("NodeResourcesBalancedAllocation", Some(A::BalancedAllocation(a))) => Box::new(
            node_resources_balanced_allocation::BalancedAllocation::new(a.clone())?,
        ),
        ("ImageLocality", None) => Box::new(image_locality::ImageLocality),
        ("InterPodAffinity", None) => {
            Box::new(inter_pod_affinity::InterPodAffinity::new(Default::default()))
        }
        ("InterPodAffinity", Some(A::InterPodAffinity(a))) => {
            Box::new(inter_pod_affinity::InterPodAffinity::new(a.clone()))
        }
        ("PodTopologySpread", None) => Box::new(pod_topology_spread::PodTopologySpread::new(
            Default::default(),
        )),
        ("PodTopologySpread", Some(A::PodTopologySpread(a))) => {
            Box::new(pod_topology_spread::PodTopologySpread::new(a.clone()))
        }
        ("DefaultPreemption", None) => Box::new(default_preemption::DefaultPreemption::new(
            Default::default(),
        )),
        ("DefaultPreemption", Some(A::DefaultPreemption(a))) => {
            Box::new(default_preemption::DefaultPreemption::new(a.clone()))
        }
        ("DefaultBinder", None) => Box::new(default_binder::DefaultBinder),
        ("DynamicResources", None) => Box::new(dynamic_resources::DynamicResources),
        ("Coscheduling", None) => Box::new(coscheduling::Coscheduling::new(Default::default())),
        ("Coscheduling", Some(A::Coscheduling(a))) => {
            Box::new(coscheduling::Coscheduling::new(a.clone()))
        }
        ("GpuShare", None) => Box::new(gpu_share::GpuShare),
        (n, _) if names().contains(&n) => return Err(wrong()),
        (n, _) => {
            return Err(format!(
                "unknown plugin {n:?}; valid plugins: {}",
                names().join(", ")
            ))
        }
    })
}

/// The extension points a registered plugin implements.
pub fn points(name: &str) -> Option<&'static [Point]> {
    if !names().contains(&name) {
        return None;
    }
    new_plugin(name, None).ok().map(|p| p.points())
}
