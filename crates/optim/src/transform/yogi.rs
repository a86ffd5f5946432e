//! `scale_by_yogi`: Yogi's additive second-moment update (optax).

use crate::buf::Bufs;
use crate::transform::{
    BlockTransform, Mask, MomentumKind, Tensors, gradient_transform_via_blocks,
};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// Yogi's scaling (optax `scale_by_yogi`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByYogi {
    /// β₁, the first moment's decay.
    pub b1: f64,
    /// β₂, the rate of the second moment's additive update.
    pub b2: f64,
    /// ε, added to the root.
    pub eps: f64,
    /// ε_root, added inside the root.
    pub eps_root: f64,
    /// The value both moments start at (optax: 1e-6).
    pub initial_accumulator_value: f64,
}

/// optax's `scale_by_yogi`: both moments start at
/// `initial_accumulator_value`; `m ← (1−β₁)g + β₁m`,
/// `v ← v − (1−β₂)·sign(v − g²)·g²`, and
/// `u ← (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ) + ε_root) + ε)`.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::scale_by_yogi;
///
/// // optax.yogi's stage: eps_root 0, moments starting at 1e-6.
/// let yogi = scale_by_yogi(0.9, 0.999, 1e-3, 0.0, 1e-6);
/// assert_eq!(yogi.initial_accumulator_value, 1e-6);
/// ```
pub fn scale_by_yogi(
    b1: f64,
    b2: f64,
    eps: f64,
    eps_root: f64,
    initial_accumulator_value: f64,
) -> ScaleByYogi {
    ScaleByYogi {
        b1,
        b2,
        eps,
        eps_root,
        initial_accumulator_value,
    }
}

/// State of [`ScaleByYogi`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ScaleByYogiState<S: Scalar> {
    /// Steps taken.
    pub count: u64,
    /// First moments.
    pub mu: Bufs<S>,
    /// Second moments.
    pub nu: Bufs<S>,
}

/// Per-step scalars of Yogi.
#[derive(Clone, Copy, Debug)]
pub struct YogiCoefs<S> {
    b1: S,
    w1: S,
    w2: S,
    eps: S,
    eps_root: S,
    bc1: S,
    bc2: S,
}

impl<S: Scalar> YogiCoefs<S> {
    /// One element: updates the moments, returns the scaled update.
    #[inline(always)]
    fn step(&self, g: S, m: &mut S, v: &mut S) -> S {
        *m = self.w1 * g + self.b1 * *m;
        let g2 = g * g;
        let d = *v - g2;
        // jnp.sign: 0 at 0.
        let sign = if d > S::zero() {
            S::one()
        } else if d < S::zero() {
            -S::one()
        } else {
            S::zero()
        };
        *v -= self.w2 * sign * g2;
        (*m / self.bc1) / ((*v / self.bc2 + self.eps_root).sqrt() + self.eps)
    }
}

impl<S: Scalar> BlockTransform<S> for ScaleByYogi {
    type State = ScaleByYogiState<S>;
    type Coefs = YogiCoefs<S>;
    type View<'a> = (&'a mut [S], &'a mut [S]);

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        let init = S::cast(self.initial_accumulator_value);
        ScaleByYogiState {
            count: 0,
            mu: Bufs::filled(params, mask, init),
            nu: Bufs::filled(params, mask, init),
        }
    }

    fn prepare(
        &self,
        state: &mut Self::State,
        _: Tensors<'_, S>,
        _: &Params<S>,
        _: Mask<'_>,
        ctx: &StepCtx,
    ) -> YogiCoefs<S> {
        state.count += 1;
        let t = state.count as f64;
        let b1 = ctx.momentum.unwrap_or(self.b1);
        YogiCoefs {
            b1: S::cast(b1),
            w1: S::cast(1.0 - b1),
            w2: S::cast(1.0 - self.b2),
            eps: S::cast(self.eps),
            eps_root: S::cast(self.eps_root),
            bc1: S::cast(1.0 - b1.powf(t)),
            bc2: S::cast(1.0 - self.b2.powf(t)),
        }
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        state.mu.slices_mut().zip(state.nu.slices_mut())
    }

    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        Some((MomentumKind::Beta1, self.b1))
    }

    #[inline(always)]
    fn apply_block(&self, c: &YogiCoefs<S>, (mu, nu): &mut Self::View<'_>, u: &mut [S], _p: &[S]) {
        for ((g, m), v) in u.iter_mut().zip(mu.iter_mut()).zip(nu.iter_mut()) {
            *g = c.step(*g, m, v);
        }
    }
}
gradient_transform_via_blocks!(ScaleByYogi);
