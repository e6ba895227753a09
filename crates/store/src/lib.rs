//! embargo's persistence: one [`Store`] over SQLite or PostgreSQL, chosen by URL.
//!
//! Both backends run the same SQL through sqlx's `Any` driver (the queries are
//! written in the subset both accept, with `$N` parameters), so there is one
//! implementation and one contract test suite. What differs lives in
//! [`Backend`]: connection set-up, migrations, and backups.
//!
//! Everything confidential is sealed with the [`Keyring`] before it is bound to
//! a query, so no report text reaches the database in the clear.

mod advisories;
mod attachments;
mod desk;
mod error;
mod leases;
mod mailbox;
mod migrate;
mod outbox;
mod portfolio;
mod rekey;
mod reporter;
mod seal;
pub mod testing;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use embargo_core::auth::{ApiToken, Role, User};
use embargo_core::case::{Event, decide};
use embargo_core::chain::{self, Link, Verifier};
use embargo_core::crypto::Keyring;
use embargo_core::reactions::Reaction;
use embargo_core::{Case, CaseRef, CaseState, Command, EventKind, Instant, NewCase, Severity};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

pub use advisories::{CustomerMessage, case_is_fixed};
pub use attachments::AttachmentFile;
pub use desk::{MAX_SAVED_VIEWS, SavedView, TotpSecret};
pub use error::StoreError;
pub use outbox::{Claimed, DeliveryRecord, OutboxState};

type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Whether SQLite's writer connection may be used again. sqlx counts the
/// transactions it opened itself; when SQLite rolls a transaction back on
/// its own (a full disk: SQLITE_FULL at COMMIT), sqlx's ROLLBACK then fails
/// and its count stays one too high, so the next "transaction" would be a
/// savepoint — and after one more failure, every later commit would only
/// release a savepoint inside a transaction never committed: acknowledged
/// writes lost. A connection whose count or state is in doubt is closed
/// (which rolls back whatever SQLite still holds) and the pool opens a fresh
/// one.
async fn writer_is_clean(conn: &mut sqlx::AnyConnection) -> std::result::Result<bool, sqlx::Error> {
    use sqlx::{Connection, Executor};
    // BEGIN runs after any rollback still queued by a dropped transaction,
    // and fails if SQLite itself is inside a transaction.
    if conn.execute("BEGIN").await.is_err() {
        tracing::warn!("the SQLite writer was left inside a transaction; reconnecting");
        return Ok(false);
    }
    conn.execute("ROLLBACK").await?;
    if conn.is_in_transaction() {
        tracing::warn!("sqlx's transaction count disagrees with SQLite's; reconnecting");
        return Ok(false);
    }
    Ok(true)
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names.
    pub fn of_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Config(format!(
                "database_url: `{}` is neither sqlite://PATH nor postgres://...",
                redact_url(url)
            )))
        }
    }
}

/// A database URL with any password replaced, for messages and logs.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.chars().take(80).collect();
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    format!("{scheme}://{authority}/{path}")
}

/// Filters for listing cases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    pub state: Option<CaseState>,
    /// Only cases still being worked (not closed or rejected).
    pub open_only: bool,
    pub product: Option<String>,
    pub severity: Option<Severity>,
}

/// A page of cases, newest first, and the cursor for the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasePage {
    pub cases: Vec<Case>,
    pub next_cursor: Option<String>,
}

/// The result of `audit verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub events: u64,
    pub cases: u64,
}

/// The persistent store. Cheap to clone; clones share the pools.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// All writes. On SQLite a single connection: SQLite has one writer at a
    /// time anyway, and queueing here avoids lock-upgrade failures.
    writer: AnyPool,
    /// Reads. On SQLite several connections (WAL lets them run beside the writer).
    reader: AnyPool,
    keyring: Arc<Keyring>,
    messaging: Arc<Messaging>,
}

/// What the store needs to write messages to people outside the team: the
/// address embargo is reached at (for links) and the language of each
/// product's policy.
#[derive(Clone)]
pub struct Messaging {
    /// `https://security.example.org`: links in emails start here.
    pub public_url: String,
    /// The BCP 47 language that people hear from about a product.
    pub language_of: Arc<dyn Fn(&str) -> String + Send + Sync>,
}

impl Default for Messaging {
    fn default() -> Self {
        Messaging {
            public_url: String::new(),
            language_of: Arc::new(|_| "en".to_owned()),
        }
    }
}

impl std::fmt::Debug for Messaging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messaging")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

const CASE_COLUMNS: &str = "id, reference, product, state, severity, public, sealed_key, sealed";
const USER_COLUMNS: &str = "id, username, role, email, disabled, created_at";

