//! `scale_by_adafactor`: PyTorch 2.15's Adafactor, factored second moments.

use crate::buf::Bufs;
use crate::transform::{
    BlockTransform, Mask, Tensors, copy_prepared_update, gradient_transform_via_blocks,
};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// Adafactor (Shazeer & Stern 2018) as PyTorch 2.15's `torch.optim.Adafactor`
/// computes it, learning rate and decoupled weight decay included.
///
/// A parameter with two or more rows keeps the row and column means of the
/// squared gradient (factored second moment, `rows + cols` numbers); a
/// parameter with one row — the store's layout of PyTorch's 1-d tensors,
/// such as biases — keeps an element-wise second moment. At step t, with
/// `β̂ = 1 − t^beta2_decay`, `ρ = min(lr, 1/√t)` and
/// `α = max(ε₂, RMS(p))·ρ`:
///
/// ```text
/// p ← p·(1 − lr·λ)
/// V̂ = R Cᵀ / max(mean(R), ε₁)   (factored)   or   V̂ = V   (one row)
/// U = G / √max(V̂, ε₁²);   p ← p − α·U / max(1, RMS(U)/d)
/// ```
///
/// The update needs whole-tensor reductions (`RMS(p)`, `RMS(U)`), so this
/// stage computes each tensor's update in `prepare` (one buffer the size of
/// the parameter, as PyTorch's `update` tensor) and must come first in its
/// chain; its blocks then only copy.
///
/// A genuine PyTorch `[1, n]` matrix is stored as one row too and so gets
/// the element-wise moment; PyTorch factors it, which gives the same
/// estimate up to rounding (its row statistic cancels) unless `mean(g²)`
/// falls below ε₁.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByAdafactor {
    /// The exponent of β₂'s schedule: `1 − β₂,t = t^beta2_decay` (≤ 0).
    pub beta2_decay: f64,
    /// ε₁, the floor of the variance estimate's square root; `None` is
    /// the machine epsilon of the parameter's type (PyTorch's default).
    pub eps1: Option<f64>,
    /// ε₂, the floor of the parameter RMS in the step size.
    pub eps2: f64,
    /// d, the clipping threshold of the update's RMS.
    pub d: f64,
    /// λ, the decoupled weight decay (scaled by the learning rate).
    pub weight_decay: f64,
    /// Ascend instead of descend.
    pub maximize: bool,
}

/// Adafactor with PyTorch's arguments (`eps = (eps1, eps2)`).
///
/// # Examples
///
/// ```
/// use descent_optim::transform::scale_by_adafactor;
///
/// let adafactor = scale_by_adafactor(-0.8, (None, 1e-3), 1.0, 0.0, false);
/// assert_eq!(adafactor.eps2, 1e-3);
/// ```
pub fn scale_by_adafactor(
    beta2_decay: f64,
    eps: (Option<f64>, f64),
    d: f64,
    weight_decay: f64,
    maximize: bool,
) -> ScaleByAdafactor {
    ScaleByAdafactor {
        beta2_decay,
        eps1: eps.0,
        eps2: eps.1,
        d,
        weight_decay,
        maximize,
    }
}

/// State of [`ScaleByAdafactor`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ScaleByAdafactorState<S: Scalar> {
    /// Steps taken.
    pub count: u64,
    /// Per factored parameter, the running mean of g² over each row (one per row).
    pub row_var: Bufs<S>,
    /// Per factored parameter, the running mean of g² over each column (one per column).
    pub col_var: Bufs<S>,
    /// Per one-row parameter, the element-wise running mean of g².
    pub variance: Bufs<S>,
    /// This step's updates, computed in `prepare` (not state: rebuilt each step).
    #[serde(skip)]
    update: Vec<Vec<S>>,
}

/// True when a `rows × cols` parameter gets factored statistics.
fn factored(rows: usize) -> bool {
    rows >= 2
}

/// `torch.lerp(a, b, w)`: `a + w(b − a)` for `|w| < 0.5`, else `b − (b − a)(1 − w)`.
#[inline(always)]
pub(crate) fn lerp(a: f64, b: f64, w: f64) -> f64 {
    if w.abs() < 0.5 {
        a + w * (b - a)
    } else {
        b - (b - a) * (1.0 - w)
    }
}

