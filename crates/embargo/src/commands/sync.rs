//! `embargo db sync`: downloads the OSV feeds (`<base>/<ecosystem>/all.zip`)
//! and rebuilds the database from them.
//!
//! Each feed is cached beside the database with the ETag and Last-Modified
//! its server gave, and asked for again conditionally: an unchanged feed
//! costs one `304 Not Modified`. A download is written to a `.part` file,
//! checked against its announced length, and only then renamed over the
//! cached copy; the database is rebuilt only when every feed is in hand and
//! replaced atomically (`Database::save`). So a failed or partial download
//! never leaves a half-updated database: the previous one stays.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// The public OSV bucket.
pub const DEFAULT_BASE_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";
/// CISA's Known Exploited Vulnerabilities catalog.
pub const DEFAULT_KEV_URL: &str =
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
/// FIRST's EPSS scores of the day (gzipped CSV).
pub const DEFAULT_EPSS_URL: &str = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz";

/// The ecosystems synced by default: those whose versions embargo orders.
pub const DEFAULT_ECOSYSTEMS: &[&str] = &[
    "crates.io",
    "npm",
    "PyPI",
    "Go",
    "Maven",
    "NuGet",
    "RubyGems",
    "Packagist",
    "Hex",
    "Pub",
];

/// The largest feed accepted (npm's is about 200 MB today).
const MAX_FEED_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// What the server said about a cached feed, kept in `<feed>.zip.meta`.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Validators {
    etag: Option<String>,
    last_modified: Option<String>,
}

#[derive(Debug, PartialEq)]
pub(crate) enum Fetched {
    Unchanged,
    Downloaded(u64),
}

/// Options of one sync.
#[derive(Debug)]
pub struct SyncOptions {
    pub base_url: String,
    pub ecosystems: Vec<String>,
    pub db: PathBuf,
    /// Local files to use instead of downloading the KEV catalog and EPSS scores.
    pub kev: Option<PathBuf>,
    pub epss: Option<PathBuf>,
    /// Where to download them from; `None` skips the download.
    pub kev_url: Option<String>,
    pub epss_url: Option<String>,
}

pub async fn sync(options: SyncOptions) -> ExitCode {
    match run(&options).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("embargo: {e}");
            eprintln!("embargo: the database was left as it was");
            ExitCode::from(2)
        }
    }
}

pub(crate) async fn run(options: &SyncOptions) -> Result<ExitCode, String> {
    let feeds_dir = options
        .db
        .parent()
        .map_or_else(|| PathBuf::from("feeds"), |p| p.join("feeds"));
    std::fs::create_dir_all(&feeds_dir).map_err(|e| format!("{}: {e}", feeds_dir.display()))?;
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(120))
        .user_agent(concat!("embargo/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())?;
    let base = options.base_url.trim_end_matches('/');
    let mut changed = false;
    let mut zips = Vec::new();
    for ecosystem in &options.ecosystems {
        if ecosystem.contains(['/', '\\']) || ecosystem.contains("..") || ecosystem.is_empty() {
            return Err(format!("`{ecosystem}` is not an ecosystem name"));
        }
        let url = format!("{base}/{ecosystem}/all.zip");
        let zip = feeds_dir.join(format!("{ecosystem}.zip"));
        match fetch(&client, &url, &zip, &check_osv).await? {
            Fetched::Unchanged => eprintln!("{ecosystem}: unchanged"),
            Fetched::Downloaded(bytes) => {
                changed = true;
                eprintln!("{ecosystem}: downloaded {:.1} MB", bytes as f64 / 1e6);
            }
        }
        zips.push(zip);
    }
    // The exploitation signals: a local file given wins over a download.
    let mut signals = Vec::new();
    let mut signal = async |local: &Option<PathBuf>,
                            url: &Option<String>,
                            name: &str,
                            check: &dyn Fn(&Path) -> Result<(), String>|
           -> Result<Option<PathBuf>, String> {
        if local.is_some() {
            return Ok(local.clone());
        }
        let Some(url) = url else { return Ok(None) };
        let path = feeds_dir.join(name);
        match fetch(&client, url, &path, check).await? {
            Fetched::Unchanged => eprintln!("{name}: unchanged"),
            Fetched::Downloaded(bytes) => {
                changed = true;
                eprintln!("{name}: downloaded {:.1} MB", bytes as f64 / 1e6);
            }
        }
        signals.push(path.clone());
        Ok(Some(path))
    };
    let kev = signal(&options.kev, &options.kev_url, "kev.json", &check_kev).await?;
    let epss = signal(&options.epss, &options.epss_url, "epss.csv.gz", &check_epss).await?;
    // A feed newer than the database (downloaded by a sync that then
    // failed on another feed) needs a rebuild even when nothing changed now.
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let db_time = modified(&options.db);
    let stale = zips
        .iter()
        .chain(&signals)
        .any(|z| db_time.is_none_or(|db| modified(z).is_none_or(|t| t > db)));
    if !changed && !stale && options.kev.is_none() && options.epss.is_none() {
        println!("{} is up to date", options.db.display());
        return Ok(ExitCode::SUCCESS);
    }
    Ok(super::db::import(&zips, &options.db, kev, epss))
}

/// A downloaded OSV feed must be a readable zip.
fn check_osv(path: &Path) -> Result<(), String> {
    embargo_vulndb::db::check_archive(path)
        .map(|_| ())
        .map_err(|e| format!("not an OSV feed: {e}"))
}

/// A downloaded KEV catalog must be JSON with a `vulnerabilities` list.
fn check_kev(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("not a KEV catalog: {e}"))?;
    if v.get("vulnerabilities")
        .and_then(|l| l.as_array())
        .is_none()
    {
        return Err("not a KEV catalog: no `vulnerabilities` list".into());
    }
    Ok(())
}

