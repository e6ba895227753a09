//! Sign-in attempts: what the login throttle counts (shared by every
//! instance on one database) and what admins read to see who is trying.

use embargo_core::Instant;
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::{Result, Store, millis};

/// One attempt to sign in, as admins see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoginAttempt {
    #[schema(value_type = String, format = DateTime)]
    pub at: Instant,
    /// Where it came from (the connection, or `X-Forwarded-For` behind a proxy).
    pub address: String,
    /// The account it named, when the username named one.
    pub username: Option<String>,
    pub succeeded: bool,
}

/// The failures the throttle weighs for one attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecentFailures {
    /// Failures from the address, any account, since `since`.
    pub from_address: i64,
    pub last_from_address: Option<Instant>,
    /// Failures for the account from the address, since `since` and since the
    /// account last signed in from there.
    pub for_account: i64,
    pub last_for_account: Option<Instant>,
}

impl Store {
    /// Records an attempt, and forgets those older than `forget_before`.
    pub async fn record_login_attempt(
        &self,
        at: Instant,
        address: &str,
        user_id: Option<i64>,
        succeeded: bool,
        forget_before: Instant,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM login_attempts WHERE at < $1")
            .bind(forget_before.timestamp_millis())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO login_attempts (at, address, user_id, succeeded) VALUES ($1, $2, $3, $4)",
        )
        .bind(at.timestamp_millis())
        .bind(address)
        .bind(user_id)
        .bind(i64::from(succeeded))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The failed attempts from `address` (and for `user_id` from there) since
    /// `since`.
    pub async fn recent_login_failures(
        &self,
        address: &str,
        user_id: Option<i64>,
        since: Instant,
    ) -> Result<RecentFailures> {
        let since = since.timestamp_millis();
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(at) AS last FROM login_attempts \
             WHERE address = $1 AND at >= $2 AND succeeded = 0",
        )
        .bind(address)
        .bind(since)
        .fetch_one(&self.reader)
        .await?;
        let mut failures = RecentFailures {
            from_address: row.try_get("n")?,
            last_from_address: row
                .try_get::<Option<i64>, _>("last")?
                .map(millis)
                .transpose()?,
            ..RecentFailures::default()
        };
        if let Some(user_id) = user_id {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n, MAX(at) AS last FROM login_attempts \
                 WHERE user_id = $1 AND address = $2 AND succeeded = 0 AND at >= $3 \
                 AND at > COALESCE((SELECT MAX(at) FROM login_attempts \
                     WHERE user_id = $1 AND address = $2 AND succeeded = 1), 0)",
            )
            .bind(user_id)
            .bind(address)
            .bind(since)
            .fetch_one(&self.reader)
            .await?;
            failures.for_account = row.try_get("n")?;
            failures.last_for_account = row
                .try_get::<Option<i64>, _>("last")?
                .map(millis)
                .transpose()?;
        }
        Ok(failures)
    }

    /// The newest attempts first, at most `limit`.
    pub async fn login_attempts(&self, limit: i64) -> Result<Vec<LoginAttempt>> {
        let rows = sqlx::query(
            "SELECT a.at, a.address, u.username, a.succeeded FROM login_attempts a \
             LEFT JOIN users u ON u.id = a.user_id ORDER BY a.at DESC, a.id DESC LIMIT $1",
        )
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(LoginAttempt {
                    at: millis(row.try_get("at")?)?,
                    address: row.try_get("address")?,
                    username: row.try_get("username")?,
                    succeeded: row.try_get::<i64, _>("succeeded")? != 0,
                })
            })
            .collect()
    }
}
