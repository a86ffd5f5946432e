//! Batch normalization as one fused op (PyTorch's `F.batch_norm`): per
//! channel, `y = (x − μ) / √(σ² + eps) · γ + β`, with the closed-form
//! backward instead of a chain of small ops.
//!
//! Channel `c` of an `N × (C·HW)` matrix is its columns `c·HW .. (c+1)·HW`,
//! which are contiguous in column-major storage, so each channel is one slice
//! of `N·HW` values.

use super::reduce::{dot_f64, sum_f64, sum_sq_dev_f64};
use super::{BackCtx, Backward, Op};
use crate::par;
use crate::pool::Pool;
use crate::var::Var;
use descent_core::Scalar;
use nalgebra::DMatrix;

/// Running statistics that a batch-statistics pass updates in place, as
/// PyTorch does: `mean ← (1 − momentum)·mean + momentum·μ_batch` and
/// `var ← (1 − momentum)·var + momentum·σ²_unbiased`. Both are `1 × C`.
#[derive(Debug)]
pub struct RunningStats<'a, S: Scalar> {
    /// Running mean, `1 × C`.
    pub mean: &'a mut DMatrix<S>,
    /// Running (unbiased) variance, `1 × C`.
    pub var: &'a mut DMatrix<S>,
    /// Weight of the new batch; a cumulative average passes `1 / batches seen`.
    pub momentum: S,
}

/// Where [`Var::batch_norm`] takes its statistics from.
#[derive(Debug)]
pub enum BatchNormStats<'a, S: Scalar> {
    /// The batch's own mean and biased variance (training, or evaluation
    /// without running statistics); `running`, if given, is updated.
    Batch {
        /// Running statistics to update, if tracked.
        running: Option<RunningStats<'a, S>>,
    },
    /// Fixed statistics (evaluation with running statistics), each `1 × C`.
    Fixed {
        /// Mean per channel.
        mean: &'a DMatrix<S>,
        /// Variance per channel.
        var: &'a DMatrix<S>,
    },
}

#[derive(Debug)]
pub(crate) struct BatchNorm<S: Scalar> {
    x: u32,
    weight: Option<u32>,
    bias: Option<u32>,
    /// `x̂ = (x − μ) / √(σ² + eps)`, `N × D`.
    xhat: DMatrix<S>,
    /// `1 / √(σ² + eps)` per channel, `1 × C`.
    inv_std: DMatrix<S>,
    /// Whether μ and σ² were the batch's (so they depend on `x`).
    batch: bool,
}

