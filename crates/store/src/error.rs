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
        matches!(
            self,
            StoreError::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
            )
        )
    }
}
