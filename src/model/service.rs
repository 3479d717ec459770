//! Services (core/v1) as plain data: type, selector, ports, headless and
//! `publishNotReadyAddresses`, and the endpoint state the EndpointSlice
//! controller keeps for each (`crate::controllers::endpointslice`).

use super::labels::Labels;
use super::selector::Selector;

/// Lowest `nodePort` of the default service node port range
/// (kube-apiserver `--service-node-port-range`, default 30000-32767).
pub const NODE_PORT_MIN: i32 = 30000;
/// Highest `nodePort` of the default range.
pub const NODE_PORT_MAX: i32 = 32767;

/// `spec.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ServiceType {
    #[default]
    ClusterIP,
    NodePort,
    LoadBalancer,
    ExternalName,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
            ServiceType::ExternalName => "ExternalName",
        }
    }
    pub fn parse(s: &str) -> Option<ServiceType> {
        [
            ServiceType::ClusterIP,
            ServiceType::NodePort,
            ServiceType::LoadBalancer,
            ServiceType::ExternalName,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// One entry of `spec.ports`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePort {
    pub name: String,
    /// `TCP` (default), `UDP` or `SCTP`.
    pub protocol: String,
    pub port: i32,
    /// `targetPort` as written (a number or a container port name);
    /// defaults to `port`.
    pub target_port: String,
    /// `nodePort` when given (NodePort and LoadBalancer Services).
    pub node_port: Option<i32>,
}

/// One endpoint of a Service: a pod selected by it, with upstream's
/// EndpointSlice conditions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub pod: String,
    pub node: String,
    pub ready: bool,
    pub serving: bool,
    pub terminating: bool,
}

/// A Service and its endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub type_: ServiceType,
    /// `spec.selector` (`None` or empty: the Service gets no endpoints
    /// from the controller).
    pub selector: Option<Labels>,
    pub parsed_selector: Option<Selector>,
    pub ports: Vec<ServicePort>,
    pub publish_not_ready_addresses: bool,
    /// `clusterIP: None`.
    pub headless: bool,
    pub external_name: Option<String>,
    /// The endpoints the EndpointSlice controller computed last, in pod
    /// name order.
    pub endpoints: Vec<Endpoint>,
}

impl Service {
    /// Endpoints with `ready: true` (what kube-proxy routes to).
    pub fn ready_endpoints(&self) -> usize {
        self.endpoints.iter().filter(|e| e.ready).count()
    }
}
