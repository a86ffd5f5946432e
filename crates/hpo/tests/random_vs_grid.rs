//! Bergstra & Bengio (2012): when only one of two hyperparameters matters,
//! random search beats grid search at the same budget, because a 3 × 3 grid
//! tries only 3 values of the important one and random search tries 9.

use descent_hpo::{Error, GridSampler, ParamValue, RandomSampler, Study, StudyConfig};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const BUDGET: usize = 9;

/// Best value found on `f(x, y) = (x − x*)²`, where `y` does not matter.
fn best(study: Study, x_star: f64) -> f64 {
    study
        .optimize(
            |t| {
                let x = t.suggest_float("x", 0.0, 1.0)?;
                let _y = t.suggest_float("y", 0.0, 1.0)?;
                Ok::<_, Error>((x - x_star).powi(2))
            },
            BUDGET,
            1,
        )
        .unwrap();
    assert_eq!(study.trials().len(), BUDGET);
    study.best_trial().unwrap().value.unwrap()
}

#[test]
fn random_search_beats_grid_search_when_one_of_two_hyperparameters_matters() {
    // The grid puts its 3 values per axis at the centres of thirds, its best layout.
    let axis: Vec<ParamValue> = [1.0 / 6.0, 0.5, 5.0 / 6.0].map(ParamValue::Float).to_vec();
    let mut random_wins = 0;
    for seed in 0..100u64 {
        let x_star = ChaCha8Rng::seed_from_u64(1000 + seed).random::<f64>();
        let grid = GridSampler::new([("x", axis.clone()), ("y", axis.clone())]).unwrap();
        let grid_best = best(
            Study::new(StudyConfig::default()).with_sampler(grid),
            x_star,
        );
        let config = StudyConfig {
            seed,
            ..Default::default()
        };
        let random_best = best(
            Study::new(config).with_sampler(RandomSampler::new()),
            x_star,
        );
        random_wins += usize::from(random_best < grid_best);
    }
    eprintln!("random search won {random_wins} of 100 seeds");
    assert!(
        random_wins >= 60,
        "random search won only {random_wins} of 100 seeds"
    );
}
