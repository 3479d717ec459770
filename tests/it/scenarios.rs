//! Scenarios run end to end, checking what happened to each pod.

use kubesim::engine::SimTime;
use kubesim::model::PodPhase;

use crate::{load, load_text, node_name, pod, run};

const S: u64 = 1_000_000;

#[test]
fn quickstart_tells_its_story() {
    let r = run(load("scenarios/quickstart.yaml"));
    // A pod larger than any node is never scheduled, and says why.
    let big = pod(&r, "too-big");
    assert_eq!(big.phase(), PodPhase::Pending);
    assert!(big.status.bound_at.is_none());
    assert!(
        big.status.message.contains("Insufficient cpu"),
        "{}",
        big.status.message
    );
    // A failing OnFailure pod restarts with back-off 10s, 20s, 40s, ...
    let flaky = pod(&r, "flaky");
    assert_eq!(flaky.phase(), PodPhase::Running);
    assert!(
        flaky.status.restart_count >= 5,
        "{}",
        flaky.status.restart_count
    );
    // Run-to-completion pods succeed after startup + run time.
    let job = pod(&r, "job-a");
    assert_eq!(job.phase(), PodPhase::Succeeded);
    let bound = job.status.bound_at.expect("bound");
    assert_eq!(job.status.finished_at, Some(SimTime(bound.0 + 92 * S)));
    // The pod on the failed node is evicted 300s after the unreachable
    // taint (225s), stays Terminating while the node is down, and is
    // removed when the node recovers at 12m.
    let web0 = pod(&r, "web-0");
    assert_eq!(node_name(&r, web0).as_deref(), Some("worker-1"));
    assert_eq!(web0.meta.deletion_timestamp, Some(SimTime(525 * S)));
    assert_eq!(web0.status.finished_at, Some(SimTime(720 * S)));
    assert_eq!(web0.status.reason, "TaintManagerEviction");
    // The deleted pod terminates.
    let web1 = pod(&r, "web-1");
    assert_eq!(web1.meta.deletion_timestamp, Some(SimTime(780 * S)));
    assert!(web1.status.finished_at.is_some());
}

#[test]
fn pods_wait_until_capacity_frees_up() {
    let r = run(load_text(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: wait}
spec:
  defaults: {startupTime: 0s}
  scheduler: {cycleTime: 0s, perNodeTime: 0s, bindTime: 0s}
  cluster:
    nodePools:
    - {name: node, count: 1, capacity: {cpu: "2", memory: 4Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: first, annotations: {kubesim.dev/run-time: 60s}}
spec:
  restartPolicy: Never
  containers: [{name: c, image: x:1, resources: {requests: {cpu: "2"}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: second, annotations: {kubesim.dev/run-time: 10s}}
spec:
  restartPolicy: Never
  containers: [{name: c, image: x:1, resources: {requests: {cpu: "1"}}}]
"#,
    ));
    let second = pod(&r, "second");
    // It fits only once `first` finishes at 60s; the pod-deleted/finished
    // event moves it back from the unschedulable pods (after its back-off).
    assert_eq!(second.status.bound_at, Some(SimTime(60 * S)));
    assert_eq!(second.phase(), PodPhase::Succeeded);
    assert!(second.status.scheduling_attempts >= 2);
}

#[test]
fn node_name_pods_skip_the_scheduler_and_face_kubelet_admission() {
    let r = run(load_text(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: nodename}
spec:
  cluster:
    nodePools:
    - {name: node, count: 2, capacity: {cpu: "1", memory: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: pinned}
spec:
  nodeName: node-1
  containers: [{name: c, image: x:1, resources: {requests: {cpu: 500m}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: too-big}
spec:
  nodeName: node-0
  containers: [{name: c, image: x:1, resources: {requests: {cpu: "2"}}}]
"#,
    ));
    let pinned = pod(&r, "pinned");
    assert_eq!(node_name(&r, pinned).as_deref(), Some("node-1"));
    assert_eq!(pinned.status.scheduling_attempts, 0);
    let big = pod(&r, "too-big");
    assert_eq!(big.phase(), PodPhase::Failed);
    assert_eq!(big.status.reason, "OutOfcpu");
}

#[test]
fn taints_tolerations_and_node_affinity_steer_placement() {
    let r = run(load_text(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: steer}
spec:
  cluster:
    nodePools:
    - name: gpu
      count: 1
      capacity: {cpu: "8", memory: 32Gi, nvidia.com/gpu: "4"}
      taints: [{key: nvidia.com/gpu, value: "true", effect: NoSchedule}]
      labels: {accelerator: a100}
    - name: cpu
      count: 2
      capacity: {cpu: "8", memory: 32Gi}
      zones: [z1, z2]
---
apiVersion: v1
kind: Pod
metadata: {name: trainer}
spec:
  tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
  containers: [{name: c, image: x:1, resources: {limits: {nvidia.com/gpu: "2"}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [z2]}]
  containers: [{name: c, image: x:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: no-gpu-toleration}
spec:
  nodeSelector: {accelerator: a100}
  containers: [{name: c, image: x:1}]
"#,
    ));
    assert_eq!(node_name(&r, pod(&r, "trainer")).as_deref(), Some("gpu-0"));
    assert_eq!(node_name(&r, pod(&r, "web")).as_deref(), Some("cpu-1"));
    let p = pod(&r, "no-gpu-toleration");
    assert!(p.status.bound_at.is_none());
    assert!(
        p.status
            .message
            .contains("1 node(s) had untolerated taint(s)"),
        "{}",
        p.status.message
    );
}

#[test]
fn removing_a_node_deletes_its_pods_and_priority_orders_the_queue() {
    let r = run(load_text(
        r#"
apiVersion: kubesim.dev/v1alpha1
kind: Scenario
metadata: {name: remove}
spec:
  scheduler: {cycleTime: 0s, perNodeTime: 0s, bindTime: 0s}
  cluster:
    nodePools:
    - {name: node, count: 1, capacity: {cpu: "1", memory: 1Gi}}
  timeline:
  - {at: 10s, removeNode: node-0}
  - {at: 20s, addNodes: {pool: node, count: 1}}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 100
---
apiVersion: v1
kind: Pod
metadata: {name: low}
spec:
  containers: [{name: c, image: x:1, resources: {requests: {cpu: "1"}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: high}
spec:
  priorityClassName: high
  containers: [{name: c, image: x:1, resources: {requests: {cpu: "1"}}}]
"#,
    ));
    // PrioritySort: the high-priority pod is scheduled first although it was
    // created second.
    let high = pod(&r, "high");
    assert_eq!(node_name(&r, high).as_deref(), Some("node-0"));
    assert_eq!(high.status.reason, "NodeRemoved");
    assert_eq!(high.status.finished_at, Some(SimTime(10 * S)));
    // The low-priority pod waits, then lands on the node added at 20s.
    let low = pod(&r, "low");
    assert_eq!(node_name(&r, low).as_deref(), Some("node-1"));
    assert_eq!(low.status.bound_at, Some(SimTime(20 * S)));
}
