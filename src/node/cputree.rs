//! A node's cgroup CPU tree, cached between CPU divisions: the groups
//! (structure, weights, caps) of `kubepods → (guaranteed pods | burstable
//! tier | besteffort tier → pods) → containers` that
//! [`super::runtime::SimRuntime`] builds from its ready sandboxes and
//! running containers, and the leaves' demands.
//!
//! The runtime rebuilds the tree only when what it is built from changes
//! (a sandbox runs, stops or goes; a container starts, exits or goes; a
//! container's resources are updated) and otherwise only copies the
//! leaves' demands in; the division ([`super::cpu::Division`], buffers
//! reused) runs only when a demand or the structure changed, and after a
//! demand-only change redoes only the water-fillings whose inputs changed
//! ([`super::cpu::Division::redivide`]). The division
//! is a pure function of the groups and the capacity, so the grants are
//! exactly those of a tree built from scratch on every call (a property
//! test in `runtime.rs` checks it over random sequences of changes).

use super::cgroup::QosParent;
use super::cpu::{CpuGroup, Division};

/// The cached tree of one node and its last division.
#[derive(Clone, Debug, Default)]
pub struct CpuTree {
    groups: Vec<CpuGroup>,
    /// Per container leaf, in group order: (group index, the owner's slot
    /// for the container).
    leaves: Vec<(usize, usize)>,
    /// Whether `groups` reflects the runtime's sandboxes and containers.
    valid: bool,
    /// Whether the last division is of `groups` as they are.
    divided: bool,
    /// Whether `division` holds a division of this structure (then a
    /// demand change re-divides only what changed).
    structure_divided: bool,
    division: Division,
}

/// Group indices of the fixed part of the tree.
const KUBEPODS: usize = 0;
const BURSTABLE: usize = 1;
const BESTEFFORT: usize = 2;

impl CpuTree {
    /// The structure changed: the next [`CpuTree::is_valid`] is false
    /// until the owner rebuilds.
    pub fn invalidate(&mut self) {
        self.valid = false;
    }

    pub fn is_valid(&self) -> bool {
        self.valid
    }

    /// Starts a rebuild: `kubepods` and the burstable and besteffort tiers
    /// with these weights.
    pub fn reset(&mut self, burstable_weight: u64, besteffort_weight: u64) {
        self.groups.clear();
        self.leaves.clear();
        self.groups.push(CpuGroup {
            parent: KUBEPODS,
            weight: 1,
            cap_m: None,
            demand_m: 0,
        });
        for weight in [burstable_weight, besteffort_weight] {
            self.groups.push(CpuGroup {
                parent: KUBEPODS,
                weight,
                cap_m: None,
                demand_m: 0,
            });
        }
        self.valid = true;
        self.divided = false;
        self.structure_divided = false;
    }

    /// Adds a pod cgroup under its QoS parent; returns its group index.
    pub fn add_pod(&mut self, parent: QosParent, weight: u64, cap_m: Option<i64>) -> usize {
        let parent = match parent {
            QosParent::Kubepods => KUBEPODS,
            QosParent::Burstable => BURSTABLE,
            QosParent::BestEffort => BESTEFFORT,
        };
        self.groups.push(CpuGroup {
            parent,
            weight,
            cap_m,
            demand_m: 0,
        });
        self.groups.len() - 1
    }

    /// Adds a container under pod group `pod`; `slot` is how the owner
    /// finds the container again.
    pub fn add_leaf(
        &mut self,
        pod: usize,
        weight: u64,
        cap_m: Option<i64>,
        demand_m: i64,
        slot: usize,
    ) {
        self.leaves.push((self.groups.len(), slot));
        self.groups.push(CpuGroup {
            parent: pod,
            weight,
            cap_m,
            demand_m,
        });
    }

    /// Copies the leaves' demands in (`demand_of(slot)`); returns whether
    /// any changed.
    pub fn sync_demands(&mut self, demand_of: impl Fn(usize) -> i64) -> bool {
        let mut changed = false;
        for &(g, slot) in &self.leaves {
            let d = demand_of(slot);
            let leaf = &mut self.groups[g];
            if leaf.demand_m != d {
                leaf.demand_m = d;
                changed = true;
            }
        }
        if changed {
            self.divided = false;
        }
        changed
    }

    /// Divides `capacity_m` over the tree unless the last division is
    /// still current; then calls `grant(slot, millicores)` for every leaf
    /// in group order. Returns whether it divided.
    pub fn divide(&mut self, capacity_m: i64, mut grant: impl FnMut(usize, i64)) -> bool {
        if self.divided {
            return false;
        }
        let grants = if self.structure_divided {
            self.division.redivide(&self.groups, capacity_m)
        } else {
            self.division.divide(&self.groups, capacity_m)
        };
        self.structure_divided = true;
        for &(g, slot) in &self.leaves {
            grant(slot, grants[g]);
        }
        self.divided = true;
        true
    }

    /// The groups as built (for tests and diagnostics).
    pub fn groups(&self) -> &[CpuGroup] {
        &self.groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divides_once_per_change() {
        let mut t = CpuTree::default();
        assert!(!t.is_valid());
        t.reset(1024, 2);
        let p = t.add_pod(QosParent::Kubepods, 1024, Some(1000));
        t.add_leaf(p, 1024, Some(1000), 800, 7);
        let q = t.add_pod(QosParent::BestEffort, 2, None);
        t.add_leaf(q, 2, None, 5000, 9);
        assert!(t.is_valid());
        assert_eq!(t.groups().len(), 7);
        let mut seen = Vec::new();
        assert!(t.divide(2000, |s, g| seen.push((s, g))));
        assert_eq!(seen, vec![(7, 800), (9, 1200)]);
        // Nothing changed: no division, no grants.
        assert!(!t.divide(2000, |_, _| panic!("divided again")));
        // Same demands: still nothing.
        assert!(!t.sync_demands(|s| if s == 7 { 800 } else { 5000 }));
        assert!(!t.divide(2000, |_, _| panic!("divided again")));
        // One demand changes: one division.
        assert!(t.sync_demands(|s| if s == 7 { 0 } else { 5000 }));
        seen.clear();
        assert!(t.divide(2000, |s, g| seen.push((s, g))));
        assert_eq!(seen, vec![(7, 0), (9, 2000)]);
        t.invalidate();
        assert!(!t.is_valid());
    }
}
