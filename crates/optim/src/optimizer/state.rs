//! What an optimizer saves to resume, and how it is restored.
//!
//! `OptimizerState` saves each group's value or plateau schedule (and
//! momentum value) whole, and of a schedule only its presence (schedules are
//! code; the step count restores the rate); loading a state saved under a
//! schedule into a group without one is an error that changes nothing. A
//! group's driven hyperparameters are in `GroupState::hypers`, absent in older
//! states, which still load. Non-finite floats survive the round trip
//! (`float.rs`).

use super::{HyperSource, HyperState, LrSource, LrState, Optimizer};
use crate::check;
use crate::error::{Error, Result};
use crate::transform::Hyper;
use descent_core::Scalar;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Everything an optimizer must save to resume: the step count and, per
/// group, its learning-rate source, its momentum, selection and transform state.
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
    /// The group's momentum (`momentum` or β₁) as set on the running
    /// optimizer or by a schedule; `None` when its chain has no momentum stage.
    pub momentum: Option<HyperState>,
    /// The group's other driven hyperparameters (β₂, ε, weight decay) as set
    /// on the running optimizer or by a schedule. Absent from states saved
    /// before they were driven: such a state loads and leaves them as built.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hypers: BTreeMap<Hyper, HyperState>,
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
                    momentum: g.momentum.as_ref().map(|m| m.source.saved()),
                    hypers: g.hypers.iter().map(|h| (h.key, h.source.saved())).collect(),
                    mask: g.runner.mask().to_vec(),
                    state: g.runner.save(),
                })
                .collect(),
        }
    }

    /// Restores a snapshot taken by [`Optimizer::state`] from an optimizer
    /// built the same way over the same parameters. A saved value or plateau
    /// schedule replaces the group's source; a group saved under a schedule
    /// must have a schedule installed; the same holds for the momentum. On
    /// error nothing changes.
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
                    check::lr(*lr)?;
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
            match (&s.momentum, &g.momentum) {
                (None, None) => {}
                (Some(HyperState::Value(m)), Some(slot)) => {
                    slot.kind.check(*m)?;
                }
                (Some(HyperState::Schedule), Some(slot))
                    if matches!(slot.source, HyperSource::Schedule(_)) => {}
                (Some(HyperState::Schedule), Some(_)) => {
                    return Err(Error::StateMismatch {
                        reason: format!(
                            "group {i} was saved under a momentum schedule; install it before loading"
                        ),
                    });
                }
                (saved, _) => {
                    return Err(Error::StateMismatch {
                        reason: format!(
                            "group {i} {} a momentum stage here but {} one when saved",
                            if g.momentum.is_some() {
                                "has"
                            } else {
                                "has no"
                            },
                            if saved.is_some() { "had" } else { "had no" },
                        ),
                    });
                }
            }
            for (&key, saved) in &s.hypers {
                let Some(slot) = g.hypers.iter().find(|h| h.key == key) else {
                    return Err(Error::StateMismatch {
                        reason: format!(
                            "group {i} was saved with `{}`, which its chain here does not have",
                            key.name()
                        ),
                    });
                };
                match (saved, &slot.source) {
                    (HyperState::Value(v), _) => {
                        key.check(*v)?;
                    }
                    (HyperState::Schedule, HyperSource::Schedule(_)) => {}
                    (HyperState::Schedule, HyperSource::Value(_)) => {
                        return Err(Error::StateMismatch {
                            reason: format!(
                                "group {i} was saved under a `{}` schedule; install it before loading",
                                key.name()
                            ),
                        });
                    }
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
            if let (Some(HyperState::Value(m)), Some(slot)) = (&s.momentum, &mut g.momentum) {
                slot.source = HyperSource::Value(*m);
            }
            for slot in &mut g.hypers {
                if let Some(HyperState::Value(v)) = s.hypers.get(&slot.key) {
                    slot.source = HyperSource::Value(*v);
                }
            }
        }
        self.step = saved.step;
        Ok(())
    }
}
