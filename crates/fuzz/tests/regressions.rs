//! Every fuzz target on its whole seed corpus and on every recorded
//! regression input (`fuzz/regressions/<target>/`, inputs that once crashed),
//! then a short deterministic mutation pass; none may panic.

use descent_fuzz::{TARGETS, mutate};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

#[test]
fn every_target_has_a_seed_corpus_and_a_cargo_fuzz_binary() {
    for (name, _) in TARGETS {
        let seeds = mutate::seeds(&fuzz_dir().join("corpus").join(name));
        assert!(!seeds.is_empty(), "fuzz/corpus/{name} has no seeds");
        let bin = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&bin).unwrap_or_default();
        assert!(
            text.contains(&format!("target(\"{name}\")")),
            "{} must run target {name}",
            bin.display()
        );
    }
}

#[test]
fn seeds_and_recorded_crashes_never_panic() {
    for &(name, target) in TARGETS {
        for dir in ["corpus", "regressions"] {
            for input in mutate::seeds(&fuzz_dir().join(dir).join(name)) {
                target(&input);
            }
        }
    }
}

#[test]
fn a_short_mutation_pass_finds_no_panic() {
    for (i, &(name, target)) in TARGETS.iter().enumerate() {
        let seeds = mutate::seeds(&fuzz_dir().join("corpus").join(name));
        let out = mutate::run(target, &seeds, i as u64, Duration::from_secs(30), 300);
        if let Some((input, message)) = out.crash {
            panic!("{name} panicked ({message}) on {input:?}");
        }
    }
}
