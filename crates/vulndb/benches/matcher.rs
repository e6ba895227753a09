//! Matcher benchmarks (issue 3's (b), (c) and (d)); figures in BENCHMARKS.md.
//!
//! ```sh
//! cargo bench -p embargo-vulndb --bench matcher            # (b) and (c): the shared feeds
//! cargo bench -p embargo-vulndb --bench matcher -- synthetic   # (d): 300,000 npm advisories
//! ```
//!
//! (b) and (c) need ../shared/data/osv; (d) writes its synthetic feed to a
//! temporary directory. `--quick` makes every size small, for CI to check
//! that the benchmark still runs (its figures then mean nothing). The
//! synthetic run is its own process so that its peak memory (VmHWM) is the
//! import's and the scan's alone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use embargo_vulndb::db::{Database, read_source};
use embargo_vulndb::scan;
use embargo_vulndb::version::Ecosystem;

/// xorshift64*, so runs are repeatable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Peak resident memory of this process, from /proc (Linux).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    if args.iter().any(|a| a == "synthetic") {
        synthetic(quick);
    } else {
        shared_feeds(quick);
    }
}

/// (c) importing the three shared feeds; (b) a 20,000-component CycloneDX
/// SBOM matched against them after load.
fn shared_feeds(quick: bool) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv");
    if !root.exists() {
        eprintln!("skipped: {} is absent", root.display());
        return;
    }
    let feeds = ["crates.io", "Go", "PyPI"].map(|e| root.join(e).join("all.zip"));
    let mut imports = Vec::new();
    let mut db = None;
    for _ in 0..if quick { 1 } else { 5 } {
        let start = Instant::now();
        let mut records = Vec::new();
        for f in &feeds {
            records.extend(read_source(f).unwrap());
        }
        let (built, _) = Database::build(records);
        let bytes = built.to_bytes().unwrap();
        imports.push(ms(start.elapsed()));
        db = Some(bytes);
    }
    let bytes = db.unwrap();
    println!(
        "(c) import of the three shared feeds: median {:.0} ms of {} runs; index {:.1} MB",
        median(imports.clone()),
        imports.len(),
        bytes.len() as f64 / 1e6
    );

    // The SBOM: real package names of the three feeds at random versions,
    // some affected, most not.
    let loaded = Database::from_bytes(&bytes).unwrap();
    let names = loaded.package_names();
    let mut rng = Rng(0x5eed_0b0b);
    let size = if quick { 500 } else { 20_000 };
    let mut components = Vec::with_capacity(size);
    for i in 0..size {
        let (ecosystem, name) = &names[rng.below(names.len() as u64) as usize];
        let (kind, version) = match ecosystem {
            Ecosystem::CratesIo => ("cargo", format!("0.{}.{}", rng.below(30), rng.below(10))),
            Ecosystem::Go => ("golang", format!("v1.{}.{}", rng.below(30), rng.below(10))),
            _ => (
                "pypi",
                format!("{}.{}.{}", rng.below(5), rng.below(20), rng.below(10)),
            ),
        };
        let purl = embargo_vulndb::purl::Purl::build(
            kind,
            None,
            name,
            Some(&version),
            Default::default(),
            None,
        )
        .map(|p| p.to_string())
        .unwrap_or_else(|_| format!("pkg:generic/x{i}"));
        components.push(
            serde_json::json!({"type": "library", "name": name, "version": version, "purl": purl}),
        );
    }
    let bom = serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components}).to_string();
    let mut times = Vec::new();
    let mut reads = Vec::new();
    let mut found = 0;
    for run in 0..if quick { 2 } else { 11 } {
        // A fresh load each run: "after load" includes compiling each
        // package's ranges on first lookup, as a real scan pays.
        let db = Database::from_bytes(&bytes).unwrap();
        let start = Instant::now();
        let parsed = embargo_vulndb::sbom::read(Path::new("bom.json"), &bom).unwrap();
        let read = start.elapsed();
        let queries: Vec<_> = parsed
            .pinned
            .iter()
            .map(|p| (p.ecosystem, p.name.as_str(), p.version.as_str()))
            .collect();
        let hits: usize = db
            .matches_all(&queries)
            .iter()
            .map(|m| m.as_ref().map_or(0, Vec::len))
            .sum();
        if run > 0 {
            times.push(ms(start.elapsed()));
            reads.push(ms(read));
        }
        found = hits;
    }
    println!(
        "(b) {size}-component SBOM parsed and matched after load: median {:.1} ms (reading the SBOM {:.1} ms; {} matches)",
        median(times),
        median(reads),
        found
    );
}

