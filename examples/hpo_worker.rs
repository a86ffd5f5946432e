//! One worker of a hyperparameter search shared through a database: it tunes
//! an MLP on the UCI digits (learning rate, batch size, Adam's betas, weight
//! decay) in the study named on the command line. Start it N times, on one
//! machine (SQLite) or many (PostgreSQL): every worker claims its own trials
//! from the database and its sampler and pruner see every trial the others
//! finished. Python Optuna workers and Optuna's dashboard can join, since the
//! database has Optuna's own schema.
//!
//! ```sh
//! cargo run --release --example hpo_worker -- sqlite:///digits.db --trials 20 &
//! cargo run --release --example hpo_worker -- sqlite:///digits.db --trials 20
//! # across hosts: postgresql://user@dbhost/descent
//! ```

use anyhow::{Context, Result, bail};
use descent::autodiff::{CrossEntropyConfig, Tape};
use descent::data::{Batch, DataLoader, InMemory, LoaderConfig, SplitConfig, Splits, digits};
use descent::hpo::{
    Direction, MedianConfig, MedianPruner, Study, StudyConfig, TpeConfig, TpeSampler, Trial,
};
use descent::nn::*;
use descent::optim::{AdamWConfig, WeightDecay};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

const EPOCHS: u64 = 8;
const HIDDEN: usize = 64;

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

/// Trains one configuration; the validation accuracy after each epoch is
/// reported, and the run stops when the pruner says so.
fn objective(trial: &mut Trial<'_>, train: &InMemory<f32>, val: &InMemory<f32>) -> Result<f64> {
    let lr = trial.suggest_float_log("lr", 1e-4, 1e-1)?;
    let batch_size: i64 = trial.suggest_categorical("batch_size", &[16i64, 32, 64, 128])?;
    let beta1 = trial.suggest_float("beta1", 0.8, 0.99)?;
    let beta2 = trial.suggest_float("beta2", 0.9, 0.9999)?;
    let weight_decay = trial.suggest_float_log("weight_decay", 1e-6, 1e-1)?;

    let mut rng = ChaCha8Rng::seed_from_u64(trial.number());
    let mut state = ModelState::<f32>::new();
    let mut model = Sequential::new();
    {
        let mut b = Builder::new(&mut state, &mut rng);
        model
            .add(&mut b, |b| Linear::new(b, LinearConfig::new(64, HIDDEN)))?
            .push(Relu)
            .add(&mut b, |b| Linear::new(b, LinearConfig::new(HIDDEN, 10)))?;
    }
    let mut opt = AdamWConfig {
        lr,
        betas: (beta1, beta2),
        weight_decay: WeightDecay::Decoupled(weight_decay),
        ..AdamWConfig::default()
    }
    .build(&state.params)?;
    let mut loader = DataLoader::new(
        train,
        LoaderConfig {
            batch_size: batch_size as usize,
            shuffle: true,
            drop_last: false,
            seed: trial.number(),
        },
    )?;
    let (mut tape, mut batch) = (Tape::new(), Batch::new());
    let ce = CrossEntropyConfig::default();
    let mut acc = 0.0;
    for epoch in 0..EPOCHS {
        loader.set_epoch(epoch);
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
        }
        acc = accuracy(&model, &mut state, val);
        trial.report(epoch, acc);
        if trial.should_prune() {
            break;
        }
    }
    Ok(acc)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut url = "sqlite:///hpo_worker.db".to_owned();
    let (mut study_name, mut n_trials) = ("digits-mlp".to_owned(), 20usize);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--study" => study_name = it.next().context("a name after --study")?.clone(),
            "--trials" => n_trials = it.next().context("a count after --trials")?.parse()?,
            s if !s.starts_with("--") => url = s.to_owned(),
            other => bail!(
                "unknown argument {other}; usage: hpo_worker [URL] [--study NAME] [--trials N]"
            ),
        }
    }

    let all = digits::<f32>()?.scaled(1.0 / 16.0);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let split = SplitConfig {
        validation: 0.2,
        test: 0.0,
        stratify: true,
    };
    let splits = Splits::new(&all, &split, &mut rng)?;
    let (train, val) = (all.select(&splits.train)?, all.select(&splits.validation)?);

    let config = StudyConfig {
        direction: Direction::Maximize,
        seed: std::process::id() as u64,
        progress_bar: true,
        ..Default::default()
    };
    let study = Study::load_or_create(&url, &study_name, config)?
        .with_sampler(TpeSampler::new(TpeConfig::default())?)
        .with_pruner(MedianPruner::new(MedianConfig::default())?);
    println!(
        "worker {} on study `{study_name}` at {url}: {} trials recorded so far; running {n_trials} more",
        std::process::id(),
        study.trials().len()
    );
    study.optimize(
        |trial| objective(trial, &train, &val).map_err(|e| e.to_string()),
        n_trials,
        1,
    )?;
    study.refresh()?; // the other workers' latest trials too
    println!("{}", study.results_table());
    let best = study.best_trial()?;
    println!(
        "best trial {}: validation accuracy {:.4} with {}",
        best.number,
        best.value.unwrap_or(f64::NAN),
        best.params
    );
    Ok(())
}
