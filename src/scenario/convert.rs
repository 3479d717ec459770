//! From located YAML trees to validated model values, collecting every
//! problem with its path and position.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::diag::{Diagnostic, Diagnostics, Severity};
use super::manifest::*;
use super::yaml::{self, child_path, index_path, Ignored, Loc, Node as YNode};
use super::{
    Action, LoadOptions, NodePool, Object, ObjectRef, Scenario, SchedulerSettings, TimedAction,
    API_VERSION,
};
use crate::engine::{Duration, SimTime};
use crate::model::affinity::{
    NodeAffinity, NodeSelector, NodeSelectorOperator, NodeSelectorRequirement, NodeSelectorTerm,
    PreferredSchedulingTerm,
};
use crate::model::gpu;
use crate::model::labels::{validate_label_key, validate_label_value, Labels};
use crate::model::meta::{ObjectMeta, OwnerReference};
use crate::model::node::{self as mnode, Node};
use crate::model::pod::{
    Container, ContainerPort, Pod, PodBehavior, PodProbes, PodSpec, Probe, PullPolicy,
    RestartPolicy,
};
use crate::model::priority::{system_classes, PriorityClass};
use crate::model::quantity::Quantity;
use crate::model::resources::{self, Resources};
use crate::model::taints::{Taint, TaintEffect, Toleration, TolerationOperator};
use crate::model::usage::{self, ContainerUsage, PodUsage, UsageModel, UsageSpec};

/// Annotations that set simulation-only pod behaviour.
pub const ANN_STARTUP: &str = "kubesim.dev/startup-time";
pub const ANN_RUN: &str = "kubesim.dev/run-time";
pub const ANN_EXIT_CODE: &str = "kubesim.dev/exit-code";
pub const ANN_SHUTDOWN: &str = "kubesim.dev/shutdown-time";
/// Node-model annotations (docs/nodes.md); each also exists per container
/// as `<key>.<container name>`.
pub const ANN_CPU_USAGE: &str = "kubesim.dev/cpu-usage";
pub const ANN_MEMORY_USAGE: &str = "kubesim.dev/memory-usage";
pub const ANN_CPU_WORK: &str = "kubesim.dev/cpu-work";
/// Probe outcomes and the preStop hook (docs/nodes.md).
pub const ANN_READY_AFTER: &str = "kubesim.dev/ready-after";
pub const ANN_LIVENESS_FAIL_AFTER: &str = "kubesim.dev/liveness-fail-after";
pub const ANN_PRESTOP: &str = "kubesim.dev/prestop-time";
/// Size of the pod's images (image pulls; docs/nodes.md).
pub const ANN_IMAGE_SIZE: &str = "kubesim.dev/image-size";
const KNOWN_ANNOTATIONS: [&str; 11] = [
    ANN_IMAGE_SIZE,
    ANN_READY_AFTER,
    ANN_LIVENESS_FAIL_AFTER,
    ANN_PRESTOP,
    ANN_STARTUP,
    ANN_RUN,
    ANN_EXIT_CODE,
    ANN_SHUTDOWN,
    ANN_CPU_USAGE,
    ANN_MEMORY_USAGE,
    ANN_CPU_WORK,
];

/// The largest node pool (and `addNodes` count) a scenario may ask for.
pub const MAX_POOL_NODES: u32 = 1_000_000;
/// The most time-series samples a run may record.
pub const MAX_SAMPLES: u64 = 10_000_000;

/// Namespaces every cluster has.
pub const BUILTIN_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Kinds kubesim knows but does not simulate (yet): applying one is an
/// error that says why. (Every other kind it decodes is simulated.)
const NOT_YET: [(&str, &str); 4] = [
    (
        "EndpointSlice",
        "the Services issue: kubesim derives each Service's endpoints itself",
    ),
    (
        "PersistentVolumeClaim",
        "nothing: kubesim only models the claims of StatefulSet volumeClaimTemplates",
    ),
    (
        "ConfigMap",
        "nothing: kubesim does not model configuration objects",
    ),
    (
        "Secret",
        "nothing: kubesim does not model configuration objects",
    ),
];

pub(super) struct Sink {
    file: PathBuf,
    diags: Vec<Diagnostic>,
    strict: bool,
}

/// One document being converted: its path index and the object it names.
pub(super) struct Doc<'s> {
    index: BTreeMap<String, Loc>,
    object: String,
    sink: &'s mut Sink,
}

impl Doc<'_> {
    pub(super) fn loc_of(&self, path: &str) -> Loc {
        let mut p = path.to_string();
        loop {
            if let Some(l) = self.index.get(&p) {
                return *l;
            }
            match p.rfind(['.', '[']) {
                Some(i) => p.truncate(i),
                None => return self.index.get("").copied().unwrap_or_default(),
            }
        }
    }
    fn push(&mut self, severity: Severity, path: &str, loc: Option<Loc>, msg: String) {
        let loc = loc.unwrap_or_else(|| self.loc_of(path));
        self.sink.diags.push(Diagnostic {
            severity,
            file: self.sink.file.clone(),
            line: loc.line,
            column: loc.col,
            path: path.to_string(),
            object: self.object.clone(),
            message: msg,
        });
    }
    pub(super) fn err(&mut self, path: &str, msg: impl Into<String>) {
        self.push(Severity::Error, path, None, msg.into());
    }
    pub(super) fn warn(&mut self, path: &str, msg: impl Into<String>) {
        let sev = if self.sink.strict {
            Severity::Error
        } else {
            Severity::Warning
        };
        self.push(sev, path, None, msg.into());
    }

    /// Decodes a typed value, reporting unknown fields as warnings and a
    /// type error as an error.
    pub(super) fn decode<T: serde::de::DeserializeOwned>(
        &mut self,
        node: &YNode,
        path: &str,
    ) -> Option<T> {
        let ignored = Ignored::default();
        let r = yaml::decode::<T>(node, path, &ignored);
        for (p, _value_loc) in ignored.fields.into_inner() {
            if is_probe_handler(&p) {
                continue;
            }
            // Point at the key, where the user typed the field name.
            let loc = self.loc_of(&p);
            let msg = unused_field_message(&p);
            let sev = if self.sink.strict {
                Severity::Error
            } else {
                Severity::Warning
            };
            self.push(sev, &p, Some(loc), msg);
        }
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(Severity::Error, &e.path, e.loc, e.message);
                None
            }
        }
    }
}

/// Probe handlers (`httpGet`, `tcpSocket`, `exec`, `grpc`) are accepted:
/// kubesim models probe outcomes, not the requests themselves.
fn is_probe_handler(path: &str) -> bool {
    ["readinessProbe.", "livenessProbe."].iter().any(|probe| {
        path.split_once(probe).is_some_and(|(_, rest)| {
            ["httpGet", "tcpSocket", "exec", "grpc"]
                .iter()
                .any(|h| rest == *h || rest.starts_with(&format!("{h}.")))
        })
    })
}

fn unused_field_message(path: &str) -> String {
    let last = path.rsplit(['.', '[']).next().unwrap_or(path);
    match last {
        "status" => "status is computed by the simulation; this field is ignored".to_string(),
        "startupProbe" => "startup probes are not simulated yet; this field is ignored".to_string(),
        _ => {
            "field is not used by kubesim; ignored (use --strict to make this an error)".to_string()
        }
    }
}

pub(super) fn load(src: &str, file: &Path, opts: LoadOptions) -> Result<Scenario, Diagnostics> {
    load_with(src, file, opts, &[])
}

