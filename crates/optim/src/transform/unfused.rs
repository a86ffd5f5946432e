//! `unfused`: any core `GradientTransform` as a stage of a chain.
//!
//! It reads its input in full and runs over its own gradient-sized buffer:
//! one extra pass over memory, the price of entering a fused chain from
//! outside it.

use crate::transform::{BlockTransform, Mask, Tensors};
use descent_core::{GradientTransform, Grads, Params, Scalar, StepCtx};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A core [`GradientTransform`] — one written outside this crate, which
/// rewrites whole gradient tensors in place — as a stage of a [`chain`](crate::transform::chain).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Unfused<T> {
    /// The transform.
    pub inner: T,
}

/// Lets `inner`, any [`GradientTransform`] whose state serializes, enter a
/// chain (and so an [`Optimizer`](crate::Optimizer), its groups, its saved state).
///
/// It is *unfused*: a core transform sees whole tensors, not blocks, so the
/// chain gives it its input in full (the stages before it run first, into
/// the chain's workspace), it runs over its own copy of the updates, and the
/// chain's block pass then reads its output. That costs one more pass over
/// the parameters' size and one gradient-sized buffer (kept between steps,
/// not saved), and the stages after it read that buffer instead of the
/// gradient. Write a stage as an [`ElementStage`](crate::transform::ElementStage)
/// or [`ElementRule`](crate::transform::ElementRule) to stay in the one fused pass.
///
/// The transform sees every parameter of the store; its output is used only
/// for the parameters of the group (and mask) the stage applies to.
///
/// # Examples
///
/// ```
/// use descent_core::{GradientTransform, Grads, ParamStore, Params, StepCtx, Tags};
/// use descent_optim::Optimizer;
/// use descent_optim::transform::{chain, scale_by_learning_rate, unfused};
/// use nalgebra::DMatrix;
///
/// /// Gradient centralization (Yong et al., 2020): subtract each tensor's mean.
/// struct Centralize;
///
/// impl GradientTransform<f64> for Centralize {
///     type State = ();
///     fn init(&self, _: &Params<f64>) {}
///     fn update(&self, grads: &mut Grads<f64>, _: &mut (), _: &Params<f64>, _: &StepCtx) {
///         for (_, g) in grads.iter_mut() {
///             let mean = g.mean();
///             g.add_scalar_mut(-mean);
///         }
///     }
/// }
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::zeros(1, 2))?;
/// store.grad_mut(w).copy_from_slice(&[1.0, 3.0]);
/// let mut opt = Optimizer::new(&store, 0.5, chain((unfused(Centralize), scale_by_learning_rate())))?;
/// opt.step(&mut store)?;
/// assert_eq!(store.value(w).as_slice(), &[0.5, -0.5]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn unfused<T>(inner: T) -> Unfused<T> {
    Unfused { inner }
}

/// State of [`Unfused`]: the inner transform's state (saved) and the buffer
/// it rewrites (not saved: refilled every step).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound(serialize = "T: Serialize", deserialize = "T: DeserializeOwned"))]
pub struct UnfusedState<S: Scalar, T> {
    /// The inner transform's state.
    pub inner: T,
    #[serde(skip)]
    out: Option<Grads<S>>,
}

