//! Submitting a vulnerability report, whichever way it arrives: the JSON
//! API, the public web form or the security mailbox. One check of the
//! report and the policy's required fields, one pair of rate limits, one way
//! to open the case (its receipt queued and its clocks started in the same
//! transaction).
//!
//! The channels differ only where a person cannot correct what they sent:
//! a report by mail that lacks a field the policy requires is kept — the
//! case is opened — and the reporter is written to, in the case's thread,
//! with what to add; the API and the form refuse it with every problem named.

use embargo_core::policy::IntakeField;
use embargo_core::{Case, Command, DomainError, NewCase};
use embargo_store::{AttachmentFile, StoreError};

use crate::app::record::NoticeExtras;
use crate::error::ApiError;
use crate::state::AppState;

pub use crate::auth::REPORTER_PREFIX;

/// Where a report came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// `POST /api/v1/reports`.
    Api,
    /// The public form at `/report`.
    WebForm,
    /// The security mailbox.
    Mail,
}

/// A report to submit.
#[derive(Debug)]
pub struct Submission {
    pub channel: Channel,
    pub request: NewCase,
    /// Its files, already checked against the attachment limits.
    pub files: Vec<AttachmentFile>,
    /// The client's address (web channels), limited per hour.
    pub address: Option<String>,
    /// The mailbox message it came in (its key), recorded with the case so
    /// the message is taken once.
    pub mail_key: Option<String>,
    /// The client's key for this report (the API's `Idempotency-Key`, the
    /// form's submission id): sent again within a day, the same report gets
    /// the first receipt and no second case.
    pub idempotency_key: Option<String>,
}

/// How long a report's idempotency key is remembered.
pub const IDEMPOTENCY_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// What the receipt says about a confirmation email: the address it goes
/// to, or why none will come.
pub fn confirmation(state: &AppState, case: &Case) -> Result<String, &'static str> {
    match case.reporter.contact.as_deref() {
        None => Err("you gave no email address, so no confirmation email will come"),
        Some(c) if !c.contains('@') => {
            Err("your contact is not an email address, so no confirmation email will come")
        }
        Some(_) if !state.settings.sends_email => {
            Err("this server sends no email yet, so no confirmation email will come")
        }
        Some(c) => Ok(c.to_owned()),
    }
}

/// Checks an `Idempotency-Key`: 1 to 255 visible ASCII characters.
pub fn check_idempotency_key(key: &str) -> Result<(), ApiError> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "Idempotency-Key: use 1 to 255 visible ASCII characters (a UUID, say)",
        ));
    }
    Ok(())
}

/// One problem with a field of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The field's path in the report (`report.impact`).
    pub field: String,
    pub message: String,
}

/// A report received: its case, and the reporter's private token (shown once).
#[derive(Debug)]
pub struct Submitted {
    pub case: Case,
    pub token: String,
    pub private_url: String,
    /// Fields the policy requires that a mailed report lacked; the reporter
    /// was asked for them in the case's thread.
    pub asked_for: Vec<IntakeField>,
    /// The request was a retry: this is the first one's receipt.
    pub replayed: bool,
}

/// Why a report was not taken.
#[derive(Debug)]
pub enum Refused {
    /// The report's problems, every one of them.
    Invalid(Vec<FieldProblem>),
    /// Too many reports from this address or reporter; try again later.
    TooMany(ApiError),
    /// The idempotency key was used for a different report.
    KeyReused,
    /// The store could not take it.
    Store(StoreError),
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(DomainError::Invalid { field, message }) => {
                Refused::Invalid(vec![FieldProblem { field, message }])
            }
            e => Refused::Store(e),
        }
    }
}

impl From<Refused> for ApiError {
    /// The API's answer: the first problem names its field (the others
    /// follow in the message).
    fn from(r: Refused) -> Self {
        match r {
            Refused::Invalid(problems) => {
                let text: Vec<String> = problems
                    .iter()
                    .map(|p| format!("{}: {}", p.field, p.message))
                    .collect();
                let field = problems
                    .first()
                    .map(|p| p.field.clone())
                    .unwrap_or_default();
                let mut e = ApiError::invalid(field, text.join("; "));
                if problems.len() > 1 {
                    e.problems = problems
                        .into_iter()
                        .map(|p| crate::error::FieldError {
                            field: p.field,
                            message: p.message,
                        })
                        .collect();
                }
                e
            }
            Refused::TooMany(e) => e,
            Refused::KeyReused => ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different report: send a new key with a new report",
            )
            .with_field("Idempotency-Key"),
            Refused::Store(e) => ApiError::from(e),
        }
    }
}