/// [`load`] with `--set` overrides applied to the parsed documents first
/// (see `set.rs`); an unknown field an override introduces is an error.
pub(super) fn load_with(
    src: &str,
    file: &Path,
    opts: LoadOptions,
    sets: &[super::set::SetOverride],
) -> Result<Scenario, Diagnostics> {
    let mut sink = Sink {
        file: file.to_path_buf(),
        diags: Vec::new(),
        strict: opts.strict,
    };
    let raw = match yaml::split_documents(src) {
        Ok(d) => d,
        Err((line, msg)) => {
            sink.diags.push(Diagnostic {
                severity: Severity::Error,
                file: file.to_path_buf(),
                line,
                column: 1,
                path: String::new(),
                object: String::new(),
                message: msg,
            });
            return Err(Diagnostics(sink.diags));
        }
    };
    let mut trees = Vec::new();
    for d in &raw {
        match yaml::parse_document(d) {
            Ok(n) => trees.push(n),
            Err((loc, msg)) => sink.diags.push(Diagnostic {
                severity: Severity::Error,
                file: file.to_path_buf(),
                line: loc.line,
                column: loc.col,
                path: String::new(),
                object: String::new(),
                message: format!("YAML syntax error: {msg}"),
            }),
        }
    }
    if !sets.is_empty() && !sink.diags.iter().any(|d| d.severity == Severity::Error) {
        let d = super::set::apply_all(&mut trees, sets, file);
        if !d.is_empty() {
            return Err(Diagnostics(d));
        }
    }

    // Find the Scenario document first: its defaults shape pod conversion.
    let mut scenario_idx = None;
    for (i, t) in trees.iter().enumerate() {
        if t.get("kind").and_then(|k| k.as_str()) == Some("Scenario") {
            if scenario_idx.is_some() {
                let mut doc = new_doc(&mut sink, t, "Scenario");
                doc.err("kind", "a file may hold only one Scenario document");
            } else {
                scenario_idx = Some(i);
            }
        }
    }
    let default_name = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".to_string());
    let mut sc = Scenario {
        name: default_name,
        source: file.to_path_buf(),
        seed: 1,
        duration: None,
        sample_interval: Duration::from_secs(10),
        pod_defaults: PodBehavior {
            startup: Duration::from_secs(1),
            run: None,
            exit_code: 0,
            shutdown: Duration::ZERO,
            usage: None,
            probes: None,
            prestop: Duration::ZERO,
            image_size: None,
            init_time: Duration::ZERO,
        },
        scheduler: SchedulerSettings::default(),
        node_pools: Vec::new(),
        objects: Vec::new(),
        timeline: Vec::new(),
        warnings: Diagnostics::default(),
        reconcile_delay: crate::controllers::DEFAULT_RECONCILE_DELAY,
        start_time_us: super::DEFAULT_START_TIME_US,
        kubelet: Default::default(),
        cluster_autoscaler: Default::default(),
        traffic: Vec::new(),
    };
    let mut spec_m: Option<(usize, ScenarioSpecM)> = None;
    if let Some(i) = scenario_idx {
        let mut doc = new_doc(&mut sink, &trees[i], "Scenario");
        if let Some(m) = doc.decode::<ScenarioM>(&trees[i], "") {
            check_api_version(&mut doc, m.api_version.as_deref(), API_VERSION);
            if let Some(n) = &m.metadata.name {
                doc.object = format!("Scenario {n}");
                sc.name = n.clone();
                if !is_dns_subdomain(n) {
                    doc.err("metadata.name", dns_subdomain_msg(n));
                }
            }
            convert_scenario_header(&mut doc, &m.spec, &mut sc);
            if let Some(ca) = &m.spec.cluster_autoscaler {
                super::hpa::convert_cluster_autoscaler(&mut doc, ca, &mut sc.cluster_autoscaler);
            }
            spec_m = Some((i, m.spec));
        }
    }

    // Priority classes anywhere in the file resolve pod priorities.
    let mut classes: BTreeMap<String, PriorityClass> = system_classes()
        .into_iter()
        .map(|c| (c.name.clone(), c))
        .collect();
    let mut collect_class = |n: &YNode, sink: &mut Sink| {
        if n.get("kind").and_then(|k| k.as_str()) == Some("PriorityClass") {
            let mut doc = new_doc(sink, n, "PriorityClass");
            let ign = Ignored::default();
            if let Ok(m) = yaml::decode::<PriorityClassM>(n, "", &ign) {
                let _ = &mut doc;
                if let Some(name) = m.metadata.name {
                    classes.insert(
                        name.clone(),
                        PriorityClass {
                            name,
                            value: m.value,
                            global_default: m.global_default,
                            preempt_lower: m.preemption_policy.as_deref() != Some("Never"),
                        },
                    );
                }
            }
        }
    };
    for (i, t) in trees.iter().enumerate() {
        if Some(i) == scenario_idx {
            if let Some(tl) = t.get("spec").and_then(|s| s.get("timeline")) {
                if let yaml::Value::Seq(items) = &tl.value {
                    for it in items {
                        if let Some(a) = it.get("apply") {
                            collect_class(a, &mut sink);
                        }
                    }
                }
            }
        } else {
            collect_class(t, &mut sink);
        }
    }
    let mut usage_defaults = (None, None);
    if let Some((i, spec)) = &spec_m {
        let mut doc = new_doc(&mut sink, &trees[*i], &format!("Scenario {}", sc.name));
        let df = &spec.defaults;
        for (text, path, unit, slot) in [
            (
                &df.cpu_usage,
                "spec.defaults.cpuUsage",
                usage::Unit::Cpu,
                &mut usage_defaults.0,
            ),
            (
                &df.memory_usage,
                "spec.defaults.memoryUsage",
                usage::Unit::Bytes,
                &mut usage_defaults.1,
            ),
        ] {
            if let Some(t) = text {
                match usage::parse(t, unit) {
                    Ok(u) => *slot = Some(u),
                    Err(e) => doc.err(path, e),
                }
            }
        }
    }
    let ctx = ConvCtx {
        defaults: sc.pod_defaults.clone(),
        classes,
        usage_defaults,
        base_dir: file.parent().map(Path::to_path_buf).unwrap_or_default(),
        horizon: sc.duration.unwrap_or(Duration::from_secs(7 * 86_400)),
    };

    // A KubeSchedulerConfiguration configures the `default` scheduler.
    let mut sched_idx: Option<usize> = None;
    for (i, t) in trees.iter().enumerate() {
        if t.get("kind").and_then(|k| k.as_str()) != Some(super::schedconfig::KIND) {
            continue;
        }
        let mut doc = new_doc(&mut sink, t, super::schedconfig::KIND);
        if sched_idx.is_some() {
            doc.err(
                "kind",
                "a file may hold only one KubeSchedulerConfiguration",
            );
            continue;
        }
        sched_idx = Some(i);
        if let Some(cfg) = super::schedconfig::convert(&mut doc, t) {
            sc.scheduler.config = cfg;
        }
    }

    // Every other document is an object created at time zero.
    let mut object_docs: Vec<usize> = Vec::new();
    for (i, t) in trees.iter().enumerate() {
        if Some(i) == scenario_idx || Some(i) == sched_idx {
            continue;
        }
        let mut doc = new_doc(&mut sink, t, "");
        if let Some(o) = convert_object(&mut doc, t, "", &ctx) {
            sc.objects.push(o);
            object_docs.push(i);
        }
    }

    // Traffic declared by annotations on time-zero Services.
    for (k, o) in sc.objects.iter().enumerate() {
        let Object::Workload(w) = o else { continue };
        if !super::traffic::declares_traffic(w) {
            continue;
        }
        let Some(&ti) = object_docs.get(k) else {
            continue;
        };
        let mut doc = new_doc(&mut sink, &trees[ti], "");
        if let Some(spec) =
            super::traffic::from_annotations(&mut doc, &w.meta.annotations, "", &ctx.base_dir)
        {
            sc.traffic.push(super::ServiceTraffic {
                namespace: w.meta.namespace.clone(),
                name: w.meta.name.clone(),
                spec,
            });
        }
    }
    let trace_refs = spec_m.as_ref().map(|(i, s)| (*i, s.traces.clone()));
    // Node pools and the timeline.
    if let Some((i, spec)) = spec_m {
        let mut doc = new_doc(&mut sink, &trees[i], &format!("Scenario {}", sc.name));
        for (pi, p) in spec.cluster.node_pools.iter().enumerate() {
            let path = index_path("spec.cluster.nodePools", pi);
            if let Some(pool) = convert_pool(&mut doc, p, &path) {
                sc.node_pools.push(pool);
            }
        }
        let tl_node = trees[i].get("spec").and_then(|s| s.get("timeline"));
        for (ti, e) in spec.timeline.iter().enumerate() {
            let path = index_path("spec.timeline", ti);
            let apply_node = tl_node.and_then(|tl| match &tl.value {
                yaml::Value::Seq(items) => items.get(ti).and_then(|it| it.get("apply")),
                _ => None,
            });
            if let Some(ta) =
                convert_timeline_entry(&mut doc, e, apply_node, &path, &ctx, &sc.node_pools)
            {
                sc.timeline.push(ta);
            }
        }
        sc.timeline.sort_by_key(|a| a.at);
        super::traffic::from_spec(&mut doc, &spec.traffic, &mut sc, &ctx.base_dir);
    }

    cross_check(&mut sink, &sc, &trees, scenario_idx, &object_docs);
    super::schedconfig::check_scheduler_names(
        &mut sink.diags,
        file,
        &sc,
        &trees,
        &object_docs,
        scenario_idx,
    );

    // Traces replayed by the scenario (after the checks above, which look
    // at the documents' own objects).
    if let Some((i, refs)) = trace_refs.filter(|(_, r)| !r.is_empty()) {
        let mut doc = new_doc(&mut sink, &trees[i], &format!("Scenario {}", sc.name));
        let defaults = sc.pod_defaults.clone();
        let (n_objects, n_timeline) = (sc.objects.len(), sc.timeline.len());
        super::traces::expand_into(&mut doc, &refs, file, &defaults, &mut sc);
        // `spec.defaults.cpuUsage` / `memoryUsage` apply to trace pods too
        // (e.g. `request`, so a trace can be replayed on real processes).
        if ctx.usage_defaults.0.is_some() || ctx.usage_defaults.1.is_some() {
            let trace_pods =
                sc.objects[n_objects..]
                    .iter_mut()
                    .chain(sc.timeline[n_timeline..].iter_mut().filter_map(
                        |a| match &mut a.action {
                            Action::Apply(o) => Some(o),
                            _ => None,
                        },
                    ))
                    .filter_map(|o| match o {
                        Object::Pod(p) => Some(p),
                        _ => None,
                    });
            for p in trace_pods {
                match default_usage(&p.spec.containers, &ctx) {
                    Ok((cu, _)) => p.behavior.usage = Some(Box::new(PodUsage { containers: cu })),
                    Err((path, e)) => {
                        // Once: the default fails alike for the other
                        // trace pods.
                        doc.err(path, format!("trace pod {}: {e}", p.meta.name));
                        break;
                    }
                }
            }
        }
        sc.timeline.sort_by_key(|a| a.at);
    }

    let mut diags = Diagnostics(sink.diags);
    for d in diags.0.iter_mut() {
        if let Some(s) = sets.iter().find(|s| s.covers(&d.path)) {
            if d.severity == Severity::Warning {
                d.severity = Severity::Error;
                d.message = format!(
                    "override {:?}: kubesim has no such field (check the path)",
                    s.text
                );
            } else if !d.message.starts_with("override ") {
                d.message = format!("override {:?}: {}", s.text, d.message);
            }
        }
    }
    diags.sort();
    if diags.has_errors() {
        return Err(diags);
    }
    sc.warnings = diags;
    Ok(sc)
}

fn new_doc<'s>(sink: &'s mut Sink, root: &YNode, object: &str) -> Doc<'s> {
    Doc {
        index: yaml::index_paths(root),
        object: object.to_string(),
        sink,
    }
}

pub(super) struct ConvCtx {
    defaults: PodBehavior,
    classes: BTreeMap<String, PriorityClass>,
    /// `spec.defaults.cpuUsage` / `memoryUsage`, parsed.
    usage_defaults: (Option<UsageSpec>, Option<UsageSpec>),
    /// Directory of the scenario file (for `csv(…)` series).
    base_dir: PathBuf,
    /// The run length (a week when unset), for generated series.
    pub(super) horizon: Duration,
}

/// `(base key, container)` of a node-model annotation, if `k` is one.
fn usage_annotation(k: &str) -> Option<(&'static str, Option<&str>)> {
    for base in [ANN_CPU_USAGE, ANN_MEMORY_USAGE, ANN_CPU_WORK] {
        if let Some(rest) = k.strip_prefix(base) {
            if rest.is_empty() {
                return Some((base, None));
            }
            if let Some(c) = rest.strip_prefix('.') {
                return Some((base, Some(c)));
            }
        }
    }
    None
}

/// Resolves a usage text for one container.
fn resolve_usage(
    spec: &UsageSpec,
    c: &Container,
    unit: usage::Unit,
    base_dir: &Path,
) -> Result<UsageModel, String> {
    let pick = |r: &Resources| match unit {
        usage::Unit::Cpu => r.cpu_m,
        usage::Unit::Bytes => r.memory,
    };
    match spec {
        UsageSpec::Model(m) => Ok(m.clone()),
        UsageSpec::Request => Ok(UsageModel::Const(pick(&c.requests))),
        UsageSpec::Limit => match pick(&c.limits) {
            0 => Err(format!(
                "container {:?} has no limit for this resource",
                c.name
            )),
            v => Ok(UsageModel::Const(v)),
        },
        UsageSpec::Csv(path) => {
            let full = base_dir.join(path);
            let text = std::fs::read_to_string(&full)
                .map_err(|e| format!("cannot read {}: {e}", full.display()))?;
            usage::parse_csv_series(&text, unit).map_err(|e| format!("{}: {e}", full.display()))
        }
    }
}

/// `spec.defaults.cpuUsage` / `memoryUsage` for `containers`: the usage
/// per container and whether any default is set, or the first default
/// that cannot apply (its field path and the reason).
fn default_usage(
    containers: &[Container],
    ctx: &ConvCtx,
) -> Result<(Vec<ContainerUsage>, bool), (&'static str, String)> {
    let mut cu = vec![ContainerUsage::default(); containers.len()];
    let (dcpu, dmem) = &ctx.usage_defaults;
    for (i, c) in containers.iter().enumerate() {
        for (d, unit, path) in [
            (dcpu, usage::Unit::Cpu, "spec.defaults.cpuUsage"),
            (dmem, usage::Unit::Bytes, "spec.defaults.memoryUsage"),
        ] {
            let Some(d) = d else { continue };
            match resolve_usage(d, c, unit, &ctx.base_dir) {
                Ok(m) if unit == usage::Unit::Cpu => cu[i].cpu = Some(m),
                Ok(m) => cu[i].memory = Some(m),
                Err(e) => return Err((path, e)),
            }
        }
    }
    Ok((cu, dcpu.is_some() || dmem.is_some()))
}

/// The node-model annotations of a pod (and the Scenario's defaults) as
/// per-container usage; `None` when the pod has none.
fn convert_usage(
    doc: &mut Doc,
    ann: &BTreeMap<String, String>,
    ap: &str,
    containers: &[Container],
    ctx: &ConvCtx,
) -> Result<Option<Box<PodUsage>>, ()> {
    let (mut cu, mut any) = match default_usage(containers, ctx) {
        Ok(d) => d,
        Err((path, e)) => {
            doc.err(path, e);
            (vec![ContainerUsage::default(); containers.len()], true)
        }
    };
    let mut ok = true;
    for (k, v) in ann {
        let Some((base, cname)) = usage_annotation(k) else {
            continue;
        };
        let p = child_path(ap, k);
        let targets: Vec<usize> = match cname {
            None => (0..containers.len()).collect(),
            Some(n) => match containers.iter().position(|c| c.name == n) {
                Some(i) => vec![i],
                None => {
                    doc.err(&p, format!("the pod has no container named {n:?}"));
                    ok = false;
                    continue;
                }
            },
        };
        any = true;
        if base == ANN_CPU_WORK {
            match usage::parse_cpu_work(v) {
                Ok(w) => targets.iter().for_each(|&i| cu[i].cpu_work = Some(w)),
                Err(e) => {
                    doc.err(&p, e);
                    ok = false;
                }
            }
            continue;
        }
        let unit = if base == ANN_CPU_USAGE {
            usage::Unit::Cpu
        } else {
            usage::Unit::Bytes
        };
        let spec = match usage::parse(v, unit) {
            Ok(s) => s,
            Err(e) => {
                doc.err(&p, e);
                ok = false;
                continue;
            }
        };
        for &i in &targets {
            match resolve_usage(&spec, &containers[i], unit, &ctx.base_dir) {
                Ok(m) if base == ANN_CPU_USAGE => cu[i].cpu = Some(m),
                Ok(m) => cu[i].memory = Some(m),
                Err(e) => {
                    doc.err(&p, e);
                    ok = false;
                }
            }
        }
    }
    if !ok {
        return Err(());
    }
    Ok(any.then(|| Box::new(PodUsage { containers: cu })))
}

pub(super) fn check_api_version(doc: &mut Doc, got: Option<&str>, want: &str) {
    match got {
        None => doc.err("apiVersion", format!("required: expected {want:?}")),
        Some(g) if g != want => doc.err("apiVersion", format!("expected {want:?}, found {g:?}")),
        _ => {}
    }
}

