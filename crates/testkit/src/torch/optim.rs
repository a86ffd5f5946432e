//! `torch.optim` optimizers by class name.

use crate::Hyper;
use crate::golden::number;
use descent_core::{ParamStore, Scalar};
use descent_optim::transform::AdjustLr;
use descent_optim::{
    AdadeltaConfig, AdagradConfig, AdamConfig, AdamWConfig, AdamaxConfig, BlockTransform,
    NAdamConfig, Optimizer, OptimizerConfig, RAdamConfig, RmsPropConfig, Selector, SgdConfig,
    WeightDecay,
};
use descent_optim::{
    AdafactorConfig, AsgdConfig, LbfgsConfig, LineSearch, MuonConfig, RpropConfig,
};
use serde_json::Value;

/// The optimizer PyTorch's `class(params, **hyper)` makes, over every
/// parameter of `store`.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_testkit::torch::optimizer;
/// use nalgebra::DMatrix;
/// use serde_json::json;
///
/// let mut store = ParamStore::<f64>::new();
/// store.register("w", Tags::WEIGHT, DMatrix::zeros(1, 3)).unwrap();
/// let hyper = json!({"lr": 0.1, "momentum": 0.9, "dampening": 0.0,
///     "weight_decay": 0.0, "nesterov": false, "maximize": false});
/// assert!(optimizer(&store, "SGD", &hyper).is_ok());
/// let err = optimizer(&store, "SGD", &json!({"lr": 0.1})).unwrap_err();
/// assert!(err.contains("momentum"), "{err}");
/// // LBFGS is closure-based: `lbfgs` builds its configuration instead.
/// assert!(optimizer(&store, "LBFGS", &hyper).is_err());
/// ```
pub fn optimizer<S: Scalar>(
    store: &ParamStore<S>,
    class: &str,
    hyper: &Value,
) -> Result<Optimizer<S>, String> {
    Hyper::read(hyper, |h| build(store, class, h))
}

