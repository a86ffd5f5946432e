//! The shared helper that walks a store: every tensor in cache-sized blocks,
//! each block through every stage, split across threads above a size threshold.
//!
//! The only code that walks a store. Each tensor goes in [`BLOCK`]-element
//! blocks (512: Adam's four streams, 10 KB in f32, stay in L1; 0.70–0.83× the
//! time of 2048-element blocks), every block through every stage and into
//! the parameter while in cache. Above [`MIN_ELEMS_PER_THREAD`] elements
//! per thread ([`Parallelism`]) the step is cut into 8 contiguous
//! pieces per thread that the calling thread and descent's pool take as
//! they come free ([`descent_core::threads::run_blocks`]; bench
//! W5, Adam at 2 threads: 7.9 → 6.3 ms against one piece per thread); the
//! walk is compiled twice (portable, and AVX2 + FMA chosen at run time).
//! Threads spawned per step were slower than the pool: ending a thread
//! unmaps its stack, which interrupts every core for a TLB flush, and in a
//! VM each such interrupt is a VM exit.

use crate::buf::SplitAt;
use crate::transform::{BlockTransform, Mask, Tensors};
use descent_core::{Grads, Params, Scalar, StepCtx};
use std::sync::{Mutex, PoisonError};

/// Elements per block: 512 keeps the update block and every slice a chained
/// Adam touches (gradient, parameter, two moments: 10 KB in f32) in L1 while
/// all stages run over it. Measured on Adam over 10M f32 parameters,
/// alternating builds: 512 took 0.70–0.83× the time of 2048 (1 and 2
/// threads); 256 and 1024 fell between.
pub const BLOCK: usize = 512;

/// How a step splits its element-wise work across threads: core's one
/// thread-split type, [`descent_core::Parallelism`], whose unit here is an
/// element (of all the tensors a step walks).
///
/// A threaded step is cut into 8 pieces per thread and handed to descent's
/// thread pool and the calling thread
/// ([`descent_core::threads::run_blocks`]; no thread is spawned per step),
/// but waking the pool still costs microseconds, so small problems
/// stay on the calling thread: an optimizer starts from
/// `Parallelism::with_min_per_thread(MIN_ELEMS_PER_THREAD)`
/// ([`MIN_ELEMS_PER_THREAD`], 2^18 elements per thread), not from
/// `Parallelism::default()` (1 per thread).
///
/// Before this type moved to core its second field was named
/// `min_elems_per_thread`; a struct literal now names it `min_per_thread`
/// (serialized values with the old name still deserialize).
///
/// # Examples
///
/// ```
/// use descent_optim::{MIN_ELEMS_PER_THREAD, Parallelism};
///
/// let serial = Parallelism { threads: 1, ..Parallelism::default() };
/// assert_eq!(serial.threads_for(100_000_000), 1);
/// let two = Parallelism { threads: 2, min_per_thread: MIN_ELEMS_PER_THREAD };
/// assert_eq!(two.threads_for(1 << 18), 1);
/// assert_eq!(two.threads_for(10_000_000), 2);
/// ```
pub use descent_core::Parallelism;

/// The fewest elements an optimizer's step gives a thread unless told
/// otherwise (2^18): every optimizer starts from
/// `Parallelism::with_min_per_thread(MIN_ELEMS_PER_THREAD)`
/// ([`Optimizer::parallelism`](crate::Optimizer::parallelism)).
pub const MIN_ELEMS_PER_THREAD: usize = 1 << 18;

/// Rewrites `grads` in place into `t`'s output (core's `GradientTransform::update`).
pub(crate) fn update_in_place<S: Scalar, T: BlockTransform<S>>(
    t: &T,
    grads: &mut Grads<S>,
    state: &mut T::State,
    params: &Params<S>,
    ctx: &StepCtx,
) {
    let coefs = t.prepare(state, Tensors::Grads(grads), params, Mask::ALL, ctx);
    for ((id, g), view) in grads.iter_mut().zip(t.views(state)) {
        in_place(
            t,
            &coefs,
            view,
            g.as_mut_slice(),
            params.value(id).as_slice(),
        );
    }
}

