//! CPU contention on one node: the kernel's hierarchical proportional share
//! as a water-filling over the cgroup tree, in integer millicores.
//!
//! Each cgroup has a weight (cgroup v1 `cpu.shares` or v2 `cpu.weight`) and
//! an optional cap (its CFS quota as millicores); a leaf (container) also
//! has a demand. A cgroup's effective demand is the smaller of its cap and
//! the sum of its children's effective demands. The CPU given to a cgroup
//! is divided among its children in proportion to their weights; a child
//! that needs less than its proportional share gets exactly what it needs
//! and the rest is divided again among the others (water-filling), so the
//! division is work-conserving. Integer rounding: each child gets the floor
//! of its exact share, and the leftover millicores go one each to the
//! children with the largest remainders, ties to the lower index — never
//! above a child's effective demand.
//!
//! This is the fluid limit of CFS (no per-period jitter, no per-CPU
//! placement): a container can use as many cores as it demands.

/// One cgroup in the tree. The tree is given as a flat list in which a
/// parent comes before its children; index 0 is the root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuGroup {
    /// Parent index (ignored for the root).
    pub parent: usize,
    /// Relative weight (shares or cpu.weight), at least 1.
    pub weight: u64,
    /// Quota cap in millicores, if any.
    pub cap_m: Option<i64>,
    /// Demand in millicores (leaves only; ignored for inner groups).
    pub demand_m: i64,
}

/// Divides `capacity_m` over the tree; returns the grant of every group
/// (inner groups get the sum of their children).
///
/// Allocates its working buffers on each call; a caller dividing the same
/// node over and over keeps a [`Division`] instead (same results).
pub fn allocate(groups: &[CpuGroup], capacity_m: i64) -> Vec<i64> {
    Division::default().divide(groups, capacity_m).to_vec()
}

/// Water-filling of `amount` over children with `weights` and `demands`.
pub fn water_fill(amount: i64, weights: &[u64], demands: &[i64]) -> Vec<i64> {
    let mut f = WaterFill::default();
    f.weights.extend_from_slice(weights);
    f.demands.extend_from_slice(demands);
    f.fill(amount);
    f.out
}

/// [`allocate`] with buffers kept between calls: once they have grown to
/// the tree's size, a division allocates nothing. The children lists are
/// kept in compressed form (one offset per group into one index array,
/// children in index order), as [`allocate`] builds them.
///
/// [`Division::redivide`] divides a tree whose structure (parents,
/// weights, caps) is that of the last [`Division::divide`] and whose leaf
/// demands may have changed: it recomputes the effective demands, then
/// water-fills again only the groups whose grant or whose children's
/// effective demands changed (a water-filling is a function of exactly
/// those and the children's weights), so the grants are those of a full
/// division; a demand change under a quota that binds, or in a subtree
/// the node is not short of, stays local.
#[derive(Clone, Debug, Default)]
pub struct Division {
    /// `children[start[i]..start[i + 1]]` are group `i`'s children.
    start: Vec<usize>,
    children: Vec<usize>,
    /// Effective demands.
    eff: Vec<i64>,
    grant: Vec<i64>,
    /// Per group: a child's effective demand changed (bit 0), its own
    /// grant changed (bit 1), during a [`Division::redivide`].
    stale: Vec<u8>,
    fill: WaterFill,
}

const CHILD_DEMAND: u8 = 1;
const GRANT: u8 = 2;

impl Division {
    /// Divides `capacity_m` over `groups` (see [`allocate`]); the grants
    /// are valid until the next call.
    pub fn divide(&mut self, groups: &[CpuGroup], capacity_m: i64) -> &[i64] {
        let n = groups.len();
        self.grant.clear();
        self.grant.resize(n, 0);
        if n == 0 {
            return &self.grant;
        }
        self.index_children(groups);
        // Effective demands bottom-up.
        self.eff.clear();
        self.eff.resize(n, 0);
        for i in (0..n).rev() {
            self.eff[i] = self.effective_demand(groups, i);
        }
        self.grant[0] = self.eff[0].min(capacity_m.max(0));
        for i in 0..n {
            if self.fill_children(groups, i) {
                let (start, children) = (&self.start, &self.children);
                for (k, &c) in children[start[i]..start[i + 1]].iter().enumerate() {
                    self.grant[c] = self.fill.out[k];
                }
            }
        }
        &self.grant
    }

