//! What the PBT examples share: the embedded digits split into training and
//! validation sets, and a population member's trainer.

use descent_data::{Dataset, InMemory, digits};
use descent_hpo::{Distribution, Mutation};
use descent_nn::{Builder, Linear, LinearConfig, ModelState, Relu, Sequential};
use descent_optim::SgdConfig;
use descent_train::{Loss, Progress, TrainConfig, Trainer, seed};

/// The embedded digits scaled to [0, 1]: the first 1,400 to train on, the
/// rest to validate on.
pub fn digits_split() -> descent_data::Result<(InMemory<f32>, InMemory<f32>)> {
    let data = digits::<f32>()?.scaled(1.0 / 16.0);
    let train = data.select(&(0..1400).collect::<Vec<_>>())?;
    let val = data.select(&(1400..data.len()).collect::<Vec<_>>())?;
    Ok((train, val))
}

/// A member's trainer: an MLP 64-`hidden`-10 initialized from `member_seed`,
/// SGD at lr 0.1 with momentum 0.9, batches of 32, quiet.
pub fn digits_member(
    member_seed: u64,
    hidden: usize,
) -> descent_train::Result<Trainer<f32, Sequential<f32>>> {
    let mut state = ModelState::new();
    let mut model = Sequential::new();
    let mut rng = seed::rng(member_seed, seed::Purpose::Init);
    let mut b = Builder::new(&mut state, &mut rng);
    model
        .add(&mut b, |b| Linear::new(b, LinearConfig::new(64, hidden)))?
        .push(Relu)
        .add(&mut b, |b| Linear::new(b, LinearConfig::new(hidden, 10)))?;
    let opt = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..Default::default()
    }
    .build(&state.params)?;
    let config = TrainConfig {
        epochs: 1000,
        batch_size: 32,
        seed: 1,
        progress: Progress::Quiet,
        ..TrainConfig::default()
    };
    Trainer::new(model, state, opt, Loss::cross_entropy(), config)
}

/// The law both examples draw and resample the learning rate from:
/// log-uniform on [1e-3, 1].
pub fn lr_law() -> Mutation {
    Mutation::Distribution(Distribution::Float {
        low: 1e-3,
        high: 1.0,
        log: true,
        step: None,
    })
}
