//! OpenPGP for email: checking a public key that a reporter or a team member
//! gives, and encrypting a message to it (PGP/MIME, RFC 3156).

/// Checks an armored OpenPGP public key that email can be encrypted to;
/// returns its fingerprint.
pub fn check_public_key(armored: &str) -> Result<String, String> {
    use pgp::composed::{Deserializable, SignedPublicKey};
    use pgp::types::KeyDetails;
    if armored.len() > 64 * 1024 {
        return Err("the key is larger than 64 KiB".into());
    }
    let (key, _) = SignedPublicKey::from_armor_single(armored.as_bytes())
        .map_err(|e| format!("not an armored OpenPGP public key: {e}"))?;
    encryption_subkey(&key).ok_or("the key has no subkey for encryption")?;
    Ok(format!("{}", key.fingerprint()))
}

fn encryption_subkey(
    key: &pgp::composed::SignedPublicKey,
) -> Option<&pgp::composed::SignedPublicSubKey> {
    key.public_subkeys.iter().find(|s| {
        s.signatures
            .iter()
            .any(|sig| sig.key_flags().encrypt_comms())
    })
}

/// Encrypts `plaintext` to an armored public key's encryption subkey, as an
/// armored OpenPGP message (for a PGP/MIME email, RFC 3156).
pub fn encrypt_to(armored_key: &str, plaintext: &str) -> Result<String, String> {
    use chacha20poly1305::aead::OsRng;
    use pgp::composed::{ArmorOptions, Deserializable, MessageBuilder, SignedPublicKey};
    use pgp::crypto::sym::SymmetricKeyAlgorithm;
    let (key, _) =
        SignedPublicKey::from_armor_single(armored_key.as_bytes()).map_err(|e| e.to_string())?;
    let subkey = encryption_subkey(&key).ok_or("the key has no subkey for encryption")?;
    let mut builder = MessageBuilder::from_bytes("", plaintext.as_bytes().to_vec())
        .seipd_v1(OsRng, SymmetricKeyAlgorithm::AES256);
    builder
        .encrypt_to_key(OsRng, &subkey)
        .map_err(|e| e.to_string())?;
    builder
        .to_armored_string(OsRng, ArmorOptions::default())
        .map_err(|e| e.to_string())
}
