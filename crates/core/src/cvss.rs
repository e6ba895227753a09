//! CVSS vectors: 3.0, 3.1 and 4.0, parsed and scored (by
//! `embargo_spec::cvss`, on RustSec's `cvss` crate), given their
//! qualitative rating, and mapped to embargo's severity scale (which a policy then names in its own words, see
//! [`crate::policy`]). The scores are checked against the independent Python
//! `cvss` package on tens of thousands of random vectors (`.ci/run`).

use crate::case::{DomainError, Severity};

use embargo_spec::cvss::MAX_VECTOR;

/// A scored vector.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CvssScore {
    /// `3.0`, `3.1` or `4.0`.
    pub version: &'static str,
    /// The vector as given (trimmed).
    pub vector: String,
    /// The score, 0.0 to 10.0 with one decimal: the base score for 3.x,
    /// CVSS-B/BT/BE/BTE for 4.0 (whichever groups the vector sets).
    pub score: f64,
    /// The qualitative rating of the score.
    pub severity: Severity,
}

/// Parses and scores a CVSS 3.x or 4.0 vector. Errors name the field
/// `cvss` and what is wrong.
pub fn assess(vector: &str) -> Result<CvssScore, DomainError> {
    let vector = vector.trim();
    if vector.len() > MAX_VECTOR {
        return Err(DomainError::TooLarge {
            field: "cvss".into(),
            limit: MAX_VECTOR,
        });
    }
    let scored = embargo_spec::cvss::score(vector).map_err(|e| DomainError::invalid("cvss", e))?;
    let score = f64::from(scored.score);
    // f32 → f64 widening shows 9.8 as 9.800000190734863: back to one decimal.
    let score = (score * 10.0).round() / 10.0;
    Ok(CvssScore {
        version: scored.version,
        vector: vector.to_owned(),
        score,
        severity: rating(score),
    })
}

/// The qualitative rating of a score (the same bands in 3.x and 4.0).
#[must_use]
pub fn rating(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_scores_of_both_versions() {
        let s = assess("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap();
        assert_eq!(
            (s.version, s.score, s.severity),
            ("3.1", 9.8, Severity::Critical)
        );
        let s = assess("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N").unwrap();
        assert_eq!((s.score, s.severity), (6.1, Severity::Medium));
        let s = assess("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").unwrap();
        assert_eq!(
            (s.version, s.score, s.severity),
            ("4.0", 9.3, Severity::Critical)
        );
        let s = assess("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N").unwrap();
        assert_eq!(s.severity, Severity::None);
    }

    #[test]
    fn bad_vectors_say_why() {
        let e = assess("AV:N/AC:L").unwrap_err().to_string();
        assert!(e.starts_with("cvss: a vector starts with"), "{e}");
        let e = assess("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
            .unwrap_err()
            .to_string();
        assert!(e.contains("CVSS:3.1/AV:X"), "{e}");
        assert!(assess("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H").is_err());
        assert!(assess(&format!("CVSS:3.1/{}", "A".repeat(600))).is_err());
    }
}
