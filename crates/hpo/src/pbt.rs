//! Population-based training (Jaderberg et al. 2017, "Population Based
//! Training of Neural Networks"), with Ray Tune's `PopulationBasedTraining`
//! semantics in its synchronous mode (`synch=True`, the paper's appendix A.1).
//!
//! A population of [`Member`]s trains in rounds of `ready_interval` steps,
//! each round on a thread pool. After a round every member is scored; the
//! bottom `quantile_fraction` of the population (truncation selection)
//! copies the checkpoint of a member drawn uniformly from the top fraction
//! — weights and optimizer state — and takes that member's hyperparameters,
//! perturbed by [`Mutation`]s (and a custom explore, if any). Every copy is
//! recorded in the member's lineage ([`Exploit`]), from which
//! [`PbtResult::schedule`] rebuilds the hyperparameter schedule that
//! produced a member's final state (Ray's `PopulationBasedTrainingReplay`).
//!
//! Rounds are synchronous and every random draw is made on the calling
//! thread in a fixed order, so the outcome depends on the seed only, never
//! on the number of threads or their scheduling (given members whose
//! training is itself deterministic).
//!
//! Invariant: every random draw of a PBT run is made on the coordinating
//! thread in a fixed order, so the outcome depends on the seed only, whether
//! members are moved between threads or pinned to one.

mod explore;
mod pool;
pub mod shared;

pub use explore::Mutation;
pub use shared::{
    Seen, Segment, SharedConfig, SharedExploit, SharedMemberRecord, SharedPopulation, SharedResult,
    WorkerReport,
};

use crate::{Direction, Error, ParamValues, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::fmt::Display;

/// One member of a population: a model with its optimizer, trained a few
/// steps at a time, whose state can be saved and copied into another member.
/// [`Pbt::run`] moves `Send` members between threads; [`Pbt::run_pinned`]
/// builds each member on the thread that keeps it.
///
/// `descent-train` implements it for a `Trainer` (its `hpo` feature), with
/// the checkpoint bundle as the checkpoint.
pub trait Member {
    /// A saved state (weights, optimizer state, counters): bytes, a path, ...
    type Checkpoint: Send + Sync;
    /// What training, saving or loading may fail with.
    type Error: Display;

    /// Uses `hyperparams` from the next step on (an optimizer's rate set on
    /// the running optimizer, its moments kept).
    fn set_hyperparams(&mut self, hyperparams: &ParamValues) -> Result<(), Self::Error>;

    /// Trains `steps` more steps and returns the member's score (a
    /// validation loss or accuracy: the population ranks by it).
    fn train(&mut self, steps: u64) -> Result<f64, Self::Error>;

    /// The member's state as it stands.
    fn save(&mut self) -> Result<Self::Checkpoint, Self::Error>;

    /// Replaces the member's state by `checkpoint` (another member's).
    fn load(&mut self, checkpoint: &Self::Checkpoint) -> Result<(), Self::Error>;
}

/// Arguments of [`Pbt::new`]; `Default` is Ray Tune's defaults
/// (`quantile_fraction` 0.25, `resample_probability` 0.25, perturbation
/// factors 1.2 and 0.8), minimizing the score.
#[derive(Debug, Clone, PartialEq)]
pub struct PbtConfig {
    /// Whether a lower (a loss) or higher (an accuracy) score is better.
    pub direction: Direction,
    /// Steps each member trains between two exploit/explore points (Ray's
    /// `perturbation_interval`, in steps).
    pub ready_interval: u64,
    /// Steps each member trains in all; the last round may be shorter.
    pub total_steps: u64,
    /// The bottom fraction of the population copies from the top fraction
    /// of the same size: `⌈n·q⌉` members, at most `⌊n/2⌋` (in `[0, 0.5]`).
    pub quantile_fraction: f64,
    /// The probability that explore draws a parameter afresh instead of
    /// perturbing it (in `[0, 1]`).
    pub resample_probability: f64,
    /// The factors a perturbed float or integer is multiplied by, one
    /// chosen uniformly (finite and positive; Ray's `perturbation_factors`).
    pub perturbation_factors: Vec<f64>,
    /// Seeds the initial draws and every exploit and explore decision.
    pub seed: u64,
    /// Threads training members (0 and 1 mean the calling thread).
    pub n_threads: usize,
}

impl Default for PbtConfig {
    fn default() -> Self {
        PbtConfig {
            direction: Direction::Minimize,
            ready_interval: 100,
            total_steps: 1000,
            quantile_fraction: 0.25,
            resample_probability: 0.25,
            perturbation_factors: vec![1.2, 0.8],
            seed: 0,
            n_threads: 1,
        }
    }
}

/// A custom explore, called after the built-in perturbation with the new
/// hyperparameters (Ray's `custom_explore_fn`), and the explore RNG.
pub type CustomExplore = Box<dyn Fn(&mut ParamValues, &mut ChaCha8Rng) + Send + Sync>;

/// One exploit of a member's lineage: at `step`, it copied `donor`'s
/// checkpoint and explored from `donor`'s hyperparameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Exploit {
    /// The member's step count when it copied (the donor's too: rounds are synchronous).
    pub step: u64,
    /// The member copied.
    pub donor: usize,
    /// The donor's score at that step.
    pub donor_score: f64,
    /// The member's own score, which put it in the bottom quantile.
    pub score: f64,
    /// The member's hyperparameters before the copy.
    pub before: ParamValues,
    /// The donor's hyperparameters, which explore started from.
    pub donor_hyperparams: ParamValues,
    /// The member's hyperparameters after explore.
    pub after: ParamValues,
}

