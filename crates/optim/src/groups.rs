//! Parameter-group policies: no weight decay on biases and normalization
//! parameters in one call, layer-wise learning-rate decay (timm's
//! `layer_decay`), a schedule per group, and the weight-decay report
//! ([`report`](ParamGroups::report)) of what each group will do.

mod report;

pub use report::{DecayKind, DecayWarning, GroupReport, WeightDecayReport};

use crate::ArgError;
use crate::error::{Error, Result, closed_unit_interval};
use crate::optimizer::{Optimizer, SharedSchedule};
use crate::optimizers::{
    AdadeltaConfig, AdagradConfig, AdamConfig, AdamWConfig, AdamaxConfig, LionConfig, NAdamConfig,
    OptimizerConfig, RAdamConfig, RmsPropConfig, SgdConfig, WeightDecay,
};
use crate::transform::BlockTransform;
use descent_core::Selector;
use descent_core::{ParamMeta, Params, Scalar, Schedule, Tags};
use std::sync::Arc;

/// An optimizer configuration whose learning rate and weight decay a group
/// policy may change, and what the weight-decay report needs to know of it.
pub trait DecayConfig: OptimizerConfig {
    /// The PyTorch class name (`"Adam"`, `"SGD"`).
    const NAME: &'static str;
    /// Whether the optimizer rescales each gradient element by its own
    /// statistics (Adam, RMSprop, …), which L2 decay then passes through.
    const ADAPTIVE: bool;
    /// The weight decay.
    fn weight_decay(&self) -> WeightDecay;
    /// The same configuration with another weight decay.
    fn with_weight_decay(&self, weight_decay: WeightDecay) -> Self;
    /// The same configuration with another learning rate.
    fn with_lr(&self, lr: f64) -> Self;
}

macro_rules! decay_config {
    ($($cfg:ident => $name:literal, $adaptive:literal;)*) => {$(
        impl DecayConfig for $cfg {
            const NAME: &'static str = $name;
            const ADAPTIVE: bool = $adaptive;
            fn weight_decay(&self) -> WeightDecay {
                self.weight_decay
            }
            fn with_weight_decay(&self, weight_decay: WeightDecay) -> Self {
                $cfg { weight_decay, ..self.clone() }
            }
            fn with_lr(&self, lr: f64) -> Self {
                $cfg { lr, ..self.clone() }
            }
        }
    )*};
}

decay_config! {
    SgdConfig => "SGD", false;
    AdagradConfig => "Adagrad", true;
    RmsPropConfig => "RMSprop", true;
    AdamConfig => "Adam", true;
    AdamWConfig => "AdamW", true;
    NAdamConfig => "NAdam", true;
    RAdamConfig => "RAdam", true;
    AdamaxConfig => "Adamax", true;
    AdadeltaConfig => "Adadelta", true;
    LionConfig => "Lion", false;
}

/// One group of a [`ParamGroups`] plan.
#[derive(Clone)]
pub struct ParamGroup<C> {
    /// A name for reports (`"decay"`, `"layer 3 no_decay"`).
    pub name: String,
    /// The parameters it takes (those no earlier group took).
    pub selector: Selector,
    /// Its optimizer configuration (learning rate and decay included).
    pub config: C,
    /// A schedule of absolute rates replacing `config.lr`, if any.
    pub schedule: Option<SharedSchedule>,
}

impl<C: std::fmt::Debug> std::fmt::Debug for ParamGroup<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParamGroup")
            .field("name", &self.name)
            .field("selector", &self.selector)
            .field("config", &self.config)
            .field("schedule", &self.schedule.is_some())
            .finish()
    }
}

