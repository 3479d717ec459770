//! The upstream QueueingHint test tables (each plugin's
//! `Test_isSchedulableAfter*` in pkg/scheduler/framework/plugins/*/), for
//! the cases kubesim's objects can express.

use std::collections::BTreeMap;

use super::*;
use crate::model::affinity::{InclusionPolicy, WhenUnsatisfiable};
use crate::model::pod::ContainerPort;
use crate::model::taints::{Taint, TaintEffect};
use crate::model::Node;
use crate::scheduler::framework::Plugin;
use crate::scheduler::plugins::inter_pod_affinity::testutil::{node, PB};
use crate::scheduler::plugins::node_resources_fit::testutil::{pod as req_pod, with_view};

/// A pod event object; "assigned" as upstream reads `spec.nodeName`.
fn obj(id: u32, p: &Pod) -> PodObj<'_> {
    PodObj {
        id: PodId(id),
        pod: p,
        assigned: p.spec.node_name.is_some(),
        nominated: false,
    }
}

const TARGET: PodId = PodId(0);

/// (name, target pod, old pod, new pod, want).
type PodCase = (&'static str, Pod, Option<Pod>, Option<Pod>, QueueingHint);
/// (name, target pod, old node, new node, want).
type NodeCase<'a> = (
    &'static str,
    &'a Pod,
    Option<Node>,
    Option<Node>,
    QueueingHint,
);

fn pod_change<'a>(old: Option<&'a Pod>, new: Option<&'a Pod>) -> Change<'a> {
    Change::Pod {
        old: old.map(|p| obj(1, p)),
        new: new.map(|p| obj(1, p)),
    }
}

fn node_change<'a>(old: Option<&'a Node>, new: Option<&'a Node>) -> Change<'a> {
    Change::Node { old, new }
}

fn res_node(name: &str, cpu_m: i64, mem: i64, pods: i64) -> Node {
    let mut n = node(name, &[]);
    n.allocatable.cpu_m = cpu_m;
    n.allocatable.memory = mem;
    n.allocatable.pods = pods;
    n.capacity = n.allocatable.clone();
    n
}

fn hint_with_view(f: impl FnOnce(&ClusterView) -> QueueingHint) -> QueueingHint {
    with_view(&[], &BTreeMap::new(), |v, _| f(v))
}

// ---------------------------------------------------------------------------
// NodeResourcesFit: fit_test.go `Test_isSchedulableAfterPodEvent`,
// `Test_isSchedulableAfterNodeChange`.

#[test]
fn fit_after_pod_event() {
    let target = req_pod(&[&[("cpu", 1000)]]);
    let scheduled = PB::new("other").node("fake").obj();
    let unscheduled = PB::new("other").obj();
    // "queue-on-deleted": a scheduled pod was deleted.
    assert_eq!(
        fit_hint(TARGET, &target, &pod_change(Some(&scheduled), None)),
        Queue
    );
    // "skip-queue-on-unscheduled-pod-deleted".
    assert_eq!(
        fit_hint(TARGET, &target, &pod_change(Some(&unscheduled), None)),
        QueueSkip
    );
    // A deleted nominated pod frees what it held.
    let nominated = Change::Pod {
        old: Some(PodObj {
            nominated: true,
            ..obj(1, &unscheduled)
        }),
        new: None,
    };
    assert_eq!(fit_hint(TARGET, &target, &nominated), Queue);
}

