//! The delivery worker: claims due messages from the outbox, sends each by
//! email (SMTP) or webhook (signed HTTP POST), and records the outcome, with
//! exponential backoff between attempts and a dead letter after the last.

use std::sync::Arc;
use std::time::Duration;

use embargo_core::notify::{DELIVERY_HEADER, Delivery, SIGNATURE_HEADER, message_id, sign};
use embargo_store::{Claimed, Store, StoreError};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::clock::Clock;
use crate::jobs::{JobReporter, Shutdown};

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
    /// Messages claimed at a time. Small, so that a slow receiver does not
    /// keep many messages waiting behind one worker (their lease is renewed
    /// before each send all the same).
    pub batch: u32,
    /// Pause between polls when the queue is empty.
    pub poll: Duration,
    /// How long a webhook receiver or the SMTP server may take; the whole
    /// send is cut off then. Shorter than `lease` by [`LEASE_MARGIN`] at least.
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
            batch: 10,
            poll: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            smtp: None,
        }
    }
}

/// How much longer than the send it protects a lease must be: the time to
/// record the outcome after the send ends.
pub const LEASE_MARGIN: Duration = Duration::from_secs(2);

impl DeliverySettings {
    /// Refuses a lease that a send could outlast: another worker would take
    /// the message over while it is still being sent, and send it again.
    pub fn check(&self) -> Result<(), String> {
        if self.lease < self.timeout + LEASE_MARGIN {
            return Err(format!(
                "the delivery lease ({} s) must be longer than the delivery timeout ({} s) by {} s at least, \
                 or another server may take a message over while it is still being sent",
                self.lease.as_secs_f64(),
                self.timeout.as_secs_f64(),
                LEASE_MARGIN.as_secs()
            ));
        }
        Ok(())
    }

    fn lease_delta(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::seconds(60))
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
        settings.check()?;
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
            Delivery::Email { to, subject, .. } => {
                let Some((transport, from)) = &self.smtp else {
                    return Err("no SMTP server is configured".into());
                };
                let to: Mailbox = to.parse().map_err(|e| format!("email to: {e}"))?;
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(subject)
                    // The same on every attempt: receivers drop repeats by it.
                    .message_id(Some(message_id(&claimed.idempotency_key)))
                    .multipart(email_body(&claimed.delivery)?)
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

/// An email's body: PGP/MIME when encrypted; else text and HTML
/// alternatives, inside a `multipart/mixed` with the attached documents
/// when there are any.
fn email_body(delivery: &Delivery) -> Result<MultiPart, String> {
    let Delivery::Email {
        text,
        html,
        encrypted,
        attachments,
        ..
    } = delivery
    else {
        return Err("not an email".into());
    };
    if *encrypted {
        return Ok(pgp_mime(text));
    }
    let body = MultiPart::alternative_plain_html(text.clone(), html.clone());
    if attachments.is_empty() {
        return Ok(body);
    }
    let mut mixed = MultiPart::mixed().multipart(body);
    for a in attachments {
        let content_type = ContentType::parse(&a.media_type)
            .map_err(|e| format!("attachment {}: {e}", a.filename))?;
        mixed = mixed.singlepart(
            lettre::message::Attachment::new(a.filename.clone())
                .body(a.content.clone(), content_type),
        );
    }
    Ok(mixed)
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
    deliver_batch(store, deliverer, settings, clock, &Shutdown::never()).await
}

/// Claims one batch and sends each message while this worker still holds it:
/// right before each send the claim's lease is renewed for the whole batch,
/// and a message that another worker took over in the meantime is skipped.
/// The send is cut off at `settings.timeout`, shorter than the lease, and
/// its outcome is recorded only under the claim's token. When `stop` fires,
/// the message being sent is finished and the rest are handed back.
async fn deliver_batch(
    store: &Store,
    deliverer: &Deliverer,
    settings: &DeliverySettings,
    clock: &Clock,
    stop: &Shutdown,
) -> Result<usize, StoreError> {
    let now = embargo_core::to_millis(clock());
    let lease = settings.lease_delta();
    let claimed = store
        .claim_deliveries(&settings.worker, now, now + lease, settings.batch)
        .await?;
    let Some(token) = claimed.first().map(|c| c.lease_token.clone()) else {
        return Ok(0);
    };
    let sent = send_claimed(store, deliverer, settings, clock, stop, &claimed).await;
    // Whatever stopped the loop, what this claim still holds goes back now
    // rather than when its lease runs out (after a store error this may
    // fail too; then the lease's end frees the messages).
    let released = store
        .release_deliveries(&token, embargo_core::to_millis(clock()))
        .await;
    match released {
        Ok(n) if n > 0 => tracing::info!(messages = n, "unsent messages handed back"),
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "could not hand back unsent messages; their lease will run out")
        }
    }
    sent?;
    Ok(claimed.len())
}

