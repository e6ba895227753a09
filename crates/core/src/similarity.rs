//! Duplicate suggestions: how alike two reports are, by TF-IDF cosine
//! similarity over their words (the title counting double), with a small
//! bonus when they concern the same product.
//!
//! Floods of near-identical reports are the top complaint of maintainers; the
//! triager sees the best matches with a score and decides.

use std::collections::HashMap;

use crate::{Case, CaseRef};

/// Words too common to tell reports apart.
const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "for", "from", "has", "have", "in",
    "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "when", "which",
    "with", "will", "we", "you", "i", "my", "our", "your", "there", "via", "into", "not", "any",
    "all", "also", "but", "if", "so", "then", "than", "been",
];

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 2)
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .map(|w| {
            // A light stem: plural and common suffixes, so "injections" meets "injection".
            for suffix in ["ing", "ed", "es", "s"] {
                if w.len() > suffix.len() + 3
                    && let Some(stem) = w.strip_suffix(suffix)
                {
                    return stem.to_owned();
                }
            }
            w
        })
}

/// The words of a case that identify it, with their counts.
#[must_use]
pub fn terms(case: &Case) -> HashMap<String, f64> {
    let mut tf: HashMap<String, f64> = HashMap::new();
    for w in words(&case.title) {
        *tf.entry(w).or_default() += 2.0;
    }
    for text in [&case.report.summary, &case.report.description] {
        for w in words(text) {
            *tf.entry(w).or_default() += 1.0;
        }
    }
    tf
}

/// A suggested original and how alike it is (0 to about 1.1).
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub reference: CaseRef,
    pub score: f64,
}

