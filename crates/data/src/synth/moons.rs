//! Two interleaving half circles, as scikit-learn's `make_moons`.

use super::{linspace, normal};
use crate::ArgError;
use crate::{InMemory, Result};
use descent_core::Scalar;
use nalgebra::DMatrix;
use rand::Rng;
use rand::seq::SliceRandom;

/// Arguments of [`make_moons`]; `Default` is scikit-learn's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MoonsConfig {
    /// Total number of points (default 100).
    pub n_samples: usize,
    /// Standard deviation of the Gaussian noise added to each coordinate
    /// (default 0).
    pub noise: f64,
    /// Shuffle the samples (default true).
    pub shuffle: bool,
}

impl Default for MoonsConfig {
    fn default() -> Self {
        MoonsConfig {
            n_samples: 100,
            noise: 0.0,
            shuffle: true,
        }
    }
}

/// Two moons, 2 features, 2 classes, as scikit-learn: `n/2` (rounded down)
/// points of class 0 on the upper half circle `(cos t, sin t)`, the rest of
/// class 1 on `(1 − cos t, 0.5 − sin t)`, `t` evenly spaced in `[0, π]`;
/// then an optional shuffle, then noise `N(0, noise²)` on every coordinate.
///
/// # Examples
///
/// ```
/// use descent_data::{make_moons, Dataset, MoonsConfig};
/// use rand::SeedableRng;
///
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// let moons = make_moons::<f64>(&MoonsConfig { n_samples: 200, noise: 0.1, ..Default::default() }, &mut rng)?;
/// assert_eq!(moons.len(), 200);
/// # Ok::<(), descent_data::Error>(())
/// ```
pub fn make_moons<S: Scalar>(config: &MoonsConfig, rng: &mut impl Rng) -> Result<InMemory<S>> {
    if !(config.noise >= 0.0 && config.noise.is_finite()) {
        return Err(crate::Error::Arg(ArgError::new(
            "noise",
            config.noise,
            "must be finite and >= 0",
        )));
    }
    let n_out = config.n_samples / 2;
    let n_in = config.n_samples - n_out;
    let mut points: Vec<([f64; 2], usize)> = Vec::with_capacity(config.n_samples);
    points.extend(linspace(0.0, std::f64::consts::PI, n_out).map(|t| ([t.cos(), t.sin()], 0)));
    points.extend(
        linspace(0.0, std::f64::consts::PI, n_in).map(|t| ([1.0 - t.cos(), 0.5 - t.sin()], 1)),
    );
    if config.shuffle {
        points.shuffle(rng);
    }
    if config.noise > 0.0 {
        for (p, _) in &mut points {
            p[0] += config.noise * normal(rng);
            p[1] += config.noise * normal(rng);
        }
    }
    let x = DMatrix::from_fn(points.len(), 2, |i, j| S::cast(points[i].0[j]));
    InMemory::classification(x, points.iter().map(|p| p.1).collect(), 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dataset;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn noiseless_moons_lie_on_their_circles() {
        let config = MoonsConfig {
            n_samples: 11,
            ..Default::default()
        };
        let m = make_moons::<f64>(&config, &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
        let labels = m.class_labels().unwrap();
        assert_eq!(labels.iter().filter(|&&l| l == 0).count(), 5);
        for (i, &l) in labels.iter().enumerate() {
            let (x, y) = (m.features()[(i, 0)], m.features()[(i, 1)]);
            let r = if l == 0 {
                x.hypot(y)
            } else {
                (x - 1.0).hypot(y - 0.5)
            };
            assert!((r - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_moons() {
        let config = MoonsConfig {
            noise: 0.2,
            ..Default::default()
        };
        let a = make_moons::<f32>(&config, &mut ChaCha8Rng::seed_from_u64(9)).unwrap();
        let b = make_moons::<f32>(&config, &mut ChaCha8Rng::seed_from_u64(9)).unwrap();
        let c = make_moons::<f32>(&config, &mut ChaCha8Rng::seed_from_u64(10)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 100);
    }
}
