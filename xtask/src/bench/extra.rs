//! The rows beyond W1–W6 (issue 21): W8 (an epoch end to end against
//! PyTorch's `DataLoader`), peak memory per workload, the under-load rows,
//! W9 (`cargo xtask reproduce`, wall time) — each measured in children of
//! their own — and the child mode that runs a named list of workloads.

use super::confirm::Build;
use super::protocol::{Output, workload_line};
use super::table::{Measured, W6_NAME};
use super::{TORCH_SCRIPT, checked, output, time_budgeted};
use anyhow::{Context, Result, bail};
use descent_bench::{
    AugmentBatch, EpochWorkload, OptimStepId, Timing, W5_PARAMS, W6_BATCH, W8_NAME, WorkloadId,
    peak_rss_kib, w8_data,
};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The workloads timed under load (W1 and W7): add a workload's name here and it
/// gets its under-load rows, beside PyTorch's.
pub const UNDER_LOAD: &[&str] = &["w1_sgd", "w1_adam", "w7_sgd", "w7_adamw"];
/// The PyTorch W8 variant whose `DataLoader` has two worker processes
/// (`num_workers=2`, persistent); the plain name has none.
pub const W8_WORKERS2: &str = "w8_epoch:workers2";
/// Epochs timed per W8 child (after one untimed warm-up epoch).
const W8_EPOCHS: usize = 5;
/// Epochs timed per W8 child with `--quick`.
const W8_EPOCHS_QUICK: usize = 2;

/// Which groups of rows a run measures (`--only`); W9 only when named or
/// with `--with-w9`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Groups {
    /// W1–W6, the Trainer rows and the limits (`w1-w6`).
    pub table: bool,
    /// W8 (`w8`).
    pub w8: bool,
    /// Peak memory of W1–W6 (`peak`; W8's comes with W8).
    pub peak: bool,
    /// The under-load rows (`load`).
    pub load: bool,
    /// W9 (`w9`).
    pub w9: bool,
}

impl Default for Groups {
    fn default() -> Self {
        Groups {
            table: true,
            w8: true,
            peak: true,
            load: true,
            w9: false,
        }
    }
}

impl Groups {
    /// The groups of a comma-separated `--only` list.
    pub fn parse(list: &str) -> Result<Groups> {
        let mut g = Groups {
            table: false,
            w8: false,
            peak: false,
            load: false,
            w9: false,
        };
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "w1-w6" => g.table = true,
                "w8" => g.w8 = true,
                "peak" => g.peak = true,
                "load" => g.load = true,
                "w9" => g.w9 = true,
                _ => bail!("--only: unknown group `{name}` (known: w1-w6, w8, peak, load, w9)"),
            }
        }
        if !(g.table || g.w8 || g.peak || g.load || g.w9) {
            bail!("--only needs at least one group (w1-w6, w8, peak, load, w9)");
        }
        Ok(g)
    }
}

/// What the extra groups measured.
#[derive(Debug, Default)]
pub struct Extra {
    /// W8 per thread count: descent, PyTorch without workers, PyTorch with
    /// two (PyTorch empty when skipped); `Err` with the reason when the
    /// MNIST files are missing; `None` when not run.
    pub w8: Option<Result<Vec<(usize, W8Measured)>, String>>,
    /// Peak resident set per thread count and workload: descent's and
    /// PyTorch's, KiB.
    pub peaks: Vec<(usize, Vec<PeakRow>)>,
    /// The under-load rows per thread count.
    pub load: Vec<(usize, Measured)>,
    /// W9's wall time and whether it succeeded.
    pub w9: Option<W9>,
}

/// W8 at one thread count.
#[derive(Debug, Default)]
pub struct W8Measured {
    /// descent's child.
    pub descent: Output,
    /// PyTorch, `num_workers=0`.
    pub torch: Output,
    /// PyTorch, `num_workers=2`.
    pub torch_workers: Output,
    /// The baseline's child (`--baseline`; else empty).
    pub baseline: Output,
}

/// W9's result.
#[derive(Debug, Clone, PartialEq)]
pub struct W9 {
    /// Wall time of the whole `cargo xtask reproduce` run, seconds.
    pub wall_s: f64,
    /// Whether it exited successfully.
    pub ok: bool,
    /// Where its output went.
    pub log: PathBuf,
}

/// How the parent runs the extra children.
pub struct Runner<'a> {
    /// The baseline's `xtask` (`--baseline`), whose child runs beside this
    /// build's with the same arguments, the two taking turns going first.
    pub baseline: Option<&'a Path>,
    /// The Python interpreter, when torch is importable.
    pub python: Option<&'a str>,
    /// `--quick`.
    pub quick: bool,
    /// Rounds (alternating descent and PyTorch).
    pub rounds: usize,
    /// The data root holding `mnist/` (or the `mnist` folder).
    pub mnist: &'a Path,
    /// Run the children through [`fair`].
    pub fair: bool,
}

