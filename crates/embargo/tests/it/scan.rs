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
        table.contains("2 vulnerabilities in 2 packages from 2 files"),
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

/// The program cargo-audit, if installed.
fn cargo_audit() -> Option<std::path::PathBuf> {
    let candidates = [
        std::env::var_os("CARGO_HOME").map(|h| std::path::PathBuf::from(h).join("bin/cargo-audit")),
        std::env::var_os("HOME")
            .map(|h| std::path::PathBuf::from(h).join(".cargo/bin/cargo-audit")),
    ];
    candidates.into_iter().flatten().find(|p| p.exists())
}

type Found = std::collections::BTreeSet<(String, String, String)>;

/// (package, version, advisory) of embargo's JSON report.
fn embargo_found(report: &serde_json::Value, key: &str) -> Found {
    report[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["package"].as_str().unwrap().to_owned(),
                f["version"].as_str().unwrap().to_owned(),
                f["advisory"]["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The same from cargo-audit's JSON: vulnerabilities, and informational
/// warnings (yanked crates are not advisories and are left out).
fn audit_found(report: &serde_json::Value) -> (Found, Found) {
    let entry = |f: &serde_json::Value| {
        (
            f["package"]["name"].as_str().unwrap().to_owned(),
            f["package"]["version"].as_str().unwrap().to_owned(),
            f["advisory"]["id"].as_str().unwrap().to_owned(),
        )
    };
    let vulns = report["vulnerabilities"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(entry)
        .collect();
    let mut notices = Found::new();
    if let Some(warnings) = report["warnings"].as_object() {
        for (kind, list) in warnings {
            if kind == "yanked" {
                continue;
            }
            notices.extend(
                list.as_array()
                    .unwrap()
                    .iter()
                    .filter(|w| !w["advisory"].is_null())
                    .map(entry),
            );
        }
    }
    (vulns, notices)
}

/// A copy of RustSec's advisory database as the git repository cargo-audit
/// expects (`git init` and one commit: cargo-audit reads the commit's time).
pub(crate) fn rustsec_repository(from: &Path, to: &Path) {
    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(copied.success());
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=embargo",
            "-c",
            "user.email=embargo@example.org",
            "commit",
            "-q",
            "-m",
            "snapshot",
        ],
    ] {
        let status = std::process::Command::new("git")
            .arg("-C")
            .arg(to)
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }
}

/// Real lockfiles: this repository's own and those published inside crates
/// in the local cargo registry (present wherever this workspace was built).
fn real_lockfiles() -> Vec<std::path::PathBuf> {
    let mut found =
        vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock")];
    let registry = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cargo")))
        .map(|h| h.join("registry/src"));
    if let Some(Ok(indexes)) = registry.map(std::fs::read_dir) {
        let mut published: Vec<_> = indexes
            .filter_map(Result::ok)
            .filter_map(|i| std::fs::read_dir(i.path()).ok())
            .flatten()
            .filter_map(Result::ok)
            .map(|c| c.path().join("Cargo.lock"))
            .filter(|p| p.exists())
            .collect();
        published.sort();
        // Every 40th: a spread of real lockfiles without scanning hundreds.
        found.extend(published.into_iter().step_by(40));
    }
    found
}

#[test]
fn scan_reports_what_cargo_audit_reports_on_the_same_advisories() {
    let zip = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/osv/crates.io/all.zip");
    if !zip.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is absent; CI runs with ../shared beside the clone",
            zip.display()
        );
        eprintln!("skipped: {} is absent", zip.display());
        return;
    }
    let Some(audit) = cargo_audit() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "cargo-audit is missing; .ci/run installs it"
        );
        eprintln!("skipped: cargo-audit is not installed (cargo install cargo-audit --locked)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // cargo-audit reads RustSec's own repository (Markdown with TOML front
    // matter), the same snapshot as the OSV export embargo imports.
    let rustsec = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/rustsec-advisory-db");
    assert!(
        rustsec.join("crates").is_dir(),
        "{} is absent",
        rustsec.display()
    );
    rustsec_repository(&rustsec, &d.join("advisory-db"));
    let import = embargo_in(
        d,
        &["db", "import", zip.to_str().unwrap(), "--db", "osv.db"],
    );
    assert!(import.status.success(), "{}", stderr(&import));

    let mut lockfiles = real_lockfiles();
    assert!(lockfiles.len() >= 5, "{lockfiles:?}");
    // This workspace's lockfile with a vulnerable crate taken from git at a
    // commit and a path dependency: registry packages only, on both sides.
    let own = std::fs::read_to_string(&lockfiles[0]).unwrap();
    let mixed = d.join("mixed-sources/Cargo.lock");
    std::fs::create_dir_all(mixed.parent().unwrap()).unwrap();
    std::fs::write(
        &mixed,
        format!(
            "{own}\n[[package]]\nname = \"smallvec\"\nversion = \"0.6.9\"\n\
             source = \"git+https://github.com/servo/rust-smallvec?rev=e0ac5b6#e0ac5b6aa0cbb3a9b28b5f56f11b34f34a1fd2a1\"\n\n\
             [[package]]\nname = \"local-thing\"\nversion = \"0.1.0\"\n"
        ),
    )
    .unwrap();
    lockfiles.push(mixed.clone());
    let mut largest = 0;
    let mut total_findings = 0;
    for lockfile in &lockfiles {
        let lock = lockfile.to_str().unwrap();
        let ours = embargo_in(d, &["scan", lock, "--db", "osv.db", "--format", "json"]);
        assert!(
            ours.status.code().is_some_and(|c| c != 2),
            "{lock}: {}",
            stdout(&ours)
        );
        let ours: serde_json::Value = serde_json::from_slice(&ours.stdout).unwrap();
        largest = largest.max(ours["packages"].as_u64().unwrap());
        let theirs = std::process::Command::new(&audit)
            .args(["audit", "--no-fetch", "--stale", "--json", "--db"])
            .arg(d.join("advisory-db"))
            .args(["--file", lock])
            .output()
            .unwrap();
        let theirs: serde_json::Value = serde_json::from_slice(&theirs.stdout)
            .unwrap_or_else(|e| panic!("{lock}: {e}: {}", String::from_utf8_lossy(&theirs.stderr)));
        let (vulns, notices) = audit_found(&theirs);
        assert_eq!(
            embargo_found(&ours, "vulnerabilities"),
            vulns,
            "vulnerabilities in {lock}"
        );
        assert_eq!(
            embargo_found(&ours, "notices"),
            notices,
            "informational notices in {lock}"
        );
        total_findings += vulns.len() + notices.len();
    }
    assert!(
        largest >= 400,
        "one lockfile has 400 or more packages ({largest})"
    );
    assert!(
        total_findings > 0,
        "equal because both found nothing proves nothing: no finding over {} lockfiles",
        lockfiles.len()
    );
    // The git crate is named as not checked, and checked when asked.
    let mixed = mixed.to_str().unwrap();
    let out = embargo_in(d, &["scan", mixed, "--db", "osv.db"]);
    assert!(
        stdout(&out).contains("smallvec 0.6.9 (git+https://github.com/servo/rust-smallvec"),
        "{}",
        stdout(&out)
    );
    let out = embargo_in(
        d,
        &[
            "scan",
            mixed,
            "--db",
            "osv.db",
            "--check-vcs-by-version",
            "--format",
            "json",
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        embargo_found(&report, "vulnerabilities")
            .iter()
            .any(|(p, v, _)| p == "smallvec" && v == "0.6.9"),
        "checked by version when asked"
    );
    eprintln!(
        "{} lockfiles, {total_findings} findings, all equal",
        lockfiles.len()
    );
}

/// Validates `document` against the official schema (and the schemas it
/// references) in ../shared/data/schemas with Python's `jsonschema`.
/// `None` when the schemas or the validator are absent (outside CI).
fn schema_violations(document: &str, schemas: &[&str]) -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/schemas");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../vulndb/tests/support/validate_json.py");
    let ok = std::process::Command::new("python3")
        .args(["-c", "import jsonschema, referencing"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !root.exists() || !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "the schemas and Python's jsonschema are present in CI"
        );
        eprintln!("skipped: schemas or Python's jsonschema absent");
        return None;
    }
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .args(schemas.iter().map(|s| root.join(s)))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(document.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Some(if out.status.success() {
        String::new()
    } else {
        format!("{}\n{document}", String::from_utf8_lossy(&out.stdout))
    })
}

