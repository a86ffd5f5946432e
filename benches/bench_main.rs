//! Criterion benchmarks for descent; `cargo xtask bench` runs them.
//!
//! Each group lives in `benchmarks/<name>.rs`. Every parallel kernel (GEMM,
//! elementwise loops, optimizer steps, batch augmentation) follows
//! `DESCENT_NUM_THREADS` (`descent_core::threads`, default: all cores); set
//! it to compare 1 and 2 threads with two runs.

mod benchmarks {
    pub mod augment;
    pub mod matmul;
    pub mod optim;
    pub mod workloads;
}

criterion::criterion_group!(optim, benchmarks::optim::optim);
criterion::criterion_group!(augment, benchmarks::augment::augment);
criterion::criterion_group!(workloads, benchmarks::workloads::workloads);
criterion::criterion_group!(trainer, benchmarks::workloads::trainer);
criterion::criterion_main!(
    benchmarks::matmul::group,
    optim,
    augment,
    workloads,
    trainer
);
