//! Golden parity with PyTorch: every losses.json case and the layers.json
//! cases that are single tape ops (Linear, Conv2d, pooling, activations) run
//! through [`check_case`] in f64, and their output and gradients must match
//! to a relative tolerance of 1e-9 (with the absolute floor of [`ATOL`]).
//!
//! `descent_testkit::golden::cases` hands this test its cases and fails on
//! any case no parity test recognises. `check_case` dispatches on the case's
//! `fn` or `layer` and reads its `hyper` through `descent_testkit::Hyper`,
//! never its name, so a new case needs no code. A hyper key this test does
//! not read, or a value it does not support (a class `weight`, a
//! `pos_weight`, a target equal to `ignore_index`), fails the test.

use descent_autodiff::{
    AvgPool2dConfig, Conv2dGeometry, CrossEntropyConfig, ImageShape, MaxPool2dConfig, Reduction,
    Tape, Var,
};
use descent_core::{ParamId, ParamStore, Tags};
use descent_testkit::golden::{self, Harness, Tensor};
use descent_testkit::{Hyper, assert_close, payload_message};
use nalgebra::DMatrix;
use serde_json::Value;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Relative tolerance of every comparison.
const RTOL: f64 = 1e-9;
/// Absolute floor of every comparison, for elements near zero: a
/// probability near 1 is accurate to an ulp of 1 (2.2e-16), so the
/// cross-entropy gradient `(p - 1) / N` of a near-certain class keeps an
/// absolute error of about 1e-17 however small it is (1.1e-17 on an element
/// of 6.5e-11 in `ce_large_logits_mean`). Every other case passes with no
/// floor at all.
const ATOL: f64 = 1e-16;

/// What became of one case.
#[derive(Debug)]
enum Outcome {
    Passed,
    /// The case uses something we deliberately do not implement.
    Unsupported(String),
    Failed(String),
}

/// `Err` carries an `Unsupported` or `Failed` outcome out of a check.
type Check<T = ()> = Result<T, Outcome>;

#[test]
fn every_golden_case_of_a_reached_kind_matches_pytorch() {
    let cases = golden::cases(Harness::Autodiff).unwrap_or_else(|e| panic!("{e}"));
    let mut passed = 0;
    let mut problems = Vec::new();
    let mut reached: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &cases {
        match guarded(&case.what, &case.value) {
            Outcome::Passed => passed += 1,
            Outcome::Unsupported(why) => problems.push(format!("unsupported {}: {why}", case.at())),
            Outcome::Failed(msg) => problems.push(format!("FAILED {}: {msg}", case.at())),
        }
        *reached.entry(&case.what).or_default() += 1;
    }
    println!(
        "checked {} cases: {passed} passed, {} failed or unsupported",
        cases.len(),
        problems.len()
    );
    println!("reached: {}", counts(reached.iter()));
    for p in &problems {
        println!("  {p}");
    }
    assert!(
        problems.is_empty(),
        "{} of {} golden cases failed or are unsupported:\n  {}",
        problems.len(),
        cases.len(),
        problems.join("\n  ")
    );
}

/// Runs one case of kind `what` (its `fn` or `layer`).
fn check_case(what: &str, case: &Value) -> Outcome {
    let result = match what {
        "cross_entropy" => cross_entropy(case),
        "mse_loss" | "l1_loss" | "binary_cross_entropy_with_logits" => pointwise_loss(what, case),
        "softmax" | "log_softmax" => softmax(what, case),
        "ReLU" | "Tanh" | "Sigmoid" | "GELU" => activation(what, case),
        "Linear" => linear(case),
        "Conv2d" => conv2d(case),
        "MaxPool2d" | "AvgPool2d" => pool2d(what, case),
        other => Err(Outcome::Failed(format!(
            "routed here, but no arm checks `{other}`"
        ))),
    };
    match result {
        Ok(()) => Outcome::Passed,
        Err(outcome) => outcome,
    }
}

/// [`check_case`], with a panic inside an op reported as a failure.
fn guarded(what: &str, case: &Value) -> Outcome {
    catch_unwind(AssertUnwindSafe(|| check_case(what, case))).unwrap_or_else(|panic| {
        Outcome::Failed(format!("panicked: {}", payload_message(panic.as_ref())))
    })
}

fn counts<K: std::fmt::Display, N: std::fmt::Display>(
    items: impl Iterator<Item = (K, N)>,
) -> String {
    let parts: Vec<String> = items.map(|(k, n)| format!("{k} ×{n}")).collect();
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    }
}

