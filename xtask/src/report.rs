//! The reproduction report: `REPORT.md`, one `NAME.json` of numbers per
//! experiment, and the figures under `figures/`, each written atomically so
//! an interrupted run never leaves a half-written file.
//!
//! Over several seeds a claim part is judged on the mean and the spread:
//! it holds when the mean passes its threshold and so does the mean moved
//! one standard deviation towards failing (`mean + sd` for an upper bound,
//! `mean − sd` for a lower one). With one seed that is the measured value.

use crate::reproduce::lab::{Cmp, Experiment, Outcome};
use crate::reproduce::plot;
use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// One run of an experiment (one seed).
pub struct Run {
    pub seed: u64,
    pub wall: Duration,
    pub outcome: Outcome,
}

/// A claim part over every seed.
pub struct ClaimAgg {
    pub id: &'static str,
    pub quantity: &'static str,
    pub cmp: Cmp,
    pub threshold: f64,
    pub values: Vec<f64>,
    pub mean: f64,
    pub sd: f64,
}

impl ClaimAgg {
    /// How many seeds' values pass on their own (shown beside the verdict;
    /// the verdict itself is on the mean and the spread).
    pub fn seeds_passing(&self) -> usize {
        self.values
            .iter()
            .filter(|&&v| self.cmp.passes(v, self.threshold))
            .count()
    }

    pub fn held(&self) -> bool {
        self.cmp.passes(self.mean, self.threshold)
            && self
                .cmp
                .passes(self.cmp.pessimistic(self.mean, self.sd), self.threshold)
    }
}

/// An experiment's runs, claims judged over seeds, and written figures.
pub struct Aggregate {
    pub experiment: &'static Experiment,
    pub runs: Vec<Run>,
    /// Why the experiment failed to run, if it did.
    pub failure: Option<String>,
    pub quick: bool,
    pub claims: Vec<ClaimAgg>,
    pub metrics: Vec<(String, Vec<f64>, f64, f64)>,
    /// (title, png, svg) file names under `figures/`.
    pub figures: Vec<(String, String, String)>,
}

/// Mean and sample standard deviation (0 for one value).
pub fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return (mean, 0.0);
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

impl Aggregate {
    pub fn new(
        experiment: &'static Experiment,
        runs: Vec<Run>,
        failure: Option<String>,
        quick: bool,
    ) -> Self {
        let mut claims = Vec::new();
        if let Some(first) = runs.first() {
            for c in &first.outcome.claims {
                // A seed that did not measure this part counts as NaN: it fails.
                let values: Vec<f64> = runs
                    .iter()
                    .map(|r| {
                        r.outcome
                            .claims
                            .iter()
                            .find(|d| d.id == c.id)
                            .map_or(f64::NAN, |d| d.measured)
                    })
                    .collect();
                let (mean, sd) = mean_sd(&values);
                claims.push(ClaimAgg {
                    id: c.id,
                    quantity: c.quantity,
                    cmp: c.cmp,
                    threshold: c.threshold,
                    values,
                    mean,
                    sd,
                });
            }
        }
        let mut metrics = Vec::new();
        if let Some(first) = runs.first() {
            for (name, _) in &first.outcome.metrics {
                let values: Vec<f64> = runs
                    .iter()
                    .map(|r| {
                        r.outcome
                            .metrics
                            .iter()
                            .find(|m| &m.0 == name)
                            .map_or(f64::NAN, |m| m.1)
                    })
                    .collect();
                let (mean, sd) = mean_sd(&values);
                metrics.push((name.clone(), values, mean, sd));
            }
        }
        Aggregate {
            experiment,
            runs,
            failure,
            quick,
            claims,
            metrics,
            figures: Vec::new(),
        }
    }

    pub fn name(&self) -> &'static str {
        self.experiment.name
    }

    /// Ran, measured at least one claim part, and every part held.
    pub fn held(&self) -> bool {
        self.failure.is_none() && !self.claims.is_empty() && self.claims.iter().all(ClaimAgg::held)
    }

    pub fn wall(&self) -> Duration {
        self.runs.iter().map(|r| r.wall).sum()
    }
}

