//! The first hour: what a new installation still lacks before it keeps its
//! promises (email that arrives, real contacts in the policy, a public https
//! address, a product, backups, second factors for admins), each with where
//! it is fixed; the test email; and the rule that nothing is published under
//! a plain-http public address.

use embargo_core::Instant;
use embargo_core::auth::Role;
use embargo_core::notify::Delivery;
use embargo_store::{BACKUPS_CONFIRMED, LAST_BACKUP, OutboxState};
use serde::Serialize;

use crate::app::when;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The outbox kind of a setup test email.
pub const TEST_EMAIL_KIND: &str = "setup.test_email";
/// A backup older than this no longer counts as "backups are taken".
const BACKUP_FRESH_DAYS: i64 = 7;

/// One line of the checklist.
#[derive(Debug, Clone, Serialize)]
pub struct SetupItem {
    pub id: &'static str,
    pub title: &'static str,
    pub done: bool,
    /// What is the case now, in a sentence.
    pub detail: String,
    /// Where it is fixed (a desk page, or the README's section).
    pub fix: &'static str,
}

/// Whether `url` names this machine only (a trial, not a public address).
fn is_local(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or(url);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host
        .rsplit_once(':')
        .filter(|(h, port)| !h.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(h, _)| h);
    host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Publishing writes permanent URLs (CSAF `namespace`, document URLs,
/// Atom ids): refused under a plain-http public address, except on this
/// machine (a trial).
pub fn check_publishable(public_url: &str) -> ApiResult<()> {
    if public_url.starts_with("https://") || is_local(public_url) {
        return Ok(());
    }
    Err(ApiError::new(
        axum::http::StatusCode::CONFLICT,
        "public_url_not_https",
        format!(
            "public_url is {public_url}: set an https:// address (public_url in the configuration) before publishing; CSAF documents and their URLs are meant to be permanent"
        ),
    ))
}

/// Every item of the checklist, in the order a new team would do them.
pub async fn checklist(state: &AppState, now: Instant) -> ApiResult<Vec<SetupItem>> {
    let mut items = Vec::new();

    let test = state.store.last_delivery_of_kind(TEST_EMAIL_KIND).await?;
    let (done, detail) = match (&test, state.settings.sends_email) {
        (_, false) => (
            false,
            "No SMTP server is configured: reporters and the team get no email, and deliveries wait.".to_owned(),
        ),
        (None, true) => (
            false,
            "An SMTP server is configured; send a test email to see that mail arrives.".to_owned(),
        ),
        (Some(d), true) => match d.state {
            OutboxState::Delivered => (true, format!("A test email was delivered ({}).", when(d.delivered_at.unwrap_or(d.created_at)))),
            OutboxState::Dead => (false, format!("The test email failed: {}.", d.last_error.clone().unwrap_or_default())),
            _ => (false, format!("A test email is on its way{}.", d.last_error.as_deref().map(|e| format!(" (last try: {e})")).unwrap_or_default())),
        },
    };
    items.push(SetupItem {
        id: "email",
        title: "Email delivery configured and tested",
        done,
        detail,
        fix: "#setup-email",
    });

    let example: Vec<String> = state
        .settings
        .policies
        .all()
        .iter()
        .flat_map(|p| p.organization.contacts.iter())
        .filter(|c| c.contains("example.org") || c.contains("example.com"))
        .cloned()
        .collect();
    items.push(SetupItem {
        id: "contacts",
        title: "The policy's contacts are yours",
        done: example.is_empty(),
        detail: if example.is_empty() {
            "No contact in the policies points at an example domain.".to_owned()
        } else {
            format!(
                "Still the example's: {}. security.txt and the report form show them.",
                example.join(", ")
            )
        },
        fix: "/policy",
    });

    let url = &state.settings.public_url;
    let https = url.starts_with("https://");
    items.push(SetupItem {
        id: "public_url",
        title: "The public address is https",
        done: https,
        detail: if https {
            format!("Published documents point at {url}.")
        } else if is_local(url) {
            format!("{url} is fine for a trial; publishing needs an https:// public_url.")
        } else {
            format!("{url} is not https: publishing is refused until public_url is.")
        },
        fix: "#setup-public-url",
    });

    let products = state.store.products().await?.len();
    items.push(SetupItem {
        id: "products",
        title: "At least one product",
        done: products > 0,
        detail: if products > 0 {
            format!(
                "{products} product{}.",
                if products == 1 { "" } else { "s" }
            )
        } else {
            "No product yet: SBOMs, findings and release VEX need one.".to_owned()
        },
        fix: "/desk/products",
    });

    let backup = state.store.fact(LAST_BACKUP).await?;
    let confirmed = state.store.fact(BACKUPS_CONFIRMED).await?;
    let (done, detail) = match (backup, confirmed) {
        (_, Some((who, at))) => (
            true,
            format!("{who} confirmed backups are taken outside embargo ({}).", when(at)),
        ),
        (Some((file, at)), None) if (now - at).num_days() < BACKUP_FRESH_DAYS => (
            true,
            format!("Last `embargo backup`: {} ({file}).", when(at)),
        ),
        (Some((_, at)), None) => (
            false,
            format!("The last `embargo backup` is from {}: more than a week ago.", when(at)),
        ),
        (None, None) => (
            false,
            "No backup recorded: schedule `embargo backup FILE` (SQLite) or pg_dump, then confirm it here.".to_owned(),
        ),
    };
    items.push(SetupItem {
        id: "backups",
        title: "Backups are taken",
        done,
        detail,
        fix: "#setup-backups",
    });

    let with_factor = state.store.members_with_second_factor().await?;
    let without: Vec<String> = state
        .store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u.role == Role::Admin && !u.disabled && !with_factor.contains(&u.id))
        .map(|u| u.username)
        .collect();
    items.push(SetupItem {
        id: "second_factor",
        title: "Every admin has a second factor",
        done: without.is_empty(),
        detail: if without.is_empty() {
            "Every admin signs in with a code from an authenticator app.".to_owned()
        } else {
            format!("Without one: {}.", without.join(", "))
        },
        fix: "/desk/account#second-factor",
    });
    Ok(items)
}

/// Queues a test email to `to`; the checklist shows how it went.
pub async fn send_test_email(
    state: &AppState,
    caller: &Caller,
    to: &str,
    now: Instant,
) -> ApiResult<()> {
    let to = to.trim();
    if to.len() > 320 || !to.contains('@') || to.contains(char::is_whitespace) {
        return Err(ApiError::invalid(
            "to",
            "to: an email address to send the test to",
        ));
    }
    if !state.settings.sends_email {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "email_not_configured",
            "no SMTP server is configured: set [smtp] in the configuration (see the README) and restart",
        ));
    }
    let text = format!(
        "This is a test email from embargo, sent by {} at {}.\nIf you read this, email delivery works.\n",
        caller.user.username,
        when(now)
    );
    let delivery = Delivery::Email {
        to: to.to_owned(),
        subject: "embargo: test email".to_owned(),
        html: format!("<p>{}</p>", embargo_core::publish::escape_html(&text)),
        text,
        encrypted: false,
        attachments: Vec::new(),
    };
    let key = format!("setup-test-{}", now.timestamp_millis());
    state
        .store
        .queue_deliveries(&[(key, TEST_EMAIL_KIND, delivery)], now)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_this_machine_may_publish() {
        assert!(check_publishable("https://security.example.org").is_ok());
        assert!(check_publishable("http://127.0.0.1:8080").is_ok());
        assert!(check_publishable("http://localhost:3000/").is_ok());
        assert!(check_publishable("http://[::1]:8080").is_ok());
        let e = check_publishable("http://security.example.org").unwrap_err();
        assert_eq!(e.code, "public_url_not_https");
        assert!(check_publishable("http://localhost.example.org").is_err());
        assert!(check_publishable("http://127.0.0.1.example.org").is_err());
    }
}
