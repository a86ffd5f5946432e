//! The markdown tables of `cargo xtask bench`: W1–W4 (training steps), W5
//! (one optimizer step over 10M parameters), W6 (augmentation) and W7 (the
//! LeNet-style CNN's training step), one section per thread count.

use super::previous::Summary;
use super::protocol::{Limits, Output};
use descent_bench::{
    AugOpId, OptimStepId, Timing, W5_PARAMS, W6_BATCH, W7_ARCHITECTURE, WorkloadId,
};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The W7 rows, in their own section after W1–W4 (same columns).
const W7: [WorkloadId; 2] = [WorkloadId::W7Sgd, WorkloadId::W7AdamW];

/// The name of W6 in the line protocol.
pub const W6_NAME: &str = "w6_augment";
/// Suffix of the PyTorch-default (no `foreach`/`fused` flag) W5 lines; the
/// plain names are PyTorch's `fused=True` step.
pub const TORCH_DEFAULT_SUFFIX: &str = ":default";
/// The `note` key under which the PyTorch script says what its default
/// optimizer implementation was.
pub const DEFAULT_IMPL_NOTE: &str = "w5_default_impl";
/// Prefix of the `note` keys by which the PyTorch script says a row could
/// not run (`note unavailable:w6op_elastic REASON`).
pub const UNAVAILABLE_NOTE: &str = "unavailable:";

/// Everything measured at one thread count.
#[derive(Debug, Default)]
pub struct Measured {
    /// What descent's children printed (samples and limits).
    pub descent: Output,
    /// What the PyTorch script printed (empty when skipped).
    pub torch: Output,
    /// What the baseline's children printed (`--baseline`; else empty).
    pub baseline: Output,
}

/// Whether the PyTorch comparison ran, and with what.
#[derive(Clone, Debug, PartialEq)]
pub enum TorchStatus {
    /// `import torch` worked; `torch.__version__`.
    Available {
        /// The version string.
        version: String,
    },
    /// `import torch` failed; why (the interpreter's last error line).
    Unavailable {
        /// The reason.
        reason: String,
    },
}

/// The interpreter tried for the PyTorch comparison and what it gave.
#[derive(Clone, Debug, PartialEq)]
pub struct Torch {
    /// The interpreter (`--python`, `$DESCENT_PYTHON` or `python3`).
    pub python: String,
    /// Whether torch was importable.
    pub status: TorchStatus,
}

impl Torch {
    fn on(&self) -> bool {
        matches!(self.status, TorchStatus::Available { .. })
    }
}

const W14_HEADER: &str = "| workload | median ms | min ms | samples/s | PyTorch median ms | descent/PyTorch | GFLOP/s | % sgemm peak | floor ms | floor/median |
|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|";
const W5_HEADER: &str = "| workload | median ms | min ms | GB/s | % triad | PyTorch fused median ms | descent/PyTorch fused | PyTorch default median ms |
|---|--:|--:|--:|--:|--:|--:|--:|";
const TRAINER_HEADER: &str = "| workload | raw median ms/step | Trainer median ms/step | Trainer/raw | median per-round Trainer/raw |
|---|--:|--:|--:|--:|";
const W6_HEADER: &str = "| workload | median ms | min ms | images/s | PyTorch median ms | PyTorch images/s | descent/PyTorch | previous median ms | previous descent/PyTorch |
|---|--:|--:|--:|--:|--:|--:|--:|--:|";
const W6_OPS_HEADER: &str = "| row | median ms | min ms | images/s | torchvision median ms | torchvision images/s | descent/torchvision | previous median ms | previous descent/torchvision | torchvision v2 |
|---|--:|--:|--:|--:|--:|--:|--:|--:|---|";

