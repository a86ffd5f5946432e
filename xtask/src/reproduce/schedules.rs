//! Learning-rate schedules at equal budget, and OPT's practice of rolling
//! back and cutting the rate when the loss spikes.
//!
//! (1) One MLP, SGD with momentum 0.9 from the same initialization, trained
//! through descent-train's `Trainer` for the same number of steps under
//! descent-schedule's constant, `StepLr`, `CosineAnnealingLr`,
//! `WarmupCosine` (linear warm-up + cosine) and
//! `CosineAnnealingWarmRestarts` (SGDR), each installed as the optimizer's
//! learning-rate source: loss and rate curves and final test accuracy.
//!
//! (2) OPT-175B's logbook (Zhang et al. 2022, the "empirical LR schedule"
//! figure): a run over a stream of batches (the training set repeated,
//! each copy shuffled from the seed) into which three bad batches are
//! injected (inputs scaled ×30, labels replaced by wrong ones), trained
//! once with descent-regularize's instability guard (`Trainer::with_guard`:
//! on a loss spike, roll back to the last snapshot, halve the rate, skip
//! the batch) and once without. Each rollback and rate cut is marked.

use super::lab::{self, Cmp, Ctx, Experiment, Group, ImageSet, Outcome, Table, rng};
use super::optim_common::{EvalGrid, Trace, fmt_loss, mlp, record, thin};
use super::plot::{Figure, Lines, Series, Style};
use anyhow::{Context, Result};
use descent_data::{Dataset, InMemory};
use descent_optim::SgdConfig;
use descent_regularize::GuardConfig;
use descent_schedule::{CosineAnnealingLr, CosineAnnealingWarmRestarts, StepLr, WarmupCosine};
use descent_train::{Loss, Progress, TrainConfig, Trainer};
use rand::RngExt;
use rand::seq::SliceRandom;
use serde_json::json;

pub const EXPERIMENT: Experiment = Experiment {
    name: "schedules",
    group: Group::Optimization,
    claim: "constant, step, cosine, warm-up + cosine and warm-restart schedules compared at equal \
            budget; with loss spikes from bad batches, the run guarded by rollback and rate cuts \
            ends with a finite training loss lower than the unguarded run's",
    source: "Loshchilov & Hutter 2017 (SGDR); Goyal et al. 2017 (warm-up); Zhang et al. 2022 \
             (OPT-175B logbook: rollbacks and learning-rate cuts on loss spikes)",
    run,
};

/// The guarded run's final training loss must be below this: finite, and
/// better than chance (ln 10 for ten classes).
const GUARDED_MAX_LOSS: f64 = std::f64::consts::LN_10;
/// Guarded final training loss over the unguarded run's (0 when the
/// unguarded run diverged) must be below this ("lower").
const GUARDED_RATIO: f64 = 1.0;

const HIDDEN: usize = 64;
const BASE_LR: f64 = 0.05;
const MOMENTUM: f64 = 0.9;
/// Inputs of an injected bad batch are multiplied by this.
const BAD_SCALE: f32 = 30.0;
/// Where the bad batches sit, as fractions of the stream.
const BAD_AT: [f64; 3] = [0.35, 0.6, 0.85];

fn sgd(state: &descent_nn::ModelState<f32>) -> Result<descent_optim::Optimizer<f32>> {
    Ok(SgdConfig {
        lr: BASE_LR,
        momentum: MOMENTUM,
        ..SgdConfig::default()
    }
    .build(&state.params)?)
}

