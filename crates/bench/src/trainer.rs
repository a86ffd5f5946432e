//! The Trainer row: W1 through descent-train's `Trainer`, to set beside the
//! raw step of [`Workload`](crate::Workload).

use crate::{WorkloadId, WorkloadParts};
use descent_data::{Batch, Dataset, InMemory, Schema};
use descent_nn::Sequential;
use descent_train::{Data, Loss, Progress, TrainConfig, Trainer};
use std::sync::Mutex;

/// Optimizer steps per [`TrainerWorkload::epoch`].
pub const TRAINER_STEPS: usize = 32;

/// Where a [`TrainerWorkload`]'s batches come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrainerData {
    /// The workload's one batch, read [`TRAINER_STEPS`] times: the Trainer
    /// gathers the very memory the raw step reads, so the two differ only in
    /// what the Trainer does (the gather's copy, the gradient norm, accuracy
    /// counts, the epoch's bookkeeping). The overhead goal is measured here.
    Resident,
    /// [`TRAINER_STEPS`] copies of the batch, one per step, as an epoch over
    /// real data reads them: each step also streams a fresh batch from memory
    /// (W1: 128 × 784 `f32`, 12.8 MB for the epoch), which evicts part of the
    /// optimizer state from the caches the raw step keeps it in.
    Fresh,
}

/// A workload's model and optimizer in a [`Trainer`], over a dataset of
/// [`TRAINER_STEPS`] batches (see [`TrainerData`]), walked in order: one
/// epoch is [`TRAINER_STEPS`] steps on the batch the raw step uses, plus
/// what the Trainer adds (gathering each batch from the dataset, the
/// gradient norm, accuracy counts, the epoch's bookkeeping).
pub struct TrainerWorkload {
    trainer: Trainer<f32, Sequential<f32>>,
    data: Box<dyn Dataset<f32>>,
}

/// `parts`' model and optimizer in a quiet [`Trainer`] with cross-entropy
/// loss, no top-k accuracy and no epochs yet (each timed epoch adds one);
/// the rest of its configuration is `config`'s. The Trainer rows (W1–W4
/// here, W8 in [`crate::EpochWorkload`]) all build theirs this way.
pub(crate) fn epoch_trainer(
    parts: WorkloadParts,
    config: TrainConfig,
) -> descent_train::Result<Trainer<f32, Sequential<f32>>> {
    let config = TrainConfig {
        epochs: 0,
        top_k: 0,
        progress: Progress::Quiet,
        ..config
    };
    Trainer::new(
        parts.model,
        parts.state,
        parts.opt,
        Loss::cross_entropy(),
        config,
    )
}

/// One batch seen as [`TRAINER_STEPS`] of them: sample `i` is the batch's
/// row `i mod n`.
struct Tiled {
    base: InMemory<f32>,
    rows: usize,
    mapped: Mutex<Vec<usize>>,
}

impl Dataset<f32> for Tiled {
    fn schema(&self) -> Schema {
        Schema {
            len: self.rows * TRAINER_STEPS,
            ..self.base.schema()
        }
    }

    fn gather(&self, indices: &[usize], batch: &mut Batch<f32>) {
        let mut mapped = self.mapped.lock().unwrap_or_else(|e| e.into_inner());
        mapped.clear();
        mapped.extend(indices.iter().map(|&i| i % self.rows));
        self.base.gather(&mapped, batch);
        batch.indices.clear();
        batch.indices.extend_from_slice(indices);
    }
}

impl TrainerWorkload {
    /// Builds `id`'s parts (the same as [`WorkloadId::build`] with this
    /// seed) into a Trainer over [`TrainerData::Fresh`] batches.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_bench::{TrainerWorkload, WorkloadId, TRAINER_STEPS};
    ///
    /// let mut w = TrainerWorkload::new(WorkloadId::W2Adam, 0);
    /// w.epoch().unwrap();
    /// assert_eq!(w.steps(), TRAINER_STEPS as u64);
    /// ```
    pub fn new(id: WorkloadId, seed: u64) -> Self {
        Self::with_data(id, seed, TrainerData::Fresh)
    }

    /// Builds `id`'s parts into a Trainer whose batches come from `data`.
    pub fn with_data(id: WorkloadId, seed: u64, data: TrainerData) -> Self {
        let parts = id.parts(seed);
        let n = parts.x.nrows();
        let copies = match data {
            TrainerData::Resident => 1,
            TrainerData::Fresh => TRAINER_STEPS,
        };
        let x = nalgebra::DMatrix::from_fn(n * copies, parts.x.ncols(), |i, j| parts.x[(i % n, j)]);
        let labels: Vec<usize> = (0..n * copies).map(|i| parts.labels[i % n]).collect();
        let n_classes = parts.labels.iter().max().map_or(1, |m| m + 1).max(2);
        let mut set = InMemory::classification(x, labels, n_classes).expect("labels in range");
        if let Some(shape) = parts.image {
            set = set.with_image(shape).expect("the workload's image shape");
        }
        let data: Box<dyn Dataset<f32>> = match data {
            TrainerData::Resident => Box::new(Tiled {
                base: set,
                rows: n,
                mapped: Mutex::new(Vec::with_capacity(n)),
            }),
            TrainerData::Fresh => Box::new(set),
        };
        let config = TrainConfig {
            batch_size: n,
            shuffle: false,
            ..TrainConfig::default()
        };
        let trainer = epoch_trainer(parts, config).expect("a valid configuration");
        TrainerWorkload { trainer, data }
    }

    /// One epoch: [`TRAINER_STEPS`] training steps through `Trainer::fit`.
    pub fn epoch(&mut self) -> descent_train::Result<()> {
        self.trainer.extend_epochs(1);
        self.trainer.fit(Data::train(self.data.as_ref())).map(drop)
    }

    /// Optimizer steps taken so far.
    pub fn steps(&self) -> u64 {
        self.trainer.optimizer().steps()
    }
}
