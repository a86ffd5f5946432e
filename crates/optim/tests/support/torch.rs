//! Building a descent optimizer from a PyTorch class name and its `hyper`
//! object (golden-file form). Shared by `tests/parity.rs` and the root
//! training test, which includes this file by path.

use descent_core::{ParamStore, Scalar};
use descent_optim::{
    AdadeltaConfig, AdagradConfig, AdamConfig, AdamWConfig, AdamaxConfig, NAdamConfig, Optimizer,
    OptimizerConfig, RAdamConfig, RmsPropConfig, SgdConfig, WeightDecay,
};
use descent_testkit::golden::number;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::BTreeSet;

/// Reads hyperparameters and remembers which ones were used.
pub struct Hyper<'a> {
    map: &'a Map<String, Value>,
    used: RefCell<BTreeSet<String>>,
}

impl<'a> Hyper<'a> {
    pub fn new(v: &'a Value) -> Result<Self, String> {
        let map = v.as_object().ok_or("`hyper` is not an object")?;
        Ok(Hyper {
            map,
            used: RefCell::new(BTreeSet::new()),
        })
    }

    pub fn get(&self, k: &str) -> Result<&'a Value, String> {
        self.used.borrow_mut().insert(k.to_owned());
        self.map
            .get(k)
            .ok_or_else(|| format!("hyper `{k}` missing"))
    }

    pub fn f(&self, k: &str) -> Result<f64, String> {
        number(self.get(k)?).ok_or_else(|| format!("hyper `{k}` is not a number"))
    }

    pub fn b(&self, k: &str) -> Result<bool, String> {
        self.get(k)?
            .as_bool()
            .ok_or_else(|| format!("hyper `{k}` is not a bool"))
    }

    pub fn pair(&self, k: &str) -> Result<(f64, f64), String> {
        match self.get(k)?.as_array().map(|a| a.as_slice()) {
            Some([a, b]) => Ok((number(a).ok_or("bad pair")?, number(b).ok_or("bad pair")?)),
            _ => Err(format!("hyper `{k}` is not a pair")),
        }
    }

    /// Fails when a field was not read: every hyperparameter must be honoured.
    pub fn finish(&self) -> Result<(), String> {
        let used = self.used.borrow();
        let unknown: Vec<&String> = self.map.keys().filter(|k| !used.contains(*k)).collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(format!("unsupported hyperparameters {unknown:?}"))
        }
    }
}

pub fn build<S: Scalar>(
    store: &ParamStore<S>,
    class: &str,
    h: &Hyper,
) -> Result<Optimizer<S>, String> {
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
