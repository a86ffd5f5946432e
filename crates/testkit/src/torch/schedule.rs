//! `torch.optim.lr_scheduler` schedulers by class name.

use crate::Hyper;
use descent_core::Direction;
use descent_schedule::{
    AnnealStrategy, ChainedScheduler, ConstantLr, CosineAnnealingLr, CosineAnnealingWarmRestarts,
    CyclicLr, CyclicLrConfig, CyclicMode, DynSchedule, ExponentialLr, LinearLr, MomentumSchedule,
    MultiStepLr, OneCycleLr, OneCycleLrConfig, PolynomialLr, ReduceLrOnPlateau,
    ReduceLrOnPlateauConfig, Schedule, SequentialLr, StepLr, Swalr, ThresholdMode,
};
use serde_json::Value;

/// A scheduler built from a golden spec.
pub enum Built {
    /// A pure schedule, with its momentum when it cycles momentum.
    Pure {
        /// The learning rate at each step.
        lr: DynSchedule,
        /// The momentum at each step, for schedules that cycle it.
        momentum: Option<Box<dyn Fn(u64) -> Option<f64> + Send + Sync>>,
    },
    /// `ReduceLROnPlateau`, which observes a metric.
    Plateau(ReduceLrOnPlateau),
}

fn pure(s: impl Schedule + Send + Sync + 'static) -> Built {
    Built::Pure {
        lr: DynSchedule::new(s),
        momentum: None,
    }
}

fn cycling(s: impl MomentumSchedule + Clone + Send + Sync + 'static) -> Built {
    let m = s.clone();
    Built::Pure {
        lr: DynSchedule::new(s),
        momentum: Some(Box::new(move |t| m.momentum(t))),
    }
}

fn err(e: descent_schedule::Error) -> String {
    format!("construction failed: {e}")
}

/// The scheduler PyTorch's `name(optimizer, **hyper)` makes over an
/// optimizer whose lr is `base_lr`.
///
/// # Examples
///
/// ```
/// use descent_schedule::Schedule;
/// use descent_testkit::torch::{Built, scheduler};
/// use serde_json::json;
///
/// let hyper = json!({"step_size": 2, "gamma": 0.5, "last_epoch": -1});
/// let Ok(Built::Pure { lr, .. }) = scheduler("StepLR", &hyper, 0.1) else { panic!() };
/// assert_eq!(lr.lrs(4), [0.1, 0.1, 0.05, 0.05]);
/// let resumed = json!({"step_size": 2, "gamma": 0.5, "last_epoch": 3});
/// assert!(scheduler("StepLR", &resumed, 0.1).is_err());
/// ```
pub fn scheduler(name: &str, hyper: &Value, base_lr: f64) -> Result<Built, String> {
    Hyper::read(hyper, |h| build(name, h, base_lr))
}

fn build(name: &str, h: &Hyper, base_lr: f64) -> Result<Built, String> {
    // PyTorch's fresh start: resuming (`last_epoch` ≥ 0) is not supported.
    let fresh = || h.expect("last_epoch", -1);
    Ok(match name {
        "StepLR" => {
            fresh()?;
            pure(StepLr::new(base_lr, h.u64("step_size")?, h.f64("gamma")?).map_err(err)?)
        }
        "MultiStepLR" => {
            fresh()?;
            pure(MultiStepLr::new(base_lr, h.counts("milestones")?, h.f64("gamma")?).map_err(err)?)
        }
        "ExponentialLR" => {
            fresh()?;
            pure(ExponentialLr::new(base_lr, h.f64("gamma")?).map_err(err)?)
        }
        "CosineAnnealingLR" => {
            fresh()?;
            pure(CosineAnnealingLr::new(base_lr, h.u64("T_max")?, h.f64("eta_min")?).map_err(err)?)
        }
        "CosineAnnealingWarmRestarts" => {
            fresh()?;
            let (t_0, t_mult) = (h.u64("T_0")?, h.u64("T_mult")?);
            pure(
                CosineAnnealingWarmRestarts::new(base_lr, t_0, t_mult, h.f64("eta_min")?)
                    .map_err(err)?,
            )
        }
        "LinearLR" => {
            fresh()?;
            let (start, end) = (h.f64("start_factor")?, h.f64("end_factor")?);
            pure(LinearLr::new(base_lr, start, end, h.u64("total_iters")?).map_err(err)?)
        }
        "ConstantLR" => {
            fresh()?;
            pure(ConstantLr::new(base_lr, h.f64("factor")?, h.u64("total_iters")?).map_err(err)?)
        }
        "PolynomialLR" => {
            fresh()?;
            pure(PolynomialLr::new(base_lr, h.u64("total_iters")?, h.f64("power")?).map_err(err)?)
        }
        "OneCycleLR" => {
            fresh()?;
            cycling(one_cycle(h)?)
        }
        "CyclicLR" => {
            fresh()?;
            cycling(cyclic(h)?)
        }
        "SequentialLR" => {
            fresh()?;
            let parts = nested(h, base_lr)?;
            pure(SequentialLr::new(parts, h.counts("milestones")?).map_err(err)?)
        }
        "ChainedScheduler" => {
            // The parts give factors: build them over a base lr of 1.
            let parts = nested(h, 1.0)?;
            pure(ChainedScheduler::new(base_lr, parts).map_err(err)?)
        }
        "ReduceLROnPlateau" => Built::Plateau(plateau(h, base_lr)?),
        "SWALR" => {
            fresh()?;
            let strategy = h.choice(
                "anneal_strategy",
                &[
                    ("cos", AnnealStrategy::Cos),
                    ("linear", AnnealStrategy::Linear),
                ],
            )?;
            let swalr = Swalr::new(base_lr, h.f64("swa_lr")?, h.u64("anneal_epochs")?, strategy);
            pure(swalr.map_err(err)?)
        }
        other => return Err(format!("unsupported scheduler `{other}`")),
    })
}

