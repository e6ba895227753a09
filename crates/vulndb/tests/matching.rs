//! The database end to end: import (fixtures written here, and the real
//! feeds in ../shared/data/osv when present), the compact form, matching.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use embargo_vulndb::db::{Database, Severity};
use embargo_vulndb::osv::Record;
use embargo_vulndb::version::Ecosystem;
use serde_json::json;

fn record(v: serde_json::Value) -> Result<Record, (String, String)> {
    Ok(serde_json::from_value(v).unwrap())
}

fn fixture_db() -> (Database, embargo_vulndb::db::ImportReport) {
    Database::build([
        record(json!({
            "id": "EXAMPLE-1", "modified": "2026-01-01T00:00:00Z", "aliases": ["CVE-2026-0001"],
            "summary": "two windows, one SEMVER range",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "crates.io", "name": "smallthing"},
                "ranges": [{"type": "SEMVER", "events": [
                    {"introduced": "0.6.3"}, {"fixed": "0.6.14"}, {"introduced": "1.0.0"}, {"fixed": "1.6.1"}]}]}]
        })),
        record(json!({
            "id": "EXAMPLE-2", "modified": "2026-01-01T00:00:00Z",
            "database_specific": {"severity": "MODERATE"},
            "affected": [{"package": {"ecosystem": "PyPI", "name": "Some_Package"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"last_affected": "1.4.post1"}]}],
                "versions": ["0.9", "1.2", "1.4.post1"]},
                {"package": {"ecosystem": "ConanCenter", "name": "zlib"}, "versions": ["1.0"]}]
        })),
        record(json!({
            "id": "EXAMPLE-3", "modified": "2026-01-01T00:00:00Z", "withdrawn": "2026-02-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "crates.io", "name": "smallthing"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}]
        })),
        record(json!({
            "id": "EXAMPLE-4", "modified": "2026-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "other"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "not a version"}]}]}]
        })),
        record(json!({
            "id": "EXAMPLE-5", "modified": "2026-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "Go", "name": "example.com/mod"},
                "ranges": [{"type": "GIT", "repo": "https://example.com/mod", "events": [{"introduced": "0"}, {"fixed": "abcdef1"}]},
                           {"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.0"}]}],
                "versions": []}]
        })),
        Err((
            "broken.json".into(),
            "not a valid OSV record: expected value".into(),
        )),
    ])
}

fn ids(db: &Database, e: Ecosystem, name: &str, version: &str) -> Vec<String> {
    db.matches(e, name, version)
        .unwrap()
        .iter()
        .map(|m| m.advisory.id.clone())
        .collect()
}

#[test]
fn import_reports_what_it_skips_and_matching_follows_the_ranges() {
    let (db, report) = fixture_db();
    assert_eq!(report.imported, 3);
    assert_eq!(report.withdrawn, 1);
    let skipped: Vec<&str> = report.skipped.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(skipped, ["EXAMPLE-4", "broken.json"]);
    assert!(
        report.skipped[0].1.contains("`not a version`"),
        "{report:?}"
    );
    assert_eq!(report.unsupported.get("ConanCenter"), Some(&1));

    let c = Ecosystem::CratesIo;
    for (v, hit) in [
        ("0.6.2", false),
        ("0.6.3", true),
        ("0.6.14", false),
        ("1.0.0", true),
        ("1.6.0", true),
        ("1.6.1", false),
    ] {
        assert_eq!(
            ids(&db, c, "smallthing", v) == ["EXAMPLE-1"],
            hit,
            "smallthing {v}"
        );
    }
    let m = db.matches(c, "smallthing", "1.2.0").unwrap();
    assert_eq!(m[0].fixed, ["0.6.14", "1.6.1"]);
    assert_eq!(m[0].advisory.severity, Some(Severity::Critical));
    assert_eq!(m[0].advisory.score, Some(9.8));
    // PEP 503 names, last_affected inclusive, listed versions.
    let p = Ecosystem::PyPI;
    for (v, hit) in [
        ("0.9", true),
        ("0.9.1", false),
        ("1.0", true),
        ("1.4.post1", true),
        ("1.4.post2", false),
        ("1.4", true),
        ("1.2", true),
        ("1.2.0", true),
    ] {
        assert_eq!(
            ids(&db, p, "some-package", v) == ["EXAMPLE-2"],
            hit,
            "some-package {v}"
        );
    }
    assert_eq!(
        db.matches(p, "some-package", "1.0").unwrap()[0]
            .advisory
            .severity,
        Some(Severity::Medium)
    );
    // (1.2 and 1.4.post1 are listed and in the range: the index keeps
    // only 0.9 as a listed version, and each still matches.)
    // GIT ranges count only through versions; the SEMVER range still does.
    assert_eq!(
        ids(&db, Ecosystem::Go, "example.com/mod", "v1.1.9"),
        ["EXAMPLE-5"]
    );
    assert!(ids(&db, Ecosystem::Go, "example.com/mod", "v1.2.0").is_empty());
    // A version the ecosystem rejects is an error, never "not affected".
    let err = db.matches(c, "smallthing", "1.0").unwrap_err();
    assert!(err.to_string().contains("crates.io version `1.0`"), "{err}");
    // Unknown packages are simply not affected.
    assert!(ids(&db, c, "unknown", "1.0.0").is_empty());
}

