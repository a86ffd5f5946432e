//! Weight averaging during a run: an EMA or SWA of the weights, taken after
//! optimizer steps (never micro-batches), evaluated instead of the raw
//! weights when asked, with `update_bn` at the end for SWA.

use crate::ArgError;
use crate::Result;
use crate::seed::{Purpose, stream_rng};
use crate::trainer::Trainer;
use descent_core::Scalar;
use descent_data::{Batch, Dataset};
use descent_nn::{AveragedModel, AveragedModelConfig, AvgFn, Module, update_bn};
use serde::{Deserialize, Serialize};

/// The average of the weights a run keeps (PyTorch's
/// `swa_utils.AveragedModel` driven by a training loop, timm's
/// `--model-ema`).
///
/// After optimizer step `s` (counted from 1; a step, not a micro-batch, so
/// gradient accumulation does not change it), the weights enter the average
/// when `s ≥ start_step` and `(s − start_step)` is a multiple of
/// `every_steps`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightAveraging {
    /// The averaging rule and whether buffers are averaged.
    pub config: AveragedModelConfig,
    /// The first optimizer step whose weights enter (at least 1); SWA's
    /// `swa_start` in steps.
    pub start_step: u64,
    /// Take the weights every this many steps from `start_step` (at least 1;
    /// the steps of an epoch for SWA's once-per-epoch average).
    pub every_steps: u64,
    /// Evaluate validation and test on the averaged weights (once anything
    /// has been averaged), so early stopping and `keep_best` watch them.
    pub evaluate: bool,
    /// When the run finishes, recompute the averaged model's batch-norm
    /// statistics over the training set ([`descent_nn::update_bn`], in the
    /// set's order, batches of the run's size).
    pub update_bn: bool,
}

impl WeightAveraging {
    /// An EMA of the weights after every step (`get_ema_multi_avg_fn(decay)`,
    /// buffers averaged too), evaluated instead of the raw weights.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_nn::AvgFn;
    /// use descent_train::WeightAveraging;
    ///
    /// let ema = WeightAveraging::ema(0.999);
    /// assert_eq!(ema.config.avg_fn, AvgFn::EmaMulti { decay: 0.999 });
    /// assert!(ema.config.use_buffers && ema.evaluate && !ema.update_bn);
    /// ```
    pub fn ema(decay: f64) -> Self {
        WeightAveraging {
            config: AveragedModelConfig {
                avg_fn: AvgFn::EmaMulti { decay },
                use_buffers: true,
            },
            start_step: 1,
            every_steps: 1,
            evaluate: true,
            update_bn: false,
        }
    }

    /// SWA (Izmailov et al. 2018): the equal-weight average of the weights
    /// after step `start_step` and every `every_steps` after it, buffers
    /// copied, batch-norm statistics recomputed at the end, evaluated
    /// instead of the raw weights. Pair it with [`descent_schedule::Swalr`].
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_train::WeightAveraging;
    ///
    /// let swa = WeightAveraging::swa(750, 10);
    /// assert!(swa.update_bn && !swa.config.use_buffers);
    /// ```
    pub fn swa(start_step: u64, every_steps: u64) -> Self {
        WeightAveraging {
            config: AveragedModelConfig::default(),
            start_step,
            every_steps,
            evaluate: true,
            update_bn: true,
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.start_step == 0 {
            return Err(ArgError::new("averaging.start_step", 0, "must be at least 1").into());
        }
        if self.every_steps == 0 {
            return Err(ArgError::new("averaging.every_steps", 0, "must be at least 1").into());
        }
        Ok(())
    }

    /// Whether the weights after step `step` (from 1) enter the average.
    pub(crate) fn takes(&self, step: u64) -> bool {
        step >= self.start_step && (step - self.start_step).is_multiple_of(self.every_steps)
    }
}

/// A run's averaging: what it was asked for and the average so far.
pub(crate) struct Averager<S: Scalar> {
    pub spec: WeightAveraging,
    pub model: AveragedModel<S>,
}

impl<S: Scalar, M: Module<S>> Trainer<S, M> {
    /// Keeps an average of the weights (EMA or SWA) as the run trains; it is
    /// saved in checkpoints and restored with them. The average starts from
    /// the model's current state.
    ///
    /// The instability guard's rollbacks do not roll the average back: steps
    /// it undoes that had entered the average stay in it.
    pub fn with_averaging(mut self, averaging: WeightAveraging) -> Result<Self> {
        averaging.validate()?;
        let model = AveragedModel::new(&self.state, averaging.config)?;
        self.averaging = Some(Averager {
            spec: averaging,
            model,
        });
        Ok(self)
    }

    /// The average of the weights, when the run keeps one; evaluate it by
    /// running [`model`](Self::model) over its [`state`](AveragedModel::state).
    pub fn averaged(&self) -> Option<&AveragedModel<S>> {
        self.averaging.as_ref().map(|a| &a.model)
    }

    /// After an optimizer step: the weights enter the average if due.
    pub(crate) fn average_after_step(&mut self) -> Result<()> {
        let step = self.opt.steps();
        if let Some(a) = &mut self.averaging
            && a.spec.takes(step)
        {
            a.model.update_parameters(&self.state)?;
        }
        Ok(())
    }

    /// Runs `f` with the averaged weights in place of the model's, when the
    /// run evaluates them and anything has been averaged.
    pub(crate) fn with_averaged_weights<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        let swap = self
            .averaging
            .as_ref()
            .is_some_and(|a| a.spec.evaluate && a.model.n_averaged() > 0);
        if !swap {
            return f(self);
        }
        self.swap_averaged();
        let out = f(self);
        self.swap_averaged();
        out
    }

    fn swap_averaged(&mut self) {
        if let Some(a) = &mut self.averaging {
            std::mem::swap(&mut self.state, a.model.state_mut());
        }
    }

    /// At the end of the run: `update_bn` on the averaged weights over the
    /// training set, when asked and anything has been averaged.
    pub(crate) fn finish_averaging(&mut self, train: &dyn Dataset<S>) -> Result<()> {
        let Some(a) = &mut self.averaging else {
            return Ok(());
        };
        if !a.spec.update_bn || a.model.n_averaged() == 0 {
            return Ok(());
        }
        let (n, size) = (train.len(), self.config.batch_size);
        let mut batch = Batch::new();
        let inputs = (0..n).step_by(size).map(|start| {
            let indices: Vec<usize> = (start..(start + size).min(n)).collect();
            train.gather(&indices, &mut batch);
            std::mem::replace(&mut batch.features, nalgebra::DMatrix::zeros(0, 0))
        });
        let image_shape = train.schema().image;
        let mut rng = stream_rng(self.config.seed, Purpose::Dropout, u64::MAX);
        update_bn(
            &mut self.model,
            a.model.state_mut(),
            inputs,
            image_shape,
            &mut rng,
        )?;
        Ok(())
    }
}
