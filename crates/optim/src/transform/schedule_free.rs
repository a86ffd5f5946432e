//! `schedule_free`: Defazio et al.'s schedule-free averaging around a base
//! chain (optax `contrib.schedule_free`).
//!
//! A wrapper around a whole inner chain (learning rate included) that keeps a
//! second set of weights in its state; `BlockTransform::eval_params` writes
//! them out, and `Optimizer::eval_params` rewrites a copy of the parameters
//! into that evaluation point.

use crate::buf::Bufs;
use crate::transform::{
    BlockTransform, Mask, Tensors, forward_to_inner, gradient_transform_via_blocks,
};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// Schedule-free averaging (Defazio et al. 2024) around a base optimizer.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleFree<T> {
    /// The base optimizer, learning rate included and without momentum
    /// (SGD, or Adam with β₁ = 0).
    pub inner: T,
    /// β₁ ∈ (0, 1]: the interpolation between the average `x` and `z`.
    pub b1: f64,
    /// The averaging weight of a step is `max_lr^weight_lr_power`.
    pub weight_lr_power: f64,
    /// optax's built-in linear warmup from 0 over this many steps, if any.
    pub warmup_steps: Option<u64>,
}

/// Wraps the base optimizer `inner` in schedule-free averaging.
///
/// The parameters the optimizer steps are `y`, where gradients are taken;
/// the state keeps `z` (the base optimizer's iterate, starting at the
/// parameters). Per step, with `lr` this step's rate, `max_lr` its running
/// maximum, `w = max_lrᵖ` and `c = w / Σw` (0 when both are 0):
/// `z′ = z + base update`, `x = (y − (1−β₁)z)/β₁` (the previous average),
/// `x′ = (1−c)x + c·z′`, `y′ = β₁x′ + (1−β₁)z′`.
/// [`Optimizer::eval_params`](crate::Optimizer::eval_params) gives `x′`,
/// the point to evaluate at (optax `schedule_free_eval_params`).
///
/// With `warmup_steps = Some(W)` the rate follows optax's
/// `warmup_constant_schedule(0, lr, W)`, `lr(c) = −lr·(1 − min(c, W)/W) + lr`,
/// over two counters as in optax: the base optimizer sees `lr(t − 1)` and the
/// averaging weight `lr(t)` at 1-based step `t` (`lr` being the
/// optimizer's rate, so a schedule set on the optimizer still applies).
/// Like optax (whose int32 step count makes JAX compute the schedule in
/// float32, even with x64 enabled), the warmup rate is computed in `f32`:
/// after the warmup the rate is `lr` rounded to `f32`, a relative change of
/// at most 6e-8.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::{chain, schedule_free, scale_by_learning_rate};
///
/// let sf_sgd = schedule_free(chain((scale_by_learning_rate(),)), 0.9, 2.0, Some(100));
/// assert_eq!(sf_sgd.b1, 0.9);
/// ```
pub fn schedule_free<T>(
    inner: T,
    b1: f64,
    weight_lr_power: f64,
    warmup_steps: Option<u64>,
) -> ScheduleFree<T> {
    ScheduleFree {
        inner,
        b1,
        weight_lr_power,
        warmup_steps,
    }
}

/// State of [`ScheduleFree`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound(
    serialize = "T: Serialize",
    deserialize = "T: serde::de::DeserializeOwned"
))]
pub struct ScheduleFreeState<S: Scalar, T> {
    /// The base optimizer's state.
    pub inner: T,
    /// The base iterates `z`.
    pub z: Bufs<S>,
    /// Σ of the averaging weights so far.
    #[serde(with = "crate::float")]
    pub weight_sum: f64,
    /// The running maximum of the rate.
    #[serde(with = "crate::float")]
    pub max_lr: f64,
    /// optax's `step_count`: 1 before the first step.
    pub step_count: u64,
}

/// Per-step scalars of [`ScheduleFree`].
#[derive(Clone, Copy, Debug)]
pub struct ScheduleFreeCoefs<C, S> {
    inner: C,
    b1: S,
    ck: S,
}

/// One element: parameter `y`, base update `u`, iterate `z`; returns the
/// update of `y` (optax's arithmetic).
#[inline(always)]
fn schedule_free_step<S: Scalar>(b1: S, ck: S, y: S, u: S, z: &mut S) -> S {
    let one = S::one();
    let z_new = *z + u;
    let prev_x = (y - (one - b1) * *z) / b1;
    let x = (one - ck) * prev_x + ck * z_new;
    *z = z_new;
    b1 * x + (one - b1) * z_new - y
}

impl<T> ScheduleFree<T> {
    /// optax's warmup schedule at count `c` for peak rate `lr`, in `f32`
    /// as optax computes it (see [`schedule_free`]).
    fn warm(&self, lr: f64, c: u64) -> f64 {
        match self.warmup_steps {
            Some(w) => {
                let frac = 1.0 - c.min(w) as f32 / w as f32;
                ((0.0 - lr) as f32 * frac + lr as f32) as f64
            }
            None => lr,
        }
    }

    fn finish<S: Scalar, C>(&self, c: &ScheduleFreeCoefs<C, S>, z: &mut [S], u: &mut [S], p: &[S]) {
        for ((u, z), &y) in u.iter_mut().zip(z.iter_mut()).zip(p) {
            *u = schedule_free_step(c.b1, c.ck, y, *u, z);
        }
    }
}

