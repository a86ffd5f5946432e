//! `cargo xtask bench`: the criterion benchmarks, then tables of the
//! workloads W1–W7 at 1 and 2 threads, beside PyTorch when the chosen
//! interpreter can import torch, and this machine's limits. `--rows
//! PREFIX,...` times only the rows whose names start with one of the
//! prefixes (`--rows w7` for W7's two rows), on both sides.
//!
//! Each measurement runs in a child process (`bench --child`) with
//! `DESCENT_NUM_THREADS` set, so a thread count holds for the whole process
//! (PyTorch's script likewise calls `torch.set_num_threads` once). Children print the
//! line protocol of `bench/protocol.rs`; `benches/torch_workloads.py` prints
//! the same lines. Each round runs descent then PyTorch, and rounds
//! alternate, so both see the same machine state.
//!
//! Beyond W1–W6 (`bench/extra.rs`): W8, an epoch end to end against
//! PyTorch's `DataLoader`; each workload's peak memory; W1 (and the other
//! names of `extra::UNDER_LOAD`) under load; W9 on request; and the
//! comparison with the previous table (`bench/previous.rs`). `--only`
//! picks groups of rows. `--baseline REV` also builds an earlier commit and
//! times it in the same run, round by round beside this build (the two
//! taking turns going first)
//! (`bench/baseline.rs`), and judges every row against it; `--baseline
//! previous` builds the commit the previous table records. A row flagged
//! against the baseline is timed again in `--confirm N` rounds (default 7)
//! before the verdict stands (`bench/confirm.rs`).

mod baseline;
mod confirm;
mod extra;
mod extra_table;
mod previous;
mod protocol;
mod table;

use anyhow::{Context, Result, bail};
use descent_bench::{
    AugOpBatch, AugOpId, AugmentBatch, OptimStepId, TRAINER_STEPS, Timing, TrainerData,
    TrainerWorkload, W5_PARAMS, W6_BATCH, WorkloadId, sgemm_gflops, time_prepared_steps, triad_gbs,
};
use protocol::{Output, workload_line};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use table::{Measured, Torch, TorchStatus, W6_NAME};

/// Thread counts the table reports.
const THREADS: [usize; 2] = [1, 2];
/// The PyTorch script, relative to the workspace root.
const TORCH_SCRIPT: &str = "benches/torch_workloads.py";
/// The environment variable naming the Python interpreter.
const PYTHON_ENV: &str = "DESCENT_PYTHON";

#[derive(Debug)]
struct Args {
    table_only: bool,
    quick: bool,
    rounds: usize,
    out: PathBuf,
    python: String,
    criterion: Vec<String>,
    /// `--rows`: name prefixes of the rows to time (empty: every row).
    rows: Vec<String>,
    /// The groups of rows to measure (`--only`, `--with-w9`).
    groups: extra::Groups,
    /// The data root holding `mnist/` (`--mnist`; default `../shared/datasets`).
    mnist: PathBuf,
    /// Store this run as the previous table (`--save-previous`).
    save_previous: bool,
    /// `--baseline REV`: the revision timed beside this build.
    baseline: Option<String>,
    /// `--confirm N`: confirmation rounds of the rows flagged against the
    /// baseline (0: none).
    confirm: usize,
}

