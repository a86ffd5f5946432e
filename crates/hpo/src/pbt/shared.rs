//! Population-based training whose population lives in the study's RDB
//! storage, so that any number of worker processes — on one machine sharing
//! an SQLite file, or on many sharing a PostgreSQL server — train the
//! members of one population: asynchronous PBT, as Ray Tune's
//! `PopulationBasedTraining` runs with `synch=False`.
//!
//! # What is stored where
//!
//! Everything is in Optuna's RDB schema (the one [`RdbStorage`](crate::RdbStorage)
//! reads and writes), so `optuna.load_study` opens the study and shows the population:
//!
//! - The population's configuration is the study system attribute
//!   `pbt:population` (size, intervals, quantile, seed, mutations); a
//!   worker opening the study with another configuration is refused.
//! - Each member is **one trial** (created by the first worker that opens
//!   the study, all in one transaction; Optuna numbers them). It is
//!   `RUNNING` while the member trains and `COMPLETE` when it has reached
//!   `total_steps`, with its final score as the trial's value. Its initial
//!   hyperparameters are the trial's parameters (with their distributions,
//!   a [`Mutation::Choices`] as a categorical one).
//! - Its score at each ready point is the trial's intermediate value at
//!   that step (the latest one, should a copy bring the member back to a
//!   step it had passed).
//! - The rest is in trial system attributes, all prefixed `pbt:`: `member`
//!   (its index), `step` (the step of its latest checkpoint), `checkpoint`
//!   (that checkpoint's file name, relative to the shared checkpoint
//!   directory), `hyperparams` (its current hyperparameters), `initial`,
//!   `scores` (every `[step, score]` in order), `segments` (every
//!   `{from, to, worker}` trained), `lineage` (every exploit, with the
//!   population's scores it was decided on: see [`SharedExploit`]),
//!   `takeovers`, and the claim: `owner` (a worker id) and `heartbeat`
//!   (the database's clock).
//!
//! Checkpoints are files (the member's [`Member::save`] bytes, written
//! atomically: temporary file, fsync, rename, fsync of the directory) in a
//! directory every worker reaches (a shared file system across machines).
//! A file is never rewritten: each save makes a new name, and a member's
//! superseded file is deleted after the transaction that replaced it
//! committed. A member that copies another gets a copy of the donor's
//! file under its own name, made while the copier holds the study's write
//! lock — so the donor, which needs that lock to replace (then delete) its
//! file, cannot remove it mid-copy.
//!
//! # Claims and heartbeats
//!
//! A worker claims one member at a time in a write transaction (SQLite's
//! `BEGIN IMMEDIATE`, PostgreSQL's study row `FOR UPDATE`: every worker's
//! transactions on the study are serialized): among the running members
//! with no owner, or whose owner's heartbeat is older than the grace
//! period, the one with the fewest steps (then the lowest index), so the
//! population advances together. It sets `owner` and `heartbeat`, loads
//! the member's checkpoint, trains it one ready interval while a
//! heartbeat thread (a connection of its own) refreshes `heartbeat`, saves
//! a checkpoint file and commits the segment — score, checkpoint, exploit
//! decision — releasing the member, in one transaction that first checks
//! the worker still owns the member (a fence: a worker that stalled past
//! the grace and lost the member to another discards its segment, which
//! is then trained once, by the new owner). A worker that dies leaves its
//! member claimed until the heartbeat is older than the grace; then the
//! next claim takes it over (recorded in `pbt:takeovers`) from its last
//! committed checkpoint.
//!
//! # Exploit and explore
//!
//! When a member reaches a ready point (and it is not its last), the
//! committing transaction ranks the population by each member's latest
//! score, as stored at that moment (members that have not scored yet are
//! left out; Ray's `_quantiles`, the same truncation selection as
//! [`Pbt`]). If the member is in the bottom quantile, it copies the latest
//! checkpoint of a member drawn uniformly from the top quantile — and
//! continues from that checkpoint's step, as Ray's asynchronous PBT does
//! (a donor that has reached `total_steps` gives a copier that is
//! complete too) — and explores from the donor's hyperparameters.
//!
//! The draws of a decision come from the run's seed and the decision's
//! key `(member, step, number of exploits so far)`: given the scores it
//! saw, a decision is a pure function of the seed, and the scores seen are
//! recorded with it. Which scores a member sees depends on how fast the
//! other workers went, so two runs with one seed are not the same run
//! across processes (the synchronous [`Pbt`] in one process is); the
//! record makes each run explainable, and [`SharedResult::schedule`]
//! replays any member's hyperparameter schedule.

