//! Image augmentation throughput: random crop (padding 4) + horizontal flip
//! + brightness/contrast on 3×32×32 images, per sample and batched.

use criterion::{BatchSize, Criterion, Throughput};
use descent::augment::SampleKey;
use descent::augment::image::{
    BatchConfig, ColorJitter, ColorJitterConfig, Compose, Dims, HorizontalFlip, ImageAugment,
    PadMode, RandomCrop, apply_batch,
};
use std::hint::black_box;

fn pipeline() -> Compose {
    let jitter = ColorJitterConfig {
        brightness: 0.2,
        contrast: 0.2,
        ..Default::default()
    };
    Compose::new(vec![
        Box::new(RandomCrop::new(4, PadMode::Constant(0.0)).unwrap()),
        Box::new(HorizontalFlip::new(0.5).unwrap()),
        Box::new(ColorJitter::new(jitter).unwrap()),
    ])
}

/// The augmentation group.
pub fn augment(c: &mut Criterion) {
    let dims = Dims::new(3, 32, 32);
    let op = pipeline();
    let n = 1024;
    let data: Vec<f32> = (0..n * dims.len())
        .map(|i| (i % 251) as f32 / 250.0)
        .collect();
    let indices: Vec<usize> = (0..n).collect();
    let mut group = c.benchmark_group("augment_crop_flip_jitter_3x32x32");
    group.throughput(Throughput::Elements(n as u64));
    let mut scratch = Vec::new();
    let mut epoch = 0;
    // each iteration augments a fresh copy of the input; the copy is made
    // outside the timed routine
    group.bench_function("per_sample_loop_1024", |b| {
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
        group.bench_function(format!("batched_1024_{threads}_threads"), |b| {
            b.iter_batched_ref(
                || data.clone(),
                |batch| {
                    let config = BatchConfig {
                        seed: 0,
                        epoch,
                        threads,
                        min_images_per_thread: 64,
                    };
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
