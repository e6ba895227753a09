//! The security mailbox: reports that arrive by email.
//!
//! A poller reads the unseen messages of one IMAP folder (TLS by default).
//! Each message becomes a case (sender as reporter, subject as title, body
//! and attachments as content) and its sender gets the same receipt as the
//! form's; a reply whose subject carries a case reference, from that case's
//! reporter, joins the case's thread instead. A message over the limits is
//! answered with the limit. Each message is taken once: its key (the
//! Message-ID, else a digest of the message) is recorded in the transaction
//! that acts on it, so a crash before the message is marked seen does not
//! open a second case.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_imap::Client;
use embargo_core::attachment::{AttachmentLimits, NewAttachment, describe_bytes};
use embargo_core::auth;
use embargo_core::notify::Delivery;
use embargo_core::policy::IntakeField;
use embargo_core::publish::escape_html;
use embargo_core::{CaseRef, NewCase, ReportContent, Reporter};
use futures_util::TryStreamExt;
use mail_parser::{MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::rustls;

use crate::app::intake;
use crate::error::ApiError;
use crate::state::AppState;
use crate::upload;

/// How the connection to the IMAP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailSecurity {
    /// TLS from the first byte (port 993).
    Tls,
    /// Plain, upgraded with STARTTLS before logging in (port 143).
    StartTls,
    /// No encryption: only for a server on the same machine.
    None,
}

/// Where the security mailbox is and how to read it.
#[derive(Clone)]
pub struct MailboxSettings {
    pub host: String,
    pub port: u16,
    pub security: MailSecurity,
    pub username: String,
    pub password: String,
    /// The folder to read, such as `INBOX`.
    pub folder: String,
    pub poll_interval: Duration,
    /// A PEM file of certificates to trust besides the public roots (a
    /// private CA or a self-signed server).
    pub ca_file: Option<PathBuf>,
    /// The product a mailed report is filed under until triage corrects it.
    pub product: String,
}

impl fmt::Debug for MailboxSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailboxSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &"***")
            .field("folder", &self.folder)
            .field("poll_interval", &self.poll_interval)
            .field("ca_file", &self.ca_file)
            .field("product", &self.product)
            .finish()
    }
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// A new case, its receipt queued for the sender.
    Opened(CaseRef),
    /// A reply from the reporter, added to their case's thread.
    Threaded(CaseRef),
    /// Over a limit or not acceptable: the sender was answered with why.
    Refused(String),
    /// Taken in by an earlier poll (or another instance).
    AlreadyTaken,
    /// Not a message embargo can act on or answer (no parseable sender);
    /// left in the folder, marked seen, for a person to look at.
    Unanswerable(String),
}

/// A failure to reach or read the mailbox.
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    #[error("cannot reach the mailbox at {0}: {1}")]
    Connect(String, String),
    #[error("the mailbox refused the login: {0}")]
    Login(String),
    #[error("IMAP: {0}")]
    Imap(#[from] async_imap::error::Error),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("storing a mailed report: {0}")]
    Store(String),
}

trait Connection: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + fmt::Debug> Connection for T {}

type Session = async_imap::Session<Box<dyn Connection>>;

/// The longest subject kept as a case title, in characters.
const TITLE_CHARS: usize = 200;
/// The longest message body taken, in characters (the report's description limit).
const BODY_CHARS: usize = 100_000;
/// Messages handled per poll, so one poll cannot run for ever.
const PER_POLL: usize = 200;

/// The largest raw message taken: every file at its limit plus the text,
/// with room for base64 (4/3) and MIME framing.
fn raw_limit(limits: AttachmentLimits, text_limit: usize) -> usize {
    limits
        .max_bytes
        .saturating_mul(limits.max_count)
        .saturating_add(text_limit)
        .saturating_mul(4)
        / 3
        + 256 * 1024
}

fn message_key(raw: &[u8], message_id: Option<&str>) -> String {
    match message_id.map(str::trim).filter(|m| !m.is_empty()) {
        Some(id) if id.len() <= 500 => format!("mid:{id}"),
        _ => format!("sha256:{}", embargo_core::chain::hex(&Sha256::digest(raw))),
    }
}

