//! Each finding's remediation deadline, kept on its row. The deadline comes
//! from the product's policy, which the store does not know: the
//! application works it out (`Finding::apply_policy`) for every finding
//! whose deadline inputs changed since (each change to a severity, a patch
//! or an analysis bumps `version` and clears `dated`; exploitation signals
//! and case links change no deadline) and writes it back, so the findings
//! page and the dashboard sort, filter, count and page in the database
//! instead of dating every finding per request.

use embargo_core::portfolio::{Finding, FindingDeadline};
use embargo_core::{Instant, Severity};
use sqlx::Row;

use crate::portfolio::{FINDING_COLUMNS, finding_from_row};
use crate::{Result, Store};

/// A finding's deadline as worked out from its row at `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingDates {
    pub id: i64,
    pub version: i64,
    pub clock: Option<String>,
    pub warn_at: Option<Instant>,
    pub due_at: Option<Instant>,
    /// From when the finding needs fixing (`None`: it no longer does).
    pub open_from: Option<Instant>,
}

impl FindingDates {
    /// The dates of `finding` under `deadline` (its policy's), read at `version`.
    #[must_use]
    pub fn of(finding: &Finding, deadline: Option<&FindingDeadline>, version: i64) -> FindingDates {
        FindingDates {
            id: finding.id,
            version,
            clock: deadline.map(|d| d.clock.clone()),
            warn_at: deadline.map(|d| d.warn),
            due_at: deadline.map(|d| d.due),
            open_from: finding.analysis.open_from(),
        }
    }
}

/// The findings page's orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FindingSort {
    /// Breached, due soon, running, no patch yet, no longer open; then the
    /// most severe; then the soonest due.
    #[default]
    Urgency,
    /// Known exploited (latest listed first), then the likeliest
    /// exploitation (EPSS), then urgency.
    Exploitation,
    /// Only what is due soon or breached, soonest due first (the dashboard).
    Due,
}

/// Which findings, in which order.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub product: Option<String>,
    /// Only findings that still need fixing at `now`.
    pub open_only: bool,
    pub sort: FindingSort,
    pub now: Instant,
}

impl FindingFilter {
    /// The tables the filter reads: the releases only to filter by product,
    /// not joined to every finding of every product for nothing.
    fn tables(&self) -> &'static str {
        if self.product.is_some() {
            "findings f JOIN releases r ON r.id = f.release_id"
        } else {
            "findings f"
        }
    }
}

