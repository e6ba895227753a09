//! What each subcommand does. The CLI is one of the two places that read the
//! clock (the server is the other); everything below takes `now`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use embargo_core::Instant;
use embargo_core::auth::{self, Role, token_digest};
use embargo_core::crypto::Keyring;
use embargo_server::ServerSettings;
use embargo_server::jobs::{JobReporter, SharedJob, Shutdown, Supervisor};
use embargo_store::{Store, StoreError, redact_url};

use crate::config::{Config, ConfigError, LogFormat};
use crate::{
    AuditCommand, Cli, Command, InitArgs, KeysCommand, PolicyCommand, RenderFormat, TokenCommand,
    UserCommand,
};
use embargo_core::policy::{Policy, PolicySet, presets};

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
        Command::Serve => serve(&config_path).await,
        Command::Db(crate::DbCommand::Sync {
            db,
            base_url,
            ecosystems,
            kev,
            epss,
        }) => {
            let ecosystems = if ecosystems.is_empty() {
                crate::sync::DEFAULT_ECOSYSTEMS
                    .iter()
                    .map(|e| (*e).to_owned())
                    .collect()
            } else {
                ecosystems
            };
            Ok(crate::sync::sync(crate::sync::SyncOptions {
                base_url,
                ecosystems,
                db: crate::scan::db_path(&db),
                kev,
                epss,
            })
            .await)
        }
        Command::Db(cmd) => crate::scan::db(cmd),
        Command::Scan(args) => crate::scan::scan(args),
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
                store.backup(&file).await?;
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

