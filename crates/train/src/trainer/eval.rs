//! Evaluation: the model in [`Mode::Eval`] over a whole dataset, in order,
//! drawing no random numbers.

use super::Trainer;
use crate::Result;
use crate::input::{input, input_moved};
use crate::metrics::{SplitMetrics, count_correct};
use crate::pixel::PixelCounts;
use descent_core::Scalar;
use descent_data::{Batch, Dataset};
use descent_nn::{Ctx, Mode, Module};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

impl<S: Scalar, M: Module<S>> Trainer<S, M> {
    /// Loss, accuracy and top-k accuracy of the model on `data`, in
    /// evaluation mode (running statistics, no dropout). Buffers and
    /// parameters are left as they are.
    pub fn evaluate(&mut self, data: &dyn Dataset<S>) -> Result<SplitMetrics> {
        let classification = data.schema().n_classes().is_some();
        self.evaluate_split(data, classification)
    }

    pub(crate) fn evaluate_split(
        &mut self,
        data: &dyn Dataset<S>,
        classification: bool,
    ) -> Result<SplitMetrics> {
        let n = data.len();
        if n == 0 {
            return Err(crate::Error::Data {
                dataset: "evaluation".into(),
                reason: "the set is empty".into(),
            });
        }
        // Evaluation mode never draws; the RNG only satisfies `Ctx`.
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut batch = Batch::new();
        let mut indices = Vec::with_capacity(self.config.eval_batch_size.min(n));
        let (mut loss_sum, mut correct, mut correct_k) = (0.0, 0u64, 0u64);
        let mut pixels = self.loss.is_per_pixel().then(PixelCounts::default);
        let mut start = 0;
        while start < n {
            let end = (start + self.config.eval_batch_size).min(n);
            indices.clear();
            indices.extend(start..end);
            data.gather(&indices, &mut batch);
            self.tape.reset();
            let tape = &self.tape;
            // The features move to the tape unless the loss may read them
            // (the next gather refills the batch).
            let x = if self.loss.reads_features() {
                input(tape, &batch)
            } else {
                input_moved(tape, &mut batch)
            };
            let out = {
                let mut ctx = Ctx::new(tape, &mut self.state, Mode::Eval, &mut rng);
                self.model.forward(&mut ctx, x)
            };
            let loss = self.loss.apply(tape, out, &batch, false).item().as_f64();
            loss_sum += loss * (end - start) as f64;
            if let (Some(counts), Some(shape)) = (&mut pixels, out.image()) {
                let ignore = self.loss.ignore_index();
                out.with_value(|z| counts.add(z, shape, &batch.class_maps, ignore));
            }
            if classification {
                let (c1, ck) =
                    out.with_value(|z| count_correct(z, &batch.labels, self.config.top_k));
                correct += c1;
                correct_k += ck;
            }
            start = end;
        }
        self.tape.reset();
        let nf = n as f64;
        if let Some(counts) = pixels {
            return Ok(SplitMetrics {
                loss: loss_sum / nf,
                accuracy: Some(counts.accuracy()),
                top_k: None,
                mean_iou: Some(counts.mean_iou()),
            });
        }
        Ok(SplitMetrics {
            loss: loss_sum / nf,
            accuracy: classification.then(|| correct as f64 / nf),
            top_k: (classification && self.config.top_k > 0).then(|| correct_k as f64 / nf),
            mean_iou: None,
        })
    }
}
