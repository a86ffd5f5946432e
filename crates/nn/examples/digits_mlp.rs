//! Trains an MLP with batch norm and dropout on the UCI digits (8×8 images,
//! 10 classes, embedded in descent-data) with mini-batch SGD and prints train
//! and test accuracy.
//!
//! ```sh
//! cargo run --release -p descent-nn --example digits_mlp
//! ```

use anyhow::{Context, Result};
use descent_autodiff::{CrossEntropyConfig, Tape};
use descent_data::{
    Batch, DataLoader, Dataset, InMemory, LoaderConfig, SplitConfig, Splits, digits,
};
use descent_nn::*;
use descent_optim::{Sgd, SgdConfig};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use std::time::Instant;

const SEED: u64 = 0;
const EPOCHS: u64 = 30;
const BATCH: usize = 64;
const LR: f64 = 0.1;
const HIDDEN: usize = 128;

/// Accuracy of the model (in eval mode) on a whole dataset.
fn accuracy(model: &Sequential<f32>, state: &mut ModelState<f32>, data: &InMemory<f32>) -> f64 {
    let tape = Tape::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut ctx = Ctx::new(&tape, state, Mode::Eval, &mut rng);
    let logits = model
        .forward(&mut ctx, tape.constant(data.features()))
        .value();
    let labels = data.class_labels().expect("digits are labelled");
    let correct = (0..logits.nrows())
        .filter(|&i| logits.row(i).transpose().argmax().0 == labels[i])
        .count();
    correct as f64 / labels.len() as f64
}

fn main() -> Result<()> {
    let all = digits::<f32>()?.scaled(1.0 / 16.0);
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let splits = Splits::new(
        &all,
        &SplitConfig {
            validation: 0.0,
            test: 0.2,
            stratify: true,
        },
        &mut rng,
    )?;
    let (train, test) = (all.select(&splits.train)?, all.select(&splits.test)?);

    let mut state = ModelState::<f32>::new();
    let mut model = Sequential::new();
    {
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

    let mut opt = Sgd::new(
        &state.params,
        SgdConfig {
            lr: LR,
            ..SgdConfig::default()
        },
    )?;
    // drop_last: batch norm needs more than one sample per batch
    let mut loader = DataLoader::new(
        &train,
        LoaderConfig {
            batch_size: BATCH,
            shuffle: true,
            drop_last: true,
            seed: SEED,
        },
    )?;
    let (mut tape, mut batch) = (Tape::new(), Batch::new());
    let ce = CrossEntropyConfig::default();
    let start = Instant::now();
    for epoch in 0..EPOCHS {
        loader.set_epoch(epoch);
        let (mut total, mut seen) = (0.0, 0);
        while loader.next_into(&mut batch) {
            tape.reset();
            state.params.zero_grad();
            let loss = {
                let mut ctx = Ctx::new(&tape, &mut state, Mode::Train, &mut rng);
                model
                    .forward(&mut ctx, tape.constant(&batch.features))
                    .cross_entropy(&batch.labels, &ce)
            };
            tape.backward(loss, &mut state.params);
            opt.step(&mut state.params).context("optimizer step")?;
            total += f64::from(loss.item()) * batch.len() as f64;
            seen += batch.len();
        }
        if epoch % 10 == 9 || epoch == 0 {
            println!(
                "epoch {:>3}: train loss {:.4}",
                epoch + 1,
                total / seen as f64
            );
        }
    }
    let elapsed = start.elapsed();
    let (train_acc, test_acc) = (
        accuracy(&model, &mut state, &train),
        accuracy(&model, &mut state, &test),
    );
    println!(
        "train accuracy {:.2}%, test accuracy {:.2}%",
        100.0 * train_acc,
        100.0 * test_acc
    );
    println!("trained {EPOCHS} epochs in {:.2} s", elapsed.as_secs_f64());
    Ok(())
}
