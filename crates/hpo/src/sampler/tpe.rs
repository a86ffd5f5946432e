//! Tree-structured Parzen Estimator (Bergstra et al. 2011) with the semantics
//! of Optuna's `TPESampler` (`optuna/samplers/_tpe/sampler.py`, Optuna 5):
//! multivariate by default, grouped for conditional spaces, a constant liar
//! for running trials, old trials down-weighted, γ capped at 25.
//!
//! `Sampler::sample_relative` draws the jointly sampled parameters when a trial
//! suggests its first one, and keeps a running trial's joint draw in Optuna's
//! `tpe:relative_params:{i}` attrs; `suggest_*` then takes, in Optuna's order,
//! an enqueued value, the one value of a single-valued distribution, the joint
//! draw, or `Sampler::sample`.
//! Invariant: the joint draw is published to the study (and storage) before
//! the trial's first value is returned, so a trial asked next sees it as a
//! running trial's values.

mod parzen;
mod truncnorm;

use super::{RandomSampler, RelativeSample, SampleContext, Sampler};
use crate::{Direction, Distribution, Error, FrozenTrial, ParamValue, Result, TrialState};
use parzen::{Parzen, ParzenParams};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

/// The trial attribute under which a trial's jointly sampled parameters are
/// kept while it runs, in chunks of [`RELATIVE_CHUNK`] characters (Optuna's
/// `tpe:relative_params:{i}` system attributes, so Optuna workers sharing a
/// database read them too).
const RELATIVE_PARAMS_KEY: &str = "tpe:relative_params";
/// Optuna's `_SYSTEM_ATTR_MAX_LENGTH`.
const RELATIVE_CHUNK: usize = 2045;

/// How many of `n` finished trials count as good (Optuna's `gamma` argument).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gamma {
    /// `min(ceil(fraction · n), cap)`; Optuna's default is `fraction = 0.1`, `cap = 25`.
    Linear {
        /// The share of trials counted as good.
        fraction: f64,
        /// The most trials counted as good.
        cap: usize,
    },
    /// `min(ceil(factor · √n), cap)`: hyperopt's rule (Optuna's
    /// `hyperopt_default_gamma`, `factor = 0.25`, `cap = 25`).
    Sqrt {
        /// The factor of `√n`.
        factor: f64,
        /// The most trials counted as good.
        cap: usize,
    },
}

impl Default for Gamma {
    fn default() -> Self {
        Gamma::Linear {
            fraction: 0.1,
            cap: 25,
        }
    }
}

impl Gamma {
    /// The number of good trials among `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_hpo::Gamma;
    ///
    /// assert_eq!(Gamma::default().of(95), 10);
    /// assert_eq!(Gamma::default().of(1000), 25);
    /// ```
    pub fn of(&self, n: usize) -> usize {
        let (x, cap) = match *self {
            Gamma::Linear { fraction, cap } => (fraction * n as f64, cap),
            Gamma::Sqrt { factor, cap } => (factor * (n as f64).sqrt(), cap),
        };
        (x.ceil() as usize).min(cap)
    }

    fn check(&self) -> Result<()> {
        let (name, x) = match *self {
            Gamma::Linear { fraction, .. } => ("gamma.fraction", fraction),
            Gamma::Sqrt { factor, .. } => ("gamma.factor", factor),
        };
        if !(x > 0.0 && x.is_finite()) {
            return Err(Error::config(name, x, "must be finite and > 0"));
        }
        Ok(())
    }
}

/// The weights of the observations of a Parzen estimator, oldest first
/// (Optuna's `weights` argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weights {
    /// The newest `flat` observations weigh 1, older ones rise linearly from
    /// `1/n` (Optuna's `default_weights`, `flat = 25`).
    Ramp {
        /// How many of the newest observations weigh 1.
        flat: usize,
    },
    /// Every observation weighs 1.
    Uniform,
}

