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
//!
//! # Code map
//!
//! Start with `trainer/fit.rs`: the loop, read top-down.
//!
//! - `trainer.rs`: [`Trainer`] (model, `ModelState`, `Optimizer`, [`Loss`],
//!   [`TrainConfig`], and what the builder adds: penalties, augmentation,
//!   early stopping on a monitor, the instability guard, callbacks,
//!   [`CheckpointConfig`], the plateau feed), [`Data`] (train, validation,
//!   test as `&dyn Dataset`) and the serializable run state (epoch,
//!   micro-batch, accumulation counters, the epoch's running sums, the
//!   history).
//! - `trainer/fit.rs`: the loop and SAM's second pass; `trainer/eval.rs`:
//!   evaluation.
//! - `loss.rs`: [`Loss`]; `input.rs`: a `Batch` as a tape input, and
//!   augmentation and mixing applied to a `Batch` as it is (rows gathered
//!   into NCHW scratch and back); `pixel.rs`: per-pixel accuracy and mean-IoU
//!   counts for `Loss::PixelCrossEntropy` (autodiff's `cross_entropy2d`).
//! - `metrics.rs`: `EpochMetrics`, [`History`] (JSON lines, CSV, a summary
//!   table; `without_timing` is what a resume must reproduce) and top-k
//!   counting; `progress.rs`: the progress bar or lines; `callback.rs`:
//!   [`Callback`] (`on_batch_end`, `on_epoch_end`, each may return
//!   `Control::Stop`).
//! - `checkpoint.rs`: the bundle and its keep-last-N and keep-best policies;
//!   `export_model` writes the model alone. `averaging.rs`:
//!   [`WeightAveraging`]. `seed.rs`: every stream from one seed (SplitMix64
//!   of seed and purpose). `lr_find.rs`: the range test.
//! - `pbt.rs` (feature `hpo`): `pbt::TrainerMember`. descent-train depends
//!   on descent-hpo only behind that feature; descent-hpo never depends on
//!   train.
//! - Examples: `examples/augmix.rs` (clean + two AugMix views, CE +
//!   `js_consistency`), `examples/segmentation.rs`, `examples/pbt_digits.rs`,
//!   `examples/pbt_shared.rs`.
//!
//! Testing: `tests/resume.rs` (stops at 8 positions, mismatched and
//! cut-short checkpoints), `tests/kill_resume.rs` (SIGKILL at 20 random
//! micro-batches, each resume run to the end; `cargo xtask soak train`),
//! `tests/behaviour.rs`, `tests/segmentation.rs`, `tests/hpo.rs`,
//! `tests/steady_state_alloc.rs`; the root `tests/golden_training.rs` runs
//! every `training.json` case through the Trainer.

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
