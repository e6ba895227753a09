//! Each ecosystem's version rules: the first byte picks the ecosystem, the
//! rest is two versions split at the first NUL. Comparison is antisymmetric.
#![no_main]
use embargo_vulndb::version::Ecosystem;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let ecosystem = Ecosystem::ALL[usize::from(pick) % Ecosystem::ALL.len()];
    let (a, b) = text.split_once('\0').unwrap_or((text, "1.0.0"));
    let (Ok(va), Ok(vb)) = (ecosystem.parse(a), ecosystem.parse(b)) else {
        return;
    };
    let ab = va.compare(&vb);
    let ba = vb.compare(&va);
    assert_eq!(
        ab,
        ba.map(std::cmp::Ordering::reverse),
        "{ecosystem:?}: {a:?} vs {b:?}"
    );
    assert_eq!(
        va.compare(&va),
        Some(std::cmp::Ordering::Equal),
        "{ecosystem:?}: {a:?}"
    );
});
