//! Building descent's optimizers and schedules from a PyTorch class name and
//! its golden `hyper` object, for the parity tests of `descent-optim`,
//! `descent-schedule` and the root training test.
//!
//! Every builder reads its `hyper` through [`Hyper`](crate::Hyper) and
//! finishes it: a hyperparameter it does not read, a value it cannot honour
//! or a class it does not know is an error naming it.

mod optim;
mod schedule;

pub use optim::{lbfgs, optimizer};
pub use schedule::{Built, scheduler};
