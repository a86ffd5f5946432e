//! Criterion benchmarks: one group per file in `benchmarks/`.

mod benchmarks {
    pub mod optim;
}

criterion::criterion_group!(optim, benchmarks::optim::optim);
criterion::criterion_main!(optim);