use super::{Member, Pbt, explore, member_error, quantiles};
use crate::storage::{MemberRow, PopDb, PopTx};
use crate::{Direction, Distribution, Error, Mutation, ParamValues, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// Arguments of [`SharedPopulation::open`] beyond the [`Pbt`] run's.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedConfig {
    /// The number of members in the population (at least 2).
    pub population: usize,
    /// Where checkpoint files are written: a directory every worker reaches
    /// under this path (created if missing).
    pub checkpoint_dir: PathBuf,
    /// How often a worker refreshes the heartbeat of the member it trains.
    pub heartbeat_interval: Duration,
    /// How old a heartbeat may get before another worker takes the member
    /// over (longer than a heartbeat interval plus the longest wait for the
    /// database's write lock).
    pub grace_period: Duration,
    /// How long a worker waits before asking again when every member that
    /// is left is being trained by another worker.
    pub poll_interval: Duration,
}

impl SharedConfig {
    /// A population of `population` members with checkpoints in
    /// `checkpoint_dir`, a heartbeat every 5 s, a grace of 60 s and polls
    /// every 200 ms.
    pub fn new(population: usize, checkpoint_dir: impl Into<PathBuf>) -> Self {
        SharedConfig {
            population,
            checkpoint_dir: checkpoint_dir.into(),
            heartbeat_interval: Duration::from_secs(5),
            grace_period: Duration::from_secs(60),
            poll_interval: Duration::from_millis(200),
        }
    }
}

/// One exploit of a member in a shared population: at `step`, in the bottom
/// quantile of the scores it saw, it copied `donor`'s checkpoint of step
/// `donor_step` and explored from `donor`'s hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedExploit {
    /// The member's step when it reached the ready point.
    pub step: u64,
    /// The member copied.
    pub donor: usize,
    /// The step of the donor's checkpoint copied: the member continues from it.
    pub donor_step: u64,
    /// How many exploits the donor's lineage held then (what
    /// [`SharedResult::schedule`] follows back).
    pub donor_exploits: usize,
    /// The donor's latest score then.
    #[serde(with = "nan_null")]
    pub donor_score: f64,
    /// The member's score at `step`, which put it in the bottom quantile.
    #[serde(with = "nan_null")]
    pub score: f64,
    /// The member's hyperparameters before the copy.
    pub before: ParamValues,
    /// The donor's hyperparameters, which explore started from.
    pub donor_hyperparams: ParamValues,
    /// The member's hyperparameters after explore.
    pub after: ParamValues,
    /// The population the decision was made on: every scored member's
    /// latest score, in member order.
    pub seen: Vec<Seen>,
    /// The file the donor's checkpoint was copied to.
    pub checkpoint: String,
    /// The worker that decided.
    pub worker: String,
}

/// A member's latest score, as an exploit decision saw it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Seen {
    /// The member.
    pub member: usize,
    /// The step of its latest checkpoint.
    pub step: u64,
    /// Its latest score.
    #[serde(with = "nan_null")]
    pub score: f64,
}

/// One ready interval of training, committed by `worker`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// The step the member started from.
    pub from: u64,
    /// The step it reached.
    pub to: u64,
    /// The worker that trained it.
    pub worker: String,
}

/// A member of a shared population, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedMemberRecord {
    /// Its index in the population.
    pub member: usize,
    /// Its trial's number in the study.
    pub trial_number: u64,
    /// Whether it has reached `total_steps` (its trial is `COMPLETE`).
    pub complete: bool,
    /// The step of its latest checkpoint.
    pub step: u64,
    /// Its latest checkpoint, a file name in the checkpoint directory.
    pub checkpoint: Option<String>,
    /// The hyperparameters it started with.
    pub initial: ParamValues,
    /// Its current hyperparameters.
    pub hyperparams: ParamValues,
    /// Its score at each ready point, `(step, score)`, in order.
    pub scores: Vec<(u64, f64)>,
    /// Every segment trained, in order.
    pub segments: Vec<Segment>,
    /// Every exploit, in order.
    pub lineage: Vec<SharedExploit>,
    /// The workers whose claim on it lapsed and was taken over: `(worker, step)`.
    pub takeovers: Vec<(String, u64)>,
}

impl SharedMemberRecord {
    /// The latest score.
    pub fn score(&self) -> Option<f64> {
        self.scores.last().map(|&(_, s)| s)
    }
}

/// A shared population as stored: [`SharedPopulation::result`].
#[derive(Debug, Clone, PartialEq)]
pub struct SharedResult {
    /// The direction scores are ranked in.
    pub direction: Direction,
    /// Per member, by index.
    pub members: Vec<SharedMemberRecord>,
}

impl SharedResult {
    /// Whether every member has reached `total_steps`.
    pub fn is_complete(&self) -> bool {
        self.members.iter().all(|m| m.complete)
    }

    /// The member with the best latest score (the lowest index among
    /// equals; a NaN is never best), if any member has scored.
    pub fn best(&self) -> Option<&SharedMemberRecord> {
        let mut best: Option<&SharedMemberRecord> = None;
        for m in &self.members {
            let Some(s) = m.score().filter(|s| !s.is_nan()) else {
                continue;
            };
            if best
                .and_then(SharedMemberRecord::score)
                .is_none_or(|b| self.direction.better(s, b))
            {
                best = Some(m);
            }
        }
        best
    }

