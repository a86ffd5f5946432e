//! A deterministic mutation engine: the fallback to libFuzzer when no
//! nightly toolchain (or cargo-fuzz) is at hand, and what CI runs.
//!
//! Written here rather than taken from a crate: the fuzzing crates on
//! crates.io (`libfuzzer-sys`, `afl`, `honggfuzz`) all need their engine and
//! instrumentation, which is exactly what this fallback must do without;
//! `arbitrary` and proptest generate structured values but do not mutate a
//! byte corpus under a time budget. This loop is AFL's havoc stage in small:
//! each input is a seed from the corpus (or an earlier input), changed by 1 to
//! 8 random byte flips, interesting values, insertions, deletions, block
//! copies, truncations or splices with another seed. It is not coverage
//! guided; libFuzzer (`cargo xtask fuzz` with cargo-fuzz installed) is.

use crate::Target;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Inputs tried.
    pub executions: u64,
    /// The first input that panicked, with the panic message.
    pub crash: Option<(Vec<u8>, String)>,
}

/// Bytes that often sit on parsers' edges.
const INTERESTING: [u8; 12] = [
    0, 1, 0x7f, 0x80, 0xff, b'\n', b'"', b',', b'\t', b' ', b'0', 0x1f,
];

/// Reads every file of `dir` as a seed (none when it does not exist), in name order.
pub fn seeds(dir: &Path) -> Vec<Vec<u8>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

fn below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (rng.next_u64() % n as u64) as usize
    }
}

/// One mutation of `input`, drawing a partner from `pool` for splices.
pub fn mutate(input: &[u8], pool: &[Vec<u8>], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + below(rng, 8) {
        let len = out.len();
        match below(rng, 9) {
            0 if len > 0 => {
                let i = below(rng, len);
                out[i] ^= 1 << below(rng, 8);
            }
            1 if len > 0 => {
                let i = below(rng, len);
                out[i] = INTERESTING[below(rng, INTERESTING.len())];
            }
            2 => {
                let i = below(rng, len + 1);
                out.insert(i, rng.next_u32() as u8);
            }
            3 if len > 0 => {
                let i = below(rng, len);
                let n = 1 + below(rng, (len - i).min(16));
                out.drain(i..i + n);
            }
            4 if len > 1 => {
                // copy a block over another place
                let (a, b) = (below(rng, len), below(rng, len));
                let n = 1 + below(rng, (len - a.max(b)).min(32));
                let block = out[a..a + n].to_vec();
                out[b..b + n].copy_from_slice(&block);
            }
            5 if len > 0 => out.truncate(below(rng, len)),
            6 if !pool.is_empty() => {
                let other = &pool[below(rng, pool.len())];
                let (i, j) = (below(rng, len + 1), below(rng, other.len() + 1));
                out.truncate(i);
                out.extend_from_slice(&other[j..]);
            }
            7 if len >= 4 => {
                // a big-endian u32 of an edge value (counts, sizes)
                let i = below(rng, len - 3);
                let v = [0u32, 1, 0x7fff_ffff, 0x8000_0000, u32::MAX, 0x100][below(rng, 6)];
                out[i..i + 4].copy_from_slice(&v.to_be_bytes());
            }
            _ => {
                let i = below(rng, len + 1);
                let digits = [
                    "9999999999999999999999",
                    "-1",
                    "1e309",
                    "NaN",
                    "null",
                    "{}",
                    "[]",
                ];
                let d = digits[below(rng, digits.len())].as_bytes();
                out.splice(i..i, d.iter().copied());
            }
        }
    }
    out
}

/// Runs `target` on every seed, then on mutations of seeds and of earlier
/// inputs until `budget` has passed or `max_executions` inputs were tried;
/// stops at the first panic.
pub fn run(
    target: Target,
    seeds: &[Vec<u8>],
    seed: u64,
    budget: Duration,
    max_executions: u64,
) -> Outcome {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let seeds: Vec<Vec<u8>> = if seeds.is_empty() {
        vec![Vec::new()]
    } else {
        seeds.to_vec()
    };
    // The seeds stay; a bounded pool of recent inputs is mutated further.
    let mut recent: Vec<Vec<u8>> = Vec::new();
    let start = Instant::now();
    let mut executions = 0u64;
    loop {
        let next = if (executions as usize) < seeds.len() {
            seeds[executions as usize].clone()
        } else {
            let base = if recent.is_empty() || rng.next_u32() % 2 == 0 {
                &seeds[below(&mut rng, seeds.len())]
            } else {
                &recent[below(&mut rng, recent.len())]
            };
            mutate(base, &seeds, &mut rng)
        };
        executions += 1;
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| target(&next))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            return Outcome {
                executions,
                crash: Some((next, message)),
            };
        }
        if recent.len() < 256 {
            recent.push(next);
        } else {
            let i = below(&mut rng, recent.len());
            recent[i] = next;
        }
        if executions >= max_executions || start.elapsed() >= budget {
            return Outcome {
                executions,
                crash: None,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parser that trusts a count byte: it panics on an edge value.
    fn picky(data: &[u8]) {
        if let [b'I', b'D', n, rest @ ..] = data {
            assert!(*n != 0xff || rest.len() > 2, "found it");
        }
    }

    #[test]
    fn a_planted_panic_is_found_and_reported() {
        let seeds = vec![b"ID\x03abc".to_vec(), b"xyz".to_vec()];
        let out = run(picky, &seeds, 1, Duration::from_secs(60), 2_000_000);
        let (input, message) = out.crash.expect("the mutator reaches the edge");
        assert!(input.starts_with(b"ID\xff"), "{input:?}");
        assert_eq!(message, "found it");
        assert!(out.executions > 2);
    }

    #[test]
    fn runs_are_deterministic_in_their_inputs() {
        let pool = vec![b"hello world".to_vec()];
        let a: Vec<_> = {
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            (0..50).map(|_| mutate(&pool[0], &pool, &mut rng)).collect()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let b: Vec<_> = (0..50).map(|_| mutate(&pool[0], &pool, &mut rng)).collect();
        assert_eq!(a, b);
    }
}