/// Renders the report; `load` is the 1-minute load average before and after
/// the run; `previous` the previous table, whose W6 rows are shown beside
/// the new ones.
pub fn render(
    results: &[(usize, Measured)],
    torch: &Torch,
    load: &[Option<f64>; 2],
    previous: Option<&Summary>,
) -> String {
    let mut md = String::from("# descent workload benchmarks\n\n");
    let fmt = |l: Option<f64>| l.map_or("unknown".into(), |l| format!("{l:.2}"));
    let _ = writeln!(
        md,
        "Load average (1 min) before and after the run: {} and {} on {} logical CPUs.",
        fmt(load[0]),
        fmt(load[1]),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    match &torch.status {
        TorchStatus::Available { version } => {
            let _ = writeln!(
                md,
                "PyTorch {version} (`{}`, `benches/torch_workloads.py`), alternating with descent round by round.",
                torch.python
            );
        }
        TorchStatus::Unavailable { reason } => {
            let _ = writeln!(
                md,
                "\nPyTorch comparison skipped: torch not importable by `{}` ({reason}); \
                 choose an interpreter with `--python PATH` or `$DESCENT_PYTHON`.",
                torch.python
            );
        }
    }
    md.push_str(&explanations(results, torch));
    let n_params: BTreeMap<WorkloadId, usize> = WorkloadId::ALL
        .into_iter()
        .map(|id| (id, id.build(0).n_params()))
        .collect();
    for (threads, m) in results {
        let l = m.descent.limits;
        let _ = writeln!(md, "\n## {threads} thread(s)");
        if !(l.sgemm_gflops.is_nan() && l.triad_gbs.is_nan()) {
            let _ = writeln!(
                md,
                "\nsgemm peak (1024³, descent's GEMM: matrixmultiply split per thread) {:.1} GFLOP/s; STREAM triad {:.1} GB/s.",
                l.sgemm_gflops, l.triad_gbs
            );
        }
        let w14_rows: String = WorkloadId::ALL
            .into_iter()
            .filter(|id| !W7.contains(id))
            .filter_map(|id| {
                let t = m.descent.timings.get(id.name())?;
                let p = m.torch.timings.get(id.name());
                Some(w14_row(id, t, p, l, n_params[&id], torch.on()))
            })
            .collect();
        // A section without rows (a run with `--only`) is left out.
        if !w14_rows.is_empty() {
            let _ = write!(
                md,
                "\n### W1–W4: training steps\n\n{W14_HEADER}\n{w14_rows}"
            );
        }
        let w7_rows: String = W7
            .into_iter()
            .filter_map(|id| {
                let t = m.descent.timings.get(id.name())?;
                let p = m.torch.timings.get(id.name());
                Some(w14_row(id, t, p, l, n_params[&id], torch.on()))
            })
            .collect();
        if !w7_rows.is_empty() {
            let _ = write!(
                md,
                "\n### W7: LeNet-style CNN on MNIST-shaped images\n\n{W14_HEADER}\n{w7_rows}"
            );
        }
        let w5_rows: String = OptimStepId::ALL
            .into_iter()
            .filter_map(|id| {
                let t = m.descent.timings.get(&id.name())?;
                Some(w5_row(id, t, &m.torch, l, torch.on()))
            })
            .collect();
        if !w5_rows.is_empty() {
            let _ = write!(md, "\n### W5: one optimizer step\n\n{W5_HEADER}\n{w5_rows}");
        }
        let trainer_rows: String = [WorkloadId::W1Sgd, WorkloadId::W1Adam]
            .iter()
            .filter_map(|id| {
                let raw = m
                    .descent
                    .timings
                    .get(&format!("{}_raw_rounds", id.name()))?;
                let tr = m.descent.timings.get(&format!("{}_trainer", id.name()))?;
                let mut rows = trainer_row(id.name(), raw, tr);
                let fresh = format!("{}_trainer_fresh", id.name());
                if let Some(f) = m.descent.timings.get(&fresh) {
                    rows += &trainer_row(&format!("{} (fresh batches)", id.name()), raw, f);
                }
                Some(rows)
            })
            .collect();
        if !trainer_rows.is_empty() {
            let _ = write!(
                md,
                "\n### Trainer: W1 through `Trainer::fit`\n\n{TRAINER_HEADER}\n{trainer_rows}"
            );
        }
        let row = |name: &str, what: Option<&str>| {
            W6Row {
                name,
                threads: *threads,
                measured: m,
                torch_on: torch.on(),
                previous,
            }
            .render(what)
        };
        if m.descent.timings.contains_key(W6_NAME) {
            let _ = write!(md, "\n### W6: augmentation\n\n{W6_HEADER}\n");
            md.push_str(&row(W6_NAME, None));
        }
        let ops: String = AugOpId::ALL
            .iter()
            .map(|&id| (id, false))
            .chain(AugOpId::WITH_MASK.iter().map(|&id| (id, true)))
            .filter_map(|(id, with_mask)| {
                let name = id.row_name(with_mask);
                m.descent.timings.contains_key(&name).then(|| {
                    let what = if with_mask {
                        format!("{} + Mask", id.torchvision())
                    } else {
                        id.torchvision().to_owned()
                    };
                    row(&name, Some(&what))
                })
            })
            .collect();
        if !ops.is_empty() {
            let _ = write!(md, "\n### W6: augmentation ops\n\n{W6_OPS_HEADER}\n{ops}");
            for (key, reason) in &m.torch.notes {
                if let Some(name) = key.strip_prefix(UNAVAILABLE_NOTE) {
                    let _ = write!(md, "\n- `{name}`: torchvision unavailable ({reason})\n");
                }
            }
        }
    }
    md
}

/// What the columns mean, once for every section.
fn explanations(results: &[(usize, Measured)], torch: &Torch) -> String {
    let default_impl = results
        .iter()
        .find_map(|(_, m)| m.torch.notes.get(DEFAULT_IMPL_NOTE))
        .map_or(String::new(), |i| format!("; this PyTorch ran {i}"));
    let mut md =
        String::from("\nf32 throughout, after warm-up; samples pooled over alternating rounds.\n");
    md.push_str(
        "\n- W1–W4: one full training step per iteration (zero grads, forward, backward, optimizer step). \
         GFLOP/s counts the step's matrix products as 6 × multiply-adds (W1: 411 MFLOP). \
         floor ms = those FLOPs at the measured sgemm peak + the optimizer's bytes (20 or 28 per parameter) at the measured triad bandwidth.\n",
    );
    let _ = writeln!(
        md,
        "- W5: one optimizer step over {W5_PARAMS} parameters, as 1 tensor (`1x10m`) and as 100 (`100x100k`); gradients stay in place. \
         GB/s counts the bytes a fused step moves: 28 per parameter for Adam and AdamW (read p, g, m, v; write p, m, v), 20 for SGD with momentum 0.9 (read p, g, b; write p, b); \
         % triad = that rate over the STREAM triad of the same run (7 streams against the triad's 3, so above 100% is possible). \
         descent/PyTorch compares with PyTorch's `fused=True` step; PyTorch default = the constructor without `foreach` or `fused`{default_impl}."
    );
    let _ = writeln!(
        md,
        "- W7: one full training step of the LeNet-style CNN {W7_ARCHITECTURE}, batch 64 of 1×28×28 images \
         (a fixed random batch, as W1–W4), SGD with momentum 0.9 (`w7_sgd`) or AdamW (`w7_adamw`); \
         columns as W1–W4 (6 × multiply-adds: 135 MFLOP)."
    );
    let _ = writeln!(
        md,
        "- W6: random crop (zero padding 4) + horizontal flip (p 0.5) + brightness and contrast factors in [0.8, 1.2] on 3×32×32 images, {W6_BATCH} per iteration: \
         descent through `apply_batch` (the input restored untimed before each iteration), \
         PyTorch as batched tensor ops (pad, per-sample crop by index arithmetic, flip by `torch.where` on a per-sample mask, per-sample factors in a per-sample order)."
    );
    let _ = writeln!(
        md,
        "- W6 augmentation ops: one op (or policy) per row, applied to every sample of a batch of {W6_BATCH} 3×32×32 images per iteration; \
         `w6op_*` the image alone, `w6mask_*` with a 32×32 `u32` class map per image moving with it (nearest, fill 255). \
         descent: `apply_batch` (per-sample draws, descent's thread setting) or `apply_batch_with_masks`, the input restored untimed before each iteration. \
         torchvision v2: the transform called once per sample in a Python loop over the batch (a tensor, or `tv_tensors.Image` + `tv_tensors.Mask`), \
         as a DataLoader's `__getitem__` does, so each sample draws its own parameters as in descent; `torch.set_num_threads` is the row's thread count, \
         which such small tensors barely use (a DataLoader would add worker processes; not measured here). \
         One warm-up iteration sizes the run, then {}–2000 timed iterations (about {} s) on both sides.",
        super::OP_ROW_MIN_ITERS,
        super::OP_ROW_BUDGET_S
    );
    if torch.on() {
        md.push_str(
            "- descent/PyTorch (descent/torchvision) is a ratio of median times: below 1 means descent is faster; \
             `unavailable` means torchvision could not run the op on this torch (its reason is listed below the table).\n",
        );
    }
    md
}

/// The PyTorch median and the descent/PyTorch ratio cells.
fn compare(median: f64, torch: Option<&Timing>, torch_on: bool) -> (String, String) {
    match torch {
        Some(p) => (
            format!("{:.3}", p.median_ms()),
            ratio_cell(median / p.median_ms()),
        ),
        None if torch_on => ("missing".into(), "–".into()),
        None => ("skipped".into(), "skipped: torch not importable".into()),
    }
}

/// A ratio with two decimals, or three significant digits below 0.1 (so
/// a 300× speed-up does not print as 0.00×).
fn ratio_cell(r: f64) -> String {
    if r < 0.1 {
        format!("{r:.2e}×")
    } else {
        format!("{r:.2}×")
    }
}

fn w14_row(
    id: WorkloadId,
    t: &Timing,
    torch: Option<&Timing>,
    l: Limits,
    n_params: usize,
    torch_on: bool,
) -> String {
    let (median, min) = (t.median_ms(), t.min_ms());
    let gflops = id.flops() / (median * 1e-3) / 1e9;
    let floor = id.flops() / (l.sgemm_gflops * 1e9) * 1e3
        + (id.optimizer_bytes_per_param() * n_params) as f64 / (l.triad_gbs * 1e9) * 1e3;
    let (torch_ms, ratio) = compare(median, torch, torch_on);
    format!(
        "| {} | {median:.3} | {min:.3} | {:.0} | {torch_ms} | {ratio} | {gflops:.1} | {:.0}% | {floor:.3} | {:.2} |\n",
        id.name(),
        id.batch() as f64 / (median * 1e-3),
        100.0 * gflops / l.sgemm_gflops,
        floor / median,
    )
}

fn w5_row(id: OptimStepId, t: &Timing, torch: &Output, l: Limits, torch_on: bool) -> String {
    let name = id.name();
    let (median, min) = (t.median_ms(), t.min_ms());
    let gbs = id.bytes() as f64 / (median * 1e-3) / 1e9;
    let (fused_ms, ratio) = compare(median, torch.timings.get(&name), torch_on);
    let default_key = format!("{name}{TORCH_DEFAULT_SUFFIX}");
    let (default_ms, _) = compare(median, torch.timings.get(&default_key), torch_on);
    format!(
        "| {name} | {median:.3} | {min:.3} | {gbs:.1} | {:.0}% | {fused_ms} | {ratio} | {default_ms} |\n",
        100.0 * gbs / l.triad_gbs,
    )
}

/// One Trainer row: raw and Trainer medians per step from alternating rounds,
/// their ratio, and the median of the per-round ratios (robust to drift).
fn trainer_row(name: &str, raw: &Timing, trainer: &Timing) -> String {
    let mut ratios: Vec<f64> = raw
        .samples_ms
        .iter()
        .zip(&trainer.samples_ms)
        .map(|(r, t)| t / r)
        .collect();
    let per_round = Timing {
        samples_ms: std::mem::take(&mut ratios),
    }
    .median_ms();
    format!(
        "| {name} | {:.3} | {:.3} | {:.3} | {per_round:.3} |\n",
        raw.median_ms(),
        trainer.median_ms(),
        trainer.median_ms() / raw.median_ms()
    )
}

/// One row of a W6 table: the descent median and minimum, images per
/// second, torchvision's median and rate, their ratio, and the previous
/// report's median and ratio for the same row and thread count.
struct W6Row<'a> {
    name: &'a str,
    threads: usize,
    measured: &'a Measured,
    torch_on: bool,
    previous: Option<&'a Summary>,
}

