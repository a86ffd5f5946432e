//! One run of the playground: a [`RunConfig`] as a descent [`Trainer`] on
//! the session's data, trained one epoch per call, and what the page is
//! shown of it ([`RunSnapshot`]).
//!
//! The numbers a snapshot carries are the trainer's own: the losses and
//! accuracies of [`Trainer::fit`]'s history (the test points are the
//! trainer's validation set, which early stopping watches), the learning
//! rate it reports, and the model's outputs in evaluation mode over the
//! plane for the decision boundary.

use crate::config::{Activation, LIMITS, OptimKind, RunConfig, ScheduleKind};
use crate::data::{PlayData, VIEW};
use crate::{Error, Result};
use descent_autodiff::Tape;
use descent_core::Tags;
use descent_nn::{
    BatchNorm1d, BatchNormConfig, Builder, Ctx, Dropout, Elu, GaussianNoise, Gelu, LeakyRelu,
    Linear, LinearConfig, Mode, ModelState, Module, Relu, Sequential, Sigmoid, Tanh,
};
use descent_optim::transform::NormType;
use descent_optim::{
    AdadeltaConfig, AdagradConfig, AdamConfig, AdamWConfig, AdamaxConfig, LionConfig, NAdamConfig,
    Optimizer, RAdamConfig, RmsPropConfig, SgdConfig, WeightDecay,
};
use descent_regularize::{EarlyStoppingConfig, L1, L2};
use descent_schedule::{CosineAnnealingLr, StepLr, WarmupCosine};
use descent_train::seed::{self, Purpose};
use descent_train::{
    BatchInfo, Callback, Clip, Control, Data, EpochMetrics, Loss, Monitor, Progress, Stop,
    TrainConfig, Trainer,
};
use nalgebra::DMatrix;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The trainer of a run.
pub type Net = Trainer<f32, Sequential<f32>>;

/// Points a run's loss curve keeps at most (older epochs are thinned).
pub const MAX_CURVE: usize = 1000;

/// The network of `config` for `n_classes` classes, initialized from
/// `seed` (PyTorch's default initialization, drawn from
/// `seed::rng(seed, Purpose::Init)`).
pub fn network(
    config: &RunConfig,
    n_classes: usize,
    seed: u64,
) -> Result<(Sequential<f32>, ModelState<f32>)> {
    let net = &config.net;
    let mut state = ModelState::new();
    let mut model = Sequential::new();
    {
        let mut rng = seed::rng(seed, Purpose::Init);
        let mut b = Builder::new(&mut state, &mut rng);
        let mut prev = 2;
        for &w in &net.hidden {
            model.add(&mut b, |b| Linear::new(b, LinearConfig::new(prev, w)))?;
            if net.batch_norm {
                model.add(&mut b, |b| BatchNorm1d::new(b, BatchNormConfig::new(w)))?;
            }
            match net.activation {
                Activation::Relu => model.push(Relu),
                Activation::Tanh => model.push(Tanh),
                Activation::Sigmoid => model.push(Sigmoid),
                Activation::LeakyRelu => model.push(LeakyRelu::default()),
                Activation::Elu => model.push(Elu::default()),
                Activation::Gelu => model.push(Gelu),
                Activation::Linear => &mut model,
            };
            if net.gaussian_noise > 0.0 {
                model.push(GaussianNoise::new(net.gaussian_noise)?);
            }
            if net.dropout > 0.0 {
                model.push(Dropout::new(net.dropout)?);
            }
            prev = w;
        }
        model.add(&mut b, |b| {
            Linear::new(b, LinearConfig::new(prev, n_classes))
        })?;
    }
    Ok((model, state))
}

