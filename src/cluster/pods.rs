//! Pod handlers: admission and creation, the scheduling cycle and binding,
//! and the kubelet's lifecycle (start, run, exit, restart with
//! CrashLoopBackOff, graceful termination).

use super::{Event, PodRuntime, World};
use crate::engine::{Duration, Stream};
use crate::model::pod::{ContainerState, RestartPolicy};
use crate::model::{NodeId, Pod, PodId, PodPhase};
use crate::scheduler::queue::{backoff_duration, FLUSH_INTERVAL};
use crate::scheduler::Decision;

/// Kubelet container restart back-off (pkg/kubelet `initialBackOff`,
/// `MaxContainerBackOff`), reset after a run of twice the maximum.
pub const CRASH_BACKOFF_INITIAL: Duration = Duration::from_secs(10);
pub const CRASH_BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Upstream `utilrand.String` alphabet for generateName suffixes.
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

impl World {
    pub(super) fn create_pod(&mut self, mut pod: Pod) {
        if pod.meta.name.is_empty() {
            let prefix = pod.meta.generate_name.clone().unwrap_or_default();
            loop {
                let rng = self.rng.get(Stream::Names);
                let suffix: String = (0..5)
                    .map(|_| NAME_ALPHABET[rng.below(NAME_ALPHABET.len() as u64) as usize] as char)
                    .collect();
                let name = format!("{prefix}{suffix}");
                if !self
                    .pod_index
                    .contains_key(&(pod.meta.namespace.clone(), name.clone()))
                {
                    pod.meta.name = name;
                    break;
                }
            }
        }
        let key = (pod.meta.namespace.clone(), pod.meta.name.clone());
        if self.pod_index.contains_key(&key) {
            self.counters.admission_rejections += 1;
            self.log.record(
                self.now,
                "AdmissionRejected",
                Some(&pod.meta.key()),
                None,
                Some("AlreadyExists"),
                Some("a pod with this name already exists"),
            );
            return;
        }
        if !self.namespaces.contains_key(&pod.meta.namespace) {
            self.counters.admission_rejections += 1;
            let msg = format!("namespace {:?} not found", pod.meta.namespace);
            self.log.record(
                self.now,
                "AdmissionRejected",
                Some(&pod.meta.key()),
                None,
                Some("NamespaceNotFound"),
                Some(&msg),
            );
            return;
        }
        pod.meta.uid = self.next_uid();
        pod.meta.creation_timestamp = self.now;
        pod.sched_signature = crate::model::pod::scheduling_signature(&pod);
        pod.status = Default::default();
        pod.status.phase = Some(PodPhase::Pending);
        let id = PodId(self.pods.len() as u32);
        self.pods.push(pod);
        self.pod_rt.push(PodRuntime {
            live: true,
            ..Default::default()
        });
        self.pod_index.insert(key, id);
        self.phase_counts[PodPhase::Pending as usize] += 1;
        self.log_event("PodCreated", Some(id), None, None, None);
        self.workloads_pod_changed(id);

        let node_name = self.pods[id.0 as usize].spec.node_name.clone();
        if let Some(node_name) = node_name {
            // The user bound the pod: the kubelet admits it or rejects it.
            self.kubelet_admit(id, &node_name);
        } else if self
            .policy
            .handles(&self.pods[id.0 as usize].spec.scheduler_name)
        {
            if !self.pods[id.0 as usize].spec.scheduling_gates.is_empty() {
                self.gate_pod(id);
                return;
            }
            let prio = self.pods[id.0 as usize].spec.priority;
            self.sched.push_active(id, prio, self.now);
            self.wake_scheduler();
        }
    }

    /// A pod created with `spec.nodeName` skips the scheduler; the kubelet's
    /// admission runs the general predicates (resources, node affinity,
    /// host ports) and fails the pod if they fail.
    fn kubelet_admit(&mut self, id: PodId, node_name: &str) {
        let Some(&nid) = self.node_index.get(node_name) else {
            self.finish_pod(id, PodPhase::Failed, "NodeNotFound", None);
            return;
        };
        let verdict = {
            let pod = &self.pods[id.0 as usize];
            let node = &self.nodes[nid.0 as usize];
            kubelet_admission(pod, node)
        };
        match verdict {
            Ok(()) => {
                self.reserve(id, nid);
                self.pods[id.0 as usize].status.scheduled_at = Some(self.now);
                self.bind(id, nid);
            }
            Err(reason) => {
                self.counters.admission_rejections += 1;
                self.finish_pod(id, PodPhase::Failed, &reason, Some(nid));
            }
        }
    }

