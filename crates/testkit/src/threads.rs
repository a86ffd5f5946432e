//! Thread settings for tests that compare thread counts.

use descent_core::Parallelism;

/// Makes every thread count hold exactly as asked, process-wide: turns off
/// the back-off of `descent_core::threads` ("A busy machine"), which on a
/// busy test machine would quietly run a two-thread case on one thread and
/// let a thread-count test compare one thread with one thread.
pub fn exact_thread_counts() {
    descent_core::threads::set_adaptive(false);
}

/// `threads` threads for any number of elements (a minimum of 1 per
/// thread), held exactly as asked ([`exact_thread_counts`]).
pub fn exact_parallelism(threads: usize) -> Parallelism {
    exact_thread_counts();
    Parallelism {
        threads,
        min_per_thread: 1,
    }
}
