//! The tape's overhead on a GEMM-sized op: `X (128×784) · Wᵀ (784×512)`,
//! f32, forward and forward + backward through the tape, beside a bare
//! nalgebra GEMM of the same size. Throughput is in FLOP (`elem/s` = FLOP/s).

use criterion::{Criterion, Throughput, criterion_group};
use descent_autodiff::Tape;
use descent_core::{ParamStore, Tags};
use nalgebra::DMatrix;
use std::hint::black_box;

const N: usize = 128;
const D_IN: usize = 784;
const D_OUT: usize = 512;
const GEMM_FLOP: u64 = 2 * (N * D_IN * D_OUT) as u64;

fn inputs() -> (DMatrix<f32>, DMatrix<f32>) {
    let x = DMatrix::from_fn(N, D_IN, |i, j| ((i * 31 + j * 7) % 17) as f32 / 17.0 - 0.5);
    let w = DMatrix::from_fn(D_OUT, D_IN, |i, j| {
        ((i * 13 + j * 5) % 19) as f32 / 190.0 - 0.05
    });
    (x, w)
}

fn bench(c: &mut Criterion) {
    let (x, w) = inputs();
    let threads = descent_core::threads::num_threads();
    let mut g = c.benchmark_group(format!("matmul_128x784x512_f32/threads={threads}"));

    g.throughput(Throughput::Elements(GEMM_FLOP));
    let wt = w.transpose();
    let mut out = DMatrix::<f32>::zeros(N, D_OUT);
    g.bench_function("bare_nalgebra_gemm", |b| {
        b.iter(|| out.gemm(1.0, black_box(&x), black_box(&wt), 0.0));
    });

    let mut store = ParamStore::<f32>::new();
    let wid = store
        .register("fc.weight", Tags::WEIGHT, w.clone())
        .expect("fresh store");
    let mut tape = Tape::<f32>::new();
    g.bench_function("tape_forward", |b| {
        b.iter(|| {
            tape.reset();
            let y = tape
                .constant(black_box(&x))
                .matmul_t(tape.param(&store, wid));
            black_box(y.shape());
        });
    });

    // backward computes dX = G·W and dW = Gᵀ·X: three GEMMs in all
    g.throughput(Throughput::Elements(3 * GEMM_FLOP));
    let grad_out = DMatrix::<f32>::from_element(N, D_OUT, 1e-3);
    g.bench_function("tape_forward_backward", |b| {
        b.iter(|| {
            tape.reset();
            store.zero_grad();
            let y = tape
                .leaf_var(black_box(&x))
                .matmul_t(tape.param(&store, wid));
            tape.backward_with(y, &grad_out, &mut store);
        });
    });
    g.finish();
}

criterion_group!(group, bench);
