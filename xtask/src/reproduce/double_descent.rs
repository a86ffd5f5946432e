//! Double descent: test error against model size rises to a peak at the
//! interpolation threshold and falls again beyond it (Belkin et al. 2019,
//! Fig. 2; Nakkiran et al. 2019).
//!
//! Part 1, random features: `p` random ReLU features `relu(W x)` (rows of
//! `W` Gaussian, fixed, nested so that larger `p` extends smaller ones) of
//! an MNIST subset of `n` images, with a fraction of the training labels
//! replaced by random ones, fitted to one-hot targets by minimum-norm least
//! squares (the pseudo-inverse, computed from nalgebra's symmetric
//! eigensolver on the `min(n, p)`-sided Gram matrix, in f64). `p` sweeps
//! from `n/10` to `10 n` through the interpolation threshold `p = n`.
//!
//! Part 2, an MLP width sweep on the same data (one hidden ReLU layer,
//! cross-entropy, Adam, a fixed budget, no regularization), trained by
//! descent-train's `Trainer`; reported whether or not it shows the peak.

use super::lab::{self, Cmp, Ctx, Experiment, Group, ImageSet, Outcome, Table, rng};
use super::plot::{Figure, Lines, Series, Style};
use anyhow::{Context, Result};
use descent_data::{Dataset, InMemory};
use descent_nn::{Builder, Linear, LinearConfig, ModelState, Relu, Sequential};
use descent_optim::AdamConfig;
use descent_train::{Data, Loss, Progress, TrainConfig, Trainer};
use nalgebra::DMatrix;
use rand::RngExt;

pub const EXPERIMENT: Experiment = Experiment {
    name: "double-descent",
    group: Group::Generalization,
    claim: "with random ReLU features and minimum-norm least squares, test error peaks within a \
            factor 2 of the interpolation threshold (features = samples) and falls again beyond it",
    source: "Belkin, Hsu, Ma & Mandal 2019 (PNAS), Fig. 2; Nakkiran et al. 2019 (Deep double descent)",
    run,
};

/// The features count at the test-error peak must lie within a factor 2
/// of the number of samples: `|log2(p_peak / n)|` at most this.
const PEAK_LOG2_DISTANCE: f64 = 1.0;
/// Test error at the largest feature count over test error at the peak
/// must be at most this (the error falls again, by at least half).
const FALL_RATIO: f64 = 0.5;

/// Fraction of training labels replaced by uniformly random classes.
const LABEL_NOISE: f64 = 0.2;
/// Feature counts, as multiples of the number of training samples.
const RATIOS_FULL: &[f64] = &[
    0.1, 0.2, 0.35, 0.5, 0.7, 0.85, 0.95, 1.0, 1.05, 1.2, 1.5, 2.0, 3.0, 5.0, 10.0,
];
const RATIOS_QUICK: &[f64] = &[0.1, 0.3, 0.6, 0.9, 1.0, 1.1, 1.5, 3.0, 10.0];
/// Hidden widths of the MLP sweep.
const WIDTHS_FULL: &[usize] = &[1, 2, 3, 4, 6, 8, 12, 16, 32, 64, 128];
const WIDTHS_QUICK: &[usize] = &[2, 4, 8, 16, 64];

/// Labels with a fraction `LABEL_NOISE` replaced by uniform classes.
fn noisy_labels(labels: &[usize], k: usize, seed: u64) -> Vec<usize> {
    let mut r = rng(seed, "label-noise");
    labels
        .iter()
        .map(|&l| {
            if r.random::<f64>() < LABEL_NOISE {
                r.random_range(0..k)
            } else {
                l
            }
        })
        .collect()
}

fn one_hot(labels: &[usize], k: usize) -> DMatrix<f64> {
    DMatrix::from_fn(labels.len(), k, |i, j| f64::from(u8::from(labels[i] == j)))
}

/// `relu(X Wᵀ)` for `X` (N × d, f32 in [0, 1]) and `W` (P × d).
fn relu_features(x: &DMatrix<f32>, w: &DMatrix<f64>) -> DMatrix<f64> {
    let x = x.map(f64::from);
    (x * w.transpose()).map(|v| v.max(0.0))
}