/// Parses the arguments; `env_python` is `$DESCENT_PYTHON`, which
/// `--python` overrides (default `python3`).
fn parse(args: &[String], env_python: Option<String>) -> Result<Args> {
    let mut a = Args {
        table_only: false,
        quick: false,
        rounds: 2,
        out: super::workspace_root().join("out"),
        python: env_python
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| "python3".into()),
        criterion: Vec::new(),
        rows: Vec::new(),
        groups: extra::Groups::default(),
        mnist: super::workspace_root().join("../shared/datasets"),
        save_previous: false,
        baseline: None,
        confirm: confirm::DEFAULT_ROUNDS,
    };
    let (mut with_w9, mut confirm_given) = (false, false);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--table" => a.table_only = true,
            "--quick" => a.quick = true,
            "--rounds" => {
                let n = it.next().context("--rounds needs a number")?;
                a.rounds = n.parse().with_context(|| format!("--rounds {n}"))?;
                if a.rounds == 0 {
                    bail!("--rounds must be positive");
                }
            }
            "--out" => a.out = it.next().context("--out needs a folder")?.into(),
            "--python" => a.python = it.next().context("--python needs an interpreter")?.clone(),
            "--rows" => a.rows = only_prefixes(it.next().context("--rows needs row names")?)?,
            "--only" => a.groups = extra::Groups::parse(it.next().context("--only needs groups")?)?,
            "--with-w9" => with_w9 = true,
            "--mnist" => a.mnist = it.next().context("--mnist needs a folder")?.into(),
            "--save-previous" => a.save_previous = true,
            "--baseline" => {
                a.baseline = Some(it.next().context("--baseline needs a revision")?.clone())
            }
            "--confirm" => {
                let n = it.next().context("--confirm needs a number of rounds")?;
                a.confirm = n.parse().with_context(|| format!("--confirm {n}"))?;
                confirm_given = true;
            }
            "--previous" => {
                bail!(
                    "--previous is gone: the previous table is `{}` (store one with --save-previous)",
                    previous::PREVIOUS
                )
            }
            _ => a.criterion.push(arg.clone()),
        }
    }
    a.groups.w9 |= with_w9;
    if confirm_given && a.baseline.is_none() {
        bail!("--confirm re-times rows flagged against a baseline: give --baseline REV too");
    }
    Ok(a)
}

/// The comma-separated row-name prefixes of `--rows` (`w7` or `w1_sgd,w7`).
fn only_prefixes(list: &str) -> Result<Vec<String>> {
    let prefixes: Vec<String> = list.split(',').map(|p| p.trim().to_owned()).collect();
    if prefixes
        .iter()
        .any(|p| p.is_empty() || p.contains(char::is_whitespace))
    {
        bail!(
            "--rows takes comma-separated row names or prefixes (`w7` or `w1_sgd,w7`), got {list:?}"
        );
    }
    Ok(prefixes)
}

/// Which rows a run times: all, or those whose name starts with a prefix.
#[derive(Clone, Debug, Default)]
struct Only(Vec<String>);

impl Only {
    fn wants(&self, name: &str) -> bool {
        self.0.is_empty() || self.0.iter().any(|p| name.starts_with(p.as_str()))
    }
}