/// (d) a synthetic npm-sized feed of 300,000 advisories: import time, index
/// size, peak memory, and the scan of a 5,000-package package-lock.json.
fn synthetic(quick: bool) {
    let advisories: usize = if quick { 3_000 } else { 300_000 };
    let packages: usize = advisories / 5;
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("all.zip");
    let start = Instant::now();
    {
        let file = std::fs::File::create(&zip_path).unwrap();
        let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(1));
        let mut rng = Rng(0x5eed_d00d);
        for i in 0..advisories {
            let name = format!("pkg-{}", i % packages);
            let major = rng.below(6);
            let fixed = format!("{major}.{}.{}", rng.below(20), rng.below(10));
            let record = serde_json::json!({
                "schema_version": "1.6.0",
                "id": format!("GHSA-syn-{i:07}"),
                "aliases": [format!("CVE-2026-{i}")],
                "modified": "2026-01-01T00:00:00Z",
                "published": "2025-06-01T00:00:00Z",
                "summary": format!("Synthetic advisory {i} in {name}: prototype pollution in the option parser"),
                "details": "A synthetic record of the size and shape of GitHub's npm advisories, for the benchmark.",
                "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N"}],
                "affected": [{
                    "package": {"ecosystem": "npm", "name": name, "purl": format!("pkg:npm/{name}")},
                    "ranges": [{"type": "SEMVER", "events": [{"introduced": format!("{major}.0.0")}, {"fixed": fixed}]}],
                    "database_specific": {"source": "synthetic"}
                }],
                "references": [{"type": "ADVISORY", "url": format!("https://example.org/advisories/{i}")}],
                "database_specific": {"severity": "HIGH", "cwe_ids": ["CWE-1321"]}
            });
            zip.start_file(format!("GHSA-syn-{i:07}.json"), options)
                .unwrap();
            zip.write_all(record.to_string().as_bytes()).unwrap();
        }
        zip.finish().unwrap();
    }
    let zip_size = std::fs::metadata(&zip_path).unwrap().len();
    eprintln!(
        "generated {advisories} records ({:.0} MB zip) in {:.1} s",
        zip_size as f64 / 1e6,
        start.elapsed().as_secs_f64()
    );

    let start = Instant::now();
    let mut builder = embargo_vulndb::db::Builder::new();
    embargo_vulndb::db::for_each_record(&zip_path, |r| builder.add(r)).unwrap();
    let (db, report) = builder.finish();
    let db_path = dir.path().join("npm.db");
    db.save(&db_path).unwrap();
    let import = start.elapsed();
    drop(db);
    let size = std::fs::metadata(&db_path).unwrap().len();
    let peak_after_import = peak_rss_mb();

    let mut lock = serde_json::Map::new();
    lock.insert(
        "".into(),
        serde_json::json!({"name": "app", "version": "1.0.0"}),
    );
    let mut rng = Rng(0x5eed_010c);
    let lock_size = if quick { 500 } else { 5_000 };
    for i in 0..lock_size {
        let version = format!("{}.{}.{}", rng.below(6), rng.below(20), rng.below(10));
        lock.insert(
            format!("node_modules/pkg-{}", i * (packages / lock_size)),
            serde_json::json!({"version": version}),
        );
    }
    let lock_path = dir.path().join("package-lock.json");
    std::fs::write(
        &lock_path,
        serde_json::json!({"lockfileVersion": 3, "packages": lock}).to_string(),
    )
    .unwrap();
    let mut scans = Vec::new();
    let mut found = 0;
    for _ in 0..if quick { 1 } else { 5 } {
        let start = Instant::now();
        let db = Database::load(&db_path).unwrap();
        let result = scan::scan(
            &db,
            std::slice::from_ref(&lock_path),
            &[],
            "2026-11-23",
            Default::default(),
        )
        .unwrap();
        scans.push(ms(start.elapsed()));
        assert!(result.problems.is_empty(), "{:?}", result.problems);
        found = result.vulnerabilities.len();
    }
    println!(
        "(d) {advisories} synthetic npm advisories ({} imported): import {:.1} s, index {:.0} MB, peak memory {:.0} MB after import, {:.0} MB after scans",
        report.imported,
        import.as_secs_f64(),
        size as f64 / 1e6,
        peak_after_import.unwrap_or(f64::NAN),
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    println!(
        "(d) scan of a {lock_size}-package package-lock.json (load + read + match): median {:.0} ms of {} runs, {found} vulnerabilities",
        median(scans.clone()),
        scans.len()
    );
}
