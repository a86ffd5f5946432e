//! The optimizer determines which minimizer you converge to.
//!
//! Over-parameterized linear least squares (more weights than samples) has
//! a whole affine space of interpolating solutions. Gradient descent started
//! from zero only ever moves within the row space of `X`, so it converges to
//! the one of minimum norm, `X⁺y`; Adam's per-coordinate scaling leaves the
//! row space from its first step and lands on a different interpolating
//! solution. Both are run through `descent-optim` (`Sgd` without momentum,
//! `Adam` under a cosine schedule) on gradients from the `descent-autodiff`
//! tape, in f64; the min-norm solution is computed in closed form.

use super::lab::{Cmp, Ctx, Experiment, Group, Outcome, Table, rng};
use super::plot::{Figure, Lines, Series};
use anyhow::{Context, Result};
use descent_autodiff::{Reduction, Tape};
use descent_core::{ParamStore, Tags};
use descent_nn::Init;
use descent_optim::{AdamConfig, Optimizer, SgdConfig};
use descent_schedule::CosineAnnealingLr;
use nalgebra::DMatrix;

pub const EXPERIMENT: Experiment = Experiment {
    name: "implicit-bias",
    group: Group::Optimization,
    claim: "on over-parameterized least squares, gradient descent from zero converges to the \
            minimum-norm solution (distance below 1e-4 of its norm) while Adam reaches a different \
            interpolating solution (distance above 1e-1 of its norm)",
    source: "Gunasekar et al. 2018, \"Characterizing implicit bias in terms of optimization geometry\"; \
             Wilson et al. 2017, \"The marginal value of adaptive gradient methods\"",
    run,
};

/// GD's distance to the min-norm solution over that solution's norm must be below this.
const GD_DISTANCE: f64 = 1e-4;
/// Adam's distance to the min-norm solution over that solution's norm must be above this.
const ADAM_DISTANCE: f64 = 1e-1;

/// Samples and weights: n < d.
const N: usize = 40;
const D: usize = 200;
const N_TEST: usize = 1000;
/// Label noise (standard deviation).
const NOISE: f64 = 0.1;
/// Adam's peak learning rate (cosine-annealed to 0).
const ADAM_LR: f64 = 0.01;

/// Gaussian matrix N(0, std²) from `rng`.
fn normal(
    rows: usize,
    cols: usize,
    std: f64,
    rng: &mut rand_chacha::ChaCha8Rng,
) -> Result<DMatrix<f64>> {
    Ok(Init::Normal { mean: 0.0, std }.sample::<f64>(&[rows, cols], rng)?)
}

/// One trajectory: per-step training loss and distance to `w_min`.
struct Path {
    loss: Vec<f64>,
    distance: Vec<f64>,
    w: DMatrix<f64>,
}

/// Runs `steps` steps of `opt` from w = 0 on ½-free mean squared error.
fn descend(
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
    w_min: &DMatrix<f64>,
    steps: u64,
    build: impl FnOnce(&ParamStore<f64>) -> Result<Optimizer<f64>>,
) -> Result<Path> {
    let mut store = ParamStore::<f64>::new();
    let w = store.register("w", Tags::WEIGHT, DMatrix::zeros(x.ncols(), 1))?;
    let mut opt = build(&store)?;
    let mut tape = Tape::new();
    let norm_min = w_min.norm();
    let (mut loss, mut distance) = (Vec::new(), Vec::new());
    for _ in 0..steps {
        tape.reset();
        store.zero_grad();
        let pred = tape.constant(x).matmul(tape.param(store.params(), w));
        let l = pred.mse_loss(tape.constant(y), Reduction::Mean);
        tape.backward(l, &mut store);
        loss.push(l.item());
        distance.push((store.value(w) - w_min).norm() / norm_min);
        opt.step(&mut store)?;
    }
    Ok(Path {
        loss,
        distance,
        w: store.value(w).clone(),
    })
}

