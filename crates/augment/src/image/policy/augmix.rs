//! AugMix (Hendrycks et al. 2020, "AugMix: A Simple Data Processing Method
//! to Improve Robustness and Uncertainty") as torchvision v2's `AugMix`:
//! `mixture_width` chains of 1–3 random ops each, mixed with Dirichlet
//! weights and blended with the original image by a Beta-distributed skip
//! weight:
//!
//! ```text
//! (m₀, m₁) ~ Dirichlet(α, α)          w ~ Dirichlet(α, …, α) · m₁
//! mix = m₀ · x + Σᵢ wᵢ · chainᵢ(x)
//! ```
//!
//! torchvision's `AugMix` returns one augmented view; the paper trains on
//! the clean image and two AugMix views with the Jensen–Shannon consistency
//! loss (`Var::js_consistency` in descent-autodiff; the recipe is in the
//! crate README).
//!
//! The mixture is drawn from a seed (`AugMix::mixture` → `AugMixDraw`) and
//! logged as `DrawnParams::AugMix { seed, config }`, which replays by
//! re-deriving its chains from the seed, so `AugMix::mixture` stays a pure
//! function of `(seed, config, dims)`.

use super::op::{Bins, PolicyOp, SpaceEntry, signed_magnitude};
use crate::ArgError;
use crate::image::mix::gamma;
use crate::image::spec::OpSpec;
use crate::image::{DrawnParams, ImageAugment, ImageShape, Interpolation, check_len};
use crate::{Error, OpCtx, Result};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The widest mixture [`AugMix`] accepts (a bound on the work a logged
/// [`DrawnParams::AugMix`] can ask for).
pub const MAX_AUGMIX_WIDTH: usize = 64;

/// The deepest chain [`AugMix`] accepts.
pub const MAX_AUGMIX_CHAIN_DEPTH: i32 = 64;

/// torchvision's `_PARAMETER_MAX`: AugMix's magnitude bins.
const NUM_BINS: usize = 10;

/// The configuration of [`AugMix`]; `Default` is torchvision's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AugMixConfig {
    /// Magnitude bins drawn from, `1..=10` (default 3): each op's bin is
    /// uniform in `0..severity`.
    pub severity: u8,
    /// Number of chains (default 3).
    pub mixture_width: usize,
    /// Ops per chain; `≤ 0` (default −1) draws it uniformly from `1..=3`
    /// per chain.
    pub chain_depth: i32,
    /// Concentration of the Dirichlet and Beta weights (default 1).
    pub alpha: f64,
    /// Include brightness, colour, contrast and sharpness (default true).
    pub all_ops: bool,
    /// Resampling of the geometric ops (default bilinear, as torchvision's AugMix).
    pub interpolation: Interpolation,
    /// Fill of the geometric ops, in `[0, 1]`; `None` (default) reads
    /// outside pixels as 0 without blending.
    pub fill: Option<f32>,
}

impl Default for AugMixConfig {
    fn default() -> Self {
        AugMixConfig {
            severity: 3,
            mixture_width: 3,
            chain_depth: -1,
            alpha: 1.0,
            all_ops: true,
            interpolation: Interpolation::Bilinear,
            fill: None,
        }
    }
}

impl AugMixConfig {
    /// Checks every field (shared by [`AugMix::new`] and [`DrawnParams::check`]).
    pub(crate) fn check(&self) -> Result<()> {
        if !(1..=NUM_BINS as u8).contains(&self.severity) {
            return Err(Error::Arg(ArgError::new(
                "severity",
                self.severity,
                "must lie in [1, 10]",
            )));
        }
        if !(1..=MAX_AUGMIX_WIDTH).contains(&self.mixture_width) {
            return Err(Error::Arg(ArgError::new(
                "mixture_width",
                self.mixture_width,
                "must lie in [1, MAX_AUGMIX_WIDTH]",
            )));
        }
        if self.chain_depth > MAX_AUGMIX_CHAIN_DEPTH {
            return Err(Error::Arg(ArgError::new(
                "chain_depth",
                self.chain_depth,
                "must be at most MAX_AUGMIX_CHAIN_DEPTH (or ≤ 0 for a random depth)",
            )));
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(Error::Arg(ArgError::new(
                "alpha",
                self.alpha,
                "must be positive and finite",
            )));
        }
        if let Some(fill) = self.fill
            && !(0.0..=1.0).contains(&fill)
        {
            return Err(Error::Arg(ArgError::new(
                "fill",
                fill,
                "must lie in [0, 1]",
            )));
        }
        Ok(())
    }
}

