//! Boxes and masks stay aligned with the image under every geometric op.

use super::*;
use crate::ArgError;
use crate::image::{
    Affine, BoxFormat, ColorJitter, ColorJitterConfig, Compose, ElasticTransform,
    ElasticTransformConfig, GaussianBlur, HorizontalFlip, Interpolation, PadMode, RandomCrop,
    RandomPerspective, VerticalFlip, apply_batch,
};
use proptest::prelude::*;

/// An image of `dims` with the rectangle `(top, left, rh, rw)` painted 1 on
/// 0 in every channel, the same rectangle as class 1 of a mask filled with
/// 255, and its box in `format`.
fn painted(
    dims: ImageShape,
    (top, left, rh, rw): (usize, usize, usize, usize),
    format: BoxFormat,
) -> Sample {
    let inside =
        |i: usize, j: usize| (top..top + rh).contains(&i) && (left..left + rw).contains(&j);
    let plane: Vec<(usize, usize)> = (0..dims.h)
        .flat_map(|i| (0..dims.w).map(move |j| (i, j)))
        .collect();
    let img: Vec<f32> = (0..dims.c)
        .flat_map(|_| {
            plane
                .iter()
                .map(|&(i, j)| if inside(i, j) { 1.0 } else { 0.0 })
        })
        .collect();
    let mask: Vec<u32> = plane
        .iter()
        .map(|&(i, j)| u32::from(inside(i, j)))
        .collect();
    let xyxy = [
        left as f64,
        top as f64,
        (left + rw) as f64,
        (top + rh) as f64,
    ];
    let boxes = Boxes::new(format, [dims.h, dims.w], vec![format.from_xyxy(xyxy)])
        .unwrap()
        .with_labels(vec![1])
        .unwrap();
    Sample::new(Image::new(dims, img).unwrap())
        .with_mask(Mask::new(dims.h, dims.w, mask).unwrap().with_fill(255))
        .unwrap()
        .with_boxes(boxes)
        .unwrap()
}

/// The pixels `(i, j)` of the first plane where `hit` holds.
fn region(dims: ImageShape, hit: impl Fn(usize) -> bool) -> Vec<(usize, usize)> {
    (0..dims.plane())
        .filter(|&k| hit(k))
        .map(|k| (k / dims.w, k % dims.w))
        .collect()
}

/// `[x1, y1, x2, y2]` enclosing a set of pixels.
fn enclosing(px: &[(usize, usize)]) -> Option<[f64; 4]> {
    let (i0, i1) = (px.iter().map(|p| p.0).min()?, px.iter().map(|p| p.0).max()?);
    let (j0, j1) = (px.iter().map(|p| p.1).min()?, px.iter().map(|p| p.1).max()?);
    Some([j0 as f64, i0 as f64, (j1 + 1) as f64, (i1 + 1) as f64])
}

/// The image's painted region (> ½), the mask's class-1 region and the box.
type Pixels = Vec<(usize, usize)>;

fn parts(s: &Sample) -> (Pixels, Pixels, [f64; 4]) {
    let dims = s.image().dims();
    let img = s.image().data();
    let mask = s.mask().unwrap().data();
    let b = s.boxes().unwrap();
    (
        region(dims, |k| img[k] > 0.5),
        region(dims, |k| mask[k] == 1),
        b.to_xyxy()[0],
    )
}

/// Under an axis-aligned op, the painted region, the mask region and the
/// box agree to a pixel on every edge.
fn assert_axis_aligned(s: &Sample, what: &str) -> Result<(), TestCaseError> {
    let (img, mask, b) = parts(s);
    let (bw, bh) = (b[2] - b[0], b[3] - b[1]);
    match enclosing(&mask) {
        None => prop_assert!(
            bw <= 1.0 + 1e-9 || bh <= 1.0 + 1e-9,
            "{what}: no mask, box {b:?}"
        ),
        Some(m) => {
            for k in 0..4 {
                prop_assert!(
                    (m[k] - b[k]).abs() <= 1.0 + 1e-9,
                    "{what}: mask {m:?} vs box {b:?}"
                );
            }
        }
    }
    match (enclosing(&img), enclosing(&mask)) {
        (Some(i), Some(m)) => {
            for k in 0..4 {
                prop_assert!(
                    (i[k] - m[k]).abs() <= 1.0 + 1e-9,
                    "{what}: image {i:?} vs mask {m:?}"
                );
            }
        }
        (None, None) => {}
        (i, m) => prop_assert!(
            bw <= 1.0 + 1e-9 || bh <= 1.0 + 1e-9,
            "{what}: image {i:?} vs mask {m:?}, box {b:?}"
        ),
    }
    Ok(())
}

