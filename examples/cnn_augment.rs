//! A small CNN learns the generated coloured shapes (4 classes, 3 × 32 × 32)
//! through random crop + flip + colour jitter, with early stopping on the
//! validation accuracy (best weights restored) and checkpoints (the newest
//! 2 and the best) under `target/examples/cnn_augment`. Prints the test
//! accuracy.
//!
//! ```sh
//! cargo run --release --example cnn_augment
//! ```

use anyhow::{Context, Result};
use descent::augment::image::{
    ColorJitter, ColorJitterConfig, Compose, HorizontalFlip, PadMode, RandomCrop,
};
use descent::data::{Dataset, ShapesConfig, SplitConfig, Splits, make_shapes};
use descent::nn::{
    Builder, Conv2d, Conv2dConfig, Flatten, Linear, LinearConfig, MaxPool2d, MaxPool2dConfig,
    ModelState, Relu, Sequential,
};
use descent::optim::AdamConfig;
use descent::regularize::EarlyStoppingConfig;
use descent::train::{
    Augmentation, CheckpointConfig, Data, Loss, Monitor, TrainConfig, Trainer, seed,
};

fn conv(b: &mut Builder<'_, f32>, c_in: usize, c_out: usize) -> descent::nn::Result<Conv2d> {
    let mut cfg = Conv2dConfig::new(c_in, c_out, 3, 3);
    cfg.geometry.padding = (1, 1);
    Conv2d::new(b, cfg)
}

fn main() -> Result<()> {
    let config = TrainConfig {
        epochs: 30,
        batch_size: 64,
        seed: 0,
        top_k: 2,
        ..TrainConfig::default()
    };
    let mut rng = seed::rng(config.seed, seed::Purpose::Split);
    let data = make_shapes::<f32>(
        &ShapesConfig {
            n_samples: 3000,
            size: 32,
        },
        &mut rng,
    )?;
    let splits = Splits::new(
        &data,
        &SplitConfig {
            validation: 0.15,
            test: 0.15,
            stratify: true,
        },
        &mut rng,
    )?;
    let (train, val, test) = (
        data.select(&splits.train)?,
        data.select(&splits.validation)?,
        data.select(&splits.test)?,
    );

    let mut state = ModelState::<f32>::new();
    let mut model = Sequential::new();
    {
        let mut rng = seed::rng(config.seed, seed::Purpose::Init);
        let mut b = Builder::new(&mut state, &mut rng);
        let pool = || MaxPool2d::new(MaxPool2dConfig::new(2, 2));
        model
            .add(&mut b, |b| conv(b, 3, 16))?
            .push(Relu)
            .push(pool()?)
            .add(&mut b, |b| conv(b, 16, 32))?
            .push(Relu)
            .push(pool()?)
            .push(Flatten)
            .add(&mut b, |b| {
                Linear::new(b, LinearConfig::new(32 * 8 * 8, 64))
            })?
            .push(Relu)
            .add(&mut b, |b| Linear::new(b, LinearConfig::new(64, 4)))?;
    }
    println!(
        "coloured shapes: {} train, {} validation, {} test images of 3×32×32; CNN with {} parameters",
        train.len(),
        val.len(),
        test.len(),
        state.params.numel()
    );
    let augment = Augmentation::new(Compose::new(vec![
        Box::new(RandomCrop::new(4, PadMode::Constant(0.0))?),
        Box::new(HorizontalFlip::new(0.5)?),
        Box::new(ColorJitter::new(ColorJitterConfig {
            brightness: 0.3,
            contrast: 0.3,
            ..ColorJitterConfig::default()
        })?),
    ]));
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/examples/cnn_augment");
    let opt = AdamConfig {
        lr: 2e-3,
        ..AdamConfig::default()
    }
    .build(&state.params)?;
    let mut trainer = Trainer::new(model, state, opt, Loss::cross_entropy(), config)?
        .with_augmentation(augment)
        .with_early_stopping(
            Monitor::new("val_accuracy"),
            EarlyStoppingConfig {
                patience: 4,
                restore_best: true,
                ..EarlyStoppingConfig::default()
            },
        )?
        .with_checkpoints(CheckpointConfig {
            keep_last: 2,
            keep_best: Some(Monitor::new("val_accuracy")),
            ..CheckpointConfig::new(&dir)
        })?;
    let history = trainer.fit(Data::train(&train).with_validation(&val))?;
    println!("\n{}", history.summary_table());
    let test_metrics = trainer.evaluate(&test)?;
    let acc = test_metrics.accuracy.context("a classification set")?;
    println!("checkpoints in {}", dir.display());
    println!("test accuracy {:.2}% (best epoch's weights)", 100.0 * acc);
    Ok(())
}
