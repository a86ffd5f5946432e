//! The training objective: cross-entropy (with label smoothing, and with the
//! soft targets MixUp and CutMix make), mean squared error, or any closure
//! on the tape.

use descent_autodiff::{CrossEntropy2dConfig, CrossEntropyConfig, Reduction, Tape, Var};
use descent_core::Scalar;
use descent_data::Batch;

/// A closure computing a batch's loss (a `1 × 1` mean over the batch) from
/// the model's output on the tape.
pub type LossFn<S> = dyn for<'t> Fn(&'t Tape<S>, Var<'t, S>, &Batch<S>) -> Var<'t, S> + Send + Sync;

/// The loss a [`Trainer`](crate::Trainer) minimizes, always the mean over
/// the batch's samples (so accumulating micro-batches reproduces a large
/// batch).
pub enum Loss<S: Scalar> {
    /// `nn.CrossEntropyLoss(label_smoothing=…)` on class labels; with MixUp
    /// or CutMix, on the batch's soft targets (the same smoothing applied to
    /// them, as PyTorch does for probability targets).
    CrossEntropy {
        /// PyTorch's `label_smoothing` ε in `[0, 1]`.
        label_smoothing: f64,
    },
    /// `nn.MSELoss()` against the batch's `targets` (mean over every element).
    Mse,
    /// Per-pixel classification (semantic segmentation): PyTorch's
    /// `F.cross_entropy(logits, class_map, ignore_index=…,
    /// label_smoothing=…)` on NCHW logits (one channel per class) against
    /// the batch's `class_maps`, the mean over the scored (non-ignored)
    /// pixels of the batch. Accuracy is then per-pixel accuracy, and
    /// evaluation also reports the mean IoU. With gradient accumulation the
    /// micro-batches are weighted by their sample counts, so when they score
    /// different numbers of pixels the result differs slightly from one
    /// large batch's pixel mean. The model's output must be an image batch
    /// with one channel per class (a flat output panics, naming the op).
    PixelCrossEntropy {
        /// Pixels with this label add nothing to the loss or the metrics
        /// (PyTorch's `ignore_index`; `None` scores every pixel).
        ignore_index: Option<usize>,
        /// PyTorch's `label_smoothing` ε in `[0, 1]`.
        label_smoothing: f64,
    },
    /// A user closure on the tape.
    Custom(Box<LossFn<S>>),
}

impl<S: Scalar> std::fmt::Debug for Loss<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Loss::CrossEntropy { label_smoothing } => f
                .debug_struct("CrossEntropy")
                .field("label_smoothing", label_smoothing)
                .finish(),
            Loss::Mse => f.write_str("Mse"),
            Loss::PixelCrossEntropy {
                ignore_index,
                label_smoothing,
            } => f
                .debug_struct("PixelCrossEntropy")
                .field("ignore_index", ignore_index)
                .field("label_smoothing", label_smoothing)
                .finish(),
            Loss::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

impl<S: Scalar> Loss<S> {
    /// Whether the loss may read the batch's features (a closure may; the
    /// built-in losses read labels or targets only).
    pub(crate) fn reads_features(&self) -> bool {
        matches!(self, Loss::Custom(_))
    }

    /// Plain cross-entropy (no smoothing).
    pub fn cross_entropy() -> Self {
        Loss::CrossEntropy {
            label_smoothing: 0.0,
        }
    }

    /// Per-pixel cross-entropy with an ignored label (e.g. 255, VOC's
    /// border class) and no smoothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_train::Loss;
    ///
    /// let loss = Loss::<f32>::pixel_cross_entropy(Some(255));
    /// assert_eq!(loss.ignore_index(), Some(255));
    /// ```
    pub fn pixel_cross_entropy(ignore_index: Option<usize>) -> Self {
        Loss::PixelCrossEntropy {
            ignore_index,
            label_smoothing: 0.0,
        }
    }

    /// The ignored label of a per-pixel loss.
    pub fn ignore_index(&self) -> Option<usize> {
        match self {
            Loss::PixelCrossEntropy { ignore_index, .. } => *ignore_index,
            _ => None,
        }
    }

    /// Whether the loss classifies pixels (reads the batch's `class_maps`).
    pub fn is_per_pixel(&self) -> bool {
        matches!(self, Loss::PixelCrossEntropy { .. })
    }

