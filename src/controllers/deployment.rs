//! The Deployment controller, a port of upstream pkg/controller/deployment
//! (v1.35): `deployment_controller.go` (`syncDeployment`, ReplicaSet
//! adoption), `sync.go` (`getNewReplicaSet`, `scale` with proportional
//! scaling, `cleanupDeployment`, `calculateStatus`, `syncRolloutStatus`),
//! `rolling.go`, `recreate.go`, `rollback.go`, `progress.go` and
//! `util/deployment_util.go` (`ResolveFenceposts`, `MaxSurge`,
//! `MaxUnavailable`, `NewRSNewReplicas`, `GetProportion`, revisions and
//! conditions).
//!
//! Deviations: the pod-template-hash is FNV-32a rendered with upstream's
//! `SafeEncodeString` (as `controller.ComputeHash`), but over kubesim's
//! canonical rendering of the template instead of Go's spew dump of a
//! `v1.PodTemplateSpec`, so the value differs from a real cluster's;
//! `rollback` is the controller-side rollback of the old `rollbackTo`
//! field, which does what `kubectl rollout undo` does for apps/v1 (copy the
//! revision's template, a new revision number); the terminating-replicas
//! feature (podReplacementPolicy, alpha) is not modelled.

use super::{Api, Controller, Workload, WorkloadBody, WorkloadId, WorkloadKind, WorkloadRow};
use crate::engine::{Duration, SimTime};
use crate::model::meta::ObjectMeta;
use crate::model::workload::{
    Condition, Deployment, DeploymentStatus, DeploymentStrategy, ReplicaSet, ANN_DESIRED_REPLICAS,
    ANN_MAX_REPLICAS, ANN_REVISION, ANN_REVISION_HISTORY, LABEL_POD_TEMPLATE_HASH,
};
use crate::model::{LabelSelector, Pod};

pub struct DeploymentController;

impl Controller for DeploymentController {
    fn kind(&self) -> WorkloadKind {
        WorkloadKind::Deployment
    }
    fn sync(&self, api: &mut dyn Api, id: WorkloadId) {
        sync_deployment(api, id);
    }
    fn sample(&self, w: &Workload) -> Option<WorkloadRow> {
        let d = w.deployment()?;
        Some(WorkloadRow {
            kind: "Deployment",
            namespace: w.meta.namespace.clone(),
            name: w.meta.name.clone(),
            revision: w
                .meta
                .annotations
                .get(ANN_REVISION)
                .and_then(|r| r.parse().ok()),
            desired: Some(d.replicas),
            current: d.status.replicas,
            ready: d.status.ready_replicas,
            available: d.status.available_replicas,
            updated: Some(d.status.updated_replicas),
            max_surge: Some(max_surge(d)),
            max_unavailable: Some(max_unavailable(d)),
            ..Default::default()
        })
    }
}

// ---- condition reasons (util/deployment_util.go) ----
pub const PROGRESSING: &str = "Progressing";
pub const AVAILABLE: &str = "Available";
pub const REASON_NEW_RS_CREATED: &str = "NewReplicaSetCreated";
pub const REASON_FOUND_NEW_RS: &str = "FoundNewReplicaSet";
pub const REASON_NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
pub const REASON_TIMED_OUT: &str = "ProgressDeadlineExceeded";
pub const REASON_PAUSED: &str = "DeploymentPaused";
pub const REASON_RESUMED: &str = "DeploymentResumed";
pub const REASON_RS_UPDATED: &str = "ReplicaSetUpdated";
pub const REASON_MIN_AVAILABLE: &str = "MinimumReplicasAvailable";
pub const REASON_MIN_UNAVAILABLE: &str = "MinimumReplicasUnavailable";

/// Upstream `ResolveFenceposts`: maxSurge rounds up, maxUnavailable
/// down; if both resolve to 0, maxUnavailable becomes 1.
pub fn resolve_fenceposts(
    max_surge: crate::model::workload::IntOrPercent,
    max_unavailable: crate::model::workload::IntOrPercent,
    desired: i32,
) -> (i32, i32) {
    let surge = max_surge.scaled_value(desired, true);
    let mut unavailable = max_unavailable.scaled_value(desired, false);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

/// Upstream `MaxSurge`.
pub fn max_surge(d: &Deployment) -> i32 {
    match d.strategy {
        DeploymentStrategy::RollingUpdate {
            max_surge,
            max_unavailable,
        } => resolve_fenceposts(max_surge, max_unavailable, d.replicas).0,
        DeploymentStrategy::Recreate => 0,
    }
}

/// Upstream `MaxUnavailable` (at most `replicas`; 0 for Recreate or 0
/// replicas).
pub fn max_unavailable(d: &Deployment) -> i32 {
    match d.strategy {
        DeploymentStrategy::RollingUpdate {
            max_surge,
            max_unavailable,
        } if d.replicas != 0 => resolve_fenceposts(max_surge, max_unavailable, d.replicas)
            .1
            .min(d.replicas),
        _ => 0,
    }
}

/// Upstream `rand.SafeEncodeString`: each byte mapped into an alphabet
/// without vowels (so hashes never spell words).
pub fn safe_encode_string(s: &str) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.chars()
        .map(|c| ALPHANUMS[(c as usize) % ALPHANUMS.len()] as char)
        .collect()
}

/// FNV-32a (Go's `hash/fnv` `New32a`).
pub fn fnv32a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// The template with the pod-template-hash label removed, rendered
/// canonically (ordered maps): what the hash and `EqualIgnoreHash` see.
fn template_key(t: &Pod) -> String {
    let mut labels = t.meta.labels.clone();
    labels.remove(LABEL_POD_TEMPLATE_HASH);
    format!(
        "{:?}|{:?}|{}|{:?}|{:?}",
        labels,
        t.meta.annotations,
        t.spec.hash_text(),
        t.behavior,
        t.gpu
    )
}

/// Upstream `controller.ComputeHash`: FNV-32a of the template, then the
/// collision count as 4 little-endian bytes, the decimal value encoded
/// with [`safe_encode_string`].
pub fn pod_template_hash(t: &Pod, collision_count: Option<i32>) -> String {
    let mut bytes = template_key(t).into_bytes();
    if let Some(c) = collision_count {
        bytes.extend_from_slice(&(c as u32).to_le_bytes());
    }
    safe_encode_string(&fnv32a(&bytes).to_string())
}

/// Upstream `EqualIgnoreHash`.
pub fn equal_ignore_hash(a: &Pod, b: &Pod) -> bool {
    template_key(a) == template_key(b)
}

fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: SimTime,
) -> Condition {
    Condition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: reason.to_string(),
        message,
        last_update: now,
        last_transition: now,
    }
}

pub fn get_condition<'a>(s: &'a DeploymentStatus, type_: &str) -> Option<&'a Condition> {
    s.conditions.iter().find(|c| c.type_ == type_)
}

/// Upstream `SetDeploymentCondition`.
pub fn set_condition(s: &mut DeploymentStatus, mut c: Condition) {
    if let Some(cur) = get_condition(s, &c.type_) {
        if cur.status == c.status && cur.reason == c.reason {
            return;
        }
        if cur.status == c.status {
            c.last_transition = cur.last_transition;
        }
    }
    s.conditions.retain(|x| x.type_ != c.type_);
    s.conditions.push(c);
}

fn remove_condition(s: &mut DeploymentStatus, type_: &str) {
    s.conditions.retain(|x| x.type_ != type_);
}

