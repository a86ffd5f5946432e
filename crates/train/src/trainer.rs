//! The [`Trainer`]: a model, its state, an optimizer and a loss, with
//! everything a run may add (penalties, clipping, augmentation, early
//! stopping, the instability guard, callbacks, checkpoints), and the
//! counters from which a stopped run resumes bit for bit.

mod eval;
mod fit;

use crate::ArgError;
use crate::callback::Callback;
use crate::checkpoint::CheckpointConfig;
use crate::input::Augmentation;
use crate::loss::Loss;
use crate::metrics::{History, Running};
use crate::progress::Progress;
use crate::{Error, Result};
use descent_autodiff::Tape;
use descent_core::{Direction, Scalar};
use descent_data::{Batch, Dataset};
use descent_nn::{Buffers, ModelState, Module};
use descent_optim::Optimizer;
use descent_optim::transform::NormType;
use descent_regularize::{
    EarlyStopping, EarlyStoppingConfig, GuardConfig, InstabilityGuard, Penalty,
};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Gradient clipping before each optimizer step (PyTorch's
/// `clip_grad_norm_` / `clip_grad_value_`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clip {
    /// Rescale the gradients so their global norm is at most `max_norm`.
    Norm {
        /// The largest norm allowed.
        max_norm: f64,
        /// Which norm (L2 by default in PyTorch).
        norm_type: NormType,
    },
    /// Clamp every gradient element to `[-value, value]`.
    Value(f64),
}

/// The arguments of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Epochs to train.
    pub epochs: u64,
    /// Samples per micro-batch.
    pub batch_size: usize,
    /// Micro-batches per optimizer step (gradient accumulation; 1 = none).
    /// Each micro-batch's loss is weighted by its share of the step's
    /// samples, so `k` micro-batches of `B` give the step of one batch of `kB`.
    pub accumulation: usize,
    /// Shuffle the training set each epoch.
    pub shuffle: bool,
    /// Drop the last, short batch of each epoch.
    pub drop_last: bool,
    /// The run's seed: shuffling, dropout masks and augmentation derive
    /// their streams from it ([`crate::seed`]), and so should initialization.
    pub seed: u64,
    /// Samples per evaluation batch.
    pub eval_batch_size: usize,
    /// `k` of the top-k accuracy (0: not measured).
    pub top_k: usize,
    /// Gradient clipping, applied to the accumulated gradient before each step.
    pub clip: Option<Clip>,
    /// Progress output.
    pub progress: Progress,
    /// Where `metrics.jsonl` and `metrics.csv` are written after each epoch.
    pub log_dir: Option<PathBuf>,
    /// Sharpness-aware minimization (Foret et al. 2021): each optimizer step
    /// moves to the perturbed point of the step's gradient, takes the
    /// gradient there (a second forward and backward of the micro-batch,
    /// same dropout masks, batch norms not updating their statistics, the
    /// penalties' gradients added), comes back and steps with it; clipping
    /// applies to that second gradient. Needs `accumulation` = 1.
    pub sam: Option<descent_optim::SamConfig>,
}

impl Default for TrainConfig {
    /// 10 epochs of shuffled batches of 32, no accumulation, seed 0, top-5.
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch_size: 32,
            accumulation: 1,
            shuffle: true,
            drop_last: false,
            seed: 0,
            eval_batch_size: 1024,
            top_k: 5,
            clip: None,
            progress: Progress::Auto,
            log_dir: None,
            sam: None,
        }
    }
}

impl TrainConfig {
    fn validate(&self) -> Result<()> {
        let at_least_one = |name, v: usize| {
            if v == 0 {
                Err(ArgError::new(name, v, "must be at least 1"))
            } else {
                Ok(())
            }
        };
        at_least_one("batch_size", self.batch_size)?;
        at_least_one("accumulation", self.accumulation)?;
        at_least_one("eval_batch_size", self.eval_batch_size)?;
        if self.sam.is_some() && self.accumulation != 1 {
            return Err(Error::config(
                "sam",
                format!(
                    "needs accumulation = 1 (got {}): the second gradient re-runs the step's batch",
                    self.accumulation
                ),
            ));
        }
        match self.clip {
            Some(Clip::Norm { max_norm, .. }) if !(max_norm >= 0.0 && max_norm.is_finite()) => {
                Err(ArgError::new("clip.max_norm", max_norm, "must be finite and ≥ 0").into())
            }
            Some(Clip::Value(v)) if !(v >= 0.0 && v.is_finite()) => {
                Err(ArgError::new("clip.value", v, "must be finite and ≥ 0").into())
            }
            _ => Ok(()),
        }
    }
}

