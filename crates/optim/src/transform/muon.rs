//! `scale_by_muon`: PyTorch 2.15's Muon, momentum orthogonalized by Newton–Schulz.

use crate::buf::Bufs;
use crate::error::Error;
use crate::transform::adafactor::lerp;
use crate::transform::{
    BlockTransform, Mask, MomentumKind, Tensors, copy_prepared_update,
    gradient_transform_via_blocks,
};
use descent_core::{Params, Scalar, StepCtx};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// How Muon scales its learning rate by the shape `rows × cols` of a
/// parameter (PyTorch's `adjust_lr_fn`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdjustLr {
    /// Keller Jordan's `√max(1, rows/cols)` (PyTorch's `None` and `"original"`).
    #[default]
    Original,
    /// Moonshot's `0.2·√max(rows, cols)`, to reuse AdamW's rate and decay
    /// (`"match_rms_adamw"`).
    MatchRmsAdamw,
    /// `√(rows/cols)`, the spectral-norm scaling without the clamp at 1
    /// (`"spectral_unclamped"`).
    SpectralUnclamped,
}

impl AdjustLr {
    /// The factor for a `rows × cols` parameter.
    pub fn ratio(self, rows: usize, cols: usize) -> f64 {
        let (a, b) = (rows as f64, cols as f64);
        match self {
            AdjustLr::Original => (a / b).max(1.0).sqrt(),
            AdjustLr::MatchRmsAdamw => 0.2 * a.max(b).sqrt(),
            AdjustLr::SpectralUnclamped => (a / b).sqrt(),
        }
    }
}

/// Muon (Jordan et al. 2024) as PyTorch 2.15's `torch.optim.Muon`
/// computes it (its code, not its docstring):
///
/// ```text
/// B ← μB + (1 − μ)G                      (buf.lerp_(grad, 1 − μ))
/// M = (1 − μ)G + μB (nesterov) or B
/// X = M/max(‖M‖_F, ε), transposed when rows > cols;
/// ns_steps times: A = XXᵀ, X ← aX + (bA + cA²)X; transposed back: O
/// p ← p·(1 − lr·λ) − lr·r(rows, cols)·O
/// ```
///
/// PyTorch runs Newton–Schulz in bfloat16; this stage runs it in the
/// parameter's type (f32 or f64), which is at least as accurate.
/// Only matrices (two or more rows) are supported: a one-row parameter in
/// its group is [`Error::UnsupportedShape`] when the optimizer is built
/// (route it to AdamW, as `Muon::with_adamw` does). The update needs the
/// whole matrix, so it is computed in `prepare` and the blocks copy it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByMuon {
    /// μ, the momentum (schedulable as the group's `momentum`).
    pub momentum: f64,
    /// Orthogonalize the Nesterov look-ahead instead of the buffer.
    pub nesterov: bool,
    /// (a, b, c), the Newton–Schulz polynomial's coefficients.
    pub ns_coefficients: (f64, f64, f64),
    /// ε, the floor of the Frobenius norm the input is divided by.
    pub eps: f64,
    /// Newton–Schulz iterations.
    pub ns_steps: usize,
    /// The learning-rate adjustment by shape.
    pub adjust_lr: AdjustLr,
    /// λ, the decoupled weight decay (scaled by the unadjusted rate).
    pub weight_decay: f64,
}

/// Muon's stage; see [`ScaleByMuon`] for the arguments.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::{AdjustLr, scale_by_muon};
///
/// let muon = scale_by_muon(0.95, true, (3.4445, -4.775, 2.0315), 1e-7, 5, AdjustLr::Original, 0.1);
/// assert_eq!(muon.ns_steps, 5);
/// ```
pub fn scale_by_muon(
    momentum: f64,
    nesterov: bool,
    ns_coefficients: (f64, f64, f64),
    eps: f64,
    ns_steps: usize,
    adjust_lr: AdjustLr,
    weight_decay: f64,
) -> ScaleByMuon {
    ScaleByMuon {
        momentum,
        nesterov,
        ns_coefficients,
        eps,
        ns_steps,
        adjust_lr,
        weight_decay,
    }
}

/// State of [`ScaleByMuon`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ScaleByMuonState<S: Scalar> {
    /// Steps taken.
    pub count: u64,
    /// Momentum buffers (PyTorch's `momentum_buffer`).
    pub buf: Bufs<S>,
    /// This step's updates, computed in `prepare` (not state: rebuilt each step).
    #[serde(skip)]
    update: Vec<Vec<S>>,
}

