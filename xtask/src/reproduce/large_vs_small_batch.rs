//! Large-batch training converges to sharper minima that generalize worse
//! (Keskar et al. 2017, "On Large-Batch Training for Deep Learning:
//! Generalization Gap and Sharp Minima").
//!
//! The same MLP from the same initial weights is trained by Adam with small
//! and with large batches until the training loss (the epoch's running mean)
//! reaches a common target, a callback stopping each run there. At each
//! minimum we measure the generalization gap (training minus test accuracy),
//! Keskar's ε-sharpness and the top eigenvalue of the Hessian of the
//! training loss, both with descent-regularize's public sharpness measures
//! on a fixed subset of the training set, and the loss along the line
//! through both minima, `θ(α) = (1 − α)·θ_small + α·θ_large` (Keskar's
//! Figure 3). Three claim parts: the large-batch minimum has a larger
//! ε-sharpness, a larger top Hessian eigenvalue, and a larger
//! generalization gap.

use super::lab::{Cmp, Ctx, Experiment, Group, ImageSet, Outcome, Table, images, rng};
use super::plot::{Figure, Lines, Series, Style};
use anyhow::{Context, Result};
use descent_autodiff::{CrossEntropyConfig, Tape};
use descent_core::{ParamStore, Scalar};
use descent_data::{Batch, Dataset, InMemory};
use descent_nn::{
    Buffers, Builder, Ctx as NnCtx, Linear, LinearConfig, Mode, ModelState, Module, Relu,
    Sequential,
};
use descent_optim::AdamConfig;
use descent_regularize::{
    PowerIterationConfig, SharpnessConfig, epsilon_sharpness, top_hessian_eigenvalue,
};
use descent_train::{Control, Data, EpochMetrics, Loss, Progress, TrainConfig, Trainer};
use nalgebra::DMatrix;
use serde::Serialize;

pub const EXPERIMENT: Experiment = Experiment {
    name: "large-vs-small-batch",
    group: Group::Generalization,
    claim: "trained to the same training loss, the large-batch minimum is sharper (ε-sharpness and top \
            Hessian eigenvalue) than the small-batch one and generalizes worse",
    source: "Keskar, Mudigere, Nocedal, Smelyanskiy & Tang 2017, On Large-Batch Training for Deep Learning: \
             Generalization Gap and Sharp Minima (ICLR), Table 2 and Figure 3",
    run,
};

/// Part 1: ε-sharpness of the large-batch minimum over the small-batch one must exceed this.
const MIN_EPS_SHARPNESS_RATIO: f64 = 1.25;
/// Part 2: top Hessian eigenvalue of the large-batch minimum over the small-batch one must exceed this.
const MIN_EIGEN_RATIO: f64 = 1.25;
/// Part 3: the large-batch generalization gap (train − test accuracy) minus
/// the small-batch one must exceed this.
const MIN_GAP_DIFFERENCE: f64 = 0.0;

/// Both runs stop at the end of the first epoch whose mean training loss is at most this.
const TARGET_LOSS: f64 = 0.03;
const HIDDEN: usize = 128;
const SMALL_BATCH: usize = 32;
const LR: f64 = 2e-3;
/// Keskar et al.'s ε.
const EPSILON: f64 = 1e-3;

/// What was measured at one minimum.
#[derive(Debug, Clone, Serialize)]
struct Minimum {
    batch_size: usize,
    epochs: u64,
    steps: u64,
    reached_target: bool,
    train_loss: f64,
    train_accuracy: f64,
    test_loss: f64,
    test_accuracy: f64,
    gap: f64,
    eps_sharpness: f64,
    top_eigenvalue: f64,
    eigen_converged: bool,
    /// Epoch-mean training loss per epoch.
    loss_curve: Vec<f64>,
}

fn build(ctx: &Ctx, n_in: usize, n_classes: usize) -> Result<(Sequential<f32>, ModelState<f32>)> {
    let mut state = ModelState::<f32>::new();
    let mut model = Sequential::new();
    // The same initial weights for both batch sizes.
    let mut init = rng(ctx.seed, "init");
    let mut b = Builder::new(&mut state, &mut init);
    model
        .add(&mut b, |b| Linear::new(b, LinearConfig::new(n_in, HIDDEN)))?
        .push(Relu)
        .add(&mut b, |b| {
            Linear::new(b, LinearConfig::new(HIDDEN, HIDDEN))
        })?
        .push(Relu)
        .add(&mut b, |b| {
            Linear::new(b, LinearConfig::new(HIDDEN, n_classes))
        })?;
    Ok((model, state))
}

