//! The learning-rate range test (Smith 2017, "Cyclical Learning Rates";
//! fastai's `lr_find`): train for a few steps while the rate grows
//! exponentially, watch the smoothed loss, suggest the rate where it falls
//! fastest, stop when it diverges, and put the model and optimizer back.
//!
//! With fastai's defaults: an exponential sweep, a bias-corrected smoothed
//! loss, a stop on divergence, the steepest-descent suggestion; the model, the
//! optimizer state and the learning-rate sources are put back.

use crate::input::input;
use crate::seed::{Purpose, stream_rng};
use crate::trainer::Trainer;
use crate::{ArgError, Error, Result};
use descent_core::Scalar;
use descent_data::{Batch, DataLoader, Dataset};
use descent_nn::{Ctx, Mode, Module};

/// The arguments of the range test; the defaults are fastai's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LrFindConfig {
    /// The first rate.
    pub start_lr: f64,
    /// The last rate.
    pub end_lr: f64,
    /// Steps of the sweep (rates grow geometrically from start to end).
    pub num_iter: usize,
    /// β of the loss's exponential moving average (bias-corrected).
    pub smoothing: f64,
    /// Stop when the smoothed loss exceeds this multiple of its minimum.
    pub diverge_factor: f64,
}

impl Default for LrFindConfig {
    /// fastai: `start_lr=1e-7, end_lr=10, num_it=100`, β = 0.98, stop at 4× the minimum.
    fn default() -> Self {
        LrFindConfig {
            start_lr: 1e-7,
            end_lr: 10.0,
            num_iter: 100,
            smoothing: 0.98,
            diverge_factor: 4.0,
        }
    }
}

/// What the range test measured.
#[derive(Clone, Debug, PartialEq)]
pub struct LrFindResult {
    /// The rate of each step taken.
    pub lrs: Vec<f64>,
    /// The raw loss of each step.
    pub losses: Vec<f64>,
    /// The bias-corrected moving average of the losses.
    pub smoothed: Vec<f64>,
    /// The rate at the steepest descent of the smoothed loss against
    /// log(rate), if the curve has enough points.
    pub suggestion: Option<f64>,
    /// Whether the sweep stopped early because the loss diverged.
    pub diverged: bool,
}

impl LrFindConfig {
    fn validate(&self) -> Result<()> {
        if !(self.start_lr > 0.0 && self.start_lr.is_finite()) {
            return Err(ArgError::new("start_lr", self.start_lr, "must be positive").into());
        }
        if !(self.end_lr > self.start_lr && self.end_lr.is_finite()) {
            return Err(ArgError::new("end_lr", self.end_lr, "must exceed start_lr").into());
        }
        if self.num_iter < 2 {
            return Err(ArgError::new("num_iter", self.num_iter, "must be at least 2").into());
        }
        if !(0.0..1.0).contains(&self.smoothing) {
            return Err(ArgError::new("smoothing", self.smoothing, "must be in [0, 1)").into());
        }
        if self.diverge_factor.is_nan() || self.diverge_factor <= 1.0 {
            return Err(
                ArgError::new("diverge_factor", self.diverge_factor, "must exceed 1").into(),
            );
        }
        Ok(())
    }
}

impl<S: Scalar, M: Module<S>> Trainer<S, M> {
    /// Runs the range test on `data` with the trainer's loss, optimizer and
    /// batch size (no accumulation, penalties or augmentation), then restores
    /// the model's parameters and buffers, the optimizer's state and its
    /// learning-rate sources (schedules included), so training starts as if
    /// the test had not run. A learning-rate multiplier (the guard's) still
    /// applies during the sweep.
    pub fn lr_find(&mut self, data: &dyn Dataset<S>, config: LrFindConfig) -> Result<LrFindResult> {
        config.validate()?;
        let saved_state = self.state.clone();
        let saved_opt = self.opt.state();
        let sources = (0..self.opt.n_groups())
            .map(|i| self.opt.lr_source(i).cloned())
            .collect::<Result<Vec<_>, _>>()?;
        let result = self.sweep(data, config);
        self.state = saved_state;
        // The sweep set plain rates; the schedules go back before the state.
        for (i, source) in sources.into_iter().enumerate() {
            self.opt.set_group_lr_source(i, source)?;
        }
        self.opt.load_state(&saved_opt)?;
        self.tape.reset();
        result
    }

    fn sweep(&mut self, data: &dyn Dataset<S>, config: LrFindConfig) -> Result<LrFindResult> {
        let mut loader = DataLoader::new(data, self.loader_config())?;
        if loader.n_batches() == 0 {
            return Err(Error::Data {
                dataset: "lr_find".into(),
                reason: "the set makes no batch".into(),
            });
        }
        let ratio = config.end_lr / config.start_lr;
        let mut out = LrFindResult {
            lrs: Vec::new(),
            losses: Vec::new(),
            smoothed: Vec::new(),
            suggestion: None,
            diverged: false,
        };
        let (mut avg, mut best) = (0.0, f64::INFINITY);
        let mut batch = Batch::new();
        let mut epoch = 0;
        for i in 0..config.num_iter {
            if !loader.next_into(&mut batch) {
                epoch += 1;
                loader.set_epoch(epoch);
                loader.next_into(&mut batch);
            }
            let lr = config.start_lr * ratio.powf(i as f64 / (config.num_iter - 1) as f64);
            self.opt.set_lr(lr)?;
            self.state.params.zero_grad();
            self.tape.reset();
            let mut rng = stream_rng(self.config.seed, Purpose::Dropout, u64::MAX - i as u64);
            let tape = &self.tape;
            let out_var = {
                let mut ctx = Ctx::new(tape, &mut self.state, Mode::Train, &mut rng);
                self.model.forward(&mut ctx, input(tape, &batch))
            };
            let loss_var = self.loss.apply(tape, out_var, &batch, false);
            let loss = loss_var.item().as_f64();
            out.lrs.push(lr);
            out.losses.push(loss);
            avg = config.smoothing * avg + (1.0 - config.smoothing) * loss;
            let smooth = avg / (1.0 - config.smoothing.powi(i as i32 + 1));
            out.smoothed.push(smooth);
            if !smooth.is_finite() || (i > 0 && smooth > config.diverge_factor * best) {
                out.diverged = true;
                break;
            }
            best = best.min(smooth);
            tape.backward(loss_var, &mut self.state.params);
            if !self.state.params.grads().all_finite() {
                out.diverged = true;
                break;
            }
            self.opt.step(&mut self.state.params)?;
        }
        out.suggestion = steepest(&out.lrs, &out.smoothed);
        Ok(out)
    }
}

/// The rate where the smoothed loss falls fastest against log(rate),
/// ignoring the unsettled first tenth and the points after the minimum.
fn steepest(lrs: &[f64], smoothed: &[f64]) -> Option<f64> {
    let end = smoothed
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .min_by(|a, b| a.1.total_cmp(b.1))?
        .0;
    let start = lrs.len() / 10;
    (start.max(1)..=end)
        .map(|i| {
            let slope = (smoothed[i] - smoothed[i - 1]) / (lrs[i].ln() - lrs[i - 1].ln());
            (i, slope)
        })
        .filter(|(_, s)| s.is_finite())
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| lrs[i])
}
