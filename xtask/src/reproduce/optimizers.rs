//! The optimizers of the course side by side: GD, SGD (batch 1),
//! mini-batch SGD, SGD with momentum, Nesterov, AdaGrad, RMSProp, Adam and
//! AdamW.
//!
//! (a) On three 2-D surfaces the library's optimizers (descent-optim's
//! public `Optimizer`, over a one-tensor `ParamStore` holding (x, y), fed
//! the analytic gradient) draw their trajectories over contour plots:
//! Rosenbrock's valley; a saddle `x²/2 + y⁴/4 − y²/2` started next to the
//! saddle point, where plain GD stalls and momentum and Adam leave it; and
//! a tilted double well `(x² − 1)² + x + y²` whose shallow right-hand
//! minimum plain GD settles in while heavy-ball momentum (same rate) rolls
//! through into the deeper left-hand one. "SGD" on a surface is GD fed the
//! gradient plus Gaussian noise drawn from the seed.
//!
//! (b) The same optimizers train one MLP through descent-train's `Trainer`
//! on MNIST (the digits when MNIST is absent); a step recorder
//! (`optim_common`) measures the wall time of every step and pauses the
//! run every few steps to evaluate the full training loss, so the curves
//! are drawn against steps and against real training time.

use super::lab::{self, Cmp, Ctx, Experiment, Group, ImageSet, Outcome, Table, rng};
use super::optim_common::{EvalGrid, Trace, Until, fmt_loss, mlp, record, thin};
use super::plot::{Contour, Figure, Lines, Series, Style};
use anyhow::{Context, Result};
use descent_core::{ParamStore, Scalar, Tags};
use descent_data::Dataset;
use descent_optim::{
    AdagradConfig, AdamConfig, AdamWConfig, Optimizer, RmsPropConfig, SgdConfig, WeightDecay,
};
use descent_train::{Loss, Progress, TrainConfig, Trainer};
use nalgebra::DMatrix;
use rand::RngExt;
use serde_json::json;

pub const EXPERIMENT: Experiment = Experiment {
    name: "optimizers",
    group: Group::Optimization,
    claim: "momentum escapes the shallow local minimum plain GD stays in; mini-batch SGD reaches \
            full-batch GD's training loss in less wall time; Adam reaches a given loss in fewer \
            steps than plain SGD on an MLP",
    source: "the course's optimizer comparison (Ruder 2016, 'An overview of gradient descent \
             optimization algorithms'; Kingma & Ba 2015, Fig. 2: MLP on MNIST)",
    run,
};

/// Final f of heavy-ball momentum minus final f of GD on the tilted double
/// well must be below this: the two minima differ by 1.98, so −1 means
/// momentum ended in the deeper basin and GD in the shallow one.
const MOMENTUM_ESCAPE_GAP: f64 = -1.0;
/// Wall time mini-batch SGD needs to reach GD's final training loss, over
/// GD's whole training time, must be below this ("less wall time").
const MINIBATCH_TIME_RATIO: f64 = 1.0;
/// Optimizer steps Adam needs to reach [`ADAM_TARGET_LOSS`] over the steps
/// plain mini-batch SGD needs must be below this ("fewer steps").
const ADAM_STEP_RATIO: f64 = 1.0;
/// The "given loss" (mean cross-entropy on the full training set).
const ADAM_TARGET_LOSS: f64 = 0.5;
/// Counted for mini-batch SGD's time ratio when it never reaches GD's loss.
const NOT_REACHED_RATIO: f64 = 10.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Gd,
    Sgd,
    MiniBatch,
    Momentum,
    Nesterov,
    AdaGrad,
    RmsProp,
    Adam,
    AdamW,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Gd => "GD",
            Kind::Sgd => "SGD (batch 1)",
            Kind::MiniBatch => "mini-batch SGD",
            Kind::Momentum => "momentum 0.9",
            Kind::Nesterov => "Nesterov 0.9",
            Kind::AdaGrad => "AdaGrad",
            Kind::RmsProp => "RMSProp",
            Kind::Adam => "Adam",
            Kind::AdamW => "AdamW",
        }
    }

    /// The optimizer, from descent-optim's PyTorch-named configs.
    fn build<S: Scalar>(self, params: &descent_core::Params<S>, lr: f64) -> Result<Optimizer<S>> {
        let sgd = |momentum: f64, nesterov: bool| SgdConfig {
            lr,
            momentum,
            nesterov,
            ..SgdConfig::default()
        };
        let opt = match self {
            Kind::Gd | Kind::Sgd | Kind::MiniBatch => sgd(0.0, false).build(params),
            Kind::Momentum => sgd(0.9, false).build(params),
            Kind::Nesterov => sgd(0.9, true).build(params),
            Kind::AdaGrad => AdagradConfig {
                lr,
                ..AdagradConfig::default()
            }
            .build(params),
            Kind::RmsProp => RmsPropConfig {
                lr,
                ..RmsPropConfig::default()
            }
            .build(params),
            Kind::Adam => AdamConfig {
                lr,
                ..AdamConfig::default()
            }
            .build(params),
            Kind::AdamW => AdamWConfig {
                lr,
                weight_decay: WeightDecay::Decoupled(0.01),
                ..AdamWConfig::default()
            }
            .build(params),
        };
        opt.with_context(|| format!("building {}", self.name()))
    }
}

