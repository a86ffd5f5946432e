//! Dev-only helpers shared by descent's tests.
//!
//! - [`golden`]: loads the PyTorch reference files of `$DESCENT_GOLDEN_DIR`
//!   (default `../shared/golden` beside the workspace) described in their `FORMAT.md`.
//! - [`strategies`]: proptest strategies for matrices, including values kept
//!   away from kinks so finite differences are meaningful.
//! - [`panic_message`]: the message of an expected panic (no should-panic attributes here).
//! - [`assert_close`]: element-wise comparison with a relative tolerance that
//!   names the first offending element.

mod compare;
pub mod golden;
mod panics;
pub mod strategies;

pub use compare::assert_close;
pub use panics::{panic_message, payload_message};