// ---- the arms ----------------------------------------------------------------

fn cross_entropy(case: &Value) -> Check {
    let h = hyper(case)?;
    h.null("weight").map_err(unsupported)?;
    let reduction = reduction(&h)?;
    let label_smoothing = h.f64("label_smoothing").map_err(malformed)?;
    let ignore_index = h.f64("ignore_index").map_err(malformed)?;
    h.finish().map_err(unsupported)?;
    let x = tensor(case, "input")?;
    let &[n, c] = x.shape.as_slice() else {
        return Err(unsupported(format!(
            "cross_entropy input of shape {:?}: only [N, C]",
            x.shape
        )));
    };
    let targets = class_targets(case, ignore_index, n)?;
    let out_shape: &[usize] = match reduction {
        Reduction::None => &[n],
        Reduction::Mean | Reduction::Sum => &[],
    };
    let out_dims = if out_shape.is_empty() { (1, 1) } else { (n, 1) };
    let cfg = CrossEntropyConfig {
        reduction,
        label_smoothing,
    };
    let (got_out, got_grad) = run(
        &x.to_matrix(n, c),
        grad_output(case, out_shape, out_dims)?.as_ref(),
        |_, v| v.cross_entropy(&targets, &cfg),
    )?;
    close(case, "output", &got_out, out_shape, out_dims)?;
    close(case, "grad_input", &got_grad, &x.shape, (n, c))
}

fn pointwise_loss(kind: &str, case: &Value) -> Check {
    let h = hyper(case)?;
    if kind == "binary_cross_entropy_with_logits" {
        h.null("pos_weight").map_err(unsupported)?;
    }
    h.null("weight").map_err(unsupported)?;
    let reduction = reduction(&h)?;
    h.finish().map_err(unsupported)?;
    let (x, y) = (tensor(case, "input")?, tensor(case, "target")?);
    if y.shape != x.shape {
        return Err(unsupported(format!(
            "target shape {:?} differs from input shape {:?} (broadcasting)",
            y.shape, x.shape
        )));
    }
    let x_dims = x.matrix().shape();
    let out_shape: &[usize] = match reduction {
        Reduction::None => &x.shape,
        Reduction::Mean | Reduction::Sum => &[],
    };
    let out_dims = if out_shape.is_empty() { (1, 1) } else { x_dims };
    let target = y.matrix();
    let (got_out, got_grad) = run(
        &x.matrix(),
        grad_output(case, out_shape, out_dims)?.as_ref(),
        |tape, v| {
            let y = tape.constant(&target);
            match kind {
                "mse_loss" => v.mse_loss(y, reduction),
                "l1_loss" => v.l1_loss(y, reduction),
                _ => v.binary_cross_entropy_with_logits(y, reduction),
            }
        },
    )?;
    close(case, "output", &got_out, out_shape, out_dims)?;
    close(case, "grad_input", &got_grad, &x.shape, x_dims)
}

/// Softmax over one `dim` of a tensor, mapped onto our row-wise ops: the last
/// dim is the rows of a (product of leading dims) × last matrix, and dim 0
/// of a 2-d tensor is the rows of its transpose.
fn softmax(kind: &str, case: &Value) -> Check {
    let h = hyper(case)?;
    let dim = h.i64("dim").map_err(malformed)?;
    h.finish().map_err(unsupported)?;
    let x = tensor(case, "input")?;
    let ndim = x.shape.len() as i64;
    let d = if dim < 0 { dim + ndim } else { dim };
    let transposed = match (ndim, d) {
        (_, d) if ndim > 0 && d == ndim - 1 => false,
        (2, 0) => true,
        _ => {
            return Err(unsupported(format!(
                "{kind} over dim {dim} of shape {:?}: only the last dim, or dim 0 of a 2-d tensor",
                x.shape
            )));
        }
    };
    let (lead, last) = x.shape.split_at(x.shape.len() - 1);
    let dims = (lead.iter().product(), last[0]);
    let log = kind == "log_softmax";
    let (got_out, got_grad) = run(
        &x.to_matrix(dims.0, dims.1),
        grad_output(case, &x.shape, dims)?.as_ref(),
        |_, v| {
            if transposed {
                row_softmax(v.t(), log).t()
            } else {
                row_softmax(v, log)
            }
        },
    )?;
    close(case, "output", &got_out, &x.shape, dims)?;
    close(case, "grad_input", &got_grad, &x.shape, dims)
}