/// Runs the stages over a buffer in place, block by block.
pub(crate) fn in_place<S: Scalar, T: BlockTransform<S>>(
    t: &T,
    coefs: &T::Coefs,
    mut view: T::View<'_>,
    mut u: &mut [S],
    mut p: &[S],
) {
    while !u.is_empty() {
        let n = u.len().min(BLOCK);
        let (mut v_head, v_tail) = view.split_at(n);
        view = v_tail;
        let (u_head, u_tail) = std::mem::take(&mut u).split_at_mut(n);
        u = u_tail;
        let (p_head, p_tail) = p.split_at(n);
        p = p_tail;
        t.apply_block(coefs, &mut v_head, u_head, p_head);
    }
}

/// The sum of squares of one chunk (at most [`BLOCK`] elements) of a
/// gradient: squares accumulated in the gradient's own precision over
/// [`SQ_LANES`] lanes (element `k` into lane `k mod SQ_LANES`, then the last
/// `len mod SQ_LANES` elements into lanes `0..`), the lanes then added in
/// order in `f64`. One vectorized pass that keeps pace with the optimizer's
/// walk it rides along. In `f32` each lane adds at most
/// `BLOCK / SQ_LANES = 16` squares, so the chunk's relative error is below
/// `1e-6`; a chunk whose `f32` sum overflows (squares beyond `f32::MAX`) is
/// summed again in `f64` over eight lanes, so the result is infinite only
/// where the `f64` sum is (or a gradient is infinite or NaN).
#[inline(always)]
pub(crate) fn chunk_sq_sum<S: Scalar>(g: &[S]) -> f64 {
    let mut lanes = [S::zero(); SQ_LANES];
    let chunks = g.chunks_exact(SQ_LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            *l += v * v;
        }
    }
    for (l, &v) in lanes.iter_mut().zip(rest) {
        *l += v * v;
    }
    let total = lanes.iter().map(|l| l.as_f64()).sum::<f64>();
    if total.is_finite() {
        total
    } else {
        chunk_sq_sum_f64(g)
    }
}

/// Lanes of [`chunk_sq_sum`]: four AVX2 vectors of `f32`, enough
/// independent additions to hide their latency.
pub(crate) const SQ_LANES: usize = 32;

/// [`chunk_sq_sum`]'s fallback: every square in `f64`, over eight lanes.
#[cold]
fn chunk_sq_sum_f64<S: Scalar>(g: &[S]) -> f64 {
    let mut lanes = [0.0f64; 8];
    let chunks = g.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for (l, v) in lanes.iter_mut().zip(c) {
            let v = v.as_f64();
            *l += v * v;
        }
    }
    let mut total = lanes.iter().sum::<f64>();
    for v in rest {
        let v = v.as_f64();
        total += v * v;
    }
    total
}

/// The number of [`BLOCK`]-element chunks a tensor of `len` elements has
/// (one slot each in a gradient-norm walk).
pub(crate) fn n_chunks(len: usize) -> usize {
    len.div_ceil(BLOCK)
}

/// The global L2 norm of every gradient in `grads`: each tensor in
/// [`BLOCK`]-element chunks from its start, each chunk's sum of squares in
/// the gradient's precision over 32 lanes (redone in `f64` if that
/// overflows), the chunks added in `f64` in order, then the tensors in id
/// order, then the square root. This is the value
/// [`Optimizer::step_with_grad_norm`](crate::Optimizer::step_with_grad_norm)
/// reports, bit for bit, on any number of threads.
///
/// It is NaN or infinite when a gradient is; a huge finite gradient may
/// also square to infinity in `f64`
/// ([`Grads::all_finite`] tells the two apart).
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::grad_norm;
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f32>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::zeros(1, 2))?;
/// store.grad_mut(w).copy_from_slice(&[3.0, 4.0]);
/// assert_eq!(grad_norm(store.grads()), 5.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn grad_norm<S: Scalar>(grads: &Grads<S>) -> f64 {
    grads
        .iter()
        .map(|(_, g)| tensor_sq_sum(g.as_slice()))
        .sum::<f64>()
        .sqrt()
}