/// The reporter's private page for `token`.
pub(crate) fn private_url(state: &AppState, token: &str) -> String {
    format!(
        "{}/portal/{token}",
        state.settings.public_url.trim_end_matches('/')
    )
}

/// Opens a reporter's case (with its files, and the mailbox message it came
/// from, if any) under a new private token; returns the case and the token,
/// which is shown once.
async fn open_for_reporter(
    state: &AppState,
    request: NewCase,
    files: Vec<AttachmentFile>,
    mail_key: Option<&str>,
    keep: Option<(&str, &str)>,
    now: embargo_core::Instant,
) -> Result<(Case, String), StoreError> {
    let now = embargo_core::to_millis(now);
    let token = embargo_core::auth::generate_token(REPORTER_PREFIX);
    let mut work = state.store.begin().await?;
    let claim = request.exploited_evidence.clone();
    let (mut handle, opened) = work.cases().open(request, "reporter", now).await?;
    let mut events = vec![opened];
    // The reporter says it is exploited in the wild: a claim the team
    // confirms (Article 14's clocks start) or rejects, with its reason.
    if let Some(text) = claim {
        let stored = work
            .cases()
            .append(
                &mut handle,
                vec![embargo_core::EventKind::ExploitationClaimed { text }],
                "reporter",
                now,
            )
            .await?;
        events.extend(stored);
    }
    let attached = work.attachments().store(&handle, files, now).await?;
    if !attached.is_empty() {
        let stored = work
            .cases()
            .append(&mut handle, attached, "reporter", now)
            .await?;
        events.extend(stored);
    }
    let extras = NoticeExtras {
        private_link: Some(private_url(state, &token)),
        credited_as: None,
    };
    state
        .recording()
        .carry_out(&mut work, &handle.case, &events, &extras, now)
        .await?;
    work.reporters()
        .issue_token(&handle, &embargo_core::auth::token_digest(&token), now)
        .await?;
    if let Some(key) = mail_key {
        work.mailbox()
            .mark_taken(key, Some(handle.case.reference), "opened", now)
            .await?;
    }
    if let Some((key_digest, request_digest)) = keep {
        let receipt = embargo_store::KeptReceipt {
            case_ref: handle.case.reference.to_string(),
            token: token.clone(),
            request_digest: request_digest.to_owned(),
        };
        work.keep_receipt(key_digest, &receipt, now, now - IDEMPOTENCY_WINDOW)
            .await?;
    }
    work.commit().await?;
    Ok((handle.case, token))
}

/// Every problem with `request` under the policy that governs its product:
/// its own validity first, then each field the policy requires and it lacks.
#[must_use]
pub fn problems(state: &AppState, request: &NewCase) -> Vec<FieldProblem> {
    let invalid = match request.clone().checked() {
        Err(all) => field_problems(all),
        Ok(_) => Vec::new(),
    };
    combined(invalid, &missing(state, request))
}

fn field_problems(errors: Vec<DomainError>) -> Vec<FieldProblem> {
    errors
        .into_iter()
        .map(|e| match e {
            DomainError::Invalid { field, message } => FieldProblem { field, message },
            other => FieldProblem {
                field: String::new(),
                message: other.to_string(),
            },
        })
        .collect()
}

