//! Splitting records into a public part and a sealed (encrypted) part.
//!
//! The fields named in [`EventKind::CONFIDENTIAL_FIELDS`] are moved out of the
//! JSON and encrypted; the rest stays readable for indexing and the hash chain.

use embargo_core::crypto::{Keyring, Sealed};
use embargo_core::{Case, EventKind};
use serde_json::{Map, Value};

use crate::StoreError;

/// A record's public fields and its confidential ones.
type Parts = (Map<String, Value>, Map<String, Value>);

fn split(value: Value) -> Result<Parts, StoreError> {
    let Value::Object(mut public) = value else {
        return Err(StoreError::Corrupt("record is not a JSON object".into()));
    };
    let mut secret = Map::new();
    for field in EventKind::CONFIDENTIAL_FIELDS {
        if let Some(v) = public.remove(field) {
            secret.insert(field.to_owned(), v);
        }
    }
    Ok((public, secret))
}

fn json_text(map: &Map<String, Value>) -> Result<String, StoreError> {
    serde_json::to_string(map).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn case_context(reference: &str) -> Vec<u8> {
    format!("embargo:case:{reference}").into_bytes()
}

fn event_context(seq: i64) -> Vec<u8> {
    format!("embargo:event:{seq}").into_bytes()
}

/// The case's public JSON and its sealed part.
pub(crate) fn seal_case(keyring: &Keyring, case: &Case) -> Result<(String, Sealed), StoreError> {
    let value = serde_json::to_value(case).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let (public, secret) = split(value)?;
    let sealed = keyring.seal(
        json_text(&secret)?.as_bytes(),
        &case_context(&case.reference.to_string()),
    )?;
    Ok((json_text(&public)?, sealed))
}

pub(crate) fn open_case(
    keyring: &Keyring,
    reference: &str,
    public: &str,
    key_id: &str,
    blob: &[u8],
) -> Result<Case, StoreError> {
    let secret = keyring.open(key_id, blob, &case_context(reference))?;
    join(public, Some(&secret))
}

/// The event's public payload and, when it has confidential fields, its sealed part.
pub(crate) fn seal_event(
    keyring: &Keyring,
    seq: i64,
    event: &EventKind,
) -> Result<(String, Option<Sealed>), StoreError> {
    let value = serde_json::to_value(event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let (mut public, secret) = split(value)?;
    // The kind is stored in its own column.
    public.remove("kind");
    let sealed = if secret.is_empty() {
        None
    } else {
        Some(keyring.seal(json_text(&secret)?.as_bytes(), &event_context(seq))?)
    };
    Ok((json_text(&public)?, sealed))
}

pub(crate) fn open_event(
    keyring: &Keyring,
    seq: i64,
    kind: &str,
    payload: &str,
    sealed: Option<(&str, &[u8])>,
) -> Result<EventKind, StoreError> {
    let secret = sealed
        .map(|(key, blob)| keyring.open(key, blob, &event_context(seq)))
        .transpose()?;
    let mut value: Value = serde_json::from_str(payload)
        .map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))?;
    if let Value::Object(map) = &mut value {
        map.insert("kind".into(), Value::String(kind.to_owned()));
    }
    join_value(value, secret.as_deref())
        .map_err(|e| StoreError::Corrupt(format!("event {seq}: {e}")))
}

fn join<T: serde::de::DeserializeOwned>(
    public: &str,
    secret: Option<&[u8]>,
) -> Result<T, StoreError> {
    let value: Value =
        serde_json::from_str(public).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    join_value(value, secret)
}

fn join_value<T: serde::de::DeserializeOwned>(
    mut value: Value,
    secret: Option<&[u8]>,
) -> Result<T, StoreError> {
    if let Some(secret) = secret {
        let Value::Object(secret) =
            serde_json::from_slice(secret).map_err(|e| StoreError::Corrupt(e.to_string()))?
        else {
            return Err(StoreError::Corrupt(
                "sealed part is not a JSON object".into(),
            ));
        };
        if let Value::Object(map) = &mut value {
            map.extend(secret);
        }
    }
    serde_json::from_value(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}