impl<'t, S: Scalar> Var<'t, S> {
    /// Batch normalization over `channels` channels (PyTorch `F.batch_norm`).
    ///
    /// `self` is `N × (channels·HW)`: `HW = 1` for `BatchNorm1d` (columns are
    /// features) and `H·W` for an image batch. Statistics are taken per
    /// channel over the `N·HW` values; the variance used to normalize is the
    /// biased one, the one written into running statistics the unbiased one.
    /// `weight` (γ) and `bias` (β) are optional `1 × C` rows. The output
    /// keeps the input's image shape.
    ///
    /// Panics, naming the shapes, if the columns are not a multiple of
    /// `channels`, if `weight`, `bias` or the statistics are not `1 × C`, or
    /// if batch statistics are asked of one value per channel (PyTorch's
    /// "expected more than 1 value per channel").
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_autodiff::{BatchNormStats, Tape};
    /// use nalgebra::DMatrix;
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant(&DMatrix::from_column_slice(4, 1, &[1.0, 2.0, 3.0, 4.0]));
    /// let y = x.batch_norm(1, None, None, BatchNormStats::Batch { running: None }, 0.0);
    /// let v = y.value();
    /// assert!((v.sum()).abs() < 1e-12 && (v.norm_squared() / 4.0 - 1.0).abs() < 1e-12);
    /// ```
    pub fn batch_norm(
        self,
        channels: usize,
        weight: Option<Var<'t, S>>,
        bias: Option<Var<'t, S>>,
        stats: BatchNormStats<'_, S>,
        eps: S,
    ) -> Var<'t, S> {
        for v in weight.iter().chain(bias.iter()) {
            self.same_tape(*v, "batch_norm");
        }
        Var::record(self.tape, |t| {
            let x = &t.values[self.idx as usize];
            let (n, d) = x.shape();
            assert!(
                channels > 0 && d % channels == 0,
                "batch_norm: {n}x{d} input does not split into {channels} channels"
            );
            let per = |what: &str, m: &DMatrix<S>| {
                assert!(
                    m.shape() == (1, channels),
                    "batch_norm: {what} is {}x{}, expected 1x{channels}",
                    m.nrows(),
                    m.ncols()
                );
            };
            let gamma = weight.map(|w| &t.values[w.idx as usize]);
            let beta = bias.map(|b| &t.values[b.idx as usize]);
            gamma.inspect(|g| per("weight", g));
            beta.inspect(|b| per("bias", b));
            let span = n * (d / channels);
            let batch = matches!(stats, BatchNormStats::Batch { .. });
            assert!(
                !batch || span > 1,
                "batch_norm: expected more than 1 value per channel when using batch \
                 statistics, got input {n}x{d} with {channels} channels"
            );
            let mut xhat = t.pool.take(n, d);
            let mut inv_std = t.pool.take(1, channels);
            let mut out = t.pool.take(n, d);
            let (mut running, fixed) = match stats {
                BatchNormStats::Batch { running } => (running, None),
                BatchNormStats::Fixed { mean, var } => {
                    per("mean", mean);
                    per("var", var);
                    (None, Some((mean, var)))
                }
            };
            if let Some(r) = &running {
                per("running mean", r.mean);
                per("running var", r.var);
            }
            // Per channel `[mean, unbiased variance, 1/√(σ² + eps)]`. The
            // batch's statistics are the expensive part, so channels run on
            // the pool's threads, each channel wholly on one thread in one
            // order: the bits do not depend on the thread count.
            let mut stats = t.pool.take(3, channels);
            let xs_all = x.as_slice();
            par::blocks2_mut(
                (xhat.as_mut_slice(), span),
                (stats.as_mut_slice(), 3),
                |c0, hs, st| {
                    for (c, (hs, st)) in
                        (c0..).zip(hs.chunks_exact_mut(span).zip(st.chunks_exact_mut(3)))
                    {
                        let xs = &xs_all[c * span..(c + 1) * span];
                        let (mean, var, unbiased) = match fixed {
                            Some((mean, var)) => (mean[c], var[c], S::zero()),
                            None => {
                                // Both passes accumulate in f64 (PyTorch's CPU
                                // kernel does too), so f32 statistics over
                                // N·H·W values are as exact as one rounding.
                                let mean = sum_f64(xs) / span as f64;
                                let ss = sum_sq_dev_f64(xs, mean);
                                let unbiased = S::cast(ss / (span.max(2) - 1) as f64);
                                (S::cast(mean), S::cast(ss / span as f64), unbiased)
                            }
                        };
                        let inv = S::one() / (var + eps).sqrt();
                        for (h, &v) in hs.iter_mut().zip(xs) {
                            *h = (v - mean) * inv;
                        }
                        st.copy_from_slice(&[mean, unbiased, inv]);
                    }
                },
            );
            for (c, st) in stats.as_slice().chunks_exact(3).enumerate() {
                let (mean, unbiased, inv) = (st[0], st[1], st[2]);
                inv_std[c] = inv;
                if let Some(r) = running.as_mut() {
                    let m = r.momentum;
                    r.mean[c] = (S::one() - m) * r.mean[c] + m * mean;
                    r.var[c] = (S::one() - m) * r.var[c] + m * unbiased;
                }
            }
            let hs_all = xhat.as_slice();
            par::blocks_mut(out.as_mut_slice(), span, |c0, os| {
                for (c, os) in (c0..).zip(os.chunks_exact_mut(span)) {
                    let g = gamma.map_or(S::one(), |g| g[c]);
                    let b = beta.map_or(S::zero(), |b| b[c]);
                    for (o, &h) in os.iter_mut().zip(&hs_all[c * span..(c + 1) * span]) {
                        *o = h * g + b;
                    }
                }
            });
            t.pool.give(stats);
            let needs = t.needs(self.idx)
                || weight.is_some_and(|w| t.needs(w.idx))
                || bias.is_some_and(|b| t.needs(b.idx));
            let op = Op::BatchNorm(BatchNorm {
                x: self.idx,
                weight: weight.map(|w| w.idx),
                bias: bias.map(|b| b.idx),
                xhat,
                inv_std,
                batch,
            });
            (out, op, needs, t.image(self.idx))
        })
    }
}

