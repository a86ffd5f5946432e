//! An MLP with batch norm and dropout, trained by AdamW under a warm-up +
//! cosine schedule, on MNIST from the data directory (`--data DIR`,
//! `$DESCENT_DATA`, `../shared/datasets`), falling back to the embedded UCI
//! digits when MNIST is not there. Prints the test accuracy.
//!
//! ```sh
//! cargo run --release --example mnist_mlp [-- --data DIR] [-- --epochs N]
//! ```

use anyhow::{Context, Result};
use descent::data::{Dataset, InMemory, Normalize, Normalized, Split, SplitConfig, Splits};
use descent::nn::{
    BatchNorm1d, BatchNormConfig, Builder, Dropout, Linear, LinearConfig, ModelState, Relu,
    Sequential,
};
use descent::optim::AdamWConfig;
use descent::schedule::WarmupCosine;
use descent::train::{Data, Loss, TrainConfig, Trainer, seed};
use std::path::PathBuf;

/// Train and test sets: MNIST (60,000 + 10,000 images of 28 × 28) if found,
/// otherwise the embedded digits (8 × 8) split 80/20.
fn load(dir: Option<&std::path::Path>) -> Result<(InMemory<f32>, InMemory<f32>, &'static str)> {
    match (
        descent::data::mnist::<f32>(Split::Train, dir),
        descent::data::mnist::<f32>(Split::Test, dir),
    ) {
        (Ok(train), Ok(test)) => Ok((train, test, "MNIST")),
        (Err(e), _) | (_, Err(e)) => {
            println!("MNIST not found ({e}); using the embedded UCI digits instead");
            let all = descent::data::digits::<f32>()?;
            let mut rng = seed::rng(0, seed::Purpose::Split);
            let config = SplitConfig {
                validation: 0.0,
                test: 0.2,
                stratify: true,
            };
            let splits = Splits::new(&all, &config, &mut rng)?;
            Ok((
                all.select(&splits.train)?,
                all.select(&splits.test)?,
                "UCI digits",
            ))
        }
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let dir = flag("--data").map(PathBuf::from);
    let epochs: u64 = flag("--epochs")
        .map(|e| e.parse())
        .transpose()
        .context("--epochs")?
        .unwrap_or(5);

    let (train, test, name) = load(dir.as_deref())?;
    // torchvision's Normalize with the training set's own mean and std
    let norm = Normalize::fit(&train)?;
    let (train, test) = (
        Normalized::new(&train, norm.clone())?,
        Normalized::new(&test, norm)?,
    );
    let n_in = train.schema().n_features;

    let config = TrainConfig {
        epochs,
        batch_size: 128,
        seed: 0,
        ..TrainConfig::default()
    };
    let mut state = ModelState::<f32>::new();
    let mut model = Sequential::new();
    {
        let mut rng = seed::rng(config.seed, seed::Purpose::Init);
        let mut b = Builder::new(&mut state, &mut rng);
        model
            .add(&mut b, |b| Linear::new(b, LinearConfig::new(n_in, 256)))?
            .add(&mut b, |b| BatchNorm1d::new(b, BatchNormConfig::new(256)))?
            .push(Relu)
            .push(Dropout::new(0.2)?)
            .add(&mut b, |b| Linear::new(b, LinearConfig::new(256, 128)))?
            .push(Relu)
            .add(&mut b, |b| Linear::new(b, LinearConfig::new(128, 10)))?;
    }
    println!(
        "{name}: {} train, {} test; MLP {n_in}-256-128-10 with BatchNorm1d and Dropout(0.2), {} parameters",
        train.len(),
        test.len(),
        state.params.numel()
    );
    let steps_per_epoch = train.len().div_ceil(config.batch_size) as u64;
    let total = epochs * steps_per_epoch;
    let mut opt = AdamWConfig {
        lr: 2e-3,
        weight_decay: descent::optim::WeightDecay::Decoupled(0.05),
        ..AdamWConfig::default()
    }
    .build(&state.params)?;
    // absolute rates: 2e-3 after a warm-up of one epoch (at most 10% of the run), cosine to 0
    opt.set_lr_schedule(WarmupCosine::new(
        2e-3,
        (total / 10).min(steps_per_epoch),
        total,
    )?);

    let mut trainer = Trainer::new(
        model,
        state,
        opt,
        Loss::CrossEntropy {
            label_smoothing: 0.1,
        },
        config,
    )?;
    let history = trainer.fit(Data::train(&train).with_test(&test))?;
    println!("\n{}", history.summary_table());
    let last = history.last().context("at least one epoch")?;
    let acc = last
        .test
        .as_ref()
        .and_then(|t| t.accuracy)
        .context("test accuracy")?;
    println!("test accuracy {:.2}% on {name}", 100.0 * acc);
    Ok(())
}