/// Entry point of `cargo xtask bench [FILTER] [--table] [--quick] [--rounds N] [--out DIR] [--python PATH]
/// [--rows PREFIX,...] [--only GROUPS] [--with-w9] [--mnist DIR] [--save-previous] [--baseline REV]
/// [--confirm N]`.
pub fn main(args: &[String]) -> Result<()> {
    if args.first().map(String::as_str) == Some("--child") {
        let only = match args.iter().position(|a| a == "--rows") {
            Some(i) => only_prefixes(args.get(i + 1).context("--rows needs row names")?)?,
            None => Vec::new(),
        };
        return child(args.iter().any(|a| a == "--quick"), &Only(only));
    }
    match args.first().map(String::as_str) {
        Some("--child-only") => return extra::child_only(&args[1..]),
        Some("--busy") => return extra::busy_loop(),
        _ => {}
    }
    let a = parse(args, std::env::var(PYTHON_ENV).ok())?;
    if !a.table_only {
        let mut cargo_args = vec!["bench", "--bench", "bench_main", "--"];
        cargo_args.extend(a.criterion.iter().map(String::as_str));
        super::cargo(&cargo_args, &[])?;
    }
    // Built before anything is timed: no compiler runs beside a measurement.
    let root = super::workspace_root();
    let previous_path = root.join(previous::PREVIOUS);
    let baseline = match a.baseline.as_deref() {
        Some(baseline::PREVIOUS_REV) => {
            let prev = previous::Summary::read(&previous_path)?;
            let mut b = baseline::Baseline::build(&root, prev.baseline_commit()?)?;
            b.rev = baseline::PREVIOUS_REV.into();
            Some(b)
        }
        Some(rev) => Some(baseline::Baseline::build(&root, rev)?),
        None => None,
    };
    let (commit, modified) = baseline::this_commit(&root);
    let base_exe = baseline.as_ref().map(|b| b.exe.as_path());
    let exe = std::env::current_exe().context("locating xtask")?;
    let load_before = load_average();
    let torch = probe_torch(&a.python);
    match &torch.status {
        TorchStatus::Available { version } => println!("PyTorch {version} from {}", a.python),
        TorchStatus::Unavailable { reason } => println!(
            "PyTorch comparison skipped: torch not importable by {} ({reason})",
            a.python
        ),
    }
    let mut results = Vec::new();
    let table_threads: &[usize] = if a.groups.table { &THREADS } else { &[] };
    for &threads in table_threads {
        let mut m = Measured::default();
        for round in 0..a.rounds {
            println!(
                "bench: {threads} thread(s), round {}/{}",
                round + 1,
                a.rounds
            );
            // With a baseline, the two builds take turns going first
            // (`first_in_round`).
            for build in first_in_round(round) {
                let (exe, into, what) = match build {
                    confirm::Build::This => (exe.as_path(), &mut m.descent, "descent child"),
                    confirm::Build::Baseline => match base_exe {
                        Some(base) => (base, &mut m.baseline, "baseline child"),
                        None => continue,
                    },
                };
                into.absorb(checked(
                    &run_descent(exe, threads, a.quick, &a.rows)?,
                    threads,
                    what,
                )?);
            }
            if matches!(torch.status, TorchStatus::Available { .. }) {
                let out = run_torch(&a.python, threads, a.quick, &a.rows)?;
                m.torch.absorb(checked(&out, threads, TORCH_SCRIPT)?);
            }
        }
        results.push((threads, m));
    }
    let confirmed = match base_exe {
        Some(base) if a.confirm > 0 => confirm_flagged(&results, &exe, base, &a)?,
        _ => BTreeMap::new(),
    };
    let extra = run_extra(&a, &torch, base_exe)?;
    let load = [load_before, load_average()];
    let previous = previous_path
        .exists()
        .then(|| previous::Summary::read(&previous_path));
    let mut md = table::render(
        &results,
        &torch,
        &load,
        previous.as_ref().and_then(|p| p.as_ref().ok()),
    );
    if !a.groups.table {
        // Keep the header and explanations only.
        md.truncate(md.find("\n## ").unwrap_or(md.len()));
    }
    md.push_str(&extra_table::render(&extra));
    let mut summary = summarize(&results, &extra, load, Side::ThisBuild);
    (summary.commit, summary.modified) = (commit, modified);
    let base_summary = baseline.as_ref().map(|b| {
        let mut s = summarize(&results, &extra, load, Side::Baseline);
        s.commit = Some(b.commit.clone());
        s
    });
    if let (Some(b), Some(base)) = (&baseline, &base_summary) {
        md.push_str(&previous::render_baseline(
            &b.rev, &b.commit, base, &summary, &confirmed,
        ));
    }
    match &previous {
        Some(Ok(prev)) => md.push_str(&previous::render(prev, &summary)),
        Some(Err(e)) => {
            let _ = writeln!(md, "\nThe previous table could not be read: {e:#}.");
        }
        None => {
            let _ = writeln!(
                md,
                "\nNo previous table (`{}`): store one with `--save-previous`.",
                previous::PREVIOUS
            );
        }
    }
    println!("\n{md}");
    let path = a.out.join("BENCH.md");
    write_atomically(&path, &md)?;
    println!("wrote {}", path.display());
    let json = a.out.join("BENCH.json");
    summary.write(&json)?;
    println!("wrote {}", json.display());
    if let Some(base) = &base_summary {
        let json = a.out.join("BENCH-baseline.json");
        base.write(&json)?;
        println!("wrote {}", json.display());
    }
    if a.save_previous {
        summary.write(&previous_path)?;
        println!(
            "wrote {} (the previous table from now on)",
            previous_path.display()
        );
    }
    Ok(())
}

/// The order of this build's and the baseline's children in round `round`
/// (from 0): this build first in even rounds, the baseline first in odd
/// ones. A fixed order favoured one slot: in a run of `d6874b2` against
/// `82542a6`, whose crates are the same code, with this build always
/// first, 59 of 90 rows had this build's median the slower, by 6.6% on
/// average.
pub(crate) fn first_in_round(round: usize) -> [confirm::Build; 2] {
    if round.is_multiple_of(2) {
        [confirm::Build::This, confirm::Build::Baseline]
    } else {
        [confirm::Build::Baseline, confirm::Build::This]
    }
}

