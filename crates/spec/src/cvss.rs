//! CVSS vectors (3.0, 3.1 and 4.0) scored by RustSec's `cvss` crate, with
//! the specifications' rule the parser leaves out: every base metric given,
//! once. embargo's domain (`embargo_core::cvss`) builds its severity
//! assessment on this; both are checked against the Python `cvss` package.

use std::str::FromStr;

/// The longest vector accepted: a 4.0 vector with every supplemental and
/// environmental metric is under 300 characters.
pub const MAX_VECTOR: usize = 512;

/// A vector's CVSS version and its score (one decimal).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// `3.0`, `3.1` or `4.0`.
    pub version: &'static str,
    pub score: f32,
}

/// Scores a vector: the base score for 3.x; for 4.0 the score of the groups
/// the vector sets (CVSS-B, -BT, -BE or -BTE).
pub fn score(vector: &str) -> Result<Scored, String> {
    let vector = vector.trim();
    if vector.len() > MAX_VECTOR {
        return Err(format!("longer than {MAX_VECTOR} characters"));
    }
    let (version, required): (&str, &[&str]) = if vector.starts_with("CVSS:4.0/") {
        (
            "4.0",
            &[
                "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA",
            ],
        )
    } else if vector.starts_with("CVSS:3.1/") {
        ("3.1", &["AV", "AC", "PR", "UI", "S", "C", "I", "A"])
    } else if vector.starts_with("CVSS:3.0/") {
        ("3.0", &["AV", "AC", "PR", "UI", "S", "C", "I", "A"])
    } else {
        return Err("a vector starts with CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/".into());
    };
    let keys: Vec<&str> = vector
        .split('/')
        .skip(1)
        .map(|m| m.split(':').next().unwrap_or(""))
        .collect();
    if let Some(missing) = required.iter().find(|r| !keys.contains(r)) {
        return Err(format!("`{vector}` lacks the base metric {missing}"));
    }
    if let Some((_, twice)) = keys
        .iter()
        .enumerate()
        .find(|(i, k)| keys[..*i].contains(k))
    {
        return Err(format!("`{vector}` gives the metric {twice} twice"));
    }
    let parsed = cvss::Cvss::from_str(vector).map_err(|e| format!("`{vector}`: {e}"))?;
    #[allow(clippy::cast_possible_truncation)]
    let score = ((parsed.score() * 10.0).round() / 10.0) as f32;
    Ok(Scored { version, score })
}

/// The base score of a CVSS 2.0 vector (`AV:N/AC:L/Au:N/C:C/I:C/A:C`), for
/// documents that still carry one (CSAF's `cvss_v2`).
pub fn score_v2(vector: &str) -> Result<f32, String> {
    let vector = vector.trim();
    if vector.len() > MAX_VECTOR {
        return Err(format!("longer than {MAX_VECTOR} characters"));
    }
    let parsed = cvss::v2::Vector::from_str(vector).map_err(|e| format!("`{vector}`: {e}"))?;
    #[allow(clippy::cast_possible_truncation)]
    let score = ((parsed.score().value() * 10.0).round() / 10.0) as f32;
    Ok(score)
}

/// The qualitative rating of a score (`None` for 0.0).
#[must_use]
pub fn rating(score: f32) -> Option<crate::severity::Severity> {
    use crate::severity::Severity;
    match score {
        s if s >= 9.0 => Some(Severity::Critical),
        s if s >= 7.0 => Some(Severity::High),
        s if s >= 4.0 => Some(Severity::Medium),
        s if s > 0.0 => Some(Severity::Low),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_scores() {
        for (vector, expected) in [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
            ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", 5.5),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                9.3,
            ),
        ] {
            assert_eq!(score(vector).map(|s| s.score), Ok(expected), "{vector}");
        }
        assert!(score("CVSS:2.0/AV:N").is_err());
        assert!(score("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").is_err());
        assert!(
            score("CVSS:3.1/AV:N/AC:L")
                .unwrap_err()
                .contains("lacks the base metric PR")
        );
        assert!(
            score("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
                .unwrap_err()
                .contains("twice")
        );
        assert!(score(&format!("CVSS:3.1/{}", "A".repeat(600))).is_err());
    }
}
