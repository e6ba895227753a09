//! The configuration file (TOML) and its `EMBARGO_*` environment overrides.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Everything `embargo.toml` can say. Unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// `sqlite://PATH` (relative paths are relative to this file) or `postgres://...`.
    pub database_url: String,
    /// The encryption key file (relative to this file). Keep it apart from database backups.
    pub key_file: PathBuf,
    /// The address users reach embargo at; `https://` turns on Secure cookies.
    #[serde(default = "default_public_url")]
    pub public_url: String,
    /// Largest request body accepted, in bytes.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// How long a login lasts, in hours.
    #[serde(default = "default_session_hours")]
    pub session_hours: u64,
    /// `text` or `json` log lines.
    #[serde(default = "default_log_format")]
    pub log_format: LogFormat,
    /// Security policy files (relative to this file), or `preset:NAME`.
    #[serde(default = "default_policies")]
    pub policies: Vec<String>,
    /// How often the escalation scheduler checks the clocks, in seconds.
    #[serde(default = "default_escalation_interval")]
    pub escalation_interval_seconds: u64,
    /// How long a worker may hold a message it is delivering before another
    /// server takes it over, in seconds.
    /// Longer than `delivery_timeout_seconds` by 2 seconds at least.
    #[serde(default = "default_delivery_lease")]
    pub delivery_lease_seconds: u64,
    /// How long a webhook receiver or the SMTP server may take to accept one
    /// message before the attempt counts as failed, in seconds.
    #[serde(default = "default_delivery_timeout")]
    pub delivery_timeout_seconds: u64,
    /// The first retry of a failed delivery waits this long; each next one twice as long.
    #[serde(default = "default_delivery_retry")]
    pub delivery_retry_seconds: u64,
    /// Attempts before a delivery is dead (listed at /api/v1/deliveries?state=dead).
    #[serde(default = "default_delivery_attempts")]
    pub delivery_max_attempts: u32,
    /// Reports accepted per client address per hour at the public intake.
    #[serde(default = "default_intake_per_address")]
    pub intake_per_address_per_hour: u32,
    /// Reports accepted per reporter contact per hour.
    #[serde(default = "default_intake_per_contact")]
    pub intake_per_contact_per_hour: u32,
    /// The largest file a report or message may carry, in bytes.
    #[serde(default = "default_attachment_bytes")]
    pub attachment_max_bytes: usize,
    /// How many files one report or message may carry.
    #[serde(default = "default_attachment_count")]
    pub attachment_max_count: usize,
    /// Set when embargo runs behind a reverse proxy that sets X-Forwarded-For.
    #[serde(default)]
    pub behind_proxy: bool,
    /// The vulnerability database uploaded SBOMs are matched against (what
    /// `embargo db sync` writes; by default its default path).
    #[serde(default)]
    pub vulndb: Option<std::path::PathBuf>,
    /// The hour (UTC, 0 to 23) at which daily digests are composed.
    #[serde(default = "default_digest_hour")]
    pub digest_hour: u32,
    /// The SMTP server for email; without it, email deliveries wait and fail.
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    /// The security mailbox read over IMAP; without it, reports come only
    /// through the form and the API.
    #[serde(default)]
    pub mailbox: Option<MailboxConfig>,
    /// When set, `/metrics` answers only `Authorization: Bearer <token>`
    /// (better set through EMBARGO_METRICS_TOKEN than written here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_token: Option<Secret>,
}

/// A secret from the configuration: never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"(secret)\"")
    }
}

/// `[mailbox]`: the security mailbox (for example security@), read over IMAP.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxConfig {
    pub host: String,
    #[serde(default = "default_imap_port")]
    pub port: u16,
    /// `tls` (port 993), `starttls` (port 143) or `none` (a server on this machine only).
    #[serde(default = "default_imap_security")]
    pub security: String,
    pub username: String,
    /// Better set through EMBARGO_MAILBOX_PASSWORD than written here.
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default = "default_imap_folder")]
    pub folder: String,
    #[serde(default = "default_imap_poll")]
    pub poll_seconds: u64,
    /// A PEM file of extra certificates to trust (a private CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// The product mailed reports are filed under until triage corrects it.
    #[serde(default = "default_mailbox_product")]
    pub product: String,
}

