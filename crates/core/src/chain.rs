//! The hash chain over every event in the store.
//!
//! Each event stores the hash of its predecessor, and its own hash covers its
//! sequence number, case, time, actor, kind, public payload, whether it carries
//! an encrypted part, and that predecessor hash. Editing, deleting or
//! reordering an event therefore breaks the chain at that event, and
//! [`Verifier`] names the first one that does not fit.
//!
//! Encrypted parts are not hashed (key rotation re-encrypts them); they are
//! bound to their event instead by the AEAD's associated data, so a swapped or
//! edited ciphertext fails to decrypt and verification reports it too.

use sha2::{Digest, Sha256};

/// The predecessor hash of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of a stored event that the chain covers.
#[derive(Debug, Clone, Copy)]
pub struct Link<'a> {
    pub seq: i64,
    pub case_ref: &'a str,
    pub at_millis: i64,
    pub actor: &'a str,
    pub kind: &'a str,
    /// The public payload exactly as stored (JSON text).
    pub payload: &'a str,
    pub has_sealed: bool,
    pub prev_hash: &'a str,
}

impl Link<'_> {
    /// The event's hash, lowercase hex SHA-256 over an unambiguous encoding
    /// (every field length-prefixed) under a version tag.
    #[must_use]
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        field(b"embargo-event-v1");
        field(&self.seq.to_le_bytes());
        field(self.case_ref.as_bytes());
        field(&self.at_millis.to_le_bytes());
        field(self.actor.as_bytes());
        field(self.kind.as_bytes());
        field(self.payload.as_bytes());
        field(&[u8::from(self.has_sealed)]);
        field(self.prev_hash.as_bytes());
        hex(&h.finalize())
    }
}

/// Lowercase hex of bytes.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// Why the chain is broken, naming the first event that does not fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("event {seq} ({case_ref}) has been edited: its hash does not match its contents")]
    Edited { seq: i64, case_ref: String },
    #[error(
        "event {seq} ({case_ref}) is out of place: it does not link to event {expected_prev} (events were deleted, reordered or rewritten)"
    )]
    Broken {
        seq: i64,
        case_ref: String,
        expected_prev: i64,
    },
    #[error("event {seq} ({case_ref}): {detail}")]
    Sealed {
        seq: i64,
        case_ref: String,
        detail: String,
    },
    #[error(
        "the chain ends at event {last} but the store's head says {head}: events at the end were deleted or added outside embargo"
    )]
    Head { last: i64, head: i64 },
}

/// Walks events in sequence order and stops at the first that breaks the chain.
#[derive(Debug)]
pub struct Verifier {
    last_seq: i64,
    last_hash: String,
    checked: u64,
}

impl Default for Verifier {
    fn default() -> Self {
        Self {
            last_seq: 0,
            last_hash: GENESIS.to_owned(),
            checked: 0,
        }
    }
}

impl Verifier {
    /// Checks the next event; `stored_hash` is the hash the store holds for it.
    pub fn check(&mut self, link: &Link<'_>, stored_hash: &str) -> Result<(), ChainError> {
        if link.seq != self.last_seq + 1 || link.prev_hash != self.last_hash {
            return Err(ChainError::Broken {
                seq: link.seq,
                case_ref: link.case_ref.to_owned(),
                expected_prev: self.last_seq,
            });
        }
        if link.hash() != stored_hash {
            return Err(ChainError::Edited {
                seq: link.seq,
                case_ref: link.case_ref.to_owned(),
            });
        }
        self.last_seq = link.seq;
        stored_hash.clone_into(&mut self.last_hash);
        self.checked += 1;
        Ok(())
    }

    /// Checks the end of the chain against the store's recorded head.
    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<u64, ChainError> {
        if head_seq != self.last_seq || head_hash != self.last_hash {
            return Err(ChainError::Head {
                last: self.last_seq,
                head: head_seq,
            });
        }
        Ok(self.checked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<(String, String, String)> {
        // (payload, prev, hash)
        let mut prev = GENESIS.to_owned();
        let mut out = Vec::new();
        for seq in 1..=n {
            let payload = format!("{{\"n\":{seq}}}");
            let hash = link(seq, &payload, &prev).hash();
            out.push((payload, prev.clone(), hash.clone()));
            prev = hash;
        }
        out
    }

    fn link<'a>(seq: i64, payload: &'a str, prev: &'a str) -> Link<'a> {
        Link {
            seq,
            case_ref: "EMB-2026-0001",
            at_millis: 1_700_000_000_000 + seq,
            actor: "user:alice",
            kind: "note_added",
            payload,
            has_sealed: true,
            prev_hash: prev,
        }
    }

    fn verify(events: &[(i64, String, String, String)]) -> Result<u64, ChainError> {
        let mut v = Verifier::default();
        for (seq, payload, prev, hash) in events {
            v.check(&link(*seq, payload, prev), hash)?;
        }
        let (seq, hash) = events
            .last()
            .map_or((0, GENESIS.to_owned()), |e| (e.0, e.3.clone()));
        v.finish(seq, &hash)
    }

    fn numbered(c: Vec<(String, String, String)>) -> Vec<(i64, String, String, String)> {
        c.into_iter()
            .zip(1..)
            .map(|((p, prev, h), s)| (s, p, prev, h))
            .collect()
    }

    #[test]
    fn untouched_chain_verifies() {
        assert_eq!(verify(&numbered(chain(5))), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn edit_is_named() {
        let mut c = numbered(chain(5));
        c[2].1 = "{\"n\":99}".into();
        assert!(matches!(verify(&c), Err(ChainError::Edited { seq: 3, .. })));
    }

    #[test]
    fn delete_is_named_at_the_next_event() {
        let mut c = numbered(chain(5));
        c.remove(1);
        assert!(matches!(
            verify(&c),
            Err(ChainError::Broken {
                seq: 3,
                expected_prev: 1,
                ..
            })
        ));
    }

    #[test]
    fn swapping_sequence_numbers_is_named() {
        let mut c = numbered(chain(5));
        c.swap(1, 2);
        c[1].0 = 2;
        c[2].0 = 3;
        assert!(matches!(
            verify(&c),
            Err(ChainError::Broken {
                seq: 2,
                expected_prev: 1,
                ..
            })
        ));
    }

    #[test]
    fn truncation_is_caught_by_the_head() {
        let full = numbered(chain(5));
        let mut v = Verifier::default();
        for (seq, payload, prev, hash) in &full[..4] {
            v.check(&link(*seq, payload, prev), hash).unwrap();
        }
        assert!(matches!(
            v.finish(5, &full[4].3),
            Err(ChainError::Head { last: 4, head: 5 })
        ));
    }

    #[test]
    fn hex_is_lowercase_two_digits_per_byte() {
        assert_eq!(hex(&[0, 15, 16, 255]), "000f10ff");
    }
}
