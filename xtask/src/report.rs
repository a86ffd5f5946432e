//! The reproduction report: one section per experiment, written atomically.

use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::path::Path;

/// What one experiment found.
pub struct Report {
    /// Experiment name (`cargo xtask reproduce NAME`).
    pub name: &'static str,
    /// The claim it tests.
    pub claim: &'static str,
    /// Markdown body: setup, tables, figures.
    pub body: String,
    /// Whether the claim held on this run.
    pub held: bool,
}

/// Writes `REPORT.md` in `dir` atomically (`descent_core::fs::write_atomic`),
/// so an interrupted run never leaves a half-written report.
pub fn write(dir: &Path, reports: &[Report], quick: bool, seed: u64) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut md = String::from("# descent: reproduction report\n\n");
    let held = reports.iter().filter(|r| r.held).count();
    let _ = writeln!(
        md,
        "Seed {seed}{}. {held} of {} claims held.\n",
        if quick { ", quick mode" } else { "" },
        reports.len()
    );
    md.push_str("| experiment | claim | held |\n|---|---|---|\n");
    for r in reports {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            r.name,
            r.claim,
            if r.held { "yes" } else { "**no**" }
        );
    }
    for r in reports {
        let _ = write!(
            md,
            "\n## {}\n\n**Claim.** {}\n\n{}\n\n**Held:** {}\n",
            r.name,
            r.claim,
            r.body.trim_end(),
            if r.held { "yes" } else { "no" }
        );
    }
    let path = dir.join("REPORT.md");
    descent_core::fs::write_atomic(&path, md.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}
