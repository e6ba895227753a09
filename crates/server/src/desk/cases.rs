//! The case queue (filters, saved views) and the case page: the report, the
//! thread and notes, the timeline, the clocks, the severity calculator,
//! duplicate suggestions, the actions the state allows (only those), and
//! the advisory draft.

use crate::paging::PageOf;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use embargo_core::advisory::cwe;
use embargo_core::auth::Role;
use embargo_core::case::ClockOutcome;
use embargo_core::clock::{self, ClockReport, ClockStatus};
use embargo_core::{Case, CaseState, Command, Event, EventKind, Severity};
use embargo_store::{AssigneeFilter, CaseFilter, QueueFilter, QueueSort, QueueView, QueuedCase};
use minijinja::Value;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::IntoParams;

use crate::app::advisories::{
    AffectedInput, CreditInput, DraftRequest, RangeInput, ReferenceInput, save_draft_as,
};
use crate::app::cases::{move_case, reference, triage_for};
use crate::app::severity::{METRICS, vector_from_metrics};
use crate::desk::{Desk, DeskForm, PageError, PageResult, redirect, span, when};
use crate::error::ApiError;
use crate::state::AppState;

/// How many cases a queue page scans.
const PAGE: u32 = 50;

#[derive(Debug, Default, Deserialize, IntoParams, Serialize)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// A case state (`triage`, `accepted`, …).
    pub state: Option<String>,
    /// `none` to `critical`.
    pub severity: Option<String>,
    pub product: Option<String>,
    /// A username, `me`, or `nobody` for unassigned cases.
    pub assignee: Option<String>,
    /// `all` to include closed and rejected cases (default: open only).
    pub show: Option<String>,
    /// Words to find: in the reference, title, product, reporter, or the
    /// report's own text (decrypted in memory for the search, never stored
    /// in plain text).
    pub q: Option<String>,
    /// `needs_reply` (the reporter wrote last), `mine`, `waiting` (on the
    /// reporter), `breached` or `due_soon` (a clock past its warning).
    pub view: Option<String>,
    /// `due` (next due clock first, the default), `severity`, `age`
    /// (oldest first) or `activity` (latest first).
    pub sort: Option<String>,
    /// The page, from 1.
    pub page: Option<String>,
    /// How many cases a bulk action just changed (shown once).
    pub done: Option<String>,
}

/// The views the queue offers beside its filters.
const VIEWS: &[(&str, &str)] = &[
    ("needs_reply", "Needs our reply"),
    ("mine", "Mine"),
    ("waiting", "Waiting on the reporter"),
    ("breached", "Breached"),
    ("due_soon", "Due soon"),
];
const SORTS: &[(&str, &str)] = &[
    ("due", "Next due"),
    ("severity", "Severity"),
    ("age", "Oldest first"),
    ("activity", "Latest activity"),
];
/// How many cases of a filter (in its order) a search reads and decrypts:
/// report text is encrypted at rest, so it is matched in memory.
pub(crate) const QUEUE_WINDOW: usize = 5000;

impl QueueQuery {
    fn blank(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }

    /// The query string of this filter (without the cursor), for links and saved views.
    fn to_query(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("state", &self.state),
            ("severity", &self.severity),
            ("product", &self.product),
            ("assignee", &self.assignee),
            ("show", &self.show),
            ("q", &self.q),
            ("view", &self.view),
            ("sort", &self.sort),
        ] {
            if let Some(v) = Self::blank(v) {
                q.append_pair(k, v);
            }
        }
        q.finish()
    }
}

/// One row of a case list.
#[derive(Debug, Serialize)]
pub(crate) struct CaseRow {
    pub reference: String,
    pub title: String,
    pub state: &'static str,
    pub state_text: &'static str,
    pub severity: Option<&'static str>,
    pub product: String,
    pub assignee: Option<String>,
    pub age: String,
    /// The next due clock: its name, when, and its status.
    pub next_clock: Option<(String, String, &'static str)>,
    /// How long ago the last event was.
    pub activity: String,
    /// The reporter wrote last: the team owes an answer.
    pub needs_reply: bool,
}

pub(crate) fn status_name(s: ClockStatus) -> &'static str {
    s.as_str()
}

/// The running clock due soonest.
pub(crate) fn next_due(clocks: &[ClockReport]) -> Option<&ClockReport> {
    clocks
        .iter()
        .filter(|c| {
            matches!(
                c.status,
                ClockStatus::Running | ClockStatus::Warning | ClockStatus::Breached
            ) && c.stopped_at.is_none()
        })
        .filter(|c| c.due_at.is_some())
        .min_by_key(|c| c.due_at)
}

pub(crate) fn row(case: &Case, clocks: &[ClockReport], now: embargo_core::Instant) -> CaseRow {
    CaseRow {
        reference: case.reference.to_string(),
        title: case.title.clone(),
        state: case.state.as_str(),
        state_text: case.state.describe(),
        severity: case.severity.map(Severity::as_str),
        product: case.product.clone(),
        assignee: case.assignee.clone(),
        age: span((now - case.created_at).num_seconds()),
        next_clock: next_due(clocks).and_then(|c| {
            c.due_at
                .map(|d| (c.name.clone(), when(d), status_name(c.status)))
        }),
        activity: span((now - case.updated_at).num_seconds()),
        needs_reply: false,
    }
}