impl<S: Scalar> Backward<S> for BatchNorm<S> {
    fn backward(&self, ctx: &mut BackCtx<'_, S>, _out: usize, g: &DMatrix<S>) {
        let channels = self.inv_std.len();
        let span = g.len() / channels;
        let mut sums = ctx.pool.take(2, channels);
        let mut scales = ctx.pool.take(1, channels);
        let gamma = self.weight.map(|w| ctx.value(w));
        let need_x = ctx.needs(self.x);
        // Per channel `[Σg, Σg·x̂]` (summed in f64 over N·H·W terms, then
        // rounded) and, when `x` needs it, the channel's input gradient;
        // channels run on the pool's threads, each wholly on one. Both
        // buffers come from the tape's pool, so a step allocates nothing.
        for (c, s) in scales.iter_mut().enumerate() {
            *s = gamma.map_or(S::one(), |w| w[c]) * self.inv_std[c];
        }
        let (gs_all, hs_all, scales_s) = (g.as_slice(), self.xhat.as_slice(), scales.as_slice());
        let (batch, count) = (self.batch, span as f64);
        let channel = |c: usize, gx: Option<&mut [S]>| {
            let range = c * span..(c + 1) * span;
            let (gs, hs) = (&gs_all[range.clone()], &hs_all[range]);
            let (sum_g, sum_gh) = (sum_f64(gs), dot_f64(gs, hs));
            if let Some(gx) = gx {
                let scale = scales_s[c];
                if batch {
                    // dx = γ/σ · (g − mean(g) − x̂ · mean(g·x̂))
                    let (mg, mgh) = (S::cast(sum_g / count), S::cast(sum_gh / count));
                    for ((a, &gi), &h) in gx.iter_mut().zip(gs).zip(hs) {
                        *a += scale * (gi - mg - h * mgh);
                    }
                } else {
                    for (a, &gi) in gx.iter_mut().zip(gs) {
                        *a += scale * gi;
                    }
                }
            }
            [S::cast(sum_g), S::cast(sum_gh)]
        };
        if need_x {
            let gx = ctx.grad_mut(self.x).as_mut_slice();
            let s = sums.as_mut_slice();
            par::blocks2_mut((gx, span), (s, 2), |c0, gx, sums| {
                let pairs = gx.chunks_exact_mut(span).zip(sums.chunks_exact_mut(2));
                for (c, (gx, s)) in (c0..).zip(pairs) {
                    s.copy_from_slice(&channel(c, Some(gx)));
                }
            });
        } else {
            for (c, s) in sums.as_mut_slice().chunks_exact_mut(2).enumerate() {
                s.copy_from_slice(&channel(c, None));
            }
        }
        for (c, s) in sums.as_slice().chunks_exact(2).enumerate() {
            if let Some(w) = self.weight.filter(|&w| ctx.needs(w)) {
                ctx.grad_mut(w)[c] += s[1];
            }
            if let Some(b) = self.bias.filter(|&b| ctx.needs(b)) {
                ctx.grad_mut(b)[c] += s[0];
            }
        }
        ctx.pool.give(sums);
        ctx.pool.give(scales);
    }

    fn recycle(self, pool: &mut Pool<S>) {
        pool.give(self.xhat);
        pool.give(self.inv_std);
    }
}

#[cfg(test)]
mod tests {
    use super::{BatchNormStats, RunningStats};
    use crate::gradcheck::check_gradients;
    use crate::{ImageShape, Tape};
    use descent_testkit::strategies::matrix_of;
    use nalgebra::DMatrix;
    use proptest::prelude::*;

