//! Reverse-mode automatic differentiation over nalgebra matrices.
//!
//! A [`Tape`] records one forward pass as an arena of nodes; a [`Var`] is a
//! `Copy` handle to one of them. Every op is a method or operator on `Var`
//! whose backward rule lives beside its forward pass in `ops/<family>.rs`,
//! with a finite-difference gradient check at the bottom of the same file.
//! [`Tape::backward`] adds parameter gradients into a
//! [`ParamStore`](descent_core::ParamStore).
//!
//! Values are column-major `DMatrix<S>` for `S` = `f32` or `f64`. A batch of
//! images is an `N × (C·H·W)` matrix with its [`ImageShape`] recorded on the
//! node (PyTorch's NCHW, flattened per sample).
//!
//! Ops:
//! - elementwise `+ - * /` with broadcasting of a row or column vector (any
//!   dimension of size 1), scalar versions on either side, negation;
//! - [`Var::matmul`] (and the transposed forms [`Var::matmul_t`],
//!   [`Var::t_matmul`], all GEMMs on strided views), [`Var::t`];
//! - reductions: [`Var::sum`], [`Var::mean`], per row and per column, [`Var::row_max`];
//! - elementwise maths and activations: `exp log sqrt powf abs clamp relu
//!   leaky_relu elu tanh sigmoid gelu`; row-wise `softmax`, `log_softmax`,
//!   `logsumexp`;
//! - images: `conv2d`, `max_pool2d`, `avg_pool2d`; per-pixel `softmax2d`,
//!   `log_softmax2d` over the channels (PyTorch's `dim=1` on NCHW);
//! - [`Var::batch_norm`], one fused op with its closed-form backward;
//! - [`Var::mask`] (multiply by a constant, as dropout does) and [`Var::detach`];
//! - losses: `cross_entropy`, `cross_entropy2d` (per pixel, with class
//!   weights and `ignore_index`), `nll_loss`, `mse_loss`, `l1_loss`,
//!   `binary_cross_entropy_with_logits`, `js_consistency` (AugMix's Jensen–Shannon
//!   consistency).
//!
//! A training step reuses its buffers: [`Tape::reset`] returns every matrix
//! to the tape's pool, and the next pass takes them back out.
//!
//! # Code map
//!
//! Start with `tape.rs` (the arena and `backward`), then one op family, say
//! `ops/binary.rs`.
//!
//! - `tape.rs`: [`Tape`], parallel vectors of values, gradient slots and nodes
//!   (the `Op` that made each value); `var.rs`: [`Var`], a tape reference plus
//!   a `u32` index.
//! - `ops.rs`: the `Op` enum and `BackCtx`; `ops/<family>.rs` (binary, scalar,
//!   matmul, reduce, unary, softmax, softmax2d, mask, loss, conv2d, pool2d,
//!   batch_norm) each hold the family's forward methods on `Var`, its
//!   `Backward` impl right beside them and its gradient check at the bottom;
//!   `ops/loss/cross_entropy2d.rs` is per-pixel classification.
//! - `gemm.rs`: the GEMM engine (dispatch by shape, the timings behind it,
//!   and all the `unsafe`), public as [`gemm()`](crate::gemm());
//!   `par.rs`: large elementwise loops (unary ops, conv bias, im2col/col2im,
//!   max pooling) split across descent's pool in blocks of whole units
//!   (elements, channels, taps), staying on the calling thread below 2¹⁶
//!   elements per thread.
//! - `pool.rs`: recycled buffers; `gradcheck.rs`: the public finite-difference
//!   checker every op's tests use.
//!
//! Testing: each op family's gradient check and properties at the bottom of
//! its file; `tests/golden_parity.rs` (PyTorch, relative 1e-9),
//! `tests/steady_state_alloc.rs`, `tests/thread_count.rs`,
//! `tests/panic_messages.rs`; the root `tests/f32_training.rs` trains conv +
//! batch norm in f32 against f64.
//!
//! # A training step, by hand
//!
//! What descent-train's `Trainer` does for every batch, written out with a
//! plain gradient step where the Trainer calls an optimizer:
//!
//! ```
//! use descent_autodiff::{CrossEntropyConfig, Tape};
//! use descent_core::{ParamStore, Tags};
//! use nalgebra::DMatrix;
//!
//! let mut store = ParamStore::<f32>::new();
//! let w = store.register("fc.weight", Tags::WEIGHT, DMatrix::from_element(3, 4, 0.1))?;
//! let b = store.register("fc.bias", Tags::BIAS, DMatrix::zeros(1, 3))?;
//! let x = DMatrix::from_element(8, 4, 1.0f32);
//! let labels = vec![0usize, 1, 2, 0, 1, 2, 0, 1];
//! let mut tape = Tape::new();
//! let mut losses = Vec::new();
//! for _ in 0..10 {
//!     tape.reset(); // reuses every buffer of the previous step
//!     store.zero_grad(); // gradients accumulate, as in PyTorch
//!     let logits = tape.constant(&x).matmul_t(tape.param(&store, w)) + tape.param(&store, b);
//!     let loss = logits.cross_entropy(&labels, &CrossEntropyConfig::default());
//!     tape.backward(loss, &mut store);
//!     losses.push(loss.item());
//!     let (params, grads) = store.split_mut();
//!     for id in [w, b] {
//!         params.value_mut(id).zip_apply(grads.get(id), |p, g| *p -= 0.1 * g);
//!     }
//! }
//! assert!(losses[9] < losses[0]);
//! # Ok::<(), descent_core::Error>(())
//! ```

mod gemm;
pub mod gradcheck;

mod ops;
mod par;
mod pool;
mod tape;
mod var;

pub use descent_core::ImageShape;
pub use gemm::gemm;
pub use ops::batch_norm::{BatchNormStats, RunningStats};
pub use ops::conv2d::Conv2dGeometry;

/// The old name of [`Conv2dGeometry`] (it clashed with `descent_nn::Conv2dConfig`,
/// the layer's config that wraps it); kept for one release.
#[deprecated(since = "0.1.0", note = "renamed to `Conv2dGeometry`")]
pub type Conv2dConfig = Conv2dGeometry;
pub use ops::loss::CrossEntropy2dConfig;
pub use ops::loss::CrossEntropyConfig;
pub use ops::loss::JsConsistencyConfig;
pub use ops::loss::Reduction;
pub use ops::pool2d::{AvgPool2dConfig, MaxPool2dConfig};
pub use tape::Tape;
pub use var::Var;

/// The README, whose example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
