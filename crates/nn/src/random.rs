//! Drawing numbers from an explicit RNG: every random value in this crate
//! (initial weights, dropout masks, noise) comes through here.

use rand_core::Rng;

/// Uniform in `[0, 1)` with 53 random bits.
pub fn uniform01(rng: &mut dyn Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform in `[low, high)`.
pub fn uniform(rng: &mut dyn Rng, low: f64, high: f64) -> f64 {
    low + (high - low) * uniform01(rng)
}

/// A standard normal draw (Box–Muller, one of the pair).
pub fn standard_normal(rng: &mut dyn Rng) -> f64 {
    let u1 = 1.0 - uniform01(rng); // in (0, 1], so ln is finite
    let u2 = uniform01(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    #[test]
    fn standard_normal_has_mean_zero_and_unit_variance() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| standard_normal(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        // 5 standard errors: se(mean) = 1/√n, se(var) ≈ √(2/n)
        assert!(mean.abs() < 5.0 / (n as f64).sqrt(), "mean {mean}");
        assert!(
            (var - 1.0).abs() < 5.0 * (2.0 / n as f64).sqrt(),
            "var {var}"
        );
    }

    #[test]
    fn uniform01_stays_in_the_half_open_interval() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert!(
            (0..10_000)
                .map(|_| uniform01(&mut rng))
                .all(|u| (0.0..1.0).contains(&u))
        );
    }
}
