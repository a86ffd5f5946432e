//! One optimizer step over 10M f32 parameters, as one tensor and as 100
//! tensors of 100k, reported as time per step and as GB/s of the bytes each
//! optimizer must touch: Adam and AdamW read p, g, m, v and write p, m, v
//! (28 bytes per parameter); SGD with momentum reads p, g, b and writes p, b (20).

use criterion::{BenchmarkId, Criterion, Throughput};
use descent::core::{ParamStore, Tags};
use descent::optim::{Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, Sgd, SgdConfig};
use nalgebra::DMatrix;
use std::time::Duration;

const N: usize = 10_000_000;

fn store(n_tensors: usize) -> ParamStore<f32> {
    let mut store = ParamStore::new();
    let len = N / n_tensors;
    for t in 0..n_tensors {
        let value = DMatrix::from_fn(1, len, |_, j| ((j * 7 + t) % 13) as f32 * 0.01 - 0.06);
        let id = store
            .register(format!("p{t}"), Tags::WEIGHT, value)
            .unwrap();
        let grad = DMatrix::from_fn(1, len, |_, j| ((j * 5 + t) % 11) as f32 * 0.001 - 0.005);
        store.grad_mut(id).copy_from(&grad);
    }
    store
}

type Build = fn(&ParamStore<f32>) -> Optimizer<f32>;

/// The optimizer step benchmarks (`cargo bench --bench bench_main -- optim`).
pub fn optim(c: &mut Criterion) {
    let cases: [(&str, u64, Build); 3] = [
        ("adam", 28, |s| Adam::new(s, AdamConfig::default()).unwrap()),
        ("adamw", 28, |s| {
            AdamW::new(s, AdamWConfig::default()).unwrap()
        }),
        ("sgd_momentum", 20, |s| {
            Sgd::new(
                s,
                SgdConfig {
                    lr: 0.01,
                    momentum: 0.9,
                    ..SgdConfig::default()
                },
            )
            .unwrap()
        }),
    ];
    let mut group = c.benchmark_group("optim");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for (layout, n_tensors) in [("1x10M", 1), ("100x100k", 100)] {
        let mut store = store(n_tensors);
        for (name, bytes, build) in cases {
            let mut opt = build(&store);
            opt.step(&mut store).unwrap(); // first touch of the state buffers
            group.throughput(Throughput::Bytes(bytes * N as u64));
            group.bench_function(BenchmarkId::new(name, layout), |b| {
                b.iter(|| opt.step(&mut store).unwrap())
            });
        }
    }
    group.finish();
}