/// One tensor's sum of squares: its chunks' sums, added in order.
fn tensor_sq_sum<S: Scalar>(g: &[S]) -> f64 {
    g.chunks(BLOCK).map(chunk_sq_sum).sum()
}

/// One tensor's share of a step: its state view, gradient and parameter,
/// and, when the step measures the gradient norm, one slot per chunk for
/// the chunk's sum of squares.
struct Work<'a, S, V> {
    view: V,
    grad: &'a [S],
    param: &'a mut [S],
    sq: Option<&'a mut [f64]>,
}

impl<'a, S, V: SplitAt> Work<'a, S, V> {
    /// Splits at `mid`, a multiple of [`BLOCK`] (so both halves start at a
    /// chunk boundary of the tensor).
    fn split_at(self, mid: usize) -> (Self, Self) {
        debug_assert_eq!(mid % BLOCK, 0);
        let (v0, v1) = self.view.split_at(mid);
        let (g0, g1) = self.grad.split_at(mid);
        let (p0, p1) = self.param.split_at_mut(mid);
        let (s0, s1) = match self.sq {
            Some(sq) => {
                let (s0, s1) = sq.split_at_mut(mid / BLOCK);
                (Some(s0), Some(s1))
            }
            None => (None, None),
        };
        (
            Work {
                view: v0,
                grad: g0,
                param: p0,
                sq: s0,
            },
            Work {
                view: v1,
                grad: g1,
                param: p1,
                sq: s1,
            },
        )
    }
}

/// One parameter group as [`apply`] walks it: its transform and state, the
/// parameters it updates, and its scratch blocks (one per piece).
pub(crate) struct Group<'a, S: Scalar, T: BlockTransform<S>> {
    /// The group's transform.
    pub(crate) t: &'a T,
    /// Its state.
    pub(crate) state: &'a mut T::State,
    /// Which parameters of the store it updates, by id.
    pub(crate) mask: &'a [bool],
    /// Reused block buffers, one per piece of a threaded step.
    pub(crate) scratch: &'a mut Vec<Vec<S>>,
}

/// One optimizer step of one group: reads `grads` (left intact), runs every
/// stage block by block in a scratch buffer and adds the result to `params`.
///
/// With `sq` (one slot per chunk of every tensor of the store, tensors in id
/// order, see [`n_chunks`]), each gradient chunk's sum of squares
/// ([`chunk_sq_sum`]) is written to its slot as the walk reads the chunk;
/// slots of tensors outside `mask` are left as they are.
pub(crate) fn apply<S: Scalar, T: BlockTransform<S>>(
    group: Group<'_, S, T>,
    params: &mut Params<S>,
    grads: &Grads<S>,
    ctx: &StepCtx,
    par: &Parallelism,
    mut sq: Option<&mut [f64]>,
) {
    let Group {
        t,
        state,
        mask,
        scratch,
    } = group;
    let coefs = t.prepare(state, Tensors::Grads(grads), params, Mask::new(mask), ctx);
    let total: usize = params
        .iter()
        .filter(|(id, _, _)| mask[id.index()])
        .map(|(_, _, v)| v.len())
        .sum();
    // At most what the pool can use now (one thread while another process
    // is taking a core from it: `descent_core::threads`, "A busy machine").
    let threads = if descent_core::threads::backing_off() {
        1
    } else {
        par.threads_for(total)
    };
    // Several pieces per thread, taken by whichever thread is free: a
    // thread that starts late (a sleeping core takes a while to wake inside
    // a VM) leaves its pieces to the others instead of stretching the step
    // (bench W5, Adam at 2 threads: 7.9 ms with one piece per thread, 6.3 ms
    // with eight).
    let pieces = if threads <= 1 {
        1
    } else {
        threads * PIECES_PER_THREAD
    };
    if scratch.len() < pieces {
        scratch.resize_with(pieces, || vec![S::zero(); BLOCK]);
    }
    let works = params
        .values_mut()
        .zip(grads.iter())
        .zip(t.views(state))
        .map(move |(((id, p), (_, g)), view)| {
            // This tensor's slots, taken in id order whether or not it is walked.
            let slots = sq.take().map(|all| {
                let (mine, rest) = all.split_at_mut(n_chunks(g.len()));
                sq = Some(rest);
                mine
            });
            (id, p, g, view, slots)
        })
        .filter(|(id, ..)| mask[id.index()])
        .map(|(_, p, g, view, slots)| Work {
            view,
            grad: g.as_slice(),
            param: p.as_mut_slice(),
            sq: slots,
        });
    if threads <= 1 {
        for w in works {
            run(t, &coefs, w, &mut scratch[0]);
        }
        return;
    }
    // A pool (descent's, of `num_threads` threads, which bounds how many
    // pieces run at once), not threads spawned per step: creating and ending
    // a thread maps and unmaps its stack, and the unmapping interrupts every
    // core to flush its TLB, which inside a VM cost more than the step.
    let coefs = &coefs;
    // Each piece's tensor shares and its scratch block, taken by index.
    let pieces: Vec<Mutex<_>> = distribute(works, total, pieces)
        .into_iter()
        .zip(scratch.iter_mut())
        .map(Mutex::new)
        .collect();
    let region = descent_core::threads::Region::new();
    // The calling thread takes pieces too (`run_blocks`).
    descent_core::threads::run_blocks(pieces.len(), threads, |i| {
        let mut piece = pieces[i].lock().unwrap_or_else(PoisonError::into_inner);
        let (list, buf) = &mut *piece;
        let list = std::mem::take(list);
        let units = list.iter().map(|w| w.grad.len()).sum();
        region.time(units, || {
            list.into_iter().for_each(|w| run(t, coefs, w, buf))
        })
    });
    region.finish();
}

