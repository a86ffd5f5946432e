use super::*;
use crate::ArgError;
use crate::SampleKey;
use crate::image::replay;
use proptest::prelude::*;

/// A smooth colour gradient plus a deterministic texture of amplitude `tex`.
fn image(dims: ImageShape, tex: f32) -> Vec<f32> {
    let (h, w) = (dims.h as f32, dims.w as f32);
    (0..dims.len())
        .map(|i| {
            let (c, p) = (i / (dims.h * dims.w), i % (dims.h * dims.w));
            let (y, x) = ((p / dims.w) as f32, (p % dims.w) as f32);
            let smooth = 0.1 + 0.8 * (0.5 * x / w + 0.3 * y / h + 0.2 * c as f32 / 3.0);
            let noise = ((i as f32 * 12.9898).sin() * 43_758.547).fract();
            (smooth + tex * (noise - 0.5)).clamp(0.0, 1.0)
        })
        .collect()
}

fn mean_abs_error(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len() as f32
}

#[test]
fn quality_100_is_close_to_the_input() {
    for c in [1, 3] {
        let dims = ImageShape::new(c, 32, 32);
        let before = image(dims, 0.0);
        let mut img = before.clone();
        jpeg(dims, &mut img, 100).unwrap();
        let mae = mean_abs_error(&img, &before);
        assert!(mae < 0.01, "{c} channels: mean error {mae}");
        assert_ne!(img, before, "{c} channels: nothing was compressed");
    }
}

#[test]
fn lower_quality_loses_more() {
    for c in [1, 3] {
        let dims = ImageShape::new(c, 32, 32);
        let before = image(dims, 0.3);
        let errors: Vec<f32> = [95, 75, 40, 10, 1]
            .iter()
            .map(|&q| {
                let mut img = before.clone();
                jpeg(dims, &mut img, q).unwrap();
                mean_abs_error(&img, &before)
            })
            .collect();
        for pair in errors.windows(2) {
            assert!(
                pair[0] < pair[1],
                "{c} channels: errors by falling quality {errors:?}"
            );
        }
    }
}

#[test]
fn a_grey_rgb_image_compresses_like_its_grayscale_channel() {
    // R = G = B: no chroma, so the luma plane carries everything
    let grey = ImageShape::new(1, 16, 24);
    let one = image(grey, 0.2);
    let mut rgb: Vec<f32> = one.iter().chain(&one).chain(&one).copied().collect();
    let mut luma = one.clone();
    jpeg(ImageShape::new(3, 16, 24), &mut rgb, 60).unwrap();
    jpeg(grey, &mut luma, 60).unwrap();
    let worst = rgb[..one.len()]
        .iter()
        .zip(&luma)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= 2.0 / 255.0 + 1e-6, "{worst}");
}

#[test]
fn bad_input_gives_typed_errors() {
    let dims = ImageShape::new(3, 4, 4);
    let mut img = vec![0.5; dims.len()];
    for q in [0, 101, 255] {
        let err = jpeg(dims, &mut img, q).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Arg(ArgError {
                    name: "quality",
                    ..
                })
            ),
            "{err}"
        );
        assert!(DrawnParams::Jpeg { quality: q }.check(dims).is_err());
    }
    let err = jpeg(dims, &mut img[1..], 50).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch { .. }), "{err}");
    let tall = ImageShape::new(1, 70_000, 0);
    let err = jpeg(tall, &mut [], 50).unwrap_err();
    assert!(err.to_string().contains("65535"), "{err}");
    assert!(DrawnParams::Jpeg { quality: 50 }.check(tall).is_err());
    assert!(matches!(
        Jpeg::new(60, 40),
        Err(Error::Arg(ArgError {
            name: "quality",
            ..
        }))
    ));
    assert!(matches!(
        Jpeg::new(0, 40),
        Err(Error::Arg(ArgError { name: "lo", .. }))
    ));
    assert!(matches!(
        Jpeg::new(40, 101),
        Err(Error::Arg(ArgError { name: "hi", .. }))
    ));
    // an empty image is nothing to compress
    jpeg(ImageShape::new(3, 0, 5), &mut [], 50).unwrap();
}

#[test]
fn the_random_op_replays_from_its_logged_params() {
    let op = Jpeg::new(5, 95).unwrap();
    let dims = ImageShape::new(3, 12, 20);
    let before = image(dims, 0.2);
    let mut scratch = Vec::new();
    let key = SampleKey::new(42, 1, 7);
    let mut a = before.clone();
    op.apply(key, dims, &mut a, &mut scratch).unwrap();
    let mut b = before.clone();
    op.apply(key, dims, &mut b, &mut scratch).unwrap();
    assert_eq!(a, b, "same key, same output");
    let mut c = before.clone();
    replay(&op.params(key, dims), dims, &mut c, &mut scratch).unwrap();
    assert_eq!(a, c, "replayed params give the same output");
    let qualities: std::collections::HashSet<u8> = (0..64)
        .map(|i| match op.params(SampleKey::new(i, 0, 0), dims)[..] {
            [DrawnParams::Jpeg { quality }] => quality,
            ref other => panic!("{other:?}"),
        })
        .collect();
    assert!(qualities.len() > 20 && qualities.iter().all(|q| (5..=95).contains(q)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn keeps_shape_and_range_and_lands_on_8_bit_levels(
        c in 1usize..5, h in 1usize..20, w in 1usize..20, quality in 1u8..=100, tex in 0.0f32..1.0,
    ) {
        let dims = ImageShape::new(c, h, w);
        let mut img = image(dims, tex);
        jpeg(dims, &mut img, quality).unwrap();
        prop_assert_eq!(img.len(), dims.len());
        for &v in &img {
            prop_assert!((0.0..=1.0).contains(&v), "{}", v);
            prop_assert!(((v * 255.0).round() - v * 255.0).abs() < 1e-3, "{} is no 8-bit level", v);
        }
    }
}
