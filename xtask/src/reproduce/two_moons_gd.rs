//! Full-batch gradient descent trains a small MLP on two moons.
//!
//! The first demonstration of the stack end to end: the tape computes the
//! gradient of the mean cross-entropy over the whole training set, and
//! `Sgd` (no momentum) fed that full batch takes the plain gradient step
//! `θ ← θ − lr·∇L`.

use super::lab::{Cmp, Ctx, Experiment, Group, Outcome, Table, rng};
use super::plot::{Figure, Lines, Series};
use anyhow::{Context, Result};
use descent_data::{Dataset, InMemory, MoonsConfig, make_moons};
use descent_nn::{Builder, Linear, LinearConfig, ModelState, Sequential, Tanh};
use descent_optim::{Sgd, SgdConfig};
use descent_train::{Data, Loss, Progress, TrainConfig, Trainer};

pub const EXPERIMENT: Experiment = Experiment {
    name: "two_moons_gd",
    group: Group::Optimization,
    claim: "full-batch gradient descent on a 2-32-32-2 tanh MLP drives the two-moons training loss \
            below a quarter of its starting value and classifies held-out points with over 95% accuracy",
    source: "the course's first demonstration (gradient descent on a toy classification problem)",
    run,
};

/// Final loss over first loss must stay below this.
const LOSS_RATIO: f64 = 0.25;
/// Held-out accuracy must exceed this.
const ACCURACY: f64 = 0.95;

/// `n` two-moons points with noise 0.1.
fn moons(n: usize, rng: &mut rand_chacha::ChaCha8Rng) -> Result<InMemory<f64>> {
    Ok(make_moons::<f64>(
        &MoonsConfig {
            n_samples: n,
            noise: 0.1,
            shuffle: true,
        },
        rng,
    )?)
}

fn run(ctx: &Ctx) -> Result<Outcome> {
    let mut data_rng = rng(ctx.seed, "moons");
    let train = moons(400, &mut data_rng)?;
    let test = moons(400, &mut data_rng)?;
    // PyTorch's default init: U(±1/√fan_in) for weights and biases.
    let mut state = ModelState::<f64>::new();
    let mut model = Sequential::new();
    {
        let mut init = rng(ctx.seed, "init");
        let mut b = Builder::new(&mut state, &mut init);
        model
            .add(&mut b, |b| Linear::new(b, LinearConfig::new(2, 32)))?
            .push(Tanh)
            .add(&mut b, |b| Linear::new(b, LinearConfig::new(32, 32)))?
            .push(Tanh)
            .add(&mut b, |b| Linear::new(b, LinearConfig::new(32, 2)))?;
    }
    let (epochs, lr) = (ctx.pick(3000u64, 600), 0.5);
    let opt = Sgd::new(
        &state.params,
        SgdConfig {
            lr,
            ..SgdConfig::default()
        },
    )?;
    // One batch of the whole training set: each epoch is one plain gradient step.
    let config = TrainConfig {
        epochs,
        batch_size: train.len(),
        shuffle: false,
        seed: ctx.seed,
        top_k: 0,
        progress: Progress::Quiet,
        ..TrainConfig::default()
    };
    ctx.stage(format!("{epochs} full-batch steps"));
    let mut trainer = Trainer::new(model, state, opt, Loss::cross_entropy(), config)?;
    let history = trainer.fit(Data::train(&train))?;
    let losses: Vec<f64> = history.epochs.iter().map(|e| e.train.loss).collect();
    let accuracy = trainer
        .evaluate(&test)?
        .accuracy
        .context("two moons are labelled")?;
    let (first, last) = (losses[0], *losses.last().context("at least one epoch")?);

    let mut out = Outcome {
        setup: format!(
            "400 training and 400 held-out points (noise 0.1), MLP 2-32-32-2 with tanh, PyTorch default init, \
             mean cross-entropy, full-batch gradient descent with lr {lr} for {epochs} epochs, f64, trained by \
             descent-train's `Trainer`."
        ),
        data: "two moons generated from the seed (descent-data's `make_moons`)".into(),
        ..Outcome::default()
    };
    out.claim(
        "loss_ratio",
        "final training loss / first",
        last / first,
        Cmp::Below,
        LOSS_RATIO,
    )
    .claim(
        "accuracy",
        "held-out accuracy",
        accuracy,
        Cmp::Above,
        ACCURACY,
    );
    let mut table = Table::new("Training loss", &["epoch", "training loss"]);
    let n = losses.len();
    for e in (0..n).step_by((n / 10).max(1)).chain([n - 1]) {
        table.row(vec![e.to_string(), format!("{:.5}", losses[e])]);
    }
    out.tables.push(table);
    out.figures.push(
        Figure::new("loss", "Full-batch GD drives the two-moons loss down").panel(
            Lines::new("training loss", "epoch (= step)", "mean cross-entropy")
                .log_y()
                .series(Series::indexed("GD, lr 0.5", &losses)),
        ),
    );
    out.record("train_loss", &losses)?;
    out.record("test_accuracy", accuracy)?;
    Ok(out)
}
