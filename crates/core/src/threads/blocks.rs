//! [`run_blocks`]: numbered blocks of work shared by the calling thread and
//! workers of descent's pool, the calling thread working too (as an OpenMP
//! team's master thread does), and a worker that starts after every block
//! is taken skipped rather than waited for.
//!
//! With [`super::install`] the calling thread sleeps while the pool works,
//! so each operation pays two hand-offs (waking a worker, then waking the
//! caller), and on a busy machine a worker woken onto a core another
//! process holds may start milliseconds late while its block waits for it.
//! Here the caller starts on block 0 at once, and every thread takes the
//! next untaken block when it finishes one; a late worker finds none left
//! and the operation ends when the caller's last block does (plus any block
//! a worker is still running). The worst case is about one thread's time.
//!
//! The `unsafe` of this module: a worker's job must be `'static`, but the
//! blocks borrow the caller's data. The job holds a lifetime-erased pointer
//! to the caller's closure inside a shared [`Task`] and may call it only
//! while registered as active; the caller closes the task (no new
//! registration) and waits for the active count to drop to 0 before it
//! returns or unwinds, so the closure outlives every call.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// The closure of a [`run_blocks`] call, its lifetime erased.
type Job = *const (dyn Fn(usize) + Sync + 'static);

/// The state one [`run_blocks`] call shares with the workers it woke.
struct Task {
    /// The next block to take; blocks `>= blocks` do not exist.
    next: AtomicUsize,
    blocks: usize,
    /// [`CLOSED`] once the caller stopped accepting workers, plus the number
    /// of workers inside the closure.
    state: AtomicUsize,
    f: Job,
    /// The first panic of a worker's block, raised again by the caller.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
    /// Whether a worker took a block.
    helped: AtomicBool,
}

// SAFETY: `f` points to a `Sync` closure and is only called while the
// caller keeps it alive (module docs); the rest is atomics and a mutex.
unsafe impl Send for Task {}
unsafe impl Sync for Task {}

const CLOSED: usize = 1 << (usize::BITS - 1);

impl Task {
    /// Takes blocks until none is left; returns how many it took.
    fn take_blocks(&self, f: &(dyn Fn(usize) + Sync)) -> usize {
        let mut taken = 0;
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.blocks {
                return taken;
            }
            f(i);
            taken += 1;
        }
    }

    /// A worker's part: registers unless the caller has closed the task,
    /// then takes blocks.
    fn help(&self) {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & CLOSED != 0 {
                return; // started after the call ended: nothing to do
            }
            match self.state.compare_exchange_weak(
                state,
                state + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        // SAFETY: registered while the task was open, so the caller waits
        // for this worker to deregister before the closure goes away.
        let f = unsafe { &*self.f };
        match catch_unwind(AssertUnwindSafe(|| self.take_blocks(f))) {
            // Before deregistering, so the caller sees it.
            Ok(taken) => {
                if taken > 0 {
                    self.helped.store(true, Ordering::Relaxed);
                }
            }
            Err(payload) => {
                self.next.store(self.blocks, Ordering::Relaxed); // stop the others
                let mut first = self.panic.lock().unwrap_or_else(PoisonError::into_inner);
                first.get_or_insert(payload);
            }
        }
        // Release: the caller sees every write of this worker's blocks.
        self.state.fetch_sub(1, Ordering::Release);
    }
}

/// Closes the task and waits for the workers inside it, on return and on
/// unwinding alike.
struct Close<'a>(&'a Task);