impl std::fmt::Debug for MailboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailboxConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("folder", &self.folder)
            .field("poll_seconds", &self.poll_seconds)
            .field("ca_file", &self.ca_file)
            .field("product", &self.product)
            .finish()
    }
}

fn default_imap_port() -> u16 {
    993
}
fn default_imap_security() -> String {
    "tls".into()
}
fn default_imap_folder() -> String {
    "INBOX".into()
}
fn default_imap_poll() -> u64 {
    60
}
fn default_mailbox_product() -> String {
    "unspecified".into()
}

/// `[smtp]`: where email goes out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// `starttls` (port 587), `tls` (port 465) or `none` (a relay on this machine only).
    #[serde(default = "default_smtp_security")]
    pub security: String,
    #[serde(default)]
    pub username: Option<String>,
    /// Better set through EMBARGO_SMTP_PASSWORD than written here.
    #[serde(default)]
    pub password: Option<String>,
    /// The From address, such as `Security team <security@example.org>`.
    pub from: String,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .finish()
    }
}

fn default_smtp_port() -> u16 {
    587
}
fn default_smtp_security() -> String {
    "starttls".into()
}
fn default_delivery_lease() -> u64 {
    60
}
fn default_delivery_timeout() -> u64 {
    10
}
fn default_delivery_retry() -> u64 {
    30
}
fn default_delivery_attempts() -> u32 {
    8
}
fn default_digest_hour() -> u32 {
    8
}
fn default_attachment_bytes() -> usize {
    10 * 1024 * 1024
}
fn default_attachment_count() -> usize {
    5
}
fn default_intake_per_address() -> u32 {
    20
}
fn default_intake_per_contact() -> u32 {
    10
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_public_url() -> String {
    "http://127.0.0.1:8080".into()
}
fn default_max_body_bytes() -> usize {
    1024 * 1024
}
fn default_session_hours() -> u64 {
    12
}
fn default_log_format() -> LogFormat {
    LogFormat::Text
}
fn default_policies() -> Vec<String> {
    vec!["preset:default".into()]
}
fn default_escalation_interval() -> u64 {
    60
}

/// Environment variables that override keys of the file, by key.
const OVERRIDES: &[(&str, &str)] = &[
    ("EMBARGO_LISTEN", "listen"),
    ("EMBARGO_DATABASE_URL", "database_url"),
    ("EMBARGO_KEY_FILE", "key_file"),
    ("EMBARGO_PUBLIC_URL", "public_url"),
    ("EMBARGO_MAX_BODY_BYTES", "max_body_bytes"),
    ("EMBARGO_SESSION_HOURS", "session_hours"),
    ("EMBARGO_LOG_FORMAT", "log_format"),
    (
        "EMBARGO_ESCALATION_INTERVAL_SECONDS",
        "escalation_interval_seconds",
    ),
    ("EMBARGO_DELIVERY_LEASE_SECONDS", "delivery_lease_seconds"),
    (
        "EMBARGO_DELIVERY_TIMEOUT_SECONDS",
        "delivery_timeout_seconds",
    ),
    ("EMBARGO_DELIVERY_RETRY_SECONDS", "delivery_retry_seconds"),
    ("EMBARGO_DELIVERY_MAX_ATTEMPTS", "delivery_max_attempts"),
    ("EMBARGO_ATTACHMENT_MAX_BYTES", "attachment_max_bytes"),
    ("EMBARGO_ATTACHMENT_MAX_COUNT", "attachment_max_count"),
    ("EMBARGO_SMTP_PASSWORD", "smtp.password"),
    ("EMBARGO_MAILBOX_PASSWORD", "mailbox.password"),
    ("EMBARGO_METRICS_TOKEN", "metrics_token"),
];

/// Other `EMBARGO_*` variables embargo reads; anything else is a typo.
const OTHER_VARIABLES: &[&str] = &["EMBARGO_CONFIG", "EMBARGO_LOG"];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
}

