//! Losses over class indices: cross-entropy from logits (with PyTorch's
//! label smoothing) and the negative log-likelihood of log-probabilities.
//! One row of the input is one sample, one column one class.

use super::{CrossEntropyConfig, Loss, Reduction};
use crate::ops::{BackCtx, Backward, Op};
use crate::pool::Pool;
use crate::var::Var;
use descent_core::Scalar;
use nalgebra::DMatrix;

#[derive(Debug)]
pub(crate) struct ClassLoss<S: Scalar> {
    x: u32,
    /// The class of each row, from the pool's index buffers.
    targets: Vec<u32>,
    reduction: Reduction,
    /// Cross-entropy: the softmax of the logits, from the pool. `None` for
    /// the NLL loss, whose input already is log-probabilities.
    probs: Option<DMatrix<S>>,
    /// Label smoothing ε (0 for the NLL loss).
    smoothing: S,
}

/// Checks `targets` against an `n × c` input and copies them into a pool
/// index buffer; panics naming `op` on a wrong count or class.
fn class_indices<S: Scalar>(
    op: &str,
    targets: &[usize],
    (n, c): (usize, usize),
    pool: &mut Pool<S>,
) -> Vec<u32> {
    assert_eq!(
        targets.len(),
        n,
        "{op}: {} targets for an input of {n}x{c} ({n} rows)",
        targets.len()
    );
    if let Some((row, &k)) = targets.iter().enumerate().find(|&(_, &k)| k >= c) {
        panic!("{op}: target {k} (row {row}) is out of range for {c} classes");
    }
    let mut idx = pool.take_idx();
    idx.extend(targets.iter().map(|&k| k as u32));
    idx
}

impl<'t, S: Scalar> Var<'t, S> {
    /// Cross-entropy of logits `self` (`N × C`, one row per sample) against
    /// class indices `targets` (length `N`), as PyTorch's
    /// `F.cross_entropy`: a stable log-softmax per row, then the negative
    /// log-likelihood of the target class. With label smoothing ε the loss
    /// of a row is `(1 − ε)·nll + ε·mean_c(−log p_c)`. `Mean` and `Sum` give
    /// a 1×1 (`Mean` divides by `N`), `None` gives `N × 1`.
    ///
    /// Panics, naming the op, if `targets` does not have `N` entries, if a
    /// target is not below `C`, or if ε is outside `[0, 1]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_autodiff::{CrossEntropyConfig, Tape};
    /// use nalgebra::DMatrix;
    ///
    /// let tape = Tape::<f64>::new();
    /// let logits = tape.constant(&DMatrix::from_row_slice(2, 3, &[0.0, 0.0, 0.0, 5.0, 1.0, -2.0]));
    /// let loss = logits.cross_entropy(&[1, 0], &CrossEntropyConfig::default());
    /// let row0 = 3f64.ln();                                     // uniform over 3 classes
    /// let row1 = (1.0 + (-4f64).exp() + (-7f64).exp()).ln();   // −log p₀
    /// assert!((loss.item() - (row0 + row1) / 2.0).abs() < 1e-12);
    /// ```
    pub fn cross_entropy(self, targets: &[usize], cfg: &CrossEntropyConfig) -> Var<'t, S> {
        let eps = cfg.label_smoothing;
        assert!(
            (0.0..=1.0).contains(&eps),
            "cross_entropy: label_smoothing {eps} is outside [0, 1]"
        );
        let eps = S::cast(eps);
        Var::record(self.tape, |t| {
            let x = &t.values[self.idx as usize];
            let (n, c) = x.shape();
            let targets = class_indices("cross_entropy", targets, (n, c), &mut t.pool);
            let mut probs = t.pool.take(n, c);
            let out = cfg.reduction.apply(&mut t.pool, (n, 1), |i| {
                // −log p_j = lse − (x_ij − max), with lse = log Σ exp(x_ij − max)
                let max = (1..c).fold(x[(i, 0)], |m, j| if x[(i, j)] > m { x[(i, j)] } else { m });
                let mut total = S::zero();
                for j in 0..c {
                    let e = (x[(i, j)] - max).exp();
                    probs[(i, j)] = e;
                    total += e;
                }
                let lse = total.ln();
                for j in 0..c {
                    probs[(i, j)] /= total;
                }
                let nll = lse - (x[(i, targets[i] as usize)] - max);
                if eps == S::zero() {
                    return nll;
                }
                let mut smooth = S::zero();
                for j in 0..c {
                    smooth += lse - (x[(i, j)] - max);
                }
                (S::one() - eps) * nll + eps * smooth / S::from_count(c)
            });
            let needs = t.needs(self.idx);
            let op = ClassLoss {
                x: self.idx,
                targets,
                reduction: cfg.reduction,
                probs: Some(probs),
                smoothing: eps,
            };
            (out, Op::Loss(Loss::Class(op)), needs, None)
        })
    }

    /// Negative log-likelihood of log-probabilities `self` (`N × C`, say a
    /// row-wise log-softmax) at class indices `targets` (length `N`), as
    /// PyTorch's `F.nll_loss`: the loss of row `i` is `−self[i, targets[i]]`.
    /// `Mean` and `Sum` give a 1×1 (`Mean` divides by `N`), `None` gives
    /// `N × 1`.
    ///
    /// Panics, naming the op, if `targets` does not have `N` entries or a
    /// target is not below `C`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_autodiff::{Reduction, Tape};
    /// use nalgebra::DMatrix;
    ///
    /// let tape = Tape::<f64>::new();
    /// let logp = tape.constant(&DMatrix::from_row_slice(2, 2, &[-0.1, -2.0, -3.0, -0.5]));
    /// assert_eq!(logp.nll_loss(&[0, 1], Reduction::Sum).item(), 0.6);
    /// ```
    pub fn nll_loss(self, targets: &[usize], reduction: Reduction) -> Var<'t, S> {
        Var::record(self.tape, |t| {
            let x = &t.values[self.idx as usize];
            let targets = class_indices("nll_loss", targets, x.shape(), &mut t.pool);
            let out = reduction.apply(&mut t.pool, (x.nrows(), 1), |i| {
                -x[(i, targets[i] as usize)]
            });
            let needs = t.needs(self.idx);
            let op = ClassLoss {
                x: self.idx,
                targets,
                reduction,
                probs: None,
                smoothing: S::zero(),
            };
            (out, Op::Loss(Loss::Class(op)), needs, None)
        })
    }
}

