//! Generated datasets, deterministic for a given RNG state.
//!
//! Every generator takes its randomness through an explicit `&mut impl Rng`
//! (seed a `ChaCha8Rng` with `seed_from_u64` for a reproducible set) and
//! documents its generative process: [`make_moons`] (scikit-learn's),
//! [`make_spirals`], [`make_blobs`], [`make_teacher_student`] and
//! [`make_shapes`].

mod blobs;
mod moons;
mod shapes;
mod spirals;
mod teacher;

pub use blobs::{BlobsConfig, make_blobs};
pub use moons::{MoonsConfig, make_moons};
pub use shapes::{Shape, ShapeParams, ShapesConfig, make_shapes};
pub use spirals::{SpiralsConfig, make_spirals};
pub use teacher::{Teacher, TeacherConfig, TeacherStudent, make_teacher_student};

use rand::{Rng, RngExt};

/// One standard normal draw (Box–Muller; rand 0.10 has no normal
/// distribution without `rand_distr`).
pub(crate) fn normal(rng: &mut impl Rng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// `n` evenly spaced values from `a` to `b` inclusive (NumPy's `linspace`).
pub(crate) fn linspace(a: f64, b: f64, n: usize) -> impl Iterator<Item = f64> {
    let step = if n > 1 { (b - a) / (n - 1) as f64 } else { 0.0 };
    (0..n).map(move |i| a + step * i as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn normal_draws_have_unit_variance() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let xs: Vec<f64> = (0..20_000).map(|_| normal(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }

    #[test]
    fn linspace_matches_numpy() {
        assert_eq!(
            linspace(0.0, 1.0, 5).collect::<Vec<_>>(),
            [0.0, 0.25, 0.5, 0.75, 1.0]
        );
        assert_eq!(linspace(2.0, 3.0, 1).collect::<Vec<_>>(), [2.0]);
    }
}
