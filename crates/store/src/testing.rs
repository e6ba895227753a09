//! Fresh databases for tests: a temporary SQLite file always, and a new
//! PostgreSQL database per test when `EMBARGO_TEST_POSTGRES_URL` is set.
//! Used by the contract suite here and by the server's and CLI's tests.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

/// The environment variable that points tests at a PostgreSQL server.
pub const POSTGRES_ENV: &str = "EMBARGO_TEST_POSTGRES_URL";

/// A database that exists for one test and is removed when dropped.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Dir(#[allow(dead_code)] tempfile_dir::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A new, empty SQLite database in a temporary directory.
    pub fn sqlite() -> std::io::Result<Self> {
        let dir = tempfile_dir::TempDir::new()?;
        let url = format!("sqlite://{}", dir.path().join("embargo.db").display());
        Ok(TestDatabase {
            url,
            cleanup: Cleanup::Dir(dir),
        })
    }

    /// A new, empty PostgreSQL database, or `None` when the environment
    /// variable is unset.
    pub async fn postgres() -> Result<Option<Self>, sqlx::Error> {
        let Ok(admin_url) = std::env::var(POSTGRES_ENV) else {
            return Ok(None);
        };
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "embargo_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            &embargo_core::auth::generate_token("")[..12]
        );
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&admin_url).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        Ok(Some(TestDatabase {
            url: with_database(&admin_url, &name),
            cleanup: Cleanup::Postgres { admin_url, name },
        }))
    }

    /// Every backend available to this test run: SQLite, and PostgreSQL if configured.
    pub async fn all() -> Vec<TestDatabase> {
        let mut out = Vec::new();
        match TestDatabase::sqlite() {
            Ok(db) => out.push(db),
            Err(e) => panic!("cannot create a temporary SQLite database: {e}"),
        }
        match TestDatabase::postgres().await {
            Ok(Some(db)) => out.push(db),
            Ok(None) => {}
            Err(e) => panic!("{POSTGRES_ENV} is set but no test database could be created: {e}"),
        }
        out
    }

    /// The backend's name, for assertion messages.
    #[must_use]
    pub fn backend(&self) -> &'static str {
        match self.cleanup {
            Cleanup::Dir(_) => "sqlite",
            Cleanup::Postgres { .. } => "postgres",
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let admin_url = admin_url.clone();
            let name = name.clone();
            // Drop runs outside async; a short-lived thread with its own runtime
            // removes the database even when the test panicked.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin_url).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut conn)
                                .await;
                        let _ = conn.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// `url` with its database name replaced by `name`.
#[must_use]
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_and_path = &base[scheme_end..];
    let host = host_and_path.split('/').next().unwrap_or(host_and_path);
    let mut out = format!("{}{host}/{name}", &base[..scheme_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A minimal temporary directory, so the store does not depend on `tempfile`
/// outside its tests.
mod tempfile_dir {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU32, Ordering};

    #[derive(Debug)]
    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new() -> std::io::Result<Self> {
            static N: AtomicU32 = AtomicU32::new(0);
            let path = std::env::temp_dir().join(format!(
                "embargo-test-{}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed),
                &embargo_core::auth::generate_token("")[..12]
            ));
            std::fs::create_dir_all(&path)?;
            Ok(TempDir(path))
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            super::with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            super::with_database("postgres://u:p@h/db?sslmode=disable", "t2"),
            "postgres://u:p@h/t2?sslmode=disable"
        );
        assert_eq!(
            super::with_database("postgres://h", "t3"),
            "postgres://h/t3"
        );
    }
}
