use crate::gradcheck::check_gradients;
use crate::{CrossEntropy2dConfig, CrossEntropyConfig, ImageShape, Reduction, Tape};
use descent_core::ParamStore;
use descent_testkit::panic_message;
use descent_testkit::strategies::matrix_of;
use nalgebra::DMatrix;
use proptest::prelude::*;

const REDUCTIONS: [Reduction; 3] = [Reduction::Mean, Reduction::Sum, Reduction::None];
/// VOC's border class, outside every `0..C` drawn here.
const VOID: usize = 255;

/// Logits `N × (C·H·W)`, their shape, and a class map with some pixels `VOID`.
fn case() -> impl Strategy<Value = (DMatrix<f64>, ImageShape, Vec<usize>)> {
    (1usize..3, 1usize..4, 1usize..3, 1usize..4).prop_flat_map(|(n, c, h, w)| {
        let shape = ImageShape::new(c, h, w);
        let class = prop_oneof![4 => 0..c, 1 => Just(VOID)];
        (
            matrix_of(n, shape.len(), -3.0, 3.0),
            Just(shape),
            proptest::collection::vec(class, n * h * w),
        )
    })
}

/// Every option combination worth checking for `c` classes.
fn configs(c: usize, smoothing: f64) -> Vec<CrossEntropy2dConfig> {
    let weight: Vec<f64> = (0..c).map(|k| 0.5 + k as f64 * 0.75).collect();
    let mut out = Vec::new();
    for reduction in REDUCTIONS {
        for weight in [None, Some(weight.clone())] {
            out.push(CrossEntropy2dConfig {
                reduction,
                label_smoothing: smoothing,
                ignore_index: Some(VOID),
                weight,
            });
        }
    }
    out
}

