//! CycloneDX (JSON and XML) and SPDX documents: the first byte picks the format.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let name = ["bom.json", "bom.xml", "sbom.spdx.json"][usize::from(pick) % 3];
    let _ = embargo_vulndb::sbom::read(std::path::Path::new(name), text);
});
