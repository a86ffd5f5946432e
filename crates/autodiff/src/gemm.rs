//! The GEMM engine behind every tape product: `c ← alpha · op(a) · op(b) +
//! beta · c` on strided views, so no operand is ever copied to be transposed
//! (and nalgebra's slow `tr_mul` is never used).
//!
//! Dispatch, by shape (`m × k` times `k × n`):
//! - reduction-shaped (`k ≥ 4 · max(m, n)` and `k ≥ 8192`): `k` cut into at
//!   most 8 chunks of at least 4096, partial products on the pool's threads,
//!   summed in chunk order (`Views::split_k`);
//! - small (`m·n·k < 2²⁰`) or reduction-shaped but short: the `gemm` crate;
//! - the rest: matrixmultiply, the output cut along its longer side into one
//!   block per thread (`Views::split`).
//!
//! The rule comes from timing both libraries on the benchmark workloads'
//! shapes in one process, alternating: matrixmultiply split this way was
//! 1.0–1.5× faster on W1's products and the convolutions' tall ones at 2
//! threads (1.0–1.2× at 1); the `gemm` crate 2–3× faster on reduction shapes
//! and on tiny ones (its packing-free small kernels); cutting a reduction
//! along `k` (a convolution's weight gradient, 16×65536×27) took W3 at 2
//! threads 0.83× the time, as neither library threads these well.
//! matrixmultiply's own `threading` feature is off: its pool spun in
//! `sched_yield` on small products, split `m` only, and cannot follow a
//! per-call thread count. Threads come from
//! `descent_core::threads::num_threads()` and run on descent's pool.
//!
//! Fewer than `2¹⁸` multiply-adds run on one thread. Every element of `c` is
//! summed over `k` by one thread in one order, so results do not depend on
//! the thread count. The `unsafe` code lives here and only here: raw strided
//! views (`Views`) handed to threads that write disjoint blocks of `c`.

use descent_core::Scalar;
use descent_core::threads::Region;
use nalgebra::DMatrix;
use rayon::prelude::*;
use std::any::TypeId;

/// A column-major matrix borrowed as a slice: a `DMatrix`'s buffer, or a
/// buffer read with another shape (a convolution's `N × (C·OH·OW)` output
/// is also its `(N·OH·OW) × C` matrix).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mat<'a, S> {
    data: &'a [S],
    rows: usize,
    cols: usize,
}

impl<'a, S: Scalar> Mat<'a, S> {
    /// `data` read as a `rows × cols` column-major matrix.
    pub(crate) fn new(data: &'a [S], rows: usize, cols: usize) -> Self {
        assert_eq!(data.len(), rows * cols, "gemm: buffer is not {rows}x{cols}");
        Mat { data, rows, cols }
    }

    /// Shape of `op(self)`.
    fn dims(&self, transpose: bool) -> (usize, usize) {
        if transpose {
            (self.cols, self.rows)
        } else {
            (self.rows, self.cols)
        }
    }

    /// Row and column strides of `op(self)` in the column-major buffer.
    fn strides(&self, transpose: bool) -> (isize, isize) {
        let ld = self.rows.max(1) as isize;
        if transpose { (ld, 1) } else { (1, ld) }
    }
}

impl<'a, S: Scalar> From<&'a DMatrix<S>> for Mat<'a, S> {
    fn from(m: &'a DMatrix<S>) -> Self {
        Mat::new(m.as_slice(), m.nrows(), m.ncols())
    }
}

/// Shape of `op(m)`.
pub(crate) fn dims<S: Scalar>(m: &DMatrix<S>, transpose: bool) -> (usize, usize) {
    Mat::from(m).dims(transpose)
}

/// A GEMM smaller than this many multiply-adds runs on one thread.
const MIN_PARALLEL_WORK: usize = 1 << 18;

/// Products smaller than this many multiply-adds go to the `gemm` crate,
/// whose small-matrix kernels beat matrixmultiply's packing there.
const SMALL: usize = 1 << 20;

/// `k ≥ REDUCTION · max(m, n)` marks a reduction-shaped product (a
/// convolution's weight gradient, `k = N·OH·OW`), which the `gemm` crate
/// handles 2–3× faster than matrixmultiply.
const REDUCTION: usize = 4;

