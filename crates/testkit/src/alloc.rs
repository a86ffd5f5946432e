//! A counting global allocator for tests that check a step allocates
//! nothing new in steady state.
//!
//! It counts per thread (other threads of the test harness allocate and free
//! at their own pace, so process-wide counts would be noise): a test
//! installs it in its own test binary and reads [`counters`] on the thread
//! it measures.
//!
//! ```text
//! use descent_testkit::alloc::{CountingAlloc, counters};
//!
//! #[global_allocator]
//! static GLOBAL: CountingAlloc = CountingAlloc;
//!
//! let (allocs0, live0) = counters();
//! // ... one step ...
//! let (allocs, live) = counters();
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting on each thread the allocations it makes
/// (a reallocation counts as one) and the bytes it holds live.
#[derive(Clone, Copy, Debug, Default)]
pub struct CountingAlloc;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

/// Counts `n` allocations and `bytes` more live bytes on this thread.
fn count(n: usize, bytes: isize) {
    // `try_with` so that allocations during thread teardown are not counted
    let _ = ALLOCS.try_with(|a| a.set(a.get() + n));
    let _ = LIVE.try_with(|l| l.set(l.get() + bytes));
}

/// This thread's allocation count and live bytes so far, as counted by
/// [`CountingAlloc`] (zeros when it is not the global allocator).
pub fn counters() -> (usize, isize) {
    (ALLOCS.with(Cell::get), LIVE.with(Cell::get))
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counting touches only thread-local cells and never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(1, layout.size() as isize);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(0, -(layout.size() as isize));
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(1, new_size as isize - layout.size() as isize);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
