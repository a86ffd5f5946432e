//! NSGA-II (Deb et al. 2002) for multi-objective studies, with Optuna 5's
//! semantics (`optuna/samplers/nsgaii/`): generations counted from the stored
//! trials, elites by non-domination rank then crowding distance, binary
//! tournaments on (constrained) domination, crossover then mutation by
//! re-drawing at random.

mod bookkeeping;
mod crossover;

pub use crossover::Crossover;

use bookkeeping::{Bookkeeping, View};

use crate::multi::{constraint_violation, non_dominated_sort, to_losses};
use crate::sampler::{RandomSampler, RelativeSample, SampleContext, Sampler};
use crate::{Direction, Distribution, Error, FrozenTrial, ParamValue, Result, TrialState};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The trial attribute holding a trial's generation (Optuna's system attribute).
pub const GENERATION_KEY: &str = "NSGAIISampler:generation";

/// A constraints function (Optuna's `constraints_func`): a finished trial's
/// constraint values, each feasible when ≤ 0.
pub type ConstraintsFn = Arc<dyn Fn(&FrozenTrial) -> Vec<f64> + Send + Sync>;

/// Arguments of [`NsgaIISampler::new`]; `Default` is Optuna 5's `NSGAIISampler()`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NsgaIIConfig {
    /// Trials per generation (≥ 2 and ≥ the crossover's parents).
    pub population_size: usize,
    /// Probability of re-drawing each parameter of a child at random;
    /// `None` is `1 / n_params`.
    pub mutation_prob: Option<f64>,
    /// How two (or more) parents make a child.
    pub crossover: Crossover,
    /// Probability of a crossover; otherwise a child copies one parent.
    pub crossover_prob: f64,
    /// Probability of taking each gene from the second parent in the
    /// uniform crossover (and for categorical parameters whatever the crossover).
    pub swapping_prob: f64,
}

impl Default for NsgaIIConfig {
    fn default() -> Self {
        NsgaIIConfig {
            population_size: 50,
            mutation_prob: None,
            crossover: Crossover::Uniform,
            crossover_prob: 0.9,
            swapping_prob: 0.5,
        }
    }
}

/// Optuna's `NSGAIISampler`: a genetic algorithm for multi-objective (and
/// single-objective) studies.
///
/// Generation 0 is drawn at random. A trial's generation is the latest one
/// of the complete trials, or the next once that one has `population_size`
/// complete trials; it is recorded in the trial's attribute
/// [`GENERATION_KEY`], so a resumed study (or another worker) continues the
/// same generations. The parents of generation `g` are the elites of
/// generation `g − 1` and its parents: whole fronts of non-domination rank
/// while they fit, then the next front by decreasing crowding distance.
/// A child picks parents by binary tournaments (domination; constrained
/// domination with a constraints function), crosses them with probability
/// `crossover_prob`, and re-draws each parameter at random with probability
/// `mutation_prob`. Optuna keeps the parents of a generation in the study's
/// system attributes; descent recomputes them from the stored trials.
///
/// # Examples
///
/// ```
/// use descent_hpo::{Direction, NsgaIIConfig, NsgaIISampler, Sampler, Study, StudyConfig};
///
/// let sampler = NsgaIISampler::new(NsgaIIConfig { population_size: 10, ..Default::default() })?;
/// let study = Study::new(StudyConfig {
///     directions: vec![Direction::Minimize; 2],
///     ..Default::default()
/// })
/// .with_sampler(sampler.with_seed(1));
/// study.optimize(|t| t.suggest_float("x", 0.0, 1.0).map(|x| [x, (1.0 - x).powi(2)]), 40, 1)?;
/// assert!(!study.best_trials()?.is_empty());
/// # Ok::<(), descent_hpo::Error>(())
/// ```
pub struct NsgaIISampler {
    config: NsgaIIConfig,
    constraints: Option<ConstraintsFn>,
    cache: Mutex<Cache>,
}

/// What the sampler remembers of its study between trials.
#[derive(Debug, Default)]
struct Cache {
    /// The parents of each generation, by trial number, computed once per
    /// generation (Optuna caches them in the study's system attributes).
    parents: BTreeMap<u64, Vec<u64>>,
    /// The trials' generations and search space, taken in once each.
    book: Bookkeeping,
}

impl std::fmt::Debug for NsgaIISampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NsgaIISampler")
            .field("config", &self.config)
            .field("constraints", &self.constraints.is_some())
            .finish()
    }
}