impl Store {
    /// Connects to `url` (`sqlite://PATH` or `postgres://...`), creating a
    /// SQLite file if needed. Call [`Store::migrate`] before use.
    pub async fn connect(url: &str, keyring: Keyring) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let keyring = Arc::new(keyring);
        match backend {
            Backend::Sqlite => {
                let url = sqlite_url_with_create(url);
                let options = AnyConnectOptions::from_str(&url).map_err(StoreError::Database)?;
                let writer = AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(sqlite_pragmas)
                    .after_release(|conn, _| Box::pin(writer_is_clean(conn)))
                    .connect_with(options.clone())
                    .await?;
                let reader = AnyPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(sqlite_pragmas)
                    .connect_with(options)
                    .await?;
                Ok(Store {
                    backend,
                    writer,
                    reader,
                    keyring,
                    messaging: Arc::default(),
                })
            }
            Backend::Postgres => {
                // While PostgreSQL is down (a restart, a failover) a request
                // waits at most 10 seconds for a connection, then is answered
                // 503 with a retry time, rather than holding its client for
                // half a minute; once the database is back the pool opens
                // fresh connections by itself.
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await?;
                Ok(Store {
                    backend,
                    writer: pool.clone(),
                    reader: pool,
                    keyring,
                    messaging: Arc::default(),
                })
            }
        }
    }

    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    #[must_use]
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// This store, writing messages with `messaging`'s links and languages.
    #[must_use]
    pub fn with_messaging(mut self, messaging: Messaging) -> Self {
        self.messaging = Arc::new(messaging);
        self
    }

    #[must_use]
    pub fn messaging(&self) -> &Messaging {
        &self.messaging
    }

    /// Applies pending migrations; safe to run from several instances at once.
    pub async fn migrate(&self, now: Instant) -> Result<Vec<String>> {
        migrate::run(self.backend, &self.writer, now).await
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    /// Closes the pools, waiting for connections to be returned.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }

    // ---------------------------------------------------------------- cases

    /// Opens a case: allocates the next reference of `now`'s year and appends
    /// its first event, in one transaction.
    pub async fn create_case(&self, request: NewCase, actor: &str, now: Instant) -> Result<Case> {
        self.open_case(request, Vec::new(), actor, None, now).await
    }

    /// Opens a case from a reporter and records the digest of their private
    /// link's token, in one transaction.
    /// `private_link` goes only into the reporter's (sealed) receipt email.
    /// The report's `attachments` are stored in the same transaction: a
    /// report is kept whole or not at all. `mail_key` marks a report from the
    /// security mailbox as taken (see [`Store::mail_taken`]).
    pub async fn open_reported_case(
        &self,
        request: NewCase,
        attachments: Vec<AttachmentFile>,
        reporter_token_digest: &str,
        private_link: &str,
        mail_key: Option<&str>,
        now: Instant,
    ) -> Result<Case> {
        self.open_case(
            request,
            attachments,
            "reporter",
            Some(ReporterOrigin {
                token_digest: reporter_token_digest,
                private_link,
                mail_key,
            }),
            now,
        )
        .await
    }

    async fn open_case(
        &self,
        request: NewCase,
        attachments: Vec<AttachmentFile>,
        actor: &str,
        reporter: Option<ReporterOrigin<'_>>,
        now: Instant,
    ) -> Result<Case> {
        let now = embargo_core::to_millis(now);
        let request = request.validate()?;
        let mut tx = self.writer.begin().await?;
        let head = lock_chain(&mut tx).await?;
        let year = i64::from(now.year());
        let number: i64 = sqlx::query(
            "INSERT INTO case_counters (year, last) VALUES ($1, 1) \
             ON CONFLICT (year) DO UPDATE SET last = case_counters.last + 1 RETURNING last",
        )
        .bind(year)
        .fetch_one(&mut *tx)
        .await?
        .try_get("last")?;
        let reference = CaseRef::new(
            u16::try_from(year).map_err(|_| StoreError::Corrupt(format!("year {year}")))?,
            u32::try_from(number)
                .map_err(|_| StoreError::Corrupt(format!("case number {number}")))?,
        );
        let (mut case, event) = Case::open(reference, request, now)?;
        for (attachment, _) in &attachments {
            case.apply(
                &EventKind::AttachmentAdded {
                    attachment: attachment.clone(),
                },
                now,
            )?;
        }
        let (public, sealed) = seal::seal_case(&self.keyring, &case)?;
        let case_id: i64 = sqlx::query(
            "INSERT INTO cases (reference, product, state, severity, created_at, updated_at, revision, public, sealed_key, sealed) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(case.reference.to_string())
        .bind(&case.product)
        .bind(case.state.as_str())
        .bind(case.severity.map(|s| s.as_str().to_owned()))
        .bind(case.created_at.timestamp_millis())
        .bind(case.updated_at.timestamp_millis())
        .bind(i64::from(case.revision))
        .bind(public)
        .bind(sealed.key_id)
        .bind(sealed.blob)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let first_seq = head.0 + 1;
        let mut events = vec![event];
        events.extend(
            self.insert_attachments(&mut tx, case_id, attachments, now)
                .await?,
        );
        let head = self
            .append_events(&mut tx, head, case_id, reference, actor, now, &events)
            .await?;
        let extras = outbox::NoticeExtras {
            private_link: reporter.as_ref().map(|r| r.private_link.to_owned()),
            credited_as: None,
        };
        self.notify_with(&mut tx, &case, &events, first_seq, now, &extras)
            .await?;
        if let Some(origin) = &reporter {
            reporter::insert_token(&mut tx, case_id, origin.token_digest, now).await?;
            if let Some(key) = origin.mail_key {
                mailbox::mark_taken(&mut tx, key, Some(reference), "opened", now).await?;
            }
        }
        finish_chain(&mut tx, &head).await?;
        tx.commit().await?;
        Ok(case)
    }

    /// Runs a command against a case: decides, appends its events and updates
    /// the case, in one transaction. Returns the case and the new events.
    pub async fn execute(
        &self,
        reference: CaseRef,
        command: &Command,
        actor: &str,
        now: Instant,
    ) -> Result<(Case, Vec<Event>)> {
        let now = embargo_core::to_millis(now);
        let mut tx = self.writer.begin().await?;
        let head = lock_chain(&mut tx).await?;
        let (case_id, row) = case_row(&mut tx, reference).await?;
        let case = self.case_from_row(&row)?;
        if let Command::Duplicate { of } = command {
            let exists = sqlx::query("SELECT 1 FROM cases WHERE reference = $1")
                .bind(of.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            if !exists {
                return Err(StoreError::Domain(embargo_core::DomainError::invalid(
                    "of",
                    format!("no case {of}"),
                )));
            }
        }
        let events = decide(&case, command, now)?;
        if events.is_empty() {
            return Ok((case, Vec::new()));
        }
        self.record(tx, head, case_id, case, events, actor, now)
            .await
    }

    /// Applies `events` to `case` and, in the open transaction that holds the
    /// chain lock, appends them, updates the projection, queues their
    /// notifications, and commits. Returns the case and the stored events.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn record(
        &self,
        tx: sqlx::Transaction<'_, sqlx::Any>,
        head: (i64, String),
        case_id: i64,
        case: Case,
        events: Vec<EventKind>,
        actor: &str,
        now: Instant,
    ) -> Result<(Case, Vec<Event>)> {
        let extras = outbox::NoticeExtras::default();
        self.record_with(tx, head, case_id, case, events, actor, now, &extras)
            .await
    }

    /// [`Store::record`], telling the notices what the events alone do not.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn record_with(
        &self,
        mut tx: sqlx::Transaction<'_, sqlx::Any>,
        head: (i64, String),
        case_id: i64,
        mut case: Case,
        events: Vec<EventKind>,
        actor: &str,
        now: Instant,
        extras: &outbox::NoticeExtras,
    ) -> Result<(Case, Vec<Event>)> {
        for event in &events {
            case.apply(event, now)?;
        }
        let first_seq = head.0 + 1;
        let head = self
            .append_events(&mut tx, head, case_id, case.reference, actor, now, &events)
            .await?;
        self.update_projection(&mut tx, case_id, &case).await?;
        // What the domain says follows from these events, carried out in
        // the events' transaction.
        for reaction in embargo_core::reactions::reactions(&events) {
            match reaction {
                Reaction::ResolveEscalatedFindings { release_version } => {
                    portfolio::resolve_case_findings(
                        &mut tx,
                        case.reference,
                        release_version.as_deref(),
                        now,
                    )
                    .await?;
                }
            }
        }
        self.notify_with(&mut tx, &case, &events, first_seq, now, extras)
            .await?;
        finish_chain(&mut tx, &head).await?;
        tx.commit().await?;
        let stored = events
            .into_iter()
            .zip(first_seq..)
            .map(|(kind, seq)| Event {
                seq,
                at: now,
                actor: actor.to_owned(),
                kind,
            })
            .collect();
        Ok((case, stored))
    }

    #[allow(clippy::too_many_arguments)]
    async fn append_events(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        head: (i64, String),
        case_id: i64,
        reference: CaseRef,
        actor: &str,
        at: Instant,
        events: &[EventKind],
    ) -> Result<(i64, String)> {
        let (mut seq, mut prev) = head;
        let case_ref = reference.to_string();
        for event in events {
            seq += 1;
            let (payload, sealed) = seal::seal_event(&self.keyring, seq, event)?;
            let hash = Link {
                seq,
                case_ref: &case_ref,
                at_millis: at.timestamp_millis(),
                actor,
                kind: event.name(),
                payload: &payload,
                has_sealed: sealed.is_some(),
                prev_hash: &prev,
            }
            .hash();
            let (key, blob) = sealed.map(|s| (s.key_id, s.blob)).unzip();
            sqlx::query(
                "INSERT INTO events (seq, case_id, case_ref, at, actor, kind, payload, sealed_key, sealed, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(seq)
            .bind(case_id)
            .bind(&case_ref)
            .bind(at.timestamp_millis())
            .bind(actor)
            .bind(event.name())
            .bind(payload)
            .bind(key)
            .bind(blob)
            .bind(&prev)
            .bind(&hash)
            .execute(&mut **tx)
            .await?;
            prev = hash;
        }
        Ok((seq, prev))
    }

    /// A case by reference, as its projection stands.
    pub async fn case(&self, reference: CaseRef) -> Result<Case> {
        let row = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE reference = $1"
        ))
        .bind(reference.to_string())
        .fetch_optional(&self.reader)
        .await?
        .ok_or_else(|| StoreError::not_found("case", reference))?;
        self.case_from_row(&row)
    }

    /// A case's events, oldest first, decrypted.
    pub async fn history(&self, reference: CaseRef) -> Result<Vec<Event>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, kind, payload, sealed_key, sealed FROM events \
             WHERE case_ref = $1 ORDER BY seq",
        )
        .bind(reference.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(|r| self.event_from_row(r)).collect()
    }

    /// Cases matching `filter`, newest first, `limit` at a time from `cursor`.
    pub async fn list_cases(
        &self,
        filter: &CaseFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<CasePage> {
        let limit = limit.clamp(1, 500);
        let mut sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE 1 = 1");
        let mut args: Vec<String> = Vec::new();
        let mut push = |sql: &mut String, clause: &str, value: String| {
            args.push(value);
            sql.push_str(&format!(" AND {clause} ${}", args.len()));
        };
        if let Some(state) = filter.state {
            push(&mut sql, "state =", state.as_str().to_owned());
        }
        if let Some(product) = &filter.product {
            push(&mut sql, "product =", product.clone());
        }
        if let Some(severity) = filter.severity {
            push(&mut sql, "severity =", severity.as_str().to_owned());
        }
        if filter.open_only {
            let finals: Vec<String> = CaseState::ALL
                .iter()
                .filter(|s| s.is_final())
                .map(|s| format!("'{}'", s.as_str()))
                .collect();
            sql.push_str(&format!(" AND state NOT IN ({})", finals.join(", ")));
        }
        let before: Option<i64> = match cursor {
            Some(c) => Some(c.parse().map_err(|_| {
                StoreError::Domain(embargo_core::DomainError::invalid(
                    "cursor",
                    "is not a cursor returned by this API",
                ))
            })?),
            None => None,
        };
        let n = args.len();
        if before.is_some() {
            sql.push_str(&format!(" AND id < ${}", n + 1));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit + 1));
        let mut query = sqlx::query(&sql);
        for a in args {
            query = query.bind(a);
        }
        if let Some(b) = before {
            query = query.bind(b);
        }
        let rows = query.fetch_all(&self.reader).await?;
        let more = rows.len() > limit as usize;
        let mut cases = Vec::with_capacity(rows.len().min(limit as usize));
        let mut last_id = None;
        for row in rows.iter().take(limit as usize) {
            last_id = Some(row.try_get::<i64, _>("id")?);
            cases.push(self.case_from_row(row)?);
        }
        Ok(CasePage {
            cases,
            next_cursor: if more {
                last_id.map(|id| id.to_string())
            } else {
                None
            },
        })
    }

    fn case_from_row(&self, row: &AnyRow) -> Result<Case> {
        let reference: String = row.try_get("reference")?;
        seal::open_case(
            &self.keyring,
            &reference,
            &row.try_get::<String, _>("public")?,
            &row.try_get::<String, _>("sealed_key")?,
            &row.try_get::<Vec<u8>, _>("sealed")?,
        )
    }

    fn event_from_row(&self, row: &AnyRow) -> Result<Event> {
        let seq: i64 = row.try_get("seq")?;
        let key: Option<String> = row.try_get("sealed_key")?;
        let blob: Option<Vec<u8>> = row.try_get("sealed")?;
        let kind = seal::open_event(
            &self.keyring,
            seq,
            &row.try_get::<String, _>("kind")?,
            &row.try_get::<String, _>("payload")?,
            key.as_deref().zip(blob.as_deref()),
        )?;
        Ok(Event {
            seq,
            at: millis(row.try_get("at")?)?,
            actor: row.try_get("actor")?,
            kind,
        })
    }

    /// Appends a system event (a clock warning or breach) unless the case
    /// already has one of the same kind for the same clock, and queues its
    /// message in the outbox, all in one transaction. The chain lock makes the
    /// check and the append atomic, so with several servers on one database
    /// each escalation happens exactly once. Returns whether it was appended.
    pub async fn escalate(
        &self,
        reference: CaseRef,
        event: &EventKind,
        now: Instant,
    ) -> Result<bool> {
        let (EventKind::ClockWarning { clock, .. } | EventKind::ClockBreached { clock, .. }) =
            event
        else {
            return Err(StoreError::Config(format!(
                "`{}` is not an escalation event",
                event.name()
            )));
        };
        let now = embargo_core::to_millis(now);
        let mut tx = self.writer.begin().await?;
        let head = lock_chain(&mut tx).await?;
        let (case_id, row) = case_row(&mut tx, reference).await?;
        let existing = sqlx::query("SELECT payload FROM events WHERE case_id = $1 AND kind = $2")
            .bind(case_id)
            .bind(event.name())
            .fetch_all(&mut *tx)
            .await?;
        for r in &existing {
            let payload: serde_json::Value =
                serde_json::from_str(&r.try_get::<String, _>("payload")?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if payload["clock"].as_str() == Some(clock.as_str()) {
                return Ok(false);
            }
        }
        let case = self.case_from_row(&row)?;
        self.record(tx, head, case_id, case, vec![event.clone()], "system", now)
            .await?;
        Ok(true)
    }

    async fn update_projection(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        case_id: i64,
        case: &Case,
    ) -> Result<()> {
        let (public, sealed) = seal::seal_case(&self.keyring, case)?;
        sqlx::query(
            "UPDATE cases SET state = $1, severity = $2, updated_at = $3, revision = $4, \
             public = $5, sealed_key = $6, sealed = $7 WHERE id = $8",
        )
        .bind(case.state.as_str())
        .bind(case.severity.map(|s| s.as_str().to_owned()))
        .bind(case.updated_at.timestamp_millis())
        .bind(i64::from(case.revision))
        .bind(public)
        .bind(sealed.key_id)
        .bind(sealed.blob)
        .bind(case_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    // ---------------------------------------------------------------- audit

    /// Verifies the whole history: on SQLite the database file's own
    /// structure first (`PRAGMA integrity_check`: pages, indexes, free list),
    /// then the hash chain, that every encrypted part opens under its event,
    /// and that every case equals the replay of its events. Names the first
    /// problem found.
    pub async fn verify(&self) -> Result<AuditReport> {
        if self.backend() == Backend::Sqlite {
            let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check(20)")
                .fetch_all(&self.reader)
                .await?;
            if problems != ["ok"] {
                return Err(StoreError::Corrupt(format!(
                    "SQLite's integrity check: {}",
                    problems.join("; ")
                )));
            }
        }
        let mut verifier = Verifier::default();
        let mut after = 0i64;
        loop {
            let rows = sqlx::query(
                "SELECT seq, case_ref, at, actor, kind, payload, sealed_key, sealed, prev_hash, hash \
                 FROM events WHERE seq > $1 ORDER BY seq LIMIT 1000",
            )
            .bind(after)
            .fetch_all(&self.reader)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("seq")?;
            for row in &rows {
                let seq: i64 = row.try_get("seq")?;
                let case_ref: String = row.try_get("case_ref")?;
                let payload: String = row.try_get("payload")?;
                let actor: String = row.try_get("actor")?;
                let kind: String = row.try_get("kind")?;
                let prev: String = row.try_get("prev_hash")?;
                let hash: String = row.try_get("hash")?;
                let blob: Option<Vec<u8>> = row.try_get("sealed")?;
                let link = Link {
                    seq,
                    case_ref: &case_ref,
                    at_millis: row.try_get("at")?,
                    actor: &actor,
                    kind: &kind,
                    payload: &payload,
                    has_sealed: blob.is_some(),
                    prev_hash: &prev,
                };
                verifier.check(&link, &hash)?;
                self.event_from_row(row).map_err(|e| {
                    StoreError::Chain(chain::ChainError::Sealed {
                        seq,
                        case_ref: case_ref.clone(),
                        detail: e.to_string(),
                    })
                })?;
            }
        }
        let head = sqlx::query("SELECT seq, hash FROM chain_head WHERE id = 1")
            .fetch_one(&self.reader)
            .await?;
        let events = verifier.finish(head.try_get("seq")?, &head.try_get::<String, _>("hash")?)?;

        let mut cases = 0u64;
        let mut after_id = 0i64;
        loop {
            let rows = sqlx::query(&format!(
                "SELECT {CASE_COLUMNS} FROM cases WHERE id > $1 ORDER BY id LIMIT 200"
            ))
            .bind(after_id)
            .fetch_all(&self.reader)
            .await?;
            let Some(last) = rows.last() else { break };
            after_id = last.try_get("id")?;
            for row in &rows {
                let stored = self.case_from_row(row)?;
                let history = self.history(stored.reference).await?;
                let replayed =
                    Case::replay(stored.reference, history.iter().map(|e| (e.at, &e.kind)))?;
                let columns = (
                    row.try_get::<String, _>("product")?,
                    row.try_get::<String, _>("state")?,
                    row.try_get::<Option<String>, _>("severity")?,
                );
                let expected = (
                    stored.product.clone(),
                    stored.state.as_str().to_owned(),
                    stored.severity.map(|s| s.as_str().to_owned()),
                );
                if replayed != stored || columns != expected {
                    return Err(StoreError::Corrupt(format!(
                        "case {} does not match the replay of its events (it was changed outside embargo)",
                        stored.reference
                    )));
                }
                cases += 1;
            }
        }
        Ok(AuditReport { events, cases })
    }

    // ---------------------------------------------------------------- keys

    /// Re-encrypts every sealed value that is not under the active key.
    /// Returns how many values were rewritten. Batched, so it can run on a
    /// live database; values written meanwhile under an old key are caught
    /// by running it again.
    pub async fn reencrypt(&self) -> Result<u64> {
        let active = self.keyring.active_id().to_owned();
        let mut count = 0u64;
        loop {
            let rows = sqlx::query(&format!(
                "SELECT {CASE_COLUMNS} FROM cases WHERE sealed_key <> $1 ORDER BY id LIMIT 200"
            ))
            .bind(&active)
            .fetch_all(&self.reader)
            .await?;
            if rows.is_empty() {
                break;
            }
            let mut tx = self.writer.begin().await?;
            for row in &rows {
                let case = self.case_from_row(row)?;
                let (_, sealed) = seal::seal_case(&self.keyring, &case)?;
                sqlx::query("UPDATE cases SET sealed_key = $1, sealed = $2 WHERE id = $3")
                    .bind(sealed.key_id)
                    .bind(sealed.blob)
                    .bind(row.try_get::<i64, _>("id")?)
                    .execute(&mut *tx)
                    .await?;
                count += 1;
            }
            tx.commit().await?;
        }
        loop {
            let rows = sqlx::query(
                "SELECT seq, at, actor, kind, payload, sealed_key, sealed FROM events \
                 WHERE sealed_key IS NOT NULL AND sealed_key <> $1 ORDER BY seq LIMIT 500",
            )
            .bind(&active)
            .fetch_all(&self.reader)
            .await?;
            if rows.is_empty() {
                break;
            }
            let mut tx = self.writer.begin().await?;
            for row in &rows {
                let event = self.event_from_row(row)?;
                let (_, sealed) = seal::seal_event(&self.keyring, event.seq, &event.kind)?;
                if let Some(sealed) = sealed {
                    sqlx::query("UPDATE events SET sealed_key = $1, sealed = $2 WHERE seq = $3")
                        .bind(sealed.key_id)
                        .bind(sealed.blob)
                        .bind(event.seq)
                        .execute(&mut *tx)
                        .await?;
                    count += 1;
                }
            }
            tx.commit().await?;
        }
        for table in &rekey::SEALED_ROWS {
            count += self.reseal_rows(table).await?;
        }
        Ok(count)
    }

    /// The key ids the database still has data under.
    pub async fn keys_in_use(&self) -> Result<Vec<String>> {
        let rows = sqlx::query(&format!(
            "SELECT sealed_key FROM cases UNION SELECT sealed_key FROM events WHERE sealed_key IS NOT NULL{}",
            rekey::keys_union()
        ))
        .fetch_all(&self.reader)
        .await?;
        let mut ids: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String, _>("sealed_key"))
            .collect::<Result<_, _>>()?;
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    // ---------------------------------------------------------------- backup

    /// A consistent copy of a SQLite database at `path`, taken online.
    pub async fn backup(&self, path: &std::path::Path) -> Result<()> {
        match self.backend {
            Backend::Sqlite => {
                if path.exists() {
                    return Err(StoreError::Config(format!(
                        "{} already exists; choose a new file",
                        path.display()
                    )));
                }
                let target = path.to_str().ok_or_else(|| {
                    StoreError::Config("the backup path must be valid UTF-8".into())
                })?;
                // VACUUM INTO writes a transactionally consistent snapshot.
                sqlx::query("VACUUM INTO $1")
                    .bind(target.to_owned())
                    .execute(&self.reader)
                    .await?;
                Ok(())
            }
            Backend::Postgres => Err(StoreError::Unsupported(
                "backups of a PostgreSQL store are taken with pg_dump \
                 (for example `pg_dump --format=custom --file=embargo.dump DBNAME`) \
                 together with a copy of the key file"
                    .into(),
            )),
        }
    }

    // ---------------------------------------------------------------- users

    /// Adds a team member; `password_hash` comes from `auth::hash_password`.
    pub async fn add_user(
        &self,
        username: &str,
        role: Role,
        password_hash: &str,
        now: Instant,
    ) -> Result<User> {
        self.add_user_with_email(username, role, None, password_hash, now)
            .await
    }

    /// Adds a team member with an email address for notifications.
    pub async fn add_user_with_email(
        &self,
        username: &str,
        role: Role,
        email: Option<&str>,
        password_hash: &str,
        now: Instant,
    ) -> Result<User> {
        embargo_core::auth::validate_username(username)?;
        if let Some(e) = email {
            embargo_core::auth::validate_email(e)?;
        }
        let id: i64 = sqlx::query(
            "INSERT INTO users (username, role, email, password_hash, disabled, created_at) \
             VALUES ($1, $2, $3, $4, 0, $5) RETURNING id",
        )
        .bind(username)
        .bind(role.as_str())
        .bind(email.map(str::to_owned))
        .bind(password_hash)
        .bind(now.timestamp_millis())
        .fetch_one(&self.writer)
        .await
        .map_err(|e| StoreError::conflict_or(e, format!("user `{username}` already exists")))?
        .try_get("id")?;
        Ok(User {
            id,
            username: username.to_owned(),
            role,
            email: email.map(str::to_owned),
            disabled: false,
            created_at: embargo_core::to_millis(now),
        })
    }

    /// A user and their password hash, by name (for login).
    pub async fn user_credentials(&self, username: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|r| Ok((user_from_row(&r)?, r.try_get("password_hash")?)))
            .transpose()
    }

    pub async fn user(&self, username: &str) -> Result<User> {
        Ok(self
            .user_credentials(username)
            .await?
            .ok_or_else(|| StoreError::not_found("user", username))?
            .0)
    }

    pub async fn list_users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username"
        ))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Disables or re-enables a user. Disabling also ends their sessions.
    pub async fn set_user_disabled(&self, username: &str, disabled: bool) -> Result<User> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query("UPDATE users SET disabled = $1 WHERE username = $2")
            .bind(i64::from(disabled))
            .bind(username)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("user", username));
        }
        if disabled {
            sqlx::query(
                "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)",
            )
            .bind(username)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.user(username).await
    }

    /// Replaces a user's password hash and ends their other sessions.
    pub async fn set_password(
        &self,
        user_id: i64,
        password_hash: &str,
        keep_session: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id)
            .bind(keep_session.unwrap_or(""))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    // ---------------------------------------------------------------- sessions

    /// Records a login session under the digest of its secret id.
    pub async fn create_session(
        &self,
        token_digest: &str,
        user_id: i64,
        now: Instant,
        expires_at: Instant,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_digest)
        .bind(user_id)
        .bind(now.timestamp_millis())
        .bind(expires_at.timestamp_millis())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The enabled user behind an unexpired session.
    pub async fn session_user(&self, token_digest: &str, now: Instant) -> Result<Option<User>> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0",
            prefixed_user_columns()
        ))
        .bind(token_digest)
        .bind(now.timestamp_millis())
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn delete_session(&self, token_digest: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_digest)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Removes expired sessions; returns how many.
    pub async fn purge_sessions(&self, now: Instant) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now.timestamp_millis())
            .execute(&self.writer)
            .await?
            .rows_affected())
    }

    // ---------------------------------------------------------------- API tokens

    pub async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_digest: &str,
        now: Instant,
    ) -> Result<ApiToken> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.contains(char::is_control) {
            return Err(StoreError::Domain(embargo_core::DomainError::invalid(
                "name",
                "must be 1 to 100 characters on one line",
            )));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(token_digest)
        .bind(now.timestamp_millis())
        .fetch_one(&self.writer)
        .await?
        .try_get("id")?;
        self.api_token(id).await
    }

    pub async fn api_token(&self, id: i64) -> Result<ApiToken> {
        let row = sqlx::query(
            "SELECT t.id, t.name, u.username, t.created_at, t.last_used_at, t.revoked_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.reader)
        .await?
        .ok_or_else(|| StoreError::not_found("token", id))?;
        token_from_row(&row)
    }

    /// Tokens of one user, or of everyone.
    pub async fn list_api_tokens(&self, user_id: Option<i64>) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(
            "SELECT t.id, t.name, u.username, t.created_at, t.last_used_at, t.revoked_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE $1 = 0 OR t.user_id = $1 ORDER BY t.id",
        )
        .bind(user_id.unwrap_or(0))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes a token; revoking twice is harmless.
    pub async fn revoke_api_token(&self, id: i64, now: Instant) -> Result<ApiToken> {
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now.timestamp_millis())
            .bind(id)
            .execute(&self.writer)
            .await?;
        self.api_token(id).await
    }

    /// The enabled user behind an unrevoked token. Records its last use, at
    /// most once a minute so that reads do not all become writes.
    pub async fn token_user(&self, token_digest: &str, now: Instant) -> Result<Option<User>> {
        let row = sqlx::query(&format!(
            "SELECT {}, t.id AS token_id, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.disabled = 0",
            prefixed_user_columns()
        ))
        .bind(token_digest)
        .fetch_optional(&self.reader)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let last: Option<i64> = row.try_get("last_used_at")?;
        if last.is_none_or(|l| now.timestamp_millis() - l > 60_000) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now.timestamp_millis())
                .bind(row.try_get::<i64, _>("token_id")?)
                .execute(&self.writer)
                .await?;
        }
        user_from_row(&row).map(Some)
    }
}

