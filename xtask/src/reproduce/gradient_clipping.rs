//! Gradient clipping rescues a network whose gradients explode.
//!
//! A deep ReLU MLP (12 hidden layers) is initialized with Kaiming-normal
//! weights times a gain of 2, so every layer doubles the signal forward and
//! the gradient backward: the logits are ~4,000 times too large and the
//! global gradient norm is in the thousands. Trained by full-batch SGD through
//! `descent-train`'s `Trainer`, twice from the same initialization: without
//! clipping, the first steps are thousands of times too long and the loss
//! becomes NaN (the trainer stops with its typed non-finite error) or blows
//! up; with `Clip::Norm` (global L2 norm, PyTorch's `clip_grad_norm_`) the
//! same learning rate trains. One optimizer step per epoch, so the history's
//! per-epoch gradient norm (measured before clipping) is the norm of each step.

use super::lab::{self, Cmp, Ctx, Experiment, Group, Outcome, Table, rng};
use super::plot::{Figure, Lines, Series};
use anyhow::{Context, Result};
use descent_core::Tags;
use descent_data::{Dataset, InMemory};
use descent_nn::{
    Builder, FanMode, Init, Linear, LinearConfig, ModelState, Nonlinearity, Relu, Sequential,
};
use descent_optim::SgdConfig;
use descent_optim::transform::NormType;
use descent_train::{Clip, Data, Error as TrainError, Loss, Progress, TrainConfig, Trainer};

pub const EXPERIMENT: Experiment = Experiment {
    name: "gradient-clipping",
    group: Group::Optimization,
    claim: "on a deep MLP whose gradients explode, SGD without clipping fails (the loss becomes NaN \
            or ends above its start) while the same SGD with global-norm clipping reaches a finite \
            loss below its starting value",
    source: "Pascanu, Mikolov & Bengio 2013, \"On the difficulty of training recurrent neural \
             networks\" (gradient norm clipping); PyTorch's clip_grad_norm_",
    run,
};

/// The unclipped run counts as failed (1) when its loss became non-finite
/// or ended at or above its first value; the claim needs this to be 1.
const UNCLIPPED_FAILS: f64 = 1.0;
/// The clipped run's final training loss over its first must be below this
/// (and finite: NaN never passes).
const CLIPPED_LOSS_RATIO: f64 = 1.0;

/// Hidden layers of the MLP, all `WIDTH` wide.
const DEPTH: usize = 12;
const WIDTH: usize = 64;
/// Kaiming-normal init times this: each layer multiplies the signal by it.
const GAIN: f64 = 2.0;
/// SGD's learning rate, shared by both runs.
const LR: f64 = 0.05;
/// The clipping threshold (global L2 norm).
const MAX_NORM: f64 = 1.0;

/// One run's per-step losses and gradient norms, and how it ended.
struct RunResult {
    losses: Vec<f64>,
    norms: Vec<f64>,
    /// The trainer's non-finite error, when it stopped the run.
    diverged: Option<String>,
    test_accuracy: Option<f64>,
}

impl RunResult {
    fn failed(&self) -> bool {
        let (first, last) = (
            self.losses.first().copied().unwrap_or(f64::NAN),
            self.losses.last().copied().unwrap_or(f64::NAN),
        );
        self.diverged.is_some() || !last.is_finite() || last >= first
    }
}

/// The deep MLP with its exploding initialization.
fn model(seed: u64, n_in: usize) -> Result<(Sequential<f32>, ModelState<f32>)> {
    let mut state = ModelState::<f32>::new();
    let mut model = Sequential::new();
    {
        let mut init = rng(seed, "init");
        let mut b = Builder::new(&mut state, &mut init);
        let mut fan_in = n_in;
        for _ in 0..DEPTH {
            model
                .add(&mut b, |b| Linear::new(b, LinearConfig::new(fan_in, WIDTH)))?
                .push(Relu);
            fan_in = WIDTH;
        }
        model.add(&mut b, |b| Linear::new(b, LinearConfig::new(WIDTH, 10)))?;
    }
    let mut init = rng(seed, "exploding-init");
    let weights: Vec<_> = state
        .params
        .params()
        .iter()
        .filter(|(_, meta, _)| meta.tags.contains(Tags::WEIGHT))
        .map(|(id, _, v)| (id, v.nrows(), v.ncols()))
        .collect();
    for (id, rows, cols) in weights {
        let w = Init::KaimingNormal {
            mode: FanMode::FanIn,
            nonlinearity: Nonlinearity::Relu,
        }
        .sample::<f32>(&[rows, cols], &mut init)?
            * GAIN as f32;
        state.params.params_mut().set_value(id, w)?;
    }
    Ok((model, state))
}

