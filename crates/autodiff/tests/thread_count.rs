//! Results are bit-for-bit the same on any number of threads: a matrix
//! product sums each output element over `k` on one thread in one order, and
//! elementwise, im2col and pooling loops split into blocks that compute each
//! element as one thread would. Its own test binary, because the thread
//! setting is process-wide.

use descent_autodiff::{Conv2dGeometry, ImageShape, MaxPool2dConfig, Tape};
use descent_core::ParamStore;
use descent_core::threads::set_num_threads;
use nalgebra::DMatrix;
use std::sync::Mutex;

/// The thread setting is process-wide: tests that change it take turns.
static SETTING: Mutex<()> = Mutex::new(());

/// `(m, k, n)` for each kernel path, each large enough to be threaded:
/// matrixmultiply split by rows (`m ≥ n`, tall and skinny included) and by
/// columns (`n > m`); the `gemm` crate for reduction-shaped (large `k`) and
/// small products. The backward pass adds the transposed forms.
const SHAPES: [(usize, usize, usize); 6] = [
    (300, 200, 100),
    (100, 200, 400),
    (20_000, 20, 10),
    (4_099, 144, 32),
    (16, 40_000, 27),
    (100, 50, 100),
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
    let _turn = SETTING.lock().unwrap_or_else(|e| e.into_inner());
    descent_testkit::exact_thread_counts();
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

/// A convolution stage as in the W3 workload (conv3×3 pad 1 with bias, ReLU,
/// max-pool 2) on a batch large enough that every loop is split: its output
/// and the gradients of the input, weight and bias.
fn conv_stage(x: &DMatrix<f32>, w: &DMatrix<f32>, b: &DMatrix<f32>) -> Vec<Option<DMatrix<f32>>> {
    let tape = Tape::<f32>::new();
    let xi = tape.leaf_image(x, ImageShape::new(3, 32, 32));
    let (wv, bv) = (tape.leaf_var(w), tape.leaf_var(b));
    let y = xi
        .conv2d(wv, Some(bv), &Conv2dGeometry::new(3, 3).padding(1, 1))
        .relu()
        .max_pool2d(&MaxPool2dConfig::new(2, 2));
    let out = y.value();
    let g = filled(out.nrows(), out.ncols(), 9);
    tape.backward_with(y, &g, &mut ParamStore::new());
    vec![Some(out), tape.grad(xi), tape.grad(wv), tape.grad(bv)]
}

#[test]
fn convolution_stages_do_not_depend_on_the_thread_count() {
    let _turn = SETTING.lock().unwrap_or_else(|e| e.into_inner());
    descent_testkit::exact_thread_counts();
    let (x, w, b) = (
        filled(64, 3 * 32 * 32, 4),
        filled(16, 27, 5),
        filled(1, 16, 6),
    );
    set_num_threads(1);
    let one = conv_stage(&x, &w, &b);
    assert!(one.iter().all(Option::is_some));
    for threads in [2, 3] {
        set_num_threads(threads);
        let many = conv_stage(&x, &w, &b);
        for (i, what) in ["output", "grad x", "grad w", "grad b"]
            .into_iter()
            .enumerate()
        {
            assert!(
                one[i] == many[i],
                "{what} differs between 1 and {threads} threads"
            );
        }
    }
    set_num_threads(0);
}
