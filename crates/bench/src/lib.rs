//! Dev-only benchmark support for descent (not published).
//!
//! - [`Workload`]: one full training step of a fixed model on fixed random
//!   data (zero grads, forward, backward, optimizer step), reusing one tape,
//!   for the workloads W1–W4 and W7 (LeNet on MNIST-shaped images)
//!   listed in [`WorkloadId::ALL`];
//! - [`OptimStep`]: W5, one optimizer step over [`W5_PARAMS`] parameters
//!   (Adam, AdamW, SGD with momentum; one tensor or 100), listed in
//!   [`OptimStepId::ALL`];
//! - [`AugmentBatch`]: W6, crop + flip + brightness/contrast on a batch of
//!   3×32×32 images through descent-augment's batched path;
//! - [`EpochWorkload`]: W8, one epoch of a real training run through
//!   descent-train's `Trainer` on MNIST read from IDX ([`w8_data`]), with a
//!   random crop and normalization on every batch;
//! - [`peak_rss_kib`]: the process's peak resident set (the table's memory
//!   column);
//! - [`AugOpBatch`]: the W6 family, one newer op or policy
//!   ([`AugOpId::ALL`]) per row on W6's batch, and the geometric ops with a
//!   segmentation mask moving with each image ([`AugOpId::WITH_MASK`]);
//! - [`sgemm_gflops`] and [`triad_gbs`]: this machine's limits, a large product
//!   through descent's own GEMM and a STREAM-triad loop,
//!   measured in the same run;
//! - [`Timing`], [`time_steps`] and [`time_prepared_steps`]: warm-up, then
//!   the median and minimum of timed iterations.
//!
//! Every parallel kernel here follows descent's process-wide thread count,
//! [`descent_core::threads::num_threads`] (`DESCENT_NUM_THREADS`), the GEMMs
//! included.
//!
//! The criterion groups `benches/benchmarks/{workloads,optim,augment}.rs`
//! and `cargo xtask bench` both build their workloads here, so they time the
//! same code.
//!
//! # Code map
//!
//! `workload.rs` (W1–W4 and W7: `WorkloadId::build(seed)` gives a model, an
//! optimizer and one fixed random batch; `Workload::step` is one full
//! training step on a reused tape), `optim_step.rs` (W5; `optim_store` and
//! `OptimKind::build` are the criterion group's setup too), `augment.rs` (W6:
//! `augment_pipeline` and `AugmentBatch`, with an untimed `reset`),
//! `augment_ops.rs` (the W6 family), `epoch.rs` (W8), `trainer.rs`
//! (`TrainerWorkload`: W1's parts, `WorkloadId::parts`, in a `Trainer` over
//! its batch repeated [`TRAINER_STEPS`] times, one epoch per timed unit, the
//! Trainer row beside the raw step; the criterion `trainer` group is in
//! `benches/benchmarks/workloads.rs`), `limits.rs` (a 1024³ sgemm through
//! `descent_autodiff::gemm`, which for a square product is matrixmultiply
//! split per thread, and a STREAM triad), `timing.rs`, `memory.rs`.
//! `benches/torch_workloads.py` mirrors the workloads in PyTorch.
//!
//! Invariant: nothing outside benches and xtask depends on this crate; it is
//! never published (which is why it alone besides xtask may depend on
//! descent-train), and every parallel kernel a workload runs uses
//! `DESCENT_NUM_THREADS` threads, which xtask sets per child, so a "1 thread"
//! figure is one thread end to end.

mod augment;
mod augment_ops;
mod epoch;
mod limits;
mod memory;
mod optim_step;
mod timing;
mod trainer;
mod workload;

pub use augment::{AugmentBatch, W6_BATCH, W6_DIMS, augment_input, augment_pipeline};
pub use augment_ops::{AugOpBatch, AugOpId, MASK_CLASSES, augment_masks};
pub use epoch::{EpochWorkload, MNIST_MEAN_STD, W8_BATCH, W8_IMAGES, W8_NAME, W8_PAD, w8_data};
pub use limits::{sgemm_gflops, triad_gbs};
pub use memory::peak_rss_kib;
pub use optim_step::{OptimKind, OptimStep, OptimStepId, W5_PARAMS, optim_store};
pub use timing::{Timing, time_prepared_steps, time_steps};
pub use trainer::{TRAINER_STEPS, TrainerData, TrainerWorkload};
pub use workload::{W7_ARCHITECTURE, W7_HIDDEN, Workload, WorkloadId, WorkloadParts};

/// The README, whose example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
