//! What a reporter holding their private token may reach and do: see
//! their files, write into their case's thread, choose their credit.

use axum::response::Response;
use embargo_core::case::{Event, EventKind, decide};
use embargo_core::{Case, CaseRef, CaseState, Command};
use embargo_store::AttachmentFile;

use crate::app::cases::invalid;
use crate::auth::ReporterAccess;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::upload;

/// The one answer for a file that is not there or not the caller's to see.
pub(crate) fn no_such_attachment() -> ApiError {
    ApiError::not_found("no such attachment on this case")
}

/// The download of a file the reporter may see, for the API and the portal.
pub async fn shared_download(
    state: &AppState,
    access: ReporterAccess,
    id: &str,
) -> ApiResult<Response> {
    let (attachment, content) = state
        .store
        .attachment(access.reference, id)
        .await?
        .filter(|(a, _)| a.shared_with_reporter)
        .ok_or_else(no_such_attachment)?;
    Ok(upload::download(&attachment, content))
}

/// A message from the reporter into the case's thread, with files or
/// without (a message may be files alone), from the portal, the API or the
/// mailbox. If the case was waiting on them, it returns to where it was.
/// `mail_key` marks a reply from the security mailbox as taken, in the same
/// unit.
pub async fn message(
    state: &AppState,
    reference: CaseRef,
    text: &str,
    attachments: Vec<AttachmentFile>,
    mail_key: Option<&str>,
) -> ApiResult<(Case, Vec<Event>)> {
    let text = text.trim();
    if (text.is_empty() && attachments.is_empty()) || text.chars().count() > 100_000 {
        return Err(invalid(
            "text",
            "must be 1 to 100000 characters (or send a file)",
        ));
    }
    let now = embargo_core::to_millis(state.now());
    let mut work = state.store.begin().await?;
    let handle = work.cases().lock(reference).await?;
    let mut events = Vec::new();
    if !text.is_empty() {
        events.push(EventKind::MessageFromReporter {
            text: text.to_owned(),
        });
    }
    events.extend(work.attachments().store(&handle, attachments, now).await?);
    if let Some(key) = mail_key {
        work.mailbox()
            .mark_taken(key, Some(reference), "threaded", now)
            .await?;
    }
    if handle.case.state == CaseState::WaitingOnReporter {
        events.extend(decide(&handle.case, &Command::InformationReceived {}, now)?);
    }
    Ok(state
        .recording()
        .finish(work, handle, events, "reporter", now)
        .await?)
}

/// The reporter's credit preference: the name or handle to credit, or
/// `None` for no credit at all.
pub async fn credit(
    state: &AppState,
    reference: CaseRef,
    credit: Option<&str>,
) -> ApiResult<(Case, Vec<Event>)> {
    let credit = credit.map(str::trim).filter(|c| !c.is_empty());
    if credit.is_some_and(|c| c.chars().count() > 200) {
        return Err(invalid("credit", "must be at most 200 characters"));
    }
    let now = embargo_core::to_millis(state.now());
    let mut work = state.store.begin().await?;
    let handle = work.cases().lock(reference).await?;
    if handle.case.reporter.name.as_deref() == credit {
        return Ok((handle.case, Vec::new()));
    }
    let events = vec![EventKind::CreditPreferenceChanged {
        credit: credit.map(str::to_owned),
    }];
    Ok(state
        .recording()
        .finish(work, handle, events, "reporter", now)
        .await?)
}
