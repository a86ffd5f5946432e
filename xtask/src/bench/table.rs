//! The markdown table of `cargo xtask bench`.

use descent_bench::{Timing, WorkloadId};
use std::collections::BTreeMap;
use std::fmt::Write;

/// This machine's limits as measured in the run (best over rounds).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// sgemm GFLOP/s of a 1024³ product through matrixmultiply.
    pub sgemm_gflops: f64,
    /// STREAM-triad GB/s.
    pub triad_gbs: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            sgemm_gflops: f64::NAN,
            triad_gbs: f64::NAN,
        }
    }
}

/// Everything measured at one thread count.
#[derive(Debug, Default)]
pub struct Measured {
    /// descent's samples per workload name.
    pub descent: BTreeMap<String, Timing>,
    /// PyTorch's samples per workload name (empty when skipped).
    pub torch: BTreeMap<String, Timing>,
    /// The limits measured by descent's children.
    pub limits: Limits,
}

const HEADER: &str = "| workload | median ms | min ms | samples/s | PyTorch median ms | descent/PyTorch | GFLOP/s | % sgemm peak | floor ms | floor/median |
|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|";

/// Renders one section per thread count; `load` is the 1-minute load
/// average before and after the run.
pub fn render(results: &[(usize, Measured)], torch: bool, load: &[Option<f64>; 2]) -> String {
    let mut md = String::from("# descent workload benchmarks\n\n");
    md.push_str(
        "One full training step per iteration (zero grads, forward, backward, optimizer step), f32, after warm-up; \
         samples pooled over alternating rounds.\n\
         GFLOP/s counts the step's matrix products as 6 × multiply-adds (W1: 411 MFLOP).\n\
         floor ms = those FLOPs at the measured sgemm peak + the optimizer's bytes (20 or 28 per parameter) at the measured triad bandwidth.\n",
    );
    let fmt = |l: Option<f64>| l.map_or("unknown".into(), |l| format!("{l:.2}"));
    let _ = writeln!(
        md,
        "Load average (1 min) before and after the run: {} and {} on {} logical CPUs.",
        fmt(load[0]),
        fmt(load[1]),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    if !torch {
        md.push_str("\nPyTorch comparison skipped: torch not importable by python3.\n");
    }
    let n_params: BTreeMap<WorkloadId, usize> = WorkloadId::ALL
        .into_iter()
        .map(|id| (id, id.build(0).n_params()))
        .collect();
    for (threads, m) in results {
        let l = m.limits;
        let _ = write!(
            md,
            "\n## {threads} thread(s)\n\nsgemm (1024³, matrixmultiply) {:.1} GFLOP/s; STREAM triad {:.1} GB/s.\n\n{HEADER}\n",
            l.sgemm_gflops, l.triad_gbs
        );
        for id in WorkloadId::ALL {
            let Some(t) = m.descent.get(id.name()) else {
                continue;
            };
            md.push_str(&row(id, t, m.torch.get(id.name()), l, n_params[&id], torch));
        }
    }
    md
}

fn row(
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
    let (torch_ms, ratio) = match torch {
        Some(p) => (
            format!("{:.3}", p.median_ms()),
            format!("{:.2}×", median / p.median_ms()),
        ),
        None if torch_on => ("missing".into(), "–".into()),
        None => ("skipped".into(), "skipped: torch not importable".into()),
    };
    format!(
        "| {} | {median:.3} | {min:.3} | {:.0} | {torch_ms} | {ratio} | {gflops:.1} | {:.0}% | {floor:.3} | {:.2} |\n",
        id.name(),
        id.batch() as f64 / (median * 1e-3),
        100.0 * gflops / l.sgemm_gflops,
        floor / median,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skipped_comparison_is_said_in_the_table() {
        let mut m = Measured {
            limits: Limits {
                sgemm_gflops: 100.0,
                triad_gbs: 20.0,
            },
            ..Measured::default()
        };
        m.descent.insert(
            "w1_sgd".into(),
            Timing {
                samples_ms: vec![4.0, 5.0, 6.0],
            },
        );
        let md = render(&[(1, m)], false, &[Some(0.5), None]);
        assert!(md.contains("PyTorch comparison skipped"));
        assert!(md.contains(
            "| w1_sgd | 5.000 | 4.000 | 25600 | skipped | skipped: torch not importable |"
        ));
    }
}
