//! The outbox: deliveries written with the events that cause them, claimed by
//! workers under a lease, retried with backoff, and kept with every attempt.
//!
//! On PostgreSQL a claim takes rows with `FOR UPDATE SKIP LOCKED`, so several
//! servers share the work and each message goes to exactly one of them; a
//! worker that dies leaves its lease to expire, and the message is claimed
//! again with the same idempotency key. On SQLite the single writer makes the
//! claim atomic by itself.

use embargo_core::notify::{
    Delivery, Notice, Preferences, Recipient, Webhook, WebhookFormat, plan,
};
use embargo_core::{Instant, Severity};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use crate::work::Work;
use crate::{Backend, Result, Store, StoreError, millis};

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting for its next attempt.
    Pending,
    /// Claimed by a worker whose lease has not run out.
    Delivering,
    Delivered,
    /// Failed too often; an admin can retry it.
    Dead,
}

impl OutboxState {
    pub const ALL: [OutboxState; 4] = [
        OutboxState::Pending,
        OutboxState::Delivering,
        OutboxState::Delivered,
        OutboxState::Dead,
    ];

    /// The state's name, as stored and shown.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Delivering => "delivering",
            OutboxState::Delivered => "delivered",
            OutboxState::Dead => "dead",
        }
    }

    /// The state named `name`, if any.
    #[must_use]
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    fn parse(s: &str) -> Result<Self> {
        Self::named(s).ok_or_else(|| StoreError::Corrupt(format!("outbox state `{s}`")))
    }
}

/// A delivery as shown to the team: to whom, what, and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeliveryRecord {
    pub id: i64,
    pub idempotency_key: String,
    pub kind: String,
    pub channel: String,
    /// The email address, or the webhook's URL.
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_ref: Option<String>,
    pub state: OutboxState,
    pub attempts: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// A delivery claimed by a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: i64,
    pub idempotency_key: String,
    pub attempts: i64,
    pub delivery: Delivery,
    /// The claim's fencing token: only its holder may renew, record or release.
    pub lease_token: String,
}

const RECORD_COLUMNS: &str = "id, idempotency_key, kind, channel, case_ref, sealed_key, sealed, state, \
                              attempts, created_at, delivered_at, last_error";

pub(crate) fn context(key: &str) -> Vec<u8> {
    format!("embargo:outbox:{key}").into_bytes()
}

pub(crate) fn webhook_context(id: &str) -> Vec<u8> {
    format!("embargo:webhook:{id}").into_bytes()
}

/// Deliveries waiting to go out, within a unit of work.
impl<'s> Work<'s> {
    /// Deliveries waiting to go out.
    pub fn outbox(&mut self) -> Outbox<'_, 's> {
        Outbox { work: self }
    }
}

#[derive(Debug)]
pub struct Outbox<'w, 's> {
    pub(crate) work: &'w mut Work<'s>,
}

