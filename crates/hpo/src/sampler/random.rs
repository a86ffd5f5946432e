//! Random search: every value drawn independently (Bergstra & Bengio 2012).

use super::{SampleContext, Sampler};
use crate::{Distribution, ParamValue, Result};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// Draws every value independently and uniformly (in log space for log
/// distributions); the default sampler, as random search is the efficient way to start.
///
/// # Examples
///
/// ```
/// use descent_hpo::{RandomSampler, Study, StudyConfig};
///
/// let study = Study::new(StudyConfig { seed: 7, ..Default::default() }).with_sampler(RandomSampler::new());
/// let mut trial = study.ask()?;
/// let lr = trial.suggest_float_log("lr", 1e-5, 1e-1)?;
/// assert!((1e-5..=1e-1).contains(&lr));
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomSampler;

impl RandomSampler {
    /// A random sampler.
    pub fn new() -> Self {
        RandomSampler
    }
}

impl Sampler for RandomSampler {
    fn sample(
        &self,
        _ctx: &SampleContext<'_>,
        _name: &str,
        distribution: &Distribution,
        rng: &mut ChaCha8Rng,
    ) -> Result<ParamValue> {
        Ok(distribution.from_unit(rng.random::<f64>()))
    }

    /// Random draws ignore the values, so any number of objectives is fine.
    fn supports_multi_objective(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FrozenTrial;
    use rand::SeedableRng;

    /// Kolmogorov–Smirnov statistic of `xs` against the uniform law on `[0, 1]`.
    fn ks_uniform(mut xs: Vec<f64>) -> f64 {
        xs.sort_by(f64::total_cmp);
        let n = xs.len() as f64;
        xs.iter()
            .enumerate()
            .map(|(i, &x)| (x - i as f64 / n).max((i + 1) as f64 / n - x))
            .fold(0.0, f64::max)
    }

    #[test]
    fn log_uniform_samples_are_uniform_in_log_space() {
        let d = Distribution::Float {
            low: 1e-5,
            high: 1e-1,
            log: true,
            step: None,
        };
        let trial = FrozenTrial::running(0);
        let ctx = SampleContext {
            trials: &[],
            trial: &trial,
            direction: Default::default(),
            directions: &[Default::default()],
            seed: 0,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(2012);
        let n = 2000;
        let logs: Vec<f64> = (0..n)
            .map(
                |_| match RandomSampler.sample(&ctx, "lr", &d, &mut rng).unwrap() {
                    ParamValue::Float(x) => (x.ln() - 1e-5f64.ln()) / (1e-1f64.ln() - 1e-5f64.ln()),
                    other => panic!("not a float: {other:?}"),
                },
            )
            .collect();
        let d_log = ks_uniform(logs.clone());
        // 1.63/sqrt(n) is the 1% critical value of the one-sample KS test.
        let critical = 1.63 / (n as f64).sqrt();
        assert!(d_log < critical, "KS statistic {d_log} >= {critical}");
        // The same samples are far from uniform on the linear scale.
        let linear: Vec<f64> = logs
            .iter()
            .map(|u| {
                ((1e-5f64.ln() + u * (1e-1f64.ln() - 1e-5f64.ln())).exp() - 1e-5) / (1e-1 - 1e-5)
            })
            .collect();
        assert!(ks_uniform(linear) > 10.0 * critical);
    }
}
