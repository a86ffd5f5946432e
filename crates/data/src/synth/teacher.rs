//! Teacher–student regression: targets from a random teacher network.

use super::normal;
use crate::ArgError;
use crate::{Error, InMemory, Result};
use descent_core::Scalar;
use nalgebra::DMatrix;
use rand::Rng;

/// Arguments of [`make_teacher_student`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TeacherConfig {
    /// Number of samples (default 1000).
    pub n_samples: usize,
    /// Input dimension (default 10).
    pub n_inputs: usize,
    /// Output dimension (default 1).
    pub n_outputs: usize,
    /// Hidden tanh units of the teacher; 0 makes it a linear map (default 0).
    pub hidden: usize,
    /// Standard deviation of the Gaussian noise added to targets (default 0.1).
    pub noise: f64,
}

impl Default for TeacherConfig {
    fn default() -> Self {
        TeacherConfig {
            n_samples: 1000,
            n_inputs: 10,
            n_outputs: 1,
            hidden: 0,
            noise: 0.1,
        }
    }
}

/// The teacher: affine layers `(W, b)` with `W` of shape `out × in`, tanh
/// between them (none after the last).
#[derive(Debug, Clone, PartialEq)]
pub struct Teacher<S: Scalar> {
    /// The layers, input first.
    pub layers: Vec<(DMatrix<S>, DMatrix<S>)>,
}

impl<S: Scalar> Teacher<S> {
    /// The noise-free teacher output for `N × n_inputs` inputs: `N × n_outputs`.
    pub fn predict(&self, x: &DMatrix<S>) -> DMatrix<S> {
        let mut h = x.clone();
        for (l, (w, b)) in self.layers.iter().enumerate() {
            h = &h * w.transpose();
            for mut row in h.row_iter_mut() {
                row += b;
            }
            if l + 1 < self.layers.len() {
                h.apply(|v| *v = v.tanh());
            }
        }
        h
    }
}

/// A regression set and the teacher that labelled it.
#[derive(Debug, Clone, PartialEq)]
pub struct TeacherStudent<S: Scalar> {
    /// Inputs `x ~ N(0, I)` and targets `teacher(x) + noise·N(0, I)`.
    pub data: InMemory<S>,
    /// The teacher (the best any student can do is its noise floor).
    pub teacher: Teacher<S>,
}

/// A teacher–student regression set: the teacher's weights are
/// `N(0, 1/fan_in)` and its biases `N(0, 0.01)`; inputs are `N(0, I)`;
/// targets are the teacher's outputs plus `N(0, noise²)`.
///
/// # Examples
///
/// ```
/// use descent_data::{make_teacher_student, Dataset, TeacherConfig};
/// use rand::SeedableRng;
///
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// let config = TeacherConfig { hidden: 16, noise: 0.0, ..Default::default() };
/// let ts = make_teacher_student::<f64>(&config, &mut rng)?;
/// let descent_data::Targets::Values(y) = ts.data.targets() else { unreachable!() };
/// assert_eq!(ts.teacher.predict(ts.data.features()), *y);
/// # Ok::<(), descent_data::Error>(())
/// ```
pub fn make_teacher_student<S: Scalar>(
    config: &TeacherConfig,
    rng: &mut impl Rng,
) -> Result<TeacherStudent<S>> {
    if !(config.noise >= 0.0 && config.noise.is_finite()) {
        return Err(Error::Arg(ArgError::new(
            "noise",
            config.noise,
            "must be finite and >= 0",
        )));
    }
    let mut dims = vec![config.n_inputs];
    if config.hidden > 0 {
        dims.push(config.hidden);
    }
    dims.push(config.n_outputs);
    let mut gaussian = |rows: usize, cols: usize, std: f64| {
        DMatrix::from_fn(rows, cols, |_, _| S::cast(std * normal(rng)))
    };
    let layers = dims
        .windows(2)
        .map(|w| {
            let std = 1.0 / (w[0].max(1) as f64).sqrt();
            (gaussian(w[1], w[0], std), gaussian(1, w[1], 0.1))
        })
        .collect();
    let teacher = Teacher { layers };
    let x = gaussian(config.n_samples, config.n_inputs, 1.0);
    let y = teacher.predict(&x) + gaussian(config.n_samples, config.n_outputs, config.noise);
    Ok(TeacherStudent {
        data: InMemory::regression(x, y)?,
        teacher,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dataset, Targets};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn noise_is_the_gap_between_targets_and_teacher() {
        let c = TeacherConfig {
            n_samples: 4000,
            n_outputs: 2,
            noise: 0.5,
            ..Default::default()
        };
        let ts = make_teacher_student::<f64>(&c, &mut ChaCha8Rng::seed_from_u64(5)).unwrap();
        assert_eq!(
            ts.data.schema().targets,
            crate::TargetKind::Values { dim: 2 }
        );
        let Targets::Values(y) = ts.data.targets() else {
            panic!("regression")
        };
        let resid = y - ts.teacher.predict(ts.data.features());
        let var = resid.norm_squared() / resid.len() as f64;
        assert!((var - 0.25).abs() < 0.02, "{var}");
    }

    #[test]
    fn the_same_seed_gives_the_same_teacher_and_data() {
        let c = TeacherConfig {
            hidden: 8,
            ..Default::default()
        };
        let a = make_teacher_student::<f32>(&c, &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
        let b = make_teacher_student::<f32>(&c, &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.teacher.layers.len(), 2);
    }
}
