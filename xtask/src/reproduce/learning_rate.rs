//! One MLP trained by plain SGD at a learning rate too small, about right
//! and too large, at the same budget of steps.
//!
//! Through descent-train's `Trainer` (MNIST, the digits when it is absent);
//! the full training loss is evaluated every few steps by the shared step
//! recorder (`optim_common`). Without the instability guard a non-finite
//! loss ends a run with a typed error, which is recorded as divergence at
//! that step.

use super::lab::{self, Cmp, Ctx, Experiment, Group, ImageSet, Outcome, Table};
use super::optim_common::{EvalGrid, fmt_loss, mlp, record};
use super::plot::{Figure, Lines, Series, Style};
use anyhow::Result;
use descent_data::Dataset;
use descent_optim::SgdConfig;
use descent_train::{Loss, Progress, TrainConfig, Trainer};
use serde_json::json;

pub const EXPERIMENT: Experiment = Experiment {
    name: "learning-rate",
    group: Group::Optimization,
    claim: "with the same budget, a too-large learning rate diverges or oscillates and a too-small \
            one ends with a higher training loss than a rate about right",
    source: "the course's learning-rate picture (Goodfellow, Bengio & Courville 2016, §8.3; \
             LeCun et al. 1998, 'Efficient BackProp')",
    run,
};

/// Final training loss of the too-large rate over the right one's (a
/// diverged run counts as [`DIVERGED_RATIO`]) must exceed this.
const LARGE_RATIO: f64 = 2.0;
/// Final training loss of the too-small rate over the right one's must
/// exceed this ("higher loss at equal budget").
const SMALL_RATIO: f64 = 1.0;
/// What a diverged run's loss ratio counts as (keeps means finite).
const DIVERGED_RATIO: f64 = 100.0;

const RATES: [(&str, f64); 3] = [
    ("too small", 0.001),
    ("about right", 0.1),
    ("too large", 5.0),
];
const HIDDEN: usize = 64;
const BATCH: usize = 64;