impl Config {
    /// A configuration for a new installation with its data in `data_dir`
    /// (paths written relative to the configuration file's directory).
    pub fn new_installation(data_dir: &str, database_url: Option<String>) -> Config {
        Config {
            listen: default_listen(),
            database_url: database_url.unwrap_or_else(|| format!("sqlite://{data_dir}/embargo.db")),
            key_file: PathBuf::from(format!("{data_dir}/keys")),
            public_url: default_public_url(),
            max_body_bytes: default_max_body_bytes(),
            session_hours: default_session_hours(),
            log_format: default_log_format(),
            policies: vec!["policy.toml".into()],
            escalation_interval_seconds: default_escalation_interval(),
            delivery_lease_seconds: default_delivery_lease(),
            delivery_timeout_seconds: default_delivery_timeout(),
            delivery_retry_seconds: default_delivery_retry(),
            delivery_max_attempts: default_delivery_attempts(),
            digest_hour: default_digest_hour(),
            intake_per_address_per_hour: default_intake_per_address(),
            intake_per_contact_per_hour: default_intake_per_contact(),
            attachment_max_bytes: default_attachment_bytes(),
            attachment_max_count: default_attachment_count(),
            behind_proxy: false,
            vulndb: None,
            smtp: None,
            mailbox: None,
            metrics_token: None,
        }
    }

