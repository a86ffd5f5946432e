//! The markdown of the extra rows: W8, peak memory, under load, W9.

use super::extra::{Extra, UNDER_LOAD, W8_WORKERS2, W8Measured};
use super::previous::{Row, Verdict, verdict};
use super::table::Measured;
use descent_bench::{MNIST_MEAN_STD, Timing, W8_BATCH, W8_IMAGES, W8_NAME, W8_PAD};
use std::fmt::Write;

/// W8's memory goal: descent's peak at most this many times PyTorch's.
pub const W8_PEAK_GOAL: f64 = 1.5;
/// W9's goal, minutes.
pub const W9_GOAL_MIN: f64 = 25.0;

const W8_HEADER: &str =
    "| side | median ms/epoch | min ms | images/s | descent/this | peak MiB | descent peak/this |
|---|--:|--:|--:|--:|--:|--:|";
const PEAK_HEADER: &str = "| workload | descent peak MiB | PyTorch peak MiB | descent/PyTorch |
|---|--:|--:|--:|";
const LOAD_HEADER: &str = "| workload | descent 1 thread ms | descent 2 threads ms | 2 threads ≤ 1? | PyTorch 1 thread ms | PyTorch 2 threads ms | descent/PyTorch (2 threads) |
|---|--:|--:|:-:|--:|--:|--:|";

fn mib(kib: Option<u64>) -> String {
    kib.map_or("–".into(), |k| format!("{:.1}", k as f64 / 1024.0))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "–".into(),
    }
}

/// Renders the extra sections (empty for groups not run).
pub fn render(extra: &Extra) -> String {
    let mut md = String::new();
    match &extra.w8 {
        None => {}
        Some(Err(why)) => {
            let _ = write!(md, "\n## W8: an epoch end to end\n\n{why}.\n");
        }
        Some(Ok(rows)) => {
            let (mean, std) = MNIST_MEAN_STD;
            let _ = write!(
                md,
                "\n## W8: an epoch end to end\n\n\
                 One epoch of training on the first {W8_IMAGES} MNIST training images, batch {W8_BATCH}, shuffled: \
                 random crop after zero padding {W8_PAD}, then `Normalize({mean}, {std})`, on every batch; \
                 the W4 model (784-512-256-10 MLP, BatchNorm1d and Dropout(0.5), AdamW). \
                 descent: `Trainer::fit` with `Augmentation::new(RandomCrop).with_normalize(..)`; \
                 PyTorch: a `DataLoader` (shuffle, `num_workers` 0, or 2 persistent workers) over a `Dataset` applying \
                 torchvision v2's `Compose([RandomCrop(28, padding=2), Normalize])` per sample, and the usual loop \
                 (`zero_grad`, forward, `cross_entropy`, backward, `step`, the loss's `.item()` and the correct count). \
                 Both timers cover exactly one epoch: shuffling, batching, augmentation, normalization, the {} steps and \
                 the epoch's loss and accuracy; both read the IDX files once before (untimed, pixels converted to \
                 float32 in [0, 1] there) and run one untimed warm-up epoch. Each side runs in its own process: \
                 its peak is that process's `VmHWM` (PyTorch with workers: the main process only). \
                 Goal: descent ≤ 0.7× PyTorch's time (the faster PyTorch variant), peak ≤ {W8_PEAK_GOAL}× PyTorch's.\n",
                W8_IMAGES.div_ceil(W8_BATCH)
            );
            for (threads, m) in rows {
                let _ = write!(
                    md,
                    "\n### {threads} thread(s)\n\n{W8_HEADER}\n{}",
                    w8_rows(m)
                );
            }
        }
    }
    if !extra.peaks.is_empty() {
        let _ = write!(
            md,
            "\n## Peak memory (max RSS)\n\n\
             Each workload in a child process of its own (`bench --child-only NAME`, `torch_workloads.py --only NAME`, \
             `--quick` budgets), its `VmHWM` read at the end: the whole process, so PyTorch's includes its runtime \
             (the interpreter and libtorch), as a user's process does.\n"
        );
        for (threads, rows) in &extra.peaks {
            let _ = write!(md, "\n### {threads} thread(s)\n\n{PEAK_HEADER}\n");
            for (name, d, p) in rows {
                let _ = writeln!(
                    md,
                    "| {name} | {} | {} | {} |",
                    mib(*d),
                    mib(*p),
                    ratio(d.map(|v| v as f64), p.map(|v| v as f64))
                );
            }
        }
    }
    if !extra.load.is_empty() {
        let _ = write!(
            md,
            "\n## Under load: one core kept busy\n\n\
             A busy-loop process (`xtask bench --busy`, started before these rows and killed after them, on every exit path) \
             competes for a core while {} run at 1 and 2 threads, descent and PyTorch alternating, and 1 and 2 threads alternating within each round (twice the table's rounds); \
             the loop and both sides' processes run under the normal scheduler at nice −20 (`chrt -o 0 nice -n -20`), \
             so they share cores as the normal scheduler shares them even when the bench runs under `chrt -f`. \
             Goals: descent ≤ 0.8× PyTorch at 2 threads; 2 threads never slower than 1: `yes` when the 2-thread median is at most the 1-thread one, \
             else the difference and whether it is beyond noise (the two interquartile ranges disjoint, the rule of the previous-table comparison).\n\n{LOAD_HEADER}\n",
            UNDER_LOAD.join(", ")
        );
        md.push_str(&load_rows(&extra.load));
    }
    if let Some(w9) = &extra.w9 {
        let min = w9.wall_s / 60.0;
        let verdict = match (w9.ok, min <= W9_GOAL_MIN) {
            (false, _) => "failed (see the log)",
            (true, true) => "met",
            (true, false) => "missed",
        };
        let _ = write!(
            md,
            "\n## W9: `cargo xtask reproduce` (full)\n\n| run | wall min | goal min | goal |\n|---|--:|--:|---|\n| w9_reproduce | {min:.1} | {W9_GOAL_MIN} | {verdict} |\n\nOutput: `{}`.\n",
            w9.log.display()
        );
    }
    md
}

