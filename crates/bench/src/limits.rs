//! This machine's limits, measured in the same run as the workloads: sgemm
//! throughput from a large square GEMM and memory bandwidth from a
//! STREAM-triad loop. Both follow the process's thread count: matrixmultiply
//! reads `MATMUL_NUM_THREADS` once per process, and the triad splits its
//! arrays across [`descent_core::threads::num_threads`] scoped threads
//! (`DESCENT_NUM_THREADS`); `cargo xtask bench` sets both variables alike.

use crate::timing::time_steps;
use std::hint::black_box;

/// Best sgemm throughput in GFLOP/s of an `n × n × n` product through
/// `matrixmultiply::sgemm` (2n³ flops), over `iters` runs after one warm-up.
///
/// # Examples
///
/// ```
/// assert!(descent_bench::sgemm_gflops(64, 2) > 0.0);
/// ```
pub fn sgemm_gflops(n: usize, iters: usize) -> f64 {
    let a: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..n * n).map(|i| (i % 5) as f32 * 0.1).collect();
    let mut c = vec![0.0f32; n * n];
    let s = n as isize;
    let t = time_steps(1, iters, || {
        // SAFETY: a, b and c are n × n row-major buffers of exactly n² floats,
        // with row stride n and column stride 1, and c does not alias a or b.
        unsafe {
            matrixmultiply::sgemm(
                n,
                n,
                n,
                1.0,
                a.as_ptr(),
                s,
                1,
                b.as_ptr(),
                s,
                1,
                0.0,
                c.as_mut_ptr(),
                s,
                1,
            );
        }
        black_box(&mut c);
    });
    2.0 * (n as f64).powi(3) / (t.min_ms() * 1e-3) / 1e9
}

/// Best STREAM-triad bandwidth in GB/s (`a[i] = b[i] + s·c[i]` over `len`
/// f32, 12 bytes per element), split across
/// [`descent_core::threads::num_threads`] threads, over `iters` runs after
/// one warm-up.
///
/// # Examples
///
/// ```
/// assert!(descent_bench::triad_gbs(1 << 16, 2) > 0.0);
/// ```
pub fn triad_gbs(len: usize, iters: usize) -> f64 {
    let mut a = vec![0.0f32; len];
    let b = vec![1.0f32; len];
    let c = vec![2.0f32; len];
    let n_threads = descent_core::threads::num_threads();
    let chunk = len.div_ceil(n_threads);
    let t = time_steps(1, iters, || {
        std::thread::scope(|scope| {
            for ((a, b), c) in a
                .chunks_mut(chunk)
                .zip(b.chunks(chunk))
                .zip(c.chunks(chunk))
            {
                scope.spawn(move || {
                    for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
                        *a = b + 3.0 * c;
                    }
                });
            }
        });
        black_box(&mut a);
    });
    12.0 * len as f64 / (t.min_ms() * 1e-3) / 1e9
}
