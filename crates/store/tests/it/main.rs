#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The store's contract suite: every test runs against SQLite, and against
//! PostgreSQL too when `EMBARGO_TEST_POSTGRES_URL` is set (a fresh database each).

mod audit;
mod cases;
mod confidentiality;
mod model;
mod users;

use chrono::{DateTime, TimeZone, Utc};
use embargo_core::crypto::Keyring;
use embargo_core::{NewCase, ReportContent, Reporter};
use embargo_store::Store;
use embargo_store::testing::TestDatabase;

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
    }
}

pub async fn raw(db: &Db) -> sqlx::AnyConnection {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(&db.url)
        .await
        .expect("raw connection")
}