fn train(
    ctx: &Ctx,
    train: &InMemory<f32>,
    test: &InMemory<f32>,
    steps: u64,
    clip: Option<Clip>,
) -> Result<RunResult> {
    let (model, state) = model(ctx.seed, train.schema().n_features)?;
    let opt = SgdConfig {
        lr: LR,
        ..SgdConfig::default()
    }
    .build(&state.params)?;
    let config = TrainConfig {
        epochs: steps,
        batch_size: train.len(),
        shuffle: false,
        seed: ctx.seed,
        top_k: 0,
        clip,
        progress: Progress::Quiet,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(model, state, opt, Loss::cross_entropy(), config)?;
    let diverged = match trainer.fit(Data::train(train)) {
        Ok(_) => None,
        Err(e @ (TrainError::NonFiniteLoss { .. } | TrainError::NonFiniteGrad { .. })) => {
            Some(e.to_string())
        }
        Err(e) => return Err(e).context("training the deep MLP"),
    };
    let history = trainer.history();
    let losses: Vec<f64> = history.epochs.iter().map(|e| e.train.loss).collect();
    let norms: Vec<f64> = history.epochs.iter().map(|e| e.grad_norm).collect();
    let test_accuracy = if diverged.is_none() {
        trainer.evaluate(test)?.accuracy
    } else {
        None
    };
    Ok(RunResult {
        losses,
        norms,
        diverged,
        test_accuracy,
    })
}

fn run(ctx: &Ctx) -> Result<Outcome> {
    // The embedded 8 × 8 digits keep a 12-layer MLP cheap (64 inputs).
    let images = lab::digits_split(ctx, 512, 400)?;
    let steps = ctx.pick(150u64, 40);
    ctx.steps(2);
    ctx.stage(format!("{steps} full-batch SGD steps without clipping"));
    let plain = train(ctx, &images.train, &images.test, steps, None)?;
    ctx.tick();
    ctx.stage(format!(
        "{steps} full-batch SGD steps, clipped at norm {MAX_NORM}"
    ));
    let clipped = train(
        ctx,
        &images.train,
        &images.test,
        steps,
        Some(Clip::Norm {
            max_norm: MAX_NORM,
            norm_type: NormType::L2,
        }),
    )?;
    ctx.tick();

    let first = |r: &RunResult| r.losses.first().copied().unwrap_or(f64::NAN);
    let last = |r: &RunResult| r.losses.last().copied().unwrap_or(f64::NAN);
    let clipped_ratio = last(&clipped) / first(&clipped);
    let plain_failed = plain.failed();

    let mut out = Outcome {
        setup: format!(
            "MLP 64 → {DEPTH} × ({WIDTH}, ReLU) → 10, every weight drawn Kaiming-normal (fan-in, ReLU gain) and \
             multiplied by {GAIN}, so each layer doubles activations forward and gradients backward; biases as \
             PyTorch. Mean cross-entropy, full-batch SGD (no momentum) with lr {LR} for {steps} steps, f32, \
             trained by descent-train's `Trainer`, twice from the same initialization: without clipping, and \
             with `Clip::Norm {{ max_norm: {MAX_NORM}, L2 }}` (global-norm clipping before each step). A run \
             fails when the trainer stops it with a non-finite loss or gradient, or when its loss ends at or \
             above its first value."
        ),
        data: format!("{} (chosen for speed: 64 inputs)", images.source),
        ..Outcome::default()
    };
    out.claim(
        "unclipped_fails",
        "unclipped run failed (1 = loss became non-finite or ended at or above its start, 0 = it trained)",
        if plain_failed { 1.0 } else { 0.0 },
        Cmp::AtLeast,
        UNCLIPPED_FAILS,
    )
    .claim(
        "clipped_trains",
        "clipped run: final training loss / first (NaN if it diverged)",
        if clipped.diverged.is_some() {
            f64::NAN
        } else {
            clipped_ratio
        },
        Cmp::Below,
        CLIPPED_LOSS_RATIO,
    );
    out.metric("clipped final loss / first", clipped_ratio);
    out.metric("unclipped steps before failure", plain.losses.len() as f64);
    out.metric(
        "first gradient norm",
        clipped.norms.first().copied().unwrap_or(f64::NAN),
    );

    let mut table = Table::new(
        "Both runs",
        &[
            "run",
            "steps done",
            "first loss",
            "final loss",
            "max gradient norm",
            "test accuracy",
            "ended",
        ],
    );
    for (name, r) in [("no clipping", &plain), ("clip at 1", &clipped)] {
        let max_norm = r.norms.iter().copied().fold(f64::NAN, f64::max);
        table.row(vec![
            name.into(),
            r.losses.len().to_string(),
            format!("{:.4}", first(r)),
            format!("{:.4}", last(r)),
            format!("{max_norm:.3e}"),
            r.test_accuracy
                .map(|a| format!("{:.1}%", 100.0 * a))
                .unwrap_or_else(|| "—".into()),
            r.diverged.clone().unwrap_or_else(|| "all steps".into()),
        ]);
    }
    out.tables.push(table);

    let mut trace = Table::new(
        "Per step (every tenth)",
        &[
            "step",
            "loss, no clipping",
            "grad norm, no clipping",
            "loss, clipped",
            "grad norm, clipped",
        ],
    );
    let cell = |v: &[f64], k: usize, f: &dyn Fn(f64) -> String| {
        v.get(k).map(|&x| f(x)).unwrap_or_else(|| "—".into())
    };
    let n = plain.losses.len().max(clipped.losses.len());
    for k in (0..n).step_by(10).chain([n.saturating_sub(1)]) {
        trace.row(vec![
            k.to_string(),
            cell(&plain.losses, k, &|x| format!("{x:.4}")),
            cell(&plain.norms, k, &|x| format!("{x:.3e}")),
            cell(&clipped.losses, k, &|x| format!("{x:.4}")),
            cell(&clipped.norms, k, &|x| format!("{x:.3e}")),
        ]);
    }
    out.tables.push(trace);

    let mut norm_panel = Lines::new(
        "gradient norm per step (before clipping)",
        "step",
        "global L2 norm of the gradient",
    )
    .log_y()
    .series(Series::indexed("no clipping", &plain.norms))
    .series(Series::indexed("clipped at 1", &clipped.norms))
    .hline(MAX_NORM, "clipping threshold");
    let mut loss_panel = Lines::new("training loss", "step", "mean cross-entropy")
        .log_y()
        .series(Series::indexed("no clipping", &plain.losses))
        .series(Series::indexed("clipped at 1", &clipped.losses));
    if plain.diverged.is_some() {
        let at = plain.losses.len() as f64;
        norm_panel = norm_panel.vline(at, "unclipped run: NaN");
        loss_panel = loss_panel.vline(at, "unclipped run: NaN");
    }
    out.figures.push(
        Figure::new(
            "gradient_clipping",
            "Without clipping the exploding gradients wreck SGD; clipped at norm 1 it trains",
        )
        .panel(norm_panel)
        .panel(loss_panel),
    );
    out.notes = format!(
        "Unclipped run: {}. The gradient norm is measured before clipping, so the clipped run's curve \
         shows what clipping cut down to the threshold line.",
        plain
            .diverged
            .clone()
            .unwrap_or_else(|| format!("completed {} steps", plain.losses.len()))
    );
    out.record("unclipped_loss", &plain.losses)?;
    out.record("unclipped_grad_norm", &plain.norms)?;
    out.record("unclipped_error", &plain.diverged)?;
    out.record("clipped_loss", &clipped.losses)?;
    out.record("clipped_grad_norm", &clipped.norms)?;
    out.record("clipped_test_accuracy", clipped.test_accuracy)?;
    Ok(out)
}
