//! Batch norm lets a network train at learning rates where the same network
//! without it diverges or stalls (Bjorck et al. 2018, "Understanding Batch
//! Normalization").
//!
//! The same MLP (three hidden ReLU layers), once with `BatchNorm1d` after
//! each hidden linear layer and once without, is trained by SGD with
//! momentum for the same number of epochs at every rate of a log grid. A
//! run whose loss or gradient turns non-finite ends with the Trainer's
//! typed error and is recorded as "diverged"; a run that ends with a test
//! accuracy below [`STALL_ACC`] has stalled. The claim's two parts: some
//! rate of the grid trains with batch norm (test accuracy ≥
//! [`TRAINS_ACC`]) while the network without it diverges or stalls, and
//! the best rate with batch norm is larger than the best rate without.

use super::lab::{Cmp, Ctx, Experiment, Group, ImageSet, Outcome, Table, images, rng};
use super::plot::{Figure, Lines, Series, Style};
use anyhow::{Context, Result};
use descent_data::{Dataset, InMemory};
use descent_nn::{
    BatchNorm1d, BatchNormConfig, Builder, FanMode, Init, Linear, LinearConfig, ModelState,
    Nonlinearity, Relu, Sequential,
};
use descent_optim::SgdConfig;
use descent_train::{Data, Loss, Progress, TrainConfig, Trainer};
use serde::Serialize;

pub const EXPERIMENT: Experiment = Experiment {
    name: "batch-norm-large-lr",
    group: Group::Generalization,
    claim: "without batch norm training diverges or stalls at learning rates where batch norm still \
            trains, and the best batch-norm learning rate is larger than the best one without it",
    source: "Bjorck, Gomes, Selman & Weinberger 2018, Understanding Batch Normalization (NeurIPS), Figure 1",
    run,
};

/// A run "trains" when its final test accuracy reaches this.
const TRAINS_ACC: f64 = 0.80;
/// A run that did not diverge "stalls" when its final test accuracy is below this.
const STALL_ACC: f64 = 0.50;
/// Part 1: grid rates where batch norm trains while the plain network
/// diverges or stalls must number at least this.
const MIN_RATES_ONLY_BN_TRAINS: f64 = 1.0;
/// Part 2: log10(best rate with batch norm / best rate without) must exceed this.
const MIN_LOG10_BEST_RATIO: f64 = 0.0;

/// The learning-rate grid (half-decade steps).
const RATES: [f64; 8] = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0];
const HIDDEN: usize = 128;
const MOMENTUM: f64 = 0.9;
const BATCH: usize = 64;

/// One training run of the grid.
#[derive(Debug, Clone, Serialize)]
struct RunResult {
    lr: f64,
    batch_norm: bool,
    diverged: bool,
    /// Where it diverged (the Trainer's error), when it did.
    error: Option<String>,
    /// Final test accuracy (0 when diverged).
    test_accuracy: f64,
    /// Final training loss (mean over the last epoch), NaN when diverged.
    train_loss: f64,
}

impl RunResult {
    fn trains(&self) -> bool {
        !self.diverged && self.test_accuracy >= TRAINS_ACC
    }
    fn fails(&self) -> bool {
        self.diverged || self.test_accuracy < STALL_ACC
    }
    fn label(&self) -> String {
        if self.diverged {
            "diverged".into()
        } else {
            format!("{:.3}", self.test_accuracy)
        }
    }
}

