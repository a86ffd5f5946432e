//! Golden parity with PyTorch: every case of `optimizers.json` and
//! `clipping.json` in `$DESCENT_GOLDEN_DIR`, in f64 (relative 1e-10) and f32 (1e-5).
//!
//! Cases are dispatched on their `optimizer`/`fn` and `hyper` fields, never on
//! names; a hyperparameter this harness does not know fails the case.

use descent_core::{ParamStore, Scalar, Tags};
use descent_optim::transform::NormType;
use descent_optim::{clip_grad_norm, clip_grad_value};
use descent_testkit::assert_close;
use descent_testkit::golden::{Tensor, load_all, number};
use nalgebra::DMatrix;

#[path = "support/torch.rs"]
mod torch;
use serde_json::Value;
use std::collections::BTreeSet;
use torch::{Hyper, build};

fn cast<S: Scalar>(m: &DMatrix<f64>) -> DMatrix<S> {
    m.map(S::cast)
}

fn widen<S: Scalar>(m: &DMatrix<S>) -> DMatrix<f64> {
    m.map(|x| x.as_f64())
}

fn tensor(v: &Value, what: &str) -> Result<DMatrix<f64>, String> {
    Tensor::parse(v)
        .map(|t| t.matrix())
        .map_err(|e| format!("{what}: {e}"))
}

fn check_optimizer<S: Scalar>(case: &Value, rtol: f64) -> Result<(), String> {
    let class = case["optimizer"].as_str().ok_or("no `optimizer`")?;
    let h = Hyper::new(&case["hyper"])?;
    let p0 = tensor(&case["params0"], "params0")?;
    let mut store = ParamStore::<S>::new();
    let id = store
        .register("p", Tags::WEIGHT, cast(&p0))
        .map_err(|e| e.to_string())?;
    let mut opt = build(&store, class, &h)?;
    h.finish()?;
    let objective = match &case["objective"] {
        Value::Null => None,
        o => Some((
            cast::<S>(&tensor(&o["A"], "A")?),
            cast::<S>(&tensor(&o["b"], "b")?),
        )),
    };
    let grads = case["grads"].as_array().ok_or("no `grads`")?;
    let want = case["params"].as_array().ok_or("no `params`")?;
    if grads.len() != want.len() || grads.is_empty() {
        return Err("`grads` and `params` differ in length".into());
    }
    for (k, (g, w)) in grads.iter().zip(want).enumerate() {
        let grad = match &objective {
            None => cast(&tensor(g, "grad")?),
            // loss = ½ pᵀAp + bᵀp, so ∇ = A p + b (p is a row here).
            Some((a, b)) => (a * store.value(id).transpose()).transpose() + b,
        };
        store.grad_mut(id).copy_from(&grad);
        opt.step(&mut store).map_err(|e| e.to_string())?;
        assert_close(
            &format!("params after step {k}"),
            &widen(store.value(id)),
            &tensor(w, "params")?,
            rtol,
            0.0,
        )?;
    }
    Ok(())
}

fn check_clipping<S: Scalar>(case: &Value, rtol: f64) -> Result<(), String> {
    let f = case["fn"].as_str().ok_or("no `fn`")?;
    let h = Hyper::new(&case["hyper"])?;
    let ins = case["grads_in"].as_array().ok_or("no `grads_in`")?;
    let outs = case["grads_out"].as_array().ok_or("no `grads_out`")?;
    let mut store = ParamStore::<S>::new();
    for (i, g) in ins.iter().enumerate() {
        let g = tensor(g, "grads_in")?;
        let id = store
            .register(
                format!("p{i}"),
                Tags::WEIGHT,
                DMatrix::zeros(g.nrows(), g.ncols()),
            )
            .map_err(|e| e.to_string())?;
        store.grad_mut(id).copy_from(&cast::<S>(&g));
    }
    match f {
        "clip_grad_norm_" => {
            let norm_type = NormType::new(h.f("norm_type")?).map_err(|e| e.to_string())?;
            let total = clip_grad_norm(
                store.grads_mut(),
                h.f("max_norm")?,
                norm_type,
                h.b("error_if_nonfinite")?,
            )
            .map_err(|e| e.to_string())?;
            let want = number(&case["total_norm"]).ok_or("no `total_norm`")?;
            assert_close(
                "total_norm",
                &DMatrix::from_element(1, 1, total),
                &DMatrix::from_element(1, 1, want),
                rtol,
                0.0,
            )?;
        }
        "clip_grad_value_" => {
            clip_grad_value(store.grads_mut(), h.f("clip_value")?).map_err(|e| e.to_string())?;
            if !case["total_norm"].is_null() {
                return Err("clip_grad_value_ has no total norm".into());
            }
        }
        other => return Err(format!("unsupported clipping fn `{other}`")),
    }
    h.finish()?;
    if outs.len() != ins.len() {
        return Err("`grads_in` and `grads_out` differ in length".into());
    }
    for (i, (id, g)) in store.grads().iter().enumerate() {
        assert_close(
            &format!("grad {}", id.index()),
            &widen(g),
            &tensor(&outs[i], "grads_out")?,
            rtol,
            0.0,
        )?;
    }
    Ok(())
}

/// Runs every optimizer and clipping case in precision `S`; returns the count checked.
fn run_all<S: Scalar>(rtol: f64) -> usize {
    let files = load_all().unwrap_or_else(|e| panic!("{e}"));
    let (mut checked, mut failures) = (0, Vec::new());
    let mut kinds = BTreeSet::new();
    for file in &files {
        let check: fn(&Value, f64) -> Result<(), String> = match file.kind.as_str() {
            "optimizers" => check_optimizer::<S>,
            "clipping" => check_clipping::<S>,
            _ => continue,
        };
        kinds.insert(file.kind.clone());
        for case in &file.cases {
            let name = case["name"].as_str().unwrap_or("<unnamed>");
            checked += 1;
            if let Err(e) = check(case, rtol) {
                failures.push(format!("{}/{name}: {e}", file.file_name));
            }
        }
    }
    assert_eq!(
        kinds.len(),
        2,
        "expected optimizers and clipping files, found {kinds:?}"
    );
    println!(
        "{}: checked {checked} golden cases ({} failed)",
        S::NAME,
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    checked
}

#[test]
fn every_optimizer_and_clipping_case_matches_pytorch_in_f64() {
    assert!(run_all::<f64>(1e-10) > 0);
}

#[test]
fn every_optimizer_and_clipping_case_matches_pytorch_in_f32() {
    assert!(run_all::<f32>(1e-5) > 0);
}
