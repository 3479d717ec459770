//! Scheduler extenders: external policies called at Filter, Prioritize and
//! Bind, as kube-scheduler calls them (pkg/scheduler/extender.go). Two
//! transports share this interface: the standard HTTP extender protocol
//! (`ExtenderArgs` → `ExtenderFilterResult` / `HostPriorityList`, see
//! [`super::extender_http`]) and a JSON-lines protocol over a subprocess's
//! stdin/stdout (see [`super::extender_jsonl`]).
//!
//! This file holds the [`Extender`] trait, the runners kube.rs calls, and
//! the wire format both transports share: the JSON of the arguments
//! (k8s.io/kube-scheduler/extender/v1 types, with upstream's capitalised
//! field names) and the decoding of the replies. Decoding follows Go's
//! `encoding/json` where it matters: field names match case-insensitively
//! (an exact match wins), `null` means absent, unknown fields are ignored,
//! and a wrong type is an error. Every reply is data: a malformed one is an
//! error naming the extender, never a panic.
//!
//! Deviations from upstream, all deliberate:
//! - Pods are sent with metadata, containers (resources as quantity
//!   strings, ports), nodeSelector, tolerations, priority and
//!   schedulerName; affinity and topology spread constraints are not sent.
//! - Node objects carry a non-API `kubesim` field, `{"pods": <count>,
//!   "requested": <ResourceList>}`: the scheduler's accounting, which a real
//!   extender would build from its own informers (there is no API server to
//!   ask). Go decoders ignore it.
//! - Filter results naming a node that was not in the request are an error
//!   in both modes (upstream only checks `NodeNames`); failure maps naming
//!   such nodes are ignored.
//! - Scores are clamped to `0..=MAX_EXTENDER_PRIORITY`; hosts that were not
//!   in the request are dropped.
//! - HTTP requests ignore proxy environment variables and do not follow
//!   redirects; only `http://` URLs are supported (no TLS in this build).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::config::ExtenderConfig;
use super::framework::{ClusterView, Status, MAX_NODE_SCORE};
use crate::engine::Duration;
use crate::model::quantity::{Format, Quantity};
use crate::model::resources::{CPU, EPHEMERAL_STORAGE, MEMORY};
use crate::model::{Node, NodeId, Pod, Resources};

/// Upstream `extenderv1.MaxExtenderPriority`.
pub const MAX_EXTENDER_PRIORITY: i64 = 10;

/// Upstream `DefaultExtenderTimeout`, used when the configured timeout is 0.
pub const DEFAULT_EXTENDER_TIMEOUT: Duration = Duration::from_secs(5);

/// Result of an extender's filter call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilterResult {
    pub feasible: Vec<NodeId>,
    pub failed: BTreeMap<NodeId, String>,
    pub failed_unresolvable: BTreeMap<NodeId, String>,
}

/// An extender. Errors name the extender (`extender <name>: …`), so the
/// runners pass them on unchanged.
pub trait Extender {
    fn name(&self) -> &str;
    fn is_interested(&self, pod: &Pod) -> bool;
    fn is_filter(&self) -> bool;
    fn is_prioritizer(&self) -> bool;
    fn is_binder(&self) -> bool;
    fn is_ignorable(&self) -> bool;
    fn weight(&self) -> i64;
    fn filter(
        &mut self,
        pod: &Pod,
        nodes: &[NodeId],
        view: &ClusterView,
    ) -> Result<FilterResult, String>;
    /// Scores in 0..=MAX_EXTENDER_PRIORITY per node.
    fn prioritize(
        &mut self,
        pod: &Pod,
        nodes: &[NodeId],
        view: &ClusterView,
    ) -> Result<Vec<(NodeId, i64)>, String>;
    fn bind(&mut self, pod: &Pod, node: NodeId, view: &ClusterView) -> Result<(), String>;
}