/// The optimizer of `config` over `state`'s parameters, with its schedule
/// (in optimizer steps: `steps_per_epoch` per epoch).
pub fn optimizer(
    config: &RunConfig,
    state: &ModelState<f32>,
    steps_per_epoch: u64,
) -> Result<Optimizer<f32>> {
    let o = &config.optim;
    let lr = o.lr;
    let wd = if config.train.weight_decay > 0.0 {
        WeightDecay::Decoupled(config.train.weight_decay)
    } else {
        WeightDecay::None
    };
    let p = &state.params;
    let sgd = |momentum: f64, nesterov: bool| {
        SgdConfig {
            lr,
            momentum,
            nesterov,
            weight_decay: wd,
            ..SgdConfig::default()
        }
        .build(p)
    };
    let mut opt = match o.kind {
        OptimKind::Gd | OptimKind::Sgd => sgd(0.0, false)?,
        OptimKind::Momentum => sgd(o.momentum, false)?,
        OptimKind::Nesterov => sgd(o.momentum, true)?,
        OptimKind::Adagrad => AdagradConfig {
            lr,
            weight_decay: wd,
            ..AdagradConfig::default()
        }
        .build(p)?,
        OptimKind::Rmsprop => RmsPropConfig {
            lr,
            momentum: o.momentum,
            weight_decay: wd,
            ..RmsPropConfig::default()
        }
        .build(p)?,
        OptimKind::Adam => AdamConfig {
            lr,
            weight_decay: wd,
            ..AdamConfig::default()
        }
        .build(p)?,
        OptimKind::Adamw => AdamWConfig {
            lr,
            weight_decay: wd,
            ..AdamWConfig::default()
        }
        .build(p)?,
        OptimKind::Nadam => NAdamConfig {
            lr,
            weight_decay: wd,
            ..NAdamConfig::default()
        }
        .build(p)?,
        OptimKind::Radam => RAdamConfig {
            lr,
            weight_decay: wd,
            ..RAdamConfig::default()
        }
        .build(p)?,
        OptimKind::Adamax => AdamaxConfig {
            lr,
            weight_decay: wd,
            ..AdamaxConfig::default()
        }
        .build(p)?,
        OptimKind::Adadelta => AdadeltaConfig {
            lr,
            weight_decay: wd,
            ..AdadeltaConfig::default()
        }
        .build(p)?,
        OptimKind::Lion => LionConfig {
            lr,
            weight_decay: wd,
            ..LionConfig::default()
        }
        .build(p)?,
    };
    let spe = steps_per_epoch.max(1);
    match o.schedule {
        ScheduleKind::Constant => {}
        ScheduleKind::Step => opt.set_lr_schedule(StepLr::new(lr, o.step_epochs * spe, o.gamma)?),
        ScheduleKind::Cosine => {
            opt.set_lr_schedule(CosineAnnealingLr::new(lr, o.schedule_epochs * spe, 0.0)?)
        }
        ScheduleKind::WarmupCosine => opt.set_lr_schedule(WarmupCosine::new(
            lr,
            o.warmup_epochs * spe,
            o.schedule_epochs * spe,
        )?),
    }
    Ok(opt)
}

/// The [`TrainConfig`] of a run on `n_train` training points.
///
/// With batch norm, a last batch of one sample is dropped (PyTorch's
/// `drop_last=True`): batch statistics need two samples.
pub fn train_config(config: &RunConfig, n_train: usize, seed: u64) -> TrainConfig {
    let t = &config.train;
    let batch_size = config.batch_size(n_train);
    TrainConfig {
        epochs: t.max_epochs,
        batch_size,
        shuffle: true,
        drop_last: config.net.batch_norm && batch_size > 1 && n_train % batch_size == 1,
        seed,
        top_k: 0,
        clip: (t.clip_norm > 0.0).then_some(Clip::Norm {
            max_norm: t.clip_norm,
            norm_type: NormType::L2,
        }),
        progress: Progress::Quiet,
        ..TrainConfig::default()
    }
}