/// Times again the table rows the interquartile rule flags against the
/// baseline, in `a.confirm` rounds per thread count (`bench/confirm.rs`);
/// keyed by summary row name (`descent 2t w1_sgd`).
fn confirm_flagged(
    results: &[(usize, Measured)],
    exe: &Path,
    base: &Path,
    a: &Args,
) -> Result<BTreeMap<String, confirm::Confirmation>> {
    let mut all = BTreeMap::new();
    for (threads, m) in results {
        let flagged = confirm::flagged(&m.descent, &m.baseline);
        if flagged.is_empty() {
            continue;
        }
        println!(
            "bench: {threads} thread(s), confirming {} flagged row(s) in {} rounds: {}",
            flagged.len(),
            a.confirm,
            flagged.keys().cloned().collect::<Vec<_>>().join(", ")
        );
        let rounds = confirm::confirm(&flagged, a.confirm, |build, names| {
            let (exe, what) = match build {
                confirm::Build::This => (exe, "descent confirmation child"),
                confirm::Build::Baseline => (base, "baseline confirmation child"),
            };
            checked(&run_descent(exe, *threads, a.quick, names)?, *threads, what)
        })?;
        for (name, c) in rounds {
            all.insert(format!("descent {threads}t {name}"), c);
        }
    }
    Ok(all)
}

/// Measures the groups beyond W1–W6 that `a` asks for.
fn run_extra(a: &Args, torch: &Torch, baseline: Option<&Path>) -> Result<extra::Extra> {
    let runner = extra::Runner {
        baseline,
        python: matches!(torch.status, TorchStatus::Available { .. }).then_some(a.python.as_str()),
        quick: a.quick,
        rounds: a.rounds,
        mnist: &a.mnist,
        fair: false,
    };
    let mut e = extra::Extra::default();
    if a.groups.w8 {
        e.w8 = Some(runner.w8(&THREADS)?);
    }
    if a.groups.peak {
        e.peaks = runner.peaks(&THREADS)?;
    }
    if a.groups.load {
        e.load = runner.under_load(&THREADS, extra::busy_command()?)?;
    }
    if a.groups.w9 {
        e.w9 = Some(extra::w9(&a.out)?);
    }
    Ok(e)
}

/// Whose rows a summary holds: this build's and PyTorch's, or the
/// baseline's (named as this build's, so the two compare row by row).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    ThisBuild,
    Baseline,
}

impl Side {
    /// This side's output of a row measured for both builds.
    fn pick<'a>(
        self,
        descent: &'a protocol::Output,
        baseline: &'a protocol::Output,
    ) -> &'a protocol::Output {
        match self {
            Side::ThisBuild => descent,
            Side::Baseline => baseline,
        }
    }
}

/// Every row of this run for `side`, for the previous-table and baseline
/// comparisons (W9 only for this build: one sample, no baseline run).
fn summarize(
    results: &[(usize, Measured)],
    extra: &extra::Extra,
    load: [Option<f64>; 2],
    side: Side,
) -> previous::Summary {
    let mut s = previous::Summary::new(load, None, false);
    let torch = side == Side::ThisBuild;
    for (threads, m) in results {
        s.add("descent", *threads, side.pick(&m.descent, &m.baseline), "");
        if torch {
            s.add("pytorch", *threads, &m.torch, "");
        }
    }
    if let Some(Ok(w8)) = &extra.w8 {
        for (threads, m) in w8 {
            s.add("descent", *threads, side.pick(&m.descent, &m.baseline), "");
            if torch {
                s.add("pytorch", *threads, &m.torch, "");
                s.add("pytorch", *threads, &m.torch_workers, "");
            }
        }
    }
    for (threads, m) in &extra.load {
        s.add(
            "descent",
            *threads,
            side.pick(&m.descent, &m.baseline),
            " (under load)",
        );
        if torch {
            s.add("pytorch", *threads, &m.torch, " (under load)");
        }
    }
    if let Some(w9) = &extra.w9
        && w9.ok
        && side == Side::ThisBuild
    {
        let t = Timing {
            samples_ms: vec![w9.wall_s * 1e3],
        };
        let mut out = protocol::Output::default();
        out.timings.insert("w9_reproduce".into(), t);
        s.add("descent", 0, &out, "");
    }
    s
}

/// Parses a run's output and checks that it ran on `threads` threads.
fn checked(text: &str, threads: usize, what: &str) -> Result<Output> {
    let out = Output::parse(text).with_context(|| format!("reading {what}'s output"))?;
    match out.threads {
        Some(n) if n == threads => Ok(out),
        Some(n) => bail!("{what} ran on {n} threads, not {threads}"),
        None => bail!("{what} did not say its thread count (no `threads` line)"),
    }
}

