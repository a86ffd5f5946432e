//! Weight-decay stages: coupled L2 and L1 terms, lr-scaled and schedule-scaled decoupled decay.

use crate::transform::{ElementRule, Hyper, gradient_transform_via_blocks};
use descent_core::{Scalar, StepCtx};

/// Adds `weight_decay · p` to the updates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AddDecayedWeights {
    /// The coefficient λ.
    pub weight_decay: f64,
}

/// `u ← u + λ·p`. Before an adaptive stage it is the L2 gradient (PyTorch's
/// `weight_decay` of SGD and Adam); after it and before
/// [`scale_by_learning_rate`](crate::transform::scale_by_learning_rate) it is
/// AdamW's decoupled decay `p ← p − lr·λ·p`.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::add_decayed_weights;
///
/// assert_eq!(add_decayed_weights(0.01).weight_decay, 0.01);
/// ```
pub fn add_decayed_weights(weight_decay: f64) -> AddDecayedWeights {
    AddDecayedWeights { weight_decay }
}

impl ElementRule for AddDecayedWeights {
    fn coef(&self, ctx: &StepCtx) -> f64 {
        ctx.weight_decay.unwrap_or(self.weight_decay)
    }

    #[inline(always)]
    fn apply<S: Scalar>(&self, wd: S, u: S, p: S) -> S {
        u + p * wd
    }

    fn hyperparam(&self, key: Hyper) -> Option<f64> {
        (key == Hyper::WeightDecay).then_some(self.weight_decay)
    }
}
gradient_transform_via_blocks!(AddDecayedWeights);

/// Adds `λ · sign(p)` to the updates, the subgradient of `λ·‖p‖₁` (0 at 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AddL1Decay {
    /// The coefficient λ.
    pub weight_decay: f64,
}

/// `u ← u + λ·sign(p)`, with `sign(0) = 0`.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::add_l1_decay;
///
/// assert_eq!(add_l1_decay(1e-4).weight_decay, 1e-4);
/// ```
pub fn add_l1_decay(weight_decay: f64) -> AddL1Decay {
    AddL1Decay { weight_decay }
}

impl ElementRule for AddL1Decay {
    fn coef(&self, ctx: &StepCtx) -> f64 {
        ctx.weight_decay.unwrap_or(self.weight_decay)
    }

    #[inline(always)]
    fn apply<S: Scalar>(&self, wd: S, u: S, p: S) -> S {
        if p > S::zero() {
            u + wd
        } else if p < S::zero() {
            u - wd
        } else {
            u
        }
    }

    fn hyperparam(&self, key: Hyper) -> Option<f64> {
        (key == Hyper::WeightDecay).then_some(self.weight_decay)
    }
}
gradient_transform_via_blocks!(AddL1Decay);

/// Decoupled weight decay scaled only by the learning-rate multiplier η_t
/// (`StepCtx::lr_multiplier`), as in Loshchilov & Hutter:
/// `p ← p − η_t·λ·p`, independent of the learning rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AddScheduledWeightDecay {
    /// The coefficient λ.
    pub weight_decay: f64,
}

/// `u ← u − η_t·λ·p`. It works in parameter space, so it goes *after*
/// [`scale_by_learning_rate`](crate::transform::scale_by_learning_rate).
///
/// # Examples
///
/// ```
/// use descent_optim::transform::{add_scheduled_weight_decay, chain, scale_by_adam, scale_by_learning_rate};
///
/// // AdamW as Loshchilov & Hutter wrote it: decay not multiplied by the learning rate.
/// let adamw_lh = chain((scale_by_adam(0.9, 0.999, 1e-8, false), scale_by_learning_rate(), add_scheduled_weight_decay(1e-4)));
/// assert_eq!(adamw_lh.0.2.weight_decay, 1e-4);
/// ```
pub fn add_scheduled_weight_decay(weight_decay: f64) -> AddScheduledWeightDecay {
    AddScheduledWeightDecay { weight_decay }
}

impl ElementRule for AddScheduledWeightDecay {
    fn coef(&self, ctx: &StepCtx) -> f64 {
        -ctx.weight_decay.unwrap_or(self.weight_decay) * ctx.lr_multiplier
    }

    #[inline(always)]
    fn apply<S: Scalar>(&self, k: S, u: S, p: S) -> S {
        u + p * k
    }

    fn hyperparam(&self, key: Hyper) -> Option<f64> {
        (key == Hyper::WeightDecay).then_some(self.weight_decay)
    }
}
gradient_transform_via_blocks!(AddScheduledWeightDecay);

#[cfg(test)]
mod tests {
    use super::*;
    use descent_core::{GradientTransform, ParamStore, Tags};
    use nalgebra::DMatrix;

    #[test]
    fn l1_decay_adds_the_sign_with_zero_subgradient_at_zero() {
        let mut store = ParamStore::<f32>::new();
        let w = store
            .register(
                "w",
                Tags::WEIGHT,
                DMatrix::from_row_slice(1, 3, &[-2.0, 0.0, 0.5]),
            )
            .unwrap();
        let l1 = add_l1_decay(0.25);
        let (params, grads) = store.split_mut();
        l1.update(grads, &mut (), params, &StepCtx::new(0, 1.0));
        assert_eq!(store.grad(w).as_slice(), &[-0.25, 0.0, 0.25]);
    }

    #[test]
    fn scheduled_decay_follows_the_multiplier_not_the_learning_rate() {
        let mut store = ParamStore::<f64>::new();
        let w = store
            .register("w", Tags::WEIGHT, DMatrix::from_element(1, 1, 2.0))
            .unwrap();
        let ctx = StepCtx::new(3, 123.0).with_lr_multiplier(0.5);
        let (params, grads) = store.split_mut();
        add_scheduled_weight_decay(0.1).update(grads, &mut (), params, &ctx);
        assert_eq!(store.grad(w)[0], -0.1 * 0.5 * 2.0);
    }
}