impl Default for Weights {
    fn default() -> Self {
        Weights::Ramp { flat: 25 }
    }
}

impl Weights {
    /// The weights of `n` observations, oldest first.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_hpo::Weights;
    ///
    /// let w = Weights::default().of(27);
    /// assert_eq!(w.len(), 27);
    /// assert_eq!(w[0], 1.0 / 27.0);
    /// assert_eq!(w[1], 1.0);
    /// ```
    pub fn of(&self, n: usize) -> Vec<f64> {
        match *self {
            Weights::Ramp { flat } if n > flat => {
                // NumPy's linspace(1/n, 1, n − flat), then `flat` ones.
                let m = n - flat;
                let start = 1.0 / n as f64;
                let mut w: Vec<f64> = if m == 1 {
                    vec![start]
                } else {
                    let step = (1.0 - start) / (m - 1) as f64;
                    let mut v: Vec<f64> = (0..m).map(|i| start + i as f64 * step).collect();
                    v[m - 1] = 1.0;
                    v
                };
                w.resize(n, 1.0);
                w
            }
            _ => vec![1.0; n],
        }
    }
}

/// Arguments of [`TpeSampler`]; `Default` is Optuna 5's `TPESampler()`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TpeConfig {
    /// Finished (complete or pruned) trials sampled at random before TPE
    /// takes over (default 10).
    pub n_startup_trials: usize,
    /// Candidates drawn from the good density; the one maximizing
    /// `log l(x) − log g(x)` wins (default 24).
    pub n_ei_candidates: usize,
    /// How many finished trials count as good (default: 10 %, at most 25).
    pub gamma: Gamma,
    /// How observations are weighted by age (default: the newest 25 weigh 1,
    /// older ones less).
    pub weights: Weights,
    /// The prior's weight beside observations weighing 1 (default 1.0): a
    /// kernel at the range's centre with the range's width as bandwidth, a
    /// uniform row for categories.
    pub prior_weight: f64,
    /// Clip bandwidths below at `range / min(100, n + 2)` (default true).
    pub consider_magic_clip: bool,
    /// Let the outermost observations' bandwidths reach to the range's ends
    /// (default false).
    pub consider_endpoints: bool,
    /// One joint Parzen estimator over the parameters every finished trial
    /// has (default true, as Optuna 5 for single-objective studies); `false`
    /// models each parameter on its own (Optuna's `multivariate=False`).
    pub multivariate: bool,
    /// With `multivariate`, one joint estimator per group of parameters that
    /// always appear together (Optuna's `group=True`), for conditional
    /// spaces (default false).
    pub group: bool,
    /// Count running trials, at the values they were given, among the bad
    /// ones, so parallel workers spread out (default true, Optuna's `constant_liar`).
    pub constant_liar: bool,
}

impl Default for TpeConfig {
    fn default() -> Self {
        TpeConfig {
            n_startup_trials: 10,
            n_ei_candidates: 24,
            gamma: Gamma::default(),
            weights: Weights::default(),
            prior_weight: 1.0,
            consider_magic_clip: true,
            consider_endpoints: false,
            multivariate: true,
            group: false,
            constant_liar: true,
        }
    }
}

/// Optuna's TPE: the finished trials are split into the best `gamma(n)` and
/// the rest, a Parzen estimator `l` is fitted to the first and `g` to the
/// second (running trials join `g` under the constant liar),
/// `n_ei_candidates` points are drawn from `l` and the one with the largest
/// `l/g` is taken.
///
/// In multivariate mode (the default) the parameters every finished trial
/// has (the intersection search space; with `group`, each group of
/// parameters that appear together) are drawn jointly when a trial suggests
/// its first parameter; the others are drawn one at a time by the same rule.
/// Values are modelled as Optuna does: log parameters in log space, discrete
/// ones as probability masses of their grid cells, categories by a smoothed
/// histogram per observation.
///
/// # Examples
///
/// ```
/// use descent_hpo::{Study, StudyConfig, TpeConfig, TpeSampler};
///
/// let study = Study::new(StudyConfig::default()).with_sampler(TpeSampler::new(TpeConfig::default())?);
/// study.optimize(|t| Ok::<_, descent_hpo::Error>((t.suggest_float("x", -5.0, 5.0)? - 1.0).powi(2)), 40, 1)?;
/// assert!(study.best_trial()?.value.unwrap() < 0.5);
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TpeSampler {
    config: TpeConfig,
}