fn run(ctx: &Ctx) -> Result<Outcome> {
    let (n_train, n_test) = ctx.pick((4096, 1000), (1024, 500));
    let images = lab::images(ctx, ImageSet::Mnist, n_train, n_test)?;
    let train = &images.train;
    let n_in = train.features().ncols();
    let epochs = 6u64;
    let eval_every = (epochs * train.len().div_ceil(BATCH) as u64 / 60).max(1);
    ctx.steps(RATES.len() as u64);
    let mut curves = Lines::new(
        "training loss at three learning rates",
        "optimizer step",
        "full training-set cross-entropy",
    )
    .log_y();
    let mut table = Table::new(
        "Final training loss at equal budget",
        &[
            "learning rate",
            "",
            "steps",
            "final training loss",
            "loss rises between evaluations",
            "diverged at step",
        ],
    );
    let mut finals = Vec::new();
    let mut numbers = Vec::new();
    for (label, lr) in RATES {
        ctx.stage(format!("SGD lr {lr} ({label})"));
        let (model, state) = mlp(ctx.seed, n_in, HIDDEN, 10)?;
        let opt = SgdConfig {
            lr,
            ..SgdConfig::default()
        }
        .build(&state.params)?;
        let config = TrainConfig {
            epochs,
            batch_size: BATCH,
            seed: ctx.seed,
            top_k: 0,
            progress: Progress::Quiet,
            ..TrainConfig::default()
        };
        let trainer = Trainer::new(model, state, opt, Loss::cross_entropy(), config)?;
        let trace = record(
            trainer,
            train,
            train,
            EvalGrid::every(eval_every),
            None,
            None,
        )?;
        let fin = trace.final_loss();
        let rises = trace
            .evals
            .windows(2)
            .filter(|w| w[1].loss > w[0].loss)
            .count();
        let intervals = trace.evals.len().saturating_sub(1).max(1);
        let name = format!("lr {lr} ({label})");
        curves = curves.series(
            Series::line(
                name.clone(),
                trace
                    .evals
                    .iter()
                    .map(|e| (e.step as f64, e.loss))
                    .collect(),
            )
            .styled(Style::LinePoints),
        );
        if let Some(s) = trace.diverged {
            curves = curves.vline(s as f64, format!("lr {lr}: non-finite loss"));
        }
        table.row(vec![
            format!("{lr}"),
            label.into(),
            trace.steps.last().map_or(0, |s| s.step).to_string(),
            fmt_loss(fin),
            format!("{rises} of {intervals}"),
            trace.diverged.map_or("—".into(), |s| s.to_string()),
        ]);
        out_metric_push(&mut numbers, label, lr, &trace, rises, intervals);
        finals.push(fin);
        ctx.tick();
    }
    let (small, right, large) = (finals[0], finals[1], finals[2]);
    let large_ratio = if large.is_finite() && right > 0.0 {
        (large / right).min(DIVERGED_RATIO)
    } else {
        DIVERGED_RATIO
    };
    let small_ratio = small / right;
    let mut out = Outcome {
        setup: format!(
            "MLP {n_in}-{HIDDEN}-10 ReLU (PyTorch default init, the same for all three runs), \
             cross-entropy, plain SGD (no momentum), batch {BATCH}, {epochs} epochs of {} images, \
             f32, descent-train `Trainer`. Varied: the learning rate, {} / {} / {}. The full \
             training loss is evaluated every {eval_every} steps. Thresholds: large/right final \
             loss > {LARGE_RATIO} (divergence counts as {DIVERGED_RATIO}); small/right > {SMALL_RATIO}.",
            train.len(),
            RATES[0].1,
            RATES[1].1,
            RATES[2].1
        ),
        data: images.source.clone(),
        ..Outcome::default()
    };
    out.claim(
        "large_diverges_or_oscillates",
        "final training loss at lr 5 / at lr 0.1 (100 when lr 5 diverged)",
        large_ratio,
        Cmp::Above,
        LARGE_RATIO,
    )
    .claim(
        "small_higher_loss",
        "final training loss at lr 0.001 / at lr 0.1, same number of steps",
        small_ratio,
        Cmp::Above,
        SMALL_RATIO,
    );
    out.metric("final loss, lr 0.001", small)
        .metric("final loss, lr 0.1", right)
        .metric("large/right ratio (capped)", large_ratio);
    let finite: Vec<(f64, f64)> = RATES
        .iter()
        .zip(&finals)
        .map(|(r, &f)| (r.1, f))
        .filter(|p| p.1.is_finite())
        .collect();
    out.figures.push(
        Figure::new(
            "curves",
            "Too large a rate diverges or oscillates; too small a rate ends higher at equal budget",
        )
        .panel(curves)
        .panel(
            Lines::new(
                "final training loss against learning rate",
                "learning rate",
                "final training loss (diverged runs omitted)",
            )
            .log_x()
            .log_y()
            .series(Series::line("final loss", finite).styled(Style::LinePoints)),
        ),
    );
    out.tables.push(table);
    out.record("runs", numbers)?;
    out.notes = "A run whose loss or gradient becomes non-finite ends there (no guard): it is \
                 marked on the curve and counted as diverged; 'loss rises' counts the evaluation \
                 intervals over which the full training loss went up (oscillation)."
        .into();
    if large.is_finite() && (large - std::f64::consts::LN_10).abs() < 0.1 {
        out.notes.push_str(&format!(
            " This run: lr {} did not produce a non-finite loss; its loss jumped in the first \
             steps and then stayed near chance level (ln 10 = 2.303, final {large:.3}): the large \
             updates wrecked the network (ReLUs dead or logits saturated) rather than making it \
             oscillate for the whole run. The claim part counts this as failing to train.",
            RATES[2].1
        ));
    }
    Ok(out)
}

fn out_metric_push(
    numbers: &mut Vec<serde_json::Value>,
    label: &str,
    lr: f64,
    trace: &super::optim_common::Trace,
    rises: usize,
    intervals: usize,
) {
    numbers.push(json!({
        "label": label, "lr": lr, "evals": trace.evals,
        "diverged_at": trace.diverged, "loss_rises": rises, "intervals": intervals,
        "step_losses": trace.steps.iter().map(|s| s.loss).collect::<Vec<_>>(),
    }));
}
