//! `scale_by_prodigy`: Prodigy's learning-rate-free Adam (optax `contrib.prodigy`).

use crate::buf::Bufs;
use crate::transform::{
    BlockTransform, Mask, MomentumKind, Tensors, gradient_transform_via_blocks,
};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// Prodigy (Mishchenko & Defazio 2023) as optax 0.2.8 computes it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByProdigy {
    /// β₁.
    pub b1: f64,
    /// β₂.
    pub b2: f64,
    /// β₃, the decay of the step-size estimate's sums; `None`: √β₂.
    pub beta3: Option<f64>,
    /// ε, scaled by the estimate d.
    pub eps: f64,
    /// d₀, the initial estimate of the distance to the solution.
    pub estim_lr0: f64,
    /// The estimate's multiplier.
    pub estim_lr_coef: f64,
    /// Decoupled weight decay, scaled by `d·lr`.
    pub weight_decay: f64,
    /// Leave the learning rate out of the denominator's sum (for warmup).
    pub safeguard_warmup: bool,
}

/// optax's `prodigy` (learning rate included: this stage's output is the
/// update itself, sign and rate included, as optax's). With `lr` the
/// optimizer's rate, `d` the estimate and `t` the 1-based step:
/// `dlr = d·lr·√(1−β₂ᵗ)/(1−β₁ᵗ)`; per element, `m ← β₁m + (1−β₁)d·g`,
/// `v ← β₂v + (1−β₂)(d·g)²`, `s ← β₃s + dlr·d·g/d₀` (`d·d·g/d₀` with
/// `safeguard_warmup`); over the group, `r ← β₃r + (d/d₀)·dlr·⟨g, p₀ − p⟩`,
/// `d′ = max(d, coef·r/Σ|s|)`; then `u = −λ·dlr·p − dlr·m/(√v + d′·ε)`.
///
/// Where optax's estimate becomes NaN (`r = Σ|s| = 0`, e.g. an all-zero
/// first gradient), `d` is kept instead.
///
/// The arguments are optax's, in its order (`betas = (b1, b2)`); the same
/// stage is the struct literal `ScaleByProdigy { .., ..Default::default() }`.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::{ScaleByProdigy, scale_by_prodigy};
///
/// let prodigy = scale_by_prodigy((0.9, 0.999), None, 1e-8, 1e-6, 1.0, 0.0, false);
/// assert_eq!(prodigy.estim_lr0, 1e-6);
/// assert_eq!(prodigy, ScaleByProdigy::default());
/// let warm = ScaleByProdigy { safeguard_warmup: true, ..Default::default() };
/// assert_eq!(warm.b2, 0.999);
/// ```
pub fn scale_by_prodigy(
    (b1, b2): (f64, f64),
    beta3: Option<f64>,
    eps: f64,
    estim_lr0: f64,
    estim_lr_coef: f64,
    weight_decay: f64,
    safeguard_warmup: bool,
) -> ScaleByProdigy {
    ScaleByProdigy {
        b1,
        b2,
        beta3,
        eps,
        estim_lr0,
        estim_lr_coef,
        weight_decay,
        safeguard_warmup,
    }
}

impl Default for ScaleByProdigy {
    /// optax's defaults: `betas = (0.9, 0.999)`, `beta3 = None` (√β₂),
    /// `eps = 1e-8`, `estim_lr0 = 1e-6`, `estim_lr_coef = 1`, no weight
    /// decay, no `safeguard_warmup`.
    fn default() -> Self {
        scale_by_prodigy((0.9, 0.999), None, 1e-8, 1e-6, 1.0, 0.0, false)
    }
}

/// State of [`ScaleByProdigy`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ScaleByProdigyState<S: Scalar> {
    /// Steps taken.
    pub count: u64,
    /// First moments of `d·g`.
    pub exp_avg: Bufs<S>,
    /// Second moments of `d·g`.
    pub exp_avg_sq: Bufs<S>,
    /// The weighted sums `s` of the denominator.
    pub grad_sum: Bufs<S>,
    /// The parameters at the start.
    pub params0: Bufs<S>,
    /// The current step-size estimate d (optax `estim_lr`).
    #[serde(with = "crate::float")]
    pub estim_lr: f64,
    /// The weighted numerator r.
    #[serde(with = "crate::float")]
    pub numerator_weighted: f64,
}