/// Everything a report says, lowercased, for the queue's search: the
/// reference, title, product, reporter and the report's text.
fn haystack(case: &Case) -> String {
    let r = &case.report;
    [
        Some(case.reference.to_string()),
        Some(case.title.clone()),
        Some(case.product.clone()),
        case.reporter.contact.clone(),
        case.reporter.name.clone(),
        Some(r.summary.clone()),
        Some(r.description.clone()),
        r.steps_to_reproduce.clone(),
        r.impact.clone(),
        r.suggested_mitigation.clone(),
        r.affected_versions.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("\n")
    .to_lowercase()
}

/// The cases, filtered; views saved by name.
#[utoipa::path(get, path = "/desk/cases", tag = "desk", params(QueueQuery),
    responses((status = 200, description = "The case queue", body = String, content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in form")))]
pub async fn queue(
    State(state): State<AppState>,
    desk: Desk,
    Query(q): Query<QueueQuery>,
) -> PageResult {
    desk.require(Role::Viewer)?;
    let now = state.now();
    let parse_state = QueueQuery::blank(&q.state)
        .map(|s| {
            CaseState::ALL
                .iter()
                .copied()
                .find(|c| c.as_str() == s)
                .ok_or_else(|| {
                    PageError(ApiError::invalid("state", format!("state: no state `{s}`")))
                })
        })
        .transpose()?;
    let severity = QueueQuery::blank(&q.severity)
        .map(|s| {
            Severity::ALL
                .iter()
                .copied()
                .find(|c| c.as_str() == s)
                .ok_or_else(|| {
                    PageError(ApiError::invalid(
                        "severity",
                        format!("severity: no severity `{s}`"),
                    ))
                })
        })
        .transpose()?;
    let view = QueueQuery::blank(&q.view)
        .map(|v| {
            VIEWS
                .iter()
                .find(|(id, _)| *id == v)
                .map(|(id, _)| *id)
                .ok_or_else(|| {
                    PageError(ApiError::invalid(
                        "view",
                        format!(
                            "view: no view `{v}` (needs_reply, mine, waiting, breached, due_soon)"
                        ),
                    ))
                })
        })
        .transpose()?;
    let sort = match QueueQuery::blank(&q.sort) {
        None => "due",
        Some(s) => SORTS
            .iter()
            .find(|(id, _)| *id == s)
            .map(|(id, _)| *id)
            .ok_or_else(|| {
                PageError(ApiError::invalid(
                    "sort",
                    format!("sort: no order `{s}` (due, severity, age, activity)"),
                ))
            })?,
    };
    let page_number = crate::desk::page_number(q.page.as_deref())?;
    let me = desk.caller.user.username.clone();
    let assignee = match (QueueQuery::blank(&q.assignee), view) {
        (_, Some("mine")) | (Some("me"), _) => AssigneeFilter::Member(me),
        (None, _) => AssigneeFilter::Anyone,
        (Some("nobody"), _) => AssigneeFilter::Nobody,
        (Some(name), _) => AssigneeFilter::Member(name.to_owned()),
    };
    let filter = QueueFilter {
        cases: CaseFilter {
            open_only: QueueQuery::blank(&q.show) != Some("all") && parse_state.is_none(),
            state: parse_state,
            product: QueueQuery::blank(&q.product).map(str::to_owned),
            severity,
        },
        assignee,
        view: match view {
            Some("needs_reply") => Some(QueueView::NeedsReply),
            Some("waiting") => Some(QueueView::Waiting),
            Some("breached") => Some(QueueView::Breached),
            Some("due_soon") => Some(QueueView::DueSoon),
            _ => None,
        },
        sort: match sort {
            "severity" => QueueSort::Severity,
            "age" => QueueSort::Age,
            "activity" => QueueSort::Activity,
            _ => QueueSort::NextDue,
        },
        now,
        ..QueueFilter::default()
    };
    let words: Vec<String> = QueueQuery::blank(&q.q)
        .map(|w| {
            w.to_lowercase()
                .split_whitespace()
                .take(20)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    // The summaries answer filters, views, order and totals in the
    // database; only a search reads (and decrypts) cases beyond the page.
    crate::app::summaries::bring_up_to_date(&state, now).await?;
    let per_page = u64::from(PAGE);
    let (place, shown, window_full) = if words.is_empty() {
        let total = u64::try_from(state.store.queue_count(&filter).await?).unwrap_or(0);
        let place = PageOf::clamped(total, per_page, page_number);
        let shown = state
            .store
            .queue_cases(&filter, place.offset(), PAGE)
            .await?;
        (place, shown, false)
    } else {
        // The report text is encrypted at rest: the search reads the first
        // QUEUE_WINDOW cases of the filter, in its order, and matches their
        // decrypted text in memory; nothing is written in plaintext.
        let window = state
            .store
            .queue_cases(&filter, 0, QUEUE_WINDOW as u32)
            .await?;
        let window_full = window.len() >= QUEUE_WINDOW;
        let found: Vec<QueuedCase> = window
            .into_iter()
            .filter(|queued| {
                let text = haystack(&queued.case);
                words.iter().all(|w| text.contains(w.as_str()))
            })
            .collect();
        let place = PageOf::clamped(found.len() as u64, per_page, page_number);
        let shown = found
            .into_iter()
            .skip(usize::try_from(place.offset()).unwrap_or(usize::MAX))
            .take(PAGE as usize)
            .collect();
        (place, shown, window_full)
    };
    // The page's rows show each case's next clock by name: its history is
    // read for these cases only.
    let refs: Vec<embargo_core::CaseRef> = shown.iter().map(|c| c.case.reference).collect();
    let mut histories = state.store.histories(&refs).await?;
    let rows: Vec<CaseRow> = shown
        .iter()
        .map(|queued| {
            let case = &queued.case;
            let history = histories.remove(&case.reference).unwrap_or_default();
            let policy = state.settings.policies.for_product(&case.product);
            let clocks = clock::evaluate(policy, case, &history, now);
            let mut r = row(case, &clocks, now);
            r.needs_reply = queued.reply_owed;
            r
        })
        .collect();
    let base = q.to_query();
    let link = |n: u64| {
        let mut s = base.clone();
        if !s.is_empty() {
            s.push('&');
        }
        format!("/desk/cases?{s}page={n}")
    };
    let paging = place.paging(rows.len(), link);
    let users: Vec<String> = state
        .store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| !u.disabled)
        .map(|u| u.username)
        .collect();
    let views = state.store.saved_views(desk.caller.user.id).await?;
    let mut ctx = desk.context("Cases", "cases");
    ctx.insert("rows", Value::from_serialize(&rows));
    ctx.insert("filter", Value::from_serialize(&q));
    ctx.insert("query", Value::from(base));
    ctx.insert("paging", Value::from_serialize(&paging));
    // A search that read as many cases as it may says so.
    ctx.insert("search_window_full", Value::from(window_full));
    ctx.insert("search_window", Value::from(QUEUE_WINDOW));
    ctx.insert("views_offered", Value::from_serialize(VIEWS));
    ctx.insert("sorts", Value::from_serialize(SORTS));
    ctx.insert("sort", Value::from(sort));
    ctx.insert(
        "scope_rules",
        Value::from_serialize(
            state
                .settings
                .policies
                .primary()
                .scope_rules
                .iter()
                .map(|r| (r.id.as_str(), r.title.as_str()))
                .collect::<Vec<_>>(),
        ),
    );
    ctx.insert(
        "notice",
        Value::from(
            QueueQuery::blank(&q.done)
                .and_then(|n| n.parse::<usize>().ok())
                .map(|n| format!("Done for {n} case{}.", if n == 1 { "" } else { "s" })),
        ),
    );
    ctx.insert(
        "states",
        Value::from_serialize(
            CaseState::ALL
                .iter()
                .map(|s| (s.as_str(), s.describe()))
                .collect::<Vec<_>>(),
        ),
    );
    ctx.insert(
        "severities",
        Value::from_serialize(Severity::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
    );
    ctx.insert("users", Value::from_serialize(&users));
    ctx.insert("views", Value::from_serialize(&views));
    Ok(desk.page(StatusCode::OK, "cases.html", ctx))
}

/// Save the current filter under a name.
#[utoipa::path(post, path = "/desk/views", tag = "desk",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Saved; back to the queue with the view"),
        (status = 422, description = "A bad name", body = String, content_type = "text/html")))]
pub async fn save_view(State(state): State<AppState>, form: DeskForm) -> PageResult {
    let query = form.text("query").unwrap_or_default();
    // Only the queue's own parameters are kept.
    let parsed: QueueQuery = serde_urlencoded::from_str(&query).unwrap_or_default();
    let query = parsed.to_query();
    state
        .store
        .save_view(
            form.desk.caller.user.id,
            &form.text("name").unwrap_or_default(),
            &query,
            state.now(),
        )
        .await?;
    Ok(redirect(&format!("/desk/cases?{query}")))
}

/// Delete one of your saved views.
#[utoipa::path(post, path = "/desk/views/{id}/delete", tag = "desk",
    params(("id" = i64, Path, description = "The view's id")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Deleted; back to the queue")))]
pub async fn delete_view(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: DeskForm,
) -> PageResult {
    if let Ok(id) = id.parse::<i64>() {
        state
            .store
            .delete_view(form.desk.caller.user.id, id)
            .await?;
    }
    Ok(redirect("/desk/cases"))
}

// ------------------------------------------------------------ the case page

#[derive(Debug, Serialize)]
struct TimelineItem {
    at: String,
    actor: String,
    /// `message_to_reporter`, `note_added`, … (a CSS class too).
    kind: &'static str,
    text: String,
    /// The body of a message or note.
    body: Option<String>,
}

fn describe(event: &Event) -> TimelineItem {
    let (text, body) = match &event.kind {
        EventKind::CaseCreated { .. } => ("Reported".to_owned(), None),
        EventKind::StateChanged {
            to,
            reason,
            duplicate_of,
            release_version,
            patch_available_at,
            rule,
            ..
        } => {
            let mut t = format!("Moved to “{}”", to.describe());
            if let Some(d) = duplicate_of {
                t.push_str(&format!(" (duplicate of {d})"));
            }
            if let Some(v) = release_version {
                t.push_str(&format!(" in version {v}"));
            }
            if let Some(p) = patch_available_at {
                t.push_str(&format!("; patch available since {}", when(*p)));
            }
            if let Some(r) = rule {
                t.push_str(&format!(" citing rule {r}"));
            }
            (t, reason.clone())
        }
        EventKind::SeverityChanged { to, .. } => (format!("Severity set to {}", to.as_str()), None),
        EventKind::LevelAssessed { to, .. } => (format!("Severity level set to {to}"), None),
        EventKind::NoteAdded { text } => ("Internal note".to_owned(), Some(text.clone())),
        EventKind::MessageToReporter { text } => {
            ("Message to the reporter".to_owned(), Some(text.clone()))
        }
        EventKind::MessageFromReporter { text } => {
            ("Message from the reporter".to_owned(), Some(text.clone()))
        }
        EventKind::AttachmentAdded { attachment } => {
            (format!("File attached: {}", attachment.filename), None)
        }
        EventKind::CreditPreferenceChanged { credit } => (
            match credit {
                Some(c) => format!("The reporter wants to be credited as “{c}”"),
                None => "The reporter does not want to be credited".to_owned(),
            },
            None,
        ),
        EventKind::ExposureChanged { to, .. } => (format!("Exposure set to {}", to.as_str()), None),
        EventKind::ReporterDeadlineSet { deadline } => (
            match deadline {
                Some(d) => format!("The reporter's disclosure date: {}", when(*d)),
                None => "The reporter's disclosure date was cleared".to_owned(),
            },
            None,
        ),
        EventKind::CustomersNotified { note } => {
            ("Impacted customers notified".to_owned(), note.clone())
        }
        EventKind::Assigned { to, .. } => (
            match to {
                Some(u) => format!("Assigned to {u}"),
                None => "Unassigned".to_owned(),
            },
            None,
        ),
        EventKind::ClockWarning { clock, due } => (
            format!("Clock “{clock}” is due soon ({})", when(*due)),
            None,
        ),
        EventKind::ClockBreached { clock, due } => (
            format!("Clock “{clock}” was breached (due {})", when(*due)),
            None,
        ),
        EventKind::ClockEnded {
            clock,
            outcome,
            late_seconds,
            cause,
            ..
        } => {
            let how = match outcome {
                ClockOutcome::Met => "met".to_owned(),
                ClockOutcome::MetLate => {
                    format!("met {} late", span(late_seconds.unwrap_or_default()))
                }
                ClockOutcome::Breached => "breached".to_owned(),
                ClockOutcome::Cancelled => "cancelled".to_owned(),
            };
            let mut t = format!("Clock “{clock}” ended: {how}");
            if let Some(c) = cause {
                t.push_str(&format!(" ({c})"));
            }
            (t, None)
        }
        EventKind::PatchAvailabilityRecorded {
            available_at,
            source,
            link,
            reason,
        } => {
            let mut t = format!("Patch available since {} ({source})", when(*available_at));
            if let Some(l) = link {
                t.push_str(&format!(", {l}"));
            }
            (t, reason.clone())
        }
        EventKind::ScopeRuleOverridden { rule, reason } => (
            format!("Kept in scope despite scope rule {rule}"),
            Some(reason.clone()),
        ),
        EventKind::AdvisoryDrafted { advisory } => (format!("Advisory {advisory} drafted"), None),
        EventKind::AdvisoryPublished { advisory, revision } => (
            format!("Advisory {advisory} published (revision {revision})"),
            None,
        ),
        EventKind::ExploitationClaimed { text } => {
            ("Active exploitation claimed".to_owned(), Some(text.clone()))
        }
        EventKind::ExploitationConfirmed {
            source,
            text,
            link,
            aware_at,
            evidence_file,
        } => {
            let mut t = format!(
                "Actively exploited, confirmed from {}; aware since {}",
                source.describe(),
                when(*aware_at)
            );
            if let Some(l) = link {
                t.push_str(&format!(" ({l})"));
            }
            if let Some(f) = evidence_file {
                t.push_str(&format!("; evidence file {f}"));
            }
            (t, Some(text.clone()))
        }
        EventKind::ExploitationRejected { reason } => (
            "Active exploitation rejected".to_owned(),
            Some(reason.clone()),
        ),
        EventKind::IncidentDeclared { text, aware_at } => (
            format!("Severe incident declared; aware since {}", when(*aware_at)),
            Some(text.clone()),
        ),
        EventKind::AwarenessCorrected {
            aware_at, reason, ..
        } => (
            format!("Awareness corrected to {}", when(*aware_at)),
            Some(reason.clone()),
        ),
        EventKind::CorrectiveMeasureRecorded {
            available_at,
            text,
            link,
        } => {
            let mut t = format!("Corrective measure available since {}", when(*available_at));
            if let Some(l) = link {
                t.push_str(&format!(" ({l})"));
            }
            (t, Some(text.clone()))
        }
        EventKind::CraReportSaved { stage, .. } => {
            (format!("CRA {} edited", stage.title().to_lowercase()), None)
        }
        EventKind::CraReportSubmitted {
            stage,
            submitted_at,
            platform_reference,
            ..
        } => {
            let mut t = format!(
                "CRA {} submitted at {}",
                stage.title().to_lowercase(),
                when(*submitted_at)
            );
            if let Some(r) = platform_reference {
                t.push_str(&format!(" (platform reference {r})"));
            }
            (t, None)
        }
    };
    TimelineItem {
        at: when(event.at),
        actor: event.actor.clone(),
        kind: event.kind.name(),
        text,
        body,
    }
}

/// The workflow moves a form can make, in the order shown, with their labels.
const WORKFLOW: &[(&str, &str)] = &[
    ("acknowledge", "Acknowledge receipt"),
    ("start_triage", "Start triage"),
    ("request_information", "Ask the reporter for information"),
    ("information_received", "The reporter answered"),
    ("accept", "Accept as a vulnerability"),
    ("start_fix", "Start the fix"),
    ("fix_available", "A fix is available"),
    ("release", "The fix is released"),
    ("disclose", "Disclosed"),
    ("close", "Close"),
    ("not_a_vulnerability", "Not a vulnerability"),
    ("out_of_scope", "Out of scope"),
    ("duplicate", "Duplicate"),
    ("spam", "Spam"),
    ("reopen", "Reopen"),
];

#[derive(Debug, Serialize)]
struct ClockRow {
    name: String,
    promise: String,
    status: &'static str,
    due: Option<String>,
    /// "in 3 h 10 min" or "5 h 2 min late".
    left: Option<String>,
    public: bool,
}

#[derive(Debug, Serialize)]
struct MetricView {
    key: &'static str,
    label: &'static str,
    options: Vec<(&'static str, &'static str)>,
}

/// A view of the case's advisory draft for the form.
#[derive(Debug, Default, Serialize)]
struct AdvisoryForm {
    exists: bool,
    published: bool,
    id: String,
    title: String,
    summary: String,
    description: String,
    product: String,
    vendor: String,
    introduced: String,
    fixed: String,
    workarounds: String,
    cvss: String,
    cwe: String,
    cve: String,
    references: String,
    problems: Vec<String>,
    revisions: usize,
    /// Why it cannot be published yet (the form is then not offered).
    not_publishable: Option<String>,
}

pub(crate) struct Flash {
    pub status: StatusCode,
    pub notice: Option<String>,
    pub error: Option<String>,
}

impl Flash {
    fn ok() -> Self {
        Flash {
            status: StatusCode::OK,
            notice: None,
            error: None,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// The action just done (shown as a confirmation).
    pub done: Option<String>,
}

/// One case and everything the team does with it.
#[utoipa::path(get, path = "/desk/cases/{reference}", tag = "desk", params(
        ("reference" = String, Path, description = "The case reference"), CaseQuery),
    responses((status = 200, description = "The case page", body = String, content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in form"),
        (status = 404, description = "No such case", body = String, content_type = "text/html")))]
pub async fn case_page(
    State(state): State<AppState>,
    desk: Desk,
    Path(raw): Path<String>,
    Query(q): Query<CaseQuery>,
) -> PageResult {
    desk.require(Role::Viewer)?;
    let mut flash = Flash::ok();
    flash.notice = q.done.as_deref().and_then(|d| {
        let label = match d {
            "cvss" => "Severity set from the CVSS vector",
            "advisory" => "Advisory draft saved",
            "published" => "Advisory published",
            "add_note" => "Note added",
            "message_reporter" => "Message sent to the reporter",
            "assign" => "Assignment changed",
            "set_severity" => "Severity set",
            "set_exposure" => "Exposure set",
            "set_reporter_deadline" => "Disclosure date recorded",
            "record_customer_notice" => "Customer notice recorded",
            "mark_exploited" => "Active exploitation confirmed; Article 14's clocks run",
            "claim_exploited" => "Claim of exploitation recorded",
            "reject_exploitation" => "Claim of exploitation rejected",
            "declare_incident" => "Severe incident declared; Article 14's clocks run",
            "correct_awareness" => "Awareness corrected",
            "record_corrective_measure" => "Corrective measure recorded",
            "notices" => "Notices queued for the impacted customers",
            "no_notices" => {
                "Every impacted customer had their notice already; nothing new was sent"
            }
            other => WORKFLOW
                .iter()
                .find(|(a, _)| *a == other)
                .map(|(_, l)| *l)?,
        };
        Some(format!("Done: {label}."))
    });
    render_case(&state, &desk, &raw, flash).await
}

pub(crate) async fn render_case(
    state: &AppState,
    desk: &Desk,
    raw: &str,
    flash: Flash,
) -> PageResult {
    let r = reference(raw)?;
    let case = state.store.case(r).await?;
    let history = state.store.history(r).await?;
    let now = state.now();
    let policy = state.settings.policies.for_product(&case.product);
    let reports = clock::evaluate(policy, &case, &history, now);
    let clocks: Vec<ClockRow> = reports
        .iter()
        .cloned()
        .map(|c| {
            let left = c.due_at.and_then(|d| match c.status {
                ClockStatus::Running | ClockStatus::Warning => {
                    Some(format!("{} left", span((d - now).num_seconds())))
                }
                ClockStatus::Breached | ClockStatus::MetLate => {
                    c.overdue_seconds.map(|o| format!("{} late", span(o)))
                }
                _ => None,
            });
            let left = match (&c.cause, left) {
                (Some(cause), Some(l)) => Some(format!("{l}: {cause}")),
                (Some(cause), None) => Some(cause.clone()),
                (None, l) => l,
            };
            ClockRow {
                name: c.name,
                promise: c.promise,
                status: status_name(c.status),
                due: c.due_at.map(when),
                left,
                public: c.public,
            }
        })
        .collect();
    let timeline: Vec<TimelineItem> = history.iter().map(describe).collect();
    let thread: Vec<&TimelineItem> = timeline
        .iter()
        .filter(|t| matches!(t.kind, "message_to_reporter" | "message_from_reporter"))
        .collect();
    let notes: Vec<&TimelineItem> = timeline.iter().filter(|t| t.kind == "note_added").collect();
    let allowed = case.allowed_actions();
    let workflow: Vec<(&str, &str)> = WORKFLOW
        .iter()
        .filter(|(a, _)| allowed.contains(a))
        .copied()
        .collect();
    let aid = triage_for(state, &case).await?;
    let users: Vec<String> = state
        .store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| !u.disabled)
        .map(|u| u.username)
        .collect();
    let advisory = advisory_form(state, &case).await?;
    let messages = crate::desk::deliveries::rows(
        state
            .store
            .deliveries(Some(&r.to_string()), None, 200)
            .await?,
    );
    let impacted = if advisory.exists {
        crate::app::notices::impacted(state, r)
            .await
            .map(|(_, _, list)| list)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let metrics: Vec<MetricView> = METRICS
        .iter()
        .map(|(key, label, options)| MetricView {
            key,
            label,
            options: options.to_vec(),
        })
        .collect();
    let cwes: Vec<(String, &str)> = cwe::TABLE
        .iter()
        .map(|(n, name)| (format!("CWE-{n}"), *name))
        .collect();
    let rules: Vec<(&str, &str)> = policy
        .scope_rules
        .iter()
        .map(|r| (r.id.as_str(), r.title.as_str()))
        .collect();
    let mut ctx = desk.context(&format!("{} {}", case.reference, case.title), "cases");
    ctx.insert("case", Value::from_serialize(&case));
    ctx.insert("state_text", Value::from(case.state.describe()));
    ctx.insert("created", Value::from(when(case.created_at)));
    ctx.insert(
        "next_clock",
        Value::from_serialize(next_due(&reports).and_then(|c| {
            c.due_at
                .map(|d| (c.name.clone(), when(d), status_name(c.status)))
        })),
    );
    ctx.insert(
        "patch_since",
        Value::from(case.patch_available_at.map(when)),
    );
    ctx.insert("policy", Value::from(policy.id.clone()));
    ctx.insert("clocks", Value::from_serialize(&clocks));
    ctx.insert("timeline", Value::from_serialize(&timeline));
    ctx.insert("thread", Value::from_serialize(&thread));
    ctx.insert("notes", Value::from_serialize(&notes));
    ctx.insert("workflow", Value::from_serialize(&workflow));
    ctx.insert("allowed", Value::from_serialize(&allowed));
    ctx.insert("aid", Value::from_serialize(&aid));
    ctx.insert("users", Value::from_serialize(&users));
    ctx.insert("advisory", Value::from_serialize(&advisory));
    ctx.insert("rows", Value::from_serialize(&messages));
    ctx.insert("impacted", Value::from_serialize(&impacted));
    ctx.insert("metrics", Value::from_serialize(&metrics));
    ctx.insert("cwes", Value::from_serialize(&cwes));
    ctx.insert("rules", Value::from_serialize(&rules));
    ctx.insert("levels", Value::from_serialize(&policy.severity));
    ctx.insert(
        "severities",
        Value::from_serialize(Severity::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
    );
    let stages: Vec<Value> = if policy.cra.is_some()
        && case
            .cra
            .as_ref()
            .is_some_and(embargo_core::cra::CraStatus::is_confirmed)
    {
        crate::app::cra::stage_rows(&case, &reports, now)
            .into_iter()
            .map(|s| {
                Value::from_serialize(json!({
                    "stage": s.stage, "title": s.title, "status": s.status,
                    "due": s.due.map(when), "left": s.left,
                    "submitted": s.submitted_at.map(when),
                }))
            })
            .collect()
    } else {
        Vec::new()
    };
    ctx.insert("cra_stages", Value::from(stages));
    ctx.insert("zone", Value::from(policy.time_zone.clone()));
    let signals: Vec<Value> = crate::app::cra::signals(state, r)
        .await?
        .into_iter()
        .map(|s| {
            let mut words = Vec::new();
            if let Some(k) = &s.kev {
                let mut w = format!("in CISA's KEV since {}", k.date_added);
                if k.ransomware {
                    w.push_str(", used in ransomware campaigns");
                }
                words.push(w);
            } else if s.known_exploited {
                words.push("known exploited".to_owned());
            }
            if let Some(e) = s.epss {
                words.push(match s.epss_percentile {
                    Some(p) => format!("EPSS {:.1}% (percentile {:.0})", e * 100.0, p * 100.0),
                    None => format!("EPSS {:.1}%", e * 100.0),
                });
            }
            Value::from_serialize(json!({
                "advisory": s.advisory, "component": s.component,
                "kev": s.known_exploited, "words": words.join("; "),
            }))
        })
        .collect();
    ctx.insert("signals", Value::from(signals));
    ctx.insert(
        "cra_aware",
        Value::from(case.cra.as_ref().and_then(|c| c.aware_at).map(when)),
    );
    ctx.insert(
        "cra_measure",
        Value::from(
            case.cra
                .as_ref()
                .and_then(|c| c.measure_available_at)
                .map(when),
        ),
    );
    ctx.insert("notice", Value::from(flash.notice));
    ctx.insert("error", Value::from(flash.error));
    Ok(desk.page(flash.status, "case.html", ctx))
}

/// Why `case`'s advisory cannot be published at `now`, the rule
/// `Advisory::publish` enforces, in words for the case page.
fn not_publishable(case: &Case, now: embargo_core::Instant) -> Option<String> {
    if case.is_fixed() || case.reporter_deadline.is_some_and(|d| d <= now) {
        return None;
    }
    let mut why = format!(
        "The advisory can be published once a fix is available; the case is “{}”.",
        case.state.describe()
    );
    if let Some(d) = case.reporter_deadline {
        why.push_str(&format!(
            " The reporter's disclosure date, {}, also allows it.",
            when(d)
        ));
    }
    Some(why)
}

async fn advisory_form(state: &AppState, case: &Case) -> Result<AdvisoryForm, PageError> {
    let organization = state.settings.policies.primary().organization.name.clone();
    let Some(a) = state.store.advisory_draft(case.reference).await? else {
        return Ok(AdvisoryForm {
            id: case.reference.to_string(),
            title: case.title.clone(),
            summary: case.report.summary.clone(),
            product: case.product.clone(),
            vendor: organization,
            ..AdvisoryForm::default()
        });
    };
    let view = crate::app::advisories::view(state, &a);
    let first = a.affected.first();
    let range = first.and_then(|p| p.ranges.first());
    Ok(AdvisoryForm {
        exists: true,
        published: a.published.is_some(),
        id: a.id.clone(),
        title: a.title.clone(),
        summary: a.summary.clone(),
        description: a.description.clone(),
        product: first.map(|p| p.product.clone()).unwrap_or_default(),
        vendor: first.map_or(organization, |p| p.vendor.clone()),
        introduced: range.and_then(|r| r.introduced.clone()).unwrap_or_default(),
        fixed: range.and_then(|r| r.fixed.clone()).unwrap_or_default(),
        workarounds: a.workarounds.join("\n"),
        cvss: a.cvss.clone().unwrap_or_default(),
        cwe: a.cwe.clone().unwrap_or_default(),
        cve: a.cve.clone().unwrap_or_default(),
        references: a
            .references
            .iter()
            .map(|r| r.url.clone())
            .collect::<Vec<_>>()
            .join("\n"),
        problems: view.csaf_problems,
        revisions: a.revisions.len(),
        not_publishable: not_publishable(case, state.now()),
    })
}

/// Where a case form leads: on success back to the case, `done` (a query
/// and anchor such as `done=cvss#cvss`) saying what was done; on failure
/// the case page again with what went wrong, at the error's status.
async fn back_to_case(
    state: &AppState,
    desk: &Desk,
    raw: &str,
    outcome: Result<String, ApiError>,
) -> PageResult {
    match outcome {
        Ok(done) => Ok(redirect(&format!("/desk/cases/{}?{done}", reference(raw)?))),
        Err(e) => {
            let flash = Flash {
                status: e.status,
                notice: None,
                error: Some(e.message),
            };
            render_case(state, desk, raw, flash).await
        }
    }
}

/// A `datetime-local` field (`YYYY-MM-DDTHH:MM`) read in the calendar's
/// time zone, as RFC 3339; `None` when blank.
fn moment_field(
    form: &DeskForm,
    name: &str,
    calendar: &embargo_core::calendar::BusinessCalendar,
) -> Result<Option<String>, ApiError> {
    match form.text(name) {
        None => Ok(None),
        Some(v) => chrono::NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M")
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M:%S"))
            .map(|t| Some(calendar.instant(t).to_rfc3339()))
            .map_err(|_| {
                ApiError::invalid(
                    name,
                    format!("{name}: `{v}` is not a date and time such as 2026-10-24T23:00"),
                )
            }),
    }
}

fn date_field(form: &DeskForm, name: &str) -> Result<Option<String>, ApiError> {
    Ok(crate::desk::day_field(form, name)?.map(|t| t.to_rfc3339()))
}

/// The command a posted action form asks for; errors name the field.
fn command_from(
    form: &DeskForm,
    calendar: &embargo_core::calendar::BusinessCalendar,
) -> Result<Command, ApiError> {
    let action = form.text("action").unwrap_or_default();
    let mut body = json!({ "action": action });
    let put = |body: &mut serde_json::Value, k: &str, v: Option<String>| {
        if let Some(v) = v {
            body[k] = json!(v);
        }
    };
    match action.as_str() {
        "fix_available" => put(
            &mut body,
            "patch_available_at",
            date_field(form, "patch_available_at")?,
        ),
        "release" => put(&mut body, "version", form.text("version")),
        "not_a_vulnerability" | "out_of_scope" => {
            body["reason"] = json!(form.text("reason").unwrap_or_default());
            put(&mut body, "rule", form.text("rule"));
        }
        "duplicate" => put(&mut body, "of", form.text("of")),
        "reopen" => put(&mut body, "reason", form.text("reason")),
        "set_severity" => put(&mut body, "severity", form.text("severity")),
        "set_level" => body["level"] = json!(form.text("level").unwrap_or_default()),
        "add_note" | "message_reporter" => {
            body["text"] = json!(form.values.get("text").cloned().unwrap_or_default());
        }
        "set_exposure" => put(&mut body, "exposure", form.text("exposure")),
        "set_reporter_deadline" => put(&mut body, "deadline", date_field(form, "deadline")?),
        "record_customer_notice" => put(&mut body, "note", form.text("note")),
        "record_patch" => {
            put(&mut body, "available_at", date_field(form, "available_at")?);
            put(&mut body, "source", form.text("source"));
            put(&mut body, "link", form.text("link"));
            put(&mut body, "reason", form.text("reason"));
        }
        "override_scope_rule" => {
            body["rule"] = json!(form.text("rule").unwrap_or_default());
            body["reason"] = json!(form.text("reason").unwrap_or_default());
        }
        "assign" => put(&mut body, "to", form.text("to").filter(|to| to != "nobody")),
        "mark_exploited" => {
            put(&mut body, "source", form.text("source"));
            body["evidence"] = json!(form.text("evidence").unwrap_or_default());
            put(&mut body, "link", form.text("link"));
            put(
                &mut body,
                "aware_at",
                moment_field(form, "aware_at", calendar)?,
            );
        }
        "claim_exploited" => body["evidence"] = json!(form.text("evidence").unwrap_or_default()),
        "reject_exploitation" => body["reason"] = json!(form.text("reason").unwrap_or_default()),
        "declare_incident" => {
            body["description"] = json!(form.text("description").unwrap_or_default());
            put(
                &mut body,
                "aware_at",
                moment_field(form, "aware_at", calendar)?,
            );
        }
        "correct_awareness" => {
            put(
                &mut body,
                "aware_at",
                moment_field(form, "aware_at", calendar)?,
            );
            body["reason"] = json!(form.text("reason").unwrap_or_default());
        }
        "record_corrective_measure" => {
            put(
                &mut body,
                "available_at",
                moment_field(form, "available_at", calendar)?,
            );
            body["description"] = json!(form.text("description").unwrap_or_default());
            put(&mut body, "link", form.text("link"));
        }
        _ => {}
    }
    serde_json::from_value(body).map_err(|e| {
        let message = e.to_string();
        let field = if message.contains("unknown variant") {
            "action"
        } else {
            "form"
        };
        ApiError::invalid(field, format!("{field}: {message}"))
    })
}

/// Act on a case: a workflow move, a note, a message to the reporter, an
/// assignment, a severity, exposure or disclosure date, a customer notice.
#[utoipa::path(post, path = "/desk/cases/{reference}/act", tag = "desk",
    params(("reference" = String, Path, description = "The case reference")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Done; back to the case"),
        (status = 403, description = "Not allowed (role or CSRF)", body = String, content_type = "text/html"),
        (status = 409, description = "The workflow does not allow this now: the case page says why", body = String, content_type = "text/html"),
        (status = 422, description = "A field is wrong: the case page says which", body = String, content_type = "text/html")))]
pub async fn act(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    form: DeskForm,
) -> PageResult {
    form.desk.require(Role::Responder)?;
    let _r = reference(&raw)?;
    let outcome = async {
        // Date-times on the case's forms are in its policy's time zone.
        let case = state.store.case(reference(&raw)?).await?;
        let calendar = &state.settings.policies.for_product(&case.product).calendar;
        let command = command_from(&form, calendar)?;
        let action = command.action();
        move_case(&state, &form.desk.caller, &raw, command).await?;
        Ok::<&'static str, ApiError>(action)
    }
    .await;
    let outcome = outcome.map(|action| format!("done={action}"));
    back_to_case(&state, &form.desk, &raw, outcome).await
}

/// Score a CVSS vector (chosen metric by metric, or pasted) and set the
/// case's severity from it.
#[utoipa::path(post, path = "/desk/cases/{reference}/cvss", tag = "desk",
    params(("reference" = String, Path, description = "The case reference")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Severity set; back to the case"),
        (status = 422, description = "Not a valid vector: the case page says why", body = String, content_type = "text/html")))]
