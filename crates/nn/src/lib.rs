//! Layers, initializers and PyTorch-compatible model state on descent's tape.
//!
//! - [`Module`]: `forward(ctx, x)` on the tape in an explicit [`Mode`],
//!   with a [`Ctx`] holding the tape, the parameters, the buffers and the RNG;
//!   [`Sequential`] chains modules and names their tensors `0.weight`,
//!   `1.running_mean`, … as PyTorch does.
//! - [`ModelState`]: the trainable parameters (a `ParamStore`) plus the
//!   [`Buffers`] (running statistics), saved and loaded as safetensors with
//!   PyTorch's state-dict names and shapes.
//! - [`Builder`]: registers a layer's tensors under a dotted prefix and draws
//!   their initial values from an explicit RNG ([`Init`]).
//! - Layers: [`Linear`], [`Conv2d`], [`MaxPool2d`], [`AvgPool2d`], [`Flatten`],
//!   activations ([`Relu`], [`LeakyRelu`], [`Elu`], [`Tanh`], [`Sigmoid`],
//!   [`Gelu`], [`Softmax`]), and the regularizing [`Dropout`],
//!   [`BatchNorm1d`], [`BatchNorm2d`], [`LayerNorm`] and [`GaussianNoise`].
//!
//! - Weight averaging: [`AveragedModel`] (EMA or SWA of the parameters, and
//!   optionally the buffers, as PyTorch's `swa_utils.AveragedModel`) and
//!   [`update_bn`] (batch-norm statistics recomputed for averaged weights).
//!
//! Randomness enters only through the RNG handed to [`Builder::new`] and
//! [`Ctx`]: the same seed gives the same model and the same masks.
//!
//! # Code map
//!
//! - `module.rs`: [`Module`] (`forward(ctx, x)`, `visit` over
//!   `Entry::{Param, Buffer}`) and [`Ctx`] `{ tape, params, buffers, mode, rng }`;
//!   `mode.rs`: [`Mode`].
//! - `state.rs`: [`ModelState`] = `ParamStore` + [`Buffers`] (`buffers.rs`:
//!   running statistics, `num_batches_tracked` as an integer) + each tensor's
//!   PyTorch shape; `state_file.rs`: `save`/`load` as safetensors (F32/F64 per
//!   the store's scalar, I64 counts).
//! - `builder.rs`: [`Builder`] (`b.pp("0")`); `sequential.rs`: [`Sequential`];
//!   `init.rs`: [`Init`] and `Nonlinearity::gain`; `random.rs`: uniform and
//!   normal draws from a `&mut dyn Rng`.
//! - `layers/`: one file per layer (`linear`, `conv`, `pool`, `flatten`,
//!   `activation`, `dropout`, `batch_norm` over autodiff's fused
//!   `Var::batch_norm`, `layer_norm` composed from tape ops, `gaussian_noise`);
//!   each `FooConfig` defaults to PyTorch's arguments.
//! - `averaged.rs`: [`AveragedModel`]; `update_bn.rs`: [`update_bn`].
//!
//! Testing: a property beside each layer (dropout expectation and eval
//! identity, batch-norm moments and running statistics, noise identity in
//! eval, init variances, save → load exactness, EMA with decay 0 is the last
//! weights, SWA is the running mean); `tests/golden_averaging.rs`,
//! `tests/golden_batch_norm.rs` (PyTorch parity) and
//! `tests/gradcheck_sequential.rs`; the root `examples/digits_mlp.rs` trains
//! an MLP with batch norm and dropout on the digits.
//!
//! # Examples
//!
//! ```
//! use descent_autodiff::{CrossEntropyConfig, Tape};
//! use descent_nn::*;
//! use nalgebra::DMatrix;
//! use rand_chacha::ChaCha8Rng;
//! use rand_core::SeedableRng;
//!
//! let mut state = ModelState::<f32>::new();
//! let mut rng = ChaCha8Rng::seed_from_u64(0);
//! let mut b = Builder::new(&mut state, &mut rng);
//! let mut model = Sequential::new();
//! model
//!     .add(&mut b, |b| Linear::new(b, LinearConfig::new(4, 16)))?
//!     .add(&mut b, |b| BatchNorm1d::new(b, BatchNormConfig::new(16)))?
//!     .push(Relu)
//!     .push(Dropout::new(0.5)?)
//!     .add(&mut b, |b| Linear::new(b, LinearConfig::new(16, 3)))?;
//!
//! let x = DMatrix::from_fn(8, 4, |i, j| (i * j) as f32 / 10.0);
//! let labels = [0, 1, 2, 0, 1, 2, 0, 1];
//! let tape = Tape::new();
//! let mut ctx = Ctx::new(&tape, &mut state, Mode::Train, &mut rng);
//! let logits = model.forward(&mut ctx, tape.constant(&x));
//! let loss = logits.cross_entropy(&labels, &CrossEntropyConfig::default());
//! tape.backward(loss, &mut state.params);
//! assert_eq!(state.buffers.count(state.buffers.id("1.num_batches_tracked").unwrap()), 1);
//! # Ok::<(), descent_nn::Error>(())
//! ```

mod averaged;
mod buffers;
mod builder;
mod error;
mod init;
mod layers;
mod mode;
mod module;
mod random;
mod sequential;
mod state;
mod state_file;
#[cfg(test)]
mod testing;
mod update_bn;

pub use averaged::{AveragedModel, AveragedModelConfig, AvgFn};
pub use buffers::{Buffer, BufferId, Buffers};
pub use builder::Builder;
pub use descent_autodiff::{AvgPool2dConfig, MaxPool2dConfig};
pub use descent_core::ArgError;
pub use error::{Error, Result, TensorMismatch};
pub use init::{FanMode, Init, Nonlinearity, fans};
pub use layers::activation::{Elu, Gelu, LeakyRelu, Relu, Sigmoid, Softmax, Tanh};
pub use layers::batch_norm::{
    BatchNorm, BatchNorm1d, BatchNorm2d, BatchNormConfig, RunningStatsLayer,
};
pub use layers::conv::{Conv2d, Conv2dConfig};
pub use layers::dropout::Dropout;
pub use layers::flatten::Flatten;
pub use layers::gaussian_noise::GaussianNoise;
pub use layers::layer_norm::{LayerNorm, LayerNormConfig};
pub use layers::linear::{Linear, LinearConfig};
pub use layers::pool::{AvgPool2d, MaxPool2d};
pub use mode::Mode;
pub use module::{Ctx, Entry, Module};
pub use sequential::Sequential;
pub use state::{ModelState, matrix_dims};
pub use update_bn::update_bn;

/// The README, whose example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
