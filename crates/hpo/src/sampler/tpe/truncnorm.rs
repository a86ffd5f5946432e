//! The truncated normal law in the numerically careful form of Optuna's
//! `samplers/_tpe/_truncnorm.py` (itself from SciPy): log masses in the left
//! tail, the quantile function by Newton's method on `log Φ`.
//!
//! `erf`/`erfc` come from the `libm` crate (the same FreeBSD/musl routines
//! Optuna's `_erf.py` ports).

use std::f64::consts::{FRAC_1_SQRT_2, PI, SQRT_2};

/// `log(sqrt(2π))`.
const NORM_PDF_LOG_C: f64 = 0.918_938_533_204_672_8;

/// Φ(a), accurate in both tails (Optuna's `_ndtr_single`).
fn ndtr_tails(a: f64) -> f64 {
    let x = a / SQRT_2;
    if x < -FRAC_1_SQRT_2 {
        0.5 * libm::erfc(-x)
    } else if x < FRAC_1_SQRT_2 {
        0.5 + 0.5 * libm::erf(x)
    } else {
        1.0 - 0.5 * libm::erfc(x)
    }
}

/// Φ(a) through `erf` (Optuna's vectorised `_ndtr`, used for central masses).
fn ndtr(a: f64) -> f64 {
    0.5 + 0.5 * libm::erf(a / SQRT_2)
}

/// log Φ(a), with the asymptotic series below −20 (Optuna's `_log_ndtr_single`).
pub(crate) fn log_ndtr(a: f64) -> f64 {
    if a > 6.0 {
        return -ndtr_tails(-a);
    }
    if a > -20.0 {
        return ndtr_tails(a).ln();
    }
    let log_lhs = -0.5 * a * a - (-a).ln() - 0.5 * (2.0 * PI).ln();
    let mut last_total = 0.0f64;
    let mut rhs = 1.0f64;
    let mut numerator = 1.0;
    let mut denom_factor = 1.0;
    let denom_cons = 1.0 / (a * a);
    let mut sign = 1.0;
    let mut i = 0.0;
    while (last_total - rhs).abs() > f64::EPSILON {
        i += 1.0;
        last_total = rhs;
        sign = -sign;
        denom_factor *= denom_cons;
        numerator *= 2.0 * i - 1.0;
        rhs += sign * numerator * denom_factor;
    }
    log_lhs + rhs.ln()
}

/// `log(exp(p) − exp(q))` for `p ≥ q`.
fn log_diff(log_p: f64, log_q: f64) -> f64 {
    log_p + (-(log_q - log_p).exp()).ln_1p()
}

/// `log(exp(p) + exp(q))` (NumPy's `logaddexp`).
fn log_sum(p: f64, q: f64) -> f64 {
    if p == f64::NEG_INFINITY {
        return q;
    }
    if q == f64::NEG_INFINITY {
        return p;
    }
    let m = p.max(q);
    m + (-(p - q).abs()).exp().ln_1p()
}

/// log of the standard normal mass of `[a, b]` (Optuna's `_log_gauss_mass`):
/// worked in the left tail by symmetry, and as `log1p(−Φ(a) − Φ(−b))` across 0.
pub(crate) fn log_gauss_mass(a: f64, b: f64) -> f64 {
    if b <= 0.0 {
        log_diff(log_ndtr(b), log_ndtr(a))
    } else if a > 0.0 {
        log_diff(log_ndtr(-a), log_ndtr(-b))
    } else {
        (-ndtr(a) - ndtr(-b)).ln_1p()
    }
}

/// The standard normal log density.
pub(crate) fn norm_logpdf(x: f64) -> f64 {
    -(x * x) / 2.0 - NORM_PDF_LOG_C
}

/// The `x` with `log Φ(x) = y` (Optuna's `_ndtri_exp`): a tail or logistic
/// first guess, then Newton steps until the relative step is below 1e-8.
fn ndtri_exp(y: f64) -> f64 {
    let flipped = y > -1e-2;
    let z = if flipped { (-y.exp_m1()).ln() } else { y };
    let mut x = if z < -5.0 {
        -(-2.0 * (z + NORM_PDF_LOG_C)).sqrt()
    } else {
        -(3f64.sqrt() / PI) * (-z).exp_m1().ln()
    };
    for _ in 0..100 {
        let log_ndtr_x = log_ndtr(x);
        let log_norm_pdf_x = -0.5 * x * x - NORM_PDF_LOG_C;
        let dx = (log_ndtr_x - z) * (log_ndtr_x - log_norm_pdf_x).exp();
        x -= dx;
        if dx.abs() < 1e-8 * x.abs() {
            break;
        }
    }
    if flipped { -x } else { x }
}

/// The quantile `q ∈ [0, 1)` of the standard normal truncated to `[a, b]`
/// (Optuna's `ppf`); NaN when `a == b`.
pub(crate) fn ppf(q: f64, a: f64, b: f64) -> f64 {
    if a == b {
        return f64::NAN;
    }
    if q == 0.0 {
        return a;
    }
    if q == 1.0 {
        return b;
    }
    let log_mass = log_gauss_mass(a, b);
    if a < 0.0 {
        ndtri_exp(log_sum(log_ndtr(a), q.ln() + log_mass))
    } else {
        -ndtri_exp(log_sum(log_ndtr(-b), (-q).ln_1p() + log_mass))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn log_ndtr_matches_known_values_in_both_tails() {
        // Φ(0) = 1/2, Φ(−1.96) ≈ 0.0249979, log Φ(−30) ≈ −454.321244, log Φ(10) ≈ −7.6e−24.
        assert!((log_ndtr(0.0) - 0.5f64.ln()).abs() < 1e-15);
        assert!((log_ndtr(-1.96).exp() - 0.024_997_895_148_220_435).abs() < 1e-15);
        assert!((log_ndtr(-30.0) - (-454.321_243_956_343_27)).abs() < 1e-9);
        assert!((log_ndtr(10.0) + 7.619_853_024_160_47e-24).abs() < 1e-30);
    }

    #[test]
    fn gauss_mass_of_the_whole_line_is_one_and_of_symmetric_halves_is_a_half() {
        assert!(log_gauss_mass(-40.0, 40.0).abs() < 1e-15);
        assert!((log_gauss_mass(-40.0, 0.0) - 0.5f64.ln()).abs() < 1e-15);
        assert!((log_gauss_mass(0.0, 40.0) - 0.5f64.ln()).abs() < 1e-12);
        // Far in the right tail the mass is still resolved: Φ(−9) − Φ(−10) ≈ 1.1285e−19 (SciPy).
        let far = log_gauss_mass(9.0, 10.0).exp();
        assert!(
            (far / 1.128_512_207_423_590_7e-19 - 1.0).abs() < 1e-9,
            "{far}"
        );
    }

    proptest! {
        #[test]
        fn ppf_inverts_the_truncated_cdf(q in 0.001f64..0.999, a in -8.0f64..6.0, w in 0.01f64..10.0) {
            let b = a + w;
            let x = ppf(q, a, b);
            prop_assert!(x >= a - 1e-9 && x <= b + 1e-9, "{x} outside [{a}, {b}]");
            // CDF of the truncated law at x is mass(a, x) / mass(a, b).
            let cdf = (log_gauss_mass(a, x) - log_gauss_mass(a, b)).exp();
            prop_assert!((cdf - q).abs() < 1e-6, "cdf({x}) = {cdf}, q = {q}");
        }
    }
}
