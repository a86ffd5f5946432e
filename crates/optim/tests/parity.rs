//! Golden parity with PyTorch: every case of `optimizers.json`,
//! `optimizers_torch2.json` and `clipping.json` in the golden directory, in f64 (relative 1e-10, purely
//! relative) and in f32 (relative 1e-5 with an absolute floor of 5e-7,
//! about 8·ε₃₂: a quadratic case's f32 gradient `A·p + b` cancels near the
//! optimum, where its absolute error stays a few ε₃₂·‖A‖·‖p₀‖ while `p`
//! shrinks; the largest seen is 1.1e-7 beyond the relative part).
//!
//! `optimizers_torch2.json` adds: ASGD's average `ax` (checked through
//! `Optimizer::eval_params`), Muon's `ns_float64` run (the tight reference;
//! the bfloat16 `params` are checked within 3% of the case's movement), and
//! closure-based LBFGS cases (the gradient at each step's start, the loss
//! `step` returns, every closure loss, the iteration count exactly).
//!
//! Cases come from `descent_testkit::golden::cases` and are dispatched on
//! their `optimizer`/`fn` and `hyper` fields, never on names; an unknown
//! class or function, a hyperparameter this harness does not read or a
//! value it cannot honour fails the case.

mod common;

use common::{cast, check_fields, close_scalar, list, tensor, widen};
use descent_core::{ParamStore, Scalar, Tags};
use descent_optim::Lbfgs;
use descent_optim::transform::NormType;
use descent_optim::{clip_grad_norm, clip_grad_value};
use descent_testkit::golden::{Harness, number};
use descent_testkit::torch::{lbfgs, optimizer};
use descent_testkit::{Hyper, assert_close};
use nalgebra::{DMatrix, DVector};
use serde_json::Value;

/// Every field an optimizer case may have; any other fails the case.
const OPTIMIZER_FIELDS: &[&str] = &[
    "name",
    "optimizer",
    "hyper",
    "objective",
    "params0",
    "grads",
    "params",
    // ASGD: the averaged iterate after each step.
    "ax",
    // Muon: the same run with Newton–Schulz in float64.
    "ns_float64",
    // LBFGS (closure-based).
    "losses",
    "closure_losses",
    "n_iters",
];

/// `loss = ½ vec(P)ᵀ A vec(P) + Σ b⊙P` with `vec` row-major (FORMAT-next.md).
struct Quadratic<S: Scalar> {
    a: DMatrix<S>,
    b: DMatrix<S>,
}

impl<S: Scalar> Quadratic<S> {
    fn parse(o: &Value) -> Result<Option<Self>, String> {
        Ok(match o {
            Value::Null => None,
            o => Some(Quadratic {
                a: cast(&tensor(&o["A"], "A")?),
                b: cast(&tensor(&o["b"], "b")?),
            }),
        })
    }

    /// `A vec(P) + vec(b)`, reshaped to P's shape (row-major).
    fn grad(&self, p: &DMatrix<S>) -> DMatrix<S> {
        let (r, c) = p.shape();
        let x = DVector::from_iterator(r * c, p.transpose().iter().copied());
        let bt = self.b.transpose();
        let g = &self.a * x + DVector::from_iterator(r * c, bt.iter().copied());
        DMatrix::from_row_slice(r, c, g.as_slice())
    }

    /// The loss, in f64.
    fn loss(&self, p: &DMatrix<S>) -> f64 {
        let (r, c) = p.shape();
        let x = DVector::from_iterator(r * c, p.transpose().iter().map(|v| v.as_f64()));
        let bt = widen(&self.b.transpose());
        0.5 * x.dot(&(widen(&self.a) * &x))
            + x.iter().zip(bt.iter()).map(|(x, b)| x * b).sum::<f64>()
    }
}

/// The largest |params[last] − params0|: Muon's bfloat16 reference is
/// checked to a fraction of it (FORMAT-next.md: about 3%).
fn movement(p0: &DMatrix<f64>, last: &Value) -> Result<f64, String> {
    let last = tensor(last, "params")?;
    Ok((&last - p0).amax())
}

