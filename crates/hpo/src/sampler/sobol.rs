//! Quasi-random search along an Owen-scrambled Sobol sequence (`sobol_burley`).

use super::{SampleContext, Sampler};
use crate::{Distribution, Error, ParamValue, Result};
use rand_chacha::ChaCha8Rng;
use std::sync::Mutex;

/// Trial `n` takes point `n` of a scrambled Sobol sequence (Optuna's `QMCSampler`
/// with `qmc_type="sobol"`, scrambled), which covers the space more evenly than
/// independent draws.
///
/// Each parameter name gets its own Sobol dimension, in the order names are
/// first suggested, so a study whose first trial runs alone is reproducible;
/// a 257th name is an error ([`Error::Arg`]), never a shared dimension.
/// Points come from the `sobol_burley` crate (Burley 2020, 256 dimensions,
/// 2¹⁶ points per seed, `f32` precision); after 2¹⁶ trials the scramble seed changes.
///
/// # Examples
///
/// ```
/// use descent_hpo::{SobolSampler, Study, StudyConfig};
///
/// let study = Study::new(StudyConfig::default()).with_sampler(SobolSampler::new());
/// study.optimize(|t| Ok::<_, descent_hpo::Error>(t.suggest_float("x", -1.0, 1.0)?.powi(2)), 16, 1)?;
/// assert_eq!(study.trials().len(), 16);
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct SobolSampler {
    dimensions: Mutex<Vec<String>>,
}

impl SobolSampler {
    /// A Sobol sampler scrambled by the study's seed.
    pub fn new() -> Self {
        SobolSampler::default()
    }

    /// The Sobol dimension of parameter `name`; an error for a 257th
    /// name, as the sequence has 256 dimensions and reusing one would make
    /// two parameters move together.
    fn dimension(&self, name: &str) -> Result<u32> {
        let mut dims = self.dimensions.lock().unwrap_or_else(|e| e.into_inner());
        let idx = match dims.iter().position(|d| d == name) {
            Some(i) => i,
            None if dims.len() < sobol_burley::NUM_DIMENSIONS as usize => {
                dims.push(name.to_owned());
                dims.len() - 1
            }
            None => {
                return Err(Error::config(
                    "SobolSampler parameter",
                    name,
                    "the Sobol sequence has 256 dimensions, all taken by other parameters",
                ));
            }
        };
        Ok(idx as u32)
    }
}

impl Sampler for SobolSampler {
    fn sample(
        &self,
        ctx: &SampleContext<'_>,
        name: &str,
        distribution: &Distribution,
        _rng: &mut ChaCha8Rng,
    ) -> Result<ParamValue> {
        let n = ctx.trial.number;
        let seed =
            (ctx.seed ^ (ctx.seed >> 32)) as u32 ^ ((n >> 16) as u32).wrapping_mul(0x9E37_79B9);
        let u = sobol_burley::sample((n & 0xFFFF) as u32, self.dimension(name)?, seed);
        Ok(distribution.from_unit(f64::from(u)))
    }

    /// Quasi-random draws ignore the values, so any number of objectives is fine.
    fn supports_multi_objective(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Study, StudyConfig};

    #[test]
    fn sobol_points_stratify_every_interval_of_a_power_of_two() {
        let study = Study::new(StudyConfig {
            seed: 3,
            ..Default::default()
        })
        .with_sampler(SobolSampler::new());
        study
            .optimize(
                |t| {
                    let x = t.suggest_float("x", 0.0, 1.0)?;
                    let y = t.suggest_float("y", 0.0, 1.0)?;
                    Ok::<_, crate::Error>(x + y)
                },
                64,
                1,
            )
            .unwrap();
        // A (0, 2)-sequence in base 2: 64 points put one point in each of 64 equal
        // cells of each coordinate, and one in each of the 8 × 8 squares.
        let mut cells_x = [0; 64];
        let mut squares = [[0; 8]; 8];
        for t in study.trials() {
            let (x, y) = (t.params.f64("x").unwrap(), t.params.f64("y").unwrap());
            cells_x[(x * 64.0) as usize] += 1;
            squares[(x * 8.0) as usize][(y * 8.0) as usize] += 1;
        }
        assert!(cells_x.iter().all(|&c| c == 1), "{cells_x:?}");
        assert!(squares.iter().flatten().all(|&c| c == 1), "{squares:?}");
    }

    #[test]
    fn a_257th_parameter_is_an_error_not_a_shared_dimension() {
        let study = Study::new(StudyConfig::default()).with_sampler(SobolSampler::new());
        let mut t = study.ask().unwrap();
        for i in 0..256 {
            t.suggest_float(&format!("x{i}"), 0.0, 1.0).unwrap();
        }
        let err = t.suggest_float("x256", 0.0, 1.0).unwrap_err();
        assert!(
            matches!(err, crate::Error::Arg(descent_core::ArgError { .. })),
            "{err}"
        );
        assert!(err.to_string().contains("x256"), "{err}");
        // Names already seen keep their dimension.
        let mut t = study.ask().unwrap();
        assert!(t.suggest_float("x255", 0.0, 1.0).is_ok());
    }
}
