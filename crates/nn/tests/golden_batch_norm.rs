//! Golden parity of `BatchNorm1d` and `BatchNorm2d` with PyTorch: every case
//! of every golden file (`$DESCENT_GOLDEN_DIR`, default the repository's
//! `tests/golden/`) whose `layer` is a batch norm runs through the layer as a
//! model would — built from its `hyper`, three training passes (output,
//! input gradient, weight and bias gradients, running statistics after
//! each), then one pass in evaluation — in f64 at a relative tolerance of
//! 1e-9, with no absolute floor. Cases come from
//! `descent_testkit::golden::cases`, which fails on any case no parity test
//! recognises, and are read through `hyper`, never by name; a hyper key this
//! test does not read fails it, and so does a missing golden directory.

use descent_autodiff::{ImageShape, Tape, Var};
use descent_nn::{BatchNorm, BatchNormConfig, Builder, Ctx, Mode, ModelState, Module};
use descent_testkit::golden::{self, Harness, Tensor};
use descent_testkit::{Hyper, assert_close};
use nalgebra::DMatrix;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use serde_json::Value;

const RTOL: f64 = 1e-9;

#[test]
fn every_golden_batch_norm_case_matches_pytorch() {
    let cases = golden::cases(Harness::BatchNorm).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    for case in &cases {
        let result = match case.what.as_str() {
            "BatchNorm1d" => check::<1>(&case.value),
            "BatchNorm2d" => check::<2>(&case.value),
            other => Err(format!("routed here, but no arm checks `{other}`")),
        };
        if let Err(e) = result {
            failures.push(format!("{}: {e}", case.at()));
        }
    }
    println!(
        "checked {} golden batch-norm cases, {} failed",
        cases.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The layer config from `hyper`; a key it does not read is an error.
fn config(hyper: &Value) -> Result<BatchNormConfig, String> {
    Hyper::read(hyper, |h| {
        let mut cfg = BatchNormConfig::new(h.usize("num_features")?);
        cfg.eps = h.f64("eps")?;
        cfg.momentum = h.opt_f64("momentum")?;
        cfg.affine = h.bool("affine")?;
        cfg.track_running_stats = h.bool("track_running_stats")?;
        Ok(cfg)
    })
}

fn tensor(v: &Value, field: &str) -> Result<Tensor, String> {
    Tensor::parse(&v[field]).map_err(|e| format!("{field}: {e}"))
}

/// Compares `got` with `v[field]`, read as the natural matrix of its shape.
fn close(v: &Value, field: &str, got: &DMatrix<f64>) -> Result<(), String> {
    assert_close(field, got, &tensor(v, field)?.matrix(), RTOL, 0.0)
}

/// Input variable: a plain matrix for 1d, an image batch for 2d.
fn input<'t, const D: usize>(
    tape: &'t Tape<f64>,
    t: &Tensor,
    train: bool,
) -> Result<Var<'t, f64>, String> {
    let m = t.matrix();
    match (D, t.shape.as_slice()) {
        (1, [_, _]) => Ok(if train {
            tape.leaf_var(&m)
        } else {
            tape.constant(&m)
        }),
        (2, &[_, c, h, w]) => {
            let s = ImageShape::new(c, h, w);
            Ok(if train {
                tape.leaf_image(&m, s)
            } else {
                tape.constant_image(&m, s)
            })
        }
        _ => Err(format!(
            "BatchNorm{D}d input of shape {:?} is not supported",
            t.shape
        )),
    }
}

fn check<const D: usize>(case: &Value) -> Result<(), String> {
    let cfg = config(&case["hyper"])?;
    let mut state = ModelState::<f64>::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let bn = BatchNorm::<D>::new(&mut Builder::new(&mut state, &mut rng), cfg)
        .map_err(|e| e.to_string())?;
    if let Some((w, b)) = bn.affine() {
        let params = state.params.params_mut();
        params
            .set_value(w, tensor(case, "weight")?.matrix())
            .map_err(|e| e.to_string())?;
        params
            .set_value(b, tensor(case, "bias")?.matrix())
            .map_err(|e| e.to_string())?;
    } else if !case["weight"].is_null() {
        return Err("weight recorded for a layer without affine".into());
    }
    let batches = case["batches"].as_array().ok_or("no `batches`")?;
    let mut tape = Tape::new();
    for (k, batch) in batches.iter().enumerate() {
        let at = |e: String| format!("batch {k}: {e}");
        tape.reset();
        state.params.zero_grad();
        let x_t = tensor(batch, "input").map_err(at)?;
        let (x, y) = {
            let mut ctx = Ctx::new(&tape, &mut state, Mode::Train, &mut rng);
            let x = input::<D>(&tape, &x_t, true).map_err(at)?;
            (x, bn.forward(&mut ctx, x))
        };
        let grad_out = tensor(batch, "grad_output").map_err(at)?.matrix();
        tape.backward_with(y, &grad_out, &mut state.params);
        close(batch, "output", &y.value()).map_err(at)?;
        close(
            batch,
            "grad_input",
            &tape.grad(x).ok_or("no input gradient")?,
        )
        .map_err(at)?;
        match bn.affine() {
            Some((w, b)) => {
                close(batch, "grad_weight", state.params.grad(w)).map_err(at)?;
                close(batch, "grad_bias", state.params.grad(b)).map_err(at)?;
            }
            None if batch["grad_weight"].is_null() => {}
            None => return Err(at("grad_weight recorded without affine".into())),
        }
        match bn.running_stats() {
            Some((m, v, n)) => {
                close(batch, "running_mean", state.buffers.tensor(m)).map_err(at)?;
                close(batch, "running_var", state.buffers.tensor(v)).map_err(at)?;
                if state.buffers.count(n) != k as i64 + 1 {
                    return Err(at(format!(
                        "num_batches_tracked {}",
                        state.buffers.count(n)
                    )));
                }
            }
            None if batch["running_mean"].is_null() => {}
            None => return Err(at("running statistics recorded without tracking".into())),
        }
    }
    tape.reset();
    let mut ctx = Ctx::new(&tape, &mut state, Mode::Eval, &mut rng);
    let x = input::<D>(&tape, &tensor(case, "eval_input")?, false)?;
    close(case, "eval_output", &bn.forward(&mut ctx, x).value())
}
