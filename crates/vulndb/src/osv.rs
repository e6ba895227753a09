//! OSV records (the Open Source Vulnerability schema), as read from feeds,
//! and how a version is checked against an `affected` entry: exactly the
//! specification's evaluation, over versions pre-parsed by the ecosystem's
//! rules.

use serde::{Deserialize, Serialize};

/// One OSV record. Unknown fields are allowed (the schema is extensible).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub modified: String,
    #[serde(default)]
    pub published: Option<String>,
    #[serde(default)]
    pub withdrawn: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub related: Vec<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
    #[serde(default)]
    pub severity: Vec<SeverityScore>,
    #[serde(default)]
    pub affected: Vec<Affected>,
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityScore {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    #[serde(default)]
    pub package: Option<Package>,
    #[serde(default)]
    pub ranges: Vec<Range>,
    #[serde(default)]
    pub versions: Vec<String>,
    #[serde(default)]
    pub severity: Vec<SeverityScore>,
    #[serde(default)]
    pub ecosystem_specific: Option<serde_json::Value>,
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub ecosystem: String,
    pub name: String,
    #[serde(default)]
    pub purl: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// `SEMVER`, `ECOSYSTEM` or `GIT`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub repo: Option<String>,
    #[serde(default)]
    pub events: Vec<Event>,
}

/// One range event: exactly one of its fields is set.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

impl Event {
    /// The event's kind and version, or why it is malformed.
    pub fn parts(&self) -> Result<(EventKind, &str), String> {
        let mut set = [
            (EventKind::Introduced, self.introduced.as_deref()),
            (EventKind::Fixed, self.fixed.as_deref()),
            (EventKind::LastAffected, self.last_affected.as_deref()),
            (EventKind::Limit, self.limit.as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)));
        match (set.next(), set.next()) {
            (Some(one), None) => Ok(one),
            (None, _) => {
                Err("a range event has none of introduced, fixed, last_affected, limit".into())
            }
            (Some(_), Some(_)) => Err(
                "a range event has more than one of introduced, fixed, last_affected, limit".into(),
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    Introduced,
    Fixed,
    LastAffected,
    Limit,
}

/// A version bound of a compiled range: `Zero` is the `introduced: "0"`
/// that precedes every version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound<V> {
    Zero,
    At(V),
}

/// A range's events, sorted by version, ready for evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledRange<V> {
    pub events: Vec<(EventKind, Bound<V>)>,
    pub limits: Vec<V>,
}

impl<V> CompiledRange<V> {
    /// Whether `v` lies in the range, as the OSV specification evaluates it:
    /// walking the events in version order, `introduced` at or below `v`
    /// opens, `fixed` at or below `v` closes, `last_affected` below `v`
    /// closes; and when the range has `limit` events, `v` must lie below one.
    pub fn contains(&self, v: &V, cmp: impl Fn(&V, &V) -> std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Greater, Less};
        if !self.limits.is_empty() && !self.limits.iter().any(|l| cmp(v, l) == Less) {
            return false;
        }
        let mut affected = false;
        for (kind, bound) in &self.events {
            match (kind, bound) {
                (EventKind::Introduced, Bound::Zero) => affected = true,
                (EventKind::Introduced, Bound::At(b)) if cmp(v, b) != Less => affected = true,
                (EventKind::Fixed, Bound::At(b)) if cmp(v, b) != Less => affected = false,
                (EventKind::LastAffected, Bound::At(b)) if cmp(v, b) == Greater => {
                    affected = false;
                }
                _ => {}
            }
        }
        affected
    }
}

/// Compiles a range's events with `parse`, sorting them by version (a
/// stable sort: events at the same version keep the record's order).
pub fn compile<V, E>(
    range: &Range,
    parse: impl Fn(&str) -> Result<V, E>,
    cmp: impl Fn(&V, &V) -> std::cmp::Ordering,
) -> Result<CompiledRange<V>, RangeError<E>> {
    compile_events(range.events.iter().map(Event::parts), parse, cmp)
}

