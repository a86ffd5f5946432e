//! Population-based training across worker processes on one study: SQLite
//! on a file here, PostgreSQL when `.ci/hpo.sh` has started a server
//! (`DESCENT_HPO_PG_URL`), and Python Optuna reading the study when
//! `DESCENT_HPO_PYTHON` names it.
//!
//! The test binary re-runs itself as the workers: with `DESCENT_PBT_WORKER`
//! set, the test body runs a worker instead. Every worker appends one line
//! per trained segment to a log (member, the step its state was at — read
//! from the checkpoint it loaded —, the step reached, its process, and the
//! wall-clock span), which the checks hold against the study.

mod common;

use common::{postgres_url, unique, worker_report};
use descent_hpo::pbt::{SharedConfig, SharedPopulation, SharedResult};
use descent_hpo::{Distribution, Error, Member, Mutation, ParamValues, Pbt, PbtConfig};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const WORKER_ENV: &str = "DESCENT_PBT_WORKER";
const POPULATION: usize = 8;
const INTERVAL: u64 = 10;
const TOTAL: u64 = 60;

/// SGD on a noisy quadratic `½ Σ hᵢ wᵢ²`, whose noise is a pure function of
/// `(member, step, coordinate)`; its checkpoint is its weights and step.
struct Quadratic {
    member: usize,
    w: Vec<f64>,
    step: u64,
    lr: f64,
    log: PathBuf,
    /// Exit the process in the middle of this process's `kill_at`-th segment.
    kill_at: Option<u64>,
    trained: std::rc::Rc<std::cell::Cell<u64>>,
}

fn noise(member: usize, step: u64, i: usize) -> f64 {
    let mut z = (member as u64) << 40 ^ step << 8 ^ i as u64;
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 - 0.5
}

/// A fingerprint of a state's weights.
fn hash(w: &[f64]) -> u64 {
    w.iter().fold(0xcbf2_9ce4_8422_2325, |h, x| {
        (h ^ x.to_bits()).wrapping_mul(0x100_0000_01b3)
    })
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

impl Member for Quadratic {
    type Checkpoint = Vec<u8>;
    type Error = Error;

    fn set_hyperparams(&mut self, h: &ParamValues) -> Result<(), Error> {
        self.lr = h.f64("lr")?;
        Ok(())
    }

    fn train(&mut self, steps: u64) -> Result<f64, Error> {
        let start = now_ns();
        let from = self.step;
        let from_hash = hash(&self.w);
        let n = self.trained.get() + 1;
        self.trained.set(n);
        // Long enough that the workers' segments interleave.
        std::thread::sleep(Duration::from_millis(15));
        if self.kill_at == Some(n) {
            std::process::exit(3);
        }
        for _ in 0..steps {
            for i in 0..self.w.len() {
                let h = 10f64.powf(-1.0 + i as f64 / 2.0);
                let g = h * self.w[i] + 0.3 * noise(self.member, self.step, i);
                self.w[i] -= self.lr * g;
            }
            self.step += 1;
        }
        let loss = 0.5
            * self
                .w
                .iter()
                .enumerate()
                .map(|(i, w)| 10f64.powf(-1.0 + i as f64 / 2.0) * w * w)
                .sum::<f64>();
        let line = format!(
            "{} {from} {} {} {start} {} {from_hash} {}\n",
            self.member,
            self.step,
            std::process::id(),
            now_ns(),
            hash(&self.w)
        );
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|source| Error::Io {
                path: self.log.clone(),
                source,
            })?;
        f.write_all(line.as_bytes()).map_err(|source| Error::Io {
            path: self.log.clone(),
            source,
        })?;
        Ok(loss)
    }

    fn save(&mut self) -> Result<Vec<u8>, Error> {
        let mut out = self.step.to_le_bytes().to_vec();
        for w in &self.w {
            out.extend_from_slice(&w.to_le_bytes());
        }
        Ok(out)
    }

    fn load(&mut self, bytes: &Vec<u8>) -> Result<(), Error> {
        let word = |k: usize| -> [u8; 8] { bytes[8 * k..8 * k + 8].try_into().unwrap() };
        self.step = u64::from_le_bytes(word(0));
        for (i, w) in self.w.iter_mut().enumerate() {
            *w = f64::from_le_bytes(word(i + 1));
        }
        Ok(())
    }
}

/// The learning rate's law: log-uniform on [0.01, 1].
fn lr_law() -> Mutation {
    Mutation::Distribution(Distribution::Float {
        low: 0.01,
        high: 1.0,
        log: true,
        step: None,
    })
}

