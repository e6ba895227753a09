//! The delivery worker: claims due messages from the outbox, sends each by
//! email (SMTP) or webhook (signed HTTP POST), and records the outcome, with
//! exponential backoff between attempts and a dead letter after the last.

use std::sync::Arc;
use std::time::Duration;

use embargo_core::notify::{DELIVERY_HEADER, Delivery, SIGNATURE_HEADER, sign};
use embargo_store::{Claimed, Store, StoreError};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::state::Clock;

/// How an SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// TLS from the first byte (port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS, required (port 587).
    StartTls,
    /// No encryption: only for a relay on the same machine.
    None,
}

/// Where email goes out.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The From address, e.g. `embargo <security@example.org>`.
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password.
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// How the worker behaves.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// Names this worker in leases and attempt records.
    pub worker: String,
    /// How long a claimed message is reserved before another worker may take it.
    pub lease: Duration,
    /// The first retry waits this long; each further one twice as long, up to an hour.
    pub retry_base: Duration,
    /// Attempts before a message is dead.
    pub max_attempts: i64,
    /// Messages claimed at a time.
    pub batch: u32,
    /// Pause between polls when the queue is empty.
    pub poll: Duration,
    /// How long a webhook receiver or the SMTP server may take.
    pub timeout: Duration,
    pub smtp: Option<SmtpSettings>,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            worker: format!("worker-{}", std::process::id()),
            lease: Duration::from_secs(60),
            retry_base: Duration::from_secs(30),
            max_attempts: 8,
            batch: 50,
            poll: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            smtp: None,
        }
    }
}

/// Sends deliveries.
#[derive(Clone)]
pub struct Deliverer {
    http: reqwest::Client,
    smtp: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer")
            .field("smtp", &self.smtp.is_some())
            .finish()
    }
}

impl Deliverer {
    pub fn new(settings: &DeliverySettings) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("embargo/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let smtp = match &settings.smtp {
            None => None,
            Some(s) => {
                let builder = match s.security {
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host),
                    SmtpSecurity::StartTls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
                    }
                    SmtpSecurity::None => Ok(
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
                    ),
                }
                .map_err(|e| format!("smtp: {e}"))?;
                let mut builder = builder.port(s.port).timeout(Some(settings.timeout));
                if let (Some(u), Some(p)) = (&s.username, &s.password) {
                    builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
                }
                let from: Mailbox = s.from.parse().map_err(|e| format!("smtp.from: {e}"))?;
                Some((builder.build(), from))
            }
        };
        Ok(Deliverer { http, smtp })
    }

    /// Sends one delivery; `Err` says why it failed.
    pub async fn send(
        &self,
        store: &Store,
        claimed: &Claimed,
        now_unix: i64,
    ) -> Result<(), String> {
        match &claimed.delivery {
            Delivery::Webhook {
                webhook_id,
                url,
                body,
            } => {
                let (_, secret) = store
                    .webhook(*webhook_id)
                    .await
                    .map_err(|e| e.to_string())?;
                let response = self
                    .http
                    .post(url)
                    .header("content-type", "application/json")
                    .header(SIGNATURE_HEADER, sign(&secret, now_unix, body))
                    .header(DELIVERY_HEADER, &claimed.idempotency_key)
                    .body(body.clone())
                    .send()
                    .await
                    .map_err(|e| format!("webhook: {}", e.without_url()))?;
                if response.status().is_success() {
                    Ok(())
                } else {
                    Err(format!(
                        "webhook answered HTTP {}",
                        response.status().as_u16()
                    ))
                }
            }
            Delivery::DigestItem { .. } => {
                Err("digest lines go out in the daily digest, not alone".into())
            }
            Delivery::Email {
                to,
                subject,
                text,
                html,
                encrypted,
            } => {
                let Some((transport, from)) = &self.smtp else {
                    return Err("no SMTP server is configured".into());
                };
                let to: Mailbox = to.parse().map_err(|e| format!("email to: {e}"))?;
                // The Message-ID derives from the idempotency key, so a
                // redelivery after a crash carries the same id.
                let id: String = claimed
                    .idempotency_key
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                            c
                        } else {
                            '-'
                        }
                    })
                    .collect();
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(subject)
                    .message_id(Some(format!("<{id}@embargo.invalid>")))
                    .multipart(if *encrypted {
                        pgp_mime(text)
                    } else {
                        MultiPart::alternative_plain_html(text.clone(), html.clone())
                    })
                    .map_err(|e| format!("email: {e}"))?;
                transport
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("smtp: {e}"))
            }
        }
    }
}

/// A PGP/MIME body (RFC 3156): the version part and the armored message.
fn pgp_mime(armored: &str) -> MultiPart {
    let part = |content_type: &str, body: String| {
        let mut builder = SinglePart::builder();
        if let Ok(ct) = ContentType::parse(content_type) {
            builder = builder.header(ct);
        }
        builder.body(body)
    };
    MultiPart::encrypted("application/pgp-encrypted".to_owned())
        .singlepart(part(
            "application/pgp-encrypted",
            "Version: 1\r\n".to_owned(),
        ))
        .singlepart(part(
            "application/octet-stream; name=\"encrypted.asc\"",
            armored.to_owned(),
        ))
}

/// Claims and sends one batch; returns how many were claimed.
pub async fn deliver_once(
    store: &Store,
    deliverer: &Deliverer,
    settings: &DeliverySettings,
    clock: &Clock,
) -> Result<usize, StoreError> {
    let now = embargo_core::to_millis(clock());
    let lease = chrono::Duration::from_std(settings.lease).unwrap_or(chrono::Duration::seconds(60));
    let claimed = store
        .claim_deliveries(&settings.worker, now, now + lease, settings.batch)
        .await?;
    for c in &claimed {
        let outcome = deliverer.send(store, c, clock().timestamp()).await;
        let now = embargo_core::to_millis(clock());
        match outcome {
            Ok(()) => {
                store.delivered(c.id, &settings.worker, now).await?;
            }
            Err(error) => {
                let exponent = u32::try_from(c.attempts.clamp(1, 16) - 1).unwrap_or(0);
                let wait = settings
                    .retry_base
                    .saturating_mul(2u32.saturating_pow(exponent))
                    .min(Duration::from_secs(3600));
                let retry_at =
                    now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
                let state = store
                    .delivery_failed(
                        c.id,
                        &settings.worker,
                        now,
                        &error,
                        retry_at,
                        settings.max_attempts,
                    )
                    .await?;
                tracing::warn!(delivery = c.id, attempt = c.attempts, ?state, %error, "delivery failed");
            }
        }
    }
    Ok(claimed.len())
}

/// Composes the daily digests during `hour` (UTC) every day, until dropped.
/// Running it on several servers is harmless: each digest is keyed by
/// recipient and day.
pub fn spawn_digests(store: Store, clock: Clock, hour: u32) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(300));
        loop {
            tick.tick().await;
            let now = embargo_core::to_millis(clock());
            if chrono::Timelike::hour(&now) != hour {
                continue;
            }
            match store.compose_digests(now).await {
                Ok(n) if n > 0 => tracing::info!(digests = n, "daily digests queued"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "composing digests failed"),
            }
        }
    })
}

/// Runs the worker until the task is dropped.
pub fn spawn(
    store: Store,
    deliverer: Arc<Deliverer>,
    settings: DeliverySettings,
    clock: Clock,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match deliver_once(&store, &deliverer, &settings, &clock).await {
                Ok(n) if n >= settings.batch as usize => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "delivery pass failed; retrying"),
            }
            tokio::time::sleep(settings.poll).await;
        }
    })
}
