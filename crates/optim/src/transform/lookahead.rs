//! `lookahead`: slow and fast weights around any inner chain (optax).
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

/// Lookahead (Zhang et al. 2019) around a fast optimizer `inner` (optax `lookahead`).
#[derive(Clone, Debug, PartialEq)]
pub struct Lookahead<T> {
    /// The fast optimizer: a whole chain, learning rate included.
    pub inner: T,
    /// k: the slow weights move every `sync_period` steps (at least 1).
    pub sync_period: u64,
    /// α: how far the slow weights move towards the fast ones.
    pub slow_step_size: f64,
    /// Reset the fast optimizer's state at every synchronisation.
    pub reset_state: bool,
}

/// Wraps the fast optimizer `inner` in Lookahead.
///
/// The parameters the optimizer steps are the *fast* weights; the slow
/// weights start equal to them and live in this stage's state
/// ([`Optimizer::eval_params`](crate::Optimizer::eval_params) writes them
/// out). Every step applies `inner`'s update `u` to the fast weights; on
/// 1-based steps that are multiples of `sync_period`, then, with
/// `d = f + u − s`, the slow weights move `s ← s + α·d` and the fast ones
/// restart from them, `f ← f + u − (1−α)·d` (optax's arithmetic). With
/// `reset_state`, the fast optimizer's state is reset to its initial value
/// after a synchronisation (on the next step's `prepare`: a state saved
/// right after a synchronisation still holds the old moments, and resumes
/// identically).
///
/// # Examples
///
/// ```
/// use descent_optim::transform::{chain, lookahead, scale_by_learning_rate, scale_by_optax_adam};
///
/// let fast = chain((scale_by_optax_adam(0.9, 0.999, 1e-8, 0.0, false), scale_by_learning_rate()));
/// let la = lookahead(fast, 5, 0.5, false);
/// assert_eq!(la.sync_period, 5);
/// ```
pub fn lookahead<T>(
    inner: T,
    sync_period: u64,
    slow_step_size: f64,
    reset_state: bool,
) -> Lookahead<T> {
    Lookahead {
        inner,
        sync_period,
        slow_step_size,
        reset_state,
    }
}

/// State of [`Lookahead`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound(
    serialize = "T: Serialize",
    deserialize = "T: serde::de::DeserializeOwned"
))]
pub struct LookaheadState<S: Scalar, T> {
    /// The fast optimizer's state.
    pub inner: T,
    /// The slow weights.
    pub slow: Bufs<S>,
    /// Steps since the last synchronisation (optax `steps_since_sync`).
    pub steps_since_sync: u64,
}

/// Per-step scalars of [`Lookahead`]: the inner coefficients and, on a
/// synchronising step, α.
#[derive(Clone, Copy, Debug)]
pub struct LookaheadCoefs<C, S> {
    inner: C,
    sync: Option<S>,
}

/// One element of a synchronising step: the fast weight `f`, the inner
/// update `u` and the slow weight `s`; returns the fast weight's update.
#[inline(always)]
fn synchronise<S: Scalar>(alpha: S, f: S, u: S, s: &mut S) -> S {
    let d = f + u - *s;
    *s += alpha * d;
    u - (S::one() - alpha) * d
}

impl<T> Lookahead<T> {
    fn finish<S: Scalar>(&self, sync: Option<S>, slow: &mut [S], u: &mut [S], p: &[S]) {
        if let Some(alpha) = sync {
            for ((u, s), &f) in u.iter_mut().zip(slow.iter_mut()).zip(p) {
                *u = synchronise(alpha, f, *u, s);
            }
        }
    }
}

impl<S: Scalar, T: BlockTransform<S>> BlockTransform<S> for Lookahead<T> {
    type State = LookaheadState<S, T::State>;
    type Coefs = LookaheadCoefs<T::Coefs, S>;
    type View<'a> = (T::View<'a>, &'a mut [S]);

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        let slow = Bufs::copy_of(params, mask);
        LookaheadState {
            inner: self.inner.init_masked(params, mask),
            slow,
            steps_since_sync: 0,
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
        let k = self.sync_period.max(1);
        if self.reset_state && state.steps_since_sync == 0 {
            state.inner = self.inner.init_masked(params, mask);
        }
        let inner = self
            .inner
            .prepare(&mut state.inner, input, params, mask, ctx);
        let sync = (state.steps_since_sync == k - 1).then(|| S::cast(self.slow_step_size));
        state.steps_since_sync = (state.steps_since_sync + 1) % k;
        LookaheadCoefs { inner, sync }
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        self.inner
            .views(&mut state.inner)
            .zip(state.slow.slices_mut())
    }

    #[inline(always)]
    fn apply_block(
        &self,
        c: &Self::Coefs,
        (view, slow): &mut Self::View<'_>,
        u: &mut [S],
        p: &[S],
    ) {
        self.inner.apply_block(&c.inner, view, u, p);
        self.finish(c.sync, slow, u, p);
    }

    #[inline(always)]
    fn apply_block_from(
        &self,
        c: &Self::Coefs,
        (view, slow): &mut Self::View<'_>,
        src: &[S],
        u: &mut [S],
        p: &[S],
    ) {
        self.inner.apply_block_from(&c.inner, view, src, u, p);
        self.finish(c.sync, slow, u, p);
    }

    /// The slow weights.
    fn eval_params(&self, state: &Self::State, params: &mut Params<S>, mask: Mask<'_>) {
        for ((id, v), s) in params.values_mut().zip(state.slow.as_slices()) {
            if mask.contains(id) {
                v.as_mut_slice().copy_from_slice(s);
            }
        }
    }
}

gradient_transform_via_blocks!(Lookahead<T>, T: [crate::BlockTransform<S>]);

#[cfg(test)]
mod tests {
    use crate::testing::{store_of, trajectory};
    use crate::{Lookahead, LookaheadConfig, OptaxAdamConfig};
    use proptest::collection::vec;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// With k = 1 and α = 1 the fast weights are the inner optimizer's,
        /// bit for bit, and the slow weights follow them.
        #[test]
        fn lookahead_with_k_1_and_alpha_1_is_its_inner_optimizer(
            p0 in vec(-2.0f64..2.0, 1..6),
            grads in vec(vec(-3.0f64..3.0, 1..6), 1..12),
            lr in 1e-3f64..0.3,
            nesterov in any::<bool>(),
        ) {
            let fast = OptaxAdamConfig { lr, nesterov, ..OptaxAdamConfig::default() };
            let mut store = store_of(std::slice::from_ref(&p0));
            let mut inner = fast.build(&store).unwrap();
            let want = trajectory(&mut inner, &mut store, &grads, 0.0);

            let mut store = store_of(std::slice::from_ref(&p0));
            let mut la = Lookahead::new(&store, LookaheadConfig::new(fast, 1, 1.0)).unwrap();
            let got = trajectory(&mut la, &mut store, &grads, 0.0);
            prop_assert_eq!(&got, &want);

            let mut slow = store.params().clone();
            la.eval_params(&mut slow).unwrap();
            let id = store.ids().next().unwrap();
            for (s, f) in slow.value(id).iter().zip(store.value(id).iter()) {
                prop_assert!((s - f).abs() <= 1e-15 * f.abs().max(1.0), "{} vs {}", s, f);
            }
        }
    }
}