    /// The hyperparameter schedule that produced `member`'s latest
    /// checkpoint: `(from_step, hyperparameters)` pairs, following each
    /// exploit back to the donor's state at the copy (Ray's
    /// `PopulationBasedTrainingReplay`). Training one model with it
    /// replays the member's run (given deterministic training).
    pub fn schedule(&self, member: usize) -> Vec<(u64, ParamValues)> {
        let exploits = self.members.get(member).map_or(0, |m| m.lineage.len());
        self.schedule_upto(member, exploits, 0)
    }

    fn schedule_upto(
        &self,
        member: usize,
        exploits: usize,
        depth: usize,
    ) -> Vec<(u64, ParamValues)> {
        let Some(record) = self.members.get(member) else {
            return Vec::new();
        };
        // A lineage is finite and each step back is to an earlier exploit,
        // but a corrupted record could loop: stop at a depth no run reaches.
        let last = exploits.min(record.lineage.len());
        match last.checked_sub(1).map(|k| &record.lineage[k]) {
            Some(e) if depth <= 1_000_000 => {
                let mut out = self.schedule_upto(e.donor, e.donor_exploits, depth + 1);
                out.push((e.donor_step, e.after.clone()));
                out
            }
            _ => vec![(0, record.initial.clone())],
        }
    }
}

/// What one [`SharedPopulation::run`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// Segments trained and committed.
    pub segments: u64,
    /// Exploits decided.
    pub exploits: u64,
    /// Members this worker brought to `total_steps`.
    pub completed: Vec<usize>,
    /// Members taken over from a worker whose heartbeat had lapsed.
    pub takeovers: u64,
    /// Segments discarded because another worker had taken the member over.
    pub lost: u64,
}

/// A population-based training run whose population is in a study's RDB
/// storage; each process (or thread) opens it and calls [`run`](Self::run)
/// to be one worker. See the [module documentation](crate::pbt::shared) for the design.
///
/// # Examples
///
/// Two workers (threads here; processes or hosts alike) train a population
/// of one-parameter models, `w ← w − lr·2w`, on one SQLite file:
///
/// ```
/// use descent_hpo::pbt::{SharedConfig, SharedPopulation};
/// use descent_hpo::{Config, Distribution, Member, Mutation, Pbt, PbtConfig};
///
/// struct Quadratic { w: f64, lr: f64 }
///
/// impl Member for Quadratic {
///     type Checkpoint = Vec<u8>;
///     type Error = descent_hpo::Error;
///     fn set_hyperparams(&mut self, h: &Config) -> descent_hpo::Result<()> {
///         self.lr = h.f64("lr")?;
///         Ok(())
///     }
///     fn train(&mut self, steps: u64) -> descent_hpo::Result<f64> {
///         for _ in 0..steps {
///             self.w -= self.lr * 2.0 * self.w;
///         }
///         Ok(self.w * self.w)
///     }
///     fn save(&mut self) -> descent_hpo::Result<Vec<u8>> { Ok(self.w.to_le_bytes().to_vec()) }
///     fn load(&mut self, bytes: &Vec<u8>) -> descent_hpo::Result<()> {
///         self.w = f64::from_le_bytes(bytes[..8].try_into().unwrap());
///         Ok(())
///     }
/// }
///
/// let dir = std::env::temp_dir().join(format!("descent-pbt-shared-doc-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// std::fs::create_dir_all(&dir).unwrap();
/// let url = format!("sqlite:///{}", dir.join("study.db").display());
/// let pbt = || {
///     Pbt::new(PbtConfig { ready_interval: 5, total_steps: 30, ..Default::default() })?
///         .with_mutation("lr", Mutation::Distribution(Distribution::Float { low: 1e-3, high: 0.4, log: true, step: None }))
/// };
/// let config = SharedConfig::new(6, dir.join("checkpoints"));
/// std::thread::scope(|s| {
///     for _ in 0..2 {
///         s.spawn(|| {
///             let mut worker = SharedPopulation::open(&url, "pbt", pbt()?, config.clone())?;
///             worker.run(|_| Ok(Quadratic { w: 1.0, lr: 0.0 }))
///         });
///     }
/// });
/// let result = SharedPopulation::open(&url, "pbt", pbt()?, config)?.result()?;
/// assert!(result.is_complete());
/// assert!(result.members.iter().all(|m| m.step == 30));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), descent_hpo::Error>(())
/// ```
pub struct SharedPopulation {
    pbt: Pbt,
    config: SharedConfig,
    db: PopDb,
    beat_db: PopDb,
    worker: String,
    files: AtomicU64,
}