/// Builds an extender from its configuration: HTTP when `url_prefix` is
/// set, a JSON-lines subprocess when `command` is (spawned here, once).
pub fn new_extender(cfg: &ExtenderConfig) -> Result<Box<dyn Extender>, String> {
    match (cfg.url_prefix.is_empty(), cfg.command.is_empty()) {
        (false, true) => {
            let t = super::extender_http::HttpTransport::new(&cfg.url_prefix, timeout_of(cfg))?;
            Ok(Box::new(WireExtender::new(cfg, cfg.url_prefix.clone(), t)))
        }
        (true, false) => {
            let name = command_line(&cfg.command);
            let t =
                super::extender_jsonl::JsonlTransport::spawn(&cfg.command, &name, timeout_of(cfg))?;
            Ok(Box::new(WireExtender::new(cfg, name, t)))
        }
        (false, false) => Err(format!(
            "extender {}: set either urlPrefix or command, not both",
            cfg.url_prefix
        )),
        (true, true) => Err("extender: neither urlPrefix nor command is set".to_string()),
    }
}

/// The configured timeout, or upstream's default when it is 0.
pub fn timeout_of(cfg: &ExtenderConfig) -> Duration {
    if cfg.timeout == Duration::ZERO {
        DEFAULT_EXTENDER_TIMEOUT
    } else {
        cfg.timeout
    }
}

/// A command line for messages: arguments with spaces or shell
/// metacharacters are single-quoted.
pub fn command_line(cmd: &[String]) -> String {
    cmd.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Upstream `HTTPExtender.IsInterested`: with no managed resources every
/// pod; otherwise pods whose containers or init containers request or limit
/// one of them.
pub fn is_interested_in(pod: &Pod, managed: &[String]) -> bool {
    if managed.is_empty() {
        return true;
    }
    pod.spec
        .containers
        .iter()
        .chain(pod.spec.init_containers.iter())
        .any(|c| {
            managed
                .iter()
                .any(|r| c.requests.get(r) != 0 || c.limits.get(r) != 0)
        })
}

/// Which call a transport makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    Filter,
    Prioritize,
    Bind,
}

impl Call {
    /// The JSON-lines verb.
    pub fn as_str(self) -> &'static str {
        match self {
            Call::Filter => "filter",
            Call::Prioritize => "prioritize",
            Call::Bind => "bind",
        }
    }
}

/// Sends one request and returns the decoded JSON reply. Errors describe
/// what went wrong without the `extender <name>:` prefix, which the caller
/// adds.
pub trait Transport {
    /// `verb` is the configured verb (the HTTP path), `call` what it is.
    fn call(&mut self, call: Call, verb: &str, args: &Value) -> Result<Value, String>;
}

/// An extender speaking the extender/v1 types over some [`Transport`].
pub struct WireExtender<T: Transport> {
    name: String,
    filter_verb: String,
    prioritize_verb: String,
    bind_verb: String,
    weight: i64,
    node_cache_capable: bool,
    ignorable: bool,
    managed_resources: Vec<String>,
    transport: T,
}

impl<T: Transport> WireExtender<T> {
    pub fn new(cfg: &ExtenderConfig, name: String, transport: T) -> WireExtender<T> {
        WireExtender {
            name,
            filter_verb: cfg.filter_verb.clone(),
            prioritize_verb: cfg.prioritize_verb.clone(),
            bind_verb: cfg.bind_verb.clone(),
            weight: cfg.weight,
            node_cache_capable: cfg.node_cache_capable,
            ignorable: cfg.ignorable,
            managed_resources: cfg.managed_resources.clone(),
            transport,
        }
    }

    /// Calls the transport; errors get the `extender <name>:` prefix.
    fn send(&mut self, call: Call, args: &Value) -> Result<Value, String> {
        let verb = match call {
            Call::Filter => &self.filter_verb,
            Call::Prioritize => &self.prioritize_verb,
            Call::Bind => &self.bind_verb,
        };
        self.transport
            .call(call, verb, args)
            .map_err(|e| format!("extender {}: {e}", self.name))
    }

    fn malformed(&self, call: Call, e: String) -> String {
        format!(
            "extender {}: {}: malformed reply: {e}",
            self.name,
            call.as_str()
        )
    }
}

