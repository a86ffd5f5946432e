//! CMA-ES (Hansen 2016) as Optuna's `CmaEsSampler` runs it, with the IPOP
//! and BIPOP restarts of Optuna 4.3 (Auger & Hansen 2005; Hansen 2009).

mod cma;

use super::{RandomSampler, RelativeSample, SampleContext, Sampler};
use crate::{
    Direction, Distribution, Error, FrozenTrial, ParamValue, ParamValues, Result, TrialState,
};
use cma::{Cma, CmaError};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The generation (number of tells of the current run) a trial was drawn in.
const KEY_GENERATION: &str = "cma:generation";
/// How many restarts preceded the run a trial was drawn in.
const KEY_RESTARTS: &str = "cma:n_restarts";
/// The population size of that run.
const KEY_POPSIZE: &str = "cma:popsize";
/// The dimension of the search space of that run.
const KEY_DIM: &str = "cma:dim";
/// On a trial whose sampling told a population: `{"parent": n | null, "trials": [..]}`.
const KEY_TELL: &str = "cma:tell";

/// Restarts of CMA-ES once the library's `should_stop` fires (Optuna ≤ 4.3's
/// `restart_strategy`; Optuna 4.4 dropped it and moved it to OptunaHub).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartStrategy {
    /// IPOP-CMA-ES (`restart_strategy="ipop"`): each restart multiplies the
    /// population size by `inc_popsize` and starts from a uniformly random mean.
    Ipop {
        /// The population's growth factor per restart (Optuna's default 2).
        inc_popsize: usize,
    },
    /// BIPOP-CMA-ES (`restart_strategy="bipop"`): restarts alternate between
    /// a large population (growing by `inc_popsize` each time) and a small
    /// one of random size, whichever regime has spent fewer evaluations.
    Bipop {
        /// The large population's growth factor per restart (default 2).
        inc_popsize: usize,
    },
}

impl RestartStrategy {
    fn inc_popsize(self) -> usize {
        match self {
            RestartStrategy::Ipop { inc_popsize } | RestartStrategy::Bipop { inc_popsize } => {
                inc_popsize
            }
        }
    }
}

/// Arguments of [`CmaEsSampler::new`], named as Optuna's `CmaEsSampler`'s;
/// `Default` is Optuna's.
#[derive(Debug, Clone, PartialEq)]
pub struct CmaEsConfig {
    /// The initial mean, as parameter values (Optuna's `x0`); it must hold
    /// every parameter of the search space. `None`: the centre of each range.
    pub x0: Option<ParamValues>,
    /// The initial step size in the unit cube the parameters are mapped to
    /// (Optuna's `sigma0`). `None`: `1/6` (Optuna's `min_range / 6`).
    pub sigma0: Option<f64>,
    /// Complete trials before CMA-ES starts; until then the independent
    /// sampler draws every parameter (Optuna's default 1).
    pub n_startup_trials: usize,
    /// The population size λ. `None`: `4 + ⌊3 ln n⌋` for `n` parameters.
    pub popsize: Option<usize>,
    /// Restarts when the run has converged (`None`, the default, never restarts).
    pub restart_strategy: Option<RestartStrategy>,
    /// Count pruned trials, valued at their last intermediate value, in
    /// the populations (default false); the search space stays that of the
    /// complete trials, as in Optuna.
    pub consider_pruned_trials: bool,
    /// Warn on stderr when a parameter is drawn by the independent sampler
    /// after the startup trials (default true, as Optuna).
    pub warn_independent_sampling: bool,
}

impl Default for CmaEsConfig {
    fn default() -> Self {
        CmaEsConfig {
            x0: None,
            sigma0: None,
            n_startup_trials: 1,
            popsize: None,
            restart_strategy: None,
            consider_pruned_trials: false,
            warn_independent_sampling: true,
        }
    }
}

