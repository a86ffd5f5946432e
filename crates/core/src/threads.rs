//! How many threads descent's parallel kernels (GEMM, optimizer walks, batch
//! augmentation) may use: one process-wide setting, like PyTorch's
//! `torch.set_num_threads`.
//!
//! The default is the `DESCENT_NUM_THREADS` environment variable when it
//! holds a positive integer, else [`std::thread::available_parallelism`].
//! [`set_num_threads`] overrides both at run time. Kernels read the setting
//! on every call, so a change takes effect at the next operation.
//!
//! Parallel kernels run on descent's own rayon pool of exactly
//! [`num_threads`] worker threads, never on rayon's global pool (sized by
//! `RAYON_NUM_THREADS`, else every core), in one of two ways:
//! [`run_blocks`], where the calling thread takes numbered blocks alongside
//! `threads - 1` woken workers and does not wait for a worker that starts
//! after the last block is taken (GEMM, elementwise loops, optimizer
//! walks), or [`install`], where the calling thread waits while the pool
//! runs rayon work (the `gemm` crate's threads, parallel iterators). Either
//! way the setting bounds the threads busy with descent's work at any
//! moment, whatever a kernel cuts its work into.
//!
//! # A busy machine
//!
//! When another process keeps a core busy, a second thread can cost more
//! than it brings: the operation waits for a worker that lost its core in
//! the middle of a block, and waking workers that rarely get a core in
//! time takes time from the calling thread. Two signals tell it, and
//! either makes [`available`] answer 1 for a while: 50 ms at first,
//! doubling while the signal keeps coming, up to 2 s; after 10 s without
//! one the next starts again at 50 ms. Between those spells kernels use
//! every thread again, which is how the pool sees the machine free up.
//!
//! - **Stalled blocks** ([`Region`]). A block stalled when its thread spent
//!   at least [`STALL`] of it off its core (wall time minus the thread's
//!   CPU time) and it took over twice as long per unit as the fastest block
//!   of its operation and at least [`STALL`] longer than that pace allows.
//!   Both are needed: a block slowed by its neighbours' memory traffic runs
//!   at half the pace of one running alone yet never leaves its core, and a
//!   thread descheduled briefly costs nothing worth a back-off. (Outside
//!   Linux and Android, where the OS does not report a thread's CPU time,
//!   the pace alone decides.)
//! - **Workers that never join** ([`run_blocks`]): a call of at least 50 µs
//!   in which no woken worker took a block.
//!
//! One such event is not enough. On a quiet machine (a VM here) the host
//! or a kernel thread takes a core for 200 µs now and then: 1–2% of the
//! operations with a block that long stall (3 to 5 of 300 steps of a
//! 10M-parameter SGD walk), against 65% (195 to 201 of 300) beside one busy
//! process; and about 1.5% of W1's `run_blocks` calls get no help from
//! their worker (57 of 4,000), against 85% (3,395 of 4,000) beside one busy
//! process. So each signal keeps a running share of recent events that
//! went badly: of the operations that could stall (a block at least
//! [`STALL`] long), each weighing 1/8, a stall backs off once the share
//! reaches 0.3 (three in a row from none); of the calls long enough to
//! judge, each weighing 1/16, an unhelped call backs off once the share
//! reaches 0.6 (fifteen in a row from none: a host pause of a millisecond
//! covers a few calls). A share not moved for 10 s starts again from 0.
//!
//! Results do not depend on the thread count, so all this changes speed
//! only. [`set_adaptive`]`(false)`, or `DESCENT_ADAPTIVE_THREADS=0` in the
//! environment, turns it off (then kernels always use [`num_threads`]).

mod blocks;

pub use blocks::run_blocks;
use rayon_core::{ThreadPool, ThreadPoolBuilder};
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

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

/// The number of threads a kernel should cut its work for now:
/// [`num_threads`], or 1 while the machine is contended (see the module
/// docs, "A busy machine"). Kernels read it once per operation.
pub fn available() -> usize {
    if backing_off() { 1 } else { num_threads() }
}

