//! Team credentials: roles, password hashing, and random tokens.
//!
//! Passwords are low-entropy and hashed with Argon2id. Session ids and API
//! tokens are 256 random bits; for those a plain SHA-256 digest is enough to
//! make a stolen database useless (nobody can invert it or guess 2^256), and it
//! keeps lookup by digest a single indexed query.

use std::fmt;
use std::str::FromStr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chacha20poly1305::aead::{OsRng, rand_core::RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::case::DomainError;
use crate::chain::hex;

/// What a team member may do. Each role includes the ones before it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads cases.
    Viewer,
    /// Works cases: transitions, notes, severity.
    Responder,
    /// Manages users and everything else.
    Admin,
}

impl Role {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Responder => "responder",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "responder" => Ok(Role::Responder),
            "admin" => Ok(Role::Admin),
            _ => Err(DomainError::invalid(
                "role",
                "expected one of: viewer, responder, admin",
            )),
        }
    }
}

/// Checks a username: 1 to 64 characters of letters, digits, `.`, `_`, `-`, `@`.
pub fn validate_username(name: &str) -> Result<(), DomainError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "username",
            "must be 1 to 64 characters of letters, digits, '.', '_', '-' or '@'",
        ))
    }
}

/// Checks an email address enough to send to it: one `@`, a dotted domain,
/// no spaces or control characters, at most 254 characters.
pub fn validate_email(email: &str) -> Result<(), DomainError> {
    let ok = email.len() <= 254
        && !email.contains(|c: char| {
            c.is_whitespace() || c.is_control() || c == ',' || c == '<' || c == '>'
        })
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid("email", "is not an email address"))
    }
}

/// Checks a new password: 12 to 1024 characters.
pub fn validate_password(password: &str) -> Result<(), DomainError> {
    let n = password.chars().count();
    if n < 12 {
        return Err(DomainError::invalid(
            "password",
            "must be at least 12 characters",
        ));
    }
    if n > 1024 {
        return Err(DomainError::invalid(
            "password",
            "must be at most 1024 characters",
        ));
    }
    Ok(())
}

/// Hashes a password with Argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, DomainError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DomainError::invalid("password", format!("cannot be hashed: {e}")))
}

/// Whether `password` matches a PHC hash from [`hash_password`].
#[must_use]
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash that takes as long to check as a real one, for unknown usernames,
/// so login time does not reveal which usernames exist.
#[must_use]
pub fn dummy_password_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2Qw0gGzEE1pPfA/0z6LzSP5lO8n9VFBtEMbVHeIUkOM"
}

/// How many recovery codes a second factor comes with.
pub const RECOVERY_CODES: usize = 10;

/// A one-time recovery code: 80 random bits as four groups of four base32
/// characters (`ABCD-EFGH-JKLM-NPQR`), easy to write down.
#[must_use]
pub fn generate_recovery_code() -> String {
    let mut bytes = [0u8; 10];
    OsRng.fill_bytes(&mut bytes);
    let text = crate::totp::base32(&bytes);
    text.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// The digest a recovery code is kept and looked up as: case, spaces and
/// dashes do not matter. `None` when it cannot be one (a six-digit code).
#[must_use]
pub fn recovery_code_digest(code: &str) -> Option<String> {
    let normal: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (normal.len() == 16 && normal.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| token_digest(&format!("recovery:{normal}")))
}

/// A new random secret: `prefix` followed by 64 hex digits (256 bits).
#[must_use]
pub fn generate_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", hex(&bytes))
}

/// A readable random password for a generated first admin: 24 characters
/// from an alphabet without look-alikes (about 130 bits).
#[must_use]
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(24);
    while out.len() < 24 {
        let mut b = [0u8; 1];
        OsRng.fill_bytes(&mut b);
        // Rejection sampling keeps the choice uniform.
        let idx = usize::from(b[0]);
        if idx < ALPHABET.len() * (256 / ALPHABET.len()) {
            out.push(char::from(ALPHABET[idx % ALPHABET.len()]));
        }
    }
    out
}

/// The digest under which a random token is stored and looked up.
#[must_use]
pub fn token_digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_random_readable_and_forgiving_to_type() {
        let a = generate_recovery_code();
        let b = generate_recovery_code();
        assert_ne!(a, b);
        assert_eq!(a.len(), 19, "{a}");
        assert_eq!(a.matches('-').count(), 3);
        let digest = recovery_code_digest(&a).unwrap();
        assert_eq!(
            recovery_code_digest(&a.to_lowercase()),
            Some(digest.clone())
        );
        assert_eq!(recovery_code_digest(&a.replace('-', " ")), Some(digest));
        assert_eq!(
            recovery_code_digest("123456"),
            None,
            "a TOTP code is not one"
        );
        assert_eq!(recovery_code_digest("ABCD-EFGH-JKLM-NP!Q"), None);
    }

    #[test]
    fn password_hash_verifies_only_the_right_password() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(!verify_password("anything at all", dummy_password_hash()));
        assert!(PasswordHash::new(dummy_password_hash()).is_ok());
    }

    #[test]
    fn tokens_are_random_and_digests_stable() {
        let a = generate_token("emb_");
        assert_eq!(a.len(), 4 + 64);
        assert_ne!(a, generate_token("emb_"));
        assert_eq!(token_digest(&a), token_digest(&a));
        assert_ne!(token_digest(&a), a);
        let p = generate_password();
        assert_eq!(p.len(), 24);
        assert!(validate_password(&p).is_ok());
    }

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Role::Admin > Role::Responder && Role::Responder > Role::Viewer);
        assert_eq!("responder".parse::<Role>().unwrap(), Role::Responder);
        assert!("root".parse::<Role>().is_err());
        assert!(validate_username("alice.b-1@x").is_ok());
        assert!(validate_username("alice smith").is_err());
    }
}

/// A team member's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    /// Where notifications go; none means the user gets no email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub disabled: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// An API token's record; the token itself is shown once and never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub username: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}