/// An activation layer: the input's first element is exactly 0, where
/// ReLU's gradient must be PyTorch's 0.
fn activation(kind: &str, case: &Value) -> Check {
    let h = hyper(case)?;
    match kind {
        "ReLU" => h.expect("inplace", false),
        "GELU" => h.expect("approximate", "none"),
        _ => Ok(()),
    }
    .map_err(unsupported)?;
    h.finish().map_err(unsupported)?;
    let x = tensor(case, "input")?;
    let dims = x.matrix().shape();
    let (got_out, got_grad) = run(
        &x.matrix(),
        grad_output(case, &x.shape, dims)?.as_ref(),
        |_, v| match kind {
            "ReLU" => v.relu(),
            "Tanh" => v.tanh(),
            "Sigmoid" => v.sigmoid(),
            _ => v.gelu(),
        },
    )?;
    close(case, "output", &got_out, &x.shape, dims)?;
    close(case, "grad_input", &got_grad, &x.shape, dims)
}

/// `y = x·Wᵀ + b` with the weight and bias as parameters in a store, so the
/// check covers the path a training step takes.
fn linear(case: &Value) -> Check {
    let h = hyper(case)?;
    let (d_in, d_out) = (
        h.usize("in_features").map_err(malformed)?,
        h.usize("out_features").map_err(malformed)?,
    );
    let has_bias = h.bool("bias").map_err(malformed)?;
    h.finish().map_err(unsupported)?;
    let x = tensor(case, "input")?;
    let n = x.shape.first().copied().unwrap_or(0);
    if x.shape != [n, d_in] {
        return Err(unsupported(format!(
            "Linear input of shape {:?}: only [N, in_features]",
            x.shape
        )));
    }
    let mut store = ParamStore::new();
    let (w, b) = weight_and_bias(case, &mut store, &[d_out, d_in], (d_out, d_in), has_bias)?;
    let grad_out = expect_tensor(case, "grad_output", &[n, d_out], (n, d_out))?;
    let tape = Tape::new();
    let input = tape.leaf_var(&x.to_matrix(n, d_in));
    let mut y = input.matmul_t(tape.param(&store, w));
    if let Some(b) = b {
        y = y + tape.param(&store, b);
    }
    tape.backward_with(y, &grad_out, &mut store);
    close(case, "output", &y.value(), &[n, d_out], (n, d_out))?;
    let grad_input = tape.grad(input).unwrap_or_else(|| DMatrix::zeros(n, d_in));
    close(case, "grad_input", &grad_input, &[n, d_in], (n, d_in))?;
    param_grads(case, &store, w, &[d_out, d_in], (d_out, d_in), b)
}

/// Conv2d with OIHW weight (= our `C_out × (C_in·kH·kW)` rows) and bias as
/// parameters; NCHW input as an `N × (C·H·W)` image batch.
fn conv2d(case: &Value) -> Check {
    let h = hyper(case)?;
    h.expect("groups", 1).map_err(unsupported)?;
    h.expect("padding_mode", "zeros").map_err(unsupported)?;
    let (c_in, c_out) = (
        h.usize("in_channels").map_err(malformed)?,
        h.usize("out_channels").map_err(malformed)?,
    );
    let pair = |k: &str| h.pair_usize(k).map_err(malformed);
    let (kh, kw) = pair("kernel_size")?;
    let (st, pd, dl) = (pair("stride")?, pair("padding")?, pair("dilation")?);
    let cfg = Conv2dGeometry::new(kh, kw)
        .stride(st.0, st.1)
        .padding(pd.0, pd.1)
        .dilation(dl.0, dl.1);
    let has_bias = h.bool("bias").map_err(malformed)?;
    h.finish().map_err(unsupported)?;
    let (x, x_img) = image_tensor(case, "input", c_in)?;
    let out = tensor(case, "output")?;
    let (_, out_img) = image_tensor(case, "output", c_out)?;
    let mut store = ParamStore::new();
    let (w_shape, w_dims) = ([c_out, c_in, kh, kw], (c_out, c_in * kh * kw));
    let (w, b) = weight_and_bias(case, &mut store, &w_shape, w_dims, has_bias)?;
    let out_dims = out.matrix().shape();
    let grad_out = expect_tensor(case, "grad_output", &out.shape, out_dims)?;
    let tape = Tape::new();
    let input = tape.leaf_image(&x.matrix(), x_img);
    let y = input.conv2d(
        tape.param(&store, w),
        b.map(|b| tape.param(&store, b)),
        &cfg,
    );
    if y.image() != Some(out_img) {
        return Err(Outcome::Failed(format!(
            "output image shape {:?}, expected {out_img:?}",
            y.image()
        )));
    }
    tape.backward_with(y, &grad_out, &mut store);
    close(case, "output", &y.value(), &out.shape, out_dims)?;
    let x_dims = x.matrix().shape();
    let grad_input = tape
        .grad(input)
        .unwrap_or_else(|| DMatrix::zeros(x_dims.0, x_dims.1));
    close(case, "grad_input", &grad_input, &x.shape, x_dims)?;
    param_grads(case, &store, w, &w_shape, w_dims, b)
}

