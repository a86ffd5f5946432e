//! Building a descent schedule from a PyTorch scheduler name and its
//! `hyper` object (golden-file form). Shared by `tests/golden.rs` and the
//! root training test, which includes this file by path.

use descent_schedule::{
    AnnealStrategy, ChainedScheduler, ConstantLr, CosineAnnealingLr, CosineAnnealingWarmRestarts,
    CyclicLr, CyclicLrConfig, CyclicMode, DynSchedule, ExponentialLr, LinearLr, MomentumSchedule,
    MultiStepLr, OneCycleLr, OneCycleLrConfig, PlateauMode, PolynomialLr, ReduceLrOnPlateau,
    ReduceLrOnPlateauConfig, Schedule, SequentialLr, StepLr, ThresholdMode,
};
use descent_testkit::golden;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::BTreeSet;

/// A scheduler's `hyper` object, remembering which fields were read.
pub struct Hyper<'a> {
    map: &'a Map<String, Value>,
    read: RefCell<BTreeSet<&'a str>>,
}

impl<'a> Hyper<'a> {
    pub fn new(v: &'a Value) -> Result<Self, String> {
        let map = v.as_object().ok_or("`hyper` is not an object")?;
        Ok(Hyper {
            map,
            read: RefCell::new(BTreeSet::new()),
        })
    }

    pub fn get(&self, key: &str) -> Result<&'a Value, String> {
        let (k, v) = self
            .map
            .get_key_value(key)
            .ok_or(format!("hyper has no `{key}`"))?;
        self.read.borrow_mut().insert(k.as_str());
        Ok(v)
    }

    pub fn f64(&self, key: &str) -> Result<f64, String> {
        golden::number(self.get(key)?).ok_or(format!("`{key}` is not a number"))
    }

    pub fn u64(&self, key: &str) -> Result<u64, String> {
        let v = self.get(key)?;
        v.as_u64().ok_or(format!("`{key}` = {v} is not a count"))
    }

    pub fn opt_u64(&self, key: &str) -> Result<Option<u64>, String> {
        match self.get(key)? {
            Value::Null => Ok(None),
            v => v
                .as_u64()
                .map(Some)
                .ok_or(format!("`{key}` = {v} is not a count")),
        }
    }

    pub fn bool(&self, key: &str) -> Result<bool, String> {
        self.get(key)?
            .as_bool()
            .ok_or(format!("`{key}` is not a bool"))
    }

    pub fn str(&self, key: &str) -> Result<&'a str, String> {
        self.get(key)?
            .as_str()
            .ok_or(format!("`{key}` is not a string"))
    }

    pub fn counts(&self, key: &str) -> Result<Vec<u64>, String> {
        let v = self.get(key)?;
        let list = v.as_array().ok_or(format!("`{key}` is not a list"))?;
        list.iter()
            .map(|x| x.as_u64().ok_or(format!("`{key}` holds {x}")))
            .collect()
    }

    /// `last_epoch` must be PyTorch's fresh start, -1.
    pub fn fresh_start(&self) -> Result<(), String> {
        match self.get("last_epoch")?.as_i64() {
            Some(-1) => Ok(()),
            other => Err(format!("unsupported last_epoch {other:?}")),
        }
    }

    /// Fails if any field was left unread.
    pub fn all_read(&self) -> Result<(), String> {
        let read = self.read.borrow();
        let unread: Vec<&String> = self
            .map
            .keys()
            .filter(|k| !read.contains(k.as_str()))
            .collect();
        match unread.is_empty() {
            true => Ok(()),
            false => Err(format!("unsupported hyperparameters {unread:?}")),
        }
    }
}

/// A scheduler built from a golden spec.
pub enum Built {
    /// A pure schedule, with its momentum when it cycles momentum.
    Pure {
        lr: DynSchedule,
        momentum: Option<Box<dyn Fn(u64) -> Option<f64> + Send + Sync>>,
    },
    Plateau(ReduceLrOnPlateau),
}

pub fn pure(s: impl Schedule + Send + Sync + 'static) -> Built {
    Built::Pure {
        lr: DynSchedule::new(s),
        momentum: None,
    }
}

pub fn cycling(s: impl MomentumSchedule + Clone + Send + Sync + 'static) -> Built {
    let m = s.clone();
    Built::Pure {
        lr: DynSchedule::new(s),
        momentum: Some(Box::new(move |t| m.momentum(t))),
    }
}

pub fn err(e: descent_schedule::Error) -> String {
    format!("construction failed: {e}")
}