/// What the scaling decisions read of a ReplicaSet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RsInfo {
    pub name: String,
    /// Creation time in whole seconds (API resolution).
    pub created_s: u64,
    pub replicas: i32,
    pub available: i32,
    pub desired_annotation: Option<i32>,
    pub max_annotation: Option<i32>,
}

/// Upstream `ReplicaSetsByCreationTimestamp`.
fn by_creation(a: &RsInfo, b: &RsInfo) -> std::cmp::Ordering {
    a.created_s.cmp(&b.created_s).then(a.name.cmp(&b.name))
}

/// Upstream `GetProportion` with `getReplicaSetFraction`: the share of
/// `to_add` for one ReplicaSet, from its max-replicas annotation (or the
/// Deployment's current status.replicas), rounded half away from zero, and
/// bounded by what is left to add or remove.
pub fn get_proportion(
    rs: &RsInfo,
    d_replicas: i32,
    max_surge: i32,
    d_status_replicas: i32,
    to_add: i32,
    added: i32,
) -> i32 {
    if rs.replicas == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = if d_replicas == 0 {
        -rs.replicas
    } else {
        let deployment_replicas = i64::from(d_replicas) + i64::from(max_surge);
        let annotated = i64::from(rs.max_annotation.unwrap_or(d_status_replicas));
        if annotated == 0 {
            0
        } else {
            let num = i64::from(rs.replicas) * deployment_replicas;
            // math.Round of a positive quotient: half away from zero.
            let rounded = (2 * num + annotated) / (2 * annotated);
            (rounded - i64::from(rs.replicas)) as i32
        }
    };
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

/// Upstream `scale` as a plan: for each ReplicaSet in `rss` (index `new`
/// is the new one, if any), `Some(size)` where `scaleReplicaSet` is called
/// (which also refreshes the replica annotations), `None` where it is not.
pub fn plan_scale(
    d_replicas: i32,
    max_surge: i32,
    rolling: bool,
    d_status_replicas: i32,
    new: Option<usize>,
    rss: &[RsInfo],
) -> Vec<Option<i32>> {
    let mut plan = vec![None; rss.len()];
    let active: Vec<usize> = (0..rss.len()).filter(|i| rss[*i].replicas > 0).collect();
    // FindActiveOrLatest.
    let active_or_latest = match active.len() {
        0 => {
            if new.is_some() {
                new
            } else {
                (0..rss.len()).max_by(|a, b| by_creation(&rss[*a], &rss[*b]))
            }
        }
        1 => Some(active[0]),
        _ => None,
    };
    if rss.is_empty() {
        return plan;
    }
    if let Some(i) = active_or_latest {
        if rss[i].replicas != d_replicas {
            plan[i] = Some(d_replicas);
        }
        return plan;
    }
    // IsSaturated(new): old ones go to zero.
    if let Some(n) = new {
        let r = &rss[n];
        if r.desired_annotation == Some(d_replicas)
            && r.replicas == d_replicas
            && r.available == d_replicas
        {
            for i in active {
                if i != n {
                    plan[i] = Some(0);
                }
            }
            return plan;
        }
    }
    if !rolling {
        return plan;
    }
    let total: i32 = active.iter().map(|i| rss[*i].replicas).sum();
    let allowed_size = if d_replicas > 0 {
        d_replicas + max_surge
    } else {
        0
    };
    let to_add = allowed_size - total;
    let mut order = active;
    match to_add.cmp(&0) {
        // ReplicaSetsBySizeNewer / ReplicaSetsBySizeOlder.
        std::cmp::Ordering::Greater => order.sort_by(|a, b| {
            rss[*b]
                .replicas
                .cmp(&rss[*a].replicas)
                .then(by_creation(&rss[*b], &rss[*a]))
        }),
        std::cmp::Ordering::Less => order.sort_by(|a, b| {
            rss[*b]
                .replicas
                .cmp(&rss[*a].replicas)
                .then(by_creation(&rss[*a], &rss[*b]))
        }),
        std::cmp::Ordering::Equal => {}
    }
    let mut added = 0;
    let mut sizes: Vec<i32> = Vec::with_capacity(order.len());
    for &i in &order {
        if to_add != 0 {
            let p = get_proportion(
                &rss[i],
                d_replicas,
                max_surge,
                d_status_replicas,
                to_add,
                added,
            );
            sizes.push(rss[i].replicas + p);
            added += p;
        } else {
            sizes.push(rss[i].replicas);
        }
    }
    for (k, &i) in order.iter().enumerate() {
        let mut size = sizes[k];
        if k == 0 && to_add != 0 {
            size = (size + to_add - added).max(0);
        }
        plan[i] = Some(size);
    }
    plan
}

/// Upstream `NewRSNewReplicas` for a rolling update.
pub fn new_rs_new_replicas(d: &Deployment, all_replicas: i32, new_replicas: i32) -> i32 {
    match d.strategy {
        DeploymentStrategy::RollingUpdate { max_surge: s, .. } => {
            let surge = s.scaled_value(d.replicas, true);
            let max_total = d.replicas + surge;
            if all_replicas >= max_total {
                return new_replicas;
            }
            let up = (max_total - all_replicas).min(d.replicas - new_replicas);
            new_replicas + up
        }
        DeploymentStrategy::Recreate => d.replicas,
    }
}

// ---------------------------------------------------------------------
// The sync loop.

fn dep(api: &dyn Api, id: WorkloadId) -> Deployment {
    api.store()
        .get(id)
        .deployment()
        .cloned()
        .unwrap_or_else(unreachable_deployment)
}

/// Never used: every caller checks the kind first.
fn unreachable_deployment() -> Deployment {
    Deployment {
        replicas: 0,
        selector: LabelSelector::default(),
        parsed_selector: crate::model::Selector::nothing(),
        template: Pod::new(
            ObjectMeta::default(),
            Default::default(),
            Default::default(),
        ),
        strategy: DeploymentStrategy::Recreate,
        min_ready_seconds: 0,
        revision_history_limit: 0,
        paused: false,
        progress_deadline_seconds: 0,
        rollback_to: None,
        status: Default::default(),
    }
}

fn rs_of(api: &dyn Api, id: WorkloadId) -> &ReplicaSet {
    match &api.store().get(id).body {
        WorkloadBody::ReplicaSet(r) => r,
        _ => unreachable_rs(),
    }
}

fn unreachable_rs() -> &'static ReplicaSet {
    static EMPTY: std::sync::OnceLock<ReplicaSet> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| ReplicaSet {
        replicas: 0,
        selector: LabelSelector::default(),
        parsed_selector: crate::model::Selector::nothing(),
        min_ready_seconds: 0,
        template: Pod::new(
            ObjectMeta::default(),
            Default::default(),
            Default::default(),
        ),
        status: Default::default(),
    })
}