enum Pool {
    Max(MaxPool2dConfig),
    Avg(AvgPool2dConfig),
}

fn pool2d(kind: &str, case: &Value) -> Check {
    let (x, x_img) = image_tensor(case, "input", 0)?;
    let h = hyper(case)?;
    let pair = |k: &str| h.pair_usize(k).map_err(malformed);
    let flag = |k: &str| h.bool(k).map_err(malformed);
    let (kh, kw) = pair("kernel_size")?;
    let (s, p) = (pair("stride")?, pair("padding")?);
    let pool = if kind == "MaxPool2d" {
        h.expect("return_indices", false).map_err(unsupported)?;
        let d = pair("dilation")?;
        let cfg = MaxPool2dConfig::new(kh, kw)
            .stride(s.0, s.1)
            .padding(p.0, p.1)
            .dilation(d.0, d.1)
            .ceil_mode(flag("ceil_mode")?);
        Pool::Max(cfg)
    } else {
        let mut cfg = AvgPool2dConfig::new(kh, kw)
            .stride(s.0, s.1)
            .padding(p.0, p.1)
            .ceil_mode(flag("ceil_mode")?)
            .count_include_pad(flag("count_include_pad")?);
        if let Some(d) = h.opt_usize("divisor_override").map_err(malformed)? {
            cfg = cfg.divisor_override(d);
        }
        Pool::Avg(cfg)
    };
    h.finish().map_err(unsupported)?;
    let out = tensor(case, "output")?;
    let (x_dims, out_dims) = (x.matrix().shape(), out.matrix().shape());
    let (got_out, got_grad) = run(
        &x.matrix(),
        grad_output(case, &out.shape, out_dims)?.as_ref(),
        |_, v| match &pool {
            Pool::Max(cfg) => v.as_image(x_img).max_pool2d(cfg),
            Pool::Avg(cfg) => v.as_image(x_img).avg_pool2d(cfg),
        },
    )?;
    close(case, "output", &got_out, &out.shape, out_dims)?;
    close(case, "grad_input", &got_grad, &x.shape, x_dims)
}

/// Registers the case's `weight` (PyTorch shape `w_shape`, read into a
/// `w_dims` matrix) and, when `has_bias`, its `bias` as a row vector.
fn weight_and_bias(
    case: &Value,
    store: &mut ParamStore<f64>,
    w_shape: &[usize],
    w_dims: (usize, usize),
    has_bias: bool,
) -> Check<(ParamId, Option<ParamId>)> {
    let value = expect_tensor(case, "weight", w_shape, w_dims)?;
    let w = store
        .register("weight", Tags::WEIGHT, value)
        .map_err(|e| malformed(e.to_string()))?;
    if !has_bias {
        return Ok((w, None));
    }
    let c = w_shape[0];
    let value = expect_tensor(case, "bias", &[c], (1, c))?;
    let b = store
        .register("bias", Tags::BIAS, value)
        .map_err(|e| malformed(e.to_string()))?;
    Ok((w, Some(b)))
}

/// Compares the accumulated weight and bias gradients with the case's.
fn param_grads(
    case: &Value,
    store: &ParamStore<f64>,
    w: ParamId,
    w_shape: &[usize],
    w_dims: (usize, usize),
    b: Option<ParamId>,
) -> Check {
    close(case, "grad_weight", store.grad(w), w_shape, w_dims)?;
    match b {
        Some(b) => close(
            case,
            "grad_bias",
            store.grad(b),
            &[w_shape[0]],
            (1, w_shape[0]),
        ),
        None if case["grad_bias"].is_null() => Ok(()),
        None => Err(Outcome::Failed(
            "grad_bias recorded for a layer without bias".into(),
        )),
    }
}

/// A `[N, C, H, W]` tensor and its image shape; `channels` (when non-zero)
/// must match C.
fn image_tensor(case: &Value, field: &str, channels: usize) -> Check<(Tensor, ImageShape)> {
    let t = tensor(case, field)?;
    match *t.shape.as_slice() {
        [_, c, h, w] if channels == 0 || c == channels => Ok((t, ImageShape::new(c, h, w))),
        _ => Err(malformed(format!(
            "{field} of shape {:?} is not [N, {channels}, H, W]",
            t.shape
        ))),
    }
}