/// [`compile`] over a range's events given as (kind, version) pairs, as the
/// database stores them: nothing is copied to build [`Event`]s first.
pub fn compile_events<'a, V, E>(
    range_events: impl IntoIterator<Item = Result<(EventKind, &'a str), String>>,
    parse: impl Fn(&str) -> Result<V, E>,
    cmp: impl Fn(&V, &V) -> std::cmp::Ordering,
) -> Result<CompiledRange<V>, RangeError<E>> {
    let range_events = range_events.into_iter();
    let mut events = Vec::with_capacity(range_events.size_hint().0);
    let mut limits = Vec::new();
    // `limit: "*"` is no limit at all: with it, the other limits bound nothing.
    let mut unlimited = false;
    for event in range_events {
        let (kind, text) = event.map_err(RangeError::Malformed)?;
        match kind {
            EventKind::Limit if text == "*" => unlimited = true,
            EventKind::Limit => limits.push(parse(text).map_err(RangeError::Version)?),
            EventKind::Introduced if text == "0" => events.push((kind, Bound::Zero)),
            _ => events.push((kind, Bound::At(parse(text).map_err(RangeError::Version)?))),
        }
    }
    events.sort_by(|(_, a), (_, b)| match (a, b) {
        (Bound::Zero, Bound::Zero) => std::cmp::Ordering::Equal,
        (Bound::Zero, Bound::At(_)) => std::cmp::Ordering::Less,
        (Bound::At(_), Bound::Zero) => std::cmp::Ordering::Greater,
        (Bound::At(x), Bound::At(y)) => cmp(x, y),
    });
    if unlimited {
        limits.clear();
    }
    Ok(CompiledRange { events, limits })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeError<E> {
    Malformed(String),
    Version(E),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(events: &[(&str, &str)]) -> Range {
        Range {
            kind: "ECOSYSTEM".into(),
            repo: None,
            events: events
                .iter()
                .map(|(k, v)| {
                    let v = Some((*v).to_owned());
                    match *k {
                        "introduced" => Event {
                            introduced: v,
                            ..Event::default()
                        },
                        "fixed" => Event {
                            fixed: v,
                            ..Event::default()
                        },
                        "last_affected" => Event {
                            last_affected: v,
                            ..Event::default()
                        },
                        _ => Event {
                            limit: v,
                            ..Event::default()
                        },
                    }
                })
                .collect(),
        }
    }

    fn check(events: &[(&str, &str)], inside: &[u32], outside: &[u32]) {
        let r = compile(&range(events), |s| s.parse::<u32>(), u32::cmp).unwrap();
        for v in inside {
            assert!(r.contains(v, u32::cmp), "{v} in {events:?}");
        }
        for v in outside {
            assert!(!r.contains(v, u32::cmp), "{v} not in {events:?}");
        }
    }

    #[test]
    fn the_specifications_cases() {
        check(&[("introduced", "0"), ("fixed", "5")], &[0, 1, 4], &[5, 6]);
        check(
            &[("introduced", "2"), ("last_affected", "4")],
            &[2, 3, 4],
            &[1, 5],
        );
        // Several introduced/fixed pairs in one range, written out of order.
        check(
            &[
                ("fixed", "9"),
                ("introduced", "7"),
                ("introduced", "1"),
                ("fixed", "3"),
            ],
            &[1, 2, 7, 8],
            &[0, 3, 5, 9, 10],
        );
        // Introduced with no end: everything after.
        check(&[("introduced", "3")], &[3, 100], &[2]);
        // A limit bounds the range from above.
        check(&[("introduced", "0"), ("limit", "4")], &[0, 3], &[4, 8]);
        check(&[("introduced", "0"), ("limit", "*")], &[0, 8], &[]);
        // An explicit `*` beside a finite limit: no upper bound.
        check(
            &[("introduced", "0"), ("limit", "4"), ("limit", "*")],
            &[0, 3, 4, 8],
            &[],
        );
    }

    #[test]
    fn malformed_events_are_errors() {
        let mut r = range(&[("introduced", "0")]);
        r.events.push(Event::default());
        assert!(matches!(
            compile(&r, |s| s.parse::<u32>(), u32::cmp),
            Err(RangeError::Malformed(_))
        ));
        assert!(matches!(
            compile(&range(&[("fixed", "x")]), |s| s.parse::<u32>(), u32::cmp),
            Err(RangeError::Version(_))
        ));
    }
}