/// The first case reference in a subject, such as `Re: [EMB-2026-0007] …`.
fn reference_in(subject: &str) -> Option<CaseRef> {
    let upper = subject.to_ascii_uppercase();
    upper.match_indices("EMB-").find_map(|(i, _)| {
        let candidate: String = upper[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        candidate.parse().ok()
    })
}

/// A reply's own words: quoted lines and the "On … wrote:" line above them dropped.
/// The paragraphs of a mailed report that a label opens, by the field they
/// fill: a line such as `Steps to reproduce:` or `Impact: full takeover`
/// (the policy's own wording, or a common short form) starts a section that
/// runs to the next label. Text before the first label belongs to none.
fn labelled_sections(body: &str) -> std::collections::BTreeMap<IntakeField, String> {
    const LABELS: [(IntakeField, &[&str]); 4] = [
        (
            IntakeField::StepsToReproduce,
            &[
                "steps to reproduce the issue",
                "steps to reproduce",
                "steps",
                "reproduction",
                "how to reproduce",
            ],
        ),
        (
            IntakeField::Impact,
            &[
                "potential impact of the vulnerability",
                "potential impact",
                "impact",
            ],
        ),
        (
            IntakeField::SuggestedMitigation,
            &[
                "any mitigations you have identified",
                "suggested mitigation",
                "mitigations",
                "mitigation",
            ],
        ),
        (
            IntakeField::AffectedVersions,
            &[
                "affected versions",
                "affected version",
                "versions affected",
                "versions",
            ],
        ),
    ];
    let label_of = |line: &str| -> Option<(IntakeField, String)> {
        let (head, rest) = line.split_once(':')?;
        let head = head
            .trim()
            .trim_start_matches(['#', '*', '-', ' '])
            .trim_end_matches(['*', ' '])
            .to_lowercase();
        LABELS
            .iter()
            .find(|(_, names)| names.contains(&head.as_str()))
            .map(|(field, _)| (*field, rest.trim().to_owned()))
    };
    let mut out = std::collections::BTreeMap::new();
    let mut current: Option<(IntakeField, Vec<String>)> = None;
    let mut finish = |current: Option<(IntakeField, Vec<String>)>| {
        if let Some((field, lines)) = current {
            let text = lines.join("\n").trim().to_owned();
            if !text.is_empty() {
                out.entry(field).or_insert(text);
            }
        }
    };
    for line in body.lines() {
        match label_of(line) {
            Some((field, first)) => {
                finish(current.take());
                current = Some((field, vec![first]));
            }
            None => {
                if let Some((_, lines)) = current.as_mut() {
                    lines.push(line.to_owned());
                }
            }
        }
    }
    finish(current);
    out
}

fn without_quotes(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('>'))
        .collect();
    let mut kept = lines.as_slice();
    while let Some((last, rest)) = kept.split_last() {
        let t = last.trim();
        if t.is_empty() || (t.starts_with("On ") && t.ends_with("wrote:")) {
            kept = rest;
        } else {
            break;
        }
    }
    kept.join("\n").trim().to_owned()
}

fn single_line(s: &str, max: usize) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max)
        .collect()
}

/// The answer to a refused message.
fn refusal(state: &AppState, to: &str, subject: &str, reason: &str) -> Delivery {
    let org = &state.settings.policies.primary().organization.name;
    let limits = state.settings.attachments;
    let form = format!("{}/report", state.settings.public_url.trim_end_matches('/'));
    let text = format!(
        "Hello,\n\nYour message \"{subject}\" to the {org} security team was not accepted: {reason}.\n\
         Nothing from it was kept.\n\nPlease send it again within the limits (at most {count} files of at most {size} each), \
         or use the report form at {form}.\n\n-- \nThe {org} security team\n",
        count = limits.max_count,
        size = describe_bytes(limits.max_bytes),
    );
    let html = format!("<pre>{}</pre>", escape_html(&text));
    Delivery::Email {
        to: to.to_owned(),
        subject: format!("Not accepted: {}", single_line(subject, TITLE_CHARS)),
        text,
        html,
        encrypted: false,
        attachments: Vec::new(),
    }
}

async fn refuse(
    state: &AppState,
    key: &str,
    to: &str,
    subject: &str,
    reason: String,
) -> Result<Taken, MailboxError> {
    state
        .store
        .refuse_mail(key, &refusal(state, to, subject, &reason), state.now())
        .await
        .map_err(|e| MailboxError::Store(e.to_string()))?;
    tracing::info!(target: "embargo::mailbox", %reason, "mailed report refused and answered");
    Ok(Taken::Refused(reason))
}