/// Under a warp, the box (grown by `tol` pixels) encloses the centres of
/// the mask's and the image's painted pixels.
fn assert_enclosed(s: &Sample, tol: f64, what: &str) -> Result<(), TestCaseError> {
    let (img, mask, b) = parts(s);
    for (i, j) in img.iter().chain(&mask) {
        let (x, y) = (*j as f64 + 0.5, *i as f64 + 0.5);
        prop_assert!(
            x >= b[0] - tol && x <= b[2] + tol && y >= b[1] - tol && y <= b[3] + tol,
            "{what}: pixel ({i}, {j}) outside box {b:?}"
        );
    }
    Ok(())
}

/// With nearest interpolation the image's painted region is exactly the
/// mask's class region: both read the same source pixels.
fn assert_nearest_exact(s: &Sample, what: &str) -> Result<(), TestCaseError> {
    let (img, mask, _) = parts(s);
    prop_assert_eq!(img, mask, "{}", what);
    Ok(())
}

fn scene() -> impl Strategy<Value = (ImageShape, (usize, usize, usize, usize), BoxFormat)> {
    (prop_oneof![Just(1usize), Just(3)], 8usize..20, 8usize..20).prop_flat_map(|(c, h, w)| {
        let rect = (0..h - 3, 0..w - 3)
            .prop_flat_map(move |(t, l)| (Just(t), Just(l), 3..=h - t, 3..=w - l));
        let format = prop_oneof![
            Just(BoxFormat::Xyxy),
            Just(BoxFormat::Xywh),
            Just(BoxFormat::Cxcywh)
        ];
        (Just(ImageShape::new(c, h, w)), rect, format)
    })
}

fn interp(nearest: bool) -> Interpolation {
    if nearest {
        Interpolation::Nearest
    } else {
        Interpolation::Bilinear
    }
}

