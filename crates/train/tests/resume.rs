//! Exact resume: a run stopped at any micro-batch (mid-epoch and
//! mid-accumulation included) and resumed from its checkpoint ends
//! bit-identical to the uninterrupted run.

mod support;

use descent_train::{
    BatchInfo, Callback, CheckpointConfig, Control, Data, TrainConfig, WeightAveraging,
    latest_checkpoint,
};
use support::*;

/// Stops the run after `n` micro-batches.
struct StopAfter(u64, u64);

impl Callback for StopAfter {
    fn on_batch_end(&mut self, _: &BatchInfo) -> Control {
        self.1 += 1;
        if self.1 >= self.0 {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

fn config() -> TrainConfig {
    quiet(TrainConfig {
        epochs: 3,
        batch_size: 24,
        accumulation: 3,
        seed: 11,
        top_k: 3,
        ..TrainConfig::default()
    })
}

#[test]
fn a_run_stopped_anywhere_resumes_bit_identical() {
    let data = digits_subset::<f32>(400);
    let (train, val) = (
        data.select(&(0..300).collect::<Vec<_>>()).unwrap(),
        data.select(&(300..400).collect::<Vec<_>>()).unwrap(),
    );
    let d = Data::train(&train).with_validation(&val);
    let mut whole = trainer::<f32>(config());
    let want = whole.fit(d).unwrap().without_timing();
    let want_bits = bits(whole.state());
    let want_opt = whole.optimizer().state();
    // 300 / 24 → 13 batches per epoch (the last of 12), groups of 3: stops
    // right after a step, mid-group, at an epoch's end and in a short last group.
    for stop in [1u64, 2, 4, 13, 14, 25, 27, 38] {
        let dir = scratch(&format!("resume-{stop}"));
        let mut first = trainer::<f32>(config())
            .with_callback(StopAfter(stop, 0))
            .with_checkpoints(CheckpointConfig {
                every_epochs: None,
                ..CheckpointConfig::new(&dir)
            })
            .unwrap();
        let partial = first.fit(d).unwrap();
        assert!(partial.stopped.is_some(), "stop {stop}");
        let path = latest_checkpoint(&dir)
            .unwrap()
            .expect("a checkpoint at the stop");
        let mut second = trainer::<f32>(config())
            .with_checkpoints(CheckpointConfig {
                every_epochs: None,
                ..CheckpointConfig::new(&dir)
            })
            .unwrap();
        second.load_checkpoint(&path).unwrap();
        let got = second.fit(d).unwrap().without_timing();
        assert_eq!(got, want, "history after a stop at micro-batch {stop}");
        assert_eq!(
            bits(second.state()),
            want_bits,
            "parameters after a stop at {stop}"
        );
        assert_eq!(
            second.optimizer().state(),
            want_opt,
            "optimizer after a stop at {stop}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn a_checkpoint_of_another_model_or_cut_short_changes_nothing() {
    let train = digits_subset::<f32>(120);
    let dir = scratch("mismatch");
    let mut t = trainer::<f32>(config())
        .with_callback(StopAfter(5, 0))
        .with_checkpoints(CheckpointConfig::new(&dir))
        .unwrap();
    t.fit(Data::train(&train)).unwrap();
    let path = latest_checkpoint(&dir).unwrap().unwrap();
    let bytes = std::fs::read(&path).unwrap();

    // another model: a wider hidden layer
    let (model, state) = mlp::<f32>(11, 48, true);
    let opt = descent_optim::AdamWConfig::default()
        .build(&state.params)
        .unwrap();
    let mut other = descent_train::Trainer::new(
        model,
        state,
        opt,
        descent_train::Loss::cross_entropy(),
        config(),
    )
    .unwrap();
    let before = bits(other.state());
    let before_opt = other.optimizer().state();
    assert!(matches!(
        other.load_checkpoint(&path),
        Err(descent_train::Error::Nn(_))
    ));
    assert_eq!(bits(other.state()), before);
    assert_eq!(other.optimizer().state(), before_opt);

    // the same model, from a file cut short at several places
    let mut same = trainer::<f32>(config());
    let before = bits(same.state());
    for cut in [0, 7, bytes.len() / 3, bytes.len() - 1] {
        let err = same.load_checkpoint_bytes(&bytes[..cut]).unwrap_err();
        assert!(
            matches!(err, descent_train::Error::Checkpoint { .. }),
            "cut {cut}: {err}"
        );
        assert_eq!(bits(same.state()), before);
    }
    // other settings (batch size)
    let mut other_batch = trainer::<f32>(TrainConfig {
        batch_size: 8,
        ..config()
    });
    let err = other_batch.load_checkpoint(&path).unwrap_err();
    assert!(err.to_string().contains("other settings"), "{err}");
    // a plain model file is not a checkpoint
    let model_file = dir.join("model.safetensors");
    descent_train::export_model(&path, &model_file).unwrap();
    let err = same.load_checkpoint(&model_file).unwrap_err();
    assert!(err.to_string().contains("not a checkpoint"), "{err}");
    // ... but loads into the model
    let mut state = same.state().clone();
    state.load(&model_file).unwrap();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn keep_last_prunes_old_checkpoints() {
    let train = digits_subset::<f32>(96);
    let dir = scratch("prune");
    let mut t = trainer::<f32>(TrainConfig {
        epochs: 1,
        batch_size: 8,
        accumulation: 1,
        ..config()
    })
    .with_checkpoints(CheckpointConfig {
        every_batches: Some(2),
        keep_last: 2,
        ..CheckpointConfig::new(&dir)
    })
    .unwrap();
    t.fit(Data::train(&train)).unwrap();
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The run's averaged weights and count, as bits.
fn averaged_bits<M: descent_nn::Module<f32>>(
    t: &descent_train::Trainer<f32, M>,
) -> (Vec<u64>, u64) {
    let avg = t.averaged().expect("the run averages");
    (bits(avg.state()), avg.n_averaged())
}

#[test]
fn a_run_with_weight_averaging_stopped_anywhere_resumes_bit_identical() {
    let data = digits_subset::<f32>(400);
    let (train, val) = (
        data.select(&(0..300).collect::<Vec<_>>()).unwrap(),
        data.select(&(300..400).collect::<Vec<_>>()).unwrap(),
    );
    let d = Data::train(&train).with_validation(&val);
    for averaging in [WeightAveraging::swa(4, 2), WeightAveraging::ema(0.9)] {
        let mut whole = trainer::<f32>(config()).with_averaging(averaging).unwrap();
        let want = whole.fit(d).unwrap().without_timing();
        let want_bits = bits(whole.state());
        let want_avg = averaged_bits(&whole);
        for stop in [2u64, 14, 27] {
            let dir = scratch(&format!("resume-avg-{stop}"));
            let checkpoints = CheckpointConfig {
                every_epochs: None,
                ..CheckpointConfig::new(&dir)
            };
            let mut first = trainer::<f32>(config())
                .with_averaging(averaging)
                .unwrap()
                .with_callback(StopAfter(stop, 0))
                .with_checkpoints(checkpoints.clone())
                .unwrap();
            first.fit(d).unwrap();
            let path = latest_checkpoint(&dir).unwrap().unwrap();
            let mut second = trainer::<f32>(config())
                .with_averaging(averaging)
                .unwrap()
                .with_checkpoints(checkpoints)
                .unwrap();
            second.load_checkpoint(&path).unwrap();
            let got = second.fit(d).unwrap().without_timing();
            assert_eq!(got, want, "{averaging:?}: history after a stop at {stop}");
            assert_eq!(
                bits(second.state()),
                want_bits,
                "{averaging:?}: stop {stop}"
            );
            assert_eq!(
                averaged_bits(&second),
                want_avg,
                "{averaging:?}: stop {stop}"
            );
            // a run without averaging cannot take this checkpoint
            let mut plain = trainer::<f32>(config());
            let err = plain.load_checkpoint(&path).unwrap_err();
            assert!(err.to_string().contains("other settings"), "{err}");
            std::fs::remove_dir_all(&dir).ok();
        }
    }
}
