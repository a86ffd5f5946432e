//! Pausing a trial at its last checkpoint and resuming it later, so a
//! successive-halving promotion continues training instead of starting over
//! (the promotion-based ASHA of Li et al. 2018; what Optuna cannot do,
//! optuna/optuna#3351).
//!
//! A trial records its checkpoint (a path or key the objective understands)
//! and the step it reached with [`Trial::set_checkpoint`]; both live in the
//! trial's attributes, so every storage keeps them (a database writes them
//! as Optuna system attributes while the trial runs). [`Study::pause`]
//! finishes the trial as pruned and marks it paused. Later,
//! [`Study::promotable_trials`] lists the paused trials the study's pruner
//! would now let go on (for ASHA: those in the top `1/η` of their rung
//! against every trial that has reached it since), and
//! [`Study::resume_trial`] starts a new trial that continues one: same
//! parameters and distributions, its intermediate values, its checkpoint,
//! and the attribute `resumed_from`. Like Optuna's retried trials, a resumed
//! trial is a new trial (so append-only journals and shared databases need
//! nothing new); the paused original stays pruned, and pruners no longer
//! count it once it has been resumed.
//!
//! Invariant: hpo never rewrites a finished trial, and pruners ignore a paused
//! original once it is resumed.

use crate::{Error, FrozenTrial, PruneContext, Result, Study, Trial, TrialState};
use serde::{Deserialize, Serialize};

/// The trial attribute holding a [`TrialCheckpoint`].
pub const CHECKPOINT_ATTR: &str = "checkpoint";
/// The trial attribute set (to `true`) on a paused trial.
pub const PAUSED_ATTR: &str = "paused";
/// The trial attribute of a resumed trial: the number of the trial it continues.
pub const RESUMED_FROM_ATTR: &str = "resumed_from";

/// Where a trial's latest checkpoint is, and the step it had reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialCheckpoint {
    /// A path or key the objective can load the checkpoint from.
    pub path: String,
    /// The step (epoch, iteration) the checkpoint was taken at.
    pub step: u64,
}

impl FrozenTrial {
    /// The checkpoint the trial recorded last ([`Trial::set_checkpoint`]), if any.
    pub fn checkpoint(&self) -> Option<TrialCheckpoint> {
        serde_json::from_value(self.attrs.get(CHECKPOINT_ATTR)?.clone()).ok()
    }

    /// Whether the trial was paused ([`Study::pause`]) to be resumed later.
    pub fn is_paused(&self) -> bool {
        self.state == TrialState::Pruned
            && self.attrs.get(PAUSED_ATTR) == Some(&serde_json::Value::Bool(true))
    }

    /// The number of the paused trial this one continues, if it is a resumed trial.
    pub fn resumed_from(&self) -> Option<u64> {
        self.attrs.get(RESUMED_FROM_ATTR)?.as_u64()
    }
}

impl Trial<'_> {
    /// Records that the trial's latest checkpoint is at `path` and was taken
    /// at `step`; the storage keeps it with the trial.
    pub fn set_checkpoint(&mut self, path: impl Into<String>, step: u64) -> Result<()> {
        let checkpoint = TrialCheckpoint {
            path: path.into(),
            step,
        };
        let value = serde_json::to_value(&checkpoint).map_err(|source| Error::Encode {
            number: self.number(),
            source,
        })?;
        self.frozen.attrs.insert(CHECKPOINT_ATTR.into(), value);
        self.study.update_running(&self.frozen)
    }

    /// The checkpoint recorded last: the trial's own, or for a resumed trial
    /// that has recorded none yet, the paused trial's (to load before training on).
    pub fn checkpoint(&self) -> Option<TrialCheckpoint> {
        self.frozen.checkpoint()
    }

    /// The number of the paused trial this trial continues, if it is a resumed one.
    pub fn resumed_from(&self) -> Option<u64> {
        self.frozen.resumed_from()
    }
}

