//! Cases: moving a case through its workflow (a scope rule's text as the
//! reason, only an active member as assignee), the newest cases, and what
//! helps a triager (likely duplicates, the reporter's track record).

use embargo_core::{Case, CaseRef, CaseState, Command};
use embargo_store::{AttachmentFile, CaseFilter};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// A case reference from a path segment; a malformed one is a 404 like a missing one.
pub(crate) fn reference(raw: &str) -> Result<CaseRef, ApiError> {
    raw.parse()
        .map_err(|e: embargo_core::reference::ParseCaseRefError| ApiError::not_found(e.to_string()))
}

/// Rebuilds a rejection command with its (possibly filled-in) reason and rule.
type RebuildRejection = fn(String, Option<String>) -> Command;

/// A rejection that cites a scope rule of the case's policy takes the rule's
/// text as its reason (unless the triager wrote their own); an unknown rule
/// is an error naming the rules there are.
async fn cite_scope_rule(state: &AppState, raw: &str, command: Command) -> ApiResult<Command> {
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
    let found = known_scope_rule(state, raw, &rule_id).await?;
    let reason = if reason.trim().is_empty() {
        found.reporter_text.clone()
    } else {
        reason
    };
    Ok(rebuild(reason, Some(rule_id)))
}

/// The scope rule `rule_id` of the policy governing case `raw`, or an error
/// naming the rules there are.
async fn known_scope_rule(
    state: &AppState,
    raw: &str,
    rule_id: &str,
) -> ApiResult<embargo_core::policy::ScopeRule> {
    let case = state.store.case(reference(raw)?).await?;
    let policy = state.settings.policies.for_product(&case.product);
    let Some(found) = policy.scope_rule(rule_id) else {
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
    Ok(found.clone())
}

/// A refusal of the domain's kind ("field: message"), as `core` words its own.
pub(crate) fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    embargo_core::DomainError::invalid(field, message).into()
}

/// A case is given only to an enabled team member.
async fn check_assignee(state: &AppState, command: &Command) -> ApiResult<()> {
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

/// A scope rule of the policy the report seems to fall under.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScopeSuggestion {
    pub rule: String,
    pub title: String,
    /// Why a person kept the case in scope anyway, once they did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overridden: Option<String>,
}

/// What helps a triager decide.
#[derive(Debug, Serialize, ToSchema)]
pub struct TriageAid {
    /// The most similar other cases, best first.
    pub duplicates: Vec<DuplicateSuggestion>,
    /// Scope rules whose every significant title word is in the report: a
    /// filter, not the final word (policy 000); a person closes citing one,
    /// or overrides it with a reason (`override_scope_rule`).
    pub scope_rules: Vec<ScopeSuggestion>,
    /// The reporter's track record, when they gave a contact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reporter_record: Option<ReporterRecord>,
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
    let policy = state.settings.policies.for_product(&case.product);
    let text = format!(
        "{} {} {} {}",
        case.title,
        case.report.summary,
        case.report.description,
        case.report.impact.as_deref().unwrap_or_default()
    );
    let history = state.store.history(case.reference).await?;
    let scope_rules = policy
        .suggested_scope_rules(&text)
        .into_iter()
        .map(|r| ScopeSuggestion {
            rule: r.id.clone(),
            title: r.title.clone(),
            overridden: history.iter().rev().find_map(|e| match &e.kind {
                embargo_core::EventKind::ScopeRuleOverridden { rule, reason } if *rule == r.id => {
                    Some(reason.clone())
                }
                _ => None,
            }),
        })
        .collect();
    Ok(TriageAid {
        duplicates,
        scope_rules,
        reporter_record,
    })
}

/// How many recent cases duplicate suggestions and track records look at.
const TRIAGE_WINDOW: usize = 2000;

