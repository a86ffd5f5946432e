//! Multi-objective studies: objective values, domination, the Pareto front,
//! non-dominated sorting (Optuna's `optuna/study/_multi_objective.py`) and
//! the hypervolume (Optuna's `optuna/_hypervolume`).
//!
//! Invariant: a trial's result is in `value` (one objective) or `values` (two
//! or more), never both; readers use `objective_values()`; a multi-objective
//! study asks only samplers that declare `supports_multi_objective`.

mod hypervolume;

pub use hypervolume::hypervolume;

use crate::{Direction, Error, FrozenTrial, Result, TrialState};

/// What an objective may return: one value, or one per objective of a
/// multi-objective study. Implemented for `f64`, `Vec<f64>`, `[f64; N]` and
/// `&[f64]`; implement it for a struct of metrics to return that.
///
/// # Examples
///
/// ```
/// use descent_hpo::ObjectiveValue;
///
/// assert_eq!(0.5.into_values(), [0.5]);
/// assert_eq!([1.0, 2.0].into_values(), [1.0, 2.0]);
/// ```
pub trait ObjectiveValue {
    /// The values, in the order of the study's directions.
    fn into_values(self) -> Vec<f64>;
}

impl ObjectiveValue for f64 {
    fn into_values(self) -> Vec<f64> {
        vec![self]
    }
}

impl ObjectiveValue for Vec<f64> {
    fn into_values(self) -> Vec<f64> {
        self
    }
}

impl<const N: usize> ObjectiveValue for [f64; N] {
    fn into_values(self) -> Vec<f64> {
        self.to_vec()
    }
}

impl ObjectiveValue for &[f64] {
    fn into_values(self) -> Vec<f64> {
        self.to_vec()
    }
}

/// `values` as losses: maximized objectives negated, so lower is better in each.
pub fn to_losses(values: &[f64], directions: &[Direction]) -> Vec<f64> {
    values
        .iter()
        .zip(directions)
        .map(|(&v, &d)| d.as_loss(v))
        .collect()
}

/// Whether loss vector `a` dominates `b`: no worse in every objective and
/// better in at least one (lower is better).
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y) && a.iter().zip(b).any(|(x, y)| x < y)
}

/// Which of `losses` are on the Pareto front (dominated by no other point;
/// equal points are all on it) — Optuna's `_is_pareto_front`.
///
/// # Examples
///
/// ```
/// use descent_hpo::is_pareto_front;
///
/// let pts = [vec![1.0, 3.0], vec![2.0, 2.0], vec![2.0, 3.0], vec![1.0, 3.0]];
/// assert_eq!(is_pareto_front(&pts), [true, true, false, true]);
/// ```
pub fn is_pareto_front(losses: &[Vec<f64>]) -> Vec<bool> {
    let all: Vec<usize> = (0..losses.len()).collect();
    let ranks = rank_subset(losses, &all, 1);
    ranks.iter().map(|&r| r == 0).collect()
}

/// Non-domination ranks (0 for the Pareto front, 1 for the front once that
/// is removed, ...) of `losses`, lower being better in every objective:
/// Optuna's `_fast_non_domination_rank`.
///
/// With `penalty` (the total constraint violation of each point, Optuna's
/// constrained NSGA-II), feasible points (penalty ≤ 0) are ranked first
/// among themselves, then infeasible ones after them by increasing penalty.
/// With `n_below`, ranking stops once at least that many points are ranked;
/// the rest share the next rank (only the top `n_below` ranks are exact).
/// Points of different lengths, or a `penalty` of another length than
/// `losses`, are an [`Error::ObjectiveCount`] / [`Error::Arg`].
///
/// # Examples
///
/// ```
/// use descent_hpo::non_dominated_sort;
///
/// let pts = [vec![1.0, 3.0], vec![2.0, 2.0], vec![2.0, 3.0], vec![3.0, 3.0]];
/// assert_eq!(non_dominated_sort(&pts, None, None)?, [0, 0, 1, 2]);
/// // The second point violates a constraint: every feasible point comes first.
/// assert_eq!(non_dominated_sort(&pts, Some(&[0.0, 0.5, 0.0, 0.0]), None)?, [0, 3, 1, 2]);
/// # Ok::<(), descent_hpo::Error>(())
/// ```
pub fn non_dominated_sort(
    losses: &[Vec<f64>],
    penalty: Option<&[f64]>,
    n_below: Option<usize>,
) -> Result<Vec<usize>> {
    let n = losses.len();
    if let Some(p) = losses.iter().find(|p| p.len() != losses[0].len()) {
        return Err(Error::ObjectiveCount {
            what: "a point to rank",
            expected: losses[0].len(),
            got: p.len(),
        });
    }
    let n_below = n_below.filter(|&k| k > 0).unwrap_or(n);
    let Some(penalty) = penalty else {
        let all: Vec<usize> = (0..n).collect();
        return Ok(rank_subset(losses, &all, n_below));
    };
    if penalty.len() != n {
        return Err(Error::config(
            "penalty",
            format!("{} values for {n} points", penalty.len()),
            "must have one value per point",
        ));
    }
    let feasible: Vec<usize> = (0..n).filter(|&i| penalty[i] <= 0.0).collect();
    let infeasible: Vec<usize> = (0..n).filter(|&i| penalty[i] > 0.0).collect();
    let mut ranks = vec![usize::MAX; n];
    let feasible_ranks = rank_subset(losses, &feasible, n_below);
    for (&i, &r) in feasible.iter().zip(&feasible_ranks) {
        ranks[i] = r;
    }
    let top = feasible_ranks.iter().max().map_or(0, |m| m + 1);
    let n_below = n_below.saturating_sub(feasible.len());
    let pen: Vec<Vec<f64>> = infeasible.iter().map(|&i| vec![penalty[i]]).collect();
    let all: Vec<usize> = (0..pen.len()).collect();
    let pen_ranks = rank_subset(&pen, &all, n_below);
    for (&i, &r) in infeasible.iter().zip(&pen_ranks) {
        ranks[i] = top + r;
    }
    Ok(ranks)
}

