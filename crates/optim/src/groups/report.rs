//! The weight-decay report: per group, the learning rate and decay at a
//! step, whether the decay is L2 (coupled to the adaptive scaling) or
//! decoupled, and warnings for the usual mistakes.

use super::{DecayConfig, ParamGroups, exempt};
use crate::optimizers::WeightDecay;
use descent_core::{Params, Scalar};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a group's weight decay enters the update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecayKind {
    /// No decay.
    None,
    /// `λ·p` added to the gradient before the optimizer's own scaling (PyTorch
    /// `weight_decay` of SGD, Adam, RMSprop…): through an adaptive optimizer
    /// it is rescaled per element, so large-gradient weights decay less.
    L2,
    /// `lr·λ·p` subtracted from the parameter, apart from the adaptive
    /// scaling (Loshchilov & Hutter; PyTorch AdamW, `decoupled_weight_decay`).
    Decoupled,
    /// `λ·η_t·p` subtracted, η_t the optimizer's multiplier (the paper's form).
    DecoupledScheduled,
    /// `λ·sign(p)` added to the gradient (L1).
    L1,
}

/// What one group does at the step reported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupReport {
    /// The group's name.
    pub name: String,
    /// The optimizer (PyTorch class name).
    pub optimizer: String,
    /// The parameters it holds, in registration order.
    pub params: Vec<String>,
    /// Their number of elements.
    pub numel: usize,
    /// The learning rate at the step (its schedule's, else its value; the
    /// optimizer's multiplier, 1 unless set, is not included).
    pub lr: f64,
    /// λ, the decay coefficient.
    pub weight_decay: f64,
    /// How the decay enters.
    pub kind: DecayKind,
    /// Whether the decay passes through the optimizer's adaptive per-element
    /// scaling (L2 or L1 on an adaptive optimizer).
    pub coupled_to_adaptive: bool,
    /// The fraction of each weight removed per step when it does not depend
    /// on the gradients: `lr·λ` (decoupled, or L2 on plain SGD without
    /// momentum), `λ` with the multiplier at 1 (scheduled); `None` otherwise.
    pub shrink_per_step: Option<f64>,
}

/// A likely mistake in the configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "warning", rename_all = "snake_case")]
pub enum DecayWarning {
    /// Biases, normalization parameters or other 1-d tensors are decayed;
    /// the usual recipe exempts them (`ParamGroups::no_decay_on_bias_and_norm`).
    DecayOnBiasOrNorm {
        /// The group.
        group: String,
        /// The parameters concerned.
        params: Vec<String>,
    },
    /// An adaptive optimizer with L2 `weight_decay` (Adam's argument): the
    /// decay is rescaled by the adaptive statistics; AdamW (decoupled) was
    /// likely meant.
    CoupledL2OnAdaptive {
        /// The group.
        group: String,
        /// The optimizer.
        optimizer: String,
        /// λ.
        weight_decay: f64,
    },
}

/// What every group of a [`ParamGroups`] plan does to the weights at a step.
/// Printable ([`fmt::Display`]) and serializable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightDecayReport {
    /// The optimizer step reported.
    pub step: u64,
    /// One entry per group, in order.
    pub groups: Vec<GroupReport>,
    /// Parameters no group takes (the optimizer leaves them alone).
    pub unassigned: Vec<String>,
    /// Likely mistakes.
    pub warnings: Vec<DecayWarning>,
}

fn kind_of(decay: WeightDecay) -> (DecayKind, f64) {
    match decay {
        WeightDecay::None => (DecayKind::None, 0.0),
        WeightDecay::L2(l) => (DecayKind::L2, l),
        WeightDecay::Decoupled(l) => (DecayKind::Decoupled, l),
        WeightDecay::DecoupledSchedule(l) => (DecayKind::DecoupledScheduled, l),
        WeightDecay::L1(l) => (DecayKind::L1, l),
    }
}