fn one_cycle(h: &Hyper) -> Result<OneCycleLr, String> {
    let anneal_strategy = h.choice(
        "anneal_strategy",
        &[
            ("cos", AnnealStrategy::Cos),
            ("linear", AnnealStrategy::Linear),
        ],
    )?;
    let config = OneCycleLrConfig {
        pct_start: h.f64("pct_start")?,
        anneal_strategy,
        cycle_momentum: h.bool("cycle_momentum")?,
        base_momentum: h.f64("base_momentum")?,
        max_momentum: h.f64("max_momentum")?,
        div_factor: h.f64("div_factor")?,
        final_div_factor: h.f64("final_div_factor")?,
        three_phase: h.bool("three_phase")?,
    };
    let max_lr = h.f64("max_lr")?;
    let (epochs, per_epoch) = (h.opt_u64("epochs")?, h.opt_u64("steps_per_epoch")?);
    match (h.opt_u64("total_steps")?, epochs, per_epoch) {
        (Some(total), _, _) => OneCycleLr::new(max_lr, total, config),
        (None, Some(e), Some(s)) => OneCycleLr::with_epochs(max_lr, e, s, config),
        _ => return Err("OneCycleLR needs total_steps or epochs and steps_per_epoch".into()),
    }
    .map_err(err)
}

fn cyclic(h: &Hyper) -> Result<CyclicLr, String> {
    h.null("scale_fn")?;
    // With no scale_fn, PyTorch ignores scale_mode and uses the mode's own.
    h.choice("scale_mode", &[("cycle", ()), ("iterations", ())])?;
    let mode = h.choice(
        "mode",
        &[
            ("triangular", CyclicMode::Triangular),
            ("triangular2", CyclicMode::Triangular2),
            ("exp_range", CyclicMode::ExpRange),
        ],
    )?;
    let config = CyclicLrConfig {
        step_size_up: h.u64("step_size_up")?,
        step_size_down: h.opt_u64("step_size_down")?,
        mode,
        gamma: h.f64("gamma")?,
        cycle_momentum: h.bool("cycle_momentum")?,
        base_momentum: h.f64("base_momentum")?,
        max_momentum: h.f64("max_momentum")?,
    };
    CyclicLr::new(h.f64("base_lr")?, h.f64("max_lr")?, config).map_err(err)
}

fn plateau(h: &Hyper, base_lr: f64) -> Result<ReduceLrOnPlateau, String> {
    let config = ReduceLrOnPlateauConfig {
        mode: h.choice(
            "mode",
            &[("min", Direction::Minimize), ("max", Direction::Maximize)],
        )?,
        factor: h.f64("factor")?,
        patience: h.u64("patience")?,
        threshold: h.f64("threshold")?,
        threshold_mode: h.choice(
            "threshold_mode",
            &[("rel", ThresholdMode::Rel), ("abs", ThresholdMode::Abs)],
        )?,
        cooldown: h.u64("cooldown")?,
        min_lr: h.f64("min_lr")?,
        eps: h.f64("eps")?,
    };
    ReduceLrOnPlateau::new(base_lr, config).map_err(err)
}

/// The `schedulers` list of SequentialLR or ChainedScheduler.
fn nested(h: &Hyper, base_lr: f64) -> Result<Vec<DynSchedule>, String> {
    let mut parts = Vec::new();
    for spec in h.list("schedulers")? {
        let spec = Hyper::named(spec, "nested scheduler")?;
        let name = spec.str("scheduler")?;
        let built = scheduler(name, spec.get("hyper")?, base_lr)?;
        spec.finish()?;
        match built {
            Built::Pure { lr, momentum: None } => parts.push(lr),
            _ => {
                return Err(format!(
                    "unsupported nested `{name}` (plateau or momentum cycling)"
                ));
            }
        }
    }
    Ok(parts)
}
