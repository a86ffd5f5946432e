//! The Jensen–Shannon consistency loss of AugMix (Hendrycks et al. 2020):
//! the generalized Jensen–Shannon divergence between the softmaxes of a
//! clean batch's logits and of its augmented views' logits, with the
//! reference implementation's clamp of the mixture (`augmix/cifar.py`):
//!
//! ```text
//! p_k = softmax(z_k)      M = clamp(mean_k p_k, 1e-7, 1)
//! loss = λ/K · Σ_k KL(p_k ‖ M)     KL summed over classes, averaged over rows
//! ```
//!
//! which is PyTorch's `λ · (F.kl_div(M.log(), p_clean, reduction="batchmean")
//! + F.kl_div(M.log(), p_aug1, …) + F.kl_div(M.log(), p_aug2, …)) / 3`.

use super::Loss;
use crate::ops::{BackCtx, Backward, Op};
use crate::pool::Pool;
use crate::var::Var;
use descent_core::Scalar;
use nalgebra::DMatrix;

/// The options of [`Var::js_consistency`]; `Default` is the AugMix
/// reference code's (`λ = 12`, the mixture clamped below at `1e-7`).
///
/// # Examples
///
/// ```
/// use descent_autodiff::JsConsistencyConfig;
///
/// let cfg = JsConsistencyConfig::default();
/// assert_eq!((cfg.weight, cfg.clamp_min), (12.0, 1e-7));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JsConsistencyConfig {
    /// λ, the loss's weight (12 in the paper's code).
    pub weight: f64,
    /// The lower clamp of the mixture `M` before its log (1e-7).
    pub clamp_min: f64,
}

impl Default for JsConsistencyConfig {
    fn default() -> Self {
        JsConsistencyConfig {
            weight: 12.0,
            clamp_min: 1e-7,
        }
    }
}

#[derive(Debug)]
pub(crate) struct JsConsistency<S: Scalar> {
    /// The logits' nodes: the clean batch first, then the views.
    inputs: Vec<u32>,
    /// Each input's softmax, stacked: rows `k·N..(k+1)·N` are input `k`'s.
    probs: DMatrix<S>,
    /// Each input's log-softmax, stacked the same way.
    log_probs: DMatrix<S>,
    /// The unclamped mixture `mean_k p_k`, `N × C`.
    mixture: DMatrix<S>,
    /// `λ/(K·N)`.
    scale: S,
    clamp_min: S,
}

