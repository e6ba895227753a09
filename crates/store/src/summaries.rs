//! Each case's summary: what the queue sorts, filters and counts by
//! (its running clocks' deadlines, its assignee, whether the reporter waits
//! on an answer), kept beside the case so the database answers "the 50
//! soonest due of 10,000" and "how many are breached" without every history
//! being read, decrypted and evaluated per request.
//!
//! The summary is derived from the events under the policy in force, so it
//! is written by the application layer in the same unit as the events, and
//! rebuilt whenever it may be out of date: missing, older than its case's
//! revision, past its `changes_at`, or made under another policy. Nothing
//! secret is in it: the assignee and the deadlines are as public as the
//! case's state.

use embargo_core::case::Event;
use embargo_core::clock::Deadline;
use embargo_core::{Case, CaseState, Instant};
use sqlx::Row;

use crate::cases::CASE_COLUMNS;
use crate::{CaseFilter, Result, Store, StoreError, millis};

/// The case row's columns as read through the alias `c` (the queue and
/// the dashboard join the summaries to it).
fn case_columns() -> String {
    crate::aliased(CASE_COLUMNS, "c")
}

/// A case whose summary may be out of date, with the row id its summary
/// is kept under.
#[derive(Debug, Clone)]
pub struct StaleCase {
    pub row_id: i64,
    pub case: Case,
}

/// What the queue needs of a case beyond its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSummary {
    /// The case revision it was worked out from.
    pub revision: u32,
    pub assignee: Option<String>,
    /// The reporter wrote last and the case is open: the team owes an answer.
    pub reply_owed: bool,
    /// A severity or a policy level is set.
    pub assessed: bool,
    /// Confirmed actively exploited, or a severe incident (Article 14).
    pub exploited: bool,
    /// The running clocks with a deadline.
    pub deadlines: Vec<Deadline>,
    /// When a dated fact of the history takes effect and the summary must
    /// be worked out again.
    pub changes_at: Option<Instant>,
}

impl CaseSummary {
    /// The soonest deadline of a running clock.
    #[must_use]
    pub fn next_due_at(&self) -> Option<Instant> {
        self.deadlines.iter().map(|d| d.due_at).min()
    }
}

/// Whose cases the queue shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AssigneeFilter {
    #[default]
    Anyone,
    Nobody,
    Member(String),
}

/// The queue's views: what a case must be waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueView {
    /// The reporter wrote last.
    NeedsReply,
    /// Waiting on the reporter.
    Waiting,
    /// A running clock is past its deadline.
    Breached,
    /// A running clock is past its warning point and not yet due.
    DueSoon,
}

/// The queue's orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueSort {
    /// Cases with a running deadline first, soonest (so breached) first;
    /// then the rest, newest first.
    #[default]
    NextDue,
    /// Most severe first; within a severity, soonest due.
    Severity,
    /// Oldest first.
    Age,
    /// Latest activity first.
    Activity,
}

/// A queue: the cases' own filter, and what the summaries answer.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub cases: CaseFilter,
    pub assignee: AssigneeFilter,
    pub view: Option<QueueView>,
    /// Only cases past reception with neither a severity nor a level.
    pub unassessed: bool,
    /// Only cases confirmed actively exploited (or severe incidents).
    pub exploited: bool,
    pub sort: QueueSort,
    /// The instant "breached" and "due soon" are judged at.
    pub now: Instant,
}

/// A case of the queue, with the summary's facts the page shows.
#[derive(Debug, Clone)]
pub struct QueuedCase {
    pub case: Case,
    pub reply_owed: bool,
    pub next_due_at: Option<Instant>,
}