#[test]
fn the_compact_form_round_trips_and_refuses_garbage() {
    let (db, _) = fixture_db();
    let bytes = db.to_bytes().unwrap();
    let back = Database::from_bytes(&bytes).unwrap();
    assert_eq!(back.advisories(), db.advisories());
    assert_eq!(
        ids(&back, Ecosystem::CratesIo, "smallthing", "1.6.0"),
        ["EXAMPLE-1"]
    );
    assert!(
        Database::from_bytes(b"nonsense")
            .unwrap_err()
            .contains("import the feeds again")
    );
    // Every truncation and every flipped byte: refused or read, never a
    // panic; whatever reads either matches or says it cannot.
    for cut in 0..bytes.len() {
        assert!(Database::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    for at in 0..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0xa5;
        if let Ok(db) = Database::from_bytes(&damaged) {
            let _ = db.advisories();
            for (ecosystem, name) in db.package_names() {
                let _ = db.matches(ecosystem, &name, "1.0.0");
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/osv.db");
    db.save(&path).unwrap();
    assert_eq!(Database::load(&path).unwrap().advisory_count(), 3);
    assert!(
        Database::load(&dir.path().join("missing.db"))
            .unwrap_err()
            .to_string()
            .contains("embargo db import")
    );
}

/// The check at load names what is wrong with a package table: a name
/// that is not UTF-8, names out of order.
#[test]
fn a_damaged_package_table_is_refused_for_what_it_is() {
    let (db, _) = fixture_db();
    let bytes = db.to_bytes().unwrap();
    let count = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let (advisories, packages) = (count(12), count(16));
    assert!(
        packages >= 2,
        "the fixture has packages to put out of order"
    );
    let names_at = 20 + 4 * (advisories + 1) + 12 * (packages + 1);
    let first_name_len = count(20 + 4 * (advisories + 1) + 12 + 4);
    assert!(first_name_len > 0);
    let refused = |bytes: &[u8]| Database::from_bytes(bytes).unwrap_err();

    let mut not_utf8 = bytes.clone();
    not_utf8[names_at] = 0xff;
    assert!(refused(&not_utf8).contains("a package name is not UTF-8"));
    // A name cut inside a character: valid together, not each.
    let mut split = bytes.clone();
    split[names_at + first_name_len - 1] = 0xc3;
    split[names_at + first_name_len] = 0xa9;
    assert!(refused(&split).contains("not UTF-8"), "{}", refused(&split));

    // The first name made to sort after the second (same ecosystem or not,
    // 0x7f sorts after every name character).
    let second_code = count(20 + 4 * (advisories + 1) + 12);
    let first_code = count(20 + 4 * (advisories + 1));
    let mut disorder = bytes.clone();
    disorder[names_at] = 0x7f;
    if first_code == second_code {
        assert!(refused(&disorder).contains("its packages are out of order"));
    }
    // Rows whose name offsets fall back.
    let mut fallen = bytes.clone();
    let second_name_at = 20 + 4 * (advisories + 1) + 12 + 4;
    fallen[second_name_at..second_name_at + 4].copy_from_slice(&0u32.to_le_bytes());
    fallen[second_name_at + 12..second_name_at + 16].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(refused(&fallen).contains("import the feeds again"));
}

/// A database loaded from its file reads only its tables at first and its
/// records when a lookup needs them: it must say and match exactly what the
/// same bytes in memory do, refuse the same damaged files, and save back
/// the same bytes.
#[test]
fn a_database_file_read_in_place_answers_as_its_bytes_do() {
    let (db, _) = fixture_db();
    let bytes = db.to_bytes().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("osv.db");
    let answers = |db: &Database| -> Vec<String> {
        let mut out = vec![format!("{:?}", db.advisories())];
        for (ecosystem, name) in db.package_names() {
            for version in ["0.1.0", "1.0.0", "1.6.0", "v1.1.9", "2.0"] {
                out.push(format!(
                    "{:?}",
                    db.matches(ecosystem, &name, version).map(|m| {
                        m.iter()
                            .map(|m| (m.advisory.id.clone(), m.fixed.to_vec()))
                            .collect::<Vec<_>>()
                    })
                ));
            }
        }
        out
    };
    std::fs::write(&path, &bytes).unwrap();
    let loaded = Database::load(&path).unwrap();
    assert_eq!(answers(&loaded), answers(&db));
    assert_eq!(loaded.to_bytes().unwrap(), bytes);
    // Saving over the very file it reads from keeps every record.
    loaded.save(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(answers(&loaded), answers(&db));
    for cut in 0..bytes.len() {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let err = Database::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("import the feeds again"),
            "cut at {cut}: {err}"
        );
    }
    for at in 0..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0xa5;
        std::fs::write(&path, &damaged).unwrap();
        match (Database::from_bytes(&damaged), Database::load(&path)) {
            (Ok(in_memory), Ok(from_file)) => {
                assert_eq!(
                    answers(&from_file),
                    answers(&in_memory),
                    "flipped byte {at}"
                );
            }
            (Err(a), Err(b)) => assert!(b.to_string().ends_with(&a), "{a} / {b}"),
            (a, b) => panic!(
                "flipped byte {at}: in memory {:?}, from the file {:?}",
                a.err(),
                b.err()
            ),
        }
    }
}

#[test]
fn kev_and_epss_attach_through_cve_aliases() {
    let (mut db, _) = fixture_db();
    let kev = br#"{"catalogVersion": "2026.01.02", "vulnerabilities": [
        {"cveID": "CVE-2026-0001", "dateAdded": "2026-01-02", "dueDate": "2026-01-23",
         "knownRansomwareCampaignUse": "Known"},
        {"cveID": "CVE-1999-0001", "dateAdded": "2020-01-01"},
        {"cveID": "not a cve"}]}"#;
    let import = db.enrich_kev(kev).unwrap();
    assert_eq!(
        (
            import.catalog_version.as_deref(),
            import.listed,
            import.marked
        ),
        (Some("2026.01.02"), 2, 1)
    );
    assert_eq!(import.skipped, vec!["entry 2: no CVE id in `cveID`"]);
    let epss = db
        .enrich_epss(b"#model_version:v2025.03.14,score_date:2026-01-02T12:55:00Z\ncve,epss,percentile\nCVE-2026-0001,0.42,0.9\n")
        .unwrap();
    assert_eq!(epss.model_version.as_deref(), Some("v2025.03.14"));
    assert_eq!(epss.attached, 1);
    let m = db
        .matches(Ecosystem::CratesIo, "smallthing", "1.0.0")
        .unwrap();
    assert!(m[0].advisory.known_exploited);
    let listing = m[0].advisory.kev.clone().unwrap();
    assert_eq!(listing.date_added, "2026-01-02");
    assert_eq!(listing.due_date.as_deref(), Some("2026-01-23"));
    assert!(listing.ransomware);
    assert_eq!(m[0].advisory.epss, Some(0.42));
    assert_eq!(m[0].advisory.epss_percentile, Some(0.9));
    assert!(db.enrich_kev(b"{}").is_err());
}

/// FIRST publishes EPSS as gzipped CSV behind a comment line: it imports as
/// published, and each bad line is named and skipped without aborting.
#[test]
fn epss_in_firsts_format_imports_gzipped_and_skips_bad_lines_by_number() {
    use std::io::Write;
    let (mut db, _) = fixture_db();
    let csv = "#model_version:v2025.03.14,score_date:2026-12-01T12:55:00Z\n\
               cve,epss,percentile\n\
               CVE-2026-0001,0.97,0.999\n\
               CVE-2026-0002;0.1\n\
               GHSA-xxxx-yyyy,0.5,0.5\n\
               CVE-2026-0003,1.5,0.2\n\
               CVE-2026-0004,0.01,0.3\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(csv.as_bytes()).unwrap();
    let gzipped = gz.finish().unwrap();
    let import = db.enrich_epss(&gzipped).unwrap();
    assert_eq!(import.score_date.as_deref(), Some("2026-12-01T12:55:00Z"));
    assert_eq!(import.scores, 2);
    assert_eq!(
        import.skipped,
        vec![
            (4, "expected `cve,epss,percentile`".to_owned()),
            (5, "`GHSA-xxxx-yyyy` is not a CVE id".to_owned()),
            (6, "score 1.5 is not between 0 and 1".to_owned()),
        ]
    );
    let m = db
        .matches(Ecosystem::CratesIo, "smallthing", "1.0.0")
        .unwrap();
    assert_eq!(m[0].advisory.epss, Some(0.97));
    // Damaged gzip and binary junk are errors that say so, not panics.
    assert!(
        db.enrich_epss(&gzipped[..gzipped.len() / 2])
            .unwrap_err()
            .contains("gzip")
    );
    assert!(
        db.enrich_epss(&[0xff, 0xfe, 0x00])
            .unwrap_err()
            .contains("UTF-8")
    );
}

/// CISA's real catalog (`../shared/data/kev`) marks an advisory whose CVE
/// alias it lists, with its dates.
#[test]
fn the_real_kev_catalog_marks_advisories_through_aliases() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/kev/known_exploited_vulnerabilities.json");
    let Ok(bytes) = std::fs::read(&path) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is present in CI",
            path.display()
        );
        eprintln!("skipped: {} absent", path.display());
        return;
    };
    let record = |id: &str, alias: &str| {
        serde_json::json!({
            "id": id, "modified": "2025-08-01T00:00:00Z", "aliases": [alias],
            "summary": "s",
            "affected": [{"package": {"ecosystem": "crates.io", "name": "gitlike"},
                          "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}]}]}]
        })
    };
    let records = [
        record("RUSTSEC-2025-9001", "CVE-2025-48384"),
        record("RUSTSEC-2025-9002", "CVE-2099-0001"),
    ]
    .into_iter()
    .map(|v| Ok(serde_json::from_value(v).unwrap()));
    let (mut db, _) = embargo_vulndb::db::Database::build(records);
    let import = db.enrich_kev(&bytes).unwrap();
    assert!(import.listed > 1000, "{import:?}");
    assert_eq!(import.marked, 1);
    assert!(import.skipped.is_empty(), "{:?}", import.skipped);
    let m = db.matches(Ecosystem::CratesIo, "gitlike", "1.0.0").unwrap();
    let marked: Vec<_> = m.iter().filter(|m| m.advisory.known_exploited).collect();
    assert_eq!(marked.len(), 1);
    assert_eq!(marked[0].advisory.id, "RUSTSEC-2025-9001");
    assert_eq!(
        marked[0].advisory.kev.as_ref().unwrap().date_added,
        "2025-08-25"
    );
}

fn shared(path: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(path);
    if p.exists() {
        Some(p)
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is absent; CI runs with ../shared beside the clone",
            p.display()
        );
        eprintln!("skipped: {} is absent", p.display());
        None
    }
}

