//! `Optimizer`: parameter groups, each a transform with its state, stepped over a store.

use crate::error::{Error, Result, non_negative};
use crate::select::Selector;
use crate::transform::{BlockTransform, Mask};
use crate::walk::{self, Parallelism};
use descent_core::{Grads, ParamStore, Params, Scalar, Schedule, StepCtx};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A group's transform bound to its state, behind a trait object so groups
/// may use different chains.
trait Runner<S: Scalar>: Send {
    fn step(&mut self, params: &mut Params<S>, grads: &Grads<S>, ctx: &StepCtx, par: &Parallelism);
    fn mask(&self) -> &[bool];
    fn save(&self) -> Value;
    fn check(&self, saved: &Value) -> Result<()>;
    fn load(&mut self, saved: &Value) -> Result<()>;
}

struct Bound<S: Scalar, T: BlockTransform<S>> {
    transform: T,
    state: T::State,
    mask: Vec<bool>,
    scratch: Vec<Vec<S>>,
}

impl<S: Scalar, T: BlockTransform<S>> Runner<S> for Bound<S, T> {
    fn step(&mut self, params: &mut Params<S>, grads: &Grads<S>, ctx: &StepCtx, par: &Parallelism) {
        let t = &self.transform;
        walk::apply(
            t,
            &mut self.state,
            params,
            grads,
            &self.mask,
            ctx,
            par,
            &mut self.scratch,
        );
    }

    fn mask(&self) -> &[bool] {
        &self.mask
    }

    fn save(&self) -> Value {
        serde_json::to_value(&self.state).expect("optimizer state serializes to JSON")
    }

    fn check(&self, saved: &Value) -> Result<()> {
        if !same_shape(&self.save(), saved) {
            return Err(Error::StateMismatch {
                reason: "a group's state has another structure or other buffer sizes".into(),
            });
        }
        serde_json::from_value::<T::State>(saved.clone())
            .map(|_| ())
            .map_err(|e| Error::StateMismatch {
                reason: e.to_string(),
            })
    }

    fn load(&mut self, saved: &Value) -> Result<()> {
        self.check(saved)?;
        self.state = serde_json::from_value(saved.clone()).map_err(|e| Error::StateMismatch {
            reason: e.to_string(),
        })?;
        Ok(())
    }
}

/// True when both values have the same structure: same keys, same list
/// lengths, numbers where numbers are.
fn same_shape(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_shape(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_shape(v, w)))
        }
        (Value::Number(_), Value::Number(_))
        | (Value::Null, Value::Null)
        | (Value::Bool(_), Value::Bool(_))
        | (Value::String(_), Value::String(_)) => true,
        _ => false,
    }
}

struct Group<S: Scalar> {
    lr: f64,
    runner: Box<dyn Runner<S>>,
}

/// An optimizer: parameter groups, each with its own learning rate and
/// transform chain, stepped together over a [`ParamStore`].
///
/// `step` reads the gradients and leaves them intact (as PyTorch keeps
/// `.grad`), updating the values in place. The rate is readable and settable
/// between steps; a [`Schedule`] set with [`Optimizer::set_schedule`]
/// multiplies every group's rate by its value at the step count.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::Optimizer;
/// use descent_optim::transform::{chain, scale_by_learning_rate, trace};
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
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Optimizer<S: Scalar> {
    groups: Vec<Group<S>>,
    step: u64,
    schedule: Option<Box<dyn Schedule + Send + Sync>>,
    parallelism: Parallelism,
    numels: Vec<usize>,
}

impl<S: Scalar> std::fmt::Debug for Optimizer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Optimizer")
            .field("lrs", &self.groups.iter().map(|g| g.lr).collect::<Vec<_>>())
            .field("step", &self.step)
            .field("scheduled", &self.schedule.is_some())
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
    /// parameters `selector` picks that no earlier group took.
    pub fn group<T: BlockTransform<S> + 'static>(
        mut self,
        selector: &Selector,
        lr: f64,
        transform: T,
    ) -> Result<Self> {
        non_negative("lr", lr)?;
        let mask: Vec<bool> = self
            .params
            .iter()
            .map(|(id, meta, _)| !self.taken[id.index()] && selector.matches(meta))
            .collect();
        for (t, m) in self.taken.iter_mut().zip(&mask) {
            *t |= *m;
        }
        let state = transform.init_masked(self.params, Mask::new(&mask));
        self.groups.push(Group {
            lr,
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
            schedule: None,
            parallelism: Parallelism::default(),
            numels: self.params.iter().map(|(_, _, v)| v.len()).collect(),
        })
    }
}

