//! Sharpness-aware minimization (Foret et al. 2021) as a wrapper around any
//! optimizer: ascend to the worst point of a ρ-ball, take the gradient
//! there, and step from the original weights with it.
//!
//! [`Sam`] wraps an `Optimizer` (`first_step` to `w + e`, the caller's
//! gradient there, `second_step` back to `w` exactly, `e` kept);
//! [`SamPerturbation`] is the same without the base step, for a loop that owns
//! its optimizer (descent-train's `TrainConfig::sam`).

use crate::error::{Error, Result, non_negative};
use crate::optimizer::Optimizer;
use descent_core::{ParamStore, Params, Scalar};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// SAM's arguments; `Default` is the reference implementation's
/// (`rho = 0.05`, not adaptive).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SamConfig {
    /// Radius ρ of the neighbourhood (≥ 0; 0 is the base optimizer).
    pub rho: f64,
    /// ASAM (Kwon et al. 2021): the ball is scaled per weight by `|w|`, so
    /// the perturbation is `ρ·w²·g / ‖|w|·g‖`.
    pub adaptive: bool,
}

impl Default for SamConfig {
    fn default() -> Self {
        SamConfig {
            rho: 0.05,
            adaptive: false,
        }
    }
}

/// A base optimizer made sharpness-aware (Foret et al. 2021, Algorithm 1;
/// the update of the widely used `davda54/sam` implementation):
///
/// 1. [`first_step`](Self::first_step): with the gradient `g` at `w`,
///    `e = ρ·g / (‖g‖ + 1e-12)` (adaptive: `ρ·w²·g / (‖|w|·g‖ + 1e-12)`),
///    and `w ← w + e`;
/// 2. the caller computes the gradient at `w + e` into the store;
/// 3. [`second_step`](Self::second_step): `w ← w − e` (the original weights,
///    exactly: `e` is kept, not recomputed) and the base optimizer steps with
///    the gradient taken at `w + e`.
///
/// [`step`](Self::step) does the three with a closure for step 2. Norms are
/// taken over every parameter of the store, in f64. The training loop
/// (`descent-train`'s `TrainConfig::sam`) provides the closure.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Sam, SamConfig, Sgd, SgdConfig};
/// use nalgebra::DMatrix;
///
/// // f(w) = w²/2: the gradient is w.
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 1, 1.0))?;
/// let sgd = SgdConfig { lr: 0.1, ..SgdConfig::default() }.build(&store)?;
/// let mut sam = Sam::new(sgd, &store, SamConfig { rho: 0.5, adaptive: false })?;
/// store.grad_mut(w).fill(1.0); // the gradient at w = 1
/// sam.step(&mut store, |s| {
///     let at = s.value(w)[0]; // the perturbed point, 1.5
///     s.grad_mut(w).fill(at);
/// })?;
/// assert!((store.value(w)[0] - (1.0 - 0.1 * 1.5)).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Sam<S: Scalar> {
    base: Optimizer<S>,
    perturbation: SamPerturbation<S>,
}

impl<S: Scalar> Sam<S> {
    /// Wraps `base` (built over `params`); checks ρ ≥ 0 and finite.
    pub fn new(base: Optimizer<S>, params: &Params<S>, config: SamConfig) -> Result<Self> {
        Ok(Sam {
            base,
            perturbation: SamPerturbation::new(params, config)?,
        })
    }

    /// The base optimizer (its state is the whole of SAM's saved state).
    pub fn base(&self) -> &Optimizer<S> {
        &self.base
    }

    /// The base optimizer, mutably.
    pub fn base_mut(&mut self) -> &mut Optimizer<S> {
        &mut self.base
    }

    /// The arguments.
    pub fn config(&self) -> &SamConfig {
        &self.perturbation.config
    }

    /// Whether the weights are at the perturbed point (between the steps).
    pub fn is_perturbed(&self) -> bool {
        self.perturbation.perturbed
    }

    /// Moves the weights to `w + e(w)` with the store's gradients at `w`.
    /// Calling it twice without [`second_step`](Self::second_step) is
    /// [`Error::StateMismatch`].
    pub fn first_step(&mut self, store: &mut ParamStore<S>) -> Result<()> {
        self.perturbation.ascend(store)
    }