impl<S: Scalar, T: BlockTransform<S>> BlockTransform<S> for ScheduleFree<T> {
    type State = ScheduleFreeState<S, T::State>;
    type Coefs = ScheduleFreeCoefs<T::Coefs, S>;
    type View<'a> = (T::View<'a>, &'a mut [S]);

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        let z = Bufs::copy_of(params, mask);
        ScheduleFreeState {
            inner: self.inner.init_masked(params, mask),
            z,
            weight_sum: 0.0,
            max_lr: 0.0,
            step_count: 1,
        }
    }

    fn reads_input(&self) -> bool {
        self.inner.reads_input()
    }

    forward_to_inner!(check_params, hyperparam, momentum);

    fn prepare(
        &self,
        state: &mut Self::State,
        input: Tensors<'_, S>,
        params: &Params<S>,
        mask: Mask<'_>,
        ctx: &StepCtx,
    ) -> Self::Coefs {
        let lr = self.warm(ctx.lr, state.step_count);
        state.max_lr = if lr.is_nan() || state.max_lr.is_nan() {
            f64::NAN
        } else {
            state.max_lr.max(lr)
        };
        let weight = state.max_lr.powf(self.weight_lr_power);
        let total = state.weight_sum + weight;
        let ck = if weight.is_nan() || total.is_nan() {
            f64::NAN
        } else {
            let r = weight / total;
            if r.is_nan() { 0.0 } else { r }
        };
        let mut base_ctx = *ctx;
        base_ctx.lr = self.warm(ctx.lr, state.step_count.saturating_sub(1));
        let inner = self
            .inner
            .prepare(&mut state.inner, input, params, mask, &base_ctx);
        state.weight_sum = total;
        state.step_count += 1;
        ScheduleFreeCoefs {
            inner,
            b1: S::cast(self.b1),
            ck: S::cast(ck),
        }
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        self.inner.views(&mut state.inner).zip(state.z.slices_mut())
    }

    #[inline(always)]
    fn apply_block(&self, c: &Self::Coefs, (view, z): &mut Self::View<'_>, u: &mut [S], p: &[S]) {
        self.inner.apply_block(&c.inner, view, u, p);
        self.finish(c, z, u, p);
    }

    #[inline(always)]
    fn apply_block_from(
        &self,
        c: &Self::Coefs,
        (view, z): &mut Self::View<'_>,
        src: &[S],
        u: &mut [S],
        p: &[S],
    ) {
        self.inner.apply_block_from(&c.inner, view, src, u, p);
        self.finish(c, z, u, p);
    }

    /// `x = (y − (1−β₁)z)/β₁` (optax `schedule_free_eval_params`).
    fn eval_params(&self, state: &Self::State, params: &mut Params<S>, mask: Mask<'_>) {
        let b1 = S::cast(self.b1);
        let one = S::one();
        for ((id, v), z) in params.values_mut().zip(state.z.as_slices()) {
            if mask.contains(id) {
                for (y, &z) in v.as_mut_slice().iter_mut().zip(z) {
                    *y = (*y - (one - b1) * z) / b1;
                }
            }
        }
    }
}

gradient_transform_via_blocks!(ScheduleFree<T>, T: [crate::BlockTransform<S>]);

#[cfg(test)]
mod tests {
    use crate::ScheduleFreeSgdConfig;
    use crate::testing::store_of;
    use proptest::collection::vec;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// On a quadratic ½Σaᵢpᵢ² + bᵢpᵢ (aᵢ ∈ [0.5, 2]), the evaluation
        /// point `x` of schedule-free SGD converges to the minimum −b/a.
        #[test]
        fn schedule_free_sgd_eval_params_converge_to_a_quadratics_minimum(
            terms in vec((0.5f64..2.0, -3.0f64..3.0, -3.0f64..3.0), 1..5),
            lr in 0.05f64..0.5,
            b1 in 0.5f64..0.95,
            warmup in proptest::option::of(1u64..20),
        ) {
            let p0: Vec<f64> = terms.iter().map(|t| t.2).collect();
            let argmin: Vec<f64> = terms.iter().map(|(a, b, _)| -b / a).collect();
            let dist = |x: &[f64]| {
                x.iter().zip(&argmin).map(|(x, m)| (x - m).powi(2)).sum::<f64>().sqrt()
            };
            let mut store = store_of(std::slice::from_ref(&p0));
            let id = store.ids().next().unwrap();
            let cfg = ScheduleFreeSgdConfig { lr, b1, warmup_steps: warmup, ..Default::default() };
            let mut opt = cfg.build(&store).unwrap();
            for _ in 0..2000 {
                let y = store.value(id).clone();
                let g: Vec<f64> = terms.iter().zip(y.iter()).map(|((a, b, _), y)| a * y + b).collect();
                store.grad_mut(id).copy_from_slice(&g);
                opt.step(&mut store).unwrap();
            }
            let mut eval = store.params().clone();
            opt.eval_params(&mut eval).unwrap();
            let x = eval.value(id).as_slice().to_vec();
            prop_assert!(
                dist(&x) <= 1e-2 * dist(&p0).max(1e-3),
                "x = {:?}, minimum {:?}, start {:?}", x, argmin, p0
            );
        }
    }
}
