//! The Trainer's overhead over the raw W1 step, measured as a ratio per
//! round in alternating rounds (raw, Trainer, raw, ...), so the machine's
//! noise falls on both alike: `cargo run --release -p descent-bench
//! --example trainer_overhead -- [ROUNDS] [sgd|adam|both] [both|raw|trainer]
//! [resident|fresh]`; the thread count is `DESCENT_NUM_THREADS`. With `raw`
//! or `trainer` only that side runs (to profile it alone). The Trainer reads
//! the raw step's one batch (`resident`, the default: the overhead goal) or
//! a fresh copy each step (`fresh`, see `TrainerData`).

use descent_bench::{TRAINER_STEPS, TrainerData, TrainerWorkload, WorkloadId};
use std::time::Instant;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().map_or(Ok(30), |a| a.parse())?;
    let which = args.next().unwrap_or_else(|| "both".into());
    let only = args.next();
    let data = match args.next().as_deref() {
        None | Some("resident") => TrainerData::Resident,
        Some("fresh") => TrainerData::Fresh,
        Some(other) => return Err(format!("data: expected resident or fresh, got {other}").into()),
    };
    let (run_raw, run_trainer) = match only.as_deref() {
        Some("raw") => (true, false),
        Some("trainer") => (false, true),
        _ => (true, true),
    };
    let ids: Vec<WorkloadId> = match which.as_str() {
        "sgd" => vec![WorkloadId::W1Sgd],
        "adam" => vec![WorkloadId::W1Adam],
        _ => vec![WorkloadId::W1Sgd, WorkloadId::W1Adam],
    };
    println!(
        "threads {}, data {data:?}",
        descent_core::threads::num_threads()
    );
    for id in ids {
        let (mut raw, mut trainer) = (id.build(0), TrainerWorkload::with_data(id, 0, data));
        let (mut raw_ms, mut tr_ms, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..=rounds {
            let t = Instant::now();
            for _ in 0..TRAINER_STEPS {
                if run_raw {
                    raw.step()?;
                }
            }
            let r = t.elapsed().as_secs_f64() * 1e3 / TRAINER_STEPS as f64;
            let t = Instant::now();
            if run_trainer {
                trainer.epoch()?;
            }
            let tr = t.elapsed().as_secs_f64() * 1e3 / TRAINER_STEPS as f64;
            if round > 0 {
                raw_ms.push(r);
                tr_ms.push(tr);
                ratios.push(tr / r);
            }
        }
        let (r, t, q) = (median(&mut raw_ms), median(&mut tr_ms), median(&mut ratios));
        println!(
            "{}: raw {r:.3} ms, trainer {t:.3} ms, ratio of medians {:.4}, median ratio {q:.4}",
            id.name(),
            t / r
        );
    }
    Ok(())
}
