//! Scoring: a CVSS 3.x or 4.0 vector scored and placed in the policy's own
//! severity levels, and the CVSS 3.1 base metrics a form offers.

use embargo_core::Severity;
use embargo_core::cvss::CvssScore;
use embargo_core::policy::Policy;
use serde::Serialize;
use utoipa::ToSchema;

/// A scored vector and the policy level it falls in.
#[derive(Debug, Serialize, ToSchema)]
pub struct Assessment {
    /// `3.0`, `3.1` or `4.0`.
    pub version: String,
    pub vector: String,
    pub score: f64,
    pub severity: Severity,
    /// The policy's own level covering this severity (its id and name), if it names one.
    pub policy_level: Option<PolicyLevel>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyLevel {
    pub id: String,
    pub name: String,
}

pub fn assessment(policy: &Policy, s: CvssScore) -> Assessment {
    let policy_level = policy
        .severity
        .iter()
        .find(|l| l.covers.contains(&s.severity))
        .map(|l| PolicyLevel {
            id: l.id.clone(),
            name: l.name.clone(),
        });
    Assessment {
        version: s.version.to_owned(),
        vector: s.vector,
        score: s.score,
        severity: s.severity,
        policy_level,
    }
}

/// A metric of the form: its key, its label, and its (value, label) choices.
pub type Metric = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// CVSS 3.1 base metrics.
pub const METRICS: [Metric; 8] = [
    (
        "AV",
        "Attack vector",
        &[
            ("N", "Network"),
            ("A", "Adjacent"),
            ("L", "Local"),
            ("P", "Physical"),
        ],
    ),
    ("AC", "Attack complexity", &[("L", "Low"), ("H", "High")]),
    (
        "PR",
        "Privileges required",
        &[("N", "None"), ("L", "Low"), ("H", "High")],
    ),
    (
        "UI",
        "User interaction",
        &[("N", "None"), ("R", "Required")],
    ),
    ("S", "Scope", &[("U", "Unchanged"), ("C", "Changed")]),
    (
        "C",
        "Confidentiality",
        &[("H", "High"), ("L", "Low"), ("N", "None")],
    ),
    (
        "I",
        "Integrity",
        &[("H", "High"), ("L", "Low"), ("N", "None")],
    ),
    (
        "A",
        "Availability",
        &[("H", "High"), ("L", "Low"), ("N", "None")],
    ),
];

/// The CVSS 3.1 vector of one value per metric of [`METRICS`], in order;
/// `None` unless every metric has one.
#[must_use]
pub fn vector_from_metrics(chosen: &[Option<&str>]) -> Option<String> {
    if chosen.len() != METRICS.len() || chosen.iter().any(Option::is_none) {
        return None;
    }
    let parts: Vec<String> = METRICS
        .iter()
        .zip(chosen)
        .map(|((key, _, _), v)| format!("{key}:{}", v.unwrap_or_default()))
        .collect();
    Some(format!("CVSS:3.1/{}", parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use embargo_core::cvss;

    #[test]
    fn scores_fall_in_the_policys_own_levels() {
        let preset = |name: &str| {
            let (_, text) = embargo_core::policy::presets::ALL
                .iter()
                .find(|(n, _)| *n == name)
                .expect("the preset");
            Policy::parse(text).expect("the preset parses")
        };
        // Zeenea (003) maps the NVD's ratings onto its two levels.
        let zeenea = preset("zeenea");
        let critical = cvss::assess("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").expect("valid");
        let level = assessment(&zeenea, critical.clone())
            .policy_level
            .expect("a level");
        assert_eq!(
            (level.id.as_str(), level.name.as_str()),
            ("critical", "CRITICAL")
        );
        let low = cvss::assess("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N").expect("valid");
        assert_eq!(
            assessment(&zeenea, low).policy_level.expect("a level").name,
            "Lower"
        );
        // Truvera's (002) levels are criteria a person applies: no score picks one.
        assert!(
            assessment(&preset("truvera"), critical)
                .policy_level
                .is_none()
        );
    }
}