/// Where a reporter's case came from: their private link, and the mailbox
/// message it was, if any.
struct ReporterOrigin<'a> {
    token_digest: &'a str,
    private_link: &'a str,
    mail_key: Option<&'a str>,
}

/// A case's row id and row, read inside a write transaction.
async fn case_row(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    reference: CaseRef,
) -> Result<(i64, AnyRow)> {
    let row = sqlx::query(&format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE reference = $1"
    ))
    .bind(reference.to_string())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::not_found("case", reference))?;
    Ok((row.try_get("id")?, row))
}

/// Takes the chain lock and reads the head. The first statement of the
/// transaction is a write, so on SQLite the transaction holds the write lock
/// from here on, and on PostgreSQL the head row stays locked until commit
/// (an UPDATE that waited re-reads the committed row before RETURNING).
async fn lock_chain(tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<(i64, String)> {
    let row = sqlx::query("UPDATE chain_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut **tx)
        .await?;
    Ok((row.try_get("seq")?, row.try_get("hash")?))
}

async fn finish_chain(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    head: &(i64, String),
) -> Result<()> {
    sqlx::query("UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(head.0)
        .bind(&head.1)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn prefixed_user_columns() -> String {
    USER_COLUMNS
        .split(", ")
        .map(|c| format!("u.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn user_from_row(row: &AnyRow) -> Result<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        role: role
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("unknown role `{role}`")))?,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        created_at: millis(row.try_get("created_at")?)?,
    })
}

fn token_from_row(row: &AnyRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        username: row.try_get("username")?,
        created_at: millis(row.try_get("created_at")?)?,
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at")?
            .map(millis)
            .transpose()?,
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")?
            .map(millis)
            .transpose()?,
    })
}

pub(crate) fn millis(ms: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms}")))
}

/// Per-connection SQLite settings. WAL: readers never block the writer.
/// `synchronous = FULL`: a commit survives power loss, since a 201 promises
/// durability. Foreign keys on; wait for locks instead of failing at once.
fn sqlite_pragmas(
    conn: &mut sqlx::AnyConnection,
    _meta: sqlx::pool::PoolConnectionMetadata,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), sqlx::Error>> + Send + '_>> {
    Box::pin(async move {
        for pragma in [
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = FULL",
            "PRAGMA foreign_keys = ON",
            "PRAGMA busy_timeout = 10000",
        ] {
            sqlx::query(pragma).execute(&mut *conn).await?;
        }
        Ok(())
    })
}

/// `sqlite://path` with `mode=rwc`, so that a first run creates the file.
fn sqlite_url_with_create(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}
