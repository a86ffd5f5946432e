//! AutoAugment (Cubuk et al. 2019, "AutoAugment: Learning Augmentation
//! Strategies from Data") exact to torchvision v2's `AutoAugment`: its
//! ImageNet, CIFAR-10 and SVHN policies (25 sub-policies of two
//! `(op, probability, magnitude bin)` steps each), 10 magnitude bins per op,
//! a random sign for signed ops, nearest or bilinear resampling and an
//! optional fill.

use super::op::{Bins, PolicyOp};
use crate::ArgError;
use crate::image::spec::OpSpec;
use crate::image::{DrawnParams, ImageAugment, ImageShape, Interpolation};
use crate::{Error, OpCtx, Result};
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// The number of magnitude bins of AutoAugment's op space (torchvision's
/// `magnitudes_fn(10, height, width)`).
pub const AUTOAUGMENT_NUM_BINS: usize = 10;

/// One step of a sub-policy: apply `op` with `probability` at magnitude bin
/// `magnitude_bin` (`None` for ops without a magnitude), torchvision's
/// `(transform_id, probability, magnitude_idx)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SubPolicyStep {
    /// The op.
    pub op: PolicyOp,
    /// The probability of applying it (compared as `torch.rand(()) <= p`).
    pub probability: f32,
    /// The bin of its magnitude, in `0..10`.
    pub magnitude_bin: Option<u8>,
}

/// Which learned policy (torchvision `AutoAugmentPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutoAugmentPolicy {
    /// `AutoAugmentPolicy.IMAGENET` (the default).
    #[default]
    ImageNet,
    /// `AutoAugmentPolicy.CIFAR10`.
    Cifar10,
    /// `AutoAugmentPolicy.SVHN`.
    Svhn,
}

impl AutoAugmentPolicy {
    /// The policy's sub-policies, in torchvision's order.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{AutoAugmentPolicy, PolicyOp};
    ///
    /// let first = AutoAugmentPolicy::ImageNet.sub_policies()[0];
    /// assert_eq!((first[0].op, first[0].probability, first[0].magnitude_bin), (PolicyOp::Posterize, 0.4, Some(8)));
    /// assert_eq!(AutoAugmentPolicy::Svhn.sub_policies().len(), 25);
    /// ```
    pub fn sub_policies(self) -> &'static [[SubPolicyStep; 2]] {
        match self {
            AutoAugmentPolicy::ImageNet => &IMAGENET,
            AutoAugmentPolicy::Cifar10 => &CIFAR10,
            AutoAugmentPolicy::Svhn => &SVHN,
        }
    }
}

/// The configuration of [`AutoAugment`]; `Default` is torchvision's
/// (ImageNet policy, nearest, `fill=None`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AutoAugmentConfig {
    /// The policy.
    pub policy: AutoAugmentPolicy,
    /// Resampling of the geometric ops (torchvision's default: nearest).
    #[serde(default = "nearest")]
    pub interpolation: Interpolation,
    /// Fill of the geometric ops, in `[0, 1]`; `None` (torchvision's
    /// default) reads outside pixels as 0 without blending.
    #[serde(default)]
    pub fill: Option<f32>,
}

fn nearest() -> Interpolation {
    Interpolation::Nearest
}

impl Default for AutoAugmentConfig {
    fn default() -> Self {
        AutoAugmentConfig {
            policy: AutoAugmentPolicy::ImageNet,
            interpolation: Interpolation::Nearest,
            fill: None,
        }
    }
}

/// The random choices of one AutoAugment application: which sub-policy,
/// which of its two steps were applied, and which applied signed ops were
/// negated. [`AutoAugment::choose`] draws one; [`AutoAugment::params_for`]
/// turns any (also one written by hand) into the ops it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AutoAugmentDraw {
    /// Index into [`AutoAugmentPolicy::sub_policies`].
    pub sub_policy: usize,
    /// Whether each step was applied.
    pub applied: [bool; 2],
    /// Whether each step's magnitude was negated (signed ops only).
    pub negated: [bool; 2],
}

/// torchvision v2 `AutoAugment`: one sub-policy drawn uniformly per image,
/// each of its two steps applied with its probability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutoAugment {
    config: AutoAugmentConfig,
}

