//! Package URLs: whatever parses writes out canonically, and that parses to
//! the same canonical form.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = embargo_vulndb::purl::Purl::parse(text) {
        let canonical = p.to_string();
        // The parser bounds its input (4096 bytes); percent-encoding can
        // triple a string's length, so a long one's canonical form may be
        // refused for its size alone.
        if canonical.len() > 4096 {
            return;
        }
        let again = embargo_vulndb::purl::Purl::parse(&canonical)
            .unwrap_or_else(|e| panic!("{canonical:?} (from {text:?}) does not parse: {e}"));
        assert_eq!(again.to_string(), canonical, "from {text:?}");
    }
});
