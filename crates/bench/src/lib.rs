//! Dev-only benchmark support for descent (not published).
//!
//! - [`Workload`]: one full training step of a fixed model on fixed random
//!   data (zero grads, forward, backward, optimizer step), reusing one tape,
//!   for the workloads W1–W4 listed in [`WorkloadId::ALL`];
//! - [`sgemm_gflops`] and [`triad_gbs`]: this machine's limits, a large GEMM
//!   through matrixmultiply and a STREAM-triad loop, measured in the same run;
//! - [`Timing`] and [`time_steps`]: warm-up, then the median and minimum of
//!   timed iterations.
//!
//! The criterion group `benches/benchmarks/workloads.rs` and `cargo xtask
//! bench` both build their workloads here, so they time the same code.

mod limits;
mod timing;
mod workload;

pub use limits::{matmul_threads, sgemm_gflops, triad_gbs};
pub use timing::{Timing, time_steps};
pub use workload::{Workload, WorkloadId};
