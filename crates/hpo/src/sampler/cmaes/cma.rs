//! The CMA-ES update of CyberAgent's `cmaes` library (`cmaes.CMA`, v0.13),
//! which Optuna's `CmaEsSampler` drives: ask one point at a time, tell a
//! whole population, `should_stop` for restarts.
//!
//! Written by hand from `cmaes/_cma.py` so that a told population moves the
//! distribution exactly as in Optuna (the same weights, learning rates,
//! bounds repair and termination tests); the unit tests check it against
//! numbers produced by the Python library (`tests/cmaes_reference.py`).

use nalgebra::{DMatrix, DVector, SymmetricEigen};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution as _, StandardNormal};

const EPS: f64 = 1e-8;
const SIGMA_MAX: f64 = 1e32;
const MEAN_MAX: f64 = 1e32;

/// A CMA-ES search distribution `N(mean, sigma² C)` over a box.
#[derive(Debug, Clone)]
pub(crate) struct Cma {
    n: usize,
    popsize: usize,
    mu: usize,
    mu_eff: f64,
    cc: f64,
    c1: f64,
    cmu: f64,
    c_sigma: f64,
    d_sigma: f64,
    chi_n: f64,
    weights: Vec<f64>,
    p_sigma: DVector<f64>,
    pc: DVector<f64>,
    mean: DVector<f64>,
    c: DMatrix<f64>,
    sigma: f64,
    /// The eigenbasis and the square roots of the eigenvalues of `c`
    /// (ascending, as numpy's `eigh`), cached until the next tell.
    eigen: Option<(DMatrix<f64>, DVector<f64>)>,
    bounds: Vec<(f64, f64)>,
    n_max_resampling: usize,
    g: usize,
    tolx: f64,
    tolxup: f64,
    tolfun: f64,
    tolconditioncov: f64,
    funhist_term: usize,
    funhist_values: Vec<f64>,
}

/// Why a [`Cma`] could not be built or told.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CmaError {
    /// `sigma` not positive and finite, a population under 2, no dimension,
    /// or a mean outside the bounds.
    Invalid(&'static str),
    /// A tell with another number of solutions than the population size.
    WrongPopulation { expected: usize, got: usize },
}

impl Cma {
    /// `cmaes.CMA(mean, sigma, bounds, n_max_resampling, population_size)`.
    pub(crate) fn new(
        mean: Vec<f64>,
        sigma: f64,
        bounds: Vec<(f64, f64)>,
        n_max_resampling: usize,
        population_size: Option<usize>,
    ) -> Result<Self, CmaError> {
        let n = mean.len();
        if n == 0 {
            return Err(CmaError::Invalid("the dimension must be positive"));
        }
        if !(sigma > 0.0 && sigma.is_finite()) {
            return Err(CmaError::Invalid("sigma must be positive and finite"));
        }
        if mean.iter().any(|m| !m.is_finite() || m.abs() >= MEAN_MAX) {
            return Err(CmaError::Invalid("every mean coordinate must be finite"));
        }
        if bounds.len() != n
            || bounds
                .iter()
                .zip(&mean)
                .any(|(&(lo, hi), &m)| !(lo <= m && m <= hi))
        {
            return Err(CmaError::Invalid("the mean must lie within the bounds"));
        }
        let nf = n as f64;
        let popsize = population_size.unwrap_or(4 + (3.0 * nf.ln()).floor() as usize);
        if popsize < 2 {
            return Err(CmaError::Invalid("the population size must be at least 2"));
        }
        let mu = popsize / 2;
        let lf = popsize as f64;
        let wp: Vec<f64> = (0..popsize)
            .map(|i| ((lf + 1.0) / 2.0).ln() - ((i + 1) as f64).ln())
            .collect();
        let ratio = |w: &[f64]| {
            let s: f64 = w.iter().sum();
            let s2: f64 = w.iter().map(|x| x * x).sum();
            s * s / s2
        };
        let mu_eff = ratio(&wp[..mu]);
        let mu_eff_minus = ratio(&wp[mu..]);
        let alpha_cov = 2.0;
        let c1 = alpha_cov / ((nf + 1.3).powi(2) + mu_eff);
        let cmu = (1.0 - c1 - 1e-8).min(
            alpha_cov * (mu_eff - 2.0 + 1.0 / mu_eff)
                / ((nf + 2.0).powi(2) + alpha_cov * mu_eff / 2.0),
        );
        let min_alpha = (1.0 + c1 / cmu)
            .min(1.0 + (2.0 * mu_eff_minus) / (mu_eff + 2.0))
            .min((1.0 - c1 - cmu) / (nf * cmu));
        let positive_sum: f64 = wp.iter().filter(|w| **w > 0.0).sum();
        let negative_sum: f64 = wp.iter().filter(|w| **w < 0.0).map(|w| w.abs()).sum();
        let weights = wp
            .iter()
            .map(|&w| {
                if w >= 0.0 {
                    1.0 / positive_sum * w
                } else {
                    min_alpha / negative_sum * w
                }
            })
            .collect();
        let c_sigma = (mu_eff + 2.0) / (nf + mu_eff + 5.0);
        let d_sigma = 1.0 + 2.0 * (((mu_eff - 1.0) / (nf + 1.0)).sqrt() - 1.0).max(0.0) + c_sigma;
        let cc = (4.0 + mu_eff / nf) / (nf + 4.0 + 2.0 * mu_eff / nf);
        let chi_n = nf.sqrt() * (1.0 - 1.0 / (4.0 * nf) + 1.0 / (21.0 * nf * nf));
        let funhist_term = 10 + (30.0 * nf / lf).ceil() as usize;
        Ok(Cma {
            n,
            popsize,
            mu,
            mu_eff,
            cc,
            c1,
            cmu,
            c_sigma,
            d_sigma,
            chi_n,
            weights,
            p_sigma: DVector::zeros(n),
            pc: DVector::zeros(n),
            mean: DVector::from_vec(mean),
            c: DMatrix::identity(n, n),
            sigma,
            eigen: None,
            bounds,
            n_max_resampling,
            g: 0,
            tolx: 1e-12 * sigma,
            tolxup: 1e4,
            tolfun: 1e-12,
            tolconditioncov: 1e14,
            funhist_term,
            funhist_values: vec![0.0; funhist_term * 2],
        })
    }

