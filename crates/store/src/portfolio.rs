//! The portfolio: products, releases with their components, and findings
//! (an advisory on a component of a release, one row however often it is
//! matched), each change to a finding recorded in `finding_events`.

use std::collections::BTreeSet;

use embargo_core::portfolio::{
    self, Analysis, Component, Customer, Deployment, Finding, FindingKey, Impacted, KevMark,
    Matched, PatchSource, Product, ProductExposure, Rule,
};
use embargo_core::{CaseRef, DomainError, Instant, Severity};
use sqlx::Row;

use crate::work::Work;
use crate::{Result, Store, StoreError};

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A score bound as text and cast to a float in the statement
/// (`CAST($n AS DOUBLE PRECISION)`). sqlx 0.8.6's `Any` driver sends a
/// missing `f64` as a PostgreSQL `float4` NULL: a statement first run
/// without a score is prepared for a `float4`, and the next run with one
/// fails ("incorrect binary data format"). A text parameter is the same
/// type with or without a value, on both stores.
fn score(value: Option<f32>) -> Option<String> {
    value.map(|v| f64::from(v).to_string())
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn at(ms: i64) -> Instant {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

pub(crate) const FINDING_COLUMNS: &str = "f.id, r.product_id, r.version, f.component, f.advisory, f.severity, \
     f.known_exploited, f.epss, f.kev, f.epss_percentile, f.fixed, f.patch_available_at, f.patch_source, f.analysis, f.first_seen, f.updated_at";

/// Rows per multi-row insert of components (six parameters each: well
/// under SQLite's and PostgreSQL's limits on parameters per statement).
const COMPONENTS_PER_INSERT: usize = 500;
/// Names per `IN (…)` list when looking components up by package.
const NAMES_PER_QUERY: usize = 500;

/// `$from, $from+1, …`: `count` numbered placeholders, which both backends
/// read (sqlx's query builder writes `?` for its Any driver, which
/// PostgreSQL does not).
fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Adds a product to the inventory.
    pub async fn add_product(&self, product: &Product, now: Instant) -> Result<Product> {
        product.validate()?;
        let exists = sqlx::query("SELECT 1 FROM products WHERE id = $1")
            .bind(&product.id)
            .fetch_optional(&self.writer)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Domain(DomainError::invalid(
                "id",
                format!("the product `{}` exists already", product.id),
            )));
        }
        sqlx::query(
            "INSERT INTO products (id, name, owner, repositories, deployment, exposure, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&product.id)
        .bind(&product.name)
        .bind(&product.owner)
        .bind(json(&product.repositories)?)
        .bind(json(&product.deployment)?)
        .bind(json(&product.exposure)?)
        .bind(now.timestamp_millis())
        .execute(&self.writer)
        .await?;
        Ok(product.clone())
    }

    /// Every product, by id.
    pub async fn products(&self) -> Result<Vec<Product>> {
        let rows = sqlx::query(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products ORDER BY id"
        ))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(product_from_row).collect()
    }

    /// One product.
    pub async fn product(&self, id: &str) -> Result<Product> {
        let row = sqlx::query(&format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.reader)
        .await?
        .ok_or_else(|| StoreError::not_found("product", id))?;
        product_from_row(&row)
    }

    /// Records a release's components (replacing those of an earlier upload
    /// of the same release); returns the release's id.
    pub async fn record_release(
        &self,
        product: &str,
        version: &str,
        components: &[Component],
        now: Instant,
    ) -> Result<i64> {
        if version.trim().is_empty() || version.len() > 100 {
            return Err(StoreError::Domain(DomainError::invalid(
                "version",
                "1 to 100 characters",
            )));
        }
        self.product(product).await?;
        let mut tx = self.writer.begin().await?;
        let existing =
            sqlx::query("SELECT id FROM releases WHERE product_id = $1 AND version = $2")
                .bind(product)
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
        let id: i64 = match existing {
            Some(row) => row.try_get("id")?,
            None => sqlx::query(
                "INSERT INTO releases (product_id, version, created_at) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(product)
            .bind(version)
            .bind(now.timestamp_millis())
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?,
        };
        sqlx::query("DELETE FROM components WHERE release_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let mut seen = BTreeSet::new();
        let unique: Vec<&Component> = components
            .iter()
            .filter(|c| seen.insert(c.purl.as_str()))
            .collect();
        // Many rows per statement: an SBOM of tens of thousands of
        // components is a few hundred round trips, not one per component.
        for chunk in unique.chunks(COMPONENTS_PER_INSERT) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| format!("({})", placeholders(6 * i + 1, 6)))
                .collect();
            let sql = format!(
                "INSERT INTO components (release_id, purl, ecosystem, name, version, normalized_name) VALUES {}",
                rows.join(", ")
            );
            let mut insert = sqlx::query(&sql);
            for c in chunk {
                insert = insert
                    .bind(id)
                    .bind(c.purl.as_str())
                    .bind(c.ecosystem.as_str())
                    .bind(c.name.as_str())
                    .bind(c.version.as_str())
                    .bind(c.normalized_name());
            }
            insert.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// The components (with their release) of the packages named, by
    /// ecosystem and normalized name: what a feed update must re-match.
    pub async fn components_of_packages(
        &self,
        ecosystem: &str,
        normalized_names: &[String],
    ) -> Result<Vec<(i64, Component)>> {
        let mut out = Vec::new();
        for chunk in normalized_names.chunks(NAMES_PER_QUERY) {
            let sql = format!(
                "SELECT release_id, purl, ecosystem, name, version FROM components \
                 WHERE ecosystem = $1 AND normalized_name IN ({})",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(ecosystem);
            for name in chunk {
                query = query.bind(name.as_str());
            }
            for r in query.fetch_all(&self.reader).await? {
                out.push((r.try_get("release_id")?, component_from_row(&r)?));
            }
        }
        out.sort_by(|a, b| (a.0, &a.1.purl).cmp(&(b.0, &b.1.purl)));
        Ok(out)
    }

    /// A release's id.
    pub async fn release_id(&self, product: &str, version: &str) -> Result<i64> {
        sqlx::query("SELECT id FROM releases WHERE product_id = $1 AND version = $2")
            .bind(product)
            .bind(version)
            .fetch_optional(&self.reader)
            .await?
            .map(|r| r.try_get::<i64, _>("id"))
            .transpose()?
            .ok_or_else(|| StoreError::not_found("release", format!("{product}@{version}")))
    }

    /// The advisories of a release's findings on these components.
    pub async fn findings_of_components(
        &self,
        release: i64,
        components: &[String],
    ) -> Result<BTreeSet<String>> {
        let rows = sqlx::query("SELECT component, advisory FROM findings WHERE release_id = $1")
            .bind(release)
            .fetch_all(&self.reader)
            .await?;
        let mut out = BTreeSet::new();
        for r in &rows {
            let component: String = r.try_get("component")?;
            if components.contains(&component) {
                out.insert(r.try_get("advisory")?);
            }
        }
        Ok(out)
    }

    /// Every release id.
    pub async fn release_ids(&self) -> Result<Vec<i64>> {
        let rows = sqlx::query("SELECT id FROM releases ORDER BY id")
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    /// Every release: its product, version, when it was recorded and how
    /// many components it has, by product then newest first.
    /// The product and version of release `id`.
    pub async fn release_of(&self, id: i64) -> Result<(String, String)> {
        let row = sqlx::query("SELECT product_id, version FROM releases WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.reader)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "release",
                key: id.to_string(),
            })?;
        Ok((row.try_get("product_id")?, row.try_get("version")?))
    }

    /// Every release: product, version, when recorded, how many components.
    pub async fn releases(&self) -> Result<Vec<(String, String, Instant, i64)>> {
        let rows = sqlx::query(
            "SELECT r.product_id, r.version, r.created_at, \
             (SELECT COUNT(*) FROM components c WHERE c.release_id = r.id) AS components \
             FROM releases r ORDER BY r.product_id, r.created_at DESC, r.id DESC",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("product_id")?,
                    r.try_get("version")?,
                    crate::millis(r.try_get("created_at")?)?,
                    r.try_get("components")?,
                ))
            })
            .collect()
    }

    /// A release's components.
    pub async fn release_components(&self, release: i64) -> Result<Vec<Component>> {
        let rows = sqlx::query(
            "SELECT purl, ecosystem, name, version FROM components WHERE release_id = $1 ORDER BY purl",
        )
        .bind(release)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(component_from_row).collect()
    }

    /// A page of a release's components in purl order, after the purl
    /// `after` (empty: from the first), with how many the release has.
    pub async fn release_components_page(
        &self,
        release: i64,
        after: &str,
        limit: u32,
    ) -> Result<(Vec<Component>, i64)> {
        let rows = sqlx::query(
            "SELECT purl, ecosystem, name, version FROM components \
             WHERE release_id = $1 AND purl > $2 ORDER BY purl LIMIT $3",
        )
        .bind(release)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM components WHERE release_id = $1")
            .bind(release)
            .fetch_one(&self.reader)
            .await?
            .try_get("n")?;
        Ok((
            rows.iter().map(component_from_row).collect::<Result<_>>()?,
            total,
        ))
    }

    /// Records that a release of `product` was scanned (`kind`: `sbom` or
    /// `sarif`) at `now`.
    pub async fn record_scan(
        &self,
        product: &str,
        version: &str,
        kind: &str,
        now: Instant,
    ) -> Result<()> {
        sqlx::query("INSERT INTO scans (product_id, version, kind, at) VALUES ($1, $2, $3, $4)")
            .bind(product)
            .bind(version)
            .bind(kind)
            .bind(now.timestamp_millis())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The latest scan of each product and kind: (product, kind) → when.
    pub async fn latest_scans(
        &self,
    ) -> Result<std::collections::BTreeMap<(String, String), Instant>> {
        let rows = sqlx::query(
            "SELECT product_id, kind, MAX(at) AS latest FROM scans GROUP BY product_id, kind",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    (r.try_get("product_id")?, r.try_get("kind")?),
                    at(r.try_get("latest")?),
                ))
            })
            .collect()
    }

    /// The findings of one component id across every release (e.g. the
    /// scan gaps, `policy:scanning`), without reading the others.
    pub async fn findings_of_component(&self, component: &str) -> Result<Vec<Finding>> {
        let sql = format!(
            "SELECT {FINDING_COLUMNS}, p.exposure FROM findings f JOIN releases r ON r.id = f.release_id \
             JOIN products p ON p.id = r.product_id WHERE f.component = $1 ORDER BY f.id"
        );
        let rows = sqlx::query(&sql)
            .bind(component)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(finding_from_row).collect()
    }

    /// Findings, optionally of one product (their deadlines come from the
    /// product's policy: `Finding::apply_policy`).
    pub async fn findings(&self, product: Option<&str>) -> Result<Vec<Finding>> {
        self.findings_where("$1 = '' OR r.product_id = $1", product.unwrap_or(""))
            .await
    }

    /// One page of findings (optionally of one product) in id order, after
    /// the finding `after`; with the number of all of them.
    pub async fn findings_page(
        &self,
        product: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<(Vec<Finding>, i64)> {
        let product = product.unwrap_or("");
        let sql = format!(
            "SELECT {FINDING_COLUMNS}, p.exposure FROM findings f JOIN releases r ON r.id = f.release_id \
             JOIN products p ON p.id = r.product_id WHERE ($1 = '' OR r.product_id = $1) AND f.id > $2 \
             ORDER BY f.id LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(product)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?;
        let total: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM findings f JOIN releases r ON r.id = f.release_id \
             WHERE ($1 = '' OR r.product_id = $1)",
        )
        .bind(product)
        .fetch_one(&self.reader)
        .await?
        .try_get("n")?;
        Ok((
            rows.iter().map(finding_from_row).collect::<Result<_>>()?,
            total,
        ))
    }

    /// The findings, with their product's exposure, matching `condition`
    /// on the one parameter `value`, in id order.
    async fn findings_where(&self, condition: &str, value: &str) -> Result<Vec<Finding>> {
        let sql = format!(
            "SELECT {FINDING_COLUMNS}, p.exposure FROM findings f JOIN releases r ON r.id = f.release_id \
             JOIN products p ON p.id = r.product_id WHERE ({condition}) ORDER BY f.id"
        );
        let rows = sqlx::query(&sql)
            .bind(value)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(finding_from_row).collect()
    }

    /// The findings linked to a case (escalated into it), with their
    /// exploitation signals.
    pub async fn linked_findings(&self, case: CaseRef) -> Result<Vec<Finding>> {
        self.findings_where("f.case_ref = $1", &case.to_string())
            .await
    }

    /// Sets a finding's analysis (a person's or a rule's decision), as an event.
    pub async fn set_analysis(
        &self,
        id: i64,
        analysis: &Analysis,
        actor: &str,
        now: Instant,
    ) -> Result<Finding> {
        let mut tx = self.writer.begin().await?;
        let n = sqlx::query("UPDATE findings SET analysis = $1, version = version + 1, dated = 0, updated_at = $2 WHERE id = $3")
            .bind(json(analysis)?)
            .bind(now.timestamp_millis())
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::not_found("finding", id));
        }
        event(
            &mut tx,
            id,
            now,
            actor,
            &serde_json::json!({"analysis": analysis}),
        )
        .await?;
        tx.commit().await?;
        self.findings(None)
            .await?
            .into_iter()
            .find(|f| f.id == id)
            .ok_or_else(|| StoreError::not_found("finding", id))
    }

    /// Adds a customer (and the releases they run).
    pub async fn add_customer(&self, customer: &Customer) -> Result<Customer> {
        customer.validate()?;
        let exists = sqlx::query("SELECT 1 FROM customers WHERE id = $1")
            .bind(&customer.id)
            .fetch_optional(&self.writer)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Domain(DomainError::invalid(
                "id",
                format!("the customer `{}` exists already", customer.id),
            )));
        }
        sqlx::query("INSERT INTO customers (id, name, contact) VALUES ($1, $2, $3)")
            .bind(&customer.id)
            .bind(&customer.name)
            .bind(&customer.contact)
            .execute(&self.writer)
            .await?;
        self.set_customer_releases(&customer.id, &customer.releases)
            .await
    }

    /// Sets the releases (`product@version`) a customer runs.
    pub async fn set_customer_releases(
        &self,
        customer: &str,
        releases: &[String],
    ) -> Result<Customer> {
        let mut tx = self.writer.begin().await?;
        let found = sqlx::query("SELECT 1 FROM customers WHERE id = $1")
            .bind(customer)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Err(StoreError::not_found("customer", customer));
        }
        let mut ids = Vec::with_capacity(releases.len());
        for (i, key) in releases.iter().enumerate() {
            let (product, version) = key.split_once('@').ok_or_else(|| {
                StoreError::Domain(DomainError::invalid(
                    format!("releases[{i}]"),
                    "product@version",
                ))
            })?;
            let row = sqlx::query("SELECT id FROM releases WHERE product_id = $1 AND version = $2")
                .bind(product)
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| {
                    StoreError::Domain(DomainError::invalid(
                        format!("releases[{i}]"),
                        format!("no release `{key}`"),
                    ))
                })?;
            ids.push(row.try_get::<i64, _>("id")?);
        }
        sqlx::query("DELETE FROM customer_releases WHERE customer_id = $1")
            .bind(customer)
            .execute(&mut *tx)
            .await?;
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            sqlx::query("INSERT INTO customer_releases (customer_id, release_id) VALUES ($1, $2)")
                .bind(customer)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.customers()
            .await?
            .into_iter()
            .find(|c| c.id == customer)
            .ok_or_else(|| StoreError::not_found("customer", customer))
    }

    /// Every customer with the releases they run.
    pub async fn customers(&self) -> Result<Vec<Customer>> {
        let rows = sqlx::query("SELECT id, name, contact FROM customers ORDER BY id")
            .fetch_all(&self.reader)
            .await?;
        let runs = sqlx::query(
            "SELECT cr.customer_id, r.product_id, r.version FROM customer_releases cr \
             JOIN releases r ON r.id = cr.release_id ORDER BY r.product_id, r.version",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let mut releases = Vec::new();
                for run in &runs {
                    if run.try_get::<String, _>("customer_id")? == id {
                        releases.push(format!(
                            "{}@{}",
                            run.try_get::<String, _>("product_id")?,
                            run.try_get::<String, _>("version")?
                        ));
                    }
                }
                Ok(Customer {
                    name: r.try_get("name")?,
                    contact: r.try_get("contact")?,
                    id,
                    releases,
                })
            })
            .collect()
    }

    /// The customers an advisory reaches: those running a release with a
    /// finding of it that still needs fixing at `now`.
    pub async fn impact(&self, advisory: &str, now: Instant) -> Result<Vec<Impacted>> {
        let deployments: std::collections::BTreeMap<String, Deployment> = self
            .products()
            .await?
            .into_iter()
            .map(|p| (p.id, p.deployment))
            .collect();
        let mut affected = std::collections::BTreeMap::new();
        for f in self.findings(None).await? {
            if f.advisory == advisory
                && f.analysis.open_at(now)
                && let Some(deployment) = deployments.get(&f.product)
            {
                affected.insert(format!("{}@{}", f.product, f.release), *deployment);
            }
        }
        Ok(portfolio::impacted(&self.customers().await?, &affected))
    }

    /// A finding's changes, oldest first: (when, who, what).
    pub async fn finding_history(
        &self,
        id: i64,
    ) -> Result<Vec<(Instant, String, serde_json::Value)>> {
        let rows = sqlx::query(
            "SELECT at, actor, change FROM finding_events WHERE finding_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    at(r.try_get("at")?),
                    r.try_get("actor")?,
                    parse(&r.try_get::<String, _>("change")?)?,
                ))
            })
            .collect()
    }
}