    /// `(x, weight, bias)` for `n` samples, `c` channels of `hw` values each.
    fn inputs(n: usize, c: usize, hw: usize) -> impl Strategy<Value = Vec<DMatrix<f64>>> {
        (
            matrix_of(n, c * hw, -3.0, 3.0),
            matrix_of(1, c, 0.5, 2.0),
            matrix_of(1, c, -1.0, 1.0),
        )
            .prop_map(|(x, w, b)| vec![x, w, b])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn gradcheck_batch_norm_with_batch_statistics(
            (xs, c, _hw) in (2usize..5, 1usize..4, 1usize..4)
                .prop_flat_map(|(n, c, hw)| (inputs(n, c, hw), Just(c), Just(hw)))
        ) {
            check_gradients(&xs, |_t, v| {
                v[0].batch_norm(c, Some(v[1]), Some(v[2]), BatchNormStats::Batch { running: None }, 1e-5)
            }).map_err(TestCaseError::fail)?;
            check_gradients(&xs[..1], |_t, v| {
                v[0].batch_norm(c, None, None, BatchNormStats::Batch { running: None }, 1e-3)
            }).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn gradcheck_batch_norm_with_fixed_statistics(
            (xs, stats, c) in (1usize..4, 1usize..4, 1usize..4).prop_flat_map(|(n, c, hw)| (
                inputs(n, c, hw),
                (matrix_of(1, c, -1.0, 1.0), matrix_of(1, c, 0.1, 3.0)),
                Just(c),
            ))
        ) {
            let (mean, var) = stats;
            check_gradients(&xs, |_t, v| {
                let stats = BatchNormStats::Fixed { mean: &mean, var: &var };
                v[0].batch_norm(c, Some(v[1]), Some(v[2]), stats, 1e-5)
            }).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn batch_statistics_give_zero_mean_unit_variance_per_channel(
            (x, c, hw) in (2usize..6, 1usize..4, 1usize..5)
                .prop_flat_map(|(n, c, hw)| (matrix_of(n, c * hw, -5.0, 5.0), Just(c), Just(hw)))
        ) {
            let tape = Tape::<f64>::new();
            let y = tape.constant(&x).batch_norm(c, None, None, BatchNormStats::Batch { running: None }, 0.0).value();
            let span = x.nrows() * hw;
            for ch in 0..c {
                let s = &y.as_slice()[ch * span..(ch + 1) * span];
                let spread = x.as_slice()[ch * span..(ch + 1) * span].iter().fold(0.0f64, |m, v| m.max((v - x[ch * span]).abs()));
                prop_assume!(spread > 1e-3);
                let mean = s.iter().sum::<f64>() / span as f64;
                let var = s.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / span as f64;
                prop_assert!(mean.abs() < 1e-9 && (var - 1.0).abs() < 1e-9, "channel {ch}: mean {mean}, var {var}");
            }
        }
    }

    /// `n` f32 values around `offset` with sparse large spikes, from `seed`.
    fn pixels(n: usize, offset: f32, seed: u64) -> Vec<f32> {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let r = (state >> 32) as u32;
                offset
                    + if r.is_multiple_of(5) {
                        (r >> 8) as f32 % 256.0
                    } else {
                        0.0
                    }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]

        /// In f32, the statistics over N·H·W = up to 36,864 values per channel
        /// and the backward sums come out as if computed exactly from the f32
        /// inputs, up to a few roundings: the unbiased running variance to
        /// 1e-6 relative, γ's and β's gradients to 4·ε₃₂ of Σ|terms|.
        #[test]
        fn f32_statistics_and_backward_sums_over_long_channels_are_accurate(
            n in 2usize..64, hw in prop::sample::select(vec![1usize, 64, 576]),
            offset in 0.0f32..200.0, seed: u64,
        ) {
            let c = 2;
            let span = n * hw;
            let data = pixels(n * c * hw, offset, seed);
            let x = DMatrix::from_column_slice(n, c * hw, &data);
            let wts = pixels(n * c * hw, -100.0, seed ^ 1);
            let w_out = DMatrix::from_column_slice(n, c * hw, &wts);
            let (mut mean, mut var) = (DMatrix::zeros(1, c), DMatrix::from_element(1, c, 1.0));
            let tape = Tape::<f32>::new();
            let gamma = tape.leaf_var(&DMatrix::from_element(1, c, 1.0));
            let beta = tape.leaf_var(&DMatrix::zeros(1, c));
            let running = RunningStats { mean: &mut mean, var: &mut var, momentum: 1.0 };
            let y = tape.constant(&x).batch_norm(
                c, Some(gamma), Some(beta), BatchNormStats::Batch { running: Some(running) }, 1e-5,
            );
            let loss = (y * tape.constant(&w_out)).sum();
            tape.backward(loss, &mut descent_core::ParamStore::new());
            let (g_gamma, g_beta) = (tape.grad(gamma).unwrap(), tape.grad(beta).unwrap());
            for ch in 0..c {
                let xs = &data[ch * span..(ch + 1) * span];
                let ws = &wts[ch * span..(ch + 1) * span];
                let m: f64 = xs.iter().map(|&v| v as f64).sum::<f64>() / span as f64;
                let ss: f64 = xs.iter().map(|&v| (v as f64 - m).powi(2)).sum();
                prop_assume!(ss > 1e-3 * span as f64);
                let unbiased = ss / (span - 1) as f64;
                let rel = (var[ch] as f64 - unbiased).abs() / unbiased;
                prop_assert!(rel <= 1e-6, "channel {}: var {} vs {} ({:.1e})", ch, var[ch], unbiased, rel);
                prop_assert!(((mean[ch] as f64) - m).abs() <= 1e-6 * m.abs().max(1.0));
                // backward: β's gradient is Σ w, γ's is Σ w·x̂
                let inv = 1.0 / (ss / span as f64 + 1e-5).sqrt();
                let terms: Vec<f64> = xs.iter().zip(ws).map(|(&v, &w)| w as f64 * (v as f64 - m) * inv).collect();
                let (sum_w, abs_w) = ws.iter().fold((0.0, 0.0), |(s, a), &w| (s + w as f64, a + (w as f64).abs()));
                let (sum_t, abs_t) = terms.iter().fold((0.0, 0.0), |(s, a), t| (s + t, a + t.abs()));
                let eps = f32::EPSILON as f64;
                prop_assert!((g_beta[ch] as f64 - sum_w).abs() <= 4.0 * eps * abs_w, "dβ {} vs {}", g_beta[ch], sum_w);
                // x̂ itself is rounded to f32 per element: 4 roundings per term
                prop_assert!((g_gamma[ch] as f64 - sum_t).abs() <= 8.0 * eps * abs_t, "dγ {} vs {}", g_gamma[ch], sum_t);
            }
        }
    }

    #[test]
    fn running_statistics_take_the_unbiased_variance() {
        let tape = Tape::<f64>::new();
        // one image of 2 channels, 2x1 pixels, two samples: channel 0 holds 1,2,3,4
        let x = DMatrix::from_row_slice(2, 4, &[1.0, 2.0, 10.0, 10.0, 3.0, 4.0, 10.0, 10.0]);
        let (mut mean, mut var) = (DMatrix::zeros(1, 2), DMatrix::from_element(1, 2, 1.0));
        let running = RunningStats {
            mean: &mut mean,
            var: &mut var,
            momentum: 0.5,
        };
        let y = tape
            .constant_image(&x, ImageShape::new(2, 2, 1))
            .batch_norm(
                2,
                None,
                None,
                BatchNormStats::Batch {
                    running: Some(running),
                },
                0.0,
            );
        assert_eq!(y.image(), Some(ImageShape::new(2, 2, 1)));
        // channel 0: mean 2.5, unbiased var 5/3; channel 1: mean 10, var 0
        assert!((mean[0] - 1.25).abs() < 1e-15 && (mean[1] - 5.0).abs() < 1e-15);
        assert!((var[0] - (0.5 + 5.0 / 6.0)).abs() < 1e-15 && (var[1] - 0.5).abs() < 1e-15);
    }

    #[test]
    fn one_value_per_channel_is_refused_with_batch_statistics() {
        let caught = std::panic::catch_unwind(|| {
            let tape = Tape::<f64>::new();
            tape.constant(&DMatrix::zeros(1, 3)).batch_norm(
                3,
                None,
                None,
                BatchNormStats::Batch { running: None },
                1e-5,
            );
        });
        let msg = caught.expect_err("must panic");
        let msg = msg.downcast_ref::<String>().expect("formatted message");
        assert!(msg.contains("more than 1 value per channel"), "{msg}");
    }
}