impl<T: Transport> Extender for WireExtender<T> {
    fn name(&self) -> &str {
        &self.name
    }
    fn is_interested(&self, pod: &Pod) -> bool {
        is_interested_in(pod, &self.managed_resources)
    }
    fn is_filter(&self) -> bool {
        !self.filter_verb.is_empty()
    }
    fn is_prioritizer(&self) -> bool {
        !self.prioritize_verb.is_empty()
    }
    fn is_binder(&self) -> bool {
        !self.bind_verb.is_empty()
    }
    fn is_ignorable(&self) -> bool {
        self.ignorable
    }
    fn weight(&self) -> i64 {
        self.weight
    }

    fn filter(
        &mut self,
        pod: &Pod,
        nodes: &[NodeId],
        view: &ClusterView,
    ) -> Result<FilterResult, String> {
        if self.filter_verb.is_empty() {
            return Ok(FilterResult {
                feasible: nodes.to_vec(),
                ..Default::default()
            });
        }
        let args = extender_args(pod, nodes, view, self.node_cache_capable);
        let reply = self.send(Call::Filter, &args)?;
        match parse_filter_result(&reply, nodes, view, self.node_cache_capable) {
            Ok(r) => Ok(r),
            Err(WireError::Reported(msg)) => Err(format!(
                "extender {}: filter returned an error: {msg}",
                self.name
            )),
            Err(WireError::UnknownNode(n)) => Err(format!(
                "extender {}: filter: claims a filtered node {n:?} which is not found in the input node list",
                self.name
            )),
            Err(WireError::Malformed(e)) => Err(self.malformed(Call::Filter, e)),
        }
    }

    fn prioritize(
        &mut self,
        pod: &Pod,
        nodes: &[NodeId],
        view: &ClusterView,
    ) -> Result<Vec<(NodeId, i64)>, String> {
        if self.prioritize_verb.is_empty() {
            return Ok(nodes.iter().map(|n| (*n, 0)).collect());
        }
        let args = extender_args(pod, nodes, view, self.node_cache_capable);
        let reply = self.send(Call::Prioritize, &args)?;
        parse_host_priority_list(&reply, nodes, view)
            .map_err(|e| self.malformed(Call::Prioritize, e))
    }

    fn bind(&mut self, pod: &Pod, node: NodeId, view: &ClusterView) -> Result<(), String> {
        if self.bind_verb.is_empty() {
            return Err(format!(
                "extender {}: unexpected empty bindVerb in extender",
                self.name
            ));
        }
        let args = binding_args(pod, node, view);
        let reply = self.send(Call::Bind, &args)?;
        match parse_binding_result(&reply) {
            Ok(()) => Ok(()),
            Err(WireError::Reported(msg)) => Err(format!(
                "extender {}: bind returned an error: {msg}",
                self.name
            )),
            Err(WireError::UnknownNode(n)) => Err(self.malformed(Call::Bind, n)),
            Err(WireError::Malformed(e)) => Err(self.malformed(Call::Bind, e)),
        }
    }
}

/// Upstream `findNodesThatPassExtenders`: extenders in order, each narrowing
/// the feasible list; failures recorded in `statuses`.
pub fn run_filters(
    exts: &mut [Box<dyn Extender>],
    pod: &Pod,
    feasible: &[NodeId],
    view: &ClusterView,
    statuses: &mut BTreeMap<NodeId, Status>,
) -> Result<Vec<NodeId>, String> {
    let mut nodes = feasible.to_vec();
    for e in exts.iter_mut() {
        if nodes.is_empty() {
            break;
        }
        if !e.is_filter() || !e.is_interested(pod) {
            continue;
        }
        match e.filter(pod, &nodes, view) {
            Ok(r) => {
                for (n, m) in &r.failed_unresolvable {
                    statuses.insert(*n, Status::unresolvable(m.clone()).with_plugin("Extender"));
                }
                for (n, m) in &r.failed {
                    if !r.failed_unresolvable.contains_key(n) {
                        statuses
                            .insert(*n, Status::unschedulable(m.clone()).with_plugin("Extender"));
                    }
                }
                nodes = r.feasible;
            }
            Err(_) if e.is_ignorable() => continue,
            // The error already names the extender.
            Err(err) => return Err(err),
        }
    }
    Ok(nodes)
}

