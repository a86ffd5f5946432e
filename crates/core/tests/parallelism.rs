//! `Parallelism`'s defaults read the process-wide thread setting. In its own
//! test binary (its own process), as the only test there that changes the
//! setting, so no other test sees the change.

use descent_core::{Parallelism, threads};

#[test]
fn the_defaults_read_the_thread_setting_when_built() {
    threads::set_num_threads(3);
    let three = Parallelism::default();
    let batch = Parallelism::with_min_per_thread(64);
    threads::set_num_threads(0);
    assert_eq!(
        three,
        Parallelism {
            threads: 3,
            min_per_thread: Parallelism::DEFAULT_MIN_PER_THREAD
        }
    );
    assert_eq!(
        batch,
        Parallelism {
            threads: 3,
            min_per_thread: 64
        }
    );
    // A new value reads the setting again.
    assert_eq!(Parallelism::default().threads, threads::num_threads());
}
