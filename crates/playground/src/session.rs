//! Sessions: one per browser tab, each with its own worker thread that owns
//! the tab's runs and publishes snapshots into a latest-value slot.
//!
//! Invariants:
//! - A session's state lives in its worker thread only; the registry holds
//!   a command channel and the snapshot slot, nothing shared between tabs.
//! - The worker never waits for the page: snapshots go into a
//!   [`tokio::sync::watch`] slot (latest wins), commands come through a
//!   bounded channel that the page's requests fill without blocking.
//! - A session ends when its event stream disconnects, when it is deleted,
//!   or when no stream attached within [`ATTACH_TIMEOUT`]; ending it cancels
//!   the running batch and the thread exits.

use crate::config::{LIMITS, SessionConfig};
use crate::data::{PlayData, Point, VIEW, generate};
use crate::run::{GRID, Run, RunSnapshot, grid_points};
use crate::{Error, Result};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

/// A session whose event stream has not attached by then is ended.
pub const ATTACH_TIMEOUT: Duration = Duration::from_secs(30);
/// Commands a session queues at most (further requests get [`Error::Busy`]).
pub const COMMAND_QUEUE: usize = 8;
/// Snapshots are published at most this often while training.
pub const SNAPSHOT_EVERY: Duration = Duration::from_millis(50);

/// What the page asks a session to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Train until paused or ended.
    Start,
    /// Stop training after the current epoch.
    Pause,
    /// Train one epoch, then pause.
    Step,
    /// Rebuild the runs from the configuration (same seed: same start).
    Reset,
}

/// Where a session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// No configuration yet.
    Empty,
    /// Configured, not training.
    Paused,
    /// Training.
    Running,
    /// Every run has ended.
    Ended,
}

/// One message of the event stream.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    /// Increases with every snapshot of the session.
    pub seq: u64,
    /// Increases with every configuration or reset (the page drops curves
    /// of an older generation).
    pub generation: u64,
    /// Where the session is.
    pub phase: Phase,
    /// The runs (two in compare mode).
    pub runs: Vec<RunSnapshot>,
    /// Optimizer steps per wall-clock second while running, all runs
    /// together, over the last second (pacing and snapshots included).
    pub steps_per_sec: f64,
    /// Optimizer steps per second spent training (the machine's capacity).
    pub train_steps_per_sec: f64,
    /// A failure to show on the page.
    pub error: Option<String>,
}

/// The answer to a configuration: the points to draw and the plane.
#[derive(Clone, Debug, Serialize)]
pub struct Configured {
    /// The configuration's generation (as in [`Snapshot::generation`]).
    pub generation: u64,
    /// Classes.
    pub n_classes: usize,
    /// Training points.
    pub n_train: usize,
    /// Test points.
    pub n_test: usize,
    /// Every point, training points first.
    pub points: Vec<Point>,
    /// The plane is `[-view, view]²`.
    pub view: f32,
    /// Cells per side of the decision-boundary grid.
    pub grid: usize,
}

enum Command {
    Configure(Box<SessionConfig>, oneshot::Sender<Result<Configured>>),
    Control(Action, oneshot::Sender<Result<()>>),
}

struct Experiment {
    config: SessionConfig,
    data: Arc<PlayData>,
    runs: Vec<Run>,
}

/// The worker thread's state.
struct Worker {
    rx: Receiver<Command>,
    out: watch::Sender<Arc<str>>,
    cancel: Arc<AtomicBool>,
    grid: Arc<DMatrix<f32>>,
    exp: Option<Experiment>,
    running: bool,
    seq: u64,
    generation: u64,
    error: Option<String>,
    rate: Rate,
    /// When the next epoch may start (pacing).
    due: Instant,
}

/// Steps per second over windows of about a second while running: per
/// wall-clock second (what the page sees, pacing and snapshots included) and
/// per second spent in training (what the machine can do).
#[derive(Default)]
struct Rate {
    steps: u64,
    busy: Duration,
    since: Option<Instant>,
    wall: f64,
    train: f64,
}