/// Which epoch metric to watch, and which way is better.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Monitor {
    /// A metric name of [`EpochMetrics::get`](crate::EpochMetrics::get):
    /// `val_loss`, `val_accuracy`, `train_loss`, ...
    pub metric: String,
    /// Whether lower or higher is better.
    pub direction: Direction,
}

impl Monitor {
    /// Watches `metric`; names ending in `loss` are minimized, others maximized.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_core::Direction;
    /// use descent_train::Monitor;
    ///
    /// assert_eq!(Monitor::new("val_loss").direction, Direction::Minimize);
    /// assert_eq!(Monitor::new("val_accuracy").direction, Direction::Maximize);
    /// ```
    pub fn new(metric: &str) -> Self {
        let direction = if metric.ends_with("loss") {
            Direction::Minimize
        } else {
            Direction::Maximize
        };
        Monitor {
            metric: metric.to_owned(),
            direction,
        }
    }
}

/// What a plateau schedule observes.
#[derive(Clone, Debug, PartialEq)]
pub enum PlateauFeed {
    /// This metric, after every epoch.
    Epoch(Monitor),
    /// The loss of every optimizer step (penalties included), after the step.
    StepLoss,
}

/// Early stopping as the trainer runs it: Keras's rule on a monitored
/// metric, with the best weights (parameters and buffers) kept by the
/// trainer so they are saved in checkpoints.
pub(crate) struct Early<S: Scalar> {
    pub stopper: EarlyStopping<S, ()>,
    pub monitor: Monitor,
    pub restore_best: bool,
    pub best: Option<ModelState<S>>,
}

/// Where a run is: counters from which it resumes, and what it measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunState {
    /// The current epoch.
    pub epoch: u64,
    /// Micro-batches of the current epoch done.
    pub batch: u64,
    /// Micro-batches accumulated since the last optimizer step.
    pub micro: u64,
    /// Micro-batches done in the whole run (the dropout stream).
    pub total_micro: u64,
    /// The weighted loss of the accumulation group so far.
    pub group_loss: f64,
    /// Running sums of the current epoch.
    pub running: Running,
    /// Completed epochs and events.
    pub history: History,
    /// The run is over (all epochs, or early stopping).
    pub finished: bool,
}

/// The guard's last snapshot, with the trainer's own counters at that moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct GuardMark {
    pub step: Option<u64>,
    pub running: Running,
    pub history_len: usize,
    pub total_micro: u64,
}

/// The training and evaluation data of a run.
#[derive(Clone, Copy)]
pub struct Data<'a, S: Scalar> {
    /// The training set.
    pub train: &'a dyn Dataset<S>,
    /// Evaluated after each epoch, when given (early stopping usually watches it).
    pub validation: Option<&'a dyn Dataset<S>>,
    /// Evaluated after each epoch, when given.
    pub test: Option<&'a dyn Dataset<S>>,
}

impl<'a, S: Scalar> Data<'a, S> {
    /// Training data only.
    pub fn train(train: &'a dyn Dataset<S>) -> Self {
        Data {
            train,
            validation: None,
            test: None,
        }
    }

    /// Adds a validation set.
    pub fn with_validation(mut self, validation: &'a dyn Dataset<S>) -> Self {
        self.validation = Some(validation);
        self
    }

    /// Adds a test set.
    pub fn with_test(mut self, test: &'a dyn Dataset<S>) -> Self {
        self.test = Some(test);
        self
    }
}

