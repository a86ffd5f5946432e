//! NSGA-II's crossovers (Optuna's `optuna/samplers/nsgaii/_crossovers/`) on
//! the numerical parameters in Optuna's transformed space (log scale for log
//! parameters, integers and steps widened by half a step), and the uniform
//! crossover of categorical parameters.

mod draws;
mod ops;
mod undx;

pub(super) use draws::Draws;

use super::NsgaIIConfig;
use crate::{Distribution, Error, FrozenTrial, ParamValue, Result};
use std::collections::BTreeMap;

/// How parents make a child (Optuna's `BaseCrossover` subclasses).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Crossover {
    /// Optuna's `UniformCrossover`: each gene from either of two parents
    /// (the second with probability `swapping_prob`).
    Uniform,
    /// Optuna's `SBXCrossover` (simulated binary crossover, kept within bounds).
    Sbx {
        /// The distribution index; `None` is 20 for a multi-objective study, 2 otherwise.
        eta: Option<f64>,
        /// Probability of swapping the two children's genes.
        uniform_crossover_prob: f64,
        /// Probability of taking a gene from the children rather than the parents.
        use_child_gene_prob: f64,
    },
    /// Optuna's `BLXAlphaCrossover`: each gene uniform in the parents'
    /// interval widened by `alpha` times its length on each side.
    BlxAlpha {
        /// The widening (Optuna's default 0.5).
        alpha: f64,
    },
    /// Optuna's `SPXCrossover` (Tsutsui, Goldberg and Sastry's simplex
    /// crossover): three parents; the child is uniform in their simplex
    /// expanded about its centroid by `epsilon`. Unbounded: a child below a
    /// parameter's range is drawn again (above it, it is clipped), as in Optuna.
    Spx {
        /// The expansion rate; `None` is `sqrt(n + 2)` for `n` numerical parameters.
        epsilon: Option<f64>,
    },
    /// Optuna's `UNDXCrossover` (Kita, Ono and Kobayashi's unimodal normal
    /// distribution crossover): three parents; the child is normal about
    /// the first two parents' midpoint, along the line through them and,
    /// scaled by the third parent's distance from that line, across it.
    /// As in Optuna, `sigma_xi` and `sigma_eta` are the square roots of the
    /// normals' standard deviations (`N(0, sigma²)` in numpy's
    /// `normal(0, sigma**2)` reading). Unbounded, as SPX.
    Undx {
        /// Spread along the line through the first two parents (Optuna's default 0.5).
        sigma_xi: f64,
        /// Spread across it; `None` is `0.35 / sqrt(n)` for `n` numerical parameters.
        sigma_eta: Option<f64>,
    },
    /// Optuna's `VSBXCrossover` (Ballester and Carter's vSBX): SBX's
    /// polynomial spread without the region between the parents SBX
    /// excludes, and without bounds (a child below a range is drawn again,
    /// above it clipped).
    Vsbx {
        /// The distribution index; `None` is 20 for a multi-objective study, 2 otherwise.
        eta: Option<f64>,
        /// Probability of swapping the two children's genes.
        uniform_crossover_prob: f64,
        /// Probability of taking a gene from the children rather than the parents (in (0, 1]).
        use_child_gene_prob: f64,
    },
}

impl Crossover {
    /// Optuna's `SBXCrossover()` defaults.
    pub const SBX: Crossover = Crossover::Sbx {
        eta: None,
        uniform_crossover_prob: 0.5,
        use_child_gene_prob: 0.5,
    };

    /// Optuna's `BLXAlphaCrossover()` default.
    pub const BLX_ALPHA: Crossover = Crossover::BlxAlpha { alpha: 0.5 };

    /// Optuna's `SPXCrossover()` default.
    pub const SPX: Crossover = Crossover::Spx { epsilon: None };

    /// Optuna's `UNDXCrossover()` defaults.
    pub const UNDX: Crossover = Crossover::Undx {
        sigma_xi: 0.5,
        sigma_eta: None,
    };

    /// Optuna's `VSBXCrossover()` defaults.
    pub const VSBX: Crossover = Crossover::Vsbx {
        eta: None,
        uniform_crossover_prob: 0.5,
        use_child_gene_prob: 0.5,
    };

    /// The number of parents a child has (Optuna's `n_parents`): 3 for SPX
    /// and UNDX, 2 otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_hpo::Crossover;
    ///
    /// assert_eq!(Crossover::SPX.n_parents(), 3);
    /// assert_eq!(Crossover::VSBX.n_parents(), 2);
    /// ```
    pub fn n_parents(&self) -> usize {
        match self {
            Crossover::Spx { .. } | Crossover::Undx { .. } => 3,
            _ => 2,
        }
    }

