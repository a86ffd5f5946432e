//! cargo-fuzz entry for descent_fuzz's `checkpoint` target.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = descent_fuzz::target("checkpoint").expect("a known target");
    target(data);
});