fn run(ctx: &Ctx) -> Result<Outcome> {
    let (n_train, n_test) = ctx.pick((4096, 1000), (1024, 500));
    let images = lab::images(ctx, ImageSet::Mnist, n_train, n_test)?;
    let (train, test) = (&images.train, &images.test);
    let n_in = train.features().ncols();
    let batch = 64usize;
    let epochs = ctx.pick(10u64, 8);
    let per_epoch = train.len().div_ceil(batch) as u64;
    let total = epochs * per_epoch;
    let eval_every = (total / 60).max(1);
    ctx.steps(7);

    // (1) five schedules at equal budget
    // Three cycles of T₀, 2T₀, 4T₀ that end at (or just past) the budget, so
    // no restart falls in the last steps.
    let t0 = total.div_ceil(7).max(1);
    let names = [
        "constant".to_owned(),
        format!("step (×0.1 every {} steps)", (total / 3).max(1)),
        "cosine".to_owned(),
        format!("warm-up {} + cosine", (total / 10).max(1)),
        format!("warm restarts (T₀ {t0}, ×2)"),
    ];
    let mut loss_panel = Lines::new(
        "training loss",
        "optimizer step",
        "full training-set cross-entropy",
    )
    .log_y();
    let mut lr_panel = Lines::new("learning rate", "optimizer step", "learning rate");
    let mut table = Table::new(
        format!(
            "Five schedules, {total} steps each (SGD momentum {MOMENTUM}, peak rate {BASE_LR})"
        ),
        &["schedule", "final training loss", "test accuracy"],
    );
    let mut sched_numbers = Vec::new();
    for (k, name) in names.iter().enumerate() {
        ctx.stage(format!("schedule: {name}"));
        let (model, state) = mlp(ctx.seed, n_in, HIDDEN, 10)?;
        let mut opt = sgd(&state)?;
        match k {
            0 => {}
            1 => opt.set_lr_schedule(StepLr::new(BASE_LR, (total / 3).max(1), 0.1)?),
            2 => opt.set_lr_schedule(CosineAnnealingLr::new(BASE_LR, total, 0.0)?),
            3 => opt.set_lr_schedule(WarmupCosine::new(BASE_LR, (total / 10).max(1), total)?),
            _ => opt.set_lr_schedule(CosineAnnealingWarmRestarts::new(BASE_LR, t0, 2, 0.0)?),
        }
        let config = TrainConfig {
            epochs,
            batch_size: batch,
            seed: ctx.seed,
            top_k: 0,
            progress: Progress::Quiet,
            ..TrainConfig::default()
        };
        let trainer = Trainer::new(model, state, opt, Loss::cross_entropy(), config)?;
        let mut trace = record(
            trainer,
            train,
            train,
            EvalGrid::every(eval_every),
            None,
            None,
        )
        .with_context(|| format!("schedule {name}"))?;
        let acc = trace
            .trainer
            .evaluate(test)?
            .accuracy
            .context("images are labelled")?;
        loss_panel = loss_panel.series(Series::line(
            name.clone(),
            trace
                .evals
                .iter()
                .map(|e| (e.step as f64, e.loss))
                .collect(),
        ));
        lr_panel = lr_panel.series(Series::line(
            name.clone(),
            trace.steps.iter().map(|s| (s.step as f64, s.lr)).collect(),
        ));
        table.row(vec![
            name.clone(),
            fmt_loss(trace.final_loss()),
            format!("{acc:.4}"),
        ]);
        out_push(&mut sched_numbers, name, &trace, acc);
        ctx.tick();
    }

    // (2) spikes, with and without the guard
    let (stream, bad) = spiky_stream(ctx, train, batch, epochs as usize)?;
    let guard = GuardConfig {
        window: 50,
        min_history: 10,
        snapshot_every: 10,
        ..GuardConfig::default()
    };
    let mut runs: Vec<Trace> = Vec::new();
    for guarded in [false, true] {
        ctx.stage(if guarded {
            "bad batches, guarded"
        } else {
            "bad batches, unguarded"
        });
        let (model, state) = mlp(ctx.seed, n_in, HIDDEN, 10)?;
        let config = TrainConfig {
            epochs: 1,
            batch_size: batch,
            shuffle: false,
            seed: ctx.seed,
            top_k: 0,
            progress: Progress::Quiet,
            ..TrainConfig::default()
        };
        let opt = sgd(&state)?;
        let mut trainer = Trainer::new(model, state, opt, Loss::cross_entropy(), config)?;
        if guarded {
            trainer = trainer.with_guard(guard)?;
        }
        runs.push(record(
            trainer,
            &stream,
            train,
            EvalGrid::every(0),
            None,
            None,
        )?);
        ctx.tick();
    }
    let (plain, guarded) = (&runs[0], &runs[1]);
    let events = guarded.trainer.history().guard_events.clone();
    // Where the guarded log went back: the first step recorded after each rollback.
    let rollback_at: Vec<f64> = guarded
        .steps
        .windows(2)
        .filter(|w| w[1].step <= w[0].step)
        .map(|w| w[1].n as f64 - 0.5)
        .collect();
    let plain_final = plain.final_loss();
    let guarded_final = guarded.final_loss();
    let ratio = if plain_final.is_finite() {
        guarded_final / plain_final
    } else {
        0.0
    };
    let mut spike_loss = Lines::new(
        "mini-batch loss (rollbacks marked)",
        "batches trained (replays after a rollback included)",
        "mini-batch cross-entropy",
    )
    .log_y();
    let mut spike_lr = Lines::new(
        "learning rate (each rollback halves it)",
        "batches trained (replays after a rollback included)",
        "learning rate",
    )
    .log_y();
    for (name, t) in [("unguarded", plain), ("guarded", guarded)] {
        let pts: Vec<(f64, f64)> = t.steps.iter().map(|s| (s.n as f64, s.loss)).collect();
        spike_loss = spike_loss.series(Series::line(name, thin(&pts, 1500)));
        let lrs: Vec<(f64, f64)> = t.steps.iter().map(|s| (s.n as f64, s.lr)).collect();
        spike_lr = spike_lr.series(Series::line(name, thin(&lrs, 1500)).styled(
            if name == "guarded" {
                Style::Line
            } else {
                Style::Dashed
            },
        ));
    }
    for (i, &x) in rollback_at.iter().enumerate() {
        let label = match events.get(i) {
            Some(e) => format!(
                "rollback {}: step {} → {}, lr ×{}",
                i + 1,
                e.step,
                e.restored_step,
                guard.lr_factor
            ),
            None => format!("rollback {}", i + 1),
        };
        spike_loss = spike_loss.vline(x, label.clone());
        spike_lr = spike_lr.vline(x, label);
    }
    if let Some(s) = plain.diverged {
        spike_loss = spike_loss.vline(s as f64, "unguarded: non-finite loss");
    }
    let mut guard_table = Table::new(
        "Bad batches with and without the instability guard",
        &[
            "run",
            "steps",
            "rollbacks",
            "final learning rate",
            "final training loss (clean set)",
            "test accuracy",
        ],
    );
    let mut guard_numbers = Vec::new();
    for (name, t) in ["unguarded", "guarded"].into_iter().zip(runs.iter_mut()) {
        let acc = if t.diverged.is_some() {
            f64::NAN
        } else {
            t.trainer
                .evaluate(test)?
                .accuracy
                .context("images are labelled")?
        };
        let n_rollbacks = t.trainer.history().guard_events.len();
        guard_table.row(vec![
            name.into(),
            t.trainer.optimizer().steps().to_string(),
            n_rollbacks.to_string(),
            format!("{:.5}", t.steps.last().map_or(f64::NAN, |s| s.lr)),
            fmt_loss(t.final_loss()),
            format!("{acc:.4}"),
        ]);
        guard_numbers.push(json!({
            "run": name, "final_loss": t.final_loss(), "test_accuracy": acc,
            "diverged_at": t.diverged, "guard_events": t.trainer.history().guard_events,
            "steps": t.steps,
        }));
    }

    let mut out = Outcome {
        setup: format!(
            "MLP {n_in}-{HIDDEN}-10 ReLU (PyTorch default init, same for every run), cross-entropy, \
             SGD momentum {MOMENTUM}, batch {batch}, f32, descent-train `Trainer`. **(1)** {epochs} \
             epochs of {} images = {total} steps under each schedule with peak rate {BASE_LR} \
             (step: ×0.1 every {} steps; warm-up {} steps; warm restarts T₀ = {t0}, T_mult 2), the \
             full training loss evaluated every {eval_every} steps. **(2)** one pass over a stream of \
             the training set repeated {epochs} times (each copy shuffled from the seed), constant \
             rate {BASE_LR}, with bad batches (inputs ×{BAD_SCALE}, wrong labels) at batches {:?} of \
             {total}; guarded run: `GuardConfig` window 50, min history 10, snapshot every 10 steps, \
             spike = loss above median + 6·MAD-σ, rate ×0.5 per rollback, the batch skipped. \
             Thresholds: guarded final training loss < ln 10 = {GUARDED_MAX_LOSS:.4}; guarded / \
             unguarded final loss < {GUARDED_RATIO} (0 when the unguarded run diverged).",
            train.len(),
            (total / 3).max(1),
            (total / 10).max(1),
            bad
        ),
        data: images.source.clone(),
        ..Outcome::default()
    };
    out.claim(
        "guarded_finite",
        "guarded run's final training loss on the clean training set (must be finite, below ln 10)",
        guarded_final,
        Cmp::Below,
        GUARDED_MAX_LOSS,
    )
    .claim(
        "guarded_lower",
        "guarded final training loss / unguarded (0 if the unguarded run diverged)",
        ratio,
        Cmp::Below,
        GUARDED_RATIO,
    );
    out.metric("guarded final loss", guarded_final)
        .metric("unguarded final loss", plain_final)
        .metric("rollbacks", events.len() as f64);
    out.figures.push(
        Figure::new(
            "schedules",
            "Five learning-rate schedules at equal budget: loss and rate",
        )
        .panel(loss_panel)
        .panel(lr_panel),
    );
    out.figures.push(
        Figure::new(
            "spikes",
            "Bad batches: the guarded run (rollback + rate cut) ends lower than the unguarded run",
        )
        .panel(spike_loss)
        .panel(spike_lr),
    );
    out.tables.push(table);
    out.tables.push(guard_table);
    out.record("schedules", sched_numbers)?;
    out.record("spikes", json!({"bad_batches": bad, "runs": guard_numbers}))?;
    out.notes = "Schedules are indexed by optimizer step. In the spike runs the x axis counts \
                 batches trained, so the batches replayed after a rollback appear after it; the \
                 spike that triggered a rollback is never applied (the guard judges the loss \
                 before the step) and so is not drawn for the guarded run. The final training \
                 loss is evaluated on the clean training set."
        .into();
    Ok(out)
}