/// Whether the message with this key was taken in before.
async fn taken(state: &AppState, key: &str) -> Result<bool, MailboxError> {
    state
        .store
        .mail_taken(key)
        .await
        .map_err(|e| MailboxError::Store(e.to_string()))
}

/// What [`ingest`] reads from a message before it touches the store: the
/// sender, the case a reply names, the subject, the text, and the
/// attachments' cleaned names and sizes. [`ingest`] reads every message
/// through this, and the fuzz target `email` drives it (through
/// [`examine`]) with arbitrary bytes.
#[derive(Debug)]
pub struct Examined {
    pub key: String,
    pub sender: Option<String>,
    pub sender_name: Option<String>,
    pub subject: Option<String>,
    pub reference: Option<CaseRef>,
    /// The text, with Windows line ends made plain and trimmed.
    pub body: String,
    pub attachments: Vec<(String, usize)>,
}

impl Examined {
    fn of(message: &mail_parser::Message<'_>, raw: &[u8]) -> Examined {
        let subject = message
            .subject()
            .map(|s| single_line(s, TITLE_CHARS))
            .filter(|s| !s.is_empty());
        Examined {
            key: message_key(raw, message.message_id()),
            sender: sender_of(message),
            sender_name: message
                .from()
                .and_then(|f| f.first())
                .and_then(|a| a.name())
                .map(|n| single_line(n, 100))
                .filter(|n| !n.is_empty()),
            reference: subject.as_deref().and_then(reference_in),
            subject,
            body: message
                .body_text(0)
                .map(|b| b.replace("\r\n", "\n").trim().to_owned())
                .unwrap_or_default(),
            attachments: message
                .attachments()
                .map(|p| {
                    (
                        embargo_core::attachment::clean_filename(
                            p.attachment_name().unwrap_or("attachment"),
                        ),
                        p.contents().len(),
                    )
                })
                .collect(),
        }
    }

    /// The text of a reply, without the quoted message it answers.
    #[must_use]
    pub fn reply_text(&self) -> String {
        without_quotes(&self.body)
    }
}

/// Reads `raw` as [`ingest`] does; `None` for bytes that are no message.
#[must_use]
pub fn examine(raw: &[u8]) -> Option<Examined> {
    let message = MessageParser::default().parse(raw)?;
    Some(Examined::of(&message, raw))
}

/// The sender's address, if it is one that can be answered.
fn sender_of(message: &mail_parser::Message<'_>) -> Option<String> {
    message
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.address())
        .map(str::trim)
        .filter(|a| auth::validate_email(a).is_ok())
        .map(str::to_owned)
}

