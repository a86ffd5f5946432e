//! Initializers, as `torch.nn.init`: constants, uniform and normal, Xavier
//! (Glorot), Kaiming (He) and orthogonal, with PyTorch's fans and gains.

use crate::ArgError;
use crate::random::{standard_normal, uniform};
use crate::state::matrix_dims;
use crate::{Error, Result};
use descent_core::Scalar;
use nalgebra::DMatrix;
use rand_core::Rng;

/// Which fan Kaiming initialization preserves the variance of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FanMode {
    /// Forward pass (PyTorch's default `fan_in`).
    #[default]
    FanIn,
    /// Backward pass.
    FanOut,
}

/// The nonlinearity a gain is computed for (`torch.nn.init.calculate_gain`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Nonlinearity {
    /// Identity, linear and convolution layers: gain 1.
    Linear,
    /// Sigmoid: gain 1.
    Sigmoid,
    /// Tanh: gain 5/3.
    Tanh,
    /// ReLU: gain √2.
    Relu,
    /// Leaky ReLU with this negative slope: gain √(2 / (1 + slope²)).
    LeakyRelu(f64),
    /// SELU: gain 3/4.
    Selu,
}

impl Nonlinearity {
    /// The recommended gain, as `torch.nn.init.calculate_gain`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_nn::Nonlinearity;
    ///
    /// assert_eq!(Nonlinearity::Relu.gain(), 2f64.sqrt());
    /// assert!((Nonlinearity::LeakyRelu(5f64.sqrt()).gain() - (1.0f64 / 3.0).sqrt()).abs() < 1e-15);
    /// ```
    pub fn gain(self) -> f64 {
        match self {
            Nonlinearity::Linear | Nonlinearity::Sigmoid => 1.0,
            Nonlinearity::Tanh => 5.0 / 3.0,
            Nonlinearity::Relu => 2f64.sqrt(),
            Nonlinearity::LeakyRelu(slope) => (2.0 / (1.0 + slope * slope)).sqrt(),
            Nonlinearity::Selu => 0.75,
        }
    }
}

/// How to fill a tensor, named after `torch.nn.init`'s functions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// All zeros.
    Zeros,
    /// All ones.
    Ones,
    /// Every element `value`.
    Constant(f64),
    /// `U(low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// `N(mean, std²)`.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// `U(−a, a)` with `a = gain·√(6 / (fan_in + fan_out))`.
    XavierUniform {
        /// Scaling factor.
        gain: f64,
    },
    /// `N(0, std²)` with `std = gain·√(2 / (fan_in + fan_out))`.
    XavierNormal {
        /// Scaling factor.
        gain: f64,
    },
    /// `U(−b, b)` with `b = gain·√(3 / fan)`.
    KaimingUniform {
        /// Which fan.
        mode: FanMode,
        /// Gives the gain.
        nonlinearity: Nonlinearity,
    },
    /// `N(0, std²)` with `std = gain / √fan`.
    KaimingNormal {
        /// Which fan.
        mode: FanMode,
        /// Gives the gain.
        nonlinearity: Nonlinearity,
    },
    /// A (semi-)orthogonal matrix from the QR decomposition of a normal
    /// one, times `gain`, over the tensor flattened to `d0 × rest`.
    Orthogonal {
        /// Scaling factor.
        gain: f64,
    },
}

/// `(fan_in, fan_out)` of a PyTorch weight shape `[out, in, k…]`, as
/// `torch.nn.init._calculate_fan_in_and_fan_out`; needs at least 2 dimensions.
///
/// # Examples
///
/// ```
/// assert_eq!(descent_nn::fans(&[8, 3, 5, 5]).unwrap(), (75, 200));
/// assert!(descent_nn::fans(&[8]).is_err());
/// ```
pub fn fans(shape: &[usize]) -> Result<(usize, usize)> {
    match shape {
        [out, inp, rest @ ..] => {
            let receptive: usize = rest.iter().product();
            Ok((inp * receptive, out * receptive))
        }
        _ => Err(Error::Arg(ArgError::new(
            "shape",
            format!("{shape:?}"),
            "fans need a tensor of at least 2 dimensions (in init)",
        ))),
    }
}

impl Init {
    /// PyTorch's default for `Linear` and `Conv2d` weights:
    /// `kaiming_uniform_(a = √5)`, that is `U(±1/√fan_in)`.
    pub fn torch_default_weight() -> Init {
        Init::KaimingUniform {
            mode: FanMode::FanIn,
            nonlinearity: Nonlinearity::LeakyRelu(5f64.sqrt()),
        }
    }