async fn send_claimed(
    store: &Store,
    deliverer: &Deliverer,
    settings: &DeliverySettings,
    clock: &Clock,
    stop: &Shutdown,
    claimed: &[Claimed],
) -> Result<(), StoreError> {
    let lease = settings.lease_delta();
    for c in claimed {
        if stop.is_set() {
            break;
        }
        let held = store
            .renew_deliveries(&c.lease_token, embargo_core::to_millis(clock()) + lease)
            .await?;
        if !held.contains(&c.id) {
            tracing::info!(
                delivery = c.id,
                "not sent: another worker took the message over after this one's lease ran out"
            );
            continue;
        }
        let outcome = match tokio::time::timeout(
            settings.timeout,
            deliverer.send(store, c, clock().timestamp()),
        )
        .await
        {
            Ok(outcome) => outcome,
            Err(_) => Err(format!(
                "no answer within {} s",
                settings.timeout.as_secs_f64()
            )),
        };
        let now = embargo_core::to_millis(clock());
        match outcome {
            Ok(()) => {
                if !store
                    .delivered(c.id, &c.lease_token, &settings.worker, now)
                    .await?
                {
                    tracing::warn!(
                        delivery = c.id,
                        "sent, but another worker took the message over before the send was recorded; \
                         it may go out again under the same Embargo-Delivery key"
                    );
                }
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
                        &c.lease_token,
                        &settings.worker,
                        now,
                        &error,
                        retry_at,
                        settings.max_attempts,
                    )
                    .await?;
                match state {
                    Some(state) => {
                        tracing::warn!(delivery = c.id, attempt = c.attempts, ?state, %error, "delivery failed");
                    }
                    None => tracing::warn!(
                        delivery = c.id,
                        %error,
                        "delivery failed after another worker took the message over; not recorded"
                    ),
                }
            }
        }
    }
    Ok(())
}

/// Composes the daily digests during `hour` (UTC) every day, until `stop`
/// fires. Running it on several servers is harmless: each digest is keyed by
/// recipient and day, and queued in the transaction that marks its lines sent.
pub fn spawn_digests(
    store: Store,
    clock: Clock,
    hour: u32,
    mut stop: Shutdown,
    report: JobReporter,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _running = report.running();
        // A look every five minutes, the first at start-up (a server started
        // late in the digest hour still sends them).
        loop {
            let now = embargo_core::to_millis(clock());
            if chrono::Timelike::hour(&now) != hour {
                report.ok();
            } else {
                match store.compose_digests(now).await {
                    Ok(n) => {
                        report.ok();
                        if n > 0 {
                            tracing::info!(digests = n, "daily digests queued");
                        }
                    }
                    Err(e) => {
                        report.failed(&e);
                        tracing::warn!(error = %e, "composing digests failed");
                    }
                }
            }
            if !stop.sleep(Duration::from_secs(300)).await {
                break;
            }
        }
    })
}

/// Runs the worker until `stop` fires; then the message being sent is
/// finished and recorded, the rest of its batch handed back, and the task
/// ends.
pub fn spawn(
    store: Store,
    deliverer: Arc<Deliverer>,
    settings: DeliverySettings,
    clock: Clock,
    mut stop: Shutdown,
    report: JobReporter,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _running = report.running();
        while !stop.is_set() {
            match deliver_batch(&store, &deliverer, &settings, &clock, &stop).await {
                Ok(n) => {
                    report.ok();
                    if n >= settings.batch as usize {
                        continue;
                    }
                }
                Err(e) => {
                    report.failed(&e);
                    tracing::warn!(error = %e, "delivery pass failed; retrying");
                }
            }
            if !stop.sleep(settings.poll).await {
                break;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use embargo_core::notify::EmailAttachment;

    fn email(encrypted: bool, attachments: Vec<EmailAttachment>) -> Delivery {
        Delivery::Email {
            to: "ops@customer.example".into(),
            subject: "s".into(),
            text: "the text".into(),
            html: "<p>the text</p>".into(),
            encrypted,
            attachments,
        }
    }

    #[test]
    fn documents_go_as_attachments_beside_the_text_and_html() {
        let csaf = EmailAttachment {
            filename: "EMB-2026-0001.csaf.json".into(),
            media_type: "application/json".into(),
            content: "{\"document\": {}}".into(),
        };
        let body = String::from_utf8(
            email_body(&email(false, vec![csaf.clone()]))
                .unwrap()
                .formatted(),
        )
        .unwrap();
        assert!(body.contains("multipart/mixed"), "{body}");
        assert!(body.contains("multipart/alternative"), "{body}");
        assert!(
            body.contains("attachment; filename=\"EMB-2026-0001.csaf.json\""),
            "{body}"
        );
        assert!(body.contains("{\"document\": {}}"), "{body}");
        // Without documents: the alternatives alone; encrypted: no document.
        let plain =
            String::from_utf8(email_body(&email(false, vec![])).unwrap().formatted()).unwrap();
        assert!(!plain.contains("multipart/mixed"), "{plain}");
        let sealed =
            String::from_utf8(email_body(&email(true, vec![csaf])).unwrap().formatted()).unwrap();
        assert!(!sealed.contains("csaf.json\""), "{sealed}");
    }
}
