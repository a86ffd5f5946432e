//! [`Parallelism`]: how a kernel cuts its work across threads, the one type
//! the optimizers' walk (`descent_optim`) and batch augmentation
//! (`descent_augment`) take for it.

use crate::threads;
use serde::{Deserialize, Serialize};

/// How a piece of work is split across threads: at most `threads` threads,
/// and only as many as give each at least `min_per_thread` units.
///
/// The unit is the caller's: elements for an optimizer's walk over a store
/// (`descent_optim` starts from `descent_optim::MIN_ELEMS_PER_THREAD`, 2^18),
/// images for a batch augmentation (`descent_augment::image::BatchConfig`,
/// 64). The minimum keeps small problems on the calling thread, where waking
/// descent's pool would cost more than it saves. The pieces run on descent's
/// pool ([`threads::install`]), whose size ([`threads::num_threads`]) bounds
/// how many run at once whatever `threads` says; results do not depend on
/// the split.
///
/// Both fields are public and the struct is not `#[non_exhaustive]`: it is
/// these two knobs by definition, and callers build it with a struct
/// literal (`Parallelism { threads: 1, ..opt.parallelism() }`).
///
/// # Examples
///
/// ```
/// use descent_core::Parallelism;
///
/// // The process-wide thread setting, at least 2^18 units per thread.
/// let walk = Parallelism::with_min_per_thread(1 << 18);
/// assert_eq!(walk.threads_for(1000), 1);
///
/// let two = Parallelism { threads: 2, min_per_thread: 64 };
/// assert_eq!(two.threads_for(100), 1); // two threads would get 50 each
/// assert_eq!(two.threads_for(128), 2);
/// assert_eq!(two.threads_for(10_000), 2); // never more than `threads`
///
/// let serial = Parallelism { threads: 1, ..Parallelism::default() };
/// assert_eq!(serial.threads_for(usize::MAX), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Parallelism {
    /// The most threads the work is cut for (0 counts as 1). Defaults to
    /// [`threads::num_threads`] (`DESCENT_NUM_THREADS`, else the available
    /// cores), read when the value is built: a later
    /// [`threads::set_num_threads`] does not change a built value.
    pub threads: usize,
    /// Each thread gets at least this many units, or fewer threads run (0
    /// counts as 1). The unit is the caller's: elements, images.
    // The aliases read values serialized under the two fields this one
    // replaced (descent_optim's and descent_augment's).
    #[serde(alias = "min_elems_per_thread", alias = "min_images_per_thread")]
    pub min_per_thread: usize,
}

impl Parallelism {
    /// The minimum [`Parallelism::default`] gives each thread: 1 unit, so
    /// the work is split as soon as every thread gets something. A caller
    /// whose unit is cheaper than waking a thread asks for more with
    /// [`Parallelism::with_min_per_thread`].
    pub const DEFAULT_MIN_PER_THREAD: usize = 1;

    /// [`threads::num_threads`] threads, each given at least
    /// `min_per_thread` units: the default of a caller with its own minimum.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_core::Parallelism;
    ///
    /// let batch = Parallelism::with_min_per_thread(64);
    /// assert_eq!(batch.min_per_thread, 64);
    /// assert!(batch.threads >= 1); // descent_core::threads::num_threads()
    /// ```
    pub fn with_min_per_thread(min_per_thread: usize) -> Self {
        Parallelism {
            threads: threads::num_threads(),
            min_per_thread,
        }
    }

    /// The number of threads to cut `units` units of work for: `threads`,
    /// but no more than give each thread `min_per_thread` units, and at
    /// least 1 (also for no work, and when either field is 0).
    pub fn threads_for(&self, units: usize) -> usize {
        let by_size = units / self.min_per_thread.max(1);
        self.threads.max(1).min(by_size.max(1))
    }
}

impl Default for Parallelism {
    /// [`threads::num_threads`] threads (`DESCENT_NUM_THREADS`, else the
    /// available cores) and [`Parallelism::DEFAULT_MIN_PER_THREAD`] (1) unit
    /// per thread.
    fn default() -> Self {
        Parallelism::with_min_per_thread(Parallelism::DEFAULT_MIN_PER_THREAD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn few_units_stay_on_one_thread() {
        let p = Parallelism {
            threads: 8,
            min_per_thread: 1 << 18,
        };
        assert_eq!(p.threads_for(0), 1);
        assert_eq!(p.threads_for((1 << 18) - 1), 1);
        assert_eq!(p.threads_for(1 << 18), 1);
        assert_eq!(p.threads_for(2 << 18), 2);
        assert_eq!(p.threads_for((3 << 18) - 1), 2);
        assert_eq!(p.threads_for(100 << 18), 8);
    }

    #[test]
    fn zero_fields_count_as_one() {
        let p = Parallelism {
            threads: 0,
            min_per_thread: 0,
        };
        assert_eq!(p.threads_for(0), 1);
        assert_eq!(p.threads_for(1000), 1);
        let p = Parallelism {
            threads: 4,
            min_per_thread: 0,
        };
        assert_eq!(p.threads_for(0), 1);
        assert_eq!(p.threads_for(3), 3);
        assert_eq!(p.threads_for(1000), 4);
    }

    #[test]
    fn the_replaced_field_names_still_deserialize() {
        let p = Parallelism {
            threads: 2,
            min_per_thread: 7,
        };
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"threads":2,"min_per_thread":7}"#);
        assert_eq!(serde_json::from_str::<Parallelism>(&json).unwrap(), p);
        for old in [
            r#"{"threads":2,"min_elems_per_thread":7}"#,
            r#"{"threads":2,"min_images_per_thread":7}"#,
        ] {
            assert_eq!(serde_json::from_str::<Parallelism>(old).unwrap(), p);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The rule both callers used before this type: optim's walk
        /// (`threads.max(1).min((n / min.max(1)).max(1))`) and augment's
        /// batch split (`threads.max(1).min(n / min.max(1)).max(1)`), which
        /// agree everywhere.
        #[test]
        fn threads_for_is_both_former_rules(threads in 0usize..64, min in 0usize..1000, units in 0usize..100_000) {
            let p = Parallelism { threads, min_per_thread: min };
            let walk = threads.max(1).min((units / min.max(1)).max(1));
            let batch = threads.max(1).min(units / min.max(1)).max(1);
            prop_assert_eq!(p.threads_for(units), walk);
            prop_assert_eq!(p.threads_for(units), batch);
            prop_assert!(p.threads_for(units) >= 1);
            prop_assert!(p.threads_for(units) <= threads.max(1));
            if p.threads_for(units) > 1 {
                prop_assert!(units / p.threads_for(units) >= min.max(1));
            }
        }
    }
}