#[test]
fn the_real_feeds_import_with_their_known_defects_reported() {
    let Some(osv) = shared("osv") else { return };
    let mut records = Vec::new();
    for eco in ["crates.io", "Go", "PyPI"] {
        records.extend(embargo_vulndb::db::read_source(&osv.join(eco).join("all.zip")).unwrap());
    }
    assert_eq!(records.len(), 1206 + 4291 + 2661);
    let (db, report) = Database::build(records);
    assert!(report.imported > 8000, "{}", report.imported);
    // The defects Python's packaging also finds in the PyPI feed.
    let skipped: Vec<&str> = report.skipped.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        skipped,
        ["PYSEC-2019-125", "PYSEC-2021-371"],
        "{:?}",
        report.skipped
    );
    let mut warned: Vec<&str> = report.warnings.iter().map(|(id, _)| id.as_str()).collect();
    warned.dedup();
    assert_eq!(warned, ["PYSEC-2017-27", "PYSEC-2021-371", "PYSEC-2023-80"]);
    assert!(
        ids(&db, Ecosystem::CratesIo, "smallvec", "1.6.0")
            .contains(&"RUSTSEC-2021-0003".to_owned())
    );
    assert!(
        !ids(&db, Ecosystem::CratesIo, "smallvec", "1.6.1")
            .contains(&"RUSTSEC-2021-0003".to_owned())
    );
    let jinja = ids(&db, Ecosystem::PyPI, "Jinja2", "2.10");
    assert!(
        jinja.contains(&"PYSEC-2019-217".to_owned()) && !jinja.contains(&"PYSEC-2014-8".to_owned()),
        "{jinja:?}"
    );
}