fn convert_scenario_header(doc: &mut Doc, s: &ScenarioSpecM, sc: &mut Scenario) {
    if let Some(seed) = s.seed {
        sc.seed = seed;
    }
    if let Some(d) = &s.duration {
        if let Some(d) = duration(doc, "spec.duration", d) {
            sc.duration = Some(d);
        }
    }
    if let Some(d) = &s.sample_interval {
        match duration(doc, "spec.sampleInterval", d) {
            Some(d) if d == Duration::ZERO => {
                doc.err("spec.sampleInterval", "must be greater than zero")
            }
            Some(d) => sc.sample_interval = d,
            None => {}
        }
    }
    if let Some(d) = sc.duration {
        let n = d.as_micros() / sc.sample_interval.as_micros().max(1);
        if n > MAX_SAMPLES {
            doc.err(
                "spec.sampleInterval",
                format!("{} over {d} would record {n} samples (at most {MAX_SAMPLES}): use a longer interval", sc.sample_interval),
            );
        }
    }
    let k = &s.kubelet;
    let cg = &mut sc.kubelet.cgroups;
    match k.cgroup_version.as_deref() {
        None => {}
        Some("v1") => cg.version = crate::node::cgroup::CgroupVersion::V1,
        Some("v2") => cg.version = crate::node::cgroup::CgroupVersion::V2,
        Some(o) => doc.err(
            "spec.kubelet.cgroupVersion",
            format!("unsupported value {o:?}: supported values: \"v1\", \"v2\""),
        ),
    }
    if let Some(f) = &k.cpu_weight_formula {
        match crate::node::cgroup::WeightFormula::parse(f) {
            Some(f) => cg.weight_formula = f,
            None => doc.err(
                "spec.kubelet.cpuWeightFormula",
                format!("unsupported value {f:?}: supported values: \"quadratic\", \"linear\""),
            ),
        }
    }
    if let Some(b) = k.cpu_cfs_quota {
        cg.enforce_cpu_limits = b;
    }
    if let Some(v) = &k.eviction_hard_memory_available {
        match Quantity::parse(&v.0).ok().and_then(|q| q.checked_value()) {
            Some(b) if b >= 0 => sc.kubelet.eviction_hard_memory = b,
            _ => doc.err(
                "spec.kubelet.evictionHardMemoryAvailable",
                format!("must be a non-negative quantity of bytes, found {:?}", v.0),
            ),
        }
    }
    let df = &s.defaults;
    if let Some(v) = &df.startup_time {
        if let Some(d) = duration(doc, "spec.defaults.startupTime", v) {
            sc.pod_defaults.startup = d;
        }
    }
    if let Some(v) = &df.run_time {
        if let Some(d) = duration(doc, "spec.defaults.runTime", v) {
            sc.pod_defaults.run = Some(d);
        }
    }
    if let Some(v) = df.exit_code {
        if !(0..=255).contains(&v) {
            doc.err(
                "spec.defaults.exitCode",
                format!("must be between 0 and 255, found {v}"),
            );
        }
        sc.pod_defaults.exit_code = v;
    }
    if let Some(v) = &df.image_size {
        match Quantity::parse(&v.0).ok().and_then(|q| q.checked_value()) {
            Some(b) if b >= 0 => sc.pod_defaults.image_size = Some(b),
            _ => doc.err(
                "spec.defaults.imageSize",
                format!("must be a non-negative quantity of bytes, found {:?}", v.0),
            ),
        }
    }
    if let Some(v) = &df.shutdown_time {
        if let Some(d) = duration(doc, "spec.defaults.shutdownTime", v) {
            sc.pod_defaults.shutdown = d;
        }
    }
    if let Some(p) = &s.scheduler.policy {
        let names = crate::scheduler::policy_names();
        if names.contains(&p.as_str()) {
            sc.scheduler.policy = p.clone();
        } else {
            doc.err(
                "spec.scheduler.policy",
                format!(
                    "unknown scheduling policy {p:?}; valid policies: {}",
                    names.join(", ")
                ),
            );
        }
    }
    if let Some(v) = &s.scheduler.cycle_time {
        if let Some(d) = duration(doc, "spec.scheduler.cycleTime", v) {
            sc.scheduler.cycle_time = d;
        }
    }
    if let Some(v) = &s.scheduler.per_node_time {
        if let Some(d) = duration(doc, "spec.scheduler.perNodeTime", v) {
            sc.scheduler.per_node_time = d;
        }
    }
    if let Some(v) = &s.start_time {
        match crate::model::cron::parse_rfc3339(v) {
            Ok(t) => sc.start_time_us = t,
            Err(e) => doc.err("spec.startTime", e),
        }
    }
    if let Some(v) = &s.controllers.reconcile_delay {
        if let Some(d) = duration(doc, "spec.controllers.reconcileDelay", v) {
            sc.reconcile_delay = d;
        }
    }
    if let Some(v) = &s.scheduler.bind_time {
        if let Some(d) = duration(doc, "spec.scheduler.bindTime", v) {
            sc.scheduler.bind_time = d;
        }
    }
}

pub(super) fn duration(doc: &mut Doc, path: &str, v: &Scalar) -> Option<Duration> {
    match Duration::parse(&v.0) {
        Ok(d) => Some(d),
        Err(e) => {
            doc.err(path, e);
            None
        }
    }
}

/// Converts one manifest (a whole document, or the `apply` of a timeline
/// entry at `base`).
fn convert_object(doc: &mut Doc, node: &YNode, base: &str, ctx: &ConvCtx) -> Option<Object> {
    let kind_path = child_path(base, "kind");
    let kind = match node.get("kind") {
        None => {
            doc.err(
                &kind_path,
                "required: every document needs apiVersion and kind",
            );
            return None;
        }
        Some(k) => match k.as_str() {
            Some(k) => k.to_string(),
            None => {
                doc.err(&kind_path, "must be a string");
                return None;
            }
        },
    };
    let name = node
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or("");
    let ns = node
        .get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(|n| n.as_str());
    doc.object = match (kind.as_str(), ns) {
        ("Pod", ns) => format!("Pod {}/{}", ns.unwrap_or("default"), name),
        (k, _) => format!("{k} {name}").trim_end().to_string(),
    };
    let av_path = child_path(base, "apiVersion");
    match kind.as_str() {
        "Pod" => {
            let m: PodM = doc.decode(node, base)?;
            check_api_version(doc, m.api_version.as_deref(), "v1");
            convert_pod(doc, &m, base, ctx).map(|p| Object::Pod(Box::new(p)))
        }
        "Node" => {
            let m: NodeM = doc.decode(node, base)?;
            check_api_version(doc, m.api_version.as_deref(), "v1");
            convert_node(doc, &m, base).map(|n| Object::Node(Box::new(n)))
        }
        "Namespace" => {
            let m: NamespaceM = doc.decode(node, base)?;
            check_api_version(doc, m.api_version.as_deref(), "v1");
            let p = child_path(base, "metadata.name");
            match m.metadata.name {
                None => {
                    doc.err(&p, "required");
                    None
                }
                Some(n) => {
                    if !is_dns_label(&n) {
                        doc.err(&p, dns_label_msg(&n));
                    }
                    labels_check(
                        doc,
                        &m.metadata.labels,
                        &child_path(base, "metadata.labels"),
                    );
                    let mut labels = m.metadata.labels.clone();
                    labels.insert("kubernetes.io/metadata.name".to_string(), n.clone());
                    Some(Object::Namespace { name: n, labels })
                }
            }
        }
        "PriorityClass" => {
            let m: PriorityClassM = doc.decode(node, base)?;
            check_api_version(doc, m.api_version.as_deref(), "scheduling.k8s.io/v1");
            let p = child_path(base, "metadata.name");
            let Some(n) = m.metadata.name else {
                doc.err(&p, "required");
                return None;
            };
            if n.starts_with("system-") {
                doc.err(
                    &p,
                    "the system- prefix is reserved for built-in priority classes",
                );
            }
            if m.value > 1_000_000_000 {
                doc.err(
                    &child_path(base, "value"),
                    format!(
                        "must be at most 1000000000 for user-defined classes, found {}",
                        m.value
                    ),
                );
            }
            let preempt_lower = match m.preemption_policy.as_deref() {
                None | Some("PreemptLowerPriority") => true,
                Some("Never") => false,
                Some(o) => {
                    doc.err(
                        &child_path(base, "preemptionPolicy"),
                        format!("unsupported value {o:?}: supported values: \"Never\", \"PreemptLowerPriority\""),
                    );
                    true
                }
            };
            Some(Object::PriorityClass(PriorityClass {
                name: n,
                value: m.value,
                global_default: m.global_default,
                preempt_lower,
            }))
        }
        "Scenario" => {
            doc.err(&kind_path, "a Scenario cannot be applied from a timeline");
            None
        }
        "HorizontalPodAutoscaler" => {
            super::hpa::convert(doc, node, base, ctx.horizon).map(|h| Object::Hpa(Box::new(h)))
        }
        k if super::workloads::KINDS.contains(&k) => {
            super::workloads::convert(doc, node, base, ctx, k).map(Object::Workload)
        }
        k => {
            if let Some((_, why)) = NOT_YET.iter().find(|(n, _)| *n == k) {
                doc.err(
                    &kind_path,
                    format!("kind {k} is not simulated yet (it comes with {why})"),
                );
            } else {
                doc.err(
                    &kind_path,
                    format!(
                        "unknown kind {k:?}; kubesim simulates Pod, Node, Namespace, PriorityClass and {API_VERSION} Scenario"
                    ),
                );
            }
            let _ = av_path;
            None
        }
    }
}

pub(super) fn convert_meta(
    doc: &mut Doc,
    m: &ObjectMetaM,
    base: &str,
    namespaced: bool,
) -> Option<ObjectMeta> {
    let mp = child_path(base, "metadata");
    let name = match (&m.name, &m.generate_name) {
        (Some(n), _) => {
            if !is_dns_subdomain(n) {
                doc.err(&child_path(&mp, "name"), dns_subdomain_msg(n));
            }
            n.clone()
        }
        (None, Some(g)) if namespaced => {
            if g.is_empty() || !is_dns_subdomain(&format!("{g}x")) {
                doc.err(&child_path(&mp, "generateName"), dns_subdomain_msg(g));
            }
            String::new()
        }
        _ => {
            doc.err(&child_path(&mp, "name"), "required");
            return None;
        }
    };
    let namespace = if namespaced {
        let ns = m.namespace.clone().unwrap_or_else(|| "default".to_string());
        if !is_dns_label(&ns) {
            doc.err(&child_path(&mp, "namespace"), dns_label_msg(&ns));
        }
        ns
    } else {
        if m.namespace.is_some() {
            doc.warn(
                &child_path(&mp, "namespace"),
                "this kind is cluster-scoped; namespace is ignored",
            );
        }
        String::new()
    };
    labels_check(doc, &m.labels, &child_path(&mp, "labels"));
    let mut owners = Vec::new();
    for (i, o) in m.owner_references.iter().enumerate() {
        let _ = i;
        owners.push(OwnerReference {
            api_version: o.api_version.clone(),
            kind: o.kind.clone(),
            name: o.name.clone(),
            uid: o.uid.clone(),
            controller: o.controller.unwrap_or(false),
            block_owner_deletion: o.block_owner_deletion.unwrap_or(false),
        });
    }
    Some(ObjectMeta {
        name,
        namespace,
        uid: String::new(),
        generate_name: m.generate_name.clone(),
        labels: m.labels.clone(),
        annotations: m.annotations.clone(),
        owner_references: owners,
        creation_timestamp: SimTime::ZERO,
        deletion_timestamp: None,
    })
}

/// `spec.schedulingGates` as upstream validates it
/// (`validateSchedulingGates`): each name a qualified name, no duplicates;
/// and `nodeName` cannot be set while gates remain.
fn convert_scheduling_gates(doc: &mut Doc, s: &PodSpecM, sp: &str) -> Option<Vec<String>> {
    let gp = child_path(sp, "schedulingGates");
    let mut out: Vec<String> = Vec::new();
    let mut ok = true;
    for (i, g) in s.scheduling_gates.iter().enumerate() {
        let p = index_path(&gp, i);
        let Some(name) = &g.name else {
            doc.err(&child_path(&p, "name"), "required");
            ok = false;
            continue;
        };
        if let Err(e) = validate_label_key(name) {
            doc.err(&p, e.to_string());
            ok = false;
        }
        if out.contains(name) {
            doc.err(&p, format!("Duplicate value: {name:?}"));
            ok = false;
        }
        out.push(name.clone());
    }
    if !out.is_empty() && s.node_name.as_deref().is_some_and(|n| !n.is_empty()) {
        doc.err(
            &child_path(sp, "nodeName"),
            "Forbidden: cannot be set until all schedulingGates have been cleared",
        );
        ok = false;
    }
    ok.then_some(out)
}

