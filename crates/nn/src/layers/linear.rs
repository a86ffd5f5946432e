//! `Linear`: `y = x·Wᵀ + b`, initialized as PyTorch does.

use crate::Result;
use crate::builder::Builder;
use crate::init::Init;
use crate::module::{Ctx, Entry, Module};
use descent_autodiff::Var;
use descent_core::{ParamId, Scalar, Tags};

/// Arguments of [`Linear::new`], as `nn.Linear(in_features, out_features, bias=True)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinearConfig {
    /// Size of each input sample.
    pub in_features: usize,
    /// Size of each output sample.
    pub out_features: usize,
    /// Whether to learn an additive bias; default `true`.
    pub bias: bool,
}

impl LinearConfig {
    /// `in_features → out_features` with a bias.
    ///
    /// # Examples
    ///
    /// ```
    /// let cfg = descent_nn::LinearConfig::new(784, 10);
    /// assert!(cfg.bias);
    /// ```
    pub fn new(in_features: usize, out_features: usize) -> Self {
        LinearConfig {
            in_features,
            out_features,
            bias: true,
        }
    }

    /// Sets whether there is a bias.
    pub fn bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }
}

/// A fully connected layer: weight `out × in` (`weight`), bias `1 × out`
/// (`bias`). Weights start at `kaiming_uniform(a = √5)` = `U(±1/√in)`, the
/// bias at `U(±1/√in)`, as in PyTorch.
#[derive(Clone, Debug)]
pub struct Linear {
    weight: ParamId,
    bias: Option<ParamId>,
}

impl Linear {
    /// Registers `weight` (and `bias`) under the builder's prefix.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_nn::{Builder, Linear, LinearConfig, ModelState};
    /// use rand_chacha::ChaCha8Rng;
    /// use rand_core::SeedableRng;
    ///
    /// let mut state = ModelState::<f64>::new();
    /// let mut rng = ChaCha8Rng::seed_from_u64(1);
    /// let fc = Linear::new(&mut Builder::new(&mut state, &mut rng), LinearConfig::new(16, 3))?;
    /// let w = state.params.value(fc.weight());
    /// assert_eq!(w.shape(), (3, 16));
    /// assert!(w.iter().all(|x| x.abs() <= 0.25));
    /// let zero = Linear::new(&mut Builder::new(&mut state, &mut rng).pp("z"), LinearConfig::new(0, 3));
    /// assert!(matches!(zero, Err(descent_nn::Error::Arg(descent_nn::ArgError { name: "in_features", .. }))));
    /// # Ok::<(), descent_nn::Error>(())
    /// ```
    pub fn new<S: Scalar>(b: &mut Builder<'_, S>, cfg: LinearConfig) -> Result<Self> {
        // PyTorch accepts zero features (a zero-element weight, and an
        // infinite init bound for the bias); here a zero-sized layer is a
        // typed error, as it is for BatchNorm and Conv2d.
        for (field, n) in [
            ("in_features", cfg.in_features),
            ("out_features", cfg.out_features),
        ] {
            super::check(n > 0, "Linear", field, n, "must be positive")?;
        }
        let shape = [cfg.out_features, cfg.in_features];
        let weight = b.param("weight", Tags::WEIGHT, &shape, Init::torch_default_weight())?;
        let bias = if cfg.bias {
            let bound = torch_bias_bound(cfg.in_features);
            let init = Init::Uniform {
                low: -bound,
                high: bound,
            };
            Some(b.param("bias", Tags::BIAS, &[cfg.out_features], init)?)
        } else {
            None
        };
        Ok(Linear { weight, bias })
    }

    /// The weight's id.
    pub fn weight(&self) -> ParamId {
        self.weight
    }

    /// The bias's id, if any.
    pub fn bias(&self) -> Option<ParamId> {
        self.bias
    }
}

/// PyTorch's bias bound `1/√fan_in` (0 when `fan_in` is 0).
pub(crate) fn torch_bias_bound(fan_in: usize) -> f64 {
    if fan_in > 0 {
        1.0 / (fan_in as f64).sqrt()
    } else {
        0.0
    }
}

impl<S: Scalar> Module<S> for Linear {
    fn forward<'t>(&self, ctx: &mut Ctx<'_, 't, S>, x: Var<'t, S>) -> Var<'t, S> {
        let y = x.matmul_t(ctx.param(self.weight));
        match self.bias {
            Some(b) => y + ctx.param(b),
            None => y,
        }
    }

    fn visit(&self, f: &mut dyn FnMut(Entry)) {
        f(Entry::Param(self.weight));
        if let Some(b) = self.bias {
            f(Entry::Param(b));
        }
    }
}
