//! NSGA-II's front on ZDT1 reaches a hypervolume within 5 % of the true
//! front's. Small enough for a debug test run: ZDT1 in 3 variables,
//! population 20, 1500 trials, the median over seeds 0, 1 and 2 (the first
//! three, not chosen). Budget and threshold were fixed before the run; the
//! 5-variable, population-50 benchmark over 10 seeds against Optuna's
//! NSGAIISampler is `examples/nsga2_bench.rs`.

use descent_hpo::{
    Direction, Error, NsgaIIConfig, NsgaIISampler, Sampler, Study, StudyConfig, Trial, hypervolume,
};

const DIM: usize = 3;
/// The hypervolume of ZDT1's true front (f2 = 1 − sqrt(f1)) with reference point (1.1, 1.1).
const TRUE_HV: f64 = 0.1 + 2.0 / 3.0 + 0.11;

fn zdt1(t: &mut Trial<'_>) -> Result<[f64; 2], Error> {
    let mut xs = [0.0; DIM];
    for (i, x) in xs.iter_mut().enumerate() {
        *x = t.suggest_float(&format!("x{i}"), 0.0, 1.0)?;
    }
    let g = 1.0 + 9.0 * xs[1..].iter().sum::<f64>() / (DIM - 1) as f64;
    Ok([xs[0], g * (1.0 - (xs[0] / g).sqrt())])
}

fn front_hypervolume(seed: u64) -> f64 {
    let sampler = NsgaIISampler::new(NsgaIIConfig {
        population_size: 20,
        ..Default::default()
    })
    .unwrap();
    let study = Study::new(StudyConfig {
        directions: vec![Direction::Minimize; 2],
        ..Default::default()
    })
    .with_sampler(sampler.with_seed(seed));
    study.optimize(zdt1, 1500, 1).unwrap();
    let front: Vec<Vec<f64>> = study
        .best_trials()
        .unwrap()
        .into_iter()
        .map(|t| t.values)
        .filter(|v| v[0] <= 1.1 && v[1] <= 1.1)
        .collect();
    hypervolume(&front, &[1.1, 1.1]).unwrap()
}

#[test]
fn nsga2_front_on_zdt1_is_within_five_percent_of_the_true_hypervolume() {
    let mut hv: Vec<f64> = (0..3).map(front_hypervolume).collect();
    hv.sort_by(f64::total_cmp);
    let median = hv[1];
    assert!(hv.iter().all(|h| *h <= TRUE_HV + 1e-12), "{hv:?}");
    assert!(
        median >= 0.95 * TRUE_HV,
        "median hypervolume {median} < 95 % of {TRUE_HV} ({hv:?})"
    );
}
