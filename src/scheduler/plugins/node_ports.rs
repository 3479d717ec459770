//! NodePorts (PreFilter, Filter): a pod's host ports must be free on the
//! node (upstream plugins/nodeports). Two ports conflict when protocol and
//! port match and either host IP is the wildcard `0.0.0.0` or both are equal.

use crate::model::node::host_ports;
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

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        "NodePorts"
    }
    fn points(&self) -> &'static [Point] {
        &[Point::PreFilter, Point::Filter]
    }
    fn node_local(&self) -> bool {
        true
    }
    fn pre_filter(&self, state: &mut CycleState, pod: &Pod, _: &ClusterView) -> PreFilterOutcome {
        let ports: Vec<(String, String, i32)> = host_ports(pod).collect();
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
                owned = host_ports(pod).collect();
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
}
