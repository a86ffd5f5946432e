//! `scale_by_optax_adam` and `scale_by_belief`: optax's Adam (with `eps_root`
//! and Nesterov) and AdaBelief, which share their moments, bias corrections
//! and Nesterov form and differ in what the second moment tracks.

use crate::buf::Bufs;
use crate::transform::{
    BlockTransform, Mask, MomentumKind, Tensors, gradient_transform_via_blocks,
};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// optax's `scale_by_adam`: `eps_root` inside the root, optional Nesterov.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByOptaxAdam {
    /// β₁, the first moment's decay.
    pub b1: f64,
    /// β₂, the second moment's decay.
    pub b2: f64,
    /// ε, added to the root.
    pub eps: f64,
    /// ε_root, added inside the root.
    pub eps_root: f64,
    /// Nesterov's form of the bias-corrected first moment (NAdam's, as optax writes it).
    pub nesterov: bool,
}

/// optax's `scale_by_adam(b1, b2, eps, eps_root, nesterov=...)`:
/// `m ← (1−β₁)g + β₁m`, `v ← (1−β₂)g² + β₂v`,
/// `u ← m̂ / (√(v/(1−β₂ᵗ) + ε_root) + ε)` with `m̂ = m/(1−β₁ᵗ)`, or with
/// Nesterov `m̂ = β₁·m/(1−β₁ᵗ⁺¹) + (1−β₁)·g/(1−β₁ᵗ)`.
///
/// It differs from PyTorch's [`scale_by_adam`](crate::transform::scale_by_adam)
/// in where ε_root sits and in its Nesterov form; with ε_root = 0 and no
/// Nesterov the two agree up to rounding.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::scale_by_optax_adam;
///
/// let adam = scale_by_optax_adam(0.9, 0.999, 1e-8, 0.0, true);
/// assert!(adam.nesterov);
/// ```
pub fn scale_by_optax_adam(
    b1: f64,
    b2: f64,
    eps: f64,
    eps_root: f64,
    nesterov: bool,
) -> ScaleByOptaxAdam {
    ScaleByOptaxAdam {
        b1,
        b2,
        eps,
        eps_root,
        nesterov,
    }
}

/// optax's AdaBelief scaling (`scale_by_belief`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByBelief {
    /// β₁, the first moment's decay.
    pub b1: f64,
    /// β₂, the decay of the second moment of the prediction error.
    pub b2: f64,
    /// ε, added to the root.
    pub eps: f64,
    /// ε_root, added to the second moment at every step (and kept in it).
    pub eps_root: f64,
    /// Nesterov's form of the bias-corrected first moment.
    pub nesterov: bool,
}

/// optax's `scale_by_belief`: `m ← (1−β₁)g + β₁m`,
/// `s ← (1−β₂)(g−m)² + β₂s + ε_root` (the *new* `m`), and
/// `u ← m̂ / (√(s/(1−β₂ᵗ)) + ε)` with `m̂` as in [`scale_by_optax_adam`].
///
/// # Examples
///
/// ```
/// use descent_core::{GradientTransform, ParamStore, StepCtx, Tags};
/// use descent_optim::transform::scale_by_belief;
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::zeros(1, 1))?;
/// store.grad_mut(w).fill(2.0);
/// let belief = scale_by_belief(0.9, 0.999, 1e-16, 1e-16, false);
/// let mut state = belief.init(store.params());
/// let (params, grads) = store.split_mut();
/// belief.update(grads, &mut state, params, &StepCtx::new(0, 1.0));
/// // First step: m̂ = g, ŝ = (0.9·g)² (plus ε_root), so u = 1/0.9.
/// assert!((store.grad(w)[0] - 1.0 / 0.9).abs() < 1e-9);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub fn scale_by_belief(b1: f64, b2: f64, eps: f64, eps_root: f64, nesterov: bool) -> ScaleByBelief {
    ScaleByBelief {
        b1,
        b2,
        eps,
        eps_root,
        nesterov,
    }
}

