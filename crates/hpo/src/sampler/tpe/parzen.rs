//! Optuna's `_ParzenEstimator`: a mixture whose components are products over
//! the parameters of truncated normals (numbers) and smoothed one-hot
//! histograms (categories), one component per observation plus the prior.

use super::Weights;
use super::truncnorm::{log_gauss_mass, norm_logpdf, ppf};
use crate::Distribution;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// The estimator's settings (Optuna's `_ParzenEstimatorParameters`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ParzenParams {
    pub prior_weight: f64,
    pub consider_magic_clip: bool,
    pub consider_endpoints: bool,
    pub weights: Weights,
}

/// One parameter's kernels, one per mixture component.
#[derive(Debug)]
enum Kernels {
    Categorical {
        n_choices: usize,
        /// `log p_k(c)`, row `k`.
        log_probs: Vec<f64>,
        /// Cumulative `p_k`, row `k`, its last entry 1.
        cum_probs: Vec<f64>,
    },
    Numerical {
        mus: Vec<f64>,
        sigmas: Vec<f64>,
        /// `log σ_k + log mass_k([low, high])` for continuous kernels, the mass alone for discrete.
        log_norm: Vec<f64>,
        /// Bounds in the modelled space (log space for log parameters,
        /// widened by half a step for discrete ones).
        low: f64,
        high: f64,
        log: bool,
        /// 0 for continuous parameters.
        step: f64,
        /// The grid's first and last points (discrete parameters).
        grid_low: f64,
        grid_high: f64,
    },
}

/// A Parzen estimator over a search space, in Optuna's internal
/// representation (numbers as `f64`, categories as their index).
#[derive(Debug)]
pub(crate) struct Parzen {
    /// Normalized component weights; the prior's is last.
    weights: Vec<f64>,
    log_weights: Vec<f64>,
    cum_weights: Vec<f64>,
    dims: Vec<Kernels>,
}

/// The first and last grid point and the step of a discrete parameter
/// (Optuna lowers `high` onto the grid), `None` for a continuous one.
pub(crate) fn grid(distribution: &Distribution) -> Option<(f64, f64, f64)> {
    match *distribution {
        Distribution::Float {
            low,
            high,
            step: Some(s),
            ..
        } => Some((low, low + ((high - low) / s + 1e-9).floor() * s, s)),
        Distribution::Int {
            low, high, step, ..
        } => {
            let k = (i128::from(high) - i128::from(low)) / i128::from(step);
            Some((
                low as f64,
                (i128::from(low) + k * i128::from(step)) as f64,
                step as f64,
            ))
        }
        _ => None,
    }
}

impl Parzen {
    /// The estimator of `n` observations (`obs`, row-major, one column per
    /// parameter of `space`), with the prior as an extra component.
    pub(crate) fn new(
        obs: &[f64],
        n: usize,
        space: &[&Distribution],
        params: &ParzenParams,
    ) -> Self {
        let d = space.len();
        debug_assert_eq!(obs.len(), n * d);
        let mut weights = if n == 0 {
            vec![1.0]
        } else {
            let mut w = params.weights.of(n);
            w.push(params.prior_weight);
            w
        };
        let total: f64 = weights.iter().sum();
        weights.iter_mut().for_each(|w| *w /= total);
        let log_weights = weights.iter().map(|w| w.ln()).collect();
        let mut acc = 0.0;
        let mut cum_weights: Vec<f64> = weights
            .iter()
            .map(|w| {
                acc += w;
                acc
            })
            .collect();
        let last = *cum_weights.last().unwrap_or(&1.0);
        cum_weights.iter_mut().for_each(|c| *c /= last);
        let mut column = Vec::with_capacity(n);
        let dims = space
            .iter()
            .enumerate()
            .map(|(j, dist)| {
                column.clear();
                column.extend((0..n).map(|i| obs[i * d + j]));
                kernels(&column, dist, params)
            })
            .collect();
        Parzen {
            weights,
            log_weights,
            cum_weights,
            dims,
        }
    }

    /// The number of parameters.
    pub(crate) fn dims(&self) -> usize {
        self.dims.len()
    }

