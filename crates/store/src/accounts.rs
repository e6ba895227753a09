//! Accounts: team members, their login sessions and their API tokens.
//! Passwords and tokens arrive already hashed or digested; none is kept in
//! the clear.

use embargo_core::Instant;
use embargo_core::auth::{ApiToken, Role, User};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError, millis};

const USER_COLUMNS: &str = "id, username, role, email, disabled, created_at";

impl Store {
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

    /// Gives a user another role. Refused (a conflict) when it would leave
    /// no enabled admin.
    pub async fn set_user_role(&self, username: &str, role: Role) -> Result<User> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query("UPDATE users SET role = $1 WHERE username = $2")
            .bind(role.as_str())
            .bind(username)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found("user", username));
        }
        let admins: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0")
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
        if admins == 0 {
            return Err(StoreError::Conflict(
                "that would leave no admin: make another member an admin first".into(),
            ));
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

    /// Ends every session of a user.
    pub async fn end_sessions(&self, user_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

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

fn prefixed_user_columns() -> String {
    crate::aliased(USER_COLUMNS, "u")
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
