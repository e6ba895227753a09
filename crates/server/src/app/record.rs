//! Recording what happens to a case, and carrying out what follows from it,
//! in one unit of work: the events are appended, then each reaction the
//! domain decides on (`embargo_core::reactions`) is written beside them —
//! findings a released fix resolves, notices to send — and the unit commits
//! as a whole. Every use case that changes a case records through here, so
//! a reaction holds on every path or on none.

use embargo_core::case::{Event, decide};
use embargo_core::notify::{FindingRef, Notice};
use embargo_core::policy::PolicySet;
use embargo_core::portfolio::Finding;
use embargo_core::reactions::{Reaction, reactions};
use embargo_core::{Case, CaseRef, Command, DomainError, EventKind, Instant, NewCase};
use embargo_store::{CaseHandle, Store, StoreError, Work};

use crate::state::AppState;

/// What recording needs from the settings: the policies (each product's
/// language, for the messages people receive) and the address embargo is
/// reached at (for links in them).
#[derive(Debug, Clone, Copy)]
pub struct Recording<'a> {
    pub policies: &'a PolicySet,
    /// `https://security.example.org`; empty when messages carry no links
    /// (the escalation job's notices link to nothing).
    pub public_url: &'a str,
}

impl AppState {
    /// How this server records events.
    #[must_use]
    pub fn recording(&self) -> Recording<'_> {
        Recording {
            policies: &self.settings.policies,
            public_url: &self.settings.public_url,
        }
    }
}

/// What a notice needs that its event does not say.
#[derive(Debug, Default)]
pub struct NoticeExtras {
    /// The reporter's private page (their receipt only).
    pub private_link: Option<String>,
    /// The name a published advisory credits the reporter under.
    pub credited_as: Option<String>,
}

