//! `LayerNorm` over the features of each sample, composed from tape ops.

use super::check;
use crate::Result;
use crate::builder::Builder;
use crate::init::Init;
use crate::module::{Ctx, Entry, Module};
use descent_autodiff::Var;
use descent_core::{ParamId, Scalar, Tags};

/// Arguments of [`LayerNorm::new`], as `nn.LayerNorm(normalized_shape)` over
/// the last dimension.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNormConfig {
    /// Features per sample, `D` (PyTorch's `normalized_shape = [D]`).
    pub normalized_shape: usize,
    /// Added to the variance; default `1e-5`.
    pub eps: f64,
    /// Learn a per-feature `weight` (ones) and `bias` (zeros); default `true`.
    pub elementwise_affine: bool,
}

impl LayerNormConfig {
    /// Normalization over `d` features with PyTorch's defaults.
    ///
    /// # Examples
    ///
    /// ```
    /// let cfg = descent_nn::LayerNormConfig::new(32);
    /// assert_eq!((cfg.eps, cfg.elementwise_affine), (1e-5, true));
    /// ```
    pub fn new(d: usize) -> Self {
        LayerNormConfig {
            normalized_shape: d,
            eps: 1e-5,
            elementwise_affine: true,
        }
    }
}

/// Layer normalization (Ba et al. 2016): each row of an `N × D` matrix is
/// normalized by its own mean and biased variance, then scaled and shifted
/// per feature. The same in training and evaluation.
#[derive(Clone, Debug)]
pub struct LayerNorm {
    cfg: LayerNormConfig,
    weight: Option<ParamId>,
    bias: Option<ParamId>,
}

impl LayerNorm {
    /// Registers `weight` and `bias` (when affine) under the builder's prefix.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_nn::{Builder, LayerNorm, LayerNormConfig, ModelState};
    /// use rand_chacha::ChaCha8Rng;
    /// use rand_core::SeedableRng;
    ///
    /// let mut state = ModelState::<f32>::new();
    /// let mut rng = ChaCha8Rng::seed_from_u64(0);
    /// LayerNorm::new(&mut Builder::new(&mut state, &mut rng), LayerNormConfig::new(5))?;
    /// assert_eq!(state.params.len(), 2);
    /// # Ok::<(), descent_nn::Error>(())
    /// ```
    pub fn new<S: Scalar>(b: &mut Builder<'_, S>, cfg: LayerNormConfig) -> Result<Self> {
        let d = cfg.normalized_shape;
        check(
            d > 0,
            "LayerNorm",
            "normalized_shape",
            d,
            "must be positive",
        )?;
        check(
            cfg.eps.is_finite() && cfg.eps >= 0.0,
            "LayerNorm",
            "eps",
            cfg.eps,
            "must be finite and non-negative",
        )?;
        let (weight, bias) = if cfg.elementwise_affine {
            (
                Some(b.param("weight", Tags::NORM | Tags::WEIGHT, &[d], Init::Ones)?),
                Some(b.param("bias", Tags::NORM | Tags::BIAS, &[d], Init::Zeros)?),
            )
        } else {
            (None, None)
        };
        Ok(LayerNorm { cfg, weight, bias })
    }
}

impl<S: Scalar> Module<S> for LayerNorm {
    /// Panics if the input does not have `normalized_shape` columns.
    fn forward<'t>(&self, ctx: &mut Ctx<'_, 't, S>, x: Var<'t, S>) -> Var<'t, S> {
        let d = self.cfg.normalized_shape;
        let cols = x.shape().1;
        assert_eq!(
            cols, d,
            "LayerNorm: input has {cols} features, expected {d}"
        );
        let centred = x - x.row_means();
        let var = (centred * centred).row_means();
        let mut y = centred / var.add_scalar(S::cast(self.cfg.eps)).sqrt();
        if let Some(w) = self.weight {
            y = y * ctx.param(w);
        }
        if let Some(b) = self.bias {
            y = y + ctx.param(b);
        }
        y
    }

    fn visit(&self, f: &mut dyn FnMut(Entry)) {
        for p in self.weight.iter().chain(&self.bias) {
            f(Entry::Param(*p));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Mode, ModelState};
    use descent_autodiff::gradcheck::check_gradients;
    use descent_testkit::strategies::matrix_of;
    use proptest::prelude::*;
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    /// The layer on `v` (it holds no tensors when not affine, so an empty state serves).
    fn apply<'t>(ln: &LayerNorm, v: Var<'t, f64>) -> Var<'t, f64> {
        let (mut st, mut rng) = (ModelState::<f64>::new(), ChaCha8Rng::seed_from_u64(0));
        let mut ctx = Ctx::new(v.tape(), &mut st, Mode::Train, &mut rng);
        ln.forward(&mut ctx, v)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn layer_norm_rows_have_mean_0_variance_1_and_check_gradients(x in (1usize..5, 2usize..6).prop_flat_map(|(n, d)| matrix_of(n, d, -3.0, 3.0))) {
            let d = x.ncols();
            let mut state = ModelState::<f64>::new();
            let mut rng = ChaCha8Rng::seed_from_u64(0);
            let mut cfg = LayerNormConfig::new(d);
            cfg.elementwise_affine = false;
            let ln = LayerNorm::new(&mut Builder::new(&mut state, &mut rng), cfg).unwrap();
            check_gradients(std::slice::from_ref(&x), |_t, v| apply(&ln, v[0])).map_err(TestCaseError::fail)?;
            let tape = descent_autodiff::Tape::new();
            let y = apply(&ln, tape.constant(&x)).value();
            for i in 0..y.nrows() {
                let row: Vec<f64> = y.row(i).iter().copied().collect();
                let mean = row.iter().sum::<f64>() / d as f64;
                let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / d as f64;
                let xm = x.row(i).sum() / d as f64;
                let xv = x.row(i).iter().map(|v| (v - xm).powi(2)).sum::<f64>() / d as f64;
                prop_assert!(mean.abs() < 1e-9 && (var - xv / (xv + 1e-5)).abs() < 1e-9, "row {i}: {mean} {var}");
            }
        }
    }
}