/// Upstream `prioritizeNodes` extender part: score × weight ×
/// (MaxNodeScore / MaxExtenderPriority); errors are ignored.
pub fn run_prioritizers(
    exts: &mut [Box<dyn Extender>],
    pod: &Pod,
    nodes: &[NodeId],
    view: &ClusterView,
) -> BTreeMap<NodeId, Vec<(String, i64)>> {
    let mut out: BTreeMap<NodeId, Vec<(String, i64)>> = BTreeMap::new();
    for e in exts.iter_mut() {
        if !e.is_prioritizer() || !e.is_interested(pod) {
            continue;
        }
        let w = e.weight();
        if let Ok(list) = e.prioritize(pod, nodes, view) {
            for (n, s) in list {
                out.entry(n).or_default().push((
                    e.name().to_string(),
                    s.saturating_mul(w)
                        .saturating_mul(MAX_NODE_SCORE / MAX_EXTENDER_PRIORITY),
                ));
            }
        }
    }
    out
}

/// The first interested binder extender binds the pod (upstream
/// `extendersBinding`); `None` when no extender binds.
pub fn run_binders(
    exts: &mut [Box<dyn Extender>],
    pod: &Pod,
    node: NodeId,
    view: &ClusterView,
) -> Option<Result<(), String>> {
    for e in exts.iter_mut() {
        if !e.is_binder() || !e.is_interested(pod) {
            continue;
        }
        match e.bind(pod, node, view) {
            Err(_) if e.is_ignorable() => continue,
            r => return Some(r),
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Wire format: arguments.

/// `ExtenderArgs`: `{"Pod": …, "Nodes": {"items": [...]}}`, or with
/// `node_cache_capable` `{"Pod": …, "NodeNames": [...]}`.
pub fn extender_args(
    pod: &Pod,
    nodes: &[NodeId],
    view: &ClusterView,
    node_cache_capable: bool,
) -> Value {
    let mut args = Map::new();
    args.insert("Pod".into(), pod_json(pod, view));
    if node_cache_capable {
        let names: Vec<Value> = nodes
            .iter()
            .map(|n| Value::from(view.node(*n).name()))
            .collect();
        args.insert("NodeNames".into(), Value::Array(names));
    } else {
        let items: Vec<Value> = nodes.iter().map(|n| node_json(view.node(*n))).collect();
        args.insert("Nodes".into(), json!({ "items": items }));
    }
    Value::Object(args)
}

/// `ExtenderBindingArgs`: `{"PodName", "PodNamespace", "PodUID", "Node"}`.
pub fn binding_args(pod: &Pod, node: NodeId, view: &ClusterView) -> Value {
    json!({
        "PodName": pod.meta.name,
        "PodNamespace": pod.meta.namespace,
        "PodUID": pod.meta.uid,
        "Node": view.node(node).name(),
    })
}

/// A `v1.ResourceList`: resource name → quantity string (`"500m"`,
/// `"128Mi"`), zero entries omitted.
pub fn resource_list(r: &Resources) -> Value {
    let mut m = Map::new();
    for name in r.names() {
        let v = r.get(name);
        let q = match name {
            CPU => Quantity::from_milli(v),
            MEMORY | EPHEMERAL_STORAGE => Quantity::from_value(v, Format::BinarySI),
            n if n.starts_with("hugepages-") => Quantity::from_value(v, Format::BinarySI),
            _ => Quantity::from_value(v, Format::DecimalSI),
        };
        m.insert(name.to_string(), Value::from(q.to_string()));
    }
    Value::Object(m)
}

fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Object(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect(),
    )
}

/// Object metadata with Go's `omitempty`.
fn meta_json(meta: &crate::model::ObjectMeta) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), Value::from(meta.name.as_str()));
    if !meta.namespace.is_empty() {
        m.insert("namespace".into(), Value::from(meta.namespace.as_str()));
    }
    if !meta.uid.is_empty() {
        m.insert("uid".into(), Value::from(meta.uid.as_str()));
    }
    if !meta.labels.is_empty() {
        m.insert("labels".into(), string_map(&meta.labels));
    }
    if !meta.annotations.is_empty() {
        m.insert("annotations".into(), string_map(&meta.annotations));
    }
    Value::Object(m)
}