fn row_softmax(v: Var<'_, f64>, log: bool) -> Var<'_, f64> {
    if log { v.log_softmax() } else { v.softmax() }
}

// ---- running and comparing ---------------------------------------------------

/// Records `f` on a fresh tape with `input` as a gradient-keeping leaf and
/// back-propagates `grad_output` (1 for a scalar output); returns the output
/// and the input's gradient.
fn run(
    input: &DMatrix<f64>,
    grad_output: Option<&DMatrix<f64>>,
    f: impl for<'t> FnOnce(&'t Tape<f64>, Var<'t, f64>) -> Var<'t, f64>,
) -> Check<(DMatrix<f64>, DMatrix<f64>)> {
    let tape = Tape::new();
    let x = tape.leaf_var(input);
    let out = f(&tape, x);
    let value = out.value();
    let seed = match grad_output {
        Some(g) => g.clone(),
        None => DMatrix::from_element(1, 1, 1.0),
    };
    if seed.shape() != value.shape() {
        return Err(Outcome::Failed(format!(
            "output is {:?} but the gradient fed back is {:?}",
            value.shape(),
            seed.shape()
        )));
    }
    tape.backward_with(out, &seed, &mut ParamStore::new());
    let grad = tape
        .grad(x)
        .unwrap_or_else(|| DMatrix::zeros(input.nrows(), input.ncols()));
    Ok((value, grad))
}

/// Compares `got` with the case's tensor `field`, which must have PyTorch
/// shape `shape` and is read row-major into a `dims` matrix.
fn close(
    case: &Value,
    field: &str,
    got: &DMatrix<f64>,
    shape: &[usize],
    dims: (usize, usize),
) -> Check {
    let want = expect_tensor(case, field, shape, dims)?;
    assert_close(field, got, &want, RTOL, ATOL).map_err(Outcome::Failed)
}

fn expect_tensor(
    case: &Value,
    field: &str,
    shape: &[usize],
    dims: (usize, usize),
) -> Check<DMatrix<f64>> {
    let t = tensor(case, field)?;
    if t.shape != shape {
        return Err(Outcome::Failed(format!(
            "{field} has shape {:?}, expected {shape:?}",
            t.shape
        )));
    }
    Ok(t.to_matrix(dims.0, dims.1))
}

/// The case's `grad_output`: `None` when null (a scalar output).
fn grad_output(case: &Value, shape: &[usize], dims: (usize, usize)) -> Check<Option<DMatrix<f64>>> {
    if case["grad_output"].is_null() {
        return Ok(None);
    }
    expect_tensor(case, "grad_output", shape, dims).map(Some)
}

// ---- reading cases -----------------------------------------------------------

fn unsupported(why: impl Into<String>) -> Outcome {
    Outcome::Unsupported(why.into())
}

fn malformed(why: impl Into<String>) -> Outcome {
    Outcome::Failed(format!("malformed case: {}", why.into()))
}

fn tensor(case: &Value, field: &str) -> Check<Tensor> {
    Tensor::parse(&case[field]).map_err(|e| malformed(format!("{field}: {e}")))
}

/// The case's `hyper` object, read key by key.
fn hyper(case: &Value) -> Check<Hyper<'_>> {
    Hyper::new(&case["hyper"]).map_err(malformed)
}

fn reduction(h: &Hyper) -> Check<Reduction> {
    h.choice(
        "reduction",
        &[
            ("mean", Reduction::Mean),
            ("sum", Reduction::Sum),
            ("none", Reduction::None),
        ],
    )
    .map_err(unsupported)
}

/// The class indices of `target` (shape `[n]`, whole numbers as floats);
/// a target equal to `ignore_index` is unsupported.
fn class_targets(case: &Value, ignore_index: f64, n: usize) -> Check<Vec<usize>> {
    let t = tensor(case, "target")?;
    if t.shape != [n] {
        return Err(unsupported(format!(
            "target of shape {:?} for {n} rows",
            t.shape
        )));
    }
    t.data
        .iter()
        .map(|&k| {
            if k == ignore_index {
                Err(unsupported(format!("a target uses ignore_index {k}")))
            } else if k >= 0.0 && k.fract() == 0.0 {
                Ok(k as usize)
            } else {
                Err(malformed(format!("target {k} is not a class index")))
            }
        })
        .collect()
}