impl std::fmt::Debug for SharedPopulation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedPopulation")
            .field("pbt", &self.pbt)
            .field("config", &self.config)
            .field("worker", &self.worker)
            .finish()
    }
}

/// A member's stored state, decoded.
#[derive(Debug, Clone)]
struct Stored {
    trial_id: i64,
    record: SharedMemberRecord,
    owner: Option<String>,
    heartbeat: Option<chrono::NaiveDateTime>,
}

enum Claim {
    Done,
    Wait,
    Got(Box<Stored>),
}

impl SharedPopulation {
    /// Opens study `study` at `url` (`sqlite:///…` or `postgresql://…`, as
    /// [`RdbStorage::open`](crate::RdbStorage::open)) as one worker of the
    /// population run `pbt` (its `n_threads` is not used: a worker trains
    /// one member at a time; run more workers for more). The first worker
    /// to open the study creates the population; the others must give the
    /// same configuration and mutations, or get [`Error::Arg`].
    pub fn open(url: &str, study: &str, pbt: Pbt, config: SharedConfig) -> Result<Self> {
        pbt.check(config.population)?;
        if config.heartbeat_interval.is_zero() {
            return Err(Error::config("heartbeat_interval", "0s", "must be > 0"));
        }
        if config.grace_period <= config.heartbeat_interval {
            return Err(Error::config(
                "grace_period",
                format!("{:?}", config.grace_period),
                "must be longer than the heartbeat interval",
            ));
        }
        std::fs::create_dir_all(&config.checkpoint_dir).map_err(|source| Error::Io {
            path: config.checkpoint_dir.clone(),
            source,
        })?;
        let direction = pbt.config.direction;
        let mut db = PopDb::open(url, study, direction)?;
        let beat_db = PopDb::open(url, study, direction)?;
        let described = describe(&pbt, config.population);
        db.transaction("create population", true, |tx| {
            match tx.study_attr("pbt:population")? {
                Some(stored) if stored == described => Ok(()),
                Some(stored) => Err(Error::config(
                    "population",
                    stored,
                    "the study holds a population run with another configuration",
                )),
                None => {
                    tx.set_study_attr("pbt:population", &described)?;
                    for i in 0..config.population {
                        create_member(tx, &pbt, i)?;
                    }
                    Ok(())
                }
            }
        })?;
        Ok(SharedPopulation {
            pbt,
            config,
            db,
            beat_db,
            worker: worker_id(),
            files: AtomicU64::new(0),
        })
    }

    /// This worker's id (host, process, start time), as `owner` and in the records.
    pub fn worker_id(&self) -> &str {
        &self.worker
    }

    /// The population as stored now.
    pub fn result(&mut self) -> Result<SharedResult> {
        let members = self
            .db
            .transaction("read population", false, read_members)?;
        Ok(SharedResult {
            direction: self.pbt.config.direction,
            members: members.into_iter().map(|s| s.record).collect(),
        })
    }

    /// Works until every member has reached `total_steps`: claims a member,
    /// builds it with `make(index)` the first time this worker trains it
    /// (then keeps it, loading the stored checkpoint when another worker
    /// moved it on), trains one ready interval, commits, and again; waits
    /// when the members left are all being trained by other workers.
    ///
    /// A member's error stops this worker with [`Error::Member`], its claim
    /// released (another worker will try the member); a database or file
    /// error stops it with that error, its claim left to lapse.
    pub fn run<M, F>(&mut self, make: F) -> Result<WorkerReport>
    where
        M: Member<Checkpoint = Vec<u8>>,
        F: FnMut(usize) -> std::result::Result<M, M::Error>,
    {
        self.run_segments(make, u64::MAX)
    }

    /// [`run`](Self::run), returning after at most `max_segments` segments
    /// (a worker with a time slot, say).
    pub fn run_segments<M, F>(&mut self, mut make: F, max_segments: u64) -> Result<WorkerReport>
    where
        M: Member<Checkpoint = Vec<u8>>,
        F: FnMut(usize) -> std::result::Result<M, M::Error>,
    {
        let mut report = WorkerReport::default();
        let mut members: HashMap<usize, M> = HashMap::new();
        // Per member, the checkpoint its in-memory state is at (no reload needed).
        let mut in_memory: HashMap<usize, String> = HashMap::new();
        let mut attempts = 0u64;
        while attempts < max_segments {
            let stored = match self.claim()? {
                Claim::Done => break,
                Claim::Wait => {
                    std::thread::sleep(self.config.poll_interval);
                    continue;
                }
                Claim::Got(s) => s,
            };
            attempts += 1;
            if stored.owner.is_some() {
                report.takeovers += 1;
            }
            let i = stored.record.member;
            let outcome = self.segment(&stored, &mut members, &mut in_memory, &mut make)?;
            match outcome {
                Outcome::Lost => {
                    report.lost += 1;
                    in_memory.remove(&i);
                }
                Outcome::Committed {
                    exploited,
                    complete,
                } => {
                    report.segments += 1;
                    report.exploits += u64::from(exploited);
                    if complete {
                        report.completed.push(i);
                        members.remove(&i);
                    }
                }
            }
        }
        Ok(report)
    }