impl ScaleByMuon {
    /// Newton–Schulz orthogonalization of `m` (PyTorch's
    /// `_zeropower_via_newtonschulz`, in `S` instead of bfloat16).
    pub fn orthogonalize<S: Scalar>(&self, m: &DMatrix<S>) -> DMatrix<S> {
        let (a, b, c) = self.ns_coefficients;
        let (a, b, c) = (S::cast(a), S::cast(b), S::cast(c));
        let tall = m.nrows() > m.ncols();
        let mut x = if tall { m.transpose() } else { m.clone() };
        let norm = x
            .iter()
            .map(|v| v.as_f64() * v.as_f64())
            .sum::<f64>()
            .sqrt();
        x /= S::cast(norm.max(self.eps));
        for _ in 0..self.ns_steps {
            let gram = &x * x.transpose();
            let poly = &gram * b + (&gram * &gram) * c;
            x = &x * a + poly * &x;
        }
        if tall { x.transpose() } else { x }
    }

    /// One matrix's update (`rows × cols`, column-major), written into `out`
    /// as `p_new − p`; updates the momentum buffer.
    fn tensor_update<S: Scalar>(
        &self,
        (lr, mu): (f64, f64),
        (rows, cols): (usize, usize),
        g: &[S],
        p: &[S],
        buf: &mut [S],
        out: &mut Vec<S>,
    ) {
        for (b, &g) in buf.iter_mut().zip(g) {
            *b = S::cast(lerp(b.as_f64(), g.as_f64(), 1.0 - mu));
        }
        let m = DMatrix::from_fn(rows, cols, |i, j| {
            let k = i + j * rows;
            match self.nesterov {
                true => S::cast(lerp(g[k].as_f64(), buf[k].as_f64(), mu)),
                false => buf[k],
            }
        });
        let o = self.orthogonalize(&m);
        let keep = S::cast(1.0 - lr * self.weight_decay);
        let step = S::cast(-lr * self.adjust_lr.ratio(rows, cols));
        out.clear();
        out.extend(
            p.iter()
                .zip(o.as_slice())
                .map(|(&p, &o)| (p * keep + o * step) - p),
        );
    }
}

impl<S: Scalar> BlockTransform<S> for ScaleByMuon {
    type State = ScaleByMuonState<S>;
    type Coefs = ();
    type View<'a> = &'a mut [S];

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        ScaleByMuonState {
            count: 0,
            buf: Bufs::zeros(params, mask),
            update: Vec::new(),
        }
    }

    fn check_params(&self, params: &Params<S>, mask: Mask<'_>) -> crate::Result<()> {
        for (id, meta, _) in params.iter() {
            let (rows, cols) = meta.shape;
            if mask.contains(id) && rows < 2 {
                return Err(Error::UnsupportedShape {
                    optimizer: "Muon",
                    name: meta.name.clone(),
                    rows,
                    cols,
                    expected: "matrices only (two or more rows); give one-row parameters \
                               (biases, norm weights) another group, as Muon::with_adamw does",
                });
            }
        }
        Ok(())
    }

    fn reads_input(&self) -> bool {
        true
    }

    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        Some((MomentumKind::Momentum, self.momentum))
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
        let mu = ctx.momentum.unwrap_or(self.momentum);
        state.update.resize_with(params.len(), Vec::new);
        for ((id, meta, value), buf) in params.iter().zip(state.buf.slices_mut()) {
            let out = &mut state.update[id.index()];
            if !mask.contains(id) {
                out.clear();
                continue;
            }
            let (g, p) = (input.get(id), value.as_slice());
            self.tensor_update((ctx.lr, mu), meta.shape, g, p, buf, out);
        }
    }

    copy_prepared_update!();
}
gradient_transform_via_blocks!(ScaleByMuon);

#[cfg(test)]
mod tests {
    use super::*;

    fn singular_values(m: &DMatrix<f64>) -> Vec<f64> {
        m.clone()
            .svd(false, false)
            .singular_values
            .iter()
            .copied()
            .collect()
    }

    #[test]
    fn newton_schulz_brings_every_singular_value_near_one() {
        // PyTorch's quintic: singular values land in roughly (0.5, 1.5).
        let stage = scale_by_muon(
            0.95,
            true,
            (3.4445, -4.775, 2.0315),
            1e-7,
            5,
            AdjustLr::Original,
            0.0,
        );
        for (r, c) in [(4, 3), (3, 5), (6, 6)] {
            // Full rank (a zero singular value stays zero), condition below 10.
            let m = DMatrix::from_fn(r, c, |i, j| {
                f64::from(u8::from(i == j)) * 2.0 + 0.4 * (1.3 * i as f64 + 0.7 * j as f64).sin()
            });
            let o = stage.orthogonalize(&m);
            assert_eq!(o.shape(), (r, c));
            for s in singular_values(&o) {
                assert!((0.5..1.5).contains(&s), "{r}x{c}: {s}");
            }
        }
    }

    #[test]
    fn the_lr_adjustments_are_pytorchs() {
        assert_eq!(AdjustLr::Original.ratio(8, 2), 2.0);
        assert_eq!(AdjustLr::Original.ratio(2, 8), 1.0);
        assert_eq!(AdjustLr::MatchRmsAdamw.ratio(4, 25), 0.2 * 5.0);
        assert_eq!(AdjustLr::SpectralUnclamped.ratio(2, 8), 0.5);
    }
}
