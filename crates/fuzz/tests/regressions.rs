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

/// The checkpoint seed is a real checkpoint of `checkpoint_trainer`, taken
/// mid-accumulation (so it carries gradients), and still loads: a format
/// change that forgets the seed fails here. `DESCENT_FUZZ_WRITE_SEEDS=1`
/// rewrites it.
#[test]
fn the_checkpoint_seed_is_current() {
    use descent_train::{BatchInfo, Callback, Control, Data};
    struct StopAt3(u64);
    impl Callback for StopAt3 {
        fn on_batch_end(&mut self, _: &BatchInfo) -> Control {
            self.0 += 1;
            if self.0 == 3 {
                Control::Stop
            } else {
                Control::Continue
            }
        }
    }
    let x = nalgebra::DMatrix::from_fn(16, 3, |i, j| ((i * 7 + j * 3) % 5) as f32 / 5.0);
    let labels: Vec<usize> = (0..16).map(|i| i % 2).collect();
    let data = descent_data::InMemory::classification(x, labels, 2).unwrap();
    let mut t = descent_fuzz::targets::checkpoint_trainer().with_callback(StopAt3(0));
    t.fit(Data::train(&data)).unwrap();
    let bytes = t.checkpoint_bytes().unwrap();
    let path = fuzz_dir().join("corpus/checkpoint/mid_accumulation");
    if std::env::var("DESCENT_FUZZ_WRITE_SEEDS").as_deref() == Ok("1") {
        std::fs::write(&path, &bytes).unwrap();
    }
    let seed = std::fs::read(&path).unwrap();
    assert_eq!(
        seed,
        bytes,
        "{} is stale: rerun with DESCENT_FUZZ_WRITE_SEEDS=1",
        path.display()
    );
    let mut fresh = descent_fuzz::targets::checkpoint_trainer();
    fresh.load_checkpoint_bytes(&seed).unwrap();
}
