//! Plotly's gap filling (`interp2d.js`, as Optuna's `_interpolate_zmap`
//! writes it as a linear system): a known cell keeps its value, an unknown
//! one is the mean of its in-grid neighbours. Solved by conjugate gradients
//! on the unknown cells (the system is a graph Laplacian with the known
//! cells as boundary: symmetric positive definite once one cell is known).

use std::collections::HashMap;

/// Fills an `n × n` grid (`z[j * n + i]`) from the `known` cells.
/// With no known cell, the grid is all zeros.
pub(crate) fn interpolate(n: usize, known: &HashMap<usize, f64>) -> Vec<f64> {
    let cells = n * n;
    if known.is_empty() {
        return vec![0.0; cells];
    }
    let mean = known.values().sum::<f64>() / known.len() as f64;
    let mut z = vec![mean; cells];
    for (&c, &v) in known {
        z[c] = v;
    }
    let free: Vec<bool> = (0..cells).map(|c| !known.contains_key(&c)).collect();
    let neighbours = |c: usize| {
        let (i, j) = (c % n, c / n);
        [
            (i > 0).then(|| c - 1),
            (i + 1 < n).then(|| c + 1),
            (j > 0).then(|| c - n),
            (j + 1 < n).then(|| c + n),
        ]
        .into_iter()
        .flatten()
    };
    // A·v over the free cells: deg·v − Σ free neighbours (known ones are in b).
    let apply = |v: &[f64], out: &mut [f64]| {
        for c in 0..cells {
            out[c] = if free[c] {
                let mut s = 0.0;
                let mut deg = 0.0;
                for m in neighbours(c) {
                    deg += 1.0;
                    if free[m] {
                        s += v[m];
                    }
                }
                deg * v[c] - s
            } else {
                0.0
            };
        }
    };
    // b = Σ known neighbours; r = b − A·z (z's free part as the first guess).
    let mut r = vec![0.0; cells];
    apply(&z, &mut r);
    for c in 0..cells {
        if free[c] {
            let b: f64 = neighbours(c).filter(|&m| !free[m]).map(|m| z[m]).sum();
            r[c] = b - r[c];
        }
    }
    let mut p = r.clone();
    let mut ap = vec![0.0; cells];
    let mut rr: f64 = r.iter().map(|x| x * x).sum();
    let scale = known.values().map(|v| v * v).sum::<f64>().max(1e-300);
    for _ in 0..10 * cells {
        if rr <= 1e-24 * scale {
            break;
        }
        apply(&p, &mut ap);
        let pap: f64 = p.iter().zip(&ap).map(|(a, b)| a * b).sum();
        if pap <= 0.0 || !pap.is_finite() {
            break;
        }
        let alpha = rr / pap;
        for c in 0..cells {
            if free[c] {
                z[c] += alpha * p[c];
                r[c] -= alpha * ap[c];
            }
        }
        let rr_new: f64 = r.iter().map(|x| x * x).sum();
        let beta = rr_new / rr;
        rr = rr_new;
        for c in 0..cells {
            p[c] = r[c] + beta * p[c];
        }
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_cells_are_the_mean_of_their_neighbours_and_known_ones_stay() {
        let n = 12;
        let known: HashMap<usize, f64> = [(0, 1.0), (5 * n + 7, -2.0), (n * n - 1, 4.0)].into();
        let z = interpolate(n, &known);
        for (&c, &v) in &known {
            assert_eq!(z[c], v);
        }
        for c in (0..n * n).filter(|c| !known.contains_key(c)) {
            let (i, j) = (c % n, c / n);
            let nb: Vec<f64> = [
                (i > 0).then(|| z[c - 1]),
                (i + 1 < n).then(|| z[c + 1]),
                (j > 0).then(|| z[c - n]),
                (j + 1 < n).then(|| z[c + n]),
            ]
            .into_iter()
            .flatten()
            .collect();
            let mean = nb.iter().sum::<f64>() / nb.len() as f64;
            assert!((z[c] - mean).abs() < 1e-8, "cell {c}: {} vs {mean}", z[c]);
        }
        // The maximum principle: the values stay within the known ones.
        assert!(z.iter().all(|&v| (-2.0 - 1e-9..=4.0 + 1e-9).contains(&v)));
    }

    #[test]
    fn one_known_cell_fills_the_grid_with_its_value() {
        let z = interpolate(10, &[(37, 2.5)].into());
        assert!(z.iter().all(|&v| (v - 2.5).abs() < 1e-12));
        assert!(interpolate(3, &HashMap::new()).iter().all(|&v| v == 0.0));
    }

    /// Optuna 5.0.0's own `_interpolate_zmap` (scipy's sparse solver) on a
    /// 6 × 6 grid, printed by:
    ///
    /// ```python
    /// from optuna.visualization.matplotlib._contour import _interpolate_zmap
    /// zmap = {(0, 0): 1.0, (4, 2): -2.0, (5, 5): 4.0, (1, 4): 0.5}
    /// print(_interpolate_zmap(zmap, 6).ravel().tolist())
    /// ```
    #[test]
    fn the_grid_matches_optunas_interpolate_zmap() {
        // Optuna's key (x, y) is cell y * n + x, as here.
        let known: HashMap<usize, f64> = [
            (0, 1.0),
            (2 * 6 + 4, -2.0),
            (5 * 6 + 5, 4.0),
            (4 * 6 + 1, 0.5),
        ]
        .into();
        let want = [
            1.0,
            0.3933244234478338,
            -0.08028104932725191,
            -0.506455126175051,
            -0.8384584366230756,
            -0.905842473700313,
            0.5511151244189656,
            0.26025431967075335,
            -0.1277124452545386,
            -0.6006258925748252,
            -1.1030777099938627,
            -0.9732265107775503,
            0.3930910535861433,
            0.22429017607075252,
            -0.09019715878683063,
            -0.6652582888758488,
            -1.9999999999999996,
            -0.910759348638475,
            0.40386786026871174,
            0.33401248981294407,
            0.2078919229123123,
            0.029789895858260283,
            -0.15277083920959833,
            0.24094846486212504,
            0.4845000374070476,
            0.5,
            0.5579624647648752,
            0.7292967886061761,
            1.1181782824412207,
            1.7863755824344487,
            0.549632251952431,
            0.6147644664978146,
            0.7946611475410126,
            1.2112565113603482,
            2.1098115979338563,
            4.0,
        ];
        let got = interpolate(6, &known);
        for (c, (g, w)) in got.iter().zip(want).enumerate() {
            assert!((g - w).abs() < 1e-9, "cell {c}: {g} vs Optuna's {w}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Laplace's equation's discrete form and its maximum principle, for
        /// any grid and known cells.
        #[test]
        fn filled_cells_are_neighbour_means_within_the_known_range(
            n in 2usize..12,
            cells in proptest::collection::vec((0usize..144, -100.0f64..100.0), 1..8),
        ) {
            let known: HashMap<usize, f64> = cells.into_iter().map(|(c, v)| (c % (n * n), v)).collect();
            let z = interpolate(n, &known);
            let lo = known.values().copied().fold(f64::INFINITY, f64::min);
            let hi = known.values().copied().fold(f64::NEG_INFINITY, f64::max);
            for c in 0..n * n {
                let (i, j) = (c % n, c / n);
                proptest::prop_assert!(z[c] >= lo - 1e-6 && z[c] <= hi + 1e-6);
                if let Some(&v) = known.get(&c) {
                    proptest::prop_assert_eq!(z[c], v);
                    continue;
                }
                let nb: Vec<f64> = [
                    (i > 0).then(|| z[c - 1]),
                    (i + 1 < n).then(|| z[c + 1]),
                    (j > 0).then(|| z[c - n]),
                    (j + 1 < n).then(|| z[c + n]),
                ]
                .into_iter()
                .flatten()
                .collect();
                let mean = nb.iter().sum::<f64>() / nb.len() as f64;
                proptest::prop_assert!((z[c] - mean).abs() < 1e-6, "cell {}: {} vs {}", c, z[c], mean);
            }
        }
    }
}
