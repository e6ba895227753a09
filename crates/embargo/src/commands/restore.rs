//! `embargo restore`: a checked SQLite backup put in place of the database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use embargo_store::Store;

use super::*;

/// Puts a SQLite backup in place of the database once it has verified.
pub(crate) async fn restore(config_path: &Path, file: &Path, force: bool) -> Result<ExitCode> {
    let (config, keyring) = load(config_path)?;
    let Some(rest) = config.database_url.strip_prefix("sqlite://") else {
        return Err(message(
            "restore puts a SQLite backup in place; for PostgreSQL restore a pg_dump with pg_restore (see the README)",
        ));
    };
    let target = PathBuf::from(rest.split('?').next().unwrap_or(rest));
    if !file.is_file() {
        return Err(message(format!("no backup at {}", file.display())));
    }
    if target.exists() && !force {
        return Err(message(format!(
            "{} exists: stop the server, then run again with --force to replace it",
            target.display()
        )));
    }
    // The copy goes beside the database first and is checked there (the
    // backup itself is left as it is): it must be embargo's, readable with
    // these keys, and intact. Only then does it replace the database.
    let tmp = target.with_extension("restoring");
    let side = |path: &Path, suffix: &str| {
        let mut p = path.to_path_buf().into_os_string();
        p.push(suffix);
        PathBuf::from(p)
    };
    let discard = |path: &Path| {
        for p in [path.to_path_buf(), side(path, "-wal"), side(path, "-shm")] {
            let _ = std::fs::remove_file(p);
        }
    };
    std::fs::copy(file, &tmp)
        .map_err(|e| message(format!("cannot write {}: {e}", tmp.display())))?;
    let checked = async {
        let check = Store::connect(&format!("sqlite://{}", tmp.display()), keyring)
            .await
            .map_err(|e| format!("{} is not a database embargo can open: {e}", file.display()))?;
        let verified = check.verify().await;
        check.close().await;
        verified.map_err(|e| {
            format!(
                "{} does not verify, nothing was replaced: {e}",
                file.display()
            )
        })
    }
    .await;
    let report = match checked {
        Ok(report) => report,
        Err(e) => {
            discard(&tmp);
            return Err(message(e));
        }
    };
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| message(format!("cannot flush {}: {e}", tmp.display())))?;
    // The old database's WAL files would corrupt the new one.
    for p in [
        side(&target, "-wal"),
        side(&target, "-shm"),
        side(&tmp, "-wal"),
        side(&tmp, "-shm"),
    ] {
        if p.exists() {
            std::fs::remove_file(&p)
                .map_err(|e| message(format!("cannot remove {}: {e}", p.display())))?;
        }
    }
    std::fs::rename(&tmp, &target)
        .map_err(|e| message(format!("cannot replace {}: {e}", target.display())))?;
    println!(
        "restored {} to {}: {} events in {} cases verified",
        file.display(),
        target.display(),
        report.events,
        report.cases
    );
    Ok(ExitCode::SUCCESS)
}