fn build<S: Scalar>(store: &ParamStore<S>, class: &str, h: &Hyper) -> Result<Optimizer<S>, String> {
    fn go<S: Scalar, C: OptimizerConfig>(
        store: &ParamStore<S>,
        c: C,
    ) -> Result<Optimizer<S>, String>
    where
        C::Transform: BlockTransform<S>,
    {
        descent_optim::optimizers::with_groups(store.params(), &[(Selector::All, c)])
            .map_err(|e| e.to_string())
    }
    let wd = |decoupled: bool| -> Result<WeightDecay, String> {
        Ok(WeightDecay::from_torch(h.f64("weight_decay")?, decoupled))
    };
    match class {
        "SGD" => go(
            store,
            SgdConfig {
                lr: h.f64("lr")?,
                momentum: h.f64("momentum")?,
                dampening: h.f64("dampening")?,
                weight_decay: wd(false)?,
                nesterov: h.bool("nesterov")?,
                maximize: h.bool("maximize")?,
            },
        ),
        "Adagrad" => go(
            store,
            AdagradConfig {
                lr: h.f64("lr")?,
                lr_decay: h.f64("lr_decay")?,
                weight_decay: wd(false)?,
                initial_accumulator_value: h.f64("initial_accumulator_value")?,
                eps: h.f64("eps")?,
                maximize: h.bool("maximize")?,
            },
        ),
        "RMSprop" => go(
            store,
            RmsPropConfig {
                lr: h.f64("lr")?,
                alpha: h.f64("alpha")?,
                eps: h.f64("eps")?,
                weight_decay: wd(false)?,
                momentum: h.f64("momentum")?,
                centered: h.bool("centered")?,
                maximize: h.bool("maximize")?,
            },
        ),
        "Adam" => go(
            store,
            AdamConfig {
                lr: h.f64("lr")?,
                betas: h.pair_f64("betas")?,
                eps: h.f64("eps")?,
                weight_decay: wd(h.bool("decoupled_weight_decay")?)?,
                amsgrad: h.bool("amsgrad")?,
                maximize: h.bool("maximize")?,
            },
        ),
        "AdamW" => go(
            store,
            AdamWConfig {
                lr: h.f64("lr")?,
                betas: h.pair_f64("betas")?,
                eps: h.f64("eps")?,
                weight_decay: wd(true)?,
                amsgrad: h.bool("amsgrad")?,
                maximize: h.bool("maximize")?,
            },
        ),
        "NAdam" => go(
            store,
            NAdamConfig {
                lr: h.f64("lr")?,
                betas: h.pair_f64("betas")?,
                eps: h.f64("eps")?,
                weight_decay: wd(h.bool("decoupled_weight_decay")?)?,
                momentum_decay: h.f64("momentum_decay")?,
                maximize: h.bool("maximize")?,
            },
        ),
        "RAdam" => go(
            store,
            RAdamConfig {
                lr: h.f64("lr")?,
                betas: h.pair_f64("betas")?,
                eps: h.f64("eps")?,
                weight_decay: wd(h.bool("decoupled_weight_decay")?)?,
                maximize: h.bool("maximize")?,
            },
        ),
        "Adamax" => go(
            store,
            AdamaxConfig {
                lr: h.f64("lr")?,
                betas: h.pair_f64("betas")?,
                eps: h.f64("eps")?,
                weight_decay: wd(false)?,
                maximize: h.bool("maximize")?,
            },
        ),
        "Adadelta" => go(
            store,
            AdadeltaConfig {
                lr: h.f64("lr")?,
                rho: h.f64("rho")?,
                eps: h.f64("eps")?,
                weight_decay: wd(false)?,
                maximize: h.bool("maximize")?,
            },
        ),
        "Rprop" => go(
            store,
            RpropConfig {
                lr: h.f64("lr")?,
                etas: h.pair_f64("etas")?,
                step_sizes: h.pair_f64("step_sizes")?,
                maximize: h.bool("maximize")?,
            },
        ),
        "ASGD" => go(
            store,
            AsgdConfig {
                lr: h.f64("lr")?,
                lambd: h.f64("lambd")?,
                alpha: h.f64("alpha")?,
                t0: h.f64("t0")?,
                weight_decay: h.f64("weight_decay")?,
                maximize: h.bool("maximize")?,
            },
        ),
        "Adafactor" => go(store, {
            let eps = h.list("eps")?;
            let eps = match eps {
                [e1, e2] => (
                    // The references ran in float64: PyTorch's `None` was
                    // finfo(float64).eps, whatever precision this run uses.
                    match e1 {
                        Value::Null => Some(f64::EPSILON),
                        e => Some(number(e).ok_or("`eps.0` is not a number")?),
                    },
                    number(e2).ok_or("`eps.1` is not a number")?,
                ),
                _ => return Err(format!("Adafactor `eps` = {eps:?} is not a pair")),
            };
            AdafactorConfig {
                lr: h.f64("lr")?,
                beta2_decay: h.f64("beta2_decay")?,
                eps,
                d: h.f64("d")?,
                weight_decay: h.f64("weight_decay")?,
                maximize: h.bool("maximize")?,
            }
        }),
        "Muon" => go(
            store,
            MuonConfig {
                lr: h.f64("lr")?,
                weight_decay: h.f64("weight_decay")?,
                momentum: h.f64("momentum")?,
                nesterov: h.bool("nesterov")?,
                ns_coefficients: match h.list("ns_coefficients")? {
                    [a, b, c] => match (number(a), number(b), number(c)) {
                        (Some(a), Some(b), Some(c)) => (a, b, c),
                        _ => return Err("Muon `ns_coefficients` are not numbers".into()),
                    },
                    v => return Err(format!("Muon `ns_coefficients` = {v:?} is not a triple")),
                },
                eps: h.f64("eps")?,
                ns_steps: h.usize("ns_steps")?,
                adjust_lr: match h.get("adjust_lr_fn")? {
                    Value::Null => AdjustLr::Original,
                    _ => h.choice(
                        "adjust_lr_fn",
                        &[
                            ("original", AdjustLr::Original),
                            ("match_rms_adamw", AdjustLr::MatchRmsAdamw),
                            ("spectral_unclamped", AdjustLr::SpectralUnclamped),
                        ],
                    )?,
                },
            },
        ),
        other => Err(format!("unsupported optimizer `{other}`")),
    }
}

/// The configuration PyTorch's `LBFGS(params, **hyper)` has (LBFGS is
/// closure-based, so it is not an [`Optimizer`]).
///
/// # Examples
///
/// ```
/// use descent_testkit::torch::lbfgs;
/// use serde_json::json;
///
/// let hyper = json!({"lr": 1.0, "max_iter": 20, "max_eval": null, "tolerance_grad": 1e-7,
///     "tolerance_change": 1e-9, "history_size": 100, "line_search_fn": "strong_wolfe",
///     "maximize": false});
/// assert_eq!(lbfgs(&hyper).unwrap().max_eval(), 25);
/// ```
pub fn lbfgs(hyper: &Value) -> Result<LbfgsConfig, String> {
    Hyper::read(hyper, |h| {
        // PyTorch's LBFGS has no maximize; the reference files write false.
        h.expect("maximize", false)?;
        Ok(LbfgsConfig {
            lr: h.f64("lr")?,
            max_iter: h.usize("max_iter")?,
            max_eval: h.opt_usize("max_eval")?,
            tolerance_grad: h.f64("tolerance_grad")?,
            tolerance_change: h.f64("tolerance_change")?,
            history_size: h.usize("history_size")?,
            line_search: match h.get("line_search_fn")? {
                Value::Null => LineSearch::None,
                _ => h.choice(
                    "line_search_fn",
                    &[("strong_wolfe", LineSearch::StrongWolfe)],
                )?,
            },
        })
    })
}