/// The whole trainer of `config` on `data`: network, optimizer and
/// schedule, L1/L2 penalties, clipping, early stopping.
pub fn trainer(config: &RunConfig, data: &PlayData, seed: u64) -> Result<Net> {
    let n_train = data.train_len();
    let tc = train_config(config, n_train, seed);
    let steps_per_epoch = n_train.div_ceil(tc.batch_size) as u64;
    let (model, state) = network(config, data.n_classes, seed)?;
    let opt = optimizer(config, &state, steps_per_epoch)?;
    let mut t = Trainer::new(model, state, opt, Loss::cross_entropy(), tc)?;
    if config.train.l1 > 0.0 {
        t = t.with_penalty(L1::new(config.train.l1)?);
    }
    if config.train.l2 > 0.0 {
        t = t.with_penalty(L2::new(config.train.l2)?);
    }
    if config.train.early_stopping > 0 {
        t = t.with_early_stopping(
            Monitor::new("val_loss"),
            EarlyStoppingConfig {
                patience: config.train.early_stopping,
                restore_best: true,
                ..EarlyStoppingConfig::default()
            },
        )?;
    }
    Ok(t)
}

/// Ends each `fit` call after one epoch, and the run's current batch when
/// the session ends.
struct Pacer {
    cancel: Arc<AtomicBool>,
}

impl Callback for Pacer {
    fn on_batch_end(&mut self, _: &BatchInfo) -> Control {
        if self.cancel.load(Ordering::Relaxed) {
            Control::Stop
        } else {
            Control::Continue
        }
    }

    fn on_epoch_end(&mut self, _: &EpochMetrics) -> Control {
        Control::Stop
    }
}

/// A run's loss curve, thinned to at most [`MAX_CURVE`] points: epochs
/// that are multiples of `stride`, which doubles when the curve is full.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Curve {
    /// The epochs kept (0 is before training).
    pub epoch: Vec<u64>,
    /// Mean training loss (the trainer's running mean over the epoch's batches; at 0, evaluated).
    pub train_loss: Vec<f64>,
    /// Test loss (evaluation mode).
    pub test_loss: Vec<f64>,
    /// Learning rate of the epoch's last step.
    pub lr: Vec<f64>,
    /// L2 norm of all weights (not biases, not normalization parameters).
    pub weight_norm: Vec<f64>,
    /// Only epochs that are multiples of this are kept.
    pub stride: u64,
}

impl Curve {
    fn push(&mut self, epoch: u64, train: f64, test: f64, lr: f64, norm: f64) {
        if self.stride == 0 {
            self.stride = 1;
        }
        if !epoch.is_multiple_of(self.stride) {
            return;
        }
        self.epoch.push(epoch);
        self.train_loss.push(train);
        self.test_loss.push(test);
        self.lr.push(lr);
        self.weight_norm.push(norm);
        if self.epoch.len() > MAX_CURVE {
            self.stride *= 2;
            let keep: Vec<bool> = self.epoch.iter().map(|e| e % self.stride == 0).collect();
            let thin = |v: &mut Vec<f64>| {
                let mut k = keep.iter();
                v.retain(|_| *k.next().unwrap_or(&false));
            };
            thin(&mut self.train_loss);
            thin(&mut self.test_loss);
            thin(&mut self.lr);
            thin(&mut self.weight_norm);
            let stride = self.stride;
            self.epoch.retain(|e| e % stride == 0);
        }
    }
}

/// What the page is shown of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSnapshot {
    /// The run's label.
    pub label: String,
    /// Epochs completed.
    pub epoch: u64,
    /// Optimizer steps taken.
    pub step: u64,
    /// The last epoch's training loss (before training: evaluated).
    pub train_loss: f64,
    /// The last epoch's test loss.
    pub test_loss: f64,
    /// Training accuracy.
    pub train_accuracy: f64,
    /// Test accuracy.
    pub test_accuracy: f64,
    /// The learning rate of the last step (before training: the first step's).
    pub lr: f64,
    /// L2 norm of all weights.
    pub weight_norm: f64,
    /// Mean gradient norm over the last epoch's steps.
    pub grad_norm: f64,
    /// Why the run ended, when it has (last epoch, early stopping, a failure).
    pub ended: Option<String>,
    /// The loss curves.
    pub curve: Curve,
    /// The predicted class at each cell of the `grid × grid` plane, row by
    /// row from the top (`y = VIEW`) left (`x = -VIEW`).
    pub grid_class: Vec<u8>,
    /// The predicted class's probability at each cell, scaled to 0 ..= 255.
    pub grid_confidence: Vec<u8>,
}