/// `U diag(1/λ) Uᵀ` over the eigenvalues above a relative cutoff: the
/// pseudo-inverse of a symmetric positive semi-definite matrix.
fn psd_pinv(k: DMatrix<f64>) -> DMatrix<f64> {
    let m = k.nrows();
    let eig = k.symmetric_eigen();
    let top = eig.eigenvalues.iter().cloned().fold(0.0f64, f64::max);
    let cutoff = top * m as f64 * f64::EPSILON;
    let inv = eig
        .eigenvalues
        .map(|l| if l > cutoff { 1.0 / l } else { 0.0 });
    let u = &eig.eigenvectors;
    let mut scaled = u.clone();
    for (j, mut col) in scaled.column_iter_mut().enumerate() {
        col *= inv[j];
    }
    scaled * u.transpose()
}

/// Minimum-norm least-squares predictions on the test features from the
/// first `p` features: `B pinv(A) Y`.
fn min_norm_predict(
    a_all: &DMatrix<f64>,
    b_all: &DMatrix<f64>,
    y: &DMatrix<f64>,
    p: usize,
) -> DMatrix<f64> {
    let a = a_all.columns(0, p);
    let b = b_all.columns(0, p);
    let n = a.nrows();
    if p >= n {
        // pinv(A) = Aᵀ (A Aᵀ)⁺
        let alpha = psd_pinv(a * a.transpose()) * y;
        (b * a.transpose()) * alpha
    } else {
        // pinv(A) = (Aᵀ A)⁺ Aᵀ
        let beta = psd_pinv(a.transpose() * a) * (a.transpose() * y);
        b * beta
    }
}

/// Mean squared error per sample (summed over the outputs) and the 0–1 error.
fn errors(pred: &DMatrix<f64>, labels: &[usize]) -> (f64, f64) {
    let k = pred.ncols();
    let (mut se, mut wrong) = (0.0, 0usize);
    for (i, &l) in labels.iter().enumerate() {
        let mut best = 0;
        for j in 0..k {
            let t = f64::from(u8::from(j == l));
            se += (pred[(i, j)] - t).powi(2);
            if pred[(i, j)] > pred[(i, best)] {
                best = j;
            }
        }
        wrong += usize::from(best != l);
    }
    let n = labels.len() as f64;
    (se / n, wrong as f64 / n)
}

struct RfPoint {
    p: usize,
    train_mse: f64,
    test_mse: f64,
    test_err: f64,
}

struct MlpPoint {
    width: usize,
    params: usize,
    train_err: f64,
    test_err: f64,
    test_loss: f64,
}

