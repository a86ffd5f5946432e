//! `cargo xtask soak hpo` and `cargo xtask hpo copy`: the kill soak of a
//! shared study, and copying a study between storages.

use anyhow::{Context, Result, bail, ensure};
use descent_hpo::{
    Direction, FrozenTrial, JournalStorage, RdbConfig, RdbStorage, RetryConfig, Storage, Study,
    StudyConfig, Trial, TrialState,
};
use rand::{RngExt, SeedableRng};
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const HEARTBEAT: Duration = Duration::from_millis(200);
const GRACE: Duration = Duration::from_secs(2);

fn soak_config() -> RdbConfig {
    RdbConfig {
        heartbeat_interval: Some(HEARTBEAT),
        grace_period: Some(GRACE),
        retry: Some(RetryConfig::default()),
    }
}

fn objective(trial: &mut Trial<'_>) -> Result<f64, descent_hpo::Error> {
    let x = trial.suggest_float("x", -3.0, 3.0)?;
    let n = trial.suggest_int("n", 1, 8)?;
    let pause = trial.suggest_int("pause_ms", 5, 60)?;
    for step in 0..3 {
        std::thread::sleep(Duration::from_millis(pause as u64 / 3));
        trial.report(step, x * x / (step + 1) as f64);
    }
    Ok(value_of(x, n))
}

fn value_of(x: f64, n: i64) -> f64 {
    x * x + n as f64
}

fn complete(study: &Study) -> usize {
    study
        .trials()
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .count()
}

/// The throughput objective: three parameters, three reports, no work.
fn quick(trial: &mut Trial<'_>) -> Result<f64, descent_hpo::Error> {
    let x = trial.suggest_float("x", -3.0, 3.0)?;
    let n = trial.suggest_int("n", 1, 8)?;
    let _ = trial.suggest_categorical("opt", &["sgd", "adam"])?;
    for step in 0..3 {
        trial.report(step, x * x / (step + 1) as f64);
    }
    Ok(value_of(x, n))
}

/// `hpo worker-quick URL NAME N`: runs N trials of the throughput objective.
fn worker_quick(url: &str, name: &str, n: usize) -> Result<()> {
    let study = Study::load_or_create(url, name, StudyConfig::default())?;
    study.optimize(quick, n, 1)?;
    Ok(())
}