/// Everything an optimizer must save to resume: the step count, each group's
/// learning rate and selection, and each group's transform state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerState {
    /// Steps taken.
    pub step: u64,
    /// One entry per group.
    pub groups: Vec<GroupState>,
}

/// The saved state of one parameter group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupState {
    /// The group's learning rate (before any schedule multiplier).
    pub lr: f64,
    /// Which parameters the group updates.
    pub mask: Vec<bool>,
    /// The transform's state.
    pub state: Value,
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
        self.check_store(store.params())?;
        let mult = self.schedule.as_ref().map_or(1.0, |s| s.lr(self.step));
        let (params, grads) = store.split_mut();
        for g in &mut self.groups {
            let ctx = StepCtx {
                step: self.step,
                lr: g.lr * mult,
                lr_multiplier: mult,
            };
            g.runner.step(params, grads, &ctx, &self.parallelism);
        }
        self.step += 1;
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

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// Number of parameter groups.
    pub fn n_groups(&self) -> usize {
        self.groups.len()
    }

    /// The first group's learning rate (before any schedule multiplier).
    pub fn lr(&self) -> f64 {
        self.groups[0].lr
    }

    /// Sets every group's learning rate.
    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        non_negative("lr", lr)?;
        self.groups.iter_mut().for_each(|g| g.lr = lr);
        Ok(())
    }

    /// Group `index`'s learning rate.
    pub fn group_lr(&self, index: usize) -> Result<f64> {
        self.groups
            .get(index)
            .map(|g| g.lr)
            .ok_or(Error::NoSuchGroup {
                index,
                len: self.groups.len(),
            })
    }

    /// Sets group `index`'s learning rate.
    pub fn set_group_lr(&mut self, index: usize, lr: f64) -> Result<()> {
        non_negative("lr", lr)?;
        let len = self.groups.len();
        let g = self
            .groups
            .get_mut(index)
            .ok_or(Error::NoSuchGroup { index, len })?;
        g.lr = lr;
        Ok(())
    }

    /// The rate the next step of group `index` will use: its rate times the
    /// schedule's multiplier at the current step count.
    pub fn effective_lr(&self, index: usize) -> Result<f64> {
        let mult = self.schedule.as_ref().map_or(1.0, |s| s.lr(self.step));
        Ok(self.group_lr(index)? * mult)
    }

    /// Multiplies every group's rate by `schedule.lr(step)` from now on
    /// (PyTorch `LambdaLR`; η_t of Loshchilov & Hutter). It is a pure
    /// function of the step count, so restoring the count restores it.
    pub fn set_schedule(&mut self, schedule: impl Schedule + Send + Sync + 'static) {
        self.schedule = Some(Box::new(schedule));
    }

    /// How steps split their work across threads.
    pub fn parallelism(&self) -> Parallelism {
        self.parallelism
    }

    /// Sets how steps split their work across threads.
    pub fn set_parallelism(&mut self, parallelism: Parallelism) {
        self.parallelism = parallelism;
    }

    /// A snapshot of everything needed to resume.
    pub fn state(&self) -> OptimizerState {
        OptimizerState {
            step: self.step,
            groups: self
                .groups
                .iter()
                .map(|g| GroupState {
                    lr: g.lr,
                    mask: g.runner.mask().to_vec(),
                    state: g.runner.save(),
                })
                .collect(),
        }
    }

    /// Restores a snapshot taken by [`Optimizer::state`] from an optimizer
    /// built the same way over the same parameters. On error nothing changes.
    pub fn load_state(&mut self, saved: &OptimizerState) -> Result<()> {
        if saved.groups.len() != self.groups.len() {
            return Err(Error::StateMismatch {
                reason: format!(
                    "{} groups saved, {} in this optimizer",
                    saved.groups.len(),
                    self.groups.len()
                ),
            });
        }
        for (i, (g, s)) in self.groups.iter().zip(&saved.groups).enumerate() {
            if g.runner.mask() != s.mask.as_slice() {
                return Err(Error::StateMismatch {
                    reason: format!("group {i} selects other parameters"),
                });
            }
            non_negative("lr", s.lr)?;
            g.runner.check(&s.state)?;
        }
        for (g, s) in self.groups.iter_mut().zip(&saved.groups) {
            g.runner.load(&s.state)?;
            g.lr = s.lr;
        }
        self.step = saved.step;
        Ok(())
    }
}
