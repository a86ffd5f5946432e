//! Checkpoints: one file holding everything a run needs to continue, written
//! atomically, with keep-last-N and keep-best policies.
//!
//! A checkpoint is a safetensors file. Its model tensors carry PyTorch's
//! state-dict names (`0.weight`, `1.running_mean`, `1.num_batches_tracked`),
//! so `safetensors.torch.load_file` reads the weights; the tensors a resume
//! needs besides — gradients accumulated mid-step under `@grad/<name>`, the
//! best epoch's weights under `@best/<name>`, the instability guard's
//! snapshot under `@guard/<name>`, the averaged weights under `@avg/<name>`
//! — have names no model uses. The rest
//! (optimizer and schedule state, early-stopping counters, the guard's
//! record, the run's counters and position, the metric history) is JSON in
//! the file's metadata under `descent_train`.
//!
//! Randomness is counter-based ([`crate::seed`]), so the counters are the
//! RNG state: nothing else needs saving for a bit-identical resume.
//!
//! Invariant: a run stopped at any micro-batch and resumed from its checkpoint
//! ends bit-identical (parameters, buffers, optimizer state, history without
//! timing) to the uninterrupted run.
//! Invariant: loading checks everything (format, the fingerprint of the run's
//! settings, model tensors, gradients, optimizer state) into copies before it
//! changes anything, so a checkpoint of another model or one cut short is a
//! typed error that leaves the trainer as it was.

use crate::ArgError;
use crate::trainer::{GuardMark, Monitor, RunState, Trainer};
use crate::{EpochMetrics, Error, Result};
use descent_core::Scalar;
use descent_nn::Module;
use descent_optim::OptimizerState;
use descent_regularize::{EarlyStoppingState, GuardRecord, Snapshot};
use nalgebra::DMatrix;
use safetensors::tensor::{SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const FORMAT: &str = "descent-train checkpoint";
const VERSION: u32 = 1;
const META_KEY: &str = "descent_train";
const GRAD: &str = "@grad/";
const BEST: &str = "@best/";
const GUARD: &str = "@guard/";
const AVG: &str = "@avg/";
const BEST_FILE: &str = "best.safetensors";

/// When and where checkpoints are written.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointConfig {
    /// The directory (created if missing).
    pub dir: PathBuf,
    /// Write after every this many epochs (`None`: not at epoch ends).
    pub every_epochs: Option<u64>,
    /// Write after every this many micro-batches, mid-epoch and
    /// mid-accumulation included (`None`: only at epoch ends).
    pub every_batches: Option<u64>,
    /// Keep only the newest this many periodic checkpoints (0 keeps all).
    pub keep_last: usize,
    /// Also keep `best.safetensors`, rewritten whenever this metric improves.
    pub keep_best: Option<Monitor>,
}

impl CheckpointConfig {
    /// A checkpoint in `dir` after every epoch, keeping the last 3.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_train::{CheckpointConfig, Monitor};
    ///
    /// let config = CheckpointConfig {
    ///     every_batches: Some(100),
    ///     keep_best: Some(Monitor::new("val_accuracy")),
    ///     ..CheckpointConfig::new("runs/mnist")
    /// };
    /// assert_eq!(config.keep_last, 3);
    /// ```
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        CheckpointConfig {
            dir: dir.into(),
            every_epochs: Some(1),
            every_batches: None,
            keep_last: 3,
            keep_best: None,
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.every_epochs == Some(0) {
            return Err(ArgError::new("every_epochs", 0, "must be at least 1 when set").into());
        }
        if self.every_batches == Some(0) {
            return Err(ArgError::new("every_batches", 0, "must be at least 1 when set").into());
        }
        Ok(())
    }
}

/// The settings a resumed run must share with the run that wrote the checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Fingerprint {
    scalar: String,
    batch_size: usize,
    accumulation: usize,
    shuffle: bool,
    drop_last: bool,
    seed: u64,
    penalties: usize,
    augmented: bool,
    early_stopping: Option<Monitor>,
    guard: bool,
    #[serde(default)]
    averaging: Option<crate::WeightAveraging>,
    #[serde(default)]
    sam: Option<descent_optim::SamConfig>,
}

/// The JSON part of a checkpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Bundle {
    format: String,
    version: u32,
    fingerprint: Fingerprint,
    n_train: Option<usize>,
    run: RunState,
    optimizer: OptimizerState,
    early_stopping: Option<EarlyStoppingState>,
    grads: bool,
    best: bool,
    guard: Option<GuardRecord>,
    guard_mark: Option<GuardMark>,
    /// The averaged model's `n_averaged` (its tensors under `@avg/`).
    #[serde(default)]
    averaged: Option<u64>,
}