/// Axis-aligned ops: flips, padded crops, resized crops, translation + zoom.
fn axis_aligned(dims: ImageShape) -> impl Strategy<Value = DrawnParams> {
    let (h, w) = (dims.h, dims.w);
    prop_oneof![
        Just(DrawnParams::HFlip { flip: true }),
        Just(DrawnParams::VFlip { flip: true }),
        (0usize..5)
            .prop_flat_map(|pad| (0..=2 * pad, 0..=2 * pad, Just(pad)))
            .prop_map(|(top, left, pad)| {
                DrawnParams::Crop {
                    top,
                    left,
                    pad,
                    mode: PadMode::Constant(0.0),
                }
            }),
        (h / 2..=h, w / 2..=w)
            .prop_flat_map(move |(ch, cw)| (0..=h - ch, 0..=w - cw, Just(ch), Just(cw)))
            .prop_map(|(top, left, height, width)| DrawnParams::ResizedCrop {
                top,
                left,
                height,
                width
            }),
        (-4i32..=4, -4i32..=4, 0.7f32..1.4, any::<bool>()).prop_map(|(tx, ty, scale, nearest)| {
            DrawnParams::Affine(Affine {
                angle: 0.0,
                translate: [tx as f32, ty as f32],
                scale,
                shear: [0.0; 2],
                fill: Some(0.0),
                interpolation: interp(nearest),
                center: None,
            })
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn axis_aligned_ops_keep_image_mask_and_box_aligned(
        (dims, rect, format, p) in scene().prop_flat_map(|(d, r, f)| (Just(d), Just(r), Just(f), axis_aligned(d))),
    ) {
        let mut s = painted(dims, rect, format);
        s.replay(&[p], &mut Vec::new()).unwrap();
        assert_axis_aligned(&s, &format!("{p:?}"))?;
        prop_assert_eq!(s.boxes().unwrap().format(), format);
        let nearest = match p {
            DrawnParams::Affine(a) => a.interpolation == Interpolation::Nearest,
            DrawnParams::ResizedCrop { .. } => false,
            _ => true,
        };
        if nearest {
            assert_nearest_exact(&s, &format!("{p:?}"))?;
        }
    }

    #[test]
    fn warped_boxes_enclose_the_warped_mask_and_image(
        (dims, rect, format) in scene(),
        angle in -180.0f32..180.0, shear in (-20.0f32..20.0, -20.0f32..20.0), scale in 0.7f32..1.3,
        t in (-3i32..=3, -3i32..=3), nearest: bool, index in 0u64..1000, perspective: bool,
    ) {
        let p = if perspective {
            let op = RandomPerspective::new(0.5, 1.0, interp(nearest), 0.0).unwrap();
            op.params(SampleKey::new(3, 0, index), dims)[0]
        } else {
            DrawnParams::Affine(Affine {
                angle, translate: [t.0 as f32, t.1 as f32], scale, shear: [shear.0, shear.1], fill: Some(0.0),
                // every third draw turns about the top-left corner, as AutoAugment's shears do
                interpolation: interp(nearest), center: (index % 3 == 0).then_some([0.0, 0.0]),
            })
        };
        let mut s = painted(dims, rect, format);
        s.replay(&[p], &mut Vec::new()).unwrap();
        let tol = if perspective { 1.5 } else { 1.0 };
        assert_enclosed(&s, tol, &format!("{p:?}"))?;
        if nearest {
            assert_nearest_exact(&s, &format!("{p:?}"))?;
        }
    }

    #[test]
    fn elastic_masks_read_the_pixels_the_image_reads(
        (dims, rect, format) in scene(), seed: u64,
    ) {
        let p = DrawnParams::Elastic {
            alpha: [20.0, 20.0], sigma: [3.0, 3.0], seed, fill: 0.0, interpolation: Interpolation::Nearest,
        };
        let mut s = painted(dims, rect, format);
        s.replay(&[p], &mut Vec::new()).unwrap();
        assert_nearest_exact(&s, "elastic")?;
    }

    #[test]
    fn a_pipeline_moves_samples_as_it_moves_images_and_photometric_ops_leave_targets(
        (dims, rect, format) in scene(), index in 0u64..1000,
    ) {
        let key = SampleKey::new(9, 2, index);
        let jitter = ColorJitterConfig { brightness: 0.3, contrast: 0.3, ..Default::default() };
        let photometric = Compose::new(vec![
            Box::new(ColorJitter::new(jitter).unwrap()),
            Box::new(GaussianBlur::new([3, 3], (0.1, 1.0)).unwrap()),
        ]);
        let s0 = painted(dims, rect, format);
        let mut s = s0.clone();
        s.augment(&photometric, key, &mut Vec::new()).unwrap();
        prop_assert_eq!(s.mask(), s0.mask());
        prop_assert_eq!(s.boxes(), s0.boxes());

        // Integer shifts and flips: exact agreement after any composition.
        let pipeline = Compose::new(vec![
            Box::new(RandomCrop::new(3, PadMode::Constant(0.0)).unwrap()),
            Box::new(HorizontalFlip::new(0.5).unwrap()),
            Box::new(VerticalFlip::new(0.5).unwrap()),
            Box::new(ColorJitter::new(jitter).unwrap()),
        ]);
        let mut s = s0.clone();
        s.augment(&pipeline, key, &mut Vec::new()).unwrap();
        let mut alone = s0.image().data().to_vec();
        pipeline.apply(key, dims, &mut alone, &mut Vec::new()).unwrap();
        prop_assert_eq!(s.image().data(), &alone[..], "the image part is the plain pipeline");
        let (_, mask, b) = parts(&s);
        match enclosing(&mask) {
            Some(m) => prop_assert_eq!(m, b),
            None => prop_assert!(b[2] - b[0] == 0.0 || b[3] - b[1] == 0.0),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The image and its mask share one elastic field per sample: the
    /// result is bit for bit what the two separate paths give, each building
    /// its own field (`DrawnParams::apply` on the image,
    /// `DrawnParams::apply_mask` on the mask), through `Sample::replay` and
    /// `apply_batch_with_masks` alike.
    #[test]
    fn one_elastic_field_serves_image_and_mask_as_two_did(
        (dims, rect, format) in scene(), index in 0u64..1000, nearest: bool,
        alpha in (0.0f32..60.0, 0.0f32..60.0), sigma in (0.0f32..6.0, 0.0f32..6.0),
    ) {
        let config = ElasticTransformConfig {
            alpha: [alpha.0, alpha.1],
            sigma: [sigma.0, sigma.1],
            interpolation: interp(nearest),
            fill: 0.5,
        };
        let op = ElasticTransform::new(config).unwrap();
        let key = SampleKey::new(4, 1, index);
        let s0 = painted(dims, rect, format);

        // The separate paths: a field for the image, another for the mask.
        let params = op.params(key, dims);
        let mut image = s0.image().data().to_vec();
        let mut mask = s0.mask().unwrap().clone();
        for p in &params {
            p.apply(dims, &mut image, &mut Vec::new());
            p.apply_mask(&mut mask).unwrap();
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();

        let mut s = s0.clone();
        s.augment(&op, key, &mut Vec::new()).unwrap();
        prop_assert_eq!(bits(s.image().data()), bits(&image));
        prop_assert_eq!(s.mask().unwrap().data(), mask.data());

        let mut batch_image = s0.image().data().to_vec();
        let mut batch_mask = s0.mask().unwrap().data().to_vec();
        let batch = BatchConfig::new(4, 1).with_threads(1);
        apply_batch_with_masks(&op, dims, &mut batch_image, &mut batch_mask, 255, &[index as usize], &batch)
            .unwrap();
        prop_assert_eq!(bits(&batch_image), bits(&image));
        prop_assert_eq!(&batch_mask[..], mask.data());
    }
}

#[test]
fn batches_with_masks_give_apply_batchs_images_and_the_samples_masks() {
    let dims = ImageShape::new(3, 9, 11);
    let pipeline = Compose::new(vec![
        Box::new(RandomCrop::new(2, PadMode::Reflect).unwrap()),
        Box::new(HorizontalFlip::new(0.5).unwrap()),
        Box::new(RandomPerspective::new(0.4, 0.7, Interpolation::Bilinear, 0.0).unwrap()),
    ]);
    let indices = [4usize, 0, 7, 2];
    let config = BatchConfig::new(5, 1).with_threads(1);
    let samples: Vec<Sample> = (0..indices.len())
        .map(|k| painted(dims, (k, 1 + k, 4, 5), BoxFormat::Xyxy))
        .collect();
    let mut images: Vec<f32> = samples
        .iter()
        .flat_map(|s| s.image().data().to_vec())
        .collect();
    let mut masks: Vec<usize> = samples
        .iter()
        .flat_map(|s| {
            s.mask()
                .unwrap()
                .data()
                .iter()
                .map(|&v| v as usize)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut plain = images.clone();
    apply_batch_with_masks(
        &pipeline,
        dims,
        &mut images,
        &mut masks,
        255,
        &indices,
        &config,
    )
    .unwrap();
    apply_batch(&pipeline, dims, &mut plain, &indices, &config).unwrap();
    assert_eq!(images, plain);
    for (k, mut s) in samples.into_iter().enumerate() {
        let key = SampleKey::new(5, 1, indices[k] as u64);
        s.augment(&pipeline, key, &mut Vec::new()).unwrap();
        let want: Vec<usize> = s
            .mask()
            .unwrap()
            .data()
            .iter()
            .map(|&v| v as usize)
            .collect();
        assert_eq!(&masks[k * dims.plane()..(k + 1) * dims.plane()], &want[..]);
    }
    let err = apply_batch_with_masks(
        &pipeline,
        dims,
        &mut images,
        &mut masks[1..],
        255,
        &indices,
        &config,
    );
    assert!(matches!(
        err,
        Err(Error::Arg(ArgError { .. }) | Error::ShapeMismatch { .. })
    ));
}

#[test]
fn mismatched_targets_are_typed_errors() {
    let img = Image::new(ImageShape::new(1, 2, 3), vec![0.0f32; 6]).unwrap();
    let s = Sample::new(img);
    assert!(matches!(
        s.clone().with_mask(Mask::new(3, 2, vec![0; 6]).unwrap()),
        Err(Error::Arg(ArgError { .. }))
    ));
    let b = Boxes::new(BoxFormat::Xyxy, [3, 2], vec![]).unwrap();
    assert!(matches!(s.with_boxes(b), Err(Error::Arg(ArgError { .. }))));
}
