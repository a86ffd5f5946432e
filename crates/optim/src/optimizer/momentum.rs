//! A group's momentum on the running optimizer: read, set, scheduled.
//!
//! A group's momentum is its chain's first momentum stage (`momentum`, or
//! β₁ in the Adam family). It is readable, settable and schedulable
//! (`set_momentum`, `set_momentum_schedule`, and
//! `set_lr_and_momentum_schedule` for OneCycleLR/CyclicLR, as PyTorch writes
//! `momentum` or `betas[0]` before each step); it enters once per step through
//! `StepCtx::momentum` into that stage's `prepare`, never per element, and a
//! changed value applies to the moment buffers as they are.

use super::{HyperSource, MomentumSlot, Optimizer, SharedSchedule};
use crate::error::{Error, Result};
use crate::transform::MomentumKind;
use descent_core::{Scalar, Schedule};
use descent_schedule::{MomentumOf, MomentumSchedule};
use std::sync::Arc;

impl<S: Scalar> Optimizer<S> {
    /// The first group's momentum at the current step (`momentum` or β₁),
    /// `None` when its chain has no momentum stage.
    pub fn momentum(&self) -> Option<f64> {
        self.groups[0]
            .momentum
            .as_ref()
            .map(|m| m.source.at(self.step))
    }

    /// Group `index`'s momentum at the current step, `None` without a momentum stage.
    pub fn group_momentum(&self, index: usize) -> Result<Option<f64>> {
        let g = self.group_ref(index)?;
        Ok(g.momentum.as_ref().map(|m| m.source.at(self.step)))
    }

    /// Which hyperparameter group `index`'s momentum is (`momentum` or
    /// `betas.0`), `None` without a momentum stage.
    pub fn momentum_kind(&self, index: usize) -> Result<Option<MomentumKind>> {
        Ok(self.group_ref(index)?.momentum.as_ref().map(|m| m.kind))
    }

    /// Where group `index`'s momentum comes from, `None` without a momentum stage.
    pub fn momentum_source(&self, index: usize) -> Result<Option<&HyperSource>> {
        Ok(self.group_ref(index)?.momentum.as_ref().map(|m| &m.source))
    }

    /// Every group's momentum slot, or [`Error::NoMomentum`] naming the first
    /// group whose chain has none.
    fn momentum_slots(&mut self) -> Result<Vec<&mut MomentumSlot>> {
        if let Some(group) = self.groups.iter().position(|g| g.momentum.is_none()) {
            return Err(Error::NoMomentum { group });
        }
        Ok(self
            .groups
            .iter_mut()
            .filter_map(|g| g.momentum.as_mut())
            .collect())
    }

    /// Group `index`'s momentum slot.
    fn momentum_slot(&mut self, index: usize) -> Result<&mut MomentumSlot> {
        self.group_mut(index)?
            .momentum
            .as_mut()
            .ok_or(Error::NoMomentum { group: index })
    }

    /// Sets every group's momentum to the value `momentum`, replacing any
    /// schedule; checked against each group's range (`momentum` ≥ 0, β₁ in
    /// `[0, 1)`). [`Error::NoMomentum`] if a group has no momentum stage
    /// (an `Sgd` built with `momentum: 0.0` has no buffer to drive). On error
    /// nothing changes.
    pub fn set_momentum(&mut self, momentum: f64) -> Result<()> {
        let slots = self.momentum_slots()?;
        for s in &slots {
            s.kind.check(momentum)?;
        }
        for s in slots {
            s.source = HyperSource::Value(momentum);
        }
        Ok(())
    }

    /// Sets group `index`'s momentum to the value `momentum`.
    pub fn set_group_momentum(&mut self, index: usize, momentum: f64) -> Result<()> {
        let slot = self.momentum_slot(index)?;
        slot.kind.check(momentum)?;
        slot.source = HyperSource::Value(momentum);
        Ok(())
    }

    /// Drives every group's momentum by `schedule`, a schedule of momentum
    /// values evaluated at the optimizer's step count (a `MomentumSchedule`'s
    /// through `MomentumOf`, or see [`set_lr_and_momentum_schedule`](Self::set_lr_and_momentum_schedule)).
    /// [`Error::NoMomentum`] if a group has no momentum stage; nothing changes then.
    pub fn set_momentum_schedule(
        &mut self,
        schedule: impl Schedule + Send + Sync + 'static,
    ) -> Result<()> {
        let shared: SharedSchedule = Arc::new(schedule);
        for s in self.momentum_slots()? {
            s.source = HyperSource::Schedule(shared.clone());
        }
        Ok(())
    }

    /// Drives group `index`'s momentum by `schedule`.
    pub fn set_group_momentum_schedule(
        &mut self,
        index: usize,
        schedule: impl Schedule + Send + Sync + 'static,
    ) -> Result<()> {
        self.momentum_slot(index)?.source = HyperSource::schedule(schedule);
        Ok(())
    }

    /// What PyTorch's `OneCycleLR` and `CyclicLR` do to an optimizer: every
    /// group's rate follows `schedule`, and, when it cycles momentum, every
    /// group's momentum (`momentum` or β₁) follows its momentum.
    /// [`Error::NoMomentum`] if it cycles momentum and a group has no
    /// momentum stage (PyTorch refuses optimizers without `momentum` or
    /// `betas` too); nothing changes then.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_core::{ParamStore, Tags};
    /// use descent_optim::{Sgd, SgdConfig};
    /// use descent_schedule::{OneCycleLr, OneCycleLrConfig};
    /// use nalgebra::DMatrix;
    ///
    /// let mut store = ParamStore::<f64>::new();
    /// store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 2, 1.0))?;
    /// let mut opt = SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() }.build(&store)?;
    /// opt.set_lr_and_momentum_schedule(OneCycleLr::new(0.1, 100, OneCycleLrConfig::default())?)?;
    /// assert!((opt.lr() - 0.1 / 25.0).abs() < 1e-15); // max_lr / div_factor
    /// assert_eq!(opt.momentum(), Some(0.95)); // max_momentum
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_lr_and_momentum_schedule<M>(&mut self, schedule: M) -> Result<()>
    where
        M: MomentumSchedule + Clone + Send + Sync + 'static,
    {
        if let Some(momentum) = MomentumOf::new(schedule.clone()) {
            self.set_momentum_schedule(momentum)?;
        }
        self.set_lr_schedule(schedule);
        Ok(())
    }
}
