//! How many threads descent's parallel kernels (GEMM, optimizer walks, batch
//! augmentation) may use: one process-wide setting, like PyTorch's
//! `torch.set_num_threads`.
//!
//! The default is the `DESCENT_NUM_THREADS` environment variable when it
//! holds a positive integer, else [`std::thread::available_parallelism`].
//! [`set_num_threads`] overrides both at run time. Kernels read the setting
//! on every call, so a change takes effect at the next operation.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

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
    use super::parse;

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
