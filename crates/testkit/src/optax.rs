//! Building descent's optimizers from an optax function name and its golden
//! `hyper` object (`optimizers_optax.json`), for `descent-optim`'s parity test.
//!
//! Every builder reads its `hyper` through [`Hyper`] and finishes it: an
//! argument it does not read, a value it cannot honour (a `mask` callable, a
//! `mu_dtype`) or a name it does not know is an error naming it.

use crate::Hyper;
use descent_core::{ParamStore, Scalar};
use descent_optim::transform::HessianFeed;
use descent_optim::{
    AdaBeliefConfig, BlockTransform, LambConfig, LarsConfig, LookaheadConfig, NovoGradConfig,
    OptaxAdamConfig, Optimizer, OptimizerConfig, ProdigyConfig, ScheduleFreeAdamWConfig,
    ScheduleFreeSgdConfig, Selector, SophiaConfig, YogiConfig,
};
use serde_json::Value;

/// The optax function names [`optimizer`] builds.
pub const NAMES: &[&str] = &[
    "lamb",
    "lars",
    "adabelief",
    "yogi",
    "novograd",
    "lookahead",
    "schedule_free_adamw",
    "schedule_free_sgd",
    "prodigy",
    "sophia",
];

/// The optimizer optax's `name(**hyper)` makes, over every parameter of
/// `store`. Sophia reads its Hessian-diagonal estimates from `hessian`
/// (optax's `hessian_diagonal_fn` must be null, its default estimator, whose
/// values the caller provides); the other optimizers ignore it.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::transform::HessianFeed;
/// use descent_testkit::optax::optimizer;
/// use nalgebra::DMatrix;
/// use serde_json::json;
///
/// let mut store = ParamStore::<f64>::new();
/// store.register("w", Tags::WEIGHT, DMatrix::zeros(1, 3)).unwrap();
/// let feed = HessianFeed::new();
/// let hyper = json!({"learning_rate": 0.01, "b1": 0.9, "b2": 0.999, "eps": 1e-3});
/// assert!(optimizer(&store, "yogi", &hyper, &feed).is_ok());
/// let err = optimizer(&store, "yogi", &json!({"learning_rate": 0.01}), &feed).unwrap_err();
/// assert!(err.contains("b1"), "{err}");
/// assert!(optimizer(&store, "sm3", &hyper, &feed).is_err());
/// ```
pub fn optimizer<S: Scalar>(
    store: &ParamStore<S>,
    name: &str,
    hyper: &Value,
    hessian: &HessianFeed,
) -> Result<Optimizer<S>, String> {
    Hyper::read(hyper, |h| build(store, name, h, hessian))
}

fn go<S: Scalar, C: OptimizerConfig>(store: &ParamStore<S>, c: C) -> Result<Optimizer<S>, String>
where
    C::Transform: BlockTransform<S>,
{
    descent_optim::optimizers::with_groups(store.params(), &[(Selector::All, c)])
        .map_err(|e| e.to_string())
}

/// optax's boolean mask for a single-leaf parameter: true selects it.
fn mask(h: &Hyper, key: &str) -> Result<Selector, String> {
    Ok(if h.bool(key)? {
        Selector::All
    } else {
        Selector::All.not()
    })
}

/// optax's `adam` arguments.
fn adam(h: &Hyper) -> Result<OptaxAdamConfig, String> {
    h.null("mu_dtype")?;
    Ok(OptaxAdamConfig {
        lr: h.f64("learning_rate")?,
        b1: h.f64("b1")?,
        b2: h.f64("b2")?,
        eps: h.f64("eps")?,
        eps_root: h.f64("eps_root")?,
        nesterov: h.bool("nesterov")?,
    })
}

