//! The Wilcoxon signed-rank test as `scipy.stats.wilcoxon(d, zero_method="zsplit")`
//! computes it (SciPy 1.17, `method="auto"`, no continuity correction).

use crate::{Error, Result};

/// The alternative hypothesis of a one-sample location test on differences `d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alternative {
    /// The differences are centred below zero.
    Less,
    /// The differences are centred above zero.
    Greater,
    /// The differences are not centred at zero.
    TwoSided,
}

/// The p-value of the Wilcoxon signed-rank test of `d` (paired differences)
/// against zero, exactly as `scipy.stats.wilcoxon(d, alternative=…,
/// zero_method="zsplit")` gives it with SciPy 1.17's `method="auto"`:
///
/// - zeros are ranked with the others and half of their rank sum goes to
///   each side (`"zsplit"`); tied magnitudes get their average rank;
/// - `n ≤ 50` with no tie and no zero: the exact null distribution of the
///   rank sum;
/// - `n ≤ 13` with ties or zeros: the exact permutation test over all `2ⁿ`
///   sign flips (what SciPy's `PermutationMethod` computes deterministically
///   at that size);
/// - otherwise the normal approximation with the tie correction of the
///   variance and no continuity correction.
///
/// All-zero differences are no evidence either way: a p-value of 1 for
/// `n ≤ 13` (every sign flip ties) and 0.5 above (`z = 0`), as in SciPy.
///
/// # Errors
///
/// [`Error::Arg`] if `d` is empty or holds a non-finite value.
///
/// # Examples
///
/// ```
/// use descent_hpo::{Alternative, wilcoxon_signed_rank};
///
/// // Five positive differences: the exact one-sided p-value is 1 / 2⁵.
/// let p = wilcoxon_signed_rank(&[0.5, 1.0, 1.5, 2.0, 2.5], Alternative::Greater)?;
/// assert_eq!(p, 1.0 / 32.0);
/// # Ok::<(), descent_hpo::Error>(())
/// ```
pub fn wilcoxon_signed_rank(d: &[f64], alternative: Alternative) -> Result<f64> {
    if d.is_empty() {
        return Err(Error::config("d", "[]", "needs at least one difference"));
    }
    if let Some(bad) = d.iter().find(|v| !v.is_finite()) {
        return Err(Error::config("d", bad, "differences must be finite"));
    }
    let ranked = Ranked::new(d);
    let n = d.len();
    if n <= 50 && !ranked.has_ties && ranked.n_zero == 0 {
        Ok(exact(n, ranked.r_plus4 / 4, alternative))
    } else if n <= 13 {
        Ok(permutation(&ranked, alternative))
    } else {
        Ok(asymptotic(&ranked, alternative))
    }
}

/// Ranks scaled by 4 so that averaged ranks and half zero ranks are integers.
struct Ranked {
    /// `4 ×` the average rank of each `|d|`, in input order.
    rank4: Vec<u64>,
    /// Whether each difference is exactly zero.
    zero: Vec<bool>,
    /// `4 ×` the statistic `r_plus` (positive ranks plus half the zero ranks).
    r_plus4: u64,
    /// The sizes of the groups of tied magnitudes.
    tie_counts: Vec<u64>,
    has_ties: bool,
    n_zero: usize,
}

impl Ranked {
    fn new(d: &[f64]) -> Self {
        let n = d.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| d[a].abs().total_cmp(&d[b].abs()));
        let mut rank4 = vec![0; n];
        let mut tie_counts = Vec::new();
        let mut i = 0;
        while i < n {
            let mut j = i;
            while j + 1 < n && d[order[j + 1]].abs() == d[order[i]].abs() {
                j += 1;
            }
            // Ranks i+1 ..= j+1 averaged: (i + j + 2) / 2, times 4.
            for &k in &order[i..=j] {
                rank4[k] = 2 * (i + j + 2) as u64;
            }
            tie_counts.push((j - i + 1) as u64);
            i = j + 1;
        }
        let zero: Vec<bool> = d.iter().map(|&v| v == 0.0).collect();
        let positive: Vec<bool> = d.iter().map(|&v| v > 0.0).collect();
        let r_plus4 = (0..n)
            .map(|k| match (positive[k], zero[k]) {
                (true, _) => rank4[k],
                (false, true) => rank4[k] / 2,
                (false, false) => 0,
            })
            .sum();
        let has_ties = tie_counts.iter().any(|&c| c > 1);
        let n_zero = zero.iter().filter(|&&z| z).count();
        Ranked {
            rank4,
            zero,
            r_plus4,
            tie_counts,
            has_ties,
            n_zero,
        }
    }
}

