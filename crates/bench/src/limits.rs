//! This machine's limits, measured in the same run as the workloads: sgemm
//! throughput from a large square GEMM and memory bandwidth from a
//! STREAM-triad loop. Both use [`descent_core::threads::num_threads`]
//! threads (`DESCENT_NUM_THREADS`, which `cargo xtask bench` sets per child).

use crate::timing::time_steps;
use nalgebra::DMatrix;
use std::hint::black_box;

/// Best sgemm throughput in GFLOP/s of an `n × n × n` product (2n³ flops),
/// over `iters` runs after one warm-up, on
/// [`descent_core::threads::num_threads`] threads: the better of descent's
/// own GEMM ([`descent_autodiff::gemm`], the `gemm` crate for square
/// products) and matrixmultiply's AVX-512 kernels with the rows split across
/// threads, so the peak is this machine's, not one library's.
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
    let flops = 2.0 * (n as f64).powi(3);
    let descent = time_steps(1, iters, || {
        descent_autodiff::gemm(&mut c, 1.0, &a, false, &b, false, 0.0);
        black_box(&mut c);
    });
    let threads = descent_core::threads::num_threads();
    let block = n.div_ceil(threads).max(1);
    let rows = time_steps(1, iters, || {
        rayon::scope(|scope| {
            let c_ptr = SendPtr(c.as_mut_ptr());
            for start in (0..n).step_by(block) {
                let (a, b) = (&a, &b);
                let rows = block.min(n - start);
                scope.spawn(move |_| {
                    let c_ptr = c_ptr;
                    // SAFETY: a, b and c are n × n column-major; this thread
                    // writes rows start..start + rows of c only (disjoint
                    // from every other thread's), reading a's same rows.
                    unsafe {
                        matrixmultiply::sgemm(
                            rows,
                            n,
                            n,
                            1.0,
                            a.as_ptr().add(start),
                            1,
                            n as isize,
                            b.as_ptr(),
                            1,
                            n as isize,
                            0.0,
                            c_ptr.0.add(start),
                            1,
                            n as isize,
                        );
                    }
                });
            }
        });
        black_box(&mut c);
    });
    flops / (descent.min_ms().min(rows.min_ms()) * 1e-3) / 1e9
}

/// A pointer handed to the threads that write disjoint parts of its buffer.
#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: only used by `sgemm_gflops`, whose threads write disjoint rows.
unsafe impl Send for SendPtr {}

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
        });
        black_box(&mut a);
    });
    12.0 * len as f64 / (t.min_ms() * 1e-3) / 1e9
}
