//! From a [`Trace`] to what a run needs: Nodes, PriorityClasses and Pods
//! (built exactly as the scenario loader would build their manifests, so
//! a direct replay and an imported YAML give the same pods), each pod with
//! its arrival time, after the replay knobs:
//!
//! - **load factor** `f`: each pod stands for `⌊f⌋` copies plus one more
//!   with probability `f − ⌊f⌋` (copies after the first are named
//!   `<name>-x<k>`);
//! - **sample** `{fraction, seed}`: each copy is kept with probability
//!   `fraction`;
//! - **time compression** `c`: arrivals and run times are divided by `c`;
//! - **durations**: pods without a run time draw one from an empirical
//!   distribution (the Philly runtimes).
//!
//! Factors are exact decimals held in parts per million. Every draw comes
//! from a ChaCha8 stream keyed by the sample seed and a stream name
//! (`trace-load`, `trace-sample`, `trace-durations`).

use std::collections::BTreeMap;

use super::philly::Durations;
use super::{Trace, TraceNode, TracePod};
use crate::engine::{Duration, SimRng, SimTime};
use crate::model::gpu::{self, NodeGpus};
use crate::model::pod::{Container, PodBehavior, PodSpec, PullPolicy, RestartPolicy};
use crate::model::priority::PriorityClass;
use crate::model::{Node, ObjectMeta, Pod};

/// One part per million: the unit of the replay factors.
pub const PPM: u64 = 1_000_000;
/// The image of every trace pod's container.
pub const IMAGE: &str = "registry.k8s.io/pause:3.10";
/// The container name of every trace pod.
pub const CONTAINER: &str = "main";

/// The replay knobs.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    pub load_factor_ppm: u64,
    pub time_compression_ppm: u64,
    pub sample_fraction_ppm: u64,
    pub seed: u64,
    pub durations: Option<Durations>,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            load_factor_ppm: PPM,
            time_compression_ppm: PPM,
            sample_fraction_ppm: PPM,
            seed: 1,
            durations: None,
        }
    }
}

/// A trace ready to run.
#[derive(Clone, Debug, Default)]
pub struct Expanded {
    pub nodes: Vec<Node>,
    pub priority_classes: Vec<PriorityClass>,
    /// Pods with their arrival times, in trace order.
    pub pods: Vec<(SimTime, Pod)>,
}

/// The PriorityClass made for a trace priority.
pub fn priority_class_name(p: i32) -> String {
    if p < 0 {
        format!("trace-priority-m{}", p.unsigned_abs())
    } else {
        format!("trace-priority-{p}")
    }
}

fn scale(d: Duration, compression_ppm: u64) -> Duration {
    let v = u128::from(d.as_micros()) * u128::from(PPM) / u128::from(compression_ppm.max(1));
    Duration::from_micros(u64::try_from(v).unwrap_or(u64::MAX))
}

/// Applies the knobs and builds the objects.
pub fn expand(trace: &Trace, opts: &ReplayOptions, defaults: &PodBehavior) -> Expanded {
    let mut x = Expander::new(opts);
    let mut out = Expanded {
        nodes: trace.nodes.iter().map(node).collect(),
        ..Default::default()
    };
    for tp in &trace.pods {
        x.pod(tp, opts, defaults, &mut out.pods);
    }
    out.priority_classes = x.classes.into_values().collect();
    out
}

/// Like [`expand`], consuming the trace: each trace pod is dropped once
/// its pods are built, so a large trace is not held twice.
pub fn expand_owned(trace: Trace, opts: &ReplayOptions, defaults: &PodBehavior) -> Expanded {
    let mut x = Expander::new(opts);
    let mut out = Expanded {
        nodes: trace.nodes.iter().map(node).collect(),
        ..Default::default()
    };
    for tp in trace.pods {
        x.pod(&tp, opts, defaults, &mut out.pods);
    }
    out.priority_classes = x.classes.into_values().collect();
    out
}

struct Expander {
    load: SimRng,
    sample: SimRng,
    durs: SimRng,
    whole: u64,
    frac: u64,
    classes: BTreeMap<i32, PriorityClass>,
}

impl Expander {
    fn new(opts: &ReplayOptions) -> Expander {
        Expander {
            load: SimRng::derive(opts.seed, "trace-load"),
            sample: SimRng::derive(opts.seed, "trace-sample"),
            durs: SimRng::derive(opts.seed, "trace-durations"),
            whole: opts.load_factor_ppm / PPM,
            frac: opts.load_factor_ppm % PPM,
            classes: BTreeMap::new(),
        }
    }

