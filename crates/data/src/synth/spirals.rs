//! Interleaved spiral arms, one class per arm (CS231n's spiral data).

use super::{linspace, normal};
use crate::ArgError;
use crate::{Error, InMemory, Result};
use descent_core::Scalar;
use nalgebra::DMatrix;
use rand::Rng;

/// Arguments of [`make_spirals`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpiralsConfig {
    /// Points per arm (default 100).
    pub n_per_class: usize,
    /// Number of arms = classes (default 3).
    pub n_classes: usize,
    /// Full turns each arm makes from the centre out (default 0.75).
    pub turns: f64,
    /// Standard deviation of the angular noise in radians (default 0.2).
    pub noise: f64,
}

impl Default for SpiralsConfig {
    fn default() -> Self {
        SpiralsConfig {
            n_per_class: 100,
            n_classes: 3,
            turns: 0.75,
            noise: 0.2,
        }
    }
}

/// `K` spiral arms in 2-D: point `i` of arm `k` has radius `r` evenly spaced
/// in `[0, 1]` and angle `2πk/K + 2π·turns·r + noise·N(0, 1)`, at
/// `(r sin θ, r cos θ)`; its label is `k`. Samples are ordered arm by arm.
///
/// # Examples
///
/// ```
/// use descent_data::{make_spirals, Dataset, SpiralsConfig};
/// use rand::SeedableRng;
///
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// let s = make_spirals::<f32>(&SpiralsConfig::default(), &mut rng)?;
/// assert_eq!((s.len(), s.schema().n_classes()), (300, Some(3)));
/// # Ok::<(), descent_data::Error>(())
/// ```
pub fn make_spirals<S: Scalar>(config: &SpiralsConfig, rng: &mut impl Rng) -> Result<InMemory<S>> {
    if config.n_classes == 0 {
        return Err(Error::Arg(ArgError::new(
            "n_classes",
            0,
            "must be at least 1",
        )));
    }
    if !(config.noise >= 0.0 && config.noise.is_finite() && config.turns.is_finite()) {
        return Err(Error::Arg(ArgError::new(
            "noise",
            config.noise,
            "noise and turns must be finite, noise >= 0",
        )));
    }
    let k = config.n_classes;
    let mut xy = Vec::with_capacity(k * config.n_per_class);
    let mut labels = Vec::with_capacity(k * config.n_per_class);
    for arm in 0..k {
        let offset = std::f64::consts::TAU * arm as f64 / k as f64;
        for r in linspace(0.0, 1.0, config.n_per_class) {
            let theta =
                offset + std::f64::consts::TAU * config.turns * r + config.noise * normal(rng);
            xy.push([r * theta.sin(), r * theta.cos()]);
            labels.push(arm);
        }
    }
    let x = DMatrix::from_fn(xy.len(), 2, |i, j| S::cast(xy[i][j]));
    InMemory::classification(x, labels, k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn points_lie_within_the_unit_disc_with_balanced_classes() {
        let config = SpiralsConfig {
            n_per_class: 50,
            n_classes: 5,
            ..Default::default()
        };
        let s = make_spirals::<f64>(&config, &mut ChaCha8Rng::seed_from_u64(2)).unwrap();
        for i in 0..250 {
            assert!(s.features()[(i, 0)].hypot(s.features()[(i, 1)]) <= 1.0 + 1e-12);
        }
        let labels = s.class_labels().unwrap();
        assert!((0..5).all(|k| labels.iter().filter(|&&l| l == k).count() == 50));
    }

    #[test]
    fn the_same_seed_gives_the_same_spirals() {
        let c = SpiralsConfig::default();
        let a = make_spirals::<f32>(&c, &mut ChaCha8Rng::seed_from_u64(4)).unwrap();
        let b = make_spirals::<f32>(&c, &mut ChaCha8Rng::seed_from_u64(4)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn zero_arms_are_rejected() {
        let c = SpiralsConfig {
            n_classes: 0,
            ..Default::default()
        };
        let err = make_spirals::<f32>(&c, &mut ChaCha8Rng::seed_from_u64(0)).unwrap_err();
        assert!(matches!(
            err,
            Error::Arg(ArgError {
                name: "n_classes",
                ..
            })
        ));
    }
}
