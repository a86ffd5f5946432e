//! `--baseline REV`: an earlier commit's build timed in the same run.
//!
//! The previous table (`bench/previous.rs`) was measured on another day,
//! often on another host: this VM's memory bandwidth and speed move by
//! tens of percent between hosts and phases, so a row compared across
//! runs mostly compares machines. A baseline is compared in the same run
//! instead: its `xtask` is built from `git archive REV` (in
//! `target/bench-baseline/`, reused while the commit's tree is there), and
//! each round runs its child beside this build's with the same arguments,
//! this build first in even rounds and the baseline first in odd ones
//! (`bench::first_in_round`), so the two builds alternate on the same
//! machine state and neither always takes the same slot. The
//! report then judges every descent row against the baseline's (the same
//! interquartile rule as the previous table).
//!
//! The child protocol (`bench --child`, `bench --child-only NAMES --mnist
//! DIR`, `bench/protocol.rs`) is what the two builds share: a row the
//! baseline does not know is reported without a verdict.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where baselines are extracted and built, relative to the workspace root.
const DIR: &str = "target/bench-baseline";

/// `--baseline previous`: the commit the previous table
/// (`benches/previous/BENCH.json`) records having measured. (A branch
/// called `previous` is `refs/heads/previous`.)
pub const PREVIOUS_REV: &str = "previous";

/// The commit checked out at `root` and whether tracked files differ from
/// it: what this build was compiled from (`cargo xtask` rebuilds before it
/// runs). `None` outside a git checkout.
pub fn this_commit(root: &Path) -> (Option<String>, bool) {
    let Ok(commit) = resolve(root, "HEAD") else {
        return (None, false);
    };
    let modified = Command::new("git")
        .current_dir(root)
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .map(|o| !o.status.success() || !o.stdout.is_empty())
        .unwrap_or(true);
    (Some(commit), modified)
}

/// A built baseline.
#[derive(Clone, Debug)]
pub struct Baseline {
    /// The revision as given (`HEAD~3`, a tag, a hash).
    pub rev: String,
    /// Its commit hash.
    pub commit: String,
    /// Its `xtask` binary.
    pub exe: PathBuf,
}

impl Baseline {
    /// Builds `rev`'s `xtask` (release) from the repository at `root`.
    pub fn build(root: &Path, rev: &str) -> Result<Baseline> {
        let commit = resolve(root, rev)?;
        let short = &commit[..12.min(commit.len())];
        let base = root.join(DIR);
        let src = base.join(short).join("src");
        if !src.join("Cargo.toml").exists() {
            extract(root, &commit, &src)?;
        }
        println!(
            "bench: building the baseline {rev} ({short}) in {}",
            src.display()
        );
        let target = base.join("target");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(&src)
            .args([
                "build",
                "--release",
                "--locked",
                "-p",
                "xtask",
                "--target-dir",
            ])
            .arg(&target)
            .status()
            .context("running cargo for the baseline")?;
        if !status.success() {
            bail!("building the baseline {rev} ({short}) failed ({status})");
        }
        // Kept beside its source: the shared target folder's binary is
        // replaced by the next baseline built.
        let exe = base
            .join(short)
            .join(format!("xtask{}", std::env::consts::EXE_SUFFIX));
        let built = target
            .join("release")
            .join(format!("xtask{}", std::env::consts::EXE_SUFFIX));
        std::fs::copy(&built, &exe)
            .with_context(|| format!("copying {} to {}", built.display(), exe.display()))?;
        Ok(Baseline {
            rev: rev.to_owned(),
            commit,
            exe,
        })
    }
}

/// The commit hash `rev` names in the repository at `root`.
fn resolve(root: &Path, rev: &str) -> Result<String> {
    if rev.starts_with('-') {
        bail!("--baseline takes a revision (a hash, a tag, HEAD~1), got {rev:?}");
    }
    let out = Command::new("git")
        .current_dir(root)
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("{rev}^{{commit}}"))
        .output()
        .context("running git rev-parse")?;
    let commit = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || commit.is_empty() {
        bail!("--baseline {rev:?} names no commit of {}", root.display());
    }
    Ok(commit)
}

/// Writes `commit`'s tree to `dest` (`git archive` into a fresh sibling
/// folder, renamed into place once complete, so an interrupted extraction
/// is never taken for a tree).
fn extract(root: &Path, commit: &str, dest: &Path) -> Result<()> {
    let parent = dest.parent().context("the baseline folder has a parent")?;
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let partial = parent.join(format!("src.partial-{}", std::process::id()));
    if partial.exists() {
        std::fs::remove_dir_all(&partial)
            .with_context(|| format!("removing {}", partial.display()))?;
    }
    std::fs::create_dir_all(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let unpacked = unpack(root, commit, &partial);
    if unpacked.is_err() {
        // Best effort: the error below is the one worth reporting.
        let _ = std::fs::remove_dir_all(&partial);
    }
    unpacked?;
    std::fs::rename(&partial, dest)
        .with_context(|| format!("moving {} to {}", partial.display(), dest.display()))
}

/// `git archive` of `commit` unpacked into the folder `into`.
fn unpack(root: &Path, commit: &str, into: &Path) -> Result<()> {
    let archive = Command::new("git")
        .current_dir(root)
        .args(["archive", "--format=tar", commit])
        .output()
        .context("running git archive")?;
    if !archive.status.success() {
        bail!(
            "git archive {commit} failed ({}): {}",
            archive.status,
            String::from_utf8_lossy(&archive.stderr).trim()
        );
    }
    tar::Archive::new(archive.stdout.as_slice())
        .unpack(into)
        .with_context(|| format!("unpacking {commit} into {}", into.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        crate::workspace_root()
    }

    #[test]
    fn a_revision_resolves_to_its_commit_and_nonsense_is_refused() {
        let head = resolve(&root(), "HEAD");
        // A clone without history (an archive) has no HEAD: nothing to check.
        let Ok(head) = head else { return };
        assert_eq!(head.len(), 40, "{head}");
        assert!(head.bytes().all(|b| b.is_ascii_hexdigit()));
        let e = resolve(&root(), "no-such-revision-anywhere").unwrap_err();
        assert!(e.to_string().contains("names no commit"), "{e:#}");
        let e = resolve(&root(), "--all").unwrap_err();
        assert!(e.to_string().contains("takes a revision"), "{e:#}");
    }

    #[test]
    fn extraction_writes_the_commit_tree() {
        let Ok(head) = resolve(&root(), "HEAD") else {
            return;
        };
        let dir = std::env::temp_dir().join(format!("descent-baseline-{}", std::process::id()));
        let dest = dir.join("src");
        extract(&root(), &head, &dest).unwrap();
        let manifest = std::fs::read_to_string(dest.join("xtask/Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"xtask\""), "{manifest}");
        // Only the finished tree is left.
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(names, vec![std::ffi::OsString::from("src")]);
    }

    #[test]
    fn a_failed_extraction_leaves_no_partial_tree() {
        let dir = std::env::temp_dir().join(format!("descent-baseline-bad-{}", std::process::id()));
        let no_commit = "0".repeat(40);
        let e = extract(&root(), &no_commit, &dir.join("src")).unwrap_err();
        assert!(e.to_string().contains("git archive"), "{e:#}");
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn this_checkout_names_its_commit() {
        let (commit, _) = this_commit(&root());
        // A clone without history (an archive) names none.
        if let Some(c) = commit {
            assert_eq!(c.len(), 40, "{c}");
        }
        let (none, modified) = this_commit(&std::env::temp_dir().join("no-such-checkout-here"));
        assert_eq!((none, modified), (None, false));
    }
}
