//! DefaultPreemption (PostFilter): when no node fits, find a node where
//! evicting lower-priority pods makes the pod fit, and the victims to evict
//! there.
//!
//! Follows upstream v1.35 pkg/scheduler/framework/plugins/defaultpreemption
//! (`default_preemption.go`: `PostFilter`, `PodEligibleToPreemptOthers`,
//! `calculateNumCandidates`, `GetOffsetAndNumCandidates`,
//! `SelectVictimsOnNode`, `filterPodsWithPDBViolation`) and
//! pkg/scheduler/framework/preemption (`preemption.go`: `Preempt`,
//! `findCandidates`, `DryRunPreemption`, `SelectCandidate`,
//! `pickOneNodeForPreemption`), plus `NodeToStatus.NodesForStatusCode`
//! (framework/types.go) and `util.MoreImportantPod` /
//! `GetEarliestPodStartTime`. The flow of [`DefaultPreemption::preempt`]:
//!
//! 1. the pod must be eligible ([`DefaultPreemption::pod_eligible_to_preempt_others`]);
//! 2. the nodes whose Filter status is `Unschedulable` are the potential
//!    nodes ([`nodes_where_preemption_might_help`]); nodes with
//!    `UnschedulableAndUnresolvable`, and nodes absent from the status map
//!    (upstream's default absent status is `UnschedulableAndUnresolvable`),
//!    are skipped;
//! 3. a dry run, from an offset, over the potential nodes until enough
//!    candidates are found ([`DefaultPreemption::dry_run_preemption`]);
//!    each node is cloned with the cycle state and
//!    [`DefaultPreemption::select_victims_on_node`] removes every
//!    lower-priority pod, checks the fit through [`Handle::run_filters`]
//!    (the nominated-pods rule included), then reprieves pods, PDB-violating
//!    ones first, each group by descending importance;
//! 4. the best candidate ([`pick_one_node_for_preemption`]) is returned as
//!    the nominated node with its victims; the World evicts them.
//!
//! Messages are upstream's: the status reads
//! `preemption: 0/N nodes are available: <histogram>.` built like
//! `FitError.Error()` over the dry run's statuses, with
//! `Preemption is not helpful for scheduling` for the nodes not tried, and
//! `No preemption victims found for incoming pod` for nodes without
//! lower-priority pods.
//!
//! Randomness: upstream draws the dry run's offset into the potential nodes
//! with `rand.Int31n`; kubesim draws it through [`Handle::rand_int31n`],
//! which the default scheduler serves from the run's seeded `preemption`
//! stream ([`crate::engine::Stream::Preemption`]), so a run is
//! reproducible and the offset does not shift the policy stream's draws.
//!
//! PodDisruptionBudgets: the PostFilter entry point passes the World's PDBs
//! (`ClusterView::pdbs`, with the status the disruption controller last
//! computed) to [`filter_pods_with_pdb_violation`], so victims are chosen
//! minimising violations as upstream does.
//!
//! Deviations (kubesim has no preemptionPolicy yet):
//! - The dry run is sequential (upstream runs it in parallel and stops
//!   "about" when enough candidates are found); kubesim stops exactly as
//!   upstream does with parallelism 1.
//! - Order: potential nodes follow `view.node_order` (upstream: the order
//!   of the node lister or of a Go map); a node's pods are taken in `PodId`
//!   order (upstream: NodeInfo order); sorts are stable; ties left by
//!   `pickOneNodeForPreemption` go to the first candidate in dry-run order
//!   (upstream: a Go map's random order).
//! - Start time: a pod's start time is `status.started_at` (first Running);
//!   a pod not started yet counts as started "now" (`view.now`), as
//!   upstream's `GetPodStartTime` uses `time.Now()`; two such pods compare
//!   equal (upstream's two `time.Now()` calls make the first argument
//!   earlier).
//! - preemptionPolicy: pods do not carry it yet; every pod is treated as
//!   `PreemptLowerPriority` (upstream rejects `Never` with
//!   [`MSG_PREEMPT_NEVER`]).
//! - "Terminating by preemption" (upstream: a deletion timestamp and the
//!   `DisruptionTarget` condition with reason `PreemptionByScheduler`) is a
//!   deletion timestamp with `status.reason == "Preempted"`, which is how the
//!   World marks preemption victims.
//! - Extenders' `ProcessPreemption` is not called (the [`Handle`] does not
//!   expose extenders), and clearing the nomination of lower-priority pods
//!   nominated to the chosen node (`prepareCandidate`) is left to the World.
//! - The plugin cannot see a PreFilter rejection's status for absent nodes
//!   (kube.rs passes only the Filter statuses); absent nodes are treated
//!   with upstream's default absent status, `UnschedulableAndUnresolvable`.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use crate::engine::SimTime;
use crate::model::selector::label_selector_as_selector;
use crate::model::{LabelSelector, Node, NodeId, Pod, PodId};
use crate::scheduler::config::DefaultPreemptionArgs;
use crate::scheduler::framework::{
    ClusterView, Code, CycleState, Handle, Plugin, Point, PostFilterOutcome, Status,
};
use crate::scheduler::kube::fit_error_message;

/// The plugin name.
pub const NAME: &str = "DefaultPreemption";
/// Status of a node without lower-priority pods (upstream's text).
pub const ERR_NO_VICTIMS: &str = "No preemption victims found for incoming pod";
/// Absent-node status when no candidate is found (upstream's text).
pub const ERR_NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
/// Upstream's reason for a pod with `preemptionPolicy: Never` (kubesim
/// pods do not carry the field yet).
pub const MSG_PREEMPT_NEVER: &str = "not eligible due to preemptionPolicy=Never.";
/// Upstream's reason when victims on the nominated node are terminating.
pub const MSG_TERMINATING: &str = "not eligible due to a terminating pod on the nominated node.";
/// `status.reason` the World gives pods it deletes as preemption victims.
pub const PREEMPTED_REASON: &str = "Preempted";

/// A PodDisruptionBudget as preemption reads it (`policy/v1`): only the
/// fields `filterPodsWithPDBViolation` uses. kubesim has no PDB objects
/// yet; this is the shape they will plug in with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodDisruptionBudget {
    pub namespace: String,
    /// `spec.selector`; `None` (and an empty selector) matches nothing.
    pub selector: Option<LabelSelector>,
    /// `status.disruptionsAllowed`.
    pub disruptions_allowed: i32,
    /// Names of `status.disruptedPods`: evictions already processed by the
    /// API server, not counted again.
    pub disrupted_pods: BTreeSet<String>,
}

/// A node where the pod fits once `victims` are gone (upstream
/// `Candidate` with `extenderv1.Victims`). Victims are ordered from the most
/// to the least important.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub node: NodeId,
    pub victims: Vec<PodId>,
    pub num_pdb_violations: i64,
}

/// What the dry run found: candidates (PDB-respecting ones first), the
/// status of every node that did not become a candidate, and the messages
/// of the `Error` statuses among them.
#[derive(Clone, Debug, Default)]
pub struct DryRun {
    pub candidates: Vec<Candidate>,
    pub statuses: BTreeMap<NodeId, Status>,
    pub errors: Vec<String>,
}

/// Everything one preemption attempt reads.
#[derive(Clone, Copy)]
pub struct PreemptionContext<'c, 'v> {
    /// The preemptor.
    pub pod_id: PodId,
    pub pod: &'c Pod,
    pub view: ClusterView<'v>,
    pub handle: &'c dyn Handle,
    pub pdbs: &'c [PodDisruptionBudget],
}

pub struct DefaultPreemption {
    args: DefaultPreemptionArgs,
}

impl DefaultPreemption {
    pub fn new(args: DefaultPreemptionArgs) -> DefaultPreemption {
        DefaultPreemption { args }
    }

    /// Upstream `calculateNumCandidates`: `numNodes * percentage / 100`,
    /// at least the absolute minimum, at most `num_nodes`.
    pub fn calculate_num_candidates(&self, num_nodes: i32) -> i32 {
        let num_nodes = num_nodes.max(0);
        let mut n =
            i64::from(num_nodes) * i64::from(self.args.min_candidate_nodes_percentage) / 100;
        if n < i64::from(self.args.min_candidate_nodes_absolute) {
            n = i64::from(self.args.min_candidate_nodes_absolute);
        }
        if n > i64::from(num_nodes) {
            n = i64::from(num_nodes);
        }
        // In range: 0 ..= num_nodes (negative args clamp to 0).
        i32::try_from(n.max(0)).unwrap_or(num_nodes)
    }

    /// Upstream `GetOffsetAndNumCandidates`: a random offset in
    /// `[0, num_nodes)` (upstream `rand.Int31n(numNodes)`), drawn through
    /// `handle` (the default scheduler's seeded `preemption` stream), and
    /// [`DefaultPreemption::calculate_num_candidates`].
    pub fn get_offset_and_num_candidates(&self, num_nodes: i32, handle: &dyn Handle) -> (i32, i32) {
        (
            handle.rand_int31n(num_nodes),
            self.calculate_num_candidates(num_nodes),
        )
    }

    /// Upstream `PodEligibleToPreemptOthers`. `nominated_status` is the
    /// Filter status of the pod's nominated node (`None` reads as upstream's
    /// nil status, i.e. Success). A pod whose nominated node still holds
    /// lower-priority pods terminating because of preemption waits for them
    /// instead of preempting again, unless that node became unresolvable.
    /// Returns the reason when not eligible.
    pub fn pod_eligible_to_preempt_others(
        &self,
        pod: &Pod,
        nominated_status: Option<&Status>,
        view: &ClusterView,
    ) -> (bool, &'static str) {
        // preemptionPolicy: Never is not modelled (every pod preempts).
        if let Some(nn) = pod.status.nominated_node {
            if nominated_status.is_some_and(|s| s.code == Code::UnschedulableAndUnresolvable) {
                return (true, "");
            }
            if let Some(node) = view.nodes.get(nn.0 as usize).filter(|n| n.present) {
                for p in &node.pods {
                    if let Some(p) = view.pods.get(p.0 as usize) {
                        if is_preemption_allowed(p, pod) && terminating_by_preemption(p) {
                            return (false, MSG_TERMINATING);
                        }
                    }
                }
            }
        }
        (true, "")
    }

