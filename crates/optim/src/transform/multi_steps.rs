//! `multi_steps`: gradient accumulation as a transform (optax `MultiSteps`).
//!
//! A skipped (or mid-accumulation) step outputs `−0.0` updates, which leave
//! every parameter bit for bit.

use crate::ArgError;
use crate::buf::Bufs;
use crate::error::{Error, Result};
use crate::transform::{BlockTransform, Mask, Tensors, forward_to_inner};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// Accumulates `k` micro-batch gradients, then lets its inner transform
/// (usually a whole optimizer's chain) update once with their mean.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MultiSteps<T> {
    /// The transform applied every `every_k` steps.
    pub inner: T,
    /// Micro-batches per update (at least 1).
    pub every_k: u64,
    /// Accumulate the mean of the micro-batch gradients (optax's default),
    /// else their sum.
    pub use_grad_mean: bool,
}

/// Gradient accumulation (optax `MultiSteps`): for `k − 1` steps it keeps
/// the running mean `acc ← (g + n·acc)/(n + 1)` of the gradients (`n` micro
/// steps so far) and leaves the parameters unchanged; on the `k`-th it runs
/// `inner` on that mean, which updates its own state then only, and resets
/// the accumulator. With `use_grad_mean: false` it accumulates the sum.
///
/// Wrap the whole chain (`multi_steps(AdamConfig::default().transform(), 4)`):
/// between updates its output is `−0.0`, which leaves every parameter bit
/// for bit as it was (`p + (−0.0) = p`, even for `p = −0.0`); a stage after it
/// would see that. Memory is one gradient-sized buffer per parameter it applies
/// to, and a step reads the gradient once, fused with `inner`'s pass
/// (an `inner` that reduces its input first, such as a global-norm clip, reads
/// the accumulated mean in one more pass on update steps).
///
/// Counting: the optimizer's step count (and so a learning-rate schedule
/// installed on it) advances every micro-step; `inner`'s own counters (Adam's
/// bias corrections, `scale_by_schedule`, whose `ctx.step` here is the number
/// of updates made) advance once per update, as in optax.
///
/// Errors: [`Error::OutOfRange`] naming `every_k` when it is 0.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::transform::{chain, multi_steps, scale_by_learning_rate};
/// use descent_optim::Optimizer;
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 1, 1.0))?;
/// let sgd = chain((scale_by_learning_rate(),));
/// let mut opt = Optimizer::new(&store, 0.1, multi_steps(sgd, 2)?)?;
/// store.grad_mut(w).fill(1.0);
/// opt.step(&mut store)?; // accumulated, no update
/// assert_eq!(store.value(w)[0], 1.0);
/// store.grad_mut(w).fill(3.0);
/// opt.step(&mut store)?; // mean gradient 2: w ← 1 − 0.1·2
/// assert!((store.value(w)[0] - 0.8).abs() < 1e-15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn multi_steps<T>(inner: T, every_k: u64) -> Result<MultiSteps<T>> {
    if every_k == 0 {
        return Err(Error::Arg(ArgError::new(
            "every_k",
            0.0,
            "expected at least 1",
        )));
    }
    Ok(MultiSteps {
        inner,
        every_k,
        use_grad_mean: true,
    })
}

/// State of [`MultiSteps`] (optax's `MultiStepsState`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "T: Serialize",
    deserialize = "T: serde::de::DeserializeOwned"
))]
pub struct MultiStepsState<S: Scalar, T> {
    /// Micro-steps accumulated since the last update.
    pub mini_step: u64,
    /// Updates made.
    pub gradient_step: u64,
    /// The accumulated gradients (mean or sum).
    pub acc: Bufs<S>,
    /// The inner transform's state.
    pub inner: T,
}

/// Per-step scalars of [`MultiSteps`]: the accumulation weights
/// (`acc ← (g + n·acc)·inv`), and the inner coefficients on an update step.
#[derive(Clone, Copy, Debug)]
pub struct MultiStepsCoefs<S, C> {
    n: S,
    inv: S,
    /// `Some` on an update step; `true` when the accumulator was already
    /// updated in full (an inner stage that reads its input).
    update: Option<(C, bool)>,
}

