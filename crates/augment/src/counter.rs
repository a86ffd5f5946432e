//! Counter-based randomness: every random draw is a pure function of
//! `(seed, epoch, sample index, op index)`.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The identity of one sample in one epoch of one run.
///
/// `index` should be the sample's dataset index (descent-data's
/// `Batch::indices`), so an augmented sample does not depend on which batch
/// or thread it lands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SampleKey {
    /// The run's seed.
    pub seed: u64,
    /// The epoch.
    pub epoch: u64,
    /// The sample's (dataset) index.
    pub index: u64,
}

impl SampleKey {
    /// The key of sample `index` in `epoch` of the run seeded by `seed`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::SampleKey;
    ///
    /// let key = SampleKey::new(42, 3, 17);
    /// assert_eq!((key.seed, key.epoch, key.index), (42, 3, 17));
    /// ```
    pub fn new(seed: u64, epoch: u64, index: u64) -> Self {
        SampleKey { seed, epoch, index }
    }
}

/// Where an op sits: the sample's key plus the op's index in the pipeline.
///
/// A leaf op draws from [`OpCtx::rng`]; a composite op gives its `i`-th
/// child [`OpCtx::child`]`(i)`, so every node of an op tree has its own
/// independent stream and adding an op never changes another op's draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpCtx {
    /// The sample.
    pub key: SampleKey,
    /// The op index (a path hash for nested ops; 0 at the root).
    pub op: u64,
}

impl OpCtx {
    /// The root context of a sample (op index 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::{OpCtx, SampleKey};
    ///
    /// let ctx = OpCtx::root(SampleKey::new(1, 0, 5));
    /// assert_eq!(ctx.op, 0);
    /// assert_ne!(ctx.child(0).op, ctx.child(1).op);
    /// ```
    pub fn root(key: SampleKey) -> Self {
        OpCtx { key, op: 0 }
    }

    /// The context of this op's `i`-th child.
    pub fn child(&self, i: usize) -> Self {
        OpCtx {
            key: self.key,
            op: splitmix64(self.op ^ splitmix64(i as u64 + 1)),
        }
    }

    /// This op's random stream: ChaCha8 keyed by the 256 bits
    /// `(seed, epoch, index, op)`, so distinct contexts give independent
    /// streams and the same context always gives the same one.
    pub fn rng(&self) -> ChaCha8Rng {
        let mut seed = [0u8; 32];
        let words = [self.key.seed, self.key.epoch, self.key.index, self.op];
        for (chunk, word) in seed.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        ChaCha8Rng::from_seed(seed)
    }
}

/// SplitMix64's finalizer (Steele, Lea & Flood 2014): a bijective 64-bit mix.
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
