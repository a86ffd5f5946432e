//! `masked`: apply a transform to the selected parameters only.

use crate::transform::{
    BlockTransform, Mask, Tensors, forward_to_inner, gradient_transform_via_blocks,
};
use descent_core::Selector;
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// A transform restricted to the parameters a [`Selector`] picks; the others
/// pass through unchanged and get no state (optax `masked`).
#[derive(Clone, Debug, PartialEq)]
pub struct Masked<T> {
    /// The transform applied to the selection.
    pub inner: T,
    /// Which parameters it applies to.
    pub selector: Selector,
}

/// Applies `inner` only to the parameters `selector` picks.
///
/// # Examples
///
/// ```
/// use descent_core::Tags;
/// use descent_optim::Selector;
/// use descent_optim::transform::{add_decayed_weights, masked};
///
/// // Weight decay on weights only, not on biases or norm parameters.
/// let decay = masked(add_decayed_weights(0.01), Selector::tags(Tags::BIAS | Tags::NORM).not());
/// assert_eq!(decay.inner.weight_decay, 0.01);
/// ```
pub fn masked<T>(inner: T, selector: Selector) -> Masked<T> {
    Masked { inner, selector }
}

/// State of [`Masked`]: the selection (fixed at init) and the inner state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MaskedState<T> {
    /// One flag per parameter.
    pub mask: Vec<bool>,
    /// The inner transform's state, kept for the selection only.
    pub inner: T,
}

impl<S: Scalar, T: BlockTransform<S>> BlockTransform<S> for Masked<T> {
    type State = MaskedState<T::State>;
    type Coefs = T::Coefs;
    type View<'a> = Option<T::View<'a>>;

    fn init_masked(&self, params: &Params<S>, outer: Mask<'_>) -> Self::State {
        let mask: Vec<bool> = params
            .iter()
            .map(|(id, meta, _)| outer.contains(id) && self.selector.matches(meta))
            .collect();
        let inner = self.inner.init_masked(params, Mask::new(&mask));
        MaskedState { mask, inner }
    }

    fn reads_input(&self) -> bool {
        self.inner.reads_input()
    }

    fn check_params(&self, params: &Params<S>, outer: Mask<'_>) -> crate::Result<()> {
        let mask: Vec<bool> = params
            .iter()
            .map(|(id, meta, _)| outer.contains(id) && self.selector.matches(meta))
            .collect();
        self.inner.check_params(params, Mask::new(&mask))
    }

    forward_to_inner!(momentum, hyperparam);

    fn eval_params(&self, state: &Self::State, params: &mut Params<S>, _outer: Mask<'_>) {
        self.inner
            .eval_params(&state.inner, params, Mask::new(&state.mask));
    }

    fn prepare(
        &self,
        state: &mut Self::State,
        input: Tensors<'_, S>,
        params: &Params<S>,
        _outer: Mask<'_>,
        ctx: &StepCtx,
    ) -> T::Coefs {
        self.inner
            .prepare(&mut state.inner, input, params, Mask::new(&state.mask), ctx)
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        let inner = self.inner.views(&mut state.inner);
        state.mask.iter().zip(inner).map(|(&m, v)| m.then_some(v))
    }

    #[inline(always)]
    fn apply_block(&self, coefs: &T::Coefs, view: &mut Self::View<'_>, u: &mut [S], p: &[S]) {
        if let Some(v) = view {
            self.inner.apply_block(coefs, v, u, p);
        }
    }

    #[inline(always)]
    fn apply_block_from(
        &self,
        coefs: &T::Coefs,
        view: &mut Self::View<'_>,
        src: &[S],
        u: &mut [S],
        p: &[S],
    ) {
        match view {
            Some(v) => self.inner.apply_block_from(coefs, v, src, u, p),
            None => u.copy_from_slice(src),
        }
    }
}

gradient_transform_via_blocks!(Masked<T>, T: [crate::BlockTransform<S>]);
