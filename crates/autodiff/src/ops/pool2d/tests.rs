use crate::gradcheck::check_gradients;
use crate::{AvgPool2dConfig, ImageShape, MaxPool2dConfig, Tape};
use descent_core::ParamStore;
use descent_testkit::panic_message;
use descent_testkit::strategies::{distinct_matrix, matrix_of};
use nalgebra::DMatrix;
use proptest::prelude::*;

/// A small pooling problem: batch size, input shape and window parameters
/// `(kernel, stride, padding, dilation)`, plus the flags.
#[derive(Clone, Debug)]
struct Case {
    n: usize,
    shape: ImageShape,
    win: [(usize, usize); 4],
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: Option<usize>,
}

impl Case {
    fn max(&self) -> MaxPool2dConfig {
        let [k, s, p, d] = self.win;
        MaxPool2dConfig::new(k.0, k.1)
            .stride(s.0, s.1)
            .padding(p.0, p.1)
            .dilation(d.0, d.1)
            .ceil_mode(self.ceil_mode)
    }

    fn avg(&self) -> AvgPool2dConfig {
        let [k, s, p, _] = self.win;
        let cfg = AvgPool2dConfig::new(k.0, k.1)
            .stride(s.0, s.1)
            .padding(p.0, p.1)
            .ceil_mode(self.ceil_mode)
            .count_include_pad(self.count_include_pad);
        match self.divisor_override {
            Some(d) => cfg.divisor_override(d),
            None => cfg,
        }
    }

    /// PyTorch's output size along one axis, or `None` if the output is empty.
    fn out_size(&self, len: usize, axis: usize, dilated: bool) -> Option<usize> {
        let pick = |p: (usize, usize)| [p.0, p.1][axis] as isize;
        let [k, s, p, d] = self.win.map(pick);
        let d = if dilated { d } else { 1 };
        let len = len as isize;
        let mut out =
            (len + 2 * p - d * (k - 1) - 1 + if self.ceil_mode { s - 1 } else { 0 }) / s + 1;
        if self.ceil_mode && (out - 1) * s >= len + p {
            out -= 1;
        }
        (len + 2 * p > d * (k - 1) && out >= 1).then_some(out as usize)
    }
}

/// Cases valid for max pooling (`dilated`) or average pooling (no dilation).
fn cases(dilated: bool) -> impl Strategy<Value = Case> {
    let pair = |lo: usize, hi: usize| (lo..=hi, lo..=hi);
    (
        (1usize..=2, 1usize..=3, pair(3, 7)),
        (pair(1, 3), pair(1, 2), pair(0, 1), pair(1, 2)),
        (any::<bool>(), any::<bool>(), prop::option::of(1usize..=5)),
    )
        .prop_map(
            move |((n, c, (h, w)), (k, s, p, d), (ceil_mode, cip, div))| Case {
                n,
                shape: ImageShape::new(c, h, w),
                // PyTorch allows padding up to half the kernel.
                win: [
                    k,
                    s,
                    (p.0.min(k.0 / 2), p.1.min(k.1 / 2)),
                    if dilated { d } else { (1, 1) },
                ],
                ceil_mode,
                count_include_pad: cip,
                divisor_override: div,
            },
        )
        .prop_filter("the output must be non-empty", move |c| {
            c.out_size(c.shape.h, 0, dilated).is_some()
                && c.out_size(c.shape.w, 1, dilated).is_some()
        })
}