impl Rate {
    fn add(&mut self, steps: u64, busy: Duration) {
        let since = *self.since.get_or_insert_with(Instant::now);
        self.steps += steps;
        self.busy += busy;
        let wall = since.elapsed();
        if wall >= Duration::from_secs(1) {
            self.wall = self.steps as f64 / wall.as_secs_f64();
            self.train = self.steps as f64 / self.busy.as_secs_f64().max(1e-9);
            self.steps = 0;
            self.busy = Duration::ZERO;
            self.since = Some(Instant::now());
        }
    }

    /// A pause ends the window (idle time is not a slow step).
    fn pause(&mut self) {
        self.steps = 0;
        self.busy = Duration::ZERO;
        self.since = None;
    }
}

impl Worker {
    fn run(mut self) {
        let mut last_publish = Instant::now();
        loop {
            let wait = self.due.saturating_duration_since(Instant::now());
            let cmd = if self.running && wait.is_zero() {
                match self.rx.try_recv() {
                    Ok(c) => Some(c),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => return,
                }
            } else if self.running {
                // Paced: wait for the next epoch's time, or a command.
                match self.rx.recv_timeout(wait) {
                    Ok(c) => Some(c),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            } else {
                match self.rx.recv_timeout(Duration::from_secs(1)) {
                    Ok(c) => Some(c),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            };
            if self.cancel.load(Ordering::Relaxed) {
                return;
            }
            if let Some(cmd) = cmd {
                self.handle(cmd);
                self.publish();
                last_publish = Instant::now();
            }
            if self.running && Instant::now() >= self.due {
                let pace = self.exp.as_ref().map_or(0.0, |e| e.config.epochs_per_sec);
                if pace > 0.0 {
                    self.due = Instant::now() + Duration::from_secs_f64(1.0 / pace);
                }
                self.train_epoch();
                if !self.running || last_publish.elapsed() >= SNAPSHOT_EVERY {
                    self.publish();
                    last_publish = Instant::now();
                }
            }
        }
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Configure(config, reply) => {
                let result = self.configure(*config);
                let _ = reply.send(result);
            }
            Command::Control(action, reply) => {
                let result = self.control(action);
                let _ = reply.send(result);
            }
        }
    }

    fn configure(&mut self, config: SessionConfig) -> Result<Configured> {
        config.validate()?;
        let data = Arc::new(generate(&config.data, config.seed)?);
        let exp = self.build(config, data)?;
        self.running = false;
        self.error = None;
        self.generation += 1;
        let d = &exp.data;
        let reply = Configured {
            generation: self.generation,
            n_classes: d.n_classes,
            n_train: d.train_len(),
            n_test: d.points.len() - d.train_len(),
            points: d.points.clone(),
            view: VIEW,
            grid: GRID,
        };
        self.exp = Some(exp);
        Ok(reply)
    }

    fn build(&self, config: SessionConfig, data: Arc<PlayData>) -> Result<Experiment> {
        let runs = config
            .runs()
            .into_iter()
            .map(|r| {
                Run::new(
                    r,
                    data.clone(),
                    self.grid.clone(),
                    config.seed,
                    self.cancel.clone(),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Experiment { config, data, runs })
    }

    fn control(&mut self, action: Action) -> Result<()> {
        let name = format!("{action:?}").to_lowercase();
        let Some(exp) = self.exp.take() else {
            return Err(Error::NotConfigured(name));
        };
        match action {
            Action::Start => {
                self.running = !exp.runs.iter().all(Run::ended);
                self.exp = Some(exp);
            }
            Action::Pause => {
                self.running = false;
                self.rate.pause();
                self.exp = Some(exp);
            }
            Action::Step => {
                self.running = false;
                self.exp = Some(exp);
                self.train_epoch();
            }
            Action::Reset => {
                self.running = false;
                self.error = None;
                let Experiment { config, data, .. } = exp;
                let rebuilt = self.build(config, data)?;
                self.generation += 1;
                self.exp = Some(rebuilt);
            }
        }
        Ok(())
    }

    /// One epoch of every run that has not ended.
    fn train_epoch(&mut self) {
        let Some(exp) = &mut self.exp else {
            self.running = false;
            return;
        };
        let started = Instant::now();
        let mut steps = 0;
        for run in &mut exp.runs {
            let before = run.trainer().optimizer().steps();
            if let Err(e) = run.epoch() {
                self.error = Some(e.to_string());
            }
            steps += run.trainer().optimizer().steps().saturating_sub(before);
        }
        self.rate.add(steps, started.elapsed());
        if exp.runs.iter().all(Run::ended) {
            self.running = false;
            self.rate.pause();
        }
    }

    fn publish(&mut self) {
        self.seq += 1;
        let (phase, runs) = match &self.exp {
            None => (Phase::Empty, Vec::new()),
            Some(exp) => {
                let mut runs = Vec::with_capacity(exp.runs.len());
                for r in &exp.runs {
                    match r.snapshot() {
                        Ok(s) => runs.push(s),
                        Err(e) => self.error = Some(e.to_string()),
                    }
                }
                let phase = if exp.runs.iter().all(Run::ended) {
                    Phase::Ended
                } else if self.running {
                    Phase::Running
                } else {
                    Phase::Paused
                };
                (phase, runs)
            }
        };
        let snap = Snapshot {
            seq: self.seq,
            generation: self.generation,
            phase,
            runs,
            steps_per_sec: self.rate.wall,
            train_steps_per_sec: self.rate.train,
            error: self.error.clone(),
        };
        // Serializing plain numbers and strings cannot fail; NaN becomes null.
        let text = serde_json::to_string(&snap)
            .unwrap_or_else(|e| format!(r#"{{"seq":{},"error":"snapshot: {e}"}}"#, self.seq));
        // Latest wins: replaces what the page has not read yet; never blocks.
        self.out.send_replace(Arc::from(text));
    }
}

/// The registry's entry of a session.
struct Entry {
    tx: SyncSender<Command>,
    snapshots: watch::Receiver<Arc<str>>,
    attached: bool,
    created: Instant,
    cancel: Arc<AtomicBool>,
}

impl Drop for Entry {
    fn drop(&mut self) {
        // Ends a running epoch at its next batch; the thread then sees its
        // channel closed and exits.
        self.cancel.store(true, Ordering::Relaxed);
    }
}

/// Every live session.
pub struct Sessions {
    map: Mutex<HashMap<String, Entry>>,
    max: usize,
    workers: Arc<AtomicUsize>,
    ids: RandomState,
    counter: AtomicUsize,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("sessions", &self.count())
            .field("max", &self.max)
            .field("workers", &self.workers())
            .finish()
    }
}

/// Counts a worker thread while it lives.
struct Alive(Arc<AtomicUsize>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Removes its session when dropped: held by the session's event stream.
#[derive(Debug)]
pub struct Detach {
    sessions: Arc<Sessions>,
    id: String,
}

impl Drop for Detach {
    fn drop(&mut self) {
        self.sessions.remove(&self.id);
    }
}

impl Sessions {
    /// A registry of at most `max` sessions.
    pub fn new(max: usize) -> Self {
        Sessions {
            map: Mutex::new(HashMap::new()),
            max,
            workers: Arc::new(AtomicUsize::new(0)),
            ids: RandomState::new(),
            counter: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves the map consistent (every
        // operation is a single insert or remove): keep serving.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Live sessions.
    pub fn count(&self) -> usize {
        self.lock().len()
    }

    /// Live worker threads (a thread outlives its session by at most one batch).
    pub fn workers(&self) -> usize {
        self.workers.load(Ordering::SeqCst)
    }

    /// The most sessions allowed at once.
    pub fn max(&self) -> usize {
        self.max
    }

    fn new_id(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut a = self.ids.build_hasher();
        a.write_usize(n);
        let mut b = self.ids.build_hasher();
        b.write_u64(a.finish());
        format!("{:016x}{:016x}", a.finish(), b.finish())
    }

    /// Opens a session and starts its worker thread; returns its id.
    pub fn create(&self) -> Result<String> {
        let mut map = self.lock();
        if map.len() >= self.max {
            return Err(Error::TooManySessions { max: self.max });
        }
        let id = self.new_id();
        let (tx, rx) = mpsc::sync_channel(COMMAND_QUEUE);
        let (out, snapshots) = watch::channel(Arc::<str>::from(
            r#"{"seq":0,"generation":0,"phase":"empty","runs":[],"steps_per_sec":0,"train_steps_per_sec":0,"error":null}"#,
        ));
        let cancel = Arc::new(AtomicBool::new(false));
        let worker_cancel = cancel.clone();
        self.workers.fetch_add(1, Ordering::SeqCst);
        let alive = Alive(self.workers.clone());
        std::thread::Builder::new()
            .name(format!("playground-{}", &id[..8]))
            .spawn(move || {
                let _alive = alive;
                // Built here: the runs' trainers stay on this thread.
                Worker {
                    rx,
                    out,
                    cancel: worker_cancel,
                    grid: Arc::new(grid_points(LIMITS.grid)),
                    exp: None,
                    running: false,
                    seq: 0,
                    generation: 0,
                    error: None,
                    rate: Rate::default(),
                    due: Instant::now(),
                }
                .run();
            })
            .map_err(|e| Error::BadRequest(format!("cannot start a worker thread: {e}")))?;
        map.insert(
            id.clone(),
            Entry {
                tx,
                snapshots,
                attached: false,
                created: Instant::now(),
                cancel,
            },
        );
        Ok(id)
    }

    /// The session's snapshot slot, for its one event stream, and the guard
    /// that ends the session when the stream is dropped.
    pub fn attach(self: &Arc<Self>, id: &str) -> Result<(watch::Receiver<Arc<str>>, Detach)> {
        let mut map = self.lock();
        let e = map
            .get_mut(id)
            .ok_or_else(|| Error::NoSession(id.to_owned()))?;
        if e.attached {
            return Err(Error::AlreadyAttached(id.to_owned()));
        }
        e.attached = true;
        let rx = e.snapshots.clone();
        Ok((
            rx,
            Detach {
                sessions: self.clone(),
                id: id.to_owned(),
            },
        ))
    }

    /// Ends a session; false when there was none.
    pub fn remove(&self, id: &str) -> bool {
        let entry = self.lock().remove(id);
        entry.is_some()
    }

    /// Ends the sessions whose stream never attached within `timeout`.
    pub fn reap(&self, timeout: Duration) -> usize {
        let mut map = self.lock();
        let before = map.len();
        map.retain(|_, e| e.attached || e.created.elapsed() < timeout);
        before - map.len()
    }

    fn send(&self, id: &str, cmd: Command) -> Result<()> {
        let map = self.lock();
        let e = map.get(id).ok_or_else(|| Error::NoSession(id.to_owned()))?;
        e.tx.try_send(cmd).map_err(|e| match e {
            TrySendError::Full(_) => Error::Busy,
            TrySendError::Disconnected(_) => Error::WorkerGone,
        })
    }

    /// Configures the session's runs (the runs restart, paused).
    pub async fn configure(&self, id: &str, config: SessionConfig) -> Result<Configured> {
        config.validate()?;
        let (tx, rx) = oneshot::channel();
        self.send(id, Command::Configure(Box::new(config), tx))?;
        rx.await.map_err(|_| Error::WorkerGone)?
    }

    /// Starts, pauses, steps or resets the session's runs.
    pub async fn control(&self, id: &str, action: Action) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.send(id, Command::Control(action, tx))?;
        rx.await.map_err(|_| Error::WorkerGone)?
    }
}
