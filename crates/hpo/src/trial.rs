//! A running trial: the handle an objective samples from and reports to.

use crate::sampler::SampleContext;
use crate::{
    Distribution, Error, FrozenTrial, ParamValue, ParamValues, PruneContext, Result, Study,
};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::time::Instant;

/// A running trial (Optuna's `Trial`): sample parameters with the `suggest_*`
/// methods, report intermediate values, and stop when [`Trial::should_prune`] says so.
///
/// Obtained from [`Study::ask`] (or inside [`Study::optimize`]) and given back
/// with [`Study::tell`].
pub struct Trial<'s> {
    pub(crate) study: &'s Study,
    pub(crate) frozen: FrozenTrial,
    pub(crate) rng: ChaCha8Rng,
    pub(crate) pruned: bool,
    pub(crate) started: Instant,
    /// What the sampler drew jointly, once the first parameter was suggested.
    pub(crate) relative: Option<BTreeMap<String, ParamValue>>,
    /// A single-objective operation this trial of a multi-objective study
    /// asked for (reported at `tell`).
    pub(crate) unsupported: Option<&'static str>,
}

impl std::fmt::Debug for Trial<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trial")
            .field("frozen", &self.frozen)
            .field("pruned", &self.pruned)
            .finish()
    }
}

impl Trial<'_> {
    /// The trial's number in its study.
    pub fn number(&self) -> u64 {
        self.frozen.number
    }

    /// The parameters sampled so far.
    pub fn params(&self) -> &ParamValues {
        &self.frozen.params
    }

    /// The record so far (parameters, intermediate values).
    pub fn frozen(&self) -> &FrozenTrial {
        &self.frozen
    }

    /// Whether [`Trial::should_prune`] has answered yes; the trial will be
    /// recorded as pruned whatever the objective returns.
    pub fn is_pruned(&self) -> bool {
        self.pruned
    }

    /// The value of parameter `name` drawn from `distribution`; asking again
    /// for the same name returns the same value.
    pub fn suggest(&mut self, name: &str, distribution: Distribution) -> Result<ParamValue> {
        distribution.check(name)?;
        if let Some(known) = self.frozen.distributions.get(name) {
            if *known != distribution {
                return Err(Error::DistributionChanged {
                    name: name.to_owned(),
                });
            }
            return Ok(self
                .frozen
                .params
                .get(name)
                .cloned()
                .expect("recorded together"));
        }
        let study = self.study;
        if self.relative.is_none() {
            let relative = study.with_state(|trials| {
                let ctx = SampleContext {
                    trials,
                    trial: &self.frozen,
                    direction: study.directions()[0],
                    directions: study.directions(),
                    seed: study.sampler_seed(),
                };
                study.sampler.sample_relative(&ctx, &mut self.rng)
            })?;
            let publish = !relative.attrs.is_empty();
            self.frozen.attrs.extend(relative.attrs);
            self.relative = Some(relative.params);
            if publish {
                self.publish()?;
            }
        }
        let fixed = self
            .fixed_param(name, &distribution)
            .or_else(|| distribution.single_value())
            .or_else(|| {
                self.relative
                    .as_ref()
                    .and_then(|r| r.get(name))
                    .filter(|v| distribution.contains(v))
                    .cloned()
            });
        let value = fixed.map_or_else(
            || {
                study.with_state(|trials| {
                    let ctx = SampleContext {
                        trials,
                        trial: &self.frozen,
                        direction: study.directions()[0],
                        directions: study.directions(),
                        seed: study.sampler_seed(),
                    };
                    study
                        .sampler
                        .sample(&ctx, name, &distribution, &mut self.rng)
                })
            },
            Ok,
        )?;
        if !distribution.contains(&value) {
            return Err(Error::config(
                "sampled value",
                format!("{name}={value}"),
                "the sampler returned a value outside the distribution",
            ));
        }
        self.frozen.params.insert(name, value.clone());
        self.frozen
            .distributions
            .insert(name.to_owned(), distribution);
        self.publish()?;
        Ok(value)
    }

    /// The value Optuna's `enqueue_trial` fixed for `name` (the trial's
    /// `fixed_params` system attribute), if it lies in `distribution`.
    fn fixed_param(&self, name: &str, distribution: &Distribution) -> Option<ParamValue> {
        let json = self.frozen.attrs.get("fixed_params")?.get(name)?;
        let value: ParamValue = serde_json::from_value(json.clone()).ok()?;
        let value = match (distribution, value) {
            (Distribution::Float { .. }, ParamValue::Int(i)) => ParamValue::Float(i as f64),
            (Distribution::Int { .. }, ParamValue::Float(x)) if x.fract() == 0.0 => {
                ParamValue::Int(x as i64)
            }
            (_, v) => v,
        };
        distribution.contains(&value).then_some(value)
    }

    /// A float uniform in `[low, high]`.
    pub fn suggest_float(&mut self, name: &str, low: f64, high: f64) -> Result<f64> {
        let d = Distribution::Float {
            low,
            high,
            log: false,
            step: None,
        };
        self.suggest(name, d).map(|v| float(&v))
    }

    /// A float log-uniform in `[low, high]` (a learning rate, say).
    pub fn suggest_float_log(&mut self, name: &str, low: f64, high: f64) -> Result<f64> {
        let d = Distribution::Float {
            low,
            high,
            log: true,
            step: None,
        };
        self.suggest(name, d).map(|v| float(&v))
    }

    /// A float on the grid `low + k·step` within `[low, high]`.
    pub fn suggest_float_step(
        &mut self,
        name: &str,
        low: f64,
        high: f64,
        step: f64,
    ) -> Result<f64> {
        let d = Distribution::Float {
            low,
            high,
            log: false,
            step: Some(step),
        };
        self.suggest(name, d).map(|v| float(&v))
    }

    /// An integer uniform in `[low, high]`.
    pub fn suggest_int(&mut self, name: &str, low: i64, high: i64) -> Result<i64> {
        self.suggest_int_step(name, low, high, 1)
    }

    /// An integer on the grid `low + k·step` within `[low, high]`.
    pub fn suggest_int_step(&mut self, name: &str, low: i64, high: i64, step: i64) -> Result<i64> {
        let d = Distribution::Int {
            low,
            high,
            log: false,
            step,
        };
        self.suggest(name, d).map(|v| int(&v))
    }

    /// An integer log-uniform in `[low, high]` (a layer width, say).
    pub fn suggest_int_log(&mut self, name: &str, low: i64, high: i64) -> Result<i64> {
        let d = Distribution::Int {
            low,
            high,
            log: true,
            step: 1,
        };
        self.suggest(name, d).map(|v| int(&v))
    }

    /// One of `choices`.
    pub fn suggest_categorical<T>(&mut self, name: &str, choices: &[T]) -> Result<T>
    where
        T: Clone + Into<ParamValue>,
    {
        let values: Vec<ParamValue> = choices.iter().cloned().map(Into::into).collect();
        let d = Distribution::Categorical {
            choices: values.clone(),
        };
        let v = self.suggest(name, d)?;
        let idx = values
            .iter()
            .position(|c| *c == v)
            .expect("sampled from the choices");
        Ok(choices[idx].clone())
    }

    /// Records the objective's intermediate `value` at `step` (an epoch's
    /// validation loss, say); a second report at the same step is ignored, as in Optuna.
    ///
    /// A multi-objective study does not take reports (Optuna raises
    /// `NotImplementedError`): the trial is failed when told, and
    /// [`Study::tell`] returns [`crate::Error::SingleObjectiveOnly`].
    pub fn report(&mut self, step: u64, value: f64) {
        if self.study.directions().len() > 1 {
            self.unsupported.get_or_insert("Trial::report");
            return;
        }
        if self.frozen.intermediate.contains_key(&step) {
            return;
        }
        self.frozen.intermediate.insert(step, value);
        // A storage that cannot take it now gets it again when the trial is told.
        let _ = self.publish();
    }

    /// Whether the pruner says this trial should stop now; once it has said
    /// yes the trial is recorded as pruned, whatever the objective returns.
    ///
    /// Pruning is for single-objective studies: in a multi-objective one this
    /// answers `false` and the trial fails when told, as for [`Trial::report`].
    pub fn should_prune(&mut self) -> bool {
        let study = self.study;
        if study.directions().len() > 1 {
            self.unsupported.get_or_insert("Trial::should_prune");
            return false;
        }
        let decision = study.with_state(|trials| {
            // A paused trial that was resumed lives on in its resumed trial.
            let live = crate::resume::without_resumed(trials);
            let ctx = PruneContext {
                trials: live.as_deref().unwrap_or(trials),
                direction: study.config.direction,
                seed: study.config.seed,
            };
            study.pruner.prune(&ctx, &self.frozen)
        });
        self.pruned |= decision;
        decision
    }

    /// Makes the study's copy of this running trial match ours.
    fn publish(&self) -> Result<()> {
        self.study.update_running(&self.frozen)
    }
}

fn float(v: &ParamValue) -> f64 {
    match v {
        ParamValue::Float(x) => *x,
        ParamValue::Int(i) => *i as f64,
        other => unreachable!("a float distribution gave {other:?}"),
    }
}

fn int(v: &ParamValue) -> i64 {
    match v {
        ParamValue::Int(i) => *i,
        other => unreachable!("an int distribution gave {other:?}"),
    }
}
