//! The playground's data: a 2-D set from its generator, rescaled into
//! `[-1, 1]²`, split into train and test points, with optional label noise
//! on the training points. Everything follows from the configuration and
//! the seed, so both runs of compare mode see the same points.

use crate::config::{DataConfig, DataKind};
use crate::{Error, Result};
use descent_data::{
    BlobsConfig, Dataset, InMemory, MoonsConfig, SpiralsConfig, make_blobs, make_moons,
    make_spirals,
};
use descent_train::seed::{self, Purpose};
use nalgebra::DMatrix;
use rand::seq::SliceRandom;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

/// One point as the page draws it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Point {
    /// First coordinate.
    pub x: f32,
    /// Second coordinate.
    pub y: f32,
    /// Its class (after label noise, for a training point).
    pub label: usize,
    /// Whether it is a test point.
    pub test: bool,
}

/// A session's data: train and test sets and the points to draw.
#[derive(Clone, Debug)]
pub struct PlayData {
    /// The training set.
    pub train: InMemory<f32>,
    /// The test set.
    pub test: InMemory<f32>,
    /// Classes.
    pub n_classes: usize,
    /// Every point, training points first.
    pub points: Vec<Point>,
}

impl PlayData {
    /// Training points.
    pub fn train_len(&self) -> usize {
        self.train.len()
    }
}

/// The decision boundary's plane: `[-VIEW, VIEW]²` (the points lie in `[-1, 1]²`).
pub const VIEW: f32 = 1.25;

/// Generates the data of `config` from `seed`.
///
/// # Examples
///
/// ```
/// use descent_playground::config::DataConfig;
/// use descent_playground::data::generate;
///
/// let d = generate(&DataConfig::default(), 0)?;
/// assert_eq!(d.points.len(), 400);
/// assert!(d.points.iter().all(|p| p.x.abs() <= 1.0 && p.y.abs() <= 1.0));
/// # Ok::<(), descent_playground::Error>(())
/// ```
pub fn generate(config: &DataConfig, seed: u64) -> Result<PlayData> {
    config.validate()?;
    let mut rng = seed::rng(seed, Purpose::Split);
    let n = config.n_points;
    let k = config.classes();
    let set: InMemory<f32> = match config.kind {
        DataKind::Moons => make_moons(
            &MoonsConfig {
                n_samples: n,
                noise: config.noise,
                shuffle: true,
            },
            &mut rng,
        )?,
        DataKind::Spirals => {
            // make_spirals draws `n_per_class` per arm; share `n` among the arms.
            let per = n / k;
            make_spirals(
                &SpiralsConfig {
                    n_per_class: per,
                    n_classes: k,
                    noise: config.noise,
                    ..SpiralsConfig::default()
                },
                &mut rng,
            )?
        }
        DataKind::Blobs => make_blobs(
            &BlobsConfig {
                n_samples: n,
                n_features: 2,
                n_centers: k,
                cluster_std: 0.5 + 10.0 * config.noise,
                center_box: (-10.0, 10.0),
            },
            &mut rng,
        )?,
        DataKind::Circles => circles(n, config.noise, &mut rng)?,
        DataKind::Xor => xor(n, config.noise, &mut rng)?,
    };
    let labels = set
        .class_labels()
        .ok_or_else(|| Error::invalid("data.kind", "the generator gave no class labels"))?
        .to_vec();
    let x = rescale(set.features());
    let n = labels.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    let n_test = ((n as f64) * config.test_fraction).round() as usize;
    let (test_idx, train_idx) = order.split_at(n_test.min(n));
    let mut train_labels: Vec<usize> = train_idx.iter().map(|&i| labels[i]).collect();
    if config.label_noise > 0.0 {
        for l in &mut train_labels {
            if rng.random::<f64>() < config.label_noise {
                // A different class, uniformly.
                let other = rng.random_range(0..k - 1);
                *l = if other >= *l { other + 1 } else { other };
            }
        }
    }
    let rows = |idx: &[usize]| DMatrix::from_fn(idx.len(), 2, |r, c| x[(idx[r], c)]);
    let train = InMemory::classification(rows(train_idx), train_labels.clone(), k)?;
    let test_labels: Vec<usize> = test_idx.iter().map(|&i| labels[i]).collect();
    let test = InMemory::classification(rows(test_idx), test_labels.clone(), k)?;
    let point = |i: usize, label: usize, test: bool| Point {
        x: x[(i, 0)],
        y: x[(i, 1)],
        label,
        test,
    };
    let points = train_idx
        .iter()
        .zip(&train_labels)
        .map(|(&i, &l)| point(i, l, false))
        .chain(
            test_idx
                .iter()
                .zip(&test_labels)
                .map(|(&i, &l)| point(i, l, true)),
        )
        .collect();
    debug_assert_eq!(train.len() + test.len(), n);
    Ok(PlayData {
        train,
        test,
        n_classes: k,
        points,
    })
}