/// CMA-ES over the float and int parameters every complete trial has (the
/// intersection search space), with Optuna's semantics; categorical
/// parameters, and any outside that space, are drawn by an independent
/// sampler ([`RandomSampler`] unless [`CmaEsSampler::with_independent_sampler`]).
///
/// Parameters are mapped to the unit cube as Optuna's `_SearchSpaceTransform`
/// does: log ranges in log space, ints and stepped floats widened by half a
/// step on each side and rounded back. The population of generation `g` is
/// the first λ complete trials (by number) drawn in generation `g`; it is
/// told when a later trial is sampled, by that trial.
///
/// # State and resume
///
/// Optuna pickles the optimizer into the trial that told a population; here
/// that trial records which trials it told and which earlier teller's state it
/// continued from (`cma:tell` = `{"parent": …, "trials": […]}`), and every
/// CMA-ES trial records its generation, restart count, population size and
/// dimension. The optimizer is rebuilt by replaying the tells from the last
/// complete teller back to the start, so a study resumed from any storage
/// continues exactly where it was (a cache makes the replay incremental).
/// Draws come from the trial's own random stream; a restart's mean from a
/// stream of the seed numbered by the restart.
///
/// # Examples
///
/// ```
/// use descent_hpo::{CmaEsConfig, CmaEsSampler, Study, StudyConfig};
///
/// let study = Study::new(StudyConfig { seed: 3, ..Default::default() })
///     .with_sampler(CmaEsSampler::new(CmaEsConfig::default())?);
/// study.optimize(
///     |t| {
///         let x = t.suggest_float("x", -5.0, 5.0)?;
///         let y = t.suggest_int("y", -5, 5)?;
///         Ok::<_, descent_hpo::Error>((x - 1.0).powi(2) + (y as f64 + 2.0).powi(2))
///     },
///     80,
///     1,
/// )?;
/// assert!(study.best_value()? < 0.5);
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug)]
pub struct CmaEsSampler<S = RandomSampler> {
    config: CmaEsConfig,
    independent: S,
    warn: AtomicBool,
    cache: Mutex<Option<Replayed>>,
}

/// The optimizer after a chain of tells, kept to extend the next replay.
#[derive(Debug, Clone)]
struct Replayed {
    space: Vec<(String, Distribution)>,
    seed: u64,
    batches: Vec<Vec<(Vec<f64>, f64)>>,
    run: Run,
}

/// The current CMA-ES run and the restart bookkeeping around it.
#[derive(Debug, Clone)]
struct Run {
    cma: Cma,
    n_restarts: usize,
    popsize: usize,
    n_restarts_with_large: usize,
    large: bool,
    small_n_eval: usize,
    large_n_eval: usize,
}

impl CmaEsSampler<RandomSampler> {
    /// A CMA-ES sampler; errs on a `sigma0` that is not positive and finite,
    /// a population under 2, or an `inc_popsize` under 1.
    pub fn new(config: CmaEsConfig) -> Result<Self> {
        if let Some(s) = config.sigma0
            && !(s > 0.0 && s.is_finite())
        {
            return Err(Error::config("sigma0", s, "must be positive and finite"));
        }
        if let Some(p) = config.popsize
            && p < 2
        {
            return Err(Error::config("popsize", p, "must be at least 2"));
        }
        if let Some(r) = config.restart_strategy
            && r.inc_popsize() < 1
        {
            return Err(Error::config(
                "inc_popsize",
                r.inc_popsize(),
                "must be at least 1",
            ));
        }
        let warn = AtomicBool::new(config.warn_independent_sampling);
        Ok(CmaEsSampler {
            config,
            independent: RandomSampler,
            warn,
            cache: Mutex::new(None),
        })
    }
}