fn build<S: Scalar>(
    store: &ParamStore<S>,
    name: &str,
    h: &Hyper,
    hessian: &HessianFeed,
) -> Result<Optimizer<S>, String> {
    match name {
        "lamb" => {
            h.null("mask")?;
            go(
                store,
                LambConfig {
                    lr: h.f64("learning_rate")?,
                    b1: h.f64("b1")?,
                    b2: h.f64("b2")?,
                    eps: h.f64("eps")?,
                    eps_root: h.f64("eps_root")?,
                    weight_decay: h.f64("weight_decay")?,
                    mask: Selector::All,
                },
            )
        }
        "lars" => go(
            store,
            LarsConfig {
                lr: h.f64("learning_rate")?,
                weight_decay: h.f64("weight_decay")?,
                weight_decay_mask: mask(h, "weight_decay_mask")?,
                trust_coefficient: h.f64("trust_coefficient")?,
                eps: h.f64("eps")?,
                trust_ratio_mask: mask(h, "trust_ratio_mask")?,
                momentum: h.f64("momentum")?,
                nesterov: h.bool("nesterov")?,
            },
        ),
        "adabelief" => go(
            store,
            AdaBeliefConfig {
                lr: h.f64("learning_rate")?,
                b1: h.f64("b1")?,
                b2: h.f64("b2")?,
                eps: h.f64("eps")?,
                eps_root: h.f64("eps_root")?,
                nesterov: h.bool("nesterov")?,
            },
        ),
        "yogi" => go(
            store,
            YogiConfig {
                lr: h.f64("learning_rate")?,
                b1: h.f64("b1")?,
                b2: h.f64("b2")?,
                eps: h.f64("eps")?,
            },
        ),
        "novograd" => go(
            store,
            NovoGradConfig {
                lr: h.f64("learning_rate")?,
                b1: h.f64("b1")?,
                b2: h.f64("b2")?,
                eps: h.f64("eps")?,
                eps_root: h.f64("eps_root")?,
                weight_decay: h.f64("weight_decay")?,
            },
        ),
        "lookahead" => {
            let fast = Hyper::named(h.get("fast_optimizer")?, "fast_optimizer")?;
            let name = fast.str("optimizer")?;
            if name != "adam" {
                return Err(format!("unsupported lookahead fast optimizer `{name}`"));
            }
            let cfg = Hyper::read(fast.get("hyper")?, adam)?;
            fast.finish()?;
            go(
                store,
                LookaheadConfig {
                    fast: cfg,
                    sync_period: h.u64("sync_period")?,
                    slow_step_size: h.f64("slow_step_size")?,
                    reset_state: h.bool("reset_state")?,
                },
            )
        }
        "schedule_free_sgd" => {
            h.null("state_dtype")?;
            go(
                store,
                ScheduleFreeSgdConfig {
                    lr: h.f64("learning_rate")?,
                    warmup_steps: h.opt_u64("warmup_steps")?,
                    b1: h.f64("b1")?,
                    weight_decay: h.opt_f64("weight_decay")?,
                    weight_lr_power: h.f64("weight_lr_power")?,
                },
            )
        }
        "schedule_free_adamw" => {
            h.null("state_dtype")?;
            go(
                store,
                ScheduleFreeAdamWConfig {
                    lr: h.f64("learning_rate")?,
                    warmup_steps: h.opt_u64("warmup_steps")?,
                    b1: h.f64("b1")?,
                    b2: h.f64("b2")?,
                    eps: h.f64("eps")?,
                    weight_decay: h.f64("weight_decay")?,
                    weight_lr_power: h.f64("weight_lr_power")?,
                },
            )
        }
        "prodigy" => go(
            store,
            ProdigyConfig {
                lr: h.f64("learning_rate")?,
                betas: h.pair_f64("betas")?,
                beta3: h.opt_f64("beta3")?,
                eps: h.f64("eps")?,
                estim_lr0: h.f64("estim_lr0")?,
                estim_lr_coef: h.f64("estim_lr_coef")?,
                weight_decay: h.f64("weight_decay")?,
                safeguard_warmup: h.bool("safeguard_warmup")?,
            },
        ),
        "sophia" => {
            h.null("weight_decay_mask")?;
            h.null("hessian_diagonal_fn")?;
            h.null("mu_dtype")?;
            h.expect("verbose", false)?;
            // Only read when `verbose` (false here) prints the win rate.
            h.u64("print_win_rate_every_n_steps")?;
            go(
                store,
                SophiaConfig {
                    lr: h.f64("learning_rate")?,
                    b1: h.f64("b1")?,
                    b2: h.f64("b2")?,
                    eps: h.f64("eps")?,
                    weight_decay: h.f64("weight_decay")?,
                    weight_decay_mask: Selector::All,
                    gamma: h.f64("gamma")?,
                    clip_threshold: h.opt_f64("clip_threshold")?,
                    update_interval: h.u64("update_interval")?,
                    hessian: hessian.clone(),
                },
            )
        }
        other => Err(format!("unsupported optax optimizer `{other}`")),
    }
}
