//! Shared builders for the trainer's integration tests.
#![allow(dead_code)]

use descent_core::Scalar;
use descent_data::{Dataset, InMemory, digits};
use descent_nn::{
    BatchNorm1d, BatchNormConfig, Builder, Dropout, Linear, LinearConfig, ModelState, Relu,
    Sequential,
};
use descent_optim::AdamWConfig;
use descent_train::{Loss, Progress, TrainConfig, Trainer, seed};

/// The first `n` embedded digits, scaled to [0, 1].
pub fn digits_subset<S: Scalar>(n: usize) -> InMemory<S> {
    let all = digits::<S>()
        .expect("embedded digits")
        .scaled(S::cast(1.0 / 16.0));
    let idx: Vec<usize> = (0..n.min(all.len())).collect();
    all.select(&idx).expect("indices in range")
}

/// An MLP with batch norm and dropout (every source of state and randomness).
pub fn mlp<S: Scalar>(
    seed_: u64,
    hidden: usize,
    norm_and_dropout: bool,
) -> (Sequential<S>, ModelState<S>) {
    let mut state = ModelState::new();
    let mut model = Sequential::new();
    let mut rng = seed::rng(seed_, seed::Purpose::Init);
    let mut b = Builder::new(&mut state, &mut rng);
    model
        .add(&mut b, |b| Linear::new(b, LinearConfig::new(64, hidden)))
        .unwrap();
    if norm_and_dropout {
        model
            .add(&mut b, |b| {
                BatchNorm1d::new(b, BatchNormConfig::new(hidden))
            })
            .unwrap();
    }
    model.push(Relu);
    if norm_and_dropout {
        model.push(Dropout::new(0.2).unwrap());
    }
    model
        .add(&mut b, |b| Linear::new(b, LinearConfig::new(hidden, 10)))
        .unwrap();
    (model, state)
}

/// A trainer of [`mlp`] by AdamW.
pub fn trainer<S: Scalar>(config: TrainConfig) -> Trainer<S, Sequential<S>> {
    let (model, state) = mlp::<S>(config.seed, 32, true);
    let opt = AdamWConfig {
        lr: 3e-3,
        ..AdamWConfig::default()
    }
    .build(&state.params)
    .unwrap();
    Trainer::new(
        model,
        state,
        opt,
        Loss::CrossEntropy {
            label_smoothing: 0.1,
        },
        config,
    )
    .unwrap()
}

/// `config` without progress output.
pub fn quiet(config: TrainConfig) -> TrainConfig {
    TrainConfig {
        progress: Progress::Quiet,
        ..config
    }
}

/// Every parameter and buffer value, bit for bit.
pub fn bits<S: Scalar>(state: &ModelState<S>) -> Vec<u64> {
    let mut out = Vec::new();
    for (id, _, v) in state.params.params().iter() {
        out.extend(v.iter().map(|x| x.as_f64().to_bits()));
        out.extend(state.params.grad(id).iter().map(|_| 0u64));
    }
    for (_, _, b) in state.buffers.iter() {
        match b {
            descent_nn::Buffer::Tensor(m) => out.extend(m.iter().map(|x| x.as_f64().to_bits())),
            descent_nn::Buffer::Count(n) => out.push(*n as u64),
        }
    }
    out
}

/// A scratch directory unique to this test and process.
pub fn scratch(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("descent-train-{tag}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