/// Muon's bfloat16 `params` against a float64 Newton–Schulz: within this
/// fraction of the case's total movement (FORMAT-next.md: "up to about 3%";
/// the largest in the file is 1.6%, `muon_no_nesterov/quadratic`).
const BF16_FRACTION: f64 = 0.03;

fn check_optimizer<S: Scalar>(case: &Value, (rtol, atol): (f64, f64)) -> Result<(), String> {
    check_fields(case, OPTIMIZER_FIELDS)?;
    let class = case["optimizer"].as_str().ok_or("no `optimizer`")?;
    let p0 = tensor(&case["params0"], "params0")?;
    let objective = Quadratic::<S>::parse(&case["objective"])?;
    if class == "LBFGS" {
        return check_lbfgs::<S>(case, &p0, objective, (rtol, atol));
    }
    let mut store = ParamStore::<S>::new();
    let id = store
        .register("p", Tags::WEIGHT, cast(&p0))
        .map_err(|e| e.to_string())?;
    let mut opt = optimizer(&store, class, &case["hyper"])?;
    // Muon: the float64 Newton–Schulz run is the tight reference, the
    // recorded (bfloat16) one a loose one.
    let ns = &case["ns_float64"];
    let (grads, want) = match ns {
        Value::Null => (
            list(&case["grads"], "grads")?,
            list(&case["params"], "params")?,
        ),
        ns => (
            list(&ns["grads"], "ns_float64.grads")?,
            list(&ns["params"], "ns_float64.params")?,
        ),
    };
    let bf16 = match ns {
        Value::Null => None,
        _ => {
            let p = list(&case["params"], "params")?;
            let last = p.last().ok_or("empty `params`")?;
            Some((p, BF16_FRACTION * movement(&p0, last)?))
        }
    };
    let ax = match &case["ax"] {
        Value::Null => None,
        v => Some(list(v, "ax")?),
    };
    if grads.len() != want.len() || grads.is_empty() {
        return Err("`grads` and `params` differ in length".into());
    }
    for (k, (g, w)) in grads.iter().enumerate().map(|(k, g)| (k, (g, &want[k]))) {
        let grad = match &objective {
            None => cast(&tensor(g, "grad")?),
            Some(q) => q.grad(store.value(id)),
        };
        store.grad_mut(id).copy_from(&grad);
        opt.step(&mut store).map_err(|e| e.to_string())?;
        let got = widen(store.value(id));
        assert_close(
            &format!("params after step {k}"),
            &got,
            &tensor(w, "params")?,
            rtol,
            atol,
        )?;
        if let Some((p, tol)) = &bf16 {
            let w = p.get(k).ok_or("`params` shorter than `grads`")?;
            assert_close(
                &format!("bfloat16 params after step {k}"),
                &got,
                &tensor(w, "params")?,
                0.0,
                *tol,
            )?;
        }
        if let Some(ax) = ax {
            let mut eval = store.params().clone();
            opt.eval_params(&mut eval).map_err(|e| e.to_string())?;
            let w = ax.get(k).ok_or("`ax` shorter than `grads`")?;
            assert_close(
                &format!("ax after step {k}"),
                &widen(eval.value(id)),
                &tensor(w, "ax")?,
                rtol,
                atol,
            )?;
        }
    }
    Ok(())
}