/// State of [`ScaleByOptaxAdam`] and [`ScaleByBelief`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ScaleByMomentsState<S: Scalar> {
    /// Steps taken.
    pub count: u64,
    /// First moments.
    pub mu: Bufs<S>,
    /// Second moments (of the gradient, or of the prediction error).
    pub nu: Bufs<S>,
}

/// Per-step scalars of the optax Adam family.
#[derive(Clone, Copy, Debug)]
pub struct MomentCoefs<S> {
    b1: S,
    w1: S,
    b2: S,
    w2: S,
    eps: S,
    eps_root: S,
    bc1: S,
    bc1_next: S,
    bc2: S,
    nesterov: bool,
    belief: bool,
}

impl<S: Scalar> MomentCoefs<S> {
    fn new(
        b1: f64,
        b2: f64,
        eps: f64,
        eps_root: f64,
        nesterov: bool,
        belief: bool,
        t: u64,
    ) -> Self {
        let t = t as f64;
        MomentCoefs {
            b1: S::cast(b1),
            w1: S::cast(1.0 - b1),
            b2: S::cast(b2),
            w2: S::cast(1.0 - b2),
            eps: S::cast(eps),
            eps_root: S::cast(eps_root),
            bc1: S::cast(1.0 - b1.powf(t)),
            bc1_next: S::cast(1.0 - b1.powf(t + 1.0)),
            bc2: S::cast(1.0 - b2.powf(t)),
            nesterov,
            belief,
        }
    }

    /// One element, in optax's order of operations: updates the moments,
    /// returns the scaled update.
    #[inline(always)]
    fn step(&self, g: S, m: &mut S, v: &mut S) -> S {
        *m = self.w1 * g + self.b1 * *m;
        let m_hat = if self.nesterov {
            self.b1 * (*m / self.bc1_next) + self.w1 * (g / self.bc1)
        } else {
            *m / self.bc1
        };
        if self.belief {
            let e = g - *m;
            *v = self.w2 * (e * e) + self.b2 * *v + self.eps_root;
            m_hat / ((*v / self.bc2).sqrt() + self.eps)
        } else {
            *v = self.w2 * (g * g) + self.b2 * *v;
            m_hat / ((*v / self.bc2 + self.eps_root).sqrt() + self.eps)
        }
    }
}

macro_rules! moments_stage {
    ($ty:ty, $belief:expr) => {
        impl<S: Scalar> BlockTransform<S> for $ty {
            type State = ScaleByMomentsState<S>;
            type Coefs = MomentCoefs<S>;
            type View<'a> = (&'a mut [S], &'a mut [S]);

            fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
                ScaleByMomentsState {
                    count: 0,
                    mu: Bufs::zeros(params, mask),
                    nu: Bufs::zeros(params, mask),
                }
            }

            fn prepare(
                &self,
                state: &mut Self::State,
                _: Tensors<'_, S>,
                _: &Params<S>,
                _: Mask<'_>,
                ctx: &StepCtx,
            ) -> MomentCoefs<S> {
                state.count += 1;
                let b1 = ctx.momentum.unwrap_or(self.b1);
                MomentCoefs::new(
                    b1,
                    self.b2,
                    self.eps,
                    self.eps_root,
                    self.nesterov,
                    $belief,
                    state.count,
                )
            }

            fn views<'a>(
                &self,
                state: &'a mut Self::State,
            ) -> impl Iterator<Item = Self::View<'a>> {
                state.mu.slices_mut().zip(state.nu.slices_mut())
            }

            fn momentum(&self) -> Option<(MomentumKind, f64)> {
                Some((MomentumKind::Beta1, self.b1))
            }

            #[inline(always)]
            fn apply_block(
                &self,
                c: &MomentCoefs<S>,
                (mu, nu): &mut Self::View<'_>,
                u: &mut [S],
                _p: &[S],
            ) {
                for ((g, m), v) in u.iter_mut().zip(mu.iter_mut()).zip(nu.iter_mut()) {
                    *g = c.step(*g, m, v);
                }
            }
        }
        gradient_transform_via_blocks!($ty);
    };
}

moments_stage!(ScaleByOptaxAdam, false);
moments_stage!(ScaleByBelief, true);
