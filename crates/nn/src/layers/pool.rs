//! `MaxPool2d` and `AvgPool2d` layers over the autodiff pooling ops.

use super::check;
use crate::Result;
use crate::module::{Ctx, Module};
use descent_autodiff::{AvgPool2dConfig, MaxPool2dConfig, Var};
use descent_core::Scalar;

fn check_window(
    layer: &'static str,
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
) -> Result<()> {
    check(
        kernel.0 > 0 && kernel.1 > 0,
        layer,
        "kernel_size",
        kernel,
        "must be positive",
    )?;
    check(
        stride.0 > 0 && stride.1 > 0,
        layer,
        "stride",
        stride,
        "must be positive",
    )?;
    let half = padding.0 * 2 <= kernel.0 && padding.1 * 2 <= kernel.1;
    check(
        half,
        layer,
        "padding",
        padding,
        "must be at most half the kernel size",
    )
}

/// Max pooling (PyTorch `nn.MaxPool2d`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPool2d {
    cfg: MaxPool2dConfig,
}

impl MaxPool2d {
    /// A max-pooling layer; the window, stride and dilation must be positive
    /// and the padding at most half the window.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_nn::{MaxPool2d, MaxPool2dConfig};
    ///
    /// assert!(MaxPool2d::new(MaxPool2dConfig::new(2, 2)).is_ok());
    /// assert!(MaxPool2d::new(MaxPool2dConfig::new(2, 2).padding(2, 0)).is_err());
    /// ```
    pub fn new(cfg: MaxPool2dConfig) -> Result<Self> {
        check_window("MaxPool2d", cfg.kernel_size, cfg.stride, cfg.padding)?;
        let d = cfg.dilation;
        check(
            d.0 > 0 && d.1 > 0,
            "MaxPool2d",
            "dilation",
            d,
            "must be positive",
        )?;
        Ok(MaxPool2d { cfg })
    }
}

impl<S: Scalar> Module<S> for MaxPool2d {
    fn forward<'t>(&self, _ctx: &mut Ctx<'_, 't, S>, x: Var<'t, S>) -> Var<'t, S> {
        x.max_pool2d(&self.cfg)
    }
}

/// Average pooling (PyTorch `nn.AvgPool2d`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPool2d {
    cfg: AvgPool2dConfig,
}

impl AvgPool2d {
    /// An average-pooling layer; the window and stride must be positive, the
    /// padding at most half the window and a divisor override positive.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_nn::{AvgPool2d, AvgPool2dConfig};
    ///
    /// assert!(AvgPool2d::new(AvgPool2dConfig::new(3, 3).stride(1, 1).padding(1, 1)).is_ok());
    /// assert!(AvgPool2d::new(AvgPool2dConfig::new(2, 2).divisor_override(0)).is_err());
    /// ```
    pub fn new(cfg: AvgPool2dConfig) -> Result<Self> {
        check_window("AvgPool2d", cfg.kernel_size, cfg.stride, cfg.padding)?;
        let d = cfg.divisor_override;
        check(
            d != Some(0),
            "AvgPool2d",
            "divisor_override",
            d,
            "must be positive",
        )?;
        Ok(AvgPool2d { cfg })
    }
}

impl<S: Scalar> Module<S> for AvgPool2d {
    fn forward<'t>(&self, _ctx: &mut Ctx<'_, 't, S>, x: Var<'t, S>) -> Var<'t, S> {
        x.avg_pool2d(&self.cfg)
    }
}
