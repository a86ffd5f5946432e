//! Training or evaluation mode.

/// Which behaviour a forward pass has: dropout and noise act only in
/// training, batch norm uses batch statistics in training and running
/// statistics in evaluation (PyTorch's `model.train()` / `model.eval()`,
/// passed explicitly instead of stored in the model).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Training: dropout masks, noise, batch statistics and running-stat updates.
    #[default]
    Train,
    /// Evaluation: deterministic, running statistics.
    Eval,
}

impl Mode {
    /// True in [`Mode::Train`].
    pub fn is_train(self) -> bool {
        self == Mode::Train
    }
}
