//! `apply_if_finite`: skip a step whose gradients are not all finite (optax).
//!
//! A skipped step outputs `−0.0` updates, which leave every parameter bit
//! for bit.

use crate::transform::{BlockTransform, Mask, Tensors, forward_to_inner};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// Runs its inner transform only on steps whose incoming updates are all
/// finite; the others are skipped and counted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ApplyIfFinite<T> {
    /// The transform applied on finite steps (usually a whole optimizer's chain).
    pub inner: T,
    /// Consecutive non-finite steps skipped before one is applied anyway.
    pub max_consecutive_errors: u64,
}

/// optax `apply_if_finite(inner, max_consecutive_errors)`: when any incoming
/// update of the parameters it applies to is NaN or infinite, the step is
/// skipped — `inner` is not run, so its state (moments, counts) stays bit
/// for bit as it was, and the output is `−0.0`, which leaves every parameter
/// bit for bit as it was — and counted. After more than
/// `max_consecutive_errors` non-finite steps in a row, the next is applied
/// anyway (optax's rule: a run that only sees NaN should fail visibly).
///
/// Wrap the whole chain (`apply_if_finite(AdamWConfig::default().transform(), 5)`).
/// Checking costs one read of the incoming updates before the step's pass.
/// The optimizer's own step count (and a learning-rate schedule installed on
/// it) still advances on a skipped step; `inner`'s counters do not, as in optax.
/// The counts are in the group's saved state ([`ApplyIfFiniteState`]).
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::transform::{ApplyIfFiniteState, apply_if_finite};
/// use descent_optim::{AdamConfig, Optimizer, OptimizerConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f32>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 2, 1.0))?;
/// let adam = AdamConfig { lr: 0.1, ..AdamConfig::default() };
/// let mut opt = Optimizer::new(&store, adam.lr, apply_if_finite(adam.transform(), 3))?;
/// store.grad_mut(w).copy_from_slice(&[1.0, f32::NAN]);
/// opt.step(&mut store)?; // skipped
/// assert_eq!(store.value(w).as_slice(), &[1.0, 1.0]);
/// let state: ApplyIfFiniteState<serde_json::Value> =
///     serde_json::from_value(opt.state().groups[0].state.clone())?;
/// assert_eq!((state.notfinite_count, state.total_notfinite, state.last_finite), (1, 1, false));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn apply_if_finite<T>(inner: T, max_consecutive_errors: u64) -> ApplyIfFinite<T> {
    ApplyIfFinite {
        inner,
        max_consecutive_errors,
    }
}

/// State of [`ApplyIfFinite`] (optax's `ApplyIfFiniteState`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApplyIfFiniteState<T> {
    /// Non-finite steps in a row, up to and including the last one.
    pub notfinite_count: u64,
    /// Whether the last step's updates were all finite.
    pub last_finite: bool,
    /// Non-finite steps in total.
    pub total_notfinite: u64,
    /// The inner transform's state.
    pub inner: T,
}

impl<S: Scalar, T: BlockTransform<S>> BlockTransform<S> for ApplyIfFinite<T> {
    type State = ApplyIfFiniteState<T::State>;
    /// The inner coefficients, `None` on a skipped step.
    type Coefs = Option<T::Coefs>;
    type View<'a> = T::View<'a>;

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        ApplyIfFiniteState {
            notfinite_count: 0,
            last_finite: true,
            total_notfinite: 0,
            inner: self.inner.init_masked(params, mask),
        }
    }

    fn reads_input(&self) -> bool {
        true
    }

    forward_to_inner!(check_params, eval_params, momentum, hyperparam);

    fn prepare(
        &self,
        state: &mut Self::State,
        input: Tensors<'_, S>,
        params: &Params<S>,
        mask: Mask<'_>,
        ctx: &StepCtx,
    ) -> Self::Coefs {
        let finite = params
            .ids()
            .filter(|&id| mask.contains(id))
            .all(|id| all_finite(input.get(id)));
        state.last_finite = finite;
        if finite {
            state.notfinite_count = 0;
        } else {
            state.notfinite_count = state.notfinite_count.saturating_add(1);
            state.total_notfinite = state.total_notfinite.saturating_add(1);
        }
        let apply = finite || state.notfinite_count > self.max_consecutive_errors;
        apply.then(|| {
            self.inner
                .prepare(&mut state.inner, input, params, mask, ctx)
        })
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        self.inner.views(&mut state.inner)
    }

    #[inline(always)]
    fn apply_block(&self, c: &Self::Coefs, view: &mut Self::View<'_>, u: &mut [S], p: &[S]) {
        match c {
            Some(c) => self.inner.apply_block(c, view, u, p),
            None => u.fill(-S::zero()),
        }
    }

    #[inline(always)]
    fn apply_block_from(
        &self,
        c: &Self::Coefs,
        view: &mut Self::View<'_>,
        src: &[S],
        u: &mut [S],
        p: &[S],
    ) {
        match c {
            Some(c) => self.inner.apply_block_from(c, view, src, u, p),
            None => u.fill(-S::zero()),
        }
    }
}