fn labels_check(doc: &mut Doc, labels: &BTreeMap<String, String>, path: &str) {
    for (k, v) in labels {
        if let Err(e) = validate_label_key(k) {
            doc.err(&child_path(path, k), e.to_string());
        }
        if let Err(e) = validate_label_value(v) {
            doc.err(&child_path(path, k), e.to_string());
        }
    }
}

pub(super) fn convert_pod(doc: &mut Doc, m: &PodM, base: &str, ctx: &ConvCtx) -> Option<Pod> {
    let meta = convert_meta(doc, &m.metadata, base, true)?;
    let sp = child_path(base, "spec");
    let s = &m.spec;
    let mut ok = true;

    // Simulation behaviour from annotations.
    let ap = child_path(base, "metadata.annotations");
    let gpu_req = convert_pod_gpu(doc, &meta.annotations, &ap);
    ok &= gpu_req.is_some();
    let mut behavior = ctx.defaults.clone();
    let mut ready_after = Duration::ZERO;
    let mut liveness_fail_after = None;
    for (k, v) in &meta.annotations {
        if !k.starts_with("kubesim.dev/") || usage_annotation(k).is_some() {
            continue;
        }
        if k.starts_with(&format!("{ANN_RUN}.")) {
            continue; // init container run times, below
        }
        let p = child_path(&ap, k);
        match k.as_str() {
            ANN_STARTUP
            | ANN_RUN
            | ANN_SHUTDOWN
            | ANN_READY_AFTER
            | ANN_LIVENESS_FAIL_AFTER
            | ANN_PRESTOP => match Duration::parse(v) {
                Ok(d) => match k.as_str() {
                    ANN_STARTUP => behavior.startup = d,
                    ANN_RUN => behavior.run = Some(d),
                    ANN_READY_AFTER => ready_after = d,
                    ANN_LIVENESS_FAIL_AFTER => liveness_fail_after = Some(d),
                    ANN_PRESTOP => behavior.prestop = d,
                    _ => behavior.shutdown = d,
                },
                Err(e) => {
                    doc.err(&p, e);
                    ok = false;
                }
            },
            ANN_IMAGE_SIZE => match Quantity::parse(v).ok().and_then(|q| q.checked_value()) {
                Some(b) if b >= 0 => behavior.image_size = Some(b),
                _ => {
                    doc.err(
                        &p,
                        format!("must be a non-negative quantity of bytes, found {v:?}"),
                    );
                    ok = false;
                }
            },
            ANN_EXIT_CODE => match v.parse::<i32>() {
                Ok(c) if (0..=255).contains(&c) => behavior.exit_code = c,
                _ => {
                    doc.err(
                        &p,
                        format!("must be an integer between 0 and 255, found {v:?}"),
                    );
                    ok = false;
                }
            },
            _ => doc.warn(
                &p,
                format!(
                    "unknown kubesim annotation; known: {}",
                    KNOWN_ANNOTATIONS.join(", ")
                ),
            ),
        }
    }

    if s.containers.is_empty() {
        doc.err(
            &child_path(&sp, "containers"),
            "required: a pod needs at least one container",
        );
        ok = false;
    }
    let mut names = BTreeSet::new();
    let containers = convert_containers(
        doc,
        &s.containers,
        &child_path(&sp, "containers"),
        false,
        &mut names,
    );
    let init = convert_containers(
        doc,
        &s.init_containers,
        &child_path(&sp, "initContainers"),
        true,
        &mut names,
    );
    let (containers, init) = match (containers, init) {
        (Some(c), Some(i)) => (c, i),
        _ => return None,
    };
    match convert_usage(doc, &meta.annotations, &ap, &containers, ctx) {
        Ok(u) => behavior.usage = u,
        Err(()) => ok = false,
    }
    // Init containers' run times: `kubesim.dev/run-time.<name>`.
    for (k, v) in &meta.annotations {
        let Some(name) = k.strip_prefix(&format!("{ANN_RUN}.")) else {
            continue;
        };
        let p = child_path(&ap, k);
        match init.iter().find(|c| c.name == name) {
            None => {
                doc.err(&p, format!("the pod has no init container named {name:?}"));
                ok = false;
            }
            Some(c) if c.restart_policy == Some(RestartPolicy::Always) => doc.warn(
                &p,
                "a sidecar (restartable init container) keeps running; its run time is ignored",
            ),
            Some(_) => match Duration::parse(v) {
                Ok(d) => {
                    behavior.init_time = Duration::from_micros(
                        behavior.init_time.as_micros().saturating_add(d.as_micros()),
                    )
                }
                Err(e) => {
                    doc.err(&p, e);
                    ok = false;
                }
            },
        }
    }
    let mut probes = PodProbes {
        ready_after,
        liveness_fail_after,
        ..Default::default()
    };
    for (i, c) in s.containers.iter().enumerate() {
        let cp = index_path(&child_path(&sp, "containers"), i);
        for (m, field, live) in [
            (&c.readiness_probe, "readinessProbe", false),
            (&c.liveness_probe, "livenessProbe", true),
        ] {
            let Some(m) = m else { continue };
            match convert_probe(doc, m, &child_path(&cp, field), live) {
                Some(p) if live => probes.liveness.push(p),
                Some(p) => probes.readiness.push(p),
                None => ok = false,
            }
        }
    }
    if !probes.readiness.is_empty() || !probes.liveness.is_empty() {
        behavior.probes = Some(Box::new(probes));
    } else if ready_after > Duration::ZERO || liveness_fail_after.is_some() {
        doc.warn(
            &ap,
            "kubesim.dev/ready-after / liveness-fail-after need a readinessProbe / livenessProbe on a container; ignored",
        );
    }
    let restart_policy = match s.restart_policy.as_deref() {
        None => RestartPolicy::Always,
        Some(r) => match RestartPolicy::parse(r) {
            Some(r) => r,
            None => {
                doc.err(
                    &child_path(&sp, "restartPolicy"),
                    format!("unsupported value {r:?}: supported values: \"Always\", \"OnFailure\", \"Never\""),
                );
                ok = false;
                RestartPolicy::Always
            }
        },
    };
    let grace = match s.termination_grace_period_seconds {
        None => Duration::from_secs(30),
        Some(g) if g >= 0 => Duration::from_secs(g as u64),
        Some(g) => {
            doc.err(
                &child_path(&sp, "terminationGracePeriodSeconds"),
                format!("must be greater than or equal to 0, found {g}"),
            );
            ok = false;
            Duration::ZERO
        }
    };
    let node_selector = s.node_selector.clone();
    labels_check(doc, &node_selector, &child_path(&sp, "nodeSelector"));
    let mut tolerations = Vec::new();
    for (i, t) in s.tolerations.iter().enumerate() {
        match convert_toleration(doc, t, &index_path(&child_path(&sp, "tolerations"), i)) {
            Some(t) => tolerations.push(t),
            None => ok = false,
        }
    }
    let node_affinity = match s.affinity.as_ref().and_then(|a| a.node_affinity.as_ref()) {
        None => None,
        Some(na) => match convert_node_affinity(doc, na, &child_path(&sp, "affinity.nodeAffinity"))
        {
            Some(a) => Some(a),
            None => {
                ok = false;
                None
            }
        },
    };
    let aff = s.affinity.clone().unwrap_or_default();
    let mut pod_aff = |doc: &mut Doc, m: &Option<PodAffinityM>, field: &str| match m {
        None => None,
        Some(m) => {
            let r = convert_pod_affinity(
                doc,
                m,
                &child_path(&sp, &format!("affinity.{field}")),
                &meta.labels,
            );
            if r.is_none() {
                ok = false;
            }
            r
        }
    };
    let pod_affinity = pod_aff(doc, &aff.pod_affinity, "podAffinity");
    let pod_anti_affinity = pod_aff(doc, &aff.pod_anti_affinity, "podAntiAffinity");
    let topology_spread_constraints = match convert_spread(
        doc,
        &s.topology_spread_constraints,
        &child_path(&sp, "topologySpreadConstraints"),
        &meta.labels,
    ) {
        Some(v) => v,
        None => {
            ok = false;
            Vec::new()
        }
    };
    // Priority admission.
    let mut priority = 0;
    match &s.priority_class_name {
        Some(c) => match ctx.classes.get(c) {
            Some(pc) => priority = pc.value,
            None => {
                doc.err(
                    &child_path(&sp, "priorityClassName"),
                    format!("no PriorityClass with name {c} was found"),
                );
                ok = false;
            }
        },
        None => {
            if let Some(pc) = ctx.classes.values().find(|c| c.global_default) {
                priority = pc.value;
            }
        }
    }
    if let Some(p) = s.priority {
        if p != priority {
            doc.err(
                &child_path(&sp, "priority"),
                format!(
                    "the integer value of priority ({p}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name"
                ),
            );
            ok = false;
        }
    }
    let mut overhead = Resources::default();
    if !parse_resource_map(
        doc,
        &s.overhead,
        &child_path(&sp, "overhead"),
        &mut overhead,
    ) {
        ok = false;
    }
    let mut tol_defaulted = tolerations;
    add_default_toleration_seconds(&mut tol_defaulted);
    let scheduling_gates = match convert_scheduling_gates(doc, s, &sp) {
        Some(g) => g,
        None => {
            ok = false;
            Vec::new()
        }
    };
    let spec = PodSpec {
        containers,
        init_containers: init,
        node_selector,
        node_name: s.node_name.clone(),
        node_affinity,
        pod_affinity,
        pod_anti_affinity,
        topology_spread_constraints,
        tolerations: tol_defaulted,
        priority,
        priority_class_name: s.priority_class_name.clone(),
        scheduler_name: s
            .scheduler_name
            .clone()
            .unwrap_or_else(|| "default-scheduler".to_string()),
        restart_policy,
        termination_grace_period: grace,
        overhead,
        scheduling_gates,
    };
    if !ok {
        return None;
    }
    let mut pod = Pod::new(meta, spec, behavior);
    pod.gpu = gpu_req.flatten();
    Some(pod)
}

/// A probe's timing with upstream's defaults and validation (values
/// non-negative, period/thresholds at least 1, liveness successThreshold 1).
fn convert_probe(doc: &mut Doc, m: &ProbeM, path: &str, liveness: bool) -> Option<Probe> {
    let mut ok = true;
    let mut field = |name: &str, v: Option<i64>, default: i64, min: i64| -> i64 {
        match v {
            None => default,
            Some(x) if x >= min && x <= i64::from(u32::MAX) => x,
            Some(x) => {
                doc.err(
                    &child_path(path, name),
                    format!("must be greater than or equal to {min}, found {x}"),
                );
                ok = false;
                default
            }
        }
    };
    let initial = field("initialDelaySeconds", m.initial_delay_seconds, 0, 0);
    let period = field("periodSeconds", m.period_seconds, 10, 1);
    let timeout = field("timeoutSeconds", m.timeout_seconds, 1, 1);
    let success = field("successThreshold", m.success_threshold, 1, 1);
    let failure = field("failureThreshold", m.failure_threshold, 3, 1);
    if liveness && success != 1 {
        doc.err(&child_path(path, "successThreshold"), "must be 1");
        ok = false;
    }
    if m.http_get.is_none() && m.tcp_socket.is_none() && m.exec.is_none() && m.grpc.is_none() {
        doc.err(
            path,
            "must specify a handler type (httpGet, tcpSocket, exec or grpc)",
        );
        ok = false;
    }
    ok.then(|| Probe {
        initial_delay: Duration::from_secs(initial as u64),
        period: Duration::from_secs(period as u64),
        timeout: Duration::from_secs(timeout as u64),
        success_threshold: success as u32,
        failure_threshold: failure as u32,
    })
}

/// Upstream's DefaultTolerationSeconds admission plugin: pods that do not
/// tolerate the not-ready / unreachable NoExecute taints get tolerations for
/// 300 seconds.
pub fn add_default_toleration_seconds(t: &mut Vec<Toleration>) {
    for key in [
        crate::model::taints::TAINT_NOT_READY,
        crate::model::taints::TAINT_UNREACHABLE,
    ] {
        let taint = Taint::new(key, "", TaintEffect::NoExecute);
        if !t.iter().any(|x| x.tolerates(&taint)) {
            t.push(Toleration {
                key: key.to_string(),
                operator: TolerationOperator::Exists,
                value: String::new(),
                effect: Some(TaintEffect::NoExecute),
                toleration_seconds: Some(300),
            });
        }
    }
}

