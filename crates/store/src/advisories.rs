//! Advisories: each case's draft sealed in `advisories` (bound to the
//! advisory id), and its public form written only by the publish action, in
//! the same transaction as the case's `advisory_published` event.

use embargo_core::advisory::Advisory;
use embargo_core::{CaseRef, Instant};
use sqlx::Row;

use crate::cases::CaseHandle;
use crate::work::Work;
use crate::{Result, Store, StoreError};

pub(crate) fn context(id: &str) -> Vec<u8> {
    format!("embargo:advisory:{id}").into_bytes()
}

pub(crate) fn signing_context(purpose: &str) -> Vec<u8> {
    format!("embargo:signing-key:{purpose}").into_bytes()
}

impl Store {
    /// The draft in a row of `id, sealed_key, sealed`.
    fn draft_from_row(&self, row: &sqlx::any::AnyRow) -> Result<Advisory> {
        let id: String = row.try_get("id")?;
        self.open_draft(
            &id,
            row.try_get("sealed_key")?,
            &row.try_get::<Vec<u8>, _>("sealed")?,
        )
    }

    fn open_draft(&self, id: &str, key: String, blob: &[u8]) -> Result<Advisory> {
        let json = self.keyring.open(&key, blob, &context(id))?;
        serde_json::from_slice(&json)
            .map_err(|e| StoreError::Corrupt(format!("advisory {id}: {e}")))
    }

    /// The draft advisory of a case, if it has one.
    pub async fn advisory_draft(&self, reference: CaseRef) -> Result<Option<Advisory>> {
        let row = sqlx::query(
            "SELECT a.id, a.sealed_key, a.sealed FROM advisories a JOIN cases c ON c.id = a.case_id \
             WHERE c.reference = $1",
        )
        .bind(reference.to_string())
        .fetch_optional(&self.reader)
        .await?;
        match row {
            None => Ok(None),
            Some(row) => Ok(Some(self.draft_from_row(&row)?)),
        }
    }

    /// The CSAF signing key, made on first need: every instance reads the
    /// same one (the first written wins a race).
    pub async fn csaf_signing_key(
        &self,
        user_id: &str,
        now: Instant,
    ) -> Result<embargo_core::signing::SigningKey> {
        const PURPOSE: &str = "csaf";
        if let Some(key) = self.read_signing_key(PURPOSE).await? {
            return Ok(key);
        }
        let key = embargo_core::signing::SigningKey::generate(user_id, now)
            .map_err(|e| StoreError::Corrupt(format!("generating the signing key: {e}")))?;
        let secret = key.secret_armored().map_err(StoreError::Corrupt)?;
        let public = key.public_armored().map_err(StoreError::Corrupt)?;
        let sealed = self
            .keyring
            .seal(secret.as_bytes(), &signing_context(PURPOSE))?;
        sqlx::query(
            "INSERT INTO signing_keys (purpose, fingerprint, public_key, sealed_key, sealed, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (purpose) DO NOTHING",
        )
        .bind(PURPOSE)
        .bind(key.fingerprint())
        .bind(public)
        .bind(sealed.key_id)
        .bind(sealed.blob)
        .bind(now.timestamp_millis())
        .execute(&self.writer)
        .await?;
        self.read_signing_key(PURPOSE)
            .await?
            .ok_or_else(|| StoreError::Corrupt("the signing key vanished".into()))
    }

    async fn read_signing_key(
        &self,
        purpose: &str,
    ) -> Result<Option<embargo_core::signing::SigningKey>> {
        let row = sqlx::query("SELECT sealed_key, sealed FROM signing_keys WHERE purpose = $1")
            .bind(purpose)
            .fetch_optional(&self.writer)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let key_id: String = row.try_get("sealed_key")?;
        let blob: Vec<u8> = row.try_get("sealed")?;
        let secret = self
            .keyring
            .open(&key_id, &blob, &signing_context(purpose))?;
        let text = String::from_utf8(secret).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        embargo_core::signing::SigningKey::from_armored(&text)
            .map(Some)
            .map_err(StoreError::Corrupt)
    }