const PRODUCT_COLUMNS: &str = "id, name, owner, repositories, deployment, exposure";

fn component_from_row(r: &sqlx::any::AnyRow) -> Result<Component> {
    Ok(Component {
        purl: r.try_get("purl")?,
        ecosystem: r.try_get("ecosystem")?,
        name: r.try_get("name")?,
        version: r.try_get("version")?,
    })
}

fn product_from_row(r: &sqlx::any::AnyRow) -> Result<Product> {
    Ok(Product {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        owner: r.try_get("owner")?,
        repositories: parse(&r.try_get::<String, _>("repositories")?)?,
        deployment: parse::<Deployment>(&r.try_get::<String, _>("deployment")?)?,
        exposure: parse::<ProductExposure>(&r.try_get::<String, _>("exposure")?)?,
    })
}

async fn event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    finding: i64,
    now: Instant,
    actor: &str,
    change: &serde_json::Value,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO finding_events (finding_id, at, actor, change) VALUES ($1, $2, $3, $4)",
    )
    .bind(finding)
    .bind(now.timestamp_millis())
    .bind(actor)
    .bind(json(change)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) fn finding_from_row(r: &sqlx::any::AnyRow) -> Result<Finding> {
    let severity: Option<String> = r.try_get("severity")?;
    let severity: Option<Severity> = severity.and_then(|s| s.parse().ok());
    let patch: Option<i64> = r.try_get("patch_available_at")?;
    let patch = patch.map(at);
    let analysis: Analysis = parse(&r.try_get::<String, _>("analysis")?)?;
    let exposure: ProductExposure = parse(&r.try_get::<String, _>("exposure")?)?;
    let epss: Option<f64> = r.try_get("epss")?;
    let percentile: Option<f64> = r.try_get("epss_percentile")?;
    let kev: Option<String> = r.try_get("kev")?;
    #[allow(clippy::cast_possible_truncation)]
    Ok(Finding {
        id: r.try_get("id")?,
        product: r.try_get("product_id")?,
        release: r.try_get("version")?,
        component: r.try_get("component")?,
        advisory: r.try_get("advisory")?,
        severity,
        known_exploited: r.try_get::<i64, _>("known_exploited")? != 0,
        epss: epss.map(|e| e as f32),
        kev: kev.as_deref().map(parse).transpose()?,
        epss_percentile: percentile.map(|e| e as f32),
        fixed: parse(&r.try_get::<String, _>("fixed")?)?,
        patch_available_at: patch,
        patch_source: r
            .try_get::<Option<String>, _>("patch_source")?
            .and_then(|p| p.parse().ok()),
        analysis,
        first_seen: at(r.try_get("first_seen")?),
        updated_at: at(r.try_get("updated_at")?),
        // The deadline comes from the product's policy, which the store
        // does not know: `Finding::apply_policy` sets it.
        due: None,
        deadline: None,
        deadline_clock: None,
        product_exposure: exposure,
    })
}