/// Measures the limits and every workload in this process, printing the
/// line protocol on stdout.
fn child(quick: bool, only: &Only) -> Result<()> {
    println!("threads {}", descent_core::threads::num_threads());
    let budget_s = if quick { 0.3 } else { 2.0 };
    // The limits, when any W1–W5 row is timed (their columns need them).
    if WorkloadId::ALL.iter().any(|id| only.wants(id.name()))
        || OptimStepId::ALL.iter().any(|id| only.wants(&id.name()))
    {
        let (gemm_iters, triad_len) = if quick { (2, 1 << 22) } else { (5, 1 << 24) };
        println!("limit sgemm_gflops {}", sgemm_gflops(1024, gemm_iters));
        println!("limit triad_gbs {}", triad_gbs(triad_len, 10));
    }
    for id in WorkloadId::ALL
        .into_iter()
        .filter(|id| only.wants(id.name()))
    {
        let t = time_budgeted(budget_s, &mut id.build(0), |_| {}, |w| w.step().map(drop))
            .with_context(|| format!("{} step", id.name()))?;
        println!("{}", workload_line(id.name(), &t));
    }
    for id in OptimStepId::ALL
        .into_iter()
        .filter(|id| only.wants(&id.name()))
    {
        let t = time_budgeted(budget_s, &mut id.build(), |_| {}, |w| w.step())
            .with_context(|| format!("{} step", id.name()))?;
        println!("{}", workload_line(&id.name(), &t));
    }
    trainer_rows(quick, only)?;
    // Each W6 row on its own name: `--rows w6op` times the op rows alone
    // (they were reached only through `w6_augment`'s name).
    if only.wants(W6_NAME) {
        let mut w = AugmentBatch::new(W6_BATCH);
        let t = time_budgeted(budget_s, &mut w, AugmentBatch::reset, AugmentBatch::step)
            .with_context(|| format!("{W6_NAME} batch"))?;
        println!("{}", workload_line(W6_NAME, &t));
    }
    aug_op_rows(quick, &|name| only.wants(name))
}

/// The W6 family ([`AugOpId`]): each op on W6's batch, then the geometric
/// ops with masks, timed as `benches/torch_workloads.py` times torchvision's
/// ([`Rule::op_row`]).
fn aug_op_rows(quick: bool, selected: &dyn Fn(&str) -> bool) -> Result<()> {
    let budget_s = if quick { 0.1 } else { OP_ROW_BUDGET_S };
    let rows = AugOpId::ALL
        .iter()
        .map(|&id| (id, false))
        .chain(AugOpId::WITH_MASK.iter().map(|&id| (id, true)));
    for (id, with_mask) in rows {
        let name = id.row_name(with_mask);
        if !selected(&name) {
            continue;
        }
        let mut w = AugOpBatch::w6(id, with_mask);
        let t = time_by(
            Rule::op_row(budget_s),
            &mut w,
            AugOpBatch::reset,
            AugOpBatch::step,
        )
        .with_context(|| format!("{name} batch"))?;
        println!("{}", workload_line(&name, &t));
    }
    Ok(())
}

/// Seconds of timed iterations per W6-family row (at least
/// [`OP_ROW_MIN_ITERS`] iterations, whatever they take).
const OP_ROW_BUDGET_S: f64 = 0.6;
/// Fewest timed iterations of a W6-family row.
const OP_ROW_MIN_ITERS: usize = 3;

/// How a row is timed: the median of `probes` probe steps sizes the run to about
/// `budget_s` seconds, `min_iters` to 2000 timed iterations after `warmups`
/// untimed ones.
#[derive(Clone, Copy, Debug)]
struct Rule {
    budget_s: f64,
    probes: usize,
    min_iters: usize,
    warmups: usize,
}

impl Rule {
    /// W1–W6: three probe steps, then 10 to 2000 iterations after a warm-up.
    fn workload(budget_s: f64) -> Rule {
        Rule {
            budget_s,
            probes: 3,
            min_iters: 10,
            warmups: 1,
        }
    }

