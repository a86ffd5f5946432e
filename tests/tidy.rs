//! Tidy checks on the workspace itself (rust-analyzer's `check_cargo_toml`
//! spirit): the dependency rule of DESIGN.md, shared lints, and layout.
//! `cargo xtask tidy` runs this test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The crates that may see the tape (depend on `descent-autodiff` or
/// `descent-nn`): the tape itself, the layers, the training loop, and the
/// dev-only benchmarks and task runner, and the playground (an application
/// on top of the training loop). Every other crate, a new one included, is
/// tape-free.
const TAPE_AWARE: &[&str] = &[
    "autodiff",
    "nn",
    "train",
    "bench",
    "fuzz",
    "xtask",
    "playground",
];
/// The crates the tape lives in.
const TAPE_CRATES: &[&str] = &["descent-autodiff", "descent-nn", "descent-train"];
/// Dependencies `descent-core` may have (ARCHITECTURE.md: vocabulary, plus
/// the thread pool behind `threads::install`).
const CORE_ALLOWED: &[&str] = &[
    "nalgebra",
    "thiserror",
    "rand_core",
    "serde",
    "rayon-core",
    "libc",
];

struct Manifest {
    path: PathBuf,
    doc: toml::Table,
}

impl Manifest {
    fn deps(&self, table: &str) -> Vec<String> {
        self.doc
            .get(table)
            .and_then(|d| d.as_table())
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The crate's dependencies, platform-specific ones
    /// (`[target.'cfg(..)'.dependencies]`) included.
    fn all_deps(&self) -> Vec<String> {
        let mut deps = self.deps("dependencies");
        if let Some(targets) = self.doc.get("target").and_then(|t| t.as_table()) {
            for platform in targets.values() {
                if let Some(t) = platform.get("dependencies").and_then(|d| d.as_table()) {
                    deps.extend(t.keys().cloned());
                }
            }
        }
        deps
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn crate_manifests() -> BTreeMap<String, Manifest> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(root().join("crates")).expect("crates/ exists") {
        let dir = entry.expect("readable crates/ entry").path();
        let path = dir.join("Cargo.toml");
        if !path.exists() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        out.insert(name, read(&path));
    }
    out.insert("xtask".into(), read(&root().join("xtask/Cargo.toml")));
    out
}

fn read(path: &Path) -> Manifest {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc = text
        .parse::<toml::Table>()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Manifest {
        path: path.to_owned(),
        doc,
    }
}

#[test]
fn tape_free_crates_do_not_depend_on_autodiff() {
    let manifests = crate_manifests();
    assert!(manifests.contains_key("optim") && manifests.contains_key("autodiff"));
    for (name, m) in manifests {
        if !TAPE_AWARE.contains(&name.as_str()) {
            let deps = m.deps("dependencies");
            assert!(
                !deps.iter().any(|d| TAPE_CRATES.contains(&d.as_str())),
                "{}: `{name}` must not depend on the tape (autodiff, nn, train): {deps:?}",
                m.path.display()
            );
        }
    }
}

/// Reads every crate's manifest, so it applies from the moment
/// `crates/train` exists (the facade, the root manifest, may depend on it).
#[test]
fn only_xtask_and_the_facade_depend_on_train() {
    // descent-bench and descent-fuzz are the benches' and xtask's own
    // dev-only helpers (never published, nothing else depends on them): they
    // build the Trainer row and fuzz checkpoints. descent-playground is an
    // application (a binary) on top of the loop, and nothing depends on it.
    let manifests = crate_manifests();
    let train_exists = manifests.contains_key("train");
    for (name, m) in &manifests {
        assert!(
            !m.deps("dependencies")
                .iter()
                .any(|d| d == "descent-playground"),
            "{}: nothing may depend on descent-playground",
            m.path.display()
        );
        if name != "xtask" && name != "bench" && name != "fuzz" && name != "playground" {
            assert!(
                !m.deps("dependencies").iter().any(|d| d == "descent-train"),
                "{}: only xtask and the facade may depend on descent-train",
                m.path.display()
            );
        }
    }
    println!(
        "crates/train {}",
        if train_exists {
            "exists: checked"
        } else {
            "does not exist yet: checked vacuously"
        }
    );
}

#[test]
fn core_is_vocabulary_only() {
    let core = &crate_manifests()["core"];
    for dep in core.all_deps() {
        assert!(
            CORE_ALLOWED.contains(&dep.as_str()),
            "{}: descent-core may depend only on {CORE_ALLOWED:?}, found `{dep}`",
            core.path.display()
        );
    }
}

#[test]
fn every_crate_is_a_member_and_uses_workspace_lints() {
    let ws = read(&root().join("Cargo.toml"));
    let members: Vec<String> = ws.doc["workspace"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    for (name, m) in crate_manifests() {
        let rel = if name == "xtask" {
            "xtask".to_owned()
        } else {
            format!("crates/{name}")
        };
        assert!(members.contains(&rel), "{rel} is not a workspace member");
        let lints = m
            .doc
            .get("lints")
            .and_then(|l| l.get("workspace"))
            .and_then(|w| w.as_bool());
        assert_eq!(
            lints,
            Some(true),
            "{}: add `[lints] workspace = true`",
            m.path.display()
        );
    }
}

#[test]
fn library_crates_have_descent_names_and_lib_rs_holds_no_code() {
    for (name, m) in crate_manifests() {
        if name == "xtask" {
            continue;
        }
        let pkg = m.doc["package"]["name"].as_str().unwrap();
        assert_eq!(
            pkg,
            format!("descent-{name}"),
            "{}: package name",
            m.path.display()
        );
        let lib = m.path.parent().unwrap().join("src/lib.rs");
        let text = std::fs::read_to_string(&lib).unwrap_or_default();
        let fns = text
            .lines()
            .filter(|l| l.trim_start().starts_with("fn ") || l.trim_start().starts_with("pub fn "))
            .count();
        assert_eq!(
            fns,
            0,
            "{}: lib.rs holds only docs, mod lines and re-exports",
            lib.display()
        );
    }
}

#[test]
fn no_ignored_or_should_panic_tests() {
    // spelled in pieces so this file does not match its own check
    const FORBIDDEN: [&str; 2] = [concat!("#[", "ignore"), concat!("#[", "should_panic")];
    let mut bad = Vec::new();
    for dir in ["crates", "src", "tests", "xtask", "benches"] {
        walk(&root().join(dir), &mut |p, text| {
            for (i, line) in text.lines().enumerate() {
                let l = line.trim_start();
                if FORBIDDEN.iter().any(|f| l.starts_with(f)) {
                    bad.push(format!("{}:{}", p.display(), i + 1));
                }
            }
        });
    }
    assert!(
        bad.is_empty(),
        "assert the Err variant instead of ignoring or expecting panics: {bad:?}"
    );
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path, &str)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "target") {
                walk(&p, f);
            }
        } else if p.extension().is_some_and(|x| x == "rs")
            && let Ok(text) = std::fs::read_to_string(&p)
        {
            f(&p, &text);
        }
    }
}
