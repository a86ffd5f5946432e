//! A study: ask/tell, `optimize` on threads, the best trial, persistence.
//!
//! Invariant: a finished trial is committed (journal: appended and fsynced;
//! database: one transaction) before `tell` returns, so before its thread asks
//! the next trial.
//! Invariant: before each trial a study takes in every trial other workers
//! finished, so samplers and pruners see the whole shared study.
//! Invariant: trial `n` draws from `ChaCha8Rng::seed_from_u64(seed)` on stream
//! `n` (the sampler's own seed if `Sampler::with_seed` gave one, else the
//! study's), so history-free samplers give each trial the same values
//! whatever the thread count.
//! Invariant: a journal study numbers new trials after the largest recorded
//! number (never past `u64::MAX`: `TrialNumbersExhausted`).
//! Invariant: a sampler can stop a study only through `Sampler::exhausted`,
//! called after a trial is recorded.

use crate::{
    Direction, Error, FrozenTrial, LoadWarning, MemoryStorage, NopPruner, ObjectiveValue,
    ParamValues, Pruner, RandomSampler, RdbConfig, RdbStorage, Result, Sampler, Storage, Trial,
    TrialState,
};
use indicatif::{ProgressBar, ProgressDrawTarget};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What a callback of [`Study::optimize_with`] is given after each finished
/// trial: the study and the trial (Optuna's `callback(study, trial)`).
pub type Callback<'a> = Box<dyn Fn(&Study, &FrozenTrial) + Send + Sync + 'a>;

/// Arguments of [`Study::optimize_with`] and [`Study::optimize_local`]
/// (Optuna's `optimize` arguments); `Default` runs until [`Study::stop`].
#[derive(Default)]
pub struct OptimizeOptions<'a> {
    /// Trials to run, or `None` for no limit (Optuna's `n_trials`).
    pub n_trials: Option<usize>,
    /// No trial starts once this much time has passed since the call (Optuna's `timeout`).
    pub timeout: Option<Duration>,
    /// Threads running trials (Optuna's `n_jobs`); 0 and 1 mean the calling thread.
    pub n_parallel: usize,
    /// Called in order after each trial is recorded, on the thread that ran it.
    pub callbacks: Vec<Callback<'a>>,
}

impl std::fmt::Debug for OptimizeOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OptimizeOptions")
            .field("n_trials", &self.n_trials)
            .field("timeout", &self.timeout)
            .field("n_parallel", &self.n_parallel)
            .field("callbacks", &self.callbacks.len())
            .finish()
    }
}

/// The shared state of one optimize call's workers.
struct Run<'o> {
    options: &'o OptimizeOptions<'o>,
    bar: ProgressBar,
    claimed: AtomicUsize,
    stop: AtomicBool,
    failure: Mutex<Option<Error>>,
    started: Instant,
}