pub async fn set_cvss(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    form: DeskForm,
) -> PageResult {
    form.desk.require(Role::Responder)?;
    let r = reference(&raw)?;
    let vector = form.text("vector").or_else(|| {
        let chosen: Vec<Option<String>> =
            METRICS.iter().map(|(key, _, _)| form.text(key)).collect();
        let chosen: Vec<Option<&str>> = chosen.iter().map(Option::as_deref).collect();
        vector_from_metrics(&chosen)
    });
    let outcome = async {
        let vector = vector.ok_or_else(|| {
            ApiError::invalid(
                "vector",
                "vector: choose every metric or paste a whole vector",
            )
        })?;
        let score = embargo_core::cvss::assess(&vector)?;
        crate::app::cases::move_case(
            &state,
            &form.desk.caller,
            &r.to_string(),
            Command::SetSeverity {
                severity: score.severity,
            },
        )
        .await?;
        Ok::<(), ApiError>(())
    }
    .await;
    let outcome = outcome.map(|()| "done=cvss".to_owned());
    back_to_case(&state, &form.desk, &raw, outcome).await
}

fn lines(text: Option<String>) -> Vec<String> {
    text.unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Save the case's advisory draft from the form.
#[utoipa::path(post, path = "/desk/cases/{reference}/advisory", tag = "desk",
    params(("reference" = String, Path, description = "The case reference")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Saved; back to the case"),
        (status = 422, description = "A field is wrong: the case page says which", body = String, content_type = "text/html")))]