    /// Optuna's checks of the crossover's arguments (SBX's and vSBX's:
    /// `eta ≥ 0`, `uniform_crossover_prob` in [0, 1], `use_child_gene_prob`
    /// in (0, 1]); Optuna checks none of BLX-α's, SPX's and UNDX's, of which
    /// descent refuses the non-finite ones (their children would never lie
    /// in the search space).
    pub(super) fn check(&self) -> Result<()> {
        let finite = |name, x: f64| {
            if x.is_finite() {
                Ok(())
            } else {
                Err(Error::config(name, x, "must be finite"))
            }
        };
        match *self {
            Crossover::Uniform => Ok(()),
            Crossover::BlxAlpha { alpha } => finite("alpha", alpha),
            Crossover::Spx { epsilon } => epsilon.map_or(Ok(()), |e| finite("epsilon", e)),
            Crossover::Undx {
                sigma_xi,
                sigma_eta,
            } => {
                finite("sigma_xi", sigma_xi)?;
                sigma_eta.map_or(Ok(()), |s| finite("sigma_eta", s))
            }
            Crossover::Sbx {
                eta,
                uniform_crossover_prob,
                use_child_gene_prob,
            }
            | Crossover::Vsbx {
                eta,
                uniform_crossover_prob,
                use_child_gene_prob,
            } => {
                if let Some(eta) = eta
                    && (eta.is_nan() || eta < 0.0)
                {
                    return Err(Error::config("eta", eta, "must be >= 0"));
                }
                if !(0.0..=1.0).contains(&uniform_crossover_prob) {
                    return Err(Error::config(
                        "uniform_crossover_prob",
                        uniform_crossover_prob,
                        "must be in [0, 1]",
                    ));
                }
                if !(use_child_gene_prob > 0.0 && use_child_gene_prob <= 1.0) {
                    return Err(Error::config(
                        "use_child_gene_prob",
                        use_child_gene_prob,
                        "must be in (0, 1]",
                    ));
                }
                Ok(())
            }
        }
    }
}

/// A numerical value in Optuna's transformed space, with the bounds of that space.
fn transform(d: &Distribution, v: &ParamValue) -> Option<(f64, [f64; 2])> {
    match (d, v) {
        (
            Distribution::Float {
                low,
                high,
                log,
                step,
            },
            ParamValue::Float(x),
        ) => Some(match (log, step) {
            (true, _) => (x.ln(), [low.ln(), high.ln()]),
            (false, Some(s)) => (*x, [low - 0.5 * s, high + 0.5 * s]),
            (false, None) => (*x, [*low, *high]),
        }),
        (
            Distribution::Int {
                low,
                high,
                log,
                step,
            },
            ParamValue::Int(i),
        ) => {
            let (low, high, s) = (*low as f64, *high as f64, *step as f64);
            Some(if *log {
                ((*i as f64).ln(), [(low - 0.5).ln(), (high + 0.5).ln()])
            } else {
                (*i as f64, [low - 0.5 * s, high + 0.5 * s])
            })
        }
        _ => None,
    }
}

/// Optuna's `_untransform_numerical_param`.
fn untransform(d: &Distribution, x: f64) -> ParamValue {
    match d {
        Distribution::Float {
            low,
            high,
            log,
            step,
        } => ParamValue::Float(match (log, step) {
            (true, _) => x.exp().clamp(*low, high.next_down()),
            (false, Some(s)) => (((x - low) / s).round() * s + low).clamp(*low, *high),
            (false, None) => x.min(high.next_down()),
        }),
        Distribution::Int {
            low,
            high,
            log,
            step,
        } => ParamValue::Int(if *log {
            (x.exp().round() as i64).clamp(*low, *high)
        } else {
            let k = ((x - *low as f64) / *step as f64 + 0.5).floor() as i64;
            (k.saturating_mul(*step).saturating_add(*low)).clamp(*low, *high)
        }),
        Distribution::Categorical { choices } => choices[0].clone(),
    }
}