/// The `limit` candidates most like `case`, best first, at least `min_score` alike.
#[must_use]
pub fn suggest(case: &Case, candidates: &[Case], limit: usize, min_score: f64) -> Vec<Suggestion> {
    let target = terms(case);
    let docs: Vec<HashMap<String, f64>> = candidates.iter().map(terms).collect();
    // Document frequency over the candidates and the new report.
    let mut df: HashMap<&str, f64> = HashMap::new();
    for d in docs.iter().chain(std::iter::once(&target)) {
        for w in d.keys() {
            *df.entry(w.as_str()).or_default() += 1.0;
        }
    }
    let n = (docs.len() + 1) as f64;
    let weigh = |d: &HashMap<String, f64>| -> HashMap<String, f64> {
        d.iter()
            .map(|(w, tf)| {
                let idf = (n / df.get(w.as_str()).copied().unwrap_or(1.0)).ln() + 1.0;
                (w.clone(), (1.0 + tf.ln()) * idf)
            })
            .collect()
    };
    let t = weigh(&target);
    let t_norm = t.values().map(|v| v * v).sum::<f64>().sqrt();
    let mut out: Vec<Suggestion> = candidates
        .iter()
        .zip(&docs)
        .filter(|(c, _)| c.reference != case.reference)
        .map(|(c, d)| {
            let v = weigh(d);
            let norm = v.values().map(|x| x * x).sum::<f64>().sqrt();
            let dot: f64 = t.iter().filter_map(|(w, x)| v.get(w).map(|y| x * y)).sum();
            let cosine = if norm > 0.0 && t_norm > 0.0 {
                dot / (norm * t_norm)
            } else {
                0.0
            };
            let product = if c.product == case.product { 0.1 } else { 0.0 };
            Suggestion {
                reference: c.reference,
                score: cosine + product * cosine.min(1.0),
            }
        })
        .filter(|s| s.score >= min_score)
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.reference.cmp(&b.reference))
    });
    out.truncate(limit);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{NewCase, ReportContent, Reporter};
    use chrono::TimeZone;

    fn case(n: u32, product: &str, title: &str, description: &str) -> Case {
        let at = chrono::Utc
            .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        let request = NewCase {
            title: title.into(),
            product: product.into(),
            reporter: Reporter::default(),
            report: ReportContent {
                summary: title.into(),
                description: description.into(),
                ..ReportContent::default()
            },
            reporter_deadline: None,
            exploited_evidence: None,
        };
        Case::open(CaseRef::new(2026, n), request, at)
            .map(|(c, _)| c)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// 25 originals across vulnerability classes and components, each with a
    /// near-duplicate written differently (words dropped, reordered, synonyms
    /// the algorithm does not know, filler added), and noise reports.
    #[test]
    fn the_true_original_is_the_top_suggestion_for_at_least_90_percent() {
        let classes = [
            (
                "SQL injection",
                "the parameter is concatenated into a database query allowing injection of SQL statements",
            ),
            (
                "Stored cross-site scripting",
                "script tags in the field are stored and executed in other users browsers",
            ),
            (
                "Server-side request forgery",
                "the URL parameter makes the server fetch internal addresses such as metadata endpoints",
            ),
            (
                "Path traversal",
                "dot dot slash sequences in the filename read arbitrary files from the disk",
            ),
            (
                "Open redirect",
                "the next parameter redirects users to any external domain after login",
            ),
        ];
        let components = [
            (
                "login form",
                "username field of the admin portal login page",
            ),
            ("ticket comments", "comment box on the support ticket page"),
            (
                "avatar upload",
                "profile picture upload endpoint of the account settings",
            ),
            ("export API", "CSV export endpoint of the reporting API"),
            (
                "webhook settings",
                "callback URL field of the integration webhook settings",
            ),
        ];
        let synonyms = [
            ("injection", "injecting"),
            ("stored", "persistent"),
            ("server", "backend"),
            ("arbitrary", "any"),
            ("redirects", "forwards"),
        ];
        let mut originals = Vec::new();
        let mut duplicates = Vec::new();
        let mut n = 1;
        for (ci, (class, how)) in classes.iter().enumerate() {
            for (pi, (component, where_)) in components.iter().enumerate() {
                let product = if (ci + pi) % 2 == 0 {
                    "Dock Certs"
                } else {
                    "Segura"
                };
                originals.push(case(
                    n,
                    product,
                    &format!("{class} in {component}"),
                    &format!("In the {where_}, {how}. An attacker can exploit it remotely."),
                ));
                n += 1;
                // The duplicate: reworded, some words dropped, synonyms swapped.
                let mut text: Vec<String> = format!("{how} via the {where_}")
                    .split(' ')
                    .map(str::to_owned)
                    .collect();
                text.retain(|w| w.len() % 3 != 0);
                for w in &mut text {
                    if let Some((_, to)) = synonyms.iter().find(|(from, _)| from == w) {
                        *w = (*to).to_owned();
                    }
                }
                text.reverse();
                duplicates.push((
                    originals.len() - 1,
                    case(
                        1000 + n,
                        product,
                        &format!("Found {} issue affecting {component}", class.to_lowercase()),
                        &format!(
                            "Hello team, I think {}. Please check, thanks!",
                            text.join(" ")
                        ),
                    ),
                ));
            }
        }
        // Noise: unrelated reports among the candidates.
        let mut candidates = originals.clone();
        for i in 0..10 {
            candidates.push(case(
                500 + i,
                "Dock Certs",
                &format!("Rate limiting missing on password reset {i}"),
                "Password reset emails can be requested without limit, flooding inboxes.",
            ));
        }
        let total = duplicates.len() + originals.len();
        let mut right = 0;
        for (original, dup) in &duplicates {
            let top = suggest(dup, &candidates, 3, 0.0);
            if top.first().map(|s| s.reference) == Some(originals[*original].reference) {
                right += 1;
            }
        }
        assert!(total >= 50, "{total} synthetic reports");
        eprintln!(
            "duplicates: the original came first for {right} of {}",
            duplicates.len()
        );
        let share = f64::from(right) / duplicates.len() as f64;
        assert!(
            share >= 0.9,
            "the original came first for {right} of {} duplicates",
            duplicates.len()
        );
    }

    #[test]
    fn a_report_is_not_its_own_duplicate_and_unrelated_ones_score_low() {
        let a = case(
            1,
            "P",
            "SQL injection in login",
            "username concatenated into the query",
        );
        let b = case(
            2,
            "P",
            "Clickjacking on settings",
            "frames allowed, no X-Frame-Options header",
        );
        let s = suggest(&a, &[a.clone(), b], 5, 0.2);
        assert!(s.is_empty(), "{s:?}");
    }
}
