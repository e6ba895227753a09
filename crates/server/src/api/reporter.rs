//! The reporter's side of a case: public intake, and the private thread
//! behind the capability token the receipt carries.
//!
//! A reporter token opens exactly one case, and only what the policy lets a
//! reporter see: the report, the state in plain words, the public clocks and
//! the messages between reporter and team. Never internal notes, other cases
//! or team details.

use axum::Json;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use embargo_core::attachment::Attachment;
use embargo_core::auth::{self, Role, token_digest};
use embargo_core::clock::{self, ClockStatus};
use embargo_core::{CaseRef, Command, EventKind, NewCase, ReportContent};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::intake;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, client_address};
use crate::state::AppState;

pub use crate::auth::{REPORTER_PREFIX, ReporterAccess};

/// What the reporter gets back: the reference and the private token (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct Receipt {
    pub reference: CaseRef,
    /// The private token for this report: send it as `Authorization: Bearer`
    /// to `/api/v1/reporter/case`. Shown once; keep it secret.
    pub token: String,
    /// The reporter's private page (the token is part of it: keep it secret).
    pub private_url: String,
    pub message: String,
    /// Whether a confirmation email goes to the reporter's address.
    pub confirmation_email: bool,
}

/// Submit a vulnerability report (no account needed). Send an
/// `Idempotency-Key` header to retry safely: the same report sent again
/// with the same key within a day gets the first receipt (with
/// `Idempotent-Replayed: true`) and opens no second case.
#[utoipa::path(post, path = "/api/v1/reports", tag = "reporter", request_body = NewCase, security(()),
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters, new for each report")),
    responses(
        (status = 201, description = "Received and durably stored (or, for a retried key, the first receipt)", body = Receipt),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "A missing, unknown or invalid field, or one the policy requires (every one in `problems`), or an Idempotency-Key used for another report", body = ErrorBody),
        (status = 429, description = "Too many reports from this address or reporter; see Retry-After", body = ErrorBody),
    ))]
pub async fn submit_report(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<NewCase>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let now = state.now();
    let idempotency_key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let key = v.to_str().unwrap_or_default();
            intake::check_idempotency_key(key)?;
            Some(key.to_owned())
        }
    };
    let submitted = intake::submit_report(
        &state,
        intake::Submission {
            channel: intake::Channel::Api,
            request,
            files: Vec::new(),
            address: Some(client_address(&state, peer, &headers)),
            mail_key: None,
            idempotency_key,
        },
        now,
    )
    .await?;
    let confirmation = intake::confirmation(&state, &submitted.case);
    let mut response = (
        StatusCode::CREATED,
        Json(Receipt {
            message: format!(
                "Thank you. Your report is {}. Keep the token: it opens your report and its private thread. {}.",
                submitted.case.reference,
                match &confirmation {
                    Ok(to) => format!("A confirmation email goes to {to}"),
                    Err(why) => capitalised(why),
                }
            ),
            reference: submitted.case.reference,
            private_url: submitted.private_url,
            token: submitted.token,
            confirmation_email: confirmation.is_ok(),
        }),
    )
        .into_response();
    if submitted.replayed {
        response.headers_mut().insert(
            "idempotent-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
    }
    Ok(response)
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// One message of the private thread.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadMessage {
    pub at: DateTime<Utc>,
    /// `team` or `reporter`.
    pub from: &'static str,
    pub text: String,
}

/// A clock the policy makes public.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicClock {
    pub name: String,
    pub promise: String,
    pub status: ClockStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
}

/// The reporter's view of their case.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReporterView {
    pub reference: CaseRef,
    pub title: String,
    pub product: String,
    /// The state in plain words.
    pub status: String,
    pub submitted_at: DateTime<Utc>,
    pub report: ReportContent,
    /// Why the case was closed without a fix, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub clocks: Vec<PublicClock>,
    pub thread: Vec<ThreadMessage>,
    /// The files you sent (download them at `/api/v1/reporter/attachments/{id}`).
    pub attachments: Vec<Attachment>,
    /// The name or handle you want credited; absent means no credit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit: Option<String>,
}

/// Your report, its status, the public clocks and the private thread.
#[utoipa::path(get, path = "/api/v1/reporter/case", tag = "reporter", security(("reporter" = [])),
    responses((status = 200, body = ReporterView), (status = 401, body = ErrorBody)))]
