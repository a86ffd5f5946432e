//! Tone ops used by the RandAugment and TrivialAugment policies
//! (torchvision `solarize`, `posterize`, `autocontrast`, `equalize`,
//! `adjust_sharpness`, for float images in [0, 1]).

use super::grid::clamp;
use super::spec::OpSpec;
use super::{DrawnParams, ImageAugment, ImageShape, stash};
use crate::ArgError;
use crate::error::check_prob;
use crate::{Error, OpCtx, Result};
use descent_core::Scalar;
use rand::RngExt;

/// torchvision `solarize`: `1 − x` where `x ≥ threshold`.
pub(crate) fn solarize<T: Scalar>(img: &mut [T], threshold: f64) {
    let (t, one) = (T::cast(threshold), T::cast(1.0));
    for v in img {
        if *v >= t {
            *v = one - *v;
        }
    }
}

/// torchvision `invert`: `1 − x`.
pub(crate) fn invert<T: Scalar>(img: &mut [T]) {
    let one = T::cast(1.0);
    for v in img {
        *v = one - *v;
    }
}

/// torchvision's float `posterize`: `floor(x·2^bits)` clamped to
/// `[0, 2^bits − 1]`, times `2^−bits`.
pub(crate) fn posterize<T: Scalar>(img: &mut [T], bits: u8) {
    let levels = (1u32 << bits.min(8)) as f64;
    let (l, top, inv) = (
        T::cast(levels),
        T::cast(levels - 1.0),
        T::cast(1.0 / levels),
    );
    let zero = T::cast(0.0);
    for v in img {
        *v = clamp((*v * l).floor(), zero, top) * inv;
    }
}

/// torchvision's uint8 `posterize`: keep the top `bits` bits.
pub(crate) fn posterize_u8(img: &mut [u8], bits: u8) {
    if bits >= 8 {
        return;
    }
    let mask = (((1u32 << bits) - 1) << (8 - bits)) as u8;
    for v in img {
        *v &= mask;
    }
}

/// torchvision `autocontrast`: per channel `(x − min)/(max − min)` clamped
/// to `[0, 1]`; a constant channel is only clamped.
pub(crate) fn autocontrast<T: Scalar>(dims: ImageShape, img: &mut [T]) {
    if dims.plane() == 0 {
        return;
    }
    let (zero, one) = (T::cast(0.0), T::cast(1.0));
    for plane in img.chunks_exact_mut(dims.plane()) {
        let mut lo = plane[0];
        let mut hi = plane[0];
        for &v in plane.iter() {
            if v < lo {
                lo = v;
            }
            if v > hi {
                hi = v;
            }
        }
        let (lo, range) = if hi == lo { (zero, one) } else { (lo, hi - lo) };
        for v in plane {
            *v = clamp((*v - lo) / range, zero, one);
        }
    }
}

/// torchvision's float → uint8 conversion (`to_dtype(…, scale=True)`):
/// `trunc(x·(255 + 1 − 1e-3))`, saturated to `0..=255`.
pub(crate) fn to_u8<T: Scalar>(v: T) -> u8 {
    let x = (v * T::cast(255.0 + 1.0 - 1e-3)).as_f64();
    if x.is_nan() {
        0
    } else {
        x.clamp(0.0, 255.0) as u8
    }
}

/// torchvision's uint8 → float conversion: `x · (1/255)`.
pub(crate) fn from_u8<T: Scalar>(v: u8) -> T {
    T::cast(v as f64) * T::cast(1.0 / 255.0)
}

/// PIL's (and torchvision's) equalization lookup table of one channel, or
/// `None` when the channel is returned unchanged (`step == 0`).
fn equalize_lut(plane: &[u8]) -> Option<[u8; 256]> {
    let mut hist = [0usize; 256];
    for &v in plane {
        hist[v as usize] += 1;
    }
    let last = hist.iter().rposition(|&n| n > 0).map_or(0, |i| hist[i]);
    let step = (plane.len() - last) / 255;
    if step == 0 {
        return None;
    }
    let mut lut = [0u8; 256];
    let mut cum = 0usize;
    for k in 1..256 {
        cum += hist[k - 1];
        lut[k] = ((cum + step / 2) / step).min(255) as u8;
    }
    Some(lut)
}

/// torchvision's uint8 `equalize`, per channel.
pub(crate) fn equalize_u8(dims: ImageShape, img: &mut [u8]) {
    if dims.plane() == 0 {
        return;
    }
    for plane in img.chunks_exact_mut(dims.plane()) {
        if let Some(lut) = equalize_lut(plane) {
            for v in plane {
                *v = lut[*v as usize];
            }
        }
    }
}