    /// Upstream `SelectVictimsOnNode` on `node` and `state`, which are the
    /// caller's copies (they are modified). Returns the victims, most
    /// important first, and how many of them violate a PDB; or the status
    /// that rules the node out (`UnschedulableAndUnresolvable` without
    /// lower-priority pods, the Filter status if the pod does not fit even
    /// without them, `Error` if a PreFilter extension fails).
    pub fn select_victims_on_node(
        &self,
        cx: &PreemptionContext<'_, '_>,
        state: &mut CycleState,
        node_id: NodeId,
        node: &mut Node,
    ) -> Result<(Vec<PodId>, i64), Status> {
        let view = cx.view;
        // First remove every pod eligible for preemption and check the fit.
        let mut potential: Vec<(PodId, &Pod)> = node
            .pods
            .iter()
            .filter_map(|id| view.pods.get(id.0 as usize).map(|p| (*id, p)))
            .filter(|(_, p)| is_preemption_allowed(p, cx.pod))
            .collect();
        for &(id, victim) in &potential {
            remove_victim(cx, state, node, id, victim)?;
        }
        if potential.is_empty() {
            return Err(Status::unresolvable(ERR_NO_VICTIMS));
        }
        let s = cx
            .handle
            .run_filters(state, cx.pod_id, cx.pod, node_id, node, &view);
        if !s.is_success() {
            return Err(s);
        }
        // Reprieve as many as possible, most important first: PDB-violating
        // pods, then the others.
        potential.sort_by(|a, b| importance_cmp(a.1, b.1, view.now));
        let (violating, non_violating) = filter_pods_with_pdb_violation(&potential, cx.pdbs);
        let mut victims: Vec<(PodId, &Pod)> = Vec::new();
        let mut num_violating = 0i64;
        for &(id, p) in &violating {
            if !reprieve(cx, state, node_id, node, id, p, &mut victims)? {
                num_violating += 1;
            }
        }
        for &(id, p) in &non_violating {
            reprieve(cx, state, node_id, node, id, p, &mut victims)?;
        }
        if !violating.is_empty() && !non_violating.is_empty() {
            victims.sort_by(|a, b| importance_cmp(a.1, b.1, view.now));
        }
        Ok((
            victims.into_iter().map(|(id, _)| id).collect(),
            num_violating,
        ))
    }

    /// Upstream `DryRunPreemption` run sequentially: from `offset`, each
    /// potential node (with copies of the node and of `state`) until at
    /// least one PDB-respecting candidate exists and `num_candidates` are
    /// found. Each list keeps at most `num_candidates` candidates.
    pub fn dry_run_preemption(
        &self,
        cx: &PreemptionContext<'_, '_>,
        state: &CycleState,
        potential: &[NodeId],
        offset: i32,
        num_candidates: i32,
    ) -> DryRun {
        let mut out = DryRun::default();
        let n = potential.len();
        if n == 0 {
            return out;
        }
        let cap = usize::try_from(num_candidates).unwrap_or(0);
        let offset = usize::try_from(offset).unwrap_or(0) % n;
        let mut non_violating: Vec<Candidate> = Vec::new();
        let mut violating: Vec<Candidate> = Vec::new();
        for i in 0..n {
            let node_id = potential[(offset + i) % n];
            let Some(orig) = cx.view.nodes.get(node_id.0 as usize) else {
                continue;
            };
            let mut node = orig.clone();
            let mut st = state.clone();
            match self.select_victims_on_node(cx, &mut st, node_id, &mut node) {
                Ok((victims, nv)) if !victims.is_empty() => {
                    let c = Candidate {
                        node: node_id,
                        victims,
                        num_pdb_violations: nv,
                    };
                    if nv == 0 {
                        if non_violating.len() < cap {
                            non_violating.push(c);
                        }
                    } else if violating.len() < cap {
                        violating.push(c);
                    }
                    if !non_violating.is_empty() && non_violating.len() + violating.len() >= cap {
                        break;
                    }
                }
                Ok(_) => {
                    let s = Status::error(format!(
                        "expected at least one victim pod on node {:?}",
                        orig.name()
                    ));
                    out.errors.push(s.message());
                    out.statuses.insert(node_id, s);
                }
                Err(s) => {
                    if s.code == Code::Error {
                        out.errors.push(s.message());
                    }
                    out.statuses.insert(node_id, s);
                }
            }
        }
        non_violating.extend(violating);
        out.candidates = non_violating;
        out
    }

    /// Upstream `Evaluator.Preempt` plus the `preemption: ` prefix of
    /// `PostFilter`, with the PDBs given.
    pub fn preempt(
        &self,
        cx: &PreemptionContext<'_, '_>,
        state: &CycleState,
        statuses: &BTreeMap<NodeId, Status>,
    ) -> PostFilterOutcome {
        let absent = Code::UnschedulableAndUnresolvable;
        let view = cx.view;
        // 1) Eligibility.
        let nominated_status = cx.pod.status.nominated_node.map(|n| {
            statuses.get(&n).cloned().unwrap_or(Status {
                code: absent,
                reasons: Vec::new(),
                plugin: "",
            })
        });
        let (ok, msg) =
            self.pod_eligible_to_preempt_others(cx.pod, nominated_status.as_ref(), &view);
        if !ok {
            return outcome(Code::Unschedulable, msg);
        }
        // 2) Candidates.
        let num_all_nodes = view.node_order.len();
        if num_all_nodes == 0 {
            return outcome(Code::Error, "no nodes available");
        }
        let potential = nodes_where_preemption_might_help(&view, statuses, absent);
        let dry = if potential.is_empty() {
            DryRun::default()
        } else {
            let (offset, num) = self.get_offset_and_num_candidates(
                i32::try_from(potential.len()).unwrap_or(i32::MAX),
                cx.handle,
            );
            self.dry_run_preemption(cx, state, &potential, offset, num)
        };
        if dry.candidates.is_empty() {
            if !dry.errors.is_empty() {
                return outcome(Code::Error, &aggregate_errors(&dry.errors));
            }
            let fit = fit_error_message(
                num_all_nodes,
                "",
                &dry.statuses,
                Some(&Status::unresolvable(ERR_NOT_HELPFUL)),
                "",
            );
            return outcome(Code::Unschedulable, &fit);
        }
        // 3) Extenders: not consulted (see the module documentation).
        // 4) The best candidate.
        match select_candidate(&dry.candidates, &view) {
            Some(c) => PostFilterOutcome {
                nominated: Some((c.node, c.victims.clone())),
                status: Status::success().with_plugin(NAME),
            },
            None => outcome(Code::Unschedulable, "no candidate node for preemption"),
        }
    }
}

impl Plugin for DefaultPreemption {
    fn name(&self) -> &'static str {
        NAME
    }
    fn points(&self) -> &'static [Point] {
        &[Point::PostFilter]
    }
    fn post_filter(
        &self,
        state: &CycleState,
        pod_id: PodId,
        pod: &Pod,
        statuses: &BTreeMap<NodeId, Status>,
        view: &ClusterView,
        handle: &dyn Handle,
    ) -> PostFilterOutcome {
        // The PDBs the World keeps (status as the disruption controller
        // last computed it).
        let cx = PreemptionContext {
            pod_id,
            pod,
            view: *view,
            handle,
            pdbs: view.pdbs,
        };
        self.preempt(&cx, state, statuses)
    }
}

/// A status with upstream's `preemption: ` prefix (when the message is not
/// empty).
fn outcome(code: Code, msg: &str) -> PostFilterOutcome {
    let reasons = if msg.is_empty() {
        Vec::new()
    } else {
        vec![format!("preemption: {msg}")]
    };
    PostFilterOutcome {
        nominated: None,
        status: Status {
            code,
            reasons,
            plugin: NAME,
        },
    }
}

/// `utilerrors.NewAggregate(errs).Error()`: one message as is, several
/// deduplicated in `[a, b]`.
fn aggregate_errors(errs: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for e in errs {
        if !seen.contains(&e.as_str()) {
            seen.push(e);
        }
    }
    if seen.len() == 1 {
        seen[0].to_string()
    } else {
        format!("[{}]", seen.join(", "))
    }
}

/// Upstream `isPreemptionAllowed` with the default `IsEligiblePod`: the
/// victim must have a lower priority.
fn is_preemption_allowed(victim: &Pod, preemptor: &Pod) -> bool {
    victim.spec.priority < preemptor.spec.priority
}

/// Upstream `podTerminatingByPreemption` (see the module documentation).
fn terminating_by_preemption(p: &Pod) -> bool {
    p.meta.deletion_timestamp.is_some() && p.status.reason == PREEMPTED_REASON
}

/// Upstream `GetPodStartTime`: the start time, or now if not started.
fn pod_start_time(p: &Pod, now: SimTime) -> SimTime {
    p.status.started_at.unwrap_or(now)
}

/// Upstream `MoreImportantPod`: higher priority, then earlier start.
pub fn more_important_pod(a: &Pod, b: &Pod, now: SimTime) -> bool {
    importance_cmp(a, b, now) == Ordering::Less
}

/// Orders pods from the most to the least important.
fn importance_cmp(a: &Pod, b: &Pod, now: SimTime) -> Ordering {
    b.spec
        .priority
        .cmp(&a.spec.priority)
        .then_with(|| pod_start_time(a, now).cmp(&pod_start_time(b, now)))
}

/// Removes a victim from the hypothetical node and runs the PreFilter
/// `RemovePod` extensions.
fn remove_victim(
    cx: &PreemptionContext<'_, '_>,
    state: &mut CycleState,
    node: &mut Node,
    id: PodId,
    victim: &Pod,
) -> Result<(), Status> {
    node.remove_pod(id, victim);
    let s = cx.handle.remove_pod(state, cx.pod, victim, node, &cx.view);
    if s.is_success() {
        Ok(())
    } else {
        Err(extension_error("RemovePod", &s))
    }
}

/// Puts a pod back on the hypothetical node; if the preemptor no longer
/// fits, removes it again and records it as a victim. Returns whether the
/// preemptor still fits.
fn reprieve<'v>(
    cx: &PreemptionContext<'_, 'v>,
    state: &mut CycleState,
    node_id: NodeId,
    node: &mut Node,
    id: PodId,
    p: &'v Pod,
    victims: &mut Vec<(PodId, &'v Pod)>,
) -> Result<bool, Status> {
    node.add_pod(id, p);
    let s = cx.handle.add_pod(state, cx.pod, p, node, &cx.view);
    if !s.is_success() {
        return Err(extension_error("AddPod", &s));
    }
    let fits = cx
        .handle
        .run_filters(state, cx.pod_id, cx.pod, node_id, node, &cx.view)
        .is_success();
    if !fits {
        remove_victim(cx, state, node, id, p)?;
        victims.push((id, p));
    }
    Ok(fits)
}

/// Upstream's framework wraps a failing PreFilter extension as
/// `running RemovePod on PreFilter plugin "X": <message>`.
fn extension_error(op: &str, s: &Status) -> Status {
    let msg = s.message();
    if msg.starts_with("running ") {
        return Status::error(msg);
    }
    Status::error(format!(
        "running {op} on PreFilter plugin {:?}: {msg}",
        s.plugin
    ))
}

/// Pods with their ids.
pub type PodRefs<'p> = Vec<(PodId, &'p Pod)>;

