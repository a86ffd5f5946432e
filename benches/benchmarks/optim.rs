//! One optimizer step over 10M f32 parameters (W5), as one tensor and as 100
//! tensors of 100k, reported as time per step and as GB/s of the bytes each
//! optimizer must touch: Adam and AdamW read p, g, m, v and write p, m, v
//! (28 bytes per parameter); SGD with momentum reads p, g, b and writes p, b
//! (20). The store and the optimizers come from `descent_bench`, which
//! `cargo xtask bench` times too; the optimizers use
//! `descent_core::threads::num_threads()` threads (`DESCENT_NUM_THREADS`).

use criterion::{BenchmarkId, Criterion, Throughput};
use descent_bench::{OptimKind, W5_PARAMS, optim_store};
use std::time::Duration;

/// The optimizer step benchmarks (`cargo bench --bench bench_main -- optim`).
pub fn optim(c: &mut Criterion) {
    let mut group = c.benchmark_group("optim");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for (layout, n_tensors) in [("1x10M", 1), ("100x100k", 100)] {
        let mut store = optim_store(W5_PARAMS, n_tensors);
        for kind in OptimKind::ALL {
            let mut opt = kind.build(&store);
            opt.step(&mut store).unwrap(); // first touch of the state buffers
            group.throughput(Throughput::Bytes(
                (kind.bytes_per_param() * W5_PARAMS) as u64,
            ));
            let name = match kind {
                OptimKind::SgdMomentum => "sgd_momentum",
                other => other.name(),
            };
            group.bench_function(BenchmarkId::new(name, layout), |b| {
                b.iter(|| opt.step(&mut store).unwrap())
            });
        }
    }
    group.finish();
}
