//! A step counter bundled with a pure schedule: the whole resumable state.

use descent_core::Schedule;
use serde::{Deserialize, Serialize};

/// A schedule plus the number of steps taken, for loops that want PyTorch's
/// `scheduler.step()` style. Since schedules are pure functions of the step,
/// this pair is all there is to save and restore.
///
/// # Examples
///
/// ```
/// use descent_schedule::{Stepper, StepLr};
///
/// let mut s = Stepper::new(StepLr::new(0.1, 2, 0.5)?);
/// assert_eq!(s.lr(), 0.1);
/// s.advance();
/// assert_eq!(s.advance(), 0.05);
/// let saved = serde_json::to_string(&s).unwrap();
/// let restored: Stepper<StepLr> = serde_json::from_str(&saved).unwrap();
/// assert_eq!(restored, s);
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stepper<S> {
    /// The schedule.
    pub schedule: S,
    /// Steps taken so far; the current learning rate is `schedule.lr(step)`.
    pub step: u64,
}

impl<S: Schedule> Stepper<S> {
    /// Starts `schedule` at step 0.
    pub fn new(schedule: S) -> Self {
        Stepper { schedule, step: 0 }
    }

    /// The learning rate at the current step.
    pub fn lr(&self) -> f64 {
        self.schedule.lr(self.step)
    }

    /// Moves to the next step and returns its learning rate.
    pub fn advance(&mut self) -> f64 {
        self.step += 1;
        self.lr()
    }
}