    /// Claims the running member with the fewest steps that nobody owns or
    /// whose owner's heartbeat has lapsed.
    fn claim(&mut self) -> Result<Claim> {
        let grace = chrono::Duration::from_std(self.config.grace_period)
            .map_err(|e| Error::config("grace_period", e, "out of range"))?;
        let worker = self.worker.clone();
        self.db.transaction("claim member", true, |tx| {
            let now = tx.now()?;
            let members = read_members(tx)?;
            if members.iter().all(|m| m.record.complete) {
                return Ok(Claim::Done);
            }
            let free = members
                .into_iter()
                .filter(|m| {
                    !m.record.complete
                        && match (&m.owner, m.heartbeat) {
                            (None, _) => true,
                            (Some(_), None) => true,
                            (Some(_), Some(beat)) => now - beat > grace,
                        }
                })
                .min_by_key(|m| (m.record.step, m.record.member));
            let Some(mut m) = free else {
                return Ok(Claim::Wait);
            };
            if let Some(old) = &m.owner {
                m.record.takeovers.push((old.clone(), m.record.step));
                let takeovers: Vec<Value> = m
                    .record
                    .takeovers
                    .iter()
                    .map(|(w, s)| json!({"worker": w, "step": s, "by": worker}))
                    .collect();
                tx.set_attr(m.trial_id, "takeovers", &Value::Array(takeovers))?;
            }
            tx.set_attr(m.trial_id, "owner", &json!(worker))?;
            tx.set_attr(m.trial_id, "heartbeat", &json!(timestamp(now)))?;
            Ok(Claim::Got(Box::new(m)))
        })
    }

