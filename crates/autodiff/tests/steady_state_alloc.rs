//! A training step on a reused tape must not allocate in steady state beyond
//! what the first steps allocated: the tape's pool hands every buffer back.
//!
//! A counting global allocator measures each step on the test's own thread
//! (other threads of the test harness allocate and free at their own pace, so
//! process-wide counts would be noise). The only allocations left
//! in steady state are the GEMM kernels' packing buffers, which the `gemm`
//! crate and matrixmultiply allocate and free inside each call (neither API
//! takes a workspace): at most two per call (packed left and right operand).
//! (An operation split across threads also allocates its shared task and a
//! job per woken worker, `descent_core::threads::run_blocks`, freed when it
//! ends; this test's products are too small to be split.)
//! The test bounds them by that, checks that every steady-state step
//! allocates the same number of times, and that live memory does not grow.

use descent_autodiff::Tape;
use descent_core::{ParamStore, Tags};
use descent_testkit::alloc::{CountingAlloc, counters};
use nalgebra::DMatrix;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// GEMM calls per step of the MLP below: 2 forward, 2 + 1 backward
/// (the first layer's input needs no gradient).
const GEMMS_PER_STEP: usize = 5;
/// Packing buffers one GEMM call may allocate: its left and right operand.
const SCRATCH_PER_GEMM: usize = 2;

#[test]
fn mlp_training_step_allocates_nothing_new_in_steady_state() {
    let (n, d_in, d_hidden, d_out) = (32, 64, 48, 10);
    let mut store = ParamStore::<f32>::new();
    let w1 = store
        .register(
            "fc1.weight",
            Tags::WEIGHT,
            DMatrix::from_fn(d_hidden, d_in, |i, j| {
                ((i * 7 + j * 3) % 11) as f32 * 0.01 - 0.05
            }),
        )
        .unwrap();
    let b1 = store
        .register("fc1.bias", Tags::BIAS, DMatrix::zeros(1, d_hidden))
        .unwrap();
    let w2 = store
        .register(
            "fc2.weight",
            Tags::WEIGHT,
            DMatrix::from_fn(d_out, d_hidden, |i, j| {
                ((i * 5 + j) % 7) as f32 * 0.02 - 0.06
            }),
        )
        .unwrap();
    let b2 = store
        .register("fc2.bias", Tags::BIAS, DMatrix::zeros(1, d_out))
        .unwrap();
    let x = DMatrix::from_fn(n, d_in, |i, j| ((i + 3 * j) % 13) as f32 / 13.0);
    let onehot = DMatrix::from_fn(n, d_out, |i, j| if i % d_out == j { 1.0f32 } else { 0.0 });
    let mut tape = Tape::<f32>::new();

    let mut per_step = Vec::new();
    for _ in 0..12 {
        let (allocs0, live0) = counters();
        tape.reset();
        store.zero_grad();
        let input = tape.constant(&x);
        let h = (input.matmul_t(tape.param(&store, w1)) + tape.param(&store, b1)).relu();
        // a dropout-style mask written into a recycled buffer
        let h = h.mask_with(|m| {
            m.iter_mut()
                .enumerate()
                .for_each(|(k, v)| *v = if k % 5 == 0 { 0.0 } else { 1.25 })
        });
        let logits = h.matmul_t(tape.param(&store, w2)) + tape.param(&store, b2);
        let loss = -logits.log_softmax().mask(&onehot).sum() / n as f32;
        tape.backward(loss, &mut store);
        // a plain gradient step in place
        let (params, grads) = store.split_mut();
        for id in [w1, b1, w2, b2] {
            params
                .value_mut(id)
                .zip_apply(grads.get(id), |p, g| *p -= 0.1 * g);
        }
        per_step.push((
            counters().0 - allocs0,
            counters().1 - live0,
            tape.fresh_buffers(),
        ));
    }
    println!("allocations and live-byte growth per step: {per_step:?}");
    println!("pool buffers created: {}", tape.fresh_buffers());
    for (step, &(allocs, growth, _)) in per_step.iter().enumerate().skip(2) {
        assert!(
            allocs <= GEMMS_PER_STEP * SCRATCH_PER_GEMM,
            "step {step}: {allocs} allocations, more than the packing buffers of \
             {GEMMS_PER_STEP} GEMM calls"
        );
        assert_eq!(
            allocs, per_step[2].0,
            "step {step}: the allocation count changed in steady state"
        );
        assert_eq!(growth, 0, "step {step}: live memory grew by {growth} bytes");
    }
    let fresh_after_warmup = tape.fresh_buffers();
    assert!(fresh_after_warmup > 0);
}
