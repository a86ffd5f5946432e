//! Schedules driving a running optimizer, against PyTorch: every case of
//! `schedulers.json` in the golden directory trains a fresh SGD (built from
//! the case's `optimizer`) with the case's scheduler installed through the
//! optimizer — `set_lr_schedule`, `set_momentum_schedule` when the case
//! cycles momentum, `set_lr_plateau` and `observe_metric` for plateau cases.
//!
//! The golden file records the rates and momentums PyTorch's scheduler set
//! before each step, but no parameters (its optimizer had no gradient). So
//! the parameters are checked against an independent by-hand SGD in f64 —
//! PyTorch's formula, `buf = g` on the first step, then
//! `buf = μ_t·buf + (1 − dampening)·g` with the step's recorded momentum
//! (the buffer kept as it is when μ changes), `p −= lr_t·buf` (or the
//! Nesterov form) with the step's recorded rate — on a quadratic, step for
//! step, at relative 1e-10 (the schedules' closed forms agree with PyTorch's
//! recursions to about 1e-14). Unknown schedulers or unread arguments fail.

use descent_core::{ParamStore, Tags};
use descent_optim::Optimizer;
use descent_testkit::Hyper;
use descent_testkit::golden::{self, Harness};
use descent_testkit::torch::{self, Built};
use nalgebra::DMatrix;
use serde_json::Value;

const RTOL: f64 = 1e-10;
const P0: [f64; 3] = [1.0, -2.0, 0.5];
const TARGET: [f64; 3] = [0.3, 0.1, -0.7];

#[test]
fn every_scheduler_case_drives_a_running_sgd_as_pytorch_does() {
    let cases = golden::cases(Harness::ScheduledSgd).unwrap_or_else(|e| panic!("{e}"));
    let (mut cycled, mut failures) = (0, Vec::new());
    for case in &cases {
        match run_case(&case.value) {
            Ok(true) => cycled += 1,
            Ok(false) => {}
            Err(e) => failures.push(format!("{}: {e}", case.at())),
        }
    }
    println!(
        "checked {} scheduler cases on a running SGD ({cycled} cycling momentum), {} failed",
        cases.len(),
        failures.len()
    );
    assert!(cycled > 0, "no case cycles momentum");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn numbers(v: &Value, what: &str) -> Result<Vec<f64>, String> {
    v.as_array()
        .ok_or(format!("`{what}` is not a list"))?
        .iter()
        .map(|x| golden::number(x).ok_or(format!("`{what}` holds a non-number")))
        .collect()
}

fn close(what: &str, step: usize, got: f64, want: f64) -> Result<(), String> {
    match (got - want).abs() <= RTOL * want.abs().max(1e-12) {
        true => Ok(()),
        false => Err(format!("{what} at step {step}: got {got}, expected {want}")),
    }
}

/// Runs one case; returns whether it cycled momentum.
fn run_case(case: &Value) -> Result<bool, String> {
    let mut store = ParamStore::<f64>::new();
    let id = store
        .register("p", Tags::WEIGHT, DMatrix::from_row_slice(1, 3, &P0))
        .map_err(|e| e.to_string())?;
    let class = case["optimizer"]["optimizer"]
        .as_str()
        .ok_or("optimizer without a name")?;
    if class != "SGD" {
        return Err(format!("unsupported optimizer `{class}`"));
    }
    let hyper = &case["optimizer"]["hyper"];
    let mut opt: Optimizer<f64> = torch::optimizer(&store, class, hyper)?;
    let (base_lr, momentum0, dampening, nesterov, weight_decay, maximize) =
        Hyper::read(hyper, |h| {
            let r = (
                h.f64("lr")?,
                h.f64("momentum")?,
                h.f64("dampening")?,
                h.bool("nesterov")?,
                h.f64("weight_decay")?,
                h.bool("maximize")?,
            );
            Ok(r)
        })?;

    let name = case["scheduler"].as_str().ok_or("no `scheduler`")?;
    let lrs = numbers(&case["lrs"], "lrs")?;
    let momentums = match &case["momentums"] {
        Value::Null => None,
        v => Some(numbers(v, "momentums")?),
    };
    let metrics = match torch::scheduler(name, &case["hyper"], base_lr)? {
        Built::Pure { lr, momentum } => {
            opt.set_lr_schedule(lr);
            // A cycling-capable schedule with cycling off gives no momentums.
            let momentum = momentum.filter(|m| m(0).is_some());
            match (momentum, &momentums) {
                (Some(m), Some(_)) => opt
                    .set_momentum_schedule(move |t: u64| m(t).unwrap_or(f64::NAN))
                    .map_err(|e| e.to_string())?,
                (None, None) => {}
                _ => return Err("momentum cycling differs from the recorded case".into()),
            }
            None
        }
        Built::Plateau(p) => {
            opt.set_lr_plateau(p);
            Some(numbers(&case["metrics"], "metrics")?)
        }
    };

    // lrs[k] and momentums[k] are in force for optimizer step k.
    let (mut p, mut buf) = (P0.to_vec(), None::<Vec<f64>>);
    for (k, &lr) in lrs.iter().enumerate() {
        let mu = momentums.as_ref().map_or(momentum0, |m| m[k]);
        close("lr", k, opt.effective_lr(0).map_err(|e| e.to_string())?, lr)?;
        if momentums.is_some() {
            close("momentum", k, opt.momentum().ok_or("no momentum")?, mu)?;
        }
        let grad: Vec<f64> = p.iter().zip(TARGET).map(|(x, c)| x - c).collect();
        store.grad_mut(id).copy_from_slice(&grad);
        opt.step(&mut store).map_err(|e| e.to_string())?;
        if let (Some(metrics), true) = (&metrics, k < lrs.len() - 1) {
            opt.observe_metric(metrics[k]).map_err(|e| e.to_string())?;
        }

        // PyTorch's SGD, by hand.
        let d: Vec<f64> = grad
            .iter()
            .zip(&p)
            .map(|(&g, &x)| if maximize { -g } else { g } + weight_decay * x)
            .collect();
        let step: Vec<f64> = if mu != 0.0 {
            let b = match buf.take() {
                None => d.clone(),
                Some(b) => b
                    .iter()
                    .zip(&d)
                    .map(|(b, g)| mu * b + (1.0 - dampening) * g)
                    .collect(),
            };
            let s = match nesterov {
                true => d.iter().zip(&b).map(|(g, b)| g + mu * b).collect(),
                false => b.clone(),
            };
            buf = Some(b);
            s
        } else {
            d
        };
        p.iter_mut().zip(&step).for_each(|(x, s)| *x -= lr * s);
        for (j, (&got, &want)) in store.value(id).iter().zip(&p).enumerate() {
            close(&format!("p[{j}]"), k, got, want)?;
        }
    }
    Ok(momentums.is_some())
}
