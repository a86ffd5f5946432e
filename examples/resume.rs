//! Exact resume, shown: a run is stopped part-way through an epoch (and
//! through an accumulation group), restarted from its checkpoint in a new
//! trainer, and ends bit-identical to the same run left alone.
//!
//! ```sh
//! cargo run --release --example resume
//! ```

use anyhow::{Context, Result, ensure};
use descent::data::{Dataset, InMemory};
use descent::nn::{
    BatchNorm1d, BatchNormConfig, Builder, Dropout, Linear, LinearConfig, ModelState, Relu,
    Sequential,
};
use descent::optim::AdamWConfig;
use descent::schedule::WarmupCosine;
use descent::train::{
    BatchInfo, Callback, CheckpointConfig, Control, Data, Loss, Progress, TrainConfig, Trainer,
    latest_checkpoint, seed,
};

const EPOCHS: u64 = 4;

fn trainer(n_train: usize) -> Result<Trainer<f32, Sequential<f32>>> {
    let config = TrainConfig {
        epochs: EPOCHS,
        batch_size: 32,
        accumulation: 2,
        seed: 7,
        progress: Progress::Quiet,
        ..TrainConfig::default()
    };
    let mut state = ModelState::new();
    let mut model = Sequential::new();
    {
        let mut rng = seed::rng(config.seed, seed::Purpose::Init);
        let mut b = Builder::new(&mut state, &mut rng);
        model
            .add(&mut b, |b| Linear::new(b, LinearConfig::new(64, 64)))?
            .add(&mut b, |b| BatchNorm1d::new(b, BatchNormConfig::new(64)))?
            .push(Relu)
            .push(Dropout::new(0.3)?)
            .add(&mut b, |b| Linear::new(b, LinearConfig::new(64, 10)))?;
    }
    let mut opt = AdamWConfig {
        lr: 3e-3,
        ..AdamWConfig::default()
    }
    .build(&state.params)?;
    let steps = EPOCHS * n_train.div_ceil(64) as u64;
    opt.set_lr_schedule(WarmupCosine::new(3e-3, steps / 10, steps)?);
    Ok(Trainer::new(
        model,
        state,
        opt,
        Loss::CrossEntropy {
            label_smoothing: 0.1,
        },
        config,
    )?)
}

/// Stops the run after a number of micro-batches, as a crash would.
struct StopAfter(u64);

impl Callback for StopAfter {
    fn on_batch_end(&mut self, info: &BatchInfo) -> Control {
        self.0 -= 1;
        if self.0 == 0 {
            println!(
                "stopping at epoch {}, micro-batch {} (step {})",
                info.epoch + 1,
                info.batch + 1,
                info.step
            );
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

/// Every parameter and buffer, bit for bit.
fn fingerprint(t: &Trainer<f32, Sequential<f32>>) -> Vec<u32> {
    let mut out = Vec::new();
    for (_, _, v) in t.state().params.params().iter() {
        out.extend(v.iter().map(|x| x.to_bits()));
    }
    for (_, _, b) in t.state().buffers.iter() {
        if let descent::nn::Buffer::Tensor(m) = b {
            out.extend(m.iter().map(|x| x.to_bits()));
        }
    }
    out
}

fn main() -> Result<()> {
    let all = descent::data::digits::<f32>()?.scaled(1.0 / 16.0);
    let train: InMemory<f32> = all.select(&(0..1400).collect::<Vec<_>>())?;
    let val = all.select(&(1400..all.len()).collect::<Vec<_>>())?;
    let data = Data::train(&train).with_validation(&val);
    let dir = std::env::temp_dir().join(format!("descent-resume-example-{}", std::process::id()));

    let mut whole = trainer(train.len())?;
    let uninterrupted = whole.fit(data)?;
    println!(
        "uninterrupted: {EPOCHS} epochs, validation accuracy {:.2}%",
        100.0
            * uninterrupted
                .last()
                .and_then(|e| e.validation.as_ref()?.accuracy)
                .context("accuracy")?
    );

    let checkpoints = CheckpointConfig {
        every_batches: Some(5),
        ..CheckpointConfig::new(&dir)
    };
    let mut first = trainer(train.len())?
        .with_checkpoints(checkpoints.clone())?
        .with_callback(StopAfter(57));
    first.fit(data)?;
    let path = latest_checkpoint(&dir)?.context("a checkpoint")?;
    println!("resuming from {}", path.display());

    let mut second = trainer(train.len())?.with_checkpoints(checkpoints)?;
    second.load_checkpoint(&path)?;
    let resumed = second.fit(data)?;
    std::fs::remove_dir_all(&dir).ok();

    let same_weights = fingerprint(&second) == fingerprint(&whole);
    let same_history = resumed.without_timing() == uninterrupted.without_timing();
    let same_optimizer = second.optimizer().state() == whole.optimizer().state();
    println!(
        "resumed run: validation accuracy {:.2}%",
        100.0
            * resumed
                .last()
                .and_then(|e| e.validation.as_ref()?.accuracy)
                .context("accuracy")?
    );
    println!(
        "bit-identical to the uninterrupted run: parameters and buffers {same_weights}, optimizer state {same_optimizer}, metric history {same_history}"
    );
    ensure!(
        same_weights && same_history && same_optimizer,
        "the resumed run differs"
    );
    Ok(())
}