fn convert_containers(
    doc: &mut Doc,
    cs: &[ContainerM],
    path: &str,
    init: bool,
    names: &mut BTreeSet<String>,
) -> Option<Vec<Container>> {
    let mut out = Vec::new();
    let mut ok = true;
    for (i, c) in cs.iter().enumerate() {
        let p = index_path(path, i);
        let name = match &c.name {
            Some(n) => {
                if !is_dns_label(n) {
                    doc.err(&child_path(&p, "name"), dns_label_msg(n));
                    ok = false;
                }
                if !names.insert(n.clone()) {
                    doc.err(
                        &child_path(&p, "name"),
                        format!("duplicate container name {n:?}"),
                    );
                    ok = false;
                }
                n.clone()
            }
            None => {
                doc.err(&child_path(&p, "name"), "required");
                ok = false;
                String::new()
            }
        };
        let image = match &c.image {
            Some(i) if !i.trim().is_empty() => i.clone(),
            _ => {
                doc.err(&child_path(&p, "image"), "required");
                ok = false;
                String::new()
            }
        };
        let latest = !image.contains(':') || image.ends_with(":latest");
        let pull = match c.image_pull_policy.as_deref() {
            None => {
                if latest {
                    PullPolicy::Always
                } else {
                    PullPolicy::IfNotPresent
                }
            }
            Some("Always") => PullPolicy::Always,
            Some("IfNotPresent") => PullPolicy::IfNotPresent,
            Some("Never") => PullPolicy::Never,
            Some(o) => {
                doc.err(
                    &child_path(&p, "imagePullPolicy"),
                    format!("unsupported value {o:?}: supported values: \"Always\", \"IfNotPresent\", \"Never\""),
                );
                ok = false;
                PullPolicy::IfNotPresent
            }
        };
        let rp = child_path(&p, "resources");
        let mut requests = Resources::default();
        let mut limits = Resources::default();
        ok &= parse_resource_map(
            doc,
            &c.resources.requests,
            &child_path(&rp, "requests"),
            &mut requests,
        );
        ok &= parse_resource_map(
            doc,
            &c.resources.limits,
            &child_path(&rp, "limits"),
            &mut limits,
        );
        // API defaulting: a limit without a request sets the request.
        for name in c.resources.limits.keys() {
            if !c.resources.requests.contains_key(name) {
                requests.set(name, limits.get(name));
            }
        }
        for name in c.resources.requests.keys() {
            let r = requests.get(name);
            let is_ext = is_extended_resource(name);
            if c.resources.limits.contains_key(name) {
                let l = limits.get(name);
                if is_ext && r != l {
                    doc.err(
                        &child_path(&child_path(&rp, "requests"), name),
                        format!("must be equal to {name} limit of {l}"),
                    );
                    ok = false;
                } else if r > l {
                    doc.err(
                        &child_path(&child_path(&rp, "requests"), name),
                        format!(
                            "must be less than or equal to {name} limit of {}",
                            fmt_amount(name, l)
                        ),
                    );
                    ok = false;
                }
            } else if is_ext {
                doc.err(
                    &child_path(&child_path(&rp, "limits"), name),
                    "Limit must be set for non overcommitable resources",
                );
                ok = false;
            }
        }
        let mut ports = Vec::new();
        for (pi, pm) in c.ports.iter().enumerate() {
            let pp = index_path(&child_path(&p, "ports"), pi);
            if !(1..=65535).contains(&pm.container_port) {
                doc.err(
                    &child_path(&pp, "containerPort"),
                    format!(
                        "must be between 1 and 65535, inclusive, found {}",
                        pm.container_port
                    ),
                );
                ok = false;
            }
            let host_port = pm.host_port.unwrap_or(0);
            if !(0..=65535).contains(&host_port) {
                doc.err(
                    &child_path(&pp, "hostPort"),
                    format!("must be between 1 and 65535, inclusive, found {host_port}"),
                );
                ok = false;
            }
            let protocol = pm.protocol.clone().unwrap_or_else(|| "TCP".to_string());
            if !["TCP", "UDP", "SCTP"].contains(&protocol.as_str()) {
                doc.err(
                    &child_path(&pp, "protocol"),
                    format!("unsupported value {protocol:?}: supported values: \"SCTP\", \"TCP\", \"UDP\""),
                );
                ok = false;
            }
            ports.push(ContainerPort {
                container_port: pm.container_port,
                host_port,
                protocol,
                host_ip: pm.host_ip.clone().unwrap_or_default(),
            });
        }
        let restart_policy = match c.restart_policy.as_deref() {
            None => None,
            Some("Always") if init => Some(RestartPolicy::Always),
            Some(o) => {
                doc.err(
                    &child_path(&p, "restartPolicy"),
                    if init {
                        format!("unsupported value {o:?}: supported values: \"Always\"")
                    } else {
                        "may not be set for non-init containers".to_string()
                    },
                );
                ok = false;
                None
            }
        };
        let env = convert_env(doc, &c.env, &child_path(&p, "env"), &mut ok);
        out.push(Container {
            name,
            image,
            image_pull_policy: pull,
            requests,
            limits,
            ports,
            restart_policy,
            env,
        });
    }
    ok.then_some(out)
}