impl Drop for Close<'_> {
    fn drop(&mut self) {
        let task = self.0;
        if std::thread::panicking() {
            task.next.store(task.blocks, Ordering::Relaxed);
        }
        task.state.fetch_or(CLOSED, Ordering::AcqRel);
        let mut spins = 0u32;
        // Acquire: pairs with each worker's release.
        while task.state.load(Ordering::Acquire) & !CLOSED != 0 {
            if spins < 1 << 12 {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// Runs `f(i)` once for every `i` in `0..blocks`, on up to `threads`
/// threads: the calling thread and `threads - 1` workers of descent's pool
/// ([`super::install`]'s), each taking the lowest block not yet taken when
/// it is free. The calling thread starts at once; a worker that wakes after
/// the last block was taken does nothing, and the call does not wait for it
/// (only for blocks already running). With `threads <= 1`, or one block,
/// the blocks run in order on the calling thread.
///
/// Which thread runs a block is not fixed, so `f` must give the same
/// result on any thread; results then do not depend on `threads`. `f`
/// should not start rayon work itself: on the calling thread that would
/// use rayon's global pool. A panic in a block is raised again here once
/// no block is running.
///
/// # Examples
///
/// ```
/// use descent_core::threads::run_blocks;
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// let sums: Vec<AtomicU64> = (0..8).map(|_| AtomicU64::new(0)).collect();
/// run_blocks(8, 2, |i| {
///     let s: u64 = (i as u64 * 1000..(i as u64 + 1) * 1000).sum();
///     sums[i].store(s, Ordering::Relaxed);
/// });
/// let total: u64 = sums.iter().map(|s| s.load(Ordering::Relaxed)).sum();
/// assert_eq!(total, (0..8000).sum::<u64>());
/// ```
pub fn run_blocks<F: Fn(usize) + Sync>(blocks: usize, threads: usize, f: F) {
    let helpers = threads.min(blocks).saturating_sub(1);
    if helpers == 0 {
        (0..blocks).for_each(f);
        return;
    }
    let f: &(dyn Fn(usize) + Sync) = &f;
    // SAFETY: only the lifetime changes; `Close` keeps every call of the
    // erased pointer inside this function (module docs).
    let job = unsafe {
        std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), Job>(
            f as *const (dyn Fn(usize) + Sync),
        )
    };
    let task = Arc::new(Task {
        next: AtomicUsize::new(0),
        blocks,
        state: AtomicUsize::new(0),
        f: job,
        panic: Mutex::new(None),
        helped: AtomicBool::new(false),
    });
    let start = Instant::now();
    let pool = super::pool();
    for _ in 0..helpers.min(pool.current_num_threads()) {
        let task = Arc::clone(&task);
        pool.spawn(move || task.help());
    }
    {
        let _close = Close(&task);
        task.take_blocks(f);
    }
    // Called from a pool's worker, the helpers may wait behind this
    // thread's own siblings: no evidence about the machine.
    if rayon_core::current_thread_index().is_none() {
        let ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        super::judge_helpers(task.helped.load(Ordering::Relaxed), ns);
    }
    let panic = task
        .panic
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    if let Some(payload) = panic {
        resume_unwind(payload);
    }
}

#[cfg(test)]
mod tests {
    use super::run_blocks;
    use std::collections::HashSet;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn every_block_runs_once_on_at_most_the_threads_asked_for() {
        let _turn = super::super::tests::TURN
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for (blocks, threads) in [(0, 2), (1, 2), (5, 1), (7, 2), (64, 3), (3, 8)] {
            let runs: Vec<AtomicUsize> = (0..blocks).map(|_| AtomicUsize::new(0)).collect();
            let ids = Mutex::new(HashSet::new());
            run_blocks(blocks, threads, |i| {
                runs[i].fetch_add(1, Ordering::Relaxed);
                ids.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(std::thread::current().id());
                std::thread::sleep(Duration::from_micros(50));
            });
            assert!(runs.iter().all(|r| r.load(Ordering::Relaxed) == 1));
            let ids = ids.into_inner().unwrap_or_else(|e| e.into_inner());
            assert!(ids.len() <= threads.max(1), "{} threads", ids.len());
        }
    }

    #[test]
    fn the_calling_thread_works_and_does_not_wait_for_a_worker_that_never_starts() {
        // Keep every pool worker busy, so the woken helpers cannot start:
        // the caller must take every block itself and return.
        let _turn = super::super::tests::TURN
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        super::super::set_num_threads(2);
        let pool = super::super::pool();
        let hold = std::sync::Arc::new(std::sync::Barrier::new(pool.current_num_threads() + 1));
        for _ in 0..pool.current_num_threads() {
            let hold = std::sync::Arc::clone(&hold);
            pool.spawn(move || {
                hold.wait();
            });
        }
        let me = std::thread::current().id();
        let on_caller = AtomicUsize::new(0);
        run_blocks(16, 2, |_| {
            if std::thread::current().id() == me {
                on_caller.fetch_add(1, Ordering::Relaxed);
            }
        });
        assert_eq!(on_caller.load(Ordering::Relaxed), 16);
        hold.wait(); // release the workers; the late helpers find nothing
        super::super::set_num_threads(0);
    }

    #[test]
    fn a_panic_in_a_block_reaches_the_caller_after_the_others_stop() {
        let done = AtomicUsize::new(0);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_blocks(32, 2, |i| {
                std::thread::sleep(Duration::from_micros(100));
                assert!(i != 5, "block 5 fails");
                done.fetch_add(1, Ordering::Relaxed);
            })
        }));
        assert!(caught.is_err());
        assert!(done.load(Ordering::Relaxed) < 32);
    }
}