/// PyTorch's CPU kernels, one output element at a time.
fn direct(c: &Case, x: &DMatrix<f64>, max: bool) -> DMatrix<f64> {
    let ImageShape { c: ch, h, w } = c.shape;
    let (oh, ow) = (
        c.out_size(h, 0, max).unwrap(),
        c.out_size(w, 1, max).unwrap(),
    );
    let [(kh, kw), (sh, sw), (ph, pw), (dh, dw)] = c.win.map(|(a, b)| (a as isize, b as isize));
    let (hi, wi) = (h as isize, w as isize);
    DMatrix::from_fn(c.n, ch * oh * ow, |n, j| {
        let (cc, oy, ox) = (j / (oh * ow), (j / ow % oh) as isize, (j % ow) as isize);
        let at = |iy: isize, ix: isize| x[(n, (cc * h + iy as usize) * w + ix as usize)];
        let (y0, x0) = (oy * sh - ph, ox * sw - pw);
        if max {
            let mut best = f64::NEG_INFINITY;
            for iy in (0..kh).map(|t| y0 + t * dh).filter(|i| (0..hi).contains(i)) {
                for ix in (0..kw).map(|t| x0 + t * dw).filter(|i| (0..wi).contains(i)) {
                    best = best.max(at(iy, ix));
                }
            }
            return best;
        }
        let (y1, x1) = ((y0 + kh).min(hi + ph), (x0 + kw).min(wi + pw));
        let pool_size = (y1 - y0) * (x1 - x0);
        let (y0, x0, y1, x1) = (y0.max(0), x0.max(0), y1.min(hi), x1.min(wi));
        if y0 >= y1 || x0 >= x1 {
            return 0.0;
        }
        let sum: f64 = (y0..y1)
            .flat_map(|iy| (x0..x1).map(move |ix| at(iy, ix)))
            .sum();
        let divisor = match c.divisor_override {
            Some(d) => d as isize,
            None if c.count_include_pad => pool_size,
            None => (y1 - y0) * (x1 - x0),
        };
        sum / divisor as f64
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn max_pool2d_gradients_match_finite_differences(
        (c, x) in cases(true).prop_flat_map(|c| {
            let (n, len) = (c.n, c.shape.len());
            (Just(c), distinct_matrix(n, len, 0.05))
        })
    ) {
        let (shape, cfg) = (c.shape, c.max());
        check_gradients(&[x], |_t, v| v[0].as_image(shape).max_pool2d(&cfg))
            .map_err(TestCaseError::fail)?;
    }

    #[test]
    fn avg_pool2d_gradients_match_finite_differences(
        (c, x) in cases(false).prop_flat_map(|c| {
            let (n, len) = (c.n, c.shape.len());
            (Just(c), matrix_of(n, len, -2.0, 2.0))
        })
    ) {
        let (shape, cfg) = (c.shape, c.avg());
        check_gradients(&[x], |_t, v| v[0].as_image(shape).avg_pool2d(&cfg))
            .map_err(TestCaseError::fail)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn pools_match_pytorch_kernels_computed_directly(
        (c, x) in cases(true).prop_flat_map(|c| {
            let (n, len) = (c.n, c.shape.len());
            (Just(c), matrix_of(n, len, -2.0, 2.0))
        })
    ) {
        let tape = Tape::<f64>::new();
        let xi = tape.constant_image(&x, c.shape);
        let y = xi.max_pool2d(&c.max());
        prop_assert_eq!(y.value(), direct(&c, &x, true));
        let undilated = Case { win: [c.win[0], c.win[1], c.win[2], (1, 1)], ..c.clone() };
        let y = xi.avg_pool2d(&undilated.avg());
        prop_assert!((y.value() - direct(&undilated, &x, false)).amax() < 1e-12);
        let s = y.image().expect("pools record their output shape");
        prop_assert_eq!(s.len(), y.shape().1);
    }
}

/// PyTorch's max-pooling rule for one sample: the taps in order, keeping
/// the first maximum, a NaN counting as the maximum. Returns each output's
/// value and the input column its gradient goes to.
fn direct_argmax(c: &Case, x: &DMatrix<f32>, n: usize) -> Vec<(f32, Option<usize>)> {
    let ImageShape { c: ch, h, w } = c.shape;
    let (oh, ow) = (
        c.out_size(h, 0, true).unwrap(),
        c.out_size(w, 1, true).unwrap(),
    );
    let [(kh, kw), (sh, sw), (ph, pw), (dh, dw)] = c.win.map(|(a, b)| (a as isize, b as isize));
    let (hi, wi) = (h as isize, w as isize);
    (0..ch * oh * ow)
        .map(|j| {
            let (cc, oy, ox) = (j / (oh * ow), (j / ow % oh) as isize, (j % ow) as isize);
            let (y0, x0) = (oy * sh - ph, ox * sw - pw);
            let mut best: (f32, Option<usize>) = (f32::NEG_INFINITY, None);
            for iy in (0..kh).map(|t| y0 + t * dh).filter(|i| (0..hi).contains(i)) {
                for ix in (0..kw).map(|t| x0 + t * dw).filter(|i| (0..wi).contains(i)) {
                    let col = (cc * h + iy as usize) * w + ix as usize;
                    let v = x[(n, col)];
                    if best.1.is_none() || v > best.0 || v.is_nan() {
                        best = (v, Some(col));
                    }
                }
            }
            best
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Batches wider than the kernel's 8-lane blocks, with ties and NaNs:
    /// values and gradient routing match PyTorch's rule sample by sample.
    #[test]
    fn max_pool2d_picks_the_first_maximum_or_nan_in_wide_batches(
        (c, x) in (cases(true), 1usize..=19).prop_flat_map(|(c, n)| {
            let c = Case { n, ..c };
            let len = c.shape.len();
            let pick = prop::sample::select(vec![-1.0f32, 0.0, 1.0, 2.0, f32::NAN]);
            (Just(c), prop::collection::vec(pick, n * len))
                .prop_map(move |(c, v)| (c, DMatrix::from_vec(n, len, v)))
        })
    ) {
        let tape = Tape::<f32>::new();
        let xi = tape.leaf_image(&x, c.shape);
        let y = xi.max_pool2d(&c.max());
        let out = y.value();
        tape.backward_with(y, &DMatrix::from_element(out.nrows(), out.ncols(), 1.0), &mut ParamStore::new());
        let grad = tape.grad(xi).expect("the input is a leaf");
        let mut want_grad = DMatrix::<f32>::zeros(x.nrows(), x.ncols());
        for n in 0..c.n {
            for (j, (v, arg)) in direct_argmax(&c, &x, n).into_iter().enumerate() {
                let got = out[(n, j)];
                prop_assert!(got == v || (got.is_nan() && v.is_nan()), "sample {}, output {}: {} vs {}", n, j, got, v);
                if let Some(col) = arg {
                    want_grad[(n, col)] += 1.0;
                }
            }
        }
        prop_assert_eq!(grad, want_grad);
    }
}

fn image(values: &[f64], h: usize, w: usize) -> DMatrix<f64> {
    assert_eq!(values.len(), h * w);
    DMatrix::from_row_slice(1, h * w, values)
}

fn one_to(n: usize) -> Vec<f64> {
    (1..=n).map(|v| v as f64).collect()
}

#[test]
fn max_pool2d_matches_hand_computed_values() {
    let tape = Tape::<f64>::new();
    let x = tape.leaf_image(&image(&one_to(16), 4, 4), ImageShape::new(1, 4, 4));
    let y = x.max_pool2d(&MaxPool2dConfig::new(2, 2));
    assert_eq!(y.value().as_slice(), &[6.0, 8.0, 14.0, 16.0]);
    tape.backward(y.sum(), &mut ParamStore::new());
    let mut want = [0.0; 16];
    for i in [5, 7, 13, 15] {
        want[i] = 1.0;
    }
    assert_eq!(tape.grad(x).unwrap().as_slice(), &want);
    // ceil_mode keeps the partial windows on a 3×3 input.
    let x3 = tape.constant_image(&image(&one_to(9), 3, 3), ImageShape::new(1, 3, 3));
    let y = x3.max_pool2d(&MaxPool2dConfig::new(2, 2).ceil_mode(true));
    assert_eq!(y.value().as_slice(), &[5.0, 6.0, 8.0, 9.0]);
    // Dilation 2, padding 1, stride 1 on a 3×3 input: rows (and columns)
    // {1}, {0, 2}, {1} are tapped by the three windows.
    let y = x3.max_pool2d(
        &MaxPool2dConfig::new(2, 2)
            .stride(1, 1)
            .padding(1, 1)
            .dilation(2, 2),
    );
    assert_eq!(y.image(), Some(ImageShape::new(1, 3, 3)));
    assert_eq!(
        y.value().as_slice(),
        &[5.0, 6.0, 5.0, 8.0, 9.0, 8.0, 5.0, 6.0, 5.0]
    );
}

#[test]
fn max_pool2d_routes_ties_to_the_first_maximum() {
    let tape = Tape::<f64>::new();
    let x = tape.leaf_image(
        &image(&[1.0, 3.0, 3.0, 3.0], 2, 2),
        ImageShape::new(1, 2, 2),
    );
    tape.backward(
        x.max_pool2d(&MaxPool2dConfig::new(2, 2)).sum(),
        &mut ParamStore::new(),
    );
    assert_eq!(tape.grad(x).unwrap().as_slice(), &[0.0, 1.0, 0.0, 0.0]);
}

#[test]
fn avg_pool2d_matches_hand_computed_values() {
    let tape = Tape::<f64>::new();
    let x = tape.leaf_image(&image(&one_to(9), 3, 3), ImageShape::new(1, 3, 3));
    // ceil_mode windows past the input are not padding: 3, (3+6)/2, (7+8)/2, 9/1.
    let y = x.avg_pool2d(&AvgPool2dConfig::new(2, 2).ceil_mode(true));
    assert_eq!(y.value().as_slice(), &[3.0, 4.5, 7.5, 9.0]);
    tape.backward(y.sum(), &mut ParamStore::new());
    let want = [0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 1.0];
    assert_eq!(tape.grad(x).unwrap().as_slice(), &want);
    // 3×3 windows, stride 2, padding 1: sums 12, 16, 24, 28 of 4 pixels each.
    let cfg = AvgPool2dConfig::new(3, 3).stride(2, 2).padding(1, 1);
    let y = x.avg_pool2d(&cfg);
    assert_eq!(
        y.value().as_slice(),
        &[12.0 / 9.0, 16.0 / 9.0, 24.0 / 9.0, 28.0 / 9.0]
    );
    let y = x.avg_pool2d(&cfg.count_include_pad(false));
    assert_eq!(y.value().as_slice(), &[3.0, 4.0, 6.0, 7.0]);
    let y = x.avg_pool2d(&cfg.divisor_override(2));
    assert_eq!(y.value().as_slice(), &[6.0, 8.0, 12.0, 14.0]);
}

#[test]
fn pool_training_steps_take_no_fresh_buffers_in_steady_state() {
    let x = DMatrix::from_fn(3, 2 * 36, |i, j| ((i * 7 + j * 5) % 11) as f32);
    let mut tape = Tape::<f32>::new();
    let mut fresh = Vec::new();
    for _ in 0..3 {
        tape.reset();
        let xi = tape.leaf_image(&x, ImageShape::new(2, 6, 6));
        let m = xi.max_pool2d(&MaxPool2dConfig::new(3, 3).stride(2, 2).padding(1, 1));
        let a = xi.avg_pool2d(&AvgPool2dConfig::new(2, 2).ceil_mode(true));
        tape.backward((m * m).sum() + a.sum(), &mut ParamStore::new());
        fresh.push(tape.fresh_buffers());
    }
    assert_eq!(fresh[1], fresh[2], "fresh buffers per step: {fresh:?}");
}

#[test]
fn pools_accept_an_empty_batch() {
    let tape = Tape::<f64>::new();
    let x = tape.leaf_image(&DMatrix::zeros(0, 2 * 5 * 5), ImageShape::new(2, 5, 5));
    let m = x.max_pool2d(&MaxPool2dConfig::new(2, 2));
    let a = x.avg_pool2d(&AvgPool2dConfig::new(2, 2).ceil_mode(true));
    assert_eq!((m.shape(), a.shape()), ((0, 2 * 4), (0, 2 * 9)));
    tape.backward(m.sum() + a.sum(), &mut ParamStore::new());
    assert_eq!(tape.grad(x).unwrap().shape(), (0, 50));
}

#[test]
fn pool_panics_name_the_op_and_the_sizes() {
    let tape = Tape::<f64>::new();
    let x = DMatrix::zeros(1, 16);
    let msg = panic_message(|| {
        tape.constant(&x).max_pool2d(&MaxPool2dConfig::new(2, 2));
    });
    assert!(
        msg.contains("max_pool2d") && msg.contains("no image shape"),
        "{msg}"
    );
    let img = tape.constant_image(&x, ImageShape::new(1, 4, 4));
    let msg = panic_message(|| {
        img.avg_pool2d(&AvgPool2dConfig::new(2, 2).padding(2, 0));
    });
    assert!(
        msg.contains("avg_pool2d") && msg.contains("(2, 0)") && msg.contains("half"),
        "{msg}"
    );
    let msg = panic_message(|| {
        img.max_pool2d(&MaxPool2dConfig::new(3, 3).dilation(2, 2));
    });
    assert!(
        msg.contains("max_pool2d") && msg.contains("4x4") && msg.contains("empty"),
        "{msg}"
    );
    let msg = panic_message(|| {
        img.avg_pool2d(&AvgPool2dConfig::new(2, 2).divisor_override(0));
    });
    assert!(
        msg.contains("avg_pool2d") && msg.contains("divisor_override"),
        "{msg}"
    );
}
