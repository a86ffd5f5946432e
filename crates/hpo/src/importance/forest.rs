//! A random forest of CART regression trees with the defaults of
//! scikit-learn's `RandomForestRegressor` that Optuna's fANOVA uses:
//! bootstrap samples, every feature considered at every split (visited in a
//! random order), squared-error splits at midpoints between distinct values.
//!
//! Written here because fANOVA needs the fitted trees' structure (split
//! features, thresholds, children, leaf values), which the Rust forest crates
//! (`smartcore`, `linfa-trees`) do not expose for regression.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// scikit-learn's `FEATURE_THRESHOLD`: values closer than this are one value.
const FEATURE_THRESHOLD: f64 = 1e-7;

/// One node of a fitted tree, in depth-first order (the root is node 0).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// A leaf predicting the mean of its samples.
    Leaf {
        /// The prediction.
        value: f64,
    },
    /// `x[feature] <= threshold` goes left, otherwise right.
    Split {
        /// The feature tested.
        feature: usize,
        /// The threshold.
        threshold: f64,
        /// The left child's index.
        left: usize,
        /// The right child's index.
        right: usize,
    },
}

/// The arguments of the forest (Optuna's fANOVA defaults in [`Default`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ForestConfig {
    pub n_trees: usize,
    pub max_depth: usize,
    pub min_samples_split: usize,
    pub min_samples_leaf: usize,
}

/// Fits a forest to rows `x` (all of one width) and targets `y`.
pub(crate) fn fit_forest(
    x: &[Vec<f64>],
    y: &[f64],
    config: ForestConfig,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<Node>> {
    let n = x.len();
    (0..config.n_trees)
        .map(|_| {
            let sample: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
            let mut nodes = Vec::new();
            let mut builder = Builder {
                x,
                y,
                config,
                rng: &mut *rng,
                nodes: &mut nodes,
            };
            builder.grow(sample, 0);
            nodes
        })
        .collect()
}

struct Builder<'a> {
    x: &'a [Vec<f64>],
    y: &'a [f64],
    config: ForestConfig,
    rng: &'a mut ChaCha8Rng,
    nodes: &'a mut Vec<Node>,
}

/// The best split of a node: feature, threshold, and the samples on each side.
struct Split {
    feature: usize,
    threshold: f64,
    left: Vec<usize>,
    right: Vec<usize>,
}

impl Builder<'_> {
    /// Grows the subtree of `sample` (indices, repeated by the bootstrap) at
    /// `depth`, returning its root's index.
    fn grow(&mut self, sample: Vec<usize>, depth: usize) -> usize {
        let index = self.nodes.len();
        let n = sample.len() as f64;
        let mean = sample.iter().map(|&i| self.y[i]).sum::<f64>() / n;
        self.nodes.push(Node::Leaf { value: mean });
        let impurity = sample
            .iter()
            .map(|&i| (self.y[i] - mean).powi(2))
            .sum::<f64>()
            / n;
        let c = self.config;
        if depth >= c.max_depth
            || sample.len() < c.min_samples_split
            || sample.len() < 2 * c.min_samples_leaf
            || impurity <= f64::EPSILON
        {
            return index;
        }
        let Some(split) = self.best_split(&sample) else {
            return index;
        };
        let left = self.grow(split.left, depth + 1);
        let right = self.grow(split.right, depth + 1);
        self.nodes[index] = Node::Split {
            feature: split.feature,
            threshold: split.threshold,
            left,
            right,
        };
        index
    }

    /// The split with the largest decrease of squared error; features are
    /// visited in a random order and the first of equal ones wins.
    fn best_split(&mut self, sample: &[usize]) -> Option<Split> {
        let n_features = self.x.first().map_or(0, Vec::len);
        let mut features: Vec<usize> = (0..n_features).collect();
        for i in (1..n_features).rev() {
            features.swap(i, self.rng.random_range(0..=i));
        }
        let total: f64 = sample.iter().map(|&i| self.y[i]).sum();
        let n = sample.len();
        let min_leaf = self.config.min_samples_leaf.max(1);
        let mut best: Option<(f64, usize, f64)> = None;
        let mut sorted = sample.to_vec();
        for &f in &features {
            sorted.sort_by(|&a, &b| self.x[a][f].total_cmp(&self.x[b][f]));
            let mut left_sum = 0.0;
            for p in 1..n {
                left_sum += self.y[sorted[p - 1]];
                let (lo, hi) = (self.x[sorted[p - 1]][f], self.x[sorted[p]][f]);
                if hi <= lo + FEATURE_THRESHOLD || p < min_leaf || n - p < min_leaf {
                    continue;
                }
                let right_sum = total - left_sum;
                // The proxy of scikit-learn's `MSE.proxy_impurity_improvement`.
                let proxy = left_sum * left_sum / p as f64 + right_sum * right_sum / (n - p) as f64;
                if best.is_none_or(|(b, _, _)| proxy > b) {
                    let mut threshold = 0.5 * (lo + hi);
                    if threshold == hi || !threshold.is_finite() {
                        threshold = lo;
                    }
                    best = Some((proxy, f, threshold));
                }
            }
        }
        let (_, feature, threshold) = best?;
        let (left, right) = sample
            .iter()
            .partition(|&&i| self.x[i][feature] <= threshold);
        Some(Split {
            feature,
            threshold,
            left,
            right,
        })
    }
}

/// The prediction of one tree for row `x`.
#[cfg(test)]
pub(crate) fn predict(nodes: &[Node], x: &[f64]) -> f64 {
    let mut i = 0;
    loop {
        match nodes[i] {
            Node::Leaf { value } => return value,
            Node::Split {
                feature,
                threshold,
                left,
                right,
            } => i = if x[feature] <= threshold { left } else { right },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_deep_tree_fits_its_bootstrap_sample_exactly() {
        let x: Vec<Vec<f64>> = (0..40)
            .map(|i| vec![i as f64 / 40.0, (i % 7) as f64])
            .collect();
        let y: Vec<f64> = x.iter().map(|r| (r[0] * 6.0).sin() + r[1]).collect();
        let config = ForestConfig {
            n_trees: 1,
            max_depth: 64,
            min_samples_split: 2,
            min_samples_leaf: 1,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let trees = fit_forest(&x, &y, config, &mut rng);
        // Distinct rows: every sampled row is its own leaf, so predictions are exact.
        let exact = x
            .iter()
            .zip(&y)
            .filter(|(r, t)| (predict(&trees[0], r) - **t).abs() < 1e-12)
            .count();
        assert!(exact >= 20, "only {exact} of 40 rows fitted");
    }
}
