//! cargo-fuzz entry for descent_fuzz's `optimizer_state` target.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = descent_fuzz::target("optimizer_state").expect("a known target");
    target(data);
});