    /// The W6 family's rule, shared with the PyTorch script (whose
    /// per-sample loops make one iteration take up to seconds): one probe
    /// iteration, which is also the warm-up, then [`OP_ROW_MIN_ITERS`] to
    /// 2000.
    fn op_row(budget_s: f64) -> Rule {
        Rule {
            budget_s,
            probes: 1,
            min_iters: OP_ROW_MIN_ITERS,
            warmups: 0,
        }
    }
}

/// The Trainer rows: W1 through `Trainer::fit` and the raw step, in
/// alternating rounds of [`TRAINER_STEPS`] steps each (ms per step), so the
/// machine's noise falls on all alike. The Trainer runs twice per round: on
/// the raw step's one batch (`TrainerData::Resident`, the overhead goal) and
/// on a fresh batch per step (`TrainerData::Fresh`, as real data is read).
fn trainer_rows(quick: bool, only: &Only) -> Result<()> {
    let rounds = if quick { 6 } else { 30 };
    for id in [WorkloadId::W1Sgd, WorkloadId::W1Adam]
        .into_iter()
        .filter(|id| only.wants(&format!("{}_trainer", id.name())))
    {
        let mut raw = id.build(0);
        let mut resident = TrainerWorkload::with_data(id, 0, TrainerData::Resident);
        let mut fresh = TrainerWorkload::with_data(id, 0, TrainerData::Fresh);
        let (mut raw_ms, mut trainer_ms, mut fresh_ms) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..=rounds {
            let t = std::time::Instant::now();
            for _ in 0..TRAINER_STEPS {
                raw.step()?;
            }
            let raw_t = t.elapsed().as_secs_f64() * 1e3 / TRAINER_STEPS as f64;
            let t = std::time::Instant::now();
            resident.epoch()?;
            let trainer_t = t.elapsed().as_secs_f64() * 1e3 / TRAINER_STEPS as f64;
            let t = std::time::Instant::now();
            fresh.epoch()?;
            let fresh_t = t.elapsed().as_secs_f64() * 1e3 / TRAINER_STEPS as f64;
            if round > 0 {
                raw_ms.push(raw_t);
                trainer_ms.push(trainer_t);
                fresh_ms.push(fresh_t);
            }
        }
        let name = id.name();
        println!(
            "{}",
            workload_line(
                &format!("{name}_raw_rounds"),
                &Timing { samples_ms: raw_ms }
            )
        );
        println!(
            "{}",
            workload_line(
                &format!("{name}_trainer"),
                &Timing {
                    samples_ms: trainer_ms
                }
            )
        );
        println!(
            "{}",
            workload_line(
                &format!("{name}_trainer_fresh"),
                &Timing {
                    samples_ms: fresh_ms
                }
            )
        );
    }
    Ok(())
}

/// Times `step` on `state` (after `prepare`, untimed) for about `budget_s`
/// seconds by [`Rule::workload`]. The first error stops the stepping and
/// is returned.
fn time_budgeted<S, E>(
    budget_s: f64,
    state: &mut S,
    prepare: impl FnMut(&mut S) + Copy,
    step: impl FnMut(&mut S) -> Result<(), E>,
) -> Result<Timing>
where
    E: std::error::Error + Send + Sync + 'static,
{
    time_by(Rule::workload(budget_s), state, prepare, step)
}

/// Times `step` on `state` (after `prepare`, untimed) by `rule`. The first
/// error stops the stepping and is returned.
fn time_by<S, E>(
    rule: Rule,
    state: &mut S,
    prepare: impl FnMut(&mut S) + Copy,
    mut step: impl FnMut(&mut S) -> Result<(), E>,
) -> Result<Timing>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let mut failure = None;
    let mut guarded = |s: &mut S| {
        if failure.is_none() {
            failure = step(s).err();
        }
    };
    // The median probe, not the mean: a first step that allocates the
    // optimizer's state (W5: 80 MB) would otherwise shrink the run.
    let probe = time_prepared_steps(0, rule.probes.max(1), state, prepare, &mut guarded);
    let per_step_s = probe.median_ms().max(1e-6) * 1e-3;
    let iters = ((rule.budget_s / per_step_s) as usize).clamp(rule.min_iters, 2000);
    let t = time_prepared_steps(rule.warmups, iters, state, prepare, &mut guarded);
    match failure {
        Some(e) => Err(e.into()),
        None => Ok(t),
    }
}