impl Store {
    /// Adds a vulnerability rule (checked first); returns it with its id.
    pub async fn add_rule(&self, rule: &Rule, actor: &str, now: Instant) -> Result<Rule> {
        rule.validate()?;
        let mut stored = rule.clone();
        stored.id = 0;
        let id: i64 = sqlx::query(
            "INSERT INTO rules (body, disabled, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(json(&stored)?)
        .bind(i64::from(rule.disabled))
        .bind(actor)
        .bind(now.timestamp_millis())
        .fetch_one(&self.writer)
        .await?
        .try_get("id")?;
        stored.id = id;
        Ok(stored)
    }

    /// Every rule, by id.
    pub async fn rules(&self) -> Result<Vec<Rule>> {
        let rows = sqlx::query("SELECT id, body, disabled FROM rules ORDER BY id")
            .fetch_all(&self.reader)
            .await?;
        rows.iter()
            .map(|r| {
                let mut rule: Rule = parse(&r.try_get::<String, _>("body")?)?;
                rule.id = r.try_get("id")?;
                rule.disabled = r.try_get::<i64, _>("disabled")? != 0;
                Ok(rule)
            })
            .collect()
    }

    /// Turns a rule off (or on again); what it already changed stays.
    pub async fn set_rule_disabled(&self, id: i64, disabled: bool) -> Result<Rule> {
        let n = sqlx::query("UPDATE rules SET disabled = $1 WHERE id = $2")
            .bind(i64::from(disabled))
            .bind(id)
            .execute(&self.writer)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::not_found("rule", id));
        }
        self.rules()
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| StoreError::not_found("rule", id))
    }

    /// The cases the findings `ids` are linked to, by finding id (findings
    /// linked to none are left out), in one statement for a whole page.
    pub async fn finding_cases(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, String>> {
        let rows =
            crate::rows_in_order(&self.reader, "f.case_ref FROM findings f", "f.id", ids).await?;
        let mut linked = std::collections::HashMap::new();
        for row in rows {
            if let Some(case) = row.try_get::<Option<String>, _>("case_ref")? {
                linked.insert(row.try_get("row_order_id")?, case);
            }
        }
        Ok(linked)
    }

    /// The ids of the findings linked to a case.
    pub async fn case_findings(&self, case: CaseRef) -> Result<Vec<i64>> {
        let rows = sqlx::query("SELECT id FROM findings WHERE case_ref = $1 ORDER BY id")
            .bind(case.to_string())
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }
}