/// A downloaded EPSS file must be (gzipped) text that starts as FIRST's does.
fn check_epss(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let text = embargo_vulndb::db::epss_text(&bytes)?;
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if first.starts_with('#') || first.starts_with("cve,") {
        Ok(())
    } else {
        Err(
            "not EPSS scores: expected a `#model_version…` or `cve,epss,percentile` first line"
                .into(),
        )
    }
}

pub(crate) fn meta_path(zip: &Path) -> PathBuf {
    zip.with_extension("zip.meta")
}

/// Fetches one feed into `zip` unless the server says the cached copy is
/// current.
pub(crate) async fn fetch(
    client: &reqwest::Client,
    url: &str,
    zip: &Path,
    check: &dyn Fn(&Path) -> Result<(), String>,
) -> Result<Fetched, String> {
    let meta = meta_path(zip);
    let validators: Validators = if zip.exists() {
        std::fs::read_to_string(&meta)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    } else {
        Validators::default()
    };
    let mut request = client.get(url);
    if let Some(etag) = &validators.etag {
        request = request.header(reqwest::header::IF_NONE_MATCH, etag);
    }
    if let Some(lm) = &validators.last_modified {
        request = request.header(reqwest::header::IF_MODIFIED_SINCE, lm);
    }
    let mut response = request.send().await.map_err(|e| format!("{url}: {e}"))?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(Fetched::Unchanged);
    }
    if !status.is_success() {
        return Err(format!("{url}: the server answered {status}"));
    }
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let fresh = Validators {
        etag: header(reqwest::header::ETAG),
        last_modified: header(reqwest::header::LAST_MODIFIED),
    };
    let expected = response.content_length();
    if expected.is_some_and(|n| n > MAX_FEED_BYTES) {
        return Err(format!("{url}: larger than {MAX_FEED_BYTES} bytes"));
    }
    let bar = ProgressBar::new(expected.unwrap_or(0));
    bar.set_style(
        ProgressStyle::with_template("{msg:12} {bar:40} {bytes}/{total_bytes} {bytes_per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(
        zip.file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default(),
    );
    let part = zip.with_extension("zip.part");
    let mut file = std::fs::File::create(&part).map_err(|e| format!("{}: {e}", part.display()))?;
    let mut written: u64 = 0;
    let result: Result<(), String> = async {
        use std::io::Write;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("{url}: the download broke off: {e}"))?
        {
            written += chunk.len() as u64;
            if written > MAX_FEED_BYTES {
                return Err(format!("{url}: larger than {MAX_FEED_BYTES} bytes"));
            }
            file.write_all(&chunk)
                .map_err(|e| format!("{}: {e}", part.display()))?;
            bar.set_position(written);
        }
        if let Some(n) = expected
            && n != written
        {
            return Err(format!("{url}: received {written} of {n} bytes"));
        }
        file.sync_all()
            .map_err(|e| format!("{}: {e}", part.display()))?;
        Ok(())
    }
    .await;
    bar.finish_and_clear();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&part);
        return Err(e);
    }
    // A download that is not what it should be (a readable zip, a KEV
    // catalog, EPSS scores) is refused before it replaces the cached copy.
    if let Err(e) = check(&part) {
        let _ = std::fs::remove_file(&part);
        return Err(format!("{url}: {e}"));
    }
    std::fs::rename(&part, zip).map_err(|e| format!("{}: {e}", zip.display()))?;
    let meta_text = serde_json::to_string(&fresh).map_err(|e| e.to_string())?;
    std::fs::write(&meta, meta_text).map_err(|e| format!("{}: {e}", meta.display()))?;
    Ok(Fetched::Downloaded(written))
}
