//! Trains an MLP with batch norm and dropout on the UCI digits (8×8 images,
//! 10 classes, embedded in descent-data) with mini-batch SGD and prints
//! train and test accuracy.
//!
//! ```sh
//! cargo run --release --example digits_mlp
//! ```

use anyhow::{Context, Result};
use descent::data::{Dataset, SplitConfig, Splits, digits};
use descent::nn::{
    BatchNorm1d, BatchNormConfig, Builder, Dropout, Linear, LinearConfig, ModelState, Relu,
    Sequential,
};
use descent::optim::SgdConfig;
use descent::train::{Data, Loss, Progress, TrainConfig, Trainer, seed};
use std::time::Instant;

const HIDDEN: usize = 128;

fn main() -> Result<()> {
    let config = TrainConfig {
        epochs: 30,
        batch_size: 64,
        // batch norm needs more than one sample per batch
        drop_last: true,
        seed: 0,
        progress: Progress::Quiet,
        ..TrainConfig::default()
    };
    let all = digits::<f32>()?.scaled(1.0 / 16.0);
    let mut rng = seed::rng(config.seed, seed::Purpose::Split);
    let split = SplitConfig {
        validation: 0.0,
        test: 0.2,
        stratify: true,
    };
    let splits = Splits::new(&all, &split, &mut rng)?;
    let (train, test) = (all.select(&splits.train)?, all.select(&splits.test)?);

    let mut state = ModelState::<f32>::new();
    let mut model = Sequential::new();
    {
        let mut rng = seed::rng(config.seed, seed::Purpose::Init);
        let mut b = Builder::new(&mut state, &mut rng);
        model
            .add(&mut b, |b| Linear::new(b, LinearConfig::new(64, HIDDEN)))?
            .add(&mut b, |b| {
                BatchNorm1d::new(b, BatchNormConfig::new(HIDDEN))
            })?
            .push(Relu)
            .push(Dropout::new(0.2)?)
            .add(&mut b, |b| Linear::new(b, LinearConfig::new(HIDDEN, 10)))?;
    }
    println!(
        "digits: {} train, {} test (stratified); MLP 64-{HIDDEN}-10 with BatchNorm1d and Dropout(0.2), {} parameters",
        train.len(),
        test.len(),
        state.params.numel()
    );
    let opt = SgdConfig {
        lr: 0.1,
        ..SgdConfig::default()
    }
    .build(&state.params)?;
    let epochs = config.epochs;
    let mut trainer = Trainer::new(model, state, opt, Loss::cross_entropy(), config)?;
    let start = Instant::now();
    let history = trainer.fit(Data::train(&train))?;
    let elapsed = start.elapsed();
    for e in history
        .epochs
        .iter()
        .filter(|e| e.epoch == 0 || e.epoch % 10 == 9)
    {
        println!("epoch {:>3}: train loss {:.4}", e.epoch + 1, e.train.loss);
    }
    let train_acc = trainer.evaluate(&train)?.accuracy.context("labels")?;
    let test_acc = trainer.evaluate(&test)?.accuracy.context("labels")?;
    println!(
        "train accuracy {:.2}%, test accuracy {:.2}%",
        100.0 * train_acc,
        100.0 * test_acc
    );
    println!("trained {epochs} epochs in {:.2} s", elapsed.as_secs_f64());
    Ok(())
}
