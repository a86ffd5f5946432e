//! Semantic segmentation end to end: a small fully-convolutional net learns
//! to label each pixel of a synthetic image as background, horizontal bar
//! or vertical bar (same brightness, so only the neighbourhood tells), with
//! flips and padded crops that move the class maps with the images.
//! Then one sample is augmented with its mask and its bars' boxes to show
//! that all three move together.
//!
//! `cargo run --release -p descent-train --example segmentation`

use descent_augment::SampleKey;
use descent_augment::image::functional::Image;
use descent_augment::image::{
    BoxFormat, Boxes, Compose, HorizontalFlip, Mask, PadMode, RandomCrop, Sample, SanitizeConfig,
    VerticalFlip,
};
use descent_core::ImageShape;
use descent_data::InMemory;
use descent_nn::{Builder, Conv2d, Conv2dConfig, ModelState, Relu, Sequential};
use descent_optim::AdamWConfig;
use descent_train::{Augmentation, Data, Loss, TrainConfig, Trainer, seed};
use nalgebra::DMatrix;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SIDE: usize = 12;
const IGNORE: usize = 255;

/// A bar: `(top, left, height, width, class)`.
type Bar = (usize, usize, usize, usize, usize);

/// One image: noise, up to three non-touching bars and a few bright specks.
fn scene(rng: &mut ChaCha8Rng) -> (Vec<f32>, Vec<usize>, Vec<Bar>) {
    let plane = SIDE * SIDE;
    let mut img: Vec<f32> = (0..plane).map(|_| rng.random_range(0.0..0.3)).collect();
    let (mut map, mut bars) = (vec![0usize; plane], Vec::new());
    for _ in 0..3 {
        let horizontal = rng.random_bool(0.5);
        let len = rng.random_range(5..=8);
        let (h, w) = if horizontal { (2, len) } else { (len, 2) };
        let (top, left) = (
            rng.random_range(0..=SIDE - h),
            rng.random_range(0..=SIDE - w),
        );
        let rows = top.saturating_sub(1)..(top + h + 1).min(SIDE);
        let clear = rows.clone().all(|i| {
            (left.saturating_sub(1)..(left + w + 1).min(SIDE)).all(|j| map[i * SIDE + j] == 0)
        });
        if !clear {
            continue;
        }
        let (level, class) = (rng.random_range(0.6..1.0), if horizontal { 1 } else { 2 });
        for i in top..top + h {
            for j in left..left + w {
                img[i * SIDE + j] = level;
                map[i * SIDE + j] = class;
            }
        }
        bars.push((top, left, h, w, class));
    }
    for _ in 0..3 {
        let k = rng.random_range(0..plane);
        if map[k] == 0 {
            img[k] = rng.random_range(0.6..1.0);
        }
    }
    (img, map, bars)
}

fn dataset(n: usize, seed: u64) -> Result<InMemory<f32>, descent_data::Error> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = DMatrix::<f32>::zeros(n, SIDE * SIDE);
    let mut maps = Vec::with_capacity(n * SIDE * SIDE);
    for s in 0..n {
        let (img, map, _) = scene(&mut rng);
        for (k, v) in img.iter().enumerate() {
            x[(s, k)] = *v;
        }
        maps.extend(map);
    }
    InMemory::segmentation(x, ImageShape::new(1, SIDE, SIDE), maps, 3, Some(IGNORE))
}

fn show(map: &[u32]) {
    for row in map.chunks(SIDE) {
        let line: String = row
            .iter()
            .map(|&c| match c {
                0 => '.',
                1 => '=',
                2 => '|',
                _ => ' ',
            })
            .collect();
        println!("    {line}");
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (train, val) = (dataset(256, 1)?, dataset(64, 2)?);
    let mut state = ModelState::new();
    let mut model = Sequential::new();
    let mut rng = seed::rng(3, seed::Purpose::Init);
    let mut b = Builder::new(&mut state, &mut rng);
    let conv = |i, o, k: usize| Conv2dConfig::new(i, o, k, k).padding(k / 2, k / 2);
    model.add(&mut b, |b| Conv2d::new(b, conv(1, 12, 3)))?;
    model.push(Relu);
    model.add(&mut b, |b| Conv2d::new(b, conv(12, 12, 3)))?;
    model.push(Relu);
    model.add(&mut b, |b| Conv2d::new(b, conv(12, 3, 1)))?;
    let pipeline = || -> Result<Compose, descent_augment::Error> {
        Ok(Compose::new(vec![
            Box::new(RandomCrop::new(2, PadMode::Constant(0.0))?),
            Box::new(HorizontalFlip::new(0.5)?),
            Box::new(VerticalFlip::new(0.5)?),
        ]))
    };
    let opt = AdamWConfig {
        lr: 1e-2,
        ..AdamWConfig::default()
    }
    .build(&state.params)?;
    let config = TrainConfig {
        epochs: 12,
        batch_size: 16,
        seed: 3,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(
        model,
        state,
        opt,
        Loss::pixel_cross_entropy(Some(IGNORE)),
        config,
    )?
    .with_augmentation(Augmentation::new(pipeline()?).mask_fill(IGNORE));
    let history = trainer.fit(Data::train(&train).with_validation(&val))?;
    println!("epoch  train loss  val pixel acc  val mIoU");
    for e in &history.epochs {
        let v = e.validation.as_ref().ok_or("no validation")?;
        println!(
            "{:>5}  {:>10.4}  {:>13.4}  {:>8.4}",
            e.epoch,
            e.train.loss,
            v.accuracy.unwrap_or(f64::NAN),
            v.mean_iou.unwrap_or(f64::NAN)
        );
    }

    // One sample, its mask and its bars' boxes, through one draw.
    let (img, map, bars) = scene(&mut ChaCha8Rng::seed_from_u64(42));
    let dims = ImageShape::new(1, SIDE, SIDE);
    let coords = bars
        .iter()
        .map(|&(t, l, h, w, _)| [l as f64, t as f64, w as f64, h as f64])
        .collect();
    let labels = bars.iter().map(|b| b.4).collect();
    let mut sample = Sample::new(Image::new(dims, img)?)
        .with_mask(
            Mask::new(SIDE, SIDE, map.iter().map(|&c| c as u32).collect())?
                .with_fill(IGNORE as u32),
        )?
        .with_boxes(Boxes::new(BoxFormat::Xywh, [SIDE, SIDE], coords)?.with_labels(labels)?)?;
    println!("\nmask before ('=' horizontal, '|' vertical):");
    show(sample.mask().ok_or("mask")?.data());
    sample.augment(&pipeline()?, SampleKey::new(0, 0, 7), &mut Vec::new())?;
    sample.sanitize(&SanitizeConfig::default())?;
    println!("after the pipeline's draw for sample 7 (blank: padded, ignored):");
    show(sample.mask().ok_or("mask")?.data());
    let boxes = sample.boxes().ok_or("boxes")?;
    for (b, l) in boxes.coords().iter().zip(boxes.labels().unwrap_or(&[])) {
        println!("    class {l}: box [x, y, w, h] = {b:?}");
    }
    Ok(())
}