/// Writes `summary` for the case with row `case_id`, unless a newer one
/// (a later revision) is there already; returns whether it was written.
async fn write(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    case_id: i64,
    summary: &CaseSummary,
) -> Result<bool> {
    // The summary row first: its lock (or unique-key wait) orders two
    // writers of the same case's summary, so the deadlines below always
    // belong to the summary that won.
    let written = sqlx::query(
        "INSERT INTO case_summaries \
         (case_id, revision, assignee, reply_owed, next_due_at, changes_at, assessed, exploited) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (case_id) DO UPDATE SET revision = excluded.revision, \
         assignee = excluded.assignee, reply_owed = excluded.reply_owed, \
         next_due_at = excluded.next_due_at, changes_at = excluded.changes_at, \
         assessed = excluded.assessed, exploited = excluded.exploited \
         WHERE case_summaries.revision <= excluded.revision",
    )
    .bind(case_id)
    .bind(i64::from(summary.revision))
    .bind(summary.assignee.clone())
    .bind(i64::from(summary.reply_owed))
    .bind(summary.next_due_at().map(|t| t.timestamp_millis()))
    .bind(summary.changes_at.map(|t| t.timestamp_millis()))
    .bind(i64::from(summary.assessed))
    .bind(i64::from(summary.exploited))
    .execute(&mut **tx)
    .await?
    .rows_affected()
        > 0;
    if !written {
        return Ok(false);
    }
    sqlx::query("DELETE FROM case_deadlines WHERE case_id = $1")
        .bind(case_id)
        .execute(&mut **tx)
        .await?;
    for d in &summary.deadlines {
        sqlx::query(
            "INSERT INTO case_deadlines (case_id, clock, warn_at, due_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(case_id)
        .bind(&d.clock)
        .bind(d.warn_at.map(|t| t.timestamp_millis()))
        .bind(d.due_at.timestamp_millis())
        .execute(&mut **tx)
        .await?;
    }
    Ok(true)
}

impl crate::Cases<'_, '_> {
    /// Works out and writes, in the unit, the summary of `case` (as the
    /// unit has just written it): `summarise` gets its whole history as the
    /// unit sees it.
    pub async fn write_summary(
        &mut self,
        case: &Case,
        summarise: impl FnOnce(&[Event]) -> CaseSummary,
    ) -> Result<()> {
        let case_id: i64 = sqlx::query("SELECT id FROM cases WHERE reference = $1")
            .bind(case.reference.to_string())
            .fetch_optional(&mut *self.work.tx)
            .await?
            .ok_or_else(|| StoreError::not_found("case", case.reference))?
            .try_get("id")?;
        let history = self.history_of_row(case_id).await?;
        write(&mut self.work.tx, case_id, &summarise(&history)).await?;
        Ok(())
    }
}

impl Store {
    /// Cases whose summary may be out of date at `now`: missing, older than
    /// the case, or past its `changes_at`; at most `limit`, oldest first,
    /// read in one statement after the narrow one that finds them.
    pub async fn stale_summaries(&self, now: Instant, limit: u32) -> Result<Vec<StaleCase>> {
        let ids = crate::fetch_ids(
            &self.reader,
            &format!(
                "SELECT c.id AS id FROM cases c LEFT JOIN case_summaries s ON s.case_id = c.id \
                 WHERE s.case_id IS NULL OR s.revision <> c.revision OR s.changes_at <= {} \
                 ORDER BY c.id LIMIT {limit}",
                now.timestamp_millis()
            ),
            Vec::new(),
        )
        .await?;
        crate::rows_in_order(
            &self.reader,
            &format!("{} FROM cases c", case_columns()),
            "c.id",
            &ids,
        )
        .await?
        .iter()
        .map(|row| {
            Ok(StaleCase {
                row_id: row.try_get("row_order_id")?,
                case: self.case_from_row(row)?,
            })
        })
        .collect()
    }

    /// Writes summaries worked out outside a unit (a refresh), each under
    /// its case's row id and only if no newer one was written meanwhile.
    /// Returns how many were written.
    pub async fn write_summaries(&self, summaries: &[(i64, CaseSummary)]) -> Result<usize> {
        let mut work = self.begin().await?;
        let mut written = 0;
        for (row_id, summary) in summaries {
            if write(&mut work.tx, *row_id, summary).await? {
                written += 1;
            }
        }
        work.commit().await?;
        Ok(written)
    }

    /// Marks every summary out of date (the policy changed): the next
    /// refresh works each out again.
    pub async fn forget_summaries(&self) -> Result<()> {
        sqlx::query("UPDATE case_summaries SET revision = -1")
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// How many cases the queue `filter` selects.
    pub async fn queue_count(&self, filter: &QueueFilter) -> Result<i64> {
        let (conditions, args) = queue_conditions(filter);
        let sql = format!(
            "SELECT COUNT(*) AS n FROM cases c LEFT JOIN case_summaries s ON s.case_id = c.id \
             WHERE 1 = 1{conditions}"
        );
        crate::count_rows(&self.reader, &sql, args).await
    }

    /// The queue `filter` selects, in its order: `limit` cases from `offset`.
    pub async fn queue_cases(
        &self,
        filter: &QueueFilter,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<QueuedCase>> {
        let (conditions, args) = queue_conditions(filter);
        let severity_rank = crate::severity_rank("c.severity");
        let due = "(s.next_due_at IS NULL), s.next_due_at";
        let order = match filter.sort {
            QueueSort::NextDue => format!("{due}, c.id DESC"),
            QueueSort::Severity => {
                format!("{severity_rank} DESC, {due}, c.id DESC")
            }
            QueueSort::Age => "c.created_at, c.id".to_owned(),
            QueueSort::Activity => "c.updated_at DESC, c.id DESC".to_owned(),
        };
        let ids = crate::fetch_ids(
            &self.reader,
            &format!(
                "SELECT c.id AS id FROM cases c LEFT JOIN case_summaries s ON s.case_id = c.id \
                 WHERE 1 = 1{conditions} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
            ),
            args,
        )
        .await?;
        let rows = crate::rows_in_order(
            &self.reader,
            &format!(
                "{}, s.reply_owed, s.next_due_at FROM cases c \
                 LEFT JOIN case_summaries s ON s.case_id = c.id",
                case_columns()
            ),
            "c.id",
            &ids,
        )
        .await?;
        rows.iter()
            .map(|row| {
                Ok(QueuedCase {
                    case: self.case_from_row(row)?,
                    reply_owed: row.try_get::<Option<i64>, _>("reply_owed")?.unwrap_or(0) != 0,
                    next_due_at: row
                        .try_get::<Option<i64>, _>("next_due_at")?
                        .map(millis)
                        .transpose()?,
                })
            })
            .collect()
    }
}

/// What the dashboard counts over every open case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DashboardCounts {
    pub open: i64,
    pub new_reports: i64,
    pub unassigned: i64,
    pub unassessed: i64,
    /// Running deadlines past due (customer notices apart).
    pub breached: i64,
    /// Running deadlines past their warning point, not yet due.
    pub due_soon: i64,
    /// Running deadlines of the clocks that stop when customers are told.
    pub notices: i64,
}

/// Which running deadlines of open cases the dashboard lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineState {
    /// Past due.
    Breached,
    /// Past the warning point, not yet due.
    DueSoon,
    /// Any.
    Running,
}

/// Running deadlines of open cases: in `state` at `now`, of the clocks
/// `only` names (when given) and none that `except` names.
#[derive(Debug, Clone)]
pub struct DeadlineFilter<'a> {
    pub state: DeadlineState,
    pub now: Instant,
    pub only: Option<&'a [String]>,
    pub except: &'a [String],
}

