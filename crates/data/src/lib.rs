//! Datasets, deterministic mini-batch loaders, generated sets and file
//! loaders for descent.
//!
//! A [`Dataset`] is an indexable set of samples that copies the samples at
//! some indices into a reusable [`Batch`]: an `N × D` nalgebra matrix of
//! features (row = sample; images flattened `C·H·W`, PyTorch's NCHW order,
//! with the [`ImageShape`] recorded) and class labels (`Vec<usize>`) or an
//! `N × T` matrix of regression targets. A [`DataLoader`] walks a dataset in
//! mini-batches, shuffled per epoch and deterministic for a given
//! `(seed, epoch)`; batch size 1 is SGD, the whole set is full-batch GD.
//!
//! # Code map
//!
//! - `dataset.rs`: [`Dataset`] (two required methods, `schema` and
//!   `gather(indices, &mut Batch)`); `batch.rs`: [`Batch`].
//! - `in_memory.rs`: [`InMemory`] (a feature matrix and its targets);
//!   `subset.rs`, `corrupt.rs` (`Relabeled`) and `pixels.rs`
//!   (`ShuffledPixels`) are datasets over datasets, so corruption and splits
//!   copy nothing; `normalize.rs`: torchvision's per-channel `Normalize`
//!   (a true division, fitted in f64), on a `Batch` or as a dataset over a
//!   dataset.
//! - `loader.rs`: [`DataLoader`] (`next_into` refills one `Batch`, `batches()`
//!   allocates for convenience, `set_position(epoch, batch)` starts an epoch
//!   mid-way, which is how a resumed run continues); `split.rs`: [`Splits`].
//! - Parsers, each naming the file and the byte offset or line in its errors:
//!   `idx.rs` (MNIST, Fashion-MNIST), `digits.rs` (CSV; the digits, CC BY 4.0,
//!   57 KB, are embedded from `data/digits.csv.gz`, licence in
//!   `data/NOTICE.md`), `sentiment.rs` (JSON, UCI TSV), `images.rs` (PNG, CIFAR-10
//!   samples); `source.rs` reads files and detects gzip by its magic.
//! - `dirs.rs`: the one data-directory rule.
//! - `synth.rs` + `synth/`: moons, spirals, blobs, teacher–student regression,
//!   coloured shapes.
//!
//! Testing: loader, split, corruption and shape properties beside them; every
//! parser has a proptest on arbitrary, cut and mutated bytes (no byte sequence
//! makes one panic, and a header never makes it allocate more than the data
//! that actually arrives); `tests/contract.rs` (the `Dataset` contract table),
//! `tests/idx_bomb.rs`, `tests/real_data.rs` (counts, histograms and pixels of
//! every shared set; `SKIPPED` on stderr when a set is absent, a failure under
//! `DESCENT_REQUIRE_DATA=1`, as `.ci/run` sets).
//!
//! # Examples
//!
//! ```
//! use descent_data::{digits, Batch, DataLoader, LoaderConfig, SplitConfig, Splits};
//! use rand::SeedableRng;
//!
//! let data = digits::<f32>()?.scaled(1.0 / 16.0); // embedded: always there
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
//! let splits = Splits::new(&data, &SplitConfig { stratify: true, ..Default::default() }, &mut rng)?;
//! let (train, _val, _test) = splits.subsets(&data)?;
//! let config = LoaderConfig { batch_size: 64, shuffle: true, ..Default::default() };
//! let mut loader = DataLoader::new(train, config)?;
//! let mut batch = Batch::new();
//! assert!(loader.next_into(&mut batch));
//! assert_eq!(batch.features.shape(), (64, 64));
//! # Ok::<(), descent_data::Error>(())
//! ```

mod batch;
mod corrupt;
mod dataset;
mod digits;
mod dirs;
mod error;
mod idx;
mod images;
mod in_memory;
mod loader;
mod normalize;
mod pixels;
mod sentiment;
mod source;
mod split;
mod subset;
mod synth;

pub use batch::Batch;
pub use corrupt::Relabeled;
pub use dataset::{Dataset, Schema, TargetKind};
pub use descent_core::ArgError;
pub use descent_core::ImageShape;
pub use digits::{digits, digits_from_dir, parse_digits};
pub use dirs::{DATA_ENV, DataDirs, resolve};
pub use error::{Error, Location, Result};
pub use idx::{
    IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, IdxArray, Split, fashion_mnist, fashion_mnist_prefix,
    load_idx_pair, load_idx_pair_prefix, mnist, mnist_prefix, parse_idx, parse_idx_pair,
    parse_idx_pair_prefix, parse_idx_prefix,
};
pub use images::{Image, cifar10_samples, load_png, parse_png};
pub use in_memory::{InMemory, Targets};
pub use loader::{DataLoader, LoaderConfig};
pub use normalize::{Normalize, Normalized};
pub use pixels::ShuffledPixels;
pub use sentiment::{
    Sentences, SentimentSource, parse_sentiment_json, parse_sentiment_tsv, sentiment,
    sentiment_amazon_tsv,
};
pub use split::{SplitConfig, Splits};
pub use subset::Subset;
pub use synth::{
    BlobsConfig, MoonsConfig, Shape, ShapeParams, ShapesConfig, SpiralsConfig, Teacher,
    TeacherConfig, TeacherStudent, make_blobs, make_moons, make_shapes, make_spirals,
    make_teacher_student,
};

/// The README, whose example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