/// Upstream `filterPodsWithPDBViolation`: splits `pods` (order kept) into
/// those whose eviction would exceed a matching PDB's allowed disruptions
/// and the others. Each matching PDB's budget is consumed in order; pods
/// already listed in `disruptedPods` do not consume it.
pub fn filter_pods_with_pdb_violation<'p>(
    pods: &[(PodId, &'p Pod)],
    pdbs: &[PodDisruptionBudget],
) -> (PodRefs<'p>, PodRefs<'p>) {
    let mut allowed: Vec<i32> = pdbs.iter().map(|p| p.disruptions_allowed).collect();
    // An invalid selector matches no pod.
    let selectors: Vec<_> = pdbs
        .iter()
        .map(|p| label_selector_as_selector(p.selector.as_ref()).ok())
        .collect();
    let mut violating = Vec::new();
    let mut non_violating = Vec::new();
    for &(id, pod) in pods {
        let mut violated = false;
        if !pod.meta.labels.is_empty() {
            for (i, pdb) in pdbs.iter().enumerate() {
                if pdb.namespace != pod.meta.namespace {
                    continue;
                }
                let Some(Some(sel)) = selectors.get(i) else {
                    continue;
                };
                // An empty selector matches nothing here.
                if sel.is_empty() || !sel.matches(&pod.meta.labels) {
                    continue;
                }
                if pdb.disrupted_pods.contains(&pod.meta.name) {
                    continue;
                }
                allowed[i] = allowed[i].saturating_sub(1);
                if allowed[i] < 0 {
                    violated = true;
                }
            }
        }
        if violated {
            violating.push((id, pod));
        } else {
            non_violating.push((id, pod));
        }
    }
    (violating, non_violating)
}

/// Upstream `NodeToStatus.NodesForStatusCode(lister, Unschedulable)`: the
/// nodes, in the scheduler's node order, whose status is `Unschedulable`;
/// nodes without a status have `absent` (upstream's default:
/// `UnschedulableAndUnresolvable`).
pub fn nodes_where_preemption_might_help(
    view: &ClusterView,
    statuses: &BTreeMap<NodeId, Status>,
    absent: Code,
) -> Vec<NodeId> {
    view.node_order
        .iter()
        .copied()
        .filter(|n| statuses.get(n).map_or(absent, |s| s.code) == Code::Unschedulable)
        .collect()
}

/// Upstream `Evaluator.SelectCandidate`.
pub fn select_candidate<'c>(
    candidates: &'c [Candidate],
    view: &ClusterView,
) -> Option<&'c Candidate> {
    match candidates.len() {
        0 => None,
        1 => candidates.first(),
        _ => pick_one_node_for_preemption(candidates, view).and_then(|i| candidates.get(i)),
    }
}

/// Upstream `GetEarliestPodStartTime`: the earliest start among the
/// highest-priority victims.
fn earliest_start_of_highest(victims: &[PodId], view: &ClusterView) -> Option<SimTime> {
    let mut pods = victims.iter().filter_map(|v| view.pods.get(v.0 as usize));
    let first = pods.next()?;
    let mut max_priority = first.spec.priority;
    let mut earliest = pod_start_time(first, view.now);
    for p in pods {
        let t = pod_start_time(p, view.now);
        if p.spec.priority == max_priority {
            if t < earliest {
                earliest = t;
            }
        } else if p.spec.priority > max_priority {
            max_priority = p.spec.priority;
            earliest = t;
        }
    }
    Some(earliest)
}