/// `c ← alpha · op(a) · op(b) + beta · c` on strided views (so a transpose
/// is never copied), on up to [`descent_core::threads::num_threads`]
/// threads. With `beta = 0`, `c` is not read, so it may hold anything.
///
/// Every element of `c` is summed over `k` by one thread in one order, so the
/// result does not depend on the thread count. This is the GEMM every tape
/// product uses, public for code that multiplies matrices outside a tape.
///
/// Panics if the shapes do not fit, naming them.
///
/// # Examples
///
/// ```
/// use descent_autodiff::gemm;
/// use nalgebra::DMatrix;
///
/// let a = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// let mut c = DMatrix::from_element(2, 2, 1.0);
/// // c ← 1·a·aᵀ + 10·c
/// gemm(&mut c, 1.0, &a, false, &a, true, 10.0);
/// assert_eq!(c, DMatrix::from_row_slice(2, 2, &[24.0, 42.0, 42.0, 87.0]));
/// ```
pub fn gemm<S: Scalar>(
    c: &mut DMatrix<S>,
    alpha: S,
    a: &DMatrix<S>,
    ta: bool,
    b: &DMatrix<S>,
    tb: bool,
    beta: S,
) {
    let (m, n) = c.shape();
    gemm_mat(
        c.as_mut_slice(),
        (m, n),
        alpha,
        a.into(),
        ta,
        b.into(),
        tb,
        beta,
    );
}

/// [`gemm`] on borrowed buffers: `c` is `shape.0 × shape.1`, column-major.
#[allow(clippy::too_many_arguments)] // BLAS's signature, in its order
pub(crate) fn gemm_mat<S: Scalar>(
    c: &mut [S],
    (cm, cn): (usize, usize),
    alpha: S,
    a: Mat<'_, S>,
    ta: bool,
    b: Mat<'_, S>,
    tb: bool,
    beta: S,
) {
    let (m, k) = a.dims(ta);
    let (k2, n) = b.dims(tb);
    assert!(
        k == k2 && (cm, cn) == (m, n) && c.len() == m * n,
        "matmul: cannot multiply {m}x{k} by {k2}x{n} into {cm}x{cn}"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if beta == S::zero() {
            c.fill(S::zero());
        } else {
            c.iter_mut().for_each(|v| *v *= beta);
        }
        return;
    }
    let view = Views {
        m,
        k,
        n,
        a: a.data.as_ptr(),
        rsa: a.strides(ta),
        b: b.data.as_ptr(),
        rsb: b.strides(tb),
        c: c.as_mut_ptr(),
        ldc: m as isize,
        alpha,
        beta,
    };
    let work = m.saturating_mul(n).saturating_mul(k);
    let threads = descent_core::threads::available()
        .min(work / MIN_PARALLEL_WORK)
        .max(1);
    // SAFETY: the strides describe `op(a)` (m×k), `op(b)` (k×n) and `c`
    // (m×n, column-major, leading dimension m) inside their own buffers,
    // whose sizes `Mat::new` and the assertion checked; `c` does not alias
    // `a` or `b` because it is borrowed mutably.
    let reduction = k >= REDUCTION * m.max(n);
    if !reduction && work >= SMALL {
        // SAFETY: as above; `split` shares its blocks between this thread
        // and the pool's (`descent_core::threads::run_blocks`).
        unsafe { view.split(threads) };
        return;
    }
    // SAFETY: as above.
    let run = move || unsafe {
        if reduction && k >= 2 * MIN_K_CHUNK {
            view.split_k(threads);
        } else {
            view.gemm_crate(threads);
        }
    };
    // Threaded work runs on descent's pool of `num_threads` threads.
    if threads > 1 {
        descent_core::threads::install(run);
    } else {
        run();
    }
}

/// A reduction-shaped product is cut along `k` into chunks of at least this
/// many, at most [`MAX_K_CHUNKS`] of them.
const MIN_K_CHUNK: usize = 4096;
const MAX_K_CHUNKS: usize = 8;

/// One GEMM's operands as raw strided views.
#[derive(Clone, Copy)]
struct Views<S> {
    m: usize,
    k: usize,
    n: usize,
    a: *const S,
    /// Row and column strides of `op(a)`.
    rsa: (isize, isize),
    b: *const S,
    rsb: (isize, isize),
    /// Column-major with leading dimension `ldc` (the whole product's `m`).
    c: *mut S,
    ldc: isize,
    alpha: S,
    beta: S,
}

// SAFETY: a `Views` is only sent to threads that write disjoint blocks of
// `c` (see `split`) while the borrows behind the pointers are held by
// `gemm_mat`'s caller.
unsafe impl<S: Send> Send for Views<S> {}
unsafe impl<S: Sync> Sync for Views<S> {}

