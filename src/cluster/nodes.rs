//! Node handlers: nodes joining and leaving, cordon and drain, failure
//! detection by the node lifecycle controller (missed heartbeats → Unknown
//! → unreachable taints → NoExecute evictions) and recovery.

use super::{
    Event, NodeRuntime, World, HEARTBEAT_INTERVAL, NODE_MONITOR_GRACE_PERIOD, NODE_MONITOR_PERIOD,
};
use crate::engine::SimTime;
use crate::model::meta::ObjectMeta;
use crate::model::node::{ConditionStatus, Node, LABEL_INSTANCE_TYPE, LABEL_REGION, LABEL_ZONE};
use crate::model::taints::TAINT_UNREACHABLE;
use crate::model::{NodeId, PodPhase, Taint, TaintEffect};

impl World {
    pub(super) fn add_node(&mut self, mut node: Node) {
        if let Some(&existing) = self.node_index.get(&node.meta.name) {
            if self.nodes[existing.0 as usize].present {
                let name = node.meta.name.clone();
                self.log.record(
                    self.now,
                    "AdmissionRejected",
                    None,
                    Some(&name),
                    Some("AlreadyExists"),
                    None,
                );
                return;
            }
        }
        node.meta.uid = self.next_uid();
        node.meta.creation_timestamp = self.now;
        let id = NodeId(self.nodes.len() as u32);
        self.node_index.insert(node.meta.name.clone(), id);
        self.node_order_dirty = true;
        self.pod_changes.bump_epoch();
        for img in node.images.keys() {
            *self.image_nodes.entry(img.clone()).or_insert(0) += 1;
        }
        self.nodes.push(node);
        self.node_rt.push(NodeRuntime::default());
        self.log_event("NodeAdded", None, Some(id), None, None);
        use super::queueing::{Obj, PreCheck};
        self.cluster_event(
            crate::scheduler::hints::ClusterEvent::NODE_ADD,
            Obj::None,
            Obj::Node(id),
            PreCheck::All,
            true,
        );
        self.daemonsets_node_changed();
    }

    /// Adds `count` nodes of a pool, named `<pool>-<index>`.
    pub(super) fn add_pool_nodes(&mut self, pool_name: &str, count: u32) {
        let Some(pool) = self
            .scenario
            .node_pools
            .iter()
            .find(|p| p.name == pool_name)
            .cloned()
        else {
            return;
        };
        let start = self.pool_next.get(pool_name).copied().unwrap_or(0);
        for i in start..start.saturating_add(count) {
            let name = format!("{pool_name}-{i}");
            let mut labels = pool.labels.clone();
            crate::scenario::default_node_labels(&mut labels, &name);
            if !pool.zones.is_empty() {
                let z = &pool.zones[i as usize % pool.zones.len()];
                labels.insert(LABEL_ZONE.to_string(), z.clone());
            }
            if let Some(r) = &pool.region {
                labels.insert(LABEL_REGION.to_string(), r.clone());
            }
            if let Some(t) = &pool.instance_type {
                labels.insert(LABEL_INSTANCE_TYPE.to_string(), t.clone());
            }
            let meta = ObjectMeta {
                name,
                labels,
                ..Default::default()
            };
            let mut node = Node::new(meta, pool.capacity.clone(), pool.allocatable.clone());
            node.taints = pool.taints.clone();
            node.pool = Some(pool_name.to_string());
            node.images = pool.images.clone();
            node.image_pull_bandwidth = pool.image_pull_bandwidth;
            node.image_fs_capacity = pool.image_fs_capacity;
            node.gpus = pool
                .gpus
                .as_ref()
                .filter(|(c, _)| *c > 0)
                .map(|(c, m)| crate::model::gpu::NodeGpus::new(*c, m));
            self.add_node(node);
        }
        self.pool_next
            .insert(pool_name.to_string(), start.saturating_add(count));
    }

    fn node_id(&mut self, name: &str) -> Option<NodeId> {
        match self.node_index.get(name) {
            Some(&id) if self.nodes[id.0 as usize].present => Some(id),
            _ => {
                self.log.record(
                    self.now,
                    "NodeNotFound",
                    None,
                    Some(name),
                    Some("NotFound"),
                    Some("the timeline names a node that does not exist at this time"),
                );
                None
            }
        }
    }

