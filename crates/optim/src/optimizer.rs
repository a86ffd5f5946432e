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
        (x, y) if crate::float::is_float(x) && crate::float::is_float(y) => true,
        (Value::Null, Value::Null)
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
    #[serde(with = "crate::float")]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store_of;
    use crate::transform::{add_decayed_weights, chain, masked, scale_by_learning_rate, trace};
    use crate::{Adam, AdamConfig, AdamW, AdamWConfig, Sgd, SgdConfig, WeightDecay};
    use descent_core::{GradientTransform, Tags};

    #[test]
    fn non_finite_state_round_trips_through_json_text() {
        use crate::transform::{NormType, clip_by_global_norm, scale_by_adam, scale_by_nadam};
        let build = |store: &ParamStore<f64>| {
            Optimizer::new(
                store,
                0.1,
                chain((
                    clip_by_global_norm(f64::INFINITY, NormType::L2),
                    scale_by_adam(0.9, 0.999, 1e-8, true),
                    scale_by_nadam(0.9, 0.999, 1e-8, 4e-3),
                    scale_by_learning_rate(),
                )),
            )
            .unwrap()
        };
        let mut store = store_of(&[vec![1.0, 2.0, 3.0], vec![4.0]]);
        let mut opt = build(&store);
        let p0 = store.id("p0").unwrap();
        let p1 = store.id("p1").unwrap();
        let g0 = store.grad_mut(p0);
        g0[0] = f64::INFINITY;
        g0[1] = f64::NEG_INFINITY;
        g0[2] = f64::NAN;
        store.grad_mut(p1)[0] = 0.5;
        opt.step(&mut store).unwrap();
        let saved = opt.state();
        let text = serde_json::to_string(&saved).unwrap();
        assert!(
            text.contains(r#""NaN""#) && text.contains(r#""inf""#),
            "{text}"
        );
        let back: OptimizerState = serde_json::from_str(&text).unwrap();
        let mut fresh = build(&store_of(&[vec![1.0, 2.0, 3.0], vec![4.0]]));
        fresh.load_state(&back).unwrap();
        assert_eq!(serde_json::to_string(&fresh.state()).unwrap(), text);
    }

    #[test]
    fn groups_select_by_tag_and_keep_their_own_decay_and_rate() {
        // p0 is a weight, p1 a bias (see `store_of`); zero gradients.
        let mut store = store_of(&[vec![1.0; 3], vec![1.0; 2]]);
        let decay = AdamWConfig {
            lr: 0.1,
            weight_decay: WeightDecay::Decoupled(0.5),
            ..AdamWConfig::default()
        };
        let groups = [
            (
                Selector::tags(Tags::BIAS | Tags::NORM),
                AdamWConfig {
                    weight_decay: WeightDecay::None,
                    ..decay
                },
            ),
            (Selector::All, decay),
        ];
        let mut opt = AdamW::with_groups(&store, &groups).unwrap();
        opt.step(&mut store).unwrap();
        assert_eq!(store.value(store.id("p1").unwrap())[0], 1.0);
        assert!((store.value(store.id("p0").unwrap())[0] - 0.95).abs() < 1e-15);
        opt.set_group_lr(1, 0.2).unwrap();
        opt.step(&mut store).unwrap();
        assert!((store.value(store.id("p0").unwrap())[0] - 0.95 * 0.9).abs() < 1e-15);
        assert_eq!(opt.group_lr(0).unwrap(), 0.1);
        assert_eq!(
            opt.group_lr(2),
            Err(Error::NoSuchGroup { index: 2, len: 2 })
        );
    }

    #[test]
    fn masked_matches_a_group_and_names_select_by_pattern() {
        let values = [vec![1.0, 2.0], vec![3.0]];
        let grads = [0.5, -1.0, 2.0];
        let run = |mut opt: Optimizer<f64>| {
            let mut store = store_of(&values);
            let (params, g) = store.split_mut();
            let mut flat = grads.iter();
            for (_, m) in params.values_mut().zip(g.iter_mut()).map(|(_, g)| g) {
                m.iter_mut().for_each(|x| *x = *flat.next().unwrap());
            }
            opt.step(&mut store).unwrap();
            opt.step(&mut store).unwrap();
            store
                .iter()
                .flat_map(|(_, _, v)| v.iter().copied().collect::<Vec<_>>())
                .collect::<Vec<_>>()
        };
        let store = store_of(&values);
        let no_bias_decay = chain((
            masked(add_decayed_weights(0.1), Selector::name("*0")),
            trace(0.9, 0.0, false),
            scale_by_learning_rate(),
        ));
        let a = run(Optimizer::new(&store, 0.1, no_bias_decay).unwrap());
        let sgd = SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..SgdConfig::default()
        };
        let b = run(Sgd::with_groups(
            &store,
            &[
                (
                    Selector::name("p0"),
                    SgdConfig {
                        weight_decay: WeightDecay::L2(0.1),
                        ..sgd
                    },
                ),
                (Selector::All, sgd),
            ],
        )
        .unwrap());
        assert_eq!(a, b);
    }

    #[test]
    fn the_rate_is_settable_and_a_schedule_multiplies_it() {
        let mut store = store_of(&[vec![0.0]]);
        let id = store.ids().next().unwrap();
        store.grad_mut(id).fill(1.0);
        let mut opt = Sgd::new(
            &store,
            SgdConfig {
                lr: 0.1,
                ..SgdConfig::default()
            },
        )
        .unwrap();
        opt.set_schedule(|step: u64| 1.0 / (step + 1) as f64);
        assert_eq!(opt.effective_lr(0).unwrap(), 0.1);
        opt.step(&mut store).unwrap(); // -0.1
        opt.set_lr(1.0).unwrap();
        assert_eq!(opt.effective_lr(0).unwrap(), 0.5);
        opt.step(&mut store).unwrap(); // -0.5
        assert!((store.value(id)[0] + 0.6).abs() < 1e-15);
        assert_eq!(opt.steps(), 2);
        assert!(matches!(
            opt.set_lr(-1.0),
            Err(Error::OutOfRange { name: "lr", .. })
        ));
    }

    #[test]
    fn a_foreign_store_or_state_is_rejected_and_changes_nothing() {
        let mut store = store_of(&[vec![1.0, 2.0]]);
        let mut opt = Adam::new(&store, AdamConfig::default()).unwrap();
        opt.step(&mut store).unwrap();
        let mut other = store_of(&[vec![1.0, 2.0, 3.0]]);
        assert!(matches!(
            opt.step(&mut other),
            Err(Error::StoreMismatch {
                expected: 1,
                got: 1,
                ..
            })
        ));
        let amsgrad = Adam::new(
            &store,
            AdamConfig {
                amsgrad: true,
                ..AdamConfig::default()
            },
        )
        .unwrap();
        let before = opt.state();
        assert!(matches!(
            opt.load_state(&amsgrad.state()),
            Err(Error::StateMismatch { .. })
        ));
        let sgd = Sgd::new(&store, SgdConfig::default()).unwrap();
        assert!(matches!(
            opt.load_state(&sgd.state()),
            Err(Error::StateMismatch { .. })
        ));
        assert_eq!(opt.state(), before);
        assert!(matches!(
            Optimizer::<f64>::builder(&store).build(),
            Err(Error::NoGroups)
        ));
    }

    #[test]
    fn core_update_and_optimizer_step_agree() {
        let values = [vec![0.3, -0.7, 1.1]];
        let mut a = store_of(&values);
        let mut b = store_of(&values);
        let cfg = AdamWConfig {
            lr: 0.05,
            ..AdamWConfig::default()
        };
        let mut opt = AdamW::new(&a, cfg).unwrap();
        let t = crate::OptimizerConfig::transform(&cfg);
        let mut state = GradientTransform::<f64>::init(&t, b.params());
        for k in 0..4 {
            for s in [&mut a, &mut b] {
                let id = s.ids().next().unwrap();
                s.grad_mut(id)
                    .iter_mut()
                    .enumerate()
                    .for_each(|(j, g)| *g = (j + k) as f64 - 1.5);
            }
            opt.step(&mut a).unwrap();
            let ctx = StepCtx::new(k as u64, 0.05);
            let (params, grads) = b.split_mut();
            t.update(grads, &mut state, params, &ctx);
            let id = b.ids().next().unwrap();
            let u = b.grad(id).clone();
            *b.params_mut().value_mut(id) += u;
        }
        let id = a.ids().next().unwrap();
        assert_eq!(a.value(id), b.value(id));
    }
}