/// `env` with upstream's validation (`ValidateEnv`, `validateEnvVarValueFrom`,
/// `validateObjectFieldSelector`).
fn convert_env(
    doc: &mut Doc,
    env: &[crate::scenario::manifest::EnvVarM],
    path: &str,
    ok: &mut bool,
) -> Vec<crate::model::pod::EnvVar> {
    use crate::model::pod::{EnvVar, ENV_FIELD_PATHS};
    let mut out = Vec::with_capacity(env.len());
    for (i, e) in env.iter().enumerate() {
        let ep = index_path(path, i);
        let name = e.name.clone().unwrap_or_default();
        if name.is_empty() {
            doc.err(&child_path(&ep, "name"), "Required value");
            *ok = false;
        } else if name.chars().any(|c| !c.is_ascii_graphic() && c != ' ') || name.contains('=') {
            doc.err(
                &child_path(&ep, "name"),
                format!("Invalid value: {name:?}: a valid environment variable name must consist only of printable ASCII characters other than '='"),
            );
            *ok = false;
        }
        let value = e.value.clone().unwrap_or_default();
        let mut field_path = None;
        if let Some(vf) = &e.value_from {
            let vp = child_path(&ep, "valueFrom");
            let sources = [
                vf.field_ref.is_some(),
                vf.resource_field_ref.is_some(),
                vf.config_map_key_ref.is_some(),
                vf.secret_key_ref.is_some(),
            ]
            .iter()
            .filter(|b| **b)
            .count();
            if !value.is_empty() {
                doc.err(
                    &vp,
                    "Invalid value: \"\": may not be specified when `value` is not empty",
                );
                *ok = false;
            } else if sources != 1 {
                doc.err(
                    &vp,
                    "Invalid value: \"\": may not have more than one field specified at a time",
                );
                *ok = false;
            }
            if let Some(fr) = &vf.field_ref {
                let fp = child_path(&child_path(&vp, "fieldRef"), "fieldPath");
                let f = fr.field_path.clone().unwrap_or_default();
                let base = f.split('[').next().unwrap_or_default();
                let subscripted = f.len() > base.len();
                let valid = if subscripted {
                    (base == "metadata.labels" || base == "metadata.annotations")
                        && f[base.len()..].starts_with("['")
                        && f.ends_with("']")
                        && f.len() > base.len() + 4
                } else {
                    ENV_FIELD_PATHS.contains(&f.as_str())
                        && f != "metadata.labels"
                        && f != "metadata.annotations"
                };
                if f.is_empty() {
                    doc.err(&fp, "Required value");
                    *ok = false;
                } else if !valid {
                    doc.err(
                        &fp,
                        format!(
                            "Unsupported value: {f:?}: supported values: {}",
                            ENV_FIELD_PATHS
                                .iter()
                                .map(|p| format!("{p:?}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                    *ok = false;
                } else {
                    field_path = Some(f);
                }
            } else if sources == 1 {
                doc.warn(
                    &vp,
                    "ConfigMaps, Secrets and resource fields are not simulated; the variable is empty",
                );
            }
        }
        out.push(EnvVar {
            name,
            value,
            field_path,
        });
    }
    out
}

fn fmt_amount(name: &str, v: i64) -> String {
    match name {
        resources::CPU => format!("{v}m"),
        resources::MEMORY | resources::EPHEMERAL_STORAGE => resources::fmt_bytes(v),
        _ => v.to_string(),
    }
}

fn is_extended_resource(name: &str) -> bool {
    !matches!(
        name,
        resources::CPU | resources::MEMORY | resources::EPHEMERAL_STORAGE | resources::PODS
    ) && !name.starts_with("hugepages-")
}

/// Parses a resource list into `out`; false if any entry is invalid.
fn parse_resource_map(doc: &mut Doc, m: &ResourceMap, path: &str, out: &mut Resources) -> bool {
    let mut ok = true;
    for (name, raw) in m {
        let p = child_path(path, name);
        let known = matches!(
            name.as_str(),
            resources::CPU | resources::MEMORY | resources::EPHEMERAL_STORAGE | resources::PODS
        ) || name.starts_with("hugepages-");
        if !known && (!name.contains('/') || validate_label_key(name).is_err()) {
            doc.err(
                &p,
                format!("{name:?} must be a standard resource type or fully qualified (e.g. nvidia.com/gpu)"),
            );
            ok = false;
            continue;
        }
        let q = match Quantity::parse(&raw.0) {
            Ok(q) => q,
            Err(e) => {
                doc.err(&p, e.to_string());
                ok = false;
                continue;
            }
        };
        let v = if name == resources::CPU {
            q.milli_value()
        } else {
            q.value()
        };
        if v < 0 || q.milli_value() < 0 {
            doc.err(
                &p,
                format!("must be greater than or equal to 0, found {:?}", raw.0),
            );
            ok = false;
            continue;
        }
        if (is_extended_resource(name) || name == resources::PODS) && q.milli_value() % 1000 != 0 {
            doc.err(&p, format!("must be an integer, found {:?}", raw.0));
            ok = false;
            continue;
        }
        out.set(name, v);
    }
    ok
}

fn convert_toleration(doc: &mut Doc, t: &TolerationM, p: &str) -> Option<Toleration> {
    let mut ok = true;
    let key = t.key.clone().unwrap_or_default();
    let operator = match t.operator.as_deref() {
        None | Some("Equal") => TolerationOperator::Equal,
        Some("Exists") => TolerationOperator::Exists,
        Some(o) => {
            doc.err(
                &child_path(p, "operator"),
                format!("unsupported value {o:?}: supported values: \"Equal\", \"Exists\""),
            );
            return None;
        }
    };
    let value = t.value.clone().unwrap_or_default();
    if key.is_empty() && operator != TolerationOperator::Exists {
        doc.err(&child_path(p, "operator"), "operator must be Exists when `key` is empty, which means \"match all values and all keys\"");
        ok = false;
    }
    if !key.is_empty() {
        if let Err(e) = validate_label_key(&key) {
            doc.err(&child_path(p, "key"), e.to_string());
            ok = false;
        }
    }
    if operator == TolerationOperator::Exists && !value.is_empty() {
        doc.err(
            &child_path(p, "operator"),
            "value must be empty when `operator` is 'Exists'",
        );
        ok = false;
    }
    let effect = match t.effect.as_deref() {
        None | Some("") => None,
        Some(e) => match TaintEffect::parse(e) {
            Some(e) => Some(e),
            None => {
                doc.err(
                    &child_path(p, "effect"),
                    format!("unsupported value {e:?}: supported values: \"NoExecute\", \"NoSchedule\", \"PreferNoSchedule\""),
                );
                ok = false;
                None
            }
        },
    };
    if t.toleration_seconds.is_some() && effect != Some(TaintEffect::NoExecute) {
        doc.err(
            &child_path(p, "effect"),
            "effect must be 'NoExecute' when `tolerationSeconds` is set",
        );
        ok = false;
    }
    ok.then_some(Toleration {
        key,
        operator,
        value,
        effect,
        toleration_seconds: t.toleration_seconds,
    })
}

fn convert_taint(doc: &mut Doc, t: &TaintM, p: &str) -> Option<Taint> {
    let key = match &t.key {
        Some(k) => {
            if let Err(e) = validate_label_key(k) {
                doc.err(&child_path(p, "key"), e.to_string());
                return None;
            }
            k.clone()
        }
        None => {
            doc.err(&child_path(p, "key"), "required");
            return None;
        }
    };
    let value = t.value.clone().unwrap_or_default();
    if let Err(e) = validate_label_value(&value) {
        doc.err(&child_path(p, "value"), e.to_string());
        return None;
    }
    let effect = match t.effect.as_deref().map(|e| (e, TaintEffect::parse(e))) {
        Some((_, Some(e))) => e,
        Some((e, None)) => {
            doc.err(
                &child_path(p, "effect"),
                format!("unsupported value {e:?}: supported values: \"NoExecute\", \"NoSchedule\", \"PreferNoSchedule\""),
            );
            return None;
        }
        None => {
            doc.err(&child_path(p, "effect"), "required");
            return None;
        }
    };
    Some(Taint { key, value, effect })
}

fn convert_term(doc: &mut Doc, t: &NodeSelectorTermM, p: &str) -> Option<NodeSelectorTerm> {
    let mut ok = true;
    let mut conv = |doc: &mut Doc, rs: &[NodeSelectorRequirementM], field: &str| {
        let mut out = Vec::new();
        for (i, r) in rs.iter().enumerate() {
            let rp = index_path(&child_path(p, field), i);
            let Some(op) = NodeSelectorOperator::parse(&r.operator) else {
                doc.err(
                    &child_path(&rp, "operator"),
                    format!("{:?} is not a valid node selector operator", r.operator),
                );
                ok = false;
                continue;
            };
            use NodeSelectorOperator::*;
            match op {
                In | NotIn if r.values.is_empty() => {
                    doc.err(
                        &child_path(&rp, "values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    );
                    ok = false;
                }
                Exists | DoesNotExist if !r.values.is_empty() => {
                    doc.err(
                        &child_path(&rp, "values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    );
                    ok = false;
                }
                Gt | Lt if r.values.len() != 1 || r.values[0].parse::<i64>().is_err() => {
                    doc.err(
                        &child_path(&rp, "values"),
                        "must be specified single value when `operator` is 'Lt' or 'Gt'",
                    );
                    ok = false;
                }
                _ => {}
            }
            if field == "matchFields" && r.key != "metadata.name" {
                doc.err(
                    &child_path(&rp, "key"),
                    format!(
                        "not a valid field selector key {:?}: only metadata.name is supported",
                        r.key
                    ),
                );
                ok = false;
            } else if field == "matchExpressions" {
                if let Err(e) = validate_label_key(&r.key) {
                    doc.err(&child_path(&rp, "key"), e.to_string());
                    ok = false;
                }
            }
            out.push(NodeSelectorRequirement {
                key: r.key.clone(),
                operator: op,
                values: r.values.clone(),
            });
        }
        out
    };
    let match_expressions = conv(doc, &t.match_expressions, "matchExpressions");
    let match_fields = conv(doc, &t.match_fields, "matchFields");
    ok.then_some(NodeSelectorTerm {
        match_expressions,
        match_fields,
    })
}

fn convert_images(
    doc: &mut Doc,
    imgs: &[ContainerImageM],
    path: &str,
) -> Option<BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (i, im) in imgs.iter().enumerate() {
        let p = index_path(path, i);
        let size = match im.size_bytes {
            Some(s) if s >= 0 => s,
            Some(s) => {
                doc.err(
                    &child_path(&p, "sizeBytes"),
                    format!("must be greater than or equal to 0, found {s}"),
                );
                ok = false;
                0
            }
            None => {
                doc.err(&child_path(&p, "sizeBytes"), "required");
                ok = false;
                0
            }
        };
        if im.names.is_empty() {
            doc.err(
                &child_path(&p, "names"),
                "required: at least one image name",
            );
            ok = false;
        }
        for n in &im.names {
            out.insert(mnode::normalized_image_name(n).into_owned(), size);
        }
    }
    ok.then_some(out)
}

/// Converts a LabelSelector, reporting each problem at its path.
pub(super) fn convert_selector(
    doc: &mut Doc,
    sel: &crate::model::LabelSelector,
    path: &str,
) -> Option<crate::model::Selector> {
    let errs = crate::model::selector::validate_label_selector(sel);
    if !errs.is_empty() {
        for (p, e) in errs {
            doc.err(&child_path(path, &p), e.to_string());
        }
        return None;
    }
    match sel.to_selector() {
        Ok(s) => Some(s),
        Err(e) => {
            doc.err(path, e.to_string());
            None
        }
    }
}

/// Admission's merge of `matchLabelKeys` (`key in (value)`) and
/// `mismatchLabelKeys` (`key notin (value)`) into a selector, using the
/// incoming pod's labels; keys the pod lacks are skipped.
fn merge_label_keys(
    doc: &mut Doc,
    sel: Option<crate::model::Selector>,
    keys: &[(String, crate::model::selector::Operator)],
    own: &Labels,
    path: &str,
) -> Option<crate::model::Selector> {
    let sel = sel?;
    let mut reqs = Vec::new();
    for (k, op) in keys {
        if let Some(v) = own.get(k) {
            match crate::model::selector::Requirement::new(k.clone(), *op, [v.clone()]) {
                Ok(r) => reqs.push(r),
                Err(e) => doc.err(path, e.to_string()),
            }
        }
    }
    Some(if reqs.is_empty() { sel } else { sel.add(reqs) })
}

fn convert_affinity_term(
    doc: &mut Doc,
    t: &PodAffinityTermM,
    p: &str,
    own: &Labels,
) -> Option<crate::model::affinity::PodAffinityTerm> {
    use crate::model::selector::Operator;
    let mut ok = true;
    let topology_key = match &t.topology_key {
        Some(k) if !k.is_empty() => {
            if let Err(e) = validate_label_key(k) {
                doc.err(&child_path(p, "topologyKey"), e.to_string());
                ok = false;
            }
            k.clone()
        }
        _ => {
            doc.err(&child_path(p, "topologyKey"), "can not be empty");
            ok = false;
            String::new()
        }
    };
    let label_selector = match &t.label_selector {
        Some(s) => {
            let r = convert_selector(doc, s, &child_path(p, "labelSelector"));
            ok &= r.is_some();
            r
        }
        None => None,
    };
    let namespace_selector = match &t.namespace_selector {
        Some(s) => {
            let r = convert_selector(doc, s, &child_path(p, "namespaceSelector"));
            ok &= r.is_some();
            r
        }
        None => None,
    };
    if (!t.match_label_keys.is_empty() || !t.mismatch_label_keys.is_empty())
        && t.label_selector.is_none()
    {
        doc.err(
            &child_path(p, "matchLabelKeys"),
            "cannot be set when labelSelector isn't set",
        );
        ok = false;
    }
    for k in t
        .match_label_keys
        .iter()
        .filter(|k| t.mismatch_label_keys.contains(k))
    {
        doc.err(
            &child_path(p, "matchLabelKeys"),
            format!("{k:?} exists in both matchLabelKeys and mismatchLabelKeys"),
        );
        ok = false;
    }
    let keys: Vec<(String, Operator)> = t
        .match_label_keys
        .iter()
        .map(|k| (k.clone(), Operator::In))
        .chain(
            t.mismatch_label_keys
                .iter()
                .map(|k| (k.clone(), Operator::NotIn)),
        )
        .collect();
    let label_selector = merge_label_keys(doc, label_selector, &keys, own, p);
    ok.then_some(crate::model::affinity::PodAffinityTerm {
        label_selector,
        namespaces: t.namespaces.clone(),
        namespace_selector,
        topology_key,
    })
}

fn convert_pod_affinity(
    doc: &mut Doc,
    m: &PodAffinityM,
    p: &str,
    own: &Labels,
) -> Option<crate::model::affinity::PodAffinity> {
    let mut ok = true;
    let mut out = crate::model::affinity::PodAffinity::default();
    let rp = child_path(p, "requiredDuringSchedulingIgnoredDuringExecution");
    for (i, t) in m.required.iter().enumerate() {
        match convert_affinity_term(doc, t, &index_path(&rp, i), own) {
            Some(t) => out.required.push(t),
            None => ok = false,
        }
    }
    let pp = child_path(p, "preferredDuringSchedulingIgnoredDuringExecution");
    for (i, w) in m.preferred.iter().enumerate() {
        let wp = index_path(&pp, i);
        if !(1..=100).contains(&w.weight) {
            doc.err(
                &child_path(&wp, "weight"),
                format!("must be in the range 1-100, found {}", w.weight),
            );
            ok = false;
        }
        match convert_affinity_term(
            doc,
            &w.pod_affinity_term,
            &child_path(&wp, "podAffinityTerm"),
            own,
        ) {
            Some(term) => out
                .preferred
                .push(crate::model::affinity::WeightedPodAffinityTerm {
                    weight: w.weight,
                    term,
                }),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

pub(super) fn convert_spread(
    doc: &mut Doc,
    cs: &[TopologySpreadConstraintM],
    path: &str,
    own: &Labels,
) -> Option<Vec<crate::model::affinity::TopologySpreadConstraint>> {
    use crate::model::affinity::{InclusionPolicy, TopologySpreadConstraint, WhenUnsatisfiable};
    use crate::model::selector::Operator;
    let mut ok = true;
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, c) in cs.iter().enumerate() {
        let p = index_path(path, i);
        let max_skew = c.max_skew.unwrap_or(0);
        if max_skew <= 0 {
            doc.err(
                &child_path(&p, "maxSkew"),
                format!("must be greater than zero, found {max_skew}"),
            );
            ok = false;
        }
        let topology_key = c.topology_key.clone().unwrap_or_default();
        if topology_key.is_empty() {
            doc.err(&child_path(&p, "topologyKey"), "can not be empty");
            ok = false;
        } else if let Err(e) = validate_label_key(&topology_key) {
            doc.err(&child_path(&p, "topologyKey"), e.to_string());
            ok = false;
        }
        let when = match c.when_unsatisfiable.as_deref() {
            Some("DoNotSchedule") => WhenUnsatisfiable::DoNotSchedule,
            Some("ScheduleAnyway") => WhenUnsatisfiable::ScheduleAnyway,
            other => {
                doc.err(
                    &child_path(&p, "whenUnsatisfiable"),
                    format!("unsupported value {:?}: supported values: \"DoNotSchedule\", \"ScheduleAnyway\"", other.unwrap_or("")),
                );
                ok = false;
                WhenUnsatisfiable::DoNotSchedule
            }
        };
        if !seen.insert((topology_key.clone(), c.when_unsatisfiable.clone())) {
            doc.err(
                &p,
                format!(
                    "duplicate constraint for topologyKey {topology_key:?} and whenUnsatisfiable"
                ),
            );
            ok = false;
        }
        if let Some(md) = c.min_domains {
            if md <= 0 {
                doc.err(
                    &child_path(&p, "minDomains"),
                    format!("must be greater than zero, found {md}"),
                );
                ok = false;
            } else if when != WhenUnsatisfiable::DoNotSchedule {
                doc.err(
                    &child_path(&p, "minDomains"),
                    "can only use minDomains if whenUnsatisfiable=DoNotSchedule",
                );
                ok = false;
            }
        }
        let mut policy =
            |v: &Option<String>, field: &str, default: InclusionPolicy| match v.as_deref() {
                None => default,
                Some("Honor") => InclusionPolicy::Honor,
                Some("Ignore") => InclusionPolicy::Ignore,
                Some(o) => {
                    doc.err(
                        &child_path(&p, field),
                        format!("unsupported value {o:?}: supported values: \"Honor\", \"Ignore\""),
                    );
                    ok = false;
                    default
                }
            };
        let node_affinity_policy = policy(
            &c.node_affinity_policy,
            "nodeAffinityPolicy",
            InclusionPolicy::Honor,
        );
        let node_taints_policy = policy(
            &c.node_taints_policy,
            "nodeTaintsPolicy",
            InclusionPolicy::Ignore,
        );
        let label_selector = match &c.label_selector {
            Some(s) => {
                let r = convert_selector(doc, s, &child_path(&p, "labelSelector"));
                ok &= r.is_some();
                r
            }
            None => None,
        };
        let keys: Vec<(String, Operator)> = c
            .match_label_keys
            .iter()
            .map(|k| (k.clone(), Operator::In))
            .collect();
        let label_selector = merge_label_keys(doc, label_selector, &keys, own, &p);
        out.push(TopologySpreadConstraint {
            max_skew,
            topology_key,
            when_unsatisfiable: when,
            label_selector,
            min_domains: c.min_domains,
            node_affinity_policy,
            node_taints_policy,
        });
    }
    ok.then_some(out)
}

pub(super) fn convert_node_affinity(
    doc: &mut Doc,
    na: &NodeAffinityM,
    p: &str,
) -> Option<NodeAffinity> {
    let mut ok = true;
    let required = match &na.required {
        None => None,
        Some(r) => {
            let rp = child_path(
                p,
                "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
            );
            if r.node_selector_terms.is_empty() {
                doc.err(&rp, "must have at least one node selector term");
                ok = false;
            }
            let mut terms = Vec::new();
            for (i, t) in r.node_selector_terms.iter().enumerate() {
                match convert_term(doc, t, &index_path(&rp, i)) {
                    Some(t) => terms.push(t),
                    None => ok = false,
                }
            }
            Some(NodeSelector { terms })
        }
    };
    let mut preferred = Vec::new();
    for (i, t) in na.preferred.iter().enumerate() {
        let tp = index_path(
            &child_path(p, "preferredDuringSchedulingIgnoredDuringExecution"),
            i,
        );
        if !(1..=100).contains(&t.weight) {
            doc.err(
                &child_path(&tp, "weight"),
                format!("must be in the range 1-100, found {}", t.weight),
            );
            ok = false;
        }
        match convert_term(doc, &t.preference, &child_path(&tp, "preference")) {
            Some(term) => preferred.push(PreferredSchedulingTerm {
                weight: t.weight,
                preference: term,
            }),
            None => ok = false,
        }
    }
    ok.then_some(NodeAffinity {
        required,
        preferred,
    })
}

fn convert_node(doc: &mut Doc, m: &NodeM, base: &str) -> Option<Node> {
    let mut meta = convert_meta(doc, &m.metadata, base, false)?;
    let mut ok = true;
    let mut taints = Vec::new();
    for (i, t) in m.spec.taints.iter().enumerate() {
        match convert_taint(doc, t, &index_path(&child_path(base, "spec.taints"), i)) {
            Some(t) => taints.push(t),
            None => ok = false,
        }
    }
    let cp = child_path(base, "status.capacity");
    let mut capacity = Resources::default();
    ok &= parse_resource_map(doc, &m.status.capacity, &cp, &mut capacity);
    for r in [resources::CPU, resources::MEMORY] {
        if !m.status.capacity.contains_key(r) {
            doc.err(
                &child_path(&cp, r),
                "required: a node needs cpu and memory capacity",
            );
            ok = false;
        }
    }
    if !m.status.capacity.contains_key(resources::PODS) {
        capacity.pods = 110;
    }
    let mut allocatable = capacity.clone();
    if !m.status.allocatable.is_empty() {
        ok &= parse_resource_map(
            doc,
            &m.status.allocatable,
            &child_path(base, "status.allocatable"),
            &mut allocatable,
        );
    }
    default_node_labels(&mut meta.labels, &meta.name);
    let mut n = Node::new(meta, capacity, allocatable);
    n.taints = taints;
    n.unschedulable = m.spec.unschedulable;
    match convert_node_gpus(
        doc,
        &n.meta.annotations,
        &child_path(base, "metadata.annotations"),
    ) {
        Some(g) => n.gpus = g,
        None => ok = false,
    }
    match convert_images(doc, &m.status.images, &child_path(base, "status.images")) {
        Some(i) => n.images = i,
        None => ok = false,
    }
    ok.then_some(n)
}

/// A node's GPU model: one model name (no `|`), may be empty.
fn check_node_gpu_model(model: &str) -> Result<(), String> {
    if model.contains('|') || model.trim() != model {
        return Err(format!(
            "must be one GPU model name (no '|' or surrounding spaces), found {model:?}"
        ));
    }
    Ok(())
}

/// A Node manifest's GPUs from its `alibabacloud.com/gpu-count` and
/// `alibabacloud.com/gpu-card-model` annotations. `None` on an error
/// (reported at the annotation's path); `Some(None)` for no GPUs.
fn convert_node_gpus(
    doc: &mut Doc,
    ann: &BTreeMap<String, String>,
    ap: &str,
) -> Option<Option<gpu::NodeGpus>> {
    let model = ann.get(gpu::ANN_GPU_MODEL);
    let mut ok = true;
    if let Some(m) = model {
        if let Err(e) = check_node_gpu_model(m) {
            doc.err(&child_path(ap, gpu::ANN_GPU_MODEL), e);
            ok = false;
        }
    }
    let count = match ann.get(gpu::ANN_GPU_COUNT) {
        Some(c) => match gpu::parse_count(c) {
            Ok(c) => c,
            Err(e) => {
                doc.err(&child_path(ap, gpu::ANN_GPU_COUNT), e);
                return None;
            }
        },
        None => {
            if model.is_some() {
                doc.err(
                    &child_path(ap, gpu::ANN_GPU_MODEL),
                    format!("requires the {} annotation", gpu::ANN_GPU_COUNT),
                );
                return None;
            }
            0
        }
    };
    if !ok {
        return None;
    }
    Some((count > 0).then(|| gpu::NodeGpus::new(count, model.map_or("", |m| m.as_str()))))
}

/// A pod's GPU request from the openb annotations (EXPERIMENT.md §1):
/// `gpu-count` (0 = no GPU), `gpu-milli` (per GPU, 1..=1000, default 1000
/// when only the count is given) and `gpu-card-model` (`|`-separated).
/// `None` on an error (reported at the annotation's path).
fn convert_pod_gpu(
    doc: &mut Doc,
    ann: &BTreeMap<String, String>,
    ap: &str,
) -> Option<Option<gpu::GpuRequest>> {
    let mut ok = true;
    let count = match ann.get(gpu::ANN_GPU_COUNT) {
        Some(c) => match gpu::parse_count(c) {
            Ok(c) => Some(c),
            Err(e) => {
                doc.err(&child_path(ap, gpu::ANN_GPU_COUNT), e);
                ok = false;
                None
            }
        },
        None => None,
    };
    let milli = match ann.get(gpu::ANN_GPU_MILLI) {
        Some(m) => match gpu::parse_milli(m) {
            Ok(m) => Some(m),
            // The trace's CPU-only pods may say gpu-milli 0 with count 0.
            Err(_) if m.trim() == "0" && count == Some(0) => None,
            Err(e) => {
                doc.err(&child_path(ap, gpu::ANN_GPU_MILLI), e);
                ok = false;
                None
            }
        },
        None => None,
    };
    let models = match ann.get(gpu::ANN_GPU_MODEL) {
        Some(v) => match gpu::parse_models(v) {
            Ok(m) => m,
            Err(e) => {
                doc.err(&child_path(ap, gpu::ANN_GPU_MODEL), e);
                ok = false;
                vec![]
            }
        },
        None => vec![],
    };
    if ok && !ann.contains_key(gpu::ANN_GPU_COUNT) {
        for k in [gpu::ANN_GPU_MILLI, gpu::ANN_GPU_MODEL] {
            if ann.contains_key(k) {
                doc.err(
                    &child_path(ap, k),
                    format!("requires the {} annotation", gpu::ANN_GPU_COUNT),
                );
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    Some(match count {
        Some(n) if n > 0 => Some(gpu::GpuRequest {
            num_gpu: n,
            gpu_milli: milli.unwrap_or(gpu::GPU_MILLI),
            models,
        }),
        _ => None,
    })
}

/// Labels the kubelet sets on every node.
pub fn default_node_labels(labels: &mut Labels, name: &str) {
    labels
        .entry(mnode::LABEL_HOSTNAME.to_string())
        .or_insert_with(|| name.to_string());
    labels
        .entry(mnode::LABEL_OS.to_string())
        .or_insert_with(|| "linux".to_string());
    labels
        .entry(mnode::LABEL_ARCH.to_string())
        .or_insert_with(|| "amd64".to_string());
}

fn convert_pool(doc: &mut Doc, p: &NodePoolM, path: &str) -> Option<NodePool> {
    let mut ok = true;
    let name = match &p.name {
        Some(n) if is_dns_label(n) => n.clone(),
        Some(n) => {
            doc.err(&child_path(path, "name"), dns_label_msg(n));
            return None;
        }
        None => {
            doc.err(&child_path(path, "name"), "required");
            return None;
        }
    };
    let count = match p.count {
        Some(c) if c > MAX_POOL_NODES => {
            doc.err(
                &child_path(path, "count"),
                format!("{c} nodes is more than kubesim allows in one pool ({MAX_POOL_NODES})"),
            );
            ok = false;
            0
        }
        Some(c) => c,
        None => {
            doc.err(&child_path(path, "count"), "required");
            ok = false;
            0
        }
    };
    let cp = child_path(path, "capacity");
    let mut capacity = Resources::default();
    ok &= parse_resource_map(doc, &p.capacity, &cp, &mut capacity);
    for r in [resources::CPU, resources::MEMORY] {
        if !p.capacity.contains_key(r) {
            doc.err(
                &child_path(&cp, r),
                "required: a node pool needs cpu and memory capacity",
            );
            ok = false;
        }
    }
    if !p.capacity.contains_key(resources::PODS) {
        capacity.pods = 110;
    }
    let mut allocatable = capacity.clone();
    if !p.allocatable.is_empty() {
        ok &= parse_resource_map(
            doc,
            &p.allocatable,
            &child_path(path, "allocatable"),
            &mut allocatable,
        );
        if !p.allocatable.contains_key(resources::PODS) {
            allocatable.pods = capacity.pods;
        }
    }
    labels_check(doc, &p.labels, &child_path(path, "labels"));
    let mut taints = Vec::new();
    for (i, t) in p.taints.iter().enumerate() {
        match convert_taint(doc, t, &index_path(&child_path(path, "taints"), i)) {
            Some(t) => taints.push(t),
            None => ok = false,
        }
    }
    for (i, z) in p.zones.iter().enumerate() {
        if let Err(e) = validate_label_value(z) {
            doc.err(&index_path(&child_path(path, "zones"), i), e.to_string());
            ok = false;
        }
    }
    let gpus = match &p.gpus {
        None => None,
        Some(g) => {
            let gp = child_path(path, "gpus");
            let count = match &g.count {
                Some(c) => match gpu::parse_count(&c.0) {
                    Ok(c) => c,
                    Err(e) => {
                        doc.err(&child_path(&gp, "count"), e);
                        ok = false;
                        0
                    }
                },
                None => {
                    doc.err(
                        &child_path(&gp, "count"),
                        "required: the number of GPUs per node",
                    );
                    ok = false;
                    0
                }
            };
            let model = g.model.clone().unwrap_or_default();
            if let Err(e) = check_node_gpu_model(&model) {
                doc.err(&child_path(&gp, "model"), e);
                ok = false;
            }
            Some((count, model))
        }
    };
    ok.then_some(NodePool {
        name,
        count,
        capacity,
        allocatable,
        labels: p.labels.clone(),
        taints,
        zones: p.zones.clone(),
        region: p.region.clone(),
        instance_type: p.instance_type.clone(),
        images: convert_images(doc, &p.images, &child_path(path, "images"))?,
        gpus,
        image_pull_bandwidth: positive_bytes(
            doc,
            &p.image_pull_bandwidth,
            &child_path(path, "imagePullBandwidth"),
        )?,
        image_fs_capacity: positive_bytes(
            doc,
            &p.image_fs_capacity,
            &child_path(path, "imageFsCapacity"),
        )?,
        autoscaling: p
            .autoscaling
            .as_ref()
            .and_then(|a| super::hpa::convert_pool_autoscaling(doc, a, path, count)),
    })
}

/// An optional positive byte quantity; `None` (outer) on error.
fn positive_bytes(doc: &mut Doc, v: &Option<Scalar>, path: &str) -> Option<Option<i64>> {
    let Some(v) = v else { return Some(None) };
    match Quantity::parse(&v.0).ok().and_then(|q| q.checked_value()) {
        Some(b) if b > 0 => Some(Some(b)),
        _ => {
            doc.err(
                path,
                format!("must be a positive quantity of bytes, found {:?}", v.0),
            );
            None
        }
    }
}

fn convert_timeline_entry(
    doc: &mut Doc,
    e: &TimelineEntryM,
    apply_node: Option<&YNode>,
    path: &str,
    ctx: &ConvCtx,
    pools: &[NodePool],
) -> Option<TimedAction> {
    let at = match &e.at {
        Some(a) => duration(doc, &child_path(path, "at"), a),
        None => {
            doc.err(
                &child_path(path, "at"),
                "required: when the action happens, e.g. 90s or 5m",
            );
            None
        }
    };
    let mut actions: Vec<(&str, Option<Action>)> = Vec::new();
    let node_action = |v: &Option<String>, f: fn(String) -> Action| v.clone().map(f);
    let scenario_object = doc.object.clone();
    if let Some(n) = apply_node {
        let p = child_path(path, "apply");
        let o = convert_object(doc, n, &p, ctx);
        doc.object = scenario_object.clone();
        actions.push(("apply", o.map(Action::Apply)));
    }
    if let Some(d) = &e.delete {
        let p = child_path(path, "delete");
        let kind = d.kind.clone().unwrap_or_default();
        let a = match kind.as_str() {
            "Pod" | "Node" | "Namespace" | "PriorityClass" => match &d.name {
                Some(n) => Some(Action::Delete(ObjectRef {
                    namespace: if kind == "Pod" {
                        d.namespace.clone().unwrap_or_else(|| "default".to_string())
                    } else {
                        String::new()
                    },
                    kind,
                    name: n.clone(),
                })),
                None => {
                    doc.err(&child_path(&p, "name"), "required");
                    None
                }
            },
            "" => {
                doc.err(&child_path(&p, "kind"), "required");
                None
            }
            "HorizontalPodAutoscaler" => match &d.name {
                Some(n) => Some(Action::Delete(ObjectRef {
                    namespace: d.namespace.clone().unwrap_or_else(|| "default".to_string()),
                    kind,
                    name: n.clone(),
                })),
                None => {
                    doc.err(&child_path(&p, "name"), "required");
                    None
                }
            },
            k if super::workloads::KINDS.contains(&k) => {
                super::workloads::convert_delete(doc, d, &p)
            }
            k => {
                doc.err(&child_path(&p, "kind"), format!("cannot delete kind {k:?}: kubesim simulates Pod, Node, Namespace and PriorityClass"));
                None
            }
        };
        actions.push(("delete", a));
    }
    for (name, v, f) in [
        ("cordon", &e.cordon, Action::Cordon as fn(String) -> Action),
        ("uncordon", &e.uncordon, Action::Uncordon),
        ("drain", &e.drain, Action::Drain),
        ("failNode", &e.fail_node, Action::FailNode),
        ("recoverNode", &e.recover_node, Action::RecoverNode),
        ("removeNode", &e.remove_node, Action::RemoveNode),
    ] {
        if v.is_some() {
            actions.push((name, node_action(v, f)));
        }
    }
    if let Some(a) = &e.add_nodes {
        let p = child_path(path, "addNodes");
        let act = match (&a.pool, a.count) {
            (Some(pool), Some(count)) if pools.iter().any(|x| &x.name == pool) => {
                if count == 0 || count > MAX_POOL_NODES {
                    doc.err(
                        &child_path(&p, "count"),
                        format!("must be between 1 and {MAX_POOL_NODES}"),
                    );
                    None
                } else {
                    Some(Action::AddNodes {
                        pool: pool.clone(),
                        count,
                    })
                }
            }
            (Some(pool), _) if !pools.iter().any(|x| &x.name == pool) => {
                let names: Vec<&str> = pools.iter().map(|p| p.name.as_str()).collect();
                doc.err(
                    &child_path(&p, "pool"),
                    format!("no node pool named {pool:?}; pools: {}", names.join(", ")),
                );
                None
            }
            (None, _) => {
                doc.err(&child_path(&p, "pool"), "required");
                None
            }
            _ => {
                doc.err(&child_path(&p, "count"), "required");
                None
            }
        };
        actions.push(("addNodes", act));
    }
    super::workloads::convert_actions(doc, e, path, &mut actions);
    if let Some(g) = &e.remove_scheduling_gates {
        let p = child_path(path, "removeSchedulingGates");
        actions.push(("removeSchedulingGates", convert_remove_gates(doc, g, &p)));
    }
    match actions.len() {
        0 => {
            doc.err(
                path,
                "no action: set one of apply, delete, cordon, uncordon, drain, failNode, recoverNode, removeNode, addNodes, scale, setImage, rollback, pause, resume, removeSchedulingGates",
            );
            None
        }
        1 => {
            let (_, a) = actions.pop()?;
            let loc = doc.loc_of(path);
            Some(TimedAction {
                at: SimTime(at?.as_micros()),
                action: a?,
                origin: format!("{}:{}", doc.sink.file.display(), loc.line),
            })
        }
        _ => {
            let names: Vec<&str> = actions.iter().map(|(n, _)| *n).collect();
            doc.err(
                path,
                format!(
                    "one action per entry, found {}: split them into separate entries",
                    names.join(", ")
                ),
            );
            None
        }
    }
}

/// The `removeSchedulingGates` action: exactly one of `name` and
/// `selector`; gate names are qualified names.
fn convert_remove_gates(doc: &mut Doc, g: &RemoveGatesM, p: &str) -> Option<Action> {
    let namespace = g.namespace.clone().unwrap_or_else(|| "default".to_string());
    let target = match (&g.name, &g.selector) {
        (Some(n), None) if !n.is_empty() => Some(super::GateTarget::Name(n.clone())),
        (Some(_), None) => {
            doc.err(&child_path(p, "name"), "must not be empty");
            None
        }
        (None, Some(sel)) => {
            let sp = child_path(p, "selector");
            let parsed = convert_selector(doc, sel, &sp);
            match parsed {
                Some(s) if s.is_empty() => {
                    doc.err(
                        &sp,
                        "an empty selector would select every pod: list matchLabels or matchExpressions",
                    );
                    None
                }
                other => other.map(super::GateTarget::Selector),
            }
        }
        (Some(_), Some(_)) => {
            doc.err(p, "set either name or selector, not both");
            None
        }
        (None, None) => {
            doc.err(p, "required: name or selector of the pods");
            None
        }
    };
    let mut ok = true;
    let gates = g.gates.clone().unwrap_or_default();
    for (i, name) in gates.iter().enumerate() {
        if let Err(e) = validate_label_key(name) {
            doc.err(&index_path(&child_path(p, "gates"), i), e.to_string());
            ok = false;
        }
    }
    if g.gates.as_ref().is_some_and(|v| v.is_empty()) {
        doc.err(
            &child_path(p, "gates"),
            "must not be empty: omit it to remove every gate",
        );
        ok = false;
    }
    let target = target?;
    ok.then_some(Action::RemoveSchedulingGates(super::GateRemoval {
        namespace,
        target,
        gates,
    }))
}

/// Checks across documents: unique names, namespaces and node references.
fn cross_check(
    sink: &mut Sink,
    sc: &Scenario,
    trees: &[YNode],
    scenario_idx: Option<usize>,
    object_docs: &[usize],
) {
    let mut namespaces: BTreeSet<String> =
        BUILTIN_NAMESPACES.iter().map(|s| s.to_string()).collect();
    let mut node_names: BTreeSet<String> = BTreeSet::new();
    let all_objects = sc
        .objects
        .iter()
        .chain(sc.timeline.iter().filter_map(|a| match &a.action {
            Action::Apply(o) => Some(o),
            _ => None,
        }));
    for o in all_objects.clone() {
        match o {
            Object::Namespace { name: n, .. } => {
                namespaces.insert(n.clone());
            }
            Object::Node(n) => {
                node_names.insert(n.meta.name.clone());
            }
            _ => {}
        }
    }
    let mut errors: Vec<(usize, String)> = Vec::new();
    // Pool nodes, then nodes added by the timeline.
    let mut pool_next: BTreeMap<&str, u32> = BTreeMap::new();
    for p in &sc.node_pools {
        for i in 0..p.count {
            node_names.insert(format!("{}-{i}", p.name));
        }
        pool_next.insert(&p.name, p.count);
    }
    for a in &sc.timeline {
        if let Action::AddNodes { pool, count } = &a.action {
            if let Some(next) = pool_next.get_mut(pool.as_str()) {
                for i in *next..next.saturating_add(*count) {
                    node_names.insert(format!("{pool}-{i}"));
                }
                *next = next.saturating_add(*count);
            }
        }
    }
    // Duplicate names among the objects created at time zero.
    let mut seen: BTreeSet<(String, String, String)> = BTreeSet::new();
    for (i, o) in sc.objects.iter().enumerate() {
        let key = match o {
            Object::Pod(p) if !p.meta.name.is_empty() => {
                ("Pod", p.meta.namespace.clone(), p.meta.name.clone())
            }
            Object::Node(n) => ("Node", String::new(), n.meta.name.clone()),
            Object::Namespace { name: n, .. } => ("Namespace", String::new(), n.clone()),
            Object::PriorityClass(c) => ("PriorityClass", String::new(), c.name.clone()),
            _ => continue,
        };
        if !seen.insert((key.0.to_string(), key.1.clone(), key.2.clone())) {
            errors.push((i, format!("{} {} is defined more than once", key.0, key.2)));
        }
        if let Object::Node(n) = o {
            if sc.node_pools.iter().any(|p| {
                n.meta.name.starts_with(&format!("{}-", p.name))
                    && (0..p.count).any(|k| n.meta.name == format!("{}-{k}", p.name))
            }) {
                errors.push((
                    i,
                    format!(
                        "Node {} has the same name as a node of a node pool",
                        n.meta.name
                    ),
                ));
            }
        }
    }
    for (i, o) in sc.objects.iter().enumerate() {
        if let Object::Pod(p) = o {
            if !namespaces.contains(&p.meta.namespace) {
                errors.push((
                    i,
                    format!(
                        "namespace {:?} not found: add a Namespace document",
                        p.meta.namespace
                    ),
                ));
            }
        }
    }
    for (i, msg) in errors {
        if let Some(t) = object_docs.get(i).and_then(|d| trees.get(*d)) {
            let mut doc = new_doc_plain(sink, t);
            doc.err("metadata", msg);
        }
    }
    // Timeline references.
    if let Some(si) = scenario_idx {
        let tree = &trees[si];
        let mut doc = new_doc_plain(sink, tree);
        doc.object = format!("Scenario {}", sc.name);
        let tl = tree.get("spec").and_then(|s| s.get("timeline"));
        let items: &[YNode] = match tl.map(|t| &t.value) {
            Some(yaml::Value::Seq(items)) => items,
            _ => &[],
        };
        for (ti, item) in items.iter().enumerate() {
            let path = index_path("spec.timeline", ti);
            for key in [
                "cordon",
                "uncordon",
                "drain",
                "failNode",
                "recoverNode",
                "removeNode",
            ] {
                if let Some(n) = item.get(key).and_then(|n| n.as_str()) {
                    if !node_names.contains(n) {
                        doc.err(
                            &child_path(&path, key),
                            format!("no node named {n:?} exists in this scenario"),
                        );
                    }
                }
            }
            if let Some(a) = item.get("apply") {
                if a.get("kind").and_then(|k| k.as_str()) == Some("Pod") {
                    let ns = a
                        .get("metadata")
                        .and_then(|m| m.get("namespace"))
                        .and_then(|n| n.as_str())
                        .unwrap_or("default");
                    if !namespaces.contains(ns) {
                        doc.err(
                            &child_path(&path, "apply.metadata.namespace"),
                            format!("namespace {ns:?} not found: add a Namespace document"),
                        );
                    }
                }
            }
        }
    }
}

fn new_doc_plain<'s>(sink: &'s mut Sink, root: &YNode) -> Doc<'s> {
    let kind = root.get("kind").and_then(|k| k.as_str()).unwrap_or("");
    let name = root
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or("");
    Doc {
        index: yaml::index_paths(root),
        object: format!("{kind} {name}").trim().to_string(),
        sink,
    }
}

// ---- name validation (k8s.io/apimachinery/pkg/util/validation) ----

/// RFC 1123 label: at most 63 characters, `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
pub fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// RFC 1123 subdomain: at most 253 characters, dot-separated labels.
pub fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && !s.is_empty() && s.split('.').all(is_dns_label)
}

fn dns_label_msg(s: &str) -> String {
    format!("invalid value {s:?}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (at most 63 characters)")
}
fn dns_subdomain_msg(s: &str) -> String {
    format!("invalid value {s:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (at most 253 characters)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        assert!(is_dns_label("web-1"));
        assert!(!is_dns_label("Web"));
        assert!(!is_dns_label("-a"));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert!(is_dns_subdomain("a.b-c.d"));
        assert!(!is_dns_subdomain("a..b"));
    }
}
