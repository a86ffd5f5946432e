//! A study: ask/tell, `optimize` on threads, the best trial, persistence.

use crate::{
    Direction, Error, FrozenTrial, LoadWarning, MemoryStorage, NopPruner, Pruner, RandomSampler,
    RdbConfig, RdbStorage, Result, Sampler, Storage, Trial, TrialState,
};
use indicatif::{ProgressBar, ProgressDrawTarget};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Arguments of [`Study::new`]; `Default` is Optuna's (minimize, no progress bar).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StudyConfig {
    /// Minimize (default) or maximize the objective.
    pub direction: Direction,
    /// Seeds every trial's RNG (trial `n` uses stream `n`) and the samplers' scrambles.
    pub seed: u64,
    /// Draw a progress bar on stderr during `optimize` (never when stderr is not a terminal).
    pub progress_bar: bool,
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
        let storage = RdbStorage::open(url, name, config.direction, RdbConfig::default())?;
        Study::new(config).with_storage(storage)
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
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        rng.set_stream(frozen.number);
        Ok(Trial {
            study: self,
            frozen,
            rng,
            pruned: false,
            started: Instant::now(),
        })
    }

    /// Finishes `trial` with the objective's result and writes it to the
    /// storage (Optuna's `tell`): pruned if the pruner said so (valued at its
    /// last report), complete for a finite `Ok`, failed otherwise.
    pub fn tell<E: Display>(
        &self,
        trial: Trial<'_>,
        result: Result<f64, E>,
    ) -> Result<FrozenTrial> {
        let mut frozen = trial.frozen;
        frozen.duration_secs = trial.started.elapsed().as_secs_f64();
        if trial.pruned {
            frozen.state = TrialState::Pruned;
            frozen.value = frozen
                .last_step()
                .map(|s| frozen.intermediate[&s])
                .filter(|v| v.is_finite());
        } else {
            match result {
                Ok(v) if v.is_finite() => {
                    frozen.state = TrialState::Complete;
                    frozen.value = Some(v);
                }
                Ok(v) => {
                    frozen.state = TrialState::Fail;
                    frozen.message = Some(format!("the objective returned {v}"));
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
        if let Err(e) = state.storage.append(&frozen) {
            if matches!(e, Error::NotRunning { .. }) {
                // Another worker failed it (its heartbeat went stale): so be it here too.
                state.trials[idx].state = TrialState::Fail;
                state.trials[idx].message = Some("failed by another worker".into());
            }
            return Err(e);
        }
        state.trials[idx] = frozen.clone();
        Ok(frozen)
    }

    /// Runs `n_trials` more trials of `objective` on `n_parallel` threads.
    ///
    /// A trial whose objective errs, panics or returns a non-finite value is
    /// recorded as failed and the study goes on, as it does when another
    /// worker of a shared storage failed the trial first (a stale heartbeat);
    /// an exhausted grid ends the run early without error; a storage error
    /// stops it and is returned.
    pub fn optimize<F, E>(&self, objective: F, n_trials: usize, n_parallel: usize) -> Result<()>
    where
        F: Fn(&mut Trial<'_>) -> Result<f64, E> + Sync,
        E: Display,
    {
        let bar = if self.config.progress_bar {
            ProgressBar::with_draw_target(Some(n_trials as u64), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        let claimed = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let failure: Mutex<Option<Error>> = Mutex::new(None);
        let worker = || {
            while !stop.load(Ordering::SeqCst) && claimed.fetch_add(1, Ordering::SeqCst) < n_trials
            {
                let outcome = self.ask().and_then(|mut trial| {
                    let result = catch_unwind(AssertUnwindSafe(|| objective(&mut trial)));
                    let result = match result {
                        Ok(r) => r.map_err(|e| e.to_string()),
                        Err(payload) => Err(panic_text(payload.as_ref())),
                    };
                    self.tell(trial, result)
                });
                match outcome {
                    Ok(_) => {
                        bar.inc(1);
                        if let Ok(best) = self.best_trial() {
                            bar.set_message(format!("best {:.6}", best.value.unwrap_or(f64::NAN)));
                        }
                    }
                    Err(e @ Error::NotRunning { .. }) => {
                        // A shared storage's other worker failed it (a stale
                        // heartbeat) and may retry it; this worker goes on.
                        eprintln!("descent-hpo: warning: {e}: failed by another worker");
                    }
                    Err(e) => {
                        stop.store(true, Ordering::SeqCst);
                        if !matches!(e, Error::GridExhausted { .. }) {
                            failure
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .get_or_insert(e);
                        }
                    }
                }
            }
        };
        let interval = self.lock().storage.heartbeat_interval();
        let working = AtomicBool::new(true);
        std::thread::scope(|s| {
            if let Some(interval) = interval {
                let working = &working;
                s.spawn(move || self.beat(interval, working));
            }
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                if n_parallel <= 1 {
                    worker();
                } else {
                    let workers: Vec<_> = (0..n_parallel).map(|_| s.spawn(worker)).collect();
                    for w in workers {
                        if let Err(payload) = w.join() {
                            std::panic::resume_unwind(payload);
                        }
                    }
                }
            }));
            working.store(false, Ordering::SeqCst);
            if let Err(payload) = outcome {
                std::panic::resume_unwind(payload);
            }
        });
        bar.finish_and_clear();
        match failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
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

    /// The completed trial with the best value (the lowest number among equals).
    pub fn best_trial(&self) -> Result<FrozenTrial> {
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

    /// The trials as a table: number, state, value, duration, configuration.
    pub fn results_table(&self) -> String {
        crate::table::render(&self.lock().trials)
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
