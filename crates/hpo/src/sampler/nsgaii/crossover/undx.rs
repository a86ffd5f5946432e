//! Optuna's `UNDXCrossover` (Kita, Ono and Kobayashi's unimodal normal
//! distribution crossover), with the orthonormal basis numpy's
//! `linalg.qr` (LAPACK's Householder QR) gives.

use super::draws::Draws;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// Optuna's `UNDXCrossover.crossover`: the child is
/// `(x1 + x2)/2 + ξ (x1 − x2) + D Σ η_i e_i`, the `e_i` an orthonormal basis
/// of the space orthogonal to the line through `x1` and `x2`, `D` the
/// distance of `x3` from that line. As in Optuna, `ξ` and the `η_i` are
/// normal with standard deviation `sigma_xi²` and `sigma_eta²` (the paper's
/// variances), `sigma_eta` defaulting to `0.35 / sqrt(n)`.
pub(super) fn undx(
    xs: &[Vec<f64>],
    sigma_xi: f64,
    sigma_eta: Option<f64>,
    rng: &mut impl Draws,
) -> Vec<f64> {
    let n = xs[0].len();
    let xp: Vec<f64> = (0..n).map(|i| (xs[0][i] + xs[1][i]) / 2.0).collect();
    let d: Vec<f64> = (0..n).map(|i| xs[0][i] - xs[1][i]).collect();
    let sigma_eta = sigma_eta.unwrap_or(0.35 / (n as f64).sqrt());
    let etas: Vec<f64> = (0..n).map(|_| rng.normal(0.0, sigma_eta.powi(2))).collect();
    let xi = rng.normal(0.0, sigma_xi.powi(2));
    let e12 = unit_x1_to_x2(xs);
    let mut child: Vec<f64> = (0..n).map(|i| xp[i] + xi * d[i]).collect();
    if n > 1 {
        let es = basis_orthogonal_to(&e12);
        let v13: Vec<f64> = (0..n).map(|i| xs[2][i] - xs[0][i]).collect();
        let along = dot(&v13, &e12);
        let v: Vec<f64> = (0..n).map(|i| v13[i] - along * e12[i]).collect();
        let dist = norm(&v);
        let mut three = vec![0.0; n];
        for (eta, e) in etas.iter().zip(&es) {
            for (t, ei) in three.iter_mut().zip(e) {
                *t += eta * ei;
            }
        }
        for (c, t) in child.iter_mut().zip(three) {
            *c += t * dist;
        }
    }
    child
}

/// `(x2 − x1) / max(|x2 − x1|, 1e-10)`.
fn unit_x1_to_x2(xs: &[Vec<f64>]) -> Vec<f64> {
    let v: Vec<f64> = xs[1].iter().zip(&xs[0]).map(|(b, a)| b - a).collect();
    let m = norm(&v).max(1e-10);
    v.into_iter().map(|x| x / m).collect()
}

/// Optuna's `_orthonormal_basis_vector_to_psl`: the last `n − 1` columns of
/// `Q` in the QR decomposition of the identity whose first column is
/// replaced by `e` (unless `e` is zero).
fn basis_orthogonal_to(e: &[f64]) -> Vec<Vec<f64>> {
    let n = e.len();
    // Column-major: a[j] is column j.
    let mut a: Vec<Vec<f64>> = (0..n)
        .map(|j| (0..n).map(|i| f64::from(u8::from(i == j))).collect())
        .collect();
    if e.iter().any(|x| *x != 0.0) {
        a[0] = e.to_vec();
    }
    let q = householder_q(a);
    q.into_iter().skip(1).collect()
}

/// The `Q` of LAPACK's `dgeqr2` and `dorg2r` for a square matrix given by
/// columns (Householder reflections `H_k = I − τ v vᵀ`, `v_k = 1`, with
/// `dlarfg`'s sign: `β = −sign(α) ‖(α, x)‖`, and no reflection when `x = 0`).
fn householder_q(mut a: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let n = a.len();
    let mut reflections: Vec<(f64, Vec<f64>)> = Vec::with_capacity(n);
    for k in 0..n {
        let alpha = a[k][k];
        let xnorm = norm(&a[k][k + 1..]);
        let mut v = vec![0.0; n];
        v[k] = 1.0;
        if xnorm == 0.0 {
            reflections.push((0.0, v));
            continue;
        }
        let beta = -alpha.hypot(xnorm).copysign(alpha);
        let tau = (beta - alpha) / beta;
        let scale = 1.0 / (alpha - beta);
        for i in k + 1..n {
            v[i] = a[k][i] * scale;
        }
        a[k][k] = beta;
        for col in a.iter_mut().skip(k + 1) {
            let w = dot(&v[k..], &col[k..]);
            for i in k..n {
                col[i] -= tau * w * v[i];
            }
        }
        reflections.push((tau, v));
    }
    // Q = H_0 H_1 … H_{n−1} I, applied from the last reflection.
    let mut q: Vec<Vec<f64>> = (0..n)
        .map(|j| (0..n).map(|i| f64::from(u8::from(i == j))).collect())
        .collect();
    for (k, (tau, v)) in reflections.iter().enumerate().rev() {
        if *tau == 0.0 {
            continue;
        }
        for col in q.iter_mut() {
            let w = dot(&v[k..], &col[k..]);
            for i in k..n {
                col[i] -= tau * w * v[i];
            }
        }
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_basis_is_orthonormal_and_orthogonal_to_the_line() {
        let e = {
            let v = [0.3, -1.2, 0.5, 2.0];
            let m = norm(&v);
            v.map(|x| x / m)
        };
        let es = basis_orthogonal_to(&e);
        assert_eq!(es.len(), 3);
        for (i, a) in es.iter().enumerate() {
            assert!(dot(a, &e).abs() < 1e-14);
            for (j, b) in es.iter().enumerate() {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((dot(a, b) - want).abs() < 1e-14, "{i} {j}");
            }
        }
    }
}
