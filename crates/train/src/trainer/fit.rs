//! `Trainer::fit`: the epochs, the micro-batch ritual and the optimizer step.
//!
//! Per micro-batch: augmentation, zeroing at a group's start, the forward pass
//! in `Mode::Train` with that micro-batch's dropout RNG, the loss weighted by
//! the micro-batch's share of the group, backward. At a group's end:
//! penalties, the guard or the finiteness check, SAM's second pass
//! (`sam_gradient`), clipping, the optimizer step (which measures the gradient
//! norm unless the clip pass did), the plateau feed. At an epoch's end:
//! evaluation, metrics, early stopping, callbacks, logs and checkpoints.
//!
//! SAM (`TrainConfig::sam`, accumulation 1): the gradient is replaced by the
//! gradient at optim's `SamPerturbation` point — a second forward and backward
//! of the step's batch with the same dropout masks and the batch norms'
//! momentum at 0 — then the weights go back.
//!
//! The features of a batch move to the tape (`Tape::constant_swap`) unless
//! the loss is a closure or SAM's second pass needs them again.
//!
//! Invariant: schedules, clipping, early stopping, the guard, the plateau feed
//! and weight averaging count optimizer steps, never micro-batches; `k`
//! micro-batches give the step of one batch of their combined size.
//! Invariant: a non-finite gradient is never applied, not even in part: the
//! guard checks before the step, or else the step goes ahead only when the
//! gradients are known finite — from the group's backward passes
//! (`Tape::backward_finite`, when this `fit` call zeroed them at the group's
//! start and no penalty added to them since), else from a full check. The norm
//! (a metric) comes from the step's walk or the clip pass, so without guard,
//! penalties or clipping a Trainer step reads the gradients exactly as often
//! as the raw step.
//! Invariant: no checkpoint is written from a non-finite state: a NaN or
//! infinite loss or gradient is `Error::NonFiniteLoss` / `NonFiniteGrad`
//! naming epoch and step, and the newest checkpoint on disk is the state
//! before the bad step (or, with the guard, a rollback recorded in the
//! history).

use super::{Data, GuardMark, Trainer};
use crate::callback::{BatchInfo, Control};
use crate::input::{input, input_moved};
use crate::metrics::{EpochMetrics, Rollback, Running, Stop, count_correct};
use crate::pixel::PixelCounts;
use crate::progress::Reporter;
use crate::seed::{Purpose, derive, stream_rng};
use crate::trainer::Clip;
use crate::{Error, Result};
use descent_core::Scalar;
use descent_data::{DataLoader, LoaderConfig, TargetKind};
use descent_nn::{Ctx, Mode, Module};
use descent_regularize::GuardAction;
use std::time::Instant;

/// What one micro-batch led to.
enum Outcome {
    /// Go on with the next micro-batch.
    Next,
    /// The guard rolled the run back to this global micro-batch position.
    RolledBack(u64),
}

