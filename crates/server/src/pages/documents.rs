//! The published advisories as documents: each advisory in every format the
//! ecosystem reads (CSAF, OSV, CVE 5, OpenVEX, CycloneDX VEX, a release
//! note), an Atom feed (a template), and a CSAF provider
//! (`/.well-known/csaf/`). A draft is reachable by no public URL: every
//! route here reads the published form, written only by the publish action.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use embargo_core::advisory::{self, csaf, cve5, markdown, osv, vex};
use minijinja::context;
use serde_json::Value;
use sha2::Digest;

use crate::app::advisories::{published, publisher};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

/// A UUID derived from the advisory and its revision: the same document
/// keeps the same id.
fn stable_uuid(a: &advisory::Advisory) -> String {
    advisory::derived_uuid(&format!("{}#{}", a.id, a.revisions.len()))
}

fn json_response(value: &Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string_pretty(value).unwrap_or_default(),
    )
        .into_response()
}

/// One published advisory in one of its formats.
#[utoipa::path(get, path = "/advisories/{id}/{file}", tag = "advisories",
    params(("id" = String, Path, description = "The advisory id"),
           ("file" = String, Path, description = "csaf.json, osv.json, cve.json, openvex.json, cyclonedx.json or release-note.md")),
    responses((status = 200, description = "The document"), (status = 404, body = ErrorBody)))]
pub async fn advisory_file(
    State(state): State<AppState>,
    Path((id, file)): Path<(String, String)>,
) -> ApiResult<Response> {
    let a = published(&state, &id).await?;
    let p = publisher(&state);
    let missing = || ApiError::not_found(format!("{id} has no {file}"));
    Ok(match file.as_str() {
        "csaf.json" => json_response(&csaf::document(&a, &p, state.now())),
        "osv.json" => json_response(&osv::record(&a, &p).ok_or_else(missing)?),
        "cve.json" => json_response(&cve5::record(&a, &p).ok_or_else(missing)?),
        "openvex.json" => {
            json_response(&vex::openvex(&a, &p, &stable_uuid(&a)).ok_or_else(missing)?)
        }
        "cyclonedx.json" => {
            json_response(&vex::cyclonedx(&a, &p, &stable_uuid(&a)).ok_or_else(missing)?)
        }
        "release-note.md" => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            markdown::release_note(&a, &format!("{}/advisories/{}", p.base_url, a.id)),
        )
            .into_response(),
        _ => return Err(missing()),
    })
}

/// Advisories per page of the Atom feed.
const FEED_PAGE: usize = 50;

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The page, from 1 (50 advisories a page, newest first).
    pub page: Option<String>,
}

/// An Atom feed of the published advisories, newest first, paged as RFC
/// 5005 describes (`first`, `previous`, `next`, `last` links) with the
/// total in OpenSearch's `totalResults`.
#[utoipa::path(get, path = "/advisories/feed.atom", tag = "advisories", params(FeedQuery),
    responses((status = 200, description = "Atom 1.0", body = String, content_type = "application/atom+xml"),
        (status = 404, description = "No such page", body = ErrorBody)))]
pub async fn feed(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<FeedQuery>,
) -> ApiResult<Response> {
    let all = state.store.published_advisories().await?;
    let p = publisher(&state);
    let place = crate::pages::advisories::public_page(all.len(), FEED_PAGE, q.page.as_deref())?;
    let (page, pages) = (place.page, place.pages);
    let updated = all
        .iter()
        .filter_map(advisory::Advisory::modified)
        .max()
        .map_or_else(|| "1970-01-01T00:00:00Z".to_owned(), advisory::timestamp);
    let entries: Vec<minijinja::Value> = all
        .iter()
        .skip(usize::try_from(place.offset()).unwrap_or(usize::MAX))
        .take(FEED_PAGE)
        .map(|a| {
            context! {
                id => a.id,
                title => a.title,
                url => format!("{}/advisories/{}", p.base_url, a.id),
                updated => a.modified().map(advisory::timestamp).unwrap_or_default(),
                published => a.published.map(advisory::timestamp).unwrap_or_default(),
                summary => a.summary,
            }
        })
        .collect();
    let link = |n: u64| {
        if n == 1 {
            format!("{}/advisories/feed.atom", p.base_url)
        } else {
            format!("{}/advisories/feed.atom?page={n}", p.base_url)
        }
    };
    let xml = crate::templates::page(
        "feed.xml",
        context! {
            name => p.name,
            base_url => p.base_url,
            updated,
            entries,
            total => all.len(),
            this => link(page),
            first => link(1),
            last => link(pages),
            previous => (page > 1).then(|| link(page - 1)),
            next => (page < pages).then(|| link(page + 1)),
        },
    );
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        xml,
    )
        .into_response())
}

// ------------------------------------------------------------ CSAF provider

/// The provider's files: (`YYYY/name.json`, document, its JSON text).
async fn provider_files(state: &AppState) -> ApiResult<Vec<(String, advisory::Advisory, String)>> {
    let p = publisher(state);
    let all = state.store.published_advisories().await?;
    Ok(all
        .into_iter()
        .map(|a| {
            let year = a
                .published
                .map(|d| d.format("%Y").to_string())
                .unwrap_or_default();
            let path = format!("{year}/{}", csaf::file_name(&a.id));
            let text = serde_json::to_string_pretty(&csaf::document(&a, &p, state.now()))
                .unwrap_or_default();
            (path, a, text)
        })
        .collect())
}

