//! The organization's OpenPGP signing key, for the CSAF provider's detached
//! signatures (`.asc`) and its published public key. An Ed25519 (EdDSA,
//! version 4) key, which every OpenPGP implementation in use verifies, GnuPG
//! 2.2 included. The secret key is kept sealed by the store.

use chacha20poly1305::aead::OsRng;
use pgp::composed::{
    ArmorOptions, Deserializable, DetachedSignature, KeyType, SecretKeyParamsBuilder,
    SignedSecretKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::types::{KeyDetails, KeyVersion, Password, Timestamp};

use crate::Instant;

/// A loaded signing key.
#[derive(Debug, Clone)]
pub struct SigningKey {
    secret: SignedSecretKey,
}

impl SigningKey {
    /// A new key for `user_id` (`Example Corp <security@example.org>`),
    /// created at `now`.
    pub fn generate(user_id: &str, now: Instant) -> Result<SigningKey, String> {
        let created =
            u32::try_from(now.timestamp()).map_err(|_| "a time before 1970 or after 2106")?;
        let params = SecretKeyParamsBuilder::default()
            .version(KeyVersion::V4)
            .key_type(KeyType::Ed25519Legacy)
            .can_sign(true)
            .can_certify(true)
            .primary_user_id(user_id.to_owned())
            .created_at(Timestamp::from_secs(created))
            .build()
            .map_err(|e| e.to_string())?;
        let secret = params.generate(OsRng).map_err(|e| e.to_string())?;
        Ok(SigningKey { secret })
    }

    /// Reads a key from its armored secret form ([`SigningKey::secret_armored`]).
    pub fn from_armored(text: &str) -> Result<SigningKey, String> {
        let (secret, _) =
            SignedSecretKey::from_armor_single(text.as_bytes()).map_err(|e| e.to_string())?;
        Ok(SigningKey { secret })
    }

    /// The secret key, armored: to be stored sealed, never shown.
    pub fn secret_armored(&self) -> Result<String, String> {
        self.secret
            .to_armored_string(ArmorOptions::default())
            .map_err(|e| e.to_string())
    }

    /// The public key, armored, for publication.
    pub fn public_armored(&self) -> Result<String, String> {
        self.secret
            .to_public_key()
            .to_armored_string(ArmorOptions::default())
            .map_err(|e| e.to_string())
    }

    /// The key's fingerprint in uppercase hex.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        format!("{:X}", self.secret.fingerprint())
    }

    /// A detached, armored signature over `data` (binary mode: the bytes as served).
    pub fn sign(&self, data: &[u8]) -> Result<String, String> {
        let signature = DetachedSignature::sign_binary_data(
            OsRng,
            &self.secret.primary_key,
            &Password::empty(),
            HashAlgorithm::Sha512,
            data,
        )
        .map_err(|e| e.to_string())?;
        signature
            .to_armored_string(ArmorOptions::default())
            .map_err(|e| e.to_string())
    }
}

/// Checks a detached, armored signature over `data` against an armored
/// public key; returns the key's fingerprint (uppercase hex).
pub fn verify_detached(
    public_armored: &str,
    signature: &str,
    data: &[u8],
) -> Result<String, String> {
    let (public, _) = pgp::composed::SignedPublicKey::from_armor_single(public_armored.as_bytes())
        .map_err(|e| format!("the public key cannot be read: {e}"))?;
    let (signature, _) = DetachedSignature::from_armor_single(signature.as_bytes())
        .map_err(|e| format!("the signature cannot be read: {e}"))?;
    signature
        .verify(&public, data)
        .map_err(|e| format!("the signature does not verify: {e}"))?;
    Ok(format!("{:X}", public.fingerprint()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_signs_and_reloads() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
            .unwrap()
            .to_utc();
        let key = SigningKey::generate("Example Corp <security@example.org>", now).unwrap();
        assert_eq!(key.fingerprint().len(), 40);
        let again = SigningKey::from_armored(&key.secret_armored().unwrap()).unwrap();
        assert_eq!(again.fingerprint(), key.fingerprint());
        let sig = key.sign(b"{\"document\": {}}").unwrap();
        assert!(sig.starts_with("-----BEGIN PGP SIGNATURE-----"));
        let (parsed, _) = DetachedSignature::from_armor_single(sig.as_bytes()).unwrap();
        let public = key.secret.to_public_key();
        assert!(parsed.verify(&public, b"{\"document\": {}}").is_ok());
        assert!(parsed.verify(&public, b"tampered").is_err());
        assert!(
            key.public_armored()
                .unwrap()
                .starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----")
        );
    }
}