/// The mean cross-entropy of `model` on `batch` at the store's values, its
/// gradient left in the store: the closure the sharpness measures perturb.
fn loss_and_grad<'a>(
    model: &'a Sequential<f32>,
    batch: &'a Batch<f32>,
    mut buffers: Buffers<f32>,
) -> impl FnMut(&mut ParamStore<f32>) -> f64 + 'a {
    let mut tape = Tape::new();
    // Evaluation mode draws nothing; the RNG only satisfies the context.
    let mut draw = rng(0, "unused");
    move |store: &mut ParamStore<f32>| {
        tape.reset();
        store.zero_grad();
        let out = {
            let mut ctx = NnCtx {
                tape: &tape,
                params: store.params(),
                buffers: &mut buffers,
                mode: Mode::Eval,
                rng: &mut draw,
            };
            model.forward(&mut ctx, descent_train::input(&tape, batch))
        };
        let loss = out.cross_entropy(&batch.labels, &CrossEntropyConfig::default());
        tape.backward(loss, store);
        loss.item().as_f64()
    }
}

struct Trained {
    trainer: Trainer<f32, Sequential<f32>>,
    epochs: u64,
    steps: u64,
    reached: bool,
    curve: Vec<f64>,
}

fn train(ctx: &Ctx, data: &InMemory<f32>, batch_size: usize, max_epochs: u64) -> Result<Trained> {
    let n_classes = data.schema().n_classes().context("images are labelled")?;
    let (model, state) = build(ctx, data.schema().n_features, n_classes)?;
    let opt = AdamConfig {
        lr: LR,
        ..AdamConfig::default()
    }
    .build(&state.params)?;
    let config = TrainConfig {
        epochs: max_epochs,
        batch_size,
        seed: ctx.seed,
        top_k: 0,
        progress: Progress::Quiet,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(model, state, opt, Loss::cross_entropy(), config)?
        .with_callback(|m: &EpochMetrics| {
            if m.train.loss <= TARGET_LOSS {
                Control::Stop
            } else {
                Control::Continue
            }
        });
    let history = trainer
        .fit(Data::train(data))
        .with_context(|| format!("training with batches of {batch_size}"))?;
    let last = history.last().context("at least one epoch")?;
    Ok(Trained {
        epochs: history.epochs.len() as u64,
        steps: last.step,
        reached: last.train.loss <= TARGET_LOSS,
        curve: history.epochs.iter().map(|e| e.train.loss).collect(),
        trainer,
    })
}

fn measure(
    ctx: &Ctx,
    t: &mut Trained,
    batch_size: usize,
    train: &InMemory<f32>,
    test: &InMemory<f32>,
    probe: &Batch<f32>,
    power_iters: usize,
) -> Result<Minimum> {
    let tr = t.trainer.evaluate(train)?;
    let te = t.trainer.evaluate(test)?;
    let (train_accuracy, test_accuracy) = (
        tr.accuracy.context("labelled")?,
        te.accuracy.context("labelled")?,
    );
    let buffers = t.trainer.state().buffers.clone();
    // The measures perturb a copy of the parameters; the trainer keeps its minimum.
    let mut store = t.trainer.state().params.clone();
    let model = t.trainer.model();
    let mut f = loss_and_grad(model, probe, buffers);
    let sharp = epsilon_sharpness(
        &mut store,
        &mut f,
        &SharpnessConfig {
            epsilon: EPSILON,
            n_steps: 10,
            step_fraction: 0.2,
        },
        &mut rng(ctx.seed, "epsilon-sharpness"),
    )
    .context("ε-sharpness")?;
    let eig = top_hessian_eigenvalue(
        &mut store,
        &mut f,
        &PowerIterationConfig {
            max_iters: power_iters,
            tol: 1e-3,
            fd_step: 1e-3,
        },
        &mut rng(ctx.seed, "power-iteration"),
    )
    .context("top Hessian eigenvalue")?;
    Ok(Minimum {
        batch_size,
        epochs: t.epochs,
        steps: t.steps,
        reached_target: t.reached,
        train_loss: tr.loss,
        train_accuracy,
        test_loss: te.loss,
        test_accuracy,
        gap: train_accuracy - test_accuracy,
        eps_sharpness: sharp.value,
        top_eigenvalue: eig.value,
        eigen_converged: eig.converged,
        loss_curve: t.curve.clone(),
    })
}

/// `(1 − α)·a + α·b`, parameter by parameter.
fn interpolate(a: &ParamStore<f32>, b: &ParamStore<f32>, alpha: f64) -> Vec<DMatrix<f32>> {
    let (wa, wb) = (f32::cast(1.0 - alpha), f32::cast(alpha));
    a.params()
        .ids()
        .map(|id| a.value(id) * wa + b.value(id) * wb)
        .collect()
}

fn run(ctx: &Ctx) -> Result<Outcome> {
    let (n_train, n_test, large_batch, power_iters, n_probe, n_alpha) = ctx.pick(
        (5000, 2000, 1000, 20, 1000, 25),
        (2500, 1000, 500, 15, 500, 13),
    );
    let (max_small, max_large) = ctx.pick((100u64, 600u64), (60, 400));
    let data = images(ctx, ImageSet::Mnist, n_train, n_test)?;
    let (train_set, test_set) = (&data.train, &data.test);
    let probe = train_set.batch(&(0..n_probe.min(train_set.len())).collect::<Vec<_>>());
    ctx.steps(5);

    ctx.stage(format!(
        "small batches of {SMALL_BATCH} to loss {TARGET_LOSS}"
    ));
    let mut small = train(ctx, train_set, SMALL_BATCH, max_small)?;
    ctx.tick();
    ctx.stage(format!(
        "large batches of {large_batch} to loss {TARGET_LOSS}"
    ));
    let mut large = train(ctx, train_set, large_batch, max_large)?;
    ctx.tick();
    ctx.stage("sharpness of the small-batch minimum");
    let sb = measure(
        ctx,
        &mut small,
        SMALL_BATCH,
        train_set,
        test_set,
        &probe,
        power_iters,
    )?;
    ctx.tick();
    ctx.stage("sharpness of the large-batch minimum");
    let lb = measure(
        ctx,
        &mut large,
        large_batch,
        train_set,
        test_set,
        &probe,
        power_iters,
    )?;
    ctx.tick();

    ctx.stage("1-D interpolation between the minima");
    let theta_s = small.trainer.state().params.clone();
    let theta_l = large.trainer.state().params.clone();
    let ids: Vec<_> = theta_s.params().ids().collect();
    let alphas: Vec<f64> = (0..n_alpha)
        .map(|k| -1.0 + 3.0 * k as f64 / (n_alpha - 1) as f64)
        .collect();
    let mut line = Vec::with_capacity(alphas.len());
    // The small-batch trainer serves as the evaluator; its minimum is put back after.
    for &alpha in &alphas {
        let values = interpolate(&theta_s, &theta_l, alpha);
        let params = small.trainer.state_mut().params.params_mut();
        for (&id, v) in ids.iter().zip(values) {
            params.set_value(id, v)?;
        }
        let tr = small.trainer.evaluate(train_set)?;
        let te = small.trainer.evaluate(test_set)?;
        line.push((alpha, tr.loss, te.loss, tr.accuracy, te.accuracy));
    }
    small.trainer.state_mut().params = theta_s;
    ctx.tick();

    let mut out = Outcome {
        setup: format!(
            "MLP {n_in}-{HIDDEN}-{HIDDEN}-10 with ReLU, PyTorch default init (the same initial weights for both \
             runs), mean cross-entropy, Adam (lr {LR}, PyTorch defaults otherwise), f32, trained by \
             descent-train's `Trainer` on {n_train} training images with batches of {SMALL_BATCH} (small) or \
             {large_batch} (large), each run stopped by a callback at the end of the first epoch whose mean \
             training loss is ≤ {TARGET_LOSS} (at most {max_small} / {max_large} epochs). At each minimum: \
             training and test loss and accuracy (evaluation mode, whole sets), the generalization gap \
             (training − test accuracy), descent-regularize's `epsilon_sharpness` (ε = {EPSILON}, box \
             |δᵢ| ≤ ε(|θᵢ| + 1), 10 projected sign-ascent steps of 0.2 of the box from a random start) and \
             `top_hessian_eigenvalue` (power iteration on finite-difference Hessian-vector products, at most \
             {power_iters} products, tolerance 1e-3), both of the mean cross-entropy on the first {n_probe} \
             training images. Then the training and test loss at {n_alpha} points of \
             θ(α) = (1 − α)·θ_small + α·θ_large for α in [−1, 2] (Keskar's Figure 3).",
            n_in = train_set.schema().n_features
        ),
        data: data.source.clone(),
        ..Outcome::default()
    };
    let eps_ratio = lb.eps_sharpness / sb.eps_sharpness;
    let eig_ratio = lb.top_eigenvalue / sb.top_eigenvalue;
    let gap_diff = lb.gap - sb.gap;
    out.claim(
        "eps_sharpness_ratio",
        "ε-sharpness, large batch / small batch",
        eps_ratio,
        Cmp::Above,
        MIN_EPS_SHARPNESS_RATIO,
    )
    .claim(
        "top_eigenvalue_ratio",
        "top Hessian eigenvalue, large batch / small batch",
        eig_ratio,
        Cmp::Above,
        MIN_EIGEN_RATIO,
    )
    .claim(
        "gap_difference",
        "generalization gap (train − test accuracy), large batch minus small batch",
        gap_diff,
        Cmp::Above,
        MIN_GAP_DIFFERENCE,
    );
    out.metric("ε-sharpness, small batch", sb.eps_sharpness)
        .metric("ε-sharpness, large batch", lb.eps_sharpness)
        .metric("top eigenvalue, small batch", sb.top_eigenvalue)
        .metric("top eigenvalue, large batch", lb.top_eigenvalue)
        .metric("test accuracy, small batch", sb.test_accuracy)
        .metric("test accuracy, large batch", lb.test_accuracy)
        .metric("training loss, small batch", sb.train_loss)
        .metric("training loss, large batch", lb.train_loss);

    let mut table = Table::new(
        "The two minima",
        &[
            "batch size",
            "epochs",
            "steps",
            "train loss",
            "train acc",
            "test acc",
            "gap",
            "ε-sharpness",
            "top eigenvalue",
        ],
    );
    for m in [&sb, &lb] {
        table.row(vec![
            m.batch_size.to_string(),
            format!(
                "{}{}",
                m.epochs,
                if m.reached_target {
                    ""
                } else {
                    " (target not reached)"
                }
            ),
            m.steps.to_string(),
            format!("{:.4}", m.train_loss),
            format!("{:.4}", m.train_accuracy),
            format!("{:.4}", m.test_accuracy),
            format!("{:.4}", m.gap),
            format!("{:.3}", m.eps_sharpness),
            format!(
                "{:.2}{}",
                m.top_eigenvalue,
                if m.eigen_converged {
                    ""
                } else {
                    " (not converged)"
                }
            ),
        ]);
    }
    out.tables.push(table);
    let mut interp = Table::new(
        "Loss along θ(α) = (1 − α)·θ_small + α·θ_large",
        &["α", "train loss", "test loss", "train acc", "test acc"],
    );
    for &(a, trl, tel, tra, tea) in &line {
        interp.row(vec![
            format!("{a:.3}"),
            format!("{trl:.4}"),
            format!("{tel:.4}"),
            format!("{:.4}", tra.unwrap_or(f64::NAN)),
            format!("{:.4}", tea.unwrap_or(f64::NAN)),
        ]);
    }
    out.tables.push(interp);

    // Headroom above the curves (log scale) for the legend.
    let (lo, hi) = line
        .iter()
        .flat_map(|l| [l.1, l.2])
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    out.figures.push(
        Figure::new(
            "interpolation",
            "The large-batch minimum is sharper and generalizes worse (Keskar et al. Figure 3)",
        )
        .panel(
            Lines::new(
                "loss along θ(α) = (1 − α)·θ_small + α·θ_large",
                "α (0: small-batch minimum, 1: large-batch minimum)",
                "mean cross-entropy",
            )
            .log_y()
            .y_range(lo * 0.8, hi * 30.0)
            .series(Series::line(
                "training loss",
                line.iter().map(|l| (l.0, l.1)).collect(),
            ))
            .series(
                Series::line("test loss", line.iter().map(|l| (l.0, l.2)).collect())
                    .styled(Style::Dashed),
            )
            .vline(0.0, format!("small batch ({SMALL_BATCH})"))
            .vline(1.0, format!("large batch ({large_batch})")),
        )
        .panel(
            Lines::new(
                "training loss until the common target",
                "epoch",
                "mean training cross-entropy of the epoch",
            )
            .log_y()
            .series(Series::indexed(
                format!("batch {SMALL_BATCH}"),
                &sb.loss_curve,
            ))
            .series(Series::indexed(
                format!("batch {large_batch}"),
                &lb.loss_curve,
            ))
            .hline(TARGET_LOSS, format!("target {TARGET_LOSS}")),
        ),
    );
    out.notes = format!(
        "Small batch: ε-sharpness {:.3}, top eigenvalue {:.2}, gap {:.4}; large batch: ε-sharpness {:.3}, \
         top eigenvalue {:.2}, gap {:.4}. Both runs stop at the first epoch end with running-mean training \
         loss ≤ {TARGET_LOSS}; the losses evaluated afterwards (whole training set, evaluation mode) are \
         {:.4} and {:.4}.{}",
        sb.eps_sharpness,
        sb.top_eigenvalue,
        sb.gap,
        lb.eps_sharpness,
        lb.top_eigenvalue,
        lb.gap,
        sb.train_loss,
        lb.train_loss,
        if sb.reached_target && lb.reached_target {
            ""
        } else {
            " A run did not reach the target within its epoch budget: the minima are compared at different losses."
        }
    );
    out.record("small_batch", &sb)?;
    out.record("large_batch", &lb)?;
    out.record(
        "interpolation",
        line.iter()
            .map(|&(a, trl, tel, tra, tea)| {
                serde_json::json!({"alpha": a, "train_loss": trl, "test_loss": tel,
                                   "train_accuracy": tra, "test_accuracy": tea})
            })
            .collect::<Vec<_>>(),
    )?;
    Ok(out)
}
