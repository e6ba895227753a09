//! A compact table of CWE weaknesses, by id with MITRE's name: the 2024 CWE
//! Top 25 and the categories security policies name (policy 001 section III:
//! misconfiguration, weak authentication, insufficient error handling,
//! sensitive information leakage), plus common web weaknesses. Written by
//! hand from MITRE's public catalogue; a case may name any `CWE-n`, and
//! those outside the table carry no name.

/// (id, name), sorted by id number.
pub const TABLE: &[(u32, &str)] = &[
    (20, "Improper Input Validation"),
    (
        22,
        "Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')",
    ),
    (
        77,
        "Improper Neutralization of Special Elements used in a Command ('Command Injection')",
    ),
    (
        78,
        "Improper Neutralization of Special Elements used in an OS Command ('OS Command Injection')",
    ),
    (
        79,
        "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
    ),
    (
        89,
        "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')",
    ),
    (
        94,
        "Improper Control of Generation of Code ('Code Injection')",
    ),
    (
        119,
        "Improper Restriction of Operations within the Bounds of a Memory Buffer",
    ),
    (125, "Out-of-bounds Read"),
    (190, "Integer Overflow or Wraparound"),
    (
        200,
        "Exposure of Sensitive Information to an Unauthorized Actor",
    ),
    (
        209,
        "Generation of Error Message Containing Sensitive Information",
    ),
    (269, "Improper Privilege Management"),
    (284, "Improper Access Control"),
    (287, "Improper Authentication"),
    (306, "Missing Authentication for Critical Function"),
    (
        307,
        "Improper Restriction of Excessive Authentication Attempts",
    ),
    (319, "Cleartext Transmission of Sensitive Information"),
    (327, "Use of a Broken or Risky Cryptographic Algorithm"),
    (352, "Cross-Site Request Forgery (CSRF)"),
    (384, "Session Fixation"),
    (400, "Uncontrolled Resource Consumption"),
    (416, "Use After Free"),
    (434, "Unrestricted Upload of File with Dangerous Type"),
    (476, "NULL Pointer Dereference"),
    (502, "Deserialization of Untrusted Data"),
    (521, "Weak Password Requirements"),
    (522, "Insufficiently Protected Credentials"),
    (532, "Insertion of Sensitive Information into Log File"),
    (601, "URL Redirection to Untrusted Site ('Open Redirect')"),
    (611, "Improper Restriction of XML External Entity Reference"),
    (613, "Insufficient Session Expiration"),
    (639, "Authorization Bypass Through User-Controlled Key"),
    (732, "Incorrect Permission Assignment for Critical Resource"),
    (755, "Improper Handling of Exceptional Conditions"),
    (770, "Allocation of Resources Without Limits or Throttling"),
    (787, "Out-of-bounds Write"),
    (798, "Use of Hard-coded Credentials"),
    (862, "Missing Authorization"),
    (863, "Incorrect Authorization"),
    (918, "Server-Side Request Forgery (SSRF)"),
    (
        1188,
        "Initialization of a Resource with an Insecure Default",
    ),
    (
        1321,
        "Improperly Controlled Modification of Object Prototype Attributes ('Prototype Pollution')",
    ),
    (1333, "Inefficient Regular Expression Complexity"),
    (1390, "Weak Authentication"),
];

/// The number of `CWE-n` (case-insensitive prefix), if it is one.
#[must_use]
pub fn parse(id: &str) -> Option<u32> {
    let id = id.trim();
    let digits = id
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("CWE-"))
        .map(|_| &id[4..])?;
    if digits.is_empty() || digits.len() > 7 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// MITRE's name of a weakness in the table.
#[must_use]
pub fn name(number: u32) -> Option<&'static str> {
    TABLE
        .binary_search_by_key(&number, |(n, _)| *n)
        .ok()
        .map(|i| TABLE[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_found() {
        assert!(TABLE.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(parse("CWE-79"), Some(79));
        assert_eq!(parse("cwe-1321"), Some(1321));
        assert_eq!(parse("CWE-"), None);
        assert_eq!(parse("79"), None);
        assert_eq!(name(352), Some("Cross-Site Request Forgery (CSRF)"));
        assert_eq!(name(99_999), None);
    }
}