#[test]
fn spec_corners_listed_text_explicit_unlimited_and_semver_labels() {
    let (db, report) = Database::build([
        // A PyPI record listing a version PEP 440 rejects: matched as text.
        record(json!({
            "id": "CORNER-1", "modified": "2026-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "pokedex"},
                "versions": ["0.1-bulbasaur", "0.2"]}]
        })),
        // `limit: "*"` beside a finite limit: no upper bound.
        record(json!({
            "id": "CORNER-2", "modified": "2026-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "crates.io", "name": "limited"},
                "ranges": [{"type": "SEMVER", "events": [
                    {"introduced": "0"}, {"limit": "1.0.0"}, {"limit": "*"}]}]}]
        })),
        // A SEMVER range on a PyPI package.
        record(json!({
            "id": "CORNER-3", "modified": "2026-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "semverish"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "2.0.0"}]}]}]
        })),
    ]);
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(
        ids(&db, Ecosystem::PyPI, "pokedex", "0.1-bulbasaur"),
        ["CORNER-1"]
    );
    assert_eq!(ids(&db, Ecosystem::PyPI, "pokedex", "0.2"), ["CORNER-1"]);
    assert!(ids(&db, Ecosystem::PyPI, "pokedex", "0.3").is_empty());
    assert!(
        db.matches(Ecosystem::PyPI, "pokedex", "0.1-charmander")
            .is_err(),
        "another text PEP 440 rejects still cannot be judged"
    );
    assert_eq!(
        ids(&db, Ecosystem::CratesIo, "limited", "5.0.0"),
        ["CORNER-2"]
    );
    assert_eq!(
        ids(&db, Ecosystem::PyPI, "semverish", "1.0.0"),
        ["CORNER-3"]
    );
    let e = db
        .matches(Ecosystem::PyPI, "semverish", "1.0")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("SEMVER") && !e.contains("Go"),
        "the label says which rules refused it: {e}"
    );
}
