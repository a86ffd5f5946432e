//! Building descent's optimizers from an optax function name and its golden
//! `hyper` object (`optimizers_optax.json`), for `descent-optim`'s parity test.
//!
//! Every builder reads its `hyper` through [`Hyper`] and finishes it: an
//! argument it does not read, a value it cannot honour (a `mask` callable, a
//! `mu_dtype`) or a name it does not know is an error naming it.

use crate::Hyper;
use crate::config::{over_all, read_config};
use descent_core::{ParamStore, Scalar};
use descent_optim::transform::HessianFeed;
use descent_optim::{
    AdaBeliefConfig, LambConfig, LarsConfig, LookaheadConfig, NovoGradConfig, OptaxAdamConfig,
    Optimizer, ProdigyConfig, ScheduleFreeAdamWConfig, ScheduleFreeSgdConfig, Selector,
    SophiaConfig, YogiConfig,
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

/// Builds one optimizer from a store, its `hyper` and the Hessian feed.
type Builder<S> = fn(&ParamStore<S>, &Hyper, &HessianFeed) -> Result<Optimizer<S>, String>;

/// One optax function descent builds: its name, the arguments that must be
/// null (callables and dtypes descent cannot honour), and the builder that
/// reads the rest of its `hyper`.
struct Entry<S: Scalar> {
    name: &'static str,
    nulls: &'static [&'static str],
    build: Builder<S>,
}

/// optax's `learning_rate`, `b1`, `b2` and `eps`, the four arguments the
/// Adam-like optimizers share, as [`read_config!`] fields.
macro_rules! moments {
    ($h:ident => $ty:ident { $($rest:tt)* }) => {
        read_config!($h => $ty { lr: f64("learning_rate"), b1: f64, b2: f64, eps: f64, $($rest)* })
    };
}

/// Every optax function [`optimizer`] builds, in the order of [`NAMES`].
fn table<S: Scalar>() -> [Entry<S>; 10] {
    [
        Entry {
            name: "lamb",
            nulls: &["mask"],
            build: |store, h, _| {
                over_all(
                    store,
                    moments!(h => LambConfig {
                        eps_root: f64, weight_decay: f64, mask = Selector::All,
                    }),
                )
            },
        },
        Entry {
            name: "lars",
            nulls: &[],
            build: |store, h, _| {
                over_all(
                    store,
                    read_config!(h => LarsConfig {
                        lr: f64("learning_rate"), weight_decay: f64,
                        weight_decay_mask = mask(h, "weight_decay_mask")?,
                        trust_coefficient: f64, eps: f64,
                        trust_ratio_mask = mask(h, "trust_ratio_mask")?,
                        momentum: f64, nesterov: bool,
                    }),
                )
            },
        },
        Entry {
            name: "adabelief",
            nulls: &[],
            build: |store, h, _| {
                over_all(
                    store,
                    moments!(h => AdaBeliefConfig { eps_root: f64, nesterov: bool }),
                )
            },
        },
        Entry {
            name: "yogi",
            nulls: &[],
            build: |store, h, _| over_all(store, moments!(h => YogiConfig {})),
        },
        Entry {
            name: "novograd",
            nulls: &[],
            build: |store, h, _| {
                over_all(
                    store,
                    moments!(h => NovoGradConfig { eps_root: f64, weight_decay: f64 }),
                )
            },
        },
        Entry {
            name: "lookahead",
            nulls: &[],
            build: |store, h, _| {
                let fast = Hyper::named(h.get("fast_optimizer")?, "fast_optimizer")?;
                let name = fast.str("optimizer")?;
                if name != "adam" {
                    return Err(format!("unsupported lookahead fast optimizer `{name}`"));
                }
                let cfg = Hyper::read(fast.get("hyper")?, adam)?;
                fast.finish()?;
                over_all(
                    store,
                    read_config!(h => LookaheadConfig {
                        fast = cfg, sync_period: u64, slow_step_size: f64, reset_state: bool,
                    }),
                )
            },
        },
        Entry {
            name: "schedule_free_adamw",
            nulls: &["state_dtype"],
            build: |store, h, _| {
                over_all(
                    store,
                    moments!(h => ScheduleFreeAdamWConfig {
                        warmup_steps: opt_u64, weight_decay: f64, weight_lr_power: f64,
                    }),
                )
            },
        },
        Entry {
            name: "schedule_free_sgd",
            nulls: &["state_dtype"],
            build: |store, h, _| {
                over_all(
                    store,
                    read_config!(h => ScheduleFreeSgdConfig {
                        lr: f64("learning_rate"), warmup_steps: opt_u64, b1: f64,
                        weight_decay: opt_f64, weight_lr_power: f64,
                    }),
                )
            },
        },
        Entry {
            name: "prodigy",
            nulls: &[],
            build: |store, h, _| {
                over_all(
                    store,
                    read_config!(h => ProdigyConfig {
                        lr: f64("learning_rate"), betas: pair_f64, beta3: opt_f64, eps: f64,
                        estim_lr0: f64, estim_lr_coef: f64, weight_decay: f64, safeguard_warmup: bool,
                    }),
                )
            },
        },
        Entry {
            name: "sophia",
            nulls: &["weight_decay_mask", "hessian_diagonal_fn", "mu_dtype"],
            build: |store, h, hessian| {
                h.expect("verbose", false)?;
                // Only read when `verbose` (false here) prints the win rate.
                h.u64("print_win_rate_every_n_steps")?;
                over_all(
                    store,
                    moments!(h => SophiaConfig {
                        weight_decay: f64, weight_decay_mask = Selector::All, gamma: f64,
                        clip_threshold: opt_f64, update_interval: u64, hessian = hessian.clone(),
                    }),
                )
            },
        },
    ]
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
    Ok(moments!(h => OptaxAdamConfig { eps_root: f64, nesterov: bool }))
}

fn build<S: Scalar>(
    store: &ParamStore<S>,
    name: &str,
    h: &Hyper,
    hessian: &HessianFeed,
) -> Result<Optimizer<S>, String> {
    let table = table::<S>();
    let entry = table
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| format!("unsupported optax optimizer `{name}`"))?;
    for key in entry.nulls {
        h.null(key)?;
    }
    (entry.build)(store, h, hessian)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_builds_exactly_the_listed_names_in_order() {
        let names: Vec<&str> = table::<f64>().iter().map(|e| e.name).collect();
        assert_eq!(names, NAMES);
    }
}
