//! Cases and their event chain. Reads go through [`Store`]; writes go
//! through a unit of work's [`Cases`] repository, which takes the chain lock
//! first, so that events are appended in one global order and every case's
//! projection changes with its events, in the same transaction.

use chrono::Datelike;
use embargo_core::case::Event;
use embargo_core::chain::Link;
use embargo_core::{Case, CaseRef, CaseState, EventKind, Instant, NewCase};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::work::Work;
use crate::{CaseFilter, CasePage, Result, Store, StoreError, millis, seal};

pub(crate) const CASE_COLUMNS: &str =
    "id, reference, product, state, severity, public, sealed_key, sealed";

impl Store {
    /// A case by reference, as its projection stands.
    pub async fn case(&self, reference: CaseRef) -> Result<Case> {
        let row = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE reference = $1"
        ))
        .bind(reference.to_string())
        .fetch_optional(&self.reader)
        .await?
        .ok_or_else(|| StoreError::not_found("case", reference))?;
        self.case_from_row(&row)
    }

    /// A case's events, oldest first, decrypted.
    pub async fn history(&self, reference: CaseRef) -> Result<Vec<Event>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, kind, payload, sealed_key, sealed FROM events \
             WHERE case_ref = $1 ORDER BY seq",
        )
        .bind(reference.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(|r| self.event_from_row(r)).collect()
    }

    /// The histories of many cases at once (a few queries instead of one a
    /// case), by reference; a case with no events is absent.
    pub async fn histories(
        &self,
        references: &[CaseRef],
    ) -> Result<std::collections::HashMap<CaseRef, Vec<Event>>> {
        let mut out: std::collections::HashMap<CaseRef, Vec<Event>> =
            std::collections::HashMap::with_capacity(references.len());
        for chunk in references.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT case_ref, seq, at, actor, kind, payload, sealed_key, sealed FROM events \
                 WHERE case_ref IN ({}) ORDER BY case_ref, seq",
                marks.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for r in chunk {
                query = query.bind(r.to_string());
            }
            let rows = query.fetch_all(&self.reader).await?;
            for row in &rows {
                let reference: String = row.try_get("case_ref")?;
                let reference: CaseRef = reference.parse().map_err(
                    |e: embargo_core::reference::ParseCaseRefError| {
                        StoreError::Corrupt(e.to_string())
                    },
                )?;
                out.entry(reference)
                    .or_default()
                    .push(self.event_from_row(row)?);
            }
        }
        Ok(out)
    }

    /// A case's events with the fields the hash chain covers, for an
    /// evidence bundle that recomputes each event's hash offline.
    pub async fn case_chain(
        &self,
        reference: CaseRef,
    ) -> Result<Vec<embargo_core::evidence::ChainedEvent>> {
        let rows = sqlx::query(
            "SELECT seq, case_ref, at, actor, kind, payload, sealed_key, sealed, prev_hash, hash \
             FROM events WHERE case_ref = $1 ORDER BY seq",
        )
        .bind(reference.to_string())
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                let blob: Option<Vec<u8>> = r.try_get("sealed")?;
                Ok(embargo_core::evidence::ChainedEvent {
                    seq: r.try_get("seq")?,
                    case_ref: r.try_get("case_ref")?,
                    at_millis: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    kind: r.try_get("kind")?,
                    payload: r.try_get("payload")?,
                    has_sealed: blob.is_some(),
                    prev_hash: r.try_get("prev_hash")?,
                    hash: r.try_get("hash")?,
                    event: self.event_from_row(r)?,
                })
            })
            .collect()
    }

    /// Cases matching `filter`, newest first, `limit` at a time from `cursor`.
    pub async fn list_cases(
        &self,
        filter: &CaseFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<CasePage> {
        let limit = limit.clamp(1, 500);
        let (conditions, args) = case_conditions(filter);
        let mut sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE 1 = 1{conditions}");
        let before: Option<i64> = match cursor {
            Some(c) => Some(c.parse().map_err(|_| {
                StoreError::Domain(embargo_core::DomainError::invalid(
                    "cursor",
                    "is not a cursor returned by this API",
                ))
            })?),
            None => None,
        };
        let n = args.len();
        if before.is_some() {
            sql.push_str(&format!(" AND id < ${}", n + 1));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit + 1));
        let mut query = sqlx::query(&sql);
        for a in args {
            query = query.bind(a);
        }
        if let Some(b) = before {
            query = query.bind(b);
        }
        let rows = query.fetch_all(&self.reader).await?;
        let more = rows.len() > limit as usize;
        let mut cases = Vec::with_capacity(rows.len().min(limit as usize));
        let mut last_id = None;
        for row in rows.iter().take(limit as usize) {
            last_id = Some(row.try_get::<i64, _>("id")?);
            cases.push(self.case_from_row(row)?);
        }
        Ok(CasePage {
            cases,
            next_cursor: if more {
                last_id.map(|id| id.to_string())
            } else {
                None
            },
        })
    }

    /// How many cases `filter` selects (every page of [`Store::list_cases`]).
    pub async fn count_cases(&self, filter: &CaseFilter) -> Result<i64> {
        let (conditions, args) = case_conditions(filter);
        let sql = format!("SELECT COUNT(*) AS n FROM cases WHERE 1 = 1{conditions}");
        let mut query = sqlx::query(&sql);
        for a in args {
            query = query.bind(a);
        }
        Ok(query.fetch_one(&self.reader).await?.try_get("n")?)
    }

    pub(crate) fn case_from_row(&self, row: &AnyRow) -> Result<Case> {
        let reference: String = row.try_get("reference")?;
        seal::open_case(
            &self.keyring,
            &reference,
            &row.try_get::<String, _>("public")?,
            &row.try_get::<String, _>("sealed_key")?,
            &row.try_get::<Vec<u8>, _>("sealed")?,
        )
    }

    pub(crate) fn event_from_row(&self, row: &AnyRow) -> Result<Event> {
        let seq: i64 = row.try_get("seq")?;
        let key: Option<String> = row.try_get("sealed_key")?;
        let blob: Option<Vec<u8>> = row.try_get("sealed")?;
        let kind = seal::open_event(
            &self.keyring,
            seq,
            &row.try_get::<String, _>("kind")?,
            &row.try_get::<String, _>("payload")?,
            key.as_deref().zip(blob.as_deref()),
        )?;
        Ok(Event {
            seq,
            at: millis(row.try_get("at")?)?,
            actor: row.try_get("actor")?,
            kind,
        })
    }
}