fn pbt() -> Pbt {
    Pbt::new(PbtConfig {
        ready_interval: INTERVAL,
        total_steps: TOTAL,
        seed: 11,
        ..Default::default()
    })
    .unwrap()
    .with_mutation("lr", lr_law())
    .unwrap()
}

fn shared_config(dir: &Path, grace_ms: u64) -> SharedConfig {
    SharedConfig {
        heartbeat_interval: Duration::from_millis(grace_ms / 5),
        grace_period: Duration::from_millis(grace_ms),
        poll_interval: Duration::from_millis(20),
        ..SharedConfig::new(POPULATION, dir.join("checkpoints"))
    }
}

/// What a worker process is told, through its environment.
struct Spec {
    url: String,
    study: String,
    dir: PathBuf,
    grace_ms: u64,
    kill_at: Option<u64>,
}

impl Spec {
    fn encode(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.url,
            self.study,
            self.dir.display(),
            self.grace_ms,
            self.kill_at.map_or(0, |k| k)
        )
    }

    fn decode(s: &str) -> Spec {
        let p: Vec<&str> = s.split('|').collect();
        Spec {
            url: p[0].to_owned(),
            study: p[1].to_owned(),
            dir: PathBuf::from(p[2]),
            grace_ms: p[3].parse().unwrap(),
            kill_at: Some(p[4].parse().unwrap()).filter(|&k| k > 0),
        }
    }
}

/// Runs in a worker process: trains members until the population is done.
fn work(spec: &str) {
    let spec = Spec::decode(spec);
    let config = shared_config(&spec.dir, spec.grace_ms);
    let mut pop = SharedPopulation::open(&spec.url, &spec.study, pbt(), config).unwrap();
    let trained = std::rc::Rc::new(std::cell::Cell::new(0));
    let log = spec.dir.join("segments.log");
    let report = pop
        .run(|member| {
            Ok::<_, Error>(Quadratic {
                member,
                w: vec![1.0; 5],
                step: 0,
                lr: 0.0,
                log: log.clone(),
                kill_at: spec.kill_at,
                trained: trained.clone(),
            })
        })
        .unwrap();
    eprintln!("worker {}: {report:?}", pop.worker_id());
}

/// One line of the segments log.
#[derive(Debug, Clone, Copy)]
struct Logged {
    member: usize,
    from: u64,
    to: u64,
    pid: u32,
    start: u128,
    end: u128,
    /// Fingerprints of the weights the segment started from and ended with.
    from_hash: u64,
    to_hash: u64,
}

fn read_log(dir: &Path) -> Vec<Logged> {
    std::fs::read_to_string(dir.join("segments.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let p: Vec<&str> = l.split(' ').collect();
            Logged {
                member: p[0].parse().unwrap(),
                from: p[1].parse().unwrap(),
                to: p[2].parse().unwrap(),
                pid: p[3].parse().unwrap(),
                start: p[4].parse().unwrap(),
                end: p[5].parse().unwrap(),
                from_hash: p[6].parse().unwrap(),
                to_hash: p[7].parse().unwrap(),
            }
        })
        .collect()
}

/// Starts `kills.len()` worker processes (worker `k` exits in its
/// `kills[k]`-th segment, if any) and waits for them; their exit codes.
fn run_workers(
    test: &str,
    url: &str,
    study: &str,
    dir: &Path,
    grace_ms: u64,
    kills: &[Option<u64>],
) -> Vec<i32> {
    let specs = kills.iter().map(|&kill_at| {
        Spec {
            url: url.to_owned(),
            study: study.to_owned(),
            dir: dir.to_owned(),
            grace_ms,
            kill_at,
        }
        .encode()
    });
    common::run_workers(test, WORKER_ENV, specs)
        .iter()
        .enumerate()
        .map(|(k, out)| {
            let code = out.status.code().unwrap_or(-1);
            if code != 0 && kills[k].is_none() {
                panic!("{}", worker_report(k, out));
            }
            code
        })
        .collect()
}

