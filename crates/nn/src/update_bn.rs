//! `update_bn`: recompute batch-norm running statistics for a model's
//! current (typically averaged) weights, as PyTorch's
//! `torch.optim.swa_utils.update_bn`.
//!
//! It resets every batch norm's statistics, runs the inputs in `Mode::Train`
//! with momentum `None` (a cumulative average), then restores the momenta; it
//! reaches the layers through `Module::visit_batch_norms`
//! (`RunningStatsLayer`).

use crate::Result;
use crate::mode::Mode;
use crate::module::{Ctx, Module};
use crate::state::ModelState;
use descent_autodiff::Tape;
use descent_core::{ImageShape, Scalar};
use nalgebra::DMatrix;
use rand_core::Rng;
use std::borrow::Borrow;

/// Recomputes the running statistics of every batch-norm layer of `model`
/// over `inputs` (matrices or references to them, produced lazily if need
/// be), for the weights in `state` (PyTorch
/// `torch.optim.swa_utils.update_bn(loader, model)`).
///
/// Every tracking batch norm's statistics are reset (mean 0, variance 1,
/// count 0) and its momentum set to `None`, so that a forward pass over each
/// input in [`Mode::Train`] leaves the unweighted mean over batches of the
/// batch means and of the unbiased batch variances; then each layer's
/// momentum is restored. Later layers see the outputs of earlier layers
/// normalized with batch statistics, as in PyTorch. `image` is the image
/// shape of the inputs (`None` for plain features), and `rng` feeds any
/// dropout or noise layer, which run in training mode as in PyTorch. The
/// mode lives in no model here, so there is no mode to restore.
///
/// Returns the number of batches run; with no batch-norm layer it runs
/// nothing and returns 0, as PyTorch returns early.
///
/// # Examples
///
/// ```
/// use descent_nn::{BatchNorm1d, BatchNormConfig, Builder, ModelState, Sequential, update_bn};
/// use nalgebra::DMatrix;
/// use rand_chacha::ChaCha8Rng;
/// use rand_core::SeedableRng;
///
/// let mut state = ModelState::<f64>::new();
/// let mut rng = ChaCha8Rng::seed_from_u64(0);
/// let mut model = Sequential::new();
/// model.add(&mut Builder::new(&mut state, &mut rng), |b| BatchNorm1d::new(b, BatchNormConfig::new(1)))?;
/// let batches = [DMatrix::from_column_slice(2, 1, &[1.0, 3.0]), DMatrix::from_column_slice(2, 1, &[5.0, 7.0])];
/// assert_eq!(update_bn(&mut model, &mut state, &batches, None, &mut rng)?, 2);
/// let mean = state.buffers.id("0.running_mean").unwrap();
/// assert_eq!(state.buffers.tensor(mean)[0], 4.0); // (2 + 6) / 2
/// # Ok::<(), descent_nn::Error>(())
/// ```
pub fn update_bn<S: Scalar, M: Module<S> + ?Sized>(
    model: &mut M,
    state: &mut ModelState<S>,
    inputs: impl IntoIterator<Item = impl Borrow<DMatrix<S>>>,
    image: Option<ImageShape>,
    rng: &mut dyn Rng,
) -> Result<u64> {
    let mut momenta = Vec::new();
    let mut failed = None;
    model.visit_batch_norms(&mut |bn| {
        if let Some((mean, var, count)) = bn.running_stats() {
            state.buffers.tensor_mut(mean).fill(S::zero());
            state.buffers.tensor_mut(var).fill(S::one());
            *state.buffers.count_mut(count) = 0;
        }
        momenta.push(bn.momentum());
        if let Err(e) = bn.set_momentum(None) {
            failed.get_or_insert(e);
        }
    });
    if momenta.is_empty() {
        return Ok(0);
    }
    let mut batches = 0;
    if failed.is_none() {
        let mut tape = Tape::new();
        for x in inputs {
            tape.reset();
            let mut ctx = Ctx::new(&tape, state, Mode::Train, rng);
            let input = match image {
                Some(shape) => tape.constant_image(x.borrow(), shape),
                None => tape.constant(x.borrow()),
            };
            model.forward(&mut ctx, input);
            batches += 1;
        }
    }
    let mut saved = momenta.into_iter();
    model.visit_batch_norms(&mut |bn| {
        if let Some(m) = saved.next()
            && let Err(e) = bn.set_momentum(m)
        {
            failed.get_or_insert(e);
        }
    });
    match failed {
        Some(e) => Err(e),
        None => Ok(batches),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Module;
    use crate::{BatchNorm1d, BatchNormConfig, Builder, Linear, LinearConfig, Relu, Sequential};
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    #[test]
    fn update_bn_restores_momenta_and_averages_batch_statistics() {
        let mut state = ModelState::<f64>::new();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut model = Sequential::new();
        {
            let mut b = Builder::new(&mut state, &mut rng);
            model
                .add(&mut b, |b| Linear::new(b, LinearConfig::new(2, 3)))
                .unwrap()
                .add(&mut b, |b| {
                    BatchNorm1d::new(
                        b,
                        BatchNormConfig {
                            momentum: Some(0.3),
                            ..BatchNormConfig::new(3)
                        },
                    )
                })
                .unwrap()
                .push(Relu);
        }
        let batches: Vec<DMatrix<f64>> = (0..3)
            .map(|k| DMatrix::from_fn(4 + k, 2, |i, j| (i * 3 + j * 5 + k) as f64 % 7.0 - 3.0))
            .collect();
        // stale statistics, to be reset
        let mean = state.buffers.id("1.running_mean").unwrap();
        state.buffers.tensor_mut(mean).fill(9.0);
        assert_eq!(
            update_bn(&mut model, &mut state, &batches, None, &mut rng).unwrap(),
            3
        );
        let mut momenta = Vec::new();
        model.visit_batch_norms(&mut |bn| momenta.push(bn.momentum()));
        assert_eq!(momenta, [Some(0.3)]);
        let n = state.buffers.id("1.num_batches_tracked").unwrap();
        assert_eq!(state.buffers.count(n), 3);
        // the running mean is the mean of the batch means of the linear outputs
        let w = state
            .params
            .value(state.params.id("0.weight").unwrap())
            .clone();
        let b = state
            .params
            .value(state.params.id("0.bias").unwrap())
            .clone();
        let mut want = DMatrix::<f64>::zeros(1, 3);
        for x in &batches {
            let y = x * w.transpose();
            for j in 0..3 {
                want[j] += (y.column(j).mean() + b[j]) / 3.0;
            }
        }
        let got = state.buffers.tensor(mean);
        for j in 0..3 {
            assert!((got[j] - want[j]).abs() < 1e-12, "{got} vs {want}");
        }
    }

    #[test]
    fn a_model_without_batch_norm_runs_nothing() {
        let mut state = ModelState::<f64>::new();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut model = Sequential::new();
        model
            .add(&mut Builder::new(&mut state, &mut rng), |b| {
                Linear::new(b, LinearConfig::new(2, 3))
            })
            .unwrap();
        let x = [DMatrix::zeros(5, 7)]; // the wrong width: never run
        assert_eq!(
            update_bn(&mut model, &mut state, &x, None, &mut rng).unwrap(),
            0
        );
    }
}
