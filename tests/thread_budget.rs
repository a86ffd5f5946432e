//! `DESCENT_NUM_THREADS=2` means at most two threads busy with descent's
//! work, whatever rayon's own setting: a child process (the setting is
//! process-wide and read once) runs the threaded kernels of the benchmark
//! workloads — a CNN training step (GEMMs of both libraries, im2col,
//! pooling, Adam), an optimizer step over 10M parameters cut into 16
//! pieces, a batch of image augmentation — with `RAYON_NUM_THREADS=8`, so
//! that work leaking onto rayon's global pool would show up as more threads,
//! and then counts, from `/proc`, the threads that spent CPU time on it.

use std::collections::BTreeMap;
use std::process::Command;

/// Set in the child process.
const CHILD_ENV: &str = "DESCENT_THREAD_BUDGET_CHILD";
const TEST_NAME: &str = "descent_num_threads_bounds_the_busy_threads";

#[test]
fn descent_num_threads_bounds_the_busy_threads() {
    if std::env::var_os(CHILD_ENV).is_some() {
        child();
        return;
    }
    if !cfg!(target_os = "linux") {
        println!("per-thread CPU times are read from Linux's /proc; nothing to check here");
        return;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = Command::new(exe)
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .env("DESCENT_NUM_THREADS", "2")
        .env("RAYON_NUM_THREADS", "8")
        .output()
        .expect("the child test runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("busy threads: ").map(|(_, r)| r))
        .unwrap_or_else(|| panic!("no report from the child: {stdout}"));
    println!("busy threads: {line}");
    let busy: usize = line
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count");
    // Two, not fewer: the work really ran on two threads besides the caller.
    assert_eq!(busy, 2, "DESCENT_NUM_THREADS=2: {line}");
}

/// Runs the threaded work and prints how many other threads were busy.
fn child() {
    assert_eq!(descent::core::threads::num_threads(), 2);
    let me = current_tid();
    let before = cpu_ns_by_thread();
    let mut cnn = descent_bench::WorkloadId::W3Adam.build(0);
    for _ in 0..4 {
        cnn.step().expect("a CNN step");
    }
    let mut adam = descent_bench::OptimStepId::ALL[0].build();
    for _ in 0..10 {
        adam.step().expect("an Adam step");
    }
    let mut augment = descent_bench::AugmentBatch::new(512);
    for _ in 0..4 {
        augment.step().expect("an augmentation batch");
    }
    let after = cpu_ns_by_thread();
    let spent: BTreeMap<u64, u64> = after
        .iter()
        .filter(|&(&tid, _)| tid != me)
        .map(|(&tid, &ns)| (tid, ns - before.get(&tid).copied().unwrap_or(0).min(ns)))
        .collect();
    let total: u64 = spent.values().sum();
    // Busy: at least 5% of the CPU time the other threads spent. A worker
    // that only wakes, finds nothing and sleeps again spends far less.
    let busy = spent.values().filter(|&&ns| ns * 20 >= total).count();
    let ms: Vec<String> = spent
        .values()
        .map(|ns| format!("{:.1}", *ns as f64 / 1e6))
        .collect();
    println!(
        "busy threads: {busy} of {} other threads (CPU ms each: {})",
        spent.len(),
        ms.join(", ")
    );
}

/// The calling thread's id (`/proc/thread-self` links to `PID/task/TID`).
fn current_tid() -> u64 {
    let link = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
    link.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.parse().ok())
        .expect("a thread id")
}

/// CPU time in nanoseconds of every thread of this process: the first field
/// of `schedstat`, else `utime + stime` of `stat` in clock ticks (100 Hz).
fn cpu_ns_by_thread() -> BTreeMap<u64, u64> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let dir = entry.expect("a task entry").path();
        let Some(tid) = dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse().ok())
        else {
            continue;
        };
        let ns = std::fs::read_to_string(dir.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .or_else(|| {
                let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
                // After the parenthesised name, from the state on: utime
                // and stime are the 12th and 13th fields.
                let f: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
                let ticks = |i: usize| f.get(i)?.parse::<u64>().ok();
                Some((ticks(11)? + ticks(12)?) * 10_000_000)
            });
        if let Some(ns) = ns {
            out.insert(tid, ns);
        }
    }
    out
}
