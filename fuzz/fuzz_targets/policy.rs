//! Policy files (TOML): parsed and checked; a valid one renders.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = embargo_core::policy::Policy::parse(text);
});
