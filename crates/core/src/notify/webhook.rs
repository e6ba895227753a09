//! Webhooks: subscriptions and their filters, the body each format
//! receives, and the HMAC signature a receiver checks.

use std::str::FromStr;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;
use utoipa::ToSchema;

use super::{Notice, NoticeKind};
use crate::case::Severity;
use crate::chain::hex;

/// The body shape a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// embargo's versioned JSON payload.
    Embargo,
    /// Slack incoming webhooks.
    Slack,
    /// Microsoft Teams incoming webhooks (MessageCard).
    Teams,
    /// Mattermost incoming webhooks.
    Mattermost,
}

impl WebhookFormat {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Embargo => "embargo",
            WebhookFormat::Slack => "slack",
            WebhookFormat::Teams => "teams",
            WebhookFormat::Mattermost => "mattermost",
        }
    }
}

impl FromStr for WebhookFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "embargo" => Ok(WebhookFormat::Embargo),
            "slack" => Ok(WebhookFormat::Slack),
            "teams" => Ok(WebhookFormat::Teams),
            "mattermost" => Ok(WebhookFormat::Mattermost),
            _ => Err(format!(
                "unknown format `{s}`; expected embargo, slack, teams or mattermost"
            )),
        }
    }
}

/// A webhook subscription (its secret is held apart, sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub format: WebhookFormat,
    /// Event kinds to send; empty means all.
    pub kinds: Vec<NoticeKind>,
    /// Products to send about; empty means all.
    pub products: Vec<String>,
    /// Only cases at least this severe (cases without a severity are not sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<Severity>,
    pub disabled: bool,
}

impl Webhook {
    #[must_use]
    pub fn wants(&self, notice: &Notice) -> bool {
        !self.disabled
            && (self.kinds.is_empty() || self.kinds.contains(&notice.kind))
            && (self.products.is_empty() || self.products.contains(&notice.product))
            && self
                .min_severity
                .is_none_or(|min| notice.severity.is_some_and(|s| s >= min))
    }
}

/// The body for a webhook of `format`.
#[must_use]
pub fn webhook_body(notice: &Notice, format: WebhookFormat, delivery_id: &str) -> String {
    let text = notice.headline();
    let value = match format {
        WebhookFormat::Embargo => notice.webhook_payload(delivery_id),
        WebhookFormat::Slack => json!({ "text": text }),
        WebhookFormat::Mattermost => json!({ "text": text, "username": "embargo" }),
        WebhookFormat::Teams => json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": text,
            "title": format!("embargo: {}", notice.kind.as_str()),
            "text": text,
        }),
    };
    value.to_string()
}

/// The header that signs a webhook body: `t=UNIX,v1=HEX` where HEX is
/// HMAC-SHA256 over `UNIX.BODY` with the subscription's secret.
pub const SIGNATURE_HEADER: &str = "embargo-signature";

/// The header that carries the delivery's idempotency key.
pub const DELIVERY_HEADER: &str = "embargo-delivery";

#[must_use]
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    format!("t={timestamp},v1={}", mac(secret, timestamp, body))
}

fn mac(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC accepts keys of any length; this cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable_hmac());
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body.as_bytes());
    hex(&m.finalize().into_bytes())
}

#[allow(clippy::panic)]
fn unreachable_hmac() -> Hmac<Sha256> {
    panic!("HMAC-SHA256 takes keys of any length")
}

/// Why a signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature is {0} seconds away from now, outside the replay window")]
    Stale(i64),
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Verifies a signature header as a receiver would: within `window_seconds`
/// of `now`, and matching in constant time.
pub fn verify(
    secret: &str,
    header: &str,
    body: &str,
    now: i64,
    window_seconds: i64,
) -> Result<(), SignatureError> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = Some(v),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return Err(SignatureError::Malformed);
    };
    if (now - t).abs() > window_seconds {
        return Err(SignatureError::Stale(now - t));
    }
    let expected = mac(secret, t, body);
    let same = expected.len() == v1.len()
        && expected
            .bytes()
            .zip(v1.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}
