//! The training-step workloads W1–W4 (f32): one full step each (zero
//! grads, forward, backward, optimizer step) on one reused tape, reported as
//! time per step and samples per second. The models come from
//! `descent_bench::WorkloadId`, which `cargo xtask bench` times too. W5 (the
//! 10M-parameter optimizer step) is `optim.rs`, W6 (augmentation) `augment.rs`.

use criterion::{BenchmarkId, Criterion, Throughput};
use descent_bench::{TRAINER_STEPS, TrainerData, TrainerWorkload, WorkloadId};
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

/// The W1 workloads through descent-train's `Trainer` beside the raw step
/// (`cargo bench --bench bench_main -- trainer`): each iteration is
/// [`TRAINER_STEPS`] steps, the Trainer's being one epoch of
/// [`TrainerWorkload`] (so it also pays for gathering each batch, the
/// gradient norm, accuracy counts and the epoch's bookkeeping), on the raw
/// step's one batch (`trainer`, the overhead goal) and on a fresh copy of
/// it per step (`trainer_fresh`, which also streams the data from memory).
pub fn trainer(c: &mut Criterion) {
    let mut group = c.benchmark_group("trainer");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    for id in [WorkloadId::W1Sgd, WorkloadId::W1Adam] {
        group.throughput(Throughput::Elements((TRAINER_STEPS * id.batch()) as u64));
        let mut raw = id.build(0);
        group.bench_function(BenchmarkId::new("raw", id.name()), |b| {
            b.iter(|| {
                for _ in 0..TRAINER_STEPS {
                    raw.step().unwrap();
                }
            })
        });
        for (label, data) in [
            ("trainer", TrainerData::Resident),
            ("trainer_fresh", TrainerData::Fresh),
        ] {
            let mut trainer = TrainerWorkload::with_data(id, 0, data);
            group.bench_function(BenchmarkId::new(label, id.name()), |b| {
                b.iter(|| trainer.epoch().unwrap())
            });
        }
    }
    group.finish();
}