impl<S: Scalar> Backward<S> for ClassLoss<S> {
    fn backward(&self, ctx: &mut BackCtx<'_, S>, _out: usize, g: &DMatrix<S>) {
        let up = self.reduction.upstream(g, self.targets.len());
        let gx = ctx.grad_mut(self.x);
        let on_target = match &self.probs {
            // ∂/∂x_ij = p_ij − q_ij with q = (1 − ε)·onehot + ε/C
            Some(p) => {
                let off = self.smoothing / S::from_count(p.ncols());
                for j in 0..p.ncols() {
                    for i in 0..p.nrows() {
                        gx[(i, j)] += up(i) * (p[(i, j)] - off);
                    }
                }
                S::one() - self.smoothing
            }
            // ∂/∂x_ij = −onehot_ij
            None => S::one(),
        };
        for (i, &k) in self.targets.iter().enumerate() {
            gx[(i, k as usize)] -= up(i) * on_target;
        }
    }

    fn recycle(self, pool: &mut Pool<S>) {
        pool.give_idx(self.targets);
        if let Some(p) = self.probs {
            pool.give(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_gradients;
    use crate::{CrossEntropyConfig, Reduction, Tape};
    use descent_core::ParamStore;
    use descent_testkit::panic_message;
    use descent_testkit::strategies::matrix_of;
    use nalgebra::DMatrix;
    use proptest::prelude::*;

    const REDUCTIONS: [Reduction; 3] = [Reduction::Mean, Reduction::Sum, Reduction::None];

    /// `N × C` logits in `-3..3` and `N` class indices below `C`.
    fn logits_and_targets() -> impl Strategy<Value = (DMatrix<f64>, Vec<usize>)> {
        (1usize..6, 1usize..6).prop_flat_map(|(n, c)| {
            (
                matrix_of(n, c, -3.0, 3.0),
                proptest::collection::vec(0..c, n),
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
        fn gradcheck_cross_entropy_for_every_reduction_and_smoothing(
            (x, targets) in logits_and_targets(),
            smoothing in prop_oneof![Just(0.0), Just(1.0), 0.0..1.0f64],
        ) {
            for reduction in REDUCTIONS {
                let cfg = CrossEntropyConfig { reduction, label_smoothing: smoothing };
                check_gradients(std::slice::from_ref(&x), |_t, v| v[0].cross_entropy(&targets, &cfg))
                    .map_err(|e| TestCaseError::fail(format!("{cfg:?}: {e}")))?;
            }
        }

        #[test]
        fn gradcheck_nll_loss_for_every_reduction((x, targets) in logits_and_targets()) {
            for reduction in REDUCTIONS {
                check_gradients(std::slice::from_ref(&x), |_t, v| v[0].nll_loss(&targets, reduction))
                    .map_err(|e| TestCaseError::fail(format!("{reduction:?}: {e}")))?;
            }
        }

        #[test]
        fn cross_entropy_is_nll_of_the_row_log_softmax((x, targets) in logits_and_targets()) {
            let log_softmax = DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| {
                let lse = x.row(i).iter().map(|v| v.exp()).sum::<f64>().ln();
                x[(i, j)] - lse
            });
            let tape = Tape::<f64>::new();
            let (logits, logp) = (tape.constant(&x), tape.constant(&log_softmax));
            for reduction in REDUCTIONS {
                let cfg = CrossEntropyConfig { reduction, ..Default::default() };
                let ce = logits.cross_entropy(&targets, &cfg).value();
                let nll = logp.nll_loss(&targets, reduction).value();
                prop_assert!((&ce - &nll).abs().max() < 1e-12, "{reduction:?}: {ce} vs {nll}");
            }
        }
    }

    #[test]
    fn label_smoothing_mixes_nll_with_the_mean_over_classes() {
        let x = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 0.5, -1.0, 0.0, 3.0]);
        let targets = [2, 0];
        let eps = 0.2;
        let tape = Tape::<f64>::new();
        let cfg = CrossEntropyConfig {
            reduction: Reduction::None,
            label_smoothing: eps,
        };
        let got = tape.constant(&x).cross_entropy(&targets, &cfg).value();
        assert_eq!(got.shape(), (2, 1));
        for i in 0..2 {
            let lse = x.row(i).iter().map(|v| v.exp()).sum::<f64>().ln();
            let nll = lse - x[(i, targets[i])];
            let smooth = (0..3).map(|j| lse - x[(i, j)]).sum::<f64>() / 3.0;
            let want = (1.0 - eps) * nll + eps * smooth;
            assert!(
                (got[i] - want).abs() < 1e-12,
                "row {i}: {} vs {want}",
                got[i]
            );
        }
    }

    #[test]
    fn cross_entropy_stays_finite_for_huge_logits() {
        let tape = Tape::<f64>::new();
        let x = tape.leaf_var(&DMatrix::from_row_slice(
            2,
            2,
            &[1000.0, -1000.0, -800.0, 800.0],
        ));
        let cfg = CrossEntropyConfig {
            reduction: Reduction::Sum,
            label_smoothing: 0.1,
        };
        let loss = x.cross_entropy(&[0, 0], &cfg);
        // row 0: nll 0, smoothing 0.1 · 2000 / 2; row 1: 0.9 · 1600 + 0.1 · 1600 / 2
        assert!(
            (loss.item() - (100.0 + 1440.0 + 80.0)).abs() < 1e-9,
            "{}",
            loss.item()
        );
        tape.backward(loss, &mut ParamStore::new());
        let g = tape.grad(x).unwrap();
        assert!(g.iter().all(|v| v.is_finite()), "{g}");
        assert!(
            (g[(1, 0)] - (0.0 - 0.95)).abs() < 1e-12 && (g[(1, 1)] - (1.0 - 0.05)).abs() < 1e-12
        );
    }

    #[test]
    fn cross_entropy_in_f32_agrees_with_f64() {
        let x = DMatrix::from_fn(3, 4, |i, j| (i as f64 - j as f64) * 0.7);
        let cfg = CrossEntropyConfig {
            label_smoothing: 0.2,
            ..Default::default()
        };
        let want = Tape::<f64>::new()
            .constant(&x)
            .cross_entropy(&[0, 3, 1], &cfg)
            .item();
        let x32 = x.map(|v| v as f32);
        let got = Tape::<f32>::new()
            .constant(&x32)
            .cross_entropy(&[0, 3, 1], &cfg)
            .item();
        assert!((f64::from(got) - want).abs() < 1e-6, "{got} vs {want}");
    }

    #[test]
    fn out_of_range_target_panics_naming_op_index_and_class_count() {
        let msg = panic_message(|| {
            let tape = Tape::<f64>::new();
            let x = tape.constant(&DMatrix::zeros(2, 3));
            x.cross_entropy(&[0, 3], &CrossEntropyConfig::default());
        });
        assert!(
            msg.contains("cross_entropy") && msg.contains("target 3") && msg.contains("3 classes"),
            "{msg}"
        );

        let msg = panic_message(|| {
            let tape = Tape::<f64>::new();
            tape.constant(&DMatrix::zeros(2, 3))
                .nll_loss(&[1], Reduction::Mean);
        });
        assert!(
            msg.contains("nll_loss") && msg.contains("1 targets") && msg.contains("2 rows"),
            "{msg}"
        );
    }

    #[test]
    fn a_cross_entropy_training_step_stops_allocating() {
        let x = DMatrix::from_fn(8, 5, |i, j| (i * 5 + j) as f64 * 0.1 - 2.0);
        let targets: Vec<usize> = (0..8).map(|i| i % 5).collect();
        let cfg = CrossEntropyConfig {
            label_smoothing: 0.1,
            ..Default::default()
        };
        let mut tape = Tape::<f64>::new();
        let mut store = ParamStore::new();
        let mut fresh = Vec::new();
        for _ in 0..3 {
            tape.reset();
            let logits = tape.leaf_var(&x);
            let loss =
                logits.cross_entropy(&targets, &cfg) + logits.nll_loss(&targets, Reduction::Sum);
            tape.backward(loss, &mut store);
            fresh.push(tape.fresh_buffers());
        }
        assert_eq!(fresh[1], fresh[2], "buffers allocated per step: {fresh:?}");
    }
}