#[test]
fn fit_after_node_change() {
    let cases: Vec<(&str, Pod, Option<Node>, Node, QueueingHint)> = vec![
        (
            "queue-on-node-add",
            req_pod(&[&[("cpu", 1000)]]),
            None,
            res_node("n", 1000, 0, 110),
            Queue,
        ),
        (
            "skip-queue-on-node-add-insufficient",
            req_pod(&[&[("cpu", 4000)]]),
            None,
            res_node("n", 1000, 0, 110),
            QueueSkip,
        ),
        (
            "skip-queue-on-node-changes-from-suitable-to-unsuitable",
            req_pod(&[&[("cpu", 4000)]]),
            Some(res_node("n", 4000, 0, 110)),
            res_node("n", 1000, 0, 110),
            QueueSkip,
        ),
        (
            "queue-on-node-changes-from-unsuitable-to-suitable",
            req_pod(&[&[("cpu", 4000)]]),
            Some(res_node("n", 1000, 0, 110)),
            res_node("n", 4000, 0, 110),
            Queue,
        ),
        (
            "queue-on-node-allocatable-increased",
            req_pod(&[&[("cpu", 1000)]]),
            Some(res_node("n", 2000, 0, 110)),
            res_node("n", 3000, 0, 110),
            Queue,
        ),
        (
            "skip-queue-on-node-changes-unrelated-resource",
            req_pod(&[&[("cpu", 1000)]]),
            Some(res_node("n", 2000, 1 << 30, 110)),
            res_node("n", 2000, 2 << 30, 110),
            QueueSkip,
        ),
        (
            "queue-on-allowed-pod-number-increased",
            req_pod(&[&[("cpu", 1000)]]),
            Some(res_node("n", 2000, 0, 10)),
            res_node("n", 2000, 0, 20),
            Queue,
        ),
        (
            "skip-queue-on-node-with-no-room-for-a-pod",
            req_pod(&[]),
            None,
            res_node("n", 2000, 0, 0),
            QueueSkip,
        ),
    ];
    for (name, p, old, new, want) in cases {
        let got = fit_hint(TARGET, &p, &node_change(old.as_ref(), Some(&new)));
        assert_eq!(got, want, "{name}");
    }
}

// ---------------------------------------------------------------------------
// NodeUnschedulable: node_unschedulable_test.go
// `TestIsSchedulableAfterNodeChange`.

#[test]
fn node_unschedulable_after_node_change() {
    let sched = node("n", &[]);
    let mut unsched = node("n", &[]);
    unsched.unschedulable = true;
    let cases = [
        (
            "skip-queue-on-unschedulable-node-added",
            None,
            &unsched,
            QueueSkip,
        ),
        ("queue-on-schedulable-node-added", None, &sched, Queue),
        ("skip-unrelated-change", Some(&unsched), &unsched, QueueSkip),
        (
            "queue-on-unschedulable-field-change",
            Some(&unsched),
            &sched,
            Queue,
        ),
        (
            "skip-on-node-becoming-unschedulable",
            Some(&sched),
            &unsched,
            QueueSkip,
        ),
    ];
    for (name, old, new, want) in cases {
        assert_eq!(
            node_unschedulable_hint(&node_change(old, Some(new))),
            want,
            "{name}"
        );
    }
}

// ---------------------------------------------------------------------------
// NodeName: node_name_test.go `TestIsSchedulableAfterNodeAdd`.

#[test]
fn node_name_after_node_add() {
    let p = PB::new("p").node("foo").obj();
    assert_eq!(
        node_name_hint(&p, &node_change(None, Some(&node("foo", &[])))),
        Queue,
        "the added node matches the pod's nodeName"
    );
    assert_eq!(
        node_name_hint(&p, &node_change(None, Some(&node("bar", &[])))),
        QueueSkip,
        "the added node does not match the pod's nodeName"
    );
    let any = PB::new("p").obj();
    assert_eq!(
        node_name_hint(&any, &node_change(None, Some(&node("bar", &[])))),
        Queue,
        "a pod without nodeName fits every node"
    );
}

// ---------------------------------------------------------------------------
// NodePorts: node_ports_test.go `Test_isSchedulableAfterPodDeleted`.

fn with_host_port(mut p: Pod, port: i32) -> Pod {
    let mut c = crate::model::pod::Container::default();
    c.ports.push(ContainerPort {
        host_port: port,
        container_port: port,
        protocol: "TCP".to_string(),
        host_ip: String::new(),
    });
    p.spec.containers.push(c);
    p
}

