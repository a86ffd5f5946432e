//! Shared by the optimization experiments (`optimizers`, `learning-rate`,
//! `schedules`): the MLP they train, and a run recorder that logs every
//! optimizer step (loss, learning rate, measured wall time) through a
//! `descent-train` [`Callback`] and pauses the run every few steps to
//! evaluate the full training set (evaluation time is left out of the wall
//! clock).

use super::lab::rng;
use anyhow::{Context, Result};
use descent_data::InMemory;
use descent_nn::{Builder, Linear, LinearConfig, ModelState, Relu, Sequential};
use descent_train::{BatchInfo, Callback, Control, Data, Error as TrainError, Stop, Trainer};
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The trainer every optimization experiment uses.
pub type Net = Trainer<f32, Sequential<f32>>;

/// An `n_in`-`hidden`-`n_out` ReLU MLP with PyTorch's default initialization,
/// drawn from `seed`.
pub fn mlp(
    seed: u64,
    n_in: usize,
    hidden: usize,
    n_out: usize,
) -> Result<(Sequential<f32>, ModelState<f32>)> {
    let mut state = ModelState::<f32>::new();
    let mut model = Sequential::new();
    let mut init = rng(seed, "mlp-init");
    let mut b = Builder::new(&mut state, &mut init);
    model
        .add(&mut b, |b| Linear::new(b, LinearConfig::new(n_in, hidden)))?
        .push(Relu)
        .add(&mut b, |b| Linear::new(b, LinearConfig::new(hidden, n_out)))?;
    Ok((model, state))
}

/// One optimizer step as the recorder saw it.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct StepRec {
    /// Steps recorded so far, this one included (monotonic, also across
    /// guard rollbacks, which replay batches).
    pub n: u64,
    /// The optimizer's step count after this step (goes back on a rollback).
    pub step: u64,
    /// The step's mini-batch loss.
    pub loss: f64,
    /// The learning rate of the step.
    pub lr: f64,
    /// Training wall time so far, in seconds (evaluations excluded).
    pub wall: f64,
}

/// The full training set's loss at one point of the run.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct EvalRec {
    pub step: u64,
    pub wall: f64,
    pub loss: f64,
}

/// When the recorder pauses a run to evaluate: at the first step at least
/// `min_gap` steps and a factor `growth` past the last evaluation (a
/// geometric grid, even on a log axis; `growth` 1 is every `min_gap`
/// steps). `min_gap` 0: only at the start and the end.
#[derive(Clone, Copy, Debug)]
pub struct EvalGrid {
    pub min_gap: u64,
    pub growth: f64,
}

impl EvalGrid {
    pub fn every(k: u64) -> Self {
        EvalGrid {
            min_gap: k,
            growth: 1.0,
        }
    }

    fn next(self, step: u64) -> u64 {
        if self.min_gap == 0 {
            return u64::MAX;
        }
        (step + self.min_gap).max((step as f64 * self.growth).ceil() as u64)
    }
}

/// Ends a run at the first evaluation at or below `loss` once at least
/// `min_step` steps were taken.
#[derive(Clone, Copy, Debug)]
pub struct Until {
    pub loss: f64,
    pub min_step: u64,
}

struct Shared {
    steps: Vec<StepRec>,
    acc: Duration,
    since: Option<Instant>,
    grid: EvalGrid,
    next_eval: u64,
    /// End the run once this much training wall time has passed.
    max_wall: Option<f64>,
    expired: bool,
}

struct Recorder(Arc<Mutex<Shared>>);

impl Callback for Recorder {
    fn on_batch_end(&mut self, info: &BatchInfo) -> Control {
        let Ok(mut s) = self.0.lock() else {
            return Control::Continue;
        };
        if !info.stepped {
            return Control::Continue;
        }
        let wall = s.acc + s.since.map(|t| t.elapsed()).unwrap_or_default();
        let n = s.steps.len() as u64 + 1;
        s.steps.push(StepRec {
            n,
            step: info.step,
            loss: info.step_loss.unwrap_or(info.loss),
            lr: info.lr,
            wall: wall.as_secs_f64(),
        });
        if s.max_wall.is_some_and(|m| wall.as_secs_f64() > m) {
            s.expired = true;
        }
        if s.expired || info.step >= s.next_eval {
            s.next_eval = s.grid.next(info.step);
            s.acc = wall;
            s.since = None;
            return Control::Stop;
        }
        Control::Continue
    }
}

/// What a recorded run produced.
pub struct Trace {
    pub steps: Vec<StepRec>,
    /// Full-training-set losses: at the start, every `eval_every` steps and
    /// at the end (empty without an evaluation set).
    pub evals: Vec<EvalRec>,
    /// The optimizer step at which the loss or a gradient became
    /// non-finite (the run ended there), if it did.
    pub diverged: Option<u64>,
    pub trainer: Net,
}

