//! Resource amounts as integers: CPU in millicores, memory and storage in
//! bytes, pods and extended resources (e.g. `nvidia.com/gpu`) as counts.

use std::collections::BTreeMap;
use std::fmt;

pub const CPU: &str = "cpu";
pub const MEMORY: &str = "memory";
pub const EPHEMERAL_STORAGE: &str = "ephemeral-storage";
pub const PODS: &str = "pods";

/// A resource list (`requests`, `limits`, `capacity`, `allocatable`).
///
/// A zero entry means "not set"; Kubernetes treats an absent request as zero
/// in every computation kubesim models, except where the code says otherwise
/// (QoS uses `set_*` flags, see [`crate::model::pod::Container`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Resources {
    /// Millicores.
    pub cpu_m: i64,
    /// Bytes.
    pub memory: i64,
    /// Bytes.
    pub ephemeral_storage: i64,
    /// Pod count (only meaningful in capacity/allocatable).
    pub pods: i64,
    /// Extended and other scalar resources by name, in whole units.
    pub scalar: BTreeMap<String, i64>,
}

impl Resources {
    pub fn new(cpu_m: i64, memory: i64) -> Resources {
        Resources {
            cpu_m,
            memory,
            ..Default::default()
        }
    }

    pub fn is_zero(&self) -> bool {
        self.cpu_m == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.pods == 0
            && self.scalar.values().all(|v| *v == 0)
    }

    /// The amount of a resource by its Kubernetes name (CPU in millicores).
    pub fn get(&self, name: &str) -> i64 {
        match name {
            CPU => self.cpu_m,
            MEMORY => self.memory,
            EPHEMERAL_STORAGE => self.ephemeral_storage,
            PODS => self.pods,
            other => self.scalar.get(other).copied().unwrap_or(0),
        }
    }

    /// Sets a resource by its Kubernetes name (CPU in millicores).
    pub fn set(&mut self, name: &str, v: i64) {
        match name {
            CPU => self.cpu_m = v,
            MEMORY => self.memory = v,
            EPHEMERAL_STORAGE => self.ephemeral_storage = v,
            PODS => self.pods = v,
            other => {
                self.scalar.insert(other.to_string(), v);
            }
        }
    }

    /// Element-wise saturating sum.
    pub fn add(&mut self, o: &Resources) {
        self.cpu_m = self.cpu_m.saturating_add(o.cpu_m);
        self.memory = self.memory.saturating_add(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.saturating_add(o.ephemeral_storage);
        self.pods = self.pods.saturating_add(o.pods);
        for (k, v) in &o.scalar {
            let e = self.scalar.entry(k.clone()).or_insert(0);
            *e = e.saturating_add(*v);
        }
    }

    /// Element-wise saturating difference (entries may become negative).
    pub fn sub(&mut self, o: &Resources) {
        self.cpu_m = self.cpu_m.saturating_sub(o.cpu_m);
        self.memory = self.memory.saturating_sub(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.saturating_sub(o.ephemeral_storage);
        self.pods = self.pods.saturating_sub(o.pods);
        for (k, v) in &o.scalar {
            let e = self.scalar.entry(k.clone()).or_insert(0);
            *e = e.saturating_sub(*v);
        }
        self.scalar.retain(|_, v| *v != 0);
    }

    /// Element-wise maximum.
    pub fn max_with(&mut self, o: &Resources) {
        self.cpu_m = self.cpu_m.max(o.cpu_m);
        self.memory = self.memory.max(o.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(o.ephemeral_storage);
        self.pods = self.pods.max(o.pods);
        for (k, v) in &o.scalar {
            let e = self.scalar.entry(k.clone()).or_insert(0);
            *e = (*e).max(*v);
        }
    }

    /// Names of the resources with a non-zero amount, in a fixed order.
    pub fn names(&self) -> Vec<&str> {
        let mut v = Vec::new();
        if self.cpu_m != 0 {
            v.push(CPU);
        }
        if self.memory != 0 {
            v.push(MEMORY);
        }
        if self.ephemeral_storage != 0 {
            v.push(EPHEMERAL_STORAGE);
        }
        if self.pods != 0 {
            v.push(PODS);
        }
        v.extend(
            self.scalar
                .iter()
                .filter(|(_, v)| **v != 0)
                .map(|(k, _)| k.as_str()),
        );
        v
    }
}

/// `cpu=500m,memory=128Mi,nvidia.com/gpu=1` (zero entries omitted).
impl fmt::Display for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut sep = |f: &mut fmt::Formatter<'_>| {
            let r = if first { Ok(()) } else { write!(f, ",") };
            first = false;
            r
        };
        if self.cpu_m != 0 {
            sep(f)?;
            write!(f, "cpu={}m", self.cpu_m)?;
        }
        if self.memory != 0 {
            sep(f)?;
            write!(f, "memory={}", fmt_bytes(self.memory))?;
        }
        if self.ephemeral_storage != 0 {
            sep(f)?;
            write!(f, "ephemeral-storage={}", fmt_bytes(self.ephemeral_storage))?;
        }
        if self.pods != 0 {
            sep(f)?;
            write!(f, "pods={}", self.pods)?;
        }
        for (k, v) in &self.scalar {
            if *v != 0 {
                sep(f)?;
                write!(f, "{k}={v}")?;
            }
        }
        Ok(())
    }
}

/// Bytes in the largest binary unit that divides them exactly (`128Mi`).
pub fn fmt_bytes(b: i64) -> String {
    const UNITS: [(&str, i64); 5] = [
        ("Pi", 1 << 50),
        ("Ti", 1 << 40),
        ("Gi", 1 << 30),
        ("Mi", 1 << 20),
        ("Ki", 1 << 10),
    ];
    for (u, s) in UNITS {
        if b != 0 && b % s == 0 {
            return format!("{}{u}", b / s);
        }
    }
    b.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_display() {
        let mut a = Resources::new(500, 128 << 20);
        a.set("nvidia.com/gpu", 1);
        let mut b = a.clone();
        b.add(&a);
        assert_eq!(b.to_string(), "cpu=1000m,memory=256Mi,nvidia.com/gpu=2");
        b.sub(&a);
        assert_eq!(b, a);
        b.sub(&a);
        assert!(b.is_zero());
        assert_eq!(b.scalar.len(), 0, "zero scalar entries are dropped");
        assert_eq!(fmt_bytes(1536), "1536");
        assert_eq!(fmt_bytes(3 << 30), "3Gi");
    }
}
