//! `Optimizer`: parameter groups, each a transform with its state and its
//! learning-rate source, stepped over a store.
//!
//! A group is a selector bound to a chain, its state, a learning-rate source
//! and a momentum slot; the optimizer holds one optional lr multiplier
//! (`set_lr_multiplier`, η_t, where an instability guard lowers the rate).
//! The type-erased runner is `optimizer/runner.rs`, saved state
//! `optimizer/state.rs`, the driven hyperparameters `optimizer/hyper.rs` and
//! `optimizer/momentum.rs`.
//!
//! Invariant: steps leave the store's gradients intact (PyTorch keeps
//! `.grad`); updates are built in a per-thread scratch block.
//! Invariant: `step_with_grad_norm` measures the norm in the step's own walk
//! (each [`BLOCK`](crate::BLOCK)-element chunk's sum of squares into a slot,
//! the slots added in order), equal bit for bit to
//! [`grad_norm`](crate::grad_norm) on any thread count; threaded pieces cut a
//! tensor only at chunk boundaries.

mod hyper;
mod momentum;
mod runner;
mod source;
mod state;

pub use source::{HyperSource, HyperState, LrSource, LrState, SharedSchedule};
pub use state::{GroupState, OptimizerState};

use crate::check;
use crate::error::{Error, Result};
use crate::transform::{BlockTransform, Hyper, Mask};
use crate::walk::{BLOCK, MIN_ELEMS_PER_THREAD, Parallelism, chunk_sq_sum, n_chunks};
use descent_core::Selector;
use descent_core::{ParamStore, Params, Scalar, Schedule, StepCtx};
use descent_schedule::{MetricSchedule, ReduceLrOnPlateau};
use runner::{Bound, Runner};
use source::{HyperSlot, MomentumSlot};
use std::sync::Arc;

struct Group<S: Scalar> {
    lr: LrSource,
    momentum: Option<MomentumSlot>,
    /// The chain's other driven hyperparameters (β₂, ε, weight decay), in
    /// `Hyper` order: one slot per hyperparameter the chain has.
    hypers: Vec<HyperSlot>,
    runner: Box<dyn Runner<S>>,
}

/// An optimizer: parameter groups, each with its own learning rate and
/// transform chain, stepped together over a [`ParamStore`].
///
/// `step` reads the gradients and leaves them intact (as PyTorch keeps
/// `.grad`), updating the values in place.
///
/// A group's learning rate is given one way, as an [`LrSource`]: a value
/// ([`set_lr`](Self::set_lr)), a schedule of absolute rates evaluated at the
/// optimizer's step count ([`set_lr_schedule`](Self::set_lr_schedule)), or a
/// plateau schedule fed metrics through [`observe_metric`](Self::observe_metric)
/// ([`set_lr_plateau`](Self::set_lr_plateau)); each has a per-group form.
/// On top of every group's rate sits one optional *multiplier* schedule
/// ([`set_lr_multiplier`](Self::set_lr_multiplier)): η_t of Loshchilov &
/// Hutter, and the slot `descent-regularize`'s instability guard lowers the
/// rate through. The rate a step uses is the source's rate times the
/// multiplier ([`effective_lr`](Self::effective_lr)).
///
/// A group's momentum — SGD's and RMSprop's `momentum`, Adam-family β₁, the
/// first momentum stage of its chain — is readable and settable on the
/// running optimizer ([`momentum`](Self::momentum), [`set_momentum`](Self::set_momentum))
/// and can follow a schedule ([`set_momentum_schedule`](Self::set_momentum_schedule)),
/// as PyTorch's `OneCycleLR` and `CyclicLR` drive `momentum` or `betas[0]`
/// before each step. A changed momentum applies to the moment buffers as
/// they are, as in PyTorch. It enters the step once, through `StepCtx::momentum`.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::Optimizer;
/// use descent_optim::transform::{chain, scale_by_learning_rate, trace};
/// use descent_schedule::StepLr;
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 1, 1.0))?;
/// let mut opt = Optimizer::new(&store, 0.1, chain((trace(0.9, 0.0, false), scale_by_learning_rate())))?;
/// store.grad_mut(w).fill(1.0);
/// opt.step(&mut store)?;
/// assert!((store.value(w)[0] - 0.9).abs() < 1e-15);
/// assert_eq!(store.grad(w)[0], 1.0, "gradients are left intact");
/// opt.set_lr(0.01)?;
/// assert_eq!(opt.lr(), 0.01);
/// // A schedule gives absolute rates: StepLr(0.2, …) is 0.2 until its first drop.
/// opt.set_lr_schedule(StepLr::new(0.2, 5, 0.5)?);
/// assert_eq!(opt.lr(), 0.2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Optimizer<S: Scalar> {
    groups: Vec<Group<S>>,
    step: u64,
    multiplier: Option<SharedSchedule>,
    parallelism: Parallelism,
    numels: Vec<usize>,
    /// One slot per gradient chunk of the store, for `step_with_grad_norm`.
    sq: Vec<f64>,
}