/// A plan of parameter groups (PyTorch's `param_groups` list, timm's
/// `param_groups_weight_decay` / `param_groups_layer_decay`): it builds the
/// [`Optimizer`] and reports what each group does to the weights.
///
/// Each parameter belongs to the first group whose selector picks it.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{AdamWConfig, ParamGroups};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f32>::new();
/// store.register("fc.weight", Tags::WEIGHT, DMatrix::from_element(4, 3, 0.5))?;
/// store.register("fc.bias", Tags::BIAS, DMatrix::from_element(1, 4, 0.5))?;
/// let plan = ParamGroups::no_decay_on_bias_and_norm(AdamWConfig::default());
/// let mut opt = plan.build(&store)?;
/// opt.step(&mut store)?; // zero gradients: only the decay moves the weights
/// assert!(store.value(store.id("fc.weight").unwrap())[0] < 0.5);
/// assert_eq!(store.value(store.id("fc.bias").unwrap())[0], 0.5);
/// assert!(plan.report(&store, 0).warnings.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ParamGroups<C> {
    groups: Vec<ParamGroup<C>>,
}

impl<C: DecayConfig> Default for ParamGroups<C> {
    fn default() -> Self {
        ParamGroups { groups: Vec::new() }
    }
}

/// Biases, normalization parameters and other 1-d tensors: what timm's
/// `param_groups_weight_decay` exempts from decay (`ndim <= 1`, `.bias`).
fn exempt(meta: &ParamMeta) -> bool {
    meta.tags.intersects(Tags::BIAS | Tags::NORM)
        || meta.shape.0 <= 1
        || meta.name.ends_with(".bias")
}

/// Selects the parameters named in `names` (a name holding `*` would match
/// as a pattern; descent's layers never make one).
fn named(names: &[&str]) -> Selector {
    Selector::Any(names.iter().map(|n| Selector::name(*n)).collect())
}

impl<C: DecayConfig> ParamGroups<C> {
    /// No groups yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a group.
    pub fn group(mut self, name: impl Into<String>, selector: Selector, config: C) -> Self {
        self.groups.push(ParamGroup {
            name: name.into(),
            selector,
            config,
            schedule: None,
        });
        self
    }

    /// Two groups: biases and normalization parameters (tags `BIAS`,
    /// `NORM`) without weight decay, everything else with `config`'s (timm's
    /// `param_groups_weight_decay`, the BERT/ViT recipe).
    pub fn no_decay_on_bias_and_norm(config: C) -> Self {
        let no_decay = config.with_weight_decay(WeightDecay::None);
        Self::new()
            .group(
                "no_decay",
                Selector::tags(Tags::BIAS | Tags::NORM),
                no_decay,
            )
            .group("decay", Selector::All, config)
    }