#[test]
fn node_ports_after_pod_deleted() {
    let target = with_host_port(PB::new("p").obj(), 8080);
    let cases = [
        (
            "skip-queue-on-unscheduled",
            with_host_port(PB::new("o").obj(), 8080),
            QueueSkip,
        ),
        (
            "skip-queue-on-non-hostport",
            PB::new("o").node("fake").obj(),
            QueueSkip,
        ),
        (
            "skip-queue-on-unrelated-hostport",
            with_host_port(PB::new("o").node("fake").obj(), 8081),
            QueueSkip,
        ),
        (
            "queue-on-released-hostport",
            with_host_port(PB::new("o").node("fake").obj(), 8080),
            Queue,
        ),
    ];
    for (name, deleted, want) in cases {
        assert_eq!(
            node_ports_hint(&target, &pod_change(Some(&deleted), None)),
            want,
            "{name}"
        );
    }
    assert_eq!(
        node_ports_hint(&target, &node_change(None, Some(&node("n", &[])))),
        Queue,
        "Node/Add has no hint function: always Queue"
    );
}

// ---------------------------------------------------------------------------
// TaintToleration: taint_toleration_test.go `TestIsSchedulableAfterNodeChange`.

fn tainted(mut n: Node, key: &str) -> Node {
    n.taints.push(Taint::new(key, "", TaintEffect::NoSchedule));
    n
}

#[test]
fn taint_toleration_after_node_change() {
    let p = PB::new("p").toleration("foo").obj();
    let clean = node("n", &[]);
    let tolerated = tainted(node("n", &[]), "foo");
    let untolerated = tainted(node("n", &[]), "bar");
    let cases = [
        (
            "queue-on-node-added-with-tolerated-taints",
            None,
            &tolerated,
            Queue,
        ),
        (
            "skip-node-added-with-untolerated-taint",
            None,
            &untolerated,
            QueueSkip,
        ),
        (
            "queue-on-untolerated-taint-removed",
            Some(&untolerated),
            &clean,
            Queue,
        ),
        (
            "skip-tolerated-taint-added",
            Some(&clean),
            &tolerated,
            QueueSkip,
        ),
        (
            "skip-still-untolerated",
            Some(&untolerated),
            &untolerated,
            QueueSkip,
        ),
    ];
    for (name, old, new, want) in cases {
        assert_eq!(
            taint_toleration_hint(TARGET, &p, &node_change(old, Some(new))),
            want,
            "{name}"
        );
    }
}

// ---------------------------------------------------------------------------
// InterPodAffinity: plugin_test.go `Test_isSchedulableAfterPodChange` and
// `Test_isSchedulableAfterNodeChange` (v1.35).

