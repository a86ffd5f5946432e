//! `Sgd`: gradient descent with optional momentum (heavy ball or Nesterov).

use crate::check;
use crate::error::{Error, Result, closed_unit_interval};
use crate::optimizers::{Framed, OptimizerConfig, WeightDecay, framed, optimizer_constructors};
use crate::transform::{Trace, trace};

/// PyTorch `SGD`. Full-batch gradient descent and mini-batch SGD are this
/// optimizer fed full or partial batches.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Sgd, SgdConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 1, 1.0))?;
/// let mut opt = SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() }.build(&store)?;
/// store.grad_mut(w).fill(2.0);
/// opt.step(&mut store)?;
/// assert!((store.value(w)[0] - 0.8).abs() < 1e-15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Sgd;

/// Arguments of [`Sgd`]; `Default` is PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate (1e-3).
    pub lr: f64,
    /// Momentum factor (0: no momentum buffer).
    pub momentum: f64,
    /// Dampening of new gradients in the momentum buffer (0).
    pub dampening: f64,
    /// Weight decay (none; PyTorch's `weight_decay=λ` is `WeightDecay::L2(λ)`).
    pub weight_decay: WeightDecay,
    /// Nesterov momentum (false).
    pub nesterov: bool,
    /// Ascend instead of descend (false).
    pub maximize: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: WeightDecay::None,
            nesterov: false,
            maximize: false,
        }
    }
}

impl OptimizerConfig for SgdConfig {
    type Transform = Framed<Option<Trace>>;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        check::lr(self.lr)?;
        check::momentum(self.momentum)?;
        closed_unit_interval("dampening", self.dampening)?;
        self.weight_decay.validate()?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::NesterovRequiresMomentum {
                momentum: self.momentum,
                dampening: self.dampening,
            });
        }
        Ok(())
    }

    fn transform(&self) -> Self::Transform {
        let momentum =
            (self.momentum > 0.0).then(|| trace(self.momentum, self.dampening, self.nesterov));
        framed(self.maximize, self.weight_decay, momentum)
    }
}

optimizer_constructors!(Sgd, SgdConfig);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ArgError;
    use crate::testing::{max_rel_diff, store_of, trajectory};
    use proptest::collection::vec;
    use proptest::prelude::*;

    fn run(cfg: SgdConfig, p0: &[f64], grads: &[Vec<f64>], penalty: f64) -> Vec<Vec<f64>> {
        let mut store = store_of(&[p0.to_vec()]);
        let mut opt = cfg.build(&store).unwrap();
        trajectory(&mut opt, &mut store, grads, penalty)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The lecture's point: under SGD, L2 regularization and weight decay are one thing.
        #[test]
        fn sgd_weight_decay_equals_l2_penalty_and_decoupled_decay(
            p0 in vec(-2.0..2.0, 1..8),
            grads in vec(vec(-1.0..1.0, 8), 1..8),
            lr in 1e-3..0.5,
            wd in 0.0..0.5,
        ) {
            let base = SgdConfig { lr, ..SgdConfig::default() };
            let l2 = run(SgdConfig { weight_decay: WeightDecay::L2(wd), ..base }, &p0, &grads, 0.0);
            let penalty = run(base, &p0, &grads, wd);
            let decoupled = run(SgdConfig { weight_decay: WeightDecay::Decoupled(wd), ..base }, &p0, &grads, 0.0);
            let by_schedule = run(SgdConfig { weight_decay: WeightDecay::DecoupledSchedule(lr * wd), ..base }, &p0, &grads, 0.0);
            prop_assert!(max_rel_diff(&l2, &penalty) < 1e-12);
            prop_assert!(max_rel_diff(&l2, &decoupled) < 1e-12);
            prop_assert!(max_rel_diff(&l2, &by_schedule) < 1e-12);
        }

        #[test]
        fn sgd_momentum_weight_decay_equals_l2_penalty(
            p0 in vec(-2.0..2.0, 1..8),
            grads in vec(vec(-1.0..1.0, 8), 1..8),
            lr in 1e-3..0.5,
            wd in 0.0..0.5,
            momentum in 0.0..0.99,
            nesterov in any::<bool>(),
        ) {
            let base = SgdConfig { lr, momentum, nesterov: nesterov && momentum > 0.0, ..SgdConfig::default() };
            let l2 = run(SgdConfig { weight_decay: WeightDecay::L2(wd), ..base }, &p0, &grads, 0.0);
            let penalty = run(base, &p0, &grads, wd);
            prop_assert!(max_rel_diff(&l2, &penalty) < 1e-12);
        }

        #[test]
        fn sgd_with_zero_momentum_is_plain_gradient_descent(
            p0 in vec(-2.0..2.0, 1..8),
            grads in vec(vec(-1.0..1.0, 8), 1..8),
            lr in 1e-3..0.5,
            dampening in 0.0..1.0,
        ) {
            let got = run(SgdConfig { lr, momentum: 0.0, dampening, ..SgdConfig::default() }, &p0, &grads, 0.0);
            let mut theta = p0.clone();
            for (g, step) in grads.iter().zip(&got) {
                for (j, t) in theta.iter_mut().enumerate() {
                    *t -= lr * g[j % g.len()];
                }
                prop_assert_eq!(step, &theta);
            }
        }
    }

    #[test]
    fn nesterov_without_momentum_or_with_dampening_is_a_typed_error() {
        let store = store_of(&[vec![1.0]]);
        for (momentum, dampening) in [(0.0, 0.0), (0.9, 0.1)] {
            let cfg = SgdConfig {
                momentum,
                dampening,
                nesterov: true,
                ..SgdConfig::default()
            };
            let err = cfg.build(&store).unwrap_err();
            assert_eq!(
                err,
                Error::NesterovRequiresMomentum {
                    momentum,
                    dampening
                }
            );
        }
        let err = SgdConfig {
            lr: -0.1,
            ..SgdConfig::default()
        }
        .build(&store)
        .unwrap_err();
        assert!(matches!(err, Error::Arg(ArgError { name: "lr", .. })));
        let err = SgdConfig {
            weight_decay: WeightDecay::L2(-1.0),
            ..SgdConfig::default()
        }
        .build(&store);
        assert!(matches!(
            err,
            Err(Error::Arg(ArgError {
                name: "weight_decay",
                ..
            }))
        ));
    }
}
