//! Idempotent intake: a report sent again under the same key (the API's
//! `Idempotency-Key`, the report form's one-time submission id) finds the
//! receipt of the first instead of opening a second case.

use embargo_core::Instant;
use sqlx::Row;

use crate::{Result, Store, Work};

pub(crate) fn context(key_digest: &str) -> Vec<u8> {
    format!("embargo:intake:{key_digest}").into_bytes()
}

/// The receipt a first request got, kept for its retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptReceipt {
    pub case_ref: String,
    /// The reporter's private token, as the first answer gave it.
    pub token: String,
    /// What the first request sent (a digest): a retry must send the same.
    pub request_digest: String,
}

impl Store {
    /// The receipt kept under `key_digest`, if a request used that key in
    /// the last day (`since`).
    pub async fn kept_receipt(
        &self,
        key_digest: &str,
        since: Instant,
    ) -> Result<Option<KeptReceipt>> {
        let Some(row) = sqlx::query(
            "SELECT request_digest, case_ref, sealed_key, sealed FROM intake_requests \
             WHERE key_digest = $1 AND created_at >= $2",
        )
        .bind(key_digest)
        .bind(since.timestamp_millis())
        .fetch_optional(&self.writer)
        .await?
        else {
            return Ok(None);
        };
        let token = self.keyring.open(
            &row.try_get::<String, _>("sealed_key")?,
            &row.try_get::<Vec<u8>, _>("sealed")?,
            &context(key_digest),
        )?;
        Ok(Some(KeptReceipt {
            case_ref: row.try_get("case_ref")?,
            token: String::from_utf8_lossy(&token).into_owned(),
            request_digest: row.try_get("request_digest")?,
        }))
    }
}

impl Work<'_> {
    /// Keeps the receipt of a report opened in this unit of work under its
    /// key, forgetting keys older than `forget_before`. A second request
    /// racing with the same key fails here (the key is the primary key) and
    /// rolls its case back.
    pub async fn keep_receipt(
        &mut self,
        key_digest: &str,
        receipt: &KeptReceipt,
        now: Instant,
        forget_before: Instant,
    ) -> Result<()> {
        sqlx::query("DELETE FROM intake_requests WHERE created_at < $1")
            .bind(forget_before.timestamp_millis())
            .execute(&mut *self.tx)
            .await?;
        let sealed = self
            .store
            .keyring
            .seal(receipt.token.as_bytes(), &context(key_digest))?;
        sqlx::query(
            "INSERT INTO intake_requests (key_digest, request_digest, case_ref, sealed_key, sealed, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(key_digest)
        .bind(&receipt.request_digest)
        .bind(&receipt.case_ref)
        .bind(sealed.key_id)
        .bind(sealed.blob)
        .bind(now.timestamp_millis())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