impl TpeSampler {
    /// A TPE sampler; errs on a non-positive `gamma`, a negative
    /// `prior_weight`, no candidates, or `group` without `multivariate`.
    pub fn new(config: TpeConfig) -> Result<Self> {
        config.gamma.check()?;
        if !(config.prior_weight >= 0.0 && config.prior_weight.is_finite()) {
            return Err(Error::config(
                "prior_weight",
                config.prior_weight,
                "must be finite and >= 0",
            ));
        }
        if config.n_ei_candidates == 0 {
            return Err(Error::config("n_ei_candidates", 0, "must be > 0"));
        }
        if config.group && !config.multivariate {
            return Err(Error::config(
                "group",
                true,
                "needs multivariate (groups are sampled jointly)",
            ));
        }
        Ok(TpeSampler { config })
    }

    /// Its configuration.
    pub fn config(&self) -> &TpeConfig {
        &self.config
    }

    fn parzen_params(&self) -> ParzenParams {
        ParzenParams {
            prior_weight: self.config.prior_weight,
            consider_magic_clip: self.config.consider_magic_clip,
            consider_endpoints: self.config.consider_endpoints,
            weights: self.config.weights,
        }
    }

    fn n_finished(trials: &[FrozenTrial]) -> usize {
        trials.iter().filter(|t| is_finished_ok(t.state)).count()
    }

    /// The parameters a trial has for TPE's purposes: its own, and for a
    /// running trial in multivariate mode also those drawn jointly for it
    /// (Optuna's `_get_params`).
    fn params_of(&self, trial: &FrozenTrial) -> BTreeMap<String, ParamValue> {
        let mut params: BTreeMap<String, ParamValue> = BTreeMap::new();
        if trial.state == TrialState::Running
            && self.config.multivariate
            && let Some(relative) = read_relative(trial)
        {
            params.extend(relative);
        }
        params.extend(trial.params.iter().map(|(k, v)| (k.to_owned(), v.clone())));
        params
    }

    /// One TPE draw over `space` (Optuna's `_sample`).
    fn sample_space(
        &self,
        ctx: &SampleContext<'_>,
        space: &[(&str, &Distribution)],
        rng: &mut ChaCha8Rng,
    ) -> Vec<ParamValue> {
        let trials: Vec<&FrozenTrial> = ctx
            .trials
            .iter()
            .filter(|t| {
                is_finished_ok(t.state)
                    || (self.config.constant_liar
                        && t.state == TrialState::Running
                        && t.number != ctx.trial.number)
            })
            .collect();
        let n = trials
            .iter()
            .filter(|t| t.state != TrialState::Running)
            .count();
        let (below, above) = split_trials(&trials, self.config.gamma.of(n), ctx.direction);
        let dists: Vec<&Distribution> = space.iter().map(|(_, d)| *d).collect();
        let params = self.parzen_params();
        let (obs_below, n_below) = self.observations(&below, space);
        let (obs_above, n_above) = self.observations(&above, space);
        let l = Parzen::new(&obs_below, n_below, &dists, &params);
        let g = Parzen::new(&obs_above, n_above, &dists, &params);
        let d = l.dims();
        let mut candidates = Vec::new();
        l.sample(rng, self.config.n_ei_candidates, &mut candidates);
        let mut scratch = Vec::with_capacity(n_below.max(n_above) + 1);
        let mut best = (0, f64::NEG_INFINITY);
        for (i, x) in candidates.chunks(d).enumerate() {
            let acq = l.log_pdf(x, &mut scratch) - g.log_pdf(x, &mut scratch);
            // NumPy's argmax: the first maximum (a NaN counts as one).
            if acq > best.1 || (acq.is_nan() && !best.1.is_nan()) || i == 0 {
                best = (i, acq);
                if acq.is_nan() {
                    break;
                }
            }
        }
        let x = &candidates[best.0 * d..(best.0 + 1) * d];
        space
            .iter()
            .zip(x)
            .map(|((_, dist), &v)| external(dist, v))
            .collect()
    }

