//! The dashboard: what needs action now. Breached and soon-due clocks, new
//! reports, unassigned cases, findings past their deadline and customer
//! notices still owed, each linking to where it is acted on.

use axum::extract::State;
use axum::http::StatusCode;
use embargo_core::auth::Role;
use embargo_core::clock::{ClockReport, ClockStatus};
use embargo_core::policy::Trigger;
use embargo_core::portfolio::DeadlineStatus;
use embargo_core::{Case, CaseState, Instant, Severity};
use embargo_store::{CaseFilter, FindingFilter, FindingSort};
use minijinja::Value;
use serde::Serialize;

use crate::desk::cases::{CaseRow, row};
use crate::desk::{Desk, PageError, PageResult, span, when};
use crate::state::AppState;

/// How many open cases the dashboard and the charts look at (newest first).
pub(crate) const CASE_WINDOW: usize = 2000;
/// How many rows each of the dashboard's lists shows; the full list is a
/// link away.
const LIST_CAP: usize = 10;

/// The open cases, newest first, up to [`CASE_WINDOW`].
pub(crate) async fn cases(state: &AppState, open_only: bool) -> Result<Vec<Case>, PageError> {
    let filter = CaseFilter {
        open_only,
        ..CaseFilter::default()
    };
    let mut out = crate::app::cases::recent_cases(state, &filter, CASE_WINDOW).await?;
    out.truncate(CASE_WINDOW);
    Ok(out)
}

/// A case in the "Actively exploited" lane: Article 14's stages.
#[derive(Debug, Serialize)]
struct ExploitedRow {
    reference: String,
    title: String,
    subject: &'static str,
    aware: Option<String>,
    stages: Vec<StageItem>,
}

#[derive(Debug, Serialize)]
struct StageItem {
    stage: &'static str,
    title: &'static str,
    status: &'static str,
    due: Option<String>,
    left: Option<String>,
    submitted: Option<String>,
}

#[derive(Debug, Serialize)]
struct ClockItem {
    reference: String,
    title: String,
    clock: String,
    due: String,
    /// "in 5 h 3 min" or "2 d 1 h late".
    left: String,
    status: &'static str,
    #[serde(skip)]
    due_at: Instant,
}

#[derive(Debug, Serialize)]
struct FindingItem {
    product: String,
    release: String,
    component: String,
    advisory: String,
    severity: Option<&'static str>,
    due: String,
    left: String,
    status: &'static str,
}

/// Each list's whole length (the page shows at most [`LIST_CAP`] rows).
#[derive(Debug, Clone, Copy, Serialize)]
struct Totals {
    breached: usize,
    due_soon: usize,
    notices: usize,
    new_reports: usize,
    findings: usize,
}

fn running(c: &ClockReport) -> bool {
    matches!(
        c.status,
        ClockStatus::Running | ClockStatus::Warning | ClockStatus::Breached
    ) && c.stopped_at.is_none()
}

fn left(due: Instant, now: Instant) -> String {
    let s = (due - now).num_seconds();
    if s >= 0 {
        format!("in {}", span(s))
    } else {
        format!("{} late", span(s))
    }
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// What the setup checklist just did (`test_sent`, `backups`).
    pub setup: Option<String>,
}

/// What needs action now.
#[utoipa::path(get, path = "/desk", tag = "desk", params(DashboardQuery),
    responses((status = 200, description = "The dashboard", body = String, content_type = "text/html"),
        (status = 303, description = "Not signed in: to the sign-in form")))]