/// What [`Pbt::run`] learned about one member.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRecord {
    /// The member's index in the population.
    pub member: usize,
    /// The hyperparameters it started with.
    pub initial: ParamValues,
    /// The hyperparameters it ended with.
    pub hyperparams: ParamValues,
    /// Its score after each round: `(step, score)`.
    pub scores: Vec<(u64, f64)>,
    /// Every exploit it made, in order.
    pub lineage: Vec<Exploit>,
}

impl MemberRecord {
    /// The score after the last round.
    pub fn score(&self) -> Option<f64> {
        self.scores.last().map(|&(_, s)| s)
    }
}

/// The outcome of [`Pbt::run`]: one record per member.
#[derive(Debug, Clone, PartialEq)]
pub struct PbtResult {
    /// The direction scores were ranked in.
    pub direction: Direction,
    /// Per member, in population order.
    pub members: Vec<MemberRecord>,
}

impl PbtResult {
    /// The member with the best final score (the lowest index among equals;
    /// a NaN score is never best), if any member has a score.
    pub fn best(&self) -> Option<&MemberRecord> {
        let mut best: Option<&MemberRecord> = None;
        for m in &self.members {
            let Some(s) = m.score().filter(|s| !s.is_nan()) else {
                continue;
            };
            if best
                .and_then(MemberRecord::score)
                .is_none_or(|b| self.direction.better(s, b))
            {
                best = Some(m);
            }
        }
        best
    }

    /// The hyperparameter schedule that produced `member`'s final state:
    /// `(from_step, hyperparameters)` pairs, following each exploit back
    /// to the donor whose state was copied (Ray's `PopulationBasedTrainingReplay`).
    /// Training one model with this schedule replays the member's run.
    pub fn schedule(&self, member: usize) -> Vec<(u64, ParamValues)> {
        self.schedule_before(member, u64::MAX)
    }

    fn schedule_before(&self, member: usize, step: u64) -> Vec<(u64, ParamValues)> {
        let Some(record) = self.members.get(member) else {
            return Vec::new();
        };
        match record.lineage.iter().rev().find(|e| e.step < step) {
            None => vec![(0, record.initial.clone())],
            Some(e) => {
                let mut out = self.schedule_before(e.donor, e.step);
                out.push((e.step, e.after.clone()));
                out
            }
        }
    }
}

