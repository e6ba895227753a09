//! The public security center: the published advisories, as pages.

use crate::paging::PageOf;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use embargo_core::advisory;
use minijinja::context;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::advisories::{FORMATS, published};
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndexQuery {
    /// Only advisories affecting this product.
    pub product: Option<String>,
    /// Only advisories of this severity (none, low, medium, high, critical).
    pub severity: Option<String>,
    /// The page, from 1 (50 advisories a page).
    pub page: Option<String>,
}

/// Advisories on one page of the public index.
const INDEX_PAGE: usize = 50;

fn severity_of(a: &advisory::Advisory) -> &'static str {
    a.score().map_or("unrated", |s| s.severity.as_str())
}

/// Page `raw` (from 1; absent or blank: 1) of `total` items `per_page` a
/// page. A page past the end is not found: public lists are linked to, and
/// a stale link should say so.
pub(crate) fn public_page(
    total: usize,
    per_page: usize,
    raw: Option<&str>,
) -> Result<PageOf, crate::error::ApiError> {
    let requested = match raw.map(str::trim).filter(|p| !p.is_empty()) {
        None => Some(1),
        Some(p) => p.parse::<u64>().ok(),
    };
    requested
        .and_then(|n| PageOf::exact(total as u64, per_page as u64, n))
        .ok_or_else(|| {
            crate::error::ApiError::not_found(format!(
                "There is no page {} of advisories.",
                raw.unwrap_or_default().trim()
            ))
        })
}

/// The public security center: published advisories, newest first.
#[utoipa::path(get, path = "/advisories", tag = "advisories", params(IndexQuery),
    responses((status = 200, description = "The advisory index", body = String, content_type = "text/html")))]
pub async fn index(
    State(state): State<AppState>,
    Query(q): Query<IndexQuery>,
) -> ApiResult<Response> {
    let all = state.store.published_advisories().await?;
    let product = q.product.as_deref().filter(|p| !p.is_empty());
    let severity = q.severity.as_deref().filter(|s| !s.is_empty());
    let matching: Vec<_> = all
        .iter()
        .filter(|a| product.is_none_or(|p| a.affected.iter().any(|x| x.product == p)))
        .filter(|a| severity.is_none_or(|s| severity_of(a) == s))
        .collect();
    let total = matching.len();
    let place = public_page(total, INDEX_PAGE, q.page.as_deref())?;
    let link = |n: u64| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(p) = product {
            q.append_pair("product", p);
        }
        if let Some(s) = severity {
            q.append_pair("severity", s);
        }
        q.append_pair("page", &n.to_string());
        format!("/advisories?{}", q.finish())
    };
    let first = usize::try_from(place.offset()).unwrap_or(usize::MAX);
    let paging = place.paging(total.saturating_sub(first).min(INDEX_PAGE), link);
    let shown: Vec<_> = matching
        .into_iter()
        .skip(first)
        .take(INDEX_PAGE)
        .map(|a| {
            context! {
                id => a.id,
                cve => a.cve.as_deref().unwrap_or_default(),
                title => a.title,
                severity => severity_of(a),
                published => a.published.map(advisory::timestamp).unwrap_or_default(),
                day => a.published.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
            }
        })
        .collect();
    let mut products: Vec<&str> = all
        .iter()
        .flat_map(|a| a.affected.iter().map(|p| p.product.as_str()))
        .collect();
    products.sort_unstable();
    products.dedup();
    Ok(crate::templates::render(
        StatusCode::OK,
        "advisories.html",
        context! {
            title => "Security advisories",
            products,
            product,
            severities => ["critical", "high", "medium", "low", "none", "unrated"],
            severity,
            advisories => shown,
            paging,
        },
    ))
}

/// One published advisory as a page.
#[utoipa::path(get, path = "/advisories/{id}", tag = "advisories",
    params(("id" = String, Path, description = "The advisory id")),
    responses((status = 200, description = "The advisory", body = String, content_type = "text/html"), (status = 404, body = ErrorBody)))]
pub async fn advisory_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let a = published(&state, &id).await?;
    let score = a.score().map(|s| {
        context! {
            severity => s.severity.as_str(),
            version => s.version,
            score => s.score.to_string(),
            vector => s.vector,
        }
    });
    let weakness =
        a.cwe
            .as_deref()
            .and_then(advisory::cwe::parse)
            .map(|n| match advisory::cwe::name(n) {
                Some(name) => format!("CWE-{n}: {name}"),
                None => format!("CWE-{n}"),
            });
    let affected: Vec<String> = a
        .affected
        .iter()
        .flat_map(|p| {
            p.ranges.iter().map(move |r| {
                format!(
                    "{} {}: {}{}",
                    p.vendor,
                    p.product,
                    r.describe(),
                    r.fixed
                        .as_deref()
                        .map(|f| format!("; fixed in {f}"))
                        .unwrap_or_else(|| "; no fix yet".into())
                )
            })
        })
        .collect();
    let paragraphs: Vec<&str> = if a.description.is_empty() {
        Vec::new()
    } else {
        a.description.split("\n\n").collect()
    };
    let credits: Vec<String> = a
        .credits
        .iter()
        .map(|c| format!("{} ({})", c.name, c.kind.cve()))
        .collect();
    Ok(crate::templates::render(
        StatusCode::OK,
        "advisory.html",
        context! {
            title => format!("{}: {}", a.id, a.title),
            score,
            weakness,
            published => a.published.map(advisory::timestamp),
            affected,
            paragraphs,
            credits,
            files => FORMATS,
            a,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::public_page;

    #[test]
    fn public_pages_count_from_one_and_refuse_past_the_end() {
        let place = |total, raw| {
            let p = public_page(total, 50, raw).unwrap();
            (p.page, p.pages)
        };
        assert_eq!(place(0, None), (1, 1));
        assert_eq!(place(120, Some("")), (1, 3));
        assert_eq!(place(120, Some(" 3 ")), (3, 3));
        for bad in ["0", "4", "-1", "two"] {
            let e = public_page(120, 50, Some(bad)).unwrap_err();
            assert_eq!(e.status.as_u16(), 404, "{bad}");
        }
    }
}