fn run(ctx: &Ctx) -> Result<Outcome> {
    let (n, n_test) = ctx.pick((500, 1000), (200, 500));
    let images = lab::images(ctx, ImageSet::Mnist, n, n_test)?;
    let (train, test) = (&images.train, &images.test);
    let n = train.len();
    let k = train
        .schema()
        .n_classes()
        .context("MNIST and digits are labelled")?;
    let clean = train.class_labels().context("class labels")?.to_vec();
    let noisy = noisy_labels(&clean, k, ctx.seed);
    let test_labels = test.class_labels().context("class labels")?.to_vec();
    let ratios = ctx.pick(RATIOS_FULL, RATIOS_QUICK);
    let widths = ctx.pick(WIDTHS_FULL, WIDTHS_QUICK);
    ctx.steps((ratios.len() + widths.len()) as u64);

    // -- random features + minimum-norm least squares --
    let d = train.features().ncols();
    let p_max = (ratios.last().copied().unwrap_or(1.0) * n as f64).round() as usize;
    ctx.stage(format!("random ReLU features: {p_max} × {d}"));
    let mut wr = rng(ctx.seed, "random-features");
    let scale = 1.0 / (d as f64).sqrt();
    let w = DMatrix::from_fn(p_max, d, |_, _| {
        // Box–Muller: a standard normal from two uniforms.
        let (u1, u2): (f64, f64) = (1.0 - wr.random::<f64>(), wr.random());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos() * scale
    });
    let a_all = relu_features(train.features(), &w);
    let b_all = relu_features(test.features(), &w);
    let y = one_hot(&noisy, k);
    let mut rf = Vec::new();
    for &ratio in ratios {
        let p = ((ratio * n as f64).round() as usize).clamp(1, p_max);
        ctx.stage(format!("min-norm least squares, p = {p}"));
        let train_pred = min_norm_predict(&a_all, &a_all, &y, p);
        let test_pred = min_norm_predict(&a_all, &b_all, &y, p);
        let (train_mse, _) = errors(&train_pred, &noisy);
        let (test_mse, test_err) = errors(&test_pred, &test_labels);
        rf.push(RfPoint {
            p,
            train_mse,
            test_mse,
            test_err,
        });
        ctx.tick();
    }
    let peak = rf
        .iter()
        .max_by(|a, b| a.test_mse.total_cmp(&b.test_mse))
        .context("at least one feature count")?;
    let last = rf.last().context("at least one feature count")?;
    let peak_distance = (peak.p as f64 / n as f64).log2().abs();
    let fall = last.test_mse / peak.test_mse;

    // -- MLP width sweep --
    let noisy_train = InMemory::classification(train.features().clone(), noisy.clone(), k)?;
    let epochs = ctx.pick(150u64, 60);
    let batch_size = ctx.pick(50, 50);
    let lr = 3e-3;
    let mut mlp = Vec::new();
    for &h in widths {
        ctx.stage(format!("MLP width {h}: {epochs} epochs"));
        let mut state = ModelState::<f32>::new();
        let mut model = Sequential::new();
        {
            let mut init = rng(ctx.seed, &format!("mlp-init-{h}"));
            let mut b = Builder::new(&mut state, &mut init);
            model
                .add(&mut b, |b| Linear::new(b, LinearConfig::new(d, h)))?
                .push(Relu)
                .add(&mut b, |b| Linear::new(b, LinearConfig::new(h, k)))?;
        }
        let params = state.params.numel();
        let opt = AdamConfig {
            lr,
            ..AdamConfig::default()
        }
        .build(&state.params)?;
        let config = TrainConfig {
            epochs,
            batch_size,
            seed: ctx.seed,
            top_k: 0,
            eval_batch_size: 1000,
            progress: Progress::Quiet,
            ..TrainConfig::default()
        };
        let mut trainer = Trainer::new(model, state, opt, Loss::cross_entropy(), config)?;
        trainer.fit(Data::train(&noisy_train))?;
        let tr = trainer.evaluate(&noisy_train)?;
        let te = trainer.evaluate(test)?;
        mlp.push(MlpPoint {
            width: h,
            params,
            train_err: 1.0 - tr.accuracy.context("classification")?,
            test_err: 1.0 - te.accuracy.context("classification")?,
            test_loss: te.loss,
        });
        ctx.tick();
    }
    let mlp_peak = mlp
        .iter()
        .max_by(|a, b| a.test_err.total_cmp(&b.test_err))
        .context("at least one width")?;

    let mut out = Outcome {
        setup: format!(
            "**Random features**: {n} training images with {:.0}% of their labels replaced by uniformly random \
             classes (as both papers do), {} clean test images; `p` random ReLU features `relu(Wx)` with \
             `W` Gaussian (variance 1/{d}), nested across `p`, swept over {} values from {:.0} to {p_max} \
             (= {}·n … {}·n); one-hot targets fitted by the minimum-norm least-squares solution `pinv(Φ) Y` \
             (pseudo-inverse from nalgebra's symmetric eigensolver on the `min(n, p)`-sided Gram matrix, \
             relative cutoff `m·ε`, f64). Test error is the squared error per image (summed over the 10 \
             outputs), the 0–1 error is reported alongside.\n\n\
             **MLP width sweep**: the same noisy training set, MLP {d}-h-{k} with ReLU (PyTorch default init), \
             cross-entropy, Adam (lr {lr}), batch {batch_size}, {epochs} epochs, no regularization, f32, \
             trained by descent-train's `Trainer`, for h in {widths:?}. The interpolation threshold of an MLP \
             is near `params ≈ n·K` = {}.",
            LABEL_NOISE * 100.0,
            test.len(),
            ratios.len(),
            ratios[0] * n as f64,
            ratios[0],
            ratios.last().copied().unwrap_or(1.0),
            n * k,
        ),
        data: images.source.clone(),
        ..Outcome::default()
    };
    out.claim(
        "rf_peak_near_threshold",
        "|log2(p at the test-error peak / n)| (random features)",
        peak_distance,
        Cmp::AtMost,
        PEAK_LOG2_DISTANCE,
    )
    .claim(
        "rf_falls_beyond",
        "test error at the largest p / test error at the peak (random features)",
        fall,
        Cmp::AtMost,
        FALL_RATIO,
    );
    out.metric("rf peak p / n", peak.p as f64 / n as f64)
        .metric("rf peak test squared error", peak.test_mse)
        .metric("rf test squared error at largest p", last.test_mse)
        .metric("rf test 0-1 error at peak", peak.test_err)
        .metric("rf test 0-1 error at largest p", last.test_err)
        .metric("mlp width at test-error peak", mlp_peak.width as f64)
        .metric(
            "mlp test error, widest",
            mlp.last().map_or(f64::NAN, |m| m.test_err),
        );

    let mut t = Table::new(
        "Random ReLU features, minimum-norm least squares",
        &[
            "features p",
            "p / n",
            "train squared error",
            "test squared error",
            "test 0–1 error",
        ],
    );
    for r in &rf {
        t.row(vec![
            r.p.to_string(),
            format!("{:.2}", r.p as f64 / n as f64),
            format!("{:.4}", r.train_mse),
            format!("{:.4}", r.test_mse),
            format!("{:.3}", r.test_err),
        ]);
    }
    out.tables.push(t);
    let mut t = Table::new(
        "MLP width sweep (cross-entropy, Adam, noisy labels)",
        &[
            "width h",
            "parameters",
            "train 0–1 error (noisy labels)",
            "test 0–1 error",
            "test cross-entropy",
        ],
    );
    for m in &mlp {
        t.row(vec![
            m.width.to_string(),
            m.params.to_string(),
            format!("{:.3}", m.train_err),
            format!("{:.3}", m.test_err),
            format!("{:.3}", m.test_loss),
        ]);
    }
    out.tables.push(t);

    let pts = |f: fn(&RfPoint) -> f64| rf.iter().map(|r| (r.p as f64, f(r))).collect::<Vec<_>>();
    out.figures.push(
        Figure::new(
            "random_features",
            "Random-features test error peaks at the interpolation threshold p = n, then falls",
        )
        .panel(
            Lines::new(
                "squared error",
                "random features p",
                "squared error per image",
            )
            .log_x()
            .log_y()
            .series(Series::line("test", pts(|r| r.test_mse)).styled(Style::LinePoints))
            .series(
                Series::line("train (noisy labels)", pts(|r| r.train_mse.max(1e-6)))
                    .styled(Style::Dashed),
            )
            .vline(n as f64, "p = n"),
        )
        .panel(
            Lines::new("0–1 error", "random features p", "test 0–1 error")
                .log_x()
                .series(Series::line("test", pts(|r| r.test_err)).styled(Style::LinePoints))
                .vline(n as f64, "p = n"),
        ),
    );
    let mp = |f: fn(&MlpPoint) -> f64| {
        mlp.iter()
            .map(|m| (m.params as f64, f(m)))
            .collect::<Vec<_>>()
    };
    out.figures.push(
        Figure::new(
            "mlp_width",
            "MLP width sweep on the same data: test error against parameters",
        )
        .panel(
            Lines::new("0–1 error", "parameters", "0–1 error")
                .log_x()
                .series(Series::line("test", mp(|m| m.test_err)).styled(Style::LinePoints))
                .series(
                    Series::line("train (noisy labels)", mp(|m| m.train_err)).styled(Style::Dashed),
                )
                .vline((n * k) as f64, "params = n·K"),
        )
        .panel(
            Lines::new("test cross-entropy", "parameters", "cross-entropy")
                .log_x()
                .series(Series::line("test", mp(|m| m.test_loss)).styled(Style::LinePoints))
                .vline((n * k) as f64, "params = n·K"),
        ),
    );
    out.notes = format!(
        "Random features: the test error peaks at p = {} (p/n = {:.2}) and falls to {:.3}× the peak at p = {}. \
         MLP sweep: the worst test 0–1 error is at width {} ({} parameters, n·K = {}); {}",
        peak.p,
        peak.p as f64 / n as f64,
        fall,
        last.p,
        mlp_peak.width,
        mlp_peak.params,
        n * k,
        if mlp_peak.width == widths[0] {
            "the sweep shows no peak beyond the smallest model: test error mostly falls with width under this budget."
        } else {
            "read the figure for whether it is a peak or the noise of a small sweep."
        }
    );
    out.record("n_train", n)?;
    out.record(
        "random_features",
        rf.iter()
            .map(|r| {
                serde_json::json!({"p": r.p, "train_mse": r.train_mse, "test_mse": r.test_mse, "test_error": r.test_err})
            })
            .collect::<Vec<_>>(),
    )?;
    out.record(
        "mlp",
        mlp.iter()
            .map(|m| {
                serde_json::json!({"width": m.width, "params": m.params, "train_error": m.train_err, "test_error": m.test_err, "test_loss": m.test_loss})
            })
            .collect::<Vec<_>>(),
    )?;
    Ok(out)
}