    /// Layer-wise learning-rate decay (timm's `param_groups_layer_decay`):
    /// the parameters of layer `l = layer_of(meta)` (0 the embedding or
    /// input, `n_layers` the head) get `lr · layer_decay^(n_layers − l)`;
    /// biases, normalization parameters and 1-d tensors get no weight decay,
    /// as in timm. `layer_decay` must be in `[0, 1]`; a layer past `n_layers`
    /// is [`Error::OutOfRange`].
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_core::{ParamStore, Tags};
    /// use descent_optim::{AdamWConfig, ParamGroups};
    /// use nalgebra::DMatrix;
    ///
    /// let mut store = ParamStore::<f64>::new();
    /// for l in 0..3 {
    ///     store.register(format!("{l}.weight"), Tags::WEIGHT, DMatrix::zeros(2, 2))?;
    /// }
    /// // the layer is the leading index of the name
    /// let layer = |m: &descent_core::ParamMeta| m.name.split('.').next().unwrap().parse().unwrap();
    /// let cfg = AdamWConfig { lr: 1e-3, ..AdamWConfig::default() };
    /// let plan = ParamGroups::layer_decay(&store, cfg, 0.5, 2, layer)?;
    /// let report = plan.report(&store, 0);
    /// let lrs: Vec<f64> = report.groups.iter().map(|g| g.lr).collect();
    /// assert_eq!(lrs, [0.25e-3, 0.5e-3, 1e-3]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn layer_decay<S: Scalar>(
        params: &Params<S>,
        config: C,
        layer_decay: f64,
        n_layers: usize,
        layer_of: impl Fn(&ParamMeta) -> usize,
    ) -> Result<Self> {
        closed_unit_interval("layer_decay", layer_decay)?;
        let mut layers: Vec<[Vec<&str>; 2]> = vec![[Vec::new(), Vec::new()]; n_layers + 1];
        for (_, meta, _) in params.iter() {
            let l = layer_of(meta);
            let slot = layers.get_mut(l).ok_or(Error::Arg(ArgError::new(
                "layer",
                l as f64,
                "expected at most n_layers",
            )))?;
            slot[usize::from(exempt(meta))].push(meta.name.as_str());
        }
        let mut plan = Self::new();
        for (l, [decay, no_decay]) in layers.iter().enumerate() {
            let scale = layer_decay.powi((n_layers - l) as i32);
            let cfg = config.with_lr(config.lr() * scale);
            if !no_decay.is_empty() {
                let cfg = cfg.with_weight_decay(WeightDecay::None);
                plan = plan.group(format!("layer {l} no_decay"), named(no_decay), cfg);
            }
            if !decay.is_empty() {
                plan = plan.group(format!("layer {l} decay"), named(decay), cfg);
            }
        }
        Ok(plan)
    }

    /// Gives group `index` its own schedule of absolute rates (replacing its
    /// `config.lr`); [`Error::NoSuchGroup`] if there is no such group.
    pub fn schedule(
        mut self,
        index: usize,
        schedule: impl Schedule + Send + Sync + 'static,
    ) -> Result<Self> {
        let len = self.groups.len();
        let group = self
            .groups
            .get_mut(index)
            .ok_or(Error::NoSuchGroup { index, len })?;
        group.schedule = Some(Arc::new(schedule));
        Ok(self)
    }

    /// Gives every group `schedule` scaled by its rate relative to `base_lr`
    /// (a group at `config.lr = 0.5·base_lr` follows `0.5·schedule`): how
    /// layer-wise decay and a global schedule combine, each group's rate
    /// still absolute. `base_lr` must be positive.
    pub fn schedule_all(
        mut self,
        base_lr: f64,
        schedule: impl Schedule + Send + Sync + 'static,
    ) -> Result<Self> {
        crate::error::positive("base_lr", base_lr)?;
        let shared: SharedSchedule = Arc::new(schedule);
        for g in &mut self.groups {
            let scale = g.config.lr() / base_lr;
            let s = shared.clone();
            g.schedule = Some(Arc::new(move |step: u64| s.lr(step) * scale));
        }
        Ok(self)
    }

    /// The groups.
    pub fn groups(&self) -> &[ParamGroup<C>] {
        &self.groups
    }

    /// The optimizer: one group per plan group, in order, each with its
    /// schedule when it has one.
    pub fn build<S: Scalar>(&self, params: &Params<S>) -> Result<Optimizer<S>>
    where
        C::Transform: BlockTransform<S>,
    {
        let mut builder = Optimizer::builder(params);
        for g in &self.groups {
            g.config.validate()?;
            builder = builder.group(&g.selector, g.config.lr(), g.config.transform())?;
        }
        let mut opt = builder.build()?;
        for (i, g) in self.groups.iter().enumerate() {
            if let Some(s) = &g.schedule {
                let s = s.clone();
                opt.set_group_lr_schedule(i, move |step: u64| s.lr(step))?;
            }
        }
        Ok(opt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_core::ParamStore;
    use nalgebra::DMatrix;

    /// Layers 0..=2, each a weight and a bias.
    fn store() -> ParamStore<f64> {
        let mut s = ParamStore::new();
        for l in 0..3 {
            s.register(format!("{l}.weight"), Tags::WEIGHT, DMatrix::zeros(2, 2))
                .unwrap();
            s.register(format!("{l}.bias"), Tags::BIAS, DMatrix::zeros(1, 2))
                .unwrap();
        }
        s
    }

    fn layer(meta: &ParamMeta) -> usize {
        meta.name[..1].parse().unwrap()
    }

    /// One SGD step on unit gradients: each parameter moves by its group's rate.
    fn moved(plan: &ParamGroups<SgdConfig>) -> Vec<f64> {
        let mut s = store();
        let mut opt = plan.build(&s).unwrap();
        let ids: Vec<_> = s.ids().collect();
        for id in &ids {
            s.grad_mut(*id).fill(1.0);
        }
        opt.step(&mut s).unwrap();
        ids.iter().map(|id| -s.value(*id)[0]).collect()
    }

    #[test]
    fn layer_decay_scales_each_layers_rate_and_exempts_biases() {
        let cfg = SgdConfig {
            lr: 0.1,
            weight_decay: WeightDecay::L2(0.5),
            ..SgdConfig::default()
        };
        let plan = ParamGroups::layer_decay(&store(), cfg, 0.5, 2, layer).unwrap();
        let r = plan.report(&store(), 0);
        assert!(r.warnings.is_empty(), "{r}");
        for g in &r.groups {
            let l = layer_of_group(&g.params[0]);
            assert!(
                (g.lr - 0.1 * 0.5f64.powi(2 - l as i32)).abs() < 1e-15,
                "{r}"
            );
            let bias = g.params.iter().all(|p| p.ends_with(".bias"));
            assert_eq!(g.kind == report::DecayKind::None, bias, "{r}");
        }
        // zero weights: the decay adds nothing, each moves by its layer's rate
        let got = moved(&plan);
        let want = [0.025, 0.025, 0.05, 0.05, 0.1, 0.1];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-15, "{got:?}");
        }
    }

    fn layer_of_group(name: &str) -> usize {
        name[..1].parse().unwrap()
    }

    #[test]
    fn each_group_follows_its_own_schedule() {
        let cfg = SgdConfig {
            lr: 0.1,
            ..SgdConfig::default()
        };
        let plan = ParamGroups::no_decay_on_bias_and_norm(cfg)
            .schedule(0, |step: u64| 0.01 * (step + 1) as f64)
            .unwrap();
        let mut opt = plan.build(&store()).unwrap();
        assert_eq!(opt.group_lr(0).unwrap(), 0.01);
        assert_eq!(opt.group_lr(1).unwrap(), 0.1);
        let mut s = store();
        opt.step(&mut s).unwrap();
        assert_eq!(opt.group_lr(0).unwrap(), 0.02);
        assert_eq!(plan.report(&s, 4).groups[0].lr, 0.05);
        // a global schedule over layer-decayed groups keeps their ratios
        let plan = ParamGroups::layer_decay(&s, cfg, 0.5, 2, layer)
            .unwrap()
            .schedule_all(0.1, |step: u64| 0.1 / (step + 1) as f64)
            .unwrap();
        let r = plan.report(&s, 1);
        let lrs: Vec<f64> = r.groups.iter().map(|g| g.lr).collect();
        assert_eq!(lrs, [0.0125, 0.0125, 0.025, 0.025, 0.05, 0.05]);
    }

    #[test]
    fn bad_policies_are_typed_errors() {
        let cfg = SgdConfig::default();
        assert!(matches!(
            ParamGroups::layer_decay(&store(), cfg, 1.5, 2, layer),
            Err(Error::Arg(ArgError {
                name: "layer_decay",
                ..
            }))
        ));
        assert!(matches!(
            ParamGroups::layer_decay(&store(), cfg, 0.5, 1, layer),
            Err(Error::Arg(ArgError { name: "layer", .. }))
        ));
        assert!(matches!(
            ParamGroups::no_decay_on_bias_and_norm(cfg).schedule(2, 0.1),
            Err(Error::NoSuchGroup { index: 2, len: 2 })
        ));
        assert!(ParamGroups::<SgdConfig>::new().build(&store()).is_err());
    }
}