/// The one training loop of descent.
///
/// A trainer owns a model (any [`Module`]), its [`ModelState`], an
/// [`Optimizer`] (any optimizer or chain; its learning-rate schedule is the
/// learning-rate source) and a [`Loss`]; builder methods add penalties,
/// clipping, augmentation, early stopping, the instability guard, callbacks
/// and checkpoints. [`fit`](Trainer::fit) runs the epochs; each micro-batch
/// is forward in [`Mode::Train`](descent_nn::Mode) with its own dropout
/// stream, backward, and every `accumulation` micro-batches the penalties'
/// gradients are added, the gradient is checked, clipped and the optimizer
/// steps. Evaluation runs in [`Mode::Eval`](descent_nn::Mode) and draws no
/// random numbers.
///
/// # Examples
///
/// ```
/// use descent_data::{Dataset, SplitConfig, Splits, digits};
/// use descent_nn::{Builder, Linear, LinearConfig, ModelState, Relu, Sequential};
/// use descent_optim::{Adam, AdamConfig};
/// use descent_train::{Data, Loss, Progress, TrainConfig, Trainer, seed};
///
/// let data = digits::<f32>()?.scaled(1.0 / 16.0);
/// let mut state = ModelState::new();
/// let mut model = Sequential::new();
/// {
///     let mut rng = seed::rng(0, seed::Purpose::Init);
///     let mut b = Builder::new(&mut state, &mut rng);
///     model
///         .add(&mut b, |b| Linear::new(b, LinearConfig::new(64, 32)))?
///         .push(Relu)
///         .add(&mut b, |b| Linear::new(b, LinearConfig::new(32, 10)))?;
/// }
/// let opt = AdamConfig { lr: 1e-2, ..Default::default() }.build(&state.params)?;
/// let config = TrainConfig { epochs: 2, batch_size: 64, progress: Progress::Quiet, ..Default::default() };
/// let mut trainer = Trainer::new(model, state, opt, Loss::cross_entropy(), config)?;
/// let history = trainer.fit(Data::train(&data))?;
/// assert_eq!(history.epochs.len(), 2);
/// assert!(history.epochs[1].train.accuracy.unwrap() > 0.8);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Trainer<S: Scalar, M: Module<S>> {
    pub(crate) model: M,
    pub(crate) state: ModelState<S>,
    pub(crate) opt: Optimizer<S>,
    pub(crate) loss: Loss<S>,
    pub(crate) config: TrainConfig,
    pub(crate) penalties: Vec<Box<dyn Penalty<S> + Send + Sync>>,
    pub(crate) augment: Option<Augmentation>,
    pub(crate) early: Option<Early<S>>,
    pub(crate) guard: Option<InstabilityGuard<S, Buffers<S>>>,
    pub(crate) guard_mark: Option<GuardMark>,
    pub(crate) callbacks: Vec<Box<dyn Callback>>,
    pub(crate) checkpoints: Option<CheckpointConfig>,
    pub(crate) plateau: Option<PlateauFeed>,
    pub(crate) run: RunState,
    pub(crate) resumed_n_train: Option<usize>,
    pub(crate) tape: Tape<S>,
    pub(crate) batch: Batch<S>,
    pub(crate) last_batch: Option<crate::BatchInfo>,
    pub(crate) last_step_loss: Option<f64>,
    /// The running sums and micro-batch count when the current accumulation
    /// group began (what a guard rollback to this group's start restores).
    pub(crate) group_start: (Running, u64),
    /// Whether the gradients are known to be finite: set when this `fit`
    /// call zeroes them at an accumulation group's start, kept while every
    /// backward pass reports the gradients it added into finite
    /// (`Tape::backward_finite`, checked as they are added); false means
    /// unknown, and the step reads them all to check.
    pub(crate) grads_finite: bool,
    /// The average of the weights the run keeps, if any.
    pub(crate) averaging: Option<crate::averaging::Averager<S>>,
    /// SAM's perturbation, when `config.sam` is set.
    pub(crate) sam: Option<descent_optim::SamPerturbation<S>>,
    /// Whether the last micro-batch's targets were mixed (its loss needs
    /// soft targets), for SAM's second pass.
    pub(crate) last_soft: bool,
}

impl<S: Scalar, M: Module<S>> std::fmt::Debug for Trainer<S, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("config", &self.config)
            .field("loss", &self.loss)
            .field("optimizer", &self.opt)
            .field("penalties", &self.penalties.len())
            .field("augment", &self.augment)
            .field("early_stopping", &self.early.as_ref().map(|e| &e.monitor))
            .field("guard", &self.guard.is_some())
            .field("callbacks", &self.callbacks.len())
            .field("checkpoints", &self.checkpoints)
            .field("epoch", &self.run.epoch)
            .field("batch", &self.run.batch)
            .finish()
    }
}

impl<S: Scalar, M: Module<S>> Trainer<S, M> {
    /// A trainer of `model` (whose tensors are in `state`) by `optimizer`
    /// (built over `state.params`) on `loss`.
    pub fn new(
        model: M,
        state: ModelState<S>,
        optimizer: Optimizer<S>,
        loss: Loss<S>,
        config: TrainConfig,
    ) -> Result<Self> {
        config.validate()?;
        if let Loss::CrossEntropy { label_smoothing } = loss
            && !(0.0..=1.0).contains(&label_smoothing)
        {
            return Err(
                ArgError::new("label_smoothing", label_smoothing, "must be in [0, 1]").into(),
            );
        }
        let sam = config
            .sam
            .map(|c| descent_optim::SamPerturbation::new(state.params.params(), c))
            .transpose()?;
        Ok(Trainer {
            sam,
            last_soft: false,
            model,
            state,
            opt: optimizer,
            loss,
            config,
            penalties: Vec::new(),
            augment: None,
            early: None,
            guard: None,
            guard_mark: None,
            callbacks: Vec::new(),
            checkpoints: None,
            plateau: None,
            run: RunState::default(),
            resumed_n_train: None,
            tape: Tape::new(),
            batch: Batch::new(),
            last_batch: None,
            last_step_loss: None,
            group_start: (Running::default(), 0),
            grads_finite: false,
            averaging: None,
        })
    }