/// Whether kernels should run on one thread now because the machine is
/// contended (see the module docs, "A busy machine"); for kernels whose
/// thread count comes from elsewhere (an optimizer's `Parallelism`).
pub fn backing_off() -> bool {
    match BACKOFF_UNTIL.load(Ordering::Relaxed) {
        0 => false,
        until => now_ns() < until && adaptive(),
    }
}

/// The environment variable that turns the back-off off when it holds `0`.
pub const ADAPTIVE_ENV_VAR: &str = "DESCENT_ADAPTIVE_THREADS";

/// Whether the back-off is on: [`set_adaptive`]'s last word, else
/// [`ADAPTIVE_ENV_VAR`] (on unless it holds `0`).
fn adaptive() -> bool {
    match ADAPTIVE.load(Ordering::Relaxed) {
        0 => false,
        1 => true,
        _ => {
            let on = std::env::var(ADAPTIVE_ENV_VAR).map_or(true, |v| v.trim() != "0");
            // A racing `set_adaptive` wins.
            let _ =
                ADAPTIVE.compare_exchange(2, u8::from(on), Ordering::Relaxed, Ordering::Relaxed);
            ADAPTIVE.load(Ordering::Relaxed) == 1
        }
    }
}

/// Whether [`available`] may answer 1 on a contended machine (the default,
/// `true`); `false` makes kernels always use [`num_threads`], for measuring
/// how they scale.
pub fn set_adaptive(on: bool) {
    ADAPTIVE.store(u8::from(on), Ordering::Relaxed);
    if !on {
        BACKOFF_UNTIL.store(0, Ordering::Relaxed);
        STALLS.reset();
        IDLE_HELPERS.reset();
    }
}

/// A block that ran at least this much longer than the fastest block's
/// pace allows (and over twice as long per unit) was stalled: its thread
/// lost its core to another process.
pub const STALL: Duration = Duration::from_micros(200);
/// [`STALL`] in nanoseconds.
const STALL_NS: u64 = nanos(STALL);

/// A duration of whole microseconds in nanoseconds, for the constants here.
const fn nanos(d: Duration) -> u64 {
    d.as_micros() as u64 * 1000
}

/// The first back-off after a stall; each further stall within
/// [`CALM`] doubles it, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// A stall this long after the previous one starts again at [`FIRST_BACKOFF`].
const CALM: Duration = Duration::from_secs(10);
const CALM_NS: u64 = nanos(CALM);

/// 0 off, 1 on, 2 not decided yet (read [`ADAPTIVE_ENV_VAR`]).
static ADAPTIVE: AtomicU8 = AtomicU8::new(2);
/// `now_ns` until which [`available`] answers 1 (0: never backed off).
static BACKOFF_UNTIL: AtomicU64 = AtomicU64::new(0);
/// Stalls in the current spell (reset after [`CALM`]).
static STRIKES: AtomicU32 = AtomicU32::new(0);
static LAST_STALL: AtomicU64 = AtomicU64::new(0);

/// A running share of recent events of one kind that went badly, in units
/// of 1/[`SHARE_ONE`]: each event moves it 1/`weight` of the way to
/// [`SHARE_ONE`] (bad) or to 0 (fine). A share last moved over [`CALM`] ago
/// starts again from 0.
struct Share {
    weight: u32,
    value: AtomicU32,
    /// `now_ns` of the last event.
    last: AtomicU64,
}

const SHARE_ONE: u32 = 1 << 16;

impl Share {
    const fn new(weight: u32) -> Share {
        Share {
            weight,
            value: AtomicU32::new(0),
            last: AtomicU64::new(0),
        }
    }

    /// Records one event; returns the new share.
    fn judge(&self, bad: bool) -> u32 {
        let now = now_ns();
        let last = self.last.swap(now, Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) > CALM_NS {
            self.value.store(0, Ordering::Relaxed);
        }
        let step = |share: u32| {
            let kept = share - share / self.weight;
            kept + if bad { SHARE_ONE / self.weight } else { 0 }
        };
        let old = self
            .value
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| Some(step(s)))
            .unwrap_or_else(|s| s);
        step(old)
    }

    fn reset(&self) {
        self.value.store(0, Ordering::Relaxed);
    }
}

