//! A group's hyperparameters on the running optimizer, by key or by name
//! (optax's `inject_hyperparams`): the rate, the momentum, β₂, ε and the
//! weight decay, each read, set or scheduled per group, and saved.
//!
//! Values reach the stages once per step through `StepCtx` (`momentum`,
//! `beta2`, `eps`, `weight_decay`), each to the chain's first stage that
//! declares it (`BlockTransform::hyperparam`); a stage that declares one reads
//! it in `prepare`.

use super::{HyperSource, Optimizer, SharedSchedule};
use crate::error::{Error, Result};
use crate::transform::Hyper;
use crate::{LrSource, MomentumKind};
use descent_core::{Scalar, Schedule};
use std::sync::Arc;

impl<S: Scalar> Optimizer<S> {
    /// The hyperparameters group `index` has, with their values at the
    /// current step: always `lr` (before the multiplier), then those of its
    /// chain (`momentum`/`betas.0`, `betas.1`, `eps`, `weight_decay`).
    pub fn hyperparams(&self, index: usize) -> Result<Vec<(Hyper, f64)>> {
        let g = self.group_ref(index)?;
        let mut out = vec![(Hyper::Lr, g.lr.at(self.step))];
        if let Some(m) = &g.momentum {
            out.push((Hyper::Momentum, m.source.at(self.step)));
        }
        out.extend(g.hypers.iter().map(|h| (h.key, h.source.at(self.step))));
        Ok(out)
    }