    /// Starts a scheduling cycle now if the scheduler is idle.
    pub(super) fn wake_scheduler(&mut self) {
        if !self.sched_busy && self.sched.active_len() > 0 {
            self.sched_busy = true;
            self.push(self.now, Event::ScheduleNext);
        }
    }

    fn pop_next_pod(&mut self) -> Option<PodId> {
        if !self.policy.custom_queue_order() {
            return self.sched.pop();
        }
        let entries = self.sched.active_entries();
        if entries.is_empty() {
            return None;
        }
        let i = self
            .policy
            .pick_next(&entries, &self.view())
            .min(entries.len() - 1);
        let id = entries[i].0;
        self.sched.take_active(id);
        Some(id)
    }

    pub(super) fn schedule_next(&mut self) {
        if self.node_order_dirty {
            self.rebuild_node_order();
        }
        let Some(id) = self.pop_next_pod() else {
            self.sched_busy = false;
            return;
        };
        let idx = id.0 as usize;
        self.counters.scheduling_attempts += 1;
        self.pods[idx].status.scheduling_attempts += 1;
        let result = {
            let view = cluster_view!(self);
            let rng = self.rng.get(Stream::Policy);
            self.policy.schedule(id, &view, rng, self.explain)
        };
        if let Some(e) = result.explanation {
            self.explanations.push(e);
        }
        let decision = match result.decision {
            Decision::Bind { node, ref gpus, .. } => match self.choose_gpus(id, node, gpus) {
                Ok(()) => result.decision,
                Err(e) => Decision::Error(e),
            },
            d => d,
        };
        match decision {
            Decision::Bind {
                node,
                wait,
                release,
                gpus: _,
            } => {
                self.clear_nomination(id);
                self.reserve(id, node);
                self.begin_flight(id);
                self.pods[idx].status.scheduled_at = Some(self.now);
                self.log_event("PodScheduled", Some(id), Some(node), None, None);
                match wait {
                    Some(t) => {
                        let timer = self.push(self.now.after(t), Event::PermitTimeout(id));
                        self.waiting.insert(id, (node, timer));
                        self.waiting_ids = self.waiting.keys().copied().collect();
                        self.log_event("PodWaitingAtPermit", Some(id), Some(node), None, None);
                    }
                    None => self.start_binding(id, node),
                }
                for r in release {
                    if let Some((n, timer)) = self.waiting.remove(&r) {
                        self.waiting_ids = self.waiting.keys().copied().collect();
                        self.cancel(Some(timer));
                        self.start_binding(r, n);
                    }
                }
            }
            Decision::Unschedulable { message, nominated } => {
                self.counters.scheduling_failures += 1;
                self.log_event(
                    "FailedScheduling",
                    Some(id),
                    None,
                    Some("Unschedulable"),
                    Some(&message),
                );
                match nominated {
                    Some((node, victims)) => self.nominate(id, node, &victims),
                    // Upstream clears a nomination when preemption found
                    // nothing, but keeps it while the pod waits for its
                    // victims to terminate.
                    None if self.pods[idx].status.nominated_node.is_some()
                        && !message.contains(
                            crate::scheduler::plugins::default_preemption::MSG_TERMINATING,
                        ) =>
                    {
                        self.clear_nomination(id);
                        self.nomination_dropped(id);
                    }
                    None => {}
                }
                self.park_failed(id, "Unschedulable", message);
            }
            Decision::Error(message) => {
                self.counters.scheduler_errors += 1;
                self.log_event(
                    "FailedScheduling",
                    Some(id),
                    None,
                    Some("SchedulerError"),
                    Some(&message),
                );
                self.park_failed(id, "SchedulerError", message);
            }
        }
        // The next cycle starts after this one's simulated cost.
        if self.sched.active_len() > 0 {
            let cost = self
                .scenario
                .scheduler
                .per_node_time
                .saturating_mul(u64::from(result.nodes_evaluated));
            let t = self
                .now
                .after(self.scenario.scheduler.cycle_time)
                .after(cost);
            self.push(t, Event::ScheduleNext);
        } else {
            self.sched_busy = false;
        }
    }

