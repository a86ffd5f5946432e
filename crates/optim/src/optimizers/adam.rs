//! `Adam` and `AdamW`: the same stages, with weight decay coupled or decoupled.

use crate::check;
use crate::error::Result;
use crate::optimizers::{Framed, OptimizerConfig, WeightDecay, framed, optimizer_constructors};
use crate::transform::{ScaleByAdam, scale_by_adam};

/// PyTorch `Adam`. Its `weight_decay` is an L2 term in the gradient;
/// PyTorch's `decoupled_weight_decay=True` is `WeightDecay::Decoupled`,
/// which makes it [`AdamW`].
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Adam, AdamConfig, WeightDecay};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f32>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(2, 2, 1.0))?;
/// let cfg = AdamConfig { lr: 0.01, weight_decay: WeightDecay::L2(1e-4), ..AdamConfig::default() };
/// let mut opt = cfg.build(&store)?;
/// store.grad_mut(w).fill(0.5);
/// opt.step(&mut store)?;
/// assert!((store.value(w)[0] - 0.99).abs() < 1e-6);
/// // The same optimizer, built from its arguments:
/// let mut same = cfg.build(&store)?;
/// store.params_mut().set_value(w, DMatrix::from_element(2, 2, 1.0))?;
/// same.step(&mut store)?;
/// assert!((store.value(w)[0] - 0.99).abs() < 1e-6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Adam;

/// Arguments of [`Adam`]; `Default` is PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate (1e-3).
    pub lr: f64,
    /// (β₁, β₂) = (0.9, 0.999).
    pub betas: (f64, f64),
    /// ε (1e-8).
    pub eps: f64,
    /// Weight decay (none).
    pub weight_decay: WeightDecay,
    /// AMSGrad (false).
    pub amsgrad: bool,
    /// Ascend instead of descend (false).
    pub maximize: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: WeightDecay::None,
            amsgrad: false,
            maximize: false,
        }
    }
}

impl OptimizerConfig for AdamConfig {
    type Transform = Framed<ScaleByAdam>;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        check::adam_family(self.lr, self.betas, Some(self.eps), self.weight_decay)
    }

    fn transform(&self) -> Self::Transform {
        let (b1, b2) = self.betas;
        framed(
            self.maximize,
            self.weight_decay,
            scale_by_adam(b1, b2, self.eps, self.amsgrad),
        )
    }
}

optimizer_constructors!(Adam, AdamConfig);

/// PyTorch `AdamW`: Adam with decoupled, lr-scaled weight decay (0.01 by default).
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{AdamW, AdamWConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 1, 1.0))?;
/// let mut opt = AdamWConfig { lr: 0.1, ..AdamWConfig::default() }.build(&store)?;
/// opt.step(&mut store)?; // zero gradient: only the decay acts
/// assert!((store.value(w)[0] - (1.0 - 0.1 * 0.01)).abs() < 1e-15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct AdamW;

/// Arguments of [`AdamW`]; `Default` is PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWConfig {
    /// Learning rate (1e-3).
    pub lr: f64,
    /// (β₁, β₂) = (0.9, 0.999).
    pub betas: (f64, f64),
    /// ε (1e-8).
    pub eps: f64,
    /// Weight decay (`Decoupled(0.01)`).
    pub weight_decay: WeightDecay,
    /// AMSGrad (false).
    pub amsgrad: bool,
    /// Ascend instead of descend (false).
    pub maximize: bool,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: WeightDecay::Decoupled(1e-2),
            amsgrad: false,
            maximize: false,
        }
    }
}

/// AdamW is Adam with a different default decay: same fields, same stages.
impl From<AdamWConfig> for AdamConfig {
    fn from(c: AdamWConfig) -> AdamConfig {
        let AdamWConfig {
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize,
        } = c;
        AdamConfig {
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize,
        }
    }
}

impl OptimizerConfig for AdamWConfig {
    type Transform = Framed<ScaleByAdam>;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        AdamConfig::from(*self).validate()
    }

    fn transform(&self) -> Self::Transform {
        AdamConfig::from(*self).transform()
    }
}