pub async fn dashboard(
    State(state): State<AppState>,
    desk: Desk,
    axum::extract::Query(q): axum::extract::Query<DashboardQuery>,
) -> PageResult {
    desk.require(Role::Viewer)?;
    let now = state.now();
    let open = cases(&state, true).await?;
    let mut breached = Vec::new();
    let mut due_soon = Vec::new();
    let mut notices = Vec::new();
    let mut new_reports: Vec<CaseRow> = Vec::new();
    let mut unassigned: Vec<CaseRow> = Vec::new();
    let mut unassigned_count = 0;
    let mut unassessed: Vec<CaseRow> = Vec::new();
    let mut unassessed_count = 0;
    let mut exploited: Vec<ExploitedRow> = Vec::new();
    let refs: Vec<embargo_core::CaseRef> = open.iter().map(|c| c.reference).collect();
    let mut histories = state.store.histories(&refs).await?;
    for case in &open {
        let history = histories.remove(&case.reference).unwrap_or_default();
        let policy = state.settings.policies.for_product(&case.product);
        let clocks = embargo_core::clock::evaluate(policy, case, &history, now);
        if let Some(cra) = case.cra.as_ref().filter(|c| c.is_confirmed()) {
            exploited.push(ExploitedRow {
                reference: case.reference.to_string(),
                title: case.title.clone(),
                subject: match cra.subject {
                    embargo_core::cra::CraSubject::Vulnerability => {
                        "actively exploited vulnerability"
                    }
                    embargo_core::cra::CraSubject::Incident => "severe incident",
                },
                aware: cra.aware_at.map(when),
                stages: crate::app::cra::stage_rows(case, &clocks, now)
                    .into_iter()
                    .map(|s| StageItem {
                        stage: s.stage,
                        title: s.title,
                        status: s.status,
                        due: s.due.map(when),
                        left: s.left,
                        submitted: s.submitted_at.map(when),
                    })
                    .collect(),
            });
        }
        for c in clocks.iter().filter(|c| running(c)) {
            let Some(due_at) = c.due_at else { continue };
            let item = ClockItem {
                reference: case.reference.to_string(),
                title: case.title.clone(),
                clock: c.name.clone(),
                due: when(due_at),
                left: left(due_at, now),
                status: crate::desk::cases::status_name(c.status),
                due_at,
            };
            let is_notice = policy
                .clocks
                .iter()
                .any(|rule| rule.id == c.id && rule.stop == Trigger::CustomersNotified);
            if is_notice {
                notices.push(item);
            } else if c.status == ClockStatus::Breached {
                breached.push(item);
            } else if c.status == ClockStatus::Warning {
                // Past the clock's own warning point (the policy's
                // `warn_percent` of its target): a 24-hour acknowledgement is
                // not "due soon" the moment a report arrives.
                due_soon.push(item);
            }
        }
        if case.state == CaseState::Received {
            new_reports.push(row(case, &clocks, now));
        }
        // Severity-bound clocks (remediation, customer notices) cannot run
        // for a case nobody has assessed, unless the policy assumes one.
        if case.severity.is_none() && case.level.is_none() && case.state != CaseState::Received {
            unassessed_count += 1;
            if unassessed.len() < 20 {
                let mut r = row(case, &clocks, now);
                if let Some(assumed) = policy.clock_settings.default_severity {
                    r.state_text = match assumed.as_str() {
                        "critical" => "clocks assume critical",
                        "high" => "clocks assume high",
                        "medium" => "clocks assume medium",
                        "low" => "clocks assume low",
                        _ => "clocks assume none",
                    };
                }
                unassessed.push(r);
            }
        }
        if case.assignee.is_none() {
            unassigned_count += 1;
            if unassigned.len() < 20 {
                unassigned.push(row(case, &clocks, now));
            }
        }
    }
    for list in [&mut breached, &mut due_soon, &mut notices] {
        list.sort_by_key(|i| i.due_at);
    }
    let totals = Totals {
        breached: breached.len(),
        due_soon: due_soon.len(),
        notices: notices.len(),
        new_reports: new_reports.len(),
        findings: 0,
    };
    for list in [&mut breached, &mut due_soon, &mut notices] {
        list.truncate(LIST_CAP);
    }
    // The oldest reports first: they have waited longest.
    new_reports.reverse();
    new_reports.truncate(LIST_CAP);
    // Findings due soon or breached, soonest first: counted and capped by
    // the database from each finding's deadline kept on its row.
    let due_findings = crate::app::findings::urgent_page(
        &state,
        &FindingFilter {
            sort: FindingSort::Due,
            now,
            ..FindingFilter::default()
        },
        1,
        LIST_CAP as u32,
    )
    .await?;
    let findings: Vec<FindingItem> = due_findings
        .findings
        .into_iter()
        .filter_map(|f| {
            let due = f.due?;
            Some(FindingItem {
                product: f.product,
                release: f.release,
                component: f.component,
                advisory: f.advisory,
                severity: f.severity.map(Severity::as_str),
                due: when(due),
                left: left(due, now),
                status: if f.deadline == Some(DeadlineStatus::Breached) {
                    "breached"
                } else {
                    "due_soon"
                },
            })
        })
        .collect();
    let totals = Totals {
        findings: usize::try_from(due_findings.total).unwrap_or(usize::MAX),
        ..totals
    };
    let mut ctx = desk.context("Dashboard", "dashboard");
    ctx.insert("totals", Value::from_serialize(totals));
    ctx.insert(
        "notice",
        Value::from(match q.setup.as_deref() {
            Some("test_sent") => {
                Some("The test email is queued; the checklist shows when it arrives.")
            }
            Some("backups") => Some("Recorded: backups are taken outside embargo."),
            _ => None,
        }),
    );
    if desk.caller.user.role >= Role::Admin {
        let setup = crate::app::setup::checklist(&state, now).await?;
        ctx.insert(
            "setup_open",
            Value::from(setup.iter().filter(|i| !i.done).count()),
        );
        ctx.insert("setup", Value::from_serialize(&setup));
        ctx.insert(
            "public_url_warning",
            Value::from(state.settings.public_url_warning.clone()),
        );
        ctx.insert("admin_email", Value::from(desk.caller.user.email.clone()));
        ctx.insert("sends_email", Value::from(state.settings.sends_email));
        ctx.insert(
            "postgres",
            Value::from(state.store.backend() == embargo_store::Backend::Postgres),
        );
    }
    ctx.insert("cap", Value::from(LIST_CAP));
    ctx.insert("breached", Value::from_serialize(&breached));
    ctx.insert("due_soon", Value::from_serialize(&due_soon));
    ctx.insert("notices", Value::from_serialize(&notices));
    ctx.insert("new_reports", Value::from_serialize(&new_reports));
    ctx.insert("unassigned", Value::from_serialize(&unassigned));
    ctx.insert("unassigned_count", Value::from(unassigned_count));
    ctx.insert("unassessed", Value::from_serialize(&unassessed));
    ctx.insert("unassessed_count", Value::from(unassessed_count));
    ctx.insert("findings", Value::from_serialize(&findings));
    ctx.insert("exploited", Value::from_serialize(&exploited));
    ctx.insert("open_count", Value::from(open.len()));
    ctx.insert("now", Value::from(when(now)));
    Ok(desk.page(StatusCode::OK, "dashboard.html", ctx))
}