fn container_json(c: &crate::model::pod::Container) -> Value {
    use crate::model::pod::PullPolicy;
    let mut m = Map::new();
    m.insert("name".into(), Value::from(c.name.as_str()));
    m.insert("image".into(), Value::from(c.image.as_str()));
    let pull = match c.image_pull_policy {
        PullPolicy::Always => "Always",
        PullPolicy::IfNotPresent => "IfNotPresent",
        PullPolicy::Never => "Never",
    };
    m.insert("imagePullPolicy".into(), Value::from(pull));
    let mut res = Map::new();
    if !c.requests.is_zero() {
        res.insert("requests".into(), resource_list(&c.requests));
    }
    if !c.limits.is_zero() {
        res.insert("limits".into(), resource_list(&c.limits));
    }
    m.insert("resources".into(), Value::Object(res));
    if !c.ports.is_empty() {
        let ports: Vec<Value> = c
            .ports
            .iter()
            .map(|p| {
                let mut pm = Map::new();
                pm.insert("containerPort".into(), Value::from(p.container_port));
                if p.host_port != 0 {
                    pm.insert("hostPort".into(), Value::from(p.host_port));
                }
                pm.insert("protocol".into(), Value::from(p.protocol.as_str()));
                if !p.host_ip.is_empty() {
                    pm.insert("hostIP".into(), Value::from(p.host_ip.as_str()));
                }
                Value::Object(pm)
            })
            .collect();
        m.insert("ports".into(), Value::Array(ports));
    }
    if let Some(rp) = c.restart_policy {
        m.insert("restartPolicy".into(), Value::from(rp.as_str()));
    }
    Value::Object(m)
}

/// The pod as the API serves it (`v1.Pod`), for the fields kubesim models
/// except affinity and topology spread constraints.
pub fn pod_json(pod: &Pod, view: &ClusterView) -> Value {
    use crate::model::TolerationOperator;
    let s = &pod.spec;
    let mut spec = Map::new();
    spec.insert(
        "containers".into(),
        Value::Array(s.containers.iter().map(container_json).collect()),
    );
    if !s.init_containers.is_empty() {
        spec.insert(
            "initContainers".into(),
            Value::Array(s.init_containers.iter().map(container_json).collect()),
        );
    }
    spec.insert(
        "restartPolicy".into(),
        Value::from(s.restart_policy.as_str()),
    );
    spec.insert(
        "terminationGracePeriodSeconds".into(),
        Value::from(s.termination_grace_period.as_micros() / 1_000_000),
    );
    if !s.node_selector.is_empty() {
        spec.insert("nodeSelector".into(), string_map(&s.node_selector));
    }
    if let Some(n) = &s.node_name {
        spec.insert("nodeName".into(), Value::from(n.as_str()));
    }
    spec.insert(
        "schedulerName".into(),
        Value::from(s.scheduler_name.as_str()),
    );
    if !s.tolerations.is_empty() {
        let tols: Vec<Value> = s
            .tolerations
            .iter()
            .map(|t| {
                let mut m = Map::new();
                if !t.key.is_empty() {
                    m.insert("key".into(), Value::from(t.key.as_str()));
                }
                let op = match t.operator {
                    TolerationOperator::Equal => "Equal",
                    TolerationOperator::Exists => "Exists",
                };
                m.insert("operator".into(), Value::from(op));
                if !t.value.is_empty() {
                    m.insert("value".into(), Value::from(t.value.as_str()));
                }
                if let Some(e) = t.effect {
                    m.insert("effect".into(), Value::from(e.as_str()));
                }
                if let Some(secs) = t.toleration_seconds {
                    m.insert("tolerationSeconds".into(), Value::from(secs));
                }
                Value::Object(m)
            })
            .collect();
        spec.insert("tolerations".into(), Value::Array(tols));
    }
    if let Some(pc) = &s.priority_class_name {
        spec.insert("priorityClassName".into(), Value::from(pc.as_str()));
    }
    spec.insert("priority".into(), Value::from(s.priority));
    if !s.overhead.is_zero() {
        spec.insert("overhead".into(), resource_list(&s.overhead));
    }
    let mut status = Map::new();
    status.insert("phase".into(), Value::from(pod.phase().as_str()));
    status.insert("qosClass".into(), Value::from(pod.qos.as_str()));
    if let Some(n) = pod.status.nominated_node {
        if let Some(node) = view.nodes.get(n.0 as usize) {
            status.insert("nominatedNodeName".into(), Value::from(node.name()));
        }
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta_json(&pod.meta),
        "spec": Value::Object(spec),
        "status": Value::Object(status),
    })
}