    /// Moves the weights back to `w` and steps the base optimizer with the
    /// store's gradients (those at `w + e`). Without a
    /// [`first_step`](Self::first_step) before, it is the base step alone.
    pub fn second_step(&mut self, store: &mut ParamStore<S>) -> Result<()> {
        self.perturbation.restore(store)?;
        self.base.step(store)
    }

    /// One SAM step: [`first_step`](Self::first_step) with the store's
    /// gradients, `grad_at(store)` to replace them by the gradients at the
    /// perturbed weights (zeroing first is its job), then
    /// [`second_step`](Self::second_step).
    pub fn step(
        &mut self,
        store: &mut ParamStore<S>,
        grad_at: impl FnOnce(&mut ParamStore<S>),
    ) -> Result<()> {
        self.first_step(store)?;
        grad_at(store);
        self.second_step(store)
    }
}

/// SAM's perturbation alone, for a training loop that owns its optimizer:
/// [`ascend`](Self::ascend) to `w + e` with the gradients at `w`,
/// [`restore`](Self::restore) to `w` exactly; the base step is the caller's.
#[derive(Clone, Debug)]
pub struct SamPerturbation<S: Scalar> {
    config: SamConfig,
    /// The perturbation `e` of each parameter, kept to undo it exactly.
    e: Vec<DMatrix<S>>,
    perturbed: bool,
}

impl<S: Scalar> SamPerturbation<S> {
    /// Buffers for the parameters of `params`; checks ρ ≥ 0 and finite.
    pub fn new(params: &Params<S>, config: SamConfig) -> Result<Self> {
        non_negative("rho", config.rho)?;
        let e = params
            .iter()
            .map(|(_, _, v)| DMatrix::zeros(v.nrows(), v.ncols()))
            .collect();
        Ok(SamPerturbation {
            config,
            e,
            perturbed: false,
        })
    }

    /// Whether the weights are at the perturbed point.
    pub fn is_perturbed(&self) -> bool {
        self.perturbed
    }

    fn check(&self, store: &ParamStore<S>) -> Result<()> {
        let fits = store.len() == self.e.len()
            && store
                .iter()
                .zip(&self.e)
                .all(|((_, _, v), e)| v.shape() == e.shape());
        if fits {
            return Ok(());
        }
        Err(Error::StoreMismatch {
            expected: self.e.len(),
            expected_numel: self.e.iter().map(|e| e.len()).collect(),
            got: store.len(),
            got_numel: store.iter().map(|(_, _, v)| v.len()).collect(),
        })
    }

    /// `w ← w + e(w)` from the store's gradients at `w`; twice without a
    /// [`restore`](Self::restore) is [`Error::StateMismatch`].
    pub fn ascend(&mut self, store: &mut ParamStore<S>) -> Result<()> {
        self.check(store)?;
        if self.perturbed {
            return Err(Error::StateMismatch {
                reason: "SAM's first step twice without its second".into(),
            });
        }
        let adaptive = self.config.adaptive;
        let (params, grads) = store.split_mut();
        let mut sq = 0.0f64;
        for (id, w) in params.values_mut() {
            for (x, g) in w.iter().zip(grads.get(id).iter()) {
                let s = if adaptive { x.as_f64().abs() } else { 1.0 } * g.as_f64();
                sq += s * s;
            }
        }
        let scale = self.config.rho / (sq.sqrt() + 1e-12);
        for ((id, w), e) in params.values_mut().zip(&mut self.e) {
            for ((x, g), e) in w.iter_mut().zip(grads.get(id).iter()).zip(e.iter_mut()) {
                let wx = x.as_f64();
                let k = if adaptive { wx * wx } else { 1.0 };
                *e = S::cast(k * g.as_f64() * scale);
                *x += *e;
            }
        }
        self.perturbed = true;
        Ok(())
    }

