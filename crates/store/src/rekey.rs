//! Values sealed one per row (attachment contents, outbox messages, webhook
//! secrets, advisory drafts, signing keys, the reporter tokens kept for a retried report), each bound to a context made from its row, and re-sealed under
//! the active key by `keys rotate`. One list, so that rotation and
//! `keys_in_use` cannot forget a table.

use sqlx::Row;

use crate::{Result, Store};

pub(crate) struct SealedRows {
    table: &'static str,
    /// The primary key, and the SQL type to bind it back as.
    id: &'static str,
    id_type: &'static str,
    /// The column the sealed value is bound to (its context).
    bound_to: &'static str,
    context: fn(&str) -> Vec<u8>,
    /// Rows per transaction: attachment contents can be megabytes each.
    batch: u32,
}

pub(crate) const SEALED_ROWS: [SealedRows; 7] = [
    SealedRows {
        table: "totp_secrets",
        id: "user_id",
        id_type: "BIGINT",
        bound_to: "user_id",
        context: crate::desk::totp_context,
        batch: 100,
    },
    SealedRows {
        table: "attachments",
        id: "id",
        id_type: "TEXT",
        bound_to: "id",
        context: crate::attachments::context,
        batch: 1,
    },
    SealedRows {
        table: "outbox",
        id: "id",
        id_type: "BIGINT",
        bound_to: "idempotency_key",
        context: crate::outbox::context,
        batch: 500,
    },
    SealedRows {
        table: "webhooks",
        id: "id",
        id_type: "BIGINT",
        bound_to: "id",
        context: crate::outbox::webhook_context,
        batch: 500,
    },
    SealedRows {
        table: "advisories",
        id: "id",
        id_type: "TEXT",
        bound_to: "id",
        context: crate::advisories::context,
        batch: 100,
    },
    SealedRows {
        table: "signing_keys",
        id: "purpose",
        id_type: "TEXT",
        bound_to: "purpose",
        context: crate::advisories::signing_context,
        batch: 10,
    },
    SealedRows {
        table: "intake_requests",
        id: "key_digest",
        id_type: "TEXT",
        bound_to: "key_digest",
        context: crate::intake_keys::context,
        batch: 500,
    },
];

impl Store {
    /// Re-seals the rows of `t` that are not under the active key; returns how many.
    pub(crate) async fn reseal_rows(&self, t: &SealedRows) -> Result<u64> {
        let active = self.keyring.active_id().to_owned();
        let mut count = 0;
        loop {
            let rows = sqlx::query(&format!(
                "SELECT CAST({id} AS TEXT) AS row_id, CAST({bound} AS TEXT) AS bound_to, sealed_key, sealed FROM {table} \
                 WHERE sealed_key <> $1 ORDER BY {id} LIMIT {batch}",
                id = t.id,
                bound = t.bound_to,
                table = t.table,
                batch = t.batch,
            ))
            .bind(&active)
            .fetch_all(&self.reader)
            .await?;
            if rows.is_empty() {
                break;
            }
            let mut tx = self.writer.begin().await?;
            for row in &rows {
                let id: String = row.try_get("row_id")?;
                let context = (t.context)(&row.try_get::<String, _>("bound_to")?);
                let key: String = row.try_get("sealed_key")?;
                let plain =
                    self.keyring
                        .open(&key, &row.try_get::<Vec<u8>, _>("sealed")?, &context)?;
                let sealed = self.keyring.seal(&plain, &context)?;
                sqlx::query(&format!(
                    "UPDATE {table} SET sealed_key = $1, sealed = $2 WHERE {id} = CAST($3 AS {id_type})",
                    table = t.table,
                    id = t.id,
                    id_type = t.id_type,
                ))
                .bind(sealed.key_id)
                .bind(sealed.blob)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                count += 1;
            }
            tx.commit().await?;
        }
        Ok(count)
    }
}

/// `UNION SELECT sealed_key FROM …` for every table of [`SEALED_ROWS`].
pub(crate) fn keys_union() -> String {
    SEALED_ROWS
        .iter()
        .map(|t| format!(" UNION SELECT sealed_key FROM {}", t.table))
        .collect()
}