impl Outbox<'_, '_> {
    /// Plans every destination of `notices` (the reporter's address, the
    /// team's preferences, the webhooks' filters) and queues the deliveries.
    pub async fn queue_notices(
        &mut self,
        notices: &[Notice],
        reporter: Option<&str>,
        at: Instant,
    ) -> Result<()> {
        if notices.is_empty() {
            return Ok(());
        }
        let tx = &mut self.work.tx;
        let team = sqlx::query(
            "SELECT email, notify, pgp_key FROM users WHERE email IS NOT NULL AND disabled = 0",
        )
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| {
            Ok(Recipient {
                email: r.try_get("email")?,
                preferences: serde_json::from_str(&r.try_get::<String, _>("notify")?)
                    .unwrap_or_default(),
                pgp_key: r.try_get("pgp_key")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let hooks = sqlx::query(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE disabled = 0"
        ))
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(webhook_from_row)
        .collect::<Result<Vec<_>>>()?;
        for notice in notices {
            for planned in plan(notice, reporter, &team, &hooks) {
                if let Delivery::DigestItem { to, line } = &planned.delivery {
                    sqlx::query(
                        "INSERT INTO digest_items (email, kind, case_ref, line, created_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(to)
                    .bind(notice.kind.as_str())
                    .bind(&notice.case_ref)
                    .bind(line)
                    .bind(at.timestamp_millis())
                    .execute(&mut *self.work.tx)
                    .await?;
                    continue;
                }
                let case_ref = (!notice.case_ref.is_empty()).then_some(notice.case_ref.as_str());
                self.queue(
                    &planned.idempotency_key,
                    notice.kind.as_str(),
                    case_ref,
                    &planned.delivery,
                    at,
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Queues one delivery, sealed, unless one with the same idempotency key
    /// exists; returns whether it was queued.
    pub async fn queue(
        &mut self,
        idempotency_key: &str,
        kind: &str,
        case_ref: Option<&str>,
        delivery: &Delivery,
        now: Instant,
    ) -> Result<bool> {
        let text = serde_json::to_vec(delivery).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sealed = self
            .work
            .store
            .keyring
            .seal(&text, &context(idempotency_key))?;
        let inserted = sqlx::query(
            "INSERT INTO outbox (idempotency_key, kind, channel, case_ref, sealed_key, sealed, state, attempts, created_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7) ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(idempotency_key)
        .bind(kind)
        .bind(delivery.channel())
        .bind(case_ref)
        .bind(sealed.key_id)
        .bind(sealed.blob)
        .bind(now.timestamp_millis())
        .execute(&mut *self.work.tx)
        .await?
        .rows_affected();
        Ok(inserted > 0)
    }
}

impl Store {
    /// Claims up to `limit` deliveries that are due (or whose lease ran out)
    /// for `worker` until `lease_until`. The claim writes a fresh lease token
    /// on every row it takes (returned in each [`Claimed`]): only the holder
    /// of that token may renew the lease, record the outcome or release the
    /// message, so a worker whose lease was taken over can do none of these.
    pub async fn claim_deliveries(
        &self,
        worker: &str,
        now: Instant,
        lease_until: Instant,
        limit: u32,
    ) -> Result<Vec<Claimed>> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let token = embargo_core::auth::generate_token("claim_");
        let rows = sqlx::query(&format!(
            "UPDATE outbox SET state = 'delivering', lease_owner = $1, lease_until = $2, lease_token = $5, \
             attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox WHERE (state = 'pending' AND next_attempt_at <= $3) \
             OR (state = 'delivering' AND lease_until <= $3) ORDER BY id LIMIT $4{lock}) \
             RETURNING id, idempotency_key, sealed_key, sealed, attempts"
        ))
        .bind(worker)
        .bind(lease_until.timestamp_millis())
        .bind(now.timestamp_millis())
        .bind(i64::from(limit.clamp(1, 1000)))
        .bind(&token)
        .fetch_all(&self.writer)
        .await?;
        let mut claimed = rows
            .iter()
            .map(|r| {
                let key: String = r.try_get("idempotency_key")?;
                let plain = self.open_delivery(r, &key)?;
                Ok(Claimed {
                    id: r.try_get("id")?,
                    attempts: r.try_get("attempts")?,
                    delivery: serde_json::from_slice(&plain)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    idempotency_key: key,
                    lease_token: token.clone(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        claimed.sort_by_key(|c| c.id);
        Ok(claimed)
    }

    /// Extends until `lease_until` the lease on every message the claim
    /// `lease_token` still holds, and returns their ids. A worker calls this
    /// right before each send and sends only a message in the answer: one
    /// that another worker took over after its lease ran out is not there.
    pub async fn renew_deliveries(
        &self,
        lease_token: &str,
        lease_until: Instant,
    ) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "UPDATE outbox SET lease_until = $1 WHERE lease_token = $2 AND state = 'delivering' RETURNING id",
        )
        .bind(lease_until.timestamp_millis())
        .bind(lease_token)
        .fetch_all(&self.writer)
        .await?;
        rows.iter()
            .map(|r| r.try_get("id").map_err(StoreError::from))
            .collect()
    }

    /// Gives back, unsent, every message the claim `lease_token` still holds
    /// (a worker stopping): each is due again at `now` and its claim does not
    /// count as an attempt. Returns how many were released.
    pub async fn release_deliveries(&self, lease_token: &str, now: Instant) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE outbox SET state = 'pending', lease_owner = NULL, lease_until = NULL, lease_token = NULL, \
             attempts = attempts - 1, next_attempt_at = $1 WHERE lease_token = $2 AND state = 'delivering'",
        )
        .bind(now.timestamp_millis())
        .bind(lease_token)
        .execute(&self.writer)
        .await?
        .rows_affected())
    }

    /// Records a successful delivery, if the claim `lease_token` still holds
    /// the message; the attempt is recorded only then. Returns whether it did.
    pub async fn delivered(
        &self,
        id: i64,
        lease_token: &str,
        worker: &str,
        now: Instant,
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            "UPDATE outbox SET state = 'delivered', delivered_at = $1, lease_owner = NULL, lease_until = NULL, \
             lease_token = NULL, last_error = NULL \
             WHERE id = $2 AND lease_token = $3 AND state = 'delivering'",
        )
        .bind(now.timestamp_millis())
        .bind(id)
        .bind(lease_token)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if done {
            record_attempt(&mut tx, id, worker, now, true, None).await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Records a failed attempt, if the claim `lease_token` still holds the
    /// message: retried at `retry_at`, or dead after `max_attempts`. Returns
    /// the message's new state, or `None` when the claim had lost it (then
    /// nothing is recorded).
    #[allow(clippy::too_many_arguments)]
    pub async fn delivery_failed(
        &self,
        id: i64,
        lease_token: &str,
        worker: &str,
        now: Instant,
        error: &str,
        retry_at: Instant,
        max_attempts: i64,
    ) -> Result<Option<OutboxState>> {
        let error: String = error.chars().take(1000).collect();
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(
            "UPDATE outbox SET state = CASE WHEN attempts >= $1 THEN 'dead' ELSE 'pending' END, \
             next_attempt_at = $2, lease_owner = NULL, lease_until = NULL, lease_token = NULL, last_error = $3 \
             WHERE id = $4 AND lease_token = $5 AND state = 'delivering' RETURNING state",
        )
        .bind(max_attempts)
        .bind(retry_at.timestamp_millis())
        .bind(&error)
        .bind(id)
        .bind(lease_token)
        .fetch_optional(&mut *tx)
        .await?;
        if row.is_some() {
            record_attempt(&mut tx, id, worker, now, false, Some(&error)).await?;
        }
        tx.commit().await?;
        row.map(|r| OutboxState::parse(&r.try_get::<String, _>("state")?))
            .transpose()
    }

    /// Deliveries, newest first: of one case, in one state, or all.
    pub async fn deliveries(
        &self,
        case_ref: Option<&str>,
        state: Option<OutboxState>,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>> {
        let state_name = state.map(OutboxState::as_str);
        let rows = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM outbox WHERE ($1 = '' OR case_ref = $1) AND ($2 = '' OR state = $2) \
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(case_ref.unwrap_or(""))
        .bind(state_name.unwrap_or(""))
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(|r| self.record_from_row(r)).collect()
    }

    /// A page of the delivery log, newest first, older than the delivery
    /// `before` (when given), in `state` (when given); with how many there
    /// are in all in that state.
    pub async fn deliveries_page(
        &self,
        state: Option<OutboxState>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<(Vec<DeliveryRecord>, i64)> {
        let state_name = state.map(OutboxState::as_str).unwrap_or("");
        let rows = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM outbox WHERE ($1 = '' OR state = $1) AND id < $2 \
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(state_name)
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit.clamp(1, 10_001)))
        .fetch_all(&self.reader)
        .await?;
        let total: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE ($1 = '' OR state = $1)")
                .bind(state_name)
                .fetch_one(&self.reader)
                .await?
                .try_get("n")?;
        let records = rows
            .iter()
            .map(|r| self.record_from_row(r))
            .collect::<Result<_>>()?;
        Ok((records, total))
    }

    /// The newest deliveries on `channel` (`email`, `webhook`), newest first.
    pub async fn deliveries_on_channel(
        &self,
        channel: &str,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM outbox WHERE channel = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(channel)
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(|r| self.record_from_row(r)).collect()
    }

    /// The newest delivery of `kind` (a setup test email, say), if any.
    pub async fn last_delivery_of_kind(&self, kind: &str) -> Result<Option<DeliveryRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM outbox WHERE kind = $1 ORDER BY id DESC LIMIT 1"
        ))
        .bind(kind)
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(|r| self.record_from_row(r)).transpose()
    }

    /// The delivery queued under `idempotency_key`, if any.
    pub async fn delivery_by_key(&self, idempotency_key: &str) -> Result<Option<DeliveryRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM outbox WHERE idempotency_key = $1"
        ))
        .bind(idempotency_key)
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(|r| self.record_from_row(r)).transpose()
    }

    /// Queues deliveries that belong to no case (customer notices of a
    /// feed's advisory), each once by its key; returns the keys queued now.
    pub async fn queue_deliveries(
        &self,
        deliveries: &[(String, &'static str, Delivery)],
        now: Instant,
    ) -> Result<Vec<String>> {
        let mut work = self.begin().await?;
        let mut queued = Vec::new();
        for (key, kind, delivery) in deliveries {
            if work.outbox().queue(key, kind, None, delivery, now).await? {
                queued.push(key.clone());
            }
        }
        work.commit().await?;
        Ok(queued)
    }

    /// Puts a dead delivery back in the queue, now.
    pub async fn retry_delivery(&self, id: i64, now: Instant) -> Result<DeliveryRecord> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $1 WHERE id = $2 AND state = 'dead'",
        )
        .bind(now.timestamp_millis())
        .bind(id)
        .execute(&self.writer)
        .await?
        .rows_affected();
        let row = sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM outbox WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.reader)
        .await?
        .ok_or_else(|| StoreError::not_found("delivery", id))?;
        if done == 0 {
            return Err(StoreError::Conflict(format!(
                "delivery {id} is not dead; only dead deliveries are retried"
            )));
        }
        self.record_from_row(&row)
    }

    /// How many attempts each delivery had, in order (for tests and audits).
    pub async fn delivery_attempts(&self, id: i64) -> Result<Vec<(i64, bool, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT attempt, ok, detail FROM outbox_attempts WHERE outbox_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("attempt")?,
                    r.try_get::<i64, _>("ok")? != 0,
                    r.try_get("detail")?,
                ))
            })
            .collect()
    }

    /// Decrypts a delivery row's sealed part (bound to its idempotency key).
    fn open_delivery(&self, r: &AnyRow, key: &str) -> Result<Vec<u8>> {
        Ok(self.keyring.open(
            &r.try_get::<String, _>("sealed_key")?,
            &r.try_get::<Vec<u8>, _>("sealed")?,
            &context(key),
        )?)
    }

    fn record_from_row(&self, r: &AnyRow) -> Result<DeliveryRecord> {
        let key: String = r.try_get("idempotency_key")?;
        let plain = self.open_delivery(r, &key)?;
        let delivery: Delivery =
            serde_json::from_slice(&plain).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(DeliveryRecord {
            id: r.try_get("id")?,
            kind: r.try_get("kind")?,
            channel: r.try_get("channel")?,
            to: match delivery {
                Delivery::Email { to, .. } | Delivery::DigestItem { to, .. } => to,
                Delivery::Webhook { url, .. } => url,
            },
            case_ref: r.try_get("case_ref")?,
            state: OutboxState::parse(&r.try_get::<String, _>("state")?)?,
            attempts: r.try_get("attempts")?,
            created_at: millis(r.try_get("created_at")?)?,
            delivered_at: r
                .try_get::<Option<i64>, _>("delivered_at")?
                .map(millis)
                .transpose()?,
            last_error: r.try_get("last_error")?,
            idempotency_key: key,
        })
    }

    /// Turns every recipient's unsent digest lines into one email each, queued
    /// in the outbox under a key per recipient and day, so a digest goes out
    /// once a day however many servers compose it. Returns how many were queued.
    pub async fn compose_digests(&self, now: Instant) -> Result<u32> {
        let day = now.format("%Y-%m-%d").to_string();
        let emails: Vec<String> = sqlx::query(
            "SELECT DISTINCT email FROM digest_items WHERE sent_at IS NULL ORDER BY email",
        )
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(|r| r.try_get("email"))
        .collect::<Result<_, _>>()?;
        let mut queued = 0;
        for email in emails {
            let mut work = self.begin().await?;
            let rows = sqlx::query(
                "SELECT id, line FROM digest_items WHERE email = $1 AND sent_at IS NULL AND created_at <= $2 ORDER BY id",
            )
            .bind(&email)
            .bind(now.timestamp_millis())
            .fetch_all(&mut *work.tx)
            .await?;
            if rows.is_empty() {
                continue;
            }
            let lines: Vec<String> = rows
                .iter()
                .map(|r| r.try_get("line"))
                .collect::<Result<_, _>>()?;
            let last_id: i64 = rows
                .last()
                .map(|r| r.try_get("id"))
                .transpose()?
                .unwrap_or(0);
            let key = format!("digest:{email}:{day}");
            let delivery = embargo_core::notify::digest_email(&email, &day, &lines);
            let key_row =
                sqlx::query("SELECT pgp_key FROM users WHERE email = $1 AND pgp_key IS NOT NULL")
                    .bind(&email)
                    .fetch_optional(&mut *work.tx)
                    .await?;
            let delivery = match key_row {
                Some(r) => embargo_core::notify::encrypt_if_keyed(
                    delivery,
                    Some(&r.try_get::<String, _>("pgp_key")?),
                ),
                None => delivery,
            };
            let inserted = work
                .outbox()
                .queue(&key, "digest", None, &delivery, now)
                .await?;
            if !inserted {
                // Today's digest already went; these lines wait for tomorrow's.
                continue;
            }
            sqlx::query("UPDATE digest_items SET sent_at = $1 WHERE email = $2 AND sent_at IS NULL AND id <= $3")
                .bind(now.timestamp_millis())
                .bind(&email)
                .bind(last_id)
                .execute(&mut *work.tx)
                .await?;
            work.commit().await?;
            queued += 1;
        }
        Ok(queued)
    }

    // ---------------------------------------------------------------- webhooks

    /// Adds a webhook subscription; its signing secret is sealed.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_webhook(
        &self,
        name: &str,
        url: &str,
        format: WebhookFormat,
        kinds: &[embargo_core::notify::NoticeKind],
        products: &[String],
        min_severity: Option<Severity>,
        secret: &str,
        now: Instant,
    ) -> Result<Webhook> {
        let mut tx = self.writer.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO webhooks (name, url, format, kinds, products, min_severity, sealed_key, sealed, created_at, disabled) \
             VALUES ($1, $2, $3, $4, $5, $6, '', $7, $8, 0) RETURNING id",
        )
        .bind(name)
        .bind(url)
        .bind(format.as_str())
        .bind(serde_json::to_string(kinds).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        .bind(serde_json::to_string(products).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        .bind(min_severity.map(|s| s.as_str().to_owned()))
        .bind(Vec::<u8>::new())
        .bind(now.timestamp_millis())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        // The secret is bound to the row's id, known only after the insert.
        let sealed = self
            .keyring
            .seal(secret.as_bytes(), &webhook_context(&id.to_string()))?;
        sqlx::query("UPDATE webhooks SET sealed_key = $1, sealed = $2 WHERE id = $3")
            .bind(sealed.key_id)
            .bind(sealed.blob)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.webhook(id).await.map(|(w, _)| w)
    }

    /// A subscription and its signing secret.
    pub async fn webhook(&self, id: i64) -> Result<(Webhook, String)> {
        let row = sqlx::query(&format!(
            "SELECT {WEBHOOK_COLUMNS}, sealed_key, sealed FROM webhooks WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.reader)
        .await?
        .ok_or_else(|| StoreError::not_found("webhook", id))?;
        let secret = self.keyring.open(
            &row.try_get::<String, _>("sealed_key")?,
            &row.try_get::<Vec<u8>, _>("sealed")?,
            &webhook_context(&id.to_string()),
        )?;
        Ok((
            webhook_from_row(&row)?,
            String::from_utf8(secret).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        ))
    }

    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>> {
        sqlx::query(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY id"
        ))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(webhook_from_row)
        .collect()
    }

    /// Disables (or re-enables) a subscription; disabled ones get nothing new.
    pub async fn set_webhook_disabled(&self, id: i64, disabled: bool) -> Result<Webhook> {
        let n = sqlx::query("UPDATE webhooks SET disabled = $1 WHERE id = $2")
            .bind(i64::from(disabled))
            .bind(id)
            .execute(&self.writer)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::not_found("webhook", id));
        }
        self.webhook(id).await.map(|(w, _)| w)
    }

    /// Sets a user's email address and notification preferences.
    pub async fn set_notifications(
        &self,
        user_id: i64,
        email: Option<&str>,
        preferences: &Preferences,
    ) -> Result<()> {
        if let Some(e) = email {
            embargo_core::auth::validate_email(e)?;
        }
        sqlx::query("UPDATE users SET email = $1, notify = $2 WHERE id = $3")
            .bind(email.map(str::to_owned))
            .bind(
                serde_json::to_string(preferences)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            )
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Sets (or clears) the OpenPGP public key a user's email is encrypted to.
    pub async fn set_pgp_key(&self, user_id: i64, armored: Option<&str>) -> Result<()> {
        if let Some(key) = armored {
            embargo_core::notify::check_public_key(key).map_err(|m| {
                StoreError::Domain(embargo_core::DomainError::invalid("pgp_key", m))
            })?;
        }
        sqlx::query("UPDATE users SET pgp_key = $1 WHERE id = $2")
            .bind(armored.map(str::to_owned))
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// A user's notification preferences and OpenPGP key.
    pub async fn preferences(&self, user_id: i64) -> Result<(Preferences, Option<String>)> {
        let row = sqlx::query("SELECT notify, pgp_key FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.reader)
            .await?
            .ok_or_else(|| StoreError::not_found("user", user_id))?;
        Ok((
            serde_json::from_str(&row.try_get::<String, _>("notify")?).unwrap_or_default(),
            row.try_get("pgp_key")?,
        ))
    }
}

const WEBHOOK_COLUMNS: &str = "id, name, url, format, kinds, products, min_severity, disabled";

fn webhook_from_row(r: &AnyRow) -> Result<Webhook> {
    let corrupt = |e: String| StoreError::Corrupt(e);
    Ok(Webhook {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        url: r.try_get("url")?,
        format: r.try_get::<String, _>("format")?.parse().map_err(corrupt)?,
        kinds: serde_json::from_str(&r.try_get::<String, _>("kinds")?)
            .map_err(|e| corrupt(e.to_string()))?,
        products: serde_json::from_str(&r.try_get::<String, _>("products")?)
            .map_err(|e| corrupt(e.to_string()))?,
        min_severity: r
            .try_get::<Option<String>, _>("min_severity")?
            .map(|s| s.parse())
            .transpose()?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
    })
}

async fn record_attempt(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    worker: &str,
    now: Instant,
    ok: bool,
    detail: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox_attempts (outbox_id, attempt, at, worker, ok, detail) \
         SELECT id, attempts, $1, $2, $3, $4 FROM outbox WHERE id = $5",
    )
    .bind(now.timestamp_millis())
    .bind(worker)
    .bind(i64::from(ok))
    .bind(detail.map(str::to_owned))
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
