//! Looking after the database as a whole: verifying the audit chain,
//! re-encrypting under a new key, and online backups.

use embargo_core::chain::{self, Link, Verifier};
use embargo_core::{Case, Instant};
use sqlx::Row;

use crate::cases::CASE_COLUMNS;

/// The fact `embargo backup` records: the file it wrote.
pub const LAST_BACKUP: &str = "last_backup";
/// The fact an admin records: backups are taken another way (who said so).
pub const BACKUPS_CONFIRMED: &str = "backups_confirmed";
use crate::{AuditReport, Backend, Result, Store, StoreError, rekey, seal};

impl Store {
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

    // ---------------------------------------------------------------- facts

    /// Records a fact about the installation (replacing the last one).
    pub async fn set_fact(&self, name: &str, value: &str, at: Instant) -> Result<()> {
        sqlx::query(
            "INSERT INTO installation_facts (name, value, at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, at = excluded.at",
        )
        .bind(name)
        .bind(value)
        .bind(at.timestamp_millis())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// A fact and when it was recorded.
    pub async fn fact(&self, name: &str) -> Result<Option<(String, Instant)>> {
        let Some(row) = sqlx::query("SELECT value, at FROM installation_facts WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.reader)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some((
            row.try_get("value")?,
            crate::millis(row.try_get("at")?)?,
        )))
    }

    // ---------------------------------------------------------------- backup

    /// A consistent copy of a SQLite database at `path`, taken online.
    /// Records it as the last backup (the setup checklist reads it).
    pub async fn backup(&self, path: &std::path::Path, now: Instant) -> Result<()> {
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
                self.set_fact(LAST_BACKUP, target, now).await
            }
            Backend::Postgres => Err(StoreError::Unsupported(
                "backups of a PostgreSQL store are taken with pg_dump \
                 (for example `pg_dump --format=custom --file=embargo.dump DBNAME`) \
                 together with a copy of the key file"
                    .into(),
            )),
        }
    }
}
