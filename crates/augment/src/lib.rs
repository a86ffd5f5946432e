//! Data augmentation for descent: images (flips, crops, affine warps,
//! colour, erasing, MixUp/CutMix, RandAugment, TrivialAugment, AutoAugment,
//! AugMix) and text (a tokenizer, WordNet synonyms, the EDA operations).
//!
//! Randomness is counter-based: every random choice for a sample is a pure
//! function of `(seed, epoch, sample index, op index)` ([`SampleKey`],
//! [`OpCtx`]), so results do not depend on the thread count or the batch
//! order, and the drawn [`image::DrawnParams`] can be logged and replayed.
//!
//! # Code map
//!
//! Start with `counter.rs` (where randomness comes from) and `image.rs` (what
//! an op is: [`ImageAugment::draw`](image::ImageAugment::draw) turns a context
//! into [`DrawnParams`](image::DrawnParams), and `DrawnParams::apply` does the
//! work in place with one scratch buffer; `apply`, `params` and `replay` are
//! built on it).
//!
//! - `counter.rs`: [`SampleKey`] `(seed, epoch, index)` and [`OpCtx`] (key +
//!   op index); `OpCtx::rng` is ChaCha8 keyed by all four words, and a
//!   composite's `i`-th child gets `ctx.child(i)`.
//! - `image/params.rs`: `DrawnParams`, a `Copy` serde enum.
//! - One file per op family in `image/`: `flip`, `crop` (pad + crop, resized
//!   crop), `affine` (rotation, translation, zoom, shear; `Affine.angle` has
//!   torchvision `affine`'s clockwise sign), `color` (ColorJitter, channel
//!   shift, grayscale, noise), `tone` (solarize, posterize, autocontrast,
//!   equalize, sharpness), `erase` (cutout, random erasing), `blur`, `warp`
//!   (RandomPerspective, ElasticTransform), `jpeg` (quality loss), `compose`
//!   (Compose, RandomApply, OneOf, RandomOrder), `mix` (MixUp, CutMix with a λ
//!   per sample), `batch` (`apply_batch` over descent's pool,
//!   `batch_params`/`replay_batch`).
//! - `image/policy.rs` (RandAugment, TrivialAugmentWide) with
//!   `policy/op.rs` (the ops at a magnitude, and the magnitude bins computed as
//!   `torch.linspace` in f32), `policy/auto_augment.rs` (the ImageNet, CIFAR-10
//!   and SVHN sub-policy tables; `AutoAugmentDraw`, whose choices can be
//!   forced) and `policy/augmix.rs`.
//! - `image/functional.rs` (+ `functional/{geometry,color,targets}.rs`): the
//!   public `transforms.v2.functional`, `Image<T>` in and out, sizes and
//!   channels free to change; `image/grid.rs`: grid resampling and the affine,
//!   perspective, elastic and `rot90` grids.
//! - `image/spec.rs`: `OpSpec`, a pipeline as serde data.
//! - Targets that move with an image: `image/mask.rs`, `image/boxes.rs`,
//!   `image/target.rs` (box kernels for drawn parameters), `image/sample.rs`
//!   (`Sample`, `apply_batch_with_masks`).
//! - `text/`: `tokenize.rs`, `lexicon.rs` (`Lexicon`: synsets of single-word
//!   lemmas; the embedded `data/lexicon.txt` is derived from WordNet 3.0, its
//!   licence in `data/NOTICE.md`), `wordnet.rs` (`index.*`/`data.*`, plain or
//!   gzipped; `--wordnet DIR` alone when given, else `$WNHOME`,
//!   `/usr/share/wordnet`, `../shared/datasets/wordnet-3.0`), `morphy.rs`
//!   (WordNet's `morphy` and the re-inflection behind
//!   `Lexicon::inflected_synonyms`; the embedded exception lists are
//!   `data/exceptions.txt`), `eda.rs` (EDA; its stop words are
//!   `data/eda_stop_words.txt`) and `aeda.rs` (AEDA, as the authors' `aeda.py`).
//!
//! Dependencies: `descent-core` only for `ImageShape` and the thread setting
//! (`threads::num_threads`, which `BatchConfig::default()` reads), nalgebra
//! only for the 8×8 perspective solve, jpeg-encoder and zune-jpeg for JPEG;
//! never the tape.
//!
//! Testing: a property beside each op family (shape kept, values kept in
//! [0, 1] — a blur within an ulp of it, as torchvision does not clamp — and
//! 1 and 2 threads giving the same bits); `tests/golden_augment.rs`
//! (torchvision 0.29: f64 within 1e-12, the same cases in f32 within 1e-5,
//! uint8 exact), `tests/contract.rs`, `tests/wordnet.rs` (known synonym pairs
//! on the real files).
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
