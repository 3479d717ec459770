//! The disruption controller (upstream pkg/controller/disruption).

use super::{Api, Controller, WorkloadId, WorkloadKind};

pub struct DisruptionController;

impl Controller for DisruptionController {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::PodDisruptionBudget
    }
    fn sync(&self, _api: &mut dyn Api, _id: WorkloadId) {}
}