impl AutoAugment {
    /// AutoAugment with `config`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{AutoAugment, AutoAugmentConfig, AutoAugmentPolicy};
    ///
    /// let cifar = AutoAugment::new(AutoAugmentConfig { policy: AutoAugmentPolicy::Cifar10, ..Default::default() })?;
    /// assert!(AutoAugment::new(AutoAugmentConfig { fill: Some(2.0), ..Default::default() }).is_err());
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(config: AutoAugmentConfig) -> Result<Self> {
        if let Some(fill) = config.fill
            && !(0.0..=1.0).contains(&fill)
        {
            return Err(Error::Arg(ArgError::new(
                "fill",
                fill,
                "must lie in [0, 1]",
            )));
        }
        Ok(AutoAugment { config })
    }

    /// The configuration.
    pub fn config(&self) -> AutoAugmentConfig {
        self.config
    }

    /// Draws the random choices for one image, in torchvision's order: the
    /// sub-policy (`torch.randint`), then per step `rand() <= probability`
    /// and, for an applied signed op, `rand() <= 0.5` for its sign.
    pub fn choose(&self, ctx: OpCtx) -> AutoAugmentDraw {
        let table = self.config.policy.sub_policies();
        let mut rng = ctx.rng();
        let mut draw = AutoAugmentDraw {
            sub_policy: rng.random_range(0..table.len()),
            ..Default::default()
        };
        for (i, step) in table[draw.sub_policy].iter().enumerate() {
            draw.applied[i] = rng.random::<f32>() <= step.probability;
            let (bins, signed) = space(step.op);
            if draw.applied[i] && signed && bins != Bins::None && step.magnitude_bin.is_some() {
                draw.negated[i] = rng.random::<f32>() <= 0.5;
            }
        }
        draw
    }

    /// The ops `draw` applies to an image of `dims`, in order.
    ///
    /// Returns [`Error::Arg`] if `draw.sub_policy` is not an
    /// index of the policy.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{AutoAugment, AutoAugmentDraw, ImageShape, DrawnParams};
    ///
    /// let policy = AutoAugment::new(Default::default())?;
    /// // ImageNet's sub-policy 2 is (Equalize, 0.8), (Equalize, 0.6).
    /// let draw = AutoAugmentDraw { sub_policy: 2, applied: [true, false], negated: [false; 2] };
    /// assert_eq!(policy.params_for(&draw, ImageShape::new(3, 8, 8))?, [DrawnParams::Equalize]);
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn params_for(&self, draw: &AutoAugmentDraw, dims: ImageShape) -> Result<Vec<DrawnParams>> {
        let table = self.config.policy.sub_policies();
        let Some(sub) = table.get(draw.sub_policy) else {
            return Err(Error::Arg(ArgError::new(
                "sub_policy",
                draw.sub_policy,
                "is not an index of the policy's sub-policies",
            )));
        };
        Ok(self.sub_policy_params(sub, draw, dims).collect())
    }

    fn sub_policy_params<'a>(
        &'a self,
        sub: &'a [SubPolicyStep; 2],
        draw: &'a AutoAugmentDraw,
        dims: ImageShape,
    ) -> impl Iterator<Item = DrawnParams> + 'a {
        let c = self.config;
        (0..2).filter(|&i| draw.applied[i]).map(move |i| {
            let step = sub[i];
            let (bins, signed) = space(step.op);
            let magnitude = step
                .magnitude_bin
                .and_then(|bin| bins.at(bin as usize, AUTOAUGMENT_NUM_BINS, dims))
                .unwrap_or(0.0);
            let magnitude = if signed && draw.negated[i] {
                -magnitude
            } else {
                magnitude
            };
            step.op.params(magnitude, c.interpolation, c.fill)
        })
    }
}

impl ImageAugment for AutoAugment {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::AutoAugment(self.config))
    }

    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        let draw = self.choose(ctx);
        let sub = &self.config.policy.sub_policies()[draw.sub_policy];
        for p in self.sub_policy_params(sub, &draw, dims) {
            emit(p)
        }
    }
}