/// The checks every run must pass: each member complete once at `TOTAL`,
/// the log of what was trained equal (per member, in order) to the
/// segments the study committed — so each segment was trained once and
/// every checkpoint loaded was at the step the study says —, no two
/// trainings of one member overlapping in time, and a lineage whose
/// copies start from the donor's checkpoint step.
fn check(result: &SharedResult, log: &[Logged], killed: &[u32]) {
    assert_eq!(result.members.len(), POPULATION);
    assert!(result.is_complete(), "every member is complete");
    let mut by_member: BTreeMap<usize, Vec<Logged>> = BTreeMap::new();
    for l in log {
        by_member.entry(l.member).or_default().push(*l);
    }
    let mut exploits = 0;
    for (i, m) in result.members.iter().enumerate() {
        assert_eq!(m.member, i);
        assert_eq!(m.step, TOTAL, "member {i} ends at the budget");
        let mut lines = by_member.remove(&i).unwrap_or_default();
        lines.sort_by_key(|l| l.start);
        for w in lines.windows(2) {
            assert!(
                w[1].start >= w[0].end,
                "member {i} trained twice at once: {:?} and {:?}",
                w[0],
                w[1]
            );
        }
        // A killed worker's segment is in no log (it died before logging).
        let committed: Vec<(u64, u64)> = lines.iter().map(|l| (l.from, l.to)).collect();
        let stored: Vec<(u64, u64)> = m.segments.iter().map(|s| (s.from, s.to)).collect();
        assert_eq!(committed, stored, "member {i}: trained = committed");
        // The chain: each segment starts where the last ended, or where the
        // checkpoint it copied at that ready point was — in steps, and in
        // weights (whichever worker trained the segment before).
        let mut at = 0;
        let mut state = Some(hash(&[1.0; 5]));
        let mut copies = m.lineage.iter().peekable();
        for (s, l) in m.segments.iter().zip(&lines) {
            assert_eq!(s.from, at, "member {i} segment {s:?}");
            if let Some(h) = state {
                assert_eq!(
                    l.from_hash, h,
                    "member {i} segment {s:?} starts from the state stored"
                );
            }
            at = s.to;
            state = Some(l.to_hash);
            if let Some(e) = copies.next_if(|e| e.step == at) {
                let donor = &result.members[e.donor];
                assert!(
                    donor.segments.iter().any(|d| d.to == e.donor_step)
                        || donor.lineage.iter().any(|d| d.donor_step == e.donor_step),
                    "member {i} copied member {} at step {}, a step it had reached",
                    e.donor,
                    e.donor_step
                );
                assert!(e.seen.iter().any(|s| s.member == i && s.step == e.step));
                at = e.donor_step;
                // The donor's weights at that step, when one logged segment of it ended there.
                let ends: Vec<&Logged> = log
                    .iter()
                    .filter(|d| d.member == e.donor && d.to == e.donor_step)
                    .collect();
                state = (ends.len() == 1).then(|| ends[0].to_hash);
                exploits += 1;
            }
        }
        assert!(
            copies.next().is_none(),
            "member {i}: every exploit follows a segment"
        );
        assert_eq!(at, TOTAL);
        for (w, _) in &m.takeovers {
            let pid: u32 = w.split(':').nth(1).unwrap().parse().unwrap();
            assert!(killed.contains(&pid), "a live worker lost member {i}: {w}");
        }
    }
    assert!(exploits > 0, "the bottom quantile copied at least once");
    let schedule = result.schedule(result.best().unwrap().member);
    assert!(schedule.windows(2).all(|w| w[0].0 <= w[1].0));
}

fn temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique(prefix));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn result(url: &str, study: &str, dir: &Path) -> SharedResult {
    SharedPopulation::open(url, study, pbt(), shared_config(dir, 10_000))
        .unwrap()
        .result()
        .unwrap()
}