/// Builds `name` with `hyper` over an optimizer whose lr is `base_lr`.
pub fn build(name: &str, hyper: &Value, base_lr: f64) -> Result<Built, String> {
    let h = Hyper::new(hyper)?;
    let built = match name {
        "StepLR" => {
            h.fresh_start()?;
            pure(StepLr::new(base_lr, h.u64("step_size")?, h.f64("gamma")?).map_err(err)?)
        }
        "MultiStepLR" => {
            h.fresh_start()?;
            pure(MultiStepLr::new(base_lr, h.counts("milestones")?, h.f64("gamma")?).map_err(err)?)
        }
        "ExponentialLR" => {
            h.fresh_start()?;
            pure(ExponentialLr::new(base_lr, h.f64("gamma")?).map_err(err)?)
        }
        "CosineAnnealingLR" => {
            h.fresh_start()?;
            pure(CosineAnnealingLr::new(base_lr, h.u64("T_max")?, h.f64("eta_min")?).map_err(err)?)
        }
        "CosineAnnealingWarmRestarts" => {
            h.fresh_start()?;
            let (t_0, t_mult) = (h.u64("T_0")?, h.u64("T_mult")?);
            pure(
                CosineAnnealingWarmRestarts::new(base_lr, t_0, t_mult, h.f64("eta_min")?)
                    .map_err(err)?,
            )
        }
        "LinearLR" => {
            h.fresh_start()?;
            let (start, end) = (h.f64("start_factor")?, h.f64("end_factor")?);
            pure(LinearLr::new(base_lr, start, end, h.u64("total_iters")?).map_err(err)?)
        }
        "ConstantLR" => {
            h.fresh_start()?;
            pure(ConstantLr::new(base_lr, h.f64("factor")?, h.u64("total_iters")?).map_err(err)?)
        }
        "PolynomialLR" => {
            h.fresh_start()?;
            pure(PolynomialLr::new(base_lr, h.u64("total_iters")?, h.f64("power")?).map_err(err)?)
        }
        "OneCycleLR" => cycling(one_cycle(&h)?),
        "CyclicLR" => cycling(cyclic(&h)?),
        "SequentialLR" => {
            h.fresh_start()?;
            let parts = nested(&h, base_lr)?;
            pure(SequentialLr::new(parts, h.counts("milestones")?).map_err(err)?)
        }
        "ChainedScheduler" => {
            // The parts give factors: build them over a base lr of 1.
            let parts = nested(&h, 1.0)?;
            pure(ChainedScheduler::new(base_lr, parts).map_err(err)?)
        }
        "ReduceLROnPlateau" => Built::Plateau(plateau(&h, base_lr)?),
        other => return Err(format!("unsupported scheduler `{other}`")),
    };
    h.all_read()?;
    Ok(built)
}

pub fn one_cycle(h: &Hyper) -> Result<OneCycleLr, String> {
    h.fresh_start()?;
    let anneal_strategy = match h.str("anneal_strategy")? {
        "cos" => AnnealStrategy::Cos,
        "linear" => AnnealStrategy::Linear,
        other => return Err(format!("unsupported anneal_strategy `{other}`")),
    };
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

pub fn cyclic(h: &Hyper) -> Result<CyclicLr, String> {
    h.fresh_start()?;
    if !h.get("scale_fn")?.is_null() {
        return Err("unsupported custom scale_fn".into());
    }
    // With no scale_fn, PyTorch ignores scale_mode and uses the mode's own.
    h.str("scale_mode")?;
    let mode = match h.str("mode")? {
        "triangular" => CyclicMode::Triangular,
        "triangular2" => CyclicMode::Triangular2,
        "exp_range" => CyclicMode::ExpRange,
        other => return Err(format!("unsupported mode `{other}`")),
    };
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

pub fn plateau(h: &Hyper, base_lr: f64) -> Result<ReduceLrOnPlateau, String> {
    let mode = match h.str("mode")? {
        "min" => PlateauMode::Min,
        "max" => PlateauMode::Max,
        other => return Err(format!("unsupported mode `{other}`")),
    };
    let threshold_mode = match h.str("threshold_mode")? {
        "rel" => ThresholdMode::Rel,
        "abs" => ThresholdMode::Abs,
        other => return Err(format!("unsupported threshold_mode `{other}`")),
    };
    let config = ReduceLrOnPlateauConfig {
        mode,
        factor: h.f64("factor")?,
        patience: h.u64("patience")?,
        threshold: h.f64("threshold")?,
        threshold_mode,
        cooldown: h.u64("cooldown")?,
        min_lr: h.f64("min_lr")?,
        eps: h.f64("eps")?,
    };
    ReduceLrOnPlateau::new(base_lr, config).map_err(err)
}

/// The `schedulers` list of SequentialLR or ChainedScheduler.
pub fn nested(h: &Hyper, base_lr: f64) -> Result<Vec<DynSchedule>, String> {
    let list = h
        .get("schedulers")?
        .as_array()
        .ok_or("`schedulers` is not a list")?;
    let mut parts = Vec::new();
    for spec in list {
        let name = spec["scheduler"]
            .as_str()
            .ok_or("nested scheduler without a name")?;
        match build(name, &spec["hyper"], base_lr)? {
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
