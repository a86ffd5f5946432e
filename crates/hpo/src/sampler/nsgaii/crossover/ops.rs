//! The crossovers of two or three parents' numerical genes, in Optuna's
//! transformed space (`BaseCrossover.crossover` of each Optuna class): each
//! takes the parents as rows, gene by gene, and returns one child.

use super::draws::Draws;

/// Optuna's `UniformCrossover.crossover`: gene `i` from parent 1 when `u_i ≥ swapping_prob`.
pub(super) fn uniform(xs: &[Vec<f64>], swapping_prob: f64, rng: &mut impl Draws) -> Vec<f64> {
    let n = xs[0].len();
    let masks: Vec<bool> = (0..n).map(|_| rng.uniform() >= swapping_prob).collect();
    (0..n)
        .map(|i| if masks[i] { xs[1][i] } else { xs[0][i] })
        .collect()
}

/// Optuna's `BLXAlphaCrossover.crossover` (Eshelman and Schaffer's blend crossover).
pub(super) fn blx_alpha(xs: &[Vec<f64>], alpha: f64, rng: &mut impl Draws) -> Vec<f64> {
    let n = xs[0].len();
    let r: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
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

/// How SBX and vSBX make one child of their two candidate children `c1`,
/// `c2` and the parents `xs[0]`, `xs[1]`: per gene, the candidates' genes
/// with probability `use_child_gene_prob` (else the parents'), swapped with
/// probability `uniform_crossover_prob`; then either result, evenly.
fn one_of_two(
    c: [&[f64]; 2],
    xs: &[Vec<f64>],
    uniform_crossover_prob: f64,
    use_child_gene_prob: f64,
    rng: &mut impl Draws,
) -> Vec<f64> {
    let n = c[0].len();
    let mut child1 = Vec::with_capacity(n);
    let mut child2 = Vec::with_capacity(n);
    for i in 0..n {
        let (a, b) = if rng.uniform() < use_child_gene_prob {
            (c[0][i], c[1][i])
        } else {
            (xs[0][i], xs[1][i])
        };
        if rng.uniform() >= uniform_crossover_prob {
            child1.push(a);
            child2.push(b);
        } else {
            child1.push(b);
            child2.push(a);
        }
    }
    if rng.uniform() < 0.5 { child1 } else { child2 }
}

/// Optuna's `SBXCrossover.crossover` (Deb and Agrawal's simulated binary
/// crossover with the bounded spread of Deb and Goyal): one child of two.
pub(super) fn sbx(
    xs: &[Vec<f64>],
    bounds: &[[f64; 2]],
    eta: f64,
    uniform_crossover_prob: f64,
    use_child_gene_prob: f64,
    rng: &mut impl Draws,
) -> Vec<f64> {
    let n = bounds.len();
    let mut c1 = Vec::with_capacity(n);
    let mut c2 = Vec::with_capacity(n);
    let us: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
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
    one_of_two(
        [&c1, &c2],
        xs,
        uniform_crossover_prob,
        use_child_gene_prob,
        rng,
    )
}

/// Optuna's `VSBXCrossover.crossover` (Ballester and Carter's vSBX, 2003):
/// SBX's spread without its excluded region between the parents, unbounded.
pub(super) fn vsbx(
    xs: &[Vec<f64>],
    eta: f64,
    uniform_crossover_prob: f64,
    use_child_gene_prob: f64,
    rng: &mut impl Draws,
) -> Vec<f64> {
    const EPS: f64 = 1e-10;
    let n = xs[0].len();
    let (x1, x2) = (&xs[0], &xs[1]);
    let us: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
    let e = 1.0 / (eta + 1.0);
    let beta1: Vec<f64> = us
        .iter()
        .map(|u| (1.0 / (2.0 * u).max(EPS)).powf(e))
        .collect();
    let beta2: Vec<f64> = us
        .iter()
        .map(|u| (1.0 / (2.0 * (1.0 - u)).max(EPS)).powf(e))
        .collect();
    let (b1, b2) = (&beta1, &beta2);
    let c1: Vec<f64> = if rng.uniform() <= 0.5 {
        (0..n)
            .map(|i| 0.5 * ((1.0 + b1[i]) * x1[i] + (1.0 - b2[i]) * x2[i]))
            .collect()
    } else {
        (0..n)
            .map(|i| 0.5 * ((1.0 - b1[i]) * x1[i] + (1.0 + b2[i]) * x2[i]))
            .collect()
    };
    let c2: Vec<f64> = if rng.uniform() <= 0.5 {
        (0..n)
            .map(|i| 0.5 * ((3.0 - b1[i]) * x1[i] - (1.0 - b2[i]) * x2[i]))
            .collect()
    } else {
        (0..n)
            .map(|i| 0.5 * (-(1.0 - b1[i]) * x1[i] + (3.0 - b2[i]) * x2[i]))
            .collect()
    };
    one_of_two(
        [&c1, &c2],
        xs,
        uniform_crossover_prob,
        use_child_gene_prob,
        rng,
    )
}

/// Optuna's `SPXCrossover.crossover` (Tsutsui, Goldberg and Sastry's simplex
/// crossover): a child uniform in the parents' simplex expanded by
/// `epsilon` about its centroid (`None`: `sqrt(n + 2)` for `n` genes).
pub(super) fn spx(xs: &[Vec<f64>], epsilon: Option<f64>, rng: &mut impl Draws) -> Vec<f64> {
    let (k, n) = (xs.len(), xs[0].len());
    // Equation (2): r_k = u_k^(1 / (k + 1)).
    let us: Vec<f64> = (0..k - 1).map(|_| rng.uniform()).collect();
    let rs: Vec<f64> = us
        .iter()
        .enumerate()
        .map(|(j, u)| u.powf(1.0 / (j as f64 + 1.0)))
        .collect();
    let epsilon = epsilon.unwrap_or(((n + 2) as f64).sqrt());
    // Equation (1): the centroid, summed parent by parent as numpy does.
    let g: Vec<f64> = (0..n)
        .map(|i| xs[1..].iter().fold(xs[0][i], |s, p| s + p[i]) / k as f64)
        .collect();
    // Equation (3): the expanded vertices.
    let vs: Vec<Vec<f64>> = xs
        .iter()
        .map(|p| (0..n).map(|i| g[i] + epsilon * (p[i] - g[i])).collect())
        .collect();
    // Equations (4) and (5).
    let mut c = vec![0.0; n];
    for j in 1..k {
        for i in 0..n {
            c[i] = rs[j - 1] * (vs[j - 1][i] - vs[j][i] + c[i]);
        }
    }
    (0..n).map(|i| vs[k - 1][i] + c[i]).collect()
}