/// Three workers train the population of `study` at `url` (checkpoints in
/// `dir`): the run passes [`check`], the workers shared it, superseded
/// checkpoints are gone, and Optuna reads the study (when it is there).
/// Removes `dir`.
fn three_workers(test: &str, url: &str, study: &str, dir: &Path) {
    run_workers(test, url, study, dir, 10_000, &[None, None, None]);
    let result = result(url, study, dir);
    let log = read_log(dir);
    check(&result, &log, &[]);
    let pids: std::collections::BTreeSet<u32> = log.iter().map(|l| l.pid).collect();
    assert!(
        pids.len() >= 2,
        "the workers shared the population: {pids:?}"
    );
    // The checkpoint directory holds each member's latest file, no more.
    let files = std::fs::read_dir(dir.join("checkpoints")).unwrap().count();
    assert_eq!(files, POPULATION, "superseded checkpoints are deleted");
    if let Some(py) = common::python("Optuna reading the population") {
        optuna_reads(&py, url, study, &result);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn three_sqlite_workers_train_one_population() {
    if let Ok(spec) = std::env::var(WORKER_ENV) {
        return work(&spec);
    }
    let dir = temp_dir("descent-pbt-shared");
    let url = format!("sqlite:///{}", dir.join("study.db").display());
    three_workers(
        "three_sqlite_workers_train_one_population",
        &url,
        "pbt",
        &dir,
    );
}

#[test]
fn three_postgres_workers_train_one_population() {
    if let Ok(spec) = std::env::var(WORKER_ENV) {
        return work(&spec);
    }
    let Some(url) = postgres_url() else { return };
    let dir = temp_dir("descent-pbt-shared-pg");
    let study = unique("pbt");
    three_workers(
        "three_postgres_workers_train_one_population",
        &url,
        &study,
        &dir,
    );
}

#[test]
fn a_killed_workers_member_is_taken_over_and_finishes() {
    if let Ok(spec) = std::env::var(WORKER_ENV) {
        return work(&spec);
    }
    let dir = temp_dir("descent-pbt-shared-kill");
    let url = format!("sqlite:///{}", dir.join("study.db").display());
    let codes = run_workers(
        "a_killed_workers_member_is_taken_over_and_finishes",
        &url,
        "pbt",
        &dir,
        3000,
        &[Some(3), None, None],
    );
    assert_eq!(codes[0], 3, "the first worker died mid-segment");
    let result = result(&url, "pbt", &dir);
    let log = read_log(&dir);
    // The dead worker's pid: the one of the three whose lines stop early.
    let takeovers: Vec<&(String, u64)> = result.members.iter().flat_map(|m| &m.takeovers).collect();
    assert_eq!(
        takeovers.len(),
        1,
        "one member was taken over: {takeovers:?}"
    );
    let dead: u32 = takeovers[0].0.split(':').nth(1).unwrap().parse().unwrap();
    assert_eq!(
        log.iter().filter(|l| l.pid == dead).count(),
        2,
        "the dead worker committed two segments before dying in its third"
    );
    check(&result, &log, &[dead]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_second_configuration_is_refused_and_arguments_are_checked() {
    if std::env::var(WORKER_ENV).is_ok() {
        return;
    }
    let dir = temp_dir("descent-pbt-shared-args");
    let url = format!("sqlite:///{}", dir.join("study.db").display());
    let config = shared_config(&dir, 1000);
    SharedPopulation::open(&url, "pbt", pbt(), config.clone()).unwrap();
    let other = Pbt::new(PbtConfig {
        ready_interval: 5,
        ..Default::default()
    })
    .unwrap()
    .with_mutation("lr", lr_law())
    .unwrap();
    let err = SharedPopulation::open(&url, "pbt", other, config.clone()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Arg(descent_core::ArgError {
                name: "population",
                ..
            })
        ),
        "{err}"
    );
    let err = SharedPopulation::open(
        &url,
        "pbt",
        pbt(),
        SharedConfig {
            grace_period: config.heartbeat_interval,
            ..config.clone()
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Arg(descent_core::ArgError {
                name: "grace_period",
                ..
            })
        ),
        "{err}"
    );
    let err = SharedPopulation::open(
        &url,
        "pbt2",
        pbt(),
        SharedConfig {
            population: 1,
            ..config
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Arg(descent_core::ArgError {
                name: "population",
                ..
            })
        ),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Python Optuna loads the study: one complete trial per member, its value
/// the member's final score, its parameters the initial hyperparameters,
/// its intermediate values the scores, and the lineage in its system attributes.
fn optuna_reads(python: &str, url: &str, study: &str, result: &SharedResult) {
    let script = r#"
import json, sys, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
s = optuna.load_study(study_name=sys.argv[2], storage=sys.argv[1])
print(json.dumps([{"number": t.number, "state": t.state.name, "value": t.value, "params": t.params,
                   "intermediate": {str(k): v for k, v in t.intermediate_values.items()},
                   "member": t.system_attrs["pbt:member"], "lineage": t.system_attrs["pbt:lineage"],
                   "step": t.system_attrs["pbt:step"]} for t in s.trials]))
"#;
    let out = Command::new(python)
        .args(["-c", script, url, study])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "optuna failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let trials: Vec<serde_json::Value> =
        serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(trials.len(), POPULATION);
    for t in &trials {
        let m = &result.members[t["member"].as_u64().unwrap() as usize];
        assert_eq!(t["number"].as_u64().unwrap(), m.trial_number);
        assert_eq!(t["state"], "COMPLETE");
        assert_eq!(t["step"].as_u64().unwrap(), TOTAL);
        assert_eq!(t["value"].as_f64(), m.score());
        assert_eq!(t["params"]["lr"].as_f64(), m.initial.f64("lr").ok());
        assert_eq!(
            t["lineage"].as_array().unwrap().len(),
            m.lineage.len(),
            "member {}",
            m.member
        );
        // The latest score at each step (a copy may bring a member back to a step).
        let latest: BTreeMap<u64, f64> = m.scores.iter().copied().collect();
        for (step, score) in latest {
            assert_eq!(t["intermediate"][step.to_string()].as_f64(), Some(score));
        }
    }
}