    /// A scheduling attempt failed: record why, start the back-off and
    /// park the pod (QueueingHints: `why` is what rejected it; `None` asks
    /// the policy about the cycle it just ran).
    fn park_failed(&mut self, id: PodId, reason: &str, message: String) {
        self.park_failed_with(id, reason, message, None, &[]);
    }

    fn park_failed_with(
        &mut self,
        id: PodId,
        reason: &str,
        message: String,
        why: Option<crate::scheduler::queue::Rejectors>,
        in_flight: &[crate::scheduler::hints::ClusterEvent],
    ) {
        let idx = id.0 as usize;
        self.pods[idx].status.reason = reason.to_string();
        self.pods[idx].status.message = message;
        let attempts = self.pods[idx].status.scheduling_attempts;
        let cfg = &self.scenario.scheduler.config;
        let backoff = backoff_duration(attempts, cfg.pod_initial_backoff, cfg.pod_max_backoff);
        self.pod_rt[idx].backoff_until = self.now.after(backoff);
        let why = why.unwrap_or_else(|| match self.policy.unschedulable_plugins(id) {
            None => crate::scheduler::queue::Rejectors::Undeclared,
            Some(v) => crate::scheduler::queue::Rejectors::Plugins(v),
        });
        self.park_rejected(id, why, in_flight);
        self.ensure_flush();
    }