/// AutoAugment's op space (torchvision's `AutoAugment._AUGMENTATION_SPACE`):
/// each op's magnitudes and whether it takes a random sign.
fn space(op: PolicyOp) -> (Bins, bool) {
    match op {
        PolicyOp::ShearX | PolicyOp::ShearY => (Bins::Linspace(0.3), true),
        PolicyOp::TranslateX => (
            Bins::LinspaceWidth {
                mul: 150.0 / 331.0,
                div: 1.0,
            },
            true,
        ),
        PolicyOp::TranslateY => (
            Bins::LinspaceHeight {
                mul: 150.0 / 331.0,
                div: 1.0,
            },
            true,
        ),
        PolicyOp::Rotate => (Bins::Linspace(30.0), true),
        PolicyOp::Brightness | PolicyOp::Color | PolicyOp::Contrast | PolicyOp::Sharpness => {
            (Bins::Linspace(0.9), true)
        }
        PolicyOp::Posterize => (Bins::Posterize(8.0), false),
        PolicyOp::Solarize => (Bins::Descending, false),
        PolicyOp::AutoContrast | PolicyOp::Equalize | PolicyOp::Invert | PolicyOp::Identity => {
            (Bins::None, false)
        }
    }
}

const fn step(op: PolicyOp, probability: f32, magnitude_bin: Option<u8>) -> SubPolicyStep {
    SubPolicyStep {
        op,
        probability,
        magnitude_bin,
    }
}

use PolicyOp::{
    AutoContrast, Brightness, Color, Contrast, Equalize, Invert, Posterize, Rotate, Sharpness,
    ShearX, ShearY, Solarize, TranslateX, TranslateY,
};

const IMAGENET: [[SubPolicyStep; 2]; 25] = [
    [step(Posterize, 0.4, Some(8)), step(Rotate, 0.6, Some(9))],
    [step(Solarize, 0.6, Some(5)), step(AutoContrast, 0.6, None)],
    [step(Equalize, 0.8, None), step(Equalize, 0.6, None)],
    [step(Posterize, 0.6, Some(7)), step(Posterize, 0.6, Some(6))],
    [step(Equalize, 0.4, None), step(Solarize, 0.2, Some(4))],
    [step(Equalize, 0.4, None), step(Rotate, 0.8, Some(8))],
    [step(Solarize, 0.6, Some(3)), step(Equalize, 0.6, None)],
    [step(Posterize, 0.8, Some(5)), step(Equalize, 1.0, None)],
    [step(Rotate, 0.2, Some(3)), step(Solarize, 0.6, Some(8))],
    [step(Equalize, 0.6, None), step(Posterize, 0.4, Some(6))],
    [step(Rotate, 0.8, Some(8)), step(Color, 0.4, Some(0))],
    [step(Rotate, 0.4, Some(9)), step(Equalize, 0.6, None)],
    [step(Equalize, 0.0, None), step(Equalize, 0.8, None)],
    [step(Invert, 0.6, None), step(Equalize, 1.0, None)],
    [step(Color, 0.6, Some(4)), step(Contrast, 1.0, Some(8))],
    [step(Rotate, 0.8, Some(8)), step(Color, 1.0, Some(2))],
    [step(Color, 0.8, Some(8)), step(Solarize, 0.8, Some(7))],
    [step(Sharpness, 0.4, Some(7)), step(Invert, 0.6, None)],
    [step(ShearX, 0.6, Some(5)), step(Equalize, 1.0, None)],
    [step(Color, 0.4, Some(0)), step(Equalize, 0.6, None)],
    [step(Equalize, 0.4, None), step(Solarize, 0.2, Some(4))],
    [step(Solarize, 0.6, Some(5)), step(AutoContrast, 0.6, None)],
    [step(Invert, 0.6, None), step(Equalize, 1.0, None)],
    [step(Color, 0.6, Some(4)), step(Contrast, 1.0, Some(8))],
    [step(Equalize, 0.8, None), step(Equalize, 0.6, None)],
];

