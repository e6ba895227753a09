//! CVSS 3.x and 4.0 vectors: a score in range, and a rating that agrees with it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(s) = embargo_core::cvss::assess(text) {
        assert!((0.0..=10.0).contains(&s.score), "{text:?}: {}", s.score);
        assert_eq!(embargo_core::cvss::rating(s.score), s.severity, "{text:?}");
    }
});
