//! embargo's persistence: one [`Store`] over SQLite or PostgreSQL, chosen by URL.
//!
//! This file is the whole contract: what persistence offers the layers above
//! it, aggregate by aggregate. The store keeps data and its integrity (the
//! event chain, encryption at rest, idempotency keys, leases); it decides
//! nothing. What follows from an event — a notice to send, findings a
//! release resolves — is decided in `embargo_core` and carried out by the
//! application layer through a [`Work`].
//!
//! # Writing: a unit of work
//!
//! [`Store::begin`] opens a [`Work`]: one transaction shared by the
//! repositories a use case writes through, made durable by [`Work::commit`]
//! (dropped uncommitted, it writes nothing).
//!
//! | repository | aggregate | offers |
//! |---|---|---|
//! | [`Work::cases`] → [`Cases`] | a case and its event chain | open a case, lock one for writing ([`CaseHandle`]), append events (applied, chained, sealed, projected), check an escalation was raised |
//! | [`Work::attachments`] → [`Attachments`] | a case's files | seal and store files, returning their events |
//! | [`Work::advisories`] → [`Advisories`] | a case's advisory | read the draft, check an id is free, save a draft, write the published form |
//! | [`Work::outbox`] → [`Outbox`] | deliveries | plan a notice's destinations (team preferences, webhooks) and queue each once by idempotency key |
//! | [`Work::findings`] → [`Findings`] | portfolio findings | read a release's findings, open one, set an analysis or severity (with why, in its history), record a fix that appeared, resolve the findings a released fix closes, record a deadline warning or breach once |
//! | [`Work::reporters`] → [`Reporters`] | reporters' private links | record a link's digest |
//! | [`Work::mailbox`] → [`Mailbox`] | mail taken in | mark a message taken, once |
//!
//! # Reading, and writes that stand alone
//!
//! Everything else is a method of [`Store`], grouped by aggregate in its
//! own module: cases and history (`cases.rs`), accounts — users, sessions,
//! API tokens (`accounts.rs`), advisories and signing keys
//! (`advisories.rs`), attachments (`attachments.rs`), the outbox's
//! claims, leases and delivery records (`outbox.rs`), the portfolio —
//! products, releases, components, findings, rules (`portfolio.rs`), reporter
//! links (`reporter.rs`), the mailbox (`mailbox.rs`), the desk's saved views
//! and second factors (`desk.rs`), job leases (`leases.rs`), and the
//! database as a whole — audit, re-encryption, backup (`maintenance.rs`).
//! Each of these is one statement or one transaction of its own.
//!
//! # Backends
//!
//! Both backends run the same SQL through sqlx's `Any` driver (the queries are
//! written in the subset both accept, with `$N` parameters), so there is one
//! implementation and one contract test suite. What differs lives in
//! [`Backend`]: connection set-up, migrations, and backups. Rows are read by
//! column name.
//!
//! Everything confidential is sealed with the [`Keyring`] before it is bound to
//! a query, so no report text reaches the database in the clear.

mod accounts;
mod advisories;
mod attachments;
mod cases;
mod desk;
mod error;
mod finding_dates;
mod intake_keys;
mod leases;
mod mailbox;
mod maintenance;
mod migrate;
mod outbox;
mod portfolio;
mod rekey;
mod reporter;
mod seal;
mod sign_ins;
mod summaries;
pub mod testing;
mod work;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use embargo_core::crypto::Keyring;
use embargo_core::{Case, CaseState, Instant, Severity};
use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};

