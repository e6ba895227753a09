//! Advisories: each case's draft sealed in `advisories` (bound to the
//! advisory id), and its public form written only by the publish action, in
//! the same transaction as the case's `advisory_published` event.

use embargo_core::advisory::{Advisory, Credit, CreditKind};
use embargo_core::case::Event;
use embargo_core::{Case, CaseRef, CaseState, DomainError, EventKind, Instant};
use sqlx::Row;

use crate::{Result, Store, StoreError, case_row, lock_chain};

pub(crate) fn context(id: &str) -> Vec<u8> {
    format!("embargo:advisory:{id}").into_bytes()
}

pub(crate) fn signing_context(purpose: &str) -> Vec<u8> {
    format!("embargo:signing-key:{purpose}").into_bytes()
}

/// Whether a case's fix exists, so that its advisory may be published.
#[must_use]
pub fn case_is_fixed(case: &Case) -> bool {
    matches!(
        case.state,
        CaseState::FixAvailable | CaseState::Released | CaseState::Disclosed | CaseState::Closed
    )
}

impl Store {
    /// Writes (or replaces) the draft advisory of a case. The case's
    /// reference and the revisions and publication of an earlier draft are
    /// kept as they are: only the publish action changes them.
    pub async fn save_advisory_draft(
        &self,
        reference: CaseRef,
        mut draft: Advisory,
        actor: &str,
        now: Instant,
    ) -> Result<(Advisory, Case, Vec<Event>)> {
        let now = embargo_core::to_millis(now);
        draft.case_ref = reference.to_string();
        if draft
            .credits
            .iter()
            .any(|c| matches!(c.kind, CreditKind::Finder | CreditKind::Reporter))
        {
            return Err(StoreError::Domain(DomainError::invalid(
                "credits",
                "the reporter's credit comes from their own consent (credit_reporter), not from the team",
            )));
        }
        let mut tx = self.writer.begin().await?;
        let head = lock_chain(&mut tx).await?;
        let (case_id, row) = case_row(&mut tx, reference).await?;
        let case = self.case_from_row(&row)?;
        let existing =
            sqlx::query("SELECT id, sealed_key, sealed FROM advisories WHERE case_id = $1")
                .bind(case_id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(row) = &existing {
            let old = self.draft_from_row(row)?;
            if old.published.is_some() && old.id != draft.id {
                return Err(StoreError::Domain(DomainError::invalid(
                    "id",
                    "a published advisory keeps its id",
                )));
            }
            draft.revisions = old.revisions;
            draft.published = old.published;
        }
        draft.validate()?;
        let taken = sqlx::query("SELECT 1 FROM advisories WHERE id = $1 AND case_id <> $2")
            .bind(&draft.id)
            .bind(case_id)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Domain(DomainError::invalid(
                "id",
                format!("`{}` is the id of another case's advisory", draft.id),
            )));
        }
        let json = serde_json::to_vec(&draft).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sealed = self.keyring.seal(&json, &context(&draft.id))?;
        // A published advisory stays public while its draft is edited: the
        // public form changes only when it is published again.
        let query = if existing.is_some() {
            "UPDATE advisories SET id = $1, sealed_key = $3, sealed = $4, modified_at = $5 \
             WHERE case_id = $2"
        } else {
            "INSERT INTO advisories (id, case_id, sealed_key, sealed, published, published_at, modified_at) \
             VALUES ($1, $2, $3, $4, NULL, NULL, $5)"
        };
        sqlx::query(query)
            .bind(&draft.id)
            .bind(case_id)
            .bind(sealed.key_id)
            .bind(sealed.blob)
            .bind(now.timestamp_millis())
            .execute(&mut *tx)
            .await?;
        let events = vec![EventKind::AdvisoryDrafted {
            advisory: draft.id.clone(),
        }];
        let (case, events) = self
            .record(tx, head, case_id, case, events, actor, now)
            .await?;
        Ok((draft, case, events))
    }

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

    /// Publishes (or republishes) a case's advisory: allowed once the case
    /// is fixed or the reporter's disclosure date has come. The reporter is
    /// credited when `credit_reporter` is set and they gave a name to
    /// credit (their consent, changeable in their portal).
    pub async fn publish_advisory(
        &self,
        reference: CaseRef,
        summary: &str,
        credit_reporter: bool,
        actor: &str,
        now: Instant,
    ) -> Result<(Advisory, Case, Vec<Event>)> {
        let now = embargo_core::to_millis(now);
        let mut tx = self.writer.begin().await?;
        let head = lock_chain(&mut tx).await?;
        let (case_id, row) = case_row(&mut tx, reference).await?;
        let case = self.case_from_row(&row)?;
        let row = sqlx::query("SELECT id, sealed_key, sealed FROM advisories WHERE case_id = $1")
            .bind(case_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| {
                StoreError::Domain(DomainError::invalid(
                    "advisory",
                    "the case has no advisory draft",
                ))
            })?;
        let id: String = row.try_get("id")?;
        let mut advisory = self.draft_from_row(&row)?;
        advisory
            .credits
            .retain(|c| !matches!(c.kind, CreditKind::Finder | CreditKind::Reporter));
        if credit_reporter && let Some(name) = case.reporter.name.as_deref() {
            advisory.credits.insert(
                0,
                Credit {
                    name: name.to_owned(),
                    kind: CreditKind::Finder,
                },
            );
        }
        advisory.publish(case_is_fixed(&case), case.reporter_deadline, now, summary)?;
        let json = serde_json::to_vec(&advisory).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sealed = self.keyring.seal(&json, &context(&id))?;
        let public = public_form(&advisory)?;
        sqlx::query(
            "UPDATE advisories SET sealed_key = $1, sealed = $2, published = $3, published_at = $4, \
             modified_at = $5 WHERE id = $6",
        )
        .bind(sealed.key_id)
        .bind(sealed.blob)
        .bind(public)
        .bind(advisory.published.unwrap_or(now).timestamp_millis())
        .bind(now.timestamp_millis())
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        let revision = advisory.revisions.last().map_or(1, |r| r.number);
        let events = vec![EventKind::AdvisoryPublished {
            advisory: id,
            revision,
        }];
        let extras = crate::outbox::NoticeExtras {
            private_link: None,
            credited_as: advisory
                .credits
                .iter()
                .find(|c| matches!(c.kind, CreditKind::Finder))
                .map(|c| c.name.clone()),
        };
        let (case, events) = self
            .record_with(tx, head, case_id, case, events, actor, now, &extras)
            .await?;
        Ok((advisory, case, events))
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

/// A message for one customer, queued under its own idempotency key.
#[derive(Debug, Clone)]
pub struct CustomerMessage {
    pub customer: String,
    /// Unique per case, advisory revision and customer: asking twice queues nothing new.
    pub idempotency_key: String,
    pub delivery: embargo_core::notify::Delivery,
}

impl Store {
    /// Queues one notice per impacted customer and, when at least one is
    /// new, records on the case that customers were notified (which stops
    /// the customer-notice clock), all in one transaction. Returns the
    /// customers whose notice was queued now (the others had theirs).
    pub async fn notify_customers(
        &self,
        reference: CaseRef,
        messages: &[CustomerMessage],
        actor: &str,
        now: Instant,
    ) -> Result<(Vec<String>, Case, Vec<Event>)> {
        let now = embargo_core::to_millis(now);
        let mut tx = self.writer.begin().await?;
        let head = lock_chain(&mut tx).await?;
        let (case_id, row) = case_row(&mut tx, reference).await?;
        let case = self.case_from_row(&row)?;
        let mut queued = Vec::new();
        for m in messages {
            let new = self
                .queue(
                    &mut tx,
                    &m.idempotency_key,
                    "customer.notice",
                    Some(&reference.to_string()),
                    &m.delivery,
                    now,
                )
                .await?;
            if new {
                queued.push(m.customer.clone());
            }
        }
        if queued.is_empty() {
            tx.rollback().await?;
            return Ok((queued, case, Vec::new()));
        }
        let note = format!(
            "{} customer{} notified: {}",
            queued.len(),
            if queued.len() == 1 { "" } else { "s" },
            queued.join(", ")
        );
        let events = vec![EventKind::CustomersNotified { note: Some(note) }];
        let (case, events) = self
            .record(tx, head, case_id, case, events, actor, now)
            .await?;
        Ok((queued, case, events))
    }
}
