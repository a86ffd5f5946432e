//! Per-pixel cross-entropy: PyTorch's `F.cross_entropy` on K-dimensional
//! input, logits `N × C × H × W` against a class map `N × H × W`, with
//! `weight`, `ignore_index`, `reduction` and `label_smoothing` combined as
//! PyTorch combines them. One fused node: a stable log-softmax over the
//! channels of each pixel, the weighted negative log-likelihood, and the
//! closed-form backward `p − q`.

use super::{Loss, Reduction};
use crate::ops::softmax2d::{channel_logsumexp, image_of};
use crate::ops::{BackCtx, Backward, Op};
use crate::pool::Pool;
use crate::var::Var;
use descent_core::{ImageShape, Scalar};
use nalgebra::DMatrix;

/// Marks an ignored pixel in the saved class map.
const IGNORED: u32 = u32::MAX;

/// The options of [`Var::cross_entropy2d`]; `Default` is PyTorch's defaults
/// (mean reduction, no label smoothing, no ignored class, no class weights).
///
/// # Examples
///
/// ```
/// use descent_autodiff::{CrossEntropy2dConfig, Reduction};
///
/// // Pascal VOC: class 255 marks object borders and is not scored
/// let cfg = CrossEntropy2dConfig { ignore_index: Some(255), ..Default::default() };
/// assert_eq!(cfg.reduction, Reduction::Mean);
/// assert!(cfg.weight.is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CrossEntropy2dConfig {
    /// How the per-pixel losses are combined. `Mean` divides by the summed
    /// weight of the scored pixels' target classes (their count without
    /// `weight`), as PyTorch does: `NaN` if no pixel is scored.
    pub reduction: Reduction,
    /// ε in `[0, 1]`: the target distribution is `(1 − ε)·onehot + ε/C`.
    pub label_smoothing: f64,
    /// A class whose pixels add nothing to the loss, its gradient or the
    /// `Mean` denominator (PyTorch's `ignore_index`; its default −100 is
    /// `None` here). It may lie outside `0..C`, as VOC's 255 does.
    pub ignore_index: Option<usize>,
    /// A rescaling weight per class (PyTorch's `weight`, length `C`).
    pub weight: Option<Vec<f64>>,
}

#[derive(Debug)]
pub(crate) struct ClassLoss2d<S: Scalar> {
    x: u32,
    /// The class of each pixel in the input's column-major pixel order
    /// (`pixel·N + sample`), [`IGNORED`] for ignored pixels.
    targets: Vec<u32>,
    reduction: Reduction,
    /// The per-pixel softmax, `N × (C·H·W)`.
    probs: DMatrix<S>,
    /// The class weights as a `1 × C` row (ones without `weight`).
    weight: DMatrix<S>,
    smoothing: S,
    /// The `Mean` denominator: Σ over scored pixels of their target's weight.
    denom: S,
}

/// Checks the configuration against `c` classes and `count` targets; panics naming the op.
fn check_config(cfg: &CrossEntropy2dConfig, c: usize, targets: usize, count: usize) {
    let eps = cfg.label_smoothing;
    assert!(
        (0.0..=1.0).contains(&eps),
        "cross_entropy2d: label_smoothing {eps} is outside [0, 1]"
    );
    if let Some(w) = &cfg.weight {
        assert_eq!(
            w.len(),
            c,
            "cross_entropy2d: {} class weights for {c} classes",
            w.len()
        );
        if let Some((k, v)) = w.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            panic!("cross_entropy2d: class weight {k} is {v}, not finite");
        }
    }
    assert_eq!(
        targets, count,
        "cross_entropy2d: {targets} targets for an input of {count} pixels (N·H·W)"
    );
}

/// Copies the `N × H × W` class map (row-major, as PyTorch's contiguous
/// tensor) into a pool index buffer in the column-major pixel order.
fn class_map(
    targets: &[usize],
    (n, hw, c): (usize, usize, usize),
    ignore: Option<usize>,
    mut idx: Vec<u32>,
) -> Vec<u32> {
    for p in 0..hw {
        for s in 0..n {
            let k = targets[s * hw + p];
            if Some(k) == ignore {
                idx.push(IGNORED);
            } else {
                assert!(
                    k < c,
                    "cross_entropy2d: target {k} (sample {s}, pixel {p}) is out of range for {c} classes"
                );
                idx.push(k as u32);
            }
        }
    }
    idx
}

