//! cargo-fuzz entry for descent_fuzz's `hpo_journal` target.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = descent_fuzz::target("hpo_journal").expect("a known target");
    target(data);
});