/// The Euclidean norm of `x`, accumulated in f64.
fn norm<S: Scalar>(x: impl Iterator<Item = S>) -> f64 {
    x.map(|v| v.as_f64() * v.as_f64()).sum::<f64>().sqrt()
}

/// The step's scalars shared by every tensor.
struct Step {
    lr: f64,
    one_minus_beta2: f64,
    rho: f64,
    eps1: f64,
}

/// One tensor's second-moment statistics: the row and column factors of a
/// factored (matrix) tensor, or the full variance of an unfactored one.
struct Moments<'a, S> {
    row_var: &'a mut [S],
    col_var: &'a mut [S],
    variance: &'a mut [S],
}

impl ScaleByAdafactor {
    /// One tensor's update (`rows × cols`, column-major): updates its
    /// second-moment statistics and writes `p_new − p` into `out`.
    fn tensor_update<S: Scalar>(
        &self,
        st: &Step,
        (rows, cols): (usize, usize),
        g: &[S],
        p: &[S],
        moments: Moments<'_, S>,
        out: &mut Vec<S>,
    ) {
        let Moments {
            row_var,
            col_var,
            variance,
        } = moments;
        let n = g.len();
        let sign = if self.maximize { -1.0 } else { 1.0 };
        let grad = |k: usize| sign * g[k].as_f64();
        let alpha = self.eps2.max(norm(p.iter().copied()) / (n as f64).sqrt()) * st.rho;
        // The variance estimate, into `out` for now.
        out.clear();
        if factored(rows) {
            for (i, r) in row_var.iter_mut().enumerate() {
                let sq = norm((0..cols).map(|j| S::cast(grad(i + j * rows)))).powi(2);
                *r = S::cast(lerp(r.as_f64(), sq / cols as f64, st.one_minus_beta2));
            }
            for (j, c) in col_var.iter_mut().enumerate() {
                let sq = norm((0..rows).map(|i| S::cast(grad(i + j * rows)))).powi(2);
                *c = S::cast(lerp(c.as_f64(), sq / rows as f64, st.one_minus_beta2));
            }
            let mean = row_var.iter().map(|r| r.as_f64()).sum::<f64>() / rows as f64;
            let mean = mean.max(st.eps1);
            out.extend((0..n).map(|k| {
                let (i, j) = (k % rows, k / rows);
                S::cast(row_var[i].as_f64() * col_var[j].as_f64() / mean)
            }));
        } else {
            for (k, v) in variance.iter_mut().enumerate() {
                let g = grad(k);
                *v = S::cast(lerp(v.as_f64(), g * g, st.one_minus_beta2));
            }
            out.extend_from_slice(variance);
        }
        // U = G / sqrt(max(V̂, ε₁²)), then its RMS clip.
        let floor = st.eps1 * st.eps1;
        for (k, u) in out.iter_mut().enumerate() {
            *u = S::cast(grad(k) / u.as_f64().max(floor).sqrt());
        }
        let denom = (norm(out.iter().copied()) / ((n as f64).sqrt() * self.d)).max(1.0);
        let step = -alpha / denom;
        let keep = 1.0 - st.lr * self.weight_decay;
        for (u, &p) in out.iter_mut().zip(p) {
            let decayed = if self.weight_decay != 0.0 {
                p * S::cast(keep)
            } else {
                p
            };
            *u = (decayed + *u * S::cast(step)) - p;
        }
    }
}