impl<S: Sampler> CmaEsSampler<S> {
    /// The same sampler with `sampler` drawing the parameters CMA-ES does
    /// not (Optuna's `independent_sampler=`).
    pub fn with_independent_sampler<T: Sampler>(self, sampler: T) -> CmaEsSampler<T> {
        CmaEsSampler {
            config: self.config,
            independent: sampler,
            warn: self.warn,
            cache: self.cache,
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &CmaEsConfig {
        &self.config
    }

    /// The trials CMA-ES learns from, with the value it minimizes.
    fn completed<'t>(
        &self,
        trials: &'t [FrozenTrial],
        direction: Direction,
    ) -> Vec<(&'t FrozenTrial, f64)> {
        let sign = match direction {
            Direction::Minimize => 1.0,
            Direction::Maximize => -1.0,
        };
        trials
            .iter()
            .filter_map(|t| match t.state {
                TrialState::Complete => t.value.map(|v| (t, sign * v)),
                TrialState::Pruned if self.config.consider_pruned_trials => t
                    .intermediate
                    .iter()
                    .next_back()
                    .map(|(_, v)| *v)
                    .filter(|v| v.is_finite())
                    .map(|v| (t, sign * v)),
                _ => None,
            })
            .collect()
    }

    /// Optuna's `IntersectionSearchSpace` over complete trials, keeping the
    /// float and int parameters of more than one value, in name order.
    fn search_space(trials: &[FrozenTrial]) -> Vec<(String, Distribution)> {
        let mut space: Option<BTreeMap<String, Distribution>> = None;
        for t in trials.iter().filter(|t| t.state == TrialState::Complete) {
            space = Some(match space {
                None => t.distributions.clone(),
                Some(s) => s
                    .into_iter()
                    .filter(|(k, d)| t.distributions.get(k) == Some(d))
                    .collect(),
            });
        }
        space
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, d)| {
                d.single_value().is_none()
                    && matches!(d, Distribution::Float { .. } | Distribution::Int { .. })
            })
            .collect()
    }

    fn warn_dynamic_space(&self) {
        if self.warn.swap(false, Ordering::SeqCst) {
            eprintln!(
                "descent-hpo: warning: `CmaEsSampler` does not support dynamic search space. \
                 `{}` is used instead of `CmaEsSampler`.",
                short_name::<S>()
            );
        }
    }

    /// A fresh run of population `popsize` starting at `mean` (unit cube).
    fn start(&self, dim: usize, mean: Vec<f64>, popsize: usize) -> Result<Cma> {
        let sigma0 = self.config.sigma0.unwrap_or(1.0 / 6.0).max(1e-10);
        Cma::new(mean, sigma0, vec![(0.0, 1.0); dim], 10 * dim, Some(popsize)).map_err(cma_error)
    }

    fn initial_run(&self, space: &[(String, Distribution)]) -> Result<Run> {
        let dim = space.len();
        let mean = match &self.config.x0 {
            None => vec![0.5; dim],
            Some(x0) => space
                .iter()
                .map(|(name, d)| {
                    let v = x0.get(name).ok_or_else(|| {
                        Error::config(
                            "x0",
                            name,
                            "has no value for this parameter of the search space",
                        )
                    })?;
                    let u = to_unit(d, v)
                        .filter(|u| (0.0..=1.0).contains(u))
                        .ok_or_else(|| {
                            Error::config(
                                "x0",
                                format!("{name}={v}"),
                                "lies outside the parameter's distribution",
                            )
                        })?;
                    Ok(u)
                })
                .collect::<Result<Vec<f64>>>()?,
        };
        let popsize = self
            .config
            .popsize
            .unwrap_or(4 + (3.0 * (dim as f64).ln()).floor() as usize);
        Ok(Run {
            cma: self.start(dim, mean, popsize)?,
            n_restarts: 0,
            popsize,
            n_restarts_with_large: 0,
            large: false,
            small_n_eval: 0,
            large_n_eval: 0,
        })
    }

    /// Tells `batch` to the run, then restarts it if the strategy says so.
    fn tell(&self, run: &mut Run, batch: &[(Vec<f64>, f64)], seed: u64) -> Result<()> {
        run.cma.tell(batch).map_err(cma_error)?;
        let Some(strategy) = self.config.restart_strategy else {
            return Ok(());
        };
        if !run.cma.should_stop() {
            return Ok(());
        }
        run.n_restarts += 1;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(0x434d_4145_0000_0000 | run.n_restarts as u64);
        let initial = self
            .config
            .popsize
            .unwrap_or(4 + (3.0 * (run.cma.dim() as f64).ln()).floor() as usize);
        let inc = strategy.inc_popsize();
        match strategy {
            RestartStrategy::Ipop { .. } => run.popsize *= inc,
            RestartStrategy::Bipop { .. } => {
                let n_eval = run.popsize * run.cma.generation();
                if run.large {
                    run.large_n_eval += n_eval;
                } else {
                    run.small_n_eval += n_eval;
                }
                if run.small_n_eval < run.large_n_eval {
                    run.large = false;
                    let multiplier = (inc as f64).powi(run.n_restarts_with_large as i32);
                    let u: f64 = rng.random();
                    run.popsize = (initial as f64 * multiplier.powf(u * u)).floor() as usize;
                } else {
                    run.large = true;
                    run.n_restarts_with_large += 1;
                    run.popsize = initial * inc.pow(run.n_restarts_with_large as u32);
                }
            }
        }
        run.popsize = run.popsize.max(2);
        let dim = run.cma.dim();
        let mean: Vec<f64> = (0..dim).map(|_| rng.random::<f64>()).collect();
        run.cma = self.start(dim, mean, run.popsize)?;
        Ok(())
    }
}