/// Takes in one raw message (RFC 5322). `Err` means nothing was recorded
/// and the message should be tried again later.
pub async fn ingest(
    state: &AppState,
    settings: &MailboxSettings,
    raw: &[u8],
) -> Result<Taken, MailboxError> {
    let Some(message) = MessageParser::default().parse(raw) else {
        return Ok(Taken::Unanswerable("not a readable email message".into()));
    };
    let seen = Examined::of(&message, raw);
    let key = seen.key.clone();
    if taken(state, &key).await? {
        return Ok(Taken::AlreadyTaken);
    }
    let Some(sender) = seen.sender.clone() else {
        return Ok(Taken::Unanswerable(
            "the message has no sender address".into(),
        ));
    };
    let shown_subject = seen
        .subject
        .clone()
        .unwrap_or_else(|| "(no subject)".into());

    let limits = state.settings.attachments;
    let limit = raw_limit(limits, state.settings.max_body_bytes);
    if raw.len() > limit {
        let reason = format!(
            "the message is larger than the limit of {}",
            describe_bytes(limit)
        );
        return refuse(state, &key, &sender, &shown_subject, reason).await;
    }
    let mut files = Vec::new();
    for (part, (cleaned, _)) in message.attachments().zip(&seen.attachments) {
        let content = part.contents();
        let filename = part.attachment_name().unwrap_or("attachment").to_owned();
        if content.len() > limits.max_bytes {
            let reason = format!(
                "the attachment `{cleaned}` is larger than the limit of {}",
                describe_bytes(limits.max_bytes)
            );
            return refuse(state, &key, &sender, &shown_subject, reason).await;
        }
        if content.is_empty() {
            continue;
        }
        files.push(NewAttachment {
            filename,
            content: content.to_vec(),
        });
    }
    if files.len() > limits.max_count {
        let reason = format!(
            "the message has {} attachments; at most {} are taken",
            files.len(),
            limits.max_count
        );
        return refuse(state, &key, &sender, &shown_subject, reason).await;
    }
    if seen.body.chars().count() > BODY_CHARS {
        let reason = format!("the message's text is longer than {BODY_CHARS} characters");
        return refuse(state, &key, &sender, &shown_subject, reason).await;
    }
    let files = match upload::describe(files, true, limits) {
        Ok(files) => files,
        Err(e) => return refuse(state, &key, &sender, &shown_subject, e.message).await,
    };
    let now = state.now();

    // A reply from the case's own reporter joins its thread.
    if let Some(reference) = seen.reference
        && let Ok(case) = state.store.case(reference).await
        && case
            .reporter
            .contact
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case(&sender))
    {
        let text = seen.reply_text();
        return match crate::app::reporter::message(state, reference, &text, files, Some(&key)).await
        {
            Ok(_) => Ok(Taken::Threaded(reference)),
            Err(e) if e.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => {
                refuse(state, &key, &sender, &shown_subject, e.message).await
            }
            Err(e) => Err(MailboxError::Store(e.message)),
        };
    }

    let summary = seen
        .body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| l.chars().take(300).collect::<String>())
        .unwrap_or_else(|| shown_subject.clone());
    let request = NewCase {
        title: shown_subject.clone(),
        product: settings.product.clone(),
        reporter: Reporter {
            contact: Some(sender.clone()),
            name: seen.sender_name,
            pgp_key: None,
        },
        report: {
            // Labelled paragraphs ("Impact: …") fill the report's fields;
            // the whole text stays the description.
            let labelled = labelled_sections(&seen.body);
            ReportContent {
                summary,
                steps_to_reproduce: labelled.get(&IntakeField::StepsToReproduce).cloned(),
                impact: labelled.get(&IntakeField::Impact).cloned(),
                suggested_mitigation: labelled.get(&IntakeField::SuggestedMitigation).cloned(),
                affected_versions: labelled.get(&IntakeField::AffectedVersions).cloned(),
                description: if seen.body.is_empty() {
                    "(The message had no text; see its attachments.)".into()
                } else {
                    seen.body
                },
            }
        },
        reporter_deadline: None,
        exploited_evidence: None,
    };
    let submission = intake::Submission {
        channel: intake::Channel::Mail,
        request,
        files,
        address: None,
        mail_key: Some(key.clone()),
        idempotency_key: None,
    };
    match intake::submit_report(state, submission, now).await {
        Ok(submitted) => {
            tracing::info!(target: "embargo::mailbox", case = %submitted.case.reference,
                asked_for = submitted.asked_for.len(), "mailed report opened a case");
            Ok(Taken::Opened(submitted.case.reference))
        }
        Err(intake::Refused::TooMany(e)) => {
            let reason = format!(
                "too many reports from this address in the last hour; try again in {} minutes",
                e.retry_after.unwrap_or(3600).div_ceil(60)
            );
            refuse(state, &key, &sender, &shown_subject, reason).await
        }
        Err(refused @ (intake::Refused::Invalid(_) | intake::Refused::KeyReused)) => {
            let e = ApiError::from(refused);
            refuse(state, &key, &sender, &shown_subject, e.message).await
        }
        Err(intake::Refused::Store(e)) => Err(MailboxError::Store(e.to_string())),
    }
}

