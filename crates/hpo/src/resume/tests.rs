use super::*;
use crate::{
    Direction, JournalStorage, RdbConfig, RdbStorage, StudyConfig, SuccessiveHalvingConfig,
    SuccessiveHalvingPruner, Trial,
};
use std::path::PathBuf;

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("descent-hpo-resume-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn asha(eta: u64) -> SuccessiveHalvingPruner {
    SuccessiveHalvingPruner::new(SuccessiveHalvingConfig {
        reduction_factor: eta,
        ..Default::default()
    })
    .unwrap()
}

/// A deterministic "model": `x ← x − lr·(x − 1)` per step, loss `(x − 1)²`,
/// its state checkpointed to `dir/trial-<n>.bin` after every step.
/// Trains to `max_step`, pausing when the pruner says stop.
fn objective(
    study: &Study,
    mut trial: Trial<'_>,
    dir: &std::path::Path,
    max_step: u64,
) -> FrozenTrial {
    let lr = trial.suggest_float("lr", 0.0, 1.0).unwrap();
    let (mut x, mut step) = match trial.checkpoint() {
        Some(c) => {
            let bytes = std::fs::read(&c.path).unwrap();
            (f64::from_le_bytes(bytes.try_into().unwrap()), c.step)
        }
        None => (5.0, 0),
    };
    while step < max_step {
        x -= lr * (x - 1.0);
        step += 1;
        let path = dir.join(format!("trial-{}.bin", trial.number()));
        std::fs::write(&path, x.to_le_bytes()).unwrap();
        trial
            .set_checkpoint(path.display().to_string(), step)
            .unwrap();
        trial.report(step, (x - 1.0).powi(2));
        if trial.should_prune() {
            return study.pause(trial).unwrap();
        }
    }
    study
        .tell(trial, Ok::<_, Error>((x - 1.0).powi(2)))
        .unwrap()
}

fn enqueue_lr(study: &Study, lr: f64) -> Trial<'_> {
    let mut t = study.ask().unwrap();
    t.frozen
        .attrs
        .insert("fixed_params".into(), serde_json::json!({ "lr": lr }));
    t
}

#[test]
fn a_promoted_trial_continues_from_its_checkpoint_exactly_as_if_never_paused() {
    let dir = temp_dir("promote");
    let study = Study::new(StudyConfig::default()).with_pruner(asha(2));
    // Rung 0 is step 1. Trial 0 is alone there; trials 1..=3 are worse
    // than the top half of what the rung holds when they arrive.
    for lr in [0.6, 0.4, 0.3, 0.2] {
        let t = enqueue_lr(&study, lr);
        objective(&study, t, &dir, 8);
    }
    let paused: Vec<u64> = study.paused_trials().iter().map(|t| t.number).collect();
    assert_eq!(paused, [1, 2, 3]);
    // Rung 0 holds 4 values now; its top half is trials 0 and 1.
    let promotable: Vec<u64> = study.promotable_trials().iter().map(|t| t.number).collect();
    assert_eq!(promotable, [1]);
    let resumed = study.resume_trial(1).unwrap();
    assert_eq!(resumed.number(), 4);
    assert_eq!(resumed.resumed_from(), Some(1));
    assert_eq!(resumed.checkpoint().unwrap().step, 1);
    let done = objective(&study, resumed, &dir, 8);
    assert!(study.paused_trials().iter().all(|t| t.number != 1));
    assert!(matches!(
        study.resume_trial(1),
        Err(Error::NotPaused { number: 1 })
    ));

    // It trained on from step 1 to rung 1 (step 2), where trial 0 is
    // better: ASHA pauses it again.
    assert_eq!(done.last_step(), Some(2));
    assert!(done.is_paused());
    // The same trial never paused reports the same values, bit for bit.
    let straight = Study::new(StudyConfig::default());
    let t = enqueue_lr(&straight, 0.4);
    let reference = objective(&straight, t, &dir, 8);
    assert_eq!(done.params, reference.params);
    let bits = |t: &FrozenTrial| -> Vec<(u64, u64)> {
        t.intermediate
            .iter()
            .map(|(s, v)| (*s, v.to_bits()))
            .collect()
    };
    assert_eq!(bits(&done)[..], bits(&reference)[..2]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn paused_trials_survive_a_restart_of_the_study_from_its_journal() {
    let dir = temp_dir("journal");
    let journal = dir.join("study.jsonl");
    survives_a_restart(&dir, &|| {
        Study::new(StudyConfig::default())
            .with_pruner(asha(2))
            .with_storage(JournalStorage::open(&journal).unwrap())
            .unwrap()
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn paused_trials_survive_a_restart_of_the_study_from_sqlite() {
    let dir = temp_dir("sqlite");
    let url = format!("sqlite:///{}", dir.join("study.db").display());
    survives_a_restart(&dir, &|| {
        let storage =
            RdbStorage::open(&url, "pbt", Direction::Minimize, RdbConfig::default()).unwrap();
        Study::new(StudyConfig::default())
            .with_pruner(asha(2))
            .with_storage(storage)
            .unwrap()
    });
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Four trials pause or finish, the study is reopened from its storage,
/// the first paused trial resumes and is paused again at rung 1, and the
/// reopened study knows it.
fn survives_a_restart(dir: &std::path::Path, open: &dyn Fn() -> Study) {
    {
        let study = open();
        for lr in [0.6, 0.4, 0.3, 0.2] {
            let t = enqueue_lr(&study, lr);
            objective(&study, t, dir, 4);
        }
    }
    let study = open();
    assert_eq!(study.paused_trials().len(), 3);
    let first = study.paused_trials()[0].clone();
    assert_eq!(first.checkpoint().unwrap().step, 1);
    assert!(first.is_paused());
    let resumed = study.resume_trial(first.number).unwrap();
    let done = objective(&study, resumed, dir, 4);
    assert_eq!((done.number, done.last_step()), (4, Some(2)));
    drop(study);
    let study = open();
    let paused: Vec<u64> = study.paused_trials().iter().map(|t| t.number).collect();
    assert_eq!(
        paused,
        [2, 3, 4],
        "trial 1 was resumed (as 4, paused again at rung 1)"
    );
    let last = study.trials().pop().unwrap();
    assert_eq!(last.resumed_from(), Some(first.number));
    assert_eq!(last.checkpoint().unwrap().step, 2);
}

#[test]
fn pausing_needs_a_checkpoint_and_resuming_a_paused_trial() {
    let study = Study::new(StudyConfig::default());
    let trial = study.ask().unwrap();
    assert!(matches!(
        study.pause(trial),
        Err(Error::NoCheckpoint { number: 0 })
    ));
    let mut done = study.ask().unwrap();
    done.report(0, 1.0);
    study.tell(done, Ok::<_, Error>(1.0)).unwrap();
    assert!(matches!(
        study.resume_trial(1),
        Err(Error::NotPaused { number: 1 })
    ));
    assert!(matches!(
        study.resume_trial(9),
        Err(Error::NotPaused { number: 9 })
    ));
}