pub async fn reporter_case(
    State(state): State<AppState>,
    access: ReporterAccess,
) -> ApiResult<Json<ReporterView>> {
    let case = state.store.case(access.reference).await?;
    let history = state.store.history(access.reference).await?;
    let policy = state.settings.policies.for_product(&case.product);
    let clocks = clock::evaluate(policy, &case, &history, state.now())
        .into_iter()
        .filter(|c| c.public)
        .map(|c| PublicClock {
            name: c.name,
            promise: c.promise,
            status: c.status,
            due_at: c.due_at,
        })
        .collect();
    let thread = history
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::MessageToReporter { text } => Some(ThreadMessage {
                at: e.at,
                from: "team",
                text,
            }),
            EventKind::MessageFromReporter { text } => Some(ThreadMessage {
                at: e.at,
                from: "reporter",
                text,
            }),
            _ => None,
        })
        .collect();
    let reason = case
        .state
        .is_rejection()
        .then(|| case.reason.clone())
        .flatten();
    Ok(Json(ReporterView {
        reference: case.reference,
        title: case.title,
        product: case.product,
        status: case.state.describe().to_owned(),
        submitted_at: case.created_at,
        report: case.report,
        reason,
        clocks,
        thread,
        attachments: case
            .attachments
            .into_iter()
            .filter(|a| a.shared_with_reporter)
            .collect(),
        credit: case.reporter.name,
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditRequest {
    /// The name or handle to credit; `null` or absent for no credit.
    #[serde(default)]
    pub credit: Option<String>,
}

/// Say how you want to be credited (or not at all).
#[utoipa::path(put, path = "/api/v1/reporter/credit", tag = "reporter", request_body = CreditRequest, security(("reporter" = [])),
    responses((status = 200, body = CreditRequest), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_credit(
    State(state): State<AppState>,
    access: ReporterAccess,
    ApiJson(req): ApiJson<CreditRequest>,
) -> ApiResult<Json<CreditRequest>> {
    let (case, _) =
        crate::app::reporter::credit(&state, access.reference, req.credit.as_deref()).await?;
    Ok(Json(CreditRequest {
        credit: case.reporter.name,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    pub text: String,
}

/// Write to the team in your report's private thread.
#[utoipa::path(post, path = "/api/v1/reporter/messages", tag = "reporter", request_body = MessageRequest, security(("reporter" = [])),
    responses((status = 201, body = ThreadMessage), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reporter_reply(
    State(state): State<AppState>,
    access: ReporterAccess,
    ApiJson(req): ApiJson<MessageRequest>,
) -> ApiResult<(StatusCode, Json<ThreadMessage>)> {
    let (_, events) =
        crate::app::reporter::message(&state, access.reference, &req.text, Vec::new(), None)
            .await?;
    let message = events
        .into_iter()
        .find_map(|e| match e.kind {
            EventKind::MessageFromReporter { text } => Some(ThreadMessage {
                at: e.at,
                from: "reporter",
                text,
            }),
            _ => None,
        })
        .ok_or_else(|| ApiError::internal("reporter message", &"no message event"))?;
    Ok((StatusCode::CREATED, Json(message)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedToken {
    /// The new private token; the old one no longer works.
    pub token: String,
}

/// Replace your private token (if it may have leaked).
#[utoipa::path(post, path = "/api/v1/reporter/token", tag = "reporter", security(("reporter" = [])),
    responses((status = 200, body = RotatedToken), (status = 401, body = ErrorBody)))]
pub async fn rotate_token(
    State(state): State<AppState>,
    access: ReporterAccess,
) -> ApiResult<Json<RotatedToken>> {
    let token = auth::generate_token(REPORTER_PREFIX);
    state
        .store
        .rotate_reporter_token(access.reference, &token_digest(&token), state.now())
        .await?;
    Ok(Json(RotatedToken { token }))
}

/// Write to the reporter in the case's private thread (they get it by email too).
#[utoipa::path(post, path = "/api/v1/cases/{reference}/messages", tag = "cases",
    params(("reference" = String, Path, description = "The case reference")),
    request_body = MessageRequest,
    responses((status = 200, body = crate::api::cases::CommandOutcome), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn message_reporter(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    ApiJson(req): ApiJson<MessageRequest>,
) -> ApiResult<Json<crate::api::cases::CommandOutcome>> {
    caller.require(Role::Responder)?;
    crate::api::cases::run(
        &state,
        &caller,
        &raw,
        &Command::MessageReporter { text: req.text },
    )
    .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Revoked {
    /// How many active tokens were revoked.
    pub revoked: u64,
}

/// Revoke the reporter's private tokens of a case.
#[utoipa::path(delete, path = "/api/v1/cases/{reference}/reporter-tokens", tag = "cases",
    params(("reference" = String, Path, description = "The case reference")),
    responses((status = 200, body = Revoked), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_reporter_tokens(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Json<Revoked>> {
    caller.require(Role::Responder)?;
    let reference = crate::api::cases::reference(&raw)?;
    Ok(Json(Revoked {
        revoked: state
            .store
            .revoke_reporter_tokens(reference, state.now())
            .await?,
    }))
}