/// torchvision v2 `AugMix`: one mixed view per image.
///
/// A draw is logged as one [`DrawnParams::AugMix`] (the mixture's seed and this
/// configuration); [`AugMix::mixture`] expands it into the weights and
/// chains it stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AugMix {
    config: AugMixConfig,
}

/// One drawn mixture: the original's weight `m₀`, each chain's weight
/// `wᵢ` and each chain's ops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AugMixDraw {
    /// The weight of the original image (torchvision's `m[:, 0]`).
    pub original_weight: f32,
    /// The weight of each chain (torchvision's `combined_weights`).
    pub chain_weights: Vec<f32>,
    /// The ops of each chain, applied in order to the original image.
    pub chains: Vec<Vec<DrawnParams>>,
}

impl AugMix {
    /// AugMix with `config`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{AugMix, AugMixConfig};
    ///
    /// let augmix = AugMix::new(AugMixConfig::default())?;
    /// assert!(AugMix::new(AugMixConfig { severity: 11, ..Default::default() }).is_err());
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(config: AugMixConfig) -> Result<Self> {
        config.check()?;
        Ok(AugMix { config })
    }

    /// The configuration.
    pub fn config(&self) -> AugMixConfig {
        self.config
    }

    /// The mixture a [`DrawnParams::AugMix`] with `seed` stands for on an image
    /// of `dims`, drawn in torchvision's order: the Beta skip weight (as a
    /// two-way Dirichlet), the chain weights, then per chain its depth and
    /// per op the op, its bin and its sign. Dirichlet draws are normalised
    /// Gamma draws (Marsaglia & Tsang), equal to torchvision's in
    /// distribution.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{AugMix, ImageShape};
    ///
    /// let draw = AugMix::new(Default::default())?.mixture(7, ImageShape::new(3, 8, 8));
    /// let total: f32 = draw.original_weight + draw.chain_weights.iter().sum::<f32>();
    /// assert!((total - 1.0).abs() < 1e-5);
    /// assert!(draw.chains.iter().all(|c| (1..=3).contains(&c.len())));
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn mixture(&self, seed: u64, dims: ImageShape) -> AugMixDraw {
        let c = &self.config;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let m = dirichlet(&mut rng, c.alpha, 2);
        let (m0, m1) = (m[0] as f32, m[1] as f32);
        let chain_weights = dirichlet(&mut rng, c.alpha, c.mixture_width)
            .into_iter()
            .map(|w| w as f32 * m1)
            .collect();
        let space = space(c.all_ops);
        let chains = (0..c.mixture_width)
            .map(|_| {
                let depth = if c.chain_depth > 0 {
                    c.chain_depth as usize
                } else {
                    rng.random_range(1..4)
                };
                (0..depth)
                    .map(|_| {
                        let (op, bins, signed) = space[rng.random_range(0..space.len())];
                        let bin = |r: &mut ChaCha8Rng| r.random_range(0..c.severity as usize);
                        let m = signed_magnitude(&mut rng, bins, signed, bin, NUM_BINS, dims);
                        op.params(m, c.interpolation, c.fill)
                    })
                    .collect()
            })
            .collect();
        AugMixDraw {
            original_weight: m0,
            chain_weights,
            chains,
        }
    }
}