    /// Trains the claimed member one ready interval and commits it.
    fn segment<M, F>(
        &mut self,
        stored: &Stored,
        members: &mut HashMap<usize, M>,
        in_memory: &mut HashMap<usize, String>,
        make: &mut F,
    ) -> Result<Outcome>
    where
        M: Member<Checkpoint = Vec<u8>>,
        F: FnMut(usize) -> std::result::Result<M, M::Error>,
    {
        let i = stored.record.member;
        let step = stored.record.step;
        let total = self.pbt.config.total_steps;
        let steps = self
            .pbt
            .config
            .ready_interval
            .min(total.saturating_sub(step));
        let (stop, stopped) = mpsc::channel::<()>();
        let interval = self.config.heartbeat_interval;
        let (trial_id, worker) = (stored.trial_id, self.worker.clone());
        let beat_db = &mut self.beat_db;
        let dir = self.config.checkpoint_dir.clone();
        let files = &self.files;
        let trained = std::thread::scope(|s| {
            s.spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                    // A failed beat is retried at the next; the commit's fence decides.
                    let _ = beat(beat_db, trial_id, &worker);
                }
            });
            let result = (|| -> Result<(f64, String)> {
                let member = match members.entry(i) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(make(i).map_err(|e| member_error(i, step, "build", e))?)
                    }
                };
                if let Some(name) = &stored.record.checkpoint
                    && in_memory.get(&i) != Some(name)
                {
                    let path = dir.join(name);
                    let bytes =
                        std::fs::read(&path).map_err(|source| Error::Io { path, source })?;
                    member
                        .load(&bytes)
                        .map_err(|e| member_error(i, step, "load", e))?;
                }
                member
                    .set_hyperparams(&stored.record.hyperparams)
                    .map_err(|e| member_error(i, step, "set_hyperparams", e))?;
                let score = member
                    .train(steps)
                    .map_err(|e| member_error(i, step, "train", e))?;
                let bytes = member
                    .save()
                    .map_err(|e| member_error(i, step, "save", e))?;
                let name = file_name(files, &self.worker, i, step + steps, None);
                write_file(&dir.join(&name), &bytes)?;
                Ok((score, name))
            })();
            drop(stop);
            result
        });
        let (score, name) = match trained {
            Ok(t) => t,
            Err(e) => {
                members.remove(&i);
                in_memory.remove(&i);
                if matches!(e, Error::Member { .. }) {
                    let _ = self.release(stored.trial_id);
                }
                return Err(e);
            }
        };
        let mut created = vec![name.clone()];
        let committed = self.commit(stored, steps, score, &name, &mut created);
        let dir = &self.config.checkpoint_dir;
        match committed {
            Ok(Some(commit)) => {
                // Superseded files: the member's previous checkpoint, and
                // the one just saved if the member then copied another's.
                let mut stale: Vec<&String> = stored.record.checkpoint.iter().collect();
                if commit.checkpoint != name {
                    stale.push(&name);
                    in_memory.remove(&i);
                } else {
                    in_memory.insert(i, name.clone());
                }
                for f in created.iter().filter(|f| **f != commit.checkpoint) {
                    if !stale.contains(&f) {
                        stale.push(f);
                    }
                }
                for f in stale {
                    let _ = std::fs::remove_file(dir.join(f));
                }
                Ok(Outcome::Committed {
                    exploited: commit.exploited,
                    complete: commit.complete,
                })
            }
            Ok(None) => {
                for f in &created {
                    let _ = std::fs::remove_file(dir.join(f));
                }
                Ok(Outcome::Lost)
            }
            Err(e) => {
                for f in &created {
                    let _ = std::fs::remove_file(dir.join(f));
                }
                Err(e)
            }
        }
    }

    /// Commits a trained segment (and the exploit decision), releasing the
    /// member; `None` if the member was taken over meanwhile.
    fn commit(
        &mut self,
        stored: &Stored,
        steps: u64,
        score: f64,
        name: &str,
        created: &mut Vec<String>,
    ) -> Result<Option<Committed>> {
        let pbt = &self.pbt;
        let worker = self.worker.clone();
        let dir = self.config.checkpoint_dir.clone();
        let files = &self.files;
        let i = stored.record.member;
        let total = pbt.config.total_steps;
        self.db.transaction("commit segment", true, |tx| {
            let mut all = read_members(tx)?;
            let Some(pos) = all.iter().position(|m| m.record.member == i) else {
                return Err(Error::Decode {
                    what: "pbt member",
                    reason: format!("member {i} vanished from the study"),
                });
            };
            let me = &all[pos];
            if me.record.complete || me.owner.as_deref() != Some(worker.as_str()) {
                return Ok(None);
            }
            let trial_id = me.trial_id;
            let from = me.record.step;
            let to = from + steps;
            let mut record = me.record.clone();
            record.scores.push((to, score));
            record.segments.push(Segment {
                from,
                to,
                worker: worker.clone(),
            });
            record.step = to;
            record.checkpoint = Some(name.to_owned());
            tx.set_intermediate(trial_id, to, score)?;
            tx.set_attr(trial_id, "scores", &scores_json(&record.scores))?;
            tx.set_attr(trial_id, "segments", &to_json(&record.segments)?)?;
            let mut exploited = false;
            let complete = to >= total;
            if complete {
                tx.complete(trial_id, score)?;
            } else {
                all[pos].record = record.clone();
                if let Some(e) = decide(pbt, &all, pos, &worker, &dir, files, created)? {
                    record.step = e.donor_step;
                    record.checkpoint = Some(e.checkpoint.clone());
                    record.hyperparams = e.after.clone();
                    record.lineage.push(e);
                    tx.set_attr(trial_id, "hyperparams", &to_json(&record.hyperparams)?)?;
                    tx.set_attr(trial_id, "lineage", &to_json(&record.lineage)?)?;
                    exploited = true;
                    if record.step >= total {
                        // Ray's asynchronous PBT: a copy of a finished donor
                        // is finished, with the donor's final score.
                        let last = donor_final_score(&record);
                        record.scores.push((record.step, last));
                        tx.set_intermediate(trial_id, record.step, last)?;
                        tx.set_attr(trial_id, "scores", &scores_json(&record.scores))?;
                        tx.complete(trial_id, last)?;
                    }
                }
            }
            tx.set_attr(trial_id, "step", &json!(record.step))?;
            tx.set_attr(trial_id, "checkpoint", &json!(record.checkpoint))?;
            tx.set_attr(trial_id, "owner", &Value::Null)?;
            tx.set_attr(trial_id, "heartbeat", &Value::Null)?;
            Ok(Some(Committed {
                checkpoint: record.checkpoint.unwrap_or_default(),
                exploited,
                complete: complete || record.step >= total,
            }))
        })
    }

    /// Gives a claimed member back (after a member error).
    fn release(&mut self, trial_id: i64) -> Result<()> {
        let worker = self.worker.clone();
        self.db.transaction("release member", true, |tx| {
            let owner = read_members(tx)?
                .into_iter()
                .find(|m| m.trial_id == trial_id)
                .and_then(|m| m.owner);
            if owner.as_deref() == Some(worker.as_str()) {
                tx.set_attr(trial_id, "owner", &Value::Null)?;
                tx.set_attr(trial_id, "heartbeat", &Value::Null)?;
            }
            Ok(())
        })
    }
}

/// The final value of a member that copied a finished donor: the donor's score.
fn donor_final_score(record: &SharedMemberRecord) -> f64 {
    record.lineage.last().map_or(f64::NAN, |e| e.donor_score)
}

enum Outcome {
    Committed { exploited: bool, complete: bool },
    Lost,
}

struct Committed {
    checkpoint: String,
    exploited: bool,
    complete: bool,
}

