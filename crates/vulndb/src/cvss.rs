//! CVSS 3.x base scores, for the severity of OSV records that carry a
//! vector (RustSec's, GitHub's). The formula is the specification's (3.1,
//! with its Roundup); 3.0 vectors score with the same formula.

/// The base score of a `CVSS:3.0/…` or `CVSS:3.1/…` vector.
pub fn base_score_v3(vector: &str) -> Result<f32, String> {
    let mut parts = vector.trim().split('/');
    let head = parts.next().unwrap_or_default();
    if head != "CVSS:3.1" && head != "CVSS:3.0" {
        return Err(format!("`{head}` is not CVSS:3.0 or CVSS:3.1"));
    }
    let mut metrics = std::collections::HashMap::new();
    for part in parts {
        let (k, v) = part
            .split_once(':')
            .ok_or_else(|| format!("`{part}` is not METRIC:VALUE"))?;
        if metrics.insert(k, v).is_some() {
            return Err(format!("{k} appears twice"));
        }
    }
    let get = |k: &str| {
        metrics
            .get(k)
            .copied()
            .ok_or_else(|| format!("{k} is missing"))
    };
    let bad = |k: &str, v: &str| format!("{k}:{v} is not a valid value");
    let scope_changed = match get("S")? {
        "U" => false,
        "C" => true,
        v => return Err(bad("S", v)),
    };
    let av = match get("AV")? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        v => return Err(bad("AV", v)),
    };
    let ac = match get("AC")? {
        "L" => 0.77,
        "H" => 0.44,
        v => return Err(bad("AC", v)),
    };
    let pr = match (get("PR")?, scope_changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        (v, _) => return Err(bad("PR", v)),
    };
    let ui = match get("UI")? {
        "N" => 0.85,
        "R" => 0.62,
        v => return Err(bad("UI", v)),
    };
    let cia = |k: &str| -> Result<f64, String> {
        match get(k)? {
            "H" => Ok(0.56),
            "L" => Ok(0.22),
            "N" => Ok(0.0),
            v => Err(bad(k, v)),
        }
    };
    let iss = 1.0 - (1.0 - cia("C")?) * (1.0 - cia("I")?) * (1.0 - cia("A")?);
    let impact = if scope_changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02f64).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    let score = if impact <= 0.0 {
        0.0
    } else if scope_changed {
        roundup((1.08 * (impact + exploitability)).min(10.0))
    } else {
        roundup((impact + exploitability).min(10.0))
    };
    Ok(score as f32)
}

/// CVSS 3.1's Roundup: the smallest one-decimal number at or above `x`,
/// computed on integers to avoid floating-point surprises.
fn roundup(x: f64) -> f64 {
    let int = (x * 100_000.0).round() as i64;
    if int % 10_000 == 0 {
        int as f64 / 100_000.0
    } else {
        ((int / 10_000) + 1) as f64 / 10.0
    }
}

/// The qualitative rating of a score (`None` for 0.0).
#[must_use]
pub fn rating(score: f32) -> Option<crate::db::Severity> {
    use crate::db::Severity;
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
        for (vector, score) in [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
            ("CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", 5.5),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ] {
            assert_eq!(base_score_v3(vector), Ok(score), "{vector}");
        }
        assert!(base_score_v3("CVSS:2.0/AV:N").is_err());
        assert!(base_score_v3("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").is_err());
        assert!(
            base_score_v3("CVSS:3.1/AV:N/AC:L")
                .unwrap_err()
                .contains("missing")
        );
    }
}