pub async fn save_advisory(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    form: DeskForm,
) -> PageResult {
    form.desk.require(Role::Responder)?;
    let r = reference(&raw)?;
    let draft = DraftRequest {
        id: form.text("id").unwrap_or_else(|| r.to_string()),
        title: form.text("title").unwrap_or_default(),
        summary: form.text("summary").unwrap_or_default(),
        description: form.text("description").unwrap_or_default(),
        affected: vec![AffectedInput {
            vendor: form.text("vendor").unwrap_or_default(),
            product: form.text("product").unwrap_or_default(),
            purl: None,
            ranges: vec![RangeInput {
                introduced: form.text("introduced"),
                fixed: form.text("fixed"),
                last_affected: None,
            }],
        }],
        workarounds: lines(form.text("workarounds")),
        cvss: form.text("cvss"),
        cwe: form.text("cwe"),
        cve: form.text("cve"),
        references: lines(form.text("references"))
            .into_iter()
            .map(|url| ReferenceInput {
                url,
                summary: String::new(),
            })
            .collect(),
        credits: Vec::<CreditInput>::new(),
        language: None,
    };
    let outcome = save_draft_as(&state, &form.desk.caller, r, draft)
        .await
        .map(|_| "done=advisory#advisory".to_owned());
    back_to_case(&state, &form.desk, &raw, outcome).await
}

