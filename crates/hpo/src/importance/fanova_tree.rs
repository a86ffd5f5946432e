//! The functional ANOVA of one regression tree (Hutter et al. 2014), as
//! Optuna's `_FanovaTree` computes it: each leaf covers a box of the search
//! space; the marginal of a set of features averages the tree over the
//! other features, and its variance over the features' split cells is the
//! part of the tree's variance those features explain.

use super::forest::Node;

/// A fitted tree with the statistics its marginals need.
pub(crate) struct FanovaTree<'a> {
    nodes: &'a [Node],
    /// `[low, high]` of every feature.
    bounds: &'a [[f64; 2]],
    /// Per node: the volume-weighted mean prediction of its box, and its volume.
    statistics: Vec<(f64, f64)>,
    /// Per feature: the midpoints and widths of the cells its thresholds cut.
    cells: Vec<(Vec<f64>, Vec<f64>)>,
    /// Per node: which features its subtree splits on.
    subtree_features: Vec<Vec<bool>>,
    /// The variance of the tree's prediction over the whole space.
    pub(crate) variance: f64,
}

fn volume(space: &[[f64; 2]]) -> f64 {
    space.iter().map(|[lo, hi]| hi - lo).product()
}

/// The weighted mean and variance of `values`.
fn weighted_mean_var(values: &[f64], weights: &[f64]) -> (f64, f64) {
    let total: f64 = weights.iter().sum();
    let mean = values.iter().zip(weights).map(|(v, w)| v * w).sum::<f64>() / total;
    let var = values
        .iter()
        .zip(weights)
        .map(|(v, w)| w * (v - mean).powi(2))
        .sum::<f64>()
        / total;
    (mean, var)
}

impl<'a> FanovaTree<'a> {
    pub(crate) fn new(nodes: &'a [Node], bounds: &'a [[f64; 2]]) -> Self {
        let n_features = bounds.len();
        let mut spaces: Vec<Option<Vec<[f64; 2]>>> = vec![None; nodes.len()];
        spaces[0] = Some(bounds.to_vec());
        let mut statistics = vec![(0.0, 0.0); nodes.len()];
        let mut thresholds: Vec<Vec<f64>> = vec![Vec::new(); n_features];
        // Children come after their parent (depth-first order).
        for (i, node) in nodes.iter().enumerate() {
            let space = spaces[i].take().unwrap_or_else(|| bounds.to_vec());
            match *node {
                Node::Leaf { value } => statistics[i] = (value, volume(&space)),
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    thresholds[feature].push(threshold);
                    let (mut l, mut r) = (space.clone(), space);
                    l[feature][1] = threshold;
                    r[feature][0] = threshold;
                    spaces[left] = Some(l);
                    spaces[right] = Some(r);
                }
            }
        }
        let mut subtree_features = vec![vec![false; n_features]; nodes.len()];
        for i in (0..nodes.len()).rev() {
            if let Node::Split {
                feature,
                left,
                right,
                ..
            } = nodes[i]
            {
                let (vl, wl) = statistics[left];
                let (vr, wr) = statistics[right];
                statistics[i] = ((vl * wl + vr * wr) / (wl + wr), wl + wr);
                let mut active = subtree_features[left].clone();
                for (a, b) in active.iter_mut().zip(&subtree_features[right]) {
                    *a |= *b;
                }
                active[feature] = true;
                subtree_features[i] = active;
            }
        }
        let cells = thresholds
            .into_iter()
            .zip(bounds)
            .map(|(mut t, &[lo, hi])| {
                t.sort_by(f64::total_cmp);
                t.dedup();
                let edges: Vec<f64> = std::iter::once(lo).chain(t).chain([hi]).collect();
                let mids = edges.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect();
                let sizes = edges.windows(2).map(|w| w[1] - w[0]).collect();
                (mids, sizes)
            })
            .collect();
        let (values, weights): (Vec<f64>, Vec<f64>) = nodes
            .iter()
            .zip(&statistics)
            .filter(|(n, _)| matches!(n, Node::Leaf { .. }))
            .map(|(_, s)| *s)
            .unzip();
        let variance = weighted_mean_var(&values, &weights).1;
        FanovaTree {
            nodes,
            bounds,
            statistics,
            cells,
            subtree_features,
            variance,
        }
    }

    /// The variance of the marginal of `features` (jointly) over their cells.
    pub(crate) fn marginal_variance(&self, features: &[usize]) -> f64 {
        let mut point = vec![f64::NAN; self.bounds.len()];
        let mut values = Vec::new();
        let mut weights = Vec::new();
        let mut digits = vec![0usize; features.len()];
        loop {
            let mut size = 1.0;
            for (k, &f) in features.iter().enumerate() {
                point[f] = self.cells[f].0[digits[k]];
                size *= self.cells[f].1[digits[k]];
            }
            let (value, weight) = self.marginalized(&point);
            values.push(value);
            weights.push(weight * size);
            // Next combination of cells (an odometer over the features).
            let mut k = 0;
            loop {
                if k == features.len() {
                    let var = weighted_mean_var(&values, &weights).1;
                    return var.max(0.0);
                }
                digits[k] += 1;
                if digits[k] < self.cells[features[k]].0.len() {
                    break;
                }
                digits[k] = 0;
                k += 1;
            }
        }
    }

    /// The tree averaged over the features that are NaN in `point`: its mean
    /// value and the weight of that mean.
    fn marginalized(&self, point: &[f64]) -> (f64, f64) {
        let active: Vec<bool> = point.iter().map(|v| !v.is_nan()).collect();
        let mut space: Vec<[f64; 2]> = self.bounds.to_vec();
        for (s, &a) in space.iter_mut().zip(&active) {
            if !a {
                *s = [0.0, 1.0];
            }
        }
        let mut stack = vec![(0usize, space)];
        let (mut sum, mut total) = (0.0, 0.0);
        while let Some((i, space)) = stack.pop() {
            if let Node::Split {
                feature,
                threshold,
                left,
                right,
            } = self.nodes[i]
            {
                if active[feature] {
                    let mut sub = space;
                    if point[feature] <= threshold {
                        sub[feature][1] = threshold;
                        stack.push((left, sub));
                    } else {
                        sub[feature][0] = threshold;
                        stack.push((right, sub));
                    }
                    continue;
                }
                let splits_active = self.subtree_features[i]
                    .iter()
                    .zip(&active)
                    .any(|(s, a)| *s && *a);
                if splits_active {
                    stack.push((left, space.clone()));
                    stack.push((right, space));
                    continue;
                }
            }
            let (value, weight) = self.statistics[i];
            let w = weight / volume(&space);
            sum += value * w;
            total += w;
        }
        (sum / total, total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_on_one_feature_gives_it_all_the_variance() {
        // x0 <= 0.5 -> 0, else 1; x1 never split.
        let nodes = vec![
            Node::Split {
                feature: 0,
                threshold: 0.5,
                left: 1,
                right: 2,
            },
            Node::Leaf { value: 0.0 },
            Node::Leaf { value: 1.0 },
        ];
        let bounds = [[0.0, 1.0], [0.0, 2.0]];
        let tree = FanovaTree::new(&nodes, &bounds);
        assert!((tree.variance - 0.25).abs() < 1e-12);
        assert!((tree.marginal_variance(&[0]) - 0.25).abs() < 1e-12);
        assert_eq!(tree.marginal_variance(&[1]), 0.0);
    }
}
