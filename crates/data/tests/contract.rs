//! The contract every `Dataset` keeps, checked over a table of this crate's
//! datasets and wrappers (the optimizer and schedule contract tables'
//! counterpart):
//! - schema: `gather` writes `N × n_features` features, the schema's image
//!   shape, and labels below `n_classes` (or `N × dim` targets, or one
//!   `H × W` class map per sample below `n_classes` or the ignore index),
//!   and records the indices it gathered;
//! - gather: row `r` is sample `indices[r]` in any order, with repeats, the
//!   same as gathering that sample alone, into a fresh batch or over a
//!   stale one of another size (every feature is written);
//! - errors: an index out of range is refused at the boundary that takes
//!   indices (`Subset::new`, `InMemory::select`) with `IndexOutOfRange`.

use descent_data::{
    Batch, Dataset, Error, ImageShape, InMemory, MoonsConfig, Normalize, Normalized, Relabeled,
    ShapesConfig, ShuffledPixels, Subset, TargetKind, TeacherConfig, make_moons, make_shapes,
    make_teacher_student,
};
use nalgebra::DMatrix;
use proptest::collection::vec;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Every dataset of the table, by name.
fn datasets() -> Vec<(&'static str, Box<dyn Dataset<f64>>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let moons: InMemory<f64> = make_moons(
        &MoonsConfig {
            n_samples: 20,
            ..MoonsConfig::default()
        },
        &mut rng,
    )
    .unwrap();
    let shapes: InMemory<f64> = make_shapes(
        &ShapesConfig {
            n_samples: 12,
            size: 8,
        },
        &mut rng,
    )
    .unwrap();
    let teacher = make_teacher_student::<f64>(&TeacherConfig::default(), &mut rng)
        .unwrap()
        .data;
    let norm = Normalize::fit(&shapes).unwrap();
    // segmentation: each 2 × 3 image's class map, with an ignored pixel
    let seg_features = DMatrix::from_fn(5, 6, |i, j| (i * 6 + j) as f64);
    let seg_maps = (0..30)
        .map(|k| if k % 7 == 3 { 255 } else { k % 3 })
        .collect();
    let seg = InMemory::segmentation(
        seg_features,
        ImageShape::new(1, 2, 3),
        seg_maps,
        3,
        Some(255),
    )
    .unwrap();
    vec![
        ("segmentation (class maps)", Box::new(seg)),
        ("moons", Box::new(moons.clone())),
        ("shapes (images)", Box::new(shapes.clone())),
        ("teacher-student (regression)", Box::new(teacher)),
        (
            "Subset",
            Box::new(Subset::new(moons.clone(), vec![3, 1, 4, 1, 5, 9]).unwrap()),
        ),
        (
            "Relabeled",
            Box::new(Relabeled::random(moons.clone(), &mut rng).unwrap()),
        ),
        (
            "ShuffledPixels::fixed",
            Box::new(ShuffledPixels::fixed(shapes.clone(), &mut rng)),
        ),
        (
            "ShuffledPixels::per_sample",
            Box::new(ShuffledPixels::per_sample(shapes.clone(), &mut rng)),
        ),
        (
            "Normalized",
            Box::new(Normalized::new(shapes, norm).unwrap()),
        ),
    ]
}

/// Checks `batch` against the schema of `d` for `indices`.
fn check_schema(name: &str, d: &dyn Dataset<f64>, indices: &[usize], batch: &Batch<f64>) {
    let schema = d.schema();
    let n = indices.len();
    assert_eq!(
        batch.features.shape(),
        (n, schema.n_features),
        "{name}: features"
    );
    assert_eq!(batch.image, schema.image, "{name}: image shape");
    assert_eq!(batch.indices, indices, "{name}: indices");
    match schema.targets {
        TargetKind::Classes { n_classes } => {
            assert_eq!(batch.labels.len(), n, "{name}: labels");
            assert!(
                batch.labels.iter().all(|&l| l < n_classes),
                "{name}: label range"
            );
        }
        TargetKind::Values { dim } => {
            assert_eq!(batch.targets.shape(), (n, dim), "{name}: targets");
        }
        TargetKind::PixelClasses { n_classes } => {
            let plane = schema.image.map_or(0, |s| s.h * s.w);
            assert_eq!(batch.class_maps.len(), n * plane, "{name}: class maps");
            assert!(
                batch.class_maps.iter().all(|&l| l < n_classes || l == 255),
                "{name}: class-map label range"
            );
        }
    }
    assert!(
        batch.features.iter().all(|v| v.is_finite()),
        "{name}: finite features"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn every_dataset_keeps_the_contract(picks in vec(any::<prop::sample::Index>(), 1..12)) {
        for (name, d) in datasets() {
            let len = d.len();
            prop_assert!(len > 0, "{}", name);
            let indices: Vec<usize> = picks.iter().map(|p| p.index(len)).collect();
            let fresh = d.batch(&indices);
            check_schema(name, &*d, &indices, &fresh);
            // Over a stale batch of another size: the same contents.
            let mut stale = d.batch(&[len - 1, 0, len - 1, 0, len - 1, 0, len - 1, 0, len - 1, 0, len - 1, 0, 0]);
            stale.features.fill(f64::NAN);
            d.gather(&indices, &mut stale);
            prop_assert!(stale == fresh, "{}: a reused batch differs from a fresh one", name);
            // Row r is sample indices[r], gathered alone.
            for (r, &i) in indices.iter().enumerate() {
                let one = d.batch(&[i]);
                prop_assert!(one.features.row(0) == fresh.features.row(r), "{}: row {}", name, r);
                if !one.labels.is_empty() {
                    prop_assert_eq!(one.labels[0], fresh.labels[r], "{}: label {}", name, r);
                }
                if !one.class_maps.is_empty() {
                    let plane = one.class_maps.len();
                    prop_assert!(
                        one.class_maps[..] == fresh.class_maps[r * plane..(r + 1) * plane],
                        "{}: class map {}", name, r
                    );
                }
                if one.targets.ncols() > 0 {
                    prop_assert!(one.targets.row(0) == fresh.targets.row(r), "{}: target {}", name, r);
                }
            }
        }
    }
}

#[test]
fn an_index_out_of_range_is_refused_at_the_boundary() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let moons: InMemory<f64> = make_moons(
        &MoonsConfig {
            n_samples: 6,
            ..MoonsConfig::default()
        },
        &mut rng,
    )
    .unwrap();
    assert!(matches!(
        Subset::new(moons.clone(), vec![0, 6]),
        Err(Error::IndexOutOfRange { index: 6, len: 6 })
    ));
    assert!(matches!(
        moons.select(&[7]),
        Err(Error::IndexOutOfRange { index: 7, len: 6 })
    ));
}