/// Population-based training in synchronous rounds on a thread pool.
///
/// # Examples
///
/// A population of one-parameter "models" trained by gradient descent on
/// `w²`, whose learning rate PBT tunes:
///
/// ```
/// use descent_hpo::{ParamValues, Distribution, Member, Mutation, Pbt, PbtConfig};
///
/// struct Quadratic { w: f64, lr: f64 }
///
/// impl Member for Quadratic {
///     type Checkpoint = f64;
///     type Error = descent_hpo::Error;
///     fn set_hyperparams(&mut self, h: &ParamValues) -> descent_hpo::Result<()> {
///         self.lr = h.f64("lr")?;
///         Ok(())
///     }
///     fn train(&mut self, steps: u64) -> descent_hpo::Result<f64> {
///         for _ in 0..steps {
///             self.w -= self.lr * 2.0 * self.w;
///         }
///         Ok(self.w * self.w)
///     }
///     fn save(&mut self) -> descent_hpo::Result<f64> { Ok(self.w) }
///     fn load(&mut self, w: &f64) -> descent_hpo::Result<()> { self.w = *w; Ok(()) }
/// }
///
/// let pbt = Pbt::new(PbtConfig { ready_interval: 5, total_steps: 50, n_threads: 2, ..Default::default() })?
///     .with_mutation("lr", Mutation::Distribution(Distribution::Float { low: 1e-4, high: 0.1, log: true, step: None }))?;
/// let population = (0..8).map(|_| Quadratic { w: 1.0, lr: 0.0 }).collect();
/// let (result, members) = pbt.run(population)?;
/// let best = result.best().unwrap();
/// assert!(best.score().unwrap() < 0.5);
/// assert_eq!(members.len(), 8);
/// # Ok::<(), descent_hpo::Error>(())
/// ```
pub struct Pbt {
    config: PbtConfig,
    mutations: Vec<(String, Mutation)>,
    custom: Option<CustomExplore>,
}

impl std::fmt::Debug for Pbt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pbt")
            .field("config", &self.config)
            .field("mutations", &self.mutations)
            .field("custom_explore", &self.custom.is_some())
            .finish()
    }
}

impl Pbt {
    /// A PBT run; checks the configuration.
    pub fn new(config: PbtConfig) -> Result<Self> {
        if config.ready_interval == 0 {
            return Err(Error::config("ready_interval", 0, "must be >= 1"));
        }
        if config.total_steps == 0 {
            return Err(Error::config("total_steps", 0, "must be >= 1"));
        }
        if !(0.0..=0.5).contains(&config.quantile_fraction) {
            return Err(Error::config(
                "quantile_fraction",
                config.quantile_fraction,
                "must be in [0, 0.5]",
            ));
        }
        if !(0.0..=1.0).contains(&config.resample_probability) {
            return Err(Error::config(
                "resample_probability",
                config.resample_probability,
                "must be in [0, 1]",
            ));
        }
        let factors = &config.perturbation_factors;
        if factors.is_empty() || factors.iter().any(|f| !(f.is_finite() && *f > 0.0)) {
            return Err(Error::config(
                "perturbation_factors",
                format!("{factors:?}"),
                "must be one or more finite positive numbers",
            ));
        }
        Ok(Pbt {
            config,
            mutations: Vec::new(),
            custom: None,
        })
    }

    /// Draws `name` from `mutation` at the start and perturbs it by explore
    /// (one entry of Ray's `hyperparam_mutations`); a second mutation of
    /// the same name replaces the first.
    pub fn with_mutation(mut self, name: &str, mutation: Mutation) -> Result<Self> {
        mutation.check(name)?;
        match self
            .mutations
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
        {
            Ok(i) => self.mutations[i].1 = mutation,
            Err(i) => self.mutations.insert(i, (name.to_owned(), mutation)),
        }
        Ok(self)
    }