impl Recording<'_> {
    /// Appends `events` to the locked case, carries out their reactions and
    /// commits the unit; returns the case as it now stands and the events
    /// as recorded.
    pub async fn finish(
        &self,
        work: Work<'_>,
        handle: CaseHandle,
        events: Vec<EventKind>,
        actor: &str,
        now: Instant,
    ) -> Result<(Case, Vec<Event>), StoreError> {
        self.finish_with(work, handle, events, actor, now, &NoticeExtras::default())
            .await
    }

    /// [`Recording::finish`], telling the notices what the events alone do not.
    pub async fn finish_with(
        &self,
        mut work: Work<'_>,
        mut handle: CaseHandle,
        events: Vec<EventKind>,
        actor: &str,
        now: Instant,
        extras: &NoticeExtras,
    ) -> Result<(Case, Vec<Event>), StoreError> {
        let mut stored = work.cases().append(&mut handle, events, actor, now).await?;
        stored.extend(self.settle_clocks(&mut work, &mut handle, now).await?);
        self.carry_out(&mut work, &handle.case, &stored, extras, now)
            .await?;
        work.commit().await?;
        Ok((handle.case, stored))
    }

    /// Records, in the same unit, every clock run the events just appended
    /// ended for good (met, met late, breached, cancelled): from then on the
    /// clock reads its outcome back, so closing, reopening or a new policy
    /// never rewrites it.
    async fn settle_clocks(
        &self,
        work: &mut Work<'_>,
        handle: &mut CaseHandle,
        now: Instant,
    ) -> Result<Vec<Event>, StoreError> {
        let policy = self.policies.for_product(&handle.case.product);
        if policy.clocks.is_empty() {
            return Ok(Vec::new());
        }
        let history = work.cases().history(handle).await?;
        let outcomes =
            embargo_core::clock::unrecorded_outcomes(policy, &handle.case, &history, now);
        if outcomes.is_empty() {
            return Ok(Vec::new());
        }
        work.cases().append(handle, outcomes, "system", now).await
    }

    /// Writes, in `work`, what the domain says follows from `events` just
    /// recorded on `case`.
    pub async fn carry_out(
        &self,
        work: &mut Work<'_>,
        case: &Case,
        events: &[Event],
        extras: &NoticeExtras,
        now: Instant,
    ) -> Result<(), StoreError> {
        let policy = self.policies.for_product(&case.product);
        work.cases()
            .write_summary(case, |history| {
                crate::app::summaries::summarise(policy, case, history, now)
            })
            .await?;
        let language = policy.language();
        let mut notices = Vec::new();
        for reaction in reactions(case, events) {
            match reaction {
                Reaction::ResolveEscalatedFindings { release_version } => {
                    work.findings()
                        .resolve_case_findings(case.reference, release_version.as_deref(), now)
                        .await?;
                }
                Reaction::Notify(notice) => notices.push(self.addressed(*notice, language, extras)),
            }
        }
        let reporter = case
            .reporter
            .contact
            .as_deref()
            .filter(|c| embargo_core::auth::validate_email(c).is_ok());
        work.outbox().queue_notices(&notices, reporter, now).await
    }

    /// A notice in `language` (its product's policy's), with its links.
    fn addressed(&self, mut notice: Notice, language: &str, extras: &NoticeExtras) -> Notice {
        notice.private_link.clone_from(&extras.private_link);
        notice.credited_as.clone_from(&extras.credited_as);
        language.clone_into(&mut notice.language);
        let base = self.public_url.trim_end_matches('/');
        if let Some(id) = &notice.advisory
            && !base.is_empty()
        {
            notice.advisory_url = Some(format!("{base}/advisories/{id}"));
        }
        notice
    }

    /// Runs a command against a case in a unit of its own: decides, records,
    /// commits. Returns the case as it now stands and the events recorded
    /// (none when the command changed nothing).
    pub async fn execute(
        &self,
        store: &Store,
        reference: CaseRef,
        command: &Command,
        actor: &str,
        now: Instant,
    ) -> Result<(Case, Vec<Event>), StoreError> {
        let now = embargo_core::to_millis(now);
        let mut work = store.begin().await?;
        let handle = work.cases().lock(reference).await?;
        if let Command::Duplicate { of } = command
            && !work.cases().exists(*of).await?
        {
            return Err(StoreError::Domain(DomainError::invalid(
                "of",
                format!("no case {of}"),
            )));
        }
        let events = decide(&handle.case, command, now)?;
        if events.is_empty() {
            return Ok((handle.case, Vec::new()));
        }
        self.finish(work, handle, events, actor, now).await
    }

    /// Opens a case for the team (or a job) in a unit of its own.
    pub async fn create_case(
        &self,
        store: &Store,
        request: NewCase,
        actor: &str,
        now: Instant,
    ) -> Result<Case, StoreError> {
        let now = embargo_core::to_millis(now);
        let mut work = store.begin().await?;
        let (handle, opened) = work.cases().open(request, actor, now).await?;
        self.carry_out(
            &mut work,
            &handle.case,
            &[opened],
            &NoticeExtras::default(),
            now,
        )
        .await?;
        work.commit().await?;
        Ok(handle.case)
    }

    /// Opens a case for a severe incident (Article 14(3) of the Cyber
    /// Resilience Act): no reporter, no report but the team's description,
    /// declared as an incident in the same unit, so its clocks run from
    /// `aware_at` (default: now).
    pub async fn open_incident(
        &self,
        store: &Store,
        request: NewCase,
        aware_at: Option<Instant>,
        actor: &str,
        now: Instant,
    ) -> Result<Case, StoreError> {
        let now = embargo_core::to_millis(now);
        let description = request.report.description.clone();
        let mut work = store.begin().await?;
        let (mut handle, opened) = work.cases().open(request, actor, now).await?;
        let declared = embargo_core::case::decide(
            &handle.case,
            &embargo_core::Command::DeclareIncident {
                description,
                aware_at,
            },
            now,
        )?;
        let mut events = vec![opened];
        events.extend(
            work.cases()
                .append(&mut handle, declared, actor, now)
                .await?,
        );
        self.carry_out(
            &mut work,
            &handle.case,
            &events,
            &NoticeExtras::default(),
            now,
        )
        .await?;
        work.commit().await?;
        Ok(handle.case)
    }

    /// Appends a clock's warning or breach to a case unless it already has
    /// one for that clock, and queues its notices, in one unit. The chain
    /// lock makes the check and the append atomic, so with several servers
    /// on one database each escalation happens exactly once. Returns whether
    /// it was appended.
    pub async fn escalate(
        &self,
        store: &Store,
        reference: CaseRef,
        event: &EventKind,
        now: Instant,
    ) -> Result<bool, StoreError> {
        let now = embargo_core::to_millis(now);
        let mut work = store.begin().await?;
        let handle = work.cases().lock(reference).await?;
        if work.cases().has_escalation(&handle, event).await? {
            return Ok(false);
        }
        self.finish(work, handle, vec![event.clone()], "system", now)
            .await?;
        Ok(true)
    }

    /// Raises a finding's deadline warning or breach once: an event on the
    /// finding and the team's notice, in one unit. Returns whether it was
    /// raised now.
    pub async fn escalate_finding(
        &self,
        store: &Store,
        finding: &Finding,
        breached: bool,
        now: Instant,
    ) -> Result<bool, StoreError> {
        let Some(due) = finding.due else {
            return Ok(false);
        };
        let mut work = store.begin().await?;
        if !work
            .findings()
            .raise_deadline(finding.id, due, breached, now)
            .await?
        {
            return Ok(false);
        }
        let notice = Notice::finding_deadline(
            FindingRef {
                id: finding.id,
                release: finding.release.clone(),
                component: finding.component.clone(),
                advisory: finding.advisory.clone(),
            },
            &finding.product,
            finding.severity,
            due,
            breached,
            now,
        );
        work.outbox().queue_notices(&[notice], None, now).await?;
        work.commit().await?;
        Ok(true)
    }
}
