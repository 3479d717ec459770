//! The EndpointSlice controller (upstream pkg/controller/endpointslice and
//! staging/src/k8s.io/endpointslice, v1.35): keeps each Service's
//! endpoints — the pods its selector matches — with upstream's
//! `ready` / `serving` / `terminating` conditions.
//!
//! Rules, after `syncService`, `ShouldPodBeInEndpoints` (util) and
//! `podToEndpoint` (utils.go):
//! - ExternalName Services and Services without a selector get no
//!   endpoints (an empty `selector: {}` is treated as none: the API server
//!   stores it as absent);
//! - a pod is an endpoint when its labels match, it is in the Service's
//!   namespace, not terminal (Succeeded / Failed), and has an address: in
//!   kubesim, bound to a node that is still in the cluster (the pod IP is
//!   assigned by the kubelet on that node). Terminating pods are included
//!   (`includeTerminating` is always true since v1.26);
//! - `serving` = the pod's Ready condition; `terminating` = the pod has a
//!   deletionTimestamp; `ready` = `publishNotReadyAddresses || (serving &&
//!   !terminating)`.
//!
//! A Service is resynced when a pod its selector matches changes
//! (`cluster::workloads::workloads_pod_changed`), like upstream's pod
//! event handlers. kubesim keeps one endpoint list per Service (in
//! [`Service::endpoints`]) rather than slices of at most 100 endpoints;
//! a change logs an `EndpointsChanged` event.
//!
//! Deviation: a terminating pod keeps its Ready condition (so stays
//! `serving`) until its containers stop, as the kubelet reports it when no
//! readiness probe fails during shutdown; kubesim does not run readiness
//! probes during termination.

use super::{Api, Controller, WorkloadBody, WorkloadId, WorkloadKind};
use crate::model::pod::PodPhase;
use crate::model::service::{Endpoint, Service, ServiceType};
use crate::model::{Node, Pod};

pub struct EndpointSliceController;

impl Controller for EndpointSliceController {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::Service
    }
    fn sync(&self, api: &mut dyn Api, id: WorkloadId) {
        sync_service(api, id);
    }
}

/// The pod's Ready condition as the API shows it (`podutil.IsPodReady`):
/// unlike [`Pod::is_ready`] it stays true while the pod terminates, until
/// its containers stop.
pub fn pod_ready_condition(p: &Pod) -> bool {
    p.phase() == PodPhase::Running && p.status.ready_since.is_some()
}

/// Whether the Service selects `pod` (same namespace checked by the
/// caller): a selector is set, not empty, and matches.
pub fn selects(svc: &Service, pod: &Pod) -> bool {
    svc.type_ != ServiceType::ExternalName
        && svc
            .parsed_selector
            .as_ref()
            .is_some_and(|s| !s.is_empty() && s.matches(&pod.meta.labels))
}

/// Upstream `ShouldPodBeInEndpoints(pod, includeTerminating=true)` plus
/// the reconciler's node lookup: not terminal, has an address (bound to a
/// node still in the cluster).
pub fn should_pod_be_in_endpoints(p: &Pod, nodes: &[Node]) -> bool {
    if p.phase().is_terminal() {
        return false;
    }
    p.status
        .node
        .and_then(|n| nodes.get(n.0 as usize))
        .is_some_and(|n| n.present)
}

/// Upstream `podToEndpoint`'s conditions.
pub fn pod_to_endpoint(svc: &Service, p: &Pod, node: &str) -> Endpoint {
    let serving = pod_ready_condition(p);
    let terminating = p.is_terminating();
    Endpoint {
        pod: p.meta.name.clone(),
        node: node.to_string(),
        ready: svc.publish_not_ready_addresses || (serving && !terminating),
        serving,
        terminating,
    }
}