/// Centres the points' bounding box on 0 and scales it so the larger
/// half-extent is 1 (the aspect is kept).
fn rescale(x: &DMatrix<f32>) -> DMatrix<f32> {
    let mut out = x.clone();
    let mut half = 0.0f32;
    let mut mid = [0.0f32; 2];
    for c in 0..2 {
        let col = x.column(c);
        let (lo, hi) = (col.min(), col.max());
        mid[c] = 0.5 * (lo + hi);
        half = half.max(0.5 * (hi - lo));
    }
    let scale = if half > 0.0 { 1.0 / half } else { 1.0 };
    for r in 0..x.nrows() {
        for c in 0..2 {
            out[(r, c)] = ((x[(r, c)] - mid[c]) * scale).clamp(-1.0, 1.0);
        }
    }
    out
}

fn normal(rng: &mut impl Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// scikit-learn's `make_circles` (factor 0.5): half the points on the unit
/// circle (class 0), the rest on the circle of radius 0.5 (class 1), evenly
/// spaced, then shuffled, then `N(0, noise²)` on each coordinate.
fn circles(n: usize, noise: f64, rng: &mut impl Rng) -> Result<InMemory<f32>> {
    let n_out = n / 2;
    let n_in = n - n_out;
    let ring = |m: usize, r: f64, label: usize| {
        (0..m).map(move |i| {
            let t = std::f64::consts::TAU * i as f64 / m as f64;
            ([r * t.cos(), r * t.sin()], label)
        })
    };
    let mut pts: Vec<([f64; 2], usize)> = ring(n_out, 1.0, 0).chain(ring(n_in, 0.5, 1)).collect();
    pts.shuffle(rng);
    for (p, _) in &mut pts {
        p[0] += noise * normal(rng);
        p[1] += noise * normal(rng);
    }
    to_set(&pts)
}

/// TensorFlow Playground's XOR: points uniform in `[-1, 1]²`, pushed 0.05
/// away from the axes, labelled by the sign of `x·y`, then `N(0, noise²)` on
/// each coordinate.
fn xor(n: usize, noise: f64, rng: &mut impl Rng) -> Result<InMemory<f32>> {
    let pts: Vec<([f64; 2], usize)> = (0..n)
        .map(|_| {
            let mut p = [0.0; 2];
            for v in &mut p {
                let u: f64 = rng.random_range(-1.0..1.0);
                *v = u + 0.05 * u.signum();
            }
            let label = usize::from(p[0] * p[1] < 0.0);
            p[0] += noise * normal(rng);
            p[1] += noise * normal(rng);
            (p, label)
        })
        .collect();
    to_set(&pts)
}

fn to_set(pts: &[([f64; 2], usize)]) -> Result<InMemory<f32>> {
    let x = DMatrix::from_fn(pts.len(), 2, |i, j| pts[i].0[j] as f32);
    Ok(InMemory::classification(
        x,
        pts.iter().map(|p| p.1).collect(),
        2,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_generates_its_classes_in_the_unit_square() {
        for kind in [
            DataKind::Moons,
            DataKind::Spirals,
            DataKind::Circles,
            DataKind::Xor,
            DataKind::Blobs,
        ] {
            let c = DataConfig {
                kind,
                n_classes: 3,
                ..DataConfig::default()
            };
            let d = generate(&c, 7).unwrap();
            assert_eq!(d.n_classes, c.classes());
            assert!(d.points.len() <= c.n_points && d.points.len() >= c.n_points - 3);
            for class in 0..d.n_classes {
                assert!(
                    d.points.iter().any(|p| p.label == class),
                    "{kind:?} {class}"
                );
            }
            assert!(
                d.points
                    .iter()
                    .all(|p| p.x.abs() <= 1.0 && p.y.abs() <= 1.0)
            );
            assert_eq!(d.train.len() + d.test.len(), d.points.len());
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_points() {
        let c = DataConfig::default();
        assert_eq!(
            generate(&c, 3).unwrap().points,
            generate(&c, 3).unwrap().points
        );
        assert_ne!(
            generate(&c, 3).unwrap().points,
            generate(&c, 4).unwrap().points
        );
    }

    #[test]
    fn label_noise_flips_about_its_fraction_of_training_labels_only() {
        let clean = generate(&DataConfig::default(), 1).unwrap();
        let noisy = generate(
            &DataConfig {
                label_noise: 0.3,
                ..DataConfig::default()
            },
            1,
        )
        .unwrap();
        let flipped = |test: bool| {
            clean
                .points
                .iter()
                .zip(&noisy.points)
                .filter(|(a, b)| a.test == test && a.label != b.label)
                .count()
        };
        assert_eq!(flipped(true), 0);
        let f = flipped(false) as f64 / clean.train.len() as f64;
        assert!((0.2..0.4).contains(&f), "{f}");
    }
}
