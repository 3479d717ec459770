//! The Deployment controller (upstream pkg/controller/deployment).

use super::{Api, Controller, WorkloadId, WorkloadKind};

pub struct DeploymentController;

impl Controller for DeploymentController {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::Deployment
    }
    fn sync(&self, _api: &mut dyn Api, _id: WorkloadId) {}
}