impl Trace {
    /// The last full-training-set loss, or +∞ when the run diverged.
    pub fn final_loss(&self) -> f64 {
        if self.diverged.is_some() {
            return f64::INFINITY;
        }
        self.evals.last().map_or(f64::NAN, |e| e.loss)
    }

    /// Training wall time of the whole run, in seconds.
    pub fn wall(&self) -> f64 {
        self.steps.last().map_or(0.0, |s| s.wall)
    }

    /// The first evaluation at or below `target`.
    pub fn reach(&self, target: f64) -> Option<EvalRec> {
        self.evals.iter().copied().find(|e| e.loss <= target)
    }
}

/// Trains `trainer` on `train` to its last epoch, recording every step;
/// at the steps of `grid` the run pauses and the full `eval_on` set is
/// evaluated. With `until`, the run ends at the first evaluation that
/// meets it. A non-finite
/// loss or gradient (without a guard) ends the run and is recorded in
/// [`Trace::diverged`]. With `max_wall`, the run ends after the first step
/// past that much training wall time (seconds).
pub fn record(
    trainer: Net,
    train: &InMemory<f32>,
    eval_on: &InMemory<f32>,
    grid: EvalGrid,
    max_wall: Option<f64>,
    until: Option<Until>,
) -> Result<Trace> {
    let shared = Arc::new(Mutex::new(Shared {
        steps: Vec::new(),
        acc: Duration::ZERO,
        since: None,
        grid,
        next_eval: grid.next(0),
        max_wall,
        expired: false,
    }));
    let mut trainer = trainer.with_callback(Recorder(shared.clone()));
    let mut evals = vec![EvalRec {
        step: 0,
        wall: 0.0,
        loss: trainer.evaluate(eval_on).context("evaluating")?.loss,
    }];
    let mut diverged = None;
    loop {
        lock(&shared)?.since = Some(Instant::now());
        let result = trainer.fit(Data::train(train));
        let (step, wall) = {
            let mut s = lock(&shared)?;
            if let Some(t) = s.since.take() {
                s.acc += t.elapsed();
            }
            (trainer.optimizer().steps(), s.acc.as_secs_f64())
        };
        match result {
            Ok(h) => {
                if evals.last().is_some_and(|e| e.step != step) {
                    let loss = trainer.evaluate(eval_on).context("evaluating")?.loss;
                    evals.push(EvalRec { step, wall, loss });
                }
                let met = until.is_some_and(|u| {
                    evals
                        .last()
                        .is_some_and(|e| e.step >= u.min_step && e.loss <= u.loss)
                });
                if !matches!(h.stopped, Some(Stop::Callback { .. }))
                    || met
                    || lock(&shared)?.expired
                {
                    break;
                }
            }
            Err(TrainError::NonFiniteLoss { .. } | TrainError::NonFiniteGrad { .. }) => {
                diverged = Some(step);
                break;
            }
            Err(e) => return Err(e).context("training"),
        }
    }
    let steps = std::mem::take(&mut lock(&shared)?.steps);
    Ok(Trace {
        steps,
        evals,
        diverged,
        trainer,
    })
}

fn lock(s: &Mutex<Shared>) -> Result<std::sync::MutexGuard<'_, Shared>> {
    s.lock()
        .map_err(|_| anyhow::anyhow!("the step recorder's lock was poisoned"))
}

/// At most `max` points of `points`, evenly spaced (the last one kept).
pub fn thin<T: Copy>(points: &[T], max: usize) -> Vec<T> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let stride = points.len().div_ceil(max - 1);
    let mut out: Vec<T> = points.iter().copied().step_by(stride).collect();
    if !(points.len() - 1).is_multiple_of(stride)
        && let Some(&last) = points.last()
    {
        out.push(last);
    }
    out
}

/// A loss for a table: four decimals, or "diverged".
pub fn fmt_loss(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        "diverged".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_evaluation_grid_is_geometric_with_a_minimum_gap() {
        let g = EvalGrid {
            min_gap: 2,
            growth: 1.5,
        };
        assert_eq!(g.next(0), 2);
        assert_eq!(g.next(2), 4);
        assert_eq!(g.next(10), 15);
        assert_eq!(EvalGrid::every(8).next(16), 24);
        assert_eq!(EvalGrid::every(0).next(5), u64::MAX);
    }

    #[test]
    fn thinning_keeps_the_ends_and_at_most_max_points() {
        let xs: Vec<u32> = (0..1000).collect();
        let t = thin(&xs, 100);
        assert!(t.len() <= 101, "{}", t.len());
        assert_eq!(t[0], 0);
        assert_eq!(*t.last().unwrap(), 999);
        assert_eq!(thin(&xs[..10], 100), xs[..10].to_vec());
    }
}