    pub(super) fn cordon(&mut self, name: &str, on: bool) {
        let Some(id) = self.node_id(name) else { return };
        let before = self.nodes[id.0 as usize].clone();
        self.nodes[id.0 as usize].unschedulable = on;
        self.nodes[id.0 as usize].touch();
        self.log_event(
            if on { "NodeCordoned" } else { "NodeUncordoned" },
            None,
            Some(id),
            None,
            None,
        );
        // Cordoning produces no event upstream (`extractNodeSpecUnschedulableChange`
        // only reports a node becoming schedulable).
        if !on {
            self.node_updated(id, before, true);
        }
        self.daemonsets_node_changed();
    }

    /// `kubectl drain --ignore-daemonsets --force`: cordon, then evict every
    /// pod except DaemonSet-managed ones through the eviction API, retrying
    /// evictions a PodDisruptionBudget refuses (see `workloads.rs`).
    pub(super) fn drain(&mut self, name: &str) {
        let Some(id) = self.node_id(name) else { return };
        self.cordon(name, true);
        self.log_event("NodeDrainStarted", None, Some(id), None, None);
        self.drain_evict(id);
    }

    /// The node stops heart-beating (it crashed or lost its network). Its
    /// containers stop; the control plane notices after the grace period.
    pub(super) fn fail_node(&mut self, name: &str) {
        let Some(id) = self.node_id(name) else { return };
        let idx = id.0 as usize;
        if !self.nodes[idx].kubelet_up {
            return;
        }
        self.nodes[idx].kubelet_up = false;
        self.node_rt[idx].failed_at = Some(self.now);
        self.log_event("NodeFailed", None, Some(id), None, None);
        for p in self.pods_on(id) {
            let t = self.pod_rt[p.0 as usize].timer.take();
            self.cancel(t);
            self.usage_pod_gone(p);
            let r = self.pod_rt[p.0 as usize].ready_timer.take();
            self.cancel(r);
        }
        // Last lease renewal before the failure, then the first monitor
        // tick at which it is older than the grace period.
        let hb = HEARTBEAT_INTERVAL.as_micros();
        let last_hb = self.now.as_micros() / hb * hb;
        let deadline = last_hb + NODE_MONITOR_GRACE_PERIOD.as_micros();
        let period = NODE_MONITOR_PERIOD.as_micros();
        let detect = (deadline / period + 1) * period;
        let timer = self.push(
            SimTime(detect.max(self.now.as_micros())),
            Event::NodeUnreachable(id),
        );
        self.node_rt[idx].detect_timer = Some(timer);
    }

    pub(super) fn node_unreachable(&mut self, id: NodeId) {
        let idx = id.0 as usize;
        self.node_rt[idx].detect_timer = None;
        if self.nodes[idx].kubelet_up || !self.nodes[idx].present {
            return;
        }
        let before = self.nodes[idx].clone();
        let node = &mut self.nodes[idx];
        node.conditions.ready = ConditionStatus::Unknown;
        for effect in [TaintEffect::NoSchedule, TaintEffect::NoExecute] {
            let t = Taint::new(TAINT_UNREACHABLE, "", effect);
            if !node.taints.contains(&t) {
                node.taints.push(t);
            }
        }
        node.touch();
        self.log_event(
            "NodeNotReady",
            None,
            Some(id),
            Some("NodeStatusUnknown"),
            Some("Kubelet stopped posting node status."),
        );
        for p in self.pods_on(id) {
            // MarkPodsNotReady: the pods of an unreachable node lose Ready.
            self.mark_pod_not_ready(p);
            self.apply_no_execute(p, id);
        }
        self.node_updated(id, before, false);
        self.daemonsets_node_changed();
    }