/// The exploit decision of member `all[pos]` at its ready point: Ray's
/// truncation selection over every member's latest score.
fn decide(
    pbt: &Pbt,
    all: &[Stored],
    pos: usize,
    worker: &str,
    dir: &Path,
    files: &AtomicU64,
    created: &mut Vec<String>,
) -> Result<Option<SharedExploit>> {
    let scored: Vec<&Stored> = all
        .iter()
        .filter(|m| !m.record.scores.is_empty() && m.record.checkpoint.is_some())
        .collect();
    let me = &all[pos];
    let Some(my_rank) = scored
        .iter()
        .position(|m| m.record.member == me.record.member)
    else {
        return Ok(None);
    };
    if scored.len() < 2 {
        return Ok(None);
    }
    let latest: Vec<f64> = scored
        .iter()
        .map(|m| m.record.score().unwrap_or(f64::NAN))
        .collect();
    let (lower, upper) = quantiles(&latest, pbt.config.direction, pbt.config.quantile_fraction);
    if !lower.contains(&my_rank) || upper.is_empty() {
        return Ok(None);
    }
    let i = me.record.member;
    let mut rng = decision_rng(pbt.config.seed, i, me.record.step, me.record.lineage.len());
    let donor = scored[upper[explore::index(&mut rng, upper.len())]];
    let Some(donor_file) = &donor.record.checkpoint else {
        return Ok(None);
    };
    let mut after = explore::explore(
        &donor.record.hyperparams,
        &pbt.mutations,
        pbt.config.resample_probability,
        &pbt.config.perturbation_factors,
        &mut rng,
    );
    if let Some(custom) = &pbt.custom {
        custom(&mut after, &mut rng);
    }
    // Copied under the study's write lock: the donor cannot replace (and
    // delete) its file until this transaction ends.
    let src = dir.join(donor_file);
    let bytes = std::fs::read(&src).map_err(|source| Error::Io { path: src, source })?;
    let name = file_name(
        files,
        worker,
        i,
        donor.record.step,
        Some(donor.record.member),
    );
    write_file(&dir.join(&name), &bytes)?;
    created.push(name.clone());
    let seen = scored
        .iter()
        .zip(&latest)
        .map(|(m, &score)| Seen {
            member: m.record.member,
            step: m.record.step,
            score,
        })
        .collect();
    Ok(Some(SharedExploit {
        step: me.record.step,
        donor: donor.record.member,
        donor_step: donor.record.step,
        donor_exploits: donor.record.lineage.len(),
        donor_score: donor.record.score().unwrap_or(f64::NAN),
        score: me.record.score().unwrap_or(f64::NAN),
        before: me.record.hyperparams.clone(),
        donor_hyperparams: donor.record.hyperparams.clone(),
        after,
        seen,
        checkpoint: name,
        worker: worker.to_owned(),
    }))
}

/// The draws of one decision: the run's seed, on a stream keyed by
/// `(member, step, exploits so far)` (initial draws use streams `0..n`).
fn decision_rng(seed: u64, member: usize, step: u64, exploits: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let key = mix(mix(member as u64) ^ mix(step ^ mix(exploits as u64)));
    rng.set_stream(key | (1 << 63));
    rng
}

/// splitmix64's finalizer.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Refreshes the heartbeat of `trial_id` if `worker` still owns it.
fn beat(db: &mut PopDb, trial_id: i64, worker: &str) -> Result<()> {
    db.transaction("heartbeat", true, |tx| {
        let now = tx.now()?;
        let owner = read_members(tx)?
            .into_iter()
            .find(|m| m.trial_id == trial_id)
            .and_then(|m| m.owner);
        if owner.as_deref() == Some(worker) {
            tx.set_attr(trial_id, "heartbeat", &json!(timestamp(now)))?;
        }
        Ok(())
    })
}

/// The population's configuration as stored in `pbt:population`.
fn describe(pbt: &Pbt, population: usize) -> Value {
    let c = &pbt.config;
    json!({
        "population": population,
        "ready_interval": c.ready_interval,
        "total_steps": c.total_steps,
        "quantile_fraction": c.quantile_fraction,
        "resample_probability": c.resample_probability,
        "perturbation_factors": c.perturbation_factors,
        "seed": c.seed,
        "direction": format!("{:?}", c.direction),
        "mutations": pbt.mutations.iter().map(|(n, m)| (n.clone(), format!("{m:?}"))).collect::<BTreeMap<_, _>>(),
        "custom_explore": pbt.custom.is_some(),
    })
}