/// Of the recent regions that could stall (see [`Region::finish`]), the
/// share that did, each weighing 1/8.
static STALLS: Share = Share::new(8);
/// The share at which a stall marks the machine as contended (0.3: three
/// stalls in a row from a share of 0; two from a share under 0.09).
const CONTENDED_SHARE: u32 = SHARE_ONE * 3 / 10;

/// Of the recent [`run_blocks`] calls long enough for a woken worker to
/// join ([`JOIN_WINDOW`]), the share in which no worker took a block, each
/// weighing 1/16.
static IDLE_HELPERS: Share = Share::new(16);
/// The share of such calls at which the machine counts as contended (0.6:
/// fifteen in a row from a share of 0).
const IDLE_HELPERS_SHARE: u32 = SHARE_ONE * 6 / 10;
/// A [`run_blocks`] call shorter than this is no evidence that its workers
/// were kept from their cores: on a quiet machine a woken worker starts
/// within 7–8 µs on average.
const JOIN_WINDOW: Duration = Duration::from_micros(50);
const JOIN_WINDOW_NS: u64 = nanos(JOIN_WINDOW);

/// Records whether a [`run_blocks`] call that took `ns` got help from a
/// worker; backs off when calls keep getting none.
fn judge_helpers(helped: bool, ns: u64) {
    if ns < JOIN_WINDOW_NS {
        return;
    }
    if IDLE_HELPERS.judge(!helped) >= IDLE_HELPERS_SHARE && !helped && adaptive() {
        stalled();
    }
}

/// Nanoseconds since the first call (at least 1).
fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_nanos())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// Records a stall seen now: [`available`] answers 1 for the next back-off.
fn stalled() {
    let now = now_ns();
    let last = LAST_STALL.swap(now, Ordering::Relaxed);
    let strikes = if last == 0 || now.saturating_sub(last) > CALM_NS {
        STRIKES.store(1, Ordering::Relaxed);
        1
    } else {
        STRIKES.fetch_add(1, Ordering::Relaxed).saturating_add(1)
    };
    let backoff = FIRST_BACKOFF
        .saturating_mul(1 << strikes.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    let backoff = u64::try_from(backoff.as_nanos()).unwrap_or(u64::MAX);
    BACKOFF_UNTIL.fetch_max(now.saturating_add(backoff), Ordering::Relaxed);
}

/// The timing of one parallel operation's blocks, which tells a stalled
/// block (see the module docs, "A busy machine"). A kernel runs each block
/// through [`Region::time`], giving the block's size in its own units
/// (elements, rows), and calls [`Region::finish`] once all have returned.
///
/// # Examples
///
/// ```
/// use descent_core::threads::Region;
///
/// let region = Region::new();
/// let sums: Vec<u64> = [0..1000u64, 1000..2000]
///     .into_iter()
///     .map(|r| region.time((r.end - r.start) as usize, || r.sum::<u64>()))
///     .collect();
/// assert!(!region.finish()); // no block stalled
/// assert_eq!(sums.iter().sum::<u64>(), 1_999_000);
/// ```
#[derive(Debug)]
pub struct Region {
    /// The fastest block's pace, picoseconds per unit.
    fastest_ps: AtomicU64,
    /// The slowest pace (picoseconds per unit) of a block whose thread was
    /// off its core for at least [`STALL`].
    slowest_ps: AtomicU64,
    /// That block's duration (ns) and size (units).
    slowest: Mutex<(u64, u64)>,
    /// The longest block (ns): a region whose blocks were all shorter
    /// than [`STALL`] could not have stalled, and is no evidence either way.
    longest_ns: AtomicU64,
}

impl Default for Region {
    fn default() -> Self {
        Region::new()
    }
}

impl Region {
    /// A region with no block timed yet.
    pub fn new() -> Region {
        Region {
            fastest_ps: AtomicU64::new(u64::MAX),
            slowest_ps: AtomicU64::new(0),
            slowest: Mutex::new((0, 0)),
            longest_ns: AtomicU64::new(0),
        }
    }

    /// Runs one block of `units` units of work, timing it.
    pub fn time<R>(&self, units: usize, block: impl FnOnce() -> R) -> R {
        let cpu_start = thread_cpu_ns();
        let start = Instant::now();
        let out = block();
        let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let off_core = match (cpu_start, thread_cpu_ns()) {
            (Some(a), Some(b)) => ns.saturating_sub(b.saturating_sub(a)),
            _ => ns, // not reported: the pace alone decides
        };
        self.record(units, ns, off_core);
        out
    }

    /// Records a block of `units` units that took `ns`, `off_core_ns` of
    /// them with its thread off its core.
    fn record(&self, units: usize, ns: u64, off_core_ns: u64) {
        let units = (units as u64).max(1);
        let pace = ns.saturating_mul(1000) / units;
        self.fastest_ps.fetch_min(pace, Ordering::Relaxed);
        self.longest_ns.fetch_max(ns, Ordering::Relaxed);
        if off_core_ns >= STALL_NS && self.slowest_ps.fetch_max(pace, Ordering::Relaxed) < pace {
            let mut slowest = self.slowest.lock().unwrap_or_else(PoisonError::into_inner);
            if pace >= slowest.0.saturating_mul(1000) / slowest.1.max(1) {
                *slowest = (ns, units);
            }
        }
    }

    /// Ends the region; `true` when a block stalled. When stalls have
    /// become frequent (see the module docs, "A busy machine"), a stall
    /// starts a back-off: [`available`] answers 1 for a while.
    pub fn finish(self) -> bool {
        if self.longest_ns.into_inner() < STALL_NS {
            return false; // too short to show a stall
        }
        let fastest = self.fastest_ps.into_inner();
        let (ns, units) = self
            .slowest
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let stalled = is_stall(fastest, ns, units);
        if STALLS.judge(stalled) >= CONTENDED_SHARE && stalled && adaptive() {
            self::stalled();
        }
        stalled
    }
}

/// The CPU time the calling thread has run (ns), where the OS reports it
/// per thread, to the nanosecond: `CLOCK_THREAD_CPUTIME_ID`, which counts
/// the running slice up to now (`getrusage`'s per-thread figure lags by up
/// to a scheduler tick, milliseconds).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn thread_cpu_ns() -> Option<u64> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` writes one `timespec` through the pointer,
    // which points to one we own.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } != 0 {
        return None;
    }
    // `time_t` is i64 here but narrower on some targets.
    #[allow(clippy::useless_conversion)]
    let (secs, nanos) = (i64::from(now.tv_sec), i64::from(now.tv_nsec));
    u64::try_from(secs.saturating_mul(1_000_000_000).saturating_add(nanos)).ok()
}