fn run(ctx: &Ctx) -> Result<Outcome> {
    let mut r = rng(ctx.seed, "least-squares");
    let x = normal(N, D, 1.0, &mut r)?;
    let w_star = normal(D, 1, 1.0 / (D as f64).sqrt(), &mut r)?;
    let y = &x * &w_star + normal(N, 1, NOISE, &mut r)?;
    let x_test = normal(N_TEST, D, 1.0, &mut r)?;
    let y_test = &x_test * &w_star + normal(N_TEST, 1, NOISE, &mut r)?;

    // The min-norm interpolant X⁺y = Xᵀ(XXᵀ)⁻¹y (XXᵀ is invertible: n < d, Gaussian X).
    let gram = &x * x.transpose();
    let chol = gram
        .clone()
        .cholesky()
        .context("X Xᵀ is not positive definite")?;
    let w_min = x.transpose() * chol.solve(&y);
    // Step 1/L for the mean squared error, whose Hessian is (2/n) XᵀX.
    let eig = gram.symmetric_eigen();
    let lambda_max = eig.eigenvalues.max() * 2.0 / N as f64;
    let lambda_min = eig.eigenvalues.min() * 2.0 / N as f64;
    let gd_lr = 1.0 / lambda_max;

    let (gd_steps, adam_steps) = ctx.pick((2000u64, 5000u64), (600, 2000));
    ctx.steps(2);
    ctx.stage(format!("gradient descent, {gd_steps} steps"));
    let gd = descend(&x, &y, &w_min, gd_steps, |s| {
        Ok(SgdConfig {
            lr: gd_lr,
            ..SgdConfig::default()
        }
        .build(s.params())?)
    })?;
    ctx.tick();
    ctx.stage(format!("Adam, {adam_steps} steps"));
    let adam = descend(&x, &y, &w_min, adam_steps, |s| {
        let mut opt = AdamConfig {
            lr: ADAM_LR,
            ..AdamConfig::default()
        }
        .build(s.params())?;
        opt.set_lr_schedule(CosineAnnealingLr::new(ADAM_LR, adam_steps, 0.0)?);
        Ok(opt)
    })?;
    ctx.tick();

    let mse = |w: &DMatrix<f64>, x: &DMatrix<f64>, y: &DMatrix<f64>| {
        (x * w - y).norm_squared() / y.len() as f64
    };
    let gd_distance = (&gd.w - &w_min).norm() / w_min.norm();
    let adam_distance = (&adam.w - &w_min).norm() / w_min.norm();
    let start_loss = y.norm_squared() / N as f64;

    let mut out = Outcome {
        setup: format!(
            "Linear least squares with n = {N} samples and d = {D} weights: X has N(0, 1) entries, \
             y = X w* + N(0, {NOISE}²) noise with w* ~ N(0, 1/d); test set of {N_TEST} samples drawn the same way. \
             Loss: mean squared error, gradients from the descent-autodiff tape, f64, w = 0 at the start. \
             Gradient descent: `Sgd` without momentum, lr 1/L = {gd_lr:.4} (L the largest Hessian eigenvalue), \
             {gd_steps} steps. Adam: `Adam` (β = 0.9, 0.999, ε = 1e-8), lr {ADAM_LR} cosine-annealed to 0 over \
             {adam_steps} steps. The minimum-norm solution X⁺y = Xᵀ(XXᵀ)⁻¹y is computed by Cholesky."
        ),
        data: "synthetic Gaussian least squares drawn from the seed".into(),
        ..Outcome::default()
    };
    out.claim(
        "gd_min_norm",
        "GD: ‖w − X⁺y‖ / ‖X⁺y‖",
        gd_distance,
        Cmp::Below,
        GD_DISTANCE,
    )
    .claim(
        "adam_elsewhere",
        "Adam: ‖w − X⁺y‖ / ‖X⁺y‖",
        adam_distance,
        Cmp::Above,
        ADAM_DISTANCE,
    );
    let gd_train = mse(&gd.w, &x, &y);
    let adam_train = mse(&adam.w, &x, &y);
    out.metric("GD distance / norm", gd_distance)
        .metric("Adam distance / norm", adam_distance)
        .metric("GD final training loss / start", gd_train / start_loss)
        .metric("Adam final training loss / start", adam_train / start_loss);

    let mut table = Table::new(
        "The three interpolating solutions",
        &[
            "solution",
            "‖w − X⁺y‖ / ‖X⁺y‖",
            "‖w‖",
            "training MSE",
            "test MSE",
        ],
    );
    for (name, w) in [
        ("min-norm X⁺y", &w_min),
        ("gradient descent", &gd.w),
        ("Adam", &adam.w),
    ] {
        table.row(vec![
            name.into(),
            format!("{:.3e}", (w - &w_min).norm() / w_min.norm()),
            format!("{:.4}", w.norm()),
            format!("{:.3e}", mse(w, &x, &y)),
            format!("{:.4}", mse(w, &x_test, &y_test)),
        ]);
    }
    table.row(vec![
        "w* (the truth)".into(),
        format!("{:.3e}", (&w_star - &w_min).norm() / w_min.norm()),
        format!("{:.4}", w_star.norm()),
        format!("{:.3e}", mse(&w_star, &x, &y)),
        format!("{:.4}", mse(&w_star, &x_test, &y_test)),
    ]);
    out.tables.push(table);

    out.figures.push(
        Figure::new(
            "implicit_bias",
            "GD from zero converges to the min-norm solution, Adam to another interpolant",
        )
        .panel(
            Lines::new(
                "distance to the minimum-norm solution",
                "step",
                "‖w − X⁺y‖ / ‖X⁺y‖",
            )
            .log_y()
            .series(Series::indexed("gradient descent", &gd.distance))
            .series(Series::indexed("Adam", &adam.distance))
            .hline(GD_DISTANCE, "GD threshold 1e-4")
            .hline(ADAM_DISTANCE, "Adam threshold 1e-1"),
        )
        .panel(
            Lines::new("training loss", "step", "mean squared error")
                .log_y()
                .series(Series::indexed("gradient descent", &gd.loss))
                .series(Series::indexed("Adam", &adam.loss)),
        ),
    );
    out.notes = format!(
        "Hessian eigenvalues (non-zero part) between {lambda_min:.3} and {lambda_max:.3}: GD's error in the \
         row space shrinks by at least 1 − λmin/λmax = {:.3} per step, and its component outside the row \
         space stays exactly zero. Final training MSE: GD {gd_train:.2e}, Adam {adam_train:.2e} (start {start_loss:.3}).",
        1.0 - lambda_min / lambda_max
    );
    out.record("gd_distance", &gd.distance)?;
    out.record("adam_distance", &adam.distance)?;
    out.record("gd_loss", &gd.loss)?;
    out.record("adam_loss", &adam.loss)?;
    out.record("gd_norm", gd.w.norm())?;
    out.record("adam_norm", adam.w.norm())?;
    out.record("min_norm_norm", w_min.norm())?;
    out.record("gd_test_mse", mse(&gd.w, &x_test, &y_test))?;
    out.record("adam_test_mse", mse(&adam.w, &x_test, &y_test))?;
    out.record("min_norm_test_mse", mse(&w_min, &x_test, &y_test))?;
    Ok(out)
}
