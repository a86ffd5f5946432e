//! The targets: each feeds its bytes to one public parser or loader and
//! exercises what it returns a little, so a value that parses but breaks an
//! invariant shows up too.

use descent_core::{ParamStore, Tags};
use descent_nn::{BatchNorm1d, BatchNormConfig, Builder, Linear, LinearConfig, ModelState};
use descent_optim::{AdamConfig, OptimizerState};
use nalgebra::DMatrix;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use std::path::Path;

/// Splits `data` in two at its first byte's fraction (for two-file formats).
fn split(data: &[u8]) -> (u8, &[u8], &[u8]) {
    match data.split_first() {
        None => (0, &[], &[]),
        Some((&k, rest)) => {
            let at = rest.len() * k as usize / 256;
            let (a, b) = rest.split_at(at);
            (k, a, b)
        }
    }
}

/// IDX images and labels (raw or gzipped), whole and as a prefix.
pub fn idx(data: &[u8]) {
    use descent_data::{IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, parse_idx, parse_idx_pair_prefix};
    let file = Path::new("fuzz.idx");
    let _ = parse_idx(data, file, IDX_IMAGES_MAGIC);
    let _ = parse_idx(data, file, IDX_LABELS_MAGIC);
    let (k, images, labels) = split(data);
    let limit = (k % 4 != 0).then_some(k as usize);
    let _ = parse_idx_pair_prefix::<f32>((images, file), (labels, file), 10, limit);
}

/// The digits CSV (plain or gzipped).
pub fn digits_csv(data: &[u8]) {
    let _ = descent_data::parse_digits::<f32>(data, Path::new("fuzz.csv"));
}

/// A sentiment JSON array.
pub fn sentiment_json(data: &[u8]) {
    let _ = descent_data::parse_sentiment_json(data, Path::new("fuzz.json"));
}

/// The UCI sentiment TSV.
pub fn sentiment_tsv(data: &[u8]) {
    let _ = descent_data::parse_sentiment_tsv(data, Path::new("fuzz.txt"));
}

/// A WordNet `data.*` and `index.*` pair.
pub fn wordnet(data: &[u8]) {
    let (_, d, i) = split(data);
    let _ = descent_augment::text::Lexicon::parse_wordnet(
        d,
        Path::new("data.noun"),
        i,
        Path::new("index.noun"),
    );
}

/// A PNG image (the decoder behind `load_png`).
pub fn png(data: &[u8]) {
    let _ = descent_data::parse_png(data, Path::new("fuzz.png"));
}

/// A safetensors model state, loaded into linear → batch norm → linear.
pub fn safetensors(data: &[u8]) {
    let mut state = ModelState::<f32>::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut b = Builder::new(&mut state, &mut rng);
    let built = Linear::new(&mut b.pp("0"), LinearConfig::new(3, 4))
        .and_then(|_| BatchNorm1d::new(&mut b.pp("1"), BatchNormConfig::new(4)))
        .and_then(|_| Linear::new(&mut b.pp("2"), LinearConfig::new(4, 2)));
    built.expect("a valid model");
    let _ = state.load_safetensors(data);
}

/// Optimizer state JSON, loaded into Adam over two tensors, then one step.
pub fn optimizer_state(data: &[u8]) {
    let Ok(saved) = serde_json::from_slice::<OptimizerState>(data) else {
        return;
    };
    let mut store = ParamStore::<f32>::new();
    let w = store
        .register("w", Tags::WEIGHT, DMatrix::from_element(2, 2, 1.0))
        .expect("a fresh name");
    store
        .register("b", Tags::BIAS, DMatrix::from_element(1, 2, 0.5))
        .expect("a fresh name");
    let cfg = AdamConfig {
        amsgrad: true,
        ..AdamConfig::default()
    };
    let mut opt = cfg.build(&store).expect("valid config");
    if opt.load_state(&saved).is_ok() {
        store.grad_mut(w).fill(0.5);
        let _ = opt.step(&mut store);
        let _ = serde_json::to_string(&opt.state());
    }
}

