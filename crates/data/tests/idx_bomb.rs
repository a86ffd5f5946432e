//! A gzipped IDX file whose header promises more than its stream can hold is
//! refused before anything is inflated for it: peak heap use stays far below
//! what the stream would inflate to. Its own test binary, so the counting
//! allocator sees no other test's allocations.

use descent_data::{Error, IDX_IMAGES_MAGIC, parse_idx};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Peak;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(live, Ordering::SeqCst);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Peak = Peak;

#[test]
fn a_gzip_bomb_is_refused_without_inflating_it() {
    const INFLATED: usize = 64 << 20;
    // header: 2^31 images of 2 × 2 (8 GiB promised), then 64 MiB of zeros
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&[0, 0, 8, 3]).unwrap();
    for d in [1u32 << 31, 2, 2] {
        enc.write_all(&d.to_be_bytes()).unwrap();
    }
    let block = vec![0u8; 1 << 20];
    for _ in 0..INFLATED >> 20 {
        enc.write_all(&block).unwrap();
    }
    let bomb = enc.finish().unwrap();
    drop(block);
    assert!(bomb.len() < INFLATED / 100, "{}", bomb.len());
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let err = parse_idx(&bomb, Path::new("bomb.gz"), IDX_IMAGES_MAGIC).unwrap_err();
    let peak = PEAK.load(Ordering::SeqCst) - before;
    assert!(matches!(err, Error::Truncated { .. }), "{err}");
    assert!(
        peak < INFLATED / 16,
        "peak heap {peak} bytes while refusing a {} byte bomb",
        bomb.len()
    );
}