    pub(super) fn recover_node(&mut self, name: &str) {
        let Some(id) = self.node_id(name) else { return };
        let idx = id.0 as usize;
        if self.nodes[idx].kubelet_up {
            return;
        }
        let t = self.node_rt[idx].detect_timer.take();
        self.cancel(t);
        self.node_rt[idx].failed_at = None;
        let before = self.nodes[idx].clone();
        let node = &mut self.nodes[idx];
        node.kubelet_up = true;
        node.conditions.ready = ConditionStatus::True;
        node.taints.retain(|t| t.key != TAINT_UNREACHABLE);
        node.touch();
        self.log_event("NodeReady", None, Some(id), None, None);
        for p in self.pods_on(id) {
            let pi = p.0 as usize;
            let t = self.pod_rt[pi].evict_timer.take();
            self.cancel(t);
            if self.pods[pi].is_terminating() {
                // The kubelet finds the pod deleted and stops it.
                self.pod_rt[pi].timer = Some(self.push(self.now, Event::PodKilled(p)));
                continue;
            }
            // Containers died with the node: the kubelet starts them again
            // per restartPolicy (a pod that never started starts now).
            if self.pods[pi].status.bound_at.is_some() && self.pods[pi].phase() == PodPhase::Pending
            {
                let t = self.now.after(self.pods[pi].behavior.startup);
                self.pod_rt[pi].timer = Some(self.push(t, Event::PodStarted(p)));
            } else if self.pods[pi].phase() == PodPhase::Running {
                if self.pods[pi].spec.restart_policy == crate::model::pod::RestartPolicy::Never {
                    self.finish_pod(p, PodPhase::Failed, "NodeRestarted", Some(id));
                } else {
                    self.pod_rt[pi].timer = Some(self.push(self.now, Event::ContainerRestart(p)));
                }
            }
        }
        self.node_updated(id, before, true);
        self.daemonsets_node_changed();
    }

    /// The node object is deleted; pod GC force-deletes the pods bound to it.
    pub(super) fn remove_node(&mut self, name: &str) {
        let Some(id) = self.node_id(name) else { return };
        let idx = id.0 as usize;
        let t = self.node_rt[idx].detect_timer.take();
        self.cancel(t);
        let mut gone = Vec::new();
        for p in self.pods_on(id) {
            let pi = p.0 as usize;
            if !self.pods[pi].phase().is_terminal() {
                gone.push(p);
            }
            self.end_flight(p);
            let t1 = self.pod_rt[pi].timer.take();
            let t2 = self.pod_rt[pi].evict_timer.take();
            self.cancel(t1);
            self.cancel(t2);
            self.unreserve(p);
            if !self.pods[pi].phase().is_terminal() {
                self.set_phase(pi, PodPhase::Failed);
                self.pods[pi].status.finished_at = Some(self.now);
            }
            self.pods[pi].status.reason = "NodeRemoved".to_string();
            self.remove_pod(p, "NodeRemoved");
        }
        // Terminal pods that stayed in the API after running here go too.
        let leftover: Vec<_> = self
            .pods
            .iter()
            .enumerate()
            .filter(|(i, p)| self.pod_rt[*i].live && p.status.node == Some(id))
            .map(|(i, _)| crate::model::PodId(i as u32))
            .collect();
        for p in leftover {
            self.remove_pod(p, "NodeRemoved");
        }
        self.nodes[idx].present = false;
        self.nodes[idx].touch();
        self.refresh_affinity_sets(id);
        self.node_index.remove(name);
        self.node_order_dirty = true;
        self.pod_changes.bump_epoch();
        for img in self.nodes[idx].images.keys() {
            if let Some(c) = self.image_nodes.get_mut(img) {
                *c -= 1;
                if *c == 0 {
                    self.image_nodes.remove(img);
                }
            }
        }
        // Pods nominated here lose their nomination.
        if let Some(noms) = self.nominated.remove(&id) {
            for p in noms {
                self.pods[p.0 as usize].status.nominated_node = None;
            }
        }
        self.log_event("NodeRemoved", None, Some(id), None, None);
        use super::queueing::{Obj, PreCheck};
        self.cluster_event(
            crate::scheduler::hints::ClusterEvent::NODE_DELETE,
            Obj::Node(id),
            Obj::None,
            PreCheck::All,
            true,
        );
        // Pod GC deletes the pods bound to the node.
        for p in gone {
            self.assigned_pod_deleted(p, PreCheck::All, false);
        }
        self.daemonsets_node_changed();
    }
}
