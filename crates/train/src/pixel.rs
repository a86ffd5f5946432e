//! Per-pixel classification metrics: pixel accuracy and mean IoU (the
//! Jaccard index averaged over classes, as torchmetrics' `JaccardIndex`
//! with `average="macro"` and mmsegmentation's `mIoU`).

use descent_core::{ImageShape, Scalar};
use nalgebra::DMatrix;

/// Counts over the scored pixels of one or more batches.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PixelCounts {
    /// Pixels whose top class is their label.
    pub correct: u64,
    /// Pixels whose label is not the ignore index.
    pub scored: u64,
    /// Per class: pixels predicted and labelled as it.
    intersection: Vec<u64>,
    /// Per class: pixels predicted as it.
    predicted: Vec<u64>,
    /// Per class: pixels labelled as it.
    labelled: Vec<u64>,
}

impl PixelCounts {
    /// Adds a batch: `logits` is `N × (C·H·W)` (one channel per class,
    /// `shape` its `C × H × W`), `maps` the `N·H·W` labels.
    pub fn add<S: Scalar>(
        &mut self,
        logits: &DMatrix<S>,
        shape: ImageShape,
        maps: &[usize],
        ignore: Option<usize>,
    ) {
        let (c, hw) = (shape.c, shape.h * shape.w);
        if self.intersection.len() < c {
            self.intersection.resize(c, 0);
            self.predicted.resize(c, 0);
            self.labelled.resize(c, 0);
        }
        for (s, map) in maps
            .chunks_exact(hw.max(1))
            .enumerate()
            .take(logits.nrows())
        {
            for (p, &y) in map.iter().enumerate() {
                if Some(y) == ignore || y >= c {
                    continue;
                }
                let mut best = (0, f64::NEG_INFINITY);
                for k in 0..c {
                    let v = logits[(s, k * hw + p)].as_f64();
                    if v > best.1 {
                        best = (k, v);
                    }
                }
                let pred = best.0;
                self.scored += 1;
                self.correct += u64::from(pred == y);
                self.intersection[y] += u64::from(pred == y);
                self.predicted[pred] += 1;
                self.labelled[y] += 1;
            }
        }
    }

    /// Fraction of scored pixels classified right.
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.scored.max(1) as f64
    }

    /// Mean over classes present in the labels or the predictions of
    /// `|pred ∩ label| / |pred ∪ label|`; classes absent from both are left
    /// out (mmsegmentation's `nanmean`).
    pub fn mean_iou(&self) -> f64 {
        let ious: Vec<f64> = (0..self.intersection.len())
            .filter_map(|k| {
                let i = self.intersection[k];
                let union = self.predicted[k] + self.labelled[k] - i;
                (union > 0).then(|| i as f64 / union as f64)
            })
            .collect();
        if ious.is_empty() {
            0.0
        } else {
            ious.iter().sum::<f64>() / ious.len() as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_and_iou_count_scored_pixels_only() {
        // one 1×3 image, 2 classes: logits per channel [ch0 p0..p2, ch1 p0..p2]
        let z = DMatrix::from_row_slice(1, 6, &[2.0, 0.0, 0.0, 0.0, 1.0, 1.0]);
        let mut c = PixelCounts::default();
        // predictions [0, 1, 1]; labels [0, 0, 255 ignored]
        c.add(&z, ImageShape::new(2, 1, 3), &[0, 0, 255], Some(255));
        assert_eq!((c.correct, c.scored), (1, 2));
        assert_eq!(c.accuracy(), 0.5);
        // class 0: I = 1, U = 2; class 1: I = 0, U = 1
        assert_eq!(c.mean_iou(), 0.25);
    }
}