impl<'t, S: Scalar> Var<'t, S> {
    /// Cross-entropy of per-pixel logits `self` (a batch of images,
    /// `N × (C·H·W)`, one channel per class) against a class map `targets`
    /// (`N·H·W` class indices in row-major `N × H × W` order), as PyTorch's
    /// `F.cross_entropy(input, target, weight, ignore_index=…, reduction=…,
    /// label_smoothing=…)` for K-dimensional input. With `w` the class
    /// weights (ones by default), `p = softmax2d(self)` and `y` a pixel's
    /// class, the pixel's loss is
    /// `(1 − ε)·(−w_y log p_y) + (ε/C)·Σ_c (−w_c log p_c)`, and 0 for an
    /// ignored pixel. `Sum` gives a 1×1; `Mean` divides that sum by
    /// `Σ w_y` over the scored pixels (PyTorch's weighted mean); `None`
    /// gives the `N × (H·W)` map with image shape `1 × H × W`.
    ///
    /// With `H = W = 1`, no weights and nothing ignored it equals
    /// [`Var::cross_entropy`] on the `N × C` matrix.
    ///
    /// Panics, naming the op, if the input has no image shape, `targets`
    /// does not have `N·H·W` entries, a target that is not `ignore_index`
    /// is not below `C`, `weight` does not have `C` finite entries, or ε is
    /// outside `[0, 1]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_autodiff::{CrossEntropy2dConfig, ImageShape, Tape};
    /// use nalgebra::DMatrix;
    ///
    /// // one 1×2 image, 2 classes; pixel 0 is uniform, pixel 1 is ignored
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant_image(&DMatrix::from_row_slice(1, 4, &[0.0, 9.0, 0.0, -9.0]), ImageShape::new(2, 1, 2));
    /// let cfg = CrossEntropy2dConfig { ignore_index: Some(255), ..Default::default() };
    /// let loss = x.cross_entropy2d(&[1, 255], &cfg);
    /// assert!((loss.item() - 2f64.ln()).abs() < 1e-15);
    /// ```
    pub fn cross_entropy2d(self, targets: &[usize], cfg: &CrossEntropy2dConfig) -> Var<'t, S> {
        let eps = S::cast(cfg.label_smoothing);
        Var::record(self.tape, |t| {
            let shape = image_of("cross_entropy2d", t.image(self.idx));
            let x = &t.values[self.idx as usize];
            let (n, hw, c) = (x.nrows(), shape.h * shape.w, shape.c);
            check_config(cfg, c, targets.len(), n * hw);
            let idx = t.pool.take_idx();
            let targets = class_map(targets, (n, hw, c), cfg.ignore_index, idx);
            let mut weight = t.pool.take(1, c);
            for (k, w) in weight.iter_mut().enumerate() {
                *w = cfg.weight.as_ref().map_or(S::one(), |v| S::cast(v[k]));
            }
            let (mut lse, mut sums) = (t.pool.take(n, hw), t.pool.take(n, hw));
            channel_logsumexp(x, c, &mut lse, &mut sums);
            t.pool.give(sums);
            let m = n * hw;
            let mut probs = t.pool.take(n, x.ncols());
            for ch in 0..c {
                let (src, dst) = (&x.as_slice()[ch * m..], &mut probs.as_mut_slice()[ch * m..]);
                for k in 0..m {
                    dst[k] = (src[k] - lse[k]).exp();
                }
            }
            let xs = x.as_slice();
            let c_s = S::from_count(c);
            let loss = |k: usize| -> S {
                let y = targets[k];
                if y == IGNORED {
                    return S::zero();
                }
                let nll = weight[y as usize] * (lse[k] - xs[y as usize * m + k]);
                if eps == S::zero() {
                    return nll;
                }
                let mut smooth = S::zero();
                for ch in 0..c {
                    smooth += weight[ch] * (lse[k] - xs[ch * m + k]);
                }
                (S::one() - eps) * nll + eps * smooth / c_s
            };
            // Σ over scored pixels of their target's weight, in f64
            let denom: f64 = targets
                .iter()
                .filter(|&&y| y != IGNORED)
                .map(|&y| weight[y as usize].as_f64())
                .sum();
            let (out, image) = match cfg.reduction {
                Reduction::None => (
                    Reduction::None.apply(&mut t.pool, (n, hw), loss),
                    Some(ImageShape::new(1, shape.h, shape.w)),
                ),
                reduction => {
                    let total: f64 = (0..m).map(|k| loss(k).as_f64()).sum();
                    let mut out = t.pool.take(1, 1);
                    out[0] = S::cast(if reduction == Reduction::Mean {
                        total / denom
                    } else {
                        total
                    });
                    (out, None)
                }
            };
            t.pool.give(lse);
            let needs = t.needs(self.idx);
            let op = ClassLoss2d {
                x: self.idx,
                targets,
                reduction: cfg.reduction,
                probs,
                weight,
                smoothing: eps,
                denom: S::cast(denom),
            };
            (out, Op::Loss(Loss::Class2d(op)), needs, image)
        })
    }
}

impl<S: Scalar> Backward<S> for ClassLoss2d<S> {
    fn backward(&self, ctx: &mut BackCtx<'_, S>, _out: usize, g: &DMatrix<S>) {
        let up = |k: usize| match self.reduction {
            Reduction::Mean => g[0] / self.denom,
            Reduction::Sum => g[0],
            Reduction::None => g[k],
        };
        let (eps, c) = (self.smoothing, self.weight.len());
        let off = eps / S::from_count(c);
        let w_total = self.weight.iter().fold(S::zero(), |a, &w| a + w);
        let m = self.targets.len();
        let (p, w) = (self.probs.as_slice(), &self.weight);
        let gx = ctx.grad_mut(self.x).as_mut_slice();
        // ∂/∂x_c = (1 − ε)·w_y·(p_c − δ_cy) + (ε/C)·(W·p_c − w_c), W = Σ w
        for ch in 0..c {
            let (pc, gc) = (&p[ch * m..(ch + 1) * m], &mut gx[ch * m..(ch + 1) * m]);
            for (k, &y) in self.targets.iter().enumerate() {
                if y != IGNORED {
                    let scale = (S::one() - eps) * w[y as usize] + off * w_total;
                    gc[k] += up(k) * (scale * pc[k] - off * w[ch]);
                }
            }
        }
        for (k, &y) in self.targets.iter().enumerate() {
            if y != IGNORED {
                gx[y as usize * m + k] -= up(k) * (S::one() - eps) * w[y as usize];
            }
        }
    }

    fn recycle(self, pool: &mut Pool<S>) {
        pool.give_idx(self.targets);
        pool.give(self.probs);
        pool.give(self.weight);
    }
}

#[cfg(test)]
mod tests;