    /// Group `i`'s effective demand: a leaf's own demand, an inner group's
    /// children's effective demands summed; capped by its quota.
    #[inline(always)]
    fn effective_demand(&self, groups: &[CpuGroup], i: usize) -> i64 {
        let kids = &self.children[self.start[i]..self.start[i + 1]];
        let d = if kids.is_empty() && i != 0 {
            groups[i].demand_m.max(0)
        } else {
            kids.iter()
                .map(|&c| self.eff[c])
                .fold(0i64, i64::saturating_add)
        };
        match groups[i].cap_m {
            Some(c) => d.min(c.max(0)),
            None => d,
        }
    }

    /// Water-fills group `i`'s grant over its children into `fill.out`
    /// (in children order); false if it has none.
    #[inline(always)]
    fn fill_children(&mut self, groups: &[CpuGroup], i: usize) -> bool {
        let kids = &self.children[self.start[i]..self.start[i + 1]];
        if kids.is_empty() {
            return false;
        }
        let f = &mut self.fill;
        f.weights.clear();
        f.demands.clear();
        for &c in kids {
            f.weights.push(groups[c].weight.max(1));
            f.demands.push(self.eff[c]);
        }
        f.fill(self.grant[i]);
        true
    }

    /// [`Division::divide`] again for a tree with the structure of the last
    /// `divide` (same groups, parents, weights and caps; only leaf demands
    /// differ), redoing only the water-fillings whose inputs changed. Same
    /// grants as `divide`; falls back to it if the tree's size changed.
    pub fn redivide(&mut self, groups: &[CpuGroup], capacity_m: i64) -> &[i64] {
        let n = groups.len();
        if n == 0 || self.grant.len() != n || self.start.len() != n + 1 {
            return self.divide(groups, capacity_m);
        }
        self.stale.clear();
        self.stale.resize(n, 0);
        for i in (0..n).rev() {
            let e = self.effective_demand(groups, i);
            if e != self.eff[i] {
                self.eff[i] = e;
                let p = groups[i].parent;
                if i != 0 && p < i {
                    self.stale[p] |= CHILD_DEMAND;
                }
            }
        }
        let root = self.eff[0].min(capacity_m.max(0));
        if root != self.grant[0] {
            self.grant[0] = root;
            self.stale[0] |= GRANT;
        }
        for i in 0..n {
            if self.stale[i] == 0 || !self.fill_children(groups, i) {
                continue;
            }
            let (start, children) = (&self.start, &self.children);
            for (k, &c) in children[start[i]..start[i + 1]].iter().enumerate() {
                if self.grant[c] != self.fill.out[k] {
                    self.grant[c] = self.fill.out[k];
                    self.stale[c] |= GRANT;
                }
            }
        }
        &self.grant
    }

    /// Children lists in index order (a parent index not below the
    /// child's is ignored, as in [`allocate`]).
    fn index_children(&mut self, groups: &[CpuGroup]) {
        let n = groups.len();
        self.start.clear();
        self.start.resize(n + 1, 0);
        for (i, g) in groups.iter().enumerate().skip(1) {
            if g.parent < i {
                self.start[g.parent + 1] += 1;
            }
        }
        for i in 0..n {
            self.start[i + 1] += self.start[i];
        }
        self.children.clear();
        self.children.resize(self.start[n], 0);
        // `eff` serves as the fill cursor here; it is rebuilt after.
        self.eff.clear();
        self.eff.extend(self.start[..n].iter().map(|&s| s as i64));
        for (i, g) in groups.iter().enumerate().skip(1) {
            if g.parent < i {
                let at = &mut self.eff[g.parent];
                self.children[*at as usize] = i;
                *at += 1;
            }
        }
    }
}

