//! NSGA-II's crossovers (Optuna's `optuna/samplers/nsgaii/_crossovers/`) on
//! the numerical parameters in Optuna's transformed space (log scale for log
//! parameters, integers and steps widened by half a step), and the uniform
//! crossover of categorical parameters.

use super::NsgaIIConfig;
use crate::sampler::SampleContext;
use crate::{Distribution, Error, FrozenTrial, ParamValue, Result};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
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

    /// The number of parents a child has.
    pub fn n_parents(&self) -> usize {
        2
    }

    pub(super) fn check(&self) -> Result<()> {
        if let Crossover::BlxAlpha { alpha } = *self
            && !alpha.is_finite()
        {
            return Err(Error::config("alpha", alpha, "must be finite"));
        }
        if let Crossover::Sbx {
            eta,
            uniform_crossover_prob,
            use_child_gene_prob,
        } = *self
        {
            if let Some(eta) = eta
                && (eta.is_nan() || eta < 0.0)
            {
                return Err(Error::config("eta", eta, "must be >= 0"));
            }
            for (name, p) in [
                ("uniform_crossover_prob", uniform_crossover_prob),
                ("use_child_gene_prob", use_child_gene_prob),
            ] {
                if !(0.0..=1.0).contains(&p) {
                    return Err(Error::config(name, p, "must be in [0, 1]"));
                }
            }
        }
        Ok(())
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
            (true, _) => x.exp().min(high.next_down()),
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
    ctx: &SampleContext<'_>,
    rng: &mut ChaCha8Rng,
) -> BTreeMap<String, ParamValue> {
    let multi = ctx.directions.len() > 1;
    let mut child = BTreeMap::new();
    if population.len() < config.crossover.n_parents() {
        return child;
    }
    // Optuna retries without end; a child outside the space is rare (only a
    // parent whose value lies outside), so a bounded retry then keeping only
    // the contained genes (the rest drawn at random) changes nothing in practice.
    for _ in 0..100 {
        let parents = select_parents(config.crossover.n_parents(), population, dominates, rng);
        child = try_crossover(config, space, &parents, multi, rng);
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
    rng: &mut ChaCha8Rng,
) -> Vec<&'t FrozenTrial> {
    let mut parents: Vec<&FrozenTrial> = Vec::with_capacity(n);
    for _ in 0..n {
        let left: Vec<&FrozenTrial> = population
            .iter()
            .copied()
            .filter(|t| parents.iter().all(|p| p.number != t.number))
            .collect();
        let a = left[rng.random_range(0..left.len())];
        let b = left[rng.random_range(0..left.len())];
        parents.push(if dominates(a, b) { a } else { b });
    }
    parents
}

fn try_crossover(
    config: &NsgaIIConfig,
    space: &BTreeMap<String, Distribution>,
    parents: &[&FrozenTrial],
    multi: bool,
    rng: &mut ChaCha8Rng,
) -> BTreeMap<String, ParamValue> {
    let mut child = BTreeMap::new();
    let (first, last) = (parents[0], parents[parents.len() - 1]);
    let categorical: Vec<&String> = space
        .iter()
        .filter(|(_, d)| matches!(d, Distribution::Categorical { .. }))
        .map(|(k, _)| k)
        .collect();
    for name in categorical {
        let from = if rng.random::<f64>() >= config.swapping_prob {
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
    let genes = match config.crossover {
        Crossover::Uniform => uniform(&xs, config.swapping_prob, rng),
        Crossover::BlxAlpha { alpha } => blx_alpha(&xs, alpha, rng),
        Crossover::Sbx {
            eta,
            uniform_crossover_prob,
            use_child_gene_prob,
        } => {
            let eta = eta.unwrap_or(if multi { 20.0 } else { 2.0 });
            sbx(
                &xs,
                &bounds,
                eta,
                uniform_crossover_prob,
                use_child_gene_prob,
                rng,
            )
        }
    };
    for ((name, d), x) in numerical.into_iter().zip(genes) {
        child.insert(name.clone(), untransform(d, x));
    }
    child
}

/// Optuna's `UniformCrossover.crossover`: gene `i` from parent 1 when `u_i ≥ swapping_prob`.
fn uniform(xs: &[Vec<f64>], swapping_prob: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let n = xs[0].len();
    let masks: Vec<bool> = (0..n)
        .map(|_| rng.random::<f64>() >= swapping_prob)
        .collect();
    (0..n)
        .map(|i| if masks[i] { xs[1][i] } else { xs[0][i] })
        .collect()
}

/// Optuna's `BLXAlphaCrossover.crossover` (Eshelman and Schaffer's blend crossover).
fn blx_alpha(xs: &[Vec<f64>], alpha: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let n = xs[0].len();
    let r: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
    (0..n)
        .map(|i| {
            let lo = xs.iter().map(|p| p[i]).fold(f64::INFINITY, f64::min);
            let hi = xs.iter().map(|p| p[i]).fold(f64::NEG_INFINITY, f64::max);
            let d = alpha * (hi - lo);
            let (low, high) = (lo - d, hi + d);
            (high - low) * r[i] + low
        })
        .collect()
}

/// Optuna's `SBXCrossover.crossover` (Deb and Agrawal's simulated binary
/// crossover with the bounded spread of Deb and Goyal): one child of two.
fn sbx(
    xs: &[Vec<f64>],
    bounds: &[[f64; 2]],
    eta: f64,
    uniform_crossover_prob: f64,
    use_child_gene_prob: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<f64> {
    let n = bounds.len();
    let mut c1 = Vec::with_capacity(n);
    let mut c2 = Vec::with_capacity(n);
    let us: Vec<f64> = (0..n).map(|_| rng.random::<f64>()).collect();
    for i in 0..n {
        let (xl, xu) = (bounds[i][0], bounds[i][1]);
        let (lo, hi) = (xs[0][i].min(xs[1][i]), xs[0][i].max(xs[1][i]));
        let diff = (hi - lo).max(1e-10);
        let beta1 = 1.0 + 2.0 * (lo - xl) / diff;
        let beta2 = 1.0 + 2.0 * (xu - hi) / diff;
        let alpha1 = 2.0 - beta1.powf(-(eta + 1.0));
        let alpha2 = 2.0 - beta2.powf(-(eta + 1.0));
        let betaq = |u: f64, alpha: f64| {
            if u > 1.0 / alpha {
                (1.0 / (2.0 - u * alpha)).powf(1.0 / (eta + 1.0))
            } else {
                (u * alpha).powf(1.0 / (eta + 1.0))
            }
        };
        c1.push(0.5 * ((lo + hi) - betaq(us[i], alpha1) * diff));
        c2.push(0.5 * ((lo + hi) + betaq(us[i], alpha2) * diff));
    }
    let mut child1 = Vec::with_capacity(n);
    let mut child2 = Vec::with_capacity(n);
    for i in 0..n {
        let (a, b) = if rng.random::<f64>() < use_child_gene_prob {
            (c1[i], c2[i])
        } else {
            (xs[0][i], xs[1][i])
        };
        if rng.random::<f64>() >= uniform_crossover_prob {
            child1.push(a);
            child2.push(b);
        } else {
            child1.push(b);
            child2.push(a);
        }
    }
    if rng.random::<f64>() < 0.5 {
        child1
    } else {
        child2
    }
}