    /// The internal representation of every trial of `trials` that has all
    /// parameters of `space` (with values in their distributions), row-major.
    fn observations(
        &self,
        trials: &[&FrozenTrial],
        space: &[(&str, &Distribution)],
    ) -> (Vec<f64>, usize) {
        let mut obs = Vec::with_capacity(trials.len() * space.len());
        let mut n = 0;
        let mut row = Vec::with_capacity(space.len());
        for t in trials {
            let params = self.params_of(t);
            row.clear();
            for (name, dist) in space {
                match params.get(*name).and_then(|v| internal(dist, v)) {
                    Some(x) => row.push(x),
                    None => break,
                }
            }
            if row.len() == space.len() {
                obs.extend_from_slice(&row);
                n += 1;
            }
        }
        (obs, n)
    }

    /// The groups of parameters sampled jointly: the intersection search
    /// space (one group) or Optuna's group decomposition; single-valued
    /// distributions are left out, names sorted within a group.
    fn relative_groups(&self, trials: &[FrozenTrial]) -> Vec<Vec<(String, Distribution)>> {
        let finished = trials.iter().filter(|t| is_finished_ok(t.state));
        let groups: Vec<BTreeMap<String, Distribution>> = if self.config.group {
            let mut groups: Vec<BTreeMap<String, Distribution>> = Vec::new();
            for t in finished {
                let mut keys: BTreeSet<&String> = t.distributions.keys().collect();
                let mut next = Vec::with_capacity(groups.len() * 2 + 1);
                for g in groups {
                    let (inside, outside): (BTreeMap<_, _>, BTreeMap<_, _>) =
                        g.into_iter().partition(|(k, _)| keys.contains(k));
                    for k in inside.keys().chain(outside.keys()) {
                        keys.remove(k);
                    }
                    next.push(inside);
                    next.push(outside);
                }
                next.push(
                    keys.into_iter()
                        .map(|k| (k.clone(), t.distributions[k].clone()))
                        .collect(),
                );
                next.retain(|g| !g.is_empty());
                groups = next;
            }
            groups
        } else {
            let mut space: Option<BTreeMap<String, Distribution>> = None;
            for t in finished {
                space = Some(match space {
                    None => t.distributions.clone(),
                    Some(s) => s
                        .into_iter()
                        .filter(|(k, d)| t.distributions.get(k) == Some(d))
                        .collect(),
                });
            }
            space.into_iter().collect()
        };
        groups
            .into_iter()
            .map(|g| {
                g.into_iter()
                    .filter(|(_, d)| d.single_value().is_none())
                    .collect::<Vec<_>>()
            })
            .filter(|g| !g.is_empty())
            .collect()
    }
}

fn is_finished_ok(state: TrialState) -> bool {
    matches!(state, TrialState::Complete | TrialState::Pruned)
}