    /// Published advisories, newest publication first.
    pub async fn published_advisories(&self) -> Result<Vec<Advisory>> {
        let rows = sqlx::query(
            "SELECT published FROM advisories WHERE published IS NOT NULL \
             ORDER BY published_at DESC, id",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                let text: String = r.try_get("published")?;
                serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect()
    }

    /// One published advisory by id.
    pub async fn published_advisory(&self, id: &str) -> Result<Option<Advisory>> {
        let row =
            sqlx::query("SELECT published FROM advisories WHERE id = $1 AND published IS NOT NULL")
                .bind(id)
                .fetch_optional(&self.reader)
                .await?;
        row.map(|r| {
            let text: String = r.try_get("published")?;
            serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))
        })
        .transpose()
    }
}

/// What the public sees of an advisory: everything but the internal case
/// reference.
fn public_form(advisory: &Advisory) -> Result<String> {
    let mut public = advisory.clone();
    public.case_ref = String::new();
    serde_json::to_string(&public).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Cases' advisories, within a unit of work.
impl<'s> Work<'s> {
    /// Cases' advisories: drafts and their published form.
    pub fn advisories(&mut self) -> Advisories<'_, 's> {
        Advisories { work: self }
    }
}

#[derive(Debug)]
pub struct Advisories<'w, 's> {
    pub(crate) work: &'w mut Work<'s>,
}

impl Advisories<'_, '_> {
    /// The case's draft, if it has one.
    pub async fn draft(&mut self, handle: &CaseHandle) -> Result<Option<Advisory>> {
        let row = sqlx::query("SELECT id, sealed_key, sealed FROM advisories WHERE case_id = $1")
            .bind(handle.row_id())
            .fetch_optional(&mut *self.work.tx)
            .await?;
        row.map(|r| self.work.store.draft_from_row(&r)).transpose()
    }

    /// Whether another case's advisory has the id `id`.
    pub async fn id_taken_elsewhere(&mut self, handle: &CaseHandle, id: &str) -> Result<bool> {
        Ok(
            sqlx::query("SELECT 1 FROM advisories WHERE id = $1 AND case_id <> $2")
                .bind(id)
                .bind(handle.row_id())
                .fetch_optional(&mut *self.work.tx)
                .await?
                .is_some(),
        )
    }

    /// Writes (or replaces) the case's draft. A published advisory's public
    /// form stays as it was: it changes only when published again.
    pub async fn save_draft(
        &mut self,
        handle: &CaseHandle,
        draft: &Advisory,
        now: Instant,
    ) -> Result<()> {
        let json = serde_json::to_vec(draft).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sealed = self.work.store.keyring.seal(&json, &context(&draft.id))?;
        let exists = sqlx::query("SELECT 1 FROM advisories WHERE case_id = $1")
            .bind(handle.row_id())
            .fetch_optional(&mut *self.work.tx)
            .await?
            .is_some();
        let query = if exists {
            "UPDATE advisories SET id = $1, sealed_key = $3, sealed = $4, modified_at = $5 \
             WHERE case_id = $2"
        } else {
            "INSERT INTO advisories (id, case_id, sealed_key, sealed, published, published_at, modified_at) \
             VALUES ($1, $2, $3, $4, NULL, NULL, $5)"
        };
        sqlx::query(query)
            .bind(&draft.id)
            .bind(handle.row_id())
            .bind(sealed.key_id)
            .bind(sealed.blob)
            .bind(now.timestamp_millis())
            .execute(&mut *self.work.tx)
            .await?;
        Ok(())
    }

    /// Writes the case's advisory as published: the draft and its public form.
    pub async fn publish(
        &mut self,
        handle: &CaseHandle,
        advisory: &Advisory,
        now: Instant,
    ) -> Result<()> {
        let json = serde_json::to_vec(advisory).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sealed = self
            .work
            .store
            .keyring
            .seal(&json, &context(&advisory.id))?;
        let public = public_form(advisory)?;
        sqlx::query(
            "UPDATE advisories SET sealed_key = $1, sealed = $2, published = $3, published_at = $4, \
             modified_at = $5 WHERE case_id = $6",
        )
        .bind(sealed.key_id)
        .bind(sealed.blob)
        .bind(public)
        .bind(advisory.published.unwrap_or(now).timestamp_millis())
        .bind(now.timestamp_millis())
        .bind(handle.row_id())
        .execute(&mut *self.work.tx)
        .await?;
        Ok(())
    }
}
