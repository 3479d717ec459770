//! Decoding and validation of Service manifests (core/v1), with
//! upstream's defaults (`SetDefaults_Service`: type ClusterIP, protocol
//! TCP, targetPort = port) and the rules of `ValidateService` /
//! `validateServicePort` (pkg/apis/core/validation/validation.go) that
//! kubesim's model needs, plus the API server's node-port range check
//! (pkg/registry/core/service/portallocator, default 30000-32767).
//!
//! Deviations: errors upstream reports on the derived `spec.clusterIPs[0]`
//! are reported on `spec.clusterIP`, the field the manifest holds;
//! `sessionAffinity`, `externalTrafficPolicy`, `internalTrafficPolicy`,
//! `ipFamilyPolicy` and `appProtocol` are accepted and ignored; node ports
//! are not checked for collisions between Services.

use serde::Deserialize;

use super::convert::{convert_meta, Doc};
use super::manifest::{ObjectMetaM, Scalar};
use super::yaml::{child_path, Node as YNode};
use crate::controllers::{Workload, WorkloadBody};
use crate::model::labels::validate_labels;
use crate::model::service::{Service, ServicePort, ServiceType, NODE_PORT_MAX, NODE_PORT_MIN};
use crate::model::{Labels, Selector};

#[derive(Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
struct ServiceM {
    api_version: Option<String>,
    #[allow(dead_code)]
    kind: Option<String>,
    #[serde(default)]
    metadata: ObjectMetaM,
    #[serde(default)]
    spec: ServiceSpecM,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
struct ServiceSpecM {
    #[serde(rename = "type")]
    type_: Option<String>,
    selector: Option<Labels>,
    #[serde(default)]
    ports: Vec<ServicePortM>,
    #[serde(rename = "clusterIP")]
    cluster_ip: Option<String>,
    publish_not_ready_addresses: Option<bool>,
    external_name: Option<String>,
    #[allow(dead_code)]
    session_affinity: Option<String>,
    #[allow(dead_code)]
    external_traffic_policy: Option<String>,
    #[allow(dead_code)]
    internal_traffic_policy: Option<String>,
    #[allow(dead_code)]
    ip_family_policy: Option<String>,
}

#[derive(Deserialize, Debug, Clone, Default)]
#[serde(rename_all = "camelCase")]
struct ServicePortM {
    name: Option<String>,
    protocol: Option<String>,
    port: Option<i64>,
    target_port: Option<Scalar>,
    node_port: Option<i64>,
    #[allow(dead_code)]
    app_protocol: Option<String>,
}

/// Upstream `validation.IsValidPortNum`'s message.
const PORT_RANGE_MSG: &str = "must be between 1 and 65535, inclusive";

/// Upstream `validation.IsValidPortName`: the reasons `s` is not an
/// IANA_SVC_NAME (empty when valid).
pub fn port_name_errors(s: &str) -> Vec<&'static str> {
    let mut v = Vec::new();
    if s.len() > 15 {
        v.push("must be no more than 15 characters");
    }
    if !s
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        v.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
    }
    if !s.bytes().any(|c| c.is_ascii_lowercase()) {
        v.push("must contain at least one letter (a-z)");
    }
    if s.contains("--") {
        v.push("must not contain consecutive hyphens");
    }
    if s.starts_with('-') || s.ends_with('-') {
        v.push("must not begin or end with a hyphen");
    }
    v
}

/// Upstream `IsDNS1035Label` (Service names): `[a-z]([-a-z0-9]*[a-z0-9])?`,
/// at most 63 characters.
pub fn is_dns1035_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[b.len() - 1] != b'-'
}

fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// Converts a Service manifest at `base`.
pub(super) fn convert(doc: &mut Doc, node: &YNode, base: &str) -> Option<Box<Workload>> {
    let m: ServiceM = doc.decode(node, base)?;
    let avp = child_path(base, "apiVersion");
    match m.api_version.as_deref() {
        None => doc.err(&avp, "required: expected \"v1\""),
        Some("v1") => {}
        Some(g) => doc.err(&avp, format!("expected \"v1\", found {g:?}")),
    }
    let meta = convert_meta(doc, &m.metadata, base, true)?;
    let mut ok = true;
    if m.metadata.name.is_some() && !is_dns1035_label(&meta.name) {
        doc.err(
            &child_path(base, "metadata.name"),
            format!("Invalid value: {:?}: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')", meta.name),
        );
        ok = false;
    }
    let sp = child_path(base, "spec");
    let s = &m.spec;
    let type_ = match s.type_.as_deref() {
        None => ServiceType::ClusterIP,
        Some(t) => match ServiceType::parse(t) {
            Some(t) => t,
            None => {
                doc.err(
                    &child_path(&sp, "type"),
                    format!("Unsupported value: {t:?}: supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""),
                );
                return None;
            }
        },
    };
    let cip = child_path(&sp, "clusterIP");
    let headless = s.cluster_ip.as_deref() == Some("None");
    match type_ {
        ServiceType::NodePort | ServiceType::LoadBalancer if headless => {
            doc.err(
                &cip,
                format!(
                    "Invalid value: \"None\": may not be set to 'None' for {} services",
                    type_.as_str()
                ),
            );
            ok = false;
        }
        ServiceType::ExternalName => {
            if s.cluster_ip.as_deref().is_some_and(|c| !c.is_empty()) {
                doc.err(&cip, "Forbidden: may not be set for ExternalName services");
                ok = false;
            }
            let en = s.external_name.as_deref().unwrap_or("");
            let cname = en.strip_suffix('.').unwrap_or(en);
            let ep = child_path(&sp, "externalName");
            if cname.is_empty() {
                doc.err(&ep, "Required value");
                ok = false;
            } else if !super::convert::is_dns_subdomain(cname) {
                doc.err(
                    &ep,
                    format!("Invalid value: {cname:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"),
                );
                ok = false;
            }
        }
        _ => {}
    }
    if s.ports.is_empty() && !headless && type_ != ServiceType::ExternalName {
        doc.err(&child_path(&sp, "ports"), "Required value");
        ok = false;
    }
    let pp = child_path(&sp, "ports");
    let mut ports = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut seen_ports: Vec<(String, i32)> = Vec::new();
    let mut seen_node_ports: Vec<(String, i32)> = Vec::new();
    for (i, p) in s.ports.iter().enumerate() {
        let ip = format!("{pp}[{i}]");
        let name = p.name.clone().unwrap_or_default();
        if s.ports.len() > 1 && name.is_empty() {
            doc.err(&child_path(&ip, "name"), "Required value");
            ok = false;
        } else if !name.is_empty() {
            if !is_dns1123_label(&name) {
                doc.err(
                    &child_path(&ip, "name"),
                    format!("Invalid value: {name:?}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"),
                );
                ok = false;
            }
            if names.contains(&name) {
                doc.err(
                    &child_path(&ip, "name"),
                    format!("Duplicate value: {name:?}"),
                );
                ok = false;
            } else {
                names.push(name.clone());
            }
        }
        let port = match p.port {
            None => {
                doc.err(&child_path(&ip, "port"), "Required value");
                ok = false;
                0
            }
            Some(n) if !(1..=65535).contains(&n) => {
                doc.err(
                    &child_path(&ip, "port"),
                    format!("Invalid value: {n}: {PORT_RANGE_MSG}"),
                );
                ok = false;
                0
            }
            Some(n) => n as i32,
        };
        let protocol = p.protocol.clone().unwrap_or_else(|| "TCP".to_string());
        if !["SCTP", "TCP", "UDP"].contains(&protocol.as_str()) {
            doc.err(
                &child_path(&ip, "protocol"),
                format!(
                    "Unsupported value: {protocol:?}: supported values: \"SCTP\", \"TCP\", \"UDP\""
                ),
            );
            ok = false;
        }
        // SetDefaults_Service: an absent or zero targetPort is the port.
        let target_port = match &p.target_port {
            None => port.to_string(),
            Some(Scalar(t)) if t.is_empty() || t == "0" => port.to_string(),
            Some(Scalar(t)) => {
                let tp = child_path(&ip, "targetPort");
                match t.parse::<i64>() {
                    Ok(n) if !(1..=65535).contains(&n) => {
                        doc.err(&tp, format!("Invalid value: {n}: {PORT_RANGE_MSG}"));
                        ok = false;
                    }
                    Ok(_) => {}
                    Err(_) => {
                        for msg in port_name_errors(t) {
                            doc.err(&tp, format!("Invalid value: {t:?}: {msg}"));
                            ok = false;
                        }
                    }
                }
                t.clone()
            }
        };
        if seen_ports.contains(&(protocol.clone(), port)) && port != 0 {
            doc.err(
                &ip,
                format!("Duplicate value: {{port: {port}, protocol: {protocol}}}"),
            );
            ok = false;
        }
        seen_ports.push((protocol.clone(), port));
        let node_port = match p.node_port {
            None | Some(0) => None,
            Some(n) => {
                let np = child_path(&ip, "nodePort");
                if type_ == ServiceType::ClusterIP {
                    doc.err(&np, "Forbidden: may not be used when `type` is 'ClusterIP'");
                    ok = false;
                } else if type_ == ServiceType::ExternalName {
                    doc.err(
                        &np,
                        "Forbidden: may not be used when `type` is 'ExternalName'",
                    );
                    ok = false;
                } else if !(i64::from(NODE_PORT_MIN)..=i64::from(NODE_PORT_MAX)).contains(&n) {
                    doc.err(
                        &np,
                        format!("Invalid value: {n}: provided port is not in the valid range. The range of valid ports is {NODE_PORT_MIN}-{NODE_PORT_MAX}"),
                    );
                    ok = false;
                } else if seen_node_ports.contains(&(protocol.clone(), n as i32)) {
                    doc.err(&np, format!("Duplicate value: {n}"));
                    ok = false;
                } else {
                    seen_node_ports.push((protocol.clone(), n as i32));
                }
                Some(n as i32)
            }
        };
        ports.push(ServicePort {
            name,
            protocol,
            port,
            target_port,
            node_port,
        });
    }
    let selp = child_path(&sp, "selector");
    for (k, e) in validate_labels(s.selector.as_ref().unwrap_or(&Labels::new())) {
        doc.err(&child_path(&selp, &k), format!("Invalid value: {e}"));
        ok = false;
    }
    if type_ == ServiceType::ExternalName && s.selector.as_ref().is_some_and(|l| !l.is_empty()) {
        doc.warn(&selp, "ignored: ExternalName Services get no endpoints");
    }
    if !ok {
        return None;
    }
    let selector = s.selector.clone().filter(|l| !l.is_empty());
    Some(Box::new(Workload::new(
        meta,
        WorkloadBody::Service(Box::new(Service {
            type_,
            parsed_selector: selector.as_ref().map(Selector::from_set),
            selector,
            ports,
            publish_not_ready_addresses: s.publish_not_ready_addresses.unwrap_or(false),
            headless,
            external_name: s.external_name.clone(),
            endpoints: Vec::new(),
        })),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Upstream validation_test.go TestValidatePortNumOrName's name cases.
    #[test]
    fn port_names() {
        assert!(port_name_errors("http").is_empty());
        assert!(port_name_errors("web-8080").is_empty());
        assert!(!port_name_errors("8080").is_empty());
        assert!(!port_name_errors("a--b").is_empty());
        assert!(!port_name_errors("-http").is_empty());
        assert!(!port_name_errors("Http").is_empty());
        assert!(!port_name_errors("abcdefghijklmnop").is_empty());
    }

    #[test]
    fn service_names_are_dns1035_labels() {
        assert!(is_dns1035_label("web"));
        assert!(is_dns1035_label("a-1"));
        assert!(!is_dns1035_label("1web"));
        assert!(!is_dns1035_label("web-"));
        assert!(!is_dns1035_label("web.x"));
    }
}
