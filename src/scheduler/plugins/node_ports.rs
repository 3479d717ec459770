//! NodePorts (PreFilter, Filter): a pod's host ports must be free on the
//! node (upstream plugins/nodeports). Two ports conflict when protocol and
//! port match and either host IP is the wildcard `0.0.0.0` or both are equal.

use crate::model::node::host_ports;
use crate::model::pod::RestartPolicy;
use crate::model::{Node, Pod};
use crate::scheduler::framework::{
    ClusterView, CycleState, Plugin, Point, PreFilterOutcome, Status,
};

pub const ERR_REASON: &str = "node(s) didn't have free ports for the requested pod ports";
const STATE_KEY: &str = "PreFilterNodePorts";

pub struct NodePorts;

/// Whether `wanted` (protocol, ip, port) conflicts with anything in `used`.
pub fn fits_ports<'a>(
    wanted: &[(String, String, i32)],
    used: impl IntoIterator<Item = &'a (String, String, i32)> + Clone,
) -> bool {
    for (proto, ip, port) in wanted {
        for (uproto, uip, uport) in used.clone() {
            if uport == port
                && uproto == proto
                && (ip == "0.0.0.0" || uip == "0.0.0.0" || uip == ip)
            {
                return false;
            }
        }
    }
    true
}

/// Upstream `getContainerPorts` for the incoming pod: the host ports of
/// its containers, then of its restartable (sidecar) init containers, as
/// (protocol, hostIP with "" as `0.0.0.0`, hostPort).
pub fn wanted_ports(pod: &Pod) -> Vec<(String, String, i32)> {
    let sidecar_ports = pod
        .spec
        .init_containers
        .iter()
        .filter(|c| c.restart_policy == Some(RestartPolicy::Always))
        .flat_map(|c| c.ports.iter())
        .filter(|p| p.host_port > 0)
        .map(|p| {
            let ip = if p.host_ip.is_empty() {
                "0.0.0.0"
            } else {
                p.host_ip.as_str()
            };
            (p.protocol.clone(), ip.to_string(), p.host_port)
        });
    host_ports(pod).chain(sidecar_ports).collect()
}

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        "NodePorts"
    }
    fn events_to_register(&self) -> Option<&'static [crate::scheduler::hints::ClusterEvent]> {
        Some(super::queueing_hints::NODE_PORTS_EVENTS)
    }
    fn queueing_hint(
        &self,
        _pod_id: crate::model::PodId,
        pod: &crate::model::Pod,
        _event: &crate::scheduler::hints::ClusterEvent,
        change: &crate::scheduler::hints::Change,
        _view: &crate::scheduler::framework::ClusterView,
    ) -> crate::scheduler::hints::QueueingHint {
        super::queueing_hints::node_ports_hint(pod, change)
    }
    fn points(&self) -> &'static [Point] {
        &[Point::PreFilter, Point::Filter]
    }
    fn node_local(&self) -> bool {
        true
    }
    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, _: &ClusterView) -> PreFilterOutcome {
        let ports = wanted_ports(pod);
        if ports.is_empty() {
            return PreFilterOutcome::status(Status::skip());
        }
        state.write(STATE_KEY, ports);
        PreFilterOutcome::ok()
    }
    fn filter(&self, state: &CycleState, pod: &Pod, node: &Node, _: &ClusterView) -> Status {
        let owned;
        let wanted: &Vec<(String, String, i32)> = match state.read(STATE_KEY) {
            Some(w) => w,
            None => {
                owned = wanted_ports(pod);
                &owned
            }
        };
        if fits_ports(wanted, &node.used_ports) {
            Status::success()
        } else {
            Status::unschedulable(ERR_REASON)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(proto: &str, ip: &str, port: i32) -> (String, String, i32) {
        (proto.into(), ip.into(), port)
    }

    /// Cases from upstream node_ports_test.go `TestNodePorts`.
    #[test]
    fn port_conflicts() {
        // same port, same protocol, wildcard on either side
        assert!(!fits_ports(
            &[p("TCP", "0.0.0.0", 8080)],
            &[p("TCP", "127.0.0.1", 8080)]
        ));
        assert!(!fits_ports(
            &[p("TCP", "127.0.0.1", 8080)],
            &[p("TCP", "0.0.0.0", 8080)]
        ));
        // different host IPs, neither wildcard
        assert!(fits_ports(
            &[p("TCP", "127.0.0.1", 8080)],
            &[p("TCP", "127.0.0.2", 8080)]
        ));
        // different protocol
        assert!(fits_ports(
            &[p("UDP", "127.0.0.1", 8080)],
            &[p("TCP", "127.0.0.1", 8080)]
        ));
        // different port
        assert!(fits_ports(
            &[p("TCP", "0.0.0.0", 8001)],
            &[p("TCP", "0.0.0.0", 8080)]
        ));
        // same ip same port
        assert!(!fits_ports(
            &[p("UDP", "127.0.0.1", 8080)],
            &[p("UDP", "127.0.0.1", 8080)]
        ));
    }

    use crate::model::pod::ContainerPort;
    use crate::model::PodId;
    use crate::scheduler::framework::Code;
    use crate::scheduler::plugins::node_resources_fit::testutil::{
        container, node, pod_from_spec, spec, with_view,
    };
    use std::collections::BTreeMap;

    fn ports(infos: &[&str]) -> Vec<ContainerPort> {
        infos
            .iter()
            .map(|i| {
                let f: Vec<&str> = i.split('/').collect();
                ContainerPort {
                    container_port: 0,
                    host_port: f[2].parse().unwrap(),
                    protocol: f[0].into(),
                    host_ip: f[1].into(),
                }
            })
            .collect()
    }

    /// Upstream `newPod(host, "PROTO/IP/PORT"...)`: one container with
    /// those ports.
    fn new_pod(infos: &[&str]) -> Pod {
        let mut c = container("img", &[]);
        c.ports = ports(infos);
        pod_from_spec(spec(vec![c], vec![]))
    }

    /// `st.MakePod().InitContainerPort(sidecar, ports)`.
    fn init_port_pod(sidecar: bool, infos: &[&str]) -> Pod {
        let mut c = container("img", &[]);
        c.ports = ports(infos);
        if sidecar {
            c.restart_policy = Some(RestartPolicy::Always);
        }
        pod_from_spec(spec(vec![], vec![c]))
    }

    /// Upstream node_ports_test.go `TestNodePorts`: all 15 rows.
    /// `None` pre-filter means Success; a Skip pre-filter ends the row.
    #[test]
    fn node_ports_table() {
        type Case = (&'static str, Pod, Vec<&'static str>, bool, bool);
        // (name, pod, existing pod's ports, prefilter skip, filter fails)
        let cases: Vec<Case> = vec![
            ("skip filter", new_pod(&[]), vec![], true, false),
            (
                "other port",
                new_pod(&["UDP/127.0.0.1/8080"]),
                vec!["UDP/127.0.0.1/9090"],
                false,
                false,
            ),
            (
                "same udp port",
                new_pod(&["UDP/127.0.0.1/8080"]),
                vec!["UDP/127.0.0.1/8080"],
                false,
                true,
            ),
            (
                "same tcp port",
                new_pod(&["TCP/127.0.0.1/8080"]),
                vec!["TCP/127.0.0.1/8080"],
                false,
                true,
            ),
            (
                "different host ip",
                new_pod(&["TCP/127.0.0.1/8080"]),
                vec!["TCP/127.0.0.2/8080"],
                false,
                false,
            ),
            (
                "different protocol",
                new_pod(&["UDP/127.0.0.1/8080"]),
                vec!["TCP/127.0.0.1/8080"],
                false,
                false,
            ),
            (
                "second udp port conflict",
                new_pod(&["UDP/127.0.0.1/8000", "UDP/127.0.0.1/8080"]),
                vec!["UDP/127.0.0.1/8080"],
                false,
                true,
            ),
            (
                "first tcp port conflict",
                new_pod(&["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8080"]),
                vec!["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8081"],
                false,
                true,
            ),
            (
                "first tcp port conflict due to 0.0.0.0 hostIP",
                new_pod(&["TCP/0.0.0.0/8001"]),
                vec!["TCP/127.0.0.1/8001"],
                false,
                true,
            ),
            (
                "TCP hostPort conflict due to 0.0.0.0 hostIP",
                new_pod(&["TCP/10.0.10.10/8001", "TCP/0.0.0.0/8001"]),
                vec!["TCP/127.0.0.1/8001"],
                false,
                true,
            ),
            (
                "second tcp port conflict to 0.0.0.0 hostIP",
                new_pod(&["TCP/127.0.0.1/8001"]),
                vec!["TCP/0.0.0.0/8001"],
                false,
                true,
            ),
            (
                "second different protocol",
                new_pod(&["UDP/127.0.0.1/8001"]),
                vec!["TCP/0.0.0.0/8001"],
                false,
                false,
            ),
            (
                "UDP hostPort conflict due to 0.0.0.0 hostIP",
                new_pod(&["UDP/127.0.0.1/8001"]),
                vec!["TCP/0.0.0.0/8001", "UDP/0.0.0.0/8001"],
                false,
                true,
            ),
            (
                "non-sidecar initContainer using hostPort",
                init_port_pod(false, &["TCP//8001"]),
                vec!["TCP/0.0.0.0/8001"],
                true,
                false,
            ),
            (
                "TCP hostPort conflict from sidecar initContainer",
                init_port_pod(true, &["TCP//8001"]),
                vec!["TCP/0.0.0.0/8001"],
                false,
                true,
            ),
        ];
        for (name, pod, existing, want_skip, want_fail) in cases {
            let mut n = node("m1", &[]);
            if !existing.is_empty() {
                n.add_pod(PodId(0), &new_pod(&existing));
            }
            with_view(std::slice::from_ref(&n), &BTreeMap::new(), |view, _| {
                let mut state = CycleState::default();
                let pre = NodePorts.pre_filter(&mut state, &pod, view);
                assert!(pre.nodes.is_none(), "{name}");
                if want_skip {
                    assert!(pre.status.is_skip(), "{name}: {:?}", pre.status);
                    return;
                }
                assert!(pre.status.is_success(), "{name}: {:?}", pre.status);
                let got = NodePorts.filter(&state, &pod, &n, view);
                if want_fail {
                    assert_eq!(got.code, Code::Unschedulable, "{name}");
                    assert_eq!(got.reasons, vec![ERR_REASON.to_string()], "{name}");
                } else {
                    assert!(got.is_success(), "{name}: {got:?}");
                }
            });
        }
    }
}
