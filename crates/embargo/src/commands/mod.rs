//! What each subcommand does, one file per command; this file dispatches and
//! holds what they share. The CLI is one of the two places that read the
//! clock (the server is the other); everything below takes `now`.

mod db;
mod init;
mod keys;
mod policy;
mod restore;
pub(crate) mod scan;
mod serve;
mod sync;
mod users;

pub(crate) use db::db_path;
use init::{initialize, print_init_report};
use keys::keys;
pub(crate) use policy::load_policies;
use policy::policy;
use restore::restore;
use serve::serve;
pub(crate) use sync::{DEFAULT_BASE_URL, DEFAULT_EPSS_URL, DEFAULT_KEV_URL};
use users::{token, user};

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use embargo_core::Instant;
use embargo_core::crypto::Keyring;
use embargo_server::ServerSettings;
use embargo_server::jobs::{JobReporter, SharedJob, Shutdown, Supervisor};
use embargo_store::{Store, StoreError};

use crate::config::{Config, ConfigError, LogFormat};
use crate::{
    AuditCommand, Cli, Command, InitArgs, KeysCommand, PolicyCommand, RenderFormat, SimulateFormat,
    TokenCommand, UserCommand,
};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Domain(#[from] embargo_core::DomainError),
    #[error("{0}")]
    Message(String),
}

pub(crate) type Result<T, E = CliError> = std::result::Result<T, E>;

/// The exit statuses of `scan` and `db`: findings at the threshold, an
/// error, or a scan that could not check everything (0 is clean).
pub(crate) const FINDINGS: u8 = 1;
pub(crate) const ERROR: u8 = 2;
pub(crate) const INCOMPLETE: u8 = 3;

/// Says what went wrong and gives the error status.
pub(crate) fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("embargo: {message}");
    ExitCode::from(ERROR)
}

fn message(m: impl Into<String>) -> CliError {
    CliError::Message(m.into())
}

#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    embargo_core::to_millis(chrono::Utc::now())
}

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let config_path = cli.config;
    match cli.command {
        Command::Init(args) => {
            let report = initialize(&config_path, &args).await?;
            print_init_report(&report);
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { listen } => serve(&config_path, listen).await,
        Command::Db(crate::DbCommand::Sync {
            db,
            base_url,
            ecosystems,
            kev,
            epss,
            kev_url,
            epss_url,
            no_signals,
        }) => {
            let ecosystems = if ecosystems.is_empty() {
                sync::DEFAULT_ECOSYSTEMS
                    .iter()
                    .map(|e| (*e).to_owned())
                    .collect()
            } else {
                ecosystems
            };
            Ok(sync::sync(sync::SyncOptions {
                base_url,
                ecosystems,
                db: db::db_path(&db),
                kev,
                epss,
                kev_url: (!no_signals).then_some(kev_url),
                epss_url: (!no_signals).then_some(epss_url),
            })
            .await)
        }
        Command::Db(cmd) => db::db(cmd),
        Command::Scan(args) => scan::scan(args),
        // `embargo sbom` runs in `main`, before an async runtime exists.
        Command::Sbom(_) => Ok(ExitCode::from(2)),
        Command::Migrate => {
            let (config, keyring) = load(&config_path)?;
            let store = Store::connect(&config.database_url, keyring).await?;
            let applied = store.migrate(now()).await?;
            if applied.is_empty() {
                println!("the database schema is up to date");
            } else {
                println!("applied: {}", applied.join(", "));
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::User(cmd) => with_store(&config_path, |store| user(store, cmd)).await,
        Command::Token(cmd) => with_store(&config_path, |store| token(store, cmd)).await,
        Command::Cra(crate::CraCommand::Verify { bundle }) => {
            let bytes = std::fs::metadata(&bundle)
                .map_err(|e| message(format!("{}: {e}", bundle.display())))
                .and_then(|m| {
                    if m.len() > embargo_core::evidence::MAX_BUNDLE_BYTES {
                        Err(message(format!(
                            "{}: too large for a bundle",
                            bundle.display()
                        )))
                    } else {
                        std::fs::read(&bundle)
                            .map_err(|e| message(format!("{}: {e}", bundle.display())))
                    }
                })?;
            match embargo_core::evidence::verify(&bytes) {
                Ok(v) => {
                    println!(
                        "cra verify: ok: {} for {}, exported {}; {} files and {} events check; signed by key {}",
                        bundle.display(),
                        v.manifest.case,
                        v.manifest.exported_at,
                        v.manifest.files.len(),
                        v.events,
                        v.manifest.signing_key
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("cra verify: FAILED: {}: {e}", bundle.display());
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Cra(crate::CraCommand::Export { reference, out }) => {
            let r: embargo_core::CaseRef = reference
                .parse()
                .map_err(|e: embargo_core::reference::ParseCaseRefError| message(e.to_string()))?;
            let out = out.unwrap_or_else(|| std::path::PathBuf::from(format!("{r}-evidence.zip")));
            if out.exists() {
                return Err(message(format!(
                    "{} exists; choose another --out",
                    out.display()
                )));
            }
            let (config, keyring) = load(&config_path)?;
            let policies = std::sync::Arc::new(policy::load_policies(&config)?);
            let store = Store::connect(&config.database_url, keyring).await?;
            let settings = embargo_server::ServerSettings {
                public_url: config.public_url.clone(),
                policies,
                ..embargo_server::ServerSettings::default()
            };
            let state =
                embargo_server::state(store.clone(), settings, embargo_server::system_clock());
            let result = embargo_server::app::evidence::export(&state, r).await;
            store.close().await;
            let bytes = result.map_err(|e| message(e.message))?;
            std::fs::write(&out, &bytes).map_err(|e| message(format!("{}: {e}", out.display())))?;
            println!("wrote {} ({} bytes)", out.display(), bytes.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(AuditCommand::Verify) => {
            let (config, keyring) = load(&config_path)?;
            let store = Store::connect(&config.database_url, keyring).await?;
            let result = store.verify().await;
            store.close().await;
            match result {
                Ok(report) => {
                    println!(
                        "audit: ok: {} events in {} cases verified; the chain is intact",
                        report.events, report.cases
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(
                    e @ (StoreError::Chain(_) | StoreError::Corrupt(_) | StoreError::Domain(_)),
                ) => {
                    eprintln!("audit: FAILED: {e}");
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::Backup { file } => {
            with_store(&config_path, |store| async move {
                store.backup(&file, now()).await?;
                println!(
                    "backup written to {}; it is encrypted: keep a copy of the key file too",
                    file.display()
                );
                Ok(())
            })
            .await
        }
        Command::Restore { file, force } => restore(&config_path, &file, force).await,
        Command::Keys(cmd) => keys(&config_path, cmd).await,
        Command::Policy(cmd) => policy(cmd),
    }
}

/// Loads the configuration and the key file.
fn load(config_path: &Path) -> Result<(Config, Keyring)> {
    let config = Config::load(config_path)?;
    let text = std::fs::read_to_string(&config.key_file)
        .map_err(|e| message(format!("key file {}: {e}", config.key_file.display())))?;
    let keyring = Keyring::from_file_text(&text)
        .map_err(|e| message(format!("key file {}: {e}", config.key_file.display())))?;
    Ok((config, keyring))
}

async fn with_store<F, Fut>(config_path: &Path, f: F) -> Result<ExitCode>
where
    F: FnOnce(Store) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let (config, keyring) = load(config_path)?;
    let store = Store::connect(&config.database_url, keyring).await?;
    store.migrate(now()).await?;
    let result = f(store.clone()).await;
    store.close().await;
    result.map(|()| ExitCode::SUCCESS)
}
