//! The reporter's side: private links (capability tokens, stored as digests)
//! and the reporter's messages in the case's thread.

use embargo_core::case::{Event, EventKind, decide};
use embargo_core::{Case, CaseRef, CaseState, Command, DomainError, Instant};
use sqlx::Row;

use crate::{AttachmentFile, Result, Store, StoreError, case_row, lock_chain};

pub(crate) async fn insert_token(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    case_id: i64,
    digest: &str,
    now: Instant,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO reporter_tokens (case_id, token_hash, created_at) VALUES ($1, $2, $3)",
    )
    .bind(case_id)
    .bind(digest)
    .bind(now.timestamp_millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// The case a reporter's token opens, if the token is valid.
    pub async fn reporter_case(&self, digest: &str) -> Result<Option<CaseRef>> {
        let row = sqlx::query(
            "SELECT c.reference FROM reporter_tokens t JOIN cases c ON c.id = t.case_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(digest)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|r| {
            r.try_get::<String, _>("reference")?
                .parse::<CaseRef>()
                .map_err(|e| StoreError::Corrupt(e.to_string()))
        })
        .transpose()
    }

    /// Replaces a case's reporter token: every earlier one stops working.
    pub async fn rotate_reporter_token(
        &self,
        reference: CaseRef,
        digest: &str,
        now: Instant,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let (case_id, _) = case_row(&mut tx, reference).await?;
        revoke(&mut tx, case_id, now).await?;
        insert_token(&mut tx, case_id, digest, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Revokes every reporter token of a case; returns how many were active.
    pub async fn revoke_reporter_tokens(&self, reference: CaseRef, now: Instant) -> Result<u64> {
        let mut tx = self.writer.begin().await?;
        let (case_id, _) = case_row(&mut tx, reference).await?;
        let n = revoke(&mut tx, case_id, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// A message from the reporter into the case's thread, with files or
    /// without (a message may be files alone). If the case was waiting on
    /// them, it returns to where it was. `mail_key` marks a reply from the
    /// security mailbox as taken.
    pub async fn reporter_message(
        &self,
        reference: CaseRef,
        text: &str,
        attachments: Vec<AttachmentFile>,
        mail_key: Option<&str>,
        now: Instant,
    ) -> Result<(Case, Vec<Event>)> {
        let text = text.trim();
        if (text.is_empty() && attachments.is_empty()) || text.chars().count() > 100_000 {
            return Err(StoreError::Domain(DomainError::invalid(
                "text",
                "must be 1 to 100000 characters (or send a file)",
            )));
        }
        let now = embargo_core::to_millis(now);
        let mut tx = self.writer.begin().await?;
        let head = lock_chain(&mut tx).await?;
        let (case_id, row) = case_row(&mut tx, reference).await?;
        let case = self.case_from_row(&row)?;
        let mut events = Vec::new();
        if !text.is_empty() {
            events.push(EventKind::MessageFromReporter {
                text: text.to_owned(),
            });
        }
        events.extend(
            self.insert_attachments(&mut tx, case_id, attachments, now)
                .await?,
        );
        if let Some(key) = mail_key {
            crate::mailbox::mark_taken(&mut tx, key, Some(reference), "threaded", now).await?;
        }
        if case.state == CaseState::WaitingOnReporter {
            events.extend(decide(&case, &Command::InformationReceived {}, now)?);
        }
        self.record(tx, head, case_id, case, events, "reporter", now)
            .await
    }
}

impl Store {
    /// The reporter's credit preference: the name or handle to credit, or
    /// `None` for no credit at all.
    pub async fn reporter_credit(
        &self,
        reference: CaseRef,
        credit: Option<&str>,
        now: Instant,
    ) -> Result<(Case, Vec<Event>)> {
        let credit = credit.map(str::trim).filter(|c| !c.is_empty());
        if credit.is_some_and(|c| c.chars().count() > 200) {
            return Err(StoreError::Domain(DomainError::invalid(
                "credit",
                "must be at most 200 characters",
            )));
        }
        let now = embargo_core::to_millis(now);
        let mut tx = self.writer.begin().await?;
        let head = lock_chain(&mut tx).await?;
        let (case_id, row) = case_row(&mut tx, reference).await?;
        let case = self.case_from_row(&row)?;
        if case.reporter.name.as_deref() == credit {
            return Ok((case, Vec::new()));
        }
        let events = vec![EventKind::CreditPreferenceChanged {
            credit: credit.map(str::to_owned),
        }];
        self.record(tx, head, case_id, case, events, "reporter", now)
            .await
    }
}

async fn revoke(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    case_id: i64,
    now: Instant,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE reporter_tokens SET revoked_at = $1 WHERE case_id = $2 AND revoked_at IS NULL",
    )
    .bind(now.timestamp_millis())
    .bind(case_id)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}
