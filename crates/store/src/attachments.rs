//! Attached files: their contents sealed in `attachments`, bound to the
//! attachment id so a blob moved to another row does not open; what is known
//! about each file travels in an `attachment_added` event.

use embargo_core::attachment::Attachment;
use embargo_core::{CaseRef, EventKind, Instant};
use sqlx::Row;

use crate::cases::CaseHandle;
use crate::work::Work;
use crate::{Result, Store, StoreError};

/// A described file and its content, ready to store.
pub type AttachmentFile = (Attachment, Vec<u8>);

pub(crate) fn context(id: &str) -> Vec<u8> {
    format!("embargo:attachment:{id}").into_bytes()
}

/// Files attached to cases, within a unit of work.
impl<'s> Work<'s> {
    /// Files attached to cases.
    pub fn attachments(&mut self) -> Attachments<'_, 's> {
        Attachments { work: self }
    }
}

#[derive(Debug)]
pub struct Attachments<'w, 's> {
    pub(crate) work: &'w mut Work<'s>,
}

impl Attachments<'_, '_> {
    /// Seals and stores `files` for a case; returns the events that record
    /// them (for the caller to append with the rest of its events).
    pub async fn store(
        &mut self,
        handle: &CaseHandle,
        files: Vec<AttachmentFile>,
        now: Instant,
    ) -> Result<Vec<EventKind>> {
        let keyring = self.work.store.keyring.clone();
        let mut events = Vec::with_capacity(files.len());
        for (attachment, content) in files {
            let sealed = keyring.seal(&content, &context(&attachment.id))?;
            sqlx::query(
                "INSERT INTO attachments (id, case_id, size, created_at, sealed_key, sealed) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&attachment.id)
            .bind(handle.row_id())
            .bind(i64::try_from(content.len()).unwrap_or(i64::MAX))
            .bind(now.timestamp_millis())
            .bind(sealed.key_id)
            .bind(sealed.blob)
            .execute(&mut *self.work.tx)
            .await?;
            events.push(EventKind::AttachmentAdded { attachment });
        }
        Ok(events)
    }
}

impl Store {
    /// An attachment of a case and its content, if the case has one with that id.
    pub async fn attachment(&self, reference: CaseRef, id: &str) -> Result<Option<AttachmentFile>> {
        let case = self.case(reference).await?;
        let Some(attachment) = case.attachments.into_iter().find(|a| a.id == id) else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT a.sealed_key, a.sealed FROM attachments a JOIN cases c ON c.id = a.case_id \
             WHERE a.id = $1 AND c.reference = $2",
        )
        .bind(id)
        .bind(reference.to_string())
        .fetch_optional(&self.reader)
        .await?
        .ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{reference} lists attachment {id}, but its content is missing"
            ))
        })?;
        let key: String = row.try_get("sealed_key")?;
        let blob: Vec<u8> = row.try_get("sealed")?;
        let content = self.keyring.open(&key, &blob, &context(id))?;
        Ok(Some((attachment, content)))
    }
}
