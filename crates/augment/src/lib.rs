//! Data augmentation for descent: images (flips, crops, affine warps,
//! colour, erasing, MixUp/CutMix, RandAugment, TrivialAugment, AutoAugment,
//! AugMix) and text (a tokenizer, WordNet synonyms, the EDA operations).
//!
//! Randomness is counter-based: every random choice for a sample is a pure
//! function of `(seed, epoch, sample index, op index)` ([`SampleKey`],
//! [`OpCtx`]), so results do not depend on the thread count or the batch
//! order, and the drawn [`image::DrawnParams`] can be logged and replayed.
//!
//! # Examples
//!
//! ```
//! use descent_augment::image::{apply_batch, BatchConfig, ColorJitter, ColorJitterConfig, Compose, ImageShape, HorizontalFlip, PadMode, RandomCrop};
//!
//! let jitter = ColorJitterConfig { brightness: 0.2, contrast: 0.2, ..Default::default() };
//! let pipeline = Compose::new(vec![
//!     Box::new(RandomCrop::new(4, PadMode::Constant(0.0))?),
//!     Box::new(HorizontalFlip::new(0.5)?),
//!     Box::new(ColorJitter::new(jitter)?),
//! ]);
//! let dims = ImageShape::new(3, 32, 32);
//! let mut batch = vec![0.5f32; 8 * dims.len()];
//! let indices: Vec<usize> = (0..8).collect();
//! apply_batch(&pipeline, dims, &mut batch, &indices, &BatchConfig { seed: 1, epoch: 0, ..Default::default() })?;
//! # Ok::<(), descent_augment::Error>(())
//! ```

mod counter;
mod error;
pub mod image;
pub mod text;

pub use counter::{OpCtx, SampleKey};
pub use descent_core::ArgError;
pub use error::{Error, Result};

/// The README, whose example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