impl<S: Scalar> std::fmt::Debug for Optimizer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Optimizer")
            .field(
                "lrs",
                &self.groups.iter().map(|g| &g.lr).collect::<Vec<_>>(),
            )
            .field("step", &self.step)
            .field("lr_multiplier", &self.multiplier.is_some())
            .field("parallelism", &self.parallelism)
            .finish()
    }
}

/// Builds an [`Optimizer`] group by group; see [`Optimizer::builder`].
pub struct OptimizerBuilder<'p, S: Scalar> {
    params: &'p Params<S>,
    taken: Vec<bool>,
    groups: Vec<Group<S>>,
}

impl<S: Scalar> OptimizerBuilder<'_, S> {
    /// Adds a group with learning rate `lr` applying `transform` to the
    /// parameters `selector` picks that no earlier group took. (A schedule
    /// replaces the value with [`Optimizer::set_group_lr_schedule`].)
    pub fn group<T: BlockTransform<S> + 'static>(
        mut self,
        selector: &Selector,
        lr: f64,
        transform: T,
    ) -> Result<Self> {
        check::lr(lr)?;
        let mask: Vec<bool> = self
            .params
            .iter()
            .map(|(id, meta, _)| !self.taken[id.index()] && selector.matches(meta))
            .collect();
        transform.check_params(self.params, Mask::new(&mask))?;
        for (t, m) in self.taken.iter_mut().zip(&mask) {
            *t |= *m;
        }
        let state = transform.init_masked(self.params, Mask::new(&mask));
        let momentum = transform.momentum().map(|(kind, value)| MomentumSlot {
            kind,
            source: HyperSource::Value(value),
        });
        let hypers = [Hyper::Beta2, Hyper::Eps, Hyper::WeightDecay]
            .into_iter()
            .filter_map(|key| {
                let value = transform.hyperparam(key)?;
                Some(HyperSlot {
                    key,
                    source: HyperSource::Value(value),
                })
            })
            .collect();
        self.groups.push(Group {
            lr: LrSource::Value(lr),
            momentum,
            hypers,
            runner: Box::new(Bound {
                transform,
                state,
                mask,
                scratch: Vec::new(),
            }),
        });
        Ok(self)
    }

    /// The optimizer; parameters no group took are left alone.
    pub fn build(self) -> Result<Optimizer<S>> {
        if self.groups.is_empty() {
            return Err(Error::NoGroups);
        }
        Ok(Optimizer {
            groups: self.groups,
            step: 0,
            multiplier: None,
            parallelism: Parallelism::with_min_per_thread(MIN_ELEMS_PER_THREAD),
            numels: self.params.iter().map(|(_, _, v)| v.len()).collect(),
            sq: vec![0.0; self.params.iter().map(|(_, _, v)| n_chunks(v.len())).sum()],
        })
    }
}

