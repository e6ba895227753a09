//! Encryption at rest: XChaCha20-Poly1305 under a keyring kept in a file
//! outside the database.
//!
//! Every ciphertext is stored with the id of the key that sealed it, so
//! `embargo keys rotate` can add a key, re-encrypt everything under it and
//! leave the old one until nothing uses it. The associated data binds each
//! ciphertext to its place (a case, an event), so ciphertexts cannot be moved
//! between rows unnoticed.

use std::collections::BTreeMap;
use std::fmt;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload, rand_core::RngCore};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

use crate::chain::hex;

const NONCE_LEN: usize = 24;

/// Failures of the keyring and of decryption.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("key file line {line}: {message}")]
    KeyFile { line: usize, message: String },
    #[error("no key `{0}` in the key file; it is needed to read data sealed under it")]
    UnknownKey(String),
    #[error("decryption failed: the data was altered, moved, or sealed under another key")]
    Tampered,
    #[error("encryption failed")]
    Seal,
}

/// A ciphertext and the id of the key that sealed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    /// Nonce followed by ciphertext and tag.
    pub blob: Vec<u8>,
}

/// The encryption keys, one of them active for new data.
#[derive(Clone)]
pub struct Keyring {
    active: String,
    keys: BTreeMap<String, [u8; 32]>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("Keyring")
            .field("active", &self.active)
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Keyring {
    /// A keyring with one fresh random key.
    #[must_use]
    pub fn generate() -> Self {
        let mut ring = Keyring {
            active: String::new(),
            keys: BTreeMap::new(),
        };
        ring.add_key();
        ring
    }

    /// Adds a fresh random key and makes it the active one; returns its id.
    pub fn add_key(&mut self) -> String {
        let next = self
            .keys
            .keys()
            .filter_map(|id| id.strip_prefix('k')?.parse::<u32>().ok())
            .max()
            .unwrap_or(0)
            + 1;
        let id = format!("k{next}");
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        self.keys.insert(id.clone(), key);
        self.active.clone_from(&id);
        id
    }

    /// Removes a key that is not active; returns whether it was there.
    pub fn remove_key(&mut self, id: &str) -> bool {
        id != self.active && self.keys.remove(id).is_some()
    }

    #[must_use]
    pub fn active_id(&self) -> &str {
        &self.active
    }

    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// Encrypts `plaintext` under the active key, bound to `context`.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Sealed, CryptoError> {
        let key = self
            .keys
            .get(&self.active)
            .ok_or_else(|| CryptoError::UnknownKey(self.active.clone()))?;
        let cipher = XChaCha20Poly1305::new(Key::from_slice(key));
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ct = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .map_err(|_| CryptoError::Seal)?;
        let mut blob = Vec::with_capacity(NONCE_LEN + ct.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ct);
        Ok(Sealed {
            key_id: self.active.clone(),
            blob,
        })
    }

    /// Decrypts what [`Keyring::seal`] produced for the same `context`.
    pub fn open(&self, key_id: &str, blob: &[u8], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let key = self
            .keys
            .get(key_id)
            .ok_or_else(|| CryptoError::UnknownKey(key_id.to_owned()))?;
        if blob.len() < NONCE_LEN {
            return Err(CryptoError::Tampered);
        }
        let (nonce, ct) = blob.split_at(NONCE_LEN);
        XChaCha20Poly1305::new(Key::from_slice(key))
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: context,
                },
            )
            .map_err(|_| CryptoError::Tampered)
    }

    /// The key file's text: the active key id and every key in hex.
    #[must_use]
    pub fn to_file_text(&self) -> String {
        let mut out = String::from(
            "# embargo encryption keys. Keep this file secret (mode 0600) and back it up\n\
             # apart from the database: without it, encrypted reports cannot be read.\n",
        );
        out.push_str(&format!("active {}\n", self.active));
        for (id, key) in &self.keys {
            out.push_str(&format!("key {id} {}\n", hex(key)));
        }
        out
    }

    /// Parses a key file written by [`Keyring::to_file_text`].
    pub fn from_file_text(text: &str) -> Result<Self, CryptoError> {
        let mut active = None;
        let mut keys = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let err = |message: &str| CryptoError::KeyFile {
                line: line_no,
                message: message.to_owned(),
            };
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.as_slice() {
                ["active", id] => active = Some((*id).to_owned()),
                ["key", id, material] => {
                    let key =
                        parse_key(material).ok_or_else(|| err("a key must be 64 hex digits"))?;
                    if keys.insert((*id).to_owned(), key).is_some() {
                        return Err(err("the key id appears twice"));
                    }
                }
                _ => return Err(err("expected `active ID` or `key ID HEX`")),
            }
        }
        let active = active.ok_or(CryptoError::KeyFile {
            line: 0,
            message: "no `active` line".into(),
        })?;
        if !keys.contains_key(&active) {
            return Err(CryptoError::UnknownKey(active));
        }
        Ok(Keyring { active, keys })
    }
}

fn parse_key(material: &str) -> Option<[u8; 32]> {
    let bytes = material.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let hi = char::from(pair[0]).to_digit(16)?;
        let lo = char::from(pair[1]).to_digit(16)?;
        key[i] = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_context_binding() {
        let ring = Keyring::generate();
        let sealed = ring.seal(b"secret report", b"case:1").unwrap();
        assert!(!sealed.blob.windows(6).any(|w| w == b"secret"));
        assert_eq!(
            ring.open(&sealed.key_id, &sealed.blob, b"case:1").unwrap(),
            b"secret report"
        );
        assert_eq!(
            ring.open(&sealed.key_id, &sealed.blob, b"case:2"),
            Err(CryptoError::Tampered)
        );
        let mut flipped = sealed.blob.clone();
        flipped[30] ^= 1;
        assert_eq!(
            ring.open(&sealed.key_id, &flipped, b"case:1"),
            Err(CryptoError::Tampered)
        );
    }

    #[test]
    fn key_file_round_trips_and_rotation_keeps_old_keys_readable() {
        let mut ring = Keyring::generate();
        let old = ring.seal(b"x", b"c").unwrap();
        let new_id = ring.add_key();
        assert_eq!(new_id, "k2");
        let parsed = Keyring::from_file_text(&ring.to_file_text()).unwrap();
        assert_eq!(parsed.active_id(), "k2");
        assert_eq!(parsed.open(&old.key_id, &old.blob, b"c").unwrap(), b"x");
        assert_eq!(parsed.seal(b"y", b"c").unwrap().key_id, "k2");
        assert!(!format!("{parsed:?}").contains(&ring.to_file_text()[200..220]));
    }

    #[test]
    fn key_file_errors_name_the_line() {
        let err = Keyring::from_file_text("active k1\nkey k1 abc\n").unwrap_err();
        assert_eq!(
            err,
            CryptoError::KeyFile {
                line: 2,
                message: "a key must be 64 hex digits".into()
            }
        );
        assert!(matches!(
            Keyring::from_file_text(&format!("active k9\nkey k1 {}\n", "0".repeat(64))),
            Err(CryptoError::UnknownKey(id)) if id == "k9"
        ));
    }
}