    /// A tensor of PyTorch shape `shape` (as a `d0 × rest` matrix), drawn
    /// from `rng` in row-major order.
    ///
    /// Errors if a fan-based or orthogonal init is asked of a tensor with
    /// fewer than 2 dimensions.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_nn::Init;
    /// use rand_chacha::ChaCha8Rng;
    /// use rand_core::SeedableRng;
    ///
    /// let mut rng = ChaCha8Rng::seed_from_u64(0);
    /// let w = Init::torch_default_weight().sample::<f64>(&[4, 9], &mut rng)?;
    /// assert!(w.iter().all(|x| x.abs() <= 1.0 / 3.0));
    /// let q = Init::Orthogonal { gain: 1.0 }.sample::<f64>(&[3, 3], &mut rng)?;
    /// assert!((q.transpose() * &q - nalgebra::DMatrix::identity(3, 3)).norm() < 1e-12);
    /// # Ok::<(), descent_nn::Error>(())
    /// ```
    pub fn sample<S: Scalar>(&self, shape: &[usize], rng: &mut dyn Rng) -> Result<DMatrix<S>> {
        let (rows, cols) = matrix_dims(shape);
        let fan = |mode: FanMode| -> Result<f64> {
            let (fan_in, fan_out) = fans(shape)?;
            Ok(match mode {
                FanMode::FanIn => fan_in,
                FanMode::FanOut => fan_out,
            } as f64)
        };
        let both = || fans(shape).map(|(i, o)| (i + o) as f64);
        let draw = |rng: &mut dyn Rng, f: &dyn Fn(&mut dyn Rng) -> f64| {
            let mut m = DMatrix::zeros(rows, cols);
            for i in 0..rows {
                for j in 0..cols {
                    m[(i, j)] = S::cast(f(rng));
                }
            }
            m
        };
        let u = |b: f64| move |r: &mut dyn Rng| uniform(r, -b, b);
        let n = |s: f64| move |r: &mut dyn Rng| s * standard_normal(r);
        Ok(match *self {
            Init::Zeros => DMatrix::zeros(rows, cols),
            Init::Ones => DMatrix::from_element(rows, cols, S::one()),
            Init::Constant(v) => DMatrix::from_element(rows, cols, S::cast(v)),
            Init::Uniform { low, high } => draw(rng, &|r| uniform(r, low, high)),
            Init::Normal { mean, std } => draw(rng, &|r| mean + std * standard_normal(r)),
            Init::XavierUniform { gain } => draw(rng, &u(gain * (6.0 / both()?).sqrt())),
            Init::XavierNormal { gain } => draw(rng, &n(gain * (2.0 / both()?).sqrt())),
            Init::KaimingUniform { mode, nonlinearity } => {
                draw(rng, &u(nonlinearity.gain() * (3.0 / fan(mode)?).sqrt()))
            }
            Init::KaimingNormal { mode, nonlinearity } => {
                draw(rng, &n(nonlinearity.gain() / fan(mode)?.sqrt()))
            }
            Init::Orthogonal { gain } => {
                fans(shape)?;
                orthogonal(rows, cols, gain, rng)
            }
        })
    }
}

/// PyTorch's `orthogonal_`: QR of a normal matrix (transposed when wide),
/// with `Q`'s columns signed by `R`'s diagonal.
fn orthogonal<S: Scalar>(rows: usize, cols: usize, gain: f64, rng: &mut dyn Rng) -> DMatrix<S> {
    let mut flat = DMatrix::<f64>::zeros(rows, cols);
    for i in 0..rows {
        for j in 0..cols {
            flat[(i, j)] = standard_normal(rng);
        }
    }
    let wide = rows < cols;
    if wide {
        flat = flat.transpose();
    }
    let qr = flat.qr();
    let (mut q, r) = (qr.q(), qr.r());
    for k in 0..q.ncols() {
        let sign = if r[(k, k)] < 0.0 { -1.0 } else { 1.0 };
        q.column_mut(k).scale_mut(sign * gain);
    }
    if wide {
        q = q.transpose();
    }
    q.map(S::cast)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    fn stats(m: &DMatrix<f64>) -> (f64, f64) {
        let n = m.len() as f64;
        let mean = m.sum() / n;
        (mean, m.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n)
    }

    #[test]
    fn kaiming_and_xavier_have_the_variance_pytorch_targets() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let shape = [200, 50, 3, 3]; // fan_in 450, fan_out 1800
        let cases = [
            (
                Init::KaimingNormal {
                    mode: FanMode::FanIn,
                    nonlinearity: Nonlinearity::Relu,
                },
                2.0f64 / 450.0,
            ),
            (
                Init::KaimingUniform {
                    mode: FanMode::FanOut,
                    nonlinearity: Nonlinearity::Relu,
                },
                2.0 / 1800.0,
            ),
            (Init::XavierUniform { gain: 1.0 }, 2.0 / 2250.0),
            (Init::XavierNormal { gain: 2.0 }, 4.0 * 2.0 / 2250.0),
        ];
        for (init, want) in cases {
            let (mean, var) = stats(&init.sample(&shape, &mut rng).unwrap());
            assert!(mean.abs() < 0.05 * want.sqrt(), "{init:?}: mean {mean}");
            assert!(
                (var / want - 1.0).abs() < 0.03,
                "{init:?}: var {var}, want {want}"
            );
        }
    }

    #[test]
    fn fan_based_init_of_a_vector_is_a_typed_error() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let err = Init::XavierUniform { gain: 1.0 }
            .sample::<f32>(&[5], &mut rng)
            .unwrap_err();
        assert!(
            matches!(err, Error::Arg(ArgError { name: "shape", .. })),
            "{err}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn orthogonal_rows_or_columns_are_orthonormal_times_gain(rows in 1usize..7, cols in 1usize..7, seed: u64) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let q = Init::Orthogonal { gain: 2.0 }.sample::<f64>(&[rows, cols], &mut rng).unwrap();
            let gram = if rows < cols { &q * q.transpose() } else { q.transpose() * &q };
            let k = rows.min(cols);
            prop_assert!((gram - DMatrix::identity(k, k) * 4.0).norm() < 1e-10);
        }

        #[test]
        fn the_same_seed_gives_the_same_tensor(seed: u64) {
            let init = Init::torch_default_weight();
            let a = init.sample::<f32>(&[3, 4], &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
            let b = init.sample::<f32>(&[3, 4], &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
            prop_assert_eq!(a, b);
        }
    }
}
