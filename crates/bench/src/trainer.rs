//! The Trainer row: W1 through descent-train's `Trainer`, to set beside the
//! raw step of [`Workload`](crate::Workload).

use crate::WorkloadId;
use descent_data::InMemory;
use descent_nn::Sequential;
use descent_train::{Data, Loss, Progress, TrainConfig, Trainer};

/// Optimizer steps per [`TrainerWorkload::epoch`].
pub const TRAINER_STEPS: usize = 32;

/// A workload's model and optimizer in a [`Trainer`], over a dataset that
/// holds the workload's fixed batch [`TRAINER_STEPS`] times, walked in order:
/// one epoch is [`TRAINER_STEPS`] steps on the batch the raw step uses, plus
/// what the Trainer adds (gathering each batch from the dataset, the
/// gradient norm, accuracy counts, the epoch's bookkeeping).
pub struct TrainerWorkload {
    trainer: Trainer<f32, Sequential<f32>>,
    data: InMemory<f32>,
}

impl TrainerWorkload {
    /// Builds `id`'s parts (the same as [`WorkloadId::build`] with this seed) into a Trainer.
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
        let parts = id.parts(seed);
        let n = parts.x.nrows();
        let x = nalgebra::DMatrix::from_fn(n * TRAINER_STEPS, parts.x.ncols(), |i, j| {
            parts.x[(i % n, j)]
        });
        let labels: Vec<usize> = (0..n * TRAINER_STEPS)
            .map(|i| parts.labels[i % n])
            .collect();
        let n_classes = parts.labels.iter().max().map_or(1, |m| m + 1).max(2);
        let mut data = InMemory::classification(x, labels, n_classes).expect("labels in range");
        if let Some(shape) = parts.image {
            data = data.with_image(shape).expect("the workload's image shape");
        }
        let config = TrainConfig {
            epochs: 0,
            batch_size: n,
            shuffle: false,
            top_k: 0,
            progress: Progress::Quiet,
            ..TrainConfig::default()
        };
        let trainer = Trainer::new(
            parts.model,
            parts.state,
            parts.opt,
            Loss::cross_entropy(),
            config,
        )
        .expect("a valid configuration");
        TrainerWorkload { trainer, data }
    }

    /// One epoch: [`TRAINER_STEPS`] training steps through `Trainer::fit`.
    pub fn epoch(&mut self) -> descent_train::Result<()> {
        self.trainer.extend_epochs(1);
        self.trainer.fit(Data::train(&self.data)).map(drop)
    }

    /// Optimizer steps taken so far.
    pub fn steps(&self) -> u64 {
        self.trainer.optimizer().steps()
    }
}