impl<C: DecayConfig> ParamGroups<C> {
    /// The weight-decay report of this plan over `params` at optimizer step
    /// `step`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_core::{ParamStore, Tags};
    /// use descent_optim::{AdamConfig, DecayWarning, ParamGroups, Selector, WeightDecay};
    /// use nalgebra::DMatrix;
    ///
    /// let mut store = ParamStore::<f32>::new();
    /// store.register("fc.weight", Tags::WEIGHT, DMatrix::zeros(4, 3))?;
    /// store.register("fc.bias", Tags::BIAS, DMatrix::zeros(1, 4))?;
    /// let adam = AdamConfig { weight_decay: WeightDecay::L2(0.01), ..AdamConfig::default() };
    /// let report = ParamGroups::new().group("all", Selector::All, adam).report(&store, 0);
    /// assert!(matches!(report.warnings[0], DecayWarning::DecayOnBiasOrNorm { .. }));
    /// assert!(matches!(report.warnings[1], DecayWarning::CoupledL2OnAdaptive { .. }));
    /// println!("{report}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn report<S: Scalar>(&self, params: &Params<S>, step: u64) -> WeightDecayReport {
        let mut taken = vec![false; params.len()];
        let mut groups = Vec::new();
        let mut warnings = Vec::new();
        for g in &self.groups {
            let mut names = Vec::new();
            let mut exempt_decayed = Vec::new();
            let mut numel = 0;
            for (id, meta, value) in params.iter() {
                if taken[id.index()] || !g.selector.matches(meta) {
                    continue;
                }
                taken[id.index()] = true;
                names.push(meta.name.clone());
                numel += value.len();
                if exempt(meta) {
                    exempt_decayed.push(meta.name.clone());
                }
            }
            let (kind, weight_decay) = kind_of(g.config.weight_decay());
            let lr = match &g.schedule {
                Some(s) => s.lr(step),
                None => g.config.lr(),
            };
            let decays = kind != DecayKind::None && weight_decay > 0.0;
            let coupled = decays && C::ADAPTIVE && matches!(kind, DecayKind::L2 | DecayKind::L1);
            let shrink_per_step = match kind {
                DecayKind::Decoupled => Some(lr * weight_decay),
                DecayKind::DecoupledScheduled => Some(weight_decay),
                DecayKind::L2 if !C::ADAPTIVE => Some(lr * weight_decay),
                DecayKind::None => Some(0.0),
                _ => None,
            };
            if decays && !exempt_decayed.is_empty() {
                warnings.push(DecayWarning::DecayOnBiasOrNorm {
                    group: g.name.clone(),
                    params: exempt_decayed,
                });
            }
            if decays && C::ADAPTIVE && kind == DecayKind::L2 {
                warnings.push(DecayWarning::CoupledL2OnAdaptive {
                    group: g.name.clone(),
                    optimizer: C::NAME.to_owned(),
                    weight_decay,
                });
            }
            groups.push(GroupReport {
                name: g.name.clone(),
                optimizer: C::NAME.to_owned(),
                params: names,
                numel,
                lr,
                weight_decay,
                kind,
                coupled_to_adaptive: coupled,
                shrink_per_step,
            });
        }
        let unassigned = params
            .iter()
            .filter(|(id, _, _)| !taken[id.index()])
            .map(|(_, meta, _)| meta.name.clone())
            .collect();
        WeightDecayReport {
            step,
            groups,
            unassigned,
            warnings,
        }
    }
}

impl fmt::Display for DecayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecayKind::None => "none",
            DecayKind::L2 => "L2 (in the gradient)",
            DecayKind::Decoupled => "decoupled (lr·λ)",
            DecayKind::DecoupledScheduled => "decoupled (λ·η_t)",
            DecayKind::L1 => "L1 (in the gradient)",
        })
    }
}

impl fmt::Display for DecayWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecayWarning::DecayOnBiasOrNorm { group, params } => write!(
                f,
                "group `{group}` decays biases or normalization parameters ({}); the usual recipe exempts them",
                params.join(", ")
            ),
            DecayWarning::CoupledL2OnAdaptive {
                group,
                optimizer,
                weight_decay,
            } => write!(
                f,
                "group `{group}`: {optimizer} with weight_decay {weight_decay} is L2, rescaled by the adaptive statistics; AdamW-style decoupled decay was likely meant"
            ),
        }
    }
}