/// Not reported on this OS: [`Region`] judges a block by its pace alone.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn thread_cpu_ns() -> Option<u64> {
    None
}

/// Whether a block of `units` units that took `ns` stalled, when the
/// fastest block of its region ran at `fastest_ps` picoseconds per unit.
fn is_stall(fastest_ps: u64, ns: u64, units: u64) -> bool {
    if fastest_ps == u64::MAX || units == 0 {
        return false;
    }
    let expected = fastest_ps.saturating_mul(units) / 1000;
    ns > expected.saturating_mul(2) && ns.saturating_sub(expected) >= STALL_NS
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
    use super::{
        Region, available, install, is_stall, judge_helpers, parse, set_adaptive, set_num_threads,
        thread_cpu_ns,
    };
    use std::collections::HashSet;
    use std::sync::Mutex;
    use std::time::Duration;

    /// Taken by the tests that change the process-wide settings.
    pub(super) static TURN: Mutex<()> = Mutex::new(());

    #[test]
    fn a_stall_is_a_block_twice_as_slow_and_200_us_late() {
        // (`Region` asks this only of blocks whose thread was off its core
        // for 200 µs or more.)
        // 1000 units at 1 ns each (1000 ps per unit): 1 µs expected.
        assert!(!is_stall(1000, 1_000, 1000));
        assert!(!is_stall(1000, 150_000, 1000)); // 149 µs late: noise
        assert!(is_stall(1000, 202_000, 1000));
        // 1e6 units at 1 ns: 1 ms expected; 1.5 ms is under twice that.
        assert!(!is_stall(1000, 1_500_000, 1_000_000));
        assert!(is_stall(1000, 2_500_000, 1_000_000));
        // Nothing timed.
        assert!(!is_stall(u64::MAX, 5_000_000, 10));
        assert!(!is_stall(1000, 5_000_000, 0));
    }

    #[test]
    fn a_stalled_block_makes_kernels_use_one_thread_for_a_while() {
        let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
        set_num_threads(2);
        set_adaptive(false); // clears any earlier back-off
        set_adaptive(true);
        assert_eq!(available(), 2);
        // One block of two waits 3 ms longer than its pace allows, off its core.
        let stalled = || {
            let region = Region::new();
            region.time(1000, || ());
            region.time(1000, || std::thread::sleep(Duration::from_millis(3)));
            region
        };
        let fine = || {
            let region = Region::new();
            region.record(1000, 300_000, 0);
            region.record(1000, 300_000, 0);
            region
        };
        // A stall now and then, as a quiet machine has: no back-off.
        for _ in 0..5 {
            assert!(stalled().finish());
            for _ in 0..10 {
                assert!(!fine().finish());
            }
            assert_eq!(available(), 2);
        }
        // Regions too short to show a stall are no evidence either way.
        for _ in 0..50 {
            let region = Region::new();
            region.record(1000, 1_000, 0);
            assert!(!region.finish());
        }
        // Stalls that keep coming: the third in a row backs off.
        assert!(stalled().finish());
        assert!(stalled().finish());
        assert_eq!(available(), 2);
        assert!(stalled().finish());
        assert_eq!(available(), 1);
        // Turned off, kernels use the setting whatever happened.
        set_adaptive(false);
        assert_eq!(available(), 2);
        set_adaptive(true);
        set_num_threads(1);
        assert_eq!(available(), 1);
        set_num_threads(0);
    }

    #[test]
    fn calls_whose_workers_keep_not_joining_make_kernels_use_one_thread() {
        let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
        set_num_threads(2);
        set_adaptive(false); // clears any earlier back-off and share
        set_adaptive(true);
        let ms = 1_000_000;
        // Now and then, as on a quiet machine: no back-off.
        for _ in 0..20 {
            judge_helpers(false, ms);
            for _ in 0..20 {
                judge_helpers(true, ms);
            }
        }
        assert_eq!(available(), 2);
        // Calls too short for a woken worker to join are no evidence.
        for _ in 0..100 {
            judge_helpers(false, 10_000);
        }
        assert_eq!(available(), 2);
        // Fourteen in a row from none stay under the share; the fifteenth
        // backs off.
        set_adaptive(false);
        set_adaptive(true);
        for _ in 0..14 {
            judge_helpers(false, ms);
        }
        assert_eq!(available(), 2);
        judge_helpers(false, ms);
        assert_eq!(available(), 1);
        set_adaptive(false);
        set_adaptive(true);
        set_num_threads(0);
    }

    #[test]
    fn a_slow_block_that_kept_its_core_is_not_a_stall() {
        let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
        set_adaptive(false); // judge only; no back-off for the other tests
        // Two blocks of 1000 units; the second took 3 ms where the pace of
        // the first (1 µs) allows 1 µs. Slowed on its core (memory traffic,
        // say): not a stall. Off its core for 3 ms: a stall.
        let judge = |off_core_ns| {
            let region = Region::new();
            region.record(1000, 1_000, 0);
            region.record(1000, 3_000_000, off_core_ns);
            region.finish()
        };
        assert!(!judge(0));
        assert!(!judge(150_000)); // descheduled briefly: noise
        assert!(judge(3_000_000));
        set_adaptive(true);
    }

    #[test]
    fn the_thread_cpu_clock_runs_while_spinning_and_stops_while_sleeping() {
        let Some(before) = thread_cpu_ns() else {
            // Not reported on this OS: `Region` judges by the pace alone.
            return;
        };
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(2) {
            std::hint::spin_loop();
        }
        let spun = thread_cpu_ns().unwrap_or(0).saturating_sub(before);
        assert!(spun > 0, "no CPU time counted while spinning");
        let before = thread_cpu_ns().unwrap_or(0);
        std::thread::sleep(Duration::from_millis(5));
        let slept = thread_cpu_ns().unwrap_or(0).saturating_sub(before);
        assert!(
            slept < 2_000_000,
            "{slept} ns of CPU time counted in a 5 ms sleep"
        );
    }

    #[test]
    fn the_pool_follows_the_setting_and_bounds_rayon_work() {
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