    /// Reads `path`, applies environment overrides, and resolves relative
    /// paths against the file's directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::from_text(&text, path, std::env::vars())
    }

    pub fn from_text(
        text: &str,
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let mut table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: shown.clone(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        for (name, value) in env {
            if !name.starts_with("EMBARGO_") || name.starts_with("EMBARGO_TEST_") {
                continue;
            }
            if OTHER_VARIABLES.contains(&name.as_str()) {
                continue;
            }
            let Some((_, key)) = OVERRIDES.iter().find(|(n, _)| *n == name) else {
                return Err(ConfigError::Env {
                    message: format!(
                        "not a setting embargo knows; the overrides are {}",
                        OVERRIDES
                            .iter()
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    name,
                });
            };
            let parsed = match *key {
                "max_body_bytes"
                | "session_hours"
                | "escalation_interval_seconds"
                | "delivery_lease_seconds"
                | "delivery_timeout_seconds"
                | "delivery_retry_seconds"
                | "delivery_max_attempts" => {
                    toml::Value::Integer(value.trim().parse().map_err(|_| ConfigError::Env {
                        name: name.clone(),
                        message: "must be a whole number".into(),
                    })?)
                }
                _ => toml::Value::String(value),
            };
            match key.split_once('.') {
                Some((section, field)) => {
                    let Some(toml::Value::Table(t)) = table.get_mut(section) else {
                        return Err(ConfigError::Env {
                            name,
                            message: format!("sets {key}, but the file has no [{section}] section"),
                        });
                    };
                    t.insert(field.to_owned(), parsed);
                }
                None => {
                    table.insert((*key).to_owned(), parsed);
                }
            }
        }
        let mut config: Config =
            table
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Invalid {
                    path: shown.clone(),
                    message: e.to_string().trim_end().to_owned(),
                })?;
        config.check(&shown)?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        Ok(config)
    }

    fn check(&self, shown: &str) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: shown.to_owned(),
            message,
        };
        if self.listen.parse::<SocketAddr>().is_err() {
            return Err(invalid(format!(
                "listen: `{}` is not an address and port such as 127.0.0.1:8080",
                self.listen
            )));
        }
        embargo_store::Backend::of_url(&self.database_url).map_err(|e| invalid(e.to_string()))?;
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(invalid(
                "public_url: must start with http:// or https://".into(),
            ));
        }
        if !(1024..=1024 * 1024 * 1024).contains(&self.max_body_bytes) {
            return Err(invalid(
                "max_body_bytes: must be between 1024 and 1073741824".into(),
            ));
        }
        if !(1..=24 * 30).contains(&self.session_hours) {
            return Err(invalid("session_hours: must be between 1 and 720".into()));
        }
        if !(1..=86_400).contains(&self.escalation_interval_seconds) {
            return Err(invalid(
                "escalation_interval_seconds: must be between 1 and 86400".into(),
            ));
        }
        for (key, value, range) in [
            (
                "delivery_lease_seconds",
                self.delivery_lease_seconds,
                1..=3600,
            ),
            (
                "delivery_timeout_seconds",
                self.delivery_timeout_seconds,
                1..=600,
            ),
            (
                "delivery_retry_seconds",
                self.delivery_retry_seconds,
                1..=86_400,
            ),
            (
                "delivery_max_attempts",
                u64::from(self.delivery_max_attempts),
                1..=100,
            ),
            (
                "attachment_max_bytes",
                self.attachment_max_bytes as u64,
                1..=1024 * 1024 * 1024,
            ),
            (
                "attachment_max_count",
                self.attachment_max_count as u64,
                0..=100,
            ),
        ] {
            if !range.contains(&value) {
                return Err(invalid(format!(
                    "{key}: must be between {} and {}",
                    range.start(),
                    range.end()
                )));
            }
        }
        if self.delivery_lease_seconds < self.delivery_timeout_seconds + 2 {
            return Err(invalid(format!(
                "delivery_lease_seconds: {} is too short for delivery_timeout_seconds = {}; the lease must be \
                 longer than the timeout by 2 seconds at least, or another server may take a message over \
                 while it is still being sent (and send it twice)",
                self.delivery_lease_seconds, self.delivery_timeout_seconds
            )));
        }
        if self.intake_per_address_per_hour == 0 || self.intake_per_contact_per_hour == 0 {
            return Err(invalid(
                "intake_per_address_per_hour and intake_per_contact_per_hour must be at least 1"
                    .into(),
            ));
        }
        if self.digest_hour > 23 {
            return Err(invalid(
                "digest_hour: must be an hour from 0 to 23 (UTC)".into(),
            ));
        }
        if let Some(mailbox) = &self.mailbox {
            if !matches!(mailbox.security.as_str(), "starttls" | "tls" | "none") {
                return Err(invalid(format!(
                    "mailbox.security: `{}` is not tls, starttls or none",
                    mailbox.security
                )));
            }
            if mailbox.password.as_deref().is_none_or(str::is_empty) {
                return Err(invalid(
                    "mailbox.password: not set (set EMBARGO_MAILBOX_PASSWORD)".into(),
                ));
            }
            if !(5..=86_400).contains(&mailbox.poll_seconds) {
                return Err(invalid(
                    "mailbox.poll_seconds: must be between 5 and 86400".into(),
                ));
            }
            if mailbox.product.trim().is_empty() {
                return Err(invalid("mailbox.product: must not be empty".into()));
            }
        }
        if let Some(smtp) = &self.smtp
            && !matches!(smtp.security.as_str(), "starttls" | "tls" | "none")
        {
            return Err(invalid(format!(
                "smtp.security: `{}` is not starttls, tls or none",
                smtp.security
            )));
        }
        if self.policies.is_empty() {
            return Err(invalid(
                "policies: name at least one policy file or preset:NAME".into(),
            ));
        }
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        for p in &mut self.policies {
            if !p.starts_with("preset:") && Path::new(p.as_str()).is_relative() {
                *p = base.join(p.as_str()).display().to_string();
            }
        }
        if self.key_file.is_relative() {
            self.key_file = base.join(&self.key_file);
        }
        if let Some(db) = self.vulndb.as_mut()
            && db.is_relative()
        {
            *db = base.join(&*db);
        }
        if let Some(ca) = self.mailbox.as_mut().and_then(|m| m.ca_file.as_mut())
            && ca.is_relative()
        {
            *ca = base.join(&*ca);
        }
        if let Some(rest) = self.database_url.strip_prefix("sqlite://") {
            let (file, query) = rest
                .split_once('?')
                .map_or((rest, None), |(f, q)| (f, Some(q)));
            if !file.starts_with('/') && !file.starts_with(":memory:") {
                let joined = base.join(file);
                self.database_url = format!(
                    "sqlite://{}{}",
                    joined.display(),
                    query.map(|q| format!("?{q}")).unwrap_or_default()
                );
            }
        }
    }

    /// The file's text, with comments explaining each key.
    pub fn to_file_text(&self) -> String {
        format!(
            "# embargo configuration. Every key can be overridden by an environment\n\
             # variable: EMBARGO_LISTEN, EMBARGO_DATABASE_URL, EMBARGO_KEY_FILE,\n\
             # EMBARGO_PUBLIC_URL, EMBARGO_MAX_BODY_BYTES, EMBARGO_SESSION_HOURS,\n\
             # EMBARGO_LOG_FORMAT. Relative paths are relative to this file.\n\n\
             # Address and port to listen on.\nlisten = {listen}\n\n\
             # sqlite://PATH for the embedded store, or postgres://USER@HOST/DB for a shared one.\n\
             database_url = {db}\n\n\
             # Encryption keys for report contents. Keep this file secret and back it up\n\
             # separately from the database: without it, reports cannot be read.\n\
             key_file = {key}\n\n\
             # The address people reach embargo at. With https://, cookies are marked Secure.\n\
             public_url = {public}\n\n\
             # Largest request body accepted, in bytes.\nmax_body_bytes = {max}\n\n\
             # How long a login lasts, in hours.\nsession_hours = {hours}\n\n\
             # Log format: \"text\" or \"json\".\nlog_format = \"{format}\"\n\n\
             # Security policies: files (check them with `embargo policy check FILE`) or\n\
             # presets (`embargo policy presets`). One may apply to every product; the\n\
             # others name theirs in applies_to.products.\npolicies = {policies}\n\n\
             # How often the clocks are checked for warnings and breaches, in seconds.\n\
             escalation_interval_seconds = {interval}\n\n\
             # Delivery of email and webhooks: the lease a server holds on a message it\n\
             # is sending (longer than the timeout by 2 s at least), how long a receiver\n\
             # or the SMTP server may take, the first retry delay (doubling each time),\n\
             # and the attempts before a message is dead.\n\
             delivery_lease_seconds = {lease}\n\
             delivery_timeout_seconds = {timeout}\n\
             delivery_retry_seconds = {retry}\n\
             delivery_max_attempts = {attempts}\n\n\
             # The hour (UTC) at which daily digests go out.\ndigest_hour = {digest}\n\n\
             # Noise control at the public intake: reports per client address and per\n\
             # reporter contact per hour; behind_proxy trusts X-Forwarded-For for the address.\n\
             intake_per_address_per_hour = {per_address}\n\
             intake_per_contact_per_hour = {per_contact}\n\
             behind_proxy = {proxy}\n\n\
             # Files a report or message may carry: the size of each, in bytes, and how\n\
             # many (0 turns attachments off).\n\
             attachment_max_bytes = {attachment_bytes}\n\
             attachment_max_count = {attachment_count}\n\n\
             # Email goes out through an SMTP server (set the password with\n\
             # EMBARGO_SMTP_PASSWORD rather than here):\n\
             # [smtp]\n\
             # host = \"smtp.example.org\"\n\
             # port = 587\n\
             # security = \"starttls\"   # or \"tls\" (port 465), or \"none\" for a local relay\n\
             # username = \"embargo\"\n\
             # from = \"Security team <security@example.org>\"\n\n\
             # Reports sent to the security mailbox become cases (set the password with\n\
             # EMBARGO_MAILBOX_PASSWORD):\n\
             # [mailbox]\n\
             # host = \"imap.example.org\"\n\
             # port = 993\n\
             # security = \"tls\"        # or \"starttls\" (port 143), or \"none\" for a local server\n\
             # username = \"security@example.org\"\n\
             # folder = \"INBOX\"\n\
             # poll_seconds = 60\n\
             # product = \"unspecified\"  # filed under this product until triage\n",
            listen = toml::Value::String(self.listen.clone()),
            db = toml::Value::String(self.database_url.clone()),
            key = toml::Value::String(self.key_file.display().to_string()),
            public = toml::Value::String(self.public_url.clone()),
            max = self.max_body_bytes,
            hours = self.session_hours,
            policies = toml::Value::Array(
                self.policies
                    .iter()
                    .cloned()
                    .map(toml::Value::String)
                    .collect()
            ),
            interval = self.escalation_interval_seconds,
            lease = self.delivery_lease_seconds,
            timeout = self.delivery_timeout_seconds,
            retry = self.delivery_retry_seconds,
            attempts = self.delivery_max_attempts,
            digest = self.digest_hour,
            per_address = self.intake_per_address_per_hour,
            per_contact = self.intake_per_contact_per_hour,
            proxy = self.behind_proxy,
            attachment_bytes = self.attachment_max_bytes,
            attachment_count = self.attachment_max_count,
            format = match self.log_format {
                LogFormat::Text => "text",
                LogFormat::Json => "json",
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_text(
            text,
            Path::new("/etc/embargo/embargo.toml"),
            env.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())),
        )
    }

    const MINIMAL: &str = "database_url = \"sqlite://data/e.db\"\nkey_file = \"data/keys\"\n";

    #[test]
    fn written_file_reads_back_with_paths_resolved() {
        let c = Config::new_installation("embargo-data", None);
        let back = parse(&c.to_file_text(), &[]).unwrap();
        assert_eq!(
            back.database_url,
            "sqlite:///etc/embargo/embargo-data/embargo.db"
        );
        assert_eq!(
            back.key_file,
            PathBuf::from("/etc/embargo/embargo-data/keys")
        );
        assert_eq!(back.listen, "127.0.0.1:8080");
    }

    #[test]
    fn unknown_key_is_named() {
        let err = parse(&format!("{MINIMAL}listne = \"0.0.0.0:1\"\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("listne"), "{err}");
        assert!(err.contains("embargo.toml"), "{err}");
    }

    #[test]
    fn bad_values_are_named() {
        let err = parse(&format!("{MINIMAL}listen = \"everywhere\"\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen"), "{err}");
        let err = parse(&format!("{MINIMAL}max_body_bytes = \"big\"\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_body_bytes"), "{err}");
        let err = parse("key_file = \"k\"\n", &[]).unwrap_err().to_string();
        assert!(err.contains("database_url"), "{err}");
        let err = parse("database_url = \"mysql://x\"\nkey_file = \"k\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("database_url"), "{err}");
    }

    #[test]
    fn smtp_settings_and_the_password_from_the_environment() {
        let text =
            format!("{MINIMAL}[smtp]\nhost = \"mail.example.org\"\nfrom = \"s@example.org\"\n");
        let c = parse(&text, &[("EMBARGO_SMTP_PASSWORD", "hunter2hunter2")]).unwrap();
        let smtp = c.smtp.clone().unwrap();
        assert_eq!(
            (smtp.port, smtp.security.as_str(), smtp.password.as_deref()),
            (587, "starttls", Some("hunter2hunter2"))
        );
        assert!(
            !format!("{smtp:?}").contains("hunter2"),
            "the password never prints"
        );
        let err = parse(MINIMAL, &[("EMBARGO_SMTP_PASSWORD", "x")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("no [smtp] section"), "{err}");
        let err = parse(&text.replace("from =", "security = \"ssl3\"\nfrom ="), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("smtp.security"), "{err}");
        let err = parse(&format!("{MINIMAL}delivery_max_attempts = 0\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("delivery_max_attempts"), "{err}");
    }

    #[test]
    fn mailbox_settings_and_the_password_from_the_environment() {
        let text = format!(
            "{MINIMAL}attachment_max_bytes = 2048\n[mailbox]\nhost = \"imap.example.org\"\nusername = \"security@example.org\"\n"
        );
        let err = parse(&text, &[]).unwrap_err().to_string();
        assert!(err.contains("mailbox.password"), "{err}");
        let c = parse(&text, &[("EMBARGO_MAILBOX_PASSWORD", "imap-secret-1")]).unwrap();
        let m = c.mailbox.clone().unwrap();
        assert_eq!(
            (
                m.port,
                m.security.as_str(),
                m.folder.as_str(),
                m.poll_seconds
            ),
            (993, "tls", "INBOX", 60)
        );
        assert_eq!(c.attachment_max_bytes, 2048);
        assert!(!format!("{m:?}").contains("imap-secret-1"), "never printed");
        let err = parse(
            &text.replace("username", "security = \"ssl\"\nusername"),
            &[("EMBARGO_MAILBOX_PASSWORD", "p")],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("mailbox.security"), "{err}");
    }

    #[test]
    fn environment_overrides_and_typos() {
        let c = parse(
            MINIMAL,
            &[
                ("EMBARGO_LISTEN", "0.0.0.0:9000"),
                ("EMBARGO_MAX_BODY_BYTES", "2048"),
                ("EMBARGO_TEST_POSTGRES_URL", "x"),
                ("PATH", "/bin"),
            ],
        )
        .unwrap();
        assert_eq!(
            (c.listen.as_str(), c.max_body_bytes),
            ("0.0.0.0:9000", 2048)
        );
        let err = parse(MINIMAL, &[("EMBARGO_DATABSE_URL", "x")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("EMBARGO_DATABSE_URL"), "{err}");
        let err = parse(MINIMAL, &[("EMBARGO_SESSION_HOURS", "many")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("EMBARGO_SESSION_HOURS"), "{err}");
    }
}
