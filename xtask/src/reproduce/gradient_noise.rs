//! The noise of a mini-batch gradient falls as one over the batch size.
//!
//! On a fixed model (softmax regression on images, first trained for one
//! epoch by `Trainer`, then frozen) the mini-batch gradient `g_B` (batch
//! drawn without replacement) is an unbiased estimate of the full gradient
//! `g`, with `E‖g_B − g‖² = C/|B| · (N − |B|)/(N − 1)`, where
//! `C = (1/N) Σᵢ ‖gᵢ − g‖²` is the variance of one sample's gradient. So the
//! SGD step `α g_B` has noise at most `α²/|B| · C` (the bound without the
//! finite-population factor, which is ≤ 1). The experiment measures `C`
//! exactly from the N per-sample gradients and `E‖g_B − g‖²` by Monte Carlo
//! over random batches (every gradient from the `descent-autodiff` tape
//! through the model's `forward`), for |B| = 1 … 256, with α = 1 (the
//! gradient itself; the step only scales it by α²).

use super::lab::{self, Cmp, Ctx, Experiment, Group, ImageSet, Outcome, Table, rng};
use super::plot::{Figure, Lines, Series, Style};
use anyhow::{Context, Result};
use descent_autodiff::{CrossEntropyConfig, Tape};
use descent_data::{Dataset, InMemory};
use descent_nn::{
    Builder, Ctx as NnCtx, Linear, LinearConfig, Mode, ModelState, Module, Sequential,
};
use descent_optim::SgdConfig;
use descent_train::{Data, Loss, Progress, TrainConfig, Trainer};
use nalgebra::DMatrix;

pub const EXPERIMENT: Experiment = Experiment {
    name: "gradient-noise",
    group: Group::Optimization,
    claim: "the variance of the mini-batch gradient around the full gradient falls as C/|B| \
            (log-log slope −1 within 0.1) and stays under the bound α²/|B|·C (α = 1) at every batch size",
    source: "the course's SGD noise bound α²/|B|·C; the finite-population correction of sampling \
             without replacement (N − |B|)/(N − 1)",
    run,
};

/// |log-log slope of the measured variance against |B| + 1| must be at most this.
const SLOPE_TOLERANCE: f64 = 0.1;
/// max over |B| of measured variance / (C/|B|) must be at most this: the
/// bound is 1, plus 5% for the Monte Carlo error of the measurement
/// (~1–3% standard error with the draws below).
const BOUND_RATIO: f64 = 1.05;

/// Batch sizes measured.
const BATCHES: [usize; 9] = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/// The flattened gradient of the mean cross-entropy over `rows` of `x`.
fn gradient(
    tape: &mut Tape<f32>,
    model: &Sequential<f32>,
    state: &mut ModelState<f32>,
    x: &DMatrix<f32>,
    labels: &[usize],
    rows: &[usize],
    out: &mut Vec<f64>,
) {
    // Evaluation mode draws no random numbers; `NnCtx` only requires an RNG.
    let mut unused_rng = rng(0, "eval");
    let xb = x.select_rows(rows);
    let yb: Vec<usize> = rows.iter().map(|&i| labels[i]).collect();
    tape.reset();
    state.params.zero_grad();
    let loss = {
        let mut ctx = NnCtx::new(tape, state, Mode::Eval, &mut unused_rng);
        let logits = model.forward(&mut ctx, tape.constant(&xb));
        logits.cross_entropy(&yb, &CrossEntropyConfig::default())
    };
    tape.backward(loss, &mut state.params);
    out.clear();
    for (_, g) in state.params.grads().iter() {
        out.extend(g.iter().map(|&v| f64::from(v)));
    }
}

fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn run(ctx: &Ctx) -> Result<Outcome> {
    let n_train = ctx.pick(2000, 1000);
    let images = lab::images(ctx, ImageSet::Mnist, n_train, 100)?;
    let train: &InMemory<f32> = &images.train;
    let n = train.len();
    let x = train.features().clone();
    let labels = train
        .class_labels()
        .context("images are labelled")?
        .to_vec();
    let n_in = train.schema().n_features;

    // The fixed model: softmax regression after one epoch of SGD.
    let mut state = ModelState::<f32>::new();
    let mut model = Sequential::new();
    {
        let mut init = rng(ctx.seed, "init");
        let mut b = Builder::new(&mut state, &mut init);
        model.add(&mut b, |b| Linear::new(b, LinearConfig::new(n_in, 10)))?;
    }
    let opt = SgdConfig {
        lr: 0.1,
        ..SgdConfig::default()
    }
    .build(&state.params)?;
    let config = TrainConfig {
        epochs: 1,
        batch_size: 32,
        seed: ctx.seed,
        top_k: 0,
        progress: Progress::Quiet,
        ..TrainConfig::default()
    };
    ctx.steps(n as u64 + BATCHES.len() as u64);
    ctx.stage("one epoch of SGD to fix the model");
    let mut trainer = Trainer::new(model, state, opt, Loss::cross_entropy(), config)?;
    trainer.fit(Data::train(train))?;
    let (model, mut state, _) = trainer.into_parts();

    // The full gradient and C from the N per-sample gradients.
    ctx.stage(format!("{n} per-sample gradients"));
    let mut tape = Tape::new();
    let all: Vec<usize> = (0..n).collect();
    let mut full = Vec::new();
    gradient(&mut tape, &model, &mut state, &x, &labels, &all, &mut full);
    let mut gi = Vec::new();
    let mut c = 0.0;
    for i in 0..n {
        gradient(&mut tape, &model, &mut state, &x, &labels, &[i], &mut gi);
        c += dist2(&gi, &full);
        ctx.tick();
    }
    c /= n as f64;

    // E‖g_B − g‖² by Monte Carlo: about `samples` sample-gradients per size.
    let samples = ctx.pick(16_384usize, 4_096);
    let min_draws = ctx.pick(256usize, 64);
    let mut draw_rng = rng(ctx.seed, "batches");
    let mut measured = Vec::new();
    let mut std_err = Vec::new();
    let mut draws_used = Vec::new();
    let mut gb = Vec::new();
    for &b in &BATCHES {
        let b = b.min(n);
        let draws = (samples / b).max(min_draws);
        ctx.stage(format!("|B| = {b}: {draws} batches"));
        let (mut s1, mut s2) = (0.0, 0.0);
        for _ in 0..draws {
            let rows = rand::seq::index::sample(&mut draw_rng, n, b).into_vec();
            gradient(&mut tape, &model, &mut state, &x, &labels, &rows, &mut gb);
            let d = dist2(&gb, &full);
            s1 += d;
            s2 += d * d;
        }
        let mean = s1 / draws as f64;
        let var = (s2 / draws as f64 - mean * mean).max(0.0);
        measured.push(mean);
        std_err.push((var / draws as f64).sqrt());
        draws_used.push(draws);
        ctx.tick();
    }

    let bs: Vec<f64> = BATCHES.iter().map(|&b| b.min(n) as f64).collect();
    let bound: Vec<f64> = bs.iter().map(|b| c / b).collect();
    let law: Vec<f64> = bs
        .iter()
        .map(|b| c / b * (n as f64 - b) / (n as f64 - 1.0))
        .collect();
    // Least-squares slope of log10(measured) against log10(|B|).
    let lx: Vec<f64> = bs.iter().map(|b| b.log10()).collect();
    let ly: Vec<f64> = measured.iter().map(|m| m.log10()).collect();
    let k = lx.len() as f64;
    let (mx, my) = (lx.iter().sum::<f64>() / k, ly.iter().sum::<f64>() / k);
    let slope = lx
        .iter()
        .zip(&ly)
        .map(|(a, b)| (a - mx) * (b - my))
        .sum::<f64>()
        / lx.iter().map(|a| (a - mx).powi(2)).sum::<f64>();
    let ratios: Vec<f64> = measured.iter().zip(&bound).map(|(m, b)| m / b).collect();
    let max_ratio = ratios.iter().copied().fold(f64::NAN, f64::max);
    let law_dev = measured
        .iter()
        .zip(&law)
        .map(|(m, l)| (m / l - 1.0).abs())
        .fold(0.0, f64::max);

    let mut out = Outcome {
        setup: format!(
            "Softmax regression ({n_in} → 10, {} parameters) trained for one epoch of SGD (lr 0.1, batches of 32) \
             by descent-train's `Trainer`, then frozen. Full gradient g of the mean cross-entropy over the N = {n} \
             training images; C = (1/N) Σ‖gᵢ − g‖² from all N per-sample gradients. For each |B| in {:?}, batches \
             drawn uniformly without replacement ({samples} sample-gradients per size, at least {min_draws} batches), \
             E‖g_B − g‖² estimated by the mean over the batches. Bound: C/|B| (the α²/|B|·C bound with α = 1); \
             law: C/|B|·(N − |B|)/(N − 1). Gradients in f32 from the tape, accumulated in f64.",
            n_in * 10 + 10,
            BATCHES
        ),
        data: images.source.clone(),
        ..Outcome::default()
    };
    out.claim(
        "slope",
        "|log-log slope of E‖g_B − g‖² against |B|, plus 1|",
        (slope + 1.0).abs(),
        Cmp::AtMost,
        SLOPE_TOLERANCE,
    )
    .claim(
        "bound",
        "max over |B| of measured E‖g_B − g‖² / (C/|B|)",
        max_ratio,
        Cmp::AtMost,
        BOUND_RATIO,
    );
    out.metric("log-log slope", slope)
        .metric("C", c)
        .metric("max measured / bound", max_ratio)
        .metric("max |measured / law − 1|", law_dev);

    let mut table = Table::new(
        "Mini-batch gradient variance",
        &[
            "|B|",
            "batches drawn",
            "measured E‖g_B − g‖²",
            "± s.e.",
            "law C/|B|·(N−|B|)/(N−1)",
            "bound C/|B|",
            "measured / bound",
        ],
    );
    for i in 0..bs.len() {
        table.row(vec![
            format!("{}", bs[i]),
            draws_used[i].to_string(),
            format!("{:.4e}", measured[i]),
            format!("{:.1e}", std_err[i]),
            format!("{:.4e}", law[i]),
            format!("{:.4e}", bound[i]),
            format!("{:.3}", ratios[i]),
        ]);
    }
    out.tables.push(table);

    let pts = |v: &[f64]| {
        bs.iter()
            .copied()
            .zip(v.iter().copied())
            .collect::<Vec<_>>()
    };
    out.figures.push(
        Figure::new(
            "gradient_noise",
            "Mini-batch gradient variance falls as C/|B| and stays under the bound",
        )
        .panel(
            Lines::new(
                format!("E‖g_B − g‖² (fitted slope {slope:.3})"),
                "batch size |B|",
                "E‖g_B − g‖²",
            )
            .log_x()
            .log_y()
            .series(Series::line("measured", pts(&measured)).styled(Style::Points))
            .series(Series::line("law C/|B|·(N−|B|)/(N−1)", pts(&law)))
            .series(Series::line("bound C/|B|", pts(&bound)).styled(Style::Dashed)),
        )
        .panel(
            Lines::new(
                "measured / bound",
                "batch size |B|",
                "E‖g_B − g‖² / (C/|B|)",
            )
            .log_x()
            .series(Series::line("measured / bound", pts(&ratios)).styled(Style::LinePoints))
            .series(Series::line(
                "(N−|B|)/(N−1)",
                pts(&law
                    .iter()
                    .zip(&bound)
                    .map(|(l, b)| l / b)
                    .collect::<Vec<_>>()),
            ))
            .hline(
                BOUND_RATIO,
                "claim threshold (bound + 5% Monte Carlo allowance)",
            ),
        ),
    );
    out.notes = format!(
        "The measured variance follows the law with the finite-population factor (largest relative deviation \
         {:.1}%), so it falls slightly faster than 1/|B| as |B| approaches N = {n}.",
        100.0 * law_dev
    );
    out.record("batch_sizes", &bs)?;
    out.record("measured", &measured)?;
    out.record("std_err", &std_err)?;
    out.record("law", &law)?;
    out.record("bound", &bound)?;
    out.record("c", c)?;
    out.record("slope", slope)?;
    Ok(out)
}