fn w8_rows(m: &W8Measured) -> String {
    let mut md = String::new();
    let Some(d) = m.descent.timings.get(W8_NAME) else {
        return "| descent | missing | | | | | |\n".into();
    };
    let per_s = |t: &Timing| W8_IMAGES as f64 / (t.median_ms() * 1e-3);
    let d_peak = m.descent.peak_kib;
    let _ = writeln!(
        md,
        "| descent | {:.1} | {:.1} | {:.0} | 1.00× | {} | 1.00× |",
        d.median_ms(),
        d.min_ms(),
        per_s(d),
        mib(d_peak)
    );
    let mut best: Option<f64> = None;
    for (label, out, key) in [
        ("PyTorch, num_workers 0", &m.torch, W8_NAME),
        ("PyTorch, num_workers 2", &m.torch_workers, W8_WORKERS2),
    ] {
        match out.timings.get(key) {
            Some(t) => {
                best = Some(best.map_or(t.median_ms(), |b| b.min(t.median_ms())));
                let _ = writeln!(
                    md,
                    "| {label} | {:.1} | {:.1} | {:.0} | {} | {} | {} |",
                    t.median_ms(),
                    t.min_ms(),
                    per_s(t),
                    ratio(Some(d.median_ms()), Some(t.median_ms())),
                    mib(out.peak_kib),
                    ratio(d_peak.map(|v| v as f64), out.peak_kib.map(|v| v as f64)),
                );
            }
            None => {
                let _ = writeln!(md, "| {label} | skipped | | | | | |");
            }
        }
    }
    if let Some(b) = best {
        let r = d.median_ms() / b;
        let peak = match (d_peak, m.torch.peak_kib) {
            (Some(a), Some(b)) => {
                let p = a as f64 / b as f64;
                format!(
                    "; peak {p:.2}× PyTorch's (num_workers 0): {}",
                    if p <= W8_PEAK_GOAL { "met" } else { "missed" }
                )
            }
            _ => String::new(),
        };
        let _ = writeln!(
            md,
            "\nAgainst the faster PyTorch: {r:.2}× ({}){peak}.",
            if r <= 0.7 { "goal met" } else { "goal missed" }
        );
    }
    md
}

fn load_rows(load: &[(usize, Measured)]) -> String {
    let get = |threads: usize, torch: bool, name: &str| -> Option<&Timing> {
        let (_, m) = load.iter().find(|(t, _)| *t == threads)?;
        let out = if torch { &m.torch } else { &m.descent };
        out.timings.get(name)
    };
    let median = |t: Option<&Timing>| t.map(Timing::median_ms);
    let fmt = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.3}"));
    let mut md = String::new();
    for name in UNDER_LOAD {
        let (d1, d2) = (get(1, false, name), get(2, false, name));
        let (p1, p2) = (median(get(1, true, name)), median(get(2, true, name)));
        let never_slower = match (d1.and_then(Row::of), d2.and_then(Row::of)) {
            (Some(a), Some(b)) if b.median_ms <= a.median_ms => "yes".to_owned(),
            (Some(a), Some(b)) => {
                let change = 100.0 * (b.median_ms / a.median_ms - 1.0);
                match verdict(&a, &b) {
                    Verdict::Slower => format!("**no**: {change:+.1}%, beyond noise"),
                    _ => format!("{change:+.1}%, within noise"),
                }
            }
            _ => "–".into(),
        };
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {never_slower} | {} | {} | {} |",
            fmt(median(d1)),
            fmt(median(d2)),
            fmt(p1),
            fmt(p2),
            ratio(median(d2), p2)
        );
    }
    md
}

