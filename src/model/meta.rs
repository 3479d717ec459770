//! Object metadata (`metav1.ObjectMeta`) and owner references.

use std::collections::BTreeMap;

use super::labels::Labels;
use crate::engine::SimTime;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerReference {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub uid: String,
    pub controller: bool,
    pub block_owner_deletion: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectMeta {
    pub name: String,
    /// Empty for cluster-scoped objects (nodes, namespaces, priority classes).
    pub namespace: String,
    /// Deterministic: derived from a per-run counter, never random.
    pub uid: String,
    pub generate_name: Option<String>,
    pub labels: Labels,
    pub annotations: BTreeMap<String, String>,
    pub owner_references: Vec<OwnerReference>,
    pub creation_timestamp: SimTime,
    pub deletion_timestamp: Option<SimTime>,
}

impl ObjectMeta {
    /// `namespace/name`, or `name` for cluster-scoped objects.
    pub fn key(&self) -> String {
        if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace, self.name)
        }
    }

    /// The owner reference with `controller: true`, if any.
    pub fn controller_ref(&self) -> Option<&OwnerReference> {
        self.owner_references.iter().find(|o| o.controller)
    }
}

/// A deterministic UID in RFC 4122 layout, derived from a counter.
pub fn uid_from_counter(n: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (n >> 32) as u32,
        (n >> 16) as u16,
        0,
        0,
        n & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_unique_and_well_formed() {
        let a = uid_from_counter(1);
        let b = uid_from_counter(2);
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a, "00000000-0000-4000-8000-000000000001");
    }
}
