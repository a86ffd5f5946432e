//! This machine's limits, measured in the same run as the workloads: sgemm
//! throughput from a large square GEMM and memory bandwidth from a
//! STREAM-triad loop. Both use [`descent_core::threads::num_threads`]
//! threads (`DESCENT_NUM_THREADS`, which `cargo xtask bench` sets per child).

use crate::timing::time_steps;
use nalgebra::DMatrix;
use std::hint::black_box;

/// Best sgemm throughput in GFLOP/s of an `n × n × n` product (2n³ flops)
/// through descent's own GEMM ([`descent_autodiff::gemm`]: for a square
/// product, matrixmultiply's AVX-512 kernels with the output split across
/// threads), over `iters` runs after one warm-up, on
/// [`descent_core::threads::num_threads`] threads.
///
/// # Examples
///
/// ```
/// assert!(descent_bench::sgemm_gflops(64, 2) > 0.0);
/// ```
pub fn sgemm_gflops(n: usize, iters: usize) -> f64 {
    let a = DMatrix::<f32>::from_fn(n, n, |i, j| ((i * n + j) % 7) as f32 * 0.1);
    let b = DMatrix::<f32>::from_fn(n, n, |i, j| ((i * n + j) % 5) as f32 * 0.1);
    let mut c = DMatrix::<f32>::zeros(n, n);
    let t = time_steps(1, iters, || {
        descent_autodiff::gemm(&mut c, 1.0, &a, false, &b, false, 0.0);
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
        descent_core::threads::install(|| {
            rayon::scope(|scope| {
                for ((a, b), c) in a
                    .chunks_mut(chunk)
                    .zip(b.chunks(chunk))
                    .zip(c.chunks(chunk))
                {
                    scope.spawn(move |_| {
                        for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
                            *a = b + 3.0 * c;
                        }
                    });
                }
            })
        });
        black_box(&mut a);
    });
    12.0 * len as f64 / (t.min_ms() * 1e-3) / 1e9
}