/// Inserts member `i`'s trial, with its initial hyperparameters.
fn create_member(tx: &mut PopTx<'_, '_>, pbt: &Pbt, i: usize) -> Result<()> {
    let initial = pbt.initial_hyperparams(i);
    let distributions: BTreeMap<String, Distribution> = pbt
        .mutations
        .iter()
        .map(|(name, m)| {
            let d = match m {
                Mutation::Distribution(d) => d.clone(),
                Mutation::Choices(c) => Distribution::Categorical { choices: c.clone() },
            };
            (name.clone(), d)
        })
        .collect();
    let mut attrs = BTreeMap::new();
    attrs.insert("member".to_owned(), json!(i));
    attrs.insert("step".to_owned(), json!(0));
    attrs.insert("checkpoint".to_owned(), Value::Null);
    attrs.insert("initial".to_owned(), to_json(&initial)?);
    attrs.insert("hyperparams".to_owned(), to_json(&initial)?);
    attrs.insert("scores".to_owned(), json!([]));
    attrs.insert("segments".to_owned(), json!([]));
    attrs.insert("lineage".to_owned(), json!([]));
    attrs.insert("takeovers".to_owned(), json!([]));
    attrs.insert("owner".to_owned(), Value::Null);
    attrs.insert("heartbeat".to_owned(), Value::Null);
    tx.create_member(&initial, &distributions, &attrs)?;
    Ok(())
}

/// Every member, decoded, by index.
fn read_members(tx: &mut PopTx<'_, '_>) -> Result<Vec<Stored>> {
    tx.members()?.into_iter().map(decode_member).collect()
}

fn decode_member(row: MemberRow) -> Result<Stored> {
    let bad = |what: &str| Error::Decode {
        what: "pbt member",
        reason: format!("trial {}: {what}", row.number),
    };
    let a = &row.attrs;
    let get = |k: &str| a.get(k).cloned().unwrap_or(Value::Null);
    let member = get("member").as_u64().ok_or_else(|| bad("member"))? as usize;
    let step = get("step").as_u64().ok_or_else(|| bad("step"))?;
    let config = |k: &'static str| -> Result<ParamValues> {
        serde_json::from_value(get(k)).map_err(|e| bad(&format!("{k}: {e}")))
    };
    let scores = get("scores")
        .as_array()
        .ok_or_else(|| bad("scores"))?
        .iter()
        .map(|p| {
            let step = p
                .get(0)
                .and_then(Value::as_u64)
                .ok_or_else(|| bad("scores"))?;
            let score = p.get(1).and_then(Value::as_f64).unwrap_or(f64::NAN);
            Ok((step, score))
        })
        .collect::<Result<Vec<_>>>()?;
    let list = |k: &'static str| -> Value {
        match get(k) {
            Value::Null => json!([]),
            v => v,
        }
    };
    let segments: Vec<Segment> =
        serde_json::from_value(list("segments")).map_err(|e| bad(&format!("segments: {e}")))?;
    let lineage: Vec<SharedExploit> =
        serde_json::from_value(list("lineage")).map_err(|e| bad(&format!("lineage: {e}")))?;
    let takeovers = list("takeovers")
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|x| {
                    Some((
                        x.get("worker")?.as_str()?.to_owned(),
                        x.get("step")?.as_u64()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let heartbeat = match get("heartbeat").as_str() {
        Some(t) => Some(crate::storage::parse_db_time(t)?),
        None => None,
    };
    Ok(Stored {
        trial_id: row.trial_id,
        owner: get("owner").as_str().map(str::to_owned),
        heartbeat,
        record: SharedMemberRecord {
            member,
            trial_number: row.number,
            complete: row.state == "COMPLETE",
            step,
            checkpoint: get("checkpoint").as_str().map(str::to_owned),
            initial: config("initial")?,
            hyperparams: config("hyperparams")?,
            scores,
            segments,
            lineage,
            takeovers,
        },
    })
}

fn to_json<T: Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::Decode {
        what: "pbt record",
        reason: e.to_string(),
    })
}

fn scores_json(scores: &[(u64, f64)]) -> Value {
    Value::Array(scores.iter().map(|&(s, v)| json!([s, v])).collect())
}

fn timestamp(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// A new checkpoint file name: member, step, where it came from, and a
/// per-worker counter (never reused: files are never overwritten).
fn file_name(
    files: &AtomicU64,
    worker: &str,
    member: usize,
    step: u64,
    from: Option<usize>,
) -> String {
    let n = files.fetch_add(1, Ordering::Relaxed);
    let tag: String = worker
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    match from {
        Some(d) => format!("member{member:04}-step{step:010}-from{d:04}-{tag}-{n}.ckpt"),
        None => format!("member{member:04}-step{step:010}-{tag}-{n}.ckpt"),
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    descent_core::fs::write_atomic(path, bytes).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

/// `host:pid:start` — unique among the workers of a study.
fn worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".to_owned());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{host}:{}:{nanos:x}:{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A NaN (or infinite) score as JSON `null` and back (JSON has no NaN).
mod nan_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        if x.is_finite() {
            s.serialize_f64(*x)
        } else {
            s.serialize_none()
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}
