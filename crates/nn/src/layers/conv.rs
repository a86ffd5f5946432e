//! `Conv2d`: 2-D convolution of an image batch, initialized as PyTorch does.

use super::check;
use super::linear::torch_bias_bound;
use crate::Result;
use crate::builder::Builder;
use crate::init::Init;
use crate::module::{Ctx, Entry, Module};
use descent_autodiff::Var;
use descent_core::{ParamId, Scalar, Tags};

/// Arguments of [`Conv2d::new`], as `nn.Conv2d` with `groups = 1` and zero padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dConfig {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Stride, padding, dilation and kernel size (PyTorch's defaults: stride 1,
    /// no padding, dilation 1).
    pub geometry: descent_autodiff::Conv2dGeometry,
    /// Whether to learn a bias; default `true`.
    pub bias: bool,
}

impl Conv2dConfig {
    /// `in_channels → out_channels` with a `kh × kw` kernel and PyTorch's defaults.
    ///
    /// # Examples
    ///
    /// ```
    /// let cfg = descent_nn::Conv2dConfig::new(3, 16, 3, 3).padding(1, 1);
    /// assert_eq!((cfg.geometry.stride, cfg.geometry.padding, cfg.bias), ((1, 1), (1, 1), true));
    /// ```
    pub fn new(in_channels: usize, out_channels: usize, kh: usize, kw: usize) -> Self {
        Conv2dConfig {
            in_channels,
            out_channels,
            geometry: descent_autodiff::Conv2dGeometry::new(kh, kw),
            bias: true,
        }
    }

    /// Sets the stride.
    pub fn stride(mut self, sh: usize, sw: usize) -> Self {
        self.geometry = self.geometry.stride(sh, sw);
        self
    }

    /// Sets the zero padding on each side.
    pub fn padding(mut self, ph: usize, pw: usize) -> Self {
        self.geometry = self.geometry.padding(ph, pw);
        self
    }

    /// Sets the dilation.
    pub fn dilation(mut self, dh: usize, dw: usize) -> Self {
        self.geometry = self.geometry.dilation(dh, dw);
        self
    }

    /// Sets whether there is a bias.
    pub fn bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }
}

/// A 2-D convolution: weight `[C_out, C_in, kH, kW]` (a `C_out × (C_in·kH·kW)`
/// matrix), bias `[C_out]`; `kaiming_uniform(a = √5)` weights and
/// `U(±1/√fan_in)` bias as in PyTorch.
#[derive(Clone, Debug)]
pub struct Conv2d {
    weight: ParamId,
    bias: Option<ParamId>,
    cfg: Conv2dConfig,
}

impl Conv2d {
    /// Registers `weight` (and `bias`) under the builder's prefix; channel
    /// counts, kernel, stride and dilation must be positive.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_nn::{Builder, Conv2d, Conv2dConfig, ModelState};
    /// use rand_chacha::ChaCha8Rng;
    /// use rand_core::SeedableRng;
    ///
    /// let mut state = ModelState::<f32>::new();
    /// let mut rng = ChaCha8Rng::seed_from_u64(1);
    /// let conv = Conv2d::new(&mut Builder::new(&mut state, &mut rng), Conv2dConfig::new(3, 8, 3, 3))?;
    /// assert_eq!(state.params.value(conv.weight()).shape(), (8, 27));
    /// assert_eq!(state.torch_shape("weight"), Some(vec![8, 3, 3, 3]));
    /// # Ok::<(), descent_nn::Error>(())
    /// ```
    pub fn new<S: Scalar>(b: &mut Builder<'_, S>, cfg: Conv2dConfig) -> Result<Self> {
        let g = cfg.geometry;
        check(
            cfg.in_channels > 0,
            "Conv2d",
            "in_channels",
            cfg.in_channels,
            "must be positive",
        )?;
        check(
            cfg.out_channels > 0,
            "Conv2d",
            "out_channels",
            cfg.out_channels,
            "must be positive",
        )?;
        for (field, (a, c)) in [
            ("kernel_size", g.kernel_size),
            ("stride", g.stride),
            ("dilation", g.dilation),
        ] {
            check(a > 0 && c > 0, "Conv2d", field, (a, c), "must be positive")?;
        }
        let (kh, kw) = g.kernel_size;
        let shape = [cfg.out_channels, cfg.in_channels, kh, kw];
        let weight = b.param("weight", Tags::WEIGHT, &shape, Init::torch_default_weight())?;
        let bias = if cfg.bias {
            let bound = torch_bias_bound(cfg.in_channels * kh * kw);
            let init = Init::Uniform {
                low: -bound,
                high: bound,
            };
            Some(b.param("bias", Tags::BIAS, &[cfg.out_channels], init)?)
        } else {
            None
        };
        Ok(Conv2d { weight, bias, cfg })
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

impl<S: Scalar> Module<S> for Conv2d {
    /// Panics if `x` is not an image batch of `in_channels` channels.
    fn forward<'t>(&self, ctx: &mut Ctx<'_, 't, S>, x: Var<'t, S>) -> Var<'t, S> {
        let image = x.image();
        assert!(
            image.is_some_and(|i| i.c == self.cfg.in_channels),
            "Conv2d: input has image shape {image:?}, expected {} channels",
            self.cfg.in_channels
        );
        let bias = self.bias.map(|b| ctx.param(b));
        x.conv2d(ctx.param(self.weight), bias, &self.cfg.geometry)
    }

    fn visit(&self, f: &mut dyn FnMut(Entry)) {
        f(Entry::Param(self.weight));
        if let Some(b) = self.bias {
            f(Entry::Param(b));
        }
    }
}
