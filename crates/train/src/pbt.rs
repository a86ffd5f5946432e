//! A [`Trainer`] as a member of a population-based training run
//! (`descent_hpo::pbt`, behind this crate's `hpo` feature).
//!
//! [`TrainerMember`] trains its trainer `k` optimizer steps at a time, scores
//! it on a validation set, saves and loads the trainer's checkpoint bundle
//! (weights, optimizer state, counters: what a bit-identical resume needs)
//! and sets the explored hyperparameters on the running optimizer
//! (`Optimizer::set_hyperparam`, moments kept).

use crate::{Callback, Control, Data, Error, Result, Trainer};
use descent_core::Scalar;
use descent_data::Dataset;
use descent_hpo::{ParamValue, ParamValues};
use descent_nn::Module;
use descent_optim::transform::Hyper;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a [`TrainerMember`] is scored by, on its validation set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PbtScore {
    /// The validation loss (rank with `Direction::Minimize`, the default).
    #[default]
    Loss,
    /// The validation accuracy (rank with `Direction::Maximize`).
    Accuracy,
}

/// Stops `fit` once the optimizer has taken `target` steps.
struct StopAtStep(Arc<AtomicU64>);

impl Callback for StopAtStep {
    fn on_batch_end(&mut self, info: &crate::BatchInfo) -> Control {
        if info.stepped && info.step >= self.0.load(Ordering::SeqCst) {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

/// A [`Trainer`] with its data, as a `descent_hpo::pbt::Member`.
///
/// A trainer of a `Sequential` model is not `Send` (its layers are boxed
/// without `Send`): run such members with `Pbt::run_pinned`, which builds
/// each member on the thread that trains it.
///
/// Every hyperparameter a PBT run mutates must be one of the optimizer's,
/// by PyTorch name (`lr`, `momentum`, `betas.0`, `betas.1`, `eps`,
/// `weight_decay`); it is set on every parameter group.
///
/// The members of one population are built alike, with one
/// [`TrainConfig`](crate::TrainConfig) (its seed included): a checkpoint
/// carries the run's position in the shuffled data, and loading one is
/// refused by a trainer built otherwise. Give each member its own
/// initialization instead (`seed::rng(member_seed, Purpose::Init)`).
/// Give the trainers enough epochs for the run's `total_steps`: a trainer
/// that has trained all its epochs stops training and keeps its score.
pub struct TrainerMember<'a, S: Scalar, M: Module<S>, D: Dataset<S>> {
    trainer: Trainer<S, M>,
    train: &'a D,
    validation: &'a D,
    score: PbtScore,
    target: Arc<AtomicU64>,
}

impl<'a, S: Scalar, M: Module<S>, D: Dataset<S>> TrainerMember<'a, S, M, D> {
    /// A member that trains `trainer` on `train` and is scored on `validation`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_data::{Dataset, digits};
    /// use descent_hpo::{Distribution, Mutation, Pbt, PbtConfig};
    /// use descent_nn::{Builder, Linear, LinearConfig, ModelState};
    /// use descent_optim::{Sgd, SgdConfig};
    /// use descent_train::pbt::{PbtScore, TrainerMember};
    /// use descent_train::{Loss, Progress, TrainConfig, Trainer, seed};
    ///
    /// let data = digits::<f32>()?.scaled(1.0 / 16.0);
    /// let train = data.select(&(0..200).collect::<Vec<_>>())?;
    /// let val = data.select(&(200..300).collect::<Vec<_>>())?;
    /// let member = |i: usize| -> descent_train::Result<_> {
    ///     let mut state = ModelState::new();
    ///     let mut rng = seed::rng(i as u64, seed::Purpose::Init);
    ///     let model = Linear::new(&mut Builder::new(&mut state, &mut rng), LinearConfig::new(64, 10))?;
    ///     let opt = SgdConfig { lr: 0.1, ..Default::default() }.build(&state.params)?;
    ///     let config = TrainConfig { epochs: 100, progress: Progress::Quiet, ..Default::default() };
    ///     let trainer = Trainer::new(model, state, opt, Loss::cross_entropy(), config)?;
    ///     Ok(TrainerMember::new(trainer, &train, &val, PbtScore::Loss))
    /// };
    /// let lr = Distribution::Float { low: 1e-3, high: 1.0, log: true, step: None };
    /// let pbt = Pbt::new(PbtConfig { ready_interval: 5, total_steps: 20, n_threads: 2, ..Default::default() })?
    ///     .with_mutation("lr", Mutation::Distribution(lr))?;
    /// let (result, steps) = pbt.run(
    ///     (0..4).map(member).collect::<descent_train::Result<Vec<_>>>()?,
    /// )?;
    /// assert!(result.best().unwrap().score().unwrap() < 2.3);
    /// assert!(steps.iter().all(|m| m.trainer().optimizer().steps() == 20));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(trainer: Trainer<S, M>, train: &'a D, validation: &'a D, score: PbtScore) -> Self {
        let target = Arc::new(AtomicU64::new(0));
        let trainer = trainer.with_callback(StopAtStep(Arc::clone(&target)));
        TrainerMember {
            trainer,
            train,
            validation,
            score,
            target,
        }
    }

    /// The trainer.
    pub fn trainer(&self) -> &Trainer<S, M> {
        &self.trainer
    }

    /// The trainer, giving the member up (to evaluate or export the best model).
    pub fn into_trainer(self) -> Trainer<S, M> {
        self.trainer
    }

    /// Sets the optimizer hyperparameters in `hyperparams` on every group.
    fn apply(&mut self, hyperparams: &ParamValues) -> Result<()> {
        let opt = self.trainer.optimizer_mut();
        for (name, value) in hyperparams.iter() {
            let key: Hyper = name.parse()?;
            let value = match value {
                ParamValue::Float(x) => *x,
                ParamValue::Int(i) => *i as f64,
                other => {
                    return Err(Error::config(
                        "pbt hyperparameter",
                        format!("`{name}` = {other} is not a number"),
                    ));
                }
            };
            for group in 0..opt.n_groups() {
                opt.set_hyperparam(group, key, value)?;
            }
        }
        Ok(())
    }

    /// Trains `steps` more optimizer steps and scores the model.
    fn train_steps(&mut self, steps: u64) -> Result<f64> {
        let target = self.trainer.optimizer().steps().saturating_add(steps);
        self.target.store(target, Ordering::SeqCst);
        self.trainer.fit(Data::train(self.train))?;
        let metrics = self.trainer.evaluate(self.validation)?;
        match self.score {
            PbtScore::Loss => Ok(metrics.loss),
            PbtScore::Accuracy => metrics.accuracy.ok_or_else(|| {
                Error::config("score", "accuracy needs a classification validation set")
            }),
        }
    }
}

impl<S: Scalar, M: Module<S>, D: Dataset<S>> descent_hpo::Member for TrainerMember<'_, S, M, D> {
    type Checkpoint = Vec<u8>;
    type Error = Error;

    fn set_hyperparams(&mut self, hyperparams: &ParamValues) -> Result<()> {
        self.apply(hyperparams)
    }

    fn train(&mut self, steps: u64) -> Result<f64> {
        self.train_steps(steps)
    }

    fn save(&mut self) -> Result<Vec<u8>> {
        self.trainer.checkpoint_bytes()
    }

    fn load(&mut self, checkpoint: &Vec<u8>) -> Result<()> {
        self.trainer.load_checkpoint_bytes(checkpoint)
    }
}