    /// `size` draws, row-major into `out` (cleared first), in the order
    /// Optuna draws them: the components, then each categorical column,
    /// then the numerical columns.
    pub(crate) fn sample(&self, rng: &mut ChaCha8Rng, size: usize, out: &mut Vec<f64>) {
        let d = self.dims.len();
        out.clear();
        out.resize(size * d, 0.0);
        let active: Vec<usize> = (0..size)
            .map(|_| {
                let u: f64 = rng.random();
                // NumPy's `choice`: searchsorted(cdf, u, side="right").
                self.cum_weights
                    .partition_point(|&c| c <= u)
                    .min(self.weights.len() - 1)
            })
            .collect();
        for (j, dim) in self.dims.iter().enumerate() {
            if let Kernels::Categorical {
                n_choices,
                cum_probs,
                ..
            } = dim
            {
                for (i, &k) in active.iter().enumerate() {
                    let u: f64 = rng.random();
                    let row = &cum_probs[k * n_choices..(k + 1) * n_choices];
                    let idx = row[..n_choices - 1].iter().filter(|&&c| c < u).count();
                    out[i * d + j] = idx as f64;
                }
            }
        }
        for (j, dim) in self.dims.iter().enumerate() {
            if let Kernels::Numerical {
                mus,
                sigmas,
                low,
                high,
                log,
                step,
                grid_low,
                grid_high,
                ..
            } = dim
            {
                for (i, &k) in active.iter().enumerate() {
                    let u: f64 = rng.random();
                    let (mu, sigma) = (mus[k], sigmas[k]);
                    let z = ppf(u, (low - mu) / sigma, (high - mu) / sigma);
                    let mut x = (z * sigma + mu).clamp(*low, *high);
                    if !x.is_finite() {
                        x = mu.clamp(*low, *high);
                    }
                    if *log {
                        x = x.exp();
                    }
                    if *step > 0.0 {
                        x = (grid_low + ((x - grid_low) / step).round_ties_even() * step)
                            .clamp(*grid_low, *grid_high);
                    }
                    out[i * d + j] = x;
                }
            }
        }
    }

    /// The log density (log mass for discrete parameters) at `x`, one value
    /// per parameter; `scratch` holds the per-component terms.
    pub(crate) fn log_pdf(&self, x: &[f64], scratch: &mut Vec<f64>) -> f64 {
        scratch.clear();
        scratch.extend_from_slice(&self.log_weights);
        for (dim, &xj) in self.dims.iter().zip(x) {
            match dim {
                Kernels::Categorical {
                    n_choices,
                    log_probs,
                    ..
                } => {
                    let c = xj as usize;
                    for (k, s) in scratch.iter_mut().enumerate() {
                        *s += log_probs[k * n_choices + c];
                    }
                }
                Kernels::Numerical {
                    mus,
                    sigmas,
                    log_norm,
                    low,
                    high,
                    log,
                    step,
                    ..
                } => {
                    if *step == 0.0 {
                        let xt = if *log { xj.ln() } else { xj };
                        if !(xt >= *low && xt <= *high) {
                            scratch.iter_mut().for_each(|s| *s = f64::NEG_INFINITY);
                            continue;
                        }
                        for (k, s) in scratch.iter_mut().enumerate() {
                            *s += norm_logpdf((xt - mus[k]) / sigmas[k]) - log_norm[k];
                        }
                    } else {
                        let (mut left, mut right) = (xj - step / 2.0, xj + step / 2.0);
                        if *log {
                            left = left.ln();
                            right = right.ln();
                        }
                        for (k, s) in scratch.iter_mut().enumerate() {
                            let (mu, sigma) = (mus[k], sigmas[k]);
                            *s += log_gauss_mass((left - mu) / sigma, (right - mu) / sigma)
                                - log_norm[k];
                        }
                    }
                }
            }
        }
        let max = scratch.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let max = if max == f64::NEG_INFINITY { 0.0 } else { max };
        scratch.iter().map(|s| (s - max).exp()).sum::<f64>().ln() + max
    }
}

/// The kernels of one parameter over observations `obs` (internal repr).
fn kernels(obs: &[f64], dist: &Distribution, params: &ParzenParams) -> Kernels {
    if let Distribution::Categorical { choices } = dist {
        let n_choices = choices.len();
        let probs = if obs.is_empty() {
            vec![1.0 / n_choices as f64; n_choices]
        } else {
            let n_kernels = obs.len() + 1;
            let mut w = vec![params.prior_weight / n_kernels as f64; n_kernels * n_choices];
            for (i, &c) in obs.iter().enumerate() {
                w[i * n_choices + c as usize] += 1.0;
            }
            for row in w.chunks_mut(n_choices) {
                let sum: f64 = row.iter().sum();
                let sum = if sum == 0.0 { 1.0 } else { sum };
                row.iter_mut().for_each(|p| *p /= sum);
            }
            w
        };
        let log_probs = probs.iter().map(|p| p.ln()).collect();
        let mut cum_probs = probs;
        for row in cum_probs.chunks_mut(n_choices) {
            let mut acc = 0.0;
            for p in row.iter_mut() {
                acc += *p;
                *p = acc;
            }
            row[n_choices - 1] = 1.0;
        }
        return Kernels::Categorical {
            n_choices,
            log_probs,
            cum_probs,
        };
    }
    let (lo, hi, log) = match *dist {
        Distribution::Float { low, high, log, .. } => (low, high, log),
        Distribution::Int { low, high, log, .. } => (low as f64, high as f64, log),
        Distribution::Categorical { .. } => unreachable!("handled above"),
    };
    let (grid_low, grid_high, step) = grid(dist).unwrap_or((lo, hi, 0.0));
    let (mut low, mut high) = if step > 0.0 {
        (grid_low - step / 2.0, grid_high + step / 2.0)
    } else {
        (lo, hi)
    };
    let mut mus: Vec<f64> = obs.to_vec();
    if log {
        low = low.ln();
        high = high.ln();
        mus.iter_mut().for_each(|m| *m = m.ln());
    }
    let mut sigmas = sigmas(&mus, low, high, params);
    mus.push(0.5 * (low + high));
    sigmas.push(high - low);
    let log_norm = mus
        .iter()
        .zip(&sigmas)
        .map(|(&mu, &sigma)| {
            let mass = log_gauss_mass((low - mu) / sigma, (high - mu) / sigma);
            if step > 0.0 { mass } else { mass + sigma.ln() }
        })
        .collect();
    Kernels::Numerical {
        mus,
        sigmas,
        log_norm,
        low,
        high,
        log,
        step,
        grid_low,
        grid_high,
    }
}