/// True when every element is finite: `x − x` is 0 for finite `x` and NaN
/// otherwise, summed over blocks without an early exit inside one, so the
/// check vectorizes.
fn all_finite<S: Scalar>(x: &[S]) -> bool {
    x.chunks(512).all(|block| {
        let mut acc = S::zero();
        for &v in block {
            #[allow(clippy::eq_op)] // the point: 0 for finite v, NaN otherwise
            let zero_if_finite = v - v;
            acc += zero_if_finite;
        }
        acc == S::zero()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store_of;
    use crate::{AdamWConfig, Optimizer, OptimizerConfig};
    use proptest::prelude::*;

    fn bits(store: &descent_core::ParamStore<f64>) -> Vec<u64> {
        store
            .iter()
            .flat_map(|(_, _, v)| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
            .collect()
    }

    fn fill(store: &mut descent_core::ParamStore<f64>, k: usize) {
        let (params, grads) = store.split_mut();
        for ((_, p), (_, g)) in params.values_mut().zip(grads.iter_mut()) {
            g.zip_apply(p, |g, p| *g = (p * 1.7 + k as f64).sin());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// A step with a NaN or infinite gradient anywhere leaves the
        /// parameters and the inner state bit-identical and is counted; the
        /// run then continues exactly as if that step had not happened.
        #[test]
        fn a_non_finite_step_is_skipped_counted_and_leaves_state_bit_identical(
            before in 0usize..4,
            at in 0usize..1200,
            bad in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)],
            threads in 1usize..3,
        ) {
            let values = vec![vec![0.5, -0.0, 2.0], vec![0.3; 1200]];
            let cfg = AdamWConfig { lr: 0.01, ..AdamWConfig::default() };
            let run = |skip: bool| {
                let mut store = store_of(&values);
                let mut opt = Optimizer::new(&store, cfg.lr, apply_if_finite(cfg.transform(), 2)).unwrap();
                opt.set_parallelism(descent_testkit::exact_parallelism(threads));
                let mut k = 0;
                for _ in 0..before {
                    fill(&mut store, k);
                    k += 1;
                    opt.step(&mut store).unwrap();
                }
                let mut counts = None;
                if skip {
                    let (state, params) = (opt.state().groups[0].state.clone(), bits(&store));
                    fill(&mut store, 99);
                    let (tensor, index) = if at < 3 { (0, at) } else { (1, at - 3) };
                    let id = store.ids().nth(tensor).unwrap();
                    store.grad_mut(id)[index] = bad;
                    opt.step(&mut store).unwrap();
                    let after = opt.state().groups[0].state.clone();
                    assert_eq!(bits(&store), params);
                    assert_eq!(after["inner"], state["inner"]);
                    counts = Some((after["notfinite_count"].clone(), after["total_notfinite"].clone()));
                }
                for _ in 0..3 {
                    fill(&mut store, k);
                    k += 1;
                    opt.step(&mut store).unwrap();
                }
                (bits(&store), counts)
            };
            let (skipped, counts) = run(true);
            let (plain, _) = run(false);
            prop_assert_eq!(skipped, plain);
            prop_assert_eq!(counts, Some((serde_json::json!(1), serde_json::json!(1))));
        }
    }

    #[test]
    fn after_max_consecutive_errors_the_next_non_finite_step_is_applied() {
        let mut store = store_of(&[vec![1.0, 2.0]]);
        let id = store.ids().next().unwrap();
        let cfg = AdamWConfig::default();
        let mut opt = Optimizer::new(&store, 0.1, apply_if_finite(cfg.transform(), 2)).unwrap();
        store.grad_mut(id).fill(f64::NAN);
        for expect_applied in [false, false, true] {
            opt.step(&mut store).unwrap();
            assert_eq!(store.value(id)[0].is_nan(), expect_applied);
        }
        let state = opt.state().groups[0].state.clone();
        assert_eq!(state["notfinite_count"], 3);
        assert_eq!(state["last_finite"], false);
        let (params, _) = store.split_mut();
        params
            .set_value(id, nalgebra::DMatrix::from_element(1, 2, 1.0))
            .unwrap();
        store.grad_mut(id).fill(0.5);
        opt.step(&mut store).unwrap();
        let state = opt.state().groups[0].state.clone();
        assert_eq!(
            (
                state["notfinite_count"].clone(),
                state["total_notfinite"].clone()
            ),
            (0.into(), 3.into())
        );
    }
}