/// Resolves the open findings linked to a case whose fix was just released
/// (inside the case's transaction).
async fn resolve_case_findings(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    case: CaseRef,
    version: Option<&str>,
    now: Instant,
) -> Result<()> {
    let rows = sqlx::query("SELECT id, analysis FROM findings WHERE case_ref = $1")
        .bind(case.to_string())
        .fetch_all(&mut **tx)
        .await?;
    for r in &rows {
        let id: i64 = r.try_get("id")?;
        let analysis: Analysis = parse(&r.try_get::<String, _>("analysis")?)?;
        if !analysis.open_at(now) {
            continue;
        }
        sqlx::query("UPDATE findings SET analysis = $1, version = version + 1, dated = 0, updated_at = $2 WHERE id = $3")
            .bind(json(&Analysis::Resolved)?)
            .bind(now.timestamp_millis())
            .bind(id)
            .execute(&mut **tx)
            .await?;
        event(
            tx,
            id,
            now,
            &format!("case:{case}"),
            &serde_json::json!({"resolved": format!("the fix of {case} was released"), "version": version}),
        )
        .await?;
    }
    Ok(())
}

/// A finding as stored, for deciding what a match changes.
#[derive(Debug, Clone)]
pub struct StoredFinding {
    pub id: i64,
    pub key: FindingKey,
    pub fixed: Vec<String>,
    pub analysis: Analysis,
    /// Its exploitation signals as stored: KEV entry, EPSS score and percentile.
    pub kev: Option<KevMark>,
    pub epss: Option<f32>,
    pub epss_percentile: Option<f32>,
}

