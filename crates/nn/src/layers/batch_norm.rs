//! `BatchNorm1d` and `BatchNorm2d`, exactly as PyTorch: biased batch
//! variance to normalize, unbiased into `running_var`, momentum or a
//! cumulative average, running statistics in evaluation.

use super::check;
use crate::Result;
use crate::buffers::BufferId;
use crate::builder::Builder;
use crate::init::Init;
use crate::module::{Ctx, Entry, Module};
use descent_autodiff::{BatchNormStats, RunningStats, Var};
use descent_core::{ParamId, Scalar, Tags};

/// Arguments of `BatchNorm1d` / `BatchNorm2d`, with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormConfig {
    /// Number of features (1d) or channels (2d), `C`.
    pub num_features: usize,
    /// Added to the variance; default `1e-5`.
    pub eps: f64,
    /// Weight of each new batch in the running statistics; `None` is a
    /// cumulative moving average. Default `Some(0.1)`.
    pub momentum: Option<f64>,
    /// Learn a per-channel scale `weight` and shift `bias`; default `true`.
    pub affine: bool,
    /// Keep running statistics (and use them in evaluation); default `true`.
    pub track_running_stats: bool,
}

impl BatchNormConfig {
    /// `num_features` channels with PyTorch's defaults.
    ///
    /// # Examples
    ///
    /// ```
    /// let cfg = descent_nn::BatchNormConfig::new(64);
    /// assert_eq!((cfg.eps, cfg.momentum, cfg.affine, cfg.track_running_stats), (1e-5, Some(0.1), true, true));
    /// ```
    pub fn new(num_features: usize) -> Self {
        BatchNormConfig {
            num_features,
            eps: 1e-5,
            momentum: Some(0.1),
            affine: true,
            track_running_stats: true,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Running {
    mean: BufferId,
    var: BufferId,
    batches: BufferId,
}

/// Batch normalization over `D`-dimensional samples: [`BatchNorm1d`]
/// normalizes each column of an `N × C` matrix, [`BatchNorm2d`] each channel
/// of an `N × (C·H·W)` image batch over `N·H·W` values.
///
/// Tensors: `weight` (ones) and `bias` (zeros) when affine; buffers
/// `running_mean` (zeros), `running_var` (ones) and `num_batches_tracked`
/// (an integer) when tracking running statistics.
#[derive(Clone, Debug)]
pub struct BatchNorm<const D: usize> {
    cfg: BatchNormConfig,
    weight: Option<ParamId>,
    bias: Option<ParamId>,
    running: Option<Running>,
}

/// Batch normalization of `N × C` features (PyTorch `nn.BatchNorm1d` on 2-d input).
pub type BatchNorm1d = BatchNorm<1>;
/// Batch normalization of `N × C × H × W` images, per channel (PyTorch `nn.BatchNorm2d`).
pub type BatchNorm2d = BatchNorm<2>;

impl<const D: usize> BatchNorm<D> {
    /// Registers the layer's parameters and buffers under the builder's prefix.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_nn::{BatchNorm1d, BatchNormConfig, Builder, ModelState};
    /// use rand_chacha::ChaCha8Rng;
    /// use rand_core::SeedableRng;
    ///
    /// let mut state = ModelState::<f32>::new();
    /// let mut rng = ChaCha8Rng::seed_from_u64(0);
    /// BatchNorm1d::new(&mut Builder::new(&mut state, &mut rng).pp("1"), BatchNormConfig::new(8))?;
    /// assert!(state.params.id("1.weight").is_some());
    /// assert!(state.buffers.id("1.num_batches_tracked").is_some());
    /// # Ok::<(), descent_nn::Error>(())
    /// ```
    pub fn new<S: Scalar>(b: &mut Builder<'_, S>, cfg: BatchNormConfig) -> Result<Self> {
        let layer = if D == 1 { "BatchNorm1d" } else { "BatchNorm2d" };
        check(
            cfg.num_features > 0,
            layer,
            "num_features",
            cfg.num_features,
            "must be positive",
        )?;
        check(
            cfg.eps.is_finite() && cfg.eps >= 0.0,
            layer,
            "eps",
            cfg.eps,
            "must be finite and non-negative",
        )?;
        let m_ok = cfg.momentum.is_none_or(|m| (0.0..=1.0).contains(&m));
        check(
            m_ok,
            layer,
            "momentum",
            cfg.momentum,
            "must be in [0, 1] or None",
        )?;
        let shape = [cfg.num_features];
        let (weight, bias) = if cfg.affine {
            (
                Some(b.param("weight", Tags::NORM | Tags::WEIGHT, &shape, Init::Ones)?),
                Some(b.param("bias", Tags::NORM | Tags::BIAS, &shape, Init::Zeros)?),
            )
        } else {
            (None, None)
        };
        let running = if cfg.track_running_stats {
            Some(Running {
                mean: b.buffer("running_mean", &shape, 0.0)?,
                var: b.buffer("running_var", &shape, 1.0)?,
                batches: b.count("num_batches_tracked", 0)?,
            })
        } else {
            None
        };
        Ok(BatchNorm {
            cfg,
            weight,
            bias,
            running,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BatchNormConfig {
        &self.cfg
    }

    /// `(weight, bias)` ids when affine.
    pub fn affine(&self) -> Option<(ParamId, ParamId)> {
        self.weight.zip(self.bias)
    }

    /// `(running_mean, running_var, num_batches_tracked)` ids when tracked.
    pub fn running_stats(&self) -> Option<(BufferId, BufferId, BufferId)> {
        self.running.map(|r| (r.mean, r.var, r.batches))
    }
}

/// A batch-norm layer as [`update_bn`](crate::update_bn) sees it: its
/// momentum, settable for the pass, and its running statistics.
pub trait RunningStatsLayer {
    /// The momentum of the running statistics (`None`: cumulative average).
    fn momentum(&self) -> Option<f64>;

    /// Sets the momentum; outside `[0, 1]` is [`Error::Arg`](crate::Error::Arg).
    fn set_momentum(&mut self, momentum: Option<f64>) -> Result<()>;

    /// `(running_mean, running_var, num_batches_tracked)` when tracked.
    fn running_stats(&self) -> Option<(BufferId, BufferId, BufferId)>;
}

impl<const D: usize> RunningStatsLayer for BatchNorm<D> {
    fn momentum(&self) -> Option<f64> {
        self.cfg.momentum
    }

    fn set_momentum(&mut self, momentum: Option<f64>) -> Result<()> {
        let layer = if D == 1 { "BatchNorm1d" } else { "BatchNorm2d" };
        let ok = momentum.is_none_or(|m| (0.0..=1.0).contains(&m));
        check(ok, layer, "momentum", momentum, "must be in [0, 1] or None")?;
        self.cfg.momentum = momentum;
        Ok(())
    }

    fn running_stats(&self) -> Option<(BufferId, BufferId, BufferId)> {
        BatchNorm::running_stats(self)
    }
}

impl<S: Scalar, const D: usize> Module<S> for BatchNorm<D> {
    /// Panics if the input does not have `num_features` columns (1d) or is
    /// not an image batch of `num_features` channels (2d).
    fn forward<'t>(&self, ctx: &mut Ctx<'_, 't, S>, x: Var<'t, S>) -> Var<'t, S> {
        let c = self.cfg.num_features;
        if D == 1 {
            let cols = x.shape().1;
            assert_eq!(
                cols, c,
                "BatchNorm1d: input has {cols} features, expected {c}"
            );
        } else {
            let image = x.image();
            assert!(
                image.is_some_and(|i| i.c == c),
                "BatchNorm2d: input has image shape {image:?}, expected {c} channels"
            );
        }
        let weight = self.weight.map(|w| ctx.param(w));
        let bias = self.bias.map(|b| ctx.param(b));
        let eps = S::cast(self.cfg.eps);
        let tape_x = x;
        match self.running {
            Some(r) if !ctx.mode.is_train() => {
                let stats = BatchNormStats::Fixed {
                    mean: ctx.buffers.tensor(r.mean),
                    var: ctx.buffers.tensor(r.var),
                };
                tape_x.batch_norm(c, weight, bias, stats, eps)
            }
            Some(r) => {
                let batches = ctx.buffers.count_mut(r.batches);
                *batches += 1;
                let factor = self.cfg.momentum.unwrap_or(1.0 / *batches as f64);
                let (mean, var) = ctx.buffers.tensor_pair_mut(r.mean, r.var);
                let running = RunningStats {
                    mean,
                    var,
                    momentum: S::cast(factor),
                };
                tape_x.batch_norm(
                    c,
                    weight,
                    bias,
                    BatchNormStats::Batch {
                        running: Some(running),
                    },
                    eps,
                )
            }
            None => tape_x.batch_norm(
                c,
                weight,
                bias,
                BatchNormStats::Batch { running: None },
                eps,
            ),
        }
    }

    fn visit_batch_norms(&mut self, f: &mut dyn FnMut(&mut dyn RunningStatsLayer)) {
        f(self);
    }

    fn visit(&self, f: &mut dyn FnMut(Entry)) {
        for p in self.weight.iter().chain(&self.bias) {
            f(Entry::Param(*p));
        }
        if let Some(r) = self.running {
            for b in [r.mean, r.var, r.batches] {
                f(Entry::Buffer(b));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ArgError;
    use crate::{Mode, ModelState};
    use descent_autodiff::{ImageShape, Tape};
    use descent_testkit::strategies::matrix_of;
    use nalgebra::DMatrix;
    use proptest::prelude::*;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    fn layer<const D: usize>(cfg: BatchNormConfig) -> (BatchNorm<D>, ModelState<f64>) {
        let mut state = ModelState::new();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let bn = BatchNorm::<D>::new(&mut Builder::new(&mut state, &mut rng), cfg).unwrap();
        (bn, state)
    }

    fn forward<const D: usize>(
        bn: &BatchNorm<D>,
        state: &mut ModelState<f64>,
        x: &DMatrix<f64>,
        img: Option<ImageShape>,
        mode: Mode,
    ) -> DMatrix<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let tape = Tape::new();
        let mut ctx = Ctx::new(&tape, state, mode, &mut rng);
        let v = match img {
            Some(s) => tape.constant_image(x, s),
            None => tape.constant(x),
        };
        bn.forward(&mut ctx, v).value()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn batch_norm_2d_training_output_has_per_channel_mean_0_and_variance_1(
            (x, c, hw) in (2usize..5, 1usize..4, 2usize..5).prop_flat_map(|(n, c, hw)| (matrix_of(n, c * hw, -4.0, 4.0), Just(c), Just(hw)))
        ) {
            let mut cfg = BatchNormConfig::new(c);
            cfg.eps = 0.0;
            let (bn, mut state) = layer::<2>(cfg);
            let y = forward(&bn, &mut state, &x, Some(ImageShape::new(c, hw, 1)), Mode::Train);
            let span = x.nrows() * hw;
            for ch in 0..c {
                let s = &y.as_slice()[ch * span..(ch + 1) * span];
                let mean = s.iter().sum::<f64>() / span as f64;
                let var = s.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / span as f64;
                prop_assert!(mean.abs() < 1e-9 && (var - 1.0).abs() < 1e-6, "channel {ch}: mean {mean}, var {var}");
            }
        }

        #[test]
        fn batch_norm_eval_uses_the_running_statistics(
            (batches, probe) in (2usize..6, 1usize..4).prop_flat_map(|(n, c)| (
                proptest::collection::vec(matrix_of(n, c, -3.0, 3.0), 1..4),
                matrix_of(3, c, -3.0, 3.0),
            ))
        ) {
            let c = probe.ncols();
            let (bn, mut state) = layer::<1>(BatchNormConfig::new(c));
            for x in &batches {
                forward(&bn, &mut state, x, None, Mode::Train);
            }
            let (m, v, n) = bn.running_stats().unwrap();
            prop_assert_eq!(state.buffers.count(n), batches.len() as i64);
            let (rm, rv) = (state.buffers.tensor(m).clone(), state.buffers.tensor(v).clone());
            let y = forward(&bn, &mut state, &probe, None, Mode::Eval);
            for i in 0..probe.nrows() {
                for j in 0..c {
                    let want = (probe[(i, j)] - rm[j]) / (rv[j] + 1e-5).sqrt();
                    prop_assert!((y[(i, j)] - want).abs() < 1e-12);
                }
            }
            // evaluation leaves the statistics alone
            prop_assert_eq!(state.buffers.tensor(m), &rm);
            prop_assert_eq!(state.buffers.count(n), batches.len() as i64);
        }
    }

    #[test]
    fn momentum_none_is_a_cumulative_average_of_batch_statistics() {
        let mut cfg = BatchNormConfig::new(1);
        cfg.momentum = None;
        let (bn, mut state) = layer::<1>(cfg);
        for x in [[1.0, 3.0], [5.0, 7.0]] {
            forward(
                &bn,
                &mut state,
                &DMatrix::from_column_slice(2, 1, &x),
                None,
                Mode::Train,
            );
        }
        let (m, v, _) = bn.running_stats().unwrap();
        // batch means 2 and 6, unbiased variances 2 and 2
        assert_eq!(state.buffers.tensor(m)[0], 4.0);
        assert_eq!(state.buffers.tensor(v)[0], 2.0);
    }

    #[test]
    fn out_of_range_momentum_is_a_typed_error() {
        let mut state = ModelState::<f32>::new();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut cfg = BatchNormConfig::new(3);
        cfg.momentum = Some(1.5);
        let err = BatchNorm2d::new(&mut Builder::new(&mut state, &mut rng), cfg).unwrap_err();
        assert!(
            matches!(
                err,
                crate::Error::Arg(ArgError {
                    name: "momentum",
                    ..
                })
            ),
            "{err}"
        );
        assert!(state.params.is_empty() && state.buffers.is_empty());
    }
}
