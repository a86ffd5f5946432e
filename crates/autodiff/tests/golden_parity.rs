//! Golden parity with PyTorch: every case of every file in the golden
//! directory (`$DESCENT_GOLDEN_DIR`, default `../shared/golden`; format in
//! its `FORMAT.md`) runs through [`check_case`], in f64, and its output and
//! input gradient must match to a relative tolerance of 1e-9.
//!
//! A case's kind is its `fn` field (losses.json, clipping.json), else its
//! `layer` field (layers.json), else its file's `kind` (optimizers,
//! schedulers, training). `check_case` dispatches on the kind and reads the
//! case's `hyper` values, never its name, so a new case needs no code and a
//! new kind needs one match arm. Kinds without an arm are listed as "not
//! reached yet"; a case of a kind with an arm must pass: a failure or a hyper
//! value we do not support (a class `weight`, a `pos_weight`, a target equal
//! to `ignore_index`, an unknown hyper key) fails the test.

use descent_autodiff::{
    AvgPool2dConfig, Conv2dConfig, CrossEntropyConfig, ImageShape, MaxPool2dConfig, Reduction,
    Tape, Var,
};
use descent_core::{ParamId, ParamStore, Tags};
use descent_testkit::golden::{self, Tensor};
use descent_testkit::{assert_close, payload_message};
use nalgebra::DMatrix;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Relative tolerance of every comparison.
const RTOL: f64 = 1e-9;

/// What became of one case.
#[derive(Debug)]
enum Outcome {
    Passed,
    /// The case uses something we deliberately do not implement.
    Unsupported(String),
    Failed(String),
    /// No arm handles this kind yet: listed, not a failure.
    NotReached,
}

/// `Err` carries an `Unsupported` or `Failed` outcome out of a check.
type Check<T = ()> = Result<T, Outcome>;