/// The newest periodic checkpoint in `dir`, if any (by the position in its name).
///
/// # Examples
///
/// ```
/// let dir = std::env::temp_dir().join(format!("descent-latest-doc-{}", std::process::id()));
/// assert_eq!(descent_train::latest_checkpoint(&dir)?, None);
/// # Ok::<(), descent_train::Error>(())
/// ```
pub fn latest_checkpoint(dir: impl AsRef<Path>) -> Result<Option<PathBuf>> {
    Ok(periodic(dir.as_ref())?.pop().map(|(_, p)| p))
}

/// Periodic checkpoints in `dir`, oldest first.
fn periodic(dir: &Path) -> Result<Vec<((u64, u64), PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pos) = parse_name(&name) {
            out.push((pos, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

fn file_name(epoch: u64, batch: u64) -> String {
    format!("ckpt-e{epoch:06}-b{batch:09}.safetensors")
}

fn parse_name(name: &str) -> Option<(u64, u64)> {
    let rest = name.strip_prefix("ckpt-e")?.strip_suffix(".safetensors")?;
    let (e, b) = rest.split_once("-b")?;
    Some((e.parse().ok()?, b.parse().ok()?))
}

/// A safetensors file of the named tensors of `views` (owned bytes).
fn tensors_to_bytes(views: Vec<(String, TensorView<'_>)>) -> Result<Vec<u8>> {
    safetensors::serialize(views, None).map_err(|e| Error::checkpoint("<memory>", e.to_string()))
}

impl<S: Scalar, M: Module<S>> Trainer<S, M> {
    fn fingerprint(&self) -> Fingerprint {
        Fingerprint {
            scalar: S::NAME.to_owned(),
            batch_size: self.config.batch_size,
            accumulation: self.config.accumulation,
            shuffle: self.config.shuffle,
            drop_last: self.config.drop_last,
            seed: self.config.seed,
            penalties: self.penalties.len(),
            augmented: self.augment.is_some(),
            early_stopping: self.early.as_ref().map(|e| e.monitor.clone()),
            guard: self.guard.is_some(),
            averaging: self.averaging.as_ref().map(|a| a.spec),
            sam: self.config.sam,
        }
    }

    /// A model state holding `values` (one per parameter, in registration
    /// order) and `buffers`, as safetensors bytes: how the extra tensor sets
    /// of a checkpoint (gradients, best weights, the guard's snapshot) are
    /// written, each under its own prefix.
    fn state_bytes<'v>(
        &self,
        values: impl Iterator<Item = &'v DMatrix<S>>,
        buffers: &descent_nn::Buffers<S>,
    ) -> Result<Vec<u8>> {
        let mut state = self.state.clone();
        let ids: Vec<_> = state.params.params().ids().collect();
        for (id, v) in ids.into_iter().zip(values) {
            state.params.params_mut().value_mut(id).copy_from(v);
        }
        state.buffers.clone_from(buffers);
        Ok(state.to_safetensors()?)
    }

    /// The checkpoint of the run as it stands, as bytes.
    pub fn checkpoint_bytes(&self) -> Result<Vec<u8>> {
        let bad = |e: safetensors::SafeTensorError| Error::checkpoint("<memory>", e.to_string());
        let params = self.state.params.params();
        let grads = self.run.micro > 0;
        let best = self.early.as_ref().and_then(|e| e.best.as_ref());
        let guard = self.guard.as_ref().map(|g| g.export());
        // (prefix, safetensors bytes) of every tensor set the checkpoint holds
        let mut sets = vec![("", self.state.to_safetensors()?)];
        if grads {
            let g = params.ids().map(|id| self.state.params.grad(id));
            sets.push((GRAD, self.state_bytes(g, &self.state.buffers)?));
        }
        if let Some(best) = best {
            sets.push((BEST, best.to_safetensors()?));
        }
        if let Some(snap) = guard.as_ref().and_then(|(_, snap)| *snap) {
            sets.push((
                GUARD,
                self.state_bytes(snap.values().iter(), snap.buffers())?,
            ));
        }
        if let Some(a) = &self.averaging {
            sets.push((AVG, a.model.state().to_safetensors()?));
        }
        let files = sets
            .iter()
            .map(|(prefix, bytes)| Ok((*prefix, SafeTensors::deserialize(bytes).map_err(bad)?)))
            .collect::<Result<Vec<_>>>()?;
        let views: Vec<(String, TensorView<'_>)> = files
            .iter()
            .flat_map(|(prefix, f)| {
                f.tensors()
                    .into_iter()
                    .map(move |(name, view)| (format!("{prefix}{name}"), view))
            })
            .collect();
        let bundle = Bundle {
            format: FORMAT.into(),
            version: VERSION,
            fingerprint: self.fingerprint(),
            n_train: self.resumed_n_train,
            run: self.run.clone(),
            optimizer: self.opt.state(),
            early_stopping: self.early.as_ref().map(|e| e.stopper.state()),
            grads,
            best: best.is_some(),
            guard: guard.map(|(record, _)| record),
            guard_mark: self.guard_mark.clone(),
            averaged: self.averaging.as_ref().map(|a| a.model.n_averaged()),
        };
        let json = serde_json::to_string(&bundle)
            .map_err(|e| Error::checkpoint("<memory>", e.to_string()))?;
        let meta = HashMap::from([(META_KEY.to_owned(), json)]);
        safetensors::serialize(views, Some(meta))
            .map_err(|e| Error::checkpoint("<memory>", e.to_string()))
    }

    /// Writes the run's checkpoint to `path` atomically (a temporary file
    /// with a unique name, fsync, rename, fsync of the directory).
    pub fn save_checkpoint(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bytes = self.checkpoint_bytes()?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        descent_core::fs::write_atomic(path, &bytes).map_err(|e| Error::io(path, e))
    }

    /// Restores the run from a checkpoint file: model, optimizer, early
    /// stopping, accumulated gradients, position, history. The trainer must
    /// be built like the one that wrote it (same model, optimizer groups,
    /// batch size, accumulation, seed, ...). On any error — another model, a
    /// file cut short, other settings — nothing is changed.
    pub fn load_checkpoint(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        self.load_checkpoint_bytes(&bytes).map_err(|e| match e {
            Error::Checkpoint { reason, .. } => Error::checkpoint(path, reason),
            other => other,
        })
    }

    /// [`load_checkpoint`](Self::load_checkpoint) from bytes in memory.
    pub fn load_checkpoint_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        let bad = |reason: String| Error::checkpoint("<memory>", reason);
        let file = SafeTensors::deserialize(bytes)
            .map_err(|e| bad(format!("not a readable safetensors file ({e})")))?;
        let (_, meta) = SafeTensors::read_metadata(bytes)
            .map_err(|e| bad(format!("unreadable header ({e})")))?;
        let json = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get(META_KEY))
            .ok_or_else(|| {
                bad(format!(
                    "no `{META_KEY}` metadata: a model file, not a checkpoint"
                ))
            })?;
        let bundle: Bundle =
            serde_json::from_str(json).map_err(|e| bad(format!("malformed run state ({e})")))?;
        if bundle.format != FORMAT || bundle.version != VERSION {
            return Err(bad(format!(
                "format `{}` version {}, expected `{FORMAT}` version {VERSION}",
                bundle.format, bundle.version
            )));
        }
        let want = self.fingerprint();
        if bundle.fingerprint != want {
            return Err(bad(format!(
                "written by a run with other settings: {:?}, this run has {:?}",
                bundle.fingerprint, want
            )));
        }
        // Everything is decoded and checked into copies first.
        let split = |prefix: Option<&str>| -> Result<Vec<u8>> {
            let views = file
                .tensors()
                .into_iter()
                .filter_map(|(name, view)| match prefix {
                    Some(p) => name.strip_prefix(p).map(|n| (n.to_owned(), view)),
                    None => (!name.starts_with('@')).then_some((name, view)),
                })
                .collect();
            tensors_to_bytes(views)
        };
        let mut state = self.state.clone();
        state.load_safetensors(&split(None)?)?;
        let best = if bundle.best {
            let mut best = self.state.clone();
            best.load_safetensors(&split(Some(BEST))?)?;
            Some(best)
        } else {
            None
        };
        if bundle.grads {
            let mut g = self.state.clone();
            g.load_safetensors(&split(Some(GRAD))?)?;
            let ids: Vec<_> = state.params.params().ids().collect();
            for id in ids {
                state.params.grad_mut(id).copy_from(g.params.value(id));
            }
        } else {
            state.params.zero_grad();
        }
        if bundle.early_stopping.is_some() != self.early.is_some() {
            return Err(bad(
                "early stopping differs between the checkpoint and this run".into(),
            ));
        }
        if bundle.guard.is_some() != self.guard.is_some() {
            return Err(bad(
                "the instability guard differs between the checkpoint and this run".into(),
            ));
        }
        let guard_snapshot = match &bundle.guard {
            Some(record) if record.good.is_some() => {
                let mut g = self.state.clone();
                g.load_safetensors(&split(Some(GUARD))?)?;
                let values = g
                    .params
                    .params()
                    .iter()
                    .map(|(_, _, v)| v.clone())
                    .collect();
                Some(Snapshot::from_parts(values, g.buffers))
            }
            _ => None,
        };
        let averaged = match (bundle.averaged, &self.averaging) {
            (Some(n), Some(_)) => {
                let mut avg = self.state.clone();
                avg.load_safetensors(&split(Some(AVG))?)?;
                avg.params.zero_grad();
                Some((avg, n))
            }
            (None, None) => None,
            _ => {
                return Err(bad(
                    "weight averaging differs between the checkpoint and this run".into(),
                ));
            }
        };
        // The optimizer is the last fallible step; it changes nothing on error.
        self.opt.load_state(&bundle.optimizer)?;
        self.state = state;
        if let (Some(early), Some(saved)) = (&mut self.early, &bundle.early_stopping) {
            early.stopper.load_state(saved);
            early.best = best;
        }
        if let (Some(guard), Some(record)) = (&mut self.guard, bundle.guard) {
            // Checked above: the record has a snapshot exactly when one was read.
            guard.restore(record, guard_snapshot, &mut self.opt)?;
        }
        if let (Some((avg, n)), Some(a)) = (averaged, &mut self.averaging) {
            // Cannot fail: `avg` was loaded into a copy of this model's state.
            a.model.restore(avg, n)?;
        }
        self.guard_mark = bundle.guard_mark;
        self.run = bundle.run;
        self.resumed_n_train = bundle.n_train;
        self.tape.reset();
        Ok(())
    }

    /// A periodic checkpoint of the run as it stands, unless the state has
    /// gone non-finite (a bad micro-batch mid-accumulation, whose step would
    /// fail): then the error, and the last good checkpoint stays the newest.
    pub(crate) fn save_checkpoint_now(&mut self) -> Result<()> {
        let Some(cfg) = &self.checkpoints else {
            return Ok(());
        };
        self.check_finite_state()?;
        let path = cfg.dir.join(file_name(self.run.epoch, self.run.batch));
        self.save_checkpoint(&path)?;
        self.prune()
    }

    pub(crate) fn checkpoint_after_batch(&mut self) -> Result<()> {
        let due = match &self.checkpoints {
            Some(CheckpointConfig {
                every_batches: Some(n),
                ..
            }) => self.run.total_micro.is_multiple_of(*n),
            _ => false,
        };
        if due {
            self.save_checkpoint_now()?;
        }
        Ok(())
    }

    pub(crate) fn checkpoint_after_epoch(&mut self, metrics: &EpochMetrics) -> Result<()> {
        let Some(cfg) = self.checkpoints.clone() else {
            return Ok(());
        };
        let done = self.run.epoch;
        let due = cfg.every_epochs.is_some_and(|n| done.is_multiple_of(n))
            || self.run.finished
            || self.run.history.stopped.is_some();
        if due {
            self.save_checkpoint_now()?;
        }
        if let Some(monitor) = &cfg.keep_best {
            let value = metrics.get(&monitor.metric).ok_or_else(|| {
                Error::config(
                    "keep_best",
                    format!("`{}` is not measured in this run", monitor.metric),
                )
            })?;
            let best_so_far = self
                .run
                .history
                .epochs
                .iter()
                .rev()
                .skip(1)
                .filter_map(|e| e.get(&monitor.metric))
                .fold(monitor.direction.worst(), |b, v| {
                    if monitor.direction.better(v, b) { v } else { b }
                });
            if monitor.direction.better(value, best_so_far)
                || (value == best_so_far && value == monitor.direction.worst())
            {
                self.save_checkpoint(cfg.dir.join(BEST_FILE))?;
            }
        }
        Ok(())
    }

    /// Deletes periodic checkpoints beyond `keep_last`.
    fn prune(&self) -> Result<()> {
        let Some(cfg) = &self.checkpoints else {
            return Ok(());
        };
        if cfg.keep_last == 0 {
            return Ok(());
        }
        let all = periodic(&cfg.dir)?;
        let excess = all.len().saturating_sub(cfg.keep_last);
        for (_, path) in all.into_iter().take(excess) {
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
        Ok(())
    }
}

/// The model state of a checkpoint alone, as a plain safetensors file with
/// PyTorch's names (for `model.load_state_dict(safetensors.torch.load_file(…))`).
pub fn export_model(checkpoint: impl AsRef<Path>, out: impl AsRef<Path>) -> Result<()> {
    let path = checkpoint.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let file = SafeTensors::deserialize(&bytes)
        .map_err(|e| Error::checkpoint(path, format!("not a readable safetensors file ({e})")))?;
    let views = file
        .tensors()
        .into_iter()
        .filter(|(name, _)| !name.starts_with('@'))
        .collect();
    let model = tensors_to_bytes(views)?;
    let out = out.as_ref();
    descent_core::fs::write_atomic(out, &model).map_err(|e| Error::io(out, e))
}
