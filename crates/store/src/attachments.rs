//! Attached files: their contents sealed in `attachments`, bound to the
//! attachment id so a blob moved to another row does not open; what is known
//! about each file travels in an `attachment_added` event.

use embargo_core::attachment::Attachment;
use embargo_core::case::Event;
use embargo_core::{Case, CaseRef, DomainError, EventKind, Instant};
use sqlx::Row;

use crate::{Result, Store, StoreError, case_row, lock_chain};

/// A described file and its content, ready to store.
pub type AttachmentFile = (Attachment, Vec<u8>);

pub(crate) fn context(id: &str) -> Vec<u8> {
    format!("embargo:attachment:{id}").into_bytes()
}

impl Store {
    /// Seals and stores `files` for a case; returns their events.
    pub(crate) async fn insert_attachments(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        case_id: i64,
        files: Vec<AttachmentFile>,
        now: Instant,
    ) -> Result<Vec<EventKind>> {
        let mut events = Vec::with_capacity(files.len());
        for (attachment, content) in files {
            let sealed = self.keyring.seal(&content, &context(&attachment.id))?;
            sqlx::query(
                "INSERT INTO attachments (id, case_id, size, created_at, sealed_key, sealed) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&attachment.id)
            .bind(case_id)
            .bind(i64::try_from(content.len()).unwrap_or(i64::MAX))
            .bind(now.timestamp_millis())
            .bind(sealed.key_id)
            .bind(sealed.blob)
            .execute(&mut **tx)
            .await?;
            events.push(EventKind::AttachmentAdded { attachment });
        }
        Ok(events)
    }

    /// Attaches files to a case (the team's or the mailbox's), one event each.
    pub async fn attach(
        &self,
        reference: CaseRef,
        files: Vec<AttachmentFile>,
        actor: &str,
        now: Instant,
    ) -> Result<(Case, Vec<Event>)> {
        if files.is_empty() {
            return Err(StoreError::Domain(DomainError::invalid(
                "attachments",
                "no file was sent",
            )));
        }
        let now = embargo_core::to_millis(now);
        let mut tx = self.writer.begin().await?;
        let head = lock_chain(&mut tx).await?;
        let (case_id, row) = case_row(&mut tx, reference).await?;
        let case = self.case_from_row(&row)?;
        let events = self
            .insert_attachments(&mut tx, case_id, files, now)
            .await?;
        self.record(tx, head, case_id, case, events, actor, now)
            .await
    }

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