impl<'t, S: Scalar> Var<'t, S> {
    /// AugMix's Jensen–Shannon consistency loss between the logits `self`
    /// of a clean batch (`N × C`) and the logits of its augmented `views`
    /// (each `N × C`; the paper uses two): with `p_k` the row softmaxes of
    /// the `K = 1 + views.len()` inputs and `M = clamp(mean_k p_k,
    /// clamp_min, 1)`, the 1×1 loss `λ/K · Σ_k Σ_ij p_k,ij (log p_k,ij −
    /// log M_ij) / N`. A class whose probability underflows to 0
    /// contributes 0, as PyTorch's `kl_div` (`xlogy`). The gradient flows
    /// to every input, through the clamp where it is inactive (PyTorch's
    /// `clamp` backward).
    ///
    /// Panics, naming the op, if the views' shapes differ from `self`'s or
    /// if `weight` or `clamp_min` is not finite or `clamp_min` is outside
    /// `(0, 1)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_autodiff::{JsConsistencyConfig, Tape};
    /// use nalgebra::DMatrix;
    ///
    /// let tape = Tape::<f64>::new();
    /// let clean = tape.constant(&DMatrix::from_row_slice(1, 2, &[2.0, 0.0]));
    /// let same = tape.constant(&DMatrix::from_row_slice(1, 2, &[2.0, 0.0]));
    /// let cfg = JsConsistencyConfig::default();
    /// assert!(clean.js_consistency(&[same, same], &cfg).item().abs() < 1e-15);
    /// let other = tape.constant(&DMatrix::from_row_slice(1, 2, &[0.0, 2.0]));
    /// assert!(clean.js_consistency(&[same, other], &cfg).item() > 0.0);
    /// ```
    pub fn js_consistency(self, views: &[Var<'t, S>], cfg: &JsConsistencyConfig) -> Var<'t, S> {
        assert!(
            cfg.weight.is_finite(),
            "js_consistency: weight {} is not finite",
            cfg.weight
        );
        assert!(
            cfg.clamp_min > 0.0 && cfg.clamp_min < 1.0,
            "js_consistency: clamp_min {} is outside (0, 1)",
            cfg.clamp_min
        );
        for v in views {
            self.same_tape(*v, "js_consistency");
        }
        Var::record(self.tape, |t| {
            let (n, c) = t.values[self.idx as usize].shape();
            let mut inputs = t.pool.take_idx();
            inputs.push(self.idx);
            for (k, v) in views.iter().enumerate() {
                let shape = t.values[v.idx as usize].shape();
                assert_eq!(
                    shape,
                    (n, c),
                    "js_consistency: view {k} is {shape:?}, the clean logits {:?}",
                    (n, c)
                );
                inputs.push(v.idx);
            }
            let k = inputs.len();
            let mut probs = t.pool.take(k * n, c);
            let mut log_probs = t.pool.take(k * n, c);
            let mut mixture = t.pool.zeros(n, c);
            for (m, &idx) in inputs.iter().enumerate() {
                let x = &t.values[idx as usize];
                for i in 0..n {
                    let max =
                        (1..c).fold(x[(i, 0)], |a, j| if x[(i, j)] > a { x[(i, j)] } else { a });
                    let mut total = S::zero();
                    for j in 0..c {
                        total += (x[(i, j)] - max).exp();
                    }
                    let lse = total.ln();
                    for j in 0..c {
                        let lp = x[(i, j)] - max - lse;
                        log_probs[(m * n + i, j)] = lp;
                        probs[(m * n + i, j)] = lp.exp();
                        mixture[(i, j)] += lp.exp();
                    }
                }
            }
            let inv_k = S::one() / S::from_count(k);
            mixture.iter_mut().for_each(|v| *v *= inv_k);
            let clamp_min = S::cast(cfg.clamp_min);
            // Σ p (log p − log M), accumulated in f64, rounded once.
            let mut total = 0.0f64;
            for m in 0..k {
                for j in 0..c {
                    for i in 0..n {
                        let p = probs[(m * n + i, j)];
                        if p > S::zero() {
                            let log_m = clamp(mixture[(i, j)], clamp_min).ln();
                            total += (p * (log_probs[(m * n + i, j)] - log_m)).as_f64();
                        }
                    }
                }
            }
            let mut out = t.pool.take(1, 1);
            let batch = (k * n.max(1)) as f64;
            out[0] = S::cast(cfg.weight * total / batch);
            let needs = inputs.iter().any(|&i| t.needs(i));
            let op = JsConsistency {
                inputs,
                probs,
                log_probs,
                mixture,
                scale: S::cast(cfg.weight / batch),
                clamp_min,
            };
            (out, Op::Loss(Loss::JsConsistency(op)), needs, None)
        })
    }
}

/// `clamp(x, lo, 1)`.
fn clamp<S: Scalar>(x: S, lo: S) -> S {
    if x < lo {
        lo
    } else if x > S::one() {
        S::one()
    } else {
        x
    }
}

impl<S: Scalar> Backward<S> for JsConsistency<S> {
    fn backward(&self, ctx: &mut BackCtx<'_, S>, _out: usize, g: &DMatrix<S>) {
        // With ℓ = log clamp(M): ∂loss/∂p_k = s·(log p_k + 1 − ℓ − [M unclamped]),
        // since Σ_m p_m · ∂ℓ/∂p_k = K·M · 1/(K·M) = 1 where the clamp passes
        // gradient; then through each softmax: ∂/∂z = p ⊙ (d − ⟨p, d⟩).
        let (n, c) = self.mixture.shape();
        let s = self.scale * g[0];
        for (m, &idx) in self.inputs.iter().enumerate() {
            if !ctx.needs(idx) {
                continue;
            }
            let gx = ctx.grad_mut(idx);
            for i in 0..n {
                let dp = |j: usize| {
                    let p = self.probs[(m * n + i, j)];
                    if p == S::zero() {
                        return S::zero();
                    }
                    let mix = self.mixture[(i, j)];
                    let passes = mix >= self.clamp_min && mix <= S::one();
                    let log_m = clamp(mix, self.clamp_min).ln();
                    let through = if passes { S::one() } else { S::zero() };
                    self.log_probs[(m * n + i, j)] + S::one() - log_m - through
                };
                let mut dot = S::zero();
                for j in 0..c {
                    dot += self.probs[(m * n + i, j)] * dp(j);
                }
                for j in 0..c {
                    gx[(i, j)] += s * self.probs[(m * n + i, j)] * (dp(j) - dot);
                }
            }
        }
    }

    fn recycle(self, pool: &mut Pool<S>) {
        pool.give_idx(self.inputs);
        pool.give(self.probs);
        pool.give(self.log_probs);
        pool.give(self.mixture);
    }
}

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_gradients;
    use crate::{JsConsistencyConfig, Tape};
    use descent_core::ParamStore;
    use descent_testkit::panic_message;
    use descent_testkit::strategies::matrix_of;
    use nalgebra::DMatrix;
    use proptest::prelude::*;

    /// The reference implementation, written out in f64:
    /// `λ/K · Σ_k kl_div(log clamp(M), p_k, batchmean)`.
    fn reference(logits: &[DMatrix<f64>], cfg: &JsConsistencyConfig) -> f64 {
        let softmax = |x: &DMatrix<f64>| {
            DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| {
                let max = x.row(i).max();
                (x[(i, j)] - max).exp() / x.row(i).iter().map(|v| (v - max).exp()).sum::<f64>()
            })
        };
        let p: Vec<DMatrix<f64>> = logits.iter().map(softmax).collect();
        let k = p.len() as f64;
        let n = p[0].nrows() as f64;
        let mix = p
            .iter()
            .fold(DMatrix::zeros(p[0].nrows(), p[0].ncols()), |a, b| a + b)
            / k;
        let log_m = mix.map(|v| v.clamp(cfg.clamp_min, 1.0).ln());
        let kl = |q: &DMatrix<f64>| {
            q.iter()
                .zip(log_m.iter())
                .map(|(&q, &l)| if q > 0.0 { q * (q.ln() - l) } else { 0.0 })
                .sum::<f64>()
                / n
        };
        cfg.weight * p.iter().map(kl).sum::<f64>() / k
    }