/// The 1-minute load average (`/proc/loadavg`), if readable: other work on
/// the machine shows up here and in the spread between median and min.
fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// One `bench --child` of the `xtask` at `exe` (this build's, or a baseline's).
fn run_descent(exe: &Path, threads: usize, quick: bool, only: &[String]) -> Result<String> {
    let mut cmd = Command::new(exe);
    cmd.args(["bench", "--child"])
        .env(descent_core::threads::ENV_VAR, threads.to_string());
    if quick {
        cmd.arg("--quick");
    }
    if !only.is_empty() {
        cmd.args(["--rows", &only.join(",")]);
    }
    output(&mut cmd, "descent child")
}

fn run_torch(python: &str, threads: usize, quick: bool, only: &[String]) -> Result<String> {
    let mut cmd = Command::new(python);
    cmd.current_dir(super::workspace_root())
        .arg(TORCH_SCRIPT)
        .args(["--threads", &threads.to_string()])
        .args(["--op-budget", &OP_ROW_BUDGET_S.to_string()])
        .args(["--op-min-iters", &OP_ROW_MIN_ITERS.to_string()])
        .args(["--w5-params", &W5_PARAMS.to_string()])
        .args(["--w6-batch", &W6_BATCH.to_string()]);
    if quick {
        cmd.arg("--quick");
    }
    if !only.is_empty() {
        cmd.args(["--rows", &only.join(",")]);
    }
    output(&mut cmd, TORCH_SCRIPT)
}

fn output(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd.output().with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8(out.stdout).with_context(|| format!("{what} printed non-UTF-8"))
}

/// Asks `python` for `torch.__version__`; any failure (the interpreter does
/// not run, or `import torch` fails) makes the comparison skipped, with the
/// reason.
fn probe_torch(python: &str) -> Torch {
    let run = Command::new(python)
        .args(["-c", "import torch; print(torch.__version__)"])
        .output();
    let status = match run {
        Err(e) => TorchStatus::Unavailable {
            reason: format!("could not run it: {e}"),
        },
        Ok(out) => probe_result(out.status.success(), &out.stdout, &out.stderr),
    };
    Torch {
        python: python.to_owned(),
        status,
    }
}

/// Reads the probe's exit status and output: the version on success, else
/// the last line of its error output.
fn probe_result(success: bool, stdout: &[u8], stderr: &[u8]) -> TorchStatus {
    let last_line = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes)
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_owned)
    };
    match (success, last_line(stdout)) {
        (true, Some(version)) => TorchStatus::Available { version },
        (true, None) => TorchStatus::Unavailable {
            reason: "`torch.__version__` printed nothing".into(),
        },
        (false, _) => TorchStatus::Unavailable {
            reason: last_line(stderr).unwrap_or_else(|| "`import torch` failed".into()),
        },
    }
}

