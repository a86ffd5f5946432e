//! Asserting on panics with a message check instead of a should-panic attribute.

use std::panic::{AssertUnwindSafe, catch_unwind};

/// Runs `f`, which must panic, and returns the panic's message (empty when
/// the payload is not a string). Panics if `f` returns normally.
pub fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    payload_message(payload.as_ref()).to_owned()
}

/// The message of a caught panic payload, or `""`.
pub fn payload_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("")
}