impl<S, T> BlockTransform<S> for Unfused<T>
where
    S: Scalar,
    T: GradientTransform<S> + Send + Sync,
    T::State: Send + Serialize + DeserializeOwned,
{
    type State = UnfusedState<S, T::State>;
    type Coefs = ();
    type View<'a> = Option<&'a mut [S]>;

    fn init_masked(&self, params: &Params<S>, _mask: Mask<'_>) -> Self::State {
        UnfusedState {
            inner: self.inner.init(params),
            out: None,
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
    ) {
        let out = state.out.get_or_insert_with(|| Grads::zeros_like(params));
        for (id, g) in out.iter_mut() {
            let src = input.get(id);
            // Outside the mask a workspace holds no copy: those updates are zero.
            match mask.contains(id) && src.len() == g.len() {
                true => g.as_mut_slice().copy_from_slice(src),
                false => g.as_mut_slice().fill(S::zero()),
            }
        }
        self.inner.update(out, &mut state.inner, params, ctx);
    }

    /// The output buffer of each tensor once the first `prepare` made it
    /// (a chain asks for every stage's views before that, to run the stages
    /// before this one).
    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Option<&'a mut [S]>> {
        let made = state.out.iter_mut().flat_map(|g| g.iter_mut());
        made.map(|(_, g)| Some(g.as_mut_slice()))
            .chain(std::iter::repeat_with(|| None))
    }

    #[inline(always)]
    fn apply_block(&self, _: &(), out: &mut Option<&mut [S]>, u: &mut [S], _p: &[S]) {
        if let Some(out) = out {
            u.copy_from_slice(out);
        }
    }

    #[inline(always)]
    fn apply_block_from(
        &self,
        _: &(),
        out: &mut Option<&mut [S]>,
        src: &[S],
        u: &mut [S],
        _p: &[S],
    ) {
        match out {
            Some(out) => u.copy_from_slice(out),
            None => u.copy_from_slice(src),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Optimizer;
    use crate::testing::store_of;
    use crate::transform::{chain, scale_by_learning_rate, trace};
    use descent_core::ParamStore;

    /// Gradient centralization: each tensor's mean subtracted (not element-wise).
    #[derive(Clone, Copy)]
    struct Centralize;

    impl GradientTransform<f64> for Centralize {
        type State = u64;

        fn init(&self, _: &Params<f64>) -> u64 {
            0
        }

        fn update(&self, grads: &mut Grads<f64>, calls: &mut u64, _: &Params<f64>, _: &StepCtx) {
            *calls += 1;
            for (_, g) in grads.iter_mut() {
                let mean = g.mean();
                g.add_scalar_mut(-mean);
            }
        }
    }

    fn fill(store: &mut ParamStore<f64>, k: usize) {
        let (params, grads) = store.split_mut();
        for ((_, p), (_, g)) in params.values_mut().zip(grads.iter_mut()) {
            g.zip_apply(p, |g, p| *g = (p * 1.7 + k as f64).sin());
        }
    }

    #[test]
    fn a_chain_with_a_user_transform_equals_applying_the_stages_by_hand() {
        let values = vec![vec![0.5, -1.0, 2.0], vec![0.3; 1500]];
        let (lr, n) = (0.05, 4);
        let t = chain((
            trace(0.9, 0.0, true),
            unfused(Centralize),
            scale_by_learning_rate(),
        ));
        for threads in [1, 3] {
            let mut store = store_of(&values);
            let mut opt = Optimizer::new(&store, lr, t).unwrap();
            opt.set_parallelism(descent_testkit::exact_parallelism(threads));
            let mut by_hand = store_of(&values);
            let momentum = trace(0.9, 0.0, true);
            let mut m_state = GradientTransform::init(&momentum, by_hand.params());
            let mut calls = 0;
            for k in 0..n {
                fill(&mut store, k);
                opt.step(&mut store).unwrap();
                fill(&mut by_hand, k);
                let ctx = StepCtx::new(k as u64, lr);
                let (params, grads) = by_hand.split_mut();
                momentum.update(grads, &mut m_state, params, &ctx);
                Centralize.update(grads, &mut calls, params, &ctx);
                scale_by_learning_rate().update(grads, &mut (), params, &ctx);
                for ((_, p), (_, u)) in params.values_mut().zip(grads.iter()) {
                    *p += u;
                }
            }
            let flat = |s: &ParamStore<f64>| -> Vec<f64> {
                s.iter()
                    .flat_map(|(_, _, v)| v.as_slice().to_vec())
                    .collect()
            };
            assert_eq!(flat(&store), flat(&by_hand), "{threads} threads");
            // The user transform's state is saved with the optimizer's.
            let saved = opt.state().groups[0].state.clone();
            assert_eq!(saved["stages"][1]["inner"], serde_json::json!(n));
        }
    }
}