impl<S: Scalar> Views<S> {
    /// Rows `rows` of the product: a view of the same operands.
    fn rows(self, rows: std::ops::Range<usize>) -> Views<S> {
        Views {
            m: rows.len(),
            a: self.a.wrapping_offset(rows.start as isize * self.rsa.0),
            c: self.c.wrapping_add(rows.start),
            ..self
        }
    }

    /// Columns `cols` of the product: a view of the same operands.
    fn cols(self, cols: std::ops::Range<usize>) -> Views<S> {
        Views {
            n: cols.len(),
            b: self.b.wrapping_offset(cols.start as isize * self.rsb.1),
            c: self.c.wrapping_offset(cols.start as isize * self.ldc),
            ..self
        }
    }

    /// matrixmultiply (AVX-512 kernels), the output cut along its longer
    /// side into one block per thread, so each thread packs only its share
    /// of the operand on that side.
    ///
    /// # Safety
    /// As [`gemm_mat`]'s body: the views are valid and `c` is exclusively ours.
    unsafe fn split(self, threads: usize) {
        if threads <= 1 {
            // SAFETY: forwarded.
            unsafe { self.matrixmultiply() };
            return;
        }
        let by_rows = self.m >= self.n;
        let len = if by_rows { self.m } else { self.n };
        let block = len.div_ceil(threads);
        let part = |start: usize| {
            let r = start..(start + block).min(len);
            if by_rows { self.rows(r) } else { self.cols(r) }
        };
        let region = Region::new();
        // The calling thread takes blocks too, and a worker that starts
        // late leaves its block to it (`run_blocks`).
        descent_core::threads::run_blocks(len.div_ceil(block), threads, |i| {
            let start = i * block;
            // SAFETY: disjoint blocks of `c` (the offsets stay inside the
            // operands because the blocks lie inside `0..m` or `0..n`);
            // `run_blocks` returns before `gemm_mat` does.
            region.time(block.min(len - start), || unsafe {
                part(start).matrixmultiply()
            });
        });
        region.finish();
    }

