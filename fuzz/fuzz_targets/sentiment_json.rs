//! cargo-fuzz entry for descent_fuzz's `sentiment_json` target.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = descent_fuzz::target("sentiment_json").expect("a known target");
    target(data);
});