/// Writes `text` to `path` atomically (`descent_core::fs::write_atomic`), so
/// a reader never sees a half-written table.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let dir = path.parent().context("output path has a folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    descent_core::fs::write_atomic(path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This build's summary holds descent's and PyTorch's rows; the
    /// baseline's holds its own rows under descent's names, nothing else.
    #[test]
    fn the_baseline_summary_names_its_rows_as_this_builds() {
        let out = |ms: f64| Output::parse(&format!("workload w1_sgd {ms}\n")).unwrap();
        let m = Measured {
            descent: out(2.0),
            torch: out(3.0),
            baseline: out(2.5),
        };
        let loaded = Measured {
            descent: out(4.0),
            torch: out(5.0),
            baseline: out(4.5),
        };
        let extra = extra::Extra {
            load: vec![(2, loaded)],
            ..extra::Extra::default()
        };
        let results = [(2, m)];
        let now = summarize(&results, &extra, [None, None], Side::ThisBuild);
        let base = summarize(&results, &extra, [None, None], Side::Baseline);
        let median = |s: &previous::Summary, name: &str| s.rows.get(name).map(|r| r.median_ms);
        assert_eq!(median(&now, "descent 2t w1_sgd"), Some(2.0));
        assert_eq!(median(&now, "pytorch 2t w1_sgd"), Some(3.0));
        assert_eq!(median(&now, "descent 2t w1_sgd (under load)"), Some(4.0));
        assert_eq!(median(&base, "descent 2t w1_sgd"), Some(2.5));
        assert_eq!(median(&base, "descent 2t w1_sgd (under load)"), Some(4.5));
        assert_eq!(base.rows.len(), 2, "{:?}", base.rows.keys());
    }

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn the_python_flag_beats_the_environment_which_beats_python3() {
        let env = || Some("/env/python".to_owned());
        assert_eq!(parse(&[], None).unwrap().python, "python3");
        assert_eq!(parse(&[], Some(" ".into())).unwrap().python, "python3");
        assert_eq!(parse(&[], env()).unwrap().python, "/env/python");
        let a = parse(
            &strings(&["--quick", "--python", "/venv/python", "optim"]),
            env(),
        )
        .unwrap();
        assert_eq!(a.python, "/venv/python");
        assert!(a.quick);
        assert_eq!(a.criterion, ["optim"]);
        assert!(parse(&strings(&["--python"]), None).is_err());
        assert!(parse(&strings(&["--rounds", "0"]), None).is_err());
        assert_eq!(parse(&[], None).unwrap().confirm, confirm::DEFAULT_ROUNDS);
        let zero = parse(&strings(&["--confirm", "0", "--baseline", "HEAD~1"]), None);
        assert_eq!(zero.unwrap().confirm, 0);
        let alone = parse(&strings(&["--confirm", "3"]), None).unwrap_err();
        assert!(alone.to_string().contains("give --baseline"), "{alone:#}");
        assert!(parse(&strings(&["--confirm", "x"]), None).is_err());
        assert!(parse(&strings(&["--confirm"]), None).is_err());
    }

    #[test]
    fn the_builds_take_turns_going_first() {
        use confirm::Build::{Baseline, This};
        let orders: Vec<_> = (0..4).map(first_in_round).collect();
        assert_eq!(
            orders,
            [
                [This, Baseline],
                [Baseline, This],
                [This, Baseline],
                [Baseline, This]
            ]
        );
    }

    #[test]
    fn only_keeps_the_rows_named_by_a_prefix() {
        let a = parse(&strings(&["--rows", "w7,w1_sgd", "--table"]), None).unwrap();
        let only = Only(a.rows);
        assert!(only.wants("w7_sgd") && only.wants("w7_adamw") && only.wants("w1_sgd"));
        assert!(only.wants("w1_sgd_trainer") && !only.wants("w1_adam") && !only.wants(W6_NAME));
        assert!(Only::default().wants("w5_adam_1x10m"));
        for bad in [&["--rows"][..], &["--rows", "w7,,w1"], &["--rows", ""]] {
            assert!(parse(&strings(bad), None).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_probe_reports_the_version_or_why_torch_is_missing() {
        assert_eq!(
            probe_result(true, b"2.15.0+cu132\n", b""),
            TorchStatus::Available {
                version: "2.15.0+cu132".into()
            }
        );
        let err = b"Traceback (most recent call last):\n  File ...\nModuleNotFoundError: No module named 'torch'\n";
        assert_eq!(
            probe_result(false, b"", err),
            TorchStatus::Unavailable {
                reason: "ModuleNotFoundError: No module named 'torch'".into()
            }
        );
        let missing = probe_torch("/nonexistent/python-for-descent-tests");
        assert!(
            matches!(&missing.status, TorchStatus::Unavailable { reason } if reason.starts_with("could not run it")),
            "{missing:?}"
        );
    }

    #[test]
    fn a_run_on_the_wrong_thread_count_is_refused() {
        let text = "threads 2\nworkload w1_sgd 1.0\n";
        assert_eq!(checked(text, 2, "child").unwrap().timings.len(), 1);
        assert!(checked(text, 1, "child").is_err());
        assert!(checked("workload w1_sgd 1.0\n", 1, "child").is_err());
    }

    #[test]
    fn budgeted_timing_returns_the_first_error() {
        let mut calls = 0;
        let err = time_budgeted(
            0.0,
            &mut calls,
            |_| {},
            |n| {
                *n += 1;
                if *n == 2 {
                    Err(std::fmt::Error)
                } else {
                    Ok(())
                }
            },
        );
        assert!(err.is_err());
        assert_eq!(calls, 2, "no step after the failure");
        let t = time_budgeted(0.0, &mut (), |_| {}, |_| Ok::<(), std::fmt::Error>(())).unwrap();
        assert_eq!(t.samples_ms.len(), 10);
    }
}