/// Optuna's `_split_trials`: the best `n_below` complete trials are good,
/// then (if fewer) the pruned ones that got furthest and best; running
/// trials are bad; both lists in trial-number order.
fn split_trials<'t>(
    trials: &[&'t FrozenTrial],
    n_below: usize,
    direction: Direction,
) -> (Vec<&'t FrozenTrial>, Vec<&'t FrozenTrial>) {
    let mut complete: Vec<&FrozenTrial> = Vec::new();
    let mut pruned: Vec<&FrozenTrial> = Vec::new();
    let mut above: Vec<&FrozenTrial> = Vec::new();
    for &t in trials {
        match t.state {
            TrialState::Complete if t.value.is_some() => complete.push(t),
            TrialState::Pruned => pruned.push(t),
            _ => above.push(t),
        }
    }
    let loss = |t: &FrozenTrial| direction.as_loss(t.value.unwrap_or(f64::NAN));
    complete.sort_by(|a, b| loss(a).total_cmp(&loss(b)));
    let k = n_below.min(complete.len());
    let mut below: Vec<&FrozenTrial> = complete.drain(..k).collect();
    above.extend(complete);
    let score = |t: &FrozenTrial| -> (f64, f64) {
        match t.intermediate.iter().next_back() {
            Some((&step, &v)) if v.is_nan() => (-(step as f64), f64::INFINITY),
            Some((&step, &v)) => (-(step as f64), direction.as_loss(v)),
            None => (1.0, 0.0),
        }
    };
    pruned.sort_by(|a, b| {
        let (sa, sb) = (score(a), score(b));
        sa.0.total_cmp(&sb.0).then(sa.1.total_cmp(&sb.1))
    });
    let k = (n_below - below.len()).min(pruned.len());
    below.extend(pruned.drain(..k));
    above.extend(pruned);
    below.sort_by_key(|t| t.number);
    above.sort_by_key(|t| t.number);
    (below, above)
}

/// Optuna's internal representation: numbers as themselves, a category as its index.
fn internal(dist: &Distribution, value: &ParamValue) -> Option<f64> {
    let value = match (dist, value) {
        (Distribution::Float { .. }, ParamValue::Int(i)) => ParamValue::Float(*i as f64),
        (_, v) => v.clone(),
    };
    if !dist.contains(&value) {
        return None;
    }
    match (dist, &value) {
        (Distribution::Categorical { choices }, v) => {
            choices.iter().position(|c| c == v).map(|i| i as f64)
        }
        (_, ParamValue::Float(x)) => Some(*x),
        (_, ParamValue::Int(i)) => Some(*i as f64),
        _ => None,
    }
}

/// The value of internal representation `x`, clamped into the distribution.
fn external(dist: &Distribution, x: f64) -> ParamValue {
    match dist {
        Distribution::Categorical { choices } => {
            choices[(x.max(0.0) as usize).min(choices.len() - 1)].clone()
        }
        Distribution::Float { low, high, .. } => {
            let high = parzen::grid(dist).map_or(*high, |(_, h, _)| h);
            ParamValue::Float(x.clamp(*low, high))
        }
        Distribution::Int { low, high, .. } => {
            let high = parzen::grid(dist).map_or(*high, |(_, h, _)| h as i64);
            ParamValue::Int((x.round() as i64).clamp(*low, high))
        }
    }
}

/// A running trial's jointly drawn parameters, from its attributes.
fn read_relative(trial: &FrozenTrial) -> Option<BTreeMap<String, ParamValue>> {
    let mut text = String::new();
    for i in 0.. {
        match trial.attrs.get(&format!("{RELATIVE_PARAMS_KEY}:{i}")) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => text.push_str(s),
            _ => break,
        }
    }
    if text.is_empty() {
        return None;
    }
    serde_json::from_str(&text).ok()
}

/// The attributes recording `params` as Optuna does.
fn relative_attrs(params: &BTreeMap<String, ParamValue>) -> BTreeMap<String, serde_json::Value> {
    let Ok(text) = serde_json::to_string(params) else {
        return BTreeMap::new();
    };
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(RELATIVE_CHUNK)
        .enumerate()
        .map(|(i, c)| {
            (
                format!("{RELATIVE_PARAMS_KEY}:{i}"),
                serde_json::Value::String(c.iter().collect()),
            )
        })
        .collect()
}