/// SciPy's `WilcoxonDistribution`: counts of each rank sum `0..=n(n+1)/2`
/// over the `2ⁿ` sign patterns, with `cdf`/`sf` taken from the nearer tail.
fn exact(n: usize, r_plus: u64, alternative: Alternative) -> f64 {
    let max = n * (n + 1) / 2;
    let mut counts = vec![0u64; max + 1];
    counts[0] = 1;
    for k in 1..=n {
        for s in (k..=k * (k + 1) / 2).rev() {
            counts[s] += counts[s - k];
        }
    }
    let total = (1u64 << n) as f64;
    let pmf_sum =
        |range: std::ops::Range<usize>| -> f64 { counts[range].iter().sum::<u64>() as f64 / total };
    let mean = (n * (n + 1)) as f64 / 4.0;
    let k = r_plus as usize;
    // cdf(k) = P(T <= k); sf(k) = P(T >= k).
    let cdf = |k: usize| {
        if k as f64 <= mean {
            pmf_sum(0..k + 1)
        } else {
            1.0 - pmf_sum(k + 1..max + 1)
        }
    };
    let sf = |k: usize| {
        if k as f64 <= mean {
            pmf_sum(k..max + 1)
        } else {
            1.0 - pmf_sum(0..k)
        }
    };
    match alternative {
        Alternative::Less => cdf(k),
        Alternative::Greater => sf(k),
        Alternative::TwoSided => (2.0 * sf(k).min(cdf(k))).clamp(0.0, 1.0),
    }
}

/// SciPy's exact `permutation_test` over every sign flip of `d` (zeros stay zero).
fn permutation(r: &Ranked, alternative: Alternative) -> f64 {
    let n = r.rank4.len();
    let zero_part: u64 = (0..n).filter(|&k| r.zero[k]).map(|k| r.rank4[k] / 2).sum();
    let nonzero: Vec<u64> = (0..n).filter(|&k| !r.zero[k]).map(|k| r.rank4[k]).collect();
    let (mut less_eq, mut greater_eq) = (0u64, 0u64);
    for mask in 0u32..(1 << nonzero.len()) {
        let stat = zero_part
            + (0..nonzero.len())
                .filter(|&b| mask >> b & 1 == 1)
                .map(|b| nonzero[b])
                .sum::<u64>();
        less_eq += u64::from(stat <= r.r_plus4);
        greater_eq += u64::from(stat >= r.r_plus4);
    }
    let total = (1u64 << nonzero.len()) as f64;
    let (less, greater) = (less_eq as f64 / total, greater_eq as f64 / total);
    let p = match alternative {
        Alternative::Less => less,
        Alternative::Greater => greater,
        Alternative::TwoSided => 2.0 * less.min(greater),
    };
    p.clamp(0.0, 1.0)
}

/// The normal approximation with SciPy's tie correction, no continuity correction.
fn asymptotic(r: &Ranked, alternative: Alternative) -> f64 {
    let n = r.rank4.len() as f64;
    let mn = n * (n + 1.0) * 0.25;
    let ties: f64 = r
        .tie_counts
        .iter()
        .map(|&t| (t as f64).powi(3) - t as f64)
        .sum();
    let se = ((n * (n + 1.0) * (2.0 * n + 1.0) - ties / 2.0) / 24.0).sqrt();
    let z = (r.r_plus4 as f64 / 4.0 - mn) / se;
    match alternative {
        Alternative::Less => ndtr(z),
        Alternative::Greater => ndtr(-z),
        Alternative::TwoSided => 2.0 * ndtr(-z.abs()),
    }
}

/// The standard normal CDF, `erfc(-x/√2)/2` (accurate in the far tails).
fn ndtr(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Mirroring the differences swaps the one-sided alternatives; every
        /// p-value is a probability; the two-sided one is twice the smaller tail (capped).
        #[test]
        fn mirrored_samples_swap_the_tails(d in proptest::collection::vec(
            prop_oneof![(-4i32..=4).prop_map(|k| k as f64 * 0.5), -3.0f64..3.0], 1..60)
        ) {
            let neg: Vec<f64> = d.iter().map(|v| -v).collect();
            let less = wilcoxon_signed_rank(&d, Alternative::Less).unwrap();
            let greater = wilcoxon_signed_rank(&d, Alternative::Greater).unwrap();
            let two = wilcoxon_signed_rank(&d, Alternative::TwoSided).unwrap();
            prop_assert!((0.0..=1.0).contains(&less) && (0.0..=1.0).contains(&greater));
            prop_assert!((less - wilcoxon_signed_rank(&neg, Alternative::Greater).unwrap()).abs() < 1e-12);
            prop_assert!((greater - wilcoxon_signed_rank(&neg, Alternative::Less).unwrap()).abs() < 1e-12);
            prop_assert!((two - (2.0 * less.min(greater)).min(1.0)).abs() < 1e-12);
        }
    }

    #[test]
    fn the_exact_distribution_counts_every_sign_pattern() {
        // n = 3: rank sums 0,1,2,3,3,4,5,6 over 8 patterns.
        assert_eq!(exact(3, 3, Alternative::Greater), 5.0 / 8.0);
        assert_eq!(exact(3, 3, Alternative::Less), 5.0 / 8.0);
        assert_eq!(exact(3, 6, Alternative::Greater), 1.0 / 8.0);
        assert_eq!(exact(3, 0, Alternative::TwoSided), 2.0 / 8.0);
    }

    #[test]
    fn zeros_split_their_rank_and_all_zeros_is_no_evidence() {
        assert_eq!(
            wilcoxon_signed_rank(&[0.0; 5], Alternative::Greater).unwrap(),
            1.0
        );
        assert_eq!(
            wilcoxon_signed_rank(&[0.0; 20], Alternative::Greater).unwrap(),
            0.5
        );
        assert!(wilcoxon_signed_rank(&[], Alternative::Less).is_err());
        assert!(wilcoxon_signed_rank(&[1.0, f64::NAN], Alternative::Less).is_err());
    }
}