#[test]
fn sboms_scan_and_reports_validate_against_their_official_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    feed(d);
    let import = embargo_in(d, &["db", "import", "feed", "--db", "osv.db"]);
    assert!(import.status.success(), "{}", stderr(&import));
    let bom = json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "components": [
            {"type": "library", "name": "smallthing", "purl": "pkg:cargo/smallthing@1.2.0"},
            {"type": "library", "name": "leftpad", "purl": "pkg:npm/leftpad@1.0.0"},
            {"type": "library", "name": "curl", "purl": "pkg:rpm/fedora/curl@7.50.3"},
            {"type": "file", "name": "README.md"}
        ]
    });
    write(d, "app.cdx.json", &bom.to_string());
    let out = embargo_in(d, &["scan", "app.cdx.json", "--db", "osv.db"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let table = stdout(&out);
    assert!(
        table.contains("smallthing 1.2.0") && table.contains("leftpad 1.0.0"),
        "{table}"
    );
    assert!(
        table.contains(
            "not checked: app.cdx.json: 1 component are of purl type `rpm`, which embargo does not check, not checked: pkg:rpm/fedora/curl@7.50.3"
        ) && table.contains("1 component have no package URL, not checked: README.md"),
        "what embargo cannot check is listed by name: {table}"
    );
    assert!(
        stderr(&out)
            .contains("embargo scan: incomplete: app.cdx.json: 1 component are of purl type `rpm`"),
        "{}",
        stderr(&out)
    );
    // Without the findings, what is left unchecked makes the scan incomplete (3), not clean.
    let out = embargo_in(
        d,
        &[
            "scan",
            "app.cdx.json",
            "--db",
            "osv.db",
            "--ignore",
            "EX-1",
            "--ignore",
            "EX-2",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let invalid = bom.to_string().replace("\"file\"", "\"folder\"");
    write(d, "bad.cdx.json", &invalid);
    let out = embargo_in(d, &["scan", "bad.cdx.json", "--db", "osv.db"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("components[3].type: `folder`"),
        "{}",
        stdout(&out)
    );

    write(
        d,
        "ignores.toml",
        "[[ignore]]\nid = \"EX-2\"\nreason = \"dev-only tool\"\n",
    );
    let formats: [(&str, &[&str]); 3] = [
        ("sarif", &["sarif-2.1.0/sarif-schema-2.1.0.json"]),
        (
            "cyclonedx-vex",
            &[
                "cyclonedx/bom-1.6.schema.json",
                "cyclonedx/spdx.schema.json",
                "cyclonedx/jsf-0.82.schema.json",
            ],
        ),
        ("openvex", &["openvex/openvex_json_schema.json"]),
    ];
    for (format, schemas) in formats {
        let out = embargo_in(
            d,
            &[
                "scan",
                "app.cdx.json",
                "--db",
                "osv.db",
                "--format",
                format,
                "--ignore-file",
                "ignores.toml",
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        let text = stdout(&out);
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        match format {
            "sarif" => {
                let results = doc["runs"][0]["results"].as_array().unwrap();
                assert_eq!(results.len(), 2);
                assert_eq!(results[0]["ruleId"], "EX-1");
                assert_eq!(results[0]["level"], "error");
                assert_eq!(
                    doc["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"],
                    "9.8"
                );
                assert_eq!(
                    results[1]["suppressions"][0]["justification"],
                    "dev-only tool"
                );
            }
            "cyclonedx-vex" => {
                let v = doc["vulnerabilities"].as_array().unwrap();
                assert_eq!(v.len(), 2);
                assert_eq!(v[0]["id"], "EX-1");
                assert_eq!(v[0]["affects"][0]["ref"], "pkg:cargo/smallthing@1.2.0");
                assert_eq!(v[0]["ratings"][0]["severity"], "critical");
                assert_eq!(v[1]["analysis"]["detail"], "ignored: dev-only tool");
            }
            _ => {
                let s = doc["statements"].as_array().unwrap();
                assert_eq!(s.len(), 2);
                assert_eq!(s[0]["products"][0]["@id"], "pkg:cargo/smallthing@1.2.0");
                assert_eq!(s[0]["status"], "under_investigation");
            }
        }
        if let Some(violations) = schema_violations(&text, schemas) {
            assert!(violations.is_empty(), "{format}: {violations}");
        }
    }
}

/// `embargo scan … | head`: a reader that stops early closes the pipe. The
/// scan neither panics nor reports an error of its own; its status is the
/// scan's (here 1, a finding), in every format.
#[test]
fn a_reader_that_stops_early_is_no_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    feed(d);
    let import = embargo_in(d, &["db", "import", "feed", "--db", "osv.db"]);
    assert!(import.status.success(), "{}", stderr(&import));
    write(d, "project/Cargo.lock", CARGO_LOCK);
    for format in ["table", "json", "sarif"] {
        let mut child = std::process::Command::new(crate::bin())
            .args(["scan", "project", "--db", "osv.db", "--format", format])
            .current_dir(d)
            .env_remove("EMBARGO_CONFIG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Closed before the scan writes a byte: its first write meets EPIPE.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{format}: {err}");
        assert!(!err.contains("Broken pipe"), "{format}: {err}");
        assert_eq!(out.status.code(), Some(1), "{format}: {err}");
    }
}

/// The directory a security team points the scanner at: lockfiles and SBOMs
/// under names nobody chose, a malformed file, and noise.
#[test]
fn a_directory_of_oddly_named_files_is_read_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "feed/PY-1.json",
        &json!({"id": "PY-1", "modified": "2026-01-01T00:00:00Z", "summary": "in flask",
            "database_specific": {"severity": "HIGH"},
            "affected": [{"package": {"ecosystem": "PyPI", "name": "flask"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.2.5"}]}]}]})
        .to_string(),
    );
    write(
        d,
        "feed/NPM-1.json",
        &json!({"id": "NPM-1", "modified": "2026-01-01T00:00:00Z", "summary": "in leftpad",
            "database_specific": {"severity": "HIGH"},
            "affected": [{"package": {"ecosystem": "npm", "name": "leftpad"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}]}]}]})
        .to_string(),
    );
    let import = embargo_in(d, &["db", "import", "feed", "--db", "osv.db"]);
    assert!(import.status.success(), "{}", stderr(&import));
    write(
        d,
        "project/sbom.json",
        &json!({"bomFormat": "CycloneDX", "specVersion": "1.7", "version": 1, "components": [
            {"type": "library", "name": "leftpad", "purl": "pkg:npm/leftpad@1.0.0"}]})
        .to_string(),
    );
    write(d, "project/dev-requirements.txt", "flask == 2.0.0\n");
    write(d, "project/requirements/main.txt", "-r ../deps.txt\n");
    write(d, "project/deps.txt", "click==8.0.0\n");
    write(d, "project/README.txt", "Install with pip.\n");
    write(d, "project/node_modules/leftpad/package.json", "{}");
    let out = embargo_in(
        d,
        &["scan", "project", "--db", "osv.db", "--format", "json"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<_> = embargo_found(&report, "vulnerabilities")
        .into_iter()
        .collect();
    assert_eq!(
        found,
        [
            ("flask".to_owned(), "2.0.0".to_owned(), "PY-1".to_owned()),
            ("leftpad".to_owned(), "1.0.0".to_owned(), "NPM-1".to_owned()),
        ]
    );
    assert_eq!(report["files"].as_array().unwrap().len(), 4, "{report}");
    assert_eq!(
        report["packages"], 3,
        "click counted once, from the include"
    );
    let skipped: Vec<_> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["path"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        skipped,
        ["README.txt", "node_modules"],
        "what was passed over is listed"
    );

    // Nothing to read: not clean, incomplete, and said.
    std::fs::create_dir_all(d.join("empty")).unwrap();
    let out = embargo_in(d, &["scan", "empty", "--db", "osv.db"]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("incomplete: no lockfile or SBOM was found: nothing was checked"),
        "{}",
        stderr(&out)
    );

    // Packages of an ecosystem the database holds nothing for.
    write(
        d,
        "gems/Gemfile.lock",
        "GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (2.2.3)\n",
    );
    let out = embargo_in(d, &["scan", "gems", "--db", "osv.db"]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    assert!(
        stderr(&out)
            .contains("1 RubyGems package read, and the database holds no RubyGems advisory"),
        "{}",
        stderr(&out)
    );
}