/// Schedule JSON: the first byte picks the type; a schedule that loads is
/// sampled at the first steps and at `u64::MAX`.
pub fn schedule_state(data: &[u8]) {
    use descent_schedule::*;
    let Some((&kind, json)) = data.split_first() else {
        return;
    };
    fn sample<S: Schedule + serde::Serialize>(s: S) {
        for step in [0, 1, 2, 7, 1000, u64::MAX / 2, u64::MAX] {
            let _ = s.lr(step);
        }
        let _ = serde_json::to_string(&s);
    }
    fn load<S: Schedule + serde::Serialize + serde::de::DeserializeOwned>(json: &[u8]) {
        if let Ok(s) = serde_json::from_slice::<S>(json) {
            sample(s);
        }
    }
    match kind % 13 {
        0 => load::<StepLr>(json),
        1 => load::<MultiStepLr>(json),
        2 => load::<ExponentialLr>(json),
        3 => load::<CosineAnnealingLr>(json),
        4 => {
            if let Ok(s) = serde_json::from_slice::<CosineAnnealingWarmRestarts>(json) {
                for e in [0.5, 1e300, f64::INFINITY, f64::NAN, -1.0] {
                    let _ = s.lr_at_epoch(e);
                }
                sample(s);
            }
        }
        5 => load::<LinearLr>(json),
        6 => load::<ConstantLr>(json),
        7 => load::<PolynomialLr>(json),
        8 => load::<OneCycleLr>(json),
        9 => load::<CyclicLr>(json),
        10 => load::<WarmupCosine>(json),
        11 => load::<ManualSchedule>(json),
        _ => {
            if let Ok(mut s) = serde_json::from_slice::<ReduceLrOnPlateau>(json) {
                for m in [1.0, 0.5, f64::NAN, 2.0, f64::INFINITY] {
                    let _ = s.observe(m);
                }
                let _ = serde_json::to_string(&s);
            }
        }
    }
}

/// An HPO journal, through `JournalStorage`'s public `open` and `load`
/// (the file is written to a temporary path unique to the thread).
pub fn hpo_journal(data: &[u8]) {
    use descent_hpo::{JournalStorage, Storage};
    let path = std::env::temp_dir().join(format!(
        "descent-fuzz-journal-{}-{:?}.jsonl",
        std::process::id(),
        std::thread::current().id()
    ));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(mut journal) = JournalStorage::open(&path) {
        let _ = journal.load();
    }
    let _ = std::fs::remove_file(&path);
}

/// The small trainer the checkpoint target loads into: linear → batch norm →
/// linear, Adam, accumulation of 2 (so checkpoints may carry gradients).
pub fn checkpoint_trainer() -> descent_train::Trainer<f32, descent_nn::Sequential<f32>> {
    use descent_nn::{Relu, Sequential};
    let mut state = ModelState::<f32>::new();
    let mut model = Sequential::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut b = Builder::new(&mut state, &mut rng);
    model
        .add(&mut b, |b| Linear::new(b, LinearConfig::new(3, 4)))
        .and_then(|m| m.add(&mut b, |b| BatchNorm1d::new(b, BatchNormConfig::new(4))))
        .map(|m| m.push(Relu))
        .and_then(|m| m.add(&mut b, |b| Linear::new(b, LinearConfig::new(4, 2))))
        .expect("a valid model");
    let opt = AdamConfig::default()
        .build(&state.params)
        .expect("valid config");
    let config = descent_train::TrainConfig {
        batch_size: 4,
        accumulation: 2,
        progress: descent_train::Progress::Quiet,
        ..descent_train::TrainConfig::default()
    };
    descent_train::Trainer::new(
        model,
        state,
        opt,
        descent_train::Loss::cross_entropy(),
        config,
    )
    .expect("a valid trainer")
}

/// A training checkpoint, loaded into [`checkpoint_trainer`]; when it loads,
/// the trainer writes it back out.
pub fn checkpoint(data: &[u8]) {
    let mut t = checkpoint_trainer();
    if t.load_checkpoint_bytes(data).is_ok() {
        let _ = t.checkpoint_bytes();
    }
}