/// `cmd` under the normal scheduler at the highest weight: `chrt -o 0 nice
/// -n -20 cmd` (so under a real-time `chrt -f` run, the under-load rows'
/// processes and the busy loop share cores as the normal scheduler shares
/// them — a real-time busy loop would take its core whole — while the
/// machine's other, nice-0 work gets little of them).
pub fn fair(cmd: &Command) -> Command {
    let mut fair = Command::new("chrt");
    fair.args(["-o", "0", "nice", "-n", "-20"])
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => fair.env(k, v),
            None => fair.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        fair.current_dir(dir);
    }
    fair
}

impl Runner<'_> {
    fn descent(&self, threads: usize, names: &[&str]) -> Result<Output> {
        let exe = std::env::current_exe().context("locating xtask")?;
        self.child(&exe, threads, names, "descent child")
    }

    /// This build's child and the baseline's (when there is one) with the
    /// same arguments, absorbed into `this` and `base`, in round `round`'s
    /// order ([`super::first_in_round`]).
    fn both(
        &self,
        round: usize,
        threads: usize,
        names: &[&str],
        (this, base): (&mut Output, &mut Output),
    ) -> Result<()> {
        for build in super::first_in_round(round) {
            match (build, self.baseline) {
                (Build::This, _) => this.absorb(self.descent(threads, names)?),
                (Build::Baseline, Some(exe)) => {
                    base.absorb(self.child(exe, threads, names, "baseline child")?)
                }
                (Build::Baseline, None) => {}
            }
        }
        Ok(())
    }

    /// `exe bench --child-only NAMES` at `threads` threads.
    fn child(&self, exe: &Path, threads: usize, names: &[&str], what: &str) -> Result<Output> {
        let mut cmd = Command::new(exe);
        cmd.args(["bench", "--child-only", &names.join(",")])
            .arg("--mnist")
            .arg(self.mnist)
            .env(descent_core::threads::ENV_VAR, threads.to_string());
        if self.quick {
            cmd.arg("--quick");
        }
        if self.fair {
            cmd = fair(&cmd);
        }
        checked(&output(&mut cmd, what)?, threads, what)
    }

    fn torch(&self, threads: usize, names: &[&str]) -> Result<Output> {
        let Some(python) = self.python else {
            return Ok(Output::default());
        };
        let mut cmd = Command::new(python);
        cmd.current_dir(super::super::workspace_root())
            .arg(TORCH_SCRIPT)
            .args(["--threads", &threads.to_string()])
            .args(["--w5-params", &W5_PARAMS.to_string()])
            .args(["--w6-batch", &W6_BATCH.to_string()])
            .args(["--only", &names.join(",")])
            .arg("--mnist")
            .arg(self.mnist);
        if self.quick {
            cmd.arg("--quick");
        }
        if self.fair {
            cmd = fair(&cmd);
        }
        checked(&output(&mut cmd, TORCH_SCRIPT)?, threads, TORCH_SCRIPT)
    }

    /// W8 at every thread count, alternating descent, PyTorch without
    /// workers and PyTorch with two, round by round; each in its own
    /// process, whose peak memory is W8's.
    pub fn w8(&self, threads: &[usize]) -> Result<Result<Vec<(usize, W8Measured)>, String>> {
        if let Err(e) = descent_data::resolve(
            "mnist",
            &["train-images-idx3-ubyte", "train-labels-idx1-ubyte"],
            Some(self.mnist),
        ) {
            let why = format!("W8 skipped: MNIST not found ({e})");
            println!("{why}");
            return Ok(Err(why));
        }
        let all = self.alternate(
            threads,
            self.rounds,
            "W8",
            |round, t, m: &mut W8Measured| {
                self.both(round, t, &[W8_NAME], (&mut m.descent, &mut m.baseline))?;
                m.torch.absorb(self.torch(t, &[W8_NAME])?);
                m.torch_workers.absorb(self.torch(t, &[W8_WORKERS2])?);
                Ok(())
            },
        )?;
        Ok(Ok(all))
    }

    /// `rounds` rounds, each calling `one(round, t, measured_t)` for every thread
    /// count in turn, so the machine's drift over minutes falls on every
    /// thread count alike; `label` names the rows in the progress lines.
    fn alternate<M: Default>(
        &self,
        threads: &[usize],
        rounds: usize,
        label: &str,
        mut one: impl FnMut(usize, usize, &mut M) -> Result<()>,
    ) -> Result<Vec<(usize, M)>> {
        let mut all: Vec<(usize, M)> = threads.iter().map(|&t| (t, M::default())).collect();
        for round in 0..rounds {
            for (t, m) in &mut all {
                println!(
                    "bench: {label}, {t} thread(s), round {}/{rounds}",
                    round + 1
                );
                one(round, *t, m)?;
            }
        }
        Ok(all)
    }

    /// The peak resident set of every W1–W6 workload on each side, one
    /// child per workload (with `--quick`'s short budget: a peak is reached
    /// in the first steps).
    pub fn peaks(&self, threads: &[usize]) -> Result<Vec<(usize, Vec<PeakRow>)>> {
        let quick = Runner {
            quick: true,
            ..*self
        };
        let mut names: Vec<String> = WorkloadId::ALL.iter().map(|w| w.name().into()).collect();
        names.extend(OptimStepId::ALL.iter().map(|w| w.name()));
        names.push(W6_NAME.into());
        let mut all = Vec::new();
        for &t in threads {
            println!("bench: peak memory, {t} thread(s)");
            let mut rows = Vec::new();
            for name in &names {
                let d = quick.descent(t, &[name])?.peak_kib;
                let p = quick.torch(t, &[name])?.peak_kib;
                rows.push((name.clone(), d, p));
            }
            all.push((t, rows));
        }
        Ok(all)
    }

    /// [`UNDER_LOAD`] at every thread count while one busy-loop process
    /// keeps a core busy (started here, killed on every way out); the busy
    /// loop and the children run through [`fair`].
    pub fn under_load(&self, threads: &[usize], busy: Command) -> Result<Vec<(usize, Measured)>> {
        let busy = Busy::start(fair(&busy))?;
        let this = Runner {
            fair: true,
            ..*self
        };
        println!("bench: busy loop running (pid {})", busy.id());
        // The goal compares 1 and 2 threads on medians, so these rows take
        // twice the table's rounds.
        self.alternate(
            threads,
            self.rounds * 2,
            "under load",
            |round, t, m: &mut Measured| {
                this.both(round, t, UNDER_LOAD, (&mut m.descent, &mut m.baseline))?;
                m.torch.absorb(this.torch(t, UNDER_LOAD)?);
                Ok(())
            },
        )
    }
}

