//! Public case references: `EMB-2026-0001`.
//!
//! A reference is the only identifier of a case that leaves the system (in
//! receipts, email subjects, URLs). Numbers are sequential per year and
//! allocated by the store inside the transaction that creates the case.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A case reference such as `EMB-2026-0042`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseRef {
    year: u16,
    number: u32,
}

impl CaseRef {
    /// The reference for the `number`th case of `year` (both from the store's counter).
    #[must_use]
    pub fn new(year: u16, number: u32) -> Self {
        Self { year, number }
    }

    #[must_use]
    pub fn year(self) -> u16 {
        self.year
    }

    #[must_use]
    pub fn number(self) -> u32 {
        self.number
    }
}

impl fmt::Display for CaseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EMB-{:04}-{:04}", self.year, self.number)
    }
}

/// Why a string is not a case reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a case reference (expected the form EMB-2026-0001)")]
pub struct ParseCaseRefError {
    input: String,
}

impl FromStr for CaseRef {
    type Err = ParseCaseRefError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseCaseRefError {
            input: s.chars().take(64).collect(),
        };
        let rest = s
            .strip_prefix("EMB-")
            .or_else(|| s.strip_prefix("emb-"))
            .ok_or_else(err)?;
        let (year, number) = rest.split_once('-').ok_or_else(err)?;
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4
            || !digits(year)
            || number.len() < 4
            || number.len() > 9
            || !digits(number)
        {
            return Err(err());
        }
        let year: u16 = year.parse().map_err(|_| err())?;
        let number: u32 = number.parse().map_err(|_| err())?;
        if number == 0 {
            return Err(err());
        }
        Ok(Self { year, number })
    }
}

impl Serialize for CaseRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CaseRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for CaseRef {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^EMB-[0-9]{4}-[0-9]{4,9}$"))
            .examples([serde_json::json!("EMB-2026-0001")])
            .into()
    }
}

impl utoipa::ToSchema for CaseRef {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_four_digit_padding_and_grows_past_it() {
        assert_eq!(CaseRef::new(2026, 1).to_string(), "EMB-2026-0001");
        assert_eq!(CaseRef::new(2026, 12345).to_string(), "EMB-2026-12345");
    }

    #[test]
    fn parses_what_it_prints() {
        for n in [1, 9999, 10000, 123_456_789] {
            let r = CaseRef::new(2031, n);
            assert_eq!(r.to_string().parse::<CaseRef>(), Ok(r));
        }
    }

    #[test]
    fn rejects_malformed_references() {
        for bad in [
            "",
            "EMB-2026-1",
            "EMB-26-0001",
            "EMB-2026-0000",
            "CVE-2026-0001",
            "EMB-2026-00a1",
            "EMB-2026-+001",
            "EMB-2026-0001-",
        ] {
            assert!(bad.parse::<CaseRef>().is_err(), "{bad} parsed");
        }
    }
}