    /// Preemption chose `node` for `id`: record the nomination and evict
    /// the victims gracefully.
    fn nominate(&mut self, id: PodId, node: NodeId, victims: &[PodId]) {
        let before = self.pods[id.0 as usize].status.nominated_node;
        self.clear_nomination(id);
        // Lower-priority pods nominated to the same node lose their
        // nomination (upstream `prepareCandidate`).
        let prio = self.pods[id.0 as usize].spec.priority;
        let lower: Vec<PodId> = self
            .nominated
            .get(&node)
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|p| self.pods[p.0 as usize].spec.priority < prio)
                    .collect()
            })
            .unwrap_or_default();
        for p in lower {
            self.clear_nomination(p);
            self.nomination_dropped(p);
        }
        self.pods[id.0 as usize].status.nominated_node = Some(node);
        self.nominated.entry(node).or_default().push(id);
        if before.is_some_and(|b| b != node) {
            self.nomination_dropped(id);
        }
        let msg = format!("preempted by {}", self.pods[id.0 as usize].meta.key());
        for v in victims {
            self.counters.preemptions += 1;
            self.log_event(
                "Preempted",
                Some(*v),
                Some(node),
                Some("Preempted"),
                Some(&msg),
            );
            self.delete_pod(*v, "Preempted");
        }
    }

    pub(super) fn clear_nomination(&mut self, id: PodId) {
        if let Some(n) = self.pods[id.0 as usize].status.nominated_node.take() {
            if let Some(v) = self.nominated.get_mut(&n) {
                v.retain(|p| *p != id);
                if v.is_empty() {
                    self.nominated.remove(&n);
                }
            }
        }
    }

    /// The binding cycle starts: the binding reaches the API after the
    /// scenario's bind time.
    fn start_binding(&mut self, id: PodId, node: NodeId) {
        let t = self.now.after(self.scenario.scheduler.bind_time);
        debug_assert_eq!(self.pods[id.0 as usize].status.node, Some(node));
        let timer = self.push(t, Event::Bind(id));
        self.pod_rt[id.0 as usize].timer = Some(timer);
    }

    /// A pod held at Permit timed out: unreserve and retry later.
    pub(super) fn permit_timeout(&mut self, id: PodId) {
        let Some((node, _)) = self.waiting.remove(&id) else {
            return;
        };
        self.waiting_ids = self.waiting.keys().copied().collect();
        self.unreserve_in_policy(id, node);
        self.unreserve(id);
        self.pods[id.0 as usize].status.node = None;
        self.pods[id.0 as usize].status.scheduled_at = None;
        let msg = "rejected due to timeout after waiting at permit".to_string();
        self.log_event(
            "FailedScheduling",
            Some(id),
            Some(node),
            Some("PermitTimeout"),
            Some(&msg),
        );
        let seen = self.end_flight(id);
        self.park_failed_with(id, "Unschedulable", msg, None, &seen);
        // Upstream `handleBindingCycleError`: the assumed pod is gone
        // (AssignedPod/Delete), moving every parked pod but itself.
        self.assigned_pod_deleted(id, crate::cluster::queueing::PreCheck::Except(id), true);
    }

    fn unreserve_in_policy(&mut self, id: PodId, node: NodeId) {
        let view = cluster_view!(self);
        self.policy.unreserve(id, node, &view);
    }

    fn ensure_flush(&mut self) {
        if !self.flush_scheduled {
            self.flush_scheduled = true;
            self.push(self.now.after(FLUSH_INTERVAL), Event::FlushUnschedulable);
        }
    }

    pub(super) fn flush_unschedulable(&mut self) {
        self.flush_scheduled = false;
        let stale = self.sched.take_stale(self.now);
        for p in stale {
            self.requeue(p);
        }
        if self.sched.has_unschedulable() && (self.pending_real > 0 || self.end.is_some()) {
            self.ensure_flush();
        }
        self.wake_scheduler();
    }

    pub(super) fn requeue(&mut self, p: PodId) {
        let idx = p.0 as usize;
        let until = self.pod_rt[idx].backoff_until;
        if until > self.now {
            self.sched.park_backoff(p);
            self.push(until, Event::BackoffDone(p));
        } else {
            let prio = self.pods[idx].spec.priority;
            self.sched.push_active(p, prio, self.now);
        }
    }

    pub(super) fn backoff_done(&mut self, p: PodId) {
        if self.sched.in_backoff(p) {
            let prio = self.pods[p.0 as usize].spec.priority;
            self.sched.push_active(p, prio, self.now);
            self.wake_scheduler();
        }
    }

    /// Adds the pod's requests to the node (the scheduler "assumes" it).
    pub(super) fn reserve(&mut self, id: PodId, nid: NodeId) {
        let pod = &mut self.pods[id.0 as usize];
        if pod.gpu.is_some() && pod.status.gpu_ids.is_empty() {
            // A pod bound without the scheduler (spec.nodeName).
            if let Some(ids) = crate::model::gpu::default_choice(pod, &self.nodes[nid.0 as usize]) {
                pod.status.gpu_ids = ids;
            }
        }
        pod.status.node = Some(nid);
        self.nodes[nid.0 as usize].add_pod(id, pod);
        self.pod_changes
            .record(id, nid, true, pod.meta.deletion_timestamp.is_some());
        self.refresh_affinity_sets(nid);
    }

    /// Sets the pod's `status.gpu_ids` before it is reserved on `node`:
    /// the policy's choice (checked) or, when `chosen` is empty, the
    /// default best-fit choice (EXPERIMENT.md §4).
    fn choose_gpus(&mut self, id: PodId, node: NodeId, chosen: &[u32]) -> Result<(), String> {
        let pod = &self.pods[id.0 as usize];
        let Some(n) = self.nodes.get(node.0 as usize) else {
            return Err(format!("policy chose node {node:?}, which does not exist"));
        };
        let ids = if chosen.is_empty() {
            crate::model::gpu::default_choice(pod, n)
                .ok_or_else(|| format!("node {} cannot host the pod's GPU request", n.name()))?
        } else {
            crate::model::gpu::check_choice(pod, n, chosen)?;
            chosen.to_vec()
        };
        self.pods[id.0 as usize].status.gpu_ids = ids;
        Ok(())
    }

    /// Removes the pod's requests from its node.
    pub(super) fn unreserve(&mut self, id: PodId) {
        self.usage_pod_gone(id);
        self.not_ready(id);
        let pod = &self.pods[id.0 as usize];
        let Some(nid) = pod.status.node else { return };
        self.nodes[nid.0 as usize].remove_pod(id, pod);
        self.pod_changes
            .record(id, nid, false, pod.meta.deletion_timestamp.is_some());
        self.refresh_affinity_sets(nid);
    }

    pub(super) fn bind(&mut self, id: PodId, nid: NodeId) {
        let idx = id.0 as usize;
        self.pod_rt[idx].timer = None;
        let bound = if !self.nodes[nid.0 as usize].present {
            Err("node no longer exists".to_string())
        } else if self.pods[idx].status.scheduled_at.is_some()
            && self.pods[idx].spec.node_name.is_none()
        {
            let view = cluster_view!(self);
            self.policy.bind(id, nid, &view)
        } else {
            Ok(())
        };
        let seen = self.end_flight(id);
        if let Err(msg) = bound {
            // Binding failed: forget the assumption and retry.
            self.unreserve(id);
            self.pods[idx].status.node = None;
            self.pods[idx].status.scheduled_at = None;
            self.log_event(
                "FailedScheduling",
                Some(id),
                Some(nid),
                Some("BindingFailed"),
                Some(&msg),
            );
            // An error, not a plugin's rejection: back-off, no event needed.
            let why = match self.policy.unschedulable_plugins(id) {
                None => crate::scheduler::queue::Rejectors::Undeclared,
                Some(_) => crate::scheduler::queue::Rejectors::Plugins(Vec::new()),
            };
            self.park_failed_with(id, "SchedulerError", msg, Some(why), &seen);
            self.assigned_pod_deleted(id, crate::cluster::queueing::PreCheck::All, true);
            return;
        }
        let node_name = self.nodes[nid.0 as usize].meta.name.clone();
        let pod = &mut self.pods[idx];
        pod.spec.node_name = Some(node_name);
        pod.status.bound_at = Some(self.now);
        pod.status.reason.clear();
        pod.status.message.clear();
        self.log_event("PodBound", Some(id), Some(nid), None, None);
        self.assigned_pod_added(id);
        if self.nodes[nid.0 as usize].kubelet_up {
            let Some(pull) = self.image_pulls(id, nid) else {
                return;
            };
            let b = &self.pods[idx].behavior;
            let t = self.now.after(pull).after(b.init_time).after(b.startup);
            self.pod_rt[idx].timer = Some(self.push(t, Event::PodStarted(id)));
        }
    }

    pub(super) fn pod_started(&mut self, id: PodId) {
        let idx = id.0 as usize;
        self.pod_rt[idx].timer = None;
        self.set_phase(idx, PodPhase::Running);
        let pod = &mut self.pods[idx];
        if pod.status.started_at.is_none() {
            pod.status.started_at = Some(self.now);
        }
        let node = pod.status.node;
        self.log_event("PodRunning", Some(id), node, None, None);
        self.images_in_use(id);
        self.start_run(id);
    }

    /// The main containers run for the pod's run time (forever if unset).
    fn start_run(&mut self, id: PodId) {
        let idx = id.0 as usize;
        self.pod_rt[idx].run_started = self.now;
        self.usage_run_started(id);
        let run = self.probes_run_started(id);
        self.workloads_pod_changed(id);
        if let Some(d) = run {
            let t = self.now.after(d);
            self.pod_rt[idx].timer = Some(self.push(t, Event::ContainerExited(id)));
        }
    }

    pub(super) fn container_exited(&mut self, id: PodId) {
        let idx = id.0 as usize;
        self.pod_rt[idx].timer = None;
        if self.pod_rt[idx].liveness_kill {
            // The liveness probe failed failureThreshold times: the kubelet
            // kills the containers (exit 137) and restarts them per policy.
            let node = self.pods[idx].status.node;
            self.log_event(
                "Unhealthy",
                Some(id),
                node,
                Some("Unhealthy"),
                Some("Liveness probe failed; container will be killed and restarted"),
            );
            self.container_exited_with(id, 137, Some("Error"));
            return;
        }
        let code = self.pods[idx].behavior.exit_code;
        self.container_exited_with(id, code, None);
    }

    /// The run ended with `code` (`reason` overrides Completed/Error, e.g.
    /// `OOMKilled` from the node model).
    pub(super) fn container_exited_with(
        &mut self,
        id: PodId,
        code: i32,
        reason: Option<&'static str>,
    ) {
        let idx = id.0 as usize;
        self.usage_run_stopped(id);
        self.not_ready(id);
        self.pod_rt[idx].liveness_kill = false;
        self.pods[idx].status.exit_code = Some(code);
        let restart = match self.pods[idx].spec.restart_policy {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => code != 0,
            RestartPolicy::Never => false,
        };
        if !restart {
            let phase = if code == 0 {
                PodPhase::Succeeded
            } else {
                PodPhase::Failed
            };
            let reason = reason.unwrap_or(if code == 0 { "Completed" } else { "Error" });
            self.pods[idx].status.container_state = ContainerState::Terminated {
                reason,
                exit_code: code,
            };
            let node = self.pods[idx].status.node;
            self.finish_pod(id, phase, reason, node);
            return;
        }
        // CrashLoopBackOff: 10s doubling to 5m, reset after 10m of running.
        let rt = &mut self.pod_rt[idx];
        let ran = self.now.since(rt.run_started);
        if rt.crash_backoff == Duration::ZERO || ran >= CRASH_BACKOFF_MAX.saturating_mul(2) {
            rt.crash_backoff = CRASH_BACKOFF_INITIAL;
        } else {
            rt.crash_backoff = rt.crash_backoff.saturating_mul(2).min(CRASH_BACKOFF_MAX);
        }
        let delay = rt.crash_backoff;
        let reason = reason.unwrap_or(if code == 0 { "Completed" } else { "Error" });
        let st = &mut self.pods[idx].status;
        st.last_termination = Some((reason, code));
        st.container_state = ContainerState::Waiting {
            reason: "CrashLoopBackOff",
        };
        let msg = format!("exit code {code}; restarting in {delay}");
        let node = self.pods[idx].status.node;
        self.log_event("ContainerExited", Some(id), node, Some(reason), Some(&msg));
        self.mark_pod_not_ready(id);
        let t = self.now.after(delay);
        self.pod_rt[idx].timer = Some(self.push(t, Event::ContainerRestart(id)));
    }

    pub(super) fn container_restart(&mut self, id: PodId) {
        let idx = id.0 as usize;
        self.pod_rt[idx].timer = None;
        self.pods[idx].status.restart_count += 1;
        self.counters.restarts += 1;
        // A Job with restartPolicy OnFailure counts restarts against its
        // backoffLimit: its controller hears of the pod update.
        self.workloads_pod_changed(id);
        let node = self.pods[idx].status.node;
        self.log_event("ContainerRestarted", Some(id), node, None, None);
        self.start_run(id);
    }

    /// Moves a pod to a terminal phase and frees its node resources. The pod
    /// stays in the API (as bare pods do) until deleted.
    pub(super) fn finish_pod(
        &mut self,
        id: PodId,
        phase: PodPhase,
        reason: &str,
        node: Option<NodeId>,
    ) {
        let idx = id.0 as usize;
        self.cancel_pod_timer(idx);
        self.cancel_evict_timer(idx);
        self.unreserve(id);
        if matches!(
            self.pods[idx].status.container_state,
            ContainerState::Running { .. }
        ) {
            self.pods[idx].status.container_state = ContainerState::Terminated {
                reason: "Error",
                exit_code: 137,
            };
        }
        self.set_phase(idx, phase);
        let pod = &mut self.pods[idx];
        pod.status.reason = reason.to_string();
        pod.status.finished_at = Some(self.now);
        let kind = if phase == PodPhase::Succeeded {
            "PodSucceeded"
        } else {
            "PodFailed"
        };
        self.log_event(kind, Some(id), node, Some(reason), None);
        self.sched.remove(id);
        self.end_flight(id);
        // The scheduler's informer drops terminal pods: a delete event.
        if self.pods[idx].status.node.is_some() {
            self.assigned_pod_deleted(id, crate::cluster::queueing::PreCheck::All, true);
        } else {
            let nominated = self.pods[idx].status.nominated_node.is_some();
            self.unscheduled_pod_deleted(id, nominated, true);
        }
    }

    /// Deletes a pod: unscheduled pods go at once; bound ones terminate
    /// gracefully (SIGTERM, then SIGKILL at the grace period).
    pub(super) fn delete_pod(&mut self, id: PodId, reason: &str) {
        let idx = id.0 as usize;
        if !self.pod_rt[idx].live || self.pods[idx].is_terminating() {
            return;
        }
        let was_nominated = self.pods[idx].status.nominated_node.is_some();
        self.pods[idx].meta.deletion_timestamp = Some(self.now);
        if let Some(n) = self.pods[idx].status.node {
            if self.nodes[n.0 as usize].pods.contains(&id) {
                self.pod_changes.record_terminating(id, n);
            }
        }
        self.terminating += 1;
        self.workloads_pod_changed(id);
        self.clear_nomination(id);
        // A pod held at Permit is given up: unreserve it in the policy.
        if let Some((node, timer)) = self.waiting.remove(&id) {
            self.waiting_ids = self.waiting.keys().copied().collect();
            self.cancel(Some(timer));
            self.unreserve_in_policy(id, node);
        }
        let bound = self.pods[idx].status.bound_at.is_some();
        if self.pods[idx].phase().is_terminal() || !bound {
            // Nothing runs: remove it now (and release an assumed node).
            let was_terminal = self.pods[idx].phase().is_terminal();
            let assumed = self.pods[idx].status.node.is_some();
            self.end_flight(id);
            self.cancel_pod_timer(idx);
            self.cancel_evict_timer(idx);
            self.unreserve(id);
            self.sched.remove(id);
            if self.pods[idx].status.finished_at.is_none() {
                self.pods[idx].status.finished_at = Some(self.now);
                self.pods[idx].status.reason = reason.to_string();
            }
            self.remove_pod(id, reason);
            if was_terminal {
                // Its delete event went out when it turned terminal.
                self.legacy_wake();
            } else if assumed {
                self.assigned_pod_deleted(id, crate::cluster::queueing::PreCheck::All, true);
            } else {
                self.unscheduled_pod_deleted(id, was_nominated, true);
            }
            return;
        }
        self.cancel_pod_timer(idx);
        // The Ready condition stays as it is while the pod terminates (the
        // kubelet keeps it until the containers stop); `Pod::is_ready`
        // already hides terminating pods from the workload controllers,
        // the EndpointSlice controller reads it as `serving`.
        let t = self.pod_rt[idx].ready_timer.take();
        self.cancel(t);
        let node = self.pods[idx].status.node;
        self.log_event("PodTerminating", Some(id), node, Some(reason), None);
        self.pods[idx].status.reason = reason.to_string();
        let kubelet_up = node.is_some_and(|n| self.nodes[n.0 as usize].kubelet_up);
        if !kubelet_up {
            // Nobody can stop the containers: the pod stays Terminating
            // until its node comes back or is removed.
            return;
        }
        let pod = &self.pods[idx];
        let wait = if pod.phase() == PodPhase::Running {
            // preStop hooks run first, then SIGTERM; the grace period
            // covers both (an overrunning preStop gets a one-time 2 s
            // extension, kuberuntime killContainer).
            let pre = pod.behavior.prestop;
            let g = pod.spec.termination_grace_period;
            if pre >= g && pre > Duration::ZERO {
                Duration::from_micros(g.as_micros().saturating_add(2_000_000))
            } else {
                Duration::from_micros(pre.as_micros() + pod.behavior.shutdown.as_micros()).min(g)
            }
        } else {
            Duration::ZERO
        };
        let t = self.now.after(wait);
        self.pod_rt[idx].timer = Some(self.push(t, Event::PodKilled(id)));
    }

    pub(super) fn pod_killed(&mut self, id: PodId) {
        let idx = id.0 as usize;
        self.pod_rt[idx].timer = None;
        let pod = &self.pods[idx];
        // A process that exits before the grace period ends exits cleanly;
        // otherwise the kubelet sends SIGKILL (137).
        let graceful = pod.phase() != PodPhase::Running
            || pod.behavior.prestop.as_micros() + pod.behavior.shutdown.as_micros()
                < pod.spec.termination_grace_period.as_micros();
        let code = if graceful { 0 } else { 137 };
        let reason = pod.status.reason.clone();
        if matches!(pod.status.container_state, ContainerState::Running { .. }) {
            self.pods[idx].status.container_state = ContainerState::Terminated {
                reason: if code == 0 { "Completed" } else { "Error" },
                exit_code: code,
            };
        }
        let pod = &self.pods[idx];
        let was_terminal = pod.phase().is_terminal();
        if !pod.phase().is_terminal() {
            let phase = if code == 0 {
                PodPhase::Succeeded
            } else {
                PodPhase::Failed
            };
            self.set_phase(idx, phase);
            let p = &mut self.pods[idx];
            p.status.exit_code = Some(code);
            p.status.finished_at = Some(self.now);
        }
        self.cancel_evict_timer(idx);
        self.unreserve(id);
        self.remove_pod(id, &reason);
        if was_terminal {
            self.legacy_wake();
        } else {
            self.assigned_pod_deleted(id, crate::cluster::queueing::PreCheck::All, true);
        }
    }

    /// Changes a pod's phase, keeping the per-phase counts of live pods.
    pub(super) fn set_phase(&mut self, idx: usize, phase: PodPhase) {
        let old = self.pods[idx].phase();
        if self.pod_rt[idx].live {
            self.phase_counts[old as usize] -= 1;
            self.phase_counts[phase as usize] += 1;
        }
        self.pods[idx].status.phase = Some(phase);
        self.workloads_pod_changed(PodId(idx as u32));
    }

    /// Takes the pod out of the API.
    pub(super) fn remove_pod(&mut self, id: PodId, reason: &str) {
        let idx = id.0 as usize;
        if self.pod_rt[idx].live {
            self.phase_counts[self.pods[idx].phase() as usize] -= 1;
            if self.pods[idx].is_terminating() {
                self.terminating -= 1;
            }
        }
        self.pod_rt[idx].live = false;
        let key = (
            self.pods[idx].meta.namespace.clone(),
            self.pods[idx].meta.name.clone(),
        );
        if self.pod_index.get(&key) == Some(&id) {
            self.pod_index.remove(&key);
        }
        let node = self.pods[idx].status.node;
        self.log_event("PodDeleted", Some(id), node, Some(reason), None);
        self.workloads_pod_changed(id);
    }

    pub(super) fn taint_eviction(&mut self, id: PodId) {
        let idx = id.0 as usize;
        self.pod_rt[idx].evict_timer = None;
        self.counters.evictions += 1;
        self.delete_pod(id, "TaintManagerEviction");
    }

    /// Schedules or performs the NoExecute taint eviction of a pod on a
    /// tainted node (upstream taint-eviction controller).
    pub(super) fn apply_no_execute(&mut self, id: PodId, nid: NodeId) {
        let idx = id.0 as usize;
        let node = &self.nodes[nid.0 as usize];
        let taints: Vec<_> = node
            .taints
            .iter()
            .filter(|t| t.effect == crate::model::TaintEffect::NoExecute)
            .cloned()
            .collect();
        if taints.is_empty() {
            return;
        }
        // Each taint must be tolerated; the shortest tolerationSeconds wins.
        let mut min_secs: Option<i64> = None;
        for t in &taints {
            let matching: Vec<_> = self.pods[idx]
                .spec
                .tolerations
                .iter()
                .filter(|x| x.tolerates(t))
                .collect();
            if matching.is_empty() {
                self.counters.evictions += 1;
                self.delete_pod(id, "TaintManagerEviction");
                return;
            }
            // A toleration without seconds tolerates forever.
            let secs = matching
                .iter()
                .map(|x| x.toleration_seconds)
                .min_by_key(|s| s.unwrap_or(i64::MAX));
            if let Some(Some(s)) = secs {
                min_secs = Some(min_secs.map_or(s, |m| m.min(s)));
            }
        }
        if let Some(s) = min_secs {
            if self.pod_rt[idx].evict_timer.is_none() {
                let t = self.now.after(Duration::from_secs(s.max(0) as u64));
                self.pod_rt[idx].evict_timer = Some(self.push(t, Event::TaintEviction(id)));
            }
        }
    }

    pub(super) fn cancel_pod_timer(&mut self, idx: usize) {
        let t = self.pod_rt[idx].timer.take();
        self.cancel(t);
    }

    pub(super) fn cancel_evict_timer(&mut self, idx: usize) {
        let t = self.pod_rt[idx].evict_timer.take();
        self.cancel(t);
    }

    pub(super) fn pods_on(&self, nid: NodeId) -> Vec<PodId> {
        self.nodes[nid.0 as usize].pods.iter().copied().collect()
    }
}

/// The kubelet's admission for pods bound by the user: resources, node
/// affinity and host ports, with the kubelet's reasons (`OutOfcpu`, …).
pub fn kubelet_admission(pod: &Pod, node: &crate::model::Node) -> Result<(), String> {
    // The kubelet runs the scheduler's own fit predicate; the first
    // insufficient resource names the reason (`OutOfpods` comes first).
    let none = std::collections::BTreeSet::new();
    let insufficient = crate::scheduler::plugins::node_resources_fit::fits_request(
        &pod.requests,
        node,
        &none,
        &none,
    );
    if let Some(r) = insufficient.first() {
        return Err(format!("OutOf{}", r.resource_name));
    }
    if pod.gpu.is_some() && crate::model::gpu::default_choice(pod, node).is_none() {
        return Err("OutOfgpu".to_string());
    }
    if !crate::scheduler::plugins::node_affinity::pod_matches_node(pod, node) {
        return Err("NodeAffinity".to_string());
    }
    let wanted: Vec<_> = crate::model::node::host_ports(pod).collect();
    if !crate::scheduler::plugins::node_ports::fits_ports(&wanted, &node.used_ports) {
        return Err("NodePorts".to_string());
    }
    Ok(())
}