impl AugMixDraw {
    /// Mixes in place: `m₀·x + Σᵢ wᵢ·chainᵢ(x)` in f32, accumulated in
    /// torchvision's order, then clamped to `[0, 1]` (the weights sum to 1
    /// up to f32 rounding, which the clamp removes; torchvision's float path
    /// does not clamp). Allocates two image-sized buffers.
    ///
    /// Returns [`Error::ShapeMismatch`] if `img` is not `dims.len()` long
    /// or the chains and weights differ in number, and the error of
    /// [`DrawnParams::check`] for a chain op that does not fit `dims`; the image
    /// is then unchanged.
    pub fn apply(&self, dims: ImageShape, img: &mut [f32], scratch: &mut Vec<f32>) -> Result<()> {
        check_len("image", dims.len(), img.len())?;
        check_len("chains", self.chain_weights.len(), self.chains.len())?;
        for p in self.chains.iter().flatten() {
            if matches!(p, DrawnParams::AugMix { .. }) {
                return Err(Error::Arg(ArgError::new(
                    "chains",
                    "AugMix",
                    "cannot nest AugMix",
                )));
            }
            p.check(dims)?;
        }
        self.mix(dims, img, scratch);
        Ok(())
    }

    /// [`apply`](Self::apply) without the checks.
    pub(crate) fn mix(&self, dims: ImageShape, img: &mut [f32], scratch: &mut Vec<f32>) {
        let orig = img.to_vec();
        let mut aug = orig.clone();
        for (o, &x) in img.iter_mut().zip(&orig) {
            *o = self.original_weight * x;
        }
        for (chain, &w) in self.chains.iter().zip(&self.chain_weights) {
            aug.copy_from_slice(&orig);
            for p in chain {
                p.apply(dims, &mut aug, scratch);
            }
            for (o, &a) in img.iter_mut().zip(&aug) {
                *o += w * a;
            }
        }
        for o in img.iter_mut() {
            *o = o.clamp(0.0, 1.0);
        }
    }
}

impl ImageAugment for AugMix {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::AugMix(self.config))
    }

    fn draw(&self, ctx: OpCtx, _dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        emit(DrawnParams::AugMix {
            seed: ctx.rng().random(),
            config: self.config,
        })
    }
}

/// A Dirichlet(α, …, α) draw of `k` weights: normalised Gamma(α) draws, in
/// f64; all-zero Gammas (a tiny α underflowing) give equal weights.
fn dirichlet(rng: &mut ChaCha8Rng, alpha: f64, k: usize) -> Vec<f64> {
    let g: Vec<f64> = (0..k).map(|_| gamma(rng, alpha)).collect();
    let total: f64 = g.iter().sum();
    if total > 0.0 && total.is_finite() {
        g.into_iter().map(|x| x / total).collect()
    } else {
        vec![1.0 / k as f64; k]
    }
}

/// AugMix's op space in torchvision's order: `_PARTIAL_AUGMENTATION_SPACE`,
/// then (with `all_ops`) the four colour ops of `_AUGMENTATION_SPACE`.
fn space(all_ops: bool) -> &'static [SpaceEntry] {
    const THIRD_W: Bins = Bins::LinspaceWidth { mul: 1.0, div: 3.0 };
    const THIRD_H: Bins = Bins::LinspaceHeight { mul: 1.0, div: 3.0 };
    const ALL: [SpaceEntry; 13] = [
        (PolicyOp::ShearX, Bins::Linspace(0.3), true),
        (PolicyOp::ShearY, Bins::Linspace(0.3), true),
        (PolicyOp::TranslateX, THIRD_W, true),
        (PolicyOp::TranslateY, THIRD_H, true),
        (PolicyOp::Rotate, Bins::Linspace(30.0), true),
        (PolicyOp::Posterize, Bins::Posterize(4.0), false),
        (PolicyOp::Solarize, Bins::Descending, false),
        (PolicyOp::AutoContrast, Bins::None, false),
        (PolicyOp::Equalize, Bins::None, false),
        (PolicyOp::Brightness, Bins::Linspace(0.9), true),
        (PolicyOp::Color, Bins::Linspace(0.9), true),
        (PolicyOp::Contrast, Bins::Linspace(0.9), true),
        (PolicyOp::Sharpness, Bins::Linspace(0.9), true),
    ];
    if all_ops { &ALL } else { &ALL[..9] }
}

#[cfg(test)]
mod tests;