impl<S: Sampler> Sampler for CmaEsSampler<S> {
    fn sample_relative(
        &self,
        ctx: &SampleContext<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<RelativeSample> {
        let space = Self::search_space(ctx.trials);
        if space.is_empty() {
            return Ok(RelativeSample::default());
        }
        let completed = self.completed(ctx.trials, ctx.direction);
        if completed.len() < self.config.n_startup_trials {
            return Ok(RelativeSample::default());
        }
        let dim = space.len();
        let value_of: BTreeMap<u64, (&FrozenTrial, f64)> =
            completed.iter().map(|&(t, v)| (t.number, (t, v))).collect();

        // The chain of tells behind the last complete teller, oldest first.
        let mut chain: Vec<&FrozenTrial> = Vec::new();
        let mut next = completed
            .iter()
            .rev()
            .find(|(t, _)| t.attrs.contains_key(KEY_TELL))
            .map(|(t, _)| *t);
        while let Some(t) = next {
            chain.push(t);
            let parent = t.attrs[KEY_TELL].get("parent").and_then(Value::as_u64);
            next = match parent {
                None => None,
                Some(p) => Some(
                    ctx.trials
                        .iter()
                        .find(|x| x.number == p && x.attrs.contains_key(KEY_TELL))
                        .ok_or_else(|| Error::Decode {
                            what: "cma:tell",
                            reason: format!(
                                "trial {} continues trial {p}, which holds no tell",
                                t.number
                            ),
                        })?,
                ),
            };
        }
        chain.reverse();
        if let Some(last) = chain.last()
            && last.attrs.get(KEY_DIM).and_then(Value::as_u64) != Some(dim as u64)
        {
            self.warn_dynamic_space();
            return Ok(RelativeSample::default());
        }
        let mut batches = Vec::with_capacity(chain.len());
        for t in &chain {
            let told = t.attrs[KEY_TELL].get("trials").and_then(Value::as_array);
            let mut batch = Vec::new();
            for n in told.into_iter().flatten() {
                let found = n.as_u64().and_then(|n| {
                    let (trial, y) = value_of.get(&n)?;
                    Some((transform(&space, &trial.params)?, *y))
                });
                match found {
                    Some(s) => batch.push(s),
                    None => {
                        self.warn_dynamic_space();
                        return Ok(RelativeSample::default());
                    }
                }
            }
            batches.push(batch);
        }

        let cached = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .filter(|c| {
                c.space == space
                    && c.seed == ctx.seed
                    && c.batches.len() <= batches.len()
                    && c.batches[..] == batches[..c.batches.len()]
            });
        let (mut run, done) = match cached {
            Some(c) => (c.run, c.batches.len()),
            None => (self.initial_run(&space)?, 0),
        };
        for batch in &batches[done..] {
            self.tell(&mut run, batch, ctx.seed)?;
        }
        *self.cache.lock().unwrap_or_else(|e| e.into_inner()) = Some(Replayed {
            space: space.clone(),
            seed: ctx.seed,
            batches,
            run: run.clone(),
        });

        let mut attrs = BTreeMap::new();
        let generation = run.cma.generation();
        let solutions: Vec<(&FrozenTrial, f64)> = completed
            .iter()
            .filter(|(t, _)| {
                let attr = |k: &str| t.attrs.get(k).and_then(Value::as_u64);
                attr(KEY_GENERATION) == Some(generation as u64)
                    && attr(KEY_RESTARTS) == Some(run.n_restarts as u64)
                    && attr(KEY_DIM) == Some(dim as u64)
            })
            .copied()
            .collect();
        if solutions.len() >= run.popsize {
            let told = &solutions[..run.popsize];
            let batch: Option<Vec<(Vec<f64>, f64)>> = told
                .iter()
                .map(|(t, y)| Some((transform(&space, &t.params)?, *y)))
                .collect();
            let Some(batch) = batch else {
                self.warn_dynamic_space();
                return Ok(RelativeSample::default());
            };
            self.tell(&mut run, &batch, ctx.seed)?;
            let numbers: Vec<u64> = told.iter().map(|(t, _)| t.number).collect();
            attrs.insert(
                KEY_TELL.to_owned(),
                json!({ "parent": chain.last().map(|t| t.number), "trials": numbers }),
            );
        }
        let x = run.cma.ask(rng);
        attrs.insert(KEY_GENERATION.to_owned(), json!(run.cma.generation()));
        attrs.insert(KEY_RESTARTS.to_owned(), json!(run.n_restarts));
        attrs.insert(KEY_POPSIZE.to_owned(), json!(run.popsize));
        attrs.insert(KEY_DIM.to_owned(), json!(dim));
        let params = space
            .iter()
            .zip(x)
            .map(|((name, d), u)| (name.clone(), from_unit(d, u)))
            .collect();
        Ok(RelativeSample { params, attrs })
    }

    fn sample(
        &self,
        ctx: &SampleContext<'_>,
        name: &str,
        distribution: &Distribution,
        rng: &mut ChaCha8Rng,
    ) -> Result<ParamValue> {
        if self.warn.load(Ordering::SeqCst)
            && self.completed(ctx.trials, ctx.direction).len() >= self.config.n_startup_trials
        {
            eprintln!(
                "descent-hpo: warning: the parameter `{name}` in trial #{} is sampled \
                 independently using `{ind}` instead of `CmaEsSampler` (optimization \
                 performance may be degraded); set `warn_independent_sampling` to false in \
                 `CmaEsConfig` if this is intended (dynamic search space and categorical \
                 distributions are not supported by `CmaEsSampler`)",
                ctx.trial.number,
                ind = short_name::<S>(),
            );
        }
        self.independent.sample(ctx, name, distribution, rng)
    }

    fn before_trial(&self, trials: &[FrozenTrial], trial: &mut FrozenTrial) -> Result<()> {
        self.independent.before_trial(trials, trial)
    }

    fn exhausted(&self, trials: &[FrozenTrial], trial: &FrozenTrial) -> bool {
        self.independent.exhausted(trials, trial)
    }
}

fn short_name<S>() -> &'static str {
    let full = std::any::type_name::<S>();
    let head = full.split('<').next().unwrap_or(full);
    head.rsplit("::").next().unwrap_or(head)
}

