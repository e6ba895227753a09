//! What the team's web interface keeps per member: the TOTP second factor
//! (the secret sealed, bound to the user id) and saved case views.

use embargo_core::{DomainError, Instant};
use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store, StoreError};

pub(crate) fn totp_context(user_id: &str) -> Vec<u8> {
    format!("embargo:totp:{user_id}").into_bytes()
}

/// A member's TOTP secret and whether they have confirmed it.
#[derive(Debug, Clone)]
pub struct TotpSecret {
    pub secret: Vec<u8>,
    pub confirmed: bool,
    /// The step of the last code accepted (a code is good once).
    pub last_step: i64,
}

/// A named case filter.
#[derive(Debug, Clone, Serialize)]
pub struct SavedView {
    pub id: i64,
    pub name: String,
    /// The query string of `/desk/cases` it stands for.
    pub query: String,
}

/// How many views one member may keep.
pub const MAX_SAVED_VIEWS: i64 = 50;

impl Store {
    /// Starts (or restarts) setting up a second factor: stores `secret`
    /// unconfirmed. Refused once a confirmed factor exists; disable it first.
    pub async fn begin_totp(&self, user_id: i64, secret: &[u8]) -> Result<()> {
        let sealed = self
            .keyring
            .seal(secret, &totp_context(&user_id.to_string()))?;
        let mut tx = self.writer.begin().await?;
        let confirmed: Option<Option<i64>> =
            sqlx::query("SELECT confirmed_at FROM totp_secrets WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("confirmed_at"))
                .transpose()?;
        if matches!(confirmed, Some(Some(_))) {
            return Err(StoreError::Conflict(
                "a second factor is already set up; turn it off before setting up another".into(),
            ));
        }
        sqlx::query("DELETE FROM totp_secrets WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO totp_secrets (user_id, sealed_key, sealed, last_step) VALUES ($1, $2, $3, 0)",
        )
        .bind(user_id)
        .bind(sealed.key_id)
        .bind(sealed.blob)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The member's second factor, confirmed or not.
    pub async fn totp(&self, user_id: i64) -> Result<Option<TotpSecret>> {
        let Some(row) = sqlx::query(
            "SELECT sealed_key, sealed, confirmed_at, last_step FROM totp_secrets WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.reader)
        .await?
        else {
            return Ok(None);
        };
        let secret = self.keyring.open(
            &row.try_get::<String, _>("sealed_key")?,
            &row.try_get::<Vec<u8>, _>("sealed")?,
            &totp_context(&user_id.to_string()),
        )?;
        Ok(Some(TotpSecret {
            secret,
            confirmed: row.try_get::<Option<i64>, _>("confirmed_at")?.is_some(),
            last_step: row.try_get("last_step")?,
        }))
    }

    /// Records that the code of `step` was used (confirming the factor if
    /// it was not yet). `false` when a code of that step or a later one was
    /// already accepted: two requests racing with one code, one wins.
    pub async fn use_totp_step(&self, user_id: i64, step: i64, now: Instant) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE totp_secrets SET last_step = $1, confirmed_at = COALESCE(confirmed_at, $2) \
             WHERE user_id = $3 AND last_step < $1",
        )
        .bind(step)
        .bind(now.timestamp_millis())
        .bind(user_id)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    /// The ids of the members with a confirmed second factor.
    pub async fn members_with_second_factor(&self) -> Result<Vec<i64>> {
        let rows = sqlx::query("SELECT user_id FROM totp_secrets WHERE confirmed_at IS NOT NULL")
            .fetch_all(&self.reader)
            .await?;
        rows.iter()
            .map(|r| r.try_get::<i64, _>("user_id").map_err(Into::into))
            .collect()
    }

    /// Removes the member's second factor and its recovery codes.
    pub async fn disable_totp(&self, user_id: i64) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM totp_secrets WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the member's recovery codes with these (their digests).
    pub async fn replace_recovery_codes(&self, user_id: i64, digests: &[String]) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for d in digests {
            sqlx::query("INSERT INTO recovery_codes (user_id, digest) VALUES ($1, $2)")
                .bind(user_id)
                .bind(d)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Uses one recovery code: `true` when it was the member's and unused
    /// (two requests racing with one code, one wins).
    pub async fn use_recovery_code(
        &self,
        user_id: i64,
        digest: &str,
        now: Instant,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND digest = $3 AND used_at IS NULL",
        )
        .bind(now.timestamp_millis())
        .bind(user_id)
        .bind(digest)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    /// How many unused recovery codes the member has.
    pub async fn recovery_codes_left(&self, user_id: i64) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(&self.reader)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// Saves (or replaces, by name) a case view.
    pub async fn save_view(
        &self,
        user_id: i64,
        name: &str,
        query: &str,
        now: Instant,
    ) -> Result<SavedView> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 || name.contains(char::is_control) {
            return Err(StoreError::Domain(DomainError::invalid(
                "name",
                "1 to 60 characters on one line",
            )));
        }
        if query.len() > 1000 {
            return Err(StoreError::Domain(DomainError::invalid(
                "query",
                "longer than 1000 characters",
            )));
        }
        let mut tx = self.writer.begin().await?;
        let count: i64 =
            sqlx::query("SELECT COUNT(*) AS views FROM saved_views WHERE user_id = $1")
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("views")?;
        let replaced = sqlx::query("DELETE FROM saved_views WHERE user_id = $1 AND name = $2")
            .bind(user_id)
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if count - i64::try_from(replaced).unwrap_or(0) >= MAX_SAVED_VIEWS {
            return Err(StoreError::Domain(DomainError::invalid(
                "name",
                format!("you keep {MAX_SAVED_VIEWS} views already; delete one first"),
            )));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO saved_views (user_id, name, query, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(query)
        .bind(now.timestamp_millis())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        tx.commit().await?;
        Ok(SavedView {
            id,
            name: name.to_owned(),
            query: query.to_owned(),
        })
    }

    /// The member's saved views, by name.
    pub async fn saved_views(&self, user_id: i64) -> Result<Vec<SavedView>> {
        let rows =
            sqlx::query("SELECT id, name, query FROM saved_views WHERE user_id = $1 ORDER BY name")
                .bind(user_id)
                .fetch_all(&self.reader)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(SavedView {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    query: r.try_get("query")?,
                })
            })
            .collect()
    }

    /// Deletes one of the member's views (another member's is untouched).
    pub async fn delete_view(&self, user_id: i64, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM saved_views WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
