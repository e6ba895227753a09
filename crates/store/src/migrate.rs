//! Embedded schema migrations, one list per backend, applied in order and
//! recorded in `schema_migrations`.

use chrono::{DateTime, Utc};
use sqlx::{AnyPool, Row};

use crate::{Backend, StoreError};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: include_str!("../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "notifications",
        sqlite: include_str!("../migrations/sqlite/0002_notifications.sql"),
        postgres: include_str!("../migrations/postgres/0002_notifications.sql"),
    },
    Migration {
        version: 3,
        name: "reporter_access",
        sqlite: include_str!("../migrations/sqlite/0003_reporter_access.sql"),
        postgres: include_str!("../migrations/postgres/0003_reporter_access.sql"),
    },
    Migration {
        version: 4,
        name: "attachments_and_mailbox",
        sqlite: include_str!("../migrations/sqlite/0004_attachments_and_mailbox.sql"),
        postgres: include_str!("../migrations/postgres/0004_attachments_and_mailbox.sql"),
    },
    Migration {
        version: 5,
        name: "advisories",
        sqlite: include_str!("../migrations/sqlite/0005_advisories.sql"),
        postgres: include_str!("../migrations/postgres/0005_advisories.sql"),
    },
    Migration {
        version: 6,
        name: "portfolio",
        sqlite: include_str!("../migrations/sqlite/0006_portfolio.sql"),
        postgres: include_str!("../migrations/postgres/0006_portfolio.sql"),
    },
    Migration {
        version: 7,
        name: "desk",
        sqlite: include_str!("../migrations/sqlite/0007_desk.sql"),
        postgres: include_str!("../migrations/postgres/0007_desk.sql"),
    },
    Migration {
        version: 8,
        name: "rules",
        sqlite: include_str!("../migrations/sqlite/0008_rules.sql"),
        postgres: include_str!("../migrations/postgres/0008_rules.sql"),
    },
    Migration {
        version: 9,
        name: "leases",
        sqlite: include_str!("../migrations/sqlite/0009_leases.sql"),
        postgres: include_str!("../migrations/postgres/0009_leases.sql"),
    },
    Migration {
        version: 10,
        name: "component_names",
        sqlite: include_str!("../migrations/sqlite/0010_component_names.sql"),
        postgres: include_str!("../migrations/postgres/0010_component_names.sql"),
    },
    Migration {
        version: 11,
        name: "scans",
        sqlite: include_str!("../migrations/sqlite/0011_scans.sql"),
        postgres: include_str!("../migrations/postgres/0011_scans.sql"),
    },
    Migration {
        version: 12,
        name: "exploitation",
        sqlite: include_str!("../migrations/sqlite/0012_exploitation.sql"),
        postgres: include_str!("../migrations/postgres/0012_exploitation.sql"),
    },
    Migration {
        version: 13,
        name: "login_attempts",
        sqlite: include_str!("../migrations/sqlite/0013_login_attempts.sql"),
        postgres: include_str!("../migrations/postgres/0013_login_attempts.sql"),
    },
    Migration {
        version: 14,
        name: "intake_requests",
        sqlite: include_str!("../migrations/sqlite/0014_intake_requests.sql"),
        postgres: include_str!("../migrations/postgres/0014_intake_requests.sql"),
    },
    Migration {
        version: 15,
        name: "installation_facts",
        sqlite: include_str!("../migrations/sqlite/0015_installation_facts.sql"),
        postgres: include_str!("../migrations/postgres/0015_installation_facts.sql"),
    },
    Migration {
        version: 16,
        name: "recovery_codes",
        sqlite: include_str!("../migrations/sqlite/0016_recovery_codes.sql"),
        postgres: include_str!("../migrations/postgres/0016_recovery_codes.sql"),
    },
    Migration {
        version: 17,
        name: "case_summaries",
        sqlite: include_str!("../migrations/sqlite/0017_case_summaries.sql"),
        postgres: include_str!("../migrations/postgres/0017_case_summaries.sql"),
    },
    Migration {
        version: 18,
        name: "finding_deadlines",
        sqlite: include_str!("../migrations/sqlite/0018_finding_deadlines.sql"),
        postgres: include_str!("../migrations/postgres/0018_finding_deadlines.sql"),
    },
    Migration {
        version: 19,
        name: "list_keys",
        sqlite: include_str!("../migrations/sqlite/0019_list_keys.sql"),
        postgres: include_str!("../migrations/postgres/0019_list_keys.sql"),
    },
];

/// Any number serves, as long as every embargo instance uses the same one.
const PG_MIGRATION_LOCK: i64 = 0x0065_6d62_6172_676f;

pub(crate) async fn run(
    backend: Backend,
    pool: &AnyPool,
    now: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    let mut conn = pool.acquire().await?;
    if backend == Backend::Postgres {
        // Instances starting together take turns; the second finds nothing to do.
        sqlx::query(&format!("SELECT pg_advisory_lock({PG_MIGRATION_LOCK})"))
            .execute(&mut *conn)
            .await?;
    }
    let result = apply_pending(backend, &mut conn, now).await;
    if backend == Backend::Postgres {
        sqlx::query(&format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"))
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn apply_pending(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    now: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (\
         version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations ORDER BY version")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get("version"))
        .collect::<Result<_, _>>()?;
    if let Some(newest) = applied.last()
        && *newest > MIGRATIONS.last().map_or(0, |m| m.version)
    {
        return Err(StoreError::Config(format!(
            "the database is at schema version {newest}, newer than this embargo knows; upgrade embargo"
        )));
    }
    let mut done = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        let sql = match backend {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        for statement in split_statements(sql) {
            sqlx::query(&statement).execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(now.timestamp_millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        done.push(format!("{:04}_{}", m.version, m.name));
    }
    Ok(done)
}

/// Splits a migration file into statements at semicolons that end a line,
/// dropping comment lines. Migrations are ours, so this need not parse SQL.
fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in sql.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("--") || trimmed.is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if trimmed.ends_with(';') {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_splits_into_statements() {
        for m in MIGRATIONS {
            let a = split_statements(m.sqlite);
            let b = split_statements(m.postgres);
            assert_eq!(
                a.len(),
                b.len(),
                "{}: both backends have the same statements",
                m.name
            );
            assert!(a.iter().all(|s| s.trim_end().ends_with(';')));
        }
    }
}
