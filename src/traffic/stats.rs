//! Integer latency percentiles: nearest rank over sorted integer
//! latencies (the value at rank ⌈q/100 × n⌉), as the run summary's other
//! percentiles (`crate::output::summary::Percentiles`).

/// The nearest-rank `q`-th percentile (0 < q ≤ 100) of `sorted` (ascending);
/// 0 for an empty slice.
pub fn percentile(sorted: &[u64], q: u64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let n = sorted.len() as u64;
    let rank = (q.min(100) * n).div_ceil(100).max(1);
    sorted[(rank - 1) as usize]
}

/// p50, p90, p99 of `v` (sorted in place).
pub fn p50_90_99(v: &mut [u64]) -> (u64, u64, u64) {
    v.sort_unstable();
    (percentile(v, 50), percentile(v, 90), percentile(v, 99))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), 50);
        assert_eq!(percentile(&v, 99), 99);
        assert_eq!(percentile(&v, 100), 100);
        assert_eq!(percentile(&[7], 1), 7);
        assert_eq!(percentile(&[], 50), 0);
        // Wikipedia's nearest-rank example: 15 20 35 40 50.
        let w = [15, 20, 35, 40, 50];
        assert_eq!(
            (percentile(&w, 5), percentile(&w, 30), percentile(&w, 40)),
            (15, 20, 20)
        );
        assert_eq!((percentile(&w, 50), percentile(&w, 100)), (35, 50));
    }
}