/// Puts a SQLite backup in place of the database once it has verified.
async fn restore(config_path: &Path, file: &Path, force: bool) -> Result<ExitCode> {
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

/// Reads a policy from a file or `preset:NAME`, naming the source in errors.
fn read_policy(source: &str) -> Result<Policy> {
    let text = match source.strip_prefix("preset:") {
        Some(name) => presets::get(name)
            .ok_or_else(|| {
                message(format!(
                    "no preset `{name}`; the presets are {}",
                    presets::ALL
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?
            .to_owned(),
        None => std::fs::read_to_string(source).map_err(|e| message(format!("{source}: {e}")))?,
    };
    Policy::parse(&text).map_err(|e| message(format!("{source}: {e}")))
}

fn load_policies(config: &Config) -> Result<PolicySet> {
    let policies = config
        .policies
        .iter()
        .map(|p| read_policy(p))
        .collect::<Result<Vec<_>>>()?;
    PolicySet::new(policies).map_err(|e| message(format!("policies: {e}")))
}

fn policy(cmd: PolicyCommand) -> Result<ExitCode> {
    match cmd {
        PolicyCommand::Check { files } => {
            let mut failed = false;
            for f in &files {
                match read_policy(f) {
                    Ok(p) => println!(
                        "{f}: ok: policy `{}` with {} clocks and {} scope rules",
                        p.id,
                        p.clocks.len(),
                        p.scope_rules.len()
                    ),
                    Err(e) => {
                        eprintln!("{e}");
                        failed = true;
                    }
                }
            }
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        PolicyCommand::Explain { file } => {
            print!("{}", read_policy(&file)?.explain());
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Render {
            file,
            format,
            public_url,
        } => {
            let p = read_policy(&file)?;
            let text = match format {
                RenderFormat::SecurityMd => embargo_core::publish::security_md(&p, &public_url),
                RenderFormat::SecurityTxt => {
                    embargo_core::publish::security_txt(&p, &public_url, now())
                }
                RenderFormat::Html => embargo_core::publish::policy_html(&p, &public_url),
            };
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Presets { name } => {
            match name {
                None => {
                    for (n, text) in presets::ALL {
                        let title = Policy::parse(text).map(|p| p.name).unwrap_or_default();
                        println!("{n:<24} {title}");
                    }
                }
                Some(n) => print!(
                    "{}",
                    presets::get(&n).ok_or_else(|| message(format!("no preset `{n}`")))?
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
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

// ------------------------------------------------------------------ init

struct InitReport {
    config_path: PathBuf,
    config: Config,
    admin: String,
    password: String,
}

async fn initialize(config_path: &Path, args: &InitArgs) -> Result<InitReport> {
    if config_path.exists() {
        return Err(message(format!(
            "{} already exists; embargo is initialized there (remove it to start over)",
            config_path.display()
        )));
    }
    auth::validate_username(&args.admin)?;
    let base = config_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut config = Config::new_installation(&args.data_dir, args.database_url.clone());
    if let Some(listen) = &args.listen {
        config.listen.clone_from(listen);
        config.public_url = format!("http://{listen}");
    }
    let data_dir = base.join(&args.data_dir);
    create_private_dir(&data_dir)?;
    let key_path = base.join(&config.key_file);
    if key_path.exists() {
        return Err(message(format!(
            "{} already exists; refusing to replace an encryption key",
            key_path.display()
        )));
    }
    let keyring = Keyring::generate();
    write_private_file(&key_path, keyring.to_file_text().as_bytes(), false)?;
    let policy_path = base.join("policy.toml");
    if !policy_path.exists() {
        let text =
            presets::get("default").ok_or_else(|| message("the default preset is missing"))?;
        std::fs::write(&policy_path, text)
            .map_err(|e| message(format!("cannot write {}: {e}", policy_path.display())))?;
    }

    // Validate by reading back exactly what we wrote.
    let text = config.to_file_text();
    let resolved = Config::from_text(&text, config_path, std::iter::empty())?;
    let store = Store::connect(&resolved.database_url, keyring).await?;
    store.migrate(now()).await?;
    let password = auth::generate_password();
    let hash = auth::hash_password(&password)?;
    store
        .add_user(&args.admin, Role::Admin, &hash, now())
        .await?;
    store.close().await;
    write_private_file(config_path, text.as_bytes(), false)?;
    Ok(InitReport {
        config_path: config_path.to_owned(),
        config: resolved,
        admin: args.admin.clone(),
        password,
    })
}

fn print_init_report(r: &InitReport) {
    println!("embargo: initialized a new installation");
    println!("  configuration   {}", r.config_path.display());
    println!("  database        {}", redact_url(&r.config.database_url));
    println!(
        "  key file        {}  (back it up apart from the database: without it reports cannot be read)",
        r.config.key_file.display()
    );
    if let Some(p) = r.config.policies.first() {
        println!(
            "  policy          {p}  (edit it to say what you promise; `embargo policy check` it)"
        );
    }
    println!("  admin user      {}", r.admin);
    println!(
        "  admin password  {}  (shown once; sign in at /login and change it on /desk/account)",
        r.password
    );
}

fn create_private_dir(path: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(path)
        .map_err(|e| message(format!("cannot create {}: {e}", path.display())))
}

/// Writes a file readable by its owner only. With `replace`, writes a
/// temporary file and renames it over the old one, so a crash never leaves a
/// half-written key file.
fn write_private_file(path: &Path, contents: &[u8], replace: bool) -> Result<()> {
    let target = if replace {
        path.with_extension("tmp")
    } else {
        path.to_owned()
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let err = |e: std::io::Error| message(format!("cannot write {}: {e}", target.display()));
    let mut file = options.open(&target).map_err(err)?;
    file.write_all(contents).map_err(err)?;
    file.sync_all().map_err(err)?;
    if replace {
        std::fs::rename(&target, path)
            .map_err(|e| message(format!("cannot replace {}: {e}", path.display())))?;
    }
    Ok(())
}

// ------------------------------------------------------------------ serve

async fn serve(config_path: &Path) -> Result<ExitCode> {
    if !config_path.exists() {
        println!(
            "embargo: no configuration at {}; setting up a new installation on SQLite",
            config_path.display()
        );
        let args = InitArgs {
            data_dir: "embargo-data".into(),
            database_url: None,
            admin: "admin".into(),
            listen: None,
        };
        let report = initialize(config_path, &args).await?;
        print_init_report(&report);
    }
    let (config, keyring) = load(config_path)?;
    let policies = std::sync::Arc::new(load_policies(&config)?);
    init_logging(config.log_format);
    let store = Store::connect(&config.database_url, keyring).await?;
    let applied = store.migrate(now()).await?;
    if !applied.is_empty() {
        tracing::info!(migrations = %applied.join(", "), "applied database migrations");
    }
    let settings = ServerSettings {
        max_body_bytes: config.max_body_bytes,
        secure_cookies: config.public_url.starts_with("https://"),
        session_ttl: Duration::from_secs(config.session_hours * 3600),
        public_url: config.public_url.clone(),
        policies: policies.clone(),
        intake_per_address_per_hour: config.intake_per_address_per_hour,
        intake_per_contact_per_hour: config.intake_per_contact_per_hour,
        behind_proxy: config.behind_proxy,
        attachments: embargo_core::attachment::AttachmentLimits {
            max_bytes: config.attachment_max_bytes,
            max_count: config.attachment_max_count,
        },
        vulndb: Some(
            config
                .vulndb
                .clone()
                .unwrap_or_else(|| crate::scan::db_path(&crate::DbPath { path: None })),
        ),
    };
    let state = embargo_server::state(store.clone(), settings, embargo_server::system_clock());
    let app = embargo_server::router(state.clone());
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| message(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| message(format!("cannot read the listening address: {e}")))?;
    // Names this server in leases and delivery attempts.
    let owner = format!("{}-{}", addr, std::process::id());
    let delivery_settings = embargo_server::delivery::DeliverySettings {
        worker: owner.clone(),
        lease: Duration::from_secs(config.delivery_lease_seconds),
        timeout: Duration::from_secs(config.delivery_timeout_seconds),
        retry_base: Duration::from_secs(config.delivery_retry_seconds),
        max_attempts: i64::from(config.delivery_max_attempts),
        smtp: config
            .smtp
            .as_ref()
            .map(|s| embargo_server::delivery::SmtpSettings {
                host: s.host.clone(),
                port: s.port,
                security: match s.security.as_str() {
                    "tls" => embargo_server::delivery::SmtpSecurity::Tls,
                    "none" => embargo_server::delivery::SmtpSecurity::None,
                    _ => embargo_server::delivery::SmtpSecurity::StartTls,
                },
                username: s.username.clone(),
                password: s.password.clone(),
                from: s.from.clone(),
            }),
        ..embargo_server::delivery::DeliverySettings::default()
    };
    let deliverer =
        embargo_server::delivery::Deliverer::new(&delivery_settings).map_err(message)?;
    // Every background job, registered here and stopped together.
    let mut jobs = Supervisor::new(state.jobs.clone(), embargo_server::system_clock());
    let shared = |name: &'static str| {
        SharedJob::new(
            store.clone(),
            name,
            owner.clone(),
            JOB_LEASE,
            embargo_server::system_clock(),
        )
    };
    jobs.add(
        "delivery",
        embargo_server::delivery::spawn(
            store.clone(),
            std::sync::Arc::new(deliverer),
            delivery_settings,
            embargo_server::system_clock(),
            jobs.shutdown(),
            jobs.reporter("delivery"),
        ),
    );
    jobs.add(
        "digests",
        embargo_server::delivery::spawn_digests(
            store.clone(),
            embargo_server::system_clock(),
            config.digest_hour,
            jobs.shutdown(),
            jobs.reporter("digests"),
        ),
    );
    // The state's store writes messages in the policies' languages.
    jobs.add(
        "escalation",
        embargo_server::escalation::spawn(
            shared("escalation"),
            policies,
            embargo_server::system_clock(),
            Duration::from_secs(config.escalation_interval_seconds),
            jobs.shutdown(),
            jobs.reporter("escalation"),
        ),
    );
    jobs.add(
        "rematch",
        embargo_server::api::portfolio::spawn_rematch(
            state.clone(),
            shared("rematch"),
            Duration::from_secs(300),
            jobs.shutdown(),
            jobs.reporter("rematch"),
        ),
    );
    if let Some(m) = config.mailbox.as_ref() {
        let settings = embargo_server::mailbox::MailboxSettings {
            host: m.host.clone(),
            port: m.port,
            security: match m.security.as_str() {
                "starttls" => embargo_server::mailbox::MailSecurity::StartTls,
                "none" => embargo_server::mailbox::MailSecurity::None,
                _ => embargo_server::mailbox::MailSecurity::Tls,
            },
            username: m.username.clone(),
            password: m.password.clone().unwrap_or_default(),
            folder: m.folder.clone(),
            poll_interval: Duration::from_secs(m.poll_seconds),
            ca_file: m.ca_file.clone(),
            product: m.product.clone(),
        };
        jobs.add(
            "mailbox",
            embargo_server::mailbox::spawn(
                state.clone(),
                settings,
                shared("mailbox"),
                jobs.shutdown(),
                jobs.reporter("mailbox"),
            ),
        );
    }
    jobs.add(
        "sessions",
        tokio::spawn(purge_sessions_hourly(
            store.clone(),
            jobs.shutdown(),
            jobs.reporter("sessions"),
        )),
    );
    println!(
        "embargo: listening on http://{addr}  (database {})",
        redact_url(&config.database_url)
    );
    tracing::info!(%addr, jobs = ?jobs.names(), "listening");
    // SIGTERM or Ctrl-C stops the HTTP server and the jobs at once: requests
    // in progress are answered, a message being sent is sent and recorded,
    // claimed messages not yet sent are handed back. Each gets a bounded time.
    let trigger = jobs.trigger();
    let http = embargo_server::serve(listener, app, async move {
        shutdown_signal().await;
        trigger.fire();
    });
    tokio::pin!(http);
    let mut stopping = jobs.shutdown();
    let mut deadline = None;
    let served = tokio::select! {
        served = &mut http => served,
        () = stopping.wait() => {
            // One grace period for the requests and the jobs, which began
            // stopping together.
            let by = tokio::time::Instant::now() + SHUTDOWN_GRACE;
            deadline = Some(by);
            match tokio::time::timeout_at(by, &mut http).await {
                Ok(served) => served,
                Err(_) => {
                    tracing::warn!("requests still open at the end of the grace period; closing them");
                    Ok(())
                }
            }
        }
    };
    jobs.stop(deadline.unwrap_or_else(|| tokio::time::Instant::now() + SHUTDOWN_GRACE))
        .await;
    served.map_err(|e| message(format!("server error: {e}")))?;
    store.close().await;
    println!("embargo: stopped");
    Ok(ExitCode::SUCCESS)
}

/// How long a background job holds a shared job's lease between renewals;
/// a server killed while holding one delays the others by at most this.
const JOB_LEASE: Duration = Duration::from_secs(60);

/// The longest a stopping server waits for requests and jobs to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

async fn purge_sessions_hourly(store: Store, mut stop: Shutdown, report: JobReporter) {
    let _running = report.running();
    loop {
        match store.purge_sessions(now()).await {
            Ok(_) => report.ok(),
            Err(e) => {
                report.failed(&e);
                tracing::warn!(error = %e, "could not purge expired sessions");
            }
        }
        if !stop.sleep(Duration::from_secs(3600)).await {
            break;
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("EMBARGO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

// ------------------------------------------------------------------ users and tokens

async fn user(store: Store, cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Add { username, role } => {
            auth::validate_username(&username)?;
            let password = auth::generate_password();
            let hash = auth::hash_password(&password)?;
            let user = store.add_user(&username, role, &hash, now()).await?;
            println!("added {} ({})", user.username, user.role);
            println!("password: {password}  (shown once)");
        }
        UserCommand::List => {
            let users = store.list_users().await?;
            println!("{:<32} {:<10} {:<9} created", "username", "role", "status");
            for u in users {
                println!(
                    "{:<32} {:<10} {:<9} {}",
                    u.username,
                    u.role,
                    if u.disabled { "disabled" } else { "active" },
                    u.created_at.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
        UserCommand::Disable { username } => {
            store.set_user_disabled(&username, true).await?;
            println!("disabled {username}; their sessions ended and their tokens stop working");
        }
        UserCommand::Enable { username } => {
            store.set_user_disabled(&username, false).await?;
            println!("enabled {username}");
        }
    }
    Ok(())
}

async fn token(store: Store, cmd: TokenCommand) -> Result<()> {
    match cmd {
        TokenCommand::Create { user, name } => {
            let owner = store.user(&user).await?;
            let secret = auth::generate_token(embargo_server::auth::TOKEN_PREFIX);
            let record = store
                .create_api_token(owner.id, &name, &token_digest(&secret), now())
                .await?;
            println!(
                "token {} for {} ({}):",
                record.id, owner.username, record.name
            );
            println!("{secret}");
            eprintln!("shown once: store it now. Send it as `Authorization: Bearer TOKEN`.");
        }
        TokenCommand::List => {
            println!("{:>5} {:<24} {:<32} status", "id", "user", "name");
            for t in store.list_api_tokens(None).await? {
                let status = match t.revoked_at {
                    Some(at) => format!("revoked {}", at.format("%Y-%m-%d")),
                    None => "active".into(),
                };
                println!("{:>5} {:<24} {:<32} {status}", t.id, t.username, t.name);
            }
        }
        TokenCommand::Revoke { id } => {
            let t = store.revoke_api_token(id, now()).await?;
            println!("revoked token {} ({}, {})", t.id, t.name, t.username);
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ keys

async fn keys(config_path: &Path, cmd: KeysCommand) -> Result<ExitCode> {
    let (config, mut keyring) = load(config_path)?;
    match cmd {
        KeysCommand::List => {
            let store = Store::connect(&config.database_url, keyring.clone()).await?;
            let used = store.keys_in_use().await?;
            store.close().await;
            for id in keyring.key_ids() {
                let active = if id == keyring.active_id() {
                    " (active)"
                } else {
                    ""
                };
                let in_use = if used.iter().any(|u| u == id) {
                    "data encrypted under it"
                } else {
                    "unused"
                };
                println!("{id}{active}: {in_use}");
            }
            for missing in used
                .iter()
                .filter(|u| !keyring.key_ids().any(|k| k == u.as_str()))
            {
                println!("{missing}: MISSING from the key file, data under it cannot be read");
            }
        }
        KeysCommand::Rotate => {
            let new_id = keyring.add_key();
            // Save the new key before any data is encrypted under it.
            write_private_file(&config.key_file, keyring.to_file_text().as_bytes(), true)?;
            let store = Store::connect(&config.database_url, keyring).await?;
            let count = store.reencrypt().await?;
            store.close().await;
            println!(
                "new active key {new_id}; re-encrypted {count} values. Restart running servers, \
                 then run `embargo keys prune` to remove keys no longer in use."
            );
        }
        KeysCommand::Prune => {
            let store = Store::connect(&config.database_url, keyring.clone()).await?;
            let used = store.keys_in_use().await?;
            store.close().await;
            let unused: Vec<String> = keyring
                .key_ids()
                .filter(|id| *id != keyring.active_id() && !used.iter().any(|u| u == id))
                .map(str::to_owned)
                .collect();
            for id in &unused {
                keyring.remove_key(id);
            }
            if !unused.is_empty() {
                write_private_file(&config.key_file, keyring.to_file_text().as_bytes(), true)?;
            }
            println!(
                "removed {} unused key(s){}",
                unused.len(),
                if unused.is_empty() {
                    String::new()
                } else {
                    format!(": {}", unused.join(", "))
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