/// Per-step scalars of [`ScaleByProdigy`].
#[derive(Clone, Copy, Debug)]
pub struct ProdigyCoefs<S> {
    b1: S,
    w1: S,
    b2: S,
    w2: S,
    d: S,
    dlr: S,
    decay: S,
    eps: S,
}

impl<S: Scalar> ProdigyCoefs<S> {
    /// One element: updates the moments, returns the update.
    #[inline(always)]
    fn step(&self, g: S, p: S, m: &mut S, v: &mut S) -> S {
        let dg = self.d * g;
        *m = self.b1 * *m + self.w1 * dg;
        *v = self.b2 * *v + self.w2 * dg * dg;
        self.decay * self.dlr * p - self.dlr * *m / (v.sqrt() + self.eps)
    }
}

impl<S: Scalar> BlockTransform<S> for ScaleByProdigy {
    type State = ScaleByProdigyState<S>;
    type Coefs = ProdigyCoefs<S>;
    type View<'a> = (&'a mut [S], &'a mut [S]);

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        let params0 = Bufs::copy_of(params, mask);
        ScaleByProdigyState {
            count: 0,
            exp_avg: Bufs::zeros(params, mask),
            exp_avg_sq: Bufs::zeros(params, mask),
            grad_sum: Bufs::zeros(params, mask),
            params0,
            estim_lr: self.estim_lr0,
            numerator_weighted: 0.0,
        }
    }

    fn reads_input(&self) -> bool {
        true
    }

    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        Some((MomentumKind::Beta1, self.b1))
    }

    fn prepare(
        &self,
        state: &mut Self::State,
        input: Tensors<'_, S>,
        params: &Params<S>,
        mask: Mask<'_>,
        ctx: &StepCtx,
    ) -> ProdigyCoefs<S> {
        let b1 = ctx.momentum.unwrap_or(self.b1);
        let beta3 = self.beta3.unwrap_or(self.b2.sqrt());
        state.count += 1;
        let t = state.count as f64;
        let bc = (1.0 - self.b2.powf(t)).sqrt() / (1.0 - b1.powf(t));
        let d = state.estim_lr;
        let dlr = d * ctx.lr * bc;
        let sum_scale = if self.safeguard_warmup { d } else { dlr };
        let (mut dot, mut denominator) = (0.0, 0.0);
        for (((id, _, p), p0), s) in params
            .iter()
            .zip(state.params0.as_slices())
            .zip(state.grad_sum.slices_mut())
        {
            if !mask.contains(id) {
                continue;
            }
            let g = input.get(id);
            let mut tensor_dot = 0.0;
            let mut tensor_abs = 0.0;
            for (((&g, &p), &p0), s) in g.iter().zip(p.as_slice()).zip(p0).zip(s.iter_mut()) {
                let g = g.as_f64();
                tensor_dot += g * (p0.as_f64() - p.as_f64());
                let next = beta3 * s.as_f64() + sum_scale * (d * g) / self.estim_lr0;
                *s = S::cast(next);
                tensor_abs += s.as_f64().abs();
            }
            dot += tensor_dot;
            denominator += tensor_abs;
        }
        state.numerator_weighted =
            beta3 * state.numerator_weighted + (d / self.estim_lr0) * dlr * dot;
        let estimate = self.estim_lr_coef * state.numerator_weighted / denominator;
        // `>` is false for NaN: keep d where optax's estimate is NaN.
        if estimate > d {
            state.estim_lr = estimate;
        }
        ProdigyCoefs {
            b1: S::cast(b1),
            w1: S::cast(1.0 - b1),
            b2: S::cast(self.b2),
            w2: S::cast(1.0 - self.b2),
            d: S::cast(d),
            dlr: S::cast(dlr),
            decay: S::cast(-self.weight_decay),
            eps: S::cast(state.estim_lr * self.eps),
        }
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        state
            .exp_avg
            .slices_mut()
            .zip(state.exp_avg_sq.slices_mut())
    }

    #[inline(always)]
    fn apply_block(&self, c: &ProdigyCoefs<S>, (m, v): &mut Self::View<'_>, u: &mut [S], p: &[S]) {
        for (((g, m), v), &p) in u.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(p) {
            *g = c.step(*g, p, m, v);
        }
    }
}
gradient_transform_via_blocks!(ScaleByProdigy);