/// torchvision's float `equalize`: to uint8 ([`to_u8`]), equalize, back
/// ([`from_u8`]). A channel left unchanged by the uint8 rule still goes
/// through the 8-bit round trip, as in torchvision.
pub(crate) fn equalize<T: Scalar>(dims: ImageShape, img: &mut [T]) {
    if dims.plane() == 0 {
        return;
    }
    let mut levels = vec![0u8; dims.plane()];
    for plane in img.chunks_exact_mut(dims.plane()) {
        for (l, v) in levels.iter_mut().zip(plane.iter()) {
            *l = to_u8(*v);
        }
        let lut = equalize_lut(&levels);
        for (v, &l) in plane.iter_mut().zip(&levels) {
            *v = from_u8(lut.map_or(l, |lut| lut[l as usize]));
        }
    }
}

/// torchvision `adjust_sharpness`: interior pixels become
/// `x + (1 − f)·(blur − x)` with the 3×3 kernel `[[1,1,1],[1,5,1],[1,1,1]]/13`
/// (valid convolution); border pixels keep their value; clamped to `[0, 1]`.
pub(crate) fn sharpness<T: Scalar>(
    dims: ImageShape,
    img: &mut [T],
    scratch: &mut Vec<T>,
    factor: f64,
) {
    let (h, w) = (dims.h, dims.w);
    if h < 3 || w < 3 {
        return;
    }
    let (a, b) = (T::cast(1.0 / 13.0), T::cast(5.0 / 13.0));
    let alpha = T::cast(1.0 - factor);
    let (zero, one) = (T::cast(0.0), T::cast(1.0));
    let src = stash(img, scratch);
    for (out, inp) in img.chunks_exact_mut(h * w).zip(src.chunks_exact(h * w)) {
        for y in 1..h - 1 {
            for x in 1..w - 1 {
                let mut blurred = zero;
                for dy in 0..3 {
                    for dx in 0..3 {
                        let k = if dy == 1 && dx == 1 { b } else { a };
                        blurred += inp[(y + dy - 1) * w + x + dx - 1] * k;
                    }
                }
                let v = inp[y * w + x];
                out[y * w + x] = v + alpha * (blurred - v);
            }
        }
        for v in out.iter_mut() {
            *v = clamp(*v, zero, one);
        }
    }
}

/// Emits `params` with probability `p`, else [`DrawnParams::Identity`].
fn gated(ctx: OpCtx, p: f64, params: DrawnParams, emit: &mut dyn FnMut(DrawnParams)) {
    emit(if ctx.rng().random_bool(p) {
        params
    } else {
        DrawnParams::Identity
    })
}

macro_rules! gated_op {
    ($(#[$doc:meta])* $name:ident { $($field:ident: $ty:ty),* } => $params:expr, $spec:expr, $check:expr, $example:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $name {
            $($field: $ty,)*
            p: f64,
        }

        impl $name {
            #[doc = concat!("`", stringify!($name), "` applied with probability `p`.")]
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use descent_augment::image::", stringify!($name), ";")]
            ///
            #[doc = concat!("let op = ", $example, "?;")]
            /// # Ok::<(), descent_augment::Error>(())
            /// ```
            pub fn new($($field: $ty,)* p: f64) -> Result<Self> {
                check_prob("p", p)?;
                #[allow(clippy::redundant_closure_call)]
                ($check)($($field),*)?;
                Ok($name { $($field,)* p })
            }
        }

        impl ImageAugment for $name {
            fn spec(&self) -> Option<OpSpec> {
                let $name { $($field,)* p } = *self;
                #[allow(clippy::redundant_closure_call)]
                Some(($spec)($($field,)* p))
            }

            fn draw(&self, ctx: OpCtx, _dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
                let $name { $($field,)* p } = *self;
                gated(ctx, p, $params, emit)
            }
        }
    };
}