/// Publish the case's advisory: only once the case is fixed or its
/// disclosure date has come.
#[utoipa::path(post, path = "/desk/cases/{reference}/advisory/publish", tag = "desk",
    params(("reference" = String, Path, description = "The case reference")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Published; back to the case"),
        (status = 422, description = "Not publishable yet: the case page says why", body = String, content_type = "text/html")))]
pub async fn publish_advisory(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    form: DeskForm,
) -> PageResult {
    form.desk.require(Role::Responder)?;
    let r = reference(&raw)?;
    let outcome = crate::app::advisories::publish(
        &state,
        &form.desk.caller,
        r,
        &form.text("summary").unwrap_or_default(),
        form.values
            .get("credit_reporter")
            .is_some_and(|v| v == "yes"),
    )
    .await
    .map(|_| "done=published#advisory".to_owned());
    back_to_case(&state, &form.desk, &raw, outcome).await
}

/// Tell the customers who run releases the case's advisory covers.
#[utoipa::path(post, path = "/desk/cases/{reference}/notices", tag = "desk",
    params(("reference" = String, Path, description = "The case reference")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Queued; back to the case"),
        (status = 422, description = "No advisory yet: the case page says why", body = String, content_type = "text/html")))]
pub async fn notify_customers(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    form: DeskForm,
) -> PageResult {
    form.desk.require(Role::Responder)?;
    let r = reference(&raw)?;
    let outcome = crate::app::notices::send(&state, &form.desk.caller, r)
        .await
        .map(|sent| {
            let done = if sent.notices.iter().any(|n| n.queued) {
                "notices"
            } else {
                "no_notices"
            };
            format!("done={done}#customers")
        });
    back_to_case(&state, &form.desk, &raw, outcome).await
}