/// The validity problems, then each missing field not already named by one.
fn combined(
    invalid: Vec<FieldProblem>,
    missing: &[(&'static str, IntakeField)],
) -> Vec<FieldProblem> {
    let mut out = invalid;
    for (field, f) in missing {
        if !out.iter().any(|p| p.field == *field) {
            out.push(FieldProblem {
                field: (*field).to_owned(),
                message: format!("is required by this security policy: {}", f.label()),
            });
        }
    }
    out
}

fn missing(state: &AppState, request: &NewCase) -> Vec<(&'static str, IntakeField)> {
    state
        .settings
        .policies
        .for_product(request.product.trim())
        .missing_required(request)
}

/// Takes a report in: checks it, applies the rate limits, opens the case.
pub async fn submit_report(
    state: &AppState,
    submission: Submission,
    now: embargo_core::Instant,
) -> Result<Submitted, Refused> {
    let Submission {
        channel,
        request,
        files,
        address,
        mail_key,
        idempotency_key,
    } = submission;
    // A retry of a report already taken gets its receipt, before any limit.
    let keyed = idempotency_key.map(|key| {
        let key_digest = embargo_core::auth::token_digest(&format!("{channel:?}:{key}"));
        let body = serde_json::to_string(&request).unwrap_or_default();
        (key_digest, embargo_core::auth::token_digest(&body))
    });
    if let Some((key_digest, request_digest)) = &keyed
        && let Some(kept) = replay(state, key_digest, request_digest, now).await?
    {
        return Ok(kept);
    }
    let lacking = missing(state, &request);
    let request = match request.checked() {
        Ok(request) => request,
        Err(all) => return Err(Refused::Invalid(combined(field_problems(all), &lacking))),
    };
    let asked_for: Vec<IntakeField> = if channel == Channel::Mail {
        // A mailed report is refused only for what makes it unreadable; a
        // missing required field is asked for instead.
        lacking.iter().map(|(_, f)| *f).collect()
    } else if !lacking.is_empty() {
        return Err(Refused::Invalid(combined(Vec::new(), &lacking)));
    } else {
        Vec::new()
    };
    if let Some(address) = &address {
        state
            .intake_per_address
            .hit(address, now, "address")
            .map_err(Refused::TooMany)?;
    }
    if let Some(contact) = request.reporter.contact.as_deref() {
        state
            .intake_per_contact
            .hit(&contact.trim().to_lowercase(), now, "reporter")
            .map_err(Refused::TooMany)?;
    }
    let keep = keyed.as_ref().map(|(k, r)| (k.as_str(), r.as_str()));
    let (case, token) =
        match open_for_reporter(state, request, files, mail_key.as_deref(), keep, now).await {
            Ok(opened) => opened,
            Err(e) => {
                // The same key, sent twice at once: the other request won.
                if let Some((key_digest, request_digest)) = &keyed
                    && let Some(kept) = replay(state, key_digest, request_digest, now).await?
                {
                    return Ok(kept);
                }
                return Err(e.into());
            }
        };
    if !asked_for.is_empty() {
        let policy = state.settings.policies.for_product(&case.product);
        let texts = embargo_core::messages::texts(policy.language());
        let fields: Vec<String> = asked_for
            .iter()
            .map(|f| format!("- {}", f.label()))
            .collect();
        let text =
            embargo_core::messages::fill(texts.missing_fields, &[("fields", &fields.join("\n"))]);
        state
            .recording()
            .execute(
                &state.store,
                case.reference,
                &Command::MessageReporter { text },
                "system",
                now,
            )
            .await?;
    }
    Ok(Submitted {
        private_url: private_url(state, &token),
        case,
        token,
        asked_for,
        replayed: false,
    })
}

/// The first receipt for a key already used, or `KeyReused` when the key
/// came with a different report.
async fn replay(
    state: &AppState,
    key_digest: &str,
    request_digest: &str,
    now: embargo_core::Instant,
) -> Result<Option<Submitted>, Refused> {
    let Some(kept) = state
        .store
        .kept_receipt(key_digest, now - IDEMPOTENCY_WINDOW)
        .await?
    else {
        return Ok(None);
    };
    if kept.request_digest != request_digest {
        return Err(Refused::KeyReused);
    }
    let reference =
        kept.case_ref
            .parse()
            .map_err(|e: embargo_core::reference::ParseCaseRefError| {
                Refused::Store(StoreError::Domain(DomainError::invalid(
                    "case_ref",
                    e.to_string(),
                )))
            })?;
    let case = state.store.case(reference).await?;
    Ok(Some(Submitted {
        private_url: private_url(state, &kept.token),
        case,
        token: kept.token,
        asked_for: Vec::new(),
        replayed: true,
    }))
}