/// A run: its trainer, the session's data and what has been measured.
pub struct Run {
    label: String,
    trainer: Net,
    data: Arc<PlayData>,
    grid: Arc<DMatrix<f32>>,
    curve: Curve,
    last: Option<EpochMetrics>,
    start: (f64, f64, f64, f64),
    ended: Option<String>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("label", &self.label)
            .field("trainer", &self.trainer)
            .field("ended", &self.ended)
            .finish()
    }
}

/// The centres of the `n × n` cells of `[-VIEW, VIEW]²`, row by row from the top left.
pub fn grid_points(n: usize) -> DMatrix<f32> {
    let cell = 2.0 * VIEW / n as f32;
    DMatrix::from_fn(n * n, 2, |i, c| {
        let (row, col) = (i / n, i % n);
        if c == 0 {
            -VIEW + (col as f32 + 0.5) * cell
        } else {
            VIEW - (row as f32 + 0.5) * cell
        }
    })
}

impl Run {
    /// Builds the run and evaluates its untrained network (epoch 0 of the curves).
    /// `cancel` set ends a running epoch at its next batch.
    pub fn new(
        config: &RunConfig,
        data: Arc<PlayData>,
        grid: Arc<DMatrix<f32>>,
        seed: u64,
        cancel: Arc<AtomicBool>,
    ) -> Result<Self> {
        let mut trainer = trainer(config, &data, seed)?.with_callback(Pacer { cancel });
        let train = trainer.evaluate(&data.train)?;
        let test = trainer.evaluate(&data.test)?;
        let lr = trainer.optimizer().lr();
        let norm = weight_norm(trainer.state());
        let mut curve = Curve::default();
        curve.push(0, train.loss, test.loss, lr, norm);
        Ok(Run {
            label: config.label.clone(),
            trainer,
            data,
            grid,
            curve,
            last: None,
            start: (
                train.accuracy.unwrap_or(f64::NAN),
                test.accuracy.unwrap_or(f64::NAN),
                train.loss,
                test.loss,
            ),
            ended: None,
        })
    }

    /// Whether the run has ended.
    pub fn ended(&self) -> bool {
        self.ended.is_some()
    }

    /// The trainer.
    pub fn trainer(&self) -> &Net {
        &self.trainer
    }

    /// Trains one epoch (nothing once the run has ended) and returns its
    /// metrics. A failure of the trainer (a non-finite loss, say) ends the
    /// run with the error's message and is returned.
    pub fn epoch(&mut self) -> Result<Option<EpochMetrics>> {
        if self.ended.is_some() {
            return Ok(None);
        }
        let before = self.trainer.history().epochs.len();
        let data = Data::train(&self.data.train).with_validation(&self.data.test);
        let result = self.trainer.fit(data);
        let history = match result {
            Ok(h) => h,
            Err(e) => {
                self.ended = Some(format!(
                    "stopped: {e} (try a lower learning rate or gradient clipping)"
                ));
                return Err(e.into());
            }
        };
        let new = history.epochs.len() > before;
        let max = self.trainer.config().epochs;
        if matches!(history.stopped, Some(Stop::EarlyStopping { .. })) {
            if let Some(Stop::EarlyStopping { epoch, best_epoch }) = history.stopped {
                self.ended = Some(match best_epoch {
                    Some(b) => format!(
                        "early stopping at epoch {}: the test loss stopped improving; the weights of epoch {} are restored",
                        epoch + 1,
                        b + 1
                    ),
                    None => format!("early stopping at epoch {}", epoch + 1),
                });
            }
        } else if self.trainer.position().0 >= max {
            // The callback stopped the last epoch's `fit` before it could
            // close the run: one more call ends it (and restores the best
            // weights under early stopping).
            self.trainer.fit(data)?;
            self.ended = Some(format!("finished its {max} epochs"));
        }
        if !new {
            return Ok(None);
        }
        let m = history.epochs.last().cloned();
        if let Some(m) = &m {
            let test = m.validation.as_ref().map_or(f64::NAN, |v| v.loss);
            let norm = weight_norm(self.trainer.state());
            self.curve.push(m.epoch + 1, m.train.loss, test, m.lr, norm);
        }
        self.last = m.clone();
        Ok(m)
    }