/// The organization's CSAF signing key (made on first need).
async fn signing_key(state: &AppState) -> ApiResult<embargo_core::signing::SigningKey> {
    let p = publisher(state);
    let contact = p.contact.strip_prefix("mailto:").unwrap_or(&p.contact);
    let user_id = format!("{} CSAF <{}>", p.name, contact);
    Ok(state.store.csaf_signing_key(&user_id, state.now()).await?)
}

/// The public key that signs the provider's documents.
#[utoipa::path(get, path = "/.well-known/csaf/openpgp/{file}", tag = "advisories",
    params(("file" = String, Path, description = "The key's fingerprint followed by .asc")),
    responses((status = 200, description = "The armored public key", body = String, content_type = "application/pgp-keys"), (status = 404, body = ErrorBody)))]
pub async fn provider_key(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> ApiResult<Response> {
    let key = signing_key(&state).await?;
    if file != format!("{}.asc", key.fingerprint()) {
        return Err(ApiError::not_found(format!("no key {file}")));
    }
    let armored = key
        .public_armored()
        .map_err(|e| ApiError::internal("the public signing key", &e))?;
    Ok(([(header::CONTENT_TYPE, "application/pgp-keys")], armored).into_response())
}

/// CSAF provider metadata (CSAF 2.0 section 7.1.7).
#[utoipa::path(get, path = "/.well-known/csaf/provider-metadata.json", tag = "advisories",
    responses((status = 200, description = "provider-metadata.json")))]
pub async fn provider_metadata(State(state): State<AppState>) -> ApiResult<Response> {
    let p = publisher(&state);
    let last = state
        .store
        .published_advisories()
        .await?
        .iter()
        .filter_map(advisory::Advisory::modified)
        .max()
        .map_or_else(|| advisory::timestamp(state.now()), advisory::timestamp);
    let base = format!("{}/.well-known/csaf", p.base_url);
    let key = signing_key(&state).await?;
    let fingerprint = key.fingerprint();
    Ok(json_response(&serde_json::json!({
        "public_openpgp_keys": [{
            "fingerprint": fingerprint,
            "url": format!("{base}/openpgp/{fingerprint}.asc"),
        }],
        "canonical_url": format!("{base}/provider-metadata.json"),
        "distributions": [{"directory_url": format!("{base}/white/")}],
        "last_updated": last,
        "list_on_CSAF_aggregators": true,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": true,
        "publisher": {"category": "vendor", "name": p.name, "namespace": p.namespace, "contact_details": p.contact},
        "role": "csaf_provider",
    })))
}

/// `index.txt`: every document's path, one per line.
#[utoipa::path(get, path = "/.well-known/csaf/white/index.txt", tag = "advisories",
    responses((status = 200, description = "index.txt", body = String, content_type = "text/plain")))]
pub async fn provider_index(State(state): State<AppState>) -> ApiResult<Response> {
    let files = provider_files(&state).await?;
    let text: String = files
        .iter()
        .map(|(path, _, _)| format!("{path}\n"))
        .collect();
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// `changes.csv`: path and last change, newest first.
#[utoipa::path(get, path = "/.well-known/csaf/white/changes.csv", tag = "advisories",
    responses((status = 200, description = "changes.csv", body = String, content_type = "text/csv")))]
pub async fn provider_changes(State(state): State<AppState>) -> ApiResult<Response> {
    let mut files = provider_files(&state).await?;
    files.sort_by_key(|f| std::cmp::Reverse(f.1.modified()));
    let text: String = files
        .iter()
        .map(|(path, a, _)| {
            format!(
                "\"{path}\",\"{}\"\n",
                a.modified().map(advisory::timestamp).unwrap_or_default()
            )
        })
        .collect();
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response())
}

/// A document of the directory distribution, or its `.sha256`, `.sha512`
/// or detached OpenPGP signature `.asc`.
#[utoipa::path(get, path = "/.well-known/csaf/white/{year}/{file}", tag = "advisories",
    params(("year" = String, Path, description = "The year of first publication"),
           ("file" = String, Path, description = "The document's file name, or it with .sha256 / .sha512")),
    responses((status = 200, description = "The document or its hash"), (status = 404, body = ErrorBody)))]
pub async fn provider_file(
    State(state): State<AppState>,
    Path((year, file)): Path<(String, String)>,
) -> ApiResult<Response> {
    let files = provider_files(&state).await?;
    let (name, hash) = if let Some(n) = file.strip_suffix(".sha256") {
        (n, Some("sha256"))
    } else if let Some(n) = file.strip_suffix(".sha512") {
        (n, Some("sha512"))
    } else if let Some(n) = file.strip_suffix(".asc") {
        (n, Some("asc"))
    } else {
        (file.as_str(), None)
    };
    let wanted = format!("{year}/{name}");
    let (_, _, text) = files
        .iter()
        .find(|(path, _, _)| *path == wanted)
        .ok_or_else(|| ApiError::not_found(format!("no document {wanted}")))?;
    Ok(match hash {
        None => ([(header::CONTENT_TYPE, "application/json")], text.clone()).into_response(),
        Some("asc") => {
            let signature = signing_key(&state)
                .await?
                .sign(text.as_bytes())
                .map_err(|e| ApiError::internal("signing a CSAF document", &e))?;
            (
                [(header::CONTENT_TYPE, "application/pgp-signature")],
                signature,
            )
                .into_response()
        }
        Some(alg) => {
            let hex: String = if alg == "sha256" {
                sha2::Sha256::digest(text.as_bytes())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            } else {
                sha2::Sha512::digest(text.as_bytes())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            };
            (
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("{hex}  {name}\n"),
            )
                .into_response()
        }
    })
}