fn cma_error(e: CmaError) -> Error {
    match e {
        CmaError::Invalid(reason) => Error::config("cma-es", "state", reason),
        CmaError::WrongPopulation { expected, got } => Error::config(
            "cma-es population",
            got,
            if expected > got {
                "smaller than the population size"
            } else {
                "larger than the population size"
            },
        ),
    }
}

/// `d` with `high` lowered to its last grid point, as Optuna's int and
/// stepped float distributions adjust it.
fn on_grid(d: &Distribution) -> Distribution {
    match *d {
        Distribution::Int {
            low,
            high,
            log,
            step,
        } => {
            let k = (i128::from(high) - i128::from(low)) / i128::from(step.max(1));
            Distribution::Int {
                low,
                high: (i128::from(low) + k * i128::from(step.max(1))) as i64,
                log,
                step,
            }
        }
        Distribution::Float {
            low,
            high,
            log,
            step: Some(s),
        } => {
            let k = ((high - low) / s + 1e-9).floor();
            Distribution::Float {
                low,
                high: (low + k * s).min(high),
                log,
                step: Some(s),
            }
        }
        ref other => other.clone(),
    }
}

/// The interval a float or int parameter occupies before the unit-cube map
/// (Optuna's `_transform_search_space` with `transform_step=True`).
fn raw_bounds(d: &Distribution) -> (f64, f64) {
    match on_grid(d) {
        Distribution::Float {
            low,
            high,
            log: true,
            ..
        } => (low.ln(), high.ln()),
        Distribution::Float {
            low,
            high,
            step: Some(s),
            ..
        } => (low - 0.5 * s, high + 0.5 * s),
        Distribution::Float { low, high, .. } => (low, high),
        Distribution::Int {
            low,
            high,
            log: true,
            step,
        } => {
            let h = 0.5 * step as f64;
            ((low as f64 - h).ln(), (high as f64 + h).ln())
        }
        Distribution::Int {
            low, high, step, ..
        } => {
            let h = 0.5 * step as f64;
            (low as f64 - h, high as f64 + h)
        }
        Distribution::Categorical { .. } => (0.0, 1.0),
    }
}