    /// The number of dimensions.
    pub(crate) fn dim(&self) -> usize {
        self.n
    }

    /// The population size λ.
    #[cfg(test)]
    pub(crate) fn population_size(&self) -> usize {
        self.popsize
    }

    /// The number of tells so far.
    pub(crate) fn generation(&self) -> usize {
        self.g
    }

    #[cfg(test)]
    pub(crate) fn state(
        &self,
    ) -> (
        &DVector<f64>,
        f64,
        &DMatrix<f64>,
        &DVector<f64>,
        &DVector<f64>,
    ) {
        (&self.mean, self.sigma, &self.c, &self.p_sigma, &self.pc)
    }

    /// `_eigen_decomposition`: symmetrizes `C`, clamps negative eigenvalues
    /// to `EPS` and rebuilds `C` from its eigenpairs (as the library does).
    fn eigen_decomposition(&mut self) -> (DMatrix<f64>, DVector<f64>) {
        if let Some((b, d)) = &self.eigen {
            return (b.clone(), d.clone());
        }
        let sym = (&self.c + self.c.transpose()) / 2.0;
        let eig = SymmetricEigen::new(sym);
        let mut order: Vec<usize> = (0..self.n).collect();
        order.sort_by(|&i, &j| eig.eigenvalues[i].total_cmp(&eig.eigenvalues[j]));
        let d2 = DVector::from_iterator(self.n, order.iter().map(|&i| eig.eigenvalues[i]));
        let b = DMatrix::from_fn(self.n, self.n, |r, k| eig.eigenvectors[(r, order[k])]);
        let d = d2.map(|v| if v < 0.0 { EPS.sqrt() } else { v.sqrt() });
        let d_sq = DMatrix::from_diagonal(&d.map(|v| v * v));
        self.c = &b * d_sq * b.transpose();
        self.eigen = Some((b.clone(), d.clone()));
        (b, d)
    }

    fn sample_solution(&mut self, rng: &mut ChaCha8Rng) -> DVector<f64> {
        let (b, d) = self.eigen_decomposition();
        let z = DVector::from_iterator(self.n, (0..self.n).map(|_| StandardNormal.sample(rng)));
        let y = b * DMatrix::from_diagonal(&d) * z;
        &self.mean + y * self.sigma
    }

    fn is_feasible(&self, x: &DVector<f64>) -> bool {
        x.iter()
            .zip(&self.bounds)
            .all(|(v, &(lo, hi))| lo <= *v && *v <= hi)
    }

    /// One point: resampled up to `n_max_resampling` times until inside the
    /// bounds, then one more draw clipped to them.
    pub(crate) fn ask(&mut self, rng: &mut ChaCha8Rng) -> Vec<f64> {
        for _ in 0..self.n_max_resampling {
            let x = self.sample_solution(rng);
            if self.is_feasible(&x) {
                return x.iter().copied().collect();
            }
        }
        let x = self.sample_solution(rng);
        x.iter()
            .zip(&self.bounds)
            .map(|(v, &(lo, hi))| {
                if *v < lo {
                    lo
                } else if *v > hi {
                    hi
                } else {
                    *v
                }
            })
            .collect()
    }

