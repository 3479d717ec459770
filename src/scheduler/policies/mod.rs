//! Research policies, one file each, registered by name in [`new`].
//!
//! Most implement [`NodePicker`]: upstream's default Filter plugins decide
//! which nodes are feasible, and the policy only chooses among them (with
//! its own random stream). A policy that needs full control implements
//! [`crate::scheduler::SchedulingPolicy`] instead.

use crate::engine::SimRng;
use crate::model::{NodeId, PodId};
use crate::scheduler::config::{ProfileConfig, SchedulerConfig};
use crate::scheduler::framework::{ClusterView, CycleState, Point};
use crate::scheduler::kube::fit_error_message;
use crate::scheduler::profile::Profile;
use crate::scheduler::{Decision, ScheduleResult, SchedulingPolicy};

/// The research policy names.
pub const NAMES: [&str; 0] = [];

/// Builds a research policy by name.
pub fn new(name: &str, _cfg: &SchedulerConfig) -> Option<Box<dyn SchedulingPolicy>> {
    let _ = name;
    None
}

/// A policy that picks one of the feasible nodes.
pub trait NodePicker {
    fn name(&self) -> &'static str;
    /// Chooses among `feasible` (non-empty, in the scheduler's node order),
    /// or `None` to leave the pod unscheduled this cycle.
    fn pick(
        &mut self,
        pod: PodId,
        feasible: &[NodeId],
        view: &ClusterView,
        rng: &mut SimRng,
    ) -> Option<NodeId>;
}

/// Runs upstream's default PreFilter and Filter plugins over every node,
/// then lets a [`NodePicker`] choose.
pub struct FilterThenPick<P: NodePicker> {
    picker: P,
    profile: Profile,
}

impl<P: NodePicker> FilterThenPick<P> {
    pub fn new(picker: P) -> Result<Self, String> {
        let mut cfg = ProfileConfig::default_profile();
        // Only feasibility: no scoring, no preemption.
        for p in [Point::PreScore, Point::Score, Point::PostFilter] {
            cfg.plugins.points.insert(
                p,
                crate::scheduler::config::PluginSet {
                    enabled: vec![],
                    disabled: vec!["*".into()],
                },
            );
        }
        Ok(FilterThenPick {
            picker,
            profile: Profile::new(&cfg)?,
        })
    }
}

impl<P: NodePicker> SchedulingPolicy for FilterThenPick<P> {
    fn name(&self) -> &str {
        self.picker.name()
    }

    fn schedule(
        &mut self,
        pod_id: PodId,
        view: &ClusterView,
        rng: &mut SimRng,
        _explain: bool,
    ) -> ScheduleResult {
        let pod = view.pod(pod_id);
        let mut state = CycleState::default();
        let (restrict, st, _) = self.profile.run_pre_filter(&mut state, pod, view);
        let all = view.node_order;
        if !st.is_success() {
            return ScheduleResult::new(
                Decision::Unschedulable {
                    message: fit_error_message(
                        all.len(),
                        &st.message(),
                        &Default::default(),
                        None,
                        "",
                    ),
                    nominated: None,
                },
                0,
            );
        }
        let nodes: Vec<NodeId> = match restrict {
            Some(r) => r,
            None => all.to_vec(),
        };
        let mut feasible = Vec::new();
        let mut statuses = std::collections::BTreeMap::new();
        for &n in &nodes {
            let s = self
                .profile
                .run_filter_plugins(&state, pod, view.node(n), view);
            if s.is_success() {
                feasible.push(n);
            } else {
                statuses.insert(n, s);
            }
        }
        let evaluated = nodes.len() as u32;
        if feasible.is_empty() {
            return ScheduleResult::new(
                Decision::Unschedulable {
                    message: fit_error_message(all.len(), "", &statuses, None, ""),
                    nominated: None,
                },
                evaluated,
            );
        }
        match self.picker.pick(pod_id, &feasible, view, rng) {
            Some(node) => ScheduleResult::new(
                Decision::Bind {
                    node,
                    wait: None,
                    release: vec![],
                },
                evaluated,
            ),
            None => ScheduleResult::new(
                Decision::Unschedulable {
                    message: format!(
                        "0/{} nodes are available: policy {} chose none.",
                        all.len(),
                        self.picker.name()
                    ),
                    nominated: None,
                },
                evaluated,
            ),
        }
    }
}
