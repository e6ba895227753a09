//! SARIF 2.1.0 results of SAST and DAST tools, read as findings: each
//! result's tool, rule, level, `security-severity` and a fingerprint that
//! stays the same across runs, so that a re-import updates rather than
//! duplicates.
//!
//! The fingerprint is the result's own (`fingerprints`, then
//! `partialFingerprints`, in key order) when the tool gives one; otherwise
//! a SHA-256 of the rule, the first location's URI and region, and the
//! message text.

use serde_json::Value;
use sha2::Digest;

/// A result as embargo keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct SarifResult {
    pub tool: String,
    pub rule: String,
    /// `error`, `warning`, `note` or `none`.
    pub level: String,
    /// The rule's `security-severity` (a CVSS-like score), when given.
    pub security_severity: Option<f32>,
    pub fingerprint: String,
    pub message: String,
    /// `uri:line`, when the result has a location.
    pub location: Option<String>,
}

/// A document that is not SARIF 2.1.0, with the JSON path of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct SarifError {
    pub path: String,
    pub message: String,
}

fn err(path: impl Into<String>, message: impl Into<String>) -> SarifError {
    SarifError {
        path: path.into(),
        message: message.into(),
    }
}

/// Reads the results of every run, deduplicated by (tool, rule, fingerprint).
pub fn read(bytes: &[u8]) -> Result<Vec<SarifResult>, SarifError> {
    let doc: Value = serde_json::from_slice(bytes)
        .map_err(|e| err(format!("line {}", e.line()), e.to_string()))?;
    if doc.get("version").and_then(Value::as_str) != Some("2.1.0") {
        return Err(err("version", "must be \"2.1.0\""));
    }
    let runs = doc
        .get("runs")
        .and_then(Value::as_array)
        .ok_or_else(|| err("runs", "must be an array"))?;
    let mut out: Vec<SarifResult> = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let driver = &run["tool"]["driver"];
        let tool = driver["name"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| err(format!("runs[{i}].tool.driver.name"), "missing"))?
            .to_owned();
        let rules = driver["rules"].as_array().map_or(&[][..], Vec::as_slice);
        let results = match run.get("results") {
            None | Some(Value::Null) => continue,
            Some(Value::Array(r)) => r,
            Some(_) => return Err(err(format!("runs[{i}].results"), "must be an array")),
        };
        for (j, r) in results.iter().enumerate() {
            let at = format!("runs[{i}].results[{j}]");
            let rule_index = r["ruleIndex"]
                .as_u64()
                .and_then(|n| usize::try_from(n).ok());
            let rule_def = rule_index.and_then(|n| rules.get(n));
            let rule = r["ruleId"]
                .as_str()
                .or_else(|| rule_def.and_then(|d| d["id"].as_str()))
                .ok_or_else(|| err(&at, "a result needs its ruleId"))?
                .to_owned();
            let rule_def = rule_def.or_else(|| rules.iter().find(|d| d["id"] == rule.as_str()));
            let message = r["message"]["text"].as_str().unwrap_or_default().to_owned();
            let level = r["level"]
                .as_str()
                .or_else(|| rule_def.and_then(|d| d["defaultConfiguration"]["level"].as_str()))
                .unwrap_or("warning")
                .to_owned();
            if !matches!(level.as_str(), "error" | "warning" | "note" | "none") {
                return Err(err(
                    format!("{at}.level"),
                    format!("`{level}` is not error, warning, note or none"),
                ));
            }
            let security_severity = rule_def
                .and_then(|d| d["properties"]["security-severity"].as_str())
                .and_then(|s| s.parse::<f32>().ok())
                .filter(|s| (0.0..=10.0).contains(s));
            let physical = &r["locations"][0]["physicalLocation"];
            let location = physical["artifactLocation"]["uri"].as_str().map(|uri| {
                match physical["region"]["startLine"].as_u64() {
                    Some(line) => format!("{uri}:{line}"),
                    None => uri.to_owned(),
                }
            });
            let given = |key: &str| {
                r[key].as_object().and_then(|m| {
                    let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                    entries.sort_by(|a, b| a.0.cmp(b.0));
                    entries
                        .first()
                        .and_then(|(_, v)| v.as_str().map(str::to_owned))
                })
            };
            let fingerprint = given("fingerprints")
                .or_else(|| given("partialFingerprints"))
                .unwrap_or_else(|| {
                    let digest = sha2::Sha256::digest(
                        format!("{rule}\n{}\n{message}", location.as_deref().unwrap_or(""))
                            .as_bytes(),
                    );
                    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
                });
            let result = SarifResult {
                tool: tool.clone(),
                rule,
                level,
                security_severity,
                fingerprint,
                message,
                location,
            };
            if !out.iter().any(|o| {
                o.tool == result.tool
                    && o.rule == result.rule
                    && o.fingerprint == result.fingerprint
            }) {
                out.push(result);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_get_stable_fingerprints_and_bad_documents_say_where() {
        let doc = serde_json::json!({"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "semgrep", "rules": [
            {"id": "sql-injection", "properties": {"security-severity": "8.8"}}]}},
        "results": [
            {"ruleId": "sql-injection", "level": "error", "message": {"text": "tainted query"},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/db.rs"}, "region": {"startLine": 12}}}]},
            {"ruleId": "sql-injection", "level": "error", "message": {"text": "tainted query"},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/db.rs"}, "region": {"startLine": 12}}}]},
            {"ruleId": "xss", "message": {"text": "reflected"}, "partialFingerprints": {"primaryLocationLineHash": "abc:1"}}
        ]}]});
        let results = read(doc.to_string().as_bytes()).unwrap();
        assert_eq!(results.len(), 2, "the duplicate is one result");
        assert_eq!(results[0].security_severity, Some(8.8));
        assert_eq!(results[0].location.as_deref(), Some("src/db.rs:12"));
        assert_eq!(results[1].fingerprint, "abc:1");
        assert_eq!(results[1].level, "warning");
        let again = read(doc.to_string().as_bytes()).unwrap();
        assert_eq!(
            again[0].fingerprint, results[0].fingerprint,
            "stable across reads"
        );
        let e = read(br#"{"version": "2.0.0", "runs": []}"#).unwrap_err();
        assert_eq!(e.path, "version");
        let e = read(br#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"level": "bad", "ruleId": "r"}]}]}"#).unwrap_err();
        assert_eq!(e.path, "runs[0].results[0].level");
        assert!(read(b"{").is_err());
    }
}
