//! What an optimizer saves to resume, and how it is restored.

use super::{LrSource, LrState, Optimizer};
use crate::error::{Error, Result, non_negative};
use descent_core::Scalar;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Everything an optimizer must save to resume: the step count and, per
/// group, its learning-rate source, selection and transform state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerState {
    /// Steps taken.
    pub step: u64,
    /// One entry per group.
    pub groups: Vec<GroupState>,
}

/// The saved state of one parameter group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupState {
    /// The group's learning-rate source (a value, a schedule's presence, or
    /// a plateau schedule with its counters).
    pub lr: LrState,
    /// Which parameters the group updates.
    pub mask: Vec<bool>,
    /// The transform's state.
    pub state: Value,
}

impl<S: Scalar> Optimizer<S> {
    /// A snapshot of everything needed to resume. The multiplier and the
    /// schedules themselves are code, not state: install them again (the
    /// step count restores where they are).
    pub fn state(&self) -> OptimizerState {
        OptimizerState {
            step: self.step,
            groups: self
                .groups
                .iter()
                .map(|g| GroupState {
                    lr: g.lr.saved(),
                    mask: g.runner.mask().to_vec(),
                    state: g.runner.save(),
                })
                .collect(),
        }
    }

    /// Restores a snapshot taken by [`Optimizer::state`] from an optimizer
    /// built the same way over the same parameters. A saved value or plateau
    /// schedule replaces the group's source; a group saved under a schedule
    /// must have a schedule installed. On error nothing changes.
    pub fn load_state(&mut self, saved: &OptimizerState) -> Result<()> {
        if saved.groups.len() != self.groups.len() {
            return Err(Error::StateMismatch {
                reason: format!(
                    "{} groups saved, {} in this optimizer",
                    saved.groups.len(),
                    self.groups.len()
                ),
            });
        }
        for (i, (g, s)) in self.groups.iter().zip(&saved.groups).enumerate() {
            if g.runner.mask() != s.mask.as_slice() {
                return Err(Error::StateMismatch {
                    reason: format!("group {i} selects other parameters"),
                });
            }
            match (&s.lr, &g.lr) {
                (LrState::Value(lr), _) => {
                    non_negative("lr", *lr)?;
                }
                (LrState::Schedule, LrSource::Schedule(_)) | (LrState::Plateau(_), _) => {}
                (LrState::Schedule, _) => {
                    return Err(Error::StateMismatch {
                        reason: format!(
                            "group {i} was saved under a learning-rate schedule; install it before loading"
                        ),
                    });
                }
            }
            g.runner.check(&s.state)?;
        }
        for (g, s) in self.groups.iter_mut().zip(&saved.groups) {
            g.runner.load(&s.state)?;
            match &s.lr {
                LrState::Value(lr) => g.lr = LrSource::Value(*lr),
                LrState::Plateau(p) => g.lr = LrSource::Plateau(p.clone()),
                LrState::Schedule => {}
            }
        }
        self.step = saved.step;
        Ok(())
    }
}