/// A parameter value in the unit cube (Optuna's `transform` with `transform_0_1`).
fn to_unit(d: &Distribution, v: &ParamValue) -> Option<f64> {
    let x = match (d, v) {
        (Distribution::Float { log, .. }, ParamValue::Float(x)) => {
            if *log {
                x.ln()
            } else {
                *x
            }
        }
        (Distribution::Float { log, .. }, ParamValue::Int(i)) => {
            let x = *i as f64;
            if *log { x.ln() } else { x }
        }
        (Distribution::Int { log, .. }, ParamValue::Int(i)) => {
            let x = *i as f64;
            if *log { x.ln() } else { x }
        }
        _ => return None,
    };
    let (lo, hi) = raw_bounds(d);
    Some(if hi == lo { 0.5 } else { (x - lo) / (hi - lo) })
}

fn transform(space: &[(String, Distribution)], params: &ParamValues) -> Option<Vec<f64>> {
    space
        .iter()
        .map(|(name, d)| to_unit(d, params.get(name)?))
        .collect()
}

/// The parameter value at `u` of the unit cube (Optuna's `untransform`):
/// floats below `high`, steps and ints rounded half to even as numpy does.
fn from_unit(d: &Distribution, u: f64) -> ParamValue {
    let (lo, hi) = raw_bounds(d);
    let x = lo + u * (hi - lo);
    match on_grid(d) {
        Distribution::Float {
            high, log: true, ..
        } => ParamValue::Float(x.exp().min(high.next_down())),
        Distribution::Float {
            low,
            high,
            step: Some(s),
            ..
        } => {
            let k = ((x - low) / s).round_ties_even();
            ParamValue::Float((k * s + low).clamp(low, high))
        }
        Distribution::Float { high, .. } => ParamValue::Float(x.min(high.next_down())),
        Distribution::Int {
            low,
            high,
            log: true,
            ..
        } => ParamValue::Int(x.exp().round_ties_even().clamp(low as f64, high as f64) as i64),
        Distribution::Int {
            low, high, step, ..
        } => {
            let k = ((x - low as f64) / step as f64 + 0.5).floor();
            let v = (k * step as f64 + low as f64).clamp(low as f64, high as f64);
            ParamValue::Int(v as i64)
        }
        Distribution::Categorical { choices } => choices[0].clone(),
    }
}

#[cfg(test)]
mod tests;
