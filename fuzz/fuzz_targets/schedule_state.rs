//! cargo-fuzz entry for descent_fuzz's `schedule_state` target.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = descent_fuzz::target("schedule_state").expect("a known target");
    target(data);
});
