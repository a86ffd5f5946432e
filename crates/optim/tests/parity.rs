//! Golden parity with PyTorch: every case of `optimizers.json` and
//! `clipping.json` in `$DESCENT_GOLDEN_DIR`, in f64 (relative 1e-10) and f32 (1e-5).
//!
//! Cases are dispatched on their `optimizer`/`fn` and `hyper` fields, never on
//! names; a hyperparameter this harness does not know fails the case.

use descent_core::{ParamStore, Scalar, Tags};
use descent_optim::transform::NormType;
use descent_optim::{
    AdadeltaConfig, AdagradConfig, AdamConfig, AdamWConfig, AdamaxConfig, NAdamConfig, Optimizer,
    OptimizerConfig, RAdamConfig, RmsPropConfig, SgdConfig, WeightDecay, clip_grad_norm,
    clip_grad_value,
};
use descent_testkit::assert_close;
use descent_testkit::golden::{Tensor, load_all, number};
use nalgebra::DMatrix;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::BTreeSet;

/// Reads hyperparameters and remembers which ones were used.
struct Hyper<'a> {
    map: &'a Map<String, Value>,
    used: RefCell<BTreeSet<String>>,
}

impl<'a> Hyper<'a> {
    fn new(v: &'a Value) -> Result<Self, String> {
        let map = v.as_object().ok_or("`hyper` is not an object")?;
        Ok(Hyper {
            map,
            used: RefCell::new(BTreeSet::new()),
        })
    }

    fn get(&self, k: &str) -> Result<&'a Value, String> {
        self.used.borrow_mut().insert(k.to_owned());
        self.map
            .get(k)
            .ok_or_else(|| format!("hyper `{k}` missing"))
    }

    fn f(&self, k: &str) -> Result<f64, String> {
        number(self.get(k)?).ok_or_else(|| format!("hyper `{k}` is not a number"))
    }

    fn b(&self, k: &str) -> Result<bool, String> {
        self.get(k)?
            .as_bool()
            .ok_or_else(|| format!("hyper `{k}` is not a bool"))
    }

    fn pair(&self, k: &str) -> Result<(f64, f64), String> {
        match self.get(k)?.as_array().map(|a| a.as_slice()) {
            Some([a, b]) => Ok((number(a).ok_or("bad pair")?, number(b).ok_or("bad pair")?)),
            _ => Err(format!("hyper `{k}` is not a pair")),
        }
    }

    /// Fails when a field was not read: every hyperparameter must be honoured.
    fn finish(&self) -> Result<(), String> {
        let used = self.used.borrow();
        let unknown: Vec<&String> = self.map.keys().filter(|k| !used.contains(*k)).collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(format!("unsupported hyperparameters {unknown:?}"))
        }
    }
}

fn build<S: Scalar>(store: &ParamStore<S>, class: &str, h: &Hyper) -> Result<Optimizer<S>, String> {
    fn go<S: Scalar, C: OptimizerConfig>(
        store: &ParamStore<S>,
        c: C,
    ) -> Result<Optimizer<S>, String>
    where
        C::Transform: descent_optim::BlockTransform<S>,
    {
        descent_optim::optimizers::with_groups(store.params(), &[(descent_optim::Selector::All, c)])
            .map_err(|e| e.to_string())
    }
    let wd = |decoupled: bool| -> Result<WeightDecay, String> {
        Ok(WeightDecay::from_torch(h.f("weight_decay")?, decoupled))
    };
    match class {
        "SGD" => go(
            store,
            SgdConfig {
                lr: h.f("lr")?,
                momentum: h.f("momentum")?,
                dampening: h.f("dampening")?,
                weight_decay: wd(false)?,
                nesterov: h.b("nesterov")?,
                maximize: h.b("maximize")?,
            },
        ),
        "Adagrad" => go(
            store,
            AdagradConfig {
                lr: h.f("lr")?,
                lr_decay: h.f("lr_decay")?,
                weight_decay: wd(false)?,
                initial_accumulator_value: h.f("initial_accumulator_value")?,
                eps: h.f("eps")?,
                maximize: h.b("maximize")?,
            },
        ),
        "RMSprop" => go(
            store,
            RmsPropConfig {
                lr: h.f("lr")?,
                alpha: h.f("alpha")?,
                eps: h.f("eps")?,
                weight_decay: wd(false)?,
                momentum: h.f("momentum")?,
                centered: h.b("centered")?,
                maximize: h.b("maximize")?,
            },
        ),
        "Adam" => go(
            store,
            AdamConfig {
                lr: h.f("lr")?,
                betas: h.pair("betas")?,
                eps: h.f("eps")?,
                weight_decay: wd(h.b("decoupled_weight_decay")?)?,
                amsgrad: h.b("amsgrad")?,
                maximize: h.b("maximize")?,
            },
        ),
        "AdamW" => go(
            store,
            AdamWConfig {
                lr: h.f("lr")?,
                betas: h.pair("betas")?,
                eps: h.f("eps")?,
                weight_decay: wd(true)?,
                amsgrad: h.b("amsgrad")?,
                maximize: h.b("maximize")?,
            },
        ),
        "NAdam" => go(
            store,
            NAdamConfig {
                lr: h.f("lr")?,
                betas: h.pair("betas")?,
                eps: h.f("eps")?,
                weight_decay: wd(h.b("decoupled_weight_decay")?)?,
                momentum_decay: h.f("momentum_decay")?,
                maximize: h.b("maximize")?,
            },
        ),
        "RAdam" => go(
            store,
            RAdamConfig {
                lr: h.f("lr")?,
                betas: h.pair("betas")?,
                eps: h.f("eps")?,
                weight_decay: wd(h.b("decoupled_weight_decay")?)?,
                maximize: h.b("maximize")?,
            },
        ),
        "Adamax" => go(
            store,
            AdamaxConfig {
                lr: h.f("lr")?,
                betas: h.pair("betas")?,
                eps: h.f("eps")?,
                weight_decay: wd(false)?,
                maximize: h.b("maximize")?,
            },
        ),
        "Adadelta" => go(
            store,
            AdadeltaConfig {
                lr: h.f("lr")?,
                rho: h.f("rho")?,
                eps: h.f("eps")?,
                weight_decay: wd(false)?,
                maximize: h.b("maximize")?,
            },
        ),
        other => Err(format!("unsupported optimizer `{other}`")),
    }
}

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