impl Store {
    /// How many findings are still open at `now`, per product and severity,
    /// counted by the database from each finding's kept deadline facts (a
    /// products page with tens of thousands of components reads a few
    /// rows, not every finding). Findings whose facts are not worked out
    /// yet (`dated = 0`) are not counted: the caller brings them up to date
    /// first.
    pub async fn open_finding_counts(
        &self,
        now: Instant,
    ) -> Result<Vec<(String, Option<Severity>, i64)>> {
        let rows = sqlx::query(&format!(
            "SELECT r.product_id, f.severity, COUNT(*) AS n FROM findings f \
             JOIN releases r ON r.id = f.release_id WHERE {} \
             GROUP BY r.product_id, f.severity",
            open_at(now.timestamp_millis())
        ))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                let severity: Option<String> = r.try_get("severity")?;
                Ok((
                    r.try_get("product_id")?,
                    severity.and_then(|s| s.parse().ok()),
                    r.try_get("n")?,
                ))
            })
            .collect()
    }

    /// Findings whose deadline is not worked out for their row as it
    /// stands, each with the row's version; at most `limit`.
    pub async fn undated_findings(&self, limit: u32) -> Result<Vec<(Finding, i64)>> {
        let rows = sqlx::query(&format!(
            "SELECT {FINDING_COLUMNS}, f.version AS row_version, p.exposure FROM findings f \
             JOIN releases r ON r.id = f.release_id JOIN products p ON p.id = r.product_id \
             WHERE f.dated = 0 ORDER BY f.id LIMIT {limit}"
        ))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| Ok((finding_from_row(r)?, r.try_get("row_version")?)))
            .collect()
    }

    /// Writes worked-out deadlines, each only if its row has not changed
    /// since it was read; returns how many were written.
    pub async fn write_finding_dates(&self, dates: &[FindingDates]) -> Result<usize> {
        let mut work = self.begin().await?;
        let mut written = 0;
        for d in dates {
            written += sqlx::query(
                "UPDATE findings SET deadline_clock = $1, warn_at = $2, due_at = $3, open_from = $4, \
                 dated = 1 WHERE id = $5 AND version = $6",
            )
            .bind(d.clock.clone())
            .bind(d.warn_at.map(|t| t.timestamp_millis()))
            .bind(d.due_at.map(|t| t.timestamp_millis()))
            .bind(d.open_from.map(|t| t.timestamp_millis()))
            .bind(d.id)
            .bind(d.version)
            .execute(&mut *work.tx)
            .await?
            .rows_affected();
        }
        work.commit().await?;
        Ok(usize::try_from(written).unwrap_or(usize::MAX))
    }

    /// Marks every finding's deadline out of date (the policy changed).
    pub async fn forget_finding_dates(&self) -> Result<()> {
        sqlx::query("UPDATE findings SET dated = 0")
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// How many findings `filter` selects.
    pub async fn count_findings_by(&self, filter: &FindingFilter) -> Result<i64> {
        let (conditions, args) = finding_conditions(filter);
        let sql = format!(
            "SELECT COUNT(*) AS n FROM {} WHERE 1 = 1{conditions}",
            filter.tables()
        );
        crate::count_rows(&self.reader, &sql, args).await
    }

    /// The findings `filter` selects, in its order: `limit` from `offset`.
    /// Their deadline fields are empty: the caller applies the policy to
    /// the page (a few rows) for what it shows.
    pub async fn findings_by(
        &self,
        filter: &FindingFilter,
        offset: u64,
        limit: u32,
    ) -> Result<Vec<Finding>> {
        let (conditions, args) = finding_conditions(filter);
        let now = filter.now.timestamp_millis();
        let open = open_at(now);
        // Few sort keys, each a plain value: most findings tie on the
        // exploitation keys, and every comparison of a tie walks them all.
        // Urgency is one number: how due (breached 0, due soon 1, running
        // 2, no deadline 3, not open 4) then severity, highest first.
        let severity = crate::severity_rank("f.severity");
        let urgency = format!(
            "((CASE WHEN NOT {open} THEN 4 WHEN f.due_at IS NULL THEN 3 \
             WHEN f.due_at <= {now} THEN 0 WHEN f.warn_at <= {now} THEN 1 ELSE 2 END) * 10 \
             + 4 - {severity}), COALESCE(f.due_at, -1), f.id"
        );
        let order = match filter.sort {
            FindingSort::Urgency => urgency,
            // Listed in CISA's KEV newest first, then by EPSS score; a
            // missing date or score sorts after every real one.
            FindingSort::Exploitation => format!(
                "f.known_exploited DESC, COALESCE(f.kev_added, '') DESC, \
                 COALESCE(f.epss, -1) DESC, {urgency}"
            ),
            FindingSort::Due => "f.due_at, f.id".to_owned(),
        };
        // The page's ids on narrow rows first, then the page's findings.
        let ids = crate::fetch_ids(
            &self.reader,
            &format!(
                "SELECT f.id AS id FROM {} WHERE 1 = 1{conditions} \
                 ORDER BY {order} LIMIT {limit} OFFSET {offset}",
                filter.tables()
            ),
            args,
        )
        .await?;
        let rows = crate::rows_in_order(
            &self.reader,
            &format!(
                "{FINDING_COLUMNS}, p.exposure FROM findings f \
                 JOIN releases r ON r.id = f.release_id JOIN products p ON p.id = r.product_id"
            ),
            "f.id",
            &ids,
        )
        .await?;
        rows.iter().map(finding_from_row).collect()
    }
}

/// The SQL condition "finding `f` needs fixing at `now`", from its kept
/// `open_from` (see `Analysis::open_from`).
pub(crate) fn open_at(now: i64) -> String {
    format!("(f.open_from IS NOT NULL AND f.open_from <= {now})")
}

fn finding_conditions(filter: &FindingFilter) -> (String, Vec<String>) {
    let mut sql = String::new();
    let mut args = Vec::new();
    let now = filter.now.timestamp_millis();
    if let Some(product) = &filter.product {
        args.push(product.clone());
        sql.push_str(&format!(" AND r.product_id = ${}", args.len()));
    }
    if filter.open_only || filter.sort == FindingSort::Due {
        sql.push_str(&format!(" AND {}", open_at(now)));
    }
    if filter.sort == FindingSort::Due {
        sql.push_str(&format!(" AND f.due_at IS NOT NULL AND f.warn_at <= {now}"));
    }
    (sql, args)
}
