use crate::gradcheck::check_gradients;
use crate::{Conv2dGeometry, ImageShape, Tape};
use descent_core::{ParamStore, Tags};
use descent_testkit::panic_message;
use descent_testkit::strategies::matrix_of;
use nalgebra::DMatrix;
use proptest::prelude::*;

/// A small convolution: batch size, input shape, output channels, config, bias.
#[derive(Clone, Debug)]
struct Case {
    n: usize,
    shape: ImageShape,
    c_out: usize,
    cfg: Conv2dGeometry,
    bias: bool,
}

fn cases() -> impl Strategy<Value = Case> {
    let pair = |lo: usize, hi: usize| (lo..=hi, lo..=hi);
    (
        (1usize..=2, 1usize..=3, 1usize..=3),
        pair(3, 7),
        pair(1, 3),
        pair(1, 2),
        pair(0, 1),
        pair(1, 2),
        any::<bool>(),
    )
        .prop_map(|((n, c_in, c_out), (h, w), k, s, p, d, bias)| Case {
            n,
            shape: ImageShape::new(c_in, h, w),
            c_out,
            cfg: Conv2dGeometry::new(k.0, k.1)
                .stride(s.0, s.1)
                .padding(p.0, p.1)
                .dilation(d.0, d.1),
            bias,
        })
        .prop_filter("the dilated kernel must fit the padded input", |c| {
            let fits = |len: usize, k: usize, p: usize, d: usize| len + 2 * p > d * (k - 1);
            let cfg = &c.cfg;
            fits(c.shape.h, cfg.kernel_size.0, cfg.padding.0, cfg.dilation.0)
                && fits(c.shape.w, cfg.kernel_size.1, cfg.padding.1, cfg.dilation.1)
        })
}

/// A case with its input, weight and bias.
fn operands() -> impl Strategy<Value = (Case, Vec<DMatrix<f64>>)> {
    cases().prop_flat_map(|c| {
        let (kh, kw) = c.cfg.kernel_size;
        let x = matrix_of(c.n, c.shape.len(), -2.0, 2.0);
        let w = matrix_of(c.c_out, c.shape.c * kh * kw, -1.0, 1.0);
        let b = matrix_of(1, c.c_out, -1.0, 1.0);
        (Just(c), x, w, b).prop_map(|(c, x, w, b)| {
            let ops = if c.bias { vec![x, w, b] } else { vec![x, w] };
            (c, ops)
        })
    })
}