impl Sampler for TpeSampler {
    fn sample_relative(
        &self,
        ctx: &SampleContext<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<RelativeSample> {
        if !self.config.multivariate || Self::n_finished(ctx.trials) < self.config.n_startup_trials
        {
            return Ok(RelativeSample::default());
        }
        let mut params = BTreeMap::new();
        for group in self.relative_groups(ctx.trials) {
            let space: Vec<(&str, &Distribution)> =
                group.iter().map(|(n, d)| (n.as_str(), d)).collect();
            let values = self.sample_space(ctx, &space, rng);
            for ((name, _), value) in group.iter().zip(values) {
                params.insert(name.clone(), value);
            }
        }
        let attrs = if self.config.constant_liar && !params.is_empty() {
            relative_attrs(&params)
        } else {
            BTreeMap::new()
        };
        Ok(RelativeSample { params, attrs })
    }

    fn sample(
        &self,
        ctx: &SampleContext<'_>,
        name: &str,
        distribution: &Distribution,
        rng: &mut ChaCha8Rng,
    ) -> Result<ParamValue> {
        if Self::n_finished(ctx.trials) < self.config.n_startup_trials {
            return RandomSampler.sample(ctx, name, distribution, rng);
        }
        let value = self.sample_space(ctx, &[(name, distribution)], rng);
        Ok(value
            .into_iter()
            .next()
            .unwrap_or_else(|| distribution.from_unit(0.5)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Study, StudyConfig};

    fn best_of(sampler_is_tpe: bool, seed: u64) -> f64 {
        let study = Study::new(StudyConfig {
            seed,
            ..Default::default()
        });
        let study = if sampler_is_tpe {
            study.with_sampler(TpeSampler::new(TpeConfig::default()).unwrap())
        } else {
            study.with_sampler(RandomSampler)
        };
        study
            .optimize(
                |t| {
                    let x = t.suggest_float("x", -10.0, 10.0)?;
                    let lr = t.suggest_float_log("lr", 1e-6, 1.0)?;
                    let opt: &str = t.suggest_categorical("opt", &["sgd", "adam", "rmsprop"])?;
                    let penalty = if opt == "adam" { 0.0 } else { 1.0 };
                    Ok::<_, Error>((x - 3.0).powi(2) + (lr.log10() + 3.0).powi(2) + penalty)
                },
                60,
                1,
            )
            .unwrap();
        study.best_trial().unwrap().value.unwrap()
    }

    #[test]
    fn tpe_beats_random_search_on_a_smooth_objective_at_most_seeds() {
        let wins = (0..20)
            .filter(|&s| best_of(true, s) < best_of(false, s))
            .count();
        eprintln!("tpe won {wins} of 20");
        assert!(wins >= 14, "tpe won {wins} of 20");
    }

    #[test]
    fn tpe_rejects_bad_configurations() {
        let cfg = TpeConfig {
            gamma: Gamma::Linear {
                fraction: 0.0,
                cap: 25,
            },
            ..Default::default()
        };
        assert!(matches!(
            TpeSampler::new(cfg),
            Err(Error::Arg(descent_core::ArgError {
                name: "gamma.fraction",
                ..
            }))
        ));
        let cfg = TpeConfig {
            multivariate: false,
            group: true,
            ..Default::default()
        };
        assert!(matches!(
            TpeSampler::new(cfg),
            Err(Error::Arg(descent_core::ArgError { name: "group", .. }))
        ));
        let cfg = TpeConfig {
            prior_weight: -1.0,
            ..Default::default()
        };
        assert!(TpeSampler::new(cfg).is_err());
    }

    #[test]
    fn gamma_and_weights_are_optunas_defaults() {
        let g = Gamma::default();
        assert_eq!(
            [g.of(0), g.of(1), g.of(10), g.of(11), g.of(250), g.of(251)],
            [0, 1, 1, 2, 25, 25]
        );
        let w = Weights::default().of(30);
        // linspace(1/30, 1, 5) then 25 ones.
        let head = [
            1.0 / 30.0,
            0.275,
            0.516_666_666_666_666_7,
            0.758_333_333_333_333_3,
            1.0,
        ];
        for (a, b) in w.iter().zip(head) {
            assert!((a - b).abs() < 1e-12, "{w:?}");
        }
        assert!(w[5..].iter().all(|&x| x == 1.0));
        assert_eq!(Weights::default().of(3), vec![1.0; 3]);
    }

    fn trial(number: u64, state: TrialState, value: Option<f64>) -> FrozenTrial {
        let mut t = FrozenTrial::running(number);
        t.state = state;
        t.value = value;
        t
    }

    #[test]
    fn split_puts_the_best_complete_then_the_furthest_pruned_below_and_running_above() {
        let mut p1 = trial(4, TrialState::Pruned, Some(0.1));
        p1.intermediate.insert(3, 0.1);
        let mut p2 = trial(5, TrialState::Pruned, Some(0.0));
        p2.intermediate.insert(1, 0.0);
        let ts = [
            trial(0, TrialState::Complete, Some(3.0)),
            trial(1, TrialState::Complete, Some(1.0)),
            trial(2, TrialState::Running, None),
            trial(3, TrialState::Complete, Some(2.0)),
            p1,
            p2,
        ];
        let refs: Vec<&FrozenTrial> = ts.iter().collect();
        let (below, above) = split_trials(&refs, 4, Direction::Minimize);
        let nums = |v: &[&FrozenTrial]| v.iter().map(|t| t.number).collect::<Vec<_>>();
        // Three complete trials, then the pruned one that reached step 3.
        assert_eq!(nums(&below), [0, 1, 3, 4]);
        assert_eq!(nums(&above), [2, 5]);
        let (below, above) = split_trials(&refs, 1, Direction::Maximize);
        assert_eq!(nums(&below), [0]);
        assert_eq!(nums(&above), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn groups_split_parameters_that_do_not_always_appear_together() {
        let sampler = TpeSampler::new(TpeConfig {
            group: true,
            ..Default::default()
        })
        .unwrap();
        let f = |low| Distribution::Float {
            low,
            high: 1.0,
            log: false,
            step: None,
        };
        let mut a = trial(0, TrialState::Complete, Some(0.0));
        a.distributions.insert("opt".into(), f(0.0));
        a.distributions.insert("beta".into(), f(0.1));
        a.distributions.insert("x".into(), f(0.2));
        let mut b = trial(1, TrialState::Complete, Some(0.0));
        b.distributions.insert("opt".into(), f(0.0));
        b.distributions.insert("mom".into(), f(0.3));
        b.distributions.insert("x".into(), f(0.2));
        let groups = sampler.relative_groups(&[a.clone(), b.clone()]);
        let names: BTreeSet<Vec<&str>> = groups
            .iter()
            .map(|g| g.iter().map(|(n, _)| n.as_str()).collect())
            .collect();
        let want: BTreeSet<Vec<&str>> = [vec!["opt", "x"], vec!["beta"], vec!["mom"]]
            .into_iter()
            .collect();
        assert_eq!(names, want);
        let flat = TpeSampler::new(TpeConfig::default()).unwrap();
        let groups = flat.relative_groups(&[a, b]);
        assert_eq!(groups.len(), 1);
        let names: Vec<&str> = groups[0].iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["opt", "x"]);
    }

    #[test]
    fn relative_params_round_trip_through_the_trial_attributes() {
        let mut params = BTreeMap::new();
        params.insert("lr".to_string(), ParamValue::Float(0.01));
        params.insert("opt".to_string(), ParamValue::Str("x".repeat(5000)));
        let mut t = FrozenTrial::running(0);
        t.attrs = relative_attrs(&params);
        assert_eq!(t.attrs.len(), 3, "5000+ characters in chunks of 2045");
        assert_eq!(read_relative(&t), Some(params));
    }
}
