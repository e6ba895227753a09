//! What the security mailbox has taken in: each message once, by key, in the
//! transaction that acts on it.

use embargo_core::notify::Delivery;
use embargo_core::{CaseRef, Instant};

use crate::work::Work;
use crate::{Result, Store};

async fn mark_taken(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    key: &str,
    case: Option<CaseRef>,
    outcome: &str,
    now: Instant,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO mailbox_messages (message_key, case_ref, outcome, processed_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(key)
    .bind(case.map(|c| c.to_string()))
    .bind(outcome)
    .bind(now.timestamp_millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Whether the mailbox message with this key was already taken in.
    pub async fn mail_taken(&self, key: &str) -> Result<bool> {
        Ok(
            sqlx::query("SELECT 1 FROM mailbox_messages WHERE message_key = $1")
                .bind(key)
                .fetch_optional(&self.writer)
                .await?
                .is_some(),
        )
    }

    /// Refuses a mailbox message: marks it taken and queues `answer` (an
    /// email to its sender saying why), in one transaction.
    pub async fn refuse_mail(&self, key: &str, answer: &Delivery, now: Instant) -> Result<()> {
        let mut work = self.begin().await?;
        work.mailbox().mark_taken(key, None, "refused", now).await?;
        work.outbox()
            .queue(
                &format!("mail-refusal:{key}"),
                "mail_refused",
                None,
                answer,
                now,
            )
            .await?;
        work.commit().await
    }
}

/// What the security mailbox has taken in, within a unit of work.
impl<'s> Work<'s> {
    /// What the security mailbox has taken in.
    pub fn mailbox(&mut self) -> Mailbox<'_, 's> {
        Mailbox { work: self }
    }
}

#[derive(Debug)]
pub struct Mailbox<'w, 's> {
    pub(crate) work: &'w mut Work<'s>,
}

impl Mailbox<'_, '_> {
    /// Marks the message `key` taken: it opened or joined `case`, or was
    /// refused (`outcome` says which), and is not read again.
    pub async fn mark_taken(
        &mut self,
        key: &str,
        case: Option<CaseRef>,
        outcome: &str,
        now: Instant,
    ) -> Result<()> {
        mark_taken(&mut self.work.tx, key, case, outcome, now).await
    }
}