impl<'o> Run<'o> {
    fn new(study: &Study, options: &'o OptimizeOptions<'o>) -> Self {
        study.stop_requested.store(false, Ordering::SeqCst);
        let bar = if study.config.progress_bar {
            let len = options.n_trials.map(|n| n as u64);
            ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        Run {
            options,
            bar,
            claimed: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            failure: Mutex::new(None),
            started: Instant::now(),
        }
    }

    /// Whether another trial may start, claiming it if so.
    fn next(&self, study: &Study) -> bool {
        if self.stop.load(Ordering::SeqCst) || study.stop_requested.load(Ordering::SeqCst) {
            return false;
        }
        if self
            .options
            .timeout
            .is_some_and(|t| self.started.elapsed() >= t)
        {
            return false;
        }
        let n = self.claimed.fetch_add(1, Ordering::SeqCst);
        self.options.n_trials.is_none_or(|max| n < max)
    }

    /// Records a trial's outcome: callbacks and the bar for a finished one,
    /// a warning for one another worker failed, a stop for anything else.
    fn finish(&self, study: &Study, outcome: Result<FrozenTrial>) {
        match outcome {
            Ok(frozen) => {
                self.bar.inc(1);
                if let Ok(best) = study.best_value() {
                    self.bar.set_message(format!("best {best:.6}"));
                }
                for callback in &self.options.callbacks {
                    callback(study, &frozen);
                }
            }
            Err(e @ Error::NotRunning { .. }) => {
                // A shared storage's other worker failed it (a stale
                // heartbeat) and may retry it; this worker goes on.
                eprintln!("descent-hpo: warning: {e}: failed by another worker");
            }
            Err(e) => {
                self.stop.store(true, Ordering::SeqCst);
                if !matches!(e, Error::GridExhausted { .. }) {
                    self.failure
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get_or_insert(e);
                }
            }
        }
    }

    fn end(self) -> Result<()> {
        self.bar.finish_and_clear();
        match self.failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Arguments of [`Study::new`]; `Default` is Optuna's (minimize, no progress bar).
///
/// A multi-objective study lists one direction per objective in
/// `directions` (Optuna's `create_study(directions=[...])`); its objective
/// returns that many values (see [`ObjectiveValue`]).
///
/// # Examples
///
/// ```
/// use descent_hpo::{Direction, Study, StudyConfig};
///
/// let study = Study::new(StudyConfig {
///     directions: vec![Direction::Minimize, Direction::Maximize],
///     ..Default::default()
/// });
/// study.optimize(|t| t.suggest_float("x", 0.0, 1.0).map(|x| [x * x, x]), 10, 1)?;
/// assert!(!study.best_trials()?.is_empty());
/// assert!(study.best_value().is_err(), "no single best value with two objectives");
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StudyConfig {
    /// Minimize (default) or maximize the objective (of a single-objective study).
    pub direction: Direction,
    /// One direction per objective (Optuna's `directions`); when not empty it
    /// replaces `direction`, and two or more make a multi-objective study.
    pub directions: Vec<Direction>,
    /// Seeds every trial's RNG (trial `n` uses stream `n`) and the samplers'
    /// scrambles, unless the sampler has a seed of its own ([`Sampler::with_seed`]).
    pub seed: u64,
    /// Draw a progress bar on stderr during `optimize` (never when stderr is not a terminal).
    pub progress_bar: bool,
}

impl StudyConfig {
    /// The direction of each objective: `directions` if given, else `[direction]`.
    pub fn objective_directions(&self) -> &[Direction] {
        if self.directions.is_empty() {
            std::slice::from_ref(&self.direction)
        } else {
            &self.directions
        }
    }
}

struct State {
    /// Finished and running trials, sorted by number.
    trials: Vec<FrozenTrial>,
    /// The next trial number; `None` once `u64::MAX` is taken.
    next_number: Option<u64>,
    storage: Box<dyn Storage>,
}

/// A hyperparameter search: a sampler proposes configurations, the objective
/// evaluates them (reporting intermediate values to a pruner), and every
/// finished trial is written to the storage before the next one starts.
///
/// # Examples
///
/// ```
/// use descent_hpo::{Study, StudyConfig, Trial};
///
/// let study = Study::new(StudyConfig { seed: 42, ..Default::default() });
/// study.optimize(
///     |trial: &mut Trial| {
///         let lr = trial.suggest_float_log("lr", 1e-4, 1.0)?;
///         let optimizer: &str = trial.suggest_categorical("optimizer", &["sgd", "adam"])?;
///         let beta2 = if optimizer == "adam" { trial.suggest_float("beta2", 0.9, 0.9999)? } else { 0.0 };
///         Ok::<_, descent_hpo::Error>((lr.log10() + 2.0).powi(2) + beta2)
///     },
///     20,
///     2,
/// )?;
/// let best = study.best_trial()?;
/// assert_eq!(study.trials().len(), 20);
/// println!("{}", study.results_table());
/// # Ok::<(), descent_hpo::Error>(())
/// ```
pub struct Study {
    pub(crate) config: StudyConfig,
    pub(crate) sampler: Box<dyn Sampler>,
    pub(crate) pruner: Box<dyn Pruner>,
    state: Mutex<State>,
    warnings: Vec<LoadWarning>,
    stop_requested: AtomicBool,
}

impl std::fmt::Debug for Study {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Study")
            .field("config", &self.config)
            .field("n_trials", &self.lock().trials.len())
            .finish()
    }
}

impl Study {
    /// An in-memory study with the random sampler and no pruner.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_hpo::{Direction, Study, StudyConfig};
    ///
    /// let study = Study::new(StudyConfig { direction: Direction::Maximize, ..Default::default() });
    /// assert!(study.trials().is_empty());
    /// ```
    pub fn new(config: StudyConfig) -> Self {
        Study {
            config,
            sampler: Box::new(RandomSampler),
            pruner: Box::new(NopPruner),
            state: Mutex::new(State {
                trials: Vec::new(),
                next_number: Some(0),
                storage: Box::new(MemoryStorage::new()),
            }),
            warnings: Vec::new(),
            stop_requested: AtomicBool::new(false),
        }
    }

    /// Opens the study `name` in the database at `url` (`sqlite:///path.db`,
    /// `postgresql://user@host/db`), creating it if it does not exist, with
    /// [`RdbConfig::default`]: any number of processes may call this and
    /// work on one study, each seeing every trial the others finish.
    /// [`RdbStorage::open`] with [`Study::with_storage`] sets heartbeats and retries.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_hpo::{Study, StudyConfig};
    ///
    /// let path = std::env::temp_dir().join(format!("descent-hpo-loc-{}.db", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let url = format!("sqlite:///{}", path.display());
    /// let study = Study::load_or_create(&url, "mlp", StudyConfig::default())?;
    /// study.optimize(|t| t.suggest_float("lr", 1e-4, 1.0), 2, 1)?;
    /// assert_eq!(study.trials().len(), 2);
    /// # drop(study); // the last connection closed, SQLite removes its -wal and -shm files
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), descent_hpo::Error>(())
    /// ```
    pub fn load_or_create(url: &str, name: &str, config: StudyConfig) -> Result<Self> {
        let storage = RdbStorage::open_with_directions(
            url,
            name,
            config.objective_directions(),
            RdbConfig::default(),
        )?;
        Study::new(config).with_storage(storage)
    }

    /// The seed of the samplers' draws: the sampler's own
    /// ([`Sampler::with_seed`]) if it has one, else the study's.
    pub(crate) fn sampler_seed(&self) -> u64 {
        self.sampler.seed().unwrap_or(self.config.seed)
    }

    /// The same study with another sampler.
    pub fn with_sampler(mut self, sampler: impl Sampler + 'static) -> Self {
        self.sampler = Box::new(sampler);
        self
    }

    /// The same study with a pruner.
    pub fn with_pruner(mut self, pruner: impl Pruner + 'static) -> Self {
        self.pruner = Box::new(pruner);
        self
    }

    /// The same study kept in `storage`, after replaying the trials it holds:
    /// numbering goes on after the largest recorded number, and lines the
    /// storage skipped are kept in [`Study::warnings`] and printed on stderr.
    pub fn with_storage(mut self, mut storage: impl Storage + 'static) -> Result<Self> {
        let loaded = storage.load()?;
        for w in &loaded.warnings {
            eprintln!("descent-hpo: warning: {w}");
        }
        let mut trials = loaded.trials;
        trials.sort_by_key(|t| t.number);
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        state.next_number = trials.last().map_or(Some(0), |t| t.number.checked_add(1));
        state.trials = trials;
        state.storage = Box::new(storage);
        self.warnings = loaded.warnings;
        Ok(self)
    }

    /// What the storage skipped when the study was opened.
    pub fn warnings(&self) -> &[LoadWarning] {
        &self.warnings
    }

    /// The study's configuration.
    pub fn config(&self) -> &StudyConfig {
        &self.config
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn with_state<R>(&self, f: impl FnOnce(&[FrozenTrial]) -> R) -> R {
        f(&self.lock().trials)
    }

    /// Makes the study's copy of a running trial match `trial`, and the
    /// storage's record of it too.
    pub(crate) fn update_running(&self, trial: &FrozenTrial) -> Result<()> {
        let mut state = self.lock();
        if let Ok(i) = state
            .trials
            .binary_search_by_key(&trial.number, |t| t.number)
            && state.trials[i].state == TrialState::Running
        {
            state.trials[i] = trial.clone();
            state.storage.record_running(trial)?;
        }
        Ok(())
    }

    /// Takes in the trials other workers of a shared storage finished since
    /// the last [`Study::ask`] or refresh (a study asks for them before each
    /// trial anyway); the number taken in.
    pub fn refresh(&self) -> Result<usize> {
        Self::take_in(&mut self.lock())
    }

    fn take_in(state: &mut State) -> Result<usize> {
        let fresh = state.storage.refresh()?;
        let mut n = 0;
        for t in fresh {
            if let Err(pos) = state.trials.binary_search_by_key(&t.number, |x| x.number) {
                state.trials.insert(pos, t);
                n += 1;
            }
        }
        Ok(n)
    }

    /// Starts a new trial (Optuna's `ask`): trials other workers finished
    /// meanwhile are taken in first, so the sampler sees them; a shared
    /// storage numbers the trial (or hands back an enqueued retry).
    pub fn ask(&self) -> Result<Trial<'_>> {
        let n_objectives = self.directions().len();
        if n_objectives > 1 && !self.sampler.supports_multi_objective() {
            return Err(Error::SingleObjectiveOnly {
                op: "a single-objective sampler",
                n_objectives,
            });
        }
        let mut state = self.lock();
        Self::take_in(&mut state)?;
        let claimed = state.storage.claim()?;
        let mut frozen = match &claimed {
            Some(t) => t.clone(),
            None => FrozenTrial::running(
                state
                    .next_number
                    .ok_or(Error::TrialNumbersExhausted { last: u64::MAX })?,
            ),
        };
        let number = frozen.number;
        if let Err(e) = self.sampler.before_trial(&state.trials, &mut frozen) {
            if claimed.is_some() {
                // The storage started it: finish it, so no worker waits on it.
                frozen.state = TrialState::Fail;
                frozen.message = Some(e.to_string());
                state.storage.append(&frozen)?;
            }
            return Err(e);
        }
        if claimed.is_none() {
            state.next_number = number.checked_add(1);
        } else if !frozen.attrs.is_empty() {
            state.storage.record_running(&frozen)?;
        }
        let pos = state.trials.partition_point(|t| t.number < number);
        state.trials.insert(pos, frozen.clone());
        let mut rng = ChaCha8Rng::seed_from_u64(self.sampler_seed());
        rng.set_stream(frozen.number);
        Ok(Trial {
            study: self,
            frozen,
            rng,
            pruned: false,
            started: Instant::now(),
            relative: None,
            unsupported: None,
        })
    }

    /// Finishes `trial` with the objective's result and writes it to the
    /// storage (Optuna's `tell`): pruned if the pruner said so (valued at its
    /// last report), complete for a finite `Ok`, failed otherwise.
    /// [`Study::tell_values`] takes several values.
    pub fn tell<E: Display>(
        &self,
        trial: Trial<'_>,
        result: Result<f64, E>,
    ) -> Result<FrozenTrial> {
        self.tell_values(trial, result)
    }

    /// [`Study::tell`] with one value per objective (Optuna's
    /// `tell(trial, values=[...])`): any [`ObjectiveValue`] — an `f64`, a
    /// `Vec<f64>`, an `[f64; N]`. A result with the wrong number of values or
    /// a non-finite one fails the trial, with the reason as its message.
    ///
    /// A trial of a multi-objective study that called [`Trial::report`] or
    /// [`Trial::should_prune`] is recorded as failed and this returns
    /// [`Error::SingleObjectiveOnly`] (Optuna raises `NotImplementedError`).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_hpo::{Direction, Study, StudyConfig, TrialState};
    ///
    /// let study = Study::new(StudyConfig {
    ///     directions: vec![Direction::Minimize; 2],
    ///     ..Default::default()
    /// });
    /// let trial = study.ask()?;
    /// let told = study.tell_values(trial, Ok::<_, String>(vec![1.0, 2.0]))?;
    /// assert_eq!(told.values, [1.0, 2.0]);
    /// let trial = study.ask()?;
    /// let told = study.tell_values(trial, Ok::<_, String>(3.0))?;
    /// assert_eq!(told.state, TrialState::Fail, "one value for two objectives");
    /// # Ok::<(), descent_hpo::Error>(())
    /// ```
    pub fn tell_values<V: ObjectiveValue, E: Display>(
        &self,
        trial: Trial<'_>,
        result: Result<V, E>,
    ) -> Result<FrozenTrial> {
        let mut frozen = trial.frozen;
        frozen.duration_secs = trial.started.elapsed().as_secs_f64();
        let n_objectives = self.directions().len();
        let misuse = trial
            .unsupported
            .map(|op| Error::SingleObjectiveOnly { op, n_objectives });
        if let Some(e) = &misuse {
            frozen.state = TrialState::Fail;
            frozen.message = Some(e.to_string());
        } else if trial.pruned {
            frozen.state = TrialState::Pruned;
            frozen.value = frozen
                .last_step()
                .map(|s| frozen.intermediate[&s])
                .filter(|v| v.is_finite());
        } else {
            match result.map(ObjectiveValue::into_values) {
                Ok(v) if v.len() != n_objectives => {
                    frozen.state = TrialState::Fail;
                    let e = Error::ObjectiveCount {
                        what: "the objective's values",
                        expected: n_objectives,
                        got: v.len(),
                    };
                    frozen.message = Some(e.to_string());
                }
                Ok(v) if v.iter().all(|x| x.is_finite()) => {
                    frozen.state = TrialState::Complete;
                    frozen.set_values(v);
                }
                Ok(v) => {
                    frozen.state = TrialState::Fail;
                    let shown = match &v[..] {
                        [x] => x.to_string(),
                        _ => format!("{v:?}"),
                    };
                    frozen.message = Some(format!("the objective returned {shown}"));
                }
                Err(e) => {
                    frozen.state = TrialState::Fail;
                    frozen.message = Some(e.to_string());
                }
            }
        }
        let mut state = self.lock();
        let number = frozen.number;
        let idx = state
            .trials
            .binary_search_by_key(&number, |t| t.number)
            .ok()
            .filter(|&i| state.trials[i].state == TrialState::Running)
            .ok_or(Error::NotRunning { number })?;
        if let Err(e) = self.sampler.after_trial(&state.trials, &mut frozen) {
            frozen.state = TrialState::Fail;
            frozen.message = Some(format!("the sampler's after_trial: {e}"));
        }
        if let Err(e) = state.storage.append(&frozen) {
            if matches!(e, Error::NotRunning { .. }) {
                // Another worker failed it (its heartbeat went stale): so be it here too.
                state.trials[idx].state = TrialState::Fail;
                state.trials[idx].message = Some("failed by another worker".into());
            }
            return Err(e);
        }
        state.trials[idx] = frozen.clone();
        let exhausted = self.sampler.exhausted(&state.trials, &frozen);
        drop(state);
        if exhausted {
            self.stop();
        }
        match misuse {
            Some(e) => Err(e),
            None => Ok(frozen),
        }
    }

    /// Runs `n_trials` more trials of `objective` on `n_parallel` threads
    /// ([`Study::optimize_with`] with only these two options).
    ///
    /// A trial whose objective errs, panics or returns a non-finite value is
    /// recorded as failed and the study goes on, as it does when another
    /// worker of a shared storage failed the trial first (a stale heartbeat);
    /// an exhausted grid ends the run early without error; a storage error
    /// stops it and is returned.
    ///
    /// The objective returns any [`ObjectiveValue`]: an `f64`, or one value
    /// per objective of a multi-objective study (`[f64; N]`, `Vec<f64>`).
    pub fn optimize<F, V, E>(&self, objective: F, n_trials: usize, n_parallel: usize) -> Result<()>
    where
        F: Fn(&mut Trial<'_>) -> Result<V, E> + Sync,
        V: ObjectiveValue,
        E: Display,
    {
        self.optimize_with(
            objective,
            OptimizeOptions {
                n_trials: Some(n_trials),
                n_parallel,
                ..Default::default()
            },
        )
    }

    /// Runs trials of `objective` on `options.n_parallel` threads until
    /// `n_trials` more have run, the `timeout` has passed (no trial starts
    /// after it; running ones finish), or a callback calls [`Study::stop`]
    /// (Optuna's `optimize(n_trials=, timeout=, n_jobs=, callbacks=)`).
    /// Errors are handled as by [`Study::optimize`].
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_hpo::{OptimizeOptions, Study, StudyConfig};
    /// use std::time::Duration;
    ///
    /// let study = Study::new(StudyConfig::default());
    /// study.optimize_with(
    ///     |t| t.suggest_float("x", -1.0, 1.0).map(|x| x * x),
    ///     OptimizeOptions {
    ///         n_trials: Some(1000),
    ///         timeout: Some(Duration::from_secs(60)),
    ///         n_parallel: 2,
    ///         // Stop as soon as a value below 0.01 is found.
    ///         callbacks: vec![Box::new(|study: &Study, _| {
    ///             if study.best_value().is_ok_and(|v| v < 0.01) {
    ///                 study.stop();
    ///             }
    ///         })],
    ///     },
    /// )?;
    /// assert!(study.best_value()? < 0.01);
    /// # Ok::<(), descent_hpo::Error>(())
    /// ```
    pub fn optimize_with<F, V, E>(&self, objective: F, options: OptimizeOptions<'_>) -> Result<()>
    where
        F: Fn(&mut Trial<'_>) -> Result<V, E> + Sync,
        V: ObjectiveValue,
        E: Display,
    {
        let run = Run::new(self, &options);
        self.with_heartbeat(|s| {
            let worker = || {
                let mut f = |t: &mut Trial<'_>| objective(t);
                while run.next(self) {
                    run.finish(self, self.run_trial(&mut f));
                }
            };
            if options.n_parallel <= 1 {
                worker();
            } else {
                let workers: Vec<_> = (0..options.n_parallel).map(|_| s.spawn(worker)).collect();
                for w in workers {
                    if let Err(payload) = w.join() {
                        std::panic::resume_unwind(payload);
                    }
                }
            }
        });
        run.end()
    }

    /// [`Study::optimize_with`] on the calling thread only: the objective
    /// may be `FnMut` and need not be `Sync` (it may hold a `RefCell`, an
    /// `Rc`, a model it trains in place); `options.n_parallel` is ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_hpo::{OptimizeOptions, Study, StudyConfig};
    /// use std::cell::RefCell;
    ///
    /// let log = RefCell::new(Vec::new()); // not Sync
    /// let study = Study::new(StudyConfig::default());
    /// study.optimize_local(
    ///     |t| {
    ///         let x = t.suggest_float("x", -1.0, 1.0)?;
    ///         log.borrow_mut().push(x);
    ///         Ok::<_, descent_hpo::Error>(x * x)
    ///     },
    ///     OptimizeOptions { n_trials: Some(5), ..Default::default() },
    /// )?;
    /// assert_eq!(log.borrow().len(), 5);
    /// # Ok::<(), descent_hpo::Error>(())
    /// ```
    pub fn optimize_local<F, V, E>(
        &self,
        mut objective: F,
        options: OptimizeOptions<'_>,
    ) -> Result<()>
    where
        F: FnMut(&mut Trial<'_>) -> Result<V, E>,
        V: ObjectiveValue,
        E: Display,
    {
        let run = Run::new(self, &options);
        self.with_heartbeat(|_| {
            while run.next(self) {
                run.finish(self, self.run_trial(&mut objective));
            }
        });
        run.end()
    }

    /// Asks Study::optimize* to start no more trials (Optuna's `study.stop()`,
    /// for a callback or the objective); the running ones finish. The next
    /// optimize call starts afresh.
    pub fn stop(&self) {
        self.stop_requested.store(true, Ordering::SeqCst);
    }

    /// One trial of `objective`: asked, run (a panic caught as a failure), told.
    fn run_trial<V: ObjectiveValue, E: Display>(
        &self,
        objective: &mut dyn FnMut(&mut Trial<'_>) -> Result<V, E>,
    ) -> Result<FrozenTrial> {
        self.ask().and_then(|mut trial| {
            let result = catch_unwind(AssertUnwindSafe(|| objective(&mut trial)));
            let result = match result {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(payload) => Err(panic_text(payload.as_ref())),
            };
            self.tell_values(trial, result)
        })
    }

    /// Runs `body` while a thread beats for the running trials (if the
    /// storage has heartbeats), re-raising a panic of `body`.
    fn with_heartbeat<'env>(
        &'env self,
        body: impl for<'scope> FnOnce(&'scope std::thread::Scope<'scope, 'env>),
    ) {
        let interval = self.lock().storage.heartbeat_interval();
        let working = Arc::new(AtomicBool::new(true));
        std::thread::scope(|s| {
            if let Some(interval) = interval {
                let working = Arc::clone(&working);
                s.spawn(move || self.beat(interval, &working));
            }
            let outcome = catch_unwind(AssertUnwindSafe(|| body(s)));
            working.store(false, Ordering::SeqCst);
            if let Err(payload) = outcome {
                std::panic::resume_unwind(payload);
            }
        });
    }

    /// Records a heartbeat for this study's running trials every `interval`
    /// while `working`; a failed beat is retried at the next one.
    fn beat(&self, interval: Duration, working: &AtomicBool) {
        let mut last = Instant::now();
        while working.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(20).min(interval));
            if last.elapsed() < interval {
                continue;
            }
            last = Instant::now();
            let mut state = self.lock();
            let running: Vec<u64> = state
                .trials
                .iter()
                .filter(|t| t.state == TrialState::Running)
                .map(|t| t.number)
                .collect();
            if let Err(e) = state.storage.heartbeat(&running) {
                eprintln!("descent-hpo: warning: heartbeat: {e}");
            }
        }
    }

    /// Every trial so far (finished and running), by number.
    pub fn trials(&self) -> Vec<FrozenTrial> {
        self.lock().trials.clone()
    }

    /// The best value of a completed trial (Optuna's `best_value`).
    ///
    /// [`Error::SingleObjectiveOnly`] on a multi-objective study (Optuna
    /// raises `RuntimeError`).
    pub fn best_value(&self) -> Result<f64> {
        self.best_trial()?.value.ok_or(Error::NoCompletedTrial)
    }

    /// The configuration of the best completed trial (Optuna's `best_params`).
    pub fn best_params(&self) -> Result<ParamValues> {
        Ok(self.best_trial()?.params)
    }

    /// The completed trial with the best value (the lowest number among
    /// equals); [`Error::SingleObjectiveOnly`] on a multi-objective study,
    /// whose best trials are [`Study::best_trials`].
    pub fn best_trial(&self) -> Result<FrozenTrial> {
        let n_objectives = self.directions().len();
        if n_objectives > 1 {
            return Err(Error::SingleObjectiveOnly {
                op: "best_trial",
                n_objectives,
            });
        }
        let state = self.lock();
        let mut best: Option<&FrozenTrial> = None;
        for t in state
            .trials
            .iter()
            .filter(|t| t.state == TrialState::Complete)
        {
            let (Some(v), b) = (t.value, best.and_then(|b| b.value)) else {
                continue;
            };
            if b.is_none_or(|b| self.config.direction.better(v, b)) {
                best = Some(t);
            }
        }
        best.cloned().ok_or(Error::NoCompletedTrial)
    }

    /// The trials as a table: number, state, value(s), duration, configuration.
    pub fn results_table(&self) -> String {
        crate::table::render(&self.lock().trials)
    }

    /// The direction of each objective (Optuna's `study.directions`); one
    /// for a single-objective study.
    pub fn directions(&self) -> &[Direction] {
        self.config.objective_directions()
    }

    /// The Pareto front (Optuna's `study.best_trials`): the completed
    /// trials no other completed trial dominates — at least as good in every
    /// objective and better in one — in number order. Trials an NSGA-II
    /// `constraints_func` judged infeasible are left out, as Optuna leaves
    /// them out. On a single-objective study: the trials with the best value.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_hpo::{Direction, Study, StudyConfig};
    ///
    /// let study = Study::new(StudyConfig {
    ///     directions: vec![Direction::Minimize, Direction::Minimize],
    ///     ..Default::default()
    /// });
    /// for v in [[1.0, 3.0], [2.0, 2.0], [2.0, 3.0], [3.0, 1.0]] {
    ///     let trial = study.ask()?;
    ///     study.tell_values(trial, Ok::<_, String>(v))?;
    /// }
    /// let front: Vec<u64> = study.best_trials()?.iter().map(|t| t.number).collect();
    /// assert_eq!(front, [0, 1, 3]); // [2, 3] is dominated by [2, 2]
    /// # Ok::<(), descent_hpo::Error>(())
    /// ```
    pub fn best_trials(&self) -> Result<Vec<FrozenTrial>> {
        let state = self.lock();
        crate::multi::pareto_front_trials(&state.trials, self.directions())
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string payload".into());
    format!("the objective panicked: {msg}")
}