    fn pod(
        &mut self,
        tp: &TracePod,
        opts: &ReplayOptions,
        defaults: &PodBehavior,
        out: &mut Vec<(SimTime, Pod)>,
    ) {
        for r in 0..tp.replicas {
            let base = if tp.replicas == 1 {
                tp.name.clone()
            } else {
                format!("{}-{r}", tp.name)
            };
            let copies = self.whole + u64::from(self.frac > 0 && self.load.below(PPM) < self.frac);
            for c in 0..copies {
                if opts.sample_fraction_ppm < PPM
                    && self.sample.below(PPM) >= opts.sample_fraction_ppm
                {
                    continue;
                }
                let name = if c == 0 {
                    base.clone()
                } else {
                    format!("{base}-x{c}")
                };
                let mut d = tp.duration;
                if d.is_none() {
                    if let Some(dist) = &opts.durations {
                        d = dist.sample(&mut self.durs);
                    }
                }
                let d = d.map(|d| scale(d, opts.time_compression_ppm));
                let at = SimTime::ZERO.after(scale(tp.arrival, opts.time_compression_ppm));
                if tp.priority != 0 {
                    self.classes
                        .entry(tp.priority)
                        .or_insert_with(|| PriorityClass {
                            name: priority_class_name(tp.priority),
                            value: tp.priority,
                            global_default: false,
                            preempt_lower: true,
                        });
                }
                out.push((at, pod(tp, name, d, defaults)));
            }
        }
    }
}

/// The annotations a trace pod carries (GPU request, run time, extras).
pub fn pod_annotations(tp: &TracePod, run: Option<Duration>) -> BTreeMap<String, String> {
    let mut ann = tp.annotations.clone();
    if let Some(g) = &tp.gpu {
        ann.insert(gpu::ANN_GPU_COUNT.into(), g.num_gpu.to_string());
        ann.insert(gpu::ANN_GPU_MILLI.into(), g.gpu_milli.to_string());
        if !g.models.is_empty() {
            ann.insert(gpu::ANN_GPU_MODEL.into(), g.spec_string());
        }
    }
    if let Some(d) = run {
        ann.insert(crate::scenario::ANN_RUN.into(), d.to_string());
    }
    ann
}

/// The Pod a trace pod becomes (as the loader builds its manifest:
/// namespace `default`, one container, restartPolicy Never, the default
/// tolerations, priority from its class).
pub fn pod(tp: &TracePod, name: String, run: Option<Duration>, defaults: &PodBehavior) -> Pod {
    let meta = ObjectMeta {
        name,
        namespace: "default".into(),
        labels: tp.labels.clone(),
        annotations: pod_annotations(tp, run),
        ..Default::default()
    };
    let mut tolerations = Vec::new();
    crate::scenario::add_default_toleration_seconds(&mut tolerations);
    let spec = PodSpec {
        containers: vec![Container {
            name: CONTAINER.into(),
            image: IMAGE.into(),
            image_pull_policy: PullPolicy::IfNotPresent,
            requests: tp.requests.clone(),
            limits: tp.limits.clone(),
            ports: vec![],
            restart_policy: None,
            env: Vec::new(),
        }],
        tolerations,
        priority: tp.priority,
        priority_class_name: (tp.priority != 0).then(|| priority_class_name(tp.priority)),
        restart_policy: RestartPolicy::Never,
        ..PodSpec::default()
    };
    let mut behavior = defaults.clone();
    if run.is_some() {
        behavior.run = run;
    }
    let mut p = Pod::new(meta, spec, behavior);
    p.gpu = tp.gpu.clone();
    p
}

/// The node annotations for a trace node's GPUs.
pub fn node_annotations(tn: &TraceNode) -> BTreeMap<String, String> {
    let mut ann = BTreeMap::new();
    if let Some((n, model)) = &tn.gpus {
        ann.insert(gpu::ANN_GPU_COUNT.into(), n.to_string());
        if !model.is_empty() {
            ann.insert(gpu::ANN_GPU_MODEL.into(), model.clone());
        }
    }
    ann
}

/// The Node a trace node becomes (as the loader builds its manifest).
pub fn node(tn: &TraceNode) -> Node {
    let mut meta = ObjectMeta {
        name: tn.name.clone(),
        labels: tn.labels.clone(),
        annotations: node_annotations(tn),
        ..Default::default()
    };
    crate::scenario::default_node_labels(&mut meta.labels, &tn.name);
    let mut n = Node::new(meta, tn.capacity.clone(), tn.capacity.clone());
    n.gpus = tn
        .gpus
        .as_ref()
        .filter(|(c, _)| *c > 0)
        .map(|(c, m)| NodeGpus::new(*c, m));
    n
}