/// At most this many cases in one bulk action.
const BULK_MAX: usize = 500;

/// One action on every case ticked in the queue: acknowledge, assign, or
/// close as spam, a duplicate, or out of scope (citing a scope rule). Each
/// case gets its own event, as if acted on alone; a case the workflow does
/// not allow it for is named, and the others still change.
#[utoipa::path(post, path = "/desk/cases/bulk", tag = "desk",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Done for every case; back to the queue"),
        (status = 403, description = "Not allowed (role or CSRF)", body = String, content_type = "text/html"),
        (status = 409, description = "Done for some; the page names the others and why", body = String, content_type = "text/html"),
        (status = 422, description = "No case ticked, an unknown action, or a field it needs is missing", body = String, content_type = "text/html")))]
pub async fn bulk(State(state): State<AppState>, form: DeskForm) -> PageResult {
    form.desk.require(Role::Responder)?;
    let mut chosen: Vec<String> = form
        .values
        .iter()
        .filter(|(_, v)| v.as_str() == "on")
        .filter_map(|(k, _)| k.strip_prefix("case-"))
        .map(str::to_owned)
        .collect();
    chosen.sort();
    if chosen.is_empty() {
        return Err(PageError(ApiError::invalid(
            "case",
            "Tick at least one case for the action.",
        )));
    }
    if chosen.len() > BULK_MAX {
        return Err(PageError(ApiError::invalid(
            "case",
            format!("At most {BULK_MAX} cases at once."),
        )));
    }
    let action = form.text("action").unwrap_or_default();
    let command = match action.as_str() {
        "acknowledge" => Command::Acknowledge {},
        "assign" => Command::Assign {
            to: form.text("assignee").filter(|a| a != "nobody"),
        },
        "spam" => Command::Spam {},
        "duplicate" => {
            let of = form.text("duplicate_of").ok_or_else(|| {
                PageError(ApiError::invalid(
                    "duplicate_of",
                    "duplicate_of: name the case they duplicate (EMB-YYYY-NNNN)",
                ))
            })?;
            Command::Duplicate {
                of: reference(&of)?,
            }
        }
        "out_of_scope" => {
            let rule = form.text("rule");
            if rule.is_none() {
                return Err(PageError(ApiError::invalid(
                    "rule",
                    "rule: choose the scope rule the reporters will read",
                )));
            }
            Command::OutOfScope {
                reason: form.text("reason").unwrap_or_default(),
                rule,
            }
        }
        other => {
            return Err(PageError(ApiError::invalid(
                "action",
                format!(
                    "action: `{other}` is not acknowledge, assign, spam, duplicate or out_of_scope"
                ),
            )));
        }
    };
    let mut done = 0;
    let mut refused = Vec::new();
    for raw in &chosen {
        match move_case(&state, &form.desk.caller, raw, command.clone()).await {
            Ok(_) => done += 1,
            Err(e) => refused.push(format!("{raw}: {}", e.message)),
        }
    }
    let query = form.text("query").unwrap_or_default();
    let parsed: QueueQuery = serde_urlencoded::from_str(&query).unwrap_or_default();
    let mut back = parsed.to_query();
    if !back.is_empty() {
        back.push('&');
    }
    if refused.is_empty() {
        return Ok(redirect(&format!("/desk/cases?{back}done={done}")));
    }
    let mut ctx = form.desk.context("Bulk action", "cases");
    ctx.insert(
        "heading",
        Value::from(format!("Done for {done} of {} cases", chosen.len())),
    );
    ctx.insert(
        "error",
        Value::from("The workflow did not allow it for these cases:".to_owned()),
    );
    ctx.insert("items", Value::from_serialize(&refused));
    ctx.insert(
        "back",
        Value::from(format!("/desk/cases?{back}done={done}")),
    );
    Ok(form
        .desk
        .page(StatusCode::CONFLICT, "bulk_result.html", ctx))
}
