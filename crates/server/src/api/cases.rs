//! Cases: open, list, read with history, act on.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use embargo_core::auth::Role;
use embargo_core::clock::{self, ClockReport};
use embargo_core::{Case, CaseRef, CaseState, Command, Event, NewCase, Severity};
use embargo_store::CaseFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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

/// A case reference from a path segment; a malformed one is a 404 like a missing one.
pub(crate) fn reference(raw: &str) -> Result<CaseRef, ApiError> {
    raw.parse()
        .map_err(|e: embargo_core::reference::ParseCaseRefError| ApiError::not_found(e.to_string()))
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
    Ok(Json(CaseList {
        cases: page.cases.into_iter().map(CaseView::from).collect(),
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
        .store
        .create_case(request, &caller.actor(), state.now())
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
    Ok(Json(CaseDetail {
        policy: policy.id.clone(),
        clocks,
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
    let command = cite_scope_rule(&state, &raw, command).await?;
    check_assignee(&state, &command).await?;
    run(&state, &caller, &raw, &command).await
}

/// Rebuilds a rejection command with its (possibly filled-in) reason and rule.
type RebuildRejection = fn(String, Option<String>) -> Command;

/// A rejection that cites a scope rule of the case's policy takes the rule's
/// text as its reason (unless the triager wrote their own); an unknown rule
/// is an error naming the rules there are.
pub(crate) async fn cite_scope_rule(
    state: &AppState,
    raw: &str,
    command: Command,
) -> ApiResult<Command> {
    let (reason, rule, rebuild): (String, Option<String>, RebuildRejection) = match command {
        Command::NotAVulnerability { reason, rule } => (reason, rule, |reason, rule| {
            Command::NotAVulnerability { reason, rule }
        }),
        Command::OutOfScope { reason, rule } => (reason, rule, |reason, rule| {
            Command::OutOfScope { reason, rule }
        }),
        other => return Ok(other),
    };
    let Some(rule_id) = rule else {
        return Ok(rebuild(reason, None));
    };
    let case = state.store.case(reference(raw)?).await?;
    let policy = state.settings.policies.for_product(&case.product);
    let Some(found) = policy.scope_rule(&rule_id) else {
        let known: Vec<&str> = policy.scope_rules.iter().map(|r| r.id.as_str()).collect();
        return Err(ApiError::invalid(
            "rule",
            format!(
                "rule: policy `{}` has no scope rule `{rule_id}`; it has: {}",
                policy.id,
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        ));
    };
    let reason = if reason.trim().is_empty() {
        found.reporter_text.clone()
    } else {
        reason
    };
    Ok(rebuild(reason, Some(rule_id)))
}

/// A case is given only to an enabled team member.
pub(crate) async fn check_assignee(state: &AppState, command: &Command) -> ApiResult<()> {
    if let Command::Assign { to: Some(name) } = command
        && !name.trim().is_empty()
    {
        let known = match state.store.user(name.trim()).await {
            Ok(user) => !user.disabled,
            Err(embargo_store::StoreError::NotFound { .. }) => false,
            Err(e) => return Err(e.into()),
        };
        if !known {
            return Err(ApiError::invalid(
                "to",
                format!("to: `{}` is not an active team member", name.trim()),
            ));
        }
    }
    Ok(())
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
    let r = reference(raw)?;
    let (case, events) = state
        .store
        .execute(r, command, &caller.actor(), state.now())
        .await?;
    Ok(Json(CommandOutcome {
        case: case.into(),
        events,
    }))
}

/// A likely original of a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateSuggestion {
    pub reference: CaseRef,
    pub title: String,
    pub state: CaseState,
    /// Similarity, 0 to about 1.1 (1 is identical wording; same product adds a little).
    pub score: f64,
}

/// How a reporter's earlier reports ended.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ReporterRecord {
    /// Reports from the same contact, this one included.
    pub reports: u32,
    /// Confirmed as vulnerabilities.
    pub accepted: u32,
    /// Not a vulnerability, out of scope or duplicate.
    pub rejected: u32,
    pub spam: u32,
    /// Still being worked.
    pub open: u32,
}

/// What helps a triager decide.
#[derive(Debug, Serialize, ToSchema)]
pub struct TriageAid {
    /// The most similar other cases, best first.
    pub duplicates: Vec<DuplicateSuggestion>,
    /// The reporter's track record, when they gave a contact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter_record: Option<ReporterRecord>,
}

/// How many recent cases duplicate suggestions and track records look at.
const TRIAGE_WINDOW: usize = 2000;

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

/// The newest cases matching `filter`, read a page at a time until there
/// are at least `at_least` or no more.
pub(crate) async fn recent_cases(
    state: &AppState,
    filter: &CaseFilter,
    at_least: usize,
) -> ApiResult<Vec<Case>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    while out.len() < at_least {
        let page = state
            .store
            .list_cases(filter, 500, cursor.as_deref())
            .await?;
        out.extend(page.cases);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(out)
}

/// Duplicate suggestions and the reporter's track record for `case`.
pub(crate) async fn triage_for(state: &AppState, case: &Case) -> ApiResult<TriageAid> {
    // One more than the window, so that leaving this case out keeps it full.
    let others: Vec<Case> = recent_cases(state, &CaseFilter::default(), TRIAGE_WINDOW + 1)
        .await?
        .into_iter()
        .filter(|c| c.reference != case.reference)
        .collect();
    let duplicates = embargo_core::similarity::suggest(case, &others, 5, 0.15)
        .into_iter()
        .filter_map(|s| {
            others
                .iter()
                .find(|c| c.reference == s.reference)
                .map(|c| DuplicateSuggestion {
                    reference: c.reference,
                    title: c.title.clone(),
                    state: c.state,
                    score: (s.score * 1000.0).round() / 1000.0,
                })
        })
        .collect();
    let reporter_record = case.reporter.contact.as_deref().map(|contact| {
        let mut record = ReporterRecord::default();
        let same = |c: &Case| {
            c.reporter
                .contact
                .as_deref()
                .is_some_and(|o| o.eq_ignore_ascii_case(contact))
        };
        for c in others
            .iter()
            .chain(std::iter::once(case))
            .filter(|c| same(c))
        {
            record.reports += 1;
            match c.state {
                CaseState::Spam => record.spam += 1,
                CaseState::NotAVulnerability | CaseState::OutOfScope | CaseState::Duplicate => {
                    record.rejected += 1;
                }
                CaseState::Accepted
                | CaseState::Fixing
                | CaseState::FixAvailable
                | CaseState::Released
                | CaseState::Disclosed
                | CaseState::Closed => record.accepted += 1,
                _ => record.open += 1,
            }
        }
        record
    });
    Ok(TriageAid {
        duplicates,
        reporter_record,
    })
}
