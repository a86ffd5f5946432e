//! The training loop of descent: the one place where the crates meet.
//!
//! A [`Trainer`] composes a model (any `descent_nn::Module`), a [`Loss`]
//! (cross-entropy with label smoothing, MSE, or a closure on the tape), an
//! optimizer from `descent-optim` (whose schedule is the learning-rate
//! source), penalties from `descent-regularize`, gradient clipping, image
//! augmentation and MixUp/CutMix from `descent-augment`, early stopping with
//! best-weights restore, the instability guard, and user [`Callback`]s.
//! [`Trainer::fit`] returns the run's [`History`]: loss, accuracy and top-k
//! accuracy on train, validation and test, learning rate, gradient norm,
//! wall time and throughput per epoch (also written as JSON lines and CSV).
//!
//! - Gradient accumulation: `k` micro-batches per optimizer step; schedules,
//!   clipping, early stopping and the guard count optimizer steps.
//! - Checkpoints ([`CheckpointConfig`]): one safetensors file with PyTorch's
//!   names for the model and everything else a run needs to continue,
//!   written atomically; a run stopped at any micro-batch and resumed from
//!   its checkpoint ends bit-identical to the uninterrupted run.
//! - One seed ([`seed`]) fixes shuffling, dropout masks and augmentation
//!   (and initialization, through [`seed::rng`]).
//! - Weight averaging ([`WeightAveraging`]): an EMA or SWA of the weights
//!   after optimizer steps, evaluated instead of the raw weights, with
//!   `update_bn` at the end for SWA, saved in checkpoints.
//! - [`lr_find`]: the learning-rate range test.

mod averaging;
mod callback;
mod checkpoint;
mod error;
mod input;
mod loss;
pub mod lr_find;
mod metrics;
#[cfg(feature = "hpo")]
pub mod pbt;
mod pixel;
mod progress;
pub mod seed;
mod trainer;

pub use averaging::WeightAveraging;
pub use callback::{BatchInfo, Callback, Control};
pub use checkpoint::{CheckpointConfig, export_model, latest_checkpoint};
pub use descent_core::ArgError;
pub use error::{Error, Result};
pub use input::{Augmentation, Mix, input};
pub use loss::{Loss, LossFn};
pub use lr_find::{LrFindConfig, LrFindResult};
pub use metrics::{EpochMetrics, History, Rollback, SplitMetrics, Stop};
pub use progress::Progress;
pub use trainer::{Clip, Data, Monitor, PlateauFeed, TrainConfig, Trainer};

/// The README, whose example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