/// Pieces of a threaded step per thread (see [`apply`]).
const PIECES_PER_THREAD: usize = 8;

/// Cuts the concatenated work into `threads` contiguous shares of about
/// equal size (the pieces of a threaded step), splitting a tensor only at a
/// multiple of [`BLOCK`] from its start, so that a walk's blocks are the
/// tensor's chunks on any number of threads.
/// (The lists are the only allocation of a threaded step: a few words per tensor.)
fn distribute<'a, S, V: SplitAt>(
    works: impl Iterator<Item = Work<'a, S, V>>,
    total: usize,
    threads: usize,
) -> Vec<Vec<Work<'a, S, V>>> {
    let share = total.div_ceil(threads);
    let mut lists: Vec<Vec<Work<'a, S, V>>> = (0..threads).map(|_| Vec::new()).collect();
    let (mut which, mut room) = (0, share);
    for mut w in works {
        while w.grad.len() > room && which + 1 < threads {
            let (head, tail) = w.split_at(room - room % BLOCK);
            if !head.grad.is_empty() {
                lists[which].push(head);
            }
            w = tail;
            which += 1;
            room = share;
        }
        room = room.saturating_sub(w.grad.len());
        lists[which].push(w);
    }
    lists
}

/// Runs all stages over one tensor share, block by block, and applies the
/// update; compiled a second time for AVX2 + FMA, chosen at run time. (Rust
/// never contracts `a * b + c` into an FMA, so both give identical results.)
fn run<S: Scalar, T: BlockTransform<S>>(
    t: &T,
    coefs: &T::Coefs,
    w: Work<'_, S, T::View<'_>>,
    scratch: &mut [S],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above.
        unsafe { run_avx2(t, coefs, w, scratch) };
        return;
    }
    run_portable(t, coefs, w, scratch);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2<S: Scalar, T: BlockTransform<S>>(
    t: &T,
    coefs: &T::Coefs,
    w: Work<'_, S, T::View<'_>>,
    scratch: &mut [S],
) {
    run_portable(t, coefs, w, scratch);
}