/// Each observation's bandwidth: the larger gap to its sorted neighbours
/// (the range's ends counting as neighbours), the outermost ones using their
/// inner gap unless `consider_endpoints`, clipped to
/// `[(high − low) / min(100, n + 2), high − low]` by the magic clip.
fn sigmas(mus: &[f64], low: f64, high: f64, params: &ParzenParams) -> Vec<f64> {
    let n = mus.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| mus[a].total_cmp(&mus[b]));
    let mut ext = Vec::with_capacity(n + 2);
    ext.push(low);
    ext.extend(order.iter().map(|&i| mus[i]));
    ext.push(high);
    let mut sorted: Vec<f64> = (1..=n)
        .map(|i| (ext[i] - ext[i - 1]).max(ext[i + 1] - ext[i]))
        .collect();
    if !params.consider_endpoints && ext.len() >= 4 {
        sorted[0] = ext[2] - ext[1];
        sorted[n - 1] = ext[n] - ext[n - 1];
    }
    let max_sigma = high - low;
    let min_sigma = if params.consider_magic_clip {
        (high - low) / 100f64.min(1.0 + (n + 1) as f64)
    } else {
        1e-12
    };
    let mut sigmas = vec![0.0; n];
    for (rank, &i) in order.iter().enumerate() {
        sigmas[i] = sorted[rank].clamp(min_sigma, max_sigma);
    }
    sigmas
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> ParzenParams {
        ParzenParams {
            prior_weight: 1.0,
            consider_magic_clip: true,
            consider_endpoints: false,
            weights: Weights::default(),
        }
    }

    #[test]
    fn bandwidths_follow_optunas_rule() {
        // Sorted mus 0.1, 0.3, 0.9 on [0, 1]: gaps 0.1 | 0.2 | 0.6 | 0.1;
        // the inner one takes max(0.2, 0.6), the outer ones their inner gap.
        let s = sigmas(&[0.9, 0.1, 0.3], 0.0, 1.0, &params());
        let want = [0.6, 0.2, 0.6];
        for (a, b) in s.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{s:?}");
        }
        // The magic clip: at least (high − low) / (n + 2).
        let s = sigmas(&[0.5, 0.5, 0.5], 0.0, 1.0, &params());
        assert!(s.iter().all(|&x| (x - 0.2).abs() < 1e-12), "{s:?}");
    }

    #[test]
    fn the_density_of_a_continuous_parameter_integrates_to_one() {
        let d = Distribution::Float {
            low: -2.0,
            high: 3.0,
            log: false,
            step: None,
        };
        let pe = Parzen::new(&[0.0, 0.5, 2.9], 3, &[&d], &params());
        let mut scratch = Vec::new();
        let m = 20_000;
        let h = 5.0 / m as f64;
        let total: f64 = (0..m)
            .map(|i| {
                pe.log_pdf(&[-2.0 + (i as f64 + 0.5) * h], &mut scratch)
                    .exp()
                    * h
            })
            .sum();
        assert!((total - 1.0).abs() < 1e-6, "{total}");
    }

    #[test]
    fn the_masses_of_a_discrete_parameter_sum_to_one() {
        let d = Distribution::Int {
            low: 1,
            high: 100,
            log: true,
            step: 1,
        };
        let pe = Parzen::new(&[3.0, 50.0], 2, &[&d], &params());
        let mut scratch = Vec::new();
        let total: f64 = (1..=100)
            .map(|i| pe.log_pdf(&[i as f64], &mut scratch).exp())
            .sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
        let c = Distribution::Categorical {
            choices: vec![1i64.into(), 2i64.into(), 3i64.into()],
        };
        let pe = Parzen::new(&[0.0, 0.0, 2.0], 3, &[&c], &params());
        let total: f64 = (0..3)
            .map(|i| pe.log_pdf(&[i as f64], &mut scratch).exp())
            .sum();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
    }

    /// Optuna 5.0.0's `_ParzenEstimator.log_pdf` on the same observations,
    /// printed by `tests/optuna_ref/parzen_logpdf.py` (no tied values: see there).
    #[test]
    fn log_pdf_matches_optuna() {
        let columns: [&[f64]; 6] = [
            &[
                0.744, 1.576, 1.014, 0.724, 0.118, 1.229, 0.188, 2.459, 2.818, -0.083, 1.959,
                0.644, 0.84, 2.628, -1.645, -1.564, -1.899, 2.163, 1.891, 2.35, 2.893, 1.996,
                0.307, 1.903, -1.409, 1.2, -1.283, 2.723, 0.609, 0.073,
            ],
            &[
                0.001143, 0.125007, 0.006677, 0.018782, 0.000119, 0.029549, 0.028079, 0.029359,
                0.595652, 0.053368, 0.002742, 0.005599, 0.061734, 0.000174, 0.046459, 0.048145,
                0.000694, 0.000328, 0.001827, 0.00285, 0.019089, 0.005681, 0.898453, 0.000256,
                0.000685, 0.000442, 0.040967, 0.001031, 0.007332, 0.00095,
            ],
            &[
                30.0, 2.0, 28.0, 9.0, 33.0, 13.0, 25.0, 7.0, 37.0, 29.0, 39.0, 15.0, 20.0, 21.0,
                12.0, 40.0, 23.0, 34.0, 10.0, 8.0, 26.0, 38.0, 11.0, 27.0, 4.0, 17.0, 3.0, 5.0,
                19.0, 18.0,
            ],
            &[
                55.0, 30.0, 63.0, 56.0, 58.0, 22.0, 8.0, 26.0, 7.0, 50.0, 29.0, 10.0, 6.0, 16.0,
                24.0, 49.0, 34.0, 19.0, 61.0, 52.0, 36.0, 38.0, 5.0, 48.0, 60.0, 13.0, 47.0, 64.0,
                54.0, 40.0,
            ],
            &[
                0.86, 0.14, 0.12, 0.06, 0.91, 0.65, 0.36, 0.72, 0.52, 0.45, 0.75, 0.15, 0.47, 0.97,
                0.22, 0.77, 0.49, 0.19, 0.8, 0.96, 0.25, 0.04, 0.63, 1.0, 0.48, 0.78, 0.17, 0.99,
                0.08, 0.16,
            ],
            &[
                2.0, 2.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0, 2.0, 0.0, 1.0, 0.0, 1.0, 1.0,
                2.0, 0.0, 2.0, 0.0, 2.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0,
            ],
        ];
        let space = [
            Distribution::Float {
                low: -2.0,
                high: 3.0,
                log: false,
                step: None,
            },
            Distribution::Float {
                low: 1e-4,
                high: 1.0,
                log: true,
                step: None,
            },
            Distribution::Int {
                low: 1,
                high: 40,
                log: false,
                step: 1,
            },
            Distribution::Int {
                low: 1,
                high: 64,
                log: true,
                step: 1,
            },
            Distribution::Float {
                low: 0.0,
                high: 1.0,
                log: false,
                step: Some(0.01),
            },
            Distribution::Categorical {
                choices: vec!["a".into(), "b".into(), "c".into()],
            },
        ];
        let n = columns[0].len();
        let obs: Vec<f64> = (0..n)
            .flat_map(|i| columns.iter().map(move |c| c[i]))
            .collect();
        let refs: Vec<&Distribution> = space.iter().collect();
        let pe = Parzen::new(&obs, n, &refs, &params());
        let points = [
            [0.0, 1e-3, 1.0, 1.0, 0.0, 0.0],
            [-1.9, 0.5, 40.0, 64.0, 1.0, 1.0],
            [2.99, 1e-4, 5.0, 8.0, 0.5, 2.0],
            [1.234, 0.02, 3.0, 30.0, 0.27, 1.0],
        ];
        let want = [
            -18.22158382196577,
            -22.69116332517247,
            -20.36604046743785,
            -21.509763271069172,
        ];
        let mut scratch = Vec::new();
        for (x, w) in points.iter().zip(want) {
            let got = pe.log_pdf(x, &mut scratch);
            assert!((got - w).abs() < 1e-9 * w.abs(), "{got} vs Optuna's {w}");
        }
    }
}
