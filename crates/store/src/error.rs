use std::fmt::Display;

use embargo_core::DomainError;
use embargo_core::chain::ChainError;
use embargo_core::crypto::CryptoError;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no {what} `{key}`")]
    NotFound { what: &'static str, key: String },
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error("the database holds something embargo did not write: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    pub(crate) fn not_found(what: &'static str, key: impl Display) -> Self {
        StoreError::NotFound {
            what,
            key: key.to_string(),
        }
    }

    /// A unique-constraint violation becomes [`StoreError::Conflict`] with `message`.
    pub(crate) fn conflict_or(e: sqlx::Error, message: String) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(message),
            _ => StoreError::Database(e),
        }
    }

    /// Whether the database could not be reached or ran out of resources (a
    /// 503 rather than a 500: retrying later may succeed).
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_),
            ) => true,
            // PostgreSQL going down or coming back: the connection was
            // closed (class 08), or the server is shutting down or starting
            // up (57P01 to 57P03). A restarted database is reached again
            // through the pool's fresh connections.
            StoreError::Database(sqlx::Error::Database(db)) => db
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
            _ => false,
        }
    }

    /// Whether the database's disk (or its size limit) is full: SQLite's
    /// SQLITE_FULL (13, with its extended codes) or PostgreSQL's 53100. The
    /// write was rolled back whole; it can succeed once space is freed.
    #[must_use]
    pub fn is_storage_full(&self) -> bool {
        let StoreError::Database(sqlx::Error::Database(db)) = self else {
            return false;
        };
        match db.code() {
            Some(code) => code == "53100" || code.parse::<i64>().is_ok_and(|n| n & 0xff == 13),
            None => false,
        }
    }
}
