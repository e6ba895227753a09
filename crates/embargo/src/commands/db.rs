//! `embargo db`: the vulnerability database on this machine (import, info;
//! `db sync` is in [`super::sync`]). It needs no server configuration.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use embargo_vulndb::db::Database;

use super::fail;
use crate::{DbCommand, DbPath};

/// Where the database is: `--db`, or the user's cache directory.
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

pub(crate) fn db(cmd: DbCommand) -> crate::commands::Result<ExitCode> {
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
                        d.advisory_count(),
                        d.package_count()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    })
}

/// A file's bytes, refused when larger than `limit`.
fn read_bounded(path: &std::path::Path, limit: u64) -> Result<Vec<u8>, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    if size > limit {
        return Err(format!("{}: larger than {limit} bytes", path.display()));
    }
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
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
        match read_bounded(&kev, 64 * 1024 * 1024).and_then(|b| database.enrich_kev(&b)) {
            Ok(import) => {
                for why in &import.skipped {
                    eprintln!("KEV {}: skipped {why}", kev.display());
                }
                eprintln!(
                    "{} advisories are known exploited (KEV catalog {}, {} CVEs)",
                    import.marked,
                    import
                        .catalog_version
                        .as_deref()
                        .unwrap_or("of unknown version"),
                    import.listed
                );
            }
            Err(e) => return fail(e),
        }
    }
    if let Some(epss) = epss {
        match read_bounded(&epss, embargo_vulndb::db::MAX_EPSS_BYTES)
            .and_then(|b| database.enrich_epss(&b))
        {
            Ok(import) => {
                for (line, why) in &import.skipped {
                    if *line == 0 {
                        eprintln!("EPSS {}: {why}", epss.display());
                    } else {
                        eprintln!("EPSS {}:{line}: skipped: {why}", epss.display());
                    }
                }
                eprintln!(
                    "{} advisories have an EPSS score ({} scores, model {}, scored {})",
                    import.attached,
                    import.scores,
                    import.model_version.as_deref().unwrap_or("unknown"),
                    import.score_date.as_deref().unwrap_or("on an unknown date")
                );
            }
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