/// The node as the API serves it (`v1.Node`), plus the non-API `kubesim`
/// field with the scheduler's accounting (pod count and requests).
pub fn node_json(node: &Node) -> Value {
    let mut spec = Map::new();
    if node.unschedulable {
        spec.insert("unschedulable".into(), Value::Bool(true));
    }
    if !node.taints.is_empty() {
        let taints: Vec<Value> = node
            .taints
            .iter()
            .map(|t| {
                let mut m = Map::new();
                m.insert("key".into(), Value::from(t.key.as_str()));
                if !t.value.is_empty() {
                    m.insert("value".into(), Value::from(t.value.as_str()));
                }
                m.insert("effect".into(), Value::from(t.effect.as_str()));
                Value::Object(m)
            })
            .collect();
        spec.insert("taints".into(), Value::Array(taints));
    }
    let c = &node.conditions;
    let conditions: Vec<Value> = [
        ("Ready", c.ready),
        ("MemoryPressure", c.memory_pressure),
        ("DiskPressure", c.disk_pressure),
        ("PIDPressure", c.pid_pressure),
    ]
    .iter()
    .map(|(t, s)| json!({"type": t, "status": s.as_str()}))
    .collect();
    let mut status = Map::new();
    status.insert("capacity".into(), resource_list(&node.capacity));
    status.insert("allocatable".into(), resource_list(&node.allocatable));
    status.insert("conditions".into(), Value::Array(conditions));
    if !node.images.is_empty() {
        let images: Vec<Value> = node
            .images
            .iter()
            .map(|(name, size)| json!({"names": [name], "sizeBytes": size}))
            .collect();
        status.insert("images".into(), Value::Array(images));
    }
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": meta_json(&node.meta),
        "spec": Value::Object(spec),
        "status": Value::Object(status),
        "kubesim": {
            "pods": node.pods.len(),
            "requested": resource_list(&node.requested),
        },
    })
}

// ---------------------------------------------------------------------------
// Wire format: replies.

/// Why a reply was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// The reply's `Error` field was set.
    Reported(String),
    /// A filter result named a node that was not in the request.
    UnknownNode(String),
    /// Not the expected JSON shape.
    Malformed(String),
}

