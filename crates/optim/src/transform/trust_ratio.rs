//! `scale_by_trust_ratio`: LARS's and LAMB's layer-wise trust ratio (optax).

use crate::transform::per_tensor::{Each, norm};
use crate::transform::{BlockTransform, Mask, Tensors, gradient_transform_via_blocks};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// Scales each parameter tensor's update by its trust ratio (optax
/// `scale_by_trust_ratio`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByTrustRatio {
    /// Norms below this are raised to it (optax `min_norm`, 0 by default).
    pub min_norm: f64,
    /// The coefficient η of the ratio (LARS: 0.001; LAMB: 1).
    pub trust_coefficient: f64,
    /// Added to the update's norm in the denominator.
    pub eps: f64,
}

/// Per tensor, `u ← u · r` with `r = η·‖p‖ / (‖u‖ + ε)`, and `r = 1` when
/// either norm is 0; each norm is first raised to `min_norm`.
///
/// The norms are over the whole tensor (one optax leaf): the stage reads its
/// input in full before scaling, so in a [`chain`](crate::transform::chain)
/// the stages before it are applied first, into a workspace.
///
/// # Examples
///
/// ```
/// use descent_core::{GradientTransform, ParamStore, StepCtx, Tags};
/// use descent_optim::transform::scale_by_trust_ratio;
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_row_slice(1, 2, &[3.0, 4.0]))?;
/// store.grad_mut(w).copy_from_slice(&[0.0, 0.5]);
/// let trust = scale_by_trust_ratio(0.0, 1.0, 0.0);
/// let mut state = trust.init(store.params());
/// let (params, grads) = store.split_mut();
/// trust.update(grads, &mut state, params, &StepCtx::new(0, 1.0));
/// // ‖p‖ = 5, ‖u‖ = 0.5: the update is scaled to the parameter's norm.
/// assert_eq!(store.grad(w).as_slice(), &[0.0, 5.0]);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub fn scale_by_trust_ratio(min_norm: f64, trust_coefficient: f64, eps: f64) -> ScaleByTrustRatio {
    ScaleByTrustRatio {
        min_norm,
        trust_coefficient,
        eps,
    }
}

impl ScaleByTrustRatio {
    /// The trust ratio of one tensor, from its parameter and update norms.
    pub fn ratio(&self, param_norm: f64, update_norm: f64) -> f64 {
        let pn = param_norm.max(self.min_norm);
        let un = update_norm.max(self.min_norm);
        if pn == 0.0 || un == 0.0 {
            1.0
        } else {
            self.trust_coefficient * pn / (un + self.eps)
        }
    }
}

/// State of [`ScaleByTrustRatio`]: the ratios of the current step, one per
/// parameter, recomputed by every `prepare` (not saved).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScaleByTrustRatioState {
    #[serde(skip)]
    ratios: Vec<f64>,
}

impl<S: Scalar> BlockTransform<S> for ScaleByTrustRatio {
    type State = ScaleByTrustRatioState;
    type Coefs = ();
    type View<'a> = Each<S>;

    fn init_masked(&self, _: &Params<S>, _: Mask<'_>) -> Self::State {
        ScaleByTrustRatioState::default()
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
        _: &StepCtx,
    ) {
        state.ratios = params
            .iter()
            .map(|(id, _, p)| {
                if mask.contains(id) {
                    self.ratio(norm(p.as_slice()), norm(input.get(id)))
                } else {
                    1.0
                }
            })
            .collect();
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        // Endless: a chain zips every stage's views before this one's prepare.
        let ones = std::iter::repeat(Each(S::one()));
        state.ratios.iter().map(|&r| Each(S::cast(r))).chain(ones)
    }

    #[inline(always)]
    fn apply_block(&self, _: &(), r: &mut Each<S>, u: &mut [S], _p: &[S]) {
        for u in u.iter_mut() {
            *u *= r.0;
        }
    }
}
gradient_transform_via_blocks!(ScaleByTrustRatio);
