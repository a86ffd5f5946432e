//! cargo-fuzz entry for descent_fuzz's `digits_csv` target.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = descent_fuzz::target("digits_csv").expect("a known target");
    target(data);
});