impl NsgaIISampler {
    /// The sampler with `config`, validated as Optuna validates it.
    pub fn new(config: NsgaIIConfig) -> Result<Self> {
        let prob = |name, p: f64| {
            if (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                Err(Error::config(name, p, "must be in [0, 1]"))
            }
        };
        if config.population_size < 2 {
            return Err(Error::config(
                "population_size",
                config.population_size,
                "must be >= 2",
            ));
        }
        if config.population_size < config.crossover.n_parents() {
            return Err(Error::config(
                "population_size",
                config.population_size,
                "must be >= the crossover's number of parents",
            ));
        }
        if let Some(p) = config.mutation_prob {
            prob("mutation_prob", p)?;
        }
        prob("crossover_prob", config.crossover_prob)?;
        prob("swapping_prob", config.swapping_prob)?;
        config.crossover.check()?;
        Ok(NsgaIISampler {
            config,
            constraints: None,
            cache: Mutex::new(Cache::default()),
        })
    }

    /// The same sampler with a constraints function (Optuna's
    /// `constraints_func`): evaluated on each complete or pruned trial and
    /// stored in its `constraints` attribute; a trial is feasible when every
    /// value is ≤ 0, and feasible trials dominate infeasible ones, which
    /// compare by their total violation. A NaN constraint fails the trial.
    pub fn with_constraints(
        mut self,
        f: impl Fn(&FrozenTrial) -> Vec<f64> + Send + Sync + 'static,
    ) -> Self {
        self.constraints = Some(Arc::new(f));
        self
    }

    /// The parents of `generation` (none for generation 0): the elites of
    /// generation − 1 and its parents, each generation's computed once.
    fn parents<'t>(
        &self,
        cache: &mut BTreeMap<u64, Vec<u64>>,
        view: &View<'_>,
        trials: &'t [FrozenTrial],
        directions: &[Direction],
        generation: u64,
    ) -> Result<Vec<&'t FrozenTrial>> {
        let by_number = |numbers: &[u64]| -> Vec<&'t FrozenTrial> {
            numbers
                .iter()
                .filter_map(|n| {
                    let i = trials.binary_search_by_key(n, |t| t.number).ok()?;
                    Some(&trials[i])
                })
                .collect()
        };
        let start = (1..=generation)
            .rev()
            .find(|g| cache.contains_key(g))
            .unwrap_or(0);
        let mut parents = cache.get(&start).map_or(Vec::new(), |p| by_number(p));
        for g in start + 1..=generation {
            let mut candidates = by_number(&view.members(g - 1).collect::<Vec<u64>>());
            candidates.extend(parents.iter().copied());
            parents = self.elites(candidates, directions)?;
            cache.insert(g, parents.iter().map(|t| t.number).collect());
        }
        Ok(parents)
    }

    /// Optuna's `NSGAIIElitePopulationSelectionStrategy`.
    fn elites<'t>(
        &self,
        population: Vec<&'t FrozenTrial>,
        directions: &[Direction],
    ) -> Result<Vec<&'t FrozenTrial>> {
        if let Some(t) = population
            .iter()
            .find(|t| t.objective_values().len() != directions.len())
        {
            return Err(Error::ObjectiveCount {
                what: "a complete trial's values",
                expected: directions.len(),
                got: t.objective_values().len(),
            });
        }
        let losses: Vec<Vec<f64>> = population
            .iter()
            .map(|t| to_losses(t.objective_values(), directions))
            .collect();
        let constrained = population.iter().any(|t| constraint_violation(t).is_some());
        let penalty: Option<Vec<f64>> = constrained.then(|| {
            population
                .iter()
                .map(|t| constraint_violation(t).unwrap_or(0.0))
                .collect()
        });
        let ranks = non_dominated_sort(&losses, penalty.as_deref(), None)?;
        let n_fronts = ranks.iter().max().map_or(0, |m| m + 1);
        let mut fronts: Vec<Vec<&FrozenTrial>> = vec![Vec::new(); n_fronts];
        for (t, r) in population.into_iter().zip(ranks) {
            fronts[r].push(t);
        }
        let size = self.config.population_size;
        let mut elite = Vec::with_capacity(size);
        for mut front in fronts {
            if elite.len() + front.len() < size {
                elite.extend(front);
            } else {
                crowding_distance_sort(&mut front);
                let n = size - elite.len();
                elite.extend(front.into_iter().take(n));
                break;
            }
        }
        Ok(elite)
    }
}

fn generation_of(t: &FrozenTrial) -> Option<u64> {
    t.attrs.get(GENERATION_KEY).and_then(|v| v.as_u64())
}