/// Upstream `pickOneNodeForPreemption` with the default score functions,
/// applied in turn while more than one candidate has the best score:
/// 1. fewest PDB violations;
/// 2. lowest highest-priority victim;
/// 3. lowest sum of victim priorities, each offset by `MaxInt32 + 1`;
/// 4. fewest victims;
/// 5. latest start among the highest-priority victims;
/// 6. the first remaining candidate.
///
/// Returns an index into `candidates`.
pub fn pick_one_node_for_preemption(candidates: &[Candidate], view: &ClusterView) -> Option<usize> {
    if candidates.is_empty() {
        return None;
    }
    let priority = |id: &PodId| view.pods.get(id.0 as usize).map_or(0, |p| p.spec.priority);
    let min_pdb = |c: &Candidate| c.num_pdb_violations.saturating_neg();
    let min_highest = |c: &Candidate| -i64::from(c.victims.first().map_or(0, priority));
    let min_sum = |c: &Candidate| {
        let sum = c.victims.iter().fold(0i64, |acc, v| {
            acc.saturating_add(i64::from(priority(v)) + i64::from(i32::MAX) + 1)
        });
        sum.saturating_neg()
    };
    let min_pods = |c: &Candidate| -i64::try_from(c.victims.len()).unwrap_or(i64::MAX);
    let latest_start = |c: &Candidate| match earliest_start_of_highest(&c.victims, view) {
        Some(t) => i64::try_from(t.as_micros()).unwrap_or(i64::MAX),
        None => i64::MIN,
    };
    let score_fns: [&dyn Fn(&Candidate) -> i64; 5] =
        [&min_pdb, &min_highest, &min_sum, &min_pods, &latest_start];
    let mut all: Vec<usize> = (0..candidates.len()).collect();
    for f in score_fns {
        let mut selected: Vec<usize> = Vec::new();
        let mut max = i64::MIN;
        for &i in &all {
            let s = f(&candidates[i]);
            if s > max {
                max = s;
                selected.clear();
            }
            if s == max {
                selected.push(i);
            }
        }
        if selected.len() == 1 {
            return selected.first().copied();
        }
        all = selected;
    }
    all.first().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::node::LABEL_HOSTNAME;
    use crate::model::pod::{Container, PodBehavior, PodSpec};
    use crate::model::{Labels, ObjectMeta, PodPhase, Resources};
    use crate::scheduler::config::ProfileConfig;
    use crate::scheduler::profile::Profile;
    use std::cell::Cell;

    // Upstream's priorities and resources (default_preemption_test.go).
    const NEG: i32 = -100;
    const LOW: i32 = 0;
    const MID: i32 = 100;
    const HIGH: i32 = 1000;
    const VERY_HIGH: i32 = 10000;
    const NONE: (i64, i64) = (0, 0);
    const SMALL: (i64, i64) = (100, 100);
    const MEDIUM: (i64, i64) = (200, 200);
    const LARGE: (i64, i64) = (300, 300);
    const VERY_LARGE: (i64, i64) = (500, 500);
    /// `onePodRes`: only a pod count of 1.
    const ONE_POD: (i64, i64, i64) = (0, 0, 1);
    /// `nodeRes`: 200m, 400 bytes (32 pods, st.MakeNode's default).
    const NODE_RES: (i64, i64, i64) = (200, 400, 32);
    const VERY_LARGE_NODE: (i64, i64, i64) = (500, 500, 32);
    /// "now", later than every start time used.
    const NOW: SimTime = SimTime(1_000_000);

    fn mk_pod(name: &str, priority: i32, req: (i64, i64)) -> Pod {
        let c = Container {
            requests: Resources::new(req.0, req.1),
            ..Container::default()
        };
        let spec = PodSpec {
            containers: vec![c],
            priority,
            ..PodSpec::default()
        };
        let meta = ObjectMeta {
            name: name.into(),
            namespace: "default".into(),
            uid: name.into(),
            ..Default::default()
        };
        Pod::new(meta, spec, PodBehavior::default())
    }

    fn started(mut p: Pod, t: u64) -> Pod {
        p.status.started_at = Some(SimTime(t));
        p
    }

    fn labelled(mut p: Pod, k: &str, v: &str) -> Pod {
        p.meta.labels.insert(k.into(), v.into());
        p
    }

    /// A small cluster: nodes, pods, and what a ClusterView needs.
    struct Fx {
        nodes: Vec<Node>,
        pods: Vec<Pod>,
        namespaces: BTreeMap<String, Labels>,
        image_nodes: BTreeMap<String, u32>,
        order: Vec<NodeId>,
        nominated: BTreeMap<NodeId, Vec<PodId>>,
        aff_nodes: std::collections::BTreeSet<NodeId>,
        anti_nodes: std::collections::BTreeSet<NodeId>,
        waiting: Vec<PodId>,
    }

    impl Fx {
        fn new() -> Fx {
            Fx {
                nodes: vec![],
                pods: vec![],
                namespaces: BTreeMap::new(),
                image_nodes: BTreeMap::new(),
                order: vec![],
                nominated: BTreeMap::new(),
                aff_nodes: Default::default(),
                anti_nodes: Default::default(),
                waiting: vec![],
            }
        }
        /// Adds nodes named `name` with (cpu_m, memory, pods) allocatable.
        fn node(&mut self, name: &str, res: (i64, i64, i64)) -> NodeId {
            let mut r = Resources::new(res.0, res.1);
            r.pods = res.2;
            let mut meta = ObjectMeta {
                name: name.into(),
                ..Default::default()
            };
            meta.labels.insert(LABEL_HOSTNAME.into(), name.into());
            let id = NodeId(self.nodes.len() as u32);
            self.nodes.push(Node::new(meta, r.clone(), r));
            self.order.push(id);
            id
        }
        fn nodes(&mut self, names: &[&str], res: (i64, i64, i64)) {
            for n in names {
                self.node(n, res);
            }
        }
        fn node_id(&self, name: &str) -> NodeId {
            NodeId(self.nodes.iter().position(|n| n.name() == name).unwrap() as u32)
        }
        /// A pending pod (the preemptor).
        fn pending(&mut self, p: Pod) -> PodId {
            self.pods.push(p);
            PodId(self.pods.len() as u32 - 1)
        }
        /// A pod running on `node`.
        fn bound(&mut self, mut p: Pod, node: &str) -> PodId {
            let nid = self.node_id(node);
            let id = PodId(self.pods.len() as u32);
            p.status.node = Some(nid);
            p.status.phase = Some(PodPhase::Running);
            self.nodes[nid.0 as usize].add_pod(id, &p);
            let (a, b) = crate::scheduler::framework::affinity_node_sets(&self.nodes);
            self.aff_nodes = a;
            self.anti_nodes = b;
            self.pods.push(p);
            id
        }
        fn view(&self) -> ClusterView<'_> {
            ClusterView {
                nodes: &self.nodes,
                pods: &self.pods,
                namespaces: &self.namespaces,
                image_nodes: &self.image_nodes,
                node_order: &self.order,
                nominated: &self.nominated,
                waiting: &self.waiting,
                nodes_with_affinity: &self.aff_nodes,
                nodes_with_required_anti_affinity: &self.anti_nodes,
                pod_changes: None,
                now: NOW,
                pdbs: &[],
            }
        }
        fn names(&self, ids: &[PodId]) -> Vec<String> {
            ids.iter()
                .map(|i| self.pods[i.0 as usize].meta.name.clone())
                .collect()
        }
    }

    fn profile() -> Profile {
        Profile::new(&ProfileConfig::default_profile()).unwrap()
    }

    /// Upstream's fake filter plugins (`tf.NewFalseFilterPlugin`, …).
    #[derive(Clone, Copy, PartialEq)]
    enum Fake {
        /// The real profile's filters.
        Profile,
        False,
        True,
        /// Fits only a node named like the pod.
        Match,
    }

    /// A Handle over the real default profile that also plays upstream's
    /// test plugins: `FakeFilter` (counts Filter runs, fails every node
    /// with `fake_rc`), the True/False/Match filters, and `TestPlugin`
    /// (AddPod/RemovePod fail on nodes labelled `error=true`).
    struct TestHandle {
        profile: Profile,
        fake: Fake,
        fake_rc: Option<Code>,
        calls: Cell<u32>,
    }

    impl TestHandle {
        fn new() -> TestHandle {
            TestHandle {
                profile: profile(),
                fake: Fake::Profile,
                fake_rc: None,
                calls: Cell::new(0),
            }
        }
        fn with(fake: Fake, fake_rc: Option<Code>) -> TestHandle {
            TestHandle {
                fake,
                fake_rc,
                ..TestHandle::new()
            }
        }
    }

    impl Handle for TestHandle {
        fn run_filters(
            &self,
            state: &CycleState,
            pod_id: PodId,
            pod: &Pod,
            node_id: NodeId,
            node: &Node,
            view: &ClusterView,
        ) -> Status {
            self.calls.set(self.calls.get() + 1);
            if let Some(code) = self.fake_rc {
                return Status::new(code, format!("injecting failure for pod {}", pod.meta.name));
            }
            match self.fake {
                Fake::Profile => self
                    .profile
                    .run_filters(state, pod_id, pod, node_id, node, view),
                Fake::False => Status::unschedulable("false filter"),
                Fake::True => Status::success(),
                Fake::Match if node.name() == pod.meta.name => Status::success(),
                Fake::Match => Status::unschedulable("match filter"),
            }
        }
        fn remove_pod(
            &self,
            state: &mut CycleState,
            pod: &Pod,
            victim: &Pod,
            node: &Node,
            view: &ClusterView,
        ) -> Status {
            if node.meta.labels.get("error").map(String::as_str) == Some("true") {
                return Status::error(format!("failed to remove pod: {}", pod.meta.name))
                    .with_plugin("test-plugin");
            }
            self.profile.remove_pod(state, pod, victim, node, view)
        }
        fn add_pod(
            &self,
            state: &mut CycleState,
            pod: &Pod,
            added: &Pod,
            node: &Node,
            view: &ClusterView,
        ) -> Status {
            if node.meta.labels.get("error").map(String::as_str) == Some("true") {
                return Status::error(format!("failed to add pod: {}", pod.meta.name))
                    .with_plugin("test-plugin");
            }
            self.profile.add_pod(state, pod, added, node, view)
        }
    }

    fn plugin() -> DefaultPreemption {
        DefaultPreemption::new(DefaultPreemptionArgs::default())
    }

    /// PreFilter state for `pod`, as upstream's tests populate it.
    fn prefilter(h: &TestHandle, fx: &Fx, pod: PodId) -> CycleState {
        let mut st = CycleState::default();
        let view = fx.view();
        let (_, s, _) = h
            .profile
            .run_pre_filter(&mut st, &fx.pods[pod.0 as usize], &view);
        assert!(s.is_success(), "{s:?}");
        st
    }

    fn bare(code: Code) -> Status {
        Status {
            code,
            reasons: vec![],
            plugin: "",
        }
    }

    fn statuses(fx: &Fx, s: &[(&str, Code)]) -> BTreeMap<NodeId, Status> {
        s.iter().map(|(n, c)| (fx.node_id(n), bare(*c))).collect()
    }

    fn run_preempt(
        fx: &Fx,
        h: &TestHandle,
        pod: PodId,
        st: &BTreeMap<NodeId, Status>,
        pdbs: &[PodDisruptionBudget],
    ) -> PostFilterOutcome {
        let state = prefilter(h, fx, pod);
        let cx = PreemptionContext {
            pod_id: pod,
            pod: &fx.pods[pod.0 as usize],
            view: fx.view(),
            handle: h,
            pdbs,
        };
        plugin().preempt(&cx, &state, st)
    }

    fn pdb(labels: &[(&str, &str)], allowed: i32, disrupted: &[&str]) -> PodDisruptionBudget {
        PodDisruptionBudget {
            namespace: "default".into(),
            selector: Some(LabelSelector {
                match_labels: labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                match_expressions: vec![],
            }),
            disruptions_allowed: allowed,
            disrupted_pods: disrupted.iter().map(|s| s.to_string()).collect(),
        }
    }

    const PDB_KEY: &str = "test.kubernetes.io/is-violating-pdb";

    /// Upstream `TestPostFilter` (rows without extenders or pod groups).
    #[test]
    fn post_filter_table() {
        use Code::{Unschedulable as U, UnschedulableAndUnresolvable as UU};
        struct Row {
            name: &'static str,
            build: fn(&mut Fx) -> PodId,
            statuses: &'static [(&'static str, Code)],
            pdbs: fn() -> Vec<PodDisruptionBudget>,
            want_node: Option<&'static str>,
            want_code: Code,
            want_msg: &'static str,
        }
        fn no_pdbs() -> Vec<PodDisruptionBudget> {
            vec![]
        }
        let rows: Vec<Row> = vec![
            Row {
                name: "pod with higher priority can be made schedulable",
                build: |fx| {
                    fx.node("node1", ONE_POD);
                    fx.bound(mk_pod("p1", LOW, NONE), "node1");
                    fx.pending(mk_pod("p", HIGH, NONE))
                },
                statuses: &[("node1", U)],
                pdbs: no_pdbs,
                want_node: Some("node1"),
                want_code: Code::Success,
                want_msg: "",
            },
            Row {
                name: "pod with tied priority is still unschedulable",
                build: |fx| {
                    fx.node("node1", ONE_POD);
                    fx.bound(mk_pod("p1", LOW, NONE), "node1");
                    fx.pending(mk_pod("p", LOW, NONE))
                },
                statuses: &[("node1", U)],
                pdbs: no_pdbs,
                want_node: None,
                want_code: U,
                want_msg: "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
            },
            Row {
                name: "preemption should respect filteredNodesStatuses",
                build: |fx| {
                    fx.node("node1", ONE_POD);
                    fx.bound(mk_pod("p1", LOW, NONE), "node1");
                    fx.pending(mk_pod("p", HIGH, NONE))
                },
                statuses: &[("node1", UU)],
                pdbs: no_pdbs,
                want_node: None,
                want_code: U,
                want_msg: "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
            },
            Row {
                name: "preemption should respect absent NodeToStatusReader entry meaning UnschedulableAndUnresolvable",
                build: |fx| {
                    fx.node("node1", ONE_POD);
                    fx.bound(mk_pod("p1", LOW, NONE), "node1");
                    fx.pending(mk_pod("p", HIGH, NONE))
                },
                statuses: &[],
                pdbs: no_pdbs,
                want_node: None,
                want_code: U,
                want_msg: "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
            },
            Row {
                name: "pod can be made schedulable on one node",
                build: |fx| {
                    fx.nodes(&["node1", "node2"], ONE_POD);
                    fx.bound(mk_pod("p1", HIGH, NONE), "node1");
                    fx.bound(mk_pod("p2", LOW, NONE), "node2");
                    fx.pending(mk_pod("p", MID, NONE))
                },
                statuses: &[("node1", U), ("node2", U)],
                pdbs: no_pdbs,
                want_node: Some("node2"),
                want_code: Code::Success,
                want_msg: "",
            },
            Row {
                name: "pod can be made schedulable on minHighestPriority node",
                build: |fx| {
                    fx.nodes(&["node1", "node2"], ONE_POD);
                    fx.bound(labelled(mk_pod("p1", HIGH, NONE), PDB_KEY, "non-violating"), "node1");
                    fx.bound(labelled(mk_pod("p2", LOW, NONE), PDB_KEY, "violating"), "node1");
                    fx.bound(labelled(mk_pod("p3", MID, NONE), PDB_KEY, "violating"), "node2");
                    fx.pending(mk_pod("p", VERY_HIGH, NONE))
                },
                statuses: &[("node1", U), ("node2", U)],
                pdbs: || {
                    vec![
                        // MinAvailable 100%: no disruption allowed.
                        pdb(&[(PDB_KEY, "violating")], 0, &[]),
                        pdb(&[(PDB_KEY, "non-violating")], i32::MAX, &[]),
                    ]
                },
                want_node: Some("node2"),
                want_code: Code::Success,
                want_msg: "",
            },
            Row {
                name: "no candidate nodes found, no enough resource after removing low priority pods",
                build: |fx| {
                    fx.nodes(&["node1", "node2"], NODE_RES);
                    fx.bound(mk_pod("p1", LOW, NONE), "node1");
                    fx.bound(mk_pod("p2", LOW, NONE), "node2");
                    fx.pending(mk_pod("p", HIGH, LARGE))
                },
                statuses: &[("node1", U), ("node2", U)],
                pdbs: no_pdbs,
                want_node: None,
                want_code: U,
                want_msg: "preemption: 0/2 nodes are available: 2 Insufficient cpu.",
            },
            Row {
                name: "no candidate nodes found with mixed reasons, no lower priority pod and no enough CPU resource",
                build: |fx| {
                    fx.node("node1", ONE_POD);
                    fx.node("node2", NODE_RES);
                    fx.node("node3", ONE_POD);
                    fx.bound(mk_pod("p1", HIGH, NONE), "node1");
                    fx.bound(mk_pod("p2", LOW, NONE), "node2");
                    fx.bound(mk_pod("p3", HIGH, NONE), "node3");
                    fx.pending(mk_pod("p", HIGH, LARGE))
                },
                statuses: &[("node1", U), ("node2", U), ("node3", U)],
                pdbs: no_pdbs,
                want_node: None,
                want_code: U,
                want_msg: "preemption: 0/3 nodes are available: 1 Insufficient cpu, 2 No preemption victims found for incoming pod.",
            },
            Row {
                name: "no candidate nodes found with mixed reason, 2 UnschedulableAndUnresolvable nodes and 2 nodes don't have enough CPU resource",
                build: |fx| {
                    fx.nodes(&["node1", "node2", "node3", "node4"], NODE_RES);
                    fx.bound(mk_pod("p1", LOW, NONE), "node1");
                    fx.bound(mk_pod("p2", LOW, NONE), "node2");
                    fx.pending(mk_pod("p", HIGH, LARGE))
                },
                statuses: &[("node1", U), ("node2", U), ("node4", UU)],
                pdbs: no_pdbs,
                want_node: None,
                want_code: U,
                want_msg: "preemption: 0/4 nodes are available: 2 Insufficient cpu, 2 Preemption is not helpful for scheduling.",
            },
            Row {
                name: "only one node but failed with TestPlugin",
                build: |fx| {
                    let n = fx.node("node1", (300, 300, 32));
                    fx.nodes[n.0 as usize]
                        .meta
                        .labels
                        .insert("error".into(), "true".into());
                    fx.bound(mk_pod("p1", LOW, NONE), "node1");
                    fx.pending(mk_pod("p", HIGH, LARGE))
                },
                statuses: &[("node1", U)],
                pdbs: no_pdbs,
                want_node: None,
                want_code: Code::Error,
                want_msg: "preemption: running RemovePod on PreFilter plugin \"test-plugin\": failed to remove pod: p",
            },
            Row {
                name: "one failed with TestPlugin and the other pass",
                build: |fx| {
                    let n = fx.node("node1", (300, 300, 32));
                    fx.nodes[n.0 as usize]
                        .meta
                        .labels
                        .insert("error".into(), "true".into());
                    fx.node("node2", (300, 300, 32));
                    fx.bound(mk_pod("p1", LOW, NONE), "node1");
                    fx.bound(mk_pod("p2", LOW, MEDIUM), "node2");
                    fx.pending(mk_pod("p", HIGH, LARGE))
                },
                statuses: &[("node1", U), ("node2", U)],
                pdbs: no_pdbs,
                want_node: Some("node2"),
                want_code: Code::Success,
                want_msg: "",
            },
        ];
        for r in rows {
            let mut fx = Fx::new();
            let pod = (r.build)(&mut fx);
            let h = TestHandle::new();
            let st = statuses(&fx, r.statuses);
            let out = run_preempt(&fx, &h, pod, &st, &(r.pdbs)());
            assert_eq!(out.status.code, r.want_code, "{}: {:?}", r.name, out.status);
            assert_eq!(out.status.message(), r.want_msg, "{}", r.name);
            let got = out
                .nominated
                .map(|(n, _)| fx.nodes[n.0 as usize].name().to_string());
            assert_eq!(got.as_deref(), r.want_node, "{}", r.name);
        }
    }

    /// The PostFilter entry point (no PDBs) through a real profile.
    #[test]
    fn post_filter_entry_point() {
        let mut fx = Fx::new();
        fx.node("node1", ONE_POD);
        let p1 = fx.bound(mk_pod("p1", LOW, NONE), "node1");
        let pod = fx.pending(mk_pod("p", HIGH, NONE));
        let prof = profile();
        let st = statuses(&fx, &[("node1", Code::Unschedulable)]);
        let view = fx.view();
        let mut state = CycleState::default();
        let _ = prof.run_pre_filter(&mut state, &fx.pods[pod.0 as usize], &view);
        let out = plugin().post_filter(&state, pod, &fx.pods[pod.0 as usize], &st, &view, &prof);
        assert!(out.status.is_success());
        assert_eq!(out.nominated, Some((NodeId(0), vec![p1])));
        // Through the profile's PostFilter runner too.
        let out = prof.run_post_filter(&state, pod, &fx.pods[pod.0 as usize], &st, &view);
        assert_eq!(out.nominated, Some((NodeId(0), vec![p1])));
    }

    /// One row of upstream `TestDryRunPreemption`: the candidates as
    /// (node, victims sorted by name, PDB violations), sorted by node name.
    type Cands = Vec<(&'static str, Vec<&'static str>, i64)>;

    fn dry_run_names(fx: &Fx, got: &[Candidate]) -> Vec<(String, Vec<String>, i64)> {
        let mut out: Vec<(String, Vec<String>, i64)> = got
            .iter()
            .map(|c| {
                let mut v = fx.names(&c.victims);
                v.sort();
                (
                    fx.nodes[c.node.0 as usize].name().to_string(),
                    v,
                    c.num_pdb_violations,
                )
            })
            .collect();
        out.sort();
        out
    }

    /// (name, priority, request, node, labels) of a running pod.
    type InitPod = (
        &'static str,
        i32,
        (i64, i64),
        &'static str,
        &'static [(&'static str, &'static str)],
    );

    /// Upstream `TestDryRunPreemption`: candidates and the number of Filter
    /// runs (upstream's `FakeFilter.NumFilterCalled`). Upstream seeds the
    /// offset with `rand.NewSource(4)`: 4 for 5 nodes in the first cycle,
    /// then 1 and 3; rows that depend on it pass those offsets.
    #[test]
    fn dry_run_table() {
        struct Row {
            name: &'static str,
            fake: Fake,
            fake_rc: Option<Code>,
            args: Option<(i32, i32)>,
            nodes: &'static [&'static str],
            /// (name, priority, request, node, labels)
            init: Vec<InitPod>,
            /// (name, priority, request) per cycle, with the offset.
            pods: Vec<(&'static str, i32, (i64, i64), i32)>,
            pdbs: Vec<PodDisruptionBudget>,
            starts: &'static [(&'static str, u64)],
            expected: Vec<Cands>,
            calls: Vec<u32>,
        }
        const FOO: &[(&str, &str)] = &[("app", "foo")];
        const NOL: &[(&str, &str)] = &[];
        let two = &["node1", "node2"];
        let five = &["node1", "node2", "node3", "node4", "node5"];
        let mid2 = || {
            vec![
                ("p1", MID, NONE, "node1", NOL),
                ("p2", MID, NONE, "node2", NOL),
            ]
        };
        let mid_large2 = || {
            vec![
                ("p1", MID, LARGE, "node1", NOL),
                ("p2", MID, LARGE, "node2", NOL),
            ]
        };
        let rows = vec![
            Row {
                name: "a pod that does not fit on any node",
                fake: Fake::False,
                fake_rc: None,
                args: None,
                nodes: two,
                init: mid2(),
                pods: vec![("p", HIGH, NONE, 0)],
                pdbs: vec![],
                starts: &[],
                expected: vec![vec![]],
                calls: vec![2],
            },
            Row {
                name: "a pod that fits with no preemption",
                fake: Fake::True,
                fake_rc: Some(Code::Unschedulable),
                args: None,
                nodes: two,
                init: mid2(),
                pods: vec![("p", HIGH, NONE, 0)],
                pdbs: vec![],
                starts: &[],
                expected: vec![vec![]],
                calls: vec![2],
            },
            Row {
                name: "a pod that fits on one node with no preemption",
                fake: Fake::Match,
                fake_rc: Some(Code::Unschedulable),
                args: None,
                nodes: two,
                init: mid2(),
                pods: vec![("node1", HIGH, NONE, 0)],
                pdbs: vec![],
                starts: &[],
                expected: vec![vec![]],
                calls: vec![2],
            },
            Row {
                name: "a pod that fits on both nodes when lower priority pods are preempted",
                fake: Fake::Profile,
                fake_rc: None,
                args: None,
                nodes: two,
                init: mid_large2(),
                pods: vec![("p", HIGH, LARGE, 0)],
                pdbs: vec![],
                starts: &[],
                expected: vec![vec![("node1", vec!["p1"], 0), ("node2", vec!["p2"], 0)]],
                calls: vec![4],
            },
            Row {
                name: "a pod that would fit on the nodes, but other pods running are higher priority, no preemption would happen",
                fake: Fake::Profile,
                fake_rc: None,
                args: None,
                nodes: two,
                init: mid_large2(),
                pods: vec![("p", LOW, LARGE, 0)],
                pdbs: vec![],
                starts: &[],
                expected: vec![vec![]],
                calls: vec![0],
            },
            Row {
                name: "medium priority pod is preempted, but lower priority one stays as it is small",
                fake: Fake::Profile,
                fake_rc: None,
                args: None,
                nodes: two,
                init: vec![
                    ("p1.1", LOW, SMALL, "node1", NOL),
                    ("p1.2", MID, LARGE, "node1", NOL),
                    ("p2", MID, LARGE, "node2", NOL),
                ],
                pods: vec![("p", HIGH, LARGE, 0)],
                pdbs: vec![],
                starts: &[],
                expected: vec![vec![("node1", vec!["p1.2"], 0), ("node2", vec!["p2"], 0)]],
                calls: vec![5],
            },
            Row {
                name: "mixed priority pods are preempted",
                fake: Fake::Profile,
                fake_rc: None,
                args: None,
                nodes: two,
                init: vec![
                    ("p1.1", MID, SMALL, "node1", NOL),
                    ("p1.2", LOW, SMALL, "node1", NOL),
                    ("p1.3", MID, MEDIUM, "node1", NOL),
                    ("p1.4", HIGH, SMALL, "node1", NOL),
                    ("p2", HIGH, LARGE, "node2", NOL),
                ],
                pods: vec![("p", HIGH, LARGE, 0)],
                pdbs: vec![],
                starts: &[],
                expected: vec![vec![("node1", vec!["p1.2", "p1.3"], 0)]],
                calls: vec![4],
            },
            Row {
                name: "mixed priority pods are preempted, pick later StartTime one when priorities are equal",
                fake: Fake::Profile,
                fake_rc: None,
                args: None,
                nodes: two,
                init: vec![
                    ("p1.1", LOW, SMALL, "node1", NOL),
                    ("p1.2", LOW, SMALL, "node1", NOL),
                    ("p1.3", MID, MEDIUM, "node1", NOL),
                    ("p1.4", HIGH, SMALL, "node1", NOL),
                    ("p2", HIGH, LARGE, "node2", NOL),
                ],
                pods: vec![("p", HIGH, LARGE, 0)],
                pdbs: vec![],
                starts: &[("p1.1", 5), ("p1.2", 4), ("p1.3", 3), ("p1.4", 2), ("p2", 1)],
                expected: vec![vec![("node1", vec!["p1.1", "p1.3"], 0)]],
                calls: vec![4],
            },
            Row {
                name: "get Unschedulable in the preemption phase when the filter plugins filtering the nodes",
                fake: Fake::Profile,
                fake_rc: Some(Code::Unschedulable),
                args: None,
                nodes: two,
                init: mid_large2(),
                pods: vec![("p", HIGH, LARGE, 0)],
                pdbs: vec![],
                starts: &[],
                expected: vec![vec![]],
                calls: vec![2],
            },
            Row {
                name: "preemption with violation of same pdb",
                fake: Fake::Profile,
                fake_rc: None,
                args: None,
                nodes: &["node1"],
                init: vec![
                    ("p1.1", MID, MEDIUM, "node1", FOO),
                    ("p1.2", MID, MEDIUM, "node1", FOO),
                ],
                pods: vec![("p", HIGH, VERY_LARGE, 0)],
                pdbs: vec![pdb(&[("app", "foo")], 1, &[])],
                starts: &[],
                expected: vec![vec![("node1", vec!["p1.1", "p1.2"], 1)]],
                calls: vec![3],
            },
            Row {
                name: "preemption with violation of the pdb with pod whose eviction was processed, the victim doesn't belong to DisruptedPods",
                fake: Fake::Profile,
                fake_rc: None,
                args: None,
                nodes: &["node1"],
                init: vec![
                    ("p1.1", MID, MEDIUM, "node1", FOO),
                    ("p1.2", MID, MEDIUM, "node1", FOO),
                ],
                pods: vec![("p", HIGH, VERY_LARGE, 0)],
                pdbs: vec![pdb(&[("app", "foo")], 1, &["p2"])],
                starts: &[],
                expected: vec![vec![("node1", vec!["p1.1", "p1.2"], 1)]],
                calls: vec![3],
            },
            Row {
                name: "preemption with violation of the pdb with pod whose eviction was processed, the victim belongs to DisruptedPods",
                fake: Fake::Profile,
                fake_rc: None,
                args: None,
                nodes: &["node1"],
                init: vec![
                    ("p1.1", MID, MEDIUM, "node1", FOO),
                    ("p1.2", MID, MEDIUM, "node1", FOO),
                ],
                pods: vec![("p", HIGH, VERY_LARGE, 0)],
                pdbs: vec![pdb(&[("app", "foo")], 1, &["p1.2"])],
                starts: &[],
                expected: vec![vec![("node1", vec!["p1.1", "p1.2"], 0)]],
                calls: vec![3],
            },
            Row {
                name: "preemption with violation of the pdb with pod whose eviction was processed, the victim which belongs to DisruptedPods is treated as 'nonViolating'",
                fake: Fake::Profile,
                fake_rc: None,
                args: None,
                nodes: &["node1"],
                init: vec![
                    ("p1.1", MID, MEDIUM, "node1", FOO),
                    ("p1.2", MID, MEDIUM, "node1", FOO),
                    ("p1.3", MID, MEDIUM, "node1", FOO),
                ],
                pods: vec![("p", HIGH, VERY_LARGE, 0)],
                pdbs: vec![pdb(&[("app", "foo")], 1, &["p1.3"])],
                starts: &[],
                expected: vec![vec![("node1", vec!["p1.1", "p1.2", "p1.3"], 1)]],
                calls: vec![4],
            },
            Row {
                name: "all nodes are possible candidates, but DefaultPreemptionArgs limits to 2",
                fake: Fake::Profile,
                fake_rc: None,
                args: Some((40, 1)),
                nodes: five,
                init: vec![
                    ("p1", MID, LARGE, "node1", NOL),
                    ("p2", MID, LARGE, "node2", NOL),
                    ("p3", MID, LARGE, "node3", NOL),
                    ("p4", MID, LARGE, "node4", NOL),
                    ("p5", MID, LARGE, "node5", NOL),
                ],
                pods: vec![("p", HIGH, LARGE, 4)],
                pdbs: vec![],
                starts: &[],
                expected: vec![vec![("node1", vec!["p1"], 0), ("node5", vec!["p5"], 0)]],
                calls: vec![4],
            },
            Row {
                name: "some nodes are not possible candidates, DefaultPreemptionArgs limits to 2",
                fake: Fake::Profile,
                fake_rc: None,
                args: Some((40, 1)),
                nodes: five,
                init: vec![
                    ("p1", MID, LARGE, "node1", NOL),
                    ("p2", VERY_HIGH, LARGE, "node2", NOL),
                    ("p3", MID, LARGE, "node3", NOL),
                    ("p4", MID, LARGE, "node4", NOL),
                    ("p5", VERY_HIGH, LARGE, "node5", NOL),
                ],
                pods: vec![("p", HIGH, LARGE, 4)],
                pdbs: vec![],
                starts: &[],
                expected: vec![vec![("node1", vec!["p1"], 0), ("node3", vec!["p3"], 0)]],
                calls: vec![4],
            },
            Row {
                name: "preemption offset across multiple scheduling cycles and wrap around",
                fake: Fake::Profile,
                fake_rc: None,
                args: Some((40, 1)),
                nodes: five,
                init: vec![
                    ("p1", MID, LARGE, "node1", NOL),
                    ("p2", MID, LARGE, "node2", NOL),
                    ("p3", MID, LARGE, "node3", NOL),
                    ("p4", MID, LARGE, "node4", NOL),
                    ("p5", MID, LARGE, "node5", NOL),
                ],
                pods: vec![
                    ("tp1", HIGH, LARGE, 4),
                    ("tp2", HIGH, LARGE, 1),
                    ("tp3", HIGH, LARGE, 3),
                ],
                pdbs: vec![],
                starts: &[],
                expected: vec![
                    vec![("node1", vec!["p1"], 0), ("node5", vec!["p5"], 0)],
                    vec![("node2", vec!["p2"], 0), ("node3", vec!["p3"], 0)],
                    vec![("node4", vec!["p4"], 0), ("node5", vec!["p5"], 0)],
                ],
                calls: vec![4, 4, 4],
            },
            Row {
                name: "preemption looks past numCandidates until a non-PDB violating node is found",
                fake: Fake::Profile,
                fake_rc: None,
                args: Some((40, 2)),
                nodes: five,
                init: vec![
                    ("p1", MID, LARGE, "node1", FOO),
                    ("p2", MID, LARGE, "node2", FOO),
                    ("p3", MID, LARGE, "node3", NOL),
                    ("p4", MID, LARGE, "node4", NOL),
                    ("p5", MID, LARGE, "node5", FOO),
                ],
                pods: vec![("p", HIGH, LARGE, 4)],
                pdbs: vec![pdb(&[("app", "foo")], 0, &[])],
                starts: &[],
                expected: vec![vec![
                    ("node1", vec!["p1"], 1),
                    ("node3", vec!["p3"], 0),
                    ("node5", vec!["p5"], 1),
                ]],
                calls: vec![8],
            },
        ];
        for r in rows {
            let mut fx = Fx::new();
            fx.nodes(r.nodes, VERY_LARGE_NODE);
            for (name, prio, req, node, labels) in &r.init {
                let mut p = mk_pod(name, *prio, *req);
                for (k, v) in labels.iter() {
                    p = labelled(p, k, v);
                }
                if let Some((_, t)) = r.starts.iter().find(|(n, _)| n == name) {
                    p = started(p, *t);
                }
                fx.bound(p, node);
            }
            let pl = match r.args {
                Some((pct, abs)) => DefaultPreemption::new(DefaultPreemptionArgs {
                    min_candidate_nodes_percentage: pct,
                    min_candidate_nodes_absolute: abs,
                }),
                None => plugin(),
            };
            let h = TestHandle::with(r.fake, r.fake_rc);
            let pods: Vec<(PodId, i32)> = r
                .pods
                .iter()
                .map(|(name, prio, req, off)| (fx.pending(mk_pod(name, *prio, *req)), *off))
                .collect();
            let all: Vec<NodeId> = fx.order.clone();
            for (cycle, (pod, offset)) in pods.into_iter().enumerate() {
                let state = prefilter(&h, &fx, pod);
                let cx = PreemptionContext {
                    pod_id: pod,
                    pod: &fx.pods[pod.0 as usize],
                    view: fx.view(),
                    handle: &h,
                    pdbs: &r.pdbs,
                };
                let (_, num) = pl.get_offset_and_num_candidates(all.len() as i32, &h);
                let before = h.calls.get();
                let got = pl.dry_run_preemption(&cx, &state, &all, offset, num);
                let want: Vec<(String, Vec<String>, i64)> = r.expected[cycle]
                    .iter()
                    .map(|(n, v, k)| (n.to_string(), v.iter().map(|s| s.to_string()).collect(), *k))
                    .collect();
                assert_eq!(
                    dry_run_names(&fx, &got.candidates),
                    want,
                    "{} cycle {cycle}",
                    r.name
                );
                assert_eq!(
                    h.calls.get() - before,
                    r.calls[cycle],
                    "{} cycle {cycle}: filter runs",
                    r.name
                );
            }
        }
    }

    /// Upstream `TestSelectBestCandidate` (`pickOneNodeForPreemption`).
    #[test]
    fn select_best_candidate_table() {
        type P = (&'static str, i32, (i64, i64), &'static str, u64);
        type Row = (
            &'static str,
            Vec<&'static str>,
            (i32, (i64, i64)),
            Vec<P>,
            Vec<&'static str>,
        );
        let rows: Vec<Row> =
            vec![
            (
                "a pod that fits on both nodes when lower priority pods are preempted",
                vec!["node1", "node2"],
                (HIGH, LARGE),
                vec![("p1", MID, LARGE, "node1", 0), ("p2", MID, LARGE, "node2", 0)],
                vec!["node1", "node2"],
            ),
            (
                "node with min highest priority pod is picked",
                vec!["node1", "node2", "node3"],
                (HIGH, VERY_LARGE),
                vec![
                    ("p1.1", MID, MEDIUM, "node1", 0),
                    ("p1.2", MID, LARGE, "node1", 0),
                    ("p2.1", MID, MEDIUM, "node2", 0),
                    ("p2.2", LOW, MEDIUM, "node2", 0),
                    ("p3.1", LOW, MEDIUM, "node3", 0),
                    ("p3.2", LOW, MEDIUM, "node3", 0),
                ],
                vec!["node3"],
            ),
            (
                "when highest priorities are the same, minimum sum of priorities is picked",
                vec!["node1", "node2", "node3"],
                (HIGH, VERY_LARGE),
                vec![
                    ("p1.1", MID, MEDIUM, "node1", 0),
                    ("p1.2", MID, LARGE, "node1", 0),
                    ("p2.1", MID, LARGE, "node2", 0),
                    ("p2.2", LOW, MEDIUM, "node2", 0),
                    ("p3.1", MID, MEDIUM, "node3", 0),
                    ("p3.2", MID, MEDIUM, "node3", 0),
                ],
                vec!["node2"],
            ),
            (
                "when highest priority and sum are the same, minimum number of pods is picked",
                vec!["node1", "node2", "node3"],
                (HIGH, VERY_LARGE),
                vec![
                    ("p1.1", MID, SMALL, "node1", 0),
                    ("p1.2", NEG, SMALL, "node1", 0),
                    ("p1.3", MID, SMALL, "node1", 0),
                    ("p1.4", NEG, SMALL, "node1", 0),
                    ("p2.1", MID, LARGE, "node2", 0),
                    ("p2.2", NEG, MEDIUM, "node2", 0),
                    ("p3.1", MID, MEDIUM, "node3", 0),
                    ("p3.2", NEG, SMALL, "node3", 0),
                    ("p3.3", LOW, SMALL, "node3", 0),
                ],
                vec!["node2"],
            ),
            (
                "sum of adjusted priorities is considered",
                vec!["node1", "node2", "node3"],
                (HIGH, VERY_LARGE),
                vec![
                    ("p1.1", MID, SMALL, "node1", 0),
                    ("p1.2", NEG, SMALL, "node1", 0),
                    ("p1.3", NEG, SMALL, "node1", 0),
                    ("p2.1", MID, LARGE, "node2", 0),
                    ("p2.2", NEG, MEDIUM, "node2", 0),
                    ("p3.1", MID, MEDIUM, "node3", 0),
                    ("p3.2", NEG, SMALL, "node3", 0),
                    ("p3.3", LOW, SMALL, "node3", 0),
                ],
                vec!["node2"],
            ),
            (
                "non-overlapping lowest high priority, sum priorities, and number of pods",
                vec!["node1", "node2", "node3", "node4"],
                (VERY_HIGH, VERY_LARGE),
                vec![
                    ("p1.1", MID, SMALL, "node1", 0),
                    ("p1.2", LOW, SMALL, "node1", 0),
                    ("p1.3", LOW, SMALL, "node1", 0),
                    ("p2.1", HIGH, LARGE, "node2", 0),
                    ("p3.1", MID, MEDIUM, "node3", 0),
                    ("p3.2", LOW, SMALL, "node3", 0),
                    ("p3.3", LOW, SMALL, "node3", 0),
                    ("p3.4", LOW, MEDIUM, "node3", 0),
                    ("p4.1", MID, MEDIUM, "node4", 0),
                    ("p4.2", MID, SMALL, "node4", 0),
                    ("p4.3", MID, SMALL, "node4", 0),
                    ("p4.4", NEG, SMALL, "node4", 0),
                ],
                vec!["node1"],
            ),
            (
                "same priority, same number of victims, different start time for each node's pod",
                vec!["node1", "node2", "node3"],
                (HIGH, VERY_LARGE),
                vec![
                    ("p1.1", MID, MEDIUM, "node1", 2),
                    ("p1.2", MID, MEDIUM, "node1", 2),
                    ("p2.1", MID, MEDIUM, "node2", 3),
                    ("p2.2", MID, MEDIUM, "node2", 3),
                    ("p3.1", MID, MEDIUM, "node3", 1),
                    ("p3.2", MID, MEDIUM, "node3", 1),
                ],
                vec!["node2"],
            ),
            (
                "same priority, same number of victims, different start time for all pods",
                vec!["node1", "node2", "node3"],
                (HIGH, VERY_LARGE),
                vec![
                    ("p1.1", MID, MEDIUM, "node1", 4),
                    ("p1.2", MID, MEDIUM, "node1", 2),
                    ("p2.1", MID, MEDIUM, "node2", 5),
                    ("p2.2", MID, MEDIUM, "node2", 1),
                    ("p3.1", MID, MEDIUM, "node3", 3),
                    ("p3.2", MID, MEDIUM, "node3", 6),
                ],
                vec!["node3"],
            ),
            (
                "different priority, same number of victims, different start time for all pods",
                vec!["node1", "node2", "node3"],
                (HIGH, VERY_LARGE),
                vec![
                    ("p1.1", LOW, MEDIUM, "node1", 4),
                    ("p1.2", MID, MEDIUM, "node1", 2),
                    ("p2.1", MID, MEDIUM, "node2", 6),
                    ("p2.2", LOW, MEDIUM, "node2", 1),
                    ("p3.1", LOW, MEDIUM, "node3", 3),
                    ("p3.2", MID, MEDIUM, "node3", 5),
                ],
                vec!["node2"],
            ),
        ];
        for (name, nodes, (prio, req), pods, expected) in rows {
            let mut fx = Fx::new();
            fx.nodes(&nodes, VERY_LARGE_NODE);
            for (n, pr, rq, node, t) in &pods {
                fx.bound(started(mk_pod(n, *pr, *rq), *t), node);
            }
            let pod = fx.pending(mk_pod("p", prio, req));
            let h = TestHandle::new();
            let state = prefilter(&h, &fx, pod);
            let cx = PreemptionContext {
                pod_id: pod,
                pod: &fx.pods[pod.0 as usize],
                view: fx.view(),
                handle: &h,
                pdbs: &[],
            };
            let pl = plugin();
            let (off, num) = pl.get_offset_and_num_candidates(fx.order.len() as i32, &h);
            let dry = pl.dry_run_preemption(&cx, &state, &fx.order, off, num);
            let view = fx.view();
            let best = select_candidate(&dry.candidates, &view).expect(name);
            let got = fx.nodes[best.node.0 as usize].name();
            assert!(
                expected.contains(&got),
                "{name}: got {got}, want one of {expected:?}"
            );
        }
    }

    /// pickOneNodeForPreemption criteria in isolation, including upstream's
    /// `MaxInt32 + 1` offset (more victims with negative priorities lose).
    #[test]
    fn pick_one_node_criteria() {
        let mut fx = Fx::new();
        let p = |fx: &mut Fx, name: &str, prio: i32, t: Option<u64>| {
            let mut pod = mk_pod(name, prio, NONE);
            pod.status.started_at = t.map(SimTime);
            fx.pending(pod)
        };
        let a = p(&mut fx, "a", -5, Some(1));
        let b = p(&mut fx, "b", -5, Some(1));
        let c = p(&mut fx, "c", -5, Some(1));
        let d = p(&mut fx, "d", 7, Some(2));
        let e = p(&mut fx, "e", 7, Some(3));
        let f = p(&mut fx, "f", 7, None);
        let cand = |n: u32, v: Vec<PodId>, k: i64| Candidate {
            node: NodeId(n),
            victims: v,
            num_pdb_violations: k,
        };
        let view = fx.view();
        // Fewest PDB violations wins over everything else.
        let cs = vec![cand(0, vec![a], 1), cand(1, vec![d, e], 0)];
        assert_eq!(pick_one_node_for_preemption(&cs, &view), Some(1));
        // Lowest highest priority.
        let cs = vec![cand(0, vec![d], 0), cand(1, vec![a, b, c], 0)];
        assert_eq!(pick_one_node_for_preemption(&cs, &view), Some(1));
        // Sum with the offset: one pod at -5 beats two at -5.
        let cs = vec![cand(0, vec![a, b], 0), cand(1, vec![c], 0)];
        assert_eq!(pick_one_node_for_preemption(&cs, &view), Some(1));
        // Latest start among the highest-priority victims; not started
        // counts as now (the latest).
        let cs = vec![cand(0, vec![d], 0), cand(1, vec![e], 0)];
        assert_eq!(pick_one_node_for_preemption(&cs, &view), Some(1));
        let cs = vec![cand(0, vec![e], 0), cand(1, vec![f], 0)];
        assert_eq!(pick_one_node_for_preemption(&cs, &view), Some(1));
        // Full tie: the first candidate.
        let cs = vec![cand(3, vec![a], 0), cand(4, vec![b], 0)];
        assert_eq!(pick_one_node_for_preemption(&cs, &view), Some(0));
        assert_eq!(pick_one_node_for_preemption(&[], &view), None);
        assert_eq!(select_candidate(&[], &view), None);
        // Victims that do not exist do not panic.
        let cs = vec![cand(0, vec![PodId(999)], 0), cand(1, vec![], 0)];
        assert!(pick_one_node_for_preemption(&cs, &view).is_some());
    }

    /// Upstream `TestPreempt` rows that only need NodeResourcesFit
    /// ("basic preemption logic"; "PreemptionPolicy is nil" is the same
    /// input).
    #[test]
    fn preempt_basic() {
        let mut fx = Fx::new();
        fx.nodes(&["node1", "node2", "node3"], VERY_LARGE_NODE);
        fx.bound(mk_pod("p1.1", LOW, SMALL), "node1");
        fx.bound(mk_pod("p1.2", LOW, SMALL), "node1");
        fx.bound(mk_pod("p2.1", HIGH, LARGE), "node2");
        fx.bound(mk_pod("p3.1", MID, MEDIUM), "node3");
        let pod = fx.pending(mk_pod("p", HIGH, VERY_LARGE));
        let st = statuses(
            &fx,
            &[
                ("node1", Code::Unschedulable),
                ("node2", Code::Unschedulable),
                ("node3", Code::Unschedulable),
            ],
        );
        let h = TestHandle::new();
        let out = run_preempt(&fx, &h, pod, &st, &[]);
        assert!(out.status.is_success(), "{:?}", out.status);
        let (node, victims) = out.nominated.unwrap();
        assert_eq!(fx.nodes[node.0 as usize].name(), "node1");
        assert_eq!(fx.names(&victims), vec!["p1.1", "p1.2"]);
    }

    /// Victim selection order: reprieve by descending importance, PDB
    /// violators first; victims come out most important first.
    #[test]
    fn select_victims_order() {
        let mut fx = Fx::new();
        fx.node("node1", VERY_LARGE_NODE);
        // 500m node: the preemptor needs 300m, so 200m can stay.
        fx.bound(started(mk_pod("low-old", LOW, MEDIUM), 1), "node1");
        fx.bound(started(mk_pod("low-new", LOW, MEDIUM), 2), "node1");
        fx.bound(
            started(labelled(mk_pod("mid", MID, MEDIUM), "app", "x"), 3),
            "node1",
        );
        let pod = fx.pending(mk_pod("p", HIGH, LARGE));
        let h = TestHandle::new();
        let state = prefilter(&h, &fx, pod);
        let nid = fx.node_id("node1");
        let pl = plugin();
        let run = |pdbs: &[PodDisruptionBudget]| {
            let cx = PreemptionContext {
                pod_id: pod,
                pod: &fx.pods[pod.0 as usize],
                view: fx.view(),
                handle: &h,
                pdbs,
            };
            let mut node = fx.nodes[nid.0 as usize].clone();
            let mut st = state.clone();
            pl.select_victims_on_node(&cx, &mut st, nid, &mut node)
                .unwrap()
        };
        // Without PDBs the most important pod (mid) is reprieved first.
        let (v, k) = run(&[]);
        assert_eq!(fx.names(&v), vec!["low-old", "low-new"]);
        assert_eq!(k, 0);
        // With mid protected by an exhausted PDB it is reprieved first
        // too (violators first), and stays.
        let (v, k) = run(&[pdb(&[("app", "x")], 0, &[])]);
        assert_eq!(fx.names(&v), vec!["low-old", "low-new"]);
        assert_eq!(k, 0);
        // An exhausted PDB on low-new (the least important): violators are
        // reprieved first, so low-new takes the 200m left and mid and
        // low-old go.
        let mut fx2 = Fx::new();
        fx2.node("node1", VERY_LARGE_NODE);
        fx2.bound(started(mk_pod("low-old", LOW, MEDIUM), 1), "node1");
        fx2.bound(
            started(labelled(mk_pod("low-new", LOW, MEDIUM), "app", "y"), 2),
            "node1",
        );
        fx2.bound(started(mk_pod("mid", MID, MEDIUM), 3), "node1");
        let pod2 = fx2.pending(mk_pod("p", HIGH, LARGE));
        let state2 = prefilter(&h, &fx2, pod2);
        let pdbs = [pdb(&[("app", "y")], 0, &[])];
        let cx = PreemptionContext {
            pod_id: pod2,
            pod: &fx2.pods[pod2.0 as usize],
            view: fx2.view(),
            handle: &h,
            pdbs: &pdbs,
        };
        let mut node = fx2.nodes[0].clone();
        let mut st = state2.clone();
        let (v, k) = pl
            .select_victims_on_node(&cx, &mut st, NodeId(0), &mut node)
            .unwrap();
        // Victims re-sorted by importance since both groups were non-empty.
        assert_eq!(fx2.names(&v), vec!["mid", "low-old"]);
        assert_eq!(k, 0);
        // A preemptor of the lowest priority (low-old itself) finds no
        // lower-priority pods: unresolvable.
        let cx = PreemptionContext {
            pod_id: PodId(0),
            pod: &fx2.pods[0],
            view: fx2.view(),
            handle: &h,
            pdbs: &[],
        };
        let mut node = fx2.nodes[0].clone();
        let mut st = state2;
        let err = pl
            .select_victims_on_node(&cx, &mut st, NodeId(0), &mut node)
            .unwrap_err();
        assert_eq!(err.code, Code::UnschedulableAndUnresolvable);
        assert_eq!(err.message(), ERR_NO_VICTIMS);
    }

    /// Upstream `TestPodEligibleToPreemptOthers` (the preemptionPolicy=Never
    /// row is not modelled).
    #[test]
    fn pod_eligible_to_preempt_others_table() {
        let terminating = |preempted: bool| {
            let mut p = mk_pod("p1", LOW, NONE);
            p.meta.deletion_timestamp = Some(SimTime(1));
            if preempted {
                p.status.reason = PREEMPTED_REASON.into();
            }
            p
        };
        let nominated = |fx: &Fx| {
            let mut p = mk_pod("p", HIGH, NONE);
            p.status.nominated_node = Some(fx.node_id("node1"));
            p
        };
        let pl = plugin();
        // Pod with nominated node (unresolvable there): eligible.
        let mut fx = Fx::new();
        fx.node("node1", VERY_LARGE_NODE);
        fx.bound(terminating(false), "node1");
        let p = nominated(&fx);
        let st = Status::unresolvable("node(s) had untolerated taint");
        assert!(
            pl.pod_eligible_to_preempt_others(&p, Some(&st), &fx.view())
                .0
        );
        // Pod without nominated node.
        let fx0 = Fx::new();
        assert!(
            pl.pod_eligible_to_preempt_others(&mk_pod("p", HIGH, NONE), None, &fx0.view())
                .0
        );
        // Preemption victim terminating on the nominated node.
        let mut fx = Fx::new();
        fx.node("node1", VERY_LARGE_NODE);
        fx.bound(terminating(true), "node1");
        let p = nominated(&fx);
        assert_eq!(
            pl.pod_eligible_to_preempt_others(&p, None, &fx.view()),
            (false, MSG_TERMINATING)
        );
        // ... and through preempt: the message.
        let pid = fx.pending(p);
        let h = TestHandle::new();
        let st = statuses(&fx, &[("node1", Code::Unschedulable)]);
        let out = run_preempt(&fx, &h, pid, &st, &[]);
        assert_eq!(out.status.code, Code::Unschedulable);
        assert_eq!(
            out.status.message(),
            "preemption: not eligible due to a terminating pod on the nominated node."
        );
        assert!(out.nominated.is_none());
        // Non-victim pods terminating.
        let mut fx = Fx::new();
        fx.node("node1", VERY_LARGE_NODE);
        fx.bound(terminating(false), "node1");
        let p = nominated(&fx);
        assert!(pl.pod_eligible_to_preempt_others(&p, None, &fx.view()).0);
        // A nominated node that no longer exists.
        let mut p = mk_pod("p", HIGH, NONE);
        p.status.nominated_node = Some(NodeId(42));
        assert!(pl.pod_eligible_to_preempt_others(&p, None, &fx.view()).0);
    }

    /// Upstream `TestNodesWherePreemptionMightHelp`. Its expectations date
    /// from when nodes without a status were tried, i.e. an absent status
    /// of `Unschedulable`; with v1.35's default absent status
    /// (`UnschedulableAndUnresolvable`, what the plugin uses) only the
    /// listed `Unschedulable` nodes remain.
    #[test]
    fn nodes_where_preemption_might_help_table() {
        use Code::{Unschedulable as U, UnschedulableAndUnresolvable as UU};
        type Row = (&'static str, Vec<(&'static str, Code)>, Vec<&'static str>);
        let rows: Vec<Row> = vec![
            (
                "No node should be attempted",
                vec![("node1", UU), ("node2", UU), ("node3", UU), ("node4", UU)],
                vec![],
            ),
            (
                "ErrReasonAntiAffinityRulesNotMatch should be tried",
                vec![("node1", U), ("node2", UU), ("node3", UU)],
                vec!["node1", "node4"],
            ),
            (
                "ErrReasonAffinityRulesNotMatch should not be tried",
                vec![("node1", UU), ("node2", U)],
                vec!["node2", "node3", "node4"],
            ),
            (
                "Mix of failed predicates works fine",
                vec![("node1", UU), ("node2", U)],
                vec!["node2", "node3", "node4"],
            ),
            (
                "Node condition errors should be considered unresolvable",
                vec![("node1", UU)],
                vec!["node2", "node3", "node4"],
            ),
            (
                "ErrVolume... errors should not be tried",
                vec![("node1", UU), ("node2", UU), ("node3", UU)],
                vec!["node4"],
            ),
            (
                "ErrReasonConstraintsNotMatch should be tried",
                vec![("node1", U), ("node2", UU), ("node3", U)],
                vec!["node1", "node3", "node4"],
            ),
            (
                "UnschedulableAndUnresolvable status should be skipped but Unschedulable should be tried",
                vec![("node2", UU), ("node3", U), ("node4", UU)],
                vec!["node1", "node3"],
            ),
            (
                "ErrReasonNodeLabelNotMatch should not be tried",
                vec![("node2", UU), ("node3", U), ("node4", UU)],
                vec!["node1", "node3"],
            ),
        ];
        let mut fx = Fx::new();
        fx.nodes(&["node1", "node2", "node3", "node4"], VERY_LARGE_NODE);
        for (name, st, want) in rows {
            let st = statuses(&fx, &st);
            let view = fx.view();
            let names = |v: Vec<NodeId>| -> Vec<String> {
                v.iter()
                    .map(|n| fx.nodes[n.0 as usize].name().to_string())
                    .collect()
            };
            let got = names(nodes_where_preemption_might_help(&view, &st, U));
            assert_eq!(got, want, "{name}");
            // v1.35 default absent status: only explicit Unschedulable nodes.
            let got = names(nodes_where_preemption_might_help(&view, &st, UU));
            let explicit: Vec<String> = fx
                .order
                .iter()
                .filter(|n| st.get(n).is_some_and(|s| s.code == U))
                .map(|n| fx.nodes[n.0 as usize].name().to_string())
                .collect();
            assert_eq!(got, explicit, "{name} (absent unresolvable)");
        }
    }

    /// Upstream `calculateNumCandidates` cases
    /// (`TestGetOffsetAndNumCandidates`).
    #[test]
    fn num_candidates() {
        let mk = |pct, abs| {
            DefaultPreemption::new(DefaultPreemptionArgs {
                min_candidate_nodes_percentage: pct,
                min_candidate_nodes_absolute: abs,
            })
        };
        // (nodes, pct, abs, want)
        let cases = [
            (10, 10, 100, 10),
            (100, 10, 1, 10),
            (1000, 10, 1, 100),
            (1000, 10, 200, 200),
            (10000, 10, 1, 1000),
            (10, 0, 5, 5),
            (10, 100, 0, 10),
            (0, 10, 100, 0),
            (10, -5, -5, 0),
        ];
        for (nodes, pct, abs, want) in cases {
            assert_eq!(
                mk(pct, abs).calculate_num_candidates(nodes),
                want,
                "{nodes} {pct} {abs}"
            );
            let draw = Draw(3);
            let off = if nodes > 0 { 3.min(nodes - 1) } else { 0 };
            assert_eq!(
                mk(pct, abs).get_offset_and_num_candidates(nodes, &draw),
                (off, want)
            );
        }
    }

    /// A handle whose random draw is fixed (capped to the range).
    struct Draw(i32);

    impl Handle for Draw {
        fn run_filters(
            &self,
            _: &CycleState,
            _: PodId,
            _: &Pod,
            _: NodeId,
            _: &Node,
            _: &ClusterView,
        ) -> Status {
            Status::success()
        }
        fn remove_pod(
            &self,
            _: &mut CycleState,
            _: &Pod,
            _: &Pod,
            _: &Node,
            _: &ClusterView,
        ) -> Status {
            Status::success()
        }
        fn add_pod(
            &self,
            _: &mut CycleState,
            _: &Pod,
            _: &Pod,
            _: &Node,
            _: &ClusterView,
        ) -> Status {
            Status::success()
        }
        fn rand_int31n(&self, n: i32) -> i32 {
            if n <= 0 {
                0
            } else {
                self.0.min(n - 1)
            }
        }
    }

    /// Upstream `filterPodsWithPDBViolation` details: namespaces, empty
    /// and absent selectors, pods without labels.
    #[test]
    fn pdb_filtering() {
        let a = labelled(mk_pod("a", LOW, NONE), "app", "x");
        let b = labelled(mk_pod("b", LOW, NONE), "app", "x");
        let c = mk_pod("c", LOW, NONE);
        let pods = [(PodId(0), &a), (PodId(1), &b), (PodId(2), &c)];
        let ids = |v: Vec<(PodId, &Pod)>| v.into_iter().map(|(i, _)| i.0).collect::<Vec<_>>();
        // Budget of one: the second matching pod violates.
        let (v, n) = filter_pods_with_pdb_violation(&pods, &[pdb(&[("app", "x")], 1, &[])]);
        assert_eq!((ids(v), ids(n)), (vec![1], vec![0, 2]));
        // Another namespace: no match.
        let mut other = pdb(&[("app", "x")], 0, &[]);
        other.namespace = "other".into();
        let (v, _) = filter_pods_with_pdb_violation(&pods, &[other]);
        assert!(v.is_empty());
        // Empty and absent selectors match nothing.
        let mut empty = pdb(&[], 0, &[]);
        let (v, _) = filter_pods_with_pdb_violation(&pods, std::slice::from_ref(&empty));
        assert!(v.is_empty());
        empty.selector = None;
        let (v, _) = filter_pods_with_pdb_violation(&pods, &[empty]);
        assert!(v.is_empty());
        // An invalid selector matches nothing.
        let mut bad = pdb(&[], 0, &[]);
        bad.selector = Some(LabelSelector {
            match_labels: Default::default(),
            match_expressions: vec![crate::model::selector::LabelSelectorRequirement {
                key: "app".into(),
                operator: "Bogus".into(),
                values: vec![],
            }],
        });
        let (v, _) = filter_pods_with_pdb_violation(&pods, &[bad]);
        assert!(v.is_empty());
        // Overlapping budgets: both consumed.
        let (v, n) = filter_pods_with_pdb_violation(
            &pods,
            &[pdb(&[("app", "x")], 2, &[]), pdb(&[("app", "x")], 1, &[])],
        );
        assert_eq!((ids(v), ids(n)), (vec![1], vec![0, 2]));
    }

    #[test]
    fn more_important_pod_order() {
        let now = SimTime(10);
        let hi = mk_pod("hi", HIGH, NONE);
        let lo_old = started(mk_pod("lo-old", LOW, NONE), 1);
        let lo_new = started(mk_pod("lo-new", LOW, NONE), 5);
        let lo_none = mk_pod("lo-none", LOW, NONE);
        assert!(more_important_pod(&hi, &lo_old, now));
        assert!(!more_important_pod(&lo_old, &hi, now));
        assert!(more_important_pod(&lo_old, &lo_new, now));
        assert!(more_important_pod(&lo_new, &lo_none, now));
        assert!(!more_important_pod(&lo_none, &lo_none, now));
    }

    /// No nodes, no potential nodes, unknown ids: no panics.
    #[test]
    fn degenerate_inputs() {
        let mut fx2 = Fx::new();
        let pod = fx2.pending(mk_pod("p", HIGH, NONE));
        let h = TestHandle::new();
        let out = run_preempt(&fx2, &h, pod, &BTreeMap::new(), &[]);
        assert_eq!(out.status.code, Code::Error);
        assert_eq!(out.status.message(), "preemption: no nodes available");
        // Potential nodes that do not exist are skipped.
        let mut fx3 = Fx::new();
        fx3.node("node1", ONE_POD);
        let pod = fx3.pending(mk_pod("p", HIGH, NONE));
        let state = prefilter(&h, &fx3, pod);
        let cx = PreemptionContext {
            pod_id: pod,
            pod: &fx3.pods[pod.0 as usize],
            view: fx3.view(),
            handle: &h,
            pdbs: &[],
        };
        let pl = plugin();
        let d = pl.dry_run_preemption(&cx, &state, &[NodeId(7), NodeId(0)], -3, 5);
        assert!(d.candidates.is_empty());
        let d = pl.dry_run_preemption(&cx, &state, &[], 0, 5);
        assert!(d.candidates.is_empty() && d.statuses.is_empty());
        // A nominated node without a status reads as unresolvable there
        // (eligible), and no node is tried.
        let mut p = mk_pod("q", HIGH, NONE);
        p.status.nominated_node = Some(NodeId(0));
        let q = fx3.pending(p);
        let out = run_preempt(&fx3, &h, q, &BTreeMap::new(), &[]);
        assert_eq!(
            out.status.message(),
            "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
        );
    }

    #[test]
    fn aggregate_messages() {
        assert_eq!(aggregate_errors(&["a".into()]), "a");
        assert_eq!(
            aggregate_errors(&["a".into(), "b".into(), "a".into()]),
            "[a, b]"
        );
    }
}
