//! cargo-fuzz entry for descent_fuzz's `safetensors` target.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = descent_fuzz::target("safetensors").expect("a known target");
    target(data);
});
