//! Image augmentation throughput (W6): random crop (padding 4) + horizontal
//! flip + brightness/contrast on 3×32×32 images, per sample and batched. The
//! pipeline and the input come from `descent_bench`, which `cargo xtask
//! bench` times too.

use criterion::{BatchSize, Criterion, Throughput};
use descent::augment::SampleKey;
use descent::augment::image::{BatchConfig, ImageAugment, apply_batch};
use descent_bench::{W6_BATCH, W6_DIMS, augment_input, augment_pipeline};
use std::hint::black_box;

/// The augmentation group.
pub fn augment(c: &mut Criterion) {
    let dims = W6_DIMS;
    let op = augment_pipeline();
    let n = W6_BATCH;
    let data = augment_input(n);
    let indices: Vec<usize> = (0..n).collect();
    let mut group = c.benchmark_group("augment_crop_flip_jitter_3x32x32");
    group.throughput(Throughput::Elements(n as u64));
    let mut scratch = Vec::new();
    let mut epoch = 0;
    // each iteration augments a fresh copy of the input; the copy is made
    // outside the timed routine
    group.bench_function(format!("per_sample_loop_{n}"), |b| {
        b.iter_batched_ref(
            || data.clone(),
            |batch| {
                for (img, &i) in batch.chunks_exact_mut(dims.len()).zip(&indices) {
                    op.apply(SampleKey::new(0, epoch, i as u64), dims, img, &mut scratch)
                        .unwrap();
                }
                epoch += 1;
                black_box(&batch);
            },
            BatchSize::LargeInput,
        )
    });
    for threads in [1, 2] {
        group.bench_function(format!("batched_{n}_{threads}_threads"), |b| {
            b.iter_batched_ref(
                || data.clone(),
                |batch| {
                    let config = BatchConfig::new(0, epoch)
                        .with_threads(threads)
                        .with_min_images_per_thread(64);
                    apply_batch(&op, dims, batch, &indices, &config).unwrap();
                    epoch += 1;
                    black_box(&batch);
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}