/// Ranks of `losses[idx]` (Optuna's `_calculate_nondomination_rank`): peel
/// fronts off until at least `n_below` points are ranked.
fn rank_subset(losses: &[Vec<f64>], idx: &[usize], n_below: usize) -> Vec<usize> {
    let mut ranks = vec![0; idx.len()];
    if idx.is_empty() || n_below == 0 {
        return ranks;
    }
    // One objective: every distinct value is a front, all ranked (as Optuna does).
    let n_below = if losses[idx[0]].len() == 1 {
        idx.len()
    } else {
        n_below
    };
    let mut remaining: Vec<usize> = (0..idx.len()).collect();
    let mut ranked = 0;
    let mut rank = 0;
    while !remaining.is_empty() && ranked < n_below {
        let front: Vec<usize> = remaining
            .iter()
            .copied()
            .filter(|&a| {
                !remaining
                    .iter()
                    .any(|&b| dominates(&losses[idx[b]], &losses[idx[a]]))
            })
            .collect();
        for &a in &front {
            ranks[a] = rank;
        }
        ranked += front.len();
        remaining.retain(|a| !front.contains(a));
        rank += 1;
    }
    for a in remaining {
        ranks[a] = rank;
    }
    ranks
}

/// The total violation of a trial's constraints (Optuna's `_evaluate_penalty`):
/// the sum of its positive constraint values (system attribute
/// `constraints`, a list, or `constraints:<key>` entries); `None` when the
/// trial has none.
pub fn constraint_violation(trial: &FrozenTrial) -> Option<f64> {
    let mut found = false;
    let mut total = 0.0;
    let mut add = |v: &serde_json::Value| {
        found = true;
        // A null constraint (the constraints function failed) counts as violated.
        let x = v.as_f64().unwrap_or(f64::INFINITY);
        if x > 0.0 {
            total += x;
        }
    };
    if let Some(serde_json::Value::Array(list)) = trial.attrs.get("constraints") {
        list.iter().for_each(&mut add);
    }
    for (k, v) in &trial.attrs {
        if k.starts_with("constraints:") {
            add(v);
        }
    }
    found.then_some(total)
}

/// The Pareto front of the complete, feasible trials among `trials`, in
/// their order (Optuna's `_get_pareto_front_trials(consider_constraint=True)`).
pub(crate) fn pareto_front_trials(
    trials: &[FrozenTrial],
    directions: &[Direction],
) -> Result<Vec<FrozenTrial>> {
    let done: Vec<&FrozenTrial> = trials
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .filter(|t| constraint_violation(t).is_none_or(|v| v <= 0.0))
        .collect();
    let mut losses = Vec::with_capacity(done.len());
    for t in &done {
        let v = t.objective_values();
        if v.len() != directions.len() {
            return Err(Error::ObjectiveCount {
                what: "a complete trial's values",
                expected: directions.len(),
                got: v.len(),
            });
        }
        losses.push(to_losses(v, directions));
    }
    let on_front = is_pareto_front(&losses);
    Ok(done
        .into_iter()
        .zip(on_front)
        .filter(|&(_, on)| on)
        .map(|(t, _)| t.clone())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Every point of rank r > 0 is dominated by a point of rank r - 1,
        /// and no point dominates another of the same or a better rank.
        #[test]
        fn ranks_are_consistent_with_domination(
            pts in prop::collection::vec(prop::collection::vec(0u8..5, 3), 1..25)
        ) {
            let pts: Vec<Vec<f64>> = pts.into_iter().map(|p| p.into_iter().map(f64::from).collect()).collect();
            let ranks = non_dominated_sort(&pts, None, None).unwrap();
            for i in 0..pts.len() {
                if ranks[i] > 0 {
                    prop_assert!((0..pts.len()).any(|j| ranks[j] == ranks[i] - 1 && dominates(&pts[j], &pts[i])));
                }
                for j in 0..pts.len() {
                    if dominates(&pts[j], &pts[i]) {
                        prop_assert!(ranks[j] < ranks[i]);
                    }
                }
            }
        }
    }

    #[test]
    fn infeasible_points_rank_after_feasible_ones_by_violation() {
        let pts = vec![
            vec![0.0, 0.0],
            vec![5.0, 5.0],
            vec![1.0, 1.0],
            vec![9.0, 9.0],
        ];
        let ranks = non_dominated_sort(&pts, Some(&[2.0, 0.0, 1.0, 0.0]), None).unwrap();
        assert_eq!(ranks, [3, 0, 2, 1]);
    }

    #[test]
    fn n_below_stops_ranking_once_enough_points_are_ranked() {
        let pts: Vec<Vec<f64>> = (0..5).map(|i| vec![i as f64, i as f64]).collect();
        assert_eq!(
            non_dominated_sort(&pts, None, Some(2)).unwrap(),
            [0, 1, 2, 2, 2]
        );
        assert!(matches!(
            non_dominated_sort(&pts, Some(&[0.0]), None),
            Err(Error::Arg(descent_core::ArgError { .. }))
        ));
        assert!(matches!(
            non_dominated_sort(&[vec![1.0], vec![1.0, 2.0]], None, None),
            Err(Error::ObjectiveCount { .. })
        ));
    }
}
