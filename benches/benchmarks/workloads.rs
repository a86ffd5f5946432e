//! The training-step workloads W1–W4 (f32): one full step each (zero
//! grads, forward, backward, optimizer step) on one reused tape, reported as
//! time per step and samples per second. The models come from
//! `descent_bench::WorkloadId`, which `cargo xtask bench` times too. W5 (the
//! 10M-parameter optimizer step) is `optim.rs`, W6 (augmentation) `augment.rs`.

use criterion::{BenchmarkId, Criterion, Throughput};
use descent_bench::WorkloadId;
use std::time::Duration;

/// The workload benchmarks (`cargo bench --bench bench_main -- workloads`).
pub fn workloads(c: &mut Criterion) {
    let mut group = c.benchmark_group("workloads");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for id in WorkloadId::ALL {
        let mut w = id.build(0);
        group.throughput(Throughput::Elements(id.batch() as u64));
        group.bench_function(BenchmarkId::from_parameter(id.name()), |b| {
            b.iter(|| w.step().unwrap())
        });
    }
    group.finish();
}