impl fmt::Display for WeightDecayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "weight decay at step {}", self.step)?;
        writeln!(
            f,
            "{:<20} {:<9} {:>7} {:>10} {:>12} {:>10} {:<22} {:>8}",
            "group", "optimizer", "params", "numel", "lr", "λ", "decay", "adaptive"
        )?;
        for g in &self.groups {
            writeln!(
                f,
                "{:<20} {:<9} {:>7} {:>10} {:>12.4e} {:>10.3e} {:<22} {:>8}",
                g.name,
                g.optimizer,
                g.params.len(),
                g.numel,
                g.lr,
                g.weight_decay,
                g.kind.to_string(),
                if g.coupled_to_adaptive {
                    "coupled"
                } else {
                    "-"
                }
            )?;
        }
        if !self.unassigned.is_empty() {
            writeln!(f, "not optimized: {}", self.unassigned.join(", "))?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AdamConfig, Selector};
    use crate::{AdamWConfig, SgdConfig};
    use descent_core::{ParamStore, Tags};
    use nalgebra::DMatrix;

    fn store() -> ParamStore<f64> {
        let mut s = ParamStore::new();
        s.register("0.weight", Tags::WEIGHT, DMatrix::zeros(3, 2))
            .unwrap();
        s.register("0.bias", Tags::BIAS, DMatrix::zeros(1, 3))
            .unwrap();
        s.register("1.weight", Tags::NORM | Tags::WEIGHT, DMatrix::zeros(1, 3))
            .unwrap();
        s.register("1.bias", Tags::NORM | Tags::BIAS, DMatrix::zeros(1, 3))
            .unwrap();
        s.register("2.weight", Tags::WEIGHT, DMatrix::zeros(2, 3))
            .unwrap();
        s
    }

    #[test]
    fn no_decay_groups_report_clean_and_decoupled() {
        let cfg = AdamWConfig {
            lr: 1e-3,
            weight_decay: WeightDecay::Decoupled(0.05),
            ..AdamWConfig::default()
        };
        let r = ParamGroups::no_decay_on_bias_and_norm(cfg).report(&store(), 7);
        assert!(r.warnings.is_empty(), "{r}");
        assert_eq!(r.groups[0].params, ["0.bias", "1.weight", "1.bias"]);
        assert_eq!(r.groups[0].kind, DecayKind::None);
        assert_eq!(r.groups[1].params, ["0.weight", "2.weight"]);
        assert_eq!(r.groups[1].kind, DecayKind::Decoupled);
        assert_eq!(r.groups[1].shrink_per_step, Some(1e-3 * 0.05));
        assert!(!r.groups[1].coupled_to_adaptive && r.unassigned.is_empty());
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<WeightDecayReport>(&json).unwrap(), r);
    }

    #[test]
    fn adam_with_weight_decay_and_decayed_norms_are_warned() {
        let adam = AdamConfig {
            weight_decay: WeightDecay::L2(1e-2),
            ..AdamConfig::default()
        };
        let r = ParamGroups::new()
            .group("all", Selector::All, adam)
            .report(&store(), 0);
        assert_eq!(r.groups[0].kind, DecayKind::L2);
        assert!(r.groups[0].coupled_to_adaptive);
        assert_eq!(r.groups[0].shrink_per_step, None);
        assert_eq!(
            r.warnings[0],
            DecayWarning::DecayOnBiasOrNorm {
                group: "all".into(),
                params: vec!["0.bias".into(), "1.weight".into(), "1.bias".into()],
            }
        );
        assert!(matches!(
            &r.warnings[1],
            DecayWarning::CoupledL2OnAdaptive { optimizer, .. } if optimizer == "Adam"
        ));
        let text = r.to_string();
        assert!(
            text.contains("AdamW-style decoupled decay was likely meant"),
            "{text}"
        );
        // SGD's L2 is not coupled to anything adaptive: no such warning
        let sgd = SgdConfig {
            weight_decay: WeightDecay::L2(1e-4),
            ..SgdConfig::default()
        };
        let r = ParamGroups::new()
            .group(
                "weights",
                Selector::tags(Tags::WEIGHT).or(Selector::All),
                sgd,
            )
            .report(&store(), 0);
        assert_eq!(r.warnings.len(), 1, "{r}");
        assert_eq!(r.groups[0].shrink_per_step, Some(1e-3 * 1e-4));
    }
}
