//! Cases: open, list, read with history, act on.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use embargo_core::auth::Role;
use embargo_core::clock::{self, ClockReport};
use embargo_core::{Case, CaseState, Command, Event, NewCase, Severity};
use embargo_store::CaseFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub(crate) use crate::app::cases::reference;
pub use crate::app::cases::{DuplicateSuggestion, ReporterRecord, TriageAid};
use crate::app::cases::{move_case, triage_for};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;

/// A case with the moves its state allows.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    #[serde(flatten)]
    pub case: Case,
    /// The actions (`Command.action`) the current state allows.
    pub allowed_actions: Vec<&'static str>,
}

impl From<Case> for CaseView {
    fn from(case: Case) -> Self {
        CaseView {
            allowed_actions: case.allowed_actions(),
            case,
        }
    }
}

/// A case, its policy clocks and its whole history.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: CaseView,
    /// The id of the policy that governs the case's product.
    pub policy: String,
    /// The policy's clocks for this case, as they stand now.
    pub clocks: Vec<ClockReport>,
    pub history: Vec<Event>,
    /// The exploitation signals of the findings linked to the case: CISA's
    /// KEV listing and FIRST's EPSS score, through the advisories' CVE aliases.
    pub signals: Vec<crate::app::cra::Signal>,
}

/// The outcome of a command: the case as it now stands and what was recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommandOutcome {
    pub case: CaseView,
    /// The events appended (empty when the command changed nothing).
    pub events: Vec<Event>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    pub cases: Vec<CaseView>,
    /// How many cases the filter selects, on every page.
    pub total: i64,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// Only cases in this state.
    pub state: Option<CaseState>,
    /// Only cases about this product.
    pub product: Option<String>,
    /// Only cases of this severity.
    pub severity: Option<Severity>,
    /// `true`: only cases still being worked (not closed or rejected).
    pub open: Option<bool>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// From `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// The note; visible to the team only.
    pub text: String,
}

/// List cases, newest first.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseQuery),
    responses(
        (status = 200, body = CaseList),
        (status = 400, description = "An unknown or malformed parameter", body = ErrorBody),
        (status = 401, body = ErrorBody),
    ))]
pub async fn list_cases(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<CaseQuery>,
) -> ApiResult<Json<CaseList>> {
    caller.require(Role::Viewer)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(
            ApiError::invalid("limit", "limit: must be between 1 and 500")
                .with_status(StatusCode::BAD_REQUEST),
        );
    }
    let filter = CaseFilter {
        open_only: q.open.unwrap_or(false),
        state: q.state,
        product: q.product,
        severity: q.severity,
    };
    let page = state
        .store
        .list_cases(&filter, limit, q.cursor.as_deref())
        .await?;
    let total = state.store.count_cases(&filter).await?;
    Ok(Json(CaseList {
        cases: page.cases.into_iter().map(CaseView::from).collect(),
        total,
        next_cursor: page.next_cursor,
    }))
}

/// Open a case on behalf of a reporter (the team's side of intake).
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = NewCase,
    responses(
        (status = 201, description = "Created and durably stored", body = CaseView),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "A missing, unknown or invalid field", body = ErrorBody),
    ))]
pub async fn create_case(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<NewCase>,
) -> ApiResult<(StatusCode, Json<CaseView>)> {
    caller.require(Role::Responder)?;
    let case = state
        .recording()
        .create_case(&state.store, request, &caller.actor(), state.now())
        .await?;
    Ok((StatusCode::CREATED, Json(case.into())))
}

/// One case with its history.
#[utoipa::path(get, path = "/api/v1/cases/{reference}", tag = "cases",
    params(("reference" = String, Path, description = "The case reference, such as EMB-2026-0001")),
    responses((status = 200, body = CaseDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_case(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Json<CaseDetail>> {
    caller.require(Role::Viewer)?;
    let r = reference(&raw)?;
    let case = state.store.case(r).await?;
    let history = state.store.history(r).await?;
    let policy = state.settings.policies.for_product(&case.product);
    let clocks = clock::evaluate(policy, &case, &history, state.now());
    let signals = crate::app::cra::signals(&state, r).await?;
    Ok(Json(CaseDetail {
        policy: policy.id.clone(),
        clocks,
        signals,
        case: case.into(),
        history,
    }))
}

/// Move a case through the workflow, set its severity, or add a note.
#[utoipa::path(post, path = "/api/v1/cases/{reference}/transitions", tag = "cases",
    params(("reference" = String, Path, description = "The case reference")),
    request_body = Command,
    responses(
        (status = 200, body = CommandOutcome),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The workflow does not allow this move now", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn transition(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    ApiJson(command): ApiJson<Command>,
) -> ApiResult<Json<CommandOutcome>> {
    caller.require(Role::Responder)?;
    let (case, events) = move_case(&state, &caller, &raw, command).await?;
    Ok(Json(CommandOutcome {
        case: case.into(),
        events,
    }))
}

/// Add an internal note (team only).
#[utoipa::path(post, path = "/api/v1/cases/{reference}/notes", tag = "cases",
    params(("reference" = String, Path, description = "The case reference")),
    request_body = NoteRequest,
    responses(
        (status = 200, body = CommandOutcome),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn add_note(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    ApiJson(note): ApiJson<NoteRequest>,
) -> ApiResult<Json<CommandOutcome>> {
    caller.require(Role::Responder)?;
    run(&state, &caller, &raw, &Command::AddNote { text: note.text }).await
}

pub(crate) async fn run(
    state: &AppState,
    caller: &Caller,
    raw: &str,
    command: &Command,
) -> ApiResult<Json<CommandOutcome>> {
    let (case, events) = crate::app::cases::move_case(state, caller, raw, command.clone()).await?;
    Ok(Json(CommandOutcome {
        case: case.into(),
        events,
    }))
}

/// Duplicate suggestions and the reporter's track record for a case.
#[utoipa::path(get, path = "/api/v1/cases/{reference}/triage", tag = "cases",
    params(("reference" = String, Path, description = "The case reference")),
    responses((status = 200, body = TriageAid), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn triage_aid(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> ApiResult<Json<TriageAid>> {
    caller.require(Role::Viewer)?;
    let case = state.store.case(reference(&raw)?).await?;
    Ok(Json(triage_for(&state, &case).await?))
}
