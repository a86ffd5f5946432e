//! `torch.optim` optimizers by class name.

use crate::Hyper;
use crate::config::{over_all, read_config};
use crate::golden::number;
use descent_core::{ParamStore, Scalar};
use descent_optim::transform::AdjustLr;
use descent_optim::{
    AdadeltaConfig, AdagradConfig, AdamConfig, AdamWConfig, AdamaxConfig, NAdamConfig, Optimizer,
    RAdamConfig, RmsPropConfig, SgdConfig, WeightDecay,
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
    let wd = |decoupled: bool| -> Result<WeightDecay, String> {
        Ok(WeightDecay::from_torch(h.f64("weight_decay")?, decoupled))
    };
    match class {
        "SGD" => over_all(
            store,
            read_config!(h => SgdConfig {
                lr: f64, momentum: f64, dampening: f64, weight_decay = wd(false)?,
                nesterov: bool, maximize: bool,
            }),
        ),
        "Adagrad" => over_all(
            store,
            read_config!(h => AdagradConfig {
                lr: f64, lr_decay: f64, weight_decay = wd(false)?,
                initial_accumulator_value: f64, eps: f64, maximize: bool,
            }),
        ),
        "RMSprop" => over_all(
            store,
            read_config!(h => RmsPropConfig {
                lr: f64, alpha: f64, eps: f64, weight_decay = wd(false)?,
                momentum: f64, centered: bool, maximize: bool,
            }),
        ),
        "Adam" => over_all(
            store,
            read_config!(h => AdamConfig {
                lr: f64, betas: pair_f64, eps: f64,
                weight_decay = wd(h.bool("decoupled_weight_decay")?)?,
                amsgrad: bool, maximize: bool,
            }),
        ),
        "AdamW" => over_all(
            store,
            read_config!(h => AdamWConfig {
                lr: f64, betas: pair_f64, eps: f64, weight_decay = wd(true)?,
                amsgrad: bool, maximize: bool,
            }),
        ),
        "NAdam" => over_all(
            store,
            read_config!(h => NAdamConfig {
                lr: f64, betas: pair_f64, eps: f64,
                weight_decay = wd(h.bool("decoupled_weight_decay")?)?,
                momentum_decay: f64, maximize: bool,
            }),
        ),
        "RAdam" => over_all(
            store,
            read_config!(h => RAdamConfig {
                lr: f64, betas: pair_f64, eps: f64,
                weight_decay = wd(h.bool("decoupled_weight_decay")?)?, maximize: bool,
            }),
        ),
        "Adamax" => over_all(
            store,
            read_config!(h => AdamaxConfig {
                lr: f64, betas: pair_f64, eps: f64, weight_decay = wd(false)?, maximize: bool,
            }),
        ),
        "Adadelta" => over_all(
            store,
            read_config!(h => AdadeltaConfig {
                lr: f64, rho: f64, eps: f64, weight_decay = wd(false)?, maximize: bool,
            }),
        ),
        "Rprop" => over_all(
            store,
            read_config!(h => RpropConfig {
                lr: f64, etas: pair_f64, step_sizes: pair_f64, maximize: bool,
            }),
        ),
        "ASGD" => over_all(
            store,
            read_config!(h => AsgdConfig {
                lr: f64, lambd: f64, alpha: f64, t0: f64, weight_decay: f64, maximize: bool,
            }),
        ),
        "Adafactor" => over_all(store, {
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
        "Muon" => over_all(
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