    /// Three `N × C` logit matrices in `-3..3`.
    fn three_logits() -> impl Strategy<Value = Vec<DMatrix<f64>>> {
        (1usize..5, 2usize..6)
            .prop_flat_map(|(n, c)| proptest::collection::vec(matrix_of(n, c, -3.0, 3.0), 3))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn gradcheck_js_consistency_over_clean_and_two_views(xs in three_logits()) {
            let cfg = JsConsistencyConfig::default();
            check_gradients(&xs, |_t, v| v[0].js_consistency(&[v[1], v[2]], &cfg))
                .map_err(TestCaseError::fail)?;
        }

        #[test]
        fn js_consistency_is_the_reference_kl_div_sum(xs in three_logits(), weight in 0.5f64..20.0) {
            let cfg = JsConsistencyConfig { weight, ..Default::default() };
            let tape = Tape::<f64>::new();
            let v: Vec<_> = xs.iter().map(|x| tape.constant(x)).collect();
            let got = v[0].js_consistency(&[v[1], v[2]], &cfg).item();
            let want = reference(&xs, &cfg);
            prop_assert!((got - want).abs() <= 1e-12 * (1.0 + want.abs()), "{} vs {}", got, want);
            prop_assert!(got >= -1e-12);
            // Symmetric in the three inputs.
            let swapped = v[2].js_consistency(&[v[0], v[1]], &cfg).item();
            prop_assert!((got - swapped).abs() <= 1e-12 * (1.0 + want.abs()));
        }
    }