    /// Updates the distribution from one population of `(x, f(x))`
    /// (minimized), which must hold exactly [`Cma::population_size`] points.
    pub(crate) fn tell(&mut self, solutions: &[(Vec<f64>, f64)]) -> Result<(), CmaError> {
        if solutions.len() != self.popsize {
            return Err(CmaError::WrongPopulation {
                expected: self.popsize,
                got: solutions.len(),
            });
        }
        if solutions.iter().any(|(x, _)| {
            x.len() != self.n || x.iter().any(|v| !v.is_finite() || v.abs() >= MEAN_MAX)
        }) {
            return Err(CmaError::Invalid(
                "every told point must have the dimension and finite coordinates",
            ));
        }
        self.g += 1;
        let mut sorted: Vec<&(Vec<f64>, f64)> = solutions.iter().collect();
        // Python's sort is stable, as is this one.
        sorted.sort_by(|a, b| a.1.total_cmp(&b.1));
        let idx = 2 * (self.g % self.funhist_term);
        self.funhist_values[idx] = sorted[0].1;
        self.funhist_values[idx + 1] = sorted[sorted.len() - 1].1;

        let (b, d) = self.eigen_decomposition();
        self.eigen = None;

        let y_k: Vec<DVector<f64>> = sorted
            .iter()
            .map(|(x, _)| (DVector::from_column_slice(x) - &self.mean) / self.sigma)
            .collect();
        let mut y_w = DVector::zeros(self.n);
        for (y, w) in y_k.iter().zip(&self.weights).take(self.mu) {
            y_w += y * *w;
        }
        self.mean += &y_w * self.sigma;

        let c_2 = &b * DMatrix::from_diagonal(&d.map(|v| 1.0 / v)) * b.transpose();
        self.p_sigma = &self.p_sigma * (1.0 - self.c_sigma)
            + (&c_2 * &y_w) * (self.c_sigma * (2.0 - self.c_sigma) * self.mu_eff).sqrt();
        let norm_p_sigma = self.p_sigma.norm();
        self.sigma *= ((self.c_sigma / self.d_sigma) * (norm_p_sigma / self.chi_n - 1.0)).exp();
        self.sigma = self.sigma.min(SIGMA_MAX);

        let left = norm_p_sigma / (1.0 - (1.0 - self.c_sigma).powi(2 * (self.g as i32 + 1))).sqrt();
        let right = (1.4 + 2.0 / (self.n as f64 + 1.0)) * self.chi_n;
        let h_sigma = if left < right { 1.0 } else { 0.0 };
        self.pc = &self.pc * (1.0 - self.cc)
            + &y_w * (h_sigma * (self.cc * (2.0 - self.cc) * self.mu_eff).sqrt());

        let nf = self.n as f64;
        let w_io: Vec<f64> = self
            .weights
            .iter()
            .zip(&y_k)
            .map(|(&w, y)| {
                if w >= 0.0 {
                    w
                } else {
                    w * nf / ((&c_2 * y).norm_squared() + EPS)
                }
            })
            .collect();
        let delta_h_sigma = (1.0 - h_sigma) * self.cc * (2.0 - self.cc);
        let rank_one = &self.pc * self.pc.transpose();
        let mut rank_mu = DMatrix::zeros(self.n, self.n);
        for (w, y) in w_io.iter().zip(&y_k) {
            rank_mu += (y * y.transpose()) * *w;
        }
        let sum_w: f64 = self.weights.iter().sum();
        self.c = &self.c * (1.0 + self.c1 * delta_h_sigma - self.c1 - self.cmu * sum_w)
            + rank_one * self.c1
            + rank_mu * self.cmu;
        Ok(())
    }

    /// The library's termination tests: flat recent values (tolfun), a
    /// collapsed distribution (tolx), divergence (tolxup), no effect of a
    /// coordinate or of a principal axis on the mean, and a condition
    /// number of `C` above 1e14.
    pub(crate) fn should_stop(&mut self) -> bool {
        let (b, d) = self.eigen_decomposition();
        let dc: Vec<f64> = (0..self.n).map(|i| self.c[(i, i)]).collect();
        if self.g > self.funhist_term {
            let max = self
                .funhist_values
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            let min = self
                .funhist_values
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min);
            if max - min < self.tolfun {
                return true;
            }
        }
        if dc.iter().all(|c| self.sigma * c < self.tolx)
            && self.pc.iter().all(|p| self.sigma * p < self.tolx)
        {
            return true;
        }
        let d_max = d.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let d_min = d.iter().copied().fold(f64::INFINITY, f64::min);
        if self.sigma * d_max > self.tolxup {
            return true;
        }
        if self
            .mean
            .iter()
            .zip(&dc)
            .any(|(m, c)| *m == m + 0.2 * self.sigma * c.sqrt())
        {
            return true;
        }
        let i = self.g % self.n;
        if (0..self.n).all(|r| self.mean[r] == self.mean[r] + 0.1 * self.sigma * d[i] * b[(r, i)]) {
            return true;
        }
        d_max / d_min > self.tolconditioncov
    }
}