#[inline(always)]
fn run_portable<S: Scalar, T: BlockTransform<S>>(
    t: &T,
    coefs: &T::Coefs,
    w: Work<'_, S, T::View<'_>>,
    scratch: &mut [S],
) {
    let Work {
        mut view,
        mut grad,
        mut param,
        mut sq,
    } = w;
    while !grad.is_empty() {
        let n = grad.len().min(BLOCK);
        let (mut v_head, v_tail) = view.split_at(n);
        view = v_tail;
        let (g_head, g_tail) = grad.split_at(n);
        grad = g_tail;
        if let Some(slots) = sq.take() {
            // Blocks start at the tensor's chunk boundaries (see `distribute`).
            let (slot, rest) = slots.split_at_mut(1);
            slot[0] = chunk_sq_sum(g_head);
            sq = Some(rest);
        }
        let (p_head, p_tail) = std::mem::take(&mut param).split_at_mut(n);
        param = p_tail;
        let u = &mut scratch[..n];
        t.apply_block_from(coefs, &mut v_head, g_head, u, p_head);
        for (p, u) in p_head.iter_mut().zip(u.iter()) {
            *p += *u;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::store_of;
    use crate::transform::{
        NormType, add_decayed_weights, chain, clip_by_global_norm, scale_by_learning_rate,
    };
    use crate::{AdamWConfig, Optimizer};
    use proptest::collection::vec;
    use proptest::prelude::*;

    fn steps(
        opt: &mut Optimizer<f64>,
        store: &mut descent_core::ParamStore<f64>,
        n: usize,
    ) -> Vec<f64> {
        for k in 0..n {
            let (params, grads) = store.split_mut();
            for ((_, p), (_, g)) in params.values_mut().zip(grads.iter_mut()) {
                g.zip_apply(p, |g, p| *g = (p * 1.7 + k as f64).sin());
            }
            opt.step(store).unwrap();
        }
        store
            .iter()
            .flat_map(|(_, _, v)| v.iter().copied().collect::<Vec<_>>())
            .collect()
    }

    /// An `f32` chunk sums its squares in `f32` (within 1e-6 of the `f64`
    /// sum), and one whose `f32` sum overflows is redone in `f64`: a norm is
    /// infinite only where the `f64` sum of squares is.
    #[test]
    fn f32_chunks_are_close_to_f64_and_overflow_falls_back_to_f64() {
        let g: Vec<f32> = (0..BLOCK + 77)
            .map(|k| ((k * 37 % 101) as f32 - 50.0) * 0.013)
            .collect();
        let exact: f64 = g.iter().map(|&v| (v as f64) * (v as f64)).sum();
        let got = tensor_sq_sum(&g);
        assert!((got - exact).abs() <= 1e-6 * exact, "{got} vs {exact}");
        // 1e20² overflows f32 but not f64.
        let huge = vec![1e20f32; 300];
        let got = tensor_sq_sum(&huge);
        let want = 300.0 * (1e20f32 as f64).powi(2);
        assert!(got.is_finite() && (got - want).abs() <= 1e-12 * want);
        let nan = [1.0f32, f32::NAN, 2.0];
        assert!(tensor_sq_sum(&nan).is_nan());
        assert_eq!(tensor_sq_sum(&[f32::INFINITY, 1.0]), f64::INFINITY);
        // In f64 the lanes are f64: exact for small integers.
        assert_eq!(tensor_sq_sum(&[3.0f64, 4.0, 12.0]), 169.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Splitting tensors across threads and blocks changes nothing, bit for bit.
        #[test]
        fn threaded_steps_equal_serial_steps_exactly(
            sizes in vec(1usize..3 * BLOCK, 1..6),
            threads in 2usize..5,
        ) {
            let values: Vec<Vec<f64>> = sizes.iter().enumerate()
                .map(|(i, &n)| (0..n).map(|j| ((i * 31 + j) % 17) as f64 * 0.1 - 0.8).collect())
                .collect();
            let run = |par: Parallelism| {
                let mut store = store_of(&values);
                let mut opt = AdamWConfig { lr: 0.01, ..AdamWConfig::default() }.build(&store).unwrap();
                opt.set_parallelism(par);
                steps(&mut opt, &mut store, 3)
            };
            let serial = run(descent_testkit::exact_parallelism(1));
            let threaded = run(descent_testkit::exact_parallelism(threads));
            prop_assert_eq!(serial, threaded);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// The norm a step measures is `grad_norm` of the gradients it read,
        /// bit for bit, on any thread count, parameters outside every group
        /// included; and the step is the one `step` takes.
        #[test]
        fn a_measured_step_reports_grad_norm_exactly_and_steps_the_same(
            sizes in vec(1usize..3 * BLOCK, 1..6),
            threads in 1usize..5,
            skip_first in any::<bool>(),
        ) {
            use crate::Selector;
            use crate::transform::{chain, scale_by_learning_rate, trace};
            let values: Vec<Vec<f64>> = sizes.iter().enumerate()
                .map(|(i, &n)| (0..n).map(|j| ((i * 31 + j) % 17) as f64 * 0.1 - 0.8).collect())
                .collect();
            let run = |measure: bool| {
                let mut store = crate::testing::store_of(&values);
                let selector = if skip_first {
                    Selector::name("p0").not()
                } else {
                    Selector::All
                };
                let mut opt = Optimizer::builder(store.params())
                    .group(&selector, 0.01, chain((trace(0.9, 0.0, false), scale_by_learning_rate())))
                    .unwrap()
                    .build()
                    .unwrap();
                opt.set_parallelism(descent_testkit::exact_parallelism(threads));
                let mut norms = Vec::new();
                for k in 0..3 {
                    let (params, grads) = store.split_mut();
                    for ((_, p), (_, g)) in params.values_mut().zip(grads.iter_mut()) {
                        g.zip_apply(p, |g, p| *g = (p * 1.7 + k as f64).sin());
                    }
                    let want = grad_norm(store.grads());
                    if measure {
                        norms.push((opt.step_with_grad_norm(&mut store).unwrap(), want));
                    } else {
                        opt.step(&mut store).unwrap();
                    }
                }
                let flat: Vec<f64> = store.iter().flat_map(|(_, _, v)| v.iter().copied().collect::<Vec<_>>()).collect();
                (flat, norms)
            };
            let (measured, norms) = run(true);
            let (plain, _) = run(false);
            prop_assert_eq!(measured, plain);
            for (got, want) in norms {
                prop_assert_eq!(got.to_bits(), want.to_bits());
            }
        }
    }

    #[test]
    fn grad_norm_is_nan_or_infinite_with_a_non_finite_gradient() {
        let mut store = crate::testing::store_of(&[vec![1.0; 700], vec![2.0; 3]]);
        assert_eq!(grad_norm(store.grads()), 0.0);
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let id = store.params().iter().next().unwrap().0;
            store.grad_mut(id)[(0, 600)] = bad;
            assert!(!grad_norm(store.grads()).is_finite(), "{bad}");
        }
    }

    #[test]
    fn a_clip_after_other_stages_sees_their_output() {
        // chain(decay, clip, lr): the norm is taken of g + λp, not of g.
        let values = vec![vec![1.0, -2.0, 0.5], vec![3.0; 5000]];
        let mut store = store_of(&values);
        let (wd, max_norm, lr) = (0.3, 0.7, 0.1);
        let t = chain((
            add_decayed_weights(wd),
            clip_by_global_norm(max_norm, NormType::L2),
            scale_by_learning_rate(),
        ));
        let mut opt = Optimizer::new(&store, lr, t).unwrap();
        let got = steps(&mut opt, &mut store, 2);
        let mut want = values.clone();
        for k in 0..2 {
            let u: Vec<Vec<f64>> = want
                .iter()
                .map(|v| {
                    v.iter()
                        .map(|&p| (p * 1.7 + k as f64).sin() + wd * p)
                        .collect()
                })
                .collect();
            let norm = u.iter().flatten().map(|x| x * x).sum::<f64>().sqrt();
            let c = (max_norm / (norm + 1e-6)).min(1.0);
            for (v, u) in want.iter_mut().zip(&u) {
                v.iter_mut().zip(u).for_each(|(p, u)| *p -= lr * c * u);
            }
        }
        let want: Vec<f64> = want.into_iter().flatten().collect();
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-12, "{g} vs {w}");
        }
    }
}
