//! Elementwise work split across threads: large loops (a convolution's
//! activations, im2col copies, pooling) run on up to
//! [`descent_core::threads::num_threads`] threads, the calling thread and
//! descent's pool sharing contiguous blocks
//! ([`descent_core::threads::run_blocks`]), so each element is computed by
//! exactly the code that would compute it on one thread and results do not
//! depend on the thread count. Each block is timed ([`Region`]), so a block stalled by another
//! process taking its core makes the next operations run on one thread
//! (`descent_core::threads`, "A busy machine").

use descent_core::threads::Region;
use std::sync::{Mutex, PoisonError};

/// A loop over fewer elements per thread than this stays on one thread:
/// below it, waking a second thread costs more than it saves.
pub(crate) const MIN_PER_THREAD: usize = 1 << 16;

/// Threads for `units` units of work, each unit `unit_len` elements long.
fn threads_for(units: usize, unit_len: usize) -> usize {
    let elems = units.saturating_mul(unit_len.max(1));
    descent_core::threads::available()
        .min(elems / MIN_PER_THREAD)
        .min(units)
        .max(1)
}

/// Runs `f(first_unit, block)` over `out` cut into blocks of whole units of
/// `unit_len` elements, one block per thread (`first_unit` is the index of
/// the block's first unit).
pub(crate) fn blocks_mut<T: Send>(
    out: &mut [T],
    unit_len: usize,
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    let unit_len = unit_len.max(1);
    let units = out.len() / unit_len;
    let threads = threads_for(units, unit_len);
    if threads <= 1 {
        f(0, out);
        return;
    }
    let per = units.div_ceil(threads);
    let blocks: Vec<Mutex<&mut [T]>> = out.chunks_mut(per * unit_len).map(Mutex::new).collect();
    let region = Region::new();
    descent_core::threads::run_blocks(blocks.len(), threads, |i| {
        let mut block = blocks[i].lock().unwrap_or_else(PoisonError::into_inner);
        region.time(block.len(), || f(i * per, &mut block))
    });
    region.finish();
}

/// [`blocks_mut`] over two outputs cut at the same units: `a` in units of
/// `a_len`, `b` in units of `b_len` (both holding the same number of units).
pub(crate) fn blocks2_mut<T: Send, U: Send>(
    (a, a_len): (&mut [T], usize),
    (b, b_len): (&mut [U], usize),
    f: impl Fn(usize, &mut [T], &mut [U]) + Sync,
) {
    let (a_len, b_len) = (a_len.max(1), b_len.max(1));
    let units = a.len() / a_len;
    debug_assert_eq!(units, b.len() / b_len);
    let threads = threads_for(units, a_len);
    if threads <= 1 {
        f(0, a, b);
        return;
    }
    let per = units.div_ceil(threads);
    let blocks: Vec<Mutex<(&mut [T], &mut [U])>> = a
        .chunks_mut(per * a_len)
        .zip(b.chunks_mut(per * b_len))
        .map(Mutex::new)
        .collect();
    let region = Region::new();
    descent_core::threads::run_blocks(blocks.len(), threads, |i| {
        let mut block = blocks[i].lock().unwrap_or_else(PoisonError::into_inner);
        let (x, y) = &mut *block;
        region.time(x.len(), || f(i * per, x, y))
    });
    region.finish();
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_core::threads::set_num_threads;

    #[test]
    fn blocks_cover_every_unit_once_in_whole_units() {
        // Large enough to be split on any machine with more than one thread.
        set_num_threads(4);
        descent_testkit::exact_thread_counts();
        let mut out = vec![0u32; 7 * 40_000];
        blocks_mut(&mut out, 7, |first, block| {
            assert_eq!(block.len() % 7, 0);
            for (j, v) in block.iter_mut().enumerate() {
                *v += (first * 7 + j) as u32;
            }
        });
        assert!(out.iter().enumerate().all(|(i, &v)| v == i as u32));
        set_num_threads(0);
    }
}