optimizer_constructors!(AdamW, AdamWConfig);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ArgError;
    use crate::Error;
    use crate::testing::{max_rel_diff, store_of, trajectory};
    use proptest::collection::vec;
    use proptest::prelude::*;

    fn run(
        cfg: impl OptimizerConfig<Transform = Framed<ScaleByAdam>>,
        p0: &[f64],
        grads: &[Vec<f64>],
    ) -> Vec<Vec<f64>> {
        let mut store = store_of(&[p0.to_vec()]);
        let mut opt =
            crate::optimizers::with_groups(store.params(), &[(crate::Selector::All, cfg)]).unwrap();
        trajectory(&mut opt, &mut store, grads, 0.0)
    }

    /// Values bounded away from zero, so that a decay term always shows.
    fn away_from_zero(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
        (lo..hi, any::<bool>()).prop_map(|(x, neg)| if neg { -x } else { x })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Under Adam the L2 ≡ weight-decay equivalence fails: the L2 term is
        /// rescaled by the adaptive denominator, decoupled decay is not.
        #[test]
        fn adam_with_l2_differs_from_adamw_for_positive_decay(
            p0 in vec(away_from_zero(0.5, 2.0), 1..6),
            grads in vec(vec(away_from_zero(0.1, 1.0), 6), 1..6),
            lr in 1e-3..0.1,
            wd in 0.01..0.5,
        ) {
            let adam_l2 = run(AdamConfig { lr, weight_decay: WeightDecay::L2(wd), ..AdamConfig::default() }, &p0, &grads);
            let adamw = run(AdamWConfig { lr, weight_decay: WeightDecay::Decoupled(wd), ..AdamWConfig::default() }, &p0, &grads);
            prop_assert!(max_rel_diff(&adam_l2, &adamw) > 1e-6);
        }

        #[test]
        fn adamw_without_decay_is_adam_and_adam_decoupled_is_adamw(
            p0 in vec(-2.0..2.0, 1..6),
            grads in vec(vec(-1.0..1.0, 6), 1..6),
            lr in 1e-3..0.1,
            wd in 0.0..0.5,
            amsgrad in any::<bool>(),
        ) {
            let adam = run(AdamConfig { lr, amsgrad, ..AdamConfig::default() }, &p0, &grads);
            let adamw0 = run(AdamWConfig { lr, amsgrad, weight_decay: WeightDecay::Decoupled(0.0), ..AdamWConfig::default() }, &p0, &grads);
            prop_assert_eq!(adam, adamw0);
            let adam_dec = run(AdamConfig { lr, amsgrad, weight_decay: WeightDecay::Decoupled(wd), ..AdamConfig::default() }, &p0, &grads);
            let adamw = run(AdamWConfig { lr, amsgrad, weight_decay: WeightDecay::Decoupled(wd), ..AdamWConfig::default() }, &p0, &grads);
            prop_assert_eq!(adam_dec, adamw);
        }
    }

    #[test]
    fn invalid_adam_hyperparameters_are_typed_errors() {
        let store = store_of(&[vec![1.0]]);
        let bad = [
            (
                AdamConfig {
                    lr: -1e-3,
                    ..AdamConfig::default()
                },
                "lr",
            ),
            (
                AdamConfig {
                    betas: (1.0, 0.999),
                    ..AdamConfig::default()
                },
                "betas.0",
            ),
            (
                AdamConfig {
                    betas: (0.9, -0.1),
                    ..AdamConfig::default()
                },
                "betas.1",
            ),
            (
                AdamConfig {
                    eps: 0.0,
                    ..AdamConfig::default()
                },
                "eps",
            ),
            (
                AdamConfig {
                    eps: f64::NAN,
                    ..AdamConfig::default()
                },
                "eps",
            ),
        ];
        for (cfg, field) in bad {
            match cfg.build(&store) {
                Err(Error::Arg(ArgError { name, .. })) => assert_eq!(name, field),
                other => panic!("{cfg:?} gave {other:?}"),
            }
        }
    }
}