    /// One matrixmultiply call on the calling thread.
    ///
    /// # Safety
    /// As [`gemm`]'s body.
    unsafe fn matrixmultiply(self) {
        let Views {
            m,
            k,
            n,
            a,
            rsa,
            b,
            rsb,
            c,
            ldc: csc,
            alpha,
            beta,
        } = self;
        // SAFETY: `S` is exactly f32 (resp. f64) in each branch, so the
        // pointer casts are identities; the views are valid (caller).
        unsafe {
            if TypeId::of::<S>() == TypeId::of::<f32>() {
                let (alpha, beta) = (alpha.as_f64() as f32, beta.as_f64() as f32);
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    alpha,
                    a.cast(),
                    rsa.0,
                    rsa.1,
                    b.cast(),
                    rsb.0,
                    rsb.1,
                    beta,
                    c.cast(),
                    1,
                    csc,
                );
            } else if TypeId::of::<S>() == TypeId::of::<f64>() {
                let (alpha, beta) = (alpha.as_f64(), beta.as_f64());
                matrixmultiply::dgemm(
                    m,
                    k,
                    n,
                    alpha,
                    a.cast(),
                    rsa.0,
                    rsa.1,
                    b.cast(),
                    rsb.0,
                    rsb.1,
                    beta,
                    c.cast(),
                    1,
                    csc,
                );
            } else {
                unreachable!("Scalar is implemented for f32 and f64 only");
            }
        }
    }

    /// Columns `ks` of `op(a)` and rows `ks` of `op(b)`: the product over
    /// part of `k`, written into `c` (an `m × n` buffer of its own).
    fn k_range(self, ks: std::ops::Range<usize>, c: *mut S) -> Views<S> {
        Views {
            k: ks.len(),
            a: self.a.wrapping_offset(ks.start as isize * self.rsa.1),
            b: self.b.wrapping_offset(ks.start as isize * self.rsb.0),
            c,
            ldc: self.m as isize,
            alpha: S::one(),
            beta: S::zero(),
            ..self
        }
    }

    /// Reduction-shaped products (small `m × n`, large `k`), which neither
    /// library threads well: `k` cut into chunks whose partial products run
    /// on the threads, then summed in chunk order. The chunks depend on the
    /// shape only, so the result is the same on any number of threads.
    ///
    /// # Safety
    /// As [`gemm_mat`]'s body.
    unsafe fn split_k(self, threads: usize) {
        let (m, n, k) = (self.m, self.n, self.k);
        let chunks = (k / MIN_K_CHUNK).clamp(1, MAX_K_CHUNKS);
        let len = k.div_ceil(chunks);
        let mut partials = vec![S::zero(); chunks * m * n];
        let chunk = |(i, part): (usize, &mut [S])| {
            let ks = i * len..((i + 1) * len).min(k);
            // SAFETY: `ks` lies inside `0..k`, `part` is this chunk's own
            // `m × n` buffer; single-threaded inside the chunk.
            unsafe { self.k_range(ks, part.as_mut_ptr()).gemm_crate(1) };
        };
        if threads <= 1 {
            partials.chunks_mut(m * n).enumerate().for_each(chunk);
        } else {
            let region = Region::new();
            partials
                .par_chunks_mut(m * n)
                .with_min_len(chunks.div_ceil(threads))
                .enumerate()
                .for_each(|(i, part)| region.time(len.min(k - i * len), || chunk((i, part))));
            region.finish();
        }
        // Summed into the first chunk's buffer, in chunk order.
        let (total, rest) = partials.split_at_mut(m * n);
        for part in rest.chunks_exact(m * n) {
            total.iter_mut().zip(part).for_each(|(a, &p)| *a += p);
        }
        for (j, col) in total.chunks_exact(m).enumerate() {
            for (i, &v) in col.iter().enumerate() {
                // SAFETY: (i, j) lies inside the m × n output `c`.
                let out = unsafe { &mut *self.c.offset(i as isize + j as isize * self.ldc) };
                *out = if self.beta == S::zero() {
                    self.alpha * v
                } else {
                    self.alpha * v + self.beta * *out
                };
            }
        }
    }

    /// The `gemm` crate, with its own threading on the current rayon pool
    /// (descent's, inside [`descent_core::threads::install`]).
    ///
    /// # Safety
    /// As [`gemm`]'s body.
    unsafe fn gemm_crate(self, threads: usize) {
        let (rsa, rsb) = (self.rsa, self.rsb);
        let parallelism = if threads > 1 {
            gemm::Parallelism::Rayon(threads)
        } else {
            gemm::Parallelism::None
        };
        let read_dst = self.beta != S::zero();
        // SAFETY: the views are valid (caller); `gemm::gemm` dispatches on
        // the element type itself and supports f32 and f64, the only
        // `Scalar`s. It computes `dst ← alpha·dst + beta·lhs·rhs` (its alpha
        // and beta are BLAS's swapped) and takes column stride before row
        // stride.
        unsafe {
            gemm::gemm(
                self.m,
                self.n,
                self.k,
                self.c,
                self.ldc,
                1,
                read_dst,
                self.a,
                rsa.1,
                rsa.0,
                self.b,
                rsb.1,
                rsb.0,
                self.beta,
                self.alpha,
                false,
                false,
                false,
                parallelism,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use nalgebra::DMatrix;

    /// Every kernel path against nalgebra's product, with alpha and beta:
    /// small, split along rows or columns, reduction-shaped (cut along `k`),
    /// in both transposed forms.
    #[test]
    fn every_path_matches_a_reference_product() {
        for (m, k, n) in [
            (3, 4, 5),
            (300, 40, 100),
            (90, 60, 400),
            (3, 20_000, 5),
            (7, 9_000, 2),
        ] {
            for (ta, tb) in [(false, false), (true, true), (true, false)] {
                let a = DMatrix::<f64>::from_fn(m, k, |i, j| ((i * 7 + j * 3) % 11) as f64 - 5.0);
                let b = DMatrix::<f64>::from_fn(k, n, |i, j| ((i * 5 + j) % 13) as f64 / 13.0);
                let c0 = DMatrix::<f64>::from_fn(m, n, |i, j| (i + 2 * j) as f64);
                let want = &a * &b * 0.5 + &c0 * 2.0;
                let (a_op, b_op) = (
                    if ta { a.transpose() } else { a.clone() },
                    if tb { b.transpose() } else { b.clone() },
                );
                let mut c = c0.clone();
                super::gemm(&mut c, 0.5, &a_op, ta, &b_op, tb, 2.0);
                let scale = want.amax().max(1.0);
                assert!(
                    (c - &want).amax() < 1e-12 * scale * k as f64,
                    "{m}x{k}x{n} ta={ta} tb={tb}"
                );
                // beta = 0 never reads c
                let mut c = DMatrix::from_element(m, n, f64::NAN);
                super::gemm(&mut c, 1.0, &a_op, ta, &b_op, tb, 0.0);
                assert!(
                    (c - &a * &b).amax() < 1e-12 * scale * k as f64,
                    "{m}x{k}x{n} beta 0"
                );
            }
        }
    }
}
