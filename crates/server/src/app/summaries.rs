//! Each case's summary (its running clocks' deadlines, assignee, whether the
//! reporter waits on us), which lets the store sort, filter and count the
//! queue. [`crate::app::record`] writes it in the unit that changes the
//! case; [`bring_up_to_date`] rebuilds what that could not cover: cases
//! from before summaries existed, a dated fact taking effect, a new policy.

use std::sync::atomic::Ordering;

use embargo_core::case::Event;
use embargo_core::policy::{Policy, PolicySet};
use embargo_core::{Case, CaseRef, EventKind, Instant};
use embargo_store::{CaseSummary, Rebuilt, StaleCase, StoreError};
use sha2::Digest;

use crate::state::AppState;

/// The installation fact naming the policies the summaries and the
/// findings' deadlines were worked out under.
const SUMMARIES_POLICY: &str = "case_summaries_policy";
/// How many summaries a refresh works out per batch.
const REFRESH_BATCH: u32 = 500;

/// Whether the reporter's last message came after the team's last one
/// (and the case is still open): the reporter is waiting on us.
#[must_use]
pub fn reply_owed(case: &Case, history: &[Event]) -> bool {
    if case.state.is_final() {
        return false;
    }
    history
        .iter()
        .rev()
        .find_map(|e| match e.kind {
            EventKind::MessageFromReporter { .. } => Some(true),
            EventKind::MessageToReporter { .. } => Some(false),
            _ => None,
        })
        .unwrap_or(false)
}

/// The summary of `case` with `history` under `policy`, at `now`.
#[must_use]
pub fn summarise(policy: &Policy, case: &Case, history: &[Event], now: Instant) -> CaseSummary {
    let (deadlines, changes_at) = embargo_core::clock::deadlines(policy, case, history, now);
    CaseSummary {
        revision: case.revision,
        assignee: case.assignee.clone(),
        reply_owed: reply_owed(case, history),
        assessed: case.severity.is_some() || case.level.is_some(),
        exploited: case.cra.as_ref().is_some_and(|c| c.is_confirmed()),
        deadlines,
        changes_at,
    }
}

/// A fingerprint of the policies: what was worked out under others is
/// worked out again.
fn fingerprint(policies: &PolicySet) -> String {
    // The policies hold no hash maps, so their debug form is stable.
    sha2::Sha256::digest(format!("{policies:?}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Once per process: if the summaries and the findings' deadlines were
/// worked out under other policies than this server's, marks them all out
/// of date.
pub(crate) async fn same_policy(state: &AppState, now: Instant) -> Result<(), StoreError> {
    if state.summaries_policy_checked.load(Ordering::Acquire) {
        return Ok(());
    }
    let wanted = fingerprint(&state.settings.policies);
    let made_under = state.store.fact(SUMMARIES_POLICY).await?.map(|(v, _)| v);
    if made_under.as_deref() != Some(wanted.as_str()) {
        state.store.forget_summaries().await?;
        state.store.forget_finding_dates().await?;
        state.store.set_fact(SUMMARIES_POLICY, &wanted, now).await?;
    }
    state
        .summaries_policy_checked
        .store(true, Ordering::Release);
    Ok(())
}

/// Rebuilds every summary that may be out of date at `now`; returns how
/// many were written. Cheap when nothing is (one indexed query), so the
/// queue and the dashboard call it before they read.
pub async fn bring_up_to_date(state: &AppState, now: Instant) -> Result<usize, StoreError> {
    same_policy(state, now).await?;
    let mut written = 0;
    loop {
        let stale = state.store.stale_summaries(now, REFRESH_BATCH).await?;
        if stale.is_empty() {
            return finish_rebuild(state, Rebuilt::CaseSummaries, written).await;
        }
        let references: Vec<CaseRef> = stale.iter().map(|s| s.case.reference).collect();
        let mut histories = state.store.histories(&references).await?;
        let mut summaries = Vec::with_capacity(stale.len());
        for StaleCase { row_id, case } in &stale {
            let history = histories.remove(&case.reference).unwrap_or_default();
            let policy = state.settings.policies.for_product(&case.product);
            summaries.push((*row_id, summarise(policy, case, &history, now)));
        }
        let batch = state.store.write_summaries(&summaries).await?;
        written += batch;
        // A batch nobody could write (each overtaken by a newer write) is
        // read again next time rather than looped over now.
        if batch == 0 || stale.len() < REFRESH_BATCH as usize {
            return finish_rebuild(state, Rebuilt::CaseSummaries, written).await;
        }
    }
}

/// Rows rewritten at once beyond which the tables are tidied.
pub(crate) const LARGE_REBUILD: usize = 1000;

/// After a rebuild of `written` rows: a large one tidies the tables it
/// rewrote (`Store::tidy_after_rebuild`), and only those.
pub(crate) async fn finish_rebuild(
    state: &AppState,
    rebuilt: Rebuilt,
    written: usize,
) -> Result<usize, StoreError> {
    if written >= LARGE_REBUILD {
        state.store.tidy_after_rebuild(rebuilt).await?;
    }
    Ok(written)
}