impl<S: Scalar, M: Module<S>> Trainer<S, M> {
    /// Trains until the last epoch, early stopping or a callback's stop, and
    /// returns the history. A trainer restored from a checkpoint continues
    /// where that checkpoint was taken, and ends exactly where the
    /// uninterrupted run would have.
    pub fn fit(&mut self, data: Data<'_, S>) -> crate::Result<crate::History> {
        let schema = data.train.schema();
        let n_classes = self.check_data("train", &schema.targets)?;
        for (name, d) in [("validation", data.validation), ("test", data.test)] {
            if let Some(d) = d {
                self.check_data(name, &d.schema().targets)?;
            }
        }
        if let Some(n) = self.resumed_n_train
            && n != schema.len
        {
            return Err(Error::Data {
                dataset: "train".into(),
                reason: format!(
                    "the checkpoint was taken on {n} training samples, this set has {}",
                    schema.len
                ),
            });
        }
        self.resumed_n_train = Some(schema.len);
        // Anything may have changed the gradients since the last call (a
        // checkpoint loaded mid-accumulation, `state_mut`): unknown.
        self.grads_finite = false;
        let mut loader = DataLoader::new(data.train, self.loader_config())?;
        let n_batches = loader.n_batches() as u64;
        if n_batches == 0 {
            return Err(Error::Data {
                dataset: "train".into(),
                reason: format!(
                    "{} samples make no batch of {} (drop_last: {})",
                    schema.len, self.config.batch_size, self.config.drop_last
                ),
            });
        }
        if matches!(self.run.history.stopped, Some(Stop::Callback { .. })) {
            self.run.history.stopped = None;
        }
        let mut reporter = Reporter::new(self.config.progress);
        'epochs: while !self.run.finished && self.run.epoch < self.config.epochs {
            let epoch = self.run.epoch;
            loader.set_position(epoch, self.run.batch as usize);
            reporter.start_epoch(epoch, self.config.epochs, n_batches, self.run.batch);
            let started = Instant::now();
            let mut trained = 0usize;
            while self.run.batch < n_batches {
                let pos = epoch * n_batches + self.run.batch;
                if self.run.micro == 0
                    && let Some(guard) = &self.guard
                    && guard.should_skip(pos)
                {
                    let len = self.group_len(self.run.batch, n_batches);
                    self.run.batch += len;
                    self.run.total_micro += len;
                    loader.set_position(epoch, self.run.batch as usize);
                    continue;
                }
                if !loader.next_into(&mut self.batch) {
                    break;
                }
                trained += self.batch.len();
                match self.micro_batch(&loader, n_batches, n_classes, &mut reporter)? {
                    Outcome::RolledBack(to) => {
                        if let Some(ev) = self.run.history.guard_events.last() {
                            reporter.message(&format!(
                                "guard: rolled back from step {} to step {}, learning rate lowered",
                                ev.step, ev.restored_step
                            ));
                        }
                        reporter.finish();
                        self.run.epoch = to / n_batches;
                        self.run.batch = to % n_batches;
                        continue 'epochs;
                    }
                    Outcome::Next => {}
                }
                if self.batch_end_control() == Control::Stop {
                    self.run.history.stopped = Some(Stop::Callback {
                        epoch,
                        batch: self.run.batch,
                    });
                    self.save_checkpoint_now()?;
                    reporter.finish();
                    return Ok(self.run.history.clone());
                }
                self.checkpoint_after_batch()?;
            }
            let wall = started.elapsed().as_secs_f64();
            self.end_epoch(data, n_classes.is_some(), wall, trained, &mut reporter)?;
            if matches!(self.run.history.stopped, Some(Stop::Callback { .. })) {
                reporter.finish();
                return Ok(self.run.history.clone());
            }
        }
        reporter.finish();
        if !self.run.finished {
            self.run.finished = true;
            self.finish_early_stopping()?;
            self.finish_averaging(data.train)?;
        }
        if let Some(dir) = &self.config.log_dir {
            self.run.history.write(dir)?;
        }
        Ok(self.run.history.clone())
    }

    /// How the training set is walked: the run's batch size, shuffling and
    /// dropping, and its shuffle seed.
    pub(crate) fn loader_config(&self) -> LoaderConfig {
        LoaderConfig {
            batch_size: self.config.batch_size,
            shuffle: self.config.shuffle,
            drop_last: self.config.drop_last,
            seed: derive(self.config.seed, Purpose::Shuffle),
        }
    }

    /// The class count for a classification loss; checks the targets fit the loss.
    fn check_data(&self, name: &str, targets: &TargetKind) -> Result<Option<usize>> {
        use crate::Loss;
        match (&self.loss, targets) {
            (Loss::PixelCrossEntropy { .. }, TargetKind::PixelClasses { .. }) => Ok(None),
            (Loss::PixelCrossEntropy { .. }, _) => Err(Error::Data {
                dataset: name.into(),
                reason: "per-pixel cross-entropy needs class maps (a segmentation set)".into(),
            }),
            (_, TargetKind::PixelClasses { .. }) if !matches!(self.loss, Loss::Custom(_)) => {
                Err(Error::Data {
                    dataset: name.into(),
                    reason: "a segmentation set needs Loss::PixelCrossEntropy (or a custom loss)"
                        .into(),
                })
            }
            (Loss::CrossEntropy { .. }, TargetKind::Classes { n_classes }) => Ok(Some(*n_classes)),
            (Loss::CrossEntropy { .. }, TargetKind::Values { .. }) => Err(Error::Data {
                dataset: name.into(),
                reason: "cross-entropy needs class labels; the set has real-valued targets".into(),
            }),
            (Loss::Mse, TargetKind::Classes { .. }) => Err(Error::Data {
                dataset: name.into(),
                reason: "MSE needs real-valued targets; the set has class labels".into(),
            }),
            (_, TargetKind::Classes { n_classes }) => Ok(Some(*n_classes)),
            _ => Ok(None),
        }
    }

    /// Micro-batches in the accumulation group that batch `batch` belongs to.
    pub(crate) fn group_len(&self, batch: u64, n_batches: u64) -> u64 {
        let k = self.config.accumulation as u64;
        let start = batch - batch % k;
        k.min(n_batches - start)
    }

    /// Forward, loss, backward of the loaded batch; at the end of its
    /// accumulation group, the optimizer step.
    fn micro_batch<D: descent_data::Dataset<S>>(
        &mut self,
        loader: &DataLoader<S, D>,
        n_batches: u64,
        n_classes: Option<usize>,
        reporter: &mut Reporter,
    ) -> Result<Outcome> {
        let epoch = self.run.epoch;
        let k = self.config.accumulation as u64;
        let group_start = self.run.batch - self.run.micro;
        let group_len = self.group_len(self.run.batch, n_batches);
        let weight = if group_len == 1 {
            1.0
        } else {
            let total: usize = (group_start..group_start + group_len)
                .map(|b| loader.batch_len(b as usize))
                .sum();
            self.batch.len() as f64 / total as f64
        };
        let soft = match &mut self.augment {
            Some(aug) => aug.apply(
                &mut self.batch,
                n_classes,
                derive(self.config.seed, Purpose::Augment),
                epoch,
            )?,
            None => false,
        };
        self.last_soft = soft;
        if self.run.micro == 0 {
            self.state.params.zero_grad();
            self.grads_finite = true;
            self.group_start = (self.run.running, self.run.total_micro);
        }
        self.tape.reset();
        let mut rng = stream_rng(self.config.seed, Purpose::Dropout, self.run.total_micro);
        let top_k = self.config.top_k;
        let (loss, correct) = {
            let tape = &self.tape;
            // The features move to the tape (the loader refills the batch
            // next time) unless the loss or SAM's second pass may read them.
            let x = if self.loss.reads_features() || self.sam.is_some() {
                input(tape, &self.batch)
            } else {
                input_moved(tape, &mut self.batch)
            };
            let out = {
                let mut ctx = Ctx::new(tape, &mut self.state, Mode::Train, &mut rng);
                self.model.forward(&mut ctx, x)
            };
            let loss = self.loss.apply(tape, out, &self.batch, soft);
            let mut correct =
                n_classes.map(|_| out.with_value(|z| count_correct(z, &self.batch.labels, top_k)));
            if self.loss.is_per_pixel()
                && let Some(shape) = out.image()
            {
                let mut counts = PixelCounts::default();
                let ignore = self.loss.ignore_index();
                out.with_value(|z| counts.add(z, shape, &self.batch.class_maps, ignore));
                self.run.running.pixels += counts.scored;
                correct = Some((counts.correct, 0));
            }
            let scaled = if weight == 1.0 {
                loss
            } else {
                loss * S::cast(weight)
            };
            let finite = tape.backward_finite(scaled, &mut self.state.params);
            self.grads_finite &= finite;
            (loss.item().as_f64(), correct)
        };
        let n = self.batch.len();
        if !loss.is_finite() && self.guard.is_none() {
            return Err(Error::NonFiniteLoss {
                epoch,
                step: self.opt.steps(),
                batch: self.run.batch,
                value: loss,
            });
        }
        let r = &mut self.run.running;
        r.loss_sum += loss * n as f64;
        r.seen += n as u64;
        if let Some((c1, ck)) = correct {
            r.correct += c1;
            r.correct_k += ck;
        }
        // The step's loss (for the guard): the group's weighted mean.
        self.run.group_loss += loss * weight;
        self.run.micro += 1;
        self.run.batch += 1;
        self.run.total_micro += 1;
        let mut stepped = false;
        if self.run.micro == group_len || self.run.micro == k {
            let pos = epoch * n_batches + group_start;
            // The step's loss: the group's weighted mean, plus penalties.
            let group_loss = std::mem::take(&mut self.run.group_loss);
            match self.optimizer_step(group_loss, pos)? {
                Some(to) => return Ok(Outcome::RolledBack(to)),
                None => stepped = true,
            }
        }
        let running = &self.run.running;
        let acc = n_classes.map(|_| running.correct as f64 / running.seen.max(1) as f64);
        reporter.batch(
            running.loss_sum / running.seen.max(1) as f64,
            acc,
            running.last_lr,
        );
        self.last_batch = Some(BatchInfo {
            epoch,
            batch: self.run.batch - 1,
            step: self.opt.steps(),
            stepped,
            loss,
            step_loss: if stepped {
                self.last_step_loss.take()
            } else {
                None
            },
            lr: self.run.running.last_lr,
            size: n,
        });
        Ok(Outcome::Next)
    }

    /// Penalties, the finiteness check or the guard, clipping, the step.
    /// Returns the position to resume from when the guard rolled back.
    fn optimizer_step(&mut self, data_loss: f64, pos: u64) -> Result<Option<u64>> {
        let mut step_loss = data_loss;
        for p in &self.penalties {
            step_loss += p.add_grad(&mut self.state.params);
        }
        // Penalties added to the gradients after the backward passes checked them.
        let known_finite = std::mem::take(&mut self.grads_finite) && self.penalties.is_empty();
        self.run.micro = 0;
        // Non-finite gradients are found before anything is applied: by the
        // guard, or by the backward passes as they added them (else one
        // check reads them). The norm (a metric) is measured by the step as
        // it reads them, or by the clip pass that needs it first.
        if let Some(guard) = &mut self.guard {
            let action = guard.observe(
                step_loss,
                pos,
                &mut self.state.params,
                &mut self.opt,
                &mut self.state.buffers,
            )?;
            match action {
                GuardAction::Proceed => {
                    if guard.snapshot_step() != self.guard_mark.as_ref().and_then(|m| m.step) {
                        self.guard_mark = Some(GuardMark {
                            step: guard.snapshot_step(),
                            running: self.group_start.0,
                            history_len: self.run.history.epochs.len(),
                            total_micro: self.group_start.1,
                        });
                    }
                }
                GuardAction::RolledBack(event) => {
                    let mark = self.guard_mark.clone().ok_or_else(|| {
                        Error::Callback("guard rolled back before any snapshot".into())
                    })?;
                    self.run.running = mark.running;
                    self.run.group_loss = 0.0;
                    self.run.history.epochs.truncate(mark.history_len);
                    self.run.total_micro = mark.total_micro;
                    self.run.history.guard_events.push(Rollback::from(event));
                    return Ok(Some(event.resume_at));
                }
            }
        } else if !known_finite && !self.state.params.grads().all_finite() {
            let params = self.state.params.params();
            let name = params
                .iter()
                .zip(self.state.params.grads().iter())
                .find(|(_, (_, g))| g.iter().any(|v| !v.as_f64().is_finite()))
                .map(|((_, meta, _), _)| meta.name.clone())
                .unwrap_or_default();
            return Err(Error::NonFiniteGrad {
                epoch: self.run.epoch,
                step: self.opt.steps(),
                param: name,
            });
        }
        if self.sam.is_some() {
            self.sam_gradient()?;
        }
        let lr = self.opt.effective_lr(0)?;
        // The L2 norm of the gradients before clipping.
        let norm = match self.config.clip {
            Some(Clip::Norm {
                max_norm,
                norm_type,
            }) if norm_type == descent_optim::transform::NormType::L2 => {
                let norm = descent_optim::clip_grad_norm(
                    self.state.params.grads_mut(),
                    max_norm,
                    norm_type,
                    false,
                )?;
                self.opt.step(&mut self.state.params)?;
                norm
            }
            Some(Clip::Norm {
                max_norm,
                norm_type,
            }) => {
                let l2 = descent_optim::grad_norm(self.state.params.grads());
                descent_optim::clip_grad_norm(
                    self.state.params.grads_mut(),
                    max_norm,
                    norm_type,
                    false,
                )?;
                self.opt.step(&mut self.state.params)?;
                l2
            }
            Some(Clip::Value(v)) => {
                let l2 = descent_optim::grad_norm(self.state.params.grads());
                descent_optim::clip_grad_value(self.state.params.grads_mut(), v)?;
                self.opt.step(&mut self.state.params)?;
                l2
            }
            None => self.opt.step_with_grad_norm(&mut self.state.params)?,
        };
        self.average_after_step()?;
        if self.plateau == Some(crate::trainer::PlateauFeed::StepLoss) {
            self.opt.observe_metric(step_loss)?;
        }
        self.last_step_loss = Some(step_loss);
        let r = &mut self.run.running;
        r.grad_norm_sum += norm;
        r.steps += 1;
        r.last_lr = lr;
        Ok(None)
    }

    /// SAM: the gradient at the perturbed point of the step's gradient, in
    /// place of it, with the weights back where they were.
    fn sam_gradient(&mut self) -> Result<()> {
        let Some(mut sam) = self.sam.take() else {
            return Ok(());
        };
        let result = self.sam_second_pass(&mut sam);
        // The weights go back even when the pass failed.
        let restored = sam.restore(&mut self.state.params);
        self.sam = Some(sam);
        result?;
        restored?;
        if !self.state.params.grads().all_finite() {
            let params = self.state.params.params();
            let name = params
                .iter()
                .zip(self.state.params.grads().iter())
                .find(|(_, (_, g))| g.iter().any(|v| !v.as_f64().is_finite()))
                .map(|((_, meta, _), _)| meta.name.clone())
                .unwrap_or_default();
            return Err(Error::NonFiniteGrad {
                epoch: self.run.epoch,
                step: self.opt.steps(),
                param: name,
            });
        }
        Ok(())
    }

    fn sam_second_pass(&mut self, sam: &mut descent_optim::SamPerturbation<S>) -> Result<()> {
        sam.ascend(&mut self.state.params)?;
        self.state.params.zero_grad();
        // Batch norms keep their statistics in this pass (momentum 0, as the
        // reference implementation's `disable_running_stats`).
        let mut momenta = Vec::new();
        let mut failed = None;
        self.model.visit_batch_norms(&mut |bn| {
            momenta.push(bn.momentum());
            if let Err(e) = bn.set_momentum(Some(0.0)) {
                failed.get_or_insert(e);
            }
        });
        self.tape.reset();
        // The same dropout masks as the step's first pass.
        let stream = self.run.total_micro - 1;
        let mut rng = stream_rng(self.config.seed, Purpose::Dropout, stream);
        {
            let tape = &self.tape;
            let x = input(tape, &self.batch);
            let out = {
                let mut ctx = Ctx::new(tape, &mut self.state, Mode::Train, &mut rng);
                self.model.forward(&mut ctx, x)
            };
            let loss = self.loss.apply(tape, out, &self.batch, self.last_soft);
            tape.backward(loss, &mut self.state.params);
        }
        self.tape.reset();
        let mut saved = momenta.into_iter();
        self.model.visit_batch_norms(&mut |bn| {
            if let Some(m) = saved.next()
                && let Err(e) = bn.set_momentum(m)
            {
                failed.get_or_insert(e);
            }
        });
        if let Some(e) = failed {
            return Err(e.into());
        }
        for p in &self.penalties {
            p.add_grad(&mut self.state.params);
        }
        Ok(())
    }

    /// A typed error when a gradient (mid-accumulation), a parameter or a
    /// buffer is not finite; what a checkpoint must never hold.
    pub(crate) fn check_finite_state(&self) -> Result<()> {
        let store = &self.state.params;
        let bad_grad = (self.run.micro > 0 && !store.grads().all_finite())
            .then(|| {
                first_non_finite(
                    store
                        .params()
                        .iter()
                        .map(|(id, m, _)| (m.name.as_str(), store.grad(id))),
                )
            })
            .flatten();
        let bad_value =
            || first_non_finite(store.params().iter().map(|(_, m, v)| (m.name.as_str(), v)));
        let bad_buffer = || {
            self.state.buffers.iter().find_map(|(_, name, b)| match b {
                descent_nn::Buffer::Tensor(m) if m.iter().any(|v| !v.as_f64().is_finite()) => {
                    Some(name.to_owned())
                }
                _ => None,
            })
        };
        match bad_grad.or_else(bad_value).or_else(bad_buffer) {
            Some(param) => Err(Error::NonFiniteGrad {
                epoch: self.run.epoch,
                step: self.opt.steps(),
                param,
            }),
            None => Ok(()),
        }
    }

    /// Tells every callback of the last batch; `Stop` if any asks.
    fn batch_end_control(&mut self) -> Control {
        let Some(info) = self.last_batch else {
            return Control::Continue;
        };
        let mut control = Control::Continue;
        for cb in &mut self.callbacks {
            if cb.on_batch_end(&info) == Control::Stop {
                control = Control::Stop;
            }
        }
        control
    }

    /// Evaluation, metrics, early stopping, callbacks, logs and checkpoints
    /// at the end of an epoch.
    fn end_epoch(
        &mut self,
        data: Data<'_, S>,
        classification: bool,
        wall: f64,
        trained: usize,
        reporter: &mut Reporter,
    ) -> Result<()> {
        let epoch = self.run.epoch;
        // On the averaged weights when the run evaluates them.
        let (validation, test) = self.with_averaged_weights(|t| {
            let validation = data
                .validation
                .map(|d| t.evaluate_split(d, classification))
                .transpose()?;
            let test = data
                .test
                .map(|d| t.evaluate_split(d, classification))
                .transpose()?;
            Ok((validation, test))
        })?;
        let r = &self.run.running;
        let metrics = EpochMetrics {
            epoch,
            step: self.opt.steps(),
            lr: r.last_lr,
            grad_norm: r.grad_norm_sum / r.steps.max(1) as f64,
            train: r.split(classification, self.config.top_k),
            validation,
            test,
            wall_time: wall,
            samples_per_sec: if wall > 0.0 {
                trained as f64 / wall
            } else {
                0.0
            },
        };
        self.run.history.epochs.push(metrics.clone());
        let mut stop = false;
        if let Some(early) = &mut self.early {
            let value = metrics.get(&early.monitor.metric).ok_or_else(|| {
                Error::config(
                    "monitor",
                    format!("`{}` is not measured in this run", early.monitor.metric),
                )
            })?;
            let decision = early
                .stopper
                .update(epoch, value, self.state.params.params(), &());
            if early.restore_best && early.stopper.best_epoch() == Some(epoch) {
                // The weights evaluated: the averaged ones when the run evaluates them.
                let evaluated = match &self.averaging {
                    Some(a) if a.spec.evaluate && a.model.n_averaged() > 0 => a.model.state(),
                    _ => &self.state,
                };
                match &mut early.best {
                    Some(best) => best.clone_from(evaluated),
                    None => early.best = Some(evaluated.clone()),
                }
            }
            if let descent_regularize::Decision::Stop(_) = decision {
                stop = true;
                self.run.history.stopped = Some(Stop::EarlyStopping {
                    epoch,
                    best_epoch: early.stopper.best_epoch(),
                });
            }
        }
        if let Some(crate::trainer::PlateauFeed::Epoch(monitor)) = &self.plateau {
            let value = metrics.get(&monitor.metric).ok_or_else(|| {
                Error::config(
                    "plateau",
                    format!("`{}` is not measured in this run", monitor.metric),
                )
            })?;
            self.opt.observe_metric(value)?;
        }
        for cb in &mut self.callbacks {
            if cb.on_epoch_end(&metrics) == Control::Stop && !stop {
                self.run.history.stopped = Some(Stop::Callback {
                    epoch: epoch + 1,
                    batch: 0,
                });
            }
        }
        reporter.end_epoch(&metrics, self.config.epochs);
        self.run.epoch += 1;
        self.run.batch = 0;
        self.run.running = Running::default();
        if stop {
            self.run.finished = true;
            self.finish_early_stopping()?;
            self.finish_averaging(data.train)?;
        }
        if let Some(dir) = &self.config.log_dir {
            self.run.history.write(dir)?;
        }
        self.checkpoint_after_epoch(&metrics)?;
        Ok(())
    }

    /// With `restore_best`, puts the best epoch's weights back.
    fn finish_early_stopping(&mut self) -> Result<()> {
        if let Some(early) = &self.early
            && early.restore_best
            && let Some(best) = &early.best
        {
            self.state.clone_from(best);
            self.run.history.restored_epoch = early.stopper.best_epoch();
        }
        Ok(())
    }
}

/// The name of the first tensor holding a NaN or an infinity.
fn first_non_finite<'a, S: Scalar>(
    mut tensors: impl Iterator<Item = (&'a str, &'a nalgebra::DMatrix<S>)>,
) -> Option<String> {
    tensors
        .find(|(_, m)| m.iter().any(|v| !v.as_f64().is_finite()))
        .map(|(name, _)| name.to_owned())
}