fn train_one(
    ctx: &Ctx,
    train: &InMemory<f32>,
    test: &InMemory<f32>,
    lr: f64,
    batch_norm: bool,
    epochs: u64,
) -> Result<RunResult> {
    let n_in = train.schema().n_features;
    let n_classes = train.schema().n_classes().context("images are labelled")?;
    let mut state = ModelState::<f32>::new();
    let mut model = Sequential::new();
    let mut hidden = Vec::new();
    {
        // The same initial weights for both arms and every rate.
        let mut init = rng(ctx.seed, "init");
        let mut b = Builder::new(&mut state, &mut init);
        let mut width = n_in;
        for _ in 0..3 {
            model.add(&mut b, |b| {
                let l = Linear::new(b, LinearConfig::new(width, HIDDEN))?;
                hidden.push((l.weight(), width));
                Ok(l)
            })?;
            if batch_norm {
                model.add(&mut b, |b| {
                    BatchNorm1d::new(b, BatchNormConfig::new(HIDDEN))
                })?;
            }
            model.push(Relu);
            width = HIDDEN;
        }
        model.add(&mut b, |b| {
            Linear::new(b, LinearConfig::new(width, n_classes))
        })?;
    }
    // He (Kaiming normal, fan-in) init of the hidden weights, the standard
    // for ReLU networks: under PyTorch's default U(±1/√fan_in) the signal of
    // the plain network shrinks layer by layer and it barely learns at small
    // rates, which would confound the rate comparison.
    let mut he_rng = rng(ctx.seed, "he-init");
    let he = Init::KaimingNormal {
        mode: FanMode::FanIn,
        nonlinearity: Nonlinearity::Relu,
    };
    for (id, fan_in) in hidden {
        let w = he.sample::<f32>(&[HIDDEN, fan_in], &mut he_rng)?;
        state.params.params_mut().set_value(id, w)?;
    }
    let opt = SgdConfig {
        lr,
        momentum: MOMENTUM,
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
    let mut trainer = Trainer::new(model, state, opt, Loss::cross_entropy(), config)?;
    let diverged = |error: String| RunResult {
        lr,
        batch_norm,
        diverged: true,
        error: Some(error),
        test_accuracy: 0.0,
        train_loss: f64::NAN,
    };
    let history = match trainer.fit(Data::train(train)) {
        Ok(h) => h,
        Err(
            e @ (descent_train::Error::NonFiniteLoss { .. }
            | descent_train::Error::NonFiniteGrad { .. }),
        ) => return Ok(diverged(e.to_string())),
        Err(e) => {
            return Err(e).with_context(|| format!("training at lr {lr}, batch norm {batch_norm}"));
        }
    };
    let train_loss = history.last().context("at least one epoch")?.train.loss;
    let test_metrics = trainer.evaluate(test)?;
    if !test_metrics.loss.is_finite() || !train_loss.is_finite() {
        return Ok(diverged(format!(
            "non-finite loss at the end (train {train_loss}, test {})",
            test_metrics.loss
        )));
    }
    Ok(RunResult {
        lr,
        batch_norm,
        diverged: false,
        error: None,
        test_accuracy: test_metrics.accuracy.context("labelled test set")?,
        train_loss,
    })
}

/// The rate of the highest test accuracy among runs that did not diverge
/// (the smaller rate on a tie).
fn best_rate(runs: &[RunResult]) -> Option<f64> {
    runs.iter()
        .filter(|r| !r.diverged)
        .fold(None::<&RunResult>, |best, r| match best {
            Some(b) if b.test_accuracy >= r.test_accuracy => Some(b),
            _ => Some(r),
        })
        .map(|r| r.lr)
}

fn run(ctx: &Ctx) -> Result<Outcome> {
    let (n_train, n_test, epochs) = ctx.pick((5000, 1000, 6u64), (3000, 1000, 4));
    let data = images(ctx, ImageSet::Mnist, n_train, n_test)?;
    ctx.steps(2 * RATES.len() as u64);
    let mut with_bn = Vec::new();
    let mut without = Vec::new();
    for &lr in &RATES {
        for batch_norm in [true, false] {
            ctx.stage(format!(
                "lr {lr}, {} batch norm",
                if batch_norm { "with" } else { "without" }
            ));
            let r = train_one(ctx, &data.train, &data.test, lr, batch_norm, epochs)?;
            if batch_norm {
                with_bn.push(r);
            } else {
                without.push(r);
            }
            ctx.tick();
        }
    }

    let only_bn: Vec<f64> = with_bn
        .iter()
        .zip(&without)
        .filter(|(b, p)| b.trains() && p.fails())
        .map(|(b, _)| b.lr)
        .collect();
    let best_bn = best_rate(&with_bn);
    let best_plain = best_rate(&without);
    let log_ratio = match (best_bn, best_plain) {
        (Some(b), Some(p)) => (b / p).log10(),
        _ => f64::NAN,
    };

    let mut out = Outcome {
        setup: format!(
            "MLP {n_in}-{HIDDEN}-{HIDDEN}-{HIDDEN}-10 with ReLU, He init (Kaiming normal, fan-in) for the hidden weights and PyTorch's \
             default for the output layer (the same initial weights for every run of a seed), with `BatchNorm1d` after each hidden linear layer or without; SGD with \
             momentum {MOMENTUM}, constant rate, batches of {BATCH}, {epochs} epochs, f32, trained by \
             descent-train's `Trainer`. Varied: the learning rate over the log grid {RATES:?}. A run whose loss \
             or gradient turns non-finite ends with the Trainer's `NonFiniteLoss`/`NonFiniteGrad` error and is \
             recorded as diverged. \"Trains\" means final test accuracy ≥ {TRAINS_ACC}; \"stalls\" means a \
             finite run ending below {STALL_ACC}. The best rate of an arm is the one of highest final test \
             accuracy.",
            n_in = data.train.schema().n_features
        ),
        data: data.source.clone(),
        ..Outcome::default()
    };
    out.claim(
        "only_bn_trains",
        "grid rates where batch norm trains and the plain network diverges or stalls",
        only_bn.len() as f64,
        Cmp::AtLeast,
        MIN_RATES_ONLY_BN_TRAINS,
    )
    .claim(
        "best_rate_larger",
        "log10(best rate with batch norm / best rate without)",
        log_ratio,
        Cmp::Above,
        MIN_LOG10_BEST_RATIO,
    );
    out.metric("best lr with batch norm", best_bn.unwrap_or(f64::NAN))
        .metric("best lr without batch norm", best_plain.unwrap_or(f64::NAN))
        .metric(
            "best test accuracy with batch norm",
            with_bn.iter().map(|r| r.test_accuracy).fold(0.0, f64::max),
        )
        .metric(
            "best test accuracy without batch norm",
            without.iter().map(|r| r.test_accuracy).fold(0.0, f64::max),
        );

    let mut table = Table::new(
        "Final test accuracy against learning rate",
        &[
            "learning rate",
            "with batch norm",
            "without batch norm",
            "train loss (BN)",
            "train loss (no BN)",
        ],
    );
    for (b, p) in with_bn.iter().zip(&without) {
        let loss = |r: &RunResult| {
            if r.diverged {
                "—".to_owned()
            } else {
                format!("{:.4}", r.train_loss)
            }
        };
        table.row(vec![
            format!("{}", b.lr),
            b.label(),
            p.label(),
            loss(b),
            loss(p),
        ]);
    }
    out.tables.push(table);

    let acc_points = |runs: &[RunResult]| -> Vec<(f64, f64)> {
        runs.iter()
            .filter(|r| !r.diverged)
            .map(|r| (r.lr, r.test_accuracy))
            .collect()
    };
    let diverged_points = |runs: &[RunResult]| -> Vec<(f64, f64)> {
        runs.iter()
            .filter(|r| r.diverged)
            .map(|r| (r.lr, 0.0))
            .collect()
    };
    let loss_points = |runs: &[RunResult]| -> Vec<(f64, f64)> {
        runs.iter()
            .filter(|r| !r.diverged && r.train_loss > 0.0)
            .map(|r| (r.lr, r.train_loss))
            .collect()
    };
    let mut acc = Lines::new(
        "final test accuracy (diverged runs drawn at 0)",
        "learning rate",
        "test accuracy",
    )
    .log_x()
    .y_range(0.0, 1.3)
    .series(Series::line("with batch norm", acc_points(&with_bn)).styled(Style::LinePoints))
    .series(Series::line("without batch norm", acc_points(&without)).styled(Style::LinePoints))
    .hline(TRAINS_ACC, format!("trains (≥ {TRAINS_ACC})"))
    .hline(STALL_ACC, format!("stalls (< {STALL_ACC})"));
    let (dbn, dplain) = (diverged_points(&with_bn), diverged_points(&without));
    if !dbn.is_empty() {
        acc = acc.series(Series::line("diverged, with batch norm", dbn).styled(Style::Points));
    }
    if !dplain.is_empty() {
        acc =
            acc.series(Series::line("diverged, without batch norm", dplain).styled(Style::Points));
    }
    out.figures.push(
        Figure::new(
            "accuracy_vs_lr",
            "Batch norm trains at learning rates where the plain network diverges or stalls",
        )
        .panel(acc)
        .panel(
            Lines::new(
                "final training loss (finite runs)",
                "learning rate",
                "mean cross-entropy, last epoch",
            )
            .log_x()
            .log_y()
            .series(
                Series::line("with batch norm", loss_points(&with_bn)).styled(Style::LinePoints),
            )
            .series(
                Series::line("without batch norm", loss_points(&without)).styled(Style::LinePoints),
            ),
        ),
    );
    out.notes = format!(
        "Rates where only the batch-norm network trains: {only_bn:?}. Best rate with batch norm: {}, \
         without: {}.",
        best_bn.map_or("none (all diverged)".into(), |r| r.to_string()),
        best_plain.map_or("none (all diverged)".into(), |r| r.to_string()),
    );
    out.notes.push_str(
        " Changed after the first (quick) run, before any full run: the hidden weights were PyTorch's \
         default U(±1/√fan_in), under which the plain network's training loss stayed at ln 10 for rates \
         up to 0.03 (a vanishing signal, not a rate effect), which confounded the comparison of best \
         rates; they are now He-initialized, as ReLU networks without normalization are in practice. \
         The thresholds are unchanged.",
    );
    out.record("rates", RATES)?;
    out.record("with_batch_norm", &with_bn)?;
    out.record("without_batch_norm", &without)?;
    out.record("rates_only_batch_norm_trains", &only_bn)?;
    Ok(out)
}