#[test]
fn every_golden_case_of_a_reached_kind_matches_pytorch() {
    let files = golden::load_all().unwrap_or_else(|e| panic!("{e}"));
    let mut passed = 0;
    let mut problems = Vec::new();
    let mut reached: BTreeMap<String, usize> = BTreeMap::new();
    let mut not_reached: BTreeMap<(String, String), usize> = BTreeMap::new();
    for file in &files {
        for case in &file.cases {
            let kind = case_kind(&file.kind, case);
            let name = case["name"].as_str().unwrap_or("<unnamed>");
            let at = format!("{} / {name} ({kind})", file.file_name);
            match guarded(&kind, case) {
                Outcome::NotReached => {
                    *not_reached
                        .entry((file.file_name.clone(), kind))
                        .or_default() += 1;
                    continue;
                }
                Outcome::Passed => passed += 1,
                Outcome::Unsupported(why) => problems.push(format!("unsupported {at}: {why}")),
                Outcome::Failed(msg) => problems.push(format!("FAILED {at}: {msg}")),
            }
            *reached.entry(kind).or_default() += 1;
        }
    }
    let checked: usize = reached.values().sum();
    println!(
        "checked {checked} cases: {passed} passed, {} failed or unsupported",
        problems.len()
    );
    println!("reached: {}", counts(reached.iter()));
    println!(
        "not reached by this test (optim, schedule, nn and the root training test cover the rest): {}",
        counts(
            not_reached
                .iter()
                .map(|((f, k), n)| (format!("{f} {k}"), n))
        )
    );
    for p in &problems {
        println!("  {p}");
    }
    assert!(
        checked > 0,
        "no golden case was checked in {}",
        golden::dir().display()
    );
    assert!(
        problems.is_empty(),
        "{} of {checked} golden cases failed or are unsupported:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

/// Runs one case; the arms add further kinds (Linear, Conv2d, optimizers...).
fn check_case(kind: &str, case: &Value) -> Outcome {
    let result = match kind {
        "cross_entropy" => cross_entropy(case),
        "mse_loss" | "l1_loss" | "binary_cross_entropy_with_logits" => pointwise_loss(kind, case),
        "softmax" | "log_softmax" => softmax(kind, case),
        "ReLU" | "Tanh" | "Sigmoid" | "GELU" => activation(kind, case),
        "Linear" => linear(case),
        "Conv2d" => conv2d(case),
        "MaxPool2d" | "AvgPool2d" => pool2d(kind, case),
        _ => return Outcome::NotReached,
    };
    match result {
        Ok(()) => Outcome::Passed,
        Err(outcome) => outcome,
    }
}

/// [`check_case`], with a panic inside an op reported as a failure.
fn guarded(kind: &str, case: &Value) -> Outcome {
    catch_unwind(AssertUnwindSafe(|| check_case(kind, case))).unwrap_or_else(|panic| {
        Outcome::Failed(format!("panicked: {}", payload_message(panic.as_ref())))
    })
}

fn case_kind(file_kind: &str, case: &Value) -> String {
    case.get("fn")
        .or_else(|| case.get("layer"))
        .and_then(Value::as_str)
        .unwrap_or(file_kind)
        .to_owned()
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
    let hyper = hyper(
        case,
        &["weight", "ignore_index", "reduction", "label_smoothing"],
    )?;
    require_null(hyper, "weight")?;
    let reduction = reduction(hyper)?;
    let label_smoothing = number(hyper, "label_smoothing")?;
    let x = tensor(case, "input")?;
    let &[n, c] = x.shape.as_slice() else {
        return Err(unsupported(format!(
            "cross_entropy input of shape {:?}: only [N, C]",
            x.shape
        )));
    };
    let targets = class_targets(case, hyper, n)?;
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
    let hyper = match kind {
        "binary_cross_entropy_with_logits" => {
            let hyper = hyper(case, &["weight", "reduction", "pos_weight"])?;
            require_null(hyper, "pos_weight")?;
            hyper
        }
        _ => hyper(case, &["weight", "reduction"])?,
    };
    require_null(hyper, "weight")?;
    let reduction = reduction(hyper)?;
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
    let hyper = hyper(case, &["dim"])?;
    let dim = hyper["dim"]
        .as_i64()
        .ok_or_else(|| unsupported(format!("dim {} is not an integer", hyper["dim"])))?;
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
    match kind {
        "ReLU" => require_eq(hyper(case, &["inplace"])?, "inplace", &Value::Bool(false))?,
        "GELU" => require_eq(
            hyper(case, &["approximate"])?,
            "approximate",
            &Value::from("none"),
        )?,
        _ => {
            hyper(case, &[])?;
        }
    }
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
    let hyper = hyper(case, &["in_features", "out_features", "bias"])?;
    let (d_in, d_out) = (
        usize_of(hyper, "in_features")?,
        usize_of(hyper, "out_features")?,
    );
    let has_bias = hyper["bias"]
        .as_bool()
        .ok_or_else(|| malformed("hyper `bias` is not a bool"))?;
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
    let keys = [
        "in_channels",
        "out_channels",
        "kernel_size",
        "stride",
        "padding",
        "dilation",
        "groups",
        "bias",
        "padding_mode",
    ];
    let hyper = hyper(case, &keys)?;
    require_eq(hyper, "groups", &Value::from(1))?;
    require_eq(hyper, "padding_mode", &Value::from("zeros"))?;
    let (c_in, c_out) = (
        usize_of(hyper, "in_channels")?,
        usize_of(hyper, "out_channels")?,
    );
    let (kh, kw) = pair(hyper, "kernel_size")?;
    let (st, pd, dl) = (
        pair(hyper, "stride")?,
        pair(hyper, "padding")?,
        pair(hyper, "dilation")?,
    );
    let cfg = Conv2dConfig::new(kh, kw)
        .stride(st.0, st.1)
        .padding(pd.0, pd.1)
        .dilation(dl.0, dl.1);
    let has_bias = hyper["bias"]
        .as_bool()
        .ok_or_else(|| malformed("hyper `bias` is not a bool"))?;
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
    let (kh, kw) = pair(case_hyper(case)?, "kernel_size")?;
    let pool = if kind == "MaxPool2d" {
        let hyper = hyper(
            case,
            &[
                "kernel_size",
                "stride",
                "padding",
                "dilation",
                "return_indices",
                "ceil_mode",
            ],
        )?;
        require_eq(hyper, "return_indices", &Value::Bool(false))?;
        let (s, p, d) = (
            pair(hyper, "stride")?,
            pair(hyper, "padding")?,
            pair(hyper, "dilation")?,
        );
        let cfg = MaxPool2dConfig::new(kh, kw)
            .stride(s.0, s.1)
            .padding(p.0, p.1)
            .dilation(d.0, d.1)
            .ceil_mode(flag(hyper, "ceil_mode")?);
        Pool::Max(cfg)
    } else {
        let keys = [
            "kernel_size",
            "stride",
            "padding",
            "ceil_mode",
            "count_include_pad",
            "divisor_override",
        ];
        let hyper = hyper(case, &keys)?;
        let (s, p) = (pair(hyper, "stride")?, pair(hyper, "padding")?);
        let mut cfg = AvgPool2dConfig::new(kh, kw)
            .stride(s.0, s.1)
            .padding(p.0, p.1)
            .ceil_mode(flag(hyper, "ceil_mode")?)
            .count_include_pad(flag(hyper, "count_include_pad")?);
        if !hyper["divisor_override"].is_null() {
            cfg = cfg.divisor_override(usize_of(hyper, "divisor_override")?);
        }
        Pool::Avg(cfg)
    };
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
    assert_close(field, got, &want, RTOL, 0.0).map_err(Outcome::Failed)
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

/// The case's `hyper` object; a key outside `known` is unsupported.
fn hyper<'c>(case: &'c Value, known: &[&str]) -> Check<&'c Map<String, Value>> {
    let hyper = case["hyper"]
        .as_object()
        .ok_or_else(|| malformed("no `hyper` object"))?;
    match hyper.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(unsupported(format!("hyper `{k}` = {}", hyper[k]))),
        None => Ok(hyper),
    }
}