impl<S: Scalar> BlockTransform<S> for ScaleByAdafactor {
    type State = ScaleByAdafactorState<S>;
    type Coefs = ();
    type View<'a> = &'a mut [S];

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        let (mut rows, mut cols, mut var) = (Vec::new(), Vec::new(), Vec::new());
        for (id, meta, _) in params.iter() {
            let (r, c) = meta.shape;
            let on = mask.contains(id);
            let f = on && factored(r);
            rows.push(vec![S::zero(); if f { r } else { 0 }]);
            cols.push(vec![S::zero(); if f { c } else { 0 }]);
            var.push(vec![S::zero(); if on && !f { r * c } else { 0 }]);
        }
        ScaleByAdafactorState {
            count: 0,
            row_var: Bufs::from_vecs(rows),
            col_var: Bufs::from_vecs(cols),
            variance: Bufs::from_vecs(var),
            update: Vec::new(),
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
        state.count += 1;
        let t = state.count as f64;
        let st = Step {
            lr: ctx.lr,
            one_minus_beta2: t.powf(self.beta2_decay),
            rho: ctx.lr.min(1.0 / t.sqrt()),
            eps1: self.eps1.unwrap_or(S::EPSILON.as_f64()),
        };
        state.update.resize_with(params.len(), Vec::new);
        let rows = state.row_var.vecs_mut();
        let cols = state.col_var.vecs_mut();
        let vars = state.variance.vecs_mut();
        for (id, meta, value) in params.iter() {
            let k = id.index();
            if !mask.contains(id) {
                state.update[k].clear();
                continue;
            }
            self.tensor_update(
                &st,
                meta.shape,
                input.get(id),
                value.as_slice(),
                Moments {
                    row_var: &mut rows[k],
                    col_var: &mut cols[k],
                    variance: &mut vars[k],
                },
                &mut state.update[k],
            );
        }
    }

    copy_prepared_update!();
}
gradient_transform_via_blocks!(ScaleByAdafactor);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lerp_is_torchs_two_sided_formula() {
        assert_eq!(lerp(1.0, 3.0, 0.25), 1.5);
        assert_eq!(lerp(1.0, 3.0, 0.75), 2.5);
        assert_eq!(lerp(1.0, 3.0, 1.0), 3.0);
    }

    #[test]
    fn a_first_factored_step_moves_each_element_by_about_rho_times_rms() {
        // Step 1: β̂ = 0, so R and C are the exact row and column means and,
        // for a rank-one |G|, V̂ = G² exactly: U = sign(G), RMS(U) = 1.
        let stage = scale_by_adafactor(-0.8, (None, 1e-3), 1.0, 0.0, false);
        let st = Step {
            lr: 0.01,
            one_minus_beta2: 1.0,
            rho: 0.01,
            eps1: f64::EPSILON,
        };
        let g = [1.0, -2.0, 2.0, -4.0]; // column-major [[1, 2], [-2, -4]]
        let p = [1.0; 4];
        let (mut r, mut c, mut out) = (vec![0.0; 2], vec![0.0; 2], Vec::new());
        let moments = Moments {
            row_var: &mut r,
            col_var: &mut c,
            variance: &mut [],
        };
        stage.tensor_update(&st, (2, 2), &g, &p, moments, &mut out);
        for (u, g) in out.iter().zip(g) {
            assert!((u + 0.01 * f64::signum(g)).abs() < 1e-15, "{out:?}");
        }
    }

    #[test]
    fn no_eps1_is_the_machine_epsilon_of_the_parameter_type() {
        use crate::{AdafactorConfig, Optimizer};
        use descent_core::{ParamStore, Tags};
        use nalgebra::DMatrix;

        fn run<S: Scalar>(eps1: Option<f64>) -> Vec<f64> {
            let mut store = ParamStore::<S>::new();
            let w = store
                .register("w", Tags::WEIGHT, DMatrix::from_element(1, 3, S::cast(1.0)))
                .unwrap();
            let eps = (eps1, 1e-3);
            let mut opt: Optimizer<S> = AdafactorConfig {
                eps,
                ..AdafactorConfig::default()
            }
            .build(&store)
            .unwrap();
            // A tiny gradient, where the ε₁ floor decides the step.
            store
                .grad_mut(w)
                .copy_from_slice(&[S::cast(1e-9), S::cast(1.0), S::zero()]);
            opt.step(&mut store).unwrap();
            store.value(w).iter().map(|v| v.as_f64()).collect()
        }
        assert_eq!(run::<f32>(None), run::<f32>(Some(f32::EPSILON as f64)));
        assert_eq!(run::<f64>(None), run::<f64>(Some(f64::EPSILON)));
        assert_ne!(run::<f64>(None), run::<f64>(Some(f32::EPSILON as f64)));
    }
}
