//! Pruners inside a study: they stop bad learning curves early, at the steps
//! their rules allow, and keep the best configuration.

use descent_hpo::{
    Error, HyperbandConfig, HyperbandPruner, MedianConfig, MedianPruner, NopPruner, Pruner, Study,
    StudyConfig, Trial, TrialState,
};

const EPOCHS: u64 = 27;

/// A learning curve: loss decays from 1 towards a floor set by `lr`'s distance
/// to 1e-2; steps used are counted in the trial's reports.
fn curve(t: &mut Trial<'_>) -> Result<f64, Error> {
    let lr = t.suggest_float_log("lr", 1e-4, 1.0)?;
    let floor = (lr.log10() + 2.0).abs();
    let mut loss = 1.0;
    for epoch in 0..EPOCHS {
        loss = floor + (1.0 - floor) * 0.8f64.powi(epoch as i32 + 1);
        t.report(epoch, loss);
        if t.should_prune() {
            break;
        }
    }
    Ok(loss)
}

fn run(pruner: impl Pruner + 'static) -> Study {
    let study = Study::new(StudyConfig {
        seed: 4,
        ..Default::default()
    })
    .with_pruner(pruner);
    study.optimize(curve, 60, 1).unwrap();
    study
}

fn steps(study: &Study) -> usize {
    study.trials().iter().map(|t| t.intermediate.len()).sum()
}

#[test]
fn the_median_pruner_saves_steps_and_keeps_the_best_trial() {
    let full = run(NopPruner);
    let pruned = run(MedianPruner::new(MedianConfig::default()).unwrap());
    assert_eq!(
        full.best_trial().unwrap().params,
        pruned.best_trial().unwrap().params
    );
    let n_pruned = pruned
        .trials()
        .iter()
        .filter(|t| t.state == TrialState::Pruned)
        .count();
    eprintln!(
        "median: {n_pruned} of 60 pruned, {} of {} steps",
        steps(&pruned),
        steps(&full)
    );
    assert!(n_pruned >= 20, "only {n_pruned} pruned");
    assert!(
        steps(&pruned) * 2 < steps(&full),
        "{} vs {}",
        steps(&pruned),
        steps(&full)
    );
}

#[test]
fn hyperband_prunes_only_at_the_rungs_of_each_trials_bracket() {
    let config = HyperbandConfig {
        max_resource: Some(EPOCHS),
        ..Default::default()
    };
    let study = run(HyperbandPruner::new(config).unwrap());
    let hb = HyperbandPruner::new(config).unwrap();
    let trials = study.trials();
    let mut pruned = 0;
    for t in trials.iter().filter(|t| t.state == TrialState::Pruned) {
        pruned += 1;
        let bracket = hb.bracket_of(t.number, 4).unwrap() as u32;
        // Rung k of bracket i is at step η^(i + k) (min_resource 1, η 3).
        let step = t.last_step().unwrap();
        assert!(
            (0..4).any(|k| 3u64.pow(bracket + k) == step),
            "trial {} stopped at {step} in bracket {bracket}",
            t.number
        );
    }
    eprintln!("hyperband: {pruned} of 60 pruned");
    assert!(pruned >= 10, "only {pruned} pruned");
    assert!(trials.iter().any(|t| t.state == TrialState::Complete));
}
