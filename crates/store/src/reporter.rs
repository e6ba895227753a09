//! The reporter's side: private links (capability tokens, stored as digests)
//! and the reporter's messages in the case's thread.

use embargo_core::{CaseRef, Instant};
use sqlx::Row;

use crate::cases::{CaseHandle, case_row};
use crate::work::Work;
use crate::{Result, Store, StoreError};

async fn insert_token(
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
}

/// Reporters' private links, within a unit of work.
impl<'s> Work<'s> {
    /// Reporters' private links.
    pub fn reporters(&mut self) -> Reporters<'_, 's> {
        Reporters { work: self }
    }
}

#[derive(Debug)]
pub struct Reporters<'w, 's> {
    pub(crate) work: &'w mut Work<'s>,
}

impl Reporters<'_, '_> {
    /// Records the digest of the reporter's private link to a case.
    pub async fn issue_token(
        &mut self,
        handle: &CaseHandle,
        digest: &str,
        now: Instant,
    ) -> Result<()> {
        insert_token(&mut self.work.tx, handle.row_id(), digest, now).await
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
