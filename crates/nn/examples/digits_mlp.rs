//! Trains an MLP with batch norm and dropout on the UCI digits (8×8 images,
//! 10 classes) with plain mini-batch SGD and prints train and test accuracy.
//!
//! Data: `$DESCENT_DATA/digits/digits.csv.gz` (default `../shared/datasets`
//! beside the workspace): rows of 64 pixel values 0..16, then the label.
//!
//! ```sh
//! cargo run --release -p descent-nn --example digits_mlp
//! ```

use anyhow::{Context, Result, bail};
use descent_autodiff::{CrossEntropyConfig, Tape};
use descent_nn::*;
use flate2::read::GzDecoder;
use nalgebra::DMatrix;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

const SEED: u64 = 0;
const EPOCHS: usize = 30;
const BATCH: usize = 64;
const LR: f32 = 0.1;
const HIDDEN: usize = 128;

fn data_path() -> PathBuf {
    let root = std::env::var_os("DESCENT_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
        });
    root.join("digits/digits.csv.gz")
}

/// Pixels scaled to [0, 1] (one row per image) and labels.
fn load() -> Result<(DMatrix<f32>, Vec<usize>)> {
    let path = data_path();
    let mut text = String::new();
    let file = std::fs::File::open(&path)
        .with_context(|| format!("{} (set DESCENT_DATA)", path.display()))?;
    GzDecoder::new(file).read_to_string(&mut text)?;
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for (line_no, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let values: Vec<f32> = line
            .split(',')
            .map(|v| v.trim().parse::<f32>())
            .collect::<Result<_, _>>()
            .with_context(|| format!("line {}", line_no + 1))?;
        if values.len() != 65 {
            bail!("line {}: {} values, expected 65", line_no + 1, values.len());
        }
        pixels.extend(values[..64].iter().map(|p| p / 16.0));
        labels.push(values[64] as usize);
    }
    Ok((DMatrix::from_row_slice(labels.len(), 64, &pixels), labels))
}

fn rows(x: &DMatrix<f32>, labels: &[usize], idx: &[usize]) -> (DMatrix<f32>, Vec<usize>) {
    let m = DMatrix::from_fn(idx.len(), x.ncols(), |i, j| x[(idx[i], j)]);
    (m, idx.iter().map(|&i| labels[i]).collect())
}

fn accuracy(
    model: &Sequential<f32>,
    state: &mut ModelState<f32>,
    x: &DMatrix<f32>,
    y: &[usize],
) -> f64 {
    let tape = Tape::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut ctx = Ctx::new(&tape, state, Mode::Eval, &mut rng);
    let logits = model.forward(&mut ctx, tape.constant(x)).value();
    let correct = (0..logits.nrows())
        .filter(|&i| logits.row(i).transpose().argmax().0 == y[i])
        .count();
    correct as f64 / y.len() as f64
}

fn main() -> Result<()> {
    let (x, labels) = load()?;
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut order: Vec<usize> = (0..labels.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    let n_test = labels.len() / 5;
    let (test_x, test_y) = rows(&x, &labels, &order[..n_test]);
    let (train_x, train_y) = rows(&x, &labels, &order[n_test..]);

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
        "digits: {} train, {} test; MLP 64-{HIDDEN}-10 with BatchNorm1d and Dropout(0.2), {} parameters",
        train_y.len(),
        test_y.len(),
        state.params.numel()
    );

    let start = Instant::now();
    let mut tape = Tape::new();
    let ce = CrossEntropyConfig::default();
    let mut batch_order: Vec<usize> = (0..train_y.len()).collect();
    for epoch in 1..=EPOCHS {
        for i in (1..batch_order.len()).rev() {
            batch_order.swap(i, rng.random_range(0..=i));
        }
        let mut total = 0.0;
        for chunk in batch_order.chunks(BATCH).filter(|c| c.len() > 1) {
            let (bx, by) = rows(&train_x, &train_y, chunk);
            tape.reset();
            state.params.zero_grad();
            let loss = {
                let mut ctx = Ctx::new(&tape, &mut state, Mode::Train, &mut rng);
                model
                    .forward(&mut ctx, tape.constant(&bx))
                    .cross_entropy(&by, &ce)
            };
            tape.backward(loss, &mut state.params);
            total += loss.item() as f64 * chunk.len() as f64;
            let (params, grads) = state.params.split_mut();
            for (id, g) in grads.iter() {
                params.value_mut(id).zip_apply(g, |p, g| *p -= LR * g);
            }
        }
        if epoch % 10 == 0 || epoch == 1 {
            println!(
                "epoch {epoch:>3}: train loss {:.4}",
                total / train_y.len() as f64
            );
        }
    }
    let elapsed = start.elapsed();
    let train_acc = accuracy(&model, &mut state, &train_x, &train_y);
    let test_acc = accuracy(&model, &mut state, &test_x, &test_y);
    println!(
        "train accuracy {:.2}%, test accuracy {:.2}%",
        100.0 * train_acc,
        100.0 * test_acc
    );
    println!("trained {EPOCHS} epochs in {:.2} s", elapsed.as_secs_f64());
    Ok(())
}