/// PyTorch's definition, one output element at a time.
fn direct(c: &Case, x: &DMatrix<f64>, w: &DMatrix<f64>, b: Option<&DMatrix<f64>>) -> DMatrix<f64> {
    let ImageShape { c: c_in, h, w: wd } = c.shape;
    let ((kh, kw), (sh, sw), (ph, pw), (dh, dw)) = (
        c.cfg.kernel_size,
        c.cfg.stride,
        c.cfg.padding,
        c.cfg.dilation,
    );
    let oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
    let ow = (wd + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
    DMatrix::from_fn(c.n, c.c_out * oh * ow, |n, j| {
        let (co, oy, ox) = (j / (oh * ow), j / ow % oh, j % ow);
        let mut acc = b.map_or(0.0, |b| b[co]);
        for ci in 0..c_in {
            for ky in 0..kh {
                for kx in 0..kw {
                    let iy = (oy * sh + ky * dh) as isize - ph as isize;
                    let ix = (ox * sw + kx * dw) as isize - pw as isize;
                    if (0..h as isize).contains(&iy) && (0..wd as isize).contains(&ix) {
                        let xv = x[(n, (ci * h + iy as usize) * wd + ix as usize)];
                        acc += xv * w[(co, (ci * kh + ky) * kw + kx)];
                    }
                }
            }
        }
        acc
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn conv2d_gradients_match_finite_differences((c, ops) in operands()) {
        let (shape, cfg) = (c.shape, c.cfg);
        check_gradients(&ops, |_t, v| {
            v[0].as_image(shape).conv2d(v[1], c.bias.then(|| v[2]), &cfg)
        })
        .map_err(TestCaseError::fail)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn conv2d_matches_a_direct_convolution((c, ops) in operands()) {
        let tape = Tape::<f64>::new();
        let x = tape.constant_image(&ops[0], c.shape);
        let (w, b) = (tape.constant(&ops[1]), ops.get(2).map(|b| tape.constant(b)));
        let y = x.conv2d(w, b, &c.cfg);
        let want = direct(&c, &ops[0], &ops[1], ops.get(2));
        prop_assert_eq!(y.shape(), want.shape());
        prop_assert!((y.value() - &want).amax() < 1e-12);
        let img = y.image().expect("conv2d records its output shape");
        prop_assert_eq!((img.c, img.h * img.w * img.c), (c.c_out, want.ncols()));
    }
}

/// One 1×3×3 image holding 1..9 and the 2×2 kernel [[1, 2], [3, 4]].
fn one_to_nine() -> (DMatrix<f64>, DMatrix<f64>) {
    let x = DMatrix::from_fn(1, 9, |_, j| (j + 1) as f64);
    (x, DMatrix::from_row_slice(1, 4, &[1.0, 2.0, 3.0, 4.0]))
}

#[test]
fn conv2d_matches_hand_computed_values() {
    let (x, w) = one_to_nine();
    let tape = Tape::<f64>::new();
    let xi = tape.constant_image(&x, ImageShape::new(1, 3, 3));
    let (wv, b) = (
        tape.constant(&w),
        tape.constant(&DMatrix::from_element(1, 1, 1.0)),
    );
    // [1 2; 4 5]·[1 2; 3 4] = 1 + 4 + 12 + 20 = 37, and so on, plus the bias.
    let y = xi.conv2d(wv, Some(b), &Conv2dGeometry::new(2, 2));
    assert_eq!(y.value().as_slice(), &[38.0, 48.0, 68.0, 78.0]);
    // Padding 1, stride 2: windows start at -1 and 1 on both axes.
    // (0,0) sees only x=1 under w=4; (0,1) sees 2·3 + 3·4; (1,0) 4·2 + 7·4.
    let y = xi.conv2d(
        wv,
        None,
        &Conv2dGeometry::new(2, 2).stride(2, 2).padding(1, 1),
    );
    assert_eq!(y.value().as_slice(), &[4.0, 18.0, 36.0, 77.0]);
    // Dilation 2 on a 3×3 input: the corners only, 1·1 + 3·2 + 7·3 + 9·4.
    let y = xi.conv2d(wv, None, &Conv2dGeometry::new(2, 2).dilation(2, 2));
    assert_eq!(y.value().as_slice(), &[64.0]);
}

#[test]
fn conv2d_gradients_match_hand_computed_values() {
    let (x, w) = one_to_nine();
    let tape = Tape::<f64>::new();
    let xi = tape.leaf_image(&x, ImageShape::new(1, 3, 3));
    let (wv, b) = (
        tape.leaf_var(&w),
        tape.leaf_var(&DMatrix::from_element(1, 1, 0.0)),
    );
    let loss = xi.conv2d(wv, Some(b), &Conv2dGeometry::new(2, 2)).sum();
    tape.backward(loss, &mut ParamStore::new());
    // Each weight sums the 2×2 block of inputs it slides over.
    assert_eq!(tape.grad(wv).unwrap().as_slice(), &[12.0, 16.0, 24.0, 28.0]);
    assert_eq!(tape.grad(b).unwrap().as_slice(), &[4.0]);
    // Each input pixel collects the weights that touch it.
    let want = [1.0, 3.0, 2.0, 4.0, 10.0, 6.0, 3.0, 7.0, 4.0];
    assert_eq!(tape.grad(xi).unwrap().as_slice(), &want);
}

#[test]
fn conv2d_in_f32_agrees_with_f64() {
    let x = DMatrix::from_fn(2, 3 * 5 * 6, |i, j| {
        ((i * 31 + j * 7) % 13) as f64 / 6.0 - 1.0
    });
    let w = DMatrix::from_fn(4, 3 * 3 * 2, |i, j| {
        ((i * 5 + j * 3) % 7) as f64 / 3.5 - 1.0
    });
    let (shape, cfg) = (
        ImageShape::new(3, 5, 6),
        Conv2dGeometry::new(3, 2).padding(1, 0).stride(1, 2),
    );
    let t64 = Tape::<f64>::new();
    let y64 = t64
        .constant_image(&x, shape)
        .conv2d(t64.constant(&w), None, &cfg)
        .value();
    let t32 = Tape::<f32>::new();
    let (x32, w32) = (x.map(|v| v as f32), w.map(|v| v as f32));
    let y32 = t32
        .constant_image(&x32, shape)
        .conv2d(t32.constant(&w32), None, &cfg)
        .value();
    assert!((y32.map(f64::from) - y64).amax() < 1e-5);
}

#[test]
fn conv2d_training_step_takes_no_fresh_buffers_in_steady_state() {
    let mut store = ParamStore::<f32>::new();
    let w = store
        .register(
            "conv.weight",
            Tags::WEIGHT,
            DMatrix::from_element(4, 2 * 9, 0.1),
        )
        .unwrap();
    let b = store
        .register("conv.bias", Tags::BIAS, DMatrix::zeros(1, 4))
        .unwrap();
    let x = DMatrix::from_fn(3, 2 * 36, |i, j| (i + j) as f32 / 50.0);
    let mut tape = Tape::new();
    let mut fresh = Vec::new();
    for _ in 0..3 {
        tape.reset();
        store.zero_grad();
        let xi = tape.leaf_image(&x, ImageShape::new(2, 6, 6));
        let y = xi.conv2d(
            tape.param(&store, w),
            Some(tape.param(&store, b)),
            &Conv2dGeometry::new(3, 3).padding(1, 1),
        );
        let loss = (y * y).sum();
        tape.backward(loss, &mut store);
        fresh.push(tape.fresh_buffers());
    }
    assert_eq!(fresh[1], fresh[2], "fresh buffers per step: {fresh:?}");
}

#[test]
fn conv2d_computes_only_the_gradients_asked_for() {
    let x = DMatrix::from_fn(2, 2 * 4 * 5, |i, j| ((i * 3 + j * 5) % 7) as f64 - 3.0);
    let w = DMatrix::from_fn(3, 2 * 2 * 3, |i, j| ((i + j * 2) % 5) as f64 / 2.0 - 1.0);
    let (shape, cfg) = (
        ImageShape::new(2, 4, 5),
        Conv2dGeometry::new(2, 3).padding(1, 1),
    );
    // Constants get no gradient and leave the other gradient unchanged.
    let grads = |x_leaf: bool, w_leaf: bool| {
        let tape = Tape::<f64>::new();
        let xv = if x_leaf {
            tape.leaf_image(&x, shape)
        } else {
            tape.constant_image(&x, shape)
        };
        let wv = if w_leaf {
            tape.leaf_var(&w)
        } else {
            tape.constant(&w)
        };
        let y = xv.conv2d(wv, None, &cfg);
        tape.backward((y * y).sum(), &mut ParamStore::new());
        (tape.grad(xv), tape.grad(wv))
    };
    let (gx, gw) = grads(true, true);
    assert_eq!(grads(false, true), (None, gw));
    assert_eq!(grads(true, false), (gx, None));
    assert_eq!(grads(false, false), (None, None));
}

#[test]
fn conv2d_panics_name_the_op_and_the_shapes() {
    let tape = Tape::<f64>::new();
    let x = DMatrix::zeros(1, 2 * 4 * 4);
    let cfg = Conv2dGeometry::new(3, 3);
    let no_image = panic_message(|| {
        tape.constant(&x)
            .conv2d(tape.constant(&DMatrix::zeros(1, 18)), None, &cfg);
    });
    assert!(
        no_image.contains("conv2d") && no_image.contains("no image shape"),
        "{no_image}"
    );
    let img = tape.constant_image(&x, ImageShape::new(2, 4, 4));
    let bad_w = panic_message(|| {
        img.conv2d(tape.constant(&DMatrix::zeros(3, 9)), None, &cfg);
    });
    assert!(
        bad_w.contains("conv2d") && bad_w.contains("3x9") && bad_w.contains("x 18"),
        "{bad_w}"
    );
    let w = tape.constant(&DMatrix::zeros(3, 18));
    let bad_b = panic_message(|| {
        img.conv2d(w, Some(tape.constant(&DMatrix::zeros(3, 1))), &cfg);
    });
    assert!(
        bad_b.contains("conv2d") && bad_b.contains("bias is 3x1"),
        "{bad_b}"
    );
    let too_big = panic_message(|| {
        img.conv2d(w, None, &cfg.dilation(2, 2));
    });
    assert!(
        too_big.contains("conv2d") && too_big.contains("4x4"),
        "{too_big}"
    );
}

#[test]
fn conv2d_accepts_an_empty_batch() {
    let tape = Tape::<f64>::new();
    let x = tape.leaf_image(&DMatrix::zeros(0, 2 * 5 * 5), ImageShape::new(2, 5, 5));
    let w = tape.leaf_var(&DMatrix::from_element(3, 2 * 9, 1.0));
    let b = tape.leaf_var(&DMatrix::from_element(1, 3, 1.0));
    let y = x.conv2d(w, Some(b), &Conv2dGeometry::new(3, 3).padding(1, 1));
    assert_eq!(y.shape(), (0, 3 * 25));
    tape.backward(y.sum(), &mut ParamStore::new());
    assert_eq!(tape.grad(w).unwrap(), DMatrix::zeros(3, 18));
    assert_eq!(tape.grad(b).unwrap(), DMatrix::zeros(1, 3));
}