/// The endpoints of Service `svc` in `namespace` now, in pod name order.
pub fn compute_endpoints(api: &dyn Api, namespace: &str, svc: &Service) -> Vec<Endpoint> {
    if svc.type_ == ServiceType::ExternalName || svc.parsed_selector.is_none() {
        return Vec::new();
    }
    let nodes = api.nodes();
    let mut v = Vec::new();
    for id in api.pods_in_namespace(namespace) {
        let p = api.pod(id);
        if !selects(svc, p) || !should_pod_be_in_endpoints(p, nodes) {
            continue;
        }
        let node = p
            .status
            .node
            .and_then(|n| nodes.get(n.0 as usize))
            .map(|n| n.meta.name.as_str())
            .unwrap_or_default();
        v.push(pod_to_endpoint(svc, p, node));
    }
    v
}

fn sync_service(api: &mut dyn Api, id: WorkloadId) {
    let w = api.store().get(id);
    let Some(svc) = w.service() else { return };
    let ns = w.meta.namespace.clone();
    let eps = compute_endpoints(api, &ns, svc);
    if eps == svc.endpoints {
        return;
    }
    let msg = format!(
        "{} endpoints ready={} serving={} terminating={} total={}",
        w.describe(),
        eps.iter().filter(|e| e.ready).count(),
        eps.iter().filter(|e| e.serving).count(),
        eps.iter().filter(|e| e.terminating).count(),
        eps.len()
    );
    if let WorkloadBody::Service(s) = &mut api.store_mut().get_mut(id).body {
        s.endpoints = eps;
    }
    api.record("EndpointsChanged", None, &msg);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimTime;
    use crate::model::{Labels, ObjectMeta, Selector};

    fn svc(pnra: bool) -> Service {
        let mut l = Labels::new();
        l.insert("app".into(), "web".into());
        Service {
            type_: ServiceType::ClusterIP,
            parsed_selector: Some(Selector::from_set(&l)),
            selector: Some(l),
            ports: Vec::new(),
            publish_not_ready_addresses: pnra,
            headless: false,
            external_name: None,
            endpoints: Vec::new(),
        }
    }

    fn pod(ready: bool, terminating: bool) -> Pod {
        let meta = ObjectMeta {
            name: "p".into(),
            ..Default::default()
        };
        let mut p = Pod::new(meta, Default::default(), Default::default());
        p.meta.labels.insert("app".into(), "web".into());
        p.status.phase = Some(PodPhase::Running);
        if ready {
            p.status.ready_since = Some(SimTime(1));
        }
        if terminating {
            p.meta.deletion_timestamp = Some(SimTime(2));
        }
        p
    }

    /// Upstream utils_test.go TestPodToEndpoint's condition cases.
    #[test]
    fn conditions_follow_pod_to_endpoint() {
        // (publishNotReady, pod ready, terminating) -> (ready, serving, terminating)
        let cases = [
            (false, true, false, (true, true, false)),
            (false, false, false, (false, false, false)),
            (true, false, false, (true, false, false)),
            (false, true, true, (false, true, true)),
            (false, false, true, (false, false, true)),
            (true, true, true, (true, true, true)),
            (true, false, true, (true, false, true)),
        ];
        for (pnra, ready, term, want) in cases {
            let e = pod_to_endpoint(&svc(pnra), &pod(ready, term), "n");
            assert_eq!(
                (e.ready, e.serving, e.terminating),
                want,
                "pnra={pnra} ready={ready} term={term}"
            );
        }
    }

    #[test]
    fn selection_needs_a_selector_and_not_external_name() {
        let p = pod(true, false);
        assert!(selects(&svc(false), &p));
        let mut s = svc(false);
        s.type_ = ServiceType::ExternalName;
        assert!(!selects(&s, &p));
        let mut s = svc(false);
        s.parsed_selector = None;
        assert!(!selects(&s, &p));
        let mut s = svc(false);
        s.parsed_selector = Some(Selector::from_set(&Labels::new()));
        assert!(!selects(&s, &p));
        let mut q = p.clone();
        q.meta.labels.insert("app".into(), "db".into());
        assert!(!selects(&svc(false), &q));
    }

    #[test]
    fn terminal_and_unbound_pods_are_not_endpoints() {
        let mut p = pod(true, false);
        assert!(!should_pod_be_in_endpoints(&p, &[]), "unbound");
        p.status.phase = Some(PodPhase::Succeeded);
        assert!(!should_pod_be_in_endpoints(&p, &[]));
    }
}
