//! Every lockfile format embargo reads: the first byte picks the file name
//! (`upload` has none, so the format is recognized by content).
#![no_main]
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 14] = [
    "Cargo.lock",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "poetry.lock",
    "Pipfile.lock",
    "uv.lock",
    "go.mod",
    "go.sum",
    "composer.lock",
    "Gemfile.lock",
    "packages.lock.json",
    "requirements.txt",
    "upload",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let name = NAMES[usize::from(pick) % NAMES.len()];
    let _ =
        embargo_vulndb::lockfile::read_text(std::path::Path::new(name), text, Default::default());
});
