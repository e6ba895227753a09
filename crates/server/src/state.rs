//! Shared server state and configuration.

use std::sync::Arc;
use std::time::Duration;

use embargo_core::Instant;
use embargo_core::attachment::AttachmentLimits;
use embargo_core::policy::PolicySet;
use embargo_store::Store;

use crate::metrics::Metrics;

/// Settings the server needs (the CLI builds them from the configuration file).
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Whether cookies carry `Secure` (true when embargo is served over HTTPS).
    pub secure_cookies: bool,
    /// How long a login session lasts.
    pub session_ttl: Duration,
    /// The address people reach embargo at (for security.txt and links).
    pub public_url: String,
    /// The installation's security policies.
    pub policies: Arc<PolicySet>,
    /// Reports accepted per client address per hour (noise control).
    pub intake_per_address_per_hour: u32,
    /// Reports accepted per reporter contact per hour.
    pub intake_per_contact_per_hour: u32,
    /// Behind a reverse proxy: take the client address from the first
    /// `X-Forwarded-For` entry instead of the connection.
    pub behind_proxy: bool,
    /// How many files a report or message may carry, and how large each.
    pub attachments: AttachmentLimits,
    /// The vulnerability database (`embargo db sync` writes it) that
    /// uploaded SBOMs are matched against; re-read when the file changes.
    pub vulndb: Option<std::path::PathBuf>,
    /// When set, `/metrics` answers only `Authorization: Bearer <token>`
    /// (its counts say when reports arrive); the SHA-256 of the token is
    /// kept, compared in constant time.
    pub metrics_token_digest: Option<[u8; 32]>,
    /// An SMTP server is configured: reporters who give an email address
    /// get a confirmation, and the receipt says so (or says why not).
    pub sends_email: bool,
    /// Said at start and on the dashboard: `public_url` names this machine
    /// at another address than the one the server answers on.
    pub public_url_warning: Option<String>,
}

impl ServerSettings {
    /// The digest kept for a `/metrics` token.
    #[must_use]
    pub fn metrics_token_digest_of(token: &str) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(token.trim().as_bytes()).into()
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            max_body_bytes: 1024 * 1024,
            secure_cookies: false,
            session_ttl: Duration::from_secs(12 * 3600),
            public_url: "http://127.0.0.1:8080".into(),
            policies: Arc::new(PolicySet::default()),
            intake_per_address_per_hour: 20,
            intake_per_contact_per_hour: 10,
            behind_proxy: false,
            attachments: AttachmentLimits::default(),
            vulndb: None,
            metrics_token_digest: None,
            sends_email: false,
            public_url_warning: None,
        }
    }
}

pub use crate::clock::{Clock, system_clock};

/// Everything a request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<ServerSettings>,
    pub clock: Clock,
    pub metrics: Arc<Metrics>,
    pub intake_per_address: Arc<crate::limits::RateLimiter>,
    pub intake_per_contact: Arc<crate::limits::RateLimiter>,
    pub(crate) openapi_json: Arc<String>,
    pub(crate) vulndb: Arc<VulnDb>,
    /// How the background jobs are doing (`/readyz`, `/metrics`).
    pub jobs: Arc<crate::jobs::JobsHealth>,
    /// Whether this process has checked that the case summaries were made
    /// under the policies it runs (see `app::summaries`).
    pub(crate) summaries_policy_checked: Arc<std::sync::atomic::AtomicBool>,
}

/// The loaded vulnerability database, re-read when its file changes (a
/// sync replaces it atomically).
#[derive(Debug, Default)]
pub struct VulnDb {
    loaded: std::sync::Mutex<Option<(std::time::SystemTime, Arc<embargo_vulndb::db::Database>)>>,
    /// The database the portfolio was last re-matched against: a feed
    /// update is what changed since.
    pub(crate) matched_against: tokio::sync::Mutex<Option<Arc<embargo_vulndb::db::Database>>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn now(&self) -> Instant {
        embargo_core::to_millis((self.clock)())
    }

    /// The vulnerability database, if one is configured and present.
    pub fn vulndb(&self) -> Result<Option<Arc<embargo_vulndb::db::Database>>, String> {
        let Some(path) = &self.settings.vulndb else {
            return Ok(None);
        };
        let Ok(modified) = std::fs::metadata(path).and_then(|m| m.modified()) else {
            return Ok(None);
        };
        let mut loaded = self
            .vulndb
            .loaded
            .lock()
            .map_err(|_| "the database lock is poisoned".to_owned())?;
        if let Some((at, db)) = loaded.as_ref()
            && *at == modified
        {
            return Ok(Some(db.clone()));
        }
        let db = Arc::new(embargo_vulndb::db::Database::load(path).map_err(|e| e.to_string())?);
        *loaded = Some((modified, db.clone()));
        Ok(Some(db))
    }
}