    /// Adds a penalty (L1, L2, elastic net, ...): its value joins the loss
    /// and its gradient the accumulated gradient, once per optimizer step.
    pub fn with_penalty(mut self, penalty: impl Penalty<S> + Send + Sync + 'static) -> Self {
        self.penalties.push(Box::new(penalty));
        self
    }

    /// Augments every training batch (never evaluation batches).
    pub fn with_augmentation(mut self, augmentation: Augmentation) -> Self {
        self.augment = Some(augmentation);
        self
    }

    /// Stops when `monitor` stops improving (Keras's rule, `config`'s
    /// patience, min_delta, baseline, start epoch); with
    /// `config.restore_best`, the best epoch's weights are put back at the
    /// end. `config.mode` is replaced by the monitor's direction.
    pub fn with_early_stopping(
        mut self,
        monitor: Monitor,
        config: EarlyStoppingConfig,
    ) -> Result<Self> {
        let restore_best = config.restore_best;
        let stopper = EarlyStopping::new(EarlyStoppingConfig {
            mode: monitor.direction,
            restore_best: false,
            ..config
        })?;
        self.early = Some(Early {
            stopper,
            monitor,
            restore_best,
            best: None,
        });
        Ok(self)
    }

    /// Watches every step's loss and gradient: on a spike or a non-finite
    /// value the run rolls back to the guard's last snapshot, lowers the
    /// learning rate and skips the offending step's batches; each rollback
    /// is recorded in the history. Without a guard, a non-finite loss or
    /// gradient ends the run with a typed error.
    pub fn with_guard(mut self, config: GuardConfig) -> Result<Self> {
        self.guard = Some(InstabilityGuard::new(config, &mut self.opt)?);
        Ok(self)
    }

    /// Adds a callback.
    pub fn with_callback(mut self, callback: impl Callback + 'static) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }

    /// What the optimizer's plateau schedules (`ReduceLrOnPlateau`, installed
    /// with `Optimizer::set_lr_plateau`) observe: an epoch metric after each
    /// epoch (PyTorch's usual `scheduler.step(val_loss)`), or each step's loss.
    pub fn with_plateau(mut self, feed: PlateauFeed) -> Self {
        self.plateau = Some(feed);
        self
    }

    /// Writes checkpoints as `config` says.
    pub fn with_checkpoints(mut self, config: CheckpointConfig) -> Result<Self> {
        config.validate()?;
        self.checkpoints = Some(config);
        Ok(self)
    }

    /// Adds `n` epochs to the run, so the next [`fit`](Self::fit) trains
    /// them (after a run that ended at its last epoch; a run ended by early
    /// stopping stays ended).
    pub fn extend_epochs(&mut self, n: u64) {
        self.config.epochs += n;
        let early_stopped = matches!(
            self.run.history.stopped,
            Some(crate::metrics::Stop::EarlyStopping { .. })
        );
        if !early_stopped {
            self.run.finished = false;
        }
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The model's parameters and buffers.
    pub fn state(&self) -> &ModelState<S> {
        &self.state
    }

    /// The model's parameters and buffers, mutably.
    pub fn state_mut(&mut self) -> &mut ModelState<S> {
        &mut self.state
    }

    /// The optimizer.
    pub fn optimizer(&self) -> &Optimizer<S> {
        &self.opt
    }

    /// The optimizer, mutably (to change a rate between runs, say).
    pub fn optimizer_mut(&mut self) -> &mut Optimizer<S> {
        &mut self.opt
    }

    /// The run's arguments.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// What the run has measured so far.
    pub fn history(&self) -> &History {
        &self.run.history
    }

    /// `(epoch, micro-batch within the epoch, optimizer steps)`: where the run is.
    pub fn position(&self) -> (u64, u64, u64) {
        (self.run.epoch, self.run.batch, self.opt.steps())
    }

    /// The model, its state and the optimizer, giving the trainer up.
    pub fn into_parts(self) -> (M, ModelState<S>, Optimizer<S>) {
        (self.model, self.state, self.opt)
    }
}