    /// Calls `explore` after the built-in perturbation of every exploit
    /// (Ray's `custom_explore_fn`): to clamp a value, tie two parameters, ...
    pub fn with_custom_explore(
        mut self,
        explore: impl Fn(&mut ParamValues, &mut ChaCha8Rng) + Send + Sync + 'static,
    ) -> Self {
        self.custom = Some(Box::new(explore));
        self
    }

    /// The configuration.
    pub fn config(&self) -> &PbtConfig {
        &self.config
    }

    /// The hyperparameters member `index` starts with: each mutated
    /// parameter drawn from its mutation, by a stream of its own.
    pub fn initial_hyperparams(&self, index: usize) -> ParamValues {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        rng.set_stream(index as u64);
        let mut config = ParamValues::default();
        for (name, m) in &self.mutations {
            config.insert(name.clone(), m.sample(&mut rng));
        }
        config
    }

    /// Trains `population` (at least two members, each as built, before any
    /// step) to `total_steps` on `n_threads` threads, exploiting and
    /// exploring after every round but the last, and gives the members back
    /// with the run's record. A member's error (or panic) stops the run with
    /// [`Error::Member`]. Members that are not `Send` run with [`Pbt::run_pinned`].
    pub fn run<M: Member + Send>(&self, mut population: Vec<M>) -> Result<(PbtResult, Vec<M>)> {
        let n = population.len();
        self.check(n)?;
        let mut pool = pool::Local {
            members: &mut population,
            threads: self.config.n_threads,
        };
        let result = self.drive(&mut pool, n)?;
        Ok((result, population))
    }

