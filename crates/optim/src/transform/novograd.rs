//! `scale_by_novograd`: NovoGrad's layer-wise second moment (optax).

use crate::buf::Bufs;
use crate::transform::per_tensor::{Each, PerTensor, norm};
use crate::transform::{
    BlockTransform, Mask, MomentumKind, Tensors, gradient_transform_via_blocks,
};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// NovoGrad's scaling (optax `scale_by_novograd`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByNovograd {
    /// β₁, the first moment's decay (no bias correction).
    pub b1: f64,
    /// β₂, the decay of the per-tensor second moment.
    pub b2: f64,
    /// ε, added to the root.
    pub eps: f64,
    /// ε_root, added inside the root.
    pub eps_root: f64,
    /// Weight decay λ, added to the normalised gradient.
    pub weight_decay: f64,
}

/// optax's `scale_by_novograd`. Per tensor, `n = ‖g‖²`; `v ← n` on the first
/// step, then `v ← (1−β₂)n + β₂v` (one scalar per tensor). Per element,
/// `a = g/(√(v + ε_root) + ε) + λp`; `m ← a` on the first step, then
/// `m ← β₁m + a`; `u ← m`.
///
/// # Examples
///
/// ```
/// use descent_core::{GradientTransform, ParamStore, StepCtx, Tags};
/// use descent_optim::transform::scale_by_novograd;
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::zeros(1, 2))?;
/// store.grad_mut(w).copy_from_slice(&[3.0, 4.0]);
/// let novograd = scale_by_novograd(0.9, 0.25, 0.0, 0.0, 0.0);
/// let mut state = novograd.init(store.params());
/// let (params, grads) = store.split_mut();
/// novograd.update(grads, &mut state, params, &StepCtx::new(0, 1.0));
/// // The gradient divided by its tensor's norm, 5.
/// assert_eq!(store.grad(w).as_slice(), &[0.6, 0.8]);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub fn scale_by_novograd(
    b1: f64,
    b2: f64,
    eps: f64,
    eps_root: f64,
    weight_decay: f64,
) -> ScaleByNovograd {
    ScaleByNovograd {
        b1,
        b2,
        eps,
        eps_root,
        weight_decay,
    }
}

/// State of [`ScaleByNovograd`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ScaleByNovogradState<S: Scalar> {
    /// Steps taken.
    pub count: u64,
    /// First moments.
    pub mu: Bufs<S>,
    /// The second moment of each tensor (0 outside the mask).
    pub nu: PerTensor,
}

/// Per-step scalars of NovoGrad.
#[derive(Clone, Copy, Debug)]
pub struct NovogradCoefs<S> {
    first: bool,
    b1: S,
    weight_decay: S,
}

impl<S: Scalar> NovogradCoefs<S> {
    /// One element: `denom` is its tensor's `√(v + ε_root) + ε`.
    #[inline(always)]
    fn step(&self, g: S, p: S, m: &mut S, denom: S) -> S {
        let a = g / denom + self.weight_decay * p;
        *m = if self.first { a } else { self.b1 * *m + a };
        *m
    }
}

impl<S: Scalar> BlockTransform<S> for ScaleByNovograd {
    type State = ScaleByNovogradState<S>;
    type Coefs = NovogradCoefs<S>;
    type View<'a> = (&'a mut [S], Each<S>);

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        ScaleByNovogradState {
            count: 0,
            mu: Bufs::zeros(params, mask),
            nu: PerTensor(vec![0.0; params.len()]),
        }
    }

    fn reads_input(&self) -> bool {
        true
    }

    fn prepare(
        &self,
        state: &mut Self::State,
        input: Tensors<'_, S>,
        params: &Params<S>,
        mask: Mask<'_>,
        ctx: &StepCtx,
    ) -> NovogradCoefs<S> {
        state.count += 1;
        let first = state.count == 1;
        for (id, _, _) in params.iter() {
            if mask.contains(id) {
                let n = norm(input.get(id)).powi(2);
                let v = &mut state.nu.0[id.index()];
                *v = if first {
                    n
                } else {
                    (1.0 - self.b2) * n + self.b2 * *v
                };
            }
        }
        NovogradCoefs {
            first,
            b1: S::cast(ctx.momentum.unwrap_or(self.b1)),
            weight_decay: S::cast(self.weight_decay),
        }
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        let (eps, eps_root) = (self.eps, self.eps_root);
        let denoms = state
            .nu
            .0
            .iter()
            .map(move |&v| Each(S::cast((v + eps_root).sqrt() + eps)));
        state.mu.slices_mut().zip(denoms)
    }

    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        Some((MomentumKind::Beta1, self.b1))
    }

    #[inline(always)]
    fn apply_block(&self, c: &NovogradCoefs<S>, view: &mut Self::View<'_>, u: &mut [S], p: &[S]) {
        let (mu, denom) = view;
        for ((g, m), &p) in u.iter_mut().zip(mu.iter_mut()).zip(p) {
            *g = c.step(*g, p, m, denom.0);
        }
    }
}
gradient_transform_via_blocks!(ScaleByNovograd);