    #[test]
    fn the_clamp_binds_and_passes_no_gradient_where_it_binds() {
        // Class 1 has probability ~e^-40 in every input: M is clamped to 1e-7 there.
        let x = DMatrix::from_row_slice(1, 3, &[0.0, -40.0, 1.0]);
        let y = DMatrix::from_row_slice(1, 3, &[1.0, -40.0, 0.0]);
        let z = DMatrix::from_row_slice(1, 3, &[0.5, -40.0, 0.5]);
        let cfg = JsConsistencyConfig::default();
        let tape = Tape::<f64>::new();
        let v = [tape.leaf_var(&x), tape.leaf_var(&y), tape.leaf_var(&z)];
        let loss = v[0].js_consistency(&[v[1], v[2]], &cfg);
        assert!((loss.item() - reference(&[x.clone(), y, z], &cfg)).abs() < 1e-12);
        tape.backward(loss, &mut ParamStore::new());
        let g = tape.grad(v[0]).unwrap();
        assert!(g.iter().all(|v| v.is_finite()), "{g}");
        // Softmax gradients sum to zero over a row.
        assert!(g.row(0).sum().abs() < 1e-12, "{g}");
        check_gradients(&[x], |t, v| {
            let y = t.constant(&DMatrix::from_row_slice(1, 3, &[1.0, -40.0, 0.0]));
            let z = t.constant(&DMatrix::from_row_slice(1, 3, &[0.5, -40.0, 0.5]));
            v[0].js_consistency(&[y, z], &cfg)
        })
        .unwrap();
    }

    #[test]
    fn huge_logits_give_finite_values_and_gradients() {
        let x = DMatrix::from_row_slice(2, 2, &[1000.0, -1000.0, 0.0, 0.0]);
        let y = DMatrix::from_row_slice(2, 2, &[-1000.0, 1000.0, 0.0, 0.0]);
        let tape = Tape::<f64>::new();
        let (a, b) = (tape.leaf_var(&x), tape.leaf_var(&y));
        let loss = a.js_consistency(&[b], &JsConsistencyConfig::default());
        assert!(loss.item().is_finite() && loss.item() > 0.0);
        tape.backward(loss, &mut ParamStore::new());
        assert!(tape.grad(a).unwrap().iter().all(|v| v.is_finite()));
    }

    #[test]
    fn f32_agrees_with_f64() {
        let xs: Vec<DMatrix<f64>> = (0..3)
            .map(|k| DMatrix::from_fn(4, 5, |i, j| ((i * 5 + j + 7 * k) % 11) as f64 * 0.4 - 2.0))
            .collect();
        let cfg = JsConsistencyConfig::default();
        let want = reference(&xs, &cfg);
        let tape = Tape::<f32>::new();
        let v: Vec<_> = xs
            .iter()
            .map(|x| tape.constant(&x.map(|v| v as f32)))
            .collect();
        let got = v[0].js_consistency(&[v[1], v[2]], &cfg).item();
        assert!((f64::from(got) - want).abs() < 1e-5, "{got} vs {want}");
    }

    #[test]
    fn a_view_of_another_shape_panics_naming_the_op() {
        let msg = panic_message(|| {
            let tape = Tape::<f64>::new();
            let a = tape.constant(&DMatrix::zeros(2, 3));
            let b = tape.constant(&DMatrix::zeros(2, 4));
            a.js_consistency(&[b], &JsConsistencyConfig::default());
        });
        assert!(
            msg.contains("js_consistency") && msg.contains("view 0"),
            "{msg}"
        );
    }

    #[test]
    fn a_training_step_stops_allocating() {
        let xs: Vec<DMatrix<f64>> = (0..3)
            .map(|k| DMatrix::from_fn(6, 4, |i, j| (i + j * k) as f64 * 0.1))
            .collect();
        let mut tape = Tape::<f64>::new();
        let mut store = ParamStore::new();
        let mut fresh = Vec::new();
        for _ in 0..3 {
            tape.reset();
            let v: Vec<_> = xs.iter().map(|x| tape.leaf_var(x)).collect();
            let loss = v[0].js_consistency(&[v[1], v[2]], &JsConsistencyConfig::default());
            tape.backward(loss, &mut store);
            fresh.push(tape.fresh_buffers());
        }
        assert_eq!(fresh[1], fresh[2], "buffers allocated per step: {fresh:?}");
    }
}