fn revision(api: &dyn Api, id: WorkloadId) -> i64 {
    api.store()
        .get(id)
        .meta
        .annotations
        .get(ANN_REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn info(api: &dyn Api, id: WorkloadId) -> RsInfo {
    let w = api.store().get(id);
    let rs = rs_of(api, id);
    let ann = |k: &str| w.meta.annotations.get(k).and_then(|v| v.parse().ok());
    RsInfo {
        name: w.meta.name.clone(),
        created_s: w.meta.creation_timestamp.as_micros() / 1_000_000,
        replicas: rs.replicas,
        available: rs.status.available_replicas,
        desired_annotation: ann(ANN_DESIRED_REPLICAS),
        max_annotation: ann(ANN_MAX_REPLICAS),
    }
}

fn describe(api: &dyn Api, id: WorkloadId) -> String {
    api.store().get(id).describe()
}

/// Writes the status; a change is an update of the Deployment, which
/// upstream's informer turns into another sync.
fn set_status(api: &mut dyn Api, id: WorkloadId, s: DeploymentStatus) {
    let mut changed = false;
    if let Some(d) = api.store_mut().get_mut(id).deployment_mut() {
        changed = d.status != s;
        d.status = s;
    }
    if changed {
        api.enqueue_after(id, Duration::ZERO);
    }
}

/// Upstream `getReplicaSetsForDeployment`: ReplicaSets of the namespace
/// controlled by the Deployment, adopting matching orphans and releasing
/// owned ones that no longer match; sorted by creation.
fn claim_replica_sets(api: &mut dyn Api, id: WorkloadId) -> Vec<WorkloadId> {
    let w = api.store().get(id);
    let ns = w.meta.namespace.clone();
    let uid = w.meta.uid.clone();
    let active = w.active();
    let oref = w.controller_ref();
    let Some(sel) = w.pod_selector().cloned() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for rs in api.store().of_kind_in(WorkloadKind::ReplicaSet, &ns) {
        let r = api.store().get(rs);
        let matches =
            sel.matches(&rs_of(api, rs).template.meta.labels) || sel.matches(&r.meta.labels);
        match r.meta.controller_ref() {
            Some(o) if o.uid == uid => {
                if matches || !active {
                    out.push(rs);
                } else {
                    api.store_mut()
                        .get_mut(rs)
                        .meta
                        .owner_references
                        .retain(|o| o.uid != uid);
                }
            }
            Some(_) => {}
            None => {
                if matches && active && r.active() {
                    api.store_mut()
                        .get_mut(rs)
                        .meta
                        .owner_references
                        .push(oref.clone());
                    out.push(rs);
                }
            }
        }
    }
    out.sort_by(|a, b| by_creation(&info(api, *a), &info(api, *b)));
    out
}

/// Upstream `FindNewReplicaSet`: the oldest ReplicaSet whose template
/// equals the Deployment's (ignoring the hash label).
fn find_new(api: &dyn Api, d: &Deployment, rss: &[WorkloadId]) -> Option<WorkloadId> {
    rss.iter()
        .copied()
        .find(|r| equal_ignore_hash(&rs_of(api, *r).template, &d.template))
}

/// Upstream `SetReplicasAnnotations`.
fn set_replicas_annotations(meta: &mut ObjectMeta, desired: i32, max: i32) -> bool {
    let mut changed = false;
    for (k, v) in [(ANN_DESIRED_REPLICAS, desired), (ANN_MAX_REPLICAS, max)] {
        let v = v.to_string();
        if meta.annotations.get(k) != Some(&v) {
            meta.annotations.insert(k.to_string(), v);
            changed = true;
        }
    }
    changed
}

/// Upstream `SetNewReplicaSetAnnotations` (revision, revision history,
/// and for a new ReplicaSet the replica annotations).
fn set_new_rs_annotations(
    d_meta: &ObjectMeta,
    d: &Deployment,
    rs_meta: &mut ObjectMeta,
    new_revision: i64,
    exists: bool,
) -> bool {
    let mut changed = false;
    for (k, v) in &d_meta.annotations {
        if k == ANN_REVISION
            || k == ANN_REVISION_HISTORY
            || k == ANN_DESIRED_REPLICAS
            || k == ANN_MAX_REPLICAS
        {
            continue;
        }
        if rs_meta.annotations.get(k) != Some(v) {
            rs_meta.annotations.insert(k.clone(), v.clone());
            changed = true;
        }
    }
    let old = rs_meta.annotations.get(ANN_REVISION).cloned();
    let old_int = match &old {
        Some(s) => match s.parse::<i64>() {
            Ok(v) => v,
            Err(_) => return changed,
        },
        None => 0,
    };
    if old_int < new_revision {
        rs_meta
            .annotations
            .insert(ANN_REVISION.to_string(), new_revision.to_string());
        changed = true;
        if let Some(old) = old {
            let hist = rs_meta
                .annotations
                .get(ANN_REVISION_HISTORY)
                .cloned()
                .unwrap_or_default();
            let v = if hist.is_empty() {
                old
            } else {
                format!("{hist},{old}")
            };
            rs_meta
                .annotations
                .insert(ANN_REVISION_HISTORY.to_string(), v);
        }
    }
    if !exists && set_replicas_annotations(rs_meta, d.replicas, d.replicas + max_surge(d)) {
        changed = true;
    }
    changed
}

/// Upstream `scaleReplicaSet`: sets the size and the replica
/// annotations; logs `ScalingReplicaSet` when the size changes.
fn scale_replica_set(api: &mut dyn Api, did: WorkloadId, rs: WorkloadId, size: i32) -> bool {
    let d = dep(api, did);
    let desc = describe(api, did);
    let w = api.store_mut().get_mut(rs);
    let name = w.meta.name.clone();
    let ann = set_replicas_annotations(&mut w.meta, d.replicas, d.replicas + max_surge(&d));
    let Some(r) = w.replica_set_mut() else {
        return false;
    };
    let old = r.replicas;
    if old == size && !ann {
        return false;
    }
    r.replicas = size;
    if old != size {
        w.generation += 1;
        let op = if size > old { "up" } else { "down" };
        api.record(
            "ScalingReplicaSet",
            Some("ScalingReplicaSet"),
            &format!("{desc}: Scaled {op} replica set {name} from {old} to {size}"),
        );
    }
    api.enqueue_after(rs, Duration::ZERO);
    old != size
}

/// Upstream `scaleReplicaSetAndRecordEvent`: only when the size differs.
fn scale_and_record(api: &mut dyn Api, did: WorkloadId, rs: WorkloadId, size: i32) -> bool {
    if rs_of(api, rs).replicas == size {
        return false;
    }
    scale_replica_set(api, did, rs, size)
}

/// Upstream `getAllReplicaSetsAndSyncRevision`: the new ReplicaSet
/// (created when asked and missing) and the old ones.
fn new_and_old(
    api: &mut dyn Api,
    id: WorkloadId,
    rss: &[WorkloadId],
    create: bool,
) -> (Option<WorkloadId>, Vec<WorkloadId>) {
    let d = dep(api, id);
    let existing = find_new(api, &d, rss);
    let olds: Vec<WorkloadId> = rss
        .iter()
        .copied()
        .filter(|r| Some(*r) != existing)
        .collect();
    let max_old = olds.iter().map(|r| revision(api, *r)).max().unwrap_or(0);
    let new_revision = max_old + 1;
    let now = api.now();
    let d_meta = api.store().get(id).meta.clone();
    if let Some(n) = existing {
        let mut rs_meta = api.store().get(n).meta.clone();
        let changed = set_new_rs_annotations(&d_meta, &d, &mut rs_meta, new_revision, true);
        let min_ready_changed = rs_of(api, n).min_ready_seconds != d.min_ready_seconds;
        if changed || min_ready_changed {
            let w = api.store_mut().get_mut(n);
            w.meta = rs_meta;
            if let Some(r) = w.replica_set_mut() {
                r.min_ready_seconds = d.min_ready_seconds;
            }
            api.enqueue_after(n, Duration::ZERO);
        }
        let rev = api
            .store()
            .get(n)
            .meta
            .annotations
            .get(ANN_REVISION)
            .cloned();
        let mut status = d.status.clone();
        let mut needs = false;
        if let Some(rev) = rev {
            let w = api.store_mut().get_mut(id);
            if w.meta.annotations.get(ANN_REVISION) != Some(&rev) {
                w.meta.annotations.insert(ANN_REVISION.to_string(), rev);
            }
        }
        if get_condition(&status, PROGRESSING).is_none() {
            let name = api.store().get(n).meta.name.clone();
            set_condition(
                &mut status,
                new_condition(
                    PROGRESSING,
                    "True",
                    REASON_FOUND_NEW_RS,
                    format!("Found new replica set {name:?}"),
                    now,
                ),
            );
            needs = true;
        }
        if needs {
            set_status(api, id, status);
        }
        return (Some(n), olds);
    }
    if !create {
        return (None, olds);
    }
    // Create the new ReplicaSet `<deployment>-<hash>` (on a name collision
    // with a different template, bump collisionCount and retry).
    let w = api.store().get(id).clone();
    let mut collision = d.status.collision_count;
    let (hash, name) = loop {
        let hash = pod_template_hash(&d.template, collision);
        let name = format!("{}-{hash}", w.meta.name);
        match api
            .store()
            .lookup(WorkloadKind::ReplicaSet, &w.meta.namespace, &name)
        {
            Some(other) if !equal_ignore_hash(&rs_of(api, other).template, &d.template) => {
                collision = Some(collision.unwrap_or(0).saturating_add(1));
            }
            Some(other) => return (Some(other), olds),
            None => break (hash, name),
        }
        if collision.unwrap_or(0) > 1000 {
            return (None, olds);
        }
    };
    let mut template = d.template.clone();
    template
        .meta
        .labels
        .insert(LABEL_POD_TEMPLATE_HASH.to_string(), hash.clone());
    let mut selector = d.selector.clone();
    selector
        .match_labels
        .insert(LABEL_POD_TEMPLATE_HASH.to_string(), hash.clone());
    let parsed = d.parsed_selector.add(
        crate::model::selector::Requirement::new(
            LABEL_POD_TEMPLATE_HASH,
            crate::model::selector::Operator::Equals,
            [hash.as_str()],
        )
        .ok(),
    );
    let all_replicas: i32 = olds.iter().map(|r| rs_of(api, *r).replicas).sum();
    let replicas = new_rs_new_replicas(&d, all_replicas, 0);
    let mut meta = ObjectMeta {
        name: name.clone(),
        namespace: w.meta.namespace.clone(),
        labels: template.meta.labels.clone(),
        owner_references: vec![w.controller_ref()],
        ..Default::default()
    };
    set_new_rs_annotations(&d_meta, &d, &mut meta, new_revision, false);
    let rs = ReplicaSet {
        replicas,
        selector,
        parsed_selector: parsed,
        min_ready_seconds: d.min_ready_seconds,
        template,
        status: Default::default(),
    };
    let Some(new_id) = api.create_workload(Workload::new(meta, WorkloadBody::ReplicaSet(rs)))
    else {
        return (None, olds);
    };
    let desc = w.describe();
    api.record(
        "RolloutStarted",
        Some("NewReplicaSetCreated"),
        &format!("{desc}: revision {new_revision} with replica set {name}"),
    );
    if replicas > 0 {
        api.record(
            "ScalingReplicaSet",
            Some("ScalingReplicaSet"),
            &format!("{desc}: Scaled up replica set {name} from 0 to {replicas}"),
        );
    }
    let wm = api.store_mut().get_mut(id);
    wm.meta
        .annotations
        .insert(ANN_REVISION.to_string(), new_revision.to_string());
    let mut status = dep(api, id).status;
    status.collision_count = collision;
    set_condition(
        &mut status,
        new_condition(
            PROGRESSING,
            "True",
            REASON_NEW_RS_CREATED,
            format!("Created new replica set {name:?}"),
            now,
        ),
    );
    set_status(api, id, status);
    (Some(new_id), olds)
}

fn sync_deployment(api: &mut dyn Api, id: WorkloadId) {
    let w = api.store().get(id);
    if w.removed || w.deployment().is_none() {
        return;
    }
    let deleting = w.meta.deletion_timestamp.is_some();
    let rss = claim_replica_sets(api, id);
    if deleting {
        let (new, olds) = new_and_old(api, id, &rss, false);
        sync_status_only(api, id, new, &olds);
        return;
    }
    check_paused_conditions(api, id);
    let d = dep(api, id);
    if d.paused {
        sync_scale(api, id, &rss);
        return;
    }
    if d.rollback_to.is_some() {
        rollback(api, id, &rss);
        return;
    }
    if is_scaling_event(api, id, &rss) {
        sync_scale(api, id, &rss);
        return;
    }
    match d.strategy {
        DeploymentStrategy::Recreate => rollout_recreate(api, id, &rss),
        DeploymentStrategy::RollingUpdate { .. } => rollout_rolling(api, id, &rss),
    }
}

/// Upstream `checkPausedConditions`.
fn check_paused_conditions(api: &mut dyn Api, id: WorkloadId) {
    let d = dep(api, id);
    let cond = get_condition(&d.status, PROGRESSING);
    if cond.is_some_and(|c| c.reason == REASON_TIMED_OUT) {
        return;
    }
    let paused_exists = cond.is_some_and(|c| c.reason == REASON_PAUSED);
    let now = api.now();
    let mut status = d.status.clone();
    if d.paused && !paused_exists {
        set_condition(
            &mut status,
            new_condition(
                PROGRESSING,
                "Unknown",
                REASON_PAUSED,
                "Deployment is paused".into(),
                now,
            ),
        );
    } else if !d.paused && paused_exists {
        set_condition(
            &mut status,
            new_condition(
                PROGRESSING,
                "Unknown",
                REASON_RESUMED,
                "Deployment is resumed".into(),
                now,
            ),
        );
    } else {
        return;
    }
    set_status(api, id, status);
}

/// Upstream `isScalingEvent`.
fn is_scaling_event(api: &mut dyn Api, id: WorkloadId, rss: &[WorkloadId]) -> bool {
    let (new, olds) = new_and_old(api, id, rss, false);
    let d = dep(api, id);
    new.into_iter().chain(olds).any(|r| {
        rs_of(api, r).replicas > 0
            && info(api, r)
                .desired_annotation
                .is_some_and(|v| v != d.replicas)
    })
}

/// Upstream `sync` (scaling and paused deployments).
fn sync_scale(api: &mut dyn Api, id: WorkloadId, rss: &[WorkloadId]) {
    let (new, olds) = new_and_old(api, id, rss, false);
    scale(api, id, new, &olds);
    let d = dep(api, id);
    if d.paused && d.rollback_to.is_none() {
        cleanup(api, id, &olds);
    }
    sync_status_only(api, id, new, &olds);
}

/// Upstream `scale`.
fn scale(api: &mut dyn Api, id: WorkloadId, new: Option<WorkloadId>, olds: &[WorkloadId]) {
    let d = dep(api, id);
    let mut all: Vec<WorkloadId> = olds.to_vec();
    if let Some(n) = new {
        all.push(n);
    }
    let infos: Vec<RsInfo> = all.iter().map(|r| info(api, *r)).collect();
    let rolling = matches!(d.strategy, DeploymentStrategy::RollingUpdate { .. });
    let plan = plan_scale(
        d.replicas,
        max_surge(&d),
        rolling,
        d.status.replicas,
        new.map(|_| all.len() - 1),
        &infos,
    );
    // Apply in upstream's order: the planned ReplicaSets by the order
    // `scale` iterates them (largest first), which only changes event order.
    for (i, p) in plan.iter().enumerate() {
        if let Some(size) = p {
            scale_replica_set(api, id, all[i], *size);
        }
    }
}

/// Upstream `rolloutRolling`.
fn rollout_rolling(api: &mut dyn Api, id: WorkloadId, rss: &[WorkloadId]) {
    let (new, olds) = new_and_old(api, id, rss, true);
    let Some(new) = new else {
        sync_rollout_status(api, id, None, &olds);
        return;
    };
    let mut all = olds.clone();
    all.push(new);
    if reconcile_new(api, id, &all, new) {
        sync_rollout_status(api, id, Some(new), &olds);
        return;
    }
    let active_olds: Vec<WorkloadId> = olds
        .iter()
        .copied()
        .filter(|r| rs_of(api, *r).replicas > 0)
        .collect();
    if reconcile_old(api, id, &all, &active_olds, new) {
        sync_rollout_status(api, id, Some(new), &olds);
        return;
    }
    let status = calculate_status(api, id, Some(new), &olds);
    if deployment_complete(&dep(api, id), api.store().get(id).generation, &status) {
        cleanup(api, id, &olds);
    }
    sync_rollout_status(api, id, Some(new), &olds);
}

/// Upstream `reconcileNewReplicaSet`.
fn reconcile_new(api: &mut dyn Api, id: WorkloadId, all: &[WorkloadId], new: WorkloadId) -> bool {
    let d = dep(api, id);
    let cur = rs_of(api, new).replicas;
    if cur == d.replicas {
        return false;
    }
    if cur > d.replicas {
        return scale_and_record(api, id, new, d.replicas);
    }
    let all_replicas: i32 = all.iter().map(|r| rs_of(api, *r).replicas).sum();
    let n = new_rs_new_replicas(&d, all_replicas, cur);
    scale_and_record(api, id, new, n)
}

/// Upstream `reconcileOldReplicaSets` with `cleanupUnhealthyReplicas` and
/// `scaleDownOldReplicaSetsForRollingUpdate`.
fn reconcile_old(
    api: &mut dyn Api,
    id: WorkloadId,
    all: &[WorkloadId],
    olds: &[WorkloadId],
    new: WorkloadId,
) -> bool {
    let d = dep(api, id);
    let old_count: i32 = olds.iter().map(|r| rs_of(api, *r).replicas).sum();
    if old_count == 0 {
        return false;
    }
    let all_count: i32 = all.iter().map(|r| rs_of(api, *r).replicas).sum();
    let max_unavail = max_unavailable(&d);
    let min_available = d.replicas - max_unavail;
    let new_rs = rs_of(api, new);
    let new_unavailable = new_rs.replicas - new_rs.status.available_replicas;
    let max_scaled_down = all_count - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return false;
    }
    // Clean up unhealthy replicas first (oldest first).
    let mut sorted: Vec<WorkloadId> = olds.to_vec();
    sorted.sort_by(|a, b| by_creation(&info(api, *a), &info(api, *b)));
    let mut cleaned = 0;
    for &r in &sorted {
        if cleaned >= max_scaled_down {
            break;
        }
        let rs = rs_of(api, r);
        if rs.replicas == 0 || rs.replicas == rs.status.available_replicas {
            continue;
        }
        let n = (max_scaled_down - cleaned).min(rs.replicas - rs.status.available_replicas);
        let target = rs.replicas - n;
        scale_and_record(api, id, r, target);
        cleaned += n;
    }
    // Then scale down by availability.
    let available: i32 = all
        .iter()
        .map(|r| rs_of(api, *r).status.available_replicas)
        .sum();
    let mut scaled = 0;
    if available > min_available {
        let total = available - min_available;
        for &r in &sorted {
            if scaled >= total {
                break;
            }
            let cur = rs_of(api, r).replicas;
            if cur == 0 {
                continue;
            }
            let n = cur.min(total - scaled);
            scale_and_record(api, id, r, cur - n);
            scaled += n;
        }
    }
    cleaned + scaled > 0
}

/// Upstream `rolloutRecreate`.
fn rollout_recreate(api: &mut dyn Api, id: WorkloadId, rss: &[WorkloadId]) {
    let (mut new, mut olds) = new_and_old(api, id, rss, false);
    let active_olds: Vec<WorkloadId> = olds
        .iter()
        .copied()
        .filter(|r| rs_of(api, *r).replicas > 0)
        .collect();
    let mut scaled_down = false;
    for r in active_olds {
        scaled_down |= scale_and_record(api, id, r, 0);
    }
    if scaled_down || old_pods_running(api, new, &olds) {
        sync_rollout_status(api, id, new, &olds);
        return;
    }
    if new.is_none() {
        let (n, o) = new_and_old(api, id, rss, true);
        new = n;
        olds = o;
    }
    if let Some(n) = new {
        let d = dep(api, id);
        scale_and_record(api, id, n, d.replicas);
    }
    let status = calculate_status(api, id, new, &olds);
    if deployment_complete(&dep(api, id), api.store().get(id).generation, &status) {
        cleanup(api, id, &olds);
    }
    sync_rollout_status(api, id, new, &olds);
}

/// Upstream `oldPodsRunning`: old ReplicaSets report pods, or pods of old
/// ReplicaSets are still in the API in a non-terminal phase (terminating
/// ones included).
fn old_pods_running(api: &dyn Api, new: Option<WorkloadId>, olds: &[WorkloadId]) -> bool {
    if olds
        .iter()
        .map(|r| rs_of(api, *r).status.replicas)
        .sum::<i32>()
        > 0
    {
        return true;
    }
    olds.iter().filter(|r| Some(**r) != new).any(|r| {
        let uid = &api.store().get(*r).meta.uid;
        api.pods_controlled_by(uid)
            .into_iter()
            .any(|p| !api.pod(p).phase().is_terminal())
    })
}

/// Upstream `rollback`.
fn rollback(api: &mut dyn Api, id: WorkloadId, rss: &[WorkloadId]) {
    let (new, olds) = new_and_old(api, id, rss, true);
    let mut all = olds.clone();
    all.extend(new);
    let d = dep(api, id);
    let desc = describe(api, id);
    let mut to = d.rollback_to.unwrap_or(0);
    let clear = |api: &mut dyn Api| {
        if let Some(d) = api.store_mut().get_mut(id).deployment_mut() {
            d.rollback_to = None;
        }
        api.enqueue_after(id, Duration::ZERO);
    };
    if to == 0 {
        // LastRevision: the second-highest revision.
        let mut revs: Vec<i64> = all.iter().map(|r| revision(api, *r)).collect();
        revs.sort_unstable();
        revs.dedup();
        to = if revs.len() >= 2 {
            revs[revs.len() - 2]
        } else {
            0
        };
        if to == 0 {
            api.record(
                "DeploymentRollback",
                Some("DeploymentRollbackRevisionNotFound"),
                &format!("{desc}: Unable to find last revision."),
            );
            clear(api);
            return;
        }
    }
    for &r in &all {
        if revision(api, r) == to {
            let t = rs_of(api, r).template.clone();
            if !equal_ignore_hash(&d.template, &t) {
                let mut t = t;
                t.meta.labels.remove(LABEL_POD_TEMPLATE_HASH);
                let w = api.store_mut().get_mut(id);
                if let Some(dd) = w.deployment_mut() {
                    dd.template = t;
                }
                w.generation += 1;
                api.record(
                    "DeploymentRollback",
                    Some("DeploymentRollback"),
                    &format!("{desc}: Rolled back deployment to revision {to}"),
                );
            } else {
                api.record(
                    "DeploymentRollback",
                    Some("DeploymentRollbackTemplateUnchanged"),
                    &format!("{desc}: The rollback revision contains the same template as current deployment"),
                );
            }
            clear(api);
            return;
        }
    }
    api.record(
        "DeploymentRollback",
        Some("DeploymentRollbackRevisionNotFound"),
        &format!("{desc}: Unable to find the revision to rollback to."),
    );
    clear(api);
}

/// Upstream `cleanupDeployment`: delete the oldest old ReplicaSets beyond
/// revisionHistoryLimit that are scaled to zero and settled.
fn cleanup(api: &mut dyn Api, id: WorkloadId, olds: &[WorkloadId]) {
    let d = dep(api, id);
    let mut cleanable: Vec<WorkloadId> = olds
        .iter()
        .copied()
        .filter(|r| api.store().get(*r).active())
        .collect();
    let diff = cleanable.len() as i64 - i64::from(d.revision_history_limit);
    if diff <= 0 {
        return;
    }
    cleanable.sort_by(|a, b| {
        revision(api, *a)
            .cmp(&revision(api, *b))
            .then(by_creation(&info(api, *a), &info(api, *b)))
    });
    for &r in cleanable.iter().take(diff as usize) {
        let w = api.store().get(r);
        let rs = rs_of(api, r);
        if rs.status.replicas != 0
            || rs.replicas != 0
            || w.generation > rs.status.observed_generation
        {
            continue;
        }
        api.delete_workload(r, super::Propagation::Background);
    }
}

/// Upstream `calculateStatus`.
fn calculate_status(
    api: &dyn Api,
    id: WorkloadId,
    new: Option<WorkloadId>,
    olds: &[WorkloadId],
) -> DeploymentStatus {
    let d = dep(api, id);
    let all: Vec<WorkloadId> = olds.iter().copied().chain(new).collect();
    let sum =
        |f: &dyn Fn(&ReplicaSet) -> i32| -> i32 { all.iter().map(|r| f(rs_of(api, *r))).sum() };
    let available = sum(&|r| r.status.available_replicas);
    let total = sum(&|r| r.replicas);
    let mut s = DeploymentStatus {
        observed_generation: api.store().get(id).generation,
        replicas: sum(&|r| r.status.replicas),
        updated_replicas: new.map(|n| rs_of(api, n).status.replicas).unwrap_or(0),
        ready_replicas: sum(&|r| r.status.ready_replicas),
        available_replicas: available,
        unavailable_replicas: (total - available).max(0),
        conditions: d.status.conditions.clone(),
        collision_count: d.status.collision_count,
    };
    let now = api.now();
    if available >= d.replicas - max_unavailable(&d) {
        set_condition(
            &mut s,
            new_condition(
                AVAILABLE,
                "True",
                REASON_MIN_AVAILABLE,
                "Deployment has minimum availability.".into(),
                now,
            ),
        );
    } else {
        set_condition(
            &mut s,
            new_condition(
                AVAILABLE,
                "False",
                REASON_MIN_UNAVAILABLE,
                "Deployment does not have minimum availability.".into(),
                now,
            ),
        );
    }
    s
}

/// Upstream `DeploymentComplete`.
pub fn deployment_complete(d: &Deployment, generation: i64, s: &DeploymentStatus) -> bool {
    s.updated_replicas == d.replicas
        && s.replicas == d.replicas
        && s.available_replicas == d.replicas
        && s.observed_generation >= generation
}

/// Upstream `DeploymentProgressing`.
pub fn deployment_progressing(old: &DeploymentStatus, new: &DeploymentStatus) -> bool {
    let old_old = old.replicas - old.updated_replicas;
    let new_old = new.replicas - new.updated_replicas;
    new.updated_replicas > old.updated_replicas
        || new_old < old_old
        || new.ready_replicas > old.ready_replicas
        || new.available_replicas > old.available_replicas
}

/// Upstream `DeploymentTimedOut`.
pub fn deployment_timed_out(d: &Deployment, s: &DeploymentStatus, now: SimTime) -> bool {
    let Some(c) = get_condition(s, PROGRESSING) else {
        return false;
    };
    if c.reason == REASON_NEW_RS_AVAILABLE {
        return false;
    }
    if c.reason == REASON_TIMED_OUT {
        return true;
    }
    let deadline = c.last_update.after(Duration::from_secs(
        d.progress_deadline_seconds.max(0) as u64
    ));
    deadline < now
}

/// Upstream `syncDeploymentStatus` (status without progress estimation).
fn sync_status_only(
    api: &mut dyn Api,
    id: WorkloadId,
    new: Option<WorkloadId>,
    olds: &[WorkloadId],
) {
    let s = calculate_status(api, id, new, olds);
    if s != dep(api, id).status {
        set_status(api, id, s);
    }
}

fn has_progress_deadline(d: &Deployment) -> bool {
    d.progress_deadline_seconds != i32::MAX
}

/// Upstream `syncRolloutStatus` with `requeueStuckDeployment`.
fn sync_rollout_status(
    api: &mut dyn Api,
    id: WorkloadId,
    new: Option<WorkloadId>,
    olds: &[WorkloadId],
) {
    let d = dep(api, id);
    let now = api.now();
    let mut s = calculate_status(api, id, new, olds);
    if !has_progress_deadline(&d) {
        remove_condition(&mut s, PROGRESSING);
    }
    let cur = get_condition(&d.status, PROGRESSING).cloned();
    let complete_before = s.replicas == s.updated_replicas
        && cur
            .as_ref()
            .is_some_and(|c| c.reason == REASON_NEW_RS_AVAILABLE);
    let generation = api.store().get(id).generation;
    let new_name = new.map(|n| api.store().get(n).meta.name.clone());
    let what = match &new_name {
        Some(n) => format!("ReplicaSet {n:?}"),
        None => format!("Deployment {:?}", api.store().get(id).meta.name),
    };
    let mut completed_now = false;
    if has_progress_deadline(&d) && !complete_before {
        if deployment_complete(&d, generation, &s) {
            let had =
                get_condition(&s, PROGRESSING).is_some_and(|c| c.reason == REASON_NEW_RS_AVAILABLE);
            set_condition(
                &mut s,
                new_condition(
                    PROGRESSING,
                    "True",
                    REASON_NEW_RS_AVAILABLE,
                    format!("{what} has successfully progressed."),
                    now,
                ),
            );
            completed_now = !had;
        } else if deployment_progressing(&d.status, &s) {
            let mut c = new_condition(
                PROGRESSING,
                "True",
                REASON_RS_UPDATED,
                format!("{what} is progressing."),
                now,
            );
            if let Some(cur) = &cur {
                if cur.status == "True" {
                    c.last_transition = cur.last_transition;
                }
                remove_condition(&mut s, PROGRESSING);
            }
            set_condition(&mut s, c);
        } else if deployment_timed_out(&d, &s, now) {
            set_condition(
                &mut s,
                new_condition(
                    PROGRESSING,
                    "False",
                    REASON_TIMED_OUT,
                    format!("{what} has timed out progressing."),
                    now,
                ),
            );
        }
    }
    let desc = describe(api, id);
    if completed_now {
        let rev = api
            .store()
            .get(id)
            .meta
            .annotations
            .get(ANN_REVISION)
            .cloned()
            .unwrap_or_default();
        api.record(
            "RolloutComplete",
            Some(REASON_NEW_RS_AVAILABLE),
            &format!("{desc}: revision {rev} complete"),
        );
    }
    let timed_out_now = get_condition(&s, PROGRESSING)
        .is_some_and(|c| c.reason == REASON_TIMED_OUT)
        && cur.as_ref().is_none_or(|c| c.reason != REASON_TIMED_OUT);
    if timed_out_now {
        api.record(
            "RolloutTimedOut",
            Some(REASON_TIMED_OUT),
            &format!("{desc}: {what} has timed out progressing."),
        );
    }
    if s == d.status {
        // requeueStuckDeployment.
        if let Some(c) = &cur {
            if has_progress_deadline(&d)
                && !deployment_complete(&d, generation, &s)
                && c.reason != REASON_TIMED_OUT
            {
                let due = c.last_update.after(Duration::from_secs(
                    d.progress_deadline_seconds.max(0) as u64,
                ));
                let after = if due.as_micros() < now.as_micros() + 1_000_000 {
                    Duration::from_secs(1)
                } else {
                    due.since(now).after_secs(1)
                };
                api.enqueue_after(id, after);
            }
        }
        return;
    }
    set_status(api, id, s);
}

trait AfterSecs {
    fn after_secs(self, s: u64) -> Duration;
}
impl AfterSecs for Duration {
    fn after_secs(self, s: u64) -> Duration {
        Duration::from_micros(self.as_micros().saturating_add(s * 1_000_000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::workload::IntOrPercent::{self, Int, Percent};

    /// Upstream deployment_util_test.go `TestResolveFenceposts` and
    /// `TestMaxUnavailable` cases.
    #[test]
    fn fenceposts() {
        let cases: [(IntOrPercent, IntOrPercent, i32, (i32, i32)); 8] = [
            (Int(0), Int(0), 0, (0, 1)),
            (Percent(39), Percent(39), 10, (4, 3)),
            (Percent(25), Percent(25), 10, (3, 2)),
            (Percent(0), Int(0), 10, (0, 1)),
            (Int(1), Int(0), 5, (1, 0)),
            (Percent(50), Percent(50), 1, (1, 0)),
            (Percent(100), Percent(100), 10, (10, 10)),
            (Int(0), Percent(10), 5, (0, 1)),
        ];
        for (s, u, n, want) in cases {
            assert_eq!(resolve_fenceposts(s, u, n), want, "{s} {u} {n}");
        }
        let d = |replicas, s, u| Deployment {
            replicas,
            strategy: DeploymentStrategy::RollingUpdate {
                max_surge: s,
                max_unavailable: u,
            },
            ..unreachable_deployment()
        };
        // TestMaxUnavailable: 0 replicas → 0; larger than replicas → replicas.
        assert_eq!(max_unavailable(&d(0, Int(0), Int(1))), 0);
        assert_eq!(max_unavailable(&d(10, Int(0), Int(20))), 10);
        assert_eq!(max_unavailable(&d(10, Int(0), Int(1))), 1);
        assert_eq!(max_unavailable(&d(10, Int(0), Percent(50))), 5);
        assert_eq!(max_unavailable(&d(10, Int(0), Percent(100))), 10);
        let mut r = d(10, Int(1), Int(1));
        r.strategy = DeploymentStrategy::Recreate;
        assert_eq!(max_unavailable(&r), 0);
        assert_eq!(max_surge(&r), 0);
    }

    fn rsi(name: &str, replicas: i32, created_s: u64, ann: (i32, i32)) -> RsInfo {
        RsInfo {
            name: name.to_string(),
            created_s,
            replicas,
            available: replicas,
            desired_annotation: Some(ann.0),
            max_annotation: Some(ann.1),
        }
    }

    /// Upstream sync_test.go `TestScale`: deployments with maxSurge 0 and
    /// maxUnavailable 0 (so surge resolves to 0) unless given; ReplicaSets
    /// annotated with the old deployment's size and max size.
    #[test]
    fn proportional_scaling_table() {
        // (name, new replicas, old replicas, old surge, new surge, new RS?, rss [(name, replicas, created)], expected)
        type Case = (
            &'static str,
            i32,
            i32,
            i32,
            i32,
            bool,
            Vec<(&'static str, i32, u64)>,
            Vec<i32>,
        );
        let (new_t, old_t, older_t) = (7200, 3600, 0);
        let cases: Vec<Case> = vec![
            (
                "normal scaling event: 10 -> 12",
                12,
                10,
                0,
                0,
                true,
                vec![("foo-v1", 10, new_t)],
                vec![12],
            ),
            (
                "normal scaling event: 10 -> 5",
                5,
                10,
                0,
                0,
                true,
                vec![("foo-v1", 10, new_t)],
                vec![5],
            ),
            (
                "proportional scaling: 5 -> 10",
                10,
                5,
                0,
                0,
                true,
                vec![("foo-v1", 3, old_t), ("foo-v2", 2, new_t)],
                vec![6, 4],
            ),
            (
                "proportional scaling: 5 -> 3",
                3,
                5,
                0,
                0,
                true,
                vec![("foo-v1", 3, old_t), ("foo-v2", 2, new_t)],
                vec![2, 1],
            ),
            (
                "proportional scaling: 9 -> 4",
                4,
                9,
                0,
                0,
                true,
                vec![("foo-v1", 1, old_t), ("foo-v2", 8, new_t)],
                vec![0, 4],
            ),
            (
                "proportional scaling: 7 -> 10",
                10,
                7,
                0,
                0,
                true,
                vec![
                    ("foo-v2", 3, old_t),
                    ("foo-v1", 2, older_t),
                    ("foo-v3", 2, new_t),
                ],
                vec![4, 3, 3],
            ),
            (
                "proportional scaling: 13 -> 8",
                8,
                13,
                0,
                0,
                true,
                vec![
                    ("foo-v2", 8, old_t),
                    ("foo-v1", 3, older_t),
                    ("foo-v3", 2, new_t),
                ],
                vec![5, 2, 1],
            ),
            (
                "leftover distribution: 3 -> 4",
                4,
                3,
                0,
                0,
                true,
                vec![
                    ("foo-v2", 1, old_t),
                    ("foo-v1", 1, older_t),
                    ("foo-v3", 1, new_t),
                ],
                vec![1, 1, 2],
            ),
            (
                "leftover distribution: 3 -> 2",
                2,
                3,
                0,
                0,
                true,
                vec![
                    ("foo-v2", 1, old_t),
                    ("foo-v1", 1, older_t),
                    ("foo-v3", 1, new_t),
                ],
                vec![1, 0, 1],
            ),
            (
                "proportional scaling (no new rs): 4 -> 5",
                5,
                4,
                0,
                0,
                false,
                vec![("foo-v2", 2, old_t), ("foo-v1", 2, older_t)],
                vec![3, 2],
            ),
            (
                "proportional scaling: 6 -> 0",
                0,
                6,
                0,
                0,
                true,
                vec![
                    ("foo-v2", 2, old_t),
                    ("foo-v1", 1, older_t),
                    ("foo-v3", 3, new_t),
                ],
                vec![0, 0, 0],
            ),
            (
                "proportional scaling: 0 -> 6",
                6,
                6,
                0,
                0,
                true,
                vec![
                    ("foo-v2", 0, old_t),
                    ("foo-v1", 0, older_t),
                    ("foo-v3", 0, new_t),
                ],
                vec![0, 0, 6],
            ),
            (
                "deployment with surge pods",
                20,
                10,
                2,
                2,
                true,
                vec![("foo-v1", 6, old_t), ("foo-v2", 6, new_t)],
                vec![11, 11],
            ),
            (
                "change both surge and size",
                50,
                10,
                3,
                6,
                true,
                vec![("foo-v1", 8, old_t), ("foo-v2", 5, new_t)],
                vec![34, 22],
            ),
        ];
        for (name, d_replicas, old_replicas, old_surge, surge, has_new, rss, want) in cases {
            let infos: Vec<RsInfo> = rss
                .iter()
                .map(|(n, r, c)| rsi(n, *r, *c, (old_replicas, old_replicas + old_surge)))
                .collect();
            let new = has_new.then_some(infos.len() - 1);
            let plan = plan_scale(d_replicas, surge, true, 0, new, &infos);
            let got: Vec<i32> = plan
                .iter()
                .zip(&infos)
                .map(|(p, i)| p.unwrap_or(i.replicas))
                .collect();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn new_rs_replicas_respect_surge() {
        let d = Deployment {
            replicas: 10,
            strategy: DeploymentStrategy::RollingUpdate {
                max_surge: Percent(25),
                max_unavailable: Percent(25),
            },
            ..unreachable_deployment()
        };
        // Old RS at 10: surge 3 lets the new one start at 3.
        assert_eq!(new_rs_new_replicas(&d, 10, 0), 3);
        assert_eq!(new_rs_new_replicas(&d, 13, 3), 3);
        assert_eq!(new_rs_new_replicas(&d, 8, 3), 8);
        assert_eq!(new_rs_new_replicas(&d, 0, 9), 10);
    }

    #[test]
    fn safe_encoding_and_hash() {
        // Digits map into the vowel-free alphabet ('0' → '4', '1' → '5', …).
        assert_eq!(safe_encode_string("0123456789"), "456789bcdf");
        // FNV-32a reference values (Go's hash/fnv).
        assert_eq!(fnv32a(b""), 0x811c_9dc5);
        assert_eq!(fnv32a(b"a"), 0xe40c_292c);
        let t = unreachable_deployment().template;
        let h = pod_template_hash(&t, None);
        assert!(h.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
        assert_ne!(
            h,
            pod_template_hash(&t, Some(1)),
            "collisionCount changes the hash"
        );
    }

    fn st(
        replicas: i32,
        updated: i32,
        ready: i32,
        available: i32,
        observed: i64,
    ) -> DeploymentStatus {
        DeploymentStatus {
            replicas,
            updated_replicas: updated,
            ready_replicas: ready,
            available_replicas: available,
            observed_generation: observed,
            ..Default::default()
        }
    }

    /// After upstream deployment_util_test.go `TestDeploymentComplete`.
    #[test]
    fn deployment_complete_table() {
        let d = Deployment {
            replicas: 5,
            ..unreachable_deployment()
        };
        assert!(
            !deployment_complete(&d, 1, &st(5, 5, 5, 4, 1)),
            "min but not all available"
        );
        assert!(deployment_complete(&d, 1, &st(5, 5, 5, 5, 1)), "complete");
        assert!(
            !deployment_complete(&d, 1, &st(5, 4, 5, 5, 1)),
            "available but not updated"
        );
        assert!(
            !deployment_complete(&d, 1, &st(6, 5, 6, 5, 1)),
            "old pods still running"
        );
        assert!(
            !deployment_complete(&d, 2, &st(5, 5, 5, 5, 1)),
            "generation not observed"
        );
        let one = Deployment {
            replicas: 1,
            ..unreachable_deployment()
        };
        assert!(
            !deployment_complete(&one, 1, &st(1, 1, 0, 0, 1)),
            "never comes up"
        );
    }

    /// After upstream deployment_util_test.go `TestDeploymentProgressing`.
    #[test]
    fn deployment_progressing_table() {
        let old = st(10, 5, 8, 8, 1);
        assert!(
            deployment_progressing(&old, &st(10, 6, 8, 8, 1)),
            "updated up"
        );
        assert!(
            deployment_progressing(&old, &st(9, 5, 8, 8, 1)),
            "old pods down"
        );
        assert!(
            deployment_progressing(&old, &st(10, 5, 9, 8, 1)),
            "ready up"
        );
        assert!(
            deployment_progressing(&old, &st(10, 5, 8, 9, 1)),
            "available up"
        );
        assert!(
            !deployment_progressing(&old, &st(10, 5, 8, 8, 1)),
            "no change"
        );
        assert!(
            !deployment_progressing(&old, &st(11, 5, 7, 7, 1)),
            "more old, less ready"
        );
    }

    /// After upstream deployment_util_test.go `TestDeploymentTimedOut`:
    /// a 10 s deadline, the Progressing condition updated at 0.
    #[test]
    fn deployment_timed_out_table() {
        let d = Deployment {
            progress_deadline_seconds: 10,
            ..unreachable_deployment()
        };
        let at = |reason: &str| {
            let mut s = DeploymentStatus::default();
            set_condition(
                &mut s,
                new_condition(PROGRESSING, "True", reason, String::new(), SimTime(0)),
            );
            s
        };
        let secs = |n: u64| SimTime(n * 1_000_000);
        assert!(
            !deployment_timed_out(&d, &DeploymentStatus::default(), secs(20)),
            "no condition"
        );
        assert!(
            deployment_timed_out(&d, &at(REASON_RS_UPDATED), secs(11)),
            "past the deadline"
        );
        assert!(
            !deployment_timed_out(&d, &at(REASON_RS_UPDATED), secs(10)),
            "at the deadline"
        );
        assert!(
            !deployment_timed_out(&d, &at(REASON_RS_UPDATED), secs(5)),
            "before"
        );
        assert!(
            !deployment_timed_out(&d, &at(REASON_NEW_RS_AVAILABLE), secs(99)),
            "complete"
        );
        assert!(
            deployment_timed_out(&d, &at(REASON_TIMED_OUT), secs(1)),
            "already timed out"
        );
    }

    #[test]
    fn conditions_keep_transition_time() {
        let mut s = DeploymentStatus::default();
        set_condition(
            &mut s,
            new_condition(AVAILABLE, "True", "A", String::new(), SimTime(1)),
        );
        set_condition(
            &mut s,
            new_condition(AVAILABLE, "True", "B", String::new(), SimTime(5)),
        );
        let c = get_condition(&s, AVAILABLE)
            .cloned()
            .unwrap_or_else(|| panic!("set"));
        assert_eq!(
            (c.reason.as_str(), c.last_transition, c.last_update),
            ("B", SimTime(1), SimTime(5))
        );
    }
}
