//! `embargo scan`: the offline scan of lockfiles and SBOMs against the
//! vulnerability database on this machine. It needs no server configuration.

use std::process::ExitCode;

use embargo_vulndb::db::{Database, Severity};
use embargo_vulndb::report;
use embargo_vulndb::scan::{self, Ignore};

use super::{ERROR, FINDINGS, db_path, fail, now};
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
    ) {
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
pub(crate) fn random_uuid() -> String {
    embargo_core::advisory::derived_uuid(&embargo_core::auth::generate_token(""))
}