/// One peak-memory row: the workload, descent's and PyTorch's peak (KiB).
pub type PeakRow = (String, Option<u64>, Option<u64>);

/// W9: one full `cargo xtask reproduce` (this binary's `reproduce`, so no
/// build is timed), its output in `out/w9-reproduce.log`.
pub fn w9(out: &Path) -> Result<W9> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let log = out.join("w9-reproduce.log");
    let file =
        std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
    let exe = std::env::current_exe().context("locating xtask")?;
    println!(
        "bench: W9, `cargo xtask reproduce` (full), output in {}",
        log.display()
    );
    let start = Instant::now();
    let status = Command::new(exe)
        .arg("reproduce")
        .arg("--out")
        .arg(out.join("w9-reproduce"))
        .stdout(file.try_clone().context("duplicating the log file")?)
        .stderr(file)
        .status()
        .context("running `xtask reproduce`")?;
    Ok(W9 {
        wall_s: start.elapsed().as_secs_f64(),
        ok: status.success(),
        log,
    })
}

/// A busy-loop process competing for a core, killed and reaped when
/// dropped: on success, on an error (`?`) and on a panic's unwinding. If
/// this process dies without unwinding, the loop sees its parent change and
/// exits by itself ([`busy_loop`]).
pub struct Busy(Child);

