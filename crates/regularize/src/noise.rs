//! Annealed Gaussian gradient noise (Neelakantan et al., 2015).

use crate::Result;
use crate::error::{check, non_negative};
use descent_core::Selector;
use descent_core::{ParamStore, Scalar};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// The arguments of [`GradientNoise`]; `Default` is the paper's γ = 0.55
/// with the smallest of its η ∈ {0.01, 0.3, 1.0}.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GradientNoiseConfig {
    /// η: the variance at step 0.
    pub eta: f64,
    /// γ: the decay exponent of the variance.
    pub gamma: f64,
}

impl Default for GradientNoiseConfig {
    fn default() -> Self {
        GradientNoiseConfig {
            eta: 0.01,
            gamma: 0.55,
        }
    }
}

/// Adds `N(0, σ_t²)` noise to every selected gradient, with the annealed
/// variance σ_t² = η / (1 + t)^γ of Neelakantan et al. (2015), "Adding
/// gradient noise improves learning for very deep networks".
///
/// The noise is drawn from the RNG passed to [`add`](Self::add), one normal
/// variate per element in registration order, so a run is reproducible from
/// its seed.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_regularize::{GradientNoise, GradientNoiseConfig};
/// use nalgebra::DMatrix;
/// use rand::SeedableRng;
///
/// let noise = GradientNoise::new(GradientNoiseConfig { eta: 0.3, ..Default::default() })?;
/// assert!((noise.variance_at(0) - 0.3).abs() < 1e-15);
/// let mut store = ParamStore::<f32>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::zeros(2, 2))?;
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// noise.add(&mut store, 0, &mut rng);
/// assert!(store.grad(w).iter().any(|g| *g != 0.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GradientNoise {
    config: GradientNoiseConfig,
    selector: Selector,
}

impl GradientNoise {
    /// Validates `eta >= 0` and `gamma >= 0` (finite); applies to every parameter.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_regularize::{GradientNoise, GradientNoiseConfig};
    ///
    /// assert!(GradientNoise::new(GradientNoiseConfig::default()).is_ok());
    /// assert!(GradientNoise::new(GradientNoiseConfig { eta: -1.0, gamma: 0.55 }).is_err());
    /// ```
    pub fn new(config: GradientNoiseConfig) -> Result<Self> {
        non_negative("eta", config.eta)?;
        check(
            "gamma",
            config.gamma,
            config.gamma >= 0.0 && config.gamma.is_finite(),
            "a finite value >= 0",
        )?;
        Ok(GradientNoise {
            config,
            selector: Selector::All,
        })
    }

    /// The same noise on the parameters `selector` picks only.
    pub fn with_selector(self, selector: Selector) -> Self {
        GradientNoise { selector, ..self }
    }

    /// σ_t² = η / (1 + t)^γ at step `t` (0-based).
    pub fn variance_at(&self, step: u64) -> f64 {
        self.config.eta / (1.0 + step as f64).powf(self.config.gamma)
    }

    /// Adds the noise of step `step` to the selected gradients of `store`.
    pub fn add<S: Scalar, R: Rng + ?Sized>(
        &self,
        store: &mut ParamStore<S>,
        step: u64,
        rng: &mut R,
    ) {
        let sigma = self.variance_at(step).sqrt();
        let (params, grads) = store.split_mut();
        for (id, meta, _) in params.iter() {
            if !self.selector.matches(meta) {
                continue;
            }
            for g in grads.get_mut(id).iter_mut() {
                let z: f64 = StandardNormal.sample(rng);
                *g += S::cast(sigma * z);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_core::Tags;
    use nalgebra::DMatrix;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn sample_variance(noise: &GradientNoise, step: u64, seed: u64) -> f64 {
        let mut store = ParamStore::<f64>::new();
        let w = store
            .register("w", Tags::WEIGHT, DMatrix::zeros(200, 100))
            .unwrap();
        noise.add(&mut store, step, &mut ChaCha8Rng::seed_from_u64(seed));
        store.grad(w).iter().map(|g| g * g).sum::<f64>() / 20_000.0
    }

    #[test]
    fn sample_variance_follows_the_annealing_schedule() {
        let noise = GradientNoise::new(GradientNoiseConfig {
            eta: 1.0,
            gamma: 0.55,
        })
        .unwrap();
        for (step, seed) in [(0, 1), (10, 2), (1000, 3)] {
            let expected = 1.0 / (1.0 + step as f64).powf(0.55);
            let got = sample_variance(&noise, step, seed);
            // 20 000 samples: the relative standard error of a variance is sqrt(2/n) ≈ 1%.
            assert!(
                (got / expected - 1.0).abs() < 0.05,
                "step {step}: {got} vs {expected}"
            );
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_noise_and_selection_is_honoured() {
        let noise = GradientNoise::new(GradientNoiseConfig::default())
            .unwrap()
            .with_selector(Selector::tags(Tags::WEIGHT));
        let make = || {
            let mut store = ParamStore::<f32>::new();
            store
                .register("w", Tags::WEIGHT, DMatrix::zeros(3, 3))
                .unwrap();
            store
                .register("b", Tags::BIAS, DMatrix::zeros(1, 3))
                .unwrap();
            noise.add(&mut store, 5, &mut ChaCha8Rng::seed_from_u64(9));
            store
        };
        let (a, b) = (make(), make());
        assert_eq!(a.grads(), b.grads());
        assert!(a.grad(a.id("b").unwrap()).iter().all(|g| *g == 0.0));
    }
}
