//! `GaussianNoise`: adds `N(0, σ²)` to activations in training only.

use super::check;
use crate::Result;
use crate::module::{Ctx, Module};
use crate::random::standard_normal;
use descent_autodiff::Var;
use descent_core::Scalar;

/// Adds independent `N(0, std²)` noise to every activation in training and
/// is the identity in evaluation: noise injection as a regularizer
/// (Li et al. 2019). The noise is a constant on the tape, so gradients pass
/// through unchanged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GaussianNoise {
    std: f64,
}

impl GaussianNoise {
    /// Noise of standard deviation `std ≥ 0` (finite).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_nn::GaussianNoise;
    ///
    /// assert_eq!(GaussianNoise::new(0.1).unwrap().std(), 0.1);
    /// assert!(GaussianNoise::new(-1.0).is_err());
    /// ```
    pub fn new(std: f64) -> Result<Self> {
        check(
            std.is_finite() && std >= 0.0,
            "GaussianNoise",
            "std",
            std,
            "must be finite and non-negative",
        )?;
        Ok(GaussianNoise { std })
    }

    /// The standard deviation σ.
    pub fn std(&self) -> f64 {
        self.std
    }
}

impl<S: Scalar> Module<S> for GaussianNoise {
    fn forward<'t>(&self, ctx: &mut Ctx<'_, 't, S>, x: Var<'t, S>) -> Var<'t, S> {
        if !ctx.mode.is_train() || self.std == 0.0 {
            return x;
        }
        let (r, c) = x.shape();
        let (std, rng) = (self.std, &mut *ctx.rng);
        let noise = ctx.tape.constant_with(r, c, |noise| {
            for v in noise.iter_mut() {
                *v = S::cast(std * standard_normal(rng));
            }
        });
        x + noise
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Mode;
    use crate::testing::forward_once;
    use nalgebra::DMatrix;
    use proptest::prelude::*;

    fn run(std: f64, mode: Mode, x: &DMatrix<f64>, seed: u64) -> DMatrix<f64> {
        forward_once(&GaussianNoise::new(std).unwrap(), mode, x, seed)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn gaussian_noise_is_the_identity_in_eval(std in 0.0f64..5.0, x in descent_testkit::strategies::matrix(1..=5, 1..=5, -3.0, 3.0)) {
            prop_assert_eq!(run(std, Mode::Eval, &x, 1), x);
        }

        #[test]
        fn gaussian_noise_has_mean_zero_and_variance_sigma_squared(std in 0.1f64..3.0, seed: u64) {
            let n = 20_000.0;
            let x = DMatrix::from_element(100, 200, 1.0);
            let d = run(std, Mode::Train, &x, seed) - &x;
            let mean = d.sum() / n;
            let var = d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            prop_assert!(mean.abs() < 5.0 * std / n.sqrt(), "mean {mean}");
            prop_assert!((var / (std * std) - 1.0).abs() < 5.0 * (2.0 / n).sqrt(), "var {var}");
        }
    }
}