/// [`water_fill`]'s buffers: the children's weights and demands in, the
/// shares out.
#[derive(Clone, Debug, Default)]
struct WaterFill {
    weights: Vec<u64>,
    demands: Vec<i64>,
    out: Vec<i64>,
    active: Vec<usize>,
    rema: Vec<(u128, usize)>,
}

impl WaterFill {
    fn fill(&mut self, amount: i64) {
        let (weights, demands) = (&self.weights, &self.demands);
        let n = weights.len();
        self.out.clear();
        self.out.resize(n, 0);
        let out = &mut self.out;
        let active = &mut self.active;
        active.clear();
        active.extend((0..n).filter(|&i| demands[i] > 0));
        let mut left = amount.max(0);
        loop {
            if active.is_empty() || left == 0 {
                return;
            }
            let w_total: u128 = active.iter().map(|&i| u128::from(weights[i])).sum();
            // Satisfy every child whose demand fits in its exact share
            // (of what was left before this round).
            let before = left;
            let mut kept = 0;
            for k in 0..active.len() {
                let i = active[k];
                if (demands[i] as u128) * w_total <= (before as u128) * u128::from(weights[i]) {
                    out[i] = demands[i];
                    left -= demands[i];
                } else {
                    active[kept] = i;
                    kept += 1;
                }
            }
            if kept < active.len() {
                active.truncate(kept);
                continue;
            }
            // Everyone left is saturated: floor shares plus largest remainders.
            let mut given = 0i64;
            let rema = &mut self.rema;
            rema.clear();
            for &i in active.iter() {
                let num = (left as u128) * u128::from(weights[i]);
                let q = (num / w_total) as i64;
                out[i] = q;
                given += q;
                rema.push((num % w_total, i));
            }
            // Keys are distinct (the index breaks ties): an unstable sort
            // gives the same order as a stable one, without allocating.
            rema.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut extra = left - given;
            for &(_, i) in rema.iter() {
                if extra == 0 {
                    break;
                }
                if out[i] < demands[i] {
                    out[i] += 1;
                    extra -= 1;
                }
            }
            return;
        }
    }
}

/// CFS bandwidth accounting over an interval with a constant demand and
/// grant: what `cpu.stat` reports (`nr_periods`, `nr_throttled`,
/// `throttled_usec`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Throttling {
    pub nr_periods: u64,
    pub nr_throttled: u64,
    pub throttled_us: u64,
}

