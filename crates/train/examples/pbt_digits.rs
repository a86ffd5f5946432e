//! Population-based training against random search on the embedded digits,
//! at the same budget of optimizer steps.
//!
//! An MLP (64-64-10) is trained by SGD with momentum 0.9 for `STEPS` steps.
//! PBT runs a population of 8 with a learning rate drawn log-uniformly from
//! [1e-3, 1] and explored every `READY` steps (Ray Tune's defaults: the
//! bottom quarter copies the top quarter, rates ×1.2 or ×0.8, resampled with
//! probability 0.25); random search trains 8 members with constant rates
//! drawn from the same law. Both spend 8 × `STEPS` steps. The score is the
//! validation loss.
//!
//! Run: `cargo run --release -p descent-train --features hpo --example pbt_digits [-- --seeds K]`

use anyhow::Result;
use descent_core::Direction;
use descent_data::{Dataset, InMemory, digits};
use descent_hpo::{Distribution, Mutation, Pbt, PbtConfig};
use descent_nn::{Builder, Linear, LinearConfig, ModelState, Relu, Sequential};
use descent_optim::SgdConfig;
use descent_train::pbt::{PbtScore, TrainerMember};
use descent_train::{Loss, Progress, TrainConfig, Trainer, seed};

const CLAIM: &str = "PBT (population 8) reaches a lower best validation loss than 8 random \
                     constant-rate trials at the same budget of steps in at least 4 of 5 seeds \
                     (Jaderberg et al. 2017, section 4: PBT finds a falling learning-rate schedule)";
const POPULATION: usize = 8;
const STEPS: u64 = 600;
const READY: u64 = 50;
const WINS_NEEDED_PER_5: usize = 4;

fn trainer(member_seed: u64) -> Result<Trainer<f32, Sequential<f32>>> {
    let mut state = ModelState::new();
    let mut model = Sequential::new();
    let mut rng = seed::rng(member_seed, seed::Purpose::Init);
    let mut b = Builder::new(&mut state, &mut rng);
    model
        .add(&mut b, |b| Linear::new(b, LinearConfig::new(64, 64)))?
        .push(Relu)
        .add(&mut b, |b| Linear::new(b, LinearConfig::new(64, 10)))?;
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
    Ok(Trainer::new(
        model,
        state,
        opt,
        Loss::cross_entropy(),
        config,
    )?)
}

fn lr_law() -> Mutation {
    Mutation::Distribution(Distribution::Float {
        low: 1e-3,
        high: 1.0,
        log: true,
        step: None,
    })
}

fn main() -> Result<()> {
    let seeds: u64 = match std::env::args().skip_while(|a| a != "--seeds").nth(1) {
        Some(k) => k.parse()?,
        None => 5,
    };
    let data = digits::<f32>()?.scaled(1.0 / 16.0);
    let train: InMemory<f32> = data.select(&(0..1400).collect::<Vec<_>>())?;
    let val: InMemory<f32> = data.select(&(1400..data.len()).collect::<Vec<_>>())?;
    println!("claim: {CLAIM}");
    println!(
        "| seed | PBT best val loss | random best val loss | ratio | PBT best member's lr schedule |"
    );
    println!("|---|---|---|---|---|");
    let mut wins = 0;
    for s in 0..seeds {
        let pbt = Pbt::new(PbtConfig {
            direction: Direction::Minimize,
            ready_interval: READY,
            total_steps: STEPS,
            seed: s,
            n_threads: 2,
            ..Default::default()
        })?
        .with_mutation("lr", lr_law())?;
        // A trainer of a `Sequential` is not `Send`: members stay on their threads.
        let (result, _) = pbt.run_pinned(
            POPULATION,
            |i| {
                let t = trainer(s * 100 + i as u64).map_err(|e| {
                    descent_train::Error::Callback(format!("building member {i}: {e}"))
                })?;
                Ok(TrainerMember::new(t, &train, &val, PbtScore::Loss))
            },
            |_, _| (),
        )?;
        let best = result.best().ok_or_else(|| anyhow::anyhow!("no score"))?;
        let pbt_best = best.score().unwrap_or(f64::NAN);
        let schedule: Vec<String> = result
            .schedule(best.member)
            .iter()
            .map(|(step, h)| format!("{step}:{:.3}", h.f64("lr").unwrap_or(f64::NAN)))
            .collect();

        // Random search: the same initializations, constant rates from the
        // same law (another seed's draws), the same budget.
        let draws = Pbt::new(PbtConfig {
            seed: s + 1_000,
            ..Default::default()
        })?
        .with_mutation("lr", lr_law())?;
        let mut random_best = f64::INFINITY;
        for i in 0..POPULATION {
            let mut t = trainer(s * 100 + i as u64)?;
            let lr = draws.initial_hyperparams(i).f64("lr")?;
            t.optimizer_mut().set_lr(lr)?;
            let mut member = TrainerMember::new(t, &train, &val, PbtScore::Loss);
            let score = descent_hpo::Member::train(&mut member, STEPS)?;
            random_best = random_best.min(score);
        }
        wins += usize::from(pbt_best < random_best);
        println!(
            "| {s} | {pbt_best:.4} | {random_best:.4} | {:.3} | {} |",
            pbt_best / random_best,
            schedule.join(" → ")
        );
    }
    let needed = (WINS_NEEDED_PER_5 as u64 * seeds).div_ceil(5) as usize;
    let held = wins >= needed;
    println!(
        "\nPBT won {wins} of {seeds} seeds (needed {needed}): the claim {}",
        if held { "held" } else { "did NOT hold" }
    );
    Ok(())
}