#[test]
fn inter_pod_affinity_after_pod_change() {
    let aff = || PB::new("p").aff("service in (securityscan,value2)", "region");
    let anti = || PB::new("p").anti("service in (securityscan,value2)", "region");
    let other = || PB::new("other");
    // (name, target, old, new, want); the target has id 0, others 1.
    let cases: Vec<PodCase> = vec![
        (
            "add a pod which matches the pod affinity",
            aff().obj(),
            None,
            Some(other().node("fake").label("service", "securityscan").obj()),
            Queue,
        ),
        (
            "add an un-scheduled pod",
            aff().obj(),
            None,
            Some(other().label("service", "securityscan").obj()),
            QueueSkip,
        ),
        (
            "add a pod which doesn't match the pod affinity",
            aff().obj(),
            None,
            Some(other().node("fake").label("aaa", "a").obj()),
            QueueSkip,
        ),
        (
            "update a pod from non-match to match pod affinity",
            aff().obj(),
            Some(other().node("fake").label("aaa", "a").obj()),
            Some(other().node("fake").label("service", "securityscan").obj()),
            Queue,
        ),
        (
            "the updating pod matches target pod's affinity both before and after label changes",
            aff().obj(),
            Some(other().node("fake").label("service", "value2").obj()),
            Some(other().node("fake").label("service", "securityscan").obj()),
            QueueSkip,
        ),
        (
            "update an un-scheduled pod",
            aff().obj(),
            Some(other().label("aaa", "a").obj()),
            Some(other().label("service", "securityscan").obj()),
            QueueSkip,
        ),
        (
            "update a pod from match to non-match the pod affinity",
            aff().obj(),
            Some(other().node("fake").label("service", "securityscan").obj()),
            Some(other().node("fake").label("aaa", "a").obj()),
            QueueSkip,
        ),
        (
            "update a pod from match to non-match pod's affinity - multiple terms case",
            PB::new("p").aff("aaa", "hostname").aff("bbb", "hostname").obj(),
            Some(other().node("fake").label("aaa", "a").obj()),
            Some(other().node("fake").label("service", "securityscan").obj()),
            QueueSkip,
        ),
        (
            "update a pod from non-match to match pod's affinity - multiple terms case",
            PB::new("p").aff("aaa", "hostname").aff("bbb", "hostname").obj(),
            Some(other().node("fake").label("aaa", "a").obj()),
            Some(other().node("fake").label("aaa", "").label("bbb", "").obj()),
            Queue,
        ),
        (
            "modify pod label to change it from satisfying pod anti-affinity to not satisfying anti-affinity",
            anti().obj(),
            Some(other().node("fake").label("service", "securityscan").obj()),
            Some(other().node("fake").label("service", "aaaa").obj()),
            Queue,
        ),
        (
            "modify pod label to change it from not satisfying pod anti-affinity to satisfying anti-affinity",
            anti().obj(),
            Some(other().node("fake").label("service", "bbb").obj()),
            Some(other().node("fake").label("service", "securityscan").obj()),
            QueueSkip,
        ),
        (
            "delete a pod which doesn't match pod's anti-affinity",
            anti().obj(),
            Some(other().node("fake").label("aaa", "a").obj()),
            None,
            QueueSkip,
        ),
        (
            "delete a pod which matches pod's anti-affinity",
            anti().obj(),
            Some(other().node("fake").label("service", "securityscan").obj()),
            None,
            Queue,
        ),
        (
            "delete a pod with anti-affinity that matches pending pod",
            PB::new("p").label("service", "securityscan").obj(),
            Some(
                other()
                    .node("fake")
                    .anti("service in (securityscan,value2)", "region")
                    .obj(),
            ),
            None,
            Queue,
        ),
        (
            "delete a pod with anti-affinity that doesn't match pending pod",
            PB::new("p").label("service", "foo").obj(),
            Some(
                other()
                    .node("fake")
                    .anti("service in (securityscan,value2)", "region")
                    .obj(),
            ),
            None,
            QueueSkip,
        ),
        (
            "delete a pod which doesn't match pending pod's anti-affinity and has anti-affinity that doesn't match pending pod",
            anti().label("service", "foo").obj(),
            Some(
                other()
                    .node("fake")
                    .anti("service in (securityscan,value2)", "region")
                    .label("service", "foo")
                    .obj(),
            ),
            None,
            QueueSkip,
        ),
    ];
    for (name, target, old, new, want) in cases {
        let got = hint_with_view(|v| {
            inter_pod_affinity_hint(TARGET, &target, &pod_change(old.as_ref(), new.as_ref()), v)
        });
        assert_eq!(got, want, "{name}");
    }
    // "updated pod is the target pod".
    let t = PB::new("p").label("foo", "baz").obj();
    let before = PB::new("p").label("foo", "bar").obj();
    let change = Change::Pod {
        old: Some(obj(0, &before)),
        new: Some(obj(0, &t)),
    };
    assert_eq!(
        hint_with_view(|v| inter_pod_affinity_hint(TARGET, &t, &change, v)),
        Queue,
        "updated pod is the target pod"
    );
}