impl Study {
    /// Finishes `trial` as paused: recorded as pruned (valued at its last
    /// report) with its checkpoint, to be resumed by
    /// [`resume_trial`](Self::resume_trial). [`Error::NoCheckpoint`] if the
    /// trial recorded no checkpoint (it is then left running).
    pub fn pause(&self, mut trial: Trial<'_>) -> Result<FrozenTrial> {
        if trial.checkpoint().is_none() {
            return Err(Error::NoCheckpoint {
                number: trial.number(),
            });
        }
        trial
            .frozen
            .attrs
            .insert(PAUSED_ATTR.into(), serde_json::Value::Bool(true));
        trial.pruned = true;
        self.tell(trial, Ok::<f64, Error>(f64::NAN))
    }

    /// The paused trials not resumed yet, by number.
    pub fn paused_trials(&self) -> Vec<FrozenTrial> {
        self.with_state(|trials| {
            let resumed = resumed_numbers(trials);
            trials
                .iter()
                .filter(|t| t.is_paused() && !resumed.contains(&t.number))
                .cloned()
                .collect()
        })
    }

    /// The paused trials the study's pruner would now let go on from their
    /// last report, judged against every trial recorded so far (for
    /// [`SuccessiveHalvingPruner`](crate::SuccessiveHalvingPruner): in the
    /// top `1/η` of their rung): ASHA's promotions.
    pub fn promotable_trials(&self) -> Vec<FrozenTrial> {
        let paused = self.paused_trials();
        self.with_state(|trials| {
            let live = without_resumed(trials);
            let ctx = PruneContext {
                trials: live.as_deref().unwrap_or(trials),
                direction: self.config.direction,
                seed: self.config.seed,
            };
            paused
                .into_iter()
                .filter(|t| {
                    let mut probe = t.clone();
                    probe.state = TrialState::Running;
                    !self.pruner.prune(&ctx, &probe)
                })
                .collect()
        })
    }

    /// Starts a new trial continuing the paused trial `number`: the same
    /// parameters (a later `suggest_*` of the same name and distribution
    /// returns them), its intermediate values, its checkpoint
    /// ([`Trial::checkpoint`]) and [`RESUMED_FROM_ATTR`]. The objective loads
    /// the checkpoint and trains on; tell or pause the trial as usual.
    /// [`Error::NotPaused`] if `number` is not a paused trial, or was resumed already.
    pub fn resume_trial(&self, number: u64) -> Result<Trial<'_>> {
        let original = self
            .paused_trials()
            .into_iter()
            .find(|t| t.number == number)
            .ok_or(Error::NotPaused { number })?;
        let mut trial = self.ask()?;
        let f = &mut trial.frozen;
        f.params = original.params.clone();
        f.distributions = original.distributions.clone();
        f.intermediate = original.intermediate.clone();
        f.attrs = original.attrs.clone();
        f.attrs.remove(PAUSED_ATTR);
        f.attrs
            .insert(RESUMED_FROM_ATTR.into(), serde_json::Value::from(number));
        trial.relative = Some(Default::default());
        self.update_running(&trial.frozen)?;
        Ok(trial)
    }
}

/// The numbers of paused trials some trial has resumed.
fn resumed_numbers(trials: &[FrozenTrial]) -> std::collections::BTreeSet<u64> {
    trials
        .iter()
        .filter_map(FrozenTrial::resumed_from)
        .collect()
}

/// The trials without the paused ones that were resumed (their resumed
/// trials carry their reports on), or `None` when no trial was resumed.
pub(crate) fn without_resumed(trials: &[FrozenTrial]) -> Option<Vec<FrozenTrial>> {
    let resumed = resumed_numbers(trials);
    if resumed.is_empty() {
        return None;
    }
    Some(
        trials
            .iter()
            .filter(|t| !resumed.contains(&t.number))
            .cloned()
            .collect(),
    )
}

#[cfg(test)]
mod tests;
