//! How many threads descent's parallel kernels (GEMM, optimizer walks, batch
//! augmentation) may use: one process-wide setting, like PyTorch's
//! `torch.set_num_threads`.
//!
//! The default is the `DESCENT_NUM_THREADS` environment variable when it
//! holds a positive integer, else [`std::thread::available_parallelism`].
//! [`set_num_threads`] overrides both at run time. Kernels read the setting
//! on every call, so a change takes effect at the next operation.
//!
//! Parallel kernels run inside [`install`], on descent's own rayon pool of
//! exactly [`num_threads`] worker threads, never on rayon's global pool
//! (sized by `RAYON_NUM_THREADS`, else every core). So the setting bounds
//! the threads busy with descent's work at any moment, whatever a kernel
//! cuts its work into; the calling thread waits while the pool works.

use rayon_core::{ThreadPool, ThreadPoolBuilder};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// The environment variable read for the default thread count.
pub const ENV_VAR: &str = "DESCENT_NUM_THREADS";

/// 0 = no override.
static OVERRIDE: AtomicUsize = AtomicUsize::new(0);
static DEFAULT: OnceLock<usize> = OnceLock::new();

/// The number of threads parallel kernels may use (at least 1).
///
/// # Examples
///
/// ```
/// use descent_core::threads;
///
/// threads::set_num_threads(1);
/// assert_eq!(threads::num_threads(), 1);
/// threads::set_num_threads(0); // back to the default
/// assert!(threads::num_threads() >= 1);
/// ```
pub fn num_threads() -> usize {
    match OVERRIDE.load(Ordering::Relaxed) {
        0 => *DEFAULT.get_or_init(default_threads),
        n => n,
    }
}

/// Sets the number of threads parallel kernels may use; 0 restores the
/// default (`DESCENT_NUM_THREADS`, else the available cores).
pub fn set_num_threads(n: usize) {
    OVERRIDE.store(n, Ordering::Relaxed);
}

/// Runs `f` on descent's thread pool, whose [`num_threads`] workers then
/// run every rayon job `f` starts (parallel iterators, `rayon::scope`,
/// `rayon::join`, the `gemm` crate's threads). The calling thread blocks
/// until `f` returns; called from inside the pool, `f` runs in place.
///
/// The pool is built on first use and rebuilt when the setting changes.
///
/// # Panics
///
/// If the operating system refuses to start the pool's threads.
///
/// # Examples
///
/// ```
/// use descent_core::threads;
///
/// threads::set_num_threads(3);
/// assert_eq!(threads::install(rayon_core::current_num_threads), 3);
/// threads::set_num_threads(0);
/// ```
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    pool().install(f)
}

/// The pool for the current setting: one per process, rebuilt on a change.
fn pool() -> Arc<ThreadPool> {
    static POOL: Mutex<Option<(usize, Arc<ThreadPool>)>> = Mutex::new(None);
    let n = num_threads();
    let mut slot = POOL.lock().unwrap_or_else(PoisonError::into_inner);
    match &*slot {
        Some((size, pool)) if *size == n => Arc::clone(pool),
        _ => {
            let pool = ThreadPoolBuilder::new()
                .num_threads(n)
                .thread_name(|i| format!("descent-{i}"))
                .build()
                .unwrap_or_else(|e| panic!("descent: cannot start {n} worker threads: {e}"));
            let pool = Arc::new(pool);
            *slot = Some((n, Arc::clone(&pool)));
            pool
        }
    }
}

fn default_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match std::env::var(ENV_VAR) {
        Ok(text) => parse(&text).unwrap_or_else(|| {
            eprintln!(
                "descent: ignoring {ENV_VAR}={text:?} (expected a positive integer); \
                 using {cores} threads"
            );
            cores
        }),
        Err(_) => cores,
    }
}

/// A positive integer, surrounding whitespace allowed.
fn parse(text: &str) -> Option<usize> {
    text.trim().parse().ok().filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::{install, parse, set_num_threads};
    use std::collections::HashSet;
    use std::sync::Mutex;

    #[test]
    fn the_pool_follows_the_setting_and_bounds_rayon_work() {
        // The only test here that changes the process-wide setting.
        static TURN: Mutex<()> = Mutex::new(());
        let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
        for n in [2, 3, 1, 2] {
            set_num_threads(n);
            let ids = Mutex::new(HashSet::new());
            let size = install(|| {
                rayon_core::scope(|s| {
                    for _ in 0..64 {
                        s.spawn(|_| {
                            let id = std::thread::current().id();
                            ids.lock().unwrap().insert(id);
                            std::thread::sleep(std::time::Duration::from_micros(200));
                        });
                    }
                });
                rayon_core::current_num_threads()
            });
            assert_eq!(size, n);
            let ids = ids.into_inner().unwrap();
            assert!(
                !ids.is_empty() && ids.len() <= n,
                "{} threads for {n}",
                ids.len()
            );
            assert!(!ids.contains(&std::thread::current().id()));
            // Nested installs run in place, on the same pool.
            assert_eq!(install(|| install(rayon_core::current_num_threads)), n);
        }
        set_num_threads(0);
    }

    #[test]
    fn env_values_must_be_positive_integers() {
        assert_eq!(parse("2"), Some(2));
        assert_eq!(parse(" 4\n"), Some(4));
        assert_eq!(parse("0"), None);
        assert_eq!(parse("-1"), None);
        assert_eq!(parse("two"), None);
        assert_eq!(parse(""), None);
    }
}
