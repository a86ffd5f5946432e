//! A matrix product, forward and backward, is bit-for-bit the same on any
//! number of threads: each output element is summed over `k` by one thread
//! in one order. Its own test binary, because the thread setting is
//! process-wide.

use descent_autodiff::Tape;
use descent_core::ParamStore;
use descent_core::threads::set_num_threads;
use nalgebra::DMatrix;

/// `(m, k, n)` for each kernel path: square-ish and reduction-shaped go to
/// the `gemm` crate, tall and skinny to matrixmultiply split by rows; each
/// is large enough to be threaded.
const SHAPES: [(usize, usize, usize); 4] = [
    (300, 200, 100),
    (16, 40_000, 27),
    (20_000, 20, 10),
    (4_099, 144, 32),
];

fn filled(rows: usize, cols: usize, seed: u32) -> DMatrix<f32> {
    let mut x = seed;
    DMatrix::from_fn(rows, cols, |_, _| {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (x >> 8) as f32 / 16_777_216.0 - 0.5
    })
}

/// The product `a·bᵀ` and its operands' gradients for the output gradient `g`.
fn run(a: &DMatrix<f32>, b: &DMatrix<f32>, g: &DMatrix<f32>) -> [Option<DMatrix<f32>>; 3] {
    let tape = Tape::<f32>::new();
    let (va, vb) = (tape.leaf_var(a), tape.leaf_var(b));
    let y = va.matmul_t(vb);
    tape.backward_with(y, g, &mut ParamStore::new());
    [Some(y.value()), tape.grad(va), tape.grad(vb)]
}

#[test]
fn products_do_not_depend_on_the_thread_count() {
    for (m, k, n) in SHAPES {
        let (a, b, w) = (filled(m, k, 1), filled(n, k, 2), filled(m, n, 3));
        set_num_threads(1);
        let one = run(&a, &b, &w);
        for threads in [2, 3] {
            set_num_threads(threads);
            let many = run(&a, &b, &w);
            for (i, what) in ["product", "grad a", "grad b"].into_iter().enumerate() {
                assert!(one[i].is_some(), "{m}x{k}x{n}: no {what}");
                assert!(
                    one[i] == many[i],
                    "{m}x{k}x{n}: {what} differs between 1 and {threads} threads"
                );
            }
        }
    }
    set_num_threads(0);
}