#[test]
fn inter_pod_affinity_after_node_change() {
    let aff = PB::new("p")
        .aff("service in (securityscan,value2)", "zone")
        .obj();
    let aff_region = PB::new("p")
        .aff("service in (securityscan,value2)", "region")
        .obj();
    let anti = PB::new("p").anti("another=label", "zone").obj();
    let cases: Vec<(&str, &Pod, Option<Node>, Node, QueueingHint)> = vec![
        (
            "add a new node with matched pod affinity topologyKey",
            &aff,
            None,
            node("node-a", &[("zone", "zone1")]),
            Queue,
        ),
        (
            "add a new node without matched topologyKey",
            &aff_region,
            None,
            node("node-a", &[("zone", "zone1")]),
            QueueSkip,
        ),
        (
            "update node label but not topologyKey",
            &aff,
            Some(node("node-a", &[("aaa", "a")])),
            node("node-a", &[("aaa", "b")]),
            QueueSkip,
        ),
        (
            "update node label that isn't related to the pod affinity",
            &aff,
            Some(node("node-a", &[("zone", "zone1")])),
            node(
                "node-a",
                &[("zone", "zone1"), ("unrelated-label", "unrelated")],
            ),
            QueueSkip,
        ),
        (
            "update node with different affinity topologyKey value",
            &aff,
            Some(node("node-a", &[("zone", "zone1")])),
            node("node-a", &[("zone", "zone2")]),
            Queue,
        ),
        (
            "update node to have the affinity topology label",
            &aff,
            Some(node("node-a", &[("aaa", "a")])),
            node("node-a", &[("zone", "zone1")]),
            Queue,
        ),
        (
            "add a new node with matched pod anti-affinity topologyKey",
            &anti,
            None,
            node("node-a", &[("zone", "zone1")]),
            Queue,
        ),
        (
            "add a new node without matched pod anti-affinity topologyKey",
            &anti,
            None,
            node("node-a", &[]),
            Queue,
        ),
        (
            "update node label that isn't related to the pod anti-affinity",
            &anti,
            Some(node("node-a", &[("zone", "zone1")])),
            node(
                "node-a",
                &[("zone", "zone1"), ("unrelated-label", "unrelated")],
            ),
            QueueSkip,
        ),
        (
            "update node with different anti-affinity topologyKey value",
            &anti,
            Some(node("node-a", &[("zone", "zone1")])),
            node("node-a", &[("zone", "zone2")]),
            Queue,
        ),
        (
            "update node to have the anti-affinity topology label",
            &anti,
            Some(node("node-a", &[("aaa", "a")])),
            node("node-a", &[("zone", "zone1")]),
            QueueSkip,
        ),
        (
            "update node label not to have anti-affinity topology label",
            &anti,
            Some(node("node-a", &[("zone", "zone1")])),
            node("node-a", &[("aaa", "a")]),
            Queue,
        ),
    ];
    for (name, p, old, new, want) in cases {
        let got = inter_pod_affinity_node_hint(p, old.as_ref(), Some(&new));
        assert_eq!(got, want, "{name}");
    }
}

// ---------------------------------------------------------------------------
// NodeAffinity: node_affinity_test.go `Test_isSchedulableAfterNodeChange`.

#[test]
fn node_affinity_after_node_change() {
    use crate::scheduler::plugins::node_affinity::NodeAffinityPlugin;
    let pl = NodeAffinityPlugin::new(Default::default());
    let p = PB::new("p").node_selector("foo", "bar").obj();
    let cases = [
        ("skip-queue-on-add", None, node("n", &[]), QueueSkip),
        ("queue-on-add", None, node("n", &[("foo", "bar")]), Queue),
        (
            "skip-unrelated-changes",
            Some(node("n", &[("foo", "bar")])),
            node("n", &[("foo", "bar"), ("aaa", "b")]),
            QueueSkip,
        ),
        (
            "skip-unrelated-changes-on-labels",
            Some(node("n", &[])),
            node("n", &[("aaa", "b")]),
            QueueSkip,
        ),
        (
            "queue-on-labels-change-makes-pod-schedulable",
            Some(node("n", &[])),
            node("n", &[("foo", "bar")]),
            Queue,
        ),
    ];
    for (name, old, new, want) in cases {
        assert_eq!(
            pl.hint(&p, &node_change(old.as_ref(), Some(&new))),
            want,
            "{name}"
        );
    }
    assert!(pl
        .events_to_register()
        .is_some_and(|e| e == crate::scheduler::plugins::node_affinity::EVENTS));
}

// ---------------------------------------------------------------------------
// PodTopologySpread: plugin_test.go `Test_isSchedulableAfterPodChange`,
// `Test_isSchedulableAfterNodeChange`.