// ---------------------------------------------------------------- surfaces

struct Surface {
    key: &'static str,
    title: &'static str,
    f: fn(f64, f64) -> f64,
    grad: fn(f64, f64) -> (f64, f64),
    start: (f64, f64),
    /// Half-width of the seeded uniform jitter of the start, per axis.
    jitter: (f64, f64),
    x_range: (f64, f64),
    y_range: (f64, f64),
    steps: usize,
    log_levels: bool,
    /// SGD's gradient noise (standard deviation per coordinate).
    noise: f64,
    /// (kind, learning rate) of each trajectory.
    runs: &'static [(Kind, f64)],
    minima: &'static [(&'static str, (f64, f64))],
}

fn rosenbrock(x: f64, y: f64) -> f64 {
    (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
}
fn rosenbrock_grad(x: f64, y: f64) -> (f64, f64) {
    (
        -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
        200.0 * (y - x * x),
    )
}
fn saddle(x: f64, y: f64) -> f64 {
    0.5 * x * x + 0.25 * y.powi(4) - 0.5 * y * y
}
fn saddle_grad(x: f64, y: f64) -> (f64, f64) {
    (x, y.powi(3) - y)
}
fn double_well(x: f64, y: f64) -> f64 {
    (x * x - 1.0).powi(2) + x + y * y
}
fn double_well_grad(x: f64, y: f64) -> (f64, f64) {
    (4.0 * x * (x * x - 1.0) + 1.0, 2.0 * y)
}

const SURFACES: [Surface; 3] = [
    Surface {
        key: "rosenbrock",
        title: "Rosenbrock (1−x)² + 100(y−x²)²",
        f: rosenbrock,
        grad: rosenbrock_grad,
        start: (-1.5, 2.0),
        jitter: (0.1, 0.1),
        x_range: (-2.0, 2.0),
        y_range: (-1.0, 3.6),
        steps: 3000,
        log_levels: true,
        noise: 20.0,
        runs: &[
            (Kind::Gd, 5e-4),
            (Kind::Sgd, 5e-4),
            (Kind::Momentum, 5e-4),
            (Kind::Nesterov, 5e-4),
            (Kind::AdaGrad, 0.5),
            (Kind::RmsProp, 0.01),
            (Kind::Adam, 0.05),
            (Kind::AdamW, 0.05),
        ],
        minima: &[("min (1, 1)", (1.0, 1.0))],
    },
    Surface {
        key: "saddle",
        title: "saddle x²/2 + y⁴/4 − y²/2 (start next to it)",
        f: saddle,
        grad: saddle_grad,
        start: (1.5, 2e-4),
        jitter: (0.05, 1e-4),
        x_range: (-1.6, 1.6),
        y_range: (-1.5, 2.0),
        steps: 150,
        log_levels: false,
        noise: 0.3,
        runs: &[
            (Kind::Gd, 0.05),
            (Kind::Sgd, 0.05),
            (Kind::Momentum, 0.05),
            (Kind::Nesterov, 0.05),
            (Kind::AdaGrad, 0.3),
            (Kind::RmsProp, 0.02),
            (Kind::Adam, 0.05),
            (Kind::AdamW, 0.05),
        ],
        minima: &[("saddle", (0.0, 0.0))],
    },
    Surface {
        key: "double_well",
        title: "shallow local minimum: (x²−1)² + x + y²",
        f: double_well,
        grad: double_well_grad,
        start: (1.8, 1.0),
        jitter: (0.1, 0.1),
        x_range: (-2.0, 2.2),
        y_range: (-1.5, 2.2),
        steps: 400,
        log_levels: false,
        noise: 1.0,
        runs: &[
            (Kind::Gd, 0.01),
            (Kind::Sgd, 0.01),
            (Kind::Momentum, 0.01),
            (Kind::Nesterov, 0.01),
            (Kind::AdaGrad, 0.3),
            (Kind::RmsProp, 0.01),
            (Kind::Adam, 0.05),
            (Kind::AdamW, 0.05),
        ],
        minima: &[
            ("local (0.84, 0)", (0.838, 0.0)),
            ("global (−1.11, 0)", (-1.107, 0.0)),
        ],
    },
];

/// One trajectory: the path (start included) and f along it.
struct Path {
    lr: f64,
    points: Vec<(f64, f64)>,
    values: Vec<f64>,
}

/// Runs `kind` on the surface with descent-optim: the point (x, y) is one
/// 1 × 2 parameter whose gradient is written before each `step`.
fn descend(ctx: &Ctx, s: &Surface, start: (f64, f64), kind: Kind, lr: f64) -> Result<Path> {
    let mut store = ParamStore::<f64>::new();
    let id = store.register(
        "xy",
        Tags::WEIGHT,
        DMatrix::from_row_slice(1, 2, &[start.0, start.1]),
    )?;
    let mut opt = kind.build(&store, lr)?;
    let mut noise = rng(ctx.seed, &format!("surface-noise-{}", s.key));
    let mut points = vec![start];
    let mut values = vec![(s.f)(start.0, start.1)];
    for _ in 0..s.steps {
        let (x, y) = points[points.len() - 1];
        let (mut gx, mut gy) = (s.grad)(x, y);
        if kind == Kind::Sgd {
            gx += s.noise * gaussian(&mut noise);
            gy += s.noise * gaussian(&mut noise);
        }
        let g = store.grad_mut(id);
        g[0] = gx;
        g[1] = gy;
        opt.step(&mut store)
            .with_context(|| format!("{} step on {}", kind.name(), s.key))?;
        let v = store.value(id);
        let p = (v[0], v[1]);
        points.push(p);
        values.push((s.f)(p.0, p.1));
        if !(p.0.is_finite() && p.1.is_finite()) {
            break;
        }
    }
    Ok(Path { lr, points, values })
}

/// A standard normal draw (Box–Muller).
fn gaussian(r: &mut rand_chacha::ChaCha8Rng) -> f64 {
    let u: f64 = r.random_range(f64::EPSILON..1.0);
    let v: f64 = r.random_range(0.0..1.0);
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

// --------------------------------------------------------------------- MLP

#[derive(Clone, Copy)]
enum Batch {
    Full,
    One,
    Mini(usize),
}

struct MlpRun {
    kind: Kind,
    lr: f64,
    batch: Batch,
}

const MLP_RUNS: [MlpRun; 9] = [
    MlpRun {
        kind: Kind::Gd,
        lr: 0.5,
        batch: Batch::Full,
    },
    MlpRun {
        kind: Kind::Sgd,
        lr: 0.01,
        batch: Batch::One,
    },
    MlpRun {
        kind: Kind::MiniBatch,
        lr: 0.1,
        batch: Batch::Mini(32),
    },
    MlpRun {
        kind: Kind::Momentum,
        lr: 0.01,
        batch: Batch::Mini(32),
    },
    MlpRun {
        kind: Kind::Nesterov,
        lr: 0.01,
        batch: Batch::Mini(32),
    },
    MlpRun {
        kind: Kind::AdaGrad,
        lr: 0.05,
        batch: Batch::Mini(32),
    },
    MlpRun {
        kind: Kind::RmsProp,
        lr: 1e-3,
        batch: Batch::Mini(32),
    },
    MlpRun {
        kind: Kind::Adam,
        lr: 1e-3,
        batch: Batch::Mini(32),
    },
    MlpRun {
        kind: Kind::AdamW,
        lr: 1e-3,
        batch: Batch::Mini(32),
    },
];

const HIDDEN: usize = 64;

fn run(ctx: &Ctx) -> Result<Outcome> {
    let mut out = Outcome::default();
    ctx.steps((SURFACES.len() * 8 + MLP_RUNS.len()) as u64);

    // (a) surfaces
    let mut contours = Vec::new();
    let mut f_panels = Vec::new();
    let mut surface_table = Table::new(
        "2-D surfaces: final position and value of each optimizer",
        &[
            "surface",
            "optimizer",
            "lr",
            "steps",
            "final (x, y)",
            "final f",
        ],
    );
    let mut surface_numbers = serde_json::Map::new();
    let mut well_final = (f64::NAN, f64::NAN);
    for s in &SURFACES {
        ctx.stage(format!("surface {}", s.key));
        let mut jr = rng(ctx.seed, &format!("surface-start-{}", s.key));
        let start = (
            s.start.0 + jr.random_range(-s.jitter.0..=s.jitter.0),
            s.start.1 + jr.random_range(-s.jitter.1..=s.jitter.1),
        );
        let mut contour = Contour::sample(s.title, s.x_range, s.y_range, 120, s.f);
        contour.log_levels = s.log_levels;
        contour.points = s
            .minima
            .iter()
            .map(|(l, p)| ((*l).to_owned(), *p))
            .collect();
        let mut lines = Lines::new(format!("{}: f along the path", s.key), "step", "f(x, y)");
        if s.log_levels {
            lines = lines.log_y();
        }
        let mut recs = Vec::new();
        for &(kind, lr) in s.runs {
            let p = descend(ctx, s, start, kind, lr)?;
            ctx.tick();
            let last = p.points[p.points.len() - 1];
            let fin = p.values[p.values.len() - 1];
            surface_table.row(vec![
                s.key.into(),
                kind.name().into(),
                format!("{lr}"),
                (p.points.len() - 1).to_string(),
                format!("({:.3}, {:.3})", last.0, last.1),
                format!("{fin:.4}"),
            ]);
            if s.key == "double_well" {
                match kind {
                    Kind::Gd => well_final.0 = fin,
                    Kind::Momentum => well_final.1 = fin,
                    _ => {}
                }
            }
            let label = format!("{} (lr {})", kind.name(), p.lr);
            contour
                .paths
                .push(Series::line(label.clone(), thin(&p.points, 600)));
            let ys: Vec<(f64, f64)> = p
                .values
                .iter()
                .enumerate()
                .map(|(i, &v)| (i as f64, v))
                .collect();
            lines = lines.series(Series::line(label, thin(&ys, 600)));
            recs.push(json!({"optimizer": kind.name(), "lr": lr, "path": p.points, "f": p.values}));
        }
        surface_numbers.insert(s.key.into(), json!({"start": start, "runs": recs}));
        contours.push(contour);
        f_panels.push(lines);
    }
    let mut fig = Figure::new(
        "surfaces",
        "Optimizers on 2-D surfaces: momentum escapes the shallow minimum GD stays in; GD stalls at the saddle",
    );
    for c in contours {
        fig = fig.panel(c);
    }
    out.figures.push(fig);
    let mut fig = Figure::new("surface_values", "f along each optimizer's path");
    for l in f_panels {
        fig = fig.panel(l);
    }
    out.figures.push(fig);
    out.tables.push(surface_table);
    out.record("surfaces", surface_numbers)?;

    // (b) MLP
    let (n_train, n_test) = ctx.pick((4096, 1000), (2048, 500));
    let images = lab::images(ctx, ImageSet::Mnist, n_train, n_test)?;
    let (train, test) = (&images.train, &images.test);
    let n_in = train.features().ncols();
    let n = train.len();
    let (gd_steps, mini_epochs, one_epochs) = ctx.pick((100u64, 10u64, 2u64), (60, 8, 1));
    let mut traces: Vec<(Kind, f64, usize, Trace)> = Vec::new();
    for r in &MLP_RUNS {
        // Mini-batch SGD gets GD's budget of sample gradients (one epoch per
        // GD step), ended once it has reached GD's final loss (after at
        // least the others' budget) or trained twice as long as GD did.
        let (epochs_here, max_wall, until) = match (r.kind, traces.first()) {
            (Kind::MiniBatch, Some(gd)) => (
                gd_steps,
                Some(2.0 * gd.3.wall()),
                Some(Until {
                    loss: gd.3.final_loss(),
                    min_step: mini_epochs * n.div_ceil(32) as u64,
                }),
            ),
            _ => (mini_epochs, None, None),
        };
        let (batch, epochs, grid) = match r.batch {
            Batch::Full => (
                n,
                gd_steps,
                EvalGrid {
                    min_gap: 1,
                    growth: 1.1,
                },
            ),
            Batch::One => (
                1,
                one_epochs,
                EvalGrid {
                    min_gap: 16,
                    growth: 1.15,
                },
            ),
            Batch::Mini(b) => (
                b,
                epochs_here,
                EvalGrid {
                    min_gap: 1,
                    growth: 1.06,
                },
            ),
        };
        ctx.stage(format!(
            "MLP: {} ({epochs} epochs of batch {batch})",
            r.kind.name()
        ));
        let (model, state) = mlp(ctx.seed, n_in, HIDDEN, 10)?;
        let opt = r.kind.build(&state.params, r.lr)?;
        let config = TrainConfig {
            epochs,
            batch_size: batch,
            shuffle: true,
            seed: ctx.seed,
            top_k: 0,
            progress: Progress::Quiet,
            ..TrainConfig::default()
        };
        let trainer = Trainer::new(model, state, opt, Loss::cross_entropy(), config)?;
        let trace = record(trainer, train, train, grid, max_wall, until)
            .with_context(|| format!("training with {}", r.kind.name()))?;
        traces.push((r.kind, r.lr, batch, trace));
        ctx.tick();
    }
    let find = |k: Kind| {
        traces
            .iter()
            .find(|t| t.0 == k)
            .map(|t| &t.3)
            .context("every optimizer ran")
    };
    let gd = find(Kind::Gd)?;
    let mb = find(Kind::MiniBatch)?;
    let adam = find(Kind::Adam)?;
    let gd_loss = gd.final_loss();
    let gd_time = gd.wall();
    let mb_reach = mb.reach(gd_loss);
    let time_ratio = match mb_reach {
        Some(e) if gd_time > 0.0 => e.wall / gd_time,
        _ => NOT_REACHED_RATIO,
    };
    let budget = mb.steps.last().map_or(0, |s| s.step) + 1;
    let sgd_steps = mb.reach(ADAM_TARGET_LOSS).map_or(budget, |e| e.step);
    let adam_steps = adam.reach(ADAM_TARGET_LOSS).map_or(budget, |e| e.step);
    let step_ratio = adam_steps as f64 / sgd_steps.max(1) as f64;

    // figures and table
    let mut by_step = Lines::new(
        "training loss against optimizer steps",
        "optimizer step",
        "full training-set cross-entropy",
    )
    .log_x()
    .log_y()
    .hline(ADAM_TARGET_LOSS, format!("given loss {ADAM_TARGET_LOSS}"));
    let mut by_time = Lines::new(
        "training loss against wall time",
        "training wall time, s",
        "full training-set cross-entropy",
    )
    .log_x()
    .log_y()
    .hline(gd_loss, format!("GD's final loss {gd_loss:.3}"));
    let mut table = Table::new(
        "MLP: each optimizer's run",
        &[
            "optimizer",
            "lr",
            "batch",
            "steps",
            "wall time (s)",
            "final training loss",
            "test accuracy",
            &format!("steps to loss {ADAM_TARGET_LOSS}"),
            "time to GD's final loss (s)",
        ],
    );
    let mut mlp_numbers = Vec::new();
    for (kind, lr, batch, t) in traces.iter_mut() {
        let style = if *kind == Kind::Gd || *kind == Kind::MiniBatch || *kind == Kind::Adam {
            Style::LinePoints
        } else {
            Style::Line
        };
        let name = format!("{} (lr {lr}, batch {batch})", kind.name());
        by_step = by_step.series(
            Series::line(
                name.clone(),
                t.evals.iter().map(|e| (e.step as f64, e.loss)).collect(),
            )
            .styled(style),
        );
        by_time = by_time.series(
            Series::line(name, t.evals.iter().map(|e| (e.wall, e.loss)).collect()).styled(style),
        );
        let acc = t
            .trainer
            .evaluate(test)?
            .accuracy
            .context("images are labelled")?;
        let steps = t.steps.last().map_or(0, |s| s.step);
        table.row(vec![
            kind.name().into(),
            format!("{lr}"),
            batch.to_string(),
            steps.to_string(),
            format!("{:.3}", t.wall()),
            fmt_loss(t.final_loss()),
            format!("{acc:.3}"),
            t.reach(ADAM_TARGET_LOSS)
                .map_or("not reached".into(), |e| e.step.to_string()),
            t.reach(gd_loss)
                .map_or("not reached".into(), |e| format!("{:.3}", e.wall)),
        ]);
        out.metric(
            format!("{} final training loss", kind.name()),
            t.final_loss(),
        );
        out.metric(format!("{} test accuracy", kind.name()), acc);
        mlp_numbers.push(json!({
            "optimizer": kind.name(), "lr": lr, "batch": batch, "test_accuracy": acc,
            "evals": t.evals, "wall_s": t.wall(),
            "step_losses": thin(&t.steps.iter().map(|s| (s.step, s.loss, s.wall)).collect::<Vec<_>>(), 2000),
        }));
    }
    out.figures.push(
        Figure::new(
            "mlp",
            "MLP: mini-batch SGD reaches GD's loss in less wall time; Adam reaches the given loss in fewer steps",
        )
        .panel(by_step)
        .panel(by_time),
    );
    out.tables.push(table);
    out.record("mlp", mlp_numbers)?;

    out.claim(
        "momentum_escapes",
        "final f of momentum − final f of GD on the tilted double well (same lr 0.01, same start)",
        well_final.1 - well_final.0,
        Cmp::Below,
        MOMENTUM_ESCAPE_GAP,
    )
    .claim(
        "minibatch_less_time",
        "wall time of mini-batch SGD to reach GD's final training loss / GD's training time (10 if never)",
        time_ratio,
        Cmp::Below,
        MINIBATCH_TIME_RATIO,
    )
    .claim(
        "adam_fewer_steps",
        "steps Adam needs to reach training loss 0.5 / steps plain mini-batch SGD needs (budget + 1 if never)",
        step_ratio,
        Cmp::Below,
        ADAM_STEP_RATIO,
    );
    out.metric("GD final training loss", gd_loss)
        .metric("GD wall time (s)", gd_time)
        .metric("mini-batch time ratio", time_ratio)
        .metric("Adam steps to target", adam_steps as f64)
        .metric("SGD steps to target", sgd_steps as f64);
    out.record(
        "claims_inputs",
        json!({
            "double_well_final_f": {"gd": well_final.0, "momentum": well_final.1},
            "gd_final_loss": gd_loss, "gd_wall_s": gd_time,
            "minibatch_reach": mb_reach, "adam_steps": adam_steps, "sgd_steps": sgd_steps,
        }),
    )?;
    out.data = images.source.clone();
    out.setup = format!(
        "**(a) 2-D surfaces** (descent-optim over a 1 × 2 parameter, analytic gradients, f64): \
         Rosenbrock from (−1.5, 2) for 3000 steps; the saddle x²/2 + y⁴/4 − y²/2 from (1.5, 2·10⁻⁴) \
         for 150 steps; the tilted double well (x² − 1)² + x + y² from (1.8, 1) for 400 steps; each \
         start jittered uniformly from the seed. Learning rates per surface are in the table (GD, SGD, \
         momentum and Nesterov share one; SGD adds N(0, σ²) gradient noise). \
         **(b) MLP** {n_in}-{HIDDEN}-10 ReLU, PyTorch default init, cross-entropy, f32, \
         descent-train `Trainer`: GD = full batch of {n} for {gd_steps} steps; SGD batch 1 for {one_epochs} epoch(s) (lr 0.01); \
         mini-batch SGD batch 32 for up to {gd_steps} epochs (GD's budget of sample gradients), ended at the first evaluation at or below GD's final loss after at least {mini_epochs} epochs, or once it has trained twice GD's wall time; the others batch 32 for {mini_epochs} epochs (rates in the table, PyTorch defaults otherwise; \
         AdamW decoupled decay 0.01). Wall time is measured per step by a callback; the full \
         training loss is evaluated on a geometric grid of steps (each ≥ 6% past the last; 10% for GD, 15% for batch 1) with the clock paused. Thresholds: momentum − GD \
         final f < {MOMENTUM_ESCAPE_GAP}; time ratio < {MINIBATCH_TIME_RATIO}; step ratio < \
         {ADAM_STEP_RATIO} at loss {ADAM_TARGET_LOSS}."
    );
    out.notes = "Changed after the first quick run: the mini-batch optimizers ran only 4 epochs, so \
                 neither mini-batch SGD nor Adam reached the losses the claims compare (a setup \
                 that could not test them); they now run longer, and mini-batch SGD gets GD's budget of sample gradients, cut at twice GD's wall time (thresholds unchanged). \
                 Wall times are measured on whatever machine runs the report, so the time ratio \
                 depends on its load; GD's per-step cost is the whole training set, mini-batch \
                 SGD's is 32 samples. The step ratio uses the evaluation grid (6% apart), so steps are \
                 rounded up to it and two optimizers within 6% tie (ratio 1: not fewer)."
        .into();
    Ok(out)
}