/// Sorts `front` by decreasing crowding distance as Optuna does (ties in
/// the reverse of the order the last objective's sort left them).
fn crowding_distance_sort(front: &mut Vec<&FrozenTrial>) {
    let mut distance: BTreeMap<u64, f64> = front.iter().map(|t| (t.number, 0.0)).collect();
    let n_obj = front.first().map_or(0, |t| t.objective_values().len());
    for i in 0..n_obj {
        front.sort_by(|a, b| a.objective_values()[i].total_cmp(&b.objective_values()[i]));
        let v = |k: usize| front[k].objective_values()[i];
        let n = front.len();
        if v(0) == v(n - 1) {
            continue;
        }
        let vs: Vec<f64> = std::iter::once(f64::NEG_INFINITY)
            .chain((0..n).map(v))
            .chain(std::iter::once(f64::INFINITY))
            .collect();
        let v_min = vs.iter().copied().find(|x| *x != f64::NEG_INFINITY);
        let v_max = vs.iter().rev().copied().find(|x| *x != f64::INFINITY);
        let mut width = match (v_min, v_max) {
            (Some(a), Some(b)) => b - a,
            _ => 1.0,
        };
        if width.is_nan() || width <= 0.0 {
            width = 1.0;
        }
        for j in 0..n {
            let gap = if vs[j] == vs[j + 2] {
                0.0
            } else {
                vs[j + 2] - vs[j]
            };
            *distance.entry(front[j].number).or_default() += gap / width;
        }
    }
    front.sort_by(|a, b| distance[&a.number].total_cmp(&distance[&b.number]));
    front.reverse();
}

/// Whether `a` (constrained-)dominates `b` (Optuna's `_dominates` /
/// `_constrained_dominates` on complete trials).
fn trial_dominates(
    a: &FrozenTrial,
    b: &FrozenTrial,
    dirs: &[Direction],
    constrained: bool,
) -> bool {
    if constrained {
        let (va, vb) = (
            constraint_violation(a).unwrap_or(0.0),
            constraint_violation(b).unwrap_or(0.0),
        );
        match (va <= 0.0, vb <= 0.0) {
            (true, true) => {}
            (true, false) => return true,
            (false, true) => return false,
            (false, false) => return va < vb,
        }
    }
    let (la, lb) = (
        to_losses(a.objective_values(), dirs),
        to_losses(b.objective_values(), dirs),
    );
    la != lb && la.iter().zip(&lb).all(|(x, y)| x <= y)
}

impl Sampler for NsgaIISampler {
    fn sample(
        &self,
        ctx: &SampleContext<'_>,
        name: &str,
        distribution: &Distribution,
        rng: &mut ChaCha8Rng,
    ) -> Result<ParamValue> {
        RandomSampler.sample(ctx, name, distribution, rng)
    }

    fn sample_relative(
        &self,
        ctx: &SampleContext<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<RelativeSample> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let Cache { parents, book } = &mut *cache;
        let view = book.view(ctx.trials);
        let generation = generation_of(ctx.trial)
            .unwrap_or_else(|| view.next_generation(self.config.population_size));
        let mut out = RelativeSample::default();
        out.attrs
            .insert(GENERATION_KEY.to_owned(), serde_json::json!(generation));
        let parents = self.parents(parents, &view, ctx.trials, ctx.directions, generation)?;
        if parents.is_empty() {
            return Ok(out);
        }
        let space = view.space;
        drop(cache);
        let constrained = parents.iter().any(|t| constraint_violation(t).is_some());
        let dominates =
            |a: &FrozenTrial, b: &FrozenTrial| trial_dominates(a, b, ctx.directions, constrained);
        let child: BTreeMap<String, ParamValue> =
            if rng.random::<f64>() < self.config.crossover_prob {
                crossover::perform(
                    &self.config,
                    &space,
                    &parents,
                    &dominates,
                    ctx.directions.len() > 1,
                    rng,
                )
            } else {
                let p = parents[rng.random_range(0..parents.len())];
                space
                    .keys()
                    .filter_map(|k| Some((k.clone(), p.params.get(k)?.clone())))
                    .collect()
            };
        let mutation_prob = self
            .config
            .mutation_prob
            .unwrap_or(1.0 / (child.len() as f64).max(1.0));
        for (name, value) in child {
            if rng.random::<f64>() >= mutation_prob {
                out.params.insert(name, value);
            }
        }
        Ok(out)
    }

    fn supports_multi_objective(&self) -> bool {
        true
    }

    fn after_trial(&self, _trials: &[FrozenTrial], trial: &mut FrozenTrial) -> Result<()> {
        let Some(f) = &self.constraints else {
            return Ok(());
        };
        if !matches!(trial.state, TrialState::Complete | TrialState::Pruned) {
            return Ok(());
        }
        let values = f(trial);
        if values.iter().any(|v| v.is_nan()) {
            return Err(Error::config(
                "constraints",
                format!("{values:?}"),
                "constraint values cannot be NaN",
            ));
        }
        trial
            .attrs
            .insert("constraints".to_owned(), serde_json::json!(values));
        Ok(())
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod parity;
