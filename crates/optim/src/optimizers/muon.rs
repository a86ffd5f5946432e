//! `Muon`: orthogonalized momentum for matrices, AdamW for the rest.

use crate::check;
use crate::error::Result;
use crate::optimizer::Optimizer;
use crate::optimizers::{AdamWConfig, OptimizerConfig, optimizer_constructors};
use crate::transform::{AdjustLr, ScaleByMuon, scale_by_muon};
use descent_core::Selector;
use descent_core::range::check;
use descent_core::{Params, Scalar};

/// PyTorch `Muon` (PyTorch 2.15's `torch.optim.Muon`); the update rule is
/// [`ScaleByMuon`]'s. Muon is for matrices (hidden layers' weights): a
/// one-row parameter in a Muon group is a typed error
/// ([`Error::UnsupportedShape`](crate::Error::UnsupportedShape));
/// [`Muon::with_adamw`] gives matrices to Muon and everything else to AdamW,
/// the usual setup.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{AdamWConfig, Error, Muon, MuonConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("fc.weight", Tags::WEIGHT, DMatrix::from_element(4, 3, 0.5))?;
/// let b = store.register("fc.bias", Tags::BIAS, DMatrix::from_element(1, 4, 0.5))?;
/// let muon = MuonConfig { lr: 0.02, ..MuonConfig::default() };
/// // The bias is a 1-d tensor: Muon alone refuses it...
/// assert!(matches!(muon.build(&store), Err(Error::UnsupportedShape { .. })));
/// // ... and with AdamW beside it, it goes to AdamW.
/// let mut opt = Muon::with_adamw(&store, muon, AdamWConfig::default())?;
/// store.grad_mut(w).fill(1.0);
/// store.grad_mut(b).fill(1.0);
/// opt.step(&mut store)?;
/// assert!(store.value(w)[0] < 0.5 && store.value(b)[0] < 0.5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Muon;

impl Muon {
    /// Two groups: every matrix ([`Selector::Matrices`], two or more rows)
    /// with Muon, every other parameter with AdamW.
    pub fn with_adamw<S: Scalar>(
        params: &Params<S>,
        muon: MuonConfig,
        adamw: AdamWConfig,
    ) -> Result<Optimizer<S>> {
        muon.validate()?;
        adamw.validate()?;
        let mut builder =
            Optimizer::builder(params).group(&Selector::Matrices, muon.lr, muon.transform())?;
        if params
            .iter()
            .any(|(_, meta, _)| !Selector::Matrices.matches(meta))
        {
            builder = builder.group(&Selector::All, adamw.lr(), adamw.transform())?;
        }
        builder.build()
    }
}

/// Arguments of [`Muon`]; `Default` is PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MuonConfig {
    /// Learning rate (1e-3).
    pub lr: f64,
    /// Decoupled weight decay λ: `p ← p·(1 − lr·λ)` (0.1).
    pub weight_decay: f64,
    /// Momentum μ (0.95).
    pub momentum: f64,
    /// Nesterov look-ahead (true).
    pub nesterov: bool,
    /// (a, b, c) of the Newton–Schulz polynomial, (3.4445, −4.775, 2.0315).
    pub ns_coefficients: (f64, f64, f64),
    /// ε, the floor of the norm the momentum is divided by (1e-7).
    pub eps: f64,
    /// Newton–Schulz iterations (5; PyTorch refuses 100 or more).
    pub ns_steps: usize,
    /// The learning-rate adjustment by shape (`None` in PyTorch: original).
    pub adjust_lr: AdjustLr,
}

impl Default for MuonConfig {
    fn default() -> Self {
        MuonConfig {
            lr: 1e-3,
            weight_decay: 0.1,
            momentum: 0.95,
            nesterov: true,
            ns_coefficients: (3.4445, -4.775, 2.0315),
            eps: 1e-7,
            ns_steps: 5,
            adjust_lr: AdjustLr::Original,
        }
    }
}

impl OptimizerConfig for MuonConfig {
    type Transform = ScaleByMuon;

    fn lr(&self) -> f64 {
        self.lr
    }

    /// PyTorch's checks (`lr`, `momentum`, `weight_decay` ≥ 0, fewer than
    /// 100 Newton–Schulz steps) and finite coefficients and a positive `eps`.
    fn validate(&self) -> Result<()> {
        check::lr(self.lr)?;
        check::weight_decay(self.weight_decay)?;
        check::momentum(self.momentum)?;
        check::eps_positive(self.eps)?;
        let steps = self.ns_steps as f64;
        check("ns_steps", steps, self.ns_steps < 100, "fewer than 100")?;
        let (a, b, c) = self.ns_coefficients;
        check("ns_coefficients.0", a, a.is_finite(), "a finite value")?;
        check("ns_coefficients.1", b, b.is_finite(), "a finite value")?;
        check("ns_coefficients.2", c, c.is_finite(), "a finite value")?;
        Ok(())
    }

