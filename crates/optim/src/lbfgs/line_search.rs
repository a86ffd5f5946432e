//! The strong-Wolfe line search of PyTorch's L-BFGS (`_strong_wolfe` and
//! `_cubic_interpolate`, themselves ported from minFunc through Lua torch),
//! ported step for step.

use super::{dot, max_abs, py_max, py_min};

/// Sufficient decrease (Armijo) constant.
const C1: f64 = 1e-4;
/// Curvature constant.
const C2: f64 = 0.9;
/// The search's own `tolerance_change`: PyTorch's L-BFGS does not pass the
/// optimizer's, so the default 1e-9 always applies.
const TOLERANCE_CHANGE: f64 = 1e-9;
/// Evaluations at most.
const MAX_LS: usize = 25;

/// The minimizer of the cubic through `(x1, f1, g1)` and `(x2, f2, g2)`,
/// clamped to `bounds` (default: between the two points).
pub(super) fn cubic_interpolate(
    (x1, f1, g1): (f64, f64, f64),
    (x2, f2, g2): (f64, f64, f64),
    bounds: Option<(f64, f64)>,
) -> f64 {
    let (lo, hi) = bounds.unwrap_or(if x1 <= x2 { (x1, x2) } else { (x2, x1) });
    let d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2);
    let d2_square = d1 * d1 - g1 * g2;
    if d2_square >= 0.0 {
        let d2 = d2_square.sqrt();
        let min_pos = if x1 <= x2 {
            x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
        } else {
            x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
        };
        py_min(py_max(min_pos, lo), hi)
    } else {
        (lo + hi) / 2.0
    }
}

/// One trial point: step, loss, gradient, directional derivative.
#[derive(Clone)]
struct Point {
    t: f64,
    f: f64,
    g: Vec<f64>,
    gtd: f64,
}

