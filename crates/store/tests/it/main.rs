#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The store's contract suite: every test runs against SQLite, and against
//! PostgreSQL too when `EMBARGO_TEST_POSTGRES_URL` is set (a fresh database each).

mod audit;
mod cases;
mod confidentiality;
mod model;
mod portfolio;
mod users;

use chrono::{DateTime, TimeZone, Utc};
use embargo_core::crypto::Keyring;
use embargo_core::{NewCase, ReportContent, Reporter};
use embargo_store::testing::TestDatabase;
use embargo_store::{Store, StoreError};

/// A fixed instant: tests never read the clock.
pub fn t(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, minute, 0)
        .single()
        .expect("valid date")
}

pub async fn open(db: &TestDatabase, keyring: Keyring) -> Store {
    let store = Store::connect(&db.url, keyring).await.expect("connect");
    store.migrate(t(1, 0, 0)).await.expect("migrate");
    store
}

/// Runs `f` once per available backend with a fresh, migrated store.
/// The database stays alive (and is dropped) here, not in the test body.
pub async fn each_backend<F, Fut>(f: F)
where
    F: Fn(Store, Db) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for db in TestDatabase::all().await {
        let store = open(&db, Keyring::generate()).await;
        f(
            store.clone(),
            Db {
                url: db.url.clone(),
                backend: db.backend(),
            },
        )
        .await;
        store.close().await;
    }
}

/// What a test body needs to know of its database.
#[derive(Debug, Clone)]
pub struct Db {
    pub url: String,
    backend: &'static str,
}

impl Db {
    pub fn backend(&self) -> &'static str {
        self.backend
    }
}

pub fn report(title: &str) -> NewCase {
    NewCase {
        title: title.into(),
        product: "Dock Certs".into(),
        reporter: Reporter {
            contact: Some("researcher@example.org".into()),
            name: Some("researcher".into()),
            pgp_key: None,
        },
        report: ReportContent {
            summary: format!("{title}: summary"),
            description: format!("{title}: description"),
            ..ReportContent::default()
        },
        reporter_deadline: None,
        exploited_evidence: None,
    }
}

pub async fn raw(db: &Db) -> sqlx::AnyConnection {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(&db.url)
        .await
        .expect("raw connection")
}

/// Case writes through a unit of work, the way the application layer makes
/// them, with the notices the events plan queued beside them (so sealed
/// deliveries exist to test). The store's contract is what these exercise;
/// the application layer's own rules (and other reactions) have their tests
/// in the server.
pub(crate) trait Writes {
    async fn create_case(
        &self,
        request: NewCase,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<embargo_core::Case, StoreError>;

    async fn execute(
        &self,
        reference: embargo_core::CaseRef,
        command: &embargo_core::Command,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(embargo_core::Case, Vec<embargo_core::Event>), StoreError>;

    async fn attach(
        &self,
        reference: embargo_core::CaseRef,
        files: Vec<embargo_store::AttachmentFile>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

impl Writes for Store {
    async fn create_case(
        &self,
        request: NewCase,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<embargo_core::Case, StoreError> {
        let mut work = self.begin().await?;
        let (handle, opened) = work.cases().open(request, actor, now).await?;
        queue_notices(&mut work, &handle.case, &[opened], now).await?;
        work.commit().await?;
        Ok(handle.case)
    }

    async fn execute(
        &self,
        reference: embargo_core::CaseRef,
        command: &embargo_core::Command,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(embargo_core::Case, Vec<embargo_core::Event>), StoreError> {
        let mut work = self.begin().await?;
        let mut handle = work.cases().lock(reference).await?;
        let events = embargo_core::case::decide(&handle.case, command, now)?;
        let stored = work.cases().append(&mut handle, events, actor, now).await?;
        queue_notices(&mut work, &handle.case, &stored, now).await?;
        work.commit().await?;
        Ok((handle.case, stored))
    }

    async fn attach(
        &self,
        reference: embargo_core::CaseRef,
        files: Vec<embargo_store::AttachmentFile>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut work = self.begin().await?;
        let mut handle = work.cases().lock(reference).await?;
        let events = work.attachments().store(&handle, files, now).await?;
        work.cases().append(&mut handle, events, actor, now).await?;
        work.commit().await
    }
}

async fn queue_notices(
    work: &mut embargo_store::Work<'_>,
    case: &embargo_core::Case,
    events: &[embargo_core::Event],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let notices: Vec<embargo_core::notify::Notice> = events
        .iter()
        .filter_map(|e| embargo_core::notify::Notice::of(case, &e.kind, e.seq, e.at))
        .collect();
    work.outbox().queue_notices(&notices, None, now).await
}