impl<S: Scalar> Optimizer<S> {
    /// One group over every parameter of `params`.
    pub fn new<T: BlockTransform<S> + 'static>(
        params: &Params<S>,
        lr: f64,
        transform: T,
    ) -> Result<Self> {
        Self::builder(params)
            .group(&Selector::All, lr, transform)?
            .build()
    }

    /// Starts an optimizer with several groups; each parameter belongs to the
    /// first group whose selector picks it.
    pub fn builder(params: &Params<S>) -> OptimizerBuilder<'_, S> {
        OptimizerBuilder {
            params,
            taken: vec![false; params.len()],
            groups: Vec::new(),
        }
    }

    /// Takes one step: reads every gradient, updates every value. The store
    /// must be the one the optimizer was built for.
    pub fn step(&mut self, store: &mut ParamStore<S>) -> Result<()> {
        self.step_inner(store, false)
    }

    /// Takes one step, as [`step`](Self::step), and returns the global L2
    /// norm of the gradients it read, measured in the same walk (no second
    /// pass over the gradients): the norm of every gradient in the store as
    /// it was before the step (stages such as clipping rewrite their own
    /// copy, never the store's), parameters no group updates included.
    /// It equals [`grad_norm`](crate::grad_norm) of the store's gradients
    /// bit for bit, on any number of threads.
    ///
    /// The step is applied whatever the gradients hold: a NaN or infinite
    /// gradient makes the returned norm non-finite, *after* it reached the
    /// parameters. A caller that must not apply a non-finite gradient
    /// checks [`Grads::all_finite`](descent_core::Grads::all_finite) first.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_core::{ParamStore, Tags};
    /// use descent_optim::{Sgd, SgdConfig, grad_norm};
    /// use nalgebra::DMatrix;
    ///
    /// let mut store = ParamStore::<f32>::new();
    /// let w = store.register("w", Tags::WEIGHT, DMatrix::zeros(1, 2))?;
    /// let mut opt = SgdConfig { lr: 0.1, ..SgdConfig::default() }.build(&store)?;
    /// store.grad_mut(w).copy_from_slice(&[3.0, 4.0]);
    /// let before = grad_norm(store.grads());
    /// assert_eq!(opt.step_with_grad_norm(&mut store)?, before);
    /// assert_eq!(before, 5.0);
    /// assert_eq!(store.value(w).as_slice(), &[-0.3, -0.4]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn step_with_grad_norm(&mut self, store: &mut ParamStore<S>) -> Result<f64> {
        self.step_inner(store, true)?;
        // Parameters no group walks: their chunks here, on this thread.
        let mut slots = self.sq.as_mut_slice();
        for (id, g) in store.grads().iter() {
            let (mine, rest) = std::mem::take(&mut slots).split_at_mut(n_chunks(g.len()));
            slots = rest;
            if !self.groups.iter().any(|gr| gr.runner.mask()[id.index()]) {
                for (slot, chunk) in mine.iter_mut().zip(g.as_slice().chunks(BLOCK)) {
                    *slot = chunk_sq_sum(chunk);
                }
            }
        }
        // Chunks in order within a tensor, then tensors in id order: the
        // order of `grad_norm`.
        let mut slots = self.sq.as_slice();
        let mut total = 0.0f64;
        for &n in &self.numels {
            let (mine, rest) = slots.split_at(n_chunks(n));
            slots = rest;
            total += mine.iter().sum::<f64>();
        }
        Ok(total.sqrt())
    }

    fn step_inner(&mut self, store: &mut ParamStore<S>, measure: bool) -> Result<()> {
        self.check_store(store.params())?;
        let mult = self.lr_multiplier();
        let (params, grads) = store.split_mut();
        for g in &mut self.groups {
            let momentum = g.momentum.as_ref().map(|m| m.source.at(self.step));
            let mut ctx = StepCtx::new(self.step, g.lr.at(self.step) * mult)
                .with_lr_multiplier(mult)
                .with_momentum(momentum);
            for h in &g.hypers {
                let value = Some(h.source.at(self.step));
                ctx = match h.key {
                    Hyper::Beta2 => ctx.with_beta2(value),
                    Hyper::Eps => ctx.with_eps(value),
                    Hyper::WeightDecay => ctx.with_weight_decay(value),
                    Hyper::Lr | Hyper::Momentum => ctx,
                };
            }
            let sq = measure.then_some(self.sq.as_mut_slice());
            g.runner.step(params, grads, &ctx, &self.parallelism, sq);
        }
        self.step += 1;
        Ok(())
    }

    /// Rewrites `params` — a copy of the stepped parameters, e.g.
    /// `store.params().clone()` — into the point where the model is to be
    /// evaluated: optax's `schedule_free_eval_params` (schedule-free's `x`)
    /// or Lookahead's slow weights, for groups whose chain keeps one; other
    /// parameters are left as they are. Gradients are still taken at the
    /// parameters [`step`](Self::step) updates.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_core::{ParamStore, Tags};
    /// use descent_optim::{ScheduleFreeSgd, ScheduleFreeSgdConfig};
    /// use nalgebra::DMatrix;
    ///
    /// let mut store = ParamStore::<f64>::new();
    /// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 1, 1.0))?;
    /// let mut opt = ScheduleFreeSgdConfig { lr: 0.1, ..Default::default() }.build(&store)?;
    /// store.grad_mut(w).fill(1.0);
    /// opt.step(&mut store)?;
    /// opt.step(&mut store)?;
    /// let mut eval = store.params().clone();
    /// opt.eval_params(&mut eval)?;
    /// // z = 0.8 after two steps; x averages the z's (0.85); y = 0.9·x + 0.1·z.
    /// assert!((eval.value(w)[0] - 0.85).abs() < 1e-12);
    /// assert!((store.value(w)[0] - 0.845).abs() < 1e-12);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn eval_params(&self, params: &mut Params<S>) -> Result<()> {
        self.check_store(params)?;
        for g in &self.groups {
            g.runner.eval_params(params);
        }
        Ok(())
    }

    fn check_store(&self, params: &Params<S>) -> Result<()> {
        let same = params.len() == self.numels.len()
            && params
                .iter()
                .zip(&self.numels)
                .all(|((_, _, v), &n)| v.len() == n);
        if same {
            return Ok(());
        }
        Err(Error::StoreMismatch {
            expected: self.numels.len(),
            expected_numel: self.numels.clone(),
            got: params.len(),
            got_numel: params.iter().map(|(_, _, v)| v.len()).collect(),
        })
    }

    fn group_mut(&mut self, index: usize) -> Result<&mut Group<S>> {
        let len = self.groups.len();
        self.groups
            .get_mut(index)
            .ok_or(Error::NoSuchGroup { index, len })
    }

    fn group_ref(&self, index: usize) -> Result<&Group<S>> {
        self.groups.get(index).ok_or(Error::NoSuchGroup {
            index,
            len: self.groups.len(),
        })
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// Number of parameter groups.
    pub fn n_groups(&self) -> usize {
        self.groups.len()
    }

    /// The first group's learning rate at the current step, from its source
    /// (before the multiplier).
    pub fn lr(&self) -> f64 {
        self.groups[0].lr.at(self.step)
    }

    /// Group `index`'s learning rate at the current step, from its source
    /// (before the multiplier).
    pub fn group_lr(&self, index: usize) -> Result<f64> {
        Ok(self.group_ref(index)?.lr.at(self.step))
    }

    /// Where group `index`'s learning rate comes from.
    pub fn lr_source(&self, index: usize) -> Result<&LrSource> {
        Ok(&self.group_ref(index)?.lr)
    }

    /// Sets every group's learning rate to the value `lr`, replacing any schedule.
    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        check::lr(lr)?;
        self.groups
            .iter_mut()
            .for_each(|g| g.lr = LrSource::Value(lr));
        Ok(())
    }

    /// Sets group `index`'s learning rate to the value `lr`, replacing any schedule.
    pub fn set_group_lr(&mut self, index: usize, lr: f64) -> Result<()> {
        check::lr(lr)?;
        self.group_mut(index)?.lr = LrSource::Value(lr);
        Ok(())
    }

    /// Gives every group the absolute rates of `schedule`, evaluated at the
    /// optimizer's step count (0 on the first step; restoring the count
    /// restores the rate). `StepLr::new(0.1, …)` trains at 0.1, then its drops.
    pub fn set_lr_schedule(&mut self, schedule: impl Schedule + Send + Sync + 'static) {
        let shared: SharedSchedule = Arc::new(schedule);
        self.groups
            .iter_mut()
            .for_each(|g| g.lr = LrSource::Schedule(shared.clone()));
    }

    /// Gives group `index` the absolute rates of `schedule`.
    pub fn set_group_lr_schedule(
        &mut self,
        index: usize,
        schedule: impl Schedule + Send + Sync + 'static,
    ) -> Result<()> {
        self.group_mut(index)?.lr = LrSource::schedule(schedule);
        Ok(())
    }

    /// Gives every group its own copy of `plateau` (same arguments, same
    /// starting rate); [`observe_metric`](Self::observe_metric) feeds them all,
    /// so they reduce together, as PyTorch's one scheduler over all groups does.
    pub fn set_lr_plateau(&mut self, plateau: ReduceLrOnPlateau) {
        self.groups
            .iter_mut()
            .for_each(|g| g.lr = LrSource::Plateau(plateau.clone()));
    }

    /// Gives group `index` the plateau schedule `plateau`.
    pub fn set_group_lr_plateau(&mut self, index: usize, plateau: ReduceLrOnPlateau) -> Result<()> {
        self.group_mut(index)?.lr = LrSource::Plateau(plateau);
        Ok(())
    }

    /// Sets group `index`'s learning-rate source, whatever its kind.
    pub fn set_group_lr_source(&mut self, index: usize, source: LrSource) -> Result<()> {
        if let LrSource::Value(lr) = source {
            check::lr(lr)?;
        }
        self.group_mut(index)?.lr = source;
        Ok(())
    }

    /// Feeds `metric` (an epoch's validation loss, say) to every group whose
    /// rate is a plateau schedule; the new rates apply from the next step.
    /// [`Error::NoPlateau`] when no group has one (nothing changes).
    pub fn observe_metric(&mut self, metric: f64) -> Result<()> {
        let mut observed = false;
        for g in &mut self.groups {
            if let LrSource::Plateau(p) = &mut g.lr {
                p.observe(metric);
                observed = true;
            }
        }
        match observed {
            true => Ok(()),
            false => Err(Error::NoPlateau),
        }
    }

    /// Multiplies every group's rate by `multiplier.lr(step)` from now on
    /// (η_t of Loshchilov & Hutter, which `WeightDecay::DecoupledSchedule`
    /// follows; PyTorch `LambdaLR`'s factor). There is one multiplier slot:
    /// this replaces the previous one. It is a pure function of the step
    /// count and is not part of the saved state.
    pub fn set_lr_multiplier(&mut self, multiplier: impl Schedule + Send + Sync + 'static) {
        self.multiplier = Some(Arc::new(multiplier));
    }

    /// Removes the multiplier (back to 1).
    pub fn clear_lr_multiplier(&mut self) {
        self.multiplier = None;
    }

    /// True when a multiplier is installed.
    pub fn has_lr_multiplier(&self) -> bool {
        self.multiplier.is_some()
    }

    /// The multiplier at the current step (1 without one).
    pub fn lr_multiplier(&self) -> f64 {
        self.multiplier.as_ref().map_or(1.0, |s| s.lr(self.step))
    }

    /// The rate the next step of group `index` will use: its source's rate
    /// times the multiplier, at the current step count.
    pub fn effective_lr(&self, index: usize) -> Result<f64> {
        Ok(self.group_lr(index)? * self.lr_multiplier())
    }

    /// How steps split their work across threads; a new optimizer has
    /// `Parallelism::with_min_per_thread(MIN_ELEMS_PER_THREAD)`
    /// ([`descent_core::threads::num_threads`] threads, read when it was
    /// built, and at least [`MIN_ELEMS_PER_THREAD`] elements per thread).
    pub fn parallelism(&self) -> Parallelism {
        self.parallelism
    }

    /// Sets how steps split their work across threads, e.g. one thread:
    /// `opt.set_parallelism(Parallelism { threads: 1, ..opt.parallelism() })`.
    /// The bits of a step do not depend on it.
    pub fn set_parallelism(&mut self, parallelism: Parallelism) {
        self.parallelism = parallelism;
    }
}

#[cfg(test)]
mod tests;