#[cfg(test)]
mod tests {
    use super::super::extra::W9;
    use super::super::protocol::Output;
    use super::*;

    fn out(name: &str, ms: &[f64], peak: u64) -> Output {
        let mut o = Output::default();
        o.timings.insert(
            name.into(),
            Timing {
                samples_ms: ms.to_vec(),
            },
        );
        o.peak_kib = Some(peak);
        o
    }

    #[test]
    fn w8_compares_with_the_faster_pytorch_and_checks_the_peak() {
        let m = W8Measured {
            descent: out(W8_NAME, &[500.0, 700.0, 600.0], 150 * 1024),
            torch: out(W8_NAME, &[1000.0], 400 * 1024),
            torch_workers: out(W8_WORKERS2, &[900.0], 300 * 1024),
            baseline: Output::default(),
        };
        let md = render(&Extra {
            w8: Some(Ok(vec![(2, m)])),
            ..Extra::default()
        });
        assert!(
            md.contains("| descent | 600.0 | 500.0 | 16667 | 1.00× | 150.0 | 1.00× |"),
            "{md}"
        );
        assert!(
            md.contains(
                "| PyTorch, num_workers 2 | 900.0 | 900.0 | 11111 | 0.67× | 300.0 | 0.50× |"
            ),
            "{md}"
        );
        assert!(md.contains("Against the faster PyTorch: 0.67× (goal met); peak 0.38× PyTorch's (num_workers 0): met."), "{md}");
        let skipped = render(&Extra {
            w8: Some(Err("W8 skipped: MNIST not found (…)".into())),
            ..Extra::default()
        });
        assert!(skipped.contains("W8 skipped: MNIST not found"));
    }

    #[test]
    fn under_load_checks_two_threads_against_one() {
        let one = Measured {
            descent: out("w1_sgd", &[4.0], 0),
            torch: out("w1_sgd", &[5.0], 0),
            baseline: Output::default(),
        };
        let two = Measured {
            descent: out("w1_sgd", &[4.2], 0),
            torch: out("w1_sgd", &[3.0], 0),
            baseline: Output::default(),
        };
        let md = render(&Extra {
            load: vec![(1, one), (2, two)],
            ..Extra::default()
        });
        assert!(
            md.contains(
                "| w1_sgd | 4.000 | 4.200 | **no**: +5.0%, beyond noise | 5.000 | 3.000 | 1.40× |"
            ),
            "{md}"
        );
        assert!(md.contains("| w1_adam | – | – | – |"), "{md}");
        // Overlapping middle halves: slower on medians, within noise.
        let one = Measured {
            descent: out("w1_sgd", &[3.8, 4.0, 4.1, 4.3, 4.6], 0),
            ..Measured::default()
        };
        let two = Measured {
            descent: out("w1_sgd", &[3.9, 4.0, 4.2, 4.4, 4.7], 0),
            ..Measured::default()
        };
        let md = render(&Extra {
            load: vec![(1, one), (2, two)],
            ..Extra::default()
        });
        assert!(
            md.contains("| w1_sgd | 4.100 | 4.200 | +2.4%, within noise |"),
            "{md}"
        );
        let two_faster = Measured {
            descent: out("w1_sgd", &[3.9], 0),
            ..Measured::default()
        };
        let one = Measured {
            descent: out("w1_sgd", &[4.0], 0),
            ..Measured::default()
        };
        let md = render(&Extra {
            load: vec![(1, one), (2, two_faster)],
            ..Extra::default()
        });
        assert!(md.contains("| w1_sgd | 4.000 | 3.900 | yes |"), "{md}");
    }

    #[test]
    fn w9_states_its_goal() {
        let md = render(&Extra {
            w9: Some(W9 {
                wall_s: 30.0 * 60.0,
                ok: true,
                log: "out/w9.log".into(),
            }),
            ..Extra::default()
        });
        assert!(md.contains("| w9_reproduce | 30.0 | 25 | missed |"), "{md}");
    }
}