/// Optuna's `perform_crossover`: parents by binary tournaments, a child by
/// `config.crossover`, again until the child lies in the search space.
pub(super) fn perform(
    config: &NsgaIIConfig,
    space: &BTreeMap<String, Distribution>,
    population: &[&FrozenTrial],
    dominates: &dyn Fn(&FrozenTrial, &FrozenTrial) -> bool,
    multi_objective: bool,
    rng: &mut impl Draws,
) -> BTreeMap<String, ParamValue> {
    let mut child = BTreeMap::new();
    if population.len() < config.crossover.n_parents() {
        return child;
    }
    // Optuna retries without end; a child outside the space is rare (only a
    // parent whose value lies outside), so a bounded retry then keeping only
    // the contained genes (the rest drawn at random) changes nothing in practice.
    for _ in 0..100 {
        let parents = select_parents(config.crossover.n_parents(), population, dominates, rng);
        child = try_crossover(config, space, &parents, multi_objective, rng);
        if child
            .iter()
            .all(|(k, v)| space.get(k).is_some_and(|d| d.contains(v)))
        {
            return child;
        }
    }
    child.retain(|k, v| space.get(k).is_some_and(|d| d.contains(v)));
    child
}

fn select_parents<'t>(
    n: usize,
    population: &[&'t FrozenTrial],
    dominates: &dyn Fn(&FrozenTrial, &FrozenTrial) -> bool,
    rng: &mut impl Draws,
) -> Vec<&'t FrozenTrial> {
    let mut parents: Vec<&FrozenTrial> = Vec::with_capacity(n);
    for _ in 0..n {
        let left: Vec<&FrozenTrial> = population
            .iter()
            .copied()
            .filter(|t| parents.iter().all(|p| p.number != t.number))
            .collect();
        let a = left[rng.index(left.len())];
        let b = left[rng.index(left.len())];
        parents.push(if dominates(a, b) { a } else { b });
    }
    parents
}

fn try_crossover(
    config: &NsgaIIConfig,
    space: &BTreeMap<String, Distribution>,
    parents: &[&FrozenTrial],
    multi_objective: bool,
    rng: &mut impl Draws,
) -> BTreeMap<String, ParamValue> {
    let mut child = BTreeMap::new();
    let (first, last) = (parents[0], parents[parents.len() - 1]);
    let categorical: Vec<&String> = space
        .iter()
        .filter(|(_, d)| matches!(d, Distribution::Categorical { .. }))
        .map(|(k, _)| k)
        .collect();
    for name in categorical {
        let from = if rng.uniform() >= config.swapping_prob {
            last
        } else {
            first
        };
        if let Some(v) = from.params.get(name) {
            child.insert(name.clone(), v.clone());
        }
    }
    let numerical: Vec<(&String, &Distribution)> = space
        .iter()
        .filter(|(_, d)| !matches!(d, Distribution::Categorical { .. }))
        .collect();
    if numerical.is_empty() {
        return child;
    }
    // Parents × genes in the transformed space, and the bounds of each gene.
    let mut xs: Vec<Vec<f64>> = vec![Vec::with_capacity(numerical.len()); parents.len()];
    let mut bounds = Vec::with_capacity(numerical.len());
    for (name, d) in &numerical {
        for (p, row) in parents.iter().zip(xs.iter_mut()) {
            let Some((x, b)) = p.params.get(name).and_then(|v| transform(d, v)) else {
                return child;
            };
            row.push(x);
            if bounds.len() < row.len() {
                bounds.push(b);
            }
        }
    }
    let genes = numerical_child(config, &xs, &bounds, multi_objective, rng);
    for ((name, d), x) in numerical.into_iter().zip(genes) {
        child.insert(name.clone(), untransform(d, x));
    }
    child
}

/// The child of the parents' numerical genes `xs` (parents × genes, in the
/// transformed space whose bounds are `bounds`) by `config.crossover`.
pub(super) fn numerical_child(
    config: &NsgaIIConfig,
    xs: &[Vec<f64>],
    bounds: &[[f64; 2]],
    multi_objective: bool,
    rng: &mut impl Draws,
) -> Vec<f64> {
    let default_eta = if multi_objective { 20.0 } else { 2.0 };
    match config.crossover {
        Crossover::Uniform => ops::uniform(xs, config.swapping_prob, rng),
        Crossover::BlxAlpha { alpha } => ops::blx_alpha(xs, alpha, rng),
        Crossover::Sbx {
            eta,
            uniform_crossover_prob,
            use_child_gene_prob,
        } => ops::sbx(
            xs,
            bounds,
            eta.unwrap_or(default_eta),
            uniform_crossover_prob,
            use_child_gene_prob,
            rng,
        ),
        Crossover::Vsbx {
            eta,
            uniform_crossover_prob,
            use_child_gene_prob,
        } => ops::vsbx(
            xs,
            eta.unwrap_or(default_eta),
            uniform_crossover_prob,
            use_child_gene_prob,
            rng,
        ),
        Crossover::Spx { epsilon } => ops::spx(xs, epsilon, rng),
        Crossover::Undx {
            sigma_xi,
            sigma_eta,
        } => undx::undx(xs, sigma_xi, sigma_eta, rng),
    }
}