impl<S: Scalar, T: BlockTransform<S>> BlockTransform<S> for MultiSteps<T> {
    type State = MultiStepsState<S, T::State>;
    type Coefs = MultiStepsCoefs<S, T::Coefs>;
    type View<'a> = (&'a mut [S], T::View<'a>);

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        MultiStepsState {
            mini_step: 0,
            gradient_step: 0,
            acc: Bufs::zeros(params, mask),
            inner: self.inner.init_masked(params, mask),
        }
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
        let n = state.mini_step as f64;
        let (n, inv) = match self.use_grad_mean {
            true => (S::cast(n), S::cast(1.0 / (n + 1.0))),
            false => (S::one(), S::one()),
        };
        if state.mini_step + 1 < self.every_k {
            state.mini_step += 1;
            return MultiStepsCoefs {
                n,
                inv,
                update: None,
            };
        }
        let mut inner_ctx = *ctx;
        inner_ctx.step = state.gradient_step;
        let full = self.inner.reads_input();
        if full {
            // The inner transform reduces its input: accumulate in full first.
            for (id, acc) in params.ids().zip(state.acc.slices_mut()) {
                if mask.contains(id) {
                    for (a, &g) in acc.iter_mut().zip(input.get(id)) {
                        *a = (g + n * *a) * inv;
                    }
                }
            }
        }
        let acc = Tensors::Bufs(state.acc.as_slices());
        let inner_input = if full { acc } else { input };
        let c = self
            .inner
            .prepare(&mut state.inner, inner_input, params, mask, &inner_ctx);
        state.mini_step = 0;
        state.gradient_step += 1;
        MultiStepsCoefs {
            n,
            inv,
            update: Some((c, full)),
        }
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        state
            .acc
            .slices_mut()
            .zip(self.inner.views(&mut state.inner))
    }

    #[inline(always)]
    fn apply_block(&self, c: &Self::Coefs, view: &mut Self::View<'_>, u: &mut [S], p: &[S]) {
        let (acc, inner) = view;
        match &c.update {
            None => {
                for (a, u) in acc.iter_mut().zip(u.iter_mut()) {
                    *a = (*u + c.n * *a) * c.inv;
                    *u = -S::zero();
                }
            }
            Some((ic, full)) => {
                for (a, u) in acc.iter_mut().zip(u.iter_mut()) {
                    *u = if *full { *a } else { (*u + c.n * *a) * c.inv };
                    *a = S::zero();
                }
                self.inner.apply_block(ic, inner, u, p);
            }
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
        let (acc, inner) = view;
        match &c.update {
            None => {
                for ((a, u), &g) in acc.iter_mut().zip(u.iter_mut()).zip(src) {
                    *a = (g + c.n * *a) * c.inv;
                    *u = -S::zero();
                }
            }
            Some((ic, full)) => {
                for ((a, u), &g) in acc.iter_mut().zip(u.iter_mut()).zip(src) {
                    *u = if *full { *a } else { (g + c.n * *a) * c.inv };
                    *a = S::zero();
                }
                self.inner.apply_block(ic, inner, u, p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Optimizer;
    use crate::testing::store_of;
    use crate::transform::{chain, scale_by_adam, scale_by_learning_rate, trace};
    use proptest::collection::vec;
    use proptest::prelude::*;

    /// `(id, gradient)` of the linear loss `mean_i Σ_j c_ij · p_j` over the
    /// samples `rows`: its gradient is the mean of their rows, whatever `p`.
    fn batch_grad(rows: &[Vec<f64>]) -> Vec<f64> {
        let n = rows.len() as f64;
        (0..rows[0].len())
            .map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / n)
            .collect()
    }

    fn adam() -> impl BlockTransform<f64> + Clone + 'static {
        chain((
            scale_by_adam(0.9, 0.999, 1e-8, false),
            scale_by_learning_rate(),
        ))
    }

    /// Heavy-ball SGD: linear in the gradient, so the comparison is not
    /// sensitive to the rounding of the mean (Adam's ratio is, near g = 0).
    fn sgd_momentum() -> impl BlockTransform<f64> + Clone + 'static {
        chain((trace(0.9, 0.0, false), scale_by_learning_rate()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// k micro-batches of a linear loss, accumulated, move the parameters
        /// as one k-times-larger batch does (to rounding of the mean), and
        /// the steps between updates leave them exactly as they were.
        #[test]
        fn k_micro_batches_of_a_linear_loss_equal_one_k_times_larger_batch(
            k in 1u64..5,
            batch in 1usize..4,
            updates in 1usize..4,
            samples in vec(vec(-2.0f64..2.0, 5), 48),
            threads in 1usize..3,
        ) {
            let p0 = vec![vec![0.3, -0.7, 1.1, 0.0, -0.0]];
            let mut acc_store = store_of(&p0);
            let mut big_store = store_of(&p0);
            let par = descent_testkit::exact_parallelism(threads);
            let mut acc = Optimizer::new(&acc_store, 0.01, multi_steps(sgd_momentum(), k).unwrap()).unwrap();
            let mut big = Optimizer::new(&big_store, 0.01, sgd_momentum()).unwrap();
            acc.set_parallelism(par);
            let id = acc_store.ids().next().unwrap();
            let mut next = samples.chunks(batch).cycle();
            for _ in 0..updates {
                let mut all = Vec::new();
                for micro in 0..k {
                    let rows = next.next().unwrap().to_vec();
                    acc_store.grad_mut(id).copy_from_slice(&batch_grad(&rows));
                    let before = acc_store.value(id).clone();
                    acc.step(&mut acc_store).unwrap();
                    if micro + 1 < k {
                        let same = before.iter().zip(acc_store.value(id).iter()).all(|(a, b)| a.to_bits() == b.to_bits());
                        prop_assert!(same, "a micro-step moved the parameters");
                    }
                    all.extend(rows);
                }
                big_store.grad_mut(id).copy_from_slice(&batch_grad(&all));
                big.step(&mut big_store).unwrap();
            }
            for (a, b) in acc_store.value(id).iter().zip(big_store.value(id).iter()) {
                prop_assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn every_k_of_zero_is_a_typed_error_and_sums_accumulate_without_the_mean() {
        assert!(matches!(
            multi_steps(adam(), 0),
            Err(Error::Arg(ArgError {
                name: "every_k",
                ..
            }))
        ));
        let mut store = store_of(&[vec![1.0]]);
        let id = store.ids().next().unwrap();
        let mut sum = multi_steps(chain((scale_by_learning_rate(),)), 3).unwrap();
        sum.use_grad_mean = false;
        let mut opt = Optimizer::new(&store, 0.5, sum).unwrap();
        for g in [1.0, 2.0, 4.0] {
            store.grad_mut(id).fill(g);
            opt.step(&mut store).unwrap();
        }
        assert_eq!(store.value(id)[0], 1.0 - 0.5 * 7.0);
        let saved = opt.state().groups[0].state.clone();
        assert_eq!(
            (saved["mini_step"].as_u64(), saved["gradient_step"].as_u64()),
            (Some(0), Some(1))
        );
    }
}