    /// The page's view of the run now: metrics, curves and the decision
    /// boundary over a `LIMITS.grid`² grid of the plane.
    pub fn snapshot(&self) -> Result<RunSnapshot> {
        let (grid_class, grid_confidence) = self.boundary()?;
        let (epoch, _, step) = self.trainer.position();
        let (train_loss, test_loss, train_accuracy, test_accuracy, lr, grad_norm) = match &self.last
        {
            Some(m) => {
                let v = m.validation.as_ref();
                (
                    m.train.loss,
                    v.map_or(f64::NAN, |v| v.loss),
                    m.train.accuracy.unwrap_or(f64::NAN),
                    v.and_then(|v| v.accuracy).unwrap_or(f64::NAN),
                    m.lr,
                    m.grad_norm,
                )
            }
            None => (
                self.start.2,
                self.start.3,
                self.start.0,
                self.start.1,
                self.trainer.optimizer().lr(),
                f64::NAN,
            ),
        };
        Ok(RunSnapshot {
            label: self.label.clone(),
            epoch,
            step,
            train_loss,
            test_loss,
            train_accuracy,
            test_accuracy,
            lr,
            weight_norm: weight_norm(self.trainer.state()),
            grad_norm,
            ended: self.ended.clone(),
            curve: self.curve.clone(),
            grid_class,
            grid_confidence,
        })
    }

    /// The model in evaluation mode over the grid: the most probable class
    /// and its probability (softmax of the logits) at each cell.
    fn boundary(&self) -> Result<(Vec<u8>, Vec<u8>)> {
        let tape = Tape::new();
        let mut state = self.trainer.state().clone();
        // Evaluation mode draws no random numbers; the RNG only satisfies `Ctx`.
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let x = tape.constant(&self.grid);
        let out = {
            let mut ctx = Ctx::new(&tape, &mut state, Mode::Eval, &mut rng);
            self.trainer.model().forward(&mut ctx, x)
        };
        let k = self.data.n_classes;
        out.with_value(|z| {
            if z.ncols() != k || z.nrows() != self.grid.nrows() {
                return Err(Error::invalid(
                    "net",
                    format!("the network gave a {:?} output", z.shape()),
                ));
            }
            let mut class = Vec::with_capacity(z.nrows());
            let mut conf = Vec::with_capacity(z.nrows());
            for r in 0..z.nrows() {
                let row = z.row(r);
                let (best, max) =
                    row.iter()
                        .enumerate()
                        .fold(
                            (0, f32::NEG_INFINITY),
                            |acc, (i, &v)| {
                                if v > acc.1 { (i, v) } else { acc }
                            },
                        );
                let sum: f64 = row.iter().map(|&v| f64::from(v - max).exp()).sum();
                let p = if sum.is_finite() && sum > 0.0 {
                    1.0 / sum
                } else {
                    0.0
                };
                class.push(best as u8);
                conf.push((p * 255.0).round().clamp(0.0, 255.0) as u8);
            }
            Ok((class, conf))
        })
    }
}

/// The L2 norm of every weight (parameters tagged weight, not normalization).
pub fn weight_norm(state: &ModelState<f32>) -> f64 {
    state
        .params
        .params()
        .iter()
        .filter(|(_, meta, _)| meta.tags.contains(Tags::WEIGHT) && !meta.tags.contains(Tags::NORM))
        .flat_map(|(_, _, v)| v.iter())
        .map(|&w| f64::from(w) * f64::from(w))
        .sum::<f64>()
        .sqrt()
}

/// Cells per side of the decision-boundary grid.
pub const GRID: usize = LIMITS.grid;
