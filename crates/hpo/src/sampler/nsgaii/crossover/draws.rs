//! The random draws a crossover takes, named as numpy's `RandomState` calls
//! Optuna's crossovers make, so that a test can replay the draws Optuna took.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution as _, StandardNormal};

/// A source of the draws NSGA-II's crossovers take.
pub(in crate::sampler::nsgaii) trait Draws {
    /// A uniform number in `[0, 1)` (numpy's `rand()`).
    fn uniform(&mut self) -> f64;
    /// A normal number of mean `mean` and standard deviation `std` (numpy's `normal(mean, std)`).
    fn normal(&mut self, mean: f64, std: f64) -> f64;
    /// A uniform index in `0..n` (numpy's `choice(n)`), `n ≥ 1`.
    fn index(&mut self, n: usize) -> usize;
}

impl Draws for ChaCha8Rng {
    fn uniform(&mut self) -> f64 {
        self.random::<f64>()
    }

    fn normal(&mut self, mean: f64, std: f64) -> f64 {
        let z: f64 = StandardNormal.sample(self);
        mean + std * z
    }

    fn index(&mut self, n: usize) -> usize {
        self.random_range(0..n)
    }
}