impl Throttling {
    /// Accounts the interval `[from_us, to_us)` (µs since the container
    /// started, so periods align to its start) for a cgroup with
    /// `quota_limit_m` (None: no quota, nothing is counted), demand and the
    /// grant it got. A period counts when the cgroup had demand; it is
    /// throttled when the quota bound (the grant equals the limit and the
    /// demand is higher). Throttled time: each of the runnable threads waits
    /// out the rest of the period after the quota runs out, which sums to
    /// `(demand − limit) × period / 1000` µs per period.
    pub fn account(
        &mut self,
        from_us: u64,
        to_us: u64,
        period_us: u64,
        quota_limit_m: Option<i64>,
        demand_m: i64,
        granted_m: i64,
    ) {
        let Some(limit) = quota_limit_m else { return };
        if to_us <= from_us || period_us == 0 || demand_m <= 0 {
            return;
        }
        let periods = to_us / period_us - from_us / period_us;
        self.nr_periods += periods;
        if demand_m > limit && granted_m >= limit {
            self.nr_throttled += periods;
            let over = (demand_m - limit) as u128;
            self.throttled_us = self
                .throttled_us
                .saturating_add((over * u128::from(to_us - from_us) / 1000) as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaf(parent: usize, weight: u64, cap: Option<i64>, demand: i64) -> CpuGroup {
        CpuGroup {
            parent,
            weight,
            cap_m: cap,
            demand_m: demand,
        }
    }
    fn inner(parent: usize, weight: u64, cap: Option<i64>) -> CpuGroup {
        leaf(parent, weight, cap, 0)
    }

    #[test]
    fn flat_proportional_and_work_conserving() {
        // Root with three containers: 1024:2048:1024 shares, all hungry.
        let g = vec![
            inner(0, 1, None),
            leaf(0, 1024, None, 4000),
            leaf(0, 2048, None, 4000),
            leaf(0, 1024, None, 4000),
        ];
        assert_eq!(allocate(&g, 4000), vec![4000, 1000, 2000, 1000]);
        // The middle one idles: the others share everything.
        let mut g2 = g.clone();
        g2[2].demand_m = 0;
        assert_eq!(allocate(&g2, 4000), vec![4000, 2000, 0, 2000]);
        // One needs little: it gets it, the rest is split.
        let mut g3 = g.clone();
        g3[1].demand_m = 100;
        assert_eq!(allocate(&g3, 4000), vec![4000, 100, 2600, 1300]);
    }

    #[test]
    fn quota_caps_and_hierarchy() {
        // kubepods → burstable(weight 2) → pod → c; kubepods → guaranteed pod
        // (weight 1024, cap 1000) → c (cap 1000).
        let g = vec![
            inner(0, 1, None),
            inner(0, 2, None),
            inner(1, 1024, None),
            leaf(2, 1024, None, 8000),
            inner(0, 1024, Some(1000)),
            leaf(4, 1024, Some(1000), 8000),
        ];
        let a = allocate(&g, 2000);
        assert_eq!(a[5], 1000, "guaranteed capped by its quota");
        assert_eq!(a[3], 1000, "the rest goes to the burstable container");
        assert_eq!(a[0], 2000);
    }

    #[test]
    fn rounding_is_deterministic() {
        let g = vec![
            inner(0, 1, None),
            leaf(0, 1, None, 1000),
            leaf(0, 1, None, 1000),
            leaf(0, 1, None, 1000),
        ];
        // 1000 / 3: 333 each and one extra to the lowest index.
        assert_eq!(allocate(&g, 1000), vec![1000, 334, 333, 333]);
    }

    #[test]
    fn throttling_accounting() {
        let mut t = Throttling::default();
        // 1 s at demand 500m, limit 250m: 10 periods, all throttled,
        // 0.25 core × 1 s = 250 ms throttled.
        t.account(0, 1_000_000, 100_000, Some(250), 500, 250);
        assert_eq!(
            t,
            Throttling {
                nr_periods: 10,
                nr_throttled: 10,
                throttled_us: 250_000
            }
        );
        // Under the limit: periods count, no throttling.
        t.account(1_000_000, 2_000_000, 100_000, Some(250), 100, 100);
        assert_eq!((t.nr_periods, t.nr_throttled), (20, 10));
        // No quota: nothing.
        let mut u = Throttling::default();
        u.account(0, 1_000_000, 100_000, None, 900, 900);
        assert_eq!(u, Throttling::default());
    }

    /// A random two-level tree: root → pods (weight, optional cap) →
    /// containers (weight, optional cap, demand).
    fn tree() -> impl Strategy<Value = Vec<CpuGroup>> {
        prop::collection::vec(
            (
                1u64..5000,
                prop::option::of(1i64..4000),
                prop::collection::vec((1u64..5000, prop::option::of(1i64..4000), 0i64..6000), 1..4),
            ),
            1..6,
        )
        .prop_map(|pods| {
            let mut g = vec![inner(0, 1, None)];
            for (w, cap, cs) in pods {
                let p = g.len();
                g.push(inner(0, w, cap));
                for (cw, ccap, d) in cs {
                    g.push(leaf(p, cw, ccap, d));
                }
            }
            g
        })
    }

    /// A random tree shaped like a node's: root → (guaranteed pods | two
    /// tiers → pods) → containers, with weights from a small set (ties in
    /// the remainders) and up to 30 children per group.
    fn node_tree() -> impl Strategy<Value = Vec<CpuGroup>> {
        let weight = prop::sample::select(vec![1u64, 2, 39, 100, 1024]);
        let cap = prop::option::of(prop::sample::select(vec![0i64, 1, 250, 500, 1000, 1500]));
        let ctr = (weight.clone(), cap.clone(), 0i64..3000);
        let pod = (0usize..3, weight, cap, prop::collection::vec(ctr, 1..4));
        (1u64..300, prop::collection::vec(pod, 0..30)).prop_map(|(tier_w, pods)| {
            let mut g = vec![inner(0, 1, None), inner(0, tier_w, None), inner(0, 2, None)];
            for (parent, w, cap, cs) in pods {
                let p = g.len();
                g.push(inner(parent, w, cap));
                for (cw, ccap, d) in cs {
                    g.push(leaf(p, cw, ccap, d));
                }
            }
            g
        })
    }

    fn is_leaf(g: &[CpuGroup], i: usize) -> bool {
        i != 0
            && !g
                .iter()
                .enumerate()
                .skip(1)
                .any(|(j, x)| j != i && x.parent == i)
    }

    // The division as it was before `Division` kept its buffers (one
    // allocation per list, stable sort): the reference the buffered one
    // must match exactly.
    fn reference_allocate(groups: &[CpuGroup], capacity_m: i64) -> Vec<i64> {
        let n = groups.len();
        let mut grant = vec![0i64; n];
        if n == 0 {
            return grant;
        }
        // Children lists (in index order) and effective demands bottom-up.
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, g) in groups.iter().enumerate().skip(1) {
            if g.parent < i {
                children[g.parent].push(i);
            }
        }
        let mut eff = vec![0i64; n];
        for i in (0..n).rev() {
            let d = if children[i].is_empty() && i != 0 {
                groups[i].demand_m.max(0)
            } else {
                children[i]
                    .iter()
                    .map(|&c| eff[c])
                    .fold(0i64, i64::saturating_add)
            };
            eff[i] = match groups[i].cap_m {
                Some(c) => d.min(c.max(0)),
                None => d,
            };
        }
        grant[0] = eff[0].min(capacity_m.max(0));
        for i in 0..n {
            if children[i].is_empty() {
                continue;
            }
            let kids = &children[i];
            let shares = reference_water_fill(
                grant[i],
                &kids
                    .iter()
                    .map(|&c| groups[c].weight.max(1))
                    .collect::<Vec<_>>(),
                &kids.iter().map(|&c| eff[c]).collect::<Vec<_>>(),
            );
            for (k, &c) in kids.iter().enumerate() {
                grant[c] = shares[k];
            }
        }
        grant
    }

    /// Water-filling of `amount` over children with `weights` and `demands`.
    fn reference_water_fill(amount: i64, weights: &[u64], demands: &[i64]) -> Vec<i64> {
        let n = weights.len();
        let mut out = vec![0i64; n];
        let mut active: Vec<usize> = (0..n).filter(|&i| demands[i] > 0).collect();
        let mut left = amount.max(0);
        loop {
            if active.is_empty() || left == 0 {
                return out;
            }
            let w_total: u128 = active.iter().map(|&i| u128::from(weights[i])).sum();
            // Satisfy every child whose demand fits in its exact share.
            let fits: Vec<usize> = active
                .iter()
                .copied()
                .filter(|&i| {
                    (demands[i] as u128) * w_total <= (left as u128) * u128::from(weights[i])
                })
                .collect();
            if !fits.is_empty() {
                for &i in &fits {
                    out[i] = demands[i];
                    left -= demands[i];
                }
                active.retain(|i| !fits.contains(i));
                continue;
            }
            // Everyone left is saturated: floor shares plus largest remainders.
            let mut given = 0i64;
            let mut rema: Vec<(u128, usize)> = Vec::with_capacity(active.len());
            for &i in &active {
                let num = (left as u128) * u128::from(weights[i]);
                let q = (num / w_total) as i64;
                out[i] = q;
                given += q;
                rema.push((num % w_total, i));
            }
            rema.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut extra = left - given;
            for (_, i) in rema {
                if extra == 0 {
                    break;
                }
                if out[i] < demands[i] {
                    out[i] += 1;
                    extra -= 1;
                }
            }
            return out;
        }
    }

    proptest! {
        #[test]
        fn never_over_capacity_quota_or_demand(g in tree(), cap in 0i64..20000) {
            let a = allocate(&g, cap);
            prop_assert!(a[0] <= cap);
            let leaves: i64 = (0..g.len()).filter(|&i| is_leaf(&g, i)).map(|i| a[i]).sum();
            prop_assert_eq!(leaves, a[0]);
            for i in 1..g.len() {
                prop_assert!(a[i] >= 0);
                if let Some(c) = g[i].cap_m { prop_assert!(a[i] <= c); }
                if is_leaf(&g, i) { prop_assert!(a[i] <= g[i].demand_m); }
                let kids: i64 = (1..g.len()).filter(|&j| g[j].parent == i && j != i).map(|j| a[j]).sum();
                if !is_leaf(&g, i) { prop_assert_eq!(kids, a[i]); }
            }
        }

        #[test]
        fn work_conserving(g in tree(), cap in 0i64..20000) {
            // Either the node is full or every leaf got all it could use
            // (its demand or a cap on its path).
            let a = allocate(&g, cap);
            if a[0] < cap {
                for i in 1..g.len() {
                    if !is_leaf(&g, i) { continue; }
                    let capped_here = g[i].cap_m.is_some_and(|c| a[i] == c);
                    let p = g[i].parent;
                    let capped_parent = g[p].cap_m.is_some_and(|c| a[p] == c);
                    prop_assert!(a[i] == g[i].demand_m || capped_here || capped_parent,
                        "leaf {} got {} of {}", i, a[i], g[i].demand_m);
                }
            }
        }

        #[test]
        fn proportional_when_saturated(ws in prop::collection::vec(1u64..3000, 1..8), cap in 1i64..20000) {
            // Every container wants the whole node: grants follow weights
            // within one millicore of the exact share.
            let mut g = vec![inner(0, 1, None)];
            for w in &ws { g.push(leaf(0, *w, None, cap)); }
            let a = allocate(&g, cap);
            let wt: u64 = ws.iter().sum();
            prop_assert_eq!(a[0], cap);
            for (k, w) in ws.iter().enumerate() {
                let exact = cap as f64 * *w as f64 / wt as f64;
                prop_assert!((a[k + 1] as f64 - exact).abs() <= 1.0, "{} vs {}", a[k + 1], exact);
            }
        }

        #[test]
        fn division_with_reused_buffers_matches_reference(
            trees in prop::collection::vec(
                (prop_oneof![tree(), node_tree()], 0i64..40000),
                1..6,
            ),
        ) {
            // One Division over several trees of different sizes, as a
            // node's runtime uses it.
            let mut d = Division::default();
            for (g, cap) in &trees {
                prop_assert_eq!(d.divide(g, *cap).to_vec(), reference_allocate(g, *cap));
                prop_assert_eq!(allocate(g, *cap), reference_allocate(g, *cap));
            }
        }

        #[test]
        fn redivide_after_demand_changes_matches_reference(
            g in prop_oneof![tree(), node_tree()],
            changes in prop::collection::vec(
                (any::<prop::sample::Index>(), 0i64..4000, 0i64..40000),
                1..30,
            ),
        ) {
            // Leaf demands change one or a few at a time (and the capacity
            // with them); every re-division equals a full one.
            let mut g = g;
            let mut d = Division::default();
            d.divide(&g, 10_000);
            let leaves: Vec<usize> = (1..g.len()).filter(|&i| is_leaf(&g, i)).collect();
            for (k, (at, demand, cap)) in changes.into_iter().enumerate() {
                if !leaves.is_empty() {
                    g[leaves[at.index(leaves.len())]].demand_m = demand;
                }
                // Every third step keeps the capacity, so that most
                // changes are demand-only.
                let cap = if k % 3 == 0 { cap } else { 10_000 };
                prop_assert_eq!(d.redivide(&g, cap).to_vec(), reference_allocate(&g, cap));
            }
        }

        #[test]
        fn water_fill_matches_reference(
            kids in prop::collection::vec(
                (prop_oneof![1u64..5000, prop::sample::select(vec![1u64, 2, 3])], 0i64..6000),
                0..40,
            ),
            amount in -10i64..60000,
        ) {
            let (w, d): (Vec<u64>, Vec<i64>) = kids.into_iter().unzip();
            prop_assert_eq!(water_fill(amount, &w, &d), reference_water_fill(amount, &w, &d));
        }
    }
}
