//! The dashboard: what needs action now. Breached and soon-due clocks, new
//! reports, unassigned cases, findings past their deadline and customer
//! notices still owed, each linking to where it is acted on.

use axum::extract::State;
use axum::http::StatusCode;
use embargo_core::auth::Role;
use embargo_core::clock::ClockReport;
use embargo_core::policy::Trigger;
use embargo_core::portfolio::DeadlineStatus;
use embargo_core::{Case, CaseState, Instant, Severity};
use embargo_store::{
    AssigneeFilter, CaseFilter, DeadlineFilter, DeadlineState, FindingFilter, FindingSort,
    QueueFilter, QueueSort, QueuedCase,
};
use minijinja::Value;
use serde::Serialize;

use crate::desk::cases::{CaseRow, row};
use crate::desk::{Desk, PageError, PageResult, span, when};
use crate::state::AppState;

/// How many cases the charts look at (newest first).
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
    // Every list and count comes from the summaries kept with each case,
    // over all open cases; only the cases shown are read in full.
    crate::app::summaries::bring_up_to_date(&state, now).await?;
    let listing = |f: QueueFilter| QueueFilter {
        cases: CaseFilter {
            open_only: f.cases.state.is_none(),
            ..f.cases
        },
        now,
        ..f
    };
    let new_filter = listing(QueueFilter {
        cases: CaseFilter {
            state: Some(CaseState::Received),
            ..CaseFilter::default()
        },
        // The oldest reports first: they have waited longest.
        sort: QueueSort::Age,
        ..QueueFilter::default()
    });
    let unassigned_filter = listing(QueueFilter {
        assignee: AssigneeFilter::Nobody,
        ..QueueFilter::default()
    });
    let unassessed_filter = listing(QueueFilter {
        unassessed: true,
        ..QueueFilter::default()
    });
    let exploited_filter = listing(QueueFilter {
        exploited: true,
        ..QueueFilter::default()
    });
    let store = &state.store;
    let new_cases = store.queue_cases(&new_filter, 0, LIST_CAP as u32).await?;
    let unassigned_cases = store.queue_cases(&unassigned_filter, 0, 20).await?;
    let unassessed_cases = store.queue_cases(&unassessed_filter, 0, 20).await?;
    let exploited_cases = store.queue_cases(&exploited_filter, 0, 200).await?;

    // The clocks that stop when customers are told are listed as notices
    // owed, whatever their state; the others as breached or due soon.
    let notice_clocks: Vec<String> = state
        .settings
        .policies
        .all()
        .iter()
        .flat_map(|p| p.clocks.iter())
        .filter(|rule| rule.stop == Trigger::CustomersNotified)
        .map(|rule| rule.id.clone())
        .collect();
    let deadlines = |state_wanted: DeadlineState, notices: bool| DeadlineFilter {
        state: state_wanted,
        now,
        only: notices.then_some(notice_clocks.as_slice()),
        except: if notices {
            &[]
        } else {
            notice_clocks.as_slice()
        },
    };
    let counts = store.dashboard_counts(now, &notice_clocks).await?;
    let mut lists = Vec::new();
    for filter in [
        deadlines(DeadlineState::Breached, false),
        deadlines(DeadlineState::DueSoon, false),
        deadlines(DeadlineState::Running, true),
    ] {
        let items: Vec<ClockItem> = store
            .deadlines(&filter, LIST_CAP as u32)
            .await?
            .into_iter()
            .map(|(case, d)| {
                let policy = state.settings.policies.for_product(&case.product);
                ClockItem {
                    reference: case.reference.to_string(),
                    title: case.title.clone(),
                    clock: policy
                        .clocks
                        .iter()
                        .find(|rule| rule.id == d.clock)
                        .map_or_else(|| d.clock.clone(), |rule| rule.name.clone()),
                    due: when(d.due_at),
                    left: left(d.due_at, now),
                    status: d.status_at(now).as_str(),
                }
            })
            .collect();
        lists.push(items);
    }
    let notices = lists.pop().unwrap_or_default();
    let due_soon = lists.pop().unwrap_or_default();
    let breached = lists.pop().unwrap_or_default();

    // The cases shown as rows, and the exploited lane, with their clocks.
    let shown: Vec<&Case> = new_cases
        .iter()
        .chain(&unassigned_cases)
        .chain(&unassessed_cases)
        .chain(&exploited_cases)
        .map(|q| &q.case)
        .collect();
    let mut refs: Vec<embargo_core::CaseRef> = shown.iter().map(|c| c.reference).collect();
    refs.sort_unstable();
    refs.dedup();
    let histories = state.store.histories(&refs).await?;
    let clocks_of = |case: &Case| -> Vec<ClockReport> {
        let history = histories
            .get(&case.reference)
            .map_or(&[][..], Vec::as_slice);
        let policy = state.settings.policies.for_product(&case.product);
        embargo_core::clock::evaluate(policy, case, history, now)
    };
    let rows = |cases: &[QueuedCase]| -> Vec<CaseRow> {
        cases
            .iter()
            .map(|q| row(&q.case, &clocks_of(&q.case), now))
            .collect()
    };
    let new_reports = rows(&new_cases);
    let unassigned = rows(&unassigned_cases);
    let unassessed: Vec<CaseRow> = unassessed_cases
        .iter()
        .map(|q| {
            let case = &q.case;
            let mut r = row(case, &clocks_of(case), now);
            // Severity-bound clocks (remediation, customer notices) cannot
            // run for a case nobody has assessed, unless the policy assumes one.
            let policy = state.settings.policies.for_product(&case.product);
            if let Some(assumed) = policy.clock_settings.default_severity {
                r.state_text = match assumed.as_str() {
                    "critical" => "clocks assume critical",
                    "high" => "clocks assume high",
                    "medium" => "clocks assume medium",
                    "low" => "clocks assume low",
                    _ => "clocks assume none",
                };
            }
            r
        })
        .collect();
    let exploited: Vec<ExploitedRow> = exploited_cases
        .iter()
        .filter_map(|q| {
            let case = &q.case;
            let cra = case.cra.as_ref().filter(|c| c.is_confirmed())?;
            let clocks = clocks_of(case);
            Some(ExploitedRow {
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
            })
        })
        .collect();
    let count = |n: i64| usize::try_from(n).unwrap_or(0);
    let totals = Totals {
        breached: count(counts.breached),
        due_soon: count(counts.due_soon),
        notices: count(counts.notices),
        new_reports: count(counts.new_reports),
        findings: 0,
    };
    let (open_count, unassigned_count, unassessed_count) = (
        count(counts.open),
        count(counts.unassigned),
        count(counts.unassessed),
    );
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
        findings: usize::try_from(due_findings.place.total).unwrap_or(usize::MAX),
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
    ctx.insert("open_count", Value::from(open_count));
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
