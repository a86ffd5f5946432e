//! descent-hpo on real trainers (the `hpo` feature): a trial paused at a
//! checkpoint and resumed through the study's API trains on bit-identical
//! to a trial never paused, and population-based training of trainers is
//! deterministic whatever the thread count.
#![cfg(feature = "hpo")]

mod support;

use descent_core::Direction;
use descent_hpo::{Distribution, Mutation, Pbt, PbtConfig, Study, StudyConfig, Trial};
use descent_nn::Sequential;
use descent_optim::transform::Hyper;
use descent_train::pbt::{PbtScore, TrainerMember};
use descent_train::{Control, Data, EpochMetrics, TrainConfig, Trainer};
use support::*;

fn config(epochs: u64) -> TrainConfig {
    quiet(TrainConfig {
        epochs,
        batch_size: 32,
        seed: 5,
        ..TrainConfig::default()
    })
}

/// The trainer of a trial: its learning rate and weight decay drawn by the trial.
fn trial_trainer(trial: &mut Trial<'_>, epochs: u64) -> Trainer<f32, Sequential<f32>> {
    let lr = trial.suggest_float_log("lr", 1e-3, 1e-1).unwrap();
    let wd = trial.suggest_float("weight_decay", 0.0, 0.1).unwrap();
    let mut t = trainer::<f32>(config(epochs));
    t.optimizer_mut().set_hyperparam(0, Hyper::Lr, lr).unwrap();
    t.optimizer_mut()
        .set_hyperparam(0, Hyper::WeightDecay, wd)
        .unwrap();
    t
}

fn report_epochs(trial: &mut Trial<'_>, epochs: &[EpochMetrics]) {
    for m in epochs {
        trial.report(m.epoch, m.validation.as_ref().unwrap().loss);
    }
}

#[test]
fn a_paused_and_resumed_trial_trains_on_bit_identical_to_one_never_paused() {
    let data = digits_subset::<f32>(360);
    let train = data.select(&(0..280).collect::<Vec<_>>()).unwrap();
    let val = data.select(&(280..360).collect::<Vec<_>>()).unwrap();
    let d = Data::train(&train).with_validation(&val);
    let dir = scratch("hpo-pause");
    let study = Study::new(StudyConfig {
        seed: 3,
        ..Default::default()
    });

    // Trial 0 trains two of its four epochs, checkpoints and pauses.
    let mut trial = study.ask().unwrap();
    let mut first = trial_trainer(&mut trial, 4).with_callback(|m: &EpochMetrics| {
        if m.epoch == 1 {
            Control::Stop
        } else {
            Control::Continue
        }
    });
    let h = first.fit(d).unwrap();
    assert_eq!(h.epochs.len(), 2);
    report_epochs(&mut trial, &h.epochs);
    let path = dir.join("trial-0.safetensors");
    first.save_checkpoint(&path).unwrap();
    trial.set_checkpoint(path.display().to_string(), 2).unwrap();
    let paused = study.pause(trial).unwrap();
    assert!(paused.is_paused());
    drop(first);

    // Resumed through the study: same parameters, the checkpoint to load.
    let mut resumed = study.resume_trial(0).unwrap();
    let checkpoint = resumed.checkpoint().unwrap();
    assert_eq!(checkpoint.step, 2);
    let mut second = trial_trainer(&mut resumed, 4);
    second.load_checkpoint(&checkpoint.path).unwrap();
    let h = second.fit(d).unwrap();
    assert_eq!(h.epochs.len(), 4);
    report_epochs(&mut resumed, &h.epochs[2..]);
    let loss = h.epochs[3].validation.as_ref().unwrap().loss;
    let done = study
        .tell(resumed, Ok::<_, descent_hpo::Error>(loss))
        .unwrap();
    assert_eq!(done.resumed_from(), Some(0));

    // The same configuration, never paused.
    let straight = Study::new(StudyConfig {
        seed: 3,
        ..Default::default()
    });
    let mut trial = straight.ask().unwrap();
    let mut whole = trial_trainer(&mut trial, 4);
    assert_eq!(trial.params(), &done.params);
    let h = whole.fit(d).unwrap();
    report_epochs(&mut trial, &h.epochs);
    let loss = h.epochs[3].validation.as_ref().unwrap().loss;
    let reference = straight
        .tell(trial, Ok::<_, descent_hpo::Error>(loss))
        .unwrap();

    let values = |t: &descent_hpo::FrozenTrial| -> Vec<u64> {
        t.intermediate.values().map(|v| v.to_bits()).collect()
    };
    assert_eq!(values(&done), values(&reference));
    assert_eq!(
        done.value.unwrap().to_bits(),
        reference.value.unwrap().to_bits()
    );
    assert_eq!(bits(second.state()), bits(whole.state()));
    assert_eq!(second.optimizer().state(), whole.optimizer().state());
    std::fs::remove_dir_all(&dir).unwrap();
}

fn member(i: usize) -> Trainer<f32, Sequential<f32>> {
    // One TrainConfig (a checkpoint carries the data position), each
    // member its own initialization.
    let (model, state) = mlp::<f32>(100 + i as u64, 16, false);
    let opt = descent_optim::SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..Default::default()
    }
    .build(&state.params)
    .unwrap();
    Trainer::new(
        model,
        state,
        opt,
        descent_train::Loss::cross_entropy(),
        config(1000),
    )
    .unwrap()
}

#[test]
fn pbt_of_trainers_copies_weights_and_optimizer_state_and_ignores_the_thread_count() {
    let data = digits_subset::<f32>(300);
    let train = data.select(&(0..240).collect::<Vec<_>>()).unwrap();
    let val = data.select(&(240..300).collect::<Vec<_>>()).unwrap();
    let run = |threads| {
        let pbt = Pbt::new(PbtConfig {
            direction: Direction::Minimize,
            ready_interval: 4,
            total_steps: 12,
            seed: 9,
            n_threads: threads,
            ..Default::default()
        })
        .unwrap()
        .with_mutation(
            "lr",
            Mutation::Distribution(Distribution::Float {
                low: 1e-3,
                high: 0.5,
                log: true,
                step: None,
            }),
        )
        .unwrap();
        // A `Sequential` trainer is not `Send`: each member lives on its thread.
        pbt.run_pinned(
            4,
            |i| Ok(TrainerMember::new(member(i), &train, &val, PbtScore::Loss)),
            |_, m| {
                let t = m.into_trainer();
                (
                    bits(t.state()),
                    t.optimizer().steps(),
                    t.optimizer().hyperparam(0, Hyper::Lr).unwrap(),
                )
            },
        )
        .unwrap()
    };
    let (one, members_one) = run(1);
    let (two, members_two) = run(2);
    assert_eq!(one, two);
    assert_eq!(members_one, members_two, "the same weights, bit for bit");
    // One member copied at each of the two exploit points (⌈4·0.25⌉ = 1).
    let exploits: Vec<_> = one.members.iter().flat_map(|m| &m.lineage).collect();
    assert_eq!(exploits.len(), 2);
    for (record, (_, steps, lr)) in one.members.iter().zip(&members_one) {
        assert_eq!(*steps, 12);
        assert_eq!(*lr, record.hyperparams.f64("lr").unwrap());
    }
    // The explored rate is the donor's times 1.2 or 0.8, or a fresh draw.
    for e in exploits {
        let (from, to) = (
            e.donor_hyperparams.f64("lr").unwrap(),
            e.after.f64("lr").unwrap(),
        );
        assert!(to == from * 1.2 || to == from * 0.8 || (1e-3..=0.5).contains(&to));
    }
}