    fn transform(&self) -> Self::Transform {
        scale_by_muon(
            self.momentum,
            self.nesterov,
            self.ns_coefficients,
            self.eps,
            self.ns_steps,
            self.adjust_lr,
            self.weight_decay,
        )
    }
}

optimizer_constructors!(Muon, MuonConfig);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ArgError;
    use crate::Error;
    use crate::optimizers::{AdafactorConfig, AsgdConfig, RpropConfig};
    use descent_core::{ParamStore, Tags};
    use nalgebra::DMatrix;

    fn name_of(e: Error) -> &'static str {
        match e {
            Error::Arg(ArgError { name, .. }) => name,
            other => panic!("not OutOfRange: {other}"),
        }
    }

    #[test]
    fn invalid_torch2_hyperparameters_are_typed_errors() {
        let muon = MuonConfig::default();
        let bad_muon = [
            (MuonConfig { lr: -1.0, ..muon }, "lr"),
            (
                MuonConfig {
                    momentum: -0.1,
                    ..muon
                },
                "momentum",
            ),
            (
                MuonConfig {
                    ns_steps: 100,
                    ..muon
                },
                "ns_steps",
            ),
            (MuonConfig { eps: 0.0, ..muon }, "eps"),
            (
                MuonConfig {
                    ns_coefficients: (f64::NAN, 1.0, 1.0),
                    ..muon
                },
                "ns_coefficients.0",
            ),
        ];
        for (cfg, name) in bad_muon {
            assert_eq!(name_of(cfg.validate().unwrap_err()), name);
        }
        let rprop = RpropConfig::default();
        for (cfg, name) in [
            (
                RpropConfig {
                    etas: (1.0, 1.2),
                    ..rprop
                },
                "etas.0",
            ),
            (
                RpropConfig {
                    etas: (0.5, 1.0),
                    ..rprop
                },
                "etas.1",
            ),
            (
                RpropConfig {
                    step_sizes: (1.0, 0.5),
                    ..rprop
                },
                "step_sizes.1",
            ),
        ] {
            assert_eq!(name_of(cfg.validate().unwrap_err()), name);
        }
        let asgd = AsgdConfig::default();
        for (cfg, name) in [
            (
                AsgdConfig {
                    t0: f64::INFINITY,
                    ..asgd
                },
                "t0",
            ),
            (
                AsgdConfig {
                    weight_decay: -1.0,
                    ..asgd
                },
                "weight_decay",
            ),
        ] {
            assert_eq!(name_of(cfg.validate().unwrap_err()), name);
        }
        let ada = AdafactorConfig::default();
        for (cfg, name) in [
            (
                AdafactorConfig {
                    beta2_decay: 0.5,
                    ..ada
                },
                "beta2_decay",
            ),
            (
                AdafactorConfig {
                    eps: (Some(-1.0), 1e-3),
                    ..ada
                },
                "eps.0",
            ),
            (AdafactorConfig { d: 0.0, ..ada }, "d"),
        ] {
            assert_eq!(name_of(cfg.validate().unwrap_err()), name);
        }
    }

    #[test]
    fn a_one_row_parameter_in_a_muon_group_is_refused_by_name() {
        let mut store = ParamStore::<f32>::new();
        store
            .register("w", Tags::WEIGHT, DMatrix::zeros(3, 3))
            .unwrap();
        store
            .register("b", Tags::BIAS, DMatrix::zeros(1, 3))
            .unwrap();
        match MuonConfig::default().build(&store) {
            Err(Error::UnsupportedShape {
                name,
                rows: 1,
                cols: 3,
                ..
            }) => assert_eq!(name, "b"),
            other => panic!("{other:?}"),
        }
        // A Muon group that selects only matrices is fine.
        let groups = [(Selector::Matrices, MuonConfig::default())];
        let opt = Muon::with_groups(&store, &groups).unwrap();
        assert_eq!(opt.n_groups(), 1);
        // With AdamW beside it, the bias goes to AdamW.
        let opt = Muon::with_adamw(&store, MuonConfig::default(), AdamWConfig::default()).unwrap();
        assert_eq!(opt.n_groups(), 2);
    }
}