/// Searches along `d` from loss `f`, gradient `g` and directional
/// derivative `gtd` at step 0, starting at step `t`; `obj(t)` evaluates the
/// loss and gradient at `x + t·d` (and restores `x`). Returns the loss,
/// gradient and step of the point found and the number of evaluations.
pub(super) fn strong_wolfe(
    obj: &mut impl FnMut(f64) -> (f64, Vec<f64>),
    mut t: f64,
    d: &[f64],
    f: f64,
    g: &[f64],
    gtd: f64,
) -> (f64, Vec<f64>, f64, usize) {
    let d_norm = max_abs(d);
    let (mut f_new, mut g_new) = obj(t);
    let mut evals = 1;
    let mut gtd_new = dot(&g_new, d);
    let mut prev = Point {
        t: 0.0,
        f,
        g: g.to_vec(),
        gtd,
    };
    let mut done = false;
    let mut ls_iter = 0;
    // Bracket an interval holding a point that meets the conditions.
    let mut bracket: Vec<Point> = Vec::new();
    while ls_iter < MAX_LS {
        let new = |t, f_new, g_new: &Vec<f64>, gtd_new| Point {
            t,
            f: f_new,
            g: g_new.clone(),
            gtd: gtd_new,
        };
        if f_new > f + C1 * t * gtd || (ls_iter > 1 && f_new >= prev.f) {
            bracket = vec![prev, new(t, f_new, &g_new, gtd_new)];
            break;
        }
        if gtd_new.abs() <= -C2 * gtd {
            bracket = vec![new(t, f_new, &g_new, gtd_new)];
            done = true;
            break;
        }
        if gtd_new >= 0.0 {
            bracket = vec![prev, new(t, f_new, &g_new, gtd_new)];
            break;
        }
        // Interpolate, beyond the current point.
        let (min_step, max_step) = (t + 0.01 * (t - prev.t), t * 10.0);
        let tmp = t;
        t = cubic_interpolate(
            (prev.t, prev.f, prev.gtd),
            (t, f_new, gtd_new),
            Some((min_step, max_step)),
        );
        prev = Point {
            t: tmp,
            f: f_new,
            g: g_new,
            gtd: gtd_new,
        };
        (f_new, g_new) = obj(t);
        evals += 1;
        gtd_new = dot(&g_new, d);
        ls_iter += 1;
    }
    if ls_iter == MAX_LS {
        // PyTorch leaves the bracket's derivatives unset here; the zoom
        // below cannot run (ls_iter == MAX_LS), so they are never read.
        bracket = vec![
            Point {
                t: 0.0,
                f,
                g: g.to_vec(),
                gtd: f64::NAN,
            },
            Point {
                t,
                f: f_new,
                g: g_new,
                gtd: f64::NAN,
            },
        ];
    }
    // Zoom: shrink the bracket until a point meets the conditions.
    let last = bracket.len() - 1;
    let (mut low, mut high) = if bracket[0].f <= bracket[last].f {
        (0, 1)
    } else {
        (1, 0)
    };
    let mut insuf_progress = false;
    while !done && ls_iter < MAX_LS {
        let (b0, b1) = (bracket[0].t, bracket[1].t);
        if (b1 - b0).abs() * d_norm < TOLERANCE_CHANGE {
            break;
        }
        t = cubic_interpolate(
            (b0, bracket[0].f, bracket[0].gtd),
            (b1, bracket[1].f, bracket[1].gtd),
            None,
        );
        // Too close to an end (twice, or outside): move 10% of the width in.
        let (bmax, bmin) = (py_max(b0, b1), py_min(b0, b1));
        let eps = 0.1 * (bmax - bmin);
        if py_min(bmax - t, t - bmin) < eps {
            if insuf_progress || t >= bmax || t <= bmin {
                t = if (t - bmax).abs() < (t - bmin).abs() {
                    bmax - eps
                } else {
                    bmin + eps
                };
                insuf_progress = false;
            } else {
                insuf_progress = true;
            }
        } else {
            insuf_progress = false;
        }
        let (f_t, g_t) = obj(t);
        evals += 1;
        let gtd_t = dot(&g_t, d);
        ls_iter += 1;
        let point = Point {
            t,
            f: f_t,
            g: g_t,
            gtd: gtd_t,
        };
        if f_t > f + C1 * t * gtd || f_t >= bracket[low].f {
            // Not a sufficient decrease, or not below the low end.
            bracket[high] = point;
            (low, high) = if bracket[0].f <= bracket[1].f {
                (0, 1)
            } else {
                (1, 0)
            };
        } else {
            if gtd_t.abs() <= -C2 * gtd {
                done = true;
            } else if gtd_t * (bracket[high].t - bracket[low].t) >= 0.0 {
                // The old high end becomes the new low end.
                bracket[high] = bracket[low].clone();
            }
            bracket[low] = point;
        }
    }
    let found = bracket.swap_remove(low);
    (found.f, found.g, found.t, evals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cubic_interpolation_finds_a_quadratics_minimum() {
        // f(x) = (x − 0.3)²: f' = 2(x − 0.3).
        let f = |x: f64| ((x - 0.3) * (x - 0.3), 2.0 * (x - 0.3));
        let (f0, g0) = f(0.0);
        let (f1, g1) = f(1.0);
        let t = cubic_interpolate((0.0, f0, g0), (1.0, f1, g1), None);
        assert!((t - 0.3).abs() < 1e-12, "{t}");
        // Clamped to the bounds given.
        let t = cubic_interpolate((0.0, f0, g0), (1.0, f1, g1), Some((0.5, 2.0)));
        assert_eq!(t, 0.5);
    }

    #[test]
    fn strong_wolfe_on_a_quadratic_meets_both_conditions() {
        // f(t) along d = 1 from x = 0: (t − 2)², slope −4 at 0.
        let mut obj = |t: f64| ((t - 2.0) * (t - 2.0), vec![2.0 * (t - 2.0)]);
        let (f, g, t, evals) = strong_wolfe(&mut obj, 0.1, &[1.0], 4.0, &[-4.0], -4.0);
        assert!(f <= 4.0 + C1 * t * -4.0, "Armijo: {f} at {t}");
        assert!(g[0].abs() <= C2 * 4.0, "curvature: {g:?} at {t}");
        assert!((2..=MAX_LS).contains(&evals));
    }
}