impl Busy {
    /// Starts `cmd` (normally `xtask bench --busy`) with no input or output.
    pub fn start(mut cmd: Command) -> Result<Busy> {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting the busy-loop process")?;
        Ok(Busy(child))
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The command of the busy loop: this binary's `bench --busy`.
pub fn busy_command() -> Result<Command> {
    let exe = std::env::current_exe().context("locating xtask")?;
    let mut cmd = Command::new(exe);
    cmd.args(["bench", "--busy"]);
    Ok(cmd)
}

/// `bench --busy`: keeps one core busy with integer arithmetic until killed,
/// or until its parent goes away (checked every 50 ms).
pub fn busy_loop() -> Result<()> {
    let parent = std::os::unix::process::parent_id();
    let mut x = 1u64;
    loop {
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(50) {
            for _ in 0..1000 {
                x = std::hint::black_box(
                    x.wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407),
                );
            }
        }
        if std::os::unix::process::parent_id() != parent {
            return Ok(());
        }
    }
}

/// `bench --child-only NAMES [--quick] [--mnist DIR]`: times the named
/// workloads (comma-separated: W1–W4, W5, W6 and W8 names) in this process,
/// printing the line protocol, then the process's `peak` resident set.
pub fn child_only(args: &[String]) -> Result<()> {
    let names = args.first().context("--child-only needs workload names")?;
    let quick = args.iter().any(|a| a == "--quick");
    let mnist = args
        .iter()
        .position(|a| a == "--mnist")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    println!("threads {}", descent_core::threads::num_threads());
    let budget_s = if quick { 0.3 } else { 2.0 };
    for name in names.split(',').filter(|n| !n.is_empty()) {
        let t = time_named(name, budget_s, quick, mnist.as_deref())
            .with_context(|| format!("workload {name}"))?;
        println!("{}", workload_line(name, &t));
    }
    if let Some(kib) = peak_rss_kib() {
        println!("peak {kib}");
    }
    Ok(())
}

fn time_named(name: &str, budget_s: f64, quick: bool, mnist: Option<&Path>) -> Result<Timing> {
    if let Some(id) = WorkloadId::from_name(name) {
        return time_budgeted(budget_s, &mut id.build(0), |_| {}, |w| w.step().map(drop));
    }
    if let Some(id) = OptimStepId::ALL.into_iter().find(|id| id.name() == name) {
        return time_budgeted(budget_s, &mut id.build(), |_| {}, |w| w.step());
    }
    if name == W6_NAME {
        let mut w = AugmentBatch::new(W6_BATCH);
        return time_budgeted(budget_s, &mut w, AugmentBatch::reset, AugmentBatch::step);
    }
    if name == W8_NAME {
        let dir = mnist.context("W8 needs --mnist DIR")?;
        let epochs = if quick { W8_EPOCHS_QUICK } else { W8_EPOCHS };
        return w8_epochs(dir, epochs);
    }
    bail!("no workload is called `{name}`")
}

/// W8's timing: the files read once (untimed), one warm-up epoch, then
/// `epochs` timed epochs, ms each.
fn w8_epochs(dir: &Path, epochs: usize) -> Result<Timing> {
    let data = w8_data(dir).context("reading MNIST")?;
    let mut w = EpochWorkload::new(data, 0)?;
    w.epoch()?;
    let mut samples_ms = Vec::with_capacity(epochs);
    for _ in 0..epochs {
        let start = Instant::now();
        let loss = w.epoch()?;
        samples_ms.push(start.elapsed().as_secs_f64() * 1e3);
        if !loss.is_finite() {
            bail!("W8's training loss is {loss}");
        }
    }
    Ok(Timing { samples_ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(pid: u32) -> bool {
        // A reaped process has no /proc entry; a zombie says so in its state.
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
    }

    fn sleeper() -> Command {
        let mut cmd = Command::new("sleep");
        cmd.arg("600");
        cmd
    }

    #[test]
    fn the_busy_process_is_killed_when_its_guard_drops() {
        let busy = Busy::start(sleeper()).unwrap();
        let pid = busy.id();
        assert!(alive(pid));
        drop(busy);
        assert!(!alive(pid), "process {pid} survived its guard");
    }

    #[test]
    fn the_busy_process_is_killed_on_an_error_path() {
        let mut pid = 0;
        let mut failing = || -> Result<()> {
            let busy = Busy::start(sleeper())?;
            pid = busy.id();
            bail!("a child failed")
        };
        assert!(failing().is_err());
        assert!(pid != 0 && !alive(pid), "process {pid} survived the error");
    }

    #[test]
    fn fair_wraps_the_command_keeping_its_environment() {
        let mut cmd = Command::new("prog");
        cmd.args(["a", "b"]).env("X", "1").current_dir("/tmp");
        let f = fair(&cmd);
        assert_eq!(f.get_program(), "chrt");
        let args: Vec<_> = f.get_args().collect();
        assert_eq!(args, ["-o", "0", "nice", "-n", "-20", "prog", "a", "b"]);
        assert_eq!(
            f.get_envs().collect::<Vec<_>>(),
            [("X".as_ref(), Some("1".as_ref()))]
        );
        assert_eq!(f.get_current_dir(), Some(Path::new("/tmp")));
    }

    #[test]
    fn groups_parse_and_w9_is_opt_in() {
        assert!(!Groups::default().w9);
        let g = Groups::parse("w8,peak").unwrap();
        assert!(g.w8 && g.peak && !g.table && !g.load && !g.w9);
        assert!(Groups::parse("w9").unwrap().w9);
        assert!(Groups::parse("w7x").is_err());
        assert!(Groups::parse(",").is_err());
    }

    #[test]
    fn an_unknown_workload_name_is_an_error() {
        let err = time_named("w0_none", 0.0, true, None).unwrap_err();
        assert!(err.to_string().contains("w0_none"), "{err}");
        assert!(time_named(W8_NAME, 0.0, true, None).is_err());
    }
}
