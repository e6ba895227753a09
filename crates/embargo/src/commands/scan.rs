//! `embargo scan`: the offline scan of lockfiles and SBOMs against the
//! vulnerability database on this machine. It needs no server configuration.

use std::io::Write;
use std::process::ExitCode;

use embargo_vulndb::db::{Database, Severity};
use embargo_vulndb::lockfile::ReadOptions;
use embargo_vulndb::report;
use embargo_vulndb::scan::{self, Ignore, Outcome};

use super::{ERROR, FINDINGS, INCOMPLETE, db_path, fail, now};
use crate::{ScanArgs, ScanFormat};

pub(crate) fn scan(args: ScanArgs) -> crate::commands::Result<ExitCode> {
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
    let result = match scan::scan(
        &database,
        &args.paths,
        &ignores,
        &now().format("%Y-%m-%d").to_string(),
        ReadOptions {
            check_vcs_by_version: args.check_vcs_by_version,
        },
    ) {
        Ok(r) => r,
        Err(e) => return Ok(fail(e)),
    };
    let status = match result.outcome(threshold) {
        Outcome::Error => ExitCode::from(ERROR),
        Outcome::Found => ExitCode::from(FINDINGS),
        Outcome::Incomplete => ExitCode::from(INCOMPLETE),
        Outcome::Clean => ExitCode::SUCCESS,
    };
    // Whatever the report's format, what was not checked is said where a
    // person or a CI log sees it.
    for why in result.incomplete() {
        eprintln!("embargo scan: incomplete: {why}");
    }
    let text = match args.format {
        ScanFormat::Table => result.table(),
        ScanFormat::Json => match serde_json::to_string_pretty(&result) {
            Ok(json) => json + "\n",
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
            for p in &result.problems {
                eprintln!("embargo scan: problem: {p}");
            }
            match serde_json::to_string_pretty(&document) {
                Ok(json) => json + "\n",
                Err(e) => return Ok(fail(e)),
            }
        }
    };
    // A reader that stops early (`embargo scan … | head`) closes the pipe:
    // that is no error of the scan, whose status stands as it is. Any other
    // failure to write the report is one.
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(status),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(status),
        Err(e) => Ok(fail(format!("writing the report: {e}"))),
    }
}

/// A random (version 4) UUID for a document's serial number.
pub(crate) fn random_uuid() -> String {
    embargo_core::advisory::derived_uuid(&embargo_core::auth::generate_token(""))
}
