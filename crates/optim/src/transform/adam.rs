//! `scale_by_adam`: Adam's bias-corrected moment ratio, with AMSGrad.

use crate::buf::{Bufs, optional_slices};
use crate::transform::{ElementStage, Hyper, Mask, MomentumKind, gradient_transform_via_blocks};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// Adam's scaling (PyTorch `Adam` without lr and weight decay).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByAdam {
    /// β₁, the first moment's decay.
    pub b1: f64,
    /// β₂, the second moment's decay.
    pub b2: f64,
    /// ε, added to the bias-corrected root of the second moment.
    pub eps: f64,
    /// Use the running maximum of the second moment (AMSGrad).
    pub amsgrad: bool,
}

/// `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
/// `u ← (m/(1−β₁ᵗ)) / (√v̂/√(1−β₂ᵗ) + ε)` with `v̂ = v`, or `max(v̂, v)` under AMSGrad:
/// PyTorch's exact rule and ε placement.
///
/// # Examples
///
/// ```
/// use descent_core::{GradientTransform, ParamStore, StepCtx, Tags};
/// use descent_optim::transform::scale_by_adam;
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::zeros(1, 1))?;
/// store.grad_mut(w).fill(-3.0);
/// let adam = scale_by_adam(0.9, 0.999, 1e-8, false);
/// let mut state = adam.init(store.params());
/// let (params, grads) = store.split_mut();
/// adam.update(grads, &mut state, params, &StepCtx::new(0, 1.0));
/// // The first step of Adam moves by about 1 in the gradient's direction.
/// assert!((store.grad(w)[0] + 1.0).abs() < 1e-6);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub fn scale_by_adam(b1: f64, b2: f64, eps: f64, amsgrad: bool) -> ScaleByAdam {
    ScaleByAdam {
        b1,
        b2,
        eps,
        amsgrad,
    }
}

/// State of [`ScaleByAdam`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ScaleByAdamState<S: Scalar> {
    /// Steps taken.
    pub count: u64,
    /// First moments.
    pub mu: Bufs<S>,
    /// Second moments.
    pub nu: Bufs<S>,
    /// Running maxima of the second moments (AMSGrad only).
    pub nu_max: Option<Bufs<S>>,
}

/// Per-step scalars of Adam.
#[derive(Clone, Copy, Debug)]
pub struct AdamCoefs<S> {
    w1: S,
    b2: S,
    w2: S,
    inv_bc1: S,
    inv_sqrt_bc2: S,
    eps: S,
}

impl ElementStage for ScaleByAdam {
    type State<S: Scalar> = ScaleByAdamState<S>;
    type Coefs<S: Scalar> = AdamCoefs<S>;
    type Lane<S: Scalar> = (S, S, Option<S>);
    type View<'a, S: Scalar> = (&'a mut [S], &'a mut [S], Option<&'a mut [S]>);

    fn init_masked<S: Scalar>(&self, params: &Params<S>, mask: Mask<'_>) -> ScaleByAdamState<S> {
        ScaleByAdamState {
            count: 0,
            mu: Bufs::zeros(params, mask),
            nu: Bufs::zeros(params, mask),
            nu_max: self.amsgrad.then(|| Bufs::zeros(params, mask)),
        }
    }

    fn prepare<S: Scalar>(&self, state: &mut ScaleByAdamState<S>, ctx: &StepCtx) -> AdamCoefs<S> {
        let b1 = ctx.momentum.unwrap_or(self.b1);
        let b2 = ctx.beta2.unwrap_or(self.b2);
        state.count += 1;
        let t = state.count as f64;
        let bc1 = 1.0 - b1.powf(t);
        let bc2 = 1.0 - b2.powf(t);
        AdamCoefs {
            w1: S::cast(1.0 - b1),
            b2: S::cast(b2),
            w2: S::cast(1.0 - b2),
            inv_bc1: S::cast(1.0 / bc1),
            inv_sqrt_bc2: S::cast(1.0 / bc2.sqrt()),
            eps: S::cast(ctx.eps.unwrap_or(self.eps)),
        }
    }

    fn views<'a, S: Scalar>(
        &self,
        state: &'a mut ScaleByAdamState<S>,
    ) -> impl Iterator<Item = Self::View<'a, S>> {
        let max = optional_slices(&mut state.nu_max);
        let moments = state.mu.slices_mut().zip(state.nu.slices_mut());
        moments.zip(max).map(|((m, v), x)| (m, v, x))
    }

    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        Some((MomentumKind::Beta1, self.b1))
    }

    fn hyperparam(&self, key: Hyper) -> Option<f64> {
        key.beta2_eps(self.b2, self.eps)
    }

    /// `m ← m + (g − m)(1−β₁)`, `v ← β₂v + (1−β₂)g²`, AMSGrad's maximum, the ratio.
    #[inline(always)]
    fn element<S: Scalar>(&self, c: &AdamCoefs<S>, g: S, _p: S, s: &mut (S, S, Option<S>)) -> S {
        let (m, v, v_max) = s;
        *m += (g - *m) * c.w1;
        *v = *v * c.b2 + g * g * c.w2;
        let v_hat = match v_max {
            Some(x) => {
                if *v > *x {
                    *x = *v;
                }
                *x
            }
            None => *v,
        };
        (*m * c.inv_bc1) / (v_hat.sqrt() * c.inv_sqrt_bc2 + c.eps)
    }
}
gradient_transform_via_blocks!(ScaleByAdam);