gated_op!(
    /// torchvision `RandomInvert` (default `p = 0.5`): `1 − x`.
    RandomInvert {} => DrawnParams::Invert, |p| OpSpec::RandomInvert { p }, || Ok::<(), Error>(()), "RandomInvert::new(0.5)"
);
gated_op!(
    /// torchvision `RandomPosterize(bits, p = 0.5)`: torchvision's float rule.
    RandomPosterize { bits: u8 } => DrawnParams::Posterize { bits }, |bits, p| OpSpec::RandomPosterize { bits, p },
    |bits: u8| if bits <= 8 { Ok(()) } else { Err(Error::Arg(ArgError::new("bits", bits, "must lie in 0..=8"))) },
    "RandomPosterize::new(4, 0.5)"
);
gated_op!(
    /// torchvision `RandomSolarize(threshold, p = 0.5)`: `1 − x` where `x ≥ threshold`.
    RandomSolarize { threshold: f32 } => DrawnParams::Solarize { threshold }, |threshold, p| OpSpec::RandomSolarize { threshold, p },
    |t: f32| if (0.0..=1.0).contains(&t) { Ok(()) } else { Err(Error::Arg(ArgError::new("threshold", t, "must lie in [0, 1]"))) },
    "RandomSolarize::new(0.5, 0.5)"
);
gated_op!(
    /// torchvision `RandomEqualize` (default `p = 0.5`), float rule.
    RandomEqualize {} => DrawnParams::Equalize, |p| OpSpec::RandomEqualize { p }, || Ok::<(), Error>(()), "RandomEqualize::new(0.5)"
);
gated_op!(
    /// torchvision `RandomAutocontrast` (default `p = 0.5`).
    RandomAutocontrast {} => DrawnParams::AutoContrast, |p| OpSpec::RandomAutocontrast { p }, || Ok::<(), Error>(()), "RandomAutocontrast::new(0.5)"
);
gated_op!(
    /// torchvision `RandomAdjustSharpness(sharpness_factor, p = 0.5)`.
    RandomAdjustSharpness { factor: f32 } => DrawnParams::Sharpness { factor }, |factor, p| OpSpec::RandomAdjustSharpness { sharpness_factor: factor, p },
    |f: f32| if f.is_finite() && f >= 0.0 { Ok(()) } else { Err(Error::Arg(ArgError::new("sharpness_factor", f, "must be finite and non-negative"))) },
    "RandomAdjustSharpness::new(2.0, 0.5)"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::testutil::image;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn tone_ops_keep_range((dims, img) in image(), t in 0.0f64..=1.0, bits in 1u8..=8, f in 0.0f64..2.0) {
            let mut scratch = Vec::new();
            let mut x = img.clone();
            solarize(&mut x, t);
            posterize(&mut x, bits);
            autocontrast(dims, &mut x);
            equalize(dims, &mut x);
            sharpness(dims, &mut x, &mut scratch, f);
            prop_assert_eq!(x.len(), img.len());
            prop_assert!(x.iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn random_tone_ops_keep_shape_and_range_and_replay((dims, img) in image(), index in 0u64..100) {
            use crate::image::testutil::check_in_range;
            let ops: Vec<Box<dyn ImageAugment>> = vec![
                Box::new(RandomInvert::new(0.5).unwrap()),
                Box::new(RandomPosterize::new(3, 0.5).unwrap()),
                Box::new(RandomSolarize::new(0.4, 0.5).unwrap()),
                Box::new(RandomEqualize::new(0.5).unwrap()),
                Box::new(RandomAutocontrast::new(0.5).unwrap()),
                Box::new(RandomAdjustSharpness::new(1.7, 0.5).unwrap()),
            ];
            for op in &ops {
                let a = check_in_range(op.as_ref(), dims, &img, index);
                let b = check_in_range(op.as_ref(), dims, &img, index);
                prop_assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn random_tone_ops_reject_bad_arguments() {
        assert!(RandomInvert::new(1.5).is_err());
        assert!(RandomPosterize::new(9, 0.5).is_err());
        assert!(RandomSolarize::new(1.5, 0.5).is_err());
        assert!(RandomAdjustSharpness::new(-1.0, 0.5).is_err());
    }

    #[test]
    fn float_posterize_keeps_the_lower_edge_of_each_level() {
        let mut x = vec![0.0f64, 0.24, 0.25, 0.99, 1.0];
        posterize(&mut x, 2);
        assert_eq!(x, [0.0, 0.0, 0.25, 0.75, 0.75]);
    }

    #[test]
    fn float_equalize_quantizes_as_torchvision() {
        // to uint8 truncates x·255.999: 0.5 → 127, back 127/255.
        let dims = ImageShape::new(1, 1, 2);
        let mut x = vec![0.5f64, 0.5];
        equalize(dims, &mut x);
        assert_eq!(x, [127.0 * (1.0 / 255.0); 2]);
    }

    #[test]
    fn solarize_inverts_above_the_threshold() {
        let mut x = vec![0.2, 0.6, 0.9];
        solarize(&mut x, 0.5);
        assert_eq!(x, [0.2, 1.0 - 0.6, 1.0 - 0.9]);
    }
}
