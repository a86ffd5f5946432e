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

mod common;

use anyhow::Result;
use common::{digits_member, digits_split, lr_law};
use descent_core::Direction;
use descent_hpo::{Pbt, PbtConfig};
use descent_train::pbt::{PbtScore, TrainerMember};

const CLAIM: &str = "PBT (population 8) reaches a lower best validation loss than 8 random \
                     constant-rate trials at the same budget of steps in at least 4 of 5 seeds \
                     (Jaderberg et al. 2017, section 4: PBT finds a falling learning-rate schedule)";
const POPULATION: usize = 8;
const STEPS: u64 = 600;
const READY: u64 = 50;
const WINS_NEEDED_PER_5: usize = 4;

fn main() -> Result<()> {
    let seeds: u64 = match std::env::args().skip_while(|a| a != "--seeds").nth(1) {
        Some(k) => k.parse()?,
        None => 5,
    };
    let (train, val) = digits_split()?;
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
                let t = digits_member(s * 100 + i as u64, 64)?;
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
            let mut t = digits_member(s * 100 + i as u64, 64)?;
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
