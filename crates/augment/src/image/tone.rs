//! Tone ops used by the RandAugment and TrivialAugment policies
//! (torchvision `solarize`, `posterize`, `autocontrast`, `equalize`,
//! `adjust_sharpness`, for float images in [0, 1]).

use super::{ImageShape, stash};

pub(crate) fn solarize(img: &mut [f32], threshold: f32) {
    for v in img {
        if *v >= threshold {
            *v = 1.0 - *v;
        }
    }
}

/// Quantizes to 8 bits, keeps the top `bits`, and scales back.
pub(crate) fn posterize(img: &mut [f32], bits: u8) {
    let mask = !((1u32 << (8 - bits.clamp(1, 8) as u32)) - 1) & 0xff;
    for v in img {
        let level = (*v * 255.0).round().clamp(0.0, 255.0) as u32;
        *v = (level & mask) as f32 / 255.0;
    }
}

pub(crate) fn autocontrast(dims: ImageShape, img: &mut [f32]) {
    if dims.plane() == 0 {
        return;
    }
    for plane in img.chunks_exact_mut(dims.plane()) {
        let lo = plane.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = plane.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        if hi > lo {
            let scale = 1.0 / (hi - lo);
            for v in plane {
                *v = ((*v - lo) * scale).clamp(0.0, 1.0);
            }
        }
    }
}

/// Per-channel histogram equalization over 256 levels (PIL's rule, as torchvision).
pub(crate) fn equalize(dims: ImageShape, img: &mut [f32]) {
    if dims.plane() == 0 {
        return;
    }
    for plane in img.chunks_exact_mut(dims.plane()) {
        let mut hist = [0usize; 256];
        let level = |v: f32| (v * 255.0).round().clamp(0.0, 255.0) as usize;
        for v in plane.iter() {
            hist[level(*v)] += 1;
        }
        let last = hist.iter().rposition(|&n| n > 0).map_or(0, |i| hist[i]);
        let step = (plane.len() - last) / 255;
        if step == 0 {
            continue;
        }
        let mut lut = [0f32; 256];
        let mut cum = step / 2;
        for (l, n) in hist.iter().enumerate() {
            lut[l] = ((cum / step).min(255)) as f32 / 255.0;
            cum += n;
        }
        for v in plane {
            *v = lut[level(*v)];
        }
    }
}

/// Blends with the image smoothed by `[[1,1,1],[1,5,1],[1,1,1]]/13`;
/// border pixels keep their value (torchvision).
pub(crate) fn sharpness(dims: ImageShape, img: &mut [f32], scratch: &mut Vec<f32>, factor: f32) {
    let (h, w) = (dims.h, dims.w);
    if h < 3 || w < 3 {
        return;
    }
    let src = stash(img, scratch);
    for (out, inp) in img.chunks_exact_mut(h * w).zip(src.chunks_exact(h * w)) {
        for y in 1..h - 1 {
            for x in 1..w - 1 {
                let mut s = 4.0 * inp[y * w + x];
                for dy in 0..3 {
                    for dx in 0..3 {
                        s += inp[(y + dy - 1) * w + x + dx - 1];
                    }
                }
                let blurred = s / 13.0;
                let v = inp[y * w + x];
                out[y * w + x] = (factor * v + (1.0 - factor) * blurred).clamp(0.0, 1.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::testutil::image;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn tone_ops_keep_range((dims, img) in image(), t in 0.0f32..=1.0, bits in 1u8..=8, f in 0.0f32..2.0) {
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

    #[test]
    fn solarize_inverts_above_the_threshold() {
        let mut x = vec![0.2, 0.6, 0.9];
        solarize(&mut x, 0.5);
        assert_eq!(x, [0.2, 1.0 - 0.6, 1.0 - 0.9]);
    }
}