pub use advisories::Advisories;
pub use attachments::{AttachmentFile, Attachments};
pub use cases::{CaseHandle, Cases};
pub use desk::{MAX_SAVED_VIEWS, SavedView, TotpSecret};
pub use error::StoreError;
pub use finding_dates::{FindingDates, FindingFilter, FindingSort};
pub use intake_keys::KeptReceipt;
pub use mailbox::Mailbox;
pub use maintenance::{BACKUPS_CONFIRMED, LAST_BACKUP};
pub use outbox::{Claimed, DeliveryRecord, Outbox, OutboxState};
pub use portfolio::{Findings, StoredFinding};
pub use reporter::Reporters;
pub use sign_ins::{LoginAttempt, RecentFailures};
pub use summaries::{
    AssigneeFilter, CaseSummary, DashboardCounts, DeadlineFilter, DeadlineState, QueueFilter,
    QueueSort, QueueView, QueuedCase, StaleCase,
};
pub use work::Work;

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
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

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

    /// Applies pending migrations; safe to run from several instances at once.
    pub async fn migrate(&self, now: Instant) -> Result<Vec<String>> {
        migrate::run(self.backend, &self.writer, now).await
    }

    /// Tidies the derived tables after a rebuild rewrote many of their rows
    /// (the first dating of every finding, every summary under a new
    /// policy), so the pages read next are planned and read as they will
    /// be from then on. Until then PostgreSQL plans with the figures from
    /// before (every finding still undated, say), walks a whole table for
    /// what an index answers, and reads past each rewritten row's dead
    /// copy; its autovacuum catches up only after a while. SQLite has no
    /// dead copies: its planner's figures are refreshed.
    pub async fn tidy_after_rebuild(&self, rebuilt: Rebuilt) -> Result<()> {
        let statements: &[&str] = match (self.backend, rebuilt) {
            (Backend::Postgres, Rebuilt::FindingDates) => &["VACUUM (ANALYZE) findings"],
            (Backend::Postgres, Rebuilt::CaseSummaries) => &[
                "VACUUM (ANALYZE) case_summaries",
                "VACUUM (ANALYZE) case_deadlines",
            ],
            (Backend::Sqlite, _) => &["PRAGMA optimize"],
        };
        for statement in statements {
            sqlx::query(statement).execute(&self.writer).await?;
        }
        Ok(())
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
}

/// Which derived rows a rebuild rewrote (see [`Store::tidy_after_rebuild`]):
/// only their tables are tidied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rebuilt {
    /// Every finding's kept deadline (`findings`).
    FindingDates,
    /// Case summaries and their deadlines.
    CaseSummaries,
}

/// The rows of `sql`, a query with `$n` text parameters `args`.
pub(crate) async fn fetch_rows(
    pool: &AnyPool,
    sql: &str,
    args: Vec<String>,
) -> Result<Vec<sqlx::any::AnyRow>> {
    let mut query = sqlx::query(sql);
    for a in args {
        query = query.bind(a);
    }
    Ok(query.fetch_all(pool).await?)
}

/// The rows of `select` (its columns, `FROM` and joins, without `WHERE`)
/// whose `id_column` is one of `ids`, in the order of `ids`. Lists sort
/// and page on narrow rows (ids and sort keys) and read the wide ones
/// (sealed blobs, JSON) for the page only: sorting every matching row with
/// its blobs is what made a page slow.
pub(crate) async fn rows_in_order(
    pool: &AnyPool,
    select: &str,
    id_column: &str,
    ids: &[i64],
) -> Result<Vec<sqlx::any::AnyRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Integers written into the statement: no text reaches the SQL here.
    let list = ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sqlx::query(&format!(
        "SELECT {id_column} AS row_order_id, {select} WHERE {id_column} IN ({list})"
    ))
    .fetch_all(pool)
    .await?;
    let mut by_id: std::collections::HashMap<i64, sqlx::any::AnyRow> =
        std::collections::HashMap::with_capacity(rows.len());
    for row in rows {
        by_id.insert(sqlx::Row::try_get(&row, "row_order_id")?, row);
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// The `id` column of the rows of `sql` (a query with `$n` text parameters
/// `args`), in order.
pub(crate) async fn fetch_ids(pool: &AnyPool, sql: &str, args: Vec<String>) -> Result<Vec<i64>> {
    fetch_rows(pool, sql, args)
        .await?
        .iter()
        .map(|r| Ok(sqlx::Row::try_get(r, "id")?))
        .collect()
}

/// `COUNT(*)` of `sql` (a query with `$n` text parameters `args`).
pub(crate) async fn count_rows(pool: &AnyPool, sql: &str, args: Vec<String>) -> Result<i64> {
    let mut query = sqlx::query(sql);
    for a in args {
        query = query.bind(a);
    }
    Ok(sqlx::Row::try_get(&query.fetch_one(pool).await?, "n")?)
}

/// An SQL expression ranking the severity in `column`: 4 for critical down
/// to 1 for low, 0 for none.
pub(crate) fn severity_rank(column: &str) -> String {
    let arms: String = [
        embargo_core::Severity::Low,
        embargo_core::Severity::Medium,
        embargo_core::Severity::High,
        embargo_core::Severity::Critical,
    ]
    .iter()
    .enumerate()
    .map(|(i, s)| format!(" WHEN '{}' THEN {}", s.as_str(), i + 1))
    .collect();
    format!("(CASE {column}{arms} ELSE 0 END)")
}

/// A table's column list (`a, b, c`) as read through a table alias
/// (`u.a, u.b, u.c`), for statements that join another table to it.
pub(crate) fn aliased(columns: &str, alias: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
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