/// A case read for writing, inside a unit of work that holds the chain lock.
/// Its events are appended with [`Cases::append`], which keeps `case` as the
/// projection now stands.
#[derive(Debug)]
pub struct CaseHandle {
    row_id: i64,
    pub case: Case,
}

impl CaseHandle {
    pub(crate) fn row_id(&self) -> i64 {
        self.row_id
    }
}

/// The cases and their event chain, within a unit of work.
impl<'s> Work<'s> {
    /// Cases and their event chain.
    pub fn cases(&mut self) -> Cases<'_, 's> {
        Cases { work: self }
    }
}

#[derive(Debug)]
pub struct Cases<'w, 's> {
    pub(crate) work: &'w mut Work<'s>,
}

impl Cases<'_, '_> {
    /// Takes the chain lock for the rest of the unit (once). The first
    /// statement of the transaction is a write, so on SQLite the unit holds
    /// the write lock from here on, and on PostgreSQL the head row stays
    /// locked until commit.
    async fn lock_chain(&mut self) -> Result<()> {
        if self.work.chain.is_none() {
            let row =
                sqlx::query("UPDATE chain_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
                    .fetch_one(&mut *self.work.tx)
                    .await?;
            self.work.chain = Some((row.try_get("seq")?, row.try_get("hash")?));
        }
        Ok(())
    }

    /// Opens a case: allocates the next reference of `now`'s year, writes
    /// the case and appends its first event.
    pub async fn open(
        &mut self,
        request: NewCase,
        actor: &str,
        now: Instant,
    ) -> Result<(CaseHandle, Event)> {
        let request = request.validate()?;
        self.lock_chain().await?;
        let year = i64::from(now.year());
        let number: i64 = sqlx::query(
            "INSERT INTO case_counters (year, last) VALUES ($1, 1) \
             ON CONFLICT (year) DO UPDATE SET last = case_counters.last + 1 RETURNING last",
        )
        .bind(year)
        .fetch_one(&mut *self.work.tx)
        .await?
        .try_get("last")?;
        let reference = CaseRef::new(
            u16::try_from(year).map_err(|_| StoreError::Corrupt(format!("year {year}")))?,
            u32::try_from(number)
                .map_err(|_| StoreError::Corrupt(format!("case number {number}")))?,
        );
        let (case, event) = Case::open(reference, request, now)?;
        let store: &Store = self.work.store;
        let (public, sealed) = seal::seal_case(store.keyring(), &case)?;
        let row_id: i64 = sqlx::query(
            "INSERT INTO cases (reference, product, state, severity, created_at, updated_at, revision, public, sealed_key, sealed) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(case.reference.to_string())
        .bind(&case.product)
        .bind(case.state.as_str())
        .bind(case.severity.map(|s| s.as_str().to_owned()))
        .bind(case.created_at.timestamp_millis())
        .bind(case.updated_at.timestamp_millis())
        .bind(i64::from(case.revision))
        .bind(public)
        .bind(sealed.key_id)
        .bind(sealed.blob)
        .fetch_one(&mut *self.work.tx)
        .await?
        .try_get("id")?;
        let mut stored = self.append_events(row_id, reference, actor, now, vec![event])?;
        self.write_events(&stored).await?;
        let first = stored.remove(0);
        Ok((CaseHandle { row_id, case }, first.0))
    }

    /// The case `reference`, read for writing.
    pub async fn lock(&mut self, reference: CaseRef) -> Result<CaseHandle> {
        self.lock_chain().await?;
        let row = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE reference = $1"
        ))
        .bind(reference.to_string())
        .fetch_optional(&mut *self.work.tx)
        .await?
        .ok_or_else(|| StoreError::not_found("case", reference))?;
        Ok(CaseHandle {
            row_id: row.try_get("id")?,
            case: self.work.store.case_from_row(&row)?,
        })
    }