    /// A loss given by a closure `(tape, output, batch) -> 1×1 mean loss`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_autodiff::Reduction;
    /// use descent_train::Loss;
    ///
    /// // mean absolute error against the batch's targets
    /// let l1 = Loss::<f32>::custom(|tape, out, batch| {
    ///     out.l1_loss(tape.constant(&batch.targets), Reduction::Mean)
    /// });
    /// assert!(matches!(l1, Loss::Custom(_)));
    /// ```
    pub fn custom(
        f: impl for<'t> Fn(&'t Tape<S>, Var<'t, S>, &Batch<S>) -> Var<'t, S> + Send + Sync + 'static,
    ) -> Self {
        Loss::Custom(Box::new(f))
    }

    /// Whether the loss reads class labels (and accuracy makes sense).
    pub fn is_classification(&self) -> bool {
        matches!(self, Loss::CrossEntropy { .. })
    }

    /// The batch's mean loss. `soft` says the batch's `targets` hold soft
    /// class targets (MixUp/CutMix) to use instead of its labels.
    pub(crate) fn apply<'t>(
        &self,
        tape: &'t Tape<S>,
        out: Var<'t, S>,
        batch: &Batch<S>,
        soft: bool,
    ) -> Var<'t, S> {
        match self {
            Loss::CrossEntropy { label_smoothing } if soft => {
                soft_cross_entropy(tape, out, &batch.targets, *label_smoothing)
            }
            Loss::CrossEntropy { label_smoothing } => out.cross_entropy(
                &batch.labels,
                &CrossEntropyConfig {
                    label_smoothing: *label_smoothing,
                    ..CrossEntropyConfig::default()
                },
            ),
            Loss::Mse => out.mse_loss(tape.constant(&batch.targets), Reduction::Mean),
            Loss::PixelCrossEntropy {
                ignore_index,
                label_smoothing,
            } => out.cross_entropy2d(
                &batch.class_maps,
                &CrossEntropy2dConfig {
                    label_smoothing: *label_smoothing,
                    ignore_index: *ignore_index,
                    ..CrossEntropy2dConfig::default()
                },
            ),
            Loss::Custom(f) => f(tape, out, batch),
        }
    }
}

/// `−mean_i Σ_c t'_ic log softmax(z_i)_c` with `t' = (1 − ε) t + ε / C`,
/// PyTorch's cross-entropy for probability targets.
fn soft_cross_entropy<'t, S: Scalar>(
    tape: &'t Tape<S>,
    logits: Var<'t, S>,
    targets: &nalgebra::DMatrix<S>,
    smoothing: f64,
) -> Var<'t, S> {
    let c = targets.ncols().max(1) as f64;
    let t = if smoothing > 0.0 {
        let keep = S::cast(1.0 - smoothing);
        let add = S::cast(smoothing / c);
        tape.constant_with(targets.nrows(), targets.ncols(), |m| {
            m.zip_apply(targets, |o, t| *o = t * keep + add)
        })
    } else {
        tape.constant(targets)
    };
    -(t * logits.log_softmax()).row_sums().mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    #[test]
    fn soft_targets_of_one_hot_labels_equal_the_hard_loss() {
        for smoothing in [0.0, 0.1] {
            let tape = Tape::<f64>::new();
            let z = DMatrix::from_row_slice(
                3,
                4,
                &[0.1, 2.0, -1.0, 0.3, 1.5, 0.2, 0.0, -0.7, 0.9, 0.9, 0.1, 2.2],
            );
            let labels = vec![1usize, 0, 3];
            let mut batch = Batch::<f64>::new();
            batch.labels = labels.clone();
            batch.targets = DMatrix::from_fn(3, 4, |i, j| if labels[i] == j { 1.0 } else { 0.0 });
            let loss = Loss::CrossEntropy {
                label_smoothing: smoothing,
            };
            let hard = loss.apply(&tape, tape.leaf_var(&z), &batch, false).item();
            let soft = loss.apply(&tape, tape.leaf_var(&z), &batch, true).item();
            assert!((hard - soft).abs() < 1e-14, "{smoothing}: {hard} vs {soft}");
        }
    }
}
