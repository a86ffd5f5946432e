//! Criterion benchmarks for descent; `cargo xtask bench` runs them.
//!
//! Each group lives in `benchmarks/<name>.rs`. GEMM threading follows
//! matrixmultiply's `MATMUL_NUM_THREADS` (default: physical cores), read once
//! per process; optimizer steps and batch augmentation follow
//! `DESCENT_NUM_THREADS` (`descent_core::threads`). Set both to compare 1
//! and 2 threads with two runs.

mod benchmarks {
    pub mod augment;
    pub mod matmul;
    pub mod optim;
    pub mod workloads;
}

criterion::criterion_group!(optim, benchmarks::optim::optim);
criterion::criterion_group!(augment, benchmarks::augment::augment);
criterion::criterion_group!(workloads, benchmarks::workloads::workloads);
criterion::criterion_main!(benchmarks::matmul::group, optim, augment, workloads);