/// A number for the report: fixed for ordinary magnitudes, scientific otherwise.
pub fn num(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "∞".into()
        } else {
            "−∞".into()
        };
    }
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if (1e-3..1e5).contains(&a) {
        format!("{v:.4}")
    } else {
        format!("{v:.3e}")
    }
}

fn verdict(held: bool) -> &'static str {
    if held { "held" } else { "**did not hold**" }
}

/// Draws the first run's figures and writes `NAME.json`.
pub fn write_experiment(dir: &Path, agg: &mut Aggregate) -> Result<()> {
    let figures_dir = dir.join("figures");
    if let Some(first) = agg.runs.first() {
        for fig in &first.outcome.figures {
            let mut named = fig.clone();
            named.stem = format!("{}-{}", agg.name(), fig.stem);
            let (png, svg) = plot::write(&named, &figures_dir)
                .with_context(|| format!("drawing figure `{}` of {}", fig.stem, agg.name()))?;
            agg.figures.push((fig.title.clone(), png, svg));
        }
    }
    let e = agg.experiment;
    let claims: Vec<Value> = agg
        .claims
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "quantity": c.quantity,
                "cmp": c.cmp,
                "threshold": finite_or_text(c.threshold),
                "measured": c.values.iter().map(|&v| finite_or_text(v)).collect::<Vec<_>>(),
                "mean": finite_or_text(c.mean),
                "sd": finite_or_text(c.sd),
                "held": c.held(),
                "seeds_passing": c.seeds_passing(),
            })
        })
        .collect();
    let metrics: Vec<Value> = agg
        .metrics
        .iter()
        .map(|(name, values, mean, sd)| {
            json!({
                "name": name,
                "values": values.iter().map(|&v| finite_or_text(v)).collect::<Vec<_>>(),
                "mean": finite_or_text(*mean),
                "sd": finite_or_text(*sd),
            })
        })
        .collect();
    let runs: Vec<Value> = agg
        .runs
        .iter()
        .map(|r| {
            json!({
                "seed": r.seed,
                "wall_time_s": r.wall.as_secs_f64(),
                "data": r.outcome.data,
                "tables": r.outcome.tables,
                "numbers": r.outcome.numbers,
            })
        })
        .collect();
    let doc = json!({
        "name": e.name,
        "group": e.group,
        "claim": e.claim,
        "source": e.source,
        "quick": agg.quick,
        "seeds": agg.runs.iter().map(|r| r.seed).collect::<Vec<_>>(),
        "wall_time_s": agg.wall().as_secs_f64(),
        "held": agg.held(),
        "failure": agg.failure,
        "claims": claims,
        "metrics": metrics,
        "figures": agg.figures.iter().map(|(t, p, s)| json!({"title": t, "png": format!("figures/{p}"), "svg": format!("figures/{s}")})).collect::<Vec<_>>(),
        "runs": runs,
    });
    let path = dir.join(format!("{}.json", e.name));
    let text = serde_json::to_string_pretty(&doc).context("encoding JSON")?;
    descent_core::fs::write_atomic(&path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// JSON has no NaN or ∞: those are written as the strings "NaN", "inf", "-inf".
fn finite_or_text(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else if v.is_nan() {
        json!("NaN")
    } else if v > 0.0 {
        json!("inf")
    } else {
        json!("-inf")
    }
}

/// Writes `REPORT.md`.
pub fn write_report(dir: &Path, aggs: &[Aggregate], mode: &str, wall: Duration) -> Result<()> {
    let mut md = String::from("# descent: reproduction report\n\n");
    let held = aggs.iter().filter(|a| a.held()).count();
    let _ = writeln!(
        md,
        "Run: {mode}; {} experiments in {:.1} s; **{held} of {} experiments' claims held**.\n",
        aggs.len(),
        wall.as_secs_f64(),
        aggs.len()
    );
    md.push_str(
        "Each claim's threshold is a constant in the experiment's code, fixed before the run. \
         Over several seeds a claim part holds when its mean passes the threshold and so does \
         the mean moved one standard deviation towards failing.\n\n",
    );
    md.push_str("| experiment | group | claim | verdict | wall time |\n|---|---|---|---|---:|\n");
    for a in aggs {
        let v = match &a.failure {
            Some(_) => "**failed to run**",
            None => verdict(a.held()),
        };
        let _ = writeln!(
            md,
            "| [{n}](#{n}) | {} | {} | {v} | {:.1} s |",
            a.experiment.group.as_str(),
            a.experiment.claim,
            a.wall().as_secs_f64(),
            n = a.name()
        );
    }
    for a in aggs {
        section(&mut md, a);
    }
    let path = dir.join("REPORT.md");
    descent_core::fs::write_atomic(&path, md.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn section(md: &mut String, a: &Aggregate) {
    let e = a.experiment;
    let _ = write!(
        md,
        "\n<a id=\"{n}\"></a>\n## {n}\n\n**Claim.** {}\n\n**Source.** {}\n\n",
        e.claim,
        e.source,
        n = e.name
    );
    if let Some(f) = &a.failure {
        let _ = writeln!(md, "**Failed to run:** {f}\n");
    }
    let Some(first) = a.runs.first() else {
        return;
    };
    let seeds: Vec<String> = a.runs.iter().map(|r| r.seed.to_string()).collect();
    let _ = write!(
        md,
        "**Setup.** {}\n\n**Data.** {}\n\n**Verdict: {}** (seed{} {}; wall time {:.1} s).\n\n",
        first.outcome.setup.trim(),
        first.outcome.data.trim(),
        if a.held() { "held" } else { "did not hold" },
        if a.runs.len() > 1 { "s" } else { "" },
        seeds.join(", "),
        a.wall().as_secs_f64(),
    );
    let over = if a.runs.len() > 1 {
        format!("mean ± sd over {} seeds", a.runs.len())
    } else {
        "measured".into()
    };
    let many = a.runs.len() > 1;
    let _ = writeln!(
        md,
        "| claim part | {over} | threshold | verdict |{}\n|---|---:|---:|---|{}",
        if many { " seeds passing alone |" } else { "" },
        if many { "---:|" } else { "" }
    );
    for c in &a.claims {
        let m = if a.runs.len() > 1 {
            format!("{} ± {}", num(c.mean), num(c.sd))
        } else {
            num(c.mean)
        };
        let alone = if many {
            format!(" {} of {} |", c.seeds_passing(), c.values.len())
        } else {
            String::new()
        };
        let _ = writeln!(
            md,
            "| {} | {m} | {} {} | {} |{alone}",
            c.quantity,
            c.cmp.symbol(),
            num(c.threshold),
            verdict(c.held())
        );
    }
    if a.claims.is_empty() {
        md.push_str("| (no claim part was measured) | | | **did not hold** |\n");
    }
    if !a.metrics.is_empty() {
        let _ = writeln!(md, "\n| quantity | {over} |\n|---|---:|");
        for (name, _, mean, sd) in &a.metrics {
            let m = if a.runs.len() > 1 {
                format!("{} ± {}", num(*mean), num(*sd))
            } else {
                num(*mean)
            };
            let _ = writeln!(md, "| {name} | {m} |");
        }
    }
    let which = if a.runs.len() > 1 {
        format!(" (seed {})", first.seed)
    } else {
        String::new()
    };
    for t in &first.outcome.tables {
        let _ = write!(
            md,
            "\n**{}**{which}\n\n| {} |\n|",
            t.title,
            t.header.join(" | ")
        );
        for _ in &t.header {
            md.push_str("---|");
        }
        md.push('\n');
        for r in &t.rows {
            let _ = writeln!(md, "| {} |", r.join(" | "));
        }
    }
    for (title, png, svg) in &a.figures {
        let _ = write!(
            md,
            "\n![{title}](figures/{png})\n\n*{title}*{which} ([SVG](figures/{svg}))\n"
        );
    }
    if !first.outcome.notes.trim().is_empty() {
        let _ = write!(md, "\n{}\n", first.outcome.notes.trim());
    }
}