/// Moves a case: a rejection citing a scope rule takes the rule's text, an
/// assignee must be an active member; returns the case as it now stands and
/// the events recorded.
pub async fn move_case(
    state: &AppState,
    caller: &Caller,
    raw: &str,
    command: Command,
) -> ApiResult<(Case, Vec<embargo_core::Event>)> {
    let command = cite_scope_rule(state, raw, command).await?;
    let command = crate::app::cra::fill_submission(state, raw, command).await?;
    // Confirmed from KEV: the team knew from the first signal, the listing
    // of a finding escalated into the case (or an earlier claim).
    let command = match command {
        Command::MarkExploited {
            source: embargo_core::cra::ExploitationSource::Kev,
            evidence,
            link,
            evidence_file,
            aware_at: None,
        } => {
            let r = reference(raw)?;
            let claimed = state.store.case(r).await?.cra.and_then(|c| c.claimed_at);
            let listed = crate::app::cra::first_kev_signal(state, r).await?;
            let aware_at = match (claimed, listed) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            Command::MarkExploited {
                source: embargo_core::cra::ExploitationSource::Kev,
                evidence,
                link,
                evidence_file,
                aware_at,
            }
        }
        other => other,
    };
    if let Command::OverrideScopeRule { rule, .. } = &command {
        known_scope_rule(state, raw, rule).await?;
    }
    if let Command::SetLevel { level } = &command {
        let case = state.store.case(reference(raw)?).await?;
        let policy = state.settings.policies.for_product(&case.product);
        policy
            .severity_level(level.trim())
            .map_err(|m| invalid("level", format!("policy `{}`: {m}", policy.id)))?;
    }
    check_assignee(state, &command).await?;
    reports_owed_before_closing(state, raw, &command).await?;
    Ok(state
        .recording()
        .execute(
            &state.store,
            reference(raw)?,
            &command,
            &caller.actor(),
            state.now(),
        )
        .await?)
}

/// A case whose Article 14 reports are still owed is not closed: the duty
/// to the CSIRT does not end with the team's work on the case (and a closed
/// case would leave the dashboard's lane and the escalations). The team
/// sends the reports and marks them submitted, or rejects the exploitation.
async fn reports_owed_before_closing(
    state: &AppState,
    raw: &str,
    command: &Command,
) -> ApiResult<()> {
    // Only these moves reach a final state (`next_state` says when): any
    // other command costs no read here.
    if !matches!(
        command,
        Command::Close { .. }
            | Command::NotAVulnerability { .. }
            | Command::OutOfScope { .. }
            | Command::Duplicate { .. }
            | Command::Spam { .. }
    ) {
        return Ok(());
    }
    let r = reference(raw)?;
    let case = state.store.case(r).await?;
    let closes = embargo_core::case::next_state(case.state, case.waiting_from, command)
        .is_some_and(|to| to.is_final() && !case.state.is_final());
    let confirmed = case
        .cra
        .as_ref()
        .is_some_and(embargo_core::cra::CraStatus::is_confirmed);
    if !closes || !confirmed {
        return Ok(());
    }
    let policy = state.settings.policies.for_product(&case.product);
    let Some(section) = &policy.cra else {
        return Ok(());
    };
    let ids: Vec<String> = section.clocks().into_iter().map(|c| c.id).collect();
    let history = state.store.history(r).await?;
    let owed: Vec<String> = embargo_core::clock::evaluate(policy, &case, &history, state.now())
        .into_iter()
        .filter(|c| ids.contains(&c.id))
        .filter(|c| {
            use embargo_core::clock::ClockStatus as S;
            matches!(c.status, S::Running | S::Warning | S::Breached)
        })
        .map(|c| c.name)
        .collect();
    if owed.is_empty() {
        return Ok(());
    }
    Err(ApiError::new(
        axum::http::StatusCode::CONFLICT,
        "reports_owed",
        format!(
            "the Cyber Resilience Act's reports are still owed ({}): send them and mark them submitted, or reject the exploitation, before closing the case",
            owed.join(", ")
        ),
    ))
}

/// Attaches the team's (or the mailbox's) files to a case, one event each.
pub async fn attach(
    state: &AppState,
    actor: &str,
    reference: CaseRef,
    files: Vec<AttachmentFile>,
) -> ApiResult<(Case, Vec<embargo_core::Event>)> {
    if files.is_empty() {
        return Err(invalid("attachments", "no file was sent"));
    }
    let now = embargo_core::to_millis(state.now());
    let mut work = state.store.begin().await?;
    let handle = work.cases().lock(reference).await?;
    let events = work.attachments().store(&handle, files, now).await?;
    Ok(state
        .recording()
        .finish(work, handle, events, actor, now)
        .await?)
}
