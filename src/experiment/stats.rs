//! Summary statistics of a metric over the runs of a group: n, mean,
//! sample standard deviation, 95% confidence interval of the mean
//! (Student's t), median. Sums are exact integer arithmetic; one float
//! division and square root follow, so results do not depend on order.

/// Statistics of one metric in one group.
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    pub n: u64,
    pub mean: f64,
    pub sd: f64,
    pub ci95_lo: f64,
    pub ci95_hi: f64,
    pub median: f64,
}

/// Two-sided 95% quantiles t(0.975, df) of Student's t for df = 1..=30
/// (standard table values).
const T975: [f64; 30] = [
    12.706204736,
    4.302652730,
    3.182446305,
    2.776445105,
    2.570581836,
    2.446911851,
    2.364624252,
    2.306004135,
    2.262157163,
    2.228138852,
    2.200985160,
    2.178812830,
    2.160368656,
    2.144786688,
    2.131449546,
    2.119905299,
    2.109815578,
    2.100922040,
    2.093024054,
    2.085963447,
    2.079613845,
    2.073873068,
    2.068657610,
    2.063898562,
    2.059538553,
    2.055529439,
    2.051830516,
    2.048407142,
    2.045229642,
    2.042272456,
];

/// t(0.975, df): the table up to 30, then the Cornish–Fisher expansion
/// around z = 1.959963985 (error below 1e-5 for df > 30).
pub fn t975(df: u64) -> f64 {
    if df == 0 {
        return f64::NAN;
    }
    if df <= 30 {
        return T975[df as usize - 1];
    }
    let z: f64 = 1.959963984540054;
    let n = df as f64;
    let z3 = z * z * z;
    let z5 = z3 * z * z;
    let z7 = z5 * z * z;
    let z9 = z7 * z * z;
    z + (z3 + z) / (4.0 * n)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * n * n)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * n * n * n)
        + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z)
            / (92160.0 * n * n * n * n)
}

/// Statistics of integer values (any order).
pub fn of(values: &[i64]) -> Stats {
    let n = values.len() as u64;
    if n == 0 {
        return Stats {
            n: 0,
            mean: f64::NAN,
            sd: f64::NAN,
            ci95_lo: f64::NAN,
            ci95_hi: f64::NAN,
            median: f64::NAN,
        };
    }
    let sum: i128 = values.iter().map(|v| i128::from(*v)).sum();
    let sum_sq: i128 = values.iter().map(|v| i128::from(*v) * i128::from(*v)).sum();
    let nn = i128::from(n as i64);
    let mean = sum as f64 / n as f64;
    let (sd, half) = if n > 1 {
        // n Σx² − (Σx)² is exact and ≥ 0.
        let num = nn * sum_sq - sum * sum;
        let var = num as f64 / (nn * (nn - 1)) as f64;
        let sd = var.max(0.0).sqrt();
        (sd, t975(n - 1) * sd / (n as f64).sqrt())
    } else {
        (0.0, f64::NAN)
    };
    let mut v = values.to_vec();
    v.sort_unstable();
    let m = v.len();
    let median = if m % 2 == 1 {
        v[m / 2] as f64
    } else {
        ((i128::from(v[m / 2 - 1]) + i128::from(v[m / 2])) as f64) / 2.0
    };
    Stats {
        n,
        mean,
        sd,
        ci95_lo: mean - half,
        ci95_hi: mean + half,
        median,
    }
}

/// Formats a statistic for CSV: fixed 3 decimals, empty for undefined.
pub fn fmt(x: f64) -> String {
    if x.is_finite() {
        let s = format!("{x:.3}");
        if s == "-0.000" {
            "0.000".into()
        } else {
            s
        }
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let s = of(&[2, 4, 4, 4, 5, 5, 7, 9]);
        assert_eq!(s.mean, 5.0);
        // sample sd = sqrt(32/7)
        assert!((s.sd - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(s.median, 4.5);
        let half = 2.364624252 * s.sd / 8f64.sqrt();
        assert!((s.ci95_hi - 5.0 - half).abs() < 1e-9);
        let s = of(&[3]);
        assert_eq!((s.n, s.mean, s.sd, s.median), (1, 3.0, 0.0, 3.0));
        assert!(s.ci95_lo.is_nan());
        assert_eq!(fmt(s.ci95_lo), "");
    }

    #[test]
    fn order_does_not_matter() {
        let a = of(&[10, 1_000_000_000_007, -3, 42, 42]);
        let b = of(&[42, -3, 42, 1_000_000_000_007, 10]);
        assert_eq!(a, b);
    }

    #[test]
    fn t_quantiles_large_df() {
        // Reference values of t(0.975, df).
        assert!((t975(40) - 2.021075390).abs() < 1e-5);
        assert!((t975(60) - 2.000297822).abs() < 1e-5);
        assert!((t975(120) - 1.979930405).abs() < 1e-5);
        assert!((t975(31) - 2.039513446).abs() < 1e-5);
    }
}