impl W6Row<'_> {
    /// The row; `what` is torchvision's call (the W6 ops table's last column).
    fn render(&self, what: Option<&str>) -> String {
        let Some(t) = self.measured.descent.timings.get(self.name) else {
            return String::new();
        };
        let (median, min) = (t.median_ms(), t.min_ms());
        let per_s = |ms: f64| W6_BATCH as f64 / (ms * 1e-3);
        let torch = self.measured.torch.timings.get(self.name);
        let unavailable = self
            .measured
            .torch
            .notes
            .get(&format!("{UNAVAILABLE_NOTE}{}", self.name));
        let (torch_ms, ratio, torch_rate) = match (torch, unavailable) {
            (None, Some(_)) if self.torch_on => {
                ("unavailable".into(), "–".into(), "unavailable".into())
            }
            _ => {
                let (ms, ratio) = compare(median, torch, self.torch_on);
                let rate = torch.map_or(ms.clone(), |p| format!("{:.0}", per_s(p.median_ms())));
                (ms, ratio, rate)
            }
        };
        let prev = |side| self.previous?.row(side, self.threads, self.name);
        let prev_ms = prev("descent").map_or("–".into(), |d| format!("{:.3}", d.median_ms));
        let prev_ratio = match (prev("descent"), prev("pytorch")) {
            (Some(d), Some(p)) => format!("{:.2}×", d.median_ms / p.median_ms),
            _ => "–".into(),
        };
        let mut row = format!(
            "| {} | {median:.3} | {min:.3} | {:.0} | {torch_ms} | {torch_rate} | {ratio} | {prev_ms} | {prev_ratio} |",
            self.name,
            per_s(median),
        );
        if let Some(what) = what {
            let _ = write!(row, " `{what}` |");
        }
        row.push('\n');
        row
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(samples_ms: &[f64]) -> Timing {
        Timing {
            samples_ms: samples_ms.to_vec(),
        }
    }

    fn measured() -> Measured {
        let mut m = Measured::default();
        m.descent.limits = Limits {
            sgemm_gflops: 100.0,
            triad_gbs: 20.0,
        };
        let t = &mut m.descent.timings;
        t.insert("w1_sgd".into(), timing(&[4.0, 5.0, 6.0]));
        t.insert("w5_adam_1x10m".into(), timing(&[14.0]));
        t.insert(W6_NAME.into(), timing(&[2.048, 3.0]));
        m
    }

    #[test]
    fn a_skipped_comparison_names_the_interpreter_tried() {
        let torch = Torch {
            python: "python3".into(),
            status: TorchStatus::Unavailable {
                reason: "ModuleNotFoundError: No module named 'torch'".into(),
            },
        };
        let md = render(&[(1, measured())], &torch, &[Some(0.5), None], None);
        assert!(md.contains(
            "PyTorch comparison skipped: torch not importable by `python3` (ModuleNotFoundError: No module named 'torch')"
        ));
        assert!(md.contains(
            "| w1_sgd | 5.000 | 4.000 | 25600 | skipped | skipped: torch not importable |"
        ));
        // 28 B × 10M in 14 ms = 20 GB/s, all of the 20 GB/s triad.
        assert!(md.contains(
            "| w5_adam_1x10m | 14.000 | 14.000 | 20.0 | 100% | skipped | skipped: torch not importable | skipped |"
        ));
        assert!(md.contains("| w6_augment | 2.524 | 2.048 | 405705 | skipped | skipped |"));
    }

    #[test]
    fn the_trainer_rows_set_resident_and_fresh_batches_beside_the_raw_step() {
        let mut m = measured();
        let t = &mut m.descent.timings;
        t.insert("w1_sgd_raw_rounds".into(), timing(&[2.0, 2.0, 4.0]));
        t.insert("w1_sgd_trainer".into(), timing(&[2.04, 2.02, 4.2]));
        t.insert("w1_sgd_trainer_fresh".into(), timing(&[2.1, 2.2, 4.0]));
        let torch = Torch {
            python: "python3".into(),
            status: TorchStatus::Unavailable {
                reason: "no torch".into(),
            },
        };
        let md = render(&[(1, m)], &torch, &[None, None], None);
        // Medians 2.0 / 2.04; per-round ratios 1.02, 1.01, 1.05 → 1.02.
        assert!(
            md.contains("| w1_sgd | 2.000 | 2.040 | 1.020 | 1.020 |"),
            "{md}"
        );
        // Fresh: 2.2 / 2.0; per-round 1.05, 1.10, 1.00 → 1.05.
        assert!(
            md.contains("| w1_sgd (fresh batches) | 2.000 | 2.200 | 1.100 | 1.050 |"),
            "{md}"
        );
    }

    #[test]
    fn w7_rows_have_their_own_section_with_the_w1_w4_columns() {
        let mut m = measured();
        m.descent
            .timings
            .insert("w7_sgd".into(), timing(&[2.0, 3.0, 4.0]));
        m.torch.timings.insert("w7_sgd".into(), timing(&[4.0]));
        let torch = Torch {
            python: "python3".into(),
            status: TorchStatus::Available {
                version: "2.15.0".into(),
            },
        };
        let md = render(&[(1, m)], &torch, &[None, None], None);
        let (w14, w7) = md.split_once("### W7: LeNet").expect("a W7 section");
        assert!(w14.contains("| w1_sgd |") && !w14.contains("| w7_sgd |"));
        // 135 MFLOP in 3 ms = 45 GFLOP/s, 45% of the 100 GFLOP/s peak;
        // 64 samples in 3 ms.
        assert!(
            w7.contains("| w7_sgd | 3.000 | 2.000 | 21333 | 4.000 | 0.75× | 45.0 | 45% |"),
            "{w7}"
        );
        assert!(!w7.contains("w7_adamw"), "no row without its samples");
        let only_w7 = Measured {
            descent: Output::parse("workload w7_sgd 3.0\n").unwrap(),
            torch: Output::default(),
            baseline: Output::default(),
        };
        let md = render(&[(1, only_w7)], &torch, &[None, None], None);
        assert!(md.contains("### W7") && !md.contains("### W1–W4") && !md.contains("### W5"));
    }

    #[test]
    fn w5_compares_with_fused_and_shows_the_default_and_w6_counts_images() {
        let mut m = measured();
        let t = &mut m.torch.timings;
        t.insert("w5_adam_1x10m".into(), timing(&[7.0]));
        t.insert("w5_adam_1x10m:default".into(), timing(&[50.0]));
        t.insert(W6_NAME.into(), timing(&[20.48]));
        m.torch.notes.insert(
            DEFAULT_IMPL_NOTE.into(),
            "its for-loop implementation".into(),
        );
        let torch = Torch {
            python: "/venv/bin/python".into(),
            status: TorchStatus::Available {
                version: "2.15.0".into(),
            },
        };
        let md = render(&[(2, m)], &torch, &[None, None], None);
        assert!(md.contains("PyTorch 2.15.0 (`/venv/bin/python`"));
        assert!(md.contains("this PyTorch ran its for-loop implementation"));
        assert!(md.contains(
            "| w5_adam_1x10m | 14.000 | 14.000 | 20.0 | 100% | 7.000 | 2.00× | 50.000 |"
        ));
        assert!(md.contains("| w6_augment | 2.524 | 2.048 | 405705 | 20.480 | 50000 | 0.12× |"));
        assert!(md.contains("| w1_sgd | 5.000 | 4.000 | 25600 | missing | – |"));
    }

    #[test]
    fn w6_ops_rows_compare_with_torchvision_and_the_previous_table() {
        let mut m = Measured::default();
        let d = &mut m.descent.timings;
        d.insert(W6_NAME.into(), timing(&[2.048]));
        d.insert("w6op_invert".into(), timing(&[1.024]));
        d.insert("w6op_elastic".into(), timing(&[10.24]));
        d.insert("w6mask_rotate_nearest".into(), timing(&[4.096]));
        let t = &mut m.torch.timings;
        t.insert(W6_NAME.into(), timing(&[4.096]));
        t.insert("w6op_invert".into(), timing(&[4.096]));
        t.insert("w6mask_rotate_nearest".into(), timing(&[2.048]));
        m.torch.notes.insert(
            format!("{UNAVAILABLE_NOTE}w6op_elastic"),
            "RuntimeError: no kernel".into(),
        );
        let torch = Torch {
            python: "/venv/bin/python".into(),
            status: TorchStatus::Available {
                version: "2.15.0".into(),
            },
        };
        let mut previous = Summary::default();
        for (side, name, ms) in [
            ("descent", W6_NAME, 3.0),
            ("pytorch", W6_NAME, 4.0),
            ("descent", "w6op_invert", 2.0),
            ("pytorch", "w6op_invert", 10.0),
            ("pytorch", "w6mask_rotate_nearest", 1.0), // no descent row: no ratio
        ] {
            let mut out = Output::default();
            out.timings.insert(name.into(), timing(&[ms]));
            previous.add(side, 2, &out, "");
        }
        let md = render(&[(2, m)], &torch, &[None, None], Some(&previous));
        assert!(md.contains(
            "| w6_augment | 2.048 | 2.048 | 500000 | 4.096 | 250000 | 0.50× | 3.000 | 0.75× |"
        ));
        assert!(md.contains("### W6: augmentation ops"));
        assert!(md.contains(
            "| w6op_invert | 1.024 | 1.024 | 1000000 | 4.096 | 250000 | 0.25× | 2.000 | 0.20× | `RandomInvert(p=1)` |"
        ));
        assert!(md.contains(
            "| w6op_elastic | 10.240 | 10.240 | 100000 | unavailable | unavailable | – | – | – | `ElasticTransform()` |"
        ));
        assert!(md.contains("- `w6op_elastic`: torchvision unavailable (RuntimeError: no kernel)"));
        assert!(md.contains(
            "| w6mask_rotate_nearest | 4.096 | 4.096 | 250000 | 2.048 | 500000 | 2.00× | – | – | `RandomRotation(30, NEAREST) + Mask` |"
        ));
        assert!(
            !md.contains("### W1–W4"),
            "sections without rows are left out"
        );
        assert_eq!(
            ratio_cell(0.003),
            "3.00e-3×",
            "a large speed-up keeps its digits"
        );
        assert!(
            !md.contains("GFLOP/s; STREAM triad"),
            "no limits measured, none shown"
        );
    }
}
