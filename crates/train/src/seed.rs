//! One seed for a whole run: initialization, shuffling, dropout masks and
//! augmentation each draw from their own stream derived from it.
//!
//! Streams are counter-based, so a run's randomness at any point is a pure
//! function of `(seed, counters)` and a checkpoint needs to store only the
//! counters: the dropout RNG of micro-batch `n` is ChaCha8 seeded with the
//! dropout seed on stream `n`, the loader's order of epoch `e` is its seed on
//! stream `e` (descent-data), and a sample's augmentation is keyed by
//! `(augment seed, epoch, sample index)` (descent-augment).

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

/// What a derived seed is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Purpose {
    /// Initial parameter values (`descent_nn::Builder`).
    Init,
    /// The order of the training set in each epoch.
    Shuffle,
    /// Dropout masks and noise layers.
    Dropout,
    /// Image augmentation and MixUp/CutMix.
    Augment,
    /// Splitting a dataset into train, validation and test.
    Split,
}

impl Purpose {
    fn tag(self) -> u64 {
        match self {
            Purpose::Init => 0x1d_1417,
            Purpose::Shuffle => 0x5b_0ff1e,
            Purpose::Dropout => 0xd2_0b0a7,
            Purpose::Augment => 0xa0_97e27,
            Purpose::Split => 0x5b_1175,
        }
    }
}

/// The seed for `purpose` derived from a run's `seed` (SplitMix64 of the
/// pair, so nearby seeds give unrelated streams).
///
/// # Examples
///
/// ```
/// use descent_train::seed::{derive, Purpose};
///
/// assert_eq!(derive(7, Purpose::Init), derive(7, Purpose::Init));
/// assert_ne!(derive(7, Purpose::Init), derive(7, Purpose::Shuffle));
/// assert_ne!(derive(7, Purpose::Init), derive(8, Purpose::Init));
/// ```
pub fn derive(seed: u64, purpose: Purpose) -> u64 {
    splitmix64(splitmix64(seed) ^ purpose.tag())
}

/// A ChaCha8 RNG for `purpose`, e.g. to build a model:
/// `Builder::new(&mut state, &mut rng(seed, Purpose::Init))`.
///
/// # Examples
///
/// ```
/// use descent_train::seed::{rng, Purpose};
/// use rand::RngExt;
///
/// let a: u64 = rng(1, Purpose::Init).random();
/// let b: u64 = rng(1, Purpose::Init).random();
/// assert_eq!(a, b);
/// ```
pub fn rng(seed: u64, purpose: Purpose) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(derive(seed, purpose))
}

/// The RNG of stream `stream` for `purpose`: the dropout RNG of micro-batch
/// `stream`, say.
pub fn stream_rng(seed: u64, purpose: Purpose, stream: u64) -> ChaCha8Rng {
    let mut r = rng(seed, purpose);
    r.set_stream(stream);
    r
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn streams_differ_and_repeat() {
        let a: u64 = stream_rng(3, Purpose::Dropout, 0).random();
        let b: u64 = stream_rng(3, Purpose::Dropout, 1).random();
        let c: u64 = stream_rng(3, Purpose::Dropout, 0).random();
        assert_ne!(a, b);
        assert_eq!(a, c);
    }
}