/// Send a test email from the setup checklist.
#[utoipa::path(post, path = "/desk/setup/test-email", tag = "desk",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Queued; back to the dashboard's checklist"),
        (status = 403, description = "Not an admin", body = String, content_type = "text/html"),
        (status = 409, description = "No SMTP server is configured", body = String, content_type = "text/html"),
        (status = 422, description = "Not an email address", body = String, content_type = "text/html")))]
pub async fn send_test_email(
    State(state): State<AppState>,
    form: crate::desk::DeskForm,
) -> PageResult {
    form.desk.require(Role::Admin)?;
    let to = form.text("to").unwrap_or_default();
    crate::app::setup::send_test_email(&state, &form.desk.caller, &to, state.now()).await?;
    Ok(crate::desk::redirect("/desk?setup=test_sent#setup"))
}

/// Record that backups are taken outside embargo (pg_dump, a volume snapshot).
#[utoipa::path(post, path = "/desk/setup/backups", tag = "desk",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "Recorded; back to the dashboard's checklist"),
        (status = 403, description = "Not an admin", body = String, content_type = "text/html")))]
pub async fn confirm_backups(
    State(state): State<AppState>,
    form: crate::desk::DeskForm,
) -> PageResult {
    form.desk.require(Role::Admin)?;
    state
        .store
        .set_fact(
            embargo_store::BACKUPS_CONFIRMED,
            &form.desk.caller.user.username,
            state.now(),
        )
        .await?;
    Ok(crate::desk::redirect("/desk?setup=backups#setup"))
}
