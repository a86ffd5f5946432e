//! Tape ops panic on a shape mismatch (a programming error, like a slice
//! index), and every such message names the op and both shapes.

use descent_autodiff::{
    BatchNormStats, Conv2dGeometry, CrossEntropyConfig, ImageShape, Reduction, Tape,
};
use nalgebra::DMatrix;
use std::panic::{AssertUnwindSafe, catch_unwind};

fn message(f: impl FnOnce()) -> String {
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let caught = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(quiet);
    let e = caught.expect_err("a shape mismatch must panic");
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

fn m(r: usize, c: usize) -> DMatrix<f64> {
    DMatrix::from_element(r, c, 0.5)
}

#[test]
fn every_shape_mismatch_names_the_op_and_both_shapes() {
    type Case = (&'static str, &'static [&'static str], Box<dyn Fn()>);
    let cases: Vec<Case> = vec![
        (
            "Add",
            &["2x3", "4x5"],
            Box::new(|| {
                let t = Tape::new();
                let _ = t.constant(&m(2, 3)) + t.constant(&m(4, 5));
            }),
        ),
        (
            "Sub",
            &["2x3", "3x3"],
            Box::new(|| {
                let t = Tape::new();
                let _ = t.constant(&m(2, 3)) - t.constant(&m(3, 3));
            }),
        ),
        (
            "Mul",
            &["2x3", "2x2"],
            Box::new(|| {
                let t = Tape::new();
                let _ = t.constant(&m(2, 3)) * t.constant(&m(2, 2));
            }),
        ),
        (
            "Div",
            &["1x3", "2x4"],
            Box::new(|| {
                let t = Tape::new();
                let _ = t.constant(&m(1, 3)) / t.constant(&m(2, 4));
            }),
        ),
        (
            "matmul",
            &["2x3", "4x5"],
            Box::new(|| {
                let t = Tape::new();
                let _ = t.constant(&m(2, 3)).matmul(t.constant(&m(4, 5)));
            }),
        ),
        (
            "mse_loss",
            &["2x3", "3x2"],
            Box::new(|| {
                let t = Tape::new();
                let _ = t
                    .constant(&m(2, 3))
                    .mse_loss(t.constant(&m(3, 2)), Reduction::Mean);
            }),
        ),
        (
            "cross_entropy",
            &["3 targets", "2x4"],
            Box::new(|| {
                let t = Tape::new();
                let _ = t
                    .constant(&m(2, 4))
                    .cross_entropy(&[0, 1, 2], &CrossEntropyConfig::default());
            }),
        ),
        (
            "nll_loss",
            &["1 targets", "2x4"],
            Box::new(|| {
                let t = Tape::new();
                let _ = t.constant(&m(2, 4)).nll_loss(&[0], Reduction::Sum);
            }),
        ),
        (
            "mask",
            &["2x3", "3x2"],
            Box::new(|| {
                let t = Tape::new();
                let _ = t.constant(&m(2, 3)).mask(&m(3, 2));
            }),
        ),
        (
            "conv2d",
            &["4x5", "2x1x3x3"],
            Box::new(|| {
                let t = Tape::new();
                let x = t.constant_image(&m(2, 9), ImageShape::new(1, 3, 3));
                let _ = x.conv2d(t.constant(&m(4, 5)), None, &Conv2dGeometry::new(3, 3));
            }),
        ),
        (
            "batch_norm",
            &["weight is 1x3", "1x2"],
            Box::new(|| {
                let t = Tape::new();
                let _ = t.constant(&m(4, 2)).batch_norm(
                    2,
                    Some(t.constant(&m(1, 3))),
                    None,
                    BatchNormStats::Batch { running: None },
                    1e-5,
                );
            }),
        ),
        (
            "constant_image",
            &["1x2x2", "3x3"],
            Box::new(|| {
                let t = Tape::new();
                let _ = t.constant_image(&m(3, 3), ImageShape::new(1, 2, 2));
            }),
        ),
        (
            "backward_with",
            &["(3, 1)", "(2, 2)"],
            Box::new(|| {
                let t = Tape::new();
                let y = t.leaf_var(&m(2, 2)) * 2.0;
                t.backward_with(y, &m(3, 1), &mut descent_core::ParamStore::new());
            }),
        ),
    ];
    let mut bad = Vec::new();
    for (op, shapes, f) in &cases {
        let msg = message(f);
        if !msg.contains(op) || !shapes.iter().all(|s| msg.contains(s)) {
            bad.push(format!("{op}: {msg:?} (wants {shapes:?})"));
        }
    }
    assert!(
        bad.is_empty(),
        "messages missing the op or a shape:\n{}",
        bad.join("\n")
    );
}