/// `hpo throughput [--url URL]... [--trials N]`: trials per second with 1, 2
/// and 4 worker processes on each database, and 1, 2, 4 threads on a journal.
fn throughput(args: &[String]) -> Result<()> {
    let mut urls = Vec::new();
    let mut total = 200usize;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--url" => urls.push(it.next().context("a URL after --url")?.clone()),
            "--trials" => total = it.next().context("a count after --trials")?.parse()?,
            other => bail!("hpo throughput: unknown argument `{other}`"),
        }
    }
    let dir = std::env::temp_dir().join(format!("descent-hpo-tp-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    if urls.is_empty() {
        urls.push(format!("sqlite:///{}", dir.join("tp.db").display()));
    }
    println!("| storage | workers | trials | seconds | trials/s |");
    println!("|---|---|---|---|---|");
    for n_workers in [1usize, 2, 4] {
        let path = dir.join(format!("tp-{n_workers}.jsonl"));
        let study =
            Study::new(StudyConfig::default()).with_storage(JournalStorage::open(&path)?)?;
        let started = Instant::now();
        study.optimize(quick, total, n_workers)?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "| journal (threads) | {n_workers} | {total} | {secs:.2} | {:.1} |",
            total as f64 / secs
        );
    }
    for url in &urls {
        for n_workers in [1usize, 2, 4] {
            let name = format!("tp-{}-{n_workers}", std::process::id());
            Study::load_or_create(url, &name, StudyConfig::default())?;
            let per = total / n_workers;
            let started = Instant::now();
            let children: Vec<Child> = (0..n_workers)
                .map(|_| {
                    Command::new(std::env::current_exe()?)
                        .args(["hpo", "worker-quick", url, &name, &per.to_string()])
                        .spawn()
                        .context("spawning a worker")
                })
                .collect::<Result<_>>()?;
            for mut c in children {
                ensure!(c.wait()?.success(), "a worker failed");
            }
            let secs = started.elapsed().as_secs_f64();
            let kind = url.split(':').next().unwrap_or(url);
            println!(
                "| {kind} (processes) | {n_workers} | {} | {secs:.2} | {:.1} |",
                per * n_workers,
                (per * n_workers) as f64 / secs
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

/// `hpo check URL NAME N`: the study holds trials 0..N-1 exactly once, all
/// complete with the value their params give.
fn check_exact(url: &str, name: &str, n: u64) -> Result<()> {
    let mut storage = RdbStorage::open(url, name, Direction::Minimize, RdbConfig::default())?;
    let states = storage.trial_states()?;
    let numbers: Vec<u64> = states.iter().map(|s| s.0).collect();
    ensure!(
        numbers == (0..n).collect::<Vec<_>>(),
        "numbers are not 0..{n} exactly once: {numbers:?}"
    );
    let trials = storage.load()?.trials;
    ensure!(trials.len() as u64 == n, "{} finished of {n}", trials.len());
    for t in &trials {
        let (x, k) = (t.params.f64("x")?, t.params.i64("n")?);
        ensure!(
            t.state == TrialState::Complete && t.value == Some(value_of(x, k)),
            "trial {} is {:?} with value {:?}",
            t.number,
            t.state,
            t.value
        );
    }
    println!(
        "hpo check: {url} study {name}: trials 0..{n} exactly once, all COMPLETE with their values"
    );
    Ok(())
}

/// `hpo worker URL NAME TARGET`: runs trials until the study has TARGET complete ones.
fn worker(url: &str, name: &str, target: usize) -> Result<()> {
    let storage = RdbStorage::open(url, name, Direction::Minimize, soak_config())?;
    let seed = std::process::id() as u64;
    let study = Study::new(StudyConfig {
        seed,
        ..Default::default()
    })
    .with_storage(storage)?;
    while complete(&study) < target {
        study.optimize(objective, 1, 1)?;
    }
    Ok(())
}

fn spawn_worker(url: &str, name: &str, target: usize) -> Result<Child> {
    Command::new(std::env::current_exe()?)
        .args(["hpo", "worker", url, name, &target.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .context("spawning a worker")
}

fn finished(url: &str, name: &str) -> Result<BTreeMap<u64, FrozenTrial>> {
    let mut storage = RdbStorage::open(url, name, Direction::Minimize, RdbConfig::default())?;
    Ok(storage
        .load()?
        .trials
        .into_iter()
        .map(|t| (t.number, t))
        .collect())
}

/// `soak hpo --kills N [--workers W] [--url URL] [--seed S]`.
fn soak(args: &[String]) -> Result<()> {
    let mut kills = 50usize;
    let mut n_workers = 4usize;
    let mut url = None;
    let mut seed = 7u64;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().context("a value after the flag");
        match a.as_str() {
            "--kills" => kills = value()?.parse()?,
            "--workers" => n_workers = value()?.parse()?,
            "--url" => url = Some(value()?.clone()),
            "--seed" => seed = value()?.parse()?,
            other => bail!("soak hpo: unknown argument `{other}`"),
        }
    }
    ensure!(n_workers >= 1, "--workers must be >= 1");
    let dir = std::env::temp_dir().join(format!("descent-hpo-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = url.unwrap_or_else(|| format!("sqlite:///{}", dir.join("soak.db").display()));
    let name = format!("soak-{}-{seed}", std::process::id());
    let target = 2 * kills + 40;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    println!(
        "soak hpo: {url}, study {name}, {n_workers} workers, {kills} SIGKILLs, {target} complete trials wanted"
    );
    let started = Instant::now();
    let mut workers: Vec<Child> = (0..n_workers)
        .map(|_| spawn_worker(&url, &name, target))
        .collect::<Result<_>>()?;
    let mut seen: BTreeMap<u64, FrozenTrial> = BTreeMap::new();
    let mut lost = 0usize;
    let mut changed = 0usize;
    let mut check = |seen: &mut BTreeMap<u64, FrozenTrial>| -> Result<()> {
        let now = finished(&url, &name)?;
        for (n, t) in seen.iter() {
            match now.get(n) {
                None => lost += 1,
                Some(u) if u.state != t.state || u.value != t.value || u.params != t.params => {
                    changed += 1
                }
                Some(_) => {}
            }
        }
        *seen = now;
        Ok(())
    };
    for _ in 0..kills {
        std::thread::sleep(Duration::from_millis(rng.random_range(30..250)));
        let i = rng.random_range(0..workers.len());
        workers[i].kill()?; // SIGKILL on Unix
        workers[i].wait()?;
        workers[i] = spawn_worker(&url, &name, target)?;
        check(&mut seen)?;
    }
    for w in &mut workers {
        ensure!(w.wait()?.success(), "a worker failed");
    }
    // Past the grace period, one more worker fails what the last kills left
    // running and runs their retries.
    std::thread::sleep(GRACE + HEARTBEAT);
    let storage = RdbStorage::open(&url, &name, Direction::Minimize, soak_config())?;
    let sweep = Study::new(StudyConfig::default()).with_storage(storage)?;
    let mut probe = RdbStorage::open(&url, &name, Direction::Minimize, RdbConfig::default())?;
    while probe
        .trial_states()?
        .iter()
        .any(|(_, s)| s == "RUNNING" || s == "WAITING")
    {
        sweep.optimize(objective, 1, 1)?;
    }
    check(&mut seen)?;

    let mut storage = RdbStorage::open(&url, &name, Direction::Minimize, RdbConfig::default())?;
    let states = storage.trial_states()?;
    let numbers: Vec<u64> = states.iter().map(|s| s.0).collect();
    let duplicated = numbers.windows(2).filter(|w| w[0] == w[1]).count();
    let gaps = (0..numbers.len() as u64)
        .filter(|n| numbers.binary_search(n).is_err())
        .count();
    let count = |s: &str| states.iter().filter(|x| x.1 == s).count();
    let trials = storage.load()?.trials;
    let failed: Vec<&FrozenTrial> = trials
        .iter()
        .filter(|t| t.state == TrialState::Fail)
        .collect();
    let retried_from: Vec<u64> = trials
        .iter()
        .filter_map(|t| t.attrs.get("retry_history"))
        .filter_map(serde_history)
        .flatten()
        .collect();
    let retries = trials
        .iter()
        .filter(|t| t.attrs.contains_key("failed_trial"))
        .count();
    let not_retried = failed
        .iter()
        .filter(|t| !retried_from.contains(&t.number))
        .count();
    let wrong_values = trials
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .filter(|t| {
            let (x, n) = (t.params.f64("x"), t.params.i64("n"));
            !matches!((x, n), (Ok(x), Ok(n)) if t.value == Some(value_of(x, n)))
        })
        .count();
    println!(
        "soak hpo: {kills} kills in {:.1} s; {} trials: {} COMPLETE, {} FAIL (killed while running), {} RUNNING, {} WAITING; \
         {retries} retries finished ({} FAIL trials not retried); finished trials lost {lost}, changed {changed}; numbers duplicated {duplicated}, missing {gaps}; wrong values {wrong_values}",
        started.elapsed().as_secs_f64(),
        states.len(),
        count("COMPLETE"),
        count("FAIL"),
        count("RUNNING"),
        count("WAITING"),
        not_retried,
    );
    ensure!(
        lost == 0 && changed == 0,
        "a finished trial was lost or changed"
    );
    ensure!(
        duplicated == 0 && gaps == 0,
        "trial numbers are not 0..N-1 exactly once"
    );
    ensure!(count("RUNNING") == 0, "a killed trial was never failed");
    ensure!(
        count("WAITING") == 0 && not_retried == 0,
        "a failed trial was not retried"
    );
    ensure!(
        wrong_values == 0,
        "a complete trial's value does not match its params"
    );
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

fn serde_history(v: &serde_json::Value) -> Option<Vec<u64>> {
    v.as_array()?.iter().map(|x| x.as_u64()).collect()
}

/// A storage named by `journal:PATH` or a database URL.
fn open(spec: &str, name: &str) -> Result<Box<dyn Storage>> {
    Ok(match spec.strip_prefix("journal:") {
        Some(path) => Box::new(JournalStorage::open(path)?),
        None => Box::new(RdbStorage::open(
            spec,
            name,
            Direction::Minimize,
            RdbConfig::default(),
        )?),
    })
}

/// `hpo copy FROM TO [--study NAME] [--to-study NAME]`.
fn copy(args: &[String]) -> Result<()> {
    let (mut pos, mut study, mut to_study) = (Vec::new(), "study".to_owned(), None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--study" => study = it.next().context("a name after --study")?.clone(),
            "--to-study" => to_study = Some(it.next().context("a name after --to-study")?.clone()),
            _ => pos.push(a.clone()),
        }
    }
    let [from, to] = &pos[..] else {
        bail!("usage: cargo xtask hpo copy FROM TO [--study NAME] [--to-study NAME]")
    };
    let mut src = open(from, &study)?;
    let mut dst = open(to, to_study.as_deref().unwrap_or(&study))?;
    let n = descent_hpo::copy_study(src.as_mut(), dst.as_mut())?;
    println!("copied {n} finished trials from {from} to {to}");
    Ok(())
}

pub fn main(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("copy") => copy(&args[1..]),
        Some("throughput") => throughput(&args[1..]),
        Some("check") => {
            let [url, name, n] = &args[1..] else {
                bail!("usage: hpo check URL NAME N")
            };
            check_exact(url, name, n.parse()?)
        }
        Some("worker-quick") => {
            let [url, name, n] = &args[1..] else {
                bail!("usage: hpo worker-quick URL NAME N")
            };
            worker_quick(url, name, n.parse()?)
        }
        Some("worker") => {
            let [url, name, target] = &args[1..] else {
                bail!("usage: hpo worker URL NAME TARGET")
            };
            worker(url, name, target.parse()?)
        }
        _ => bail!("usage: cargo xtask hpo copy FROM TO [--study NAME] [--to-study NAME]"),
    }
}

pub fn soak_main(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("hpo") => soak(&args[1..]),
        _ => bail!("usage: cargo xtask soak hpo --kills N [--workers W] [--url URL] [--seed S]"),
    }
}