fn tls_config(settings: &MailboxSettings) -> Result<Arc<rustls::ClientConfig>, MailboxError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &settings.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| MailboxError::Tls(format!("{}: {e}", path.display())))?;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| MailboxError::Tls(format!("{}: {e}", path.display())))?;
            roots
                .add(cert)
                .map_err(|e| MailboxError::Tls(format!("{}: {e}", path.display())))?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| MailboxError::Tls(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

async fn tls_wrap(
    settings: &MailboxSettings,
    stream: tokio::net::TcpStream,
) -> Result<Box<dyn Connection>, MailboxError> {
    let name = rustls::pki_types::ServerName::try_from(settings.host.clone())
        .map_err(|e| MailboxError::Tls(format!("{}: {e}", settings.host)))?;
    let tls = tokio_rustls::TlsConnector::from(tls_config(settings)?)
        .connect(name, stream)
        .await
        .map_err(|e| MailboxError::Tls(e.to_string()))?;
    Ok(Box::new(tls))
}

async fn connect(settings: &MailboxSettings) -> Result<Session, MailboxError> {
    let address = format!("{}:{}", settings.host, settings.port);
    let stream = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::net::TcpStream::connect(&address),
    )
    .await
    .map_err(|_| MailboxError::Connect(address.clone(), "timed out".into()))?
    .map_err(|e| MailboxError::Connect(address.clone(), e.to_string()))?;
    let greeting_missing = || MailboxError::Connect(address.clone(), "no IMAP greeting".into());
    let client: Client<Box<dyn Connection>> = match settings.security {
        MailSecurity::Tls => {
            let mut client = Client::new(tls_wrap(settings, stream).await?);
            client
                .read_response()
                .await
                .map_err(|e| MailboxError::Connect(address.clone(), e.to_string()))?
                .ok_or_else(greeting_missing)?;
            client
        }
        MailSecurity::StartTls => {
            let mut plain = Client::new(stream);
            plain
                .read_response()
                .await
                .map_err(|e| MailboxError::Connect(address.clone(), e.to_string()))?
                .ok_or_else(greeting_missing)?;
            plain.run_command_and_check_ok("STARTTLS", None).await?;
            // No greeting follows STARTTLS.
            Client::new(tls_wrap(settings, plain.into_inner()).await?)
        }
        MailSecurity::None => {
            let mut client = Client::new(Box::new(stream) as Box<dyn Connection>);
            client
                .read_response()
                .await
                .map_err(|e| MailboxError::Connect(address.clone(), e.to_string()))?
                .ok_or_else(greeting_missing)?;
            client
        }
    };
    client
        .login(&settings.username, &settings.password)
        .await
        .map_err(|(e, _)| MailboxError::Login(e.to_string()))
}

/// One pass over the folder: every unseen message taken in (or answered)
/// and marked seen. A message whose handling failed stays unseen for the
/// next pass.
pub async fn poll_once(
    state: &AppState,
    settings: &MailboxSettings,
) -> Result<Vec<Taken>, MailboxError> {
    poll_held(state, settings, None).await
}

/// [`poll_once`] under the mailbox job's lease, renewed before each message:
/// a pass whose lease was taken over stops before the next message (the
/// store takes a message once by its key in any case).
async fn poll_held(
    state: &AppState,
    settings: &MailboxSettings,
    held: Option<&crate::jobs::HeldJob<'_>>,
) -> Result<Vec<Taken>, MailboxError> {
    let mut session = connect(settings).await?;
    session.select(&settings.folder).await?;
    let mut uids: Vec<u32> = session.uid_search("UNSEEN").await?.into_iter().collect();
    uids.sort_unstable();
    uids.truncate(PER_POLL);
    let limit = raw_limit(state.settings.attachments, state.settings.max_body_bytes);
    let mut outcomes = Vec::with_capacity(uids.len());
    for uid in uids {
        if let Some(held) = held
            && !held
                .hold()
                .await
                .map_err(|e| MailboxError::Store(e.to_string()))?
        {
            break;
        }
        let sizes: Vec<_> = session
            .uid_fetch(uid.to_string(), "(UID RFC822.SIZE)")
            .await?
            .try_collect()
            .await?;
        let size = sizes.first().and_then(|f| f.size).unwrap_or(0) as usize;
        // Over the limit: read only the header, to answer the sender.
        let query = if size > limit {
            "BODY.PEEK[HEADER]"
        } else {
            "BODY.PEEK[]"
        };
        let fetched: Vec<_> = session
            .uid_fetch(uid.to_string(), query)
            .await?
            .try_collect()
            .await?;
        let Some(fetch) = fetched.first() else {
            continue;
        };
        let outcome = if size > limit {
            match fetch.header() {
                Some(header) => refuse_oversize(state, header, size, limit).await,
                None => Ok(Taken::Unanswerable("the server sent no header".into())),
            }
        } else {
            match fetch.body() {
                Some(raw) => ingest(state, settings, raw).await,
                None => Ok(Taken::Unanswerable("the server sent no body".into())),
            }
        };
        match outcome {
            Ok(taken) => {
                if let Taken::Unanswerable(why) = &taken {
                    tracing::warn!(target: "embargo::mailbox", uid, %why, "message left for a person to read");
                }
                let _: Vec<_> = session
                    .uid_store(uid.to_string(), "+FLAGS (\\Seen)")
                    .await?
                    .try_collect()
                    .await?;
                outcomes.push(taken);
            }
            Err(e) => {
                tracing::error!(target: "embargo::mailbox", uid, error = %e, "message not taken; retried next poll");
            }
        }
    }
    session.logout().await?;
    Ok(outcomes)
}