    /// The locked case's events, oldest first, decrypted: read inside the
    /// unit, so they include what it has appended so far.
    pub async fn history(&mut self, handle: &CaseHandle) -> Result<Vec<Event>> {
        self.history_of_row(handle.row_id).await
    }

    /// The events of the case with row `case_id`, oldest first, decrypted,
    /// as the unit sees them.
    pub(crate) async fn history_of_row(&mut self, case_id: i64) -> Result<Vec<Event>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, kind, payload, sealed_key, sealed FROM events \
             WHERE case_id = $1 ORDER BY seq",
        )
        .bind(case_id)
        .fetch_all(&mut *self.work.tx)
        .await?;
        let store: &Store = self.work.store;
        rows.iter().map(|r| store.event_from_row(r)).collect()
    }

    /// Whether a case `reference` exists.
    pub async fn exists(&mut self, reference: CaseRef) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM cases WHERE reference = $1")
            .bind(reference.to_string())
            .fetch_optional(&mut *self.work.tx)
            .await?
            .is_some())
    }

    /// Whether the case already has a clock escalation like `event` (the
    /// same kind, for the same clock). Read under the chain lock, so the
    /// check and a following append are atomic across servers.
    pub async fn has_escalation(&mut self, handle: &CaseHandle, event: &EventKind) -> Result<bool> {
        let (EventKind::ClockWarning { clock, .. } | EventKind::ClockBreached { clock, .. }) =
            event
        else {
            return Err(StoreError::Config(format!(
                "`{}` is not an escalation event",
                event.name()
            )));
        };
        let existing = sqlx::query("SELECT payload FROM events WHERE case_id = $1 AND kind = $2")
            .bind(handle.row_id)
            .bind(event.name())
            .fetch_all(&mut *self.work.tx)
            .await?;
        for r in &existing {
            let payload: serde_json::Value =
                serde_json::from_str(&r.try_get::<String, _>("payload")?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if payload["clock"].as_str() == Some(clock.as_str()) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Applies `events` to the case, appends them to the chain and updates
    /// the case's projection. Returns the events as stored.
    pub async fn append(
        &mut self,
        handle: &mut CaseHandle,
        events: Vec<EventKind>,
        actor: &str,
        now: Instant,
    ) -> Result<Vec<Event>> {
        for event in &events {
            handle.case.apply(event, now)?;
        }
        let stored =
            self.append_events(handle.row_id, handle.case.reference, actor, now, events)?;
        self.write_events(&stored).await?;
        let store: &Store = self.work.store;
        let (public, sealed) = seal::seal_case(store.keyring(), &handle.case)?;
        let case = &handle.case;
        sqlx::query(
            "UPDATE cases SET state = $1, severity = $2, updated_at = $3, revision = $4, \
             public = $5, sealed_key = $6, sealed = $7 WHERE id = $8",
        )
        .bind(case.state.as_str())
        .bind(case.severity.map(|s| s.as_str().to_owned()))
        .bind(case.updated_at.timestamp_millis())
        .bind(i64::from(case.revision))
        .bind(public)
        .bind(sealed.key_id)
        .bind(sealed.blob)
        .bind(handle.row_id)
        .execute(&mut *self.work.tx)
        .await?;
        Ok(stored.into_iter().map(|(event, _)| event).collect())
    }

    /// Links `events` into the chain after its head (moving the head) and
    /// seals them; returns each event with its row, ready to insert.
    fn append_events(
        &mut self,
        row_id: i64,
        reference: CaseRef,
        actor: &str,
        at: Instant,
        events: Vec<EventKind>,
    ) -> Result<Vec<(Event, EventRow)>> {
        let store: &Store = self.work.store;
        let keyring = store.keyring();
        let (seq, prev) =
            self.work.chain.as_mut().ok_or_else(|| {
                StoreError::Config("events appended without the chain lock".into())
            })?;
        let case_ref = reference.to_string();
        let mut out = Vec::with_capacity(events.len());
        for kind in events {
            *seq += 1;
            let (payload, sealed) = seal::seal_event(keyring, *seq, &kind)?;
            let hash = Link {
                seq: *seq,
                case_ref: &case_ref,
                at_millis: at.timestamp_millis(),
                actor,
                kind: kind.name(),
                payload: &payload,
                has_sealed: sealed.is_some(),
                prev_hash: prev.as_str(),
            }
            .hash();
            let row = EventRow {
                case_id: row_id,
                case_ref: case_ref.clone(),
                payload,
                sealed: sealed.map(|s| (s.key_id, s.blob)),
                prev_hash: std::mem::replace(prev, hash.clone()),
                hash,
            };
            out.push((
                Event {
                    seq: *seq,
                    at,
                    actor: actor.to_owned(),
                    kind,
                },
                row,
            ));
        }
        Ok(out)
    }

    async fn write_events(&mut self, events: &[(Event, EventRow)]) -> Result<()> {
        for (event, row) in events {
            let (key, blob) = row.sealed.clone().unzip();
            sqlx::query(
                "INSERT INTO events (seq, case_id, case_ref, at, actor, kind, payload, sealed_key, sealed, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(event.seq)
            .bind(row.case_id)
            .bind(&row.case_ref)
            .bind(event.at.timestamp_millis())
            .bind(&event.actor)
            .bind(event.kind.name())
            .bind(&row.payload)
            .bind(key)
            .bind(blob)
            .bind(&row.prev_hash)
            .bind(&row.hash)
            .execute(&mut *self.work.tx)
            .await?;
        }
        Ok(())
    }
}

/// An event's row as the chain links it.
struct EventRow {
    case_id: i64,
    case_ref: String,
    payload: String,
    sealed: Option<(String, Vec<u8>)>,
    prev_hash: String,
    hash: String,
}

/// A case's row id and row, read inside a write transaction (no chain lock:
/// for writes beside the chain, such as reporter tokens).
pub(crate) async fn case_row(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    reference: CaseRef,
) -> Result<(i64, AnyRow)> {
    let row = sqlx::query(&format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE reference = $1"
    ))
    .bind(reference.to_string())
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::not_found("case", reference))?;
    Ok((row.try_get("id")?, row))
}

/// The `AND …` conditions of a case filter, numbered `$1…`, and their values.
fn case_conditions(filter: &CaseFilter) -> (String, Vec<String>) {
    case_conditions_on(filter, "")
}

/// The SQL conditions of `filter` on the cases table named by `prefix`
/// (`c.`, or empty), each starting with ` AND`, and their arguments.
pub(crate) fn case_conditions_on(filter: &CaseFilter, prefix: &str) -> (String, Vec<String>) {
    let mut sql = String::new();
    let mut args: Vec<String> = Vec::new();
    let mut push = |sql: &mut String, column: &str, value: String| {
        args.push(value);
        sql.push_str(&format!(" AND {prefix}{column} = ${}", args.len()));
    };
    if let Some(state) = filter.state {
        push(&mut sql, "state", state.as_str().to_owned());
    }
    if let Some(product) = &filter.product {
        push(&mut sql, "product", product.clone());
    }
    if let Some(severity) = filter.severity {
        push(&mut sql, "severity", severity.as_str().to_owned());
    }
    if filter.open_only {
        let finals: Vec<String> = CaseState::ALL
            .iter()
            .filter(|s| s.is_final())
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        sql.push_str(&format!(
            " AND {prefix}state NOT IN ({})",
            finals.join(", ")
        ));
    }
    (sql, args)
}
