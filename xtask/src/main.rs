//! descent task runner.
fn main() {}
