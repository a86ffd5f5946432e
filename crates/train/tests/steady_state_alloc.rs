//! A Trainer step allocates nothing new in steady state: every micro-batch
//! after the first few allocates the same number of times (the GEMM kernels'
//! packing buffers, which they allocate and free inside each call) and live
//! memory does not grow.
//!
//! A counting global allocator measures the training thread: the callback
//! reads the counters after every micro-batch, so each difference is one
//! whole step of the loop (loading the batch, forward, loss, backward,
//! gradient norm and clipping, the optimizer step, metrics).

mod support;

use descent_testkit::alloc::{CountingAlloc, counters};
use descent_train::{BatchInfo, Callback, Clip, Control, Data, TrainConfig};
use std::sync::{Arc, Mutex};
use support::*;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Counter readings after each micro-batch, in preallocated storage.
struct Probe(Arc<Mutex<Vec<(usize, isize)>>>);

impl Callback for Probe {
    fn on_batch_end(&mut self, _: &BatchInfo) -> Control {
        let c = counters();
        let mut v = self.0.lock().unwrap();
        if v.len() < v.capacity() {
            v.push(c);
        }
        Control::Continue
    }
}

#[test]
fn a_trainer_step_allocates_nothing_new_in_steady_state() {
    // single-threaded kernels, so every allocation is on this thread
    descent_core::threads::set_num_threads(1);
    let train = digits_subset::<f32>(960);
    let readings = Arc::new(Mutex::new(Vec::with_capacity(64)));
    // batch norm, dropout, AdamW, label smoothing, clipping and an
    // accumulation of 2: every part of the step
    let mut t = trainer::<f32>(quiet(TrainConfig {
        epochs: 1,
        batch_size: 24,
        accumulation: 2,
        clip: Some(Clip::Value(1.0)),
        ..TrainConfig::default()
    }))
    .with_callback(Probe(readings.clone()));
    t.fit(Data::train(&train)).unwrap();
    let r = readings.lock().unwrap();
    assert_eq!(r.len(), 40);
    let steps: Vec<(usize, isize)> = r
        .windows(2)
        .map(|w| (w[1].0 - w[0].0, w[1].1 - w[0].1))
        .collect();
    println!("allocations and live-byte growth per micro-batch: {steps:?}");
    // micro-batches alternate between accumulating and stepping: compare
    // each with the one two before it, after four to warm up
    // 5 GEMM calls per micro-batch (2 forward, 3 backward), each allocating
    // at most its 2 packing buffers
    const PACKING_BOUND: usize = 5 * 2;
    for (i, s) in steps.iter().enumerate().skip(6) {
        assert!(s.0 <= PACKING_BOUND, "micro-batch {i}: {} allocations", s.0);
        assert_eq!(
            s.0,
            steps[i - 2].0,
            "micro-batch {i}: the allocation count changed ({steps:?})"
        );
        assert_eq!(s.1, 0, "micro-batch {i}: live memory grew by {} bytes", s.1);
    }
}
