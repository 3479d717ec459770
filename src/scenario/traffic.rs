//! Decoding of Service traffic (docs/traffic.md): `kubesim.dev/traffic-*`
//! annotations on time-zero Services and `spec.traffic` entries of the
//! Scenario (an entry starts from the Service's annotations, if any, and
//! overrides the fields it gives). Values use the text syntax of
//! [`crate::traffic::spec`]; errors point at the annotation or field.

use std::collections::BTreeMap;
use std::path::Path;

use super::convert::Doc;
use super::manifest::TrafficM;
use super::yaml::{child_path, index_path};
use super::{Action, Object, Scenario, ServiceTraffic};

use crate::controllers::WorkloadKind;
use crate::engine::Duration;
use crate::traffic::spec::{parse_load, WorkDist};
use crate::traffic::{ArrivalKind, Policy, TrafficSpec};

/// Annotation prefix of the traffic fields (`kubesim.dev/traffic-load`, …).
pub const ANN_TRAFFIC_PREFIX: &str = "kubesim.dev/traffic-";
/// The latency objective annotation.
pub const ANN_SLO_LATENCY: &str = "kubesim.dev/slo-latency";

/// Applies one field (`load`, `arrivals`, `work`, `timeout`,
/// `concurrency`, `policy`, `slo-latency`) to `spec`.
fn apply(spec: &mut TrafficSpec, key: &str, v: &str, base: &Path) -> Result<(), String> {
    let dur = |v: &str| -> Result<Duration, String> {
        match Duration::parse(v)? {
            d if d == Duration::ZERO => Err("must be greater than zero".into()),
            d => Ok(d),
        }
    };
    match key {
        "load" => spec.load = parse_load(v, base)?,
        "arrivals" => {
            spec.arrivals = ArrivalKind::parse(v.trim()).ok_or_else(|| {
                format!("unsupported value {v:?}: supported values: \"poisson\", \"deterministic\"")
            })?
        }
        "work" => spec.work = WorkDist::parse(v)?,
        "timeout" => spec.timeout = Some(dur(v)?),
        "slo-latency" => spec.slo = Some(dur(v)?),
        "concurrency" => match v.trim().parse::<u32>() {
            Ok(n) if n > 0 => spec.concurrency = Some(n),
            _ => return Err(format!("invalid concurrency {v:?}: expected a positive integer")),
        },
        "policy" => {
            spec.policy = Policy::parse(v.trim()).ok_or_else(|| {
                format!("unsupported value {v:?}: supported values: \"random\", \"round-robin\", \"least-requests\"")
            })?
        }
        _ => return Err(format!("unknown traffic field {key:?}")),
    }
    Ok(())
}

/// The traffic a Service's annotations declare (`None`: none, or an error
/// was reported).
pub(super) fn from_annotations(
    doc: &mut Doc,
    ann: &BTreeMap<String, String>,
    base_path: &str,
    base: &Path,
) -> Option<TrafficSpec> {
    let ap = child_path(&child_path(base_path, "metadata"), "annotations");
    let fields: Vec<(&str, &String, String)> = ann
        .iter()
        .filter_map(|(k, v)| {
            let f = if k == ANN_SLO_LATENCY {
                Some("slo-latency")
            } else {
                k.strip_prefix(ANN_TRAFFIC_PREFIX)
            };
            f.map(|f| (f, v, child_path(&ap, k)))
        })
        .collect();
    if fields.is_empty() {
        return None;
    }
    if !fields.iter().any(|(f, _, _)| *f == "load") {
        let (_, _, p) = &fields[0];
        doc.err(
            p,
            "traffic annotations need kubesim.dev/traffic-load (the offered load)",
        );
        return None;
    }
    let mut spec = TrafficSpec::default();
    let mut ok = true;
    for (f, v, p) in fields {
        if let Err(e) = apply(&mut spec, f, v, base) {
            doc.err(&p, e);
            ok = false;
        }
    }
    ok.then_some(spec)
}

/// Whether a workload object is a Service with traffic annotations.
pub(super) fn declares_traffic(w: &crate::controllers::Workload) -> bool {
    w.kind() == WorkloadKind::Service
        && w.meta
            .annotations
            .keys()
            .any(|k| k.starts_with(ANN_TRAFFIC_PREFIX) || k == ANN_SLO_LATENCY)
}

/// Applies `spec.traffic` entries.
pub(super) fn from_spec(doc: &mut Doc, entries: &[TrafficM], sc: &mut Scenario, base: &Path) {
    for (i, e) in entries.iter().enumerate() {
        let path = index_path("spec.traffic", i);
        let Some(svc) = &e.service else {
            doc.err(
                &child_path(&path, "service"),
                "required: the Service's name (or namespace/name)",
            );
            continue;
        };
        let (ns, name) = match svc.split_once('/') {
            Some((a, b)) => (a.to_string(), b.to_string()),
            None => ("default".to_string(), svc.clone()),
        };
        if !service_declared(sc, &ns, &name) {
            doc.err(
                &child_path(&path, "service"),
                format!("no Service {ns}/{name} in this scenario"),
            );
            continue;
        }
        let pos = sc
            .traffic
            .iter()
            .position(|t| t.namespace == ns && t.name == name);
        let mut spec = pos.map(|p| sc.traffic[p].spec.clone()).unwrap_or_default();
        let mut ok = true;
        let mut has_load = pos.is_some();
        for (key, field, v) in [
            ("load", "load", &e.load),
            ("arrivals", "arrivals", &e.arrivals),
            ("work", "work", &e.work),
            ("timeout", "timeout", &e.timeout),
            ("concurrency", "concurrency", &e.concurrency),
            ("policy", "policy", &e.policy),
            ("slo-latency", "sloLatency", &e.slo_latency),
        ] {
            let Some(v) = v else { continue };
            if key == "load" {
                has_load = true;
            }
            if let Err(m) = apply(&mut spec, key, &v.0, base) {
                doc.err(&child_path(&path, field), m);
                ok = false;
            }
        }
        if !has_load {
            doc.err(&child_path(&path, "load"), "required: the offered load");
            ok = false;
        }
        if !ok {
            continue;
        }
        let t = ServiceTraffic {
            namespace: ns,
            name,
            spec,
        };
        match pos {
            Some(p) => sc.traffic[p] = t,
            None => sc.traffic.push(t),
        }
    }
}

fn service_declared(sc: &Scenario, ns: &str, name: &str) -> bool {
    let is = |o: &Object| {
        matches!(o, Object::Workload(w) if w.kind() == WorkloadKind::Service
            && w.meta.namespace == ns && w.meta.name == name)
    };
    sc.objects.iter().any(is)
        || sc
            .timeline
            .iter()
            .any(|a| matches!(&a.action, Action::Apply(o) if is(o)))
}
