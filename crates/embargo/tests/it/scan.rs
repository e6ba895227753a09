//! `embargo db import` and `embargo scan` as a CI pipeline uses them: exit
//! codes, formats, ignores, and errors that name the file and the place.

use std::path::Path;

use serde_json::json;

use crate::{embargo_in, stderr, stdout};

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A feed of two advisories written as a directory of OSV files.
fn feed(dir: &Path) {
    write(
        dir,
        "feed/EX-1.json",
        &json!({"id": "EX-1", "modified": "2026-01-01T00:00:00Z", "summary": "critical in smallthing",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "crates.io", "name": "smallthing"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.6.1"}]}]}]})
        .to_string(),
    );
    write(
        dir,
        "feed/nested/EX-2.json",
        &json!({"id": "EX-2", "modified": "2026-01-01T00:00:00Z", "summary": "low in leftpad",
            "database_specific": {"severity": "LOW"},
            "affected": [{"package": {"ecosystem": "npm", "name": "leftpad"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}]}]}]})
        .to_string(),
    );
    write(
        dir,
        "feed/broken.json",
        "{\"id\": \"EX-3\", \"modified\": 5}",
    );
}

const CARGO_LOCK: &str = "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\n\
    [[package]]\nname = \"smallthing\"\nversion = \"1.2.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";

#[test]
fn scan_exit_codes_formats_and_ignores() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    feed(d);
    let import = embargo_in(d, &["db", "import", "feed", "--db", "osv.db"]);
    assert!(import.status.success(), "{}", stderr(&import));
    assert!(
        stdout(&import).contains("imported 2 advisories"),
        "{}",
        stdout(&import)
    );
    assert!(
        stderr(&import).contains("skipped EX-3"),
        "{}",
        stderr(&import)
    );

    write(d, "project/Cargo.lock", CARGO_LOCK);
    write(
        d,
        "project/web/package-lock.json",
        &json!({"lockfileVersion": 3, "packages": {"": {}, "node_modules/leftpad": {"version": "1.0.0"}}}).to_string(),
    );
    write(d, "project/target/Cargo.lock", "not scanned: build output");

    // Both findings: exit 1; the table names package, advisory, severity, fix.
    let out = embargo_in(d, &["scan", "project", "--db", "osv.db"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let table = stdout(&out);
    assert!(
        table.contains("smallthing 1.2.0")
            && table.contains("EX-1")
            && table.contains("critical 9.8")
    );
    assert!(table.contains("fixed in 1.6.1"));
    assert!(
        table.contains("2 vulnerabilities in 2 packages from 2 lockfiles"),
        "{table}"
    );

    // --fail-on high: only the critical one counts; ignoring it passes.
    let out = embargo_in(
        d,
        &["scan", "project", "--db", "osv.db", "--fail-on", "high"],
    );
    assert_eq!(out.status.code(), Some(1));
    let out = embargo_in(
        d,
        &[
            "scan",
            "project",
            "--db",
            "osv.db",
            "--fail-on",
            "high",
            "--ignore",
            "EX-1",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // An ignore file with a reason; an expired one is not applied.
    write(
        d,
        "ignores.toml",
        "[[ignore]]\nid = \"EX-1\"\nreason = \"not reachable\"\nexpires = \"2000-01-01\"\n",
    );
    let out = embargo_in(
        d,
        &[
            "scan",
            "project",
            "--db",
            "osv.db",
            "--fail-on",
            "high",
            "--ignore-file",
            "ignores.toml",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("expired ignore, not applied: EX-1"));

    // JSON for machines.
    let out = embargo_in(
        d,
        &[
            "scan",
            "project/Cargo.lock",
            "--db",
            "osv.db",
            "--format",
            "json",
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["vulnerabilities"][0]["advisory"]["id"], "EX-1");
    assert_eq!(report["vulnerabilities"][0]["fixed"][0], "1.6.1");

    // Clean: exit 0.
    write(d, "clean/Cargo.lock", &CARGO_LOCK.replace("1.2.0", "1.6.1"));
    let out = embargo_in(d, &["scan", "clean", "--db", "osv.db"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // Errors: exit 2, naming the file and the place.
    write(
        d,
        "bad/Cargo.lock",
        "[[package]]\nname = \"smallthing\"\nversion = 12\nsource = \"x\"\n",
    );
    let out = embargo_in(d, &["scan", "bad", "--db", "osv.db"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("Cargo.lock (package[0].version): missing or not a string"),
        "{}",
        stdout(&out)
    );
    write(d, "odd/Cargo.lock", &CARGO_LOCK.replace("1.2.0", "1.2"));
    let out = embargo_in(d, &["scan", "odd", "--db", "osv.db"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unparseable version is never 'not affected'"
    );
    assert!(
        stdout(&out).contains("crates.io version `1.2`"),
        "{}",
        stdout(&out)
    );
    let out = embargo_in(d, &["scan", "project", "--db", "missing.db"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("embargo db import"),
        "{}",
        stderr(&out)
    );
    let out = embargo_in(
        d,
        &["scan", "project", "--db", "osv.db", "--fail-on", "severe"],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "clap refuses an unknown severity"
    );
}