/// The training set repeated `copies` times, each copy shuffled from the
/// seed, with the batches at [`BAD_AT`] corrupted; returns the stream and
/// the indices of the bad batches.
fn spiky_stream(
    ctx: &Ctx,
    train: &InMemory<f32>,
    batch: usize,
    copies: usize,
) -> Result<(InMemory<f32>, Vec<usize>)> {
    let mut r = rng(ctx.seed, "spike-stream");
    let mut order = Vec::with_capacity(train.len() * copies);
    for _ in 0..copies {
        let mut copy: Vec<usize> = (0..train.len()).collect();
        copy.shuffle(&mut r);
        order.extend(copy);
    }
    let stream = train.select(&order)?;
    let mut x = stream.features().clone();
    let mut labels = stream
        .class_labels()
        .context("images are labelled")?
        .to_vec();
    let n_batches = order.len().div_ceil(batch);
    let bad: Vec<usize> = BAD_AT
        .iter()
        .map(|f| ((n_batches as f64 * f) as usize).min(n_batches - 1))
        .collect();
    for &b in &bad {
        for i in b * batch..((b + 1) * batch).min(order.len()) {
            x.row_mut(i).scale_mut(BAD_SCALE);
            labels[i] = (labels[i] + 1 + r.random_range(0..9usize)) % 10;
        }
    }
    let stream = InMemory::classification(x, labels, 10)?;
    Ok((stream, bad))
}

fn out_push(numbers: &mut Vec<serde_json::Value>, name: &str, trace: &Trace, acc: f64) {
    numbers.push(json!({
        "schedule": name, "test_accuracy": acc, "evals": trace.evals,
        "lr": trace.steps.iter().map(|s| s.lr).collect::<Vec<_>>(),
    }));
}
