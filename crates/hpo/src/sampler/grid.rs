//! Grid search: every point of a product of value lists, each exactly once.
//!
//! Invariant: a grid never gives out a point some recorded or running trial of
//! this process holds.

use super::{SampleContext, Sampler};
use crate::{Distribution, Error, FrozenTrial, ParamValue, Result};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

const GRID_ID: &str = "grid_id";

/// Visits the full product of the given value lists, each point once (Optuna's `GridSampler`).
///
/// Each trial claims the lowest grid point no other trial (finished, failed,
/// pruned or running) holds; the claim is kept in the trial's `attrs`, so a
/// resumed study goes on with the points not yet visited.
/// Asking past the last point gives [`Error::GridExhausted`], which ends `optimize`.
///
/// # Examples
///
/// ```
/// use descent_hpo::{GridSampler, Study, StudyConfig};
///
/// let grid = GridSampler::new([("lr", vec![0.1.into(), 0.01.into()]), ("depth", vec![2i64.into(), 3i64.into()])])?;
/// assert_eq!(grid.len(), 4);
/// let study = Study::new(StudyConfig::default()).with_sampler(grid);
/// study.optimize(|t| Ok::<_, descent_hpo::Error>(t.suggest_float("lr", 0.0, 1.0)? * t.suggest_int("depth", 1, 4)? as f64), 10, 1)?;
/// assert_eq!(study.trials().len(), 4);
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct GridSampler {
    grid: BTreeMap<String, Vec<ParamValue>>,
}

impl GridSampler {
    /// A grid over the product of `grid`'s value lists; an empty list is an error.
    pub fn new<N: Into<String>>(
        grid: impl IntoIterator<Item = (N, Vec<ParamValue>)>,
    ) -> Result<Self> {
        let grid: BTreeMap<String, Vec<ParamValue>> =
            grid.into_iter().map(|(n, v)| (n.into(), v)).collect();
        if let Some((name, _)) = grid.iter().find(|(_, v)| v.is_empty()) {
            return Err(Error::EmptyCategorical { name: name.clone() });
        }
        Ok(GridSampler { grid })
    }

    /// The number of grid points.
    pub fn len(&self) -> usize {
        self.grid.values().map(Vec::len).product()
    }

    /// Whether the grid has no point (never: an empty grid has one empty point).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The grid point with index `id`, last parameter (in name order) fastest.
    pub fn point(&self, id: usize) -> BTreeMap<&str, &ParamValue> {
        let mut rest = id;
        let mut point = BTreeMap::new();
        for (name, values) in self.grid.iter().rev() {
            point.insert(name.as_str(), &values[rest % values.len()]);
            rest /= values.len();
        }
        point
    }
}

fn grid_id(trial: &FrozenTrial) -> Option<usize> {
    trial.attrs.get(GRID_ID)?.as_u64().map(|id| id as usize)
}

impl Sampler for GridSampler {
    fn sample(
        &self,
        ctx: &SampleContext<'_>,
        name: &str,
        distribution: &Distribution,
        _rng: &mut ChaCha8Rng,
    ) -> Result<ParamValue> {
        let id = grid_id(ctx.trial).ok_or(Error::NotRunning {
            number: ctx.trial.number,
        })?;
        let point = self.point(id);
        let value = *point.get(name).ok_or_else(|| Error::NotInGrid {
            name: name.to_owned(),
        })?;
        if !distribution.contains(value) {
            return Err(Error::config(
                "grid value",
                format!("{name}={value}"),
                "must lie in the suggested distribution",
            ));
        }
        Ok(value.clone())
    }

    /// A grid ignores the values, so any number of objectives is fine.
    fn supports_multi_objective(&self) -> bool {
        true
    }

    fn before_trial(&self, trials: &[FrozenTrial], trial: &mut FrozenTrial) -> Result<()> {
        let taken: BTreeSet<usize> = trials.iter().filter_map(grid_id).collect();
        let id = (0..self.len())
            .find(|id| !taken.contains(id))
            .ok_or(Error::GridExhausted { size: self.len() })?;
        trial.attrs.insert(GRID_ID.into(), id.into());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Study, StudyConfig};
    use std::collections::BTreeSet;

    #[test]
    fn grid_covers_the_full_product_exactly_once() {
        let grid = GridSampler::new([
            ("a", vec![1i64.into(), 2i64.into(), 3i64.into()]),
            ("b", vec!["x".into(), "y".into()]),
            ("c", vec![0.5.into(), 0.25.into()]),
        ])
        .unwrap();
        let study = Study::new(StudyConfig::default()).with_sampler(grid);
        study
            .optimize(
                |t| {
                    let a = t.suggest_int("a", 0, 5)?;
                    let b: &str = t.suggest_categorical("b", &["x", "y", "z"])?;
                    let c = t.suggest_float("c", 0.0, 1.0)?;
                    Ok::<_, Error>(a as f64 + c + b.len() as f64)
                },
                50,
                2,
            )
            .unwrap();
        let trials = study.trials();
        assert_eq!(trials.len(), 12);
        let points: BTreeSet<String> = trials.iter().map(|t| t.params.to_string()).collect();
        assert_eq!(points.len(), 12, "a grid point was repeated");
        assert!(matches!(
            study.ask(),
            Err(Error::GridExhausted { size: 12 })
        ));
    }

    #[test]
    fn a_parameter_outside_the_grid_is_an_error() {
        let grid = GridSampler::new([("a", vec![1i64.into()])]).unwrap();
        let study = Study::new(StudyConfig::default()).with_sampler(grid);
        let mut t = study.ask().unwrap();
        assert!(matches!(
            t.suggest_float("b", 0.0, 1.0),
            Err(Error::NotInGrid { .. })
        ));
        assert!(GridSampler::new([("a", vec![])]).is_err());
    }
}