/// LBFGS: one `step(closure)` per recorded step, the closure computing the
/// quadratic's loss and gradient; checks the gradient at the start of each
/// step, the loss `step` returns, every closure loss, the iteration count
/// (exactly) and the parameters after the step.
fn check_lbfgs<S: Scalar>(
    case: &Value,
    p0: &DMatrix<f64>,
    objective: Option<Quadratic<S>>,
    (rtol, atol): (f64, f64),
) -> Result<(), String> {
    let q = objective.ok_or("LBFGS cases are closure-based: they need an `objective`")?;
    let cfg = lbfgs(&case["hyper"])?;
    let mut store = ParamStore::<S>::new();
    let id = store
        .register("p", Tags::WEIGHT, cast(p0))
        .map_err(|e| e.to_string())?;
    let mut opt = Lbfgs::new(store.params(), cfg).map_err(|e| e.to_string())?;
    let grads = list(&case["grads"], "grads")?;
    let want = list(&case["params"], "params")?;
    let losses = list(&case["losses"], "losses")?;
    let closure_losses = list(&case["closure_losses"], "closure_losses")?;
    let n_iters = list(&case["n_iters"], "n_iters")?;
    let n = grads.len();
    if n == 0
        || [
            want.len(),
            losses.len(),
            closure_losses.len(),
            n_iters.len(),
        ] != [n; 4]
    {
        return Err("the LBFGS lists differ in length".into());
    }
    let close = |what: String, got: f64, want: f64| close_scalar(&what, got, want, rtol, atol);
    // A p + b cancels near the optimum, where its error stays about
    // ε·‖A‖·‖p‖: gradients are checked to the tolerance relative to the
    // first one's size as well as their own.
    let g_atol = atol + rtol * tensor(&grads[0], "grads")?.amax();
    for k in 0..n {
        assert_close(
            &format!("gradient before step {k}"),
            &widen(&q.grad(store.value(id))),
            &tensor(&grads[k], "grads")?,
            rtol,
            g_atol,
        )?;
        let step = opt
            .step(&mut store, |s| {
                let g = q.grad(s.value(id));
                s.grad_mut(id).copy_from(&g);
                q.loss(s.value(id))
            })
            .map_err(|e| e.to_string())?;
        close(
            format!("loss of step {k}"),
            step.loss,
            number(&losses[k]).ok_or("bad loss")?,
        )?;
        let want_losses = list(&closure_losses[k], "closure_losses")?;
        if step.losses.len() != want_losses.len() {
            return Err(format!(
                "step {k}: {} closure evaluations, PyTorch made {}",
                step.losses.len(),
                want_losses.len()
            ));
        }
        for (j, (&got, w)) in step.losses.iter().zip(want_losses).enumerate() {
            close(
                format!("closure loss {j} of step {k}"),
                got,
                number(w).ok_or("bad loss")?,
            )?;
        }
        let want_iters = n_iters[k].as_u64().ok_or("bad `n_iters`")?;
        if step.n_iters != want_iters {
            return Err(format!(
                "step {k}: {} iterations, PyTorch ran {want_iters}",
                step.n_iters
            ));
        }
        assert_close(
            &format!("params after step {k}"),
            &widen(store.value(id)),
            &tensor(&want[k], "params")?,
            rtol,
            atol,
        )?;
    }
    Ok(())
}

fn check_clipping<S: Scalar>(case: &Value, (rtol, atol): (f64, f64)) -> Result<(), String> {
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
            let norm_type = NormType::new(h.f64("norm_type")?).map_err(|e| e.to_string())?;
            let total = clip_grad_norm(
                store.grads_mut(),
                h.f64("max_norm")?,
                norm_type,
                h.bool("error_if_nonfinite")?,
            )
            .map_err(|e| e.to_string())?;
            let want = number(&case["total_norm"]).ok_or("no `total_norm`")?;
            assert_close(
                "total_norm",
                &DMatrix::from_element(1, 1, total),
                &DMatrix::from_element(1, 1, want),
                rtol,
                atol,
            )?;
        }
        "clip_grad_value_" => {
            clip_grad_value(store.grads_mut(), h.f64("clip_value")?).map_err(|e| e.to_string())?;
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
            atol,
        )?;
    }
    Ok(())
}

/// Every optimizer and clipping case in precision `S`; returns the count checked.
fn run_all<S: Scalar>(tol: (f64, f64)) -> usize {
    common::run_all::<S>(
        Harness::Optim,
        &[
            ("optimizers", check_optimizer::<S>),
            ("clipping", check_clipping::<S>),
        ],
        tol,
    )
}

#[test]
fn every_optimizer_and_clipping_case_matches_pytorch_in_f64() {
    assert!(run_all::<f64>((1e-10, 0.0)) > 0);
}

#[test]
fn every_optimizer_and_clipping_case_matches_pytorch_in_f32() {
    assert!(run_all::<f32>((1e-5, 5e-7)) > 0);
}