    /// `w ← w − e`: back to the weights before [`ascend`](Self::ascend);
    /// nothing when not perturbed.
    pub fn restore(&mut self, store: &mut ParamStore<S>) -> Result<()> {
        self.check(store)?;
        if self.perturbed {
            let (params, _) = store.split_mut();
            for ((_, w), e) in params.values_mut().zip(&self.e) {
                *w -= e;
            }
            self.perturbed = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ArgError;
    use crate::SgdConfig;
    use descent_core::Tags;

    /// f(w) = ½ wᵀAw with A = diag(a): the gradient is A w.
    fn grad(a: &[f64], w: &DMatrix<f64>) -> DMatrix<f64> {
        DMatrix::from_fn(1, a.len(), |_, j| a[j] * w[j])
    }

    fn run(adaptive: bool) -> (Vec<f64>, Vec<f64>) {
        let a = [1.0, 4.0];
        let mut store = ParamStore::<f64>::new();
        let w = store
            .register(
                "w",
                Tags::WEIGHT,
                DMatrix::from_row_slice(1, 2, &[1.0, -0.5]),
            )
            .unwrap();
        let sgd = SgdConfig {
            lr: 0.1,
            ..SgdConfig::default()
        }
        .build(&store)
        .unwrap();
        let cfg = SamConfig { rho: 0.2, adaptive };
        let mut sam = Sam::new(sgd, &store, cfg).unwrap();
        let mut by_hand = vec![1.0, -0.5];
        for _ in 0..3 {
            let g = grad(&a, store.value(w));
            *store.grad_mut(w) = g;
            sam.step(&mut store, |s| {
                let g = grad(&a, s.value(w));
                *s.grad_mut(w) = g;
            })
            .unwrap();
            // by hand: g = A w, e = ρ k g / ‖√k g‖ with k = w² (adaptive) or 1
            let g: Vec<f64> = (0..2).map(|j| a[j] * by_hand[j]).collect();
            let k: Vec<f64> = (0..2)
                .map(|j| {
                    if adaptive {
                        by_hand[j] * by_hand[j]
                    } else {
                        1.0
                    }
                })
                .collect();
            let norm = (0..2).map(|j| k[j] * g[j] * g[j]).sum::<f64>().sqrt();
            let e: Vec<f64> = (0..2).map(|j| 0.2 * k[j] * g[j] / (norm + 1e-12)).collect();
            for j in 0..2 {
                by_hand[j] -= 0.1 * a[j] * (by_hand[j] + e[j]);
            }
        }
        (store.value(w).iter().copied().collect(), by_hand)
    }

    #[test]
    fn sam_on_a_quadratic_follows_the_hand_computation() {
        for adaptive in [false, true] {
            let (got, want) = run(adaptive);
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() < 1e-14,
                    "adaptive {adaptive}: {got:?} vs {want:?}"
                );
            }
        }
    }

    #[test]
    fn rho_zero_is_the_base_optimizer_and_misuse_is_a_typed_error() {
        let mut store = ParamStore::<f64>::new();
        let w = store
            .register("w", Tags::WEIGHT, DMatrix::from_element(1, 3, 2.0))
            .unwrap();
        let sgd = |s: &ParamStore<f64>| SgdConfig::default().build(s).unwrap();
        let mut sam = Sam::new(
            sgd(&store),
            &store,
            SamConfig {
                rho: 0.0,
                adaptive: false,
            },
        )
        .unwrap();
        let mut plain_store = store.clone();
        let mut plain = sgd(&plain_store);
        store.grad_mut(w).fill(0.7);
        plain_store.grad_mut(w).fill(0.7);
        sam.step(&mut store, |_| {}).unwrap();
        plain.step(&mut plain_store).unwrap();
        assert_eq!(store.value(w), plain_store.value(w));

        sam.first_step(&mut store).unwrap();
        assert!(matches!(
            sam.first_step(&mut store),
            Err(Error::StateMismatch { .. })
        ));
        assert!(matches!(
            Sam::new(
                sgd(&store),
                &store,
                SamConfig {
                    rho: -1.0,
                    adaptive: false
                }
            ),
            Err(Error::Arg(ArgError { name: "rho", .. }))
        ));
        let mut other = ParamStore::<f64>::new();
        other
            .register("v", Tags::WEIGHT, DMatrix::zeros(2, 2))
            .unwrap();
        assert!(matches!(
            sam.second_step(&mut other),
            Err(Error::StoreMismatch { .. })
        ));
    }
}