impl DeadlineFilter<'_> {
    fn conditions(&self) -> (String, Vec<String>) {
        let (mut sql, mut args) = crate::cases::case_conditions_on(
            &CaseFilter {
                open_only: true,
                ..CaseFilter::default()
            },
            "c.",
        );
        let now = self.now.timestamp_millis();
        match self.state {
            DeadlineState::Breached => sql.push_str(&format!(" AND d.due_at <= {now}")),
            DeadlineState::DueSoon => {
                sql.push_str(&format!(" AND d.warn_at <= {now} AND d.due_at > {now}"))
            }
            DeadlineState::Running => {}
        }
        let list = |ids: &[String], args: &mut Vec<String>| {
            ids.iter()
                .map(|id| {
                    args.push(id.clone());
                    format!("${}", args.len())
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        if let Some(only) = self.only {
            if only.is_empty() {
                sql.push_str(" AND 1 = 0");
            } else {
                let marks = list(only, &mut args);
                sql.push_str(&format!(" AND d.clock IN ({marks})"));
            }
        }
        if !self.except.is_empty() {
            let marks = list(self.except, &mut args);
            sql.push_str(&format!(" AND d.clock NOT IN ({marks})"));
        }
        (sql, args)
    }
}

impl Store {
    /// The dashboard's counts over every open case, in two statements:
    /// open cases, new reports, unassigned and unassessed ones; running
    /// deadlines breached or due soon at `now` (of clocks other than
    /// `notice_clocks`), and deadlines of `notice_clocks` (customer notices
    /// owed).
    pub async fn dashboard_counts(
        &self,
        now: Instant,
        notice_clocks: &[String],
    ) -> Result<DashboardCounts> {
        let (open, _) = crate::cases::case_conditions_on(
            &CaseFilter {
                open_only: true,
                ..CaseFilter::default()
            },
            "c.",
        );
        let received = CaseState::Received.as_str();
        let cases = sqlx::query(&format!(
            "SELECT COUNT(*) AS open, \
             SUM(CASE WHEN c.state = '{received}' THEN 1 ELSE 0 END) AS new_reports, \
             SUM(CASE WHEN s.assignee IS NULL THEN 1 ELSE 0 END) AS unassigned, \
             SUM(CASE WHEN s.assessed = 0 AND c.state <> '{received}' THEN 1 ELSE 0 END) AS unassessed \
             FROM cases c LEFT JOIN case_summaries s ON s.case_id = c.id WHERE 1 = 1{open}"
        ))
        .fetch_one(&self.reader)
        .await?;
        let now = now.timestamp_millis();
        let mut args = Vec::new();
        let is_notice = if notice_clocks.is_empty() {
            "1 = 0".to_owned()
        } else {
            let marks: Vec<String> = notice_clocks
                .iter()
                .map(|id| {
                    args.push(id.clone());
                    format!("${}", args.len())
                })
                .collect();
            format!("d.clock IN ({})", marks.join(", "))
        };
        let sql = format!(
            "SELECT \
             SUM(CASE WHEN NOT ({is_notice}) AND d.due_at <= {now} THEN 1 ELSE 0 END) AS breached, \
             SUM(CASE WHEN NOT ({is_notice}) AND d.warn_at <= {now} AND d.due_at > {now} \
                 THEN 1 ELSE 0 END) AS due_soon, \
             SUM(CASE WHEN {is_notice} THEN 1 ELSE 0 END) AS notices \
             FROM case_deadlines d JOIN cases c ON c.id = d.case_id WHERE 1 = 1{open}"
        );
        let deadlines = crate::fetch_rows(&self.reader, &sql, args).await?;
        let deadlines = deadlines
            .first()
            .ok_or_else(|| StoreError::Corrupt("no row from a count".into()))?;
        let n = |row: &sqlx::any::AnyRow, column: &str| -> Result<i64> {
            Ok(row.try_get::<Option<i64>, _>(column)?.unwrap_or(0))
        };
        Ok(DashboardCounts {
            open: n(&cases, "open")?,
            new_reports: n(&cases, "new_reports")?,
            unassigned: n(&cases, "unassigned")?,
            unassessed: n(&cases, "unassessed")?,
            breached: n(deadlines, "breached")?,
            due_soon: n(deadlines, "due_soon")?,
            notices: n(deadlines, "notices")?,
        })
    }

    /// The first `limit` deadlines `filter` selects, soonest due first, each
    /// with its case.
    pub async fn deadlines(
        &self,
        filter: &DeadlineFilter<'_>,
        limit: u32,
    ) -> Result<Vec<(Case, Deadline)>> {
        let (conditions, args) = filter.conditions();
        // The page's deadlines first (narrow rows), then their cases.
        let page = crate::fetch_rows(
            &self.reader,
            &format!(
                "SELECT c.id AS id, d.clock, d.warn_at, d.due_at FROM case_deadlines d \
                 JOIN cases c ON c.id = d.case_id WHERE 1 = 1{conditions} \
                 ORDER BY d.due_at, c.id LIMIT {limit}"
            ),
            args,
        )
        .await?;
        let ids: Vec<i64> = page
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()?;
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        let cases: std::collections::HashMap<i64, Case> = crate::rows_in_order(
            &self.reader,
            &format!("{} FROM cases c", case_columns()),
            "c.id",
            &unique,
        )
        .await?
        .iter()
        .map(|row| Ok((row.try_get("row_order_id")?, self.case_from_row(row)?)))
        .collect::<Result<_>>()?;
        page.iter()
            .map(|row| {
                let id: i64 = row.try_get("id")?;
                let case = cases
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| StoreError::Corrupt(format!("case row {id} vanished")))?;
                Ok((
                    case,
                    Deadline {
                        clock: row.try_get("clock")?,
                        warn_at: row
                            .try_get::<Option<i64>, _>("warn_at")?
                            .map(millis)
                            .transpose()?,
                        due_at: millis(row.try_get("due_at")?)?,
                    },
                ))
            })
            .collect()
    }
}

/// The SQL conditions (each starting with ` AND`) and their text arguments
/// for `filter`; instants are written as integers.
fn queue_conditions(filter: &QueueFilter) -> (String, Vec<String>) {
    let (mut sql, mut args) = crate::cases::case_conditions_on(&filter.cases, "c.");
    match &filter.assignee {
        AssigneeFilter::Anyone => {}
        AssigneeFilter::Nobody => sql.push_str(" AND s.assignee IS NULL"),
        AssigneeFilter::Member(name) => {
            args.push(name.clone());
            sql.push_str(&format!(" AND s.assignee = ${}", args.len()));
        }
    }
    if filter.unassessed {
        sql.push_str(&format!(
            " AND s.assessed = 0 AND c.state <> '{}'",
            CaseState::Received.as_str()
        ));
    }
    if filter.exploited {
        sql.push_str(" AND s.exploited = 1");
    }
    let now = filter.now.timestamp_millis();
    match filter.view {
        None => {}
        Some(QueueView::NeedsReply) => sql.push_str(" AND s.reply_owed = 1"),
        Some(QueueView::Waiting) => sql.push_str(&format!(
            " AND c.state = '{}'",
            CaseState::WaitingOnReporter.as_str()
        )),
        Some(QueueView::Breached) => sql.push_str(&format!(" AND s.next_due_at <= {now}")),
        Some(QueueView::DueSoon) => sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM case_deadlines d WHERE d.case_id = c.id \
             AND d.warn_at <= {now} AND d.due_at > {now})"
        )),
    }
    (sql, args)
}
