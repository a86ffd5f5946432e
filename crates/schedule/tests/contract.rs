//! The common suite, run once for every schedule in one table: `lrs(n)`
//! samples `lr`, values are finite and not negative, a serialized schedule
//! replays bit for bit, and a [`Stepper`] saved mid-run resumes exactly.

use descent_schedule::{
    ChainedScheduler, Change, ConstantLr, CosineAnnealingLr, CosineAnnealingWarmRestarts, CyclicLr,
    CyclicLrConfig, CyclicMode, ExponentialLr, LinearLr, ManualSchedule, MomentumSchedule,
    MultiStepLr, OneCycleLr, OneCycleLrConfig, PolynomialLr, Schedule, SequentialLr, StepLr,
    Stepper, Swalr, WarmupCosine,
};
use serde::{Serialize, de::DeserializeOwned};

const N: u64 = 300;

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Runs the suite on `s`; returns its name for the summary.
fn contract<S>(name: &'static str, s: S) -> &'static str
where
    S: Schedule + Serialize + DeserializeOwned + Clone,
{
    let lrs = s.lrs(N);
    let direct: Vec<f64> = (0..N).map(|t| s.lr(t)).collect();
    assert_eq!(bits(&lrs), bits(&direct), "{name}: lrs(n) differs from lr");
    for (t, lr) in lrs.iter().enumerate() {
        assert!(lr.is_finite() && *lr >= 0.0, "{name}: lr({t}) = {lr}");
    }

    let json = serde_json::to_string(&s).unwrap();
    let back: S = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}: {e}\n{json}"));
    assert_eq!(
        bits(&back.lrs(N)),
        bits(&lrs),
        "{name}: serde changed the schedule"
    );

    let mut run = Stepper::new(s.clone());
    let mut first = vec![run.lr()];
    first.extend((0..N / 2).map(|_| run.advance()));
    let saved = serde_json::to_string(&run).unwrap();
    let mut resumed: Stepper<S> = serde_json::from_str(&saved).unwrap();
    let rest: Vec<f64> = (N / 2..N - 1).map(|_| resumed.advance()).collect();
    first.extend(rest);
    assert_eq!(bits(&first), bits(&lrs), "{name}: resumed run diverged");
    name
}

fn momentum_contract<S: MomentumSchedule>(name: &str, s: &S) {
    let m = s
        .momentums(N)
        .unwrap_or_else(|| panic!("{name}: no momentum"));
    assert!(m.iter().all(|x| x.is_finite()), "{name}");
}

#[test]
fn every_schedule_passes_the_common_suite() {
    let one_cycle = OneCycleLr::new(0.1, N, OneCycleLrConfig::default()).unwrap();
    let cyclic = CyclicLr::new(
        0.01,
        0.1,
        CyclicLrConfig {
            step_size_up: 7,
            mode: CyclicMode::ExpRange,
            gamma: 0.99,
            ..Default::default()
        },
    )
    .unwrap();
    momentum_contract("OneCycleLr", &one_cycle);
    momentum_contract("CyclicLr", &cyclic);
    let mut manual = ManualSchedule::new(CosineAnnealingLr::new(0.1, 200, 0.0).unwrap());
    manual.push(40, Change::Multiplier(0.5)).unwrap();
    manual.scale_at(90, 0.3).unwrap();
    manual.push(150, Change::Lr(0.004)).unwrap();

    let checked = [
        contract("StepLr", StepLr::new(0.1, 7, 0.5).unwrap()),
        contract(
            "MultiStepLr",
            MultiStepLr::new(0.1, vec![5, 12, 12, 40], 0.3).unwrap(),
        ),
        contract("ExponentialLr", ExponentialLr::new(0.1, 0.97).unwrap()),
        contract(
            "CosineAnnealingLr",
            CosineAnnealingLr::new(0.1, 25, 1e-3).unwrap(),
        ),
        contract(
            "CosineAnnealingWarmRestarts",
            CosineAnnealingWarmRestarts::new(0.1, 3, 3, 0.0).unwrap(),
        ),
        contract("LinearLr", LinearLr::new(0.1, 0.25, 1.0, 8).unwrap()),
        contract("ConstantLr", ConstantLr::new(0.1, 0.5, 6).unwrap()),
        contract("PolynomialLr", PolynomialLr::new(0.1, 20, 2.0).unwrap()),
        contract("OneCycleLr", one_cycle),
        contract("CyclicLr", cyclic),
        contract(
            "SequentialLr",
            SequentialLr::new(
                vec![
                    ExponentialLr::new(0.1, 1.0).unwrap(),
                    ExponentialLr::new(0.1, 0.9).unwrap(),
                ],
                vec![10],
            )
            .unwrap(),
        ),
        contract(
            "ChainedScheduler",
            ChainedScheduler::new(
                0.1,
                vec![
                    StepLr::new(1.0, 5, 0.5).unwrap(),
                    StepLr::new(1.0, 3, 0.9).unwrap(),
                ],
            )
            .unwrap(),
        ),
        contract(
            "WarmupCosine",
            WarmupCosine::new(0.1, 10, 200)
                .unwrap()
                .with_eta_min(1e-4)
                .unwrap(),
        ),
        contract(
            "Swalr",
            Swalr::new(0.1, 0.02, 15, descent_schedule::AnnealStrategy::Cos).unwrap(),
        ),
        contract("ManualSchedule", manual),
        contract("f64", 0.1),
    ];
    println!(
        "{} schedules passed the common suite: {checked:?}",
        checked.len()
    );
}
