//! `embargo db` and `embargo scan`: the vulnerability database on this
//! machine and the offline scan of lockfiles against it. Neither needs the
//! server's configuration.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use embargo_vulndb::db::{Database, Severity};
use embargo_vulndb::report;
use embargo_vulndb::scan::{self, Ignore};

use crate::{DbCommand, DbPath, ScanArgs, ScanFormat};

/// Scan results: clean, findings at the threshold, or an error.
const FINDINGS: u8 = 1;
const ERROR: u8 = 2;

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("embargo: {message}");
    ExitCode::from(ERROR)
}

pub(crate) fn db_path(arg: &DbPath) -> PathBuf {
    if let Some(p) = &arg.path {
        return p.clone();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("embargo-data"));
    cache.join("embargo").join("osv.db")
}

/// The CLI reads the clock once per command.
#[allow(clippy::disallowed_methods)]
fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn today() -> String {
    now().format("%Y-%m-%d").to_string()
}

pub fn db(cmd: DbCommand) -> crate::commands::Result<ExitCode> {
    Ok(match cmd {
        DbCommand::Import {
            sources,
            db,
            kev,
            epss,
        } => import(&sources, &db_path(&db), kev, epss),
        DbCommand::Sync { .. } => fail("db sync runs in the async command runner"),
        DbCommand::Info { db } => {
            let path = db_path(&db);
            match Database::load(&path) {
                Ok(d) => {
                    println!(
                        "{}: {} advisories over {} packages",
                        path.display(),
                        d.advisories().len(),
                        d.package_count()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    })
}

pub(crate) fn import(
    sources: &[PathBuf],
    path: &std::path::Path,
    kev: Option<PathBuf>,
    epss: Option<PathBuf>,
) -> ExitCode {
    let started = Instant::now();
    // Records are checked and reduced one at a time: an import holds the
    // index, never a whole feed.
    let mut builder = embargo_vulndb::db::Builder::new();
    for source in sources {
        let mut count = 0usize;
        let read = embargo_vulndb::db::for_each_record(source, |r| {
            count += 1;
            builder.add(r);
        });
        match read {
            Ok(()) => eprintln!("read {count} records from {}", source.display()),
            Err(e) => return fail(e),
        }
    }
    let (mut database, report) = builder.finish();
    if let Some(kev) = kev {
        match std::fs::read(&kev)
            .map_err(|e| format!("{}: {e}", kev.display()))
            .and_then(|b| database.enrich_kev(&b))
        {
            Ok(n) => eprintln!("{n} advisories are known exploited (KEV)"),
            Err(e) => return fail(e),
        }
    }
    if let Some(epss) = epss {
        match std::fs::read_to_string(&epss)
            .map_err(|e| format!("{}: {e}", epss.display()))
            .and_then(|t| database.enrich_epss(&t))
        {
            Ok(n) => eprintln!("{n} advisories have an EPSS score"),
            Err(e) => return fail(e),
        }
    }
    for (id, why) in &report.skipped {
        eprintln!("skipped {id}: {why}");
    }
    for (id, why) in &report.warnings {
        eprintln!("warning {id}: {why} (imported without that range)");
    }
    for (ecosystem, n) in &report.unsupported {
        eprintln!("not indexed: {n} affected entries of the unsupported ecosystem {ecosystem}");
    }
    if let Err(e) = database.save(path) {
        return fail(e);
    }
    println!(
        "imported {} advisories ({} withdrawn left out, {} skipped) into {} in {:.2} s",
        report.imported,
        report.withdrawn,
        report.skipped.len(),
        path.display(),
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}

pub fn scan(args: ScanArgs) -> crate::commands::Result<ExitCode> {
    let path = db_path(&args.db);
    let database = match Database::load(&path) {
        Ok(d) => d,
        Err(e) => return Ok(fail(e)),
    };
    let mut ignores: Vec<Ignore> = args
        .ignore
        .iter()
        .map(|id| Ignore {
            id: id.clone(),
            reason: "--ignore on the command line".into(),
            expires: None,
        })
        .collect();
    if let Some(file) = &args.ignore_file {
        match std::fs::read_to_string(file)
            .map_err(|e| e.to_string())
            .and_then(|t| scan::parse_ignore_file(&t))
        {
            Ok(more) => ignores.extend(more),
            Err(e) => return Ok(fail(format!("{}: {e}", file.display()))),
        }
    }
    let threshold: Severity = match args.fail_on.parse() {
        Ok(s) => s,
        Err(e) => return Ok(fail(e)),
    };
    let result = match scan::scan(&database, &args.paths, &ignores, &today()) {
        Ok(r) => r,
        Err(e) => return Ok(fail(e)),
    };
    match args.format {
        ScanFormat::Table => print!("{}", result.table()),
        ScanFormat::Json => match serde_json::to_string_pretty(&result) {
            Ok(json) => println!("{json}"),
            Err(e) => return Ok(fail(e)),
        },
        ScanFormat::Sarif | ScanFormat::CyclonedxVex | ScanFormat::Openvex => {
            let provenance = report::Provenance {
                tool_version: env!("CARGO_PKG_VERSION").to_owned(),
                timestamp: now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                uuid: random_uuid(),
            };
            let document = match args.format {
                ScanFormat::Sarif => report::sarif(&result, &provenance),
                ScanFormat::CyclonedxVex => report::cyclonedx_vex(&result, &provenance),
                _ => report::openvex(&result, &provenance),
            };
            match serde_json::to_string_pretty(&document) {
                Ok(json) => println!("{json}"),
                Err(e) => return Ok(fail(e)),
            }
            for p in &result.problems {
                eprintln!("problem: {p}");
            }
        }
    }
    Ok(if !result.problems.is_empty() {
        ExitCode::from(ERROR)
    } else if result.fails(threshold) {
        ExitCode::from(FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}

/// A random (version 4) UUID for a document's serial number.
fn random_uuid() -> String {
    embargo_core::advisory::derived_uuid(&embargo_core::auth::generate_token(""))
}
