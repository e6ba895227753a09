//! `embargo serve`: the HTTP server and its background jobs.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use embargo_store::{Store, redact_url};

use super::*;

/// How to choose another address, said whenever one cannot be used.
const CHOOSE_ADDRESS: &str = "choose another with `embargo serve --listen 127.0.0.1:8081`, \
     EMBARGO_LISTEN, or `listen` in embargo.toml";

pub(crate) async fn serve(config_path: &Path, listen: Option<String>) -> Result<ExitCode> {
    if !config_path.exists() {
        // Before anything is created: a first run on a taken port would
        // otherwise set up an installation (and print its password) for
        // a server that cannot start.
        let address = listen
            .clone()
            .or_else(|| std::env::var("EMBARGO_LISTEN").ok())
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        if let Err(e) = std::net::TcpListener::bind(&address) {
            return Err(message(format!(
                "cannot listen on {address}: {e}; {CHOOSE_ADDRESS}"
            )));
        }
        println!(
            "embargo: no configuration at {}; setting up a new installation on SQLite",
            config_path.display()
        );
        let args = InitArgs {
            data_dir: "embargo-data".into(),
            database_url: None,
            admin: "admin".into(),
            listen: listen.clone(),
        };
        let report = initialize(config_path, &args).await?;
        print_init_report(&report);
    }
    let (mut config, keyring) = load(config_path)?;
    if let Some(listen) = listen {
        // A public_url that only repeats the configured address (as `init`
        // writes it) follows the new one; a public_url set on purpose stays.
        if config.public_url.trim_end_matches('/') == format!("http://{}", config.listen) {
            config.public_url = format!("http://{listen}");
        }
        if listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(message(format!(
                "--listen: `{listen}` is not an address and port such as 127.0.0.1:8081"
            )));
        }
        config.listen = listen;
    }
    let policies = std::sync::Arc::new(load_policies(&config)?);
    init_logging(config.log_format);
    let store = Store::connect(&config.database_url, keyring).await?;
    let applied = store.migrate(now()).await?;
    if !applied.is_empty() {
        tracing::info!(migrations = %applied.join(", "), "applied database migrations");
    }
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| {
            message(format!(
                "cannot listen on {}: {e}; {CHOOSE_ADDRESS}",
                config.listen
            ))
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| message(format!("cannot read the listening address: {e}")))?;
    let public_url_warning = warn_if_public_url_elsewhere(&config.public_url, addr);
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
                .unwrap_or_else(|| super::db_path(&crate::DbPath { path: None })),
        ),
        metrics_token_digest: config
            .metrics_token
            .as_ref()
            .map(|t| ServerSettings::metrics_token_digest_of(&t.0)),
        sends_email: config.smtp.is_some(),
        public_url_warning,
    };
    let state = embargo_server::state(store.clone(), settings, embargo_server::system_clock());
    let app = embargo_server::router(state.clone());
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
    let deliverer = std::sync::Arc::new(deliverer);
    let escalation_every = Duration::from_secs(config.escalation_interval_seconds);
    jobs.add("delivery", |stop, report| {
        embargo_server::delivery::spawn(
            store.clone(),
            deliverer,
            delivery_settings,
            embargo_server::system_clock(),
            stop,
            report,
        )
    });
    jobs.add("digests", |stop, report| {
        embargo_server::delivery::spawn_digests(
            store.clone(),
            embargo_server::system_clock(),
            config.digest_hour,
            stop,
            report,
        )
    });
    // The state's store writes messages in the policies' languages.
    jobs.add("escalation", |stop, report| {
        embargo_server::escalation::spawn(
            shared(report.name()),
            policies,
            embargo_server::system_clock(),
            escalation_every,
            stop,
            report,
        )
    });
    jobs.add("rematch", |stop, report| {
        embargo_server::api::portfolio::spawn_rematch(
            state.clone(),
            shared(report.name()),
            Duration::from_secs(300),
            stop,
            report,
        )
    });
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
        jobs.add("mailbox", |stop, report| {
            embargo_server::mailbox::spawn(
                state.clone(),
                settings,
                shared(report.name()),
                stop,
                report,
            )
        });
    }
    jobs.add("sessions", |stop, report| {
        tokio::spawn(purge_sessions_hourly(store.clone(), stop, report))
    });
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

/// How long a shared job's lease lasts between renewals. A pass renews it at
/// every step (a page of cases, a release, a message) and gives it back when
/// it ends, so this only bounds how long a server killed in the middle of a
/// pass keeps the others from the job: short, but longer than any one step.
const JOB_LEASE: Duration = Duration::from_secs(20);

/// The longest a stopping server waits for requests and jobs to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

pub(crate) async fn purge_sessions_hourly(store: Store, mut stop: Shutdown, report: JobReporter) {
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

pub(crate) async fn shutdown_signal() {
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

/// Says so when `public_url` (in security.txt, the CSAF documents, the
/// feeds) names a plain-HTTP address other than the one the server answers
/// on: those links would lead nowhere. An https:// URL is a proxy's, and
/// left alone.
/// Warns (and returns the warning, for the dashboard) when `public_url`
/// names this machine at another address than the one it answers on.
fn warn_if_public_url_elsewhere(public_url: &str, bound: std::net::SocketAddr) -> Option<String> {
    let rest = public_url.strip_prefix("http://")?;
    let authority = rest.split('/').next().unwrap_or_default();
    let local = authority.starts_with("127.") || authority.starts_with("localhost");
    if local && authority != bound.to_string() {
        let line = format!(
            "public_url is {public_url} but this server answers on http://{bound}: the links it \
             publishes (security.txt, CSAF documents, feeds) lead elsewhere; set public_url \
             (or EMBARGO_PUBLIC_URL) to where people reach it"
        );
        println!("embargo: warning: {line}");
        tracing::warn!(public_url, %bound, "public_url names another address");
        return Some(line);
    }
    None
}

pub(crate) fn init_logging(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("EMBARGO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only for a person at a terminal: a file or a log collector
    // gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