    /// Group `index`'s value of `key` at the current step (the rate before
    /// the multiplier). [`Error::NoHyperparam`] when its chain has no such
    /// hyperparameter.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_core::{ParamStore, Tags};
    /// use descent_optim::transform::Hyper;
    /// use descent_optim::{AdamW, AdamWConfig, ArgError, Error};
    /// use nalgebra::DMatrix;
    ///
    /// let mut store = ParamStore::<f64>::new();
    /// store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 2, 1.0))?;
    /// let mut opt = AdamWConfig::default().build(&store)?;
    /// assert_eq!(opt.hyperparam(0, Hyper::Beta2)?, 0.999);
    /// opt.set_hyperparam_by_name(0, "weight_decay", 0.05)?;
    /// assert_eq!(opt.hyperparam_by_name(0, "weight_decay")?, 0.05);
    /// assert!(matches!(opt.set_hyperparam(0, Hyper::Beta2, 1.5), Err(Error::Arg(ArgError { name: "betas.1", .. }))));
    /// assert!(matches!(opt.hyperparam_by_name(0, "beta3"), Err(Error::UnknownHyperparam { .. })));
    /// assert!(matches!(opt.hyperparam(1, Hyper::Lr), Err(Error::NoSuchGroup { index: 1, .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hyperparam(&self, index: usize, key: Hyper) -> Result<f64> {
        let g = self.group_ref(index)?;
        let value = match key {
            Hyper::Lr => Some(g.lr.at(self.step)),
            Hyper::Momentum => g.momentum.as_ref().map(|m| m.source.at(self.step)),
            _ => g
                .hypers
                .iter()
                .find(|h| h.key == key)
                .map(|h| h.source.at(self.step)),
        };
        value.ok_or(Error::NoHyperparam {
            group: index,
            name: key.name(),
        })
    }

    /// [`hyperparam`](Self::hyperparam) by PyTorch name (`lr`, `momentum`,
    /// `betas.0`, `betas.1`, `eps`, `weight_decay`); an unknown name is
    /// [`Error::UnknownHyperparam`].
    pub fn hyperparam_by_name(&self, index: usize, name: &str) -> Result<f64> {
        let key = self.key_of(index, name)?;
        self.hyperparam(index, key)
    }

    /// Sets group `index`'s `key` to the value `value` from the next step
    /// on, replacing any schedule: the rate through
    /// [`set_group_lr`](Self::set_group_lr), the momentum through
    /// [`set_group_momentum`](Self::set_group_momentum), the others the
    /// same way. It applies to the state as it is (moments are kept, as
    /// when PyTorch's `param_groups` are edited); it is checked against the
    /// hyperparameter's range ([`Error::OutOfRange`] naming it) and saved in
    /// the optimizer's state. On error nothing changes.
    pub fn set_hyperparam(&mut self, index: usize, key: Hyper, value: f64) -> Result<()> {
        match key {
            Hyper::Lr => self.set_group_lr(index, value),
            Hyper::Momentum => self
                .set_group_momentum(index, value)
                .map_err(|e| no_momentum(e, key)),
            _ => {
                key.check(value)?;
                self.slot(index, key)?.source = HyperSource::Value(value);
                Ok(())
            }
        }
    }

    /// [`set_hyperparam`](Self::set_hyperparam) by PyTorch name.
    pub fn set_hyperparam_by_name(&mut self, index: usize, name: &str, value: f64) -> Result<()> {
        let key = self.key_of(index, name)?;
        self.set_hyperparam(index, key, value)
    }

    /// Drives group `index`'s `key` by `schedule`, evaluated at the
    /// optimizer's step count (the rate's schedule gives absolute rates).
    /// Only the schedule's presence is saved: install it again before
    /// loading a state saved under it.
    pub fn set_hyperparam_schedule(
        &mut self,
        index: usize,
        key: Hyper,
        schedule: impl Schedule + Send + Sync + 'static,
    ) -> Result<()> {
        let shared: SharedSchedule = Arc::new(schedule);
        match key {
            Hyper::Lr => self.set_group_lr_source(index, LrSource::Schedule(shared)),
            Hyper::Momentum => self
                .set_group_momentum_schedule(index, move |t: u64| shared.lr(t))
                .map_err(|e| no_momentum(e, key)),
            _ => {
                self.slot(index, key)?.source = HyperSource::Schedule(shared);
                Ok(())
            }
        }
    }

    /// The key `name` stands for in group `index`: `betas.0` and `momentum`
    /// both name the momentum slot, but only the one its kind is called by
    /// PyTorch (or either, for `beta1`).
    fn key_of(&self, index: usize, name: &str) -> Result<Hyper> {
        let key: Hyper = name.parse()?;
        if key == Hyper::Momentum {
            let kind = self.momentum_kind(index)?;
            let wrong = match kind {
                Some(MomentumKind::Momentum) => name == "betas.0",
                Some(MomentumKind::Beta1) => name == "momentum",
                None => false,
            };
            if wrong {
                return Err(Error::NoHyperparam {
                    group: index,
                    name: if name == "momentum" {
                        "momentum"
                    } else {
                        "betas.0"
                    },
                });
            }
        }
        Ok(key)
    }

    fn slot(&mut self, index: usize, key: Hyper) -> Result<&mut super::HyperSlot> {
        self.group_mut(index)?
            .hypers
            .iter_mut()
            .find(|h| h.key == key)
            .ok_or(Error::NoHyperparam {
                group: index,
                name: key.name(),
            })
    }
}

