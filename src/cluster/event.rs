//! The closed set of events the World dispatches. Events carry ids, never
//! objects, so they are cheap to queue and trivially deterministic.

use crate::model::{NodeId, PodId};

// Events are 8 bytes (a tag and one id) so that queue entries stay small.
const _: () = assert!(std::mem::size_of::<Event>() == 8);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Timeline entry `i` of the scenario.
    Action(u32),
    /// The scheduler takes the next pod from its queue.
    ScheduleNext,
    /// A pod's scheduling back-off has expired.
    BackoffDone(PodId),
    /// Unschedulable pods parked for too long go back to the active queue.
    FlushUnschedulable,
    /// The binding of an assumed pod reaches the API (the node is the one
    /// the pod is assumed on, `status.node`).
    Bind(PodId),
    /// The kubelet has pulled images and started the containers.
    PodStarted(PodId),
    /// The main container's run has ended.
    ContainerExited(PodId),
    /// A crashed container starts again after its back-off.
    ContainerRestart(PodId),
    /// A terminating pod's containers have stopped.
    PodKilled(PodId),
    /// The node lifecycle controller notices a node stopped heart-beating.
    NodeUnreachable(NodeId),
    /// A NoExecute taint's tolerationSeconds ran out for this pod.
    TaintEviction(PodId),
    /// A pod held at Permit waited too long.
    PermitTimeout(PodId),
    /// Record a time-series sample.
    Sample,
    /// A workload controller (or the garbage collector) syncs this object.
    Reconcile(crate::controllers::WorkloadId),
    /// `drain` retries the evictions a PodDisruptionBudget refused (every
    /// 5 s, as `kubectl drain` does).
    DrainRetry(NodeId),
    /// The node model of a node reaches a breakpoint that must happen for
    /// the run to finish (CPU work in progress, eviction checks).
    NodeUsage(NodeId),
    /// A pod's readiness probes pass: it becomes Ready.
    PodReady(PodId),
    /// A node-model breakpoint of usage changes only (does not keep a run
    /// alive by itself).
    NodeUsageTick(NodeId),
    /// The HPA controller syncs HorizontalPodAutoscaler `i` (every sync
    /// period).
    HpaSync(u32),
    /// metrics-server scrapes the kubelets (every metric resolution).
    MetricsScrape,
    /// One cluster-autoscaler loop (every scan interval).
    CaLoop,
    /// A node of node group `g` finished provisioning.
    CaNodeUp(u32),
    /// A request arrives at the Service of traffic entry `i`.
    TrafficArrival(u32),
    /// A pod's processor-sharing queue reaches its next completion or
    /// timeout.
    TrafficPod(PodId),
}

impl Event {
    /// Periodic housekeeping events do not keep a run alive by themselves.
    pub fn is_periodic(self) -> bool {
        matches!(
            self,
            Event::Sample
                | Event::FlushUnschedulable
                | Event::DrainRetry(_)
                | Event::NodeUsageTick(_)
                | Event::HpaSync(_)
                | Event::MetricsScrape
                | Event::CaLoop
                | Event::TrafficArrival(_)
                | Event::TrafficPod(_)
        )
    }
}
