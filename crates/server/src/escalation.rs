//! The escalation scheduler: raises each policy clock's warning at its
//! threshold and its breach at its deadline, as an event on the case and a
//! message in the outbox. Safe to run on several servers at once: the store
//! appends each escalation exactly once.

use std::sync::Arc;
use std::time::Duration;

use embargo_core::clock::{self, ClockStatus};
use embargo_core::policy::PolicySet;
use embargo_core::portfolio::DeadlineStatus;
use embargo_core::{EventKind, Instant};
use embargo_store::{CaseFilter, Store, StoreError};

use crate::app::record::Recording;
use crate::clock::Clock;
use crate::jobs::{HeldJob, JobReporter, SharedJob, Shutdown};

/// What one pass raised.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Escalations {
    pub warnings: u32,
    pub breaches: u32,
    /// Findings whose remediation deadline came near, or passed.
    pub finding_warnings: u32,
    pub finding_breaches: u32,
}

/// One pass over every open case at `now`.
pub async fn escalate_once(
    store: &Store,
    policies: &PolicySet,
    now: Instant,
) -> Result<Escalations, StoreError> {
    escalate_held(store, policies, now, None).await
}

/// Whether the pass may go on: always when it holds no lease, else while
/// this server still holds the job's lease (renewed here).
async fn still_ours(held: Option<&HeldJob<'_>>) -> Result<bool, StoreError> {
    match held {
        Some(h) => h.hold().await,
        None => Ok(true),
    }
}

/// [`escalate_once`] under the job's lease: renewed before each page of
/// cases and before each escalation written, and the pass stops as soon as
/// another server has taken the job.
async fn escalate_held(
    store: &Store,
    policies: &PolicySet,
    now: Instant,
    held: Option<&HeldJob<'_>>,
) -> Result<Escalations, StoreError> {
    // Escalation notices name a case or a finding and link to nothing.
    let recording = Recording {
        policies,
        public_url: "",
    };
    let mut raised = Escalations::default();
    let filter = CaseFilter {
        open_only: true,
        ..CaseFilter::default()
    };
    let mut cursor: Option<String> = None;
    loop {
        if !still_ours(held).await? {
            return Ok(raised);
        }
        let page = store.list_cases(&filter, 200, cursor.as_deref()).await?;
        for case in &page.cases {
            let policy = policies.for_product(&case.product);
            if policy.clocks.is_empty() {
                continue;
            }
            let history = store.history(case.reference).await?;
            for report in clock::evaluate(policy, case, &history, now) {
                let Some(due) = report.due_at else { continue };
                let (event, is_breach) = match report.status {
                    ClockStatus::Warning => (
                        EventKind::ClockWarning {
                            clock: report.id.clone(),
                            due,
                        },
                        false,
                    ),
                    ClockStatus::Breached if report.stopped_at.is_none() => (
                        EventKind::ClockBreached {
                            clock: report.id.clone(),
                            due,
                        },
                        true,
                    ),
                    _ => continue,
                };
                let already = history.iter().any(|e| {
                    e.kind.name() == event.name()
                        && matches!(&e.kind, EventKind::ClockWarning { clock, .. } | EventKind::ClockBreached { clock, .. } if *clock == report.id)
                });
                if already {
                    continue;
                }
                if !still_ours(held).await? {
                    return Ok(raised);
                }
                if recording
                    .escalate(store, case.reference, &event, now)
                    .await?
                {
                    if is_breach {
                        raised.breaches += 1;
                    } else {
                        raised.warnings += 1;
                    }
                    tracing::info!(case = %case.reference, clock = %report.id, kind = event.name(), "escalated");
                }
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    // The scans the policies require: a gap becomes (or stops being) a
    // finding of the product's latest release, and escalates like one.
    if !still_ours(held).await? {
        return Ok(raised);
    }
    crate::app::portfolio::check_scans(store, policies, now).await?;
    // Findings' remediation deadlines (policy 003), the same way: a warning
    // in the last quarter of the time, a breach once past it, each once.
    for finding in crate::app::findings::dated(store, policies, None, now).await? {
        let breached = match finding.deadline {
            Some(DeadlineStatus::Breached) => true,
            Some(DeadlineStatus::DueSoon) => false,
            _ => continue,
        };
        if !still_ours(held).await? {
            return Ok(raised);
        }
        if recording
            .escalate_finding(store, &finding, breached, now)
            .await?
        {
            if breached {
                raised.finding_breaches += 1;
            } else {
                raised.finding_warnings += 1;
            }
            tracing::info!(finding = finding.id, breached, "finding deadline escalated");
        }
    }
    Ok(raised)
}

/// Runs an escalation pass every `interval` until `stop` fires. With
/// several servers on one database, each pass runs on whichever holds the
/// job's lease; the store appends each escalation once in any case.
pub fn spawn(
    job: SharedJob,
    policies: Arc<PolicySet>,
    clock: Clock,
    interval: Duration,
    mut stop: Shutdown,
    report: JobReporter,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _running = report.running();
        let store = job.store().clone();
        loop {
            let now = embargo_core::to_millis(clock());
            let pass = job
                .run(async |held| escalate_held(&store, &policies, now, Some(held)).await)
                .await;
            report.settle(pass);
            if !stop.sleep(interval).await {
                break;
            }
        }
    })
}