#[test]
fn pod_topology_spread_after_pod_change() {
    use crate::scheduler::plugins::pod_topology_spread::PodTopologySpread;
    let pl = PodTopologySpread::new(Default::default());
    let dns = WhenUnsatisfiable::DoNotSchedule;
    let target = || {
        PB::new("p")
            .spread(1, "zone", dns, Some("foo"))
            .spread(1, "node", dns, Some("bar"))
    };
    let cases: Vec<PodCase> = vec![
        (
            "add pod with labels match topologyspreadconstraint selector",
            target().obj(),
            None,
            Some(PB::new("o").node("fake").label("foo", "").obj()),
            Queue,
        ),
        (
            "add un-scheduled pod",
            target().obj(),
            None,
            Some(PB::new("o").label("foo", "").obj()),
            QueueSkip,
        ),
        (
            "update un-scheduled pod",
            target().obj(),
            Some(PB::new("o").label("bar", "").obj()),
            Some(PB::new("o").label("foo", "").obj()),
            QueueSkip,
        ),
        (
            "delete un-scheduled pod",
            target().obj(),
            Some(PB::new("o").label("foo", "").obj()),
            None,
            QueueSkip,
        ),
        (
            "add pod with different namespace",
            target().obj(),
            None,
            Some(PB::new("o").ns("ns1").node("fake").label("foo", "").obj()),
            QueueSkip,
        ),
        (
            "add pod with labels don't match topologyspreadconstraint selector",
            target().obj(),
            None,
            Some(PB::new("o").node("fake").label("baz", "").obj()),
            QueueSkip,
        ),
        (
            "delete pod with labels that match topologyspreadconstraint selector",
            target().obj(),
            Some(PB::new("o").node("fake").label("foo", "").obj()),
            None,
            Queue,
        ),
        (
            "delete pod with labels that don't match topologyspreadconstraint selector",
            target().obj(),
            Some(PB::new("o").node("fake").label("baz", "").obj()),
            None,
            QueueSkip,
        ),
        (
            "change pod's labels that doesn't match topologyspreadconstraint selector",
            target().obj(),
            Some(PB::new("o").node("fake").label("baz", "").obj()),
            Some(PB::new("o").node("fake").label("qux", "").obj()),
            QueueSkip,
        ),
        (
            "change pod's labels that make it match topologyspreadconstraint selector",
            target().obj(),
            Some(PB::new("o").node("fake").label("baz", "").obj()),
            Some(PB::new("o").node("fake").label("foo", "").obj()),
            Queue,
        ),
        (
            "change pod's labels value that doesn't change matching",
            target().obj(),
            Some(PB::new("o").node("fake").label("foo", "").obj()),
            Some(PB::new("o").node("fake").label("foo", "fizz").obj()),
            QueueSkip,
        ),
        (
            "change pod's labels without matching changes and other labels unchanged",
            target().obj(),
            Some(PB::new("o").node("fake").label("foo", "").obj()),
            Some(PB::new("o").node("fake").label("foo", "").obj()),
            QueueSkip,
        ),
    ];
    for (name, t, old, new, want) in cases {
        assert_eq!(
            pl.hint(TARGET, &t, &pod_change(old.as_ref(), new.as_ref())),
            want,
            "{name}"
        );
    }
    // The target pod got a toleration and a constraint honours taints.
    let honor = PB::new("p")
        .spread_full(
            1,
            "zone",
            dns,
            Some("foo"),
            None,
            None,
            Some(InclusionPolicy::Honor),
        )
        .obj();
    let tolerating = PB::new("p")
        .spread_full(
            1,
            "zone",
            dns,
            Some("foo"),
            None,
            None,
            Some(InclusionPolicy::Honor),
        )
        .toleration("bar")
        .obj();
    let change = Change::Pod {
        old: Some(obj(0, &honor)),
        new: Some(obj(0, &tolerating)),
    };
    assert_eq!(
        pl.hint(TARGET, &honor, &change),
        Queue,
        "new toleration with NodeTaintsPolicy Honor"
    );
}