fn require_eq(hyper: &Map<String, Value>, key: &str, want: &Value) -> Check {
    match hyper.get(key) {
        Some(v) if v == want => Ok(()),
        other => Err(unsupported(format!(
            "hyper `{key}` = {other:?}, only {want}"
        ))),
    }
}

fn usize_of(hyper: &Map<String, Value>, key: &str) -> Check<usize> {
    hyper
        .get(key)
        .and_then(Value::as_u64)
        .map(|v| v as usize)
        .ok_or_else(|| malformed(format!("hyper `{key}` is not a count")))
}

fn case_hyper(case: &Value) -> Check<&Map<String, Value>> {
    case["hyper"]
        .as_object()
        .ok_or_else(|| malformed("no `hyper` object"))
}

/// A `[height, width]` pair.
fn pair(hyper: &Map<String, Value>, key: &str) -> Check<(usize, usize)> {
    match hyper.get(key).and_then(Value::as_array).map(Vec::as_slice) {
        Some([a, b]) => match (a.as_u64(), b.as_u64()) {
            (Some(a), Some(b)) => Ok((a as usize, b as usize)),
            _ => Err(malformed(format!("hyper `{key}` is not a pair of counts"))),
        },
        _ => Err(malformed(format!("hyper `{key}` is not a pair"))),
    }
}

fn flag(hyper: &Map<String, Value>, key: &str) -> Check<bool> {
    hyper
        .get(key)
        .and_then(Value::as_bool)
        .ok_or_else(|| malformed(format!("hyper `{key}` is not a bool")))
}

fn require_null(hyper: &Map<String, Value>, key: &str) -> Check {
    match hyper.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(v) => Err(unsupported(format!("hyper `{key}` = {v}"))),
    }
}

fn number(hyper: &Map<String, Value>, key: &str) -> Check<f64> {
    hyper
        .get(key)
        .and_then(golden::number)
        .ok_or_else(|| malformed(format!("hyper `{key}` is not a number")))
}

fn reduction(hyper: &Map<String, Value>) -> Check<Reduction> {
    match hyper.get("reduction").and_then(Value::as_str) {
        Some("mean") => Ok(Reduction::Mean),
        Some("sum") => Ok(Reduction::Sum),
        Some("none") => Ok(Reduction::None),
        other => Err(unsupported(format!("reduction {other:?}"))),
    }
}

/// The class indices of `target` (shape `[n]`, whole numbers as floats);
/// a target equal to `ignore_index` is unsupported.
fn class_targets(case: &Value, hyper: &Map<String, Value>, n: usize) -> Check<Vec<usize>> {
    let t = tensor(case, "target")?;
    if t.shape != [n] {
        return Err(unsupported(format!(
            "target of shape {:?} for {n} rows",
            t.shape
        )));
    }
    let ignore = hyper.get("ignore_index").and_then(golden::number);
    t.data
        .iter()
        .map(|&k| {
            if Some(k) == ignore {
                Err(unsupported(format!("a target uses ignore_index {k}")))
            } else if k >= 0.0 && k.fract() == 0.0 {
                Ok(k as usize)
            } else {
                Err(malformed(format!("target {k} is not a class index")))
            }
        })
        .collect()
}