/// PyTorch's formula written out with NCHW indices, in f64.
fn naive(x: &DMatrix<f64>, s: ImageShape, t: &[usize], cfg: &CrossEntropy2dConfig) -> Vec<f64> {
    let (hw, c, eps) = (s.h * s.w, s.c, cfg.label_smoothing);
    let w = |k: usize| cfg.weight.as_ref().map_or(1.0, |v| v[k]);
    let (mut losses, mut total, mut denom) = (Vec::new(), 0.0, 0.0);
    // PyTorch's `reduction='none'` map in our N × (H·W) column-major order
    for p in 0..hw {
        for n in 0..x.nrows() {
            let y = t[n * hw + p];
            if Some(y) == cfg.ignore_index {
                losses.push(0.0);
                continue;
            }
            let lse = (0..c).map(|k| x[(n, k * hw + p)].exp()).sum::<f64>().ln();
            let logp = |k: usize| x[(n, k * hw + p)] - lse;
            let smooth: f64 = (0..c).map(|k| -w(k) * logp(k)).sum();
            let l = (1.0 - eps) * -w(y) * logp(y) + eps / c as f64 * smooth;
            losses.push(l);
            total += l;
            denom += w(y);
        }
    }
    match cfg.reduction {
        Reduction::None => losses,
        Reduction::Sum => vec![total],
        Reduction::Mean => vec![total / denom],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn gradcheck_cross_entropy2d_for_every_option(
        (x, shape, targets) in case(),
        smoothing in prop_oneof![Just(0.0), Just(1.0), 0.0..1.0f64],
    ) {
        prop_assume!(targets.iter().any(|&t| t != VOID)); // a Mean over no pixel is NaN
        for cfg in configs(shape.c, smoothing) {
            check_gradients(std::slice::from_ref(&x), |_t, v| v[0].as_image(shape).cross_entropy2d(&targets, &cfg))
                .map_err(|e| TestCaseError::fail(format!("{cfg:?}: {e}")))?;
        }
    }

    #[test]
    fn cross_entropy2d_matches_pytorchs_formula(
        (x, shape, targets) in case(),
        smoothing in prop_oneof![Just(0.0), 0.0..1.0f64],
    ) {
        prop_assume!(targets.iter().any(|&t| t != VOID));
        let tape = Tape::<f64>::new();
        let v = tape.constant_image(&x, shape);
        for cfg in configs(shape.c, smoothing) {
            let got = v.cross_entropy2d(&targets, &cfg);
            let want = naive(&x, shape, &targets, &cfg);
            let got_v = got.value();
            prop_assert_eq!(got_v.len(), want.len());
            for (g, w) in got_v.iter().zip(&want) {
                prop_assert!((g - w).abs() < 1e-12 * (1.0 + w.abs()), "{:?}: {} vs {}", cfg, g, w);
            }
            if cfg.reduction == Reduction::None {
                prop_assert_eq!(got.image(), Some(ImageShape::new(1, shape.h, shape.w)));
                prop_assert_eq!(got.shape(), (x.nrows(), shape.h * shape.w));
            }
        }
    }

    #[test]
    fn with_one_pixel_it_is_the_row_wise_cross_entropy(
        x in (1usize..6, 1usize..6).prop_flat_map(|(n, c)| matrix_of(n, c, -3.0, 3.0)),
        smoothing in prop_oneof![Just(0.0), 0.0..1.0f64],
        seed in 0usize..1000,
    ) {
        let targets: Vec<usize> = (0..x.nrows()).map(|i| (seed + 7 * i) % x.ncols()).collect();
        let tape = Tape::<f64>::new();
        let image = tape.leaf_image(&x, ImageShape::new(x.ncols(), 1, 1));
        let rows = tape.leaf_var(&x);
        for reduction in REDUCTIONS {
            let cfg2d = CrossEntropy2dConfig { reduction, label_smoothing: smoothing, ..Default::default() };
            let cfg = CrossEntropyConfig { reduction, label_smoothing: smoothing };
            let (a, b) = (image.cross_entropy2d(&targets, &cfg2d), rows.cross_entropy(&targets, &cfg));
            prop_assert!((a.value() - b.value()).abs().max() < 1e-14, "{:?}", reduction);
            let (a, b) = (a.sum(), b.sum());
            tape.backward(a + b, &mut ParamStore::new());
        }
        let (ga, gb) = (tape.grad(image).unwrap(), tape.grad(rows).unwrap());
        prop_assert!((ga - gb).abs().max() < 1e-14);
    }
}

#[test]
fn hand_computed_weighted_smoothed_and_ignored() {
    // 1 sample, 2 classes, 1×3 pixels: p = (1/4, 3/4), (4/5, 1/5), ignored
    let x = DMatrix::from_row_slice(1, 6, &[0.0, 4f64.ln(), 5.0, 3f64.ln(), 0.0, -5.0]);
    let tape = Tape::<f64>::new();
    let v = tape.leaf_image(&x, ImageShape::new(2, 1, 3));
    let targets = [1, 0, 255];
    let mut cfg = CrossEntropy2dConfig {
        weight: Some(vec![2.0, 0.5]),
        ignore_index: Some(255),
        ..Default::default()
    };
    let (l0, l1) = (-0.5 * 0.75f64.ln(), -2.0 * 0.8f64.ln());
    let mean = v.cross_entropy2d(&targets, &cfg);
    assert!(
        (mean.item() - (l0 + l1) / 2.5).abs() < 1e-15,
        "{}",
        mean.item()
    );
    // gradient of the mean at pixel 0: w_y (p − onehot) / Σw = 0.5·(1/4, −1/4) / 2.5
    tape.backward(mean, &mut ParamStore::new());
    let g = tape.grad(v).unwrap();
    let want = [0.05, 2.0 * -0.2 / 2.5, 0.0, -0.05, 2.0 * 0.2 / 2.5, 0.0];
    for k in 0..6 {
        assert!(
            (g[k] - want[k]).abs() < 1e-15,
            "grad {k}: {} vs {}",
            g[k],
            want[k]
        );
    }

    cfg.label_smoothing = 0.2;
    cfg.reduction = Reduction::None;
    let none = v.cross_entropy2d(&targets, &cfg).value();
    let s0 = -(2.0 * 0.25f64.ln() + 0.5 * 0.75f64.ln());
    let s1 = -(2.0 * 0.8f64.ln() + 0.5 * 0.2f64.ln());
    let want = [0.8 * l0 + 0.1 * s0, 0.8 * l1 + 0.1 * s1, 0.0];
    assert_eq!(none.shape(), (1, 3));
    for k in 0..3 {
        assert!(
            (none[k] - want[k]).abs() < 1e-14,
            "pixel {k}: {} vs {}",
            none[k],
            want[k]
        );
    }
    cfg.reduction = Reduction::Sum;
    let sum = v.cross_entropy2d(&targets, &cfg).item();
    assert!((sum - want.iter().sum::<f64>()).abs() < 1e-14);
}

#[test]
fn a_mean_over_no_scored_pixel_is_nan_as_in_pytorch() {
    let tape = Tape::<f64>::new();
    let x = tape.constant_image(&DMatrix::zeros(1, 4), ImageShape::new(2, 1, 2));
    let cfg = CrossEntropy2dConfig {
        ignore_index: Some(0),
        ..Default::default()
    };
    assert!(x.cross_entropy2d(&[0, 0], &cfg).item().is_nan());
    let cfg = CrossEntropy2dConfig {
        reduction: Reduction::Sum,
        ..cfg
    };
    assert_eq!(x.cross_entropy2d(&[0, 0], &cfg).item(), 0.0);
}

#[test]
fn stays_finite_for_huge_logits_and_f32_agrees_with_f64() {
    let x = DMatrix::from_fn(2, 3 * 4, |i, j| ((i * 12 + j) as f64 * 0.37).sin() * 900.0);
    let shape = ImageShape::new(3, 2, 2);
    let targets = [0, 1, 2, 255, 2, 2, 1, 0];
    let cfg = CrossEntropy2dConfig {
        label_smoothing: 0.1,
        ignore_index: Some(255),
        weight: Some(vec![1.0, 2.0, 0.5]),
        ..Default::default()
    };
    let tape = Tape::<f64>::new();
    let v = tape.leaf_image(&x, shape);
    let want = v.cross_entropy2d(&targets, &cfg);
    assert!(want.item().is_finite());
    tape.backward(want, &mut ParamStore::new());
    assert!(tape.grad(v).unwrap().iter().all(|g| g.is_finite()));
    let got = Tape::<f32>::new()
        .constant_image(&x.map(|v| v as f32), shape)
        .cross_entropy2d(&targets, &cfg)
        .item();
    let want = want.item();
    assert!(
        (f64::from(got) - want).abs() < 1e-5 * want.abs(),
        "{got} vs {want}"
    );
}

#[test]
fn bad_targets_and_weights_panic_naming_the_problem() {
    let run = |targets: &'static [usize], cfg: CrossEntropy2dConfig| {
        panic_message(move || {
            let tape = Tape::<f64>::new();
            let x = tape.constant_image(&DMatrix::zeros(1, 6), ImageShape::new(3, 1, 2));
            x.cross_entropy2d(targets, &cfg);
        })
    };
    let msg = run(&[0], CrossEntropy2dConfig::default());
    assert!(
        msg.contains("1 targets") && msg.contains("2 pixels"),
        "{msg}"
    );
    let msg = run(&[0, 3], CrossEntropy2dConfig::default());
    assert!(
        msg.contains("target 3") && msg.contains("pixel 1") && msg.contains("3 classes"),
        "{msg}"
    );
    let weight = Some(vec![1.0, 2.0]);
    let msg = run(
        &[0, 1],
        CrossEntropy2dConfig {
            weight,
            ..Default::default()
        },
    );
    assert!(msg.contains("2 class weights for 3 classes"), "{msg}");
    let weight = Some(vec![1.0, f64::NAN, 1.0]);
    let msg = run(
        &[0, 1],
        CrossEntropy2dConfig {
            weight,
            ..Default::default()
        },
    );
    assert!(msg.contains("class weight 1 is NaN"), "{msg}");
}

#[test]
fn a_segmentation_training_step_stops_allocating() {
    let x = DMatrix::from_fn(2, 3 * 9, |i, j| (i * 27 + j) as f64 * 0.05 - 1.0);
    let targets: Vec<usize> = (0..18)
        .map(|k| if k % 5 == 4 { 255 } else { k % 3 })
        .collect();
    let cfg = CrossEntropy2dConfig {
        label_smoothing: 0.1,
        ignore_index: Some(255),
        weight: Some(vec![1.0, 0.5, 2.0]),
        ..Default::default()
    };
    let mut tape = Tape::<f64>::new();
    let mut store = ParamStore::new();
    let mut fresh = Vec::new();
    for _ in 0..3 {
        tape.reset();
        let logits = tape.leaf_image(&x, ImageShape::new(3, 3, 3));
        let loss = logits.cross_entropy2d(&targets, &cfg) + logits.log_softmax2d().sum();
        tape.backward(loss, &mut store);
        fresh.push(tape.fresh_buffers());
    }
    assert_eq!(fresh[1], fresh[2], "buffers allocated per step: {fresh:?}");
}
