//! Time-based one-time passwords (RFC 6238, HMAC-SHA1, 6 digits, 30-second
//! steps): the optional second factor of a team member's login. Written here
//! because it is forty lines over `hmac` and `sha1`, and the crates that wrap
//! it pull in QR-code and image stacks embargo does not need.

use chacha20poly1305::aead::{OsRng, rand_core::RngCore};
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::Instant;

/// Seconds per step.
pub const STEP_SECONDS: i64 = 30;
/// How many steps either side of now a code may come from (clock skew).
pub const SKEW_STEPS: i64 = 1;

/// A new 160-bit shared secret (the size RFC 4226 recommends).
#[must_use]
pub fn generate_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    OsRng.fill_bytes(&mut secret);
    secret
}

/// The HOTP value of `secret` at `counter` (RFC 4226 section 5.3), 6 digits.
#[must_use]
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    // HMAC takes keys of any length; this cannot fail.
    let Ok(mut mac) = <Hmac<Sha1> as Mac>::new_from_slice(secret) else {
        return u32::MAX;
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    binary % 1_000_000
}

/// The step `now` falls in.
#[must_use]
pub fn step_at(now: Instant) -> i64 {
    now.timestamp().div_euclid(STEP_SECONDS)
}

/// The 6-digit code for `now`, zero-padded.
#[must_use]
pub fn code_at(secret: &[u8], now: Instant) -> String {
    format!(
        "{:06}",
        hotp(secret, u64::try_from(step_at(now)).unwrap_or(0))
    )
}

/// Checks `code` against the steps around `now`. Returns the step it matched,
/// which must be later than `last_step` (the step of the last code accepted),
/// so that a code seen over someone's shoulder cannot be used again.
#[must_use]
pub fn verify(secret: &[u8], code: &str, now: Instant, last_step: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let wanted: u32 = code.parse().ok()?;
    let now_step = step_at(now);
    let mut found = None;
    // Every candidate is computed, so the time taken does not tell which matched.
    for step in (now_step - SKEW_STEPS)..=(now_step + SKEW_STEPS) {
        let Ok(counter) = u64::try_from(step) else {
            continue;
        };
        if hotp(secret, counter) == wanted && step > last_step && found.is_none() {
            found = Some(step);
        }
    }
    found
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding: how authenticator apps take a secret.
#[must_use]
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The `otpauth://` URI an authenticator app imports (as text or QR code).
#[must_use]
pub fn provisioning_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period={STEP_SECONDS}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn hotp_matches_rfc_4226_appendix_d() {
        let expected = [
            755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871,
            520_489,
        ];
        for (counter, want) in expected.iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, counter as u64), *want, "counter {counter}");
        }
    }

    #[test]
    fn totp_matches_rfc_6238_appendix_b_sha1() {
        // The RFC lists 8 digits; 6 digits are the last six of the same value.
        let cases = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ];
        for (t, eight) in cases {
            let now = chrono::Utc.timestamp_opt(t, 0).unwrap();
            assert_eq!(code_at(RFC_SECRET, now), eight[2..], "t = {t}");
        }
    }

    #[test]
    fn verify_accepts_one_step_of_skew_and_refuses_reuse() {
        let now = chrono::Utc.timestamp_opt(1_234_567_890, 0).unwrap();
        let step = step_at(now);
        let code = code_at(RFC_SECRET, now);
        assert_eq!(verify(RFC_SECRET, &code, now, 0), Some(step));
        assert_eq!(verify(RFC_SECRET, &code, now, step), None, "reused");
        let earlier = code_at(RFC_SECRET, now - chrono::Duration::seconds(30));
        assert_eq!(verify(RFC_SECRET, &earlier, now, 0), Some(step - 1));
        let far = code_at(RFC_SECRET, now - chrono::Duration::seconds(90));
        assert_eq!(verify(RFC_SECRET, &far, now, 0), None, "three steps old");
        for bad in ["", "12345", "1234567", "abcdef", "12 34 5x"] {
            assert_eq!(verify(RFC_SECRET, bad, now, 0), None, "{bad:?}");
        }
        assert_eq!(
            verify(
                RFC_SECRET,
                &format!("{} {}", &code[..3], &code[3..]),
                now,
                0
            ),
            Some(step),
            "spaces are ignored"
        );
    }

    #[test]
    fn base32_matches_rfc_4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32(input.as_bytes()), want);
        }
        assert_eq!(base32(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let uri = provisioning_uri("ACME Security", "vic@example.org", RFC_SECRET);
        assert!(
            uri.starts_with("otpauth://totp/ACME%20Security:vic%40example.org?secret=GEZDGNBV")
        );
    }
}