/// `NoMomentum` from the momentum methods, as the generic `NoHyperparam`.
fn no_momentum(e: Error, key: Hyper) -> Error {
    match e {
        Error::NoMomentum { group } => Error::NoHyperparam {
            group,
            name: key.name(),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use crate::ArgError;
    use crate::testing::store_of;
    use crate::transform::Hyper;
    use crate::{AdamWConfig, Error, HyperState, LrState, Optimizer, SgdConfig};
    use crate::{WeightDecay, grad_norm};
    use descent_core::ParamStore;

    fn values() -> Vec<Vec<f64>> {
        vec![vec![0.5, -1.0, 2.0], vec![0.25; 700]]
    }

    /// Steps `n` times on gradients that depend on the values and the step.
    fn steps(opt: &mut Optimizer<f64>, store: &mut ParamStore<f64>, n: usize) -> Vec<f64> {
        for k in 0..n {
            let (params, grads) = store.split_mut();
            for ((_, p), (_, g)) in params.values_mut().zip(grads.iter_mut()) {
                g.zip_apply(p, |g, p| *g = (p * 1.3 + k as f64).cos());
            }
            opt.step(store).unwrap();
        }
        assert!(grad_norm(store.grads()).is_finite());
        store
            .iter()
            .flat_map(|(_, _, v)| v.as_slice().to_vec())
            .collect()
    }

    fn adamw(lr: f64, b2: f64, eps: f64, wd: f64) -> AdamWConfig {
        AdamWConfig {
            lr,
            betas: (0.9, b2),
            eps,
            weight_decay: WeightDecay::Decoupled(wd),
            ..AdamWConfig::default()
        }
    }

    #[test]
    fn hyperparams_set_mid_run_equal_an_optimizer_built_with_them_from_the_same_state() {
        let mut store = store_of(&values());
        let mut opt = adamw(0.01, 0.999, 1e-8, 0.01).build(&store).unwrap();
        steps(&mut opt, &mut store, 3);
        let mut saved = opt.state();
        let x3 = store.clone();
        opt.set_hyperparam(0, Hyper::Lr, 0.003).unwrap();
        opt.set_hyperparam_by_name(0, "betas.1", 0.99).unwrap();
        opt.set_hyperparam_by_name(0, "eps", 1e-6).unwrap();
        opt.set_hyperparam(0, Hyper::WeightDecay, 0.05).unwrap();
        let changed = steps(&mut opt, &mut store, 4);

        // Built with the new values; the state saved at step 3 carries the
        // old rate and no driven hyperparameters (as a state saved before
        // they existed), so the built values stay.
        let mut store_b = x3;
        let mut built = adamw(0.003, 0.99, 1e-6, 0.05).build(&store_b).unwrap();
        saved.groups[0].lr = LrState::Value(0.003);
        saved.groups[0].hypers.clear();
        built.load_state(&saved).unwrap();
        assert_eq!(built.hyperparam(0, Hyper::Beta2).unwrap(), 0.99);
        let want = steps(&mut built, &mut store_b, 4);
        assert_eq!(changed, want);
    }

    #[test]
    fn driven_hyperparams_round_trip_through_a_saved_state() {
        let mut store = store_of(&values());
        let mut opt = adamw(0.01, 0.999, 1e-8, 0.01).build(&store).unwrap();
        steps(&mut opt, &mut store, 2);
        opt.set_hyperparam(0, Hyper::Beta2, 0.95).unwrap();
        opt.set_hyperparam(0, Hyper::Eps, 1e-5).unwrap();
        opt.set_hyperparam(0, Hyper::Momentum, 0.8).unwrap();
        opt.set_hyperparam_schedule(0, Hyper::WeightDecay, |t: u64| 0.01 * t as f64)
            .unwrap();
        let text = serde_json::to_string(&opt.state()).unwrap();
        let resumed_store = store.clone();
        let uninterrupted = steps(&mut opt, &mut store, 3);

        let mut fresh = AdamWConfig::default().build(&resumed_store).unwrap();
        let saved = serde_json::from_str(&text).unwrap();
        // Saved under a weight-decay schedule: it must be installed first.
        let err = fresh.load_state(&saved).unwrap_err();
        assert!(err.to_string().contains("weight_decay"), "{err}");
        assert_eq!(
            fresh.hyperparam(0, Hyper::Beta2).unwrap(),
            0.999,
            "unchanged"
        );
        fresh
            .set_hyperparam_schedule(0, Hyper::WeightDecay, |t: u64| 0.01 * t as f64)
            .unwrap();
        fresh.load_state(&saved).unwrap();
        let got = fresh.hyperparams(0).unwrap();
        assert_eq!(
            got,
            vec![
                (Hyper::Lr, 0.01),
                (Hyper::Momentum, 0.8),
                (Hyper::Beta2, 0.95),
                (Hyper::Eps, 1e-5),
                (Hyper::WeightDecay, 0.02),
            ]
        );
        let mut store2 = resumed_store;
        assert_eq!(steps(&mut fresh, &mut store2, 3), uninterrupted);
    }

    #[test]
    fn a_state_saved_without_hypers_still_loads() {
        let mut store = store_of(&values());
        let mut opt = AdamWConfig::default().build(&store).unwrap();
        steps(&mut opt, &mut store, 1);
        let mut json = serde_json::to_value(opt.state()).unwrap();
        let group = &mut json["groups"][0];
        assert!(group.get("hypers").is_some());
        group.as_object_mut().unwrap().remove("hypers");
        let old: crate::OptimizerState = serde_json::from_value(json).unwrap();
        let mut fresh = AdamWConfig::default().build(&store).unwrap();
        fresh.load_state(&old).unwrap();
        assert_eq!(fresh.steps(), 1);
        // A saved hyperparameter the chain here lacks is a clear error.
        let mut extra = old.clone();
        extra.groups[0]
            .hypers
            .insert(Hyper::WeightDecay, HyperState::Value(0.1));
        let mut sgd = SgdConfig::default().build(&store).unwrap();
        extra.groups[0].state = sgd.state().groups[0].state.clone();
        extra.groups[0].momentum = None;
        let err = sgd.load_state(&extra).unwrap_err();
        assert!(err.to_string().contains("weight_decay"), "{err}");
    }

    #[test]
    fn unknown_absent_and_invalid_hyperparams_are_typed_errors_that_change_nothing() {
        let store = store_of(&values());
        let mut sgd = SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..SgdConfig::default()
        }
        .build(&store)
        .unwrap();
        let no = |name| Error::NoHyperparam { group: 0, name };
        assert_eq!(sgd.hyperparam(0, Hyper::Beta2), Err(no("betas.1")));
        assert_eq!(
            sgd.set_hyperparam(0, Hyper::WeightDecay, 0.1),
            Err(no("weight_decay"))
        );
        assert_eq!(sgd.hyperparam_by_name(0, "betas.0"), Err(no("betas.0")));
        assert_eq!(sgd.hyperparam_by_name(0, "momentum"), Ok(0.9));
        assert!(matches!(
            sgd.set_hyperparam_by_name(0, "nesterov", 1.0),
            Err(Error::UnknownHyperparam { name }) if name == "nesterov"
        ));
        assert!(matches!(
            sgd.set_hyperparam(0, Hyper::Lr, -1.0),
            Err(Error::Arg(ArgError { name: "lr", .. }))
        ));
        assert!(matches!(
            sgd.set_hyperparam(3, Hyper::Lr, 0.1),
            Err(Error::NoSuchGroup { index: 3, len: 1 })
        ));
        let plain = SgdConfig::default().build(&store).unwrap();
        assert_eq!(plain.hyperparam(0, Hyper::Momentum), Err(no("momentum")));
        let mut adam = AdamWConfig::default().build(&store).unwrap();
        assert!(matches!(
            adam.set_hyperparam_by_name(0, "eps", 0.0),
            Err(Error::Arg(ArgError { name: "eps", .. }))
        ));
        assert_eq!(adam.hyperparam_by_name(0, "eps"), Ok(1e-8));
        assert!(matches!(
            adam.set_hyperparam(0, Hyper::Momentum, 1.0),
            Err(Error::Arg(ArgError {
                name: "betas.0",
                ..
            }))
        ));
        assert_eq!(adam.hyperparam_by_name(0, "momentum"), Err(no("momentum")));
        assert_eq!(sgd.hyperparams(0).unwrap().len(), 2);
    }
}