    /// [`Pbt::run`] for members that need not be `Send` (a trainer of a
    /// `Sequential` model, say): member `i` is built by `make(i)` on worker
    /// thread `i % n_threads` and stays there; checkpoints travel between
    /// threads. At the end, `finish(i, member)` runs on the member's thread
    /// and its results are returned by member (the final weights, a score, ...).
    /// The outcome is the same as [`Pbt::run`]'s with members built alike.
    pub fn run_pinned<M, R>(
        &self,
        n: usize,
        make: impl Fn(usize) -> std::result::Result<M, M::Error> + Sync,
        finish: impl Fn(usize, M) -> R + Sync,
    ) -> Result<(PbtResult, Vec<R>)>
    where
        M: Member,
        R: Send,
    {
        self.check(n)?;
        let threads = self.config.n_threads.clamp(1, n);
        let (make, finish) = (&make, &finish);
        std::thread::scope(|s| {
            let mut workers = Vec::with_capacity(threads);
            let mut handles = Vec::with_capacity(threads);
            for w in 0..threads {
                let (cmd_tx, cmd_rx) = std::sync::mpsc::channel();
                let (reply_tx, reply_rx) = std::sync::mpsc::channel();
                let ids: Vec<usize> = (w..n).step_by(threads).collect();
                handles.push(
                    s.spawn(move || pool::serve::<M, R>(ids, make, finish, cmd_rx, reply_tx)),
                );
                workers.push((cmd_tx, reply_rx));
            }
            let mut pool = pool::Pinned { n, workers };
            let outcome = match self.drive(&mut pool, n) {
                Ok(result) => pool.finish().map(|made| (result, made)),
                Err(e) => {
                    drop(pool);
                    Err(e)
                }
            };
            let mut worker_error = None;
            for h in handles {
                match h.join() {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        worker_error.get_or_insert(e);
                    }
                    Err(payload) => std::panic::resume_unwind(payload),
                }
            }
            match (outcome, worker_error) {
                (Err(_), Some(e)) => Err(e),
                (outcome, _) => outcome,
            }
        })
    }

    fn check(&self, n: usize) -> Result<()> {
        if n < 2 {
            return Err(Error::config("population", n, "needs at least 2 members"));
        }
        if self.mutations.is_empty() && self.custom.is_none() {
            return Err(Error::config(
                "mutations",
                "none",
                "give at least one mutation or a custom explore",
            ));
        }
        Ok(())
    }

    /// The rounds: initial hyperparameters, then train, score, exploit and explore.
    fn drive<P: pool::Pool>(&self, pool: &mut P, n: usize) -> Result<PbtResult> {
        let mut records: Vec<MemberRecord> = (0..n)
            .map(|i| {
                let h = self.initial_hyperparams(i);
                MemberRecord {
                    member: i,
                    initial: h.clone(),
                    hyperparams: h,
                    scores: Vec::new(),
                    lineage: Vec::new(),
                }
            })
            .collect();
        for (i, r) in records.iter().enumerate() {
            pool.set(i, &r.hyperparams, 0)?;
        }
        // Exploit and explore draw from stream u64::MAX; initial draws use streams 0..n.
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        rng.set_stream(u64::MAX);
        let mut step = 0;
        while step < self.config.total_steps {
            let steps = self
                .config
                .ready_interval
                .min(self.config.total_steps - step);
            let scores = pool.train(steps, step)?;
            step += steps;
            for (r, s) in records.iter_mut().zip(&scores) {
                r.scores.push((step, *s));
            }
            if step < self.config.total_steps {
                self.exploit(pool, &mut records, &scores, step, &mut rng)?;
            }
        }
        Ok(PbtResult {
            direction: self.config.direction,
            members: records,
        })
    }

    /// Truncation selection: the bottom quantile copies a uniformly drawn
    /// member of the top quantile and explores from its hyperparameters.
    fn exploit<P: pool::Pool>(
        &self,
        pool: &mut P,
        records: &mut [MemberRecord],
        scores: &[f64],
        step: u64,
        rng: &mut ChaCha8Rng,
    ) -> Result<()> {
        let (lower, upper) =
            quantiles(scores, self.config.direction, self.config.quantile_fraction);
        if lower.is_empty() {
            return Ok(());
        }
        let mut checkpoints = Vec::with_capacity(upper.len());
        for &u in &upper {
            checkpoints.push(pool.save(u, step)?);
        }
        for &l in &lower {
            let pick = explore::index(rng, upper.len());
            let donor = upper[pick];
            let donor_hyperparams = records[donor].hyperparams.clone();
            let mut after = explore::explore(
                &donor_hyperparams,
                &self.mutations,
                self.config.resample_probability,
                &self.config.perturbation_factors,
                rng,
            );
            if let Some(custom) = &self.custom {
                custom(&mut after, rng);
            }
            pool.load(l, &checkpoints[pick], step)?;
            pool.set(l, &after, step)?;
            let record = &mut records[l];
            let before = std::mem::replace(&mut record.hyperparams, after.clone());
            record.lineage.push(Exploit {
                step,
                donor,
                donor_score: scores[donor],
                score: scores[l],
                before,
                donor_hyperparams,
                after,
            });
        }
        Ok(())
    }
}

/// Ray's `_quantiles`: members sorted from worst to best (a NaN score is
/// the worst; a stable sort keeps population order among equals), then
/// the first and last `⌈n·q⌉` of them, at most `⌊n/2⌋` each.
pub(crate) fn quantiles(scores: &[f64], direction: Direction, q: f64) -> (Vec<usize>, Vec<usize>) {
    let n = scores.len();
    let mut order: Vec<usize> = (0..n).collect();
    let key = |s: f64| {
        if s.is_nan() {
            f64::NEG_INFINITY
        } else {
            match direction {
                Direction::Minimize => -s,
                Direction::Maximize => s,
            }
        }
    };
    order.sort_by(|&a, &b| key(scores[a]).total_cmp(&key(scores[b])));
    let k = ((n as f64 * q).ceil() as usize).min(n / 2);
    (order[..k].to_vec(), order[n - k..].to_vec())
}

fn member_error(member: usize, step: u64, op: &'static str, e: impl Display) -> Error {
    Error::Member {
        member,
        step,
        op,
        message: e.to_string(),
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string payload".into());
    format!("panicked: {msg}")
}

#[cfg(test)]
mod tests;