async fn refuse_oversize(
    state: &AppState,
    header: &[u8],
    size: usize,
    limit: usize,
) -> Result<Taken, MailboxError> {
    let Some(message) = MessageParser::default().parse_headers(header) else {
        return Ok(Taken::Unanswerable("not a readable email header".into()));
    };
    // Header and size identify the message without its body.
    let mut keyed = header.to_vec();
    keyed.extend_from_slice(size.to_string().as_bytes());
    let key = message_key(&keyed, message.message_id());
    if taken(state, &key).await? {
        return Ok(Taken::AlreadyTaken);
    }
    let Some(sender) = sender_of(&message) else {
        return Ok(Taken::Unanswerable(
            "the message has no sender address".into(),
        ));
    };
    let subject = message
        .subject()
        .map(|s| single_line(s, TITLE_CHARS))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "(no subject)".into());
    let reason = format!(
        "the message ({}) is larger than the limit of {}",
        describe_bytes(size),
        describe_bytes(limit)
    );
    refuse(state, &key, &sender, &subject, reason).await
}

/// Polls the mailbox every `poll_interval` until `stop` fires. With several
/// servers on one database, each poll runs on whichever holds the mailbox
/// job's lease, so two servers never read the same folder at once.
pub fn spawn(
    state: AppState,
    settings: MailboxSettings,
    job: crate::jobs::SharedJob,
    mut stop: crate::jobs::Shutdown,
    report: crate::jobs::JobReporter,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _running = report.running();
        loop {
            let pass = job
                .run(async |held| poll_held(&state, &settings, Some(held)).await)
                .await;
            if let Some(taken) = report.settle(pass)
                && !taken.is_empty()
            {
                tracing::info!(target: "embargo::mailbox", messages = taken.len(), "mailbox polled");
            }
            if !stop.sleep(settings.poll_interval).await {
                break;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_found_in_reply_subjects() {
        assert_eq!(
            reference_in("Re: [EMB-2026-0007] We received your report"),
            Some(CaseRef::new(2026, 7))
        );
        assert_eq!(
            reference_in("AW: emb-2026-0012: more"),
            Some(CaseRef::new(2026, 12))
        );
        assert_eq!(reference_in("EMBargo EMB-20-1 nothing"), None);
        assert_eq!(reference_in("no reference"), None);
    }

    #[test]
    fn replies_lose_their_quoted_text() {
        let text = "Here is the PoC.\n\nOn Mon, 2 Mar 2026, Security wrote:\n> We received\n> your report\n";
        assert_eq!(without_quotes(text), "Here is the PoC.");
        assert_eq!(without_quotes("> only quotes"), "");
    }

    #[test]
    fn labelled_paragraphs_fill_the_reports_fields() {
        let body = "The export leaks tokens.\n\nSteps to reproduce:\n1. export\n2. read the file\n\n\
                    **Impact**: account takeover\nAffected versions: 2.1 to 2.4\nThanks, Ada";
        let s = labelled_sections(body);
        assert_eq!(
            s[&IntakeField::StepsToReproduce],
            "1. export\n2. read the file"
        );
        assert_eq!(s[&IntakeField::Impact], "account takeover");
        assert_eq!(s[&IntakeField::AffectedVersions], "2.1 to 2.4\nThanks, Ada");
        assert!(!s.contains_key(&IntakeField::SuggestedMitigation));
        assert!(labelled_sections("No labels here: just text").is_empty());
        assert!(
            labelled_sections("Impact:\n\n").is_empty(),
            "an empty section is no answer"
        );
    }

    #[test]
    fn keys_prefer_the_message_id() {
        assert_eq!(message_key(b"x", Some("abc@host")), "mid:abc@host");
        assert!(message_key(b"x", None).starts_with("sha256:"));
        assert_ne!(message_key(b"x", None), message_key(b"y", None));
    }
}