/// Go `encoding/json` field lookup: an exact match, else a case-insensitive
/// one; `null` counts as absent.
fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key)
        .or_else(|| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
        .filter(|v| !v.is_null())
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn malformed(what: &str, want: &str, got: &Value) -> WireError {
    WireError::Malformed(format!("{what} must be {want}, got {}", kind_of(got)))
}

fn as_object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, WireError> {
    v.as_object()
        .ok_or_else(|| malformed(what, "a JSON object", v))
}

/// The `Error` field: empty or absent is no error.
fn error_field(obj: &Map<String, Value>, what: &str) -> Result<(), WireError> {
    match field(obj, "Error") {
        None => Ok(()),
        Some(Value::String(s)) if s.is_empty() => Ok(()),
        Some(Value::String(s)) => Err(WireError::Reported(s.clone())),
        Some(v) => Err(malformed(&format!("{what}.Error"), "a string", v)),
    }
}

/// A `FailedNodesMap`, restricted to the nodes of the request.
fn failed_map(
    obj: &Map<String, Value>,
    key: &str,
    by_name: &BTreeMap<&str, NodeId>,
) -> Result<BTreeMap<NodeId, String>, WireError> {
    let mut out = BTreeMap::new();
    let Some(v) = field(obj, key) else {
        return Ok(out);
    };
    let what = format!("ExtenderFilterResult.{key}");
    for (name, msg) in as_object(v, &what)? {
        let msg = match msg {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => return Err(malformed(&format!("{what}[{name:?}]"), "a string", other)),
        };
        if let Some(id) = by_name.get(name.as_str()) {
            out.insert(*id, msg);
        }
    }
    Ok(out)
}

/// Decodes an `ExtenderFilterResult` for a request over `nodes`. Upstream
/// reads `NodeNames` when the extender is node-cache capable and set, else
/// `Nodes`; neither means no feasible node.
pub fn parse_filter_result(
    reply: &Value,
    nodes: &[NodeId],
    view: &ClusterView,
    node_cache_capable: bool,
) -> Result<FilterResult, WireError> {
    const WHAT: &str = "ExtenderFilterResult";
    let obj = as_object(reply, WHAT)?;
    error_field(obj, WHAT)?;
    let by_name: BTreeMap<&str, NodeId> =
        nodes.iter().map(|n| (view.node(*n).name(), *n)).collect();
    let mut names: Vec<&str> = Vec::new();
    if let (true, Some(v)) = (node_cache_capable, field(obj, "NodeNames")) {
        let arr = v
            .as_array()
            .ok_or_else(|| malformed("ExtenderFilterResult.NodeNames", "an array", v))?;
        for (i, n) in arr.iter().enumerate() {
            names.push(n.as_str().ok_or_else(|| {
                malformed(
                    &format!("ExtenderFilterResult.NodeNames[{i}]"),
                    "a string",
                    n,
                )
            })?);
        }
    } else if let Some(v) = field(obj, "Nodes") {
        let list = as_object(v, "ExtenderFilterResult.Nodes")?;
        if let Some(items) = field(list, "items") {
            let arr = items
                .as_array()
                .ok_or_else(|| malformed("ExtenderFilterResult.Nodes.items", "an array", items))?;
            for (i, item) in arr.iter().enumerate() {
                let what = format!("ExtenderFilterResult.Nodes.items[{i}]");
                let item = as_object(item, &what)?;
                let meta = field(item, "metadata")
                    .ok_or_else(|| WireError::Malformed(format!("{what} has no metadata.name")))?;
                let meta = as_object(meta, &format!("{what}.metadata"))?;
                let name = field(meta, "name")
                    .ok_or_else(|| WireError::Malformed(format!("{what} has no metadata.name")))?;
                names.push(name.as_str().ok_or_else(|| {
                    malformed(&format!("{what}.metadata.name"), "a string", name)
                })?);
            }
        }
    }
    let mut seen = BTreeSet::new();
    let mut feasible = Vec::with_capacity(names.len());
    for n in names {
        let id = *by_name
            .get(n)
            .ok_or_else(|| WireError::UnknownNode(n.to_string()))?;
        if seen.insert(id) {
            feasible.push(id);
        }
    }
    Ok(FilterResult {
        feasible,
        failed: failed_map(obj, "FailedNodes", &by_name)?,
        failed_unresolvable: failed_map(obj, "FailedAndUnresolvableNodes", &by_name)?,
    })
}

/// Decodes a `HostPriorityList` for a request over `nodes`: hosts not in
/// the request are dropped, scores clamped to `0..=MAX_EXTENDER_PRIORITY`.
pub fn parse_host_priority_list(
    reply: &Value,
    nodes: &[NodeId],
    view: &ClusterView,
) -> Result<Vec<(NodeId, i64)>, String> {
    let malformed =
        |w: &str, want: &str, v: &Value| format!("{w} must be {want}, got {}", kind_of(v));
    let arr = match reply {
        Value::Null => return Ok(Vec::new()),
        Value::Array(a) => a,
        other => return Err(malformed("HostPriorityList", "an array", other)),
    };
    let by_name: BTreeMap<&str, NodeId> =
        nodes.iter().map(|n| (view.node(*n).name(), *n)).collect();
    let mut out = Vec::with_capacity(arr.len());
    for (i, hp) in arr.iter().enumerate() {
        let what = format!("HostPriorityList[{i}]");
        let obj = hp
            .as_object()
            .ok_or_else(|| malformed(&what, "a JSON object", hp))?;
        let host = match field(obj, "Host") {
            None => "",
            Some(Value::String(s)) => s.as_str(),
            Some(v) => return Err(malformed(&format!("{what}.Host"), "a string", v)),
        };
        let score = match field(obj, "Score") {
            None => 0,
            Some(v) => v.as_i64().ok_or_else(|| {
                format!(
                    "{what}.Score must be an integer (int64), got {}",
                    if v.is_number() {
                        v.to_string()
                    } else {
                        kind_of(v).to_string()
                    }
                )
            })?,
        };
        if let Some(id) = by_name.get(host) {
            out.push((*id, score.clamp(0, MAX_EXTENDER_PRIORITY)));
        }
    }
    Ok(out)
}

/// Decodes an `ExtenderBindingResult`.
pub fn parse_binding_result(reply: &Value) -> Result<(), WireError> {
    const WHAT: &str = "ExtenderBindingResult";
    error_field(as_object(reply, WHAT)?, WHAT)
}

/// The start of a reply, for error messages.
pub fn snippet(bytes: &[u8]) -> String {
    const MAX: usize = 120;
    let s = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX)]);
    let s = s.trim_end_matches(['\n', '\r']);
    if bytes.len() > MAX {
        format!("{s:?}…")
    } else {
        format!("{s:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_quotes() {
        let c = |v: &[&str]| command_line(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(c(&["python3", "x.py"]), "python3 x.py");
        assert_eq!(
            c(&["python3", "-c", "import time; time.sleep(1)"]),
            "python3 -c 'import time; time.sleep(1)'"
        );
        assert_eq!(c(&["a'b"]), r"'a'\''b'");
    }

    #[test]
    fn field_lookup_is_case_insensitive_and_null_is_absent() {
        let v = json!({"nodenames": ["a"], "Error": null, "FailedNodes": {}});
        let o = v.as_object().unwrap();
        assert!(field(o, "NodeNames").is_some());
        assert!(field(o, "Error").is_none());
        assert!(error_field(o, "X").is_ok());
        let v = json!({"Error": 3});
        assert!(matches!(
            error_field(v.as_object().unwrap(), "X"),
            Err(WireError::Malformed(_))
        ));
    }

    #[test]
    fn resource_lists_are_quantity_strings() {
        let mut r = Resources::new(1500, 128 << 20);
        r.set("nvidia.com/gpu", 2);
        r.pods = 110;
        assert_eq!(
            resource_list(&r),
            json!({"cpu": "1500m", "memory": "128Mi", "pods": "110", "nvidia.com/gpu": "2"})
        );
        assert_eq!(resource_list(&Resources::new(2000, 0)), json!({"cpu": "2"}));
    }

    #[test]
    fn binding_result() {
        assert_eq!(parse_binding_result(&json!({})), Ok(()));
        assert_eq!(parse_binding_result(&json!({"Error": ""})), Ok(()));
        assert_eq!(
            parse_binding_result(&json!({"Error": "no"})),
            Err(WireError::Reported("no".into()))
        );
        assert!(matches!(
            parse_binding_result(&json!([])),
            Err(WireError::Malformed(_))
        ));
    }
}