/// The portfolio's findings, within a unit of work.
impl<'s> Work<'s> {
    /// The portfolio's findings.
    pub fn findings(&mut self) -> Findings<'_, 's> {
        Findings { work: self }
    }
}

#[derive(Debug)]
pub struct Findings<'w, 's> {
    pub(crate) work: &'w mut Work<'s>,
}

impl Findings<'_, '_> {
    /// A release's findings as they stand: id, key, fix and analysis.
    pub async fn of_release(&mut self, release: i64) -> Result<Vec<StoredFinding>> {
        let rows = sqlx::query(
            "SELECT id, component, advisory, fixed, analysis, kev, epss, epss_percentile FROM findings WHERE release_id = $1",
        )
        .bind(release)
        .fetch_all(&mut *self.work.tx)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredFinding {
                    id: r.try_get("id")?,
                    key: FindingKey {
                        release: release.to_string(),
                        component: r.try_get("component")?,
                        advisory: r.try_get("advisory")?,
                    },
                    fixed: parse(&r.try_get::<String, _>("fixed")?)?,
                    analysis: parse(&r.try_get::<String, _>("analysis")?)?,
                    kev: r
                        .try_get::<Option<String>, _>("kev")?
                        .as_deref()
                        .map(parse)
                        .transpose()?,
                    #[allow(clippy::cast_possible_truncation)]
                    epss: r.try_get::<Option<f64>, _>("epss")?.map(|e| e as f32),
                    #[allow(clippy::cast_possible_truncation)]
                    epss_percentile: r
                        .try_get::<Option<f64>, _>("epss_percentile")?
                        .map(|e| e as f32),
                })
            })
            .collect()
    }

    /// Opens a finding of `release` for a match (in triage), with the date
    /// its patch became available when one is known; returns its id.
    pub async fn open(
        &mut self,
        release: i64,
        m: &Matched,
        patch: Option<(Instant, PatchSource)>,
        actor: &str,
        now: Instant,
    ) -> Result<i64> {
        let id: i64 = sqlx::query(
            "INSERT INTO findings (release_id, component, advisory, severity, known_exploited, epss, fixed, \
             patch_available_at, analysis, first_seen, updated_at, patch_source, kev, epss_percentile, kev_added) \
             VALUES ($1, $2, $3, $4, $5, CAST($6 AS DOUBLE PRECISION), $7, $8, $9, $10, $10, $11, $12, \
             CAST($13 AS DOUBLE PRECISION), $14) RETURNING id",
        )
        .bind(release)
        .bind(&m.component)
        .bind(&m.advisory)
        .bind(m.severity.map(|s| s.as_str().to_owned()))
        .bind(i64::from(m.known_exploited))
        .bind(score(m.epss))
        .bind(json(&m.fixed)?)
        .bind(patch.map(|(p, _)| p.timestamp_millis()))
        .bind(json(&Analysis::InTriage)?)
        .bind(now.timestamp_millis())
        .bind(patch.map(|(_, source)| source.as_str()))
        .bind(m.kev.as_ref().map(json).transpose()?)
        .bind(score(m.epss_percentile))
        .bind(m.kev.as_ref().map(|k| k.date_added.clone()))
        .fetch_one(&mut *self.work.tx)
        .await?
        .try_get("id")?;
        event(
            &mut self.work.tx,
            id,
            now,
            actor,
            &serde_json::json!({"opened": m.advisory}),
        )
        .await?;
        Ok(id)
    }

    /// Records a finding's new analysis (`why` goes into its history beside
    /// it). With `only_from`, only a finding whose analysis is still that
    /// one changes (a person may have decided meanwhile); returns whether
    /// it changed.
    pub async fn set_analysis(
        &mut self,
        id: i64,
        analysis: &Analysis,
        only_from: Option<&Analysis>,
        actor: &str,
        why: &serde_json::Value,
        now: Instant,
    ) -> Result<bool> {
        let changed = match only_from {
            Some(from) => sqlx::query(
                "UPDATE findings SET analysis = $1, version = version + 1, dated = 0, updated_at = $2 WHERE id = $3 AND analysis = $4",
            )
            .bind(json(analysis)?)
            .bind(now.timestamp_millis())
            .bind(id)
            .bind(json(from)?),
            None => sqlx::query("UPDATE findings SET analysis = $1, version = version + 1, dated = 0, updated_at = $2 WHERE id = $3")
                .bind(json(analysis)?)
                .bind(now.timestamp_millis())
                .bind(id),
        }
        .execute(&mut *self.work.tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        event(&mut self.work.tx, id, now, actor, why).await?;
        Ok(true)
    }

    /// Records a finding's new severity, with `why` in its history.
    pub async fn set_severity(
        &mut self,
        id: i64,
        severity: Severity,
        actor: &str,
        why: &serde_json::Value,
        now: Instant,
    ) -> Result<()> {
        sqlx::query("UPDATE findings SET severity = $1, version = version + 1, dated = 0, updated_at = $2 WHERE id = $3")
            .bind(severity.as_str())
            .bind(now.timestamp_millis())
            .bind(id)
            .execute(&mut *self.work.tx)
            .await?;
        event(&mut self.work.tx, id, now, actor, why).await
    }

    /// Records that a fix (`fixed` versions) appeared for a finding: its
    /// patch is available from `now`.
    pub async fn patch_appeared(
        &mut self,
        id: i64,
        fixed: &[String],
        (patch, source): (Instant, PatchSource),
        now: Instant,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE findings SET fixed = $1, patch_available_at = $2, patch_source = $3, version = version + 1, dated = 0, updated_at = $4 WHERE id = $5",
        )
        .bind(json(&fixed)?)
        .bind(patch.timestamp_millis())
        .bind(source.as_str())
        .bind(now.timestamp_millis())
        .bind(id)
        .execute(&mut *self.work.tx)
        .await?;
        event(
            &mut self.work.tx,
            id,
            now,
            "matcher",
            &serde_json::json!({"patch_available": fixed, "patch_available_at": patch, "patch_date_from": source.as_str()}),
        )
        .await
    }

    /// Updates a finding's exploitation signals from a new match; a KEV
    /// listing that is new (`newly_listed`) goes into the finding's history.
    pub async fn set_signals(
        &mut self,
        id: i64,
        m: &Matched,
        newly_listed: bool,
        now: Instant,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE findings SET known_exploited = $1, kev = $2, epss = CAST($3 AS DOUBLE PRECISION), \
             epss_percentile = CAST($4 AS DOUBLE PRECISION), updated_at = $5, kev_added = $6 WHERE id = $7",
        )
        .bind(i64::from(m.known_exploited))
        .bind(m.kev.as_ref().map(json).transpose()?)
        .bind(score(m.epss))
        .bind(score(m.epss_percentile))
        .bind(now.timestamp_millis())
        .bind(m.kev.as_ref().map(|k| k.date_added.clone()))
        .bind(id)
        .execute(&mut *self.work.tx)
        .await?;
        if let Some(kev) = m.kev.as_ref().filter(|_| newly_listed) {
            event(
                &mut self.work.tx,
                id,
                now,
                "matcher",
                &serde_json::json!({"known_exploited": kev}),
            )
            .await?;
        }
        Ok(())
    }

    /// Links findings to the case opened for them. A finding already linked
    /// to a case is a conflict, checked in the write itself, so two people
    /// escalating the same finding at once cannot both link it.
    pub async fn link_to_case(&mut self, ids: &[i64], case: CaseRef, now: Instant) -> Result<()> {
        for id in ids {
            let linked = sqlx::query(
                "UPDATE findings SET case_ref = $1, updated_at = $2 WHERE id = $3 AND case_ref IS NULL",
            )
            .bind(case.to_string())
            .bind(now.timestamp_millis())
            .bind(id)
            .execute(&mut *self.work.tx)
            .await?
            .rows_affected();
            if linked == 0 {
                let row = sqlx::query("SELECT case_ref FROM findings WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *self.work.tx)
                    .await?
                    .ok_or_else(|| StoreError::not_found("finding", id))?;
                let other: Option<String> = row.try_get("case_ref")?;
                return Err(StoreError::Conflict(format!(
                    "finding {id} is already linked to {}",
                    other.unwrap_or_default()
                )));
            }
            event(
                &mut self.work.tx,
                *id,
                now,
                "escalation",
                &serde_json::json!({"case": case.to_string()}),
            )
            .await?;
        }
        Ok(())
    }

    /// Every finding with its product's exposure, as the rules see them.
    pub async fn with_exposure(&mut self) -> Result<Vec<(Finding, ProductExposure)>> {
        let rows = sqlx::query(&format!(
            "SELECT {FINDING_COLUMNS}, p.exposure FROM findings f JOIN releases r ON r.id = f.release_id \
             JOIN products p ON p.id = r.product_id ORDER BY f.id"
        ))
        .fetch_all(&mut *self.work.tx)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    finding_from_row(row)?,
                    parse(&row.try_get::<String, _>("exposure")?)?,
                ))
            })
            .collect()
    }

    /// Resolves the open findings linked to a case whose fix was just released.
    pub async fn resolve_case_findings(
        &mut self,
        case: CaseRef,
        version: Option<&str>,
        now: Instant,
    ) -> Result<()> {
        resolve_case_findings(&mut self.work.tx, case, version, now).await
    }

    /// Records a finding's deadline warning or breach (due at `due`) unless
    /// it was recorded before; returns whether it was recorded now. With
    /// several servers, the finding's row lock (PostgreSQL) or the single
    /// writer (SQLite) makes the check and the write atomic.
    pub async fn raise_deadline(
        &mut self,
        finding: i64,
        due: Instant,
        breached: bool,
        now: Instant,
    ) -> Result<bool> {
        let kind = if breached { "breached" } else { "warning" };
        let change =
            serde_json::json!({"deadline": kind, "due": embargo_core::advisory::timestamp(due)});
        let tx = &mut self.work.tx;
        if self.work.store.backend == crate::Backend::Postgres {
            sqlx::query("SELECT id FROM findings WHERE id = $1 FOR UPDATE")
                .bind(finding)
                .execute(&mut **tx)
                .await?;
        }
        let seen =
            sqlx::query("SELECT 1 FROM finding_events WHERE finding_id = $1 AND change = $2")
                .bind(finding)
                .bind(change.to_string())
                .fetch_optional(&mut **tx)
                .await?
                .is_some();
        if seen {
            return Ok(false);
        }
        event(tx, finding, now, "scheduler", &change).await?;
        Ok(true)
    }
}
