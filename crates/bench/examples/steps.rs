//! Steps one workload of `WorkloadId::ALL` a given number of times and
//! prints the median step time, to run under a profiler on its own:
//! `cargo run --release -p descent-bench --example steps -- w7_sgd [STEPS]`
//! (then e.g. `perf record -g target/release/examples/steps w7_sgd 2000`);
//! the thread count is `DESCENT_NUM_THREADS`.

use descent_bench::{WorkloadId, time_steps};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let name = args.next().ok_or("usage: steps WORKLOAD [STEPS]")?;
    let id = WorkloadId::from_name(&name).ok_or_else(|| {
        let names: Vec<_> = WorkloadId::ALL.iter().map(|id| id.name()).collect();
        format!("unknown workload {name:?}; one of {}", names.join(", "))
    })?;
    let steps: usize = args.next().map_or(Ok(500), |a| a.parse())?;
    let mut w = id.build(0);
    let mut failure = None;
    let t = time_steps(10, steps, || {
        if let Err(e) = w.step() {
            failure.get_or_insert(e);
        }
    });
    if let Some(e) = failure {
        return Err(e.into());
    }
    println!(
        "{name}: {steps} steps on {} thread(s), median {:.3} ms, min {:.3} ms",
        descent_core::threads::num_threads(),
        t.median_ms(),
        t.min_ms()
    );
    Ok(())
}