const CIFAR10: [[SubPolicyStep; 2]; 25] = [
    [step(Invert, 0.1, None), step(Contrast, 0.2, Some(6))],
    [step(Rotate, 0.7, Some(2)), step(TranslateX, 0.3, Some(9))],
    [step(Sharpness, 0.8, Some(1)), step(Sharpness, 0.9, Some(3))],
    [step(ShearY, 0.5, Some(8)), step(TranslateY, 0.7, Some(9))],
    [step(AutoContrast, 0.5, None), step(Equalize, 0.9, None)],
    [step(ShearY, 0.2, Some(7)), step(Posterize, 0.3, Some(7))],
    [step(Color, 0.4, Some(3)), step(Brightness, 0.6, Some(7))],
    [
        step(Sharpness, 0.3, Some(9)),
        step(Brightness, 0.7, Some(9)),
    ],
    [step(Equalize, 0.6, None), step(Equalize, 0.5, None)],
    [step(Contrast, 0.6, Some(7)), step(Sharpness, 0.6, Some(5))],
    [step(Color, 0.7, Some(7)), step(TranslateX, 0.5, Some(8))],
    [step(Equalize, 0.3, None), step(AutoContrast, 0.4, None)],
    [
        step(TranslateY, 0.4, Some(3)),
        step(Sharpness, 0.2, Some(6)),
    ],
    [step(Brightness, 0.9, Some(6)), step(Color, 0.2, Some(8))],
    [step(Solarize, 0.5, Some(2)), step(Invert, 0.0, None)],
    [step(Equalize, 0.2, None), step(AutoContrast, 0.6, None)],
    [step(Equalize, 0.2, None), step(Equalize, 0.6, None)],
    [step(Color, 0.9, Some(9)), step(Equalize, 0.6, None)],
    [step(AutoContrast, 0.8, None), step(Solarize, 0.2, Some(8))],
    [step(Brightness, 0.1, Some(3)), step(Color, 0.7, Some(0))],
    [step(Solarize, 0.4, Some(5)), step(AutoContrast, 0.9, None)],
    [
        step(TranslateY, 0.9, Some(9)),
        step(TranslateY, 0.7, Some(9)),
    ],
    [step(AutoContrast, 0.9, None), step(Solarize, 0.8, Some(3))],
    [step(Equalize, 0.8, None), step(Invert, 0.1, None)],
    [
        step(TranslateY, 0.7, Some(9)),
        step(AutoContrast, 0.9, None),
    ],
];

const SVHN: [[SubPolicyStep; 2]; 25] = [
    [step(ShearX, 0.9, Some(4)), step(Invert, 0.2, None)],
    [step(ShearY, 0.9, Some(8)), step(Invert, 0.7, None)],
    [step(Equalize, 0.6, None), step(Solarize, 0.6, Some(6))],
    [step(Invert, 0.9, None), step(Equalize, 0.6, None)],
    [step(Equalize, 0.6, None), step(Rotate, 0.9, Some(3))],
    [step(ShearX, 0.9, Some(4)), step(AutoContrast, 0.8, None)],
    [step(ShearY, 0.9, Some(8)), step(Invert, 0.4, None)],
    [step(ShearY, 0.9, Some(5)), step(Solarize, 0.2, Some(6))],
    [step(Invert, 0.9, None), step(AutoContrast, 0.8, None)],
    [step(Equalize, 0.6, None), step(Rotate, 0.9, Some(3))],
    [step(ShearX, 0.9, Some(4)), step(Solarize, 0.3, Some(3))],
    [step(ShearY, 0.8, Some(8)), step(Invert, 0.7, None)],
    [step(Equalize, 0.9, None), step(TranslateY, 0.6, Some(6))],
    [step(Invert, 0.9, None), step(Equalize, 0.6, None)],
    [step(Contrast, 0.3, Some(3)), step(Rotate, 0.8, Some(4))],
    [step(Invert, 0.8, None), step(TranslateY, 0.0, Some(2))],
    [step(ShearY, 0.7, Some(6)), step(Solarize, 0.4, Some(8))],
    [step(Invert, 0.6, None), step(Rotate, 0.8, Some(4))],
    [step(ShearY, 0.3, Some(7)), step(TranslateX, 0.9, Some(3))],
    [step(ShearX, 0.1, Some(6)), step(Invert, 0.6, None)],
    [step(Solarize, 0.7, Some(2)), step(TranslateY, 0.6, Some(7))],
    [step(ShearY, 0.8, Some(4)), step(Invert, 0.8, None)],
    [step(ShearX, 0.7, Some(9)), step(TranslateY, 0.8, Some(3))],
    [step(ShearY, 0.8, Some(5)), step(AutoContrast, 0.7, None)],
    [step(ShearX, 0.7, Some(2)), step(Invert, 0.1, None)],
];

#[cfg(test)]
mod tests;