#[test]
fn pod_topology_spread_after_node_change() {
    use crate::scheduler::plugins::pod_topology_spread::PodTopologySpread;
    let pl = PodTopologySpread::new(Default::default());
    let dns = WhenUnsatisfiable::DoNotSchedule;
    let one = PB::new("p").spread(1, "zone", dns, Some("foo")).obj();
    let two = PB::new("p")
        .spread(1, "zone", dns, Some("foo"))
        .spread(1, "node", dns, Some("bar"))
        .obj();
    let t = |n: Node| tainted(n, "aaa");
    let cases: Vec<NodeCase> = vec![
        (
            "node updates label which matches topologyKey",
            &one,
            Some(node("node-a", &[("zone", "zone1")])),
            Some(node("node-a", &[("zone", "zone2")])),
            Queue,
        ),
        (
            "node that doesn't match topologySpreadConstraints updates non-related label",
            &one,
            Some(node("node-a", &[("foo", "bar1")])),
            Some(node("node-a", &[("foo", "bar2")])),
            QueueSkip,
        ),
        (
            "node that match topologySpreadConstraints adds non-related label",
            &one,
            Some(node("node-a", &[("zone", "zone1")])),
            Some(node("node-a", &[("zone", "zone1"), ("foo", "bar")])),
            QueueSkip,
        ),
        (
            "create node with non-related labels",
            &one,
            None,
            Some(node("node-a", &[("foo", "bar")])),
            QueueSkip,
        ),
        (
            "create node with related labels",
            &one,
            None,
            Some(node("node-a", &[("zone", "zone1")])),
            Queue,
        ),
        (
            "delete node with non-related labels",
            &one,
            Some(node("node-a", &[("foo", "bar")])),
            None,
            QueueSkip,
        ),
        (
            "delete node with related labels",
            &one,
            Some(node("node-a", &[("zone", "zone1")])),
            None,
            Queue,
        ),
        (
            "add node with related labels that only match one of topologySpreadConstraints",
            &two,
            None,
            Some(node("node-a", &[("zone", "zone1")])),
            QueueSkip,
        ),
        (
            "add node with related labels that match all topologySpreadConstraints",
            &two,
            None,
            Some(node("node-a", &[("zone", "zone1"), ("node", "node1")])),
            Queue,
        ),
        (
            "update node with related labels that only match one of topologySpreadConstraints",
            &two,
            Some(node("node-a", &[("zone", "zone1")])),
            Some(node("node-a", &[("zone", "zone2")])),
            QueueSkip,
        ),
        (
            "update node with related labels that match all of topologySpreadConstraints",
            &two,
            Some(node("node-a", &[("zone", "zone1"), ("node", "node1")])),
            Some(node("node-a", &[("zone", "zone1"), ("node", "node2")])),
            Queue,
        ),
        (
            "update node with different taints that match all topologySpreadConstraints",
            &one,
            Some(node("node-a", &[("zone", "zone1")])),
            Some(t(node("node-a", &[("zone", "zone1")]))),
            Queue,
        ),
        (
            "update node with different taints that only match one of topologySpreadConstraints",
            &two,
            Some(node("node-a", &[("zone", "zone1")])),
            Some(t(node("node-a", &[("zone", "zone1")]))),
            QueueSkip,
        ),
    ];
    for (name, p, old, new, want) in cases {
        assert_eq!(
            pl.hint(TARGET, p, &node_change(old.as_ref(), new.as_ref())),
            want,
            "{name}"
        );
    }
}

// ---------------------------------------------------------------------------
// SchedulingGates: scheduling_gates_test.go `Test_isSchedulableAfterPodChange`.

#[test]
fn scheduling_gates_after_pod_change() {
    let p = PB::new("p").obj();
    let same = Change::Pod {
        old: Some(obj(0, &p)),
        new: Some(obj(0, &p)),
    };
    assert_eq!(
        scheduling_gates_hint(TARGET, &same),
        Queue,
        "the target pod's gates were removed"
    );
    let other = PB::new("o").obj();
    assert_eq!(
        scheduling_gates_hint(TARGET, &pod_change(Some(&other), Some(&other))),
        QueueSkip,
        "another pod's gates were removed"
    );
}
